//! Generalised linear models with a log link for counts, fitted by iteratively reweighted least
//! squares the way R's `glm.fit` does: the same starting values, the same convergence rule
//! (relative change of the deviance below `epsilon`), the same step halving and the same
//! handling of aliased (linearly dependent) columns, so that results agree with R to far
//! better than 1e-6. The weighted least-squares step solves the normal equations by Cholesky,
//! which for the small, well-conditioned designs of surveillance is as accurate and several
//! times cheaper than R's QR.

// Linear algebra reads best with explicit indices.
#![allow(clippy::needless_range_loop)]

/// The variance function of the count family (the link is always log).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Family {
    /// Var(Y) = μ (Poisson; also quasi-Poisson, whose dispersion is estimated afterwards).
    Poisson,
    /// Var(Y) = μ + μ²/θ (negative binomial with known size θ, as `MASS::negative.binomial`).
    NegBin {
        /// The size parameter θ.
        theta: f64,
    },
}

impl Family {
    fn variance(self, mu: f64) -> f64 {
        match self {
            Family::Poisson => mu,
            Family::NegBin { theta } => mu + mu * mu / theta,
        }
    }

    /// Unit deviance of one observation, weighted.
    pub fn deviance_residual(self, y: f64, mu: f64, weight: f64) -> f64 {
        match self {
            Family::Poisson => {
                let ylogy = if y > 0.0 { y * (y / mu).ln() } else { 0.0 };
                2.0 * weight * (ylogy - (y - mu))
            }
            Family::NegBin { theta } => {
                let ylogy = y * (y.max(1.0) / mu).ln();
                2.0 * weight * (ylogy - (y + theta) * ((y + theta) / (mu + theta)).ln())
            }
        }
    }

    fn start(self, y: f64) -> f64 {
        match self {
            Family::Poisson => y + 0.1,
            Family::NegBin { .. } => y + if y == 0.0 { 1.0 / 6.0 } else { 0.0 },
        }
    }
}

/// Controls of the fit, as R's `glm.control`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Control {
    /// Convergence tolerance on the relative change of the deviance (R: 1e-8).
    pub epsilon: f64,
    /// Maximum number of IRLS iterations (R: 25).
    pub max_iter: usize,
}

impl Default for Control {
    fn default() -> Control {
        Control {
            epsilon: 1e-8,
            max_iter: 25,
        }
    }
}

/// A model matrix: `rows` × `cols`, stored row by row.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    cols: usize,
    data: Vec<f64>,
}

impl Design {
    /// An empty design with `cols` columns.
    pub fn new(cols: usize) -> Design {
        Design {
            cols,
            data: Vec::new(),
        }
    }

    /// An empty design with room for `rows` rows.
    pub fn with_capacity(cols: usize, rows: usize) -> Design {
        Design {
            cols,
            data: Vec::with_capacity(cols * rows),
        }
    }

    /// Appends a row; it must have [`Design::cols`] values.
    pub fn push(&mut self, row: &[f64]) {
        debug_assert_eq!(row.len(), self.cols);
        self.data.extend_from_slice(row);
    }

    /// Removes all rows.
    pub fn clear(&mut self) {
        self.data.clear();
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.data.len().checked_div(self.cols).unwrap_or(0)
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }
}

/// A model matrix as the fitter uses it. [`Design`] stores every value; a structured design
/// (an intercept, a trend and one-hot factor levels, say) can form X'WX and Xβ from its
/// structure and fit several times faster, with the same results.
pub trait ModelMatrix {
    /// Number of rows.
    fn n_rows(&self) -> usize;
    /// Number of columns.
    fn n_cols(&self) -> usize;
    /// Adds Σ wᵢ xᵢ xᵢᵀ into the lower triangle of `xtwx` (`cols` × `cols`, row by row) and
    /// Σ wᵢ zᵢ xᵢ into `xtwz`, over the rows with wᵢ ≠ 0, rows in order (products formed as
    /// (wᵢ xᵢⱼ) xᵢₖ, so that every implementation gives the same sums).
    fn accumulate(&self, w: &[f64], z: &[f64], xtwx: &mut [f64], xtwz: &mut [f64]);
    /// xᵢ · β, summed over the columns in order.
    fn row_dot(&self, i: usize, beta: &[f64]) -> f64;
}

impl ModelMatrix for Design {
    fn n_rows(&self) -> usize {
        self.rows()
    }

