//! Surveillance feeds (issue #7): sentinel syndromic visits, notifiable-disease cases, pharmacy
//! sales, school absenteeism and laboratory results, from the API's batch endpoints and from
//! `healthcity import <kind> FILE.csv`.
//!
//! Every record carries its sender's `record_id`; hc-store keeps it once per (feed, sender,
//! record id), so re-sending never duplicates and a changed record moves the counts it fed. A
//! record with faults is reported with its line (or position in the batch), its record id and
//! every field at fault; the others of the batch are accepted. Visits are classified into
//! syndromes here, by the dictionary in force, which is stored with each record.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime};
use hc_core::access::Permission;
use hc_core::model::{InstitutionKind, OrgLevel, Sex};
use hc_core::validate::FieldError;
use hc_store::{FeedOutcome, FeedRecord, Guard, Store};
use hc_syndromes::{Dictionary, DiseaseList, IcdCode, Visit};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::AppError;
use crate::audit::{Caller, Event};

/// A surveillance feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FeedKind {
    /// Sentinel syndromic visits.
    Visits,
    /// Notifiable-disease case reports.
    Cases,
    /// Pharmacy sales by drug category.
    PharmacySales,
    /// School absenteeism.
    Absenteeism,
    /// Laboratory results.
    LabResults,
}

impl FeedKind {
    /// Every feed.
    pub const ALL: [FeedKind; 5] = [
        FeedKind::Visits,
        FeedKind::Cases,
        FeedKind::PharmacySales,
        FeedKind::Absenteeism,
        FeedKind::LabResults,
    ];

    /// The CLI and URL name.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::Visits => "visits",
            FeedKind::Cases => "cases",
            FeedKind::PharmacySales => "pharmacy-sales",
            FeedKind::Absenteeism => "absenteeism",
            FeedKind::LabResults => "lab-results",
        }
    }

    /// The columns a file of this feed has, in the contract's order; every one is required
    /// in the header (a cell may be empty where the field is optional).
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            FeedKind::Visits => &[
                "record_id",
                "institution_code",
                "visit_time",
                "community_code",
                "age",
                "sex",
                "chief_complaint",
                "diagnosis_codes",
                "temperature",
            ],
            FeedKind::Cases => &[
                "record_id",
                "disease_code",
                "onset_date",
                "diagnosis_date",
                "report_date",
                "community_code",
                "classification",
                "age",
                "sex",
            ],
            FeedKind::PharmacySales => &[
                "record_id",
                "pharmacy_code",
                "date",
                "drug_category",
                "quantity",
            ],
            FeedKind::Absenteeism => &[
                "record_id",
                "school_code",
                "date",
                "enrolled",
                "absent",
                "absent_ill",
                "symptom",
            ],
            FeedKind::LabResults => &[
                "record_id",
                "lab_code",
                "sample_date",
                "pathogen",
                "tested",
                "positive",
                "community_code",
            ],
        }
    }

    /// The codes of this feed's streams, beside the denominator: syndromes, diseases, drug
    /// categories, absence measures, pathogens (open-ended for labs).
    pub fn describe(self) -> (&'static str, &'static str) {
        match self {
            FeedKind::Visits => ("哨点症状监测就诊", "sentinel syndromic visits"),
            FeedKind::Cases => ("法定传染病报告", "notifiable-disease reports"),
            FeedKind::PharmacySales => ("药店药品销售", "pharmacy sales"),
            FeedKind::Absenteeism => ("学校缺勤缺课", "school absenteeism"),
            FeedKind::LabResults => ("实验室检测", "laboratory results"),
        }
    }
}

impl FromStr for FeedKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        FeedKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown feed {s:?}; expected {}",
                    FeedKind::ALL.map(FeedKind::as_str).join("|")
                )
            })
    }
}

/// Drug categories a pharmacy sale can carry, with their Chinese names.
pub const DRUG_CATEGORIES: &[(&str, &str)] = &[
    ("antipyretic", "退热药"),
    ("cough-and-cold", "止咳感冒药"),
    ("antidiarrhoeal", "止泻药"),
    ("antiviral", "抗病毒药"),
    ("oral-rehydration", "口服补液盐"),
    ("eye-drops", "滴眼液"),
    ("antipruritic", "止痒及皮肤用药"),
];

/// Symptoms a school can give for illness absence, with their Chinese names.
pub const ABSENCE_SYMPTOMS: &[(&str, &str)] = &[
    ("fever", "发热"),
    ("respiratory", "呼吸道症状"),
    ("gi", "胃肠道症状"),
    ("rash", "皮疹"),
    ("conjunctivitis", "红眼"),
    ("other", "其他"),
];

/// Case classifications, with their Chinese names.
pub const CASE_CLASSES: &[(&str, &str)] = &[
    ("suspected", "疑似病例"),
    ("clinical", "临床诊断病例"),
    ("confirmed", "确诊病例"),
];

/// The dictionaries feeds are read with.
#[derive(Debug, Clone)]
pub struct FeedRules {
    /// The syndrome dictionary visits are classified by.
    pub dictionary: Arc<Dictionary>,
    /// The notifiable diseases cases may report.
    pub diseases: Arc<DiseaseList>,
}

