//! EARS C1, C2 and C3 (CDC's Early Aberration Reporting System), as R's
//! `surveillance::earsC`.
//!
//! For each period `t`, a baseline of `baseline` earlier counts gives a mean `m` and a standard
//! deviation `s` (raised to `min_sigma` when smaller). With `z` the standard normal quantile of
//! `1 - alpha`:
//!
//! - **C1**: the baseline is the `baseline` periods just before `t`; the threshold is
//!   `m + z·s`.
//! - **C2**: the same, but the baseline ends two periods before `t` (a guard band of two); the
//!   threshold is again `m + z·s`. The C2 statistic of period `i` is `C2ᵢ = (xᵢ - mᵢ)/sᵢ`.
//! - **C3**: built on the C2 statistics of `t`, `t-1` and `t-2`. The two parameter sets differ
//!   here:
//!   - `compat=published` (the default) follows Hutwagner et al. (2003, J. Urban Health 80
//!     suppl. 1): `C3ₜ = Σ_{i=t-2..t} max(0, C2ᵢ - 1)`, and the period alarms when `C3ₜ > z`.
//!     Writing `S = max(0, C2ₜ₋₁ - 1) + max(0, C2ₜ₋₂ - 1)`, the count that would alarm is the
//!     threshold `mₜ + sₜ·(1 + z - S)` (clamped at 0; when `S > z` already, any positive count
//!     alarms and the threshold is 0, the same convention as R, which never lets a zero count
//!     alarm). When a baseline has no spread (`s = 0`), a count above its mean has an infinite
//!     C2 and a count at or below it contributes nothing.
//!   - `compat=surveillance` reproduces R 1.20.3 exactly, whose sum leaves the current period
//!     out: the threshold is `xₜ + sₜ·(z - S)` clamped at 0, so that the alarm (`xₜ` above the
//!     threshold) only depends on whether the two previous periods' excesses `S` exceed `z`, not
//!     on the current count (unless the threshold was clamped to 0). IEEE arithmetic is kept as
//!     R has it: with `s = 0`, C2 is infinite or undefined (0/0), and an undefined value makes
//!     the threshold missing and the alarm R's `NA` (reported as no alarm).
//!
//! The default `alpha` is R's: 0.001 for C1 and C2, 0.025 for C3 (R's `earsC` switches to 0.025
//! when C3 is asked for without an `alpha`).
//!
//! A missing count inside a baseline makes that period's threshold missing (as R's `mean` and
//! `sd` without `na.rm`); a missing current count gives no alarm (R: `NA`).
//!
//! Works on daily and weekly series alike: EARS is mostly run on daily syndromic counts. The
//! baseline's sums are kept running (exact for whole counts), so a period costs a few
//! operations and nothing is allocated per period.

use std::ops::RangeInclusive;

use statrs::distribution::{ContinuousCDF, Normal};

use crate::{DetectError, Detector, Evaluation, ParamError, Params, Series, invalid};

/// Which EARS statistic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Baseline just before the period.
    C1,
    /// Baseline with a two-period guard band.
    C2,
    /// Sum of three consecutive C2 excesses.
    C3,
}

impl Variant {
    fn as_str(self) -> &'static str {
        match self {
            Variant::C1 => "C1",
            Variant::C2 => "C2",
            Variant::C3 => "C3",
        }
    }
}

/// Whose C3 rule to follow (C1 and C2 are the same under both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compat {
    /// Hutwagner et al. (2003): the C3 sum includes the current period.
    Published,
    /// R `surveillance` 1.20.3's `earsC`, reproduced exactly.
    Surveillance,
}

impl Compat {
    fn as_str(self) -> &'static str {
        match self {
            Compat::Published => "published",
            Compat::Surveillance => "surveillance",
        }
    }
}

/// EARS C1/C2/C3 with its resolved control.
#[derive(Debug, Clone)]
pub struct Ears {
    variant: Variant,
    alpha: f64,
    baseline: usize,
    min_sigma: f64,
    compat: Compat,
    z: f64,
}

