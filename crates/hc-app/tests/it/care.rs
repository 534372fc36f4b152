//! Primary care on a small population whose every indicator is worked out by hand.

use chrono::{Datelike, NaiveDate};
use hc_app::AppError;
use hc_app::care::{
    self, CareSettings, ContractInput, Indicator, IndicatorRow, Level, Period, TeamInput,
};
use hc_app::import::ImportKind;
use hc_care::{Action, Classification, FollowUp, WorkStatus};
use hc_core::idcard::compose;
use hc_core::model::Sex;
use hc_store::testkit::{backends, fresh};
use hc_store::{CheckRow, ContractServiceRow, Store};

use crate::{ORGUNITS, import};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn doctor() -> hc_app::audit::Caller {
    let mut c = hc_app::audit::Caller::cli();
    c.principal.role = hc_core::access::Role::FamilyDoctor;
    c.principal.name = "doctor".into();
    c
}

const TODAY: &str = "2026-01-15";

/// Residents: (name, sex, birth date, community).
const PEOPLE: [(&str, Sex, &str, &str); 6] = [
    ("李一", Sex::M, "1950-03-01", "440305001001"),
    ("王二", Sex::F, "1970-01-01", "440305001001"),
    ("张三", Sex::M, "1960-01-01", "440305001001"),
    ("赵四", Sex::F, "1990-01-01", "440305001002"),
    ("孙五", Sex::M, "2022-05-01", "440305001001"),
    ("周六", Sex::F, "1955-01-01", "440305001002"),
];

struct City {
    residents: Vec<i64>,
    teams: [i64; 2],
}

async fn city(s: &Store) -> City {
    import(s, ImportKind::OrgUnits, ORGUNITS, 100).await;
    import(
        s,
        ImportKind::Institutions,
        "code,name,kind,community_code\nC1,南头社康,chc,440305001001\n",
        100,
    )
    .await;
    let mut csv = String::from("id_type,id_number,name,kind,institution_code,licence_no\n");
    for (i, (name, kind)) in [("刘医生", "gp"), ("孙护士", "nurse"), ("钱医生", "gp")]
        .iter()
        .enumerate()
    {
        let id = compose(440305, d("1980-01-01"), 900 + 2 * i as u32, Sex::F);
        csv.push_str(&format!("resident_id,{id},{name},{kind},C1,\n"));
    }
    let (report, rejects) = import(s, ImportKind::Practitioners, &csv, 100).await;
    assert_eq!(report.inserted, 3, "{rejects}");
    let mut csv = String::from("id_type,id_number,name,sex,birth_date,phone,community_code\n");
    for (i, (name, sex, birth, community)) in PEOPLE.iter().enumerate() {
        let id = compose(440305, d(birth), 10 + 2 * i as u32, *sex);
        let sex = if *sex == Sex::M { "M" } else { "F" };
        csv.push_str(&format!(
            "resident_id,{id},{name},{sex},{birth},,{community}\n"
        ));
    }
    let (report, rejects) = import(s, ImportKind::Residents, &csv, 100).await;
    assert_eq!(report.inserted, 6, "{rejects}");
    let residents: Vec<i64> = (1..=6).collect();
    let admin = hc_app::audit::Caller::cli();
    let team = |code: &str, lead: i64, nurse: Option<i64>| TeamInput {
        code: code.into(),
        name: format!("{code} 团队"),
        institution_code: "C1".into(),
        members: std::iter::once((lead, "gp_lead".to_owned()))
            .chain(nurse.map(|n| (n, "nurse".to_owned())))
            .collect(),
    };
    let t1 = care::create_team(s, &admin, team("C1-T1", 1, Some(2)))
        .await
        .unwrap();
    let t2 = care::create_team(s, &admin, team("C1-T2", 3, None))
        .await
        .unwrap();
    assert_eq!(t1.members.len(), 2);
    assert_eq!(t1.members[0].role, "gp_lead", "lead first");
    City {
        residents,
        teams: [t1.team.id, t2.team.id],
    }
}

