//! `healthcity syndromes`: the syndromic classifier of `hc-syndromes` on a CSV of visits,
//! without a database, and the built-in dictionary a province starts its own from.
//!
//! Input columns: `record_id,institution_code,visit_time,community_code,age,sex,
//! chief_complaint,diagnosis_codes,temperature`; the classifier reads `record_id`,
//! `chief_complaint`, `diagnosis_codes` (ICD-10 separated by `|`) and `temperature` (°C, may be
//! empty), which must be in the header; the others are passed over. Output:
//! `record_id,syndromes` (codes separated by `|`, in the fixed order of `hc_syndromes::Syndrome`),
//! one row per record read, in input order. A row that cannot be read is named on standard
//! error with its line and field and left out; every other row is classified. The rows stream:
//! memory does not grow with the file.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use hc_syndromes::{Dictionary, IcdCode, Visit};

use crate::analysis::open;

/// Exit code for unreadable input or an unusable dictionary.
const BAD_INPUT: u8 = 2;

/// Body temperatures a record may hold (°C); anything else is a typing or unit error.
const PLAUSIBLE: std::ops::RangeInclusive<f64> = 30.0..=45.0;

#[derive(Subcommand, Debug)]
pub enum SyndromesAction {
    /// Classify each visit of a CSV file into syndromes (fever, ili, gi, rash, jaundice,
    /// conjunctivitis, neuro, fever_haem).
    Classify(ClassifyArgs),
    /// Print the built-in dictionary (TOML): the starting point of a province's own.
    Dictionary,
}

#[derive(Args, Debug)]
pub struct ClassifyArgs {
    /// CSV with `record_id,chief_complaint,diagnosis_codes,temperature` (and optionally
    /// `institution_code,visit_time,community_code,age,sex`); "-" for standard input.
    #[arg(long)]
    input: PathBuf,
    /// Where to write `record_id,syndromes`. [default: standard output]
    #[arg(long)]
    output: Option<PathBuf>,
    /// A TOML dictionary replacing the built-in one (see `healthcity syndromes dictionary`).
    #[arg(long)]
    dictionary: Option<PathBuf>,
    /// Add a `reasons` column: why each syndrome was given (term, code, temperature).
    #[arg(long)]
    explain: bool,
}

pub fn run(action: &SyndromesAction) -> ExitCode {
    match action {
        SyndromesAction::Classify(args) => classify(args),
        SyndromesAction::Dictionary => {
            print!("{}", hc_syndromes::BUILTIN);
            ExitCode::SUCCESS
        }
    }
}

/// `healthcity syndromes classify`: exit 0 when every row was classified, 1 when some rows
/// were left out (each named on standard error) or the output could not be written, 2 when the
/// file or the dictionary cannot be used.
/// The dictionary in `path` (a TOML file), or the built-in one; the error names the file.
pub(crate) fn load_dictionary(path: Option<&std::path::Path>) -> Result<Dictionary, String> {
    match path {
        None => Dictionary::builtin().map_err(|e| format!("the built-in dictionary: {e}")),
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| Dictionary::from_toml(&text).map_err(|e| e.to_string()))
            .map_err(|e| format!("dictionary {}: {e}", path.display())),
    }
}

