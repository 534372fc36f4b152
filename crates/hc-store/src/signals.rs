//! Detection runs, signals and events (migration 0008): what `hc-surveillance` decided, kept so
//! that every signal can be explained, re-computed and worked on.

use chrono::NaiveDate;

use crate::workflow::enqueue;
use crate::{OutboxWrite, Result, Store, epoch_seconds, on_pool};

/// A detection run as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RunRow {
    /// Its id.
    pub id: i64,
    /// Unix seconds.
    pub started_at: i64,
    /// Unix seconds; `None` while running (or if it failed).
    pub finished_at: Option<i64>,
    /// First day evaluated.
    pub from_day: NaiveDate,
    /// Last day evaluated.
    pub to_day: NaiveDate,
    /// The stream configuration's version.
    pub config_version: String,
    /// The engine's version.
    pub engine_version: String,
    /// Streams formed.
    pub streams: i64,
    /// Periods evaluated.
    pub evaluations: i64,
    /// Signals raised.
    pub signals_new: i64,
    /// Signals extended.
    pub signals_updated: i64,
    /// Events raised.
    pub events_new: i64,
    /// Streams skipped and other faults, as JSON.
    pub errors: String,
    /// Who ran it.
    pub run_by: String,
}

/// What a finished run found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunStats {
    /// Streams formed.
    pub streams: i64,
    /// Periods evaluated.
    pub evaluations: i64,
    /// Signals raised.
    pub signals_new: i64,
    /// Signals extended.
    pub signals_updated: i64,
    /// Events raised.
    pub events_new: i64,
    /// Faults, as JSON.
    pub errors: String,
}

/// One alarm day of a signal.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SignalDay {
    /// The day (the Monday of a week).
    pub day: NaiveDate,
    /// Observed.
    pub observed: f64,
    /// Expected.
    pub expected: Option<f64>,
    /// Threshold in cases.
    pub threshold: Option<f64>,
    /// The method's score.
    pub score: Option<f64>,
}

/// A signal to raise (`id` none) or extend, with its alarm days.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalWrite {
    /// The stored signal it extends.
    pub id: Option<i64>,
    /// `feed/code/area/period`.
    pub stream: String,
    /// The feed.
    pub feed: String,
    /// The code.
    pub code: String,
    /// community, street, district or city.
    pub level: String,
    /// The area.
    pub area_code: String,
    /// day or week.
    pub frequency: String,
    /// The rule.
    pub rule: String,
    /// The method.
    pub method: String,
    /// Its parameters in effect.
    pub params: String,
    /// The engine's version.
    pub engine_version: String,
    /// Alert colour.
    pub alert: String,
    /// The baseline of its first alarm, JSON.
    pub baseline: String,
    /// Method-specific facts, JSON.
    pub detail: String,
    /// Its alarm days (new or re-evaluated).
    pub days: Vec<SignalDay>,
    /// Webhook notifications to queue with it (its id is added to each payload).
    pub notify: Vec<OutboxWrite>,
}

/// A stored signal, briefly: enough to continue its episode.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SignalBrief {
    /// Its id.
    pub id: i64,
    /// Its rule.
    pub rule: String,
    /// Its stream.
    pub stream: String,
    /// First alarm.
    pub first_day: NaiveDate,
    /// Last alarm.
    pub last_day: NaiveDate,
}

/// A stored signal.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct SignalRow {
    /// Its id.
    pub id: i64,
    /// `feed/code/area/period`.
    pub stream: String,
    /// The feed.
    pub feed: String,
    /// The code.
    pub code: String,
    /// The area's level.
    pub level: String,
    /// The area.
    pub area_code: String,
    /// day or week.
    pub frequency: String,
    /// The rule.
    pub rule: String,
    /// The method.
    pub method: String,
    /// Its parameters.
    pub params: String,
    /// The engine's version.
    pub engine_version: String,
    /// Alert colour.
    pub alert: String,
    /// First alarm (the day it was raised for).
    pub first_day: NaiveDate,
    /// Last alarm.
    pub last_day: NaiveDate,
    /// Alarm days.
    pub days: i64,
    /// Observed on the first day.
    pub observed: f64,
    /// Expected on the first day.
    pub expected: Option<f64>,
    /// Threshold on the first day.
    pub threshold: Option<f64>,
    /// Score on the first day.
    pub score: Option<f64>,
    /// The day with the most cases.
    pub peak_day: NaiveDate,
    /// Its cases.
    pub peak_observed: f64,
    /// Workflow status.
    pub status: String,
    /// Outcome once closed.
    pub outcome: Option<String>,
    /// Who it is assigned to.
    pub assigned_to: Option<String>,
    /// The latest event it was fused into.
    pub event_id: Option<i64>,
    /// The run that raised it.
    pub run_id: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// When it was first acted on.
    pub answered_at: Option<i64>,
}

