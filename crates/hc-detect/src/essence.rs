//! CDC ESSENCE's daily detectors (adaptive multiple regression, EWMA and the regression/EWMA
//! switch), computed as CDC's open-source Rnssp 0.3.1 computes them (`alert_regression`,
//! `alert_ewma`, `alert_switch`).
//!
//! Parameters (Rnssp's arguments): `detector` (`switch`, the default, `regression` or `ewma`),
//! `b` (28: the longest baseline, in days), `g` (2: the guardband, days between the baseline and
//! the tested day), `w1` (0.4) and `w2` (0.9), the EWMA's two smoothing weights. As in Rnssp, `b`
//! must be a multiple of 7 for `regression` and `switch`; it must also be at least 14 there,
//! because Rnssp's regression fails for `b = 7` (its 11-day starting baseline is longer than `b`).
//!
//! # Regression (`regression`)
//! For the tested day `i`, a linear model `count ~ 1 + t + Mon + … + Sat` (a trend `t = 1…L` and
//! six weekday indicators, Sunday being the reference) is fitted by least squares to the `L`
//! days that end `g` days before `i`. The baseline starts with 11 days (the first tested day is
//! the 12th + `g`) and grows by a day each day up to `b`. The forecast
//! `expected = max(0, β₀ + (L + g + 1)·β₁ + β_weekday)` is compared with the count:
//! `statistic = (count − expected) / σ`, where `σ` is the residual standard error times
//! `√((L+7)(L−4) / (L(L−7)))`, bounded below by `0.01 / t₀.₉₅(L−8)` (the Student quantile
//! rounded to 5 decimals), and `p = 1 − F_t(statistic; L − 8)`.
//! Rnssp then withdraws a red or yellow alert when the count is below the mean of the last 7 days
//! (this day included) — on a Saturday or Sunday only when the count is also below the mean of
//! the last 7 same weekdays. The withdrawn alert becomes grey (the behaviour of Rnssp on grouped
//! data, which is how a platform of many series calls it; on a single ungrouped series Rnssp
//! 0.3.1 makes it blue instead): its level is `None`, its numbers stay.
//! The fit reproduces R's `lm.fit` operation by operation (LINPACK's Householder QR `dqrdc2`
//! and `dqrsl` over reference BLAS), so that even rounding-level results (a forecast of 1e-17
//! where the baseline fits exactly) agree with R's.
//!
//! # EWMA (`ewma`)
//! Two exponentially weighted moving averages `zₖ(i) = wₖ·count(i) + (1 − wₖ)·zₖ(i−1)` (started at
//! the first count) are compared with the mean and standard deviation of a baseline of `L` days
//! ending `g` days before `i`; `L` starts at 7 (the first tested day is the 8th + `g`) and grows to
//! `b`. Each standard deviation is corrected for the smoothing and the guardband,
//! `σₖ = max(minₖ, s·√(wₖ/(2−wₖ) + 1/L − 2(1−wₖ)^(g+1)(1−(1−wₖ)^L)/L) + cₖ)` with Rnssp's
//! constants `minₖ = (wₖ/t₀.₉₅)(0.01 + 0.05(1−wₖ)²)` and
//! `cₖ = (0.1289 − (0.2414 − 0.1826(1−wₖ)⁴)·ln 0.5)·wₖ/t₀.₉₅` (quantiles with `L − 1` degrees of
//! freedom, rounded to 5 decimals). `statisticₖ = (zₖ − mean)/σₖ`, `pₖ = 1 − F_t(statisticₖ; L−1)`;
//! the smaller p-value wins (the second on a tie). When `|statisticₖ|` exceeds `t₀.₉₉`, `zₖ` is
//! pulled back to `mean ± t₀.₉₉·σₖ` before it is carried to the next day. A series whose values
//! are all below 1 (percentages) is divided by the median of its positive values first, as Rnssp
//! does (its expected values are then in those units); here "the series" is every period up to
//! the last evaluated one. A series of zeros is left as it is (Rnssp fails on it).
//!
//! # Switch (`switch`)
//! The regression's result where its adjusted R² is at least 0.60, the EWMA's otherwise (and on
//! the days before the regression has a baseline).
//!
//! # Output
//! `expected` = Rnssp's `baseline_expected`, `upperbound` = `test_statistic`, `p_value` =
//! `p.value`, `level` red (p < 0.01), yellow (p < 0.05) or blue, `None` for Rnssp's grey (no
//! baseline yet, or a withdrawn regression alert); `alarm` is true for red. `score` is the
//! regression's adjusted R² (`adjusted_r_squared`, 0 where R² is undefined) wherever the
//! regression was fitted, for `regression` and for `switch`; [`Essence::detector_used`] tells from
//! it which detector `switch` used (Rnssp's `detector` column).
//!
//! Daily data only. Every count up to the last evaluated day must be present (Rnssp fails on
//! missing values). [`Detector::first_index`] is the first day Rnssp tests (day 7 + `g` for `ewma`
//! and `switch`, 11 + `g` for `regression`, counting from 0); like Rnssp, a series must have more
//! than `b + g` days, otherwise `first_index` is `b + g`, past its end.

