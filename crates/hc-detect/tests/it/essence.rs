//! ESSENCE's detectors against Rnssp 0.3.1 (`test_data/essence/`, made by `make_essence.R`), and
//! their behaviour at the edges.

use chrono::NaiveDate;
use hc_detect::essence::{Essence, Kind};
use hc_detect::{DetectError, Detector, Frequency, Level, Params, Series};

use crate::support::{Mismatches, date, number, read_csv, read_series, same, show};

fn essence(params: &str) -> Essence {
    let mut p = Params::parse(params).unwrap_or_else(|e| panic!("{e}"));
    let e = Essence::from_params(&mut p).unwrap_or_else(|e| panic!("{e}"));
    p.finish("essence").unwrap_or_else(|e| panic!("{e}"));
    e
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_else(|| panic!("bad date"))
}

fn level_name(level: Option<Level>) -> &'static str {
    level.map_or("grey", Level::as_str)
}

/// Every row of every series of `<name>.expected.csv` against ours.
fn check(name: &str) {
    let detector = essence(&format!("detector={name}"));
    let expected = read_csv(&format!("essence/{name}.expected.csv"));
    let mut mismatches = Mismatches::default();
    let mut rows = 0;
    for series in read_series("essence/input.csv") {
        let theirs: Vec<_> = expected
            .iter()
            .filter(|r| r["series"] == series.name())
            .collect();
        let ours = detector
            .evaluate(&series, 0..=series.len() - 1)
            .unwrap_or_else(|e| panic!("{}: {e}", series.name()));
        let mut found = Vec::new();
        assert_eq!(ours.len(), theirs.len(), "{}", series.name());
        for (o, t) in ours.iter().zip(&theirs) {
            rows += 1;
            let day = series.dates()[o.index];
            assert_eq!(day, date(&t["date"]));
            let at = format!("{} {day}", series.name());
            for (what, ours, col) in [
                ("expected", o.expected, "baseline_expected"),
                ("statistic", o.upperbound, "test_statistic"),
                ("p", o.p_value, "p.value"),
            ] {
                if !same(ours, number(&t[col])) {
                    found.push(format!("{at}: {what} {} but R {}", show(ours), t[col]));
                }
            }
            if level_name(o.level) != t["alert"] {
                found.push(format!(
                    "{at}: level {} but R {} (p {})",
                    level_name(o.level),
                    t["alert"],
                    t["p.value"]
                ));
            }
            if o.alarm != (t["alert"] == "red") {
                found.push(format!("{at}: alarm {}", o.alarm));
            }
            if let Some(r2) = t.get("adjusted_r_squared")
                && !same(o.score, number(r2))
            {
                found.push(format!("{at}: adjusted R² {} but R {r2}", show(o.score)));
            }
            if let Some(d) = t.get("detector") {
                let ours = match detector.detector_used(o) {
                    None => "",
                    Some(Kind::Regression) => "Adaptive Multiple Regression",
                    Some(_) => "EWMA",
                };
                if ours != d {
                    found.push(format!("{at}: detector {ours:?} but R {d:?}"));
                }
            }
        }
        mismatches.case(&format!("{name} {}", series.name()), found);
    }
    assert_eq!(rows, 12 * 456);
    mismatches.finish();
}

#[test]
fn regression_matches_rnssp() {
    check("regression");
}

#[test]
fn ewma_matches_rnssp() {
    check("ewma");
}

#[test]
fn switch_matches_rnssp() {
    check("switch");
}

fn daily(counts: Vec<f64>) -> Series {
    let start = day(2024, 1, 1);
    Series::regular(
        "x",
        start,
        Frequency::Daily,
        counts.into_iter().map(Some).collect(),
    )
}

