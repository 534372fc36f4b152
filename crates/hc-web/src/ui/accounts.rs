//! `GET /admin/accounts`: accounts and API tokens for administrators, with the form that
//! creates an account; `POST /admin/accounts` creates one, `POST /admin/accounts/{username}/{action}`
//! disables, enables (and unlocks) or resets the password of one, and
//! `POST /admin/tokens/{name}/revoke` revokes a token. A generated one-time password (and a
//! new administrator's TOTP enrolment URI) is shown once, in the answer to the POST, and never
//! again. Every change goes through `hc_app::accounts` (audited) and empties the session cache,
//! so a disabled account or revoked token stops working at once.

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use hc_app::AppError;
use hc_core::access::{Permission, Role, Scope};
use hc_store::{TokenRow, UserRow};
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::UiError;
use super::fmt::{self, DASH, int};
use super::page;
use super::shared::{self, SelectOpt};
use crate::AppState;

/// Where the page lives (and where the actions come back to).
const HOME: &str = "/admin/accounts";

/// The fields of the new-account form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewForm {
    csrf: String,
    username: String,
    display_name: String,
    role: String,
    scope_orgunit: String,
    scope_institution: String,
    resident_id: String,
    practitioner_id: String,
}

/// The forms that carry nothing but the CSRF token.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ActionForm {
    csrf: String,
}

/// An account in the table.
struct UserLine {
    username: String,
    display_name: String,
    role: String,
    scope: String,
    status: String,
    /// `ok`, `warn` or `bad`: the colour of the status tag.
    status_kind: &'static str,
    totp: String,
    last_login: String,
    /// `/admin/accounts/{username}`, to which the actions are appended.
    action_base: String,
    disabled: bool,
    locked: bool,
    /// The signed-in administrator's own account (it cannot be disabled here).
    is_self: bool,
}

/// An API token in the table.
struct TokenLine {
    name: String,
    role: String,
    scope: String,
    created_by: String,
    created_at: String,
    status: String,
    status_kind: &'static str,
    expires: String,
    last_used: String,
    /// `/admin/tokens/{name}/revoke`; empty unless the token is live.
    revoke_href: String,
}

/// What is shown once after creating an account or resetting a password.
struct Secret {
    heading: String,
    username: String,
    password: String,
    totp_uri: String,
}

/// The values of the new-account form, kept when it is shown again with errors.
#[derive(Default)]
struct Values {
    username: String,
    display_name: String,
    scope_orgunit: String,
    scope_institution: String,
    resident_id: String,
    practitioner_id: String,
}

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    ctx: Ctx,
    /// Messages of a refused change, shown in an alert.
    errors: Vec<String>,
    /// A one-time password to hand over.
    secret: Option<Secret>,
    users: Vec<UserLine>,
    users_shown: String,
    tokens: Vec<TokenLine>,
    tokens_shown: String,
    roles: Vec<SelectOpt>,
    values: Values,
}

/// Now, in epoch seconds.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Epoch seconds in China Standard Time, formatted with `pattern`.
fn cst(t: i64, pattern: &str) -> String {
    let tz = chrono::FixedOffset::east_opt(8 * 3600);
    match (chrono::DateTime::from_timestamp(t, 0), tz) {
        (Some(d), Some(tz)) => d.with_timezone(&tz).format(pattern).to_string(),
        _ => t.to_string(),
    }
}

/// `YYYY-MM-DD HH:MM` in CST, or a dash.
fn when(t: Option<i64>) -> String {
    t.map_or_else(|| DASH.to_owned(), |t| cst(t, "%Y-%m-%d %H:%M"))
}

/// A path segment: every byte but the unreserved ones percent-encoded.
fn segment(s: &str) -> String {
    fmt::enc(s).replace('/', "%2F")
}

