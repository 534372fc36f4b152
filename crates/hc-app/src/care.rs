//! Primary care: family-doctor teams and contracts, key populations, the hypertension and
//! diabetes programs, worklists and the indicators (issue #6).
//!
//! Every use case checks the caller's permission and jurisdiction and audits what it reads
//! or writes. The rules are hc-care's; the verdict on each follow-up is computed here, on the
//! server, and stored with the rules' version; a late or back-dated follow-up re-judges the
//! patient's later visits in the same transaction.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Datelike, Duration, NaiveDate};
use hc_care::{
    Action, Classification, ContractKind, FollowUp, Fulfilment, KeyPopulation, Package, Program,
    ProgramState, ResidentFacts, Rules, Standard, Tag, TeamRole, WorkStatus,
};
use hc_core::access::{Permission, Scope, Subtree, mask_name};
use hc_core::validate::FieldError;
use hc_store::{
    CheckRow, CommunityCount, ContractRow, ContractServiceRow, DiagnosisRow, EnrolmentRow,
    FollowupRow, IndicatorParams, Measure, NewContract, NewEnrolment, NewFollowup, NewTeam, Store,
    StoreError, TeamMemberRow, TeamRow, Verdict,
};
use serde::Serialize;

use crate::AppError;
use crate::audit::{Caller, Event};
use crate::registry::not_found;

/// The rules and definitions primary care runs on; configurable per deployment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CareSettings {
    /// Follow-up classification and scheduling.
    pub rules: Rules,
    /// What "standardised management" requires.
    pub standard: Standard,
    /// Services a contract must deliver a year.
    pub fulfilment: Fulfilment,
    /// Days overdue after which a patient counts as lost to follow-up (default 90).
    pub lost_after_days: Option<i64>,
}

impl CareSettings {
    /// Days overdue after which a patient counts as lost to follow-up.
    pub fn lost_after(&self) -> i64 {
        self.lost_after_days.unwrap_or(90)
    }
}

// ---------------------------------------------------------------------------------------------
// Access.

/// Whether the caller may see or change `resident_id`'s primary care; the resident's record
/// comes back. A caller tied to one institution (a 社康) sees the residents who have (had) a
/// contract with one of its teams, wherever they live, and those living in its community, to
/// sign them up; anyone else sees the residents of their registry scope.
async fn care_access(
    store: &Store,
    caller: &Caller,
    resident_id: i64,
) -> Result<hc_store::Stored<hc_core::model::Resident>, AppError> {
    let scope = caller.scope();
    let Some(inst) = &scope.institution else {
        return store
            .resident(resident_id, scope, caller.principal.user_id)
            .await
            .map_err(not_found("resident"));
    };
    // The team's patients live all over the district: read past the org-unit scope, then
    // decide on the contracts and the 社康's community.
    let wide = Scope {
        orgunit: None,
        ..scope.clone()
    };
    let resident = store
        .resident(resident_id, &wide, caller.principal.user_id)
        .await
        .map_err(not_found("resident"))?;
    let teams: HashSet<i64> = store
        .teams(&Scope::city(), Some(inst))
        .await?
        .iter()
        .map(|t| t.id)
        .collect();
    let contracted = store
        .contracts_of(resident_id)
        .await?
        .iter()
        .any(|c| teams.contains(&c.team_id));
    let allowed = contracted
        || store
            .care_sites()
            .await?
            .iter()
            .any(|s| &s.code == inst && s.community_code == resident.record.community_code);
    if !allowed {
        return Err(AppError::NotFound("resident"));
    }
    Ok(resident)
}

/// A refused field, with its English and Chinese messages.
fn bad(field: &str, message: impl Into<String>, zh: impl Into<String>) -> AppError {
    AppError::Invalid(vec![FieldError::new(field, message).with_zh(zh)])
}

// ---------------------------------------------------------------------------------------------
// Teams.

/// A team to create.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamInput {
    /// Code, unique in the city.
    pub code: String,
    /// Name.
    pub name: String,
    /// The 社康.
    pub institution_code: String,
    /// Members: practitioner id and role (`gp_lead`, `nurse`, `public_health`, `other`).
    pub members: Vec<(i64, String)>,
}

/// A team with its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TeamView {
    /// The team.
    #[serde(flatten)]
    pub team: TeamRow,
    /// Members, lead first.
    pub members: Vec<TeamMemberRow>,
}

