//! Farrington (1996) and Farrington flexible (Noufaily et al. 2013), as R's `algo.farrington` and
//! `farringtonFlexible` in `surveillance` 1.20.3.
//!
//! Both methods fit, for every evaluated period, an over-dispersed Poisson regression to counts
//! of the same season in the `b` previous years (windows of `w` periods around the period one
//! year back, two years back, …), optionally with a linear time trend, down-weight past
//! outbreaks by their Anscombe residuals, refit, and compare the current count with an upper
//! prediction bound.
//!
//! * [`Classic`] (`farrington`) uses only the `b` windows of `2w + 1` periods, a trend kept when
//!   significant at 5 %, residual weights above 1 and a two-sided normal bound on a power
//!   transformed scale.
//! * [`Flexible`] (`farrington-flexible`) adds Noufaily's improvements: all past periods of the
//!   `b` years enter the fit, split into `no_periods` seasonal levels; the latest
//!   `past_weeks_not_included` periods are left out; residual weights start above
//!   `weights_threshold`; the bound is either Farrington's (`delta`) or a negative binomial
//!   quantile (`nbplugin`, `muan`).
//!
//! Reference periods come from the dates as in R: the same date one, two, … years back (29
//! February falls on 1 March), moved for weekly data to the nearest date on the series' weekday.
//!
//! R's quirks are kept where they change results: in the flexible method with reweighting, the
//! dispersion R's `summary` reports (used for the trend's p-value and the prediction's standard
//! error) is computed with the residual weights in place of the working weights, and the
//! `nbplugin`/`muan` score divides on the log scale of the expectation.

// Index loops over matrices and windows read best with explicit indices.
#![allow(clippy::needless_range_loop)]

use std::ops::RangeInclusive;

use chrono::{Datelike, NaiveDate};
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use crate::glm::{self, Control, Family, Fit};
use crate::{DetectError, Detector, Evaluation, Frequency, ParamError, Params, Series, invalid};

/// The power transformation that makes the counts' distribution nearly symmetric before the
/// normal bound (R's `powertrans`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerTransform {
    /// y^(2/3), Farrington's default.
    TwoThirds,
    /// y^(1/2).
    Half,
    /// No transformation.
    None,
}

impl PowerTransform {
    /// `2/3`, `1/2` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            PowerTransform::TwoThirds => "2/3",
            PowerTransform::Half => "1/2",
            PowerTransform::None => "none",
        }
    }

    const CHOICES: [(&'static str, PowerTransform); 3] = [
        ("2/3", PowerTransform::TwoThirds),
        ("1/2", PowerTransform::Half),
        ("none", PowerTransform::None),
    ];
}

/// How the flexible method computes its upper bound (R's `thresholdMethod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThresholdMethod {
    /// Farrington's normal bound on the transformed scale, with the delta-method variance.
    Delta,
    /// The (1 − α) quantile of a negative binomial with the fitted mean and dispersion.
    NbPlugin,
    /// As `nbplugin`, with the mean at the upper (1 − α) confidence limit of its estimate.
    Muan,
}

impl ThresholdMethod {
    /// `delta`, `nbplugin` or `muan`.
    pub fn as_str(self) -> &'static str {
        match self {
            ThresholdMethod::Delta => "delta",
            ThresholdMethod::NbPlugin => "nbplugin",
            ThresholdMethod::Muan => "muan",
        }
    }
}

/// R's `limit54`: an alarm needs at least `cases` counts in the last `periods` periods.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit54 {
    /// Minimum number of cases.
    pub cases: f64,
    /// Number of periods, the current one included.
    pub periods: usize,
}

impl Limit54 {
    fn from_params(params: &mut Params) -> Result<Limit54, ParamError> {
        let values = params.numbers("limit54", vec![5.0, 4.0])?;
        let text = || {
            values
                .iter()
                .map(f64::to_string)
                .collect::<Vec<_>>()
                .join(",")
        };
        match values.as_slice() {
            &[cases, periods] if cases >= 0.0 && periods >= 1.0 && periods.fract() == 0.0 => {
                Ok(Limit54 {
                    cases,
                    periods: periods as usize,
                })
            }
            _ => Err(invalid(
                "limit54",
                &text(),
                "cases,periods with cases ≥ 0 and a whole number of periods ≥ 1",
            )),
        }
    }

    /// Whether the periods up to `k` hold enough cases; `None` when one of them is missing.
    fn enough(self, counts: &[Option<f64>], k: usize) -> Option<bool> {
        let start = (k + 1).saturating_sub(self.periods);
        let mut sum = 0.0;
        for c in &counts[start..=k] {
            sum += (*c)?;
        }
        Some(sum >= self.cases)
    }

    fn describe(self) -> String {
        format!("{},{}", self.cases, self.periods)
    }
}

/// `farrington-flexible`: R's `farringtonFlexible` (Noufaily et al. 2013).
#[derive(Debug, Clone, PartialEq)]
pub struct Flexible {
    /// Years back (`b`, default 5).
    pub b: usize,
    /// Half-width of the reference windows in periods (`w`, default 3).
    pub w: usize,
    /// Down-weight past outbreaks and refit (`reweight`, default true).
    pub reweight: bool,
    /// Anscombe residuals above this are down-weighted (`weights_threshold`, default 2.58).
    pub weights_threshold: f64,
    /// Significance level of the bound (`alpha`, default 0.05).
    pub alpha: f64,
    /// Try a linear time trend (`trend`, default true).
    pub trend: bool,
    /// The trend is kept when its p-value is below this (`p_threshold_trend`, default 0.05).
    pub p_threshold_trend: f64,
    /// Minimum recent cases for an alarm (`limit54`, default `5,4`).
    pub limit54: Limit54,
    /// Power transformation of the `delta` bound (`powertrans`, default `2/3`).
    pub powertrans: PowerTransform,
    /// Use log(population) as offset (`population_offset`, default false).
    pub population_offset: bool,
    /// Seasonal levels of the fit (`no_periods`, default 1).
    pub no_periods: usize,
    /// Latest periods left out of the fit (`past_weeks_not_included`, default `w`).
    pub past_weeks_not_included: usize,
    /// How the bound is computed (`threshold_method`, default `delta`).
    pub threshold_method: ThresholdMethod,
}

impl Flexible {
    /// Reads the method's parameters (R's `farringtonFlexible` controls in snake_case).
    pub fn from_params(params: &mut Params) -> Result<Flexible, ParamError> {
        let b = params.count("b", 5, 1)?;
        let w = params.count("w", 3, 0)?;
        let reweight = params.flag("reweight", true)?;
        let weights_threshold = params.number("weights_threshold", 2.58)?;
        let alpha = params.probability("alpha", 0.05)?;
        let trend = params.flag("trend", true)?;
        let p_threshold_trend = params.number("p_threshold_trend", 0.05)?;
        if !(0.0..=1.0).contains(&p_threshold_trend) {
            return Err(invalid(
                "p_threshold_trend",
                &p_threshold_trend,
                "a number between 0 and 1",
            ));
        }
        let limit54 = Limit54::from_params(params)?;
        let powertrans = params.choice(
            "powertrans",
            &PowerTransform::CHOICES,
            PowerTransform::TwoThirds,
        )?;
        let population_offset = params.flag("population_offset", false)?;
        let no_periods = params.count("no_periods", 1, 1)?;
        let past_weeks_not_included = params.count("past_weeks_not_included", w, 0)?;
        let threshold_method = params.choice(
            "threshold_method",
            &[
                ("delta", ThresholdMethod::Delta),
                ("nbplugin", ThresholdMethod::NbPlugin),
                ("muan", ThresholdMethod::Muan),
            ],
            ThresholdMethod::Delta,
        )?;
        Ok(Flexible {
            b,
            w,
            reweight,
            weights_threshold,
            alpha,
            trend,
            p_threshold_trend,
            limit54,
            powertrans,
            population_offset,
            no_periods,
            past_weeks_not_included,
            threshold_method,
        })
    }

    fn check(&self, series: &Series) -> Result<(), DetectError> {
        if self.population_offset && series.population().is_none() {
            return Err(DetectError::NeedsPopulation {
                method: "farrington-flexible",
                param: "population_offset",
            });
        }
        // Every seasonal level needs at least one period between two reference windows, which
        // are a year (at least 52 weeks or 365 days) apart.
        let year = match series.frequency() {
            Frequency::Weekly => 52,
            Frequency::Daily => 365,
        };
        if self.no_periods > 1 && 2 * self.w + self.no_periods > year {
            return Err(DetectError::Frequency {
                method: "farrington-flexible",
                supported: "series whose year holds the reference windows and the seasonal levels (2·w + no_periods ≤ 52 weeks or 365 days)",
                frequency: series.frequency(),
            });
        }
        Ok(())
    }
}

