//! What the surveillance pages show: the day's signals and events by alert level, the alert
//! level of each area for the map, a stream's epidemic curve, a signal or event with what
//! explains it and the masked line list of the records behind it, and the injected outbreaks
//! against the signals (demo).
//!
//! Every call checks the role ([`Permission::ViewSurveillance`], or
//! [`Permission::RunDetection`] for the aggregates) and the jurisdiction: only signals and
//! events whose area lies in the caller's scope are listed, and one outside it is
//! [`AppError::NotFound`]. The line list needs `ViewSurveillance`; its records are masked
//! here (no free text, a masked record number, ages in ten-year bands) and each read is
//! audited before it is answered.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use chrono::{Datelike, Duration, NaiveDate};
use hc_core::access::Permission;
use hc_core::validate::subtree_prefix;
use hc_store::{DemoOutbreak, EventRow, SignalDay, SignalFilter, SignalRow, Store, StoreError};
use hc_surveillance::truth::{Detection, OutbreakSpan, SignalSpan, Summary};
use hc_surveillance::{Alert, Areas, Config, Level, Period};
use serde::Serialize;

use crate::AppError;
use crate::audit::{Caller, Event};

/// Rows of a line list shown at most.
pub const LINE_LIST_LIMIT: i64 = 200;

/// The feeds, in the order the pages list them.
pub const FEEDS: [&str; 5] = [
    "visits",
    "cases",
    "pharmacy-sales",
    "absenteeism",
    "lab-results",
];

/// The alert levels, most urgent first.
pub const ALERTS: [Alert; 4] = [Alert::Red, Alert::Orange, Alert::Yellow, Alert::Blue];

/// Refuses callers who may see neither the signals nor their aggregates.
fn require_view(caller: &Caller) -> Result<(), AppError> {
    if caller.require(Permission::ViewSurveillance).is_err() {
        caller.require(Permission::RunDetection)?;
    }
    Ok(())
}

/// Whether area `code` lies in the caller's jurisdiction.
fn in_scope(caller: &Caller, code: &str) -> bool {
    caller.scope().contains_unit(code)
}

/// The built-in stream configuration (the rules a stream page recomputes a curve with when no
/// signal of the stream says which method it used).
fn builtin() -> Option<Arc<Config>> {
    static CONFIG: OnceLock<Option<Arc<Config>>> = OnceLock::new();
    CONFIG
        .get_or_init(|| Config::builtin().ok().map(Arc::new))
        .clone()
}

/// The level of an org-unit code by its shape: 12 digits a community, 9 a street, 6 a
/// district, or a city when it ends in `00`.
pub fn level_of(code: &str) -> Option<Level> {
    match code.len() {
        12 => Some(Level::Community),
        9 => Some(Level::Street),
        6 if code.ends_with("00") => Some(Level::City),
        6 => Some(Level::District),
        _ => None,
    }
}

/// Which of the day's signals and events to list.
#[derive(Debug, Clone, Default)]
pub struct BoardFilter {
    /// Only this alert colour.
    pub alert: Option<Alert>,
    /// Only this feed (events: those with a source of it).
    pub feed: Option<String>,
    /// Only in this district (or other org unit).
    pub area: Option<String>,
}

/// The signals and events active on a day.
#[derive(Debug, Clone, Serialize)]
pub struct Board {
    /// The day.
    pub date: NaiveDate,
    /// Signals whose alarm covers the day (a weekly one: its week), most urgent first.
    pub signals: Vec<SignalRow>,
    /// Events whose days reach the day or the six before, most urgent first, with their
    /// signals' ids.
    pub events: Vec<(EventRow, Vec<i64>)>,
    /// The highest alert of the open signals per district and per street (all signals of
    /// the day in the caller's jurisdiction, before the filters).
    pub area_alerts: HashMap<String, Alert>,
}

fn alert_of(s: &str) -> Alert {
    Alert::parse(s).unwrap_or(Alert::Blue)
}

/// The last day a signal's alarms cover: a weekly alarm covers its week.
pub fn covers_until(s: &SignalRow) -> NaiveDate {
    if s.frequency == "week" {
        s.last_day + Duration::days(6)
    } else {
        s.last_day
    }
}

