//! The view context every page gets: locale, signed-in user, current path, navigation
//! section and today's date; and the extractor that sends anonymous visitors to the login page.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::Response;
use chrono::NaiveDate;

use hc_app::audit::Caller;
use hc_core::access::{Permission, Scope};

use super::error::UiError;
use super::fmt;
use crate::AppState;
use crate::auth::CurrentUser;
use crate::i18n::Lang;

/// Query parameters never carried into links built from the current URL: the locale override
/// (the switch sets a cookie instead) and identity numbers (never echoed into a page).
const DROPPED_PARAMS: [&str; 2] = ["lang", "id_number"];

/// The signed-in account as the header shows it.
#[derive(Debug, Clone)]
pub struct UserView {
    /// Display name.
    pub name: String,
    /// Role, translated.
    pub role: String,
}

/// A scope that sees nothing: what a page without a signed-in user queries with.
fn nothing() -> Scope {
    Scope {
        resident: Some(-1),
        ..Scope::default()
    }
}

/// What every template needs besides its own data.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Locale of the page.
    pub lang: Lang,
    /// The signed-in user; `None` on the login page.
    pub user: Option<UserView>,
    /// Path and query of the request, for the language switch.
    pub path: String,
    /// Section of the main navigation the page belongs to.
    pub nav: &'static str,
    /// Today in China Standard Time.
    pub today: NaiveDate,
    /// The signed-in caller, for use cases and the audit trail.
    pub caller: Option<Caller>,
    /// What the caller may see (nothing without a caller).
    pub scope: Scope,
    /// The CSRF token every form of the page carries.
    pub csrf: String,
    /// Unanswered open signals and events in the caller's jurisdiction (the header's badge),
    /// for roles that see surveillance; `None` otherwise or when they could not be counted.
    pub alerts: Option<usize>,
}

impl Ctx {
    /// A context for `path` in `lang`, with or without a user.
    pub fn new(lang: Lang, caller: Option<Caller>, path: &str) -> Ctx {
        let mut ctx = Ctx {
            lang,
            user: None,
            path: path.to_owned(),
            nav: nav_of(path),
            today: hc_app::today(),
            scope: caller
                .as_ref()
                .map_or_else(nothing, |c| c.principal.scope.clone()),
            caller: None,
            csrf: String::new(),
            alerts: None,
        };
        ctx.user = caller.as_ref().map(|c| UserView {
            name: c.principal.display_name.clone(),
            role: ctx.label("role", c.principal.role.as_str()),
        });
        ctx.caller = caller;
        ctx
    }

    /// Whether the signed-in caller has `p` (the navigation shows only what a role may use).
    pub fn can(&self, p: Permission) -> bool {
        self.caller.as_ref().is_some_and(|c| c.principal.can(p))
    }

    /// Navigation: the registry pages (overview, areas, institutions).
    pub fn nav_registry(&self) -> bool {
        self.can(Permission::ViewRegistry)
    }

    /// Navigation: the resident search.
    pub fn nav_residents(&self) -> bool {
        self.can(Permission::ViewResidents)
    }

    /// Navigation: the family-doctor teams and worklists.
    pub fn nav_care(&self) -> bool {
        self.can(Permission::ViewCare)
    }

    /// Navigation: the primary-care indicators.
    pub fn nav_indicators(&self) -> bool {
        self.can(Permission::ViewIndicators)
    }

    /// Navigation: the surveillance pages (signals, events, maps).
    pub fn nav_surveillance(&self) -> bool {
        self.can(Permission::ViewSurveillance)
    }

    /// The header's badge: how many signals and events wait for an answer, `99+` beyond.
    pub fn alerts_badge(&self) -> String {
        match self.alerts {
            Some(n) if n > super::surveillance::BADGE_LIMIT => {
                format!("{}+", super::surveillance::BADGE_LIMIT)
            }
            Some(n) => n.to_string(),
            None => String::new(),
        }
    }

    /// Navigation: the audit log.
    pub fn nav_audit(&self) -> bool {
        self.can(Permission::ReadAudit)
    }

    /// Navigation: accounts and API tokens (administrators).
    pub fn nav_accounts(&self) -> bool {
        self.can(Permission::ManageAccounts)
    }

    /// The break-the-glass form is offered.
    pub fn can_break_glass(&self) -> bool {
        self.can(Permission::BreakGlass)
    }

    /// Navigation: one's own record.
    pub fn nav_me(&self) -> bool {
        self.can(Permission::OwnRecord)
    }