/// Creates a family-doctor team at a 社康 in the caller's jurisdiction: one GP lead, members
/// who work at that 社康.
pub async fn create_team(
    store: &Store,
    caller: &Caller,
    input: TeamInput,
) -> Result<TeamView, AppError> {
    caller.require(Permission::EditInstitutions)?;
    let mut errors = Vec::new();
    if input.code.trim().is_empty() || input.code.len() > 40 {
        errors.push(FieldError::new("code", "1 to 40 characters").with_zh("须为 1 至 40 个字符"));
    }
    if input.name.trim().is_empty() || input.name.chars().count() > 100 {
        errors.push(FieldError::new("name", "1 to 100 characters").with_zh("须为 1 至 100 个字符"));
    }
    let site = store
        .care_sites()
        .await?
        .into_iter()
        .find(|s| s.code == input.institution_code);
    match &site {
        None => errors.push(
            FieldError::new(
                "institution_code",
                format!("{} is not a 社康 centre or station", input.institution_code),
            )
            .with_zh(format!("{} 不是社康中心或社康站", input.institution_code)),
        ),
        Some(s) if !caller.scope().contains_unit(&s.community_code) => {
            return Err(AppError::NotFound("institution"));
        }
        Some(_) => {}
    }
    let leads = input
        .members
        .iter()
        .filter(|(_, r)| r == TeamRole::GpLead.as_str())
        .count();
    if leads != 1 {
        errors.push(
            FieldError::new(
                "members",
                format!("a team has exactly one GP lead (gp_lead), not {leads}"),
            )
            .with_zh(format!(
                "团队须有且只有一名团队长（全科医生），现为 {leads} 名"
            )),
        );
    }
    for (i, (id, role)) in input.members.iter().enumerate() {
        if TeamRole::parse(role).is_none() {
            errors.push(
                FieldError::new(
                    format!("members[{i}].role"),
                    format!("{role:?} is not gp_lead, nurse, public_health or other"),
                )
                .with_zh(format!("“{role}”不是团队长、护士、公卫医师或其他")),
            );
        }
        match store
            .practitioner(*id, &hc_core::access::Scope::city())
            .await
        {
            Ok(p) if p.record.institution_code == input.institution_code => {}
            Ok(_) => errors.push(
                FieldError::new(
                    format!("members[{i}]"),
                    format!(
                        "practitioner {id} does not work at {}",
                        input.institution_code
                    ),
                )
                .with_zh(format!(
                    "医务人员 {id} 不在 {} 执业",
                    input.institution_code
                )),
            ),
            Err(StoreError::NotFound) => errors.push(
                FieldError::new(format!("members[{i}]"), format!("no practitioner {id}"))
                    .with_zh(format!("没有编号为 {id} 的医务人员")),
            ),
            Err(e) => return Err(e.into()),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let id = store
        .insert_team(&NewTeam {
            code: input.code.trim().to_owned(),
            name: input.name.trim().to_owned(),
            institution_code: input.institution_code,
            members: input.members,
        })
        .await?;
    caller
        .record(store, Event::new("create", "care_team").id(id))
        .await?;
    team(store, caller, id).await
}

/// The teams the caller's jurisdiction holds, optionally at one institution.
pub async fn teams(
    store: &Store,
    caller: &Caller,
    institution: Option<&str>,
) -> Result<Vec<TeamRow>, AppError> {
    if !caller.principal.can(Permission::ViewCare) {
        caller.require(Permission::ViewIndicators)?;
    }
    Ok(store.teams(caller.scope(), institution).await?)
}

/// A team and its members.
pub async fn team(store: &Store, caller: &Caller, id: i64) -> Result<TeamView, AppError> {
    if !caller.principal.can(Permission::ViewCare) {
        caller.require(Permission::ViewIndicators)?;
    }
    let team = store
        .team(id, caller.scope())
        .await
        .map_err(not_found("team"))?;
    let members = store.team_members(id).await?;
    Ok(TeamView { team, members })
}

// ---------------------------------------------------------------------------------------------
// Contracts.

/// A contract to sign.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractInput {
    /// The resident.
    pub resident_id: i64,
    /// The team.
    pub team_id: i64,
    /// `basic` or `personalised`.
    pub package: String,
    /// First day.
    pub start_date: NaiveDate,
    /// Agreed end, exclusive; default a year after the start.
    #[serde(default)]
    pub end_date: Option<NaiveDate>,
    /// `new` (default), `renewal` (continues the contract ending on `start_date`) or `change`
    /// (replaces the contract in force, which ends on `start_date`).
    #[serde(default)]
    pub kind: Option<String>,
    /// Why the team changes (for `change`).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Signs a contract. A resident has one team at a time: a new contract that would overlap one
/// in force is refused, naming it; `renewal` continues the contract that ends when the new one
/// starts; `change` ends the one in force on the new one's first day, with the reason.
pub async fn sign_contract(
    store: &Store,
    caller: &Caller,
    input: ContractInput,
) -> Result<ContractRow, AppError> {
    caller.require(Permission::RecordCare)?;
    care_access(store, caller, input.resident_id).await?;
    let team = store
        .team(input.team_id, caller.scope())
        .await
        .map_err(not_found("team"))?;
    let package = Package::parse(&input.package).ok_or_else(|| {
        bad(
            "package",
            format!("{:?} is not basic or personalised", input.package),
            format!("“{}”不是基础包或个性化包", input.package),
        )
    })?;
    let kind = match input.kind.as_deref().unwrap_or("new") {
        "new" => ContractKind::New,
        "renewal" => ContractKind::Renewal,
        "change" => ContractKind::Change,
        other => {
            return Err(bad(
                "kind",
                format!("{other:?} is not new, renewal or change"),
                format!("“{other}”不是新签、续约或变更"),
            ));
        }
    };
    let end = input
        .end_date
        .unwrap_or_else(|| hc_care::add_months(input.start_date, 12));
    if let Some(k) = hc_care::term_problem(input.start_date, end) {
        return Err(AppError::Invalid(vec![
            FieldError::new("end_date", k.en()).with_zh(k.zh()),
        ]));
    }
    let history = store.contracts_of(input.resident_id).await?;
    let current = history
        .iter()
        .find(|c| c.ended_on.is_none() && c.start_date < end && c.end_date > input.start_date);
    let (previous, end_old) = match kind {
        ContractKind::New => (None, None),
        ContractKind::Renewal => {
            let prev = history
                .iter()
                .rev()
                .find(|c| c.ended_on.is_none() && c.end_date == input.start_date)
                .ok_or_else(|| {
                    bad(
                        "kind",
                        format!(
                            "a renewal continues a contract that ends on {}; there is none",
                            input.start_date
                        ),
                        format!(
                            "续约须接续一份于 {} 到期的签约，但没有这样的签约",
                            input.start_date
                        ),
                    )
                })?;
            (Some(prev.id), None)
        }
        ContractKind::Change => {
            let cur = current.ok_or_else(|| {
                bad(
                    "kind",
                    "a change replaces the contract in force; there is none",
                    "变更须替换一份在约签约，但当前没有",
                )
            })?;
            if cur.team_id == input.team_id {
                return Err(bad(
                    "team_id",
                    "a change moves to another team",
                    "变更须换到另一个团队",
                ));
            }
            let reason = input
                .reason
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .ok_or_else(|| {
                    bad(
                        "reason",
                        "a change of team needs a reason",
                        "变更团队须填写原因",
                    )
                })?;
            if input.start_date <= cur.start_date {
                return Err(bad(
                    "start_date",
                    format!("the change must start after {}", cur.start_date),
                    format!("变更须在 {} 之后开始", cur.start_date),
                ));
            }
            (
                Some(cur.id),
                Some((cur.id, input.start_date, reason.to_owned())),
            )
        }
    };
    let new = NewContract {
        resident_id: input.resident_id,
        team_id: team.id,
        package: package.as_str().to_owned(),
        kind: kind.as_str().to_owned(),
        previous_id: previous,
        start_date: input.start_date,
        end_date: end,
        ended_on: None,
        end_reason: None,
        created_by: caller.principal.name.clone(),
    };
    let id = match store
        .sign_contract(
            &new,
            end_old.as_ref().map(|(id, on, r)| (*id, *on, r.as_str())),
        )
        .await
    {
        Ok(id) => id,
        Err(StoreError::Conflict { constraint }) if constraint == "contracts_overlap" => {
            let other = current.map_or_else(String::new, |c| {
                format!(
                    ": contract {} with {} runs from {} to {}",
                    c.id, c.team_name, c.start_date, c.end_date
                )
            });
            return Err(AppError::Conflict(FieldError::new(
                "start_date",
                format!(
                    "the resident already has a contract in force in that period{other}; end it, renew it or change team"
                ),
            )));
        }
        Err(StoreError::NotFound) => return Err(AppError::NotFound("resident")),
        Err(e) => return Err(e.into()),
    };
    caller
        .record(
            store,
            Event::new("create", "contract")
                .id(id)
                .resident(input.resident_id)
                .detail(kind.as_str()),
        )
        .await?;
    Ok(store.contract(id).await?)
}

/// Ends contract `id` early, on `on`, for `reason`.
pub async fn end_contract(
    store: &Store,
    caller: &Caller,
    id: i64,
    on: NaiveDate,
    reason: &str,
) -> Result<ContractRow, AppError> {
    caller.require(Permission::RecordCare)?;
    let c = store.contract(id).await.map_err(not_found("contract"))?;
    care_access(store, caller, c.resident_id).await?;
    if reason.trim().is_empty() {
        return Err(bad(
            "reason",
            "ending a contract needs a reason",
            "解约须填写原因",
        ));
    }
    if on < c.start_date || on >= c.end_date {
        return Err(bad(
            "ended_on",
            format!(
                "must be within the term, {} to {}",
                c.start_date, c.end_date
            ),
            format!("须在签约期内（{} 至 {}）", c.start_date, c.end_date),
        ));
    }
    store
        .end_contract(id, c.resident_id, on, reason.trim())
        .await
        .map_err(|e| match e {
            StoreError::Conflict { .. } => AppError::Conflict(
                FieldError::new("ended_on", format!("contract {id} has already ended"))
                    .with_zh(format!("签约 {id} 已解约")),
            ),
            other => other.into(),
        })?;
    caller
        .record(
            store,
            Event::new("update", "contract")
                .id(id)
                .resident(c.resident_id)
                .detail("ended"),
        )
        .await?;
    Ok(store.contract(id).await?)
}

/// Records a service delivered under contract `id` (履约).
pub async fn record_service(
    store: &Store,
    caller: &Caller,
    service: ContractServiceRow,
    today: NaiveDate,
) -> Result<i64, AppError> {
    caller.require(Permission::RecordCare)?;
    let c = store
        .contract(service.contract_id)
        .await
        .map_err(not_found("contract"))?;
    care_access(store, caller, c.resident_id).await?;
    if service.delivered_on > today {
        return Err(bad(
            "delivered_on",
            format!("{} is in the future", service.delivered_on),
            format!("{} 是将来的日期", service.delivered_on),
        ));
    }
    if service.delivered_on < c.start_date || service.delivered_on >= c.effective_end() {
        return Err(bad(
            "delivered_on",
            format!(
                "{} is outside the contract's term ({} to {})",
                service.delivered_on,
                c.start_date,
                c.effective_end()
            ),
            format!(
                "{} 不在签约期内（{} 至 {}）",
                service.delivered_on,
                c.start_date,
                c.effective_end()
            ),
        ));
    }
    if service.service.trim().is_empty() || service.service.len() > 60 {
        return Err(bad("service", "1 to 60 characters", "须为 1 至 60 个字符"));
    }
    let id = store.record_service(&service).await?;
    caller
        .record(
            store,
            Event::new("create", "contract_service")
                .id(id)
                .resident(c.resident_id),
        )
        .await?;
    Ok(id)
}

// ---------------------------------------------------------------------------------------------
// Diagnoses, enrolments, follow-ups, checks.

/// Programs start at this age (the specification manages patients aged 35 and over).
pub const PROGRAM_FROM_AGE: u32 = 35;

/// Adds a diagnosis. A hypertension (I10–I15) or type-2 diabetes (E11) diagnosis of a resident
/// aged 35 or more enrols them in the program from that day, unless already enrolled; the
/// enrolment's id comes back with the diagnosis's.
pub async fn add_diagnosis(
    store: &Store,
    caller: &Caller,
    resident_id: i64,
    code: &str,
    diagnosed_on: NaiveDate,
    today: NaiveDate,
) -> Result<(i64, Option<i64>), AppError> {
    caller.require(Permission::RecordCare)?;
    let resident = care_access(store, caller, resident_id).await?;
    let code = code.trim().to_ascii_uppercase();
    let valid = code.len() >= 3
        && code.len() <= 8
        && code.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && code[1..3].chars().all(|c| c.is_ascii_digit())
        && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '.');
    if !valid {
        return Err(bad(
            "code",
            format!("{code:?} is not an ICD-10 code"),
            format!("“{code}”不是 ICD-10 编码"),
        ));
    }
    if diagnosed_on > today {
        return Err(bad(
            "diagnosed_on",
            format!("{diagnosed_on} is in the future"),
            format!("{diagnosed_on} 是将来的日期"),
        ));
    }
    if diagnosed_on < resident.record.birth_date {
        return Err(bad(
            "diagnosed_on",
            "before the resident's birth",
            "早于居民出生日期",
        ));
    }
    let population = hc_care::diagnosis_population(&code);
    let id = store
        .add_diagnosis(&DiagnosisRow {
            id: 0,
            resident_id,
            code: code.clone(),
            population: population.map(|p| p.as_str().to_owned()),
            diagnosed_on,
            resolved_on: None,
        })
        .await?;
    caller
        .record(
            store,
            Event::new("create", "diagnosis")
                .id(id)
                .resident(resident_id),
        )
        .await?;
    let program = match population {
        Some(KeyPopulation::Hypertension) => Some(Program::Hypertension),
        Some(KeyPopulation::Diabetes) => Some(Program::Diabetes),
        _ => None,
    };
    let age = diagnosed_on
        .years_since(resident.record.birth_date)
        .unwrap_or(0);
    let mut enrolment = None;
    if let Some(program) = program
        && age >= PROGRAM_FROM_AGE
    {
        let enrolled = store.enrolments_of(resident_id).await?;
        if !enrolled.iter().any(|e| e.program == program.as_str()) {
            let eid = store
                .enrol(&NewEnrolment {
                    resident_id,
                    program: program.as_str().to_owned(),
                    enrolled_on: diagnosed_on,
                    diagnosis_id: Some(id),
                })
                .await?;
            caller
                .record(
                    store,
                    Event::new("create", "enrolment")
                        .id(eid)
                        .resident(resident_id)
                        .detail(program.as_str()),
                )
                .await?;
            enrolment = Some(eid);
        }
    }
    Ok((id, enrolment))
}

fn verdict(rules: &Rules, o: &hc_care::Outcome) -> Verdict {
    Verdict {
        classification: o.classification.as_str().to_owned(),
        action: o.action.as_str().to_owned(),
        next_due: o.next_due,
        rules_version: rules.version.clone(),
    }
}

/// The visit the rules read from a stored follow-up.
fn stored_visit(f: &FollowupRow, birth_date: NaiveDate) -> hc_care::Visit {
    hc_care::Visit {
        date: f.visit_date,
        birth_date,
        sbp: f.sbp.and_then(|v| u16::try_from(v).ok()),
        dbp: f.dbp.and_then(|v| u16::try_from(v).ok()),
        fpg: f.fpg,
        danger_sign: f.danger_sign,
        adverse_reaction: hc_care::AdverseReaction::parse(&f.adverse_reaction).unwrap_or_default(),
        complication: hc_care::Complication::parse(&f.complication).unwrap_or_default(),
        face_to_face: f.face_to_face,
    }
}

/// A recorded follow-up and the rules' verdict on it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recorded {
    /// The follow-up's id.
    pub id: i64,
    /// Its classification.
    pub classification: Classification,
    /// What it requires.
    pub action: Action,
    /// When the next is due.
    pub next_due: NaiveDate,
    /// Why, in the rules' words (English).
    pub reasons: Vec<String>,
    /// Why, as the facts the rules found (each says itself in English and Chinese).
    pub why: Vec<hc_care::Reason>,
    /// The rules' version.
    pub rules_version: String,
}

