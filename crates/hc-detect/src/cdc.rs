//! CDC historical limits as R's `algo.cdc`.

use std::ops::RangeInclusive;

use crate::{DetectError, Detector, Evaluation, ParamError, Params, Series};

/// Placeholder until the method lands.
#[derive(Debug, Clone)]
pub struct Cdc;

impl Cdc {
    /// Reads the method's parameters.
    pub fn from_params(_params: &mut Params) -> Result<Cdc, ParamError> {
        Ok(Cdc)
    }
}

impl Detector for Cdc {
    fn method(&self) -> &'static str {
        "cdc"
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
