//! Follow-up visits of the hypertension and type-2 diabetes programs: plausibility checks,
//! classification (控制满意 / 控制不满意 / 不良反应 / 并发症) and the action and due date each
//! visit leads to.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// A chronic-disease management program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Program {
    /// 高血压患者健康管理.
    Hypertension,
    /// 2型糖尿病患者健康管理.
    Diabetes,
}

impl Program {
    /// The program's code.
    pub fn as_str(self) -> &'static str {
        match self {
            Program::Hypertension => "hypertension",
            Program::Diabetes => "diabetes",
        }
    }

    /// The program with code `code`.
    pub fn parse(code: &str) -> Option<Program> {
        match code {
            "hypertension" => Some(Program::Hypertension),
            "diabetes" => Some(Program::Diabetes),
            _ => None,
        }
    }
}

/// A drug's adverse reaction at the visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdverseReaction {
    /// None.
    #[default]
    None,
    /// Present and under control.
    Controlled,
    /// Present and not controllable (a reason to refer).
    Uncontrollable,
}

impl AdverseReaction {
    /// The code: `none`, `controlled`, `uncontrollable`.
    pub fn parse(code: &str) -> Option<AdverseReaction> {
        match code {
            "none" => Some(AdverseReaction::None),
            "controlled" => Some(AdverseReaction::Controlled),
            "uncontrollable" => Some(AdverseReaction::Uncontrollable),
            _ => None,
        }
    }
}

/// The state of the patient's complications at the visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Complication {
    /// None.
    #[default]
    None,
    /// Known and unchanged.
    Stable,
    /// A new complication.
    New,
    /// A known complication got worse.
    Worse,
}

impl Complication {
    /// The code: `none`, `stable`, `new`, `worse`.
    pub fn parse(code: &str) -> Option<Complication> {
        match code {
            "none" => Some(Complication::None),
            "stable" => Some(Complication::Stable),
            "new" => Some(Complication::New),
            "worse" => Some(Complication::Worse),
            _ => None,
        }
    }

    /// New or worse: what the specification calls a complication at a follow-up.
    pub fn is_active(self) -> bool {
        matches!(self, Complication::New | Complication::Worse)
    }
}

/// One follow-up visit, as recorded. `None` is "not measured".
#[derive(Debug, Clone, PartialEq)]
pub struct Visit {
    /// Day of the visit.
    pub date: NaiveDate,
    /// The patient's date of birth (age on the visit date sets the blood-pressure target).
    pub birth_date: NaiveDate,
    /// Systolic blood pressure, mmHg.
    pub sbp: Option<u16>,
    /// Diastolic blood pressure, mmHg.
    pub dbp: Option<u16>,
    /// Fasting plasma glucose, mmol/L.
    pub fpg: Option<f64>,
    /// One of the specification's danger signs other than the measured ones (chest pain,
    /// altered consciousness, severe headache or vomiting, …; for diabetes, ketoacidosis signs,
    /// …).
    pub danger_sign: bool,
    /// Adverse drug reaction.
    pub adverse_reaction: AdverseReaction,
    /// Complications.
    pub complication: Complication,
    /// Seen in person (a remote follow-up does not count towards the four a year).
    pub face_to_face: bool,
}

impl Visit {
    /// A visit on `date` with nothing measured and nothing found.
    pub fn new(date: NaiveDate, birth_date: NaiveDate) -> Visit {
        Visit {
            date,
            birth_date,
            sbp: None,
            dbp: None,
            fpg: None,
            danger_sign: false,
            adverse_reaction: AdverseReaction::None,
            complication: Complication::None,
            face_to_face: true,
        }
    }

    /// Whole years of age on the visit date.
    pub fn age(&self) -> u32 {
        self.date.years_since(self.birth_date).unwrap_or(0)
    }
}

/// The classification of a follow-up, least to most severe; the most severe that applies wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    /// 控制满意: on target, no adverse reaction, no new or worse complication.
    Satisfied,
    /// 控制不满意: off target, or a measurement the program needs was not taken.
    Unsatisfied,
    /// 不良反应: an adverse drug reaction.
    AdverseReaction,
    /// 并发症: a new or worse complication.
    Complication,
}

