//! The surveillance pages (issue #7) on a small seeded city with two districts: visits in
//! through the feed, a detection run, shapes for the map, an injected outbreak; then each
//! page as the CDC analyst, the jurisdiction of a district bureau, the masked and audited line
//! list, and the verification form's checks.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{Duration, NaiveDate};
use hc_app::audit::Caller;
use hc_app::feeds::{FeedKind, FeedRules, receive_batch};
use hc_store::testkit::backends;
use hc_store::{AuditFilter, DemoOutbreak, EventWrite, SignalFilter, Store};
use serde_json::{Value, json};

use crate::common::{Resp, TestApp};
use crate::ui::csrf_of;

/// The run's day.
fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 20).unwrap()
}

/// A visit to the seeded hospital from `community`: ILI when `ili`.
fn visit(id: &str, d: NaiveDate, community: &str, ili: bool) -> Value {
    let (complaint, t) = if ili {
        ("发热2天，咳嗽、咽痛", "38.7")
    } else {
        ("复诊取药", "36.6")
    };
    json!({
        "record_id": id, "institution_code": "H440305001", "visit_time": format!("{d} 09:00"),
        "community_code": community, "age": 34, "sex": "F", "chief_complaint": complaint,
        "diagnosis_codes": "", "temperature": t,
    })
}

/// Sixty quiet days in three communities of two districts, then two days of 14 extra ILI
/// visits a day in 南头社区 (南山区) and in 南园社区 (福田区).
fn visits() -> Vec<Value> {
    let mut out = Vec::new();
    let communities = ["440305001001", "440305001002", "440304001001"];
    for t in 0..60 {
        let d = day() - Duration::days(59 - t);
        for (k, c) in communities.iter().enumerate() {
            for i in 0..(2 + (t as usize + k) % 2) {
                out.push(visit(&format!("{c}-{d}-i{i}"), d, c, true));
            }
            for i in 0..10 {
                out.push(visit(&format!("{c}-{d}-o{i}"), d, c, false));
            }
        }
        if t >= 58 {
            for c in ["440305001001", "440304001001"] {
                for i in 0..14 {
                    out.push(visit(&format!("x-{c}-{d}-{i}"), d, c, true));
                }
            }
        }
    }
    out
}

/// Shapes for every org unit, made up by hc-geo.
async fn shapes(s: &Store) {
    let units: Vec<hc_geo::Unit> = s
        .orgunit_tree()
        .await
        .unwrap()
        .into_iter()
        .map(|u| hc_geo::Unit {
            level: match u.level.as_str() {
                "city" => hc_geo::Level::City,
                "district" => hc_geo::Level::District,
                "street" => hc_geo::Level::Street,
                _ => hc_geo::Level::Community,
            },
            code: u.code,
            parent_code: u.parent_code,
            weight: 1.0,
        })
        .collect();
    let rows: Vec<hc_store::ShapeRow> = hc_geo::generate(&units)
        .unwrap()
        .into_iter()
        .map(|sh| hc_store::ShapeRow {
            geometry: sh.geometry_json(),
            x: sh.label[0],
            y: sh.label[1],
            code: sh.code,
            source: "test".into(),
        })
        .collect();
    s.put_shapes(&rows).await.unwrap();
}

