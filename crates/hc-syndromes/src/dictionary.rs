//! The dictionary: its TOML form, the checks it must pass, and the automaton it is compiled
//! into.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, MatchKind};
use serde::Deserialize;

use crate::icd::IcdRange;
use crate::syndrome::{Syndrome, SyndromeSet};
use crate::text::{Scale, Units, normalise};

/// The built-in dictionary's TOML text (`src/dictionary.toml`): the model for a province's own.
pub const BUILTIN: &str = include_str!("dictionary.toml");

/// A dictionary that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DictionaryError {
    /// Not TOML, a key missing, an unknown key or a value of the wrong type.
    #[error("the dictionary does not parse: {0}")]
    Parse(String),
    /// A value that parses but cannot be used; `key` is its TOML path.
    #[error("dictionary {key}: {message}")]
    Invalid {
        /// Where, as a TOML path (`syndromes.rash.icd10`).
        key: String,
        /// What is wrong.
        message: String,
    },
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> DictionaryError {
    DictionaryError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDictionary {
    version: String,
    source: String,
    text: RawText,
    negation: RawNegation,
    temperature: RawTemperature,
    syndromes: RawSyndromes,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawText {
    clause_marks: String,
    #[serde(default)]
    clause_words_zh: Vec<String>,
    #[serde(default)]
    clause_words_en: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNegation {
    before_zh: Vec<String>,
    before_en: Vec<String>,
    #[serde(default)]
    before_near_zh: Vec<String>,
    #[serde(default)]
    before_near_en: Vec<String>,
    #[serde(default)]
    after_zh: Vec<String>,
    #[serde(default)]
    after_en: Vec<String>,
    #[serde(default)]
    after_near_zh: Vec<String>,
    #[serde(default)]
    after_near_en: Vec<String>,
    near: usize,
    #[serde(default)]
    pseudo_zh: Vec<String>,
    #[serde(default)]
    pseudo_en: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemperature {
    plausible: [f64; 2],
    cue_window: usize,
    bare_decimals: bool,
    units_c: Vec<String>,
    units_f: Vec<String>,
    cues_zh: Vec<String>,
    cues_en: Vec<String>,
    #[serde(default)]
    not_units_zh: Vec<String>,
    #[serde(default)]
    not_units_en: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSyndromes {
    fever: RawFever,
    ili: RawSyndrome,
    gi: RawSyndrome,
    rash: RawSyndrome,
    jaundice: RawSyndrome,
    conjunctivitis: RawSyndrome,
    neuro: RawSyndrome,
    fever_haem: RawSyndrome,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFever {
    name_zh: String,
    name_en: String,
    at_least: f64,
    high_at_least: f64,
    zh: Vec<String>,
    en: Vec<String>,
    #[serde(default)]
    high_zh: Vec<String>,
    #[serde(default)]
    high_en: Vec<String>,
    #[serde(default)]
    not_zh: Vec<String>,
    #[serde(default)]
    not_en: Vec<String>,
    icd10: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSyndrome {
    name_zh: String,
    name_en: String,
    #[serde(default)]
    fever_at_least: Option<f64>,
    zh: Vec<String>,
    en: Vec<String>,
    #[serde(default)]
    not_zh: Vec<String>,
    #[serde(default)]
    not_en: Vec<String>,
    icd10: Vec<String>,
}

/// What finding a pattern in a complaint means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// A term of a syndrome; `high` for a stated high fever.
    Term { syndrome: Syndrome, high: bool },
    /// Negates every later term of the clause.
    Before,
    /// Negates the next term, if it starts within `near` characters.
    BeforeNear,
    /// Negates every earlier term of the clause.
    After,
    /// Negates the term just before, if it ended within `near` characters.
    AfterNear,
    /// Contains a term or cue but means neither; only hides what lies inside it.
    Ignore,
    /// Ends the clause.
    ClauseWord,
    /// Says that a number after it is a temperature.
    TemperatureCue,
}

/// One pattern of the automaton.
#[derive(Debug)]
pub(crate) struct Pattern {
    /// As the dictionary writes it (the first spelling, if several normalise alike).
    pub label: String,
    /// Check for an ASCII letter before the match.
    pub left: bool,
    /// Check for an ASCII letter after the match.
    pub right: bool,
    /// What it means; a pattern may be a cue twice over (`denied`: before and after).
    pub roles: Vec<Role>,
    /// The syndromes it is a term of.
    pub terms: SyndromeSet,
}

/// The syndrome dictionary, compiled: every term, cue and ignored phrase in one Aho-Corasick
/// automaton, diagnosis ranges and temperature rules. Build it with [`Dictionary::builtin`]
/// or [`Dictionary::from_toml`]; classify with [`Dictionary::classify`](crate::Dictionary::classify).
#[derive(Debug)]
pub struct Dictionary {
    pub(crate) version: String,
    pub(crate) source: String,
    pub(crate) names: [(String, String); 8],
    pub(crate) automaton: AhoCorasick,
    pub(crate) patterns: Vec<Pattern>,
    pub(crate) clause_marks: Vec<char>,
    pub(crate) near: usize,
    pub(crate) plausible: (f64, f64),
    pub(crate) cue_window: usize,
    pub(crate) bare_decimals: bool,
    pub(crate) units: Units,
    pub(crate) fever_at_least: f64,
    pub(crate) high_at_least: f64,
    /// Per syndrome (by index): the fever its terms need, if any.
    pub(crate) needs_fever: [Option<f64>; 8],
    pub(crate) icd: Vec<(Syndrome, IcdRange)>,
}

/// Collects patterns, merging those that normalise alike.
struct Builder {
    index: HashMap<(String, bool), usize>,
    texts: Vec<String>,
    patterns: Vec<Pattern>,
}

impl Builder {
    /// Adds `raw` (from the list at `key`) in `role`.
    fn add(&mut self, key: &str, raw: &str, role: Role) -> Result<(), DictionaryError> {
        let trimmed = raw.trim();
        let (body, prefix) = match trimmed.strip_suffix('*') {
            Some(body) => (body, true),
            None => (trimmed, false),
        };
        let text = normalise(body);
        if text.is_empty() {
            return Err(invalid(key, format!("`{raw}`: an empty entry")));
        }
        if text.contains('*') {
            return Err(invalid(key, format!("`{raw}`: `*` may only end an entry")));
        }
        let last_alnum = text.ends_with(|c: char| c.is_ascii_alphanumeric());
        if prefix && !last_alnum {
            return Err(invalid(
                key,
                format!("`{raw}`: `*` may only follow an ASCII letter or digit"),
            ));
        }
        let id = match self.index.get(&(text.clone(), prefix)) {
            Some(&id) => id,
            None => {
                let id = self.patterns.len();
                self.patterns.push(Pattern {
                    label: trimmed.to_owned(),
                    left: text.starts_with(|c: char| c.is_ascii_alphanumeric()),
                    right: last_alnum && !prefix,
                    roles: Vec::new(),
                    terms: SyndromeSet::EMPTY,
                });
                self.index.insert((text.clone(), prefix), id);
                self.texts.push(text);
                id
            }
        };
        let p = &mut self.patterns[id];
        if role == Role::Ignore && p.roles == [Role::Ignore] {
            // Two syndromes may ignore the same phrase (fever blister).
            return Ok(());
        }
        if p.roles.contains(&role) {
            return Err(invalid(key, format!("`{raw}` is listed twice")));
        }
        let is_term = matches!(role, Role::Term { .. });
        let clash = p.roles.iter().find(|r| {
            let other_term = matches!(r, Role::Term { .. });
            match (is_term, other_term) {
                // The same word may belong to two syndromes, never twice to one.
                (true, true) => matches!((r, role),
                    (Role::Term { syndrome: a, .. }, Role::Term { syndrome: b, .. }) if *a == b),
                (false, false) => {
                    // A cue may have two cue roles; nothing else may be two things.
                    let cue = |r: &Role| {
                        matches!(
                            r,
                            Role::Before | Role::BeforeNear | Role::After | Role::AfterNear
                        )
                    };
                    !(cue(r) && cue(&role))
                }
                _ => true,
            }
        });
        if let Some(other) = clash {
            return Err(invalid(
                key,
                format!(
                    "`{raw}` is already {} elsewhere in the dictionary",
                    describe(*other)
                ),
            ));
        }
        if let Role::Term { syndrome, .. } = role {
            p.terms.insert(syndrome);
        }
        p.roles.push(role);
        Ok(())
    }

    fn add_all(&mut self, key: &str, list: &[String], role: Role) -> Result<(), DictionaryError> {
        list.iter().try_for_each(|raw| self.add(key, raw, role))
    }
}

fn describe(role: Role) -> String {
    match role {
        Role::Term { syndrome, high } => {
            format!(
                "a{} term of {syndrome}",
                if high { " high-fever" } else { "" }
            )
        }
        Role::Before | Role::BeforeNear | Role::After | Role::AfterNear => "a negation cue".into(),
        Role::Ignore => "an ignored phrase".into(),
        Role::ClauseWord => "a clause word".into(),
        Role::TemperatureCue => "a temperature cue".into(),
    }
}

impl Dictionary {
    /// The built-in dictionary ([`BUILTIN`]). It is checked like any other; a test makes sure
    /// it passes, so an error here means the crate was built from a broken file.
    pub fn builtin() -> Result<Dictionary, DictionaryError> {
        Dictionary::from_toml(BUILTIN)
    }

    /// Reads, checks and compiles a dictionary written in TOML (the layout of [`BUILTIN`]).
    pub fn from_toml(text: &str) -> Result<Dictionary, DictionaryError> {
        let raw: RawDictionary =
            toml::from_str(text).map_err(|e| DictionaryError::Parse(e.to_string()))?;
        Dictionary::compile(raw)
    }

    fn compile(raw: RawDictionary) -> Result<Dictionary, DictionaryError> {
        if raw.version.trim().is_empty() {
            return Err(invalid("version", "is empty"));
        }
        if raw.source.trim().is_empty() {
            return Err(invalid("source", "is empty"));
        }
        let mut b = Builder {
            index: HashMap::new(),
            texts: Vec::new(),
            patterns: Vec::new(),
        };
        let n = &raw.negation;
        let lists: [(&str, &[String], Role); 13] = [
            ("negation.before_zh", &n.before_zh, Role::Before),
            ("negation.before_en", &n.before_en, Role::Before),
            (
                "negation.before_near_zh",
                &n.before_near_zh,
                Role::BeforeNear,
            ),
            (
                "negation.before_near_en",
                &n.before_near_en,
                Role::BeforeNear,
            ),
            ("negation.after_zh", &n.after_zh, Role::After),
            ("negation.after_en", &n.after_en, Role::After),
            ("negation.after_near_zh", &n.after_near_zh, Role::AfterNear),
            ("negation.after_near_en", &n.after_near_en, Role::AfterNear),
            ("negation.pseudo_zh", &n.pseudo_zh, Role::Ignore),
            ("negation.pseudo_en", &n.pseudo_en, Role::Ignore),
            (
                "text.clause_words_zh",
                &raw.text.clause_words_zh,
                Role::ClauseWord,
            ),
            (
                "text.clause_words_en",
                &raw.text.clause_words_en,
                Role::ClauseWord,
            ),
            (
                "temperature.cues_zh",
                &raw.temperature.cues_zh,
                Role::TemperatureCue,
            ),
        ];
        for (key, list, role) in lists {
            b.add_all(key, list, role)?;
        }
        b.add_all(
            "temperature.cues_en",
            &raw.temperature.cues_en,
            Role::TemperatureCue,
        )?;
        if n.near > 20 {
            return Err(invalid("negation.near", "must be at most 20 characters"));
        }

        let t = &raw.temperature;
        let (lo, hi) = (t.plausible[0], t.plausible[1]);
        if !(25.0..=50.0).contains(&lo) || !(25.0..=50.0).contains(&hi) || lo >= hi {
            return Err(invalid(
                "temperature.plausible",
                format!("[{lo}, {hi}] is not a range of body temperatures in °C"),
            ));
        }
        if t.cue_window > 20 {
            return Err(invalid(
                "temperature.cue_window",
                "must be at most 20 characters",
            ));
        }
        let mut units = Vec::new();
        for (key, list, scale) in [
            ("temperature.units_c", &t.units_c, Scale::Celsius),
            ("temperature.units_f", &t.units_f, Scale::Fahrenheit),
        ] {
            for u in list {
                let text = normalise(u);
                if text.is_empty() || text.starts_with(|c: char| c.is_ascii_digit()) {
                    return Err(invalid(key, format!("`{u}` is not a unit")));
                }
                if units.iter().any(|(x, _)| *x == text) {
                    return Err(invalid(key, format!("`{u}` is listed twice")));
                }
                units.push((text, scale));
            }
        }
        // Longest first, so `°f` wins over `°` and `degrees f` over `degrees`.
        units.sort_by_key(|(u, _)| std::cmp::Reverse(u.len()));
        let mut not_units = Vec::new();
        for (key, list) in [
            ("temperature.not_units_zh", &t.not_units_zh),
            ("temperature.not_units_en", &t.not_units_en),
        ] {
            for u in list {
                let text = normalise(u);
                if text.is_empty() {
                    return Err(invalid(key, format!("`{u}`: an empty entry")));
                }
                if units.iter().any(|(x, _)| *x == text) {
                    return Err(invalid(key, format!("`{u}` is also a temperature unit")));
                }
                not_units.push(text);
            }
        }

        let s = &raw.syndromes;
        let f = &s.fever;
        let temperature = |key: &str, v: f64| {
            if (lo..=hi).contains(&v) {
                Ok(v)
            } else {
                Err(invalid(
                    key,
                    format!("{v} °C is outside temperature.plausible [{lo}, {hi}]"),
                ))
            }
        };
        let fever_at_least = temperature("syndromes.fever.at_least", f.at_least)?;
        let high_at_least = temperature("syndromes.fever.high_at_least", f.high_at_least)?;
        if high_at_least < fever_at_least {
            return Err(invalid(
                "syndromes.fever.high_at_least",
                "is below syndromes.fever.at_least",
            ));
        }
        let fever = Syndrome::Fever;
        let plain = Role::Term {
            syndrome: fever,
            high: false,
        };
        let high = Role::Term {
            syndrome: fever,
            high: true,
        };
        b.add_all("syndromes.fever.zh", &f.zh, plain)?;
        b.add_all("syndromes.fever.en", &f.en, plain)?;
        b.add_all("syndromes.fever.high_zh", &f.high_zh, high)?;
        b.add_all("syndromes.fever.high_en", &f.high_en, high)?;
        b.add_all("syndromes.fever.not_zh", &f.not_zh, Role::Ignore)?;
        b.add_all("syndromes.fever.not_en", &f.not_en, Role::Ignore)?;

        let mut names: [(String, String); 8] = Default::default();
        names[0] = (f.name_zh.clone(), f.name_en.clone());
        let mut needs_fever = [None; 8];
        let mut icd = Vec::new();
        let mut ranges = |syndrome: Syndrome, list: &[String]| -> Result<(), DictionaryError> {
            let key = format!("syndromes.{syndrome}.icd10");
            for text in list {
                let range = IcdRange::parse(text).map_err(|m| invalid(&key, m))?;
                icd.push((syndrome, range));
            }
            Ok(())
        };
        ranges(fever, &f.icd10)?;
        let others = [
            (Syndrome::Ili, &s.ili),
            (Syndrome::Gi, &s.gi),
            (Syndrome::Rash, &s.rash),
            (Syndrome::Jaundice, &s.jaundice),
            (Syndrome::Conjunctivitis, &s.conjunctivitis),
            (Syndrome::Neuro, &s.neuro),
            (Syndrome::FeverHaem, &s.fever_haem),
        ];
        for (syndrome, def) in others {
            let key = |field: &str| format!("syndromes.{syndrome}.{field}");
            let role = Role::Term {
                syndrome,
                high: false,
            };
            b.add_all(&key("zh"), &def.zh, role)?;
            b.add_all(&key("en"), &def.en, role)?;
            b.add_all(&key("not_zh"), &def.not_zh, Role::Ignore)?;
            b.add_all(&key("not_en"), &def.not_en, Role::Ignore)?;
            ranges(syndrome, &def.icd10)?;
            names[syndrome as usize] = (def.name_zh.clone(), def.name_en.clone());
            needs_fever[syndrome as usize] = match def.fever_at_least {
                Some(v) => {
                    let v = temperature(&key("fever_at_least"), v)?;
                    if v < fever_at_least {
                        return Err(invalid(
                            key("fever_at_least"),
                            "is below syndromes.fever.at_least",
                        ));
                    }
                    Some(v)
                }
                None if matches!(syndrome, Syndrome::Ili | Syndrome::FeverHaem) => {
                    return Err(invalid(
                        key("fever_at_least"),
                        "is required: this syndrome is a fever with a sign",
                    ));
                }
                None => None,
            };
        }
        for (i, (zh, en)) in names.iter().enumerate() {
            if zh.trim().is_empty() || en.trim().is_empty() {
                return Err(invalid(
                    format!("syndromes.{}", Syndrome::ALL[i]),
                    "name_zh and name_en must not be empty",
                ));
            }
        }

        let mut clause_marks: Vec<char> = normalise(&raw.text.clause_marks).chars().collect();
        if raw.text.clause_marks.contains('\n') && !clause_marks.contains(&'\n') {
            // normalise() trims; a line break listed on purpose is kept.
            clause_marks.push('\n');
        }
        clause_marks.retain(|c| *c != ' ');

        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&b.texts)
            .map_err(|e| invalid("(all terms)", e.to_string()))?;
        Ok(Dictionary {
            version: raw.version,
            source: raw.source,
            names,
            automaton,
            patterns: b.patterns,
            clause_marks,
            near: n.near,
            plausible: (lo, hi),
            cue_window: t.cue_window,
            bare_decimals: t.bare_decimals,
            units: Units { units, not_units },
            fever_at_least,
            high_at_least,
            needs_fever,
            icd,
        })
    }

    /// The dictionary's version (record it with what was classified).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Where the dictionary comes from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The syndrome's name in Chinese and in English.
    pub fn name(&self, syndrome: Syndrome) -> (&str, &str) {
        let (zh, en) = &self.names[syndrome as usize];
        (zh, en)
    }

    /// The fever threshold (°C): a measured or stated temperature at or above it is a fever.
    pub fn fever_threshold(&self) -> f64 {
        self.fever_at_least
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(from: &str, to: &str) -> Result<Dictionary, DictionaryError> {
        assert!(BUILTIN.contains(from), "{from}");
        Dictionary::from_toml(&BUILTIN.replacen(from, to, 1))
    }

    fn message(r: Result<Dictionary, DictionaryError>) -> String {
        match r {
            Ok(_) => "accepted".into(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_builtin_dictionary_passes_its_checks() {
        let d = Dictionary::builtin().unwrap();
        assert_eq!(d.version(), "healthcity-2026.1");
        assert!(d.source().contains("全国流感监测方案"));
        assert_eq!(
            d.name(Syndrome::Ili),
            ("流感样病例", "influenza-like illness")
        );
        assert_eq!(d.fever_threshold(), 37.5);
    }

    #[test]
    fn bad_dictionaries_are_refused_with_the_key_at_fault() {
        assert!(
            message(Dictionary::from_toml("version = 1"))
                .starts_with("the dictionary does not parse")
        );
        assert!(
            message(with(
                "[syndromes.gi]\n",
                "[syndromes.gi]\ncolour = \"red\"\n"
            ))
            .contains("unknown field `colour`")
        );
        assert_eq!(
            message(with(
                "icd10 = [\"A00-A09\", \"K52\"]",
                "icd10 = [\"A09-A00\"]"
            )),
            "dictionary syndromes.gi.icd10: `A09-A00`: the range runs backwards"
        );
        assert_eq!(
            message(with("\"rash*\", \"spots\"", "\"ra*sh\", \"spots\"")),
            "dictionary syndromes.rash.en: `ra*sh`: `*` may only end an entry"
        );
        assert_eq!(
            message(with("\"黄疸\", \"黃疸\"", "\"黄疸\", \"黄疸\"")),
            "dictionary syndromes.jaundice.zh: `黄疸` is listed twice"
        );
        assert_eq!(
            message(with("\"腹泻\", \"腹瀉\"", "\"腹泻\", \"无\"")),
            "dictionary syndromes.gi.zh: `无` is already a negation cue elsewhere in the dictionary"
        );
        assert_eq!(
            message(with("at_least = 37.5", "at_least = 57.5")),
            "dictionary syndromes.fever.at_least: 57.5 °C is outside temperature.plausible [34, 43]"
        );
        assert_eq!(
            message(with("fever_at_least = 38.0\n", "")),
            "dictionary syndromes.ili.fever_at_least: is required: this syndrome is a fever with a sign"
        );
        assert_eq!(
            message(with("version = \"healthcity-2026.1\"", "version = \" \"")),
            "dictionary version: is empty"
        );
    }

    #[test]
    fn the_same_word_may_serve_two_syndromes() {
        let d = with("\"petechia*\",", "\"petechia*\", \"rash*\",").unwrap();
        let p = d.patterns.iter().find(|p| p.label == "rash*").unwrap();
        assert_eq!(p.terms.to_string(), "rash|fever_haem");
    }
}
