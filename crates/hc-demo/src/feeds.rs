//! The demo city's surveillance feeds: three years (up to [`DemoOptions::today`]) of sentinel
//! syndromic visits, notifiable-disease cases, pharmacy sales, school absenteeism and
//! laboratory results, with outbreaks injected on purpose and their truth.
//!
//! The records are drawn for the registry as it was written ([`FeedDemo::load`] reads it
//! back): counts follow each community's residents, so they scale with the city. The
//! background has the seasons of Shenzhen (influenza in January–March and again in
//! June–August, hand-foot-mouth disease in April–June and September–October, norovirus in
//! winter and spring, dengue in August–October), more visits on Mondays and fewer at
//! weekends, a fall of 40% for about ten days around the Spring Festival, and no absenteeism
//! reports at weekends, on public holidays or in the winter and summer holidays.
//!
//! On top of it come 14 outbreaks ([`FeedDemo::outbreaks`]): multi-source ones (a norovirus
//! outbreak at a school shows in visits, absenteeism, pharmacy sales, laboratory results and
//! cases), single-source ones, one cholera case, and small ones a detector may well miss;
//! several lie in the last 60 days so that today's pages have live signals.
//!
//! Records are JSON objects keyed by each feed's contract columns (`docs/surveillance.md`),
//! made to pass the ingest rules, and handed out in batches of at most [`MAX_BATCH`], feed by
//! feed and day by day, so memory stays bounded at any scale. Every day of every feed has a
//! ChaCha8 stream of its own (seed, feed, day): the output depends on the seed, the scale and
//! `today` only, not on the batch size; no clock is read.

mod templates;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use hc_core::model::{InstitutionKind, OrgLevel};
use hc_store::{DemoOutbreak, Store};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};

use crate::data::CITY_CODE;
use crate::{DemoError, DemoOptions};
use templates::{Syn, complaint};

/// Records per [`FeedBatch`] at most.
pub const MAX_BATCH: usize = 10_000;

/// The feeds, in the order [`FeedDemo::batches`] yields them.
pub const FEEDS: [&str; 5] = [
    "visits",
    "cases",
    "pharmacy-sales",
    "absenteeism",
    "lab-results",
];

/// Random-stream families (the registry and care stages use 1–6).
const STREAM_FEED: u64 = 16; // + feed index
const STREAM_OUTBREAKS: u64 = 24;
const STREAM_SITES: u64 = 25;
const STREAM_YEARS: u64 = 26;

/// Share of pharmacies that report sales (sentinel pharmacies).
const SENTINEL_PHARMACY_SHARE: f64 = 0.15;

/// A batch of one feed's records.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedBatch {
    /// The feed: one of [`FEEDS`].
    pub feed: &'static str,
    /// JSON objects keyed by the feed's columns.
    pub records: Vec<Value>,
    /// The last day generated so far for this feed (for progress displays).
    pub through: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Feed {
    Visits = 0,
    Cases = 1,
    Pharmacy = 2,
    Absence = 3,
    Lab = 4,
}

impl Feed {
    const ALL: [Feed; 5] = [
        Feed::Visits,
        Feed::Cases,
        Feed::Pharmacy,
        Feed::Absence,
        Feed::Lab,
    ];

    fn name(self) -> &'static str {
        FEEDS[self as usize]
    }
}

// ---------------------------------------------------------------------------------------------
// The registry the feeds are drawn for.

/// A community and its residents.
#[derive(Debug, Clone)]
struct Area {
    code: String,
    residents: f64,
}

/// An institution that sends records.
#[derive(Debug, Clone)]
struct Site {
    code: String,
    kind: InstitutionKind,
    /// Index into the communities.
    community: usize,
}

/// What the generator needs of the registry.
#[derive(Debug, Clone, Default)]
pub(crate) struct Registry {
    communities: Vec<Area>,
    sites: Vec<Site>,
    names: HashMap<String, String>,
}

impl Registry {
    /// From communities (code, residents), institutions (code, kind, community) and names.
    pub(crate) fn new(
        communities: Vec<(String, f64)>,
        institutions: Vec<(String, InstitutionKind, String)>,
        names: HashMap<String, String>,
    ) -> Registry {
        let mut communities: Vec<Area> = communities
            .into_iter()
            .map(|(code, residents)| Area { code, residents })
            .collect();
        communities.sort_by(|a, b| a.code.cmp(&b.code));
        let index: HashMap<&str, usize> = communities
            .iter()
            .enumerate()
            .map(|(i, a)| (a.code.as_str(), i))
            .collect();
        let mut sites: Vec<Site> = institutions
            .into_iter()
            .filter_map(|(code, kind, community)| {
                let community = *index.get(community.as_str())?;
                Some(Site {
                    code,
                    kind,
                    community,
                })
            })
            .collect();
        sites.sort_by(|a, b| a.code.cmp(&b.code));
        Registry {
            communities,
            sites,
            names,
        }
    }

    /// The plan's registry (for tests, which have no database).
    #[cfg(test)]
    pub(crate) fn from_plan(plan: &crate::plan::CityPlan) -> Registry {
        let communities = plan
            .districts
            .iter()
            .flat_map(|d| d.expected_residents())
            .map(|(c, r)| (c.to_owned(), r))
            .collect();
        let institutions = plan
            .institutions
            .iter()
            .map(|i| (i.code.clone(), i.kind, i.community_code.clone()))
            .collect();
        let names = plan
            .orgunits
            .iter()
            .map(|u| (u.code.clone(), u.name.clone()))
            .chain(
                plan.institutions
                    .iter()
                    .map(|i| (i.code.clone(), i.name.clone())),
            )
            .collect();
        Registry::new(communities, institutions, names)
    }
}

/// A community's street (org-unit codes are hierarchical: 9 digits).
fn street_of(community: &str) -> &str {
    community.get(..9).unwrap_or(community)
}

/// A community's district (6 digits).
fn district_of(community: &str) -> &str {
    community.get(..6).unwrap_or(community)
}

// ---------------------------------------------------------------------------------------------
// Random helpers.

fn rng(seed: u64, family: u64, index: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream((family << 32) | (index & 0xffff_ffff));
    r
}

fn normal(rng: &mut impl Rng) -> f64 {
    let u1 = rng.random::<f64>().max(1e-12);
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A Poisson draw (Knuth's product of uniforms below 30, a normal approximation above).
fn poisson(rng: &mut impl Rng, lambda: f64) -> u32 {
    if lambda.is_nan() || lambda <= 0.0 {
        return 0;
    }
    if lambda < 30.0 {
        let limit = (-lambda).exp();
        let mut k = 0;
        let mut p = 1.0;
        loop {
            p *= rng.random::<f64>();
            if p <= limit {
                return k;
            }
            k += 1;
        }
    }
    (lambda + lambda.sqrt() * normal(rng) + 0.5)
        .floor()
        .max(0.0) as u32
}

/// A binomial draw (Bernoulli trials below 100, a normal approximation above).
fn binomial(rng: &mut impl Rng, n: u32, p: f64) -> u32 {
    let p = p.clamp(0.0, 1.0);
    if n < 100 {
        return (0..n).filter(|_| rng.random_bool(p)).count() as u32;
    }
    let mean = f64::from(n) * p;
    let sd = (mean * (1.0 - p)).sqrt();
    (mean + sd * normal(rng) + 0.5)
        .floor()
        .clamp(0.0, f64::from(n)) as u32
}

/// Index drawn with probability proportional to the increments of `cum` (cumulative weights).
fn pick_cum(rng: &mut impl Rng, cum: &[f64]) -> usize {
    let total = cum.last().copied().unwrap_or(0.0);
    let x = rng.random::<f64>() * total;
    cum.partition_point(|w| *w <= x)
        .min(cum.len().saturating_sub(1))
}

/// Index drawn with probability proportional to `weights`.
fn pick_weighted(rng: &mut impl Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len().saturating_sub(1)
}

/// An age in years from a mix of `(from, to, weight)` bands; under one year with a decimal.
fn age(rng: &mut impl Rng, mix: &[(f64, f64, f64)]) -> Value {
    let weights: Vec<f64> = mix.iter().map(|m| m.2).collect();
    let (lo, hi, _) = mix[pick_weighted(rng, &weights)];
    let a = lo + rng.random::<f64>() * (hi - lo);
    if a < 1.0 {
        Value::from(((a * 10.0).floor() / 10.0).max(0.1))
    } else {
        Value::from(a.floor() as u32)
    }
}

fn sex(rng: &mut impl Rng) -> Value {
    Value::from(if rng.random_bool(0.5) { "M" } else { "F" })
}

fn ymd(day: NaiveDate) -> String {
    day.format("%Y%m%d").to_string()
}

fn iso(day: NaiveDate) -> Value {
    Value::from(day.format("%Y-%m-%d").to_string())
}

fn object(pairs: Vec<(&str, Value)>) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert(k.to_owned(), v);
    }
    Value::Object(m)
}

