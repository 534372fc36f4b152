//! Rough speed of the Farrington methods on the 17 `salmNewport` series (16 states and
//! Germany) of `test_data/surveillance`: microseconds per evaluated period, best of a few runs.
//!
//! `cargo run --release -p hc-detect --example farrington_speed`

use std::time::Instant;

use chrono::NaiveDate;
use hc_detect::{Params, Period, Series, detector, run};

const PROFILES: &[(&str, &str, &str)] = &[
    (
        "flexible noufaily",
        "farrington-flexible",
        "b=5;w=3;no_periods=10;weights_threshold=2.58;past_weeks_not_included=26;p_threshold_trend=1;threshold_method=nbplugin",
    ),
    ("flexible default", "farrington-flexible", ""),
    ("classic", "farrington", ""),
];

/// Further profiles for `DUMP` only.
const MORE: &[(&str, &str, &str)] = &[
    (
        "flexible delta",
        "farrington-flexible",
        "b=5;w=3;no_periods=1;weights_threshold=1;past_weeks_not_included=3;p_threshold_trend=0.05;threshold_method=delta",
    ),
    (
        "flexible muan",
        "farrington-flexible",
        "b=5;w=2;no_periods=4;weights_threshold=2.58;past_weeks_not_included=8;p_threshold_trend=0.05;threshold_method=muan;alpha=0.01;limit54=0,4",
    ),
    ("classic b3w2", "farrington", "b=3;w=2;reweight=false"),
];

/// Simulated series of the Noufaily scenarios (two replicates each), for `DUMP`.
fn simulated() -> Vec<Series> {
    use rand::SeedableRng;
    let start = NaiveDate::from_ymd_opt(2000, 1, 3).unwrap_or_default();
    let mut out = Vec::new();
    for s in hc_detect::sim::scenarios() {
        for r in 0..2 {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1000 * s.id as u64 + r);
            let sim = hc_detect::sim::simulate(&s, 3.0, &mut rng);
            let periods: Vec<Period> = sim
                .counts
                .iter()
                .enumerate()
                .map(|(i, &c)| (start + chrono::Duration::weeks(i as i64), Some(c), None))
                .collect();
            out.push(
                Series::new(format!("sim{}_{r}", s.id), periods).unwrap_or_else(|e| panic!("{e}")),
            );
        }
    }
    out
}

/// Writes every evaluation of every profile on the real and simulated series to `path`.
fn dump(path: &str, series: &[Series]) {
    use std::fmt::Write;
    let mut text = String::new();
    let all: Vec<Series> = series.iter().cloned().chain(simulated()).collect();
    for &(label, method, params) in PROFILES.iter().chain(MORE) {
        let params = Params::parse(params).unwrap_or_else(|e| panic!("{e}"));
        let d = detector(method, params).unwrap_or_else(|e| panic!("{e}"));
        for s in &all {
            for e in run(d.as_ref(), s, None, None).unwrap_or_else(|e| panic!("{e}")) {
                let _ = writeln!(
                    text,
                    "{label},{},{},{:?},{:?},{:?},{:?},{:?},{:?}",
                    s.name(),
                    e.index,
                    e.expected,
                    e.upperbound,
                    e.alarm,
                    e.score,
                    e.p_value,
                    e.trend
                );
            }
        }
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{path}: {e}"));
}

fn read(file: &str) -> Vec<Series> {
    let path = format!(
        "{}/test_data/surveillance/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut names: Vec<String> = Vec::new();
    let mut periods: Vec<Vec<Period>> = Vec::new();
    for line in text.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let at = match names.iter().position(|n| n == cells[0]) {
            Some(i) => i,
            None => {
                names.push(cells[0].to_owned());
                periods.push(Vec::new());
                names.len() - 1
            }
        };
        let date = NaiveDate::parse_from_str(cells[1], "%Y-%m-%d").unwrap_or_default();
        periods[at].push((date, cells[2].parse().ok(), None));
    }
    names
        .into_iter()
        .zip(periods)
        .map(|(n, p)| Series::new(n, p).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

fn main() {
    let mut series = read("salmNewport_states.input.csv");
    series.extend(read("salmNewport_DE.input.csv"));
    if let Ok(path) = std::env::var("DUMP") {
        dump(&path, &series);
        return;
    }
    if std::env::var("SIM").is_ok() {
        series = simulated();
    }
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    for &(label, method, params) in PROFILES {
        let params = Params::parse(params).unwrap_or_else(|e| panic!("{e}"));
        let d = detector(method, params).unwrap_or_else(|e| panic!("{e}"));
        let mut best = f64::INFINITY;
        let mut periods = 0;
        for _ in 0..rounds {
            periods = 0;
            let t = Instant::now();
            for s in &series {
                let out = run(d.as_ref(), s, None, None).unwrap_or_else(|e| panic!("{e}"));
                periods += out.len();
            }
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!(
            "{label:>18}: {periods} periods, {:.1} µs/period",
            best * 1e6 / periods as f64
        );
    }
}
