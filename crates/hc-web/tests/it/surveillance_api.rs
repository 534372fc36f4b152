//! Signals, events and their workflow over HTTP: a run started by an analyst, the lists and a
//! signal's detail, actions with their refusals by field, jurisdiction (404) and roles (403),
//! response times and notifications.

use axum::http::StatusCode;
use chrono::{Duration, NaiveDate};
use hc_app::audit::Caller;
use hc_app::feeds::{FeedKind, FeedRules, receive_batch};
use hc_store::testkit::backends;
use serde_json::{Value, json};

use crate::common::TestApp;

const DAY: &str = "2026-03-20";

fn day() -> NaiveDate {
    NaiveDate::parse_from_str(DAY, "%Y-%m-%d").unwrap()
}

/// Sixty days of visits to H440305001 from both communities, 14 more ILI visits a day in
/// 南头社区 on the last two.
async fn send_visits(t: &TestApp) {
    let mut out = Vec::new();
    for k in 0..60 {
        let d = day() - Duration::days(59 - k);
        for (j, c) in ["440305001001", "440305001002"].iter().enumerate() {
            let ili = 2 + (k as usize + j) % 2 + if k >= 58 && j == 0 { 14 } else { 0 };
            for i in 0..(ili + 10) {
                let (complaint, temp) = if i < ili {
                    ("发热2天，咳嗽、咽痛", "38.7")
                } else {
                    ("复诊取药", "36.6")
                };
                out.push(json!({
                    "record_id": format!("{c}-{d}-{i}"), "institution_code": "H440305001",
                    "visit_time": format!("{d} 09:00"), "community_code": c, "age": 30, "sex": "F",
                    "chief_complaint": complaint, "diagnosis_codes": "", "temperature": temp,
                }));
            }
        }
    }
    let rules = FeedRules::builtin().unwrap();
    let r = receive_batch(
        &t.db.store,
        &Caller::cli(),
        &rules,
        FeedKind::Visits,
        &out,
        day() + Duration::days(2),
    )
    .await
    .unwrap();
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
}

