//! `GET/POST /account/password`: changing one's own password. Accounts that must change
//! theirs (a new or reset account) are sent here by the [`Ctx`] extractor until they do.
//! A change ends every session of the account, so the user signs in again afterwards.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use hc_core::access::{PasswordProfile, SecurityPolicy};
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::UiError;
use super::page;
use crate::AppState;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    csrf: String,
    current: String,
    password: String,
    repeat: String,
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    ctx: Ctx,
    /// The account must change its password before anything else.
    forced: bool,
    /// The password rules of the active profile.
    profile: String,
    rules: Vec<String>,
    current_error: String,
    new_error: String,
    repeat_error: String,
    /// Any error, for the summary at the top.
    errors: Vec<String>,
}

impl PasswordPage {
    fn new(ctx: &Ctx, policy: &SecurityPolicy) -> PasswordPage {
        let forced = ctx
            .caller
            .as_ref()
            .is_some_and(|c| c.principal.must_change_password);
        let (profile, mut rules) = match policy.password_profile {
            PasswordProfile::Dengbao => (
                ctx.t("password.profile_dengbao").to_owned(),
                vec![
                    ctx.tf("password.rule_min", &[("n", "8")]),
                    ctx.t("password.rule_classes").to_owned(),
                ],
            ),
            PasswordProfile::Asvs => (
                ctx.t("password.profile_asvs").to_owned(),
                vec![
                    ctx.tf("password.rule_min", &[("n", "12")]),
                    ctx.t("password.rule_any_chars").to_owned(),
                ],
            ),
        };
        rules.push(ctx.t("password.rule_username").to_owned());
        rules.push(ctx.t("password.rule_common").to_owned());
        rules.push(match policy.password_max_age_days() {
            Some(days) => ctx.tf("password.rule_rotate", &[("days", &days.to_string())]),
            None => ctx.t("password.rule_no_rotate").to_owned(),
        });
        PasswordPage {
            ctx: ctx.clone(),
            forced,
            profile,
            rules,
            current_error: String::new(),
            new_error: String::new(),
            repeat_error: String::new(),
            errors: Vec::new(),
        }
    }

    /// The summary of the field errors set.
    fn summarise(mut self) -> PasswordPage {
        self.errors = [&self.current_error, &self.new_error, &self.repeat_error]
            .into_iter()
            .filter(|e| !e.is_empty())
            .cloned()
            .collect();
        self
    }
}

/// The first number in `s` (the length in "must be at least 12 characters").
fn number_in(s: &str) -> String {
    s.chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect()
}

/// A rule the new password breaks, in the page's language (`hc_core` words it in English).
fn new_password_problem(ctx: &Ctx, message: &str) -> String {
    let text = if message.contains("at least") && !message.contains("three") {
        ctx.tf("password.err_short", &[("n", &number_in(message))])
    } else if message.contains("at most") {
        ctx.tf("password.err_long", &[("n", &number_in(message))])
    } else if message.contains("common") {
        ctx.t("password.err_common").to_owned()
    } else if message.contains("username") {
        ctx.t("password.err_username").to_owned()
    } else if message.contains("three") {
        ctx.t("password.err_classes").to_owned()
    } else if message.contains("differ") {
        ctx.t("password.err_same").to_owned()
    } else {
        message.to_owned()
    };
    ctx.tf("password.err_new", &[("problem", &text)])
}

/// `GET /account/password`.
pub async fn form(ctx: Ctx, State(state): State<AppState>) -> Response {
    page::html(
        StatusCode::OK,
        &PasswordPage::new(&ctx, &state.config.policy),
    )
}

/// `POST /account/password`: checks the session's CSRF token, the repeat and the current
/// password, changes it, and signs the user out (the change has ended every session).
pub async fn submit(
    ctx: Ctx,
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<PasswordForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return UiError::bad("form", "").render(&ctx);
    };
    if !crate::auth::csrf_ok(&headers, &form.csrf) {
        return UiError::Forbidden.render(&ctx);
    }
    let policy = &state.config.policy;
    let mut page = PasswordPage::new(&ctx, policy);
    if form.password != form.repeat {
        page.repeat_error = ctx.t("password.err_repeat").to_owned();
        return page::html(StatusCode::UNPROCESSABLE_ENTITY, &page.summarise());
    }
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(e) => return e.render(&ctx),
    };
    match hc_app::accounts::change_password(
        &state.store,
        policy,
        caller,
        &form.current,
        &form.password,
    )
    .await
    {
        Ok(()) => {
            // Every session of the account ended; forget every verified one here.
            state.sessions.clear();
            page::redirect_with(
                "/login",
                Some(&crate::auth::session_cookie(
                    None,
                    state.config.secure_cookies,
                    0,
                )),
            )
        }
        Err(hc_app::AppError::Invalid(errors)) => {
            for e in errors {
                match e.field.as_str() {
                    "current" => page.current_error = ctx.t("password.err_current").to_owned(),
                    _ => page.new_error = new_password_problem(&ctx, &e.message),
                }
            }
            page::html(StatusCode::UNPROCESSABLE_ENTITY, &page.summarise())
        }
        Err(e) => UiError::from(e).render(&ctx),
    }
}

#[cfg(test)]
mod tests {
    use super::number_in;

    #[test]
    fn finds_the_length_in_a_rule() {
        assert_eq!(number_in("must be at least 12 characters"), "12");
        assert_eq!(number_in("is one of the most common passwords"), "");
    }
}
