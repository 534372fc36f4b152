//! The CDC's response to signals and events: assign, verify (preliminary check, field
//! investigation), close with an outcome, note; the trail of each; response times per district
//! against the CIDARS target; and the unanswered ones, for the UI's notifications.
//!
//! The rules of the steps are `hc_surveillance::workflow`'s. Acting needs
//! [`Permission::VerifySignals`] (CDC analysts); reading the trail, response times and
//! notifications needs [`Permission::ViewSurveillance`] (CDC, district bureaus, the
//! commission) or, as for the signal list, [`Permission::RunDetection`]. Everything is limited to the caller's jurisdiction: a signal outside it is
//! [`AppError::NotFound`], as if it did not exist.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use hc_core::access::Permission;
use hc_core::validate::FieldError;
use hc_store::{
    ActionStored, ActionWrite, Backfill, EventRow, SignalFilter, SignalRow, Store, StoreError,
    WorkTarget, epoch_seconds,
};
pub use hc_surveillance::workflow::{Outcome, Stage};
use hc_surveillance::workflow::{Response, State, Step, apply, district_of, response_stats};
use serde::Serialize;

use crate::AppError;
use crate::audit::{Caller, Event};
use crate::webhooks::Routes;

/// A signal or an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Target {
    /// A signal (`surv_signals`).
    Signal(i64),
    /// An event (`surv_events`).
    Event(i64),
}

impl Target {
    /// `signal` or `event`.
    pub fn kind(self) -> &'static str {
        self.store().kind()
    }

    /// The id.
    pub fn id(self) -> i64 {
        self.store().id()
    }

    fn store(self) -> WorkTarget {
        match self {
            Target::Signal(id) => WorkTarget::Signal(id),
            Target::Event(id) => WorkTarget::Event(id),
        }
    }

    fn entity(self) -> &'static str {
        match self {
            Target::Signal(_) => "surveillance_signal",
            Target::Event(_) => "surveillance_event",
        }
    }

    fn not_found(self) -> AppError {
        AppError::NotFound(self.kind())
    }
}

/// One step of the response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Name who works on it.
    Assign {
        /// The username.
        to: String,
    },
    /// Move verification to `preliminary_check` or `field_investigation`.
    Verify {
        /// The stage.
        stage: Stage,
    },
    /// Close with an outcome.
    Close {
        /// How it ended.
        outcome: Outcome,
    },
    /// A note only.
    Note,
}

impl Action {
    /// Parses the JSON/form shape: `action` = assign | verify | close | note, with `to`,
    /// `stage` or `outcome` as the action needs. Errors name the field.
    pub fn parse(
        action: &str,
        to: Option<&str>,
        stage: Option<&str>,
        outcome: Option<&str>,
    ) -> Result<Action, AppError> {
        match action {
            "assign" => Ok(Action::Assign {
                to: to
                    .map(str::to_owned)
                    .ok_or_else(|| AppError::invalid("to", "name the username to assign it to"))?,
            }),
            "verify" => {
                let s = stage.ok_or_else(|| {
                    AppError::invalid("stage", "preliminary_check or field_investigation")
                })?;
                Ok(Action::Verify {
                    stage: Stage::parse(s).ok_or_else(|| {
                        AppError::invalid(
                            "stage",
                            format!("{s:?}: preliminary_check or field_investigation"),
                        )
                    })?,
                })
            }
            "close" => {
                let o = outcome.ok_or_else(|| {
                    AppError::invalid(
                        "outcome",
                        "false_alarm, suspected_outbreak or confirmed_outbreak",
                    )
                })?;
                Ok(Action::Close {
                    outcome: Outcome::parse(o).ok_or_else(|| {
                        AppError::invalid(
                            "outcome",
                            format!("{o:?}: false_alarm, suspected_outbreak or confirmed_outbreak"),
                        )
                    })?,
                })
            }
            "note" => Ok(Action::Note),
            other => Err(AppError::invalid(
                "action",
                format!("{other:?}: assign, verify, close or note"),
            )),
        }
    }

    fn step(&self) -> Step {
        match self {
            Action::Assign { to } => Step::Assign { to: to.clone() },
            Action::Verify { stage } => Step::Verify { stage: *stage },
            Action::Close { outcome } => Step::Close { outcome: *outcome },
            Action::Note => Step::Note,
        }
    }
}

