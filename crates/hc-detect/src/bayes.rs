//! The Bayes rule as R's `algo.bayes`.

use std::ops::RangeInclusive;

use crate::{DetectError, Detector, Evaluation, ParamError, Params, Series};

/// Placeholder until the method lands.
#[derive(Debug, Clone)]
pub struct Bayes;

impl Bayes {
    /// Reads the method's parameters.
    pub fn from_params(_params: &mut Params) -> Result<Bayes, ParamError> {
        Ok(Bayes)
    }
}

impl Detector for Bayes {
    fn method(&self) -> &'static str {
        "bayes"
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
