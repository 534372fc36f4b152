//! HealthCity's primary-care rules, as the national basic public-health service specification
//! (国家基本公共卫生服务规范（第三版）, 2017) lays them down: how a hypertension or type-2
//! diabetes follow-up is classified and what it requires next ([`evaluate`]); a patient's
//! year and the standardised-management and control rates ([`patient_year`],
//! [`program_rates`]); and the key populations a resident belongs to, each with the fact that
//! made it ([`key_populations`]); and what a resident is due for and where each service
//! stands on a worklist ([`due_services`], [`work_status`]).
//!
//! The rules are data ([`Rules`], with a version and the source they come from), so a
//! province can load its own; the default is the national specification. Everything here is
//! pure: no I/O and no clock (checks that depend on the date take `today`).
//!
//! ```
//! use chrono::NaiveDate;
//! use hc_care::{Action, Classification, Program, Rules, Visit, evaluate};
//!
//! let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
//! let visit = |date, sbp, dbp| Visit {
//!     sbp: Some(sbp),
//!     dbp: Some(dbp),
//!     ..Visit::new(d(date), d("1970-05-01"))
//! };
//! let out = evaluate(Program::Hypertension, &Rules::default(), &[
//!     visit("2026-01-10", 132, 84),
//!     visit("2026-04-10", 146, 88),
//! ]);
//! assert_eq!(out[0].classification, Classification::Satisfied);
//! assert_eq!(out[0].next_due, d("2026-04-10"));
//! assert_eq!(out[1].action, Action::Revisit2w);
//! assert_eq!(out[1].next_due, d("2026-04-24"));
//! ```
#![deny(missing_docs)]

mod followup;
mod indicators;
mod populations;
mod record;
mod schedule;

pub use followup::*;
pub use indicators::*;
pub use populations::*;
pub use record::*;
pub use schedule::*;
