//! HealthCity's synthetic demo city: Shenzhen, scaled down (or not), made up from public data.
//!
//! The generator starts from two embedded files (see `data/README.md`): the city's 9 districts
//! and 79 streets (NBS division codes, 2023) and the 2020 census population of each district by
//! sex and 5-year age band. From them it makes, into an empty, migrated [`hc_store::Store`]:
//!
//! 1. **org units**: the city, its districts and streets, and 4–12 invented communities per
//!    street (12-digit codes: street code + `001`, `002`, ...), and a made-up map of them
//!    (`hc_geo::generate`: nested shapes, areas in proportion to the planned residents);
//! 2. **institutions** at realistic ratios to the generated population: hospitals (≈ 3.6 beds
//!    per 1,000 residents, the first of each district a 三甲 leading its 基层医疗集团),
//!    社康中心/站 (one per ≈ 20,000 residents, members of that group), a CDC per district and
//!    one for the city, a 妇幼保健院 per district, pharmacies, schools, kindergartens, nursing
//!    homes and clinics;
//! 3. **practitioners**: GPs in 社康, specialists and nurses in hospitals, public-health
//!    physicians at the CDCs and pharmacists in pharmacies;
//! 4. **residents**: `round(census × scale)` people per district, sex and age band, with valid,
//!    unique identity numbers, names, phones and communities;
//! 5. **primary care** (`care.rs`): family-doctor teams at every 社康 and, up to
//!    [`DemoOptions::today`], three years of contracts (with renewals and changes of team) and
//!    their services, diagnoses, disability certificates and pregnancies, hypertension and
//!    diabetes programs with follow-ups judged by `hc-care`'s rules, and health checks;
//! 6. **surveillance feeds** ([`feeds`]): three years of visits, cases, pharmacy sales,
//!    absenteeism and laboratory results with injected outbreaks and their truth. These are
//!    not written by [`build`]: [`FeedDemo`] hands them out as the feeds' JSON records for the
//!    caller to send through the ingest rules (the binary uses `hc_app::feeds::receive_batch`).
//!
//! Everything is deterministic for a given seed, scale and `today` (ChaCha8 streams per stage
//! and district or resident; ages are as of the fixed reference date 2026-01-01 and no clock is
//! read). Residents, practitioners and care records are streamed in batches, so even the full
//! city (scale 1.0, 17.5 million residents) is generated in bounded memory.
//!
//! ```no_run
//! # async fn demo() -> Result<(), hc_demo::DemoError> {
//! let store = hc_store::Store::connect("sqlite://demo.db").await?;
//! store.migrate().await?;
//! let opts = hc_demo::DemoOptions::default(); // scale 0.01: about 175,000 residents
//! let report = hc_demo::build(&store, &opts, &|_stage, _done, _total| {}).await?;
//! assert_eq!(report.residents, hc_demo::planned_residents(opts.scale));
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod care;
mod data;
pub mod feeds;
mod ids;
mod names;
mod plan;
mod shapes;
#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use hc_store::{Store, StoreError};

pub use feeds::{FeedBatch, FeedDemo};
use plan::{Batches, CityPlan};

/// Default share of the real city to generate (≈ 175,000 residents).
pub const DEFAULT_SCALE: f64 = 0.01;
/// Default random seed.
pub const DEFAULT_SEED: u64 = 20260101;

/// Rows per write.
const BATCH: usize = 5_000;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemoOptions {
    /// Share of the real population, in `(0, 1]`; 1.0 is the whole city (17.5 million residents).
    pub scale: f64,
    /// Seed of every random choice; the same seed, scale and `today` give the same city.
    pub seed: u64,
    /// The last day of the care history (contracts, follow-ups, checks): nothing generated
    /// lies after it. The command line passes the real date; the default is fixed.
    pub today: NaiveDate,
}

/// The default [`DemoOptions::today`]: 2026-11-23.
pub fn default_today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or(NaiveDate::MIN)
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            scale: DEFAULT_SCALE,
            seed: DEFAULT_SEED,
            today: default_today(),
        }
    }
}

/// A stage of the build, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// City, districts, streets and communities.
    OrgUnits,
    /// Hospitals, 社康, CDCs and the rest.
    Institutions,
    /// Doctors, nurses, public-health physicians and pharmacists.
    Practitioners,
    /// The population.
    Residents,
    /// Family-doctor teams, contracts, diagnoses, programs, follow-ups and health checks.
    Care,
}