impl FeedRules {
    /// The project's dictionary and disease list (an error here is a defect of the build).
    pub fn builtin() -> Result<FeedRules, String> {
        let dictionary = Dictionary::builtin().map_err(|e| e.to_string())?;
        let diseases = DiseaseList::builtin().map_err(|e| e.to_string())?;
        Ok(FeedRules {
            dictionary: Arc::new(dictionary),
            diseases: Arc::new(diseases),
        })
    }

    /// The project's dictionary and disease list, read once per process.
    pub fn shared() -> Result<FeedRules, AppError> {
        static RULES: std::sync::OnceLock<Result<FeedRules, String>> = std::sync::OnceLock::new();
        RULES
            .get_or_init(FeedRules::builtin)
            .clone()
            .map_err(AppError::Internal)
    }
}

/// Registry facts feed records are checked against, read once per import or batch.
#[derive(Debug, Default)]
pub struct FeedRefs {
    institutions: HashMap<String, (InstitutionKind, String)>,
    communities: HashSet<String>,
}

impl FeedRefs {
    /// Reads the institutions and communities.
    pub async fn load(store: &Store) -> Result<FeedRefs, AppError> {
        let mut refs = FeedRefs::default();
        for (code, kind, community) in store.institution_sites().await? {
            if let Some(kind) = InstitutionKind::parse(&kind) {
                refs.institutions.insert(code, (kind, community));
            }
        }
        refs.communities = store
            .orgunit_levels()
            .await?
            .into_iter()
            .filter(|(_, level)| *level == OrgLevel::Community)
            .map(|(code, _)| code)
            .collect();
        Ok(refs)
    }
}

/// What a record is checked with.
pub struct FeedContext<'a> {
    /// The dictionaries.
    pub rules: &'a FeedRules,
    /// The registry.
    pub refs: &'a FeedRefs,
    /// Who sends it: their scope limits the senders and communities they may report for.
    pub caller: &'a Caller,
    /// Records dated after today are refused.
    pub today: NaiveDate,
}

/// One record's cells, by the feed's columns.
struct Cells<'a> {
    columns: &'static [&'static str],
    values: &'a [&'a str],
}

impl Cells<'_> {
    fn get(&self, name: &str) -> &str {
        self.columns
            .iter()
            .position(|c| *c == name)
            .and_then(|i| self.values.get(i))
            .map_or("", |v| v.trim())
    }
}

/// Collects a record's field errors as it is read.
#[derive(Default)]
struct Faults(Vec<FieldError>);

impl Faults {
    fn add(&mut self, field: &str, en: impl Into<String>, zh: impl Into<String>) {
        self.0.push(FieldError::new(field, en).with_zh(zh));
    }

    fn text(&mut self, c: &Cells<'_>, field: &str, max: usize) -> String {
        let v = c.get(field);
        if v.is_empty() {
            self.add(field, "required", "必填");
        } else if v.chars().count() > max {
            self.add(
                field,
                format!("longer than {max} characters"),
                format!("超过 {max} 个字符"),
            );
        }
        v.to_owned()
    }

    fn optional_text(&mut self, c: &Cells<'_>, field: &str, max: usize) -> String {
        let v = c.get(field);
        if v.chars().count() > max {
            self.add(
                field,
                format!("longer than {max} characters"),
                format!("超过 {max} 个字符"),
            );
        }
        v.to_owned()
    }

