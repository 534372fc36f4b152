//! The pure part of the generator: the city's plan (org units, institutions, how many of whom
//! live and work where) and the streaming generators of practitioners and residents.
//!
//! Every random choice comes from a ChaCha8 stream derived from the seed, the stage and the
//! district (or institution), so the output depends only on the seed and the scale: not on
//! batch sizes, nor on the order in which other stages are drawn.

use std::collections::HashSet;

use chrono::{Datelike, Months, NaiveDate};
use hc_core::model::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::data::{self, CITY_CODE, Cell};
use crate::ids::SeqAllocator;
use crate::names;
use crate::{DemoError, DemoOptions};

/// The fixed reference date ("today") of the demo city: ages are as of this day.
pub(crate) fn reference_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or(NaiveDate::MIN)
}

/// Oldest age generated (the census's `85+` band ends here).
const MAX_AGE: u32 = 100;

/// Parent of the city (Guangdong); not registered.
const PROVINCE_CODE: &str = "440000";
/// The district whose first community houses the city CDC (福田区).
const CITY_CDC_DISTRICT: &str = "440304";
/// Address codes for residents whose district ran out of sequences on a day: Shenzhen's old
/// 市辖区 code, then the city's own.
const RESIDENT_FALLBACK_REGIONS: [u32; 2] = [440301, 440300];
/// Birthplaces of practitioners: counties outside Shenzhen (so their numbers never collide
/// with residents', who all carry 4403xx codes).
const PRACTITIONER_REGIONS: [u32; 12] = [
    430102, 360102, 420106, 440106, 450103, 510104, 441302, 440511, 431002, 350102, 410105, 610113,
];

/// Residents per hospital (at least one per district).
const RESIDENTS_PER_HOSPITAL: f64 = 100_000.0;
/// Hospital beds per 1,000 residents.
const BEDS_PER_1000: f64 = 3.6;
/// Residents per 社康 (chc or chs; at least one per district).
const RESIDENTS_PER_SHK: f64 = 20_000.0;
const RESIDENTS_PER_PHARMACY: f64 = 3_000.0;
const RESIDENTS_PER_SCHOOL: f64 = 2_500.0;
const RESIDENTS_PER_KINDERGARTEN: f64 = 3_000.0;
const RESIDENTS_PER_NURSING_HOME: f64 = 30_000.0;
const RESIDENTS_PER_CLINIC: f64 = 5_000.0;
/// GPs per 1,000 residents (in 社康).
const GPS_PER_1000: f64 = 0.4;
/// Specialists per 1,000 residents (in hospitals).
const SPECIALISTS_PER_1000: f64 = 2.5;
/// Nurses per 1,000 residents (in hospitals and 社康).
const NURSES_PER_1000: f64 = 3.5;
/// Share of a district's nurses working in 社康 rather than hospitals.
const SHK_NURSE_SHARE: f64 = 0.15;
/// Weight of a 妇幼保健院 in the district's hospital staff, relative to its hospitals' beds.
const MCH_STAFF_SHARE: f64 = 0.05;

/// The random streams, one family per stage.
#[derive(Clone, Copy)]
enum Stream {
    Communities = 1,
    Weights = 2,
    Institutions = 3,
    Practitioners = 4,
    Residents = 5,
}

/// The random stream for `stage` and `index` (a district or an institution).
fn rng(seed: u64, stage: Stream, index: usize) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(((stage as u64) << 32) | index as u64);
    r
}

/// Checks that `scale` is a usable fraction of the city.
pub(crate) fn check_scale(scale: f64) -> Result<(), DemoError> {
    if scale.is_finite() && scale > 0.0 && scale <= 1.0 {
        Ok(())
    } else {
        Err(DemoError::Scale(scale))
    }
}

/// `population × scale`, rounded half up.
pub(crate) fn scaled(population: u64, scale: f64) -> u64 {
    (population as f64 * scale + 0.5).floor() as u64
}

/// `x` rounded half up to a count.
fn round(x: f64) -> u32 {
    (x + 0.5).floor().max(0.0) as u32
}

/// A street of a district.
#[derive(Debug, Clone)]
pub(crate) struct Street {
    /// Name without 街道.
    pub short: String,
}

/// A generated community.
#[derive(Debug, Clone)]
pub(crate) struct Community {
    pub code: String,
    /// Name without 社区.
    pub short: String,
    /// Index of its street in the district's `streets`.
    pub street: usize,
}

/// One (sex, age band) cell of a district with the residents to generate in it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CellPlan {
    pub cell: Cell,
    /// Residents to generate.
    pub count: u64,
    /// `num_days_from_ce` of the earliest birth date in the band.
    first_day: i32,
    /// Number of birth dates in the band.
    span: u32,
}

