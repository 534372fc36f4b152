//! `GET /audit`: the audit trail for auditors, filtered and newest first, 100 events a page;
//! `POST /audit/{id}/review`: marks a flagged event as reviewed, with a note.

use askama::Template;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::NaiveDate;
use hc_core::access::Permission;
use hc_store::{AuditFilter, AuditRow};
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::UiError;
use super::fmt::{self, DASH, int};
use super::page;
use super::shared::{self, SelectOpt};
use crate::AppState;

/// Events per page.
const PER_PAGE: usize = 100;

/// The actions the filter offers (`hc_app::audit::Event` codes).
const ACTIONS: [&str; 13] = [
    "login",
    "login_failed",
    "logout",
    "read",
    "list",
    "search",
    "export",
    "create",
    "update",
    "import",
    "break_glass",
    "permission_change",
    "review",
];

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    actor: Option<String>,
    resident_id: Option<String>,
    action: Option<String>,
    from: Option<String>,
    to: Option<String>,
    unreviewed: Option<String>,
    before: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReviewForm {
    csrf: String,
    note: String,
}

/// A row of the table.
struct Row {
    id: i64,
    at: String,
    actor: String,
    actor_kind: String,
    role: String,
    action: String,
    entity: String,
    entity_id: String,
    detail: String,
    resident_id: String,
    resident_href: String,
    purpose: String,
    client_addr: String,
    outcome: String,
    outcome_ok: bool,
    flagged: bool,
    reviewed: bool,
    review: String,
    /// Show the review form (flagged, not reviewed, and the caller may review).
    can_review: bool,
    /// Label of the review note field.
    note_label: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    ctx: Ctx,
    actor: String,
    resident_id: String,
    actions: Vec<SelectOpt>,
    from: String,
    to: String,
    unreviewed: bool,
    criteria: String,
    rows: Vec<Row>,
    shown: String,
    older_href: String,
    newest_href: String,
}

/// Epoch seconds as `YYYY-MM-DD HH:MM:SS` in China Standard Time.
pub fn cst_time(t: i64) -> String {
    let cst = chrono::FixedOffset::east_opt(8 * 3600);
    match (chrono::DateTime::from_timestamp(t, 0), cst) {
        (Some(d), Some(tz)) => d.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string(),
        _ => t.to_string(),
    }
}

/// The label of `code` in `section`, or the code itself when the catalogue has none.
pub fn label_or_code(ctx: &Ctx, section: &str, code: &str) -> String {
    let key = format!("{section}.{code}");
    let text = ctx.t(&key);
    if text == key {
        code.to_owned()
    } else {
        text.to_owned()
    }
}

/// Epoch seconds of midnight CST starting `d`.
fn day_start(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp() - 8 * 3600)
}

/// A positive id: 400 otherwise.
fn positive(field: &'static str, v: &Option<String>) -> Result<Option<i64>, UiError> {
    v.as_deref()
        .map(|s| {
            s.parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| UiError::bad(field, s))
        })
        .transpose()
}

/// `GET /audit`.
pub async fn list(
    ctx: Ctx,
    State(state): State<AppState>,
    q: Result<Query<AuditQuery>, QueryRejection>,
) -> Response {
    if !ctx.can(Permission::ReadAudit) {
        return UiError::Forbidden.render(&ctx);
    }
    match build(&ctx, &state, q).await {
        Ok(p) => page::html(StatusCode::OK, &p),
        Err(e) => e.render(&ctx),
    }
}