    fn date(&mut self, c: &Cells<'_>, field: &str, today: NaiveDate) -> Option<NaiveDate> {
        let v = c.get(field);
        if v.is_empty() {
            self.add(field, "required", "必填");
            return None;
        }
        match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            Ok(d) if d > today => {
                self.add(
                    field,
                    format!("{d} is in the future"),
                    format!("{d} 是将来的日期"),
                );
                None
            }
            Ok(d) if d.year() < 1900 => {
                self.add(field, format!("{d} is too early"), format!("{d} 过早"));
                None
            }
            Ok(d) => Some(d),
            Err(_) => {
                self.add(
                    field,
                    format!("{v:?} is not a date (YYYY-MM-DD)"),
                    format!("“{v}”不是日期（YYYY-MM-DD）"),
                );
                None
            }
        }
    }

    fn int(&mut self, c: &Cells<'_>, field: &str, min: i64, max: i64) -> Option<i64> {
        let v = c.get(field);
        if v.is_empty() {
            self.add(field, "required", "必填");
            return None;
        }
        match v.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Some(n),
            Ok(n) if n < 0 => {
                self.add(field, format!("{n} is negative"), format!("{n} 为负数"));
                None
            }
            Ok(n) => {
                self.add(
                    field,
                    format!("{n} is outside {min}–{max}"),
                    format!("{n} 不在 {min}–{max} 之间"),
                );
                None
            }
            Err(_) => {
                self.add(
                    field,
                    format!("{v:?} is not a whole number"),
                    format!("“{v}”不是整数"),
                );
                None
            }
        }
    }

    fn age(&mut self, c: &Cells<'_>) -> Option<f64> {
        let v = c.get("age");
        if v.is_empty() {
            return None;
        }
        match v.parse::<f64>() {
            Ok(a) if (0.0..=130.0).contains(&a) => Some(a),
            Ok(a) => {
                self.add(
                    "age",
                    format!("{a} is outside 0–130 years"),
                    format!("{a} 不在 0–130 岁之间"),
                );
                None
            }
            Err(_) => {
                self.add(
                    "age",
                    format!("{v:?} is not a number of years"),
                    format!("“{v}”不是年龄（岁）"),
                );
                None
            }
        }
    }

    fn sex(&mut self, c: &Cells<'_>) -> Option<&'static str> {
        let v = c.get("sex");
        if v.is_empty() || v.eq_ignore_ascii_case("u") || v == "未知" {
            return None;
        }
        match Sex::parse(v) {
            Some(s) => Some(s.as_str()),
            None => {
                self.add(
                    "sex",
                    format!("{v:?} is not M, F or U"),
                    format!("“{v}”不是男、女或未知"),
                );
                None
            }
        }
    }

    fn community(&mut self, ctx: &FeedContext<'_>, c: &Cells<'_>, field: &str) -> String {
        let v = self.text(c, field, 40);
        if !v.is_empty() && !ctx.refs.communities.contains(&v) {
            self.add(
                field,
                format!("{v} is not a registered community"),
                format!("{v} 不是已登记的社区"),
            );
        }
        v
    }

    /// The sending institution: registered, of one of `kinds`, and in the caller's scope.
    /// Returns its code and community.
    fn sender(
        &mut self,
        ctx: &FeedContext<'_>,
        c: &Cells<'_>,
        field: &str,
        kinds: &[InstitutionKind],
    ) -> Option<(String, String)> {
        let code = self.text(c, field, 40);
        if code.is_empty() {
            return None;
        }
        // Whether the code is registered at all is said only of institutions in scope.
        let scope = ctx.caller.scope();
        let found =
            ctx.refs
                .institutions
                .get(&code)
                .filter(|(_, community)| match &scope.institution {
                    Some(own) => *own == code,
                    None => scope.contains_unit(community),
                });
        let Some((kind, community)) = found else {
            self.add(
                field,
                format!("{code} is not an institution this account may report for"),
                format!("{code} 不是本账号可报告的机构"),
            );
            return None;
        };
        if !kinds.contains(kind) {
            let expected: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            let expected_zh: Vec<&str> = kinds.iter().map(|k| k.label_zh()).collect();
            self.add(
                field,
                format!("{code} is a {kind}, not a {}", expected.join(" or ")),
                format!(
                    "{code} 是{}，不是{}",
                    kind.label_zh(),
                    expected_zh.join("或")
                ),
            );
            return None;
        }
        Some((code, community.clone()))
    }

    fn one_of(
        &mut self,
        c: &Cells<'_>,
        field: &str,
        list: &[(&'static str, &'static str)],
        required: bool,
    ) -> Option<&'static str> {
        let v = c.get(field);
        if v.is_empty() {
            if required {
                self.add(field, "required", "必填");
            }
            return None;
        }
        let found = list
            .iter()
            .find(|(code, zh)| code.eq_ignore_ascii_case(v) || *zh == v)
            .map(|(code, _)| *code);
        if found.is_none() {
            let codes: Vec<&str> = list.iter().map(|(c, _)| *c).collect();
            let names: Vec<&str> = list.iter().map(|(_, z)| *z).collect();
            self.add(
                field,
                format!("{v:?} is not one of {}", codes.join("|")),
                format!("“{v}”不是{}之一", names.join("、")),
            );
        }
        found
    }
}

/// Parses a visit time: `YYYY-MM-DD HH:MM[:SS]`, the same with `T`, RFC 3339 with an offset
/// (converted to China Standard Time, UTC+8), or a date alone.
fn parse_time(v: &str) -> Option<NaiveDateTime> {
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        let cst = FixedOffset::east_opt(8 * 3600)?;
        return Some(t.with_timezone(&cst).naive_local());
    }
    for f in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(v, f) {
            return Some(t);
        }
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_time(NaiveTime::MIN))
}

fn contrib(parts: &[(String, i64)]) -> String {
    let mut parts: Vec<&(String, i64)> = parts.iter().filter(|(_, v)| *v != 0).collect();
    parts.sort();
    parts
        .iter()
        .map(|(c, v)| format!("{c}={v}"))
        .collect::<Vec<_>>()
        .join("|")
}

/// What a feed's own fields give: sender, day, community, contributions, denominator, fields.
type Parsed = (
    String,
    Option<NaiveDate>,
    String,
    Vec<(String, i64)>,
    i64,
    Map<String, Value>,
);

