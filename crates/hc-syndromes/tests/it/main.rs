//! The classifier against the project's labelled chief complaints (`tests/data/labelled.csv`,
//! see the README there): per-syndrome sensitivity and positive predictive value, and the exact
//! list of records it is known to get wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hc_syndromes::{Dictionary, Syndrome, SyndromeSet, Visit};

struct Labelled {
    id: String,
    complaint: String,
    codes: String,
    temperature: Option<f64>,
    expected: SyndromeSet,
}

fn labelled() -> Vec<Labelled> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/labelled.csv");
    let mut reader = csv::Reader::from_path(path).unwrap();
    assert_eq!(
        reader.headers().unwrap(),
        vec![
            "record_id",
            "chief_complaint",
            "diagnosis_codes",
            "temperature",
            "expected"
        ]
    );
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            Labelled {
                id: r[0].to_owned(),
                complaint: r[1].to_owned(),
                codes: r[2].to_owned(),
                temperature: (!r[3].is_empty()).then(|| r[3].parse().unwrap()),
                expected: SyndromeSet::parse(&r[4])
                    .unwrap_or_else(|code| panic!("{}: unknown syndrome {code}", &r[0])),
            }
        })
        .collect()
}

/// Records the classifier gets wrong on purpose-written hard cases, with why. Exact: a new
/// miss fails the test, and so does a miss that goes away (take it off the list).
const KNOWN_MISSES: &[(&str, &str)] = &[
    (
        "S100",
        "chickenpox contact, no rash yet: a contact is not the disease, but the dictionary sees \
         the word chickenpox",
    ),
    (
        "S312",
        "家中有人腹泻，本人无不适: the diarrhoea is a family member's; who has the symptom is \
         beyond a term list",
    ),
    (
        "S314",
        "颈部僵硬，落枕: a stiff neck from sleeping awkwardly, not meningism; the words are the \
         same",
    ),
];

#[derive(Default, Clone, Copy)]
struct Counts {
    tp: u32,
    fp: u32,
    fn_: u32,
    tn: u32,
}

impl Counts {
    fn sensitivity(self) -> f64 {
        f64::from(self.tp) / f64::from(self.tp + self.fn_)
    }
    fn ppv(self) -> f64 {
        f64::from(self.tp) / f64::from(self.tp + self.fp)
    }
    fn specificity(self) -> f64 {
        f64::from(self.tn) / f64::from(self.tn + self.fp)
    }
}

#[test]
fn labelled_complaints_agree_with_their_labels() {
    let dictionary = Dictionary::builtin().unwrap();
    let set = labelled();
    assert!(set.len() >= 300, "{} labelled records", set.len());
    let mut counts = [Counts::default(); 8];
    let mut misses: Vec<String> = Vec::new();
    let mut report = String::new();
    for r in &set {
        let c = dictionary.classify(&Visit {
            chief_complaint: &r.complaint,
            diagnosis_codes: &r.codes,
            temperature: r.temperature,
        });
        for (i, s) in Syndrome::ALL.into_iter().enumerate() {
            let k = &mut counts[i];
            match (r.expected.contains(s), c.syndromes.contains(s)) {
                (true, true) => k.tp += 1,
                (false, true) => k.fp += 1,
                (true, false) => k.fn_ += 1,
                (false, false) => k.tn += 1,
            }
        }
        if c.syndromes != r.expected {
            misses.push(r.id.clone());
            let why: Vec<String> = c.reasons.iter().map(ToString::to_string).collect();
            let negated: Vec<String> = c.negated.iter().map(ToString::to_string).collect();
            report.push_str(&format!(
                "{} {:?} codes={:?} t={:?}: expected [{}], got [{}]; reasons {why:?}; negated {negated:?}\n",
                r.id, r.complaint, r.codes, r.temperature, r.expected, c.syndromes
            ));
        }
    }
    println!("{} labelled records", set.len());
    println!(
        "{:<15} {:>4} {:>4} {:>4} {:>4} {:>7} {:>7} {:>7}",
        "syndrome", "TP", "FP", "FN", "TN", "sens", "spec", "PPV"
    );
    for (i, s) in Syndrome::ALL.into_iter().enumerate() {
        let k = counts[i];
        println!(
            "{:<15} {:>4} {:>4} {:>4} {:>4} {:>7.3} {:>7.3} {:>7.3}",
            s.as_str(),
            k.tp,
            k.fp,
            k.fn_,
            k.tn,
            k.sensitivity(),
            k.specificity(),
            k.ppv()
        );
    }
    print!("{report}");
    for (i, s) in Syndrome::ALL.into_iter().enumerate() {
        let k = counts[i];
        assert!(k.tp >= 10, "{s}: only {} positive labels", k.tp + k.fn_);
        assert!(
            k.sensitivity() >= 0.95 && k.ppv() >= 0.95,
            "{s}: sensitivity {:.3}, PPV {:.3}\n{report}",
            k.sensitivity(),
            k.ppv()
        );
    }
    let known: Vec<&str> = KNOWN_MISSES.iter().map(|(id, _)| *id).collect();
    assert_eq!(misses, known, "\n{report}");
}
