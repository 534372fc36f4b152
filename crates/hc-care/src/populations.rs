//! Key populations (重点人群) derived from a resident's record, each tag with the fact that
//! made it, so a family doctor can see why a resident is on a list and correct the record
//! rather than the list.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The key populations of the basic public-health services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyPopulation {
    /// 65 岁及以上老年人.
    Elderly,
    /// 高血压患者.
    Hypertension,
    /// 2 型糖尿病患者.
    Diabetes,
    /// 孕妇.
    Pregnant,
    /// 产妇 (within 42 days of delivery).
    Postpartum,
    /// 0–6 岁儿童.
    Child,
    /// 严重精神障碍患者.
    SevereMental,
    /// 肺结核患者.
    Tuberculosis,
    /// 残疾人.
    Disability,
}

impl KeyPopulation {
    /// Every key population, in list order.
    pub const ALL: [KeyPopulation; 9] = [
        KeyPopulation::Elderly,
        KeyPopulation::Hypertension,
        KeyPopulation::Diabetes,
        KeyPopulation::Pregnant,
        KeyPopulation::Postpartum,
        KeyPopulation::Child,
        KeyPopulation::SevereMental,
        KeyPopulation::Tuberculosis,
        KeyPopulation::Disability,
    ];

    /// The population with code `code`.
    pub fn parse(code: &str) -> Option<KeyPopulation> {
        KeyPopulation::ALL.into_iter().find(|p| p.as_str() == code)
    }

    /// The code used in files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyPopulation::Elderly => "elderly",
            KeyPopulation::Hypertension => "hypertension",
            KeyPopulation::Diabetes => "diabetes",
            KeyPopulation::Pregnant => "pregnant",
            KeyPopulation::Postpartum => "postpartum",
            KeyPopulation::Child => "child",
            KeyPopulation::SevereMental => "severe_mental",
            KeyPopulation::Tuberculosis => "tuberculosis",
            KeyPopulation::Disability => "disability",
        }
    }
}

/// A diagnosis on the record (ICD-10), open until resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    /// ICD-10 code, e.g. `I10`, `E11.9`.
    pub code: String,
    /// When it was made.
    pub date: NaiveDate,
    /// When it was closed (cured, or found wrong), if it was.
    pub resolved: Option<NaiveDate>,
}

/// A pregnancy on the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pregnancy {
    /// When it was registered (建册).
    pub registered: NaiveDate,
    /// When it ended (delivery or otherwise), if it has.
    pub ended: Option<NaiveDate>,
}

/// What the record says about a resident, as far as key populations go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentFacts {
    /// Date of birth.
    pub birth_date: NaiveDate,
    /// Diagnoses.
    pub diagnoses: Vec<Diagnosis>,
    /// Pregnancies.
    pub pregnancies: Vec<Pregnancy>,
    /// Holds a disability certificate (残疾人证).
    pub disability: bool,
}

/// One key-population tag and the fact behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tag {
    /// The population.
    pub population: KeyPopulation,
    /// Why, e.g. `diagnosis I10 on 2021-05-03` or `aged 67 (born 1959-03-02)`.
    pub because: TagReason,
}

/// The fact on the record that puts a resident in a key population. [`TagReason::en`] and
/// [`TagReason::zh`] say it in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum TagReason {
    /// Old enough to be elderly.
    Aged {
        /// Whole years of age.
        age: u32,
        /// Date of birth.
        born: NaiveDate,
    },
    /// An open diagnosis.
    Diagnosis {
        /// ICD-10 code, as recorded (trimmed).
        code: String,
        /// When it was made.
        date: NaiveDate,
    },
    /// A pregnancy registered (建册) and not ended.
    Pregnancy {
        /// When it was registered.
        registered: NaiveDate,
    },
    /// A delivery within the postpartum days.
    Delivered {
        /// Day of the delivery.
        on: NaiveDate,
        /// Days since.
        days_ago: i64,
    },
    /// Young enough to be a child of 0–6.
    Child {
        /// Date of birth.
        born: NaiveDate,
    },
    /// Holds a disability certificate.
    DisabilityCertificate,
}

impl TagReason {
    /// The fact in English, e.g. `diagnosis I10 on 2020-05-03`.
    pub fn en(&self) -> String {
        match self {
            TagReason::Aged { age, born } => format!("aged {age} (born {born})"),
            TagReason::Diagnosis { code, date } => format!("diagnosis {code} on {date}"),
            TagReason::Pregnancy { registered } => format!("pregnancy registered on {registered}"),
            TagReason::Delivered { on, days_ago } => {
                format!("delivered on {on}, {days_ago} days ago")
            }
            TagReason::Child { born } => format!("aged 0-6 (born {born})"),
            TagReason::DisabilityCertificate => "disability certificate".to_owned(),
        }
    }

