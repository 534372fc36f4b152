//! Primary care: family-doctor teams, contracts and their services, the facts key populations
//! come from, program enrolments, follow-ups with the rules' verdicts, and health checks.
//!
//! Writes that must see the current state before changing it (a contract that may overlap
//! another, a follow-up that re-judges the patient's later visits) run in a write transaction
//! that locks first: `BEGIN IMMEDIATE` on SQLite, `SELECT … FOR UPDATE` of the resident or
//! enrolment on PostgreSQL. Bulk writes (the demo city) take JSON arrays, like `batch.rs`.

use chrono::NaiveDate;
use serde::Serialize;

use crate::care_indicators::{
    DELETE_PROGRAM_YEARS_PG, DELETE_PROGRAM_YEARS_SQLITE, REFRESH_PROGRAM_YEARS_PG,
    REFRESH_PROGRAM_YEARS_SQLITE,
};
use crate::{Result, Store, StoreError, epoch_seconds, on_pool};

/// Runs `$body` in a write transaction bound to `$tx`, with `$pg` telling the dialect; commits
/// when the body finishes (an early `?` rolls back).
macro_rules! write_tx {
    ($store:expr, $tx:ident, $pg:ident => $body:expr) => {
        match &$store.db {
            $crate::Db::Sqlite(p) => {
                let mut $tx = p.begin_with("BEGIN IMMEDIATE").await?;
                let $pg = false;
                let out = $body;
                $tx.commit().await?;
                out
            }
            $crate::Db::Postgres(p) => {
                let mut $tx = p.begin().await?;
                let $pg = true;
                let out = $body;
                $tx.commit().await?;
                out
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Rows.

/// A family-doctor team.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct TeamRow {
    /// Id.
    pub id: i64,
    /// Code, unique in the city.
    pub code: String,
    /// Name, e.g. `莲花社康 张医生团队`.
    pub name: String,
    /// The 社康 it works at.
    pub institution_code: String,
    /// That institution's community.
    pub community_code: String,
}

/// A member of a team.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct TeamMemberRow {
    /// The team.
    pub team_id: i64,
    /// The practitioner.
    pub practitioner_id: i64,
    /// Their name.
    pub name: String,
    /// Their kind (`gp`, `nurse`, …).
    pub kind: String,
    /// Their role in the team (`gp_lead`, `nurse`, `public_health`, `other`).
    pub role: String,
}

/// A new team and its members (practitioner id, role code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTeam {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// The 社康.
    pub institution_code: String,
    /// Members.
    pub members: Vec<(i64, String)>,
}

/// A contract, with its team's name.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct ContractRow {
    /// Id.
    pub id: i64,
    /// The resident.
    pub resident_id: i64,
    /// The team.
    pub team_id: i64,
    /// The team's name.
    pub team_name: String,
    /// `basic` or `personalised`.
    pub package: String,
    /// `new`, `renewal` or `change`.
    pub kind: String,
    /// The contract this one continues or replaces.
    pub previous_id: Option<i64>,
    /// First day.
    pub start_date: NaiveDate,
    /// Agreed end (exclusive).
    pub end_date: NaiveDate,
    /// Ended early on this day.
    pub ended_on: Option<NaiveDate>,
    /// Why it ended early.
    pub end_reason: Option<String>,
    /// When it was recorded (epoch seconds).
    pub created_at: i64,
    /// Who recorded it.
    pub created_by: String,
}

impl ContractRow {
    /// Whether the contract is in force on `day`.
    pub fn in_force(&self, day: NaiveDate) -> bool {
        self.start_date <= day && day < self.end_date && self.ended_on.is_none_or(|e| day < e)
    }

    /// The day it stops being in force.
    pub fn effective_end(&self) -> NaiveDate {
        self.ended_on
            .map_or(self.end_date, |e| e.min(self.end_date))
    }
}

/// A contract to write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewContract {
    /// The resident.
    pub resident_id: i64,
    /// The team.
    pub team_id: i64,
    /// `basic` or `personalised`.
    pub package: String,
    /// `new`, `renewal` or `change`.
    pub kind: String,
    /// The contract it continues or replaces.
    pub previous_id: Option<i64>,
    /// First day.
    pub start_date: NaiveDate,
    /// Agreed end (exclusive).
    pub end_date: NaiveDate,
    /// Ended early on (bulk loads of history only).
    pub ended_on: Option<NaiveDate>,
    /// Why (bulk loads of history only).
    pub end_reason: Option<String>,
    /// Who records it.
    pub created_by: String,
}

/// A service delivered under a contract (履约).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, serde::Deserialize)]
pub struct ContractServiceRow {
    /// Id (ignored on write).
    #[serde(default)]
    pub id: i64,
    /// The contract.
    pub contract_id: i64,
    /// What was delivered (`health_assessment`, `followup`, `home_visit`, …).
    pub service: String,
    /// When.
    pub delivered_on: NaiveDate,
    /// By whom.
    pub practitioner_id: Option<i64>,
    /// Note.
    pub note: Option<String>,
}

/// A diagnosis on a resident's record.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, serde::Deserialize)]
pub struct DiagnosisRow {
    /// Id (ignored on write).
    #[serde(default)]
    pub id: i64,
    /// The resident.
    pub resident_id: i64,
    /// ICD-10 code.
    pub code: String,
    /// The key population it makes the resident part of.
    pub population: Option<String>,
    /// When diagnosed.
    pub diagnosed_on: NaiveDate,
    /// When resolved, if it was.
    pub resolved_on: Option<NaiveDate>,
}

