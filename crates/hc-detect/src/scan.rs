//! Kulldorff's space-time permutation scan statistic (Kulldorff et al. 2005, PLoS Med 2:e59),
//! prospective, as SaTScan runs it for daily syndromic surveillance.
//!
//! # Model
//!
//! Cases are counted by location `z` and day `d` over the *study period*, the `study_days` days
//! ending on the analysis date `end` (by default every day from the first case). With `c_zd` the
//! count, `C_z` the location's total, `C_d` the day's total and `C` the grand total, the
//! space-time permutation model expects `μ_zd = C_z C_d / C` cases in each cell: the share of the
//! location in all cases applied to the day. It needs no population: only cases, and it adjusts
//! for purely spatial (more cases in bigger places) and purely temporal (weekends, seasons)
//! variation, leaving space-time interaction, the signature of a local outbreak.
//!
//! # Cylinders
//!
//! A candidate cluster is a cylinder: a circular base centred on a location and holding its
//! nearest neighbours (by Euclidean distance, or haversine kilometres for latitude/longitude),
//! from the centre alone up to `max_spatial_share` of all locations (at least one); and a height,
//! a window of `1..=max_days` days ending on the analysis date (prospective: only clusters still
//! going on are of interest). Locations at the same distance from the centre enter the circle
//! together (a circle is defined by its radius); if that would overflow the limit, the circle
//! stops before them. (SaTScan bounds circles by a share of the population at risk, which for
//! this model is the cases; we bound them by a share of the locations, which does not move with
//! the data.) Windows never reach back before the first case of the study period: a longer one
//! would hold the same counts. For a cylinder `A` with `c` observed cases, `μ = (Σ_{z∈A} C_z)(Σ_{d∈A}
//! C_d) / C` expected, the generalised likelihood ratio of the paper is
//! `(c/μ)^c ((C-c)/(C-μ))^(C-c)`, and we report its logarithm
//! `LLR = c ln(c/μ) + (C-c) ln((C-c)/(C-μ))`, for cylinders with `c > μ` only (excess cases)
//! and at least `min_cases` cases (SaTScan's default 2: one case is no outbreak, however few
//! were expected), in the data and in the replicates alike.
//!
//! # Clusters
//!
//! The most likely cluster is the cylinder with the greatest LLR. Secondary clusters are the next
//! best cylinders that share no location with any cluster already reported (SaTScan's default
//! "no geographical overlap"; in a prospective analysis every window ends on the same day, so
//! all cylinders overlap in time), found by rescanning with those locations excluded, up to
//! `max_clusters` in all.
//!
//! # Inference
//!
//! Under the null hypothesis the day of each case is independent of its location. Each of the
//! `permutations` Monte Carlo replicates shuffles the case dates among the cases, which keeps
//! every location total and every day total (hence every `μ`), builds the permuted count table
//! and records the greatest LLR over all cylinders. A cluster's p-value is
//! `rank / (permutations + 1)`, where `rank` is one plus the number of replicate maxima at least
//! as large as its LLR; secondary clusters are compared with the same distribution of the
//! maximum, as SaTScan does (conservative for them). The recurrence interval is SaTScan's for
//! analyses repeated daily: `1 / p` days, the expected time between chance clusters at least as
//! unusual if the analysis is run every day.
//!
//! # Speed and reproducibility
//!
//! Neighbour orderings are computed once. Only the last `max_days` days of the table change with
//! a permutation, so a replicate draws, without replacement from the locations of all cases in
//! the study period, the locations of the cases dated on those days (a partial Fisher–Yates
//! shuffle, undone afterwards): the cost is the number of recent cases, not of all cases. The
//! table then holds, per location, its counts over the last `1..=max_days` days, and every
//! cylinder is evaluated by growing circles over the precomputed neighbours with running sums:
//! `O(locations × neighbours × max_days)` per replicate. Replicates run in parallel (rayon);
//! replicate `i` draws from its own ChaCha8 stream `i` of the seed, so results do not depend on
//! the number of threads. Memory: the neighbour table (`locations × neighbours`) and one copy
//! per thread of the case pool (4 bytes a case).
//!
//! ```
//! use chrono::NaiveDate;
//! use hc_detect::scan::{scan, CaseCount, Location, ScanConfig};
//!
//! let day = |d| NaiveDate::from_ymd_opt(2024, 5, d).unwrap();
//! let locations: Vec<Location> = (0..10)
//!     .map(|i| Location { id: format!("D{i}"), x: f64::from(i), y: 0.0 })
//!     .collect();
//! let mut cases = Vec::new();
//! for d in 1..=28 {
//!     for z in 0..10 {
//!         cases.push(CaseCount { location: z, date: day(d), count: 3 });
//!     }
//! }
//! // An outbreak in districts 3 and 4 over the last two days.
//! for d in 27..=28 {
//!     cases.push(CaseCount { location: 3, date: day(d), count: 9 });
//!     cases.push(CaseCount { location: 4, date: day(d), count: 9 });
//! }
//! let clusters = scan(&locations, &cases, &ScanConfig::new()).unwrap();
//! let top = &clusters[0];
//! assert_eq!((top.start, top.end), (day(27), day(28)));
//! assert!(top.locations.contains(&3) && top.locations.contains(&4));
//! assert!(top.p_value < 0.01);
//! ```

