//! The detection run end to end on both backends: records in through the feeds, signals and
//! events out, a repeated run changing nothing, a continuing outbreak extending its signal, a
//! late record re-opening its day, and who may run it.

use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use hc_app::audit::Caller;
use hc_app::feeds::{FeedKind, FeedRules, receive_batch};
use hc_app::surveillance::{run, signals};
use hc_core::access::{Role, Scope};
use hc_store::testkit::{backends, fresh};
use hc_store::{SignalFilter, Store};
use hc_surveillance::Config;
use serde_json::{Value, json};

use crate::import;

pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

const ORGUNITS: &str = "code,name,parent_code,level,valid_from,valid_to\n\
440300,深圳市,440000,city,,\n\
440305,南山区,440300,district,,\n\
440305001,南头街道,440305,street,,\n\
440305002,粤海街道,440305,street,,\n\
440305001001,南头社区,440305001,community,,\n\
440305001002,前海社区,440305001,community,,\n\
440305002001,科技园社区,440305002,community,,\n";

pub async fn city(s: &Store) {
    import(s, hc_app::import::ImportKind::OrgUnits, ORGUNITS, 100).await;
    let (report, rejects) = import(
        s,
        hc_app::import::ImportKind::Institutions,
        "code,name,kind,grade,community_code\n\
         H1,南山医院,hospital,三级甲等,440305001001\n\
         P1,大药房,pharmacy,,440305001002\n\
         P2,科技园药房,pharmacy,,440305002001\n",
        100,
    )
    .await;
    assert_eq!(report.inserted, 3, "{rejects}");
}

/// The run's last day in these tests.
pub const DAY: &str = "2026-03-20";

/// A visit to H1 on `day` from `community`: ILI when `ili`, otherwise a check-up.
fn visit(id: &str, day: NaiveDate, community: &str, ili: bool) -> Value {
    let (complaint, t) = if ili {
        ("发热2天，咳嗽、咽痛", "38.7")
    } else {
        ("复诊取药", "36.6")
    };
    json!({
        "record_id": id, "institution_code": "H1", "visit_time": format!("{day} 09:00"),
        "community_code": community, "age": 30, "sex": "F", "chief_complaint": complaint,
        "diagnosis_codes": "", "temperature": t,
    })
}

/// Sixty days before `DAY`: each community 2 or 3 ILI visits and 10 others a day; on the
/// last `outbreak` days, 14 more ILI visits in 南头社区.
pub fn visits(outbreak: i64, until: NaiveDate) -> Vec<Value> {
    let mut out = Vec::new();
    for t in 0..60 {
        let day = d(DAY) - Duration::days(59) + Duration::days(t);
        if day > until {
            break;
        }
        for (k, c) in ["440305001001", "440305001002", "440305002001"]
            .iter()
            .enumerate()
        {
            let n = 2 + (t as usize + k) % 2;
            for i in 0..n {
                out.push(visit(&format!("{c}-{day}-i{i}"), day, c, true));
            }
            for i in 0..10 {
                out.push(visit(&format!("{c}-{day}-o{i}"), day, c, false));
            }
        }
        if t >= 60 - outbreak {
            for i in 0..14 {
                out.push(visit(&format!("x-{day}-{i}"), day, "440305001001", true));
            }
        }
    }
    out
}

pub async fn send(s: &Store, kind: FeedKind, records: &[Value], today: NaiveDate) {
    let rules = FeedRules::builtin().unwrap();
    for chunk in records.chunks(5_000) {
        let report = receive_batch(s, &Caller::cli(), &rules, kind, chunk, today)
            .await
            .unwrap();
        assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    }
}

pub fn scoped(role: Role, orgunit: &str) -> Caller {
    let mut c = Caller::cli();
    c.principal.role = role;
    c.principal.scope = Scope {
        orgunit: Some(orgunit.into()),
        institution: None,
        resident: None,
        practitioner: None,
    };
    c
}

pub fn config() -> Arc<Config> {
    Arc::new(Config::builtin().unwrap())
}

