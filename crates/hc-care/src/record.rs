//! What a family doctor records: the full follow-up form (the rules read only part of it),
//! contracts and their service packages, team roles; and the checks each must pass before it
//! is stored.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{
    AdverseReaction, Complication, ProblemKind, Rules, Unit, Visit, VisitProblem, check_visit,
};

/// Daily salt intake, as the patient reports it (摄盐情况).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Salt {
    /// 轻.
    Light,
    /// 中.
    Moderate,
    /// 重.
    Heavy,
}

impl Salt {
    /// The code.
    pub fn as_str(self) -> &'static str {
        match self {
            Salt::Light => "light",
            Salt::Moderate => "moderate",
            Salt::Heavy => "heavy",
        }
    }

    /// The value with code `code`.
    pub fn parse(code: &str) -> Option<Salt> {
        [Salt::Light, Salt::Moderate, Salt::Heavy]
            .into_iter()
            .find(|s| s.as_str() == code)
    }
}

/// How the patient takes the prescribed drugs (服药依从性).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Adherence {
    /// 规律.
    Regular,
    /// 间断.
    Intermittent,
    /// 不服药.
    None,
}

impl Adherence {
    /// The code.
    pub fn as_str(self) -> &'static str {
        match self {
            Adherence::Regular => "regular",
            Adherence::Intermittent => "intermittent",
            Adherence::None => "none",
        }
    }

    /// The value with code `code`.
    pub fn parse(code: &str) -> Option<Adherence> {
        [Adherence::Regular, Adherence::Intermittent, Adherence::None]
            .into_iter()
            .find(|s| s.as_str() == code)
    }
}

/// A follow-up as the form records it. `None` is "not measured" or "not asked".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    /// Day of the visit.
    pub visit_date: NaiveDate,
    /// Seen in person (otherwise by telephone or video).
    #[serde(default = "yes")]
    pub face_to_face: bool,
    /// Systolic blood pressure, mmHg.
    #[serde(default)]
    pub sbp: Option<u16>,
    /// Diastolic blood pressure, mmHg.
    #[serde(default)]
    pub dbp: Option<u16>,
    /// Fasting plasma glucose, mmol/L.
    #[serde(default)]
    pub fpg: Option<f64>,
    /// Heart rate, beats per minute.
    #[serde(default)]
    pub heart_rate: Option<u16>,
    /// Weight, kg.
    #[serde(default)]
    pub weight_kg: Option<f64>,
    /// Height, cm (for the BMI).
    #[serde(default)]
    pub height_cm: Option<f64>,
    /// Symptoms, free text or codes separated by `;` (头痛头晕, 多饮, …).
    #[serde(default)]
    pub symptoms: String,
    /// A danger sign other than the measured ones (see [`Visit::danger_sign`]).
    #[serde(default)]
    pub danger_sign: bool,
    /// Cigarettes a day.
    #[serde(default)]
    pub smoking_per_day: Option<u16>,
    /// Alcohol, 两 (50 g) a day.
    #[serde(default)]
    pub drinking_per_day: Option<u16>,
    /// Exercise sessions a week.
    #[serde(default)]
    pub exercise_per_week: Option<u16>,
    /// Salt intake.
    #[serde(default)]
    pub salt: Option<Salt>,
    /// Medication adherence.
    #[serde(default)]
    pub adherence: Option<Adherence>,
    /// Adverse drug reaction.
    #[serde(default)]
    pub adverse_reaction: AdverseReaction,
    /// Complications.
    #[serde(default)]
    pub complication: Complication,
    /// Current medication, free text (drug, dose, frequency; one per line).
    #[serde(default)]
    pub medication: String,
    /// Who saw the patient.
    #[serde(default)]
    pub practitioner_id: Option<i64>,
}

fn yes() -> bool {
    true
}

impl FollowUp {
    /// A face-to-face follow-up on `date` with nothing recorded yet.
    pub fn new(visit_date: NaiveDate) -> FollowUp {
        FollowUp {
            visit_date,
            face_to_face: true,
            sbp: None,
            dbp: None,
            fpg: None,
            heart_rate: None,
            weight_kg: None,
            height_cm: None,
            symptoms: String::new(),
            danger_sign: false,
            smoking_per_day: None,
            drinking_per_day: None,
            exercise_per_week: None,
            salt: None,
            adherence: None,
            adverse_reaction: AdverseReaction::None,
            complication: Complication::None,
            medication: String::new(),
            practitioner_id: None,
        }
    }

    /// The part the rules read, for a patient born on `birth_date`.
    pub fn visit(&self, birth_date: NaiveDate) -> Visit {
        Visit {
            date: self.visit_date,
            birth_date,
            sbp: self.sbp,
            dbp: self.dbp,
            fpg: self.fpg,
            danger_sign: self.danger_sign,
            adverse_reaction: self.adverse_reaction,
            complication: self.complication,
            face_to_face: self.face_to_face,
        }
    }

