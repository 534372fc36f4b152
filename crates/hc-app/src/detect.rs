//! Outbreak detection on counts from a CSV file: the `healthcity detect` use case.
//!
//! Input: a header row with `date,count` and optionally `series` and `population` (any order;
//! other columns are ignored). Rows of a series need not be contiguous or sorted. A row with a
//! bad cell spoils only its own series, which is reported with the line and field; the other
//! series still run. Output: `series,date,count,expected,upperbound,alarm` (plus `p_value,level`
//! for ESSENCE, and the explanation columns on request) for every evaluated period.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{Read, Write};

use chrono::NaiveDate;
use hc_detect::{Detector, Evaluation, Period, Series};
use rayon::prelude::*;

/// A fault that makes the whole input unusable.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The CSV itself could not be read (I/O or broken quoting).
    #[error("line {line}: {source}")]
    Csv {
        /// The line where reading stopped.
        line: u64,
        /// What went wrong.
        source: csv::Error,
    },
    /// A required column is absent from the header.
    #[error("the header has no `{0}` column (it has: {1})")]
    MissingColumn(&'static str, String),
    /// The file has no data rows.
    #[error("the file has no data rows")]
    Empty,
    /// A cell that cannot be used, in a file that must be whole (incidence, locations, cases).
    #[error("line {line}, field {field}: {message}")]
    Cell {
        /// The line of the record.
        line: u64,
        /// The column.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// One series read from the input: the series, or why it cannot be used.
#[derive(Debug)]
pub struct SeriesInput {
    /// The `series` cell (empty when the file has no `series` column).
    pub name: String,
    /// The series, or what is wrong with it (naming lines and fields).
    pub series: Result<Series, String>,
}

/// Reads `date,count[,series][,population]` rows into series, in order of first appearance.
pub fn read_series(input: impl Read) -> Result<Vec<SeriesInput>, InputError> {
    let (mut reader, names) = table(input)?;
    let date_col = find(&names, &["date"])?;
    let count_col = find(&names, &["count"])?;
    let series_col = names.iter().position(|h| h == "series");
    let population_col = names.iter().position(|h| h == "population");

    struct Pending {
        name: String,
        periods: Vec<Period>,
        fault: Option<String>,
    }
    let mut order: Vec<Pending> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    each_record(&mut reader, |line, record| {
        let name = series_col.and_then(|c| record.get(c)).unwrap_or_default();
        // Look the series up by reference: only a new series allocates its name.
        let slot = match index.get(name) {
            Some(&slot) => slot,
            None => {
                order.push(Pending {
                    name: name.to_owned(),
                    periods: Vec::new(),
                    fault: None,
                });
                index.insert(name.to_owned(), order.len() - 1);
                order.len() - 1
            }
        };
        let pending = &mut order[slot];
        if pending.fault.is_some() {
            return Ok(());
        }
        let cell = |c: usize| record.get(c).unwrap_or_default();
        match parse_period(cell(date_col), cell(count_col), population_col.map(cell)) {
            Ok(period) => pending.periods.push(period),
            Err(fault) => pending.fault = Some(format!("line {line}: {fault}")),
        }
        Ok(())
    })?;
    Ok(order
        .into_iter()
        .map(|p| SeriesInput {
            series: match p.fault {
                Some(fault) => Err(fault),
                None => Series::new(p.name.clone(), p.periods).map_err(|e| e.to_string()),
            },
            name: p.name,
        })
        .collect())
}

fn parse_period(date: &str, count: &str, population: Option<&str>) -> Result<Period, String> {
    let date =
        parse_date(date).ok_or_else(|| format!("date `{date}` is not a date (YYYY-MM-DD)"))?;
    let count = match count {
        "" | "NA" => None,
        text => Some(
            text.parse::<f64>()
                .ok()
                .filter(|c| c.is_finite() && *c >= 0.0)
                .ok_or_else(|| format!("count `{text}` on {date} is not a non-negative number"))?,
        ),
    };
    let population = match population {
        None | Some("") => None,
        Some(text) => Some(
            text.parse::<f64>()
                .ok()
                .filter(|p| p.is_finite() && *p > 0.0)
                .ok_or_else(|| format!("population `{text}` on {date} is not a positive number"))?,
        ),
    };
    Ok((date, count, population))
}

/// `YYYY-MM-DD` (exactly), without the generality of a format string: inputs run to millions
/// of rows.
pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let year = i32::try_from(digits(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, digits(5..7)?, digits(8..10)?)
}

/// The result of one series.
#[derive(Debug)]
pub struct Outcome {
    /// The series' name.
    pub name: String,
    /// The series and its evaluations, or why it failed.
    pub result: Result<(Series, Vec<Evaluation>), String>,
}

/// Runs `detector` on every usable series, in parallel, keeping the input order.
pub fn detect_all(
    detector: &dyn Detector,
    inputs: Vec<SeriesInput>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Vec<Outcome> {
    inputs
        .into_par_iter()
        .map(|input| Outcome {
            result: input.series.and_then(|series| {
                hc_detect::run(detector, &series, from, to)
                    .map(|evaluations| (series, evaluations))
                    .map_err(|e| e.to_string())
            }),
            name: input.name,
        })
        .collect()
}

/// Which columns to write after the six of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Columns {
    /// `p_value,level` (ESSENCE's).
    pub essence: bool,
    /// `score,p_value,level,trend,params`: everything that explains an alarm.
    pub explain: bool,
}

impl Columns {
    /// The columns for `method`, with the explanation when asked.
    pub fn for_method(method: &str, explain: bool) -> Columns {
        Columns {
            essence: method == "essence" && !explain,
            explain,
        }
    }
}

/// Writes the evaluations of the series that ran as CSV.
pub fn write_evaluations(
    out: impl Write,
    detector: &dyn Detector,
    outcomes: &[Outcome],
    columns: Columns,
) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    let mut header = vec!["series", "date", "count", "expected", "upperbound", "alarm"];
    if columns.essence {
        header.extend(["p_value", "level"]);
    }
    if columns.explain {
        header.extend(["score", "p_value", "level", "trend", "params"]);
    }
    w.write_record(&header)?;
    let params = detector.describe();
    let mut cell = String::new();
    let mut day = String::new();
    for outcome in outcomes {
        let Ok((series, evaluations)) = &outcome.result else {
            continue;
        };
        for e in evaluations {
            w.write_field(&outcome.name)?;
            day.clear();
            let _ = write!(day, "{}", series.dates()[e.index]);
            w.write_field(&day)?;
            for value in [series.counts()[e.index], e.expected, e.upperbound] {
                w.write_field(number_into(&mut cell, value))?;
            }
            w.write_field(if e.alarm { "1" } else { "0" })?;
            let level = e.level.map_or("", |l| l.as_str());
            if columns.essence {
                w.write_field(number_into(&mut cell, e.p_value))?;
                w.write_field(level)?;
            }
            if columns.explain {
                w.write_field(number_into(&mut cell, e.score))?;
                w.write_field(number_into(&mut cell, e.p_value))?;
                w.write_field(level)?;
                w.write_field(e.trend.map_or("", |t| if t { "1" } else { "0" }))?;
                w.write_field(&params)?;
            }
            w.write_record(None::<&[u8]>)?;
        }
    }
    w.flush()?;
    Ok(())
}

/// A CSV reader over `input` with its header names lower-cased and without a BOM.
pub(crate) fn table(input: impl Read) -> Result<(csv::Reader<impl Read>, Vec<String>), InputError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(input);
    let names = reader
        .headers()
        .map_err(|source| InputError::Csv { line: 1, source })?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    Ok((reader, names))
}

