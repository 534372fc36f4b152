//! The RKI system as R's `surveillance::algo.rki`.
//!
//! The reference values are chosen as for [`crate::bayes`] (`b` years back, half-width `w`,
//! `act_y`). With their mean `μ`: when `μ > 20` the threshold is `μ + 2σ` (σ their standard
//! deviation); otherwise it is a fixed upper limit tabulated by R's `surveillance` for `⌊μ⌋`
//! (0 to 20). A period alarms when its count is above the threshold. `expected` is `μ`.
//!
//! R defaults: `b=2`, `w=4`, `act_y=false`. R stops with an error when a reference value is
//! missing; here missing values are left out (the threshold is missing only when all are).

use std::ops::RangeInclusive;

use crate::bayes::BaseWindow;
use crate::{DetectError, Detector, Evaluation, ParamError, Params, Series};

/// The upper limits R's `algo.rki` uses for a mean below 20 (column `O` of the package's
/// `CIdata`, indexed by the whole part of the mean).
const UPPER: [f64; 21] = [
    3.285, 5.323, 6.686, 8.102, 9.598, 11.177, 12.817, 13.765, 14.921, 16.768, 17.633, 19.050,
    20.335, 21.364, 22.945, 23.762, 25.400, 26.306, 27.735, 28.966, 30.017,
];

/// The RKI system with its resolved control.
#[derive(Debug, Clone)]
pub struct Rki {
    base: BaseWindow,
}

impl Rki {
    /// Reads `b` (2), `w` (4) and `act_y` (false).
    pub fn from_params(params: &mut Params) -> Result<Rki, ParamError> {
        Ok(Rki {
            base: BaseWindow::from_params(params, 2, 4, false)?,
        })
    }
}

impl Detector for Rki {
    fn method(&self) -> &'static str {
        "rki"
    }

    fn describe(&self) -> String {
        self.base.describe()
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
                let mean = sum / n as f64;
                let upper = if mean > 20.0 {
                    let mut ss = 0.0;
                    self.base.for_each(series, t, |c| {
                        if let Some(c) = c {
                            ss += (c - mean) * (c - mean);
                        }
                    });
                    // R's var of a single value is NA.
                    (n > 1).then(|| mean + 2.0 * (ss / (n - 1) as f64).sqrt())
                } else {
                    UPPER.get(mean.floor() as usize).copied()
                };
                e.expected = Some(mean);
                e.upperbound = upper;
                e.alarm = matches!((x, upper), (Some(x), Some(u)) if x > u);
            }
            out.push(e);
        }
        Ok(out)
    }
}