/// The seeded city with a second district, its feeds run through detection, shapes, an event
/// over the 南山 community signal, and two injected outbreaks (one found, one not).
async fn city(backend: hc_store::Backend) -> (TestApp, i64, i64, i64) {
    let app = TestApp::seeded(backend).await;
    app.seed_second_district().await;
    let s = &app.db.store;
    let rules = FeedRules::builtin().unwrap();
    let records = visits();
    for chunk in records.chunks(5_000) {
        let report = receive_batch(
            s,
            &Caller::cli(),
            &rules,
            FeedKind::Visits,
            chunk,
            day() + Duration::days(5),
        )
        .await
        .unwrap();
        assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    }
    let config = Arc::new(hc_surveillance::Config::builtin().unwrap());
    hc_app::surveillance::run(
        s,
        &Caller::cli(),
        &config,
        day(),
        Some(day() - Duration::days(1)),
    )
    .await
    .unwrap();
    shapes(s).await;
    let all = s.signals(&SignalFilter::default()).await.unwrap();
    let find = |area: &str| {
        all.iter()
            .find(|r| r.area_code == area && r.code == "ili")
            .unwrap_or_else(|| panic!("no ILI signal in {area}: {all:?}"))
            .clone()
    };
    let nanshan = find("440305001001");
    let futian = find("440304001001");
    let events = s
        .write_events(
            nanshan.run_id,
            &[EventWrite {
                id: None,
                rule: "ili-multi".into(),
                area_code: "440305001".into(),
                level: "street".into(),
                alert: "orange".into(),
                score: 2.5,
                first_day: nanshan.first_day,
                last_day: nanshan.last_day,
                sources: "[\"visits\"]".into(),
                explanation: "{\"contributions\":{\"visits\":1.0}}".into(),
                signals: vec![nanshan.id],
                notify: Vec::new(),
            }],
        )
        .await
        .unwrap();
    s.put_demo_outbreaks(&[
        DemoOutbreak {
            feed: "visits".into(),
            code: "ili".into(),
            area_code: "440305001001".into(),
            first_day: day() - Duration::days(1),
            last_day: day(),
            extra: 28,
            description: "南头社区流感样病例聚集 / ILI cluster in Nantou".into(),
        },
        DemoOutbreak {
            feed: "visits".into(),
            code: "rash".into(),
            area_code: "440305001002".into(),
            first_day: day() - Duration::days(3),
            last_day: day(),
            extra: 3,
            description: "前海社区出疹 / rash in Qianhai".into(),
        },
    ])
    .await
    .unwrap();
    (app, nanshan.id, futian.id, events[0])
}

