//! Reads behind the surveillance pages: the records behind a signal (its line list), a
//! stream's daily counts over an area, a stream's alarm days, and the links between signals
//! and events. Areas are given as a prefix of the community codes under them (see
//! `hc_core::validate::subtree_prefix`); the caller has already checked the jurisdiction.

use chrono::NaiveDate;

use crate::{EventRow, Result, SignalDay, SignalRow, Store, on_pool};

/// A feed record behind a signal, as stored (its fields as JSON text). Not masked: the use
/// case masks it before anyone sees it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct LineRecord {
    /// The stored record's id.
    pub id: i64,
    /// The sending institution.
    pub source_code: String,
    /// The sender's record id.
    pub record_id: String,
    /// The day it counts on.
    pub day: NaiveDate,
    /// Its community.
    pub community_code: String,
    /// What it adds to the counts.
    pub contrib: String,
    /// Its fields, a JSON object as text.
    pub fields: String,
}

/// Columns of `surv_signals` as [`SignalRow`] reads them (as in `signals.rs`).
const SIGNAL_COLUMNS: &str = "id, stream, feed, code, level, area_code, frequency, rule, method, params, \
     engine_version, alert, first_day, last_day, days, observed, expected, threshold, score, peak_day, \
     peak_observed, status, outcome, assigned_to, event_id, run_id, created_at, updated_at, answered_at";

/// Columns of `surv_events` as [`EventRow`] reads them.
const EVENT_COLUMNS: &str = "id, rule, area_code, level, alert, score, first_day, last_day, sources, \
     explanation, status, outcome, assigned_to, run_id, created_at, updated_at, answered_at";

/// The codes just past every code starting with `prefix` (a string of digits): the prefix with
/// its number raised by one, so that `code >= prefix AND code < next` is the subtree on any
/// collation; `None` when the prefix is all nines (no upper bound) or not digits.
fn next_prefix(prefix: &str) -> Option<String> {
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut digits: Vec<u8> = prefix.bytes().collect();
    for i in (0..digits.len()).rev() {
        if digits[i] == b'9' {
            digits[i] = b'0';
        } else {
            digits[i] += 1;
            return String::from_utf8(digits).ok();
        }
    }
    None
}

/// `%|code=%`, with LIKE's wildcards in `code` escaped by `\`.
fn contrib_pattern(code: &str) -> String {
    let mut p = String::from("%|");
    for c in code.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push_str("=%");
    p
}

