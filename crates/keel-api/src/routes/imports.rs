//! CSV import: preview a file, import it (or dry-run it), list past imports. The file is
//! the raw request body (`text/csv`), streamed to a temporary file — never held in
//! memory — up to `MAX_IMPORT_BYTES`; options travel as query parameters.
//!
//! An import runs in the background: the POST checks the options and the header, stores
//! the file, and answers 202 with the import (status `queued`) and its `Location`; the
//! client polls `GET /api/v1/imports/{id}` for the phase, rows done and the outcome.
//! `dry_run=true` (writes nothing) and `wait=true` (small files, scripts) answer at once.
//!
//! Only non-form content types are accepted (`text/csv`, `application/csv`,
//! `text/tab-separated-values`, `application/octet-stream`): a cross-site HTML form cannot
//! send them without a CORS preflight, which Keel never grants, so this keeps the
//! JSON-only rule's protection for a body that is not JSON.

use std::collections::BTreeMap;
use std::io::Write;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use keel_domain::FieldErrors;
use keel_service::imports::{Format, ImportMode, ImportOptions, ImportReport, ImportSource, import_json};
use serde_json::{Value, json};

use crate::AppState;
use crate::context::RequestCtx;
use crate::error::ApiError;
use crate::extract::{parse_id, query_pairs};

/// Largest file `POST /api/v1/imports` takes (a million-contact file is ~100 MiB).
pub const MAX_IMPORT_BYTES: u64 = 256 * 1024 * 1024;
/// A preview reads at most this much of the body: the header and the first rows.
pub const MAX_PREVIEW_BYTES: usize = 1024 * 1024;

const CSV_TYPES: [&str; 4] = ["text/csv", "application/csv", "text/tab-separated-values", "application/octet-stream"];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/imports", get(list).post(import))
        .route("/api/v1/imports/preview", post(preview))
        .route("/api/v1/imports/{id}", get(read))
}

fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let mime = ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if CSV_TYPES.contains(&mime.as_str()) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the file as the body with Content-Type: text/csv",
        ))
    }
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", format!("The file must be at most {limit} bytes"))
}

/// The query parameters, each at most once, all known.
struct Params {
    values: BTreeMap<String, String>,
}

impl Params {
    fn parse(raw: Option<&str>, known: &[&str]) -> Result<Params, ApiError> {
        let mut values = BTreeMap::new();
        let mut errors = FieldErrors::new();
        for (k, v) in query_pairs(raw) {
            if !known.contains(&k.as_str()) {
                errors.push(k.clone(), "unknown_parameter", format!("unknown parameter; use {}", known.join(", ")));
            } else if values.insert(k.clone(), v).is_some() {
                errors.push(k, "repeated_parameter", "give this parameter once");
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::invalid_query(errors));
        }
        Ok(Params { values })
    }
    fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }
    fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name) {
            None | Some("false" | "0") => Ok(false),
            Some("true" | "1") => Ok(true),
            Some(_) => Err(ApiError::invalid_query(FieldErrors::single(name, "invalid", "must be true or false"))),
        }
    }
    fn number(&self, name: &str) -> Result<Option<u64>, ApiError> {
        self.get(name)
            .map(|v| {
                v.parse().map_err(|_| {
                    ApiError::invalid_query(FieldErrors::single(name, "invalid", "must be a positive whole number"))
                })
            })
            .transpose()
    }
    fn entity(&self) -> Result<String, ApiError> {
        self.get("entity")
            .map(str::to_string)
            .ok_or_else(|| ApiError::invalid_query(FieldErrors::single("entity", "required", "name the entity")))
    }
    /// `mapping={"E-mail":"email","Notes":null}`: edits to the automatic mapping.
    fn format(&self) -> Result<Format, ApiError> {
        let mapping = match self.get("mapping") {
            None => BTreeMap::new(),
            Some(m) => serde_json::from_str::<BTreeMap<String, Option<String>>>(m).map_err(|_| {
                ApiError::invalid_query(FieldErrors::single(
                    "mapping",
                    "invalid",
                    "mapping must be a JSON object of header → field name (or null to ignore the column)",
                ))
            })?,
        };
        Ok(Format {
            encoding: self.get("encoding").map(str::to_string),
            separator: self.get("separator").map(str::to_string),
            mapping,
        })
    }
}

