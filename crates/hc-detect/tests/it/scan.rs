//! The space-time permutation scan: a hand-checked example, planted and null data, the p-value
//! rank, reproducibility and errors.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate};
use hc_detect::scan::{
    CaseCount, Circles, Cluster, Coordinates, Location, ScanConfig, ScanError, null_maxima, scan,
    scan_in,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn day(n: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 3, 1).unwrap_or_else(|| panic!("bad test date"))
        + Duration::days(n)
}

fn loc(id: &str, x: f64, y: f64) -> Location {
    Location {
        id: id.to_owned(),
        x,
        y,
    }
}

fn case(location: usize, d: i64, count: u32) -> CaseCount {
    CaseCount {
        location,
        date: day(d),
        count,
    }
}

/// Two far-apart places over two days: A has 1 then 3 cases, B 3 then 1.
fn two_places() -> (Vec<Location>, Vec<CaseCount>) {
    (
        vec![loc("A", 0.0, 0.0), loc("B", 100.0, 0.0)],
        vec![case(0, 0, 1), case(0, 1, 3), case(1, 0, 3), case(1, 1, 1)],
    )
}

#[test]
fn hand_checked_expected_count_llr_and_p_value() {
    let (locations, cases) = two_places();
    let mut config = ScanConfig::new();
    config.max_days = 1;
    config.permutations = 9999;
    let clusters = scan(&locations, &cases, &config).unwrap();
    // Circles hold one place (half of two); windows one day, the last. A on day 1: 3 observed,
    // 4 × 4 / 8 = 2 expected; B has 1 < 2 observed, so it is no cluster.
    assert_eq!(clusters.len(), 1, "{clusters:?}");
    let a = &clusters[0];
    assert_eq!((a.center, a.locations.clone()), (0, vec![0]));
    assert_eq!((a.start, a.end, a.observed), (day(1), day(1), 3));
    assert!((a.expected - 2.0).abs() < 1e-12);
    let llr = 3.0 * 1.5f64.ln() + 5.0 * (5.0f64 / 6.0).ln();
    assert!((a.llr - llr).abs() < 1e-12, "{} vs {llr}", a.llr);
    assert_eq!(a.radius, 0.0);
    // Under permutation, the number of A's among the 4 cases of day 1 is hypergeometric
    // (8 cases, 4 at A, 4 drawn); the maximum LLR reaches A's whenever 3 or 4 of them fall in
    // A or in B: (16 + 1 + 16 + 1) / 70.
    let p = 34.0 / 70.0;
    assert!((a.p_value - p).abs() < 0.02, "p = {}, about {p}", a.p_value);
    assert!((a.recurrence_days - 1.0 / a.p_value).abs() < 1e-12);
    // With at least 4 cases required, A's 3 are not enough.
    config.min_cases = 4;
    assert!(scan(&locations, &cases, &config).unwrap().is_empty());
}

/// `n` locations at random points of a 10 × 10 square and `per_day` cases a day over `days`
/// days, each at a random location: no space-time interaction.
fn background(
    seed: u64,
    n: usize,
    days: i64,
    per_day: usize,
) -> (Vec<Location>, Vec<CaseCount>, ChaCha8Rng) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let locations: Vec<Location> = (0..n)
        .map(|i| {
            loc(
                &format!("L{i}"),
                rng.random_range(0.0..10.0),
                rng.random_range(0.0..10.0),
            )
        })
        .collect();
    let mut cases = Vec::new();
    for d in 0..days {
        for _ in 0..per_day {
            cases.push(case(rng.random_range(0..n), d, 1));
        }
    }
    (locations, cases, rng)
}

fn nearest(locations: &[Location], centre: usize, count: usize) -> Vec<usize> {
    let c = &locations[centre];
    let mut order: Vec<usize> = (0..locations.len()).collect();
    order.sort_by(|&a, &b| {
        let da = (locations[a].x - c.x).hypot(locations[a].y - c.y);
        let db = (locations[b].x - c.x).hypot(locations[b].y - c.y);
        da.total_cmp(&db)
    });
    order.truncate(count);
    order
}

/// Background data with 2 extra cases a day at a location and its two nearest neighbours over
/// the last 3 of 28 days.
fn planted() -> (Vec<Location>, Vec<CaseCount>, Vec<usize>) {
    let (locations, mut cases, _) = background(7, 30, 28, 20);
    let hot = nearest(&locations, 11, 3);
    for d in 25..28 {
        for &z in &hot {
            cases.push(case(z, d, 2));
        }
    }
    (locations, cases, hot)
}

