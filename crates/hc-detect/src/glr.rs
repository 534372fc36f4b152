//! GLR detectors for Poisson and negative-binomial counts, as R's `glrpois` and `glrnb`
//! (`surveillance` 1.20.3, Höhle and Paul 2008).
//!
//! The in-control mean μ₀ of each evaluated period comes from a log-linear model fitted to
//! every period before the first evaluated one: an intercept, optionally a linear trend in the
//! period number, and `mu0_harmonics` sine/cosine pairs at the series' yearly frequency. For
//! `glrpois` the model is a Poisson GLM; for `glrnb` a negative-binomial GLM whose size θ is
//! estimated as `MASS::glm.nb` does (alternating IRLS at fixed θ with Newton steps for θ), unless
//! `alpha` (= 1/θ) is given.
//!
//! The detector then runs from the first evaluated period: at each period `n` the statistic is
//! the largest log-likelihood ratio, over the change points `k` of the window, of "the mean
//! changed by a factor e^κ from `k` on" against "it did not" (κ estimated, or fixed by `theta`).
//! An alarm is raised as soon as the statistic reaches `c_arl`; the detection then starts again
//! from the next period with a fresh statistic, exactly as R restarts it.
//!
//! With `ret=cases`, `upperbound` holds the number of cases that would have raised an alarm in
//! the period, as R computes it (for `glrnb` R's own search, including its conventions: 10⁹⁹ when
//! no count up to `x_max` would alarm, 0 when it cannot tell).
//!
//! Note that the evaluated range matters, as in R: μ₀ is fitted on the periods before its first
//! period, and the detection starts there.
//!
//! Cost. `glrpois` sums windows backwards, so a period costs at most one pass over its change
//! points, and the scan stops early once subadditivity of the ratio shows that no earlier
//! change point can win (exactly R's maximum). `glrnb` must follow R's Newton iterations for
//! κ, warm starts included, because their failures (divergence on sparse counts) are part of
//! R's result; each iteration is a pass over the window, so without a window (`m=-1`, R's
//! default) a series costs O(n³) in the worst case, as in R, though windows with a path-free
//! estimate cut the chain and let earlier change points be skipped. Set `m` (say 60 days) for
//! large runs. `glrnb` with `ret=cases` repeats the statistic for trial counts (by bisection,
//! where R steps one case at a time).

// The detectors index several parallel arrays by period, as the published algorithm does.
#![allow(clippy::needless_range_loop)]

use std::ops::RangeInclusive;

use statrs::function::gamma::ln_gamma;

use crate::glm::{self, Control, Design, Fit};
use crate::{DetectError, Detector, Evaluation, ParamError, Params, Series, invalid};

/// The count distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Poisson counts (`glrpois`).
    Poisson,
    /// Negative-binomial counts (`glrnb`).
    NegBin,
}

/// The kind of change the detector looks for (R's `change`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The mean is multiplied by e^κ from the change point on.
    Intercept,
    /// The epidemic chart: the mean becomes μ₀ + λ·(previous count) from the change point on.
    Epi,
}

/// Which changes raise alarms (R's `dir`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Increases (`inc`).
    Inc,
    /// Decreases (`dec`).
    Dec,
}

/// What `upperbound` reports (R's `ret`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Return {
    /// The GLR (or LR) statistic.
    Value,
    /// The number of cases that would have raised an alarm.
    Cases,
}

/// R's `glrnb` / `glrpois`, with its resolved control.
#[derive(Debug, Clone)]
pub struct Glr {
    family: Family,
    c_arl: f64,
    mu0_harmonics: usize,
    mu0_trend: bool,
    /// `glrnb` only: 1/θ when given; `None` = estimated by `glm.nb`.
    alpha: Option<f64>,
    mtilde: usize,
    /// Window length; `None` = every change point since the (re)start (R's `M = -1`).
    m: Option<usize>,
    change: Change,
    theta: Option<f64>,
    dir: Direction,
    ret: Return,
    x_max: usize,
}

/// R's starting value of the running maximum: below any statistic.
const NO_MAX: f64 = -1e99;
/// R's `glrnb` answer for "no count up to `x_max` raises an alarm".
const NEVER: f64 = 1e99;