/// What the generator makes of one district.
#[derive(Debug, Clone)]
pub(crate) struct DistrictPlan {
    pub code: String,
    pub name: String,
    /// The district code as an identity-number address code.
    pub region: u32,
    pub streets: Vec<Street>,
    pub communities: Vec<Community>,
    /// Cumulative weights of `communities` (where people live; the last is the total).
    cum_weights: Vec<f64>,
    pub cells: Vec<CellPlan>,
    /// Residents to generate in the district.
    pub residents: u64,
}

impl DistrictPlan {
    /// A community drawn by weight.
    fn pick_community(&self, rng: &mut impl Rng) -> &Community {
        let total = self.cum_weights.last().copied().unwrap_or(0.0);
        let x = rng.random::<f64>() * total;
        let i = self
            .cum_weights
            .partition_point(|w| *w <= x)
            .min(self.communities.len().saturating_sub(1));
        &self.communities[i]
    }

    /// A community of street `street` drawn by weight.
    fn pick_community_in_street(&self, rng: &mut impl Rng, street: usize) -> &Community {
        let idx: Vec<usize> = (0..self.communities.len())
            .filter(|&i| self.communities[i].street == street)
            .collect();
        let weights: Vec<f64> = idx.iter().map(|&i| self.weight(i)).collect();
        let i = weighted_index(rng, &weights);
        &self.communities[idx.get(i).copied().unwrap_or(0)]
    }

    fn weight(&self, i: usize) -> f64 {
        self.cum_weights[i] - if i == 0 { 0.0 } else { self.cum_weights[i - 1] }
    }

    /// Each community's code and the residents it can expect (the district's, by weight).
    pub(crate) fn expected_residents(&self) -> impl Iterator<Item = (&str, f64)> + '_ {
        let total = self.cum_weights.last().copied().unwrap_or(0.0);
        self.communities.iter().enumerate().map(move |(i, c)| {
            let share = if total > 0.0 {
                self.weight(i) / total
            } else {
                0.0
            };
            (c.code.as_str(), self.residents as f64 * share)
        })
    }
}

/// Practitioners of one kind to generate at one institution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Staffing {
    /// Index into [`CityPlan::institutions`].
    pub institution: usize,
    pub kind: PractitionerKind,
    pub count: u32,
}

/// The whole city except its practitioners and residents, which are streamed.
#[derive(Debug, Clone)]
pub(crate) struct CityPlan {
    pub seed: u64,
    /// City, districts, streets and communities, parents first.
    pub orgunits: Vec<OrgUnit>,
    pub districts: Vec<DistrictPlan>,
    /// Institutions, group leads (hospitals) first.
    pub institutions: Vec<Institution>,
    pub staffing: Vec<Staffing>,
}

/// Index drawn with probability proportional to `weights` (0 when they are all zero).
fn weighted_index(rng: &mut impl Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    if total <= 0.0 || weights.is_empty() {
        return 0;
    }
    let mut x = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// Spreads `n` over `weights`: one each to the first `floor` entries with a positive floor,
/// the rest drawn by weight.
fn spread(rng: &mut impl Rng, n: u32, floor: &[u32], weights: &[f64]) -> Vec<u32> {
    let mut out = floor.to_vec();
    if weights.is_empty() {
        return out;
    }
    let base: u32 = floor.iter().sum();
    for _ in base..n {
        out[weighted_index(rng, weights)] += 1;
    }
    out
}

/// Names institutions without repeating one.
#[derive(Default)]
struct Namer(HashSet<String>);

impl Namer {
    /// The first of `make(1)`, `make(2)`, ... not yet used.
    fn unique(&mut self, make: impl Fn(u32) -> String) -> String {
        for n in 1..100_000 {
            let name = make(n);
            if self.0.insert(name.clone()) {
                return name;
            }
        }
        make(0)
    }

    /// `stem + suffix`, else `stem + 第N + suffix` (N = 二, 三, ...).
    fn numbered(&mut self, stem: &str, suffix: &str) -> String {
        self.unique(|n| {
            if n == 1 {
                format!("{stem}{suffix}")
            } else {
                format!("{stem}第{}{suffix}", names::numeral(n))
            }
        })
    }
}

/// Licence status: mostly valid, about 1% suspended and 1% expired.
fn licence_status(rng: &mut impl Rng) -> LicenceStatus {
    let x = rng.random::<f64>();
    if x < 0.01 {
        LicenceStatus::Suspended
    } else if x < 0.02 {
        LicenceStatus::Expired
    } else {
        LicenceStatus::Valid
    }
}

/// Code letter of each institution kind.
fn kind_letter(kind: InstitutionKind) -> char {
    match kind {
        InstitutionKind::Hospital => 'H',
        InstitutionKind::Chc => 'C',
        InstitutionKind::Chs => 'S',
        InstitutionKind::Cdc => 'D',
        InstitutionKind::Mch => 'M',
        InstitutionKind::Pharmacy => 'P',
        InstitutionKind::School => 'X',
        InstitutionKind::Kindergarten => 'K',
        InstitutionKind::NursingHome => 'N',
        InstitutionKind::Clinic => 'Z',
    }
}

/// The institution code `<letter><district><serial>` (serial at least 3 digits).
fn institution_code(kind: InstitutionKind, district: &str, serial: u32) -> String {
    format!("{}{district}{serial:03}", kind_letter(kind))
}

/// Builder of one district's institutions.
struct InstitutionDraw<'a> {
    district: &'a DistrictPlan,
    rng: ChaCha8Rng,
    /// Next serial per kind.
    serials: [u32; 10],
}