fn contract(resident: i64, team: i64, start: &str, kind: &str) -> ContractInput {
    ContractInput {
        resident_id: resident,
        team_id: team,
        package: "basic".into(),
        start_date: d(start),
        end_date: None,
        kind: Some(kind.into()),
        reason: None,
    }
}

fn bp(date: &str, sbp: u16, dbp: u16) -> FollowUp {
    FollowUp {
        sbp: Some(sbp),
        dbp: Some(dbp),
        ..FollowUp::new(d(date))
    }
}

async fn followups(s: &Store, enrolment: i64, visits: Vec<FollowUp>) {
    for v in visits {
        care::record_followup(
            s,
            &doctor(),
            &CareSettings::default(),
            enrolment,
            v,
            d(TODAY),
        )
        .await
        .unwrap();
    }
}

async fn service(s: &Store, contract: i64, date: &str) {
    care::record_service(
        s,
        &doctor(),
        ContractServiceRow {
            id: 0,
            contract_id: contract,
            service: "health_assessment".into(),
            delivered_on: d(date),
            practitioner_id: None,
            note: None,
        },
        d(TODAY),
    )
    .await
    .unwrap();
}

/// Builds the population of the module's table (see `indicators_by_hand`).
async fn population(s: &Store, c: &City) {
    let doc = doctor();
    let today = d(TODAY);
    let r = &c.residents;
    let [t1, t2] = c.teams;
    // R1: contract 2024 renewed for 2025; hypertension, four satisfied visits in 2025.
    let first = care::sign_contract(s, &doc, contract(r[0], t1, "2024-01-01", "new"))
        .await
        .unwrap();
    let renewed = care::sign_contract(s, &doc, contract(r[0], t1, "2025-01-01", "renewal"))
        .await
        .unwrap();
    assert_eq!(renewed.previous_id, Some(first.id));
    service(s, renewed.id, "2025-03-01").await;
    service(s, renewed.id, "2025-09-01").await;
    let (_, e1) = care::add_diagnosis(s, &doc, r[0], "I10", d("2024-06-01"), today)
        .await
        .unwrap();
    let e1 = e1.expect("hypertension at 74 enrols");
    followups(
        s,
        e1,
        vec![
            bp("2025-03-01", 132, 82),
            bp("2025-06-01", 138, 84),
            bp("2025-09-01", 128, 80),
            bp("2025-12-01", 146, 88), // aged 75: the target is < 150/90
        ],
    )
    .await;
    // R2: no contract; hypertension; the November re-visit never happened.
    let (_, e2) = care::add_diagnosis(s, &doc, r[1], "I10.X00", d("2024-01-01"), today)
        .await
        .unwrap();
    let e2 = e2.unwrap();
    followups(
        s,
        e2,
        vec![
            bp("2025-02-01", 150, 95),
            bp("2025-02-10", 130, 80),
            bp("2025-05-01", 128, 80),
            bp("2025-08-01", 126, 78),
            bp("2025-11-01", 146, 92),
        ],
    )
    .await;
    // R3: contract; diabetes since November 2025, not yet seen; one service only.
    let c3 = care::sign_contract(s, &doc, contract(r[2], t2, "2025-06-01", "new"))
        .await
        .unwrap();
    service(s, c3.id, "2025-07-01").await;
    care::add_diagnosis(s, &doc, r[2], "E11.9", d("2025-11-01"), today)
        .await
        .unwrap();
    // R4: a 2024 contract that ran out unrenewed, then a personalised one; four services.
    care::sign_contract(s, &doc, contract(r[3], t1, "2024-03-01", "new"))
        .await
        .unwrap();
    let c4 = care::sign_contract(
        s,
        &doc,
        ContractInput {
            package: "personalised".into(),
            ..contract(r[3], t1, "2025-06-01", "new")
        },
    )
    .await
    .unwrap();
    for day in ["2025-06-10", "2025-08-10", "2025-10-10", "2025-12-10"] {
        service(s, c4.id, day).await;
    }
    // R6: elderly health management in 2025.
    care::record_check(
        s,
        &doc,
        CheckRow {
            id: 0,
            resident_id: r[5],
            kind: "elderly".into(),
            check_date: d("2025-05-01"),
            self_care_score: Some(0),
            findings: String::new(),
            practitioner_id: None,
        },
        today,
    )
    .await
    .unwrap();
}

