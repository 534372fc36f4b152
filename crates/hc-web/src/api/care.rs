//! Primary care (issue #6): family-doctor teams and their worklists, contracts and the
//! services delivered under them, diagnoses, program follow-ups judged on the server, health
//! checks, a resident's care record, and the indicators with the residents behind them.
//!
//! Every handler calls one `hc_app::care` use case, which checks the permission (403) and the
//! jurisdiction (404, the body of a missing record) and audits what it reads or writes.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::NaiveDate;
use hc_app::care::{self, Indicator, Level, Period};
use hc_core::access::Permission;
use hc_store::{CheckRow, ContractServiceRow};
use serde::Deserialize;
use utoipa::IntoParams;

use super::*;
use crate::auth::CurrentUser;
use crate::error::Problem;
use crate::{ApiError, AppState};

/// 201 with the created record (and where to read it, when it has an address of its own).
fn created<T: serde::Serialize>(location: Option<String>, body: T) -> axum::response::Response {
    match location {
        Some(l) => (StatusCode::CREATED, [(header::LOCATION, l)], Json(body)).into_response(),
        None => (StatusCode::CREATED, Json(body)).into_response(),
    }
}

// -- teams --------------------------------------------------------------------------------------

/// Filters of the team list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TeamQuery {
    /// Only the teams of this 社康 (institution code).
    pub institution: Option<String>,
}

/// Lists the family-doctor teams of the caller's jurisdiction (care and indicator roles).
#[utoipa::path(get, path = "/api/v1/care/teams", tag = "care", params(TeamQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<TeamOut>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_teams(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiQuery(q): ApiQuery<TeamQuery>,
) -> Result<Json<Vec<TeamOut>>, ApiError> {
    let institution = q
        .institution
        .as_deref()
        .map(str::trim)
        .filter(|i| !i.is_empty());
    let teams = care::teams(&s.store, &u.0, institution).await?;
    Ok(Json(teams.into_iter().map(Into::into).collect()))
}

