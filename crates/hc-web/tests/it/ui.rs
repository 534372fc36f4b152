//! The web UI: login and sessions, locales, each page on the seeded city, masking of personal
//! data, HTML error pages, static assets, and the completeness of the message catalogues.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hc_core::model::*;
use hc_store::testkit::backends;
use hc_web::i18n::Lang;

use crate::common::{Resp, TestApp};

/// A seeded app per backend.
async fn seeded() -> Vec<TestApp> {
    let mut apps = Vec::new();
    for backend in backends() {
        let app = TestApp::seeded(backend).await;
        apps.push(app);
    }
    apps
}

async fn anonymous(app: &TestApp, uri: &str) -> Resp {
    app.send(Request::get(uri).body(Body::empty()).unwrap())
        .await
}

async fn post_form(app: &TestApp, uri: &str, body: &str, cookie: Option<&str>) -> Resp {
    let mut req =
        Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    app.send(req.body(Body::from(body.to_owned())).unwrap())
        .await
}

fn location(r: &Resp) -> &str {
    r.headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn set_cookie(r: &Resp) -> &str {
    r.headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Asserts an HTML page with `status`, and returns its body.
fn page(r: &Resp, status: StatusCode) -> &str {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.content_type, "text/html; charset=utf-8");
    assert!(r.body.starts_with("<!DOCTYPE html>"), "{}", r.body);
    &r.body
}

/// The identity number the harness gives 李明 (born 1985-06-15, sequence 11, male).
fn li_ming_id() -> String {
    hc_core::idcard::compose(
        440305,
        chrono::NaiveDate::from_ymd_opt(1985, 6, 15).unwrap(),
        11,
        Sex::M,
    )
}

#[tokio::test]
async fn login_page_renders_as_an_accessible_form() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let r = anonymous(&app, "/login?next=/institutions").await;
        let body = page(&r, StatusCode::OK);
        assert!(body.contains("<html lang=\"zh-CN\">"));
        assert!(body.contains("<label for=\"username\">用户名</label>"));
        assert!(body.contains("<label for=\"password\">密码</label>"));
        assert!(body.contains("name=\"next\" value=\"/institutions\""));
        assert!(body.contains("<main id=\"main\""));
        assert!(body.contains("class=\"skip-link\""));
        assert_eq!(body.matches("<h1").count(), 1);
        // No navigation, user or logout before logging in.
        assert!(!body.contains("action=\"/logout\""));
        // An external `next` is not carried into the form.
        let r = anonymous(&app, "/login?next=//evil.example/x").await;
        assert!(page(&r, StatusCode::OK).contains("name=\"next\" value=\"/\""));
    }
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_the_login_page() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let r = anonymous(&app, "/").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(location(&r), "/login");
        let r = anonymous(&app, "/institutions?kind=chc").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(location(&r), "/login?next=/institutions%3Fkind%3Dchc");
        // An identity number searched for is not carried through the login.
        let r = anonymous(&app, "/residents?id_number=440305198506150113").await;
        assert_eq!(location(&r), "/login?next=/residents");
        // A stale or forged session is anonymous too.
        let r = app
            .send(
                Request::get("/orgunits")
                    .header(header::COOKIE, "hc_session=deadbeef")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
    }
}