fn classify(args: &ClassifyArgs) -> ExitCode {
    let dictionary = match load_dictionary(args.dictionary.as_deref()) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    let name = args.input.display();
    let mut file = match open(&args.input).and_then(VisitFile::new) {
        Ok(file) => file,
        Err(e) => {
            eprintln!("error: {name}: {e}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    // The output is created at the first data row, so an empty or unreadable file leaves none.
    let mut out: Option<csv::Writer<Box<dyn Write>>> = None;
    let (mut rows, mut failed) = (0u64, 0u64);
    while let Some(next) = file.next_row() {
        let row = match next {
            Ok(row) => row,
            Err(e) => {
                eprintln!("error: {name}: {e}");
                return ExitCode::from(BAD_INPUT);
            }
        };
        rows += 1;
        let writer = match &mut out {
            Some(w) => w,
            None => match create(args.output.as_ref(), args.explain) {
                Ok(w) => out.insert(w),
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            },
        };
        let row = match row {
            Ok(row) => row,
            Err(e) => {
                failed += 1;
                eprintln!("error: {name}: {e}");
                continue;
            }
        };
        let c = dictionary.classify(&row.visit());
        let syndromes = c.syndromes.to_string();
        let written = if args.explain {
            let reasons: Vec<String> = c.reasons.iter().map(ToString::to_string).collect();
            writer.write_record([row.id(), syndromes.as_str(), &reasons.join("; ")])
        } else {
            writer.write_record([row.id(), syndromes.as_str()])
        };
        if let Err(e) = written {
            eprintln!("error: writing the results: {e}");
            return ExitCode::FAILURE;
        }
    }
    if rows == 0 {
        eprintln!("error: {name}: the file has no data rows");
        return ExitCode::from(BAD_INPUT);
    }
    if let Some(mut w) = out
        && let Err(e) = w.flush()
    {
        eprintln!("error: writing the results: {e}");
        return ExitCode::FAILURE;
    }
    if failed > 0 {
        eprintln!("{failed} of {rows} rows could not be read");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// A CSV writer on `output` (or standard output) with the header written.
fn create(output: Option<&PathBuf>, explain: bool) -> Result<csv::Writer<Box<dyn Write>>, String> {
    let sink: Box<dyn Write> = match output {
        Some(path) => Box::new(BufWriter::new(
            File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let mut w = csv::Writer::from_writer(sink);
    let header: &[&str] = if explain {
        &["record_id", "syndromes", "reasons"]
    } else {
        &["record_id", "syndromes"]
    };
    w.write_record(header)
        .map_err(|e| format!("writing the results: {e}"))?;
    Ok(w)
}

/// The columns the classifier needs.
const COLUMNS: [&str; 4] = [
    "record_id",
    "chief_complaint",
    "diagnosis_codes",
    "temperature",
];

/// A row left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Line of the file where the row starts (the header is line 1).
    pub line: u64,
    /// The column at fault, when one is.
    pub field: Option<&'static str>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.field {
            Some(field) => write!(f, "line {}, field {field}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// A row that was read: the record it came from and its temperature.
#[derive(Debug)]
pub struct Row<'r> {
    record: &'r csv::StringRecord,
    col: &'r [usize; 4],
    temperature: Option<f64>,
}

impl Row<'_> {
    fn cell(&self, i: usize) -> &str {
        self.record.get(self.col[i]).unwrap_or_default()
    }

    fn id(&self) -> &str {
        self.cell(0)
    }

    fn visit(&self) -> Visit<'_> {
        Visit {
            chief_complaint: self.cell(1),
            diagnosis_codes: self.cell(2),
            temperature: self.temperature,
        }
    }
}

/// One step through a file: a row or why it was left out, or why reading stopped.
pub type Next<'r> = Result<Result<Row<'r>, RowError>, String>;

/// The visits of a CSV file, one row at a time.
pub struct VisitFile<R> {
    reader: csv::Reader<R>,
    width: usize,
    col: [usize; 4],
    record: csv::StringRecord,
}

impl<R: Read> VisitFile<R> {
    /// Reads the header; every column of [`COLUMNS`] must be in it (any order, any case).
    pub fn new(input: R) -> Result<VisitFile<R>, String> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(input);
        let names: Vec<String> = reader
            .headers()
            .map_err(|e| format!("line 1: {e}"))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect();
        let mut col = [0usize; 4];
        for (i, wanted) in COLUMNS.iter().enumerate() {
            col[i] = names.iter().position(|n| n == wanted).ok_or_else(|| {
                format!(
                    "the header has no `{wanted}` column (it has: {})",
                    names.join(",")
                )
            })?;
        }
        Ok(VisitFile {
            reader,
            width: names.len(),
            col,
            record: csv::StringRecord::new(),
        })
    }

    /// The next row: `None` at the end; `Err` when the file itself cannot be read further;
    /// `Ok(Err)` for a row that cannot be used.
    pub fn next_row(&mut self) -> Option<Next<'_>> {
        match self.reader.read_record(&mut self.record) {
            Ok(false) => return None,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                return match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => Some(Ok(Err(RowError {
                        line,
                        field: None,
                        message: "is not UTF-8 text".into(),
                    }))),
                    _ => Some(Err(format!("line {line}: {e}"))),
                };
            }
        }
        let line = self.record.position().map_or(0, |p| p.line());
        let bad = |field: Option<&'static str>, message: String| {
            Some(Ok(Err(RowError {
                line,
                field,
                message,
            })))
        };
        if self.record.len() != self.width {
            return bad(
                None,
                format!(
                    "{} fields, but the header has {}",
                    self.record.len(),
                    self.width
                ),
            );
        }
        let cell = |i: usize| self.record.get(self.col[i]).unwrap_or_default();
        if cell(0).is_empty() {
            return bad(Some("record_id"), "is empty".into());
        }
        if let Some(code) = cell(2)
            .split('|')
            .map(str::trim)
            .find(|c| !c.is_empty() && IcdCode::parse(c).is_none())
        {
            return bad(
                Some("diagnosis_codes"),
                format!("`{code}` is not an ICD-10 code"),
            );
        }
        let temperature = match cell(3) {
            "" => None,
            text => match text.parse::<f64>() {
                Ok(t) if PLAUSIBLE.contains(&t) => Some(t),
                Ok(_) => {
                    return bad(
                        Some("temperature"),
                        format!("`{text}` is not a body temperature in °C (30 to 45)"),
                    );
                }
                Err(_) => {
                    return bad(
                        Some("temperature"),
                        format!("`{text}` is not a temperature in °C"),
                    );
                }
            },
        };
        Some(Ok(Ok(Row {
            record: &self.record,
            col: &self.col,
            temperature,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row as `id=temperature` or the error.
    fn read(text: &str) -> Result<Vec<String>, String> {
        let mut file = VisitFile::new(text.as_bytes())?;
        let mut out = Vec::new();
        while let Some(row) = file.next_row() {
            out.push(match row? {
                Ok(r) => format!("{}={:?}", r.id(), r.temperature),
                Err(e) => e.to_string(),
            });
        }
        Ok(out)
    }

    #[test]
    fn rows_are_read_or_named_with_line_and_field() {
        let file = "\u{feff}Record_ID,institution_code,visit_time,community_code,age,sex,chief_complaint,diagnosis_codes,temperature\n\
                    a,I1,2026-03-01 08:00,C1,34,F,发热,J10.1|R50,38.5\n\
                    b,I1,2026-03-01 08:05,C1,5,M,\"咳嗽，咽痛\",,\n\
                    c,I1,2026-03-01 08:10,C1,5,M,腹泻,,abc\n\
                    d,I1,2026-03-01 08:15,C1,5,M,腹泻\n\
                    ,I1,2026-03-01 08:20,C1,5,M,腹泻,,\n\
                    f,I1,2026-03-01 08:25,C1,5,M,腹泻,感冒,\n\
                    g,I1,2026-03-01 08:30,C1,5,M,腹泻,,385\n";
        assert_eq!(
            read(file).unwrap(),
            [
                "a=Some(38.5)",
                "b=None",
                "line 4, field temperature: `abc` is not a temperature in °C",
                "line 5: 7 fields, but the header has 9",
                "line 6, field record_id: is empty",
                "line 7, field diagnosis_codes: `感冒` is not an ICD-10 code",
                "line 8, field temperature: `385` is not a body temperature in °C (30 to 45)",
            ]
        );
    }

    #[test]
    fn a_header_without_a_needed_column_is_refused() {
        assert_eq!(
            read("record_id,chief_complaint,diagnosis_codes\na,发热,\n").unwrap_err(),
            "the header has no `temperature` column (it has: record_id,chief_complaint,diagnosis_codes)"
        );
        // The four it reads are enough, in any order.
        assert_eq!(
            read("temperature,diagnosis_codes,chief_complaint,record_id\n37.0,,咳嗽,x\n").unwrap(),
            ["x=Some(37.0)"]
        );
    }
}