// Age mixes.
const AGES_ALL: &[(f64, f64, f64)] = &[(0.0, 15.0, 0.2), (15.0, 60.0, 0.6), (60.0, 90.0, 0.2)];
const AGES_OLDER: &[(f64, f64, f64)] = &[(0.0, 15.0, 0.08), (15.0, 60.0, 0.5), (60.0, 92.0, 0.42)];
const AGES_ILI: &[(f64, f64, f64)] = &[(0.5, 15.0, 0.4), (15.0, 60.0, 0.45), (60.0, 90.0, 0.15)];
const AGES_YOUNG: &[(f64, f64, f64)] = &[(0.5, 6.0, 0.6), (6.0, 15.0, 0.25), (15.0, 45.0, 0.15)];
const AGES_SCHOOL: &[(f64, f64, f64)] = &[(6.0, 15.0, 0.8), (25.0, 50.0, 0.2)];
const AGES_KINDER: &[(f64, f64, f64)] = &[(2.0, 6.0, 0.85), (25.0, 40.0, 0.15)];
const AGES_ADULT: &[(f64, f64, f64)] = &[(18.0, 45.0, 0.5), (45.0, 75.0, 0.5)];
const AGES_SEX: &[(f64, f64, f64)] = &[(18.0, 30.0, 0.35), (30.0, 50.0, 0.45), (50.0, 80.0, 0.2)];

fn visit_ages(kind: Syn) -> &'static [(f64, f64, f64)] {
    match kind {
        Syn::Background => AGES_OLDER,
        Syn::Ili | Syn::Fever => AGES_ILI,
        Syn::Rash => AGES_YOUNG,
        _ => AGES_ALL,
    }
}

// ---------------------------------------------------------------------------------------------
// The calendar.

/// Spring Festival (春节) dates.
const SPRING_FESTIVALS: &[(i32, u32, u32)] = &[
    (2019, 2, 5),
    (2020, 1, 25),
    (2021, 2, 12),
    (2022, 2, 1),
    (2023, 1, 22),
    (2024, 2, 10),
    (2025, 1, 29),
    (2026, 2, 17),
    (2027, 2, 6),
    (2028, 1, 26),
    (2029, 2, 13),
    (2030, 2, 3),
    (2031, 1, 23),
    (2032, 2, 11),
];

/// The Spring Festival of `year` (about 1 February where the table ends).
fn spring_festival(year: i32) -> NaiveDate {
    let (m, d) = SPRING_FESTIVALS
        .iter()
        .find(|(y, _, _)| *y == year)
        .map_or((2, 1), |(_, m, d)| (*m, *d));
    NaiveDate::from_ymd_opt(year, m, d).unwrap_or(NaiveDate::MIN)
}

/// Days from the nearest Spring Festival (negative before it).
fn from_festival(day: NaiveDate) -> i64 {
    let this = (day - spring_festival(day.year())).num_days();
    let next = (day - spring_festival(day.year() + 1)).num_days();
    if this.abs() <= next.abs() { this } else { next }
}

/// The Spring Festival factor: people go home, clinics and shops close (−40% for ten days).
fn festival(day: NaiveDate) -> f64 {
    if (-4..=5).contains(&from_festival(day)) {
        0.6
    } else {
        1.0
    }
}

/// Whether schools and kindergartens are closed: weekends, the winter holiday around the
/// Spring Festival, the summer holiday (8 July – 31 August), New Year's Day, Qingming, Labour
/// Day and National Day weeks.
fn school_closed(day: NaiveDate) -> bool {
    if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        return true;
    }
    if (-14..=16).contains(&from_festival(day)) {
        return true;
    }
    let (m, d) = (day.month(), day.day());
    matches!(
        (m, d),
        (7, 8..) | (8, _) | (1, 1) | (4, 4..=6) | (5, 1..=5) | (10, 1..=7)
    )
}

/// Visits by weekday: most on Monday, fewest on Sunday.
fn weekday_visits(day: NaiveDate) -> f64 {
    match day.weekday() {
        Weekday::Mon => 1.3,
        Weekday::Tue => 1.1,
        Weekday::Wed => 1.05,
        Weekday::Thu | Weekday::Fri => 1.0,
        Weekday::Sat => 0.8,
        Weekday::Sun => 0.7,
    }
}

/// Case reports by weekday: report offices work weekdays.
fn weekday_reports(day: NaiveDate) -> f64 {
    match day.weekday() {
        Weekday::Sat => 0.6,
        Weekday::Sun => 0.5,
        _ => 1.15,
    }
}

/// A Gaussian bump on the circle of the year, centred on day-of-year `centre`.
fn bump(doy: f64, centre: f64, sd: f64) -> f64 {
    let mut d = (doy - centre).abs();
    if d > 182.5 {
        d = 365.0 - d;
    }
    (-d * d / (2.0 * sd * sd)).exp()
}

/// The seasonal curves of one day, each about 1 on average over a year.
#[derive(Debug, Clone, Copy)]
struct Season {
    /// Influenza: winter–spring peak (January–March) and summer peak (June–August).
    flu: f64,
    /// Hand-foot-mouth disease: April–June, smaller September–October.
    hfmd: f64,
    /// Norovirus and other gastroenteritis: winter and spring.
    noro: f64,
    /// Dengue: August–October.
    dengue: f64,
    /// Conjunctivitis: late summer.
    conj: f64,
}

/// Curve shapes by day of year (0-based), before year effects.
fn shapes(doy: f64) -> [f64; 5] {
    [
        0.25 + 1.6 * bump(doy, 40.0, 24.0) + 1.0 * bump(doy, 190.0, 20.0),
        0.2 + 1.6 * bump(doy, 135.0, 25.0) + 0.8 * bump(doy, 268.0, 18.0),
        0.5 + 1.0 * bump(doy, 20.0, 40.0) + 0.3 * bump(doy, 330.0, 20.0),
        0.01 + bump(doy, 255.0, 22.0),
        0.6 + 0.8 * bump(doy, 235.0, 30.0),
    ]
}

/// Each shape's mean over a year.
fn shape_means() -> [f64; 5] {
    let mut sum = [0.0; 5];
    for d in 0..365 {
        let s = shapes(f64::from(d));
        for i in 0..5 {
            sum[i] += s[i];
        }
    }
    sum.map(|s| s / 365.0)
}

