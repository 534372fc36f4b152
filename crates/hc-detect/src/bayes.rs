//! The Bayes system as R's `surveillance::algo.bayes`.
//!
//! The reference values of period `t` are the `w` periods before it (`act_y=true`) and, for each
//! of the `b` previous years, the `2w + 1` periods centred on the same period of that year
//! (`t - i·p - w ..= t - i·p + w`, `p` the periods in a year: 52 weekly, 365 daily). With `n`
//! reference values summing to `s` (missing ones left out, as R does), the predictive
//! distribution of the count under a Gamma prior is negative binomial with size `s + ½` and
//! probability `n/(n + 1)`; the threshold is its `1 - alpha` quantile and the period alarms when
//! its count is above it. `expected` is the predictive mean `(s + ½)/n`.
//!
//! R defaults: `b=0`, `w=6`, `act_y=true`, `alpha=0.05`. With `w=0` and `act_y=true`, R's
//! `(t-0):(t-1)` would silently include the current period; that combination is refused.

use std::ops::RangeInclusive;

use statrs::distribution::{ContinuousCDF, Normal};
use statrs::function::beta::checked_beta_reg;

use crate::{DetectError, Detector, Evaluation, ParamError, Params, Series, invalid};

/// The Bayes system with its resolved control.
#[derive(Debug, Clone)]
pub struct Bayes {
    base: BaseWindow,
    alpha: f64,
}

/// Which earlier periods make the reference values (shared with the RKI method).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BaseWindow {
    /// Years back.
    pub b: usize,
    /// Half-width of each year's window, and periods before `t` with `act_y`.
    pub w: usize,
    /// Whether the periods just before `t` are reference values.
    pub act_y: bool,
}

impl BaseWindow {
    /// Reads `b`, `w`, `act_y` with the given defaults and checks that some reference values
    /// remain.
    pub(crate) fn from_params(
        params: &mut Params,
        b: usize,
        w: usize,
        act_y: bool,
    ) -> Result<BaseWindow, ParamError> {
        let b = params.count("b", b, 0)?;
        let w = params.count("w", w, 0)?;
        let act_y = params.flag("act_y", act_y)?;
        if act_y && w == 0 {
            return Err(invalid("w", &w, "a whole number ≥ 1 with act_y=true"));
        }
        if !act_y && b == 0 {
            return Err(invalid(
                "b",
                &b,
                "a whole number ≥ 1 with act_y=false (no reference values otherwise)",
            ));
        }
        Ok(BaseWindow { b, w, act_y })
    }

    /// `b=…;w=…;act_y=…`.
    pub(crate) fn describe(&self) -> String {
        format!("b={};w={};act_y={}", self.b, self.w, self.act_y)
    }

    /// The first period whose reference values lie inside the series (R: `t - b·p - w ≥ 1`).
    pub(crate) fn first_index(&self, series: &Series) -> usize {
        self.b * series.frequency().periods_per_year() + self.w
    }

    /// Calls `f` with each reference value of period `t` (missing ones included), in R's order.
    pub(crate) fn for_each(&self, series: &Series, t: usize, mut f: impl FnMut(Option<f64>)) {
        let counts = series.counts();
        let p = series.frequency().periods_per_year();
        if self.act_y {
            counts[t - self.w..t].iter().for_each(|c| f(*c));
        }
        for i in 1..=self.b {
            let centre = t - i * p;
            let hi = (centre + self.w).min(counts.len() - 1);
            counts[centre - self.w..=hi].iter().for_each(|c| f(*c));
        }
    }

    /// The sum and the number of the reference values of period `t` that are not missing.
    pub(crate) fn sum_count(&self, series: &Series, t: usize) -> (f64, usize) {
        let (mut sum, mut n) = (0.0, 0usize);
        self.for_each(series, t, |c| {
            if let Some(c) = c {
                sum += c;
                n += 1;
            }
        });
        (sum, n)
    }
}

impl Bayes {
    /// Reads `b` (0), `w` (6), `act_y` (true) and `alpha` (0.05).
    pub fn from_params(params: &mut Params) -> Result<Bayes, ParamError> {
        let base = BaseWindow::from_params(params, 0, 6, true)?;
        let alpha = params.probability("alpha", 0.05)?;
        Ok(Bayes { base, alpha })
    }
}

impl Detector for Bayes {
    fn method(&self) -> &'static str {
        "bayes"
    }

    fn describe(&self) -> String {
        format!("{};alpha={}", self.base.describe(), self.alpha)
    }

    fn first_index(&self, series: &Series) -> Result<usize, DetectError> {
        Ok(self.base.first_index(series))
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
        let mut out = Vec::with_capacity(end - start + 1);
        for (t, &x) in counts.iter().enumerate().take(end + 1).skip(start) {
            let (sum, n) = self.base.sum_count(series, t);
            let mut e = Evaluation::at(t);
            if n > 0 {
                let size = sum + 0.5;
                let n = n as f64;
                let upper = qnbinom(1.0 - self.alpha, size, n / (n + 1.0));
                e.expected = Some(size / n);
                e.upperbound = Some(upper);
                e.alarm = matches!(x, Some(x) if x > upper);
            }
            out.push(e);
        }
        Ok(out)
    }
}

/// P(Y ≤ y) for a negative binomial with `size` and `prob` (R's `pnbinom`), by the regularised
/// incomplete beta function.
pub(crate) fn pnbinom(y: f64, size: f64, prob: f64) -> f64 {
    if y < 0.0 {
        return 0.0;
    }
    checked_beta_reg(size, y.floor() + 1.0, prob).unwrap_or(f64::NAN)
}

/// The smallest `y` with P(Y ≤ y) ≥ `p` (R's `qnbinom`, including its guard against
/// rounding: `p` is lowered by 64 machine epsilons). `prob` in (0, 1], `size` > 0.
pub(crate) fn qnbinom(p: f64, size: f64, prob: f64) -> f64 {
    if prob >= 1.0 {
        return 0.0;
    }
    let target = p * (1.0 - 64.0 * f64::EPSILON);
    let q = 1.0 / prob;
    let mean = size * (1.0 - prob) * q;
    let sd = (size * (1.0 - prob)).sqrt() * q;
    let z = Normal::standard().inverse_cdf(p);
    let mut y = (mean + sd * z).floor().max(0.0);
    if pnbinom(y, size, prob) >= target {
        while y > 0.0 && pnbinom(y - 1.0, size, prob) >= target {
            y -= 1.0;
        }
    } else {
        loop {
            y += 1.0;
            let f = pnbinom(y, size, prob);
            if f >= target || f.is_nan() {
                break;
            }
        }
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values from R 4.2.2: `qnbinom(p, size, prob)`.
    #[test]
    fn negative_binomial_quantiles_are_rs() {
        let cases = [
            (0.95, 0.5, 0.5, 2.0),
            (0.95, 6000.5, 6.0 / 7.0, 1057.0),
            (0.99, 3.5, 6.0 / 7.0, 3.0),
            (0.95, 30.5, 0.75, 17.0),
            (0.5, 0.5, 0.9, 0.0),
        ];
        for (p, size, prob, want) in cases {
            assert_eq!(qnbinom(p, size, prob), want, "qnbinom({p}, {size}, {prob})");
        }
    }
}
