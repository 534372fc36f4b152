//! Surveillance feeds: every feed's records checked, stored once, corrected in place, and
//! counted; bad records reported by line with every fault while the rest are accepted.

use chrono::NaiveDate;
use hc_app::audit::Caller;
use hc_app::feeds::{FeedKind, FeedReport, FeedRules, import_file, receive_batch};
use hc_app::import::ImportKind;
use hc_core::access::{Role, Scope};
use hc_store::testkit::{backends, fresh};
use hc_store::{DENOMINATOR, Store};

use crate::{ORGUNITS, import};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

const TODAY: &str = "2026-01-20";

async fn city(s: &Store) {
    import(s, ImportKind::OrgUnits, ORGUNITS, 100).await;
    let (report, rejects) = import(
        s,
        ImportKind::Institutions,
        "code,name,kind,grade,community_code\n\
         H1,南山医院,hospital,三级甲等,440305001001\n\
         C1,南头社康,chc,,440305001001\n\
         P1,大药房,pharmacy,,440305001002\n\
         S1,南头小学,school,,440305001001\n\
         K1,南头幼儿园,kindergarten,,440305001002\n\
         L1,南山区疾控中心,cdc,,440305001001\n",
        100,
    )
    .await;
    assert_eq!(report.inserted, 6, "{rejects}");
}

async fn load(s: &Store, kind: FeedKind, csv: &str) -> FeedReport {
    load_as(s, &Caller::cli(), kind, csv).await
}

async fn load_as(s: &Store, caller: &Caller, kind: FeedKind, csv: &str) -> FeedReport {
    let rules = FeedRules::builtin().unwrap();
    import_file(
        s,
        caller,
        &rules,
        kind,
        std::io::Cursor::new(csv.as_bytes().to_vec()),
        hc_app::feeds::FileOptions {
            today: d(TODAY),
            batch_size: 2,
        },
        &|_| {},
    )
    .await
    .unwrap()
}

/// The counts of `feed` on `day` as `code@community=value`, sorted, zeros left out.
async fn counts(s: &Store, feed: &str, day: &str) -> Vec<String> {
    let mut out: Vec<String> = s
        .feed_counts(feed, d(day), d(day))
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.value != 0)
        .map(|c| format!("{}@{}={}", c.code, &c.community_code[9..], c.value))
        .collect();
    out.sort();
    out
}

const VISITS: &str = "record_id,institution_code,visit_time,community_code,age,sex,chief_complaint,diagnosis_codes,temperature\n\
v1,H1,2026-01-19 08:30,440305001001,34,M,发热2天，最高39.2℃，伴咳嗽、咽痛,,38.6\n\
v2,H1,2026-01-19T09:00:00+08:00,440305001001,5,F,腹泻3次，无发热,,36.8\n\
v3,C1,2026-01-19,440305001002,70,F,头晕,I10,\n\
v4,H1,2026-01-19 10:00,440305001001,12,M,手足出疹,B08.4,37.9\n";

#[tokio::test]
async fn visits_are_classified_stored_once_and_counted_by_community_and_day() {
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let s = &db.store;
        city(s).await;
        let r = load(s, FeedKind::Visits, VISITS).await;
        assert_eq!(
            (r.received, r.inserted, r.rejected.len()),
            (4, 4, 0),
            "{b:?} {r:?}"
        );
        assert_eq!(
            counts(s, "visits", "2026-01-19").await,
            [
                "*@001=3",
                "*@002=1",
                "fever@001=2",
                "gi@001=1",
                "ili@001=1",
                "rash@001=1"
            ],
            "{b:?}"
        );
        // The same file again: nothing new, nothing counted twice.
        let r = load(s, FeedKind::Visits, VISITS).await;
        assert_eq!((r.inserted, r.updated, r.unchanged), (0, 0, 4), "{b:?}");
        // v2 is corrected: it was a fever after all, and on the next day.
        let fix = "record_id,institution_code,visit_time,community_code,age,sex,chief_complaint,diagnosis_codes,temperature\n\
                   v2,H1,2026-01-20 09:00,440305001001,5,F,腹泻3次，发热,,38.2\n";
        let r = load(s, FeedKind::Visits, fix).await;
        assert_eq!((r.inserted, r.updated), (0, 1), "{b:?}");
        assert_eq!(
            counts(s, "visits", "2026-01-19").await,
            [
                "*@001=2",
                "*@002=1",
                "fever@001=2",
                "ili@001=1",
                "rash@001=1"
            ],
            "{b:?}"
        );
        assert_eq!(
            counts(s, "visits", "2026-01-20").await,
            ["*@001=1", "fever@001=1", "gi@001=1"],
            "{b:?}"
        );
        // The stored record keeps what the classifier said and why.
        let stored = s.feed_records("visits").await.unwrap();
        let v1 = stored.iter().find(|r| r.record_id == "v1").unwrap();
        assert_eq!(v1.fields["syndromes"], "fever|ili");
        assert!(!v1.version.is_empty());
        assert!(
            v1.fields["reasons"].to_string().contains("咳嗽"),
            "{}",
            v1.fields["reasons"]
        );
    }
}

