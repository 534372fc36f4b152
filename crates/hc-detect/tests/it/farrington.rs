//! Tests of `farrington` and `farrington-flexible` beyond the shared R reference cases:
//! R's `algo.farrington`, daily series and population offsets (`test_data/farrington/`, made by
//! `make_farrington.R`), the trend R keeps, and parameter handling.

use chrono::NaiveDate;
use hc_detect::{DetectError, Detector, Frequency, Params, Period, Series};

use crate::support::{check_every_case, check_manifest, read_series};

#[test]
fn classic_matches_r() {
    check_manifest("farrington/manifest.tsv", "farrington");
}

#[test]
fn flexible_on_daily_series_matches_r() {
    check_manifest("farrington/manifest.tsv", "farrington-flexible");
}

fn detector(method: &str, params: &str) -> Box<dyn Detector> {
    let params = Params::parse(params).unwrap_or_else(|e| panic!("{params}: {e}"));
    hc_detect::detector(method, params).unwrap_or_else(|e| panic!("{method}: {e}"))
}

#[test]
fn population_offset_matches_r() {
    check_every_case("farrington/population.tsv");
}

#[test]
fn trend_decisions_match_r() {
    check_every_case("farrington/manifest.tsv");
}

#[test]
fn population_offset_needs_a_population() {
    let series = read_series("farrington/salmonella_agona.input.csv").remove(0);
    let flexible = detector("farrington-flexible", "population_offset=true");
    assert_eq!(
        hc_detect::run(flexible.as_ref(), &series, None, None),
        Err(DetectError::NeedsPopulation {
            method: "farrington-flexible",
            param: "population_offset",
        })
    );
}

#[test]
fn a_population_offset_scales_the_expectation() {
    // Counts proportional to a population that doubles: with the offset the expectation
    // follows the population; the fit without offset can only follow a trend.
    let start = NaiveDate::from_ymd_opt(2010, 1, 4).unwrap_or_default();
    let periods: Vec<Period> = (0..6 * 52)
        .map(|i| {
            let population = if i < 5 * 52 { 1e5 } else { 2e5 };
            let count = if i < 5 * 52 {
                10.0 + (i % 3) as f64
            } else {
                20.0 + 2.0 * (i % 3) as f64
            };
            (
                start + chrono::Duration::weeks(i),
                Some(count),
                Some(population),
            )
        })
        .collect();
    let series = Series::new("doubling", periods).unwrap_or_else(|e| panic!("{e}"));
    let with = detector(
        "farrington-flexible",
        "population_offset=true;trend=false;reweight=false",
    );
    let without = detector("farrington-flexible", "trend=false;reweight=false");
    let last = series.len() - 1;
    let with = with.evaluate(&series, last..=last).unwrap_or_default();
    let without = without.evaluate(&series, last..=last).unwrap_or_default();
    let (with, without) = (with[0].expected, without[0].expected);
    let with = with.unwrap_or_else(|| panic!("no expectation with the offset"));
    let without = without.unwrap_or_else(|| panic!("no expectation without the offset"));
    // Reference weeks of five earlier years average 11 cases per 1e5; now the population is 2e5.
    assert!((with - 22.0).abs() < 1.0, "{with}");
    assert!((without - 11.0).abs() < 1.0, "{without}");
}

#[test]
fn daily_reference_days_are_a_year_back_by_date() {
    // A daily series of 4 years from 2016-01-01; with b=3 the first period with reference days
    // three years back is 2019-01-01, whatever the leap day in between.
    let start = NaiveDate::from_ymd_opt(2016, 1, 1).unwrap_or_default();
    let counts = (0..4 * 366).map(|i| Some((5 + i % 4) as f64)).collect();
    let series = Series::regular("d", start, Frequency::Daily, counts);
    let flexible = detector("farrington-flexible", "b=3;w=3");
    let first = flexible.first_index(&series).unwrap_or_default();
    assert_eq!(
        series.dates()[first],
        NaiveDate::from_ymd_opt(2019, 1, 1).unwrap_or_default()
    );
    let early = hc_detect::run(
        flexible.as_ref(),
        &series,
        NaiveDate::from_ymd_opt(2018, 12, 31),
        None,
    );
    assert!(
        matches!(early, Err(DetectError::NotEnoughHistory { first_possible: Some(d), .. }) if d == series.dates()[first]),
        "{early:?}"
    );
    let out = hc_detect::run(flexible.as_ref(), &series, None, None).unwrap_or_default();
    assert_eq!(out.len(), series.len() - first);
    assert!(out.iter().all(|e| e.upperbound.is_some() && !e.alarm));
}

#[test]
fn parameters_are_described_with_defaults() {
    assert_eq!(
        detector("farrington-flexible", "w=2").describe(),
        "b=5;w=2;reweight=true;weights_threshold=2.58;alpha=0.05;trend=true;p_threshold_trend=0.05;limit54=5,4;powertrans=2/3;population_offset=false;no_periods=1;past_weeks_not_included=2;threshold_method=delta"
    );
    assert_eq!(
        detector("farrington", "").describe(),
        "b=5;w=3;reweight=true;alpha=0.05;trend=true;limit54=5,4;powertrans=2/3;past_weeks_not_included=0"
    );
    let params = |text: &str| Params::parse(text).unwrap_or_default();
    assert!(hc_detect::detector("farrington", params("weights_threshold=2")).is_err());
    assert!(hc_detect::detector("farrington-flexible", params("limit54=5")).is_err());
    assert!(hc_detect::detector("farrington-flexible", params("powertrans=1/3")).is_err());
    assert!(
        hc_detect::detector("farrington-flexible", params("threshold_method=nbPlugin")).is_ok()
    );
}

#[test]
fn too_many_seasonal_levels_are_refused() {
    let start = NaiveDate::from_ymd_opt(2010, 1, 4).unwrap_or_default();
    let series = Series::regular("w", start, Frequency::Weekly, vec![Some(3.0); 400]);
    let flexible = detector("farrington-flexible", "w=20;no_periods=20");
    assert!(matches!(
        flexible.first_index(&series),
        Err(DetectError::Frequency { .. })
    ));
}

#[test]
fn missing_counts_leave_the_period_without_alarm() {
    let start = NaiveDate::from_ymd_opt(2010, 1, 4).unwrap_or_default();
    let mut counts: Vec<Option<f64>> = (0..6 * 52).map(|i| Some((8 + i % 5) as f64)).collect();
    let last = counts.len() - 1;
    counts[last] = None;
    counts[last - 52] = None;
    let series = Series::regular("m", start, Frequency::Weekly, counts);
    for method in ["farrington", "farrington-flexible"] {
        let out = detector(method, "")
            .evaluate(&series, last - 1..=last)
            .unwrap_or_default();
        // The period before has a bound despite the missing reference count.
        assert!(out[0].upperbound.is_some(), "{method}");
        // The missing count: no limit54 sum, so no bound and no alarm.
        assert!(!out[1].alarm && out[1].upperbound.is_none(), "{method}");
    }
}