/// Records a follow-up of enrolment `enrolment_id`: checked (impossible values, a date in the
/// future or before enrolment are refused, naming the field), classified by the rules, and
/// stored with the verdict; the patient's later visits are re-judged with it.
pub async fn record_followup(
    store: &Store,
    caller: &Caller,
    settings: &CareSettings,
    enrolment_id: i64,
    form: FollowUp,
    today: NaiveDate,
) -> Result<Recorded, AppError> {
    caller.require(Permission::RecordCare)?;
    let e = store
        .enrolment(enrolment_id)
        .await
        .map_err(not_found("enrolment"))?;
    care_access(store, caller, e.resident_id).await?;
    let program =
        Program::parse(&e.program).ok_or_else(|| AppError::Store(StoreError::NotFound))?;
    if let Some(ended) = e.ended_on
        && form.visit_date >= ended
    {
        return Err(bad(
            "visit_date",
            format!("the patient left the program on {ended}"),
            format!("患者已于 {ended} 退出管理"),
        ));
    }
    let problems =
        hc_care::check_followup(&settings.rules, &form, e.birth_date, e.enrolled_on, today);
    if !problems.is_empty() {
        return Err(AppError::Invalid(
            problems
                .into_iter()
                .map(|p| FieldError::new(p.field, p.message).with_zh(p.kind.zh()))
                .collect(),
        ));
    }
    let rules = &settings.rules;
    let birth = e.birth_date;
    let new = NewFollowup {
        enrolment_id,
        form: form.clone(),
        verdict: Verdict {
            classification: String::new(),
            action: String::new(),
            next_due: form.visit_date,
            rules_version: rules.version.clone(),
        },
        recorded_by: caller.principal.name.clone(),
    };
    let mut outcome = None;
    let id = store
        .record_followup(&new, |all| {
            let visits: Vec<hc_care::Visit> = all.iter().map(|f| stored_visit(f, birth)).collect();
            let outcomes = hc_care::evaluate(program, rules, &visits);
            outcome = all
                .iter()
                .zip(&outcomes)
                .find(|(f, _)| f.id == 0)
                .map(|(_, o)| o.clone());
            outcomes.iter().map(|o| verdict(rules, o)).collect()
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict { .. } => AppError::Conflict(FieldError::new(
                "visit_date",
                format!("a follow-up on {} is already recorded", form.visit_date),
            )),
            other => other.into(),
        })?;
    let o = outcome.ok_or(AppError::NotFound("follow-up"))?;
    caller
        .record(
            store,
            Event::new("create", "followup")
                .id(id)
                .resident(e.resident_id)
                .detail(format!(
                    "{} {}",
                    program.as_str(),
                    o.classification.as_str()
                )),
        )
        .await?;
    Ok(Recorded {
        id,
        classification: o.classification,
        action: o.action,
        next_due: o.next_due,
        reasons: o.reasons.iter().map(hc_care::Reason::en).collect(),
        why: o.reasons,
        rules_version: rules.version.clone(),
    })
}

