//! `GET /surveillance`: the day's signals and events by alert level, with the map of the
//! city's districts (or streets) coloured by the highest open signal in each;
//! `GET /surveillance/response`: response times per district against the 24-hour target;
//! `GET /surveillance/truth`: the demo's injected outbreaks against the signals. Also the
//! pieces the other surveillance pages share and the header's badge.

use std::collections::HashMap;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hc_app::surveillance_views::{self as views, ALERTS, BoardFilter, FEEDS};
use hc_core::access::Permission;
use hc_store::{EventRow, SignalRow, Store};
use hc_surveillance::{Alert, Level};
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::UiError;
use super::fmt::{self, DASH, dec, int};
use super::page;
use super::shared::{self, SelectOpt};
use crate::AppState;

/// The badge counts up to this many, then shows `99+`.
pub const BADGE_LIMIT: usize = 99;

/// Unanswered open signals and events for the header's badge (`None` for roles that do not
/// see surveillance, or when the count fails: the page is shown without it).
pub async fn unanswered(ctx: &Ctx, store: &Store) -> Option<usize> {
    if !ctx.nav_surveillance() {
        return None;
    }
    let caller = ctx.caller.as_ref()?;
    match hc_app::workflow::notifications(store, caller, BADGE_LIMIT as i64 + 1).await {
        Ok(n) => Some(n.len()),
        Err(e) => {
            tracing::warn!(error = %e, "counting the unanswered signals failed");
            None
        }
    }
}

/// 403 unless the role sees signals (or runs the detection).
pub(super) fn require(ctx: &Ctx) -> Result<(), UiError> {
    if ctx.can(Permission::ViewSurveillance) || ctx.can(Permission::RunDetection) {
        Ok(())
    } else {
        Err(UiError::Forbidden)
    }
}

/// Names of every org unit (names are not personal data).
pub(super) async fn area_names(store: &Store) -> Result<HashMap<String, String>, UiError> {
    Ok(store
        .orgunit_tree()
        .await?
        .into_iter()
        .map(|u| (u.code, u.name))
        .collect())
}

/// The name of area `code`, or the code.
pub(super) fn name_of(names: &HashMap<String, String>, code: &str) -> String {
    names.get(code).cloned().unwrap_or_else(|| code.to_owned())
}

/// A figure with one decimal, or a dash.
pub(super) fn opt_dec(x: Option<f64>) -> String {
    x.map_or_else(|| DASH.to_owned(), |v| dec(v, 1))
}

/// A signal as a row of a list.
pub(super) struct SignalItem {
    pub href: String,
    pub id: i64,
    pub alert: String,
    pub alert_label: String,
    pub feed: String,
    pub code: String,
    pub area: String,
    pub level: String,
    pub stream_href: String,
    pub first_day: String,
    pub last_day: String,
    pub days: String,
    pub observed: String,
    pub expected: String,
    pub threshold: String,
    pub method: String,
    pub status: String,
}

pub(super) fn signal_item(ctx: &Ctx, names: &HashMap<String, String>, s: &SignalRow) -> SignalItem {
    SignalItem {
        href: format!("/surveillance/signals/{}", s.id),
        id: s.id,
        alert: s.alert.clone(),
        alert_label: ctx.label("alert", &s.alert),
        feed: ctx.label("feed", &s.feed),
        code: s.code.clone(),
        area: name_of(names, &s.area_code),
        level: ctx.label("level", &s.level),
        stream_href: format!(
            "/surveillance/streams{}",
            fmt::query(&[("stream", &s.stream)])
        ),
        first_day: s.first_day.to_string(),
        last_day: s.last_day.to_string(),
        days: int(s.days),
        observed: dec(s.observed, 0),
        expected: opt_dec(s.expected),
        threshold: opt_dec(s.threshold),
        method: s.method.clone(),
        status: ctx.label("surv_stage", &s.status),
    }
}

/// An event as a row of a list.
pub(super) struct EventItem {
    pub href: String,
    pub id: i64,
    pub alert: String,
    pub alert_label: String,
    pub rule: String,
    pub area: String,
    pub first_day: String,
    pub last_day: String,
    pub score: String,
    pub sources: String,
    pub signals: String,
    pub status: String,
}