/// Reads one record of `kind` from its cells (in the order of [`FeedKind::columns`]) and
/// checks it; the record to store, or every field at fault.
pub fn parse_record(
    kind: FeedKind,
    values: &[&str],
    ctx: &FeedContext<'_>,
) -> Result<FeedRecord, Vec<FieldError>> {
    let c = Cells {
        columns: kind.columns(),
        values,
    };
    let mut f = Faults::default();
    for (col, v) in kind.columns().iter().zip(values) {
        if v.chars().any(|ch| ch.is_control() && ch != '\t') {
            f.add(col, "contains a control character", "含有控制字符");
        }
    }
    if !f.0.is_empty() {
        return Err(f.0);
    }
    let record_id = f.text(&c, "record_id", 64);
    let today = ctx.today;
    let mut version = String::new();
    let (source, day, community, parts, denom, fields): Parsed = match kind {
        FeedKind::Visits => {
            use InstitutionKind as K;
            let sender = f.sender(
                ctx,
                &c,
                "institution_code",
                &[K::Hospital, K::Chc, K::Chs, K::Clinic, K::Mch],
            );
            let raw_time = c.get("visit_time");
            let time = if raw_time.is_empty() {
                f.add("visit_time", "required", "必填");
                None
            } else {
                match parse_time(raw_time) {
                    Some(t) if t.year() < 1900 => {
                        f.add(
                            "visit_time",
                            format!("{t} is too early"),
                            format!("{t} 过早"),
                        );
                        None
                    }
                    Some(t) if t.date() > today => {
                        f.add(
                            "visit_time",
                            format!("{t} is in the future"),
                            format!("{t} 是将来的时间"),
                        );
                        None
                    }
                    Some(t) => Some(t),
                    None => {
                        f.add(
                            "visit_time",
                            format!("{raw_time:?} is not a time (YYYY-MM-DD HH:MM)"),
                            format!("“{raw_time}”不是时间（YYYY-MM-DD HH:MM）"),
                        );
                        None
                    }
                }
            };
            let community = f.community(ctx, &c, "community_code");
            let age = f.age(&c);
            let sex = f.sex(&c);
            let complaint = f.optional_text(&c, "chief_complaint", 500);
            let codes = c.get("diagnosis_codes");
            if codes.len() > 200 {
                f.add(
                    "diagnosis_codes",
                    "longer than 200 characters",
                    "超过 200 个字符",
                );
            }
            for code in codes.split('|').map(str::trim).filter(|x| !x.is_empty()) {
                if IcdCode::parse(code).is_none() {
                    f.add(
                        "diagnosis_codes",
                        format!("{code:?} is not an ICD-10 code"),
                        format!("“{code}”不是 ICD-10 编码"),
                    );
                }
            }
            let temp = c.get("temperature");
            let temperature = if temp.is_empty() {
                None
            } else {
                match temp.parse::<f64>() {
                    Ok(t) if (30.0..=45.0).contains(&t) => Some(t),
                    Ok(t) => {
                        f.add(
                            "temperature",
                            format!("{t} °C is outside 30–45 °C"),
                            format!("{t} °C 不在 30–45 °C 之间"),
                        );
                        None
                    }
                    Err(_) => {
                        f.add(
                            "temperature",
                            format!("{temp:?} is not a temperature in °C"),
                            format!("“{temp}”不是摄氏温度"),
                        );
                        None
                    }
                }
            };
            let classified = ctx.rules.dictionary.classify(&Visit {
                chief_complaint: &complaint,
                diagnosis_codes: codes,
                temperature,
            });
            version = ctx.rules.dictionary.version().to_owned();
            let parts = classified
                .syndromes
                .iter()
                .map(|s| (s.as_str().to_owned(), 1))
                .collect();
            let fields = json!({
                "visit_time": time.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()),
                "age": age,
                "sex": sex,
                "chief_complaint": complaint,
                "diagnosis_codes": codes,
                "temperature": temperature,
                "syndromes": classified.syndromes.to_string(),
                "reasons": classified.reasons.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
            });
            (
                sender.map(|s| s.0).unwrap_or_default(),
                time.map(|t| t.date()),
                community,
                parts,
                1,
                fields.as_object().cloned().unwrap_or_default(),
            )
        }
        FeedKind::Cases => {
            let code = c.get("disease_code");
            let disease = if code.is_empty() {
                f.add("disease_code", "required", "必填");
                None
            } else {
                let d = ctx.rules.diseases.get(code);
                if d.is_none() {
                    f.add(
                        "disease_code",
                        format!("{code:?} is not a notifiable disease's code"),
                        format!("“{code}”不是法定传染病编码"),
                    );
                }
                d
            };
            let onset = f.date(&c, "onset_date", today);
            let diagnosed = f.date(&c, "diagnosis_date", today);
            let reported = f.date(&c, "report_date", today);
            if let (Some(o), Some(d)) = (onset, diagnosed)
                && d < o
            {
                f.add(
                    "diagnosis_date",
                    format!("{d} is before the onset, {o}"),
                    format!("{d} 早于发病日期 {o}"),
                );
            }
            if let (Some(d), Some(r)) = (diagnosed, reported)
                && r < d
            {
                f.add(
                    "report_date",
                    format!("{r} is before the diagnosis, {d}"),
                    format!("{r} 早于诊断日期 {d}"),
                );
            }
            let community = f.community(ctx, &c, "community_code");
            if !community.is_empty() && !ctx.caller.scope().contains_unit(&community) {
                f.add(
                    "community_code",
                    format!("{community} is outside what this account may report for"),
                    format!("{community} 不在本账号可报告的范围内"),
                );
            }
            let class = f.one_of(&c, "classification", CASE_CLASSES, true);
            // An institution reports cases only if it diagnoses them.
            let reporter = ctx.caller.scope().institution.clone();
            if let Some(own) = &reporter {
                use InstitutionKind as K;
                let medical = ctx.refs.institutions.get(own).is_some_and(|(k, _)| {
                    matches!(
                        k,
                        K::Hospital | K::Chc | K::Chs | K::Clinic | K::Mch | K::Cdc
                    )
                });
                if !medical {
                    f.add(
                        "record_id",
                        format!("{own} does not report notifiable diseases"),
                        format!("{own} 不是传染病报告单位"),
                    );
                }
            }
            let age = f.age(&c);
            let sex = f.sex(&c);
            let code = disease.map(|d| d.code.clone()).unwrap_or_default();
            let fields = json!({
                "disease_code": code,
                "onset_date": onset,
                "diagnosis_date": diagnosed,
                "report_date": reported,
                "classification": class,
                "age": age,
                "sex": sex,
                "reported_by": reporter,
            });
            // Streams count cases on the day they were reported (what the system knows
            // when it runs); the line list and the epidemic curve show the onset.
            (
                String::new(),
                reported,
                community,
                vec![(code, 1)],
                1,
                fields.as_object().cloned().unwrap_or_default(),
            )
        }
        FeedKind::PharmacySales => {
            let sender = f.sender(ctx, &c, "pharmacy_code", &[InstitutionKind::Pharmacy]);
            let day = f.date(&c, "date", today);
            let category = f.one_of(&c, "drug_category", DRUG_CATEGORIES, true);
            let quantity = f.int(&c, "quantity", 0, 1_000_000);
            let (source, community) = sender.unwrap_or_default();
            let q = quantity.unwrap_or(0);
            let fields = json!({ "date": day, "drug_category": category, "quantity": quantity });
            (
                source,
                day,
                community,
                vec![(category.unwrap_or_default().to_owned(), q)],
                q,
                fields.as_object().cloned().unwrap_or_default(),
            )
        }
        FeedKind::Absenteeism => {
            use InstitutionKind as K;
            let sender = f.sender(ctx, &c, "school_code", &[K::School, K::Kindergarten]);
            let day = f.date(&c, "date", today);
            let enrolled = f.int(&c, "enrolled", 1, 1_000_000);
            let absent = f.int(&c, "absent", 0, 1_000_000);
            let ill = f.int(&c, "absent_ill", 0, 1_000_000);
            if let (Some(e), Some(a)) = (enrolled, absent)
                && a > e
            {
                f.add(
                    "absent",
                    format!("{a} absent of {e} enrolled"),
                    format!("缺勤 {a} 人多于在册 {e} 人"),
                );
            }
            if let (Some(a), Some(i)) = (absent, ill)
                && i > a
            {
                f.add(
                    "absent_ill",
                    format!("{i} absent ill of {a} absent"),
                    format!("因病缺勤 {i} 人多于缺勤 {a} 人"),
                );
            }
            let symptom = f.one_of(&c, "symptom", ABSENCE_SYMPTOMS, false);
            let (source, community) = sender.unwrap_or_default();
            let (a, i) = (absent.unwrap_or(0), ill.unwrap_or(0));
            let mut parts = vec![("absent".to_owned(), a), ("ill".to_owned(), i)];
            if let Some(s) = symptom {
                parts.push((format!("ill-{s}"), i));
            }
            let fields = json!({
                "date": day, "enrolled": enrolled, "absent": absent, "absent_ill": ill, "symptom": symptom,
            });
            (
                source,
                day,
                community,
                parts,
                enrolled.unwrap_or(0),
                fields.as_object().cloned().unwrap_or_default(),
            )
        }
        FeedKind::LabResults => {
            use InstitutionKind as K;
            let sender = f.sender(ctx, &c, "lab_code", &[K::Hospital, K::Cdc, K::Mch]);
            let day = f.date(&c, "sample_date", today);
            let raw = f.text(&c, "pathogen", 64);
            let pathogen = raw.to_ascii_lowercase().replace([' ', '_'], "-");
            if !pathogen.is_empty()
                && !pathogen
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '.')
            {
                f.add(
                    "pathogen",
                    format!("{raw:?} is not a pathogen code (letters, digits, - and .)"),
                    format!("“{raw}”不是病原体编码（字母、数字、- 和 .）"),
                );
            }
            let tested = f.int(&c, "tested", 1, 1_000_000);
            let positive = f.int(&c, "positive", 0, 1_000_000);
            if let (Some(t), Some(p)) = (tested, positive)
                && p > t
            {
                f.add(
                    "positive",
                    format!("{p} positive of {t} tested"),
                    format!("阳性 {p} 份多于检测 {t} 份"),
                );
            }
            let community = f.community(ctx, &c, "community_code");
            let (t, p) = (tested.unwrap_or(0), positive.unwrap_or(0));
            let fields = json!({
                "sample_date": day, "pathogen": pathogen, "tested": tested, "positive": positive,
            });
            (
                sender.map(|s| s.0).unwrap_or_default(),
                day,
                community,
                vec![(pathogen.clone(), p), (format!("tested:{pathogen}"), t)],
                t,
                fields.as_object().cloned().unwrap_or_default(),
            )
        }
    };
    if !f.0.is_empty() {
        return Err(f.0);
    }
    let Some(day) = day else {
        return Err(vec![FieldError::new("record", "no date")]);
    };
    Ok(FeedRecord {
        source_code: source,
        record_id,
        day,
        community_code: community,
        contrib: contrib(&parts),
        denom,
        fields: Value::Object(fields),
        version,
    })
}