impl InstitutionDraw<'_> {
    fn new_institution(
        &mut self,
        kind: InstitutionKind,
        name: String,
        community: String,
    ) -> Institution {
        let k = InstitutionKind::ALL
            .iter()
            .position(|x| *x == kind)
            .unwrap_or(0);
        self.serials[k] += 1;
        let serial = self.serials[k];
        let licence_no = match kind {
            InstitutionKind::School | InstitutionKind::Kindergarten => None,
            InstitutionKind::Pharmacy => {
                Some(format!("粤CB755{}{serial:04}", &self.district.code[4..]))
            }
            _ => Some(format!("PDY{}{:02}{serial:04}", self.district.code, k + 1)),
        };
        let licence_status = if licence_no.is_some() {
            licence_status(&mut self.rng)
        } else {
            LicenceStatus::Valid
        };
        Institution {
            code: institution_code(kind, &self.district.code, serial),
            name,
            kind,
            grade: None,
            community_code: community,
            group_code: None,
            licence_no,
            licence_status,
            beds: 0,
            negative_pressure_rooms: 0,
            fever_clinic: false,
        }
    }
}

/// Specialty hospitals a district may have, besides its 人民医院.
const SPECIALTY_HOSPITALS: &[&str] = &[
    "中医院",
    "中西医结合医院",
    "妇儿医院",
    "骨科医院",
    "眼科医院",
    "康复医院",
    "口腔医院",
    "肿瘤医院",
    "慢性病防治院",
];

/// Kinds of clinic.
const CLINIC_KINDS: &[&str] = &["诊所", "中医诊所", "口腔诊所", "全科诊所", "中西医结合诊所"];

/// A district's hospitals: the first (the district 人民医院) is 三甲, the others graded about
/// 20% 3a, 10% 3b, 40% secondary, 30% primary; beds drawn by grade and scaled so the district
/// has about 3.6 per 1,000 residents.
fn hospitals(d: &mut InstitutionDraw<'_>, namer: &mut Namer) -> Vec<Institution> {
    let dist = d.district;
    let r = dist.residents as f64;
    let n = round(r / RESIDENTS_PER_HOSPITAL).max(1);
    let mut out = Vec::with_capacity(n as usize);
    let mut raw_beds = Vec::with_capacity(n as usize);
    let mut people_no = 1;
    let mut specialties = 0;
    for i in 0..n {
        let grade = if i == 0 {
            HospitalGrade::TertiaryA
        } else {
            let x = d.rng.random::<f64>();
            if x < 0.2 {
                HospitalGrade::TertiaryA
            } else if x < 0.3 {
                HospitalGrade::TertiaryB
            } else if x < 0.7 {
                HospitalGrade::Secondary
            } else {
                HospitalGrade::Primary
            }
        };
        let community = dist.pick_community(&mut d.rng).clone();
        let name = if i == 0 {
            namer.numbered(&format!("深圳市{}", dist.name), "人民医院")
        } else if grade == HospitalGrade::Primary {
            let street = &dist.streets[community.street].short;
            namer.numbered(&format!("{}{street}", dist.name), "医院")
        } else if specialties < SPECIALTY_HOSPITALS.len() && d.rng.random_bool(0.5) {
            specialties += 1;
            namer.numbered(&dist.name, SPECIALTY_HOSPITALS[specialties - 1])
        } else {
            people_no += 1;
            namer.unique(|k| {
                format!(
                    "{}第{}人民医院",
                    dist.name,
                    names::numeral(people_no + k - 1)
                )
            })
        };
        let (lo, hi) = match grade {
            HospitalGrade::TertiaryA => (800, 1500),
            HospitalGrade::TertiaryB => (500, 800),
            HospitalGrade::Secondary => (200, 500),
            HospitalGrade::Primary => (20, 100),
        };
        raw_beds.push(d.rng.random_range(lo..=hi));
        let (fever, rooms) = match grade {
            HospitalGrade::TertiaryA | HospitalGrade::TertiaryB => {
                (true, d.rng.random_range(10..=40))
            }
            HospitalGrade::Secondary => {
                if d.rng.random_bool(0.5) {
                    (true, d.rng.random_range(0..=6))
                } else {
                    (false, 0)
                }
            }
            HospitalGrade::Primary => (false, 0),
        };
        let mut h = d.new_institution(InstitutionKind::Hospital, name, community.code);
        h.grade = Some(grade);
        h.fever_clinic = fever;
        h.negative_pressure_rooms = rooms;
        out.push(h);
    }
    let target = BEDS_PER_1000 * r / 1000.0;
    let raw_total: u32 = raw_beds.iter().sum();
    let factor = target / f64::from(raw_total.max(1));
    for (h, raw) in out.iter_mut().zip(raw_beds) {
        h.beds = round(f64::from(raw) * factor).max(1);
    }
    out
}

