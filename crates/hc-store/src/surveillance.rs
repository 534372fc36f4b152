//! Surveillance feeds and their daily counts (migration `0007_surveillance`).
//!
//! A feed record is stored once per (feed, sender, sender's record id). Re-sending it finds
//! the stored one: identical, nothing happens; changed, it is updated and the counts it fed
//! are moved with it, in the same transaction. Writers of one feed are serialised (SQLite's
//! `BEGIN IMMEDIATE`, a PostgreSQL advisory lock), so two batches carrying the same new record
//! cannot both count it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use serde::Serialize;

use crate::{Result, Store, StoreError, epoch_seconds};

/// A feed record as hc-app accepted it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedRecord {
    /// The sending institution (empty where the record id is unique on its own).
    pub source_code: String,
    /// The sender's id of the record.
    pub record_id: String,
    /// The day it is counted on.
    pub day: NaiveDate,
    /// The community it is counted in.
    pub community_code: String,
    /// What it adds to the counts: `code=value|code=value`, codes in order.
    pub contrib: String,
    /// What it adds to the feed's denominator.
    pub denom: i64,
    /// The record's fields as accepted (a JSON object).
    pub fields: serde_json::Value,
    /// The version of the rules that derived `contrib` (the syndrome dictionary), or empty.
    pub version: String,
}

/// What writing a batch of feed records did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FeedOutcome {
    /// New records.
    pub inserted: u64,
    /// Records that were stored before and changed.
    pub updated: u64,
    /// Records re-sent unchanged.
    pub unchanged: u64,
    /// Positions in the batch of records whose stored version the [`Guard`] kept the sender
    /// from changing; nothing of them was written.
    pub refused: Vec<usize>,
}

/// Which stored records a batch may change: those in a community under `community_prefix`,
/// when `reported_by` is set those whose fields say they were reported by it, and when
/// `expected` is set only those still exactly as expected (a record changed since the
/// caller read it is left alone).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Guard {
    /// The sender's org-unit subtree, if limited.
    pub community_prefix: Option<String>,
    /// The sender's institution, if the sender is one.
    pub reported_by: Option<String>,
    /// The stored versions the caller read, by (sender, record id).
    pub expected: Option<HashMap<(String, String), FeedRecord>>,
}

impl Guard {
    /// Whether the sender may change `stored`.
    pub fn allows(&self, stored: &FeedRecord) -> bool {
        let area = self
            .community_prefix
            .as_deref()
            .is_none_or(|p| stored.community_code.starts_with(p));
        let reporter = self
            .reported_by
            .as_deref()
            .is_none_or(|r| stored.fields.get("reported_by").and_then(|v| v.as_str()) == Some(r));
        let current = self.expected.as_ref().is_none_or(|e| {
            e.get(&(stored.source_code.clone(), stored.record_id.clone())) == Some(stored)
        });
        area && reporter && current
    }
}

/// A count of one code in one community on one day.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct DayCount {
    /// The code (`*`: the denominator).
    pub code: String,
    /// The community.
    pub community_code: String,
    /// The day.
    pub day: NaiveDate,
    /// The sum.
    pub value: i64,
}

/// The counts of one code in one community over a span of days (the days with a count).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountSeries {
    /// The code (`*`: the denominator).
    pub code: String,
    /// The community.
    pub community_code: String,
    /// Each day with its count.
    pub days: Vec<(NaiveDate, i64)>,
}

/// The denominator's code in `surv_counts`.
pub const DENOMINATOR: &str = "*";

/// A count cell: code, community, day.
type Cell = (String, String, NaiveDate);

/// Parses a `contrib` value: `code=value|code=value` (empty: nothing).
pub fn parse_contrib(contrib: &str) -> Result<Vec<(&str, i64)>> {
    contrib
        .split('|')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (code, value) = part.split_once('=').ok_or_else(|| bad_contrib(contrib))?;
            let value = value.parse().map_err(|_| bad_contrib(contrib))?;
            if code.is_empty() || code == DENOMINATOR {
                return Err(bad_contrib(contrib));
            }
            Ok((code, value))
        })
        .collect()
}

fn bad_contrib(contrib: &str) -> StoreError {
    StoreError::Db(sqlx::Error::Decode(
        format!("a feed record's contribution {contrib:?} is not code=value|…").into(),
    ))
}

