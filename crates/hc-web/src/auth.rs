//! Who is calling: a session token from the `hc_session` cookie (browsers) or an
//! `Authorization: Bearer` header (systems and scripts).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use hc_store::SessionUser;

use crate::{ApiError, AppState};

/// How long a verified session is trusted without asking the database again. Logging out
/// through this server takes effect at once; disabling an account elsewhere (the CLI), within
/// this time.
const SESSION_CACHE_SECONDS: u64 = 10;
const SESSION_CACHE_MAX: usize = 10_000;

/// Sessions verified in the last few seconds, by token hash.
#[derive(Default)]
pub struct SessionCache {
    map: std::sync::Mutex<std::collections::HashMap<String, (SessionUser, std::time::Instant)>>,
}

impl SessionCache {
    fn get(&self, key: &str) -> Option<SessionUser> {
        let map = self.map.lock().ok()?;
        let (user, at) = map.get(key)?;
        (at.elapsed().as_secs() < SESSION_CACHE_SECONDS).then(|| user.clone())
    }

    fn put(&self, key: String, user: SessionUser) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= SESSION_CACHE_MAX {
                map.retain(|_, (_, at)| at.elapsed().as_secs() < SESSION_CACHE_SECONDS);
                if map.len() >= SESSION_CACHE_MAX {
                    map.clear();
                }
            }
            map.insert(key, (user, std::time::Instant::now()));
        }
    }

    /// Forgets a session (on logout).
    pub fn forget(&self, token: &str) {
        if let Ok(mut map) = self.map.lock() {
            map.remove(&hc_app::accounts::token_hash(token));
        }
    }
}

/// The account of `token`, from the cache or the database.
pub async fn authenticate(state: &AppState, token: &str) -> Result<SessionUser, hc_app::AppError> {
    let key = hc_app::accounts::token_hash(token);
    if let Some(user) = state.sessions.get(&key) {
        return Ok(user);
    }
    let user = hc_app::accounts::authenticate(&state.store, token).await?;
    state.sessions.put(key, user.clone());
    Ok(user)
}

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "hc_session";

/// The authenticated account of the request; extracting it refuses anonymous calls with 401.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub SessionUser);

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The session token the request carries, if any.
pub fn session_token(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    bearer.or_else(|| cookie(headers, SESSION_COOKIE))
}

/// The `Set-Cookie` value that stores `token` (or, with `None`, clears it).
pub fn session_cookie(token: Option<&str>, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    match token {
        Some(t) => format!(
            "{SESSION_COOKIE}={t}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            hc_app::accounts::SESSION_SECONDS
        ),
        None => format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = session_token(&parts.headers).ok_or_else(ApiError::unauthorized)?;
        Ok(CurrentUser(
            hc_app::accounts::authenticate(&state.store, token).await?,
        ))
    }
}

impl FromRequestParts<AppState> for Option<CurrentUser> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(token) = session_token(&parts.headers) else {
            return Ok(None);
        };
        match authenticate(state, token).await {
            Ok(u) => Ok(Some(CurrentUser(u))),
            Err(hc_app::AppError::Unauthorized) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}
