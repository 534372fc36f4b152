//! Who is calling: a session token from the `hc_session` cookie (browsers), or a session or
//! API token in an `Authorization: Bearer` header (systems and scripts); and the CSRF token
//! every browser form carries.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use hc_app::audit::Caller;
use hc_core::access::Principal;
use sha2::{Digest, Sha256};

use crate::{ApiError, AppState};

/// How long a verified session is trusted without asking the database again. Logging out
/// through this server takes effect at once; disabling an account elsewhere (the CLI), within
/// this time.
const SESSION_CACHE_SECONDS: u64 = 10;
const SESSION_CACHE_MAX: usize = 10_000;

/// Sessions verified in the last few seconds, by token hash.
#[derive(Default)]
pub struct SessionCache {
    map: std::sync::Mutex<std::collections::HashMap<String, (Principal, std::time::Instant)>>,
}

impl SessionCache {
    fn get(&self, key: &str) -> Option<Principal> {
        let map = self.map.lock().ok()?;
        let (user, at) = map.get(key)?;
        (at.elapsed().as_secs() < SESSION_CACHE_SECONDS).then(|| user.clone())
    }

    fn put(&self, key: String, user: Principal) {
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

    /// Forgets every verified session and token, so a revocation or a disabled account takes
    /// effect at once on this server.
    pub fn clear(&self) {
        if let Ok(mut map) = self.map.lock() {
            map.clear();
        }
    }

    /// Forgets a session (on logout or password change).
    pub fn forget(&self, token: &str) {
        if let Ok(mut map) = self.map.lock() {
            map.remove(&hc_app::accounts::token_hash(token));
        }
    }
}

/// The principal of `token`, from the cache or the database.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Principal, hc_app::AppError> {
    let key = hc_app::accounts::token_hash(token);
    if let Some(user) = state.sessions.get(&key) {
        return Ok(user);
    }
    let user = hc_app::accounts::authenticate(&state.store, &state.config.policy, token).await?;
    state.sessions.put(key, user.clone());
    Ok(user)
}

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "hc_session";

/// The authenticated caller of the request; extracting it refuses anonymous calls with 401,
/// and an account that must change its password with 403 (except where it changes it).
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Caller);

impl CurrentUser {
    /// The principal.
    pub fn principal(&self) -> &Principal {
        &self.0.principal
    }
}

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

/// The bearer token of the `Authorization` header, if any.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
}

/// The session token the request carries, if any.
pub fn session_token(headers: &HeaderMap) -> Option<&str> {
    bearer(headers).or_else(|| cookie(headers, SESSION_COOKIE))
}

/// The `Set-Cookie` value that stores `token` (or, with `None`, clears it). The cookie lives
/// as long as the absolute session timeout; the idle timeout is enforced on the server.
pub fn session_cookie(token: Option<&str>, secure: bool, max_age_seconds: i64) -> String {
    let secure = if secure { "; Secure" } else { "" };
    match token {
        Some(t) => format!(
            "{SESSION_COOKIE}={t}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_seconds}{secure}"
        ),
        None => format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    }
}

/// The CSRF token of a session: derived from the session's secret, which page scripts cannot
/// read (the cookie is HttpOnly), so a form on another site cannot know it.
pub fn csrf_token(session_token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"healthcity csrf v1\0");
    h.update(session_token.as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// Whether `sent` is the CSRF token of the session in `headers` (constant time).
pub fn csrf_ok(headers: &HeaderMap, sent: &str) -> bool {
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return false;
    };
    let want = csrf_token(token);
    want.len() == sent.len()
        && want
            .bytes()
            .zip(sent.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The client's address as the server saw it.
pub fn client_addr(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip().to_string())
}

/// Paths an account that must change its password may still use.
fn allowed_before_password_change(path: &str) -> bool {
    // Inside the nested API router the `/api/v1` prefix is already stripped.
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    matches!(path, "/auth/password" | "/auth/logout" | "/auth/me")
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = session_token(&parts.headers).ok_or_else(ApiError::unauthorized)?;
        let principal = authenticate(state, token).await?;
        // A browser session's cookie rides along on cross-site requests; API writes from a
        // browser must carry the CSRF token in a header. Bearer callers are not browsers.
        if bearer(&parts.headers).is_none()
            && !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS)
        {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !csrf_ok(&parts.headers, sent) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "Forbidden",
                    "a cookie-authenticated write needs the X-CSRF-Token header",
                ));
            }
        }
        if principal.must_change_password && !allowed_before_password_change(parts.uri.path()) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "Password change required",
                "change the password first: POST /api/v1/auth/password",
            ));
        }
        Ok(CurrentUser(Caller {
            principal,
            client_addr: client_addr(parts),
        }))
    }
}

impl FromRequestParts<AppState> for Option<CurrentUser> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(token) = session_token(&parts.headers) else {
            return Ok(None);
        };
        match authenticate(state, token).await {
            Ok(principal) => Ok(Some(CurrentUser(Caller {
                principal,
                client_addr: client_addr(parts),
            }))),
            Err(hc_app::AppError::Unauthorized) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// The client's address, when the server knows it (not in tests that call the router
/// directly).
#[derive(Debug, Clone)]
pub struct ClientAddr(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(client_addr(parts)))
    }
}
