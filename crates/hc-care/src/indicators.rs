//! One patient's year in a program, and the rates built from many of them: standardised
//! management (规范管理率) and control (控制率), with numerator and denominator kept, so
//! every figure can be drilled down to the patients behind it.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::{Action, Program, Rules, Visit, evaluate};

/// What "standardised management" requires, configurable. The default: at least four
/// face-to-face follow-ups in the year, each classified (it always is, here: the rules
/// classify every visit), and every re-visit the rules required within two weeks done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Standard {
    /// Face-to-face follow-ups needed in the year.
    pub face_to_face_per_year: u32,
    /// Whether every required re-visit (after an unsatisfied visit, an adverse reaction or a
    /// referral) must have happened within the rules' `revisit_days`.
    pub revisits_done: bool,
}

impl Default for Standard {
    fn default() -> Self {
        Standard {
            face_to_face_per_year: 4,
            revisits_done: true,
        }
    }
}

/// A patient's year, with the facts each indicator counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientYear {
    /// Under management in the year (enrolled by its last day): counts in the denominators.
    pub managed: bool,
    /// Follow-ups in the year.
    pub visits: u32,
    /// Face-to-face follow-ups in the year.
    pub face_to_face: u32,
    /// Required re-visits (due in two weeks) that did not happen in time.
    pub missed_revisits: u32,
    /// Managed as the standard requires.
    pub standardised: bool,
    /// The year's last follow-up was on target (no follow-up: not controlled).
    pub controlled: bool,
}

/// The facts of `year` for a patient enrolled on `enrolled`, from all their visits (visits of
/// other years matter: the year's first visit may be the second unsatisfied one in a row, and a
/// December visit's re-visit may fall in January).
pub fn patient_year(
    program: Program,
    rules: &Rules,
    standard: &Standard,
    enrolled: NaiveDate,
    visits: &[Visit],
    year: i32,
) -> PatientYear {
    // `evaluate` takes the visits in date order (a stable sort) and answers in that order.
    let mut sorted: Vec<&Visit> = visits.iter().collect();
    sorted.sort_by_key(|v| v.date);
    let outcomes = evaluate(program, rules, visits);
    let managed = enrolled.year() <= year;
    let in_year: Vec<usize> = (0..sorted.len())
        .filter(|&i| sorted[i].date.year() == year)
        .collect();
    let face_to_face = in_year.iter().filter(|&&i| sorted[i].face_to_face).count() as u32;
    let missed_revisits = in_year
        .iter()
        .filter(|&&i| outcomes[i].action != Action::Routine)
        .filter(|&&i| {
            let due = outcomes[i].next_due;
            !sorted[i + 1..]
                .iter()
                .any(|later| later.date > sorted[i].date && later.date <= due)
        })
        .count() as u32;
    let standardised = managed
        && face_to_face >= standard.face_to_face_per_year
        && (!standard.revisits_done || missed_revisits == 0);
    let controlled = managed
        && in_year
            .last()
            .is_some_and(|&i| outcomes[i].classification == crate::Classification::Satisfied);
    PatientYear {
        managed,
        visits: in_year.len() as u32,
        face_to_face,
        missed_revisits,
        standardised,
        controlled,
    }
}

/// A rate with its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Rate {
    /// Those who meet it.
    pub numerator: u64,
    /// Those it is about.
    pub denominator: u64,
}

impl Rate {
    /// The share, or `None` when nobody is counted.
    pub fn value(self) -> Option<f64> {
        (self.denominator > 0).then(|| self.numerator as f64 / self.denominator as f64)
    }

    /// Counts one member, who meets it or not.
    pub fn add(&mut self, meets: bool) {
        self.denominator += 1;
        self.numerator += u64::from(meets);
    }
}

/// The program rates of a population of patient-years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ProgramRates {
    /// 规范管理率: standardised / managed.
    pub standardised: Rate,
    /// 控制率: last follow-up of the year on target / managed.
    pub controlled: Rate,
}

/// Adds up patient-years (those not managed in the year are not counted).
pub fn program_rates<'a>(years: impl IntoIterator<Item = &'a PatientYear>) -> ProgramRates {
    let mut r = ProgramRates::default();
    for y in years.into_iter().filter(|y| y.managed) {
        r.standardised.add(y.standardised);
        r.controlled.add(y.controlled);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn v(date: &str, sbp: u16) -> Visit {
        Visit {
            sbp: Some(sbp),
            dbp: Some(80),
            ..Visit::new(d(date), d("1970-01-01"))
        }
    }

    fn year(visits: &[Visit]) -> PatientYear {
        patient_year(
            Program::Hypertension,
            &Rules::default(),
            &Standard::default(),
            d("2024-06-01"),
            visits,
            2026,
        )
    }

    #[test]
    fn four_quarterly_controlled_visits_are_standardised_and_controlled() {
        let y = year(&[
            v("2026-01-15", 130),
            v("2026-04-15", 132),
            v("2026-07-15", 128),
            v("2026-10-15", 135),
        ]);
        assert_eq!(
            (y.standardised, y.controlled, y.face_to_face),
            (true, true, 4)
        );
    }

    #[test]
    fn a_missed_two_week_revisit_breaks_standardised_management() {
        // The April visit is off target; the next one comes after 20 days, not 14.
        let y = year(&[
            v("2026-01-15", 130),
            v("2026-04-15", 150),
            v("2026-05-05", 132),
            v("2026-08-15", 128),
            v("2026-11-15", 135),
        ]);
        assert_eq!(
            (y.missed_revisits, y.standardised, y.controlled),
            (1, false, true)
        );
        let lenient = Standard {
            revisits_done: false,
            ..Standard::default()
        };
        let y2 = patient_year(
            Program::Hypertension,
            &Rules::default(),
            &lenient,
            d("2024-06-01"),
            &[
                v("2026-01-15", 130),
                v("2026-04-15", 150),
                v("2026-05-05", 132),
                v("2026-08-15", 128),
            ],
            2026,
        );
        assert!(y2.standardised, "the standard is configurable");
    }

    #[test]
    fn the_years_last_visit_decides_control_and_remote_visits_do_not_count_as_face_to_face() {
        let mut remote = v("2026-07-15", 128);
        remote.face_to_face = false;
        let y = year(&[
            v("2026-01-15", 130),
            v("2026-04-15", 132),
            remote,
            v("2026-10-15", 130),
            // The last visit of the year is off target, and its re-visit falls in January.
            v("2026-12-25", 146),
            v("2027-01-05", 130),
        ]);
        assert_eq!(y.face_to_face, 4);
        assert_eq!(y.missed_revisits, 0, "the January re-visit counts");
        assert!(!y.controlled);
        assert!(y.standardised);
    }

    #[test]
    fn no_follow_up_is_not_controlled_and_later_enrolment_is_not_counted() {
        let y = year(&[]);
        assert!(y.managed && !y.controlled && !y.standardised);
        let later = patient_year(
            Program::Hypertension,
            &Rules::default(),
            &Standard::default(),
            d("2027-02-01"),
            &[],
            2026,
        );
        assert!(!later.managed);
        let rates = program_rates([&y, &later, &year(&[v("2026-11-01", 120)])]);
        assert_eq!(
            rates.controlled,
            Rate {
                numerator: 1,
                denominator: 2
            }
        );
        assert_eq!(rates.standardised.value(), Some(0.0));
        assert_eq!(Rate::default().value(), None);
    }
}