    fn n_cols(&self) -> usize {
        self.cols
    }

    fn accumulate(&self, w: &[f64], z: &[f64], xtwx: &mut [f64], xtwz: &mut [f64]) {
        let p = self.cols;
        for (i, (&zi, &wi)) in z.iter().zip(w).enumerate() {
            if wi == 0.0 {
                continue;
            }
            let row = self.row(i);
            for j in 0..p {
                let wx = wi * row[j];
                if wx == 0.0 {
                    continue;
                }
                xtwz[j] += wx * zi;
                for k in 0..=j {
                    xtwx[j * p + k] += wx * row[k];
                }
            }
        }
    }

    fn row_dot(&self, i: usize, beta: &[f64]) -> f64 {
        dot(self.row(i), beta)
    }
}

/// Why a model could not be fitted at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GlmError {
    /// No observation has a positive weight.
    #[error("no observations with positive weight")]
    NoObservations,
    /// Lengths of the design, response, weights and offset differ.
    #[error("the design has {rows} rows but {what} has {len} values")]
    Length {
        /// Rows of the design.
        rows: usize,
        /// The mismatching input.
        what: &'static str,
        /// Its length.
        len: usize,
    },
    /// The deviance became infinite or the mean invalid, and step halving did not help
    /// (R: "no valid set of coefficients has been found" / "inner loop 1; cannot correct step size").
    #[error("no valid set of coefficients could be found")]
    NoValidCoefficients,
    /// A response that is negative or not finite.
    #[error("response {0} is not a non-negative count")]
    BadResponse(f64),
}

/// A fitted model.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// Coefficients, `None` for an aliased column (R's `NA`).
    pub coefficients: Vec<Option<f64>>,
    /// Fitted means μ, one per observation.
    pub mu: Vec<f64>,
    /// Linear predictors η = Xβ + offset.
    pub eta: Vec<f64>,
    /// Working weights of the last iteration (R's `fit$weights`).
    pub weights: Vec<f64>,
    /// The deviance.
    pub deviance: f64,
    /// Observations with positive prior weight minus the rank.
    pub df_residual: usize,
    /// Number of non-aliased columns.
    pub rank: usize,
    /// Whether the deviance converged within `max_iter` iterations.
    pub converged: bool,
    /// Iterations used.
    pub iterations: usize,
    /// (X'WX)⁻¹ with the last iteration's working weights, `cols` × `cols`, row by row; rows
    /// and columns of aliased coefficients are zero (R's `summary(fit)$cov.unscaled`).
    pub cov_unscaled: Vec<f64>,
}

impl Fit {
    /// The linear predictor of a new row (without offset).
    pub fn linear_predictor(&self, row: &[f64]) -> f64 {
        row.iter()
            .zip(&self.coefficients)
            .map(|(x, b)| b.map_or(0.0, |b| x * b))
            .sum()
    }

    /// x'(X'WX)⁻¹x for a new row: the unscaled variance of its linear predictor.
    pub fn predictor_variance(&self, row: &[f64]) -> f64 {
        let p = self.coefficients.len();
        let mut total = 0.0;
        for i in 0..p {
            if row[i] == 0.0 {
                continue;
            }
            let mut s = 0.0;
            for j in 0..p {
                s += self.cov_unscaled[i * p + j] * row[j];
            }
            total += row[i] * s;
        }
        total
    }

    /// Pearson's estimate of the dispersion, as `summary.glm` computes it for quasi families:
    /// Σ wᵢ rᵢ² / df with the working weights and residuals; `NaN` with no residual degrees of
    /// freedom.
    pub fn pearson_dispersion(&self, y: &[f64]) -> f64 {
        if self.df_residual == 0 {
            return f64::NAN;
        }
        let mut sum = 0.0;
        for i in 0..y.len() {
            let w = self.weights[i];
            if w > 0.0 {
                let r = (y[i] - self.mu[i]) / self.mu[i];
                sum += w * r * r;
            }
        }
        sum / self.df_residual as f64
    }
}