#[test]
fn run_starts_where_rnssp_first_tests_and_needs_more_than_b_plus_g_days() {
    let series = daily((0..60).map(|i| f64::from(i % 5)).collect());
    for (params, first) in [
        ("detector=ewma", 9),
        ("detector=regression", 13),
        ("detector=switch;g=0", 7),
    ] {
        let d = hc_detect::detector(
            "essence",
            Params::parse(params).unwrap_or_else(|e| panic!("{e}")),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let out = hc_detect::run(d.as_ref(), &series, None, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out[0].index, first, "{params}");
        assert!(out[0].p_value.is_some(), "{params}");
        assert_eq!(out.len(), 60 - first);
    }
    let short = daily(vec![1.0; 30]);
    let d = hc_detect::detector("essence", Params::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        hc_detect::run(d.as_ref(), &short, None, None),
        Err(DetectError::NotEnoughHistory {
            method: "essence",
            needed: 30,
            available: 30,
            first_possible: None
        })
    );
}

#[test]
fn weekly_data_missing_counts_and_bad_parameters_are_refused() {
    let start = day(2024, 1, 1);
    let weekly = Series::regular("w", start, Frequency::Weekly, vec![Some(1.0); 60]);
    let d = hc_detect::detector("essence", Params::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        hc_detect::run(d.as_ref(), &weekly, None, None),
        Err(DetectError::Frequency {
            method: "essence",
            ..
        })
    ));
    let mut counts = vec![Some(2.0); 60];
    counts[3] = None;
    let gap = Series::regular("m", start, Frequency::Daily, counts);
    assert_eq!(
        hc_detect::run(d.as_ref(), &gap, None, None),
        Err(DetectError::Missing {
            method: "essence",
            date: day(2024, 1, 4)
        })
    );
    for bad in ["b=30", "b=7", "detector=cusum", "w1=1", "g=-1", "alpha=0.1"] {
        assert!(
            hc_detect::detector(
                "essence",
                Params::parse(bad).unwrap_or_else(|e| panic!("{e}"))
            )
            .is_err(),
            "{bad}"
        );
    }
    // The EWMA accepts any baseline of at least 7 days.
    assert!(
        hc_detect::detector(
            "essence",
            Params::parse("detector=ewma;b=30").unwrap_or_else(|e| panic!("{e}"))
        )
        .is_ok()
    );
    assert_eq!(
        essence("").describe(),
        "detector=switch;b=28;g=2;w1=0.4;w2=0.9"
    );
}

#[test]
fn a_jump_is_red_and_a_series_of_zeros_stays_blue() {
    // A steady series with a weekly pattern, then a spike on a Wednesday.
    let mut counts: Vec<f64> = (0..70)
        .map(|i| if i % 7 >= 5 { 5.0 } else { 10.0 })
        .collect();
    counts[65] = 40.0;
    let series = daily(counts);
    for kind in ["regression", "ewma", "switch"] {
        let d = essence(&format!("detector={kind}"));
        let out = d
            .evaluate(&series, 60..=66)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out[5].level, Some(Level::Red), "{kind}");
        assert!(out[5].alarm);
        assert!(!out[0].alarm, "{kind}");
    }
    // Rnssp's EWMA fails on all zeros (it divides by the median of no positive value); here
    // the zeros are tested as they are.
    let zeros = daily(vec![0.0; 40]);
    let out = essence("detector=ewma")
        .evaluate(&zeros, 9..=39)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.iter().all(|e| e.level == Some(Level::Blue)));
    assert_eq!(out[0].p_value, Some(0.5));
}

#[test]
#[allow(clippy::excessive_precision)] // R's digits, as printed
fn rounding_noise_of_a_constant_series_is_r_s_own() {
    // R (Rnssp 0.3.1, reference BLAS): alert_regression on 40 days of 3 from 2024-01-01. The fit
    // is exact, so every number below is rounding noise of lm.fit's Householder QR; matching it
    // shows the fit is R's operation for operation (the switch's R² ≥ 0.60 test depends on it).
    let series = daily(vec![3.0; 40]);
    let out = essence("detector=regression")
        .evaluate(&series, 0..=39)
        .unwrap_or_else(|e| panic!("{e}"));
    let r = [
        (
            13,
            3.0000000000000009,
            -2.0902035657854863e-13,
            0.50000000000007683,
            -0.80327868852458995,
        ),
        (
            29,
            3.0000000000000009,
            -1.5357759508560776e-13,
            0.50000000000006051,
            0.30559061295494094,
        ),
        (
            39,
            2.9999999999999996,
            7.6592954201260003e-14,
            0.4999999999999698,
            0.32146596858638732,
        ),
    ];
    for (i, expected, statistic, p, r2) in r {
        let e = &out[i];
        assert!(same(e.expected, Some(expected)), "{i}: {:?}", e.expected);
        assert!(
            same(e.upperbound, Some(statistic)),
            "{i}: {:?}",
            e.upperbound
        );
        assert!(same(e.p_value, Some(p)), "{i}: {:?}", e.p_value);
        assert!(same(e.score, Some(r2)), "{i}: {:?}", e.score);
        assert_eq!(e.level, Some(Level::Blue));
    }
    assert!(
        out[..13]
            .iter()
            .all(|e| e.p_value.is_none() && e.level.is_none())
    );
}

/// A daily run evaluates only the latest days; the results must be those of a full run.
#[test]
fn evaluating_the_latest_days_gives_the_full_run_s_results() {
    for kind in ["switch", "ewma", "regression"] {
        let d = essence(&format!("detector={kind}"));
        for series in read_series("essence/input.csv") {
            let n = series.len();
            let full = d.evaluate(&series, 0..=n - 1);
            let tail = d.evaluate(&series, n - 30..=n - 1);
            match (full, tail) {
                (Ok(full), Ok(tail)) => {
                    assert_eq!(full[n - 30..], tail[..], "{kind} {}", series.name())
                }
                other => panic!("{kind} {}: {other:?}", series.name()),
            }
        }
    }
}
