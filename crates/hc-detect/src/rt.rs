//! The instantaneous reproduction number Rt (Cori et al. 2013), as EpiEstim's `estimate_R`.
//!
//! This reproduces EpiEstim 2.2-4's
//! `estimate_R(incid, method = "parametric_si", config = make_config(list(mean_si, std_si)))`,
//! and `method = "non_parametric_si"` with a given distribution `si_distr` (weights of days
//! 0, 1, 2, …; day 0 must weigh 0 and the weights sum to 1; days beyond it weigh 0):
//!
//! * **Serial interval.** The serial interval is a gamma distribution of mean `mean_si - 1` and
//!   standard deviation `std_si`, shifted by one day and discretised as EpiEstim's `discr_si`
//!   does: the weight of day `k` is the probability mass that a linear interpolation of the
//!   continuous distribution puts on `k`, written with gamma CDFs of shape `a = ((μ-1)/σ)²`,
//!   scale `b = σ²/(μ-1)` and of shape `a + 1`:
//!   `w(k) = k F_a(k) + (k-2) F_a(k-2) - 2(k-1) F_a(k-1) + ab (2 F_{a+1}(k-1) - F_{a+1}(k-2) - F_{a+1}(k))`,
//!   clamped at zero (so `w(0) = 0`). EpiEstim evaluates it on days `0..T-1`, where `T` is the
//!   length of the series, and neither renormalises nor extends it.
//! * **Infectivity.** `Λ(t) = Σ_{k≥1} w(k) I(t-k)`, the incidence weighted by the serial
//!   interval (all cases of the first day count as imported: they infect but are not counted
//!   as infected).
//! * **Posterior.** With a gamma prior of mean `mean_prior` and standard deviation `std_prior`
//!   (shape `(m/s)²`, scale `s²/m`) and Poisson incidence, Rt over the window `[t_s, t_e]` has a
//!   gamma posterior of shape `a_prior + Σ I(t)` and scale `1 / (1/b_prior + Σ Λ(t))`, the sums
//!   running over the window. We report its mean, standard deviation, 2.5% quantile, median and
//!   97.5% quantile.
//! * **Windows.** EpiEstim's default: sliding windows of `window` (7) days,
//!   `t_start = 2..=T-window+1`, `t_end = t_start + window - 1` (1-based, as in R).
//! * **Where estimates start.** EpiEstim gives `NA` for every window whose end is not later
//!   than the mean of the discretised serial interval (`Σ k w(k)`), because too little of the
//!   infectiousness has been observed; those windows are always the first ones, and
//!   [`estimate`] leaves them out, so its first estimate is R's first non-`NA` row. EpiEstim
//!   also warns (and still estimates) when the first window holds fewer cases than the
//!   posterior coefficient of variation asks for; we estimate likewise.
//!
//! Gamma quantiles are computed by a bracketed Newton iteration on the regularised incomplete
//! gamma function to full double precision (R's `qgamma` agrees to ~1e-12 or better).

use statrs::function::gamma::{checked_gamma_lr, ln_gamma};

/// The serial interval: the time from a case's symptom onset to that of the case it infects.
#[derive(Debug, Clone, PartialEq)]
pub enum SerialInterval {
    /// A gamma distribution shifted by one time step, discretised as EpiEstim's `discr_si`
    /// (`method = "parametric_si"`).
    Parametric {
        /// Mean, in time steps (must be > 1).
        mean: f64,
        /// Standard deviation (must be > 0).
        std: f64,
    },
    /// Weights of time steps 0, 1, 2, … (`method = "non_parametric_si"`, `si_distr`): the first
    /// must be 0, none negative, and they must sum to 1.
    NonParametric(Vec<f64>),
}

/// How to estimate Rt.
#[derive(Debug, Clone, PartialEq)]
pub struct RtConfig {
    /// The serial interval.
    pub si: SerialInterval,
    /// Length of the sliding windows, in time steps (EpiEstim: 7).
    pub window: usize,
    /// Mean of the gamma prior on Rt (EpiEstim: 5).
    pub mean_prior: f64,
    /// Standard deviation of the gamma prior on Rt (EpiEstim: 5).
    pub std_prior: f64,
}