/// Records an annual health check (`annual`) or elderly health management (`elderly`).
pub async fn record_check(
    store: &Store,
    caller: &Caller,
    check: CheckRow,
    today: NaiveDate,
) -> Result<i64, AppError> {
    caller.require(Permission::RecordCare)?;
    care_access(store, caller, check.resident_id).await?;
    if check.kind != "annual" && check.kind != "elderly" {
        return Err(bad(
            "kind",
            format!("{:?} is not annual or elderly", check.kind),
            format!("“{}”不是年度体检或老年人健康管理", check.kind),
        ));
    }
    if check.check_date > today {
        return Err(bad(
            "check_date",
            format!("{} is in the future", check.check_date),
            format!("{} 是将来的日期", check.check_date),
        ));
    }
    if let Some(s) = check.self_care_score
        && !(0..=100).contains(&s)
    {
        return Err(bad(
            "self_care_score",
            format!("{s} is outside 0-100"),
            format!("{s} 不在 0–100 之间"),
        ));
    }
    let id = store.record_check(&check).await?;
    caller
        .record(
            store,
            Event::new("create", "health_check")
                .id(id)
                .resident(check.resident_id)
                .detail(check.kind.clone()),
        )
        .await?;
    Ok(id)
}

// ---------------------------------------------------------------------------------------------
// A resident's care record and the worklists.

