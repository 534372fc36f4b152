//! Tests of the generator: the pure plan and streams, and builds into each backend.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use hc_core::model::*;
use hc_core::validate;
use hc_store::testkit::{backends, fresh};

use crate::plan::{Batches, CityPlan, reference_date};
use crate::*;

fn opts(scale: f64, seed: u64) -> DemoOptions {
    DemoOptions {
        scale,
        seed,
        ..DemoOptions::default()
    }
}

fn drain<T>(source: &mut impl Batches<T>, batch: usize) -> Vec<T> {
    let mut all = Vec::new();
    loop {
        let b = source.next_batch(batch).unwrap();
        if b.is_empty() {
            return all;
        }
        assert!(b.len() <= batch);
        all.extend(b);
    }
}

fn residents(plan: &CityPlan, batch: usize) -> Vec<Resident> {
    drain(&mut plan.residents().unwrap(), batch)
}

fn practitioners(plan: &CityPlan, batch: usize) -> Vec<Practitioner> {
    drain(&mut plan.practitioners().unwrap(), batch)
}

#[test]
fn residents_are_valid_unique_and_match_the_census() {
    let scale = 0.001;
    let plan = CityPlan::new(&opts(scale, DEFAULT_SEED)).unwrap();
    let rs = residents(&plan, 5000);
    assert_eq!(rs.len() as u64, plan.resident_count());
    assert_eq!(rs.len() as u64, planned_residents(scale));
    let today = reference_date();
    let communities: HashSet<&str> = plan
        .orgunits
        .iter()
        .filter(|u| u.level == OrgLevel::Community)
        .map(|u| u.code.as_str())
        .collect();
    let mut ids = HashSet::new();
    let mut by: HashMap<(String, Sex), u64> = HashMap::new();
    let mut registered = 0;
    let mut phones = 0;
    for r in &rs {
        let errs = validate::validate_resident(r, today);
        assert!(errs.is_empty(), "{r:?}: {errs:?}");
        assert!(ids.insert(r.id_number.clone()), "duplicate {}", r.id_number);
        assert!(communities.contains(r.community_code.as_str()));
        // Residents' numbers carry their district's code.
        assert_eq!(&r.id_number[..6], &r.community_code[..6]);
        let age = today.years_since(r.birth_date).unwrap();
        assert!(age <= 100);
        *by.entry((r.community_code[..6].to_owned(), r.sex))
            .or_default() += 1;
        registered += usize::from(r.residence == Residence::Registered);
        phones += usize::from(r.phone.is_some());
    }
    let share = |n: usize| n as f64 / rs.len() as f64;
    assert!(
        (share(registered) - 0.3).abs() < 0.02,
        "{}",
        share(registered)
    );
    assert!((share(phones) - 0.9).abs() < 0.02, "{}", share(phones));

    // Totals by district and sex: census × scale, within the rounding of 19 age bands.
    let census = crate::data::data().unwrap();
    for d in &census.census {
        for sex in [Sex::M, Sex::F] {
            let pop: u64 = d
                .cells
                .iter()
                .filter(|c| c.sex == sex)
                .map(|c| c.population)
                .sum();
            let got = by.get(&(d.code.clone(), sex)).copied().unwrap_or(0);
            let want = pop as f64 * scale;
            assert!(
                (got as f64 - want).abs() <= 19.0 * 0.5,
                "{} {sex}: {got} vs {want}",
                d.code
            );
        }
    }

    // Practitioners: valid, unique, and never sharing a number with a resident.
    let ps = practitioners(&plan, 5000);
    assert_eq!(ps.len() as u64, plan.practitioner_count());
    let codes: HashSet<&str> = plan.institutions.iter().map(|i| i.code.as_str()).collect();
    let mut pids = HashSet::new();
    for p in &ps {
        let errs = validate::validate_practitioner(p, today);
        assert!(errs.is_empty(), "{p:?}: {errs:?}");
        assert!(pids.insert(p.id_number.clone()));
        assert!(!ids.contains(&p.id_number));
        assert!(!p.id_number.starts_with("4403"));
        assert!(codes.contains(p.institution_code.as_str()));
    }
}

