//! Commands: `execute`, `execute_async`, `execute_sync`, the executions (`GET`,
//! `wait_for_status`, `kill`, `send_std_in`, the stdout/stderr SSE streams) and the
//! devbox's `logs`.
//!
//! A command is interpreted in-process by [`crate::shell`] over the devbox's emulated
//! disk, never by the host. Each runs as a task of its own: the store keeps its record
//! ([`crate::store::ExecRec`]), [`Runs`] its live output, its kill switch and its stdin;
//! commands of one named shell queue behind each other and carry its state (working
//! directory, variables) from one to the next.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use axum::{Json, Router};
use bashkit::ShellState;
use futures::Stream;
use serde::Deserialize;
use serde_json::{Value, json};
use snapdeck_api::commands::{
    DevboxLogs, ExecuteParams, Execution, ExecutionStatus, WaitForCommand,
};
use snapdeck_api::{Devbox, ExecutionDetail};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::error::{Error, Id, JsonBody, OptionalJsonBody, Params, Result};
use crate::shell::{self, FileChanges, Outcome, Setup};
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

// ---- live state of running commands ----

/// A command while it runs: output so far, kill switch, stdin.
struct Live {
    stdout: String,
    stderr: String,
    cancel: Arc<AtomicBool>,
    /// With `attach_stdin`: what was sent so far, and whether EOF came (the command
    /// starts then, with all of it as its stdin).
    stdin: Option<(String, bool)>,
}

/// One named shell of one devbox: its commands queue on the lock and pass the state on.
type NamedShell = Arc<tokio::sync::Mutex<Option<ShellState>>>;

#[derive(Default)]
struct RunsInner {
    live: HashMap<String, Live>,
    shells: HashMap<(String, String), NamedShell>,
}

/// The commands running now, shared by the handlers and the command tasks.
pub struct Runs {
    inner: Mutex<RunsInner>,
    /// Bumped on new output, stdin and every end, so streams and waits wake.
    changes: watch::Sender<u64>,
}

impl Default for Runs {
    fn default() -> Self {
        Self {
            inner: Mutex::default(),
            changes: watch::channel(0).0,
        }
    }
}

impl Runs {
    fn lock(&self) -> std::sync::MutexGuard<'_, RunsInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn bump(&self) {
        self.changes.send_modify(|v| *v = v.wrapping_add(1));
    }

    fn register(&self, id: &str, attach_stdin: bool) -> Arc<AtomicBool> {
        let cancel = Arc::new(AtomicBool::new(false));
        self.lock().live.insert(
            id.to_owned(),
            Live {
                stdout: String::new(),
                stderr: String::new(),
                cancel: cancel.clone(),
                stdin: attach_stdin.then(|| (String::new(), false)),
            },
        );
        cancel
    }

    fn append(&self, id: &str, out: &str, err: &str) {
        if out.is_empty() && err.is_empty() {
            return;
        }
        if let Some(live) = self.lock().live.get_mut(id) {
            live.stdout.push_str(out);
            live.stderr.push_str(err);
        }
        self.bump();
    }

    fn output(&self, id: &str) -> Option<(String, String)> {
        self.lock()
            .live
            .get(id)
            .map(|l| (l.stdout.clone(), l.stderr.clone()))
    }

    fn finish(&self, id: &str) {
        self.lock().live.remove(id);
        self.bump();
    }

    /// Asks a running command to stop; false when it is not running here.
    pub fn kill(&self, id: &str) -> bool {
        let found = self.lock().live.get(id).map(|l| l.cancel.clone());
        if let Some(cancel) = &found {
            cancel.store(true, Ordering::Relaxed);
            self.bump();
        }
        found.is_some()
    }

    fn shell(&self, devbox_id: &str, name: &str) -> NamedShell {
        self.lock()
            .shells
            .entry((devbox_id.to_owned(), name.to_owned()))
            .or_default()
            .clone()
    }

    /// Forgets a devbox's named shells (it is gone).
    pub fn forget_devbox(&self, devbox_id: &str) {
        self.lock().shells.retain(|(d, _), _| d != devbox_id);
    }

    /// Sends text or EOF to a command started with `attach_stdin`; false when it does
    /// not take stdin (any more).
    fn send_stdin(&self, id: &str, text: Option<&str>, eof: bool) -> bool {
        let mut inner = self.lock();
        let Some((buffer, closed)) = inner.live.get_mut(id).and_then(|l| l.stdin.as_mut()) else {
            return false;
        };
        if *closed {
            return false;
        }
        if let Some(text) = text {
            buffer.push_str(text);
        }
        *closed |= eof;
        drop(inner);
        self.bump();
        true
    }

    /// The stdin once EOF came, or `None` if the command was killed first.
    async fn stdin_at_eof(&self, id: &str, cancel: &AtomicBool) -> Option<String> {
        let mut changes = self.changes.subscribe();
        loop {
            changes.borrow_and_update();
            if cancel.load(Ordering::Relaxed) {
                return None;
            }
            if let Some((text, true)) = self.lock().live.get(id).and_then(|l| l.stdin.clone()) {
                return Some(text);
            }
            if changes.changed().await.is_err() {
                return None;
            }
        }
    }
}