/// An action with its note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionInput {
    /// The step.
    pub action: Action,
    /// Free text (required for a note).
    pub note: String,
}

/// A recorded action.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionRow {
    /// Its id.
    pub id: i64,
    /// What it was taken on.
    pub target: Target,
    /// Unix seconds.
    pub at: i64,
    /// Who.
    pub username: String,
    /// `assign`, `verify`, `close`, `note`.
    pub action: String,
    /// The status it left.
    pub status: Option<String>,
    /// The outcome it left.
    pub outcome: Option<String>,
    /// The assignee it left.
    pub assigned_to: Option<String>,
    /// Its note.
    pub note: String,
}

impl ActionRow {
    fn from_stored(a: ActionStored) -> ActionRow {
        let target = match (a.signal_id, a.event_id) {
            (Some(id), _) => Target::Signal(id),
            (None, id) => Target::Event(id.unwrap_or_default()),
        };
        ActionRow {
            id: a.id,
            target,
            at: a.at,
            username: a.username,
            action: a.action,
            status: a.status,
            outcome: a.outcome,
            assigned_to: a.assigned_to,
            note: a.note,
        }
    }
}

/// The CIDARS target: answered within 24 hours.
pub const RESPONSE_TARGET_HOURS: f64 = hc_surveillance::workflow::RESPONSE_TARGET_HOURS;

/// Response times of the signals of one district.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DistrictResponse {
    /// The district's code (a city-level signal counts under the city's code).
    pub district_code: String,
    /// Its name.
    pub district_name: String,
    /// Signals whose first day lies in the period.
    pub signals: usize,
    /// Of them, acted on at least once.
    pub answered: usize,
    /// Answered within [`RESPONSE_TARGET_HOURS`].
    pub within_target: usize,
    /// Median hours from raised to first action.
    pub median_hours: Option<f64>,
    /// 90th percentile of the same.
    pub p90_hours: Option<f64>,
    /// Not closed.
    pub open: usize,
}

/// Response times per district and for the whole jurisdiction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResponseReport {
    /// The target in hours.
    pub target_hours: f64,
    /// One row per district with signals, by code.
    pub districts: Vec<DistrictResponse>,
    /// Every signal of the caller's jurisdiction together (code: the scope's, or empty).
    pub total: DistrictResponse,
}

/// A signal or event not answered yet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    /// What it is.
    pub target: Target,
    /// Alert colour.
    pub alert: String,
    /// Its area.
    pub area_code: String,
    /// The area's level.
    pub level: String,
    /// The stream (signal) or fusion rule (event).
    pub title: String,
    /// Its first day.
    pub first_day: NaiveDate,
    /// When it was raised (unix seconds).
    pub created_at: i64,
    /// Whether it has waited longer than [`RESPONSE_TARGET_HOURS`].
    pub overdue: bool,
}

/// Reading signals' workflow: as for the signal list (those who view surveillance, or run the
/// detection), and those who act on them.
fn require_view(caller: &Caller) -> Result<(), AppError> {
    let p = &caller.principal;
    if p.can(Permission::ViewSurveillance)
        || p.can(Permission::VerifySignals)
        || p.can(Permission::RunDetection)
    {
        Ok(())
    } else {
        caller.require(Permission::ViewSurveillance)
    }
}

fn parse_state(status: &str, outcome: Option<&str>, assigned_to: Option<String>) -> State {
    State {
        stage: Stage::parse(status).unwrap_or(Stage::New),
        outcome: outcome.and_then(Outcome::parse),
        assigned_to,
    }
}