use std::ops::RangeInclusive;

use chrono::Datelike;
use statrs::distribution::{Continuous, ContinuousCDF, StudentsT};

use crate::{
    DetectError, Detector, Evaluation, Frequency, Level, ParamError, Params, Series, invalid,
};

/// The adjusted R² from which `switch` keeps the regression.
pub const SWITCH_R2: f64 = 0.60;

/// Shortest baselines Rnssp starts from.
const MIN_BASELINE_REGRESSION: usize = 11;
const MIN_BASELINE_EWMA: usize = 7;
/// Columns of the regression: intercept, trend, Monday … Saturday.
const COLUMNS: usize = 8;

/// Which ESSENCE detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Adaptive multiple regression.
    Regression,
    /// Exponentially weighted moving average.
    Ewma,
    /// Regression where it fits (adjusted R² ≥ 0.60), EWMA otherwise.
    Switch,
}

impl Kind {
    /// `regression`, `ewma` or `switch`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Regression => "regression",
            Kind::Ewma => "ewma",
            Kind::Switch => "switch",
        }
    }
}

/// An ESSENCE detector with its resolved parameters.
#[derive(Debug, Clone)]
pub struct Essence {
    kind: Kind,
    b: usize,
    g: usize,
    w1: f64,
    w2: f64,
    /// What depends only on the parameters and the baseline length, computed once: a city's
    /// daily run evaluates tens of thousands of series with the same detector.
    tables: std::sync::Arc<Tables>,
}

/// Per baseline length: the EWMA's constants, the regression's least σ and its designs.
#[derive(Debug)]
struct Tables {
    ewma: Vec<Option<EwmaConstants>>,
    regression_min_sigma: Vec<f64>,
    /// The statistic above which the regression's p-value is below 0.01 (red).
    regression_red: Vec<f64>,
    /// Indexed by `(len - MIN_BASELINE_REGRESSION) * 7 + weekday of the first day`.
    designs: Vec<Qr>,
}

impl Tables {
    fn new(kind: Kind, b: usize, g: usize, weights: [f64; 2]) -> Tables {
        let ewma = (0..=b)
            .map(|len| {
                (kind != Kind::Regression && len >= MIN_BASELINE_EWMA)
                    .then(|| EwmaConstants::new(len, g, weights))
            })
            .collect();
        let regression = kind != Kind::Ewma;
        let regression_min_sigma = (0..=b)
            .map(|len| {
                if regression && len >= MIN_BASELINE_REGRESSION {
                    0.01 / qt_rounded(0.95, len - COLUMNS)
                } else {
                    f64::NAN
                }
            })
            .collect();
        let regression_red = (0..=b)
            .map(|len| {
                if regression && len >= MIN_BASELINE_REGRESSION {
                    qt_rounded(0.99, len - COLUMNS)
                } else {
                    f64::NAN
                }
            })
            .collect();
        let designs = (MIN_BASELINE_REGRESSION..=b)
            .filter(|_| regression)
            .flat_map(|len| (0..7).map(move |weekday| Qr::design(len, weekday)))
            .collect();
        Tables {
            ewma,
            regression_min_sigma,
            regression_red,
            designs,
        }
    }
}