pub(super) fn event_item(
    ctx: &Ctx,
    names: &HashMap<String, String>,
    e: &EventRow,
    signals: Option<usize>,
) -> EventItem {
    let sources: Vec<String> = serde_json::from_str(&e.sources).unwrap_or_default();
    EventItem {
        href: format!("/surveillance/events/{}", e.id),
        id: e.id,
        alert: e.alert.clone(),
        alert_label: ctx.label("alert", &e.alert),
        rule: e.rule.clone(),
        area: name_of(names, &e.area_code),
        first_day: e.first_day.to_string(),
        last_day: e.last_day.to_string(),
        score: dec(e.score, 2),
        sources: sources
            .iter()
            .map(|f| ctx.label("feed", f))
            .collect::<Vec<_>>()
            .join(ctx.t("common.list_sep")),
        signals: signals.map_or_else(|| DASH.to_owned(), |n| int(n as i64)),
        status: ctx.label("surv_stage", &e.status),
    }
}

/// The sub-navigation of the surveillance pages.
pub(super) struct Tab {
    pub href: &'static str,
    pub text: String,
    pub current: bool,
}

pub(super) fn tabs(ctx: &Ctx, current: &str) -> Vec<Tab> {
    [
        ("/surveillance", "surv.tab_board"),
        ("/surveillance/streams", "surv.tab_streams"),
        ("/surveillance/response", "surv.tab_response"),
        ("/surveillance/truth", "surv.tab_truth"),
    ]
    .into_iter()
    .map(|(href, key)| Tab {
        href,
        text: ctx.t(key).to_owned(),
        current: href == current,
    })
    .collect()
}

#[derive(Debug, Default, Deserialize)]
pub struct BoardQuery {
    date: Option<String>,
    alert: Option<String>,
    feed: Option<String>,
    area: Option<String>,
    map: Option<String>,
}

/// The signals and events of one alert level.
struct AlertGroup {
    alert: String,
    heading: String,
    counts: String,
    signals: Vec<SignalItem>,
    events: Vec<EventItem>,
}

/// A row of the map's text alternative.
struct MapRow {
    name: String,
    href: String,
    alert_label: String,
    alert: String,
}

#[derive(Template)]
#[template(path = "surveillance.html")]
struct BoardPage {
    ctx: Ctx,
    tabs: Vec<Tab>,
    date: String,
    alerts: Vec<SelectOpt>,
    feeds: Vec<SelectOpt>,
    areas: Vec<SelectOpt>,
    street_map: bool,
    map_svg: String,
    map_rows: Vec<MapRow>,
    map_other_href: String,
    legend: Vec<(String, String)>,
    levels: Vec<AlertGroup>,
    lead: String,
    totals: String,
}

/// `GET /surveillance`.
pub async fn board(
    ctx: Ctx,
    State(state): State<AppState>,
    q: Result<Query<BoardQuery>, QueryRejection>,
) -> Response {
    if let Err(e) = require(&ctx) {
        return e.render(&ctx);
    }
    match build_board(&ctx, &state.store, q).await {
        Ok(p) => page::html(StatusCode::OK, &p),
        Err(e) => e.render(&ctx),
    }
}

/// The options of an alert filter.
fn alert_options(ctx: &Ctx, current: Option<Alert>) -> Vec<SelectOpt> {
    let mut opts = vec![SelectOpt {
        value: String::new(),
        label: ctx.t("common.all").to_owned(),
        selected: current.is_none(),
    }];
    opts.extend(ALERTS.iter().map(|a| SelectOpt {
        value: a.as_str().to_owned(),
        label: ctx.label("alert", a.as_str()),
        selected: current == Some(*a),
    }));
    opts
}

/// The options of a feed filter (`all` first unless `required`).
pub(super) fn feed_options(ctx: &Ctx, current: Option<&str>, required: bool) -> Vec<SelectOpt> {
    let mut opts = Vec::new();
    if !required {
        opts.push(SelectOpt {
            value: String::new(),
            label: ctx.t("common.all").to_owned(),
            selected: current.is_none(),
        });
    }
    opts.extend(FEEDS.iter().map(|f| SelectOpt {
        value: (*f).to_owned(),
        label: ctx.label("feed", f),
        selected: current == Some(*f),
    }));
    opts
}

