//! Primary care for family doctors and institution staff (issue #6):
//!
//! * `GET /care`: the teams of the caller's jurisdiction, each linking to its worklist;
//! * `GET /care/teams/{id}?date=`: a team's worklist (due this week, overdue, lost to
//!   follow-up, referrals awaiting follow-up; names masked) and its members;
//! * `GET /residents/{id}/care`: a resident's contract and its history, key populations with
//!   their reasons, diagnoses, program follow-ups with the rules' verdicts, due services and
//!   health checks; with the forms that sign a contract, add a diagnosis, record a follow-up
//!   and record a check (`POST /residents/{id}/care/{contracts,diagnoses,checks}`,
//!   `POST /residents/{id}/care/enrolments/{enrolment}/followups`). A form that hc-app refuses
//!   comes back with the errors beside it, naming each field; one it accepts redirects back.

use askama::Template;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::NaiveDate;
use hc_app::AppError;
use hc_app::care::{self, CareRecord, DueItem, WorkItem};
use hc_care::{AdverseReaction, Complication, FollowUp, WorkStatus};
use hc_core::access::Permission;
use hc_core::validate::FieldError;
use hc_store::{CheckRow, ContractRow, TeamMemberRow};
use serde::Deserialize;

use super::audit::label_or_code;
use super::ctx::Ctx;
use super::error::UiError;
use super::fmt::{self, DASH, int};
use super::page;
use super::shared::{self, Link, SelectOpt};
use crate::AppState;

// -- shared pieces ------------------------------------------------------------------------------

/// A team member as pages list them.
pub struct MemberLine {
    /// Name.
    pub name: String,
    /// Role in the team, translated.
    pub role: String,
}

/// The members of a team, translated.
pub fn member_lines(ctx: &Ctx, members: &[TeamMemberRow]) -> Vec<MemberLine> {
    members
        .iter()
        .map(|m| MemberLine {
            name: m.name.clone(),
            role: label_or_code(ctx, "team_role", &m.role),
        })
        .collect()
}

/// A due service as pages list it.
pub struct DueLine {
    /// Service, translated.
    pub service: String,
    /// Program, translated (or a dash).
    pub program: String,
    /// Due date.
    pub due: String,
    /// Status, translated.
    pub status: String,
    /// `ok`, `warn`, `bad` or `muted`: the tag's colour (the text says it too).
    pub status_kind: &'static str,
    /// Why, in the rules' words, in the page's language.
    pub because: String,
}

/// A due service's reason in the page's language.
fn due_because(ctx: &Ctx, d: &DueItem) -> String {
    if ctx.is_en() { d.why.en() } else { d.why.zh() }
}

/// The colour of a work status's tag.
fn status_kind(s: WorkStatus) -> &'static str {
    match s {
        WorkStatus::Lost => "bad",
        WorkStatus::Overdue => "warn",
        WorkStatus::ThisWeek => "ok",
        WorkStatus::Later => "muted",
    }
}

/// A program code's label, or a dash.
fn program_label(ctx: &Ctx, program: Option<&str>) -> String {
    program.map_or_else(|| DASH.to_owned(), |p| label_or_code(ctx, "program", p))
}

/// The due services of a care record, translated.
pub fn due_lines(ctx: &Ctx, record: &CareRecord) -> Vec<DueLine> {
    record
        .due
        .iter()
        .map(|d| DueLine {
            service: label_or_code(ctx, "service", d.service),
            program: program_label(ctx, d.program),
            due: d.due.to_string(),
            status: label_or_code(ctx, "workstatus", d.status.as_str()),
            status_kind: status_kind(d.status),
            because: due_because(ctx, d),
        })
        .collect()
}

/// `start – end` of a contract, with the early end if it ended early.
pub fn term(ctx: &Ctx, c: &ContractRow) -> String {
    let agreed = format!("{} – {}", c.start_date, c.end_date);
    match (&c.ended_on, &c.end_reason) {
        (Some(on), reason) => ctx.tf(
            "care.ended_early",
            &[
                ("term", &agreed),
                ("on", &on.to_string()),
                ("reason", reason.as_deref().unwrap_or(DASH)),
            ],
        ),
        (None, _) => agreed,
    }
}

/// A number in a form: empty is absent; anything else must parse.
fn number<T: std::str::FromStr>(
    ctx: &Ctx,
    errs: &mut Vec<(String, String)>,
    field: &str,
    v: &str,
) -> Option<T> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    match v.parse::<T>() {
        Ok(n) => Some(n),
        Err(_) => {
            errs.push((field.to_owned(), ctx.t("care.err_number").to_owned()));
            None
        }
    }
}

/// A required date in a form.
fn form_date(
    ctx: &Ctx,
    errs: &mut Vec<(String, String)>,
    field: &str,
    v: &str,
) -> Option<NaiveDate> {
    match NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            errs.push((field.to_owned(), ctx.t("care.err_date").to_owned()));
            None
        }
    }
}