/// The signals and events active on `date` in the caller's jurisdiction, filtered.
pub async fn board(
    store: &Store,
    caller: &Caller,
    date: NaiveDate,
    filter: &BoardFilter,
) -> Result<Board, AppError> {
    require_view(caller)?;
    let scope_prefix = caller.scope().prefix().map(str::to_owned);
    let window = SignalFilter {
        from: Some(date - Duration::days(6)),
        to: Some(date),
        area_prefix: scope_prefix.clone(),
        limit: None,
    };
    let all: Vec<SignalRow> = store
        .signals(&window)
        .await?
        .into_iter()
        .filter(|s| s.first_day <= date && covers_until(s) >= date)
        .collect();
    let area_alerts = area_alerts(store, &all).await?;
    let area_prefix = filter.area.as_deref().map(subtree_prefix);
    let keep_area = |code: &str| area_prefix.is_none_or(|p| code.starts_with(p));
    let mut signals: Vec<SignalRow> = all
        .into_iter()
        .filter(|s| filter.alert.is_none_or(|a| alert_of(&s.alert) == a))
        .filter(|s| filter.feed.as_deref().is_none_or(|f| s.feed == f))
        .filter(|s| keep_area(&s.area_code))
        .collect();
    signals.sort_by(|a, b| {
        alert_of(&b.alert)
            .cmp(&alert_of(&a.alert))
            .then(b.first_day.cmp(&a.first_day))
            .then(a.id.cmp(&b.id))
    });
    let mut events: Vec<(EventRow, Vec<i64>)> = store
        .events(&window)
        .await?
        .into_iter()
        .filter(|(e, _)| e.first_day <= date && e.last_day >= date - Duration::days(6))
        .filter(|(e, _)| filter.alert.is_none_or(|a| alert_of(&e.alert) == a))
        .filter(|(e, _)| {
            filter
                .feed
                .as_deref()
                .is_none_or(|f| e.sources.contains(&format!("\"{f}\"")))
        })
        .filter(|(e, _)| keep_area(&e.area_code))
        .collect();
    events.sort_by(|(a, _), (b, _)| {
        alert_of(&b.alert)
            .cmp(&alert_of(&a.alert))
            .then(b.score.total_cmp(&a.score))
            .then(a.id.cmp(&b.id))
    });
    Ok(Board {
        date,
        signals,
        events,
        area_alerts,
    })
}

/// The highest alert of the open signals held by each district and street.
async fn area_alerts(
    store: &Store,
    signals: &[SignalRow],
) -> Result<HashMap<String, Alert>, AppError> {
    let mut out: HashMap<String, Alert> = HashMap::new();
    if signals.is_empty() {
        return Ok(out);
    }
    let areas = crate::surveillance::load_areas(store).await?;
    for s in signals.iter().filter(|s| s.status != "closed") {
        let Some(i) = areas.get(&s.area_code) else {
            continue;
        };
        let alert = alert_of(&s.alert);
        for level in [Level::Street, Level::District] {
            if let Some(a) = areas.ancestor(i, level) {
                let e = out.entry(areas.code(a).to_owned()).or_insert(alert);
                *e = (*e).max(alert);
            }
        }
    }
    Ok(out)
}

/// A stream: `feed/code/area/period`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamKey {
    /// The feed.
    pub feed: String,
    /// The code.
    pub code: String,
    /// The area's code.
    pub area: String,
    /// Day or week.
    pub period: Period,
}

impl StreamKey {
    /// Parses `feed/code/area/period`; `None` unless each part is well formed.
    pub fn parse(s: &str) -> Option<StreamKey> {
        let mut parts = s.split('/');
        let (feed, code, area, period) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        StreamKey::new(feed, code, area, period)
    }

    /// A stream from its parts; `None` unless each is well formed.
    pub fn new(feed: &str, code: &str, area: &str, period: &str) -> Option<StreamKey> {
        let period = match period {
            "day" => Period::Day,
            "week" => Period::Week,
            _ => return None,
        };
        let code_ok = !code.is_empty()
            && code.len() <= 64
            && code
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'));
        if !FEEDS.contains(&feed) || !code_ok || level_of(area).is_none() {
            return None;
        }
        if !area.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(StreamKey {
            feed: feed.to_owned(),
            code: code.to_owned(),
            area: area.to_owned(),
            period,
        })
    }

    /// The level of its area.
    pub fn level(&self) -> Option<Level> {
        level_of(&self.area)
    }

