//! JSON shapes of the primary-care API (issue #6): teams, contracts, diagnoses, follow-ups,
//! checks, a resident's care record, worklists and indicators. Inputs refuse unknown fields;
//! codes are strings whose accepted values each field's description lists.

use chrono::NaiveDate;
use hc_app::care::{
    CareRecord, DueItem, Indicator, IndicatorRow, MemberView, ProgramView, Recorded, TagView,
    TeamView, WorkItem, Worklist,
};
use hc_care::{Adherence, AdverseReaction, Complication, FollowUp, Salt};
use hc_store::{
    CheckRow, ContractRow, DiagnosisRow, EnrolmentRow, FollowupRow, TeamMemberRow, TeamRow,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::rfc3339;

// -- teams --------------------------------------------------------------------------------------

/// A member of a new team.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamMemberIn {
    /// The practitioner (who must work at the team's 社康).
    pub practitioner_id: i64,
    /// `gp_lead` (exactly one per team), `nurse`, `public_health` or `other`.
    #[schema(example = "gp_lead")]
    pub role: String,
}

/// A family-doctor team to create (commission and district bureaus).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamIn {
    /// Code, unique in the city.
    #[schema(example = "C440305001-T1")]
    pub code: String,
    /// Name.
    #[schema(example = "南头社康 刘医生团队")]
    pub name: String,
    /// The 社康 centre or station it works at.
    #[schema(example = "C440305001")]
    pub institution_code: String,
    /// Members: one GP lead and any others.
    pub members: Vec<TeamMemberIn>,
}

impl TeamIn {
    pub(crate) fn into_domain(self) -> hc_app::care::TeamInput {
        hc_app::care::TeamInput {
            code: self.code,
            name: self.name,
            institution_code: self.institution_code,
            members: self
                .members
                .into_iter()
                .map(|m| (m.practitioner_id, m.role))
                .collect(),
        }
    }
}

/// A family-doctor team.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamOut {
    /// Id.
    pub id: i64,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// The 社康 it works at.
    pub institution_code: String,
    /// That 社康's community.
    pub community_code: String,
}

impl From<TeamRow> for TeamOut {
    fn from(t: TeamRow) -> Self {
        TeamOut {
            id: t.id,
            code: t.code,
            name: t.name,
            institution_code: t.institution_code,
            community_code: t.community_code,
        }
    }
}

/// A member of a team.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamMemberOut {
    /// The practitioner.
    pub practitioner_id: i64,
    /// Their name.
    pub name: String,
    /// Their kind (`gp`, `nurse`, `public_health`, …).
    pub kind: String,
    /// Their role in the team: `gp_lead`, `nurse`, `public_health` or `other`.
    pub role: String,
}

impl From<TeamMemberRow> for TeamMemberOut {
    fn from(m: TeamMemberRow) -> Self {
        TeamMemberOut {
            practitioner_id: m.practitioner_id,
            name: m.name,
            kind: m.kind,
            role: m.role,
        }
    }
}

/// A team with its members.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamViewOut {
    /// The team.
    pub team: TeamOut,
    /// Members, lead first.
    pub members: Vec<TeamMemberOut>,
}

impl From<TeamView> for TeamViewOut {
    fn from(v: TeamView) -> Self {
        TeamViewOut {
            team: v.team.into(),
            members: v.members.into_iter().map(Into::into).collect(),
        }
    }
}

// -- contracts ----------------------------------------------------------------------------------

/// A contract to sign for the resident of the path.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractIn {
    /// The team.
    pub team_id: i64,
    /// `basic` or `personalised`.
    #[schema(example = "basic")]
    pub package: String,
    /// First day.
    pub start_date: NaiveDate,
    /// Agreed end, exclusive; default a year after the start (a contract lasts at least a year).
    #[serde(default)]
    pub end_date: Option<NaiveDate>,
    /// `new` (default), `renewal` (continues the contract ending on `start_date`) or `change`
    /// (moves to another team, ending the contract in force on `start_date`).
    #[serde(default)]
    pub kind: Option<String>,
    /// Why the team changes (required for `change`).
    #[serde(default)]
    pub reason: Option<String>,
}

