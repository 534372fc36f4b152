//! Field-level parsing and validation of registry records.
//!
//! Parsing never panics and never stops at the first problem: each function returns the
//! record or every [`FieldError`] it found, so an import can report all of a row's faults.
//! References to other records (does this community exist?) are checked by the caller,
//! which knows the registry; everything that depends on the record alone is checked here.

use chrono::NaiveDate;

use crate::idcard;
use crate::model::*;

/// A problem with one field of one record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The field (CSV column / JSON property) at fault.
    pub field: String,
    /// What is wrong, in plain words.
    pub message: String,
    /// What is wrong in Chinese, when the producer knows it (shown on Chinese pages instead of
    /// `message`); never serialised, so the API keeps the English `message`.
    #[serde(skip)]
    pub zh: Option<String>,
}

impl FieldError {
    /// A new error for `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
            zh: None,
        }
    }

    /// The error, with `zh` as its Chinese message.
    pub fn with_zh(mut self, zh: impl Into<String>) -> Self {
        self.zh = Some(zh.into());
        self
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Named text fields of one input record (a CSV row, a form).
pub trait Fields {
    /// The trimmed value of `name`; `None` when the field is missing or empty.
    fn get(&self, name: &str) -> Option<&str>;
}

impl Fields for std::collections::HashMap<String, String> {
    fn get(&self, name: &str) -> Option<&str> {
        std::collections::HashMap::get(self, name)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }
}

impl Fields for [(&str, &str)] {
    fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.trim())
            .filter(|s| !s.is_empty())
    }
}

/// Collects field errors while a record is parsed.
#[derive(Default)]
struct Errs(Vec<FieldError>);

impl Errs {
    fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    fn required<'a>(&mut self, f: &'a (impl Fields + ?Sized), name: &str) -> Option<&'a str> {
        let v = f.get(name);
        if v.is_none() {
            self.push(name, "is required");
        }
        v
    }

    fn coded<T>(
        &mut self,
        name: &str,
        v: Option<&str>,
        parse: fn(&str) -> Option<T>,
        expected: fn() -> String,
    ) -> Option<T> {
        let v = v?;
        let parsed = parse(v);
        if parsed.is_none() {
            self.push(
                name,
                format!("unknown value {v:?}; expected {}", expected()),
            );
        }
        parsed
    }

    fn date(&mut self, name: &str, v: Option<&str>) -> Option<NaiveDate> {
        let v = v?;
        let d = NaiveDate::parse_from_str(v, "%Y-%m-%d").ok();
        if d.is_none() {
            self.push(name, format!("{v:?} is not a date in YYYY-MM-DD form"));
        }
        d
    }

    fn count(&mut self, name: &str, v: Option<&str>) -> u32 {
        let Some(v) = v else { return 0 };
        match v.parse::<u32>() {
            Ok(n) if n <= 1_000_000 => n,
            _ => {
                self.push(
                    name,
                    format!("{v:?} is not a whole number between 0 and 1000000"),
                );
                0
            }
        }
    }

    fn finish<T>(self, value: Option<T>) -> Result<T, Vec<FieldError>> {
        match value {
            Some(v) if self.0.is_empty() => Ok(v),
            _ => Err(self.0),
        }
    }
}

const MAX_NAME: usize = 100;
const MAX_CODE: usize = 32;
const MAX_LICENCE: usize = 64;

fn check_text(errs: &mut Errs, field: &str, value: &str, max: usize) {
    if value.chars().count() > max {
        errs.push(field, format!("is longer than {max} characters"));
    }
    if value.chars().any(char::is_control) {
        errs.push(field, "contains control characters");
    }
}

fn check_code(errs: &mut Errs, field: &str, value: &str) {
    if value.is_empty()
        || value.len() > MAX_CODE
        || !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        errs.push(
            field,
            format!("{value:?} is not a code of 1-{MAX_CODE} letters, digits or '-'"),
        );
    }
}