impl Detector for Flexible {
    fn method(&self) -> &'static str {
        "farrington-flexible"
    }

    fn describe(&self) -> String {
        format!(
            "b={};w={};reweight={};weights_threshold={};alpha={};trend={};p_threshold_trend={};limit54={};powertrans={};population_offset={};no_periods={};past_weeks_not_included={};threshold_method={}",
            self.b,
            self.w,
            self.reweight,
            self.weights_threshold,
            self.alpha,
            self.trend,
            self.p_threshold_trend,
            self.limit54.describe(),
            self.powertrans.as_str(),
            self.population_offset,
            self.no_periods,
            self.past_weeks_not_included,
            self.threshold_method.as_str(),
        )
    }

    fn first_index(&self, series: &Series) -> Result<usize, DetectError> {
        self.check(series)?;
        // The first period whose `b` reference dates all lie in the series; later periods
        // have theirs too, one step later each.
        Ok((0..series.len())
            .find(|&k| reference_index(series, k, self.b).is_some())
            .unwrap_or(series.len()))
    }

    fn evaluate(
        &self,
        series: &Series,
        range: RangeInclusive<usize>,
    ) -> Result<Vec<Evaluation>, DetectError> {
        self.check(series)?;
        let settings = Settings {
            variant: Variant::Flexible,
            reweight: self.reweight,
            weights_threshold: self.weights_threshold,
            give_up: true,
        };
        let z = normal_quantile(1.0 - self.alpha);
        let mut work = Work::default();
        let mut out = Vec::with_capacity(range.clone().count());
        let counts = series.counts();
        for k in range {
            let mut eval = Evaluation::at(k);
            if !self.flexible_data(series, k, &mut work)? {
                out.push(eval);
                continue;
            }
            let Some((model, do_trend)) = choose_model(
                &mut work,
                &settings,
                self.trend,
                self.b,
                self.p_threshold_trend,
            ) else {
                out.push(eval);
                continue;
            };
            let (eta, var) = work.predict(&model, model.disp);
            let y = counts[k];
            let (upper, score, prob, fit) = match self.threshold_method {
                ThresholdMethod::Delta => {
                    let fit = glm::inverse_link(eta);
                    let se = var.sqrt() * fit;
                    let (upper, prob) =
                        delta_bound(fit, se, model.phi, self.powertrans, z, y, true);
                    (
                        upper,
                        upper.zip(y).map(|(u, y)| (y - fit) / (u - fit)),
                        prob,
                        fit,
                    )
                }
                ThresholdMethod::NbPlugin | ThresholdMethod::Muan => {
                    let mean = if self.threshold_method == ThresholdMethod::NbPlugin {
                        eta.exp()
                    } else {
                        (eta + var.sqrt() * z).exp()
                    };
                    let (upper, prob) =
                        count_bound(mean, model.phi, 1.0 - self.alpha, z, y, &mut work.terms);
                    // R divides on the scale of the linear predictor here.
                    (
                        upper,
                        upper.zip(y).map(|(u, y)| (y - eta) / (u - eta)),
                        prob,
                        eta.exp(),
                    )
                }
            };
            eval.score = score;
            eval.p_value = prob;
            eval.trend = Some(do_trend);
            // Too few recent cases (or a missing one): no bound, no expectation, no alarm.
            if self.limit54.enough(counts, k) == Some(true) {
                eval.upperbound = upper;
                eval.expected = upper.map(|_| fit);
                eval.alarm = matches!((score, y), (Some(x), Some(y)) if x > 1.0 && y != 0.0);
            }
            work.recycle(model.fit);
            out.push(eval);
        }
        Ok(out)
    }
}

impl Flexible {
    /// Fills `work` with the fit data of period `k`: reference windows of the `b` years,
    /// seasonal levels between them, the latest periods left out. False when no count is left.
    fn flexible_data(
        &self,
        series: &Series,
        k: usize,
        work: &mut Work,
    ) -> Result<bool, DetectError> {
        let b = self.b;
        let w = self.w;
        let p = self.no_periods;
        work.refs.clear();
        work.refs.push(k);
        for years in 1..=b {
            match reference_index(series, k, years) {
                Some(r) => work.refs.push(r),
                None => {
                    let first = self.first_index(series)?;
                    return Err(DetectError::NotEnoughHistory {
                        method: "farrington-flexible",
                        needed: first,
                        available: k,
                        first_possible: series.dates().get(first).copied(),
                    });
                }
            }
        }
        let lo = work.refs[b].saturating_sub(w);
        let levels = &mut work.levels;
        levels.clear();
        levels.resize(k - lo + 1, 0);
        let set = |levels: &mut Vec<usize>, from: usize, to: usize, level: usize| {
            for idx in from.max(lo)..=to.min(k) {
                levels[idx - lo] = level;
            }
        };
        set(levels, k.saturating_sub(w), k, p);
        for i in 1..=b {
            let r = work.refs[i];
            set(levels, r.saturating_sub(w), r + w, p);
            if p > 1 {
                let gap = work.refs[i - 1] as i64 - 2 * w as i64 - 1 - r as i64;
                if gap < p as i64 - 1 {
                    return Err(DetectError::Frequency {
                        method: "farrington-flexible",
                        supported: "series whose year holds the reference windows and the seasonal levels (2·w + no_periods ≤ 52 weeks or 365 days)",
                        frequency: series.frequency(),
                    });
                }
                let gap = gap as usize;
                let (len, rest) = (gap / (p - 1), gap % (p - 1));
                let mut start = r + w + 1;
                for j in 1..p {
                    let block = len + usize::from(j <= rest);
                    if block > 0 {
                        set(levels, start, start + block - 1, j);
                    }
                    start += block;
                }
            }
        }
        if let Some(from) = k.checked_sub(self.past_weeks_not_included) {
            for idx in from.max(lo)..=k {
                levels[idx - lo] = 0;
            }
        } else {
            levels.iter_mut().for_each(|l| *l = 0);
        }

        work.clear();
        let counts = series.counts();
        let population = series.population();
        let mut first_block = None;
        let mut present = std::mem::take(&mut work.present);
        present.clear();
        present.resize(p + 1, false);
        for (offset, &level) in work.levels.iter().enumerate() {
            if level == 0 {
                continue;
            }
            let idx = lo + offset;
            let origin = *first_block.get_or_insert(idx);
            present[level] = true;
            if let Some(y) = counts[idx] {
                work.index.push(idx);
                work.y.push(y);
                work.wtime.push((idx - origin) as f64);
                work.level.push(level);
                if self.population_offset
                    && let Some(pop) = population
                {
                    work.offset.push(pop[idx].ln());
                }
            }
        }
        if work.y.is_empty() {
            return Ok(false);
        }
        // Treatment contrasts against the lowest level present, as R's factor coding.
        work.dummy.clear();
        work.dummy.resize(p + 1, None);
        if p > 1 {
            let mut col = 0;
            let mut baseline = true;
            for level in 1..=p {
                if present[level] {
                    if baseline {
                        baseline = false;
                    } else {
                        work.dummy[level] = Some(col);
                        col += 1;
                    }
                }
            }
            work.n_dummies = col;
        } else {
            work.n_dummies = 0;
        }
        work.present = present;
        work.set_cols();
        // R predicts from the first row that has a count.
        work.wtime_now = (k - work.index[0]) as f64;
        work.level_now = p;
        work.offset_now = if self.population_offset {
            population.map_or(0.0, |pop| pop[k].ln())
        } else {
            0.0
        };
        Ok(true)
    }
}

/// `farrington`: R's `algo.farrington` (Farrington et al. 1996), as `surveillance::farrington`
/// runs it on dated series.
#[derive(Debug, Clone, PartialEq)]
pub struct Classic {
    /// Years back (`b`, default 5).
    pub b: usize,
    /// Half-width of the reference windows in periods (`w`, default 3).
    pub w: usize,
    /// Down-weight past outbreaks and refit (`reweight`, default true).
    pub reweight: bool,
    /// Two-sided significance level of the bound (`alpha`, default 0.05).
    pub alpha: f64,
    /// Try a linear time trend, kept when significant at 5 % (`trend`, default true).
    pub trend: bool,
    /// Minimum recent cases for an alarm (`limit54`, default `5,4`).
    pub limit54: Limit54,
    /// Power transformation of the bound (`powertrans`, default `2/3`).
    pub powertrans: PowerTransform,
    /// Reference periods this close to the evaluated one are left out
    /// (`past_weeks_not_included`, default 0: none, as in R).
    pub past_weeks_not_included: usize,
}