#[tokio::test]
async fn login_checks_the_password_and_sets_the_session_cookie() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        // The login form carries its own CSRF token, paired with a cookie.
        let login_csrf = || async {
            let r = anonymous(&app, "/login").await;
            let cookie = set_cookie(&r).split(';').next().unwrap().to_owned();
            let token = cookie.split_once('=').unwrap().1.to_owned();
            (cookie, token)
        };
        let (cookie, csrf) = login_csrf().await;
        let r = post_form(
            &app,
            "/login",
            "username=commission&password=Test-pass-1&next=%2F",
            Some(&cookie),
        )
        .await;
        page(&r, StatusCode::FORBIDDEN);
        assert!(
            r.headers
                .get_all(header::SET_COOKIE)
                .iter()
                .all(|c| !c.to_str().unwrap().starts_with("hc_session="))
        );

        let r = post_form(
            &app,
            "/login",
            &format!("username=commission&password=wrong-pass-1&next=%2Finstitutions&csrf={csrf}"),
            Some(&cookie),
        )
        .await;
        let body = page(&r, StatusCode::UNAUTHORIZED);
        assert!(body.contains("role=\"alert\""));
        assert!(body.contains("用户名或密码不正确"));
        assert!(
            body.contains("value=\"commission\""),
            "the username is kept"
        );
        assert!(
            !body.contains("wrong-pass-1"),
            "the password is never echoed"
        );

        let (cookie, csrf) = login_csrf().await;
        let r = post_form(
            &app,
            "/login",
            &format!("username=commission&password=Test-pass-1&next=%2Finstitutions%3Fkind%3Dchc&csrf={csrf}"),
            Some(&cookie),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(location(&r), "/institutions?kind=chc");
        let set = set_cookie(&r);
        assert!(set.starts_with("hc_session="), "{set}");
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"));
        let session = set.split(';').next().unwrap().to_owned();
        let token = session.split_once('=').unwrap().1.to_owned();

        // The cookie opens the pages.
        let r = app
            .send(
                Request::get("/")
                    .header(header::COOKIE, &session)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert!(page(&r, StatusCode::OK).contains("市卫生健康委"));

        // An administrator needs the TOTP code as well.
        let (cookie, csrf) = login_csrf().await;
        let r = post_form(
            &app,
            "/login",
            &format!("username=admin&password=Test-pass-1&next=%2F&csrf={csrf}"),
            Some(&cookie),
        )
        .await;
        assert!(page(&r, StatusCode::UNAUTHORIZED).contains("动态口令"));

        // Only local paths are followed after login.
        for next in [
            "https%3A%2F%2Fevil.example",
            "%2F%2Fevil.example",
            "%2F%5Cevil.example",
        ] {
            let (cookie, csrf) = login_csrf().await;
            let r = post_form(
                &app,
                "/login",
                &format!("username=commission&password=Test-pass-1&next={next}&csrf={csrf}"),
                Some(&cookie),
            )
            .await;
            assert_eq!(location(&r), "/", "next={next}");
        }

        // Logging out needs the session's CSRF token; then it ends the session.
        let r = post_form(&app, "/logout", "", Some(&session)).await;
        assert_eq!(location(&r), "/");
        let r = app
            .send(
                Request::get("/")
                    .header(header::COOKIE, &session)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "a logout without the token did nothing"
        );
        let csrf = csrf_of(&token);
        let r = post_form(&app, "/logout", &format!("csrf={csrf}"), Some(&session)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(location(&r), "/login");
        assert!(set_cookie(&r).contains("Max-Age=0"));
        let r = app
            .send(
                Request::get("/")
                    .header(header::COOKIE, &session)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
    }
}

/// The CSRF token the server derives from a session token (read off a page in a browser).
pub fn csrf_of(session_token: &str) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"healthcity csrf v1\0");
    h.update(session_token.as_bytes());
    hex::encode(&h.finalize()[..16])
}

#[tokio::test]
async fn the_language_switch_sets_a_cookie_and_goes_back() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let r = anonymous(&app, "/lang/en?back=/institutions%3Fkind%3Dchc").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(location(&r), "/institutions?kind=chc");
        assert_eq!(
            set_cookie(&r),
            "lang=en; Path=/; Max-Age=31536000; SameSite=Lax"
        );
        let r = anonymous(&app, "/lang/zh?back=https://evil.example").await;
        assert_eq!(location(&r), "/");
        assert_eq!(
            set_cookie(&r),
            "lang=zh; Path=/; Max-Age=31536000; SameSite=Lax"
        );
        let r = anonymous(&app, "/lang/fr?back=/").await;
        page(&r, StatusCode::NOT_FOUND);
        // The switch on a page leads back to the same page, without the locale override.
        let r = app.get_page("/institutions?kind=chc&lang=en", "").await;
        assert!(
            page(&r, StatusCode::OK).contains("href=\"/lang/zh?back=/institutions%3Fkind%3Dchc\"")
        );
    }
}