#[test]
fn org_units_form_a_valid_tree() {
    let plan = CityPlan::new(&opts(0.001, DEFAULT_SEED)).unwrap();
    let mut seen = HashSet::new();
    let count = |l| plan.orgunits.iter().filter(|u| u.level == l).count();
    assert_eq!(count(OrgLevel::City), 1);
    assert_eq!(count(OrgLevel::District), 9);
    assert_eq!(count(OrgLevel::Street), 79);
    let communities = count(OrgLevel::Community);
    assert!((79 * 4..=79 * 12).contains(&communities), "{communities}");
    let mut names_per_street: HashMap<&str, HashSet<&str>> = HashMap::new();
    for u in &plan.orgunits {
        assert!(validate::validate_orgunit(u).is_empty(), "{u:?}");
        assert!(seen.insert(u.code.clone()), "duplicate {}", u.code);
        // Parents come first.
        if u.level != OrgLevel::City {
            assert!(seen.contains(u.parent_code.as_deref().unwrap()), "{u:?}");
        } else {
            assert_eq!(u.parent_code.as_deref(), Some("440000"));
        }
        if u.level == OrgLevel::Community {
            assert!(u.name.ends_with("社区"));
            let names = names_per_street
                .entry(u.parent_code.as_deref().unwrap())
                .or_default();
            assert!(names.insert(&u.name), "{} repeated", u.name);
        }
    }
    assert!(
        names_per_street
            .values()
            .all(|n| (4..=12).contains(&n.len()))
    );
    // Communities do not depend on the scale.
    let other = CityPlan::new(&opts(0.5, DEFAULT_SEED)).unwrap();
    assert_eq!(other.orgunits, plan.orgunits);
}

#[test]
fn institutions_follow_the_ratios() {
    let plan = CityPlan::new(&opts(0.1, DEFAULT_SEED)).unwrap();
    let today_codes: HashSet<&str> = plan
        .orgunits
        .iter()
        .filter(|u| u.level == OrgLevel::Community)
        .map(|u| u.code.as_str())
        .collect();
    let mut codes = HashSet::new();
    let mut names = HashSet::new();
    for i in &plan.institutions {
        assert!(validate::validate_institution(i).is_empty(), "{i:?}");
        assert!(codes.insert(i.code.as_str()), "duplicate code {}", i.code);
        assert!(names.insert(i.name.as_str()), "duplicate name {}", i.name);
        assert!(today_codes.contains(i.community_code.as_str()));
        // Group leads come first (the foreign key is checked row by row).
        if let Some(g) = &i.group_code {
            assert!(codes.contains(g.as_str()), "{} before its lead {g}", i.code);
        }
    }
    let by_code: HashMap<&str, &Institution> = plan
        .institutions
        .iter()
        .map(|i| (i.code.as_str(), i))
        .collect();
    let of = |d: &str, k: InstitutionKind| -> Vec<&Institution> {
        plan.institutions
            .iter()
            .filter(|i| i.kind == k && i.community_code.starts_with(d))
            .collect()
    };
    for d in &plan.districts {
        let r = d.residents as f64;
        let hs = of(&d.code, InstitutionKind::Hospital);
        assert!(!hs.is_empty());
        assert!(hs.iter().any(|h| h.grade == Some(HospitalGrade::TertiaryA)));
        let beds: u32 = hs.iter().map(|h| h.beds).sum();
        let per_1000 = f64::from(beds) / r * 1000.0;
        assert!((per_1000 - 3.6).abs() < 0.1, "{}: {per_1000}", d.code);
        for h in &hs {
            match h.grade {
                Some(HospitalGrade::TertiaryA | HospitalGrade::TertiaryB) => {
                    assert!(h.fever_clinic);
                    assert!((10..=40).contains(&h.negative_pressure_rooms));
                }
                Some(HospitalGrade::Secondary) => assert!(h.negative_pressure_rooms <= 6),
                _ => assert!(!h.fever_clinic && h.negative_pressure_rooms == 0),
            }
        }
        let near = |n: usize, per: f64| (n as f64 - r / per).abs() <= 0.5;
        let shk = of(&d.code, InstitutionKind::Chc).len() + of(&d.code, InstitutionKind::Chs).len();
        assert!(near(shk, 20_000.0), "{} 社康 {shk}", d.code);
        assert!(near(of(&d.code, InstitutionKind::Pharmacy).len(), 3_000.0));
        assert!(near(of(&d.code, InstitutionKind::School).len(), 2_500.0));
        assert!(near(
            of(&d.code, InstitutionKind::Kindergarten).len(),
            3_000.0
        ));
        assert!(near(
            of(&d.code, InstitutionKind::NursingHome).len(),
            30_000.0
        ));
        assert!(near(of(&d.code, InstitutionKind::Clinic).len(), 5_000.0));
        assert_eq!(of(&d.code, InstitutionKind::Mch).len(), 1);
        let cdcs = of(&d.code, InstitutionKind::Cdc);
        let city_cdc = usize::from(d.code == "440304");
        assert_eq!(cdcs.len(), 1 + city_cdc);
        // 社康 belong to the group led by the district's 三甲.
        for k in [InstitutionKind::Chc, InstitutionKind::Chs] {
            for s in of(&d.code, k) {
                let lead = by_code[s.group_code.as_deref().unwrap()];
                assert_eq!(lead.grade, Some(HospitalGrade::TertiaryA));
                assert_eq!(&lead.community_code[..6], d.code);
            }
        }
    }
    assert_eq!(
        by_code["D440300001"].community_code, "440304001001",
        "city CDC in 福田区's first community"
    );
    let suspended = plan
        .institutions
        .iter()
        .filter(|i| i.licence_status != LicenceStatus::Valid)
        .count();
    assert!(suspended as f64 / (plan.institutions.len() as f64) < 0.05);

    // Practitioners per 1,000 residents.
    let total = plan.resident_count() as f64;
    let count = |k: PractitionerKind| -> f64 {
        plan.staffing
            .iter()
            .filter(|s| s.kind == k)
            .map(|s| f64::from(s.count))
            .sum::<f64>()
            / total
            * 1000.0
    };
    assert!((count(PractitionerKind::Gp) - 0.4).abs() < 0.02);
    assert!((count(PractitionerKind::Specialist) - 2.5).abs() < 0.05);
    assert!((count(PractitionerKind::Nurse) - 3.5).abs() < 0.05);
    for s in &plan.staffing {
        let i = &plan.institutions[s.institution];
        let ok = match s.kind {
            PractitionerKind::Gp => matches!(i.kind, InstitutionKind::Chc | InstitutionKind::Chs),
            PractitionerKind::Specialist => {
                matches!(i.kind, InstitutionKind::Hospital | InstitutionKind::Mch)
            }
            PractitionerKind::Nurse => matches!(
                i.kind,
                InstitutionKind::Hospital
                    | InstitutionKind::Mch
                    | InstitutionKind::Chc
                    | InstitutionKind::Chs
            ),
            PractitionerKind::PublicHealth => i.kind == InstitutionKind::Cdc,
            PractitionerKind::Pharmacist => {
                i.kind == InstitutionKind::Pharmacy && (1..=2).contains(&s.count)
            }
        };
        assert!(ok, "{s:?} at {i:?}");
    }
}