use chrono::{Duration, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// How location coordinates are given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Coordinates {
    /// Planar `x`, `y`; Euclidean distance.
    #[default]
    Cartesian,
    /// `x` = longitude, `y` = latitude, in degrees; great-circle (haversine) kilometres.
    LatLon,
}

/// A place where cases are counted (a district, a clinic, a postcode centroid).
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    /// The location's identifier.
    pub id: String,
    /// Abscissa, or longitude in degrees.
    pub x: f64,
    /// Ordinate, or latitude in degrees.
    pub y: f64,
}

/// Cases at one location on one day (several records for the same cell are added).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseCount {
    /// Index of the location in the `locations` slice.
    pub location: usize,
    /// The day.
    pub date: NaiveDate,
    /// The number of cases.
    pub count: u32,
}

/// How to scan.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanConfig {
    /// How the coordinates are given.
    pub coordinates: Coordinates,
    /// The largest circle, as a share of all locations, in (0, 1] (default 0.5).
    pub max_spatial_share: f64,
    /// The longest time window, in days (default 7).
    pub max_days: usize,
    /// The study period, in days ending on the analysis date; `None` (the default): from the
    /// first case.
    pub study_days: Option<usize>,
    /// The analysis date; `None` (the default): the last day with a case. Later cases are
    /// ignored.
    pub end: Option<NaiveDate>,
    /// Monte Carlo replicates (default 999).
    pub permutations: usize,
    /// Seed of the replicates (default 12345).
    pub seed: u64,
    /// The most clusters to report (default 10).
    pub max_clusters: usize,
    /// The fewest cases a cluster may hold (SaTScan's default: 2), in the data and in the
    /// replicates alike.
    pub min_cases: u64,
    /// Sequential Monte Carlo (Besag and Clifford, 1991): stop the replicates once this many
    /// of their maxima reach the most likely cluster's LLR. `None` (the default) runs them
    /// all. A screen that only asks whether `p ≤ α` loses nothing with
    /// `Some(⌊α (permutations + 1)⌋)`: by then no cluster can reach `α`.
    pub stop_after: Option<usize>,
}

impl ScanConfig {
    /// The defaults: Cartesian coordinates, circles up to half the locations, windows up to 7
    /// days, the whole data as study period, analysis on the last day with cases, 999
    /// replicates, seed 12345, up to 10 clusters of at least 2 cases.
    pub fn new() -> ScanConfig {
        ScanConfig {
            coordinates: Coordinates::Cartesian,
            max_spatial_share: 0.5,
            max_days: 7,
            study_days: None,
            end: None,
            permutations: 999,
            seed: 12345,
            max_clusters: 10,
            min_cases: 2,
            stop_after: None,
        }
    }
}

impl Default for ScanConfig {
    fn default() -> ScanConfig {
        ScanConfig::new()
    }
}

