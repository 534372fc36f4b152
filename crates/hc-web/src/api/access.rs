//! Accounts, API tokens, the audit trail, break-the-glass, and a resident's own record.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::NaiveDate;
use hc_core::access::Permission;
use serde::Deserialize;
use utoipa::IntoParams;

use super::*;
use crate::auth::CurrentUser;
use crate::error::Problem;
use crate::{ApiError, AppState};

// -- accounts -----------------------------------------------------------------------------------

/// Lists accounts (administrators).
#[utoipa::path(get, path = "/api/v1/users", tag = "access", security(("bearer" = [])),
    responses((status = 200, body = Vec<AccountOut>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_users(
    State(s): State<AppState>,
    u: CurrentUser,
) -> Result<Json<Vec<AccountOut>>, ApiError> {
    u.0.require(Permission::ManageAccounts)?;
    Ok(Json(
        s.store.users().await?.into_iter().map(Into::into).collect(),
    ))
}

/// Creates an account with a one-time password (administrators). Audited.
#[utoipa::path(post, path = "/api/v1/users", tag = "access", request_body = UserInput, security(("bearer" = [])),
    responses((status = 201, body = UserCreatedOut), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_user(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiJson(input): ApiJson<UserInput>,
) -> Result<impl IntoResponse, ApiError> {
    let created = hc_app::accounts::create_user(
        &s.store,
        &s.config.policy,
        &u.0,
        hc_app::accounts::NewAccount {
            username: input.username.clone(),
            display_name: input.display_name,
            password: None,
            role: input.role,
            scope_orgunit: input.scope_orgunit,
            scope_institution: input.scope_institution,
            resident_id: input.resident_id,
            practitioner_id: input.practitioner_id,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(UserCreatedOut {
            id: created.id,
            one_time_password: created.one_time_password,
            totp_uri: created.totp_uri,
        }),
    ))
}

/// What to do to an account.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserAction {
    /// Login name.
    pub username: String,
    /// `disable`, `enable` or `reset-password`.
    pub action: String,
}

/// The one-time password of a reset account.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ResetOut {
    /// Give it to the person; it must be changed at the next login.
    pub one_time_password: Option<String>,
}

/// Disables, enables, or resets the password of an account (administrators). Audited.
#[utoipa::path(post, path = "/api/v1/users/{username}/{action}", tag = "access", params(UserAction), security(("bearer" = [])),
    responses((status = 200, body = ResetOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn user_action(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiPath(p): ApiPath<UserAction>,
) -> Result<Json<ResetOut>, ApiError> {
    let one_time_password = match p.action.as_str() {
        "disable" => {
            if p.username == u.principal().name {
                return Err(ApiError::bad_field(
                    "username",
                    "you cannot disable your own account",
                ));
            }
            hc_app::accounts::set_disabled(&s.store, &u.0, &p.username, true).await?;
            None
        }
        "enable" => {
            hc_app::accounts::set_disabled(&s.store, &u.0, &p.username, false).await?;
            None
        }
        "reset-password" => {
            Some(hc_app::accounts::reset_password(&s.store, &u.0, &p.username).await?)
        }
        other => {
            return Err(ApiError::bad_field(
                "action",
                format!("unknown action {other:?}; expected disable|enable|reset-password"),
            ));
        }
    };
    s.sessions.clear();
    Ok(Json(ResetOut { one_time_password }))
}

// -- tokens -------------------------------------------------------------------------------------

/// Lists API tokens (administrators); secrets are never shown again.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "access", security(("bearer" = [])),
    responses((status = 200, body = Vec<TokenOut>)))]
pub async fn list_tokens(
    State(s): State<AppState>,
    u: CurrentUser,
) -> Result<Json<Vec<TokenOut>>, ApiError> {
    u.0.require(Permission::ManageAccounts)?;
    Ok(Json(
        s.store
            .tokens()
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Creates an API token for a system (administrators); the secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "access", request_body = TokenInput, security(("bearer" = [])),
    responses((status = 201, body = TokenCreatedOut), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_token(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiJson(input): ApiJson<TokenInput>,
) -> Result<impl IntoResponse, ApiError> {
    let (token, row) = hc_app::accounts::create_token(
        &s.store,
        &u.0,
        hc_app::accounts::NewApiToken {
            name: input.name,
            role: input.role,
            scope_orgunit: input.scope_orgunit,
            scope_institution: input.scope_institution,
            expires_days: input.expires_days,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(TokenCreatedOut {
            token,
            info: row.into(),
        }),
    ))
}

/// Revokes an API token by id or name (administrators). Audited.
#[utoipa::path(delete, path = "/api/v1/tokens/{token}", tag = "access", params(("token" = String, Path, description = "Token id or name")),
    security(("bearer" = [])), responses((status = 200, body = TokenOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_token(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiPath(token): ApiPath<String>,
) -> Result<Json<TokenOut>, ApiError> {
    let revoked = hc_app::accounts::revoke_token(&s.store, &u.0, &token).await?;
    s.sessions.clear();
    Ok(Json(revoked.into()))
}

// -- audit --------------------------------------------------------------------------------------

/// Filters of the audit trail.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Username (or `token:NAME`).
    pub actor: Option<String>,
    /// Resident id.
    pub resident_id: Option<i64>,
    /// Action: login, login_failed, logout, read, search, export, create, update, import,
    /// break_glass, permission_change, review.
    pub action: Option<String>,
    /// From this day (China Standard Time), inclusive.
    pub from: Option<NaiveDate>,
    /// To this day, inclusive.
    pub to: Option<NaiveDate>,
    /// Only flagged events not yet reviewed.
    pub unreviewed: Option<bool>,
    /// Events older than this id (the next page).
    pub before: Option<i64>,
    /// Page size, 1-1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// Epoch seconds of midnight CST starting `d`.
pub(crate) fn day_start(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp() - 8 * 3600)
}

/// Queries the audit trail, newest first (auditors). The query itself is audited.
#[utoipa::path(get, path = "/api/v1/audit", tag = "access", params(AuditQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<AuditOut>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn audit(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<AuditOut>>, ApiError> {
    let filter = hc_store::AuditFilter {
        actor: q.actor.filter(|a| !a.trim().is_empty()),
        resident_id: q.resident_id,
        action: q.action.filter(|a| !a.trim().is_empty()),
        from: q.from.map(day_start),
        to: q.to.and_then(|d| d.succ_opt()).map(day_start),
        unreviewed: q.unreviewed.unwrap_or(false),
        before: q.before,
        limit: q.limit.unwrap_or(100),
    };
    let rows = hc_app::audit::query(&s.store, &u.0, filter).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// Marks a flagged event as reviewed (auditors). Audited.
#[utoipa::path(post, path = "/api/v1/audit/{id}/review", tag = "access", params(("id" = i64, Path, description = "Event id")),
    request_body = ReviewInput, security(("bearer" = [])),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn review(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> Result<StatusCode, ApiError> {
    hc_app::audit::review(&s.store, &u.0, id, &input.note).await?;
    Ok(StatusCode::NO_CONTENT)
}

// -- break-the-glass ----------------------------------------------------------------------------

/// Opens a record outside the caller's jurisdiction for an emergency (family doctors and
/// institution staff), for a limited time. The reason is recorded and the event flagged for
/// an auditor's review.
#[utoipa::path(post, path = "/api/v1/residents/{id}/break-glass", tag = "access", params(("id" = i64, Path, description = "Resident id")),
    request_body = BreakGlassInput, security(("bearer" = [])),
    responses((status = 200, body = BreakGlassOut), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn break_glass(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<BreakGlassInput>,
) -> Result<Json<BreakGlassOut>, ApiError> {
    let expires =
        hc_app::registry::break_glass(&s.store, &u.0, &s.config.policy, id, &input.reason).await?;
    Ok(Json(BreakGlassOut {
        resident_id: id,
        expires_at: rfc3339(expires),
    }))
}

// -- a resident's own record --------------------------------------------------------------------

/// The caller's own record (resident accounts).
#[utoipa::path(get, path = "/api/v1/me/record", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = ResidentOut), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn my_record(
    State(s): State<AppState>,
    u: CurrentUser,
) -> Result<Json<ResidentOut>, ApiError> {
    u.0.require(Permission::OwnRecord)?;
    let id =
        u.0.scope()
            .resident
            .ok_or_else(|| ApiError::not_found("record"))?;
    let view = hc_app::registry::resident(&s.store, &u.0, id).await?;
    Ok(Json(ResidentOut::new(view.resident, true)))
}

/// Who looked at or changed the caller's record, newest first (PIPL art. 45).
#[utoipa::path(get, path = "/api/v1/me/access-log", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = Vec<AuditOut>)))]
pub async fn my_access_log(
    State(s): State<AppState>,
    u: CurrentUser,
) -> Result<Json<Vec<AuditOut>>, ApiError> {
    let rows = hc_app::audit::own_access_log(&s.store, &u.0, None, 200).await?;
    // Who, when, why: not the staff's network addresses, nor auditors' notes.
    Ok(Json(
        rows.into_iter()
            .map(|r| AuditOut {
                client_addr: None,
                reviewed_by: None,
                review_note: None,
                ..r.into()
            })
            .collect(),
    ))
}

/// The caller's record as a JSON file to keep or take elsewhere (PIPL art. 45). Audited.
#[utoipa::path(get, path = "/api/v1/me/export", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = ResidentOut)))]
pub async fn my_export(
    State(s): State<AppState>,
    u: CurrentUser,
) -> Result<impl IntoResponse, ApiError> {
    let r = hc_app::registry::export_own(&s.store, &u.0).await?;
    Ok((
        [
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"my-health-record.json\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Json(ResidentOut::new(r, true)),
    ))
}
