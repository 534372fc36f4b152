//! The Noufaily et al. (2013) simulation design, for evaluating detectors.
//!
//! Noufaily A, Enki DG, Farrington P, Garthwaite P, Andrews N, Charlett A (2013). *An improved
//! algorithm for outbreak detection in multiple surveillance systems.* Statistics in Medicine
//! 32:1206–1222, doi:10.1002/sim.5595. The paper judged detectors on simulated weekly series by
//! their false-positive rate (FPR) and probability of detection (POD); this module rebuilds that
//! design so that every method of the crate can be scored the same way.
//!
//! # The design
//!
//! **Baseline counts.** Week `t = 1..=624` (twelve years of 52 weeks) has mean
//!
//! ```text
//! μ(t) = exp( θ + β·t + Σ_{j=1..m} [ γ1·cos(2πjt/52) + γ2·sin(2πjt/52) ] )
//! ```
//!
//! (the same γ1, γ2 for every harmonic `j`) and a count drawn from a negative binomial with
//! mean μ and variance φ·μ (φ = 1: Poisson). Here that draw is a Gamma–Poisson mixture: a rate
//! λ ~ Gamma(shape μ/(φ−1), scale φ−1), then a Poisson(λ) count; this is R's
//! `rnbinom(size = μ/(φ−1), prob = 1/φ)`.
//!
//! **The 42 scenarios** ([`scenarios`]) are seven groups of (θ, γ1, γ2, φ, β):
//!
//! | group | scenarios | θ | γ1 | γ2 | φ | β when trended |
//! |---|---|---|---|---|---|---|
//! | 1 | 1–6 | 0.1 | 0.6 | 0.6 | 1.5 | 0.0025 |
//! | 2 | 7–12 | −2 | 0.1 | 0.3 | 2 | 0.005 |
//! | 3 | 13–18 | 1.5 | 0.2 | −0.4 | 1 | 0.003 |
//! | 4 | 19–24 | 0.5 | 0.5 | 0.5 | 5 | 0.002 |
//! | 5 | 25–30 | 2.5 | 1 | 0.1 | 3 | 0.001 |
//! | 6 | 31–36 | 3.75 | 0.1 | −0.1 | 1.1 | 0.001 |
//! | 7 | 37–42 | 5 | 0.05 | 0.01 | 1.2 | 0.0001 |
//!
//! and within each group six scenarios in this order: β = 0 with m = 0, 1, 2, then the group's β
//! with m = 0, 1, 2. Where m = 0 the seasonal coefficients are 0.
//!
//! **Periods.** Weeks 313–575 are the *baseline* weeks (the five years and three weeks that a
//! Farrington detector with b = 5, w = 3 looks back on from week 576) and weeks 576–624, the last
//! 49, are the *current* weeks on which detectors are scored. Weeks 1–312 only carry the trend.
//!
//! **Outbreaks.** An outbreak starting in week `s` with multiplier `k` has a size drawn from a
//! Poisson distribution with mean `k · sqrt(φ·μ(s))`, k times the standard deviation of the
//! baseline count in its starting week. Each of its cases falls `⌊Z⌋` weeks after the start,
//! Z ~ lognormal(meanlog 0, sdlog 0.5): about 50 % in the starting week, 42 % one week later,
//! 7 % two weeks later. Cases that would fall after week 624 are dropped.
//! - *Baseline outbreaks*: four per series, starting in distinct weeks drawn uniformly from the
//!   baseline weeks, each with k drawn (with replacement) from {2, 3, 5, 10}.
//! - *The current outbreak*: one per series, starting in a week drawn uniformly from the 49
//!   current weeks, with the `k` given to [`simulate`] (the paper varies k from 1 to 10 and
//!   reports POD against k).
//!
//! **Measures** ([`evaluate`]), over `replicates` series of one scenario:
//! - *FPR*: the detector runs on each series *without* its current outbreak (baseline counts and
//!   baseline outbreaks only) over the 49 current weeks; FPR is the share of those
//!   49 × replicates weeks that raised an alarm.
//! - *POD*: the detector runs on the series *with* the current outbreak, over the current weeks
//!   from week 576; the outbreak is detected when at least one week from its start to its last
//!   week with cases raised an alarm. POD is the share of detected outbreaks.
//!
//! # Sources
//!
//! The paper itself could not be read here; its design was pieced together from public
//! re-implementations that say they follow it, read to understand, not copied:
//! - `telkamp7/AEDDO` (`src/simulation/simulation.R`, `articles/aeddo_simulation/*.Rmd`;
//!   Telkamp, Statens Serum Institut, 2023): the seven groups of θ, β, γ1, γ2, φ and their
//!   expansion into β ∈ {0, β}, m ∈ {0, 1, 2}; 100 replicates of 624 weeks; weeks 313–575 and
//!   576–624; four baseline outbreaks with k from {2, 3, 5, 10}; one current outbreak, k from 1
//!   to 10; ⌊lognormal(0, 0.5)⌋ spread; FPR "calculated before the addition of the simulated
//!   outbreaks" as a share of the 49 × 100 weeks; POD as at least one alarm between the
//!   outbreak's start and end, as a share of the 100 runs.
//! - `tearne/Sampler` (T. Saratoon's Farrington spike, 2015): its default parameters are
//!   labelled "Scenario 14 in Noufaily et al." and are θ = 1.5, β = 0, m = 1, γ1 = 0.2,
//!   γ2 = −0.4, φ = 1, which fixes the order of scenarios within a group (β before m).
//! - `hannapalya/syndromic_anomaly` (`generate_data.r`, the Noufaily group's simulation code for
//!   their 2019 daily-data paper): outbreak sizes are Poisson with mean k·sqrt(φ·μ) at the start
//!   period, cases are spread by a lognormal binned into periods, cases past the end are
//!   dropped, and the negative binomial uses size μ/(φ−1), prob 1/φ.
//! - R `surveillance::sts_creation` (Salmon, "following Noufaily et al."): the same μ(t), with
//!   the same γ1, γ2 on both harmonics when m = 2.
//!
//! # Assumptions
//!
//! - Whether the *FPR* series keeps its baseline outbreaks is not stated in the sources read;
//!   they are kept, since the paper's improvements (reweighting past outbreaks, leaving out the
//!   last 26 weeks) are about series with past outbreaks.
//! - A baseline outbreak starting late in week 574 or 575 can spill a few cases into the first
//!   current weeks; they are kept (and flagged in [`Simulated::baseline_outbreak`]), as the
//!   sources only truncate at the end of the series. It is rare (about 1.5 % of series).
//! - A current outbreak whose Poisson size is 0 (frequent in the low-count scenarios with small
//!   k), or whose cases all fall after week 624, has nothing to detect: it is left out of the
//!   POD denominator, which [`Outcome::outbreaks`] reports. (The 2019 code instead redrew the
//!   size until it was at least 2; the 2013 text only says Poisson.)
//! - The 2019 code also zeroes the injected cases of the series' final period, a quirk not
//!   reproduced here.
//! - Weeks are dated from Monday 2000-01-03, weekly.