#[tokio::test]
async fn overview_shows_the_seeded_city_in_chinese_and_in_english() {
    for app in seeded().await {
        let r = app.get_page("/", "").await;
        let body = page(&r, StatusCode::OK);
        assert!(body.contains("<html lang=\"zh-CN\">"));
        assert!(body.contains("总览"));
        assert!(body.contains("健康城市平台"));
        assert!(body.contains("aria-current=\"page\"><svg class=\"icon\" aria-hidden=\"true\"><use href=\"/static/icons.svg#i-overview\"></use></svg>总览"));
        assert_eq!(body.matches("<h1").count(), 1);
        // Key figures: 3 residents, 2 institutions (one 社康), 0 practitioners, 1,200 beds.
        assert!(
            body.contains("登记居民</p>\n      <p class=\"figure-value\">3<"),
            "{body}"
        );
        assert!(body.contains("医疗卫生机构</p>\n      <p class=\"figure-value\">2<"));
        assert!(body.contains("卫生技术人员</p>\n      <p class=\"figure-value\">0<"));
        assert!(body.contains("每千人口床位数</p>\n      <p class=\"figure-value\">400,000.00<"));
        assert!(body.contains("每个社康服务人口</p>\n      <p class=\"figure-value\">3<"));
        assert!(body.contains("床位合计 1,200 张"));
        assert!(body.contains("社康中心"));
        // The pyramid: one male 40–44, one male 10–14, one female 75–79.
        assert!(body.contains("<svg class=\"chart pyramid\""));
        assert!(body.contains("role=\"img\""));
        assert!(body.contains("男 2") && body.contains("女 1"));
        // Drill-down into the districts of the only city.
        assert!(body.contains("href=\"/?under=440305\">南山区"));

        let r = app.get_page("/", "lang=en").await;
        let body = page(&r, StatusCode::OK);
        assert!(body.contains("<html lang=\"en\">"));
        assert!(body.contains("Overview"));
        assert!(body.contains("Registered residents"));
        assert!(body.contains("Community health centre"));
        assert!(!body.contains("总览"), "no Chinese UI text in English");

        let r = app.get_page("/?lang=en", "").await;
        assert!(page(&r, StatusCode::OK).contains("<html lang=\"en\">"));
    }
}

#[tokio::test]
async fn overview_can_be_scoped_to_a_unit() {
    for app in seeded().await {
        let r = app.get_page("/?under=440305001", "").await;
        let body = page(&r, StatusCode::OK);
        assert!(body.contains("<h1>南头街道总览</h1>"));
        assert!(
            body.contains("href=\"/?under=440305\">南山区</a>"),
            "breadcrumbs up to the district"
        );
        assert!(body.contains("登记居民</p>\n      <p class=\"figure-value\">3<"));
        // A community holds no institution: the scope really filters.
        let r = app.get_page("/?under=440305001002", "").await;
        let body = page(&r, StatusCode::OK);
        assert!(body.contains("医疗卫生机构</p>\n      <p class=\"figure-value\">0<"));
        assert!(body.contains("登记居民</p>\n      <p class=\"figure-value\">3<"));

        let body = page(
            &app.get_page("/?under=440399", "").await,
            StatusCode::NOT_FOUND,
        )
        .to_owned();
        assert!(body.contains("440399") && body.contains("未找到"));
        page(
            &app.get_page("/?under=abc", "").await,
            StatusCode::BAD_REQUEST,
        );
    }
}

#[tokio::test]
async fn orgunit_page_lists_children_with_counts() {
    for app in seeded().await {
        let r = app.get_page("/orgunits?code=440305", "").await;
        let body = page(&r, StatusCode::OK);
        assert!(body.contains("<h1>南山区</h1>"));
        assert!(
            body.contains("<a href=\"/orgunits?code=440300\">深圳市</a>"),
            "breadcrumbs"
        );
        let row_start = body
            .find("<a href=\"/orgunits?code=440305001\">南头街道</a>")
            .expect("the street is listed");
        let row = &body[row_start..row_start + body[row_start..].find("</tr>").unwrap()];
        let cells: Vec<&str> = row
            .split("<td class=\"num\">")
            .skip(1)
            .map(|c| c.split('<').next().unwrap())
            .collect();
        assert_eq!(
            cells,
            ["3", "2", "1,200"],
            "residents, institutions, beds: {row}"
        );
        assert!(body.contains("href=\"/institutions?under=440305\""));
        assert!(body.contains("href=\"/residents?under=440305\""));
        assert!(body.contains("href=\"/?under=440305\""));
        assert!(body.contains("<th scope=\"col\""));

        // The root lists the cities; a past date is accepted; a malformed one is a 400.
        assert!(page(&app.get_page("/orgunits", "").await, StatusCode::OK).contains("深圳市"));
        assert!(
            page(
                &app.get_page("/orgunits?code=440305&as_of=2020-01-01", "")
                    .await,
                StatusCode::OK
            )
            .contains("2020-01-01")
        );
        page(
            &app.get_page("/orgunits?code=440305&as_of=yesterday", "")
                .await,
            StatusCode::BAD_REQUEST,
        );
        page(
            &app.get_page("/orgunits?code=440306", "").await,
            StatusCode::NOT_FOUND,
        );
    }
}