/// Adds what `record` contributes, times `sign`, to `cells`.
fn add_contribution(cells: &mut BTreeMap<Cell, i64>, record: &FeedRecord, sign: i64) -> Result<()> {
    let mut add = |code: &str, value: i64| {
        *cells
            .entry((code.to_owned(), record.community_code.clone(), record.day))
            .or_insert(0) += sign * value;
    };
    for (code, value) in parse_contrib(&record.contrib)? {
        add(code, value);
    }
    add(DENOMINATOR, record.denom);
    Ok(())
}

/// What a batch does to the store.
struct Plan<'a> {
    /// The records to write: new or changed, the last state of each key in the batch.
    writes: Vec<&'a FeedRecord>,
    /// The count changes, by cell.
    changes: Vec<(Cell, i64)>,
    outcome: FeedOutcome,
}

/// Plans a batch against `stored`, the batch's keys as stored.
fn plan<'a>(
    batch: &'a [FeedRecord],
    stored: HashMap<(String, String), FeedRecord>,
    guard: &Guard,
) -> Result<Plan<'a>> {
    let mut outcome = FeedOutcome::default();
    // The record each key stands at as the batch goes on (the stored one first).
    let mut current: HashMap<(&str, &str), FeedRecord> = HashMap::new();
    let mut last: HashMap<(&str, &str), usize> = HashMap::new();
    let mut cells = BTreeMap::new();
    for (i, rec) in batch.iter().enumerate() {
        let key = (rec.source_code.as_str(), rec.record_id.as_str());
        let before = match current.get(&key) {
            Some(r) => Some(r),
            None => {
                let s = stored.get(&(rec.source_code.clone(), rec.record_id.clone()));
                if s.is_some_and(|s| !guard.allows(s)) {
                    outcome.refused.push(i);
                    continue;
                }
                s
            }
        };
        match before {
            Some(old) if old == rec => {
                outcome.unchanged += 1;
                continue;
            }
            Some(old) => {
                add_contribution(&mut cells, old, -1)?;
                outcome.updated += 1;
            }
            None => outcome.inserted += 1,
        }
        add_contribution(&mut cells, rec, 1)?;
        current.insert(key, rec.clone());
        last.insert(key, i);
    }
    let mut writes: Vec<usize> = last.into_values().collect();
    writes.sort_unstable();
    Ok(Plan {
        writes: writes.into_iter().map(|i| &batch[i]).collect(),
        changes: cells.into_iter().filter(|(_, v)| *v != 0).collect(),
        outcome,
    })
}

/// `CROSS JOIN` makes SQLite look each key of the batch up in the unique index; left to
/// itself it scanned the feed's records once per key.
const STORED_SQLITE: &str = "SELECT r.source_code, r.record_id, r.day, r.community_code, r.contrib, r.denom, \
     r.fields, r.version FROM json_each($2) j CROSS JOIN surv_records r \
     WHERE r.feed = $1 AND r.source_code = j.value ->> 0 AND r.record_id = j.value ->> 1";
const STORED_PG: &str = "SELECT r.source_code, r.record_id, r.day, r.community_code, r.contrib, r.denom, \
     CAST(r.fields AS TEXT) AS fields, r.version FROM jsonb_array_elements(CAST($2 AS jsonb)) j JOIN surv_records r \
     ON r.feed = $1 AND r.source_code = j ->> 0 AND r.record_id = j ->> 1";

macro_rules! upsert_records {
    ($select:literal) => {
        concat!(
            "INSERT INTO surv_records (feed, source_code, record_id, day, community_code, contrib, denom, \
             fields, version, received_at, updated_at) ",
            $select,
            " ON CONFLICT (feed, source_code, record_id) DO UPDATE SET day = excluded.day, \
             community_code = excluded.community_code, contrib = excluded.contrib, denom = excluded.denom, \
             fields = excluded.fields, version = excluded.version, updated_at = excluded.updated_at"
        )
    };
}
const UPSERT_SQLITE: &str = upsert_records!(
    "WITH r(v) AS MATERIALIZED (SELECT jsonb(value) FROM json_each($2)) \
     SELECT $1, v ->> 'source_code', v ->> 'record_id', v ->> 'day', v ->> 'community_code', \
     v ->> 'contrib', v ->> 'denom', json(v -> 'fields'), v ->> 'version', $3, $3 FROM r WHERE true"
);
const UPSERT_PG: &str = upsert_records!(
    "SELECT $1, x.source_code, x.record_id, x.day, x.community_code, x.contrib, x.denom, x.fields, \
     x.version, $3, $3 FROM jsonb_to_recordset(CAST($2 AS jsonb)) AS x(source_code TEXT, record_id TEXT, \
     day DATE, community_code TEXT, contrib TEXT, denom BIGINT, fields JSONB, version TEXT)"
);
const COUNTS_SQLITE: &str = "INSERT INTO surv_counts (feed, code, community_code, day, value) \
     SELECT $1, value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each($2) WHERE true \
     ON CONFLICT (feed, code, community_code, day) DO UPDATE SET value = surv_counts.value + excluded.value";
