//! The primary-care indicators. For each measure the database answers two questions, each
//! with one index range read returning resident ids: who is counted (the *members*) and who
//! of them meets it. The ids come back as one aggregated value per query (SQLite's
//! `group_concat`, PostgreSQL's `array_agg`), not a row each, and are attributed to their
//! communities here, from one read of the residents' communities: joining every counted row
//! to `residents` in SQL costs more than all the rest at a million residents.
//!
//! Counts per community and the drill-down to the residents behind a number are both built
//! from the same two sets, so a figure and its list cannot disagree. hc-app rolls the
//! community counts up the org-unit tree.
//!
//! Program patients' years are read from `program_years`, which hc-store keeps in step with
//! the follow-ups (see [`REFRESH_PROGRAM_YEARS_SQLITE`]); a period that is not a calendar
//! year is computed from the follow-ups themselves, with window functions.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use tokio::sync::OnceCell;

use crate::{Result, Store, StoreError, on_pool};

/// What an indicator query needs to know, computed by hc-app from the rules and the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorParams {
    /// First day of the period.
    pub from: NaiveDate,
    /// Last day of the period.
    pub to: NaiveDate,
    /// The day point-in-time indicators look at: the period's last day, or today if earlier.
    pub as_of: NaiveDate,
    /// Today: a re-visit not yet due today is not counted as missed.
    pub today: NaiveDate,
    /// Residents born on or before this day are elderly on `as_of`.
    pub elderly_born_by: NaiveDate,
    /// Residents born after this day are young children on `as_of`.
    pub child_born_after: NaiveDate,
    /// Pregnancies that ended on or after this day are still postpartum on `as_of`.
    pub postpartum_since: NaiveDate,
    /// Follow-ups up to this day can be the re-visit of one in the period.
    pub revisit_until: NaiveDate,
    /// Face-to-face follow-ups the standard needs.
    pub face_to_face_needed: i64,
    /// Whether the standard needs every re-visit done.
    pub revisits_required: bool,
    /// Services a basic contract must deliver.
    pub basic_services: i64,
    /// Services a personalised contract must deliver.
    pub personalised_services: i64,
}

/// A measure the store can count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Residents with a contract in force.
    Contract,
    /// Key-population residents with a contract in force.
    KeyPopulationContract,
    /// Contracts in force that delivered their package.
    Fulfilment,
    /// Contracts that ran their term in the period and were renewed.
    Renewal,
    /// Program patients managed to the standard (`hypertension` or `diabetes`).
    Standardised(&'static str),
    /// Program patients whose last follow-up was on target.
    Controlled(&'static str),
    /// Residents 65+ with the elderly health management in the period.
    Elderly,
}

/// One community's count.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct CommunityCount {
    /// Community code.
    pub community_code: String,
    /// Members.
    pub denominator: i64,
    /// Members who meet it.
    pub numerator: i64,
}

/// One resident behind a figure.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct Member {
    /// The resident.
    pub resident_id: i64,
    /// Their name (the caller masks it).
    pub name: String,
    /// Their community.
    pub community_code: String,
    /// Whether they meet the indicator (1) or not (0).
    pub meets: i64,
}

// ---------------------------------------------------------------------------------------------
// Keeping `program_years` in step with the follow-ups.

macro_rules! refresh_program_years {
    ($year:literal, $other_year:literal, $ids:literal) => {
        concat!(
            "INSERT INTO program_years (enrolment_id, year, resident_id, program, visits, face_to_face, missed, \
             pending_due, last_satisfied) \
             SELECT w.enrolment_id, w.year, e.resident_id, e.program, COUNT(*), \
             SUM(CASE WHEN w.face_to_face THEN 1 ELSE 0 END), \
             SUM(CASE WHEN w.action <> 'routine' AND w.next_visit > w.next_due THEN 1 ELSE 0 END), \
             MAX(CASE WHEN w.action <> 'routine' AND w.next_visit IS NULL THEN w.next_due END), \
             MAX(CASE WHEN w.classification = 'satisfied' AND (w.next_visit IS NULL OR ", $other_year, ") \
                 THEN 1 ELSE 0 END) \
             FROM (SELECT f.enrolment_id, ", $year, " AS year, f.visit_date, f.face_to_face, f.action, f.next_due, \
                 f.classification, LEAD(f.visit_date) OVER (PARTITION BY f.enrolment_id ORDER BY f.visit_date) AS next_visit \
               FROM followups f WHERE f.enrolment_id IN (", $ids, ")) w \
             JOIN enrolments e ON e.id = w.enrolment_id \
             GROUP BY w.enrolment_id, w.year, e.resident_id, e.program"
        )
    };
}

/// Deletes the `program_years` of the enrolments in the JSON array `$1`.
pub(crate) const DELETE_PROGRAM_YEARS_SQLITE: &str =
    "DELETE FROM program_years WHERE enrolment_id IN (SELECT value FROM json_each($1))";