impl Classic {
    /// Reads the method's parameters (R's `algo.farrington` controls in snake_case).
    pub fn from_params(params: &mut Params) -> Result<Classic, ParamError> {
        Ok(Classic {
            b: params.count("b", 5, 1)?,
            w: params.count("w", 3, 0)?,
            reweight: params.flag("reweight", true)?,
            alpha: params.probability("alpha", 0.05)?,
            trend: params.flag("trend", true)?,
            limit54: Limit54::from_params(params)?,
            powertrans: params.choice(
                "powertrans",
                &PowerTransform::CHOICES,
                PowerTransform::TwoThirds,
            )?,
            past_weeks_not_included: params.count("past_weeks_not_included", 0, 0)?,
        })
    }

    /// Fills `work` with the reference windows of period `k`; false when none has a count.
    fn classic_data(&self, series: &Series, k: usize, work: &mut Work) -> bool {
        work.clear();
        let counts = series.counts();
        let newest = k.saturating_sub(self.past_weeks_not_included);
        for years in 1..=self.b {
            let Some(centre) = reference_date(series, k, years) else {
                continue;
            };
            let step = series.frequency().days();
            for j in -(self.w as i64)..=self.w as i64 {
                let day = centre + chrono::Duration::days(j * step);
                let Some(idx) = index_of(series, day) else {
                    continue;
                };
                if idx >= newest {
                    continue;
                }
                if let Some(y) = counts[idx] {
                    work.index.push(idx);
                    work.y.push(y);
                    // R's time axis is the 1-based index.
                    work.wtime.push((idx + 1) as f64);
                    work.level.push(0);
                }
            }
        }
        work.n_dummies = 0;
        work.dummy.clear();
        work.set_cols();
        work.wtime_now = (k + 1) as f64;
        work.level_now = 0;
        work.offset_now = 0.0;
        !work.y.is_empty()
    }
}

impl Detector for Classic {
    fn method(&self) -> &'static str {
        "farrington"
    }

    fn describe(&self) -> String {
        format!(
            "b={};w={};reweight={};alpha={};trend={};limit54={};powertrans={};past_weeks_not_included={}",
            self.b,
            self.w,
            self.reweight,
            self.alpha,
            self.trend,
            self.limit54.describe(),
            self.powertrans.as_str(),
            self.past_weeks_not_included,
        )
    }

    fn first_index(&self, series: &Series) -> Result<usize, DetectError> {
        // R's default range: from b years minus w periods on; reference periods before the
        // start of the series are left out.
        Ok((series.frequency().periods_per_year() * self.b).saturating_sub(self.w + 1))
    }

    fn evaluate(
        &self,
        series: &Series,
        range: RangeInclusive<usize>,
    ) -> Result<Vec<Evaluation>, DetectError> {
        let settings = Settings {
            variant: Variant::Classic,
            reweight: self.reweight,
            weights_threshold: 1.0,
            give_up: false,
        };
        let z = normal_quantile(1.0 - self.alpha / 2.0);
        let mut work = Work::default();
        let counts = series.counts();
        let mut out = Vec::with_capacity(range.clone().count());
        for k in range {
            let mut eval = Evaluation::at(k);
            if !self.classic_data(series, k, &mut work) {
                out.push(eval);
                continue;
            }
            let Some((model, do_trend)) =
                choose_model(&mut work, &settings, self.trend, self.b, 0.05)
            else {
                out.push(eval);
                continue;
            };
            let (eta, var) = work.predict(&model, model.phi);
            let fit = glm::inverse_link(eta);
            let se = var.sqrt() * fit;
            let y = counts[k];
            let (upper, prob) = delta_bound(fit, se, model.phi, self.powertrans, z, y, true);
            eval.expected = Some(fit);
            eval.p_value = prob;
            eval.trend = Some(do_trend);
            if let Some(enough) = self.limit54.enough(counts, k) {
                if enough {
                    eval.upperbound = upper;
                    eval.score = upper.zip(y).map(|(u, y)| (y - fit) / (u - fit));
                } else {
                    // R reports a bound of 0 and no alarm when there are too few cases.
                    eval.upperbound = Some(0.0);
                    eval.score = Some(0.0);
                }
                eval.alarm = eval.score.is_some_and(|x| x > 1.0);
            }
            work.recycle(model.fit);
            out.push(eval);
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------
// Reference dates.

/// `date` moved back `years` years; 29 February becomes 1 March, as R's `seq(…, by = "-1 year")`.
fn years_back(date: NaiveDate, years: usize) -> Option<NaiveDate> {
    let year = date.year() - i32::try_from(years).ok()?;
    NaiveDate::from_ymd_opt(year, date.month(), date.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, 3, 1))
}

/// The reference date of period `k` `years` years back: the same date, moved for weekly series
/// to the nearest day of the series' weekday.
fn reference_date(series: &Series, k: usize, years: usize) -> Option<NaiveDate> {
    let now = *series.dates().get(k)?;
    let back = years_back(now, years)?;
    Some(match series.frequency() {
        Frequency::Daily => back,
        Frequency::Weekly => {
            let ahead = (now.weekday().num_days_from_sunday() as i64
                - back.weekday().num_days_from_sunday() as i64)
                .rem_euclid(7);
            if ahead <= 3 {
                back + chrono::Duration::days(ahead)
            } else {
                back - chrono::Duration::days(7 - ahead)
            }
        }
    })
}

/// The index of `date` in the series, if it is one of its dates.
fn index_of(series: &Series, date: NaiveDate) -> Option<usize> {
    let first = *series.dates().first()?;
    let days = (date - first).num_days();
    let step = series.frequency().days();
    if days < 0 || days % step != 0 {
        return None;
    }
    let idx = usize::try_from(days / step).ok()?;
    (idx < series.len()).then_some(idx)
}

/// The index of the reference period of `k` `years` years back, if in the series.
fn reference_index(series: &Series, k: usize, years: usize) -> Option<usize> {
    let idx = index_of(series, reference_date(series, k, years)?)?;
    (idx < k).then_some(idx)
}

// ---------------------------------------------------------------------------------------------
// Fitting.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    Classic,
    Flexible,
}

struct Settings {
    variant: Variant,
    reweight: bool,
    weights_threshold: f64,
    /// Give up (no result) when the fit does not converge even without trend.
    give_up: bool,
}

/// Buffers reused across the periods of one series.
#[derive(Default)]
struct Work {
    refs: Vec<usize>,
    levels: Vec<usize>,
    index: Vec<usize>,
    y: Vec<f64>,
    wtime: Vec<f64>,
    level: Vec<usize>,
    /// Dummy column of each row's level, `usize::MAX` for the baseline.
    col: Vec<usize>,
    offset: Vec<f64>,
    /// Column (after intercept and trend) of each seasonal level, `None` for the baseline.
    dummy: Vec<Option<usize>>,
    n_dummies: usize,
    wtime_now: f64,
    level_now: usize,
    offset_now: f64,
    row: Vec<f64>,
    omega: Vec<f64>,
    terms: Vec<f64>,
    /// The rows as [`Irls`] reads them.
    layout: Layout,
    /// ln y, ln(y + 0.1) and y^(2/3) of the series' counts by index, computed when first
    /// needed.
    logs: Vec<[f64; 3]>,
    irls: Irls,
    /// Fits done with, whose buffers the next fits reuse.
    spare: Vec<Fit>,
    /// Which seasonal levels have periods in the fit window.
    present: Vec<bool>,
    /// Per group, the constant and linear coefficient of a row's hat value in its time.
    quad: Vec<(f64, f64)>,
}

struct Model {
    fit: Fit,
    trend: bool,
    /// max(dispersion, 1): the dispersion of the bound.
    phi: f64,
    /// The dispersion R's `summary` reports for the final fit.
    disp: f64,
}

impl Work {
    fn clear(&mut self) {
        self.index.clear();
        self.y.clear();
        self.wtime.clear();
        self.level.clear();
        self.offset.clear();
    }