impl Glr {
    /// Reads the method's parameters (R's control, in snake_case): `c_arl` (5), `mu0_harmonics`
    /// (1), `mu0_trend` (false), `alpha` (`glrnb` only; estimated when absent, 0 = Poisson),
    /// `mtilde` (1), `m` (-1 = all), `change` (`intercept`, `epi`), `theta` (known change size κ;
    /// absent = GLR), `dir` (`inc`, `dec`), `ret` (`value`, `cases`), `x_max` (10000).
    pub fn from_params(family: Family, params: &mut Params) -> Result<Glr, ParamError> {
        let c_arl = params.number("c_arl", 5.0)?;
        if c_arl <= 0.0 {
            return Err(invalid("c_arl", &c_arl, "a positive number"));
        }
        let mu0_harmonics = params.count("mu0_harmonics", 1, 0)?;
        let mu0_trend = params.flag("mu0_trend", false)?;
        let alpha = match family {
            Family::Poisson => None,
            Family::NegBin => match params.raw("alpha") {
                None => None,
                Some(v) => match v.parse::<f64>() {
                    Ok(a) if a.is_finite() && a >= 0.0 => Some(a),
                    _ => return Err(invalid("alpha", &v, "a number ≥ 0 (1/θ; 0 = Poisson)")),
                },
            },
        };
        let mtilde = params.count("mtilde", 1, 1)?;
        let m_raw: i64 = params.get("m", -1, "-1 (all change points) or a whole number ≥ 1")?;
        let m = match m_raw {
            -1 => None,
            m if m >= 1 => Some(m as usize),
            other => {
                return Err(invalid(
                    "m",
                    &other,
                    "-1 (all change points) or a whole number ≥ 1",
                ));
            }
        };
        let change = params.choice(
            "change",
            &[("intercept", Change::Intercept), ("epi", Change::Epi)],
            Change::Intercept,
        )?;
        let theta = match params.raw("theta") {
            None => None,
            Some(v) => match v.parse::<f64>() {
                // R refuses exactly 1.
                Ok(t) if t.is_finite() && t != 1.0 => Some(t),
                _ => return Err(invalid("theta", &v, "a finite number other than 1")),
            },
        };
        let dir = params.choice(
            "dir",
            &[("inc", Direction::Inc), ("dec", Direction::Dec)],
            Direction::Inc,
        )?;
        let ret = params.choice(
            "ret",
            &[("value", Return::Value), ("cases", Return::Cases)],
            Return::Value,
        )?;
        let x_max = params.count("x_max", 10000, 0)?;
        if change == Change::Epi {
            if ret == Return::Cases {
                return Err(invalid(
                    "ret",
                    "cases",
                    "value (R's epidemic chart does not compute cases)",
                ));
            }
            if let Some(t) = theta {
                return Err(invalid(
                    "theta",
                    &t,
                    "no value with change=epi (R's epidemic chart always estimates the change)",
                ));
            }
            if dir == Direction::Dec {
                return Err(invalid(
                    "dir",
                    "dec",
                    "inc with change=epi (R's epidemic chart only looks for increases)",
                ));
            }
        }
        Ok(Glr {
            family,
            c_arl,
            mu0_harmonics,
            mu0_trend,
            alpha,
            mtilde,
            m,
            change,
            theta,
            dir,
            ret,
            x_max,
        })
    }

    fn name(&self) -> &'static str {
        match self.family {
            Family::Poisson => "glrpois",
            Family::NegBin => "glrnb",
        }
    }

    /// Columns of the in-control model: intercept, trend, then cos/sin pairs.
    fn columns(&self) -> usize {
        1 + usize::from(self.mu0_trend) + 2 * self.mu0_harmonics
    }

    /// The model row of R's period number `t` (1-based).
    fn fill_row(&self, row: &mut [f64], t: f64, period: f64) {
        row[0] = 1.0;
        let mut j = 1;
        if self.mu0_trend {
            row[j] = t;
            j += 1;
        }
        for s in 1..=self.mu0_harmonics {
            // Same operation order as R's `2*s*pi/p*t`.
            let arg = 2.0 * s as f64 * std::f64::consts::PI / period * t;
            row[j] = arg.cos();
            row[j + 1] = arg.sin();
            j += 2;
        }
    }

    fn fit_error(&self, reason: impl Into<String>) -> DetectError {
        DetectError::Fit {
            method: self.name(),
            reason: reason.into(),
        }
    }

    /// μ₀ for the periods `start..=end` and the dispersion α in effect (0 = Poisson), fitted on
    /// the periods before `start` as R's `estimateGLRNbHook`.
    fn in_control(
        &self,
        series: &Series,
        start: usize,
        end: usize,
    ) -> Result<(Vec<f64>, f64), DetectError> {
        let period = series.frequency().periods_per_year() as f64;
        let cols = self.columns();
        let mut design = Design::with_capacity(cols, start);
        let mut y = Vec::with_capacity(start);
        let mut row = vec![0.0; cols];
        for (i, count) in series.counts()[..start].iter().enumerate() {
            if let Some(c) = *count {
                self.fill_row(&mut row, (i + 1) as f64, period);
                design.push(&row);
                y.push(c);
            }
        }
        if y.is_empty() {
            return Err(self.fit_error(format!(
                "all {start} counts before the first evaluated period are missing"
            )));
        }
        let control = Control::default();
        let glm_fit = |family| {
            glm::fit(&design, &y, None, None, family, None, control)
                .map_err(|e| self.fit_error(e.to_string()))
        };
        let (fit, alpha) = match (self.family, self.alpha) {
            (Family::Poisson, _) | (Family::NegBin, Some(0.0)) => {
                (glm_fit(glm::Family::Poisson)?, 0.0)
            }
            (Family::NegBin, Some(a)) => (glm_fit(glm::Family::NegBin { theta: 1.0 / a })?, a),
            (Family::NegBin, None) => {
                let (fit, theta) = glm_nb(&design, &y).map_err(|e| self.fit_error(e))?;
                (fit, 1.0 / theta)
            }
        };
        let mut mu0 = Vec::with_capacity(end + 1 - start);
        for i in start..=end {
            self.fill_row(&mut row, (i + 1) as f64, period);
            // R's log link keeps means at or above the machine epsilon.
            mu0.push(fit.linear_predictor(&row).exp().max(f64::EPSILON));
        }
        Ok((mu0, alpha))
    }

    /// Runs the detector over `x` with in-control means `mu0`, restarting after each alarm as
    /// R does; returns `upperbound` (statistic or cases) and the alarms.
    fn detect(&self, x: &[f64], mu0: &[f64], alpha: f64) -> (Vec<f64>, Vec<bool>) {
        let len = x.len();
        let mut out = vec![0.0; len];
        let mut alarms = vec![false; len];
        // Per-series scratch: the statistic of each period (see `Work::poisson_stat`).
        let mut stats = vec![0.0; len];
        let mut exact = vec![false; len];
        let work = Work::new(self, alpha);
        let mut done = 0;
        // The count before the segment (R's `xm10`): 0 at first, then the alarming count.
        let mut before = 0.0;
        while done < len {
            let mut seg = Segment {
                x: &x[done..],
                mu: &mu0[done..],
                before,
                out: &mut out[done..],
                stats: &mut stats[done..],
                exact: &mut exact[done..],
            };
            let stop = work.segment(&mut seg);
            match stop {
                Some(n) => {
                    alarms[done + n] = true;
                    before = x[done + n];
                    done += n + 1;
                }
                None => break,
            }
        }
        for v in &mut out {
            // R sets missing and negative results to 0.
            if v.is_nan() || *v < 0.0 {
                *v = 0.0;
            }
        }
        (out, alarms)
    }
}

