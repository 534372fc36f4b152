//! The detection run (`healthcity surveillance run`, and the server's daily schedule) and the
//! signal list (`healthcity surveillance signals`).
//!
//! A run reads the counts each feed's rules need, has `hc-surveillance` evaluate every stream
//! on the days of the run, groups the alarms into signals (extending the open ones), writes
//! them, fuses the signals of the last weeks into events and records the run. The days of a
//! run: from the day after the last run's last day (or the first day whose counts changed
//! since — late records —, at most the configured look-back) to the run date; a first run,
//! only the run date, unless `from` says otherwise.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use chrono::{Duration, NaiveDate};
use hc_core::access::Permission;
use hc_store::{EventWrite, RunStats, SignalDay, SignalFilter, SignalRow, SignalWrite, Store};
use hc_surveillance::episodes::{Stored, episodes};
use hc_surveillance::evaluate::read_start;
use hc_surveillance::fusion::{EventView, SignalView, fuse};
use hc_surveillance::{Alarm, Alert, Areas, Config, Count, FeedCounts, Level};
use serde::Serialize;

use crate::AppError;
use crate::audit::{Caller, Event};
use crate::webhooks::Routes;

/// The longest span one run evaluates; an older `from` is refused.
pub const MAX_RUN_DAYS: i64 = 3 * 366;

/// What a run did.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The run's id.
    pub run_id: i64,
    /// First day evaluated.
    pub from: NaiveDate,
    /// Last day evaluated.
    pub to: NaiveDate,
    /// The configuration's version.
    pub config_version: String,
    /// Streams formed.
    pub streams: usize,
    /// Periods evaluated.
    pub evaluations: usize,
    /// Alarms that passed their rule's minimum count.
    pub alarms: usize,
    /// Signals raised.
    pub signals_new: usize,
    /// Signals extended.
    pub signals_updated: usize,
    /// Events raised.
    pub events_new: usize,
    /// Events changed.
    pub events_updated: usize,
    /// Streams skipped, by rule and reason.
    pub skipped: Vec<hc_surveillance::Skipped>,
    /// Communities in the counts but not in the registry, with their cases.
    pub unknown_communities: BTreeMap<String, i64>,
    /// Seconds reading, evaluating and writing.
    pub seconds: Timings,
}

/// Where a run's time went.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Timings {
    /// Reading counts and the org tree.
    pub read: f64,
    /// Evaluating streams and scans.
    pub evaluate: f64,
    /// Writing signals and events.
    pub write: f64,
}