impl ContractIn {
    pub(crate) fn into_domain(self, resident_id: i64) -> hc_app::care::ContractInput {
        hc_app::care::ContractInput {
            resident_id,
            team_id: self.team_id,
            package: self.package,
            start_date: self.start_date,
            end_date: self.end_date,
            kind: self.kind,
            reason: self.reason,
        }
    }
}

/// Ending a contract before its term.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndContractIn {
    /// The day it stops being in force (within its term).
    pub ended_on: NaiveDate,
    /// Why.
    pub reason: String,
}

/// A service delivered under a contract (履约).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceIn {
    /// What was delivered (`health_assessment`, `followup`, `home_visit`, …), 1-60 characters.
    #[schema(example = "health_assessment")]
    pub service: String,
    /// When (within the contract's term, not in the future).
    pub delivered_on: NaiveDate,
    /// Note.
    #[serde(default)]
    pub note: Option<String>,
}

/// A contract.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContractOut {
    /// Id.
    pub id: i64,
    /// The resident.
    pub resident_id: i64,
    /// The team.
    pub team_id: i64,
    /// The team's name.
    pub team_name: String,
    /// `basic` or `personalised`.
    pub package: String,
    /// `new`, `renewal` or `change`.
    pub kind: String,
    /// The contract this one continues or replaces.
    pub previous_id: Option<i64>,
    /// First day.
    pub start_date: NaiveDate,
    /// Agreed end (exclusive).
    pub end_date: NaiveDate,
    /// Ended early on this day.
    pub ended_on: Option<NaiveDate>,
    /// Why it ended early.
    pub end_reason: Option<String>,
    /// When it was recorded (RFC 3339).
    pub created_at: String,
    /// Who recorded it.
    pub created_by: String,
}

impl From<ContractRow> for ContractOut {
    fn from(c: ContractRow) -> Self {
        ContractOut {
            id: c.id,
            resident_id: c.resident_id,
            team_id: c.team_id,
            team_name: c.team_name,
            package: c.package,
            kind: c.kind,
            previous_id: c.previous_id,
            start_date: c.start_date,
            end_date: c.end_date,
            ended_on: c.ended_on,
            end_reason: c.end_reason,
            created_at: rfc3339(c.created_at),
            created_by: c.created_by,
        }
    }
}

/// The id of a created record.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedOut {
    /// Id.
    pub id: i64,
}

// -- diagnoses, follow-ups, checks ---------------------------------------------------------------

/// A diagnosis to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiagnosisIn {
    /// ICD-10 code (`I10`, `E11.9`, …). Hypertension (I10–I15) or type-2 diabetes (E11) at 35
    /// or over enrols the resident in the program from the day of diagnosis.
    #[schema(example = "I10")]
    pub code: String,
    /// Day of the diagnosis.
    pub diagnosed_on: NaiveDate,
}

/// An added diagnosis, and the enrolment it opened, if any.
#[derive(Debug, Serialize, ToSchema)]
pub struct DiagnosisCreatedOut {
    /// The diagnosis.
    pub id: i64,
    /// The program enrolment it opened (follow-ups are recorded against it).
    pub enrolment_id: Option<i64>,
}

fn yes() -> bool {
    true
}

