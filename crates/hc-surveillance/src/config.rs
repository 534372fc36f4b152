//! The stream configuration: detection rules, scan rules and fusion rules, as data.
//!
//! The built-in configuration is `streams.toml`, embedded; a deployment loads its own with
//! [`Config::from_toml`]. Loading checks everything a run would otherwise trip over later: each
//! rule's method and parameters are given to the engine ([`hc_detect::detector`]), levels and
//! periods are known words, names are unique; an error names the rule and the key.

use std::collections::{BTreeMap, HashSet};

use hc_detect::{Detector, Params};
use hc_syndromes::{Detection, DiseaseList};
use serde::Deserialize;

use crate::Level;

/// The configuration shipped with HealthCity.
pub const BUILTIN: &str = include_str!("streams.toml");

/// Why a configuration cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// The text is not the expected TOML.
    #[error("stream configuration: {0}")]
    Toml(String),
    /// A value is out of place; the message names the rule and key.
    #[error("stream configuration: {0}")]
    Invalid(String),
}

/// How often a stream is counted and evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// Every day.
    Day,
    /// ISO weeks, Monday to Sunday, evaluated once complete.
    Week,
}

impl Period {
    /// `day` or `week`.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
        }
    }

    /// Days in one period.
    pub fn days(self) -> i64 {
        match self {
            Period::Day => 1,
            Period::Week => 7,
        }
    }
}

/// Which codes of a feed a rule watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Codes {
    /// Every code the feed counts (never the denominator).
    All,
    /// These codes.
    Listed(Vec<String>),
}

impl Codes {
    /// Whether `code` is watched.
    pub fn contains(&self, code: &str) -> bool {
        match self {
            Codes::All => code != crate::DENOMINATOR,
            Codes::Listed(codes) => codes.iter().any(|c| c == code),
        }
    }
}

/// A detection rule: one method on the streams of some codes of a feed at some levels.
pub struct Rule {
    /// Unique name, stored with each signal.
    pub name: String,
    /// The feed (`visits`, `cases`, `pharmacy-sales`, `absenteeism`, `lab-results`).
    pub feed: String,
    /// The codes watched.
    pub codes: Codes,
    /// The levels of the city at which streams are formed.
    pub levels: Vec<Level>,
    /// Day or ISO week.
    pub period: Period,
    /// The engine's method name.
    pub method: String,
    /// The method's parameters as given (`key=value;…`).
    pub params: String,
    /// The configured detector.
    pub detector: Box<dyn Detector>,
    /// Fewest cases for an alarm to be a signal, per level.
    pub min_count: BTreeMap<Level, f64>,
    /// Evaluate only days on which the feed has a denominator (school days for absenteeism),
    /// and form the baseline from those days alone.
    pub school_days: bool,
    /// The alert colour of its signals.
    pub alert: Alert,
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule")
            .field("name", &self.name)
            .field("feed", &self.feed)
            .field("method", &self.method)
            .field("params", &self.detector.describe())
            .finish()
    }
}

impl Rule {
    /// The fewest cases at `level`.
    pub fn min_count(&self, level: Level) -> f64 {
        self.min_count.get(&level).copied().unwrap_or(1.0)
    }
}

/// A space-time scan rule over the community counts of a feed.
#[derive(Debug, Clone)]
pub struct ScanRule {
    /// Unique name.
    pub name: String,
    /// The feed.
    pub feed: String,
    /// The codes scanned, one scan each.
    pub codes: Codes,
    /// Days of the study period, ending on the analysis day.
    pub study_days: usize,
    /// Longest cluster, in days.
    pub max_days: usize,
    /// Most communities in a cluster.
    pub max_locations: usize,
    /// Monte Carlo replicates.
    pub permutations: usize,
    /// A cluster with a p-value at most this is a signal.
    pub p_value: f64,
    /// Fewest cases in a cluster.
    pub min_cases: u64,
    /// The alert colour of its signals.
    pub alert: Alert,
}

/// A multi-point fusion rule.
#[derive(Debug, Clone)]
pub struct FusionRule {
    /// Unique name.
    pub name: String,
    /// Chinese name.
    pub zh: String,
    /// Member streams as (feed, code pattern); a pattern ending in `*` is a prefix.
    pub members: Vec<(String, String)>,
    /// The level at which areas must meet.
    pub level: Level,
    /// Most days between the alarms of the fused signals.
    pub window_days: i64,
    /// Fewest different feeds.
    pub min_sources: usize,
}

