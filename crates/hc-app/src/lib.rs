//! HealthCity use cases, shared by the CLI, the HTTP server and jobs.
//!
//! Each use case loads what it needs from the [`hc_store::Store`], applies the pure rules of
//! `hc-core`, and saves. This crate knows nothing of HTTP or printing: it returns typed
//! errors ([`AppError`], [`import::ImportError`]) that the edges render.
//!
//! ```no_run
//! # async fn demo(store: hc_store::Store) -> Result<(), hc_app::AppError> {
//! let today = hc_app::today();
//! let page = hc_app::registry::find_residents(&store, "11010519491231002X").await?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod accounts;
pub mod audit;
pub mod care;
pub mod detect;
pub mod feeds;
pub mod import;
pub mod programs;
pub mod registry;
pub mod surveillance;
pub mod surveillance_views;
pub mod webhooks;
pub mod workflow;

use hc_core::validate::FieldError;
use hc_store::StoreError;

/// Errors of the use cases.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input breaks one or more rules; each error names its field.
    #[error("invalid input: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// The record does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The record collides with one already stored (e.g. the same identity).
    #[error("conflict: {0}")]
    Conflict(FieldError),
    /// Wrong credentials, or no live session.
    #[error("not authenticated")]
    Unauthorized,
    /// The caller's role may not do this (a record outside the caller's scope is
    /// [`AppError::NotFound`] instead, so its existence does not leak).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The storage failed.
    #[error(transparent)]
    Store(StoreError),
    /// A failure outside the database: built-in rules that do not load, a task that stopped.
    #[error("internal: {0}")]
    Internal(String),
}

impl AppError {
    /// A single invalid field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid(vec![FieldError::new(field, message)])
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound("record"),
            StoreError::Conflict { constraint } => AppError::Conflict(FieldError::new(
                constraint_field(&constraint),
                format!("conflicts with a stored record ({constraint})"),
            )),
            other => AppError::Store(other),
        }
    }
}

/// The input field a database constraint protects, for error messages.
fn constraint_field(constraint: &str) -> &'static str {
    const FIELDS: [(&str, &str); 8] = [
        ("identity", "id_number"),
        ("id_number", "id_number"),
        ("community", "community_code"),
        ("group", "group_code"),
        ("institution", "institution_code"),
        ("username", "username"),
        ("code", "code"),
        ("FOREIGN KEY", "reference"),
    ];
    FIELDS
        .iter()
        .find(|(k, _)| constraint.contains(k))
        .map_or("record", |(_, f)| f)
}

/// Today's date in China Standard Time (UTC+8), the date the rules are checked against.
pub fn today() -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}