#[tokio::test]
async fn institutions_filter_by_kind_and_page() {
    for app in seeded().await {
        let r = app.get_page("/institutions?kind=chc", "").await;
        let body = page(&r, StatusCode::OK);
        assert!(body.contains("南头社区健康服务中心"));
        assert!(!body.contains("南山区人民医院"));
        assert!(body.contains("<option value=\"chc\" selected>社康中心</option>"));
        assert!(body.contains("本页显示 1 条记录"));

        let body = page(&app.get_page("/institutions", "").await, StatusCode::OK).to_owned();
        assert!(body.contains("南头社区健康服务中心") && body.contains("南山区人民医院"));
        assert!(body.contains(">南头社区</a>"), "community names, not codes");
        assert!(body.contains("三级甲等"));

        let body = page(
            &app.get_page("/institutions?fever=yes&under=440305001", "")
                .await,
            StatusCode::OK,
        )
        .to_owned();
        assert!(body.contains("南山区人民医院") && !body.contains("南头社区健康服务中心"));
        let body = page(
            &app.get_page("/institutions?name=人民", "").await,
            StatusCode::OK,
        )
        .to_owned();
        assert!(body.contains("南山区人民医院") && !body.contains("南头社区健康服务中心"));

        // Cursor pages carry the filters.
        let s = &app.db.store;
        let more: Vec<Institution> = (0..60)
            .map(|i| Institution {
                code: format!("S{i:04}"),
                name: format!("测试社康站{i}"),
                kind: InstitutionKind::Chs,
                grade: None,
                community_code: "440305001002".into(),
                group_code: None,
                licence_no: None,
                licence_status: LicenceStatus::Valid,
                beds: 0,
                negative_pressure_rooms: 0,
                fever_clinic: false,
            })
            .collect();
        s.insert_institutions(&more).await.unwrap();
        let body = page(
            &app.get_page("/institutions?kind=chs", "").await,
            StatusCode::OK,
        )
        .to_owned();
        assert!(body.contains("本页显示 50 条记录"));
        let start = body
            .find("rel=\"next\"")
            .map(|i| body[..i].rfind("href=\"").unwrap() + 6)
            .expect("a next page");
        let next = body[start..start + body[start..].find('"').unwrap()].replace("&#38;", "&");
        assert!(next.starts_with("/institutions?kind=chs&after="), "{next}");
        let body = page(&app.get_page(&next, "").await, StatusCode::OK).to_owned();
        assert!(body.contains("本页显示 10 条记录"));
        assert!(!body.contains("rel=\"next\""));
        assert!(body.contains("返回第一页"));

        page(
            &app.get_page("/institutions?kind=spaceship", "").await,
            StatusCode::BAD_REQUEST,
        );
        page(
            &app.get_page("/institutions?after=-3", "").await,
            StatusCode::BAD_REQUEST,
        );
        page(
            &app.get_page("/institutions?fever=maybe", "").await,
            StatusCode::BAD_REQUEST,
        );
    }
}

#[tokio::test]
async fn institution_detail_and_unknown_codes() {
    for app in seeded().await {
        let body = page(
            &app.get_page("/institutions/H440305001", "").await,
            StatusCode::OK,
        )
        .to_owned();
        assert!(body.contains("<h1>南山区人民医院</h1>"));
        assert!(body.contains("PDY00001"));
        assert!(body.contains("1,200"));
        assert!(body.contains("href=\"/orgunits?code=440305001001\">南头社区</a>"));

        let r = app.get_page("/institutions/NOPE", "").await;
        let body = page(&r, StatusCode::NOT_FOUND);
        assert!(body.contains("NOPE"));
        assert!(body.contains("action=\"/logout\""), "in the common layout");
        let r = app.get_page("/institutions/NOPE", "lang=en").await;
        assert!(page(&r, StatusCode::NOT_FOUND).contains("Not found"));
    }
}