impl Classification {
    /// The code used in files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Classification::Satisfied => "satisfied",
            Classification::Unsatisfied => "unsatisfied",
            Classification::AdverseReaction => "adverse_reaction",
            Classification::Complication => "complication",
        }
    }
}

/// What a follow-up requires next, least to most urgent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The next regular follow-up (quarterly).
    Routine,
    /// See the patient again within two weeks.
    Revisit2w,
    /// Refer to a hospital and follow the referral up within two weeks.
    Refer,
    /// Refer at once; follow up within two weeks.
    UrgentRefer,
}

impl Action {
    /// The code used in files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Routine => "routine",
            Action::Revisit2w => "revisit_2w",
            Action::Refer => "refer",
            Action::UrgentRefer => "urgent_refer",
        }
    }
}

/// The result of one visit.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Classification.
    pub classification: Classification,
    /// Required action.
    pub action: Action,
    /// When the next follow-up is due.
    pub next_due: NaiveDate,
    /// Why, in the rules' terms (e.g. `SBP 185 >= 180: danger sign`), for the record page.
    pub reasons: Vec<String>,
}

/// Blood-pressure targets: below `sbp` and below `dbp`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BpTarget {
    /// Systolic must be below this (mmHg).
    pub sbp_below: u16,
    /// Diastolic must be below this (mmHg).
    pub dbp_below: u16,
}

/// Values no real measurement takes; a record outside them is refused as a typing error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plausible {
    /// Systolic range, mmHg.
    pub sbp: (u16, u16),
    /// Diastolic range, mmHg.
    pub dbp: (u16, u16),
    /// Fasting glucose range, mmol/L.
    pub fpg: (f64, f64),
}

/// The follow-up rules. [`Rules::default`] is the national specification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Version of this rule set (recorded with every evaluation).
    pub version: String,
    /// Where the rules come from.
    pub source: String,
    /// Hypertension target under `elderly_age`.
    pub bp_target: BpTarget,
    /// From this age (on the visit date), `bp_target_elderly` applies.
    pub elderly_age: u32,
    /// Hypertension target from `elderly_age`.
    pub bp_target_elderly: BpTarget,
    /// Diabetes target: fasting glucose below this (mmol/L).
    pub fpg_below: f64,
    /// Danger sign: systolic at or above (mmHg).
    pub danger_sbp_at_least: u16,
    /// Danger sign: diastolic at or above (mmHg).
    pub danger_dbp_at_least: u16,
    /// Danger sign (diabetes): fasting glucose at or above (mmol/L).
    pub danger_fpg_at_least: f64,
    /// Danger sign (diabetes): fasting glucose at or below (mmol/L).
    pub danger_fpg_at_most: f64,
    /// Days to the re-visit after an unsatisfied visit, an adverse reaction or a referral.
    pub revisit_days: u32,
    /// Months between routine follow-ups (4 a year).
    pub routine_months: u32,
    /// Plausible measurement ranges.
    pub plausible: Plausible,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            version: "nbphss-3-2017".to_owned(),
            source: "国家基本公共卫生服务规范（第三版），国家卫生计生委，2017：高血压患者健康管理服务规范、\
                     2型糖尿病患者健康管理服务规范"
                .to_owned(),
            bp_target: BpTarget {
                sbp_below: 140,
                dbp_below: 90,
            },
            elderly_age: 65,
            bp_target_elderly: BpTarget {
                sbp_below: 150,
                dbp_below: 90,
            },
            fpg_below: 7.0,
            danger_sbp_at_least: 180,
            danger_dbp_at_least: 110,
            danger_fpg_at_least: 16.7,
            danger_fpg_at_most: 3.9,
            revisit_days: 14,
            routine_months: 3,
            plausible: Plausible {
                sbp: (50, 300),
                dbp: (20, 200),
                fpg: (1.0, 50.0),
            },
        }
    }
}

/// A field of a visit that cannot be right.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct VisitProblem {
    /// The field (input column).
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

fn problem(field: &'static str, message: String) -> VisitProblem {
    VisitProblem { field, message }
}

