//! Surveillance feeds over HTTP: batches of visits, cases, pharmacy sales, absenteeism reports
//! and lab results, as a JSON array of records or as CSV with the feed's columns. A 200 answer
//! means every accepted record is committed; the refused ones come back with their faults.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use hc_app::feeds::{FeedFileError, FeedKind, FeedReport, FeedRules};
use serde::Serialize;
use serde::de::{Deserializer, SeqAccess, Visitor};
use serde_json::Value;
use utoipa::ToSchema;

use super::ApiPath;
use crate::auth::CurrentUser;
use crate::error::Problem;
use crate::{ApiError, AppState};

/// The feeds, as the path names them (for the OpenAPI document).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
#[allow(dead_code)]
pub enum FeedName {
    /// Sentinel syndromic visits.
    Visits,
    /// Notifiable-disease reports.
    Cases,
    /// Pharmacy sales.
    PharmacySales,
    /// School absenteeism.
    Absenteeism,
    /// Laboratory results.
    LabResults,
}

/// Records one JSON batch may hold.
pub const MAX_BATCH: usize = 10_000;

/// A field at fault, in English and Chinese.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedFieldOut {
    /// The column (or JSON key).
    pub field: String,
    /// What is wrong, in English.
    pub message: String,
    /// What is wrong, in Chinese.
    pub message_zh: Option<String>,
}

/// A refused record.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedRejectOut {
    /// Position in the JSON array (from 1), or line in the CSV (the header is line 1).
    pub line: u64,
    /// The sender's record id, if it could be read.
    pub record_id: Option<String>,
    /// Every field at fault.
    pub errors: Vec<FeedFieldOut>,
}

/// A JSON array of at most [`MAX_BATCH`] elements, refused as soon as it holds more (so a
/// body of millions of tiny elements is not built in memory first).
struct Capped(Vec<Value>);

impl<'de> serde::Deserialize<'de> for Capped {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Capped;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "a JSON array of at most {MAX_BATCH} records")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Capped, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<Value>()? {
                    if out.len() == MAX_BATCH {
                        return Err(serde::de::Error::custom(format!(
                            "more than {MAX_BATCH} records in one batch"
                        )));
                    }
                    out.push(v);
                }
                Ok(Capped(out))
            }
        }
        d.deserialize_seq(V)
    }
}

/// What a batch did.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedBatchOut {
    /// The feed.
    pub feed: String,
    /// Records received.
    pub received: u64,
    /// New records stored.
    pub inserted: u64,
    /// Stored records that changed (their counts moved with them).
    pub updated: u64,
    /// Records re-sent unchanged.
    pub unchanged: u64,
    /// Refused records, each with its faults.
    pub rejected: Vec<FeedRejectOut>,
}

fn out(kind: FeedKind, r: FeedReport) -> FeedBatchOut {
    FeedBatchOut {
        feed: kind.as_str().to_owned(),
        received: r.received,
        inserted: r.inserted,
        updated: r.updated,
        unchanged: r.unchanged,
        rejected: r
            .rejected
            .into_iter()
            .map(|x| FeedRejectOut {
                line: x.line,
                record_id: x.record_id,
                errors: x
                    .errors
                    .into_iter()
                    .map(|e| FeedFieldOut {
                        field: e.field,
                        message: e.message,
                        message_zh: e.zh,
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// Receives a batch of `kind` records: `visits`, `cases`, `pharmacy-sales`, `absenteeism` or
/// `lab-results`. The body is a JSON array of objects keyed by the feed's columns
/// (`application/json`, at most 10,000) or a CSV file with them (`text/csv`). Each record is
/// kept once per sender and `record_id`: re-sending it changes nothing, a changed one is
/// updated with the counts it fed.
#[utoipa::path(post, path = "/api/v1/feeds/{kind}", tag = "surveillance", security(("bearer" = [])),
    params(("kind" = FeedName, Path, description = "visits | cases | pharmacy-sales | absenteeism | lab-results")),
    request_body(content(
        (Vec<Object> = "application/json"),
        (String = "text/csv"),
        (String = "application/csv"))),
    responses((status = 200, body = FeedBatchOut), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json")))]
pub async fn receive(
    State(s): State<AppState>,
    user: CurrentUser,
    ApiPath(kind): ApiPath<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<FeedBatchOut>, ApiError> {
    let kind: FeedKind = kind
        .parse()
        .map_err(|e: String| ApiError::bad_field("kind", e))?;
    user.0
        .require(hc_core::access::Permission::ReportSurveillance)?;
    // Only JSON or CSV content types: a cross-site HTML form can send neither.
    let content = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let json = content.starts_with("application/json");
    let csv = content.starts_with("text/csv") || content.starts_with("application/csv");
    if !json && !csv {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            "send Content-Type: application/json or text/csv",
        ));
    }
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Payload too large",
                "the batch exceeds the configured upload limit",
            )
        } else {
            ApiError::new(e.status(), "Bad request", e.body_text())
        }
    })?;
    let rules = FeedRules::shared()?;
    let today = hc_app::today();
    let report = if json {
        let Capped(batch) = serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_field("body", format!("not a JSON array of records: {e}"))
        })?;
        hc_app::feeds::receive_batch(&s.store, &user.0, &rules, kind, &batch, today).await?
    } else {
        hc_app::feeds::import_file(
            &s.store,
            &user.0,
            &rules,
            kind,
            std::io::Cursor::new(body),
            hc_app::feeds::FileOptions {
                today,
                batch_size: 5_000,
            },
            &|_| {},
        )
        .await
        .map_err(|e| match e {
            FeedFileError::App(a) => ApiError::from(a),
            other => ApiError::bad_field("body", other.to_string()),
        })?
    };
    Ok(Json(out(kind, report)))
}
