//! `GET /surveillance/signals/{id}`: a signal with what explains it (method, parameters,
//! engine version, baseline, threshold, alarm days), its events, the masked line list of the
//! records behind it (audited), its workflow history and the verification form;
//! `GET /surveillance/events/{id}`: an event with its signals, the fusion's explanation and
//! the form; `POST /surveillance/{signals,events}/{id}/actions`: an action of the workflow.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use hc_app::workflow::{self, Action, ActionInput, Outcome, Stage, Target};
use hc_core::access::Permission;
use hc_store::Store;
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::UiError;
use super::fmt::{DASH, dec, int};
use super::page;
use super::shared::{Fact, Link, SelectOpt};
use super::surveillance::{
    EventItem, SignalItem, area_names, event_item, name_of, opt_dec, require, signal_item,
};
use crate::AppState;

/// A row of the workflow history.
struct HistoryRow {
    at: String,
    who: String,
    action: String,
    status: String,
    note: String,
}

/// A masked record of the line list.
struct LineRow {
    day: String,
    community: String,
    source: String,
    record_ref: String,
    sex: String,
    age: String,
    counts: String,
    facts: String,
}

/// An alarm day.
struct DayRow {
    day: String,
    observed: String,
    expected: String,
    threshold: String,
    score: String,
}

/// The verification form and the history beside it.
struct Workflow {
    action: String,
    history: Vec<HistoryRow>,
    /// The history could not be read (the workflow is not available).
    unavailable: bool,
    can_act: bool,
    stages: Vec<SelectOpt>,
    outcomes: Vec<SelectOpt>,
}

#[derive(Template)]
#[template(path = "surveillance_signal.html")]
struct SignalPage {
    ctx: Ctx,
    crumbs: Vec<Link>,
    heading: String,
    alert: String,
    alert_label: String,
    facts: Vec<Fact>,
    baseline: String,
    detail: String,
    days: Vec<DayRow>,
    events: Vec<EventItem>,
    stream_href: String,
    line_list: bool,
    lines: Vec<LineRow>,
    lines_note: String,
    wf: Workflow,
}

#[derive(Template)]
#[template(path = "surveillance_event.html")]
struct EventPage {
    ctx: Ctx,
    crumbs: Vec<Link>,
    heading: String,
    alert: String,
    alert_label: String,
    facts: Vec<Fact>,
    contributions: Vec<(String, String)>,
    explanation: String,
    signals: Vec<SignalItem>,
    wf: Workflow,
}

fn parse_id(id: &str) -> Result<i64, UiError> {
    id.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| UiError::bad("id", id))
}

fn not_found(what: &'static str, id: &str) -> impl FnOnce(hc_app::AppError) -> UiError {
    let code = id.to_owned();
    move |e| match e {
        hc_app::AppError::NotFound(_) => UiError::NotFound { what, code },
        other => other.into(),
    }
}

fn crumbs(ctx: &Ctx, last: String) -> Vec<Link> {
    vec![
        Link {
            href: "/surveillance".into(),
            text: ctx.t("nav.surveillance").to_owned(),
        },
        Link {
            href: String::new(),
            text: last,
        },
    ]
}