/// Takes `input` on `target`: checks the caller's permission and jurisdiction and the step's
/// validity, then records it, the new state and the webhook notifications in one transaction,
/// and audits it.
pub async fn act(
    store: &Store,
    caller: &Caller,
    target: Target,
    input: ActionInput,
) -> Result<ActionRow, AppError> {
    caller.require(Permission::VerifySignals)?;
    let prefix = caller.scope().prefix();
    let item = store
        .work_item(target.store(), prefix)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => target.not_found(),
            other => other.into(),
        })?;
    let state = parse_state(
        &item.status,
        item.outcome.as_deref(),
        item.assigned_to.clone(),
    );
    let step = input.action.step();
    let actor = &caller.principal.name;
    let note = input.note.trim().to_owned();
    let next = apply(&state, &step, actor, &note)
        .map_err(|e| AppError::invalid(e.field(), e.to_string()))?;
    let now = epoch_seconds();
    let write = ActionWrite {
        at: now,
        username: actor.clone(),
        action: step.as_str().to_owned(),
        status: next.stage.as_str().to_owned(),
        outcome: next.outcome.map(|o| o.as_str().to_owned()),
        assigned_to: next.assigned_to.clone(),
        note: note.clone(),
    };
    let notify = if step == Step::Note {
        Vec::new()
    } else {
        let payload = serde_json::json!({
            "kind": target.kind(),
            "id": target.id(),
            "event": "action",
            "alert": item.alert,
            "area_code": item.area_code,
            "action": write.action,
            "status": write.status,
            "outcome": write.outcome,
            "assigned_to": write.assigned_to,
            "by": actor,
            "at": now,
        });
        Routes::load(store)
            .await?
            .route(target.kind(), &item.alert, &item.area_code, &payload)
    };
    let stored = store
        .record_action(target.store(), &item.status, &write, &notify)
        .await
        .map_err(|e| match e {
            StoreError::Conflict { .. } => AppError::Conflict(FieldError::new(
                "status",
                "someone else acted on it meanwhile; reload and try again",
            )),
            other => other.into(),
        })?;
    caller
        .record(
            store,
            Event::new(step.as_str(), target.entity())
                .id(target.id())
                .detail(format!(
                    "{} -> {}{}",
                    item.status,
                    write.status,
                    write
                        .outcome
                        .as_deref()
                        .map(|o| format!(" ({o})"))
                        .unwrap_or_default()
                )),
        )
        .await?;
    Ok(ActionRow::from_stored(stored))
}

/// The trail of `target`, oldest first.
pub async fn history(
    store: &Store,
    caller: &Caller,
    target: Target,
) -> Result<Vec<ActionRow>, AppError> {
    require_view(caller)?;
    let prefix = caller.scope().prefix();
    // Outside the jurisdiction (or absent) is not found, rather than an empty trail.
    store
        .work_item(target.store(), prefix)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => target.not_found(),
            other => other.into(),
        })?;
    Ok(store
        .actions(target.store(), prefix)
        .await?
        .into_iter()
        .map(ActionRow::from_stored)
        .collect())
}