#[test]
fn tiny_scales_still_have_a_health_system() {
    let plan = CityPlan::new(&opts(0.00001, 7)).unwrap();
    for d in &plan.districts {
        for k in [
            InstitutionKind::Hospital,
            InstitutionKind::Chc,
            InstitutionKind::Cdc,
            InstitutionKind::Mch,
        ] {
            assert!(
                plan.institutions
                    .iter()
                    .any(|i| i.kind == k && i.community_code.starts_with(&d.code)),
                "{} has no {k}",
                d.code
            );
        }
    }
    assert!(
        plan.institutions
            .iter()
            .all(|i| i.beds > 0 || i.kind != InstitutionKind::Hospital)
    );
}

#[test]
fn output_depends_on_the_seed_not_the_batch_size() {
    let a = CityPlan::new(&opts(0.0005, 1)).unwrap();
    let b = CityPlan::new(&opts(0.0005, 1)).unwrap();
    let c = CityPlan::new(&opts(0.0005, 2)).unwrap();
    assert_eq!(a.orgunits, b.orgunits);
    assert_eq!(a.institutions, b.institutions);
    assert_eq!(a.staffing, b.staffing);
    let ra = residents(&a, 5000);
    assert_eq!(ra, residents(&b, 7));
    assert_eq!(practitioners(&a, 5000), practitioners(&b, 3));
    assert_ne!(a.orgunits, c.orgunits);
    assert_ne!(a.institutions, c.institutions);
    let rc = residents(&c, 5000);
    assert_eq!(ra.len(), rc.len(), "counts depend on the scale only");
    assert_ne!(ra, rc);
}

#[test]
fn bad_scales_are_refused() {
    for s in [0.0, -1.0, 1.5, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            CityPlan::new(&opts(s, 1)),
            Err(DemoError::Scale(_))
        ));
        assert_eq!(planned_residents(s), 0);
    }
    assert_eq!(planned_residents(1.0), 17_494_398);
}