/// [`DELETE_PROGRAM_YEARS_SQLITE`] for PostgreSQL.
pub(crate) const DELETE_PROGRAM_YEARS_PG: &str = "DELETE FROM program_years WHERE enrolment_id IN \
     (SELECT CAST(jsonb_array_elements_text(CAST($1 AS jsonb)) AS BIGINT))";
/// Writes the `program_years` of the enrolments in the JSON array `$1` from their follow-ups
/// (after [`DELETE_PROGRAM_YEARS_SQLITE`], in the transaction that changed them). A required
/// re-visit is missed when the next visit came after its due date; with no next visit yet,
/// its due date is kept as `pending_due` and the reader decides against its own today.
pub(crate) const REFRESH_PROGRAM_YEARS_SQLITE: &str = refresh_program_years!(
    "CAST(substr(f.visit_date, 1, 4) AS INTEGER)",
    "substr(w.next_visit, 1, 4) <> substr(w.visit_date, 1, 4)",
    "SELECT value FROM json_each($1)"
);
/// [`REFRESH_PROGRAM_YEARS_SQLITE`] for PostgreSQL.
pub(crate) const REFRESH_PROGRAM_YEARS_PG: &str = refresh_program_years!(
    "CAST(EXTRACT(YEAR FROM f.visit_date) AS INTEGER)",
    "EXTRACT(YEAR FROM w.next_visit) <> w.year",
    "SELECT CAST(jsonb_array_elements_text(CAST($1 AS jsonb)) AS BIGINT)"
);

/// One enrolment's follow-up facts in one calendar year, as `program_years` keeps them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct ProgramYearRow {
    /// The enrolment.
    pub enrolment_id: i64,
    /// The calendar year.
    pub year: i32,
    /// Follow-ups in the year.
    pub visits: i32,
    /// Face-to-face follow-ups in the year.
    pub face_to_face: i32,
    /// Required re-visits whose next visit came after the due date.
    pub missed: i32,
    /// The due date of a required re-visit with no visit since (the enrolment's last visit).
    pub pending_due: Option<NaiveDate>,
    /// Whether the year's last follow-up was on target (1) or not (0).
    pub last_satisfied: i32,
}

impl Store {
    /// The `program_years` of enrolment `enrolment_id`, by year.
    pub async fn program_years_of(&self, enrolment_id: i64) -> Result<Vec<ProgramYearRow>> {
        const SQL: &str = "SELECT enrolment_id, year, visits, face_to_face, missed, pending_due, last_satisfied \
             FROM program_years WHERE enrolment_id = $1 ORDER BY year";
        Ok(on_pool!(self, p => sqlx::query_as(SQL).bind(enrolment_id).fetch_all(p).await?))
    }
}

// ---------------------------------------------------------------------------------------------
// The measures' sets.

/// A query returning resident ids as one aggregated value; `x` is the id column.
struct Ids {
    sqlite: &'static str,
    pg: &'static str,
}

macro_rules! ids {
    ($inner:expr) => {
        Ids {
            sqlite: concat!("SELECT group_concat(x) FROM (", $inner, ")"),
            pg: concat!("SELECT array_agg(x) FROM (", $inner, ") s"),
        }
    };
}