    /// `feed/code/area/period`.
    pub fn id(&self) -> String {
        hc_surveillance::evaluate::stream_id(&self.feed, &self.code, &self.area, self.period)
    }
}

/// One period of an epidemic curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurvePoint {
    /// The day (a week: its Monday).
    pub day: NaiveDate,
    /// The period's count.
    pub observed: f64,
    /// The expected count.
    pub expected: Option<f64>,
    /// The threshold in cases.
    pub threshold: Option<f64>,
    /// The signal whose alarm falls on the period.
    pub alarm: Option<i64>,
}

/// A stream's epidemic curve over a period.
#[derive(Debug, Clone)]
pub struct StreamView {
    /// The stream.
    pub key: StreamKey,
    /// The method the expected and threshold lines come from, with its parameters.
    pub method: Option<(String, String)>,
    /// Why there are no expected and threshold lines beyond the alarm days, if there are none.
    pub no_baseline: Option<String>,
    /// One point per period, oldest first.
    pub points: Vec<CurvePoint>,
    /// The stream's signals that meet the period.
    pub signals: Vec<SignalRow>,
}

/// The Monday of `d`'s ISO week.
fn monday(d: NaiveDate) -> NaiveDate {
    d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

/// The epidemic curve of `key` from `from` to `to`: the counts as stored now, the expected
/// count and threshold recomputed by the method of the stream's latest signal (or of the
/// built-in rule for the stream), and the stored alarms.
pub async fn stream(
    store: &Store,
    caller: &Caller,
    key: &StreamKey,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<StreamView, AppError> {
    require_view(caller)?;
    if !in_scope(caller, &key.area) {
        return Err(AppError::NotFound("stream"));
    }
    if from > to || (to - from).num_days() > 3 * 366 {
        return Err(AppError::invalid(
            "from",
            "from must be before to, within three years",
        ));
    }
    let stream_id = key.id();
    let signals: Vec<SignalRow> = store
        .signals(&SignalFilter {
            from: Some(from - Duration::days(6)),
            to: Some(to),
            area_prefix: Some(key.area.clone()),
            limit: None,
        })
        .await?
        .into_iter()
        .filter(|s| s.stream == stream_id)
        .collect();
    // The method: the latest signal's, else the built-in rule for the stream.
    let level = level_of(&key.area).ok_or(AppError::NotFound("stream"))?;
    let config = builtin();
    let rule = config.as_ref().and_then(|c| {
        c.rules.iter().find(|r| {
            r.feed == key.feed
                && r.codes.contains(&key.code)
                && r.levels.contains(&level)
                && r.period == key.period
        })
    });
    let school_days = rule.is_some_and(|r| r.school_days);
    let (method, detector) = match signals.first() {
        Some(s) => {
            let d = hc_detect::Params::parse(&s.params)
                .ok()
                .and_then(|p| hc_detect::detector(&s.method, p).ok());
            (Some((s.method.clone(), s.params.clone())), d)
        }
        None => match rule {
            Some(r) => (
                Some((r.method.clone(), r.detector.describe())),
                hc_detect::Params::parse(&r.detector.describe())
                    .ok()
                    .and_then(|p| hc_detect::detector(&r.method, p).ok()),
            ),
            None => (None, None),
        },
    };
    let step = key.period.days();
    let first = match key.period {
        Period::Day => from,
        Period::Week => monday(from),
    };
    let last = match key.period {
        Period::Day => to,
        Period::Week => monday(to),
    };
    // History for the method: as the rule would read it, or three years and a bit.
    let history_days = match (rule, key.period) {
        (Some(r), _) => hc_surveillance::evaluate::history_periods(r, to) as i64 * step + 14,
        (None, Period::Day) => 120,
        (None, Period::Week) => 3 * 366 + 28,
    };
    let start = first - Duration::days(history_days.max(step));
    let start = match key.period {
        Period::Day => start,
        Period::Week => monday(start),
    };
    let prefix = subtree_prefix(&key.area);
    let counts = store
        .area_daily_counts(
            &key.feed,
            &key.code,
            prefix,
            start,
            last + Duration::days(step - 1),
        )
        .await?;
    let n = ((last - start).num_days() / step + 1).max(0) as usize;
    let mut values = vec![0.0; n];
    for (day, v) in counts {
        let i = ((day - start).num_days() / step) as usize;
        if let Some(slot) = values.get_mut(i) {
            *slot += v as f64;
        }
    }
    let offset = ((first - start).num_days() / step) as usize;
    let mut points: Vec<CurvePoint> = values
        .iter()
        .enumerate()
        .skip(offset)
        .map(|(i, v)| CurvePoint {
            day: start + Duration::days(i as i64 * step),
            observed: *v,
            expected: None,
            threshold: None,
            alarm: None,
        })
        .collect();
    let mut no_baseline = None;
    match (&detector, school_days) {
        (_, true) => no_baseline = Some("school_days".to_owned()),
        (None, _) => no_baseline = Some("no_method".to_owned()),
        (Some(det), false) => {
            let frequency = match key.period {
                Period::Day => hc_detect::Frequency::Daily,
                Period::Week => hc_detect::Frequency::Weekly,
            };
            let series = hc_detect::Series::regular(
                key.id(),
                start,
                frequency,
                values.iter().map(|v| Some(*v)).collect(),
            );
            let evaluable = det.first_index(&series).unwrap_or(usize::MAX);
            let begin = offset.max(evaluable);
            if begin < n {
                match det.evaluate(&series, begin..=n - 1) {
                    Ok(evals) => {
                        for e in evals {
                            if let Some(p) =
                                e.index.checked_sub(offset).and_then(|i| points.get_mut(i))
                            {
                                p.expected = e.expected;
                                p.threshold = e.limit.or(e.upperbound);
                            }
                        }
                    }
                    Err(e) => no_baseline = Some(e.to_string()),
                }
            } else {
                no_baseline = Some("history".to_owned());
            }
        }
    }
    // The stored alarms, with their figures where none were recomputed.
    for (signal, d) in store.stream_alarm_days(&stream_id, first, last).await? {
        let i = ((d.day - first).num_days() / step) as usize;
        if let Some(p) = points.get_mut(i) {
            p.alarm = Some(signal);
            p.expected = p.expected.or(d.expected);
            p.threshold = p.threshold.or(d.threshold);
        }
    }
    Ok(StreamView {
        key: key.clone(),
        method,
        no_baseline,
        points,
        signals,
    })
}

/// A record behind a signal, masked.
#[derive(Debug, Clone, Serialize)]
pub struct LineItem {
    /// The day it counts on.
    pub day: NaiveDate,
    /// Its community.
    pub community_code: String,
    /// The sending institution.
    pub source_code: String,
    /// The sender's record number, masked.
    pub record_ref: String,
    /// Sex code, when the record has one.
    pub sex: Option<String>,
    /// Age in a ten-year band (`30–39`), when the record has one.
    pub age_band: Option<String>,
    /// What the record adds to the counts (`ili=1`).
    pub counts: String,
    /// Coded facts that identify no one (classification, category, quantity …), `key=value`.
    pub facts: Vec<(String, String)>,
}

/// Fields of a record that may be shown in a line list: codes and quantities, never free text.
const SHOWN_FIELDS: [&str; 11] = [
    "classification",
    "disease_code",
    "syndromes",
    "drug_category",
    "quantity",
    "enrolled",
    "absent",
    "absent_ill",
    "symptom",
    "pathogen",
    "result",
];

/// `AB****12`: the first two and last two characters of a record number; all stars when short.
pub fn mask_ref(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 6 {
        return "****".to_owned();
    }
    let head: String = chars[..2].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}****{tail}")
}

fn line_item(r: hc_store::LineRecord) -> LineItem {
    let fields: serde_json::Value = serde_json::from_str(&r.fields).unwrap_or_default();
    let text = |k: &str| match fields.get(k) {
        Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let age_band = fields
        .get("age")
        .and_then(|v| {
            v.as_f64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse::<f64>().ok()))
        })
        .filter(|a| a.is_finite())
        .map(|a| a as i64)
        .map(|a| {
            let lo = a.max(0) / 10 * 10;
            format!("{lo}–{}", lo + 9)
        });
    let facts = SHOWN_FIELDS
        .iter()
        .filter_map(|k| text(k).map(|v| ((*k).to_owned(), v.chars().take(60).collect())))
        .collect();
    LineItem {
        day: r.day,
        community_code: r.community_code,
        source_code: r.source_code,
        record_ref: mask_ref(&r.record_id),
        sex: text("sex"),
        age_band,
        counts: r.contrib.replace('|', ", "),
        facts,
    }
}