impl Essence {
    /// Reads `detector`, `b`, `g`, `w1` and `w2`.
    pub fn from_params(params: &mut Params) -> Result<Essence, ParamError> {
        let kind = params.choice(
            "detector",
            &[
                ("switch", Kind::Switch),
                ("regression", Kind::Regression),
                ("ewma", Kind::Ewma),
            ],
            Kind::Switch,
        )?;
        let b = params.count("b", 28, MIN_BASELINE_EWMA)?;
        if kind != Kind::Ewma && (b % 7 != 0 || b < 14) {
            return Err(invalid(
                "b",
                &b,
                "a multiple of 7, at least 14, for the regression and the switch",
            ));
        }
        let g = params.count("g", 2, 0)?;
        let w1 = params.probability("w1", 0.4)?;
        let w2 = params.probability("w2", 0.9)?;
        let tables = std::sync::Arc::new(Tables::new(kind, b, g, [w1, w2]));
        Ok(Essence {
            kind,
            b,
            g,
            w1,
            w2,
            tables,
        })
    }

    /// The detector this instance runs.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Which detector produced `evaluation` (one of this detector's): Rnssp's `detector` column.
    /// `None` where there is no result (no baseline yet).
    pub fn detector_used(&self, evaluation: &Evaluation) -> Option<Kind> {
        evaluation.upperbound?;
        Some(match self.kind {
            Kind::Switch if evaluation.score.is_some_and(|r2| r2 >= SWITCH_R2) => Kind::Regression,
            Kind::Switch => Kind::Ewma,
            kind => kind,
        })
    }

    fn start(&self) -> usize {
        match self.kind {
            Kind::Regression => MIN_BASELINE_REGRESSION + self.g,
            Kind::Ewma | Kind::Switch => MIN_BASELINE_EWMA + self.g,
        }
    }

    fn check_daily(&self, series: &Series) -> Result<(), DetectError> {
        match series.frequency() {
            Frequency::Daily => Ok(()),
            frequency => Err(DetectError::Frequency {
                method: "essence",
                supported: "daily",
                frequency,
            }),
        }
    }
}

/// One day's result of a detector.
#[derive(Debug, Clone, Copy)]
struct Outcome {
    expected: f64,
    statistic: f64,
    p: f64,
    level: Option<Level>,
    r2: Option<f64>,
    /// The smallest count that would have made the day red (NaN where unknown).
    limit: f64,
}

impl Detector for Essence {
    fn method(&self) -> &'static str {
        "essence"
    }

    fn describe(&self) -> String {
        format!(
            "detector={};b={};g={};w1={};w2={}",
            self.kind.as_str(),
            self.b,
            self.g,
            self.w1,
            self.w2
        )
    }

    fn first_index(&self, series: &Series) -> Result<usize, DetectError> {
        self.check_daily(series)?;
        if series.len() <= self.b + self.g {
            return Ok(self.b + self.g);
        }
        Ok(self.start())
    }

    fn evaluate(
        &self,
        series: &Series,
        range: RangeInclusive<usize>,
    ) -> Result<Vec<Evaluation>, DetectError> {
        self.check_daily(series)?;
        let (from, to) = (*range.start(), *range.end());
        if from > to || to >= series.len() {
            return Ok(Vec::new());
        }
        let mut y = Vec::with_capacity(to + 1);
        for (count, date) in series.counts()[..=to].iter().zip(series.dates()) {
            match count {
                Some(c) => y.push(*c),
                None => {
                    return Err(DetectError::Missing {
                        method: "essence",
                        date: *date,
                    });
                }
            }
        }
        // Day of the week of period 0, Monday = 0.
        let weekday0 = series
            .dates()
            .first()
            .map_or(0, |d| d.weekday().num_days_from_monday() as usize);

        let regression = match self.kind {
            Kind::Regression | Kind::Switch => Some(self.regression(&y, weekday0, from)),
            Kind::Ewma => None,
        };
        let ewma = match self.kind {
            Kind::Ewma | Kind::Switch => Some(self.ewma(&y, from)),
            Kind::Regression => None,
        };
        let mut out = Vec::with_capacity(to - from + 1);
        for i in from..=to {
            let reg = regression.as_ref().and_then(|r| r[i - from]);
            let ewm = ewma.as_ref().and_then(|e| e[i]);
            let chosen = match self.kind {
                Kind::Regression => reg,
                Kind::Ewma => ewm,
                Kind::Switch => match reg {
                    Some(r) if r.r2.is_some_and(|r2| r2 >= SWITCH_R2) => Some(r),
                    Some(r) => ewm.map(|e| Outcome { r2: r.r2, ..e }),
                    None => ewm,
                },
            };
            let mut e = Evaluation::at(i);
            if let Some(o) = chosen {
                e.expected = Some(o.expected);
                e.upperbound = Some(o.statistic);
                e.p_value = Some(o.p);
                e.level = o.level;
                e.alarm = o.level == Some(Level::Red);
                e.score = o.r2;
                e.limit = o.limit.is_finite().then_some(o.limit);
            }
            out.push(e);
        }
        Ok(out)
    }
}