/// How many of each kind a district of `residents` gets (besides hospitals, the CDC and the
/// 妇幼保健院): (社康, pharmacies, schools, kindergartens, nursing homes, clinics).
pub(crate) fn district_counts(residents: u64) -> [u32; 6] {
    let r = residents as f64;
    [
        round(r / RESIDENTS_PER_SHK).max(1),
        round(r / RESIDENTS_PER_PHARMACY),
        round(r / RESIDENTS_PER_SCHOOL),
        round(r / RESIDENTS_PER_KINDERGARTEN),
        round(r / RESIDENTS_PER_NURSING_HOME),
        round(r / RESIDENTS_PER_CLINIC),
    ]
}

/// A district's other institutions (group members name `lead` as their group).
fn others(d: &mut InstitutionDraw<'_>, namer: &mut Namer, lead: &str) -> Vec<Institution> {
    let dist = d.district;
    let dn = &dist.name;
    let [shk, pharmacies, schools, kindergartens, nursing, clinics] =
        district_counts(dist.residents);
    let mut out = Vec::new();

    // 社康: a 社康中心 in each of the most populous streets, 社康站 for the rest.
    let mut street_weight = vec![0.0; dist.streets.len()];
    for (i, c) in dist.communities.iter().enumerate() {
        street_weight[c.street] += dist.weight(i);
    }
    let mut by_weight: Vec<usize> = (0..dist.streets.len()).collect();
    by_weight.sort_by(|a, b| street_weight[*b].total_cmp(&street_weight[*a]));
    for i in 0..shk as usize {
        let (kind, community, suffix) = if i < by_weight.len() {
            let c = dist
                .pick_community_in_street(&mut d.rng, by_weight[i])
                .clone();
            (InstitutionKind::Chc, c, "社区健康服务中心")
        } else {
            let c = dist.pick_community(&mut d.rng).clone();
            (InstitutionKind::Chs, c, "社区健康服务站")
        };
        let name = namer.numbered(&format!("{dn}{}", community.short), suffix);
        let mut x = d.new_institution(kind, name, community.code);
        x.group_code = Some(lead.to_owned());
        out.push(x);
    }

    let cdc_community = dist.pick_community(&mut d.rng).code.clone();
    let name = namer.numbered(&format!("深圳市{dn}"), "疾病预防控制中心");
    out.push(d.new_institution(InstitutionKind::Cdc, name, cdc_community));

    let mch_community = dist.pick_community(&mut d.rng).code.clone();
    let name = namer.numbered(&format!("深圳市{dn}"), "妇幼保健院");
    out.push(d.new_institution(InstitutionKind::Mch, name, mch_community));

    for _ in 0..pharmacies {
        let c = dist.pick_community(&mut d.rng).clone();
        let chain = names::PHARMACY_CHAINS[d.rng.random_range(0..names::PHARMACY_CHAINS.len())];
        let stem = format!("{chain}大药房{}", dist.streets[c.street].short);
        let name = namer.unique(|n| {
            if n == 1 {
                format!("{stem}店")
            } else {
                format!("{stem}{}店", names::numeral(n))
            }
        });
        out.push(d.new_institution(InstitutionKind::Pharmacy, name, c.code));
    }

    let mut experimental = 0;
    for _ in 0..schools {
        let c = dist.pick_community(&mut d.rng).clone();
        let x = d.rng.random::<f64>();
        let name = if x < 0.4 {
            experimental += 1;
            namer.unique(|n| format!("{dn}第{}实验学校", names::numeral(experimental + n - 1)))
        } else if x < 0.75 {
            namer.numbered(&format!("{dn}{}", c.short), "小学")
        } else {
            namer.numbered(&format!("{dn}{}", c.short), "中学")
        };
        out.push(d.new_institution(InstitutionKind::School, name, c.code));
    }

    for _ in 0..kindergartens {
        let c = dist.pick_community(&mut d.rng).clone();
        let name = namer.numbered(&format!("{dn}{}", c.short), "幼儿园");
        out.push(d.new_institution(InstitutionKind::Kindergarten, name, c.code));
    }

    for _ in 0..nursing {
        let c = dist.pick_community(&mut d.rng).clone();
        let name = namer.numbered(
            &format!("{dn}{}", dist.streets[c.street].short),
            "颐康养老院",
        );
        out.push(d.new_institution(InstitutionKind::NursingHome, name, c.code));
    }

    for _ in 0..clinics {
        let c = dist.pick_community(&mut d.rng).clone();
        let sex = if d.rng.random_bool(0.6) {
            Sex::M
        } else {
            Sex::F
        };
        let owner = names::person_name(&mut d.rng, sex);
        let kind = CLINIC_KINDS[d.rng.random_range(0..CLINIC_KINDS.len())];
        let name = namer.numbered(&owner, kind);
        out.push(d.new_institution(InstitutionKind::Clinic, name, c.code));
    }
    out
}