/// Whether `code` is shaped like a code of `level`: 6 digits for a city (ending in `00`) or a
/// district, 9 for a street, 12 for a community.
pub fn org_code_fits_level(code: &str, level: OrgLevel) -> bool {
    let digits = code.bytes().all(|b| b.is_ascii_digit());
    digits
        && match level {
            OrgLevel::City => code.len() == 6 && code.ends_with("00") && !code.ends_with("0000"),
            OrgLevel::District => code.len() == 6 && !code.ends_with("00"),
            OrgLevel::Street => code.len() == 9,
            OrgLevel::Community => code.len() == 12,
        }
}

/// The level a parent of `level` must have; `None` for a city.
pub fn parent_level(level: OrgLevel) -> Option<OrgLevel> {
    match level {
        OrgLevel::City => None,
        OrgLevel::District => Some(OrgLevel::City),
        OrgLevel::Street => Some(OrgLevel::District),
        OrgLevel::Community => Some(OrgLevel::Street),
    }
}

/// The prefix every code in the subtree of `code` starts with: a province's first 2 digits,
/// a city's first 4 (its districts are `4403xx`), otherwise the code itself.
pub fn subtree_prefix(code: &str) -> &str {
    let digits6 = code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit());
    if digits6 && code.ends_with("0000") {
        &code[..2]
    } else if digits6 && code.ends_with("00") {
        &code[..4]
    } else {
        code
    }
}

/// Whether `code` lies under `parent` by the hierarchical structure of the codes
/// (a district shares its city's first 4 digits, a street starts with its district's code, a
/// community with its street's).
pub fn org_code_under(code: &str, parent: &str, level: OrgLevel) -> bool {
    match level {
        OrgLevel::City => {
            parent.len() == 6
                && parent.bytes().all(|b| b.is_ascii_digit())
                && parent.ends_with("0000")
                && code.get(..2) == parent.get(..2)
        }
        OrgLevel::District => code.get(..4) == parent.get(..4),
        OrgLevel::Street | OrgLevel::Community => code.starts_with(parent),
    }
}

/// Checks what an org unit must satisfy on its own.
pub fn validate_orgunit(u: &OrgUnit) -> Vec<FieldError> {
    let mut e = Errs::default();
    check_text(&mut e, "name", &u.name, MAX_NAME);
    if !org_code_fits_level(&u.code, u.level) {
        let shape = match u.level {
            OrgLevel::City => "6 digits ending in 00",
            OrgLevel::District => "6 digits not ending in 00",
            OrgLevel::Street => "9 digits",
            OrgLevel::Community => "12 digits",
        };
        e.push(
            "code",
            format!("{:?} is not a {} code ({shape})", u.code, u.level),
        );
    }
    match (&u.parent_code, u.level) {
        (None, OrgLevel::City) => {}
        (None, _) => e.push("parent_code", "is required below city level"),
        (Some(p), level) => {
            if !org_code_under(&u.code, p, level) {
                e.push(
                    "parent_code",
                    format!("code {} does not lie under parent {p}", u.code),
                );
            }
        }
    }
    if let (Some(from), Some(to)) = (u.valid_from, u.valid_to)
        && to < from
    {
        e.push("valid_to", format!("{to} is before valid_from {from}"));
    }
    e.0
}

/// Parses and validates an org unit from text fields.
pub fn parse_orgunit(f: &(impl Fields + ?Sized)) -> Result<OrgUnit, Vec<FieldError>> {
    let mut e = Errs::default();
    let code = e.required(f, "code");
    let name = e.required(f, "name");
    let level = e.required(f, "level");
    let level = e.coded("level", level, OrgLevel::parse, OrgLevel::expected);
    let valid_from = e.date("valid_from", f.get("valid_from"));
    let valid_to = e.date("valid_to", f.get("valid_to"));
    let unit = match (code, name, level) {
        (Some(code), Some(name), Some(level)) => Some(OrgUnit {
            code: code.to_owned(),
            name: name.to_owned(),
            parent_code: f.get("parent_code").map(str::to_owned),
            level,
            valid_from,
            valid_to,
        }),
        _ => None,
    };
    if let Some(u) = &unit {
        e.0.extend(validate_orgunit(u));
    }
    e.finish(unit)
}