impl Season {
    fn of(seed: u64, day: NaiveDate, means: &[f64; 5]) -> Season {
        let doy = f64::from(day.ordinal0());
        let s = shapes(doy);
        // Each season is stronger or weaker than the last: a factor per season and curve,
        // with winter seasons counted from October so that none changes on 1 January.
        let season_year = |shift: u32| {
            day.checked_add_days(Days::new(u64::from(shift)))
                .map_or(day.year(), |d| d.year())
        };
        let factor = |curve: u64, year: i32| {
            let mut r = rng(seed, STREAM_YEARS, (curve << 16) | (year as u64 & 0xffff));
            0.75 + 0.5 * r.random::<f64>()
        };
        let winter = season_year(92);
        let summer = day.year();
        let flu_factor = if (60..300).contains(&day.ordinal0()) {
            factor(1, summer)
        } else {
            factor(0, winter)
        };
        Season {
            flu: s[0] / means[0] * flu_factor,
            hfmd: s[1] / means[1] * factor(2, summer),
            noro: s[2] / means[2] * factor(3, winter),
            dengue: s[3] / means[3] * factor(4, summer),
            conj: s[4] / means[4],
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What the background is made of.

/// Visits per 100,000 residents a day, and the curve that moves them.
fn visit_rate(kind: Syn, s: &Season) -> f64 {
    match kind {
        Syn::Background => 55.0,
        Syn::Fever => 5.0 * (0.6 + 0.4 * s.flu),
        Syn::Ili => 8.0 * s.flu,
        Syn::Gi => 8.0 * (0.4 + 0.6 * s.noro),
        Syn::Rash => 2.5 * (0.5 + 0.5 * s.hfmd),
        Syn::Jaundice => 0.35,
        Syn::Conjunctivitis => 1.5 * s.conj,
        Syn::Neuro => 0.3,
        Syn::FeverHaem => 0.1 + 0.25 * s.dengue,
    }
}

/// A notifiable disease of the background: code, cases per 100,000 a year, its curve, ages,
/// (suspected, clinical, confirmed) shares and days from onset to diagnosis.
struct DiseaseSpec {
    code: &'static str,
    rate: f64,
    curve: Curve,
    ages: &'static [(f64, f64, f64)],
    classes: [f64; 3],
    onset: (u32, u32),
}

#[derive(Clone, Copy)]
enum Curve {
    Flat,
    Flu,
    Hfmd,
    Noro,
    Dengue,
    Conj,
}

impl Curve {
    fn of(self, s: &Season) -> f64 {
        match self {
            Curve::Flat => 1.0,
            Curve::Flu => s.flu,
            Curve::Hfmd => s.hfmd,
            Curve::Noro => s.noro,
            Curve::Dengue => s.dengue,
            Curve::Conj => s.conj,
        }
    }
}

const fn disease(
    code: &'static str,
    rate: f64,
    curve: Curve,
    ages: &'static [(f64, f64, f64)],
    classes: [f64; 3],
    onset: (u32, u32),
) -> DiseaseSpec {
    DiseaseSpec {
        code,
        rate,
        curve,
        ages,
        classes,
        onset,
    }
}

/// Shenzhen's notifiable diseases at roughly their reported rates (per 100,000 a year).
const DISEASES: &[DiseaseSpec] = &[
    disease(
        "J11",
        800.0,
        Curve::Flu,
        AGES_ILI,
        [0.05, 0.55, 0.40],
        (0, 3),
    ),
    disease(
        "B08.4",
        320.0,
        Curve::Hfmd,
        AGES_YOUNG,
        [0.05, 0.85, 0.10],
        (0, 3),
    ),
    disease(
        "A09",
        150.0,
        Curve::Noro,
        AGES_ALL,
        [0.05, 0.8, 0.15],
        (0, 2),
    ),
    disease(
        "B16",
        70.0,
        Curve::Flat,
        AGES_ADULT,
        [0.02, 0.08, 0.9],
        (0, 20),
    ),
    disease(
        "A16",
        45.0,
        Curve::Flat,
        AGES_ADULT,
        [0.1, 0.45, 0.45],
        (10, 80),
    ),
    disease(
        "A53",
        45.0,
        Curve::Flat,
        AGES_SEX,
        [0.0, 0.05, 0.95],
        (0, 30),
    ),
    disease(
        "U07.1",
        40.0,
        Curve::Flu,
        AGES_ALL,
        [0.05, 0.15, 0.8],
        (0, 3),
    ),
    disease("A54", 25.0, Curve::Flat, AGES_SEX, [0.0, 0.1, 0.9], (0, 10)),
    disease(
        "A37",
        15.0,
        Curve::Flat,
        AGES_YOUNG,
        [0.1, 0.3, 0.6],
        (5, 20),
    ),
    disease("B24", 12.0, Curve::Flat, AGES_SEX, [0.0, 0.0, 1.0], (0, 60)),
    disease(
        "B17.1",
        10.0,
        Curve::Flat,
        AGES_ADULT,
        [0.0, 0.1, 0.9],
        (0, 30),
    ),
    disease(
        "B26",
        8.0,
        Curve::Hfmd,
        AGES_SCHOOL,
        [0.1, 0.8, 0.1],
        (1, 4),
    ),
    disease(
        "A38",
        6.0,
        Curve::Flu,
        AGES_KINDER,
        [0.05, 0.7, 0.25],
        (1, 3),
    ),
    disease(
        "A90",
        5.0,
        Curve::Dengue,
        AGES_ADULT,
        [0.2, 0.2, 0.6],
        (1, 5),
    ),
    disease(
        "B17.2",
        4.0,
        Curve::Flat,
        AGES_ADULT,
        [0.0, 0.1, 0.9],
        (3, 10),
    ),
    disease(
        "B30.3",
        2.0,
        Curve::Conj,
        AGES_ALL,
        [0.1, 0.85, 0.05],
        (0, 2),
    ),
    disease(
        "B15",
        1.5,
        Curve::Noro,
        AGES_ALL,
        [0.05, 0.15, 0.8],
        (3, 10),
    ),
    disease("A03", 1.0, Curve::Noro, AGES_ALL, [0.1, 0.6, 0.3], (0, 3)),
    disease("B04", 1.0, Curve::Flat, AGES_SEX, [0.1, 0.0, 0.9], (3, 10)),
    disease("B54", 0.5, Curve::Flat, AGES_ADULT, [0.0, 0.0, 1.0], (2, 7)),
    disease("A01", 0.5, Curve::Flat, AGES_ALL, [0.1, 0.3, 0.6], (3, 10)),
    disease("B05", 0.2, Curve::Hfmd, AGES_YOUNG, [0.3, 0.1, 0.6], (2, 5)),
];

/// Every disease code the demo may report (the background's, and cholera, an outbreak's).
#[cfg(test)]
pub(crate) fn disease_codes() -> impl Iterator<Item = &'static str> {
    DISEASES.iter().map(|d| d.code).chain(["A00"])
}

fn disease_spec(code: &str) -> Option<&'static DiseaseSpec> {
    DISEASES.iter().find(|d| d.code == code)
}

/// The cholera case's spec (not part of the background).
const CHOLERA: DiseaseSpec = disease("A00", 0.0, Curve::Flat, AGES_ADULT, [0.0, 0.0, 1.0], (0, 1));

/// Drug categories: code, units a sentinel pharmacy sells a day, the curve that moves them.
const DRUGS: &[(&str, f64)] = &[
    ("antipyretic", 6.0),
    ("cough-and-cold", 10.0),
    ("antidiarrhoeal", 3.0),
    ("antiviral", 1.5),
    ("oral-rehydration", 1.2),
    ("eye-drops", 2.0),
    ("antipruritic", 3.0),
];

fn drug_season(category: &str, s: &Season, day: NaiveDate) -> f64 {
    let summer = 0.6 + 0.8 * bump(f64::from(day.ordinal0()), 200.0, 45.0);
    match category {
        "antipyretic" => 0.5 + 0.5 * s.flu,
        "cough-and-cold" => 0.4 + 0.6 * s.flu,
        "antiviral" => 0.2 + 0.8 * s.flu,
        "antidiarrhoeal" | "oral-rehydration" => 0.5 + 0.5 * s.noro,
        "eye-drops" => s.conj,
        _ => summer,
    }
}

// ---------------------------------------------------------------------------------------------
// Outbreaks.

/// One extra record (or several units) an outbreak puts on a day.
#[derive(Debug, Clone)]
enum Injection {
    /// Visits of `kind` by residents of `community`.
    Visit {
        community: usize,
        kind: Syn,
        ages: &'static [(f64, f64, f64)],
    },
    /// Case reports of `disease` in `community`.
    Case {
        community: usize,
        disease: &'static str,
        ages: &'static [(f64, f64, f64)],
    },
    /// Units of `category` sold by the pharmacy (a site index).
    Sale {
        pharmacy: usize,
        category: &'static str,
    },
    /// Pupils of the school (a site index) absent ill with `symptom`.
    Absence {
        school: usize,
        symptom: &'static str,
    },
    /// Positive samples of `pathogen` from `community` at the lab (a site index).
    Lab {
        lab: usize,
        community: usize,
        pathogen: &'static str,
    },
}

impl Injection {
    fn feed(&self) -> Feed {
        match self {
            Injection::Visit { .. } => Feed::Visits,
            Injection::Case { .. } => Feed::Cases,
            Injection::Sale { .. } => Feed::Pharmacy,
            Injection::Absence { .. } => Feed::Absence,
            Injection::Lab { .. } => Feed::Lab,
        }
    }
}

/// The institutions that send records, by role.
#[derive(Debug, Clone, Default)]
struct Senders {
    /// Sentinel sites (hospitals and 社康) by street code, and by district code.
    visit_by_street: HashMap<String, Vec<usize>>,
    visit_by_district: HashMap<String, Vec<usize>>,
    visit_all: Vec<usize>,
    /// Sentinel pharmacies (site indices) and each one's size factor.
    pharmacies: Vec<(usize, f64)>,
    /// Schools and kindergartens (site indices) with their pupils.
    schools: Vec<(usize, u32)>,
    /// The influenza laboratory of each district (its first hospital).
    flu_labs: Vec<usize>,
    /// District CDC laboratories.
    cdc_labs: Vec<usize>,
    /// The city CDC's laboratory.
    city_lab: Option<usize>,
}

/// The feeds of one demo city; see the module documentation.
#[derive(Debug, Clone)]
pub struct FeedDemo {
    seed: u64,
    first: NaiveDate,
    today: NaiveDate,
    registry: Registry,
    /// Cumulative residents over the communities.
    cum: Vec<f64>,
    residents: f64,
    /// Residents by district code.
    district_residents: HashMap<String, f64>,
    senders: Senders,
    means: [f64; 5],
    injections: HashMap<(Feed, NaiveDate), Vec<(Injection, u32)>>,
    outbreaks: Vec<DemoOutbreak>,
}

impl FeedDemo {
    /// Reads the demo city's registry back from `store` (communities with their residents,
    /// institutions) and plans its feeds and outbreaks for `opts`.
    pub async fn load(store: &Store, opts: &DemoOptions) -> Result<FeedDemo, DemoError> {
        crate::plan::check_scale(opts.scale)?;
        let residents: HashMap<String, i64> =
            store.residents_per_community().await?.into_iter().collect();
        let communities = store
            .orgunit_levels()
            .await?
            .into_iter()
            .filter(|(_, level)| *level == OrgLevel::Community)
            .map(|(code, _)| {
                let r = residents.get(&code).copied().unwrap_or(0) as f64;
                (code, r)
            })
            .collect();
        let institutions = store
            .institution_sites()
            .await?
            .into_iter()
            .filter_map(|(code, kind, community)| {
                Some((code, InstitutionKind::parse(&kind)?, community))
            })
            .collect();
        let names = store.registry_names().await?.into_iter().collect();
        FeedDemo::new(Registry::new(communities, institutions, names), opts)
    }

    /// Plans the feeds of `registry` for `opts`.
    pub(crate) fn new(registry: Registry, opts: &DemoOptions) -> Result<FeedDemo, DemoError> {
        crate::plan::check_scale(opts.scale)?;
        let today = opts.today;
        let first = today
            .checked_sub_months(Months::new(36))
            .and_then(|d| d.succ_opt())
            .ok_or_else(|| DemoError::Data(format!("{today} is out of range")))?;
        let mut cum = Vec::with_capacity(registry.communities.len());
        let mut total = 0.0;
        let mut district_residents: HashMap<String, f64> = HashMap::new();
        for a in &registry.communities {
            total += a.residents;
            cum.push(total);
            *district_residents
                .entry(district_of(&a.code).to_owned())
                .or_default() += a.residents;
        }
        let senders = senders(&registry, opts.seed);
        let mut demo = FeedDemo {
            seed: opts.seed,
            first,
            today,
            registry,
            cum,
            residents: total,
            district_residents,
            senders,
            means: shape_means(),
            injections: HashMap::new(),
            outbreaks: Vec::new(),
        };
        let planned = plan_outbreaks(&demo, opts.scale);
        let mut rows = Vec::new();
        for o in planned {
            for part in o.parts {
                let (Some(first_day), Some(last_day)) = (
                    part.days.iter().map(|d| d.0).min(),
                    part.days.iter().map(|d| d.0).max(),
                ) else {
                    continue;
                };
                let extra: u32 = part.days.iter().map(|d| d.2).sum();
                rows.push(DemoOutbreak {
                    feed: part.feed.name().to_owned(),
                    code: part.code,
                    area_code: part.area,
                    first_day,
                    last_day,
                    extra: i64::from(extra),
                    description: o.description.clone(),
                });
                for (day, inj, n) in part.days {
                    demo.injections
                        .entry((inj.feed(), day))
                        .or_default()
                        .push((inj, n));
                }
            }
        }
        demo.outbreaks = rows;
        Ok(demo)
    }

