//! The signal and event workflow (assign, verify, close, note), response times and the
//! notifications of open signals.
//!
//! STUB: the real module is written on another branch and replaces this file at the merge;
//! only the signatures are final here. Every call answers an error or nothing, so the pages
//! that use it can be built and show that the workflow is not available.

use chrono::NaiveDate;
use hc_store::Store;
use serde::Serialize;

use crate::AppError;
use crate::audit::Caller;

/// What an action is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Target {
    /// A signal, by id.
    Signal(i64),
    /// An event, by id.
    Event(i64),
}

/// Where a signal or event is in its verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Stage {
    /// Raised, not yet looked at.
    New,
    /// Given to someone.
    Assigned,
    /// A first check of the data.
    PreliminaryCheck,
    /// Investigated in the field.
    FieldInvestigation,
    /// Done, with an outcome.
    Closed,
}

impl Stage {
    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::New => "new",
            Stage::Assigned => "assigned",
            Stage::PreliminaryCheck => "preliminary_check",
            Stage::FieldInvestigation => "field_investigation",
            Stage::Closed => "closed",
        }
    }

    /// The stage with code `s`.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Stage::New,
            Stage::Assigned,
            Stage::PreliminaryCheck,
            Stage::FieldInvestigation,
            Stage::Closed,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// How a closed signal or event ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Outcome {
    /// Nothing there.
    FalseAlarm,
    /// Possibly an outbreak.
    SuspectedOutbreak,
    /// An outbreak.
    ConfirmedOutbreak,
}

impl Outcome {
    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::FalseAlarm => "false_alarm",
            Outcome::SuspectedOutbreak => "suspected_outbreak",
            Outcome::ConfirmedOutbreak => "confirmed_outbreak",
        }
    }

    /// The outcome with code `s`.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Outcome::FalseAlarm,
            Outcome::SuspectedOutbreak,
            Outcome::ConfirmedOutbreak,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// What is done.
#[derive(Debug, Clone, Serialize)]
pub enum Action {
    /// Give it to a user.
    Assign {
        /// The username.
        to: String,
    },
    /// Move it to a stage of the verification.
    Verify {
        /// The stage.
        stage: Stage,
    },
    /// Close it.
    Close {
        /// How it ended.
        outcome: Outcome,
    },
    /// Only a note.
    Note,
}

/// An action with its note.
#[derive(Debug, Clone, Serialize)]
pub struct ActionInput {
    /// What is done.
    pub action: Action,
    /// Why, or what was found.
    pub note: String,
}

/// An action as stored.
#[derive(Debug, Clone, Serialize)]
pub struct ActionRow {
    /// Its id.
    pub id: i64,
    /// What it is about.
    pub target: Target,
    /// Unix seconds.
    pub at: i64,
    /// Who.
    pub username: String,
    /// `assign`, `verify`, `close` or `note`.
    pub action: String,
    /// The stage after it.
    pub status: Option<String>,
    /// The outcome, when closed.
    pub outcome: Option<String>,
    /// Who it was given to.
    pub assigned_to: Option<String>,
    /// The note.
    pub note: String,
}

/// The hours within which a signal should be answered.
pub const RESPONSE_TARGET_HOURS: f64 = 24.0;

/// How fast a district's signals were answered.
#[derive(Debug, Clone, Serialize)]
pub struct DistrictResponse {
    /// The district's code.
    pub district_code: String,
    /// Its name.
    pub district_name: String,
    /// Signals raised.
    pub signals: usize,
    /// Of them answered.
    pub answered: usize,
    /// Of them answered within the target.
    pub within_target: usize,
    /// Median hours to the answer.
    pub median_hours: Option<f64>,
    /// 90th percentile of the hours to the answer.
    pub p90_hours: Option<f64>,
    /// Still open.
    pub open: usize,
}

/// An open signal or event nobody answered yet.
#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    /// What.
    pub target: Target,
    /// Its alert colour.
    pub alert: String,
    /// Its area.
    pub area_code: String,
    /// A short title.
    pub title: String,
    /// Its first day.
    pub first_day: NaiveDate,
}

fn unavailable() -> AppError {
    AppError::Internal("the signal workflow is not available in this build".into())
}

/// Does `input` to `target`.
pub async fn act(
    _store: &Store,
    _caller: &Caller,
    _target: Target,
    _input: ActionInput,
) -> Result<ActionRow, AppError> {
    Err(unavailable())
}

/// The actions on `target`, oldest first.
pub async fn history(
    _store: &Store,
    _caller: &Caller,
    _target: Target,
) -> Result<Vec<ActionRow>, AppError> {
    Err(unavailable())
}

/// Response times per district of the signals raised from `from` to `to`.
pub async fn response_times(
    _store: &Store,
    _caller: &Caller,
    _from: NaiveDate,
    _to: NaiveDate,
) -> Result<Vec<DistrictResponse>, AppError> {
    Err(unavailable())
}

/// Up to `limit` unanswered open signals and events in the caller's jurisdiction.
pub async fn notifications(
    _store: &Store,
    _caller: &Caller,
    _limit: i64,
) -> Result<Vec<Notification>, AppError> {
    Ok(Vec::new())
}
