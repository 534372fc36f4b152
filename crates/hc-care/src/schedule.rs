//! What a resident is due for, and where each due service stands on a worklist: the program
//! follow-ups the rules scheduled (or the referral to chase up), the annual health check of
//! program patients, and the annual elderly health management from 65 on.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{Action, Program, Rules, Visit, add_months, evaluate};

/// A service a resident is due for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "program")]
pub enum Service {
    /// The next follow-up of a program (routine or a two-week re-visit).
    FollowUp(Program),
    /// Checking on a referral to hospital, within two weeks of it.
    ReferralFollowUp(Program),
    /// The annual health check of a program patient (健康体检).
    AnnualCheck(Program),
    /// The annual elderly health management: lifestyle and self-care assessment, physical
    /// examination, laboratory tests (老年人健康管理).
    ElderlyAnnual,
}

/// A resident's state in one program.
#[derive(Debug, Clone, PartialEq)]
pub struct Enrolment<'a> {
    /// The program.
    pub program: Program,
    /// When the resident was enrolled.
    pub enrolled: NaiveDate,
    /// The program's follow-ups so far.
    pub visits: &'a [Visit],
    /// The last annual health check, if any.
    pub last_check: Option<NaiveDate>,
}

/// One due service and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// The service.
    pub service: Service,
    /// When it is due.
    pub due: NaiveDate,
    /// Why, e.g. `routine follow-up of 2026-03-01`.
    pub because: DueReason,
}

/// Why a service is due: the last thing done, or that it never was. [`DueReason::en`] and
/// [`DueReason::zh`] say it in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum DueReason {
    /// What the last follow-up required.
    FollowUp {
        /// The action the rules required at it.
        action: Action,
        /// Its date.
        of: NaiveDate,
    },
    /// No follow-up yet since enrolment.
    FirstFollowUp {
        /// Day of enrolment.
        enrolled: NaiveDate,
    },
    /// A year after the last annual health check.
    AnnualCheck {
        /// Day of the last check.
        last: NaiveDate,
    },
    /// No annual health check on record.
    NoAnnualCheck,
    /// A year after the last elderly health management.
    ElderlyAnnual {
        /// Day of the last one.
        last: NaiveDate,
    },
    /// Turned 65 and no elderly health management on record.
    TurnedElderly {
        /// The 65th birthday.
        on: NaiveDate,
    },
}

impl DueReason {
    /// The reason in English, e.g. `follow up the urgent referral of 2026-11-10`.
    pub fn en(&self) -> String {
        match self {
            DueReason::FollowUp { action, of } => {
                let why = match action {
                    Action::Routine => "routine follow-up",
                    Action::Revisit2w => {
                        "re-visit after a follow-up not on target or with an adverse reaction"
                    }
                    Action::Refer => "follow up the referral",
                    Action::UrgentRefer => "follow up the urgent referral",
                };
                format!("{why} of {of}")
            }
            DueReason::FirstFollowUp { enrolled } => {
                format!("first follow-up since enrolment on {enrolled}")
            }
            DueReason::AnnualCheck { last } => format!("a year after the check of {last}"),
            DueReason::NoAnnualCheck => "no annual check on record".to_owned(),
            DueReason::ElderlyAnnual { last } => {
                format!("a year after the elderly health management of {last}")
            }
            DueReason::TurnedElderly { on } => {
                format!("aged {} on {on}; none on record", crate::ELDERLY_FROM_AGE)
            }
        }
    }

    /// The reason in Chinese, in the terms of the national specification, e.g.
    /// `2026-11-10 紧急转诊，随访转诊情况`.
    pub fn zh(&self) -> String {
        match self {
            DueReason::FollowUp { action, of } => match action {
                Action::Routine => format!("{of} 随访后的常规随访"),
                Action::Revisit2w => {
                    format!("{of} 随访控制不满意或有药物不良反应，2 周内复诊")
                }
                Action::Refer => format!("{of} 转诊，随访转诊情况"),
                Action::UrgentRefer => format!("{of} 紧急转诊，随访转诊情况"),
            },
            DueReason::FirstFollowUp { enrolled } => format!("{enrolled} 入组后的首次随访"),
            DueReason::AnnualCheck { last } => format!("距上次健康体检（{last}）满一年"),
            DueReason::NoAnnualCheck => "无年度健康体检记录".to_owned(),
            DueReason::ElderlyAnnual { last } => {
                format!("距上次老年人健康管理（{last}）满一年")
            }
            DueReason::TurnedElderly { on } => format!(
                "{on} 年满 {} 岁，无老年人健康管理记录",
                crate::ELDERLY_FROM_AGE
            ),
        }
    }
}