    /// The first day generated (three years before `today`, plus one).
    pub fn first_day(&self) -> NaiveDate {
        self.first
    }

    /// Days generated per feed.
    pub fn days(&self) -> u64 {
        (self.today - self.first).num_days() as u64 + 1
    }

    /// The injected outbreaks: one row per (outbreak, feed, code).
    pub fn outbreaks(&self) -> Vec<DemoOutbreak> {
        self.outbreaks.clone()
    }

    /// Every record, feed by feed ([`FEEDS`] order) and day by day, in batches of at most
    /// [`MAX_BATCH`]; one day of one feed is generated at a time.
    pub fn batches(&self) -> impl Iterator<Item = FeedBatch> + '_ {
        Batcher {
            demo: self,
            feed: 0,
            day: 0,
            through: self.first,
            pending: Vec::new(),
        }
    }

    fn day(&self, index: u64) -> Option<NaiveDate> {
        self.first.checked_add_days(Days::new(index))
    }

    /// The records of `feed` on `day`.
    fn records(&self, feed: Feed, day: NaiveDate) -> Vec<Value> {
        let index = (day - self.first).num_days().max(0) as u64;
        let mut r = rng(self.seed, STREAM_FEED + feed as u64, index);
        let season = Season::of(self.seed, day, &self.means);
        let injected: &[(Injection, u32)] = self
            .injections
            .get(&(feed, day))
            .map_or(&[], |v| v.as_slice());
        match feed {
            Feed::Visits => self.visits(&mut r, day, &season, injected),
            Feed::Cases => self.cases(&mut r, day, &season, injected),
            Feed::Pharmacy => self.sales(&mut r, day, &season, injected),
            Feed::Absence => self.absences(&mut r, day, &season, injected),
            Feed::Lab => self.labs(&mut r, day, &season, injected),
        }
    }

    /// A sentinel site for a patient of `community`: a 社康 of the street seven times in
    /// ten, else a hospital or 社康 of the district.
    fn visit_site(&self, r: &mut impl Rng, community: usize) -> Option<&Site> {
        let code = &self.registry.communities.get(community)?.code;
        let s = &self.senders;
        let street = s.visit_by_street.get(street_of(code));
        let district = s.visit_by_district.get(district_of(code));
        let list = match (street, district) {
            (Some(st), _) if !st.is_empty() && r.random_bool(0.7) => st,
            (_, Some(d)) if !d.is_empty() => d,
            _ => &s.visit_all,
        };
        let i = *list.get(r.random_range(0..list.len().max(1)))?;
        self.registry.sites.get(i)
    }

    fn visit(
        &self,
        r: &mut impl Rng,
        day: NaiveDate,
        n: &mut u32,
        community: usize,
        kind: Syn,
        ages: &[(f64, f64, f64)],
    ) -> Option<Value> {
        let site = self.visit_site(r, community)?;
        let c = complaint(r, kind);
        *n += 1;
        // Clinics open 8:00–21:30, busiest in the morning.
        let hour = if r.random_bool(0.6) {
            r.random_range(8..12)
        } else {
            r.random_range(12..22)
        };
        let minute = r.random_range(0..60);
        Some(object(vec![
            ("record_id", Value::from(format!("V{}-{:05}", ymd(day), *n))),
            ("institution_code", Value::from(site.code.clone())),
            (
                "visit_time",
                Value::from(format!("{} {hour:02}:{minute:02}", day.format("%Y-%m-%d"))),
            ),
            (
                "community_code",
                Value::from(self.registry.communities[community].code.clone()),
            ),
            ("age", age(r, ages)),
            ("sex", sex(r)),
            ("chief_complaint", Value::from(c.text)),
            ("diagnosis_codes", Value::from(c.codes)),
            (
                "temperature",
                c.temperature.map_or(Value::Null, Value::from),
            ),
        ]))
    }

    fn visits(
        &self,
        r: &mut ChaCha8Rng,
        day: NaiveDate,
        s: &Season,
        injected: &[(Injection, u32)],
    ) -> Vec<Value> {
        let factor = self.residents / 1e5 * weekday_visits(day) * festival(day);
        let mut out = Vec::new();
        let mut n = 0;
        for kind in Syn::ALL {
            let count = poisson(r, visit_rate(kind, s) * factor);
            for _ in 0..count {
                let community = pick_cum(r, &self.cum);
                out.extend(self.visit(r, day, &mut n, community, kind, visit_ages(kind)));
            }
        }
        for (inj, count) in injected {
            if let Injection::Visit {
                community,
                kind,
                ages,
            } = inj
            {
                for _ in 0..*count {
                    out.extend(self.visit(r, day, &mut n, *community, *kind, ages));
                }
            }
        }
        out
    }

    fn case(
        &self,
        r: &mut impl Rng,
        day: NaiveDate,
        n: &mut u32,
        community: usize,
        d: &DiseaseSpec,
        ages: &[(f64, f64, f64)],
    ) -> Value {
        *n += 1;
        let diagnosed = if r.random_bool(0.2) {
            day.pred_opt().unwrap_or(day)
        } else {
            day
        };
        let delay = r.random_range(d.onset.0..=d.onset.1);
        let onset = diagnosed
            .checked_sub_days(Days::new(u64::from(delay)))
            .unwrap_or(diagnosed);
        let class = ["suspected", "clinical", "confirmed"][pick_weighted(r, &d.classes)];
        object(vec![
            ("record_id", Value::from(format!("C{}-{:05}", ymd(day), *n))),
            ("disease_code", Value::from(d.code)),
            ("onset_date", iso(onset)),
            ("diagnosis_date", iso(diagnosed)),
            ("report_date", iso(day)),
            (
                "community_code",
                Value::from(self.registry.communities[community].code.clone()),
            ),
            ("classification", Value::from(class)),
            ("age", age(r, ages)),
            ("sex", sex(r)),
        ])
    }

    fn cases(
        &self,
        r: &mut ChaCha8Rng,
        day: NaiveDate,
        s: &Season,
        injected: &[(Injection, u32)],
    ) -> Vec<Value> {
        let factor = self.residents / 1e5 / 365.0 * weekday_reports(day) * festival(day);
        let mut out = Vec::new();
        let mut n = 0;
        for d in DISEASES {
            let count = poisson(r, d.rate * d.curve.of(s) * factor);
            for _ in 0..count {
                let community = pick_cum(r, &self.cum);
                out.push(self.case(r, day, &mut n, community, d, d.ages));
            }
        }
        for (inj, count) in injected {
            if let Injection::Case {
                community,
                disease,
                ages,
            } = inj
            {
                let spec = disease_spec(disease).unwrap_or(&CHOLERA);
                for _ in 0..*count {
                    out.push(self.case(r, day, &mut n, *community, spec, ages));
                }
            }
        }
        out
    }

    fn sales(
        &self,
        r: &mut ChaCha8Rng,
        day: NaiveDate,
        s: &Season,
        injected: &[(Injection, u32)],
    ) -> Vec<Value> {
        let weekday = match day.weekday() {
            Weekday::Sat | Weekday::Sun => 1.1,
            _ => 0.96,
        };
        let mut out = Vec::new();
        for &(pharmacy, size) in &self.senders.pharmacies {
            let site = &self.registry.sites[pharmacy];
            for &(category, base) in DRUGS {
                let lambda = base * size * drug_season(category, s, day) * weekday * festival(day);
                let mut quantity = poisson(r, lambda);
                for (inj, count) in injected {
                    if let Injection::Sale {
                        pharmacy: p,
                        category: c,
                    } = inj
                        && *p == pharmacy
                        && *c == category
                    {
                        quantity += count;
                    }
                }
                out.push(object(vec![
                    (
                        "record_id",
                        Value::from(format!("S{}-{category}", ymd(day))),
                    ),
                    ("pharmacy_code", Value::from(site.code.clone())),
                    ("date", iso(day)),
                    ("drug_category", Value::from(category)),
                    ("quantity", Value::from(quantity)),
                ]));
            }
        }
        out
    }

    fn absences(
        &self,
        r: &mut ChaCha8Rng,
        day: NaiveDate,
        s: &Season,
        injected: &[(Injection, u32)],
    ) -> Vec<Value> {
        if school_closed(day) {
            return Vec::new();
        }
        let mut out = Vec::new();
        for &(school, enrolled) in &self.senders.schools {
            let site = &self.registry.sites[school];
            let kinder = site.kind == InstitutionKind::Kindergarten;
            let e = f64::from(enrolled);
            let ill_rate = 0.004
                + 0.005 * s.flu * if kinder { 1.3 } else { 1.0 }
                + 0.0015 * s.noro
                + if kinder { 0.003 * s.hfmd } else { 0.0 };
            let mut ill = poisson(r, e * ill_rate);
            let other = poisson(r, e * 0.006);
            let weights = [
                0.3 * s.flu,
                0.5 * s.flu,
                0.25 * s.noro,
                if kinder { 0.3 * s.hfmd } else { 0.05 },
                0.03 * s.conj,
                0.2,
            ];
            let mut symptom = [
                "fever",
                "respiratory",
                "gi",
                "rash",
                "conjunctivitis",
                "other",
            ][pick_weighted(r, &weights)];
            for (inj, count) in injected {
                if let Injection::Absence {
                    school: sc,
                    symptom: sy,
                } = inj
                    && *sc == school
                {
                    ill += count;
                    symptom = sy;
                }
            }
            let ill = ill.min(enrolled);
            let absent = (ill + other).min(enrolled);
            out.push(object(vec![
                ("record_id", Value::from(format!("A{}", ymd(day)))),
                ("school_code", Value::from(site.code.clone())),
                ("date", iso(day)),
                ("enrolled", Value::from(enrolled)),
                ("absent", Value::from(absent)),
                ("absent_ill", Value::from(ill)),
                (
                    "symptom",
                    if ill > 0 {
                        Value::from(symptom)
                    } else {
                        Value::Null
                    },
                ),
            ]));
        }
        out
    }