/// Reads each record of `reader`, passing its line number.
pub(crate) fn each_record(
    reader: &mut csv::Reader<impl Read>,
    mut f: impl FnMut(u64, &csv::StringRecord) -> Result<(), InputError>,
) -> Result<(), InputError> {
    let mut record = csv::StringRecord::new();
    let mut any = false;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(source) => {
                let line = source.position().map_or(0, |p| p.line());
                return Err(InputError::Csv { line, source });
            }
        }
        any = true;
        f(record.position().map_or(0, |p| p.line()), &record)?;
    }
    if any { Ok(()) } else { Err(InputError::Empty) }
}

pub(crate) fn find(names: &[String], wanted: &[&'static str]) -> Result<usize, InputError> {
    names
        .iter()
        .position(|n| wanted.contains(&n.as_str()))
        .ok_or_else(|| InputError::MissingColumn(wanted[0], names.join(",")))
}

fn cell_number(
    record: &csv::StringRecord,
    col: usize,
    line: u64,
    field: &'static str,
) -> Result<f64, InputError> {
    let text = record.get(col).unwrap_or_default();
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| InputError::Cell {
            line,
            field,
            message: format!("`{text}` is not a number"),
        })
}

fn cell_date(
    record: &csv::StringRecord,
    col: usize,
    line: u64,
    field: &'static str,
) -> Result<NaiveDate, InputError> {
    let text = record.get(col).unwrap_or_default();
    parse_date(text).ok_or_else(|| InputError::Cell {
        line,
        field,
        message: format!("`{text}` is not a date (YYYY-MM-DD)"),
    })
}