/// A scope in the page's words.
fn scope_words(ctx: &Ctx, scope: &Scope) -> String {
    let mut parts = Vec::new();
    if let Some(o) = &scope.orgunit {
        parts.push(ctx.tf("accounts.scope_orgunit", &[("code", o)]));
    }
    if let Some(i) = &scope.institution {
        parts.push(ctx.tf("accounts.scope_institution", &[("code", i)]));
    }
    if let Some(r) = scope.resident {
        parts.push(ctx.tf("accounts.scope_resident", &[("id", &r.to_string())]));
    }
    if parts.is_empty() {
        ctx.t("accounts.scope_city").to_owned()
    } else {
        parts.join(ctx.t("common.list_sep"))
    }
}

/// The label of a role code, or the code itself when it is not one (edited by hand).
fn role_label(ctx: &Ctx, code: &str) -> String {
    if Role::parse(code).is_some() {
        ctx.label("role", code)
    } else {
        code.to_owned()
    }
}

fn user_line(ctx: &Ctx, u: &UserRow, me: &str, now: i64) -> UserLine {
    let locked_until = u.locked_until.filter(|t| *t > now);
    let (status, status_kind) = if u.disabled {
        (ctx.t("accounts.disabled").to_owned(), "bad")
    } else if let Some(t) = locked_until {
        (
            ctx.tf("accounts.locked_until", &[("time", &cst(t, "%H:%M"))]),
            "warn",
        )
    } else {
        (ctx.t("accounts.active").to_owned(), "ok")
    };
    UserLine {
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        role: role_label(ctx, &u.role),
        scope: scope_words(ctx, &hc_app::accounts::scope_of(u)),
        status,
        status_kind,
        totp: ctx.yes_no(u.totp_secret.is_some()),
        last_login: when(u.last_login_at),
        action_base: format!("{HOME}/{}", segment(&u.username)),
        disabled: u.disabled,
        locked: locked_until.is_some(),
        is_self: u.username == me,
    }
}

fn token_line(ctx: &Ctx, t: &TokenRow, now: i64) -> TokenLine {
    let (status, status_kind, live) = if t.revoked_at.is_some() {
        (ctx.t("accounts.revoked").to_owned(), "bad", false)
    } else if t.expires_at.is_some_and(|e| e <= now) {
        (ctx.t("accounts.expired").to_owned(), "muted", false)
    } else {
        (ctx.t("accounts.live").to_owned(), "ok", true)
    };
    let scope = Scope {
        orgunit: t.scope_orgunit.clone(),
        institution: t.scope_institution.clone(),
        resident: None,
        practitioner: None,
    };
    TokenLine {
        name: t.name.clone(),
        role: role_label(ctx, &t.role),
        scope: scope_words(ctx, &scope),
        created_by: t.created_by.clone(),
        created_at: when(Some(t.created_at)),
        status,
        status_kind,
        expires: t
            .expires_at
            .map_or_else(|| ctx.t("accounts.never").to_owned(), |e| when(Some(e))),
        last_used: when(t.last_used_at),
        revoke_href: if live {
            format!("/admin/tokens/{}/revoke", segment(&t.name))
        } else {
            String::new()
        },
    }
}

/// The page with the current accounts and tokens; the form holds `values` and `role`.
async fn build(
    ctx: &Ctx,
    state: &AppState,
    values: Values,
    role: &str,
) -> Result<AccountsPage, UiError> {
    let me = ctx.caller()?.principal.name.clone();
    let now = now();
    let users: Vec<UserLine> = state
        .store
        .users()
        .await?
        .iter()
        .map(|u| user_line(ctx, u, &me, now))
        .collect();
    let tokens: Vec<TokenLine> = state
        .store
        .tokens()
        .await?
        .iter()
        .map(|t| token_line(ctx, t, now))
        .collect();
    let mut roles = vec![SelectOpt {
        value: String::new(),
        label: ctx.t("accounts.choose_role").to_owned(),
        selected: role.is_empty(),
    }];
    roles.extend(Role::ALL.iter().map(|r| SelectOpt {
        value: r.as_str().to_owned(),
        label: ctx.label("role", r.as_str()),
        selected: r.as_str() == role,
    }));
    Ok(AccountsPage {
        ctx: ctx.clone(),
        errors: Vec::new(),
        secret: None,
        users_shown: ctx.tf("common.shown", &[("n", &int(users.len() as i64))]),
        users,
        tokens_shown: ctx.tf("common.shown", &[("n", &int(tokens.len() as i64))]),
        tokens,
        roles,
        values,
    })
}

