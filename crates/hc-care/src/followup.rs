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
    pub reasons: Vec<Reason>,
}

/// One reason for a follow-up's classification or action: the fact the rules found, with the
/// measured value and the threshold it was held against. [`Reason::en`] and [`Reason::zh`]
/// say it in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    /// A danger sign was recorded at the visit (危急情况).
    DangerSign,
    /// Systolic pressure at a danger threshold.
    SbpDanger {
        /// Measured, mmHg.
        sbp: u16,
        /// The threshold it reached, mmHg.
        at_least: u16,
    },
    /// Diastolic pressure at a danger threshold.
    DbpDanger {
        /// Measured, mmHg.
        dbp: u16,
        /// The threshold it reached, mmHg.
        at_least: u16,
    },
    /// Fasting glucose at the high danger threshold (diabetes).
    FpgDangerHigh {
        /// Measured, mmol/L.
        fpg: f64,
        /// The threshold it reached, mmol/L.
        at_least: f64,
    },
    /// Fasting glucose at the low danger threshold (diabetes).
    FpgDangerLow {
        /// Measured, mmol/L.
        fpg: f64,
        /// The threshold it fell to, mmol/L.
        at_most: f64,
    },
    /// Blood pressure not below the target.
    BpOffTarget {
        /// Measured systolic, mmHg.
        sbp: u16,
        /// Measured diastolic, mmHg.
        dbp: u16,
        /// Systolic target (must be below), mmHg.
        sbp_below: u16,
        /// Diastolic target (must be below), mmHg.
        dbp_below: u16,
        /// The age from which the elderly target applied, if it did.
        elderly_from: Option<u32>,
    },
    /// Blood pressure (systolic and diastolic) not measured.
    BpNotMeasured,
    /// Fasting glucose not below the target.
    FpgOffTarget {
        /// Measured, mmol/L.
        fpg: f64,
        /// Target (must be below), mmol/L.
        below: f64,
    },
    /// Fasting glucose not measured.
    FpgNotMeasured,
    /// A new complication (并发症).
    NewComplication,
    /// A known complication got worse.
    WorseComplication,
    /// An adverse drug reaction (药物不良反应).
    AdverseReaction,
    /// An adverse drug reaction that cannot be controlled.
    UncontrollableAdverseReaction,
    /// The second visit in a row not satisfied (unsatisfied or with an adverse reaction).
    SecondInARow,
}

impl Reason {
    /// The reason in English, e.g. `SBP 185 >= 180: danger sign`.
    pub fn en(&self) -> String {
        match self {
            Reason::DangerSign => "danger sign recorded".to_owned(),
            Reason::SbpDanger { sbp, at_least } => format!("SBP {sbp} >= {at_least}: danger sign"),
            Reason::DbpDanger { dbp, at_least } => format!("DBP {dbp} >= {at_least}: danger sign"),
            Reason::FpgDangerHigh { fpg, at_least } => {
                format!("FPG {fpg} >= {at_least}: danger sign")
            }
            Reason::FpgDangerLow { fpg, at_most } => format!("FPG {fpg} <= {at_most}: danger sign"),
            Reason::BpOffTarget {
                sbp,
                dbp,
                sbp_below,
                dbp_below,
                elderly_from,
            } => format!(
                "BP {sbp}/{dbp} not below {sbp_below}/{dbp_below}{}",
                elderly_from.map_or_else(String::new, |a| format!(" (aged {a}+)"))
            ),
            Reason::BpNotMeasured => "blood pressure not measured".to_owned(),
            Reason::FpgOffTarget { fpg, below } => format!("FPG {fpg} not below {below}"),
            Reason::FpgNotMeasured => "fasting glucose not measured".to_owned(),
            Reason::NewComplication => "complication new".to_owned(),
            Reason::WorseComplication => "complication worse".to_owned(),
            Reason::AdverseReaction => "adverse drug reaction".to_owned(),
            Reason::UncontrollableAdverseReaction => "uncontrollable adverse reaction".to_owned(),
            Reason::SecondInARow => "second visit in a row not satisfied".to_owned(),
        }
    }