impl FusionRule {
    /// Whether a signal of `feed` and `code` belongs to this rule.
    pub fn admits(&self, feed: &str, code: &str) -> bool {
        self.members.iter().any(|(f, pattern)| {
            f == feed
                && match pattern.strip_suffix('*') {
                    Some(prefix) => code.starts_with(prefix),
                    None => pattern == code,
                }
        })
    }
}

/// Alert colours, in rising order of urgency (the colours of China's emergency grading).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Alert {
    /// Blue (IV).
    Blue,
    /// Yellow (III).
    Yellow,
    /// Orange (II).
    Orange,
    /// Red (I).
    Red,
}

impl Alert {
    /// `blue`, `yellow`, `orange`, `red`.
    pub fn as_str(self) -> &'static str {
        match self {
            Alert::Blue => "blue",
            Alert::Yellow => "yellow",
            Alert::Orange => "orange",
            Alert::Red => "red",
        }
    }

    /// The Chinese name (蓝色 …).
    pub fn zh(self) -> &'static str {
        match self {
            Alert::Blue => "蓝色",
            Alert::Yellow => "黄色",
            Alert::Orange => "橙色",
            Alert::Red => "红色",
        }
    }

    /// Parses [`Alert::as_str`].
    pub fn parse(s: &str) -> Option<Alert> {
        [Alert::Blue, Alert::Yellow, Alert::Orange, Alert::Red]
            .into_iter()
            .find(|a| a.as_str() == s)
    }

    /// One step more urgent (red stays red).
    pub fn raised(self) -> Alert {
        match self {
            Alert::Blue => Alert::Yellow,
            Alert::Yellow => Alert::Orange,
            Alert::Orange | Alert::Red => Alert::Red,
        }
    }
}

