//! Commands: `execute`, `execute_async`, `execute_sync`, the executions (`GET`,
//! `wait_for_status`, `kill`, `send_std_in`, the stdout/stderr SSE streams) and the
//! devbox's `logs`.
//!
//! A command is interpreted in-process by [`crate::shell`] over the devbox's emulated
//! disk, never by the host. Each runs as a task of its own: the store keeps its record
//! ([`crate::store::ExecRec`]), [`Runs`] its live output, its kill switch and its stdin;
//! commands of one named shell queue behind each other and carry its state (working
//! directory, variables) from one to the next.
//!
//! This file holds the HTTP handlers; `task.rs` runs a command, `stream.rs` serves its
//! output as server-sent events, and [`runs`] keeps the live side. `runs` imports
//! nothing of the crate, so the state can hold a [`Runs`] without a cycle.

pub mod runs;
mod stream;
mod task;

use std::time::Duration;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use snapdeck_api::ExecutionDetail;
use snapdeck_api::commands::{
    DevboxLogs, ExecuteParams, Execution, ExecutionStatus, WaitForCommand,
};
use tokio::time::Instant;

pub use runs::Runs;
use stream::{stream_stderr, stream_stdout};
pub use task::{spawn, start_launch_commands};

use crate::error::{Error, Id, JsonBody, OptionalJsonBody, Params, Result};
use crate::shell;
use crate::state::AppState;
use crate::store::{DEFAULT_LAST_N, ExecRec, ExecSource, NewExecution};

/// Routes, relative to `/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/devboxes/{id}/execute", post(execute))
        .route("/devboxes/{id}/execute_async", post(execute_async))
        .route("/devboxes/{id}/execute_sync", post(execute_sync))
        .route("/devboxes/{id}/logs", get(logs))
        .route(
            "/devboxes/{devbox_id}/executions/{execution_id}",
            get(get_execution),
        )
        .route(
            "/devboxes/{devbox_id}/executions/{execution_id}/wait_for_status",
            post(wait_for_status),
        )
        .route(
            "/devboxes/{devbox_id}/executions/{execution_id}/kill",
            post(kill),
        )
        .route(
            "/devboxes/{devbox_id}/executions/{execution_id}/send_std_in",
            post(send_std_in),
        )
        .route(
            "/devboxes/{devbox_id}/executions/{execution_id}/stream_stdout_updates",
            get(stream_stdout),
        )
        .route(
            "/devboxes/{devbox_id}/executions/{execution_id}/stream_stderr_updates",
            get(stream_stderr),
        )
}

/// Longest `execute` waits before answering a command that is still running, and the
/// longest (and default) hold of an execution's `wait_for_status`: 25 s, as the API says.
const MAX_OPTIMISTIC: f64 = 25.0;

/// Waits until the execution is done (`Ok`) or the deadline passes (`Err` with it as it
/// is then).
async fn await_done(
    state: &AppState,
    devbox_id: &str,
    id: &str,
    wanted: &[ExecutionStatus],
    deadline: Instant,
) -> Result<std::result::Result<ExecRec, ExecRec>> {
    let mut changes = state.subscribe();
    let mut runs = state.runs().subscribe();
    loop {
        changes.borrow_and_update();
        runs.borrow_and_update();
        let rec = state.with(|s, _| s.execution(devbox_id, id))?;
        if wanted.contains(&rec.status) {
            return Ok(Ok(rec));
        }
        if Instant::now() >= deadline {
            return Ok(Err(rec));
        }
        tokio::select! {
            _ = changes.changed() => {}
            _ = runs.changed() => {}
            () = tokio::time::sleep_until(deadline) => {}
        }
    }
}

fn view(state: &AppState, rec: &ExecRec, last_n: usize) -> Execution {
    let live = (!rec.is_done())
        .then(|| state.runs().output(&rec.id))
        .flatten();
    rec.view(last_n, live.as_ref().map(|(o, e)| (o.as_str(), e.as_str())))
}

fn last_n(params: &Params) -> Result<usize> {
    match params.non_empty("last_n") {
        None => Ok(DEFAULT_LAST_N),
        Some(v) => v.trim().parse().map_err(|_| {
            Error::BadRequest(format!("last_n must be a non-negative integer, got {v:?}"))
        }),
    }
}