impl Stage {
    /// A short English name, for progress displays.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::OrgUnits => "org units",
            Stage::Institutions => "institutions",
            Stage::Practitioners => "practitioners",
            Stage::Residents => "residents",
            Stage::Care => "primary care",
        }
    }

    /// The Chinese name.
    pub fn label_zh(self) -> &'static str {
        match self {
            Stage::OrgUnits => "行政区划",
            Stage::Institutions => "机构",
            Stage::Practitioners => "从业人员",
            Stage::Residents => "居民",
            Stage::Care => "基层医疗",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Rows written by [`build`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DemoReport {
    /// Org units.
    pub orgunits: u64,
    /// Institutions.
    pub institutions: u64,
    /// Practitioners.
    pub practitioners: u64,
    /// Residents.
    pub residents: u64,
    /// Family-doctor teams.
    pub teams: u64,
    /// Contracts, history included.
    pub contracts: u64,
    /// Program enrolments (hypertension and diabetes).
    pub enrolments: u64,
    /// Program follow-ups.
    pub followups: u64,
}

/// Why the demo city could not be built.
#[derive(thiserror::Error, Debug)]
pub enum DemoError {
    /// The store refused a read or a write.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The scale is not in `(0, 1]`.
    #[error("scale must be a number greater than 0 and at most 1, not {0}")]
    Scale(f64),
    /// The registry already holds records.
    #[error(
        "the database is not empty ({residents} residents, {practitioners} practitioners, \
         {institutions} institutions, {orgunits} org units): the demo city is built only into an empty registry"
    )]
    NotEmpty {
        /// Org units found.
        orgunits: i64,
        /// Institutions found.
        institutions: i64,
        /// Practitioners found.
        practitioners: i64,
        /// Residents found.
        residents: i64,
    },
    /// The embedded data could not be read (a defect of this build).
    #[error("embedded demo data: {0}")]
    Data(String),
    /// Every identity sequence of a birth date was used up (cannot happen at scale ≤ 1).
    #[error("no identity numbers left for birth date {0}")]
    IdentitiesExhausted(NaiveDate),
}

/// Residents a build at `scale` generates (0 for a scale outside `(0, 1]`), for progress bars.
pub fn planned_residents(scale: f64) -> u64 {
    plan::planned_residents(scale).unwrap_or(0)
}

/// Builds the demo city into `store`, which must be migrated and hold no registry records.
///
/// Writes org units (then a made-up shape for each, source `demo`, in one transaction),
/// institutions, practitioners and residents, in that order, in batches of 5,000 rows, then
/// the primary care of those residents (progress counts residents done), calling
/// `progress(stage, done, total)` when a stage starts and after each batch.
/// Not one transaction: a failure part-way leaves the rows written so far.
pub async fn build(
    store: &Store,
    opts: &DemoOptions,
    progress: &(dyn Fn(Stage, u64, u64) + Sync),
) -> Result<DemoReport, DemoError> {
    let plan = CityPlan::new(opts)?;
    let t = store.totals().await?;
    if t.residents > 0 || t.practitioners > 0 || t.institutions > 0 || t.orgunits > 0 {
        return Err(DemoError::NotEmpty {
            orgunits: t.orgunits,
            institutions: t.institutions,
            practitioners: t.practitioners,
            residents: t.residents,
        });
    }
    let orgunits = write_all(store, &plan.orgunits, Stage::OrgUnits, progress).await?;
    store.put_shapes(&shapes::rows(&plan)?).await?;
    let institutions = write_all(store, &plan.institutions, Stage::Institutions, progress).await?;
    let practitioners = write_stream(
        store,
        &mut plan.practitioners()?,
        plan.practitioner_count(),
        Stage::Practitioners,
        progress,
    )
    .await?;
    let residents = write_stream(
        store,
        &mut plan.residents()?,
        plan.resident_count(),
        Stage::Residents,
        progress,
    )
    .await?;
    let care = care::build_care(store, &plan, opts, progress).await?;
    Ok(DemoReport {
        orgunits,
        institutions,
        practitioners,
        residents,
        teams: care.teams,
        contracts: care.contracts,
        enrolments: care.enrolments,
        followups: care.followups,
    })
}

/// Writes records held in memory, in batches.
async fn write_all<E: hc_store::Entity>(
    store: &Store,
    items: &[E],
    stage: Stage,
    progress: &(dyn Fn(Stage, u64, u64) + Sync),
) -> Result<u64, DemoError> {
    let total = items.len() as u64;
    let mut done = 0;
    progress(stage, 0, total);
    for chunk in items.chunks(BATCH) {
        done += store.write_batch(chunk, &[], None).await?.inserted;
        progress(stage, done, total);
    }
    Ok(done)
}

/// Generates and writes records batch by batch; only one batch is held at a time.
async fn write_stream<E: hc_store::Entity>(
    store: &Store,
    source: &mut impl Batches<E>,
    total: u64,
    stage: Stage,
    progress: &(dyn Fn(Stage, u64, u64) + Sync),
) -> Result<u64, DemoError> {
    let mut done = 0;
    progress(stage, 0, total);
    loop {
        let batch = source.next_batch(BATCH)?;
        if batch.is_empty() {
            break;
        }
        done += store.write_batch(&batch, &[], None).await?.inserted;
        progress(stage, done, total);
    }
    Ok(done)
}
