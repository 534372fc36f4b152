//! Logging in and out, and switching the language.

use askama::Template;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use hc_app::accounts::LoginFailure;
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::UiError;
use super::{fmt, page};
use crate::auth::{ClientAddr, CurrentUser, session_cookie, session_token};
use crate::i18n::{LANG_COOKIE, Lang};
use crate::{ApiError, AppState};

#[derive(Debug, Default, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    username: String,
    password: String,
    totp: String,
    next: String,
    csrf: String,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    ctx: Ctx,
    username: String,
    next: String,
    error: Option<String>,
    /// Show the TOTP field as required (the password was right, a code is missing).
    need_totp: bool,
    /// The login form's own CSRF token (there is no session yet).
    login_csrf: String,
}

/// Cookie holding the login form's CSRF token: a form posted from another site cannot know
/// it, so nobody can be logged in to an account of someone else's choosing.
const LOGIN_CSRF_COOKIE: &str = "hc_login_csrf";

fn login_csrf_cookie(token: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{LOGIN_CSRF_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600{secure}"
    )
}

/// Renders the login page with a fresh login CSRF token and its cookie.
fn login_page(state: &AppState, status: StatusCode, mut page: LoginPage) -> Response {
    let token = hex::encode(rand::random::<[u8; 16]>());
    page.login_csrf = token.clone();
    let mut res = page::html(status, &page);
    if let Ok(v) = login_csrf_cookie(&token, state.config.secure_cookies).parse() {
        res.headers_mut().append(axum::http::header::SET_COOKIE, v);
    }
    res
}

/// Where to go after logging in: `next` when it is a local path, else the overview.
fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| fmt::is_local_path(n) && !n.starts_with("/login"))
        .unwrap_or("/")
        .to_owned()
}

/// `GET /login`: the form; a signed-in visitor goes straight on.
pub async fn form(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    user: Result<Option<CurrentUser>, ApiError>,
    q: Result<Query<NextQuery>, QueryRejection>,
) -> Response {
    let next = safe_next(q.as_ref().ok().and_then(|Query(q)| q.next.as_deref()));
    if let Ok(Some(_)) = user {
        return page::redirect(&next);
    }
    let ctx = Ctx::new(
        lang,
        None,
        uri.path_and_query().map_or("/login", |p| p.as_str()),
    );
    login_page(
        &state,
        StatusCode::OK,
        LoginPage {
            ctx,
            username: String::new(),
            next,
            error: None,
            need_totp: false,
            login_csrf: String::new(),
        },
    )
}

/// `POST /login`: checks the login CSRF token and the credentials (and a TOTP code where
/// the account needs one), sets the session cookie and goes to `next`.
pub async fn submit(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    ClientAddr(addr): ClientAddr,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let ctx = Ctx::new(lang, None, "/login");
    let blank = |ctx: Ctx, error: String| LoginPage {
        ctx,
        username: String::new(),
        next: "/".to_owned(),
        error: Some(error),
        need_totp: false,
        login_csrf: String::new(),
    };
    let Ok(Form(form)) = form else {
        let error = ctx.t("login.malformed").to_owned();
        return login_page(&state, StatusCode::BAD_REQUEST, blank(ctx, error));
    };
    let csrf_cookie = crate::auth::cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if csrf_cookie.is_empty() || csrf_cookie != form.csrf {
        let error = ctx.t("login.expired").to_owned();
        return login_page(&state, StatusCode::FORBIDDEN, blank(ctx, error));
    }
    let next = safe_next(Some(&form.next));
    let policy = &state.config.policy;
    let totp = Some(form.totp.as_str()).filter(|t| !t.trim().is_empty());
    let outcome = hc_app::accounts::login(
        &state.store,
        policy,
        form.username.trim(),
        &form.password,
        totp,
        addr.as_deref(),
    )
    .await;
    match outcome {
        Ok(Ok(ok)) => page::redirect_with(
            &next,
            Some(&session_cookie(
                Some(&ok.token),
                state.config.secure_cookies,
                i64::from(policy.absolute_hours) * 3600,
            )),
        ),
        Ok(Err(failure)) => {
            let need_totp = failure == LoginFailure::TotpRequired;
            let error = ctx
                .t(if need_totp {
                    "login.need_totp"
                } else {
                    "login.failed"
                })
                .to_owned();
            login_page(
                &state,
                StatusCode::UNAUTHORIZED,
                LoginPage {
                    ctx,
                    username: form.username,
                    next,
                    error: Some(error),
                    need_totp,
                    login_csrf: String::new(),
                },
            )
        }
        Err(e) => UiError::from(e).render(&ctx),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /logout`: ends the session, clears the cookie and goes to the login page. Without
/// the session's CSRF token nothing happens (another site cannot log the user out).
pub async fn logout(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    headers: HeaderMap,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let sent = form.map(|Form(f)| f.csrf).unwrap_or_default();
    if !crate::auth::csrf_ok(&headers, &sent) {
        return page::redirect("/");
    }
    if let (Some(token), Some(user)) = (session_token(&headers), user) {
        state.sessions.forget(token);
        if let Err(e) = hc_app::accounts::logout(&state.store, &user.0, token).await {
            tracing::warn!(error = %e, "ending a session failed");
        }
    }
    page::redirect_with(
        "/login",
        Some(&session_cookie(None, state.config.secure_cookies, 0)),
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct BackQuery {
    back: Option<String>,
}

/// `GET /lang/{zh|en}?back=/path`: remembers the locale for a year and goes back.
pub async fn switch(
    Path(code): Path<String>,
    lang: Lang,
    uri: Uri,
    q: Result<Query<BackQuery>, QueryRejection>,
) -> Response {
    if !matches!(code.as_str(), "zh" | "en") {
        let ctx = Ctx::new(lang, None, uri.path());
        return UiError::NotFound {
            what: "what.language",
            code,
        }
        .render(&ctx);
    }
    let back = q
        .as_ref()
        .ok()
        .and_then(|Query(q)| q.back.as_deref())
        .filter(|b| fmt::is_local_path(b))
        .unwrap_or("/");
    let cookie = format!("{LANG_COOKIE}={code}; Path=/; Max-Age=31536000; SameSite=Lax");
    page::redirect_with(back, Some(&cookie))
}