    /// The dummy column of every row, once the levels are known, and what [`Irls`] needs.
    fn set_cols(&mut self) {
        self.col.clear();
        for &level in &self.level {
            let col = self.dummy.get(level).copied().flatten();
            self.col.push(col.unwrap_or(usize::MAX));
        }
        let l = &mut self.layout;
        l.clear();
        let mut run = 0;
        for i in 0..self.y.len() {
            let (idx, y, t) = (self.index[i], self.y[i], self.wtime[i]);
            if self.logs.len() <= idx {
                self.logs.resize(idx + 1, [f64::NAN; 3]);
            }
            let mut logs = self.logs[idx];
            if logs[1].is_nan() {
                logs = [
                    if y > 0.0 { y.ln() } else { 0.0 },
                    (y + 0.1).ln(),
                    y.powf(2.0 / 3.0),
                ];
                self.logs[idx] = logs;
            }
            let group = self.col[i].wrapping_add(1);
            l.ylny.push(if y > 0.0 { y * logs[0] } else { 0.0 });
            l.eta0.push(logs[1]);
            l.y23.push(logs[2]);
            l.tt.push([t, t * t]);
            l.ones.push(1.0);
            // Runs of consecutive periods, restarted now and then so that the rounding of
            // the powers of exp(β) stays far below the tolerances.
            let chain = i > 0 && t == self.wtime[i - 1] + 1.0 && run + 1 < CHAIN_RUN;
            run = if chain { run + 1 } else { 0 };
            if !chain {
                l.anchor_t.push(t);
            }
            l.anchor.push(l.anchor_t.len() - 1);
            l.step.push(run as u8);
            match l.segments.last_mut() {
                Some((g, end)) if *g == group => *end = i + 1,
                _ => l.segments.push((group, i + 1)),
            }
            l.group.push(group);
        }
    }

    /// Keeps the buffers of a fit that is done with.
    fn recycle(&mut self, fit: Fit) {
        if self.spare.len() < 4 {
            self.spare.push(fit);
        }
    }

    fn cols(&self, trend: bool) -> usize {
        1 + usize::from(trend) + self.n_dummies
    }

    /// The design row of an observation (or of the current period) into `row`.
    fn fill_row(
        row: &mut Vec<f64>,
        dummy: &[Option<usize>],
        cols: usize,
        trend: bool,
        wtime: f64,
        level: usize,
    ) {
        row.clear();
        row.resize(cols, 0.0);
        row[0] = 1.0;
        let base = 1 + usize::from(trend);
        if trend {
            row[1] = wtime;
        }
        if let Some(Some(col)) = dummy.get(level) {
            row[base + col] = 1.0;
        }
    }

    /// The design of the rows in `work`, with or without trend.
    fn design(&self, trend: bool) -> Seasonal<'_> {
        Seasonal {
            wtime: &self.wtime,
            col: &self.col,
            trend,
            cols: self.cols(trend),
        }
    }

    /// The quasi-Poisson fit of the rows, with trend or not, weighted by the residual weights
    /// `omega` or not: by [`Irls`] from the design's structure when there is no offset, else
    /// (or when that meets an invalid step) by [`glm::fit`]. Both follow R's `glm.fit`.
    fn glm(&mut self, trend: bool, weighted: bool) -> Option<Fit> {
        if self.offset.is_empty() {
            let weights = weighted.then_some(self.omega.as_slice());
            let mut fit = self.spare.pop().unwrap_or_else(|| Fit {
                coefficients: Vec::new(),
                mu: Vec::new(),
                eta: Vec::new(),
                weights: Vec::new(),
                deviance: 0.0,
                df_residual: 0,
                rank: 0,
                converged: false,
                iterations: 0,
                cov_unscaled: Vec::new(),
            });
            let weights = weights.unwrap_or(&self.layout.ones);
            if self.irls.fit(
                &self.layout,
                &self.y,
                &self.wtime,
                self.n_dummies,
                trend,
                weights,
                &mut fit,
            ) {
                return Some(fit);
            }
            self.recycle(fit);
        }
        let weights = weighted.then_some(self.omega.as_slice());
        let offset = (!self.offset.is_empty()).then_some(self.offset.as_slice());
        glm::fit(
            &self.design(trend),
            &self.y,
            weights,
            offset,
            Family::Poisson,
            None,
            Control::default(),
        )
        .ok()
    }

    /// R's fitting function: quasi-Poisson fit, without trend when it does not converge,
    /// then reweighted by Anscombe residuals and refitted.
    fn fit_model(&mut self, settings: &Settings, trend: bool) -> Option<Model> {
        let mut trend = trend;
        let mut fit = self.glm(trend, false)?;
        if !fit.converged {
            if trend {
                trend = false;
                let refit = self.glm(false, false)?;
                self.recycle(std::mem::replace(&mut fit, refit));
            }
            if !fit.converged && settings.give_up {
                return None;
            }
        }
        let mut disp = fit.pearson_dispersion(&self.y);
        let mut phi = disp.max(1.0);
        if disp.is_nan() {
            return None;
        }
        if settings.reweight {
            self.anscombe_weights(trend, &fit, phi, settings.weights_threshold)?;
            let refit = self.glm(trend, true)?;
            self.recycle(std::mem::replace(&mut fit, refit));
            let pearson = fit.pearson_dispersion(&self.y);
            phi = pearson.max(1.0);
            disp = match settings.variant {
                Variant::Classic => pearson,
                // R replaces the fit's working weights by the residual weights before taking
                // its summary.
                Variant::Flexible => {
                    let mut sum = 0.0;
                    for i in 0..self.y.len() {
                        if self.omega[i] > 0.0 {
                            let r = (self.y[i] - fit.mu[i]) / fit.mu[i];
                            sum += self.omega[i] * r * r;
                        }
                    }
                    if fit.df_residual == 0 {
                        f64::NAN
                    } else {
                        sum / fit.df_residual as f64
                    }
                }
            };
        }
        Some(Model {
            fit,
            trend,
            phi,
            disp,
        })
    }

    /// Farrington's weights: Anscombe residuals above `threshold` get weights proportional to
    /// their inverse square, the others a constant, all scaled to sum to the number of rows.
    fn anscombe_weights(&mut self, trend: bool, fit: &Fit, phi: f64, threshold: f64) -> Option<()> {
        let n = self.y.len();
        let mut omega = std::mem::take(&mut self.omega);
        omega.clear();
        // The hat value wᵢ·xᵢ'Cxᵢ of a row with time t in group g is wᵢ·(a_g + t·(b_g + t·c))
        // for the design's rows (1, t, one-hot level).
        let c = &fit.cov_unscaled;
        let p = self.cols(trend);
        let base = 1 + usize::from(trend);
        let quad = &mut self.quad;
        quad.clear();
        for g in 0..=self.n_dummies {
            let (mut a, mut b) = (c[0], 0.0);
            if trend {
                b = 2.0 * c[1];
            }
            if g > 0 {
                let j = base + g - 1;
                a += 2.0 * c[j] + c[j * p + j];
                if trend {
                    b += 2.0 * c[p + j];
                }
            }
            quad.push((a, b));
        }
        let c11 = if trend { c[p + 1] } else { 0.0 };
        let mut sum = 0.0;
        for i in 0..n {
            let (mu, t) = (fit.mu[i], self.wtime[i]);
            let (a, b) = quad[self.layout.group[i]];
            let mut hat = fit.weights[i] * (a + t * (b + t * c11));
            if hat > 1.0 - 10.0 * f64::EPSILON {
                hat = 1.0;
            }
            // μ^(−1/6) from the linear predictor while μ = exp(η) (R clamps μ at ε).
            let root6 = if mu > f64::EPSILON {
                (fit.eta[i] / -6.0).exp()
            } else {
                mu.powf(-1.0 / 6.0)
            };
            let a = 1.5 * (self.layout.y23[i] * root6 - mu.sqrt());
            let s = a / (phi * (1.0 - hat)).sqrt();
            if s.is_nan() {
                self.omega = omega;
                return None;
            }
            let inv = if s > threshold { s.powi(-2) } else { 1.0 };
            sum += inv;
            omega.push(inv);
        }
        let gamma = n as f64 / sum;
        for o in &mut omega {
            *o *= gamma;
        }
        self.omega = omega;
        Some(())
    }

    /// Linear predictor (with offset) of the current period and the variance of its fitted
    /// part with dispersion `dispersion`.
    fn predict(&mut self, model: &Model, dispersion: f64) -> (f64, f64) {
        let cols = self.cols(model.trend);
        Work::fill_row(
            &mut self.row,
            &self.dummy,
            cols,
            model.trend,
            self.wtime_now,
            self.level_now,
        );
        let eta = model.fit.linear_predictor(&self.row) + self.offset_now;
        let var = model.fit.predictor_variance(&self.row) * dispersion;
        (eta, var)
    }
}