#[tokio::test]
async fn resident_search_masks_identity_numbers() {
    for app in seeded().await {
        let id = li_ming_id();
        let masked = mask_id_number(&id);
        // Lower-case x and spaces are normalised.
        let r = app
            .get_page(
                &format!("/residents?id_number=%20{}", id.to_lowercase()),
                "",
            )
            .await;
        let body = page(&r, StatusCode::OK);
        assert!(body.contains("李*"), "names are masked in lists: {body}");
        assert!(!body.contains("李明"), "{body}");
        assert!(body.contains(&masked));
        assert!(body.contains("139****5678"));
        assert!(
            !body.contains(&id),
            "the full identity number never appears"
        );
        assert!(!body.contains("13912345678"));
        assert!(!body.contains("王芳"));

        // The record page shows a family doctor the identity in clear, and the read is audited.
        let start = body.find("href=\"/residents/").unwrap() + 6;
        let href = body[start..start + body[start..].find('"').unwrap()].to_owned();
        let body = page(&app.get_page(&href, "").await, StatusCode::OK).to_owned();
        assert!(
            body.contains("<h1>李明</h1>") && body.contains(&id),
            "{body}"
        );
        assert!(!body.contains("1985-06-15"));
        let reads = app
            .db
            .store
            .audit_events(&hc_store::AuditFilter {
                actor: Some("doctor".into()),
                action: Some("read".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(reads.len(), 1, "one audited read");
        assert!(body.contains("href=\"/orgunits?code=440305001002\">前海社区</a>"));

        // Name prefix, sex and area.
        let body = page(
            &app.get_page("/residents?name=王", "").await,
            StatusCode::OK,
        )
        .to_owned();
        assert!(body.contains("王*") && !body.contains("李*"));
        let body = page(
            &app.get_page("/residents?under=440305001&sex=M", "").await,
            StatusCode::OK,
        )
        .to_owned();
        assert!(body.contains("李*") && body.contains("张*") && !body.contains("王*"));

        // No criteria, or only a whole district: a hint, nobody listed.
        for uri in ["/residents", "/residents?under=440305"] {
            let body = page(&app.get_page(uri, "").await, StatusCode::OK).to_owned();
            assert!(body.contains("notice-info"), "{uri}");
            assert!(!body.contains("李明") && !body.contains("王芳"), "{uri}");
        }

        page(
            &app.get_page("/residents/999999", "").await,
            StatusCode::NOT_FOUND,
        );
        page(
            &app.get_page("/residents/abc", "").await,
            StatusCode::BAD_REQUEST,
        );
        page(
            &app.get_page("/residents?sex=X", "").await,
            StatusCode::BAD_REQUEST,
        );
    }
}

#[tokio::test]
async fn pages_carry_security_headers_and_assets_are_cached() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let r = app.get_page("/", "").await;
        assert_eq!(r.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
        assert!(
            r.headers
                .get(header::CONTENT_SECURITY_POLICY)
                .unwrap()
                .to_str()
                .unwrap()
                .contains("default-src 'none'")
        );
        for (uri, ty) in [
            ("/static/app.css", "text/css; charset=utf-8"),
            ("/static/logo.svg", "image/svg+xml"),
            ("/static/icons.svg", "image/svg+xml"),
        ] {
            let r = anonymous(&app, uri).await;
            assert_eq!(r.status, StatusCode::OK, "{uri}");
            assert_eq!(r.content_type, ty, "{uri}");
            assert_eq!(
                r.headers.get(header::CACHE_CONTROL).unwrap(),
                "public, max-age=86400"
            );
        }
        // The stylesheet names no external resource.
        let css = anonymous(&app, "/static/app.css").await.body;
        assert!(!css.contains("http:") && !css.contains("https:") && !css.contains("@import"));
    }
}

/// Message keys used in the templates and the UI code: `t("section.key")`, `tf("section.key", …)`,
/// and string literals shaped `"section.key"` whose section the catalogues define.
fn used_keys(sections: &BTreeSet<String>) -> BTreeSet<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut keys = BTreeSet::new();
    for dir in ["templates", "src/ui"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            // Calls: t("…") and tf("…".
            for (i, _) in text.match_indices("(\"") {
                let before = &text[..i];
                let ident: String = before
                    .chars()
                    .rev()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                if ident == "t" || ident == "tf" {
                    let rest = &text[i + 2..];
                    keys.insert(rest[..rest.find('"').unwrap()].to_owned());
                }
            }
            // Literals "section.key".
            for lit in text.split('"').skip(1).step_by(2) {
                let Some((section, key)) = lit.split_once('.') else {
                    continue;
                };
                let is_key = !key.is_empty()
                    && section.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !matches!(key, "html" | "svg" | "css");
                if is_key && sections.contains(section) {
                    keys.insert(lit.to_owned());
                }
            }
        }
    }
    keys
}