/// Staffing of one district's institutions (`inst` are indices into `all`).
fn district_staffing(
    rng: &mut ChaCha8Rng,
    residents: u64,
    all: &[Institution],
    inst: &[usize],
    out: &mut Vec<Staffing>,
) {
    let r = residents as f64;
    let of = |kinds: &[InstitutionKind]| -> Vec<usize> {
        inst.iter()
            .copied()
            .filter(|&i| kinds.contains(&all[i].kind))
            .collect()
    };
    let shk = of(&[InstitutionKind::Chc, InstitutionKind::Chs]);
    let hospitals = of(&[InstitutionKind::Hospital, InstitutionKind::Mch]);
    let beds: f64 = hospitals.iter().map(|&i| f64::from(all[i].beds)).sum();
    let hospital_weight = |i: usize| match all[i].kind {
        InstitutionKind::Mch => (beds * MCH_STAFF_SHARE).max(1.0),
        _ => f64::from(all[i].beds),
    };
    let mut push = |targets: &[usize], counts: Vec<u32>, kind| {
        for (&institution, count) in targets.iter().zip(counts) {
            if count > 0 {
                out.push(Staffing {
                    institution,
                    kind,
                    count,
                });
            }
        }
    };

    // GPs: one per 社康 at least, the rest weighted 3:1 towards 社康中心.
    let n = round(r * GPS_PER_1000 / 1000.0).max(shk.len() as u32);
    let w: Vec<f64> = shk
        .iter()
        .map(|&i| {
            if all[i].kind == InstitutionKind::Chc {
                3.0
            } else {
                1.0
            }
        })
        .collect();
    let counts = spread(rng, n, &vec![1; shk.len()], &w);
    push(&shk, counts, PractitionerKind::Gp);

    // Specialists: one per hospital at least, the rest by beds.
    let n = round(r * SPECIALISTS_PER_1000 / 1000.0).max(hospitals.len() as u32);
    let w: Vec<f64> = hospitals.iter().map(|&i| hospital_weight(i)).collect();
    let counts = spread(rng, n, &vec![1; hospitals.len()], &w);
    push(&hospitals, counts, PractitionerKind::Specialist);

    // Nurses: one per hospital and 社康 at least; 社康 share 15% of the weight.
    let targets: Vec<usize> = hospitals.iter().chain(&shk).copied().collect();
    let n = round(r * NURSES_PER_1000 / 1000.0).max(targets.len() as u32);
    let hospital_total: f64 = hospitals.iter().map(|&i| hospital_weight(i)).sum();
    let shk_each = hospital_total * SHK_NURSE_SHARE / (1.0 - SHK_NURSE_SHARE) / shk.len() as f64;
    let w: Vec<f64> = hospitals
        .iter()
        .map(|&i| hospital_weight(i))
        .chain(shk.iter().map(|_| shk_each))
        .collect();
    let counts = spread(rng, n, &vec![1; targets.len()], &w);
    push(&targets, counts, PractitionerKind::Nurse);

    // Public-health physicians at the district CDC.
    let cdc = of(&[InstitutionKind::Cdc]);
    let counts = cdc.iter().map(|_| 2 + round(r * 0.1 / 1000.0)).collect();
    push(&cdc, counts, PractitionerKind::PublicHealth);

    // One or two pharmacists per pharmacy.
    let ph = of(&[InstitutionKind::Pharmacy]);
    let counts = ph.iter().map(|_| rng.random_range(1..=2)).collect();
    push(&ph, counts, PractitionerKind::Pharmacist);
}

