//! A devbox's files: `write_file_contents`/`read_file_contents` (text) and
//! `upload_file`/`download_file` (any bytes; multipart up, octet-stream down). The
//! emulated disk is a set of (path, contents) rows; commands see and change the same
//! rows; a snapshot copies them, and a devbox created from the snapshot starts with
//! exactly that copy — which is what makes a rollback observable.

use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use snapdeck_api::{ExecutionDetail, ReadFile, WriteFile};

use crate::error::{Error, Id, JsonBody, Result};
use crate::state::AppState;

/// Routes, relative to `/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/devboxes/{id}/write_file_contents",
            post(write_file_contents),
        )
        .route(
            "/devboxes/{id}/read_file_contents",
            post(read_file_contents),
        )
        .route("/devboxes/{id}/upload_file", post(upload_file))
        .route("/devboxes/{id}/download_file", post(download_file))
        // Files are the one body that can be large; elsewhere axum's 2 MB default stays.
        .layer(DefaultBodyLimit::max(MAX_FILE_BODY))
}

/// Largest `write_file_contents` body accepted (a larger one is a JSON 413).
const MAX_FILE_BODY: usize = 32 * 1024 * 1024;

async fn write_file_contents(
    State(state): State<AppState>,
    Id(id): Id,
    JsonBody(req): JsonBody<WriteFile>,
) -> Result<Json<ExecutionDetail>> {
    state
        .with(|s, now| {
            let detail = s.write_file(&id, &req.file_path, &req.contents)?;
            s.touch(&id, false, now)?;
            Ok(detail)
        })
        .map(Json)
}

/// Answers the contents as `text/plain`, as the real API does (the SDKs return a string).
async fn read_file_contents(
    State(state): State<AppState>,
    Id(id): Id,
    JsonBody(req): JsonBody<ReadFile>,
) -> Result<impl IntoResponse> {
    let contents = state.with(|s, now| {
        let contents = s.read_file(&id, &req.file_path)?;
        s.touch(&id, false, now)?;
        Ok(contents)
    })?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        contents,
    ))
}

/// `POST /v1/devboxes/{id}/upload_file`: multipart/form-data with a `path` field and a
/// `file` part (as both SDKs send it) → `{}`.
async fn upload_file(
    State(state): State<AppState>,
    Id(id): Id,
    mut form: Multipart,
) -> Result<Json<serde_json::Value>> {
    let bad = |e: axum::extract::multipart::MultipartError| Error::Rejected {
        status: e.status(),
        message: format!("malformed multipart body: {}", e.body_text()),
    };
    let mut path = None;
    let mut file = None;
    while let Some(field) = form.next_field().await.map_err(bad)? {
        match field.name() {
            Some("path") => path = Some(field.text().await.map_err(bad)?),
            Some("file") => file = Some(field.bytes().await.map_err(bad)?),
            _ => {}
        }
    }
    let path = path.ok_or_else(|| Error::BadRequest("path is required".into()))?;
    let file = file.unwrap_or_default();
    state.with(|s, now| {
        s.upload_file(&id, &path, &file, now)?;
        s.touch(&id, false, now)
    })?;
    Ok(Json(serde_json::json!({})))
}

#[derive(Debug, serde::Deserialize)]
struct DownloadFile {
    path: String,
}

/// `POST /v1/devboxes/{id}/download_file` `{"path"}` → the bytes as
/// `application/octet-stream`; 404 for a missing file.
async fn download_file(
    State(state): State<AppState>,
    Id(id): Id,
    JsonBody(req): JsonBody<DownloadFile>,
) -> Result<impl IntoResponse> {
    let bytes = state.with(|s, now| {
        let bytes = s.download_file(&id, &req.path)?;
        s.touch(&id, false, now)?;
        Ok(bytes)
    })?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes))
}
