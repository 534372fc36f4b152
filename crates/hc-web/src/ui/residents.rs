//! `GET /residents`: search of the master person index by identity number or name, never a
//! list of everyone; `GET /residents/{id}`: one person. Identity numbers and phones are shown
//! masked, and the birth date only as an age (with the full date, a masked number could be rebuilt).

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hc_core::access::Permission;
use hc_core::model::{OrgLevel, Resident, Sex, mask_id_number, mask_phone};
use hc_store::{Page, ResidentFilter, Store};
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::UiError;
use super::fmt::{self, DASH, int};
use super::page;
use super::shared::{self, Fact, Link, PAGE_SIZE, SelectOpt};
use crate::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    id_number: Option<String>,
    name: Option<String>,
    under: Option<String>,
    sex: Option<String>,
    after: Option<String>,
}

/// A row of the results.
struct Row {
    href: String,
    id_type: String,
    id_masked: String,
    name: String,
    sex: String,
    age: String,
    community: String,
    community_href: String,
    phone: String,
}

#[derive(Template)]
#[template(path = "residents.html")]
struct SearchPage {
    ctx: Ctx,
    name: String,
    areas: Vec<SelectOpt>,
    sexes: Vec<SelectOpt>,
    searched: bool,
    hint: String,
    criteria: String,
    rows: Vec<Row>,
    shown: String,
    next_href: String,
    first_href: String,
}

/// `GET /residents`.
pub async fn search(
    ctx: Ctx,
    State(state): State<AppState>,
    q: Result<Query<SearchQuery>, QueryRejection>,
) -> Response {
    if !ctx.can(Permission::ViewResidents) {
        return UiError::Forbidden.render(&ctx);
    }
    match build_search(&ctx, &state.store, q).await {
        Ok(p) => page::html(StatusCode::OK, &p),
        Err(e) => e.render(&ctx),
    }
}

fn age(ctx: &Ctx, r: &Resident) -> String {
    ctx.today
        .years_since(r.birth_date)
        .map_or_else(|| DASH.to_owned(), |y| int(i64::from(y)))
}

