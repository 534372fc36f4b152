//! Set-based writes: a whole batch of records in one statement per operation, passed as one
//! JSON array so the SQL text is fixed (`json_each` on SQLite, `jsonb_to_recordset` on
//! PostgreSQL). Imports use these for speed; single creates and updates use them with one row.

use hc_core::model::*;
use serde::Serialize;

use crate::registry::{InstitutionRaw, OrgUnitRaw, PractitionerRaw, ResidentRaw, Stored};
use crate::{Result, Store, StoreError, epoch_seconds, on_pool};

/// A record as found in the database before a batch write, with the import run that last
/// wrote it.
#[derive(Debug, Clone)]
pub struct Existing<T> {
    /// The stored record.
    pub stored: Stored<T>,
    /// The import run that inserted or last changed it, if any.
    pub import_id: Option<i64>,
}

/// What a batch write did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BatchOutcome {
    /// New records.
    pub inserted: u64,
    /// Changed records.
    pub updated: u64,
}

/// SQL of one entity kind for both dialects.
pub(crate) struct Sql {
    /// Whether the statements take the import run id as `$2`.
    stamps_import: bool,
    select_sqlite: &'static str,
    select_pg: &'static str,
    insert_sqlite: &'static str,
    insert_pg: &'static str,
    update_sqlite: &'static str,
    update_pg: &'static str,
    /// Sets the import stamp of the ids in `$1` to `$2` (stamped kinds only).
    stamp_sqlite: &'static str,
    stamp_pg: &'static str,
    /// `COPY … FROM STDIN` of the kind's columns and import stamp (PostgreSQL), if any.
    copy_pg: Option<&'static str>,
}

/// Streams `data` into `COPY … FROM STDIN` on a PostgreSQL transaction; never called on
/// SQLite (no kind has a SQLite COPY statement), where it reports an error.
trait CopyIn {
    async fn copy_in_text(&mut self, stmt: &'static str, data: &[u8]) -> Result<u64>;
}

impl CopyIn for sqlx::Transaction<'_, sqlx::Postgres> {
    async fn copy_in_text(&mut self, stmt: &'static str, data: &[u8]) -> Result<u64> {
        let mut copy = (**self).copy_in_raw(stmt).await?;
        if let Err(e) = copy.send(data).await {
            let _ = copy.abort("send failed").await;
            return Err(e.into());
        }
        Ok(copy.finish().await?)
    }
}

impl CopyIn for sqlx::Transaction<'_, sqlx::Sqlite> {
    async fn copy_in_text(&mut self, _stmt: &'static str, _data: &[u8]) -> Result<u64> {
        Err(StoreError::Db(sqlx::Error::Protocol(
            "COPY is PostgreSQL only".into(),
        )))
    }
}

async fn copy_in<T: CopyIn>(tx: &mut T, stmt: &'static str, data: &[u8]) -> Result<u64> {
    tx.copy_in_text(stmt, data).await
}

/// Appends `value` to a COPY text-format line, escaped; `None` is `\N`.
fn copy_field(out: &mut String, value: Option<&str>) {
    match value {
        None => out.push_str("\\N"),
        Some(v) => {
            for c in v.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
        }
    }
}

/// A registry record that can be written in batches.
pub trait Entity: Serialize + Sized + Send + Sync {
    /// The natural key (code or identity number) the batch lookup matches on.
    fn key(&self) -> &str;
    #[doc(hidden)]
    #[allow(private_interfaces)]
    fn sql() -> &'static Sql;
    /// Appends the record as one line of PostgreSQL COPY text format, with the import stamp
    /// last; only for kinds whose [`Sql`] has a COPY statement.
    #[doc(hidden)]
    fn copy_line(&self, _import_id: Option<i64>, _out: &mut String) {}
    #[doc(hidden)]
    #[allow(async_fn_in_trait)]
    async fn fetch_existing(store: &Store, keys: &[&str]) -> Result<Vec<Existing<Self>>>;
}

