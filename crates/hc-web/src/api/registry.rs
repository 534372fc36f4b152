//! Registry resources: org units, institutions, practitioners, residents.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::NaiveDate;
use hc_core::access::Permission;
use hc_core::model::*;
use hc_store::{InstitutionFilter, OrgUnitFilter, PractitionerFilter, ResidentFilter};
use serde::Deserialize;
use utoipa::IntoParams;

use super::*;
use crate::auth::CurrentUser;
use crate::error::Problem;
use crate::{ApiError, AppState};

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 1000;

fn page(after: Option<&str>, limit: Option<u32>) -> Result<hc_store::Page, ApiError> {
    let after =
        match after {
            None | Some("") => None,
            Some(a) => Some(a.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                ApiError::bad_field("after", "is not a cursor returned as `next`")
            })?),
        };
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_field(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        ));
    }
    Ok(hc_store::Page { after, limit })
}

fn code_param<T>(
    field: &str,
    v: Option<&str>,
    parse: fn(&str) -> Option<T>,
    expected: fn() -> String,
) -> Result<Option<T>, ApiError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse(s).map(Some).ok_or_else(|| {
            ApiError::bad_field(
                field,
                format!("unknown value {s:?}; expected {}", expected()),
            )
        }),
    }
}

fn text_param(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn created<T: serde::Serialize>(location: String, body: T) -> impl IntoResponse {
    (
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(body),
    )
}

/// Refuses (403) a caller whose role lacks `p`.
fn require(user: &CurrentUser, p: Permission) -> Result<(), ApiError> {
    Ok(user.0.require(p)?)
}

/// Callers who may not see identities may filter by birth date in whole years only: with a
/// day-precise range, the visible digits of a masked number would give the rest away.
fn whole_year(
    field: &str,
    date: Option<NaiveDate>,
    month: u32,
    day: u32,
    user: &CurrentUser,
) -> Result<(), ApiError> {
    use chrono::Datelike;
    match date {
        Some(d)
            if !user.principal().can(Permission::ViewIdentity)
                && (d.month(), d.day()) != (month, day) =>
        {
            Err(ApiError::bad_field(
                field,
                format!(
                    "must be {} of a year (whole years only for roles that do not see identities)",
                    if month == 1 {
                        "January 1"
                    } else {
                        "December 31"
                    }
                ),
            ))
        }
        _ => Ok(()),
    }
}

// -- org units ----------------------------------------------------------------------------------

/// Filters of the org-unit list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgUnitQuery {
    /// Children of this unit.
    pub parent_code: Option<String>,
    /// `city`, `district`, `street` or `community`.
    #[param(pattern = "^(|city|district|street|community)$")]
    pub level: Option<String>,
    /// Units in the subtree of this code.
    pub under: Option<String>,
    /// Units in force on this date (YYYY-MM-DD).
    pub as_of: Option<NaiveDate>,
    /// Name contains.
    pub name: Option<String>,
    /// Cursor from the previous page's `next`.
    #[param(pattern = "^[0-9]*$")]
    pub after: Option<String>,
    /// Page size, 1-1000 (default 50). An empty filter value counts as absent.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// Lists org units.
#[utoipa::path(get, path = "/api/v1/orgunits", tag = "registry", params(OrgUnitQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<OrgUnitOut>), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn list_orgunits(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiQuery(q): ApiQuery<OrgUnitQuery>,
) -> Result<Json<Page<OrgUnitOut>>, ApiError> {
    require(&u, Permission::ViewRegistry)?;
    let filter = OrgUnitFilter {
        parent_code: text_param(q.parent_code),
        level: code_param(
            "level",
            q.level.as_deref(),
            OrgLevel::parse,
            OrgLevel::expected,
        )?,
        under: text_param(q.under),
        as_of: q.as_of,
        name: text_param(q.name),
    };
    let p = s
        .store
        .orgunits(&filter, page(q.after.as_deref(), q.limit)?, u.0.scope())
        .await?;
    Ok(Json(Page::from_paged(p, OrgUnitOut::from)))
}