    /// The fact in Chinese, e.g. `诊断 I10（2020-05-03）`.
    pub fn zh(&self) -> String {
        match self {
            TagReason::Aged { age, born } => format!("年龄 {age} 岁（{born} 出生）"),
            TagReason::Diagnosis { code, date } => format!("诊断 {code}（{date}）"),
            TagReason::Pregnancy { registered } => format!("孕产妇建册于 {registered}"),
            TagReason::Delivered { on, days_ago } => format!("{on} 分娩，产后 {days_ago} 天"),
            TagReason::Child { born } => format!("年龄 0-6 岁（{born} 出生）"),
            TagReason::DisabilityCertificate => "持有残疾人证".to_owned(),
        }
    }
}

/// Age from which a resident is elderly (老年人, 65 岁及以上).
pub const ELDERLY_FROM_AGE: u32 = 65;

/// Age below which a resident is a young child (0–6 岁儿童).
pub const CHILD_BELOW_AGE: u32 = 7;

/// Days after delivery during which a woman is postpartum (产后 42 天).
pub const POSTPARTUM_DAYS: i64 = 42;

/// ICD-10 categories (first three characters, inclusive ranges) of each diagnosis-based
/// population. Severe mental disorders are the six of the national management specification
/// (严重精神障碍管理治疗工作规范, 2018): schizophrenia, schizoaffective disorder, persistent
/// delusional disorder, bipolar disorder, mental disorders due to epilepsy (F06), and
/// intellectual disability with mental disorder.
const CATEGORIES: [(KeyPopulation, &[(&str, &str)]); 4] = [
    (KeyPopulation::Hypertension, &[("I10", "I15")]),
    (KeyPopulation::Diabetes, &[("E11", "E11")]),
    (
        KeyPopulation::SevereMental,
        &[
            ("F20", "F20"),
            ("F22", "F22"),
            ("F25", "F25"),
            ("F31", "F31"),
            ("F06", "F06"),
            ("F70", "F79"),
        ],
    ),
    (KeyPopulation::Tuberculosis, &[("A15", "A19")]),
];

/// The key population a diagnosis with ICD-10 `code` makes its patient part of, if any.
pub fn diagnosis_population(code: &str) -> Option<KeyPopulation> {
    let c = category(code);
    CATEGORIES.iter().find_map(|(population, ranges)| {
        ranges
            .iter()
            .any(|(lo, hi)| c.as_str() >= *lo && c.as_str() <= *hi)
            .then_some(*population)
    })
}

fn category(code: &str) -> String {
    code.trim()
        .chars()
        .filter(|c| *c != '.')
        .take(3)
        .collect::<String>()
        .to_ascii_uppercase()
}