/// An event to raise (`id` none) or change.
#[derive(Debug, Clone, PartialEq)]
pub struct EventWrite {
    /// The stored event.
    pub id: Option<i64>,
    /// The fusion rule.
    pub rule: String,
    /// The area.
    pub area_code: String,
    /// Its level.
    pub level: String,
    /// Alert colour.
    pub alert: String,
    /// Score.
    pub score: f64,
    /// First day.
    pub first_day: NaiveDate,
    /// Last day.
    pub last_day: NaiveDate,
    /// Feeds, JSON array.
    pub sources: String,
    /// Why, JSON.
    pub explanation: String,
    /// Its signals.
    pub signals: Vec<i64>,
    /// Webhook notifications to queue with it (its id is added to each payload).
    pub notify: Vec<OutboxWrite>,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct EventRow {
    /// Its id.
    pub id: i64,
    /// The fusion rule.
    pub rule: String,
    /// The area.
    pub area_code: String,
    /// Its level.
    pub level: String,
    /// Alert colour.
    pub alert: String,
    /// Score.
    pub score: f64,
    /// First day.
    pub first_day: NaiveDate,
    /// Last day.
    pub last_day: NaiveDate,
    /// Feeds, JSON array.
    pub sources: String,
    /// Why, JSON.
    pub explanation: String,
    /// Workflow status.
    pub status: String,
    /// Outcome once closed.
    pub outcome: Option<String>,
    /// Who it is assigned to.
    pub assigned_to: Option<String>,
    /// The run that raised it.
    pub run_id: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// When it was first acted on.
    pub answered_at: Option<i64>,
}

/// Which signals or events to list.
#[derive(Debug, Clone, Default)]
pub struct SignalFilter {
    /// First day at or after (signals: last alarm at or after).
    pub from: Option<NaiveDate>,
    /// First day at or before.
    pub to: Option<NaiveDate>,
    /// Areas whose code starts with this (the caller's jurisdiction).
    pub area_prefix: Option<String>,
    /// At most this many, newest first.
    pub limit: Option<i64>,
}

const SIGNAL_COLUMNS: &str = "id, stream, feed, code, level, area_code, frequency, rule, method, params, \
     engine_version, alert, first_day, last_day, days, observed, expected, threshold, score, peak_day, \
     peak_observed, status, outcome, assigned_to, event_id, run_id, created_at, updated_at, answered_at";

const EVENT_COLUMNS: &str = "id, rule, area_code, level, alert, score, first_day, last_day, sources, \
     explanation, status, outcome, assigned_to, run_id, created_at, updated_at, answered_at";

impl Store {
    /// Each org unit's label point (longitude, latitude) from the stored shapes.
    pub async fn shape_points(&self) -> Result<Vec<(String, f64, f64)>> {
        const SQL: &str = "SELECT code, x, y FROM org_shapes ORDER BY code";
        Ok(on_pool!(self, p => sqlx::query_as(SQL).fetch_all(p).await?))
    }

    /// The days whose counts changed since the runs that cleared them: `(feed, day, mark)`.
    pub async fn dirty_days(&self) -> Result<Vec<(String, NaiveDate, i64)>> {
        const SQL: &str = "SELECT feed, day, mark FROM surv_dirty ORDER BY feed, day";
        Ok(on_pool!(self, p => sqlx::query_as(SQL).fetch_all(p).await?))
    }

