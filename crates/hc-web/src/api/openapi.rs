//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::*;
use super::{auth, import, registry};
use crate::error::{Problem, ProblemField};

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "HealthCity API", description = "健康城市平台 — registry of a city's health system: org units, institutions, practitioners, residents."),
    paths(
        auth::login, auth::logout, auth::me,
        registry::list_orgunits, registry::create_orgunit, registry::get_orgunit, registry::update_orgunit, registry::orgunit_children,
        registry::list_institutions, registry::create_institution, registry::get_institution, registry::update_institution,
        registry::list_practitioners, registry::create_practitioner, registry::get_practitioner, registry::update_practitioner,
        registry::list_residents, registry::create_resident, registry::get_resident, registry::update_resident,
        import::import_csv,
    ),
    components(schemas(Problem, ProblemField, OrgUnitInput, OrgUnitOut, UnitCountsOut, InstitutionInput, InstitutionOut,
        PractitionerInput, PractitionerOut, ResidentInput, ResidentOut, LoginInput, LoginOut, UserOut, ImportOut, RejectionOut)),
    modifiers(&BearerAuth),
    tags((name = "auth", description = "Sessions"), (name = "registry", description = "The city registry"), (name = "import", description = "Bulk CSV import"))
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

/// Serves the document.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