#[test]
fn every_message_key_used_exists_in_both_catalogues() {
    let zh = Lang::Zh.messages();
    let en = Lang::En.messages();
    let sections: BTreeSet<String> = zh
        .keys()
        .iter()
        .filter_map(|k| k.split_once('.'))
        .map(|(s, _)| s.to_owned())
        .collect();
    let used = used_keys(&sections);
    assert!(used.len() > 100, "the scan finds the keys: {used:?}");
    for key in &used {
        assert_ne!(zh.get(key), key.as_str(), "zh-CN lacks {key}");
        assert_ne!(en.get(key), key.as_str(), "en lacks {key}");
    }
    assert_eq!(zh.keys(), en.keys(), "zh-CN and en define the same keys");
}

#[test]
fn every_coded_value_has_a_label_in_both_catalogues() {
    let mut keys: Vec<String> = Vec::new();
    keys.extend(Sex::ALL.iter().map(|v| format!("sex.{}", v.as_str())));
    keys.extend(
        OrgLevel::ALL
            .iter()
            .map(|v| format!("level.{}", v.as_str())),
    );
    keys.extend(
        InstitutionKind::ALL
            .iter()
            .map(|v| format!("kind.{}", v.as_str())),
    );
    keys.extend(
        HospitalGrade::ALL
            .iter()
            .map(|v| format!("grade.{}", v.as_str())),
    );
    keys.extend(
        LicenceStatus::ALL
            .iter()
            .map(|v| format!("licence.{}", v.as_str())),
    );
    keys.extend(
        PractitionerKind::ALL
            .iter()
            .map(|v| format!("pkind.{}", v.as_str())),
    );
    keys.extend(IdType::ALL.iter().map(|v| format!("idtype.{}", v.as_str())));
    keys.extend(
        Residence::ALL
            .iter()
            .map(|v| format!("residence.{}", v.as_str())),
    );
    keys.extend(
        hc_core::access::Role::ALL
            .iter()
            .map(|r| format!("role.{}", r.as_str())),
    );
    for lang in [Lang::Zh, Lang::En] {
        for key in &keys {
            assert_ne!(
                lang.messages().get(key),
                key.as_str(),
                "{} lacks {key}",
                lang.tag()
            );
        }
    }
    // The Chinese labels agree with the domain's own.
    for k in InstitutionKind::ALL {
        assert_eq!(
            Lang::Zh.messages().get(&format!("kind.{}", k.as_str())),
            k.label_zh()
        );
    }
}