    /// The last finished run.
    pub async fn last_run(&self) -> Result<Option<RunRow>> {
        const SQL: &str = "SELECT id, started_at, finished_at, from_day, to_day, config_version, engine_version, \
             streams, evaluations, signals_new, signals_updated, events_new, errors, run_by \
             FROM surv_runs WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1";
        Ok(on_pool!(self, p => sqlx::query_as(SQL).fetch_optional(p).await?))
    }

    /// Records the start of a run; returns its id.
    pub async fn start_run(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        config_version: &str,
        engine_version: &str,
        run_by: &str,
    ) -> Result<i64> {
        const SQL: &str = "INSERT INTO surv_runs (started_at, from_day, to_day, config_version, engine_version, run_by) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
        let now = epoch_seconds();
        let id: i64 = on_pool!(self, p => sqlx::query_scalar(SQL)
            .bind(now).bind(from).bind(to).bind(config_version).bind(engine_version).bind(run_by)
            .fetch_one(p).await?);
        Ok(id)
    }

    /// Records what run `id` found and clears the change marks it read (`(feed, day, mark)`
    /// from [`Store::dirty_days`]); a mark changed since stays for the next run.
    pub async fn finish_run(
        &self,
        id: i64,
        cleared: &[(String, NaiveDate, i64)],
        stats: &RunStats,
    ) -> Result<()> {
        const SQL: &str = "UPDATE surv_runs SET finished_at = $2, streams = $3, evaluations = $4, \
             signals_new = $5, signals_updated = $6, events_new = $7, errors = $8 WHERE id = $1";
        const CLEAR: &str = "DELETE FROM surv_dirty WHERE feed = $1 AND day = $2 AND mark = $3";
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(SQL)
                .bind(id)
                .bind(epoch_seconds())
                .bind(stats.streams)
                .bind(stats.evaluations)
                .bind(stats.signals_new)
                .bind(stats.signals_updated)
                .bind(stats.events_new)
                .bind(&stats.errors)
                .execute(&mut *tx)
                .await?;
            for (feed, day, mark) in cleared {
                sqlx::query(CLEAR).bind(feed).bind(day).bind(mark).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Signals whose last alarm is on or after `since`, briefly.
    pub async fn signals_since(&self, since: NaiveDate) -> Result<Vec<SignalBrief>> {
        const SQL: &str = "SELECT id, rule, stream, first_day, last_day FROM surv_signals \
             WHERE last_day >= $1 ORDER BY id";
        Ok(on_pool!(self, p => sqlx::query_as(SQL).bind(since).fetch_all(p).await?))
    }

    /// Raises and extends signals for run `run_id`, with their webhook notifications, in one
    /// transaction; returns the ids, in the order of `writes`. A signal's first day, last day, day count, peak and its
    /// first-day figures are re-derived from its alarm days.
    pub async fn write_signals(&self, run_id: i64, writes: &[SignalWrite]) -> Result<Vec<i64>> {
        const INSERT: &str = "INSERT INTO surv_signals (stream, feed, code, level, area_code, frequency, rule, \
             method, params, engine_version, alert, first_day, last_day, days, observed, peak_day, peak_observed, \
             baseline, detail, run_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, 0, 0, $12, 0, $13, $14, $15, $16, $16) \
             RETURNING id";
        const DAY: &str = "INSERT INTO surv_signal_days (signal_id, day, observed, expected, threshold, score) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (signal_id, day) DO UPDATE SET \
             observed = excluded.observed, expected = excluded.expected, threshold = excluded.threshold, \
             score = excluded.score";
        const DERIVE: &str = "UPDATE surv_signals SET \
             first_day = (SELECT MIN(day) FROM surv_signal_days WHERE signal_id = $1), \
             last_day = (SELECT MAX(day) FROM surv_signal_days WHERE signal_id = $1), \
             days = (SELECT COUNT(*) FROM surv_signal_days WHERE signal_id = $1), \
             observed = (SELECT observed FROM surv_signal_days WHERE signal_id = $1 ORDER BY day LIMIT 1), \
             expected = (SELECT expected FROM surv_signal_days WHERE signal_id = $1 ORDER BY day LIMIT 1), \
             threshold = (SELECT threshold FROM surv_signal_days WHERE signal_id = $1 ORDER BY day LIMIT 1), \
             score = (SELECT score FROM surv_signal_days WHERE signal_id = $1 ORDER BY day LIMIT 1), \
             peak_day = (SELECT day FROM surv_signal_days WHERE signal_id = $1 ORDER BY observed DESC, day LIMIT 1), \
             peak_observed = (SELECT MAX(observed) FROM surv_signal_days WHERE signal_id = $1), \
             updated_at = $2 WHERE id = $1";
        let now = epoch_seconds();
        let mut ids = Vec::with_capacity(writes.len());
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for w in writes {
                let Some(first) = w.days.first() else {
                    continue;
                };
                let id = match w.id {
                    Some(id) => id,
                    None => {
                        sqlx::query_scalar(INSERT)
                            .bind(&w.stream)
                            .bind(&w.feed)
                            .bind(&w.code)
                            .bind(&w.level)
                            .bind(&w.area_code)
                            .bind(&w.frequency)
                            .bind(&w.rule)
                            .bind(&w.method)
                            .bind(&w.params)
                            .bind(&w.engine_version)
                            .bind(&w.alert)
                            .bind(first.day)
                            .bind(&w.baseline)
                            .bind(&w.detail)
                            .bind(run_id)
                            .bind(now)
                            .fetch_one(&mut *tx)
                            .await?
                    }
                };
                for d in &w.days {
                    sqlx::query(DAY)
                        .bind(id)
                        .bind(d.day)
                        .bind(d.observed)
                        .bind(d.expected)
                        .bind(d.threshold)
                        .bind(d.score)
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query(DERIVE).bind(id).bind(now).execute(&mut *tx).await?;
                for n in &w.notify {
                    enqueue!(tx, n, id, now);
                }
                ids.push(id);
            }
            tx.commit().await?;
        });
        Ok(ids)
    }

    /// Signals by filter, newest first.
    pub async fn signals(&self, filter: &SignalFilter) -> Result<Vec<SignalRow>> {
        let sql = format!(
            "SELECT {SIGNAL_COLUMNS} FROM surv_signals \
             WHERE ($1 IS NULL OR last_day >= $1) AND ($2 IS NULL OR first_day <= $2) \
             AND ($3 IS NULL OR area_code LIKE $3) \
             ORDER BY first_day DESC, id DESC LIMIT $4"
        );
        let like = filter.area_prefix.as_ref().map(|p| format!("{p}%"));
        let limit = filter.limit.unwrap_or(i64::MAX);
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(filter.from).bind(filter.to).bind(like).bind(limit)
            .fetch_all(p).await?))
    }

