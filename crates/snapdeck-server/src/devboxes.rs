//! `/v1/devboxes`: create, list, get, update, shutdown, suspend, resume, keep_alive and
//! the `wait_for_status` long poll.

use std::time::Duration;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use snapdeck_api::{CreateDevbox, Devbox, DevboxList, DevboxStatus, UpdateDevbox, WaitForStatus};
use tokio::time::Instant;

use crate::clock::until;
use crate::error::{Error, Id, JsonBody, OptionalJsonBody, Params, Result};
use crate::query;
use crate::state::AppState;
use crate::store::DevboxQuery;

/// Routes, relative to `/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/devboxes", get(list_devboxes).post(create_devbox))
        .route(
            "/devboxes/create_and_await_running",
            post(create_and_await_running),
        )
        .route("/devboxes/{id}", get(get_devbox).post(update_devbox))
        .route("/devboxes/{id}/shutdown", post(shutdown_devbox))
        .route("/devboxes/{id}/suspend", post(suspend_devbox))
        .route("/devboxes/{id}/resume", post(resume_devbox))
        .route("/devboxes/{id}/keep_alive", post(keep_alive))
        .route("/devboxes/{id}/wait_for_status", post(wait_for_status))
}

/// `status`, `search`/`name`, `limit`, `starting_after`, `include_total_count`.
async fn list_devboxes(State(state): State<AppState>, params: Params) -> Result<Json<DevboxList>> {
    let query = devbox_query(&params)?;
    state.with(|s, _| s.list_devboxes(&query)).map(Json)
}

fn devbox_query(params: &Params) -> Result<DevboxQuery> {
    let status = match params.non_empty("status") {
        Some(s) => Some(
            DevboxStatus::parse(s)
                .ok_or_else(|| Error::BadRequest(format!("unknown devbox status {s:?}")))?,
        ),
        None => None,
    };
    Ok(DevboxQuery {
        status,
        search: query::search(params),
        paging: query::paging(params)?,
    })
}

async fn get_devbox(State(state): State<AppState>, Id(id): Id) -> Result<Json<Devbox>> {
    state.with(|s, _| s.get_devbox(&id)).map(Json)
}

async fn create_devbox(
    State(state): State<AppState>,
    OptionalJsonBody(req): OptionalJsonBody<CreateDevbox>,
) -> Result<Json<Devbox>> {
    let devbox =
        state.with(|s, now| s.create_devbox_with(req, || state.take_boot_failure(), now))?;
    crate::executions::start_launch_commands(&state, &devbox);
    Ok(Json(devbox))
}

/// Longest `create_and_await_running` holds before answering a devbox that is still
/// booting: under the SDKs' 30 s default request timeout.
const CREATE_AND_AWAIT_HOLD: Duration = Duration::from_secs(20);

/// `POST /v1/devboxes/create_and_await_running` (the SDKs call this since 1.30.0 instead
/// of create followed by `wait_for_status`): creates, then holds until the devbox is `running` (or
/// `failure` or `shutdown`). If the hold runs out it answers the devbox as it is, with 200 — the
/// SDK then goes on with its own `await_running` loop.
async fn create_and_await_running(
    State(state): State<AppState>,
    OptionalJsonBody(req): OptionalJsonBody<CreateDevbox>,
) -> Result<Json<Devbox>> {
    let created =
        state.with(|s, now| s.create_devbox_with(req, || state.take_boot_failure(), now))?;
    crate::executions::start_launch_commands(&state, &created);
    let wanted = [
        DevboxStatus::Running,
        DevboxStatus::Failure,
        DevboxStatus::Shutdown,
    ];
    let deadline = Instant::now() + CREATE_AND_AWAIT_HOLD;
    match await_status(&state, &created.id, &wanted, deadline).await? {
        Ok(devbox) | Err(devbox) => Ok(Json(devbox)),
    }
}

/// Waits until the devbox's status is one of `wanted` (`Ok`) or the deadline passes
/// (`Err` with the devbox as it is then).
async fn await_status(
    state: &AppState,
    id: &str,
    wanted: &[DevboxStatus],
    deadline: Instant,
) -> Result<std::result::Result<Devbox, Devbox>> {
    let mut changes = state.subscribe();
    loop {
        // Mark the current version seen *before* reading, so a change that lands after
        // the read still wakes us.
        changes.borrow_and_update();
        let (devbox, due) = state.with(|s, _| s.devbox_and_due(id))?;
        if status_matches(devbox.status, wanted) {
            return Ok(Ok(devbox));
        }
        if Instant::now() >= deadline {
            return Ok(Err(devbox));
        }
        // Wake at the devbox's next due transition (the store applies it lazily), on any
        // change (e.g. a suspend), or at the deadline.
        let wake = due.map_or(deadline, |d| deadline.min(Instant::now() + until(d)));
        tokio::select! {
            _ = changes.changed() => {}
            () = tokio::time::sleep_until(wake) => {}
        }
    }
}

