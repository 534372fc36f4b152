//! EARS C1, C2 and C3 (CDC's Early Aberration Reporting System).

use std::ops::RangeInclusive;

use crate::{DetectError, Detector, Evaluation, ParamError, Params, Series};

/// Placeholder until the method lands.
#[derive(Debug, Clone)]
pub struct Ears;

impl Ears {
    /// Reads the method's parameters.
    pub fn from_params(_params: &mut Params) -> Result<Ears, ParamError> {
        Ok(Ears)
    }
}

impl Detector for Ears {
    fn method(&self) -> &'static str {
        "ears"
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
