//! `GET /indicators?year=&org=&level=`: the primary-care indicators for a year, for the
//! caller's jurisdiction or an org unit, optionally by district, street, 社康 or community;
//! numerator, denominator, value and the national target where there is one.
//! `GET /indicators/{code}/members?org=&year=&meets=&after=`: the residents behind a figure,
//! names masked, 50 a page (roles that see both indicators and residents; audited).

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Datelike;
use hc_app::AppError;
use hc_app::care::{self, Indicator, Level, Period};
use hc_core::access::Permission;
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::UiError;
use super::fmt::{self, DASH, int};
use super::page;
use super::shared::{self, Link, SelectOpt};
use crate::AppState;

/// Residents per page of a drill-down.
const MEMBERS_PER_PAGE: u32 = 50;

const LEVELS: [&str; 4] = ["district", "street", "institution", "community"];

#[derive(Debug, Default, Deserialize)]
pub struct IndicatorQuery {
    year: Option<String>,
    org: Option<String>,
    level: Option<String>,
}

/// A row of the table.
struct Row {
    name: String,
    org_name: String,
    org_code: String,
    numerator: String,
    denominator: String,
    /// Links to the residents behind the figures; empty for roles that may not see them.
    num_href: String,
    den_href: String,
    value: String,
    target: String,
    /// `ok` (meets the target), `bad` (below it) or empty (no target or no value).
    verdict_kind: &'static str,
    verdict: String,
}

#[derive(Template)]
#[template(path = "indicators.html")]
struct IndicatorsPage {
    ctx: Ctx,
    year: String,
    org: String,
    levels: Vec<SelectOpt>,
    rows: Vec<Row>,
    caption: String,
    links: bool,
}

/// A year in a query: 1900-2200.
fn year_of(v: &Option<String>, default: i32) -> Result<i32, UiError> {
    match v.as_deref() {
        None => Ok(default),
        Some(s) => s
            .parse::<i32>()
            .ok()
            .filter(|y| (1900..=2200).contains(y))
            .ok_or_else(|| UiError::bad("year", s)),
    }
}

/// The period of a year.
fn year_period(year: i32, raw: &str) -> Result<Period, UiError> {
    Period::year(year).ok_or_else(|| UiError::bad("year", raw))
}

/// `12.3%`.
fn percent(v: f64) -> String {
    format!("{}%", fmt::dec(v * 100.0, 1))
}

/// The name of an indicator in the page's locale.
fn indicator_name(ctx: &Ctx, i: Indicator) -> String {
    ctx.label("indicator", i.code())
}

/// Whether the caller may open the residents behind a figure.
fn can_drill(ctx: &Ctx) -> bool {
    ctx.can(Permission::ViewIndicators) && ctx.can(Permission::ViewResidents)
}

/// `GET /indicators`.
pub async fn list(
    ctx: Ctx,
    State(state): State<AppState>,
    q: Result<Query<IndicatorQuery>, QueryRejection>,
) -> Response {
    if !ctx.can(Permission::ViewIndicators) {
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
    q: Result<Query<IndicatorQuery>, QueryRejection>,
) -> Result<IndicatorsPage, UiError> {
    let Query(q) = q?;
    let year_raw = shared::opt(q.year);
    let year = year_of(&year_raw, ctx.today.year())?;
    let period = year_period(year, year_raw.as_deref().unwrap_or(""))?;
    let org = shared::org_code("org", &shared::opt(q.org))?;
    let level_code = shared::opt(q.level);
    let level = shared::coded("level", &level_code, Level::parse)?;
    let rows = care::indicators(
        &state.store,
        ctx.caller()?,
        &state.care,
        period,
        org.as_deref(),
        level,
        ctx.today,
    )
    .await
    .map_err(|e| match e {
        AppError::NotFound(_) => UiError::NotFound {
            what: "what.orgunit",
            code: org.clone().unwrap_or_default(),
        },
        other => other.into(),
    })?;
    let links = can_drill(ctx);
    let year_s = year.to_string();
    let rows = rows
        .into_iter()
        .filter_map(|r| {
            let i = Indicator::parse(r.indicator)?;
            let members = |meets: &str| {
                format!(
                    "/indicators/{}/members{}",
                    i.code(),
                    fmt::query(&[("org", &r.org_code), ("year", &year_s), ("meets", meets)])
                )
            };
            let (verdict_kind, verdict) = match (r.value, i.target()) {
                (Some(v), Some(t)) if v < t => ("bad", ctx.t("indicators.below").to_owned()),
                (Some(_), Some(_)) => ("ok", ctx.t("indicators.met").to_owned()),
                _ => ("", String::new()),
            };
            Some(Row {
                name: indicator_name(ctx, i),
                org_name: if r.org_name.is_empty() {
                    r.org_code.clone()
                } else {
                    r.org_name.clone()
                },
                numerator: int(r.numerator as i64),
                denominator: int(r.denominator as i64),
                num_href: if links {
                    members("true")
                } else {
                    String::new()
                },
                den_href: if links { members("") } else { String::new() },
                value: r.value.map_or_else(|| DASH.to_owned(), percent),
                target: i
                    .target()
                    .map_or_else(|| DASH.to_owned(), |t| format!("≥ {}", percent(t))),
                verdict_kind,
                verdict,
                org_code: r.org_code,
            })
        })
        .collect();
    let mut levels = vec![SelectOpt {
        value: String::new(),
        label: ctx.t("indicators.no_level").to_owned(),
        selected: level.is_none(),
    }];
    levels.extend(LEVELS.iter().map(|l| SelectOpt {
        value: (*l).to_owned(),
        label: ctx.label("by_level", l),
        selected: level_code.as_deref() == Some(*l),
    }));
    Ok(IndicatorsPage {
        ctx: ctx.clone(),
        caption: ctx.tf("indicators.caption", &[("year", &year_s)]),
        year: year_s,
        org: org.unwrap_or_default(),
        levels,
        rows,
        links,
    })
}

// -- the residents behind a figure --------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub struct MembersQuery {
    org: Option<String>,
    year: Option<String>,
    meets: Option<String>,
    after: Option<String>,
}

