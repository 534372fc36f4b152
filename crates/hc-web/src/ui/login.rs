//! Logging in and out, and switching the language.

use askama::Template;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::UiError;
use super::{fmt, page};
use crate::auth::{CurrentUser, session_cookie, session_token};
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
    next: String,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    ctx: Ctx,
    username: String,
    next: String,
    error: Option<String>,
}

/// Where to go after logging in: `next` when it is a local path, else the overview.
fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| fmt::is_local_path(n) && !n.starts_with("/login"))
        .unwrap_or("/")
        .to_owned()
}

/// `GET /login`: the form; a signed-in visitor goes straight on.
pub async fn form(
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
    page::html(
        StatusCode::OK,
        &LoginPage {
            ctx,
            username: String::new(),
            next,
            error: None,
        },
    )
}

/// `POST /login`: checks the credentials, sets the session cookie and goes to `next`.
pub async fn submit(
    State(state): State<AppState>,
    lang: Lang,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let ctx = Ctx::new(lang, None, "/login");
    let Ok(Form(form)) = form else {
        let error = Some(ctx.t("login.malformed").to_owned());
        return page::html(
            StatusCode::BAD_REQUEST,
            &LoginPage {
                ctx,
                username: String::new(),
                next: "/".to_owned(),
                error,
            },
        );
    };
    let next = safe_next(Some(&form.next));
    match hc_app::accounts::login(&state.store, form.username.trim(), &form.password).await {
        Ok((token, _user)) => page::redirect_with(
            &next,
            Some(&session_cookie(Some(&token), state.config.secure_cookies)),
        ),
        Err(hc_app::AppError::Unauthorized) => {
            let error = Some(ctx.t("login.failed").to_owned());
            page::html(
                StatusCode::UNAUTHORIZED,
                &LoginPage {
                    ctx,
                    username: form.username,
                    next,
                    error,
                },
            )
        }
        Err(e) => UiError::from(e).render(&ctx),
    }
}

/// `POST /logout`: ends the session, clears the cookie and goes to the login page.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = session_token(&headers) {
        state.sessions.forget(token);
        if let Err(e) = hc_app::accounts::logout(&state.store, token).await {
            tracing::warn!(error = %e, "ending a session failed");
        }
    }
    page::redirect_with(
        "/login",
        Some(&session_cookie(None, state.config.secure_cookies)),
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
