//! `GET /surveillance/streams?stream=<feed/code/area/period>&from=&to=` (or the form's
//! `feed`, `code`, `area`, `period`): a stream's epidemic curve as inline SVG — the period's
//! counts as bars, the expected count and the threshold as lines, the alarms marked —, with
//! the same figures as a table.

use std::fmt::Write;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Duration;
use hc_app::surveillance_views::{self as views, CurvePoint, StreamKey};
use hc_store::Store;
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::UiError;
use super::fmt::{DASH, dec, escape};
use super::page;
use super::shared::{self, SelectOpt};
use super::surveillance::{SignalItem, Tab, area_names, feed_options, require, signal_item, tabs};
use crate::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct StreamQuery {
    stream: Option<String>,
    feed: Option<String>,
    code: Option<String>,
    area: Option<String>,
    period: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

struct PointRow {
    day: String,
    observed: String,
    expected: String,
    threshold: String,
    alarm_href: String,
}

#[derive(Template)]
#[template(path = "surveillance_stream.html")]
struct StreamPage {
    ctx: Ctx,
    tabs: Vec<Tab>,
    heading: String,
    feeds: Vec<SelectOpt>,
    code: String,
    areas: Vec<SelectOpt>,
    periods: Vec<SelectOpt>,
    from: String,
    to: String,
    chosen: bool,
    method: String,
    no_baseline: String,
    svg: String,
    rows: Vec<PointRow>,
    signals: Vec<SignalItem>,
}

/// `GET /surveillance/streams`.
pub async fn page(
    ctx: Ctx,
    State(state): State<AppState>,
    q: Result<Query<StreamQuery>, QueryRejection>,
) -> Response {
    if let Err(e) = require(&ctx) {
        return e.render(&ctx);
    }
    match build(&ctx, &state.store, q).await {
        Ok(p) => page::html(StatusCode::OK, &p),
        Err(e) => e.render(&ctx),
    }
}

async fn build(
    ctx: &Ctx,
    store: &Store,
    q: Result<Query<StreamQuery>, QueryRejection>,
) -> Result<StreamPage, UiError> {
    let Query(q) = q?;
    let stream = shared::opt(q.stream);
    let key = match &stream {
        Some(s) => Some(StreamKey::parse(s).ok_or_else(|| UiError::bad("stream", s))?),
        None => {
            let feed = shared::opt(q.feed);
            let code = shared::opt(q.code);
            let area = shared::opt(q.area);
            let period = shared::opt(q.period).unwrap_or_else(|| "day".to_owned());
            match (feed, code, area) {
                (Some(f), Some(c), Some(a)) => Some(
                    StreamKey::new(&f, &c, &a, &period)
                        .ok_or_else(|| UiError::bad("stream", &format!("{f}/{c}/{a}/{period}")))?,
                ),
                _ => None,
            }
        }
    };
    let to = shared::date("to", &shared::opt(q.to))?.unwrap_or(ctx.today);
    let from = shared::date("from", &shared::opt(q.from))?.unwrap_or_else(|| match &key {
        Some(k) if k.period == hc_surveillance::Period::Week => to - Duration::days(52 * 7),
        _ => to - Duration::days(89),
    });
    if from > to || (to - from).num_days() > 3 * 366 {
        return Err(UiError::bad("from", &from.to_string()));
    }
    let selected = match &key {
        Some(k) => Some(shared::unit(store, &ctx.scope, &k.area).await?),
        None => None,
    };
    let names = area_names(store).await?;
    let period_of = |k: &Option<StreamKey>| k.as_ref().map_or("day", |k| k.period.as_str());
    let periods = ["day", "week"]
        .into_iter()
        .map(|p| SelectOpt {
            value: p.to_owned(),
            label: ctx.label("surv_period", p),
            selected: period_of(&key) == p,
        })
        .collect();
    let mut page = StreamPage {
        ctx: ctx.clone(),
        tabs: tabs(ctx, "/surveillance/streams"),
        heading: ctx.t("surv.stream_heading").to_owned(),
        feeds: feed_options(ctx, key.as_ref().map(|k| k.feed.as_str()), true),
        code: key.as_ref().map(|k| k.code.clone()).unwrap_or_default(),
        areas: shared::area_options(ctx, store, selected.as_ref()).await?,
        periods,
        from: from.to_string(),
        to: to.to_string(),
        chosen: key.is_some(),
        method: String::new(),
        no_baseline: String::new(),
        svg: String::new(),
        rows: Vec::new(),
        signals: Vec::new(),
    };
    let Some(key) = key else {
        return Ok(page);
    };
    let view = views::stream(store, ctx.caller()?, &key, from, to)
        .await
        .map_err(|e| match e {
            hc_app::AppError::NotFound(_) => UiError::NotFound {
                what: "what.stream",
                code: key.id(),
            },
            hc_app::AppError::Invalid(_) => UiError::bad("from", &from.to_string()),
            other => other.into(),
        })?;
    let area_name = super::surveillance::name_of(&names, &key.area);
    page.heading = ctx.tf(
        "surv.stream_of",
        &[
            ("feed", &ctx.label("feed", &key.feed)),
            ("code", &key.code),
            ("area", &area_name),
            ("period", &ctx.label("surv_period", key.period.as_str())),
        ],
    );
    page.method = view
        .method
        .as_ref()
        .map(|(m, p)| format!("{m} ({p})"))
        .unwrap_or_else(|| DASH.to_owned());
    page.no_baseline = match view.no_baseline.as_deref() {
        None => String::new(),
        Some("school_days") => ctx.t("surv.no_baseline_school").to_owned(),
        Some(_) => ctx.t("surv.no_baseline").to_owned(),
    };
    let text = CurveText {
        title: page.heading.clone(),
        desc: ctx.tf(
            "surv.curve_desc",
            &[("from", &from.to_string()), ("to", &to.to_string())],
        ),
        observed: ctx.t("surv.observed").to_owned(),
        expected: ctx.t("surv.expected").to_owned(),
        threshold: ctx.t("surv.threshold").to_owned(),
        alarm: ctx.t("surv.alarm").to_owned(),
    };
    page.svg = epi_curve("curve", &view.points, &text);
    page.rows = view
        .points
        .iter()
        .map(|p| PointRow {
            day: p.day.to_string(),
            observed: dec(p.observed, 0),
            expected: super::surveillance::opt_dec(p.expected),
            threshold: super::surveillance::opt_dec(p.threshold),
            alarm_href: p
                .alarm
                .map(|id| format!("/surveillance/signals/{id}"))
                .unwrap_or_default(),
        })
        .collect();
    page.signals = view
        .signals
        .iter()
        .map(|s| signal_item(ctx, &names, s))
        .collect();
    Ok(page)
}

/// Texts of an epidemic curve, translated.
pub struct CurveText {
    /// Title (read by screen readers).
    pub title: String,
    /// Description.
    pub desc: String,
    /// Legend: bars.
    pub observed: String,
    /// Legend: expected line.
    pub expected: String,
    /// Legend: threshold line.
    pub threshold: String,
    /// Legend: alarm markers.
    pub alarm: String,
}

const W: f64 = 760.0;
const H: f64 = 320.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 34.0;
const BOTTOM: f64 = 36.0;

/// A round axis maximum at least `max`: 1, 2, 2.5 or 5 × 10^k.
fn nice(max: f64) -> f64 {
    if !max.is_finite() || max <= 1.0 {
        return 1.0;
    }
    let mut step = 1.0;
    loop {
        for m in [1.0, 2.0, 2.5, 5.0] {
            if step * m >= max {
                return step * m;
            }
        }
        step *= 10.0;
    }
}

/// An epidemic curve: a bar per period, the expected count and the threshold as lines (broken
/// where a period has none), a marker above each alarm; a legend on top; `role="img"` with a
/// title and description. Escaped; no script.
pub fn epi_curve(id: &str, points: &[CurvePoint], text: &CurveText) -> String {
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let max = points
        .iter()
        .flat_map(|p| [Some(p.observed), p.expected, p.threshold])
        .flatten()
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    let top = nice(max * 1.1);
    let n = points.len().max(1) as f64;
    let slot = plot_w / n;
    let bar = (slot * 0.8).max(0.5);
    let y = |v: f64| TOP + plot_h - (v.max(0.0) / top * plot_h).min(plot_h);
    let x = |i: usize| LEFT + slot * i as f64 + slot / 2.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart epi" viewBox="0 0 {W} {H}" role="img" aria-labelledby="{id}-t {id}-d" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        escape(&text.title),
        escape(&text.desc)
    );
    // Legend.
    let _ = write!(
        s,
        r#"<g class="ch-legend" aria-hidden="true"><rect class="ep-bar" x="{LEFT}" y="8" width="12" height="12"/><text x="{}" y="18">{}</text><line class="ep-expected" x1="{}" y1="14" x2="{}" y2="14"/><text x="{}" y="18">{}</text><line class="ep-threshold" x1="{}" y1="14" x2="{}" y2="14"/><text x="{}" y="18">{}</text><path class="ep-alarm" d="M{} 8 l6 10 h-12 z"/><text x="{}" y="18">{}</text></g>"#,
        LEFT + 16.0,
        escape(&text.observed),
        LEFT + 130.0,
        LEFT + 154.0,
        LEFT + 158.0,
        escape(&text.expected),
        LEFT + 260.0,
        LEFT + 284.0,
        LEFT + 288.0,
        escape(&text.threshold),
        LEFT + 396.0,
        LEFT + 408.0,
        escape(&text.alarm)
    );
    // Grid and ticks.
    for frac in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let v = top * frac;
        let yy = y(v);
        let _ = write!(
            s,
            r#"<line class="ch-grid" x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}"/><text class="ch-tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            W - RIGHT,
            LEFT - 6.0,
            yy + 4.0,
            dec(v, if top < 4.0 { 1 } else { 0 })
        );
    }
    // Bars.
    for (i, p) in points.iter().enumerate() {
        let top_y = y(p.observed);
        let class = if p.alarm.is_some() {
            "ep-bar ep-bar-alarm"
        } else {
            "ep-bar"
        };
        let _ = write!(
            s,
            r#"<rect class="{class}" x="{:.1}" y="{top_y:.1}" width="{bar:.1}" height="{:.1}"><title>{}: {}</title></rect>"#,
            x(i) - bar / 2.0,
            (TOP + plot_h - top_y).max(0.0),
            p.day,
            dec(p.observed, 0)
        );
    }
    // Lines, broken where a value is missing.
    for (class, get) in [
        (
            "ep-expected",
            (|p: &CurvePoint| p.expected) as fn(&CurvePoint) -> Option<f64>,
        ),
        ("ep-threshold", |p: &CurvePoint| p.threshold),
    ] {
        let mut d = String::new();
        let mut pen = false;
        for (i, p) in points.iter().enumerate() {
            match get(p).filter(|v| v.is_finite()) {
                Some(v) => {
                    let _ = write!(d, "{}{:.1} {:.1} ", if pen { "L" } else { "M" }, x(i), y(v));
                    pen = true;
                }
                None => pen = false,
            }
        }
        if !d.is_empty() {
            let _ = write!(s, r#"<path class="{class}" d="{}"/>"#, d.trim_end());
        }
    }
    // Alarm markers above the bars.
    for (i, p) in points.iter().enumerate().filter(|(_, p)| p.alarm.is_some()) {
        let top_y = y(p.observed).min(p.threshold.map_or(f64::MAX, y)) - 4.0;
        let _ = write!(
            s,
            r#"<path class="ep-alarm" d="M{:.1} {:.1} l5 -9 h-10 z"><title>{}: {}</title></path>"#,
            x(i),
            top_y,
            p.day,
            escape(&text.alarm)
        );
    }
    // Axis and first, middle and last dates.
    let axis = TOP + plot_h;
    let _ = write!(
        s,
        r#"<line class="ch-axis" x1="{LEFT}" y1="{axis}" x2="{:.1}" y2="{axis}"/>"#,
        W - RIGHT
    );
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        let mid = points.len() / 2;
        let mut ticks = vec![(0, first.day, "start"), (points.len() - 1, last.day, "end")];
        if let Some(m) = points.get(mid).filter(|_| points.len() > 4) {
            ticks.push((mid, m.day, "middle"));
        }
        for (i, day, anchor) in ticks {
            let _ = write!(
                s,
                r#"<text class="ch-tick" x="{:.1}" y="{:.1}" text-anchor="{anchor}">{day}</text>"#,
                x(i),
                axis + 18.0
            );
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn the_curve_has_a_bar_per_period_broken_lines_and_alarm_markers() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        let points = vec![
            CurvePoint {
                day: day(1),
                observed: 3.0,
                expected: Some(2.0),
                threshold: Some(5.0),
                alarm: None,
            },
            CurvePoint {
                day: day(2),
                observed: 4.0,
                expected: None,
                threshold: None,
                alarm: None,
            },
            CurvePoint {
                day: day(3),
                observed: 12.0,
                expected: Some(2.5),
                threshold: Some(6.0),
                alarm: Some(7),
            },
        ];
        let text = CurveText {
            title: "A<B".into(),
            desc: "d".into(),
            observed: "obs".into(),
            expected: "exp".into(),
            threshold: "thr".into(),
            alarm: "alarm".into(),
        };
        let svg = epi_curve("c", &points, &text);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("<title id=\"c-t\">A&lt;B</title>"));
        // The legend's swatch and a bar per period.
        assert_eq!(svg.matches("<rect class=\"ep-bar").count(), 4);
        assert_eq!(svg.matches("ep-bar-alarm").count(), 1);
        // Two separate pieces of each line: M … then M again after the gap.
        let expected = svg.split("class=\"ep-expected\" d=\"").nth(1).unwrap();
        assert_eq!(expected.split('"').next().unwrap().matches('M').count(), 2);
        assert_eq!(
            svg.matches("<path class=\"ep-alarm\" d=").count(),
            2,
            "legend and one alarm"
        );
        assert_eq!(nice(0.0), 1.0);
        assert_eq!(nice(13.2), 20.0);
        assert_eq!(nice(2.2), 2.5);
        // No points: an empty, valid chart.
        let empty = epi_curve("e", &[], &text);
        assert!(empty.ends_with("</svg>"));
    }
}
