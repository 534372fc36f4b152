//! The instantaneous reproduction number Rt (Cori et al. 2013), as EpiEstim's `estimate_R`.