/// Where a due service stands on a worklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkStatus {
    /// Overdue by more than the worklist's patience: lost to follow-up (失访).
    Lost,
    /// Past due.
    Overdue,
    /// Due within the next seven days (today included).
    ThisWeek,
    /// Due later.
    Later,
}

/// Where a service due on `due` stands on `today`, with residents more than `lost_after_days`
/// overdue counted as lost to follow-up.
pub fn work_status(due: NaiveDate, today: NaiveDate, lost_after_days: i64) -> WorkStatus {
    let late = (today - due).num_days();
    if late > lost_after_days {
        WorkStatus::Lost
    } else if late > 0 {
        WorkStatus::Overdue
    } else if late > -7 {
        WorkStatus::ThisWeek
    } else {
        WorkStatus::Later
    }
}

/// A program's standing as stored: when the patient was enrolled, the last follow-up with the
/// rules' verdict on it, and the last annual check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgramState {
    /// The program.
    pub program: Program,
    /// When the resident was enrolled.
    pub enrolled: NaiveDate,
    /// The last follow-up: its date, the action it required and the next due date.
    pub last_visit: Option<(NaiveDate, Action, NaiveDate)>,
    /// The last annual health check, if any.
    pub last_check: Option<NaiveDate>,
}

/// Everything a resident born on `birth_date` is due for, by due date: per program, the next
/// follow-up (or the referral to follow up) and the annual check; from 65, the annual elderly
/// health management (`last_elderly` is the last one done).
pub fn due_services(
    rules: &Rules,
    birth_date: NaiveDate,
    enrolments: &[Enrolment<'_>],
    last_elderly: Option<NaiveDate>,
    today: NaiveDate,
) -> Vec<Due> {
    let states: Vec<ProgramState> = enrolments
        .iter()
        .map(|e| {
            let outcomes = evaluate(e.program, rules, e.visits);
            let last_date = e.visits.iter().map(|v| v.date).max();
            ProgramState {
                program: e.program,
                enrolled: e.enrolled,
                last_visit: last_date
                    .zip(outcomes.last())
                    .map(|(d, o)| (d, o.action, o.next_due)),
                last_check: e.last_check,
            }
        })
        .collect();
    dues(birth_date, &states, last_elderly, today)
}

/// What [`due_services`] answers, from the stored standing of each program (the verdicts the
/// rules gave when the follow-ups were recorded) rather than from every visit.
pub fn dues(
    birth_date: NaiveDate,
    programs: &[ProgramState],
    last_elderly: Option<NaiveDate>,
    today: NaiveDate,
) -> Vec<Due> {
    let mut out = Vec::new();
    for e in programs {
        match e.last_visit {
            Some((date, action, next_due)) => {
                let service = match action {
                    Action::Routine | Action::Revisit2w => Service::FollowUp(e.program),
                    Action::Refer | Action::UrgentRefer => Service::ReferralFollowUp(e.program),
                };
                out.push(Due {
                    service,
                    due: next_due,
                    because: DueReason::FollowUp { action, of: date },
                });
            }
            None => out.push(Due {
                service: Service::FollowUp(e.program),
                due: e.enrolled,
                because: DueReason::FirstFollowUp {
                    enrolled: e.enrolled,
                },
            }),
        }
        out.push(match e.last_check {
            Some(last) => Due {
                service: Service::AnnualCheck(e.program),
                due: add_months(last, 12),
                because: DueReason::AnnualCheck { last },
            },
            None => Due {
                service: Service::AnnualCheck(e.program),
                due: e.enrolled,
                because: DueReason::NoAnnualCheck,
            },
        });
    }
    if today
        .years_since(birth_date)
        .is_some_and(|a| a >= crate::ELDERLY_FROM_AGE)
    {
        let turned_65 = add_months(birth_date, crate::ELDERLY_FROM_AGE * 12);
        out.push(match last_elderly {
            Some(last) => Due {
                service: Service::ElderlyAnnual,
                due: add_months(last, 12),
                because: DueReason::ElderlyAnnual { last },
            },
            None => Due {
                service: Service::ElderlyAnnual,
                due: turned_65,
                because: DueReason::TurnedElderly { on: turned_65 },
            },
        });
    }
    out.sort_by_key(|d| d.due);
    out
}

impl Service {
    /// A code for files and the API: `followup`, `referral_followup`, `annual_check`,
    /// `elderly_annual`.
    pub fn code(self) -> &'static str {
        match self {
            Service::FollowUp(_) => "followup",
            Service::ReferralFollowUp(_) => "referral_followup",
            Service::AnnualCheck(_) => "annual_check",
            Service::ElderlyAnnual => "elderly_annual",
        }
    }

    /// The program the service belongs to, if any.
    pub fn program(self) -> Option<Program> {
        match self {
            Service::FollowUp(p) | Service::ReferralFollowUp(p) | Service::AnnualCheck(p) => {
                Some(p)
            }
            Service::ElderlyAnnual => None,
        }
    }
}