/// Checks what an institution must satisfy on its own.
pub fn validate_institution(i: &Institution) -> Vec<FieldError> {
    let mut e = Errs::default();
    check_code(&mut e, "code", &i.code);
    check_text(&mut e, "name", &i.name, MAX_NAME);
    if i.name.trim().is_empty() {
        e.push("name", "is required");
    }
    if !org_code_fits_level(&i.community_code, OrgLevel::Community) {
        e.push(
            "community_code",
            format!("{:?} is not a community code (12 digits)", i.community_code),
        );
    }
    if let Some(g) = &i.group_code {
        check_code(&mut e, "group_code", g);
    }
    if let Some(l) = &i.licence_no {
        check_text(&mut e, "licence_no", l, MAX_LICENCE);
    }
    match (i.kind, i.grade) {
        (InstitutionKind::Hospital, None) => e.push("grade", "is required for a hospital"),
        (InstitutionKind::Hospital, Some(_)) | (_, None) => {}
        (kind, Some(_)) => e.push("grade", format!("applies to hospitals only, not to {kind}")),
    }
    e.0
}

/// Parses and validates an institution from text fields.
pub fn parse_institution(f: &(impl Fields + ?Sized)) -> Result<Institution, Vec<FieldError>> {
    let mut e = Errs::default();
    let code = e.required(f, "code");
    let name = e.required(f, "name");
    let kind = e.required(f, "kind");
    let kind = e.coded(
        "kind",
        kind,
        InstitutionKind::parse,
        InstitutionKind::expected,
    );
    let grade = e.coded(
        "grade",
        f.get("grade"),
        HospitalGrade::parse,
        HospitalGrade::expected,
    );
    let community = e.required(f, "community_code");
    let status = e
        .coded(
            "licence_status",
            f.get("licence_status"),
            LicenceStatus::parse,
            LicenceStatus::expected,
        )
        .unwrap_or(LicenceStatus::Valid);
    let beds = e.count("beds", f.get("beds"));
    let npr = e.count("negative_pressure_rooms", f.get("negative_pressure_rooms"));
    let fever = match f.get("fever_clinic") {
        None | Some("0") => false,
        Some("1") => true,
        Some(other) => {
            e.push("fever_clinic", format!("{other:?} is not 0 or 1"));
            false
        }
    };
    let inst = match (code, name, kind, community) {
        (Some(code), Some(name), Some(kind), Some(community)) => Some(Institution {
            code: code.to_owned(),
            name: name.to_owned(),
            kind,
            grade,
            community_code: community.to_owned(),
            group_code: f.get("group_code").map(str::to_owned),
            licence_no: f.get("licence_no").map(str::to_owned),
            licence_status: status,
            beds,
            negative_pressure_rooms: npr,
            fever_clinic: fever,
        }),
        _ => None,
    };
    if let Some(i) = &inst {
        e.0.extend(validate_institution(i));
    }
    e.finish(inst)
}

/// Checks an identity document number for its type; for a mainland ID, returns what it encodes.
pub fn check_identity(
    id_type: IdType,
    number: &str,
    today: NaiveDate,
) -> Result<Option<idcard::IdNumberFacts>, FieldError> {
    let bad = |m: String| FieldError::new("id_number", m);
    match id_type {
        IdType::ResidentId => idcard::parse(number, today)
            .map(Some)
            .map_err(|err| bad(err.to_string())),
        IdType::Passport => {
            let ok = (5..=20).contains(&number.len())
                && number
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
            if ok {
                Ok(None)
            } else {
                Err(bad(format!(
                    "{number:?} is not a passport number (5-20 letters or digits)"
                )))
            }
        }
        IdType::HkMacaoPermit => {
            let digits = number.get(1..).unwrap_or("");
            let ok = (number.starts_with('H') || number.starts_with('M'))
                && matches!(digits.len(), 8 | 10)
                && digits.bytes().all(|b| b.is_ascii_digit());
            if ok {
                Ok(None)
            } else {
                Err(bad(format!(
                    "{number:?} is not a Hong Kong/Macao permit number (H or M and 8 or 10 digits)"
                )))
            }
        }
        IdType::TaiwanPermit => {
            let ok = matches!(number.len(), 8 | 10) && number.bytes().all(|b| b.is_ascii_digit());
            if ok {
                Ok(None)
            } else {
                Err(bad(format!(
                    "{number:?} is not a Taiwan permit number (8 or 10 digits)"
                )))
            }
        }
    }
}

