//! `GET /`: key figures, institutions and practitioners by kind, and the population pyramid,
//! for the whole city or the subtree of `?under=<org code>`.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hc_core::access::Permission;
use hc_core::model::{InstitutionKind, OrgLevel, OrgUnit, PractitionerKind};
use hc_store::{KindSummary, PyramidBar, Store};
use serde::Deserialize;

use super::chart::{self, PyramidText};
use super::ctx::Ctx;
use super::error::UiError;
use super::fmt::{self, int, ratio};
use super::page;
use super::shared::{self, Link};
use crate::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct OverviewQuery {
    under: Option<String>,
}

/// One key-figure card.
struct Figure {
    label: String,
    value: String,
    unit: String,
    note: String,
}

/// A row of the institutions-by-kind table.
struct KindRow {
    label: String,
    href: String,
    count: String,
    beds: String,
    npr: String,
    fever: String,
}

/// A row of the practitioners-by-kind table.
struct StaffRow {
    label: String,
    count: String,
    per_10k: String,
}

/// A row of the pyramid's data table.
struct BandRow {
    band: String,
    male: String,
    female: String,
    total: String,
}

/// A unit to drill down into.
struct Child {
    href: String,
    name: String,
    residents: String,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    ctx: Ctx,
    heading: String,
    scope_note: String,
    crumbs: Vec<Link>,
    figures: Vec<Figure>,
    kinds: Vec<KindRow>,
    kinds_total: KindRow,
    staff: Vec<StaffRow>,
    staff_total: String,
    pyramid_svg: String,
    bands: Vec<BandRow>,
    has_residents: bool,
    children: Vec<Child>,
    children_heading: String,
}

/// `GET /`.
pub async fn page(
    ctx: Ctx,
    State(state): State<AppState>,
    q: Result<Query<OverviewQuery>, QueryRejection>,
) -> Response {
    if !ctx.can(Permission::ViewRegistry) {
        // The home of roles without the registry: their own pages.
        let home = if ctx.nav_audit() {
            "/audit"
        } else if ctx.nav_me() {
            "/me"
        } else {
            "/account/password"
        };
        return page::redirect(home);
    }
    match build(&ctx, &state.store, q).await {
        Ok(p) => page::html(StatusCode::OK, &p),
        Err(e) => e.render(&ctx),
    }
}

async fn build(
    ctx: &Ctx,
    store: &Store,
    q: Result<Query<OverviewQuery>, QueryRejection>,
) -> Result<OverviewPage, UiError> {
    let Query(q) = q?;
    // Without a choice, a caller limited to part of the city sees that part.
    let under =
        shared::org_code("under", &shared::opt(q.under))?.or_else(|| ctx.scope.orgunit.clone());
    let scope = match &under {
        Some(code) => Some(shared::unit(store, &ctx.scope, code).await?),
        None => None,
    };
    let under = under.as_deref();

    let mut kinds = store.institution_summary(under, &ctx.scope).await?;
    kinds.sort_by_key(|k| k.kind);
    let mut staff = store.practitioner_summary(under, &ctx.scope).await?;
    staff.sort_by_key(|(k, _)| *k);
    let pyramid = store.resident_pyramid(under, ctx.today, &ctx.scope).await?;
    let (residents, institutions, practitioners) = match under {
        Some(_) => (
            pyramid.iter().map(|b| b.male + b.female).sum(),
            kinds.iter().map(|k| k.count).sum(),
            staff.iter().map(|(_, n)| n).sum(),
        ),
        None => {
            let t = store.totals().await?;
            (t.residents, t.institutions, t.practitioners)
        }
    };

    let crumbs = match &scope {
        Some(s) => {
            let mut links = vec![Link {
                href: "/".into(),
                text: ctx.t("overview.whole_city").to_owned(),
            }];
            links.extend(
                shared::lineage(store, &ctx.scope, s)
                    .await?
                    .into_iter()
                    .map(|u| Link {
                        href: format!("/?under={}", fmt::enc(&u.code)),
                        text: u.name,
                    }),
            );
            links
        }
        None => Vec::new(),
    };
    let (heading, scope_note) = match &scope {
        Some(s) => (
            ctx.tf("overview.heading_scope", &[("name", &s.record.name)]),
            ctx.tf(
                "overview.scope_note",
                &[
                    ("level", &ctx.label("level", s.record.level.as_str())),
                    ("code", &s.record.code),
                ],
            ),
        ),
        None => (
            ctx.t("overview.heading").to_owned(),
            ctx.t("overview.city_note").to_owned(),
        ),
    };

    let figures = figures(ctx, residents, institutions, practitioners, &kinds, &staff);
    let (kinds_rows, kinds_total) = kind_rows(ctx, under, &kinds);
    let staff_rows = staff
        .iter()
        .map(|(k, n)| StaffRow {
            label: ctx.label("pkind", k.as_str()),
            count: int(*n),
            per_10k: ratio(*n, residents, 10_000.0, 1),
        })
        .collect();
    let bands = band_labels(ctx, &pyramid);
    let text = PyramidText {
        title: ctx.t("overview.pyramid_title"),
        desc: &ctx.tf("overview.pyramid_desc", &[("date", &ctx.today_str())]),
        male: ctx.t("sex.M"),
        female: ctx.t("sex.F"),
        bands: &bands,
    };
    let pyramid_svg = chart::pyramid("pyramid", &pyramid, &text);
    let band_rows = pyramid
        .iter()
        .zip(&bands)
        .map(|(b, label)| BandRow {
            band: label.clone(),
            male: int(b.male),
            female: int(b.female),
            total: int(b.male + b.female),
        })
        .collect();
    let (children, children_heading) =
        children(ctx, store, scope.as_ref().map(|s| &s.record)).await?;

    Ok(OverviewPage {
        ctx: ctx.clone(),
        heading,
        scope_note,
        crumbs,
        figures,
        kinds: kinds_rows,
        kinds_total,
        staff: staff_rows,
        staff_total: int(practitioners),
        pyramid_svg,
        bands: band_rows,
        has_residents: residents > 0,
        children,
        children_heading,
    })
}