async fn update_devbox(
    State(state): State<AppState>,
    Id(id): Id,
    OptionalJsonBody(req): OptionalJsonBody<UpdateDevbox>,
) -> Result<Json<Devbox>> {
    state.with(|s, _| s.update_devbox(&id, req)).map(Json)
}

/// `force` is a query parameter (typed as a string by the SDKs), not a body field.
async fn shutdown_devbox(
    State(state): State<AppState>,
    Id(id): Id,
    params: Params,
) -> Result<Json<Devbox>> {
    let force = params.bool("force", false)?;
    let (devbox, running) = state.with(|s, now| {
        let devbox = s.shutdown_devbox(&id, force, now)?;
        Ok((devbox, s.unfinished_executions(&id)))
    })?;
    stop_commands(&state, &id, &running);
    Ok(Json(devbox))
}

/// A devbox that stops takes its processes with it: running commands are killed and
/// its named shells forgotten.
pub(crate) fn stop_commands(state: &AppState, devbox_id: &str, running: &[String]) {
    for id in running {
        state.runs().kill(id);
    }
    state.runs().forget_devbox(devbox_id);
}

/// Suspending keeps the disk, not the processes: running commands are killed.
async fn suspend_devbox(State(state): State<AppState>, Id(id): Id) -> Result<Json<Devbox>> {
    let (devbox, running) = state.with(|s, now| {
        let devbox = s.suspend_devbox(&id, now)?;
        Ok((devbox, s.unfinished_executions(&id)))
    })?;
    stop_commands(&state, &id, &running);
    Ok(Json(devbox))
}

async fn resume_devbox(State(state): State<AppState>, Id(id): Id) -> Result<Json<Devbox>> {
    state.with(|s, now| s.resume_devbox(&id, now)).map(Json)
}

async fn keep_alive(State(state): State<AppState>, Id(id): Id) -> Result<Json<serde_json::Value>> {
    state.with(|s, now| s.keep_alive(&id, now))?;
    Ok(Json(serde_json::json!({})))
}

/// Default and maximum hold of `wait_for_status`, as the SDKs assume.
const DEFAULT_HOLD: f64 = 10.0;
const MAX_HOLD: f64 = 30.0;

fn status_matches(status: DevboxStatus, wanted: &[DevboxStatus]) -> bool {
    // `scheduled` is the deprecated name of `queued`: either spelling matches either.
    let alias = match status {
        DevboxStatus::Queued => Some(DevboxStatus::Scheduled),
        DevboxStatus::Scheduled => Some(DevboxStatus::Queued),
        _ => None,
    };
    wanted.contains(&status) || alias.is_some_and(|a| wanted.contains(&a))
}

/// Long poll: 200 with the devbox as soon as its status is one of `statuses`, 408 when
/// the hold (`timeout_seconds`, float, default 10 s, at most 30 s) runs out. Never 200
/// with another status: the SDKs' await helpers would take it as final.
async fn wait_for_status(
    State(state): State<AppState>,
    Id(id): Id,
    JsonBody(req): JsonBody<WaitForStatus>,
) -> Result<Json<Devbox>> {
    if req.statuses.is_empty() {
        return Err(Error::BadRequest("statuses must not be empty".into()));
    }
    if req.statuses.contains(&DevboxStatus::Unknown) {
        return Err(Error::BadRequest(
            "statuses contains an unknown status".into(),
        ));
    }
    let hold = req.timeout_seconds.unwrap_or(DEFAULT_HOLD);
    if !hold.is_finite() {
        return Err(Error::BadRequest("timeout_seconds must be a number".into()));
    }
    let deadline = Instant::now() + Duration::from_secs_f64(hold.clamp(0.0, MAX_HOLD));
    match await_status(&state, &id, &req.statuses, deadline).await? {
        Ok(devbox) => Ok(Json(devbox)),
        Err(devbox) => Err(Error::Timeout(format!(
            "Timeout waiting for status: devbox {id} is {}",
            devbox.status
        ))),
    }
}
