//! Which known outbreaks the signals found, and how soon: the demo's injected outbreaks (or an
//! exercise's) against the stored signals.
//!
//! A signal matches an outbreak stream when it watches the same feed and code, its area is
//! the outbreak's area or holds it, and its days meet the outbreak's days extended by a week
//! (`first_day ..= last_day + 7`: a signal raised just after the last extra record still found
//! it). A weekly signal's day is the Monday of its week and covers the six days after. The
//! delay is from the outbreak's first day to the first matching signal's first day, never
//! below zero (a weekly signal's Monday may come before the first record).
//!
//! ```
//! use chrono::NaiveDate;
//! use hc_surveillance::{Areas, Level};
//! use hc_surveillance::truth::{OutbreakSpan, SignalSpan, detect};
//! let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
//! let areas = Areas::new(&[
//!     ("1".into(), None, Level::City),
//!     ("11".into(), Some("1".into()), Level::District),
//! ]).unwrap();
//! let outbreak = OutbreakSpan { feed: "visits".into(), code: "ili".into(), area: "11".into(),
//!     first_day: d("2026-03-01"), last_day: d("2026-03-10") };
//! let signal = SignalSpan { id: 7, feed: "visits".into(), code: "ili".into(), area: "1".into(),
//!     first_day: d("2026-03-04"), last_day: d("2026-03-06"), period_days: 1 };
//! let found = detect(&areas, &[outbreak], &[signal]);
//! assert_eq!((found[0].signal, found[0].delay_days), (Some(7), Some(3)));
//! ```

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use crate::Areas;

/// Days after an outbreak's last day in which a signal still counts as finding it.
pub const GRACE_DAYS: i64 = 7;

/// One stream of a known outbreak: extra records of `feed`'s `code` in `area`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutbreakSpan {
    /// The feed.
    pub feed: String,
    /// The code (syndrome, disease, drug category …).
    pub code: String,
    /// The community or street of the extra records.
    pub area: String,
    /// The first day with an extra record.
    pub first_day: NaiveDate,
    /// The last day with an extra record.
    pub last_day: NaiveDate,
}

/// A stored signal, as far as matching needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignalSpan {
    /// Its id.
    pub id: i64,
    /// The feed.
    pub feed: String,
    /// The code.
    pub code: String,
    /// Its area.
    pub area: String,
    /// Its first alarm (a weekly signal: the Monday of the week).
    pub first_day: NaiveDate,
    /// Its last alarm.
    pub last_day: NaiveDate,
    /// Days one alarm covers: 1 for a daily stream, 7 for a weekly one.
    pub period_days: i64,
}

/// What the signals made of one outbreak stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detection {
    /// The outbreak stream's position in the input.
    pub outbreak: usize,
    /// The first matching signal (the earliest first day; the lowest id among equals).
    pub signal: Option<i64>,
    /// Its first day.
    pub signal_day: Option<NaiveDate>,
    /// Days from the outbreak's first day to the signal's, at least 0.
    pub delay_days: Option<i64>,
    /// Every matching signal, by id.
    pub signals: Vec<i64>,
}

/// Whether `signal` found `outbreak` (see the module documentation).
pub fn matches(areas: &Areas, outbreak: &OutbreakSpan, signal: &SignalSpan) -> bool {
    if signal.feed != outbreak.feed || signal.code != outbreak.code {
        return false;
    }
    let within = match (areas.get(&signal.area), areas.get(&outbreak.area)) {
        (Some(s), Some(o)) => areas.contains(s, o),
        // Areas the tree does not know match only themselves.
        _ => signal.area == outbreak.area,
    };
    let signal_end = signal.last_day + Duration::days(signal.period_days.max(1) - 1);
    let outbreak_end = outbreak.last_day + Duration::days(GRACE_DAYS);
    within && signal.first_day <= outbreak_end && signal_end >= outbreak.first_day
}

/// For each outbreak stream, the signals that found it and the delay of the first.
pub fn detect(areas: &Areas, outbreaks: &[OutbreakSpan], signals: &[SignalSpan]) -> Vec<Detection> {
    outbreaks
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let mut found: Vec<&SignalSpan> =
                signals.iter().filter(|s| matches(areas, o, s)).collect();
            found.sort_by_key(|s| (s.first_day, s.id));
            let first = found.first();
            let mut ids: Vec<i64> = found.iter().map(|s| s.id).collect();
            ids.sort_unstable();
            Detection {
                outbreak: i,
                signal: first.map(|s| s.id),
                signal_day: first.map(|s| s.first_day),
                delay_days: first.map(|s| (s.first_day - o.first_day).num_days().max(0)),
                signals: ids,
            }
        })
        .collect()
}

/// How many of `n` were found and the median delay of those found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Found.
    pub detected: usize,
    /// In all.
    pub total: usize,
    /// The median delay in days of those found.
    pub median_delay: Option<f64>,
}