    /// The caller who posted a form, once the form's CSRF token matches the session and the
    /// role has `needs` (if any): otherwise 403.
    pub fn poster(
        &self,
        headers: &axum::http::HeaderMap,
        csrf: &str,
        needs: Option<Permission>,
    ) -> Result<&Caller, UiError> {
        if !crate::auth::csrf_ok(headers, csrf) || needs.is_some_and(|p| !self.can(p)) {
            return Err(UiError::Forbidden);
        }
        self.caller()
    }

    /// The signed-in caller; pages behind the login always have one.
    pub fn caller(&self) -> Result<&Caller, UiError> {
        self.caller.as_ref().ok_or(UiError::Internal)
    }

    /// The message `key` in the page's locale.
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.lang.messages().get(key)
    }

    /// The message `key` with `{name}` placeholders replaced.
    pub fn tf(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut s = self.t(key).to_owned();
        for (name, value) in args {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }

    /// The label of a coded value: message `section.code` (e.g. `kind.hospital`).
    pub fn label(&self, section: &str, code: &str) -> String {
        let key = format!("{section}.{code}");
        self.lang.messages().get(&key).to_owned()
    }

    /// `yes` / `no`, translated.
    pub fn yes_no(&self, b: bool) -> String {
        (if b {
            self.t("common.yes")
        } else {
            self.t("common.no")
        })
        .to_owned()
    }

    /// The BCP 47 tag for `<html lang>`.
    pub fn lang_tag(&self) -> &'static str {
        self.lang.tag()
    }

    /// Whether the page is in English.
    pub fn is_en(&self) -> bool {
        self.lang == Lang::En
    }

    /// The link that switches the locale to `to` (`zh` or `en`) and comes back here.
    pub fn switch_href(&self, to: &str) -> String {
        format!(
            "/lang/{to}?back={}",
            fmt::enc(&fmt::without_params(&self.path, &DROPPED_PARAMS))
        )
    }

    /// Today as `YYYY-MM-DD`.
    pub fn today_str(&self) -> String {
        self.today.to_string()
    }
}

/// The navigation section of a path.
fn nav_of(path: &str) -> &'static str {
    let first = path
        .trim_start_matches('/')
        .split(['/', '?'])
        .next()
        .unwrap_or("");
    match first {
        "" => "overview",
        "orgunits" => "orgunits",
        "institutions" => "institutions",
        "residents" => "residents",
        "audit" => "audit",
        "care" => "care",
        "indicators" => "indicators",
        "surveillance" => "surveillance",
        "me" => "me",
        "account" => "account",
        "admin" => "admin",
        _ => "",
    }
}

/// The login URL that comes back to `path` afterwards.
pub fn login_url(path: &str) -> String {
    let back = fmt::without_params(path, &DROPPED_PARAMS);
    if back == "/" {
        "/login".to_owned()
    } else {
        format!("/login?next={}", fmt::enc(&back))
    }
}

/// Pages behind the login: anonymous visitors are redirected (303) to `/login?next=<path>`.
impl FromRequestParts<AppState> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let lang = match Lang::from_request_parts(parts, state).await {
            Ok(l) => l,
            Err(never) => match never {},
        };
        let path = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let csrf = crate::auth::cookie(&parts.headers, crate::auth::SESSION_COOKIE)
            .map(crate::auth::csrf_token)
            .unwrap_or_default();
        match Option::<CurrentUser>::from_request_parts(parts, state).await {
            Ok(Some(CurrentUser(caller))) => {
                let must_change = caller.principal.must_change_password;
                let mut ctx = Ctx::new(lang, Some(caller), &path);
                ctx.csrf = csrf;
                ctx.alerts = super::surveillance::unanswered(&ctx, &state.store).await;
                if must_change && !path.starts_with("/account/password") {
                    return Err(super::page::redirect("/account/password"));
                }
                Ok(ctx)
            }
            Ok(None) => Err(super::page::redirect(&login_url(&path))),
            Err(e) => {
                tracing::error!(status = %e.status(), "checking the session failed");
                Err(UiError::Internal.render(&Ctx::new(lang, None, &path)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_login_urls() {
        assert_eq!(nav_of("/"), "overview");
        assert_eq!(nav_of("/?under=440305"), "overview");
        assert_eq!(nav_of("/institutions/H1"), "institutions");
        assert_eq!(nav_of("/login"), "");
        assert_eq!(login_url("/"), "/login");
        assert_eq!(
            login_url("/residents?id_number=1&name=x"),
            "/login?next=/residents%3Fname%3Dx"
        );
    }
}
