//! The primary-care stage: family-doctor teams at every 社康, and for the residents already
//! written, the record a family doctor keeps. Diagnoses (hypertension, type-2 diabetes, severe
//! mental disorders, tuberculosis), disability certificates and pregnancies; enrolments in the
//! hypertension and diabetes programs with three years of follow-ups judged by the rules of
//! `hc-care`; contracts with their history (renewals, changes of team, lapses) and the services
//! delivered under them; annual checks of program patients and the elderly health management.
//!
//! Residents are read back in id order, a page at a time, and each one's record is drawn from a
//! ChaCha8 stream of its own (seed, stage and the resident's rank), so the result depends only
//! on the seed, the scale and `today`: not on page or batch sizes. No clock is read: `today` is
//! the last day of the history, and no date generated lies after it.
//!
//! The rates are calibrated on Shenzhen's young population: about 15% of residents are
//! hypertensive and 6% diabetic (prevalence rising with age from 35), 42% of residents and 72%
//! of key-population residents have a contract in force on `today`, and about two thirds of
//! program patients are managed to the standard (≥ 4 face-to-face follow-ups a year and every
//! re-visit within two weeks), 55–65% controlled at the last follow-up of the year.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Months, NaiveDate, TimeDelta};
use hc_care::{
    Adherence, AdverseReaction, Classification, Complication, ContractKind, FollowUp, Package,
    Program, Rules, Salt, TeamRole, Visit, add_months, classify, diagnosis_population, evaluate,
};
use hc_core::model::{InstitutionKind, PractitionerKind, Sex};
use hc_store::{
    CheckRow, ContractServiceRow, DiagnosisRow, DisabilityRow, InstitutionFilter, NewContract,
    NewEnrolment, NewFollowup, NewTeam, Page, PractitionerFilter, PregnancyRow, ResidentFilter,
    Scope, Store, Verdict,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::plan::{CityPlan, reference_date};
use crate::{DemoError, DemoOptions, Stage};

/// Residents read per page (and generated per write round).
const READ_BATCH: u32 = 5_000;
/// Rows per bulk write.
const WRITE_BATCH: usize = 2_000;
/// Residents a family-doctor team serves.
const RESIDENTS_PER_TEAM: f64 = 2_500.0;
/// Who records the demo's care records.
const RECORDED_BY: &str = "demo";

/// Share of residents with a contract in force on `today`.
const CONTRACT_RATE: f64 = 0.42;
/// Share of key-population residents with a contract in force on `today`.
const KEY_CONTRACT_RATE: f64 = 0.73;
/// Share of the residents without a contract today whose last contract lapsed in the history.
const LAPSED_RATE: f64 = 0.15;
/// Share of contracts under a personalised package.
const PERSONALISED_RATE: f64 = 0.15;
/// Share of contracts that deliver the services their package promises.
const FULFILLED_RATE: f64 = 0.85;

/// Type-2 diabetes prevalence relative to hypertension's at the same age.
const DIABETES_RATIO: f64 = 0.4;
/// Severe mental disorder among adults.
const MENTAL_RATE: f64 = 0.0045;
/// Tuberculosis diagnosed during the three years of history (residents 15+).
const TB_RATE: f64 = 0.0026;
/// Days a tuberculosis treatment lasts, at least and at most.
const TB_TREATMENT: (i64, i64) = (180, 240);
/// Pregnancies a year per woman aged 20–40 (≈ 1.2% of all residents a year).
const PREGNANCY_RATE: f64 = 0.0535;
/// Days from registration (weeks 8–13) to delivery, at least and at most.
const PREGNANCY_DAYS: (i64, i64) = (185, 220);
/// Program patients who keep to their treatment and follow-ups.
const ADHERENT_RATE: f64 = 0.69;
/// Program patients lost to follow-up, and overdue by a few weeks, on `today`.
const LOST_RATE: f64 = 0.08;
const OVERDUE_RATE: f64 = 0.05;
/// Annual checks of program patients, and elderly health management, per year.
const ANNUAL_CHECK_RATE: f64 = 0.7;
const ELDERLY_CHECK_RATE: f64 = 0.72;

/// Years of diagnoses before `today`.
const DIAGNOSIS_YEARS: u32 = 12;
/// Months of history (contracts, follow-ups, checks) before `today`.
const HISTORY_MONTHS: u32 = 36;

/// The random stream families of this stage (the plan uses 1–5).
const STREAM_RESIDENT: u64 = 6;

/// Hypertension prevalence by age (years, on `today`): knots of a piecewise-linear curve,
/// calibrated so that a city of Shenzhen's age structure has ≈ 15% hypertensive residents.
const HYPERTENSION_BY_AGE: [(f64, f64); 6] = [
    (35.0, 0.16),
    (45.0, 0.29),
    (55.0, 0.43),
    (65.0, 0.56),
    (75.0, 0.64),
    (85.0, 0.68),
];

const HYPERTENSION_DRUGS: [&str; 6] = [
    "苯磺酸氨氯地平片 5mg 每日一次",
    "缬沙坦胶囊 80mg 每日一次",
    "硝苯地平控释片 30mg 每日一次",
    "厄贝沙坦片 150mg 每日一次",
    "吲达帕胺缓释片 1.5mg 每日一次",
    "酒石酸美托洛尔片 25mg 每日两次",
];
const DIABETES_DRUGS: [&str; 5] = [
    "盐酸二甲双胍片 0.5g 每日三次",
    "格列美脲片 2mg 每日一次",
    "阿卡波糖片 50mg 每日三次",
    "磷酸西格列汀片 100mg 每日一次",
    "甘精胰岛素注射液 12U 每晚一次",
];
const CHECK_FINDINGS: [&str; 6] = [
    "",
    "未见明显异常",
    "血脂偏高",
    "超重",
    "颈动脉斑块",
    "脂肪肝",
];

/// Counts of what the stage wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CareCounts {
    pub teams: u64,
    pub contracts: u64,
    pub enrolments: u64,
    pub followups: u64,
}

/// The random stream of `family` and `index`.
fn rng(seed: u64, family: u64, index: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream((family << 32) | (index & 0xffff_ffff));
    r
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

fn plus_days(d: NaiveDate, n: i64) -> NaiveDate {
    d.checked_add_signed(TimeDelta::days(n)).unwrap_or(d)
}

fn months_before(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_sub_months(Months::new(n)).unwrap_or(d)
}

/// A day drawn uniformly from `from..=to` (`from` when the range is empty).
fn between(rng: &mut impl Rng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days();
    if span <= 0 {
        from
    } else {
        plus_days(from, rng.random_range(0..=span))
    }
}

/// A normal deviate (Box–Muller).
fn normal(rng: &mut impl Rng, mean: f64, sd: f64) -> f64 {
    let u1 = 1.0 - rng.random::<f64>();
    let u2 = rng.random::<f64>();
    mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn clamp_u16(x: f64, lo: u16, hi: u16) -> u16 {
    x.round().clamp(f64::from(lo), f64::from(hi)) as u16
}

fn first_of_year(year: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, 1, 1)
}

fn last_of_year(year: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, 12, 31)
}

