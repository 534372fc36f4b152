//! Accounts, jurisdictions, tokens, masking, break-the-glass and the audit trail, through
//! the HTTP API as real callers use it — and the attacks issue #5 lists.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hc_store::testkit::backends;

use crate::common::{Resp, TEST_PASSWORD, TestApp, totp_now};

/// The audit events matching `query` (an auditor's view).
async fn audit(t: &TestApp, auditor: &str, query: &str) -> Vec<serde_json::Value> {
    let r = t
        .as_token(auditor, "GET", &format!("/api/v1/audit?{query}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json().as_array().unwrap().clone()
}

fn problem(r: &Resp) -> (StatusCode, String) {
    assert_eq!(r.content_type, "application/problem+json", "{}", r.body);
    (
        r.status,
        r.json()["detail"].as_str().unwrap_or("").to_owned(),
    )
}

#[tokio::test]
async fn a_district_sees_only_its_district_and_outside_is_not_found() {
    for b in backends() {
        let t = TestApp::seeded(b).await;
        let zhao = t.seed_second_district().await;
        let nanshan = t
            .login_new("nanshan", "district_bureau", Some("440305"), None)
            .await;
        let futian = t
            .login_new("futian", "district_bureau", Some("440304"), None)
            .await;

        // Lists hold only the caller's district, whatever the filter asks for.
        let r = t
            .as_token(&nanshan, "GET", "/api/v1/residents?under=440300", None)
            .await;
        let names: Vec<String> = r.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["王*", "李*", "张*"], "{b:?}");
        // A filter that would single out a hidden record finds nothing: no count leaks it.
        for q in [
            "name=赵",
            "under=440304",
            "under=440304001001&sex=F",
            "born_from=1970-01-01&born_to=1970-12-31",
        ] {
            let r = t
                .as_token(&nanshan, "GET", &format!("/api/v1/residents?{q}"), None)
                .await;
            assert_eq!(r.status, StatusCode::OK, "{q}");
            assert!(
                !r.body.contains("赵") && !r.body.contains("440304001001"),
                "{q}: {}",
                r.body
            );
        }
        // By identity number too (the coalesced lookup path).
        let zhao_id = hc_core::idcard::compose(
            440304,
            chrono::NaiveDate::from_ymd_opt(1970, 3, 8).unwrap(),
            31,
            hc_core::model::Sex::F,
        );
        let r = t
            .as_token(
                &nanshan,
                "GET",
                &format!("/api/v1/residents?id_number={zhao_id}"),
                None,
            )
            .await;
        assert_eq!(r.json()["items"].as_array().unwrap().len(), 0);
        let r = t
            .as_token(
                &futian,
                "GET",
                &format!("/api/v1/residents?id_number={zhao_id}"),
                None,
            )
            .await;
        assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);

        // A record outside the scope answers exactly like a record that does not exist.
        let hidden = t
            .as_token(&nanshan, "GET", &format!("/api/v1/residents/{zhao}"), None)
            .await;
        let missing = t
            .as_token(&nanshan, "GET", "/api/v1/residents/987654", None)
            .await;
        assert_eq!(problem(&hidden), problem(&missing));
        assert_eq!(hidden.status, StatusCode::NOT_FOUND);
        // Same for org units and their counts.
        let r = t
            .as_token(&nanshan, "GET", "/api/v1/orgunits/440304001", None)
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = t
            .as_token(&nanshan, "GET", "/api/v1/orgunits/440300/children", None)
            .await;
        let kids = r.json();
        let codes: Vec<&str> = kids
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["unit"]["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["440305"], "{}", r.body);
        // The other district sees its own resident, masked: its role does not see identities.
        let r = t
            .as_token(&futian, "GET", &format!("/api/v1/residents/{zhao}"), None)
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json()["name"], "赵*");
        assert!(r.json()["id_number"].as_str().unwrap().contains("********"));
        assert!(r.json().get("birth_date").is_none());
    }
}