fn figure(rows: &[IndicatorRow], indicator: Indicator, org: &str) -> (u64, u64) {
    let r = rows
        .iter()
        .find(|r| r.indicator == indicator.code() && r.org_code == org)
        .unwrap_or_else(|| panic!("no {} for {org}", indicator.code()));
    (r.numerator, r.denominator)
}

#[tokio::test]
async fn indicators_by_hand() {
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let s = &db.store;
        let c = city(s).await;
        population(s, &c).await;
        let settings = CareSettings::default();
        let year = Period::year(2025).unwrap();
        let cli = hc_app::audit::Caller::cli();
        let rows = care::indicators(s, &cli, &settings, year, None, None, d(TODAY))
            .await
            .unwrap();
        let city = |i| figure(&rows, i, "440300");
        assert_eq!(city(Indicator::ContractRate), (3, 6), "{b:?}: R1, R3, R4");
        // Key populations: R1 (65+, hypertension), R2 (hypertension), R3 (65 on 1 January,
        // diabetes), R5 (aged 3), R6 (65+); contracted: R1 and R3.
        assert_eq!(city(Indicator::KeyPopulationContractRate), (2, 5), "{b:?}");
        // Contracts in force: R1 (basic, 2 services), R3 (basic, 1), R4 (personalised, 4).
        assert_eq!(city(Indicator::FulfilmentRate), (2, 3), "{b:?}");
        // Terms that ran out in 2025: R1's (renewed) and R4's first (not renewed).
        assert_eq!(city(Indicator::RenewalRate), (1, 2), "{b:?}");
        // R1: four face-to-face visits, all on target; R2: the re-visit due 15 November
        // never happened, and the last visit was off target.
        assert_eq!(
            city(Indicator::HypertensionStandardisedRate),
            (1, 2),
            "{b:?}"
        );
        assert_eq!(city(Indicator::HypertensionControlRate), (1, 2), "{b:?}");
        // R3: enrolled in November, no follow-up: counted, neither managed nor controlled.
        assert_eq!(city(Indicator::DiabetesStandardisedRate), (0, 1), "{b:?}");
        assert_eq!(city(Indicator::DiabetesControlRate), (0, 1), "{b:?}");
        // 65+ on 31 December: R1, R3, R6; R6 had the elderly health management.
        assert_eq!(city(Indicator::ElderlyManagementRate), (1, 3), "{b:?}");
        assert_eq!(rows.len(), Indicator::ALL.len(), "one row per indicator");

        // By community, the counts split and add up.
        let by = care::indicators(
            s,
            &cli,
            &settings,
            year,
            Some("440305"),
            Some(Level::Community),
            d(TODAY),
        )
        .await
        .unwrap();
        assert_eq!(figure(&by, Indicator::ContractRate, "440305001001"), (2, 4));
        assert_eq!(figure(&by, Indicator::ContractRate, "440305001002"), (1, 2));
        let by_site = care::indicators(
            s,
            &cli,
            &settings,
            year,
            None,
            Some(Level::Institution),
            d(TODAY),
        )
        .await
        .unwrap();
        assert_eq!(
            figure(&by_site, Indicator::ContractRate, "C1"),
            (3, 6),
            "the only 社康 serves both communities"
        );

        // The drill-down lists exactly the residents behind the numbers.
        let mut analyst = hc_app::audit::Caller::cli();
        analyst.principal.role = hc_core::access::Role::CdcAnalyst;
        let members = care::indicator_members(
            s,
            &analyst,
            &settings,
            Indicator::HypertensionStandardisedRate,
            year,
            "440305001",
            Some(false),
            0,
            100,
            d(TODAY),
        )
        .await
        .unwrap();
        assert_eq!(members.len(), 1);
        assert_eq!(members[0].resident_id, c.residents[1]);
        assert_eq!(members[0].name, "王*", "masked");
        let all = care::indicator_members(
            s,
            &analyst,
            &settings,
            Indicator::KeyPopulationContractRate,
            year,
            "440300",
            None,
            0,
            100,
            d(TODAY),
        )
        .await
        .unwrap();
        let ids: Vec<i64> = all.iter().map(|m| m.resident_id).collect();
        assert_eq!(ids, [1, 2, 3, 5, 6]);
        assert_eq!(all.iter().filter(|m| m.meets).count(), 2);
        let trail = s
            .audit_events(&hc_store::AuditFilter {
                action: Some("list".into()),
                limit: 10,
                ..Default::default()
            })
            .await;
        assert!(
            trail.is_ok_and(|t| t.iter().any(|e| e.entity == "indicator_members")),
            "the drill-down is audited"
        );
        // A district bureau elsewhere sees none of it.
        let mut other = analyst.clone();
        other.principal.role = hc_core::access::Role::DistrictBureau;
        other.principal.scope.orgunit = Some("440306".into());
        let hidden = care::indicator_members(
            s,
            &other,
            &settings,
            Indicator::ContractRate,
            year,
            "440305",
            None,
            0,
            100,
            d(TODAY),
        )
        .await;
        assert!(matches!(hidden, Err(AppError::NotFound(_))), "{hidden:?}");
    }
}