/// Birth dates of a band as (first day from CE, number of days): ages `lo..=hi` on the
/// reference date.
fn birth_span(lo: u32, hi: u32) -> Result<(i32, u32), DemoError> {
    let today = reference_date();
    let years = |y: u32| {
        today
            .checked_sub_months(Months::new(12 * y))
            .ok_or_else(|| DemoError::Data(format!("age {y} is out of range")))
    };
    let latest = years(lo)?.num_days_from_ce();
    let earliest = years(hi + 1)?.num_days_from_ce() + 1;
    let span = u32::try_from(latest - earliest + 1)
        .map_err(|_| DemoError::Data(format!("empty age band {lo}-{hi}")))?;
    Ok((earliest, span))
}

fn date_from_ce(day: i32) -> Result<NaiveDate, DemoError> {
    NaiveDate::from_num_days_from_ce_opt(day)
        .ok_or_else(|| DemoError::Data(format!("day {day} is not a date")))
}

/// The allocator's range of birth dates: everyone is at most [`MAX_AGE`] years old.
fn allocator() -> Result<SeqAllocator, DemoError> {
    let (first, _) = birth_span(MAX_AGE, MAX_AGE)?;
    Ok(SeqAllocator::new(date_from_ce(first)?, reference_date()))
}

/// Total residents `scale` yields.
pub(crate) fn planned_residents(scale: f64) -> Result<u64, DemoError> {
    check_scale(scale)?;
    Ok(data::data()?
        .census
        .iter()
        .flat_map(|d| &d.cells)
        .map(|c| scaled(c.population, scale))
        .sum())
}