/// Errors of one form, each naming its field.
#[derive(Default)]
pub struct FormErrors {
    /// The errors, in the order found.
    pub items: Vec<ErrorLine>,
}

/// One error: the field and the line shown (the field's label and what is wrong).
pub struct ErrorLine {
    /// The field's code.
    pub field: String,
    /// The field, translated, and the message.
    pub text: String,
}

impl FormErrors {
    fn new(ctx: &Ctx, items: Vec<(String, String)>) -> Self {
        FormErrors {
            items: items
                .into_iter()
                .map(|(field, message)| {
                    let label = label_or_code(ctx, "care_field", &field);
                    ErrorLine {
                        text: ctx.tf("care.err_line", &[("field", &label), ("message", &message)]),
                        field,
                    }
                })
                .collect(),
        }
    }

    fn from_app(ctx: &Ctx, errs: Vec<FieldError>) -> Self {
        FormErrors::new(
            ctx,
            errs.into_iter()
                .map(|e| {
                    let message = match e.zh {
                        Some(zh) if !ctx.is_en() => zh,
                        _ => e.message,
                    };
                    (e.field, message)
                })
                .collect(),
        )
    }

    /// Whether there is any error.
    pub fn any(&self) -> bool {
        !self.items.is_empty()
    }

    /// Whether `field` is at fault (for `aria-invalid`).
    pub fn has(&self, field: &str) -> bool {
        self.items.iter().any(|e| e.field == field)
    }
}

/// The options of a coded `<select>`, labelled from `section`, with `current` selected.
fn options(ctx: &Ctx, section: &str, codes: &[&str], current: &str) -> Vec<SelectOpt> {
    codes
        .iter()
        .map(|c| SelectOpt {
            value: (*c).to_owned(),
            label: ctx.label(section, c),
            selected: *c == current,
        })
        .collect()
}

/// A positive id in a path: 400 otherwise.
fn path_id(field: &'static str, v: &str) -> Result<i64, UiError> {
    v.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| UiError::bad(field, v))
}

// -- GET /care ----------------------------------------------------------------------------------

/// A team in the list.
struct TeamLine {
    href: String,
    name: String,
    code: String,
    site: String,
    members: String,
}

#[derive(Template)]
#[template(path = "care_teams.html")]
struct TeamsPage {
    ctx: Ctx,
    teams: Vec<TeamLine>,
    shown: String,
}

/// `GET /care`.
pub async fn teams(ctx: Ctx, State(state): State<AppState>) -> Response {
    if !ctx.can(Permission::ViewCare) {
        return UiError::Forbidden.render(&ctx);
    }
    match build_teams(&ctx, &state).await {
        Ok(p) => page::html(StatusCode::OK, &p),
        Err(e) => e.render(&ctx),
    }
}

async fn build_teams(ctx: &Ctx, state: &AppState) -> Result<TeamsPage, UiError> {
    let caller = ctx.caller()?;
    let store = &state.store;
    let sites = store.care_sites().await?;
    let mut lines = Vec::new();
    for t in care::teams(store, caller, None).await? {
        let view = care::team(store, caller, t.id).await?;
        let members = member_lines(ctx, &view.members)
            .into_iter()
            .map(|m| ctx.tf("care.member", &[("name", &m.name), ("role", &m.role)]))
            .collect::<Vec<_>>()
            .join(ctx.t("common.list_sep"));
        lines.push(TeamLine {
            href: format!("/care/teams/{}", t.id),
            site: sites
                .iter()
                .find(|s| s.code == t.institution_code)
                .map_or_else(|| t.institution_code.clone(), |s| s.name.clone()),
            name: t.name,
            code: t.code,
            members: if members.is_empty() {
                DASH.to_owned()
            } else {
                members
            },
        });
    }
    Ok(TeamsPage {
        ctx: ctx.clone(),
        shown: ctx.tf("common.shown", &[("n", &int(lines.len() as i64))]),
        teams: lines,
    })
}

// -- GET /care/teams/{id} -----------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub struct WorklistQuery {
    date: Option<String>,
}

/// A line of a worklist section.
struct WorkLine {
    href: String,
    name: String,
    sex: String,
    age: String,
    service: String,
    program: String,
    due: String,
    status: String,
    status_kind: &'static str,
    because: String,
}

/// A section of the worklist.
struct Section {
    id: &'static str,
    heading: String,
    rows: Vec<WorkLine>,
    /// The referrals section also says where each stands.
    show_status: bool,
}

#[derive(Template)]
#[template(path = "worklist.html")]
struct WorklistPage {
    ctx: Ctx,
    crumbs: Vec<Link>,
    team_name: String,
    site: String,
    lead: String,
    note: String,
    day: String,
    day_note: String,
    sections: Vec<Section>,
    members: Vec<MemberLine>,
}

