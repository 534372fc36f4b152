//! Poisson CUSUM as R's `surveillance::cusum` (`algo.cusum`).
//!
//! The in-control mean `m` comes from the history before the first evaluated period (`m=mean`:
//! its mean; `m=glm`: a Poisson GLM `log μ = β₀ + β₁ cos(2πt/p) + β₂ sin(2πt/p)` fitted to it
//! and predicted for each evaluated period, `p` the periods in a year; or a fixed number).
//! Each count `x` is standardised (`trans`), and `Sₜ = max(0, Sₜ₋₁ + zₜ - k)` from `S = 0`
//! before the first evaluated period; a period alarms when `Sₜ ≥ h`. Note that, as in R, the
//! results depend on where the evaluated range starts: `m` is learnt from what precedes it and
//! the sum starts there. The sum is not reset after an alarm.
//!
//! Transformations (`trans`), with R's names:
//! - `standard`: `(x - m)/√m`;
//! - `rossi`: `(x - 3m + 2√(xm))/(2√m)`;
//! - `anscombe`: `3/2 (x^{2/3} - m^{2/3})/m^{1/6}`;
//! - `anscombe2nd`: `(x^{2/3} - (m^{2/3} - m^{-1/3}/9))/(2/3 m^{1/6})`;
//! - `pearsonNegBin`: `(x - m)/√(m + αm²)`, with `alpha` (0.1);
//! - `none`: `x` itself.
//!
//! The reported threshold (`upperbound`) is R's: the smallest count that would have raised an
//! alarm given `Sₜ₋₁` (rounded up for `standard`; the continuous boundary for `rossi`,
//! `anscombe` and `pearsonNegBin`), undefined or negative values shown as 0. R's quirks are
//! kept so that the numbers agree: the `anscombe2nd` boundary uses `m^{1/3}/9` where its
//! transformation has `m^{-1/3}/9`, and for `none` it is `h - Sₜ`, not a count. `expected` is
//! `m`, `score` the statistic `Sₜ`.
//!
//! R's `anscombeNegBin` (which reads a hypergeometric function from a coarse table) is not
//! offered. A missing count in the history (for `m=mean`) or in the evaluated range makes R's
//! results `NA` from there on; here it is an error naming the date. With `m=glm`, missing
//! counts in the history are left out of the fit, as R's `glm` does.

use std::f64::consts::PI;
use std::ops::RangeInclusive;

use crate::glm::{self, Control, Design, Family};
use crate::{DetectError, Detector, Evaluation, ParamError, Params, Series, invalid};

/// Where the in-control mean comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mean {
    /// The mean of the history.
    Mean,
    /// A Poisson GLM with one pair of harmonics, fitted to the history.
    Glm,
    /// A fixed value.
    Fixed(f64),
}

/// How counts are standardised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trans {
    /// `(x - m)/√m`.
    Standard,
    /// Rossi et al.'s approximate normal transformation.
    Rossi,
    /// Anscombe residuals.
    Anscombe,
    /// Anscombe residuals with a second-order correction.
    Anscombe2nd,
    /// Pearson residuals of a negative binomial with dispersion `alpha`.
    PearsonNegBin,
    /// No transformation.
    None,
}

const TRANS: &[(&str, Trans)] = &[
    ("standard", Trans::Standard),
    ("rossi", Trans::Rossi),
    ("anscombe", Trans::Anscombe),
    ("anscombe2nd", Trans::Anscombe2nd),
    ("pearsonNegBin", Trans::PearsonNegBin),
    ("none", Trans::None),
];

/// CUSUM with its resolved control.
#[derive(Debug, Clone)]
pub struct Cusum {
    k: f64,
    h: f64,
    m: Mean,
    trans: Trans,
    alpha: f64,
}

impl Cusum {
    /// Reads `k` (1.04), `h` (2.26), `m` (`mean`, `glm` or a positive number), `trans`
    /// (`standard`) and `alpha` (0.1, for `pearsonNegBin`).
    pub fn from_params(params: &mut Params) -> Result<Cusum, ParamError> {
        let k = params.number("k", 1.04)?;
        let h = params.number("h", 2.26)?;
        let m = match params.raw("m") {
            None => Mean::Mean,
            Some(v) if v.eq_ignore_ascii_case("mean") => Mean::Mean,
            Some(v) if v.eq_ignore_ascii_case("glm") => Mean::Glm,
            Some(v) => match v.parse::<f64>() {
                Ok(x) if x.is_finite() && x > 0.0 => Mean::Fixed(x),
                _ => return Err(invalid("m", &v, "mean, glm or a positive number")),
            },
        };
        let trans = params.choice("trans", TRANS, Trans::Standard)?;
        let alpha = params.number("alpha", 0.1)?;
        if alpha < 0.0 {
            return Err(invalid("alpha", &alpha, "a number ≥ 0"));
        }
        Ok(Cusum {
            k,
            h,
            m,
            trans,
            alpha,
        })
    }