/// A space-time cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// Index of the centre location.
    pub center: usize,
    /// Indexes of the locations in the circle, nearest first (the centre first).
    pub locations: Vec<usize>,
    /// Distance from the centre to the farthest location in the circle (km for latitude and
    /// longitude).
    pub radius: f64,
    /// First day of the window.
    pub start: NaiveDate,
    /// Last day of the window (the analysis date).
    pub end: NaiveDate,
    /// Cases observed in the cylinder.
    pub observed: u64,
    /// Cases expected under the space-time permutation model.
    pub expected: f64,
    /// Log-likelihood ratio.
    pub llr: f64,
    /// Monte Carlo p-value, `rank / (replicates + 1)`, `replicates` being `permutations`
    /// unless `stop_after` ended them early (then every p-value is above
    /// `(stop_after + 1) / (permutations + 1)`).
    pub p_value: f64,
    /// Recurrence interval for daily analyses, `1 / p_value` days.
    pub recurrence_days: f64,
}

/// Why a scan could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScanError {
    /// No locations were given.
    #[error("the scan needs at least one location")]
    NoLocations,
    /// No cases fall in the study period.
    #[error("there are no cases {}to {end}", match .start { Some(s) => format!("in the study period {s} "), None => "up ".to_owned() })]
    NoCases {
        /// First day of the study period, if `study_days` sets one.
        start: Option<NaiveDate>,
        /// Last day of the study period.
        end: NaiveDate,
    },
    /// The scan had no case records at all.
    #[error("the scan needs case counts; none were given")]
    Empty,
    /// A case record names a location that does not exist.
    #[error("case record {record} names location {location}, but there are only {count} locations")]
    UnknownLocation {
        /// Index of the case record.
        record: usize,
        /// The location index it names.
        location: usize,
        /// The number of locations.
        count: usize,
    },
    /// Two locations share an identifier.
    #[error("location id {0:?} appears more than once")]
    DuplicateLocation(String),
    /// A location's coordinates are not finite or out of range.
    #[error("location {id:?} has invalid coordinates ({x}, {y}){}", if *.latlon { "; longitude must be within ±180 and latitude within ±90" } else { "" })]
    Coordinates {
        /// The location.
        id: String,
        /// Its x (longitude).
        x: f64,
        /// Its y (latitude).
        y: f64,
        /// Whether they were read as longitude and latitude.
        latlon: bool,
    },
    /// A configuration value is out of range.
    #[error("scan parameter {param} is {value}; it must be {expected}")]
    Config {
        /// The parameter.
        param: &'static str,
        /// Its value.
        value: String,
        /// What it must be.
        expected: &'static str,
    },
    /// More cases than the permutation tables can hold.
    #[error("the study period holds {0} cases; the scan handles at most 4294967295")]
    TooManyCases(u64),
}

/// Scans for space-time clusters: the most likely cluster, then secondary clusters sharing no
/// location with it or each other, ranked by LLR, each with its Monte Carlo p-value.
pub fn scan(
    locations: &[Location],
    cases: &[CaseCount],
    config: &ScanConfig,
) -> Result<Vec<Cluster>, ScanError> {
    check(config)?;
    let circles = Circles::new(locations, config.coordinates, config.max_spatial_share)?;
    scan_in(&circles, cases, config)
}

/// [`scan`] over circles computed beforehand, for many scans of the same locations (one per
/// syndrome and day, say): building the circles is the costly part for thousands of locations.
/// `config`'s coordinates and largest circle must be those the circles were built with.
pub fn scan_in(
    circles: &Circles,
    cases: &[CaseCount],
    config: &ScanConfig,
) -> Result<Vec<Cluster>, ScanError> {
    check(config)?;
    circles.fits(config)?;
    let study = Study::new(circles, cases, config)?;
    let mut acc = vec![0u64; study.days];
    // Without an excess anywhere there is no cluster, whatever the replicates say.
    let Some(top) = study.best(&study.observed, None, &mut acc) else {
        return Ok(Vec::new());
    };
    let stop = config.stop_after.map(|h| (top.llr, h));
    let maxima = study.null_maxima(config.permutations, config.seed, stop);
    Ok(study.clusters(config.max_clusters, &maxima))
}

/// The greatest LLR of each Monte Carlo replicate of [`scan`], in replicate order (0 where no
/// cylinder has an excess): the null distribution the p-values are ranked in. Every replicate
/// runs, whatever `stop_after` says.
pub fn null_maxima(
    locations: &[Location],
    cases: &[CaseCount],
    config: &ScanConfig,
) -> Result<Vec<f64>, ScanError> {
    check(config)?;
    let circles = Circles::new(locations, config.coordinates, config.max_spatial_share)?;
    let study = Study::new(&circles, cases, config)?;
    Ok(study.null_maxima(config.permutations, config.seed, None))
}