// ---------------------------------------------------------------------------------------------
// Probabilities by age (years on `today`), shared by the draws and the key-population estimate.

fn hypertension_rate(age: f64) -> f64 {
    let k = &HYPERTENSION_BY_AGE;
    if age < k[0].0 {
        return 0.0;
    }
    for w in k.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        if age < x1 {
            return y0 + (y1 - y0) * (age - x0) / (x1 - x0);
        }
    }
    k[k.len() - 1].1
}

fn diabetes_rate(age: f64) -> f64 {
    hypertension_rate(age) * DIABETES_RATIO
}

fn disability_rate(age: f64) -> f64 {
    0.008 + 0.0004 * age.clamp(0.0, 100.0)
}

fn mental_rate(age: f64) -> f64 {
    if age >= 18.0 { MENTAL_RATE } else { 0.0 }
}

fn tb_rate(age: f64) -> f64 {
    if age >= 15.0 { TB_RATE } else { 0.0 }
}

fn fertile(age: f64, sex: Sex) -> bool {
    sex == Sex::F && (20.0..41.0).contains(&age)
}

/// The chance that a resident of `age` and `sex` belongs to a key population on `today`
/// (diagnoses, certificates and pregnancies drawn independently, as [`Generator`] does).
fn key_probability(age: f64, sex: Sex) -> f64 {
    if !(7.0..65.0).contains(&age) {
        return 1.0;
    }
    let history_days = f64::from(HISTORY_MONTHS) * 30.44;
    let tb_open = (TB_TREATMENT.0 + TB_TREATMENT.1) as f64 / 2.0 / history_days;
    let mut none = (1.0 - hypertension_rate(age))
        * (1.0 - diabetes_rate(age))
        * (1.0 - disability_rate(age))
        * (1.0 - mental_rate(age))
        * (1.0 - tb_rate(age) * tb_open);
    if fertile(age, sex) {
        let days =
            (PREGNANCY_DAYS.0 + PREGNANCY_DAYS.1) as f64 / 2.0 + hc_care::POSTPARTUM_DAYS as f64;
        none *= 1.0 - PREGNANCY_RATE * days / 365.25;
    }
    1.0 - none
}

/// The expected share of key-population residents in the plan's city on `today`.
fn key_share(plan: &CityPlan, today: NaiveDate) -> f64 {
    let shift = (today - reference_date()).num_days() as f64 / 365.25;
    let (mut total, mut key) = (0.0, 0.0);
    for d in &plan.districts {
        for c in &d.cells {
            let n = c.count as f64;
            if n == 0.0 {
                continue;
            }
            let lo = f64::from(c.cell.age_lo);
            let hi = f64::from(c.cell.age_hi.min(100)) + 1.0;
            const STEPS: u32 = 24;
            let mean = (0..STEPS)
                .map(|k| {
                    let age = lo + (hi - lo) * (f64::from(k) + 0.5) / f64::from(STEPS) + shift;
                    key_probability(age, c.cell.sex)
                })
                .sum::<f64>()
                / f64::from(STEPS);
            key += n * mean;
            total += n;
        }
    }
    if total > 0.0 { key / total } else { 0.0 }
}

// ---------------------------------------------------------------------------------------------
// Teams.

/// A team as the generator uses it.
#[derive(Debug, Clone)]
struct Team {
    id: i64,
    lead: Option<i64>,
    nurse: Option<i64>,
}

/// Every team, and the teams of each street and district.
#[derive(Debug, Default)]
struct Teams {
    list: Vec<Team>,
    all: Vec<usize>,
    by_street: HashMap<String, Vec<usize>>,
    by_district: HashMap<String, Vec<usize>>,
}

impl Teams {
    /// The teams a resident of `community` may sign with: their street's, else their
    /// district's, else any.
    fn candidates(&self, community: &str) -> &[usize] {
        let street = community.get(..9).unwrap_or(community);
        let district = community.get(..6).unwrap_or(community);
        self.by_street
            .get(street)
            .or_else(|| self.by_district.get(district))
            .map_or(&self.all[..], |v| &v[..])
    }

    fn pick(&self, community: &str, rng: &mut impl Rng) -> usize {
        let c = self.candidates(community);
        c[rng.random_range(0..c.len())]
    }

    /// Another team near `community` than `team`, if there is one.
    fn other(&self, community: &str, team: usize, rng: &mut impl Rng) -> Option<usize> {
        let district = community.get(..6).unwrap_or(community);
        for c in [
            self.candidates(community),
            self.by_district.get(district).map_or(&[][..], |v| &v[..]),
        ] {
            let others: Vec<usize> = c.iter().copied().filter(|t| *t != team).collect();
            if !others.is_empty() {
                return Some(others[rng.random_range(0..others.len())]);
            }
        }
        None
    }
}

/// Every page of a paged listing.
macro_rules! all_pages {
    ($call:expr) => {{
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let page = $call(Page {
                after,
                limit: 1_000,
            })
            .await?;
            out.extend(page.items);
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        out
    }};
}

