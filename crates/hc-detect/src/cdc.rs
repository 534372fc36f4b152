//! CDC's historical limits method (Stroup et al. 1989) as R's `surveillance::algo.cdc`, on
//! weekly data.
//!
//! Counts are compared in blocks of four weeks ("months"): the current block is the sum of the
//! period and the three weeks before it. For each of the `b` previous years, the `2m + 1`
//! four-week blocks around the same week of that year (weeks `t - 52i - 4m - 3 ..= t - 52i + 4m`,
//! cut into consecutive blocks of four) give `(2m + 1)·b` historical block totals, truncated to
//! whole numbers as R's `as.integer` does. With their mean `x̄` and standard deviation `s`, the
//! threshold is `x̄ + z·s·√(1 + 1/n)`, `z` the standard normal quantile of `1 - alpha/2`, and the
//! period alarms when its four-week total is above it. The threshold is on the four-week scale;
//! `expected` is `x̄` and `score` the current four-week total. A missing count in any block
//! leaves the threshold missing and raises no alarm (R: `NA`).
//!
//! R defaults: `b=5`, `m=1`, `alpha=0.025`. R's own check of the history (`t - 52b - 4m ≥ 1`)
//! lets through three periods whose earliest block would start before the series (R then
//! indexes outside it); the first period evaluated here is the first whose blocks are all in
//! the series, period `52b + 4m + 3` (0-based).

use std::ops::RangeInclusive;

use statrs::distribution::{ContinuousCDF, Normal};

use crate::{DetectError, Detector, Evaluation, Frequency, ParamError, Params, Series, invalid};

/// Weeks in a year, as R's weekly `sts` objects count them.
const WEEKS: usize = 52;

/// The historical limits method with its resolved control.
#[derive(Debug, Clone)]
pub struct Cdc {
    b: usize,
    m: usize,
    alpha: f64,
    z: f64,
}

impl Cdc {
    /// Reads `b` (5 years, ≥ 1), `m` (1 block either side, 0 to 6) and `alpha` (0.025).
    pub fn from_params(params: &mut Params) -> Result<Cdc, ParamError> {
        let b = params.count("b", 5, 1)?;
        let m = params.count("m", 1, 0)?;
        // The 2m + 1 blocks of one year must not reach into the next one.
        if 4 * (2 * m + 1) > WEEKS {
            return Err(invalid("m", &m, "a whole number from 0 to 6"));
        }
        if (2 * m + 1) * b < 2 {
            return Err(invalid(
                "b",
                &b,
                "at least 2 when m=0 (a standard deviation needs two blocks)",
            ));
        }
        let alpha = params.probability("alpha", 0.025)?;
        let z = Normal::standard().inverse_cdf(1.0 - alpha / 2.0);
        Ok(Cdc { b, m, alpha, z })
    }
}

impl Detector for Cdc {
    fn method(&self) -> &'static str {
        "cdc"
    }

    fn describe(&self) -> String {
        format!("b={};m={};alpha={}", self.b, self.m, self.alpha)
    }

    fn first_index(&self, series: &Series) -> Result<usize, DetectError> {
        if series.frequency() != Frequency::Weekly {
            return Err(DetectError::Frequency {
                method: "cdc",
                supported: "weekly",
                frequency: series.frequency(),
            });
        }
        Ok(WEEKS * self.b + 4 * self.m + 3)
    }

    fn evaluate(
        &self,
        series: &Series,
        range: RangeInclusive<usize>,
    ) -> Result<Vec<Evaluation>, DetectError> {
        let Some((start, end)) = crate::checked_range(self, series, range)? else {
            return Ok(Vec::new());
        };
        let counts = series.counts();
        let blocks_per_year = 2 * self.m + 1;
        let n = (blocks_per_year * self.b) as f64;
        // Sum of the four weeks ending at `last`, `None` when one is missing.
        let block = |last: usize| -> Option<f64> {
            counts[last - 3..=last]
                .iter()
                .try_fold(0.0, |acc, c| c.map(|c| acc + c))
        };
        let mut out = Vec::with_capacity(end - start + 1);
        for t in start..=end {
            let mut e = Evaluation::at(t);
            let current = block(t);
            e.score = current;
            // Historical block totals (the last week of each block), oldest year first as R
            // orders them; a second pass gives R's two-pass variance.
            let ends = || {
                (1..=self.b).rev().flat_map(move |i| {
                    let centre = t - WEEKS * i;
                    (0..blocks_per_year).map(move |j| centre + 4 * j - 4 * self.m)
                })
            };
            let sum = ends().try_fold(0.0, |acc, last| block(last).map(|v| acc + v.trunc()));
            if let Some(sum) = sum {
                let mean = sum / n;
                let sum_sq: f64 = ends()
                    .map(|last| {
                        let v = block(last).unwrap_or(0.0).trunc();
                        (v - mean) * (v - mean)
                    })
                    .sum();
                let sd = (sum_sq / (n - 1.0)).sqrt();
                let upper = mean + self.z * sd * (1.0 + 1.0 / n).sqrt();
                e.expected = Some(mean);
                e.upperbound = Some(upper);
                e.alarm = matches!(current, Some(x) if x > upper);
            }
            out.push(e);
        }
        Ok(out)
    }
}