/// A hypertension or diabetes follow-up as the national form records it. Absent values are
/// "not measured" or "not asked".
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpIn {
    /// Day of the visit.
    pub visit_date: NaiveDate,
    /// Seen in person (default); otherwise by telephone or video.
    #[serde(default = "yes")]
    pub face_to_face: bool,
    /// Systolic blood pressure, mmHg.
    #[serde(default)]
    pub sbp: Option<u16>,
    /// Diastolic blood pressure, mmHg.
    #[serde(default)]
    pub dbp: Option<u16>,
    /// Fasting plasma glucose, mmol/L.
    #[serde(default)]
    pub fpg: Option<f64>,
    /// Heart rate, beats per minute.
    #[serde(default)]
    pub heart_rate: Option<u16>,
    /// Weight, kg.
    #[serde(default)]
    pub weight_kg: Option<f64>,
    /// Height, cm.
    #[serde(default)]
    pub height_cm: Option<f64>,
    /// Symptoms, free text or codes separated by `;`.
    #[serde(default)]
    pub symptoms: String,
    /// A danger sign other than the measured ones (chest pain, altered consciousness, …).
    #[serde(default)]
    pub danger_sign: bool,
    /// Cigarettes a day.
    #[serde(default)]
    pub smoking_per_day: Option<u16>,
    /// Alcohol, 两 (50 g) a day.
    #[serde(default)]
    pub drinking_per_day: Option<u16>,
    /// Exercise sessions a week.
    #[serde(default)]
    pub exercise_per_week: Option<u16>,
    /// Salt intake: `light`, `moderate` or `heavy`.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "moderate")]
    pub salt: Option<Salt>,
    /// Medication adherence: `regular`, `intermittent` or `none`.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "regular")]
    pub adherence: Option<Adherence>,
    /// Adverse drug reaction: `none` (default), `controlled` or `uncontrollable`.
    #[serde(default)]
    #[schema(value_type = String, example = "none")]
    pub adverse_reaction: AdverseReaction,
    /// Complications: `none` (default), `stable`, `new` or `worse`.
    #[serde(default)]
    #[schema(value_type = String, example = "none")]
    pub complication: Complication,
    /// Current medication, free text.
    #[serde(default)]
    pub medication: String,
    /// Who saw the patient.
    #[serde(default)]
    pub practitioner_id: Option<i64>,
}

impl From<FollowUpIn> for FollowUp {
    fn from(f: FollowUpIn) -> Self {
        FollowUp {
            visit_date: f.visit_date,
            face_to_face: f.face_to_face,
            sbp: f.sbp,
            dbp: f.dbp,
            fpg: f.fpg,
            heart_rate: f.heart_rate,
            weight_kg: f.weight_kg,
            height_cm: f.height_cm,
            symptoms: f.symptoms,
            danger_sign: f.danger_sign,
            smoking_per_day: f.smoking_per_day,
            drinking_per_day: f.drinking_per_day,
            exercise_per_week: f.exercise_per_week,
            salt: f.salt,
            adherence: f.adherence,
            adverse_reaction: f.adverse_reaction,
            complication: f.complication,
            medication: f.medication,
            practitioner_id: f.practitioner_id,
        }
    }
}

/// The rules' verdict on a recorded follow-up.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordedOut {
    /// The follow-up's id.
    pub id: i64,
    /// `satisfied` (控制满意), `unsatisfied` (控制不满意), `adverse_reaction` (不良反应) or
    /// `complication` (并发症).
    pub classification: String,
    /// `routine`, `revisit_2w`, `refer` or `urgent_refer`.
    pub action: String,
    /// When the next follow-up (or the check on the referral) is due.
    pub next_due: NaiveDate,
    /// Why, in the rules' words (English), e.g. `SBP 185 >= 180: danger sign`.
    pub reasons: Vec<String>,
    /// The same reasons in Chinese, in the terms of the national specification, one for each
    /// of `reasons`, e.g. `收缩压 185 ≥ 180 mmHg：危急情况`.
    pub reasons_zh: Vec<String>,
    /// The rules' version.
    pub rules_version: String,
}

impl From<Recorded> for RecordedOut {
    fn from(r: Recorded) -> Self {
        RecordedOut {
            id: r.id,
            classification: r.classification.as_str().to_owned(),
            action: r.action.as_str().to_owned(),
            next_due: r.next_due,
            reasons: r.reasons,
            reasons_zh: r.why.iter().map(hc_care::Reason::zh).collect(),
            rules_version: r.rules_version,
        }
    }
}

/// A health check to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckIn {
    /// `annual` (a program patient's annual check) or `elderly` (the annual elderly health
    /// management).
    #[schema(example = "elderly")]
    pub kind: String,
    /// Day of the check.
    pub check_date: NaiveDate,
    /// Elderly self-care score, 0-100.
    #[serde(default)]
    pub self_care_score: Option<i32>,
    /// Findings.
    #[serde(default)]
    pub findings: Option<String>,
}

// -- a resident's care record --------------------------------------------------------------------