/// Creates the teams of every 社康: one per ≈ 2,500 residents it serves (its street's share,
/// or its district's share of the streets without a 社康), led by a GP.
async fn make_teams(store: &Store, plan: &CityPlan) -> Result<Teams, DemoError> {
    let city = Scope::city();
    let mut sites = Vec::new();
    for kind in [InstitutionKind::Chc, InstitutionKind::Chs] {
        let filter = InstitutionFilter {
            kind: Some(kind),
            ..Default::default()
        };
        sites.extend(all_pages!(|p| store.institutions(&filter, p, &city)));
    }
    sites.sort_by_key(|s| s.id);
    let street_of = |c: &str| c.get(..9).unwrap_or(c).to_owned();
    let district_of = |c: &str| c.get(..6).unwrap_or(c).to_owned();

    // Residents each 社康 serves.
    let mut sites_in_street: HashMap<String, u32> = HashMap::new();
    let mut sites_in_district: HashMap<String, u32> = HashMap::new();
    for s in &sites {
        *sites_in_street
            .entry(street_of(&s.record.community_code))
            .or_default() += 1;
        *sites_in_district
            .entry(district_of(&s.record.community_code))
            .or_default() += 1;
    }
    let mut street_pop: BTreeMap<String, f64> = BTreeMap::new();
    for d in &plan.districts {
        for (code, n) in d.expected_residents() {
            *street_pop.entry(street_of(code)).or_default() += n;
        }
    }
    let mut served_by_street: BTreeMap<String, f64> = BTreeMap::new();
    let mut served_by_district: BTreeMap<String, f64> = BTreeMap::new();
    for (street, pop) in &street_pop {
        match sites_in_street.get(street) {
            Some(n) => *served_by_street.entry(street.clone()).or_default() += pop / f64::from(*n),
            None => {
                let district = district_of(street);
                let n = sites_in_district.get(&district).copied().unwrap_or(0);
                if n > 0 {
                    *served_by_district.entry(district).or_default() += pop / f64::from(n);
                }
            }
        }
    }

    // Public-health physicians of each district's CDCs.
    let filter = InstitutionFilter {
        kind: Some(InstitutionKind::Cdc),
        ..Default::default()
    };
    let cdcs = all_pages!(|p| store.institutions(&filter, p, &city));
    let mut public_health: HashMap<String, Vec<i64>> = HashMap::new();
    for cdc in &cdcs {
        let filter = PractitionerFilter {
            kind: Some(PractitionerKind::PublicHealth),
            institution_code: Some(cdc.record.code.clone()),
            ..Default::default()
        };
        let staff = all_pages!(|p| store.practitioners(&filter, p, &city));
        public_health
            .entry(district_of(&cdc.record.community_code))
            .or_default()
            .extend(staff.iter().map(|s| s.id));
    }
    let mut ph_next: HashMap<String, usize> = HashMap::new();

    let mut teams = Teams::default();
    for s in &sites {
        let inst = &s.record;
        let street = street_of(&inst.community_code);
        let district = district_of(&inst.community_code);
        let served = served_by_street.get(&street).copied().unwrap_or(0.0)
            + served_by_district.get(&district).copied().unwrap_or(0.0);
        let n = ((served / RESIDENTS_PER_TEAM).round() as u32).max(1);
        let filter = PractitionerFilter {
            institution_code: Some(inst.code.clone()),
            ..Default::default()
        };
        let staff = all_pages!(|p| store.practitioners(&filter, p, &city));
        let of = |k: PractitionerKind| -> Vec<i64> {
            staff
                .iter()
                .filter(|p| p.record.kind == k)
                .map(|p| p.id)
                .collect()
        };
        let gps = of(PractitionerKind::Gp);
        let nurses = of(PractitionerKind::Nurse);
        let leads: Vec<i64> = if gps.is_empty() {
            staff.iter().map(|p| p.id).collect()
        } else {
            gps
        };
        let phs = public_health.get(&district).map_or(&[][..], |v| &v[..]);
        for k in 1..=n {
            let i = (k - 1) as usize;
            let mut members: Vec<(i64, String)> = Vec::new();
            let lead = (!leads.is_empty()).then(|| leads[i % leads.len()]);
            let nurse = (!nurses.is_empty())
                .then(|| nurses[i % nurses.len()])
                .filter(|n| Some(*n) != lead);
            if let Some(l) = lead {
                members.push((l, TeamRole::GpLead.as_str().to_owned()));
            }
            if let Some(x) = nurse {
                members.push((x, TeamRole::Nurse.as_str().to_owned()));
            }
            if !phs.is_empty() {
                let next = ph_next.entry(district.clone()).or_default();
                members.push((
                    phs[*next % phs.len()],
                    TeamRole::PublicHealth.as_str().to_owned(),
                ));
                *next += 1;
            }
            let id = store
                .insert_team(&NewTeam {
                    code: format!("{}-T{k}", inst.code),
                    name: format!("{} 第{}团队", inst.name, crate::names::numeral(k)),
                    institution_code: inst.code.clone(),
                    members,
                })
                .await?;
            let index = teams.list.len();
            teams.list.push(Team { id, lead, nurse });
            teams.all.push(index);
            teams
                .by_street
                .entry(street.clone())
                .or_default()
                .push(index);
            teams
                .by_district
                .entry(district.clone())
                .or_default()
                .push(index);
        }
    }
    if teams.list.is_empty() {
        return Err(DemoError::Data("the city has no 社康 to form teams".into()));
    }
    Ok(teams)
}

// ---------------------------------------------------------------------------------------------
// One resident's record.

/// A resident as read back.
struct Person {
    id: i64,
    birth: NaiveDate,
    sex: Sex,
    community: String,
    id_number: String,
}