/// Fits `y ~ x + offset(offset)` with prior weights `weights` (all 1 when `None`).
/// `eta_start` gives starting linear predictors instead of the family's starting means.
pub fn fit<M: ModelMatrix + ?Sized>(
    x: &M,
    y: &[f64],
    weights: Option<&[f64]>,
    offset: Option<&[f64]>,
    family: Family,
    eta_start: Option<&[f64]>,
    control: Control,
) -> Result<Fit, GlmError> {
    let n = x.n_rows();
    let p = x.n_cols();
    for (what, len) in [
        ("the response", Some(y.len())),
        ("the weights", weights.map(<[f64]>::len)),
        ("the offset", offset.map(<[f64]>::len)),
        ("the starting values", eta_start.map(<[f64]>::len)),
    ] {
        if let Some(len) = len
            && len != n
        {
            return Err(GlmError::Length { rows: n, what, len });
        }
    }
    if let Some(&bad) = y.iter().find(|v| !v.is_finite() || **v < 0.0) {
        return Err(GlmError::BadResponse(bad));
    }
    let prior = |i: usize| weights.map_or(1.0, |w| w[i]);
    let off = |i: usize| offset.map_or(0.0, |o| o[i]);
    let good: Vec<bool> = (0..n).map(|i| prior(i) > 0.0).collect();
    let n_good = good.iter().filter(|g| **g).count();
    if n_good == 0 {
        return Err(GlmError::NoObservations);
    }

    let mut eta: Vec<f64> = match eta_start {
        Some(e) => e.to_vec(),
        None => y.iter().map(|&v| family.start(v).ln()).collect(),
    };
    let mut mu: Vec<f64> = eta.iter().map(|&e| inverse_link(e)).collect();
    let deviance_of = |mu: &[f64]| -> f64 {
        (0..n)
            .map(|i| family.deviance_residual(y[i], mu[i], prior(i)))
            .sum()
    };
    let mut dev_old = deviance_of(&mu);
    let mut coef: Option<Vec<f64>> = None;
    let mut solver = Solver::new(p);
    let mut converged = false;
    let mut iterations = 0;
    let mut w2 = vec![0.0; n];
    let mut z = vec![0.0; n];
    let mut new_eta = vec![0.0; n];
    let mut new_mu = vec![0.0; n];
    let valid =
        |dev: f64, mu: &[f64]| dev.is_finite() && mu.iter().all(|m| m.is_finite() && *m > 0.0);

    for iter in 1..=control.max_iter {
        iterations = iter;
        for i in 0..n {
            if good[i] {
                // Log link: dμ/dη = μ.
                z[i] = eta[i] - off(i) + (y[i] - mu[i]) / mu[i];
                w2[i] = prior(i) * mu[i] * mu[i] / family.variance(mu[i]);
            } else {
                w2[i] = 0.0;
            }
        }
        let mut start = solver.solve(x, &z, &w2);
        for i in 0..n {
            new_eta[i] = x.row_dot(i, &start) + off(i);
            new_mu[i] = inverse_link(new_eta[i]);
        }
        let mut dev = deviance_of(&new_mu);
        if !valid(dev, &new_mu) {
            // Step halving towards the previous coefficients, as glm.fit does.
            let Some(old) = coef.as_ref() else {
                return Err(GlmError::NoValidCoefficients);
            };
            let mut halvings = 0;
            while !valid(dev, &new_mu) {
                halvings += 1;
                if halvings > control.max_iter {
                    return Err(GlmError::NoValidCoefficients);
                }
                for (s, o) in start.iter_mut().zip(old) {
                    *s = (*s + o) / 2.0;
                }
                for i in 0..n {
                    new_eta[i] = x.row_dot(i, &start) + off(i);
                    new_mu[i] = inverse_link(new_eta[i]);
                }
                dev = deviance_of(&new_mu);
            }
        }
        std::mem::swap(&mut eta, &mut new_eta);
        std::mem::swap(&mut mu, &mut new_mu);
        coef = Some(start);
        if (dev - dev_old).abs() / (dev.abs() + 0.1) < control.epsilon {
            converged = true;
            dev_old = dev;
            break;
        }
        dev_old = dev;
    }

    let coef = coef.unwrap_or_else(|| vec![0.0; p]);
    let rank = solver.aliased.iter().filter(|a| !**a).count();
    Ok(Fit {
        coefficients: coef
            .iter()
            .zip(&solver.aliased)
            .map(|(&b, &aliased)| (!aliased).then_some(b))
            .collect(),
        mu,
        eta,
        weights: w2,
        deviance: dev_old,
        df_residual: n_good.saturating_sub(rank),
        rank,
        converged,
        iterations,
        cov_unscaled: solver.inverse(),
    })
}