// ---- running ----

/// Starts the command of a new execution record in a task of its own.
pub fn spawn(state: &AppState, rec: &ExecRec) {
    let cancel = state.runs().register(&rec.id, rec.attach_stdin);
    let state = state.clone();
    let rec = rec.clone();
    tokio::spawn(async move { run_and_record(&state, &rec, &cancel).await });
}

/// Runs a registered command to its end and records how it ended.
async fn run_and_record(state: &AppState, rec: &ExecRec, cancel: &Arc<AtomicBool>) {
    let outcome = run(state, rec, cancel).await;
    if let Err(e) = state.with(|s, now| s.finish_execution(&rec.id, &outcome, now)) {
        tracing::warn!(error = %e, execution = %rec.id, "could not record the end of a command");
    }
    state.runs().finish(&rec.id);
}

/// Runs a new devbox's `launch_parameters.launch_commands` one after the other, through
/// the interpreter like any command (logged as `setup_commands`), then lets its boot
/// reach `running`. A failing launch command is logged with its exit code and does not
/// fail the boot (`fail_next_boots` is the way to exercise a failed boot).
pub fn start_launch_commands(state: &AppState, devbox: &Devbox) {
    let commands: Vec<String> = devbox
        .launch_parameters
        .launch_commands
        .iter()
        .flatten()
        .filter(|c| !c.trim().is_empty())
        .cloned()
        .collect();
    if commands.is_empty() {
        return;
    }
    let state = state.clone();
    let devbox_id = devbox.id.clone();
    tokio::spawn(async move {
        for command in &commands {
            let new_exec = NewExecution {
                devbox_id: &devbox_id,
                command,
                shell_name: None,
                command_id: None,
                attach_stdin: false,
                source: ExecSource::SetupCommands,
            };
            let Ok((rec, _)) = state.with(|s, now| s.begin_execution(new_exec, now)) else {
                // The devbox went away (shut down while booting): nothing more to run.
                break;
            };
            let cancel = state.runs().register(&rec.id, false);
            run_and_record(&state, &rec, &cancel).await;
        }
        if let Err(e) = state.with(|s, now| s.launch_done(&devbox_id, now)) {
            tracing::warn!(error = %e, devbox = %devbox_id, "could not finish a boot");
        }
    });
}

fn killed(stdout: String, stderr: String) -> Outcome {
    Outcome {
        exit_code: 137,
        stdout,
        stderr: stderr + "Killed\n",
        stdout_truncated: false,
        stderr_truncated: false,
        changes: FileChanges::default(),
        state: None,
    }
}