/// A signal with what explains it.
#[derive(Debug, Clone)]
pub struct SignalDetail {
    /// The signal.
    pub row: SignalRow,
    /// The baseline counts its first alarm was compared with (JSON).
    pub baseline: serde_json::Value,
    /// Method-specific facts (JSON).
    pub detail: serde_json::Value,
    /// Its alarm days.
    pub days: Vec<SignalDay>,
    /// The events it was fused into.
    pub events: Vec<EventRow>,
    /// The records behind it, masked; `None` when the role may not see line lists.
    pub lines: Option<Vec<LineItem>>,
    /// How many records there are in all.
    pub lines_total: i64,
}

/// Signal `id` with its explanation; with the masked line list (audited) when the role may
/// see it.
pub async fn signal(store: &Store, caller: &Caller, id: i64) -> Result<SignalDetail, AppError> {
    require_view(caller)?;
    let (row, baseline, detail, days) = match store.signal(id).await {
        Ok(s) => s,
        Err(StoreError::NotFound) => return Err(AppError::NotFound("signal")),
        Err(e) => return Err(e.into()),
    };
    if !in_scope(caller, &row.area_code) {
        return Err(AppError::NotFound("signal"));
    }
    let events = store
        .signal_events(id)
        .await?
        .into_iter()
        .filter(|e| in_scope(caller, &e.area_code))
        .collect();
    let (mut lines, mut lines_total) = (None, 0);
    if caller.principal.can(Permission::ViewSurveillance) {
        let (records, total) = store
            .line_list(
                &row.feed,
                &row.code,
                subtree_prefix(&row.area_code),
                row.first_day,
                covers_until(&row),
                LINE_LIST_LIMIT,
            )
            .await?;
        caller
            .record(
                store,
                Event::new("read", "surv_line_list").id(id).detail(format!(
                    "{} of {total} records of {}",
                    records.len(),
                    row.stream
                )),
            )
            .await?;
        lines = Some(records.into_iter().map(line_item).collect());
        lines_total = total;
    }
    Ok(SignalDetail {
        row,
        baseline: serde_json::from_str(&baseline).unwrap_or_default(),
        detail: serde_json::from_str(&detail).unwrap_or_default(),
        days,
        events,
        lines,
        lines_total,
    })
}