const COUNTS_PG: &str = "INSERT INTO surv_counts (feed, code, community_code, day, value) \
     SELECT $1, j ->> 0, j ->> 1, CAST(j ->> 2 AS DATE), CAST(j ->> 3 AS BIGINT) \
     FROM jsonb_array_elements(CAST($2 AS jsonb)) j \
     ON CONFLICT (feed, code, community_code, day) DO UPDATE SET value = surv_counts.value + excluded.value";
/// Marks the days a batch changed, for the next detection run.
const DIRTY_SQLITE: &str = "INSERT INTO surv_dirty (feed, day, mark) \
     SELECT $1, value, 1 FROM json_each($2) WHERE true \
     ON CONFLICT (feed, day) DO UPDATE SET mark = surv_dirty.mark + 1";
const DIRTY_PG: &str = "INSERT INTO surv_dirty (feed, day, mark) \
     SELECT $1, CAST(j AS DATE), 1 FROM jsonb_array_elements_text(CAST($2 AS jsonb)) j \
     ON CONFLICT (feed, day) DO UPDATE SET mark = surv_dirty.mark + 1";
/// Serialises the writers of feed `$1` until the transaction ends.
const LOCK_PG: &str = "SELECT pg_advisory_xact_lock(hashtext('surveillance feed ' || $1))";

/// A stored record as read (`fields` as JSON text on both backends).
#[derive(sqlx::FromRow)]
struct StoredRow {
    source_code: String,
    record_id: String,
    day: NaiveDate,
    community_code: String,
    contrib: String,
    denom: i64,
    fields: String,
    version: String,
}

/// A stored record with its id, for reading a feed page by page.
#[derive(sqlx::FromRow)]
struct PagedRow {
    id: i64,
    #[sqlx(flatten)]
    row: StoredRow,
}

fn stored_record(row: StoredRow) -> Result<((String, String), FeedRecord)> {
    let StoredRow {
        source_code,
        record_id,
        day,
        community_code,
        contrib,
        denom,
        fields,
        version,
    } = row;
    let fields = serde_json::from_str(&fields).map_err(|e| {
        StoreError::Db(sqlx::Error::Decode(
            format!("record {record_id:?}: its stored fields are not JSON: {e}").into(),
        ))
    })?;
    Ok((
        (source_code.clone(), record_id.clone()),
        FeedRecord {
            source_code,
            record_id,
            day,
            community_code,
            contrib,
            denom,
            fields,
            version,
        },
    ))
}

fn encode<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Db(sqlx::Error::Encode(e.into())))
}

impl Store {
    /// Writes a batch of records of `feed`: new ones inserted, changed ones updated, the counts
    /// moved with them, all in one transaction. A key that comes twice in the batch ends as
    /// its last occurrence.
    pub async fn upsert_feed(&self, feed: &str, batch: &[FeedRecord]) -> Result<FeedOutcome> {
        self.upsert_feed_guarded(feed, batch, &Guard::default())
            .await
    }