/// Observed and expected counts of a cluster, recomputed from the raw records.
fn recount(cases: &[CaseCount], cluster: &Cluster) -> (u64, f64) {
    let inside = |c: &&CaseCount| cluster.locations.contains(&c.location);
    let in_window = |c: &&CaseCount| c.date >= cluster.start && c.date <= cluster.end;
    let sum = |f: &dyn Fn(&&CaseCount) -> bool| -> u64 {
        cases
            .iter()
            .filter(|c| f(c))
            .map(|c| u64::from(c.count))
            .sum()
    };
    let total = sum(&|_| true) as f64;
    let observed = sum(&|c| inside(c) && in_window(c));
    let expected = sum(&inside) as f64 * sum(&in_window) as f64 / total;
    (observed, expected)
}

#[test]
fn finds_a_planted_cluster() {
    let (locations, cases, hot) = planted();
    let config = ScanConfig::new();
    let clusters = scan(&locations, &cases, &config).unwrap();
    let best = &clusters[0];
    let found: BTreeSet<usize> = best.locations.iter().copied().collect();
    let hot: BTreeSet<usize> = hot.into_iter().collect();
    assert!(
        hot.is_subset(&found) && found.len() <= hot.len() + 1,
        "found {found:?}, planted {hot:?}"
    );
    assert_eq!((best.start, best.end), (day(25), day(27)));
    assert!(best.p_value < 0.05, "{best:?}");
    assert_eq!(best.p_value, 1.0 / 1000.0);
    assert_eq!(best.recurrence_days, 1000.0);
    // Counts agree with a direct recount; clusters are ranked and share no location.
    for c in &clusters {
        let (observed, expected) = recount(&cases, c);
        assert_eq!(c.observed, observed, "{c:?}");
        assert!((c.expected - expected).abs() < 1e-9 * expected, "{c:?}");
        assert!(c.observed as f64 > c.expected && c.llr > 0.0);
        assert_eq!(c.end, day(27));
        assert_eq!(c.locations[0], c.center);
    }
    for (i, a) in clusters.iter().enumerate() {
        for b in &clusters[i + 1..] {
            assert!(a.llr >= b.llr);
            assert!(
                a.locations.iter().all(|z| !b.locations.contains(z)),
                "{a:?} overlaps {b:?}"
            );
        }
    }
    assert!(clusters.len() > 1 && clusters.len() <= config.max_clusters);
}

#[test]
fn p_values_rank_the_observed_llr_among_the_replicate_maxima() {
    let (locations, cases, _) = planted();
    let mut config = ScanConfig::new();
    config.permutations = 199;
    let clusters = scan(&locations, &cases, &config).unwrap();
    let maxima = null_maxima(&locations, &cases, &config).unwrap();
    assert_eq!(maxima.len(), 199);
    assert!(maxima.iter().all(|&m| m >= 0.0));
    // The planted cluster beats every replicate.
    assert!(maxima.iter().all(|&m| m < clusters[0].llr));
    assert_eq!(clusters[0].p_value, 1.0 / 200.0);
    // Secondary clusters are ranked in the same distribution of the maximum.
    for c in &clusters {
        let rank = 1 + maxima.iter().filter(|&&m| m >= c.llr).count();
        assert_eq!(c.p_value, rank as f64 / 200.0, "{c:?}");
    }
    assert!(clusters.iter().any(|c| c.p_value > 0.05));
}