fn figures(
    ctx: &Ctx,
    residents: i64,
    institutions: i64,
    practitioners: i64,
    kinds: &[KindSummary],
    staff: &[(PractitionerKind, i64)],
) -> Vec<Figure> {
    let beds: i64 = kinds.iter().map(|k| k.beds).sum();
    let fever: i64 = kinds.iter().map(|k| k.fever_clinics).sum();
    let npr: i64 = kinds.iter().map(|k| k.negative_pressure_rooms).sum();
    let chc: i64 = kinds
        .iter()
        .filter(|k| matches!(k.kind, InstitutionKind::Chc | InstitutionKind::Chs))
        .map(|k| k.count)
        .sum();
    let gps: i64 = staff
        .iter()
        .filter(|(k, _)| *k == PractitionerKind::Gp)
        .map(|(_, n)| n)
        .sum();
    let fig = |label: &str, value: String, unit: &str, note: String| Figure {
        label: ctx.t(label).to_owned(),
        value,
        unit: ctx.t(unit).to_owned(),
        note,
    };
    vec![
        fig(
            "overview.fig_residents",
            int(residents),
            "unit.person",
            ctx.t("overview.note_residents").to_owned(),
        ),
        fig(
            "overview.fig_institutions",
            int(institutions),
            "unit.institution",
            ctx.tf("overview.note_chc", &[("n", &int(chc))]),
        ),
        fig(
            "overview.fig_practitioners",
            int(practitioners),
            "unit.person",
            ctx.tf("overview.note_gps", &[("n", &int(gps))]),
        ),
        fig(
            "overview.fig_beds_per_1000",
            ratio(beds, residents, 1_000.0, 2),
            "unit.bed",
            ctx.tf("overview.note_beds", &[("n", &int(beds))]),
        ),
        fig(
            "overview.fig_gps_per_10k",
            ratio(gps, residents, 10_000.0, 2),
            "unit.gp",
            ctx.t("overview.note_gps_per_10k").to_owned(),
        ),
        fig(
            "overview.fig_residents_per_chc",
            ratio(residents, chc, 1.0, 0),
            "unit.person",
            ctx.t("overview.note_residents_per_chc").to_owned(),
        ),
        fig(
            "overview.fig_fever_clinics",
            int(fever),
            "unit.institution",
            ctx.t("overview.note_fever").to_owned(),
        ),
        fig(
            "overview.fig_npr",
            int(npr),
            "unit.room",
            ctx.t("overview.note_npr").to_owned(),
        ),
    ]
}

fn kind_rows(ctx: &Ctx, under: Option<&str>, kinds: &[KindSummary]) -> (Vec<KindRow>, KindRow) {
    let rows = kinds
        .iter()
        .map(|k| KindRow {
            label: ctx.label("kind", k.kind.as_str()),
            href: format!(
                "/institutions{}",
                fmt::query(&[("kind", k.kind.as_str()), ("under", under.unwrap_or(""))])
            ),
            count: int(k.count),
            beds: int(k.beds),
            npr: int(k.negative_pressure_rooms),
            fever: int(k.fever_clinics),
        })
        .collect();
    let sum = |f: fn(&KindSummary) -> i64| int(kinds.iter().map(f).sum());
    let total = KindRow {
        label: ctx.t("common.total").to_owned(),
        href: format!(
            "/institutions{}",
            fmt::query(&[("under", under.unwrap_or(""))])
        ),
        count: sum(|k| k.count),
        beds: sum(|k| k.beds),
        npr: sum(|k| k.negative_pressure_rooms),
        fever: sum(|k| k.fever_clinics),
    };
    (rows, total)
}

/// `0–4`, `5–9`, …, `85+` in the page's language.
fn band_labels(ctx: &Ctx, bars: &[PyramidBar]) -> Vec<String> {
    bars.iter()
        .enumerate()
        .map(|(i, b)| {
            let from = b.band_start.to_string();
            if i + 1 == bars.len() {
                ctx.tf("overview.band_last", &[("from", &from)])
            } else {
                ctx.tf(
                    "overview.band",
                    &[("from", &from), ("to", &(b.band_start + 4).to_string())],
                )
            }
        })
        .collect()
}

/// The units one level down, to narrow the overview; the whole city's districts when the
/// registry holds a single city.
async fn children(
    ctx: &Ctx,
    store: &Store,
    scope: Option<&OrgUnit>,
) -> Result<(Vec<Child>, String), UiError> {
    let mut parent = scope.map(|s| s.code.clone());
    let mut units = store
        .orgunit_children(parent.as_deref(), Some(ctx.today), &ctx.scope)
        .await?;
    if parent.is_none() && units.len() == 1 {
        parent = units.first().map(|u| u.unit.record.code.clone());
        units = store
            .orgunit_children(parent.as_deref(), Some(ctx.today), &ctx.scope)
            .await?;
    }
    let level = units
        .first()
        .map(|u| u.unit.record.level)
        .unwrap_or(OrgLevel::District);
    let heading = ctx.tf(
        "overview.children",
        &[("level", &ctx.label("level", level.as_str()))],
    );
    let children = units
        .into_iter()
        .map(|u| Child {
            href: format!("/?under={}", fmt::enc(&u.unit.record.code)),
            name: u.unit.record.name,
            residents: int(u.residents),
        })
        .collect();
    Ok((children, heading))
}