fn check_phone(e: &mut Errs, phone: &str) {
    let digits = phone.bytes().filter(u8::is_ascii_digit).count();
    let ok = phone
        .bytes()
        .all(|b| b.is_ascii_digit() || b" +-()".contains(&b))
        && (5..=20).contains(&digits);
    if !ok {
        e.push("phone", format!("{phone:?} is not a phone number"));
    }
}

/// Checks what a resident must satisfy on its own: the identity number for its type, and for a
/// mainland ID that the birth date and sex it encodes agree with the record.
pub fn validate_resident(r: &Resident, today: NaiveDate) -> Vec<FieldError> {
    let mut e = Errs::default();
    check_text(&mut e, "name", &r.name, MAX_NAME);
    if r.name.trim().is_empty() {
        e.push("name", "is required");
    }
    match check_identity(r.id_type, &r.id_number, today) {
        Err(err) => e.0.push(err),
        Ok(Some(facts)) => {
            if facts.birth_date != r.birth_date {
                e.push(
                    "birth_date",
                    format!(
                        "{} disagrees with the identity number, which encodes {}",
                        r.birth_date, facts.birth_date
                    ),
                );
            }
            if facts.sex != r.sex {
                e.push(
                    "sex",
                    format!(
                        "{} disagrees with the identity number, which encodes {}",
                        r.sex, facts.sex
                    ),
                );
            }
        }
        Ok(None) => {}
    }
    if r.birth_date > today {
        e.push("birth_date", format!("{} is in the future", r.birth_date));
    }
    if let Some(p) = &r.phone {
        check_phone(&mut e, p);
    }
    if !org_code_fits_level(&r.community_code, OrgLevel::Community) {
        e.push(
            "community_code",
            format!("{:?} is not a community code (12 digits)", r.community_code),
        );
    }
    e.0
}

/// Parses and validates a resident from text fields. For a mainland ID, an absent `sex` or
/// `birth_date` is taken from the number; a present one must agree with it.
pub fn parse_resident(
    f: &(impl Fields + ?Sized),
    today: NaiveDate,
) -> Result<Resident, Vec<FieldError>> {
    let mut e = Errs::default();
    let id_type = e.required(f, "id_type");
    let id_type = e.coded("id_type", id_type, IdType::parse, IdType::expected);
    let id_number = e.required(f, "id_number").map(idcard::normalize);
    let name = e.required(f, "name");
    let mut sex = e.coded("sex", f.get("sex"), Sex::parse, Sex::expected);
    let mut birth = e.date("birth_date", f.get("birth_date"));
    let residence = e
        .coded(
            "residence",
            f.get("residence"),
            Residence::parse,
            Residence::expected,
        )
        .unwrap_or(Residence::Resident);
    let community = e.required(f, "community_code");
    if let (Some(IdType::ResidentId), Some(n)) = (id_type, &id_number)
        && let Ok(facts) = idcard::parse(n, today)
    {
        sex = sex.or(f.get("sex").is_none().then_some(facts.sex));
        birth = birth.or(f.get("birth_date").is_none().then_some(facts.birth_date));
    }
    // A mainland ID supplies sex and birth date; when it is malformed, its own error says so.
    let derivable = id_type == Some(IdType::ResidentId);
    if f.get("sex").is_none() && sex.is_none() && !derivable {
        e.push("sex", "is required");
    }
    if f.get("birth_date").is_none() && birth.is_none() && !derivable {
        e.push("birth_date", "is required");
    }
    let resident = match (id_type, id_number, name, sex, birth, community) {
        (
            Some(id_type),
            Some(id_number),
            Some(name),
            Some(sex),
            Some(birth_date),
            Some(community),
        ) => Some(Resident {
            id_type,
            id_number,
            name: name.to_owned(),
            sex,
            birth_date,
            phone: f.get("phone").map(str::to_owned),
            community_code: community.to_owned(),
            residence,
        }),
        (Some(id_type), Some(id_number), ..) => {
            // Report identity faults even when other fields are missing.
            if let Err(err) = check_identity(id_type, &id_number, today) {
                e.0.push(err);
            }
            None
        }
        _ => None,
    };
    if let Some(r) = &resident {
        e.0.extend(validate_resident(r, today));
    }
    e.finish(resident)
}