    /// A lab record of (tested, positive) samples.
    fn lab_record(
        &self,
        day: NaiveDate,
        lab: usize,
        community: usize,
        pathogen: &str,
        (tested, positive): (u32, u32),
        suffix: &str,
    ) -> Value {
        object(vec![
            (
                "record_id",
                Value::from(format!("L{}-{pathogen}{suffix}", ymd(day))),
            ),
            (
                "lab_code",
                Value::from(self.registry.sites[lab].code.clone()),
            ),
            ("sample_date", iso(day)),
            ("pathogen", Value::from(pathogen)),
            ("tested", Value::from(tested)),
            ("positive", Value::from(positive)),
            (
                "community_code",
                Value::from(self.registry.communities[community].code.clone()),
            ),
        ])
    }

    fn labs(
        &self,
        r: &mut ChaCha8Rng,
        day: NaiveDate,
        s: &Season,
        injected: &[(Injection, u32)],
    ) -> Vec<Value> {
        let mut out = Vec::new();
        let fest = festival(day);
        let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
        let per_district = |lab: usize| {
            let site = &self.registry.sites[lab];
            let code = &self.registry.communities[site.community].code;
            self.district_residents
                .get(district_of(code))
                .copied()
                .unwrap_or(0.0)
                / 1e5
        };
        // Influenza: every day at each district's sentinel hospital.
        for &lab in &self.senders.flu_labs {
            let size = per_district(lab) * fest * if weekend { 0.55 } else { 1.0 };
            let winter = bump(f64::from(day.ordinal0()), 40.0, 30.0);
            for (pathogen, p) in [
                ("influenza-a", 0.02 + 0.22 * (s.flu - 0.3).max(0.0)),
                ("influenza-b", 0.01 + 0.10 * winter * s.flu),
            ] {
                let tested = poisson(r, 6.0 * size * (0.4 + 0.6 * s.flu));
                if tested > 0 {
                    let positive = binomial(r, tested, p);
                    let community = self.registry.sites[lab].community;
                    out.push(self.lab_record(
                        day,
                        lab,
                        community,
                        pathogen,
                        (tested, positive),
                        "",
                    ));
                }
            }
        }
        // Enteric, enterovirus, dengue and measles panels: district CDCs, working days.
        if !weekend {
            for &lab in &self.senders.cdc_labs {
                let size = per_district(lab) * fest;
                for (pathogen, tests, p) in [
                    ("norovirus", 3.0 * s.noro, 0.08 + 0.12 * s.noro.min(2.0)),
                    ("enterovirus", 2.0 * s.hfmd, 0.25),
                    (
                        "dengue",
                        0.4 + 1.5 * s.dengue,
                        0.01 + 0.05 * s.dengue.min(3.0),
                    ),
                    ("measles", 0.3, 0.005),
                ] {
                    let tested = poisson(r, tests * size);
                    if tested > 0 {
                        let positive = binomial(r, tested, p);
                        let community = self.registry.sites[lab].community;
                        out.push(self.lab_record(
                            day,
                            lab,
                            community,
                            pathogen,
                            (tested, positive),
                            "",
                        ));
                    }
                }
            }
        }
        // Cholera culture of diarrhoea samples at the city CDC, working days.
        if let Some(lab) = self.senders.city_lab
            && !weekend
        {
            let tested = poisson(r, 0.3 * self.residents / 1e5 * fest);
            if tested > 0 {
                let community = self.registry.sites[lab].community;
                out.push(self.lab_record(day, lab, community, "vibrio-cholerae", (tested, 0), ""));
            }
        }
        for (inj, count) in injected {
            if let Injection::Lab {
                lab,
                community,
                pathogen,
            } = inj
            {
                let negatives = poisson(r, f64::from(*count) * 0.5);
                let suffix = format!("-{}", self.registry.communities[*community].code);
                out.push(self.lab_record(
                    day,
                    *lab,
                    *community,
                    pathogen,
                    (count + negatives, *count),
                    &suffix,
                ));
            }
        }
        out
    }
}

/// Chooses who sends what: sentinel sites, sentinel pharmacies, schools' enrolment, labs.
fn senders(reg: &Registry, seed: u64) -> Senders {
    let mut s = Senders::default();
    let mut r = rng(seed, STREAM_SITES, 0);
    let mut pharmacies_by_district: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut first_hospital: BTreeMap<String, usize> = BTreeMap::new();
    for (i, site) in reg.sites.iter().enumerate() {
        let code = &reg.communities[site.community].code;
        let (street, district) = (street_of(code), district_of(code));
        use InstitutionKind as K;
        match site.kind {
            K::Hospital | K::Chc | K::Chs => {
                if site.kind != K::Hospital {
                    s.visit_by_street
                        .entry(street.to_owned())
                        .or_default()
                        .push(i);
                }
                s.visit_by_district
                    .entry(district.to_owned())
                    .or_default()
                    .push(i);
                s.visit_all.push(i);
                if site.kind == K::Hospital {
                    first_hospital.entry(district.to_owned()).or_insert(i);
                }
            }
            K::Pharmacy => pharmacies_by_district
                .entry(district.to_owned())
                .or_default()
                .push(i),
            K::School => s.schools.push((i, r.random_range(250..=600))),
            K::Kindergarten => s.schools.push((i, r.random_range(80..=220))),
            K::Cdc => {
                if site.code.get(1..7) == Some(CITY_CODE) {
                    s.city_lab = Some(i);
                } else {
                    s.cdc_labs.push(i);
                }
            }
            _ => {}
        }
    }
    for list in pharmacies_by_district.values() {
        let n = ((list.len() as f64 * SENTINEL_PHARMACY_SHARE).round() as usize)
            .clamp(usize::from(!list.is_empty()), list.len());
        let mut pool = list.clone();
        for _ in 0..n {
            let i = pool.swap_remove(r.random_range(0..pool.len()));
            s.pharmacies.push((i, 0.6 + r.random::<f64>()));
        }
    }
    s.pharmacies.sort_by_key(|p| p.0);
    s.flu_labs = first_hospital.into_values().collect();
    s
}

/// One injected outbreak: its description and what it put in each stream.
struct Planned {
    description: String,
    parts: Vec<Part>,
}

struct Part {
    feed: Feed,
    code: String,
    area: String,
    days: Vec<(NaiveDate, Injection, u32)>,
}

/// Plans the outbreaks on a stream of their own.
struct OutbreakPlanner<'a> {
    demo: &'a FeedDemo,
    r: ChaCha8Rng,
    /// Size factor: outbreaks grow more slowly than the city.
    size: f64,
    used: Vec<usize>,
}