/// Re-derives the syndromes of a stored visit under `dictionary`, from the complaint, codes
/// and temperature it was received with.
fn reclassified(dictionary: &Dictionary, mut rec: FeedRecord) -> FeedRecord {
    let text = |k: &str| {
        rec.fields
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let (complaint, codes) = (text("chief_complaint"), text("diagnosis_codes"));
    let temperature = rec.fields.get("temperature").and_then(Value::as_f64);
    let c = dictionary.classify(&Visit {
        chief_complaint: &complaint,
        diagnosis_codes: &codes,
        temperature,
    });
    let parts: Vec<(String, i64)> = c
        .syndromes
        .iter()
        .map(|s| (s.as_str().to_owned(), 1))
        .collect();
    rec.contrib = contrib(&parts);
    if let Some(fields) = rec.fields.as_object_mut() {
        fields.insert("syndromes".into(), Value::String(c.syndromes.to_string()));
        fields.insert(
            "reasons".into(),
            Value::Array(
                c.reasons
                    .iter()
                    .map(|r| Value::String(r.to_string()))
                    .collect(),
            ),
        );
    }
    rec.version = dictionary.version().to_owned();
    rec
}

/// What re-classifying did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Reclassified {
    /// Visits classified under another dictionary version, read again.
    pub read: u64,
    /// Of those, visits whose syndromes changed (their counts moved with them).
    pub changed: u64,
    /// Visits corrected by their sender while this run read them: left as the sender
    /// wrote them (another run re-classifies them if their version is still old).
    pub skipped: u64,
}

