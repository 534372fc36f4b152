//! Tests of `glr` beyond the shared R reference cases: `test_data/glr/` (made by
//! `test_data/glr/make_glr.R`) checks μ₀, `ret=cases`, trends, more harmonics, decreases, a
//! fixed overdispersion, windows, known change sizes, the epidemic chart and daily data.

use crate::support::check_manifest;

#[test]
fn glrnb_extra_cases_match_r() {
    check_manifest("glr/manifest.tsv", "glrnb");
}

#[test]
fn glrpois_extra_cases_match_r() {
    check_manifest("glr/manifest.tsv", "glrpois");
}

use chrono::NaiveDate;
use hc_detect::{DetectError, Frequency, Params, Series};

fn weekly(counts: &[Option<f64>]) -> Series {
    let start = NaiveDate::from_ymd_opt(2020, 1, 6).unwrap_or_default();
    Series::regular("s", start, Frequency::Weekly, counts.to_vec())
}

fn glr(method: &str, params: &str) -> Box<dyn hc_detect::Detector> {
    let params = Params::parse(params).unwrap_or_else(|e| panic!("{e}"));
    hc_detect::detector(method, params).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn describe_lists_every_parameter_with_r_defaults() {
    assert_eq!(
        glr("glrnb", "").describe(),
        "c_arl=5;mu0_harmonics=1;mu0_trend=false;alpha=estimated;mtilde=1;m=-1;\
         change=intercept;theta=estimated;dir=inc;ret=value;x_max=10000"
    );
    assert_eq!(
        glr("glrpois", "m=52;dir=dec;ret=cases;theta=0.5").describe(),
        "c_arl=5;mu0_harmonics=1;mu0_trend=false;mtilde=1;m=52;\
         change=intercept;theta=0.5;dir=dec;ret=cases;x_max=10000"
    );
}

#[test]
fn bad_or_meaningless_parameters_are_refused() {
    for (method, params, key) in [
        ("glrnb", "m=0", "m"),
        ("glrnb", "theta=1", "theta"),
        ("glrnb", "alpha=-0.1", "alpha"),
        ("glrpois", "c_arl=0", "c_arl"),
        ("glrpois", "change=epi;ret=cases", "ret"),
        ("glrnb", "change=epi;dir=dec", "dir"),
        ("glrpois", "dir=up", "dir"),
    ] {
        let params = Params::parse(params).unwrap_or_default();
        match hc_detect::detector(method, params) {
            Err(hc_detect::ParamError::Invalid { key: k, .. }) => assert_eq!(k, key),
            other => panic!("{method} {key}: {:?}", other.map(|d| d.describe())),
        }
    }
    // glrpois has no overdispersion.
    let params = Params::parse("alpha=0.1").unwrap_or_default();
    assert!(matches!(
        hc_detect::detector("glrpois", params),
        Err(hc_detect::ParamError::Unknown { .. })
    ));
}

/// After an alarm the statistic starts afresh: the spike that raised it no longer counts.
#[test]
fn the_statistic_restarts_after_an_alarm() {
    let mut counts = vec![Some(5.0); 20];
    counts.extend([Some(5.0), Some(30.0), Some(5.0), Some(12.0)]);
    let series = weekly(&counts);
    let out = hc_detect::run(
        glr("glrpois", "").as_ref(),
        &series,
        series.dates().get(20).copied(),
        None,
    );
    let out = out.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.len(), 4);
    let alarms: Vec<bool> = out.iter().map(|e| e.alarm).collect();
    assert_eq!(alarms, [false, true, false, false]);
    for e in &out {
        let mu = e.expected.unwrap_or(f64::NAN);
        assert!((mu - 5.0).abs() < 1e-6, "mu0 {mu}");
    }
    let stat = |x: f64, m: f64| x * (x / m).ln() - x + m;
    let ub: Vec<f64> = out
        .iter()
        .map(|e| e.upperbound.unwrap_or(f64::NAN))
        .collect();
    assert!((ub[1] - stat(30.0, 5.0)).abs() < 1e-6, "{ub:?}");
    assert!(ub[2].abs() < 1e-6, "{ub:?}");
    // Only the periods since the restart: 12 alone beats 5 + 12.
    assert!((ub[3] - stat(12.0, 5.0)).abs() < 1e-6, "{ub:?}");

    // With ret=cases, the period after the alarm needs what a fresh start needs:
    // the first x with x ln(x/5) - x + 5 ≥ 5.
    let cases = hc_detect::run(
        glr("glrpois", "ret=cases").as_ref(),
        &series,
        series.dates().get(20).copied(),
        None,
    );
    let cases = cases.unwrap_or_else(|e| panic!("{e}"));
    let need = (0..100).find(|&x| stat(x as f64, 5.0) >= 5.0).unwrap_or(0) as f64;
    assert_eq!(need, 14.0);
    assert_eq!(cases[2].upperbound, Some(need));
    assert!(cases[1].alarm);
}