impl OutbreakPlanner<'_> {
    fn reg(&self) -> &Registry {
        &self.demo.registry
    }

    fn name(&self, code: &str) -> String {
        self.reg()
            .names
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_owned())
    }

    fn community_code(&self, c: usize) -> String {
        self.reg().communities[c].code.clone()
    }

    /// `n` scaled, at least 1.
    fn n(&self, n: f64) -> u32 {
        ((n * self.size).round() as u32).max(1)
    }

    /// The communities of `street` with residents.
    fn street_communities(&self, street: &str) -> Vec<usize> {
        (0..self.reg().communities.len())
            .filter(|&i| {
                let a = &self.reg().communities[i];
                street_of(&a.code) == street && a.residents > 0.0
            })
            .collect()
    }

    /// Whether community `c` may host another outbreak: not used before, and in a district
    /// without one while some district has none.
    fn free(&self, c: usize) -> bool {
        let reg = self.reg();
        let district = |i: usize| district_of(&reg.communities[i].code);
        let all_used = self
            .demo
            .district_residents
            .keys()
            .all(|d| self.used.iter().any(|&u| district(u) == d.as_str()));
        !self.used.contains(&c)
            && (all_used || !self.used.iter().any(|&u| district(u) == district(c)))
    }

    /// A populous community (weighted by residents) that is [`free`](Self::free), if one
    /// turns up; `with_pharmacy`: in a street with a sentinel pharmacy.
    fn pick_community(&mut self, with_pharmacy: bool) -> usize {
        let mut fallback = None;
        for _ in 0..400 {
            let c = pick_cum(&mut self.r, &self.demo.cum);
            let street = street_of(&self.reg().communities[c].code).to_owned();
            if with_pharmacy && self.pharmacies_in(&street).is_empty() {
                continue;
            }
            fallback.get_or_insert(c);
            if self.free(c) {
                self.used.push(c);
                return c;
            }
        }
        let c = fallback.unwrap_or_else(|| pick_cum(&mut self.r, &self.demo.cum));
        self.used.push(c);
        c
    }

    /// A populous community not used before.
    fn community(&mut self) -> usize {
        self.pick_community(false)
    }

    /// A populous community in a street with a sentinel pharmacy.
    fn community_with_pharmacy(&mut self) -> usize {
        self.pick_community(true)
    }

    /// A school (or kindergarten) not used before, preferring one whose street has a
    /// sentinel pharmacy when `pharmacy`.
    fn school(&mut self, kind: InstitutionKind, pharmacy: bool) -> Option<usize> {
        let demo = self.demo;
        let reg = &demo.registry;
        let mut candidates: Vec<usize> = self
            .demo
            .senders
            .schools
            .iter()
            .map(|s| s.0)
            .filter(|&i| reg.sites[i].kind == kind && !self.used.contains(&reg.sites[i].community))
            .collect();
        let spread: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&i| self.free(reg.sites[i].community))
            .collect();
        if !spread.is_empty() {
            candidates = spread;
        }
        if pharmacy {
            let with: Vec<usize> = candidates
                .iter()
                .copied()
                .filter(|&i| {
                    !self
                        .pharmacies_in(street_of(&reg.communities[reg.sites[i].community].code))
                        .is_empty()
                })
                .collect();
            if !with.is_empty() {
                candidates = with;
            }
        }
        if candidates.is_empty() {
            return None;
        }
        let i = candidates[self.r.random_range(0..candidates.len())];
        self.used.push(reg.sites[i].community);
        Some(i)
    }

    /// Sentinel pharmacies of a street.
    fn pharmacies_in(&self, street: &str) -> Vec<usize> {
        let reg = self.reg();
        self.demo
            .senders
            .pharmacies
            .iter()
            .map(|p| p.0)
            .filter(|&i| street_of(&reg.communities[reg.sites[i].community].code) == street)
            .collect()
    }

    /// The lab of `kind` (flu: the district's sentinel hospital; else its CDC) for a community.
    fn lab(&self, community: usize, flu: bool) -> Option<usize> {
        let reg = self.reg();
        let district = district_of(&reg.communities[community].code);
        let list = if flu {
            &self.demo.senders.flu_labs
        } else {
            &self.demo.senders.cdc_labs
        };
        list.iter()
            .copied()
            .find(|&i| district_of(&reg.communities[reg.sites[i].community].code) == district)
            .or_else(|| list.first().copied())
            .or(self.demo.senders.city_lab)
    }

    /// The days from `first` to `last` (within the three years), school days only if asked.
    fn days(&self, first: NaiveDate, last: NaiveDate, school: bool) -> Vec<NaiveDate> {
        let mut out = Vec::new();
        let mut d = first.max(self.demo.first);
        while d <= last.min(self.demo.today) {
            if !school || !school_closed(d) {
                out.push(d);
            }
            match d.succ_opt() {
                Some(n) => d = n,
                None => break,
            }
        }
        out
    }

    /// Spreads `total` over `days` along an epidemic curve (rising to a peak a third of the
    /// way in, then falling); each unit goes to `make(day)`.
    fn spread(
        &mut self,
        days: &[NaiveDate],
        total: u32,
        mut make: impl FnMut(&mut ChaCha8Rng) -> Injection,
    ) -> Vec<(NaiveDate, Injection, u32)> {
        if days.is_empty() || total == 0 {
            return Vec::new();
        }
        let len = days.len() as f64;
        let peak = (len / 3.0).max(0.5);
        let weights: Vec<f64> = (0..days.len())
            .map(|i| {
                let x = i as f64 + 0.5;
                if x <= peak {
                    x / peak
                } else {
                    ((len - x) / (len - peak).max(0.5)).max(0.15)
                }
            })
            .collect();
        let mut per_day = vec![0u32; days.len()];
        for _ in 0..total {
            per_day[pick_weighted(&mut self.r, &weights)] += 1;
        }
        let mut out = Vec::new();
        for (i, n) in per_day.into_iter().enumerate() {
            if n > 0 {
                out.push((days[i], make(&mut self.r), n));
            }
        }
        out
    }

    /// The `k`-th most recent start on `month`/`day` (0 = latest) of an outbreak of `len`
    /// days that ends at least 61 days before today and starts inside the three years.
    fn seasonal(&self, month: u32, day: u32, len: u64, k: usize) -> NaiveDate {
        let latest_end = self
            .demo
            .today
            .checked_sub_days(Days::new(61))
            .unwrap_or(self.demo.today);
        let mut starts: Vec<NaiveDate> = (self.demo.today.year() - 4..=self.demo.today.year())
            .rev()
            .filter_map(|y| NaiveDate::from_ymd_opt(y, month, day))
            .filter(|s| {
                *s >= self.demo.first
                    && s.checked_add_days(Days::new(len.saturating_sub(1)))
                        .is_some_and(|e| e <= latest_end)
            })
            .collect();
        starts.truncate(k + 1);
        starts.last().copied().unwrap_or_else(|| self.ago(200))
    }

    fn ago(&self, days: u64) -> NaiveDate {
        self.demo
            .today
            .checked_sub_days(Days::new(days))
            .unwrap_or(self.demo.today)
    }
}

fn after(d: NaiveDate, days: u64) -> NaiveDate {
    d.checked_add_days(Days::new(days)).unwrap_or(d)
}