/// `GET /care/teams/{id}`.
pub async fn worklist(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    q: Result<Query<WorklistQuery>, QueryRejection>,
) -> Response {
    if !ctx.can(Permission::ViewCare) {
        return UiError::Forbidden.render(&ctx);
    }
    match build_worklist(&ctx, &state, &id, q).await {
        Ok(p) => page::html(StatusCode::OK, &p),
        Err(e) => e.render(&ctx),
    }
}

fn work_line(ctx: &Ctx, w: &WorkItem) -> WorkLine {
    WorkLine {
        href: format!("/residents/{}/care", w.resident_id),
        name: w.name.clone(),
        sex: label_or_code(ctx, "sex", &w.sex),
        age: int(i64::from(w.age)),
        service: label_or_code(ctx, "service", w.due.service),
        program: program_label(ctx, w.due.program),
        due: w.due.due.to_string(),
        status: label_or_code(ctx, "workstatus", w.due.status.as_str()),
        status_kind: status_kind(w.due.status),
        because: due_because(ctx, &w.due),
    }
}

async fn build_worklist(
    ctx: &Ctx,
    state: &AppState,
    id: &str,
    q: Result<Query<WorklistQuery>, QueryRejection>,
) -> Result<WorklistPage, UiError> {
    let Query(q) = q?;
    let n = path_id("id", id)?;
    let day = shared::date("date", &shared::opt(q.date))?.unwrap_or(ctx.today);
    let caller = ctx.caller()?;
    let store = &state.store;
    let not_found = |e: AppError| match e {
        AppError::NotFound(_) => UiError::NotFound {
            what: "what.team",
            code: id.to_owned(),
        },
        other => other.into(),
    };
    let list = care::worklist(store, caller, &state.care, n, day)
        .await
        .map_err(not_found)?;
    let view = care::team(store, caller, n).await.map_err(not_found)?;
    let site = store
        .care_sites()
        .await?
        .into_iter()
        .find(|s| s.code == list.team.institution_code)
        .map_or_else(|| list.team.institution_code.clone(), |s| s.name);
    let referral = |w: &&WorkItem| w.due.service == "referral_followup";
    let section = |id: &'static str, key: &str, rows: Vec<WorkLine>, show_status: bool| Section {
        id,
        heading: ctx.tf(key, &[("n", &int(rows.len() as i64))]),
        rows,
        show_status,
    };
    let by_status = |s: WorkStatus| -> Vec<WorkLine> {
        list.with_status(s)
            .filter(|w| !referral(w))
            .map(|w| work_line(ctx, w))
            .collect()
    };
    let sections = vec![
        section(
            "this-week",
            "care.sec_this_week",
            by_status(WorkStatus::ThisWeek),
            false,
        ),
        section(
            "overdue",
            "care.sec_overdue",
            by_status(WorkStatus::Overdue),
            false,
        ),
        section("lost", "care.sec_lost", by_status(WorkStatus::Lost), false),
        section(
            "referrals",
            "care.sec_referrals",
            list.referrals().map(|w| work_line(ctx, w)).collect(),
            true,
        ),
    ];
    Ok(WorklistPage {
        ctx: ctx.clone(),
        crumbs: vec![
            Link {
                href: "/care".into(),
                text: ctx.t("nav.care").to_owned(),
            },
            Link {
                href: String::new(),
                text: list.team.name.clone(),
            },
        ],
        team_name: list.team.name.clone(),
        site,
        day: day.to_string(),
        day_note: if day == ctx.today {
            String::new()
        } else {
            ctx.tf("care.other_day", &[("date", &day.to_string())])
        },
        lead: ctx.tf(
            "care.worklist_lead",
            &[
                ("n", &int(list.contracted as i64)),
                ("date", &day.to_string()),
            ],
        ),
        note: ctx.tf(
            "care.worklist_note",
            &[("days", &state.care.lost_after().to_string())],
        ),
        sections,
        members: member_lines(ctx, &view.members),
    })
}

// -- GET /residents/{id}/care -------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub struct RecordQuery {
    done: Option<String>,
    id: Option<String>,
}

/// The contract form's fields.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ContractForm {
    csrf: String,
    team_id: String,
    package: String,
    start_date: String,
    kind: String,
    reason: String,
}

/// The diagnosis form's fields.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DiagnosisForm {
    csrf: String,
    code: String,
    diagnosed_on: String,
}

/// The follow-up form's fields.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FollowUpForm {
    csrf: String,
    visit_date: String,
    face_to_face: Option<String>,
    sbp: String,
    dbp: String,
    fpg: String,
    weight_kg: String,
    height_cm: String,
    danger_sign: Option<String>,
    adverse_reaction: String,
    complication: String,
    symptoms: String,
    medication: String,
}

/// The check form's fields.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CheckForm {
    csrf: String,
    kind: String,
    check_date: String,
    self_care_score: String,
    findings: String,
}

/// What was posted and refused, to show again with its errors.
enum Posted {
    Nothing,
    Contract(ContractForm, FormErrors),
    Diagnosis(DiagnosisForm, FormErrors),
    FollowUp(i64, FollowUpForm, FormErrors),
    Check(CheckForm, FormErrors),
}