/// Runs detection up to `date` (see the module documentation for the days covered).
pub async fn run(
    store: &Store,
    caller: &Caller,
    config: &Arc<Config>,
    date: NaiveDate,
    from: Option<NaiveDate>,
) -> Result<RunReport, AppError> {
    caller.require(Permission::RunDetection)?;
    let t0 = Instant::now();
    // The change marks are read before the counts: what changes after is marked again.
    let dirty = store.dirty_days().await?;
    let from = match from {
        Some(f) => f,
        None => default_from(store, config, date, &dirty).await?,
    };
    if from > date {
        return Err(AppError::invalid(
            "from",
            format!("{from} is after the run date {date}"),
        ));
    }
    if (date - from).num_days() >= MAX_RUN_DAYS {
        return Err(AppError::invalid(
            "from",
            format!("a run covers at most {MAX_RUN_DAYS} days; {from} to {date} is longer"),
        ));
    }
    // The run answers every mark up to its date: the days it evaluates, and earlier ones
    // that a default run would have included (or that lie past the look-back).
    let cleared: Vec<(String, NaiveDate, i64)> = dirty
        .into_iter()
        .filter(|(_, day, _)| *day <= date)
        .collect();
    let areas = load_areas(store).await?;
    let run_id = store
        .start_run(
            from,
            date,
            &config.version,
            hc_detect::VERSION,
            &caller.principal.name,
        )
        .await?;
    let mut feeds = Vec::new();
    let mut unknown = BTreeMap::new();
    for feed in config.feeds() {
        let start = read_start(config, feed, from, date);
        let rows = store.feed_counts_window(feed, start, date).await?;
        let counts = FeedCounts::new(
            feed,
            start,
            date,
            &areas,
            rows.iter().flat_map(|r| {
                r.days.iter().map(|&(day, value)| Count {
                    code: &r.code,
                    community: &r.community_code,
                    day,
                    value,
                })
            }),
        );
        for (c, n) in counts.unknown_communities() {
            *unknown.entry(format!("{feed}:{c}")).or_insert(0) += n;
        }
        feeds.push(counts);
    }
    let read = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let cfg = Arc::clone(config);
    let (output, areas) = tokio::task::spawn_blocking(move || {
        let out = hc_surveillance::evaluate(&cfg, &areas, &feeds, from, date);
        (out, areas)
    })
    .await
    .map_err(|e| AppError::Internal(format!("the detection task stopped: {e}")))?;
    let evaluate = t1.elapsed().as_secs_f64();
    let t2 = Instant::now();

    // Signals: continue the stored ones that reach the run, raise the rest.
    let reach = Duration::days((config.merge_gap + 1) * 7);
    let stored: Vec<Stored> = store
        .signals_since(from - reach)
        .await?
        .into_iter()
        .map(|s| Stored {
            id: s.id,
            rule: s.rule,
            stream: s.stream,
            first_day: s.first_day,
            last_day: s.last_day,
        })
        .collect();
    let spans: HashMap<i64, (NaiveDate, NaiveDate)> = stored
        .iter()
        .map(|s| (s.id, (s.first_day, s.last_day)))
        .collect();
    let alarms = output.alarms.len();
    let groups = episodes(output.alarms, &stored, config.merge_gap);
    // Webhook notifications are queued in the transactions that write what they announce.
    let routes = Routes::load(store).await?;
    let mut signals_new = 0;
    let mut signals_updated = 0;
    let writes: Vec<SignalWrite> = groups
        .iter()
        .filter(|e| !e.alarms.is_empty())
        .map(|e| {
            match e.signal.and_then(|id| spans.get(&id)) {
                None => signals_new += 1,
                Some((first, last)) => {
                    if e.alarms.iter().any(|a| a.day < *first || a.day > *last) {
                        signals_updated += 1;
                    }
                }
            }
            let mut w = signal_write(e.signal, &e.alarms)?;
            if e.signal.is_none() && !routes.is_empty() {
                w.notify = routes.route("signal", &w.alert, &w.area_code, &signal_payload(&w));
            }
            Ok(w)
        })
        .collect::<Result<_, AppError>>()?;
    store.write_signals(run_id, &writes).await?;

    // Events: fuse the signals active in the last weeks before and during the run.
    let window = config
        .fusion
        .iter()
        .map(|f| f.window_days)
        .max()
        .unwrap_or(0);
    let since = from - Duration::days(window + 1);
    let views: Vec<SignalView> = store
        .signals(&SignalFilter {
            from: Some(since),
            ..SignalFilter::default()
        })
        .await?
        .into_iter()
        .map(signal_view)
        .collect();
    let stored_events = store.events_since(since).await?;
    let events: Vec<EventView> = stored_events
        .iter()
        .cloned()
        .map(|(e, signals)| EventView {
            id: e.id,
            rule: e.rule,
            area: e.area_code,
            first_day: e.first_day,
            last_day: e.last_day,
            signals,
        })
        .collect();
    let alerts: HashMap<i64, String> = stored_events
        .iter()
        .map(|(e, _)| (e.id, e.alert.clone()))
        .collect();
    let plans = fuse(config, &areas, &views, &events, from, date);
    let events_new = plans.iter().filter(|p| p.id.is_none()).count();
    let events_updated = plans.len() - events_new;
    let event_writes: Vec<EventWrite> = plans
        .into_iter()
        .map(|p| {
            // A new event, or one whose colour rose, is announced.
            let before =
                p.id.and_then(|id| alerts.get(&id))
                    .and_then(|a| Alert::parse(a));
            let notify = if before.is_none_or(|b| p.alert > b) && !routes.is_empty() {
                let payload = serde_json::json!({
                    "kind": "event",
                    "event": if before.is_some() { "escalated" } else { "raised" },
                    "alert": p.alert.as_str(),
                    "area_code": p.area,
                    "level": p.level.as_str(),
                    "rule": p.rule,
                    "first_day": p.first_day,
                    "last_day": p.last_day,
                    "score": p.score,
                    "sources": p.sources,
                    "signals": p.signals,
                });
                let mut n = routes.route("event", p.alert.as_str(), &p.area, &payload);
                if let Some(id) = p.id {
                    for x in &mut n {
                        x.payload["id"] = serde_json::Value::from(id);
                    }
                }
                n
            } else {
                Vec::new()
            };
            (p, notify)
        })
        .map(|(p, notify)| EventWrite {
            notify,
            id: p.id,
            rule: p.rule,
            area_code: p.area,
            level: p.level.as_str().to_owned(),
            alert: p.alert.as_str().to_owned(),
            score: p.score,
            first_day: p.first_day,
            last_day: p.last_day,
            sources: serde_json::to_string(&p.sources).unwrap_or_else(|_| "[]".into()),
            explanation: p.explanation.to_string(),
            signals: p.signals,
        })
        .collect();
    store.write_events(run_id, &event_writes).await?;
    let errors = serde_json::json!({
        "skipped": output.skipped,
        "unknown_communities": unknown,
    });
    store
        .finish_run(
            run_id,
            &cleared,
            &RunStats {
                streams: output.streams as i64,
                evaluations: output.evaluations as i64,
                signals_new: signals_new as i64,
                signals_updated: signals_updated as i64,
                events_new: events_new as i64,
                errors: errors.to_string(),
            },
        )
        .await?;
    let write = t2.elapsed().as_secs_f64();
    caller
        .record(
            store,
            Event::new("run", "surveillance_run")
                .id(run_id)
                .detail(format!(
                    "{from}..{date}: {signals_new} new signals, {events_new} new events"
                )),
        )
        .await?;
    Ok(RunReport {
        run_id,
        from,
        to: date,
        config_version: config.version.clone(),
        streams: output.streams,
        evaluations: output.evaluations,
        alarms,
        signals_new,
        signals_updated,
        events_new,
        events_updated,
        skipped: output.skipped,
        unknown_communities: unknown,
        seconds: Timings {
            read,
            evaluate,
            write,
        },
    })
}