/// A contract before it has an id.
#[derive(Debug, Clone)]
struct ContractDraft {
    team: usize,
    package: Package,
    kind: ContractKind,
    /// Continues or replaces the contract before it in the chain.
    linked: bool,
    start: NaiveDate,
    end: NaiveDate,
    ended_on: Option<NaiveDate>,
    services: Vec<(&'static str, NaiveDate, Option<i64>)>,
}

/// A program and its follow-ups, judged.
struct ProgramDraft {
    program: Program,
    /// Index of its diagnosis in [`Care::diagnoses`].
    diagnosis: usize,
    enrolled: NaiveDate,
    visits: Vec<(FollowUp, Verdict)>,
}

/// Everything generated for one resident.
#[derive(Default)]
struct Care {
    /// (ICD-10 code, diagnosed on, resolved on).
    diagnoses: Vec<(&'static str, NaiveDate, Option<NaiveDate>)>,
    programs: Vec<ProgramDraft>,
    pregnancies: Vec<(NaiveDate, Option<NaiveDate>)>,
    disability: Option<(String, NaiveDate)>,
    /// Oldest first.
    contracts: Vec<ContractDraft>,
    checks: Vec<CheckDraft>,
}

/// A health check before it is written.
struct CheckDraft {
    kind: &'static str,
    date: NaiveDate,
    self_care_score: Option<i32>,
    findings: &'static str,
    practitioner: Option<i64>,
}

/// How a program patient keeps to the schedule; the same in both programs.
struct Habits {
    /// Takes the treatment and the follow-ups seriously.
    adherent: bool,
    /// Days between routine follow-ups: mean, spread, least and most.
    interval: (f64, f64, f64, f64),
    /// Chance of coming back within two weeks when the rules ask.
    compliance: f64,
    /// Chance that a routine follow-up is by telephone or video.
    remote: f64,
    /// No follow-up after this day (lost, or overdue).
    stop: NaiveDate,
    height: f64,
    weight: f64,
    cigarettes: u16,
    drinks: u16,
    exercise: u16,
    salt: Salt,
    /// Has a known, stable complication.
    complication: bool,
}

/// Where a patient stands in one program.
struct Condition {
    program: Program,
    controlled: bool,
    /// The patient's usual systolic and diastolic pressure and fasting glucose.
    sbp: f64,
    dbp: f64,
    fpg: f64,
    /// How much each re-visit in a row lowers them (the treatment adjusted).
    better: (f64, f64, f64),
    medication: String,
}

/// When a follow-up takes place.
#[derive(Debug, Clone, Copy)]
struct Slot {
    date: NaiveDate,
    /// Place in a chain of re-visits (0: a routine visit).
    revisit: u32,
    /// In the first two months after diagnosis, before the treatment works.
    initial: bool,
}

/// The stage's fixed inputs.
struct Generator<'a> {
    seed: u64,
    today: NaiveDate,
    /// First day of the history.
    start: NaiveDate,
    /// Earliest enrolment date recorded (the first of January of the history's first year).
    enrol_floor: NaiveDate,
    rules: Rules,
    teams: &'a Teams,
    /// Contract probability of residents outside the key populations.
    other_rate: f64,
}

impl Generator<'_> {
    /// The record of the resident of rank `index` (in id order).
    fn resident(&self, index: u64, p: &Person) -> Care {
        let mut care = Care::default();
        let today = self.today;
        if p.birth > today {
            return care;
        }
        let r = &mut rng(self.seed, STREAM_RESIDENT, index);
        let age_years = today.years_since(p.birth).unwrap_or(0);
        let age = (today - p.birth).num_days() as f64 / 365.25;
        let home = self.teams.pick(&p.community, r);
        let team = &self.teams.list[home];
        let mut key = !(hc_care::CHILD_BELOW_AGE..hc_care::ELDERLY_FROM_AGE).contains(&age_years);

        // Diagnoses: hypertension and diabetes from 35, over the last twelve years.
        let from35 = add_months(p.birth, 35 * 12);
        let dx_from = months_before(today, DIAGNOSIS_YEARS * 12).max(from35);
        let mut programs = Vec::new();
        for (program, code, rate) in [
            (Program::Hypertension, "I10", hypertension_rate(age)),
            (Program::Diabetes, "E11.9", diabetes_rate(age)),
        ] {
            if age_years >= 35 && r.random_bool(rate) {
                let on = between(r, dx_from, today);
                programs.push((program, care.diagnoses.len()));
                care.diagnoses.push((code, on, None));
                key = true;
            }
        }
        if r.random_bool(mental_rate(age)) {
            let from = add_months(p.birth, 16 * 12).max(months_before(today, 240));
            care.diagnoses.push(("F20", between(r, from, today), None));
            key = true;
        }
        if r.random_bool(tb_rate(age)) {
            let on = between(r, self.start.max(add_months(p.birth, 15 * 12)), today);
            let cured = plus_days(on, r.random_range(TB_TREATMENT.0..=TB_TREATMENT.1));
            let resolved = (cured <= today).then_some(cured);
            key |= resolved.is_none();
            care.diagnoses.push(("A15", on, resolved));
        }
        if r.random_bool(disability_rate(age)) {
            let on = between(
                r,
                p.birth.max(months_before(today, 240)),
                plus_days(today, -30),
            );
            if on >= p.birth {
                let category = r.random_range(1..=7);
                let level = r.random_range(1..=4);
                care.disability = Some((format!("{}{category}{level}", p.id_number), on));
                key = true;
            }
        }
        if fertile(age, p.sex) {
            key |= self.pregnancies(r, p, &mut care);
        }

        care.contracts = self.contracts(r, p, home, key, !programs.is_empty());

        // Programs: enrolled on diagnosis (or the first day on record), followed up since.
        if !programs.is_empty() {
            let habits = self.habits(r, p);
            for (program, dx) in programs {
                let diagnosed = care.diagnoses[dx].1;
                let enrolled = diagnosed.max(self.enrol_floor);
                let condition = self.condition(r, program, &habits);
                let visits = self.followups(r, p, &habits, &condition, enrolled, team);
                care.programs.push(ProgramDraft {
                    program,
                    diagnosis: dx,
                    enrolled,
                    visits,
                });
            }
            // The annual check of program patients.
            let enrolled = care.programs.iter().map(|x| x.enrolled).min();
            if let Some(enrolled) = enrolled {
                self.checks(r, &mut care, "annual", enrolled, ANNUAL_CHECK_RATE, team);
            }
        }
        // The elderly health management, from 65.
        let turned65 = add_months(p.birth, hc_care::ELDERLY_FROM_AGE * 12);
        if turned65 <= today {
            self.checks(r, &mut care, "elderly", turned65, ELDERLY_CHECK_RATE, team);
        }
        care
    }

    /// Pregnancies of a woman of 20–40 during the history (and the months before it, so that
    /// some are under way when it starts); whether one is under way or ended within 42 days.
    fn pregnancies(&self, r: &mut ChaCha8Rng, p: &Person, care: &mut Care) -> bool {
        let today = self.today;
        let earliest = add_months(p.birth, 18 * 12).max(plus_days(self.start, -PREGNANCY_DAYS.1));
        let mut t = earliest;
        let per_day = PREGNANCY_RATE / 365.25;
        let mut current = false;
        loop {
            let wait = -(1.0 - r.random::<f64>()).ln() / per_day;
            if wait > 5_000.0 {
                break;
            }
            t = plus_days(t, wait as i64);
            if t > today {
                break;
            }
            let end = plus_days(t, r.random_range(PREGNANCY_DAYS.0..=PREGNANCY_DAYS.1));
            let ended = (end <= today).then_some(end);
            current |= end > plus_days(today, -hc_care::POSTPARTUM_DAYS);
            care.pregnancies.push((t, ended));
            // A year at least before the next.
            t = plus_days(end, 365);
        }
        current
    }