/// One thing a resident is due for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueItem {
    /// `followup`, `referral_followup`, `annual_check` or `elderly_annual`.
    pub service: &'static str,
    /// The program, if the service belongs to one.
    pub program: Option<&'static str>,
    /// When.
    pub due: NaiveDate,
    /// Where it stands today.
    pub status: WorkStatus,
    /// Why (English).
    pub because: String,
    /// Why, as a fact (says itself in English and Chinese).
    pub why: hc_care::DueReason,
}

/// A key population a resident belongs to, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagView {
    /// The population.
    pub population: KeyPopulation,
    /// Why (English), e.g. `diagnosis I10 on 2021-05-03`.
    pub because: String,
    /// Why, as a fact (says itself in English and Chinese).
    pub why: hc_care::TagReason,
}

impl From<Tag> for TagView {
    fn from(t: Tag) -> Self {
        TagView {
            population: t.population,
            because: t.because.en(),
            why: t.because,
        }
    }
}

/// A program enrolment with its follow-ups.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProgramView {
    /// The enrolment.
    pub enrolment: EnrolmentRow,
    /// Its follow-ups, by date, with the rules' verdicts.
    pub followups: Vec<FollowupRow>,
}

/// A resident's primary care.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CareRecord {
    /// The resident.
    pub resident_id: i64,
    /// Their registry record, as the care access check read it (the caller masks it).
    #[serde(skip)]
    pub resident: hc_core::model::Resident,
    /// Contracts, oldest first.
    pub contracts: Vec<ContractRow>,
    /// The team of the contract in force, with its members.
    pub team: Option<TeamView>,
    /// Key populations, each with its reason.
    pub populations: Vec<TagView>,
    /// Diagnoses.
    pub diagnoses: Vec<DiagnosisRow>,
    /// Programs.
    pub programs: Vec<ProgramView>,
    /// Health checks.
    pub checks: Vec<CheckRow>,
    /// What is due, by date.
    pub due: Vec<DueItem>,
}

fn last_of(checks: &[CheckRow], kind: &str) -> Option<NaiveDate> {
    checks
        .iter()
        .filter(|c| c.kind == kind)
        .map(|c| c.check_date)
        .max()
}

fn due_items(
    settings: &CareSettings,
    birth_date: NaiveDate,
    states: &[ProgramState],
    last_elderly: Option<NaiveDate>,
    today: NaiveDate,
) -> Vec<DueItem> {
    hc_care::dues(birth_date, states, last_elderly, today)
        .into_iter()
        .map(|d| DueItem {
            service: d.service.code(),
            program: d.service.program().map(Program::as_str),
            due: d.due,
            status: hc_care::work_status(d.due, today, settings.lost_after()),
            because: d.because.en(),
            why: d.because,
        })
        .collect()
}

fn parse_action(code: &str) -> Action {
    match code {
        "revisit_2w" => Action::Revisit2w,
        "refer" => Action::Refer,
        "urgent_refer" => Action::UrgentRefer,
        _ => Action::Routine,
    }
}

/// A resident's primary care: contracts and team, key populations with their reasons,
/// programs and follow-ups, checks and what is due. Audited; residents may read their own.
pub async fn care_record(
    store: &Store,
    caller: &Caller,
    settings: &CareSettings,
    resident_id: i64,
    today: NaiveDate,
) -> Result<CareRecord, AppError> {
    let own =
        caller.principal.can(Permission::OwnRecord) && caller.scope().resident == Some(resident_id);
    let resident = if own {
        store
            .resident(resident_id, caller.scope(), caller.principal.user_id)
            .await
            .map_err(not_found("resident"))?
    } else {
        caller.require(Permission::ViewCare)?;
        care_access(store, caller, resident_id).await?
    };
    let contracts = store.contracts_of(resident_id).await?;
    let team = match contracts.iter().find(|c| c.in_force(today)) {
        Some(c) => Some(TeamView {
            team: store.team_unscoped(c.team_id).await?,
            members: store.team_members(c.team_id).await?,
        }),
        None => None,
    };
    let (diagnoses, pregnancies, disability) = store.resident_facts(resident_id).await?;
    let facts = ResidentFacts {
        birth_date: resident.record.birth_date,
        diagnoses: diagnoses
            .iter()
            .map(|d| hc_care::Diagnosis {
                code: d.code.clone(),
                date: d.diagnosed_on,
                resolved: d.resolved_on,
            })
            .collect(),
        pregnancies: pregnancies
            .iter()
            .map(|p| hc_care::Pregnancy {
                registered: p.registered_on,
                ended: p.ended_on,
            })
            .collect(),
        disability: disability.is_some_and(|d| d.registered_on <= today),
    };
    let populations = hc_care::key_populations(&facts, today)
        .into_iter()
        .map(TagView::from)
        .collect();
    let checks = store.checks_of(resident_id).await?;
    let mut programs = Vec::new();
    let mut states = Vec::new();
    for e in store.enrolments_of(resident_id).await? {
        let followups = store.followups(e.id).await?;
        if e.ended_on.is_none()
            && let Some(program) = Program::parse(&e.program)
        {
            states.push(ProgramState {
                program,
                enrolled: e.enrolled_on,
                last_visit: followups
                    .last()
                    .map(|f| (f.visit_date, parse_action(&f.action), f.next_due)),
                last_check: last_of(&checks, "annual"),
            });
        }
        programs.push(ProgramView {
            enrolment: e,
            followups,
        });
    }
    let due = due_items(
        settings,
        resident.record.birth_date,
        &states,
        last_of(&checks, "elderly"),
        today,
    );
    caller
        .record(
            store,
            Event::new("read", "care_record").resident(resident_id),
        )
        .await?;
    Ok(CareRecord {
        resident_id,
        resident: resident.record.clone(),
        contracts,
        team,
        populations,
        diagnoses,
        programs,
        checks,
        due,
    })
}

/// One line of a worklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkItem {
    /// The resident.
    pub resident_id: i64,
    /// Their name, masked.
    pub name: String,
    /// `M` or `F`.
    pub sex: String,
    /// Age today.
    pub age: u32,
    /// Community.
    pub community_code: String,
    /// What is due.
    #[serde(flatten)]
    pub due: DueItem,
}

/// A team's worklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Worklist {
    /// The team.
    pub team: TeamRow,
    /// The day it is for.
    pub today: NaiveDate,
    /// Residents under contract with the team.
    pub contracted: u64,
    /// Due this week, overdue, lost to follow-up, and referrals awaiting follow-up: most
    /// urgent first (lost, overdue, this week), then by due date.
    pub items: Vec<WorkItem>,
}