/// The first day a run to `date` evaluates when none is given.
async fn default_from(
    store: &Store,
    config: &Config,
    date: NaiveDate,
    dirty: &[(String, NaiveDate, i64)],
) -> Result<NaiveDate, AppError> {
    let earliest = date - Duration::days(config.lookback_days);
    let mut from = match store.last_run().await? {
        Some(r) if r.to_day < date => (r.to_day + Duration::days(1)).max(earliest.min(r.to_day)),
        Some(_) => date,
        None => date,
    };
    for (_, day, _) in dirty {
        if *day < from && *day <= date {
            from = (*day).max(earliest);
        }
    }
    // A long gap since the last run is caught up, within one run's reach.
    Ok(from.max(date - Duration::days(MAX_RUN_DAYS - 1)))
}

/// The org tree with the shapes' label points.
pub async fn load_areas(store: &Store) -> Result<Areas, AppError> {
    let units: Vec<(String, Option<String>, Level)> = store
        .orgunit_tree()
        .await?
        .into_iter()
        .filter_map(|u| Level::parse(&u.level).map(|l| (u.code, u.parent_code, l)))
        .collect();
    let mut areas =
        Areas::new(&units).map_err(|e| AppError::Internal(format!("the org tree: {e}")))?;
    for (code, x, y) in store.shape_points().await? {
        areas.set_point(&code, [x, y]);
    }
    Ok(areas)
}

fn signal_write(id: Option<i64>, alarms: &[Alarm]) -> Result<SignalWrite, AppError> {
    let first = alarms
        .first()
        .ok_or_else(|| AppError::Internal("an episode without alarms".into()))?;
    Ok(SignalWrite {
        id,
        stream: first.stream(),
        feed: first.feed.clone(),
        code: first.code.clone(),
        level: first.level.as_str().to_owned(),
        area_code: first.area.clone(),
        frequency: first.period.as_str().to_owned(),
        rule: first.rule.clone(),
        method: first.method.clone(),
        params: first.params.clone(),
        engine_version: hc_detect::VERSION.to_owned(),
        alert: first.alert.as_str().to_owned(),
        baseline: serde_json::to_string(&first.baseline)
            .map_err(|e| AppError::Internal(format!("a baseline: {e}")))?,
        detail: serde_json::json!({
            "p_value": first.p_value,
            "denominator": first.denominator,
            "method": first.detail,
        })
        .to_string(),
        notify: Vec::new(),
        days: alarms
            .iter()
            .map(|a| SignalDay {
                day: a.day,
                observed: a.observed,
                expected: a.expected,
                threshold: a.threshold,
                score: a.score,
            })
            .collect(),
    })
}

/// The webhook payload announcing a new signal (its id is added when it is written).
fn signal_payload(w: &SignalWrite) -> serde_json::Value {
    let first = w.days.first();
    serde_json::json!({
        "kind": "signal",
        "event": "raised",
        "alert": w.alert,
        "area_code": w.area_code,
        "level": w.level,
        "stream": w.stream,
        "feed": w.feed,
        "code": w.code,
        "rule": w.rule,
        "method": w.method,
        "first_day": first.map(|d| d.day),
        "observed": first.map(|d| d.observed),
        "expected": first.and_then(|d| d.expected),
        "threshold": first.and_then(|d| d.threshold),
    })
}

fn signal_view(s: SignalRow) -> SignalView {
    SignalView {
        id: s.id,
        stream: s.stream,
        feed: s.feed,
        code: s.code,
        area: s.area_code,
        first_day: s.first_day,
        last_day: s.last_day,
        alert: Alert::parse(&s.alert).unwrap_or(Alert::Yellow),
        observed: s.observed,
        expected: s.expected,
        threshold: s.threshold,
    }
}

/// Signals that overlap `from..=to`, within the caller's jurisdiction, newest first.
pub async fn signals(
    store: &Store,
    caller: &Caller,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Vec<SignalRow>, AppError> {
    if caller.require(Permission::ViewSurveillance).is_err() {
        caller.require(Permission::RunDetection)?;
    }
    let rows = store
        .signals(&SignalFilter {
            from,
            to,
            area_prefix: caller.scope().prefix().map(str::to_owned),
            limit: None,
        })
        .await?;
    Ok(rows)
}