/// A contract of the history.
struct ContractLine {
    team: String,
    package: String,
    kind: String,
    term: String,
    in_force: bool,
}

/// The contract in force.
struct CurrentContract {
    team: String,
    site: String,
    package: String,
    term: String,
}

struct TagLine {
    label: String,
    because: String,
}

struct DiagnosisLine {
    code: String,
    population: String,
    diagnosed_on: String,
    resolved_on: String,
}

struct FollowLine {
    date: String,
    face_to_face: String,
    bp: String,
    fpg: String,
    classification: String,
    /// `ok`, `warn` or `bad`.
    classification_kind: &'static str,
    action: String,
    next_due: String,
}

/// The values of a follow-up form.
struct FollowValues {
    visit_date: String,
    face_to_face: bool,
    sbp: String,
    dbp: String,
    fpg: String,
    weight_kg: String,
    height_cm: String,
    danger_sign: bool,
    symptoms: String,
    medication: String,
}

/// A program with its follow-ups and, while it is open, the form that records one.
struct ProgramBlock {
    /// `prog-{enrolment id}`: the id of its heading and the prefix of its form's ids.
    anchor: String,
    action: String,
    heading: String,
    enrolled: String,
    rows: Vec<FollowLine>,
    open: bool,
    values: FollowValues,
    adverse: Vec<SelectOpt>,
    complications: Vec<SelectOpt>,
    errors: FormErrors,
}

struct CheckLine {
    kind: String,
    date: String,
    score: String,
    findings: String,
}

#[derive(Template)]
#[template(path = "care.html")]
struct RecordPage {
    ctx: Ctx,
    crumbs: Vec<Link>,
    name: String,
    record_href: String,
    base: String,
    notice: String,
    can_record: bool,
    current: Option<CurrentContract>,
    members: Vec<MemberLine>,
    history: Vec<ContractLine>,
    tags: Vec<TagLine>,
    diagnoses: Vec<DiagnosisLine>,
    programs: Vec<ProgramBlock>,
    due: Vec<DueLine>,
    checks: Vec<CheckLine>,
    // The contract form.
    team_opts: Vec<SelectOpt>,
    package_opts: Vec<SelectOpt>,
    kind_opts: Vec<SelectOpt>,
    contract_start: String,
    contract_reason: String,
    contract_errors: FormErrors,
    // The diagnosis form.
    diag_code: String,
    diag_date: String,
    diag_errors: FormErrors,
    // The check form.
    check_kind_opts: Vec<SelectOpt>,
    check_date: String,
    check_score: String,
    check_findings: String,
    check_errors: FormErrors,
}

/// `GET /residents/{id}/care`.
pub async fn record(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    q: Result<Query<RecordQuery>, QueryRejection>,
) -> Response {
    if !ctx.can(Permission::ViewCare) {
        return UiError::Forbidden.render(&ctx);
    }
    let q = match q {
        Ok(Query(q)) => q,
        Err(e) => return UiError::from(e).render(&ctx),
    };
    let n = match path_id("id", &id) {
        Ok(n) => n,
        Err(e) => return e.render(&ctx),
    };
    let notice = (&q.done, &q.id);
    respond(&ctx, &state, n, StatusCode::OK, Posted::Nothing, notice).await
}

/// The page with `status`, or the error page.
async fn respond(
    ctx: &Ctx,
    state: &AppState,
    id: i64,
    status: StatusCode,
    posted: Posted,
    done: (&Option<String>, &Option<String>),
) -> Response {
    match build_record(ctx, state, id, posted, done).await {
        Ok(p) => page::html(status, &p),
        Err(e) => e.render(ctx),
    }
}

fn follow_line(ctx: &Ctx, f: &hc_store::FollowupRow) -> FollowLine {
    let bp = match (f.sbp, f.dbp) {
        (Some(s), Some(d)) => format!("{s}/{d}"),
        (Some(s), None) => format!("{s}/{DASH}"),
        (None, Some(d)) => format!("{DASH}/{d}"),
        (None, None) => DASH.to_owned(),
    };
    FollowLine {
        date: f.visit_date.to_string(),
        face_to_face: ctx.yes_no(f.face_to_face),
        bp,
        fpg: f.fpg.map_or_else(|| DASH.to_owned(), |g| fmt::dec(g, 1)),
        classification: label_or_code(ctx, "classification", &f.classification),
        classification_kind: match f.classification.as_str() {
            "satisfied" => "ok",
            "unsatisfied" => "warn",
            _ => "bad",
        },
        action: label_or_code(ctx, "care_action", &f.action),
        next_due: f.next_due.to_string(),
    }
}