/// The design of both methods: an intercept, optionally the time, and one-hot seasonal levels
/// (treatment contrasts). It forms X'WX and Xβ from this structure, with the same sums as the
/// full matrix would give.
struct Seasonal<'a> {
    wtime: &'a [f64],
    /// Column (after intercept and trend) of each row's level; `usize::MAX` for the baseline.
    col: &'a [usize],
    trend: bool,
    cols: usize,
}

impl Seasonal<'_> {
    /// Column of row `i`'s level, if not the baseline.
    #[inline]
    fn level_col(&self, i: usize) -> Option<usize> {
        let col = self.col[i];
        (col != usize::MAX).then(|| col + 1 + usize::from(self.trend))
    }
}

impl glm::ModelMatrix for Seasonal<'_> {
    fn n_rows(&self) -> usize {
        self.wtime.len()
    }

    fn n_cols(&self) -> usize {
        self.cols
    }

    fn accumulate(&self, w: &[f64], z: &[f64], xtwx: &mut [f64], xtwz: &mut [f64]) {
        let p = self.cols;
        for i in 0..w.len() {
            let wi = w[i];
            if wi == 0.0 {
                continue;
            }
            let zi = z[i];
            let t = self.wtime[i];
            xtwz[0] += wi * zi;
            xtwx[0] += wi;
            if self.trend {
                let wt = wi * t;
                if wt != 0.0 {
                    xtwz[1] += wt * zi;
                    xtwx[p] += wt;
                    xtwx[p + 1] += wt * t;
                }
            }
            if let Some(j) = self.level_col(i) {
                xtwz[j] += wi * zi;
                xtwx[j * p] += wi;
                if self.trend {
                    xtwx[j * p + 1] += wi * t;
                }
                xtwx[j * p + j] += wi;
            }
        }
    }

    #[inline]
    fn row_dot(&self, i: usize, beta: &[f64]) -> f64 {
        let mut eta = beta[0];
        if self.trend {
            eta += self.wtime[i] * beta[1];
        }
        if let Some(j) = self.level_col(i) {
            eta += beta[j];
        }
        eta
    }
}

/// Longest run of rows whose trend factors exp(β_trend·t) are found by multiplying the
/// previous one by exp(β_trend) instead of by `exp`, which keeps their rounding below ~50 ulp.
const CHAIN_RUN: usize = 32;

/// The structured fit hands over to [`glm::fit`] when a linear predictor leaves
/// [ln ε + 1, `ETA_LIMIT`] (where R's inverse link would clamp the mean) or the trend moves it
/// by more than `ETA_LIMIT` over the rows, so that every product below stays finite.
const ETA_LIMIT: f64 = 300.0;

/// Pivots of X'WX below this share of their diagonal are solved by [`glm::NormalEquations`],
/// whose Cholesky marks a column aliased below 1e-9: far enough that rounding never separates
/// the two.
const PIVOT_MARGIN: f64 = 1e-6;

/// What [`Irls`] needs of the rows besides y and t, prepared once per period.
#[derive(Default)]
struct Layout {
    /// Group of each row: 0 the baseline, 1 + the dummy column otherwise.
    group: Vec<usize>,
    /// y·ln y, ln(y + 0.1) and y^(2/3) of each row, and ones (the default prior weights).
    ylny: Vec<f64>,
    eta0: Vec<f64>,
    y23: Vec<f64>,
    ones: Vec<f64>,
    /// t and t² of each row.
    tt: Vec<[f64; 2]>,
    /// The rows come in runs of consecutive periods (at most [`CHAIN_RUN`] long): each row's
    /// run, its position in it, and each run's first time. A row's trend factor
    /// exp(β·(t − t_ref)) is its run's factor times exp(β)^position.
    anchor: Vec<usize>,
    step: Vec<u8>,
    anchor_t: Vec<f64>,
    /// Consecutive rows of one group: the group and the end of the rows.
    segments: Vec<(usize, usize)>,
}

impl Layout {
    fn clear(&mut self) {
        self.group.clear();
        self.ylny.clear();
        self.eta0.clear();
        self.y23.clear();
        self.ones.clear();
        self.tt.clear();
        self.anchor.clear();
        self.step.clear();
        self.anchor_t.clear();
        self.segments.clear();
    }
}

/// Per-group sums of a fit.
#[derive(Debug, Clone, Copy, Default)]
struct GroupSums {
    /// Σ p·y, Σ p·y·t and Σ p·y·ln y with prior weights p (constant during the fit).
    y0: f64,
    y1: f64,
    ylny: f64,
    /// Σ p, used without trend, where all means of a group are equal.
    p0: f64,
    /// Lowest and highest time of the group.
    t_min: f64,
    t_max: f64,
    /// Σ w·tᵏ (k = 0, 1, 2) and Σ w·z·tᵏ (k = 0, 1) with the working weights w = p·μ and
    /// working responses z of the current iteration.
    s: [f64; 3],
    r: [f64; 2],
}

/// R's `glm.fit` for the Poisson fits of both methods (no offset), step by step as
/// [`glm::fit`] takes them — same start, same weighted least-squares steps, same convergence
/// rule and iteration limit — but from the design's structure. A row's linear predictor is its
/// group's intercept c_g plus β·t, so its mean is exp(c_g)·exp(β·t), and after the first step
/// every sum an iteration needs follows from Σ p·μ·tᵏ per group: X'WX directly, X'Wz as
/// c_g·Σpμ + β·Σpμt + Σpy − Σpμ (and likewise times t), the deviance as
/// Σ p·y·ln y − c_g·Σpy − β·Σpyt − Σpy + Σpμ. With trend, Σ p·μ·tᵏ costs one pass over the
/// rows with a multiplication per row; without, it is exp(c_g)·Σp. The normal equations are
/// solved in the groups' own intercepts (a Schur complement on the trend) and mapped to R's
/// treatment contrasts.
#[derive(Default)]
struct Irls {
    groups: Vec<GroupSums>,
    /// The sums of the last step solved, for its (X'WX)⁻¹.
    solved: Vec<GroupSums>,
    /// Group intercepts of the current and of the previous coefficients.
    c: Vec<f64>,
    c_old: Vec<f64>,
    /// exp(c_g + β·t_ref) of the current and previous coefficients.
    scale: Vec<f64>,
    scale_old: Vec<f64>,
    beta: Vec<f64>,
    equations: glm::NormalEquations,
    /// exp(β·(t − t_ref)) at the start of each run and exp(β)^k for k < [`CHAIN_RUN`].
    anchor_e: Vec<f64>,
    powers: [f64; CHAIN_RUN],
    /// Whether the last step was solved by the structure, and what its inverse needs.
    structured: bool,
    inv0: Vec<f64>,
    u: Vec<f64>,
    q_inv: f64,
}