/// The page with `status`, or the error page.
fn respond(ctx: &Ctx, status: StatusCode, p: Result<AccountsPage, UiError>) -> Response {
    match p {
        Ok(p) => page::html(status, &p),
        Err(e) => e.render(ctx),
    }
}

/// The page again with `errors` in an alert.
async fn refused(
    ctx: &Ctx,
    state: &AppState,
    status: StatusCode,
    errors: Vec<String>,
    values: Values,
    role: &str,
) -> Response {
    let p = build(ctx, state, values, role).await.map(|mut p| {
        p.errors = errors;
        p
    });
    respond(ctx, status, p)
}

/// The page with a one-time password to hand over.
async fn reveal(ctx: &Ctx, state: &AppState, secret: Secret) -> Response {
    let p = build(ctx, state, Values::default(), "").await.map(|mut p| {
        p.secret = Some(secret);
        p
    });
    respond(ctx, StatusCode::OK, p)
}

/// The context of a POST, as if on the page itself (for the language switch).
fn on_page(ctx: Ctx) -> Ctx {
    Ctx {
        path: HOME.to_owned(),
        ..ctx
    }
}

/// `GET /admin/accounts`.
pub async fn list(ctx: Ctx, State(state): State<AppState>) -> Response {
    if !ctx.can(Permission::ManageAccounts) {
        return UiError::Forbidden.render(&ctx);
    }
    let p = build(&ctx, &state, Values::default(), "").await;
    respond(&ctx, StatusCode::OK, p)
}

/// `POST /admin/accounts`: checks the CSRF token and creates the account; shows its one-time
/// password once, or the form again with what hc-app refused.
pub async fn create(
    ctx: Ctx,
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<NewForm>, FormRejection>,
) -> Response {
    let ctx = on_page(ctx);
    let Ok(Form(form)) = form else {
        return UiError::bad("form", "").render(&ctx);
    };
    let caller = match ctx.poster(&headers, &form.csrf, Some(Permission::ManageAccounts)) {
        Ok(c) => c,
        Err(e) => return e.render(&ctx),
    };
    let role = form.role.trim().to_owned();
    let values = Values {
        username: form.username.trim().to_owned(),
        display_name: form.display_name.trim().to_owned(),
        scope_orgunit: form.scope_orgunit.trim().to_owned(),
        scope_institution: form.scope_institution.trim().to_owned(),
        resident_id: form.resident_id.trim().to_owned(),
        practitioner_id: form.practitioner_id.trim().to_owned(),
    };
    let ids = record_id(&values.practitioner_id)
        .map_err(|v| ctx.tf("accounts.err_practitioner_id", &[("value", &v)]))
        .and_then(|p| {
            record_id(&values.resident_id)
                .map(|r| (p, r))
                .map_err(|v| ctx.tf("accounts.err_resident_id", &[("value", &v)]))
        });
    let (practitioner_id, resident_id) = match ids {
        Ok(ids) => ids,
        Err(msg) => {
            return refused(
                &ctx,
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                vec![msg],
                values,
                &role,
            )
            .await;
        }
    };
    let account = hc_app::accounts::NewAccount {
        username: values.username.clone(),
        display_name: values.display_name.clone(),
        password: None,
        role: role.clone(),
        scope_orgunit: shared::opt(Some(values.scope_orgunit.clone())),
        scope_institution: shared::opt(Some(values.scope_institution.clone())),
        resident_id,
        practitioner_id,
    };
    match hc_app::accounts::create_user(&state.store, &state.config.policy, caller, account).await {
        Ok(created) => {
            state.sessions.clear();
            let secret = Secret {
                heading: ctx.tf("accounts.created", &[("username", &values.username)]),
                username: values.username,
                password: created.one_time_password.unwrap_or_default(),
                totp_uri: created.totp_uri.unwrap_or_default(),
            };
            reveal(&ctx, &state, secret).await
        }
        Err(AppError::Invalid(errs)) => {
            let errors = errs.iter().map(ToString::to_string).collect();
            refused(
                &ctx,
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
                values,
                &role,
            )
            .await
        }
        Err(AppError::Conflict(e)) => {
            refused(
                &ctx,
                &state,
                StatusCode::CONFLICT,
                vec![e.to_string()],
                values,
                &role,
            )
            .await
        }
        Err(e) => UiError::from(e).render(&ctx),
    }
}