/// A key-population tag and the fact behind it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TagOut {
    /// `elderly`, `hypertension`, `diabetes`, `pregnant`, `postpartum`, `child`,
    /// `severe_mental`, `tuberculosis` or `disability`.
    pub population: String,
    /// Why, e.g. `aged 67 (born 1959-03-02)`.
    pub because: String,
    /// Why, in Chinese, e.g. `年龄 67 岁（1959-03-02 出生）`.
    pub because_zh: String,
}

impl From<TagView> for TagOut {
    fn from(t: TagView) -> Self {
        TagOut {
            population: t.population.as_str().to_owned(),
            because: t.because,
            because_zh: t.why.zh(),
        }
    }
}

/// A diagnosis.
#[derive(Debug, Serialize, ToSchema)]
pub struct DiagnosisOut {
    /// Id.
    pub id: i64,
    /// ICD-10 code.
    pub code: String,
    /// The key population it makes the resident part of.
    pub population: Option<String>,
    /// When diagnosed.
    pub diagnosed_on: NaiveDate,
    /// When resolved, if it was.
    pub resolved_on: Option<NaiveDate>,
}

impl From<DiagnosisRow> for DiagnosisOut {
    fn from(d: DiagnosisRow) -> Self {
        DiagnosisOut {
            id: d.id,
            code: d.code,
            population: d.population,
            diagnosed_on: d.diagnosed_on,
            resolved_on: d.resolved_on,
        }
    }
}

/// A program enrolment.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolmentOut {
    /// Id (follow-ups are recorded against it).
    pub id: i64,
    /// `hypertension` or `diabetes`.
    pub program: String,
    /// Enrolled on.
    pub enrolled_on: NaiveDate,
    /// Left the program on.
    pub ended_on: Option<NaiveDate>,
    /// Why.
    pub end_reason: Option<String>,
}

impl From<EnrolmentRow> for EnrolmentOut {
    fn from(e: EnrolmentRow) -> Self {
        EnrolmentOut {
            id: e.id,
            program: e.program,
            enrolled_on: e.enrolled_on,
            ended_on: e.ended_on,
            end_reason: e.end_reason,
        }
    }
}

/// A recorded follow-up with the rules' verdict.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowupOut {
    /// Id.
    pub id: i64,
    /// Day of the visit.
    pub visit_date: NaiveDate,
    /// Seen in person.
    pub face_to_face: bool,
    /// mmHg.
    pub sbp: Option<i32>,
    /// mmHg.
    pub dbp: Option<i32>,
    /// mmol/L.
    pub fpg: Option<f64>,
    /// Beats per minute.
    pub heart_rate: Option<i32>,
    /// kg.
    pub weight_kg: Option<f64>,
    /// cm.
    pub height_cm: Option<f64>,
    /// Symptoms.
    pub symptoms: String,
    /// Another danger sign.
    pub danger_sign: bool,
    /// Cigarettes a day.
    pub smoking_per_day: Option<i32>,
    /// 两 a day.
    pub drinking_per_day: Option<i32>,
    /// Sessions a week.
    pub exercise_per_week: Option<i32>,
    /// `light`, `moderate` or `heavy`.
    pub salt: Option<String>,
    /// `regular`, `intermittent` or `none`.
    pub adherence: Option<String>,
    /// `none`, `controlled` or `uncontrollable`.
    pub adverse_reaction: String,
    /// `none`, `stable`, `new` or `worse`.
    pub complication: String,
    /// Medication.
    pub medication: String,
    /// Who saw the patient.
    pub practitioner_id: Option<i64>,
    /// The rules' classification.
    pub classification: String,
    /// The action it requires.
    pub action: String,
    /// When the next is due.
    pub next_due: NaiveDate,
    /// The rules' version.
    pub rules_version: String,
    /// Recorded at (RFC 3339).
    pub recorded_at: String,
    /// Recorded by.
    pub recorded_by: String,
}

