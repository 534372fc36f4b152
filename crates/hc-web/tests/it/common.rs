//! Shared harness: a fresh app per backend, a logged-in admin, and request helpers.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hc_core::model::*;
use hc_store::Backend;
use hc_store::testkit::{TestDb, fresh};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// A running app over a fresh database, with an admin session.
pub struct TestApp {
    pub db: TestDb,
    pub app: axum::Router,
    /// Session of the family doctor (after `seeded`), else empty.
    pub token: String,
    /// Session of the administrator.
    pub admin_token: String,
}

/// The password of every test account.
pub const TEST_PASSWORD: &str = "Test-pass-1";

/// The current TOTP code of an `otpauth://` URI.
pub fn totp_now(uri: &str) -> String {
    let secret = uri
        .split("secret=")
        .nth(1)
        .and_then(|s| s.split('&').next())
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    hc_app::accounts::totp_code(secret, now).unwrap()
}

/// A response read whole.
pub struct Resp {
    pub status: StatusCode,
    pub content_type: String,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

impl TestApp {
    pub async fn new(backend: Backend) -> TestApp {
        Self::with_config(backend, hc_web::WebConfig::default()).await
    }

    pub async fn with_config(backend: Backend, config: hc_web::WebConfig) -> TestApp {
        let db = fresh(backend).await.unwrap();
        let app = hc_web::app(hc_web::AppState::new(db.store.clone(), config));
        let mut t = TestApp {
            db,
            app,
            token: String::new(),
            admin_token: String::new(),
        };
        t.admin_token = t.login_new("admin", "admin", None, None).await;
        // Without a seeded city there is no jurisdiction to give a doctor: read as the city
        // commission, which sees the whole city (identities masked).
        t.token = t.login_new("commission", "commission", None, None).await;
        t
    }

    /// Creates an account (password `Test-pass-1`) and logs it in; returns its session token.
    /// Administrators log in with their TOTP code.
    pub async fn login_new(
        &self,
        username: &str,
        role: &str,
        scope: Option<&str>,
        institution: Option<&str>,
    ) -> String {
        let policy = hc_core::access::SecurityPolicy::default();
        let created = hc_app::accounts::create_user(
            &self.db.store,
            &policy,
            &hc_app::audit::Caller::cli(),
            hc_app::accounts::NewAccount {
                username: username.into(),
                display_name: String::new(),
                password: Some(TEST_PASSWORD.into()),
                role: role.into(),
                scope_orgunit: scope.map(str::to_owned),
                scope_institution: institution.map(str::to_owned),
                resident_id: None,
                practitioner_id: None,
            },
        )
        .await
        .unwrap();
        let code = created.totp_uri.map(|uri| totp_now(&uri));
        let ok = hc_app::accounts::login(
            &self.db.store,
            &policy,
            username,
            TEST_PASSWORD,
            code.as_deref(),
            None,
        )
        .await
        .unwrap()
        .unwrap();
        ok.token
    }

    /// After `seed`: the caller most requests act as, a family doctor whose jurisdiction is
    /// the whole seeded city (440300).
    pub async fn seeded(backend: Backend) -> TestApp {
        Self::seeded_with(backend, hc_web::WebConfig::default()).await
    }

    /// `seeded` with settings.
    pub async fn seeded_with(backend: Backend, config: hc_web::WebConfig) -> TestApp {
        let mut t = TestApp::with_config(backend, config).await;
        t.seed().await;
        t.token = t
            .login_new("doctor", "family_doctor", Some("440300"), None)
            .await;
        t
    }

    /// The token a request acts with: changes to the registry's structure and imports are
    /// the administrator's job, everything else the doctor's.
    fn token_for(&self, method: &str, uri: &str) -> &str {
        let path = uri.split('?').next().unwrap_or(uri);
        let structural = [
            "/api/v1/orgunits",
            "/api/v1/institutions",
            "/api/v1/practitioners",
            "/api/v1/import",
            "/api/v1/users",
            "/api/v1/tokens",
        ]
        .iter()
        .any(|p| path.starts_with(p));
        if self.token.is_empty() || (method != "GET" && structural) {
            &self.admin_token
        } else {
            &self.token
        }
    }