#[test]
fn sequential_replicates_keep_every_decision_at_the_threshold() {
    // With 199 replicates, p ≤ 0.01 means at most one replicate maximum reaches the cluster's
    // LLR; stopping after two such maxima must leave exactly the same clusters below 0.01.
    let alpha = 0.01;
    let stop = (alpha * 200.0_f64).floor() as usize;
    let mut cases_seen = 0;
    for seed in 0..12 {
        let (locations, mut cases, _) = background(300 + seed, 40, 28, 25);
        if seed % 3 == 0 {
            let (_, _, hot) = planted();
            for d in 25..28 {
                for &z in &hot {
                    cases.push(case(z, d, 6));
                }
            }
        }
        let mut config = ScanConfig::new();
        config.permutations = 199;
        config.seed = seed;
        let full = scan(&locations, &cases, &config).unwrap();
        config.stop_after = Some(stop);
        let circles =
            Circles::new(&locations, config.coordinates, config.max_spatial_share).unwrap();
        let quick = scan_in(&circles, &cases, &config).unwrap();
        let significant = |cs: &[Cluster]| -> Vec<(usize, u64, f64)> {
            cs.iter()
                .filter(|c| c.p_value <= alpha)
                .map(|c| (c.center, c.observed, c.p_value))
                .collect()
        };
        assert_eq!(significant(&full), significant(&quick), "seed {seed}");
        // Same clusters, in the same order; only the p-values of the others may differ, and
        // stay above the threshold.
        let ids = |cs: &[Cluster]| {
            cs.iter()
                .map(|c| (c.center, c.locations.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&full), ids(&quick));
        for c in quick.iter().filter(|c| c.p_value > alpha) {
            assert!(c.p_value >= (stop + 1) as f64 / 200.0, "{c:?}");
        }
        cases_seen += full.iter().filter(|c| c.p_value <= alpha).count();
    }
    // The four planted clusters were found, so both branches were exercised.
    assert!(cases_seen >= 4, "{cases_seen}");
}

#[test]
fn circles_must_match_the_configuration() {
    let (locations, cases, _) = planted();
    let config = ScanConfig::new();
    let circles = Circles::new(&locations, Coordinates::LatLon, config.max_spatial_share).unwrap();
    assert_eq!(circles.len(), locations.len());
    let err = scan_in(&circles, &cases, &config).unwrap_err();
    assert!(err.to_string().contains("coordinates"), "{err}");
    let circles = Circles::new(&locations, config.coordinates, 0.25).unwrap();
    let err = scan_in(&circles, &cases, &config).unwrap_err();
    assert!(err.to_string().contains("max_spatial_share"), "{err}");
    // Built with the configuration's own settings, the circles give `scan`'s answer.
    let circles = Circles::new(&locations, config.coordinates, config.max_spatial_share).unwrap();
    assert_eq!(
        scan_in(&circles, &cases, &config).unwrap(),
        scan(&locations, &cases, &config).unwrap()
    );
}

#[test]
fn no_cluster_in_null_data() {
    let mut p_values = Vec::new();
    for seed in 0..20 {
        let (locations, cases, _) = background(100 + seed, 20, 28, 15);
        let mut config = ScanConfig::new();
        config.permutations = 99;
        config.seed = seed;
        config.max_clusters = 1;
        let clusters = scan(&locations, &cases, &config).unwrap();
        p_values.push(clusters.first().map_or(1.0, |c| c.p_value));
    }
    let significant = p_values.iter().filter(|&&p| p < 0.05).count();
    let mean = p_values.iter().sum::<f64>() / p_values.len() as f64;
    // About uniform p-values: one false alarm expected in 20; 4 or more has probability 1.6%.
    assert!(significant <= 3, "{p_values:?}");
    assert!(mean > 0.3, "{p_values:?}");
}

#[test]
fn same_seed_same_result_whatever_the_threads() {
    let (locations, cases, _) = planted();
    let mut config = ScanConfig::new();
    config.permutations = 99;
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            (
                scan(&locations, &cases, &config).unwrap(),
                null_maxima(&locations, &cases, &config).unwrap(),
            )
        })
    };
    let one = run(1);
    assert_eq!(one, run(3));
    assert_eq!(one, run(1));
    config.seed += 1;
    let other = null_maxima(&locations, &cases, &config).unwrap();
    assert_ne!(one.1, other);
}

#[test]
fn study_period_and_analysis_date() {
    let (locations, cases) = two_places();
    // Analysis on day 0: only day 0 is studied, every window covers it all, and no cylinder can
    // have an excess.
    let mut config = ScanConfig::new();
    config.end = Some(day(0));
    config.permutations = 9;
    assert!(scan(&locations, &cases, &config).unwrap().is_empty());
    // A study period of one day before any case.
    config.end = Some(day(-5));
    config.study_days = Some(1);
    assert_eq!(
        scan(&locations, &cases, &config),
        Err(ScanError::NoCases {
            start: Some(day(-5)),
            end: day(-5)
        })
    );
    // Without a study length, the period starts at the first case.
    config.study_days = None;
    let err = scan(&locations, &cases, &config).unwrap_err();
    assert_eq!(err.to_string(), "there are no cases up to 2024-02-25");
}

#[test]
fn latitude_longitude_circles_grow_by_great_circle_distance() {
    // Near the pole, longitude differences shrink: B (far in longitude, same latitude) is nearer
    // to A than C (one degree south).
    let locations = vec![
        loc("A", 0.0, 89.0),
        loc("B", 30.0, 89.0),
        loc("C", 0.0, 88.0),
        loc("D", 120.0, 0.0),
        loc("E", -120.0, 0.0),
        loc("F", 0.0, -60.0),
    ];
    let mut cases: Vec<CaseCount> = (0..6)
        .flat_map(|z| [case(z, 0, 5), case(z, 1, 5)])
        .collect();
    cases.push(case(0, 1, 10));
    cases.push(case(1, 1, 10));
    let mut config = ScanConfig::new();
    config.coordinates = Coordinates::LatLon;
    config.max_spatial_share = 2.0 / 6.0;
    config.permutations = 9;
    let best = &scan(&locations, &cases, &config).unwrap()[0];
    let mut found = best.locations.clone();
    found.sort_unstable();
    assert_eq!(found, vec![0, 1]);
    // 2 × 6371 km × asin(cos 89° × sin 15°) ≈ 57.56 km (C is 111.2 km away).
    assert!((57.0..58.2).contains(&best.radius), "{}", best.radius);
}