    /// The reason in Chinese, in the terms of the national specification, e.g.
    /// `收缩压 185 ≥ 180 mmHg：危急情况`.
    pub fn zh(&self) -> String {
        match self {
            Reason::DangerSign => "记录有危急情况".to_owned(),
            Reason::SbpDanger { sbp, at_least } => {
                format!("收缩压 {sbp} ≥ {at_least} mmHg：危急情况")
            }
            Reason::DbpDanger { dbp, at_least } => {
                format!("舒张压 {dbp} ≥ {at_least} mmHg：危急情况")
            }
            Reason::FpgDangerHigh { fpg, at_least } => {
                format!("空腹血糖 {fpg} ≥ {at_least} mmol/L：危急情况")
            }
            Reason::FpgDangerLow { fpg, at_most } => {
                format!("空腹血糖 {fpg} ≤ {at_most} mmol/L：危急情况")
            }
            Reason::BpOffTarget {
                sbp,
                dbp,
                sbp_below,
                dbp_below,
                elderly_from,
            } => format!(
                "血压 {sbp}/{dbp} 未低于 {sbp_below}/{dbp_below} mmHg{}：控制不满意",
                elderly_from.map_or_else(String::new, |a| format!("（{a} 岁及以上）"))
            ),
            Reason::BpNotMeasured => "未测血压：控制不满意".to_owned(),
            Reason::FpgOffTarget { fpg, below } => {
                format!("空腹血糖 {fpg} 未低于 {below} mmol/L：控制不满意")
            }
            Reason::FpgNotMeasured => "未测空腹血糖：控制不满意".to_owned(),
            Reason::NewComplication => "出现新的并发症".to_owned(),
            Reason::WorseComplication => "原有并发症加重".to_owned(),
            Reason::AdverseReaction => "药物不良反应".to_owned(),
            Reason::UncontrollableAdverseReaction => "药物不良反应难以控制".to_owned(),
            Reason::SecondInARow => "连续两次控制不满意".to_owned(),
        }
    }
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
    /// What is wrong, in English (`kind.en()`).
    pub message: String,
    /// What is wrong, as facts; [`ProblemKind::en`] and [`ProblemKind::zh`] say it in words.
    pub kind: ProblemKind,
}

impl VisitProblem {
    /// A problem of `field`, its message in English.
    pub fn new(field: &'static str, kind: ProblemKind) -> Self {
        VisitProblem {
            field,
            message: kind.en(),
            kind,
        }
    }
}

fn problem(field: &'static str, kind: ProblemKind) -> VisitProblem {
    VisitProblem::new(field, kind)
}

/// A unit of a plausibility range of [`ProblemKind::OutOfRange`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Heart beats per minute.
    Bpm,
    /// Kilograms.
    Kg,
    /// Centimetres.
    Cm,
    /// Cigarettes a day.
    Cigarettes,
    /// Liang (50 g) of liquor a day.
    Liang,
    /// Exercise sessions a week.
    Sessions,
}

impl Unit {
    /// The unit in English.
    pub fn en(self) -> &'static str {
        match self {
            Unit::Bpm => "bpm",
            Unit::Kg => "kg",
            Unit::Cm => "cm",
            Unit::Cigarettes => "cigarettes",
            Unit::Liang => "liang",
            Unit::Sessions => "sessions",
        }
    }

    /// The unit in Chinese.
    pub fn zh(self) -> &'static str {
        match self {
            Unit::Bpm => "次/分",
            Unit::Kg => "kg",
            Unit::Cm => "cm",
            Unit::Cigarettes => "支",
            Unit::Liang => "两",
            Unit::Sessions => "次",
        }
    }
}

/// Why a value entered for care cannot be right: the fact found, with the value and the range
/// or date it was held against. [`ProblemKind::en`] and [`ProblemKind::zh`] say it in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum ProblemKind {
    /// A systolic pressure outside the plausible range.
    Sbp {
        /// The value entered, mmHg.
        sbp: u16,
        /// The plausible range, mmHg.
        range: (u16, u16),
    },
    /// A diastolic pressure outside the plausible range.
    Dbp {
        /// The value entered, mmHg.
        dbp: u16,
        /// The plausible range, mmHg.
        range: (u16, u16),
    },
    /// A diastolic pressure not below the systolic one.
    DbpNotBelowSbp {
        /// The diastolic pressure, mmHg.
        dbp: u16,
        /// The systolic pressure, mmHg.
        sbp: u16,
    },
    /// A fasting glucose outside the plausible range (or not a number).
    Fpg {
        /// The value entered, mmol/L.
        fpg: f64,
        /// The plausible range, mmol/L.
        range: (f64, f64),
    },
    /// A visit after today.
    InFuture {
        /// The visit date.
        date: NaiveDate,
    },
    /// A visit before the patient's birth.
    BeforeBirth {
        /// The visit date.
        date: NaiveDate,
        /// The birth date.
        birth: NaiveDate,
    },
    /// A visit before the enrolment in the program.
    BeforeEnrolment {
        /// The visit date.
        date: NaiveDate,
        /// The enrolment date.
        enrolled: NaiveDate,
    },
    /// A measurement or habit outside its plausible range.
    OutOfRange {
        /// The value entered.
        value: f64,
        /// The plausible range.
        range: (f64, f64),
        /// The unit of both.
        unit: Unit,
    },
    /// A text longer than allowed.
    TooLong {
        /// The most characters allowed.
        max: usize,
    },
    /// A contract shorter than a year.
    TermTooShort {
        /// The contract's start.
        start: NaiveDate,
        /// The contract's end.
        end: NaiveDate,
        /// The earliest end allowed: a year after the start.
        year_later: NaiveDate,
    },
}

