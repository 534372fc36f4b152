//! The response to a signal or event: who works on it, how far its verification got, how it
//! ended, and how fast the CDC answered.
//!
//! A signal (or event) moves forward through [`Stage`]s:
//!
//! ```text
//! new ─assign─▶ assigned ─verify─▶ preliminary_check ─verify─▶ field_investigation
//!  │                │                     │                          │
//!  └────────────────┴──────close (with an outcome)───────────────────┴──▶ closed
//! ```
//!
//! * `assign` names who works on it; from `new` it moves to `assigned`, later it only hands
//!   the work over (the stage stays).
//! * `verify` moves to `preliminary_check` (核实: desk review of the counts and line list) or
//!   `field_investigation` (现场调查); only forward, and stages may be skipped (an analyst can
//!   go to the field at once). Verifying an unassigned signal assigns it to whoever verifies.
//! * `close` needs an outcome. A `confirmed_outbreak` needs a field investigation first: an
//!   outbreak is confirmed on site, not at the desk.
//! * A `note` is allowed at any stage, closed included, and must say something.
//! * Nothing reopens a closed signal. A close made in error is corrected by a note on the
//!   record (the trail is append-only, so the mistake stays visible); an outbreak that goes
//!   on raises new signals in the next runs, which are worked on their own.
//!
//! The response time of a signal is the time from when it was raised to its first action (any
//! action, a note included: the CDC has seen it). [`response_stats`] summarises them against
//! a target (CIDARS: answered within 24 hours).
//!
//! ```
//! use hc_surveillance::workflow::{State, Stage, Step, Outcome, apply};
//! let s = apply(&State::default(), &Step::Assign { to: "li".into() }, "wang", "").unwrap();
//! assert_eq!(s.stage, Stage::Assigned);
//! let err = apply(&s, &Step::Close { outcome: Outcome::ConfirmedOutbreak }, "li", "").unwrap_err();
//! assert_eq!(err.field(), "outcome");
//! ```

use serde::{Deserialize, Serialize};

/// Where the response to a signal or event stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Raised, nobody has acted yet.
    New,
    /// Someone is named to work on it.
    Assigned,
    /// Desk review of the counts, line list and reporting sites (核实).
    PreliminaryCheck,
    /// On-site investigation (现场调查).
    FieldInvestigation,
    /// Closed with an outcome.
    Closed,
}

impl Stage {
    /// Every stage, in order.
    pub const ALL: [Stage; 5] = [
        Stage::New,
        Stage::Assigned,
        Stage::PreliminaryCheck,
        Stage::FieldInvestigation,
        Stage::Closed,
    ];

    /// `new`, `assigned`, `preliminary_check`, `field_investigation`, `closed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::New => "new",
            Stage::Assigned => "assigned",
            Stage::PreliminaryCheck => "preliminary_check",
            Stage::FieldInvestigation => "field_investigation",
            Stage::Closed => "closed",
        }
    }

    /// Parses [`Stage::as_str`].
    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether the stage is one `verify` moves to.
    pub fn is_verification(self) -> bool {
        matches!(self, Stage::PreliminaryCheck | Stage::FieldInvestigation)
    }
}

/// How a closed signal or event ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Not an outbreak (reporting artefact, known cluster, chance).
    FalseAlarm,
    /// An outbreak is suspected but could not be confirmed.
    SuspectedOutbreak,
    /// An outbreak confirmed by field investigation.
    ConfirmedOutbreak,
}

impl Outcome {
    /// Every outcome.
    pub const ALL: [Outcome; 3] = [
        Outcome::FalseAlarm,
        Outcome::SuspectedOutbreak,
        Outcome::ConfirmedOutbreak,
    ];

    /// `false_alarm`, `suspected_outbreak`, `confirmed_outbreak`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::FalseAlarm => "false_alarm",
            Outcome::SuspectedOutbreak => "suspected_outbreak",
            Outcome::ConfirmedOutbreak => "confirmed_outbreak",
        }
    }

    /// Parses [`Outcome::as_str`].
    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// One step of the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Name who works on it.
    Assign {
        /// The username.
        to: String,
    },
    /// Move verification forward.
    Verify {
        /// `preliminary_check` or `field_investigation`.
        stage: Stage,
    },
    /// Close with an outcome.
    Close {
        /// How it ended.
        outcome: Outcome,
    },
    /// Add a note, nothing else.
    Note,
}