#[tokio::test]
async fn bad_records_are_reported_by_line_with_every_fault_and_the_rest_accepted() {
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let s = &db.store;
        city(s).await;
        let csv = "record_id,institution_code,visit_time,community_code,age,sex,chief_complaint,diagnosis_codes,temperature\n\
                   ok1,H1,2026-01-19 08:30,440305001001,34,M,咳嗽,,\n\
                   bad1,H9,2026-02-19 08:30,440399001001,-3,X,咳嗽,notacode,abc\n\
                   bad2,P1,2026-01-19 08:30,440305001001,34,M,咳嗽,,50\n\
                   short,H1,2026-01-19\n\
                   ok2,C1,2026-01-18 08:30,440305001002,,,,R50.9,\n";
        let r = load(s, FeedKind::Visits, csv).await;
        assert_eq!((r.received, r.inserted), (5, 2), "{b:?}");
        let lines: Vec<u64> = r.rejected.iter().map(|x| x.line).collect();
        assert_eq!(lines, [3, 4, 5], "{b:?}");
        let fields: Vec<&str> = r.rejected[0]
            .errors
            .iter()
            .map(|e| e.field.as_str())
            .collect();
        assert_eq!(
            fields,
            [
                "institution_code",
                "visit_time",
                "community_code",
                "age",
                "sex",
                "diagnosis_codes",
                "temperature"
            ],
            "{:?}",
            r.rejected[0]
        );
        assert_eq!(r.rejected[0].record_id.as_deref(), Some("bad1"));
        assert!(
            r.rejected[1].errors[0].message.contains("pharmacy"),
            "{:?}",
            r.rejected[1]
        );
        assert_eq!(r.rejected[2].errors[0].field, "record");
        assert_eq!(s.feed_records("visits").await.unwrap().len(), 2);
    }
}

#[tokio::test]
async fn cases_sales_absences_and_lab_results_feed_their_own_counts() {
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let s = &db.store;
        city(s).await;
        let cases = "record_id,disease_code,onset_date,diagnosis_date,report_date,community_code,classification,age,sex\n\
                     c1,b08.4,2026-01-15,2026-01-16,2026-01-16,440305001001,clinical,3,M\n\
                     c2,A00,2026-01-15,2026-01-16,2026-01-16,440305001002,确诊病例,40,F\n\
                     c3,Z99,2026-01-17,2026-01-16,2026-01-15,440305001001,maybe,3,M\n";
        let r = load(s, FeedKind::Cases, cases).await;
        assert_eq!((r.inserted, r.rejected.len()), (2, 1), "{b:?} {r:?}");
        let fields: Vec<&str> = r.rejected[0]
            .errors
            .iter()
            .map(|e| e.field.as_str())
            .collect();
        assert_eq!(
            fields,
            [
                "disease_code",
                "diagnosis_date",
                "report_date",
                "classification"
            ]
        );
        assert_eq!(
            counts(s, "cases", "2026-01-16").await,
            ["*@001=1", "*@002=1", "A00@002=1", "B08.4@001=1"],
            "{b:?}"
        );

        let sales = "record_id,pharmacy_code,date,drug_category,quantity\n\
                     s1,P1,2026-01-19,antipyretic,40\n\
                     s2,P1,2026-01-19,止泻药,12\n\
                     s3,H1,2026-01-19,antipyretic,-1\n";
        let r = load(s, FeedKind::PharmacySales, sales).await;
        assert_eq!((r.inserted, r.rejected.len()), (2, 1), "{b:?}");
        assert_eq!(r.rejected[0].errors.len(), 2, "{:?}", r.rejected[0]);
        assert_eq!(
            counts(s, "pharmacy-sales", "2026-01-19").await,
            ["*@002=52", "antidiarrhoeal@002=12", "antipyretic@002=40"]
        );

        let absences = "record_id,school_code,date,enrolled,absent,absent_ill,symptom\n\
                        a1,S1,2026-01-19,600,30,12,respiratory\n\
                        a2,K1,2026-01-19,200,10,4,\n\
                        a3,S1,2026-01-19,600,30,40,fever\n";
        let r = load(s, FeedKind::Absenteeism, absences).await;
        assert_eq!((r.inserted, r.rejected.len()), (2, 1), "{b:?}");
        assert_eq!(r.rejected[0].errors[0].field, "absent_ill");
        assert_eq!(
            counts(s, "absenteeism", "2026-01-19").await,
            [
                "*@001=600",
                "*@002=200",
                "absent@001=30",
                "absent@002=10",
                "ill-respiratory@001=12",
                "ill@001=12",
                "ill@002=4"
            ]
        );

        let labs = "record_id,lab_code,sample_date,pathogen,tested,positive,community_code\n\
                    l1,L1,2026-01-18,Influenza A,50,9,440305001001\n\
                    l2,C1,2026-01-18,norovirus,10,2,440305001001\n";
        let r = load(s, FeedKind::LabResults, labs).await;
        assert_eq!((r.inserted, r.rejected.len()), (1, 1), "{b:?}");
        assert_eq!(
            counts(s, "lab-results", "2026-01-18").await,
            ["*@001=50", "influenza-a@001=9", "tested:influenza-a@001=50"]
        );
        assert!(counts(s, "lab-results", "2026-01-19").await.is_empty());
        let _ = DENOMINATOR;
    }
}