/// The configuration's own ranges.
fn check(config: &ScanConfig) -> Result<(), ScanError> {
    let share = config.max_spatial_share;
    if !(share > 0.0 && share <= 1.0) {
        return Err(bad(
            "max_spatial_share",
            share,
            "greater than 0 and at most 1",
        ));
    }
    if config.max_days == 0 {
        return Err(bad("max_days", 0, "at least 1"));
    }
    if config.study_days == Some(0) {
        return Err(bad("study_days", 0, "at least 1"));
    }
    if config.permutations == 0 {
        return Err(bad("permutations", 0, "at least 1"));
    }
    if config.max_clusters == 0 {
        return Err(bad("max_clusters", 0, "at least 1"));
    }
    Ok(())
}

/// The candidate circles of a scan: for each location, its nearest locations up to the largest
/// circle, nearest first (ties by index), with their distances.
#[derive(Debug, Clone)]
pub struct Circles {
    /// Number of locations.
    n: usize,
    /// Neighbours per circle at most.
    k: usize,
    coordinates: Coordinates,
    share: f64,
    /// `k` nearest locations of each centre, nearest first (row-major, `n × k`).
    neighbours: Vec<u32>,
    /// Their distances from the centre.
    distances: Vec<f64>,
    /// Whether the circle up to this neighbour is complete (the next one is farther).
    closes: Vec<bool>,
}

impl Circles {
    /// Orders each location's neighbours, the centres in parallel; `max_spatial_share` is the
    /// largest circle as a share of all locations, in (0, 1].
    pub fn new(
        locations: &[Location],
        coordinates: Coordinates,
        max_spatial_share: f64,
    ) -> Result<Circles, ScanError> {
        let share = max_spatial_share;
        if !(share > 0.0 && share <= 1.0) {
            return Err(bad(
                "max_spatial_share",
                share,
                "greater than 0 and at most 1",
            ));
        }
        if locations.is_empty() {
            return Err(ScanError::NoLocations);
        }
        let n = locations.len();
        let latlon = coordinates == Coordinates::LatLon;
        let mut ids = std::collections::HashSet::with_capacity(n);
        for l in locations {
            let finite = l.x.is_finite() && l.y.is_finite();
            if !finite || (latlon && (l.x.abs() > 180.0 || l.y.abs() > 90.0)) {
                return Err(ScanError::Coordinates {
                    id: l.id.clone(),
                    x: l.x,
                    y: l.y,
                    latlon,
                });
            }
            if !ids.insert(l.id.as_str()) {
                return Err(ScanError::DuplicateLocation(l.id.clone()));
            }
        }
        let k = ((share * n as f64).floor() as usize).clamp(1, n);
        // Per centre: the k + 1 nearest (the one after the circle tells whether it closes),
        // selected in linear time, then sorted; distance then index is a total order, so the
        // result is the prefix of a full sort.
        // On the sphere the neighbours are ordered by chord length, which grows with the
        // great-circle distance and costs no trigonometry per pair; the kept ones get their
        // great-circle distance.
        let unit: Vec<[f64; 3]> = if latlon {
            locations
                .iter()
                .map(|l| {
                    let (lat, lon) = (l.y.to_radians(), l.x.to_radians());
                    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
                })
                .collect()
        } else {
            Vec::new()
        };
        let key = |c: usize, j: usize| -> f64 {
            if latlon {
                let (a, b) = (&unit[c], &unit[j]);
                (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)
            } else {
                distance(&locations[c], &locations[j], false)
            }
        };
        let rows: Vec<Vec<(f64, u32, bool)>> = locations
            .par_iter()
            .enumerate()
            .map(|(c, centre)| {
                let mut order: Vec<(f64, usize)> = (0..n).map(|j| (key(c, j), j)).collect();
                let by =
                    |a: &(f64, usize), b: &(f64, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
                let keep = (k + 1).min(n);
                if keep < n {
                    order.select_nth_unstable_by(keep - 1, by);
                    order.truncate(keep);
                }
                order.sort_unstable_by(by);
                let mut row: Vec<(f64, u32, bool)> = (0..k)
                    .map(|i| {
                        let closes = order.get(i + 1).is_none_or(|next| next.0 > order[i].0);
                        let (z, d) = (order[i].1, order[i].0);
                        let d = if latlon {
                            distance(centre, &locations[z], true)
                        } else {
                            d
                        };
                        (d, z as u32, closes)
                    })
                    .collect();
                // The centre comes first even when another location shares its coordinates.
                if let Some(pos) = row.iter().position(|r| r.1 as usize == c) {
                    let centre = row[pos].1;
                    let mut ids: Vec<u32> = row[..=pos].iter().map(|r| r.1).collect();
                    ids.rotate_right(1);
                    debug_assert_eq!(ids[0], centre);
                    for (r, id) in row.iter_mut().zip(ids) {
                        r.1 = id;
                    }
                }
                row
            })
            .collect();
        let mut neighbours = Vec::with_capacity(n * k);
        let mut distances = Vec::with_capacity(n * k);
        let mut closes = Vec::with_capacity(n * k);
        for row in rows {
            for (d, z, c) in row {
                distances.push(d);
                neighbours.push(z);
                closes.push(c);
            }
        }
        Ok(Circles {
            n,
            k,
            coordinates,
            share,
            neighbours,
            distances,
            closes,
        })
    }

    /// The number of locations.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether there are no locations (never: [`Circles::new`] refuses none).
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    fn fits(&self, config: &ScanConfig) -> Result<(), ScanError> {
        if config.coordinates != self.coordinates {
            return Err(bad(
                "coordinates",
                format!("{:?}", config.coordinates),
                "those the circles were built with",
            ));
        }
        if config.max_spatial_share != self.share {
            return Err(bad(
                "max_spatial_share",
                config.max_spatial_share,
                "the share the circles were built with",
            ));
        }
        Ok(())
    }
}

/// Everything a scan needs, computed once.
struct Study<'c> {
    /// Number of locations.
    n: usize,
    /// Neighbours per circle at most.
    k: usize,
    /// The circles.
    circles: &'c Circles,
    /// Days in the time windows (`max_days`, at most the study period).
    days: usize,
    /// Cases per location over the study period.
    location_totals: Vec<f64>,
    /// Share of all cases dated in the last `w + 1` days, `w < days`.
    window_shares: Vec<f64>,
    /// Observed cases per location in the last `w + 1` days (`n × days`).
    observed: Vec<u64>,
    /// Location of every case of the study period (the permutation pool).
    pool: Vec<u32>,
    /// Cases on each of the last `days` days, the analysis date first.
    recent: Vec<usize>,
    /// All cases in the study period.
    total: f64,
    /// Fewest cases a cluster may hold.
    min_cases: u64,
    /// The analysis date.
    end: NaiveDate,
}