/// One run of the detector from a (re)start to the end of the evaluated periods.
struct Segment<'a> {
    x: &'a [f64],
    mu: &'a [f64],
    /// The count before the segment's first period (R's `xm10`).
    before: f64,
    /// `upperbound` as R reports it.
    out: &'a mut [f64],
    /// The statistic of each period (also with `ret=cases`).
    stats: &'a mut [f64],
    /// For `glrnb`: whether every Newton iteration behind the period's statistic converged,
    /// so that it is the true maximum and may bound later windows.
    exact: &'a mut [bool],
}

/// The detector's settings for one series (the dispersion resolved).
struct Work {
    poisson: bool,
    alpha: f64,
    c: f64,
    dir: f64,
    mtilde: usize,
    m: Option<usize>,
    change: Change,
    theta: Option<f64>,
    cases: bool,
    x_max: f64,
}

impl Work {
    fn new(glr: &Glr, alpha: f64) -> Work {
        Work {
            poisson: alpha == 0.0,
            alpha,
            c: glr.c_arl,
            dir: match glr.dir {
                Direction::Inc => 1.0,
                Direction::Dec => -1.0,
            },
            mtilde: glr.mtilde,
            m: glr.m,
            change: glr.change,
            theta: glr.theta,
            cases: glr.ret == Return::Cases,
            x_max: glr.x_max as f64,
        }
    }

    /// One run of the detector from a (re)start: fills `out` up to the alarm (or the end) and
    /// returns the alarm's position in the segment.
    fn segment(&self, seg: &mut Segment) -> Option<usize> {
        let (x, mu, before) = (seg.x, seg.mu, seg.before);
        let out = &mut *seg.out;
        match (self.change, self.theta, self.poisson) {
            (Change::Epi, _, true) => self.epi_poisson(x, mu, before, out),
            (Change::Epi, _, false) => self.epi_negbin(x, mu, before, out),
            (Change::Intercept, Some(kappa), true) => self.lr_poisson(x, mu, kappa, out),
            (Change::Intercept, Some(kappa), false) => self.lr_negbin(x, mu, kappa, out),
            (Change::Intercept, None, true) => self.glr_poisson(x, mu, out, seg.stats),
            (Change::Intercept, None, false) => self.glr_negbin(x, mu, out, seg.stats, seg.exact),
        }
    }

    /// The first change point of the window ending at `n` (R's `low`).
    fn low(&self, n: usize) -> usize {
        self.m.map_or(0, |m| n.saturating_sub(m))
    }

    // ---- Poisson, intercept change, κ estimated -------------------------------------------

    /// The GLR statistic at `n` with `xn` in place of `x[n]`: the window sums grow backwards
    /// from `n`, so each change point costs O(1).
    ///
    /// `before` holds the statistics of the earlier periods of the segment. The profile
    /// likelihood ratio is subadditive over adjacent windows (the supremum of a sum is at most
    /// the sum of the suprema), so every window k'..=n with k' < k is worth at most
    /// G(k−1) + LR(k..=n), G(k−1) the statistic at k−1; once that cannot beat the best window
    /// found, the backward scan stops. This gives R's maximum exactly, usually after a few
    /// change points instead of all of them. (Only for `dir=inc`: with `dec`, R skips the
    /// windows without cases, whose ratio is NaN, so its G(k−1) is no bound.)
    fn poisson_stat(&self, x: &[f64], mu: &[f64], before: &[f64], n: usize, xn: f64) -> f64 {
        let first = self.mtilde - 1;
        let prune = self.dir > 0.0;
        let dir = self.dir;
        let term = |sumx: f64, summu: f64| {
            let kappa = dir * (dir * (sumx / summu).ln()).max(0.0);
            kappa * sumx + (1.0 - kappa.exp()) * summu
        };
        let mut best = NO_MAX;
        match self.m {
            None => {
                // Every change point 0..=n (R's `glr`).
                let (mut sumx, mut summu) = (0.0, 0.0);
                for k in (0..=n).rev() {
                    sumx += if k == n { xn } else { x[k] };
                    summu += mu[k];
                    let s = term(sumx, summu);
                    if s > best {
                        best = s;
                    }
                    if prune && k > first && before[k - 1] + s <= best {
                        break;
                    }
                }
            }
            Some(m) => {
                // R's `glr_window`: the last `mtilde` periods are always in, change points
                // from n - mtilde back to n - m.
                let (mut sumx, mut summu) = (0.0, 0.0);
                for l in n + 1 - self.mtilde..=n {
                    sumx += if l == n { xn } else { x[l] };
                    summu += mu[l];
                }
                let low = n.saturating_sub(m);
                let mut k = n - self.mtilde;
                while k >= low && k < n {
                    sumx += x[k];
                    summu += mu[k];
                    let s = term(sumx, summu);
                    if s > best {
                        best = s;
                    }
                    if k == 0 {
                        break;
                    }
                    k -= 1;
                }
            }
        }
        best
    }

    /// R's `glr_cusum` / `glr_cusum_window`.
    fn glr_poisson(
        &self,
        x: &[f64],
        mu: &[f64],
        out: &mut [f64],
        stats: &mut [f64],
    ) -> Option<usize> {
        let first = match self.m {
            None => self.mtilde - 1,
            Some(_) => self.mtilde,
        };
        for n in first..x.len() {
            let value = self.poisson_stat(x, mu, stats, n, x[n]);
            stats[n] = value;
            out[n] = if self.cases {
                // The fewest cases at n whose statistic passes c_arl (dec: the fewest at which
                // it no longer exceeds it), as R's search from 0 upwards finds them.
                let c = self.c;
                if self.dir > 0.0 {
                    first_true(|v| self.poisson_stat(x, mu, stats, n, v) >= c)
                } else {
                    first_true(|v| self.poisson_stat(x, mu, stats, n, v) <= c)
                }
            } else {
                value
            };
            if value >= self.c {
                return Some(n);
            }
        }
        None
    }