#[tokio::test]
async fn a_sender_reports_only_for_itself_and_a_reader_not_at_all() {
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let s = &db.store;
        city(s).await;
        let mut staff = Caller::cli();
        staff.principal.role = Role::InstitutionStaff;
        staff.principal.scope = Scope {
            orgunit: None,
            institution: Some("C1".into()),
            resident: None,
            practitioner: None,
        };
        let r = load_as(s, &staff, FeedKind::Visits, VISITS).await;
        // Only v3 comes from C1.
        assert_eq!((r.inserted, r.rejected.len()), (1, 3), "{b:?}");
        // H1 is named as any unknown code would be: the account learns nothing of it.
        assert_eq!(
            r.rejected[0].errors[0].message,
            "H1 is not an institution this account may report for"
        );

        let mut analyst = Caller::cli();
        analyst.principal.role = Role::Commission;
        let rules = FeedRules::builtin().unwrap();
        let batch = vec![serde_json::json!({})];
        let err = receive_batch(s, &analyst, &rules, FeedKind::Visits, &batch, d(TODAY))
            .await
            .unwrap_err();
        assert!(matches!(err, hc_app::AppError::Forbidden(_)), "{err:?}");
    }
}

#[tokio::test]
async fn an_api_batch_takes_json_numbers_and_reports_positions() {
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let s = &db.store;
        city(s).await;
        let rules = FeedRules::builtin().unwrap();
        let batch: Vec<serde_json::Value> = serde_json::from_str(
            r#"[
              {"record_id": "j1", "institution_code": "H1", "visit_time": "2026-01-19 08:00",
               "community_code": "440305001001", "age": 30, "sex": "F",
               "chief_complaint": "fever and cough", "temperature": 38.4},
              {"record_id": "j2", "institution_code": "H1", "visit_time": "2026-01-19 08:00",
               "community_code": "440305001001", "age": 300}
            ]"#,
        )
        .unwrap();
        let r = receive_batch(
            s,
            &Caller::cli(),
            &rules,
            FeedKind::Visits,
            &batch,
            d(TODAY),
        )
        .await
        .unwrap();
        assert_eq!((r.inserted, r.rejected.len()), (1, 1), "{b:?}");
        assert_eq!(
            (r.rejected[0].line, r.rejected[0].errors[0].field.as_str()),
            (2, "age")
        );
        assert_eq!(
            counts(s, "visits", "2026-01-19").await,
            ["*@001=1", "fever@001=1", "ili@001=1"]
        );
    }
}

#[tokio::test]
async fn a_new_dictionary_reclassifies_history_and_moves_the_counts() {
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let s = &db.store;
        city(s).await;
        load(s, FeedKind::Visits, VISITS).await;
        // A province adds 头晕 (dizziness) to the neurological terms.
        let text = hc_syndromes::BUILTIN
            .replacen("version = \"", "version = \"province-2027.1-", 1)
            .replacen("\"颈强直\",", "\"头晕\", \"颈强直\",", 1);
        let province = hc_syndromes::Dictionary::from_toml(&text).unwrap();
        let r = hc_app::feeds::reclassify(s, &Caller::cli(), &province, 3, &|_| {})
            .await
            .unwrap();
        assert_eq!((r.read, r.changed), (4, 1), "{b:?}");
        assert_eq!(
            counts(s, "visits", "2026-01-19").await,
            [
                "*@001=3",
                "*@002=1",
                "fever@001=2",
                "gi@001=1",
                "ili@001=1",
                "neuro@002=1",
                "rash@001=1"
            ],
            "{b:?}"
        );
        let stored = s.feed_records("visits").await.unwrap();
        assert!(stored.iter().all(|r| r.version == province.version()));
        let v3 = stored.iter().find(|r| r.record_id == "v3").unwrap();
        assert_eq!(v3.fields["syndromes"], "neuro");
        // Done once: a second run finds nothing left to read.
        let again = hc_app::feeds::reclassify(s, &Caller::cli(), &province, 3, &|_| {})
            .await
            .unwrap();
        assert_eq!(again.read, 0);
    }
}