/// Re-classifies every stored visit whose dictionary version is not `dictionary`'s, in
/// batches of `batch_size`, moving the counts of those whose syndromes change. Audited.
pub async fn reclassify(
    store: &Store,
    caller: &Caller,
    dictionary: &Dictionary,
    batch_size: usize,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<Reclassified, AppError> {
    caller.require(Permission::ReportSurveillance)?;
    if !caller.scope().is_city() {
        return Err(AppError::Forbidden(
            "re-classifying history is a city-wide task".into(),
        ));
    }
    let feed = FeedKind::Visits.as_str();
    let mut done = Reclassified::default();
    let mut after = 0;
    loop {
        let page = store
            .feed_records_not_of(feed, dictionary.version(), after, batch_size.max(1) as i64)
            .await?;
        let Some(last) = page.last().map(|(id, _)| *id) else {
            break;
        };
        after = last;
        let mut records = Vec::with_capacity(page.len());
        let mut expected = std::collections::HashMap::with_capacity(page.len());
        let mut changed = Vec::with_capacity(page.len());
        for (_, rec) in page {
            expected.insert(
                (rec.source_code.clone(), rec.record_id.clone()),
                rec.clone(),
            );
            let old = rec.contrib.clone();
            let new = reclassified(dictionary, rec);
            changed.push(new.contrib != old);
            records.push(new);
        }
        // A record its sender corrected since it was read is not overwritten with the
        // re-classification of its old version.
        let guard = Guard {
            expected: Some(expected),
            ..Guard::default()
        };
        let outcome = store.upsert_feed_guarded(feed, &records, &guard).await?;
        done.read += records.len() as u64;
        done.skipped += outcome.refused.len() as u64;
        done.changed += changed
            .iter()
            .enumerate()
            .filter(|(i, c)| **c && !outcome.refused.contains(i))
            .count() as u64;
        progress(done.read);
    }
    caller
        .record(
            store,
            Event::new("update", "feed").detail(format!(
                "visits re-classified under {}: {} read, {} changed, {} corrected meanwhile and left",
                dictionary.version(),
                done.read,
                done.changed,
                done.skipped
            )),
        )
        .await?;
    Ok(done)
}

/// A record that was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// The line in the file (the header is line 1), or the position in an API batch (from 1).
    pub line: u64,
    /// The sender's record id, if it could be read.
    pub record_id: Option<String>,
    /// Every field at fault.
    pub errors: Vec<FieldError>,
}

/// What a feed import or batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FeedReport {
    /// Records read.
    pub received: u64,
    /// New records stored.
    pub inserted: u64,
    /// Stored records that changed.
    pub updated: u64,
    /// Records re-sent unchanged.
    pub unchanged: u64,
    /// Refused records, each with its faults.
    pub rejected: Vec<Rejected>,
}

impl FeedReport {
    /// Adds a batch's outcome; `meta` holds each written record's line and record id.
    fn add(&mut self, o: FeedOutcome, meta: &[(u64, String)]) {
        self.inserted += o.inserted;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
        for i in o.refused {
            let (line, id) = meta.get(i).cloned().unwrap_or_default();
            self.rejected.push(Rejected {
                line,
                record_id: Some(id),
                errors: vec![
                    FieldError::new(
                        "record_id",
                        "a record with this id is stored outside what this account may change",
                    )
                    .with_zh("同编号的记录不在本账号可修改的范围内"),
                ],
            });
        }
    }
}

/// What a caller's batch of `kind` may change among stored records. Only cases need a
/// guard: every other feed's key holds its sender, which the caller was checked against.
fn guard(caller: &Caller, kind: FeedKind) -> Guard {
    let scope = caller.scope();
    if kind != FeedKind::Cases {
        return Guard::default();
    }
    Guard {
        community_prefix: scope.prefix().map(str::to_owned),
        reported_by: scope.institution.clone(),
        expected: None,
    }
}