/// The best cylinder of one evaluation.
#[derive(Debug, Clone, Copy)]
struct Best {
    llr: f64,
    center: usize,
    /// Index of the last neighbour in the circle.
    last: usize,
    /// Window length minus one.
    window: usize,
    observed: u64,
    expected: f64,
}

fn bad(param: &'static str, value: impl ToString, expected: &'static str) -> ScanError {
    ScanError::Config {
        param,
        value: value.to_string(),
        expected,
    }
}

impl<'c> Study<'c> {
    fn new(
        circles: &'c Circles,
        cases: &[CaseCount],
        config: &ScanConfig,
    ) -> Result<Study<'c>, ScanError> {
        if cases.is_empty() {
            return Err(ScanError::Empty);
        }
        let n = circles.n;
        if let Some((record, c)) = cases.iter().enumerate().find(|(_, c)| c.location >= n) {
            return Err(ScanError::UnknownLocation {
                record,
                location: c.location,
                count: n,
            });
        }

        // The study period.
        let end = match config.end {
            Some(end) => end,
            None => cases
                .iter()
                .filter(|c| c.count > 0)
                .map(|c| c.date)
                .max()
                .unwrap_or(cases[0].date),
        };
        let start = match config.study_days {
            Some(days) => i64::try_from(days - 1)
                .ok()
                .and_then(Duration::try_days)
                .and_then(|back| end.checked_sub_signed(back))
                .unwrap_or(NaiveDate::MIN),
            None => NaiveDate::MIN,
        };
        // Windows reaching back before the first case of the study period have the same counts
        // (hence the same LLR) as the window starting on it, which is preferred in ties; so the
        // table need not go further back.
        let first = cases
            .iter()
            .filter(|c| c.count > 0 && c.date >= start && c.date <= end)
            .map(|c| c.date)
            .min();
        let Some(first) = first else {
            return Err(ScanError::NoCases {
                start: config.study_days.map(|_| start),
                end,
            });
        };
        let span = (end - first).num_days() as usize + 1;
        let days = config.max_days.min(span);

