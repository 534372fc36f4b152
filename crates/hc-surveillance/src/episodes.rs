//! Dedup: a stream's alarms grouped into episodes, each episode one signal. A stream that stays
//! above its threshold extends its signal instead of raising a new one every day; a run that
//! re-evaluates days (late records, a repeated run) finds the signal that already covers them.

use chrono::{Duration, NaiveDate};

use crate::Alarm;

/// A stored signal as episodes see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Its id.
    pub id: i64,
    /// The rule that raised it.
    pub rule: String,
    /// The stream (`feed/code/area/period`).
    pub stream: String,
    /// First alarm.
    pub first_day: NaiveDate,
    /// Last alarm.
    pub last_day: NaiveDate,
}

/// The alarms of one episode of one stream under one rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Episode {
    /// The stored signal they extend; `None`: they raise a new one.
    pub signal: Option<i64>,
    /// Its alarms, by day.
    pub alarms: Vec<Alarm>,
}

/// Groups `alarms` into episodes. An alarm continues a signal (stored or new in this run) of
/// the same rule and stream when it falls no more than `merge_gap` quiet periods after the
/// signal's last alarm (or inside or just before its span, when days are re-evaluated).
pub fn episodes(mut alarms: Vec<Alarm>, stored: &[Stored], merge_gap: i64) -> Vec<Episode> {
    alarms.sort_by(|a, b| (&a.rule, a.stream(), a.day).cmp(&(&b.rule, b.stream(), b.day)));
    let mut out: Vec<Episode> = Vec::new();
    let mut spans: Vec<(Option<i64>, NaiveDate, NaiveDate)> = Vec::new();
    let mut key: Option<(String, String)> = None;
    let mut first_of_key = 0;
    for alarm in alarms {
        let stream = alarm.stream();
        if key.as_ref() != Some(&(alarm.rule.clone(), stream.clone())) {
            key = Some((alarm.rule.clone(), stream.clone()));
            first_of_key = out.len();
            spans = stored
                .iter()
                .filter(|s| s.rule == alarm.rule && s.stream == stream)
                .map(|s| (Some(s.id), s.first_day, s.last_day))
                .collect();
        }
        let reach = Duration::days((merge_gap + 1) * alarm.period.days());
        let day = alarm.day;
        // The latest span this day belongs to.
        let found = spans
            .iter()
            .enumerate()
            .filter(|(_, (_, first, last))| day >= *first - reach && day <= *last + reach)
            .max_by_key(|(_, (_, _, last))| *last)
            .map(|(i, _)| i);
        let span = match found {
            Some(i) => i,
            None => {
                spans.push((None, day, day));
                spans.len() - 1
            }
        };
        let (id, first, last) = &mut spans[span];
        *first = (*first).min(day);
        *last = (*last).max(day);
        let id = *id;
        // The episode of this span: a stored signal's, or the new one started for it.
        let existing = out[first_of_key..].iter().position(|e| match id {
            Some(id) => e.signal == Some(id),
            None => e.signal.is_none() && e.alarms.first().is_some_and(|a| a.day == *first),
        });
        match existing {
            Some(i) => out[first_of_key + i].alarms.push(alarm),
            None => out.push(Episode {
                signal: id,
                alarms: vec![alarm],
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::Baseline;
    use crate::{Alert, Level, Period};

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, day).unwrap()
    }

    fn alarm(area: &str, day: u32) -> Alarm {
        Alarm {
            rule: "r".into(),
            feed: "visits".into(),
            code: "ili".into(),
            level: Level::Street,
            area: area.into(),
            period: Period::Day,
            day: d(day),
            method: "ears".into(),
            params: String::new(),
            alert: Alert::Yellow,
            observed: 9.0,
            expected: Some(3.0),
            threshold: Some(6.0),
            score: None,
            p_value: None,
            denominator: None,
            baseline: Baseline {
                start: d(1),
                period: "day",
                counts: vec![],
            },
            detail: serde_json::Value::Null,
        }
    }

    fn days(e: &Episode) -> Vec<u32> {
        use chrono::Datelike;
        e.alarms.iter().map(|a| a.day.day()).collect()
    }

    #[test]
    fn a_stream_that_stays_up_makes_one_signal_and_a_quiet_spell_ends_it() {
        let alarms = [10, 11, 12, 14, 20, 21]
            .map(|day| alarm("S1", day))
            .to_vec();
        let e = episodes(alarms, &[], 2);
        assert_eq!(e.len(), 2);
        assert_eq!(days(&e[0]), [10, 11, 12, 14]);
        assert_eq!(days(&e[1]), [20, 21]);
        assert!(e.iter().all(|e| e.signal.is_none()));
    }

    #[test]
    fn alarms_near_a_stored_signal_extend_it_and_other_streams_stay_apart() {
        let stored = [Stored {
            id: 7,
            rule: "r".into(),
            stream: "visits/ili/S1/day".into(),
            first_day: d(10),
            last_day: d(12),
        }];
        let alarms = vec![
            alarm("S1", 12),
            alarm("S1", 13),
            alarm("S2", 13),
            alarm("S1", 9),
        ];
        let e = episodes(alarms, &stored, 2);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].signal, Some(7));
        assert_eq!(days(&e[0]), [9, 12, 13]);
        assert_eq!((e[1].signal, e[1].alarms[0].area.as_str()), (None, "S2"));
    }

    #[test]
    fn repeating_a_run_finds_the_signal_it_raised() {
        let first = episodes(vec![alarm("S1", 20)], &[], 2);
        assert_eq!(first[0].signal, None);
        let stored = [Stored {
            id: 1,
            rule: "r".into(),
            stream: "visits/ili/S1/day".into(),
            first_day: d(20),
            last_day: d(20),
        }];
        let again = episodes(vec![alarm("S1", 20)], &stored, 2);
        assert_eq!(again[0].signal, Some(1));
    }
}
