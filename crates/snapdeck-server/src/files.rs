//! A devbox's files: `write_file_contents` and `read_file_contents`. The emulated disk is
//! a set of (path, text) rows; a snapshot copies them, and a devbox created from the
//! snapshot starts with exactly that copy — which is what makes a rollback observable.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use snapdeck_api::{ExecutionDetail, ReadFile, WriteFile};

use crate::error::{Id, JsonBody, Result};
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
        .with(|s, _| s.write_file(&id, &req.file_path, &req.contents))
        .map(Json)
}

/// Answers the contents as `text/plain`, as the real API does (the SDKs return a string).
async fn read_file_contents(
    State(state): State<AppState>,
    Id(id): Id,
    JsonBody(req): JsonBody<ReadFile>,
) -> Result<impl IntoResponse> {
    let contents = state.with(|s, _| s.read_file(&id, &req.file_path))?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        contents,
    ))
}
