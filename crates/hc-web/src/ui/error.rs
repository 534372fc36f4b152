//! Failures of a page, rendered as HTML in the common layout (never as JSON, never a panic).

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::http::StatusCode;
use axum::response::Response;
use hc_store::StoreError;

use super::ctx::Ctx;
use super::page;

/// Why a page cannot be shown.
#[derive(Debug)]
pub enum UiError {
    /// A query or path value is malformed (400).
    BadRequest {
        /// The parameter at fault.
        field: &'static str,
        /// The value received.
        value: String,
    },
    /// The record asked for does not exist (404).
    NotFound {
        /// Message key naming the kind of record, e.g. `what.institution`.
        what: &'static str,
        /// Its code or id as given.
        code: String,
    },
    /// The role may not use this page (403).
    Forbidden,
    /// The server failed (500); the detail is logged, not shown.
    Internal,
}

impl UiError {
    /// 400 for `field`.
    pub fn bad(field: &'static str, value: &str) -> UiError {
        let value: String = value.chars().take(80).collect();
        UiError::BadRequest { field, value }
    }

    /// Maps a store failure on looking up `what` with `code`: not found is a 404, anything else a 500.
    pub fn store(what: &'static str, code: &str) -> impl FnOnce(StoreError) -> UiError {
        move |e| match e {
            StoreError::NotFound => UiError::NotFound {
                what,
                code: code.chars().take(80).collect(),
            },
            other => UiError::from(other),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            UiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            UiError::NotFound { .. } => StatusCode::NOT_FOUND,
            UiError::Forbidden => StatusCode::FORBIDDEN,
            UiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The error page.
    pub fn render(self, ctx: &Ctx) -> Response {
        let status = self.status();
        let (title, message) = match &self {
            UiError::BadRequest { field, value } if value.is_empty() => (
                ctx.t("errors.bad_request_title").to_owned(),
                ctx.tf("errors.bad_query", &[("field", field)]),
            ),
            UiError::BadRequest { field, value } => (
                ctx.t("errors.bad_request_title").to_owned(),
                ctx.tf("errors.bad_request", &[("field", field), ("value", value)]),
            ),
            UiError::NotFound { what, code } if code.is_empty() => (
                ctx.t("errors.not_found_title").to_owned(),
                ctx.tf("errors.not_found_plain", &[("what", ctx.t(what))]),
            ),
            UiError::NotFound { what, code } => (
                ctx.t("errors.not_found_title").to_owned(),
                ctx.tf("errors.not_found", &[("what", ctx.t(what)), ("code", code)]),
            ),
            UiError::Forbidden => (
                ctx.t("errors.forbidden_title").to_owned(),
                ctx.t("errors.forbidden").to_owned(),
            ),
            UiError::Internal => (
                ctx.t("errors.internal_title").to_owned(),
                ctx.t("errors.internal").to_owned(),
            ),
        };
        let tpl = ErrorPage {
            ctx: ctx.clone(),
            status: status.as_u16(),
            title,
            message,
        };
        page::html(status, &tpl)
    }
}

impl From<StoreError> for UiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => UiError::NotFound {
                what: "what.record",
                code: String::new(),
            },
            other => {
                tracing::error!(error = %other, "database failure behind a page");
                UiError::Internal
            }
        }
    }
}

impl From<hc_app::AppError> for UiError {
    fn from(e: hc_app::AppError) -> Self {
        match e {
            hc_app::AppError::Store(s) => s.into(),
            hc_app::AppError::NotFound(_) => UiError::NotFound {
                what: "what.record",
                code: String::new(),
            },
            hc_app::AppError::Forbidden(_) => UiError::Forbidden,
            other => {
                tracing::error!(error = %other, "use case failed behind a page");
                UiError::Internal
            }
        }
    }
}

impl From<QueryRejection> for UiError {
    fn from(e: QueryRejection) -> Self {
        tracing::debug!(error = %e, "malformed query string");
        UiError::BadRequest {
            field: "query",
            value: String::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    ctx: Ctx,
    status: u16,
    title: String,
    message: String,
}
