//! Surveillance signals and events over HTTP (issue #7): the lists, a signal with what explains
//! it, the CDC's actions on signals and events, response times per district, the unanswered
//! ones for the notification badge, and starting a detection run.
//!
//! Every handler calls one `hc_app` use case, which checks the permission (403) and the
//! jurisdiction (404: a signal outside it does not exist for the caller).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use hc_app::workflow::{self, Action, ActionInput, ActionRow, Target};
use hc_store::{EventRow, SignalRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::*;
use crate::auth::CurrentUser;
use crate::error::Problem;
use crate::{ApiError, AppState};

/// A period of first days.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// First day (signals: whose last alarm is on or after it).
    pub from: Option<NaiveDate>,
    /// Last day (whose first alarm is on or before it).
    pub to: Option<NaiveDate>,
}

/// A signal: one alarm episode of a stream.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignalOut {
    /// Its id.
    pub id: i64,
    /// `feed/code/area/period`.
    pub stream: String,
    /// The feed (source).
    pub feed: String,
    /// The syndrome or disease code.
    pub code: String,
    /// community, street, district or city.
    pub level: String,
    /// The area.
    pub area_code: String,
    /// day or week.
    pub frequency: String,
    /// The rule.
    pub rule: String,
    /// The method.
    pub method: String,
    /// Alert colour: blue, yellow, orange, red.
    pub alert: String,
    /// First alarm.
    pub first_day: NaiveDate,
    /// Last alarm.
    pub last_day: NaiveDate,
    /// Alarm days.
    pub days: i64,
    /// Observed on the first day.
    pub observed: f64,
    /// Expected on the first day.
    pub expected: Option<f64>,
    /// Threshold on the first day, in cases.
    pub threshold: Option<f64>,
    /// The method's score on the first day.
    pub score: Option<f64>,
    /// The day with the most cases.
    pub peak_day: NaiveDate,
    /// Its cases.
    pub peak_observed: f64,
    /// new, assigned, preliminary_check, field_investigation, closed.
    pub status: String,
    /// false_alarm, suspected_outbreak or confirmed_outbreak, once closed.
    pub outcome: Option<String>,
    /// Who works on it.
    pub assigned_to: Option<String>,
    /// The latest event it was fused into.
    pub event_id: Option<i64>,
    /// The engine's version.
    pub engine_version: String,
    /// Raised (unix seconds).
    pub created_at: i64,
    /// First acted on (unix seconds).
    pub answered_at: Option<i64>,
}

impl From<SignalRow> for SignalOut {
    fn from(r: SignalRow) -> Self {
        SignalOut {
            id: r.id,
            stream: r.stream,
            feed: r.feed,
            code: r.code,
            level: r.level,
            area_code: r.area_code,
            frequency: r.frequency,
            rule: r.rule,
            method: r.method,
            alert: r.alert,
            first_day: r.first_day,
            last_day: r.last_day,
            days: r.days,
            observed: r.observed,
            expected: r.expected,
            threshold: r.threshold,
            score: r.score,
            peak_day: r.peak_day,
            peak_observed: r.peak_observed,
            status: r.status,
            outcome: r.outcome,
            assigned_to: r.assigned_to,
            event_id: r.event_id,
            engine_version: r.engine_version,
            created_at: r.created_at,
            answered_at: r.answered_at,
        }
    }
}

/// One alarm day of a signal.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignalDayOut {
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

/// A recorded action.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionOut {
    /// Its id.
    pub id: i64,
    /// `signal` or `event`.
    pub kind: String,
    /// The signal's or event's id.
    pub target_id: i64,
    /// Unix seconds.
    pub at: i64,
    /// Who.
    pub username: String,
    /// assign, verify, close, note.
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