#[test]
fn build_can_be_spawned() {
    fn assert_send<T: Send>(_: &T) {}
    async fn demo(store: hc_store::Store) {
        let _ = build(&store, &DemoOptions::default(), &|_, _, _| {}).await;
    }
    let _ = |store: hc_store::Store| assert_send(&demo(store));
}

#[tokio::test]
async fn build_writes_the_plan_into_each_backend() {
    let o = opts(0.0005, DEFAULT_SEED);
    let plan = CityPlan::new(&o).unwrap();
    for backend in backends() {
        let db = fresh(backend).await.unwrap();
        let last: Mutex<HashMap<Stage, (u64, u64)>> = Mutex::default();
        let report = build(&db.store, &o, &|stage, done, total| {
            assert!(done <= total);
            last.lock().unwrap().insert(stage, (done, total));
        })
        .await
        .unwrap();
        let want = DemoReport {
            orgunits: plan.orgunits.len() as u64,
            institutions: plan.institutions.len() as u64,
            practitioners: plan.practitioner_count(),
            residents: planned_residents(o.scale),
            ..report
        };
        assert_eq!(report, want, "{backend:?}");
        assert!(report.teams > 0 && report.contracts > 0, "{report:?}");
        assert!(report.enrolments > 0 && report.followups > report.enrolments);
        let t = db.store.totals().await.unwrap();
        assert_eq!(
            (t.orgunits, t.institutions, t.practitioners, t.residents),
            (
                want.orgunits as i64,
                want.institutions as i64,
                want.practitioners as i64,
                want.residents as i64
            ),
            "{backend:?}"
        );
        let last = last.into_inner().unwrap();
        assert_eq!(last[&Stage::Residents], (want.residents, want.residents));
        assert_eq!(last[&Stage::Care], (want.residents, want.residents));
        assert_eq!(last[&Stage::OrgUnits], (want.orgunits, want.orgunits));

        // Stored records read back as generated.
        let lead = db
            .store
            .institution("H440305001", &hc_store::Scope::city())
            .await
            .unwrap();
        assert_eq!(lead.record.name, "深圳市南山区人民医院");
        assert_eq!(lead.record.grade, Some(HospitalGrade::TertiaryA));

        // Every org unit has a shape, its label inside it.
        let shapes = db.store.shapes().await.unwrap();
        assert_eq!(shapes.len(), plan.orgunits.len(), "{backend:?}");
        for row in &shapes {
            assert_eq!(row.source, "demo");
            let s = hc_geo::Shape::from_geometry_json(
                row.code.clone(),
                &row.geometry,
                Some([row.x, row.y]),
            )
            .unwrap();
            assert!(s.contains(s.label), "{}", row.code);
        }

        let again = build(&db.store, &o, &|_, _, _| {}).await;
        match again {
            Err(e @ DemoError::NotEmpty { .. }) => {
                assert!(e.to_string().contains("not empty"), "{e}")
            }
            other => panic!("{backend:?}: second build gave {other:?}"),
        }
        assert_eq!(db.store.totals().await.unwrap(), t);
    }
}

#[tokio::test]
async fn feeds_load_the_written_city_and_their_truth_round_trips_in_each_backend() {
    let o = opts(0.0005, DEFAULT_SEED);
    for backend in backends() {
        let db = fresh(backend).await.unwrap();
        build(&db.store, &o, &|_, _, _| {}).await.unwrap();
        let demo = FeedDemo::load(&db.store, &o).await.unwrap();
        let senders: HashSet<String> = db
            .store
            .institution_sites()
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.0)
            .collect();
        let mut feeds = HashSet::new();
        for b in demo.batches() {
            feeds.insert(b.feed);
            assert!(b.through <= o.today);
            for r in &b.records {
                for key in [
                    "institution_code",
                    "pharmacy_code",
                    "school_code",
                    "lab_code",
                ] {
                    if let Some(code) = r.get(key).and_then(|v| v.as_str()) {
                        assert!(senders.contains(code), "{backend:?}: {r}");
                    }
                }
            }
        }
        assert_eq!(feeds.len(), feeds::FEEDS.len(), "{backend:?}: {feeds:?}");
        let truth = demo.outbreaks();
        assert!(truth.len() >= 10, "{backend:?}: {truth:?}");
        db.store.put_demo_outbreaks(&truth).await.unwrap();
        assert_eq!(
            db.store.demo_outbreaks().await.unwrap(),
            truth,
            "{backend:?}"
        );
        // Putting again replaces, never duplicates.
        db.store.put_demo_outbreaks(&truth[..2]).await.unwrap();
        assert_eq!(
            db.store.demo_outbreaks().await.unwrap(),
            truth[..2],
            "{backend:?}"
        );
        // The same store and options give the same feeds.
        let again = FeedDemo::load(&db.store, &o).await.unwrap();
        assert_eq!(again.outbreaks(), truth, "{backend:?}");
    }
}

