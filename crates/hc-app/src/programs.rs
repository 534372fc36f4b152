//! Chronic-disease follow-ups from a CSV file, through the rules of `hc-care`: what
//! `healthcity programs evaluate` runs, without a database.
//!
//! Input columns: `patient_id,birth_date,visit_date,sbp,dbp,fpg,danger_sign,adverse_reaction,
//! complication`; an empty cell is "not measured" (or "none"). A row that cannot be read is
//! reported with its line and field and left out; every other row is evaluated.

use std::io::{Read, Write};

use chrono::NaiveDate;
use hc_care::{AdverseReaction, Complication, Outcome, Program, Rules, Visit};

use crate::detect::{InputError, each_record, find, parse_date, table};

/// A visit read from the file.
#[derive(Debug, Clone)]
pub struct VisitRow {
    /// The line it came from.
    pub line: u64,
    /// The patient.
    pub patient_id: String,
    /// The visit.
    pub visit: Visit,
}

/// A row left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Line of the file (the header is line 1).
    pub line: u64,
    /// The column at fault.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, field {}: {}",
            self.line, self.field, self.message
        )
    }
}

const COLUMNS: [&str; 9] = [
    "patient_id",
    "birth_date",
    "visit_date",
    "sbp",
    "dbp",
    "fpg",
    "danger_sign",
    "adverse_reaction",
    "complication",
];

/// Reads the visits of `input`: the usable rows, and every problem of the others. A row with
/// an implausible value (an SBP of 20, a glucose of 0, a visit after `today`) is a problem,
/// not a visit.
pub fn read_visits(
    input: impl Read,
    rules: &Rules,
    today: NaiveDate,
) -> Result<(Vec<VisitRow>, Vec<RowError>), InputError> {
    let (mut reader, names) = table(input)?;
    let mut col = [0usize; 9];
    for (i, name) in COLUMNS.iter().enumerate() {
        col[i] = find(&names, std::slice::from_ref(name))?;
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    each_record(&mut reader, |line, record| {
        let cell = |i: usize| record.get(col[i]).unwrap_or_default();
        let mut problems: Vec<RowError> = Vec::new();
        let mut bad = |field: &'static str, message: String| {
            problems.push(RowError {
                line,
                field,
                message,
            });
        };
        let patient_id = cell(0).to_owned();
        if patient_id.is_empty() {
            bad("patient_id", "is empty".into());
        }
        let mut date = |i: usize| match parse_date(cell(i)) {
            Some(d) => Some(d),
            None => {
                bad(
                    COLUMNS[i],
                    format!("`{}` is not a date (YYYY-MM-DD)", cell(i)),
                );
                None
            }
        };
        let birth_date = date(1);
        let visit_date = date(2);
        let mut pressure = |i: usize| -> Option<u16> {
            let text = cell(i);
            if text.is_empty() {
                return None;
            }
            text.parse::<u16>().ok().or_else(|| {
                bad(
                    COLUMNS[i],
                    format!("`{text}` is not a pressure in whole mmHg"),
                );
                None
            })
        };
        let sbp = pressure(3);
        let dbp = pressure(4);
        let fpg = match cell(5) {
            "" => None,
            text => text
                .parse::<f64>()
                .ok()
                .filter(|g| g.is_finite())
                .or_else(|| {
                    bad("fpg", format!("`{text}` is not a glucose in mmol/L"));
                    None
                }),
        };
        let danger_sign = match cell(6) {
            "" | "0" => false,
            "1" => true,
            other => {
                bad("danger_sign", format!("`{other}` is not 0 or 1"));
                false
            }
        };
        let adverse_reaction = match cell(7) {
            "" => AdverseReaction::None,
            text => AdverseReaction::parse(text).unwrap_or_else(|| {
                bad(
                    "adverse_reaction",
                    format!("`{text}` is not none|controlled|uncontrollable"),
                );
                AdverseReaction::None
            }),
        };
        let complication = match cell(8) {
            "" => Complication::None,
            text => Complication::parse(text).unwrap_or_else(|| {
                bad(
                    "complication",
                    format!("`{text}` is not none|stable|new|worse"),
                );
                Complication::None
            }),
        };
        if let (Some(birth_date), Some(date)) = (birth_date, visit_date) {
            let visit = Visit {
                date,
                birth_date,
                sbp,
                dbp,
                fpg,
                danger_sign,
                adverse_reaction,
                complication,
                face_to_face: true,
            };
            for p in hc_care::check_visit(rules, &visit, today) {
                problems.push(RowError {
                    line,
                    field: p.field,
                    message: p.message,
                });
            }
            if problems.is_empty() {
                rows.push(VisitRow {
                    line,
                    patient_id,
                    visit,
                });
            }
        }
        errors.extend(problems);
        Ok(())
    })?;
    Ok((rows, errors))
}