/// Rnssp's colour for a p-value; `None` (grey) when it is not a number.
fn level_of(p: f64) -> Option<Level> {
    if p < 0.01 {
        Some(Level::Red)
    } else if p < 0.05 {
        Some(Level::Yellow)
    } else if p >= 0.05 {
        Some(Level::Blue)
    } else {
        None
    }
}

/// R's `max(a, b)`: NaN when either is.
fn max_r(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// R's `x^y` (`x*x` for a square, C's `pow` otherwise).
fn pow_r(x: f64, y: f64) -> f64 {
    if y == 2.0 { x * x } else { x.powf(y) }
}

/// A Student distribution with `df` degrees of freedom (df ≥ 1 here).
fn student(df: usize) -> Option<StudentsT> {
    StudentsT::new(0.0, 1.0, df as f64).ok()
}

/// R's `round(qt(p, df), 5)`.
fn qt_rounded(p: f64, df: usize) -> f64 {
    let Some(t) = student(df) else {
        return f64::NAN;
    };
    let mut x = t.inverse_cdf(p);
    // Two Newton steps polish statrs' quantile to full precision before rounding.
    for _ in 0..2 {
        let d = t.pdf(x);
        if d > 0.0 && d.is_finite() {
            x -= (t.cdf(x) - p) / d;
        }
    }
    (x * 1e5).round() / 1e5
}

/// R's `1 - pt(q, df)`, rounded the way R rounds it: `pt` is first rounded to a double near 1
/// and then subtracted from 1, so tiny p-values come out as R's do (0 below about 1e-16).
fn upper_p(q: f64, df: usize) -> f64 {
    let Some(t) = student(df) else {
        return f64::NAN;
    };
    if q.is_nan() {
        return f64::NAN;
    }
    let lower = if q >= 0.0 { 1.0 - t.sf(q) } else { t.cdf(q) };
    1.0 - lower
}

/// A sum rounded once (R accumulates in long double; compensated summation gives the same
/// double for the short vectors summed here).
fn sum_r(xs: impl IntoIterator<Item = f64>) -> f64 {
    let mut sum = 0.0_f64;
    let mut comp = 0.0_f64;
    for x in xs {
        let t = sum + x;
        if sum.abs() >= x.abs() {
            comp += (sum - t) + x;
        } else {
            comp += (x - t) + sum;
        }
        sum = t;
    }
    sum + comp
}

/// R's `mean`: a sum divided by n, refined by the mean of the deviations.
fn mean_r(xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let m = sum_r(xs.iter().copied()) / n;
    if !m.is_finite() {
        return m;
    }
    m + sum_r(xs.iter().map(|x| x - m)) / n
}

/// R's `sd`.
fn sd_r(xs: &[f64]) -> f64 {
    let m = mean_r(xs);
    let n = xs.len() as f64;
    (sum_r(xs.iter().map(|x| (x - m) * (x - m))) / (n - 1.0)).sqrt()
}

/// Reference BLAS `ddot`: the first n mod 5 products one by one, then five at a time, always
/// added left to right.
fn ddot(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    let m = n % 5;
    let mut acc = 0.0;
    for i in 0..m {
        acc += x[i] * y[i];
    }
    let mut i = m;
    while i < n {
        acc = acc
            + x[i] * y[i]
            + x[i + 1] * y[i + 1]
            + x[i + 2] * y[i + 2]
            + x[i + 3] * y[i + 3]
            + x[i + 4] * y[i + 4];
        i += 5;
    }
    acc
}

/// Reference BLAS `daxpy`: y += a·x.
fn daxpy(a: f64, x: &[f64], y: &mut [f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

/// Reference BLAS (3.10 and later) `dnrm2` for numbers of ordinary size: √Σx².
fn dnrm2(x: &[f64]) -> f64 {
    x.iter().fold(0.0, |acc, v| acc + v * v).sqrt()
}

/// The Householder QR of a regression design, as LINPACK's `dqrdc2` leaves it (no column is
/// ever negligible in these designs, so no pivoting happens).
#[derive(Debug)]
struct Qr {
    n: usize,
    /// Column-major n × COLUMNS: R above the diagonal, Householder vectors below.
    a: Vec<f64>,
    qraux: [f64; COLUMNS],
}

impl Qr {
    /// The design of a baseline of `n` days whose first day has weekday `weekday` (Monday = 0).
    fn design(n: usize, weekday: usize) -> Qr {
        let mut a = vec![0.0; n * COLUMNS];
        for r in 0..n {
            a[r] = 1.0;
            a[n + r] = (r + 1) as f64;
            let wd = (weekday + r) % 7;
            if wd < 6 {
                a[(2 + wd) * n + r] = 1.0;
            }
        }
        let mut qraux = [0.0; COLUMNS];
        for (j, q) in qraux.iter_mut().enumerate() {
            *q = dnrm2(&a[j * n..(j + 1) * n]);
        }
        for l in 0..COLUMNS.min(n) {
            if l + 1 == n {
                break;
            }
            let (head, tail) = a.split_at_mut((l + 1) * n);
            let col = &mut head[l * n + l..(l + 1) * n];
            let mut nrm = dnrm2(col);
            if nrm == 0.0 {
                continue;
            }
            if col[0] != 0.0 {
                nrm = nrm.abs().copysign(col[0]);
            }
            let scale = 1.0 / nrm;
            for v in col.iter_mut() {
                *v *= scale;
            }
            col[0] += 1.0;
            for j in (l + 1)..COLUMNS {
                let other = &mut tail[(j - l - 1) * n + l..(j - l) * n];
                let t = -ddot(col, other) / col[0];
                daxpy(t, col, other);
            }
            qraux[l] = col[0];
            col[0] = -nrm;
        }
        Qr { n, a, qraux }
    }

    /// Applies the Householder reflections `js` (in that order) to `v` (`dqrsl`'s loops).
    fn reflect(&self, v: &mut [f64], js: impl Iterator<Item = usize>) {
        let n = self.n;
        let mut h = vec![0.0; n];
        for j in js {
            if self.qraux[j] == 0.0 {
                continue;
            }
            let len = n - j;
            h[..len].copy_from_slice(&self.a[j * n + j..(j + 1) * n]);
            h[0] = self.qraux[j];
            let t = -ddot(&h[..len], &v[j..]) / h[0];
            daxpy(t, &h[..len], &mut v[j..]);
        }
    }

    /// Least squares of `y` on the design, as `lm.fit`: coefficients and residuals.
    fn fit(&self, y: &[f64]) -> ([f64; COLUMNS], Vec<f64>) {
        let n = self.n;
        let k = COLUMNS;
        let ju = k.min(n - 1);
        let mut qty = y.to_vec();
        self.reflect(&mut qty, 0..ju);
        let mut beta = [0.0; COLUMNS];
        beta.copy_from_slice(&qty[..k]);
        for j in (0..k).rev() {
            beta[j] /= self.a[j * n + j];
            if j > 0 {
                let t = -beta[j];
                daxpy(t, &self.a[j * n..j * n + j], &mut beta[..j]);
            }
        }
        let mut rsd = qty;
        for v in &mut rsd[..k] {
            *v = 0.0;
        }
        self.reflect(&mut rsd, (0..ju).rev());
        (beta, rsd)
    }
}

impl Essence {
    /// The regression's outcome for every day of `from..y.len()`, `None` where Rnssp has none.
    fn regression(&self, y: &[f64], weekday0: usize, from: usize) -> Vec<Option<Outcome>> {
        let (b, g) = (self.b, self.g);
        let start = MIN_BASELINE_REGRESSION + g;
        let mut out = Vec::with_capacity(y.len().saturating_sub(from));
        for i in from..y.len() {
            if i < start {
                out.push(None);
                continue;
            }
            let len = (i - g).min(b);
            let first = i - g - len;
            let weekday = (weekday0 + first) % 7;
            let slot = (len - MIN_BASELINE_REGRESSION) * 7 + weekday;
            let qr = &self.tables.designs[slot];
            let base = &y[first..first + len];
            let (beta, res) = qr.fit(base);
            let n_df = len - COLUMNS;
            let rss = sum_r(res.iter().map(|r| r * r));
            let mse = (1.0 / n_df as f64) * rss;
            let fitted: Vec<f64> = base.iter().zip(&res).map(|(y, r)| y - r).collect();
            let fm = mean_r(&fitted);
            let mss = sum_r(fitted.iter().map(|f| (f - fm) * (f - fm)));
            let r2 = mss / (rss + mss);
            let r2_adj = 1.0 - (1.0 - r2) * ((len - 1) as f64 / n_df as f64);
            let r2_adj = if r2_adj.is_nan() { 0.0 } else { r2_adj };
            let min_sigma = self.tables.regression_min_sigma[len];
            let factor = (((len + 7) * (len - 4)) as f64 / (len * (len - 7)) as f64).sqrt();
            let sigma = max_r(mse.sqrt() * factor, min_sigma);
            let test_day = (len + g + 1) as f64;
            let weekday_test = (weekday0 + i) % 7;
            let mut forecast = beta[0] + test_day * beta[1];
            if weekday_test < 6 {
                forecast += beta[2 + weekday_test];
            }
            let expected = max_r(0.0, forecast);
            let statistic = (y[i] - expected) / sigma;
            let limit = expected + self.tables.regression_red[len] * sigma;
            let p = upper_p(statistic, n_df);
            let mut level = level_of(p);
            if matches!(level, Some(Level::Red | Level::Yellow))
                && withdrawn(y, i, weekday_test >= 5)
            {
                level = None;
            }
            out.push(Some(Outcome {
                expected,
                statistic,
                p,
                level,
                r2: Some(r2_adj),
                limit,
            }));
        }
        out
    }

    /// The EWMA's outcome for every day of `y` (index = day), `None` where Rnssp has none.
    fn ewma(&self, y: &[f64], from: usize) -> Vec<Option<Outcome>> {
        let (b, g) = (self.b, self.g);
        let n = y.len();
        let mut out = vec![None; n];
        if n == 0 {
            return out;
        }
        let max = y.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let scaled: Vec<f64>;
        let rescaled = max < 1.0;
        let y: &[f64] = if rescaled {
            let mut positive: Vec<f64> = y.iter().copied().filter(|v| *v > 0.0).collect();
            match median(&mut positive) {
                Some(m) => {
                    scaled = y.iter().map(|v| v / m).collect();
                    &scaled
                }
                None => y,
            }
        } else {
            y
        };
        let start = MIN_BASELINE_EWMA + g;
        let weights = [self.w1, self.w2];
        let mut z = [y[0], y[0]];
        for &v in y.iter().take(start.min(n)).skip(1) {
            for (zk, w) in z.iter_mut().zip(weights) {
                *zk = w * v + (1.0 - w) * *zk;
            }
        }
        // Whole counts of moderate size have exact sums and sums of squares in a double, so
        // their mean and standard deviation are computed exactly and rounded once, which is
        // what R's long-double passes give, at a fraction of the cost.
        // (b·max|y| < 2^26.5 keeps n·Σx² below 2^53.)
        let bound = 9.4e7 / b.max(1) as f64;
        let integral = y.iter().all(|v| v.fract() == 0.0 && v.abs() < bound);
        // Everything but the baseline's mean and spread comes from the tables.
        for i in start..n {
            let len = (i - g).min(b);
            let base = &y[i - g - len..i - g];
            let (expected, s) = if integral {
                exact_mean_sd(base)
            } else {
                (mean_r(base), sd_r(base))
            };
            let n_df = len - 1;
            let Some(c) = self.tables.ewma[len] else {
                continue;
            };
            let alert = c.alert;
            // Days before the evaluated range only carry the recursion forward: their
            // p-values (the costly part) are never shown.
            let wanted = i >= from;
            let mut best: Option<(f64, f64)> = None;
            // The count at which either average would cross the red line.
            let mut limit = f64::INFINITY;
            for (k, (zk, w)) in z.iter_mut().zip(weights).enumerate() {
                let q = 1.0 - w;
                let sigma = max_r(c.min_sigma[k], s * c.correction[k] + c.constant[k]);
                limit = limit.min((expected + alert * sigma - q * *zk) / w);
                *zk = w * y[i] + q * *zk;
                let statistic = (*zk - expected) / sigma;
                if statistic.abs() > alert {
                    *zk = expected + statistic.signum() * alert * sigma;
                }
                if !wanted {
                    continue;
                }
                let p = upper_p(statistic, n_df);
                // The first weight's result is kept only when strictly better.
                best = match best {
                    Some((bp, _)) if bp < p => best,
                    _ => Some((p, statistic)),
                };
            }
            if let Some((p, statistic)) = best
                && !p.is_nan()
            {
                out[i] = Some(Outcome {
                    expected,
                    statistic,
                    p,
                    level: level_of(p),
                    r2: None,
                    limit: if rescaled { f64::NAN } else { limit },
                });
            }
        }
        out
    }
}

/// Mean and standard deviation of whole counts, each rounded once: the caller ensures that
/// Σx, Σx² and n·Σx² − (Σx)² are exact integers in a double.
fn exact_mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let (s1, s2) = xs.iter().fold((0.0, 0.0), |(a, b), x| (a + x, b + x * x));
    let mean = s1 / n;
    let var = (n * s2 - s1 * s1) / (n * (n - 1.0));
    (mean, var.sqrt())
}

/// The EWMA's terms that depend only on the baseline length, for both weights.
#[derive(Debug, Clone, Copy)]
struct EwmaConstants {
    alert: f64,
    correction: [f64; 2],
    min_sigma: [f64; 2],
    constant: [f64; 2],
}

impl EwmaConstants {
    fn new(len: usize, g: usize, weights: [f64; 2]) -> EwmaConstants {
        let n_df = len - 1;
        let (alert, warning) = (qt_rounded(1.0 - 0.01, n_df), qt_rounded(1.0 - 0.05, n_df));
        let lf = len as f64;
        let mut c = EwmaConstants {
            alert,
            correction: [0.0; 2],
            min_sigma: [0.0; 2],
            constant: [0.0; 2],
        };
        for (k, w) in weights.into_iter().enumerate() {
            let q = 1.0 - w;
            c.correction[k] = (w / (2.0 - w) + 1.0 / lf
                - 2.0 * pow_r(q, (g + 1) as f64) * ((1.0 - pow_r(q, lf)) / lf))
                .sqrt();
            c.min_sigma[k] = (w / warning) * (0.01 + 0.05 * pow_r(q, 2.0));
            c.constant[k] = (0.1289 - (0.2414 - 0.1826 * pow_r(q, 4.0)) * (10.0 * 0.05_f64).ln())
                * (w / warning);
        }
        c
    }
}

/// R's `median` (sorts `v`); `None` for an empty vector.
fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let h = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[h]
    } else {
        (v[h - 1] + v[h]) / 2.0
    })
}