    /// The resident's contracts, oldest first: in force on `today` with the probability of
    /// their group, with the history behind it (renewals, changes of team, lapses); or, for
    /// some without one today, a contract that lapsed.
    fn contracts(
        &self,
        r: &mut ChaCha8Rng,
        p: &Person,
        home: usize,
        key: bool,
        patient: bool,
    ) -> Vec<ContractDraft> {
        let today = self.today;
        let current = r.random_bool(if key {
            KEY_CONTRACT_RATE
        } else {
            self.other_rate
        });
        let lapsed = !current && r.random_bool(LAPSED_RATE);
        if !current && !lapsed {
            return Vec::new();
        }
        let mut start = if current {
            between(r, plus_days(today, -359), today).max(p.birth)
        } else {
            between(r, plus_days(today, -1_000), plus_days(today, -370))
        };
        if start < p.birth {
            return Vec::new();
        }
        let package = if r.random_bool(PERSONALISED_RATE) {
            Package::Personalised
        } else {
            Package::Basic
        };
        let draft = |team, start| ContractDraft {
            team,
            package,
            kind: ContractKind::New,
            linked: false,
            start,
            end: start,
            ended_on: None,
            services: Vec::new(),
        };
        // Newest first, going back.
        let mut back: Vec<ContractDraft> = Vec::new();
        let mut team = home;
        let mut ended_on = None;
        loop {
            let mut d = draft(team, start);
            d.ended_on = ended_on.take();
            if start <= self.start {
                back.push(d);
                break;
            }
            let x: f64 = r.random();
            let previous = if x < 0.80 {
                Some((months_before(start, 12), team, ContractKind::Renewal))
            } else if x < 0.86 && current {
                self.teams.other(&p.community, team, r).map(|other| {
                    ended_on = Some(start);
                    (
                        plus_days(start, -r.random_range(60..=330)),
                        other,
                        ContractKind::Change,
                    )
                })
            } else if x < 0.93 {
                let gap = r.random_range(15..=240);
                Some((
                    months_before(plus_days(start, -gap), 12),
                    team,
                    ContractKind::New,
                ))
            } else {
                None
            };
            let Some((prev_start, prev_team, kind)) = previous.filter(|x| x.0 >= p.birth) else {
                back.push(d);
                break;
            };
            d.kind = kind;
            d.linked = kind != ContractKind::New;
            back.push(d);
            start = prev_start;
            team = prev_team;
        }
        back.reverse();
        let mut chain = back;
        for i in 0..chain.len() {
            if i > 0 && chain[i].kind == ContractKind::Renewal {
                chain[i].start = chain[i - 1].end;
            }
            chain[i].end = add_months(chain[i].start, 12);
        }
        for c in &mut chain {
            let t = &self.teams.list[c.team];
            let (lead, nurse) = (t.lead, t.nurse.or(t.lead));
            let last = c.ended_on.unwrap_or(c.end).min(c.end);
            let last = plus_days(last, -1).min(today);
            let fulfilled = r.random_bool(FULFILLED_RATE);
            let n = match (c.package, fulfilled) {
                (Package::Basic, true) => r.random_range(2..=5),
                (Package::Basic, false) => r.random_range(0..=1),
                (Package::Personalised, true) => r.random_range(4..=7),
                (Package::Personalised, false) => r.random_range(1..=3),
            };
            for k in 0..n {
                let (service, on) = if k == 0 {
                    (
                        "health_assessment",
                        plus_days(c.start, r.random_range(0..=20)),
                    )
                } else {
                    let x: f64 = r.random();
                    let service = if x < 0.35 {
                        if patient {
                            "followup"
                        } else {
                            "health_education"
                        }
                    } else if x < 0.55 {
                        "home_visit"
                    } else if x < 0.85 {
                        "health_education"
                    } else {
                        "health_assessment"
                    };
                    // The second soon after signing, the rest over the year.
                    let days = if k == 1 { 20..=75 } else { 60..=350 };
                    (service, plus_days(c.start, r.random_range(days)))
                };
                if on <= last {
                    let by = if r.random_bool(0.6) { lead } else { nurse };
                    c.services.push((service, on, by));
                }
            }
            c.services.sort_by_key(|s| s.1);
        }
        chain
    }

    /// A program patient's habits: adherent patients come every 2–3 months, come back when
    /// asked and are mostly controlled; the others come irregularly, rarely come back within
    /// two weeks, and are mostly not.
    fn habits(&self, r: &mut ChaCha8Rng, p: &Person) -> Habits {
        let today = self.today;
        let adherent = r.random_bool(ADHERENT_RATE);
        let (interval, compliance, remote) = if adherent {
            ((71.0, 6.0, 60.0, 84.0), 0.985, 0.08)
        } else {
            ((100.0, 25.0, 65.0, 170.0), 0.35, 0.3)
        };
        let y: f64 = r.random();
        let stop = if y < LOST_RATE {
            months_before(today, r.random_range(4..=10))
        } else if y < LOST_RATE + OVERDUE_RATE {
            plus_days(today, -r.random_range(100..=125))
        } else {
            today
        };
        let male = p.sex == Sex::M;
        let height = if male {
            normal(r, 169.0, 6.0)
        } else {
            normal(r, 158.0, 5.5)
        };
        let bmi = normal(r, 24.8, 3.0).clamp(17.0, 38.0);
        let smoker = r.random_bool(if male { 0.4 } else { 0.03 });
        Habits {
            adherent,
            interval,
            compliance,
            remote,
            stop,
            height: round1(height),
            weight: bmi * (height / 100.0).powi(2),
            cigarettes: if smoker { r.random_range(5..=25) } else { 0 },
            drinks: if male && r.random_bool(0.25) {
                r.random_range(1..=4)
            } else {
                0
            },
            exercise: r.random_range(0..=7),
            salt: match r.random_range(0..10) {
                0..=3 => Salt::Light,
                4..=7 => Salt::Moderate,
                _ => Salt::Heavy,
            },
            complication: r.random_bool(0.12),
        }
    }

    fn condition(&self, r: &mut ChaCha8Rng, program: Program, h: &Habits) -> Condition {
        let controlled = h.adherent && r.random_bool(0.95);
        let (sbp, dbp, fpg, better) = if controlled {
            (
                normal(r, 127.0, 5.0),
                normal(r, 79.0, 4.0),
                normal(r, 6.2, 0.3),
                (9.0, 5.0, 0.9),
            )
        } else {
            (
                normal(r, 155.0, 7.0),
                normal(r, 97.0, 5.0),
                normal(r, 9.0, 0.9),
                (3.0, 2.0, 0.3),
            )
        };
        let drugs: &[&str] = match program {
            Program::Hypertension => &HYPERTENSION_DRUGS,
            Program::Diabetes => &DIABETES_DRUGS,
        };
        let first = r.random_range(0..drugs.len());
        let mut medication = drugs[first].to_owned();
        if r.random_bool(0.35) {
            let second = (first + r.random_range(1..drugs.len())) % drugs.len();
            medication.push('\n');
            medication.push_str(drugs[second]);
        }
        Condition {
            program,
            controlled,
            sbp,
            dbp,
            fpg,
            better,
            medication,
        }
    }