#[tokio::test]
async fn one_team_at_a_time_and_bad_followups_refused() {
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let s = &db.store;
        let c = city(s).await;
        let doc = doctor();
        let today = d(TODAY);
        let [t1, t2] = c.teams;
        let r = c.residents[1];
        let first = care::sign_contract(s, &doc, contract(r, t1, "2025-06-01", "new"))
            .await
            .unwrap();
        // A second concurrent contract: refused, naming the one in force; nothing written.
        let again = care::sign_contract(s, &doc, contract(r, t2, "2025-09-01", "new")).await;
        let Err(AppError::Conflict(f)) = again else {
            panic!("{again:?}")
        };
        assert!(f.message.contains(&first.id.to_string()), "{}", f.message);
        assert_eq!(s.contracts_of(r).await.unwrap().len(), 1);
        // Less than a year.
        let short = care::sign_contract(
            s,
            &doc,
            ContractInput {
                end_date: Some(d("2026-03-01")),
                ..contract(r, t1, "2026-06-01", "new")
            },
        )
        .await;
        assert!(matches!(short, Err(AppError::Invalid(ref e)) if e[0].field == "end_date"));
        // A change needs a reason, then ends the old contract the day the new one starts.
        let no_reason = care::sign_contract(s, &doc, contract(r, t2, "2025-09-01", "change")).await;
        assert!(matches!(no_reason, Err(AppError::Invalid(ref e)) if e[0].field == "reason"));
        let changed = care::sign_contract(
            s,
            &doc,
            ContractInput {
                reason: Some("搬家".into()),
                ..contract(r, t2, "2025-09-01", "change")
            },
        )
        .await
        .unwrap();
        assert_eq!(changed.kind, "change");
        let history = s.contracts_of(r).await.unwrap();
        assert_eq!(history.len(), 2, "history kept");
        assert_eq!(history[0].ended_on, Some(d("2025-09-01")));
        assert_eq!(history[0].end_reason.as_deref(), Some("搬家"));
        assert!(!history[0].in_force(today) && history[1].in_force(today));

        // Follow-ups: impossible values, the future, before enrolment.
        let (_, e) = care::add_diagnosis(s, &doc, r, "I10", d("2025-01-10"), today)
            .await
            .unwrap();
        let e = e.unwrap();
        let settings = CareSettings::default();
        for (form, field) in [
            (bp("2025-03-01", 20, 10), "sbp"),
            (bp("2025-03-01", 400, 90), "sbp"),
            (
                FollowUp {
                    fpg: Some(0.0),
                    ..bp("2025-03-01", 130, 80)
                },
                "fpg",
            ),
            (bp("2026-02-01", 130, 80), "visit_date"),
            (bp("2024-12-01", 130, 80), "visit_date"),
        ] {
            let got = care::record_followup(s, &doc, &settings, e, form, today).await;
            let Err(AppError::Invalid(errs)) = got else {
                panic!("{got:?}")
            };
            assert!(errs.iter().any(|x| x.field == field), "{field}: {errs:?}");
        }
        assert!(s.followups(e).await.unwrap().is_empty(), "nothing written");

        // Verdicts come from the rules; a back-dated visit re-judges the later ones.
        let a = care::record_followup(s, &doc, &settings, e, bp("2025-04-01", 150, 95), today)
            .await
            .unwrap();
        assert_eq!(
            (a.classification, a.action, a.next_due),
            (
                Classification::Unsatisfied,
                Action::Revisit2w,
                d("2025-04-15")
            )
        );
        let late = care::record_followup(s, &doc, &settings, e, bp("2025-03-20", 152, 96), today)
            .await
            .unwrap();
        assert_eq!(late.action, Action::Revisit2w);
        let stored = s.followups(e).await.unwrap();
        assert_eq!(stored[1].visit_date, d("2025-04-01"));
        assert_eq!(stored[1].action, "refer", "second unsatisfied in a row");
        let dup =
            care::record_followup(s, &doc, &settings, e, bp("2025-04-01", 130, 80), today).await;
        assert!(matches!(dup, Err(AppError::Conflict(_))), "{dup:?}");
        // Danger sign.
        let urgent =
            care::record_followup(s, &doc, &settings, e, bp("2025-05-01", 185, 100), today)
                .await
                .unwrap();
        assert_eq!(urgent.action, Action::UrgentRefer);

        // The team's worklist: the referral to chase is overdue (due 15 May 2025), and more
        // than 90 days late, so lost to follow-up.
        let wl = care::worklist(s, &doc, &settings, t2, today).await.unwrap();
        assert_eq!(wl.contracted, 1);
        let referral: Vec<_> = wl.referrals().collect();
        assert_eq!(referral.len(), 1);
        assert_eq!(referral[0].due.status, WorkStatus::Lost);
        assert_eq!(referral[0].name, "王*");
        assert!(wl.items.iter().any(|i| i.due.service == "annual_check"));
        // The resident's record shows the team and the tags with their reasons.
        let record = care::care_record(s, &doc, &settings, r, today)
            .await
            .unwrap();
        assert_eq!(record.team.as_ref().map(|t| t.team.id), Some(t2));
        assert!(
            record
                .populations
                .iter()
                .any(|t| t.because.contains("I10") && t.because.contains("2025-01-10"))
        );
        assert_eq!(record.programs[0].followups.len(), 3);
    }
}

