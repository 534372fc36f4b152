//! The evaluation harness: every detector on the 42 scenarios of Noufaily et al. (2013), 100
//! seeded replicates each, printing false-positive rate (FPR) and probability of detection (POD)
//! per method and scenario as a Markdown table (the one in docs/detection.md).
//!
//! `cargo bench -p hc-detect --bench noufaily` (REPLICATES=…, K=… for the current outbreak's
//! size multiplier, default 5; METHODS=ears,cusum to choose).

use std::time::Instant;

use hc_detect::{Params, detector, sim};

const METHODS: &[(&str, &str, &str)] = &[
    (
        "FF Noufaily",
        "farrington-flexible",
        "b=5;w=3;no_periods=10;weights_threshold=2.58;past_weeks_not_included=26;p_threshold_trend=1;threshold_method=nbplugin",
    ),
    (
        "FF delta",
        "farrington-flexible",
        "b=5;w=3;no_periods=1;weights_threshold=1;past_weeks_not_included=3;p_threshold_trend=0.05;threshold_method=delta",
    ),
    ("Farrington 1996", "farrington", "b=5;w=3"),
    ("EARS C1", "ears", "variant=C1;alpha=0.001"),
    ("EARS C2", "ears", "variant=C2;alpha=0.001"),
    ("EARS C3", "ears", "variant=C3;alpha=0.001"),
    ("CUSUM", "cusum", "k=1.04;h=2.26;m=mean"),
    ("GLR-NB", "glrnb", "c_arl=5;mu0_harmonics=1"),
    ("GLR-Pois", "glrpois", "c_arl=5;mu0_harmonics=1"),
    ("Bayes", "bayes", "b=1;w=3;alpha=0.001"),
    ("RKI", "rki", "b=1;w=3"),
    ("CDC", "cdc", "b=5;m=1"),
    ("MPM P80", "mpm", "percentile=80;years=5"),
];

fn main() {
    let replicates = std::env::var("REPLICATES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let k: f64 = std::env::var("K")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5.0);
    let chosen = std::env::var("METHODS").ok();
    let scenarios = sim::scenarios();
    let mut summary = Vec::new();
    println!(
        "Noufaily et al. (2013) design: {} scenarios × {replicates} replicates, k = {k}\n",
        scenarios.len()
    );
    for &(label, method, params) in METHODS {
        if let Some(chosen) = &chosen
            && !chosen.split(',').any(|c| c == method || c == label)
        {
            continue;
        }
        let d = match Params::parse(params)
            .map_err(|e| e.to_string())
            .and_then(|p| detector(method, p).map_err(|e| e.to_string()))
        {
            Ok(d) => d,
            Err(e) => {
                println!("{label}: {e}\n");
                continue;
            }
        };
        let t = Instant::now();
        println!("### {label} (`{method}`: `{params}`)\n");
        println!("| scenario | θ | β | m | φ | FPR | POD |");
        println!("|---:|---:|---:|---:|---:|---:|---:|");
        let (mut fpr, mut pod, mut n) = (0.0, 0.0, 0.0);
        for s in &scenarios {
            match sim::evaluate(s, d.as_ref(), replicates, 20_130_101, k) {
                Ok(o) => {
                    println!(
                        "| {} | {} | {} | {} | {} | {:.4} | {:.3} |",
                        s.id, s.theta, s.beta, s.harmonics, s.phi, o.fpr, o.pod
                    );
                    fpr += o.fpr;
                    if o.pod.is_finite() {
                        pod += o.pod;
                        n += 1.0;
                    }
                }
                Err(e) => println!(
                    "| {} | {} | {} | {} | {} | error: {e} | |",
                    s.id, s.theta, s.beta, s.harmonics, s.phi
                ),
            }
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "\n{label}: mean FPR {:.4}, mean POD {:.3} ({secs:.1} s)\n",
            fpr / scenarios.len() as f64,
            pod / n
        );
        summary.push((label, fpr / scenarios.len() as f64, pod / n, secs));
    }
    println!("| method | mean FPR | mean POD | seconds |");
    println!("|---|---:|---:|---:|");
    for (label, fpr, pod, secs) in summary {
        println!("| {label} | {fpr:.4} | {pod:.3} | {secs:.1} |");
    }
}
