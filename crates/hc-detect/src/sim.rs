//! The Noufaily et al. (2013) simulation design, for evaluating detectors.