fn fields(r: &crate::common::Resp) -> Vec<String> {
    r.json()["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn analysts_run_detection_and_work_their_signals_over_the_api() {
    for b in backends() {
        let t = TestApp::seeded(b).await;
        t.seed_second_district().await;
        send_visits(&t).await;
        let cdc = t
            .login_new("cdc", "cdc_analyst", Some("440305"), None)
            .await;
        let other = t
            .login_new("cdc2", "cdc_analyst", Some("440304"), None)
            .await;
        let bureau = t
            .login_new("bureau", "district_bureau", Some("440305"), None)
            .await;
        let from = day() - Duration::days(1);
        let body = json!({"date": DAY, "from": from}).to_string();

        // The doctor may not run detection; the analyst may.
        let r = t
            .as_token(&t.token, "POST", "/api/v1/surveillance/runs", Some(&body))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{b:?} {}", r.body);
        let r = t
            .as_token(&cdc, "POST", "/api/v1/surveillance/runs", Some(&body))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?} {}", r.body);
        assert!(r.json()["signals_new"].as_u64().unwrap() >= 2, "{}", r.body);
        let r = t
            .as_token(
                &cdc,
                "POST",
                "/api/v1/surveillance/runs",
                Some(r#"{"dat":"x"}"#),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(fields(&r), ["dat"]);

        // Lists and detail.
        let uri = format!("/api/v1/surveillance/signals?from={from}&to={DAY}");
        let list = t.as_token(&cdc, "GET", &uri, None).await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.body);
        let list = list.json();
        let signal = list
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["area_code"] == "440305001001" && s["code"] == "ili")
            .unwrap_or_else(|| panic!("{b:?} {list}"))
            .clone();
        let id = signal["id"].as_i64().unwrap();
        assert_eq!(signal["status"], "new");
        let detail = t
            .as_token(
                &cdc,
                "GET",
                &format!("/api/v1/surveillance/signals/{id}"),
                None,
            )
            .await;
        assert_eq!(detail.status, StatusCode::OK, "{}", detail.body);
        let detail = detail.json();
        assert_eq!(detail["id"], id);
        assert!(detail["params"].is_object(), "{detail}");
        assert!(!detail["baseline"].is_null());
        assert_eq!(detail["alarm_days"].as_array().unwrap().len(), 2);
        assert_eq!(detail["history"], json!([]));
        let r = t
            .as_token(
                &other,
                "GET",
                &format!("/api/v1/surveillance/signals/{id}"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
        let r = t.as_token(&other, "GET", &uri, None).await;
        assert_eq!(r.json(), json!([]));
        let r = t
            .as_token(&cdc, "GET", "/api/v1/surveillance/signals/abc", None)
            .await;
        assert_eq!(fields(&r), ["id"]);

        // Notifications before any action.
        let before = t
            .as_token(
                &cdc,
                "GET",
                "/api/v1/surveillance/notifications?limit=100",
                None,
            )
            .await;
        assert_eq!(before.status, StatusCode::OK, "{}", before.body);
        let before = before.json().as_array().unwrap().len();
        assert!(before >= 2);

        // Actions.
        let actions = format!("/api/v1/surveillance/signals/{id}/actions");
        let post = |token: &str, body: &'static str| {
            let actions = actions.clone();
            let token = token.to_owned();
            let t = &t;
            async move { t.as_token(&token, "POST", &actions, Some(body)).await }
        };
        let r = post(&cdc, r#"{"action":"assign","to":"li","note":"on it"}"#).await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?} {}", r.body);
        let a = r.json();
        assert_eq!(
            (&a["kind"], &a["target_id"], &a["status"], &a["assigned_to"]),
            (
                &json!("signal"),
                &json!(id),
                &json!("assigned"),
                &json!("li")
            )
        );
        for (body, status, field) in [
            (r#"{"action":"verify","stage":"nope"}"#, 422, "stage"),
            (r#"{"action":"verify"}"#, 422, "stage"),
            (
                r#"{"action":"close","outcome":"confirmed_outbreak"}"#,
                422,
                "outcome",
            ),
            (r#"{"action":"fly"}"#, 422, "action"),
            (r#"{"action":"note","note":" "}"#, 422, "note"),
            (r#"{"action":"note","colour":"red"}"#, 422, "colour"),
        ] {
            let r = post(&cdc, body).await;
            assert_eq!(r.status.as_u16(), status, "{body}: {}", r.body);
            assert_eq!(fields(&r), [field], "{body}: {}", r.body);
        }
        for token in [&bureau, &t.token] {
            let r = post(token, r#"{"action":"note","note":"x"}"#).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        }
        let r = post(&other, r#"{"action":"note","note":"x"}"#).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
        let r = post(&cdc, r#"{"action":"verify","stage":"field_investigation"}"#).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let r = post(
            &cdc,
            r#"{"action":"close","outcome":"confirmed_outbreak","note":"school"}"#,
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let trail = t.as_token(&bureau, "GET", &actions, None).await;
        assert_eq!(trail.status, StatusCode::OK, "{}", trail.body);
        let steps: Vec<String> = trail
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                format!(
                    "{}:{}",
                    a["action"].as_str().unwrap(),
                    a["status"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(
            steps,
            [
                "assign:assigned",
                "verify:field_investigation",
                "close:closed"
            ]
        );

        // Response times and notifications reflect it.
        let r = t
            .as_token(
                &bureau,
                "GET",
                &format!("/api/v1/surveillance/response-times?from={from}&to={DAY}"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let j = r.json();
        assert_eq!(j["target_hours"], 24.0);
        assert_eq!(j["districts"][0]["district_code"], "440305");
        assert_eq!(j["districts"][0]["district_name"], "南山区");
        assert_eq!(j["districts"][0]["answered"], 1);
        assert_eq!(j["districts"][0]["within_target"], 1);
        assert!(j["total"]["share_within_target"].as_f64().unwrap() > 0.0);
        let r = t
            .as_token(
                &bureau,
                "GET",
                &format!("/api/v1/surveillance/response-times?from={DAY}&to={from}"),
                None,
            )
            .await;
        assert_eq!(fields(&r), ["from"]);
        let after = t
            .as_token(
                &cdc,
                "GET",
                "/api/v1/surveillance/notifications?limit=100",
                None,
            )
            .await
            .json();
        assert_eq!(after.as_array().unwrap().len(), before - 1);
        let r = t
            .as_token(&t.token, "GET", "/api/v1/surveillance/notifications", None)
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        // Events list (possibly empty with one feed) and the event actions' 404.
        let r = t
            .as_token(
                &cdc,
                "GET",
                &format!("/api/v1/surveillance/events?from={from}"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.json().is_array());
        let r = t
            .as_token(
                &cdc,
                "POST",
                "/api/v1/surveillance/events/999999/actions",
                Some(r#"{"action":"note","note":"x"}"#),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    }
}

#[tokio::test]
async fn the_openapi_document_describes_the_surveillance_routes() {
    let t = TestApp::new(hc_store::Backend::Sqlite).await;
    let doc: Value = t.get("/api/v1/openapi.json").await.json();
    for path in [
        "/api/v1/surveillance/signals",
        "/api/v1/surveillance/signals/{id}",
        "/api/v1/surveillance/signals/{id}/actions",
        "/api/v1/surveillance/events",
        "/api/v1/surveillance/events/{id}/actions",
        "/api/v1/surveillance/response-times",
        "/api/v1/surveillance/notifications",
        "/api/v1/surveillance/runs",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert!(doc["components"]["schemas"]["ActionIn"].is_object());
}
