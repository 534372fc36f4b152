//! Multi-point triggering (多点触发): signals of independent sources that meet in place and
//! time are fused into one event, with a higher alert and a score, and the reasons kept.
//!
//! For a fusion rule, a signal belongs to the area at the rule's level that holds it (its
//! street, say). A signal of a coarser area (a district's pharmacy sales) joins the groups of
//! the areas it holds. On a day `t`, a signal is active from its first alarm to `window_days`
//! after its last; when the active signals of a group come from at least `min_sources` feeds,
//! the group has an event on `t`. An event continues while that holds with gaps of at most
//! `window_days`, collecting the signals active on its days.
//!
//! Alert: the most urgent of its signals, raised one step for reaching `min_sources` and one
//! more for each further source (two yellow sources: orange; three: red). Score: over its
//! sources, the sum of each source's strongest signal's observed ÷ threshold (÷ expected where
//! the method has no threshold in cases), each capped at 5.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Duration, NaiveDate};
use serde_json::json;

use crate::config::{Alert, Config, FusionRule};
use crate::{Areas, Level};

/// A signal as fusion sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalView {
    /// Its id.
    pub id: i64,
    /// Its stream.
    pub stream: String,
    /// The feed (the source).
    pub feed: String,
    /// The code.
    pub code: String,
    /// The area's code.
    pub area: String,
    /// First alarm.
    pub first_day: NaiveDate,
    /// Last alarm.
    pub last_day: NaiveDate,
    /// Its alert.
    pub alert: Alert,
    /// Observed on its first day.
    pub observed: f64,
    /// Expected on its first day.
    pub expected: Option<f64>,
    /// Threshold on its first day.
    pub threshold: Option<f64>,
}

/// A stored event as fusion sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventView {
    /// Its id.
    pub id: i64,
    /// The rule.
    pub rule: String,
    /// The area's code.
    pub area: String,
    /// First day.
    pub first_day: NaiveDate,
    /// Last day.
    pub last_day: NaiveDate,
    /// Its signals.
    pub signals: Vec<i64>,
}

/// An event to write: new (`id` none) or changed.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPlan {
    /// The stored event it changes.
    pub id: Option<i64>,
    /// The rule.
    pub rule: String,
    /// The area's code.
    pub area: String,
    /// The area's level.
    pub level: Level,
    /// Its alert.
    pub alert: Alert,
    /// Its score.
    pub score: f64,
    /// First day the rule held.
    pub first_day: NaiveDate,
    /// Last day the rule held.
    pub last_day: NaiveDate,
    /// Its signals, by id.
    pub signals: Vec<i64>,
    /// Its feeds.
    pub sources: Vec<String>,
    /// Why: the rule, the signals and how the alert and score were reached.
    pub explanation: serde_json::Value,
}