    /// One signal with its baseline and detail (JSON text) and its alarm days.
    pub async fn signal(&self, id: i64) -> Result<(SignalRow, String, String, Vec<SignalDay>)> {
        let sql = format!("SELECT {SIGNAL_COLUMNS} FROM surv_signals WHERE id = $1");
        const EXTRA: &str = "SELECT baseline, detail FROM surv_signals WHERE id = $1";
        const DAYS: &str = "SELECT day, observed, expected, threshold, score FROM surv_signal_days \
             WHERE signal_id = $1 ORDER BY day";
        on_pool!(self, p => {
            let row: SignalRow = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(p).await?;
            let (baseline, detail): (String, String) = sqlx::query_as(EXTRA).bind(id).fetch_one(p).await?;
            let days: Vec<SignalDay> = sqlx::query_as(DAYS).bind(id).fetch_all(p).await?;
            Ok((row, baseline, detail, days))
        })
    }

    /// Events whose last day is on or after `since`, with their signals.
    pub async fn events_since(&self, since: NaiveDate) -> Result<Vec<(EventRow, Vec<i64>)>> {
        let sql =
            format!("SELECT {EVENT_COLUMNS} FROM surv_events WHERE last_day >= $1 ORDER BY id");
        self.events_with_signals(sql, since).await
    }