impl From<FollowupRow> for FollowupOut {
    fn from(f: FollowupRow) -> Self {
        FollowupOut {
            id: f.id,
            visit_date: f.visit_date,
            face_to_face: f.face_to_face,
            sbp: f.sbp,
            dbp: f.dbp,
            fpg: f.fpg,
            heart_rate: f.heart_rate,
            weight_kg: f.weight_kg,
            height_cm: f.height_cm,
            symptoms: f.symptoms,
            danger_sign: f.danger_sign,
            smoking_per_day: f.smoking_per_day,
            drinking_per_day: f.drinking_per_day,
            exercise_per_week: f.exercise_per_week,
            salt: f.salt,
            adherence: f.adherence,
            adverse_reaction: f.adverse_reaction,
            complication: f.complication,
            medication: f.medication,
            practitioner_id: f.practitioner_id,
            classification: f.classification,
            action: f.action,
            next_due: f.next_due,
            rules_version: f.rules_version,
            recorded_at: rfc3339(f.recorded_at),
            recorded_by: f.recorded_by,
        }
    }
}

/// A program and its follow-ups.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramOut {
    /// The enrolment.
    pub enrolment: EnrolmentOut,
    /// Its follow-ups, by date.
    pub followups: Vec<FollowupOut>,
}

impl From<ProgramView> for ProgramOut {
    fn from(p: ProgramView) -> Self {
        ProgramOut {
            enrolment: p.enrolment.into(),
            followups: p.followups.into_iter().map(Into::into).collect(),
        }
    }
}

/// A health check.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckOut {
    /// Id.
    pub id: i64,
    /// `annual` or `elderly`.
    pub kind: String,
    /// Day of the check.
    pub check_date: NaiveDate,
    /// Elderly self-care score.
    pub self_care_score: Option<i32>,
    /// Findings.
    pub findings: String,
    /// By whom.
    pub practitioner_id: Option<i64>,
}

impl From<CheckRow> for CheckOut {
    fn from(c: CheckRow) -> Self {
        CheckOut {
            id: c.id,
            kind: c.kind,
            check_date: c.check_date,
            self_care_score: c.self_care_score,
            findings: c.findings,
            practitioner_id: c.practitioner_id,
        }
    }
}

/// Something a resident is due for.
#[derive(Debug, Serialize, ToSchema)]
pub struct DueOut {
    /// `followup`, `referral_followup`, `annual_check` or `elderly_annual`.
    pub service: String,
    /// `hypertension` or `diabetes`, if the service belongs to a program.
    pub program: Option<String>,
    /// When.
    pub due: NaiveDate,
    /// Where it stands: `lost` (lost to follow-up), `overdue`, `this_week` or `later`.
    pub status: String,
    /// Why, e.g. `routine follow-up of 2026-03-01`.
    pub because: String,
    /// Why, in Chinese, e.g. `2026-03-01 随访后的常规随访`.
    pub because_zh: String,
}

impl From<DueItem> for DueOut {
    fn from(d: DueItem) -> Self {
        DueOut {
            service: d.service.to_owned(),
            program: d.program.map(str::to_owned),
            due: d.due,
            status: d.status.as_str().to_owned(),
            because: d.because,
            because_zh: d.why.zh(),
        }
    }
}

/// A resident's primary care.
#[derive(Debug, Serialize, ToSchema)]
pub struct CareRecordOut {
    /// The resident.
    pub resident_id: i64,
    /// Contracts, oldest first (the history).
    pub contracts: Vec<ContractOut>,
    /// The team of the contract in force, with its members.
    pub team: Option<TeamViewOut>,
    /// Key populations, each with its reason.
    pub populations: Vec<TagOut>,
    /// Diagnoses.
    pub diagnoses: Vec<DiagnosisOut>,
    /// Programs and their follow-ups.
    pub programs: Vec<ProgramOut>,
    /// Health checks.
    pub checks: Vec<CheckOut>,
    /// What is due, by date.
    pub due: Vec<DueOut>,
}

impl From<CareRecord> for CareRecordOut {
    fn from(r: CareRecord) -> Self {
        CareRecordOut {
            resident_id: r.resident_id,
            contracts: r.contracts.into_iter().map(Into::into).collect(),
            team: r.team.map(Into::into),
            populations: r.populations.into_iter().map(Into::into).collect(),
            diagnoses: r.diagnoses.into_iter().map(Into::into).collect(),
            programs: r.programs.into_iter().map(Into::into).collect(),
            checks: r.checks.into_iter().map(Into::into).collect(),
            due: r.due.into_iter().map(Into::into).collect(),
        }
    }
}