/// A registered pregnancy.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, serde::Deserialize)]
pub struct PregnancyRow {
    /// Id (ignored on write).
    #[serde(default)]
    pub id: i64,
    /// The resident.
    pub resident_id: i64,
    /// When registered (建册).
    pub registered_on: NaiveDate,
    /// When it ended (delivery or otherwise).
    pub ended_on: Option<NaiveDate>,
}

/// A disability certificate.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, serde::Deserialize)]
pub struct DisabilityRow {
    /// The resident.
    pub resident_id: i64,
    /// Certificate number.
    pub certificate_no: Option<String>,
    /// Since when.
    pub registered_on: NaiveDate,
}

/// An enrolment in a program, with what the rules need of the resident.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct EnrolmentRow {
    /// Id.
    pub id: i64,
    /// The resident.
    pub resident_id: i64,
    /// `hypertension` or `diabetes`.
    pub program: String,
    /// Enrolled on.
    pub enrolled_on: NaiveDate,
    /// Left the program on.
    pub ended_on: Option<NaiveDate>,
    /// Why.
    pub end_reason: Option<String>,
    /// The resident's date of birth.
    pub birth_date: NaiveDate,
    /// The resident's community.
    pub community_code: String,
}

/// An enrolment to write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewEnrolment {
    /// The resident.
    pub resident_id: i64,
    /// `hypertension` or `diabetes`.
    pub program: String,
    /// Enrolled on.
    pub enrolled_on: NaiveDate,
    /// The diagnosis it comes from.
    pub diagnosis_id: Option<i64>,
}

/// The rules' verdict on a follow-up, stored with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Verdict {
    /// Classification code.
    pub classification: String,
    /// Action code.
    pub action: String,
    /// Next due date.
    pub next_due: NaiveDate,
    /// Version of the rules.
    pub rules_version: String,
}

/// A follow-up as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct FollowupRow {
    /// Id.
    pub id: i64,
    /// The enrolment.
    pub enrolment_id: i64,
    /// Day of the visit.
    pub visit_date: NaiveDate,
    /// Seen in person.
    pub face_to_face: bool,
    /// mmHg.
    pub sbp: Option<i32>,
    /// mmHg.
    pub dbp: Option<i32>,
    /// mmol/L.
    pub fpg: Option<f64>,
    /// Beats per minute.
    pub heart_rate: Option<i32>,
    /// kg.
    pub weight_kg: Option<f64>,
    /// cm.
    pub height_cm: Option<f64>,
    /// Symptoms.
    pub symptoms: String,
    /// Another danger sign.
    pub danger_sign: bool,
    /// Cigarettes a day.
    pub smoking_per_day: Option<i32>,
    /// 两 a day.
    pub drinking_per_day: Option<i32>,
    /// Sessions a week.
    pub exercise_per_week: Option<i32>,
    /// Salt code.
    pub salt: Option<String>,
    /// Adherence code.
    pub adherence: Option<String>,
    /// Adverse reaction code.
    pub adverse_reaction: String,
    /// Complication code.
    pub complication: String,
    /// Medication.
    pub medication: String,
    /// Who saw the patient.
    pub practitioner_id: Option<i64>,
    /// Classification code (the rules').
    pub classification: String,
    /// Action code (the rules').
    pub action: String,
    /// Next due (the rules').
    pub next_due: NaiveDate,
    /// Rules version.
    pub rules_version: String,
    /// Recorded at (epoch seconds).
    pub recorded_at: i64,
    /// Recorded by.
    pub recorded_by: String,
}

/// A follow-up to write: the form as recorded and the verdict on it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewFollowup {
    /// The enrolment.
    pub enrolment_id: i64,
    /// The form, with codes as hc-care serialises them.
    #[serde(flatten)]
    pub form: hc_care::FollowUp,
    /// The verdict.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Who records it.
    pub recorded_by: String,
}

/// A health check: the annual check of a program patient or the elderly health management.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, serde::Deserialize)]
pub struct CheckRow {
    /// Id (ignored on write).
    #[serde(default)]
    pub id: i64,
    /// The resident.
    pub resident_id: i64,
    /// `annual` or `elderly`.
    pub kind: String,
    /// Day of the check.
    pub check_date: NaiveDate,
    /// Elderly self-care score.
    pub self_care_score: Option<i32>,
    /// Findings.
    pub findings: String,
    /// By whom.
    pub practitioner_id: Option<i64>,
}

/// One row of a team's worklist: a contracted resident and, when enrolled, one program's
/// standing.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct WorklistRow {
    /// The resident.
    pub resident_id: i64,
    /// Their name (the caller masks it).
    pub name: String,
    /// `M` or `F`.
    pub sex: String,
    /// Date of birth.
    pub birth_date: NaiveDate,
    /// Community.
    pub community_code: String,
    /// The team of the contract.
    pub team_id: i64,
    /// Program, if enrolled in one.
    pub program: Option<String>,
    /// Enrolled on.
    pub enrolled_on: Option<NaiveDate>,
    /// Last follow-up's date.
    pub last_visit: Option<NaiveDate>,
    /// Its action code.
    pub last_action: Option<String>,
    /// Its next due date.
    pub next_due: Option<NaiveDate>,
    /// Last annual check.
    pub last_check: Option<NaiveDate>,
    /// Last elderly health management.
    pub last_elderly: Option<NaiveDate>,
}

// ---------------------------------------------------------------------------------------------
// SQL.

macro_rules! contract_select {
    () => {
        "SELECT c.id, c.resident_id, c.team_id, t.name AS team_name, c.package, c.kind, \
    c.previous_id, c.start_date, c.end_date, c.ended_on, c.end_reason, c.created_at, c.created_by \
    FROM contracts c JOIN care_teams t ON t.id = c.team_id"
    };
}

