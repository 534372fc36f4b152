//! The notifiable infectious diseases (法定传染病) the `cases` feed reports: codes, names,
//! legal class and how their streams are watched by default. Data, like the dictionary:
//! [`DiseaseList::builtin`] reads `diseases.toml`, [`DiseaseList::from_toml`] a province's own.

use std::collections::HashMap;

use serde::Deserialize;

/// The project's disease list.
pub const BUILTIN_DISEASES: &str = include_str!("diseases.toml");

/// The legal class of a notifiable disease.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum Class {
    /// 甲类.
    A,
    /// 乙类.
    B,
    /// 丙类.
    C,
}

impl Class {
    /// The Chinese name of the class.
    pub fn zh(self) -> &'static str {
        match self {
            Class::A => "甲类",
            Class::B => "乙类",
            Class::C => "丙类",
        }
    }
}

/// How a disease's streams are watched by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Detection {
    /// Every case is a signal.
    Fixed,
    /// Counts by ISO week against the same weeks of past years.
    Weekly,
}

/// One notifiable disease.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disease {
    /// The code records carry (ICD-10, with a subtype after a dot where needed).
    pub code: String,
    /// The Chinese name.
    pub zh: String,
    /// The English name.
    pub en: String,
    /// The legal class.
    pub class: Class,
    /// The default detection.
    pub detection: Detection,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    version: String,
    source: String,
    disease: Vec<Disease>,
}

/// A disease list that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DiseaseListError {
    /// Not TOML of the expected shape.
    #[error("the disease list is not valid: {0}")]
    Toml(String),
    /// A rule the list breaks.
    #[error("the disease list is not valid: {0}")]
    Invalid(String),
}

/// The notifiable diseases, with a version and a source.
#[derive(Debug, Clone)]
pub struct DiseaseList {
    version: String,
    source: String,
    diseases: Vec<Disease>,
    by_code: HashMap<String, usize>,
}

impl DiseaseList {
    /// The project's list ([`BUILTIN_DISEASES`]).
    pub fn builtin() -> Result<DiseaseList, DiseaseListError> {
        Self::from_toml(BUILTIN_DISEASES)
    }

    /// Reads and checks a list: a version, a source, and diseases with unique codes (upper
    /// case, starting with a letter and two digits) and both names.
    pub fn from_toml(text: &str) -> Result<DiseaseList, DiseaseListError> {
        let raw: Raw = toml::from_str(text).map_err(|e| DiseaseListError::Toml(e.to_string()))?;
        let invalid = |m: String| Err(DiseaseListError::Invalid(m));
        if raw.version.trim().is_empty() {
            return invalid("`version` is empty".into());
        }
        if raw.source.trim().is_empty() {
            return invalid("`source` is empty".into());
        }
        if raw.disease.is_empty() {
            return invalid("no [[disease]]".into());
        }
        let mut by_code = HashMap::new();
        for (i, d) in raw.disease.iter().enumerate() {
            let b = d.code.as_bytes();
            let shaped = b.len() >= 3
                && b[0].is_ascii_uppercase()
                && b[1].is_ascii_digit()
                && b[2].is_ascii_digit()
                && d.code
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '.');
            if !shaped {
                return invalid(format!(
                    "disease {}: code {:?} is not an upper-case ICD-10 code",
                    i + 1,
                    d.code
                ));
            }
            if d.zh.trim().is_empty() || d.en.trim().is_empty() {
                return invalid(format!("disease {}: a name is empty", d.code));
            }
            if by_code.insert(d.code.clone(), i).is_some() {
                return invalid(format!("code {} comes twice", d.code));
            }
        }
        Ok(DiseaseList {
            version: raw.version,
            source: raw.source,
            diseases: raw.disease,
            by_code,
        })
    }

    /// The list's version.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Where the list comes from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Every disease, in the list's order.
    pub fn all(&self) -> &[Disease] {
        &self.diseases
    }

    /// The disease of `code` as a record writes it (case and surrounding space ignored).
    pub fn get(&self, code: &str) -> Option<&Disease> {
        let code = code.trim().to_ascii_uppercase();
        self.by_code.get(&code).map(|&i| &self.diseases[i])
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_builtin_list_holds_the_legal_classes() {
        let list = DiseaseList::builtin().unwrap();
        let count = |c| list.all().iter().filter(|d| d.class == c).count();
        // 甲类: plague and cholera; 乙类 and 丙类 as the law and announcements list them
        // (hepatitis and dysentery by type).
        assert_eq!(
            (count(Class::A), count(Class::B), count(Class::C)),
            (2, 33, 11)
        );
        assert_eq!(list.get(" a00 ").unwrap().zh, "霍乱");
        assert_eq!(list.get("j09.h7n9").unwrap().detection, Detection::Fixed);
        assert_eq!(
            list.get("B08.4").unwrap().en,
            "Hand, foot and mouth disease"
        );
        assert!(list.get("Z99").is_none());
        for fixed in ["A20", "A00", "U04", "J09.H5N1", "J09.H7N9", "A80", "A22"] {
            assert_eq!(
                list.get(fixed).unwrap().detection,
                Detection::Fixed,
                "{fixed}"
            );
        }
    }

    #[test]
    fn a_bad_list_is_refused_with_the_reason() {
        let one = |code: &str| {
            format!(
                "version = \"v\"\nsource = \"s\"\n[[disease]]\ncode = \"{code}\"\nzh = \"甲\"\nen = \"a\"\nclass = \"A\"\ndetection = \"fixed\"\n"
            )
        };
        assert!(DiseaseList::from_toml(&one("A00")).is_ok());
        let err = DiseaseList::from_toml(&one("a00")).unwrap_err();
        assert!(err.to_string().contains("upper-case ICD-10"), "{err}");
        let again = "[[disease]]\ncode = \"A00\"\nzh = \"乙\"\nen = \"b\"\nclass = \"B\"\ndetection = \"weekly\"\n";
        let err = DiseaseList::from_toml(&format!("{}{again}", one("A00"))).unwrap_err();
        assert!(err.to_string().contains("comes twice"), "{err}");
        assert!(DiseaseList::from_toml("version = \"v\"\nsource = \"s\"\ndisease = []").is_err());
        assert!(DiseaseList::from_toml("nonsense").is_err());
    }
}