    /// Events by filter, newest first, with their signals.
    pub async fn events(&self, filter: &SignalFilter) -> Result<Vec<(EventRow, Vec<i64>)>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM surv_events \
             WHERE ($1 IS NULL OR last_day >= $1) AND ($2 IS NULL OR first_day <= $2) \
             AND ($3 IS NULL OR area_code LIKE $3) ORDER BY first_day DESC, id DESC LIMIT $4"
        );
        const SIGNALS: &str =
            "SELECT event_id, signal_id FROM surv_event_signals ORDER BY event_id, signal_id";
        let like = filter.area_prefix.as_ref().map(|p| format!("{p}%"));
        let limit = filter.limit.unwrap_or(i64::MAX);
        let (rows, links): (Vec<EventRow>, Vec<(i64, i64)>) = on_pool!(self, p => (
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(filter.from).bind(filter.to).bind(like).bind(limit)
                .fetch_all(p).await?,
            sqlx::query_as(SIGNALS).fetch_all(p).await?,
        ));
        Ok(attach(rows, &links))
    }

    async fn events_with_signals(
        &self,
        sql: String,
        since: NaiveDate,
    ) -> Result<Vec<(EventRow, Vec<i64>)>> {
        const SIGNALS: &str = "SELECT l.event_id, l.signal_id FROM surv_event_signals l \
             JOIN surv_events e ON e.id = l.event_id WHERE e.last_day >= $1 ORDER BY l.event_id, l.signal_id";
        let (rows, links): (Vec<EventRow>, Vec<(i64, i64)>) = on_pool!(self, p => (
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(since).fetch_all(p).await?,
            sqlx::query_as(SIGNALS).bind(since).fetch_all(p).await?,
        ));
        Ok(attach(rows, &links))
    }

    /// Raises and changes events for run `run_id`, in one transaction; each event's signals
    /// point back to it. Returns the ids in the order of `writes`.
    pub async fn write_events(&self, run_id: i64, writes: &[EventWrite]) -> Result<Vec<i64>> {
        const INSERT: &str = "INSERT INTO surv_events (rule, area_code, level, alert, score, first_day, last_day, \
             sources, explanation, run_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id";
        const UPDATE: &str = "UPDATE surv_events SET alert = $2, score = $3, first_day = $4, last_day = $5, \
             sources = $6, explanation = $7, updated_at = $8 WHERE id = $1";
        const LINK: &str = "INSERT INTO surv_event_signals (event_id, signal_id) VALUES ($1, $2) \
             ON CONFLICT (event_id, signal_id) DO NOTHING";
        const POINT: &str = "UPDATE surv_signals SET event_id = $1 WHERE id = $2";
        let now = epoch_seconds();
        let mut ids = Vec::with_capacity(writes.len());
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for w in writes {
                let id = match w.id {
                    Some(id) => {
                        sqlx::query(UPDATE)
                            .bind(id)
                            .bind(&w.alert)
                            .bind(w.score)
                            .bind(w.first_day)
                            .bind(w.last_day)
                            .bind(&w.sources)
                            .bind(&w.explanation)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        id
                    }
                    None => {
                        sqlx::query_scalar(INSERT)
                            .bind(&w.rule)
                            .bind(&w.area_code)
                            .bind(&w.level)
                            .bind(&w.alert)
                            .bind(w.score)
                            .bind(w.first_day)
                            .bind(w.last_day)
                            .bind(&w.sources)
                            .bind(&w.explanation)
                            .bind(run_id)
                            .bind(now)
                            .fetch_one(&mut *tx)
                            .await?
                    }
                };
                for s in &w.signals {
                    sqlx::query(LINK).bind(id).bind(s).execute(&mut *tx).await?;
                    sqlx::query(POINT).bind(id).bind(s).execute(&mut *tx).await?;
                }
                for n in &w.notify {
                    enqueue!(tx, n, id, now);
                }
                ids.push(id);
            }
            tx.commit().await?;
        });
        Ok(ids)
    }
}

fn attach(rows: Vec<EventRow>, links: &[(i64, i64)]) -> Vec<(EventRow, Vec<i64>)> {
    let mut by_event: std::collections::HashMap<i64, Vec<i64>> = std::collections::HashMap::new();
    for &(e, s) in links {
        by_event.entry(e).or_default().push(s);
    }
    rows.into_iter()
        .map(|r| {
            let signals = by_event.remove(&r.id).unwrap_or_default();
            (r, signals)
        })
        .collect()
}
