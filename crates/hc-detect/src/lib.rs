//! Outbreak detection: the statistical core of HealthCity's early warning.
//!
//! Every method of R's `surveillance` package that public-health teams use (Farrington and its
//! Noufaily improvements, EARS C1–C3, CUSUM, GLR for Poisson and negative-binomial counts, the
//! Bayes and RKI rules, CDC historical limits), CDC ESSENCE's regression/EWMA detectors as in
//! Rnssp, China CDC's moving-percentile method (CIDARS), Kulldorff's space-time permutation scan
//! statistic and the Cori et al. reproduction number as in EpiEstim. The outputs match R's
//! (checked against R's own results in `test_data/`), much faster.
//!
//! The crate is pure: no I/O, no clock, no database. A [`Series`] goes in, one [`Evaluation`] per
//! evaluated period comes out, with the expected value, the threshold, the alarm and the
//! parameters used, so that every alarm can be explained.
//!
//! ```
//! use chrono::NaiveDate;
//! use hc_detect::{Frequency, Params, Series};
//!
//! let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
//! let mut counts = vec![Some(3.0); 30];
//! counts[29] = Some(12.0);
//! let series = Series::regular("fever", start, Frequency::Daily, counts);
//! let ears = hc_detect::detector("ears", Params::parse("variant=C1").unwrap()).unwrap();
//! let out = hc_detect::run(ears.as_ref(), &series, None, None).unwrap();
//! assert!(out.last().unwrap().alarm);
//! ```
#![deny(missing_docs)]

use std::ops::RangeInclusive;

use chrono::NaiveDate;

pub mod bayes;
pub mod cdc;
pub mod cusum;
pub mod ears;
pub mod essence;
pub mod farrington;
pub mod glm;
pub mod glr;
pub mod mpm;
mod params;
pub mod rki;
pub mod rt;
pub mod scan;
mod series;
pub mod sim;

pub use params::{ParamError, Params, invalid};
pub use series::{Frequency, Period, Series, SeriesError};

/// The engine's version, stored with every signal so that it can be re-computed.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The methods [`detector`] knows, as named on the command line.
pub const METHODS: &[&str] = &[
    "farrington-flexible",
    "farrington",
    "ears",
    "cusum",
    "glrnb",
    "glrpois",
    "bayes",
    "rki",
    "cdc",
    "essence",
    "mpm",
    "fixed",
];

/// The result for one evaluated period.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Evaluation {
    /// Index of the period in its series.
    pub index: usize,
    /// Expected count (R's `control$expected`; ESSENCE's baseline expectation).
    pub expected: Option<f64>,
    /// Threshold (R's `upperbound`; for GLR with `ret=value` and ESSENCE, the statistic).
    pub upperbound: Option<f64>,
    /// Whether the period raised an alarm.
    pub alarm: bool,
    /// A score where the method defines one (Farrington's exceedance score, CUSUM's statistic).
    pub score: Option<f64>,
    /// A p-value where the method defines one.
    pub p_value: Option<f64>,
    /// ESSENCE's alert level.
    pub level: Option<Level>,
    /// Whether a time trend was fitted (Farrington methods).
    pub trend: Option<bool>,
    /// Where `upperbound` is not a count (ESSENCE's statistic): the smallest count of the
    /// period that would have raised an alarm, so the threshold can be shown in cases.
    pub limit: Option<f64>,
}

impl Evaluation {
    /// An evaluation of period `index` with nothing computed yet.
    pub fn at(index: usize) -> Evaluation {
        Evaluation {
            index,
            ..Evaluation::default()
        }
    }
}

/// ESSENCE's alert levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// p < 0.01.
    Red,
    /// 0.01 ≤ p < 0.05.
    Yellow,
    /// No alert.
    Blue,
}

impl Level {
    /// `red`, `yellow` or `blue`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Red => "red",
            Level::Yellow => "yellow",
            Level::Blue => "blue",
        }
    }
}

/// Why a series could not be evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DetectError {
    /// The first requested period lacks the history the method needs.
    #[error(
        "{method} needs {needed} periods of history before the first evaluated period; {}",
        match .first_possible { Some(d) => format!("the first period it can evaluate is {d}, so start at or after it"), None => format!("the series has only {} periods", .available) }
    )]
    NotEnoughHistory {
        /// The method.
        method: &'static str,
        /// Periods of history needed.
        needed: usize,
        /// Periods before the first requested one.
        available: usize,
        /// The first date that has enough history, if the series reaches it.
        first_possible: Option<NaiveDate>,
    },
    /// The method does not work on this frequency.
    #[error("{method} works on {supported} data; this series is {}", .frequency.as_str())]
    Frequency {
        /// The method.
        method: &'static str,
        /// What it supports.
        supported: &'static str,
        /// The series' frequency.
        frequency: Frequency,
    },
    /// The method cannot handle a missing count where one was found.
    #[error("{method} cannot use the missing count on {date}")]
    Missing {
        /// The method.
        method: &'static str,
        /// The period with the missing count.
        date: NaiveDate,
    },
    /// The method needs a population column.
    #[error("{method} with {param} needs a population column")]
    NeedsPopulation {
        /// The method.
        method: &'static str,
        /// The parameter asking for it.
        param: &'static str,
    },
    /// The in-control model could not be fitted to the history (for instance a history without
    /// any usable count, or one on which the overdispersion cannot be estimated).
    #[error("{method} could not fit its in-control model: {reason}")]
    Fit {
        /// The method.
        method: &'static str,
        /// What went wrong.
        reason: String,
    },
}