impl RtConfig {
    /// EpiEstim's defaults (weekly windows, prior of mean 5 and standard deviation 5) with the
    /// given serial interval.
    pub fn new(mean_si: f64, std_si: f64) -> RtConfig {
        RtConfig::with(SerialInterval::Parametric {
            mean: mean_si,
            std: std_si,
        })
    }

    /// EpiEstim's defaults with a non-parametric serial interval (`si_distr`).
    pub fn non_parametric(si_distr: Vec<f64>) -> RtConfig {
        RtConfig::with(SerialInterval::NonParametric(si_distr))
    }

    fn with(si: SerialInterval) -> RtConfig {
        RtConfig {
            si,
            window: 7,
            mean_prior: 5.0,
            std_prior: 5.0,
        }
    }
}

/// The posterior of Rt over one window.
#[derive(Debug, Clone, PartialEq)]
pub struct RtEstimate {
    /// First time step of the window (1-based, as in R).
    pub t_start: usize,
    /// Last time step of the window (1-based, as in R).
    pub t_end: usize,
    /// Posterior mean.
    pub mean: f64,
    /// Posterior standard deviation.
    pub std: f64,
    /// Posterior 2.5% quantile.
    pub q025: f64,
    /// Posterior median.
    pub median: f64,
    /// Posterior 97.5% quantile.
    pub q975: f64,
}

/// Why Rt could not be estimated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RtError {
    /// The series is shorter than one window after the first time step.
    #[error(
        "Rt needs at least {needed} time steps (the first, then one window of {window}); the incidence has {len}"
    )]
    TooShort {
        /// Time steps given.
        len: usize,
        /// Time steps needed.
        needed: usize,
        /// The window length.
        window: usize,
    },
    /// An incidence is negative, infinite or not a number.
    #[error(
        "incidence at time step {step} is {value}; it must be a finite number of cases, zero or more"
    )]
    Incidence {
        /// The time step (1-based).
        step: usize,
        /// The value found.
        value: f64,
    },
    /// The mean serial interval is not above 1 (EpiEstim shifts the gamma by one time step).
    #[error("the mean serial interval must be greater than 1; it is {0}")]
    MeanSi(f64),
    /// The serial interval's standard deviation is not positive.
    #[error("the standard deviation of the serial interval must be greater than 0; it is {0}")]
    StdSi(f64),
    /// A non-parametric serial interval that is not a distribution starting at 0 on day 0.
    #[error("the serial interval distribution {0}")]
    SiDistr(&'static str),
    /// The window length is zero.
    #[error("the window must be at least 1 time step long")]
    Window,
    /// The prior's mean or standard deviation is not positive.
    #[error(
        "the prior on Rt needs a positive finite mean and standard deviation; they are {mean} and {std}"
    )]
    Prior {
        /// The prior mean.
        mean: f64,
        /// The prior standard deviation.
        std: f64,
    },
}

