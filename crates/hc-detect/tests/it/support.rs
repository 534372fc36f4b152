//! Reading the reference files and comparing numbers the way the tests promise.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::NaiveDate;
use hc_detect::{Params, Period, Series};

/// `test_data/<rel>`.
pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("test_data")
        .join(rel)
}

/// The records of a CSV file with a header, as maps from column to cell.
pub fn read_csv(rel: &str) -> Vec<BTreeMap<String, String>> {
    let path = data(rel);
    let mut reader = csv::Reader::from_path(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let headers = reader.headers().cloned().unwrap_or_default();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

/// The lines of a tab-separated file with a header, as maps.
pub fn read_tsv(rel: &str) -> Vec<BTreeMap<String, String>> {
    let path = data(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            header
                .iter()
                .zip(l.split('\t'))
                .map(|(h, v)| ((*h).to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

pub fn date(s: &str) -> NaiveDate {
    s.parse()
        .unwrap_or_else(|e| panic!("bad date {s:?} in reference data: {e}"))
}

pub fn number(s: &str) -> Option<f64> {
    if s.is_empty() || s == "NA" {
        None
    } else {
        Some(
            s.parse()
                .unwrap_or_else(|e| panic!("bad number {s:?} in reference data: {e}")),
        )
    }
}

/// The series of a `series,date,count[,population]` file, in the order they first appear.
pub fn read_series(rel: &str) -> Vec<Series> {
    let mut order: Vec<String> = Vec::new();
    let mut periods: BTreeMap<String, Vec<Period>> = BTreeMap::new();
    for row in read_csv(rel) {
        let name = row["series"].clone();
        if !periods.contains_key(&name) {
            order.push(name.clone());
        }
        periods.entry(name).or_default().push((
            date(&row["date"]),
            number(&row["count"]),
            row.get("population").and_then(|p| number(p)),
        ));
    }
    order
        .into_iter()
        .map(|name| {
            let p = periods.remove(&name).unwrap_or_default();
            Series::new(name.clone(), p).unwrap_or_else(|e| panic!("series {name}: {e}"))
        })
        .collect()
}

/// True when `ours` matches R's `theirs`: both missing, or within 1e-6 relative.
pub fn same(ours: Option<f64>, theirs: Option<f64>) -> bool {
    match (ours, theirs) {
        (None, None) => true,
        (Some(a), Some(b)) if a.is_infinite() || b.is_infinite() => a == b,
        (Some(a), Some(b)) => (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1e-9),
        _ => false,
    }
}

/// Collects mismatches and fails once with all of them (the first few per case).
#[derive(Default)]
pub struct Mismatches {
    lines: Vec<String>,
    cases: usize,
    failed_cases: usize,
}

impl Mismatches {
    pub fn case(&mut self, name: &str, found: Vec<String>) {
        self.cases += 1;
        if found.is_empty() {
            return;
        }
        self.failed_cases += 1;
        self.lines
            .push(format!("{name}: {} mismatches", found.len()));
        self.lines
            .extend(found.into_iter().take(8).map(|l| format!("  {l}")));
    }

    pub fn finish(self) {
        assert!(self.cases > 0, "no reference cases ran");
        assert!(
            self.lines.is_empty(),
            "{} of {} cases differ from R:\n{}",
            self.failed_cases,
            self.cases,
            self.lines.join("\n")
        );
    }
}

pub fn show(v: Option<f64>) -> String {
    v.map_or_else(|| "NA".to_owned(), |v| format!("{v}"))
}

/// Runs every case of `method` in `manifest` (a `name, method, params, from, to` table whose
/// files sit beside it) and compares our results with R's.
pub fn check_manifest(manifest: &str, method: &str) {
    check_cases(manifest, Some(method));
}

/// Runs every case of `manifest`, whatever its method.
pub fn check_every_case(manifest: &str) {
    check_cases(manifest, None);
}

/// Compares every column R wrote: `expected` (where the file reports it at all), `upperbound`,
/// `alarm`, and `trend` when the file has it (R reports 0 where it could not fit).
fn check_cases(manifest: &str, only: Option<&str>) {
    let dir = manifest.rsplit_once('/').map_or("", |(d, _)| d);
    let mut mismatches = Mismatches::default();
    for case in read_tsv(manifest) {
        let method = case["method"].as_str();
        if only.is_some_and(|m| m != method) {
            continue;
        }
        let name = &case["name"];
        let data = name.split("__").next().unwrap_or_default();
        let params = Params::parse(&case["params"]).unwrap_or_else(|e| panic!("{name}: {e}"));
        let detector =
            hc_detect::detector(method, params).unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected = read_csv(&format!("{dir}/{name}.expected.csv"));
        // Methods that do not report `expected` leave the whole column empty.
        let reports_expected = expected.iter().any(|r| !r["expected"].is_empty());
        let mut found = Vec::new();
        for series in read_series(&format!("{dir}/{data}.input.csv")) {
            let theirs: Vec<_> = expected
                .iter()
                .filter(|r| r["series"] == series.name())
                .collect();
            let ours = hc_detect::run(
                detector.as_ref(),
                &series,
                Some(date(&case["from"])),
                Some(date(&case["to"])),
            );
            let ours = match ours {
                Ok(ours) => ours,
                Err(e) => {
                    found.push(format!("{}: {e}", series.name()));
                    continue;
                }
            };
            if ours.len() != theirs.len() {
                found.push(format!(
                    "{}: {} periods evaluated, R has {}",
                    series.name(),
                    ours.len(),
                    theirs.len()
                ));
                continue;
            }
            for (o, t) in ours.iter().zip(&theirs) {
                let day = series.dates()[o.index];
                let at = format!("{} {day}", series.name());
                if day != date(&t["date"]) {
                    found.push(format!("{at}: R evaluates {} here", t["date"]));
                    continue;
                }
                let r_expected = number(&t["expected"]);
                if reports_expected && !same(o.expected, r_expected) {
                    found.push(format!(
                        "{at}: expected {} but R {}",
                        show(o.expected),
                        show(r_expected)
                    ));
                }
                let r_upper = number(&t["upperbound"]);
                if !same(o.upperbound, r_upper) {
                    found.push(format!(
                        "{at}: upperbound {} but R {}",
                        show(o.upperbound),
                        show(r_upper)
                    ));
                }
                // R's `NA` alarm (an undefined threshold) is reported as no alarm.
                let r_alarm = if t["alarm"] == "NA" {
                    "0"
                } else {
                    t["alarm"].as_str()
                };
                if u8::from(o.alarm).to_string() != r_alarm {
                    found.push(format!(
                        "{at}: alarm {} but R {} (count {})",
                        u8::from(o.alarm),
                        t["alarm"],
                        t["count"]
                    ));
                }
                if let Some(r_trend) = t.get("trend") {
                    let trend = o.trend.map_or("0", |t| if t { "1" } else { "0" });
                    if trend != r_trend {
                        found.push(format!("{at}: trend {trend} but R {r_trend}"));
                    }
                }
            }
        }
        mismatches.case(name, found);
    }
    mismatches.finish();
}