/// A checked configuration.
#[derive(Debug)]
pub struct Config {
    /// Its version, stored with every run and signal.
    pub version: String,
    /// Where its choices come from.
    pub source: String,
    /// Periods after a signal's last alarm within which a new alarm continues it.
    pub merge_gap: i64,
    /// How far back late records re-open evaluated days.
    pub lookback_days: i64,
    /// Detection rules.
    pub rules: Vec<Rule>,
    /// Scan rules.
    pub scans: Vec<ScanRule>,
    /// Fusion rules.
    pub fusion: Vec<FusionRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    version: String,
    source: String,
    merge_gap: i64,
    lookback_days: i64,
    #[serde(default)]
    rule: Vec<RawRule>,
    #[serde(default)]
    scan: Vec<RawScan>,
    #[serde(default)]
    fusion: Vec<RawFusion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    feed: String,
    codes: Vec<String>,
    levels: Vec<String>,
    period: Period,
    method: String,
    #[serde(default)]
    params: String,
    #[serde(default)]
    min_count: BTreeMap<String, f64>,
    #[serde(default)]
    school_days: bool,
    alert: Alert,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScan {
    name: String,
    feed: String,
    codes: Vec<String>,
    study_days: usize,
    max_days: usize,
    max_locations: usize,
    permutations: usize,
    p_value: f64,
    min_cases: u64,
    alert: Alert,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFusion {
    name: String,
    zh: String,
    members: Vec<String>,
    level: String,
    window_days: i64,
    min_sources: usize,
}

/// The feeds a rule may name.
pub const FEEDS: &[&str] = &[
    "visits",
    "cases",
    "pharmacy-sales",
    "absenteeism",
    "lab-results",
];

fn invalid<T>(message: String) -> Result<T, ConfigError> {
    Err(ConfigError::Invalid(message))
}

impl Config {
    /// The built-in configuration with the built-in disease list.
    pub fn builtin() -> Result<Config, ConfigError> {
        let diseases =
            DiseaseList::builtin().map_err(|e| ConfigError::Invalid(format!("diseases: {e}")))?;
        Config::from_toml(BUILTIN, &diseases)
    }

    /// Parses and checks a configuration; `@fixed` and `@weekly` are resolved in `diseases`.
    pub fn from_toml(text: &str, diseases: &DiseaseList) -> Result<Config, ConfigError> {
        let raw: Raw = toml::from_str(text).map_err(|e| ConfigError::Toml(e.to_string()))?;
        if raw.version.trim().is_empty() {
            return invalid("`version` is empty".into());
        }
        if !(0..=30).contains(&raw.merge_gap) {
            return invalid(format!("merge_gap {} is not 0–30", raw.merge_gap));
        }
        if !(0..=366).contains(&raw.lookback_days) {
            return invalid(format!("lookback_days {} is not 0–366", raw.lookback_days));
        }
        let mut names = HashSet::new();
        let mut rules = Vec::with_capacity(raw.rule.len());
        for r in raw.rule {
            let at = format!("rule {:?}", r.name);
            if r.name.trim().is_empty() || !names.insert(r.name.clone()) {
                return invalid(format!("{at}: the name is empty or used twice"));
            }
            check_feed(&at, &r.feed)?;
            let codes = codes(&at, &r.codes, diseases)?;
            let levels = levels(&at, &r.levels)?;
            let params = Params::parse(&r.params)
                .map_err(|e| ConfigError::Invalid(format!("{at}: params: {e}")))?;
            let detector = hc_detect::detector(&r.method, params)
                .map_err(|e| ConfigError::Invalid(format!("{at}: {e}")))?;
            let mut min_count = BTreeMap::new();
            for (level, n) in r.min_count {
                let Some(l) = Level::parse(&level) else {
                    return invalid(format!("{at}: min_count names no level {level:?}"));
                };
                if !(n.is_finite() && n >= 0.0) {
                    return invalid(format!("{at}: min_count.{level} must be ≥ 0"));
                }
                min_count.insert(l, n);
            }
            rules.push(Rule {
                name: r.name,
                feed: r.feed,
                codes,
                levels,
                period: r.period,
                method: r.method,
                params: r.params,
                detector,
                min_count,
                school_days: r.school_days,
                alert: r.alert,
            });
        }
        let mut scans = Vec::with_capacity(raw.scan.len());
        for s in raw.scan {
            let at = format!("scan {:?}", s.name);
            if s.name.trim().is_empty() || !names.insert(s.name.clone()) {
                return invalid(format!("{at}: the name is empty or used twice"));
            }
            check_feed(&at, &s.feed)?;
            if !(s.max_days >= 1 && s.study_days > s.max_days && s.study_days <= 366) {
                return invalid(format!(
                    "{at}: need 1 ≤ max_days < study_days ≤ 366 (got {} and {})",
                    s.max_days, s.study_days
                ));
            }
            if s.max_locations == 0 || !(19..=9999).contains(&s.permutations) {
                return invalid(format!(
                    "{at}: max_locations must be ≥ 1 and permutations 19–9999"
                ));
            }
            if !(s.p_value > 0.0 && s.p_value < 1.0) {
                return invalid(format!("{at}: p_value must lie in (0, 1)"));
            }
            scans.push(ScanRule {
                codes: codes(&at, &s.codes, diseases)?,
                name: s.name,
                feed: s.feed,
                study_days: s.study_days,
                max_days: s.max_days,
                max_locations: s.max_locations,
                permutations: s.permutations,
                p_value: s.p_value,
                min_cases: s.min_cases.max(1),
                alert: s.alert,
            });
        }
        let mut fusion = Vec::with_capacity(raw.fusion.len());
        for f in raw.fusion {
            let at = format!("fusion {:?}", f.name);
            if f.name.trim().is_empty() || !names.insert(f.name.clone()) {
                return invalid(format!("{at}: the name is empty or used twice"));
            }
            let mut members = Vec::with_capacity(f.members.len());
            for m in &f.members {
                let Some((feed, code)) = m.split_once(':') else {
                    return invalid(format!("{at}: member {m:?} is not feed:code"));
                };
                check_feed(&at, feed)?;
                if code.is_empty() {
                    return invalid(format!("{at}: member {m:?} has no code"));
                }
                members.push((feed.to_owned(), code.to_owned()));
            }
            let feeds: HashSet<&str> = members.iter().map(|(f, _)| f.as_str()).collect();
            if f.min_sources < 2 || f.min_sources > feeds.len() {
                return invalid(format!(
                    "{at}: min_sources must be at least 2 and at most the {} feeds among its members",
                    feeds.len()
                ));
            }
            let Some(level) = Level::parse(&f.level) else {
                return invalid(format!("{at}: level {:?} is not a level", f.level));
            };
            if !(0..=60).contains(&f.window_days) {
                return invalid(format!("{at}: window_days must be 0–60"));
            }
            fusion.push(FusionRule {
                name: f.name,
                zh: f.zh,
                members,
                level,
                window_days: f.window_days,
                min_sources: f.min_sources,
            });
        }
        Ok(Config {
            version: raw.version,
            source: raw.source,
            merge_gap: raw.merge_gap,
            lookback_days: raw.lookback_days,
            rules,
            scans,
            fusion,
        })
    }

    /// The feeds any rule or scan watches, each once, in the order of [`FEEDS`].
    pub fn feeds(&self) -> Vec<&'static str> {
        FEEDS
            .iter()
            .copied()
            .filter(|f| {
                self.rules.iter().any(|r| r.feed == *f) || self.scans.iter().any(|s| s.feed == *f)
            })
            .collect()
    }
}

fn check_feed(at: &str, feed: &str) -> Result<(), ConfigError> {
    if FEEDS.contains(&feed) {
        Ok(())
    } else {
        invalid(format!(
            "{at}: feed {feed:?} is not one of {}",
            FEEDS.join(", ")
        ))
    }
}

fn codes(at: &str, raw: &[String], diseases: &DiseaseList) -> Result<Codes, ConfigError> {
    if raw.iter().any(|c| c == "*") {
        return if raw.len() == 1 {
            Ok(Codes::All)
        } else {
            invalid(format!("{at}: \"*\" stands alone in codes"))
        };
    }
    let mut out = Vec::new();
    for c in raw {
        let wanted = match c.as_str() {
            "@fixed" => Some(Detection::Fixed),
            "@weekly" => Some(Detection::Weekly),
            _ => None,
        };
        match wanted {
            Some(d) => out.extend(
                diseases
                    .all()
                    .iter()
                    .filter(|x| x.detection == d)
                    .map(|x| x.code.clone()),
            ),
            None if c.trim().is_empty() || c == crate::DENOMINATOR => {
                return invalid(format!("{at}: code {c:?} cannot be watched"));
            }
            None => out.push(c.clone()),
        }
    }
    if out.is_empty() {
        return invalid(format!("{at}: no codes"));
    }
    out.sort();
    out.dedup();
    Ok(Codes::Listed(out))
}

fn levels(at: &str, raw: &[String]) -> Result<Vec<Level>, ConfigError> {
    let mut out = Vec::new();
    for l in raw {
        match Level::parse(l) {
            Some(level) if !out.contains(&level) => out.push(level),
            Some(_) => return invalid(format!("{at}: level {l:?} named twice")),
            None => return invalid(format!("{at}: level {l:?} is not a level")),
        }
    }
    if out.is_empty() {
        return invalid(format!("{at}: no levels"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_configuration_loads_and_resolves_disease_groups() {
        let c = Config::builtin().unwrap();
        let fixed = c.rules.iter().find(|r| r.name == "cases-fixed").unwrap();
        assert!(fixed.codes.contains("A00") && fixed.codes.contains("A20"));
        assert!(!fixed.codes.contains("J11"));
        let weekly = c.rules.iter().find(|r| r.name == "cases-noufaily").unwrap();
        assert!(weekly.codes.contains("J11") && !weekly.codes.contains("A00"));
        assert_eq!(weekly.period, Period::Week);
        assert_eq!(
            c.feeds(),
            [
                "visits",
                "cases",
                "pharmacy-sales",
                "absenteeism",
                "lab-results"
            ]
        );
        let gi = c
            .fusion
            .iter()
            .find(|f| f.name == "gastrointestinal")
            .unwrap();
        assert!(gi.admits("lab-results", "norovirus") && !gi.admits("visits", "ili"));
        let resp = c.fusion.iter().find(|f| f.name == "respiratory").unwrap();
        assert!(resp.admits("lab-results", "influenza-a"));
    }

    #[test]
    fn faults_name_the_rule_and_key() {
        let d = DiseaseList::builtin().unwrap();
        let base = "version = \"t\"\nsource = \"s\"\nmerge_gap = 2\nlookback_days = 7\n";
        let rule = |body: &str| format!("{base}[[rule]]\nname = \"r1\"\n{body}");
        let ok = "feed = \"visits\"\ncodes = [\"ili\"]\nlevels = [\"city\"]\nperiod = \"day\"\nalert = \"yellow\"\n";
        let cases = [
            (
                rule(&format!("{ok}method = \"ears\"\nparams = \"variant=C9\"\n")),
                "rule \"r1\"",
            ),
            (rule(&format!("{ok}method = \"nope\"\n")), "nope"),
            (
                rule(&ok.replace("\"city\"", "\"province\"")).replace(
                    "alert = \"yellow\"\n",
                    "alert = \"yellow\"\nmethod = \"ears\"\n",
                ),
                "level \"province\"",
            ),
            (
                rule(&ok.replace("visits", "tweets")).replace(
                    "alert = \"yellow\"\n",
                    "alert = \"yellow\"\nmethod = \"ears\"\n",
                ),
                "feed \"tweets\"",
            ),
            (
                format!(
                    "{base}[[fusion]]\nname = \"f\"\nzh = \"f\"\nmembers = [\"visits:gi\", \"visits:ili\"]\nlevel = \"street\"\nwindow_days = 7\nmin_sources = 2\n"
                ),
                "min_sources",
            ),
        ];
        for (text, needle) in cases {
            let e = Config::from_toml(&text, &d).unwrap_err().to_string();
            assert!(e.contains(needle), "{e} lacks {needle}");
        }
    }
}