/// Estimates Rt on sliding windows of `config.window` time steps, as EpiEstim's `estimate_R`
/// with a parametric serial interval; the windows for which EpiEstim gives `NA` (those ending
/// no later than the mean serial interval) are left out.
pub fn estimate(incidence: &[f64], config: &RtConfig) -> Result<Vec<RtEstimate>, RtError> {
    // Negated comparisons so that NaN fails them too.
    match &config.si {
        SerialInterval::Parametric { mean, std } => {
            if !(*mean > 1.0 && mean.is_finite()) {
                return Err(RtError::MeanSi(*mean));
            }
            if !(*std > 0.0 && std.is_finite()) {
                return Err(RtError::StdSi(*std));
            }
        }
        SerialInterval::NonParametric(w) => check_si_distr(w)?,
    }
    if config.window == 0 {
        return Err(RtError::Window);
    }
    let (mp, sp) = (config.mean_prior, config.std_prior);
    if !(mp > 0.0 && mp.is_finite() && sp > 0.0 && sp.is_finite()) {
        return Err(RtError::Prior { mean: mp, std: sp });
    }
    let len = incidence.len();
    let needed = config.window + 1;
    if len < needed {
        return Err(RtError::TooShort {
            len,
            needed,
            window: config.window,
        });
    }
    if let Some((i, &value)) = incidence
        .iter()
        .enumerate()
        .find(|(_, v)| !(v.is_finite() && **v >= 0.0))
    {
        return Err(RtError::Incidence { step: i + 1, value });
    }

    let si = match &config.si {
        SerialInterval::Parametric { mean, std } => discr_si(len, *mean, *std),
        // EpiEstim pads a shorter distribution with zeros and ignores what lies beyond the
        // series; weights past the series' length cannot reach any case.
        SerialInterval::NonParametric(w) => {
            let mut si = w.clone();
            si.resize(len.max(w.len()), 0.0);
            si
        }
    };
    let mean_si: f64 = si.iter().enumerate().map(|(k, w)| k as f64 * w).sum();
    let lambda = infectivity(incidence, &si);

    let a_prior = (mp / sp).powi(2);
    let b_prior = sp * sp / mp;
    let mut out = Vec::with_capacity(len - config.window);
    for t_start in 2..=len + 1 - config.window {
        let t_end = t_start + config.window - 1;
        if t_end as f64 <= mean_si {
            continue;
        }
        let window = t_start - 1..t_end;
        let cases: f64 = incidence[window.clone()].iter().sum();
        let infectivity: f64 = lambda[window].iter().sum();
        let shape = a_prior + cases;
        let scale = 1.0 / (1.0 / b_prior + infectivity);
        out.push(RtEstimate {
            t_start,
            t_end,
            mean: shape * scale,
            std: shape.sqrt() * scale,
            q025: gamma_quantile(0.025, shape) * scale,
            median: gamma_quantile(0.5, shape) * scale,
            q975: gamma_quantile(0.975, shape) * scale,
        });
    }
    Ok(out)
}

/// EpiEstim's checks of `si_distr`: day 0 weighs 0, no weight is negative, and they sum to 1
/// (within 0.01, as EpiEstim allows).
fn check_si_distr(w: &[f64]) -> Result<(), RtError> {
    if w.is_empty() {
        return Err(RtError::SiDistr("is empty"));
    }
    if w.iter().any(|v| !(v.is_finite() && *v >= 0.0)) {
        return Err(RtError::SiDistr("has a negative or non-numeric weight"));
    }
    if w[0] != 0.0 {
        return Err(RtError::SiDistr("must give day 0 a weight of 0"));
    }
    if (w.iter().sum::<f64>() - 1.0).abs() > 0.01 {
        return Err(RtError::SiDistr("must sum to 1"));
    }
    Ok(())
}

/// EpiEstim's `discr_si(0..len-1, mean_si, std_si)`: the discretised, one-day-shifted gamma
/// serial interval, `w[k]` for `k < len`. Trailing weights are computed only while they can be
/// non-zero: once both CDFs equal 1 at `k - 2`, the formula gives exactly 0 from there on.
pub fn discr_si(len: usize, mean_si: f64, std_si: f64) -> Vec<f64> {
    let a = ((mean_si - 1.0) / std_si).powi(2);
    let b = std_si * std_si / (mean_si - 1.0);
    let cdf = |shape: f64, x: f64| -> f64 {
        if x <= 0.0 {
            0.0
        } else {
            // Arguments are positive and finite here, so this cannot fail; NaN otherwise.
            checked_gamma_lr(shape, x / b).unwrap_or(f64::NAN)
        }
    };
    let mut w = vec![0.0; len];
    for (k, slot) in w.iter_mut().enumerate() {
        let k = k as f64;
        let (f0, f1, f2) = (cdf(a, k), cdf(a, k - 1.0), cdf(a, k - 2.0));
        let (g0, g1, g2) = (
            cdf(a + 1.0, k),
            cdf(a + 1.0, k - 1.0),
            cdf(a + 1.0, k - 2.0),
        );
        let mut res = k * f0 + (k - 2.0) * f2 - 2.0 * (k - 1.0) * f1;
        res += a * b * (2.0 * g1 - g2 - g0);
        // `max(0, e)` as in R; NaN (impossible for valid inputs) stays out.
        *slot = if res > 0.0 { res } else { 0.0 };
        if f2 == 1.0 && g2 == 1.0 {
            break;
        }
    }
    w
}