/// Fill colours of the alert levels on the map (the legend shows the same), and of areas
/// without a signal.
pub(super) fn alert_fill(alert: Option<Alert>) -> &'static str {
    match alert {
        Some(Alert::Red) => "#c62828",
        Some(Alert::Orange) => "#ef6c00",
        Some(Alert::Yellow) => "#f9c80e",
        Some(Alert::Blue) => "#1e6fd9",
        None => "#dfe6ee",
    }
}

async fn build_board(
    ctx: &Ctx,
    store: &Store,
    q: Result<Query<BoardQuery>, QueryRejection>,
) -> Result<BoardPage, UiError> {
    let Query(q) = q?;
    let date = shared::date("date", &shared::opt(q.date))?.unwrap_or(ctx.today);
    let alert = shared::coded("alert", &shared::opt(q.alert), Alert::parse)?;
    let feed = shared::opt(q.feed);
    if let Some(f) = feed.as_deref().filter(|f| !FEEDS.contains(f)) {
        return Err(UiError::bad("feed", f));
    }
    let area = shared::org_code("area", &shared::opt(q.area))?;
    let street_map = match shared::opt(q.map).as_deref() {
        None | Some("district") => false,
        Some("street") => true,
        Some(other) => return Err(UiError::bad("map", other)),
    };
    let selected = match &area {
        Some(c) => Some(shared::unit(store, &ctx.scope, c).await?),
        None => None,
    };
    let filter = BoardFilter {
        alert,
        feed: feed.clone(),
        area: area.clone(),
    };
    let board = views::board(store, ctx.caller()?, date, &filter).await?;
    let names = area_names(store).await?;

    // The map: districts or streets in the caller's jurisdiction.
    let map_level = if street_map {
        Level::Street
    } else {
        Level::District
    };
    let shapes: Vec<hc_geo::Shape> = store
        .shapes()
        .await?
        .into_iter()
        .filter(|s| views::level_of(&s.code) == Some(map_level) && ctx.scope.contains_unit(&s.code))
        .filter_map(|s| {
            hc_geo::Shape::from_geometry_json(s.code, &s.geometry, Some([s.x, s.y])).ok()
        })
        .collect();
    let base = |area: &str| {
        format!(
            "/surveillance{}",
            fmt::query(&[
                ("date", &date.to_string()),
                ("map", if street_map { "street" } else { "" }),
                ("area", area),
            ])
        )
    };
    let mut map_rows: Vec<MapRow> = shapes
        .iter()
        .map(|s| {
            let a = board.area_alerts.get(&s.code).copied();
            MapRow {
                name: name_of(&names, &s.code),
                href: base(&s.code),
                alert_label: a.map_or_else(
                    || ctx.t("surv.no_signal").to_owned(),
                    |a| ctx.label("alert", a.as_str()),
                ),
                alert: a.map_or("none", Alert::as_str).to_owned(),
            }
        })
        .collect();
    map_rows.sort_by(|a, b| a.name.cmp(&b.name));
    let map_svg = if shapes.is_empty() {
        String::new()
    } else {
        let style = |code: &str| {
            let a = board.area_alerts.get(code).copied();
            let label = a.map_or_else(
                || ctx.t("surv.no_signal").to_owned(),
                |a| ctx.label("alert", a.as_str()),
            );
            let name = name_of(&names, code);
            Some(hc_geo::Area {
                fill: alert_fill(a).to_owned(),
                title: format!("{name}: {label}"),
                href: Some(base(code)),
                label: (!street_map).then_some(name),
            })
        };
        let mut opts = hc_geo::SvgOptions::new(
            ctx.t(if street_map {
                "surv.map_title_street"
            } else {
                "surv.map_title"
            }),
            ctx.tf("surv.map_desc", &[("date", &date.to_string())]),
        );
        opts.id = "surv-map".to_owned();
        opts.width = 720.0;
        opts.unstyled = hc_geo::Unstyled::Skip;
        hc_geo::render_svg(&shapes, &style, &opts)
    };
    let legend = ALERTS
        .iter()
        .map(|a| (a.as_str().to_owned(), ctx.label("alert", a.as_str())))
        .chain(std::iter::once((
            "none".to_owned(),
            ctx.t("surv.no_signal").to_owned(),
        )))
        .collect();

    let levels = ALERTS
        .iter()
        .map(|a| AlertGroup {
            alert: a.as_str().to_owned(),
            heading: ctx.label("alert", a.as_str()),
            counts: ctx.tf(
                "surv.level_counts",
                &[
                    (
                        "signals",
                        &int(board
                            .signals
                            .iter()
                            .filter(|s| s.alert == a.as_str())
                            .count() as i64),
                    ),
                    (
                        "events",
                        &int(board
                            .events
                            .iter()
                            .filter(|(e, _)| e.alert == a.as_str())
                            .count() as i64),
                    ),
                ],
            ),
            signals: board
                .signals
                .iter()
                .filter(|s| s.alert == a.as_str())
                .map(|s| signal_item(ctx, &names, s))
                .collect(),
            events: board
                .events
                .iter()
                .filter(|(e, _)| e.alert == a.as_str())
                .map(|(e, sig)| event_item(ctx, &names, e, Some(sig.len())))
                .collect(),
        })
        .collect();

    // District filter: the districts (and the chosen unit) in the jurisdiction.
    let mut areas = vec![SelectOpt {
        value: String::new(),
        label: ctx.t("common.all_areas").to_owned(),
        selected: area.is_none(),
    }];
    let mut districts: Vec<(&String, &String)> = names
        .iter()
        .filter(|(c, _)| views::level_of(c) == Some(Level::District) && ctx.scope.contains_unit(c))
        .collect();
    districts.sort();
    if let Some(s) = selected
        .as_ref()
        .filter(|s| views::level_of(&s.record.code) != Some(Level::District))
    {
        areas.push(SelectOpt {
            value: s.record.code.clone(),
            label: s.record.name.clone(),
            selected: true,
        });
    }
    areas.extend(districts.into_iter().map(|(c, n)| SelectOpt {
        value: c.clone(),
        label: n.clone(),
        selected: area.as_deref() == Some(c.as_str()),
    }));

    Ok(BoardPage {
        ctx: ctx.clone(),
        tabs: tabs(ctx, "/surveillance"),
        date: date.to_string(),
        alerts: alert_options(ctx, alert),
        feeds: feed_options(ctx, feed.as_deref(), false),
        areas,
        street_map,
        map_svg,
        map_rows,
        map_other_href: format!(
            "/surveillance{}",
            fmt::query(&[
                ("date", &date.to_string()),
                ("map", if street_map { "" } else { "street" }),
            ])
        ),
        legend,
        levels,
        lead: ctx.tf("surv.lead", &[("date", &date.to_string())]),
        totals: ctx.tf(
            "surv.totals",
            &[
                ("signals", &int(board.signals.len() as i64)),
                ("events", &int(board.events.len() as i64)),
            ],
        ),
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct ResponseQuery {
    from: Option<String>,
    to: Option<String>,
}

struct ResponseRow {
    district: String,
    signals: String,
    answered: String,
    within: String,
    within_share: String,
    median: String,
    p90: String,
    open: String,
    late: bool,
}

#[derive(Template)]
#[template(path = "surveillance_response.html")]
struct ResponsePage {
    ctx: Ctx,
    tabs: Vec<Tab>,
    from: String,
    to: String,
    target: String,
    rows: Vec<ResponseRow>,
    unavailable: bool,
}

/// `GET /surveillance/response`.
pub async fn response(
    ctx: Ctx,
    State(state): State<AppState>,
    q: Result<Query<ResponseQuery>, QueryRejection>,
) -> Response {
    if let Err(e) = require(&ctx) {
        return e.render(&ctx);
    }
    match build_response(&ctx, &state.store, q).await {
        Ok(p) => page::html(StatusCode::OK, &p),
        Err(e) => e.render(&ctx),
    }
}

async fn build_response(
    ctx: &Ctx,
    store: &Store,
    q: Result<Query<ResponseQuery>, QueryRejection>,
) -> Result<ResponsePage, UiError> {
    let Query(q) = q?;
    let to = shared::date("to", &shared::opt(q.to))?.unwrap_or(ctx.today);
    let from =
        shared::date("from", &shared::opt(q.from))?.unwrap_or(to - chrono::Duration::days(90));
    if from > to {
        return Err(UiError::bad("from", &from.to_string()));
    }
    let target = hc_app::workflow::RESPONSE_TARGET_HOURS;
    let (rows, unavailable) =
        match hc_app::workflow::response_times(store, ctx.caller()?, from, to).await {
            Ok(list) => (
                list.into_iter()
                    .map(|d| ResponseRow {
                        district: if d.district_name.is_empty() {
                            d.district_code.clone()
                        } else {
                            d.district_name.clone()
                        },
                        signals: int(d.signals as i64),
                        answered: int(d.answered as i64),
                        within: int(d.within_target as i64),
                        within_share: if d.answered > 0 {
                            format!(
                                "{}%",
                                dec(100.0 * d.within_target as f64 / d.answered as f64, 0)
                            )
                        } else {
                            DASH.to_owned()
                        },
                        median: opt_dec(d.median_hours),
                        p90: opt_dec(d.p90_hours),
                        open: int(d.open as i64),
                        late: d.median_hours.is_some_and(|h| h > target),
                    })
                    .collect(),
                false,
            ),
            Err(hc_app::AppError::Forbidden(_)) => return Err(UiError::Forbidden),
            Err(e) => {
                tracing::warn!(error = %e, "response times are not available");
                (Vec::new(), true)
            }
        };
    Ok(ResponsePage {
        ctx: ctx.clone(),
        tabs: tabs(ctx, "/surveillance/response"),
        from: from.to_string(),
        to: to.to_string(),
        target: dec(target, 0),
        rows,
        unavailable,
    })
}

struct TruthStreamRow {
    feed: String,
    code: String,
    area: String,
    days: String,
    extra: String,
    detected: bool,
    signal_href: String,
    signal_day: String,
    delay: String,
}

struct TruthRow {
    description: String,
    first_day: String,
    detected: bool,
    delay: String,
    streams: Vec<TruthStreamRow>,
}

#[derive(Template)]
#[template(path = "surveillance_truth.html")]
struct TruthPage {
    ctx: Ctx,
    tabs: Vec<Tab>,
    summary: String,
    streams_summary: String,
    median: String,
    rows: Vec<TruthRow>,
}

/// `GET /surveillance/truth`.
pub async fn truth(ctx: Ctx, State(state): State<AppState>) -> Response {
    if let Err(e) = require(&ctx) {
        return e.render(&ctx);
    }
    match build_truth(&ctx, &state.store).await {
        Ok(p) => page::html(StatusCode::OK, &p),
        Err(e) => e.render(&ctx),
    }
}

async fn build_truth(ctx: &Ctx, store: &Store) -> Result<TruthPage, UiError> {
    let t = views::truth(store, ctx.caller()?).await?;
    let names = area_names(store).await?;
    let days = |n: Option<i64>| {
        n.map_or_else(
            || DASH.to_owned(),
            |d| ctx.tf("surv.n_days", &[("n", &int(d))]),
        )
    };
    let rows = t
        .outbreaks
        .iter()
        .map(|o| TruthRow {
            description: o.description.clone(),
            first_day: o.first_day.to_string(),
            detected: o.delay_days.is_some(),
            delay: days(o.delay_days),
            streams: o
                .streams
                .iter()
                .map(|s| TruthStreamRow {
                    feed: ctx.label("feed", &s.outbreak.feed),
                    code: s.outbreak.code.clone(),
                    area: name_of(&names, &s.outbreak.area_code),
                    days: format!("{} – {}", s.outbreak.first_day, s.outbreak.last_day),
                    extra: int(s.outbreak.extra),
                    detected: s.detection.signal.is_some(),
                    signal_href: s
                        .detection
                        .signal
                        .map(|id| format!("/surveillance/signals/{id}"))
                        .unwrap_or_default(),
                    signal_day: s
                        .detection
                        .signal_day
                        .map_or_else(|| DASH.to_owned(), |d| d.to_string()),
                    delay: days(s.detection.delay_days),
                })
                .collect(),
        })
        .collect();
    Ok(TruthPage {
        ctx: ctx.clone(),
        tabs: tabs(ctx, "/surveillance/truth"),
        summary: ctx.tf(
            "surv.truth_summary",
            &[
                ("k", &int(t.summary.detected as i64)),
                ("n", &int(t.summary.total as i64)),
            ],
        ),
        streams_summary: ctx.tf(
            "surv.truth_streams",
            &[
                ("k", &int(t.streams.detected as i64)),
                ("n", &int(t.streams.total as i64)),
            ],
        ),
        median: t.summary.median_delay.map_or_else(
            || DASH.to_owned(),
            |m| ctx.tf("surv.n_days", &[("n", &dec(m, 1))]),
        ),
        rows,
    })
}
