//! `GET /institutions`: filterable, cursor-paged list; `GET /institutions/{code}`: one
//! institution with its group and practitioners.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hc_core::access::Permission;
use hc_core::model::{HospitalGrade, Institution, InstitutionKind, LicenceStatus, mask_id_number};
use hc_store::{InstitutionFilter, Page, PractitionerFilter, Store};
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::UiError;
use super::fmt::{self, DASH, int};
use super::page;
use super::shared::{self, Fact, Link, PAGE_SIZE, SelectOpt};
use crate::AppState;

/// Practitioners listed on an institution's page.
const STAFF_SHOWN: u32 = 100;
/// Group members listed on a lead institution's page.
const MEMBERS_SHOWN: u32 = 200;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    kind: Option<String>,
    grade: Option<String>,
    name: Option<String>,
    under: Option<String>,
    fever: Option<String>,
    group: Option<String>,
    after: Option<String>,
}

/// A row of the list.
struct Row {
    href: String,
    name: String,
    code: String,
    kind: String,
    grade: String,
    community: String,
    community_href: String,
    beds: String,
    npr: String,
    fever: String,
    fever_yes: bool,
    licence: String,
    licence_class: &'static str,
}

#[derive(Template)]
#[template(path = "institutions.html")]
struct ListPage {
    ctx: Ctx,
    kinds: Vec<SelectOpt>,
    grades: Vec<SelectOpt>,
    areas: Vec<SelectOpt>,
    fevers: Vec<SelectOpt>,
    name: String,
    group: String,
    group_note: String,
    rows: Vec<Row>,
    shown: String,
    next_href: String,
    first_href: String,
}

/// `GET /institutions`.
pub async fn list(
    ctx: Ctx,
    State(state): State<AppState>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    if !ctx.can(Permission::ViewRegistry) {
        return UiError::Forbidden.render(&ctx);
    }
    match build_list(&ctx, &state.store, q).await {
        Ok(p) => page::html(StatusCode::OK, &p),
        Err(e) => e.render(&ctx),
    }
}

fn licence_class(s: LicenceStatus) -> &'static str {
    match s {
        LicenceStatus::Valid => "tag-ok",
        LicenceStatus::Suspended | LicenceStatus::Expired => "tag-warn",
        LicenceStatus::Revoked => "tag-bad",
    }
}

fn grade_label(ctx: &Ctx, g: Option<HospitalGrade>) -> String {
    g.map_or_else(|| DASH.to_owned(), |g| ctx.label("grade", g.as_str()))
}