/// The notice after a successful form: what was recorded (for a follow-up, the verdict).
fn done_notice(ctx: &Ctx, record: &CareRecord, done: (&Option<String>, &Option<String>)) -> String {
    match done.0.as_deref() {
        Some("contract") => ctx.t("care.done_contract").to_owned(),
        Some("diagnosis") => ctx.t("care.done_diagnosis").to_owned(),
        Some("check") => ctx.t("care.done_check").to_owned(),
        Some("followup") => {
            let id = done.1.as_deref().and_then(|s| s.parse::<i64>().ok());
            let f = record
                .programs
                .iter()
                .flat_map(|p| &p.followups)
                .find(|f| Some(f.id) == id);
            match f {
                Some(f) => ctx.tf(
                    "care.done_followup",
                    &[
                        ("date", &f.visit_date.to_string()),
                        (
                            "classification",
                            &label_or_code(ctx, "classification", &f.classification),
                        ),
                        ("action", &label_or_code(ctx, "care_action", &f.action)),
                        ("next", &f.next_due.to_string()),
                    ],
                ),
                None => String::new(),
            }
        }
        _ => String::new(),
    }
}

const PACKAGES: [&str; 2] = ["basic", "personalised"];
const CONTRACT_KINDS: [&str; 3] = ["new", "renewal", "change"];
const CHECK_KINDS: [&str; 2] = ["annual", "elderly"];
const ADVERSE: [&str; 3] = ["none", "controlled", "uncontrollable"];
const COMPLICATIONS: [&str; 4] = ["none", "stable", "new", "worse"];