/// A small deterministic generator (xorshift64*), so the test needs no seed plumbing.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The SQL that counts standardised and controlled patients agrees with hc-care's
/// `patient_year`, the rules' own definition, on 300 random patients whose visits cross year
/// boundaries, miss re-visits, and go off target.
#[tokio::test]
async fn the_indicator_sql_agrees_with_the_rules() {
    use hc_care::{Program, Rules, Standard, Visit, evaluate, patient_year};
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let s = &db.store;
        city(s).await;
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let n = 300;
        let mut csv = String::from("id_type,id_number,name,sex,birth_date,phone,community_code\n");
        let mut births = Vec::new();
        for i in 0..n {
            let birth = d("1940-01-01") + chrono::Duration::days(rng.below(16_000) as i64);
            let id = compose(440305, birth, 100 + 2 * i as u32, Sex::M);
            let community = if i % 3 == 0 {
                "440305001002"
            } else {
                "440305001001"
            };
            csv.push_str(&format!(
                "resident_id,{id},病人{i},M,{birth},,{community}\n"
            ));
            births.push(birth);
        }
        let (report, rejects) = import(s, ImportKind::Residents, &csv, 500).await;
        assert_eq!(report.inserted, n as u64, "{rejects}");
        let rules = Rules::default();
        let mut enrolments = Vec::new();
        let mut plans = Vec::new();
        for (i, birth) in births.iter().enumerate() {
            let program = if i % 4 == 0 {
                Program::Diabetes
            } else {
                Program::Hypertension
            };
            let enrolled = d("2023-06-01") + chrono::Duration::days(rng.below(1000) as i64);
            enrolments.push(hc_store::NewEnrolment {
                resident_id: 7 + i as i64, // after the six residents of `city`
                program: program.as_str().into(),
                enrolled_on: enrolled,
                diagnosis_id: None,
            });
            let mut visits = Vec::new();
            let mut day = enrolled + chrono::Duration::days(rng.below(40) as i64);
            while day < d("2026-03-01") {
                let off = rng.below(4) == 0;
                visits.push(Visit {
                    sbp: (rng.below(20) != 0)
                        .then(|| if off { 150 } else { 128 } + rng.below(15) as u16),
                    dbp: Some(80),
                    fpg: (program == Program::Diabetes).then_some(if off { 8.2 } else { 6.1 }),
                    face_to_face: rng.below(8) != 0,
                    ..Visit::new(day, *birth)
                });
                // Sometimes the two-week re-visit, sometimes a quarter, sometimes a long gap.
                day += chrono::Duration::days(match rng.below(6) {
                    0 => 10,
                    1 => 20,
                    5 => 150,
                    _ => 85,
                });
            }
            plans.push((program, enrolled, visits));
        }
        let ids = s.insert_enrolments_bulk(&enrolments).await.unwrap();
        let mut rows = Vec::new();
        for (id, (program, _, visits)) in ids.iter().zip(&plans) {
            for (v, o) in visits.iter().zip(evaluate(*program, &rules, visits)) {
                rows.push(hc_store::NewFollowup {
                    enrolment_id: *id,
                    form: FollowUp {
                        sbp: v.sbp,
                        dbp: v.dbp,
                        fpg: v.fpg,
                        face_to_face: v.face_to_face,
                        ..FollowUp::new(v.date)
                    },
                    verdict: hc_store::Verdict {
                        classification: o.classification.as_str().into(),
                        action: o.action.as_str().into(),
                        next_due: o.next_due,
                        rules_version: rules.version.clone(),
                    },
                    recorded_by: "test".into(),
                });
            }
        }
        for chunk in rows.chunks(500) {
            s.insert_followups_bulk(chunk).await.unwrap();
        }
        // The facts kept beside the follow-ups (written in batches that split enrolments)
        // are those hc-care gives.
        for (id, (program, enrolled, visits)) in ids.iter().zip(&plans) {
            let kept = s.program_years_of(*id).await.unwrap();
            for row in &kept {
                let y = patient_year(
                    *program,
                    &rules,
                    &Standard::default(),
                    *enrolled,
                    visits,
                    row.year,
                );
                assert_eq!(
                    (
                        row.visits as u32,
                        row.face_to_face as u32,
                        row.missed as u32 + u32::from(row.pending_due.is_some()),
                        row.last_satisfied == 1
                    ),
                    (y.visits, y.face_to_face, y.missed_revisits, y.controlled),
                    "{b:?} enrolment {id} {}",
                    row.year
                );
            }
            let years: std::collections::BTreeSet<i32> =
                visits.iter().map(|v| v.date.year()).collect();
            assert_eq!(
                kept.iter().map(|r| r.year).collect::<Vec<_>>(),
                years.into_iter().collect::<Vec<_>>()
            );
        }
        let settings = CareSettings::default();
        for year in [2024, 2025] {
            let mut want = std::collections::HashMap::new();
            for (program, enrolled, visits) in &plans {
                let y = patient_year(
                    *program,
                    &rules,
                    &Standard::default(),
                    *enrolled,
                    visits,
                    year,
                );
                if y.managed {
                    let e = want.entry(*program).or_insert((0u64, 0u64, 0u64));
                    e.0 += u64::from(y.standardised);
                    e.1 += u64::from(y.controlled);
                    e.2 += 1;
                }
            }
            let got = care::indicators(
                s,
                &hc_app::audit::Caller::cli(),
                &settings,
                Period::year(year).unwrap(),
                None,
                None,
                d("2026-06-01"),
            )
            .await
            .unwrap();
            for (program, std_ind, ctl_ind) in [
                (
                    Program::Hypertension,
                    Indicator::HypertensionStandardisedRate,
                    Indicator::HypertensionControlRate,
                ),
                (
                    Program::Diabetes,
                    Indicator::DiabetesStandardisedRate,
                    Indicator::DiabetesControlRate,
                ),
            ] {
                let (standardised, controlled, managed) = want[&program];
                assert!(
                    standardised > 5 && standardised < managed,
                    "{year} {program:?}: a test that can fail"
                );
                assert_eq!(
                    figure(&got, std_ind, "440300"),
                    (standardised, managed),
                    "{b:?} {year} {program:?}"
                );
                assert_eq!(
                    figure(&got, ctl_ind, "440300"),
                    (controlled, managed),
                    "{b:?} {year} {program:?}"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_doctors_account_sees_only_its_practitioners_teams() {
    use hc_app::accounts::{NewAccount, create_user, scope_of};
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let s = &db.store;
        let c = city(s).await;
        let [t1, t2] = c.teams;
        let policy = hc_core::access::SecurityPolicy::default();
        let admin = hc_app::audit::Caller::cli();
        let account = |name: &str, role: &str, practitioner: i64| NewAccount {
            username: name.into(),
            role: role.into(),
            scope_institution: Some("C1".into()),
            practitioner_id: Some(practitioner),
            password: Some("Long-Enough-2026!".into()),
            ..Default::default()
        };
        // Someone who does not work there, and a role that has no practitioner.
        for bad in [
            account("nobody", "family_doctor", 99),
            account("inspector1", "inspector", 3),
        ] {
            let r = create_user(s, &policy, &admin, bad).await;
            assert!(matches!(r, Err(AppError::Invalid(_))), "{r:?}");
        }
        assert!(s.user_by_name("nobody").await.is_err(), "nothing written");
        // Practitioner 3 leads team 2 only.
        create_user(s, &policy, &admin, account("liu", "family_doctor", 3))
            .await
            .unwrap();
        let mut liu = doctor();
        liu.principal.scope = scope_of(&s.user_by_name("liu").await.unwrap());
        assert_eq!(liu.principal.scope.practitioner, Some(3));
        let seen: Vec<i64> = care::teams(s, &liu, None)
            .await
            .unwrap()
            .iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(seen, vec![t2]);
        let settings = CareSettings::default();
        assert!(
            care::worklist(s, &liu, &settings, t2, d(TODAY))
                .await
                .is_ok()
        );
        let other = care::worklist(s, &liu, &settings, t1, d(TODAY)).await;
        assert!(matches!(other, Err(AppError::NotFound(_))), "{other:?}");
        assert!(matches!(
            care::team(s, &liu, t1).await,
            Err(AppError::NotFound(_))
        ));
        // A team's patient living in another community (and outside the account's org-unit
        // scope) is the doctor's to see; a neighbour with no contract is not.
        let far = c.residents[3];
        care::sign_contract(s, &doctor(), contract(far, t2, "2025-06-01", "new"))
            .await
            .unwrap();
        let mut narrow = liu.clone();
        narrow.principal.scope.orgunit = Some("440305001001".into());
        let record = care::care_record(s, &narrow, &settings, far, d(TODAY)).await;
        assert!(record.is_ok(), "{:?}", record.err());
        let stranger = care::care_record(s, &narrow, &settings, c.residents[5], d(TODAY)).await;
        assert!(
            matches!(stranger, Err(AppError::NotFound(_))),
            "{:?}",
            stranger.err()
        );
        // The 社康's own staff, with no practitioner, still see both teams.
        let mut staff = doctor();
        staff.principal.scope.institution = Some("C1".into());
        assert_eq!(care::teams(s, &staff, None).await.unwrap().len(), 2);
    }
}