/// The indicator parameters of calendar year `year` seen on `today`, with the national
/// standard (as hc-app computes them).
fn year_params(year: i32, today: chrono::NaiveDate) -> hc_store::IndicatorParams {
    use chrono::{Datelike, Duration, NaiveDate};
    let from = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(year, 12, 31).unwrap();
    let as_of = to.min(today);
    let years_before = |d: NaiveDate, years: i32| {
        NaiveDate::from_ymd_opt(d.year() - years, d.month(), d.day())
            .or_else(|| NaiveDate::from_ymd_opt(d.year() - years, d.month(), d.day() - 1))
            .unwrap()
    };
    hc_store::IndicatorParams {
        from,
        to,
        as_of,
        today,
        elderly_born_by: years_before(as_of, 65),
        child_born_after: years_before(as_of, 7),
        postpartum_since: as_of - Duration::days(hc_care::POSTPARTUM_DAYS),
        revisit_until: to + Duration::days(14),
        face_to_face_needed: 4,
        revisits_required: true,
        basic_services: 2,
        personalised_services: 4,
    }
}

/// Numerator and denominator of `measure` over the whole city.
async fn city_rate(
    store: &hc_store::Store,
    measure: hc_store::Measure,
    params: &hc_store::IndicatorParams,
) -> (i64, i64, f64) {
    let counts = store
        .indicator_counts(&[measure], params, None)
        .await
        .unwrap();
    let counts = counts.concat();
    let n: i64 = counts.iter().map(|c| c.numerator).sum();
    let d: i64 = counts.iter().map(|c| c.denominator).sum();
    (n, d, n as f64 / d.max(1) as f64)
}