/// GET `uri` as a browser with session `token`.
async fn page_as(app: &TestApp, token: &str, uri: &str) -> Resp {
    app.send(
        Request::get(uri)
            .header(header::COOKIE, format!("hc_session={token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn each_role_sees_its_own_pages() {
    for backend in backends() {
        let app = TestApp::seeded(backend).await;
        let auditor = app.login_new("aud", "auditor", None, None).await;
        // The doctor opens a record: identities in clear, with the audit notice.
        let body = page(&app.get_page("/residents/2", "").await, StatusCode::OK).to_owned();
        assert!(body.contains("已记入审计日志"), "{body}");
        // The doctor's navigation has no audit log, and the audit page is forbidden.
        let home = page(&app.get_page("/", "").await, StatusCode::OK).to_owned();
        assert!(home.contains("href=\"/residents\"") && !home.contains("href=\"/audit\""));
        page(&app.get_page("/audit", "").await, StatusCode::FORBIDDEN);
        // The auditor lands on the audit log and finds the doctor's read of record 2.
        let r = page_as(&app, &auditor, "/").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(location(&r), "/audit");
        let r = page_as(&app, &auditor, "/audit?actor=doctor&action=read").await;
        let body = page(&r, StatusCode::OK);
        assert!(
            body.contains("doctor") && body.contains("href=\"/audit?resident_id=2\""),
            "{body}"
        );
        assert!(
            !body.contains("href=\"/residents\""),
            "no resident search for auditors"
        );
        let r = page_as(&app, &auditor, "/audit?from=yesterday").await;
        page(&r, StatusCode::BAD_REQUEST);
        let r = page_as(&app, &auditor, "/residents").await;
        page(&r, StatusCode::FORBIDDEN);
        // A district's home is its own district, with its own figures only.
        app.seed_second_district().await;
        let futian = app
            .login_new("futian", "district_bureau", Some("440304"), None)
            .await;
        let body = page(&page_as(&app, &futian, "/").await, StatusCode::OK).to_owned();
        assert!(
            body.contains("福田区") && !body.contains("南山区"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn break_the_glass_form_needs_a_reason_and_the_csrf_token() {
    for backend in backends() {
        let app = TestApp::seeded(backend).await;
        let zhao = app.seed_second_district().await;
        let doctor = app
            .login_new("nsdoc", "family_doctor", Some("440305"), None)
            .await;
        let cookie = format!("hc_session={doctor}");
        let zhao_id = hc_core::idcard::compose(
            440304,
            chrono::NaiveDate::from_ymd_opt(1970, 3, 8).unwrap(),
            31,
            Sex::F,
        );
        let r = page_as(&app, &doctor, "/residents").await;
        assert!(page(&r, StatusCode::OK).contains("action=\"/residents/break-glass\""));
        page(
            &page_as(&app, &doctor, &format!("/residents/{zhao}")).await,
            StatusCode::NOT_FOUND,
        );
        let reason = "%E6%80%A5%E8%AF%8A%E6%98%8F%E8%BF%B7%E6%82%A3%E8%80%85%EF%BC%8C%E9%9C%80%E6%A0%B8%E5%AF%B9%E8%BF%87%E6%95%8F%E5%8F%B2";
        let r = post_form(
            &app,
            "/residents/break-glass",
            &format!("id_number={zhao_id}&reason={reason}"),
            Some(&cookie),
        )
        .await;
        page(&r, StatusCode::FORBIDDEN);
        let csrf = csrf_of(&doctor);
        let r = post_form(
            &app,
            "/residents/break-glass",
            &format!("csrf={csrf}&id_number={zhao_id}&reason=x"),
            Some(&cookie),
        )
        .await;
        page(&r, StatusCode::BAD_REQUEST);
        let r = post_form(
            &app,
            "/residents/break-glass",
            &format!("csrf={csrf}&id_number={zhao_id}&reason={reason}"),
            Some(&cookie),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(location(&r), format!("/residents/{zhao}"));
        let body = page(
            &page_as(&app, &doctor, &format!("/residents/{zhao}")).await,
            StatusCode::OK,
        )
        .to_owned();
        assert!(body.contains("赵敏") && body.contains("破窗"), "{body}");
    }
}

#[tokio::test]
async fn a_one_time_password_must_be_changed_first() {
    for backend in backends() {
        let app = TestApp::seeded(backend).await;
        let policy = hc_core::access::SecurityPolicy::default();
        let created = hc_app::accounts::create_user(
            &app.db.store,
            &policy,
            &hc_app::audit::Caller::cli(),
            hc_app::accounts::NewAccount {
                username: "newbie".into(),
                role: "commission".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let otp = created.one_time_password.unwrap();
        let token = hc_app::accounts::login(&app.db.store, &policy, "newbie", &otp, None, None)
            .await
            .unwrap()
            .unwrap()
            .token;
        let r = page_as(&app, &token, "/residents").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(location(&r), "/account/password");
        let form = page(
            &page_as(&app, &token, "/account/password").await,
            StatusCode::OK,
        )
        .to_owned();
        assert!(form.contains("autocomplete=\"new-password\""), "{form}");
        let cookie = format!("hc_session={token}");
        let csrf = csrf_of(&token);
        let r = post_form(
            &app,
            "/account/password",
            &format!("csrf={csrf}&current=wrong&password=New-pass-2026&repeat=New-pass-2026"),
            Some(&cookie),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let current: String = otp
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let r = post_form(
            &app,
            "/account/password",
            &format!("csrf={csrf}&current={current}&password=New-pass-2026&repeat=New-pass-2026"),
            Some(&cookie),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(location(&r), "/login");
        // Every session of the account ended; the new password works.
        assert_eq!(
            page_as(&app, &token, "/").await.status,
            StatusCode::SEE_OTHER
        );
        assert!(
            hc_app::accounts::login(
                &app.db.store,
                &policy,
                "newbie",
                "New-pass-2026",
                None,
                None
            )
            .await
            .unwrap()
            .is_ok()
        );
    }
}

#[tokio::test]
async fn administrators_manage_accounts_on_their_page() {
    for backend in backends() {
        let app = TestApp::seeded(backend).await;
        let admin = app.admin_token.clone();
        let cookie = format!("hc_session={admin}");
        // The administrator's navigation leads to the page, which lists the accounts.
        let r = page_as(&app, &admin, "/admin/accounts").await;
        let body = page(&r, StatusCode::OK).to_owned();
        assert!(
            body.contains("href=\"/admin/accounts\" aria-current=\"page\""),
            "{body}"
        );
        assert!(
            body.contains(">doctor<") && body.contains(">commission<"),
            "{body}"
        );
        assert!(
            body.contains("action=\"/admin/accounts/commission/disable\""),
            "{body}"
        );
        assert!(
            !body.contains("action=\"/admin/accounts/admin/disable\""),
            "no disabling oneself"
        );
        // Other roles may not use it, nor see it in their navigation.
        let r = app.get_page("/admin/accounts", "").await;
        assert!(!page(&r, StatusCode::FORBIDDEN).contains("href=\"/admin/accounts\""));
        // Creating needs the CSRF token.
        let form = "username=newclerk&display_name=New+clerk&role=commission";
        let r = post_form(&app, "/admin/accounts", form, Some(&cookie)).await;
        page(&r, StatusCode::FORBIDDEN);
        let csrf = csrf_of(&admin);
        let r = post_form(
            &app,
            "/admin/accounts",
            &format!("csrf={csrf}&{form}"),
            Some(&cookie),
        )
        .await;
        assert_eq!(
            r.headers.get(header::CACHE_CONTROL).unwrap(),
            "no-store",
            "the one-time password is never cached"
        );
        let body = page(&r, StatusCode::OK).to_owned();
        assert!(
            body.contains("已创建账号 newclerk") && body.contains("不会再次显示"),
            "{body}"
        );
        // The password shown is the account's, to be changed at the first login.
        let shown = body
            .split("<dt>一次性密码</dt><dd><span class=\"code\">")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .unwrap_or_else(|| panic!("no one-time password: {body}"));
        let policy = hc_core::access::SecurityPolicy::default();
        let login = hc_app::accounts::login(&app.db.store, &policy, "newclerk", shown, None, None)
            .await
            .unwrap()
            .unwrap();
        assert!(login.principal.must_change_password);
        let users = app.db.store.users().await.unwrap();
        let clerk = users.iter().find(|u| u.username == "newclerk").unwrap();
        assert_eq!(clerk.role, "commission");
        assert!(clerk.must_change_password);
        // A taken username is refused with hc-app's message, the form kept.
        let r = post_form(
            &app,
            "/admin/accounts",
            &format!("csrf={csrf}&{form}"),
            Some(&cookie),
        )
        .await;
        let body = page(&r, StatusCode::CONFLICT).to_owned();
        assert!(
            body.contains("role=\"alert\"") && body.contains("is taken"),
            "{body}"
        );
        // So is a role that needs a jurisdiction without one.
        let r = post_form(
            &app,
            "/admin/accounts",
            &format!("csrf={csrf}&username=nodistrict&role=district_bureau"),
            Some(&cookie),
        )
        .await;
        let body = page(&r, StatusCode::UNPROCESSABLE_ENTITY).to_owned();
        assert!(
            body.contains("needs an org unit") && body.contains("value=\"nodistrict\""),
            "{body}"
        );
        // Disabling an account goes back to the list, and the store has it disabled.
        let r = post_form(
            &app,
            "/admin/accounts/commission/disable",
            &format!("csrf={csrf}"),
            Some(&cookie),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(location(&r), "/admin/accounts");
        let users = app.db.store.users().await.unwrap();
        assert!(
            users
                .iter()
                .find(|u| u.username == "commission")
                .unwrap()
                .disabled
        );
    }
}