impl Step {
    /// `assign`, `verify`, `close`, `note`: the action as the trail records it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Step::Assign { .. } => "assign",
            Step::Verify { .. } => "verify",
            Step::Close { .. } => "close",
            Step::Note => "note",
        }
    }
}

/// The workflow state of a signal or event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// Its stage.
    pub stage: Stage,
    /// Its outcome, once closed.
    pub outcome: Option<Outcome>,
    /// Who works on it.
    pub assigned_to: Option<String>,
}

impl Default for State {
    fn default() -> Self {
        State {
            stage: Stage::New,
            outcome: None,
            assigned_to: None,
        }
    }
}

/// The longest note, in characters.
pub const MAX_NOTE: usize = 4000;

/// The longest username an assignment names.
pub const MAX_ASSIGNEE: usize = 64;

/// Why a step is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// The signal is closed; only notes are allowed.
    #[error("it is closed ({0}); only a note may be added")]
    Closed(&'static str),
    /// `verify` names a stage that is not a verification stage.
    #[error("verify moves to preliminary_check or field_investigation, not {0}")]
    NotVerification(&'static str),
    /// `verify` goes back or stays.
    #[error("it is already at {from}; verification only moves forward")]
    Backwards {
        /// The current stage.
        from: &'static str,
    },
    /// A confirmed outbreak without a field investigation.
    #[error(
        "an outbreak is confirmed by a field investigation: verify to field_investigation first"
    )]
    ConfirmWithoutField,
    /// `assign` to nobody, or a name too long.
    #[error("name the username to assign it to (at most {MAX_ASSIGNEE} characters)")]
    Assignee,
    /// An empty note on a `note` step.
    #[error("a note must say something")]
    EmptyNote,
    /// A note over [`MAX_NOTE`] characters.
    #[error("a note has at most {MAX_NOTE} characters")]
    LongNote,
}

impl StepError {
    /// The input field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            StepError::Closed(_) => "action",
            StepError::NotVerification(_) | StepError::Backwards { .. } => "stage",
            StepError::ConfirmWithoutField => "outcome",
            StepError::Assignee => "to",
            StepError::EmptyNote | StepError::LongNote => "note",
        }
    }
}

/// The state after `step`, taken by `actor` with `note`, or why it is refused.
pub fn apply(state: &State, step: &Step, actor: &str, note: &str) -> Result<State, StepError> {
    if note.chars().count() > MAX_NOTE {
        return Err(StepError::LongNote);
    }
    if state.stage == Stage::Closed && *step != Step::Note {
        let outcome = state.outcome.map_or("no outcome", Outcome::as_str);
        return Err(StepError::Closed(outcome));
    }
    let mut next = state.clone();
    match step {
        Step::Note => {
            if note.trim().is_empty() {
                return Err(StepError::EmptyNote);
            }
        }
        Step::Assign { to } => {
            let to = to.trim();
            if to.is_empty() || to.chars().count() > MAX_ASSIGNEE {
                return Err(StepError::Assignee);
            }
            next.assigned_to = Some(to.to_owned());
            if next.stage == Stage::New {
                next.stage = Stage::Assigned;
            }
        }
        Step::Verify { stage } => {
            if !stage.is_verification() {
                return Err(StepError::NotVerification(stage.as_str()));
            }
            if *stage <= state.stage {
                return Err(StepError::Backwards {
                    from: state.stage.as_str(),
                });
            }
            next.stage = *stage;
            if next.assigned_to.is_none() && !actor.is_empty() {
                next.assigned_to = Some(actor.to_owned());
            }
        }
        Step::Close { outcome } => {
            if *outcome == Outcome::ConfirmedOutbreak && state.stage != Stage::FieldInvestigation {
                return Err(StepError::ConfirmWithoutField);
            }
            next.stage = Stage::Closed;
            next.outcome = Some(*outcome);
        }
    }
    Ok(next)
}

/// The CIDARS target: a signal is answered within 24 hours.
pub const RESPONSE_TARGET_HOURS: f64 = 24.0;

/// When one signal was raised and answered (unix seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Response {
    /// When it was raised.
    pub raised_at: i64,
    /// Its first action, if any.
    pub answered_at: Option<i64>,
    /// Whether it is closed.
    pub closed: bool,
}

