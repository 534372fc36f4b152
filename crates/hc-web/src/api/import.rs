//! Bulk import over HTTP: the same pipeline as `healthcity import`, fed from the request body.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use hc_app::import::{CollectRejects, ImportError, ImportKind, ImportOptions};

use super::{ApiPath, ImportOut, RejectionOut};
use crate::auth::CurrentUser;
use crate::error::Problem;
use crate::{ApiError, AppState};

/// Imports a CSV file (UTF-8, header row, columns by name) of `kind`: `orgunits`,
/// `institutions`, `practitioners` or `residents`. Rows are upserted by natural key; bad
/// rows are rejected with line, field and reason, the rest stored.
#[utoipa::path(post, path = "/api/v1/import/{kind}", tag = "import", security(("bearer" = [])),
    params(("kind" = String, Path, description = "orgunits | institutions | practitioners | residents")),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportOut), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json")))]
pub async fn import_csv(
    State(s): State<AppState>,
    user: CurrentUser,
    ApiPath(kind): ApiPath<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ImportOut>, ApiError> {
    // A CSV content type is required: a cross-site HTML form cannot send one, so a browser
    // session cannot be made to import by another site.
    let csv_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv") || v.starts_with("application/csv"));
    if !csv_type {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            "send Content-Type: text/csv",
        ));
    }
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Payload too large",
                "the file exceeds the configured upload limit",
            )
        } else {
            ApiError::new(e.status(), "Bad request", e.body_text())
        }
    })?;
    let kind: ImportKind = kind
        .parse()
        .map_err(|e: String| ApiError::bad_field("kind", e))?;
    let needed = match kind {
        ImportKind::OrgUnits => hc_core::access::Permission::EditOrgUnits,
        ImportKind::Residents => hc_core::access::Permission::Import,
        _ => hc_core::access::Permission::EditInstitutions,
    };
    user.0.require(hc_core::access::Permission::Import)?;
    user.0.require(needed)?;
    let opts = ImportOptions::new(format!("api:{}", user.0.principal.name));
    let mut sink = CollectRejects {
        items: Vec::new(),
        limit: 1000,
    };
    let report = hc_app::import::import(
        &s.store,
        kind,
        std::io::Cursor::new(body),
        &opts,
        &mut sink,
        &|_| {},
    )
    .await;
    // What was committed before a failure is on record too.
    if let Err(e) = &report {
        user.0
            .record(
                &s.store,
                hc_app::audit::Event::new("import", "file")
                    .outcome("failed")
                    .detail(format!("{kind:?}: {e}")),
            )
            .await?;
    }
    let report = report.map_err(|e| match e {
        ImportError::Read { .. } | ImportError::MissingColumns { .. } => {
            ApiError::bad_field("body", e.to_string())
        }
        ImportError::Rejects(io) => ApiError::internal(&io),
        ImportError::Store(st) => st.into(),
    })?;
    user.0
        .record(
            &s.store,
            hc_app::audit::Event::new("import", "file")
                .id(report.import_id)
                .detail(format!(
                    "{kind:?}: {} rows, {} inserted, {} updated, {} rejected",
                    report.rows, report.inserted, report.updated, report.rejected
                )),
        )
        .await?;
    Ok(Json(ImportOut {
        import_id: report.import_id,
        rows: report.rows,
        accepted: report.accepted(),
        inserted: report.inserted,
        updated: report.updated,
        unchanged: report.unchanged,
        rejected: report.rejected,
        rejections: sink
            .items
            .into_iter()
            .map(|r| RejectionOut {
                line: r.line,
                field: r.field,
                reason: r.reason,
            })
            .collect(),
    }))
}