/// An event with its signals.
#[derive(Debug, Clone, Serialize)]
pub struct EventDetail {
    /// The event.
    pub row: EventRow,
    /// Its sources (feeds).
    pub sources: Vec<String>,
    /// Why it was raised (the fusion's explanation, JSON).
    pub explanation: serde_json::Value,
    /// Its signals in the caller's jurisdiction.
    pub signals: Vec<SignalRow>,
}

/// Event `id` with its signals.
pub async fn event(store: &Store, caller: &Caller, id: i64) -> Result<EventDetail, AppError> {
    require_view(caller)?;
    let (row, _) = match store.event(id).await {
        Ok(e) => e,
        Err(StoreError::NotFound) => return Err(AppError::NotFound("event")),
        Err(e) => return Err(e.into()),
    };
    if !in_scope(caller, &row.area_code) {
        return Err(AppError::NotFound("event"));
    }
    let signals = store
        .event_signals(id)
        .await?
        .into_iter()
        .filter(|s| in_scope(caller, &s.area_code))
        .collect();
    Ok(EventDetail {
        sources: serde_json::from_str(&row.sources).unwrap_or_default(),
        explanation: serde_json::from_str(&row.explanation).unwrap_or_default(),
        row,
        signals,
    })
}

/// One stream of an injected outbreak and what found it.
#[derive(Debug, Clone, Serialize)]
pub struct TruthStream {
    /// What was injected.
    pub outbreak: DemoOutbreak,
    /// What the signals made of it.
    pub detection: Detection,
}

/// An injected outbreak: its streams (rows sharing a description).
#[derive(Debug, Clone, Serialize)]
pub struct TruthOutbreak {
    /// What happened.
    pub description: String,
    /// Its first day.
    pub first_day: NaiveDate,
    /// Its streams.
    pub streams: Vec<TruthStream>,
    /// Days from its first day to the first signal of any of its streams.
    pub delay_days: Option<i64>,
}