struct MemberRow {
    href: String,
    name: String,
    community: String,
    meets: String,
    meets_yes: bool,
}

#[derive(Template)]
#[template(path = "indicator_members.html")]
struct MembersPage {
    ctx: Ctx,
    crumbs: Vec<Link>,
    heading: String,
    lead: String,
    filters: Vec<Link>,
    current_filter: usize,
    rows: Vec<MemberRow>,
    shown: String,
    next_href: String,
    first_href: String,
}

/// `GET /indicators/{code}/members`.
pub async fn members(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(code): Path<String>,
    q: Result<Query<MembersQuery>, QueryRejection>,
) -> Response {
    if !can_drill(&ctx) {
        return UiError::Forbidden.render(&ctx);
    }
    match build_members(&ctx, &state, &code, q).await {
        Ok(p) => page::html(StatusCode::OK, &p),
        Err(e) => e.render(&ctx),
    }
}

async fn build_members(
    ctx: &Ctx,
    state: &AppState,
    code: &str,
    q: Result<Query<MembersQuery>, QueryRejection>,
) -> Result<MembersPage, UiError> {
    let Query(q) = q?;
    let indicator = Indicator::parse(code).ok_or_else(|| UiError::NotFound {
        what: "what.indicator",
        code: code.to_owned(),
    })?;
    let org = shared::opt(q.org).ok_or_else(|| UiError::bad("org", ""))?;
    if org.len() > 40 || !org.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(UiError::bad("org", &org));
    }
    let year_raw = shared::opt(q.year);
    let year = year_of(&year_raw, ctx.today.year())?;
    let period = year_period(year, year_raw.as_deref().unwrap_or(""))?;
    let meets = shared::yes_no("meets", &shared::opt(q.meets))?;
    let after = shared::cursor(&shared::opt(q.after))?;
    let store = &state.store;
    let members = care::indicator_members(
        store,
        ctx.caller()?,
        &state.care,
        indicator,
        period,
        &org,
        meets,
        after.unwrap_or(0),
        MEMBERS_PER_PAGE,
        ctx.today,
    )
    .await
    .map_err(|e| match e {
        AppError::NotFound(_) => UiError::NotFound {
            what: "what.orgunit",
            code: org.clone(),
        },
        other => other.into(),
    })?;
    let names = shared::unit_names(
        store,
        &ctx.scope,
        members.iter().map(|m| m.community_code.clone()).collect(),
    )
    .await?;
    let org_name = match shared::unit(store, &ctx.scope, &org).await {
        Ok(u) => u.record.name,
        Err(_) => store
            .care_sites()
            .await?
            .into_iter()
            .find(|s| s.code == org)
            .map_or_else(|| org.clone(), |s| s.name),
    };
    let rows: Vec<MemberRow> = members
        .iter()
        .map(|m| MemberRow {
            href: format!("/residents/{}", m.resident_id),
            name: m.name.clone(),
            community: names
                .get(&m.community_code)
                .cloned()
                .unwrap_or_else(|| m.community_code.clone()),
            meets: ctx
                .t(if m.meets {
                    "indicators.meets"
                } else {
                    "indicators.not_meets"
                })
                .to_owned(),
            meets_yes: m.meets,
        })
        .collect();
    let year_s = year.to_string();
    let meets_s = match meets {
        Some(true) => "true",
        Some(false) => "false",
        None => "",
    };
    let base = format!("/indicators/{}/members", indicator.code());
    let href = |meets: &str, after: &str| {
        format!(
            "{base}{}",
            fmt::query(&[
                ("org", &org),
                ("year", &year_s),
                ("meets", meets),
                ("after", after)
            ])
        )
    };
    let next_href = match members.last() {
        Some(last) if members.len() == MEMBERS_PER_PAGE as usize => {
            href(meets_s, &last.resident_id.to_string())
        }
        _ => String::new(),
    };
    let first_href = if after.is_some() {
        href(meets_s, "")
    } else {
        String::new()
    };
    let filters = vec![
        Link {
            href: href("", ""),
            text: ctx.t("indicators.all_members").to_owned(),
        },
        Link {
            href: href("true", ""),
            text: ctx.t("indicators.meets").to_owned(),
        },
        Link {
            href: href("false", ""),
            text: ctx.t("indicators.not_meets").to_owned(),
        },
    ];
    let current_filter = match meets {
        None => 0,
        Some(true) => 1,
        Some(false) => 2,
    };
    let name = indicator_name(ctx, indicator);
    let shown = if after.is_some() {
        ctx.tf("common.shown_more", &[("n", &int(rows.len() as i64))])
    } else {
        ctx.tf("common.shown", &[("n", &int(rows.len() as i64))])
    };
    Ok(MembersPage {
        ctx: ctx.clone(),
        crumbs: vec![
            Link {
                href: format!("/indicators?year={year_s}"),
                text: ctx.t("nav.indicators").to_owned(),
            },
            Link {
                href: String::new(),
                text: name.clone(),
            },
        ],
        lead: ctx.tf(
            "indicators.members_lead",
            &[("org", &org_name), ("code", &org), ("year", &year_s)],
        ),
        heading: name,
        filters,
        current_filter,
        rows,
        shown,
        next_href,
        first_href,
    })
}