/// A hold in seconds from the request: default and maximum `max`.
fn hold(seconds: Option<f64>, max: f64) -> Result<Duration> {
    let s = seconds.unwrap_or(max);
    if !s.is_finite() {
        return Err(Error::BadRequest("timeout must be a number".into()));
    }
    Ok(Duration::from_secs_f64(s.clamp(0.0, max)))
}

/// Records and starts a command; the record (an existing one for a repeated
/// `command_id`).
fn begin(state: &AppState, devbox_id: &str, req: &ExecuteParams, stdin: bool) -> Result<ExecRec> {
    let new_exec = NewExecution {
        devbox_id,
        command: &req.command,
        shell_name: req.shell_name.as_deref(),
        command_id: req.command_id.as_deref(),
        attach_stdin: stdin,
        source: ExecSource::Exec,
    };
    let (rec, new) = state.with(|s, now| s.begin_execution(new_exec, now))?;
    if new {
        spawn(state, &rec);
    }
    Ok(rec)
}

// ---- handlers ----

/// `POST /v1/devboxes/{id}/execute_async`: the execution at once (`queued`, or
/// `running`); with `attach_stdin` it waits for `send_std_in` EOF before it starts.
async fn execute_async(
    State(state): State<AppState>,
    Id(id): Id,
    JsonBody(req): JsonBody<ExecuteParams>,
) -> Result<Json<Execution>> {
    let rec = begin(&state, &id, &req, req.attach_stdin.unwrap_or(false))?;
    Ok(Json(view(&state, &rec, DEFAULT_LAST_N)))
}

/// `POST /v1/devboxes/{id}/execute?last_n=`: runs the command and answers when it is
/// done or after `optimistic_timeout` (at most 25 s), still `running` then. A repeated
/// `command_id` answers the same execution instead of running it again.
async fn execute(
    State(state): State<AppState>,
    Id(id): Id,
    params: Params,
    JsonBody(req): JsonBody<ExecuteParams>,
) -> Result<Json<Execution>> {
    let n = last_n(&params)?;
    let wait = hold(req.optimistic_timeout, MAX_OPTIMISTIC)?;
    let rec = begin(&state, &id, &req, false)?;
    let done = [ExecutionStatus::Completed];
    let (Ok(rec) | Err(rec)) =
        await_done(&state, &id, &rec.id, &done, Instant::now() + wait).await?;
    Ok(Json(view(&state, &rec, n)))
}

/// `POST /v1/devboxes/{id}/execute_sync`: runs the command to the end and answers its
/// whole output (`DevboxExecutionDetailView`).
async fn execute_sync(
    State(state): State<AppState>,
    Id(id): Id,
    JsonBody(req): JsonBody<ExecuteParams>,
) -> Result<Json<ExecutionDetail>> {
    let rec = begin(&state, &id, &req, false)?;
    let done = [ExecutionStatus::Completed];
    // The interpreter stops a command at shell::MAX_RUN; a little more covers its end.
    let deadline = Instant::now() + shell::MAX_RUN + Duration::from_secs(5);
    let rec = match await_done(&state, &id, &rec.id, &done, deadline).await? {
        Ok(rec) => rec,
        Err(rec) => {
            state.runs().kill(&rec.id);
            return Err(Error::Timeout(format!(
                "Command {} did not finish in time",
                rec.id
            )));
        }
    };
    Ok(Json(ExecutionDetail {
        devbox_id: rec.devbox_id,
        stdout: rec.stdout,
        stderr: rec.stderr,
        exit_status: rec.exit_status.unwrap_or(0),
        shell_name: rec.shell_name,
    }))
}

/// The two ids of `/devboxes/{devbox_id}/executions/{execution_id}/…`.
struct ExecIds {
    devbox_id: String,
    execution_id: String,
}

impl<S: Send + Sync> FromRequestParts<S> for ExecIds {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        let axum::extract::Path((devbox_id, execution_id)) =
            axum::extract::Path::<(String, String)>::from_request_parts(parts, state).await?;
        Ok(Self {
            devbox_id,
            execution_id,
        })
    }
}

/// `GET /v1/devboxes/{devbox_id}/executions/{execution_id}?last_n=`.
async fn get_execution(
    State(state): State<AppState>,
    ids: ExecIds,
    params: Params,
) -> Result<Json<Execution>> {
    let n = last_n(&params)?;
    let rec = state.with(|s, _| s.execution(&ids.devbox_id, &ids.execution_id))?;
    Ok(Json(view(&state, &rec, n)))
}

