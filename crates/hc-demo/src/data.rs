//! The embedded source data: Shenzhen's divisions and its 2020 census population.

use std::sync::OnceLock;

use hc_core::model::{OrgLevel, Sex};

use crate::DemoError;

const DIVISIONS_CSV: &str = include_str!("../data/shenzhen_divisions.csv");
const CENSUS_CSV: &str = include_str!("../data/census2020_shenzhen.csv");

/// Code of the city.
pub(crate) const CITY_CODE: &str = "440300";

/// One row of the divisions file.
#[derive(Debug, Clone)]
pub(crate) struct Division {
    pub code: String,
    pub name: String,
    pub parent_code: String,
    pub level: OrgLevel,
}

/// One census cell: a district's population of one sex in one age band.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cell {
    pub sex: Sex,
    /// Youngest age of the band.
    pub age_lo: u32,
    /// Oldest age of the band (inclusive); 100 for `85+`.
    pub age_hi: u32,
    pub population: u64,
}

/// A district with its census cells.
#[derive(Debug, Clone)]
pub(crate) struct CensusDistrict {
    pub code: String,
    pub cells: Vec<Cell>,
}

/// The parsed embedded data.
#[derive(Debug)]
pub(crate) struct Data {
    /// City, districts and streets, in file order.
    pub divisions: Vec<Division>,
    /// Districts of the census, in file order (the city's own rows are left out).
    pub census: Vec<CensusDistrict>,
}

/// The embedded data, parsed once.
pub(crate) fn data() -> Result<&'static Data, DemoError> {
    static DATA: OnceLock<Result<Data, String>> = OnceLock::new();
    DATA.get_or_init(parse)
        .as_ref()
        .map_err(|e| DemoError::Data(e.clone()))
}

fn records(text: &str) -> Result<Vec<csv::StringRecord>, String> {
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())
}

/// Parses an age band (`0`, `1-4`, ..., `85+`) into its first and last age.
fn age_band(band: &str) -> Option<(u32, u32)> {
    if let Some(lo) = band.strip_suffix('+') {
        let lo = lo.parse().ok()?;
        return Some((lo, 100));
    }
    match band.split_once('-') {
        Some((lo, hi)) => Some((lo.parse().ok()?, hi.parse().ok()?)),
        None => {
            let a = band.parse().ok()?;
            Some((a, a))
        }
    }
}

fn parse() -> Result<Data, String> {
    let mut divisions = Vec::new();
    for (i, r) in records(DIVISIONS_CSV)?.iter().enumerate() {
        let bad = || format!("shenzhen_divisions.csv row {}: {r:?}", i + 2);
        let level = OrgLevel::parse(r.get(3).ok_or_else(bad)?).ok_or_else(bad)?;
        divisions.push(Division {
            code: r.get(0).ok_or_else(bad)?.to_owned(),
            name: r.get(1).ok_or_else(bad)?.to_owned(),
            parent_code: r.get(2).ok_or_else(bad)?.to_owned(),
            level,
        });
    }
    let mut census: Vec<CensusDistrict> = Vec::new();
    for (i, r) in records(CENSUS_CSV)?.iter().enumerate() {
        let bad = || format!("census2020_shenzhen.csv row {}: {r:?}", i + 2);
        let code = r.get(0).ok_or_else(bad)?;
        if code == CITY_CODE {
            continue;
        }
        let sex = Sex::parse(r.get(2).ok_or_else(bad)?).ok_or_else(bad)?;
        let (age_lo, age_hi) = age_band(r.get(3).ok_or_else(bad)?).ok_or_else(bad)?;
        let population = r.get(4).ok_or_else(bad)?.parse().map_err(|_| bad())?;
        let cell = Cell {
            sex,
            age_lo,
            age_hi,
            population,
        };
        match census.last_mut() {
            Some(d) if d.code == code => d.cells.push(cell),
            _ => census.push(CensusDistrict {
                code: code.to_owned(),
                cells: vec![cell],
            }),
        }
    }
    let districts = divisions
        .iter()
        .filter(|d| d.level == OrgLevel::District)
        .count();
    if census.len() != districts || districts == 0 {
        return Err(format!(
            "census covers {} districts, divisions list {districts}",
            census.len()
        ));
    }
    for c in &census {
        if !divisions.iter().any(|d| d.code == c.code) {
            return Err(format!(
                "census district {} is not among the divisions",
                c.code
            ));
        }
    }
    Ok(Data { divisions, census })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_data_is_shenzhen() {
        let d = data().unwrap();
        let count = |l| d.divisions.iter().filter(|x| x.level == l).count();
        assert_eq!(count(OrgLevel::City), 1);
        assert_eq!(count(OrgLevel::District), 9);
        assert_eq!(count(OrgLevel::Street), 79);
        let total: u64 = d
            .census
            .iter()
            .flat_map(|c| &c.cells)
            .map(|c| c.population)
            .sum();
        assert_eq!(total, 17_494_398);
        assert!(d.census.iter().all(|c| c.cells.len() == 38));
        assert_eq!(age_band("85+"), Some((85, 100)));
        assert_eq!(age_band("1-4"), Some((1, 4)));
        assert_eq!(age_band("0"), Some((0, 0)));
    }
}