        let mut location_totals = vec![0u64; n];
        let mut recent = vec![0u64; days];
        let mut observed = vec![0u64; n * days];
        for c in cases.iter().filter(|c| c.date >= start && c.date <= end) {
            let count = u64::from(c.count);
            location_totals[c.location] += count;
            let back = (end - c.date).num_days() as usize;
            if back < days {
                recent[back] += count;
                observed[c.location * days + back] += count;
            }
        }
        let total: u64 = location_totals.iter().sum();
        if total > u64::from(u32::MAX) {
            return Err(ScanError::TooManyCases(total));
        }
        cumulate(&mut observed, days);
        let mut window_shares = Vec::with_capacity(days);
        let mut running = 0u64;
        for &r in &recent {
            running += r;
            window_shares.push(running as f64 / total as f64);
        }
        let mut pool = Vec::with_capacity(total as usize);
        for (z, &t) in location_totals.iter().enumerate() {
            pool.extend(std::iter::repeat_n(z as u32, t as usize));
        }

        Ok(Study {
            n,
            k: circles.k,
            circles,
            days,
            location_totals: location_totals.iter().map(|&t| t as f64).collect(),
            window_shares,
            observed,
            pool,
            recent: recent.iter().map(|&r| r as usize).collect(),
            total: total as f64,
            min_cases: config.min_cases,
            end,
        })
    }

    /// The best cylinder over the table `counts` (per location, cases in the last `w + 1` days),
    /// skipping circles that contain an `excluded` location.
    fn best(&self, counts: &[u64], excluded: Option<&[bool]>, acc: &mut [u64]) -> Option<Best> {
        let (k, days) = (self.k, self.days);
        let mut best: Option<Best> = None;
        let mut best_llr = 0.0;
        for centre in 0..self.n {
            let row = &self.circles.neighbours[centre * k..(centre + 1) * k];
            let closes = &self.circles.closes[centre * k..(centre + 1) * k];
            acc.fill(0);
            let mut base = 0.0;
            for (j, &z) in row.iter().enumerate() {
                let z = z as usize;
                if excluded.is_some_and(|e| e[z]) {
                    break;
                }
                base += self.location_totals[z];
                for (a, &c) in acc.iter_mut().zip(&counts[z * days..(z + 1) * days]) {
                    *a += c;
                }
                if !closes[j] {
                    continue;
                }
                for (w, (&c, &share)) in acc.iter().zip(&self.window_shares).enumerate() {
                    let mu = base * share;
                    let (cases, c) = (c, c as f64);
                    if c > mu && cases >= self.min_cases {
                        let llr = llr(c, mu, self.total);
                        if llr > best_llr {
                            best_llr = llr;
                            best = Some(Best {
                                llr,
                                center: centre,
                                last: j,
                                window: w,
                                observed: c as u64,
                                expected: mu,
                            });
                        }
                    }
                }
            }
        }
        best
    }

    /// The greatest LLR of each replicate; with `stop = Some((llr, h))`, the replicates run in
    /// fixed chunks and end after the chunk in which `h` of their maxima have reached `llr`.
    /// Replicate `i` is the same whether or not the run stops, so the result does not depend
    /// on the number of threads either way.
    fn null_maxima(&self, permutations: usize, seed: u64, stop: Option<(f64, usize)>) -> Vec<f64> {
        let Some((llr, h)) = stop else {
            return self.replicates(0..permutations, seed);
        };
        const CHUNK: usize = 32;
        let mut maxima = Vec::new();
        let mut start = 0;
        while start < permutations && maxima.iter().filter(|&&m| m >= llr).count() < h {
            let end = (start + CHUNK).min(permutations);
            maxima.extend(self.replicates(start..end, seed));
            start = end;
        }
        maxima
    }

    /// The maxima of replicates `range`, in order.
    fn replicates(&self, range: std::ops::Range<usize>, seed: u64) -> Vec<f64> {
        let scratch = || {
            (
                self.pool.clone(),
                vec![0u64; self.n * self.days],
                vec![0u64; self.days],
                Vec::<u32>::with_capacity(self.recent.iter().sum()),
            )
        };
        range
            .into_par_iter()
            .map_init(scratch, |(pool, table, acc, swaps), i| {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(i as u64);
                table.fill(0);
                swaps.clear();
                // Partial Fisher–Yates: position `p` of the pool receives a uniformly drawn
                // case among those not yet placed; the cases placed first are the ones dated
                // on the analysis date, then the day before, and so on.
                let size = pool.len() as u32;
                let mut p = 0u32;
                for (back, &count) in self.recent.iter().enumerate() {
                    for _ in 0..count {
                        let j = rng.random_range(p..size);
                        pool.swap(p as usize, j as usize);
                        swaps.push(j);
                        table[pool[p as usize] as usize * self.days + back] += 1;
                        p += 1;
                    }
                }
                // Undo the swaps so that every replicate starts from the same pool.
                for (p, &j) in swaps.iter().enumerate().rev() {
                    pool.swap(p, j as usize);
                }
                cumulate(table, self.days);
                self.best(table, None, acc).map_or(0.0, |b| b.llr)
            })
            .collect()
    }

    /// The most likely cluster and its non-overlapping successors, with p-values from `maxima`.
    fn clusters(&self, max_clusters: usize, maxima: &[f64]) -> Vec<Cluster> {
        let mut excluded = vec![false; self.n];
        let mut acc = vec![0u64; self.days];
        let mut out = Vec::new();
        while out.len() < max_clusters {
            let Some(b) = self.best(&self.observed, Some(&excluded), &mut acc) else {
                break;
            };
            let row = b.center * self.k;
            let members: Vec<usize> = self.circles.neighbours[row..=row + b.last]
                .iter()
                .map(|&z| z as usize)
                .collect();
            for &z in &members {
                excluded[z] = true;
            }
            let rank = 1 + maxima.iter().filter(|&&m| m >= b.llr).count();
            let p_value = rank as f64 / (maxima.len() + 1) as f64;
            out.push(Cluster {
                center: b.center,
                locations: members,
                radius: self.circles.distances[row + b.last],
                start: self.end - Duration::days(b.window as i64),
                end: self.end,
                observed: b.observed,
                expected: b.expected,
                llr: b.llr,
                p_value,
                recurrence_days: 1.0 / p_value,
            });
        }
        out
    }
}