impl CityPlan {
    /// Plans the city for `opts`.
    pub(crate) fn new(opts: &DemoOptions) -> Result<CityPlan, DemoError> {
        check_scale(opts.scale)?;
        let data = data::data()?;
        let seed = opts.seed;
        let mut orgunits = Vec::new();
        for d in &data.divisions {
            orgunits.push(OrgUnit {
                code: d.code.clone(),
                name: d.name.clone(),
                parent_code: Some(if d.level == OrgLevel::City {
                    PROVINCE_CODE.to_owned()
                } else {
                    d.parent_code.clone()
                }),
                level: d.level,
                valid_from: None,
                valid_to: None,
            });
        }

        let mut districts = Vec::new();
        let mut communities_out = Vec::new();
        for (di, cd) in data.census.iter().enumerate() {
            let division = data
                .divisions
                .iter()
                .find(|d| d.code == cd.code)
                .ok_or_else(|| DemoError::Data(format!("no division {}", cd.code)))?;
            let region = cd
                .code
                .parse()
                .map_err(|_| DemoError::Data(format!("bad district code {}", cd.code)))?;
            let street_divs: Vec<_> = data
                .divisions
                .iter()
                .filter(|d| d.level == OrgLevel::Street && d.parent_code == cd.code)
                .collect();
            if street_divs.is_empty() {
                return Err(DemoError::Data(format!(
                    "district {} has no streets",
                    cd.code
                )));
            }
            let mut crng = rng(seed, Stream::Communities, di);
            let mut wrng = rng(seed, Stream::Weights, di);
            let mut used = HashSet::new();
            let mut streets = Vec::new();
            let mut communities = Vec::new();
            let mut cum_weights = Vec::new();
            let mut total_w = 0.0;
            for (si, s) in street_divs.iter().enumerate() {
                let short = names::street_short(&s.name).to_owned();
                // Airports, bonded zones and the like have few residents.
                let special = !s.name.ends_with("街道");
                let n = crng.random_range(4..=12);
                for k in 1..=n {
                    let cname = names::community_name(&mut crng, &used, &short, k);
                    used.insert(cname.clone());
                    let code = format!("{}{k:03}", s.code);
                    communities_out.push(OrgUnit {
                        code: code.clone(),
                        name: format!("{cname}社区"),
                        parent_code: Some(s.code.clone()),
                        level: OrgLevel::Community,
                        valid_from: None,
                        valid_to: None,
                    });
                    // Uneven weights: exponential with a floor, a twentieth in special zones.
                    let u: f64 = wrng.random();
                    let mut w = 0.15 - (1.0 - u).ln();
                    if special {
                        w *= 0.05;
                    }
                    total_w += w;
                    cum_weights.push(total_w);
                    communities.push(Community {
                        code,
                        short: cname,
                        street: si,
                    });
                }
                streets.push(Street { short });
            }
            let mut cells = Vec::new();
            for c in &cd.cells {
                let (first_day, span) = birth_span(c.age_lo, c.age_hi.min(MAX_AGE))?;
                cells.push(CellPlan {
                    cell: *c,
                    count: scaled(c.population, opts.scale),
                    first_day,
                    span,
                });
            }
            districts.push(DistrictPlan {
                code: cd.code.clone(),
                name: division.name.clone(),
                region,
                streets,
                communities,
                cum_weights,
                residents: cells.iter().map(|c| c.count).sum(),
                cells,
            });
        }
        orgunits.extend(communities_out);

        // Institutions: all hospitals first (they lead the medical groups), then the city
        // CDC, then each district's others.
        let mut namer = Namer::default();
        let mut draws: Vec<InstitutionDraw<'_>> = districts
            .iter()
            .enumerate()
            .map(|(di, d)| InstitutionDraw {
                district: d,
                rng: rng(seed, Stream::Institutions, di),
                serials: [0; 10],
            })
            .collect();
        let mut institutions = Vec::new();
        let mut per_district: Vec<Vec<usize>> = vec![Vec::new(); districts.len()];
        let mut leads = Vec::new();
        for (di, d) in draws.iter_mut().enumerate() {
            let hs = hospitals(d, &mut namer);
            leads.push(hs.first().map(|h| h.code.clone()).unwrap_or_default());
            for h in hs {
                per_district[di].push(institutions.len());
                institutions.push(h);
            }
        }
        let city_cdc_community = districts
            .iter()
            .find(|d| d.code == CITY_CDC_DISTRICT)
            .or(districts.first())
            .and_then(|d| d.communities.first())
            .map(|c| c.code.clone())
            .ok_or_else(|| DemoError::Data("no community for the city CDC".into()))?;
        let city_cdc = institutions.len();
        {
            let mut r = rng(seed, Stream::Institutions, districts.len());
            institutions.push(Institution {
                code: institution_code(InstitutionKind::Cdc, CITY_CODE, 1),
                name: namer.numbered("深圳市", "疾病预防控制中心"),
                kind: InstitutionKind::Cdc,
                grade: None,
                community_code: city_cdc_community,
                group_code: None,
                licence_no: Some(format!("PDY{CITY_CODE}040001")),
                licence_status: licence_status(&mut r),
                beds: 0,
                negative_pressure_rooms: 0,
                fever_clinic: false,
            });
        }
        for (di, d) in draws.iter_mut().enumerate() {
            let xs = others(d, &mut namer, &leads[di]);
            for x in xs {
                per_district[di].push(institutions.len());
                institutions.push(x);
            }
        }
        drop(draws);

        // Staffing, from each district's practitioner stream.
        let mut staffing = Vec::new();
        for (di, d) in districts.iter().enumerate() {
            let mut r = rng(seed, Stream::Practitioners, di);
            district_staffing(
                &mut r,
                d.residents,
                &institutions,
                &per_district[di],
                &mut staffing,
            );
        }
        let total: u64 = districts.iter().map(|d| d.residents).sum();
        staffing.push(Staffing {
            institution: city_cdc,
            kind: PractitionerKind::PublicHealth,
            count: 3 + round(total as f64 * 0.05 / 1000.0),
        });
        staffing.sort_by_key(|s| s.institution);

        Ok(CityPlan {
            seed,
            orgunits,
            districts,
            institutions,
            staffing,
        })
    }

    /// Residents the plan generates.
    pub(crate) fn resident_count(&self) -> u64 {
        self.districts.iter().map(|d| d.residents).sum()
    }

    /// Practitioners the plan generates.
    pub(crate) fn practitioner_count(&self) -> u64 {
        self.staffing.iter().map(|s| u64::from(s.count)).sum()
    }

    /// A generator of the plan's residents.
    pub(crate) fn residents(&self) -> Result<ResidentGen<'_>, DemoError> {
        Ok(ResidentGen {
            plan: self,
            district: 0,
            cell: 0,
            made_in_cell: 0,
            rng: rng(self.seed, Stream::Residents, 0),
            ids: allocator()?,
        })
    }

    /// A generator of the plan's practitioners.
    pub(crate) fn practitioners(&self) -> Result<PractitionerGen<'_>, DemoError> {
        Ok(PractitionerGen {
            plan: self,
            entry: 0,
            made_in_entry: 0,
            rng: rng(self.seed, Stream::Practitioners, 1 << 16),
            ids: allocator()?,
            serial: 0,
        })
    }
}

/// Something that yields records in batches until it runs dry.
pub(crate) trait Batches<T> {
    /// Up to `max` more records; empty when there are no more.
    fn next_batch(&mut self, max: usize) -> Result<Vec<T>, DemoError>;
}