/// Long poll: 200 once the execution's status is one of `statuses`, 408 when the hold
/// (default and at most 25 s) runs out.
async fn wait_for_status(
    State(state): State<AppState>,
    ids: ExecIds,
    params: Params,
    JsonBody(req): JsonBody<WaitForCommand>,
) -> Result<Json<Execution>> {
    let n = last_n(&params)?;
    if req.statuses.is_empty() {
        return Err(Error::BadRequest("statuses must not be empty".into()));
    }
    if req.statuses.contains(&ExecutionStatus::Unknown) {
        return Err(Error::BadRequest(
            "statuses contains an unknown status".into(),
        ));
    }
    let deadline = Instant::now() + hold(req.timeout_seconds, MAX_OPTIMISTIC)?;
    match await_done(
        &state,
        &ids.devbox_id,
        &ids.execution_id,
        &req.statuses,
        deadline,
    )
    .await?
    {
        Ok(rec) => Ok(Json(view(&state, &rec, n))),
        Err(rec) => Err(Error::Timeout(format!(
            "Timeout waiting for status: execution {} is {}",
            rec.id,
            rec.status.as_str()
        ))),
    }
}

/// `POST …/kill`: stops the command (exit 137; what it wrote so far stays) and answers
/// the execution once it has ended. A finished execution is answered as it is.
async fn kill(State(state): State<AppState>, ids: ExecIds) -> Result<Json<Execution>> {
    let rec = state.with(|s, _| s.execution(&ids.devbox_id, &ids.execution_id))?;
    if rec.is_done() || !state.runs().kill(&rec.id) {
        return Ok(Json(view(&state, &rec, DEFAULT_LAST_N)));
    }
    let done = [ExecutionStatus::Completed];
    let deadline = Instant::now() + Duration::from_secs(5);
    let (Ok(rec) | Err(rec)) =
        await_done(&state, &ids.devbox_id, &ids.execution_id, &done, deadline).await?;
    Ok(Json(view(&state, &rec, DEFAULT_LAST_N)))
}

/// Body of `send_std_in`: text or a signal, one of them.
#[derive(Debug, Default, Deserialize)]
struct StdinBody {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    signal: Option<String>,
}

/// `POST …/send_std_in`: text for a command started with `attach_stdin`, or `EOF`
/// (the command starts with everything sent as its stdin) or `INTERRUPT` (killed).
async fn send_std_in(
    State(state): State<AppState>,
    ids: ExecIds,
    OptionalJsonBody(body): OptionalJsonBody<StdinBody>,
) -> Result<Json<Value>> {
    let rec = state.with(|s, _| s.execution(&ids.devbox_id, &ids.execution_id))?;
    let text = body.text.filter(|t| !t.is_empty());
    let accepted = match (text.as_deref(), body.signal.as_deref()) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(Error::BadRequest(
                "give exactly one of a nonempty text and a signal".into(),
            ));
        }
        (Some(text), None) => state.runs().send_stdin(&rec.id, Some(text), false),
        (None, Some("EOF")) => state.runs().send_stdin(&rec.id, None, true),
        (None, Some("INTERRUPT")) => state.runs().kill(&rec.id),
        (None, Some(other)) => {
            return Err(Error::BadRequest(format!(
                "signal must be EOF or INTERRUPT, got {other:?}"
            )));
        }
    };
    if !accepted {
        return Err(Error::BadRequest(format!(
            "Execution {} does not accept stdin (started without attach_stdin, or past EOF)",
            rec.id
        )));
    }
    Ok(Json(json!({
        "devbox_id": rec.devbox_id,
        "execution_id": rec.id,
        "success": true,
    })))
}

/// `GET /v1/devboxes/{id}/logs?execution_id=&shell_name=`: boot lines, launch
/// commands, each execution's output lines and exit code, file uploads — oldest first.
async fn logs(
    State(state): State<AppState>,
    Id(id): Id,
    params: Params,
) -> Result<Json<DevboxLogs>> {
    let execution_id = params.non_empty("execution_id");
    let shell_name = params.non_empty("shell_name");
    let logs = state.with(|s, now| s.devbox_logs(&id, execution_id, shell_name, now))?;
    Ok(Json(DevboxLogs { logs }))
}