impl From<ActionRow> for ActionOut {
    fn from(a: ActionRow) -> Self {
        ActionOut {
            id: a.id,
            kind: a.target.kind().to_owned(),
            target_id: a.target.id(),
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

/// A signal with what explains it and its trail.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignalDetailOut {
    /// The signal.
    #[serde(flatten)]
    pub signal: SignalOut,
    /// The method's parameters in effect.
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    /// The baseline counts the method compared against.
    #[schema(value_type = Object)]
    pub baseline: serde_json::Value,
    /// p-value, denominator and the method's own detail.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// Alarm days.
    pub alarm_days: Vec<SignalDayOut>,
    /// Actions, oldest first.
    pub history: Vec<ActionOut>,
}

/// An event: signals of independent sources fused by a multi-point rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventOut {
    /// Its id.
    pub id: i64,
    /// The fusion rule.
    pub rule: String,
    /// The area.
    pub area_code: String,
    /// Its level.
    pub level: String,
    /// Alert colour.
    pub alert: String,
    /// Score.
    pub score: f64,
    /// First day.
    pub first_day: NaiveDate,
    /// Last day.
    pub last_day: NaiveDate,
    /// The feeds that agree.
    #[schema(value_type = Object)]
    pub sources: serde_json::Value,
    /// Why: the rule, the signals, how the alert was reached.
    #[schema(value_type = Object)]
    pub explanation: serde_json::Value,
    /// Its signals.
    pub signals: Vec<i64>,
    /// Workflow status.
    pub status: String,
    /// Outcome once closed.
    pub outcome: Option<String>,
    /// Who works on it.
    pub assigned_to: Option<String>,
    /// Raised (unix seconds).
    pub created_at: i64,
    /// First acted on.
    pub answered_at: Option<i64>,
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|_| serde_json::Value::String(s.to_owned()))
}

impl From<(EventRow, Vec<i64>)> for EventOut {
    fn from((e, signals): (EventRow, Vec<i64>)) -> Self {
        EventOut {
            id: e.id,
            rule: e.rule,
            area_code: e.area_code,
            level: e.level,
            alert: e.alert,
            score: e.score,
            first_day: e.first_day,
            last_day: e.last_day,
            sources: json(&e.sources),
            explanation: json(&e.explanation),
            signals,
            status: e.status,
            outcome: e.outcome,
            assigned_to: e.assigned_to,
            created_at: e.created_at,
            answered_at: e.answered_at,
        }
    }
}

/// An action on a signal or event.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionIn {
    /// assign, verify, close or note.
    #[schema(example = "verify")]
    pub action: String,
    /// assign: the username who works on it.
    pub to: Option<String>,
    /// verify: preliminary_check or field_investigation.
    pub stage: Option<String>,
    /// close: false_alarm, suspected_outbreak or confirmed_outbreak (needs a field
    /// investigation first).
    pub outcome: Option<String>,
    /// Free text; required for `note`.
    #[serde(default)]
    pub note: String,
}

impl ActionIn {
    fn into_input(self) -> Result<ActionInput, ApiError> {
        let action = Action::parse(
            self.action.trim(),
            self.to.as_deref(),
            self.stage.as_deref().map(str::trim),
            self.outcome.as_deref().map(str::trim),
        )?;
        Ok(ActionInput {
            action,
            note: self.note,
        })
    }
}

/// Response times of one district's signals.
#[derive(Debug, Serialize, ToSchema)]
pub struct DistrictResponseOut {
    /// The district (a city-level signal counts under the city's code).
    pub district_code: String,
    /// Its name.
    pub district_name: String,
    /// Signals whose first day lies in the period.
    pub signals: usize,
    /// Acted on at least once.
    pub answered: usize,
    /// Answered within the target.
    pub within_target: usize,
    /// Share of all signals answered within the target.
    pub share_within_target: Option<f64>,
    /// Median hours from raised to first action.
    pub median_hours: Option<f64>,
    /// 90th percentile of the same.
    pub p90_hours: Option<f64>,
    /// Not closed.
    pub open: usize,
}

impl From<workflow::DistrictResponse> for DistrictResponseOut {
    fn from(d: workflow::DistrictResponse) -> Self {
        DistrictResponseOut {
            share_within_target: (d.signals > 0).then(|| d.within_target as f64 / d.signals as f64),
            district_code: d.district_code,
            district_name: d.district_name,
            signals: d.signals,
            answered: d.answered,
            within_target: d.within_target,
            median_hours: d.median_hours,
            p90_hours: d.p90_hours,
            open: d.open,
        }
    }
}

/// Response times per district against the target.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResponseTimesOut {
    /// The period's first day.
    pub from: NaiveDate,
    /// Its last day.
    pub to: NaiveDate,
    /// The target in hours (CIDARS: 24).
    pub target_hours: f64,
    /// One row per district, by code.
    pub districts: Vec<DistrictResponseOut>,
    /// The caller's whole jurisdiction.
    pub total: DistrictResponseOut,
}