// -- worklists ----------------------------------------------------------------------------------

/// One line of a worklist; the name is masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkItemOut {
    /// The resident.
    pub resident_id: i64,
    /// Their name, masked (`王*`).
    pub name: String,
    /// `M` or `F`.
    pub sex: String,
    /// Age on the worklist's day.
    pub age: u32,
    /// Community.
    pub community_code: String,
    /// `followup`, `referral_followup`, `annual_check` or `elderly_annual`.
    pub service: String,
    /// `hypertension` or `diabetes`, if the service belongs to a program.
    pub program: Option<String>,
    /// When it is due.
    pub due: NaiveDate,
    /// `lost`, `overdue` or `this_week`.
    pub status: String,
    /// Why, e.g. `follow up the referral of 2026-03-01`.
    pub because: String,
    /// Why, in Chinese, e.g. `2026-03-01 转诊，随访转诊情况`.
    pub because_zh: String,
}

impl From<WorkItem> for WorkItemOut {
    fn from(w: WorkItem) -> Self {
        let due = DueOut::from(w.due);
        WorkItemOut {
            resident_id: w.resident_id,
            name: w.name,
            sex: w.sex,
            age: w.age,
            community_code: w.community_code,
            service: due.service,
            program: due.program,
            due: due.due,
            status: due.status,
            because: due.because,
            because_zh: due.because_zh,
        }
    }
}

/// A team's worklist for one day.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorklistOut {
    /// The team.
    pub team: TeamOut,
    /// The day it is for.
    pub today: NaiveDate,
    /// Residents under contract with the team.
    pub contracted: u64,
    /// What is due this week, overdue or lost to follow-up (referrals awaiting follow-up
    /// among them): most urgent first, then by due date.
    pub items: Vec<WorkItemOut>,
}

impl From<Worklist> for WorklistOut {
    fn from(w: Worklist) -> Self {
        WorklistOut {
            team: w.team.into(),
            today: w.today,
            contracted: w.contracted,
            items: w.items.into_iter().map(Into::into).collect(),
        }
    }
}

// -- indicators ---------------------------------------------------------------------------------

/// One indicator for one org unit or 社康.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorOut {
    /// Code: `contract_rate`, `key_population_contract_rate`, `fulfilment_rate`,
    /// `renewal_rate`, `hypertension_standardised_rate`, `hypertension_control_rate`,
    /// `diabetes_standardised_rate`, `diabetes_control_rate`, `elderly_management_rate`.
    pub indicator: String,
    /// Its name in Chinese.
    pub name_zh: String,
    /// Its name in English.
    pub name_en: String,
    /// The org unit's or 社康's code.
    pub org_code: String,
    /// Its name.
    pub org_name: String,
    /// Those who meet it.
    pub numerator: u64,
    /// Those it is about.
    pub denominator: u64,
    /// numerator / denominator, absent when the denominator is zero.
    pub value: Option<f64>,
    /// The target the national documents set, if any.
    pub target: Option<f64>,
}

impl From<IndicatorRow> for IndicatorOut {
    fn from(r: IndicatorRow) -> Self {
        let i = Indicator::parse(r.indicator);
        IndicatorOut {
            indicator: r.indicator.to_owned(),
            name_zh: i.map(Indicator::name_zh).unwrap_or_default().to_owned(),
            name_en: i.map(Indicator::name_en).unwrap_or_default().to_owned(),
            org_code: r.org_code,
            org_name: r.org_name,
            numerator: r.numerator,
            denominator: r.denominator,
            value: r.value,
            target: i.and_then(Indicator::target),
        }
    }
}

/// A resident behind an indicator; the name is masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberOut {
    /// The resident.
    pub resident_id: i64,
    /// Their name, masked.
    pub name: String,
    /// Their community.
    pub community_code: String,
    /// Whether they count in the numerator.
    pub meets: bool,
}

impl From<MemberView> for MemberOut {
    fn from(m: MemberView) -> Self {
        MemberOut {
            resident_id: m.resident_id,
            name: m.name,
            community_code: m.community_code,
            meets: m.meets,
        }
    }
}