    /// Whether the rules ask for another visit within two weeks after `v`.
    fn needs_revisit(&self, program: Program, v: &Visit) -> bool {
        let rules = &self.rules;
        classify(program, rules, v) != Classification::Satisfied
            || v.danger_sign
            || v.sbp.is_some_and(|s| s >= rules.danger_sbp_at_least)
            || v.dbp.is_some_and(|d| d >= rules.danger_dbp_at_least)
            || (program == Program::Diabetes
                && v.fpg.is_some_and(|g| {
                    g >= rules.danger_fpg_at_least || g <= rules.danger_fpg_at_most
                }))
    }

    /// One follow-up form.
    fn form(
        &self,
        r: &mut ChaCha8Rng,
        at: Slot,
        h: &Habits,
        c: &Condition,
        team: &Team,
    ) -> FollowUp {
        let k = f64::from(at.revisit);
        // Until the treatment works, a routine visit finds the pressure (or glucose) of an
        // untreated patient; re-visits find it adjusted.
        let (sbp, dbp, fpg) = if at.initial && at.revisit == 0 {
            (c.sbp.max(152.0), c.dbp.max(95.0), c.fpg.max(8.5))
        } else {
            (
                c.sbp - c.better.0 * k,
                c.dbp - c.better.1 * k,
                c.fpg - c.better.2 * k,
            )
        };
        let face_to_face = at.revisit > 0 || !r.random_bool(h.remote);
        let sbp = clamp_u16(normal(r, sbp, 8.0), 90, 230);
        let dbp = clamp_u16(normal(r, dbp, 5.0), 50, 135).min(sbp - 20);
        let fpg =
            (c.program == Program::Diabetes).then(|| round1(normal(r, fpg, 0.5).clamp(3.0, 30.0)));
        let danger_sign = r.random_bool(0.0015);
        let adverse_reaction = match r.random::<f64>() {
            x if x < 0.0015 => AdverseReaction::Uncontrollable,
            x if x < 0.012 => AdverseReaction::Controlled,
            _ => AdverseReaction::None,
        };
        let complication = match r.random::<f64>() {
            x if x < 0.003 => Complication::New,
            x if x < 0.005 && h.complication => Complication::Worse,
            _ if h.complication => Complication::Stable,
            _ => Complication::None,
        };
        let adherence = match (c.controlled, r.random::<f64>()) {
            (true, x) if x < 0.92 => Adherence::Regular,
            (false, x) if x < 0.55 => Adherence::Regular,
            (_, x) if x < 0.95 => Adherence::Intermittent,
            _ => Adherence::None,
        };
        let symptoms = if danger_sign {
            match c.program {
                Program::Hypertension => "剧烈头痛;恶心呕吐",
                Program::Diabetes => "意识改变;呼气有烂苹果味",
            }
        } else if !c.controlled && r.random_bool(0.2) {
            match c.program {
                Program::Hypertension => "头痛头晕",
                Program::Diabetes => "多饮;多尿",
            }
        } else {
            ""
        };
        FollowUp {
            face_to_face,
            sbp: Some(sbp),
            dbp: Some(dbp),
            fpg,
            heart_rate: Some(clamp_u16(normal(r, 75.0, 8.0), 50, 130)),
            weight_kg: Some(round1(h.weight + normal(r, 0.0, 0.8))),
            height_cm: Some(h.height),
            symptoms: symptoms.to_owned(),
            danger_sign,
            smoking_per_day: Some(h.cigarettes),
            drinking_per_day: Some(h.drinks),
            exercise_per_week: Some(h.exercise),
            salt: Some(if r.random_bool(0.9) {
                h.salt
            } else {
                Salt::Moderate
            }),
            adherence: Some(adherence),
            adverse_reaction,
            complication,
            medication: c.medication.clone(),
            practitioner_id: if face_to_face || team.nurse.is_none() {
                team.lead
            } else {
                team.nurse
            },
            ..FollowUp::new(at.date)
        }
    }

    /// Follow-ups from the later of the history's start and enrolment up to `today` (or the
    /// day the patient stopped coming), judged by the rules: routine visits every few months,
    /// and re-visits within two weeks when the rules ask and the patient complies.
    fn followups(
        &self,
        r: &mut ChaCha8Rng,
        p: &Person,
        h: &Habits,
        c: &Condition,
        enrolled: NaiveDate,
        team: &Team,
    ) -> Vec<(FollowUp, Verdict)> {
        // A patient enrolled since stopping was not lost before enrolling.
        let stop = if h.stop < plus_days(enrolled, 60) {
            self.today
        } else {
            h.stop
        };
        let (mean, sd, lo, hi) = h.interval;
        let interval = |r: &mut ChaCha8Rng| normal(r, mean, sd).clamp(lo, hi).round() as i64;
        let new_patient = enrolled >= self.start;
        // Newly diagnosed patients are seen monthly for six months while the treatment is
        // adjusted; it works from the third month.
        let treated_from = plus_days(enrolled, 60);
        let monthly_until = plus_days(enrolled, 180);
        let mut t = if new_patient {
            enrolled
        } else {
            plus_days(self.start, r.random_range(0..mean as i64))
        };
        let mut forms: Vec<FollowUp> = Vec::new();
        let mut chain = 0;
        let mut next_routine = t;
        while t <= stop {
            let at = Slot {
                date: t,
                revisit: chain,
                initial: new_patient && t < treated_from,
            };
            let f = self.form(r, at, h, c, team);
            if chain == 0 {
                // After a call, an adherent patient comes in person within six weeks.
                next_routine =
                    if (new_patient && t < monthly_until) || (h.adherent && !f.face_to_face) {
                        plus_days(t, r.random_range(26..=42))
                    } else {
                        plus_days(t, interval(r))
                    };
            }
            let needs = self.needs_revisit(c.program, &f.visit(p.birth));
            forms.push(f);
            if needs && chain < 4 && r.random_bool(h.compliance) {
                chain += 1;
                t = plus_days(t, r.random_range(5..=14));
            } else {
                chain = 0;
                t = next_routine.max(plus_days(t, 15));
            }
        }
        let visits: Vec<Visit> = forms.iter().map(|f| f.visit(p.birth)).collect();
        let outcomes = evaluate(c.program, &self.rules, &visits);
        forms
            .into_iter()
            .zip(outcomes)
            .map(|(f, o)| {
                let verdict = Verdict {
                    classification: o.classification.as_str().to_owned(),
                    action: o.action.as_str().to_owned(),
                    next_due: o.next_due,
                    rules_version: self.rules.version.clone(),
                };
                (f, verdict)
            })
            .collect()
    }