/// The 14 outbreaks.
fn plan_outbreaks(demo: &FeedDemo, scale: f64) -> Vec<Planned> {
    let mut p = OutbreakPlanner {
        demo,
        r: rng(demo.seed, STREAM_OUTBREAKS, 0),
        size: (scale / crate::DEFAULT_SCALE).sqrt().clamp(0.3, 4.0),
        used: Vec::new(),
    };
    if demo.registry.communities.is_empty() || demo.cum.last().copied().unwrap_or(0.0) <= 0.0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    use InstitutionKind as K;

    // 1. Norovirus at a school, live: every source shows it.
    if let Some(school) = p.school(K::School, true) {
        let site = demo.registry.sites[school].clone();
        let c = site.community;
        let cc = p.community_code(c);
        let street = street_of(&cc).to_owned();
        let (first, last) = (p.ago(12), p.ago(3));
        let all = p.days(first, last, false);
        let school_days = p.days(first, last, true);
        let mut parts = Vec::new();
        let ages = AGES_SCHOOL;
        let n = p.n(28.0);
        parts.push(part(
            Feed::Visits,
            "gi",
            &cc,
            p.spread(&all, n, |_| Injection::Visit {
                community: c,
                kind: Syn::Gi,
                ages,
            }),
        ));
        let n = p.n(70.0);
        parts.push(part(
            Feed::Absence,
            "ill-gi",
            &cc,
            p.spread(&school_days, n, |_| Injection::Absence {
                school,
                symptom: "gi",
            }),
        ));
        let pharmacies = p.pharmacies_in(&street);
        if let Some(&ph) = pharmacies.first() {
            let n = p.n(45.0);
            parts.push(part(
                Feed::Pharmacy,
                "antidiarrhoeal",
                &street,
                p.spread(&all, n, |_| Injection::Sale {
                    pharmacy: ph,
                    category: "antidiarrhoeal",
                }),
            ));
            let n = p.n(20.0);
            parts.push(part(
                Feed::Pharmacy,
                "oral-rehydration",
                &street,
                p.spread(&all, n, |_| Injection::Sale {
                    pharmacy: ph,
                    category: "oral-rehydration",
                }),
            ));
        }
        if let Some(lab) = p.lab(c, false) {
            let n = p.n(9.0);
            parts.push(part(
                Feed::Lab,
                "norovirus",
                &cc,
                p.spread(&all, n, |_| Injection::Lab {
                    lab,
                    community: c,
                    pathogen: "norovirus",
                }),
            ));
        }
        let n = p.n(6.0);
        parts.push(part(
            Feed::Cases,
            "A09",
            &cc,
            p.spread(&all, n, |_| Injection::Case {
                community: c,
                disease: "A09",
                ages,
            }),
        ));
        out.push(Planned {
            description: format!(
                "{}（{}）诺如病毒感染性腹泻暴发：学生因病缺课、社区胃肠道症状就诊、街道药店止泻药销售、诺如病毒检测阳性和其它感染性腹泻病报告同时上升 / \
                 Norovirus gastroenteritis outbreak at school {}: illness absence, gastrointestinal visits in its community, antidiarrhoeal sales in its street, norovirus positives and infectious-diarrhoea reports rise together",
                p.name(&site.code), site.code, site.code
            ),
            parts,
        });
    }

    // 2. An ILI cluster in a street (one with a sentinel pharmacy, if any), live.
    {
        let c0 = p.community_with_pharmacy();
        let cc = p.community_code(c0);
        let street = street_of(&cc).to_owned();
        let members = p.street_communities(&street);
        let (first, last) = (p.ago(20), p.ago(6));
        let all = p.days(first, last, false);
        let mut parts = Vec::new();
        let n = p.n(45.0);
        let pick = members.clone();
        parts.push(part(
            Feed::Visits,
            "ili",
            &street,
            p.spread(&all, n, |r| Injection::Visit {
                community: pick[r.random_range(0..pick.len())],
                kind: Syn::Ili,
                ages: AGES_ILI,
            }),
        ));
        let pharmacies = p.pharmacies_in(&street);
        if let Some(&ph) = pharmacies.first() {
            let n = p.n(40.0);
            parts.push(part(
                Feed::Pharmacy,
                "antipyretic",
                &street,
                p.spread(&all, n, |_| Injection::Sale {
                    pharmacy: ph,
                    category: "antipyretic",
                }),
            ));
            let n = p.n(50.0);
            parts.push(part(
                Feed::Pharmacy,
                "cough-and-cold",
                &street,
                p.spread(&all, n, |_| Injection::Sale {
                    pharmacy: ph,
                    category: "cough-and-cold",
                }),
            ));
        }
        if let Some(lab) = p.lab(c0, true) {
            let n = p.n(10.0);
            parts.push(part(
                Feed::Lab,
                "influenza-a",
                &street,
                p.spread(&all, n, |r| Injection::Lab {
                    lab,
                    community: pick[r.random_range(0..pick.len())],
                    pathogen: "influenza-a",
                }),
            ));
        }
        let n = p.n(12.0);
        parts.push(part(
            Feed::Cases,
            "J11",
            &street,
            p.spread(&all, n, |r| Injection::Case {
                community: pick[r.random_range(0..pick.len())],
                disease: "J11",
                ages: AGES_ILI,
            }),
        ));
        out.push(Planned {
            description: format!(
                "{}（{}）流感样病例聚集：街道内流感样病例就诊、退热及感冒药销售、甲型流感阳性和流感报告增加 / \
                 Influenza-like illness cluster in street {street}: ILI visits, antipyretic and cold-remedy sales, influenza A positives and influenza reports rise",
                p.name(&street), street
            ),
            parts,
        });
    }

    // 3. Hand-foot-mouth disease in kindergartens of a street.
    if let Some(k1) = p.school(K::Kindergarten, false) {
        let c = demo.registry.sites[k1].community;
        let cc = p.community_code(c);
        let street = street_of(&cc).to_owned();
        let other: Option<usize> = demo.senders.schools.iter().map(|s| s.0).find(|&i| {
            i != k1
                && demo.registry.sites[i].kind == K::Kindergarten
                && street_of(&demo.registry.communities[demo.registry.sites[i].community].code)
                    == street
        });
        let (first, last) = (p.ago(52), p.ago(33));
        let all = p.days(first, last, false);
        let school_days = p.days(first, last, true);
        let mut parts = Vec::new();
        let n = p.n(16.0);
        parts.push(part(
            Feed::Cases,
            "B08.4",
            &street,
            p.spread(&all, n, |_| Injection::Case {
                community: c,
                disease: "B08.4",
                ages: AGES_KINDER,
            }),
        ));
        let kinders: Vec<usize> = [Some(k1), other].into_iter().flatten().collect();
        let n = p.n(22.0);
        parts.push(part(
            Feed::Absence,
            "ill-rash",
            &street,
            p.spread(&school_days, n, |r| Injection::Absence {
                school: kinders[r.random_range(0..kinders.len())],
                symptom: "rash",
            }),
        ));
        let n = p.n(14.0);
        parts.push(part(
            Feed::Visits,
            "rash",
            &street,
            p.spread(&all, n, |_| Injection::Visit {
                community: c,
                kind: Syn::Rash,
                ages: AGES_KINDER,
            }),
        ));
        if let Some(lab) = p.lab(c, false) {
            let n = p.n(6.0);
            parts.push(part(
                Feed::Lab,
                "enterovirus",
                &street,
                p.spread(&all, n, |_| Injection::Lab {
                    lab,
                    community: c,
                    pathogen: "enterovirus",
                }),
            ));
        }
        out.push(Planned {
            description: format!(
                "{}手足口病聚集：{}等幼儿园出疹缺课、手足口病报告、出疹就诊和肠道病毒阳性 / \
                 Hand-foot-mouth disease cluster in kindergartens of street {street} ({}): rash absences, HFMD reports, rash visits and enterovirus positives",
                p.name(&street), p.name(&demo.registry.sites[k1].code), demo.registry.sites[k1].code
            ),
            parts,
        });
    }

    // 4. Dengue: the latest autumn that lies before the last 40 days.
    {
        let c = p.community();
        let cc = p.community_code(c);
        let first = {
            let latest = p.ago(40);
            let this_year = NaiveDate::from_ymd_opt(latest.year(), 9, 20).unwrap_or(latest);
            if after(this_year, 22) <= latest {
                this_year
            } else {
                NaiveDate::from_ymd_opt(latest.year() - 1, 9, 20).unwrap_or(latest)
            }
        };
        let all = p.days(first, after(first, 22), false);
        let mut parts = Vec::new();
        let n = p.n(14.0);
        parts.push(part(
            Feed::Cases,
            "A90",
            &cc,
            p.spread(&all, n, |_| Injection::Case {
                community: c,
                disease: "A90",
                ages: AGES_ADULT,
            }),
        ));
        let n = p.n(16.0);
        parts.push(part(
            Feed::Visits,
            "fever_haem",
            &cc,
            p.spread(&all, n, |_| Injection::Visit {
                community: c,
                kind: Syn::FeverHaem,
                ages: AGES_ADULT,
            }),
        ));
        if let Some(lab) = p.lab(c, false) {
            let n = p.n(8.0);
            parts.push(part(
                Feed::Lab,
                "dengue",
                &cc,
                p.spread(&all, n, |_| Injection::Lab {
                    lab,
                    community: c,
                    pathogen: "dengue",
                }),
            ));
        }
        out.push(Planned {
            description: format!(
                "{}（{}）登革热本地聚集：登革热报告、发热伴出血就诊和登革病毒阳性 / \
                 Local dengue cluster in community {cc}: dengue reports, fever-with-bleeding visits and dengue positives",
                p.name(&cc), cc
            ),
            parts,
        });
    }

    // 5. Measles, two springs ago.
    {
        let c = p.community();
        let cc = p.community_code(c);
        let first = p.seasonal(3, 10, 26, 1);
        let all = p.days(first, after(first, 25), false);
        let mut parts = Vec::new();
        let n = p.n(7.0);
        parts.push(part(
            Feed::Cases,
            "B05",
            &cc,
            p.spread(&all, n, |_| Injection::Case {
                community: c,
                disease: "B05",
                ages: AGES_YOUNG,
            }),
        ));
        let n = p.n(9.0);
        parts.push(part(
            Feed::Visits,
            "rash",
            &cc,
            p.spread(&all, n, |_| Injection::Visit {
                community: c,
                kind: Syn::Rash,
                ages: AGES_YOUNG,
            }),
        ));
        if let Some(lab) = p.lab(c, false) {
            let n = p.n(5.0);
            parts.push(part(
                Feed::Lab,
                "measles",
                &cc,
                p.spread(&all, n, |_| Injection::Lab {
                    lab,
                    community: c,
                    pathogen: "measles",
                }),
            ));
        }
        out.push(Planned {
            description: format!(
                "{}（{}）麻疹聚集：麻疹报告、出疹就诊和麻疹病毒阳性 / Measles cluster in community {cc}: measles reports, rash visits and measles positives",
                p.name(&cc), cc
            ),
            parts,
        });
    }

    // 6. One cholera case, live: a fixed-threshold disease, one case is a signal.
    {
        let c = p.community();
        let cc = p.community_code(c);
        let day = p.ago(9);
        let mut parts = vec![part(
            Feed::Cases,
            "A00",
            &cc,
            vec![(
                day,
                Injection::Case {
                    community: c,
                    disease: "A00",
                    ages: AGES_ADULT,
                },
                1,
            )],
        )];
        if let Some(lab) = demo.senders.city_lab {
            parts.push(part(
                Feed::Lab,
                "vibrio-cholerae",
                &cc,
                vec![(
                    day,
                    Injection::Lab {
                        lab,
                        community: c,
                        pathogen: "vibrio-cholerae",
                    },
                    1,
                )],
            ));
        }
        out.push(Planned {
            description: format!(
                "{}（{}）霍乱确诊病例一例（甲类传染病，一例即为信号）及霍乱弧菌培养阳性 / \
                 One confirmed cholera case in community {cc} (class A: a single case is a signal) and a Vibrio cholerae culture",
                p.name(&cc), cc
            ),
            parts,
        });
    }

    // 7. Hepatitis A with jaundice in a street, last spring.
    {
        let c0 = p.community();
        let cc = p.community_code(c0);
        let street = street_of(&cc).to_owned();
        let members = p.street_communities(&street);
        let first = p.seasonal(2, 20, 35, 0);
        let all = p.days(first, after(first, 34), false);
        let mut parts = Vec::new();
        let n = p.n(9.0);
        parts.push(part(
            Feed::Cases,
            "B15",
            &street,
            p.spread(&all, n, |r| Injection::Case {
                community: members[r.random_range(0..members.len())],
                disease: "B15",
                ages: AGES_ADULT,
            }),
        ));
        let n = p.n(11.0);
        parts.push(part(
            Feed::Visits,
            "jaundice",
            &street,
            p.spread(&all, n, |r| Injection::Visit {
                community: members[r.random_range(0..members.len())],
                kind: Syn::Jaundice,
                ages: AGES_ADULT,
            }),
        ));
        if let Some(lab) = p.lab(c0, false) {
            let n = p.n(6.0);
            parts.push(part(
                Feed::Lab,
                "hepatitis-a",
                &street,
                p.spread(&all, n, |_| Injection::Lab {
                    lab,
                    community: c0,
                    pathogen: "hepatitis-a",
                }),
            ));
        }
        out.push(Planned {
            description: format!(
                "{}甲型肝炎聚集（共同食源）：甲肝报告、黄疸就诊和甲肝病毒阳性 / \
                 Hepatitis A cluster in street {street} (a common food source): hepatitis A reports, jaundice visits and HAV positives",
                p.name(&street)
            ),
            parts,
        });
    }

    // 8. Norovirus at a kindergarten, a winter ago.
    if let Some(k) = p.school(K::Kindergarten, false) {
        let site = demo.registry.sites[k].clone();
        let c = site.community;
        let cc = p.community_code(c);
        let first = p.seasonal(12, 4, 12, 1);
        let all = p.days(first, after(first, 11), false);
        let school_days = p.days(first, after(first, 11), true);
        let mut parts = Vec::new();
        let n = p.n(15.0);
        parts.push(part(
            Feed::Visits,
            "gi",
            &cc,
            p.spread(&all, n, |_| Injection::Visit {
                community: c,
                kind: Syn::Gi,
                ages: AGES_KINDER,
            }),
        ));
        let n = p.n(30.0);
        parts.push(part(
            Feed::Absence,
            "ill-gi",
            &cc,
            p.spread(&school_days, n, |_| Injection::Absence {
                school: k,
                symptom: "gi",
            }),
        ));
        if let Some(lab) = p.lab(c, false) {
            let n = p.n(5.0);
            parts.push(part(
                Feed::Lab,
                "norovirus",
                &cc,
                p.spread(&all, n, |_| Injection::Lab {
                    lab,
                    community: c,
                    pathogen: "norovirus",
                }),
            ));
        }
        out.push(Planned {
            description: format!(
                "{}（{}）诺如病毒胃肠炎暴发：幼儿胃肠道症状缺勤和就诊、诺如病毒阳性 / \
                 Norovirus outbreak at kindergarten {}: gastrointestinal absences and visits, norovirus positives",
                p.name(&site.code), site.code, site.code
            ),
            parts,
        });
    }

    // 9. Influenza at a school, a spring ago.
    if let Some(school) = p.school(K::School, false) {
        let site = demo.registry.sites[school].clone();
        let c = site.community;
        let cc = p.community_code(c);
        let first = p.seasonal(3, 2, 14, 0);
        let all = p.days(first, after(first, 13), false);
        let school_days = p.days(first, after(first, 13), true);
        let mut parts = Vec::new();
        let n = p.n(60.0);
        parts.push(part(
            Feed::Absence,
            "ill-fever",
            &cc,
            p.spread(&school_days, n, |_| Injection::Absence {
                school,
                symptom: "fever",
            }),
        ));
        let n = p.n(25.0);
        parts.push(part(
            Feed::Visits,
            "ili",
            &cc,
            p.spread(&all, n, |_| Injection::Visit {
                community: c,
                kind: Syn::Ili,
                ages: AGES_SCHOOL,
            }),
        ));
        let n = p.n(10.0);
        parts.push(part(
            Feed::Cases,
            "J11",
            &cc,
            p.spread(&all, n, |_| Injection::Case {
                community: c,
                disease: "J11",
                ages: AGES_SCHOOL,
            }),
        ));
        out.push(Planned {
            description: format!(
                "{}（{}）流感暴发：发热缺课、流感样病例就诊和流感报告 / \
                 Influenza outbreak at school {}: fever absences, ILI visits and influenza reports",
                p.name(&site.code),
                site.code,
                site.code
            ),
            parts,
        });
    }

    // 10. Acute haemorrhagic conjunctivitis at a school, two autumns ago.
    if let Some(school) = p.school(K::School, true) {
        let site = demo.registry.sites[school].clone();
        let c = site.community;
        let cc = p.community_code(c);
        let street = street_of(&cc).to_owned();
        let first = p.seasonal(9, 8, 14, 2);
        let all = p.days(first, after(first, 13), false);
        let school_days = p.days(first, after(first, 13), true);
        let mut parts = Vec::new();
        let n = p.n(35.0);
        parts.push(part(
            Feed::Absence,
            "ill-conjunctivitis",
            &cc,
            p.spread(&school_days, n, |_| Injection::Absence {
                school,
                symptom: "conjunctivitis",
            }),
        ));
        let n = p.n(18.0);
        parts.push(part(
            Feed::Visits,
            "conjunctivitis",
            &cc,
            p.spread(&all, n, |_| Injection::Visit {
                community: c,
                kind: Syn::Conjunctivitis,
                ages: AGES_SCHOOL,
            }),
        ));
        let n = p.n(8.0);
        parts.push(part(
            Feed::Cases,
            "B30.3",
            &cc,
            p.spread(&all, n, |_| Injection::Case {
                community: c,
                disease: "B30.3",
                ages: AGES_SCHOOL,
            }),
        ));
        if let Some(&ph) = p.pharmacies_in(&street).first() {
            let n = p.n(30.0);
            parts.push(part(
                Feed::Pharmacy,
                "eye-drops",
                &street,
                p.spread(&all, n, |_| Injection::Sale {
                    pharmacy: ph,
                    category: "eye-drops",
                }),
            ));
        }
        out.push(Planned {
            description: format!(
                "{}（{}）急性出血性结膜炎暴发：红眼缺课、结膜炎就诊、病例报告和滴眼液销售 / \
                 Acute haemorrhagic conjunctivitis outbreak at school {}: red-eye absences, conjunctivitis visits, case reports and eye-drop sales",
                p.name(&site.code), site.code, site.code
            ),
            parts,
        });
    }

    // 11. Small: a foodborne gastroenteritis cluster of a few days in a community.
    {
        let c = p.community();
        let cc = p.community_code(c);
        let first = p.seasonal(6, 14, 3, 0);
        let all = p.days(first, after(first, 2), false);
        let n = p.n(6.0);
        let parts = vec![part(
            Feed::Visits,
            "gi",
            &cc,
            p.spread(&all, n, |_| Injection::Visit {
                community: c,
                kind: Syn::Gi,
                ages: AGES_ADULT,
            }),
        )];
        out.push(Planned {
            description: format!(
                "{}（{}）聚餐后食源性胃肠炎小聚集（规模小，可能漏检） / Small foodborne gastroenteritis cluster after a banquet in community {cc} (small; may be missed)",
                p.name(&cc), cc
            ),
            parts,
        });
    }

    // 12. Small: mumps at a school.
    if let Some(school) = p.school(K::School, false) {
        let site = demo.registry.sites[school].clone();
        let c = site.community;
        let cc = p.community_code(c);
        let first = p.seasonal(4, 10, 20, 1);
        let all = p.days(first, after(first, 19), false);
        let n = p.n(4.0);
        let parts = vec![part(
            Feed::Cases,
            "B26",
            &cc,
            p.spread(&all, n, |_| Injection::Case {
                community: c,
                disease: "B26",
                ages: AGES_SCHOOL,
            }),
        )];
        out.push(Planned {
            description: format!(
                "{}（{}）流行性腮腺炎小聚集（规模小，可能漏检） / Small mumps cluster at school {} (small; may be missed)",
                p.name(&site.code), site.code, site.code
            ),
            parts,
        });
    }

    // 13. Small: scarlet fever at a kindergarten.
    if let Some(k) = p.school(K::Kindergarten, false) {
        let site = demo.registry.sites[k].clone();
        let c = site.community;
        let cc = p.community_code(c);
        let first = p.seasonal(11, 20, 16, 1);
        let all = p.days(first, after(first, 15), false);
        let school_days = p.days(first, after(first, 15), true);
        let mut parts = Vec::new();
        let n = p.n(3.0);
        parts.push(part(
            Feed::Cases,
            "A38",
            &cc,
            p.spread(&all, n, |_| Injection::Case {
                community: c,
                disease: "A38",
                ages: AGES_KINDER,
            }),
        ));
        let n = p.n(5.0);
        parts.push(part(
            Feed::Absence,
            "ill-rash",
            &cc,
            p.spread(&school_days, n, |_| Injection::Absence {
                school: k,
                symptom: "rash",
            }),
        ));
        out.push(Planned {
            description: format!(
                "{}（{}）猩红热小聚集（规模小，可能漏检） / Small scarlet fever cluster at kindergarten {} (small; may be missed)",
                p.name(&site.code), site.code, site.code
            ),
            parts,
        });
    }

    // 14. Small, live: a gastroenteritis blip in a community.
    {
        let c = p.community();
        let cc = p.community_code(c);
        let all = p.days(p.ago(4), p.ago(2), false);
        let n = p.n(5.0);
        let parts = vec![part(
            Feed::Visits,
            "gi",
            &cc,
            p.spread(&all, n, |_| Injection::Visit {
                community: c,
                kind: Syn::Gi,
                ages: AGES_ALL,
            }),
        )];
        out.push(Planned {
            description: format!(
                "{}（{}）近日胃肠道症状就诊小幅增加（规模小，可能漏检） / A small rise of gastrointestinal visits in community {cc} these last days (small; may be missed)",
                p.name(&cc), cc
            ),
            parts,
        });
    }
    out
}