impl Irls {
    /// Σ p·e·tᵏ (k = 0, 1, 2) over rows `start..end` with e their trend factors, in two
    /// interleaved sums so that the additions do not wait on each other.
    #[inline]
    fn segment_sums(&self, rows: &Layout, prior: &[f64], start: usize, end: usize) -> [f64; 3] {
        let prior = &prior[start..end];
        let anchor = &rows.anchor[start..end];
        let step = &rows.step[start..end];
        let tt = &rows.tt[start..end];
        let len = prior.len().min(anchor.len()).min(step.len()).min(tt.len());
        let term = |k: usize| {
            let e = self.anchor_e.get(anchor[k]).copied().unwrap_or(0.0)
                * self.powers[usize::from(step[k]) % CHAIN_RUN];
            let pe = prior[k] * e;
            (pe, pe * tt[k][0], pe * tt[k][1])
        };
        let (mut a, mut b) = ([0.0; 3], [0.0; 3]);
        let mut k = 0;
        while k + 1 < len {
            let (x0, x1, x2) = term(k);
            let (y0, y1, y2) = term(k + 1);
            a[0] += x0;
            a[1] += x1;
            a[2] += x2;
            b[0] += y0;
            b[1] += y1;
            b[2] += y2;
            k += 2;
        }
        if k < len {
            let (x0, x1, x2) = term(k);
            a[0] += x0;
            a[1] += x1;
            a[2] += x2;
        }
        [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
    }

    /// The trend factors of slope β for [`Layout`]'s runs.
    fn trend_factors(&mut self, rows: &Layout, slope: f64, t_ref: f64) {
        self.anchor_e.clear();
        self.anchor_e
            .extend(rows.anchor_t.iter().map(|&t| (slope * (t - t_ref)).exp()));
        let factor = slope.exp();
        let mut e = 1.0;
        for p in &mut self.powers {
            *p = e;
            e *= factor;
        }
    }

    /// Fits into `out`; false when the fit must be left to [`glm::fit`] (no observation with
    /// positive weight, or linear predictors outside the range the sums handle safely).
    #[allow(clippy::too_many_arguments)]
    fn fit(
        &mut self,
        rows: &Layout,
        y: &[f64],
        t: &[f64],
        dummies: usize,
        trend: bool,
        prior: &[f64],
        out: &mut Fit,
    ) -> bool {
        let control = Control::default();
        let n = y.len();
        let base = 1 + usize::from(trend);
        let p = base + dummies;
        let n_good = prior.iter().filter(|&&p| p > 0.0).count();
        if n_good == 0 {
            return false;
        }
        self.groups.clear();
        self.groups.resize(
            dummies + 1,
            GroupSums {
                t_min: f64::INFINITY,
                t_max: f64::NEG_INFINITY,
                ..GroupSums::default()
            },
        );
        self.beta.clear();
        self.beta.resize(p, 0.0);
        // Constant sums, and the first step from R's start μ = y + 0.1, η = ln μ.
        // Rows of zero weight add exact zeros.
        let mut dev_old = 0.0;
        let mut start = 0;
        for &(group, end) in &rows.segments {
            let mut acc = [0.0; 10];
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for i in start..end {
                let (y, t, pw, eta, ylny) = (y[i], t[i], prior[i], rows.eta0[i], rows.ylny[i]);
                lo = lo.min(t);
                hi = hi.max(t);
                let mu = y + 0.1;
                let (w, wz) = (pw * mu, pw * (mu * eta + y - mu));
                acc[0] += 2.0 * pw * (ylny - y * eta - (y - mu));
                acc[1] += pw * y;
                acc[2] += pw * y * t;
                acc[3] += pw * ylny;
                acc[4] += pw;
                acc[5] += w;
                acc[6] += w * t;
                acc[7] += w * t * t;
                acc[8] += wz;
                acc[9] += wz * t;
            }
            start = end;
            dev_old += acc[0];
            let g = &mut self.groups[group];
            g.t_min = g.t_min.min(lo);
            g.t_max = g.t_max.max(hi);
            g.y0 += acc[1];
            g.y1 += acc[2];
            g.ylny += acc[3];
            g.p0 += acc[4];
            g.s[0] += acc[5];
            g.s[1] += acc[6];
            g.s[2] += acc[7];
            g.r[0] += acc[8];
            g.r[1] += acc[9];
        }
        let t_ref = t[0];
        let (t_lo, t_hi) = self.groups.iter().fold((t_ref, t_ref), |(lo, hi), g| {
            (lo.min(g.t_min), hi.max(g.t_max))
        });
        let span = (t_hi - t_ref).max(t_ref - t_lo);
        let eta_floor = f64::EPSILON.ln() + 1.0;

        let mut converged = false;
        let mut iterations = 0;
        let mut slope = 0.0;
        let mut slope_old = 0.0;
        for iter in 1..=control.max_iter {
            iterations = iter;
            self.solve(trend, dummies);
            std::mem::swap(&mut self.c, &mut self.c_old);
            slope_old = slope;
            slope = if trend { self.beta[1] } else { 0.0 };
            std::mem::swap(&mut self.scale, &mut self.scale_old);
            self.c.clear();
            self.scale.clear();
            for g in 0..=dummies {
                let d = if g > 0 { self.beta[base + g - 1] } else { 0.0 };
                let c = self.beta[0] + d;
                self.c.push(c);
                // exp(c_g + β·t_ref): a row's mean is this times exp(β·(t − t_ref)).
                self.scale.push((c + slope * t_ref).exp());
            }
            // Stay where the products cannot overflow and R's mean is exp(η), unclamped.
            if slope.abs() * span > ETA_LIMIT || slope.is_nan() {
                return false;
            }
            for (g, &c) in self.groups.iter().zip(&self.c) {
                if g.p0 == 0.0 && g.t_min > g.t_max {
                    continue;
                }
                let (a, b) = (c + slope * g.t_min, c + slope * g.t_max);
                if !(a.min(b) >= eta_floor && a.max(b) <= ETA_LIMIT) {
                    return false;
                }
            }
            // Σ p·μ·tᵏ per group with the new coefficients.
            if trend {
                for g in &mut self.groups {
                    g.s = [0.0; 3];
                }
                self.trend_factors(rows, slope, t_ref);
                let mut start = 0;
                for &(group, end) in &rows.segments {
                    let acc = self.segment_sums(rows, prior, start, end);
                    let s = &mut self.groups[group].s;
                    s[0] += acc[0];
                    s[1] += acc[1];
                    s[2] += acc[2];
                    start = end;
                }
                for (g, &scale) in self.groups.iter_mut().zip(&self.scale) {
                    for s in &mut g.s {
                        *s *= scale;
                    }
                }
            } else {
                for (g, &scale) in self.groups.iter_mut().zip(&self.scale) {
                    g.s = [scale * g.p0, 0.0, 0.0];
                }
            }
            let mut dev = 0.0;
            for (g, &c) in self.groups.iter_mut().zip(&self.c) {
                dev += 2.0 * (g.ylny - c * g.y0 - slope * g.y1 - g.y0 + g.s[0]);
                g.r[0] = c * g.s[0] + slope * g.s[1] + g.y0 - g.s[0];
                g.r[1] = c * g.s[1] + slope * g.s[2] + g.y1 - g.s[1];
            }
            if !dev.is_finite() {
                return false;
            }
            if (dev - dev_old).abs() / (dev.abs() + 0.1) < control.epsilon {
                converged = true;
                dev_old = dev;
                break;
            }
            dev_old = dev;
        }

        // The fit as glm::fit reports it: the last step's coefficients, the means they give,
        // the working weights and (X'WX)⁻¹ of that step.
        out.mu.clear();
        out.eta.clear();
        out.weights.clear();
        self.trend_factors(rows, slope_old, t_ref);
        for i in 0..n {
            let pw = prior[i];
            out.weights.push(if pw <= 0.0 {
                0.0
            } else if iterations == 1 {
                pw * (y[i] + 0.1)
            } else {
                let e = self.anchor_e[rows.anchor[i]]
                    * self.powers[usize::from(rows.step[i]) % CHAIN_RUN];
                pw * self.scale_old[rows.group[i]] * e
            });
        }
        self.trend_factors(rows, slope, t_ref);
        for i in 0..n {
            let g = rows.group[i];
            let e =
                self.anchor_e[rows.anchor[i]] * self.powers[usize::from(rows.step[i]) % CHAIN_RUN];
            out.eta.push(self.c[g] + slope * t[i]);
            out.mu.push(self.scale[g] * e);
        }
        out.coefficients.clear();
        let rank = if self.structured {
            self.structured_inverse(trend, &mut out.cov_unscaled);
            out.coefficients.extend(self.beta.iter().map(|&b| Some(b)));
            p
        } else {
            // The factorisation of the last step is still in place.
            self.equations.inverse_into(&mut out.cov_unscaled);
            let aliased = self.equations.aliased();
            out.coefficients.extend(
                self.beta
                    .iter()
                    .zip(aliased)
                    .map(|(&b, &a)| (!a).then_some(b)),
            );
            aliased.iter().filter(|a| !**a).count()
        };
        out.deviance = dev_old;
        out.rank = rank;
        out.df_residual = n_good.saturating_sub(rank);
        out.converged = converged;
        out.iterations = iterations;
        true
    }

    /// Fills the dense normal equations of R's parametrisation (intercept, trend, dummies of
    /// groups 1…) from group sums.
    fn load(&mut self, groups: &[GroupSums], trend: bool, dummies: usize) {
        let base = 1 + usize::from(trend);
        let p = base + dummies;
        let (a, rhs) = self.equations.reset(p);
        for (g, s) in groups.iter().enumerate() {
            a[0] += s.s[0];
            rhs[0] += s.r[0];
            if trend {
                a[p] += s.s[1];
                a[p + 1] += s.s[2];
                rhs[1] += s.r[1];
            }
            if g > 0 {
                let j = base + g - 1;
                a[j * p] = s.s[0];
                if trend {
                    a[j * p + 1] = s.s[1];
                }
                a[j * p + j] = s.s[0];
                rhs[j] = s.r[0];
            }
        }
    }

    /// One weighted least-squares step into `beta`: by the structure when X'WX is clearly
    /// non-singular, else by the dense Cholesky with its rule for aliased columns.
    ///
    /// In the groups' own intercepts c_g and the slope β, X'WX has a diagonal block Σw per
    /// group bordered by the trend, so β comes from the Schur complement
    /// Q = Σ (Σwt² − (Σwt)²/Σw) and c_g = (Σwz − β·Σwt)/Σw; R's coefficients are c_0, β and
    /// c_g − c_0. The dense Cholesky marks a column aliased when its pivot falls below 1e-9 of
    /// its diagonal; a pivot is at least 1/(X'WX)⁻¹ of its column, so the structure is used
    /// only when every diagonal of X'WX times that of its inverse stays below
    /// 1/[`PIVOT_MARGIN`].
    fn solve(&mut self, trend: bool, dummies: usize) {
        self.solved.clear();
        self.solved.extend_from_slice(&self.groups);
        self.structured = self.solve_structured(trend);
        if !self.structured {
            let solved = std::mem::take(&mut self.solved);
            self.load(&solved, trend, dummies);
            self.solved = solved;
            self.equations.solve(&mut self.beta);
        }
    }

    /// The structured step of [`Irls::solve`]; false (and `beta` untouched) when X'WX is not
    /// clearly non-singular. Leaves 1/Σw and Σwt/Σw per group and 1/Q for the covariance.
    fn solve_structured(&mut self, trend: bool) -> bool {
        let groups = &self.solved;
        self.inv0.clear();
        self.u.clear();
        let (mut s0, mut s2, mut q, mut num) = (0.0, 0.0, 0.0, 0.0);
        for g in groups {
            if g.s[0].is_nan() || g.s[0] <= 0.0 {
                return false;
            }
            let inv = 1.0 / g.s[0];
            let u = g.s[1] * inv;
            s0 += g.s[0];
            s2 += g.s[2];
            q += g.s[2] - g.s[1] * u;
            num += g.r[1] - u * g.r[0];
            self.inv0.push(inv);
            self.u.push(u);
        }
        let limit = 1.0 / PIVOT_MARGIN;
        let (slope, q_inv) = if trend {
            if q.is_nan() || q <= 0.0 || s2 >= limit * q {
                return false;
            }
            let q_inv = 1.0 / q;
            (num * q_inv, q_inv)
        } else {
            (0.0, 0.0)
        };
        let (inv_base, u_base) = (self.inv0[0], self.u[0]);
        if s0 * (inv_base + u_base * u_base * q_inv) >= limit {
            return false;
        }
        for (g, &u) in groups.iter().zip(&self.u).skip(1) {
            let du = u - u_base;
            if 1.0 + g.s[0] * (inv_base + du * du * q_inv) >= limit {
                return false;
            }
        }
        self.q_inv = q_inv;
        let base = 1 + usize::from(trend);
        let c0 = (groups[0].r[0] - groups[0].s[1] * slope) * inv_base;
        self.beta[0] = c0;
        if trend {
            self.beta[1] = slope;
        }
        for (j, (g, &inv)) in groups.iter().zip(&self.inv0).enumerate().skip(1) {
            self.beta[base + j - 1] = (g.r[0] - g.s[1] * slope) * inv - c0;
        }
        true
    }

    /// (X'WX)⁻¹ of the last structured step in R's parametrisation: in the groups' intercepts
    /// and the slope it is diag(1/Σw) + u uᵀ/Q bordered by −u/Q and 1/Q (u = Σwt/Σw), mapped
    /// through c_0, β, c_g − c_0.
    fn structured_inverse(&self, trend: bool, out: &mut Vec<f64>) {
        let base = 1 + usize::from(trend);
        let p = base + self.inv0.len() - 1;
        let q = self.q_inv;
        let (inv_base, u_base) = (self.inv0[0], self.u[0]);
        out.clear();
        out.resize(p * p, 0.0);
        out[0] = inv_base + u_base * u_base * q;
        if trend {
            out[1] = -u_base * q;
            out[p] = out[1];
            out[p + 1] = q;
        }
        for j in 1..self.inv0.len() {
            let cj = base + j - 1;
            let dj = self.u[j] - u_base;
            let v = -inv_base + u_base * dj * q;
            out[cj] = v;
            out[cj * p] = v;
            if trend {
                out[p + cj] = -dj * q;
                out[cj * p + 1] = -dj * q;
            }
            for k in 1..=j {
                let ck = base + k - 1;
                let dk = self.u[k] - u_base;
                let mut v = inv_base + dj * dk * q;
                if k == j {
                    v += self.inv0[j];
                }
                out[cj * p + ck] = v;
                out[ck * p + cj] = v;
            }
        }
    }
}

/// Fits with trend when asked, keeps the trend when it is significant at `p_threshold`, there
/// are at least three years and the prediction does not exceed the largest count; otherwise
/// refits without. Returns the model and whether the trend was kept.
fn choose_model(
    work: &mut Work,
    settings: &Settings,
    trend: bool,
    b: usize,
    p_threshold: f64,
) -> Option<(Model, bool)> {
    let model = work.fit_model(settings, trend)?;
    if !model.trend {
        return Some((model, false));
    }
    let (eta, _) = work.predict(&model, model.disp);
    let max_y = work.y.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let significant = trend_p_value(&model).is_some_and(|p| p < p_threshold);
    if b >= 3 && significant && glm::inverse_link(eta) <= max_y {
        return Some((model, true));
    }
    work.recycle(model.fit);
    let model = work.fit_model(settings, false)?;
    Some((model, false))
}

/// The two-sided t-test p-value of the trend coefficient, as R's `summary.glm` for a quasi
/// family.
fn trend_p_value(model: &Model) -> Option<f64> {
    let beta = (*model.fit.coefficients.get(1)?)?;
    let p = model.fit.coefficients.len();
    let se = (model.disp * model.fit.cov_unscaled[p + 1]).sqrt();
    let df = model.fit.df_residual as f64;
    if se.is_nan() || se <= 0.0 || df <= 0.0 {
        return None;
    }
    let t = StudentsT::new(0.0, 1.0, df).ok()?;
    let p = 2.0 * t.cdf(-(beta / se).abs());
    (!p.is_nan()).then_some(p)
}

// ---------------------------------------------------------------------------------------------
// Bounds.

/// The standard normal quantile.
fn normal_quantile(p: f64) -> f64 {
    Normal::standard().inverse_cdf(p)
}

/// Farrington's bound on the power-transformed scale: the upper limit and the probability of
/// a count at least `y` (upper tail when `upper_tail`).
fn delta_bound(
    mu0: f64,
    se_fit: f64,
    phi: f64,
    transform: PowerTransform,
    z: f64,
    y: Option<f64>,
    upper_tail: bool,
) -> (Option<f64>, Option<f64>) {
    let tau = phi + se_fit * se_fit / mu0;
    let (se, exponent) = match transform {
        PowerTransform::None => ((mu0 * tau).sqrt(), 1.0),
        PowerTransform::Half => ((1.0 / 4.0 * tau).sqrt(), 1.0 / 2.0),
        PowerTransform::TwoThirds => ((4.0 / 9.0 * mu0.powf(1.0 / 3.0) * tau).sqrt(), 2.0 / 3.0),
    };
    let centre = r_pow(mu0, exponent);
    let a = r_pow(centre - z * se, 1.0 / exponent);
    let b = r_pow(centre + z * se, 1.0 / exponent);
    let upper = match (a.is_nan(), b.is_nan()) {
        (false, false) => Some(a.max(b)),
        (true, false) => Some(b),
        (false, true) => Some(a),
        (true, true) => None,
    };
    let prob = y.and_then(|y| {
        let normal = Normal::new(centre, se).ok()?;
        let x = r_pow(y, exponent);
        let p = if upper_tail {
            normal.sf(x)
        } else {
            normal.cdf(x)
        };
        (!p.is_nan()).then_some(p)
    });
    (upper, prob)
}

/// R's `^`: squares exactly, otherwise `pow`.
fn r_pow(x: f64, y: f64) -> f64 {
    if y == 2.0 {
        x * x
    } else if y == 1.0 {
        x
    } else {
        x.powf(y)
    }
}

/// Noufaily's bound: the `p` quantile of a negative binomial with mean `mean` and variance
/// `phi · mean` (Poisson when `phi` is 1), and the probability of a count at least `y`.
fn count_bound(
    mean: f64,
    phi: f64,
    p: f64,
    z: f64,
    y: Option<f64>,
    terms: &mut Vec<f64>,
) -> (Option<f64>, Option<f64>) {
    if !mean.is_finite() || phi.is_nan() || phi < 1.0 {
        return (None, None);
    }
    let dist = CountDistribution::new(mean, phi);
    (
        Some(dist.quantile(p, z, terms)),
        y.and_then(|y| dist.upper_tail(y)),
    )
}

/// A Poisson or negative binomial distribution. Its quantiles come from summing the
/// probabilities with their ratios (from zero, or outward from the mean when P(0) underflows),
/// so that they agree with R's `qpois`/`qnbinom` exactly, barring ties at 1e-13.
struct CountDistribution {
    mean: f64,
    phi: f64,
    /// Negative binomial size μ/(φ−1) and failure probability (φ−1)/φ; `None` for Poisson.
    nb: Option<(f64, f64)>,
}

/// Terms below this share of the running total are dropped.
const NEGLIGIBLE: f64 = 1e-18;
/// Longest sum of probabilities before the Cornish-Fisher approximation takes over.
const MAX_TERMS: usize = 4_000_000;

impl CountDistribution {
    fn new(mean: f64, phi: f64) -> CountDistribution {
        let nb = (phi > 1.0).then(|| (mean / (phi - 1.0), (phi - 1.0) / phi));
        CountDistribution { mean, phi, nb }
    }