async fn build_list(
    ctx: &Ctx,
    store: &Store,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<ListPage, UiError> {
    let Query(q) = q?;
    let kind_raw = shared::opt(q.kind);
    let grade_raw = shared::opt(q.grade);
    let kind = shared::coded("kind", &kind_raw, InstitutionKind::parse)?;
    let grade = shared::coded("grade", &grade_raw, HospitalGrade::parse)?;
    let name = shared::opt(q.name);
    let under = shared::org_code("under", &shared::opt(q.under))?;
    let fever_raw = shared::opt(q.fever);
    let fever = shared::yes_no("fever", &fever_raw)?;
    let group = shared::opt(q.group);
    let after = shared::cursor(&shared::opt(q.after))?;

    let scope = match &under {
        Some(c) => Some(shared::unit(store, &ctx.scope, c).await?),
        None => None,
    };
    let group_note = match &group {
        Some(g) => {
            let lead = store
                .institution(g, &ctx.scope)
                .await
                .map_err(UiError::store("what.institution", g))?;
            ctx.tf("institutions.group_note", &[("name", &lead.record.name)])
        }
        None => String::new(),
    };
    let filter = InstitutionFilter {
        kind,
        grade,
        under: under.clone(),
        group_code: group.clone(),
        fever_clinic: fever,
        name: name.clone(),
    };
    let paged = store
        .institutions(
            &filter,
            Page {
                after,
                limit: PAGE_SIZE,
            },
            &ctx.scope,
        )
        .await?;
    let names = shared::unit_names(
        store,
        &ctx.scope,
        paged
            .items
            .iter()
            .map(|i| i.record.community_code.clone())
            .collect(),
    )
    .await?;
    let rows: Vec<Row> = paged
        .items
        .iter()
        .map(|s| {
            let i = &s.record;
            Row {
                href: format!("/institutions/{}", fmt::enc(&i.code)),
                name: i.name.clone(),
                code: i.code.clone(),
                kind: ctx.label("kind", i.kind.as_str()),
                grade: grade_label(ctx, i.grade),
                community: names
                    .get(&i.community_code)
                    .cloned()
                    .unwrap_or_else(|| i.community_code.clone()),
                community_href: format!("/orgunits?code={}", fmt::enc(&i.community_code)),
                beds: int(i64::from(i.beds)),
                npr: int(i64::from(i.negative_pressure_rooms)),
                fever: ctx.yes_no(i.fever_clinic),
                fever_yes: i.fever_clinic,
                licence: ctx.label("licence", i.licence_status.as_str()),
                licence_class: licence_class(i.licence_status),
            }
        })
        .collect();

    let kind_code = kind.map(InstitutionKind::as_str).unwrap_or("");
    let grade_code = grade.map(HospitalGrade::as_str).unwrap_or("");
    let fever_code = fever.map_or("", |b| if b { "yes" } else { "no" });
    let filters = |after: &str| {
        fmt::query(&[
            ("kind", kind_code),
            ("grade", grade_code),
            ("name", name.as_deref().unwrap_or("")),
            ("under", under.as_deref().unwrap_or("")),
            ("fever", fever_code),
            ("group", group.as_deref().unwrap_or("")),
            ("after", after),
        ])
    };
    let next_href = paged
        .next
        .map(|n| format!("/institutions{}", filters(&n.to_string())))
        .unwrap_or_default();
    let first_href = if after.is_some() {
        format!("/institutions{}", filters(""))
    } else {
        String::new()
    };
    let shown = if after.is_some() {
        ctx.tf("common.shown_more", &[("n", &int(rows.len() as i64))])
    } else {
        ctx.tf("common.shown", &[("n", &int(rows.len() as i64))])
    };

    let fevers = vec![
        SelectOpt {
            value: String::new(),
            label: ctx.t("common.all").to_owned(),
            selected: fever.is_none(),
        },
        SelectOpt {
            value: "yes".into(),
            label: ctx.t("institutions.fever_yes").to_owned(),
            selected: fever == Some(true),
        },
        SelectOpt {
            value: "no".into(),
            label: ctx.t("institutions.fever_no").to_owned(),
            selected: fever == Some(false),
        },
    ];
    Ok(ListPage {
        ctx: ctx.clone(),
        kinds: shared::enum_options(
            ctx,
            "kind",
            InstitutionKind::ALL,
            InstitutionKind::as_str,
            kind,
        ),
        grades: shared::enum_options(
            ctx,
            "grade",
            HospitalGrade::ALL,
            HospitalGrade::as_str,
            grade,
        ),
        areas: shared::area_options(ctx, store, scope.as_ref()).await?,
        fevers,
        name: name.unwrap_or_default(),
        group: group.unwrap_or_default(),
        group_note,
        rows,
        shown,
        next_href,
        first_href,
    })
}

/// A practitioner row.
struct StaffRow {
    name: String,
    kind: String,
    licence: String,
}

#[derive(Template)]
#[template(path = "institution.html")]
struct DetailPage {
    ctx: Ctx,
    name: String,
    kind: String,
    crumbs: Vec<Link>,
    facts: Vec<Fact>,
    members: Vec<Link>,
    members_more: bool,
    members_href: String,
    staff: Vec<StaffRow>,
    staff_more: bool,
}

/// `GET /institutions/{code}`.
pub async fn detail(ctx: Ctx, State(state): State<AppState>, Path(code): Path<String>) -> Response {
    if !ctx.can(Permission::ViewRegistry) {
        return UiError::Forbidden.render(&ctx);
    }
    match build_detail(&ctx, &state.store, &code).await {
        Ok(p) => page::html(StatusCode::OK, &p),
        Err(e) => e.render(&ctx),
    }
}

async fn build_detail(ctx: &Ctx, store: &Store, code: &str) -> Result<DetailPage, UiError> {
    let inst = store
        .institution(code, &ctx.scope)
        .await
        .map_err(UiError::store("what.institution", code))?
        .record;
    let community = shared::unit(store, &ctx.scope, &inst.community_code)
        .await
        .ok();
    let mut crumbs = vec![Link {
        href: "/institutions".into(),
        text: ctx.t("nav.institutions").to_owned(),
    }];
    if let Some(c) = &community {
        crumbs.extend(
            shared::lineage(store, &ctx.scope, c)
                .await?
                .into_iter()
                .map(|u| Link {
                    href: format!("/institutions?under={}", fmt::enc(&u.code)),
                    text: u.name,
                }),
        );
    }

    let members_page = store
        .institutions(
            &InstitutionFilter {
                group_code: Some(inst.code.clone()),
                ..InstitutionFilter::default()
            },
            Page {
                after: None,
                limit: MEMBERS_SHOWN,
            },
            &ctx.scope,
        )
        .await?;
    let members = members_page
        .items
        .iter()
        .filter(|m| m.record.code != inst.code)
        .map(|m| Link {
            href: format!("/institutions/{}", fmt::enc(&m.record.code)),
            text: m.record.name.clone(),
        })
        .collect::<Vec<_>>();
    let community_name = community.as_ref().map(|c| c.record.name.as_str());
    let facts = facts(ctx, store, &inst, community_name, !members.is_empty()).await?;
    crumbs.push(Link {
        href: String::new(),
        text: inst.name.clone(),
    });

    let staff_page = store
        .practitioners(
            &PractitionerFilter {
                institution_code: Some(inst.code.clone()),
                ..PractitionerFilter::default()
            },
            Page {
                after: None,
                limit: STAFF_SHOWN,
            },
            &ctx.scope,
        )
        .await?;
    let staff = staff_page
        .items
        .iter()
        .map(|p| StaffRow {
            name: p.record.name.clone(),
            kind: ctx.label("pkind", p.record.kind.as_str()),
            licence: p
                .record
                .licence_no
                .as_deref()
                .map_or_else(|| DASH.to_owned(), mask_id_number),
        })
        .collect();

    Ok(DetailPage {
        ctx: ctx.clone(),
        kind: ctx.label("kind", inst.kind.as_str()),
        name: inst.name.clone(),
        crumbs,
        facts,
        members,
        members_more: members_page.next.is_some(),
        members_href: format!("/institutions?group={}", fmt::enc(&inst.code)),
        staff,
        staff_more: staff_page.next.is_some(),
    })
}

async fn facts(
    ctx: &Ctx,
    store: &Store,
    inst: &Institution,
    community: Option<&str>,
    leads: bool,
) -> Result<Vec<Fact>, UiError> {
    let mut facts = vec![
        Fact::new(ctx, "institutions.code", inst.code.clone()),
        Fact::new(
            ctx,
            "institutions.kind",
            ctx.label("kind", inst.kind.as_str()),
        ),
        Fact::new(ctx, "institutions.grade", grade_label(ctx, inst.grade)),
        Fact::new(
            ctx,
            "institutions.community",
            community.unwrap_or(&inst.community_code),
        )
        .link(format!("/orgunits?code={}", fmt::enc(&inst.community_code))),
    ];
    let lead = match inst.group_code.as_deref() {
        Some(g) if g == inst.code => Fact::new(
            ctx,
            "institutions.group_lead",
            ctx.t("institutions.leads_group"),
        ),
        Some(g) => match store.institution(g, &ctx.scope).await {
            Ok(l) => Fact::new(ctx, "institutions.group_lead", l.record.name)
                .link(format!("/institutions/{}", fmt::enc(g))),
            Err(hc_store::StoreError::NotFound) => Fact::new(ctx, "institutions.group_lead", g),
            Err(e) => return Err(e.into()),
        },
        None if leads => Fact::new(
            ctx,
            "institutions.group_lead",
            ctx.t("institutions.leads_group"),
        ),
        None => Fact::new(ctx, "institutions.group_lead", DASH),
    };
    facts.push(lead);
    facts.extend([
        Fact::new(
            ctx,
            "institutions.licence_no",
            inst.licence_no.clone().unwrap_or_else(|| DASH.to_owned()),
        ),
        Fact::new(
            ctx,
            "institutions.licence",
            ctx.label("licence", inst.licence_status.as_str()),
        ),
        Fact::new(ctx, "institutions.beds", int(i64::from(inst.beds))),
        Fact::new(
            ctx,
            "institutions.npr",
            int(i64::from(inst.negative_pressure_rooms)),
        ),
        Fact::new(ctx, "institutions.fever", ctx.yes_no(inst.fever_clinic)),
    ]);
    Ok(facts)
}