async fn build_record(
    ctx: &Ctx,
    state: &AppState,
    id: i64,
    posted: Posted,
    done: (&Option<String>, &Option<String>),
) -> Result<RecordPage, UiError> {
    let caller = ctx.caller()?;
    let store = &state.store;
    let not_found = |e: AppError| match e {
        AppError::NotFound(_) => UiError::NotFound {
            what: "what.resident",
            code: id.to_string(),
        },
        other => other.into(),
    };
    let record = care::care_record(store, caller, &state.care, id, ctx.today)
        .await
        .map_err(not_found)?;
    // The care access check has read the resident (a team's patient may live outside the
    // account's registry scope).
    let r = &record.resident;
    let name = if ctx.can(Permission::ViewIdentity) {
        r.name.clone()
    } else {
        hc_core::access::mask_name(&r.name)
    };
    let sites = store.care_sites().await?;
    let site_name = |code: &str| {
        sites
            .iter()
            .find(|s| s.code == code)
            .map_or_else(|| code.to_owned(), |s| s.name.clone())
    };
    let can_record = ctx.can(Permission::RecordCare);

    let in_force = record.contracts.iter().find(|c| c.in_force(ctx.today));
    let current = in_force.map(|c| CurrentContract {
        team: c.team_name.clone(),
        site: record
            .team
            .as_ref()
            .map_or_else(String::new, |t| site_name(&t.team.institution_code)),
        package: label_or_code(ctx, "package", &c.package),
        term: term(ctx, c),
    });
    let members = record
        .team
        .as_ref()
        .map(|t| member_lines(ctx, &t.members))
        .unwrap_or_default();
    let history = record
        .contracts
        .iter()
        .rev()
        .map(|c| ContractLine {
            team: c.team_name.clone(),
            package: label_or_code(ctx, "package", &c.package),
            kind: label_or_code(ctx, "contract_kind", &c.kind),
            term: term(ctx, c),
            in_force: c.in_force(ctx.today),
        })
        .collect();
    let tags = record
        .populations
        .iter()
        .map(|t| TagLine {
            label: label_or_code(ctx, "pop", t.population.as_str()),
            because: if ctx.is_en() { t.why.en() } else { t.why.zh() },
        })
        .collect();
    let diagnoses = record
        .diagnoses
        .iter()
        .map(|d| DiagnosisLine {
            code: d.code.clone(),
            population: d
                .population
                .as_deref()
                .map_or_else(|| DASH.to_owned(), |p| label_or_code(ctx, "pop", p)),
            diagnosed_on: d.diagnosed_on.to_string(),
            resolved_on: d
                .resolved_on
                .map_or_else(|| DASH.to_owned(), |d| d.to_string()),
        })
        .collect();

    let base = format!("/residents/{id}/care");
    let today = ctx.today.to_string();
    let (mut contract_form, mut diag_form, mut fu_form, mut check_form) = (None, None, None, None);
    match posted {
        Posted::Nothing => {}
        Posted::Contract(f, e) => contract_form = Some((f, e)),
        Posted::Diagnosis(f, e) => diag_form = Some((f, e)),
        Posted::FollowUp(eid, f, e) => fu_form = Some((eid, f, e)),
        Posted::Check(f, e) => check_form = Some((f, e)),
    }

    let mut programs = Vec::new();
    for p in &record.programs {
        let e = &p.enrolment;
        let refused = fu_form.take_if(|(eid, _, _)| *eid == e.id);
        let (values, errors) = match refused {
            Some((_, f, errs)) => (
                FollowValues {
                    visit_date: f.visit_date,
                    face_to_face: f.face_to_face.is_some(),
                    sbp: f.sbp,
                    dbp: f.dbp,
                    fpg: f.fpg,
                    weight_kg: f.weight_kg,
                    height_cm: f.height_cm,
                    danger_sign: f.danger_sign.is_some(),
                    symptoms: f.symptoms,
                    medication: f.medication,
                },
                (errs, f.adverse_reaction, f.complication),
            ),
            None => (
                FollowValues {
                    visit_date: today.clone(),
                    face_to_face: true,
                    sbp: String::new(),
                    dbp: String::new(),
                    fpg: String::new(),
                    weight_kg: String::new(),
                    height_cm: String::new(),
                    danger_sign: false,
                    symptoms: String::new(),
                    medication: String::new(),
                },
                (FormErrors::default(), "none".into(), "none".into()),
            ),
        };
        let (errors, adverse, complication) = errors;
        let enrolled = match e.ended_on {
            Some(end) => ctx.tf(
                "care.enrolled_ended",
                &[
                    ("from", &e.enrolled_on.to_string()),
                    ("to", &end.to_string()),
                ],
            ),
            None => ctx.tf(
                "care.enrolled_since",
                &[("from", &e.enrolled_on.to_string())],
            ),
        };
        programs.push(ProgramBlock {
            anchor: format!("prog-{}", e.id),
            action: format!("{base}/enrolments/{}/followups", e.id),
            heading: label_or_code(ctx, "program", &e.program),
            enrolled,
            rows: p
                .followups
                .iter()
                .rev()
                .map(|f| follow_line(ctx, f))
                .collect(),
            open: e.ended_on.is_none(),
            values,
            adverse: options(ctx, "adverse", &ADVERSE, &adverse),
            complications: options(ctx, "complication", &COMPLICATIONS, &complication),
            errors,
        });
    }

    let due = due_lines(ctx, &record);
    let checks = record
        .checks
        .iter()
        .rev()
        .map(|c| CheckLine {
            kind: label_or_code(ctx, "check_kind", &c.kind),
            date: c.check_date.to_string(),
            score: c
                .self_care_score
                .map_or_else(|| DASH.to_owned(), |s| s.to_string()),
            findings: if c.findings.is_empty() {
                DASH.to_owned()
            } else {
                c.findings.clone()
            },
        })
        .collect();

    // The forms: the teams of the caller's jurisdiction, values kept after a refusal.
    let (cf, contract_errors) = contract_form.unwrap_or_default();
    let mut team_opts = vec![SelectOpt {
        value: String::new(),
        label: ctx.t("care.choose_team").to_owned(),
        selected: cf.team_id.is_empty(),
    }];
    if can_record {
        team_opts.extend(
            care::teams(store, caller, None)
                .await?
                .into_iter()
                .map(|t| SelectOpt {
                    selected: cf.team_id == t.id.to_string(),
                    value: t.id.to_string(),
                    label: ctx.tf(
                        "care.team_option",
                        &[("name", &t.name), ("site", &site_name(&t.institution_code))],
                    ),
                }),
        );
    }
    let package = if cf.package.is_empty() {
        "basic"
    } else {
        cf.package.as_str()
    };
    let kind = if cf.kind.is_empty() {
        "new"
    } else {
        cf.kind.as_str()
    };
    let (df, diag_errors) = diag_form.unwrap_or_default();
    let (kf, check_errors) = check_form.unwrap_or_default();
    let check_kind = if kf.kind.is_empty() {
        "annual"
    } else {
        kf.kind.as_str()
    };

    let mut crumbs = vec![Link {
        href: "/residents".into(),
        text: ctx.t("nav.residents").to_owned(),
    }];
    crumbs.push(Link {
        href: format!("/residents/{id}"),
        text: name.clone(),
    });
    crumbs.push(Link {
        href: String::new(),
        text: ctx.t("care.record").to_owned(),
    });

    Ok(RecordPage {
        notice: done_notice(ctx, &record, done),
        ctx: ctx.clone(),
        crumbs,
        record_href: format!("/residents/{id}"),
        name,
        base,
        can_record,
        current,
        members,
        history,
        tags,
        diagnoses,
        programs,
        due,
        checks,
        team_opts,
        package_opts: options(ctx, "package", &PACKAGES, package),
        kind_opts: options(ctx, "contract_kind", &CONTRACT_KINDS, kind),
        contract_start: if cf.start_date.is_empty() {
            today.clone()
        } else {
            cf.start_date.clone()
        },
        contract_reason: cf.reason.clone(),
        contract_errors,
        diag_code: df.code.clone(),
        diag_date: if df.diagnosed_on.is_empty() {
            today.clone()
        } else {
            df.diagnosed_on.clone()
        },
        diag_errors,
        check_kind_opts: options(ctx, "check_kind", &CHECK_KINDS, check_kind),
        check_date: if kf.check_date.is_empty() {
            today
        } else {
            kf.check_date.clone()
        },
        check_score: kf.self_care_score.clone(),
        check_findings: kf.findings.clone(),
        check_errors,
    })
}

// -- the forms ----------------------------------------------------------------------------------