/// A configured detection method.
pub trait Detector: Send + Sync {
    /// The method's name, as in [`METHODS`].
    fn method(&self) -> &'static str;

    /// The parameters in effect (defaults filled in), as `key=value;…`.
    fn describe(&self) -> String;

    /// The index of the first period with enough history to be evaluated.
    fn first_index(&self, series: &Series) -> Result<usize, DetectError>;

    /// Evaluates the periods in `range` (indexes into the series, within its bounds and at or
    /// after [`Detector::first_index`]), returning one [`Evaluation`] per period, in order.
    fn evaluate(
        &self,
        series: &Series,
        range: RangeInclusive<usize>,
    ) -> Result<Vec<Evaluation>, DetectError>;
}

/// Configures `method` from `params`; unknown keys and bad values are errors.
pub fn detector(method: &str, mut params: Params) -> Result<Box<dyn Detector>, ParamError> {
    let detector: Box<dyn Detector> = match method {
        "farrington-flexible" => Box::new(farrington::Flexible::from_params(&mut params)?),
        "farrington" => Box::new(farrington::Classic::from_params(&mut params)?),
        "ears" => Box::new(ears::Ears::from_params(&mut params)?),
        "cusum" => Box::new(cusum::Cusum::from_params(&mut params)?),
        "glrnb" => Box::new(glr::Glr::from_params(glr::Family::NegBin, &mut params)?),
        "glrpois" => Box::new(glr::Glr::from_params(glr::Family::Poisson, &mut params)?),
        "bayes" => Box::new(bayes::Bayes::from_params(&mut params)?),
        "rki" => Box::new(rki::Rki::from_params(&mut params)?),
        "cdc" => Box::new(cdc::Cdc::from_params(&mut params)?),
        "essence" => Box::new(essence::Essence::from_params(&mut params)?),
        "mpm" => Box::new(mpm::Mpm::from_params(&mut params)?),
        "fixed" => Box::new(mpm::Fixed::from_params(&mut params)?),
        other => return Err(ParamError::UnknownMethod(other.to_owned())),
    };
    params.finish(method)?;
    Ok(detector)
}

/// Runs `detector` on the periods of `series` between `from` and `to` (inclusive; by default
/// every period that has enough history, to the end).
pub fn run(
    detector: &dyn Detector,
    series: &Series,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Vec<Evaluation>, DetectError> {
    let first = detector.first_index(series)?;
    let start = from.map_or(first, |d| series.index_at_or_after(d));
    let Some(end) = to.map_or(series.len().checked_sub(1), |d| {
        series.index_at_or_before(d)
    }) else {
        return Ok(Vec::new());
    };
    if start > end || start >= series.len() {
        if from.is_none() && first >= series.len() {
            return Err(DetectError::NotEnoughHistory {
                method: detector.method(),
                needed: first,
                available: series.len(),
                first_possible: None,
            });
        }
        return Ok(Vec::new());
    }
    if start < first {
        return Err(too_early(detector, series, first, start));
    }
    detector.evaluate(series, start..=end)
}

/// The error for a range that starts at `start`, before `first`, the detector's first
/// evaluable period.
fn too_early(detector: &dyn Detector, series: &Series, first: usize, start: usize) -> DetectError {
    DetectError::NotEnoughHistory {
        method: detector.method(),
        needed: first,
        available: start,
        first_possible: series.dates().get(first).copied(),
    }
}

/// For detectors' `evaluate`: `range` clipped to the series, `None` when empty; an error when
/// it starts before the detector's first evaluable period (`run` checks this too, but
/// `evaluate` may be called directly).
pub(crate) fn checked_range(
    detector: &dyn Detector,
    series: &Series,
    range: RangeInclusive<usize>,
) -> Result<Option<(usize, usize)>, DetectError> {
    let first = detector.first_index(series)?;
    let (start, end) = (
        *range.start(),
        (*range.end()).min(series.len().saturating_sub(1)),
    );
    if start > end || start >= series.len() {
        return Ok(None);
    }
    if start < first {
        return Err(too_early(detector, series, first, start));
    }
    Ok(Some((start, end)))
}
