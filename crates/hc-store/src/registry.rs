//! Reads and writes of the registry: org units, institutions, practitioners, residents.

use chrono::NaiveDate;
use hc_core::access::{Scope, Subtree};
use hc_core::model::*;
use hc_core::validate::subtree_prefix;

use crate::{Result, Store, StoreError, on_pool, prefix_upper};

/// A stored record with its surrogate id.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Stored<T> {
    /// Surrogate key, stable for the life of the record; also the pagination cursor.
    pub id: i64,
    /// The record.
    #[serde(flatten)]
    pub record: T,
}

/// A page request: records with an id greater than `after`, at most `limit` of them.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    /// Cursor: the id of the last record of the previous page.
    pub after: Option<i64>,
    /// Page size.
    pub limit: u32,
}

/// One page of records and the cursor of the next page, if there is one.
#[derive(Debug, Clone)]
pub struct Paged<T> {
    /// The records, in id order.
    pub items: Vec<Stored<T>>,
    /// Cursor to pass as `after` for the next page.
    pub next: Option<i64>,
}

impl<T> Paged<T> {
    /// No records.
    pub fn empty() -> Self {
        Paged {
            items: Vec::new(),
            next: None,
        }
    }
}

fn paged<T>(mut items: Vec<Stored<T>>, limit: u32) -> Paged<T> {
    let next = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|s| s.id)
    } else {
        None
    };
    Paged { items, next }
}

/// A `LIKE` pattern matching values that contain `text`, with wildcards in it escaped.
fn contains_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// A `LIKE` pattern matching values that start with `text`.
fn prefix_pattern(text: &str) -> String {
    let mut p = contains_pattern(text);
    p.remove(0);
    p
}

fn corrupt(field: &str, value: &str) -> StoreError {
    StoreError::Db(sqlx::Error::Decode(
        format!("stored {field} {value:?} is not a known code").into(),
    ))
}

fn code<T>(field: &str, value: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    parse(value).ok_or_else(|| corrupt(field, value))
}

// ---------------------------------------------------------------------------------------------
// Row types: what the database returns, converted into hc-core records.

#[derive(sqlx::FromRow)]
pub(crate) struct OrgUnitRaw {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub level: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
}