impl Store {
    /// Up to `limit` records of `feed` that count towards `code`, in the communities whose code
    /// starts with `community_prefix`, on the days `from..=to`, by day and id; with how many
    /// there are in all.
    pub async fn line_list(
        &self,
        feed: &str,
        code: &str,
        community_prefix: &str,
        from: NaiveDate,
        to: NaiveDate,
        limit: i64,
    ) -> Result<(Vec<LineRecord>, i64)> {
        const WHERE: &str = "WHERE feed = $1 AND community_code >= $2 AND ($3 IS NULL OR community_code < $3) \
             AND day >= $4 AND day <= $5 AND ('|' || contrib || '|') LIKE $6 ESCAPE '\\'";
        let sqlite = format!(
            "SELECT id, source_code, record_id, day, community_code, contrib, fields \
             FROM surv_records {WHERE} ORDER BY day, id LIMIT $7"
        );
        let pg = format!(
            "SELECT id, source_code, record_id, day, community_code, contrib, CAST(fields AS TEXT) AS fields \
             FROM surv_records {WHERE} ORDER BY day, id LIMIT $7"
        );
        let count = format!("SELECT COUNT(*) FROM surv_records {WHERE}");
        let next = next_prefix(community_prefix);
        let pattern = contrib_pattern(code);
        let sql = match &self.db {
            crate::Db::Sqlite(_) => sqlite,
            crate::Db::Postgres(_) => pg,
        };
        Ok(on_pool!(self, p => {
            let rows: Vec<LineRecord> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(feed).bind(community_prefix).bind(&next).bind(from).bind(to).bind(&pattern).bind(limit)
                .fetch_all(p).await?;
            let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count))
                .bind(feed).bind(community_prefix).bind(&next).bind(from).bind(to).bind(&pattern)
                .fetch_one(p).await?;
            (rows, total)
        }))
    }

    /// The daily sums of `feed`'s `code` over the communities whose code starts with
    /// `community_prefix`, on the days `from..=to` (days without a count are absent).
    pub async fn area_daily_counts(
        &self,
        feed: &str,
        code: &str,
        community_prefix: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(NaiveDate, i64)>> {
        const SQL: &str = "SELECT day, CAST(SUM(value) AS BIGINT) FROM surv_counts \
             WHERE feed = $1 AND code = $2 AND community_code >= $3 AND ($4 IS NULL OR community_code < $4) \
             AND day >= $5 AND day <= $6 GROUP BY day ORDER BY day";
        let next = next_prefix(community_prefix);
        Ok(on_pool!(self, p => sqlx::query_as(SQL)
            .bind(feed).bind(code).bind(community_prefix).bind(&next).bind(from).bind(to)
            .fetch_all(p).await?))
    }

    /// The alarm days of the signals of `stream` from `from` to `to`, with their signal's id.
    pub async fn stream_alarm_days(
        &self,
        stream: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(i64, SignalDay)>> {
        const SQL: &str = "SELECT d.signal_id, d.day, d.observed, d.expected, d.threshold, d.score \
             FROM surv_signal_days d JOIN surv_signals s ON s.id = d.signal_id \
             WHERE s.stream = $1 AND d.day >= $2 AND d.day <= $3 ORDER BY d.day, d.signal_id";
        type Row = (i64, NaiveDate, f64, Option<f64>, Option<f64>, Option<f64>);
        let rows: Vec<Row> = on_pool!(self, p => sqlx::query_as(SQL)
            .bind(stream).bind(from).bind(to).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|(id, day, observed, expected, threshold, score)| {
                (
                    id,
                    SignalDay {
                        day,
                        observed,
                        expected,
                        threshold,
                        score,
                    },
                )
            })
            .collect())
    }

    /// One event with its signals' ids; [`crate::StoreError::NotFound`] when there is none.
    pub async fn event(&self, id: i64) -> Result<(EventRow, Vec<i64>)> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM surv_events WHERE id = $1");
        const SIGNALS: &str =
            "SELECT signal_id FROM surv_event_signals WHERE event_id = $1 ORDER BY signal_id";
        Ok(on_pool!(self, p => {
            let row: EventRow = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(p).await?;
            let signals: Vec<i64> = sqlx::query_scalar(SIGNALS).bind(id).fetch_all(p).await?;
            (row, signals)
        }))
    }

    /// The signals fused into event `id`, by id.
    pub async fn event_signals(&self, id: i64) -> Result<Vec<SignalRow>> {
        let sql = format!(
            "SELECT {SIGNAL_COLUMNS} FROM surv_signals WHERE id IN \
             (SELECT signal_id FROM surv_event_signals WHERE event_id = $1) ORDER BY id"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_all(p).await?),
        )
    }

    /// The events signal `id` was fused into, by id.
    pub async fn signal_events(&self, id: i64) -> Result<Vec<EventRow>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM surv_events WHERE id IN \
             (SELECT event_id FROM surv_event_signals WHERE signal_id = $1) ORDER BY id"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_all(p).await?),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtree_bounds_and_patterns() {
        assert_eq!(next_prefix("4403").as_deref(), Some("4404"));
        assert_eq!(next_prefix("440309").as_deref(), Some("440310"));
        assert_eq!(next_prefix("99"), None);
        assert_eq!(next_prefix(""), None);
        assert_eq!(contrib_pattern("ili"), "%|ili=%");
        assert_eq!(contrib_pattern("a_b%"), "%|a\\_b\\%=%");
    }
}
