//! Tests of the feeds without a database: determinism, dates, seasons, holidays, the
//! classifier's agreement with the templates, the outbreaks, and that records keep the rules.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate, Weekday};
use hc_syndromes::{Dictionary, DiseaseList, Syndrome, Visit};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use super::templates::{Syn, complaint};
use super::*;
use crate::plan::CityPlan;

fn demo(scale: f64, seed: u64, today: NaiveDate) -> FeedDemo {
    let opts = DemoOptions { scale, seed, today };
    let plan = CityPlan::new(&opts).unwrap();
    FeedDemo::new(Registry::from_plan(&plan), &opts).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn text<'a>(r: &'a Value, k: &str) -> &'a str {
    r.get(k).and_then(Value::as_str).unwrap_or("")
}

fn int(r: &Value, k: &str) -> i64 {
    r.get(k).and_then(Value::as_i64).unwrap()
}

fn day_of(feed: &str, r: &Value) -> NaiveDate {
    let v = match feed {
        "visits" => &text(r, "visit_time")[..10],
        "cases" => text(r, "report_date"),
        "lab-results" => text(r, "sample_date"),
        _ => text(r, "date"),
    };
    NaiveDate::parse_from_str(v, "%Y-%m-%d").unwrap()
}

/// Every record of a small city, by feed.
fn all(d: &FeedDemo) -> HashMap<&'static str, Vec<Value>> {
    let mut out: HashMap<&'static str, Vec<Value>> = HashMap::new();
    for b in d.batches() {
        assert!(!b.records.is_empty() && b.records.len() <= MAX_BATCH);
        out.entry(b.feed).or_default().extend(b.records);
    }
    out
}

#[test]
fn the_same_seed_scale_and_day_give_the_same_records() {
    let today = crate::default_today();
    let a = demo(0.001, 7, today);
    let b = demo(0.001, 7, today);
    assert_eq!(a.outbreaks(), b.outbreaks());
    let (ra, rb) = (all(&a), all(&b));
    assert_eq!(ra, rb);
    let c = demo(0.001, 8, today);
    assert_ne!(all(&c).get("visits"), ra.get("visits"));
}

#[test]
fn the_classifier_gives_each_template_its_syndrome() {
    let dictionary = Dictionary::builtin().unwrap();
    let mut r = ChaCha8Rng::seed_from_u64(1);
    for kind in Syn::ALL {
        let n = 4000;
        let mut hits = 0;
        let mut misses = Vec::new();
        for _ in 0..n {
            let c = complaint(&mut r, kind);
            let got = dictionary.classify(&Visit {
                chief_complaint: &c.text,
                diagnosis_codes: &c.codes,
                temperature: c.temperature,
            });
            let ok = match kind {
                Syn::Background => got.syndromes.is_empty(),
                _ => got
                    .syndromes
                    .contains(Syndrome::parse(kind.code()).unwrap()),
            };
            if ok {
                hits += 1;
            } else if misses.len() < 5 {
                misses.push(format!("{c:?} -> {}", got.syndromes));
            }
        }
        let share = f64::from(hits) / f64::from(n);
        assert!(share >= 0.95, "{kind:?}: {share}: {misses:#?}");
    }
}