    /// Body-mass index, kg/m², when weight and height are both known.
    pub fn bmi(&self) -> Option<f64> {
        match (self.weight_kg, self.height_cm) {
            (Some(w), Some(h)) if h > 0.0 => Some(w / (h / 100.0).powi(2)),
            _ => None,
        }
    }
}

/// Every problem with follow-up `f` of a patient born on `birth_date` and enrolled on
/// `enrolled`: what [`check_visit`] finds, a visit before enrolment, and implausible heart
/// rate, weight, height and habits.
pub fn check_followup(
    rules: &Rules,
    f: &FollowUp,
    birth_date: NaiveDate,
    enrolled: NaiveDate,
    today: NaiveDate,
) -> Vec<VisitProblem> {
    let mut out = check_visit(rules, &f.visit(birth_date), today);
    if f.visit_date < enrolled {
        out.push(VisitProblem::new(
            "visit_date",
            ProblemKind::BeforeEnrolment {
                date: f.visit_date,
                enrolled,
            },
        ));
    }
    let mut range = |field: &'static str, value: Option<f64>, lo: f64, hi: f64, unit: Unit| {
        if let Some(v) = value
            && !(lo..=hi).contains(&v)
        {
            out.push(VisitProblem::new(
                field,
                ProblemKind::OutOfRange {
                    value: v,
                    range: (lo, hi),
                    unit,
                },
            ));
        }
    };
    range(
        "heart_rate",
        f.heart_rate.map(f64::from),
        20.0,
        250.0,
        Unit::Bpm,
    );
    range("weight_kg", f.weight_kg, 2.0, 350.0, Unit::Kg);
    range("height_cm", f.height_cm, 40.0, 250.0, Unit::Cm);
    range(
        "smoking_per_day",
        f.smoking_per_day.map(f64::from),
        0.0,
        100.0,
        Unit::Cigarettes,
    );
    range(
        "drinking_per_day",
        f.drinking_per_day.map(f64::from),
        0.0,
        40.0,
        Unit::Liang,
    );
    range(
        "exercise_per_week",
        f.exercise_per_week.map(f64::from),
        0.0,
        21.0,
        Unit::Sessions,
    );
    if f.symptoms.chars().count() > 500 {
        out.push(VisitProblem::new(
            "symptoms",
            ProblemKind::TooLong { max: 500 },
        ));
    }
    if f.medication.chars().count() > 2000 {
        out.push(VisitProblem::new(
            "medication",
            ProblemKind::TooLong { max: 2000 },
        ));
    }
    out
}

/// The roles in a family-doctor team (家庭医生团队).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TeamRole {
    /// The general practitioner who leads the team (全科医生, 团队长).
    GpLead,
    /// 护士.
    Nurse,
    /// 公卫医师.
    PublicHealth,
    /// Anyone else (a specialist from the hospital, a pharmacist, a health manager).
    Other,
}

impl TeamRole {
    /// The code.
    pub fn as_str(self) -> &'static str {
        match self {
            TeamRole::GpLead => "gp_lead",
            TeamRole::Nurse => "nurse",
            TeamRole::PublicHealth => "public_health",
            TeamRole::Other => "other",
        }
    }

    /// The role with code `code`.
    pub fn parse(code: &str) -> Option<TeamRole> {
        [
            TeamRole::GpLead,
            TeamRole::Nurse,
            TeamRole::PublicHealth,
            TeamRole::Other,
        ]
        .into_iter()
        .find(|r| r.as_str() == code)
    }
}

/// A contract's service package (服务包).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Package {
    /// The free basic package (基础包).
    Basic,
    /// A personalised package on top of it (个性化服务包).
    Personalised,
}

impl Package {
    /// The code.
    pub fn as_str(self) -> &'static str {
        match self {
            Package::Basic => "basic",
            Package::Personalised => "personalised",
        }
    }

    /// The package with code `code`.
    pub fn parse(code: &str) -> Option<Package> {
        [Package::Basic, Package::Personalised]
            .into_iter()
            .find(|p| p.as_str() == code)
    }
}

/// How a contract came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractKind {
    /// A first contract.
    New,
    /// The continuation of one that ran its term (续约).
    Renewal,
    /// A move to another team, ending the previous contract early (改签).
    Change,
}

impl ContractKind {
    /// The code.
    pub fn as_str(self) -> &'static str {
        match self {
            ContractKind::New => "new",
            ContractKind::Renewal => "renewal",
            ContractKind::Change => "change",
        }
    }
}

/// Services a contract must deliver a year to count as fulfilled (履约), per package;
/// configurable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Fulfilment {
    /// Services a year under the basic package.
    pub basic: u32,
    /// Services a year under a personalised package.
    pub personalised: u32,
}

impl Default for Fulfilment {
    fn default() -> Self {
        Fulfilment {
            basic: 2,
            personalised: 4,
        }
    }
}