async fn page_as(app: &TestApp, token: &str, uri: &str) -> Resp {
    app.send(
        Request::get(uri)
            .header(header::COOKIE, format!("hc_session={token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

fn ok(r: &Resp) -> &str {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.starts_with("<!DOCTYPE html>"));
    &r.body
}

#[tokio::test]
async fn the_cdc_sees_the_days_signals_map_curves_details_and_truth() {
    for backend in backends() {
        let (app, nanshan, futian, event) = city(backend).await;
        let cdc = app.login_new("cdc", "cdc_analyst", None, None).await;
        let date = day().to_string();

        // Today's board: both districts' signals, grouped by level, and the map.
        let r = page_as(&app, &cdc, &format!("/surveillance?date={date}")).await;
        let body = ok(&r).to_owned();
        assert!(body.contains("预警信号与事件"), "{body}");
        assert!(body.contains("href=\"/surveillance\" aria-current=\"page\""));
        assert!(body.contains(&format!("/surveillance/signals/{nanshan}\"")));
        assert!(body.contains(&format!("/surveillance/signals/{futian}\"")));
        assert!(body.contains(&format!("/surveillance/events/{event}\"")));
        assert!(
            body.contains("id=\"surv-map-title\"") || body.contains("role=\"img\""),
            "{body}"
        );
        assert!(body.contains("南山区") && body.contains("福田区"));
        assert!(body.contains("class=\"legend\""));
        assert!(
            body.contains("href=\"/surveillance?date=2026-03-20&amp;area=440305\"")
                || body.contains("area=440305")
        );
        // Streets, filters, and a bad date.
        let r = page_as(&app, &cdc, &format!("/surveillance?date={date}&map=street")).await;
        assert!(ok(&r).contains("南头街道"));
        let r = page_as(
            &app,
            &cdc,
            &format!("/surveillance?date={date}&area=440304"),
        )
        .await;
        let body = ok(&r).to_owned();
        assert!(body.contains(&format!("/surveillance/signals/{futian}\"")));
        assert!(!body.contains(&format!("/surveillance/signals/{nanshan}\"")));
        let r = page_as(&app, &cdc, &format!("/surveillance?date={date}&feed=cases")).await;
        assert!(!ok(&r).contains(&format!("/surveillance/signals/{nanshan}\"")));
        assert_eq!(
            page_as(&app, &cdc, "/surveillance?date=yesterday")
                .await
                .status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            page_as(&app, &cdc, "/surveillance?alert=purple")
                .await
                .status,
            StatusCode::BAD_REQUEST
        );
        // Another day: nothing.
        let r = page_as(&app, &cdc, "/surveillance?date=2026-01-05").await;
        assert!(ok(&r).contains("没有预警信号"));

        // The community stream's epidemic curve, with its alarm, as a chart and a table.
        let uri = format!(
            "/surveillance/streams?stream=visits/ili/440305001001/day&from=2026-02-20&to={date}"
        );
        let r = page_as(&app, &cdc, &uri).await;
        let body = ok(&r).to_owned();
        assert!(body.contains("<svg class=\"chart epi\""), "{body}");
        assert!(
            body.contains("ep-bar-alarm") && body.contains("ep-threshold"),
            "{body}"
        );
        assert!(body.contains("南头社区"));
        assert!(body.contains(&format!("href=\"/surveillance/signals/{nanshan}\"")));
        // The same chosen through the form's fields; a malformed stream is refused.
        let r = page_as(
            &app,
            &cdc,
            &format!("/surveillance/streams?feed=visits&code=ili&area=440305&period=day&to={date}"),
        )
        .await;
        assert!(ok(&r).contains("<svg class=\"chart epi\""));
        let r = page_as(
            &app,
            &cdc,
            "/surveillance/streams?stream=visits/ili/4403/day",
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(ok(&page_as(&app, &cdc, "/surveillance/streams").await).contains("name=\"code\""));

        // The signal: its explanation, its event, and the masked line list.
        let r = page_as(&app, &cdc, &format!("/surveillance/signals/{nanshan}")).await;
        let body = ok(&r).to_owned();
        let engine = app.db.store.signal(nanshan).await.unwrap().0.engine_version;
        for text in [
            "ears",
            engine.as_str(),
            "病例清单",
            "30–39",
            "ili=1",
            "核实处置",
        ] {
            assert!(body.contains(text), "{text}: {body}");
        }
        assert!(body.contains(&format!("/surveillance/events/{event}\"")));
        assert!(!body.contains("咳嗽"), "no free text in the line list");
        assert!(!body.contains("x-440305001001-"), "record ids are masked");
        assert!(body.contains("x-****"), "{body}");
        assert!(body.contains(&format!(
            "action=\"/surveillance/signals/{nanshan}/actions\""
        )));
        // The read of the line list is audited.
        let rows = app
            .db
            .store
            .audit_events(&AuditFilter {
                actor: Some("cdc".into()),
                action: Some("read".into()),
                limit: 50,
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        assert!(
            rows.iter().any(|a| a.entity == "surv_line_list"
                && a.entity_id.as_deref() == Some(nanshan.to_string().as_str())),
            "{rows:?}"
        );

        // The event, its signal and the fusion's contributions.
        let r = page_as(&app, &cdc, &format!("/surveillance/events/{event}")).await;
        let body = ok(&r).to_owned();
        assert!(
            body.contains("ili-multi") && body.contains("症候群就诊"),
            "{body}"
        );
        assert!(body.contains(&format!("/surveillance/signals/{nanshan}\"")));
        assert_eq!(
            page_as(&app, &cdc, "/surveillance/events/99999")
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            page_as(&app, &cdc, "/surveillance/signals/x").await.status,
            StatusCode::BAD_REQUEST
        );

        // Response times and the injected outbreaks.
        let r = page_as(&app, &cdc, "/surveillance/response").await;
        assert!(ok(&r).contains("预警响应时效"));
        let r = page_as(&app, &cdc, "/surveillance/truth").await;
        let body = ok(&r).to_owned();
        assert!(body.contains("2 起中检出 1 起"), "{body}");
        assert!(body.contains("已检出") && body.contains("未检出"));
        assert!(body.contains("0 天"), "{body}");

        // In English on request.
        let r = app
            .send(
                Request::get(format!("/surveillance?date={date}"))
                    .header(header::COOKIE, format!("hc_session={cdc}; lang=en"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert!(ok(&r).contains("Signals and events"));
    }
}

#[tokio::test]
async fn a_district_sees_only_its_own_signals_and_other_roles_none() {
    for backend in backends() {
        let (app, nanshan, futian, event) = city(backend).await;
        let ft = app
            .login_new("futian", "district_bureau", Some("440304"), None)
            .await;
        let r = page_as(&app, &ft, &format!("/surveillance?date={}", day())).await;
        let body = ok(&r).to_owned();
        assert!(body.contains(&format!("/surveillance/signals/{futian}\"")));
        assert!(!body.contains(&format!("/surveillance/signals/{nanshan}\"")));
        assert!(!body.contains(&format!("/surveillance/events/{event}\"")));
        assert!(
            !body.contains("南山区"),
            "the map shows its own district only"
        );
        for uri in [
            format!("/surveillance/signals/{nanshan}"),
            format!("/surveillance/events/{event}"),
            "/surveillance/streams?stream=visits/ili/440305001001/day".to_owned(),
        ] {
            assert_eq!(
                page_as(&app, &ft, &uri).await.status,
                StatusCode::NOT_FOUND,
                "{uri}"
            );
        }
        let r = page_as(&app, &ft, &format!("/surveillance/signals/{futian}")).await;
        assert!(ok(&r).contains("病例清单"));
        // The truth page lists only the district's outbreaks (none here).
        let r = page_as(&app, &ft, "/surveillance/truth").await;
        assert!(ok(&r).contains("0 起中检出 0 起"));
        // Without the permission to verify, no form.
        let r = page_as(&app, &ft, &format!("/surveillance/signals/{futian}")).await;
        assert!(!ok(&r).contains("/actions\""));
        // The family doctor has no surveillance at all.
        assert_eq!(
            page_as(&app, &app.token, "/surveillance").await.status,
            StatusCode::FORBIDDEN
        );
        let home = page_as(&app, &app.token, "/").await;
        assert!(!ok(&home).contains("href=\"/surveillance\""));
    }
}

#[tokio::test]
async fn the_verification_form_needs_the_token_the_role_and_a_known_action() {
    for backend in backends() {
        let (app, nanshan, _, _) = city(backend).await;
        let cdc = app.login_new("cdc", "cdc_analyst", None, None).await;
        let ft = app
            .login_new("futian", "district_bureau", Some("440304"), None)
            .await;
        let post = |token: &str, body: String| {
            Request::post(format!("/surveillance/signals/{nanshan}/actions"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, format!("hc_session={token}"))
                .body(Body::from(body))
                .unwrap()
        };
        // No CSRF token: 403.
        let r = app.send(post(&cdc, "action=note&note=x".into())).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // A role that may not verify: 403.
        let r = app
            .send(post(
                &ft,
                format!("csrf={}&action=note&note=x", csrf_of(&ft)),
            ))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // An unknown action or stage: 400.
        let csrf = csrf_of(&cdc);
        let r = app
            .send(post(&cdc, format!("csrf={csrf}&action=shout")))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let r = app
            .send(post(&cdc, format!("csrf={csrf}&action=verify&stage=done")))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        // A well-formed action reaches the workflow: back to the signal, or (without the
        // workflow in this build) an error page, never a panic.
        let r = app
            .send(post(
                &cdc,
                format!("csrf={csrf}&action=verify&stage=preliminary_check&note=ok"),
            ))
            .await;
        assert!(
            r.status == StatusCode::SEE_OTHER || r.status.is_server_error(),
            "{}",
            r.status
        );
    }
}
