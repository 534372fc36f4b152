//! CDC ESSENCE's regression, EWMA and switch detectors, as Rnssp computes them.

use std::ops::RangeInclusive;

use crate::{DetectError, Detector, Evaluation, ParamError, Params, Series};

/// Placeholder until the method lands.
#[derive(Debug, Clone)]
pub struct Essence;

impl Essence {
    /// Reads the method's parameters.
    pub fn from_params(_params: &mut Params) -> Result<Essence, ParamError> {
        Ok(Essence)
    }
}

impl Detector for Essence {
    fn method(&self) -> &'static str {
        "essence"
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
