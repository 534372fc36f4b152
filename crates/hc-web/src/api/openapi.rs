//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::*;
use super::{access, auth, care, feeds, import, registry, surveillance};
use crate::error::{Problem, ProblemField};

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "HealthCity API", description = "健康城市平台 — registry of a city's health system: org units, institutions, practitioners, residents; primary care."),
    paths(
        auth::login, auth::logout, auth::me, auth::change_password,
        access::list_users, access::create_user, access::user_action, access::list_tokens, access::create_token, access::revoke_token,
        access::audit, access::review, access::break_glass, access::my_record, access::my_access_log, access::my_export,
        registry::list_orgunits, registry::create_orgunit, registry::get_orgunit, registry::update_orgunit, registry::orgunit_children,
        registry::list_institutions, registry::create_institution, registry::get_institution, registry::update_institution,
        registry::list_practitioners, registry::create_practitioner, registry::get_practitioner, registry::update_practitioner,
        registry::list_residents, registry::create_resident, registry::get_resident, registry::update_resident,
        import::import_csv,
        care::list_teams, care::create_team, care::get_team, care::worklist, care::resident_care, care::my_care,
        care::sign_contract, care::end_contract, care::record_service, care::add_diagnosis, care::record_followup,
        care::record_check, care::indicators, care::indicator_members,
        feeds::receive,
        surveillance::list_signals, surveillance::get_signal, surveillance::signal_action, surveillance::signal_history,
        surveillance::list_events, surveillance::event_action, surveillance::event_history,
        surveillance::response_times, surveillance::notifications, surveillance::start_run,
    ),
    components(schemas(Problem, ProblemField, OrgUnitInput, OrgUnitOut, UnitCountsOut, InstitutionInput, InstitutionOut,
        PractitionerInput, PractitionerOut, ResidentInput, ResidentOut, LoginInput, LoginOut, UserOut, ImportOut, RejectionOut,
        PasswordInput, UserInput, UserCreatedOut, AccountOut, TokenInput, TokenOut, TokenCreatedOut, BreakGlassInput, BreakGlassOut,
        ReviewInput, AuditOut, access::ResetOut,
        TeamMemberIn, TeamIn, TeamOut, TeamMemberOut, TeamViewOut, ContractIn, EndContractIn, ServiceIn, ContractOut, CreatedOut,
        DiagnosisIn, DiagnosisCreatedOut, FollowUpIn, RecordedOut, CheckIn, TagOut, DiagnosisOut, EnrolmentOut, FollowupOut,
        ProgramOut, CheckOut, DueOut, CareRecordOut, WorkItemOut, WorklistOut, IndicatorOut, MemberOut,
        feeds::FeedBatchOut, feeds::FeedRejectOut, feeds::FeedFieldOut, feeds::FeedName,
        surveillance::SignalOut, surveillance::SignalDayOut, surveillance::SignalDetailOut, surveillance::ActionOut,
        surveillance::ActionIn, surveillance::EventOut, surveillance::DistrictResponseOut, surveillance::ResponseTimesOut,
        surveillance::NotificationOut, surveillance::RunIn, surveillance::RunOut)),
    modifiers(&BearerAuth, &CommonProblems),
    tags((name = "auth", description = "Sessions"), (name = "registry", description = "The city registry"), (name = "import", description = "Bulk CSV import"),
        (name = "access", description = "Accounts, API tokens, audit trail, break-the-glass"), (name = "me", description = "A resident's own record"),
        (name = "care", description = "Primary care: family-doctor teams, contracts, programs, worklists, indicators"),
        (name = "surveillance", description = "Surveillance feeds, counts, signals and events"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Documents the problem responses every operation can give (bad parameters, no session, …)
/// without repeating them on each handler.
struct CommonProblems;

impl Modify for CommonProblems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let problem = |desc: &str| {
            ResponseBuilder::new()
                .description(desc)
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let public = path.ends_with("/auth/login");
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                let has_body = op.request_body.is_some();
                let mut add = |code: &str, desc: &str| {
                    op.responses
                        .responses
                        .entry(code.to_owned())
                        .or_insert_with(|| problem(desc).into());
                };
                add(
                    "400",
                    "A parameter or the body is malformed; `errors` names the field",
                );
                if !public {
                    add("401", "No valid session: log in and send the token");
                    add("403", "The account may not do this");
                }
                if has_body {
                    add("413", "The body exceeds the configured limit");
                    add("415", "Wrong Content-Type");
                    add("422", "The record breaks a rule; `errors` names each field");
                }
            }
        }
    }
}

/// Serves the document.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
