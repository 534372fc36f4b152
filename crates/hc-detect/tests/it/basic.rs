//! Tests of `basic` beyond the shared R reference cases: EARS, CUSUM, Bayes, RKI and CDC with
//! the parameter sets of `test_data/basic/manifest.tsv` (made by R, see `make_basic.R`; EARS
//! also on daily data), the published EARS C3 rule on a hand-computed example, and errors.

use chrono::NaiveDate;
use hc_detect::{DetectError, Evaluation, Frequency, Params, Series};

use crate::support::{check_manifest, read_series};

fn check(method: &str) {
    check_manifest("basic/manifest.tsv", method);
}

#[test]
fn ears_against_r() {
    check("ears");
}

#[test]
fn cusum_against_r() {
    check("cusum");
}

#[test]
fn bayes_against_r() {
    check("bayes");
}

#[test]
fn rki_against_r() {
    check("rki");
}

#[test]
fn cdc_against_r() {
    check("cdc");
}

fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default()
}

fn daily(counts: &[f64]) -> Series {
    Series::regular(
        "s",
        start(),
        Frequency::Daily,
        counts.iter().map(|&c| Some(c)).collect(),
    )
}

fn run(method: &str, params: &str, series: &Series) -> Result<Vec<Evaluation>, DetectError> {
    let params = Params::parse(params).unwrap_or_else(|e| panic!("{e}"));
    let detector = hc_detect::detector(method, params).unwrap_or_else(|e| panic!("{e}"));
    hc_detect::run(detector.as_ref(), series, None, None)
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

/// Published C3 (Hutwagner et al. 2003) by hand, baseline 3 and alpha such that z = 1.
///
/// Counts 2, 4, 3, 3, 3, 9, 9, 3 (indexes 0–7). The C2 baseline of period t is t-5..=t-3.
/// - t=5: baseline 2, 4, 3: mean 3, sd 1; C2 = (9 - 3)/1 = 6, excess over 1: 5.
/// - t=6: baseline 4, 3, 3: mean 10/3, sd 1/√3; C2 = (9 - 10/3)·√3 = 9.815, excess 8.815.
/// - t=7: baseline 3, 3, 3: mean 3, sd 0; the count 3 is not above the mean: excess 0.
///
/// Published: C3 = 5 + 8.815 + 0 = 13.815 > z. The two earlier excesses alone exceed z, so any
/// positive count alarms and the threshold is 0: 3 alarms. R (compat=surveillance): threshold
/// x + sd·(z - S) = 3 + 0·(1 - 13.815) = 3, and 3 is not above 3: no alarm.
#[test]
fn published_c3_by_hand() {
    let series = daily(&[2.0, 4.0, 3.0, 3.0, 3.0, 9.0, 9.0, 3.0]);
    // qnorm(1 - 0.15865525393145707) = 1.
    let z1 = "variant=C3;baseline=3;alpha=0.15865525393145707";
    let published = run("ears", z1, &series).unwrap_or_default();
    assert_eq!(published.len(), 1, "C3 with baseline 3 starts at index 7");
    let p = &published[0];
    assert_eq!(p.index, 7);
    assert!(close(p.expected, 3.0));
    assert!(close(p.upperbound, 0.0));
    assert!(p.alarm);
    let s = 5.0 + (9.0 - 10.0 / 3.0) * 3f64.sqrt() - 1.0;
    assert!(close(p.score, s), "score {:?}, want {s}", p.score);

    let r = run("ears", &format!("{z1};compat=surveillance"), &series).unwrap_or_default();
    assert!(close(r[0].upperbound, 3.0), "R: x + 0·(z - S) = 3");
    assert!(!r[0].alarm);
}

/// The published rule counts the current period: a quiet history and one high day alarm,
/// where R's C3 (which only looks at the two days before) does not.
#[test]
fn published_c3_counts_the_current_period() {
    // Baseline 7 (default), z = qnorm(0.975) = 1.95996.
    let mut counts = vec![
        4.0, 6.0, 5.0, 4.0, 6.0, 5.0, 5.0, 4.0, 6.0, 5.0, 4.0, 6.0, 5.0, 5.0,
    ];
    counts.push(20.0);
    let series = daily(&counts);
    let published = run("ears", "variant=C3", &series).unwrap_or_default();
    let r = run("ears", "variant=C3;compat=surveillance", &series).unwrap_or_default();
    let (p, q) = (published.last(), r.last());
    assert!(p.is_some_and(|e| e.alarm && e.index == 14));
    assert!(q.is_some_and(|e| !e.alarm));
    // Threshold: mean + sd·(1 + z - S) with the window t-9..=t-3 and S from t-1, t-2.
    let window = &counts[5..12];
    let mean = window.iter().sum::<f64>() / 7.0;
    let sd = (window.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / 6.0).sqrt();
    let excess = |t: usize| {
        let w = &counts[t - 9..t - 2];
        let m = w.iter().sum::<f64>() / 7.0;
        let s = (w.iter().map(|c| (c - m).powi(2)).sum::<f64>() / 6.0).sqrt();
        ((counts[t] - m) / s - 1.0).max(0.0)
    };
    let z = 1.959963984540054;
    let want = mean + sd * (1.0 + z - excess(12) - excess(13));
    assert!(p.is_some_and(|e| close(e.upperbound, want)));
}

#[test]
fn ears_on_daily_series_evaluates_every_day() {
    for series in read_series("basic/daily.input.csv") {
        let out = run("ears", "variant=C1", &series).unwrap_or_default();
        assert_eq!(out.len(), series.len() - 7);
        assert_eq!(out[0].index, 7);
        // A missing day leaves the next seven thresholds undefined, then they come back.
        if let Some(gap) = series.counts().iter().position(Option::is_none) {
            let around: Vec<bool> = (gap + 1..=gap + 8)
                .map(|t| out[t - 7].upperbound.is_some())
                .collect();
            assert_eq!(
                around,
                [false, false, false, false, false, false, false, true]
            );
        }
    }
}

#[test]
fn describe_fills_in_rs_defaults() {
    let describe = |method: &str, params: &str| {
        let params = Params::parse(params).unwrap_or_else(|e| panic!("{e}"));
        hc_detect::detector(method, params)
            .map(|d| d.describe())
            .unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(
        describe("ears", ""),
        "variant=C1;alpha=0.001;baseline=7;min_sigma=0;compat=published"
    );
    assert_eq!(
        describe("ears", "variant=c3"),
        "variant=C3;alpha=0.025;baseline=7;min_sigma=0;compat=published"
    );
    assert_eq!(
        describe("cusum", ""),
        "k=1.04;h=2.26;m=mean;trans=standard;alpha=0.1"
    );
    assert_eq!(describe("bayes", ""), "b=0;w=6;act_y=true;alpha=0.05");
    assert_eq!(describe("rki", ""), "b=2;w=4;act_y=false");
    assert_eq!(describe("cdc", ""), "b=5;m=1;alpha=0.025");
}

#[test]
fn bad_parameters_are_refused() {
    for (method, params) in [
        ("ears", "baseline=2"),
        ("ears", "variant=C4"),
        ("ears", "min_sigma=-1"),
        ("cusum", "trans=anscombeNegBin"),
        ("cusum", "m=-2"),
        ("bayes", "w=0"),
        ("rki", "b=0"),
        ("cdc", "m=7"),
        ("cdc", "b=1;m=0"),
    ] {
        let parsed = Params::parse(params).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            hc_detect::detector(method, parsed).is_err(),
            "{method} {params:?}"
        );
    }
}

#[test]
fn cdc_needs_weekly_data() {
    let series = daily(&[1.0; 400]);
    assert!(matches!(
        run("cdc", "", &series),
        Err(DetectError::Frequency { .. })
    ));
}

#[test]
fn cusum_names_a_missing_count() {
    let mut counts: Vec<Option<f64>> = vec![Some(3.0); 20];
    counts[15] = None;
    let series = Series::regular("s", start(), Frequency::Weekly, counts);
    let missing = start() + chrono::Duration::days(7 * 15);
    assert_eq!(
        run("cusum", "", &series),
        Err(DetectError::Missing {
            method: "cusum",
            date: missing
        })
    );
}

#[test]
fn cusum_accumulates_and_alarms_as_r() {
    // m = 4 fixed: (x - 4)/2 - 1.04 accumulates; counts 10, 10 give 1.96 then 3.92 ≥ 2.26.
    let series = daily(&[10.0, 10.0, 0.0]);
    let out = run("cusum", "m=4", &series).unwrap_or_default();
    assert_eq!(
        out.iter().map(|e| e.alarm).collect::<Vec<_>>(),
        [false, true, false]
    );
    assert!(close(out[0].score, 1.96));
    assert!(close(out[1].score, 3.92));
    // ceil(2·(2.26 + 1.04 - S) + 4): 11 from S = 0, 7 from S = 1.96.
    assert!(close(out[0].upperbound, 11.0));
    assert!(close(out[1].upperbound, 7.0));
}