/// The records of a batch that passed their checks, with each one's line and record id.
pub struct Checked {
    /// The records to store.
    pub records: Vec<FeedRecord>,
    /// Line and record id of each.
    pub meta: Vec<(u64, String)>,
}

/// Checks a batch of records of `kind`, each given as its cells in the order of
/// [`FeedKind::columns`] with its line (or position): the records to store; refused ones go
/// to `report`.
pub fn check_batch(
    ctx: &FeedContext<'_>,
    kind: FeedKind,
    rows: &[(u64, Vec<&str>)],
    report: &mut FeedReport,
) -> Checked {
    let mut records = Vec::with_capacity(rows.len());
    let mut meta = Vec::with_capacity(rows.len());
    for (line, values) in rows {
        report.received += 1;
        match parse_record(kind, values, ctx) {
            Ok(r) => {
                meta.push((*line, r.record_id.clone()));
                records.push(r);
            }
            Err(errors) => {
                let id = values.first().map(|v| v.trim()).filter(|v| !v.is_empty());
                report.rejected.push(Rejected {
                    line: *line,
                    record_id: id.map(str::to_owned),
                    errors,
                });
            }
        }
    }
    Checked { records, meta }
}

/// Checks and stores a batch (see [`check_batch`]); the accepted records in one transaction.
pub async fn ingest(
    store: &Store,
    ctx: &FeedContext<'_>,
    kind: FeedKind,
    rows: &[(u64, Vec<&str>)],
    report: &mut FeedReport,
) -> Result<(), AppError> {
    let Checked { records, meta } = check_batch(ctx, kind, rows, report);
    if !records.is_empty() {
        let outcome = store
            .upsert_feed_guarded(kind.as_str(), &records, &guard(ctx.caller, kind))
            .await?;
        report.add(outcome, &meta);
    }
    Ok(())
}

/// Accepts an API batch: JSON objects with the feed's columns as keys (numbers may be JSON
/// numbers), at most `max` of them. Audited as one event.
pub async fn receive_batch(
    store: &Store,
    caller: &Caller,
    rules: &FeedRules,
    kind: FeedKind,
    batch: &[Value],
    today: NaiveDate,
) -> Result<FeedReport, AppError> {
    caller.require(Permission::ReportSurveillance)?;
    let refs = FeedRefs::load(store).await?;
    let ctx = FeedContext {
        rules,
        refs: &refs,
        caller,
        today,
    };
    let mut report = FeedReport::default();
    // Elements that are not records, or that carry a key the feed does not have (a
    // misspelt `temprature` would otherwise just be missing), are refused by position.
    let mut owned: Vec<(u64, Vec<String>)> = Vec::with_capacity(batch.len());
    for (i, element) in batch.iter().enumerate() {
        let line = i as u64 + 1;
        let Some(obj) = element.as_object() else {
            report.received += 1;
            report.rejected.push(Rejected {
                line,
                record_id: None,
                errors: vec![
                    FieldError::new("record", "not a JSON object").with_zh("不是 JSON 对象"),
                ],
            });
            continue;
        };
        let unknown: Vec<FieldError> = obj
            .keys()
            .filter(|k| !kind.columns().contains(&k.as_str()))
            .map(|k| {
                FieldError::new(k, format!("not a field of {}", kind.as_str()))
                    .with_zh(format!("不是{}的字段", kind.describe().0))
            })
            .collect();
        if !unknown.is_empty() {
            report.received += 1;
            report.rejected.push(Rejected {
                line,
                record_id: obj
                    .get("record_id")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                errors: unknown,
            });
            continue;
        }
        let cells = kind
            .columns()
            .iter()
            .map(|col| match obj.get(*col) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            })
            .collect();
        owned.push((line, cells));
    }
    let rows: Vec<(u64, Vec<&str>)> = owned
        .iter()
        .map(|(line, cells)| (*line, cells.iter().map(String::as_str).collect()))
        .collect();
    ingest(store, &ctx, kind, &rows, &mut report).await?;
    report.rejected.sort_by_key(|r| r.line);
    record_event(store, caller, kind, &report, "api").await?;
    Ok(report)
}

async fn record_event(
    store: &Store,
    caller: &Caller,
    kind: FeedKind,
    report: &FeedReport,
    via: &str,
) -> Result<(), AppError> {
    caller
        .record(
            store,
            Event::new("import", "feed").detail(format!(
                "{} via {via}: {} received, {} new, {} changed, {} unchanged, {} refused",
                kind.as_str(),
                report.received,
                report.inserted,
                report.updated,
                report.unchanged,
                report.rejected.len()
            )),
        )
        .await?;
    Ok(())
}

