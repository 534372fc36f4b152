//! The JSON API under `/api/v1`: registry resources, primary care, surveillance feeds, signals
//! and their workflow, bulk import, login, and the OpenAPI document generated from these
//! handlers.

use axum::Router;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{get, post};
use serde::de::DeserializeOwned;

use crate::{ApiError, AppState};

mod access;
mod auth;
mod care;
mod care_dto;
mod dto;
mod feeds;
mod import;
mod openapi;
mod registry;
mod surveillance;

pub use care_dto::*;
pub use dto::*;
pub use openapi::ApiDoc;

/// The `/api/v1` routes.
pub fn router(state: &AppState) -> Router<AppState> {
    let import_limit = state.config.max_import_bytes;
    Router::new()
        .route("/openapi.json", get(openapi::document))
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/me", get(auth::me))
        .route("/auth/password", post(auth::change_password))
        .route("/users", get(access::list_users).post(access::create_user))
        .route("/users/{username}/{action}", post(access::user_action))
        .route(
            "/tokens",
            get(access::list_tokens).post(access::create_token),
        )
        .route(
            "/tokens/{token}",
            axum::routing::delete(access::revoke_token),
        )
        .route("/audit", get(access::audit))
        .route("/audit/{id}/review", post(access::review))
        .route("/residents/{id}/break-glass", post(access::break_glass))
        .route("/me/record", get(access::my_record))
        .route("/me/access-log", get(access::my_access_log))
        .route("/me/export", get(access::my_export))
        .route("/me/care", get(care::my_care))
        .route("/care/teams", get(care::list_teams).post(care::create_team))
        .route("/care/teams/{id}", get(care::get_team))
        .route("/care/teams/{id}/worklist", get(care::worklist))
        .route("/residents/{id}/care", get(care::resident_care))
        .route("/residents/{id}/contracts", post(care::sign_contract))
        .route("/residents/{id}/diagnoses", post(care::add_diagnosis))
        .route("/residents/{id}/checks", post(care::record_check))
        .route("/contracts/{id}/end", post(care::end_contract))
        .route("/contracts/{id}/services", post(care::record_service))
        .route("/enrolments/{id}/followups", post(care::record_followup))
        .route("/indicators", get(care::indicators))
        .route("/indicators/{code}/members", get(care::indicator_members))
        .route(
            "/orgunits",
            get(registry::list_orgunits).post(registry::create_orgunit),
        )
        .route(
            "/orgunits/{code}",
            get(registry::get_orgunit).put(registry::update_orgunit),
        )
        .route("/orgunits/{code}/children", get(registry::orgunit_children))
        .route(
            "/institutions",
            get(registry::list_institutions).post(registry::create_institution),
        )
        .route(
            "/institutions/{code}",
            get(registry::get_institution).put(registry::update_institution),
        )
        .route(
            "/practitioners",
            get(registry::list_practitioners).post(registry::create_practitioner),
        )
        .route(
            "/practitioners/{id}",
            get(registry::get_practitioner).put(registry::update_practitioner),
        )
        .route(
            "/residents",
            get(registry::list_residents).post(registry::create_resident),
        )
        .route(
            "/residents/{id}",
            get(registry::get_resident).put(registry::update_resident),
        )
        .route(
            "/feeds/{kind}",
            post(feeds::receive).layer(axum::extract::DefaultBodyLimit::max(import_limit)),
        )
        .route("/surveillance/signals", get(surveillance::list_signals))
        .route("/surveillance/signals/{id}", get(surveillance::get_signal))
        .route(
            "/surveillance/signals/{id}/actions",
            get(surveillance::signal_history).post(surveillance::signal_action),
        )
        .route("/surveillance/events", get(surveillance::list_events))
        .route(
            "/surveillance/events/{id}/actions",
            get(surveillance::event_history).post(surveillance::event_action),
        )
        .route(
            "/surveillance/response-times",
            get(surveillance::response_times),
        )
        .route(
            "/surveillance/notifications",
            get(surveillance::notifications),
        )
        .route("/surveillance/runs", post(surveillance::start_run))
        .route(
            "/import/{kind}",
            post(import::import_csv).layer(axum::extract::DefaultBodyLimit::max(import_limit)),
        )
        .fallback(|| async { ApiError::not_found("API route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
                "this resource does not support that method",
            )
        })
}

/// JSON body whose failures are problem documents naming the field (unknown fields included).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_problem(rejection)),
        }
    }
}

fn json_problem(rejection: JsonRejection) -> ApiError {
    let status = rejection.status();
    let text = rejection.body_text();
    match &rejection {
        JsonRejection::JsonDataError(_) => {
            // serde names the path: "Failed to deserialize the JSON body into the target type: beds: invalid type …"
            let detail = text
                .split_once("type: ")
                .map_or(text.as_str(), |(_, d)| d)
                .to_owned();
            let field = field_of(&detail);
            let mut e = ApiError::bad_field(&field, detail);
            if status == StatusCode::UNPROCESSABLE_ENTITY {
                e = e.with_status(StatusCode::UNPROCESSABLE_ENTITY);
            }
            e
        }
        JsonRejection::JsonSyntaxError(_) => ApiError::bad_field("body", text),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            "send Content-Type: application/json",
        ),
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Payload too large",
            "the request body exceeds the configured limit",
        ),
        _ => ApiError::new(status, "Bad request", text),
    }
}

/// The field a serde message is about: `path.to.field: message`, or `unknown field `x``,
/// or `missing field `x``.
fn field_of(detail: &str) -> String {
    for marker in ["unknown field `", "missing field `", "duplicate field `"] {
        if let Some(rest) = detail.split_once(marker).map(|(_, r)| r)
            && let Some(name) = rest.split('`').next()
        {
            return name.to_owned();
        }
    }
    match detail.split_once(": ") {
        Some((path, _)) if !path.contains(' ') => path.to_owned(),
        _ => "body".to_owned(),
    }
}

/// Path parameters whose failures are problem documents (`/residents/abc` → 400 naming `id`).
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(e) => {
                // Name the route's parameter, e.g. `id` of `/api/v1/residents/{id}`.
                let field = parts
                    .extensions
                    .get::<axum::extract::MatchedPath>()
                    .and_then(|m| {
                        m.as_str()
                            .rsplit('{')
                            .next()
                            .and_then(|p| p.split('}').next())
                    })
                    .unwrap_or("path")
                    .to_owned();
                Err(ApiError::bad_field(&field, e.body_text()))
            }
        }
    }
}

/// Query string whose failures are problem documents.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                let text = e.body_text();
                let detail = text
                    .split_once("string: ")
                    .map_or(text.as_str(), |(_, d)| d)
                    .to_owned();
                Err(ApiError::bad_field(&field_of(&detail), detail))
            }
            Err(e) => Err(ApiError::new(e.status(), "Bad request", e.body_text())),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn field_names_come_out_of_serde_messages() {
        assert_eq!(
            super::field_of("unknown field `colour`, expected one of `a`, `b`"),
            "colour"
        );
        assert_eq!(
            super::field_of("missing field `name` at line 1 column 2"),
            "name"
        );
        assert_eq!(
            super::field_of("beds: invalid type: string \"x\", expected u32 at line 1 column 10"),
            "beds"
        );
        assert_eq!(super::field_of("expected value at line 1 column 1"), "body");
    }
}