/// What a refused form gets: the page again with the errors (422 for invalid input, 409 for a
/// conflict); a missing or hidden record is the 404 page, a role without the right the 403.
async fn refused(
    ctx: &Ctx,
    state: &AppState,
    id: i64,
    err: AppError,
    posted: impl FnOnce(FormErrors) -> Posted,
) -> Response {
    let (status, errors) = match err {
        AppError::Invalid(errs) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            FormErrors::from_app(ctx, errs),
        ),
        AppError::Conflict(e) => (StatusCode::CONFLICT, FormErrors::from_app(ctx, vec![e])),
        AppError::NotFound("team") => (
            StatusCode::UNPROCESSABLE_ENTITY,
            FormErrors::new(
                ctx,
                vec![("team_id".to_owned(), ctx.t("care.err_team").to_owned())],
            ),
        ),
        AppError::NotFound(_) => {
            return UiError::NotFound {
                what: "what.resident",
                code: id.to_string(),
            }
            .render(ctx);
        }
        other => return UiError::from(other).render(ctx),
    };
    respond(ctx, state, id, status, posted(errors), (&None, &None)).await
}

/// The context of a POST, as if on the care page (for the language switch).
fn on_page(ctx: Ctx, id: &str) -> Ctx {
    Ctx {
        path: format!("/residents/{id}/care"),
        ..ctx
    }
}

/// Checks the form's CSRF token and the right to record care; the resident's id.
fn posted_by<'a>(
    ctx: &'a Ctx,
    headers: &HeaderMap,
    csrf: &str,
    id: &str,
) -> Result<(&'a hc_app::audit::Caller, i64), UiError> {
    let caller = ctx.poster(headers, csrf, Some(Permission::RecordCare))?;
    Ok((caller, path_id("id", id)?))
}

/// `POST /residents/{id}/care/contracts`.
pub async fn post_contract(
    ctx: Ctx,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<ContractForm>, FormRejection>,
) -> Response {
    let ctx = on_page(ctx, &id);
    let Ok(Form(form)) = form else {
        return UiError::bad("form", "").render(&ctx);
    };
    let (caller, n) = match posted_by(&ctx, &headers, &form.csrf, &id) {
        Ok(x) => x,
        Err(e) => return e.render(&ctx),
    };
    let mut errs = Vec::new();
    let team_id = match form.team_id.trim().parse::<i64>() {
        Ok(t) => Some(t),
        Err(_) => {
            errs.push(("team_id".to_owned(), ctx.t("care.err_team").to_owned()));
            None
        }
    };
    let start = form_date(&ctx, &mut errs, "start_date", &form.start_date);
    let (Some(team_id), Some(start_date)) = (team_id, start) else {
        let errors = FormErrors::new(&ctx, errs);
        return respond(
            &ctx,
            &state,
            n,
            StatusCode::UNPROCESSABLE_ENTITY,
            Posted::Contract(form, errors),
            (&None, &None),
        )
        .await;
    };
    let input = care::ContractInput {
        resident_id: n,
        team_id,
        package: form.package.trim().to_owned(),
        start_date,
        end_date: None,
        kind: Some(form.kind.trim().to_owned()).filter(|k| !k.is_empty()),
        reason: Some(form.reason.trim().to_owned()).filter(|r| !r.is_empty()),
    };
    match care::sign_contract(&state.store, caller, input).await {
        Ok(_) => page::redirect(&format!("/residents/{n}/care?done=contract")),
        Err(e) => refused(&ctx, &state, n, e, |errs| Posted::Contract(form, errs)).await,
    }
}

/// `POST /residents/{id}/care/diagnoses`.
pub async fn post_diagnosis(
    ctx: Ctx,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<DiagnosisForm>, FormRejection>,
) -> Response {
    let ctx = on_page(ctx, &id);
    let Ok(Form(form)) = form else {
        return UiError::bad("form", "").render(&ctx);
    };
    let (caller, n) = match posted_by(&ctx, &headers, &form.csrf, &id) {
        Ok(x) => x,
        Err(e) => return e.render(&ctx),
    };
    let mut errs = Vec::new();
    let Some(on) = form_date(&ctx, &mut errs, "diagnosed_on", &form.diagnosed_on) else {
        let errors = FormErrors::new(&ctx, errs);
        return respond(
            &ctx,
            &state,
            n,
            StatusCode::UNPROCESSABLE_ENTITY,
            Posted::Diagnosis(form, errors),
            (&None, &None),
        )
        .await;
    };
    match care::add_diagnosis(&state.store, caller, n, &form.code, on, ctx.today).await {
        Ok(_) => page::redirect(&format!("/residents/{n}/care?done=diagnosis")),
        Err(e) => refused(&ctx, &state, n, e, |errs| Posted::Diagnosis(form, errs)).await,
    }
}