#[tokio::test]
async fn an_outbreak_raises_one_signal_per_stream_that_later_days_extend() {
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let s = &db.store;
        city(s).await;
        let today = d(DAY) + Duration::days(5);
        send(s, FeedKind::Visits, &visits(2, d(DAY)), today).await;
        let config = config();
        let cli = Caller::cli();
        let first = run(s, &cli, &config, d(DAY), Some(d(DAY) - Duration::days(1)))
            .await
            .unwrap();
        assert!(first.signals_new >= 2, "{b:?} {first:?}");
        let rows = signals(s, &cli, None, None).await.unwrap();
        let community = rows
            .iter()
            .find(|r| r.area_code == "440305001001" && r.code == "ili")
            .unwrap_or_else(|| panic!("{b:?}: no community ILI signal in {rows:?}"));
        assert_eq!(community.stream, "visits/ili/440305001001/day");
        assert_eq!(
            (community.level.as_str(), community.method.as_str()),
            ("community", "ears")
        );
        assert_eq!(community.first_day, d(DAY) - Duration::days(1));
        assert_eq!(community.days, 2);
        assert!(community.observed >= 16.0, "{community:?}");
        assert!(community.observed > community.threshold.unwrap());
        assert!(community.expected.unwrap() < 4.0);
        assert_eq!(community.status, "new");
        // No signal in the quiet street, and every signal knows its engine and parameters.
        assert!(
            rows.iter().all(|r| !r.area_code.starts_with("440305002")),
            "{rows:?}"
        );
        assert!(
            rows.iter()
                .all(|r| r.engine_version == hc_detect::VERSION && !r.params.is_empty())
        );
        let (_, baseline, _, days) = s.signal(community.id).await.unwrap();
        assert_eq!(days.len(), 2);
        let baseline: Value = serde_json::from_str(&baseline).unwrap();
        assert_eq!(
            baseline["counts"].as_array().unwrap().len(),
            9,
            "{baseline}"
        );

        // The same run again: nothing new.
        let again = run(s, &cli, &config, d(DAY), Some(d(DAY) - Duration::days(1)))
            .await
            .unwrap();
        assert_eq!((again.signals_new, again.signals_updated), (0, 0), "{b:?}");
        assert_eq!(
            signals(s, &cli, None, None).await.unwrap().len(),
            rows.len()
        );

        // The outbreak goes on the next day: the default run covers that day alone and
        // extends the signal.
        let next = d(DAY) + Duration::days(1);
        let mut more = Vec::new();
        for i in 0..16 {
            more.push(visit(&format!("y-{i}"), next, "440305001001", true));
        }
        for c in ["440305001001", "440305001002", "440305002001"] {
            for i in 0..12 {
                more.push(visit(&format!("{c}-{next}-n{i}"), next, c, i < 2));
            }
        }
        send(s, FeedKind::Visits, &more, today).await;
        let third = run(s, &cli, &config, next, None).await.unwrap();
        assert_eq!((third.from, third.to), (next, next), "{b:?}");
        assert_eq!(third.signals_new, 0, "{b:?} {third:?}");
        assert!(third.signals_updated >= 1);
        let (row, _, _, days) = s.signal(community.id).await.unwrap();
        assert_eq!((row.days, row.last_day, days.len()), (3, next, 3), "{b:?}");

        // A late record for a day already run re-opens that day in the next run.
        send(
            s,
            FeedKind::Visits,
            &[visit("late-1", d(DAY), "440305002001", false)],
            today,
        )
        .await;
        let fourth = run(s, &cli, &config, next, None).await.unwrap();
        assert_eq!(fourth.from, d(DAY), "{b:?}");
        assert_eq!(fourth.signals_new, 0);
        // And a run with nothing changed covers the run date alone.
        let fifth = run(s, &cli, &config, next, None).await.unwrap();
        assert_eq!(fifth.from, next, "{b:?}");
    }
}

#[tokio::test]
async fn clinic_and_pharmacy_signals_in_one_street_make_an_event() {
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let s = &db.store;
        city(s).await;
        let today = d(DAY) + Duration::days(1);
        send(s, FeedKind::Visits, &visits(2, d(DAY)), today).await;
        let mut sales = Vec::new();
        for t in 0..60 {
            let day = d(DAY) - Duration::days(59) + Duration::days(t);
            for (p, base) in [("P1", 20), ("P2", 25)] {
                let extra = if p == "P1" && t >= 58 { 60 } else { 0 };
                sales.push(json!({
                    "record_id": format!("{p}-{day}"), "pharmacy_code": p, "date": day.to_string(),
                    "drug_category": "antipyretic", "quantity": base + (t % 3) + extra,
                }));
            }
        }
        send(s, FeedKind::PharmacySales, &sales, today).await;
        let report = run(
            s,
            &Caller::cli(),
            &config(),
            d(DAY),
            Some(d(DAY) - Duration::days(1)),
        )
        .await
        .unwrap();
        assert!(report.events_new >= 1, "{b:?} {report:?}");
        let events = s.events(&SignalFilter::default()).await.unwrap();
        let (e, members) = events
            .iter()
            .find(|(e, _)| e.rule == "respiratory" && e.area_code == "440305001")
            .unwrap_or_else(|| panic!("{b:?}: {events:?}"));
        assert_eq!(e.level, "street");
        assert_eq!(e.alert, "orange");
        assert!(members.len() >= 2);
        let why: Value = serde_json::from_str(&e.explanation).unwrap();
        assert_eq!(why["sources"], json!(["pharmacy-sales", "visits"]), "{why}");
        // Running again does not raise it twice.
        let again = run(
            s,
            &Caller::cli(),
            &config(),
            d(DAY),
            Some(d(DAY) - Duration::days(1)),
        )
        .await
        .unwrap();
        assert_eq!(again.events_new, 0);
        assert_eq!(
            s.events(&SignalFilter::default()).await.unwrap().len(),
            events.len()
        );
    }
}

#[tokio::test]
async fn only_the_detection_roles_run_it_and_lists_keep_to_the_jurisdiction() {
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let s = &db.store;
        city(s).await;
        send(s, FeedKind::Visits, &visits(2, d(DAY)), d(DAY)).await;
        let doctor = scoped(Role::FamilyDoctor, "440305001");
        let e = run(s, &doctor, &config(), d(DAY), None).await.unwrap_err();
        assert!(e.to_string().contains("forbidden"), "{e}");
        assert!(signals(s, &doctor, None, None).await.is_err());
        run(
            s,
            &Caller::cli(),
            &config(),
            d(DAY),
            Some(d(DAY) - Duration::days(1)),
        )
        .await
        .unwrap();
        let other = scoped(Role::DistrictBureau, "440305002");
        let seen = signals(s, &other, None, None).await.unwrap();
        assert!(
            seen.iter().all(|r| r.area_code.starts_with("440305002")),
            "{seen:?}"
        );
        let all = signals(s, &Caller::cli(), None, None).await.unwrap();
        assert!(all.len() > seen.len());
        // A run's span is checked.
        let e = run(
            s,
            &Caller::cli(),
            &config(),
            d(DAY),
            Some(d(DAY) + Duration::days(1)),
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("after the run date"), "{e}");
    }
}