/// One evaluated visit.
#[derive(Debug, Clone)]
pub struct Evaluated {
    /// The patient.
    pub patient_id: String,
    /// The visit's date.
    pub visit_date: NaiveDate,
    /// What the rules say.
    pub outcome: Outcome,
}

/// Evaluates every patient's visits: patients in the order they first appear, each patient's
/// visits in date order.
pub fn evaluate_rows(program: Program, rules: &Rules, rows: Vec<VisitRow>) -> Vec<Evaluated> {
    let mut order: Vec<String> = Vec::new();
    let mut by_patient: std::collections::HashMap<String, Vec<Visit>> =
        std::collections::HashMap::new();
    for r in rows {
        let visits = by_patient.entry(r.patient_id.clone()).or_insert_with(|| {
            order.push(r.patient_id.clone());
            Vec::new()
        });
        visits.push(r.visit);
    }
    let mut out = Vec::new();
    for patient in order {
        let mut visits = by_patient.remove(&patient).unwrap_or_default();
        visits.sort_by_key(|v| v.date);
        let outcomes = hc_care::evaluate(program, rules, &visits);
        out.extend(visits.iter().zip(outcomes).map(|(v, outcome)| Evaluated {
            patient_id: patient.clone(),
            visit_date: v.date,
            outcome,
        }));
    }
    out
}

/// Writes `patient_id,visit_date,classification,action,next_due`.
pub fn write_evaluated(out: impl Write, rows: &[Evaluated]) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "patient_id",
        "visit_date",
        "classification",
        "action",
        "next_due",
    ])?;
    for r in rows {
        w.write_record([
            r.patient_id.as_str(),
            &r.visit_date.to_string(),
            r.outcome.classification.as_str(),
            r.outcome.action.as_str(),
            &r.outcome.next_due.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "patient_id,birth_date,visit_date,sbp,dbp,fpg,danger_sign,adverse_reaction,complication\n";

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    #[test]
    fn bad_rows_are_named_and_the_rest_evaluated() {
        let csv = format!(
            "{HEADER}p1,1970-01-01,2026-01-10,150,95,,0,,\n\
             p1,1970-01-01,2026-01-24,20,95,,0,,\n\
             p2,1950-02-02,2026-02-01,145,85,,,none,stable\n\
             p1,1970-01-01,2026-02-07,152,96,,0,,\n\
             p3,1970-01-01,2027-01-01,120,80,,maybe,sometimes,\n"
        );
        let (rows, errors) = read_visits(csv.as_bytes(), &Rules::default(), today()).unwrap();
        let named: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.field)).collect();
        assert_eq!(
            named,
            [
                (3, "sbp"),
                (3, "dbp"),
                (6, "danger_sign"),
                (6, "adverse_reaction"),
                (6, "visit_date")
            ]
        );
        let out = evaluate_rows(Program::Hypertension, &Rules::default(), rows);
        let got: Vec<(&str, &str, &str)> = out
            .iter()
            .map(|e| {
                (
                    e.patient_id.as_str(),
                    e.outcome.classification.as_str(),
                    e.outcome.action.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("p1", "unsatisfied", "revisit_2w"),
                ("p1", "unsatisfied", "refer"),
                ("p2", "satisfied", "routine"),
            ]
        );
        let mut buf = Vec::new();
        write_evaluated(&mut buf, &out).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(text.starts_with("patient_id,visit_date,classification,action,next_due\n"));
        assert!(
            text.contains("p2,2026-02-01,satisfied,routine,2026-05-01\n"),
            "{text}"
        );
    }

    #[test]
    fn a_missing_column_is_named() {
        let err = read_visits(
            "patient_id,visit_date\np1,2026-01-01\n".as_bytes(),
            &Rules::default(),
            today(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("birth_date"), "{err}");
    }
}
