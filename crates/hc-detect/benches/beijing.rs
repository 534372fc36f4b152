//! A Beijing-scale daily run: 8,941 institutions × 8 syndromes = 71,528 daily series of three
//! years, each evaluated on its last day, as the morning job of a city-wide syndromic system
//! would. The counts are generated first and kept compactly (as a store would hold them, 4 bytes
//! a day); each worker thread then builds one series at a time, runs the method and keeps only
//! the result, so the engine's own memory is one series per thread plus the results. Prints
//! wall time per method, alarms and peak memory.
//!
//! `cargo bench -p hc-detect --bench beijing` (SERIES=… to change the number of series).

use std::time::Instant;

use chrono::NaiveDate;
use hc_detect::{Evaluation, Frequency, Params, Series, detector, run, sim};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

const DAYS: usize = 3 * 365;

/// The counts of series `i`: a negative-binomial syndrome count with its own level, a weekday
/// effect and a yearly season, seeded by its index.
fn counts(i: usize) -> Vec<u32> {
    let mut rng = ChaCha8Rng::seed_from_u64(20_261_123);
    rng.set_stream(i as u64);
    let level = 0.3 * (1.0 + (i % 97) as f64).powf(1.2);
    (0..DAYS)
        .map(|t| {
            let weekday = if t % 7 >= 5 { 0.6 } else { 1.1 };
            let season = 1.0 + 0.3 * (2.0 * std::f64::consts::PI * t as f64 / 365.25).cos();
            sim::negative_binomial(&mut rng, level * weekday * season, 1.5) as u32
        })
        .collect()
}

/// Series `i` built from its stored counts, as a worker would load it.
fn series(i: usize, counts: &[u32], start: NaiveDate) -> Series {
    let counts = counts.iter().map(|&c| Some(f64::from(c))).collect();
    Series::regular(format!("s{i}"), start, Frequency::Daily, counts)
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn main() {
    let n: usize = std::env::var("SERIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(71_528);
    let start = NaiveDate::from_ymd_opt(2023, 1, 2).unwrap_or_default();
    let last = start + chrono::Duration::days(DAYS as i64 - 1);
    let methods = [
        ("essence", "detector=switch"),
        ("ears", "variant=C1;alpha=0.05"),
        ("ears", "variant=C2;alpha=0.05"),
        ("ears", "variant=C3;alpha=0.05"),
        (
            "farrington-flexible",
            "b=2;w=3;no_periods=10;weights_threshold=2.58;past_weeks_not_included=26;p_threshold_trend=1;threshold_method=nbplugin",
        ),
    ];
    let t = Instant::now();
    let data: Vec<Vec<u32>> = (0..n).into_par_iter().map(counts).collect();
    println!(
        "{n} daily series of {DAYS} days ({} periods, {:.0} MiB of counts) generated in {:.2} s; {} threads",
        n * DAYS,
        (n * DAYS * 4) as f64 / 1048576.0,
        t.elapsed().as_secs_f64(),
        rayon::current_num_threads()
    );
    println!(
        "{:<22} {:<60} {:>9} {:>8}",
        "method", "params", "seconds", "alarms"
    );
    for (method, params) in methods {
        let d = match Params::parse(params)
            .map_err(|e| e.to_string())
            .and_then(|p| detector(method, p).map_err(|e| e.to_string()))
        {
            Ok(d) => d,
            Err(e) => {
                println!("{method}: {e}");
                continue;
            }
        };
        let t = Instant::now();
        let (alarms, failed) = (0..n)
            .into_par_iter()
            .map(|i| {
                let s = series(i, &data[i], start);
                match run(d.as_ref(), &s, Some(last), Some(last)) {
                    Ok(out) => (out.iter().filter(|e: &&Evaluation| e.alarm).count(), 0),
                    Err(_) => (0, 1),
                }
            })
            .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        let secs = t.elapsed().as_secs_f64();
        let note = if failed > 0 {
            format!(" ({failed} failed)")
        } else {
            String::new()
        };
        println!("{method:<22} {params:<60} {secs:>9.2} {alarms:>8}{note}");
    }
    println!(
        "peak memory {:.0} MiB, of which the stored counts take {:.0} MiB",
        peak_rss_mib(),
        (n * DAYS * 4) as f64 / 1048576.0
    );
}