#[test]
fn records_keep_the_feed_rules_and_the_calendar() {
    let today = crate::default_today();
    let d = demo(0.002, crate::DEFAULT_SEED, today);
    let first = d.first_day();
    assert_eq!(first, date(2023, 11, 24));
    let opts = DemoOptions {
        scale: 0.002,
        seed: crate::DEFAULT_SEED,
        today,
    };
    let plan = CityPlan::new(&opts).unwrap();
    let communities: HashSet<&str> = plan
        .orgunits
        .iter()
        .filter(|u| u.level == OrgLevel::Community)
        .map(|u| u.code.as_str())
        .collect();
    let kinds: HashMap<&str, InstitutionKind> = plan
        .institutions
        .iter()
        .map(|i| (i.code.as_str(), i.kind))
        .collect();
    let diseases = DiseaseList::builtin().unwrap();
    let recs = all(&d);
    for feed in FEEDS {
        let list = &recs[feed];
        assert!(!list.is_empty(), "{feed}");
        let mut keys = HashSet::new();
        for r in list {
            let day = day_of(feed, r);
            assert!(day >= first && day <= today, "{feed} {r}");
            let sender = match feed {
                "visits" => text(r, "institution_code"),
                "pharmacy-sales" => text(r, "pharmacy_code"),
                "absenteeism" => text(r, "school_code"),
                "lab-results" => text(r, "lab_code"),
                _ => "",
            };
            assert!(
                keys.insert((sender.to_owned(), text(r, "record_id").to_owned())),
                "{feed}: duplicate {r}"
            );
            use InstitutionKind as K;
            match feed {
                "visits" => {
                    assert!(matches!(kinds[sender], K::Hospital | K::Chc | K::Chs));
                    assert!(communities.contains(text(r, "community_code")));
                }
                "cases" => {
                    assert!(diseases.get(text(r, "disease_code")).is_some(), "{r}");
                    let onset = NaiveDate::parse_from_str(text(r, "onset_date"), "%Y-%m-%d");
                    let diag = NaiveDate::parse_from_str(text(r, "diagnosis_date"), "%Y-%m-%d");
                    assert!(onset.unwrap() <= diag.unwrap() && diag.unwrap() <= day);
                    assert!(communities.contains(text(r, "community_code")));
                }
                "pharmacy-sales" => {
                    assert_eq!(kinds[sender], K::Pharmacy);
                    assert!(int(r, "quantity") >= 0);
                }
                "absenteeism" => {
                    assert!(matches!(kinds[sender], K::School | K::Kindergarten));
                    let (e, a, i) = (int(r, "enrolled"), int(r, "absent"), int(r, "absent_ill"));
                    assert!(e >= 1 && a <= e && i <= a, "{r}");
                    assert!(
                        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun),
                        "a school reported on a weekend: {r}"
                    );
                    assert!(
                        day.month() != 8,
                        "a school reported in the summer holiday: {r}"
                    );
                }
                _ => {
                    assert!(matches!(kinds[sender], K::Hospital | K::Cdc));
                    let (t, p) = (int(r, "tested"), int(r, "positive"));
                    assert!(t >= 1 && p <= t, "{r}");
                    assert!(communities.contains(text(r, "community_code")));
                }
            }
        }
    }

    // Weekday effect: more visits on Mondays than on Sundays.
    let mut by_weekday: HashMap<Weekday, usize> = HashMap::new();
    for r in &recs["visits"] {
        *by_weekday.entry(day_of("visits", r).weekday()).or_default() += 1;
    }
    assert!(by_weekday[&Weekday::Mon] as f64 > 1.5 * by_weekday[&Weekday::Sun] as f64);

    // The Spring Festival: visits and sales fall by about 40% for ten days.
    for (feed, qty) in [("visits", false), ("pharmacy-sales", true)] {
        let mut per_day: HashMap<NaiveDate, f64> = HashMap::new();
        for r in &recs[feed] {
            let q = if qty { int(r, "quantity") as f64 } else { 1.0 };
            *per_day.entry(day_of(feed, r)).or_default() += q;
        }
        for sf in [date(2024, 2, 10), date(2025, 1, 29), date(2026, 2, 17)] {
            let mean = |from: i64, to: i64| {
                let days: Vec<f64> = (from..=to)
                    .map(|k| {
                        per_day
                            .get(&(sf + chrono::Duration::days(k)))
                            .copied()
                            .unwrap_or(0.0)
                    })
                    .collect();
                days.iter().sum::<f64>() / days.len() as f64
            };
            let (during, around) = (mean(-4, 5), (mean(-25, -11) + mean(12, 26)) / 2.0);
            assert!(during < 0.75 * around, "{feed} {sf}: {during} vs {around}");
        }
    }
}

#[test]
fn the_seasons_are_shenzhens() {
    let today = crate::default_today();
    let d = demo(0.003, crate::DEFAULT_SEED, today);
    let dictionary = Dictionary::builtin().unwrap();
    let mut months: HashMap<(i32, u32, Syndrome), f64> = HashMap::new();
    for b in d.batches().filter(|b| b.feed == "visits") {
        for r in &b.records {
            let day = day_of("visits", r);
            let c = dictionary.classify(&Visit {
                chief_complaint: text(r, "chief_complaint"),
                diagnosis_codes: text(r, "diagnosis_codes"),
                temperature: r.get("temperature").and_then(Value::as_f64),
            });
            for s in c.syndromes.iter() {
                *months.entry((day.year(), day.month(), s)).or_default() += 1.0;
            }
        }
    }
    let m = |y, mo, s| months.get(&(y, mo, s)).copied().unwrap_or(0.0);
    for y in [2024, 2025, 2026] {
        // Influenza: February and July above October; HFMD (rash): May above December.
        assert!(
            m(y, 2, Syndrome::Ili) > 1.5 * m(y, 10, Syndrome::Ili),
            "{y}"
        );
        assert!(m(y, 7, Syndrome::Ili) > m(y, 10, Syndrome::Ili), "{y}");
        assert!(m(y, 5, Syndrome::Rash) > m(y, 1, Syndrome::Rash), "{y}");
        assert!(
            m(y, 9, Syndrome::FeverHaem) > m(y, 4, Syndrome::FeverHaem),
            "{y}"
        );
    }
    // Norovirus season: January above the (outbreak-free) summer months.
    assert!(m(2025, 1, Syndrome::Gi) > m(2025, 8, Syndrome::Gi));
}