use std::ops::RangeInclusive;

use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use statrs::function::gamma::ln_gamma;

use crate::{DetectError, Detector, Frequency, Series};

/// Weeks in a simulated series.
pub const WEEKS: usize = 624;
/// Current weeks, the last of the series, on which detectors are scored.
pub const CURRENT_WEEKS: usize = 49;
/// Index (0-based) of the first current week, week 576.
pub const FIRST_CURRENT: usize = WEEKS - CURRENT_WEEKS;
/// Index (0-based) of the first baseline week, week 313.
pub const FIRST_BASELINE: usize = 312;
/// Number of outbreaks injected in the baseline weeks.
pub const BASELINE_OUTBREAKS: usize = 4;
/// The multipliers baseline outbreaks draw their k from.
pub const BASELINE_K: [f64; 4] = [2.0, 3.0, 5.0, 10.0];
/// Standard deviation of the log of an outbreak case's delay in weeks (its log-mean is 0).
pub const SPREAD_SDLOG: f64 = 0.5;

/// One of the 42 scenarios of Noufaily et al. (2013), Table I.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scenario {
    /// Scenario number, 1 to 42.
    pub id: usize,
    /// Intercept θ of log μ.
    pub theta: f64,
    /// Linear trend β per week.
    pub beta: f64,
    /// Cosine coefficient γ1 of every harmonic.
    pub gamma1: f64,
    /// Sine coefficient γ2 of every harmonic.
    pub gamma2: f64,
    /// Number m of yearly harmonics (0, 1 or 2).
    pub harmonics: usize,
    /// Dispersion φ ≥ 1: variance = φ·μ (1 is Poisson).
    pub phi: f64,
}

impl Scenario {
    /// The baseline mean μ(t) of week `t` (1-based, as in the paper).
    pub fn mean(&self, t: usize) -> f64 {
        let t = t as f64;
        let mut eta = self.theta + self.beta * t;
        for j in 1..=self.harmonics {
            let angle = 2.0 * std::f64::consts::PI * j as f64 * t / 52.0;
            eta += self.gamma1 * angle.cos() + self.gamma2 * angle.sin();
        }
        eta.exp()
    }