    // ---- Negative binomial, intercept change, κ estimated ---------------------------------

    /// The GLR statistic at `n` with `xn` in place of `x[n]`, as R's `glr_nb_window`: for each
    /// change point, Newton's method for κ started from the previous change point's estimate.
    ///
    /// The log-likelihood is concave in κ, so a window whose score at κ = 0 points away from
    /// `dir` has κ̂ truncated to 0 and ratio exactly 0 whatever Newton's path, and hands 0 on
    /// as the next warm start. Such an "entry" window k cuts R's chain: the windows after it
    /// are computed exactly as R does, starting from 0. And the profile ratio is subadditive
    /// over adjacent windows, so every window starting before k is worth at most
    /// G(k−1) + 0, G(k−1) the statistic at k−1 (`before`): once that cannot beat the best
    /// window, the earlier change points are skipped — provided G(k−1) is the true maximum,
    /// every Newton iteration behind it having converged (`exact`). The scan goes back from `n` entry by
    /// entry; past the last entry, R's chain from its own start (0.5) is followed. Newton's
    /// path is kept exactly because for small counts it can diverge from a poor start, and
    /// then R's value (0) depends on it.
    ///
    /// Returns the statistic and whether it is exact in that sense.
    fn negbin_stat(
        &self,
        x: &[f64],
        mu: &[f64],
        before: &[f64],
        exact: &[bool],
        n: usize,
        xn: f64,
    ) -> (f64, bool) {
        let low = self.low(n);
        let Some(up) = (n + 1).checked_sub(self.mtilde) else {
            return (NO_MAX, false);
        };
        if up < low {
            return (NO_MAX, false);
        }
        if self.mtilde != 1 {
            return self.negbin_block(x, mu, n, xn, low, up, 0.5);
        }
        let mut all_converged = true;
        let (alpha, dir) = (self.alpha, self.dir);
        let xi = |i: usize| if i == n { xn } else { x[i] };
        let mut best = NO_MAX;
        // Windows hi+1..=n are done; the next block ends at hi + 1 (exclusive bound).
        let mut end = n + 1;
        let mut score0 = 0.0;
        let mut k = n;
        loop {
            score0 += (xi(k) - mu[k]) / (1.0 + alpha * mu[k]);
            if dir * score0 <= 0.0 {
                if k + 1 < end {
                    let (b, converged) = self.negbin_block(x, mu, n, xn, k + 1, end - 1, 0.0);
                    all_converged &= converged;
                    if b > best {
                        best = b;
                    }
                }
                if 0.0 > best {
                    best = 0.0;
                }
                end = k;
                if k == low || (exact[k - 1] && before[k - 1] <= best) {
                    return (best, all_converged && (k == low || exact[k - 1]));
                }
            }
            if k == low {
                break;
            }
            k -= 1;
        }
        if low < end {
            let (b, converged) = self.negbin_block(x, mu, n, xn, low, end - 1, 0.5);
            all_converged &= converged;
            if b > best {
                best = b;
            }
        }
        (best, all_converged)
    }

    /// R's loop over the change points `from..=to` for the statistic at `n`, with the warm
    /// start `kappa` entering at `from`; returns the largest ratio and whether every Newton
    /// iteration converged (rather than stopping below −18, at NaN or after 1000 steps).
    #[allow(clippy::too_many_arguments)]
    fn negbin_block(
        &self,
        x: &[f64],
        mu: &[f64],
        n: usize,
        xn: f64,
        from: usize,
        to: usize,
        kappa: f64,
    ) -> (f64, bool) {
        let alpha = self.alpha;
        let dir = self.dir;
        let xi = |i: usize| if i == n { xn } else { x[i] };
        let mut score0 = 0.0;
        for i in from..=n {
            score0 += (xi(i) - mu[i]) / (1.0 + alpha * mu[i]);
        }
        let mut best = NO_MAX;
        let mut converged = true;
        let mut kappa_ml: f64 = kappa;
        for k in from..=to {
            if k > from {
                score0 -= (xi(k - 1) - mu[k - 1]) / (1.0 + alpha * mu[k - 1]);
            }
            let lnk = if dir * score0 <= 0.0 {
                kappa_ml = 0.0;
                0.0
            } else {
                let mut old = 0.4;
                let mut new = kappa_ml;
                let mut iter = 0;
                while new > -18.0 && (new - old).abs() > 1e-6 && iter < 1000 {
                    iter += 1;
                    old = new;
                    let e = old.exp();
                    let (mut score, mut info) = (0.0, 0.0);
                    for i in k..=n {
                        let v = xi(i);
                        let d = 1.0 + alpha * e * mu[i];
                        score += (v - e * mu[i]) / d;
                        info += mu[i] * (alpha * v + 1.0) / (d * d);
                    }
                    new = old + score / (e * info);
                }
                converged &= (new - old).abs() <= 1e-6;
                kappa_ml = dir * (dir * new).max(0.0);
                let e = kappa_ml.exp();
                let mut lnk = 0.0;
                for i in k..=n {
                    let v = xi(i);
                    lnk += kappa_ml * v
                        + (v + 1.0 / alpha)
                            * ((1.0 + alpha * mu[i]) / (1.0 + alpha * mu[i] * e)).ln();
                }
                lnk
            };
            if lnk > best {
                best = lnk;
            }
        }
        (best, converged)
    }

