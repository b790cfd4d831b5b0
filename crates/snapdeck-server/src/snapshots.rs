//! Disk snapshots: `snapshot_disk` (waits), `snapshot_disk_async`, and
//! `/v1/devboxes/disk_snapshots` (list, update, `/status`, `/delete`).

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use snapdeck_api::{Snapshot, SnapshotList, SnapshotParams, SnapshotStatus, SnapshotStatusView};
use tokio::time::Instant;

use crate::clock::until;
use crate::error::{Error, Id, OptionalJsonBody, Params, Result};
use crate::query;
use crate::state::AppState;
use crate::store::SnapshotQuery;

/// Routes, relative to `/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/devboxes/{id}/snapshot_disk", post(snapshot_disk))
        .route(
            "/devboxes/{id}/snapshot_disk_async",
            post(snapshot_disk_async),
        )
        .route("/devboxes/disk_snapshots", get(list_snapshots))
        .route("/devboxes/disk_snapshots/list_public", get(list_public))
        .route("/devboxes/disk_snapshots/{id}", post(update_snapshot))
        .route("/devboxes/disk_snapshots/{id}/status", get(snapshot_status))
        .route(
            "/devboxes/disk_snapshots/{id}/delete",
            post(delete_snapshot),
        )
}

fn start_snapshot(state: &AppState, devbox_id: &str, params: SnapshotParams) -> Result<Snapshot> {
    // The fault knobs have their own lock, taken inside the store's (never the other
    // way round), and only once the store has accepted the request.
    state.with(|s, now| s.snapshot_disk(devbox_id, params, || state.take_snapshot_failure(), now))
}

/// Starts a snapshot and answers at once; `/status` reports its progress.
async fn snapshot_disk_async(
    State(state): State<AppState>,
    Id(id): Id,
    OptionalJsonBody(params): OptionalJsonBody<SnapshotParams>,
) -> Result<Json<Snapshot>> {
    start_snapshot(&state, &id, params).map(Json)
}

/// Starts a snapshot and answers when it is done: 200 with the snapshot, or a 500 with
/// the failure (sent with `x-should-retry: false`: a retry would start another snapshot).
async fn snapshot_disk(
    State(state): State<AppState>,
    Id(id): Id,
    OptionalJsonBody(params): OptionalJsonBody<SnapshotParams>,
) -> Result<Json<Snapshot>> {
    let snapshot = start_snapshot(&state, &id, params)?;
    let mut changes = state.subscribe();
    loop {
        changes.borrow_and_update();
        let (view, due) = state.with(|s, _| s.snapshot_status_and_due(&snapshot.id))?;
        match view.status {
            SnapshotStatus::Complete => return Ok(Json(view.snapshot.unwrap_or(snapshot))),
            SnapshotStatus::InProgress => {}
            _ => {
                return Err(Error::Failed(format!(
                    "Snapshot {} failed: {}",
                    snapshot.id,
                    view.error_message.as_deref().unwrap_or("unknown error")
                )));
            }
        }
        let wake = Instant::now() + due.map_or(std::time::Duration::from_millis(50), until);
        tokio::select! {
            _ = changes.changed() => {}
            () = tokio::time::sleep_until(wake) => {}
        }
    }
}

/// `devbox_id`, `source_blueprint_id`, `metadata[k]`, `metadata[k][in]` (comma list),
/// `search`/`name`, `limit`, `starting_after`, `include_total_count`.
async fn list_snapshots(
    State(state): State<AppState>,
    params: Params,
) -> Result<Json<SnapshotList>> {
    let query = SnapshotQuery {
        devbox_id: params.non_empty("devbox_id").map(str::to_owned),
        source_blueprint_id: params.non_empty("source_blueprint_id").map(str::to_owned),
        metadata: query::metadata_filters(&params)?,
        search: query::search(&params),
        paging: query::paging(&params)?,
    };
    state.with(|s, _| s.list_snapshots(&query)).map(Json)
}

async fn update_snapshot(
    State(state): State<AppState>,
    Id(id): Id,
    OptionalJsonBody(params): OptionalJsonBody<SnapshotParams>,
) -> Result<Json<Snapshot>> {
    state.with(|s, _| s.update_snapshot(&id, params)).map(Json)
}

async fn snapshot_status(
    State(state): State<AppState>,
    Id(id): Id,
) -> Result<Json<SnapshotStatusView>> {
    state.with(|s, _| s.snapshot_status(&id)).map(Json)
}

async fn delete_snapshot(
    State(state): State<AppState>,
    Id(id): Id,
) -> Result<Json<serde_json::Value>> {
    state.with(|s, _| s.delete_snapshot(&id))?;
    Ok(Json(serde_json::json!({})))
}

/// `GET /v1/devboxes/disk_snapshots/list_public`: the emulator has no public snapshots.
async fn list_public(params: Params) -> Result<Json<snapdeck_api::SnapshotList>> {
    query::limit(&params)?;
    Ok(Json(snapdeck_api::SnapshotList {
        snapshots: Vec::new(),
        has_more: false,
        total_count: Some(0),
    }))
}