/// Response times per district of the signals whose first day lies in `from..=to`.
pub async fn response_times(
    store: &Store,
    caller: &Caller,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<DistrictResponse>, AppError> {
    Ok(response_report(store, caller, from, to).await?.districts)
}

/// [`response_times`] with the total over the caller's jurisdiction.
pub async fn response_report(
    store: &Store,
    caller: &Caller,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<ResponseReport, AppError> {
    require_view(caller)?;
    if from > to {
        return Err(AppError::invalid("from", format!("{from} is after {to}")));
    }
    let prefix = caller.scope().prefix();
    let items = store.response_items(from, to, prefix).await?;
    let names: BTreeMap<String, String> = store
        .orgunit_tree()
        .await?
        .into_iter()
        .map(|u| (u.code, u.name))
        .collect();
    let response = |i: &hc_store::ResponseItem| Response {
        raised_at: i.created_at,
        answered_at: i.answered_at,
        closed: i.status == Stage::Closed.as_str(),
    };
    let mut by_district: BTreeMap<&str, Vec<Response>> = BTreeMap::new();
    for i in &items {
        by_district
            .entry(district_of(&i.area_code))
            .or_default()
            .push(response(i));
    }
    let row = |code: &str, name: String, rs: &[Response]| {
        let s = response_stats(rs, RESPONSE_TARGET_HOURS);
        DistrictResponse {
            district_code: code.to_owned(),
            district_name: name,
            signals: s.signals,
            answered: s.answered,
            within_target: s.within_target,
            median_hours: s.median_hours,
            p90_hours: s.p90_hours,
            open: s.open,
        }
    };
    let districts = by_district
        .iter()
        .map(|(code, rs)| {
            let name = names.get(*code).cloned().unwrap_or_default();
            row(code, name, rs)
        })
        .collect();
    let all: Vec<Response> = items.iter().map(response).collect();
    let scope_code = caller.scope().orgunit.clone().unwrap_or_default();
    let scope_name = names.get(&scope_code).cloned().unwrap_or_default();
    Ok(ResponseReport {
        target_hours: RESPONSE_TARGET_HOURS,
        districts,
        total: row(&scope_code, scope_name, &all),
    })
}

/// The signals and events of the caller's jurisdiction that nobody has answered yet, newest
/// first, at most `limit` (1 to 500).
pub async fn notifications(
    store: &Store,
    caller: &Caller,
    limit: i64,
) -> Result<Vec<Notification>, AppError> {
    require_view(caller)?;
    let now = epoch_seconds();
    let target = (RESPONSE_TARGET_HOURS * 3600.0) as i64;
    Ok(store
        .unanswered(caller.scope().prefix(), limit.clamp(1, 500))
        .await?
        .into_iter()
        .map(|r| Notification {
            target: if r.kind == "event" {
                Target::Event(r.id)
            } else {
                Target::Signal(r.id)
            },
            overdue: now - r.created_at > target,
            alert: r.alert,
            area_code: r.area_code,
            level: r.level,
            title: r.title,
            first_day: r.first_day,
            created_at: r.created_at,
        })
        .collect())
}

/// A signal with what explains it and its trail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignalDetail {
    /// The signal.
    pub signal: SignalRow,
    /// The baseline counts its method compared against (JSON as stored).
    pub baseline: serde_json::Value,
    /// Method-specific facts: p-value, denominator, the method's own detail.
    pub detail: serde_json::Value,
    /// The method's parameters in effect, as an object (numbers as numbers).
    pub params: serde_json::Value,
    /// Its alarm days.
    pub days: Vec<SignalDayView>,
    /// Its actions, oldest first.
    pub history: Vec<ActionRow>,
}

/// One alarm day of a signal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignalDayView {
    /// The day (the Monday of a week).
    pub day: NaiveDate,
    /// Observed.
    pub observed: f64,
    /// Expected.
    pub expected: Option<f64>,
    /// Threshold in cases.
    pub threshold: Option<f64>,
    /// The method's score.
    pub score: Option<f64>,
}

fn json_or_text(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|_| serde_json::Value::String(s.to_owned()))
}

/// A method's parameters, stored as `key=value;…`, as a JSON object (numbers as numbers).
fn params_object(s: &str) -> serde_json::Value {
    if let Ok(v @ serde_json::Value::Object(_)) = serde_json::from_str(s) {
        return v;
    }
    let map = s
        .split(';')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            let v = v.trim();
            let value = v
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or_else(|| serde_json::Value::from(v), serde_json::Value::Number);
            (k.trim().to_owned(), value)
        })
        .collect();
    serde_json::Value::Object(map)
}

/// Signal `id` with its baseline, parameters, alarm days and trail, if it lies in the caller's
/// jurisdiction.
pub async fn signal_detail(
    store: &Store,
    caller: &Caller,
    id: i64,
) -> Result<SignalDetail, AppError> {
    require_view(caller)?;
    let target = Target::Signal(id);
    let prefix = caller.scope().prefix();
    let (signal, baseline, detail, days) = store.signal(id).await.map_err(|e| match e {
        StoreError::NotFound => target.not_found(),
        other => other.into(),
    })?;
    if !caller.scope().contains_unit(&signal.area_code) {
        return Err(target.not_found());
    }
    let history = store
        .actions(target.store(), prefix)
        .await?
        .into_iter()
        .map(ActionRow::from_stored)
        .collect();
    Ok(SignalDetail {
        baseline: json_or_text(&baseline),
        detail: json_or_text(&detail),
        params: params_object(&signal.params),
        days: days
            .into_iter()
            .map(|d| SignalDayView {
                day: d.day,
                observed: d.observed,
                expected: d.expected,
                threshold: d.threshold,
                score: d.score,
            })
            .collect(),
        signal,
        history,
    })
}