/// Rnssp's withdrawal of a regression alert on day `i`: the count is below the mean of the last
/// seven days, and on a weekend also below the mean of the last seven same weekdays (where
/// there are seven).
fn withdrawn(y: &[f64], i: usize, weekend: bool) -> bool {
    if i < 6 {
        return false;
    }
    let below_week = y[i] < sum_r(y[i - 6..=i].iter().copied()) / 7.0;
    if !below_week {
        return false;
    }
    if !weekend {
        return true;
    }
    if i < 42 {
        return false;
    }
    y[i] < sum_r((0..7).map(|k| y[i - 7 * k])) / 7.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn student_quantiles_round_as_in_r() {
        // R: round(qt(0.99, df), 5) and round(qt(0.95, df), 5).
        let r = [
            (1, 31.82052, 6.31375),
            (2, 6.96456, 2.91999),
            (3, 4.5407, 2.35336),
            (4, 3.74695, 2.13185),
            (7, 2.99795, 1.89458),
            (12, 2.681, 1.78229),
            (20, 2.52798, 1.72472),
            (27, 2.47266, 1.70329),
            (30, 2.45726, 1.69726),
        ];
        for (df, a, w) in r {
            assert_eq!(qt_rounded(0.99, df), a, "df {df}");
            assert_eq!(qt_rounded(0.95, df), w, "df {df}");
        }
    }
}