async fn build_search(
    ctx: &Ctx,
    store: &Store,
    q: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<SearchPage, UiError> {
    let Query(q) = q?;
    let id_number = shared::opt(q.id_number).map(|n| hc_core::idcard::normalize(&n));
    let name = shared::opt(q.name);
    let under = shared::org_code("under", &shared::opt(q.under))?;
    let sex = shared::coded("sex", &shared::opt(q.sex), Sex::parse)?;
    let after = shared::cursor(&shared::opt(q.after))?;
    let scope = match &under {
        Some(c) => Some(shared::unit(store, &ctx.scope, c).await?),
        None => None,
    };
    // An area narrows enough on its own only from the street down.
    let narrow_area = scope
        .as_ref()
        .is_some_and(|s| matches!(s.record.level, OrgLevel::Street | OrgLevel::Community));
    let searched = id_number.is_some() || name.is_some() || narrow_area;

    let mut criteria = Vec::new();
    if let Some(n) = &id_number {
        criteria.push(ctx.tf("residents.by_id", &[("id", &mask_id_number(n))]));
    }
    if let Some(n) = &name {
        criteria.push(ctx.tf("residents.by_name", &[("name", n)]));
    }
    if let Some(s) = &scope {
        criteria.push(ctx.tf("residents.by_area", &[("name", &s.record.name)]));
    }
    if let Some(s) = sex {
        criteria.push(ctx.tf(
            "residents.by_sex",
            &[("sex", &ctx.label("sex", s.as_str()))],
        ));
    }

    let (mut rows, mut next) = (Vec::new(), None);
    if searched {
        let filter = ResidentFilter {
            under: under.clone(),
            id_number: id_number.clone(),
            name: name.clone(),
            sex,
            ..ResidentFilter::default()
        };
        let paged = hc_app::registry::search_residents(
            store,
            ctx.caller()?,
            &filter,
            Page {
                after,
                limit: PAGE_SIZE,
            },
        )
        .await?;
        let names = shared::unit_names(
            store,
            &ctx.scope,
            paged
                .items
                .iter()
                .map(|r| r.record.community_code.clone())
                .collect(),
        )
        .await?;
        rows = paged
            .items
            .iter()
            .map(|s| {
                let r = &s.record;
                Row {
                    href: format!("/residents/{}", s.id),
                    id_type: ctx.label("idtype", r.id_type.as_str()),
                    id_masked: mask_id_number(&r.id_number),
                    name: hc_core::access::mask_name(&r.name),
                    sex: ctx.label("sex", r.sex.as_str()),
                    age: age(ctx, r),
                    community: names
                        .get(&r.community_code)
                        .cloned()
                        .unwrap_or_else(|| r.community_code.clone()),
                    community_href: format!("/orgunits?code={}", fmt::enc(&r.community_code)),
                    phone: r
                        .phone
                        .as_deref()
                        .map_or_else(|| DASH.to_owned(), mask_phone),
                }
            })
            .collect();
        // An identity search has a handful of results at most, and its number must not be
        // copied into links; it has no further pages.
        if id_number.is_none() {
            next = paged.next;
        }
    }

    let filters = |after: &str| {
        fmt::query(&[
            ("name", name.as_deref().unwrap_or("")),
            ("under", under.as_deref().unwrap_or("")),
            ("sex", sex.map(Sex::as_str).unwrap_or("")),
            ("after", after),
        ])
    };
    let next_href = next
        .map(|n| format!("/residents{}", filters(&n.to_string())))
        .unwrap_or_default();
    let first_href = if after.is_some() && id_number.is_none() {
        format!("/residents{}", filters(""))
    } else {
        String::new()
    };
    let shown = if after.is_some() {
        ctx.tf("common.shown_more", &[("n", &int(rows.len() as i64))])
    } else {
        ctx.tf("common.shown", &[("n", &int(rows.len() as i64))])
    };
    let hint = if searched {
        String::new()
    } else if scope.is_some() {
        ctx.t("residents.hint_area").to_owned()
    } else {
        ctx.t("residents.hint").to_owned()
    };

    Ok(SearchPage {
        ctx: ctx.clone(),
        name: name.unwrap_or_default(),
        areas: shared::area_options(ctx, store, scope.as_ref()).await?,
        sexes: shared::enum_options(ctx, "sex", Sex::ALL, Sex::as_str, sex),
        searched,
        hint,
        criteria: criteria.join(ctx.t("common.list_sep")),
        rows,
        shown,
        next_href,
        first_href,
    })
}

#[derive(Template)]
#[template(path = "resident.html")]
struct DetailPage {
    ctx: Ctx,
    name: String,
    crumbs: Vec<Link>,
    facts: Vec<Fact>,
    /// Shown in clear (and audited).
    full: bool,
    /// Seen through a break-the-glass grant.
    break_glass: bool,
    /// The resident's primary care, for roles that see it.
    care_href: String,
}

/// `GET /residents/{id}`.
pub async fn detail(ctx: Ctx, State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match build_detail(&ctx, &state.store, &id).await {
        Ok(p) => page::html(StatusCode::OK, &p),
        Err(e) => e.render(&ctx),
    }
}

async fn build_detail(ctx: &Ctx, store: &Store, id: &str) -> Result<DetailPage, UiError> {
    let n: i64 = id.parse().map_err(|_| UiError::bad("id", id))?;
    let view = hc_app::registry::resident(store, ctx.caller()?, n)
        .await
        .map_err(|e| match e {
            hc_app::AppError::NotFound(_) => UiError::NotFound {
                what: "what.resident",
                code: id.to_owned(),
            },
            other => other.into(),
        })?;
    let (full, break_glass) = (view.full, view.break_glass);
    let r = view.resident.record;
    let shown_name = if full {
        r.name.clone()
    } else {
        hc_core::access::mask_name(&r.name)
    };
    let community = shared::unit(store, &ctx.scope, &r.community_code)
        .await
        .ok();
    let mut crumbs = vec![Link {
        href: "/residents".into(),
        text: ctx.t("nav.residents").to_owned(),
    }];
    if let Some(c) = &community {
        crumbs.extend(
            shared::lineage(store, &ctx.scope, c)
                .await?
                .into_iter()
                .map(|u| Link {
                    href: format!("/residents?under={}", fmt::enc(&u.code)),
                    text: u.name,
                }),
        );
    }
    crumbs.push(Link {
        href: String::new(),
        text: shown_name.clone(),
    });
    let facts = vec![
        Fact::new(
            ctx,
            "residents.id_type",
            ctx.label("idtype", r.id_type.as_str()),
        ),
        Fact::new(
            ctx,
            "residents.id_number",
            if full {
                r.id_number.clone()
            } else {
                mask_id_number(&r.id_number)
            },
        ),
        Fact::new(ctx, "residents.sex", ctx.label("sex", r.sex.as_str())),
        Fact::new(ctx, "residents.age", age(ctx, &r)),
        Fact::new(
            ctx,
            "residents.phone",
            r.phone.as_deref().map_or_else(
                || DASH.to_owned(),
                |p| if full { p.to_owned() } else { mask_phone(p) },
            ),
        ),
        Fact::new(
            ctx,
            "residents.community",
            community
                .as_ref()
                .map_or_else(|| r.community_code.clone(), |c| c.record.name.clone()),
        )
        .link(format!("/orgunits?code={}", fmt::enc(&r.community_code))),
        Fact::new(
            ctx,
            "residents.residence",
            ctx.label("residence", r.residence.as_str()),
        ),
    ];
    Ok(DetailPage {
        ctx: ctx.clone(),
        name: shown_name,
        crumbs,
        facts,
        full,
        break_glass,
        care_href: if ctx.can(Permission::ViewCare) && !break_glass {
            format!("/residents/{n}/care")
        } else {
            String::new()
        },
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct GlassForm {
    csrf: String,
    id_number: String,
    reason: String,
}

/// `POST /residents/break-glass`: emergency access by identity number, with a reason; then
/// the record. Audited and flagged for review by `hc-app`.
pub async fn break_glass(
    ctx: Ctx,
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    form: Result<axum::Form<GlassForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(axum::Form(form)) = form else {
        return UiError::bad("form", "").render(&ctx);
    };
    let caller = match ctx.poster(&headers, &form.csrf, None) {
        Ok(c) => c,
        Err(e) => return e.render(&ctx),
    };
    let granted = hc_app::registry::break_glass_by_identity(
        &state.store,
        caller,
        &state.config.policy,
        &hc_core::idcard::normalize(&form.id_number),
        &form.reason,
    )
    .await;
    match granted {
        Ok(id) => page::redirect(&format!("/residents/{id}")),
        Err(hc_app::AppError::Invalid(errs)) => {
            let field = if errs.iter().any(|e| e.field == "reason") {
                "reason"
            } else {
                "id_number"
            };
            UiError::bad(field, "").render(&ctx)
        }
        Err(hc_app::AppError::NotFound(_)) => UiError::NotFound {
            what: "what.resident",
            code: String::new(),
        }
        .render(&ctx),
        Err(e) => UiError::from(e).render(&ctx),
    }
}