    /// R's `glr_nb_window`, then (for `ret=cases`) R's search for the count that changes the
    /// period's alarm.
    fn glr_negbin(
        &self,
        x: &[f64],
        mu: &[f64],
        out: &mut [f64],
        stats: &mut [f64],
        exact: &mut [bool],
    ) -> Option<usize> {
        let mut stop = None;
        for n in self.mtilde - 1..x.len() {
            let (value, is_exact) = self.negbin_stat(x, mu, stats, exact, n, x[n]);
            stats[n] = value;
            exact[n] = is_exact;
            out[n] = value;
            if value >= self.c {
                stop = Some(n);
                break;
            }
        }
        if self.cases {
            let last = stop.unwrap_or(x.len() - 1);
            for pos in 0..=last {
                out[pos] = self.negbin_cases(x, mu, stats, exact, pos, stop == Some(pos));
            }
        }
        stop
    }

    /// The number of cases R's `algo.glrnb` reports at `pos`: without an alarm there, the
    /// smallest larger count (up to `x_max + 1`) that raises one (10⁹⁹ if none, or if the count
    /// is 0 or above `x_max`); with an alarm, the smallest count down to which it stays (0 when
    /// it would stay down to 0). Before `pos` nothing changes, so only the statistic at `pos`
    /// matters, and it grows with the count at `pos` (for `dir=inc`; falls for `dec`).
    fn negbin_cases(
        &self,
        x: &[f64],
        mu: &[f64],
        stats: &[f64],
        exact: &[bool],
        pos: usize,
        alarmed: bool,
    ) -> f64 {
        let x0 = x[pos];
        let alarm = |v: f64| self.negbin_stat(x, mu, stats, exact, pos, v).0 >= self.c;
        if !alarmed {
            if x0 < 1.0 || x0 > self.x_max || self.dir < 0.0 {
                return NEVER;
            }
            let top = self.x_max + 1.0;
            if !alarm(top) {
                return NEVER;
            }
            // First alarming count in (x0, top].
            let (mut lo, mut hi) = (x0, top);
            let mut step = 1.0;
            while x0 + step < top {
                if alarm(x0 + step) {
                    hi = x0 + step;
                    break;
                }
                lo = x0 + step;
                step *= 2.0;
            }
            bisect(&alarm, lo, hi)
        } else {
            if x0 < 1.0 || self.dir < 0.0 {
                return 0.0;
            }
            if alarm(0.0) {
                return 0.0;
            }
            // First alarming count in (0, x0].
            bisect(&alarm, 0.0, x0)
        }
    }

    // ---- Known change size: likelihood-ratio CUSUM -----------------------------------------

    /// R's `lr_cusum`.
    fn lr_poisson(&self, x: &[f64], mu: &[f64], kappa: f64, out: &mut [f64]) -> Option<usize> {
        let grow = kappa.exp() - 1.0;
        self.lr_cusum(x.len(), out, |n, prev| {
            let z = kappa * x[n] + (1.0 - kappa.exp()) * mu[n];
            (z, (self.c - prev + mu[n] * grow) / kappa)
        })
    }

    /// R's `lr_cusum_nb`.
    fn lr_negbin(&self, x: &[f64], mu: &[f64], kappa: f64, out: &mut [f64]) -> Option<usize> {
        let alpha = self.alpha;
        self.lr_cusum(x.len(), out, |n, prev| {
            let ratio = ((1.0 + alpha * mu[n]) / (1.0 + alpha * mu[n] * kappa.exp())).ln();
            let z = kappa * x[n] + (x[n] + 1.0 / alpha) * ratio;
            (
                z,
                -(prev * alpha + ratio - self.c * alpha) / alpha / (kappa + ratio),
            )
        })
    }

    /// The likelihood-ratio CUSUM shared by both families: `step(n, previous statistic)` gives
    /// period `n`'s log-likelihood-ratio increment and the count that would alarm there.
    /// Stops at the first alarm.
    fn lr_cusum(
        &self,
        len: usize,
        out: &mut [f64],
        step: impl Fn(usize, f64) -> (f64, f64),
    ) -> Option<usize> {
        let mut prev = 0.0;
        for n in 0..len {
            let (z, cases) = step(n, prev);
            let value = (prev + z).max(0.0);
            out[n] = if self.cases { cases } else { value };
            if value > self.c {
                return Some(n);
            }
            prev = value;
        }
        None
    }

    // ---- Epidemic chart ---------------------------------------------------------------------

    /// R's `glr_epi_window`: μ₁ = μ₀ + λ·x₋₁, λ by Newton's method on log λ.
    fn epi_poisson(&self, x: &[f64], mu: &[f64], before: f64, out: &mut [f64]) -> Option<usize> {
        let prev = |i: usize| if i == 0 { before } else { x[i - 1] };
        for n in self.mtilde - 1..x.len() {
            let mut best = NO_MAX;
            let low = self.low(n);
            let up = n + 1 - self.mtilde;
            let mut lambda: f64 = 0.5;
            for k in low..=up {
                let mut old: f64 = 2.0;
                let mut new = lambda.ln();
                let mut iter = 0;
                while new > -18.0 && (new.exp() - old.exp()).abs() > 1e-6 && iter < 1000 {
                    iter += 1;
                    old = new;
                    let e = old.exp();
                    let (mut s, mut f) = (0.0, 0.0);
                    for i in k..=n {
                        let xm1 = prev(i);
                        let d = e * xm1 + mu[i];
                        s += (x[i] * xm1) / d - xm1;
                        f += (x[i] * (xm1 * xm1)) / (d * d);
                    }
                    let score = e * s;
                    let fisher = -score + (2.0 * old).exp() * f;
                    new = old + score / fisher;
                }
                lambda = new.exp();
                let mut lnk = 0.0;
                for i in k..=n {
                    let xm1 = prev(i);
                    lnk += x[i] * (lambda * xm1 / mu[i] + 1.0).ln() - lambda * xm1;
                }
                if lnk > best {
                    best = lnk;
                }
            }
            out[n] = best;
            if best > self.c {
                return Some(n);
            }
        }
        None
    }