/// The history and the form of `target`; a history that cannot be read leaves the page
/// standing with a notice.
async fn workflow_of(ctx: &Ctx, store: &Store, target: Target) -> Result<Workflow, UiError> {
    let (history, unavailable) = match workflow::history(store, ctx.caller()?, target).await {
        Ok(rows) => (
            rows.into_iter()
                .map(|r| HistoryRow {
                    at: chrono::DateTime::from_timestamp(r.at, 0)
                        .map(|t| {
                            (t + chrono::Duration::hours(8))
                                .format("%Y-%m-%d %H:%M")
                                .to_string()
                        })
                        .unwrap_or_else(|| DASH.to_owned()),
                    who: r.username,
                    action: ctx.label("surv_action", &r.action),
                    status: [
                        r.status.map(|s| ctx.label("surv_stage", &s)),
                        r.outcome.map(|o| ctx.label("surv_outcome", &o)),
                        r.assigned_to
                            .map(|a| ctx.tf("surv.assigned_to", &[("who", &a)])),
                    ]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(ctx.t("common.list_sep")),
                    note: r.note,
                })
                .collect(),
            false,
        ),
        Err(hc_app::AppError::NotFound(_)) => (Vec::new(), false),
        Err(e) => {
            tracing::warn!(error = %e, "the workflow history is not available");
            (Vec::new(), true)
        }
    };
    let action = match target {
        Target::Signal(id) => format!("/surveillance/signals/{id}/actions"),
        Target::Event(id) => format!("/surveillance/events/{id}/actions"),
    };
    let stages = [
        Stage::Assigned,
        Stage::PreliminaryCheck,
        Stage::FieldInvestigation,
    ]
    .into_iter()
    .map(|s| SelectOpt {
        value: s.as_str().to_owned(),
        label: ctx.label("surv_stage", s.as_str()),
        selected: false,
    })
    .collect();
    let outcomes = [
        Outcome::FalseAlarm,
        Outcome::SuspectedOutbreak,
        Outcome::ConfirmedOutbreak,
    ]
    .into_iter()
    .map(|o| SelectOpt {
        value: o.as_str().to_owned(),
        label: ctx.label("surv_outcome", o.as_str()),
        selected: false,
    })
    .collect();
    Ok(Workflow {
        action,
        history,
        unavailable,
        can_act: ctx.can(Permission::VerifySignals),
        stages,
        outcomes,
    })
}