/// The follow-up of a form, or the fields that do not parse.
fn followup_of(ctx: &Ctx, f: &FollowUpForm) -> Result<FollowUp, Vec<(String, String)>> {
    let mut errs = Vec::new();
    let date = form_date(ctx, &mut errs, "visit_date", &f.visit_date);
    let sbp = number::<u16>(ctx, &mut errs, "sbp", &f.sbp);
    let dbp = number::<u16>(ctx, &mut errs, "dbp", &f.dbp);
    let fpg = number::<f64>(ctx, &mut errs, "fpg", &f.fpg);
    let weight_kg = number::<f64>(ctx, &mut errs, "weight_kg", &f.weight_kg);
    let height_cm = number::<f64>(ctx, &mut errs, "height_cm", &f.height_cm);
    let adverse = AdverseReaction::parse(f.adverse_reaction.trim()).unwrap_or_else(|| {
        errs.push((
            "adverse_reaction".to_owned(),
            ctx.t("care.err_choice").to_owned(),
        ));
        AdverseReaction::None
    });
    let complication = Complication::parse(f.complication.trim()).unwrap_or_else(|| {
        errs.push((
            "complication".to_owned(),
            ctx.t("care.err_choice").to_owned(),
        ));
        Complication::None
    });
    match date {
        Some(d) if errs.is_empty() => Ok(FollowUp {
            face_to_face: f.face_to_face.is_some(),
            sbp,
            dbp,
            fpg,
            weight_kg,
            height_cm,
            danger_sign: f.danger_sign.is_some(),
            adverse_reaction: adverse,
            complication,
            symptoms: f.symptoms.trim().to_owned(),
            medication: f.medication.trim().to_owned(),
            ..FollowUp::new(d)
        }),
        _ => Err(errs),
    }
}

/// `POST /residents/{id}/care/enrolments/{enrolment}/followups`: records the follow-up; the
/// page that follows shows the rules' verdict on it.
pub async fn post_followup(
    ctx: Ctx,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, enrolment)): Path<(String, String)>,
    form: Result<Form<FollowUpForm>, FormRejection>,
) -> Response {
    let ctx = on_page(ctx, &id);
    let Ok(Form(form)) = form else {
        return UiError::bad("form", "").render(&ctx);
    };
    let (caller, n) = match posted_by(&ctx, &headers, &form.csrf, &id) {
        Ok(x) => x,
        Err(e) => return e.render(&ctx),
    };
    let eid = match path_id("enrolment", &enrolment) {
        Ok(e) => e,
        Err(e) => return e.render(&ctx),
    };
    // The enrolment must be this resident's: the page it goes back to is theirs.
    match state.store.enrolment(eid).await {
        Ok(e) if e.resident_id == n => {}
        Ok(_) | Err(hc_store::StoreError::NotFound) => {
            return UiError::NotFound {
                what: "what.record",
                code: enrolment,
            }
            .render(&ctx);
        }
        Err(e) => return UiError::from(e).render(&ctx),
    }
    let f = match followup_of(&ctx, &form) {
        Ok(f) => f,
        Err(errs) => {
            return respond(
                &ctx,
                &state,
                n,
                StatusCode::UNPROCESSABLE_ENTITY,
                Posted::FollowUp(eid, form, FormErrors::new(&ctx, errs)),
                (&None, &None),
            )
            .await;
        }
    };
    match care::record_followup(&state.store, caller, &state.care, eid, f, ctx.today).await {
        Ok(r) => page::redirect(&format!("/residents/{n}/care?done=followup&id={}", r.id)),
        Err(e) => refused(&ctx, &state, n, e, |errs| Posted::FollowUp(eid, form, errs)).await,
    }
}

/// `POST /residents/{id}/care/checks`.
pub async fn post_check(
    ctx: Ctx,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<CheckForm>, FormRejection>,
) -> Response {
    let ctx = on_page(ctx, &id);
    let Ok(Form(form)) = form else {
        return UiError::bad("form", "").render(&ctx);
    };
    let (caller, n) = match posted_by(&ctx, &headers, &form.csrf, &id) {
        Ok(x) => x,
        Err(e) => return e.render(&ctx),
    };
    let mut errs = Vec::new();
    let date = form_date(&ctx, &mut errs, "check_date", &form.check_date);
    let score = number::<i32>(&ctx, &mut errs, "self_care_score", &form.self_care_score);
    let Some(check_date) = date.filter(|_| errs.is_empty()) else {
        let errors = FormErrors::new(&ctx, errs);
        return respond(
            &ctx,
            &state,
            n,
            StatusCode::UNPROCESSABLE_ENTITY,
            Posted::Check(form, errors),
            (&None, &None),
        )
        .await;
    };
    let row = CheckRow {
        id: 0,
        resident_id: n,
        kind: form.kind.trim().to_owned(),
        check_date,
        self_care_score: score,
        findings: form.findings.trim().to_owned(),
        practitioner_id: None,
    };
    match care::record_check(&state.store, caller, row, ctx.today).await {
        Ok(_) => page::redirect(&format!("/residents/{n}/care?done=check")),
        Err(e) => refused(&ctx, &state, n, e, |errs| Posted::Check(form, errs)).await,
    }
}
