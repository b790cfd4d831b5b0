//! Running a command: each in a task of its own, through [`crate::shell`], recorded in
//! the store when it ends; a new devbox's launch commands one after the other.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use snapdeck_api::Devbox;

use crate::shell::{self, FileChanges, Outcome, Setup};
use crate::state::AppState;
use crate::store::{ExecRec, ExecSource, NewExecution};

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