macro_rules! followup_cols {
    () => {
        "SELECT id, enrolment_id, visit_date, face_to_face, sbp, dbp, fpg, heart_rate, weight_kg, \
    height_cm, symptoms, danger_sign, smoking_per_day, drinking_per_day, exercise_per_week, salt, adherence, \
    adverse_reaction, complication, medication, practitioner_id, classification, action, next_due, rules_version, \
    recorded_at, recorded_by FROM followups"
    };
}

macro_rules! enrolment_select {
    () => {
        "SELECT e.id, e.resident_id, e.program, e.enrolled_on, e.ended_on, e.end_reason, \
    r.birth_date, r.community_code FROM enrolments e JOIN residents r ON r.id = e.resident_id"
    };
}

// The SQLite bulk inserts turn each JSON row into JSONB once (a materialised CTE): reading
// 20-odd fields from `json_each`'s `value` re-renders the row as text for every field.
const INSERT_CONTRACTS_SQLITE: &str = "WITH r(v) AS MATERIALIZED (SELECT jsonb(value) FROM json_each($1)) INSERT INTO contracts (resident_id, team_id, package, kind, previous_id, \
    start_date, end_date, ended_on, end_reason, created_at, created_by) \
    SELECT v->>'resident_id', v->>'team_id', v->>'package', v->>'kind', v->>'previous_id', \
    v->>'start_date', v->>'end_date', v->>'ended_on', v->>'end_reason', $2, v->>'created_by' \
    FROM r RETURNING id";
const INSERT_CONTRACTS_PG: &str = "INSERT INTO contracts (resident_id, team_id, package, kind, previous_id, \
    start_date, end_date, ended_on, end_reason, created_at, created_by) \
    SELECT x.resident_id, x.team_id, x.package, x.kind, x.previous_id, x.start_date, x.end_date, x.ended_on, \
    x.end_reason, $2, x.created_by FROM jsonb_to_recordset($1::jsonb) AS x(resident_id bigint, team_id bigint, \
    package text, kind text, previous_id bigint, start_date date, end_date date, ended_on date, end_reason text, \
    created_by text) RETURNING id";

const INSERT_SERVICES_SQLITE: &str = "WITH r(v) AS MATERIALIZED (SELECT jsonb(value) FROM json_each($1)) INSERT INTO contract_services (contract_id, service, delivered_on, practitioner_id, note) \
    SELECT v->>'contract_id', v->>'service', v->>'delivered_on', v->>'practitioner_id', v->>'note' \
    FROM r RETURNING id";
const INSERT_SERVICES_PG: &str = "INSERT INTO contract_services (contract_id, service, delivered_on, practitioner_id, note) \
    SELECT x.contract_id, x.service, x.delivered_on, x.practitioner_id, x.note FROM jsonb_to_recordset($1::jsonb) \
    AS x(contract_id bigint, service text, delivered_on date, practitioner_id bigint, note text) RETURNING id";

const INSERT_DIAGNOSES_SQLITE: &str = "WITH r(v) AS MATERIALIZED (SELECT jsonb(value) FROM json_each($1)) INSERT INTO diagnoses (resident_id, code, population, diagnosed_on, resolved_on, created_at) \
    SELECT v->>'resident_id', v->>'code', v->>'population', v->>'diagnosed_on', v->>'resolved_on', $2 \
    FROM r RETURNING id";
const INSERT_DIAGNOSES_PG: &str = "INSERT INTO diagnoses (resident_id, code, population, diagnosed_on, resolved_on, created_at) \
    SELECT x.resident_id, x.code, x.population, x.diagnosed_on, x.resolved_on, $2 FROM jsonb_to_recordset($1::jsonb) \
    AS x(resident_id bigint, code text, population text, diagnosed_on date, resolved_on date) RETURNING id";

const INSERT_PREGNANCIES_SQLITE: &str = "WITH r(v) AS MATERIALIZED (SELECT jsonb(value) FROM json_each($1)) INSERT INTO pregnancies (resident_id, registered_on, ended_on) \
    SELECT v->>'resident_id', v->>'registered_on', v->>'ended_on' FROM r RETURNING id";
const INSERT_PREGNANCIES_PG: &str = "INSERT INTO pregnancies (resident_id, registered_on, ended_on) \
    SELECT x.resident_id, x.registered_on, x.ended_on FROM jsonb_to_recordset($1::jsonb) \
    AS x(resident_id bigint, registered_on date, ended_on date) RETURNING id";

const INSERT_DISABILITIES_SQLITE: &str = "WITH r(v) AS MATERIALIZED (SELECT jsonb(value) FROM json_each($1)) INSERT INTO disabilities (resident_id, certificate_no, registered_on) \
    SELECT v->>'resident_id', v->>'certificate_no', v->>'registered_on' FROM r RETURNING resident_id";
const INSERT_DISABILITIES_PG: &str = "INSERT INTO disabilities (resident_id, certificate_no, registered_on) \
    SELECT x.resident_id, x.certificate_no, x.registered_on FROM jsonb_to_recordset($1::jsonb) \
    AS x(resident_id bigint, certificate_no text, registered_on date) RETURNING resident_id";

const INSERT_ENROLMENTS_SQLITE: &str = "WITH r(v) AS MATERIALIZED (SELECT jsonb(value) FROM json_each($1)) INSERT INTO enrolments (resident_id, program, enrolled_on, diagnosis_id, created_at) \
    SELECT v->>'resident_id', v->>'program', v->>'enrolled_on', v->>'diagnosis_id', $2 \
    FROM r RETURNING id";