/// A bound parameter.
#[derive(Debug, Clone, Copy)]
enum Arg {
    Date(NaiveDate),
    Int(i64),
    Text(&'static str),
}

// Each query numbers its own parameters from $1, in the order of its `Arg`s.

/// Key-population residents on $1: born by $2 (elderly) or after $3 (young children), with a
/// diagnosis implying a key population, pregnant or postpartum (ended on or after $4), or
/// disabled. A resident can come more than once.
const KEY_POPULATION: Ids = ids!(
    "SELECT id AS x FROM residents WHERE birth_date <= $2 \
     UNION ALL SELECT id FROM residents WHERE birth_date > $3 AND birth_date <= $1 \
     UNION ALL SELECT resident_id FROM diagnoses WHERE population IS NOT NULL AND diagnosed_on <= $1 \
         AND (resolved_on IS NULL OR resolved_on > $1) \
     UNION ALL SELECT resident_id FROM pregnancies WHERE registered_on <= $1 \
         AND (ended_on IS NULL OR ended_on >= $4) \
     UNION ALL SELECT resident_id FROM disabilities WHERE registered_on <= $1"
);
/// The contracts each service delivered from $1 to $2 was delivered under, once per service
/// (a service is always delivered within its contract's term: hc-app checks it).
const SERVICES: Ids = ids!(
    "SELECT contract_id AS x FROM contract_services WHERE delivered_on >= $1 AND delivered_on <= $2"
);
/// The contracts in force on $1: ids, residents and whether personalised, as three aligned lists.
const IN_FORCE_CONTRACTS_SQLITE: &str = "SELECT group_concat(id), group_concat(resident_id), \
     group_concat(CASE package WHEN 'basic' THEN 0 ELSE 1 END) FROM contracts \
     WHERE end_date > $1 AND start_date <= $1 AND (ended_on IS NULL OR ended_on > $1)";
const IN_FORCE_CONTRACTS_PG: &str = "SELECT array_agg(id), array_agg(resident_id), \
     array_agg(CASE package WHEN 'basic' THEN CAST(0 AS BIGINT) ELSE CAST(1 AS BIGINT) END) FROM contracts \
     WHERE end_date > $1 AND start_date <= $1 AND (ended_on IS NULL OR ended_on > $1)";
/// The contracts that ran their term from $1 to $2 (not ended early): ids and residents, as
/// two aligned lists.
const ENDING_SQLITE: &str = "SELECT group_concat(id), group_concat(resident_id) FROM contracts \
     WHERE end_date >= $1 AND end_date <= $2 AND ended_on IS NULL";
const ENDING_PG: &str = "SELECT array_agg(id), array_agg(resident_id) FROM contracts \
     WHERE end_date >= $1 AND end_date <= $2 AND ended_on IS NULL";
/// The contracts renewed by a renewal starting on or after $1. A contract that ran its term
/// from $1 on can only be renewed from its end (contracts never overlap), so this holds
/// every renewal of those [`ENDING_SQLITE`] lists.
const RENEWED: Ids = ids!(
    "SELECT previous_id AS x FROM contracts WHERE kind = 'renewal' AND start_date >= $1 AND previous_id IS NOT NULL"
);
/// Patients under management in program $1 on $2 (enrolled by then, not ended).
const MANAGED: Ids = ids!(
    "SELECT resident_id AS x FROM enrolments WHERE program = $1 AND enrolled_on <= $2 \
     AND (ended_on IS NULL OR ended_on > $2)"
);
/// Program $1 patients managed to the standard in year $2: at least $3 face-to-face visits
/// and, unless $4 is 0, no required re-visit missed (one still open is missed once its due
/// date is before today, $5).
const STANDARDISED_YEAR: Ids = ids!(
    "SELECT resident_id AS x FROM program_years WHERE program = $1 AND year = $2 AND face_to_face >= $3 \
     AND ($4 = 0 OR (missed = 0 AND (pending_due IS NULL OR pending_due >= $5)))"
);
/// Program $1 patients whose last visit of year $2 was on target.
const CONTROLLED_YEAR: Ids = ids!(
    "SELECT resident_id AS x FROM program_years WHERE program = $1 AND year = $2 AND last_satisfied = 1"
);

// Any other period, from the follow-ups: $1 from, $2 to, $3 the last day a re-visit of a visit
// in the period can fall on, $4 today, $5 program; then the verdict's own parameters.
macro_rules! program_period {
    ($meets:literal) => {
        concat!(
            "SELECT e.resident_id AS x FROM enrolments e LEFT JOIN ( \
               SELECT y.enrolment_id, SUM(CASE WHEN y.face_to_face THEN 1 ELSE 0 END) AS f2f, \
               SUM(CASE WHEN y.action <> 'routine' AND ((y.next_visit IS NULL AND y.next_due < $4) \
                   OR y.next_visit > y.next_due) THEN 1 ELSE 0 END) AS missed, \
               MAX(CASE WHEN y.rn = 1 AND y.classification = 'satisfied' THEN 1 ELSE 0 END) AS controlled \
               FROM (SELECT w.*, ROW_NUMBER() OVER (PARTITION BY w.enrolment_id ORDER BY w.visit_date DESC) AS rn \
                 FROM (SELECT f.enrolment_id, f.visit_date, f.face_to_face, f.classification, f.action, f.next_due, \
                   LEAD(f.visit_date) OVER (PARTITION BY f.enrolment_id ORDER BY f.visit_date) AS next_visit \
                   FROM followups f JOIN enrolments fe ON fe.id = f.enrolment_id AND fe.program = $5 \
                   WHERE f.visit_date >= $1 AND f.visit_date <= $3) w \
                 WHERE w.visit_date <= $2) y \
               GROUP BY y.enrolment_id) s ON s.enrolment_id = e.id \
             WHERE e.program = $5 AND e.enrolled_on <= $2 AND (e.ended_on IS NULL OR e.ended_on > $2) AND ",
            $meets
        )
    };
}
/// $6 face-to-face visits needed, $7 whether re-visits are required (0 or 1).
const STANDARDISED_PERIOD: Ids = ids!(program_period!(
    "COALESCE(s.f2f, 0) >= $6 AND ($7 = 0 OR COALESCE(s.missed, 0) = 0)"
));
const CONTROLLED_PERIOD: Ids = ids!(program_period!("COALESCE(s.controlled, 0) = 1"));

/// Residents born by $1.
const BORN_BY: Ids = ids!("SELECT id AS x FROM residents WHERE birth_date <= $1");
/// Residents with an elderly health management from $1 to $2.
const ELDERLY_CHECKED: Ids = ids!(
    "SELECT resident_id AS x FROM health_checks WHERE kind = 'elderly' AND check_date >= $1 AND check_date <= $2"
);

/// Three aligned lists, as one query returns them.
type Lists3<T> = (T, T, T);

/// The contracts in force on a day (one at most per resident), as aligned lists.
#[derive(Debug, Default)]
struct InForce {
    ids: Vec<i64>,
    residents: Vec<i64>,
    /// 1 for a personalised package, 0 for the basic one.
    personalised: Vec<i64>,
}

/// Who a measure counts and who of them meets it, as resident ids (unsorted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Sets {
    /// The members; `None`: every resident.
    members: Option<Vec<i64>>,
    /// Those who meet it (ids outside `members` are ignored).
    meets: Vec<i64>,
    /// Whether a resident counts once per occurrence (per contract) rather than once.
    per_occurrence: bool,
}