    fn in_control(
        &self,
        series: &Series,
        start: usize,
        end: usize,
    ) -> Result<Vec<f64>, DetectError> {
        let counts = series.counts();
        let n = end - start + 1;
        match self.m {
            Mean::Fixed(m) => Ok(vec![m; n]),
            Mean::Mean => {
                let mut sum = 0.0;
                for (i, c) in counts[..start].iter().enumerate() {
                    sum += c.ok_or_else(|| missing(series, i))?;
                }
                Ok(vec![sum / start as f64; n])
            }
            Mean::Glm => {
                let p = series.frequency().periods_per_year() as f64;
                let row = |i: usize| {
                    // R's time index is 1-based.
                    let angle = 2.0 * PI / p * (i + 1) as f64;
                    [1.0, angle.cos(), angle.sin()]
                };
                let mut design = Design::with_capacity(3, start);
                let mut y = Vec::with_capacity(start);
                for (i, c) in counts[..start].iter().enumerate() {
                    if let Some(c) = c {
                        design.push(&row(i));
                        y.push(*c);
                    }
                }
                let fit = glm::fit(
                    &design,
                    &y,
                    None,
                    None,
                    Family::Poisson,
                    None,
                    Control::default(),
                )
                .map_err(|e| DetectError::Fit {
                    method: "cusum",
                    reason: format!("the Poisson GLM of m=glm: {e}"),
                })?;
                Ok((start..=end)
                    .map(|i| fit.linear_predictor(&row(i)).exp())
                    .collect())
            }
        }
    }

    fn standardise(&self, x: f64, m: f64) -> f64 {
        match self.trans {
            Trans::Standard => (x - m) / m.sqrt(),
            Trans::Rossi => (x - 3.0 * m + 2.0 * (x * m).sqrt()) / (2.0 * m.sqrt()),
            Trans::Anscombe => 1.5 * (x.powf(2.0 / 3.0) - m.powf(2.0 / 3.0)) / m.powf(1.0 / 6.0),
            Trans::Anscombe2nd => {
                (x.powf(2.0 / 3.0) - (m.powf(2.0 / 3.0) - m.powf(-1.0 / 3.0) / 9.0))
                    / (2.0 / 3.0 * m.powf(1.0 / 6.0))
            }
            Trans::PearsonNegBin => (x - m) / (m + self.alpha * m * m).sqrt(),
            Trans::None => x,
        }
    }

    /// R's upperbound given the previous sum `prev` and the new one `now`.
    fn boundary(&self, m: f64, prev: f64, now: f64) -> f64 {
        let (h, k) = (self.h, self.k);
        let b = match self.trans {
            Trans::Standard => (m.sqrt() * (h + k - prev) + m).ceil(),
            Trans::Rossi => {
                let m32 = m.powf(1.5);
                2.0 * h * m.sqrt() + 2.0 * k * m.sqrt() - 2.0 * prev * m.sqrt() + 5.0 * m
                    - 2.0 * (4.0 * m * m + 2.0 * m32 * h + 2.0 * m32 * k - 2.0 * m32 * prev).sqrt()
            }
            Trans::Anscombe => {
                let inner = 2.0 / 3.0 * m.powf(1.0 / 6.0) * (h + k - prev) + m.powf(2.0 / 3.0);
                if inner < 0.0 { 0.0 } else { inner.powf(1.5) }
            }
            Trans::Anscombe2nd => {
                let inner = 2.0 / 3.0 * m.powf(1.0 / 6.0) * (h + k - prev)
                    + (m.powf(2.0 / 3.0) - m.powf(1.0 / 3.0) / 9.0);
                if inner < 0.0 { 0.0 } else { inner.powf(1.5) }
            }
            Trans::PearsonNegBin => (m + self.alpha * m * m).sqrt() * (h + k - prev) + m,
            Trans::None => h - now,
        };
        if b.is_nan() || b < 0.0 { 0.0 } else { b }
    }
}

fn missing(series: &Series, i: usize) -> DetectError {
    DetectError::Missing {
        method: "cusum",
        date: series.dates()[i],
    }
}

/// R's `max(0, v)`: an undefined value stays undefined.
fn r_max0(v: f64) -> f64 {
    if v.is_nan() { v } else { v.max(0.0) }
}

impl Detector for Cusum {
    fn method(&self) -> &'static str {
        "cusum"
    }

    fn describe(&self) -> String {
        let m = match self.m {
            Mean::Mean => "mean".to_owned(),
            Mean::Glm => "glm".to_owned(),
            Mean::Fixed(x) => x.to_string(),
        };
        let trans = TRANS
            .iter()
            .find(|(_, t)| *t == self.trans)
            .map_or("standard", |(n, _)| n);
        format!(
            "k={};h={};m={m};trans={trans};alpha={}",
            self.k, self.h, self.alpha
        )
    }

    fn first_index(&self, _series: &Series) -> Result<usize, DetectError> {
        Ok(match self.m {
            Mean::Fixed(_) => 0,
            Mean::Mean => 1,
            Mean::Glm => 3,
        })
    }

    fn evaluate(
        &self,
        series: &Series,
        range: RangeInclusive<usize>,
    ) -> Result<Vec<Evaluation>, DetectError> {
        let Some((start, end)) = crate::checked_range(self, series, range)? else {
            return Ok(Vec::new());
        };
        let means = self.in_control(series, start, end)?;
        let counts = series.counts();
        let mut out = Vec::with_capacity(end - start + 1);
        let mut sum = 0.0;
        for (i, &m) in (start..=end).zip(&means) {
            let x = counts[i].ok_or_else(|| missing(series, i))?;
            let prev = sum;
            sum = r_max0(prev + (self.standardise(x, m) - self.k));
            let mut e = Evaluation::at(i);
            e.expected = Some(m);
            e.upperbound = Some(self.boundary(m, prev, sum));
            e.alarm = sum >= self.h;
            e.score = sum.is_finite().then_some(sum);
            out.push(e);
        }
        Ok(out)
    }
}
