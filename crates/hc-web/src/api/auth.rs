//! Login, logout, password change and the current account.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use hc_app::accounts::LoginFailure;

use super::{ApiJson, LoginInput, LoginOut, PasswordInput, UserOut};
use crate::auth::{ClientAddr, CurrentUser, session_cookie, session_token};
use crate::error::Problem;
use crate::{ApiError, AppState};

/// Opens a session; the token is returned and also set as the session cookie. Five failed
/// logins in a row lock the account for 30 minutes (configurable); administrators also send a
/// TOTP code. Every failure answers the same 401, except a right password without a required
/// code, which says that a code is needed.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginInput,
    responses((status = 200, body = LoginOut), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    ApiJson(input): ApiJson<LoginInput>,
) -> Result<impl IntoResponse, ApiError> {
    if input.username.len() > 64 || input.password.chars().count() > 128 {
        return Err(ApiError::unauthorized());
    }
    let policy = &state.config.policy;
    let outcome = hc_app::accounts::login(
        &state.store,
        policy,
        &input.username,
        &input.password,
        input.totp.as_deref(),
        addr.as_deref(),
    )
    .await?;
    match outcome {
        Ok(ok) => {
            let cookie = session_cookie(
                Some(&ok.token),
                state.config.secure_cookies,
                i64::from(policy.absolute_hours) * 3600,
            );
            Ok((
                [(header::SET_COOKIE, cookie)],
                Json(LoginOut {
                    token: ok.token,
                    user: ok.principal.into(),
                }),
            ))
        }
        Err(LoginFailure::TotpRequired) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "TOTP code required",
            "this account needs a TOTP code from its authenticator app: send `totp`",
        )),
        Err(LoginFailure::Refused) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "wrong username or password, or the account is locked or disabled",
        )),
    }
}

/// Ends the caller's session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn logout(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    if let Some(token) = session_token(&headers) {
        state.sessions.forget(token);
        hc_app::accounts::logout(&state.store, &user.0, token).await?;
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(
            header::SET_COOKIE,
            session_cookie(None, state.config.secure_cookies, 0),
        )],
    ))
}

/// Changes the caller's own password; every session of the account ends, this one included.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = PasswordInput, security(("bearer" = [])),
    responses((status = 204), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(input): ApiJson<PasswordInput>,
) -> Result<impl IntoResponse, ApiError> {
    if user.principal().user_id.is_none() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "API tokens have no password",
        ));
    }
    hc_app::accounts::change_password(
        &state.store,
        &state.config.policy,
        &user.0,
        &input.current,
        &input.password,
    )
    .await?;
    // Every session of the account ended in the database; forget every verified one here.
    state.sessions.clear();
    Ok((
        StatusCode::NO_CONTENT,
        [(
            header::SET_COOKIE,
            session_cookie(None, state.config.secure_cookies, 0),
        )],
    ))
}

/// The signed-in account or token.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserOut), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn me(user: CurrentUser) -> Json<UserOut> {
    Json(user.0.principal.into())
}