/// EpiEstim's `overall_infectivity`: `Λ(t) = Σ_{k=1}^{t-1} w(k) I(t-k)` (0-based `t`), with
/// `Λ(0)` unused (0 here; R has `NA`). Only the non-zero head of `w` is used.
fn infectivity(incidence: &[f64], si: &[f64]) -> Vec<f64> {
    let support = si.iter().rposition(|&w| w > 0.0).map_or(0, |k| k + 1);
    let si = &si[..support];
    (0..incidence.len())
        .map(|t| {
            (1..si.len().min(t + 1))
                .map(|k| si[k] * incidence[t - k])
                .sum()
        })
        .collect()
}

/// The `p` quantile of the gamma distribution of shape `shape` and scale 1 (R's
/// `qgamma(p, shape)`), for `0 < p < 1` and `shape > 0`: Newton's method on the regularised
/// lower incomplete gamma function, kept inside a bracket that bisection shrinks when a Newton
/// step would leave it, until the step is below 4 ulps.
pub fn gamma_quantile(p: f64, shape: f64) -> f64 {
    if !(p > 0.0 && p < 1.0 && shape > 0.0 && shape.is_finite()) {
        return if p == 0.0 {
            0.0
        } else if p == 1.0 {
            f64::INFINITY
        } else {
            f64::NAN
        };
    }
    let cdf = |x: f64| checked_gamma_lr(shape, x).unwrap_or(f64::NAN);
    let ln_norm = ln_gamma(shape);
    let pdf = |x: f64| ((shape - 1.0) * x.ln() - x - ln_norm).exp();

    // Wilson–Hilferty start, then a bracket around the root.
    let z = statrs_normal_quantile(p);
    let c = 1.0 / (9.0 * shape);
    let mut x = shape * (1.0 - c + z * c.sqrt()).powi(3);
    if !(x > 0.0 && x.is_finite()) {
        x = shape.max(1e-3);
    }
    let (mut low, mut high) = (x, x);
    while low > f64::MIN_POSITIVE && cdf(low) > p {
        low /= 2.0;
    }
    while cdf(high) < p {
        high *= 2.0;
    }
    if low == high {
        low = 0.0;
    }
    for _ in 0..200 {
        let f = cdf(x) - p;
        if f == 0.0 {
            return x;
        }
        if f > 0.0 {
            high = x;
        } else {
            low = x;
        }
        let mut next = x - f / pdf(x);
        if !(next.is_finite() && next > low && next < high) {
            next = 0.5 * (low + high);
        }
        let done = (next - x).abs() <= 4.0 * f64::EPSILON * x.abs();
        x = next;
        if done || high - low <= 4.0 * f64::EPSILON * high {
            break;
        }
    }
    x
}

/// The standard normal quantile, for the starting point only.
fn statrs_normal_quantile(p: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    Normal::standard().inverse_cdf(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * a.abs().max(b.abs())
    }

    #[test]
    fn gamma_quantile_matches_r() {
        // R: qgamma(p, shape), printed with 17 significant digits.
        let cases = [
            (0.025, 0.5, 4.910345585876281e-04),
            (0.5, 1.0, std::f64::consts::LN_2),
            (0.975, 3.0, 7.224687667723958e+00),
            (0.025, 10.0, 4.795388696132433e+00),
            (0.5, 100.0, 9.966686491931543e+01),
            (0.975, 2500.0, 2.598941885961899e+03),
            (0.025, 0.05, 5.31566188991432e-33),
        ];
        for (p, shape, r) in cases {
            let ours = gamma_quantile(p, shape);
            assert!(
                close(ours, r, 1e-12),
                "qgamma({p}, {shape}) = {ours}, R {r}"
            );
        }
        assert_eq!(gamma_quantile(0.0, 2.0), 0.0);
        assert!(gamma_quantile(0.5, -1.0).is_nan());
    }

    #[test]
    fn discr_si_matches_r() {
        // R: EpiEstim::discr_si(0:9, 2.6, 1.5)
        let r = [
            0.0,
            0.233172125407541,
            0.358579400315597,
            0.198110828540314,
            0.103342655427939,
            0.0529051752478139,
            0.0268214619516162,
            0.0135161980894376,
            0.00678343781535382,
            0.00339435135929911,
        ];
        let ours = discr_si(10, 2.6, 1.5);
        for (k, (o, r)) in ours.iter().zip(r).enumerate() {
            assert!(close(*o, r, 1e-12), "w[{k}] = {o}, R {r}");
        }
    }
}