fn ids_error(what: &str) -> StoreError {
    StoreError::Db(sqlx::Error::Decode(
        format!("an id list held {what:?}").into(),
    ))
}

/// Parses SQLite's `group_concat` of ids.
fn parse_ids(list: Option<&str>) -> Result<Vec<i64>> {
    let Some(list) = list.filter(|l| !l.is_empty()) else {
        return Ok(Vec::new());
    };
    list.split(',')
        .map(|x| x.parse().map_err(|_| ids_error(x)))
        .collect()
}

/// Which community each resident of a subtree lives in.
struct Communities {
    codes: Vec<String>,
    /// Resident id → index into `codes`.
    of: IdIndex,
}

enum IdIndex {
    /// Ids are dense (as the database hands them out): a slot per id from `base`.
    Dense {
        base: i64,
        slots: Vec<u32>,
    },
    Sparse(HashMap<i64, u32>),
}

const NONE: u32 = u32::MAX;

impl Communities {
    fn new(groups: Vec<(String, Vec<i64>)>) -> Communities {
        let count: usize = groups.iter().map(|(_, ids)| ids.len()).sum();
        let all = || groups.iter().flat_map(|(_, ids)| ids.iter().copied());
        let (lo, hi) = (all().min().unwrap_or(0), all().max().unwrap_or(0));
        let span = usize::try_from(hi - lo).unwrap_or(usize::MAX);
        let of = if span <= 4 * count + 1024 {
            let mut slots = vec![NONE; span + 1];
            for (k, (_, ids)) in groups.iter().enumerate() {
                for &id in ids {
                    if let Ok(i) = usize::try_from(id - lo) {
                        slots[i] = k as u32;
                    }
                }
            }
            IdIndex::Dense { base: lo, slots }
        } else {
            let mut map = HashMap::with_capacity(count);
            for (k, (_, ids)) in groups.iter().enumerate() {
                for &id in ids {
                    map.insert(id, k as u32);
                }
            }
            IdIndex::Sparse(map)
        };
        Communities {
            codes: groups.into_iter().map(|(code, _)| code).collect(),
            of,
        }
    }

    /// The community (index) of resident `id`, if they live in the subtree.
    fn of(&self, id: i64) -> Option<usize> {
        let k = match &self.of {
            IdIndex::Dense { base, slots } => usize::try_from(id - base)
                .ok()
                .and_then(|i| slots.get(i).copied())?,
            IdIndex::Sparse(map) => map.get(&id).copied()?,
        };
        (k != NONE).then_some(k as usize)
    }

    /// Every resident of the subtree, by id.
    fn everyone(&self) -> Vec<i64> {
        match &self.of {
            IdIndex::Dense { base, slots } => slots
                .iter()
                .enumerate()
                .filter(|(_, k)| **k != NONE)
                .map(|(i, _)| base + i as i64)
                .collect(),
            IdIndex::Sparse(map) => {
                let mut ids: Vec<i64> = map.keys().copied().collect();
                ids.sort_unstable();
                ids
            }
        }
    }
}

/// Sorts (and, unless counted per occurrence, de-duplicates) the sets.
fn normalise(sets: &mut Sets) {
    let per = sets.per_occurrence;
    let tidy = |v: &mut Vec<i64>| {
        v.sort_unstable();
        if !per {
            v.dedup();
        }
    };
    if let Some(m) = sets.members.as_mut() {
        tidy(m);
    }
    tidy(&mut sets.meets);
}