/// JSON shown as indented text.
fn pretty(v: &serde_json::Value) -> String {
    if v.is_null() {
        return DASH.to_owned();
    }
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

/// `GET /surveillance/signals/{id}`.
pub async fn signal(ctx: Ctx, State(state): State<AppState>, Path(id): Path<String>) -> Response {
    if let Err(e) = require(&ctx) {
        return e.render(&ctx);
    }
    match build_signal(&ctx, &state.store, &id).await {
        Ok(p) => page::html(StatusCode::OK, &p),
        Err(e) => e.render(&ctx),
    }
}

async fn build_signal(ctx: &Ctx, store: &Store, id: &str) -> Result<SignalPage, UiError> {
    let n = parse_id(id)?;
    let d = hc_app::surveillance_views::signal(store, ctx.caller()?, n)
        .await
        .map_err(not_found("what.signal", id))?;
    let names = area_names(store).await?;
    let item = signal_item(ctx, &names, &d.row);
    let r = &d.row;
    let heading = ctx.tf(
        "surv.signal_heading",
        &[
            ("id", &n.to_string()),
            ("feed", &item.feed),
            ("code", &r.code),
            ("area", &item.area),
        ],
    );
    let facts = vec![
        Fact::new(ctx, "surv.alert", item.alert_label.clone()),
        Fact::new(ctx, "surv.feed", item.feed.clone()),
        Fact::new(ctx, "surv.code", r.code.clone()),
        Fact::new(ctx, "surv.area", format!("{} ({})", item.area, item.level))
            .link(format!("/orgunits?code={}", r.area_code)),
        Fact::new(ctx, "surv.stream", r.stream.clone()).link(item.stream_href.clone()),
        Fact::new(
            ctx,
            "surv.period",
            format!("{} – {}", r.first_day, r.last_day),
        ),
        Fact::new(ctx, "surv.days", item.days.clone()),
        Fact::new(ctx, "surv.rule", r.rule.clone()),
        Fact::new(ctx, "surv.method", r.method.clone()),
        Fact::new(ctx, "surv.params", r.params.clone()),
        Fact::new(ctx, "surv.engine", r.engine_version.clone()),
        Fact::new(ctx, "surv.observed", item.observed.clone()),
        Fact::new(ctx, "surv.expected", item.expected.clone()),
        Fact::new(ctx, "surv.threshold", item.threshold.clone()),
        Fact::new(ctx, "surv.score", opt_dec(r.score)),
        Fact::new(
            ctx,
            "surv.peak",
            format!("{} ({})", r.peak_day, dec(r.peak_observed, 0)),
        ),
        Fact::new(ctx, "surv.status", item.status.clone()),
        Fact::new(
            ctx,
            "surv.assignee",
            r.assigned_to.clone().unwrap_or_else(|| DASH.to_owned()),
        ),
    ];
    let days = d
        .days
        .iter()
        .map(|x| DayRow {
            day: x.day.to_string(),
            observed: dec(x.observed, 0),
            expected: opt_dec(x.expected),
            threshold: opt_dec(x.threshold),
            score: opt_dec(x.score),
        })
        .collect();
    let events = d
        .events
        .iter()
        .map(|e| event_item(ctx, &names, e, None))
        .collect();
    let line_list = d.lines.is_some();
    let lines: Vec<LineRow> = d
        .lines
        .unwrap_or_default()
        .into_iter()
        .map(|l| LineRow {
            day: l.day.to_string(),
            community: name_of(&names, &l.community_code),
            source: l.source_code,
            record_ref: l.record_ref,
            sex: l.sex.map_or_else(
                || DASH.to_owned(),
                |s| match s.as_str() {
                    "M" | "F" => ctx.label("sex", &s),
                    other => other.to_owned(),
                },
            ),
            age: l.age_band.unwrap_or_else(|| DASH.to_owned()),
            counts: l.counts,
            facts: l
                .facts
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let lines_note = ctx.tf(
        "surv.lines_shown",
        &[
            ("n", &int(lines.len() as i64)),
            ("total", &int(d.lines_total)),
        ],
    );
    Ok(SignalPage {
        ctx: ctx.clone(),
        crumbs: crumbs(ctx, ctx.tf("surv.signal_n", &[("id", &n.to_string())])),
        heading,
        alert: r.alert.clone(),
        alert_label: item.alert_label.clone(),
        facts,
        baseline: pretty(&d.baseline),
        detail: pretty(&d.detail),
        days,
        events,
        stream_href: item.stream_href.clone(),
        line_list,
        lines,
        lines_note,
        wf: workflow_of(ctx, store, Target::Signal(n)).await?,
    })
}

/// `GET /surveillance/events/{id}`.
pub async fn event(ctx: Ctx, State(state): State<AppState>, Path(id): Path<String>) -> Response {
    if let Err(e) = require(&ctx) {
        return e.render(&ctx);
    }
    match build_event(&ctx, &state.store, &id).await {
        Ok(p) => page::html(StatusCode::OK, &p),
        Err(e) => e.render(&ctx),
    }
}

async fn build_event(ctx: &Ctx, store: &Store, id: &str) -> Result<EventPage, UiError> {
    let n = parse_id(id)?;
    let d = hc_app::surveillance_views::event(store, ctx.caller()?, n)
        .await
        .map_err(not_found("what.event", id))?;
    let names = area_names(store).await?;
    let item = event_item(ctx, &names, &d.row, Some(d.signals.len()));
    let r = &d.row;
    let facts = vec![
        Fact::new(ctx, "surv.alert", item.alert_label.clone()),
        Fact::new(ctx, "surv.fusion_rule", r.rule.clone()),
        Fact::new(
            ctx,
            "surv.area",
            format!("{} ({})", item.area, ctx.label("level", &r.level)),
        ),
        Fact::new(
            ctx,
            "surv.period",
            format!("{} – {}", r.first_day, r.last_day),
        ),
        Fact::new(ctx, "surv.score", item.score.clone()),
        Fact::new(ctx, "surv.sources", item.sources.clone()),
        Fact::new(ctx, "surv.status", item.status.clone()),
        Fact::new(
            ctx,
            "surv.assignee",
            r.assigned_to.clone().unwrap_or_else(|| DASH.to_owned()),
        ),
    ];
    // Per-source contributions, where the explanation lists them.
    let contributions = d
        .explanation
        .get("contributions")
        .or_else(|| d.explanation.get("sources"))
        .and_then(|c| c.as_object().cloned())
        .map(|m| {
            m.into_iter()
                .map(|(k, v)| (ctx.label("feed", &k), v.to_string()))
                .collect()
        })
        .unwrap_or_default();
    Ok(EventPage {
        ctx: ctx.clone(),
        crumbs: crumbs(ctx, ctx.tf("surv.event_n", &[("id", &n.to_string())])),
        heading: ctx.tf(
            "surv.event_heading",
            &[("id", &n.to_string()), ("area", &item.area)],
        ),
        alert: r.alert.clone(),
        alert_label: item.alert_label.clone(),
        facts,
        contributions,
        explanation: pretty(&d.explanation),
        signals: d
            .signals
            .iter()
            .map(|s| signal_item(ctx, &names, s))
            .collect(),
        wf: workflow_of(ctx, store, Target::Event(n)).await?,
    })
}

/// The verification form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ActionForm {
    csrf: String,
    action: String,
    to: String,
    stage: String,
    outcome: String,
    note: String,
}

fn action_of(form: &ActionForm) -> Result<Action, UiError> {
    match form.action.as_str() {
        "assign" => {
            let to = form.to.trim();
            if to.is_empty() || to.len() > 64 {
                return Err(UiError::bad("to", to));
            }
            Ok(Action::Assign { to: to.to_owned() })
        }
        "verify" => Stage::parse(&form.stage)
            .map(|stage| Action::Verify { stage })
            .ok_or_else(|| UiError::bad("stage", &form.stage)),
        "close" => Outcome::parse(&form.outcome)
            .map(|outcome| Action::Close { outcome })
            .ok_or_else(|| UiError::bad("outcome", &form.outcome)),
        "note" => Ok(Action::Note),
        other => Err(UiError::bad("action", other)),
    }
}

/// `POST /surveillance/signals/{id}/actions` and `/surveillance/events/{id}/actions`.
pub async fn act(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((kind, id)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    form: Result<axum::Form<ActionForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(axum::Form(form)) = form else {
        return UiError::bad("form", "").render(&ctx);
    };
    let caller = match ctx.poster(&headers, &form.csrf, Some(Permission::VerifySignals)) {
        Ok(c) => c,
        Err(e) => return e.render(&ctx),
    };
    let n = match parse_id(&id) {
        Ok(n) => n,
        Err(e) => return e.render(&ctx),
    };
    let (target, back, what) = match kind.as_str() {
        "signals" => (
            Target::Signal(n),
            format!("/surveillance/signals/{n}"),
            "what.signal",
        ),
        "events" => (
            Target::Event(n),
            format!("/surveillance/events/{n}"),
            "what.event",
        ),
        _ => {
            return UiError::NotFound {
                what: "what.record",
                code: String::new(),
            }
            .render(&ctx);
        }
    };
    let action = match action_of(&form) {
        Ok(a) => a,
        Err(e) => return e.render(&ctx),
    };
    let note: String = form.note.trim().chars().take(2000).collect();
    match workflow::act(&state.store, caller, target, ActionInput { action, note }).await {
        Ok(_) => page::redirect(&back),
        Err(hc_app::AppError::Invalid(errs)) => {
            let field = match errs.first().map(|e| e.field.as_str()) {
                Some("to") => "to",
                Some("stage") => "stage",
                Some("outcome") => "outcome",
                _ => "note",
            };
            UiError::bad(field, "").render(&ctx)
        }
        Err(hc_app::AppError::NotFound(_)) => UiError::NotFound {
            what,
            code: id.clone(),
        }
        .render(&ctx),
        Err(e) => UiError::from(e).render(&ctx),
    }
}