// Values are compared as recorded; only a NaN glucose is not equal to itself.
impl Eq for ProblemKind {}

impl ProblemKind {
    /// The problem in English (the text of the API and of the logs).
    pub fn en(&self) -> String {
        match self {
            ProblemKind::Sbp { sbp, range } => format!(
                "{sbp} mmHg is not a systolic pressure ({}-{})",
                range.0, range.1
            ),
            ProblemKind::Dbp { dbp, range } => format!(
                "{dbp} mmHg is not a diastolic pressure ({}-{})",
                range.0, range.1
            ),
            ProblemKind::DbpNotBelowSbp { dbp, sbp } => {
                format!("{dbp} mmHg is not below the systolic {sbp} mmHg")
            }
            ProblemKind::Fpg { fpg, range } => format!(
                "{fpg} mmol/L is not a fasting glucose ({}-{})",
                range.0, range.1
            ),
            ProblemKind::InFuture { date } => format!("{date} is in the future"),
            ProblemKind::BeforeBirth { date, birth } => {
                format!("{date} is before the birth date {birth}")
            }
            ProblemKind::BeforeEnrolment { date, enrolled } => {
                format!("{date} is before the enrolment in the program on {enrolled}")
            }
            ProblemKind::OutOfRange { value, range, unit } => {
                let unit = unit.en();
                format!("{value} {unit} is outside {}-{} {unit}", range.0, range.1)
            }
            ProblemKind::TooLong { max } => format!("longer than {max} characters"),
            ProblemKind::TermTooShort {
                start,
                end,
                year_later,
            } => format!(
                "a contract lasts at least a year: {start} to {end} ends before {year_later}"
            ),
        }
    }

    /// The problem in Chinese.
    pub fn zh(&self) -> String {
        match self {
            ProblemKind::Sbp { sbp, range } => {
                format!("{sbp} mmHg 不是可能的收缩压（{}–{}）", range.0, range.1)
            }
            ProblemKind::Dbp { dbp, range } => {
                format!("{dbp} mmHg 不是可能的舒张压（{}–{}）", range.0, range.1)
            }
            ProblemKind::DbpNotBelowSbp { dbp, sbp } => {
                format!("舒张压 {dbp} mmHg 不低于收缩压 {sbp} mmHg")
            }
            ProblemKind::Fpg { fpg, range } => {
                format!("{fpg} mmol/L 不是可能的空腹血糖（{}–{}）", range.0, range.1)
            }
            ProblemKind::InFuture { date } => format!("{date} 在今天之后"),
            ProblemKind::BeforeBirth { date, birth } => {
                format!("{date} 早于出生日期 {birth}")
            }
            ProblemKind::BeforeEnrolment { date, enrolled } => {
                format!("{date} 早于入组日期 {enrolled}")
            }
            ProblemKind::OutOfRange { value, range, unit } => {
                let unit = unit.zh();
                format!(
                    "{value} {unit} 不在 {}–{} {unit} 的范围内",
                    range.0, range.1
                )
            }
            ProblemKind::TooLong { max } => format!("超过 {max} 个字"),
            ProblemKind::TermTooShort {
                start,
                end,
                year_later,
            } => format!("签约期至少一年：{start} 至 {end} 在 {year_later} 之前结束"),
        }
    }
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
            ProblemKind::Sbp {
                sbp: s,
                range: p.sbp,
            },
        ));
    }
    if let Some(d) = v.dbp
        && !(p.dbp.0..=p.dbp.1).contains(&d)
    {
        out.push(problem(
            "dbp",
            ProblemKind::Dbp {
                dbp: d,
                range: p.dbp,
            },
        ));
    }
    if let (Some(s), Some(d)) = (v.sbp, v.dbp)
        && d >= s
    {
        out.push(problem(
            "dbp",
            ProblemKind::DbpNotBelowSbp { dbp: d, sbp: s },
        ));
    }
    if let Some(g) = v.fpg
        && !(g.is_finite() && g >= p.fpg.0 && g <= p.fpg.1)
    {
        out.push(problem(
            "fpg",
            ProblemKind::Fpg {
                fpg: g,
                range: p.fpg,
            },
        ));
    }
    if v.date > today {
        out.push(problem(
            "visit_date",
            ProblemKind::InFuture { date: v.date },
        ));
    }
    if v.date < v.birth_date {
        out.push(problem(
            "visit_date",
            ProblemKind::BeforeBirth {
                date: v.date,
                birth: v.birth_date,
            },
        ));
    }
    out
}