/// The mean of a linear predictor under R's log link: exp(η), but never below the machine
/// epsilon (R's `make.link("log")$linkinv`), so that a diverging fit keeps valid means.
pub fn inverse_link(eta: f64) -> f64 {
    eta.exp().max(f64::EPSILON)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Weighted least squares by the normal equations, with a pivot-free Cholesky that marks a
/// column aliased when it is (numerically) a combination of the columns before it, as R's
/// `dqrdc2` does with its limited pivoting.
#[derive(Debug, Clone, Default)]
struct Solver {
    p: usize,
    /// X'WX, then its Cholesky factor L (lower, row by row).
    a: Vec<f64>,
    rhs: Vec<f64>,
    aliased: Vec<bool>,
}

/// A column is aliased when the part of it not explained by earlier columns has a squared
/// norm below this share of its own.
const ALIAS_TOLERANCE: f64 = 1e-9;

impl Solver {
    fn new(p: usize) -> Solver {
        Solver {
            p,
            a: vec![0.0; p * p],
            rhs: vec![0.0; p],
            aliased: vec![false; p],
        }
    }

    fn solve<M: ModelMatrix + ?Sized>(&mut self, x: &M, z: &[f64], w: &[f64]) -> Vec<f64> {
        self.a.iter_mut().for_each(|v| *v = 0.0);
        self.rhs.iter_mut().for_each(|v| *v = 0.0);
        x.accumulate(w, z, &mut self.a, &mut self.rhs);
        let mut v = vec![0.0; self.p];
        self.factor_and_solve(&mut v);
        v
    }

    /// Factorises the accumulated X'WX and solves for the coefficients into `v` (`p` values).
    fn factor_and_solve(&mut self, v: &mut [f64]) {
        let p = self.p;
        // Cholesky in place, lower triangle.
        for j in 0..p {
            let diag = self.a[j * p + j];
            let mut d = diag;
            for k in 0..j {
                d -= self.a[j * p + k] * self.a[j * p + k];
            }
            if diag <= 0.0 || d <= ALIAS_TOLERANCE * diag {
                self.aliased[j] = true;
                for k in 0..=j {
                    self.a[j * p + k] = 0.0;
                }
                for i in j + 1..p {
                    self.a[i * p + j] = 0.0;
                }
                continue;
            }
            self.aliased[j] = false;
            let l = d.sqrt();
            self.a[j * p + j] = l;
            for i in j + 1..p {
                let mut s = self.a[i * p + j];
                for k in 0..j {
                    s -= self.a[i * p + k] * self.a[j * p + k];
                }
                self.a[i * p + j] = s / l;
            }
        }
        // Forward then back substitution, skipping aliased columns.
        for j in 0..p {
            if self.aliased[j] {
                continue;
            }
            let mut s = self.rhs[j];
            for k in 0..j {
                s -= self.a[j * p + k] * v[k];
            }
            v[j] = s / self.a[j * p + j];
        }
        for j in (0..p).rev() {
            if self.aliased[j] {
                v[j] = 0.0;
                continue;
            }
            let mut s = v[j];
            for k in j + 1..p {
                s -= self.a[k * p + j] * v[k];
            }
            v[j] = s / self.a[j * p + j];
        }
    }

    /// (X'WX)⁻¹ from the last factorisation, zero for aliased columns.
    fn inverse(&self) -> Vec<f64> {
        let mut inv = Vec::new();
        let mut out = Vec::new();
        self.inverse_into(&mut inv, &mut out);
        out
    }

    /// (X'WX)⁻¹ into `out` (`p` × `p`), with `inv` as scratch space.
    fn inverse_into(&self, inv: &mut Vec<f64>, out: &mut Vec<f64>) {
        let p = self.p;
        // Invert L (lower), then form L⁻ᵀL⁻¹.
        inv.clear();
        inv.resize(p * p, 0.0);
        for j in 0..p {
            if self.aliased[j] {
                continue;
            }
            inv[j * p + j] = 1.0 / self.a[j * p + j];
            for i in j + 1..p {
                if self.aliased[i] {
                    continue;
                }
                let mut s = 0.0;
                for k in j..i {
                    s -= self.a[i * p + k] * inv[k * p + j];
                }
                inv[i * p + j] = s / self.a[i * p + i];
            }
        }
        out.clear();
        out.resize(p * p, 0.0);
        for r in 0..p {
            for c in 0..=r {
                let mut s = 0.0;
                for k in r.max(c)..p {
                    s += inv[k * p + r] * inv[k * p + c];
                }
                out[r * p + c] = s;
                out[c * p + r] = s;
            }
        }
    }
}

/// The weighted least-squares step of [`fit`] for callers that form X'WX and X'Wz themselves
/// (from a design's structure, say): the same Cholesky, the same rule for aliased columns and
/// the same (X'WX)⁻¹, without allocating once sized.
#[derive(Debug, Clone, Default)]
pub struct NormalEquations {
    solver: Solver,
    scratch: Vec<f64>,
}

impl NormalEquations {
    /// Equations for `cols` coefficients.
    pub fn new(cols: usize) -> NormalEquations {
        NormalEquations {
            solver: Solver::new(cols),
            scratch: Vec::new(),
        }
    }

    /// Number of coefficients.
    pub fn cols(&self) -> usize {
        self.solver.p
    }

    /// Zeroes the equations, resized to `cols` coefficients, and returns X'WX (`cols` × `cols`,
    /// row by row, only the lower triangle is read) and X'Wz to fill.
    pub fn reset(&mut self, cols: usize) -> (&mut [f64], &mut [f64]) {
        let s = &mut self.solver;
        s.p = cols;
        s.a.clear();
        s.a.resize(cols * cols, 0.0);
        s.rhs.clear();
        s.rhs.resize(cols, 0.0);
        s.aliased.clear();
        s.aliased.resize(cols, false);
        (&mut s.a, &mut s.rhs)
    }

    /// Solves the filled equations into `beta` (`cols` values; 0 for aliased columns), as
    /// [`fit`]'s iterations do. The matrix is factorised in place: fill again before the next
    /// solve.
    pub fn solve(&mut self, beta: &mut [f64]) {
        self.solver.factor_and_solve(beta);
    }

    /// Which columns the last solve found aliased.
    pub fn aliased(&self) -> &[bool] {
        &self.solver.aliased
    }

    /// (X'WX)⁻¹ of the last solve into `out`, zero for aliased columns (as
    /// [`Fit::cov_unscaled`]).
    pub fn inverse_into(&mut self, out: &mut Vec<f64>) {
        self.solver.inverse_into(&mut self.scratch, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-7 * b.abs().max(1e-12)
    }

    /// R 4.2.2: `x <- 1:10; y <- c(2,3,6,7,8,9,10,12,15,20);
    /// f <- glm(y ~ x, family = quasipoisson); coef(f); summary(f)$dispersion;
    /// summary(f)$cov.unscaled; deviance(f)`.
    #[test]
    fn poisson_regression_matches_r() {
        let ys = [2.0, 3.0, 6.0, 7.0, 8.0, 9.0, 10.0, 12.0, 15.0, 20.0];
        let mut x = Design::new(2);
        for i in 1..=10 {
            x.push(&[1.0, i as f64]);
        }
        let fit = fit(
            &x,
            &ys,
            None,
            None,
            Family::Poisson,
            None,
            Control::default(),
        );
        let fit = fit.unwrap_or_else(|e| panic!("{e}"));
        assert!(fit.converged);
        let b: Vec<f64> = fit
            .coefficients
            .iter()
            .map(|c| c.unwrap_or(f64::NAN))
            .collect();
        assert!(close(b[0], 0.953396701778), "{b:?}");
        assert!(close(b[1], 0.200855645991), "{b:?}");
        assert!(close(fit.deviance, 1.55386203748), "{}", fit.deviance);
        assert!(
            close(fit.pearson_dispersion(&ys), 0.189393969411),
            "{}",
            fit.pearson_dispersion(&ys)
        );
        assert!(
            close(fit.cov_unscaled[3], 0.00159735160512)
                && close(fit.cov_unscaled[1], -0.0112682737244),
            "{:?}",
            fit.cov_unscaled
        );
    }

    #[test]
    fn a_repeated_column_is_aliased_like_r() {
        let ys = [1.0, 0.0, 3.0, 2.0, 5.0];
        let mut x = Design::new(3);
        for i in 0..5 {
            let t = i as f64;
            x.push(&[1.0, t, 2.0 * t]);
        }
        let fit = fit(
            &x,
            &ys,
            None,
            None,
            Family::Poisson,
            None,
            Control::default(),
        );
        let fit = fit.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fit.rank, 2);
        assert!(fit.coefficients[2].is_none());
        assert_eq!(fit.df_residual, 3);
    }
}