/// Checks what a practitioner must satisfy on its own.
pub fn validate_practitioner(p: &Practitioner, today: NaiveDate) -> Vec<FieldError> {
    let mut e = Errs::default();
    check_text(&mut e, "name", &p.name, MAX_NAME);
    if p.name.trim().is_empty() {
        e.push("name", "is required");
    }
    if let Err(err) = check_identity(p.id_type, &p.id_number, today) {
        e.0.push(err);
    }
    check_code(&mut e, "institution_code", &p.institution_code);
    if let Some(l) = &p.licence_no {
        check_text(&mut e, "licence_no", l, MAX_LICENCE);
    }
    e.0
}

/// Parses and validates a practitioner from text fields.
pub fn parse_practitioner(
    f: &(impl Fields + ?Sized),
    today: NaiveDate,
) -> Result<Practitioner, Vec<FieldError>> {
    let mut e = Errs::default();
    let id_type = e.required(f, "id_type");
    let id_type = e.coded("id_type", id_type, IdType::parse, IdType::expected);
    let id_number = e.required(f, "id_number").map(idcard::normalize);
    let name = e.required(f, "name");
    let kind = e.required(f, "kind");
    let kind = e.coded(
        "kind",
        kind,
        PractitionerKind::parse,
        PractitionerKind::expected,
    );
    let institution = e.required(f, "institution_code");
    let p = match (id_type, id_number, name, kind, institution) {
        (Some(id_type), Some(id_number), Some(name), Some(kind), Some(inst)) => {
            Some(Practitioner {
                id_type,
                id_number,
                name: name.to_owned(),
                kind,
                institution_code: inst.to_owned(),
                licence_no: f.get("licence_no").map(str::to_owned),
            })
        }
        _ => None,
    };
    if let Some(p) = &p {
        e.0.extend(validate_practitioner(p, today));
    }
    e.finish(p)
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
    }

    /// Parses `k=v` pairs separated by spaces as a resident and renders the outcome.
    fn check_resident(input: &str, expect: Expect) {
        let pairs: Vec<(&str, &str)> = input
            .split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .collect();
        let out = match parse_resident(pairs.as_slice(), today()) {
            Ok(r) => format!(
                "ok {} {} {} {}",
                r.id_number, r.sex, r.birth_date, r.residence
            ),
            Err(errs) => errs
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        };
        expect.assert_eq(&out);
    }

    #[test]
    fn resident_takes_sex_and_birth_from_the_id() {
        check_resident(
            "id_type=resident_id id_number=11010519491231002x name=王芳 community_code=440305001001",
            expect!["ok 11010519491231002X F 1949-12-31 resident"],
        );
    }

    #[test]
    fn resident_disagreeing_with_the_id_names_each_field() {
        check_resident(
            "id_type=resident_id id_number=11010519491231002X name=王芳 sex=M birth_date=1950-01-01 community_code=440305001001",
            expect![[r#"
                birth_date: 1950-01-01 disagrees with the identity number, which encodes 1949-12-31
                sex: M disagrees with the identity number, which encodes F"#]],
        );
    }

    #[test]
    fn resident_errors_are_all_reported() {
        check_resident(
            "id_type=resident_id id_number=110105194912310021 sex=Q birth_date=1949-13-01 community_code=4403",
            expect![[r#"
                name: is required
                sex: unknown value "Q"; expected M|F
                birth_date: "1949-13-01" is not a date in YYYY-MM-DD form
                id_number: check digit is 1, expected X"#]],
        );
        check_resident(
            "id_type=passport id_number=E1234567 name=Li sex=F birth_date=1990-05-01 community_code=44030500100",
            expect![[r#"community_code: "44030500100" is not a community code (12 digits)"#]],
        );
        check_resident(
            "id_type=visa id_number=E1 name=Li sex=F birth_date=1990-05-01 community_code=440305001001 phone=call-me",
            expect![[
                r#"id_type: unknown value "visa"; expected resident_id|passport|hk_macao_permit|taiwan_permit"#
            ]],
        );
    }

    #[test]
    fn permits_have_their_own_shapes() {
        let t = today();
        assert!(check_identity(IdType::HkMacaoPermit, "H12345678", t).is_ok());
        assert!(check_identity(IdType::HkMacaoPermit, "X12345678", t).is_err());
        assert!(check_identity(IdType::TaiwanPermit, "12345678", t).is_ok());
        assert!(check_identity(IdType::TaiwanPermit, "1234567", t).is_err());
        assert!(check_identity(IdType::Passport, "e123", t).is_err());
    }

    #[test]
    fn orgunit_codes_follow_the_tree() {
        let p = |s: &str| {
            let pairs: Vec<(&str, &str)> = s
                .split_whitespace()
                .filter_map(|kv| kv.split_once('='))
                .collect();
            parse_orgunit(pairs.as_slice()).map_err(|e| {
                e.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            })
        };
        assert!(p("code=440305 name=南山区 parent_code=440300 level=district").is_ok());
        assert!(p("code=440300 name=深圳市 parent_code=440000 level=city").is_ok());
        assert_eq!(
            p("code=440305001 name=x parent_code=440306 level=street").unwrap_err(),
            "parent_code: code 440305001 does not lie under parent 440306"
        );
        assert_eq!(
            p("code=4403050 name=x parent_code=440305 level=street valid_from=2020-01-01 valid_to=2019-01-01").unwrap_err(),
            "code: \"4403050\" is not a street code (9 digits); valid_to: 2019-01-01 is before valid_from 2020-01-01"
        );
        assert_eq!(
            p("code=440305 name=x level=district").unwrap_err(),
            "parent_code: is required below city level"
        );
    }

    #[test]
    fn subtrees_of_cities_span_their_districts() {
        assert_eq!(subtree_prefix("440300"), "4403");
        assert_eq!(subtree_prefix("440000"), "44");
        assert_eq!(subtree_prefix("440305"), "440305");
        assert_eq!(subtree_prefix("440305001"), "440305001");
        assert_eq!(subtree_prefix("x"), "x");
    }

    #[test]
    fn institution_grade_only_for_hospitals() {
        let p = |s: &str| {
            let pairs: Vec<(&str, &str)> = s
                .split_whitespace()
                .filter_map(|kv| kv.split_once('='))
                .collect();
            parse_institution(pairs.as_slice()).map_err(|e| {
                e.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            })
        };
        let ok = p("code=H1 name=人民医院 kind=hospital grade=三级甲等 community_code=440305001001 beds=1200 fever_clinic=1").unwrap();
        assert_eq!(
            (ok.grade, ok.beds, ok.fever_clinic),
            (Some(HospitalGrade::TertiaryA), 1200, true)
        );
        assert_eq!(
            p("code=C1 name=社康 kind=chc grade=2 community_code=440305001001 fever_clinic=yes beds=-1").unwrap_err(),
            "beds: \"-1\" is not a whole number between 0 and 1000000; fever_clinic: \"yes\" is not 0 or 1; \
             grade: applies to hospitals only, not to chc"
        );
        assert_eq!(
            p("code=C1 name=社康 kind=chc grade=2 community_code=440305001001").unwrap_err(),
            "grade: applies to hospitals only, not to chc"
        );
        assert_eq!(
            p("code=H1 name=医院 kind=hospital community_code=440305001001").unwrap_err(),
            "grade: is required for a hospital"
        );
    }
}