#[tokio::test]
async fn the_care_stage_gives_realistic_rates_and_a_consistent_history() {
    use chrono::Datelike;
    use hc_care::{AdverseReaction, Complication, Program, Rules, Visit, evaluate};
    use hc_store::{Measure, Page, ResidentFilter, Scope};

    let o = opts(0.0005, DEFAULT_SEED);
    let today = o.today;
    let db = fresh(hc_store::Backend::Sqlite).await.unwrap();
    let store = &db.store;
    let started = std::time::Instant::now();
    let report = build(store, &o, &|_, _, _| {}).await.unwrap();
    eprintln!("{report:?} in {:.1}s", started.elapsed().as_secs_f64());

    let now = year_params(today.year(), today);
    let last_year = year_params(today.year() - 1, today);
    let contract = city_rate(store, Measure::Contract, &now).await;
    let key = city_rate(store, Measure::KeyPopulationContract, &now).await;
    let fulfilment = city_rate(store, Measure::Fulfilment, &now).await;
    let renewal = city_rate(store, Measure::Renewal, &last_year).await;
    let htn_std = city_rate(store, Measure::Standardised("hypertension"), &last_year).await;
    let htn_ctl = city_rate(store, Measure::Controlled("hypertension"), &last_year).await;
    let dm_std = city_rate(store, Measure::Standardised("diabetes"), &last_year).await;
    let dm_ctl = city_rate(store, Measure::Controlled("diabetes"), &last_year).await;
    let elderly = city_rate(store, Measure::Elderly, &last_year).await;
    eprintln!(
        "contract {contract:?}\nkey population {key:?}\nfulfilment {fulfilment:?}\n\
         renewal {renewal:?}\nhypertension standardised {htn_std:?} controlled {htn_ctl:?}\n\
         diabetes standardised {dm_std:?} controlled {dm_ctl:?}\nelderly {elderly:?}"
    );
    assert!((0.35..=0.5).contains(&contract.2), "{contract:?}");
    assert!(key.2 >= 0.65, "{key:?}");
    assert!((0.5..=0.8).contains(&htn_std.2), "{htn_std:?}");
    assert!((0.45..=0.75).contains(&htn_ctl.2), "{htn_ctl:?}");
    assert!((0.5..=0.8).contains(&dm_std.2), "{dm_std:?}");
    assert!((0.55..=0.8).contains(&elderly.2), "{elderly:?}");
    assert!(renewal.1 > 0 && fulfilment.1 > 0);

    // Every resident's record: enrolments after diagnosis, follow-ups between enrolment and
    // today with the verdicts the rules give, contracts that never overlap, checks in the past.
    let rules = Rules::default();
    let (mut residents, mut htn, mut dm, mut followups) = (0u64, 0u64, 0u64, 0u64);
    let mut after = None;
    loop {
        let page = store
            .residents(
                &ResidentFilter::default(),
                Page {
                    after,
                    limit: 1_000,
                },
                &Scope::city(),
            )
            .await
            .unwrap();
        for r in &page.items {
            residents += 1;
            let birth = r.record.birth_date;
            let (diagnoses, pregnancies, disability) = store.resident_facts(r.id).await.unwrap();
            for d in &diagnoses {
                assert!(d.diagnosed_on <= today && d.diagnosed_on >= birth, "{d:?}");
                assert!(
                    d.resolved_on
                        .is_none_or(|x| x > d.diagnosed_on && x <= today)
                );
            }
            for g in &pregnancies {
                assert!(g.registered_on <= today && g.ended_on.is_none_or(|e| e <= today));
            }
            assert!(disability.is_none_or(|x| x.registered_on <= today));
            for e in store.enrolments_of(r.id).await.unwrap() {
                let program = Program::parse(&e.program).unwrap();
                match program {
                    Program::Hypertension => htn += 1,
                    Program::Diabetes => dm += 1,
                }
                assert!(today.years_since(birth).unwrap() >= 35);
                assert!(e.enrolled_on <= today);
                let rows = store.followups(e.id).await.unwrap();
                followups += rows.len() as u64;
                let visits: Vec<Visit> = rows
                    .iter()
                    .map(|f| {
                        assert!(f.visit_date <= today, "{f:?} after {today}");
                        assert!(f.visit_date >= e.enrolled_on, "{f:?} before {e:?}");
                        assert_eq!(f.recorded_by, "demo");
                        Visit {
                            sbp: f.sbp.map(|x| x as u16),
                            dbp: f.dbp.map(|x| x as u16),
                            fpg: f.fpg,
                            danger_sign: f.danger_sign,
                            adverse_reaction: AdverseReaction::parse(&f.adverse_reaction).unwrap(),
                            complication: Complication::parse(&f.complication).unwrap(),
                            face_to_face: f.face_to_face,
                            ..Visit::new(f.visit_date, birth)
                        }
                    })
                    .collect();
                let outcomes = evaluate(program, &rules, &visits);
                for ((f, v), out) in rows.iter().zip(&visits).zip(outcomes) {
                    let problems = hc_care::check_visit(&rules, v, today);
                    assert!(problems.is_empty(), "{f:?}: {problems:?}");
                    assert_eq!(f.classification, out.classification.as_str());
                    assert_eq!(f.action, out.action.as_str());
                    assert_eq!(f.next_due, out.next_due);
                    assert_eq!(f.rules_version, rules.version);
                }
            }
            let contracts = store.contracts_of(r.id).await.unwrap();
            for (i, c) in contracts.iter().enumerate() {
                assert_eq!(c.end_date, hc_care::add_months(c.start_date, 12), "{c:?}");
                assert!(c.start_date <= today && c.start_date >= birth, "{c:?}");
                if let Some(next) = contracts.get(i + 1) {
                    assert!(
                        c.effective_end() <= next.start_date,
                        "{c:?} overlaps {next:?}"
                    );
                    if next.kind != "new" {
                        assert_eq!(next.previous_id, Some(c.id));
                    }
                }
                for s in store.contract_services(c.id).await.unwrap() {
                    assert!(s.delivered_on >= c.start_date && s.delivered_on <= today);
                    assert!(s.delivered_on < c.effective_end(), "{s:?} {c:?}");
                }
            }
            assert!(contracts.iter().filter(|c| c.in_force(today)).count() <= 1);
            for h in store.checks_of(r.id).await.unwrap() {
                assert!(h.check_date <= today && h.check_date >= birth, "{h:?}");
            }
        }
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(residents, report.residents);
    assert_eq!(htn + dm, report.enrolments);
    assert_eq!(followups, report.followups);
    let share = htn as f64 / residents as f64;
    assert!((0.12..=0.18).contains(&share), "hypertension {share}");
    let ratio = dm as f64 / htn as f64;
    assert!(
        (0.3..=0.5).contains(&ratio),
        "diabetes / hypertension {ratio}"
    );
}