impl Worklist {
    /// The items of one status.
    pub fn with_status(&self, s: WorkStatus) -> impl Iterator<Item = &WorkItem> {
        self.items.iter().filter(move |i| i.due.status == s)
    }

    /// Referrals waiting to be followed up, whatever their status.
    pub fn referrals(&self) -> impl Iterator<Item = &WorkItem> {
        self.items
            .iter()
            .filter(|i| i.due.service == "referral_followup")
    }
}

/// The worklist of team `team_id` on `today`: every service due within the week, overdue or
/// lost, for the residents under contract with it. Names are masked; opening a resident from
/// it is a separate, audited read.
pub async fn worklist(
    store: &Store,
    caller: &Caller,
    settings: &CareSettings,
    team_id: i64,
    today: NaiveDate,
) -> Result<Worklist, AppError> {
    caller.require(Permission::ViewCare)?;
    let team = store
        .team(team_id, caller.scope())
        .await
        .map_err(not_found("team"))?;
    let rows = store.worklist_rows(team_id, today).await?;
    let mut items = Vec::new();
    let mut contracted = 0;
    let mut i = 0;
    while i < rows.len() {
        let first = &rows[i];
        let mut j = i;
        let mut states = Vec::new();
        while j < rows.len() && rows[j].resident_id == first.resident_id {
            let r = &rows[j];
            if let (Some(p), Some(enrolled)) =
                (r.program.as_deref().and_then(Program::parse), r.enrolled_on)
            {
                states.push(ProgramState {
                    program: p,
                    enrolled,
                    last_visit: r
                        .last_visit
                        .zip(r.next_due)
                        .map(|(d, n)| (d, parse_action(r.last_action.as_deref().unwrap_or("")), n)),
                    last_check: r.last_check,
                });
            }
            j += 1;
        }
        contracted += 1;
        for due in due_items(
            settings,
            first.birth_date,
            &states,
            first.last_elderly,
            today,
        ) {
            if due.status != WorkStatus::Later {
                items.push(WorkItem {
                    resident_id: first.resident_id,
                    name: mask_name(&first.name),
                    sex: first.sex.clone(),
                    age: today.years_since(first.birth_date).unwrap_or(0),
                    community_code: first.community_code.clone(),
                    due,
                });
            }
        }
        i = j;
    }
    items.sort_by(|a, b| {
        (a.due.status, a.due.due, a.resident_id).cmp(&(b.due.status, b.due.due, b.resident_id))
    });
    caller
        .record(
            store,
            Event::new("read", "worklist")
                .id(team_id)
                .detail(format!("{} items", items.len())),
        )
        .await?;
    Ok(Worklist {
        team,
        today,
        contracted,
        items,
    })
}

// ---------------------------------------------------------------------------------------------
// Indicators.

/// The primary-care indicators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    /// 签约率: residents with a contract in force / residents.
    ContractRate,
    /// 重点人群签约率: key-population residents with a contract / key-population residents.
    KeyPopulationContractRate,
    /// 履约率: contracts in force that delivered their package's services / contracts in force.
    FulfilmentRate,
    /// 续约率: contracts that ran their term in the period and were renewed / those contracts.
    RenewalRate,
    /// 高血压规范管理率.
    HypertensionStandardisedRate,
    /// 高血压控制率 (the last follow-up of the period on target).
    HypertensionControlRate,
    /// 糖尿病规范管理率.
    DiabetesStandardisedRate,
    /// 糖尿病控制率.
    DiabetesControlRate,
    /// 老年人健康管理率.
    ElderlyManagementRate,
}

impl Indicator {
    /// Every indicator, in report order.
    pub const ALL: [Indicator; 9] = [
        Indicator::ContractRate,
        Indicator::KeyPopulationContractRate,
        Indicator::FulfilmentRate,
        Indicator::RenewalRate,
        Indicator::HypertensionStandardisedRate,
        Indicator::HypertensionControlRate,
        Indicator::DiabetesStandardisedRate,
        Indicator::DiabetesControlRate,
        Indicator::ElderlyManagementRate,
    ];

    /// The code in files and the API.
    pub fn code(self) -> &'static str {
        match self {
            Indicator::ContractRate => "contract_rate",
            Indicator::KeyPopulationContractRate => "key_population_contract_rate",
            Indicator::FulfilmentRate => "fulfilment_rate",
            Indicator::RenewalRate => "renewal_rate",
            Indicator::HypertensionStandardisedRate => "hypertension_standardised_rate",
            Indicator::HypertensionControlRate => "hypertension_control_rate",
            Indicator::DiabetesStandardisedRate => "diabetes_standardised_rate",
            Indicator::DiabetesControlRate => "diabetes_control_rate",
            Indicator::ElderlyManagementRate => "elderly_management_rate",
        }
    }

    /// The indicator with code `code`.
    pub fn parse(code: &str) -> Option<Indicator> {
        Indicator::ALL.into_iter().find(|i| i.code() == code)
    }

    /// Its Chinese name.
    pub fn name_zh(self) -> &'static str {
        match self {
            Indicator::ContractRate => "家庭医生签约率",
            Indicator::KeyPopulationContractRate => "重点人群签约率",
            Indicator::FulfilmentRate => "履约率",
            Indicator::RenewalRate => "续约率",
            Indicator::HypertensionStandardisedRate => "高血压患者规范管理率",
            Indicator::HypertensionControlRate => "高血压患者血压控制率",
            Indicator::DiabetesStandardisedRate => "糖尿病患者规范管理率",
            Indicator::DiabetesControlRate => "糖尿病患者血糖控制率",
            Indicator::ElderlyManagementRate => "老年人健康管理率",
        }
    }

    /// Its English name.
    pub fn name_en(self) -> &'static str {
        match self {
            Indicator::ContractRate => "Family-doctor contract rate",
            Indicator::KeyPopulationContractRate => "Key-population contract rate",
            Indicator::FulfilmentRate => "Contract fulfilment rate",
            Indicator::RenewalRate => "Contract renewal rate",
            Indicator::HypertensionStandardisedRate => "Hypertension standardised management",
            Indicator::HypertensionControlRate => "Hypertension control",
            Indicator::DiabetesStandardisedRate => "Diabetes standardised management",
            Indicator::DiabetesControlRate => "Diabetes control",
            Indicator::ElderlyManagementRate => "Elderly health management",
        }
    }

    /// The target the seed documents set, if any (contract ≥ 40%, key populations ≥ 70%,
    /// standardised management ≥ 60%).
    pub fn target(self) -> Option<f64> {
        match self {
            Indicator::ContractRate => Some(0.40),
            Indicator::KeyPopulationContractRate => Some(0.70),
            Indicator::HypertensionStandardisedRate | Indicator::DiabetesStandardisedRate => {
                Some(0.60)
            }
            _ => None,
        }
    }

    fn measure(self) -> Measure {
        match self {
            Indicator::ContractRate => Measure::Contract,
            Indicator::KeyPopulationContractRate => Measure::KeyPopulationContract,
            Indicator::FulfilmentRate => Measure::Fulfilment,
            Indicator::RenewalRate => Measure::Renewal,
            Indicator::HypertensionStandardisedRate => Measure::Standardised("hypertension"),
            Indicator::HypertensionControlRate => Measure::Controlled("hypertension"),
            Indicator::DiabetesStandardisedRate => Measure::Standardised("diabetes"),
            Indicator::DiabetesControlRate => Measure::Controlled("diabetes"),
            Indicator::ElderlyManagementRate => Measure::Elderly,
        }
    }
}