    /// Standard deviation sqrt(φ·μ(t)) of the baseline count of week `t` (1-based).
    pub fn sd(&self, t: usize) -> f64 {
        (self.phi * self.mean(t)).sqrt()
    }
}

/// All 42 scenarios, in the paper's order.
pub fn scenarios() -> Vec<Scenario> {
    // (θ, β when trended, γ1, γ2, φ) for the seven groups.
    const GROUPS: [(f64, f64, f64, f64, f64); 7] = [
        (0.1, 0.0025, 0.6, 0.6, 1.5),
        (-2.0, 0.005, 0.1, 0.3, 2.0),
        (1.5, 0.003, 0.2, -0.4, 1.0),
        (0.5, 0.002, 0.5, 0.5, 5.0),
        (2.5, 0.001, 1.0, 0.1, 3.0),
        (3.75, 0.001, 0.1, -0.1, 1.1),
        (5.0, 0.0001, 0.05, 0.01, 1.2),
    ];
    let mut out = Vec::with_capacity(42);
    for (theta, trend, gamma1, gamma2, phi) in GROUPS {
        for beta in [0.0, trend] {
            for harmonics in 0..=2 {
                let seasonal = harmonics > 0;
                out.push(Scenario {
                    id: out.len() + 1,
                    theta,
                    beta,
                    gamma1: if seasonal { gamma1 } else { 0.0 },
                    gamma2: if seasonal { gamma2 } else { 0.0 },
                    harmonics,
                    phi,
                });
            }
        }
    }
    out
}

/// One simulated series of [`WEEKS`] weeks.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulated {
    /// Observed counts: baseline counts plus every injected outbreak case.
    pub counts: Vec<f64>,
    /// Whether the week has injected cases of the current outbreak.
    pub outbreak: Vec<bool>,
    /// Whether the week has injected cases of a baseline outbreak.
    pub baseline_outbreak: Vec<bool>,
    /// The baseline mean μ(t) of each week.
    pub mean: Vec<f64>,
    /// Injected cases of the baseline outbreaks, per week.
    pub baseline_cases: Vec<f64>,
    /// Injected cases of the current outbreak, per week.
    pub current_cases: Vec<f64>,
    /// Start weeks (0-based indexes) of the baseline outbreaks.
    pub baseline_starts: Vec<usize>,
    /// Multiplier k of each baseline outbreak.
    pub baseline_k: Vec<f64>,
    /// Drawn size of each baseline outbreak (cases past the series' end included).
    pub baseline_sizes: Vec<usize>,
    /// Start week (0-based index) of the current outbreak.
    pub current_start: usize,
    /// Drawn size of the current outbreak (cases past the series' end included).
    pub current_size: usize,
}

impl Simulated {
    /// The counts without the current outbreak's cases (what FPR is measured on).
    pub fn counts_without_current(&self) -> Vec<f64> {
        self.counts
            .iter()
            .zip(&self.current_cases)
            .map(|(c, o)| c - o)
            .collect()
    }

    /// The weeks (0-based) from the current outbreak's start to its last week with cases, or
    /// `None` when no case of it falls in the series.
    pub fn current_window(&self) -> Option<RangeInclusive<usize>> {
        let last = self.outbreak.iter().rposition(|&o| o)?;
        Some(self.current_start..=last)
    }
}

/// Simulates one series of scenario `s` whose current outbreak has multiplier `k` (k ≤ 0 or
/// not finite injects no current outbreak).
///
/// Draws happen in a fixed order (baseline counts, baseline outbreaks, then the current
/// outbreak), so two calls with equal generators and different `k` give the same series apart
/// from the current outbreak.
pub fn simulate(s: &Scenario, k: f64, rng: &mut impl Rng) -> Simulated {
    let mean: Vec<f64> = (1..=WEEKS).map(|t| s.mean(t)).collect();
    let mut counts: Vec<f64> = mean
        .iter()
        .map(|&mu| negative_binomial(rng, mu, s.phi))
        .collect();

    let mut baseline_starts = Vec::with_capacity(BASELINE_OUTBREAKS);
    while baseline_starts.len() < BASELINE_OUTBREAKS {
        let week = rng.random_range(FIRST_BASELINE..FIRST_CURRENT);
        if !baseline_starts.contains(&week) {
            baseline_starts.push(week);
        }
    }
    let mut baseline_cases = vec![0.0; WEEKS];
    let mut baseline_k = Vec::with_capacity(BASELINE_OUTBREAKS);
    let mut baseline_sizes = Vec::with_capacity(BASELINE_OUTBREAKS);
    for &start in &baseline_starts {
        let kb = BASELINE_K[rng.random_range(0..BASELINE_K.len())];
        let size = poisson(rng, kb * (s.phi * mean[start]).sqrt());
        spread(rng, size, start, &mut baseline_cases);
        baseline_k.push(kb);
        baseline_sizes.push(size as usize);
    }

    let mut current_cases = vec![0.0; WEEKS];
    let current_start = rng.random_range(FIRST_CURRENT..WEEKS);
    let current_mean = k * (s.phi * mean[current_start]).sqrt();
    let current_size = poisson(rng, current_mean);
    spread(rng, current_size, current_start, &mut current_cases);

    for ((c, b), o) in counts.iter_mut().zip(&baseline_cases).zip(&current_cases) {
        *c += b + o;
    }
    Simulated {
        counts,
        outbreak: current_cases.iter().map(|&c| c > 0.0).collect(),
        baseline_outbreak: baseline_cases.iter().map(|&c| c > 0.0).collect(),
        mean,
        baseline_cases,
        current_cases,
        baseline_starts,
        baseline_k,
        baseline_sizes,
        current_start,
        current_size: current_size as usize,
    }
}