impl Ears {
    /// Reads `variant` (C1, C2, C3), `alpha`, `baseline` (≥ 3), `min_sigma` (≥ 0) and `compat`
    /// (`published`, `surveillance`).
    pub fn from_params(params: &mut Params) -> Result<Ears, ParamError> {
        let variant = params.choice(
            "variant",
            &[
                ("C1", Variant::C1),
                ("C2", Variant::C2),
                ("C3", Variant::C3),
            ],
            Variant::C1,
        )?;
        let default_alpha = if variant == Variant::C3 { 0.025 } else { 0.001 };
        let alpha = params.probability("alpha", default_alpha)?;
        let baseline = params.count("baseline", 7, 3)?;
        let min_sigma = params.number("min_sigma", 0.0)?;
        if min_sigma < 0.0 {
            return Err(invalid("min_sigma", &min_sigma, "a number ≥ 0"));
        }
        let compat = params.choice(
            "compat",
            &[
                ("published", Compat::Published),
                ("surveillance", Compat::Surveillance),
            ],
            Compat::Published,
        )?;
        let z = Normal::standard().inverse_cdf(1.0 - alpha);
        Ok(Ears {
            variant,
            alpha,
            baseline,
            min_sigma,
            compat,
            z,
        })
    }

    /// Periods between the start of the baseline and the evaluated period (R's `maxLag`).
    fn max_lag(&self) -> usize {
        match self.variant {
            Variant::C1 => self.baseline,
            Variant::C2 => self.baseline + 2,
            Variant::C3 => self.baseline + 4,
        }
    }

    /// Gap between the end of the baseline and the period it serves.
    fn guard(&self) -> usize {
        match self.variant {
            Variant::C1 => 0,
            Variant::C2 | Variant::C3 => 2,
        }
    }
}

impl Detector for Ears {
    fn method(&self) -> &'static str {
        "ears"
    }

    fn describe(&self) -> String {
        format!(
            "variant={};alpha={};baseline={};min_sigma={};compat={}",
            self.variant.as_str(),
            self.alpha,
            self.baseline,
            self.min_sigma,
            self.compat.as_str()
        )
    }

    fn first_index(&self, _series: &Series) -> Result<usize, DetectError> {
        Ok(self.max_lag())
    }

    fn evaluate(
        &self,
        series: &Series,
        range: RangeInclusive<usize>,
    ) -> Result<Vec<Evaluation>, DetectError> {
        let counts = series.counts();
        let Some((start, end)) = crate::checked_range(self, series, range)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(end - start + 1);
        let guard = self.guard();
        // C3 needs the C2 statistics of the two periods before the first evaluated one.
        let lead = if self.variant == Variant::C3 { 2 } else { 0 };
        let first = start - lead;
        let mut window = Baseline::new(counts, self.baseline, first - guard - self.baseline);
        // C2 excess terms of t-2 and t-1 (C3 only).
        let mut lag2 = f64::NAN;
        let mut lag1 = f64::NAN;
        for (t, &x) in counts.iter().enumerate().take(end + 1).skip(first) {
            let stats = window.stats();
            window.advance();
            let Some((mean, sd)) = stats else {
                if self.variant == Variant::C3 {
                    (lag2, lag1) = (lag1, f64::NAN);
                }
                if t >= start {
                    out.push(Evaluation::at(t));
                }
                continue;
            };
            let sigma = sd.max(self.min_sigma);
            match self.variant {
                Variant::C1 | Variant::C2 => {
                    let upper = mean + self.z * sigma;
                    let mut e = Evaluation::at(t);
                    e.expected = Some(mean);
                    e.upperbound = finite(upper);
                    e.alarm = matches!(x, Some(x) if x > upper);
                    e.score = x.and_then(|x| finite((x - mean) / sigma));
                    out.push(e);
                }
                Variant::C3 => {
                    let excess = match self.compat {
                        Compat::Surveillance => {
                            x.map_or(f64::NAN, |x| r_pmax0((x - mean) / sigma - 1.0))
                        }
                        Compat::Published => x.map_or(f64::NAN, |x| {
                            if sigma > 0.0 {
                                ((x - mean) / sigma - 1.0).max(0.0)
                            } else if x > mean {
                                f64::INFINITY
                            } else {
                                0.0
                            }
                        }),
                    };
                    if t >= start {
                        let s = lag2 + lag1;
                        let mut e = Evaluation::at(t);
                        e.expected = Some(mean);
                        match self.compat {
                            Compat::Surveillance => {
                                let upper =
                                    x.map_or(f64::NAN, |x| r_pmax0(x + sigma * (self.z - s)));
                                e.upperbound = (!upper.is_nan()).then_some(upper);
                                e.alarm = matches!(x, Some(x) if x > upper);
                                e.score = finite(s);
                            }
                            Compat::Published if s.is_nan() => {}
                            Compat::Published => {
                                let upper = if s > self.z {
                                    0.0
                                } else {
                                    (mean + sigma * (1.0 + self.z - s)).max(0.0)
                                };
                                e.upperbound = Some(upper);
                                e.alarm = matches!(x, Some(x) if x > upper);
                                e.score = finite(s + excess);
                            }
                        }
                        out.push(e);
                    }
                    (lag2, lag1) = (lag1, excess);
                }
            }
        }
        Ok(out)
    }
}