/// `POST /admin/accounts/{username}/{action}`: `disable`, `enable` (which also unlocks) or
/// `reset-password` (which shows the new one-time password once).
pub async fn act(
    ctx: Ctx,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((username, action)): Path<(String, String)>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let ctx = on_page(ctx);
    let Ok(Form(form)) = form else {
        return UiError::bad("form", "").render(&ctx);
    };
    let caller = match ctx.poster(&headers, &form.csrf, Some(Permission::ManageAccounts)) {
        Ok(c) => c,
        Err(e) => return e.render(&ctx),
    };
    let store = &state.store;
    let done = match action.as_str() {
        "disable" if username == caller.principal.name => {
            let msg = ctx.t("accounts.err_self").to_owned();
            return refused(
                &ctx,
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                vec![msg],
                Values::default(),
                "",
            )
            .await;
        }
        "disable" => hc_app::accounts::set_disabled(store, caller, &username, true)
            .await
            .map(|()| None),
        "enable" => hc_app::accounts::set_disabled(store, caller, &username, false)
            .await
            .map(|()| None),
        "reset-password" => hc_app::accounts::reset_password(store, caller, &username)
            .await
            .map(Some),
        other => return UiError::bad("action", other).render(&ctx),
    };
    match done {
        Ok(password) => {
            state.sessions.clear();
            match password {
                Some(password) => {
                    let secret = Secret {
                        heading: ctx.tf("accounts.reset_done", &[("username", &username)]),
                        username,
                        password,
                        totp_uri: String::new(),
                    };
                    reveal(&ctx, &state, secret).await
                }
                None => page::redirect(HOME),
            }
        }
        Err(AppError::NotFound(_)) => UiError::NotFound {
            what: "what.record",
            code: username,
        }
        .render(&ctx),
        Err(e) => UiError::from(e).render(&ctx),
    }
}

/// `POST /admin/tokens/{name}/revoke`.
pub async fn revoke(
    ctx: Ctx,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let ctx = on_page(ctx);
    let Ok(Form(form)) = form else {
        return UiError::bad("form", "").render(&ctx);
    };
    let caller = match ctx.poster(&headers, &form.csrf, Some(Permission::ManageAccounts)) {
        Ok(c) => c,
        Err(e) => return e.render(&ctx),
    };
    match hc_app::accounts::revoke_token(&state.store, caller, &name).await {
        Ok(_) => {
            state.sessions.clear();
            page::redirect(HOME)
        }
        Err(AppError::NotFound(_)) => UiError::NotFound {
            what: "what.record",
            code: name,
        }
        .render(&ctx),
        Err(e) => UiError::from(e).render(&ctx),
    }
}

/// An optional record number typed in a form: empty is none; anything but a positive number
/// comes back as the error, trimmed.
fn record_id(raw: &str) -> Result<Option<i64>, String> {
    match shared::opt(Some(raw.to_owned())) {
        None => Ok(None),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => Err(s),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_in_china_standard_time_and_segments_are_encoded() {
        // 2024-01-01 00:00 UTC is 08:00 in Beijing.
        assert_eq!(when(Some(1_704_067_200)), "2024-01-01 08:00");
        assert_eq!(when(None), DASH);
        assert_eq!(segment("a/b c"), "a%2Fb%20c");
        assert_eq!(segment("dr.li-1_x"), "dr.li-1_x");
    }
}