const INSERT_ENROLMENTS_PG: &str = "INSERT INTO enrolments (resident_id, program, enrolled_on, diagnosis_id, created_at) \
    SELECT x.resident_id, x.program, x.enrolled_on, x.diagnosis_id, $2 FROM jsonb_to_recordset($1::jsonb) \
    AS x(resident_id bigint, program text, enrolled_on date, diagnosis_id bigint) RETURNING id";

const INSERT_FOLLOWUPS_SQLITE: &str = "WITH r(v) AS MATERIALIZED (SELECT jsonb(value) FROM json_each($1)) INSERT INTO followups (enrolment_id, visit_date, face_to_face, sbp, dbp, fpg, \
    heart_rate, weight_kg, height_cm, symptoms, danger_sign, smoking_per_day, drinking_per_day, exercise_per_week, \
    salt, adherence, adverse_reaction, complication, medication, practitioner_id, classification, action, next_due, \
    rules_version, recorded_at, recorded_by) \
    SELECT v->>'enrolment_id', v->>'visit_date', v->>'face_to_face', v->>'sbp', v->>'dbp', \
    v->>'fpg', v->>'heart_rate', v->>'weight_kg', v->>'height_cm', v->>'symptoms', \
    v->>'danger_sign', v->>'smoking_per_day', v->>'drinking_per_day', v->>'exercise_per_week', \
    v->>'salt', v->>'adherence', v->>'adverse_reaction', v->>'complication', v->>'medication', \
    v->>'practitioner_id', v->>'classification', v->>'action', v->>'next_due', \
    v->>'rules_version', $2, v->>'recorded_by' FROM r RETURNING id";
const INSERT_FOLLOWUPS_PG: &str = "INSERT INTO followups (enrolment_id, visit_date, face_to_face, sbp, dbp, fpg, \
    heart_rate, weight_kg, height_cm, symptoms, danger_sign, smoking_per_day, drinking_per_day, exercise_per_week, \
    salt, adherence, adverse_reaction, complication, medication, practitioner_id, classification, action, next_due, \
    rules_version, recorded_at, recorded_by) \
    SELECT x.enrolment_id, x.visit_date, x.face_to_face, x.sbp, x.dbp, x.fpg, x.heart_rate, x.weight_kg, \
    x.height_cm, x.symptoms, x.danger_sign, x.smoking_per_day, x.drinking_per_day, x.exercise_per_week, x.salt, \
    x.adherence, x.adverse_reaction, x.complication, x.medication, x.practitioner_id, x.classification, x.action, \
    x.next_due, x.rules_version, $2, x.recorded_by FROM jsonb_to_recordset($1::jsonb) AS x(enrolment_id bigint, \
    visit_date date, face_to_face boolean, sbp int, dbp int, fpg float8, heart_rate int, weight_kg float8, \
    height_cm float8, symptoms text, danger_sign boolean, smoking_per_day int, drinking_per_day int, \
    exercise_per_week int, salt text, adherence text, adverse_reaction text, complication text, medication text, \
    practitioner_id bigint, classification text, action text, next_due date, rules_version text, recorded_by text) \
    RETURNING id";

const INSERT_CHECKS_SQLITE: &str = "WITH r(v) AS MATERIALIZED (SELECT jsonb(value) FROM json_each($1)) INSERT INTO health_checks (resident_id, kind, check_date, self_care_score, findings, \
    practitioner_id, recorded_at) SELECT v->>'resident_id', v->>'kind', v->>'check_date', \
    v->>'self_care_score', v->>'findings', v->>'practitioner_id', $2 FROM r RETURNING id";
const INSERT_CHECKS_PG: &str = "INSERT INTO health_checks (resident_id, kind, check_date, self_care_score, findings, \
    practitioner_id, recorded_at) SELECT x.resident_id, x.kind, x.check_date, x.self_care_score, x.findings, \
    x.practitioner_id, $2 FROM jsonb_to_recordset($1::jsonb) AS x(resident_id bigint, kind text, check_date date, \
    self_care_score int, findings text, practitioner_id bigint) RETURNING id";

fn json<T: Serialize>(rows: &[T]) -> Result<String> {
    serde_json::to_string(rows).map_err(|e| StoreError::Db(sqlx::Error::Encode(Box::new(e))))
}

/// The error of a write that found the state it depends on changed or wrong.
fn conflict(what: &str) -> StoreError {
    StoreError::Conflict {
        constraint: what.to_owned(),
    }
}

impl Store {
    /// Inserts `rows` (a JSON array) with one of the bulk statements, in one transaction, and
    /// returns the new ids in order.
    async fn bulk(&self, sqlite: &'static str, pg: &'static str, rows: String) -> Result<Vec<i64>> {
        let now = epoch_seconds();
        Ok(on_pool!(self, p => {
            let sql = if matches!(self.db, crate::Db::Postgres(_)) { pg } else { sqlite };
            let mut tx = p.begin().await?;
            let ids: Vec<i64> = sqlx::query_scalar(sql).bind(rows).bind(now).fetch_all(&mut *tx).await?;
            tx.commit().await?;
            ids
        }))
    }

    // -- teams ---------------------------------------------------------------------------------