#[test]
fn errors_name_the_problem() {
    let (locations, cases) = two_places();
    let config = ScanConfig::new();
    let mut bad = cases.clone();
    bad[2].location = 5;
    assert_eq!(
        scan(&locations, &bad, &config),
        Err(ScanError::UnknownLocation {
            record: 2,
            location: 5,
            count: 2
        })
    );
    assert_eq!(scan(&[], &cases, &config), Err(ScanError::NoLocations));
    assert_eq!(scan(&locations, &[], &config), Err(ScanError::Empty));
    let twice = vec![loc("A", 0.0, 0.0), loc("A", 1.0, 0.0)];
    assert_eq!(
        scan(&twice, &cases, &config),
        Err(ScanError::DuplicateLocation("A".into()))
    );
    let mut latlon = config.clone();
    latlon.coordinates = Coordinates::LatLon;
    let off = vec![loc("A", 0.0, 0.0), loc("B", 0.0, 95.0)];
    let err = scan(&off, &cases, &latlon).unwrap_err();
    assert!(err.to_string().contains("latitude"), "{err}");
    for (change, param) in [
        (
            &(|c: &mut ScanConfig| c.max_spatial_share = 0.0) as &dyn Fn(&mut ScanConfig),
            "max_spatial_share",
        ),
        (
            &|c: &mut ScanConfig| c.max_spatial_share = f64::NAN,
            "max_spatial_share",
        ),
        (&|c: &mut ScanConfig| c.max_days = 0, "max_days"),
        (&|c: &mut ScanConfig| c.study_days = Some(0), "study_days"),
        (&|c: &mut ScanConfig| c.permutations = 0, "permutations"),
        (&|c: &mut ScanConfig| c.max_clusters = 0, "max_clusters"),
    ] {
        let mut c = config.clone();
        change(&mut c);
        match scan(&locations, &cases, &c) {
            Err(ScanError::Config { param: p, .. }) => assert_eq!(p, param),
            other => panic!("{param}: {other:?}"),
        }
    }
}

/// The best cylinder by brute force from the raw records: every centre, every complete circle
/// of at most `max` locations, every window of 1..=`days` days ending on `end`.
fn brute_force_best(
    locations: &[Location],
    cases: &[CaseCount],
    max: usize,
    days: i64,
    end: NaiveDate,
) -> (f64, BTreeSet<usize>, NaiveDate) {
    let total: f64 = cases.iter().map(|c| f64::from(c.count)).sum();
    let mut best = (0.0, BTreeSet::new(), end);
    for centre in 0..locations.len() {
        let order = nearest(locations, centre, locations.len());
        let dist = |z: usize| {
            (locations[z].x - locations[centre].x).hypot(locations[z].y - locations[centre].y)
        };
        for size in 1..=max {
            if size < order.len() && dist(order[size]) == dist(order[size - 1]) {
                continue; // not a complete circle
            }
            let inside: BTreeSet<usize> = order[..size].iter().copied().collect();
            for w in 0..days {
                let start = end - Duration::days(w);
                let (mut c, mut cz, mut cd) = (0.0, 0.0, 0.0);
                for r in cases {
                    let (a, b) = (inside.contains(&r.location), r.date >= start);
                    let n = f64::from(r.count);
                    if a && b {
                        c += n;
                    }
                    if a {
                        cz += n;
                    }
                    if b {
                        cd += n;
                    }
                }
                let mu = cz * cd / total;
                if c > mu && c >= 2.0 {
                    let llr = c * (c / mu).ln()
                        + if total > c {
                            (total - c) * ((total - c) / (total - mu)).ln()
                        } else {
                            0.0
                        };
                    if llr > best.0 {
                        best = (llr, inside.clone(), start);
                    }
                }
            }
        }
    }
    best
}

#[test]
fn best_cluster_agrees_with_brute_force() {
    for seed in 0..6 {
        let (mut locations, cases, _) = background(200 + seed, 16, 14, 6);
        // Some exact ties in distance: two locations on the same spot, one on a grid.
        locations[3].x = locations[2].x;
        locations[3].y = locations[2].y;
        let mut config = ScanConfig::new();
        config.permutations = 9;
        config.max_days = 5;
        let clusters = scan(&locations, &cases, &config).unwrap();
        let (llr, inside, start) = brute_force_best(&locations, &cases, 8, 5, day(13));
        let best = &clusters[0];
        assert!(
            (best.llr - llr).abs() < 1e-9 * llr,
            "seed {seed}: {best:?} vs {llr}"
        );
        let found: BTreeSet<usize> = best.locations.iter().copied().collect();
        assert_eq!((found, best.start), (inside, start), "seed {seed}");
    }
}
