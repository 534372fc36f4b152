//! Primary care over HTTP (issue #6): a team, a contract, a diagnosis and follow-ups recorded
//! through the API by a family doctor; the worklist; jurisdictions, a resident's own care,
//! conflicts and refusals naming the field; the pages and their forms; the indicators and the
//! audited list of residents behind them.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{Datelike, Duration, NaiveDate};
use hc_store::testkit::backends;
use hc_web::i18n::Lang;

use crate::common::{Resp, TEST_PASSWORD, TestApp};
use crate::ui::csrf_of;

/// 王芳, born 1949: hypertension, under contract.
const WANG: i64 = 1;

fn day(days_ago: i64) -> NaiveDate {
    hc_app::today() - Duration::days(days_ago)
}

/// The field a problem document names first, and its status.
fn problem(r: &Resp) -> (StatusCode, String) {
    assert_eq!(r.content_type, "application/problem+json", "{}", r.body);
    let field = r.json()["errors"][0]["field"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    (r.status, field)
}

/// GET as a browser with session `token`.
async fn page_as(t: &TestApp, token: &str, uri: &str) -> Resp {
    t.send(
        Request::get(uri)
            .header(header::COOKIE, format!("hc_session={token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

/// POST a form as a browser with session `token`.
async fn post_as(t: &TestApp, token: &str, uri: &str, body: &str) -> Resp {
    t.send(
        Request::post(uri)
            .header(header::COOKIE, format!("hc_session={token}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.to_owned()))
            .unwrap(),
    )
    .await
}

fn html(r: &Resp, status: StatusCode) -> String {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.content_type, "text/html; charset=utf-8");
    r.body.clone()
}

/// The seeded city with a team at the 社康 (created by the district bureau), 王芳 under
/// contract with it, diagnosed with hypertension, and one follow-up: everything but the team
/// recorded by the family doctor through the API.
struct Seeded {
    t: TestApp,
    team: i64,
    contract: i64,
    enrolment: i64,
    /// The next due date of the follow-up.
    next_due: String,
}

async fn seeded(b: hc_store::Backend) -> Seeded {
    let t = TestApp::seeded(b).await;
    // Two practitioners at the 社康.
    let mut ids = Vec::new();
    for (i, (name, kind)) in [("刘医生", "gp"), ("孙护士", "nurse")].iter().enumerate() {
        let id_number = hc_core::idcard::compose(
            440305,
            NaiveDate::from_ymd_opt(1980, 1, 1).unwrap(),
            901 + 2 * i as u32,
            hc_core::model::Sex::F,
        );
        let body = format!(
            r#"{{"id_type":"resident_id","id_number":"{id_number}","name":"{name}","kind":"{kind}","institution_code":"C440305001"}}"#
        );
        let r = t.send_json("POST", "/api/v1/practitioners", &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        ids.push(r.json()["id"].as_i64().unwrap());
    }
    let team_body = format!(
        r#"{{"code":"C440305001-T1","name":"南头社康 刘医生团队","institution_code":"C440305001",
            "members":[{{"practitioner_id":{},"role":"gp_lead"}},{{"practitioner_id":{},"role":"nurse"}}]}}"#,
        ids[0], ids[1]
    );
    // Teams are set up by the health administration, not by doctors.
    let r = t.send_json("POST", "/api/v1/care/teams", &team_body).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let bureau = t
        .login_new("nsbureau", "district_bureau", Some("440305"), None)
        .await;
    let r = t
        .as_token(&bureau, "POST", "/api/v1/care/teams", Some(&team_body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let team = r.json()["team"]["id"].as_i64().unwrap();
    assert_eq!(
        r.headers[header::LOCATION],
        format!("/api/v1/care/teams/{team}")
    );
    assert_eq!(r.json()["members"][0]["role"], "gp_lead");

    // The doctor signs 王芳 up, diagnoses her hypertension and follows her up.
    let r = t
        .send_json(
            "POST",
            &format!("/api/v1/residents/{WANG}/contracts"),
            &format!(
                r#"{{"team_id":{team},"package":"basic","start_date":"{}"}}"#,
                day(150)
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let contract = r.json()["id"].as_i64().unwrap();
    assert_eq!(r.json()["kind"], "new");
    let r = t
        .send_json(
            "POST",
            &format!("/api/v1/residents/{WANG}/diagnoses"),
            &format!(r#"{{"code":"I10","diagnosed_on":"{}"}}"#, day(200)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let enrolment = r.json()["enrolment_id"].as_i64().unwrap();
    let r = t
        .send_json(
            "POST",
            &format!("/api/v1/enrolments/{enrolment}/followups"),
            &format!(
                r#"{{"visit_date":"{}","sbp":132,"dbp":82,"weight_kg":60.5,"medication":"氨氯地平 5mg qd"}}"#,
                day(120)
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let verdict = r.json();
    assert_eq!(verdict["classification"], "satisfied", "{verdict}");
    assert_eq!(verdict["action"], "routine");
    let next_due = verdict["next_due"].as_str().unwrap().to_owned();
    Seeded {
        t,
        team,
        contract,
        enrolment,
        next_due,
    }
}

#[tokio::test]
async fn a_doctor_records_care_through_the_api_and_sees_the_worklist() {
    for b in backends() {
        let Seeded {
            t,
            team,
            contract,
            enrolment,
            next_due,
        } = seeded(b).await;

        // The worklist: her quarterly follow-up is overdue; the name is masked.
        let r = t.get(&format!("/api/v1/care/teams/{team}/worklist")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let w = r.json();
        assert_eq!(w["contracted"], 1, "{w}");
        assert_eq!(w["today"], hc_app::today().to_string());
        let items = w["items"].as_array().unwrap();
        assert!(items.iter().all(|i| i["name"] == "王*"), "{w}");
        assert!(
            items.iter().any(|i| i["service"] == "followup"
                && i["program"] == "hypertension"
                && i["status"] == "overdue"
                && i["due"] == next_due.as_str()),
            "{w}"
        );
        assert!(!w.to_string().contains("王芳"));
        // Another day: a year ago nothing was due yet.
        let r = t
            .get(&format!(
                "/api/v1/care/teams/{team}/worklist?date={}",
                day(365)
            ))
            .await;
        assert_eq!(r.json()["items"].as_array().unwrap().len(), 0, "{}", r.body);
        let r = t
            .get(&format!("/api/v1/care/teams/{team}/worklist?date=soon"))
            .await;
        assert_eq!(problem(&r), (StatusCode::BAD_REQUEST, "date".into()));

        // Teams: the list, one team with its members.
        let r = t.get("/api/v1/care/teams?institution=C440305001").await;
        assert_eq!(r.json().as_array().unwrap().len(), 1, "{}", r.body);
        let r = t.get(&format!("/api/v1/care/teams/{team}")).await;
        assert_eq!(r.json()["members"].as_array().unwrap().len(), 2);

        // Her care record: contract, team, key populations with reasons, the program.
        let r = t.get(&format!("/api/v1/residents/{WANG}/care")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let care = r.json();
        assert_eq!(care["contracts"][0]["id"], contract);
        assert_eq!(care["team"]["team"]["id"], team);
        let pops: Vec<&str> = care["populations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["population"].as_str().unwrap())
            .collect();
        assert!(
            pops.contains(&"elderly") && pops.contains(&"hypertension"),
            "{care}"
        );
        assert_eq!(care["programs"][0]["enrolment"]["id"], enrolment);
        assert_eq!(care["programs"][0]["followups"][0]["sbp"], 132);
        assert!(!care["due"].as_array().unwrap().is_empty());

        // An overlapping contract is a conflict; a second follow-up that day too.
        let r = t
            .send_json(
                "POST",
                &format!("/api/v1/residents/{WANG}/contracts"),
                &format!(
                    r#"{{"team_id":{team},"package":"basic","start_date":"{}"}}"#,
                    day(10)
                ),
            )
            .await;
        assert_eq!(problem(&r), (StatusCode::CONFLICT, "start_date".into()));
        let r = t
            .send_json(
                "POST",
                &format!("/api/v1/enrolments/{enrolment}/followups"),
                &format!(r#"{{"visit_date":"{}","sbp":128,"dbp":80}}"#, day(120)),
            )
            .await;
        assert_eq!(problem(&r), (StatusCode::CONFLICT, "visit_date".into()));
        // An impossible pressure is refused, naming the field; so is an unknown field.
        let r = t
            .send_json(
                "POST",
                &format!("/api/v1/enrolments/{enrolment}/followups"),
                &format!(r#"{{"visit_date":"{}","sbp":400,"dbp":80}}"#, day(5)),
            )
            .await;
        assert_eq!(
            problem(&r),
            (StatusCode::UNPROCESSABLE_ENTITY, "sbp".into()),
            "{}",
            r.body
        );
        let r = t
            .send_json(
                "POST",
                &format!("/api/v1/residents/{WANG}/contracts"),
                &format!(
                    r#"{{"resident_id":2,"team_id":{team},"package":"basic","start_date":"{}"}}"#,
                    day(1)
                ),
            )
            .await;
        assert_eq!(problem(&r).1, "resident_id", "{}", r.body);
        assert!(r.status.is_client_error());

        // Services under the contract, a check, and the end of the contract.
        let r = t
            .send_json(
                "POST",
                &format!("/api/v1/contracts/{contract}/services"),
                &format!(
                    r#"{{"service":"health_assessment","delivered_on":"{}"}}"#,
                    day(30)
                ),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let r = t
            .send_json(
                "POST",
                &format!("/api/v1/residents/{WANG}/checks"),
                &format!(
                    r#"{{"kind":"elderly","check_date":"{}","self_care_score":90}}"#,
                    day(20)
                ),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let r = t
            .send_json(
                "POST",
                &format!("/api/v1/residents/{WANG}/checks"),
                &format!(r#"{{"kind":"weekly","check_date":"{}"}}"#, day(20)),
            )
            .await;
        assert_eq!(
            problem(&r),
            (StatusCode::UNPROCESSABLE_ENTITY, "kind".into())
        );
        let r = t
            .send_json(
                "POST",
                &format!("/api/v1/contracts/{contract}/end"),
                &format!(r#"{{"ended_on":"{}","reason":"迁出本市"}}"#, day(0)),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["ended_on"], day(0).to_string());

        // Every endpoint is in the OpenAPI document.
        let doc = t.get("/api/v1/openapi.json").await.json();
        for path in [
            "/api/v1/care/teams",
            "/api/v1/care/teams/{id}",
            "/api/v1/care/teams/{id}/worklist",
            "/api/v1/residents/{id}/care",
            "/api/v1/residents/{id}/contracts",
            "/api/v1/residents/{id}/diagnoses",
            "/api/v1/residents/{id}/checks",
            "/api/v1/contracts/{id}/end",
            "/api/v1/contracts/{id}/services",
            "/api/v1/enrolments/{id}/followups",
            "/api/v1/indicators",
            "/api/v1/indicators/{code}/members",
            "/api/v1/me/care",
        ] {
            assert!(doc["paths"][path].is_object(), "{path} missing");
        }
        for schema in ["FollowUpIn", "CareRecordOut", "WorklistOut", "IndicatorOut"] {
            assert!(
                doc["components"]["schemas"][schema].is_object(),
                "{schema} missing"
            );
        }
    }
}

#[tokio::test]
async fn care_is_private_to_the_jurisdiction_and_to_the_resident() {
    for b in backends() {
        let s = seeded(b).await;
        let t = &s.t;
        t.seed_second_district().await;
        let futian = t
            .login_new("futian", "district_bureau", Some("440304"), None)
            .await;
        let futian_doc = t
            .login_new("ftdoc", "family_doctor", Some("440304"), None)
            .await;
        // Another district's team is not found, for its bureau and its doctors alike.
        for token in [&futian, &futian_doc] {
            let hidden = t
                .as_token(
                    token,
                    "GET",
                    &format!("/api/v1/care/teams/{}", s.team),
                    None,
                )
                .await;
            let missing = t
                .as_token(token, "GET", "/api/v1/care/teams/98765", None)
                .await;
            assert_eq!(hidden.status, StatusCode::NOT_FOUND);
            assert_eq!(hidden.body, missing.body);
            let r = t.as_token(token, "GET", "/api/v1/care/teams", None).await;
            assert_eq!(r.json().as_array().unwrap().len(), 0, "{}", r.body);
        }
        // Another district's doctor finds no care record of hers: exactly like a missing one.
        let hidden = t
            .as_token(
                &futian_doc,
                "GET",
                &format!("/api/v1/residents/{WANG}/care"),
                None,
            )
            .await;
        let missing = t
            .as_token(&futian_doc, "GET", "/api/v1/residents/98765/care", None)
            .await;
        assert_eq!(hidden.status, StatusCode::NOT_FOUND);
        assert_eq!(hidden.body, missing.body);
        let r = t
            .as_token(
                &futian_doc,
                "POST",
                &format!("/api/v1/enrolments/{}/followups", s.enrolment),
                Some(&format!(
                    r#"{{"visit_date":"{}","sbp":130,"dbp":80}}"#,
                    day(3)
                )),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
        // A bureau reads indicators, not residents' care (its role has no such permission).
        let r = t
            .as_token(
                &futian,
                "GET",
                &format!("/api/v1/residents/{WANG}/care"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        // 王芳's own account reads her own care, and nobody else's.
        let policy = hc_core::access::SecurityPolicy::default();
        hc_app::accounts::create_user(
            &t.db.store,
            &policy,
            &hc_app::audit::Caller::cli(),
            hc_app::accounts::NewAccount {
                username: "wangfang".into(),
                password: Some(TEST_PASSWORD.into()),
                role: "resident".into(),
                resident_id: Some(WANG),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let me =
            hc_app::accounts::login(&t.db.store, &policy, "wangfang", TEST_PASSWORD, None, None)
                .await
                .unwrap()
                .unwrap()
                .token;
        let r = t.as_token(&me, "GET", "/api/v1/me/care", None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["resident_id"], WANG);
        assert_eq!(r.json()["team"]["members"][0]["name"], "刘医生");
        let r = t
            .as_token(&me, "GET", "/api/v1/residents/2/care", None)
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = t
            .as_token(
                &me,
                "GET",
                &format!("/api/v1/care/teams/{}/worklist", s.team),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // The doctor has no own record.
        let r = t.get("/api/v1/me/care").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // Her page shows her contract, her team and what is due.
        let body = html(&page_as(t, &me, "/me").await, StatusCode::OK);
        assert!(
            body.contains("我的家庭医生")
                && body.contains("刘医生")
                && body.contains("南头社康 刘医生团队"),
            "{body}"
        );

        // A cookie-authenticated API write needs the CSRF header; a form needs its token.
        let body = format!(r#"{{"code":"E11","diagnosed_on":"{}"}}"#, day(1));
        let r = t
            .send(
                Request::post(format!("/api/v1/residents/{WANG}/diagnoses"))
                    .header(header::COOKIE, format!("hc_session={}", t.token))
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let r = post_as(
            t,
            &t.token,
            &format!("/residents/{WANG}/care/diagnoses"),
            &format!("code=E11&diagnosed_on={}", day(1)),
        )
        .await;
        html(&r, StatusCode::FORBIDDEN);
        let r = t.get(&format!("/api/v1/residents/{WANG}/care")).await;
        assert_eq!(
            r.json()["diagnoses"].as_array().unwrap().len(),
            1,
            "nothing written"
        );
    }
}

#[tokio::test]
async fn the_pages_show_teams_worklists_records_and_indicators() {
    for b in backends() {
        let s = seeded(b).await;
        let t = &s.t;
        let doctor = t.token.clone();
        // The navigation offers care and indicators to the doctor.
        let body = html(&t.get_page("/care", "").await, StatusCode::OK);
        assert!(
            body.contains("南头社康 刘医生团队")
                && body.contains(&format!("href=\"/care/teams/{}\"", s.team))
                && body.contains("南头社区健康服务中心")
                && body.contains("刘医生（全科医生（团队长））")
                && body.contains("href=\"/indicators\""),
            "{body}"
        );
        // The worklist: four sections with counts, her masked name linking to her care page.
        let body = html(
            &t.get_page(&format!("/care/teams/{}", s.team), "").await,
            StatusCode::OK,
        );
        for heading in ["本周到期（", "逾期（1）", "失访（", "待随访的转诊（0）"]
        {
            assert!(body.contains(heading), "{heading}: {body}");
        }
        assert!(
            body.contains(&format!("href=\"/residents/{WANG}/care\">王*</a>")),
            "{body}"
        );
        assert!(!body.contains("王芳"));
        let body = html(
            &t.get_page(&format!("/care/teams/{}", s.team), "lang=en")
                .await,
            StatusCode::OK,
        );
        assert!(body.contains("Due this week") && body.contains("Lost to follow-up"));
        html(
            &t.get_page("/care/teams/98765", "").await,
            StatusCode::NOT_FOUND,
        );

        // Her care page, in clear for the doctor, with the record's sections and forms.
        let uri = format!("/residents/{WANG}/care");
        let body = html(&t.get_page(&uri, "").await, StatusCode::OK);
        for text in [
            "王芳",
            "家庭医生签约",
            "重点人群",
            "65 岁及以上老年人",
            "高血压患者健康管理",
            "控制满意",
            "常规随访",
            "待办服务",
            "健康体检",
            "name=\"csrf\"",
            &format!(
                "action=\"/residents/{WANG}/care/enrolments/{}/followups\"",
                s.enrolment
            ),
        ] {
            assert!(body.contains(text), "{text}: {body}");
        }
        let body = html(&t.get_page(&uri, "lang=en").await, StatusCode::OK);
        assert!(body.contains("Controlled") && body.contains("Routine follow-up"));
        // The record page links to it.
        let body = html(
            &t.get_page(&format!("/residents/{WANG}"), "").await,
            StatusCode::OK,
        );
        assert!(body.contains(&format!("href=\"{uri}\"")), "{body}");

        // The follow-up form: an impossible pressure comes back naming the field, values kept;
        // a good one redirects to the page, which shows the verdict.
        let csrf = csrf_of(&doctor);
        let action = format!(
            "/residents/{WANG}/care/enrolments/{}/followups",
            s.enrolment
        );
        let form = |sbp: &str| {
            format!(
                "csrf={csrf}&visit_date={}&face_to_face=1&sbp={sbp}&dbp=80&fpg=&weight_kg=61&height_cm=&adverse_reaction=none&complication=none&symptoms=&medication=",
                day(2)
            )
        };
        let r = post_as(t, &doctor, &action, &form("400")).await;
        let body = html(&r, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body.contains("收缩压：400 mmHg 不是可能的收缩压（50–300）")
                && !body.contains("is not a systolic pressure")
                && body.contains("aria-invalid=\"true\"")
                && body.contains("value=\"400\""),
            "{body}"
        );
        let r = post_as(t, &doctor, &action, &form("abc")).await;
        assert!(html(&r, StatusCode::UNPROCESSABLE_ENTITY).contains("收缩压：不是有效的数字"));
        let r = post_as(t, &doctor, &action, &form("150")).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let to = r.headers[header::LOCATION].to_str().unwrap().to_owned();
        assert!(to.starts_with(&format!("{uri}?done=followup&id=")), "{to}");
        let body = html(&t.get_page(&to, "").await, StatusCode::OK);
        assert!(
            body.contains("控制不满意") && body.contains("2 周内复诊"),
            "{body}"
        );
        // The same day again is a conflict, shown by the form.
        let r = post_as(t, &doctor, &action, &form("150")).await;
        assert!(html(&r, StatusCode::CONFLICT).contains("随访日期："));
        // The contract form: without a team, the team is named; overlapping, a conflict.
        let r = post_as(
            t,
            &doctor,
            &format!("{uri}/contracts"),
            &format!(
                "csrf={csrf}&team_id=&package=basic&start_date={}&kind=new&reason=",
                day(1)
            ),
        )
        .await;
        assert!(html(&r, StatusCode::UNPROCESSABLE_ENTITY).contains("团队："));
        let r = post_as(
            t,
            &doctor,
            &format!("{uri}/contracts"),
            &format!(
                "csrf={csrf}&team_id={}&package=basic&start_date={}&kind=new&reason=",
                s.team,
                day(1)
            ),
        )
        .await;
        assert!(html(&r, StatusCode::CONFLICT).contains("开始日期："));
        // A diagnosis and a check through their forms.
        let r = post_as(
            t,
            &doctor,
            &format!("{uri}/diagnoses"),
            &format!("csrf={csrf}&code=E11.9&diagnosed_on={}", day(3)),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = post_as(
            t,
            &doctor,
            &format!("{uri}/checks"),
            &format!(
                "csrf={csrf}&kind=elderly&check_date={}&self_care_score=101&findings=",
                day(3)
            ),
        )
        .await;
        assert!(html(&r, StatusCode::UNPROCESSABLE_ENTITY).contains("生活自理能力评分："));
        let body = html(&t.get_page(&uri, "").await, StatusCode::OK);
        assert!(
            body.contains("E11.9") && body.contains("2型糖尿病患者健康管理"),
            "{body}"
        );

        // Indicators: the figures link to the residents behind them for the doctor.
        let year = hc_app::today().year();
        let body = html(&t.get_page("/indicators", "").await, StatusCode::OK);
        assert!(
            body.contains("家庭医生签约率")
                && body.contains("≥ 40.0%")
                && body.contains(&format!(
                    "href=\"/indicators/contract_rate/members?org=440300&#38;year={year}&#38;meets=true\""
                )),
            "{body}"
        );
        let body = html(
            &t.get_page("/indicators?level=district", "lang=en").await,
            StatusCode::OK,
        );
        assert!(body.contains("Family-doctor contract rate") && body.contains("南山区"));
        html(
            &t.get_page("/indicators?year=soon", "").await,
            StatusCode::BAD_REQUEST,
        );
        // The administrator sees the numbers but no residents behind them.
        let body = html(
            &page_as(t, &t.admin_token, "/indicators").await,
            StatusCode::OK,
        );
        assert!(body.contains("家庭医生签约率") && !body.contains("/members?"));
        html(
            &page_as(
                t,
                &t.admin_token,
                &format!("/indicators/contract_rate/members?org=440300&year={year}"),
            )
            .await,
            StatusCode::FORBIDDEN,
        );
        html(
            &page_as(t, &t.admin_token, "/care").await,
            StatusCode::FORBIDDEN,
        );
    }
}

#[tokio::test]
async fn the_residents_behind_an_indicator_are_masked_and_audited() {
    for b in backends() {
        let s = seeded(b).await;
        let t = &s.t;
        let year = hc_app::today().year();
        let cdc = t.login_new("cdc", "cdc_analyst", None, None).await;
        let auditor = t.login_new("aud", "auditor", None, None).await;
        // Over the API: the figures, then the residents behind the contract rate.
        let r = t
            .as_token(
                &cdc,
                "GET",
                &format!("/api/v1/indicators?year={year}"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let rows = r.json();
        let contract = rows
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["indicator"] == "contract_rate")
            .unwrap()
            .clone();
        assert_eq!(contract["org_code"], "440300");
        assert_eq!(contract["numerator"], 1, "{rows}");
        assert_eq!(contract["target"], 0.4);
        let r = t
            .as_token(
                &cdc,
                "GET",
                &format!(
                    "/api/v1/indicators/contract_rate/members?org=440300&year={year}&meets=true"
                ),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let items = r.json()["items"].clone();
        assert_eq!(items.as_array().unwrap().len(), 1, "{items}");
        assert_eq!(items[0]["name"], "王*");
        assert_eq!(items[0]["meets"], true);
        let r = t
            .as_token(
                &cdc,
                "GET",
                &format!("/api/v1/indicators/contract_rate/members?org=440300&year={year}&limit=2"),
                None,
            )
            .await;
        let page = r.json();
        assert_eq!(page["items"].as_array().unwrap().len(), 2, "{page}");
        let next = page["next"].as_str().unwrap().to_owned();
        let r = t
            .as_token(
                &cdc,
                "GET",
                &format!("/api/v1/indicators/contract_rate/members?org=440300&year={year}&limit=2&after={next}"),
                None,
            )
            .await;
        assert_eq!(r.json()["items"].as_array().unwrap().len(), 1, "{}", r.body);
        for (uri, want) in [
            (
                format!("/api/v1/indicators/nonsense/members?org=440300&year={year}"),
                StatusCode::NOT_FOUND,
            ),
            (
                format!("/api/v1/indicators/contract_rate/members?year={year}"),
                StatusCode::BAD_REQUEST,
            ),
            ("/api/v1/indicators".to_owned(), StatusCode::BAD_REQUEST),
            (
                format!("/api/v1/indicators?year={year}&level=planet"),
                StatusCode::BAD_REQUEST,
            ),
        ] {
            let r = t.as_token(&cdc, "GET", &uri, None).await;
            assert_eq!(r.status, want, "{uri}: {}", r.body);
        }
        // The administrator reads indicators but not the residents behind them.
        let r = t
            .as_token(
                &t.admin_token,
                "GET",
                &format!("/api/v1/indicators/contract_rate/members?org=440300&year={year}"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        // The page: masked names, the filter, and the read on the audit trail.
        let r = page_as(
            t,
            &cdc,
            &format!("/indicators/contract_rate/members?org=440300&year={year}"),
        )
        .await;
        let body = html(&r, StatusCode::OK);
        for name in ["王*", "李*", "张*"] {
            assert!(body.contains(name), "{name}: {body}");
        }
        assert!(
            !body.contains("王芳") && body.contains("家庭医生签约率"),
            "{body}"
        );
        let r = t
            .as_token(&auditor, "GET", "/api/v1/audit?action=list&actor=cdc", None)
            .await;
        let events = r.json();
        let events = events.as_array().unwrap();
        assert_eq!(events.len(), 4, "{events:?}");
        assert!(events.iter().all(|e| e["entity"] == "indicator_members"));
        // The audit page labels the new actions and records.
        let body = html(
            &page_as(t, &auditor, "/audit?action=list").await,
            StatusCode::OK,
        );
        assert!(body.contains("指标人员名单"), "{body}");
    }
}

#[test]
fn every_care_code_has_a_label_in_both_catalogues() {
    let mut keys: Vec<String> = Vec::new();
    let sections: [(&str, &[&str]); 12] = [
        ("team_role", &["gp_lead", "nurse", "public_health", "other"]),
        (
            "service",
            &[
                "followup",
                "referral_followup",
                "annual_check",
                "elderly_annual",
            ],
        ),
        ("program", &["hypertension", "diabetes"]),
        ("workstatus", &["lost", "overdue", "this_week", "later"]),
        (
            "classification",
            &[
                "satisfied",
                "unsatisfied",
                "adverse_reaction",
                "complication",
            ],
        ),
        (
            "care_action",
            &["routine", "revisit_2w", "refer", "urgent_refer"],
        ),
        ("package", &["basic", "personalised"]),
        ("contract_kind", &["new", "renewal", "change"]),
        ("check_kind", &["annual", "elderly"]),
        ("adverse", &["none", "controlled", "uncontrollable"]),
        ("complication", &["none", "stable", "new", "worse"]),
        (
            "by_level",
            &["district", "street", "institution", "community"],
        ),
    ];
    for (section, codes) in sections {
        keys.extend(codes.iter().map(|c| format!("{section}.{c}")));
    }
    keys.extend(
        hc_care::KeyPopulation::ALL
            .iter()
            .map(|p| format!("pop.{}", p.as_str())),
    );
    keys.extend(
        hc_app::care::Indicator::ALL
            .iter()
            .map(|i| format!("indicator.{}", i.code())),
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
    // The codes the domain defines round-trip, and the Chinese names are the indicators' own.
    for code in [
        "satisfied",
        "unsatisfied",
        "adverse_reaction",
        "complication",
    ] {
        assert!(
            [
                hc_care::Classification::Satisfied,
                hc_care::Classification::Unsatisfied,
                hc_care::Classification::AdverseReaction,
                hc_care::Classification::Complication
            ]
            .iter()
            .any(|c| c.as_str() == code)
        );
    }
    for i in hc_app::care::Indicator::ALL {
        assert_eq!(
            Lang::Zh.messages().get(&format!("indicator.{}", i.code())),
            i.name_zh()
        );
    }
}
