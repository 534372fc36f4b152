//! The JSON API: CRUD, filters, cursor pages, problem documents, import, ops endpoints.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hc_store::testkit::backends;

use crate::common::TestApp;

const WANG: &str = "11010519491231002X";

fn resident_json(id_number: &str, extra: &str) -> String {
    format!(
        r#"{{"id_type":"resident_id","id_number":"{id_number}","name":"王芳","community_code":"440305001001"{extra}}}"#
    )
}

#[tokio::test]
async fn residents_crud_and_lookup() {
    for b in backends() {
        let t = TestApp::seeded(b).await;
        let r = t
            .send_json(
                "POST",
                "/api/v1/residents",
                &resident_json("11010519491231002x", r#","phone":"13912345678""#),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
        let created = r.json();
        let id = created["id"].as_i64().unwrap();
        assert_eq!(
            r.headers[header::LOCATION],
            format!("/api/v1/residents/{id}")
        );
        assert_eq!(created["sex"], "F", "derived from the ID number");
        assert_eq!(created["birth_year"], 1949);
        assert!(
            created.get("birth_date").is_none(),
            "with the masked number it would reveal the whole number"
        );
        assert_eq!(created["id_number"], "110105********002X", "masked");
        assert_eq!(created["phone"], "139****5678");

        // Lookup by identity number, then the full number for an administrator who asks.
        let found = t
            .get(&format!("/api/v1/residents?id_number={WANG}"))
            .await
            .json();
        assert_eq!(found["items"].as_array().unwrap().len(), 1);
        assert_eq!(found["items"][0]["id"], id);
        let full = t
            .get(&format!("/api/v1/residents/{id}?unmask=true"))
            .await
            .json();
        assert_eq!(full["id_number"], WANG);
        assert_eq!(full["birth_date"], "1949-12-31");
        // Birth ranges are whole years for non-administrators.
        let in_1949 = t
            .get("/api/v1/residents?born_from=1949-01-01&born_to=1949-12-31")
            .await
            .json();
        assert_eq!(
            in_1949["items"].as_array().unwrap().len(),
            2,
            "the seeded 王芳 and this one"
        );
        // A city's subtree spans its districts, whose codes share only its first 4 digits.
        let city = t
            .get("/api/v1/residents?under=440300&limit=1000")
            .await
            .json();
        assert_eq!(city["items"].as_array().unwrap().len(), 4, "{b:?}");
        // Other filters still apply to an identity lookup.
        let none = t
            .get(&format!(
                "/api/v1/residents?id_number={WANG}&residence=registered"
            ))
            .await
            .json();
        assert_eq!(none["items"].as_array().unwrap().len(), 0);

        // The same identity again is a conflict naming the field.
        let dup = t
            .send_json("POST", "/api/v1/residents", &resident_json(WANG, ""))
            .await;
        assert_eq!(dup.status, StatusCode::CONFLICT);
        assert_eq!(dup.content_type, "application/problem+json");
        assert_eq!(dup.json()["errors"][0]["field"], "id_number");

        // Update.
        let put = t.send_json("PUT", &format!("/api/v1/residents/{id}"), &resident_json(WANG, r#","community_code":"440305001002""#.replace(r#""community_code":"440305001001""#, "").as_str())).await;
        assert_eq!(
            put.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "duplicate key in JSON is refused: {}",
            put.body
        );
        assert_eq!(put.json()["errors"][0]["field"], "community_code");
        let body = r#"{"id_type":"resident_id","id_number":"11010519491231002X","name":"王芳芳","community_code":"440305001002","residence":"registered"}"#;
        let put = t
            .send_json("PUT", &format!("/api/v1/residents/{id}"), body)
            .await;
        assert_eq!(put.status, StatusCode::OK, "{}", put.body);
        let got = t.get(&format!("/api/v1/residents/{id}")).await.json();
        assert_eq!(
            (
                got["name"].as_str(),
                got["community_code"].as_str(),
                got["residence"].as_str()
            ),
            (Some("王芳芳"), Some("440305001002"), Some("registered"))
        );
        assert_eq!(
            t.get("/api/v1/residents/999999").await.status,
            StatusCode::NOT_FOUND
        );
    }
}

#[tokio::test]
async fn bad_input_gets_problem_documents_naming_the_field() {
    for b in backends() {
        let t = TestApp::seeded_with(
            b,
            hc_web::WebConfig {
                max_body_bytes: 2048,
                ..Default::default()
            },
        )
        .await;
        let cases: [(&str, StatusCode, &str); 7] = [
            (
                &resident_json("110105194912310021", ""),
                StatusCode::UNPROCESSABLE_ENTITY,
                "id_number",
            ),
            (
                &resident_json(WANG, r#","sex":"M""#),
                StatusCode::UNPROCESSABLE_ENTITY,
                "sex",
            ),
            (
                &resident_json(WANG, r#","birth_date":"1950-01-01""#),
                StatusCode::UNPROCESSABLE_ENTITY,
                "birth_date",
            ),
            (
                &resident_json(WANG, r#","colour":"red""#),
                StatusCode::UNPROCESSABLE_ENTITY,
                "colour",
            ),
            (
                &resident_json(WANG, r#","birth_date":"1949-13-01""#),
                StatusCode::UNPROCESSABLE_ENTITY,
                "birth_date",
            ),
            (
                &resident_json(WANG, "").replace("440305001001", "440305009009"),
                StatusCode::UNPROCESSABLE_ENTITY,
                "community_code",
            ),
            (
                r#"{"id_type":"resident_id""#,
                StatusCode::BAD_REQUEST,
                "body",
            ),
        ];
        for (body, status, field) in cases {
            let r = t.send_json("POST", "/api/v1/residents", body).await;
            assert_eq!(r.status, status, "{b:?} {body}: {}", r.body);
            assert_eq!(r.content_type, "application/problem+json");
            let p = r.json();
            assert_eq!(p["status"], status.as_u16());
            assert!(
                p["errors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["field"] == field),
                "{b:?} {body}: expected field {field}: {p}"
            );
        }
        // Oversize body.
        let big = resident_json(WANG, &format!(r#","phone":"{}""#, "1".repeat(5000)));
        let r = t.send_json("POST", "/api/v1/residents", &big).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(r.content_type, "application/problem+json");
        // Wrong content type, bad query values, no session.
        let req = Request::post("/api/v1/residents")
            .header(header::AUTHORIZATION, format!("Bearer {}", t.token))
            .body(Body::from(resident_json(WANG, "")))
            .unwrap();
        assert_eq!(t.send(req).await.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let r = t.get("/api/v1/residents?sex=X").await;
        assert_eq!(
            (r.status, r.json()["errors"][0]["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some("sex"))
        );
        let r = t.get("/api/v1/residents?limit=0").await;
        assert_eq!(r.json()["errors"][0]["field"], "limit");
        // A role that does not see identities may not narrow birth dates below whole years.
        let viewer = t.login_new("viewer1", "commission", None, None).await;
        let as_viewer = |uri: &str| {
            Request::get(uri)
                .header(header::AUTHORIZATION, format!("Bearer {viewer}"))
                .body(Body::empty())
                .unwrap()
        };
        let r = t
            .send(as_viewer("/api/v1/residents?born_from=1949-06-01"))
            .await;
        assert_eq!(
            (r.status, r.json()["errors"][0]["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some("born_from"))
        );
        assert_eq!(
            t.send(as_viewer("/api/v1/residents?born_from=1949-01-01"))
                .await
                .status,
            StatusCode::OK
        );
        // Nor open the registry's writes.
        let r = t.send(as_viewer("/api/v1/residents/1")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.json()["name"].as_str().unwrap().contains('*'),
            "{}",
            r.body
        );
        let r = t.get("/api/v1/residents?born_from=yesterday").await;
        assert_eq!(
            (r.status, r.json()["errors"][0]["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some("born_from"))
        );
        let r = t.get("/api/v1/institutions?after=abc").await;
        assert_eq!(r.json()["errors"][0]["field"], "after");
        let anon = t
            .send(
                Request::get("/api/v1/residents")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(
            (anon.status, anon.content_type.as_str()),
            (StatusCode::UNAUTHORIZED, "application/problem+json")
        );
        let forged = t
            .send(
                Request::get("/api/v1/residents")
                    .header(header::AUTHORIZATION, "Bearer 00")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            t.db.store.totals().await.unwrap().residents,
            3,
            "{b:?}: nothing half-written"
        );
    }
}

#[tokio::test]
async fn registry_lists_filter_and_page_stably() {
    for b in backends() {
        let t = TestApp::seeded(b).await;
        for i in 0..7 {
            let body = format!(
                r#"{{"code":"P{i}","name":"大药房{i}","kind":"pharmacy","community_code":"440305001002"}}"#
            );
            assert_eq!(
                t.send_json("POST", "/api/v1/institutions", &body)
                    .await
                    .status,
                StatusCode::CREATED
            );
        }
        let mut names = Vec::new();
        let mut uri = "/api/v1/institutions?kind=pharmacy&limit=3".to_owned();
        loop {
            let page = t.get(&uri).await.json();
            names.extend(
                page["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["code"].as_str().unwrap().to_owned()),
            );
            match page["next"].as_str() {
                Some(n) => uri = format!("/api/v1/institutions?kind=pharmacy&limit=3&after={n}"),
                None => break,
            }
        }
        assert_eq!(names, ["P0", "P1", "P2", "P3", "P4", "P5", "P6"], "{b:?}");
        let hosp = t
            .get("/api/v1/institutions?fever_clinic=true&under=440305")
            .await
            .json();
        assert_eq!(hosp["items"].as_array().unwrap().len(), 1);
        assert_eq!(hosp["items"][0]["grade"], "3a");
        let bad = t.send_json("POST", "/api/v1/institutions", r#"{"code":"C9","name":"x","kind":"chc","grade":"3a","community_code":"440305001002"}"#).await;
        assert_eq!(
            (bad.status, bad.json()["errors"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("grade"))
        );

        let kids = t.get("/api/v1/orgunits/440305001/children").await.json();
        let counts: Vec<(String, i64, i64)> = kids
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["unit"]["code"].as_str().unwrap().to_owned(),
                    c["residents"].as_i64().unwrap(),
                    c["institutions"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            counts,
            [
                ("440305001001".to_owned(), 0, 2),
                ("440305001002".to_owned(), 3, 7)
            ],
            "{b:?}"
        );
        let streets = t.get("/api/v1/orgunits?level=street").await.json();
        assert_eq!(streets["items"][0]["name"], "南头街道");
        let unit = r#"{"code":"440305001003","name":"新社区","parent_code":"440305001","level":"community","valid_from":"2026-01-01"}"#;
        assert_eq!(
            t.send_json("POST", "/api/v1/orgunits", unit).await.status,
            StatusCode::CREATED
        );
        let orphan =
            r#"{"code":"440306001001","name":"x","parent_code":"440306001","level":"community"}"#;
        let r = t.send_json("POST", "/api/v1/orgunits", orphan).await;
        assert_eq!(
            (r.status, r.json()["errors"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("parent_code"))
        );

        let gp = format!(
            r#"{{"id_type":"resident_id","id_number":"{WANG}","name":"王医生","kind":"gp","institution_code":"C440305001"}}"#
        );
        let r = t.send_json("POST", "/api/v1/practitioners", &gp).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let gps = t
            .get("/api/v1/practitioners?institution_code=C440305001&kind=gp")
            .await
            .json();
        assert_eq!(gps["items"][0]["name"], "王医生");
    }
}

#[tokio::test]
async fn import_through_the_api() {
    for b in backends() {
        let t = TestApp::seeded(b).await;
        let csv = format!(
            "\u{feff}id_type,id_number,name,community_code\nresident_id,{WANG},王芳,440305001001\nresident_id,110105194912310021,错号,440305001001\n"
        );
        let req = |body: String| {
            Request::post("/api/v1/import/residents")
                .header(header::AUTHORIZATION, format!("Bearer {}", t.admin_token))
                .header(header::CONTENT_TYPE, "text/csv")
                .body(Body::from(body))
                .unwrap()
        };
        let r = t.send(req(csv.clone())).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let j = r.json();
        assert_eq!(
            (j["inserted"].as_u64(), j["rejected"].as_u64()),
            (Some(1), Some(1)),
            "{b:?}"
        );
        assert_eq!(
            (
                j["rejections"][0]["line"].as_u64(),
                j["rejections"][0]["field"].as_str()
            ),
            (Some(3), Some("id_number"))
        );
        let again = t.send(req(csv)).await.json();
        assert_eq!(
            (again["inserted"].as_u64(), again["unchanged"].as_u64()),
            (Some(0), Some(1))
        );
        let r = t.send(req("name\nx\n".into())).await;
        assert_eq!(
            (r.status, r.content_type.as_str()),
            (StatusCode::BAD_REQUEST, "application/problem+json")
        );
        let r = t
            .send(
                Request::post("/api/v1/import/patients")
                    .header(header::AUTHORIZATION, format!("Bearer {}", t.admin_token))
                    .header(header::CONTENT_TYPE, "text/csv")
                    .body(Body::from("a"))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.json()["errors"][0]["field"], "kind");
        // Without a CSV content type (as a cross-site form would send) nothing is imported.
        let plain = Request::post("/api/v1/import/residents")
            .header(header::AUTHORIZATION, format!("Bearer {}", t.admin_token))
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from("id_type\n"))
            .unwrap();
        let r = t.send(plain).await;
        assert_eq!(
            (r.status, r.content_type.as_str()),
            (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "application/problem+json"
            )
        );
    }
}

#[tokio::test]
async fn ops_endpoints_and_openapi() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let anon = |uri: &str| Request::get(uri).body(Body::empty()).unwrap();
        assert_eq!(t.send(anon("/healthz")).await.status, StatusCode::OK);
        assert_eq!(t.send(anon("/readyz")).await.body, "ready");
        t.get("/api/v1/residents").await;
        let m = t.send(anon("/metrics")).await;
        assert!(m.content_type.starts_with("text/plain"));
        assert!(
            m.body.contains(
                "http_requests_total{method=\"GET\",route=\"/api/v1/residents\",status=\"200\"}"
            ),
            "{}",
            m.body
        );
        assert!(m.body.contains("http_request_duration_seconds_bucket"));
        assert!(m.body.contains("db_pool_connections"));
        let doc = t.send(anon("/api/v1/openapi.json")).await.json();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        for path in [
            "/api/v1/residents",
            "/api/v1/residents/{id}",
            "/api/v1/institutions/{code}",
            "/api/v1/orgunits/{code}/children",
            "/api/v1/import/{kind}",
            "/api/v1/auth/login",
        ] {
            assert!(doc["paths"][path].is_object(), "{path} missing");
        }
        assert!(doc["components"]["schemas"]["Problem"].is_object());

        // Login over the API returns a working token; logout ends it.
        let r = t
            .send(
                Request::post("/api/v1/auth/login")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(
                        r#"{"username":"commission","password":"Test-pass-1"}"#,
                    ))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        let token = r.json()["token"].as_str().unwrap().to_owned();
        let me = t
            .send(
                Request::get("/api/v1/auth/me")
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(me.json()["username"], "commission");
        let out = t
            .send(
                Request::post("/api/v1/auth/logout")
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(out.status, StatusCode::NO_CONTENT);
        let me = t
            .send(
                Request::get("/api/v1/auth/me")
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(me.status, StatusCode::UNAUTHORIZED);
        let bad = t
            .send(
                Request::post("/api/v1/auth/login")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(r#"{"username":"admin","password":"nope"}"#))
                    .unwrap(),
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            t.send(anon("/api/v1/nothing")).await.status,
            StatusCode::NOT_FOUND
        );
        let del = t.send_json("DELETE", "/api/v1/residents/1", "").await;
        assert_eq!(
            (del.status, del.content_type.as_str()),
            (StatusCode::METHOD_NOT_ALLOWED, "application/problem+json")
        );
    }
}
