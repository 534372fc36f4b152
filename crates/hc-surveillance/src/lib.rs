//! Early warning (多点触发预警): from daily surveillance counts to signals and events.
//!
//! The store keeps, per feed, code and community, the day's count ([`Count`]); this crate turns
//! them into the streams the configuration ([`Config`]) asks for — each code of a feed summed
//! over the communities of each street, district and the city, by day or by ISO week —, runs
//! the outbreak-detection engine on each ([`evaluate`]), keeps the alarms that pass the rule's
//! minimum count, groups a stream's alarms into episodes so that a stream that stays above its
//! threshold updates its open signal instead of raising a new one every day ([`episodes`]), and
//! fuses signals of independent sources that meet in place and time into events ([`fusion`]).
//!
//! Pure, like `hc-detect`: counts, the org tree and the stored signals come in as values and
//! the run date is an argument. Every alarm carries what explains it: the rule, method,
//! parameters, engine version, the baseline counts the method looked at, the expected value
//! and the threshold in cases.
#![deny(missing_docs)]

pub mod areas;
pub mod config;
pub mod episodes;
pub mod evaluate;
pub mod fusion;
pub mod notify;
pub mod truth;
pub mod workflow;

pub use areas::{AreaError, Areas, Level};
pub use config::{Alert, Codes, Config, ConfigError, FusionRule, Period, Rule, ScanRule};
pub use evaluate::{Alarm, Count, FeedCounts, RunOutput, Skipped, evaluate};

/// The code under which a feed's denominator is counted.
pub const DENOMINATOR: &str = "*";

/// The version of this crate's rules for streams, episodes and fusion, stored with each run.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