fn scoped(role: Role, orgunit: Option<&str>, institution: Option<&str>) -> Caller {
    let mut c = Caller::cli();
    c.principal.role = role;
    c.principal.scope = Scope {
        orgunit: orgunit.map(Into::into),
        institution: institution.map(Into::into),
        resident: None,
        practitioner: None,
    };
    c
}

#[tokio::test]
async fn a_case_report_is_changed_only_by_whoever_may_see_it() {
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let s = &db.store;
        city(s).await;
        let head = "record_id,disease_code,onset_date,diagnosis_date,report_date,community_code,classification,age,sex\n";
        let plague =
            format!("{head}p1,A20,2026-01-15,2026-01-16,2026-01-16,440305001002,suspected,40,M\n");
        assert_eq!(load(s, FeedKind::Cases, &plague).await.inserted, 1);
        // An analyst of the other community sends the same id, moved into their own area:
        // refused, and the report stays where it was.
        let analyst = scoped(Role::CdcAnalyst, Some("440305001001"), None);
        let hide =
            format!("{head}p1,A09,2026-01-15,2026-01-16,2026-01-16,440305001001,suspected,40,M\n");
        let r = load_as(s, &analyst, FeedKind::Cases, &hide).await;
        assert_eq!(
            (r.inserted, r.updated, r.rejected.len()),
            (0, 0, 1),
            "{b:?} {r:?}"
        );
        assert_eq!(r.rejected[0].line, 2);
        assert!(
            r.rejected[0].errors[0]
                .message
                .contains("outside what this account may change")
        );
        let stored = s.feed_records("cases").await.unwrap();
        assert_eq!(stored[0].community_code, "440305001002");
        assert_eq!(
            counts(s, "cases", "2026-01-16").await,
            ["*@002=1", "A20@002=1"]
        );
        // A hospital's account corrects only what it reported.
        let hospital = scoped(Role::InstitutionStaff, None, Some("H1"));
        let r = load_as(s, &hospital, FeedKind::Cases, &hide).await;
        assert_eq!((r.updated, r.rejected.len()), (0, 1), "{b:?}");
        let own =
            format!("{head}h1,B08.4,2026-01-15,2026-01-16,2026-01-16,440305001001,clinical,3,F\n");
        assert_eq!(
            load_as(s, &hospital, FeedKind::Cases, &own).await.inserted,
            1
        );
        let fixed = own.replace("clinical", "confirmed");
        assert_eq!(
            load_as(s, &hospital, FeedKind::Cases, &fixed).await.updated,
            1
        );
        // A school does not report notifiable diseases at all.
        let school = scoped(Role::InstitutionStaff, None, Some("S1"));
        let r = load_as(s, &school, FeedKind::Cases, &own.replace("h1", "s1")).await;
        assert_eq!((r.inserted, r.rejected.len()), (0, 1), "{b:?}");
        assert!(r.rejected[0].errors[0].message.contains("does not report"));
    }
}

#[tokio::test]
async fn an_api_batch_refuses_strangers_misspellings_and_control_characters_by_position() {
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let s = &db.store;
        city(s).await;
        let rules = FeedRules::builtin().unwrap();
        let batch = vec![
            serde_json::json!("not a record"),
            serde_json::json!({"record_id": "k1", "institution_code": "H1", "visit_time": "2026-01-19",
                "community_code": "440305001001", "temprature": 39.0}),
            serde_json::json!({"record_id": "k2", "institution_code": "H1", "visit_time": "2026-01-19",
                "community_code": "440305001001", "chief_complaint": "发热\u{0}"}),
            serde_json::json!({"record_id": "k3", "institution_code": "H1", "visit_time": "0999-01-19",
                "community_code": "440305001001"}),
            serde_json::json!({"record_id": "k4", "institution_code": "H1", "visit_time": "2026-01-19",
                "community_code": "440305001001"}),
        ];
        let r = receive_batch(
            s,
            &Caller::cli(),
            &rules,
            FeedKind::Visits,
            &batch,
            d(TODAY),
        )
        .await
        .unwrap();
        assert_eq!((r.received, r.inserted), (5, 1), "{b:?} {r:?}");
        let faults: Vec<(u64, &str)> = r
            .rejected
            .iter()
            .map(|x| (x.line, x.errors[0].field.as_str()))
            .collect();
        assert_eq!(
            faults,
            [
                (1, "record"),
                (2, "temprature"),
                (3, "chief_complaint"),
                (4, "visit_time")
            ]
        );
    }
}