/// Creates a family-doctor team at a 社康 of the caller's jurisdiction: exactly one GP lead,
/// every member working at that 社康 (commission, district bureaus, administrators). Audited.
#[utoipa::path(post, path = "/api/v1/care/teams", tag = "care", request_body = TeamIn, security(("bearer" = [])),
    responses((status = 201, body = TeamViewOut), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_team(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiJson(input): ApiJson<TeamIn>,
) -> Result<axum::response::Response, ApiError> {
    let view = care::create_team(&s.store, &u.0, input.into_domain()).await?;
    Ok(created(
        Some(format!("/api/v1/care/teams/{}", view.team.id)),
        TeamViewOut::from(view),
    ))
}

/// Reads a team and its members.
#[utoipa::path(get, path = "/api/v1/care/teams/{id}", tag = "care", params(("id" = i64, Path, description = "Team id")),
    security(("bearer" = [])), responses((status = 200, body = TeamViewOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_team(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<TeamViewOut>, ApiError> {
    Ok(Json(care::team(&s.store, &u.0, id).await?.into()))
}

/// The day of a worklist.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorklistQuery {
    /// The day to look at (YYYY-MM-DD); today in China Standard Time when absent.
    pub date: Option<NaiveDate>,
}

/// A team's worklist: every service due within the week, overdue, or lost to follow-up, for
/// the residents under contract with it; names masked (family doctors and institution staff).
/// Audited.
#[utoipa::path(get, path = "/api/v1/care/teams/{id}/worklist", tag = "care",
    params(("id" = i64, Path, description = "Team id"), WorklistQuery), security(("bearer" = [])),
    responses((status = 200, body = WorklistOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn worklist(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<WorklistQuery>,
) -> Result<Json<WorklistOut>, ApiError> {
    let day = q.date.unwrap_or_else(hc_app::today);
    Ok(Json(
        care::worklist(&s.store, &u.0, &s.care, id, day)
            .await?
            .into(),
    ))
}

// -- a resident's care --------------------------------------------------------------------------

/// A resident's primary care: contracts (in force and past) and the team, key populations
/// with their reasons, diagnoses, programs with their follow-ups and verdicts, checks, and
/// what is due (family doctors and institution staff). Audited.
#[utoipa::path(get, path = "/api/v1/residents/{id}/care", tag = "care", params(("id" = i64, Path, description = "Resident id")),
    security(("bearer" = [])), responses((status = 200, body = CareRecordOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn resident_care(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<CareRecordOut>, ApiError> {
    Ok(Json(
        care::care_record(&s.store, &u.0, &s.care, id, hc_app::today())
            .await?
            .into(),
    ))
}

/// The caller's own primary care (resident accounts): contract, team, key populations,
/// programs, checks and what is due.
#[utoipa::path(get, path = "/api/v1/me/care", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = CareRecordOut), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn my_care(
    State(s): State<AppState>,
    u: CurrentUser,
) -> Result<Json<CareRecordOut>, ApiError> {
    u.0.require(Permission::OwnRecord)?;
    let id =
        u.0.scope()
            .resident
            .ok_or_else(|| ApiError::not_found("record"))?;
    Ok(Json(
        care::care_record(&s.store, &u.0, &s.care, id, hc_app::today())
            .await?
            .into(),
    ))
}

/// Signs a contract between the resident and a team. A resident has one team at a time: a
/// contract overlapping the one in force is refused (409); `renewal` continues the contract
/// ending on the start date; `change` ends the contract in force, with a reason. Audited.
#[utoipa::path(post, path = "/api/v1/residents/{id}/contracts", tag = "care", params(("id" = i64, Path, description = "Resident id")),
    request_body = ContractIn, security(("bearer" = [])),
    responses((status = 201, body = ContractOut), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn sign_contract(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ContractIn>,
) -> Result<axum::response::Response, ApiError> {
    let c = care::sign_contract(&s.store, &u.0, input.into_domain(id)).await?;
    Ok(created(None, ContractOut::from(c)))
}

/// Ends a contract before its term, on a day within it, for a reason. Audited.
#[utoipa::path(post, path = "/api/v1/contracts/{id}/end", tag = "care", params(("id" = i64, Path, description = "Contract id")),
    request_body = EndContractIn, security(("bearer" = [])),
    responses((status = 200, body = ContractOut), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn end_contract(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<EndContractIn>,
) -> Result<Json<ContractOut>, ApiError> {
    Ok(Json(
        care::end_contract(&s.store, &u.0, id, input.ended_on, &input.reason)
            .await?
            .into(),
    ))
}

/// Records a service delivered under a contract (履约). Audited.
#[utoipa::path(post, path = "/api/v1/contracts/{id}/services", tag = "care", params(("id" = i64, Path, description = "Contract id")),
    request_body = ServiceIn, security(("bearer" = [])),
    responses((status = 201, body = CreatedOut), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn record_service(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ServiceIn>,
) -> Result<axum::response::Response, ApiError> {
    let row = ContractServiceRow {
        id: 0,
        contract_id: id,
        service: input.service,
        delivered_on: input.delivered_on,
        practitioner_id: None,
        note: input
            .note
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty()),
    };
    let id = care::record_service(&s.store, &u.0, row, hc_app::today()).await?;
    Ok(created(None, CreatedOut { id }))
}

/// Adds a diagnosis (ICD-10). Hypertension or type-2 diabetes at 35 or over enrols the
/// resident in the program; the enrolment's id comes back. Audited.
#[utoipa::path(post, path = "/api/v1/residents/{id}/diagnoses", tag = "care", params(("id" = i64, Path, description = "Resident id")),
    request_body = DiagnosisIn, security(("bearer" = [])),
    responses((status = 201, body = DiagnosisCreatedOut), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn add_diagnosis(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<DiagnosisIn>,
) -> Result<axum::response::Response, ApiError> {
    let (diagnosis, enrolment) = care::add_diagnosis(
        &s.store,
        &u.0,
        id,
        &input.code,
        input.diagnosed_on,
        hc_app::today(),
    )
    .await?;
    Ok(created(
        None,
        DiagnosisCreatedOut {
            id: diagnosis,
            enrolment_id: enrolment,
        },
    ))
}

/// Records a follow-up of a program enrolment. Impossible values, a date in the future or
/// before enrolment are refused naming the field (422); a second follow-up on the same day is
/// a conflict (409). The server classifies it by the rules and answers with the verdict: the
/// classification, the action it requires and when the next is due. Audited.
#[utoipa::path(post, path = "/api/v1/enrolments/{id}/followups", tag = "care", params(("id" = i64, Path, description = "Enrolment id")),
    request_body = FollowUpIn, security(("bearer" = [])),
    responses((status = 201, body = RecordedOut), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn record_followup(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<FollowUpIn>,
) -> Result<axum::response::Response, ApiError> {
    let recorded =
        care::record_followup(&s.store, &u.0, &s.care, id, input.into(), hc_app::today()).await?;
    Ok(created(None, RecordedOut::from(recorded)))
}

/// Records a health check: a program patient's annual check or the elderly health
/// management. Audited.
#[utoipa::path(post, path = "/api/v1/residents/{id}/checks", tag = "care", params(("id" = i64, Path, description = "Resident id")),
    request_body = CheckIn, security(("bearer" = [])),
    responses((status = 201, body = CreatedOut), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn record_check(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<CheckIn>,
) -> Result<axum::response::Response, ApiError> {
    let row = CheckRow {
        id: 0,
        resident_id: id,
        kind: input.kind.trim().to_owned(),
        check_date: input.check_date,
        self_care_score: input.self_care_score,
        findings: input.findings.unwrap_or_default().trim().to_owned(),
        practitioner_id: None,
    };
    let id = care::record_check(&s.store, &u.0, row, hc_app::today()).await?;
    Ok(created(None, CreatedOut { id }))
}

// -- indicators ---------------------------------------------------------------------------------

/// The period of an indicator: a calendar year, or a first and a last day.
pub(crate) fn period(
    year: Option<i32>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Period, ApiError> {
    match (year, from, to) {
        (Some(y), None, None) => (1900..=2200)
            .contains(&y)
            .then(|| Period::year(y))
            .flatten()
            .ok_or_else(|| ApiError::bad_field("year", "must be a year between 1900 and 2200")),
        (Some(_), _, _) => Err(ApiError::bad_field(
            "year",
            "give either year or from and to, not both",
        )),
        (None, Some(from), Some(to)) if to < from => Err(ApiError::bad_field(
            "to",
            "the period ends before it starts",
        )),
        (None, Some(from), Some(to)) => Ok(Period { from, to }),
        (None, Some(_), None) => Err(ApiError::bad_field("to", "give to with from")),
        (None, None, Some(_)) => Err(ApiError::bad_field("from", "give from with to")),
        (None, None, None) => Err(ApiError::bad_field(
            "year",
            "give year (YYYY) or from and to (YYYY-MM-DD)",
        )),
    }
}

/// What to report on.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IndicatorQuery {
    /// Calendar year (or give `from` and `to`).
    pub year: Option<i32>,
    /// First day of the period.
    pub from: Option<NaiveDate>,
    /// Last day of the period (inclusive).
    pub to: Option<NaiveDate>,
    /// Org-unit code to report on (default: the caller's jurisdiction, or the city).
    pub org: Option<String>,
    /// Break down by `district`, `street`, `institution` (社康 service areas) or `community`.
    #[param(pattern = "^(|district|street|institution|community)$")]
    pub level: Option<String>,
}

/// The primary-care indicators for a period, for the org unit or broken down by level, each
/// with numerator and denominator (roles with indicator access). Audited.
#[utoipa::path(get, path = "/api/v1/indicators", tag = "care", params(IndicatorQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<IndicatorOut>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn indicators(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiQuery(q): ApiQuery<IndicatorQuery>,
) -> Result<Json<Vec<IndicatorOut>>, ApiError> {
    let period = period(q.year, q.from, q.to)?;
    let level = match q.level.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        None => None,
        Some(l) => Some(Level::parse(l).ok_or_else(|| {
            ApiError::bad_field(
                "level",
                format!("unknown value {l:?}; expected district|street|institution|community"),
            )
        })?),
    };
    let org = q.org.as_deref().map(str::trim).filter(|o| !o.is_empty());
    let rows =
        care::indicators(&s.store, &u.0, &s.care, period, org, level, hc_app::today()).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// Largest page of the residents behind an indicator.
const MEMBERS_MAX: u32 = 500;

/// Which residents behind an indicator.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MembersQuery {
    /// Org-unit or 社康 code.
    pub org: String,
    /// Calendar year (or give `from` and `to`).
    pub year: Option<i32>,
    /// First day of the period.
    pub from: Option<NaiveDate>,
    /// Last day of the period (inclusive).
    pub to: Option<NaiveDate>,
    /// Only those who meet it (`true`), or who do not (`false`); all when absent.
    pub meets: Option<bool>,
    /// Resident id after which the page starts (the previous page's `next`).
    pub after: Option<i64>,
    /// Page size, 1-500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// The residents behind an indicator for an org unit or 社康, names masked, by resident id
/// (roles that see both indicators and residents). Audited as a list of residents.
#[utoipa::path(get, path = "/api/v1/indicators/{code}/members", tag = "care",
    params(("code" = String, Path, description = "Indicator code"), MembersQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<MemberOut>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn indicator_members(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiPath(code): ApiPath<String>,
    ApiQuery(q): ApiQuery<MembersQuery>,
) -> Result<Json<Page<MemberOut>>, ApiError> {
    let indicator = Indicator::parse(&code).ok_or_else(|| ApiError::not_found("indicator"))?;
    let period = period(q.year, q.from, q.to)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=MEMBERS_MAX).contains(&limit) {
        return Err(ApiError::bad_field(
            "limit",
            format!("must be between 1 and {MEMBERS_MAX}"),
        ));
    }
    let after = q.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::bad_field(
            "after",
            "is not a cursor returned as `next`",
        ));
    }
    let members = care::indicator_members(
        &s.store,
        &u.0,
        &s.care,
        indicator,
        period,
        q.org.trim(),
        q.meets,
        after,
        limit,
        hc_app::today(),
    )
    .await?;
    let next = (members.len() == limit as usize)
        .then(|| members.last().map(|m| m.resident_id.to_string()))
        .flatten();
    Ok(Json(Page {
        items: members.into_iter().map(Into::into).collect(),
        next,
    }))
}