#[tokio::test]
async fn roles_get_only_their_duties() {
    for b in backends() {
        let t = TestApp::seeded(b).await;
        let admin = t.admin_token.clone();
        let auditor = t.login_new("aud", "auditor", None, None).await;
        // The administrator runs the system but reads no resident.
        let r = t.as_token(&admin, "GET", "/api/v1/residents", None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = t.as_token(&admin, "GET", "/api/v1/audit", None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // The auditor reads the trail and nothing else.
        let r = t
            .as_token(&auditor, "GET", "/api/v1/residents/1", None)
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = t
            .as_token(&auditor, "GET", "/api/v1/institutions", None)
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(
            t.as_token(&auditor, "GET", "/api/v1/audit", None)
                .await
                .status,
            StatusCode::OK
        );
        // Only administrators manage accounts and tokens.
        let body = r#"{"username":"eve","role":"admin"}"#;
        let r = t
            .as_token(&t.token, "POST", "/api/v1/users", Some(body))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = t.as_token(&t.token, "GET", "/api/v1/tokens", None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // No call without a session.
        let r = t
            .send(
                Request::get("/api/v1/residents")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(problem(&r).0, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn api_tokens_are_scoped_expire_and_can_be_revoked() {
    for b in backends() {
        let t = TestApp::seeded(b).await;
        let zhao = t.seed_second_district().await;
        let admin = t.admin_token.clone();
        let r = t
            .as_token(
                &admin,
                "POST",
                "/api/v1/tokens",
                Some(r#"{"name":"his-nanshan","role":"cdc_analyst","scope_orgunit":"440305","expires_days":30}"#),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let token = r.json()["token"].as_str().unwrap().to_owned();
        assert!(token.starts_with("hct_"));
        // The secret is not stored and never listed again.
        let list = t.as_token(&admin, "GET", "/api/v1/tokens", None).await;
        assert!(!list.body.contains(&token[4..]));
        assert_eq!(list.json()[0]["last_used_at"], serde_json::Value::Null);

        // In scope: the full record (a CDC analyst sees identities), audited as the token.
        let r = t.as_token(&token, "GET", "/api/v1/residents/2", None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json()["name"], "李明");
        let r = t
            .as_token(&token, "GET", &format!("/api/v1/residents/{zhao}"), None)
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let list = t.as_token(&admin, "GET", "/api/v1/tokens", None).await;
        assert_ne!(list.json()[0]["last_used_at"], serde_json::Value::Null);
        let auditor = t.login_new("aud", "auditor", None, None).await;
        let reads = audit(&t, &auditor, "actor=token:his-nanshan&action=read").await;
        assert_eq!(reads.len(), 1);
        assert_eq!(reads[0]["resident_id"], 2);
        assert_eq!(reads[0]["actor_kind"], "token");

        // Tokens for people's roles are refused; so are unknown scopes.
        for body in [
            r#"{"name":"x-admin","role":"admin"}"#,
            r#"{"name":"x-res","role":"resident"}"#,
            r#"{"name":"x-scope","role":"cdc_analyst","scope_orgunit":"999999"}"#,
            r#"{"name":"x-exp","role":"cdc_analyst","expires_days":0}"#,
        ] {
            let r = t
                .as_token(&admin, "POST", "/api/v1/tokens", Some(body))
                .await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        }

        // Expired: refused with 401.
        let r = t
            .as_token(
                &admin,
                "POST",
                "/api/v1/tokens",
                Some(r#"{"name":"old-feed","role":"institution_staff","scope_orgunit":"440305"}"#),
            )
            .await;
        let old = r.json()["token"].as_str().unwrap().to_owned();
        t.db.store
            .raw_execute("UPDATE api_tokens SET expires_at = 1 WHERE name = 'old-feed'")
            .await
            .unwrap();
        let r = t.as_token(&old, "GET", "/api/v1/residents/2", None).await;
        assert_eq!(problem(&r).0, StatusCode::UNAUTHORIZED);
        // Revoked: refused with 401, and revoking twice is not found.
        let r = t
            .as_token(&admin, "DELETE", "/api/v1/tokens/his-nanshan", None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = t.as_token(&token, "GET", "/api/v1/residents/2", None).await;
        assert_eq!(problem(&r).0, StatusCode::UNAUTHORIZED);
        let r = t
            .as_token(&admin, "DELETE", "/api/v1/tokens/his-nanshan", None)
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        // A token named with digits is revoked by its name, not mistaken for an id.
        let r = t
            .as_token(
                &admin,
                "POST",
                "/api/v1/tokens",
                Some(r#"{"name":"100","role":"inspector"}"#),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let r = t
            .as_token(&admin, "DELETE", "/api/v1/tokens/100", None)
            .await;
        assert_eq!(r.json()["name"], "100");
        let live: Vec<String> = t
            .as_token(&admin, "GET", "/api/v1/tokens", None)
            .await
            .json()
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["revoked_at"].is_null())
            .map(|x| x["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(live, ["old-feed"], "only the named token was revoked");
        // A forged token of the right shape, or garbage, is 401 too.
        for bad in [
            format!("hct_{}", "0".repeat(64)),
            "hct_' OR 1=1 --".to_owned(),
            "x".repeat(5000),
        ] {
            let r = t.as_token(&bad, "GET", "/api/v1/residents/2", None).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{bad}");
        }
    }
}

#[tokio::test]
async fn logins_lock_after_five_failures_and_admins_need_totp() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let login = |user: &str, pass: &str, totp: Option<String>| {
            let body = serde_json::json!({"username": user, "password": pass, "totp": totp});
            Request::post("/api/v1/auth/login")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap()
        };
        for _ in 0..5 {
            let r = t.send(login("commission", "Wrong-pass-1", None)).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        }
        // Locked: the right password no longer opens it, with the same answer.
        let locked = t.send(login("commission", TEST_PASSWORD, None)).await;
        let unknown = t.send(login("nobody", TEST_PASSWORD, None)).await;
        assert_eq!(problem(&locked), problem(&unknown));
        // An administrator unlocks it.
        let r = t
            .as_token(
                &t.admin_token,
                "POST",
                "/api/v1/users/commission/enable",
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = t.send(login("commission", TEST_PASSWORD, None)).await;
        assert_eq!(r.status, StatusCode::OK);

        // Administrators: the password alone is not enough; a wrong code counts as a failure.
        let r = t.send(login("admin", TEST_PASSWORD, None)).await;
        assert!(problem(&r).1.contains("TOTP"), "{}", r.body);
        let r = t
            .send(login("admin", TEST_PASSWORD, Some("000000".into())))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        let r = t
            .send(login("admin", "Wrong-pass-1", Some("000000".into())))
            .await;
        assert!(
            !problem(&r).1.contains("TOTP"),
            "a wrong password says nothing more"
        );

        // Every attempt is on record, with the name tried.
        let auditor = t.login_new("aud", "auditor", None, None).await;
        let failed = audit(&t, &auditor, "action=login_failed&limit=100").await;
        assert!(failed.len() >= 9, "{failed:?}");
        assert!(
            failed
                .iter()
                .any(|e| e["actor"] == "nobody" && e["actor_kind"] == "anonymous")
        );
        assert!(
            failed
                .iter()
                .any(|e| e["detail"] == "wrong password; account locked")
        );
        assert!(failed.iter().any(|e| e["detail"] == "account locked"));
    }
}

#[tokio::test]
async fn sessions_end_when_idle_and_tampered_cookies_open_nothing() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let fresh = t.login_new("idle", "commission", None, None).await;
        t.db.store
            .raw_execute("UPDATE sessions SET last_seen_at = 0")
            .await
            .unwrap();
        let r = t.as_token(&fresh, "GET", "/api/v1/auth/me", None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "idle for too long");
        for cookie in [
            format!("hc_session={}", "a".repeat(64)),
            "hc_session=' OR '1'='1".to_owned(),
            format!("hc_session={}x", &t.token[..63]),
            "hc_session=".to_owned(),
        ] {
            let r = t
                .send(
                    Request::get("/residents")
                        .header(header::COOKIE, &cookie)
                        .body(Body::empty())
                        .unwrap(),
                )
                .await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{cookie}");
            assert!(
                r.headers[header::LOCATION]
                    .to_str()
                    .unwrap()
                    .starts_with("/login")
            );
            let r = t
                .send(
                    Request::get("/api/v1/residents")
                        .header(header::COOKIE, &cookie)
                        .body(Body::empty())
                        .unwrap(),
                )
                .await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{cookie}");
        }
    }
}

#[tokio::test]
async fn cookie_writes_need_the_csrf_header() {
    for b in backends() {
        let t = TestApp::seeded(b).await;
        let body = r#"{"id_type":"resident_id","id_number":"11010519491231002X","name":"王芳","community_code":"440305001001"}"#;
        let post = |csrf: Option<&str>| {
            let mut req = Request::post("/api/v1/residents")
                .header(header::COOKIE, format!("hc_session={}", t.token))
                .header(header::CONTENT_TYPE, "application/json");
            if let Some(c) = csrf {
                req = req.header("x-csrf-token", c);
            }
            req.body(Body::from(body)).unwrap()
        };
        let r = t.send(post(None)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = t.send(post(Some("0123456789abcdef0123456789abcdef"))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = t.send(post(Some(&crate::ui::csrf_of(&t.token)))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
}

#[tokio::test]
async fn sql_metacharacters_in_every_search_field_are_just_text() {
    for b in backends() {
        let t = TestApp::seeded(b).await;
        let auditor = t.login_new("aud", "auditor", None, None).await;
        let evil = [
            "' OR '1'='1",
            "%",
            "_",
            "\\",
            "'; DROP TABLE residents; --",
            "\" OR \"\"=\"",
            "王%' --",
        ];
        let fields: [(&str, &str); 12] = [
            ("/api/v1/residents", "name"),
            ("/api/v1/residents", "id_number"),
            ("/api/v1/residents", "under"),
            ("/api/v1/institutions", "name"),
            ("/api/v1/institutions", "under"),
            ("/api/v1/institutions", "group_code"),
            ("/api/v1/practitioners", "name"),
            ("/api/v1/practitioners", "institution_code"),
            ("/api/v1/practitioners", "id_number"),
            ("/api/v1/orgunits", "name"),
            ("/api/v1/orgunits", "parent_code"),
            ("/api/v1/orgunits", "under"),
        ];
        for (path, field) in fields {
            for v in evil {
                let uri = format!("{path}?{field}={}", urlencode(v));
                let r = t.get(&uri).await;
                assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
                assert_eq!(
                    r.json()["items"].as_array().unwrap().len(),
                    0,
                    "{uri} matched something"
                );
            }
        }
        for v in evil {
            let r = t
                .as_token(
                    &auditor,
                    "GET",
                    &format!("/api/v1/audit?actor={}", urlencode(v)),
                    None,
                )
                .await;
            assert_eq!(r.status, StatusCode::OK);
            assert_eq!(r.json().as_array().unwrap().len(), 0);
            let r = t
                .get_page(&format!("/residents?name={}", urlencode(v)), "")
                .await;
            assert_eq!(r.status, StatusCode::OK);
        }
        // The tables are all still there.
        let r = t.get("/api/v1/residents?under=440305").await;
        assert_eq!(r.json()["items"].as_array().unwrap().len(), 3);
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn fields_a_role_may_not_set_are_refused() {
    for b in backends() {
        let t = TestApp::seeded(b).await;
        t.seed_second_district().await;
        let ns_doctor = t
            .login_new("nsdoc", "family_doctor", Some("440305"), None)
            .await;
        // Unknown fields (an id, a role, a scope) are named and refused.
        let r = t
            .as_token(
                &ns_doctor,
                "POST",
                "/api/v1/residents",
                Some(r#"{"id":1,"id_type":"resident_id","id_number":"11010519491231002X","name":"王芳","community_code":"440305001001"}"#),
            )
            .await;
        assert_eq!(
            (r.status, r.json()["errors"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("id"))
        );
        let r = t
            .as_token(
                &t.admin_token,
                "POST",
                "/api/v1/users",
                Some(r#"{"username":"eve","role":"commission","disabled":false,"totp_secret":"AAAA"}"#),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(
            r.body.contains("disabled"),
            "the field is named: {}",
            r.body
        );
        // Moving a record out of one's jurisdiction, or creating one outside it, is refused.
        let li_ming = hc_core::idcard::compose(
            440305,
            chrono::NaiveDate::from_ymd_opt(1985, 6, 15).unwrap(),
            11,
            hc_core::model::Sex::M,
        );
        let moved = format!(
            r#"{{"id_type":"resident_id","id_number":"{li_ming}","name":"李明","community_code":"440304001001"}}"#
        );
        let moved = moved.as_str();
        let r = t
            .as_token(&ns_doctor, "PUT", "/api/v1/residents/2", Some(moved))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("community_code"));
        // A role that may not write residents cannot, whatever it sends.
        let district = t
            .login_new("nanshan", "district_bureau", Some("440305"), None)
            .await;
        let r = t
            .as_token(&district, "PUT", "/api/v1/residents/2", Some(moved))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // Created accounts get a one-time password and must change it before anything else.
        let r = t
            .as_token(
                &t.admin_token,
                "POST",
                "/api/v1/users",
                Some(r#"{"username":"newdoc","role":"family_doctor","scope_orgunit":"440305"}"#),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let otp = r.json()["one_time_password"].as_str().unwrap().to_owned();
        let login = serde_json::json!({"username": "newdoc", "password": otp}).to_string();
        let r = t
            .send(
                Request::post("/api/v1/auth/login")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(login))
                    .unwrap(),
            )
            .await;
        let session = r.json()["token"].as_str().unwrap().to_owned();
        let r = t
            .as_token(&session, "GET", "/api/v1/residents/2", None)
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.body.contains("Password change required"));
        let change = serde_json::json!({"current": otp, "password": "short"}).to_string();
        let r = t
            .as_token(&session, "POST", "/api/v1/auth/password", Some(&change))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let change = serde_json::json!({"current": otp, "password": "New-pass-2026"}).to_string();
        let r = t
            .as_token(&session, "POST", "/api/v1/auth/password", Some(&change))
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    }
}

#[tokio::test]
async fn break_the_glass_opens_one_record_for_a_while_and_is_flagged() {
    for b in backends() {
        let t = TestApp::seeded(b).await;
        let zhao = t.seed_second_district().await;
        let doctor = t
            .login_new("nsdoc", "family_doctor", Some("440305"), None)
            .await;
        let other = t
            .login_new("nsdoc2", "family_doctor", Some("440305"), None)
            .await;
        let uri = format!("/api/v1/residents/{zhao}");
        assert_eq!(
            t.as_token(&doctor, "GET", &uri, None).await.status,
            StatusCode::NOT_FOUND
        );
        let glass = format!("/api/v1/residents/{zhao}/break-glass");
        let r = t
            .as_token(&doctor, "POST", &glass, Some(r#"{"reason":"急诊"}"#))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = t
            .as_token(
                &doctor,
                "POST",
                &glass,
                Some(r#"{"reason":"急诊昏迷患者，需核对过敏史与既往病史"}"#),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = t.as_token(&doctor, "GET", &uri, None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json()["name"], "赵敏");
        // Reading, not writing: the record cannot be moved into the doctor's area.
        let zhao_id = r.json()["id_number"].as_str().unwrap().to_owned();
        let moved = format!(
            r#"{{"id_type":"resident_id","id_number":"{zhao_id}","name":"赵敏","community_code":"440305001001"}}"#
        );
        let r = t.as_token(&doctor, "PUT", &uri, Some(&moved)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
        // Only for the doctor who asked; a CDC analyst cannot break the glass at all.
        assert_eq!(
            t.as_token(&other, "GET", &uri, None).await.status,
            StatusCode::NOT_FOUND
        );
        let cdc = t
            .login_new("cdc", "cdc_analyst", Some("440305"), None)
            .await;
        let r = t
            .as_token(
                &cdc,
                "POST",
                &glass,
                Some(r#"{"reason":"流调需要核对住址与联系方式"}"#),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // Flagged for review, with the reason; an auditor reviews it once.
        let auditor = t.login_new("aud", "auditor", None, None).await;
        let flagged = audit(&t, &auditor, "unreviewed=true").await;
        let actions: Vec<&str> = flagged
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["read", "break_glass"]);
        assert_eq!(
            flagged[1]["purpose"],
            "急诊昏迷患者，需核对过敏史与既往病史"
        );
        let id = flagged[1]["id"].as_i64().unwrap();
        let review = format!("/api/v1/audit/{id}/review");
        let r = t
            .as_token(
                &auditor,
                "POST",
                &review,
                Some(r#"{"note":"急诊记录已核实"}"#),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        let r = t
            .as_token(&auditor, "POST", &review, Some(r#"{"note":"再次复核"}"#))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert_eq!(audit(&t, &auditor, "unreviewed=true").await.len(), 1);
        // The grant ends: pushed into the past, the record is hidden again.
        t.db.store
            .raw_execute("UPDATE access_grants SET expires_at = 1")
            .await
            .unwrap();
        assert_eq!(
            t.as_token(&doctor, "GET", &uri, None).await.status,
            StatusCode::NOT_FOUND
        );
    }
}

#[tokio::test]
async fn residents_see_who_looked_at_their_record_and_export_it() {
    for b in backends() {
        let t = TestApp::seeded(b).await;
        // The doctor looks 李明 up by identity number and opens his record; 李明 then looks
        // at his access log.
        let li_ming = hc_core::idcard::compose(
            440305,
            chrono::NaiveDate::from_ymd_opt(1985, 6, 15).unwrap(),
            11,
            hc_core::model::Sex::M,
        );
        let r = t
            .get(&format!("/api/v1/residents?id_number={li_ming}"))
            .await;
        assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);
        assert_eq!(t.get("/api/v1/residents/2").await.status, StatusCode::OK);
        let policy = hc_core::access::SecurityPolicy::default();
        hc_app::accounts::create_user(
            &t.db.store,
            &policy,
            &hc_app::audit::Caller::cli(),
            hc_app::accounts::NewAccount {
                username: "liming".into(),
                password: Some(TEST_PASSWORD.into()),
                role: "resident".into(),
                resident_id: Some(2),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let me = hc_app::accounts::login(&t.db.store, &policy, "liming", TEST_PASSWORD, None, None)
            .await
            .unwrap()
            .unwrap()
            .token;
        let r = t.as_token(&me, "GET", "/api/v1/me/record", None).await;
        assert_eq!(r.json()["name"], "李明");
        let log = t.as_token(&me, "GET", "/api/v1/me/access-log", None).await;
        let log = log.json();
        assert!(
            log.as_array()
                .unwrap()
                .iter()
                .any(|e| e["actor"] == "doctor" && e["action"] == "read"),
            "{log}"
        );
        assert!(
            log.as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == "search"
                    && e["detail"].as_str().unwrap().contains("********")
                    && e["client_addr"].is_null()),
            "{log}"
        );
        let r = t.as_token(&me, "GET", "/api/v1/me/export", None).await;
        assert!(
            r.headers[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        assert_eq!(r.json()["id_number"].as_str().unwrap().len(), 18);
        // A resident sees no one else.
        assert_eq!(
            t.as_token(&me, "GET", "/api/v1/residents/1", None)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            t.as_token(&me, "GET", "/api/v1/residents", None)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        let auditor = t.login_new("aud", "auditor", None, None).await;
        let exports = audit(&t, &auditor, "action=export&resident_id=2").await;
        assert_eq!(exports.len(), 1);
        // Auditors filter by period too: nothing happened tomorrow.
        let tomorrow = (hc_app::today() + chrono::Duration::days(1)).to_string();
        assert!(
            audit(&t, &auditor, &format!("from={tomorrow}"))
                .await
                .is_empty()
        );
        let today = hc_app::today().to_string();
        assert!(
            !audit(&t, &auditor, &format!("from={today}&to={today}"))
                .await
                .is_empty()
        );
    }
}

#[tokio::test]
async fn totp_codes_from_the_enrolment_uri_open_an_admin_session() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let r = t
            .as_token(
                &t.admin_token,
                "POST",
                "/api/v1/users",
                Some(r#"{"username":"admin2","role":"admin"}"#),
            )
            .await;
        let j = r.json();
        let uri = j["totp_uri"].as_str().unwrap();
        let body = serde_json::json!({
            "username": "admin2",
            "password": j["one_time_password"],
            "totp": totp_now(uri),
        });
        let r = t
            .send(
                Request::post("/api/v1/auth/login")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body.to_string()))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["user"]["must_change_password"], true);
        // A code is good once: replayed at once, it is refused.
        let r = t
            .send(
                Request::post("/api/v1/auth/login")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body.to_string()))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_guesses_each_count_towards_the_lockout() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let policy = hc_core::access::SecurityPolicy::default();
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let (store, policy) = (t.db.store.clone(), policy.clone());
            tasks.push(tokio::spawn(async move {
                hc_app::accounts::login(&store, &policy, "commission", "Wrong-pass-1", None, None)
                    .await
                    .unwrap()
                    .is_err()
            }));
        }
        for task in tasks {
            assert!(task.await.unwrap());
        }
        let right = hc_app::accounts::login(
            &t.db.store,
            &policy,
            "commission",
            TEST_PASSWORD,
            None,
            None,
        )
        .await
        .unwrap();
        assert!(
            right.is_err(),
            "{b:?}: ten simultaneous guesses locked the account"
        );
    }
}
