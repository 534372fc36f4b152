//! Login, logout and the current account.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;

use super::{ApiJson, LoginInput, LoginOut, UserOut};
use crate::auth::{CurrentUser, session_cookie, session_token};
use crate::error::Problem;
use crate::{ApiError, AppState};

/// Opens a session; the token is returned and also set as the session cookie.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginInput,
    responses((status = 200, body = LoginOut), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<LoginInput>,
) -> Result<impl IntoResponse, ApiError> {
    let (token, user) =
        hc_app::accounts::login(&state.store, &input.username, &input.password).await?;
    let cookie = session_cookie(Some(&token), state.config.secure_cookies);
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(LoginOut {
            token,
            user: user.into(),
        }),
    ))
}

/// Ends the caller's session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn logout(
    State(state): State<AppState>,
    _user: CurrentUser,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    if let Some(token) = session_token(&headers) {
        state.sessions.forget(token);
        hc_app::accounts::logout(&state.store, token).await?;
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(
            header::SET_COOKIE,
            session_cookie(None, state.config.secure_cookies),
        )],
    ))
}

/// The signed-in account.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserOut), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn me(CurrentUser(user): CurrentUser) -> Json<UserOut> {
    Json(user.into())
}