/// `Some(v)` when `v` is finite.
fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// R's `pmax(0, v)`: an undefined value stays undefined.
fn r_pmax0(v: f64) -> f64 {
    if v.is_nan() { v } else { v.max(0.0) }
}

/// A sliding window of `len` counts with running sums.
///
/// The sums of whole counts are exact in `f64` (below 2⁵³), so the running mean and variance
/// equal the two-pass ones; when a count is fractional the window's moments are recomputed in
/// two passes instead, which keeps R's precision at a small cost.
struct Baseline<'a> {
    counts: &'a [Option<f64>],
    len: usize,
    /// Index of the window's first count.
    from: usize,
    sum: f64,
    sum_sq: f64,
    missing: usize,
    exact: bool,
}

impl<'a> Baseline<'a> {
    fn new(counts: &'a [Option<f64>], len: usize, from: usize) -> Baseline<'a> {
        // n·Σc² and (Σc)² stay below 2⁵³ when (n·max)² does.
        let max = counts.iter().flatten().fold(0.0_f64, |a, &c| a.max(c));
        let exact = counts.iter().flatten().all(|c| c.fract() == 0.0)
            && (len as f64 * max).powi(2) < 9.0e15;
        let mut window = Baseline {
            counts,
            len,
            from,
            sum: 0.0,
            sum_sq: 0.0,
            missing: 0,
            exact,
        };
        for c in &counts[from..from + len] {
            window.add(*c, 1.0);
        }
        window
    }

    fn add(&mut self, c: Option<f64>, sign: f64) {
        match c {
            Some(c) => {
                self.sum += sign * c;
                self.sum_sq += sign * c * c;
            }
            None if sign > 0.0 => self.missing += 1,
            None => self.missing -= 1,
        }
    }

    /// Mean and standard deviation of the window, `None` when a count is missing.
    fn stats(&self) -> Option<(f64, f64)> {
        if self.missing > 0 {
            return None;
        }
        let n = self.len as f64;
        if self.exact {
            let mean = self.sum / n;
            let var = (n * self.sum_sq - self.sum * self.sum) / (n * (n - 1.0));
            return Some((mean, var.max(0.0).sqrt()));
        }
        let window = &self.counts[self.from..self.from + self.len];
        let mean = window.iter().flatten().sum::<f64>() / n;
        let ss: f64 = window
            .iter()
            .flatten()
            .map(|c| (c - mean) * (c - mean))
            .sum();
        Some((mean, (ss / (n - 1.0)).sqrt()))
    }

    /// Slides the window one period later (when the series has a count there).
    fn advance(&mut self) {
        let next = self.from + self.len;
        if next >= self.counts.len() {
            return;
        }
        if self.exact {
            self.add(self.counts[self.from], -1.0);
            self.add(self.counts[next], 1.0);
        } else {
            self.missing -= usize::from(self.counts[self.from].is_none());
            self.missing += usize::from(self.counts[next].is_none());
        }
        self.from += 1;
    }
}