#[derive(Serialize)]
struct WithId<'a, T> {
    id: i64,
    #[serde(flatten)]
    record: &'a T,
}

fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Db(sqlx::Error::Encode(Box::new(e))))
}

macro_rules! fetch_existing {
    ($store:expr, $raw:ty, $keys:expr) => {{
        let sql = Self::sql();
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            raw: $raw,
            import_id: Option<i64>,
        }
        let rows: Vec<Row> = match &$store.db {
            // SQLite takes the keys as one JSON array, PostgreSQL as a text[]: an index probe
            // per key, where a set-returning function would invite a hash join over the table.
            crate::Db::Sqlite(p) => {
                sqlx::query_as(sql.select_sqlite)
                    .bind(to_json(&$keys)?)
                    .fetch_all(p)
                    .await?
            }
            crate::Db::Postgres(p) => {
                sqlx::query_as(sql.select_pg)
                    .bind($keys)
                    .fetch_all(p)
                    .await?
            }
        };
        rows.into_iter()
            .map(|r| {
                Ok(Existing {
                    stored: Stored::try_from(r.raw)?,
                    import_id: r.import_id,
                })
            })
            .collect()
    }};
}

impl Entity for Resident {
    fn key(&self) -> &str {
        &self.id_number
    }
    fn copy_line(&self, import_id: Option<i64>, out: &mut String) {
        let birth = self.birth_date.format("%Y-%m-%d").to_string();
        let stamp = import_id.map(|i| i.to_string());
        let fields = [
            Some(self.id_type.as_str()),
            Some(self.id_number.as_str()),
            Some(self.name.as_str()),
            Some(self.sex.as_str()),
            Some(birth.as_str()),
            self.phone.as_deref(),
            Some(self.community_code.as_str()),
            Some(self.residence.as_str()),
            stamp.as_deref(),
        ];
        for (i, f) in fields.into_iter().enumerate() {
            if i > 0 {
                out.push('\t');
            }
            copy_field(out, f);
        }
        out.push('\n');
    }
    #[allow(private_interfaces)]
    fn sql() -> &'static Sql {
        &RESIDENT_SQL
    }
    async fn fetch_existing(store: &Store, keys: &[&str]) -> Result<Vec<Existing<Self>>> {
        fetch_existing!(store, ResidentRaw, keys)
    }
}

impl Entity for Practitioner {
    fn key(&self) -> &str {
        &self.id_number
    }
    #[allow(private_interfaces)]
    fn sql() -> &'static Sql {
        &PRACTITIONER_SQL
    }
    async fn fetch_existing(store: &Store, keys: &[&str]) -> Result<Vec<Existing<Self>>> {
        fetch_existing!(store, PractitionerRaw, keys)
    }
}

impl Entity for Institution {
    fn key(&self) -> &str {
        &self.code
    }
    #[allow(private_interfaces)]
    fn sql() -> &'static Sql {
        &INSTITUTION_SQL
    }
    async fn fetch_existing(store: &Store, keys: &[&str]) -> Result<Vec<Existing<Self>>> {
        fetch_existing!(store, InstitutionRaw, keys)
    }
}

impl Entity for OrgUnit {
    fn key(&self) -> &str {
        &self.code
    }
    #[allow(private_interfaces)]
    fn sql() -> &'static Sql {
        &ORGUNIT_SQL
    }
    async fn fetch_existing(store: &Store, keys: &[&str]) -> Result<Vec<Existing<Self>>> {
        fetch_existing!(store, OrgUnitRaw, keys)
    }
}

impl Store {
    /// The stored records whose natural keys are among `keys`.
    pub async fn existing<E: Entity>(&self, keys: &[&str]) -> Result<Vec<Existing<E>>> {
        E::fetch_existing(self, keys).await
    }