/// Every implausible value of `v`: measurements outside [`Plausible`], a diastolic not below
/// the systolic, a visit in the future or before birth.
pub fn check_visit(rules: &Rules, v: &Visit, today: NaiveDate) -> Vec<VisitProblem> {
    let p = &rules.plausible;
    let mut out = Vec::new();
    if let Some(s) = v.sbp
        && !(p.sbp.0..=p.sbp.1).contains(&s)
    {
        out.push(problem(
            "sbp",
            format!(
                "{s} mmHg is not a systolic pressure ({}-{})",
                p.sbp.0, p.sbp.1
            ),
        ));
    }
    if let Some(d) = v.dbp
        && !(p.dbp.0..=p.dbp.1).contains(&d)
    {
        out.push(problem(
            "dbp",
            format!(
                "{d} mmHg is not a diastolic pressure ({}-{})",
                p.dbp.0, p.dbp.1
            ),
        ));
    }
    if let (Some(s), Some(d)) = (v.sbp, v.dbp)
        && d >= s
    {
        out.push(problem(
            "dbp",
            format!("{d} mmHg is not below the systolic {s} mmHg"),
        ));
    }
    if let Some(g) = v.fpg
        && !(g.is_finite() && g >= p.fpg.0 && g <= p.fpg.1)
    {
        out.push(problem(
            "fpg",
            format!(
                "{g} mmol/L is not a fasting glucose ({}-{})",
                p.fpg.0, p.fpg.1
            ),
        ));
    }
    if v.date > today {
        out.push(problem(
            "visit_date",
            format!("{} is in the future", v.date),
        ));
    }
    if v.date < v.birth_date {
        out.push(problem(
            "visit_date",
            format!("{} is before the birth date {}", v.date, v.birth_date),
        ));
    }
    out
}

/// Whether the visit shows a danger sign: stated, or a measurement at a danger threshold.
fn danger(program: Program, rules: &Rules, v: &Visit, reasons: &mut Vec<String>) -> bool {
    let mut found = false;
    if v.danger_sign {
        reasons.push("danger sign recorded".to_owned());
        found = true;
    }
    if let Some(s) = v.sbp.filter(|s| *s >= rules.danger_sbp_at_least) {
        reasons.push(format!(
            "SBP {s} >= {}: danger sign",
            rules.danger_sbp_at_least
        ));
        found = true;
    }
    if let Some(d) = v.dbp.filter(|d| *d >= rules.danger_dbp_at_least) {
        reasons.push(format!(
            "DBP {d} >= {}: danger sign",
            rules.danger_dbp_at_least
        ));
        found = true;
    }
    if program == Program::Diabetes
        && let Some(g) = v.fpg
    {
        if g >= rules.danger_fpg_at_least {
            reasons.push(format!(
                "FPG {g} >= {}: danger sign",
                rules.danger_fpg_at_least
            ));
            found = true;
        } else if g <= rules.danger_fpg_at_most {
            reasons.push(format!(
                "FPG {g} <= {}: danger sign",
                rules.danger_fpg_at_most
            ));
            found = true;
        }
    }
    found
}

/// Whether the program's target is met; a missing measurement is not.
fn on_target(program: Program, rules: &Rules, v: &Visit, reasons: &mut Vec<String>) -> bool {
    match program {
        Program::Hypertension => {
            let elderly = v.age() >= rules.elderly_age;
            let t = if elderly {
                &rules.bp_target_elderly
            } else {
                &rules.bp_target
            };
            match (v.sbp, v.dbp) {
                (Some(s), Some(d)) if s < t.sbp_below && d < t.dbp_below => true,
                (Some(s), Some(d)) => {
                    reasons.push(format!(
                        "BP {s}/{d} not below {}/{}{}",
                        t.sbp_below,
                        t.dbp_below,
                        if elderly { " (aged 65+)" } else { "" }
                    ));
                    false
                }
                _ => {
                    reasons.push("blood pressure not measured".to_owned());
                    false
                }
            }
        }
        Program::Diabetes => match v.fpg {
            Some(g) if g < rules.fpg_below => true,
            Some(g) => {
                reasons.push(format!("FPG {g} not below {}", rules.fpg_below));
                false
            }
            None => {
                reasons.push("fasting glucose not measured".to_owned());
                false
            }
        },
    }
}

