//! GLR detectors for Poisson and negative-binomial counts, as R's `glrpois` and `glrnb`.

use std::ops::RangeInclusive;

use crate::{DetectError, Detector, Evaluation, ParamError, Params, Series};

/// The count distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Poisson counts (`glrpois`).
    Poisson,
    /// Negative-binomial counts (`glrnb`).
    NegBin,
}

/// Placeholder until the method lands.
#[derive(Debug, Clone)]
pub struct Glr;

impl Glr {
    /// Reads the method's parameters.
    pub fn from_params(_family: Family, _params: &mut Params) -> Result<Glr, ParamError> {
        Ok(Glr)
    }
}

impl Detector for Glr {
    fn method(&self) -> &'static str {
        "glrnb"
    }

    fn describe(&self) -> String {
        String::new()
    }

    fn first_index(&self, _series: &Series) -> Result<usize, DetectError> {
        Ok(0)
    }

    fn evaluate(
        &self,
        _series: &Series,
        _range: RangeInclusive<usize>,
    ) -> Result<Vec<Evaluation>, DetectError> {
        Ok(Vec::new())
    }
}