/// Adds `size` cases starting at week `start`, each `⌊lognormal(0, 0.5)⌋` weeks later; cases
/// past the end of `cases` are dropped.
fn spread(rng: &mut impl Rng, size: u64, start: usize, cases: &mut [f64]) {
    for _ in 0..size {
        let delay = (SPREAD_SDLOG * standard_normal(rng)).exp().floor();
        // Delays are small (P(delay ≥ 10) < 1e-5); the cast saturates on anything absurd.
        let week = start.saturating_add(delay as usize);
        if let Some(c) = cases.get_mut(week) {
            *c += 1.0;
        }
    }
}

/// The score of one detector on one scenario, as in the paper.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Scenario number.
    pub scenario: usize,
    /// The detector's method name.
    pub method: String,
    /// Share of current weeks, on series without the current outbreak, that raised an alarm.
    pub fpr: f64,
    /// Share of current outbreaks with at least one alarm during them (NaN when no replicate
    /// had a current outbreak with cases in the series).
    pub pod: f64,
    /// Number of simulated series.
    pub replicates: usize,
    /// Number of series whose current outbreak had cases in the series (POD's denominator).
    pub outbreaks: usize,
    /// The current outbreak's multiplier k.
    pub k: f64,
}

/// Scores `detector` on `replicates` series of `scenario` (the paper used 100) whose current
/// outbreaks have multiplier `k`.
///
/// Replicate `r` draws from a ChaCha8 generator seeded with `seed` on stream `r`, so the result
/// does not depend on how rayon schedules the replicates, and equal seeds give the same
/// baseline series for every `k` and every detector.
pub fn evaluate(
    scenario: &Scenario,
    detector: &dyn Detector,
    replicates: usize,
    seed: u64,
    k: f64,
) -> Result<Outcome, DetectError> {
    let start = NaiveDate::from_ymd_opt(2000, 1, 3).unwrap_or_default();
    let date = |i: usize| start + chrono::Duration::days(7 * i as i64);
    let results: Vec<Result<Score, DetectError>> = (0..replicates)
        .into_par_iter()
        .map(|r| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(r as u64);
            let sim = simulate(scenario, k, &mut rng);
            let first = Some(date(FIRST_CURRENT));

            let quiet = Series::regular(
                "sim",
                start,
                Frequency::Weekly,
                sim.counts_without_current().into_iter().map(Some).collect(),
            );
            let evals = crate::run(detector, &quiet, first, None)?;
            let current = evals.iter().filter(|e| e.index >= FIRST_CURRENT);
            let weeks = current.clone().count();
            let false_alarms = current.filter(|e| e.alarm).count();

            let detected = match sim.current_window() {
                None => None,
                Some(window) => {
                    let end = *window.end();
                    let series = Series::regular(
                        "sim",
                        start,
                        Frequency::Weekly,
                        sim.counts.into_iter().map(Some).collect(),
                    );
                    let evals = crate::run(detector, &series, first, Some(date(end)))?;
                    Some(evals.iter().any(|e| window.contains(&e.index) && e.alarm))
                }
            };
            Ok(Score {
                weeks,
                false_alarms,
                detected,
            })
        })
        .collect();

    let (mut weeks, mut false_alarms, mut outbreaks, mut detected) = (0, 0, 0, 0);
    for result in results {
        let score = result?;
        weeks += score.weeks;
        false_alarms += score.false_alarms;
        if let Some(d) = score.detected {
            outbreaks += 1;
            detected += usize::from(d);
        }
    }
    let ratio = |a: usize, b: usize| {
        if b == 0 {
            f64::NAN
        } else {
            a as f64 / b as f64
        }
    };
    Ok(Outcome {
        scenario: scenario.id,
        method: detector.method().to_owned(),
        fpr: ratio(false_alarms, weeks),
        pod: ratio(detected, outbreaks),
        replicates,
        outbreaks,
        k,
    })
}