/// Whether the visit shows a danger sign: stated, or a measurement at a danger threshold.
fn danger(program: Program, rules: &Rules, v: &Visit, reasons: &mut Vec<Reason>) -> bool {
    let mut found = false;
    if v.danger_sign {
        reasons.push(Reason::DangerSign);
        found = true;
    }
    if let Some(sbp) = v.sbp.filter(|s| *s >= rules.danger_sbp_at_least) {
        reasons.push(Reason::SbpDanger {
            sbp,
            at_least: rules.danger_sbp_at_least,
        });
        found = true;
    }
    if let Some(dbp) = v.dbp.filter(|d| *d >= rules.danger_dbp_at_least) {
        reasons.push(Reason::DbpDanger {
            dbp,
            at_least: rules.danger_dbp_at_least,
        });
        found = true;
    }
    if program == Program::Diabetes
        && let Some(fpg) = v.fpg
    {
        if fpg >= rules.danger_fpg_at_least {
            reasons.push(Reason::FpgDangerHigh {
                fpg,
                at_least: rules.danger_fpg_at_least,
            });
            found = true;
        } else if fpg <= rules.danger_fpg_at_most {
            reasons.push(Reason::FpgDangerLow {
                fpg,
                at_most: rules.danger_fpg_at_most,
            });
            found = true;
        }
    }
    found
}