/// The level indicators are broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Districts.
    District,
    /// Streets.
    Street,
    /// 社康 (each serves the communities assigned to it; see [`service_areas`]).
    Institution,
    /// Communities.
    Community,
}

impl Level {
    /// The level with code `code`.
    pub fn parse(code: &str) -> Option<Level> {
        match code {
            "district" => Some(Level::District),
            "street" => Some(Level::Street),
            "institution" => Some(Level::Institution),
            "community" => Some(Level::Community),
            _ => None,
        }
    }
}

/// A period: first and last day, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
}

impl Period {
    /// Calendar year `year`.
    pub fn year(year: i32) -> Option<Period> {
        Some(Period {
            from: NaiveDate::from_ymd_opt(year, 1, 1)?,
            to: NaiveDate::from_ymd_opt(year, 12, 31)?,
        })
    }
}

/// One figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorRow {
    /// The indicator's code.
    pub indicator: &'static str,
    /// The org unit's or 社康's code.
    pub org_code: String,
    /// Its name.
    pub org_name: String,
    /// Those who meet it.
    pub numerator: u64,
    /// Those it is about.
    pub denominator: u64,
    /// The share, when the denominator is not zero.
    pub value: Option<f64>,
}

fn params(settings: &CareSettings, period: Period, today: NaiveDate) -> IndicatorParams {
    let as_of = period.to.min(today);
    let years_before = |d: NaiveDate, years: u32| {
        // Born on or before this day: aged `years` or more on `d` (29 February counts as 28th).
        NaiveDate::from_ymd_opt(d.year() - years as i32, d.month(), d.day())
            .or_else(|| NaiveDate::from_ymd_opt(d.year() - years as i32, d.month(), d.day() - 1))
            .unwrap_or(d)
    };
    IndicatorParams {
        from: period.from,
        to: period.to,
        as_of,
        today,
        elderly_born_by: years_before(as_of, hc_care::ELDERLY_FROM_AGE),
        child_born_after: years_before(as_of, hc_care::CHILD_BELOW_AGE),
        postpartum_since: as_of - Duration::days(hc_care::POSTPARTUM_DAYS),
        revisit_until: period.to + Duration::days(i64::from(settings.rules.revisit_days)),
        face_to_face_needed: i64::from(settings.standard.face_to_face_per_year),
        revisits_required: settings.standard.revisits_done,
        basic_services: i64::from(settings.fulfilment.basic),
        personalised_services: i64::from(settings.fulfilment.personalised),
    }
}

/// The communities each 社康 serves: those of its own community first; a community without a
/// 社康 is served by the first 社康 (by code) of its street, else of its district.
pub fn service_areas(
    units: &[hc_store::UnitNode],
    sites: &[hc_store::CareSite],
) -> HashMap<String, String> {
    let parent: HashMap<&str, &str> = units
        .iter()
        .filter_map(|u| u.parent_code.as_deref().map(|p| (u.code.as_str(), p)))
        .collect();
    let mut by_unit: HashMap<&str, &str> = HashMap::new();
    for s in sites {
        // Every ancestor of the site's community gets the first site (sites are by code).
        let mut at = Some(s.community_code.as_str());
        while let Some(u) = at {
            by_unit.entry(u).or_insert(s.code.as_str());
            at = parent.get(u).copied();
        }
    }
    let mut out = HashMap::new();
    for u in units.iter().filter(|u| u.level == "community") {
        let mut at = Some(u.code.as_str());
        while let Some(x) = at {
            if let Some(site) = by_unit.get(x) {
                out.insert(u.code.clone(), (*site).to_owned());
                break;
            }
            at = parent.get(x).copied();
        }
    }
    out
}

/// The root the caller may report on: `org` (an org-unit code) inside the caller's scope, or
/// the scope's root.
fn report_root(caller: &Caller, org: Option<&str>) -> Result<Option<String>, AppError> {
    match caller.scope().narrow(org) {
        Subtree::All => Ok(None),
        Subtree::Prefix(p) => {
            if org.is_some_and(|o| !o.starts_with(caller.scope().prefix().unwrap_or(""))) {
                return Err(AppError::NotFound("org unit"));
            }
            Ok(Some(p))
        }
        Subtree::Empty => Err(AppError::NotFound("org unit")),
    }
}

