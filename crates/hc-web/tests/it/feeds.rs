//! Surveillance feeds over HTTP: JSON and CSV batches, idempotent re-sending, per-record
//! faults, content types, permissions.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hc_store::testkit::backends;

use crate::common::TestApp;

fn post(uri: &str, token: &str, content_type: &str, body: String) -> Request<Body> {
    Request::post(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn feeds_take_json_and_csv_batches_once_each() {
    for b in backends() {
        let t = TestApp::seeded(b).await;
        let today = hc_app::today();
        let visits = serde_json::json!([
            {"record_id": "r1", "institution_code": "H440305001", "visit_time": format!("{today} 08:00"),
             "community_code": "440305001001", "age": 6, "sex": "M",
             "chief_complaint": "发热39度，咳嗽", "diagnosis_codes": "", "temperature": 38.9},
            {"record_id": "r2", "institution_code": "H440305001", "visit_time": format!("{today} 09:00"),
             "community_code": "440399999999", "age": 6, "temperature": "hot"}
        ])
        .to_string();
        let uri = "/api/v1/feeds/visits";
        let r = t
            .send(post(
                uri,
                &t.admin_token,
                "application/json",
                visits.clone(),
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?} {}", r.body);
        let j = r.json();
        assert_eq!(
            (j["received"].as_u64(), j["inserted"].as_u64()),
            (Some(2), Some(1)),
            "{}",
            r.body
        );
        assert_eq!(j["rejected"][0]["line"], 2);
        assert_eq!(j["rejected"][0]["record_id"], "r2");
        let fields: Vec<&str> = j["rejected"][0]["errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        assert_eq!(fields, ["community_code", "temperature"]);
        // Sent again (a retry after a lost answer): nothing new.
        let again = t
            .send(post(uri, &t.admin_token, "application/json", visits))
            .await
            .json();
        assert_eq!(
            (again["inserted"].as_u64(), again["unchanged"].as_u64()),
            (Some(0), Some(1))
        );
        let counts =
            t.db.store
                .feed_counts("visits", today, today)
                .await
                .unwrap();
        let ili: i64 = counts
            .iter()
            .filter(|c| c.code == "ili")
            .map(|c| c.value)
            .sum();
        assert_eq!(ili, 1, "{b:?}");

        // CSV works the same way, with lines.
        let cases = format!(
            "record_id,disease_code,onset_date,diagnosis_date,report_date,community_code,classification,age,sex\n\
             n1,B08.4,{today},{today},{today},440305001001,clinical,4,F\n\
             n2,XX1,{today},{today},{today},440305001001,clinical,4,F\n"
        );
        let r = t
            .send(post(
                "/api/v1/feeds/cases",
                &t.admin_token,
                "text/csv",
                cases,
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let j = r.json();
        assert_eq!(
            (j["inserted"].as_u64(), j["rejected"][0]["line"].as_u64()),
            (Some(1), Some(3))
        );

        // A body that is not an array, a CSV without the columns, an unknown feed, a form.
        let bad = [
            (
                "/api/v1/feeds/visits",
                "application/json",
                "{\"a\":1}",
                StatusCode::BAD_REQUEST,
            ),
            (
                "/api/v1/feeds/visits",
                "text/csv",
                "record_id\nx\n",
                StatusCode::BAD_REQUEST,
            ),
            (
                "/api/v1/feeds/rumours",
                "application/json",
                "[]",
                StatusCode::BAD_REQUEST,
            ),
            (
                "/api/v1/feeds/visits",
                "application/x-www-form-urlencoded",
                "a=1",
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
        ];
        for (uri, ct, body, status) in bad {
            let r = t.send(post(uri, &t.admin_token, ct, body.into())).await;
            assert_eq!(
                (r.status, r.content_type.as_str()),
                (status, "application/problem+json"),
                "{uri} {ct}: {}",
                r.body
            );
        }
        // A family doctor does not send surveillance feeds.
        let r = t
            .send(post(uri, &t.token, "application/json", "[]".into()))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    }
}