    /// Inserts `inserts` and replaces the records in `updates` (by id), all in one
    /// transaction, stamping them with `import_id`.
    pub async fn write_batch<E: Entity>(
        &self,
        inserts: &[E],
        updates: &[(i64, &E)],
        import_id: Option<i64>,
    ) -> Result<BatchOutcome> {
        let sql = E::sql();
        let upd = to_json(
            &updates
                .iter()
                .map(|(id, r)| WithId {
                    id: *id,
                    record: *r,
                })
                .collect::<Vec<_>>(),
        )?;
        // PostgreSQL takes large inserts by COPY where the kind supports it (a third faster
        // than a set-based INSERT); everything else goes as one JSON array.
        let copy = match (&self.db, sql.copy_pg) {
            (crate::Db::Postgres(_), Some(stmt)) if !inserts.is_empty() => {
                let mut text = String::with_capacity(inserts.len() * 128);
                for r in inserts {
                    r.copy_line(import_id, &mut text);
                }
                Some((stmt, text))
            }
            _ => None,
        };
        let ins = if copy.is_none() {
            to_json(&inserts)?
        } else {
            String::new()
        };
        let mut out = BatchOutcome::default();
        on_pool!(self, p => {
            let (insert_sql, update_sql) = match self.db {
                crate::Db::Sqlite(_) => (sql.insert_sqlite, sql.update_sqlite),
                crate::Db::Postgres(_) => (sql.insert_pg, sql.update_pg),
            };
            let mut tx = p.begin().await?;
            if !inserts.is_empty() && copy.is_none() {
                let mut q = sqlx::query_scalar(insert_sql).bind(&ins);
                if sql.stamps_import {
                    q = q.bind(import_id);
                }
                let ids: Vec<i64> = q.fetch_all(&mut *tx).await?;
                out.inserted = ids.len() as u64;
            }
            if !updates.is_empty() {
                let mut q = sqlx::query(update_sql).bind(&upd);
                if sql.stamps_import {
                    q = q.bind(import_id);
                }
                out.updated = q.execute(&mut *tx).await?.rows_affected();
            }
            if let Some((stmt, text)) = &copy {
                out.inserted = copy_in(&mut tx, stmt, text.as_bytes()).await?;
            }
            tx.commit().await?;
        });
        Ok(out)
    }

    /// Marks records as seen by import run `import_id` without changing them, so a later
    /// duplicate in the same file is recognised. No-op for kinds without import stamps.
    pub async fn stamp<E: Entity>(&self, ids: &[i64], import_id: i64) -> Result<()> {
        let sql = E::sql();
        if !sql.stamps_import || ids.is_empty() {
            return Ok(());
        }
        let ids = to_json(&ids)?;
        match &self.db {
            crate::Db::Sqlite(p) => {
                sqlx::query(sql.stamp_sqlite)
                    .bind(&ids)
                    .bind(import_id)
                    .execute(p)
                    .await?;
            }
            crate::Db::Postgres(p) => {
                sqlx::query(sql.stamp_pg)
                    .bind(&ids)
                    .bind(import_id)
                    .execute(p)
                    .await?;
            }
        }
        Ok(())
    }

    /// Inserts records in one statement and returns their ids (in no particular order).
    pub(crate) async fn insert_batch<E: Entity>(
        &self,
        items: &[E],
        import_id: Option<i64>,
    ) -> Result<Vec<i64>> {
        let sql = E::sql();
        let ins = to_json(&items)?;
        let ids: Vec<i64> = on_pool!(self, p => {
            let insert_sql = match self.db {
                crate::Db::Sqlite(_) => sql.insert_sqlite,
                crate::Db::Postgres(_) => sql.insert_pg,
            };
            let mut q = sqlx::query_scalar(insert_sql).bind(&ins);
            if sql.stamps_import {
                q = q.bind(import_id);
            }
            q.fetch_all(p).await?
        });
        Ok(ids)
    }

