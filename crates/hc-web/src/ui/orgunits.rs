//! `GET /orgunits?code=&as_of=`: the administrative tree, one unit at a time, with the
//! residents, institutions and beds under each child unit.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hc_core::access::Permission;
use hc_store::Store;
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::UiError;
use super::fmt::{self, int};
use super::page;
use super::shared::{self, Link};
use crate::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct OrgQuery {
    code: Option<String>,
    as_of: Option<String>,
}

/// The facts of the unit shown.
struct UnitView {
    code: String,
    name: String,
    level: String,
    validity: String,
    in_force: bool,
    parent: Option<Link>,
}

/// A row of the children table.
struct ChildRow {
    href: String,
    name: String,
    code: String,
    level: String,
    residents: String,
    institutions: String,
    beds: String,
    validity: String,
}

#[derive(Template)]
#[template(path = "orgunits.html")]
struct OrgUnitsPage {
    ctx: Ctx,
    heading: String,
    crumbs: Vec<Link>,
    unit: Option<UnitView>,
    code: String,
    as_of: String,
    as_of_note: String,
    children_caption: String,
    children: Vec<ChildRow>,
    total: ChildRow,
    links: Vec<Link>,
}

/// `GET /orgunits`.
pub async fn page(
    ctx: Ctx,
    State(state): State<AppState>,
    q: Result<Query<OrgQuery>, QueryRejection>,
) -> Response {
    if !ctx.can(Permission::ViewRegistry) {
        return UiError::Forbidden.render(&ctx);
    }
    match build(&ctx, &state.store, q).await {
        Ok(p) => page::html(StatusCode::OK, &p),
        Err(e) => e.render(&ctx),
    }
}

async fn build(
    ctx: &Ctx,
    store: &Store,
    q: Result<Query<OrgQuery>, QueryRejection>,
) -> Result<OrgUnitsPage, UiError> {
    let Query(q) = q?;
    let code = shared::org_code("code", &shared::opt(q.code))?;
    let as_of = shared::date("as_of", &shared::opt(q.as_of))?;
    let as_of_param = as_of.map(|d| d.to_string()).unwrap_or_default();
    let href = |code: &str| {
        format!(
            "/orgunits{}",
            fmt::query(&[("code", code), ("as_of", &as_of_param)])
        )
    };

    let unit = match &code {
        Some(c) => Some(shared::unit(store, &ctx.scope, c).await?),
        None => None,
    };
    let mut crumbs = vec![Link {
        href: href(""),
        text: ctx.t("orgunits.root").to_owned(),
    }];
    let mut view = None;
    if let Some(u) = &unit {
        let lineage = shared::lineage(store, &ctx.scope, u).await?;
        let parent = lineage
            .len()
            .checked_sub(2)
            .and_then(|i| lineage.get(i))
            .map(|p| Link {
                href: href(&p.code),
                text: p.name.clone(),
            });
        crumbs.extend(lineage.into_iter().map(|a| Link {
            href: href(&a.code),
            text: a.name,
        }));
        let r = &u.record;
        let on = as_of.unwrap_or(ctx.today);
        view = Some(UnitView {
            code: r.code.clone(),
            name: r.name.clone(),
            level: ctx.label("level", r.level.as_str()),
            validity: shared::validity(ctx, r),
            in_force: r.valid_from.is_none_or(|f| f <= on) && r.valid_to.is_none_or(|t| t >= on),
            parent,
        });
    }

    let counts = store
        .orgunit_children(
            code.as_deref(),
            Some(as_of.unwrap_or(ctx.today)),
            &ctx.scope,
        )
        .await?;
    let children: Vec<ChildRow> = counts
        .iter()
        .map(|c| {
            let u = &c.unit.record;
            ChildRow {
                href: href(&u.code),
                name: u.name.clone(),
                code: u.code.clone(),
                level: ctx.label("level", u.level.as_str()),
                residents: int(c.residents),
                institutions: int(c.institutions),
                beds: int(c.beds),
                validity: shared::validity(ctx, u),
            }
        })
        .collect();
    let total = ChildRow {
        href: String::new(),
        name: ctx.t("common.total").to_owned(),
        code: String::new(),
        level: String::new(),
        residents: int(counts.iter().map(|c| c.residents).sum()),
        institutions: int(counts.iter().map(|c| c.institutions).sum()),
        beds: int(counts.iter().map(|c| c.beds).sum()),
        validity: String::new(),
    };

    let (heading, children_caption, links) = match &view {
        Some(v) => {
            let c = fmt::enc(&v.code);
            (
                v.name.clone(),
                ctx.tf("orgunits.children_of", &[("name", &v.name)]),
                vec![
                    Link {
                        href: format!("/?under={c}"),
                        text: ctx.t("orgunits.link_overview").to_owned(),
                    },
                    Link {
                        href: format!("/institutions?under={c}"),
                        text: ctx.t("orgunits.link_institutions").to_owned(),
                    },
                    Link {
                        href: format!("/residents?under={c}"),
                        text: ctx.t("orgunits.link_residents").to_owned(),
                    },
                ],
            )
        }
        None => (
            ctx.t("orgunits.heading").to_owned(),
            ctx.t("orgunits.cities").to_owned(),
            Vec::new(),
        ),
    };
    let as_of_note = match as_of {
        Some(d) => ctx.tf("orgunits.as_of_note", &[("date", &d.to_string())]),
        None => ctx.tf("orgunits.current_note", &[("date", &ctx.today_str())]),
    };

    Ok(OrgUnitsPage {
        ctx: ctx.clone(),
        heading,
        crumbs,
        unit: view,
        code: code.unwrap_or_default(),
        as_of: as_of_param,
        as_of_note,
        children_caption,
        children,
        total,
        links,
    })
}