    /// Checks of `kind` in each year of the history from `from`, with chance `rate` a full year.
    fn checks(
        &self,
        r: &mut ChaCha8Rng,
        care: &mut Care,
        kind: &'static str,
        from: NaiveDate,
        rate: f64,
        team: &Team,
    ) {
        let first = from.max(self.start);
        for year in first.year()..=self.today.year() {
            let (Some(jan1), Some(dec31)) = (first_of_year(year), last_of_year(year)) else {
                continue;
            };
            let lo = jan1.max(first);
            let hi = dec31.min(self.today);
            if hi < lo {
                continue;
            }
            let share = ((hi - lo).num_days() + 1) as f64 / 330.0;
            if !r.random_bool((rate * share).min(rate)) {
                continue;
            }
            let on = between(r, lo, hi);
            let score = (kind == "elderly").then(|| match r.random::<f64>() {
                x if x < 0.8 => 0,
                x if x < 0.92 => r.random_range(1..=3),
                x if x < 0.98 => r.random_range(4..=8),
                _ => r.random_range(9..=18),
            });
            let findings = CHECK_FINDINGS[r.random_range(0..CHECK_FINDINGS.len())];
            care.checks.push(CheckDraft {
                kind,
                date: on,
                self_care_score: score,
                findings,
                practitioner: team.lead,
            });
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Writing.

/// Inserts `$rows` with `$store.$method`, at most [`WRITE_BATCH`] a call; the ids in order.
macro_rules! insert_all {
    ($store:expr, $method:ident, $rows:expr) => {{
        let rows = $rows;
        let mut ids: Vec<i64> = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(WRITE_BATCH) {
            ids.extend($store.$method(chunk).await?);
        }
        ids
    }};
}

/// Writes the records of one page of residents.
async fn write(
    store: &Store,
    people: &[Person],
    mut cares: Vec<Care>,
    teams: &Teams,
    counts: &mut CareCounts,
) -> Result<(), DemoError> {
    // Diagnoses, then the enrolments that come from them, then their follow-ups.
    let mut rows = Vec::new();
    for (p, c) in people.iter().zip(&cares) {
        for (code, on, resolved) in &c.diagnoses {
            rows.push(DiagnosisRow {
                id: 0,
                resident_id: p.id,
                code: (*code).to_owned(),
                population: diagnosis_population(code).map(|x| x.as_str().to_owned()),
                diagnosed_on: *on,
                resolved_on: *resolved,
            });
        }
    }
    let dx_ids = insert_all!(store, insert_diagnoses_bulk, &rows);
    let mut enrolments = Vec::new();
    let mut base = 0;
    for (p, c) in people.iter().zip(&cares) {
        for x in &c.programs {
            enrolments.push(NewEnrolment {
                resident_id: p.id,
                program: x.program.as_str().to_owned(),
                enrolled_on: x.enrolled,
                diagnosis_id: dx_ids.get(base + x.diagnosis).copied(),
            });
        }
        base += c.diagnoses.len();
    }
    let enrolment_ids = insert_all!(store, insert_enrolments_bulk, &enrolments);
    counts.enrolments += enrolment_ids.len() as u64;

    let mut followups = Vec::new();
    let mut ids = enrolment_ids.iter();
    for c in &mut cares {
        for x in &mut c.programs {
            let Some(&enrolment_id) = ids.next() else {
                break;
            };
            for (form, verdict) in x.visits.drain(..) {
                followups.push(NewFollowup {
                    enrolment_id,
                    form,
                    verdict,
                    recorded_by: RECORDED_BY.to_owned(),
                });
                if followups.len() == WRITE_BATCH {
                    counts.followups += store.insert_followups_bulk(&followups).await?.len() as u64;
                    followups.clear();
                }
            }
        }
    }
    if !followups.is_empty() {
        counts.followups += store.insert_followups_bulk(&followups).await?.len() as u64;
    }

    let mut pregnancies = Vec::new();
    let mut disabilities = Vec::new();
    let mut checks = Vec::new();
    for (p, c) in people.iter().zip(&cares) {
        for (registered_on, ended_on) in &c.pregnancies {
            pregnancies.push(PregnancyRow {
                id: 0,
                resident_id: p.id,
                registered_on: *registered_on,
                ended_on: *ended_on,
            });
        }
        if let Some((no, on)) = &c.disability {
            disabilities.push(DisabilityRow {
                resident_id: p.id,
                certificate_no: Some(no.clone()),
                registered_on: *on,
            });
        }
        for x in &c.checks {
            checks.push(CheckRow {
                id: 0,
                resident_id: p.id,
                kind: x.kind.to_owned(),
                check_date: x.date,
                self_care_score: x.self_care_score,
                findings: x.findings.to_owned(),
                practitioner_id: x.practitioner,
            });
        }
    }
    insert_all!(store, insert_pregnancies_bulk, &pregnancies);
    insert_all!(store, insert_disabilities_bulk, &disabilities);
    insert_all!(store, insert_checks_bulk, &checks);

    // Contracts, a link of the chains at a time so each names a previous one already written.
    let mut contract_ids: Vec<Vec<i64>> = vec![Vec::new(); cares.len()];
    let longest = cares.iter().map(|c| c.contracts.len()).max().unwrap_or(0);
    for level in 0..longest {
        let mut rows = Vec::new();
        let mut owners = Vec::new();
        for (i, (p, c)) in people.iter().zip(&cares).enumerate() {
            let Some(d) = c.contracts.get(level) else {
                continue;
            };
            rows.push(NewContract {
                resident_id: p.id,
                team_id: teams.list[d.team].id,
                package: d.package.as_str().to_owned(),
                kind: d.kind.as_str().to_owned(),
                previous_id: if d.linked {
                    contract_ids[i].last().copied()
                } else {
                    None
                },
                start_date: d.start,
                end_date: d.end,
                ended_on: d.ended_on,
                end_reason: d.ended_on.map(|_| "改签".to_owned()),
                created_by: RECORDED_BY.to_owned(),
            });
            owners.push(i);
        }
        let ids = insert_all!(store, insert_contracts_bulk, &rows);
        for (i, id) in owners.into_iter().zip(ids) {
            contract_ids[i].push(id);
        }
    }
    let mut services = Vec::new();
    for (c, ids) in cares.iter().zip(&contract_ids) {
        counts.contracts += ids.len() as u64;
        for (d, id) in c.contracts.iter().zip(ids) {
            for (service, on, by) in &d.services {
                services.push(ContractServiceRow {
                    id: 0,
                    contract_id: *id,
                    service: (*service).to_owned(),
                    delivered_on: *on,
                    practitioner_id: *by,
                    note: None,
                });
            }
        }
    }
    insert_all!(store, insert_services_bulk, &services);
    Ok(())
}

/// Runs the stage: teams, then every resident's record, a page at a time.
pub(crate) async fn build_care(
    store: &Store,
    plan: &CityPlan,
    opts: &DemoOptions,
    progress: &(dyn Fn(Stage, u64, u64) + Sync),
) -> Result<CareCounts, DemoError> {
    let total = plan.resident_count();
    progress(Stage::Care, 0, total);
    let teams = make_teams(store, plan).await?;
    let today = opts.today;
    let start = months_before(today, HISTORY_MONTHS);
    let share = key_share(plan, today);
    let other_rate = if share < 1.0 {
        ((CONTRACT_RATE - KEY_CONTRACT_RATE * share) / (1.0 - share)).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let generator = Generator {
        seed: opts.seed,
        today,
        start,
        enrol_floor: first_of_year(start.year()).unwrap_or(start),
        rules: Rules::default(),
        teams: &teams,
        other_rate,
    };
    let mut counts = CareCounts {
        teams: teams.list.len() as u64,
        ..CareCounts::default()
    };
    let filter = ResidentFilter::default();
    let city = Scope::city();
    let mut after = None;
    let mut index: u64 = 0;
    loop {
        let page = store
            .residents(
                &filter,
                Page {
                    after,
                    limit: READ_BATCH,
                },
                &city,
            )
            .await?;
        let people: Vec<Person> = page
            .items
            .into_iter()
            .map(|s| Person {
                id: s.id,
                birth: s.record.birth_date,
                sex: s.record.sex,
                community: s.record.community_code,
                id_number: s.record.id_number,
            })
            .collect();
        let cares: Vec<Care> = people
            .iter()
            .enumerate()
            .map(|(k, p)| generator.resident(index + k as u64, p))
            .collect();
        index += people.len() as u64;
        write(store, &people, cares, &teams, &mut counts).await?;
        progress(Stage::Care, index.min(total), total);
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    if index != total {
        progress(Stage::Care, total, total);
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn about_fifteen_percent_of_shenzhen_is_hypertensive() {
        let plan = CityPlan::new(&DemoOptions {
            scale: 0.01,
            ..DemoOptions::default()
        })
        .unwrap();
        let today = DemoOptions::default().today;
        let shift = (today - reference_date()).num_days() as f64 / 365.25;
        let (mut total, mut htn) = (0.0, 0.0);
        for d in &plan.districts {
            for c in &d.cells {
                let lo = f64::from(c.cell.age_lo);
                let hi = f64::from(c.cell.age_hi.min(100)) + 1.0;
                let mean = (0..24)
                    .map(|k| {
                        hypertension_rate(lo + (hi - lo) * (f64::from(k) + 0.5) / 24.0 + shift)
                    })
                    .sum::<f64>()
                    / 24.0;
                htn += c.count as f64 * mean;
                total += c.count as f64;
            }
        }
        let share = htn / total;
        assert!((0.14..0.16).contains(&share), "{share}");
        let key = key_share(&plan, today);
        assert!((0.2..0.4).contains(&key), "{key}");
    }

    /// The generator on the planned residents of a small city, without a database: the
    /// program rates of the last full year as hc-care defines them, and the contract rates.
    #[test]
    fn program_and_contract_rates_are_calibrated() {
        use crate::plan::Batches;
        use hc_care::{Standard, patient_year, program_rates};

        let opts = DemoOptions {
            scale: 0.003,
            ..DemoOptions::default()
        };
        let plan = CityPlan::new(&opts).unwrap();
        let today = opts.today;
        let teams = Teams {
            list: vec![Team {
                id: 1,
                lead: Some(1),
                nurse: Some(2),
            }],
            all: vec![0],
            ..Teams::default()
        };
        let start = months_before(today, HISTORY_MONTHS);
        let share = key_share(&plan, today);
        let g = Generator {
            seed: opts.seed,
            today,
            start,
            enrol_floor: first_of_year(start.year()).unwrap(),
            rules: Rules::default(),
            teams: &teams,
            other_rate: (CONTRACT_RATE - KEY_CONTRACT_RATE * share) / (1.0 - share),
        };
        let mut source = plan.residents().unwrap();
        let (mut n, mut contracted) = (0u64, 0u64);
        let mut years: HashMap<Program, Vec<hc_care::PatientYear>> = HashMap::new();
        let (mut visits_total, mut remote) = (0u64, 0u64);
        loop {
            let batch = source.next_batch(5_000).unwrap();
            if batch.is_empty() {
                break;
            }
            for r in batch {
                let p = Person {
                    id: n as i64 + 1,
                    birth: r.birth_date,
                    sex: r.sex,
                    community: r.community_code,
                    id_number: r.id_number,
                };
                let care = g.resident(n, &p);
                n += 1;
                contracted += u64::from(care.contracts.last().is_some_and(|c| {
                    c.start <= today && today < c.end && c.ended_on.is_none_or(|e| today < e)
                }));
                for x in &care.programs {
                    let visits: Vec<Visit> =
                        x.visits.iter().map(|(f, _)| f.visit(p.birth)).collect();
                    visits_total += visits.len() as u64;
                    remote += visits.iter().filter(|v| !v.face_to_face).count() as u64;
                    let y = patient_year(
                        x.program,
                        &g.rules,
                        &Standard::default(),
                        x.enrolled,
                        &visits,
                        today.year() - 1,
                    );
                    years.entry(x.program).or_default().push(y);
                }
            }
        }
        let contract = contracted as f64 / n as f64;
        eprintln!("key share {share:.3}, contract rate {contract:.3}");
        eprintln!("remote {:.3}", remote as f64 / visits_total as f64);
        assert!((0.39..0.45).contains(&contract), "{contract}");
        for (program, ys) in &years {
            let rates = program_rates(ys);
            let (s, c) = (
                rates.standardised.value().unwrap(),
                rates.controlled.value().unwrap(),
            );
            eprintln!(
                "{program:?}: {} patients, standardised {s:.3}, controlled {c:.3}",
                ys.len()
            );
            assert!((0.6..0.7).contains(&s), "{program:?} standardised {s}");
            assert!((0.55..0.67).contains(&c), "{program:?} controlled {c}");
        }
    }
}