/// The events that the signals make on the days `from..=to`, given the stored ones: only
/// those new or changed.
pub fn fuse(
    config: &Config,
    areas: &Areas,
    signals: &[SignalView],
    events: &[EventView],
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<EventPlan> {
    let by_id: HashMap<i64, &SignalView> = signals.iter().map(|s| (s.id, s)).collect();
    let mut out = Vec::new();
    for rule in &config.fusion {
        let members: Vec<(&SignalView, usize)> = signals
            .iter()
            .filter(|s| rule.admits(&s.feed, &s.code))
            .filter_map(|s| areas.get(&s.area).map(|a| (s, a)))
            .collect();
        // The groups: each area at the rule's level holding a member, and each coarser
        // member's own area.
        let mut keys: BTreeSet<usize> = BTreeSet::new();
        for &(_, a) in &members {
            keys.insert(areas.ancestor(a, rule.level).unwrap_or(a));
        }
        for key in keys {
            let group: Vec<&SignalView> = members
                .iter()
                // Its own signals, and coarser ones that hold it.
                .filter(|&&(_, a)| {
                    areas.ancestor(a, rule.level) == Some(key) || areas.contains(a, key)
                })
                .map(|&(s, _)| s)
                .collect();
            let mut stored: Vec<EventView> = events
                .iter()
                .filter(|e| e.rule == rule.name && e.area == areas.code(key))
                .cloned()
                .collect();
            let mut changed: BTreeMap<usize, bool> = BTreeMap::new();
            let window = Duration::days(rule.window_days);
            for t in from.iter_days().take_while(|d| *d <= to) {
                let active: Vec<&SignalView> = group
                    .iter()
                    .copied()
                    .filter(|s| s.first_day <= t && t <= s.last_day + window)
                    .collect();
                let feeds: BTreeSet<&str> = active.iter().map(|s| s.feed.as_str()).collect();
                if feeds.len() < rule.min_sources {
                    continue;
                }
                let i = match stored
                    .iter()
                    .position(|e| e.last_day + window >= t && e.first_day <= t + window)
                {
                    Some(i) => i,
                    None => {
                        stored.push(EventView {
                            id: -1,
                            rule: rule.name.clone(),
                            area: areas.code(key).to_owned(),
                            first_day: t,
                            last_day: t,
                            signals: Vec::new(),
                        });
                        changed.insert(stored.len() - 1, true);
                        stored.len() - 1
                    }
                };
                let e = &mut stored[i];
                let before = (e.first_day, e.last_day, e.signals.len());
                e.first_day = e.first_day.min(t);
                e.last_day = e.last_day.max(t);
                for s in &active {
                    if !e.signals.contains(&s.id) {
                        e.signals.push(s.id);
                    }
                }
                if before != (e.first_day, e.last_day, e.signals.len()) {
                    changed.entry(i).or_insert(false);
                }
            }
            for (i, _) in changed {
                let e = &stored[i];
                let mut signals: Vec<&SignalView> = e
                    .signals
                    .iter()
                    .filter_map(|id| by_id.get(id).copied())
                    .collect();
                signals.sort_by_key(|s| s.id);
                out.push(plan(rule, areas, key, e, &signals));
            }
        }
    }
    out
}

/// A signal's strength: how far it went past its line, capped.
fn strength(s: &SignalView) -> f64 {
    let line = s
        .threshold
        .filter(|t| *t > 0.0)
        .or(s.expected.filter(|e| *e > 0.0))
        .unwrap_or(1.0);
    (s.observed / line).clamp(0.0, 5.0)
}

fn plan(
    rule: &FusionRule,
    areas: &Areas,
    key: usize,
    e: &EventView,
    signals: &[&SignalView],
) -> EventPlan {
    let mut best: BTreeMap<&str, f64> = BTreeMap::new();
    for s in signals {
        let v = best.entry(s.feed.as_str()).or_insert(0.0);
        *v = v.max(strength(s));
    }
    let sources: Vec<String> = best.keys().map(|s| (*s).to_owned()).collect();
    let score: f64 = best.values().sum();
    let base = signals
        .iter()
        .map(|s| s.alert)
        .max()
        .unwrap_or(Alert::Yellow);
    let steps = 1 + sources.len().saturating_sub(rule.min_sources);
    let alert = (0..steps).fold(base, |a, _| a.raised());
    let explanation = json!({
        "rule": rule.name,
        "zh": rule.zh,
        "level": rule.level.as_str(),
        "window_days": rule.window_days,
        "min_sources": rule.min_sources,
        "sources": sources,
        "signals": signals.iter().map(|s| json!({
            "id": s.id,
            "stream": s.stream,
            "feed": s.feed,
            "code": s.code,
            "area": s.area,
            "first_day": s.first_day,
            "last_day": s.last_day,
            "observed": s.observed,
            "threshold": s.threshold,
            "strength": strength(s),
        })).collect::<Vec<_>>(),
        "alert": {
            "base": base.as_str(),
            "steps": steps,
            "result": alert.as_str(),
            "why": format!(
                "{} independent sources (at least {} make an event; each further source raises it once more)",
                sources.len(), rule.min_sources
            ),
        },
        "score": {
            "value": score,
            "formula": "sum over sources of the strongest signal's observed / threshold, each capped at 5",
        },
    });
    EventPlan {
        id: (e.id >= 0).then_some(e.id),
        rule: rule.name.clone(),
        area: areas.code(key).to_owned(),
        level: areas.level(key),
        alert,
        score,
        first_day: e.first_day,
        last_day: e.last_day,
        signals: signals.iter().map(|s| s.id).collect(),
        sources,
        explanation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::areas::tests::city;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, day).unwrap()
    }

    fn sig(id: i64, feed: &str, code: &str, area: &str, first: u32, last: u32) -> SignalView {
        SignalView {
            id,
            stream: format!("{feed}/{code}/{area}/day"),
            feed: feed.into(),
            code: code.into(),
            area: area.into(),
            first_day: d(first),
            last_day: d(last),
            alert: Alert::Yellow,
            observed: 12.0,
            expected: Some(3.0),
            threshold: Some(6.0),
        }
    }

    fn config() -> Config {
        Config::builtin().unwrap()
    }

    #[test]
    fn clinic_and_pharmacy_signals_in_one_street_make_an_orange_event() {
        let areas = city();
        let signals = [
            sig(1, "visits", "gi", "c111", 10, 12),
            sig(2, "pharmacy-sales", "antidiarrhoeal", "S11", 13, 14),
            // Another street: not part of it.
            sig(3, "absenteeism", "ill-gi", "c121", 12, 12),
        ];
        let plans = fuse(&config(), &areas, &signals, &[], d(1), d(31));
        assert_eq!(plans.len(), 1, "{plans:?}");
        let p = &plans[0];
        assert_eq!(
            (p.rule.as_str(), p.area.as_str()),
            ("gastrointestinal", "S11")
        );
        assert_eq!(p.level, Level::Street);
        assert_eq!(p.signals, [1, 2]);
        assert_eq!(p.alert, Alert::Orange);
        assert_eq!(p.first_day, d(13));
        assert!((p.score - 4.0).abs() < 1e-9, "{}", p.score);
        assert_eq!(
            p.explanation["sources"],
            json!(["pharmacy-sales", "visits"])
        );
    }

    #[test]
    fn three_sources_make_red_and_one_source_alone_makes_nothing() {
        let areas = city();
        let one = [
            sig(1, "visits", "ili", "c111", 10, 12),
            sig(2, "visits", "ili", "S11", 10, 12),
        ];
        assert!(fuse(&config(), &areas, &one, &[], d(1), d(31)).is_empty());
        let three = [
            sig(1, "visits", "ili", "c111", 10, 12),
            sig(2, "pharmacy-sales", "antipyretic", "D1", 11, 11),
            sig(3, "lab-results", "influenza-a", "C", 12, 12),
        ];
        let plans = fuse(&config(), &areas, &three, &[], d(1), d(31));
        let p = plans.iter().find(|p| p.area == "S11").unwrap();
        assert_eq!(p.alert, Alert::Red);
        assert_eq!(p.signals, [1, 2, 3]);
    }

    #[test]
    fn signals_too_far_apart_in_time_do_not_fuse_and_a_rerun_changes_nothing() {
        let areas = city();
        let apart = [
            sig(1, "visits", "gi", "c111", 1, 2),
            sig(2, "pharmacy-sales", "antidiarrhoeal", "c112", 20, 21),
        ];
        assert!(fuse(&config(), &areas, &apart, &[], d(1), d(31)).is_empty());
        let near = [
            sig(1, "visits", "gi", "c111", 10, 12),
            sig(2, "pharmacy-sales", "antidiarrhoeal", "c112", 14, 14),
        ];
        let plans = fuse(&config(), &areas, &near, &[], d(1), d(31));
        assert_eq!(plans.len(), 1);
        let stored = [EventView {
            id: 9,
            rule: plans[0].rule.clone(),
            area: plans[0].area.clone(),
            first_day: plans[0].first_day,
            last_day: plans[0].last_day,
            signals: plans[0].signals.clone(),
        }];
        assert!(fuse(&config(), &areas, &near, &stored, d(1), d(31)).is_empty());
        // A new clinic signal while the pharmacy signal is still active continues the stored event.
        let more = [
            near[0].clone(),
            near[1].clone(),
            sig(3, "visits", "gi", "c112", 20, 20),
        ];
        let plans = fuse(&config(), &areas, &more, &stored, d(1), d(31));
        assert_eq!(plans.len(), 1);
        assert_eq!(plans[0].id, Some(9));
        assert_eq!(plans[0].signals, [1, 2, 3]);
    }
}