/// The counts per community of normalised `sets`.
fn tally(communities: &Communities, sets: &Sets) -> Vec<CommunityCount> {
    let mut den = vec![0i64; communities.codes.len()];
    let mut num = vec![0i64; communities.codes.len()];
    match &sets.members {
        None => {
            for id in communities.everyone() {
                if let Some(k) = communities.of(id) {
                    den[k] += 1;
                }
            }
            for &id in &sets.meets {
                if let Some(k) = communities.of(id) {
                    num[k] += 1;
                }
            }
        }
        Some(members) => {
            for &id in members {
                if let Some(k) = communities.of(id) {
                    den[k] += 1;
                }
            }
            // Both sorted: a member meets it as many times as both lists hold it.
            let (mut i, mut j) = (0, 0);
            while i < members.len() && j < sets.meets.len() {
                match members[i].cmp(&sets.meets[j]) {
                    std::cmp::Ordering::Less => i += 1,
                    std::cmp::Ordering::Greater => j += 1,
                    std::cmp::Ordering::Equal => {
                        if let Some(k) = communities.of(members[i]) {
                            num[k] += 1;
                        }
                        i += 1;
                        j += 1;
                    }
                }
            }
        }
    }
    let mut out: Vec<CommunityCount> = communities
        .codes
        .iter()
        .enumerate()
        .filter(|(k, _)| den[*k] > 0)
        .map(|(k, code)| CommunityCount {
            community_code: code.clone(),
            denominator: den[k],
            numerator: num[k],
        })
        .collect();
    out.sort_by(|a, b| a.community_code.cmp(&b.community_code));
    out
}

/// The members of normalised `sets` in the subtree after `after`, by id, at most `limit`,
/// with whether each meets it; only those who do (`Some(true)`), who do not, or all.
fn select(
    communities: &Communities,
    sets: &Sets,
    meets: Option<bool>,
    after: i64,
    limit: usize,
) -> Vec<(i64, usize, bool)> {
    let everyone;
    let members: &[i64] = match &sets.members {
        Some(m) => m,
        None => {
            everyone = communities.everyone();
            &everyone
        }
    };
    let mut out: Vec<(i64, usize, bool)> = Vec::new();
    let start = members.partition_point(|&id| id <= after);
    let mut last = None;
    for &id in &members[start..] {
        if out.len() >= limit {
            break;
        }
        if last == Some(id) {
            continue;
        }
        last = Some(id);
        let Some(k) = communities.of(id) else {
            continue;
        };
        let m = sets.meets.binary_search(&id).is_ok();
        if meets.is_none_or(|want| want == m) {
            out.push((id, k, m));
        }
    }
    out
}

impl Store {
    /// Runs an id query.
    async fn ids(&self, q: &Ids, args: Vec<Arg>) -> Result<Vec<i64>> {
        match &self.db {
            crate::Db::Sqlite(p) => {
                let mut query = sqlx::query_scalar::<_, Option<String>>(q.sqlite);
                for a in &args {
                    query = match *a {
                        Arg::Date(d) => query.bind(d),
                        Arg::Int(i) => query.bind(i),
                        Arg::Text(t) => query.bind(t),
                    };
                }
                parse_ids(query.fetch_one(p).await?.as_deref())
            }
            crate::Db::Postgres(p) => {
                let mut query = sqlx::query_scalar::<_, Option<Vec<i64>>>(q.pg);
                for a in &args {
                    query = match *a {
                        Arg::Date(d) => query.bind(d),
                        Arg::Int(i) => query.bind(i),
                        Arg::Text(t) => query.bind(t),
                    };
                }
                Ok(query.fetch_one(p).await?.unwrap_or_default())
            }
        }
    }

    /// Runs a query returning two aligned id lists, with two date parameters.
    async fn pairs(
        &self,
        sqlite: &'static str,
        pg: &'static str,
        a: Arg,
        b: Arg,
    ) -> Result<(Vec<i64>, Vec<i64>)> {
        let (Arg::Date(a), Arg::Date(b)) = (a, b) else {
            return Err(ids_error("a parameter that is not a date"));
        };
        let (x, y) = match &self.db {
            crate::Db::Sqlite(p) => {
                let (x, y): (Option<String>, Option<String>) =
                    sqlx::query_as(sqlite).bind(a).bind(b).fetch_one(p).await?;
                (parse_ids(x.as_deref())?, parse_ids(y.as_deref())?)
            }
            crate::Db::Postgres(p) => {
                let (x, y): (Option<Vec<i64>>, Option<Vec<i64>>) =
                    sqlx::query_as(pg).bind(a).bind(b).fetch_one(p).await?;
                (x.unwrap_or_default(), y.unwrap_or_default())
            }
        };
        if x.len() != y.len() {
            return Err(ids_error("lists of different lengths"));
        }
        Ok((x, y))
    }