/// What one replicate contributes to an [`Outcome`].
struct Score {
    weeks: usize,
    false_alarms: usize,
    detected: Option<bool>,
}

// ----- Sampling -------------------------------------------------------------------------------
//
// statrs 0.19 samples through rand 0.10 while this workspace uses rand 0.9, so the few
// distributions needed are drawn here.

/// A uniform draw in (0, 1].
fn open_uniform(rng: &mut impl Rng) -> f64 {
    1.0 - rng.random::<f64>()
}

/// A standard normal draw (Box–Muller, one of the pair).
fn standard_normal(rng: &mut impl Rng) -> f64 {
    let u1 = open_uniform(rng);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// A Gamma(shape, scale 1) draw (Marsaglia & Tsang 2000; shape < 1 boosted by U^(1/shape)).
fn gamma(rng: &mut impl Rng, shape: f64) -> f64 {
    if shape.is_nan() || shape <= 0.0 || shape.is_infinite() {
        return 0.0;
    }
    if shape < 1.0 {
        let boosted = gamma(rng, shape + 1.0);
        return boosted * (open_uniform(rng).ln() / shape).exp();
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = standard_normal(rng);
        let v = 1.0 + c * x;
        if v <= 0.0 {
            continue;
        }
        let v = v * v * v;
        let u = open_uniform(rng);
        let x2 = x * x;
        if u < 1.0 - 0.0331 * x2 * x2 || u.ln() < 0.5 * x2 + d * (1.0 - v + v.ln()) {
            return d * v;
        }
    }
}

/// A Poisson(mean) draw: inversion below mean 10, Hörmann's PTRS (1993) above. A mean that is
/// not a positive finite number gives 0.
pub fn poisson(rng: &mut impl Rng, mean: f64) -> u64 {
    if mean.is_nan() || mean <= 0.0 || mean.is_infinite() {
        return 0;
    }
    if mean < 10.0 {
        let u: f64 = rng.random();
        let mut p = (-mean).exp();
        let mut cdf = p;
        let mut k = 0u64;
        // The bound only guards against rounding leaving `cdf` just below `u` forever.
        while u > cdf && k < 1000 {
            k += 1;
            p *= mean / k as f64;
            cdf += p;
        }
        return k;
    }
    let slam = mean.sqrt();
    let loglam = mean.ln();
    let b = 0.931 + 2.53 * slam;
    let a = -0.059 + 0.02483 * b;
    let inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
    let vr = 0.9277 - 3.6224 / (b - 2.0);
    loop {
        let u = rng.random::<f64>() - 0.5;
        let v: f64 = rng.random();
        let us = 0.5 - u.abs();
        let k = ((2.0 * a / us + b) * u + mean + 0.43).floor();
        if us >= 0.07 && v <= vr {
            return k as u64;
        }
        if k < 0.0 || (us < 0.013 && v > us) {
            continue;
        }
        let lhs = v.ln() + inv_alpha.ln() - (a / (us * us) + b).ln();
        if lhs <= -mean + k * loglam - ln_gamma(k + 1.0) {
            return k as u64;
        }
    }
}

/// A count with mean `mu` and variance `phi · mu`: Poisson when φ = 1, otherwise a
/// Gamma(μ/(φ−1), scale φ−1) mixture of Poissons (a negative binomial).
pub fn negative_binomial(rng: &mut impl Rng, mu: f64, phi: f64) -> f64 {
    if phi <= 1.0 {
        return poisson(rng, mu) as f64;
    }
    let rate = gamma(rng, mu / (phi - 1.0)) * (phi - 1.0);
    poisson(rng, rate) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Evaluation;

    fn rng(seed: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(seed)
    }

    /// Sample mean and variance.
    fn moments(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, var)
    }

    /// Asserts that `xs` has mean `mean` and variance `var`, each within five standard errors
    /// (the variance's estimated from the sample's fourth moment).
    fn assert_moments(xs: &[f64], mean: f64, var: f64, what: &str) {
        let n = xs.len() as f64;
        let (m, v) = moments(xs);
        let m4 = xs.iter().map(|x| (x - m).powi(4)).sum::<f64>() / n;
        let se_mean = (var / n).sqrt();
        let se_var = ((m4 - v * v) / n).sqrt();
        assert!(
            (m - mean).abs() < 5.0 * se_mean,
            "{what}: mean {m}, expected {mean}"
        );
        assert!(
            (v - var).abs() < 5.0 * se_var,
            "{what}: variance {v}, expected {var}"
        );
    }

    #[test]
    fn forty_two_scenarios_in_the_papers_order() {
        let all = scenarios();
        assert_eq!(all.len(), 42);
        for (i, s) in all.iter().enumerate() {
            assert_eq!(s.id, i + 1);
            assert_eq!(s.harmonics, i % 3);
            assert_eq!(s.beta == 0.0, i % 6 < 3, "scenario {}", s.id);
            if s.harmonics == 0 {
                assert_eq!((s.gamma1, s.gamma2), (0.0, 0.0));
            }
            assert!(s.phi >= 1.0);
        }
        // Saratoon's "Scenario 14 in Noufaily et al.".
        let s14 = all[13];
        assert_eq!(
            (
                s14.theta,
                s14.beta,
                s14.harmonics,
                s14.gamma1,
                s14.gamma2,
                s14.phi
            ),
            (1.5, 0.0, 1, 0.2, -0.4, 1.0)
        );
        let s12 = all[11];
        assert_eq!(
            (s12.theta, s12.beta, s12.harmonics, s12.phi),
            (-2.0, 0.005, 2, 2.0)
        );
        let s42 = all[41];
        assert_eq!(
            (s42.theta, s42.beta, s42.gamma1, s42.gamma2, s42.phi),
            (5.0, 0.0001, 0.05, 0.01, 1.2)
        );
    }

    #[test]
    fn mean_follows_the_harmonic_formula() {
        let s = scenarios()[29]; // θ 2.5, β 0.001, γ (1, 0.1), m 2
        let t = 10.0_f64;
        let w = 2.0 * std::f64::consts::PI * t / 52.0;
        let expected = (2.5
            + 0.001 * t
            + (w.cos() + 0.1 * w.sin())
            + ((2.0 * w).cos() + 0.1 * (2.0 * w).sin()))
        .exp();
        assert!((s.mean(10) - expected).abs() < 1e-12 * expected);
        assert!((s.sd(10) - (3.0 * expected).sqrt()).abs() < 1e-9);
    }

    #[test]
    fn gamma_has_its_mean_and_variance() {
        let mut r = rng(1);
        for shape in [0.07, 0.4, 1.0, 2.5, 40.0] {
            let n = 200_000;
            let xs: Vec<f64> = (0..n).map(|_| gamma(&mut r, shape)).collect();
            assert_moments(&xs, shape, shape, &format!("gamma({shape})"));
            assert!(xs.iter().all(|&x| x >= 0.0 && x.is_finite()));
        }
    }

    #[test]
    fn poisson_has_its_mean_and_variance() {
        let mut r = rng(2);
        for mean in [0.05, 0.8, 4.0, 9.99, 10.0, 25.0, 180.0, 3000.0] {
            let n = 200_000;
            let xs: Vec<f64> = (0..n).map(|_| poisson(&mut r, mean) as f64).collect();
            assert_moments(&xs, mean, mean, &format!("poisson({mean})"));
        }
        // The probability of 0 checks the shape, not just two moments.
        let zeros = (0..100_000).filter(|_| poisson(&mut r, 2.0) == 0).count() as f64 / 1e5;
        assert!((zeros - (-2.0f64).exp()).abs() < 0.005, "P(0) {zeros}");
        assert_eq!(poisson(&mut r, 0.0), 0);
        assert_eq!(poisson(&mut r, f64::NAN), 0);
    }

    #[test]
    fn poisson_follows_the_exact_cdf() {
        use statrs::distribution::{DiscreteCDF, Poisson};
        let mut r = rng(5);
        let n = 100_000;
        for mean in [3.0, 10.0, 25.0, 180.0] {
            let exact = Poisson::new(mean).unwrap();
            let xs: Vec<u64> = (0..n).map(|_| poisson(&mut r, mean)).collect();
            for z in [-2.0, -1.0, 0.0, 1.0, 2.0] {
                let q = (mean + z * mean.sqrt()).floor() as u64;
                let p = exact.cdf(q);
                let share = xs.iter().filter(|&&x| x <= q).count() as f64 / n as f64;
                let se = (p * (1.0 - p) / n as f64).sqrt();
                assert!(
                    (share - p).abs() < 5.0 * se,
                    "mean {mean}: P(X ≤ {q}) {share} vs {p}"
                );
            }
        }
    }

    #[test]
    fn counts_have_mean_mu_and_variance_phi_mu() {
        let mut r = rng(3);
        for (mu, phi) in [
            (0.14, 2.0),
            (1.1, 1.5),
            (4.5, 1.0),
            (1.6, 5.0),
            (12.0, 3.0),
            (150.0, 1.2),
        ] {
            let n = 200_000;
            let xs: Vec<f64> = (0..n).map(|_| negative_binomial(&mut r, mu, phi)).collect();
            assert_moments(&xs, mu, phi * mu, &format!("μ {mu} φ {phi}"));
        }
    }

    #[test]
    fn simulated_baseline_matches_the_scenario() {
        // Over many replicates, the counts minus injected cases have mean μ(t) and variance
        // φ·μ(t) in every scenario group (trend, seasonality and dispersion included).
        for id in [6, 12, 17, 24, 30, 35, 41] {
            let s = scenarios()[id - 1];
            let mut r = rng(id as u64);
            // Standardised residuals (y − μ)/sqrt(φμ) have mean 0 and variance 1.
            let mut z = Vec::new();
            for _ in 0..100 {
                let sim = simulate(&s, 3.0, &mut r);
                for t in 0..WEEKS {
                    let base = sim.counts[t] - sim.baseline_cases[t] - sim.current_cases[t];
                    assert!(base >= 0.0 && base.fract() == 0.0);
                    let mu = sim.mean[t];
                    assert!((mu - s.mean(t + 1)).abs() < 1e-12 * mu);
                    z.push((base - mu) / (s.phi * mu).sqrt());
                }
            }
            assert_moments(&z, 0.0, 1.0, &format!("scenario {id}"));
        }
    }

    #[test]
    fn outbreaks_land_where_and_as_large_as_designed() {
        let s = scenarios()[40]; // θ 5: large counts, so sizes are never 0
        let mut r = rng(4);
        let k = 6.0;
        let (mut size_sum, mut expected_sum) = (0.0, 0.0);
        let mut by_delay = [0.0f64; 4];
        let mut cases = 0.0;
        for _ in 0..300 {
            let sim = simulate(&s, k, &mut r);
            // Baseline outbreaks: four distinct starts in weeks 313–575, k from the set.
            assert_eq!(sim.baseline_starts.len(), 4);
            let mut starts = sim.baseline_starts.clone();
            starts.sort_unstable();
            starts.dedup();
            assert_eq!(starts.len(), 4);
            assert!(
                starts
                    .iter()
                    .all(|&w| (FIRST_BASELINE..FIRST_CURRENT).contains(&w))
            );
            assert!(sim.baseline_k.iter().all(|k| BASELINE_K.contains(k)));
            let first = starts[0];
            assert!(sim.baseline_cases[..first].iter().all(|&c| c == 0.0));
            assert_eq!(
                sim.baseline_cases.iter().sum::<f64>() as usize,
                sim.baseline_sizes.iter().sum::<usize>()
            );
            // The current outbreak starts in the last 49 weeks; its cases follow the start.
            assert!((FIRST_CURRENT..WEEKS).contains(&sim.current_start));
            assert!(
                sim.current_cases[..sim.current_start]
                    .iter()
                    .all(|&c| c == 0.0)
            );
            let injected = sim.current_cases.iter().sum::<f64>();
            assert!(injected <= sim.current_size as f64);
            if sim.current_start + 10 < WEEKS {
                assert_eq!(injected, sim.current_size as f64);
                for (d, slot) in by_delay.iter_mut().enumerate() {
                    *slot += sim.current_cases[sim.current_start + d];
                }
                cases += injected;
            }
            for t in 0..WEEKS {
                assert_eq!(sim.outbreak[t], sim.current_cases[t] > 0.0);
                assert_eq!(sim.baseline_outbreak[t], sim.baseline_cases[t] > 0.0);
            }
            let without = sim.counts_without_current();
            for ((w, c), y) in without.iter().zip(&sim.current_cases).zip(&sim.counts) {
                assert_eq!(w + c, *y);
            }
            if let Some(w) = sim.current_window() {
                assert_eq!(*w.start(), sim.current_start);
                assert!(sim.outbreak[*w.end()]);
                assert!(sim.outbreak[*w.end() + 1..].iter().all(|&o| !o));
            }
            size_sum += sim.current_size as f64;
            expected_sum += k * s.sd(sim.current_start + 1);
        }
        // Size: Poisson with mean k·sd at the start week.
        assert!(
            (size_sum / expected_sum - 1.0).abs() < 0.02,
            "{size_sum} vs {expected_sum}"
        );
        // Spread: ⌊lognormal(0, 0.5)⌋ puts 50 %, 41.7 %, 6.9 %, 1.1 % of the cases in delays
        // 0–3 (R: diff(plnorm(0:4, 0, 0.5))). Cases of one outbreak are independent draws.
        let shares: Vec<f64> = by_delay.iter().map(|c| c / cases).collect();
        for (share, p) in shares.iter().zip([0.5, 0.417171, 0.068826, 0.011222]) {
            let se = (p * (1.0 - p) / cases).sqrt();
            assert!((share - p).abs() < 5.0 * se, "shares {shares:?}");
        }
    }

    #[test]
    fn no_current_outbreak_without_k_and_same_series_for_every_k() {
        let s = scenarios()[20];
        let a = simulate(&s, 0.0, &mut rng(9));
        assert_eq!(a.current_size, 0);
        assert!(a.outbreak.iter().all(|&o| !o));
        assert_eq!(a.current_window(), None);
        let b = simulate(&s, 8.0, &mut rng(9));
        assert_eq!(a.counts, b.counts_without_current());
        assert_eq!(a.current_start, b.current_start);
    }

    /// Alarms everywhere or nowhere.
    struct Constant(bool);

    impl Detector for Constant {
        fn method(&self) -> &'static str {
            if self.0 { "always" } else { "never" }
        }
        fn describe(&self) -> String {
            String::new()
        }
        fn first_index(&self, _: &Series) -> Result<usize, DetectError> {
            Ok(0)
        }
        fn evaluate(
            &self,
            _: &Series,
            range: RangeInclusive<usize>,
        ) -> Result<Vec<Evaluation>, DetectError> {
            Ok(range
                .map(|i| Evaluation {
                    alarm: self.0,
                    ..Evaluation::at(i)
                })
                .collect())
        }
    }

    /// Alarms when a count exceeds the mean plus two standard deviations of the 52 weeks before.
    struct Shewhart;

    impl Detector for Shewhart {
        fn method(&self) -> &'static str {
            "shewhart"
        }
        fn describe(&self) -> String {
            "window=52".into()
        }
        fn first_index(&self, _: &Series) -> Result<usize, DetectError> {
            Ok(52)
        }
        fn evaluate(
            &self,
            series: &Series,
            range: RangeInclusive<usize>,
        ) -> Result<Vec<Evaluation>, DetectError> {
            let y: Vec<f64> = series.counts().iter().map(|c| c.unwrap_or(0.0)).collect();
            Ok(range
                .map(|i| {
                    let (m, v) = moments(&y[i - 52..i]);
                    Evaluation {
                        alarm: y[i] > m + 2.0 * v.sqrt(),
                        ..Evaluation::at(i)
                    }
                })
                .collect())
        }
    }

    /// Needs more history than a series has.
    struct Greedy;

    impl Detector for Greedy {
        fn method(&self) -> &'static str {
            "greedy"
        }
        fn describe(&self) -> String {
            String::new()
        }
        fn first_index(&self, _: &Series) -> Result<usize, DetectError> {
            Ok(600)
        }
        fn evaluate(
            &self,
            _: &Series,
            range: RangeInclusive<usize>,
        ) -> Result<Vec<Evaluation>, DetectError> {
            Ok(range.map(Evaluation::at).collect())
        }
    }

    #[test]
    fn always_alarming_scores_one_and_never_alarming_zero() {
        let s = scenarios()[38];
        let yes = evaluate(&s, &Constant(true), 30, 7, 4.0).unwrap();
        assert_eq!((yes.fpr, yes.pod), (1.0, 1.0));
        assert_eq!(
            (yes.scenario, yes.method.as_str(), yes.replicates),
            (39, "always", 30)
        );
        assert!(yes.outbreaks > 20, "{yes:?}");
        let no = evaluate(&s, &Constant(false), 30, 7, 4.0).unwrap();
        assert_eq!((no.fpr, no.pod), (0.0, 0.0));
        assert_eq!(no.outbreaks, yes.outbreaks);
    }

    #[test]
    fn same_seed_same_outcome() {
        let s = scenarios()[15];
        let a = evaluate(&s, &Shewhart, 40, 11, 5.0).unwrap();
        let b = evaluate(&s, &Shewhart, 40, 11, 5.0).unwrap();
        assert_eq!(a, b);
        // A real detector scores in between, and bigger outbreaks are found more often.
        assert!(a.fpr > 0.0 && a.fpr < 0.2, "{a:?}");
        let small = evaluate(&s, &Shewhart, 40, 11, 1.0).unwrap();
        assert_eq!(small.fpr, a.fpr, "FPR does not depend on k");
        assert!(a.pod > small.pod, "{a:?} vs {small:?}");
        let other = evaluate(&s, &Shewhart, 40, 12, 5.0).unwrap();
        assert_ne!(a, other);
    }

    #[test]
    fn a_detector_without_enough_history_is_an_error() {
        let s = scenarios()[0];
        let err = evaluate(&s, &Greedy, 3, 1, 2.0).unwrap_err();
        assert!(
            matches!(err, DetectError::NotEnoughHistory { needed: 600, .. }),
            "{err:?}"
        );
    }
}