/// The injected outbreaks in the caller's jurisdiction against the signals.
#[derive(Debug, Clone, Serialize)]
pub struct Truth {
    /// By first day.
    pub outbreaks: Vec<TruthOutbreak>,
    /// Outbreaks found, in all, median delay.
    pub summary: Summary,
    /// The same over the outbreaks' streams.
    pub streams: Summary,
}

/// Which injected outbreaks the signals found, and how many days after they began.
pub async fn truth(store: &Store, caller: &Caller) -> Result<Truth, AppError> {
    require_view(caller)?;
    let outbreaks: Vec<DemoOutbreak> = store
        .demo_outbreaks()
        .await?
        .into_iter()
        .filter(|o| in_scope(caller, &o.area_code))
        .collect();
    if outbreaks.is_empty() {
        return Ok(Truth {
            outbreaks: Vec::new(),
            summary: hc_surveillance::truth::summary(&[]),
            streams: hc_surveillance::truth::summary(&[]),
        });
    }
    let signals: Vec<SignalSpan> = store
        .signals(&SignalFilter {
            area_prefix: caller.scope().prefix().map(str::to_owned),
            ..SignalFilter::default()
        })
        .await?
        .into_iter()
        .map(|s| SignalSpan {
            id: s.id,
            period_days: if s.frequency == "week" { 7 } else { 1 },
            feed: s.feed,
            code: s.code,
            area: s.area_code,
            first_day: s.first_day,
            last_day: s.last_day,
        })
        .collect();
    let areas: Areas = crate::surveillance::load_areas(store).await?;
    let spans: Vec<OutbreakSpan> = outbreaks
        .iter()
        .map(|o| OutbreakSpan {
            feed: o.feed.clone(),
            code: o.code.clone(),
            area: o.area_code.clone(),
            first_day: o.first_day,
            last_day: o.last_day,
        })
        .collect();
    let found = hc_surveillance::truth::detect(&areas, &spans, &signals);
    let stream_summary =
        hc_surveillance::truth::summary(&found.iter().map(|d| d.delay_days).collect::<Vec<_>>());
    let mut groups: BTreeMap<String, Vec<TruthStream>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for (o, d) in outbreaks.into_iter().zip(found) {
        if !groups.contains_key(&o.description) {
            order.push(o.description.clone());
        }
        groups
            .entry(o.description.clone())
            .or_default()
            .push(TruthStream {
                outbreak: o,
                detection: d,
            });
    }
    let mut list: Vec<TruthOutbreak> = order
        .into_iter()
        .filter_map(|desc| {
            let streams = groups.remove(&desc)?;
            let first_day = streams.iter().map(|s| s.outbreak.first_day).min()?;
            let delay_days = streams
                .iter()
                .filter_map(|s| s.detection.signal_day)
                .min()
                .map(|d| (d - first_day).num_days().max(0));
            Some(TruthOutbreak {
                description: desc,
                first_day,
                streams,
                delay_days,
            })
        })
        .collect();
    list.sort_by_key(|o| o.first_day);
    let summary =
        hc_surveillance::truth::summary(&list.iter().map(|o| o.delay_days).collect::<Vec<_>>());
    Ok(Truth {
        outbreaks: list,
        summary,
        streams: stream_summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_parse_and_refs_are_masked() {
        let k = StreamKey::parse("visits/ili/440305001001/day").unwrap();
        assert_eq!(
            (k.level(), k.id().as_str()),
            (Some(Level::Community), "visits/ili/440305001001/day")
        );
        assert!(StreamKey::parse("visits/ili/440305/month").is_none());
        assert!(StreamKey::parse("mail/ili/440305/day").is_none());
        assert!(StreamKey::parse("visits/i li/440305/day").is_none());
        assert!(StreamKey::parse("visits/ili/4403x5/day").is_none());
        assert!(StreamKey::parse("visits/ili/440305/day/x").is_none());
        assert_eq!(level_of("440300"), Some(Level::City));
        assert_eq!(level_of("440305"), Some(Level::District));
        assert_eq!(mask_ref("V2026031200123"), "V2****23");
        assert_eq!(mask_ref("abc"), "****");
        assert_eq!(
            monday(NaiveDate::from_ymd_opt(2026, 12, 6).unwrap()).to_string(),
            "2026-11-30"
        );
    }
}