/// Why a contract's dates are refused: a term shorter than a year, or an end before the start.
/// In English; [`term_problem`] gives the facts.
pub fn check_term(start: NaiveDate, end: NaiveDate) -> Option<String> {
    term_problem(start, end).map(|k| k.en())
}

/// What [`check_term`] finds, as facts ([`ProblemKind::TermTooShort`]).
pub fn term_problem(start: NaiveDate, end: NaiveDate) -> Option<ProblemKind> {
    let year_later = crate::add_months(start, 12);
    (end < year_later).then_some(ProblemKind::TermTooShort {
        start,
        end,
        year_later,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_followup_before_enrolment_or_with_impossible_values_is_refused() {
        let f = FollowUp {
            sbp: Some(400),
            fpg: Some(0.0),
            weight_kg: Some(900.0),
            ..FollowUp::new(d("2026-01-05"))
        };
        let problems = check_followup(
            &Rules::default(),
            &f,
            d("1950-01-01"),
            d("2026-02-01"),
            d("2026-11-23"),
        );
        let fields: Vec<&str> = problems.iter().map(|p| p.field).collect();
        assert!(fields.contains(&"sbp"), "{fields:?}");
        assert!(fields.contains(&"fpg"), "{fields:?}");
        assert!(fields.contains(&"weight_kg"), "{fields:?}");
        assert!(fields.contains(&"visit_date"), "{fields:?}");
        let ok = FollowUp {
            sbp: Some(135),
            dbp: Some(85),
            weight_kg: Some(70.0),
            height_cm: Some(170.0),
            ..FollowUp::new(d("2026-03-05"))
        };
        assert!(
            check_followup(
                &Rules::default(),
                &ok,
                d("1950-01-01"),
                d("2026-02-01"),
                d("2026-11-23")
            )
            .is_empty()
        );
        assert!((ok.bmi().unwrap() - 24.22).abs() < 0.01);
    }

    #[test]
    fn contracts_last_a_year() {
        assert!(check_term(d("2026-03-01"), d("2027-03-01")).is_none());
        assert!(check_term(d("2026-03-01"), d("2027-02-28")).is_some());
        assert!(check_term(d("2024-02-29"), d("2025-02-28")).is_none());
    }

    #[test]
    fn followup_problems_are_said_in_english_and_chinese() {
        let f = FollowUp {
            heart_rate: Some(300),
            weight_kg: Some(900.0),
            ..FollowUp::new(d("2025-01-01"))
        };
        let problems = check_followup(
            &Rules::default(),
            &f,
            d("1950-01-01"),
            d("2025-02-01"),
            d("2026-11-23"),
        );
        let said: Vec<(&str, &str, String)> = problems
            .iter()
            .map(|p| (p.field, p.message.as_str(), p.kind.zh()))
            .collect();
        assert_eq!(
            said,
            [
                (
                    "visit_date",
                    "2025-01-01 is before the enrolment in the program on 2025-02-01",
                    "2025-01-01 早于入组日期 2025-02-01".to_owned()
                ),
                (
                    "heart_rate",
                    "300 bpm is outside 20-250 bpm",
                    "300 次/分 不在 20–250 次/分 的范围内".to_owned()
                ),
                (
                    "weight_kg",
                    "900 kg is outside 2-350 kg",
                    "900 kg 不在 2–350 kg 的范围内".to_owned()
                ),
            ]
        );
        let long = FollowUp {
            symptoms: "x".repeat(501),
            ..FollowUp::new(d("2026-03-01"))
        };
        let p = &check_followup(
            &Rules::default(),
            &long,
            d("1950-01-01"),
            d("2025-02-01"),
            d("2026-11-23"),
        )[0];
        assert_eq!(
            (p.message.as_str(), p.kind.zh()),
            ("longer than 500 characters", "超过 500 个字".to_owned())
        );
    }

    #[test]
    fn a_short_contract_is_said_in_english_and_chinese() {
        let k = term_problem(d("2026-03-01"), d("2027-02-28")).unwrap();
        assert_eq!(
            check_term(d("2026-03-01"), d("2027-02-28")).unwrap(),
            "a contract lasts at least a year: 2026-03-01 to 2027-02-28 ends before 2027-03-01"
        );
        assert_eq!(
            k.en(),
            check_term(d("2026-03-01"), d("2027-02-28")).unwrap()
        );
        assert_eq!(
            k.zh(),
            "签约期至少一年：2026-03-01 至 2027-02-28 在 2027-03-01 之前结束"
        );
    }

    #[test]
    fn codes_round_trip() {
        for s in ["light", "moderate", "heavy"] {
            assert_eq!(Salt::parse(s).unwrap().as_str(), s);
        }
        for s in ["gp_lead", "nurse", "public_health", "other"] {
            assert_eq!(TeamRole::parse(s).unwrap().as_str(), s);
        }
        assert_eq!(Package::parse("personalised"), Some(Package::Personalised));
        assert_eq!(Adherence::parse("x"), None);
    }
}