    /// [`Store::upsert_feed`], changing only stored records that `guard` allows (the others
    /// come back in [`FeedOutcome::refused`]).
    pub async fn upsert_feed_guarded(
        &self,
        feed: &str,
        batch: &[FeedRecord],
        guard: &Guard,
    ) -> Result<FeedOutcome> {
        let keys: Vec<(&str, &str)> = batch
            .iter()
            .map(|r| (r.source_code.as_str(), r.record_id.as_str()))
            .collect();
        let keys = encode(&keys)?;
        let now = epoch_seconds();
        macro_rules! write {
            ($tx:expr, $stored:expr, $upsert:expr, $counts:expr, $dirty:expr) => {{
                let rows: Vec<StoredRow> = sqlx::query_as($stored)
                    .bind(feed)
                    .bind(&keys)
                    .fetch_all(&mut *$tx)
                    .await?;
                let stored = rows
                    .into_iter()
                    .map(stored_record)
                    .collect::<Result<HashMap<_, _>>>()?;
                let Plan {
                    writes,
                    changes,
                    outcome,
                } = plan(batch, stored, guard)?;
                if !writes.is_empty() {
                    sqlx::query($upsert)
                        .bind(feed)
                        .bind(encode(&writes)?)
                        .bind(now)
                        .execute(&mut *$tx)
                        .await?;
                }
                if !changes.is_empty() {
                    let rows: Vec<(&str, &str, NaiveDate, i64)> = changes
                        .iter()
                        .map(|((code, community, day), v)| {
                            (code.as_str(), community.as_str(), *day, *v)
                        })
                        .collect();
                    sqlx::query($counts)
                        .bind(feed)
                        .bind(encode(&rows)?)
                        .execute(&mut *$tx)
                        .await?;
                    let days: BTreeSet<NaiveDate> =
                        changes.iter().map(|((_, _, d), _)| *d).collect();
                    sqlx::query($dirty)
                        .bind(feed)
                        .bind(encode(&days)?)
                        .execute(&mut *$tx)
                        .await?;
                }
                outcome
            }};
        }
        let outcome = match &self.db {
            crate::Db::Sqlite(p) => {
                let mut tx = p.begin_with("BEGIN IMMEDIATE").await?;
                let outcome = write!(
                    tx,
                    STORED_SQLITE,
                    UPSERT_SQLITE, COUNTS_SQLITE, DIRTY_SQLITE
                );
                tx.commit().await?;
                outcome
            }
            crate::Db::Postgres(p) => {
                let mut tx = p.begin().await?;
                sqlx::query(LOCK_PG).bind(feed).execute(&mut *tx).await?;
                let outcome = write!(tx, STORED_PG, UPSERT_PG, COUNTS_PG, DIRTY_PG);
                tx.commit().await?;
                outcome
            }
        };
        Ok(outcome)
    }