/// A signal or event nobody has answered yet.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationOut {
    /// `signal` or `event`.
    pub kind: String,
    /// Its id.
    pub id: i64,
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
    /// Raised (unix seconds).
    pub created_at: i64,
    /// Waiting longer than the target.
    pub overdue: bool,
}

/// How many notifications.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// At most this many (1 to 500; default 50).
    pub limit: Option<i64>,
}

/// A detection run to start.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunIn {
    /// The last day to evaluate (default: today).
    pub date: Option<NaiveDate>,
    /// The first day (default: the day after the last run, or days late records changed).
    pub from: Option<NaiveDate>,
}

/// What a run did.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunOut {
    /// The run's id.
    pub run_id: i64,
    /// First day evaluated.
    pub from: NaiveDate,
    /// Last day evaluated.
    pub to: NaiveDate,
    /// The stream configuration's version.
    pub config_version: String,
    /// Streams formed.
    pub streams: usize,
    /// Periods evaluated.
    pub evaluations: usize,
    /// Signals raised.
    pub signals_new: usize,
    /// Signals extended.
    pub signals_updated: usize,
    /// Events raised.
    pub events_new: usize,
    /// Events changed.
    pub events_updated: usize,
}

/// The signals whose alarms overlap `from..=to` in the caller's jurisdiction, newest first.
#[utoipa::path(get, path = "/api/v1/surveillance/signals", tag = "surveillance", params(PeriodQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<SignalOut>)))]
pub async fn list_signals(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> Result<Json<Vec<SignalOut>>, ApiError> {
    let rows = hc_app::surveillance::signals(&s.store, &u.0, q.from, q.to).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// A signal with its method's parameters, baseline, alarm days and trail.
#[utoipa::path(get, path = "/api/v1/surveillance/signals/{id}", tag = "surveillance",
    params(("id" = i64, Path, description = "Signal id")), security(("bearer" = [])),
    responses((status = 200, body = SignalDetailOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_signal(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<SignalDetailOut>, ApiError> {
    let d = workflow::signal_detail(&s.store, &u.0, id).await?;
    Ok(Json(SignalDetailOut {
        signal: d.signal.into(),
        params: d.params,
        baseline: d.baseline,
        detail: d.detail,
        alarm_days: d
            .days
            .into_iter()
            .map(|x| SignalDayOut {
                day: x.day,
                observed: x.observed,
                expected: x.expected,
                threshold: x.threshold,
                score: x.score,
            })
            .collect(),
        history: d.history.into_iter().map(Into::into).collect(),
    }))
}

async fn act(
    s: &AppState,
    u: &CurrentUser,
    target: Target,
    input: ActionIn,
) -> Result<(StatusCode, Json<ActionOut>), ApiError> {
    let input = input.into_input()?;
    let row = workflow::act(&s.store, &u.0, target, input).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Acts on a signal (CDC analysts, within their jurisdiction): `{"action":"assign","to":"li"}`,
/// `{"action":"verify","stage":"field_investigation"}`, `{"action":"close","outcome":"false_alarm"}`
/// or `{"action":"note"}`, each with an optional `note` (required for a note). Audited; the
/// webhooks are notified of state changes.
#[utoipa::path(post, path = "/api/v1/surveillance/signals/{id}/actions", tag = "surveillance",
    params(("id" = i64, Path, description = "Signal id")), request_body = ActionIn, security(("bearer" = [])),
    responses((status = 201, body = ActionOut), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn signal_action(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ActionIn>,
) -> Result<(StatusCode, Json<ActionOut>), ApiError> {
    act(&s, &u, Target::Signal(id), input).await
}

/// The trail of a signal, oldest first.
#[utoipa::path(get, path = "/api/v1/surveillance/signals/{id}/actions", tag = "surveillance",
    params(("id" = i64, Path, description = "Signal id")), security(("bearer" = [])),
    responses((status = 200, body = Vec<ActionOut>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn signal_history(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<ActionOut>>, ApiError> {
    let rows = workflow::history(&s.store, &u.0, Target::Signal(id)).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// Acts on an event, as on a signal.
#[utoipa::path(post, path = "/api/v1/surveillance/events/{id}/actions", tag = "surveillance",
    params(("id" = i64, Path, description = "Event id")), request_body = ActionIn, security(("bearer" = [])),
    responses((status = 201, body = ActionOut), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn event_action(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ActionIn>,
) -> Result<(StatusCode, Json<ActionOut>), ApiError> {
    act(&s, &u, Target::Event(id), input).await
}

/// The trail of an event, oldest first.
#[utoipa::path(get, path = "/api/v1/surveillance/events/{id}/actions", tag = "surveillance",
    params(("id" = i64, Path, description = "Event id")), security(("bearer" = [])),
    responses((status = 200, body = Vec<ActionOut>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn event_history(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<ActionOut>>, ApiError> {
    let rows = workflow::history(&s.store, &u.0, Target::Event(id)).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// The events overlapping `from..=to` in the caller's jurisdiction, newest first.
#[utoipa::path(get, path = "/api/v1/surveillance/events", tag = "surveillance", params(PeriodQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<EventOut>)))]
pub async fn list_events(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> Result<Json<Vec<EventOut>>, ApiError> {
    let rows = workflow::events(&s.store, &u.0, q.from, q.to).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// Response times per district of the signals whose first day lies in `from..=to` (default:
/// the last 90 days), against the 24-hour target.
#[utoipa::path(get, path = "/api/v1/surveillance/response-times", tag = "surveillance", params(PeriodQuery), security(("bearer" = [])),
    responses((status = 200, body = ResponseTimesOut)))]
pub async fn response_times(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> Result<Json<ResponseTimesOut>, ApiError> {
    let to = q.to.unwrap_or_else(hc_app::today);
    let from = q.from.unwrap_or(to - chrono::Duration::days(89));
    let r = workflow::response_report(&s.store, &u.0, from, to).await?;
    Ok(Json(ResponseTimesOut {
        from,
        to,
        target_hours: r.target_hours,
        districts: r.districts.into_iter().map(Into::into).collect(),
        total: r.total.into(),
    }))
}

/// The signals and events of the caller's jurisdiction nobody has answered yet, newest first.
#[utoipa::path(get, path = "/api/v1/surveillance/notifications", tag = "surveillance", params(NotificationQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<NotificationOut>)))]
pub async fn notifications(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiQuery(q): ApiQuery<NotificationQuery>,
) -> Result<Json<Vec<NotificationOut>>, ApiError> {
    let rows = workflow::notifications(&s.store, &u.0, q.limit.unwrap_or(50)).await?;
    Ok(Json(
        rows.into_iter()
            .map(|n| NotificationOut {
                kind: n.target.kind().to_owned(),
                id: n.target.id(),
                alert: n.alert,
                area_code: n.area_code,
                level: n.level,
                title: n.title,
                first_day: n.first_day,
                created_at: n.created_at,
                overdue: n.overdue,
            })
            .collect(),
    ))
}

/// Runs detection up to `date` (CDC analysts and administrators). It may take a while over a
/// long period; the daily schedule of the server does the same every night.
#[utoipa::path(post, path = "/api/v1/surveillance/runs", tag = "surveillance", request_body = RunIn, security(("bearer" = [])),
    responses((status = 201, body = RunOut), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn start_run(
    State(s): State<AppState>,
    u: CurrentUser,
    ApiJson(input): ApiJson<RunIn>,
) -> Result<(StatusCode, Json<RunOut>), ApiError> {
    u.0.require(hc_core::access::Permission::RunDetection)?;
    let config = match &s.surveillance {
        Some(c) => Arc::clone(c),
        None => Arc::new(hc_surveillance::Config::builtin().map_err(|e| {
            hc_app::AppError::Internal(format!("the built-in stream configuration: {e}"))
        })?),
    };
    let date = input.date.unwrap_or_else(hc_app::today);
    let r = hc_app::surveillance::run(&s.store, &u.0, &config, date, input.from).await?;
    Ok((
        StatusCode::CREATED,
        Json(RunOut {
            run_id: r.run_id,
            from: r.from,
            to: r.to,
            config_version: r.config_version,
            streams: r.streams,
            evaluations: r.evaluations,
            signals_new: r.signals_new,
            signals_updated: r.signals_updated,
            events_new: r.events_new,
            events_updated: r.events_updated,
        }),
    ))
}