    /// R's `glr_nbgeneral_window`: the epidemic alternative μ₁ = μ₀ + e^θ·x₋₁, with θ found
    /// (as R does) by the intercept chart's Newton iteration.
    fn epi_negbin(&self, x: &[f64], mu: &[f64], before: f64, out: &mut [f64]) -> Option<usize> {
        let alpha = self.alpha;
        let prev = |i: usize| if i == 0 { before } else { x[i - 1] };
        for n in self.mtilde - 1..x.len() {
            let mut best = NO_MAX;
            let low = self.low(n);
            let up = n + 1 - self.mtilde;
            let mut theta: f64 = 0.5;
            for k in low..=up {
                let mut old = 0.4;
                let mut new = theta;
                let mut iter = 0;
                while new > -18.0 && (new - old).abs() > 1e-6 && iter < 1000 {
                    iter += 1;
                    old = new;
                    let e = old.exp();
                    let (mut score, mut info) = (0.0, 0.0);
                    for i in k..=n {
                        let d = 1.0 + alpha * e * mu[i];
                        score += (x[i] - e * mu[i]) / d;
                        info += mu[i] * (alpha * x[i] + 1.0) / (d * d);
                    }
                    new = old + score / (e * info);
                }
                theta = new;
                let e = theta.exp();
                let mut lnk = 0.0;
                for i in k..=n {
                    let mu1 = mu[i] + e * prev(i);
                    let a0 = (1.0 + alpha * mu[i]).ln();
                    let a1 = (1.0 + alpha * mu1).ln();
                    lnk += x[i] * (mu1.ln() - mu[i].ln() + a0 - a1) + 1.0 / alpha * (a0 - a1);
                }
                if lnk > best {
                    best = lnk;
                }
            }
            out[n] = best;
            if best >= self.c {
                return Some(n);
            }
        }
        None
    }
}

/// The smallest whole number v ≥ 0 with `pred(v)`, for a predicate that is false and then
/// true: R's count-by-count search, by doubling then bisection.
fn first_true(pred: impl Fn(f64) -> bool) -> f64 {
    if pred(0.0) {
        return 0.0;
    }
    let mut lo = 0.0;
    let mut hi = 1.0;
    while !pred(hi) {
        lo = hi;
        hi *= 2.0;
        if hi > 1e15 {
            return f64::NAN;
        }
    }
    bisect(&pred, lo, hi)
}