    /// The counts of `feed` from `from` to `to`, every code and community (cells never
    /// counted are absent; cells counted back to zero may be present with 0).
    pub async fn feed_counts(
        &self,
        feed: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DayCount>> {
        const SQL: &str = "SELECT code, community_code, day, value FROM surv_counts \
             WHERE feed = $1 AND day >= $2 AND day <= $3 ORDER BY code, community_code, day";
        Ok(
            crate::on_pool!(self, p => sqlx::query_as(SQL).bind(feed).bind(from).bind(to).fetch_all(p).await?),
        )
    }

    /// The counts of `feed` from `from` to `to` in the registry's communities, read the way a
    /// detection run needs them: one index range per code and community (the codes found by a
    /// loose index scan), so the cost follows the days asked for, not the years stored; each
    /// range comes back as one row, its days packed by the database (`offset=value,…`), as
    /// decoding millions of rows one by one costs more than reading them.
    pub async fn feed_counts_window(
        &self,
        feed: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<CountSeries>> {
        const CODES: &str = "WITH RECURSIVE codes(code) AS ( \
               SELECT MIN(code) FROM surv_counts WHERE feed = $1 \
               UNION ALL \
               SELECT (SELECT MIN(s.code) FROM surv_counts s WHERE s.feed = $1 AND s.code > codes.code) \
               FROM codes WHERE codes.code IS NOT NULL) ";
        const SQLITE: &str = "SELECT code, community_code, packed FROM ( \
               SELECT codes.code AS code, o.code AS community_code, \
                 (SELECT group_concat(CAST(julianday(s.day) - julianday($2) AS INTEGER) || '=' || s.value, ',') \
                  FROM surv_counts s WHERE s.feed = $1 AND s.code = codes.code \
                    AND s.community_code = o.code AND s.day >= $2 AND s.day <= $3) AS packed \
               FROM codes CROSS JOIN orgunits o \
               WHERE codes.code IS NOT NULL AND o.level = 'community') t \
             WHERE packed IS NOT NULL";
        const PG: &str = "SELECT code, community_code, packed FROM ( \
               SELECT codes.code AS code, o.code AS community_code, \
                 (SELECT string_agg((s.day - $2)::text || '=' || s.value::text, ',') \
                  FROM surv_counts s WHERE s.feed = $1 AND s.code = codes.code \
                    AND s.community_code = o.code AND s.day >= $2 AND s.day <= $3) AS packed \
               FROM codes CROSS JOIN orgunits o \
               WHERE codes.code IS NOT NULL AND o.level = 'community') t \
             WHERE packed IS NOT NULL";
        let rows: Vec<(String, String, String)> = match &self.db {
            crate::Db::Sqlite(p) => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!("{CODES}{SQLITE}")))
                    .bind(feed)
                    .bind(from)
                    .bind(to)
                    .fetch_all(p)
                    .await?
            }
            crate::Db::Postgres(p) => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!("{CODES}{PG}")))
                    .bind(feed)
                    .bind(from)
                    .bind(to)
                    .fetch_all(p)
                    .await?
            }
        };
        rows.into_iter()
            .map(|(code, community_code, packed)| {
                let mut days = Vec::new();
                for pair in packed.split(',') {
                    let parsed = pair.split_once('=').and_then(|(offset, value)| {
                        let offset = offset.trim().parse::<i64>().ok()?;
                        let value = value.trim().parse::<i64>().ok()?;
                        Some((from + chrono::Duration::days(offset), value))
                    });
                    let Some(day) = parsed else {
                        return Err(StoreError::Db(sqlx::Error::Decode(
                            format!(
                                "the packed counts of {feed}/{code}/{community_code} hold {pair:?}"
                            )
                            .into(),
                        )));
                    };
                    days.push(day);
                }
                Ok(CountSeries {
                    code,
                    community_code,
                    days,
                })
            })
            .collect()
    }

    /// Up to `limit` records of `feed` after id `after`, by id, whose rules version is not
    /// `version` (to re-derive them under new rules), with their ids.
    pub async fn feed_records_not_of(
        &self,
        feed: &str,
        version: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, FeedRecord)>> {
        const SQLITE: &str = "SELECT id, source_code, record_id, day, community_code, contrib, denom, fields, version \
             FROM surv_records WHERE feed = $1 AND id > $3 AND version <> $2 ORDER BY id LIMIT $4";
        const PG: &str = "SELECT id, source_code, record_id, day, community_code, contrib, denom, \
             CAST(fields AS TEXT) AS fields, version FROM surv_records WHERE feed = $1 AND id > $3 AND version <> $2 \
             ORDER BY id LIMIT $4";
        let rows: Vec<PagedRow> = match &self.db {
            crate::Db::Sqlite(p) => {
                sqlx::query_as(SQLITE)
                    .bind(feed)
                    .bind(version)
                    .bind(after)
                    .bind(limit)
                    .fetch_all(p)
                    .await?
            }
            crate::Db::Postgres(p) => {
                sqlx::query_as(PG)
                    .bind(feed)
                    .bind(version)
                    .bind(after)
                    .bind(limit)
                    .fetch_all(p)
                    .await?
            }
        };
        rows.into_iter()
            .map(|p| stored_record(p.row).map(|(_, rec)| (p.id, rec)))
            .collect()
    }

    /// Every institution's code, kind and community, which feed records are checked against.
    pub async fn institution_sites(&self) -> Result<Vec<(String, String, String)>> {
        const SQL: &str = "SELECT code, kind, community_code FROM institutions ORDER BY code";
        Ok(crate::on_pool!(self, p => sqlx::query_as(SQL).fetch_all(p).await?))
    }

    /// Every stored record of `feed` (for tests and re-counting; not for large feeds).
    pub async fn feed_records(&self, feed: &str) -> Result<Vec<FeedRecord>> {
        const SQLITE: &str = "SELECT source_code, record_id, day, community_code, contrib, denom, fields, version \
             FROM surv_records WHERE feed = $1 ORDER BY id";
        const PG: &str = "SELECT source_code, record_id, day, community_code, contrib, denom, \
             CAST(fields AS TEXT) AS fields, version FROM surv_records WHERE feed = $1 ORDER BY id";
        let rows: Vec<StoredRow> = match &self.db {
            crate::Db::Sqlite(p) => sqlx::query_as(SQLITE).bind(feed).fetch_all(p).await?,
            crate::Db::Postgres(p) => sqlx::query_as(PG).bind(feed).fetch_all(p).await?,
        };
        rows.into_iter()
            .map(|r| stored_record(r).map(|(_, rec)| rec))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, d).unwrap()
    }

    fn rec(id: &str, d: u32, contrib: &str) -> FeedRecord {
        FeedRecord {
            source_code: "H1".into(),
            record_id: id.into(),
            day: day(d),
            community_code: "C1".into(),
            contrib: contrib.into(),
            denom: 1,
            fields: serde_json::json!({ "id": id }),
            version: "v1".into(),
        }
    }

    fn cell(code: &str, d: u32) -> Cell {
        (code.into(), "C1".into(), day(d))
    }

    #[test]
    fn contributions_parse_and_refuse_garbage() {
        assert_eq!(
            parse_contrib("fever=1|ili=1").unwrap(),
            vec![("fever", 1), ("ili", 1)]
        );
        assert!(parse_contrib("").unwrap().is_empty());
        for bad in ["fever", "fever=x", "=1", "*=2"] {
            assert!(parse_contrib(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_changed_record_moves_its_counts_and_a_resent_one_changes_nothing() {
        let stored: HashMap<_, _> = [(("H1".to_owned(), "a".to_owned()), rec("a", 1, "fever=1"))]
            .into_iter()
            .collect();
        // "a" moves to day 2 and gains ili; "b" is new; "a" again unchanged from its new state.
        let batch = vec![
            rec("a", 2, "fever=1|ili=1"),
            rec("b", 1, ""),
            rec("a", 2, "fever=1|ili=1"),
        ];
        let Plan {
            writes,
            changes,
            outcome,
        } = plan(&batch, stored, &Guard::default()).unwrap();
        assert_eq!(
            outcome,
            FeedOutcome {
                inserted: 1,
                updated: 1,
                unchanged: 1,
                refused: vec![],
            }
        );
        assert_eq!(
            writes
                .iter()
                .map(|r| r.record_id.as_str())
                .collect::<Vec<_>>(),
            vec!["a", "b"]
        );
        // Day 1: fever -1, denominator -1 + 1 (b) = 0 (dropped). Day 2: fever, ili, denominator +1.
        assert_eq!(
            changes,
            vec![
                (cell("*", 2), 1),
                (cell("fever", 1), -1),
                (cell("fever", 2), 1),
                (cell("ili", 2), 1),
            ]
        );
    }

    #[test]
    fn a_guard_keeps_a_sender_off_records_outside_its_reach() {
        let mut theirs = rec("a", 1, "A00=1");
        theirs.community_code = "C9".into();
        theirs.fields = serde_json::json!({ "reported_by": "H9" });
        let stored: HashMap<_, _> = [(("H1".to_owned(), "a".to_owned()), theirs)]
            .into_iter()
            .collect();
        let batch = vec![rec("a", 1, "A00=1"), rec("b", 1, "A00=1")];
        let area = Guard {
            community_prefix: Some("C1".into()),
            ..Guard::default()
        };
        let p = plan(&batch, stored.clone(), &area).unwrap();
        assert_eq!((p.outcome.refused, p.outcome.inserted), (vec![0], 1));
        assert_eq!(p.writes.len(), 1);
        assert_eq!(p.changes, vec![(cell("*", 1), 1), (cell("A00", 1), 1)]);
        let reporter = Guard {
            reported_by: Some("H1".into()),
            ..Guard::default()
        };
        assert_eq!(
            plan(&batch, stored.clone(), &reporter)
                .unwrap()
                .outcome
                .refused,
            vec![0]
        );
        let same = Guard {
            community_prefix: Some("C".into()),
            reported_by: Some("H9".into()),
            expected: Some(stored.clone()),
        };
        let p = plan(&batch, stored.clone(), &same).unwrap();
        assert!(p.outcome.refused.is_empty());
        // Read before a correction landed: left alone.
        let mut stale = stored.clone();
        if let Some(r) = stale.values_mut().next() {
            r.day = day(2);
        }
        let late = Guard {
            expected: Some(stale),
            ..Guard::default()
        };
        assert_eq!(
            plan(&batch, stored, &late).unwrap().outcome.refused,
            vec![0]
        );
    }

    #[test]
    fn a_key_twice_in_a_batch_is_written_once_as_its_last_state() {
        let batch = vec![rec("a", 1, "fever=1"), rec("a", 1, "gi=1")];
        let Plan {
            writes,
            changes,
            outcome,
        } = plan(&batch, HashMap::new(), &Guard::default()).unwrap();
        assert_eq!((outcome.inserted, outcome.updated), (1, 1));
        assert_eq!(writes.len(), 1);
        assert_eq!(writes[0].contrib, "gi=1");
        assert_eq!(changes, vec![(cell("*", 1), 1), (cell("gi", 1), 1)]);
    }
}