    /// P(k + 1) / P(k).
    fn ratio(&self, k: f64) -> f64 {
        match self.nb {
            None => self.mean / (k + 1.0),
            Some((size, q)) => (k + size) / (k + 1.0) * q,
        }
    }

    /// ln P(0).
    fn ln_p0(&self) -> f64 {
        match self.nb {
            None => -self.mean,
            Some((size, _)) => -size * self.phi.ln(),
        }
    }

    /// Unnormalised probabilities outward from the mean, stored from the lowest count upward
    /// into `terms`; returns that lowest count, or `None` when there would be too many.
    fn fill(&self, terms: &mut Vec<f64>) -> Option<usize> {
        terms.clear();
        let start = self.mean.floor().max(0.0);
        if start > 1e15 {
            return None;
        }
        let start_k = start as usize;
        let mut total = 1.0;
        let mut t = 1.0;
        let mut k = start_k;
        terms.push(1.0);
        while k > 0 {
            t /= self.ratio((k - 1) as f64);
            if t.is_nan() || t <= NEGLIGIBLE * total {
                break;
            }
            k -= 1;
            total += t;
            terms.push(t);
            if terms.len() > MAX_TERMS {
                return None;
            }
        }
        let lo = k;
        terms.reverse();
        let mut t = 1.0;
        let mut k = start;
        loop {
            t *= self.ratio(k);
            k += 1.0;
            if t.is_nan() || t <= NEGLIGIBLE * total {
                break;
            }
            total += t;
            terms.push(t);
            if terms.len() > MAX_TERMS {
                return None;
            }
        }
        Some(lo)
    }