/// Sums up delays: `None` for an outbreak not found.
pub fn summary(delays: &[Option<i64>]) -> Summary {
    let mut found: Vec<i64> = delays.iter().flatten().copied().collect();
    found.sort_unstable();
    let n = found.len();
    let median_delay = match n {
        0 => None,
        _ if n % 2 == 1 => Some(found[n / 2] as f64),
        _ => Some((found[n / 2 - 1] + found[n / 2]) as f64 / 2.0),
    };
    Summary {
        detected: n,
        total: delays.len(),
        median_delay,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Level;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn areas() -> Areas {
        let u = |c: &str, p: Option<&str>, l| (c.to_owned(), p.map(str::to_owned), l);
        Areas::new(&[
            u("440300", None, Level::City),
            u("440305", Some("440300"), Level::District),
            u("440305001", Some("440305"), Level::Street),
            u("440305001001", Some("440305001"), Level::Community),
            u("440305002", Some("440305"), Level::Street),
            u("440304", Some("440300"), Level::District),
        ])
        .unwrap()
    }

    fn outbreak() -> OutbreakSpan {
        OutbreakSpan {
            feed: "visits".into(),
            code: "ili".into(),
            area: "440305001001".into(),
            first_day: d("2026-03-10"),
            last_day: d("2026-03-20"),
        }
    }

    fn signal(id: i64, area: &str, first: &str, last: &str) -> SignalSpan {
        SignalSpan {
            id,
            feed: "visits".into(),
            code: "ili".into(),
            area: area.into(),
            first_day: d(first),
            last_day: d(last),
            period_days: 1,
        }
    }

    #[test]
    fn a_signal_matches_in_its_area_or_above_within_the_days_and_a_week_after() {
        let a = areas();
        let o = outbreak();
        for area in ["440305001001", "440305001", "440305", "440300"] {
            assert!(
                matches(&a, &o, &signal(1, area, "2026-03-12", "2026-03-12")),
                "{area}"
            );
        }
        // A sibling street, another district: no.
        assert!(!matches(
            &a,
            &o,
            &signal(1, "440305002", "2026-03-12", "2026-03-12")
        ));
        assert!(!matches(
            &a,
            &o,
            &signal(1, "440304", "2026-03-12", "2026-03-12")
        ));
        // Another code or feed: no.
        let mut other = signal(1, "440305", "2026-03-12", "2026-03-12");
        other.code = "gi".into();
        assert!(!matches(&a, &o, &other));
        other.code = "ili".into();
        other.feed = "cases".into();
        assert!(!matches(&a, &o, &other));
        // Days: up to a week after the last day, not before the first.
        assert!(matches(
            &a,
            &o,
            &signal(1, "440305", "2026-03-27", "2026-03-28")
        ));
        assert!(!matches(
            &a,
            &o,
            &signal(1, "440305", "2026-03-28", "2026-03-29")
        ));
        assert!(!matches(
            &a,
            &o,
            &signal(1, "440305", "2026-03-01", "2026-03-09")
        ));
        // A signal open since before the outbreak overlaps it.
        assert!(matches(
            &a,
            &o,
            &signal(1, "440305", "2026-03-01", "2026-03-10")
        ));
        // A weekly signal's Monday before the first day still covers its week.
        let mut weekly = signal(1, "440305", "2026-03-09", "2026-03-09");
        assert!(!matches(&a, &o, &weekly));
        weekly.period_days = 7;
        assert!(matches(&a, &o, &weekly));
    }

    #[test]
    fn the_first_signal_gives_the_delay_and_summary_counts_the_found() {
        let a = areas();
        let outbreaks = [outbreak(), {
            let mut o = outbreak();
            o.code = "gi".into();
            o
        }];
        let signals = [
            signal(5, "440305", "2026-03-14", "2026-03-15"),
            signal(3, "440305001001", "2026-03-12", "2026-03-13"),
            signal(9, "440304", "2026-03-11", "2026-03-13"),
            signal(4, "440300", "2026-03-05", "2026-03-11"),
        ];
        let found = detect(&a, &outbreaks, &signals);
        assert_eq!(found[0].signal, Some(4));
        assert_eq!(found[0].delay_days, Some(0), "never negative");
        assert_eq!(found[0].signals, vec![3, 4, 5]);
        assert_eq!(found[1].signal, None);
        assert_eq!(found[1].delay_days, None);
        let s = summary(&[Some(0), None, Some(3), Some(2), Some(5)]);
        assert_eq!((s.detected, s.total), (4, 5));
        assert_eq!(s.median_delay, Some(2.5));
        assert_eq!(summary(&[None]).median_delay, None);
        assert_eq!(
            summary(&[Some(4), Some(1), Some(9)]).median_delay,
            Some(4.0)
        );
    }
}