async fn preview(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    check_content_type(&headers)?;
    let params = Params::parse(raw.as_deref(), &["entity", "encoding", "separator", "mapping"])?;
    let entity = params.entity()?;
    let format = params.format()?;
    // The head of the file is enough: stop reading at the limit instead of refusing.
    let mut head = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| ApiError::bad_request("unreadable_body", "The body could not be read"))?;
        head.extend_from_slice(&chunk);
        if head.len() >= MAX_PREVIEW_BYTES {
            head.truncate(MAX_PREVIEW_BYTES);
            break;
        }
    }
    let source = ImportSource::Bytes(head.into());
    let preview = state.service.import_preview(&ctx, &entity, &source, &format).await?;
    Ok(Json(json!(preview)))
}

/// Copy the body to a temporary file, refusing it past `MAX_IMPORT_BYTES`.
async fn spool(body: Body) -> Result<tempfile::NamedTempFile, ApiError> {
    let internal = |e: std::io::Error| {
        tracing::error!(error = %e, "spooling an import");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "The file could not be stored for import")
    };
    let mut file = tempfile::NamedTempFile::new().map_err(internal)?;
    let mut written: u64 = 0;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| ApiError::bad_request("unreadable_body", "The body could not be read"))?;
        written += chunk.len() as u64;
        if written > MAX_IMPORT_BYTES {
            return Err(too_large(MAX_IMPORT_BYTES));
        }
        // Small writes to a local temp file: not worth a blocking-pool hop per chunk.
        file.write_all(&chunk).map_err(internal)?;
    }
    file.flush().map_err(internal)?;
    Ok(file)
}

fn report_response(report: ImportReport) -> Response {
    match report.status {
        "rejected" => {
            let mut err = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "import_rejected",
                format!("{} rows have errors; nothing was imported", report.failed),
            );
            // Row errors are field errors with a place: {row, line, column, field, code, message}.
            err.extra.insert("errors".into(), json!(report.errors));
            err.extra.insert("import".into(), json!(report));
            err.into_response()
        }
        "failed" => {
            let mut err = ApiError::new(
                StatusCode::CONFLICT,
                "import_failed",
                format!(
                    "the import stopped at row {}: rows before it were imported, none from it on; fix and resume with resume_from",
                    report.next_row.unwrap_or(0)
                ),
            );
            // Row errors are field errors with a place: {row, line, column, field, code, message}.
            err.extra.insert("errors".into(), json!(report.errors));
            err.extra.insert("import".into(), json!(report));
            err.into_response()
        }
        "completed" => (StatusCode::CREATED, Json(json!(report))).into_response(),
        _ => (StatusCode::OK, Json(json!(report))).into_response(),
    }
}

async fn import(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    check_content_type(&headers)?;
    let params = Params::parse(
        raw.as_deref(),
        &[
            "entity",
            "mode",
            "key",
            "dry_run",
            "create_missing_companies",
            "encoding",
            "separator",
            "mapping",
            "file_name",
            "resume_from",
            "batch_size",
            "all_or_nothing",
            "wait",
        ],
    )?;
    let entity = params.entity()?;
    let mode = match params.get("mode") {
        None => ImportMode::Create,
        Some(m) => ImportMode::parse(m).ok_or_else(|| {
            ApiError::invalid_query(FieldErrors::single("mode", "invalid", "mode must be create, update or upsert"))
        })?,
    };
    let mut options = ImportOptions::new(&entity, mode);
    options.key = params.get("key").map(str::to_string);
    options.dry_run = params.flag("dry_run")?;
    options.create_missing_companies = params.flag("create_missing_companies")?;
    options.all_or_nothing = params.flag("all_or_nothing")?;
    options.format = params.format()?;
    options.file_name = params.get("file_name").map(str::to_string);
    options.resume_from = params.number("resume_from")?;
    if let Some(n) = params.number("batch_size")? {
        options.batch_size = usize::try_from(n).unwrap_or(usize::MAX);
    }
    let wait = params.flag("wait")?;
    let file = spool(body).await?;
    let source = ImportSource::Path(file.path().to_path_buf());
    if options.dry_run || wait {
        let report = state.service.import(&ctx, source, options, None).await?;
        drop(file);
        return Ok(report_response(report));
    }
    let row = state.service.import_enqueue(&ctx, source, options).await?;
    drop(file);
    let location = format!("/api/v1/imports/{}", row.id);
    Ok((StatusCode::ACCEPTED, [(header::LOCATION, location)], Json(import_json(&row))).into_response())
}

async fn list(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = Params::parse(raw.as_deref(), &["limit"])?;
    let limit = params.number("limit")?.map_or(50, |n| u32::try_from(n).unwrap_or(200));
    let rows = state.service.imports_list(&ctx, limit).await?;
    Ok(Json(json!({ "data": rows.iter().map(import_json).collect::<Vec<_>>() })))
}

async fn read(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let row = state.service.import_get(&ctx, parse_id(&id)?).await?;
    Ok(Json(import_json(&row)))
}