/// The classification of one visit: the most severe of complication, adverse reaction,
/// unsatisfied and satisfied that applies.
pub fn classify(program: Program, rules: &Rules, v: &Visit) -> Classification {
    classify_with_reasons(program, rules, v, &mut Vec::new())
}

fn classify_with_reasons(
    program: Program,
    rules: &Rules,
    v: &Visit,
    reasons: &mut Vec<String>,
) -> Classification {
    let on_target = on_target(program, rules, v, reasons);
    if v.complication.is_active() {
        reasons.push(format!(
            "complication {}",
            if v.complication == Complication::New {
                "new"
            } else {
                "worse"
            }
        ));
        Classification::Complication
    } else if v.adverse_reaction != AdverseReaction::None {
        reasons.push("adverse drug reaction".to_owned());
        Classification::AdverseReaction
    } else if on_target {
        Classification::Satisfied
    } else {
        Classification::Unsatisfied
    }
}

/// The date `months` after `d`, on the same day of the month or the month's last day.
pub fn add_months(d: NaiveDate, months: u32) -> NaiveDate {
    d.checked_add_months(Months::new(months)).unwrap_or(d)
}

/// Evaluates one patient's visits of `program`. Visits are taken in date order (ties keep
/// their given order); the outcomes come back in that order.
///
/// The action of a visit: a danger sign is an urgent referral; else a new or worse
/// complication, an uncontrollable adverse reaction, or a second visit in a row that is
/// unsatisfied or has an adverse reaction is a referral; else an unsatisfied visit or an
/// adverse reaction calls for a re-visit within two weeks; else the next routine follow-up.
pub fn evaluate(program: Program, rules: &Rules, visits: &[Visit]) -> Vec<Outcome> {
    let mut order: Vec<&Visit> = visits.iter().collect();
    order.sort_by_key(|v| v.date);
    let mut out: Vec<Outcome> = Vec::with_capacity(order.len());
    let mut previous: Option<Classification> = None;
    for v in order {
        let mut reasons = Vec::new();
        let classification = classify_with_reasons(program, rules, v, &mut reasons);
        let off = |c: Classification| {
            matches!(
                c,
                Classification::Unsatisfied | Classification::AdverseReaction
            )
        };
        let action = if danger(program, rules, v, &mut reasons) {
            Action::UrgentRefer
        } else if v.complication.is_active()
            || v.adverse_reaction == AdverseReaction::Uncontrollable
        {
            if v.adverse_reaction == AdverseReaction::Uncontrollable {
                reasons.push("uncontrollable adverse reaction".to_owned());
            }
            Action::Refer
        } else if off(classification) && previous.is_some_and(off) {
            reasons.push("second visit in a row not satisfied".to_owned());
            Action::Refer
        } else if off(classification) {
            Action::Revisit2w
        } else {
            Action::Routine
        };
        let next_due = match action {
            Action::Routine => add_months(v.date, rules.routine_months),
            _ => v.date + chrono::Days::new(u64::from(rules.revisit_days)),
        };
        previous = Some(classification);
        out.push(Outcome {
            classification,
            action,
            next_due,
            reasons,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// A patient born 1970-06-01 (aged 55-56 in 2026).
    fn bp(date: &str, sbp: u16, dbp: u16) -> Visit {
        Visit {
            sbp: Some(sbp),
            dbp: Some(dbp),
            ..Visit::new(d(date), d("1970-06-01"))
        }
    }

    fn glucose(date: &str, fpg: f64) -> Visit {
        Visit {
            fpg: Some(fpg),
            ..Visit::new(d(date), d("1970-06-01"))
        }
    }

    fn one(program: Program, v: Visit) -> Outcome {
        evaluate(program, &Rules::default(), &[v]).remove(0)
    }

    use Action::*;
    use Classification::{
        AdverseReaction as Adverse, Complication as Complicated, Satisfied, Unsatisfied,
    };
    use Program::*;

    #[test]
    fn hypertension_targets_depend_on_age_on_the_visit_date() {
        assert_eq!(
            one(Hypertension, bp("2026-03-01", 139, 89)).classification,
            Satisfied
        );
        assert_eq!(
            one(Hypertension, bp("2026-03-01", 140, 80)).classification,
            Unsatisfied
        );
        assert_eq!(
            one(Hypertension, bp("2026-03-01", 130, 90)).classification,
            Unsatisfied
        );
        // 145/85 is on target from the 65th birthday on, not the day before.
        let elderly = |date: &str| Visit {
            birth_date: d("1961-03-02"),
            ..bp(date, 145, 85)
        };
        assert_eq!(
            one(Hypertension, elderly("2026-03-01")).classification,
            Unsatisfied
        );
        assert_eq!(
            one(Hypertension, elderly("2026-03-02")).classification,
            Satisfied
        );
        let o = one(
            Hypertension,
            Visit {
                birth_date: d("1950-01-01"),
                ..bp("2026-03-01", 150, 85)
            },
        );
        assert_eq!(o.classification, Unsatisfied, "150 is not below 150");
    }

    #[test]
    fn a_missing_measurement_the_program_needs_is_unsatisfied() {
        let no_bp = Visit {
            fpg: Some(5.5),
            ..Visit::new(d("2026-03-01"), d("1970-06-01"))
        };
        assert_eq!(one(Hypertension, no_bp.clone()).classification, Unsatisfied);
        assert_eq!(one(Diabetes, no_bp).classification, Satisfied);
        let half = Visit {
            dbp: None,
            ..bp("2026-03-01", 120, 80)
        };
        assert_eq!(one(Hypertension, half).classification, Unsatisfied);
        assert_eq!(
            one(Diabetes, bp("2026-03-01", 120, 80)).classification,
            Unsatisfied
        );
    }

    #[test]
    fn diabetes_target_is_fasting_glucose_below_7() {
        assert_eq!(
            one(Diabetes, glucose("2026-03-01", 6.9)).classification,
            Satisfied
        );
        assert_eq!(
            one(Diabetes, glucose("2026-03-01", 7.0)).classification,
            Unsatisfied
        );
    }

    #[test]
    fn the_most_severe_classification_wins() {
        let both = Visit {
            adverse_reaction: AdverseReaction::Controlled,
            complication: Complication::New,
            ..bp("2026-03-01", 160, 95)
        };
        assert_eq!(one(Hypertension, both.clone()).classification, Complicated);
        let adverse = Visit {
            complication: Complication::Stable,
            ..both
        };
        assert_eq!(one(Hypertension, adverse).classification, Adverse);
        // A stable complication is not a complication at this visit.
        let stable = Visit {
            complication: Complication::Stable,
            ..bp("2026-03-01", 120, 80)
        };
        assert_eq!(one(Hypertension, stable).classification, Satisfied);
    }

    #[test]
    fn each_action_and_its_due_date() {
        let o = one(Hypertension, bp("2026-01-31", 120, 80));
        assert_eq!(
            (o.action, o.next_due),
            (Routine, d("2026-04-30")),
            "clamped to the month"
        );
        let o = one(Hypertension, bp("2026-11-30", 120, 80));
        assert_eq!(o.next_due, d("2027-02-28"));
        let o = one(Hypertension, bp("2026-03-01", 150, 95));
        assert_eq!((o.action, o.next_due), (Revisit2w, d("2026-03-15")));
        let o = one(
            Hypertension,
            Visit {
                adverse_reaction: AdverseReaction::Controlled,
                ..bp("2026-03-01", 120, 80)
            },
        );
        assert_eq!((o.classification, o.action), (Adverse, Revisit2w));
        let o = one(
            Hypertension,
            Visit {
                adverse_reaction: AdverseReaction::Uncontrollable,
                ..bp("2026-03-01", 120, 80)
            },
        );
        assert_eq!((o.action, o.next_due), (Refer, d("2026-03-15")));
        for c in [Complication::New, Complication::Worse] {
            let o = one(
                Hypertension,
                Visit {
                    complication: c,
                    ..bp("2026-03-01", 120, 80)
                },
            );
            assert_eq!(o.action, Refer);
        }
    }

    #[test]
    fn danger_signs_are_urgent_referrals() {
        for (s, dd) in [(180, 100), (170, 110)] {
            let o = one(Hypertension, bp("2026-03-01", s, dd));
            assert_eq!(
                (o.action, o.next_due),
                (UrgentRefer, d("2026-03-15")),
                "{s}/{dd}"
            );
        }
        assert_eq!(
            one(Hypertension, bp("2026-03-01", 179, 109)).action,
            Revisit2w
        );
        let o = one(
            Hypertension,
            Visit {
                danger_sign: true,
                ..bp("2026-03-01", 120, 80)
            },
        );
        assert_eq!((o.classification, o.action), (Satisfied, UrgentRefer));
        assert_eq!(
            one(Diabetes, glucose("2026-03-01", 16.7)).action,
            UrgentRefer
        );
        assert_eq!(
            one(Diabetes, glucose("2026-03-01", 3.9)).action,
            UrgentRefer
        );
        assert_eq!(one(Diabetes, glucose("2026-03-01", 4.0)).action, Routine);
        // Glucose thresholds are the diabetes program's, not hypertension's.
        let hyper = Visit {
            fpg: Some(18.0),
            ..bp("2026-03-01", 120, 80)
        };
        assert_eq!(one(Hypertension, hyper).action, Routine);
        // A diabetic's blood pressure at a danger threshold is a danger sign too.
        let dm = Visit {
            fpg: Some(6.0),
            ..bp("2026-03-01", 185, 95)
        };
        assert_eq!(one(Diabetes, dm).action, UrgentRefer);
    }

    #[test]
    fn a_second_unsatisfied_visit_in_a_row_is_a_referral_across_a_year_boundary() {
        let out = evaluate(
            Hypertension,
            &Rules::default(),
            &[
                // Given out of order: visits are taken by date.
                bp("2026-01-05", 150, 92),
                bp("2025-12-20", 152, 94),
                bp("2026-01-20", 132, 82),
                Visit {
                    adverse_reaction: AdverseReaction::Controlled,
                    ..bp("2026-04-20", 130, 80)
                },
                bp("2026-05-04", 145, 85),
            ],
        );
        let got: Vec<_> = out.iter().map(|o| (o.classification, o.action)).collect();
        assert_eq!(
            got,
            [
                (Unsatisfied, Revisit2w),
                (Unsatisfied, Refer),
                (Satisfied, Routine),
                (Adverse, Revisit2w),
                (Unsatisfied, Refer),
            ]
        );
        assert!(out[1].reasons.iter().any(|r| r.contains("in a row")));
        assert_eq!(out[2].next_due, d("2026-04-20"));
    }

    #[test]
    fn implausible_values_are_named() {
        let rules = Rules::default();
        let today = d("2026-11-23");
        let names = |v: &Visit| -> Vec<&str> {
            check_visit(&rules, v, today)
                .iter()
                .map(|p| p.field)
                .collect()
        };
        assert_eq!(names(&bp("2026-03-01", 20, 10)), ["sbp", "dbp"]);
        assert_eq!(names(&bp("2026-03-01", 400, 80)), ["sbp"]);
        assert_eq!(names(&bp("2026-03-01", 120, 130)), ["dbp"]);
        assert_eq!(names(&glucose("2026-03-01", 0.0)), ["fpg"]);
        assert_eq!(names(&glucose("2026-03-01", f64::NAN)), ["fpg"]);
        assert_eq!(names(&bp("2026-11-24", 120, 80)), ["visit_date"]);
        assert_eq!(names(&bp("1960-01-01", 120, 80)), ["visit_date"]);
        assert!(names(&bp("2026-11-23", 120, 80)).is_empty());
    }

    #[test]
    fn rules_are_data_a_province_can_replace() {
        let text = toml::to_string(&Rules::default()).unwrap();
        assert!(text.contains("version = \"nbphss-3-2017\""));
        let mut province: Rules = toml::from_str(&text).unwrap();
        province.version = "gd-2025".into();
        province.bp_target_elderly.sbp_below = 140;
        let elderly = Visit {
            birth_date: d("1950-01-01"),
            ..bp("2026-03-01", 145, 85)
        };
        assert_eq!(
            classify(Hypertension, &Rules::default(), &elderly),
            Satisfied
        );
        assert_eq!(classify(Hypertension, &province, &elderly), Unsatisfied);
        assert!(toml::from_str::<Rules>("version = 1").is_err());
    }
}