    /// Sends a request; `auth` adds the admin's bearer token.
    pub async fn send(&self, req: Request<Body>) -> Resp {
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Resp {
            status,
            content_type,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, uri: &str) -> Resp {
        self.send(
            Request::get(uri)
                .header(
                    header::AUTHORIZATION,
                    format!("Bearer {}", self.token_for("GET", uri)),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// GET as a browser: with the session cookie (and optional extra cookies, e.g. `lang=en`).
    pub async fn get_page(&self, uri: &str, extra_cookies: &str) -> Resp {
        let cookie = format!("hc_session={}; {extra_cookies}", self.token_for("GET", uri));
        self.send(
            Request::get(uri)
                .header(header::COOKIE, cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    pub async fn send_json(&self, method: &str, uri: &str, body: &str) -> Resp {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header(
                header::AUTHORIZATION,
                format!("Bearer {}", self.token_for(method, uri)),
            )
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap();
        self.send(req).await
    }

    /// Sends `method uri` with `token` as bearer and an optional JSON body.
    pub async fn as_token(&self, token: &str, method: &str, uri: &str, body: Option<&str>) -> Resp {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        if body.is_some() {
            req = req.header(header::CONTENT_TYPE, "application/json");
        }
        self.send(req.body(Body::from(body.unwrap_or("").to_owned())).unwrap())
            .await
    }

    /// A second district, 福田区 (440304), with one community and one resident, 赵敏;
    /// returns her id.
    pub async fn seed_second_district(&self) -> i64 {
        let s = &self.db.store;
        let unit = |code: &str, name: &str, parent: &str, level| OrgUnit {
            code: code.into(),
            name: name.into(),
            parent_code: Some(parent.into()),
            level,
            valid_from: None,
            valid_to: None,
        };
        s.insert_orgunits(&[
            unit("440304", "福田区", "440300", OrgLevel::District),
            unit("440304001", "南园街道", "440304", OrgLevel::Street),
            unit("440304001001", "南园社区", "440304001", OrgLevel::Community),
        ])
        .await
        .unwrap();
        let birth = chrono::NaiveDate::from_ymd_opt(1970, 3, 8).unwrap();
        let ids = s
            .insert_residents(&[Resident {
                id_type: IdType::ResidentId,
                id_number: hc_core::idcard::compose(440304, birth, 31, Sex::F),
                name: "赵敏".into(),
                sex: Sex::F,
                birth_date: birth,
                phone: Some("13700001111".into()),
                community_code: "440304001001".into(),
                residence: Residence::Resident,
            }])
            .await
            .unwrap();
        ids[0]
    }

    /// A small city: 深圳市 → 南山区 → 南头街道 → two communities, one hospital, one 社康,
    /// three residents.
    pub async fn seed(&self) {
        let s = &self.db.store;
        let unit = |code: &str, name: &str, parent: &str, level| OrgUnit {
            code: code.into(),
            name: name.into(),
            parent_code: Some(parent.into()),
            level,
            valid_from: None,
            valid_to: None,
        };
        s.insert_orgunits(&[
            unit("440300", "深圳市", "440000", OrgLevel::City),
            unit("440305", "南山区", "440300", OrgLevel::District),
            unit("440305001", "南头街道", "440305", OrgLevel::Street),
            unit("440305001001", "南头社区", "440305001", OrgLevel::Community),
            unit("440305001002", "前海社区", "440305001", OrgLevel::Community),
        ])
        .await
        .unwrap();
        let inst = |code: &str, name: &str, kind, grade, beds| Institution {
            code: code.into(),
            name: name.into(),
            kind,
            grade,
            community_code: "440305001001".into(),
            group_code: None,
            licence_no: Some("PDY00001".into()),
            licence_status: LicenceStatus::Valid,
            beds,
            negative_pressure_rooms: 4,
            fever_clinic: grade.is_some(),
        };
        s.insert_institutions(&[inst(
            "H440305001",
            "南山区人民医院",
            InstitutionKind::Hospital,
            Some(HospitalGrade::TertiaryA),
            1200,
        )])
        .await
        .unwrap();
        s.insert_institutions(&[inst(
            "C440305001",
            "南头社区健康服务中心",
            InstitutionKind::Chc,
            None,
            0,
        )])
        .await
        .unwrap();
        let residents: Vec<Resident> = [
            ("王芳", Sex::F, "1949-12-31", 2u32),
            ("李明", Sex::M, "1985-06-15", 11),
            ("张伟", Sex::M, "2015-03-01", 21),
        ]
        .into_iter()
        .map(|(name, sex, birth, seq)| {
            let birth = chrono::NaiveDate::parse_from_str(birth, "%Y-%m-%d").unwrap();
            Resident {
                id_type: IdType::ResidentId,
                id_number: hc_core::idcard::compose(440305, birth, seq, sex),
                name: name.into(),
                sex,
                birth_date: birth,
                phone: Some("13912345678".into()),
                community_code: "440305001002".into(),
                residence: Residence::Registered,
            }
        })
        .collect();
        s.insert_residents(&residents).await.unwrap();
    }
}