/// Turns per-day counts (`days` per location, the analysis date first) into counts over the
/// last `1..=days` days.
fn cumulate(table: &mut [u64], days: usize) {
    for row in table.chunks_mut(days) {
        for w in 1..row.len() {
            row[w] += row[w - 1];
        }
    }
}

/// The log-likelihood ratio of `c` observed against `mu` expected among `total` cases (`c > mu`).
fn llr(c: f64, mu: f64, total: f64) -> f64 {
    let rest = total - c;
    let inside = c * (c / mu).ln();
    if rest > 0.0 {
        inside + rest * (rest / (total - mu)).ln()
    } else {
        inside
    }
}

/// Mean Earth radius (IUGG), km.
const EARTH_RADIUS_KM: f64 = 6371.0088;

fn distance(a: &Location, b: &Location, latlon: bool) -> f64 {
    if latlon {
        let (lat1, lat2) = (a.y.to_radians(), b.y.to_radians());
        let dlat = lat2 - lat1;
        let dlon = (b.x - a.x).to_radians();
        let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
    } else {
        (a.x - b.x).hypot(a.y - b.y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haversine_paris_london() {
        let paris = Location {
            id: "p".into(),
            x: 2.3522,
            y: 48.8566,
        };
        let london = Location {
            id: "l".into(),
            x: -0.1276,
            y: 51.5072,
        };
        let d = distance(&paris, &london, true);
        assert!((d - 343.9).abs() < 1.0, "{d}");
    }

    #[test]
    fn llr_formula() {
        // 3 observed, 2 expected, 8 in all: 3 ln(3/2) + 5 ln(5/6).
        let v = llr(3.0, 2.0, 8.0);
        assert!((v - (3.0 * 1.5f64.ln() + 5.0 * (5.0f64 / 6.0).ln())).abs() < 1e-15);
        assert!((llr(4.0, 2.0, 4.0) - 4.0 * 2.0f64.ln()).abs() < 1e-15);
    }
}