#[test]
fn outbreaks_lie_in_the_three_years_and_several_are_live() {
    let today = crate::default_today();
    let d = demo(0.01, crate::DEFAULT_SEED, today);
    let rows = d.outbreaks();
    let outbreaks: HashSet<&str> = rows.iter().map(|o| o.description.as_str()).collect();
    assert!((10..=14).contains(&outbreaks.len()), "{}", outbreaks.len());
    let live: HashSet<&str> = rows
        .iter()
        .filter(|o| o.last_day >= today - chrono::Duration::days(60))
        .map(|o| o.description.as_str())
        .collect();
    assert!(live.len() >= 4, "{live:#?}");
    let diseases = DiseaseList::builtin().unwrap();
    let feeds: HashSet<&str> = rows.iter().map(|o| o.feed.as_str()).collect();
    assert_eq!(feeds.len(), 5, "{feeds:?}");
    for o in &rows {
        assert!(o.first_day >= d.first_day() && o.last_day <= today, "{o:?}");
        assert!(o.first_day <= o.last_day && o.extra > 0, "{o:?}");
        assert!(o.area_code.len() == 9 || o.area_code.len() == 12, "{o:?}");
        assert!(o.description.contains(" / "), "{o:?}");
        match o.feed.as_str() {
            "visits" => assert!(Syndrome::parse(&o.code).is_some(), "{o:?}"),
            "cases" => assert!(diseases.get(&o.code).is_some(), "{o:?}"),
            "pharmacy-sales" => assert!(DRUGS.iter().any(|d| d.0 == o.code)),
            "absenteeism" => assert!(o.code.starts_with("ill-")),
            _ => {}
        }
    }
    // One cholera case, a fixed-threshold disease.
    let cholera: Vec<_> = rows.iter().filter(|o| o.code == "A00").collect();
    assert_eq!(cholera.len(), 1);
    assert_eq!(cholera[0].extra, 1);
    // The injected visits are in the feed: the live norovirus outbreak's community has its
    // extra gastrointestinal visits on those days.
    let noro = rows
        .iter()
        .find(|o| o.feed == "visits" && o.code == "gi" && o.extra >= 20)
        .unwrap();
    let dictionary = Dictionary::builtin().unwrap();
    let mut seen = 0;
    for b in d.batches().filter(|b| b.feed == "visits") {
        for r in &b.records {
            let day = day_of("visits", r);
            if text(r, "community_code") == noro.area_code
                && day >= noro.first_day
                && day <= noro.last_day
            {
                let c = dictionary.classify(&Visit {
                    chief_complaint: text(r, "chief_complaint"),
                    diagnosis_codes: text(r, "diagnosis_codes"),
                    temperature: r.get("temperature").and_then(Value::as_f64),
                });
                seen += usize::from(c.syndromes.contains(Syndrome::Gi));
            }
        }
    }
    assert!(
        seen as i64 >= noro.extra * 9 / 10,
        "{seen} of {}",
        noro.extra
    );
}

#[test]
fn the_default_city_stays_within_its_volume() {
    let d = demo(
        crate::DEFAULT_SCALE,
        crate::DEFAULT_SEED,
        crate::default_today(),
    );
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for b in d.batches() {
        *counts.entry(b.feed).or_default() += b.records.len();
    }
    let total: usize = counts.values().sum();
    assert!(total < 400_000, "{counts:?}");
    assert!(counts["visits"] > counts["pharmacy-sales"], "{counts:?}");
    assert!(counts["cases"] > 5_000, "{counts:?}");
}

#[test]
fn every_disease_the_demo_reports_is_notifiable() {
    let diseases = DiseaseList::builtin().unwrap();
    for code in disease_codes() {
        assert!(diseases.get(code).is_some(), "{code}");
    }
    let cholera = diseases.get("A00").unwrap();
    assert_eq!(cholera.detection, hc_syndromes::Detection::Fixed);
}