/// The smallest whole number in (lo, hi] with `pred`, given `!pred(lo)` and `pred(hi)`.
fn bisect(pred: &impl Fn(f64) -> bool, mut lo: f64, mut hi: f64) -> f64 {
    while hi - lo > 1.0 {
        let mid = ((lo + hi) / 2.0).floor();
        if pred(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

impl Detector for Glr {
    fn method(&self) -> &'static str {
        self.name()
    }

    fn describe(&self) -> String {
        let mut parts = vec![
            format!("c_arl={}", self.c_arl),
            format!("mu0_harmonics={}", self.mu0_harmonics),
            format!("mu0_trend={}", self.mu0_trend),
        ];
        if self.family == Family::NegBin {
            parts.push(format!(
                "alpha={}",
                self.alpha
                    .map_or_else(|| "estimated".to_owned(), |a| a.to_string())
            ));
        }
        parts.push(format!("mtilde={}", self.mtilde));
        parts.push(format!(
            "m={}",
            self.m.map_or_else(|| "-1".to_owned(), |m| m.to_string())
        ));
        parts.push(format!(
            "change={}",
            match self.change {
                Change::Intercept => "intercept",
                Change::Epi => "epi",
            }
        ));
        parts.push(format!(
            "theta={}",
            self.theta
                .map_or_else(|| "estimated".to_owned(), |t| t.to_string())
        ));
        parts.push(format!(
            "dir={}",
            match self.dir {
                Direction::Inc => "inc",
                Direction::Dec => "dec",
            }
        ));
        parts.push(format!(
            "ret={}",
            match self.ret {
                Return::Value => "value",
                Return::Cases => "cases",
            }
        ));
        parts.push(format!("x_max={}", self.x_max));
        parts.join(";")
    }

    /// One more period of history than the in-control model has coefficients.
    fn first_index(&self, _series: &Series) -> Result<usize, DetectError> {
        Ok(self.columns() + 1)
    }

    fn evaluate(
        &self,
        series: &Series,
        range: RangeInclusive<usize>,
    ) -> Result<Vec<Evaluation>, DetectError> {
        let (start, end) = (*range.start(), *range.end());
        if start > end || end >= series.len() {
            return Ok(Vec::new());
        }
        let first = self.first_index(series)?;
        if start < first {
            return Err(DetectError::NotEnoughHistory {
                method: self.name(),
                needed: first,
                available: start,
                first_possible: series.dates().get(first).copied(),
            });
        }
        let mut x = Vec::with_capacity(end + 1 - start);
        for i in start..=end {
            match series.counts()[i] {
                // R hands the counts to C as integers.
                Some(c) => x.push(c.trunc()),
                None => {
                    return Err(DetectError::Missing {
                        method: self.name(),
                        date: series.dates()[i],
                    });
                }
            }
        }
        let (mu0, alpha) = self.in_control(series, start, end)?;
        if alpha != 0.0 && !(alpha.is_finite() && alpha > 0.0) {
            return Err(self.fit_error(format!("the estimated overdispersion is {alpha}")));
        }
        let (upper, alarms) = self.detect(&x, &mu0, alpha);
        Ok((0..x.len())
            .map(|i| Evaluation {
                index: start + i,
                expected: Some(mu0[i]),
                upperbound: Some(upper[i]),
                alarm: alarms[i],
                ..Evaluation::default()
            })
            .collect())
    }
}

// ---- MASS::glm.nb ---------------------------------------------------------------------------

/// Fits a negative-binomial GLM with unknown size θ as `MASS::glm.nb` does: a Poisson fit, then
/// alternately θ by maximum likelihood (at the previous means) and IRLS at that θ, until the
/// log-likelihood and θ settle. Returns the last fit and θ.
fn glm_nb(x: &Design, y: &[f64]) -> Result<(Fit, f64), String> {
    let control = Control::default();
    let limit = control.max_iter;
    let n = y.len() as f64;
    let mut fit = glm::fit(x, y, None, None, glm::Family::Poisson, None, control)
        .map_err(|e| e.to_string())?;
    let mut mu = fit.mu.clone();
    let mut theta = theta_ml(y, &mu, n, limit);
    let d1 = (2.0 * (fit.df_residual.max(1) as f64)).sqrt();
    let d2 = 1.0;
    let mut del: f64 = 1.0;
    let mut lm = nb_loglik(theta, &mu, y);
    let mut lm0 = lm + 2.0 * d1;
    let mut iter = 0;
    let mut eta = vec![0.0; y.len()];
    loop {
        iter += 1;
        if !(iter <= limit && ((lm0 - lm).abs() / d1 + del.abs() / d2) > control.epsilon) {
            break;
        }
        if !(theta.is_finite() && theta > 0.0) {
            return Err(format!("the negative-binomial size θ became {theta}"));
        }
        for (e, m) in eta.iter_mut().zip(&mu) {
            *e = m.ln();
        }
        fit = glm::fit(
            x,
            y,
            None,
            None,
            glm::Family::NegBin { theta },
            Some(&eta),
            control,
        )
        .map_err(|e| e.to_string())?;
        let t0 = theta;
        // As glm.nb: θ from the means of the previous fit, then the means move on.
        theta = theta_ml(y, &mu, n, limit);
        mu.copy_from_slice(&fit.mu);
        del = t0 - theta;
        lm0 = lm;
        lm = nb_loglik(theta, &mu, y);
    }
    if !(theta.is_finite() && theta > 0.0) {
        return Err(format!("the negative-binomial size θ became {theta}"));
    }
    Ok((fit, theta))
}

/// The negative-binomial log-likelihood as glm.nb writes it.
fn nb_loglik(theta: f64, mu: &[f64], y: &[f64]) -> f64 {
    let mut sum = 0.0;
    for (&m, &v) in mu.iter().zip(y) {
        let zero = if v == 0.0 { 1.0 } else { 0.0 };
        sum += ln_gamma(theta + v) - ln_gamma(theta) - ln_gamma(v + 1.0)
            + theta * theta.ln()
            + v * (m + zero).ln()
            - (theta + v) * (theta + m).ln();
    }
    sum
}

/// `MASS::theta.ml`: Newton's method on the score of θ, from the moment estimate
/// n / Σ(y/μ − 1)², while fewer than `limit` iterations were made and the step exceeds
/// ε^¼; a negative result is truncated to 0.
fn theta_ml(y: &[f64], mu: &[f64], n: f64, limit: usize) -> f64 {
    let eps = f64::EPSILON.powf(0.25);
    let mut t0 = n / y
        .iter()
        .zip(mu)
        .map(|(&v, &m)| (v / m - 1.0).powi(2))
        .sum::<f64>();
    let mut it = 0;
    let mut del: f64 = 1.0;
    loop {
        it += 1;
        if !(it < limit && del.abs() > eps) {
            break;
        }
        t0 = t0.abs();
        let (mut score, mut info) = (0.0, 0.0);
        let (dg, tg) = (digamma(t0), trigamma(t0));
        for (&v, &m) in y.iter().zip(mu) {
            score += digamma(t0 + v) - dg + t0.ln() + 1.0 - (t0 + m).ln() - (v + t0) / (m + t0);
            info +=
                -trigamma(t0 + v) + tg - 1.0 / t0 + 2.0 / (m + t0) - (v + t0) / (m + t0).powi(2);
        }
        del = score / info;
        t0 += del;
    }
    t0.max(0.0)
}

/// ψ(x), the digamma function, for x > 0: recurrence up to x ≥ 10, then the asymptotic series
/// (error below 1e-16 there).
pub(crate) fn digamma(mut x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    let mut acc = 0.0;
    while x < 10.0 {
        acc -= 1.0 / x;
        x += 1.0;
    }
    let f = 1.0 / (x * x);
    let series = f
        * (1.0 / 12.0
            - f * (1.0 / 120.0
                - f * (1.0 / 252.0
                    - f * (1.0 / 240.0 - f * (1.0 / 132.0 - f * (691.0 / 32760.0 - f / 12.0))))));
    acc + x.ln() - 0.5 / x - series
}

/// ψ′(x), the trigamma function, for x > 0: recurrence up to x ≥ 10, then the asymptotic
/// series in the Bernoulli numbers.
pub(crate) fn trigamma(mut x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    let mut acc = 0.0;
    while x < 10.0 {
        acc += 1.0 / (x * x);
        x += 1.0;
    }
    let r = 1.0 / x;
    let f = r * r;
    let series = r
        + f / 2.0
        + r * f
            * (1.0 / 6.0
                - f * (1.0 / 30.0
                    - f * (1.0 / 42.0
                        - f * (1.0 / 30.0
                            - f * (5.0 / 66.0 - f * (691.0 / 2730.0 - f * 7.0 / 6.0))))));
    acc + series
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1e-300)
    }

    /// R: `digamma(c(0.05, 0.7, 3.2, 12.5, 480))`, `trigamma(...)`.
    #[test]
    fn polygamma_matches_r() {
        let xs = [0.05, 0.7, 3.2, 12.5, 480.0];
        let dg = [
            -20.49784499129987,
            -1.220023553697935,
            0.9988388912865995,
            2.4851956512749123,
            6.172744075545612,
        ];
        let tg = [
            401.53235734211506,
            2.8340491566946104,
            0.3663211907314008,
            0.08328522460157835,
            0.0020855049792618085,
        ];
        for i in 0..xs.len() {
            assert!(close(digamma(xs[i]), dg[i], 1e-13), "digamma({})", xs[i]);
            assert!(close(trigamma(xs[i]), tg[i], 1e-13), "trigamma({})", xs[i]);
        }
    }

    /// R (MASS 7.3-58.2): `x <- 1:24; y <- c(3,0,5,2,8,4,1,9,6,3,12,5,7,2,15,9,4,11,8,20,6,13,
    /// 10,25); f <- glm.nb(y ~ x + cos(2*pi*x/12)); f$theta; coef(f)`.
    #[test]
    fn glm_nb_matches_mass() {
        let y = [
            3.0, 0.0, 5.0, 2.0, 8.0, 4.0, 1.0, 9.0, 6.0, 3.0, 12.0, 5.0, 7.0, 2.0, 15.0, 9.0, 4.0,
            11.0, 8.0, 20.0, 6.0, 13.0, 10.0, 25.0,
        ];
        let mut x = Design::new(3);
        for t in 1..=24 {
            let t = t as f64;
            x.push(&[1.0, t, (2.0 * std::f64::consts::PI * t / 12.0).cos()]);
        }
        let (fit, theta) = glm_nb(&x, &y).unwrap_or_else(|e| panic!("{e}"));
        assert!(close(theta, 6.13108470923727, 1e-9), "theta {theta}");
        let want = [0.9970684084866299, 0.0744878979933154, 0.00402840970985488];
        for (b, w) in fit.coefficients.iter().zip(want) {
            assert!(close(b.unwrap_or(f64::NAN), w, 1e-8), "{b:?} vs {w}");
        }
    }

    /// The early stop of the Poisson scan (subadditivity) must give the full scan's maximum.
    #[test]
    fn pruned_poisson_scan_equals_the_full_scan() {
        let mut params = Params::default();
        let glr = Glr::from_params(Family::Poisson, &mut params).unwrap_or_else(|e| panic!("{e}"));
        let work = Work::new(&glr, 0.0);
        let mut seed: u64 = 7;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let n = 400;
        let mu: Vec<f64> = (0..n).map(|t| 4.0 + 3.0 * (t as f64 * 0.1).sin()).collect();
        let x: Vec<f64> = mu
            .iter()
            .map(|m| (m * 2.0 * next()).floor() + if next() < 0.05 { 6.0 } else { 0.0 })
            .collect();
        let mut stats = vec![0.0; n];
        let no_bound = vec![f64::INFINITY; n];
        let mut pruned_somewhere = false;
        for t in 0..n {
            let full = work.poisson_stat(&x, &mu, &no_bound, t, x[t]);
            let fast = work.poisson_stat(&x, &mu, &stats, t, x[t]);
            assert!(
                (full - fast).abs() <= 1e-12 * full.abs().max(1.0),
                "{t}: {full} {fast}"
            );
            for v in [0.0, 3.0, 20.0] {
                let full = work.poisson_stat(&x, &mu, &no_bound, t, v);
                let fast = work.poisson_stat(&x, &mu, &stats, t, v);
                assert!((full - fast).abs() <= 1e-12 * full.abs().max(1.0));
            }
            stats[t] = fast;
            pruned_somewhere |= t > 10 && fast == 0.0;
        }
        assert!(pruned_somewhere);
    }

    /// The negative-binomial scan with its cuts and early stop must give R's full loop's
    /// value, also on sparse counts where Newton's method often diverges.
    #[test]
    fn pruned_negbin_scan_equals_r_loop() {
        let mut seed: u64 = 11;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut pruned = 0;
        for (level, alpha, dir) in [
            (0.05, 0.8, "inc"),
            (0.3, 0.3, "inc"),
            (6.0, 0.1, "inc"),
            (6.0, 0.1, "dec"),
        ] {
            let mut params = Params::parse(&format!("alpha={alpha};dir={dir}")).unwrap_or_default();
            let glr =
                Glr::from_params(Family::NegBin, &mut params).unwrap_or_else(|e| panic!("{e}"));
            let work = Work::new(&glr, alpha);
            let n = 300;
            let mu: Vec<f64> = (0..n)
                .map(|t| level * (1.0 + 0.5 * (t as f64 * 0.12).sin()))
                .collect();
            let x: Vec<f64> = mu
                .iter()
                .map(|m| (m * 2.0 * next()).round() + if next() < 0.04 { 3.0 } else { 0.0 })
                .collect();
            let mut stats = vec![0.0; n];
            let mut exact = vec![false; n];
            for t in 0..n {
                let (full, _) = work.negbin_block(&x, &mu, t, x[t], 0, t, 0.5);
                let (fast, is_exact) = work.negbin_stat(&x, &mu, &stats, &exact, t, x[t]);
                let tol = 1e-9 * full.abs().max(1.0);
                assert!(
                    (full - fast).abs() <= tol,
                    "{level} {dir} {t}: {full} {fast}"
                );
                let (full_v, _) = work.negbin_block(&x, &mu, t, 7.0, 0, t, 0.5);
                let (fast_v, _) = work.negbin_stat(&x, &mu, &stats, &exact, t, 7.0);
                assert!((full_v - fast_v).abs() <= 1e-9 * full_v.abs().max(1.0));
                stats[t] = fast;
                exact[t] = is_exact;
                pruned += usize::from(is_exact && t > 0 && stats[t - 1] == 0.0);
            }
        }
        assert!(pruned > 0);
    }
}