    /// Creates a team with its members; the institution must exist.
    pub async fn insert_team(&self, team: &NewTeam) -> Result<i64> {
        const TEAM: &str = "INSERT INTO care_teams (code, name, institution_code, community_code, created_at) \
            SELECT $1, $2, code, community_code, $4 FROM institutions WHERE code = $3 RETURNING id";
        const MEMBER: &str =
            "INSERT INTO care_team_members (team_id, practitioner_id, role) VALUES ($1, $2, $3)";
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let id: i64 = sqlx::query_scalar(TEAM)
                .bind(&team.code).bind(&team.name).bind(&team.institution_code).bind(epoch_seconds())
                .fetch_optional(&mut *tx).await?
                .ok_or_else(|| conflict("care_teams.institution_code"))?;
            for (practitioner, role) in &team.members {
                sqlx::query(MEMBER).bind(id).bind(practitioner).bind(role).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Teams within `scope` (its subtree and, if set, its institution), optionally of one
    /// institution, by id.
    pub async fn teams(
        &self,
        scope: &crate::Scope,
        institution: Option<&str>,
    ) -> Result<Vec<TeamRow>> {
        self.teams_where(scope, institution, None).await
    }

    /// The team with `id`, if it lies within `scope`.
    pub async fn team(&self, id: i64, scope: &crate::Scope) -> Result<TeamRow> {
        self.teams_where(scope, None, Some(id))
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    async fn teams_where(
        &self,
        scope: &crate::Scope,
        institution: Option<&str>,
        id: Option<i64>,
    ) -> Result<Vec<TeamRow>> {
        const SQL: &str = "SELECT id, code, name, institution_code, community_code FROM care_teams \
            WHERE ($1 IS NULL OR (community_code >= $1 AND community_code < $2)) \
            AND ($3 IS NULL OR institution_code = $3) AND ($4 IS NULL OR institution_code = $4) \
            AND ($5 IS NULL OR id = $5) AND ($6 IS NULL OR EXISTS (SELECT 1 FROM care_team_members m \
                WHERE m.team_id = care_teams.id AND m.practitioner_id = $6)) ORDER BY id";
        let root = scope.prefix();
        let upper = root.map(crate::prefix_upper);
        Ok(
            on_pool!(self, p => sqlx::query_as(SQL).bind(root).bind(upper.as_deref())
            .bind(scope.institution.as_deref()).bind(institution).bind(id).bind(scope.practitioner)
            .fetch_all(p).await?),
        )
    }

    /// The team with `id`, wherever it is (for checks that compare it with a resident).
    pub async fn team_unscoped(&self, id: i64) -> Result<TeamRow> {
        const SQL: &str =
            "SELECT id, code, name, institution_code, community_code FROM care_teams WHERE id = $1";
        Ok(on_pool!(self, p => sqlx::query_as(SQL).bind(id).fetch_one(p).await?))
    }

    /// The members of team `id`, lead first.
    pub async fn team_members(&self, id: i64) -> Result<Vec<TeamMemberRow>> {
        const SQL: &str = "SELECT m.team_id, m.practitioner_id, p.name, p.kind, m.role \
            FROM care_team_members m JOIN practitioners p ON p.id = m.practitioner_id \
            WHERE m.team_id = $1 ORDER BY CASE m.role WHEN 'gp_lead' THEN 0 ELSE 1 END, p.id";
        Ok(on_pool!(self, p => sqlx::query_as(SQL).bind(id).fetch_all(p).await?))
    }

    /// The teams practitioner `id` belongs to.
    pub async fn teams_of_practitioner(&self, id: i64) -> Result<Vec<i64>> {
        const SQL: &str =
            "SELECT team_id FROM care_team_members WHERE practitioner_id = $1 ORDER BY team_id";
        Ok(on_pool!(self, p => sqlx::query_scalar(SQL).bind(id).fetch_all(p).await?))
    }

    // -- contracts -----------------------------------------------------------------------------

    /// The resident's contracts, oldest first: the history.
    pub async fn contracts_of(&self, resident_id: i64) -> Result<Vec<ContractRow>> {
        const SQL: &str = concat!(
            contract_select!(),
            " WHERE c.resident_id = $1 ORDER BY c.start_date, c.id"
        );
        Ok(on_pool!(self, p => sqlx::query_as(SQL).bind(resident_id).fetch_all(p).await?))
    }

    /// The contract with `id`.
    pub async fn contract(&self, id: i64) -> Result<ContractRow> {
        const SQL: &str = concat!(contract_select!(), " WHERE c.id = $1");
        Ok(on_pool!(self, p => sqlx::query_as(SQL).bind(id).fetch_one(p).await?))
    }

    /// Signs `contract`, first ending contract `end` (id, day, reason) when given: a change of
    /// team ends the old contract the day the new one starts. Refused with
    /// [`StoreError::Conflict`] `contracts_overlap` when, after that, another contract of the
    /// resident would still be in force during the new one's term; nothing is written then.
    pub async fn sign_contract(
        &self,
        contract: &NewContract,
        end: Option<(i64, NaiveDate, &str)>,
    ) -> Result<i64> {
        const LOCK_SQLITE: &str = "SELECT id FROM residents WHERE id = $1";
        const LOCK_PG: &str = "SELECT id FROM residents WHERE id = $1 FOR UPDATE";
        const END: &str = "UPDATE contracts SET ended_on = $2, end_reason = $3 \
            WHERE id = $1 AND resident_id = $4 AND ended_on IS NULL AND start_date <= $2";
        const OVERLAP: &str = "SELECT COUNT(*) FROM contracts WHERE resident_id = $1 \
            AND start_date < $3 AND end_date > $2 AND (ended_on IS NULL OR ended_on > $2)";
        let rows = json(std::slice::from_ref(contract))?;
        write_tx!(self, tx, pg => {
            let lock = if pg { LOCK_PG } else { LOCK_SQLITE };
            let found: Option<i64> = sqlx::query_scalar(lock).bind(contract.resident_id).fetch_optional(&mut *tx).await?;
            if found.is_none() {
                return Err(StoreError::NotFound);
            }
            if let Some((id, on, reason)) = end {
                let n = sqlx::query(END).bind(id).bind(on).bind(reason).bind(contract.resident_id)
                    .execute(&mut *tx).await?.rows_affected();
                if n != 1 {
                    return Err(conflict("contracts_end"));
                }
            }
            let overlapping: i64 = sqlx::query_scalar(OVERLAP).bind(contract.resident_id)
                .bind(contract.start_date).bind(contract.end_date).fetch_one(&mut *tx).await?;
            if overlapping > 0 {
                return Err(conflict("contracts_overlap"));
            }
            let sql = if pg { INSERT_CONTRACTS_PG } else { INSERT_CONTRACTS_SQLITE };
            let id: i64 = sqlx::query_scalar(sql).bind(&rows).bind(epoch_seconds()).fetch_one(&mut *tx).await?;
            Ok(id)
        })
    }

    /// Ends contract `id` of resident `resident_id` on `on` for `reason`; refused when it has
    /// already ended or would end before it started.
    pub async fn end_contract(
        &self,
        id: i64,
        resident_id: i64,
        on: NaiveDate,
        reason: &str,
    ) -> Result<()> {
        const SQL: &str = "UPDATE contracts SET ended_on = $2, end_reason = $3 \
            WHERE id = $1 AND resident_id = $4 AND ended_on IS NULL AND start_date <= $2";
        let n = on_pool!(self, p => sqlx::query(SQL).bind(id).bind(on).bind(reason).bind(resident_id)
            .execute(p).await?.rows_affected());
        if n == 1 {
            Ok(())
        } else {
            Err(conflict("contracts_end"))
        }
    }

    /// Records a service delivered under a contract.
    pub async fn record_service(&self, service: &ContractServiceRow) -> Result<i64> {
        self.bulk(
            INSERT_SERVICES_SQLITE,
            INSERT_SERVICES_PG,
            json(std::slice::from_ref(service))?,
        )
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
    }

    /// The services delivered under contract `id`, by date.
    pub async fn contract_services(&self, id: i64) -> Result<Vec<ContractServiceRow>> {
        const SQL: &str = "SELECT id, contract_id, service, delivered_on, practitioner_id, note \
            FROM contract_services WHERE contract_id = $1 ORDER BY delivered_on, id";
        Ok(on_pool!(self, p => sqlx::query_as(SQL).bind(id).fetch_all(p).await?))
    }

    // -- facts ---------------------------------------------------------------------------------

    /// Adds a diagnosis; returns its id.
    pub async fn add_diagnosis(&self, d: &DiagnosisRow) -> Result<i64> {
        self.bulk(
            INSERT_DIAGNOSES_SQLITE,
            INSERT_DIAGNOSES_PG,
            json(std::slice::from_ref(d))?,
        )
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
    }

    /// A resident's diagnoses, pregnancies and disability certificate.
    pub async fn resident_facts(
        &self,
        resident_id: i64,
    ) -> Result<(Vec<DiagnosisRow>, Vec<PregnancyRow>, Option<DisabilityRow>)> {
        const DX: &str = "SELECT id, resident_id, code, population, diagnosed_on, resolved_on FROM diagnoses \
            WHERE resident_id = $1 ORDER BY diagnosed_on, id";
        const PREG: &str = "SELECT id, resident_id, registered_on, ended_on FROM pregnancies \
            WHERE resident_id = $1 ORDER BY registered_on, id";
        const DIS: &str = "SELECT resident_id, certificate_no, registered_on FROM disabilities WHERE resident_id = $1";
        Ok(on_pool!(self, p => (
            sqlx::query_as(DX).bind(resident_id).fetch_all(p).await?,
            sqlx::query_as(PREG).bind(resident_id).fetch_all(p).await?,
            sqlx::query_as(DIS).bind(resident_id).fetch_optional(p).await?,
        )))
    }

    // -- programs ------------------------------------------------------------------------------

    /// Enrols a resident in a program; [`StoreError::Conflict`] if already enrolled.
    pub async fn enrol(&self, e: &NewEnrolment) -> Result<i64> {
        self.bulk(
            INSERT_ENROLMENTS_SQLITE,
            INSERT_ENROLMENTS_PG,
            json(std::slice::from_ref(e))?,
        )
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
    }

    /// The enrolment with `id`.
    pub async fn enrolment(&self, id: i64) -> Result<EnrolmentRow> {
        const SQL: &str = concat!(enrolment_select!(), " WHERE e.id = $1");
        Ok(on_pool!(self, p => sqlx::query_as(SQL).bind(id).fetch_one(p).await?))
    }

    /// A resident's enrolments.
    pub async fn enrolments_of(&self, resident_id: i64) -> Result<Vec<EnrolmentRow>> {
        const SQL: &str = concat!(
            enrolment_select!(),
            " WHERE e.resident_id = $1 ORDER BY e.id"
        );
        Ok(on_pool!(self, p => sqlx::query_as(SQL).bind(resident_id).fetch_all(p).await?))
    }

    /// The follow-ups of enrolment `id`, by date.
    pub async fn followups(&self, enrolment_id: i64) -> Result<Vec<FollowupRow>> {
        const SQL: &str = concat!(
            followup_cols!(),
            " WHERE enrolment_id = $1 ORDER BY visit_date"
        );
        Ok(on_pool!(self, p => sqlx::query_as(SQL).bind(enrolment_id).fetch_all(p).await?))
    }

    /// Records follow-up `new` and re-judges the enrolment's visits: `judge` gets every
    /// follow-up of the enrolment as it will stand (the stored ones and the new one, by date,
    /// the new one's id 0) and answers their verdicts in the same order. Verdicts that changed
    /// are updated in the same transaction. A second follow-up on the same day is a
    /// [`StoreError::Conflict`] `followups_enrolment`.
    pub async fn record_followup(
        &self,
        new: &NewFollowup,
        judge: impl FnOnce(&[FollowupRow]) -> Vec<Verdict>,
    ) -> Result<i64> {
        const LOCK_SQLITE: &str = "SELECT id FROM enrolments WHERE id = $1";
        const LOCK_PG: &str = "SELECT id FROM enrolments WHERE id = $1 FOR UPDATE";
        const SQL: &str = concat!(
            followup_cols!(),
            " WHERE enrolment_id = $1 ORDER BY visit_date"
        );
        const UPDATE: &str = "UPDATE followups SET classification = $2, action = $3, next_due = $4, \
            rules_version = $5 WHERE id = $1";
        let now = epoch_seconds();
        let candidate = followup_row(new, now);
        Ok(write_tx!(self, tx, pg => {
            let lock = if pg { LOCK_PG } else { LOCK_SQLITE };
            let found: Option<i64> = sqlx::query_scalar(lock).bind(new.enrolment_id).fetch_optional(&mut *tx).await?;
            if found.is_none() {
                return Err(StoreError::NotFound);
            }
            let mut all: Vec<FollowupRow> = sqlx::query_as(SQL).bind(new.enrolment_id).fetch_all(&mut *tx).await?;
            if all.iter().any(|f| f.visit_date == new.form.visit_date) {
                return Err(conflict("followups_enrolment"));
            }
            all.push(candidate);
            all.sort_by_key(|f| f.visit_date);
            let verdicts = judge(&all);
            let sql = if pg { INSERT_FOLLOWUPS_PG } else { INSERT_FOLLOWUPS_SQLITE };
            let mut new_id = 0;
            for (f, v) in all.iter().zip(&verdicts) {
                if f.id == 0 {
                    let mut row = new.clone();
                    row.verdict = v.clone();
                    let rows = json(std::slice::from_ref(&row))?;
                    new_id = sqlx::query_scalar(sql).bind(rows).bind(now).fetch_one(&mut *tx).await?;
                } else if (f.classification.as_str(), f.action.as_str(), f.next_due, f.rules_version.as_str())
                    != (v.classification.as_str(), v.action.as_str(), v.next_due, v.rules_version.as_str())
                {
                    sqlx::query(UPDATE).bind(f.id).bind(&v.classification).bind(&v.action)
                        .bind(v.next_due).bind(&v.rules_version).execute(&mut *tx).await?;
                }
            }
            let ids = format!("[{}]", new.enrolment_id);
            let (delete, refresh) = if pg {
                (DELETE_PROGRAM_YEARS_PG, REFRESH_PROGRAM_YEARS_PG)
            } else {
                (DELETE_PROGRAM_YEARS_SQLITE, REFRESH_PROGRAM_YEARS_SQLITE)
            };
            sqlx::query(delete).bind(&ids).execute(&mut *tx).await?;
            sqlx::query(refresh).bind(&ids).execute(&mut *tx).await?;
            new_id
        }))
    }

    /// Records a health check.
    pub async fn record_check(&self, check: &CheckRow) -> Result<i64> {
        self.bulk(
            INSERT_CHECKS_SQLITE,
            INSERT_CHECKS_PG,
            json(std::slice::from_ref(check))?,
        )
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
    }

    /// A resident's health checks, by date.
    pub async fn checks_of(&self, resident_id: i64) -> Result<Vec<CheckRow>> {
        const SQL: &str = "SELECT id, resident_id, kind, check_date, self_care_score, findings, practitioner_id \
            FROM health_checks WHERE resident_id = $1 ORDER BY check_date, id";
        Ok(on_pool!(self, p => sqlx::query_as(SQL).bind(resident_id).fetch_all(p).await?))
    }

    // -- worklists -----------------------------------------------------------------------------

    /// Everything a team's worklist is computed from: each resident under a contract with team
    /// `team_id` in force on `today`, once per open program enrolment (or once, without
    /// program, when enrolled in none), with the last follow-up's verdict and the last checks.
    pub async fn worklist_rows(&self, team_id: i64, today: NaiveDate) -> Result<Vec<WorklistRow>> {
        const SQL: &str = "SELECT r.id AS resident_id, r.name, r.sex, r.birth_date, r.community_code, c.team_id, \
            e.program, e.enrolled_on, lf.visit_date AS last_visit, lf.action AS last_action, lf.next_due, \
            (SELECT MAX(h.check_date) FROM health_checks h WHERE h.resident_id = r.id AND h.kind = 'annual') AS last_check, \
            (SELECT MAX(h.check_date) FROM health_checks h WHERE h.resident_id = r.id AND h.kind = 'elderly') AS last_elderly \
            FROM contracts c JOIN residents r ON r.id = c.resident_id \
            LEFT JOIN enrolments e ON e.resident_id = r.id AND e.ended_on IS NULL \
            LEFT JOIN followups lf ON lf.id = (SELECT f.id FROM followups f WHERE f.enrolment_id = e.id \
                ORDER BY f.visit_date DESC LIMIT 1) \
            WHERE c.team_id = $1 AND c.start_date <= $2 AND c.end_date > $2 AND (c.ended_on IS NULL OR c.ended_on > $2) \
            ORDER BY r.id, e.program";
        Ok(on_pool!(self, p => sqlx::query_as(SQL).bind(team_id).bind(today).fetch_all(p).await?))
    }

    // -- bulk (demo city, imports) -------------------------------------------------------------

    /// Inserts contracts as they are (history included), without the overlap check: for
    /// loading a history already known to be consistent. Returns the ids in order.
    pub async fn insert_contracts_bulk(&self, rows: &[NewContract]) -> Result<Vec<i64>> {
        self.bulk(INSERT_CONTRACTS_SQLITE, INSERT_CONTRACTS_PG, json(rows)?)
            .await
    }

    /// Inserts contract services.
    pub async fn insert_services_bulk(&self, rows: &[ContractServiceRow]) -> Result<Vec<i64>> {
        self.bulk(INSERT_SERVICES_SQLITE, INSERT_SERVICES_PG, json(rows)?)
            .await
    }

    /// Inserts diagnoses.
    pub async fn insert_diagnoses_bulk(&self, rows: &[DiagnosisRow]) -> Result<Vec<i64>> {
        self.bulk(INSERT_DIAGNOSES_SQLITE, INSERT_DIAGNOSES_PG, json(rows)?)
            .await
    }

    /// Inserts pregnancies.
    pub async fn insert_pregnancies_bulk(&self, rows: &[PregnancyRow]) -> Result<Vec<i64>> {
        self.bulk(
            INSERT_PREGNANCIES_SQLITE,
            INSERT_PREGNANCIES_PG,
            json(rows)?,
        )
        .await
    }

    /// Inserts disability certificates.
    pub async fn insert_disabilities_bulk(&self, rows: &[DisabilityRow]) -> Result<Vec<i64>> {
        self.bulk(
            INSERT_DISABILITIES_SQLITE,
            INSERT_DISABILITIES_PG,
            json(rows)?,
        )
        .await
    }

    /// Inserts enrolments.
    pub async fn insert_enrolments_bulk(&self, rows: &[NewEnrolment]) -> Result<Vec<i64>> {
        self.bulk(INSERT_ENROLMENTS_SQLITE, INSERT_ENROLMENTS_PG, json(rows)?)
            .await
    }

    /// Inserts follow-ups with the verdicts given (the caller judged them).
    /// Their enrolments' `program_years` are rewritten in the same transaction.
    pub async fn insert_followups_bulk(&self, rows: &[NewFollowup]) -> Result<Vec<i64>> {
        let mut enrolments: Vec<i64> = rows.iter().map(|r| r.enrolment_id).collect();
        enrolments.sort_unstable();
        enrolments.dedup();
        let enrolments = json(&enrolments)?;
        let rows = json(rows)?;
        let now = epoch_seconds();
        Ok(on_pool!(self, p => {
            let pg = matches!(self.db, crate::Db::Postgres(_));
            let (insert, delete, refresh) = if pg {
                (INSERT_FOLLOWUPS_PG, DELETE_PROGRAM_YEARS_PG, REFRESH_PROGRAM_YEARS_PG)
            } else {
                (INSERT_FOLLOWUPS_SQLITE, DELETE_PROGRAM_YEARS_SQLITE, REFRESH_PROGRAM_YEARS_SQLITE)
            };
            let mut tx = p.begin().await?;
            let ids: Vec<i64> = sqlx::query_scalar(insert).bind(rows).bind(now).fetch_all(&mut *tx).await?;
            sqlx::query(delete).bind(&enrolments).execute(&mut *tx).await?;
            sqlx::query(refresh).bind(&enrolments).execute(&mut *tx).await?;
            tx.commit().await?;
            ids
        }))
    }

    /// Inserts health checks.
    pub async fn insert_checks_bulk(&self, rows: &[CheckRow]) -> Result<Vec<i64>> {
        self.bulk(INSERT_CHECKS_SQLITE, INSERT_CHECKS_PG, json(rows)?)
            .await
    }
}

fn followup_row(new: &NewFollowup, now: i64) -> FollowupRow {
    let f = &new.form;
    FollowupRow {
        id: 0,
        enrolment_id: new.enrolment_id,
        visit_date: f.visit_date,
        face_to_face: f.face_to_face,
        sbp: f.sbp.map(i32::from),
        dbp: f.dbp.map(i32::from),
        fpg: f.fpg,
        heart_rate: f.heart_rate.map(i32::from),
        weight_kg: f.weight_kg,
        height_cm: f.height_cm,
        symptoms: f.symptoms.clone(),
        danger_sign: f.danger_sign,
        smoking_per_day: f.smoking_per_day.map(i32::from),
        drinking_per_day: f.drinking_per_day.map(i32::from),
        exercise_per_week: f.exercise_per_week.map(i32::from),
        salt: f.salt.map(|s| s.as_str().to_owned()),
        adherence: f.adherence.map(|s| s.as_str().to_owned()),
        adverse_reaction: serde_code(&f.adverse_reaction),
        complication: serde_code(&f.complication),
        medication: f.medication.clone(),
        practitioner_id: f.practitioner_id,
        classification: new.verdict.classification.clone(),
        action: new.verdict.action.clone(),
        next_due: new.verdict.next_due,
        rules_version: new.verdict.rules_version.clone(),
        recorded_at: now,
        recorded_by: new.recorded_by.clone(),
    }
}

/// The code serde gives a unit enum variant.
fn serde_code<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// An org unit as the indicator roll-up needs it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct UnitNode {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Level code.
    pub level: String,
    /// Parent's code.
    pub parent_code: Option<String>,
}

/// A 社康 (centre or station) and its community.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct CareSite {
    /// Institution code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Community.
    pub community_code: String,
}

impl Store {
    /// Every org unit, by code.
    pub async fn orgunit_tree(&self) -> Result<Vec<UnitNode>> {
        const SQL: &str = "SELECT code, name, level, parent_code FROM orgunits ORDER BY code";
        Ok(on_pool!(self, p => sqlx::query_as(SQL).fetch_all(p).await?))
    }

    /// Every 社康 centre and station, by code.
    pub async fn care_sites(&self) -> Result<Vec<CareSite>> {
        const SQL: &str = "SELECT code, name, community_code FROM institutions \
            WHERE kind IN ('chc', 'chs') ORDER BY code";
        Ok(on_pool!(self, p => sqlx::query_as(SQL).fetch_all(p).await?))
    }
}