impl TryFrom<OrgUnitRaw> for Stored<OrgUnit> {
    type Error = StoreError;
    fn try_from(r: OrgUnitRaw) -> Result<Self> {
        Ok(Stored {
            id: r.id,
            record: OrgUnit {
                level: code("level", &r.level, OrgLevel::parse)?,
                code: r.code,
                name: r.name,
                parent_code: r.parent_code,
                valid_from: r.valid_from,
                valid_to: r.valid_to,
            },
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct InstitutionRaw {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub grade: Option<String>,
    pub community_code: String,
    pub group_code: Option<String>,
    pub licence_no: Option<String>,
    pub licence_status: String,
    pub beds: i64,
    pub negative_pressure_rooms: i64,
    pub fever_clinic: bool,
}

impl TryFrom<InstitutionRaw> for Stored<Institution> {
    type Error = StoreError;
    fn try_from(r: InstitutionRaw) -> Result<Self> {
        Ok(Stored {
            id: r.id,
            record: Institution {
                kind: code("kind", &r.kind, InstitutionKind::parse)?,
                grade: r
                    .grade
                    .as_deref()
                    .map(|g| code("grade", g, HospitalGrade::parse))
                    .transpose()?,
                licence_status: code("licence_status", &r.licence_status, LicenceStatus::parse)?,
                code: r.code,
                name: r.name,
                community_code: r.community_code,
                group_code: r.group_code,
                licence_no: r.licence_no,
                beds: u32::try_from(r.beds).unwrap_or(0),
                negative_pressure_rooms: u32::try_from(r.negative_pressure_rooms).unwrap_or(0),
                fever_clinic: r.fever_clinic,
            },
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct PractitionerRaw {
    pub id: i64,
    pub id_type: String,
    pub id_number: String,
    pub name: String,
    pub kind: String,
    pub institution_code: String,
    pub licence_no: Option<String>,
}

impl TryFrom<PractitionerRaw> for Stored<Practitioner> {
    type Error = StoreError;
    fn try_from(r: PractitionerRaw) -> Result<Self> {
        Ok(Stored {
            id: r.id,
            record: Practitioner {
                id_type: code("id_type", &r.id_type, IdType::parse)?,
                kind: code("kind", &r.kind, PractitionerKind::parse)?,
                id_number: r.id_number,
                name: r.name,
                institution_code: r.institution_code,
                licence_no: r.licence_no,
            },
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ResidentRaw {
    pub id: i64,
    pub id_type: String,
    pub id_number: String,
    pub name: String,
    pub sex: String,
    pub birth_date: NaiveDate,
    pub phone: Option<String>,
    pub community_code: String,
    pub residence: String,
}

impl TryFrom<ResidentRaw> for Stored<Resident> {
    type Error = StoreError;
    fn try_from(r: ResidentRaw) -> Result<Self> {
        Ok(Stored {
            id: r.id,
            record: Resident {
                id_type: code("id_type", &r.id_type, IdType::parse)?,
                sex: code("sex", &r.sex, Sex::parse)?,
                residence: code("residence", &r.residence, Residence::parse)?,
                id_number: r.id_number,
                name: r.name,
                birth_date: r.birth_date,
                phone: r.phone,
                community_code: r.community_code,
            },
        })
    }
}

fn convert<R, T>(rows: Vec<R>) -> Result<Vec<Stored<T>>>
where
    Stored<T>: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(Stored::try_from).collect()
}

// ---------------------------------------------------------------------------------------------
// Filters.

/// Which org units to list.
#[derive(Debug, Clone, Default)]
pub struct OrgUnitFilter {
    /// Children of this unit.
    pub parent_code: Option<String>,
    /// Units of this level.
    pub level: Option<OrgLevel>,
    /// Units in the subtree of this code (the unit itself included).
    pub under: Option<String>,
    /// Units in force on this date.
    pub as_of: Option<NaiveDate>,
    /// Units whose name contains this text.
    pub name: Option<String>,
}

/// Which institutions to list.
#[derive(Debug, Clone, Default)]
pub struct InstitutionFilter {
    /// Of this kind.
    pub kind: Option<InstitutionKind>,
    /// Of this grade.
    pub grade: Option<HospitalGrade>,
    /// Located in the subtree of this org-unit code.
    pub under: Option<String>,
    /// Members of the group led by this institution.
    pub group_code: Option<String>,
    /// With (true) or without (false) a fever clinic.
    pub fever_clinic: Option<bool>,
    /// Whose name contains this text.
    pub name: Option<String>,
}

/// Which practitioners to list.
#[derive(Debug, Clone, Default)]
pub struct PractitionerFilter {
    /// Of this kind.
    pub kind: Option<PractitionerKind>,
    /// Working at this institution.
    pub institution_code: Option<String>,
    /// With this identity number.
    pub id_number: Option<String>,
    /// Whose name starts with this text.
    pub name: Option<String>,
}

/// Which residents to list.
#[derive(Debug, Clone, Default)]
pub struct ResidentFilter {
    /// Living in the subtree of this org-unit code.
    pub under: Option<String>,
    /// With this identity number.
    pub id_number: Option<String>,
    /// Whose name starts with this text.
    pub name: Option<String>,
    /// Of this sex.
    pub sex: Option<Sex>,
    /// Born on or after.
    pub born_from: Option<NaiveDate>,
    /// Born on or before.
    pub born_to: Option<NaiveDate>,
    /// Registered or resident population.
    pub residence: Option<Residence>,
}

const ORGUNIT_COLS: &str = "id, code, name, parent_code, level, valid_from, valid_to";

impl Store {
    // -- org units ---------------------------------------------------------------------------

    /// The org unit with `code`.
    ///
    /// Visible within `scope`'s subtree and along its path up to the city (the units a
    /// district user's breadcrumbs name); any other unit is not found.
    pub async fn orgunit(&self, code: &str, scope: &Scope) -> Result<Stored<OrgUnit>> {
        const SQL: &str = "SELECT id, code, name, parent_code, level, valid_from, valid_to FROM orgunits WHERE code = $1";
        let row: OrgUnitRaw =
            on_pool!(self, p => sqlx::query_as(SQL).bind(code).fetch_one(p).await?);
        let unit: Stored<OrgUnit> = row.try_into()?;
        let visible = match scope.prefix() {
            None => true,
            Some(root) => code.starts_with(root) || root.starts_with(subtree_prefix(code)),
        };
        if visible {
            Ok(unit)
        } else {
            Err(StoreError::NotFound)
        }
    }

    /// Org units matching `filter`, in id order.
    pub async fn orgunits(
        &self,
        filter: &OrgUnitFilter,
        page: Page,
        scope: &Scope,
    ) -> Result<Paged<OrgUnit>> {
        const SQL: &str = "SELECT id, code, name, parent_code, level, valid_from, valid_to FROM orgunits \
            WHERE ($1 IS NULL OR parent_code = $1) AND ($2 IS NULL OR level = $2) \
            AND ($3 IS NULL OR (code >= $3 AND code < $4)) \
            AND ($5 IS NULL OR ((valid_from IS NULL OR valid_from <= $5) AND (valid_to IS NULL OR valid_to >= $5))) \
            AND ($6 IS NULL OR name LIKE $6 ESCAPE '\\') AND id > $7 ORDER BY id LIMIT $8";
        debug_assert!(SQL.contains(ORGUNIT_COLS));
        let Some(under) = visible_subtree(scope, filter.under.as_deref()) else {
            return Ok(Paged::empty());
        };
        let upper = under.as_deref().map(prefix_upper);
        let name = filter.name.as_deref().map(contains_pattern);
        let rows: Vec<OrgUnitRaw> = on_pool!(self, p => sqlx::query_as(SQL)
            .bind(filter.parent_code.as_deref())
            .bind(filter.level.map(OrgLevel::as_str))
            .bind(under)
            .bind(upper.as_deref())
            .bind(filter.as_of)
            .bind(name.as_deref())
            .bind(page.after.unwrap_or(0))
            .bind(i64::from(page.limit) + 1)
            .fetch_all(p).await?);
        Ok(paged(convert(rows)?, page.limit))
    }

    /// All org units of `level`, by code; for caches and the demo.
    pub async fn orgunit_codes(&self, level: OrgLevel) -> Result<Vec<String>> {
        const SQL: &str = "SELECT code FROM orgunits WHERE level = $1 ORDER BY code";
        Ok(on_pool!(self, p => sqlx::query_scalar(SQL).bind(level.as_str()).fetch_all(p).await?))
    }

    /// Code and level of every org unit; for reference checks during imports.
    pub async fn orgunit_levels(&self) -> Result<Vec<(String, OrgLevel)>> {
        const SQL: &str = "SELECT code, level FROM orgunits ORDER BY code";
        let rows: Vec<(String, String)> =
            on_pool!(self, p => sqlx::query_as(SQL).fetch_all(p).await?);
        rows.into_iter()
            .map(|(c, l)| Ok((c, code("level", &l, OrgLevel::parse)?)))
            .collect()
    }

    /// Inserts org units in one transaction and returns their ids.
    pub async fn insert_orgunits(&self, units: &[OrgUnit]) -> Result<Vec<i64>> {
        self.insert_batch(units, None).await
    }

    /// Replaces the org unit with `id`.
    pub async fn update_orgunit(&self, id: i64, unit: &OrgUnit) -> Result<()> {
        self.update_one(id, unit).await
    }

    /// Residents and institutions in each child of `parent` (or in each city, without a
    /// parent), with the child units themselves in force on `as_of`.
    pub async fn orgunit_children(
        &self,
        parent: Option<&str>,
        as_of: Option<NaiveDate>,
        scope: &Scope,
    ) -> Result<Vec<UnitCounts>> {
        const CHILDREN: &str = "SELECT id, code, name, parent_code, level, valid_from, valid_to FROM orgunits \
            WHERE (($1 IS NULL AND level = 'city') OR parent_code = $1) \
            AND ($2 IS NULL OR ((valid_from IS NULL OR valid_from <= $2) AND (valid_to IS NULL OR valid_to >= $2))) \
            ORDER BY code";
        const RESIDENTS: &str = "SELECT substr(community_code, 1, $3) AS k, COUNT(*) FROM residents \
            WHERE community_code >= $1 AND community_code < $2 GROUP BY k";
        const INSTITUTIONS: &str = "SELECT substr(community_code, 1, $3) AS k, COUNT(*), CAST(COALESCE(SUM(beds), 0) AS BIGINT) FROM institutions \
            WHERE community_code >= $1 AND community_code < $2 AND ($4 IS NULL OR code = $4) GROUP BY k";
        let rows: Vec<OrgUnitRaw> = on_pool!(self, p => sqlx::query_as(CHILDREN).bind(parent).bind(as_of).fetch_all(p).await?);
        let mut children: Vec<Stored<OrgUnit>> = convert(rows)?;
        // Only the children inside the scope, or on its path up to the city.
        if let Some(root) = scope.prefix() {
            children.retain(|c| {
                c.record.code.starts_with(root) || root.starts_with(subtree_prefix(&c.record.code))
            });
        }
        let Some(first) = children.first() else {
            return Ok(Vec::new());
        };
        let len = first.record.code.len() as i64;
        let (lo, hi) = match parent {
            // A city's code shares only its first 4 digits with its districts.
            Some(p) if first.record.level == OrgLevel::District => (
                p[..4.min(p.len())].to_owned(),
                prefix_upper(&p[..4.min(p.len())]),
            ),
            Some(p) => (p.to_owned(), prefix_upper(p)),
            None => (String::new(), "\u{7f}".to_owned()),
        };
        // Counts never include what lies outside the scope.
        let (lo, hi) = match scope.prefix() {
            Some(root) if root.starts_with(&lo) => (root.to_owned(), prefix_upper(root)),
            _ => (lo, hi),
        };
        let key_len: i32 = if first.record.level == OrgLevel::City {
            4
        } else {
            len as i32
        };
        let res: Vec<(String, i64)> = on_pool!(self, p => sqlx::query_as(RESIDENTS).bind(&lo).bind(&hi).bind(key_len).fetch_all(p).await?);
        let inst: Vec<(String, i64, i64)> = on_pool!(self, p => sqlx::query_as(INSTITUTIONS).bind(&lo).bind(&hi).bind(key_len).bind(scope.institution.as_deref()).fetch_all(p).await?);
        Ok(children
            .into_iter()
            .map(|unit| {
                let key = &unit.record.code[..(key_len as usize).min(unit.record.code.len())];
                let residents = res.iter().find(|(k, _)| k == key).map_or(0, |r| r.1);
                let (institutions, beds) = inst
                    .iter()
                    .find(|(k, ..)| k == key)
                    .map_or((0, 0), |r| (r.1, r.2));
                UnitCounts {
                    unit,
                    residents,
                    institutions,
                    beds,
                }
            })
            .collect())
    }

    // -- institutions --------------------------------------------------------------------------

    /// The institution with `code`.
    ///
    /// Outside `scope` it is not found.
    pub async fn institution(&self, code: &str, scope: &Scope) -> Result<Stored<Institution>> {
        const SQL: &str = "SELECT id, code, name, kind, grade, community_code, group_code, licence_no, licence_status, \
            beds, negative_pressure_rooms, fever_clinic FROM institutions WHERE code = $1 \
            AND ($2 IS NULL OR (community_code >= $2 AND community_code < $3)) AND ($4 IS NULL OR code = $4)";
        let root = scope.prefix();
        let upper = root.map(prefix_upper);
        let row: InstitutionRaw = on_pool!(self, p => sqlx::query_as(SQL).bind(code).bind(root).bind(upper.as_deref())
            .bind(scope.institution.as_deref()).fetch_one(p).await?);
        row.try_into()
    }

    /// Institutions matching `filter`, in id order.
    pub async fn institutions(
        &self,
        filter: &InstitutionFilter,
        page: Page,
        scope: &Scope,
    ) -> Result<Paged<Institution>> {
        const SQL: &str = "SELECT id, code, name, kind, grade, community_code, group_code, licence_no, licence_status, \
            beds, negative_pressure_rooms, fever_clinic FROM institutions \
            WHERE ($1 IS NULL OR kind = $1) AND ($2 IS NULL OR grade = $2) \
            AND ($3 IS NULL OR (community_code >= $3 AND community_code < $4)) \
            AND ($5 IS NULL OR group_code = $5) AND ($6 IS NULL OR fever_clinic = $6) \
            AND ($7 IS NULL OR name LIKE $7 ESCAPE '\\') AND ($10 IS NULL OR code = $10) AND id > $8 ORDER BY id LIMIT $9";
        let Some(under) = visible_subtree(scope, filter.under.as_deref()) else {
            return Ok(Paged::empty());
        };
        let upper = under.as_deref().map(prefix_upper);
        let name = filter.name.as_deref().map(contains_pattern);
        let rows: Vec<InstitutionRaw> = on_pool!(self, p => sqlx::query_as(SQL)
            .bind(filter.kind.map(InstitutionKind::as_str))
            .bind(filter.grade.map(HospitalGrade::as_str))
            .bind(under)
            .bind(upper.as_deref())
            .bind(filter.group_code.as_deref())
            .bind(filter.fever_clinic)
            .bind(name.as_deref())
            .bind(page.after.unwrap_or(0))
            .bind(i64::from(page.limit) + 1)
            .bind(scope.institution.as_deref())
            .fetch_all(p).await?);
        Ok(paged(convert(rows)?, page.limit))
    }

    /// All institution codes; for reference checks during imports.
    pub async fn institution_codes(&self) -> Result<Vec<String>> {
        const SQL: &str = "SELECT code FROM institutions ORDER BY code";
        Ok(on_pool!(self, p => sqlx::query_scalar(SQL).fetch_all(p).await?))
    }

    /// Inserts institutions in one transaction and returns their ids.
    pub async fn insert_institutions(&self, items: &[Institution]) -> Result<Vec<i64>> {
        self.insert_batch(items, None).await
    }

    /// Replaces the institution with `id`.
    pub async fn update_institution(&self, id: i64, item: &Institution) -> Result<()> {
        self.update_one(id, item).await
    }

    // -- practitioners -------------------------------------------------------------------------

    /// The practitioner with `id`.
    ///
    /// Outside `scope` (by the institution they work at) it is not found.
    pub async fn practitioner(&self, id: i64, scope: &Scope) -> Result<Stored<Practitioner>> {
        const SQL: &str = "SELECT p.id, p.id_type, p.id_number, p.name, p.kind, p.institution_code, p.licence_no \
            FROM practitioners p JOIN institutions i ON i.code = p.institution_code WHERE p.id = $1 \
            AND ($2 IS NULL OR (i.community_code >= $2 AND i.community_code < $3)) AND ($4 IS NULL OR i.code = $4)";
        let root = scope.prefix();
        let upper = root.map(prefix_upper);
        let row: PractitionerRaw = on_pool!(self, p => sqlx::query_as(SQL).bind(id).bind(root).bind(upper.as_deref())
            .bind(scope.institution.as_deref()).fetch_one(p).await?);
        row.try_into()
    }

    /// Practitioners matching `filter`, in id order.
    pub async fn practitioners(
        &self,
        filter: &PractitionerFilter,
        page: Page,
        scope: &Scope,
    ) -> Result<Paged<Practitioner>> {
        const SQL: &str = "SELECT p.id, p.id_type, p.id_number, p.name, p.kind, p.institution_code, p.licence_no \
            FROM practitioners p JOIN institutions i ON i.code = p.institution_code \
            WHERE ($1 IS NULL OR p.kind = $1) AND ($2 IS NULL OR p.institution_code = $2) \
            AND ($3 IS NULL OR p.id_number = $3) AND ($4 IS NULL OR p.name LIKE $4 ESCAPE '\\') \
            AND ($7 IS NULL OR (i.community_code >= $7 AND i.community_code < $8)) AND ($9 IS NULL OR i.code = $9) \
            AND p.id > $5 ORDER BY p.id LIMIT $6";
        let root = scope.prefix();
        let upper = root.map(prefix_upper);
        let name = filter.name.as_deref().map(prefix_pattern);
        let rows: Vec<PractitionerRaw> = on_pool!(self, p => sqlx::query_as(SQL)
            .bind(filter.kind.map(PractitionerKind::as_str))
            .bind(filter.institution_code.as_deref())
            .bind(filter.id_number.as_deref())
            .bind(name.as_deref())
            .bind(page.after.unwrap_or(0))
            .bind(i64::from(page.limit) + 1)
            .bind(root)
            .bind(upper.as_deref())
            .bind(scope.institution.as_deref())
            .fetch_all(p).await?);
        Ok(paged(convert(rows)?, page.limit))
    }

    /// Inserts practitioners in one transaction and returns their ids.
    pub async fn insert_practitioners(&self, items: &[Practitioner]) -> Result<Vec<i64>> {
        self.insert_batch(items, None).await
    }

    /// Replaces the practitioner with `id`.
    pub async fn update_practitioner(&self, id: i64, item: &Practitioner) -> Result<()> {
        self.update_one(id, item).await
    }

    // -- residents -----------------------------------------------------------------------------

    /// The resident with `id`.
    ///
    /// Outside `scope` it is not found, unless account `grantee` holds a live break-the-glass
    /// grant to it.
    pub async fn resident(
        &self,
        id: i64,
        scope: &Scope,
        grantee: Option<i64>,
    ) -> Result<Stored<Resident>> {
        const SQL: &str = "SELECT id, id_type, id_number, name, sex, birth_date, phone, community_code, residence \
            FROM residents r WHERE id = $1 AND ((($2 IS NULL OR (community_code >= $2 AND community_code < $3)) \
            AND ($4 IS NULL OR id = $4)) \
            OR EXISTS (SELECT 1 FROM access_grants g WHERE g.user_id = $5 AND g.resident_id = r.id AND g.expires_at > $6))";
        let root = scope.prefix();
        let upper = root.map(prefix_upper);
        let row: ResidentRaw = on_pool!(self, p => sqlx::query_as(SQL).bind(id).bind(root).bind(upper.as_deref())
            .bind(scope.resident).bind(grantee).bind(crate::epoch_seconds()).fetch_one(p).await?);
        row.try_into()
    }

    /// The resident with `id` wherever they live: only for granting break-the-glass access,
    /// whose caller records the reason before anything is shown.
    pub async fn resident_unscoped(&self, id: i64) -> Result<Stored<Resident>> {
        const SQL: &str = "SELECT id, id_type, id_number, name, sex, birth_date, phone, community_code, residence \
            FROM residents WHERE id = $1";
        let row: ResidentRaw =
            on_pool!(self, p => sqlx::query_as(SQL).bind(id).fetch_one(p).await?);
        row.try_into()
    }

    /// The residents holding identity number `number` (one per identity type at most).
    ///
    /// Concurrent calls are coalesced into one indexed query (see `lookup.rs`).
    pub async fn residents_by_identity(&self, number: &str) -> Result<Vec<Stored<Resident>>> {
        crate::lookup::residents_by_identity(self, number).await
    }

    /// Residents matching `filter`, in id order.
    pub async fn residents(
        &self,
        filter: &ResidentFilter,
        page: Page,
        scope: &Scope,
    ) -> Result<Paged<Resident>> {
        let Some(under) = visible_subtree(scope, filter.under.as_deref()) else {
            return Ok(Paged::empty());
        };
        if let Some(number) = &filter.id_number {
            // The hot path: an exact identity lookup served by the unique index alone.
            let items = self.residents_by_identity(number).await?;
            // Every other filter and the scope still apply, in memory: at most one row per
            // identity type.
            let items = items
                .into_iter()
                .filter(|r| {
                    let x = &r.record;
                    page.after.is_none_or(|a| r.id > a)
                        && scope.resident.is_none_or(|id| r.id == id)
                        && filter.sex.is_none_or(|s| x.sex == s)
                        && under
                            .as_deref()
                            .is_none_or(|u| x.community_code.starts_with(u))
                        && filter.name.as_deref().is_none_or(|n| x.name.starts_with(n))
                        && filter.born_from.is_none_or(|d| x.birth_date >= d)
                        && filter.born_to.is_none_or(|d| x.birth_date <= d)
                        && filter.residence.is_none_or(|v| x.residence == v)
                })
                .collect();
            return Ok(paged(items, page.limit));
        }
        const SQL: &str = "SELECT id, id_type, id_number, name, sex, birth_date, phone, community_code, residence \
            FROM residents \
            WHERE ($1 IS NULL OR (community_code >= $1 AND community_code < $2)) \
            AND ($3 IS NULL OR name LIKE $3 ESCAPE '\\') AND ($4 IS NULL OR sex = $4) \
            AND ($5 IS NULL OR birth_date >= $5) AND ($6 IS NULL OR birth_date <= $6) \
            AND ($7 IS NULL OR residence = $7) AND ($10 IS NULL OR id = $10) AND id > $8 ORDER BY id LIMIT $9";
        let upper = under.as_deref().map(prefix_upper);
        let name = filter.name.as_deref().map(prefix_pattern);
        let rows: Vec<ResidentRaw> = on_pool!(self, p => sqlx::query_as(SQL)
            .bind(under)
            .bind(upper.as_deref())
            .bind(name.as_deref())
            .bind(filter.sex.map(Sex::as_str))
            .bind(filter.born_from)
            .bind(filter.born_to)
            .bind(filter.residence.map(Residence::as_str))
            .bind(page.after.unwrap_or(0))
            .bind(i64::from(page.limit) + 1)
            .bind(scope.resident)
            .fetch_all(p).await?);
        Ok(paged(convert(rows)?, page.limit))
    }

    /// Inserts residents in one transaction and returns their ids.
    pub async fn insert_residents(&self, items: &[Resident]) -> Result<Vec<i64>> {
        self.insert_batch(items, None).await
    }

    /// Replaces the resident with `id`.
    pub async fn update_resident(&self, id: i64, item: &Resident) -> Result<()> {
        self.update_one(id, item).await
    }

    /// Residents by sex and 5-year age band (as of `as_of`) in the subtree of `under`.
    pub async fn resident_pyramid(
        &self,
        under: Option<&str>,
        as_of: NaiveDate,
        scope: &Scope,
    ) -> Result<Vec<PyramidBar>> {
        const SQL: &str = "SELECT sex, birth_date, COUNT(*) FROM residents \
            WHERE ($1 IS NULL OR (community_code >= $1 AND community_code < $2)) AND ($3 IS NULL OR id = $3) \
            GROUP BY sex, birth_date";
        let rows: Vec<(String, NaiveDate, i64)> = match visible_subtree(scope, under) {
            None => Vec::new(),
            Some(under) => {
                let upper = under.as_deref().map(prefix_upper);
                on_pool!(self, p => sqlx::query_as(SQL).bind(under.as_deref()).bind(upper.as_deref()).bind(scope.resident).fetch_all(p).await?)
            }
        };
        let mut bars: Vec<PyramidBar> = (0..18)
            .map(|band| PyramidBar {
                band_start: band * 5,
                male: 0,
                female: 0,
            })
            .collect();
        for (sex, birth, n) in rows {
            let age = as_of.years_since(birth).unwrap_or(0);
            let band = (age / 5).min(17) as usize;
            if sex == "M" {
                bars[band].male += n;
            } else {
                bars[band].female += n;
            }
        }
        Ok(bars)
    }

    /// Institutions by kind, with beds, negative-pressure rooms and fever clinics, in the subtree of `under`.
    pub async fn institution_summary(
        &self,
        under: Option<&str>,
        scope: &Scope,
    ) -> Result<Vec<KindSummary>> {
        const SQL: &str = "SELECT kind, COUNT(*), CAST(COALESCE(SUM(beds), 0) AS BIGINT), CAST(COALESCE(SUM(negative_pressure_rooms), 0) AS BIGINT), \
            CAST(COALESCE(SUM(CASE WHEN fever_clinic THEN 1 ELSE 0 END), 0) AS BIGINT) FROM institutions \
            WHERE ($1 IS NULL OR (community_code >= $1 AND community_code < $2)) AND ($3 IS NULL OR code = $3) \
            GROUP BY kind ORDER BY kind";
        let Some(under) = visible_subtree(scope, under) else {
            return Ok(Vec::new());
        };
        let upper = under.as_deref().map(prefix_upper);
        let rows: Vec<(String, i64, i64, i64, i64)> = on_pool!(self, p => sqlx::query_as(SQL).bind(under.as_deref())
            .bind(upper.as_deref()).bind(scope.institution.as_deref()).fetch_all(p).await?);
        rows.into_iter()
            .map(|(kind, count, beds, npr, fever)| {
                Ok(KindSummary {
                    kind: code("kind", &kind, InstitutionKind::parse)?,
                    count,
                    beds,
                    negative_pressure_rooms: npr,
                    fever_clinics: fever,
                })
            })
            .collect()
    }

    /// Practitioners by kind working at institutions in the subtree of `under`.
    pub async fn practitioner_summary(
        &self,
        under: Option<&str>,
        scope: &Scope,
    ) -> Result<Vec<(PractitionerKind, i64)>> {
        const SQL: &str = "SELECT p.kind, COUNT(*) FROM practitioners p JOIN institutions i ON i.code = p.institution_code \
            WHERE ($1 IS NULL OR (i.community_code >= $1 AND i.community_code < $2)) AND ($3 IS NULL OR i.code = $3) \
            GROUP BY p.kind ORDER BY p.kind";
        let Some(under) = visible_subtree(scope, under) else {
            return Ok(Vec::new());
        };
        let upper = under.as_deref().map(prefix_upper);
        let rows: Vec<(String, i64)> = on_pool!(self, p => sqlx::query_as(SQL).bind(under.as_deref())
            .bind(upper.as_deref()).bind(scope.institution.as_deref()).fetch_all(p).await?);
        rows.into_iter()
            .map(|(k, n)| Ok((code("kind", &k, PractitionerKind::parse)?, n)))
            .collect()
    }
}

/// An org unit with what lies under it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UnitCounts {
    /// The unit.
    pub unit: Stored<OrgUnit>,
    /// Residents living in its subtree.
    pub residents: i64,
    /// Institutions located in its subtree.
    pub institutions: i64,
    /// Beds of those institutions.
    pub beds: i64,
}

/// One age band of a population pyramid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PyramidBar {
    /// First age of the band (0, 5, …, 85 = 85 and over).
    pub band_start: u32,
    /// Males.
    pub male: i64,
    /// Females.
    pub female: i64,
}

/// Institutions of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct KindSummary {
    /// Kind.
    pub kind: InstitutionKind,
    /// Number of institutions.
    pub count: i64,
    /// Their beds.
    pub beds: i64,
    /// Their negative-pressure rooms.
    pub negative_pressure_rooms: i64,
    /// How many run a fever clinic.
    pub fever_clinics: i64,
}

/// The subtree prefix a query may cover: `Some(None)` for the whole city, `Some(Some(p))` for
/// codes starting with `p`, `None` when the filter lies outside the scope (nothing visible).
fn visible_subtree(scope: &Scope, under: Option<&str>) -> Option<Option<String>> {
    match scope.narrow(under) {
        Subtree::All => Some(None),
        Subtree::Prefix(p) => Some(Some(p)),
        Subtree::Empty => None,
    }
}
