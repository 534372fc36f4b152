//! HealthCity's syndromic classifier (症状监测分类): it sorts a visit — the chief complaint in
//! Chinese or English, the ICD-10 diagnosis codes and the measured temperature — into the
//! surveillance syndromes `fever`, `ili`, `gi`, `rash`, `jaundice`, `conjunctivitis`, `neuro`
//! and `fever_haem` ([`Syndrome`]), and says why each was given ([`Reason`]), so that a
//! signal's line list can explain itself.
//!
//! The terms, negation cues, temperature rules and code ranges are data: a [`Dictionary`] with
//! a version and its source, read from TOML ([`Dictionary::from_toml`]) so that a province can
//! use its own; [`Dictionary::builtin`] is the project's ([`BUILTIN`]). Loading checks the
//! dictionary and compiles every term and cue into one Aho-Corasick automaton, so classifying
//! is one pass over the complaint. Everything here is pure: no I/O, no clock.
//!
//! ```
//! use hc_syndromes::{Dictionary, Evidence, Syndrome, Visit};
//!
//! let dictionary = Dictionary::builtin()?;
//! let visit = Visit {
//!     chief_complaint: "发热2天，最高39.2℃，伴咳嗽、咽痛，无腹泻",
//!     diagnosis_codes: "J06.9",
//!     temperature: Some(38.1),
//! };
//! let c = dictionary.classify(&visit);
//! assert_eq!(c.syndromes.to_string(), "fever|ili");
//! let why: Vec<String> = c.reasons_for(Syndrome::Ili).map(|e| e.to_string()).collect();
//! assert_eq!(why, ["term 咳嗽", "term 咽痛", "stated 39.2°C"]);
//! assert_eq!(c.negated[0].to_string(), "gi: 腹泻 negated by 无");
//! # Ok::<(), hc_syndromes::DictionaryError>(())
//! ```
#![deny(missing_docs)]

mod classify;
mod dictionary;
mod diseases;
mod icd;
mod syndrome;
mod text;

pub use classify::{Classification, Evidence, Negated, Reason, Visit};
pub use dictionary::{BUILTIN, Dictionary, DictionaryError};
pub use diseases::{BUILTIN_DISEASES, Class, Detection, Disease, DiseaseList, DiseaseListError};
pub use icd::IcdCode;
pub use syndrome::{Syndrome, SyndromeSet};