#[test]
fn missing_counts_are_dropped_from_the_history_but_refused_when_evaluated() {
    let mut counts: Vec<Option<f64>> = (0..30).map(|i| Some((3 + i % 4) as f64)).collect();
    counts[4] = None;
    let series = weekly(&counts);
    let from = series.dates().get(20).copied();
    assert!(hc_detect::run(glr("glrnb", "alpha=0.1").as_ref(), &series, from, None).is_ok());
    counts[25] = None;
    let series = weekly(&counts);
    match hc_detect::run(glr("glrnb", "alpha=0.1").as_ref(), &series, from, None) {
        Err(DetectError::Missing { method, date }) => {
            assert_eq!(method, "glrnb");
            assert_eq!(Some(date), series.dates().get(25).copied());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_model_needs_more_history_than_coefficients() {
    let series = weekly(&[Some(4.0); 10]);
    let d = glr("glrpois", "mu0_harmonics=2;mu0_trend=true");
    assert_eq!(d.first_index(&series), Ok(7));
    assert!(matches!(
        hc_detect::run(d.as_ref(), &series, series.dates().get(3).copied(), None),
        Err(DetectError::NotEnoughHistory { needed: 7, .. })
    ));
}

/// R 4.2.2: a history of zeros. `glrpois` fits μ₀ ≈ 3.775e-12 (its IRLS stops at the
/// deviance tolerance) and alarms on the first cases; `glrnb` cannot estimate θ (R fails in
/// theta.ml), which here is a named error.
#[test]
fn a_history_of_zeros() {
    let mut counts = vec![Some(0.0); 61];
    counts.extend([Some(1.0), Some(5.0), Some(0.0)]);
    let series = weekly(&counts);
    let from = series.dates().get(60).copied();
    let out = hc_detect::run(glr("glrpois", "").as_ref(), &series, from, None);
    let out = out.unwrap_or_else(|e| panic!("{e}"));
    let ub: Vec<f64> = out
        .iter()
        .map(|e| e.upperbound.unwrap_or(f64::NAN))
        .collect();
    let alarms: Vec<bool> = out.iter().map(|e| e.alarm).collect();
    assert_eq!(alarms, [false, true, true, false]);
    let mu0 = out[0].expected.unwrap_or(f64::NAN);
    assert!((mu0 / 3.775135e-12 - 1.0).abs() < 1e-6, "{mu0}");
    for (ours, r) in ub.iter().zip([0.0, 25.30259, 134.56012, 0.0]) {
        assert!((ours - r).abs() <= 1e-5 * r, "{ub:?}");
    }
    match hc_detect::run(glr("glrnb", "").as_ref(), &series, from, None) {
        Err(DetectError::Fit { method, .. }) => assert_eq!(method, "glrnb"),
        other => panic!("{other:?}"),
    }
}