/// Daily incidence for Rt: a column `incidence` (EpiEstim's name) or `count`, in time order;
/// with a `date` column the days must be consecutive.
pub fn read_incidence(input: impl Read) -> Result<Vec<f64>, InputError> {
    let (mut reader, names) = table(input)?;
    let col = find(&names, &["incidence", "count", "i"])?;
    let field: &'static str = if names[col] == "count" {
        "count"
    } else {
        "incidence"
    };
    let date_col = names.iter().position(|n| n == "date");
    let mut incidence = Vec::new();
    let mut last: Option<NaiveDate> = None;
    each_record(&mut reader, |line, record| {
        incidence.push(cell_number(record, col, line, field)?);
        if let Some(c) = date_col {
            let date = cell_date(record, c, line, "date")?;
            if let Some(prev) = last
                && (date - prev).num_days() != 1
            {
                return Err(InputError::Cell {
                    line,
                    field: "date",
                    message: format!(
                        "{date} does not follow {prev} by one day; Rt needs consecutive days"
                    ),
                });
            }
            last = Some(date);
        }
        Ok(())
    })?;
    Ok(incidence)
}

/// Writes Rt estimates as `t_start,t_end,mean,std,q025,median,q975`.
pub fn write_rt(
    out: impl Write,
    estimates: &[hc_detect::rt::RtEstimate],
) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["t_start", "t_end", "mean", "std", "q025", "median", "q975"])?;
    for e in estimates {
        w.write_record([
            e.t_start.to_string(),
            e.t_end.to_string(),
            e.mean.to_string(),
            e.std.to_string(),
            e.q025.to_string(),
            e.median.to_string(),
            e.q975.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Scan locations: `id` (or `location`) with `x,y` (Cartesian, e.g. km on a city grid) or
/// `lon,lat` / `longitude,latitude` (degrees; distances on the sphere).
pub fn read_locations(
    input: impl Read,
) -> Result<(Vec<hc_detect::scan::Location>, hc_detect::scan::Coordinates), InputError> {
    use hc_detect::scan::{Coordinates, Location};
    let (mut reader, names) = table(input)?;
    let id = find(&names, &["id", "location", "code"])?;
    let has = |n: &str| names.iter().any(|h| h == n);
    let (coordinates, x, y, fx, fy) = if has("x") && has("y") {
        (
            Coordinates::Cartesian,
            find(&names, &["x"])?,
            find(&names, &["y"])?,
            "x",
            "y",
        )
    } else {
        (
            Coordinates::LatLon,
            find(&names, &["lon", "longitude", "lng"])?,
            find(&names, &["lat", "latitude"])?,
            "lon",
            "lat",
        )
    };
    let mut locations = Vec::new();
    each_record(&mut reader, |line, record| {
        locations.push(Location {
            id: record.get(id).unwrap_or_default().to_owned(),
            x: cell_number(record, x, line, fx)?,
            y: cell_number(record, y, line, fy)?,
        });
        Ok(())
    })?;
    Ok((locations, coordinates))
}

/// Scan cases: `location,date` and optionally `count` (default 1: one case a row).
pub fn read_cases(
    input: impl Read,
    locations: &[hc_detect::scan::Location],
) -> Result<Vec<hc_detect::scan::CaseCount>, InputError> {
    let index: HashMap<&str, usize> = locations
        .iter()
        .enumerate()
        .map(|(i, l)| (l.id.as_str(), i))
        .collect();
    let (mut reader, names) = table(input)?;
    let loc = find(&names, &["location", "location_id", "id"])?;
    let date = find(&names, &["date"])?;
    let count = names.iter().position(|n| n == "count");
    let mut cases = Vec::new();
    each_record(&mut reader, |line, record| {
        let id = record.get(loc).unwrap_or_default();
        let location = *index.get(id).ok_or_else(|| InputError::Cell {
            line,
            field: "location",
            message: format!("`{id}` is not in the locations file"),
        })?;
        let n = match count {
            None => 1,
            Some(c) => {
                let text = record.get(c).unwrap_or_default();
                text.parse::<u32>().map_err(|_| InputError::Cell {
                    line,
                    field: "count",
                    message: format!("`{text}` is not a whole number of cases"),
                })?
            }
        };
        cases.push(hc_detect::scan::CaseCount {
            location,
            date: cell_date(record, date, line, "date")?,
            count: n,
        });
        Ok(())
    })?;
    Ok(cases)
}

/// Writes clusters as `rank,center,locations,radius,start,end,observed,expected,observed_over_expected,
/// llr,p_value,recurrence_days` (locations separated by `|`).
pub fn write_clusters(
    out: impl Write,
    clusters: &[hc_detect::scan::Cluster],
    locations: &[hc_detect::scan::Location],
) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "rank",
        "center",
        "locations",
        "radius",
        "start",
        "end",
        "observed",
        "expected",
        "observed_over_expected",
        "llr",
        "p_value",
        "recurrence_days",
    ])?;
    let id = |i: usize| locations.get(i).map_or("", |l| l.id.as_str());
    for (rank, c) in clusters.iter().enumerate() {
        let members: Vec<&str> = c.locations.iter().map(|&i| id(i)).collect();
        w.write_record([
            (rank + 1).to_string(),
            id(c.center).to_owned(),
            members.join("|"),
            c.radius.to_string(),
            c.start.to_string(),
            c.end.to_string(),
            c.observed.to_string(),
            c.expected.to_string(),
            (c.observed as f64 / c.expected).to_string(),
            c.llr.to_string(),
            c.p_value.to_string(),
            c.recurrence_days.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// A number as the shortest text that reads back to the same value, empty for `NA`, written
/// into `buf` (reused from cell to cell).
fn number_into(buf: &mut String, value: Option<f64>) -> &str {
    buf.clear();
    if let Some(v) = value
        && !v.is_nan()
    {
        let _ = write!(buf, "{v}");
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use hc_detect::Params;

    fn read(text: &str) -> Vec<SeriesInput> {
        read_series(text.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn dates_are_exactly_yyyy_mm_dd() {
        assert_eq!(
            parse_date("2024-02-29"),
            NaiveDate::from_ymd_opt(2024, 2, 29)
        );
        for bad in [
            "2023-02-29",
            "2024-2-01",
            "2024/02/01",
            "24-02-01",
            "2024-02-01 ",
            "２０２４-02-01",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_bad_row_spoils_only_its_series() {
        let inputs = read(
            "\u{feff}series,date,count\n\
             a,2024-01-01,1\nb,2024-01-01,2\na,2024-01-02,x\nb,2024-01-02,3\n",
        );
        assert_eq!(inputs.len(), 2);
        assert_eq!(
            inputs[0].series.as_ref().map(|_| ()),
            Err(&"line 4: count `x` on 2024-01-02 is not a non-negative number".to_owned())
        );
        let b = inputs[1].series.as_ref().map(|s| s.counts().to_vec());
        assert_eq!(b, Ok(vec![Some(2.0), Some(3.0)]));
    }

    #[test]
    fn missing_columns_and_irregular_dates_are_named() {
        let err = read_series("day,count\n2024-01-01,1\n".as_bytes()).map(|_| ());
        assert_eq!(
            err.map_err(|e| e.to_string()),
            Err("the header has no `date` column (it has: day,count)".into())
        );
        let inputs = read("date,count\n2024-01-01,1\n2024-01-02,1\n2024-01-05,\n");
        assert_eq!(inputs[0].name, "");
        assert!(
            inputs[0]
                .series
                .as_ref()
                .is_err_and(|e| e.contains("irregular dates: 2024-01-02 is followed by 2024-01-05"))
        );
    }

    #[test]
    fn output_has_the_contract_columns_and_na_as_empty() {
        let mut text = String::from("series,date,count\n");
        for day in 1..=20 {
            let count = if day == 20 { 30 } else { 2 + day % 3 };
            text.push_str(&format!("s,2024-01-{day:02},{count}\n"));
        }
        let inputs = read(&text);
        let detector = hc_detect::detector("ears", Params::parse("variant=C1").unwrap_or_default());
        let detector = detector.unwrap_or_else(|e| panic!("{e}"));
        let outcomes = detect_all(detector.as_ref(), inputs, None, None);
        let mut out = Vec::new();
        let written = write_evaluations(
            &mut out,
            detector.as_ref(),
            &outcomes,
            Columns::for_method("ears", false),
        );
        assert!(written.is_ok());
        let out = String::from_utf8_lossy(&out);
        let mut lines = out.lines();
        assert_eq!(
            lines.next(),
            Some("series,date,count,expected,upperbound,alarm")
        );
        let last = out.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("s,2024-01-20,30,") && last.ends_with(",1"),
            "{out}"
        );
    }
}