    /// The residents of each community under `under` (every community when `None`).
    async fn community_ids(&self, under: Option<&str>) -> Result<Vec<(String, Vec<i64>)>> {
        const ALL_SQLITE: &str =
            "SELECT community_code, group_concat(id) FROM residents GROUP BY community_code";
        const UNDER_SQLITE: &str = "SELECT community_code, group_concat(id) FROM residents \
             WHERE community_code >= $1 AND community_code < $2 GROUP BY community_code";
        const ALL_PG: &str =
            "SELECT community_code, array_agg(id) FROM residents GROUP BY community_code";
        const UNDER_PG: &str = "SELECT community_code, array_agg(id) FROM residents \
             WHERE community_code >= $1 AND community_code < $2 GROUP BY community_code";
        let upper = under.map(crate::prefix_upper);
        match &self.db {
            crate::Db::Sqlite(p) => {
                let rows: Vec<(String, Option<String>)> = match under {
                    None => sqlx::query_as(ALL_SQLITE).fetch_all(p).await?,
                    Some(u) => {
                        sqlx::query_as(UNDER_SQLITE)
                            .bind(u)
                            .bind(upper.as_deref())
                            .fetch_all(p)
                            .await?
                    }
                };
                rows.into_iter()
                    .map(|(code, ids)| Ok((code, parse_ids(ids.as_deref())?)))
                    .collect()
            }
            crate::Db::Postgres(p) => {
                let rows: Vec<(String, Option<Vec<i64>>)> = match under {
                    None => {
                        // The planner prefers a sequential scan and a hash aggregate, which
                        // grows 600-odd arrays at once: 0.7 s at a million residents. Read in
                        // `residents_community` order (index only, the table is vacuumed),
                        // each array is built in turn: 0.3 s.
                        let mut tx = p.begin().await?;
                        sqlx::query("SET LOCAL enable_seqscan = off")
                            .execute(&mut *tx)
                            .await?;
                        let rows = sqlx::query_as(ALL_PG).fetch_all(&mut *tx).await?;
                        tx.commit().await?;
                        rows
                    }
                    Some(u) => {
                        sqlx::query_as(UNDER_PG)
                            .bind(u)
                            .bind(upper.as_deref())
                            .fetch_all(p)
                            .await?
                    }
                };
                Ok(rows
                    .into_iter()
                    .map(|(code, ids)| (code, ids.unwrap_or_default()))
                    .collect())
            }
        }
    }

    /// The communities of the subtrees `under` (the whole city when empty).
    async fn communities(&self, under: &[&str]) -> Result<Communities> {
        let mut groups = Vec::new();
        if under.is_empty() {
            groups = self.community_ids(None).await?;
        } else {
            for u in under {
                groups.extend(self.community_ids(Some(u)).await?);
            }
        }
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        groups.dedup_by(|a, b| a.0 == b.0);
        Ok(Communities::new(groups))
    }