    /// The smallest count whose cumulative probability reaches `p` (`z` is its standard
    /// normal quantile, for the approximation of extreme cases).
    fn quantile(&self, p: f64, z: f64, terms: &mut Vec<f64>) -> f64 {
        if self.mean <= 0.0 {
            return 0.0;
        }
        // R searches with p lowered by a few ulps, for left continuity.
        let target = p * (1.0 - 64.0 * f64::EPSILON);
        let ln_p0 = self.ln_p0();
        if ln_p0 > -700.0 {
            let mut t = ln_p0.exp();
            let mut cum = t;
            let mut k = 0.0;
            let mut steps = 0;
            while cum < target && steps < MAX_TERMS {
                t *= self.ratio(k);
                k += 1.0;
                cum += t;
                steps += 1;
                if t == 0.0 && k > self.mean {
                    break;
                }
            }
            if steps < MAX_TERMS {
                return k;
            }
        } else if let Some(lo) = self.fill(terms) {
            let total: f64 = terms.iter().sum();
            let target = target * total;
            let mut cum = 0.0;
            for (i, t) in terms.iter().enumerate() {
                cum += t;
                if cum >= target {
                    return (lo + i) as f64;
                }
            }
            return (lo + terms.len()) as f64;
        }
        // Cornish-Fisher, as R's starting point; its error is far below the tolerance at
        // these sizes.
        let sigma = (self.mean * self.phi).sqrt();
        let skew = match self.nb {
            None => 1.0 / sigma,
            Some(_) => (2.0 * self.phi - 1.0) / sigma,
        };
        (self.mean + sigma * (z + skew * (z * z - 1.0) / 6.0))
            .round()
            .max(0.0)
    }

    /// P(Y ≥ y).
    fn upper_tail(&self, y: f64) -> Option<f64> {
        use statrs::distribution::{DiscreteCDF, NegativeBinomial, Poisson};
        if y <= 0.0 {
            return Some(1.0);
        }
        if self.mean <= 0.0 {
            return Some(0.0);
        }
        let below = (y.ceil() - 1.0) as u64;
        let p = match self.nb {
            None => Poisson::new(self.mean).ok()?.sf(below),
            Some((size, _)) => NegativeBinomial::new(size, 1.0 / self.phi).ok()?.sf(below),
        };
        (!p.is_nan()).then_some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantiles_match_r() {
        // R: qnorm(c(0.95, 0.99, 0.975, 0.995))
        for (p, r) in [
            (0.95, 1.6448536269514715),
            (0.99, 2.3263478740408408),
            (0.975, 1.9599639845400536),
            (0.995, 2.575_829_303_548_9),
        ] {
            let z = normal_quantile(p);
            assert!((z - r).abs() < 1e-14 * r, "{p}: {z} vs {r}");
        }
    }

    #[test]
    fn count_quantiles_match_r() {
        let mut terms = Vec::new();
        // R: qnbinom(0.95, 3.7/(2.3-1), 1/2.3) = 9; qpois(0.95, 3.7) = 7;
        // qnbinom(0.99, 1500/0.5, 1/1.5) = 1612; qpois(0.95, 1e-300) = 0.
        assert_eq!(
            CountDistribution::new(3.7, 2.3).quantile(0.95, 1.6448536269514715, &mut terms),
            9.0
        );
        assert_eq!(
            CountDistribution::new(3.7, 1.0).quantile(0.95, 1.6448536269514715, &mut terms),
            7.0
        );
        assert_eq!(
            CountDistribution::new(1500.0, 1.5).quantile(0.99, 2.3263478740408408, &mut terms),
            1612.0
        );
        assert_eq!(
            CountDistribution::new(1e-300, 1.0).quantile(0.95, 1.6448536269514715, &mut terms),
            0.0
        );
        // R: pnbinom(11, 3.7/1.3, 1/2.3, lower.tail = FALSE) = 0.0236431...
        let tail = CountDistribution::new(3.7, 2.3)
            .upper_tail(12.0)
            .unwrap_or_default();
        assert!((tail - 0.0189616020531558).abs() < 1e-12, "{tail}");
    }

    #[test]
    fn reference_dates_follow_r() {
        let series = Series::regular(
            "s",
            NaiveDate::from_ymd_opt(2015, 1, 5).unwrap_or_default(),
            Frequency::Weekly,
            vec![Some(1.0); 300],
        );
        // 2020-03-02 (a Monday) one year back is 2019-03-02, a Saturday: the nearest Monday
        // is 2019-03-04.
        let k = index_of(
            &series,
            NaiveDate::from_ymd_opt(2020, 3, 2).unwrap_or_default(),
        );
        let k = k.unwrap_or_default();
        assert_eq!(
            reference_date(&series, k, 1),
            NaiveDate::from_ymd_opt(2019, 3, 4)
        );
        assert_eq!(
            years_back(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap_or_default(), 1),
            NaiveDate::from_ymd_opt(2023, 3, 1)
        );
    }
}
