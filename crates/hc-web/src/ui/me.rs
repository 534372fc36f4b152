//! `GET /me?before=`: a resident's own record in clear, their family-doctor contract, team and
//! due services, who has looked at or changed the record (PIPL art. 45), and the link to
//! download it. Resident accounts only.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hc_core::access::Permission;
use serde::Deserialize;

use super::audit::{cst_time, label_or_code};
use super::care::{DueLine, MemberLine, due_lines, member_lines, term};
use super::ctx::Ctx;
use super::error::UiError;
use super::fmt::{DASH, int};
use super::page;
use super::shared::{self, Fact};
use crate::AppState;

/// Access-log entries per page.
const PER_PAGE: usize = 100;

#[derive(Debug, Default, Deserialize)]
pub struct MeQuery {
    before: Option<String>,
}

/// An entry of the access log.
struct Access {
    at: String,
    actor: String,
    role: String,
    action: String,
    purpose: String,
}

/// The contract in force.
struct MyContract {
    team: String,
    package: String,
    term: String,
}

#[derive(Template)]
#[template(path = "me.html")]
struct MePage {
    ctx: Ctx,
    name: String,
    facts: Vec<Fact>,
    contract: Option<MyContract>,
    members: Vec<MemberLine>,
    due: Vec<DueLine>,
    log: Vec<Access>,
    shown: String,
    older_href: String,
    newest_href: String,
}

/// `GET /me`.
pub async fn page(
    ctx: Ctx,
    State(state): State<AppState>,
    q: Result<Query<MeQuery>, QueryRejection>,
) -> Response {
    if !ctx.can(Permission::OwnRecord) {
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
    q: Result<Query<MeQuery>, QueryRejection>,
) -> Result<MePage, UiError> {
    let Query(q) = q?;
    let before = shared::opt(q.before)
        .map(|s| {
            s.parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| UiError::bad("before", &s))
        })
        .transpose()?;
    let caller = ctx.caller()?;
    let id = caller.principal.scope.resident.ok_or(UiError::NotFound {
        what: "what.resident",
        code: String::new(),
    })?;
    let store = &state.store;
    let view = hc_app::registry::resident(store, caller, id).await?;
    let r = view.resident.record;
    let community = shared::unit(store, &ctx.scope, &r.community_code)
        .await
        .map_or_else(|_| r.community_code.clone(), |c| c.record.name);
    let facts = vec![
        Fact::new(ctx, "residents.name", r.name.clone()),
        Fact::new(
            ctx,
            "residents.id_type",
            ctx.label("idtype", r.id_type.as_str()),
        ),
        Fact::new(ctx, "residents.id_number", r.id_number.clone()),
        Fact::new(ctx, "residents.sex", ctx.label("sex", r.sex.as_str())),
        Fact::new(ctx, "me.birth_date", r.birth_date.to_string()),
        Fact::new(
            ctx,
            "residents.phone",
            r.phone.clone().unwrap_or_else(|| DASH.to_owned()),
        ),
        Fact::new(ctx, "residents.community", community),
        Fact::new(
            ctx,
            "residents.residence",
            ctx.label("residence", r.residence.as_str()),
        ),
    ];

    // Primary care: the contract in force, the team's members and what is due.
    let care = hc_app::care::care_record(store, caller, &state.care, id, ctx.today).await?;
    let contract = care
        .contracts
        .iter()
        .find(|c| c.in_force(ctx.today))
        .map(|c| MyContract {
            team: c.team_name.clone(),
            package: label_or_code(ctx, "package", &c.package),
            term: term(ctx, c),
        });
    let members = care
        .team
        .as_ref()
        .map(|t| member_lines(ctx, &t.members))
        .unwrap_or_default();
    let due = due_lines(ctx, &care);

    let mut events =
        hc_app::audit::own_access_log(store, caller, before, PER_PAGE as u32 + 1).await?;
    let more = events.len() > PER_PAGE;
    events.truncate(PER_PAGE);
    let older_href = match events.last() {
        Some(last) if more => format!("/me?before={}", last.id),
        _ => String::new(),
    };
    let newest_href = if before.is_some() {
        "/me".to_owned()
    } else {
        String::new()
    };
    let log: Vec<Access> = events
        .iter()
        .map(|e| Access {
            at: cst_time(e.at),
            actor: e.actor.clone(),
            role: e
                .role
                .as_deref()
                .map_or_else(|| DASH.to_owned(), |r| ctx.label("role", r)),
            action: label_or_code(ctx, "action", &e.action),
            purpose: e
                .purpose
                .clone()
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| DASH.to_owned()),
        })
        .collect();
    let shown = if before.is_some() {
        ctx.tf("common.shown_more", &[("n", &int(log.len() as i64))])
    } else {
        ctx.tf("common.shown", &[("n", &int(log.len() as i64))])
    };
    Ok(MePage {
        ctx: ctx.clone(),
        name: r.name,
        facts,
        contract,
        members,
        due,
        log,
        shown,
        older_href,
        newest_href,
    })
}