    /// Replaces one record by id; [`StoreError::NotFound`] if there is none.
    pub(crate) async fn update_one<E: Entity>(&self, id: i64, item: &E) -> Result<()> {
        let out = self.write_batch::<E>(&[], &[(id, item)], None).await?;
        if out.updated == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// Records the start of an import run and returns its id.
    pub async fn start_import(&self, kind: &str, source: &str) -> Result<i64> {
        const SQL: &str =
            "INSERT INTO import_runs (kind, source, started_at) VALUES ($1, $2, $3) RETURNING id";
        Ok(
            on_pool!(self, p => sqlx::query_scalar(SQL).bind(kind).bind(source).bind(epoch_seconds()).fetch_one(p).await?),
        )
    }

    /// Records the end of an import run with its counts.
    pub async fn finish_import(
        &self,
        id: i64,
        inserted: u64,
        updated: u64,
        unchanged: u64,
        rejected: u64,
    ) -> Result<()> {
        const SQL: &str = "UPDATE import_runs SET finished_at = $2, inserted = $3, updated = $4, unchanged = $5, rejected = $6 WHERE id = $1";
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        on_pool!(self, p => { sqlx::query(SQL).bind(id).bind(epoch_seconds()).bind(n(inserted)).bind(n(updated)).bind(n(unchanged)).bind(n(rejected)).execute(p).await?; });
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// The statements. `$1` is the JSON array; `$2` the import run id. Inserts return the new ids.

static RESIDENT_SQL: Sql = Sql {
    stamps_import: true,
    select_sqlite: "SELECT id, id_type, id_number, name, sex, birth_date, phone, community_code, residence, import_id \
        FROM residents WHERE id_number IN (SELECT value FROM jsonb_each($1))",
    select_pg: "SELECT id, id_type, id_number, name, sex, birth_date, phone, community_code, residence, import_id \
        FROM residents WHERE id_number = ANY($1)",
    insert_sqlite: "INSERT INTO residents (id_type, id_number, name, sex, birth_date, phone, community_code, residence, import_id) \
        SELECT value->>'id_type', value->>'id_number', value->>'name', value->>'sex', value->>'birth_date', \
        value->>'phone', value->>'community_code', value->>'residence', $2 FROM jsonb_each($1) RETURNING id",
    insert_pg: "INSERT INTO residents (id_type, id_number, name, sex, birth_date, phone, community_code, residence, import_id) \
        SELECT x.id_type, x.id_number, x.name, x.sex, x.birth_date, x.phone, x.community_code, x.residence, $2 \
        FROM jsonb_to_recordset($1::jsonb) AS x(id_type text, id_number text, name text, sex text, birth_date date, \
        phone text, community_code text, residence text) RETURNING id",
    update_sqlite: "UPDATE residents SET id_type = u.id_type, id_number = u.id_number, name = u.name, sex = u.sex, \
        birth_date = u.birth_date, phone = u.phone, community_code = u.community_code, residence = u.residence, \
        import_id = COALESCE($2, import_id) \
        FROM (SELECT value->>'id' AS id, value->>'id_type' AS id_type, value->>'id_number' AS id_number, \
        value->>'name' AS name, value->>'sex' AS sex, value->>'birth_date' AS birth_date, value->>'phone' AS phone, \
        value->>'community_code' AS community_code, value->>'residence' AS residence FROM jsonb_each($1)) AS u \
        WHERE residents.id = u.id",
    update_pg: "UPDATE residents AS r SET id_type = u.id_type, id_number = u.id_number, name = u.name, sex = u.sex, \
        birth_date = u.birth_date, phone = u.phone, community_code = u.community_code, residence = u.residence, \
        import_id = COALESCE($2, r.import_id) \
        FROM jsonb_to_recordset($1::jsonb) AS u(id bigint, id_type text, id_number text, name text, sex text, \
        birth_date date, phone text, community_code text, residence text) WHERE r.id = u.id",
    stamp_sqlite: "UPDATE residents SET import_id = $2 WHERE id IN (SELECT value FROM jsonb_each($1))",
    stamp_pg: "UPDATE residents SET import_id = $2 WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)::bigint)",
    copy_pg: Some(
        "COPY residents (id_type, id_number, name, sex, birth_date, phone, community_code, residence, import_id) FROM STDIN",
    ),
};

static PRACTITIONER_SQL: Sql = Sql {
    stamps_import: true,
    select_sqlite: "SELECT id, id_type, id_number, name, kind, institution_code, licence_no, import_id \
        FROM practitioners WHERE id_number IN (SELECT value FROM jsonb_each($1))",
    select_pg: "SELECT id, id_type, id_number, name, kind, institution_code, licence_no, import_id \
        FROM practitioners WHERE id_number = ANY($1)",
    insert_sqlite: "INSERT INTO practitioners (id_type, id_number, name, kind, institution_code, licence_no, import_id) \
        SELECT value->>'id_type', value->>'id_number', value->>'name', value->>'kind', value->>'institution_code', \
        value->>'licence_no', $2 FROM jsonb_each($1) RETURNING id",
    insert_pg: "INSERT INTO practitioners (id_type, id_number, name, kind, institution_code, licence_no, import_id) \
        SELECT x.id_type, x.id_number, x.name, x.kind, x.institution_code, x.licence_no, $2 \
        FROM jsonb_to_recordset($1::jsonb) AS x(id_type text, id_number text, name text, kind text, \
        institution_code text, licence_no text) RETURNING id",
    update_sqlite: "UPDATE practitioners SET id_type = u.id_type, id_number = u.id_number, name = u.name, kind = u.kind, \
        institution_code = u.institution_code, licence_no = u.licence_no, import_id = COALESCE($2, import_id) \
        FROM (SELECT value->>'id' AS id, value->>'id_type' AS id_type, value->>'id_number' AS id_number, \
        value->>'name' AS name, value->>'kind' AS kind, value->>'institution_code' AS institution_code, \
        value->>'licence_no' AS licence_no FROM jsonb_each($1)) AS u WHERE practitioners.id = u.id",
    update_pg: "UPDATE practitioners AS r SET id_type = u.id_type, id_number = u.id_number, name = u.name, kind = u.kind, \
        institution_code = u.institution_code, licence_no = u.licence_no, import_id = COALESCE($2, r.import_id) \
        FROM jsonb_to_recordset($1::jsonb) AS u(id bigint, id_type text, id_number text, name text, kind text, \
        institution_code text, licence_no text) WHERE r.id = u.id",
    stamp_sqlite: "UPDATE practitioners SET import_id = $2 WHERE id IN (SELECT value FROM jsonb_each($1))",
    stamp_pg: "UPDATE practitioners SET import_id = $2 WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)::bigint)",
    copy_pg: None,
};

static INSTITUTION_SQL: Sql = Sql {
    stamps_import: false,
    select_sqlite: "SELECT id, code, name, kind, grade, community_code, group_code, licence_no, licence_status, beds, \
        negative_pressure_rooms, fever_clinic, CAST(NULL AS INTEGER) AS import_id FROM institutions WHERE code IN (SELECT value FROM jsonb_each($1))",
    select_pg: "SELECT id, code, name, kind, grade, community_code, group_code, licence_no, licence_status, beds, \
        negative_pressure_rooms, fever_clinic, NULL::bigint AS import_id FROM institutions \
        WHERE code = ANY($1)",
    insert_sqlite: "INSERT INTO institutions (code, name, kind, grade, community_code, group_code, licence_no, \
        licence_status, beds, negative_pressure_rooms, fever_clinic) \
        SELECT value->>'code', value->>'name', value->>'kind', value->>'grade', value->>'community_code', \
        value->>'group_code', value->>'licence_no', value->>'licence_status', value->>'beds', \
        value->>'negative_pressure_rooms', value->>'fever_clinic' FROM jsonb_each($1) RETURNING id",
    insert_pg: "INSERT INTO institutions (code, name, kind, grade, community_code, group_code, licence_no, \
        licence_status, beds, negative_pressure_rooms, fever_clinic) \
        SELECT x.code, x.name, x.kind, x.grade, x.community_code, x.group_code, x.licence_no, x.licence_status, \
        x.beds, x.negative_pressure_rooms, x.fever_clinic \
        FROM jsonb_to_recordset($1::jsonb) AS x(code text, name text, kind text, grade text, community_code text, \
        group_code text, licence_no text, licence_status text, beds bigint, negative_pressure_rooms bigint, \
        fever_clinic boolean) RETURNING id",
    update_sqlite: "UPDATE institutions SET code = u.code, name = u.name, kind = u.kind, grade = u.grade, \
        community_code = u.community_code, group_code = u.group_code, licence_no = u.licence_no, \
        licence_status = u.licence_status, beds = u.beds, negative_pressure_rooms = u.negative_pressure_rooms, \
        fever_clinic = u.fever_clinic \
        FROM (SELECT value->>'id' AS id, value->>'code' AS code, value->>'name' AS name, value->>'kind' AS kind, \
        value->>'grade' AS grade, value->>'community_code' AS community_code, value->>'group_code' AS group_code, \
        value->>'licence_no' AS licence_no, value->>'licence_status' AS licence_status, value->>'beds' AS beds, \
        value->>'negative_pressure_rooms' AS negative_pressure_rooms, value->>'fever_clinic' AS fever_clinic \
        FROM jsonb_each($1)) AS u WHERE institutions.id = u.id",
    update_pg: "UPDATE institutions AS r SET code = u.code, name = u.name, kind = u.kind, grade = u.grade, \
        community_code = u.community_code, group_code = u.group_code, licence_no = u.licence_no, \
        licence_status = u.licence_status, beds = u.beds, negative_pressure_rooms = u.negative_pressure_rooms, \
        fever_clinic = u.fever_clinic \
        FROM jsonb_to_recordset($1::jsonb) AS u(id bigint, code text, name text, kind text, grade text, \
        community_code text, group_code text, licence_no text, licence_status text, beds bigint, \
        negative_pressure_rooms bigint, fever_clinic boolean) WHERE r.id = u.id",
    stamp_sqlite: "",
    stamp_pg: "",
    copy_pg: None,
};

static ORGUNIT_SQL: Sql = Sql {
    stamps_import: false,
    select_sqlite: "SELECT id, code, name, parent_code, level, valid_from, valid_to, CAST(NULL AS INTEGER) AS import_id \
        FROM orgunits WHERE code IN (SELECT value FROM jsonb_each($1))",
    select_pg: "SELECT id, code, name, parent_code, level, valid_from, valid_to, NULL::bigint AS import_id \
        FROM orgunits WHERE code = ANY($1)",
    insert_sqlite: "INSERT INTO orgunits (code, name, parent_code, level, valid_from, valid_to) \
        SELECT value->>'code', value->>'name', value->>'parent_code', value->>'level', value->>'valid_from', \
        value->>'valid_to' FROM jsonb_each($1) RETURNING id",
    insert_pg: "INSERT INTO orgunits (code, name, parent_code, level, valid_from, valid_to) \
        SELECT x.code, x.name, x.parent_code, x.level, x.valid_from, x.valid_to \
        FROM jsonb_to_recordset($1::jsonb) AS x(code text, name text, parent_code text, level text, valid_from date, \
        valid_to date) RETURNING id",
    update_sqlite: "UPDATE orgunits SET code = u.code, name = u.name, parent_code = u.parent_code, level = u.level, \
        valid_from = u.valid_from, valid_to = u.valid_to \
        FROM (SELECT value->>'id' AS id, value->>'code' AS code, value->>'name' AS name, \
        value->>'parent_code' AS parent_code, value->>'level' AS level, value->>'valid_from' AS valid_from, \
        value->>'valid_to' AS valid_to FROM jsonb_each($1)) AS u WHERE orgunits.id = u.id",
    update_pg: "UPDATE orgunits AS r SET code = u.code, name = u.name, parent_code = u.parent_code, level = u.level, \
        valid_from = u.valid_from, valid_to = u.valid_to \
        FROM jsonb_to_recordset($1::jsonb) AS u(id bigint, code text, name text, parent_code text, level text, \
        valid_from date, valid_to date) WHERE r.id = u.id",
    stamp_sqlite: "",
    stamp_pg: "",
    copy_pg: None,
};