/// Every indicator for `period`, for the root org unit (`org`, or the caller's jurisdiction,
/// or the city) or, with `level`, for each unit of that level under it, with numerator and
/// denominator. All measures run at once; counts per community are rolled up here.
pub async fn indicators(
    store: &Store,
    caller: &Caller,
    settings: &CareSettings,
    period: Period,
    org: Option<&str>,
    level: Option<Level>,
    today: NaiveDate,
) -> Result<Vec<IndicatorRow>, AppError> {
    caller.require(Permission::ViewIndicators)?;
    if period.to < period.from {
        return Err(bad(
            "to",
            "the period ends before it starts",
            "期间的结束早于开始",
        ));
    }
    let units = store.orgunit_tree().await?;
    if let Some(o) = org
        && !units.iter().any(|u| u.code == o)
    {
        return Err(AppError::NotFound("org unit"));
    }
    let root_prefix = report_root(caller, org)?;
    let root_code = match (org, caller.scope().orgunit.as_deref()) {
        (Some(o), _) => o.to_owned(),
        (None, Some(s)) => s.to_owned(),
        (None, None) => units
            .iter()
            .find(|u| u.level == "city")
            .map(|u| u.code.clone())
            .ok_or(AppError::NotFound("city"))?,
    };
    let p = params(settings, period, today);
    let counts = futures_counts(store, &p, root_prefix.as_deref()).await?;
    let sites = store.care_sites().await?;
    let names: HashMap<&str, &str> = units
        .iter()
        .map(|u| (u.code.as_str(), u.name.as_str()))
        .chain(sites.iter().map(|s| (s.code.as_str(), s.name.as_str())))
        .collect();
    let parent: HashMap<&str, &str> = units
        .iter()
        .filter_map(|u| u.parent_code.as_deref().map(|p| (u.code.as_str(), p)))
        .collect();
    let level_of: HashMap<&str, &str> = units
        .iter()
        .map(|u| (u.code.as_str(), u.level.as_str()))
        .collect();
    let areas = match level {
        Some(Level::Institution) => service_areas(&units, &sites),
        _ => HashMap::new(),
    };
    // The unit each community's counts go to.
    let target = |community: &str| -> Option<String> {
        match level {
            None => Some(root_code.clone()),
            Some(Level::Institution) => areas.get(community).cloned(),
            Some(l) => {
                let want = match l {
                    Level::District => "district",
                    Level::Street => "street",
                    _ => "community",
                };
                let mut at = Some(community);
                while let Some(u) = at {
                    if level_of.get(u) == Some(&want) {
                        return Some(u.to_owned());
                    }
                    at = parent.get(u).copied();
                }
                None
            }
        }
    };
    let mut out = Vec::new();
    for (indicator, rows) in counts {
        let mut sums: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        if level.is_none() {
            sums.insert(root_code.clone(), (0, 0));
        } else if level != Some(Level::Institution) {
            // Every unit of the level under the root is listed, even with nothing counted.
            let want = match level {
                Some(Level::District) => "district",
                Some(Level::Street) => "street",
                _ => "community",
            };
            for u in units.iter().filter(|u| {
                u.level == want && root_prefix.as_deref().is_none_or(|r| u.code.starts_with(r))
            }) {
                sums.insert(u.code.clone(), (0, 0));
            }
        }
        for CommunityCount {
            community_code,
            denominator,
            numerator,
        } in rows
        {
            if let Some(t) = target(&community_code) {
                let e = sums.entry(t).or_default();
                e.0 += numerator.max(0) as u64;
                e.1 += denominator.max(0) as u64;
            }
        }
        for (code, (n, d)) in sums {
            out.push(IndicatorRow {
                indicator: indicator.code(),
                org_name: names.get(code.as_str()).copied().unwrap_or("").to_owned(),
                org_code: code,
                numerator: n,
                denominator: d,
                value: (d > 0).then(|| n as f64 / d as f64),
            });
        }
    }
    caller
        .record(
            store,
            Event::new("read", "indicators").detail(format!(
                "{} to {}, {}",
                period.from,
                period.to,
                root_prefix.as_deref().unwrap_or("city")
            )),
        )
        .await?;
    Ok(out)
}

/// Runs every measure at once (each on its own connection).
async fn futures_counts(
    store: &Store,
    p: &IndicatorParams,
    under: Option<&str>,
) -> Result<Vec<(Indicator, Vec<CommunityCount>)>, AppError> {
    let measures = Indicator::ALL.map(Indicator::measure);
    let counts = store.indicator_counts(&measures, p, under).await?;
    Ok(Indicator::ALL.into_iter().zip(counts).collect())
}

/// One resident behind a figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberView {
    /// The resident.
    pub resident_id: i64,
    /// Their name, masked.
    pub name: String,
    /// Their community.
    pub community_code: String,
    /// Whether they count in the numerator.
    pub meets: bool,
}

/// The residents behind `indicator` for org unit `org` (or a 社康's service area), after
/// resident id `after`, at most `limit`; only those meeting it, or not, or all. Names are
/// masked; the read is audited as a list of residents.
#[allow(clippy::too_many_arguments)]
pub async fn indicator_members(
    store: &Store,
    caller: &Caller,
    settings: &CareSettings,
    indicator: Indicator,
    period: Period,
    org: &str,
    meets: Option<bool>,
    after: i64,
    limit: u32,
    today: NaiveDate,
) -> Result<Vec<MemberView>, AppError> {
    caller.require(Permission::ViewIndicators)?;
    caller.require(Permission::ViewResidents)?;
    let limit = limit.clamp(1, 500) as usize;
    let p = params(settings, period, today);
    let sites = store.care_sites().await?;
    let prefixes: Vec<String> = if sites.iter().any(|s| s.code == org) {
        let units = store.orgunit_tree().await?;
        let mut communities: Vec<String> = service_areas(&units, &sites)
            .into_iter()
            .filter(|(_, site)| site == org)
            .map(|(c, _)| c)
            .filter(|c| caller.scope().contains_unit(c))
            .collect();
        communities.sort();
        if communities.is_empty() {
            return Err(AppError::NotFound("institution"));
        }
        communities
    } else {
        // Any org unit within the caller's scope (the page's default rows are of it).
        let root = report_root(caller, Some(org))?;
        vec![root.unwrap_or_default()]
    };
    let under: Vec<&str> = prefixes
        .iter()
        .filter(|p| !p.is_empty())
        .map(String::as_str)
        .collect();
    let members = store
        .indicator_members(indicator.measure(), &p, &under, meets, after, limit)
        .await?;
    caller
        .record(
            store,
            Event::new("list", "indicator_members")
                .id(indicator.code())
                .detail(format!(
                    "{org} {} to {}: {} residents",
                    period.from,
                    period.to,
                    members.len()
                )),
        )
        .await?;
    Ok(members
        .into_iter()
        .map(|m| MemberView {
            resident_id: m.resident_id,
            name: mask_name(&m.name),
            community_code: m.community_code,
            meets: m.meets == 1,
        })
        .collect())
}