fn part(feed: Feed, code: &str, area: &str, days: Vec<(NaiveDate, Injection, u32)>) -> Part {
    Part {
        feed,
        code: code.to_owned(),
        area: area.to_owned(),
        days,
    }
}

/// Hands out a demo's records feed by feed, day by day.
struct Batcher<'a> {
    demo: &'a FeedDemo,
    feed: usize,
    day: u64,
    through: NaiveDate,
    pending: Vec<Value>,
}

impl Iterator for Batcher<'_> {
    type Item = FeedBatch;

    fn next(&mut self) -> Option<FeedBatch> {
        loop {
            let feed = *Feed::ALL.get(self.feed)?;
            let done = self.day >= self.demo.days();
            if self.pending.len() >= MAX_BATCH || (done && !self.pending.is_empty()) {
                let n = self.pending.len().min(MAX_BATCH);
                let records: Vec<Value> = self.pending.drain(..n).collect();
                return Some(FeedBatch {
                    feed: feed.name(),
                    records,
                    through: self.through,
                });
            }
            if done {
                self.feed += 1;
                self.day = 0;
                continue;
            }
            let day = self.demo.day(self.day)?;
            self.pending.extend(self.demo.records(feed, day));
            self.through = day;
            self.day += 1;
        }
    }
}