/// Registers an org unit.
#[utoipa::path(post, path = "/api/v1/orgunits", tag = "registry", request_body = OrgUnitInput, security(("bearer" = [])),
    responses((status = 201, body = OrgUnitOut), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_orgunit(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiJson(input): ApiJson<OrgUnitInput>,
) -> Result<impl IntoResponse, ApiError> {
    let stored = hc_app::registry::create_orgunit(&s.store, &u.0, input.into_domain()?).await?;
    Ok(created(
        format!("/api/v1/orgunits/{}", stored.record.code),
        OrgUnitOut::from(stored),
    ))
}

/// Reads an org unit.
#[utoipa::path(get, path = "/api/v1/orgunits/{code}", tag = "registry", params(("code" = String, Path, description = "Org-unit code")),
    security(("bearer" = [])), responses((status = 200, body = OrgUnitOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_orgunit(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<OrgUnitOut>, ApiError> {
    Ok(Json(
        hc_app::registry::orgunit(&s.store, &u.0, &code)
            .await?
            .into(),
    ))
}

/// Replaces an org unit (its code cannot change).
#[utoipa::path(put, path = "/api/v1/orgunits/{code}", tag = "registry", params(("code" = String, Path, description = "Org-unit code")),
    request_body = OrgUnitInput, security(("bearer" = [])),
    responses((status = 200, body = OrgUnitOut), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update_orgunit(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiPath(code): ApiPath<String>,
    ApiJson(input): ApiJson<OrgUnitInput>,
) -> Result<Json<OrgUnitOut>, ApiError> {
    Ok(Json(
        hc_app::registry::update_orgunit(&s.store, &u.0, &code, input.into_domain()?)
            .await?
            .into(),
    ))
}

/// Options of the children listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChildrenQuery {
    /// Only children in force on this date.
    pub as_of: Option<NaiveDate>,
}

/// The children of an org unit with counts of residents, institutions and beds under each.
#[utoipa::path(get, path = "/api/v1/orgunits/{code}/children", tag = "registry",
    params(("code" = String, Path, description = "Org-unit code"), ChildrenQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<UnitCountsOut>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn orgunit_children(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiPath(code): ApiPath<String>,
    ApiQuery(q): ApiQuery<ChildrenQuery>,
) -> Result<Json<Vec<UnitCountsOut>>, ApiError> {
    require(&u, Permission::ViewRegistry)?;
    hc_app::registry::orgunit(&s.store, &u.0, &code).await?;
    let children = s
        .store
        .orgunit_children(Some(&code), q.as_of, u.0.scope())
        .await?;
    Ok(Json(children.into_iter().map(Into::into).collect()))
}

// -- institutions -------------------------------------------------------------------------------

/// Filters of the institution list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InstitutionQuery {
    /// Kind code.
    #[param(
        pattern = "^(|hospital|chc|chs|cdc|mch|pharmacy|school|kindergarten|nursing_home|clinic)$"
    )]
    pub kind: Option<String>,
    /// Grade code.
    #[param(pattern = "^(|3a|3b|2|1)$")]
    pub grade: Option<String>,
    /// Located in the subtree of this org-unit code.
    pub under: Option<String>,
    /// Members of the group led by this institution.
    pub group_code: Option<String>,
    /// With or without a fever clinic.
    pub fever_clinic: Option<bool>,
    /// Name contains.
    pub name: Option<String>,
    /// Cursor from the previous page's `next`.
    #[param(pattern = "^[0-9]*$")]
    pub after: Option<String>,
    /// Page size, 1-1000 (default 50). An empty filter value counts as absent.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// Lists institutions.
#[utoipa::path(get, path = "/api/v1/institutions", tag = "registry", params(InstitutionQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<InstitutionOut>), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn list_institutions(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiQuery(q): ApiQuery<InstitutionQuery>,
) -> Result<Json<Page<InstitutionOut>>, ApiError> {
    require(&u, Permission::ViewRegistry)?;
    let filter = InstitutionFilter {
        kind: code_param(
            "kind",
            q.kind.as_deref(),
            InstitutionKind::parse,
            InstitutionKind::expected,
        )?,
        grade: code_param(
            "grade",
            q.grade.as_deref(),
            HospitalGrade::parse,
            HospitalGrade::expected,
        )?,
        under: text_param(q.under),
        group_code: text_param(q.group_code),
        fever_clinic: q.fever_clinic,
        name: text_param(q.name),
    };
    let p = s
        .store
        .institutions(&filter, page(q.after.as_deref(), q.limit)?, u.0.scope())
        .await?;
    Ok(Json(Page::from_paged(p, InstitutionOut::from)))
}

/// Registers an institution.
#[utoipa::path(post, path = "/api/v1/institutions", tag = "registry", request_body = InstitutionInput, security(("bearer" = [])),
    responses((status = 201, body = InstitutionOut), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_institution(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiJson(input): ApiJson<InstitutionInput>,
) -> Result<impl IntoResponse, ApiError> {
    let stored = hc_app::registry::create_institution(&s.store, &u.0, input.into_domain()?).await?;
    Ok(created(
        format!("/api/v1/institutions/{}", stored.record.code),
        InstitutionOut::from(stored),
    ))
}

/// Reads an institution.
#[utoipa::path(get, path = "/api/v1/institutions/{code}", tag = "registry", params(("code" = String, Path, description = "Institution code")),
    security(("bearer" = [])), responses((status = 200, body = InstitutionOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_institution(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<InstitutionOut>, ApiError> {
    Ok(Json(
        hc_app::registry::institution(&s.store, &u.0, &code)
            .await?
            .into(),
    ))
}

/// Replaces an institution (its code cannot change).
#[utoipa::path(put, path = "/api/v1/institutions/{code}", tag = "registry", params(("code" = String, Path, description = "Institution code")),
    request_body = InstitutionInput, security(("bearer" = [])),
    responses((status = 200, body = InstitutionOut), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update_institution(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiPath(code): ApiPath<String>,
    ApiJson(input): ApiJson<InstitutionInput>,
) -> Result<Json<InstitutionOut>, ApiError> {
    Ok(Json(
        hc_app::registry::update_institution(&s.store, &u.0, &code, input.into_domain()?)
            .await?
            .into(),
    ))
}

// -- practitioners ------------------------------------------------------------------------------

/// Filters of the practitioner list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PractitionerQuery {
    /// Kind code.
    #[param(pattern = "^(|gp|specialist|nurse|public_health|pharmacist)$")]
    pub kind: Option<String>,
    /// Institution code.
    pub institution_code: Option<String>,
    /// Exact identity number.
    pub id_number: Option<String>,
    /// Name starts with.
    pub name: Option<String>,
    /// Cursor from the previous page's `next`.
    #[param(pattern = "^[0-9]*$")]
    pub after: Option<String>,
    /// Page size, 1-1000 (default 50). An empty filter value counts as absent.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// Lists practitioners (identity numbers masked).
#[utoipa::path(get, path = "/api/v1/practitioners", tag = "registry", params(PractitionerQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<PractitionerOut>), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn list_practitioners(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiQuery(q): ApiQuery<PractitionerQuery>,
) -> Result<Json<Page<PractitionerOut>>, ApiError> {
    require(&u, Permission::ViewRegistry)?;
    let filter = PractitionerFilter {
        kind: code_param(
            "kind",
            q.kind.as_deref(),
            PractitionerKind::parse,
            PractitionerKind::expected,
        )?,
        institution_code: text_param(q.institution_code),
        id_number: text_param(q.id_number).map(|n| hc_core::idcard::normalize(&n)),
        name: text_param(q.name),
    };
    let p = s
        .store
        .practitioners(&filter, page(q.after.as_deref(), q.limit)?, u.0.scope())
        .await?;
    Ok(Json(Page::from_paged(p, |r| {
        PractitionerOut::new(r, false)
    })))
}

/// Registers a practitioner.
#[utoipa::path(post, path = "/api/v1/practitioners", tag = "registry", request_body = PractitionerInput, security(("bearer" = [])),
    responses((status = 201, body = PractitionerOut), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_practitioner(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiJson(input): ApiJson<PractitionerInput>,
) -> Result<impl IntoResponse, ApiError> {
    let stored =
        hc_app::registry::create_practitioner(&s.store, &u.0, input.into_domain()?).await?;
    Ok(created(
        format!("/api/v1/practitioners/{}", stored.id),
        PractitionerOut::new(stored, false),
    ))
}

/// Reads a practitioner.
#[utoipa::path(get, path = "/api/v1/practitioners/{id}", tag = "registry", params(("id" = i64, Path, description = "Practitioner id")),
    security(("bearer" = [])), responses((status = 200, body = PractitionerOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_practitioner(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<PractitionerOut>, ApiError> {
    Ok(Json(PractitionerOut::new(
        hc_app::registry::practitioner(&s.store, &u.0, id).await?,
        false,
    )))
}

/// Replaces a practitioner.
#[utoipa::path(put, path = "/api/v1/practitioners/{id}", tag = "registry", params(("id" = i64, Path, description = "Practitioner id")),
    request_body = PractitionerInput, security(("bearer" = [])),
    responses((status = 200, body = PractitionerOut), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update_practitioner(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<PractitionerInput>,
) -> Result<Json<PractitionerOut>, ApiError> {
    let stored =
        hc_app::registry::update_practitioner(&s.store, &u.0, id, input.into_domain()?).await?;
    Ok(Json(PractitionerOut::new(stored, false)))
}

// -- residents ----------------------------------------------------------------------------------

/// Filters of the resident list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResidentQuery {
    /// Living in the subtree of this org-unit code.
    pub under: Option<String>,
    /// Exact identity number (the fast path: a unique-index lookup).
    pub id_number: Option<String>,
    /// Name starts with.
    pub name: Option<String>,
    /// `M` or `F`.
    #[param(pattern = "^(|M|F)$")]
    pub sex: Option<String>,
    /// Born on or after (YYYY-MM-DD; January 1 for roles that do not see identities).
    pub born_from: Option<NaiveDate>,
    /// Born on or before (YYYY-MM-DD; December 31 for roles that do not see identities).
    pub born_to: Option<NaiveDate>,
    /// `registered` or `resident`.
    #[param(pattern = "^(|registered|resident)$")]
    pub residence: Option<String>,
    /// Cursor from the previous page's `next`.
    #[param(pattern = "^[0-9]*$")]
    pub after: Option<String>,
    /// Page size, 1-1000 (default 50). An empty filter value counts as absent.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// Lists or searches residents within the caller's jurisdiction. Names, identity numbers and
/// phones are always masked here; the full record is `GET /residents/{id}`.
#[utoipa::path(get, path = "/api/v1/residents", tag = "registry", params(ResidentQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<ResidentOut>), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn list_residents(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiQuery(q): ApiQuery<ResidentQuery>,
) -> Result<Json<Page<ResidentOut>>, ApiError> {
    require(&u, Permission::ViewResidents)?;
    whole_year("born_from", q.born_from, 1, 1, &u)?;
    whole_year("born_to", q.born_to, 12, 31, &u)?;
    let filter = ResidentFilter {
        under: text_param(q.under),
        id_number: text_param(q.id_number).map(|n| hc_core::idcard::normalize(&n)),
        name: text_param(q.name),
        sex: code_param("sex", q.sex.as_deref(), Sex::parse, Sex::expected)?,
        born_from: q.born_from,
        born_to: q.born_to,
        residence: code_param(
            "residence",
            q.residence.as_deref(),
            Residence::parse,
            Residence::expected,
        )?,
    };
    let p = hc_app::registry::search_residents(
        &s.store,
        &u.0,
        &filter,
        page(q.after.as_deref(), q.limit)?,
    )
    .await?;
    Ok(Json(Page::from_paged(p, |r| ResidentOut::new(r, false))))
}

/// Registers a resident: one person, one record.
#[utoipa::path(post, path = "/api/v1/residents", tag = "registry", request_body = ResidentInput, security(("bearer" = [])),
    responses((status = 201, body = ResidentOut), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_resident(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiJson(input): ApiJson<ResidentInput>,
) -> Result<impl IntoResponse, ApiError> {
    let stored =
        hc_app::registry::create_resident(&s.store, &u.0, input.into_domain(hc_app::today())?)
            .await?;
    Ok(created(
        format!("/api/v1/residents/{}", stored.id),
        ResidentOut::new(stored, false),
    ))
}

/// Reads a resident's record. Roles that see identities (CDC analysts, institution staff,
/// family doctors) get it in clear, and the read is audited; others get it masked. Outside the
/// caller's jurisdiction the record is not found, unless the caller broke the glass for it.
#[utoipa::path(get, path = "/api/v1/residents/{id}", tag = "registry", params(("id" = i64, Path, description = "Resident id")),
    security(("bearer" = [])), responses((status = 200, body = ResidentOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_resident(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ResidentOut>, ApiError> {
    let view = hc_app::registry::resident(&s.store, &u.0, id).await?;
    Ok(Json(ResidentOut::new(view.resident, view.full)))
}

/// Replaces a resident.
#[utoipa::path(put, path = "/api/v1/residents/{id}", tag = "registry", params(("id" = i64, Path, description = "Resident id")),
    request_body = ResidentInput, security(("bearer" = [])),
    responses((status = 200, body = ResidentOut), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update_resident(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ResidentInput>,
) -> Result<Json<ResidentOut>, ApiError> {
    let stored =
        hc_app::registry::update_resident(&s.store, &u.0, id, input.into_domain(hc_app::today())?)
            .await?;
    Ok(Json(ResidentOut::new(stored, true)))
}