    /// The contracts in force on `p.as_of`, read once for every measure that needs them.
    async fn in_force<'a>(
        &self,
        p: &IndicatorParams,
        once: &'a OnceCell<InForce>,
    ) -> Result<&'a InForce> {
        once.get_or_try_init(|| async {
            let (ids, residents, personalised) = match &self.db {
                crate::Db::Sqlite(pool) => {
                    let (a, b, c): Lists3<Option<String>> =
                        sqlx::query_as(IN_FORCE_CONTRACTS_SQLITE)
                            .bind(p.as_of)
                            .fetch_one(pool)
                            .await?;
                    (
                        parse_ids(a.as_deref())?,
                        parse_ids(b.as_deref())?,
                        parse_ids(c.as_deref())?,
                    )
                }
                crate::Db::Postgres(pool) => {
                    let (a, b, c): Lists3<Option<Vec<i64>>> = sqlx::query_as(IN_FORCE_CONTRACTS_PG)
                        .bind(p.as_of)
                        .fetch_one(pool)
                        .await?;
                    (
                        a.unwrap_or_default(),
                        b.unwrap_or_default(),
                        c.unwrap_or_default(),
                    )
                }
            };
            if ids.len() != residents.len() || ids.len() != personalised.len() {
                return Err(ids_error("lists of different lengths"));
            }
            Ok(InForce {
                ids,
                residents,
                personalised,
            })
        })
        .await
    }

    /// The contracts in force on `as_of` that delivered their package from `from`, by resident.
    async fn fulfilled(
        &self,
        p: &IndicatorParams,
        once: &OnceCell<InForce>,
    ) -> Result<(Vec<i64>, Vec<i64>)> {
        let services = self.ids(&SERVICES, vec![Arg::Date(p.from), Arg::Date(p.as_of)]);
        let (in_force, mut services) = futures::try_join!(self.in_force(p, once), services)?;
        let InForce {
            ids,
            residents,
            personalised,
        } = in_force;
        services.sort_unstable();
        let delivered = |id: i64| {
            services.partition_point(|&s| s <= id) - services.partition_point(|&s| s < id)
        };
        let meets = ids
            .iter()
            .zip(residents)
            .zip(personalised)
            .filter(|((id, _), personal)| {
                let needed = if **personal == 0 {
                    p.basic_services
                } else {
                    p.personalised_services
                };
                delivered(**id) as i64 >= needed
            })
            .map(|((_, r), _)| *r)
            .collect();
        Ok((residents.clone(), meets))
    }

    /// The sets of `measure` for `p`, normalised.
    async fn sets(
        &self,
        measure: Measure,
        p: &IndicatorParams,
        in_force: &OnceCell<InForce>,
    ) -> Result<Sets> {
        use Arg::{Date, Int, Text};
        let upto = p.to.min(p.as_of);
        let both = |members: Vec<i64>, meets: Vec<i64>| Sets {
            members: Some(members),
            meets,
            per_occurrence: false,
        };
        let mut sets = match measure {
            Measure::Contract => Sets {
                members: None,
                meets: self.in_force(p, in_force).await?.residents.clone(),
                per_occurrence: false,
            },
            Measure::KeyPopulationContract => {
                let args = [
                    Date(p.as_of),
                    Date(p.elderly_born_by),
                    Date(p.child_born_after),
                    Date(p.postpartum_since),
                ];
                let (members, meets) = futures::try_join!(
                    self.ids(&KEY_POPULATION, args.to_vec()),
                    self.in_force(p, in_force)
                )?;
                let meets = meets.residents.clone();
                both(members, meets)
            }
            Measure::Fulfilment => {
                let (members, meets) = self.fulfilled(p, in_force).await?;
                both(members, meets)
            }
            Measure::Renewal => {
                let ending = self.pairs(ENDING_SQLITE, ENDING_PG, Date(p.from), Date(upto));
                let renewed = self.ids(&RENEWED, vec![Date(p.from)]);
                let ((contracts, members), mut renewed) = futures::try_join!(ending, renewed)?;
                renewed.sort_unstable();
                let meets = contracts
                    .iter()
                    .zip(&members)
                    .filter(|(c, _)| renewed.binary_search(c).is_ok())
                    .map(|(_, r)| *r)
                    .collect();
                Sets {
                    members: Some(members),
                    meets,
                    per_occurrence: true,
                }
            }
            Measure::Standardised(program) | Measure::Controlled(program) => {
                let managed = self.ids(&MANAGED, vec![Text(program), Date(p.to)]);
                let standardised = matches!(measure, Measure::Standardised(_));
                let year = p.from.year();
                let calendar_year = (p.from.month(), p.from.day(), p.to.month(), p.to.day())
                    == (1, 1, 12, 31)
                    && p.to.year() == year;
                let required = Int(i64::from(p.revisits_required));
                let meets = async {
                    match (calendar_year, standardised) {
                        (true, true) => {
                            let args = [
                                Text(program),
                                Int(i64::from(year)),
                                Int(p.face_to_face_needed),
                                required,
                                Date(p.today),
                            ];
                            self.ids(&STANDARDISED_YEAR, args.to_vec()).await
                        }
                        (true, false) => {
                            let args = [Text(program), Int(i64::from(year))];
                            self.ids(&CONTROLLED_YEAR, args.to_vec()).await
                        }
                        (false, s) => {
                            let mut args = vec![
                                Date(p.from),
                                Date(p.to),
                                Date(p.revisit_until),
                                Date(p.today),
                                Text(program),
                            ];
                            if s {
                                args.extend([Int(p.face_to_face_needed), required]);
                            }
                            let q = if s {
                                &STANDARDISED_PERIOD
                            } else {
                                &CONTROLLED_PERIOD
                            };
                            self.ids(q, args.to_vec()).await
                        }
                    }
                };
                let (members, meets) = futures::try_join!(managed, meets)?;
                both(members, meets)
            }
            Measure::Elderly => {
                let (members, meets) = futures::try_join!(
                    self.ids(&BORN_BY, vec![Date(p.elderly_born_by)]),
                    self.ids(&ELDERLY_CHECKED, vec![Date(p.from), Date(p.as_of)])
                )?;
                both(members, meets)
            }
        };
        normalise(&mut sets);
        Ok(sets)
    }

    /// For each of `measures`, how many residents it counts in each community of the subtree
    /// `under` (all when `None`), and how many of them meet it. The measures run at once.
    pub async fn indicator_counts(
        &self,
        measures: &[Measure],
        params: &IndicatorParams,
        under: Option<&str>,
    ) -> Result<Vec<Vec<CommunityCount>>> {
        let under: Vec<&str> = under.into_iter().collect();
        let in_force = OnceCell::new();
        let sets = futures::future::try_join_all(
            measures.iter().map(|m| self.sets(*m, params, &in_force)),
        );
        let (communities, sets) = futures::try_join!(self.communities(&under), sets)?;
        Ok(sets.iter().map(|s| tally(&communities, s)).collect())
    }

    /// The residents `measure` counts in the subtrees `under` (all when empty), by id after
    /// `after`, at most `limit`; only those who meet it (`Some(true)`), who do not
    /// (`Some(false)`), or all. Built from the same sets as the counts.
    pub async fn indicator_members(
        &self,
        measure: Measure,
        params: &IndicatorParams,
        under: &[&str],
        meets: Option<bool>,
        after: i64,
        limit: usize,
    ) -> Result<Vec<Member>> {
        const NAMES_SQLITE: &str = "SELECT id, name FROM residents \
             WHERE id IN (SELECT value FROM json_each($1)) ORDER BY id";
        const NAMES_PG: &str = "SELECT id, name FROM residents \
             WHERE id IN (SELECT CAST(jsonb_array_elements_text(CAST($1 AS jsonb)) AS BIGINT)) ORDER BY id";
        let in_force = OnceCell::new();
        let (communities, sets) = futures::try_join!(
            self.communities(under),
            self.sets(measure, params, &in_force)
        )?;
        let chosen = select(&communities, &sets, meets, after, limit);
        let ids: Vec<i64> = chosen.iter().map(|c| c.0).collect();
        let list = serde_json::to_string(&ids)
            .map_err(|e| StoreError::Db(sqlx::Error::Encode(e.into())))?;
        let names: Vec<(i64, String)> = on_pool!(self, p => {
            let sql = if matches!(self.db, crate::Db::Postgres(_)) { NAMES_PG } else { NAMES_SQLITE };
            sqlx::query_as(sql).bind(list).fetch_all(p).await?
        });
        let names: HashMap<i64, String> = names.into_iter().collect();
        Ok(chosen
            .into_iter()
            .map(|(id, k, m)| Member {
                resident_id: id,
                name: names.get(&id).cloned().unwrap_or_default(),
                community_code: communities.codes[k].clone(),
                meets: i64::from(m),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn city() -> Communities {
        Communities::new(vec![
            ("A".to_owned(), vec![1, 2, 3]),
            ("B".to_owned(), vec![4, 5]),
        ])
    }

    #[test]
    fn ids_parse_and_refuse_garbage() {
        assert_eq!(parse_ids(Some("3,1,2")).unwrap(), vec![3, 1, 2]);
        assert_eq!(parse_ids(None).unwrap(), Vec::<i64>::new());
        assert!(parse_ids(Some("1,x")).is_err());
    }

    #[test]
    fn sparse_ids_are_indexed_too() {
        let c = Communities::new(vec![("A".to_owned(), vec![1, 1_000_000_000])]);
        assert!(matches!(c.of, IdIndex::Sparse(_)));
        assert_eq!((c.of(1_000_000_000), c.of(2)), (Some(0), None));
        assert_eq!(c.everyone(), vec![1, 1_000_000_000]);
    }

    #[test]
    fn tally_counts_members_in_the_subtree_and_those_of_them_who_meet_it() {
        // Resident 9 lives outside the subtree; 6 meets it but is not a member.
        let mut sets = Sets {
            members: Some(vec![5, 1, 2, 9, 2]),
            meets: vec![2, 6, 9, 5],
            per_occurrence: false,
        };
        normalise(&mut sets);
        let counts = tally(&city(), &sets);
        let row = |c: &str, d, n| CommunityCount {
            community_code: c.to_owned(),
            denominator: d,
            numerator: n,
        };
        assert_eq!(counts, vec![row("A", 2, 1), row("B", 1, 1)]);
        // Every resident.
        let mut all = Sets {
            members: None,
            meets: vec![3, 3, 4],
            per_occurrence: false,
        };
        normalise(&mut all);
        assert_eq!(tally(&city(), &all), vec![row("A", 3, 1), row("B", 2, 1)]);
        // Per contract: resident 1's two contracts ended, one was renewed.
        let mut renewals = Sets {
            members: Some(vec![1, 1, 4]),
            meets: vec![1],
            per_occurrence: true,
        };
        normalise(&mut renewals);
        assert_eq!(
            tally(&city(), &renewals),
            vec![row("A", 2, 1), row("B", 1, 0)]
        );
    }

    #[test]
    fn select_pages_by_id_and_filters_on_meeting() {
        let mut sets = Sets {
            members: None,
            meets: vec![2, 4],
            per_occurrence: false,
        };
        normalise(&mut sets);
        let c = city();
        assert_eq!(
            select(&c, &sets, None, 0, 3),
            vec![(1, 0, false), (2, 0, true), (3, 0, false)]
        );
        assert_eq!(
            select(&c, &sets, None, 3, 3),
            vec![(4, 1, true), (5, 1, false)]
        );
        assert_eq!(
            select(&c, &sets, Some(true), 0, 10),
            vec![(2, 0, true), (4, 1, true)]
        );
        assert_eq!(select(&c, &sets, Some(false), 1, 1), vec![(3, 0, false)]);
    }
}