/// Whether the program's target is met; a missing measurement is not.
fn on_target(program: Program, rules: &Rules, v: &Visit, reasons: &mut Vec<Reason>) -> bool {
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
                (Some(sbp), Some(dbp)) => {
                    reasons.push(Reason::BpOffTarget {
                        sbp,
                        dbp,
                        sbp_below: t.sbp_below,
                        dbp_below: t.dbp_below,
                        elderly_from: elderly.then_some(rules.elderly_age),
                    });
                    false
                }
                _ => {
                    reasons.push(Reason::BpNotMeasured);
                    false
                }
            }
        }
        Program::Diabetes => match v.fpg {
            Some(g) if g < rules.fpg_below => true,
            Some(fpg) => {
                reasons.push(Reason::FpgOffTarget {
                    fpg,
                    below: rules.fpg_below,
                });
                false
            }
            None => {
                reasons.push(Reason::FpgNotMeasured);
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
    reasons: &mut Vec<Reason>,
) -> Classification {
    let on_target = on_target(program, rules, v, reasons);
    if v.complication.is_active() {
        reasons.push(if v.complication == Complication::New {
            Reason::NewComplication
        } else {
            Reason::WorseComplication
        });
        Classification::Complication
    } else if v.adverse_reaction != AdverseReaction::None {
        reasons.push(Reason::AdverseReaction);
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
                reasons.push(Reason::UncontrollableAdverseReaction);
            }
            Action::Refer
        } else if off(classification) && previous.is_some_and(off) {
            reasons.push(Reason::SecondInARow);
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
        assert!(out[1].reasons.contains(&Reason::SecondInARow));
        assert_eq!(out[2].next_due, d("2026-04-20"));
    }

    /// The reasons of one outcome, in English and in Chinese.
    fn said(o: &Outcome) -> (Vec<String>, Vec<String>) {
        (
            o.reasons.iter().map(Reason::en).collect(),
            o.reasons.iter().map(Reason::zh).collect(),
        )
    }

    #[test]
    fn reasons_are_facts_said_in_english_and_in_chinese() {
        let elderly = Visit {
            birth_date: d("1950-01-01"),
            adverse_reaction: AdverseReaction::Uncontrollable,
            ..bp("2026-03-01", 185, 95)
        };
        let o = one(Hypertension, elderly);
        assert_eq!(
            o.reasons[0],
            Reason::BpOffTarget {
                sbp: 185,
                dbp: 95,
                sbp_below: 150,
                dbp_below: 90,
                elderly_from: Some(65),
            }
        );
        assert_eq!(
            said(&o),
            (
                vec![
                    "BP 185/95 not below 150/90 (aged 65+)".to_owned(),
                    "adverse drug reaction".to_owned(),
                    "SBP 185 >= 180: danger sign".to_owned(),
                ],
                vec![
                    "血压 185/95 未低于 150/90 mmHg（65 岁及以上）：控制不满意".to_owned(),
                    "药物不良反应".to_owned(),
                    "收缩压 185 ≥ 180 mmHg：危急情况".to_owned(),
                ],
            )
        );
        let o = one(
            Diabetes,
            Visit {
                danger_sign: true,
                complication: Complication::Worse,
                ..glucose("2026-03-01", 16.7)
            },
        );
        assert_eq!(
            said(&o),
            (
                vec![
                    "FPG 16.7 not below 7".to_owned(),
                    "complication worse".to_owned(),
                    "danger sign recorded".to_owned(),
                    "FPG 16.7 >= 16.7: danger sign".to_owned(),
                ],
                vec![
                    "空腹血糖 16.7 未低于 7 mmol/L：控制不满意".to_owned(),
                    "原有并发症加重".to_owned(),
                    "记录有危急情况".to_owned(),
                    "空腹血糖 16.7 ≥ 16.7 mmol/L：危急情况".to_owned(),
                ],
            )
        );
        let out = evaluate(
            Hypertension,
            &Rules::default(),
            &[
                bp("2026-01-05", 150, 92),
                Visit {
                    dbp: None,
                    ..bp("2026-01-19", 150, 92)
                },
            ],
        );
        assert_eq!(
            said(&out[1]),
            (
                vec![
                    "blood pressure not measured".to_owned(),
                    "second visit in a row not satisfied".to_owned(),
                ],
                vec![
                    "未测血压：控制不满意".to_owned(),
                    "连续两次控制不满意".to_owned()
                ],
            )
        );
        assert_eq!(
            Reason::FpgDangerLow {
                fpg: 3.2,
                at_most: 3.9
            }
            .zh(),
            "空腹血糖 3.2 ≤ 3.9 mmol/L：危急情况"
        );
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
    fn implausible_values_are_said_in_english_and_chinese() {
        let rules = Rules::default();
        let today = d("2026-11-23");
        let said = |v: &Visit| -> Vec<(String, String, String)> {
            check_visit(&rules, v, today)
                .into_iter()
                .map(|p| {
                    assert_eq!(p.message, p.kind.en());
                    let shown = p.to_string();
                    (p.message, p.kind.zh(), shown)
                })
                .collect()
        };
        let sbp = said(&bp("2026-03-01", 400, 80));
        assert_eq!(sbp[0].0, "400 mmHg is not a systolic pressure (50-300)");
        assert_eq!(sbp[0].1, "400 mmHg 不是可能的收缩压（50–300）");
        assert_eq!(
            sbp[0].2,
            "sbp: 400 mmHg is not a systolic pressure (50-300)"
        );
        let dbp = said(&bp("2026-03-01", 120, 130));
        assert_eq!(dbp[0].0, "130 mmHg is not below the systolic 120 mmHg");
        assert_eq!(dbp[0].1, "舒张压 130 mmHg 不低于收缩压 120 mmHg");
        let fpg = said(&glucose("2026-03-01", 0.5));
        assert_eq!(fpg[0].0, "0.5 mmol/L is not a fasting glucose (1-50)");
        assert_eq!(fpg[0].1, "0.5 mmol/L 不是可能的空腹血糖（1–50）");
        let future = said(&bp("2026-12-30", 120, 80));
        assert_eq!(future[0].0, "2026-12-30 is in the future");
        assert_eq!(future[0].1, "2026-12-30 在今天之后");
        let unborn = said(&bp("1960-01-01", 120, 80));
        assert_eq!(unborn[0].1, "1960-01-01 早于出生日期 1970-06-01");
        assert_eq!(
            unborn[0].0,
            "1960-01-01 is before the birth date 1970-06-01"
        );
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