/// Streams the residents district by district, cell by cell.
pub(crate) struct ResidentGen<'a> {
    plan: &'a CityPlan,
    district: usize,
    cell: usize,
    made_in_cell: u64,
    rng: ChaCha8Rng,
    ids: SeqAllocator,
}

impl ResidentGen<'_> {
    fn one(&mut self, d: &DistrictPlan, c: CellPlan) -> Result<Resident, DemoError> {
        let rng = &mut self.rng;
        let sex = c.cell.sex;
        let birth_date = date_from_ce(c.first_day + rng.random_range(0..c.span) as i32)?;
        let regions = [
            d.region,
            RESIDENT_FALLBACK_REGIONS[0],
            RESIDENT_FALLBACK_REGIONS[1],
        ];
        let id_number = self
            .ids
            .allocate(&regions, birth_date, sex)
            .ok_or(DemoError::IdentitiesExhausted(birth_date))?;
        let name = names::person_name(rng, sex);
        let phone = rng.random_bool(0.9).then(|| names::mobile(rng));
        let community_code = d.pick_community(rng).code.clone();
        let residence = if rng.random_bool(0.3) {
            Residence::Registered
        } else {
            Residence::Resident
        };
        Ok(Resident {
            id_type: IdType::ResidentId,
            id_number,
            name,
            sex,
            birth_date,
            phone,
            community_code,
            residence,
        })
    }
}

impl Batches<Resident> for ResidentGen<'_> {
    fn next_batch(&mut self, max: usize) -> Result<Vec<Resident>, DemoError> {
        let plan = self.plan;
        let mut out = Vec::with_capacity(max);
        while out.len() < max {
            let Some(d) = plan.districts.get(self.district) else {
                break;
            };
            let Some(&c) = d.cells.get(self.cell) else {
                self.district += 1;
                self.cell = 0;
                self.made_in_cell = 0;
                self.rng = rng(plan.seed, Stream::Residents, self.district);
                continue;
            };
            if self.made_in_cell >= c.count {
                self.cell += 1;
                self.made_in_cell = 0;
                continue;
            }
            out.push(self.one(d, c)?);
            self.made_in_cell += 1;
        }
        Ok(out)
    }
}

/// Streams the practitioners institution by institution.
pub(crate) struct PractitionerGen<'a> {
    plan: &'a CityPlan,
    entry: usize,
    made_in_entry: u32,
    rng: ChaCha8Rng,
    ids: SeqAllocator,
    serial: u64,
}

impl PractitionerGen<'_> {
    fn one(&mut self, s: Staffing) -> Result<Practitioner, DemoError> {
        let rng = &mut self.rng;
        let (female, lo, hi) = match s.kind {
            PractitionerKind::Nurse => (0.92, 21, 55),
            PractitionerKind::Pharmacist => (0.6, 23, 60),
            _ => (0.45, 25, 60),
        };
        let sex = if rng.random_bool(female) {
            Sex::F
        } else {
            Sex::M
        };
        let (first, span) = birth_span(lo, hi)?;
        let birth = date_from_ce(first + rng.random_range(0..span) as i32)?;
        let start = rng.random_range(0..PRACTITIONER_REGIONS.len());
        let mut regions = PRACTITIONER_REGIONS;
        regions.rotate_left(start);
        let id_number = self
            .ids
            .allocate(&regions, birth, sex)
            .ok_or(DemoError::IdentitiesExhausted(birth))?;
        self.serial += 1;
        let institution_code = self
            .plan
            .institutions
            .get(s.institution)
            .map(|i| i.code.clone())
            .unwrap_or_default();
        Ok(Practitioner {
            id_type: IdType::ResidentId,
            id_number,
            name: names::person_name(rng, sex),
            kind: s.kind,
            institution_code,
            licence_no: Some(format!("1104403{:08}", self.serial)),
        })
    }
}

impl Batches<Practitioner> for PractitionerGen<'_> {
    fn next_batch(&mut self, max: usize) -> Result<Vec<Practitioner>, DemoError> {
        let plan = self.plan;
        let mut out = Vec::with_capacity(max);
        while out.len() < max {
            let Some(&s) = plan.staffing.get(self.entry) else {
                break;
            };
            if self.made_in_entry == 0 {
                self.rng = rng(plan.seed, Stream::Practitioners, (1 << 16) + self.entry);
            }
            if self.made_in_entry >= s.count {
                self.entry += 1;
                self.made_in_entry = 0;
                continue;
            }
            out.push(self.one(s)?);
            self.made_in_entry += 1;
        }
        Ok(out)
    }
}