impl WorkStatus {
    /// The code: `lost`, `overdue`, `this_week`, `later`.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkStatus::Lost => "lost",
            WorkStatus::Overdue => "overdue",
            WorkStatus::ThisWeek => "this_week",
            WorkStatus::Later => "later",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn bp(date: &str, sbp: u16) -> Visit {
        Visit {
            sbp: Some(sbp),
            dbp: Some(80),
            ..Visit::new(d(date), d("1958-05-10"))
        }
    }

    #[test]
    fn worklist_statuses() {
        let today = d("2026-11-23");
        assert_eq!(
            work_status(d("2026-11-23"), today, 90),
            WorkStatus::ThisWeek
        );
        assert_eq!(
            work_status(d("2026-11-29"), today, 90),
            WorkStatus::ThisWeek
        );
        assert_eq!(work_status(d("2026-11-30"), today, 90), WorkStatus::Later);
        assert_eq!(work_status(d("2026-11-22"), today, 90), WorkStatus::Overdue);
        assert_eq!(work_status(d("2026-08-25"), today, 90), WorkStatus::Overdue);
        assert_eq!(work_status(d("2026-08-24"), today, 90), WorkStatus::Lost);
    }

    #[test]
    fn a_patient_with_hypertension_aged_68_is_due_for_three_services() {
        let visits = [bp("2026-09-01", 128), bp("2026-10-20", 152)];
        let due = due_services(
            &Rules::default(),
            d("1958-05-10"),
            &[Enrolment {
                program: Program::Hypertension,
                enrolled: d("2020-02-01"),
                visits: &visits,
                last_check: Some(d("2025-12-05")),
            }],
            None,
            d("2026-11-23"),
        );
        let got: Vec<(Service, NaiveDate)> = due.iter().map(|x| (x.service, x.due)).collect();
        assert_eq!(
            got,
            [
                (Service::ElderlyAnnual, d("2023-05-10")),
                (Service::FollowUp(Program::Hypertension), d("2026-11-03")),
                (Service::AnnualCheck(Program::Hypertension), d("2026-12-05")),
            ]
        );
        let said = |x: &Due| (x.because.en(), x.because.zh());
        assert_eq!(
            due.iter().map(said).collect::<Vec<_>>(),
            [
                (
                    "aged 65 on 2023-05-10; none on record".to_owned(),
                    "2023-05-10 年满 65 岁，无老年人健康管理记录".to_owned()
                ),
                (
                    "re-visit after a follow-up not on target or with an adverse reaction of \
                     2026-10-20"
                        .to_owned(),
                    "2026-10-20 随访控制不满意或有药物不良反应，2 周内复诊".to_owned()
                ),
                (
                    "a year after the check of 2025-12-05".to_owned(),
                    "距上次健康体检（2025-12-05）满一年".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn referrals_and_new_enrolments() {
        let visits = [bp("2026-11-10", 185)];
        let due = due_services(
            &Rules::default(),
            d("1980-01-01"),
            &[
                Enrolment {
                    program: Program::Hypertension,
                    enrolled: d("2024-01-01"),
                    visits: &visits,
                    last_check: None,
                },
                Enrolment {
                    program: Program::Diabetes,
                    enrolled: d("2026-11-20"),
                    visits: &[],
                    last_check: None,
                },
            ],
            Some(d("2025-01-01")),
            d("2026-11-23"),
        );
        assert!(
            due.iter().all(|x| x.service != Service::ElderlyAnnual),
            "aged 46"
        );
        let referral = Due {
            service: Service::ReferralFollowUp(Program::Hypertension),
            due: d("2026-11-24"),
            because: DueReason::FollowUp {
                action: Action::UrgentRefer,
                of: d("2026-11-10"),
            },
        };
        assert!(due.contains(&referral));
        assert_eq!(
            referral.because.en(),
            "follow up the urgent referral of 2026-11-10"
        );
        assert_eq!(referral.because.zh(), "2026-11-10 紧急转诊，随访转诊情况");
        let first = due
            .iter()
            .find(|x| x.service == Service::FollowUp(Program::Diabetes))
            .unwrap();
        assert_eq!(first.due, d("2026-11-20"));
        assert_eq!(
            (first.because.en(), first.because.zh()),
            (
                "first follow-up since enrolment on 2026-11-20".to_owned(),
                "2026-11-20 入组后的首次随访".to_owned()
            )
        );
        assert!(due.iter().any(
            |x| x.because == DueReason::NoAnnualCheck && x.because.zh() == "无年度健康体检记录"
        ));
        assert_eq!(due.len(), 4);
    }
}