async fn build(
    ctx: &Ctx,
    state: &AppState,
    q: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<AuditPage, UiError> {
    let Query(q) = q?;
    let actor = shared::opt(q.actor);
    let resident_id = positive("resident_id", &shared::opt(q.resident_id))?;
    let action = shared::opt(q.action);
    if let Some(a) = action.as_deref().filter(|a| !ACTIONS.contains(a)) {
        return Err(UiError::bad("action", a));
    }
    let from = shared::date("from", &shared::opt(q.from))?;
    let to = shared::date("to", &shared::opt(q.to))?;
    let unreviewed = shared::yes_no("unreviewed", &shared::opt(q.unreviewed))?.unwrap_or(false);
    let before = positive("before", &shared::opt(q.before))?;

    let filter = AuditFilter {
        actor: actor.clone(),
        resident_id,
        action: action.clone(),
        from: from.map(day_start),
        to: to.and_then(|d| d.succ_opt()).map(day_start),
        unreviewed,
        before,
        // One more than a page, to know whether there is an older one.
        limit: PER_PAGE as u32 + 1,
    };
    let mut events = hc_app::audit::query(&state.store, ctx.caller()?, filter).await?;
    let more = events.len() > PER_PAGE;
    events.truncate(PER_PAGE);
    let can_review = ctx.can(Permission::ReviewAudit);
    let rows: Vec<Row> = events.iter().map(|e| row(ctx, e, can_review)).collect();

    let mut criteria = Vec::new();
    if let Some(a) = &actor {
        criteria.push(ctx.tf("audit.by_actor", &[("actor", a)]));
    }
    if let Some(r) = resident_id {
        criteria.push(ctx.tf("audit.by_resident", &[("id", &r.to_string())]));
    }
    if let Some(a) = &action {
        criteria.push(ctx.tf(
            "audit.by_action",
            &[("action", &label_or_code(ctx, "action", a))],
        ));
    }
    if let Some(d) = from {
        criteria.push(ctx.tf("audit.by_from", &[("date", &d.to_string())]));
    }
    if let Some(d) = to {
        criteria.push(ctx.tf("audit.by_to", &[("date", &d.to_string())]));
    }
    if unreviewed {
        criteria.push(ctx.t("audit.by_unreviewed").to_owned());
    }
    let criteria = if criteria.is_empty() {
        ctx.t("audit.no_criteria").to_owned()
    } else {
        criteria.join(ctx.t("common.list_sep"))
    };

    let (from_s, to_s) = (
        from.map(|d| d.to_string()).unwrap_or_default(),
        to.map(|d| d.to_string()).unwrap_or_default(),
    );
    let resident_s = resident_id.map(|r| r.to_string()).unwrap_or_default();
    let filters = |before: &str| {
        fmt::query(&[
            ("actor", actor.as_deref().unwrap_or("")),
            ("resident_id", &resident_s),
            ("action", action.as_deref().unwrap_or("")),
            ("from", &from_s),
            ("to", &to_s),
            ("unreviewed", if unreviewed { "1" } else { "" }),
            ("before", before),
        ])
    };
    let older_href = match rows.last() {
        Some(last) if more => format!("/audit{}", filters(&last.id.to_string())),
        _ => String::new(),
    };
    let newest_href = if before.is_some() {
        format!("/audit{}", filters(""))
    } else {
        String::new()
    };
    let shown = if before.is_some() {
        ctx.tf("common.shown_more", &[("n", &int(rows.len() as i64))])
    } else {
        ctx.tf("common.shown", &[("n", &int(rows.len() as i64))])
    };

    let mut actions = vec![SelectOpt {
        value: String::new(),
        label: ctx.t("common.all").to_owned(),
        selected: action.is_none(),
    }];
    actions.extend(ACTIONS.iter().map(|a| SelectOpt {
        value: (*a).to_owned(),
        label: label_or_code(ctx, "action", a),
        selected: action.as_deref() == Some(*a),
    }));

    Ok(AuditPage {
        ctx: ctx.clone(),
        actor: actor.unwrap_or_default(),
        resident_id: resident_s,
        actions,
        from: from_s,
        to: to_s,
        unreviewed,
        criteria,
        rows,
        shown,
        older_href,
        newest_href,
    })
}

fn or_dash(v: Option<&str>) -> String {
    v.filter(|s| !s.is_empty()).unwrap_or(DASH).to_owned()
}

fn row(ctx: &Ctx, e: &AuditRow, can_review: bool) -> Row {
    let reviewed = e.reviewer.is_some();
    let review = match &e.reviewer {
        Some(who) => ctx.tf(
            "audit.reviewed_by",
            &[
                ("who", who),
                ("at", &e.reviewed_at.map(cst_time).unwrap_or_default()),
                ("note", e.review_note.as_deref().unwrap_or("")),
            ],
        ),
        None => String::new(),
    };
    Row {
        id: e.id,
        at: cst_time(e.at),
        actor: e.actor.clone(),
        actor_kind: label_or_code(ctx, "actor_kind", &e.actor_kind),
        role: e
            .role
            .as_deref()
            .map_or_else(|| DASH.to_owned(), |r| label_or_code(ctx, "role", r)),
        action: label_or_code(ctx, "action", &e.action),
        entity: label_or_code(ctx, "entity", &e.entity),
        entity_id: e.entity_id.clone().unwrap_or_default(),
        detail: e.detail.clone().unwrap_or_default(),
        resident_id: e
            .resident_id
            .map_or_else(|| DASH.to_owned(), |r| r.to_string()),
        resident_href: e
            .resident_id
            .map(|r| format!("/audit?resident_id={r}"))
            .unwrap_or_default(),
        purpose: or_dash(e.purpose.as_deref()),
        client_addr: or_dash(e.client_addr.as_deref()),
        outcome: label_or_code(ctx, "outcome", &e.outcome),
        outcome_ok: e.outcome == "ok",
        flagged: e.flagged,
        reviewed,
        review,
        can_review: can_review && e.flagged && !reviewed,
        note_label: ctx.tf("audit.note_for", &[("id", &e.id.to_string())]),
    }
}

/// `POST /audit/{id}/review`: checks the session's CSRF token, records the review and goes
/// back to the events still awaiting one.
pub async fn review(
    ctx: Ctx,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<ReviewForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return UiError::bad("form", "").render(&ctx);
    };
    let caller = match ctx.poster(&headers, &form.csrf, Some(Permission::ReviewAudit)) {
        Ok(c) => c,
        Err(e) => return e.render(&ctx),
    };
    let Some(n) = id.parse::<i64>().ok().filter(|n| *n > 0) else {
        return UiError::bad("id", &id).render(&ctx);
    };
    match hc_app::audit::review(&state.store, caller, n, &form.note).await {
        Ok(()) => page::redirect("/audit?unreviewed=1"),
        Err(hc_app::AppError::Invalid(_)) => UiError::bad("note", form.note.trim()).render(&ctx),
        Err(hc_app::AppError::Conflict(_)) => UiError::bad("id", &id).render(&ctx),
        Err(hc_app::AppError::NotFound(_)) => UiError::NotFound {
            what: "what.record",
            code: id,
        }
        .render(&ctx),
        Err(e) => UiError::from(e).render(&ctx),
    }
}