/// Response times of a set of signals against a target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResponseStats {
    /// Signals.
    pub signals: usize,
    /// Signals acted on at least once.
    pub answered: usize,
    /// Signals answered within the target.
    pub within_target: usize,
    /// Median hours to the first action, over the answered signals.
    pub median_hours: Option<f64>,
    /// 90th percentile of the same.
    pub p90_hours: Option<f64>,
    /// Signals not closed.
    pub open: usize,
}

impl ResponseStats {
    /// The share of all signals (answered or not) that were answered within the target.
    pub fn share_within(&self) -> Option<f64> {
        (self.signals > 0).then(|| self.within_target as f64 / self.signals as f64)
    }
}

/// Summarises `items` against `target_hours`. An answer recorded before the signal was raised
/// (clock skew, back-filled history) counts as immediate. Percentiles interpolate linearly
/// between order statistics (R's type 7, the spreadsheet default).
pub fn response_stats(items: &[Response], target_hours: f64) -> ResponseStats {
    let mut hours: Vec<f64> = items
        .iter()
        .filter_map(|r| {
            r.answered_at
                .map(|a| (a - r.raised_at).max(0) as f64 / 3600.0)
        })
        .collect();
    hours.sort_by(f64::total_cmp);
    ResponseStats {
        signals: items.len(),
        answered: hours.len(),
        within_target: hours.iter().filter(|h| **h <= target_hours).count(),
        median_hours: quantile(&hours, 0.5),
        p90_hours: quantile(&hours, 0.9),
        open: items.iter().filter(|r| !r.closed).count(),
    }
}

/// The `q` quantile of sorted `xs` (type 7), `None` when empty.
pub fn quantile(xs: &[f64], q: f64) -> Option<f64> {
    let last = xs.len().checked_sub(1)?;
    let h = last as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(last);
    Some(xs[lo] + (h - lo as f64) * (xs[hi] - xs[lo]))
}

