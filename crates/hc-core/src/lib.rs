//! HealthCity's domain core: the registry's records, their codes and the rules they obey.
//!
//! Everything here is pure: no I/O, no clock (functions that depend on the date take `today`),
//! no database. Storage, HTTP and the CLI are thin layers around these rules.
//!
//! ```
//! use chrono::NaiveDate;
//! use hc_core::{idcard, model::Sex};
//!
//! let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
//! let facts = idcard::parse("11010519491231002X", today).unwrap();
//! assert_eq!(facts.sex, Sex::F);
//! ```
#![deny(missing_docs)]

pub mod access;
pub mod idcard;
pub mod model;
pub mod validate;
