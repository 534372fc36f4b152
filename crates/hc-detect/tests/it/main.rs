//! The detection engine against R: every case of `test_data/` (made by R's `surveillance`,
//! `EpiEstim` and CDC's Rnssp) must give the same alarms, numbers within 1e-6 relative, and
//! missing values where R has `NA`; plus the behaviour of methods R does not have.

mod basic;
mod essence;
mod farrington;
mod glr;
mod reference;
mod rt;
mod scan;
mod support;