/// A fault that stops a feed file from being read at all.
#[derive(Debug, thiserror::Error)]
pub enum FeedFileError {
    /// The CSV could not be read.
    #[error("line {line}: {source}")]
    Csv {
        /// Where reading stopped.
        line: u64,
        /// Why.
        source: csv::Error,
    },
    /// The header lacks a column of the feed.
    #[error("the header has no `{0}` column (a {1} file needs: {2})")]
    MissingColumn(&'static str, &'static str, String),
    /// Storing failed.
    #[error(transparent)]
    App(#[from] AppError),
}

/// Records that a file import stopped, with what it had committed; returns `e` to pass on.
async fn failed(
    store: &Store,
    caller: &Caller,
    kind: FeedKind,
    report: FeedReport,
    e: AppError,
) -> FeedFileError {
    let event = Event::new("import", "feed").outcome("failed").detail(format!(
        "{} via file stopped ({e}); committed before: {} new, {} changed, {} unchanged, {} refused",
        kind.as_str(),
        report.inserted,
        report.updated,
        report.unchanged,
        report.rejected.len()
    ));
    if let Err(audit) = caller.record(store, event).await {
        return FeedFileError::App(audit);
    }
    FeedFileError::App(e)
}

/// The outcome of a spawned batch write.
fn joined(
    r: Result<hc_store::Result<FeedOutcome>, tokio::task::JoinError>,
) -> Result<FeedOutcome, AppError> {
    match r {
        Ok(outcome) => Ok(outcome?),
        Err(e) => Err(AppError::Internal(format!("a batch write stopped: {e}"))),
    }
}

/// How a feed file is read.
#[derive(Debug, Clone, Copy)]
pub struct FileOptions {
    /// Records dated after this day are refused.
    pub today: NaiveDate,
    /// Records per transaction.
    pub batch_size: usize,
}

/// Imports a CSV file of `kind` in batches; refused records are reported, the others stored.
/// Audited as one event. `progress` gets the records read so far after each batch.
pub async fn import_file<R: Read>(
    store: &Store,
    caller: &Caller,
    rules: &FeedRules,
    kind: FeedKind,
    reader: R,
    opts: FileOptions,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<FeedReport, FeedFileError> {
    let FileOptions { today, batch_size } = opts;
    caller.require(Permission::ReportSurveillance)?;
    let refs = FeedRefs::load(store).await?;
    let ctx = FeedContext {
        rules,
        refs: &refs,
        caller,
        today,
    };
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let header = csv
        .headers()
        .map_err(|source| FeedFileError::Csv { line: 1, source })?
        .clone();
    let mut index = Vec::new();
    for col in kind.columns() {
        let i = header
            .iter()
            .position(|h| h.trim() == *col)
            .ok_or_else(|| {
                FeedFileError::MissingColumn(col, kind.as_str(), kind.columns().join(","))
            })?;
        index.push(i);
    }
    let mut report = FeedReport::default();
    type Writing = (
        tokio::task::JoinHandle<hc_store::Result<FeedOutcome>>,
        Vec<(u64, String)>,
    );
    let mut writing: Option<Writing> = None;
    let mut batch: Vec<(u64, csv::StringRecord)> = Vec::with_capacity(batch_size);
    let mut record = csv::StringRecord::new();
    let mut line = 1;
    loop {
        let more = match csv.read_record(&mut record) {
            Ok(more) => more,
            Err(source) => {
                // What was written before stays written (and audited); the caller learns
                // where reading stopped.
                if let Some((w, meta)) = writing.take()
                    && let Ok(outcome) = joined(w.await)
                {
                    report.add(outcome, &meta);
                }
                let e = FeedFileError::Csv {
                    line: line + 1,
                    source,
                };
                let detail = AppError::Internal(e.to_string());
                let _ = failed(store, caller, kind, report, detail).await;
                return Err(e);
            }
        };
        if more {
            line = record.position().map_or(line + 1, |p| p.line());
            if record.len() == header.len() {
                batch.push((line, std::mem::take(&mut record)));
            } else {
                report.received += 1;
                report.rejected.push(Rejected {
                    line,
                    record_id: record.get(index[0]).map(|v| v.trim().to_owned()),
                    errors: vec![
                        FieldError::new(
                            "record",
                            format!("{} cells, the header has {}", record.len(), header.len()),
                        )
                        .with_zh(format!(
                            "有 {} 列，表头有 {} 列",
                            record.len(),
                            header.len()
                        )),
                    ],
                });
            }
        }
        if batch.len() >= batch_size.max(1) || (!more && !batch.is_empty()) {
            let rows: Vec<(u64, Vec<&str>)> = batch
                .iter()
                .map(|(l, r)| (*l, index.iter().map(|&i| r.get(i).unwrap_or("")).collect()))
                .collect();
            // Check this batch while the previous one is written.
            let Checked { records, meta } = check_batch(&ctx, kind, &rows, &mut report);
            if let Some((w, meta)) = writing.take() {
                let outcome = joined(w.await);
                if let Err(e) = outcome {
                    return Err(failed(store, caller, kind, report, e).await);
                }
                report.add(outcome?, &meta);
            }
            if !records.is_empty() {
                let store = store.clone();
                let guard = guard(caller, kind);
                let task = tokio::spawn(async move {
                    store
                        .upsert_feed_guarded(kind.as_str(), &records, &guard)
                        .await
                });
                writing = Some((task, meta));
            }
            batch.clear();
            progress(report.received);
        }
        if !more {
            break;
        }
    }
    if let Some((w, meta)) = writing.take() {
        match joined(w.await) {
            Ok(outcome) => report.add(outcome, &meta),
            Err(e) => return Err(failed(store, caller, kind, report, e).await),
        }
    }
    report.rejected.sort_by_key(|r| r.line);
    record_event(store, caller, kind, &report, "file").await?;
    Ok(report)
}
