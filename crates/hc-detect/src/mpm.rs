//! China CDC's moving-percentile method (CIDARS) and fixed thresholds.

use std::ops::RangeInclusive;

use crate::{DetectError, Detector, Evaluation, ParamError, Params, Series};

/// Placeholder until the method lands.
#[derive(Debug, Clone)]
pub struct Mpm;

impl Mpm {
    /// Reads the method's parameters.
    pub fn from_params(_params: &mut Params) -> Result<Mpm, ParamError> {
        Ok(Mpm)
    }
}

impl Detector for Mpm {
    fn method(&self) -> &'static str {
        "mpm"
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
pub struct Fixed;

impl Fixed {
    /// Reads the method's parameters.
    pub fn from_params(_params: &mut Params) -> Result<Fixed, ParamError> {
        Ok(Fixed)
    }
}

impl Detector for Fixed {
    fn method(&self) -> &'static str {
        "fixed"
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