/// The district an area code belongs to (its first six digits: GB/T 2260 codes of streets
/// and communities extend their district's); a city's own code stands for itself.
pub fn district_of(area: &str) -> &str {
    area.get(..6).unwrap_or(area)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(stage: Stage, assigned: Option<&str>) -> State {
        State {
            stage,
            outcome: None,
            assigned_to: assigned.map(str::to_owned),
        }
    }

    /// Runs a script of steps from `new` and describes each result, one per line.
    fn script(steps: &[(Step, &str)]) -> String {
        let mut s = State::default();
        let mut out = String::new();
        for (step, note) in steps {
            match apply(&s, step, "wang", note) {
                Ok(n) => {
                    out += &format!(
                        "{} -> {} {} {}\n",
                        step.as_str(),
                        n.stage.as_str(),
                        n.assigned_to.as_deref().unwrap_or("-"),
                        n.outcome.map_or("-", Outcome::as_str)
                    );
                    s = n;
                }
                Err(e) => out += &format!("{} refused [{}]: {e}\n", step.as_str(), e.field()),
            }
        }
        out
    }

    #[test]
    fn the_usual_path_moves_forward_and_closes() {
        let out = script(&[
            (Step::Assign { to: "li".into() }, ""),
            (
                Step::Verify {
                    stage: Stage::PreliminaryCheck,
                },
                "line list checked",
            ),
            (
                Step::Verify {
                    stage: Stage::FieldInvestigation,
                },
                "",
            ),
            (Step::Assign { to: "zhao".into() }, "handed over"),
            (
                Step::Close {
                    outcome: Outcome::ConfirmedOutbreak,
                },
                "",
            ),
            (Step::Note, "report filed"),
            (Step::Assign { to: "li".into() }, ""),
        ]);
        assert_eq!(
            out,
            "assign -> assigned li -\n\
             verify -> preliminary_check li -\n\
             verify -> field_investigation li -\n\
             assign -> field_investigation zhao -\n\
             close -> closed zhao confirmed_outbreak\n\
             note -> closed zhao confirmed_outbreak\n\
             assign refused [action]: it is closed (confirmed_outbreak); only a note may be added\n"
        );
    }

    #[test]
    fn verification_only_moves_forward_and_assigns_the_verifier() {
        let out = script(&[
            (
                Step::Verify {
                    stage: Stage::FieldInvestigation,
                },
                "",
            ),
            (
                Step::Verify {
                    stage: Stage::PreliminaryCheck,
                },
                "",
            ),
            (
                Step::Verify {
                    stage: Stage::FieldInvestigation,
                },
                "",
            ),
            (
                Step::Verify {
                    stage: Stage::Closed,
                },
                "",
            ),
        ]);
        assert_eq!(
            out,
            "verify -> field_investigation wang -\n\
             verify refused [stage]: it is already at field_investigation; verification only moves forward\n\
             verify refused [stage]: it is already at field_investigation; verification only moves forward\n\
             verify refused [stage]: verify moves to preliminary_check or field_investigation, not closed\n"
        );
    }

    #[test]
    fn closing_rules_and_notes() {
        let new = State::default();
        let e = apply(
            &st(Stage::PreliminaryCheck, Some("li")),
            &Step::Close {
                outcome: Outcome::ConfirmedOutbreak,
            },
            "li",
            "",
        )
        .unwrap_err();
        assert_eq!(e, StepError::ConfirmWithoutField);
        // A false alarm can be closed straight away, unassigned.
        let closed = apply(
            &new,
            &Step::Close {
                outcome: Outcome::FalseAlarm,
            },
            "li",
            "",
        )
        .unwrap();
        assert_eq!(
            (closed.stage, closed.outcome, closed.assigned_to),
            (Stage::Closed, Some(Outcome::FalseAlarm), None)
        );
        assert_eq!(
            apply(&new, &Step::Note, "li", "  ").unwrap_err().field(),
            "note"
        );
        assert_eq!(
            apply(&new, &Step::Note, "li", &"x".repeat(MAX_NOTE + 1)).unwrap_err(),
            StepError::LongNote
        );
        assert_eq!(
            apply(&new, &Step::Assign { to: " ".into() }, "li", "")
                .unwrap_err()
                .field(),
            "to"
        );
        assert_eq!(apply(&new, &Step::Note, "li", "seen").unwrap(), new);
    }

    #[test]
    fn codes_round_trip() {
        for s in Stage::ALL {
            assert_eq!(Stage::parse(s.as_str()), Some(s));
        }
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
        }
        assert_eq!(Stage::parse("done"), None);
        assert_eq!(Outcome::parse("Confirmed_Outbreak"), None);
    }

    #[test]
    fn response_statistics() {
        let h = 3600;
        let items = [
            Response {
                raised_at: 0,
                answered_at: Some(h),
                closed: true,
            },
            Response {
                raised_at: 0,
                answered_at: Some(2 * h),
                closed: true,
            },
            Response {
                raised_at: 0,
                answered_at: Some(3 * h),
                closed: false,
            },
            Response {
                raised_at: 0,
                answered_at: Some(30 * h),
                closed: true,
            },
            Response {
                raised_at: 10 * h,
                answered_at: Some(9 * h),
                closed: true,
            },
            Response {
                raised_at: 0,
                answered_at: None,
                closed: false,
            },
        ];
        let s = response_stats(&items, RESPONSE_TARGET_HOURS);
        assert_eq!(
            (s.signals, s.answered, s.within_target, s.open),
            (6, 5, 4, 2)
        );
        // Hours: 0, 1, 2, 3, 30 → median 2, p90 = 3 + 0.6 × 27.
        assert_eq!(s.median_hours, Some(2.0));
        assert!((s.p90_hours.unwrap() - 19.2).abs() < 1e-9, "{s:?}");
        assert!((s.share_within().unwrap() - 4.0 / 6.0).abs() < 1e-12);
        let none = response_stats(&[], RESPONSE_TARGET_HOURS);
        assert_eq!((none.median_hours, none.share_within()), (None, None));
        assert_eq!(quantile(&[5.0], 0.9), Some(5.0));
        assert_eq!(quantile(&[1.0, 2.0], 0.5), Some(1.5));
    }

    #[test]
    fn districts_of_areas() {
        assert_eq!(district_of("440305001001"), "440305");
        assert_eq!(district_of("440305001"), "440305");
        assert_eq!(district_of("440300"), "440300");
        assert_eq!(district_of("44"), "44");
    }
}
