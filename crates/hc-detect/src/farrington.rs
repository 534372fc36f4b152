//! Farrington (1996) and Farrington flexible (Noufaily et al. 2013), as R's `algo.farrington` and `farringtonFlexible`.

use std::ops::RangeInclusive;

use crate::{DetectError, Detector, Evaluation, ParamError, Params, Series};

/// Placeholder until the method lands.
#[derive(Debug, Clone)]
pub struct Flexible;

impl Flexible {
    /// Reads the method's parameters.
    pub fn from_params(_params: &mut Params) -> Result<Flexible, ParamError> {
        Ok(Flexible)
    }
}

impl Detector for Flexible {
    fn method(&self) -> &'static str {
        "farrington-flexible"
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

/// Placeholder until the method lands.
#[derive(Debug, Clone)]
pub struct Classic;

impl Classic {
    /// Reads the method's parameters.
    pub fn from_params(_params: &mut Params) -> Result<Classic, ParamError> {
        Ok(Classic)
    }
}

impl Detector for Classic {
    fn method(&self) -> &'static str {
        "farrington"
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