/// The key populations a resident belongs to on `today`, in list order, each once (the
/// earliest open diagnosis is given as the reason).
pub fn key_populations(facts: &ResidentFacts, today: NaiveDate) -> Vec<Tag> {
    let mut tags = Vec::new();
    let age = today.years_since(facts.birth_date);
    if let Some(a) = age.filter(|a| *a >= ELDERLY_FROM_AGE) {
        tags.push(Tag {
            population: KeyPopulation::Elderly,
            because: TagReason::Aged {
                age: a,
                born: facts.birth_date,
            },
        });
    }
    let mut open: Vec<&Diagnosis> = facts
        .diagnoses
        .iter()
        .filter(|d| d.date <= today && d.resolved.is_none_or(|r| r > today))
        .collect();
    open.sort_by_key(|d| d.date);
    for (population, ranges) in CATEGORIES {
        let hit = open.iter().find(|d| {
            let c = category(&d.code);
            ranges
                .iter()
                .any(|(lo, hi)| c.as_str() >= *lo && c.as_str() <= *hi)
        });
        if let Some(d) = hit {
            tags.push(Tag {
                population,
                because: TagReason::Diagnosis {
                    code: d.code.trim().to_owned(),
                    date: d.date,
                },
            });
        }
    }
    if let Some(p) = facts
        .pregnancies
        .iter()
        .find(|p| p.registered <= today && p.ended.is_none_or(|e| e > today))
    {
        tags.push(Tag {
            population: KeyPopulation::Pregnant,
            because: TagReason::Pregnancy {
                registered: p.registered,
            },
        });
    }
    if let Some(end) = facts
        .pregnancies
        .iter()
        .filter_map(|p| p.ended)
        .filter(|e| *e <= today && (today - *e).num_days() <= POSTPARTUM_DAYS)
        .max()
    {
        tags.push(Tag {
            population: KeyPopulation::Postpartum,
            because: TagReason::Delivered {
                on: end,
                days_ago: (today - end).num_days(),
            },
        });
    }
    if age.is_some_and(|a| a < CHILD_BELOW_AGE) && facts.birth_date <= today {
        tags.push(Tag {
            population: KeyPopulation::Child,
            because: TagReason::Child {
                born: facts.birth_date,
            },
        });
    }
    if facts.disability {
        tags.push(Tag {
            population: KeyPopulation::Disability,
            because: TagReason::DisabilityCertificate,
        });
    }
    tags.sort_by_key(|t| t.population);
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn facts(birth: &str) -> ResidentFacts {
        ResidentFacts {
            birth_date: d(birth),
            diagnoses: Vec::new(),
            pregnancies: Vec::new(),
            disability: false,
        }
    }

    fn dx(code: &str, date: &str, resolved: Option<&str>) -> Diagnosis {
        Diagnosis {
            code: code.into(),
            date: d(date),
            resolved: resolved.map(d),
        }
    }

    fn codes(tags: &[Tag]) -> Vec<&str> {
        tags.iter().map(|t| t.population.as_str()).collect()
    }

    #[test]
    fn age_makes_the_elderly_and_the_children() {
        let today = d("2026-11-23");
        assert_eq!(
            codes(&key_populations(&facts("1961-11-23"), today)),
            ["elderly"]
        );
        assert!(key_populations(&facts("1961-11-24"), today).is_empty());
        let child = key_populations(&facts("2019-11-24"), today);
        assert_eq!(codes(&child), ["child"], "6 years old");
        assert!(
            key_populations(&facts("2019-11-23"), today).is_empty(),
            "7 today"
        );
        let elderly = &key_populations(&facts("1958-01-05"), today)[0].because;
        assert_eq!(elderly.en(), "aged 68 (born 1958-01-05)");
        assert_eq!(elderly.zh(), "年龄 68 岁（1958-01-05 出生）");
        assert_eq!(child[0].because.en(), "aged 0-6 (born 2019-11-24)");
        assert_eq!(child[0].because.zh(), "年龄 0-6 岁（2019-11-24 出生）");
    }

    #[test]
    fn open_diagnoses_make_the_disease_populations_and_say_which() {
        let today = d("2026-11-23");
        let mut f = facts("1975-01-01");
        f.diagnoses = vec![
            dx("i11.9", "2022-03-01", None),
            dx("I10", "2020-05-03", None),
            dx("E11.9", "2026-12-01", None),
            dx("E10", "2019-01-01", None),
            dx("A15.0", "2025-01-10", Some("2025-08-01")),
            dx("F20.0", "2015-06-01", None),
            dx("F32", "2015-06-01", None),
        ];
        let tags = key_populations(&f, today);
        assert_eq!(codes(&tags), ["hypertension", "severe_mental"]);
        assert_eq!(
            tags[0].because,
            TagReason::Diagnosis {
                code: "I10".into(),
                date: d("2020-05-03")
            },
            "the earliest"
        );
        assert_eq!(tags[0].because.en(), "diagnosis I10 on 2020-05-03");
        assert_eq!(tags[0].because.zh(), "诊断 I10（2020-05-03）");
        f.diagnoses.push(dx("F72", "2016-01-01", None));
        f.diagnoses.push(dx("A16", "2026-10-01", None));
        f.diagnoses.push(dx("E11", "2026-02-01", None));
        assert_eq!(
            codes(&key_populations(&f, today)),
            ["hypertension", "diabetes", "severe_mental", "tuberculosis"]
        );
    }

    #[test]
    fn pregnancy_then_42_days_postpartum() {
        let mut f = facts("1995-04-01");
        f.pregnancies = vec![Pregnancy {
            registered: d("2026-03-01"),
            ended: Some(d("2026-10-12")),
        }];
        let before = key_populations(&f, d("2026-10-11"));
        assert_eq!(codes(&before), ["pregnant"]);
        assert_eq!(before[0].because.en(), "pregnancy registered on 2026-03-01");
        assert_eq!(before[0].because.zh(), "孕产妇建册于 2026-03-01");
        let after = key_populations(&f, d("2026-11-23"));
        assert_eq!(codes(&after), ["postpartum"]);
        assert_eq!(
            after[0].because.en(),
            "delivered on 2026-10-12, 42 days ago"
        );
        assert_eq!(after[0].because.zh(), "2026-10-12 分娩，产后 42 天");
        assert!(key_populations(&f, d("2026-11-24")).is_empty());
        f.disability = true;
        let disabled = key_populations(&f, d("2026-11-24"));
        assert_eq!(codes(&disabled), ["disability"]);
        assert_eq!(disabled[0].because.en(), "disability certificate");
        assert_eq!(disabled[0].because.zh(), "持有残疾人证");
    }
}