/// Events that overlap `from..=to` in the caller's jurisdiction, newest first, each with its
/// signals' ids.
pub async fn events(
    store: &Store,
    caller: &Caller,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Vec<(EventRow, Vec<i64>)>, AppError> {
    require_view(caller)?;
    Ok(store
        .events(&SignalFilter {
            from,
            to,
            area_prefix: caller.scope().prefix().map(str::to_owned),
            limit: None,
        })
        .await?)
}

/// The demo analyst's username in back-filled responses.
pub const DEMO_ANALYST: &str = "cdc";

/// Gives the demo's signals a plausible response history, so that the response-time page has
/// figures. The demo raises two years of signals in one run, so their `created_at` is the
/// moment of that run; each signal whose first day is before `today - 3` is instead taken to
/// have been raised by the daily run at 02:00 (UTC+8) the day after its first day, and its
/// actions follow at delays drawn from `seed`: most answered within hours, about one in ten
/// late (1 to 4 days), a few never; most closed as false alarms after a preliminary check,
/// some investigated in the field, a few left open. Every action's note says `demo`. Signals
/// of the last three days stay new, for the notifications. Returns the actions written.
pub async fn demo_responses(store: &Store, today: NaiveDate, seed: u64) -> Result<usize, AppError> {
    let cutoff = today - chrono::Duration::days(3);
    let signals = store.signals(&hc_store::SignalFilter::default()).await?;
    let mut rng = SplitMix(seed ^ 0x5eed_cafe);
    let mut items = Vec::new();
    for s in signals
        .iter()
        .filter(|s| s.first_day < cutoff && s.status == "new")
    {
        let raised = raise_time(s.first_day);
        items.push(demo_history(s.id, raised, &mut rng));
    }
    Ok(store.backfill_responses(&items).await?)
}

/// 02:00 in UTC+8 on the day after `first_day`, as unix seconds.
fn raise_time(first_day: NaiveDate) -> i64 {
    let next = first_day + chrono::Duration::days(1);
    next.and_hms_opt(2, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp() - 8 * 3600)
}

fn demo_history(signal_id: i64, raised: i64, rng: &mut SplitMix) -> Backfill {
    const H: f64 = 3600.0;
    let mut actions = Vec::new();
    let answer = rng.unit();
    // 80 % within hours, 10 % the same day, 6 % late, 4 % never.
    let delay = if answer < 0.80 {
        (0.1 + 5.9 * rng.unit() * rng.unit()) * H
    } else if answer < 0.90 {
        (6.0 + 18.0 * rng.unit()) * H
    } else if answer < 0.96 {
        (24.0 + 72.0 * rng.unit()) * H
    } else {
        return Backfill {
            signal_id,
            raised_at: raised,
            actions,
        };
    };
    let mut at = raised + delay as i64;
    let mut push = |at: i64, action: &str, status: &str, outcome: Option<&str>| {
        actions.push(ActionWrite {
            at,
            username: DEMO_ANALYST.to_owned(),
            action: action.to_owned(),
            status: status.to_owned(),
            outcome: outcome.map(str::to_owned),
            assigned_to: Some(DEMO_ANALYST.to_owned()),
            note: "demo".to_owned(),
        });
    };
    push(at, "assign", "assigned", None);
    at += ((0.5 + 6.0 * rng.unit()) * H) as i64;
    push(at, "verify", "preliminary_check", None);
    let end = rng.unit();
    at += ((1.0 + 20.0 * rng.unit()) * H) as i64;
    if end < 0.72 {
        push(at, "close", "closed", Some("false_alarm"));
    } else if end < 0.92 {
        push(at, "verify", "field_investigation", None);
        at += ((12.0 + 60.0 * rng.unit()) * H) as i64;
        let outcome = if end < 0.84 {
            "suspected_outbreak"
        } else {
            "confirmed_outbreak"
        };
        push(at, "close", "closed", Some(outcome));
    }
    // The rest stay in preliminary check.
    Backfill {
        signal_id,
        raised_at: raised,
        actions,
    }
}

/// A small deterministic generator (SplitMix64), so the demo's history is the same for the
/// same seed on every platform.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1_u64 << 53) as f64
    }
}