async fn run(state: &AppState, rec: &ExecRec, cancel: &Arc<AtomicBool>) -> Outcome {
    let runs = state.runs().clone();
    // A named shell runs one command at a time, in order, each from where the last left.
    let shell = rec
        .shell_name
        .as_deref()
        .map(|name| runs.shell(&rec.devbox_id, name));
    let mut guard = match &shell {
        Some(shell) => Some(shell.lock().await),
        None => None,
    };
    let stdin = if rec.attach_stdin {
        match runs.stdin_at_eof(&rec.id, cancel).await {
            Some(text) => Some(text),
            None => return killed(String::new(), String::new()),
        }
    } else {
        None
    };
    if cancel.load(Ordering::Relaxed) {
        return killed(String::new(), String::new());
    }
    let start = match state.with(|s, _| s.start_execution(&rec.id)) {
        Ok(start) => start,
        Err(e) => {
            return Outcome {
                exit_code: 1,
                stdout: String::new(),
                stderr: format!("{e}\n"),
                stdout_truncated: false,
                stderr_truncated: false,
                changes: FileChanges::default(),
                state: None,
            };
        }
    };
    let setup = Setup {
        files: start.files,
        state: guard.as_ref().and_then(|g| (**g).clone()),
        env: start.env,
        stdin,
        hostname: rec.devbox_id.clone(),
    };
    let sink = runs.clone();
    let id = rec.id.clone();
    let outcome = shell::run(
        &rec.command,
        setup,
        cancel.clone(),
        Box::new(move |out, err| sink.append(&id, out, err)),
    )
    .await;
    if let (Some(guard), Some(next)) = (guard.as_mut(), outcome.state.clone()) {
        **guard = Some(next);
    }
    outcome
}

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
    let mut runs = state.runs().changes.subscribe();
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

#[derive(Clone, Copy)]
enum Which {
    Stdout,
    Stderr,
}

async fn stream_stdout(
    State(state): State<AppState>,
    ids: ExecIds,
    params: Params,
) -> Result<Sse<impl Stream<Item = std::result::Result<Event, Infallible>>>> {
    stream(state, ids, params, Which::Stdout)
}

async fn stream_stderr(
    State(state): State<AppState>,
    ids: ExecIds,
    params: Params,
) -> Result<Sse<impl Stream<Item = std::result::Result<Event, Infallible>>>> {
    stream(state, ids, params, Which::Stderr)
}

/// `GET …/stream_{stdout,stderr}_updates?offset=N`: server-sent events
/// `{"output": "…", "offset": M}` with the stream's text from byte `N` on, as it is
/// written, until the command ends. `offset` is where the chunk ends, so a reconnect
/// with it resumes without repeating anything.
fn stream(
    state: AppState,
    ids: ExecIds,
    params: Params,
    which: Which,
) -> Result<Sse<impl Stream<Item = std::result::Result<Event, Infallible>>>> {
    let offset: usize = match params.non_empty("offset") {
        None => 0,
        Some(v) => v
            .parse()
            .map_err(|_| Error::BadRequest(format!("offset must be a byte offset, got {v:?}")))?,
    };
    // 404 before the stream starts, as a JSON error.
    state.with(|s, _| s.execution(&ids.devbox_id, &ids.execution_id))?;
    let changes = state.subscribe();
    let runs = state.runs().changes.subscribe();
    let init = (state, ids, offset, changes, runs);
    let events = futures::stream::unfold(
        init,
        move |(state, ids, mut offset, mut changes, mut runs)| async move {
            loop {
                changes.borrow_and_update();
                runs.borrow_and_update();
                let rec = state
                    .with(|s, _| s.execution(&ids.devbox_id, &ids.execution_id))
                    .ok()?;
                let done = rec.is_done();
                let text = if done {
                    match which {
                        Which::Stdout => rec.stdout.clone(),
                        Which::Stderr => rec.stderr.clone(),
                    }
                } else {
                    let (out, err) = state.runs().output(&rec.id).unwrap_or_default();
                    match which {
                        Which::Stdout => out,
                        Which::Stderr => err,
                    }
                };
                if text.len() > offset {
                    let chunk = String::from_utf8_lossy(&text.as_bytes()[offset..]).into_owned();
                    offset = text.len();
                    let event = Event::default()
                        .json_data(json!({"output": chunk, "offset": offset}))
                        .unwrap_or_default();
                    return Some((Ok(event), (state, ids, offset, changes, runs)));
                }
                if done {
                    return None;
                }
                tokio::select! {
                    _ = changes.changed() => {}
                    _ = runs.changed() => {}
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        },
    );
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
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
