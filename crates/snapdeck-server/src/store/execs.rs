//! Commands run on devboxes (`execute*`) as stored records, and the devbox logs they
//! write. The running itself happens outside the store lock ([`crate::executions`]); the
//! store holds the records, hands out the disk a command starts from, and applies what
//! it changed when it ends.

use serde::{Deserialize, Serialize};
use snapdeck_api::commands::{Execution, ExecutionStatus, LogLine};
use snapdeck_api::{DevboxStatus, Metadata};

use super::{DevboxRec, Store};
use crate::db::{Db, Table};
use crate::error::{Error, Result};
use crate::shell::{FileChanges, Outcome};

/// Lines of stdout/stderr an execution answers when the caller does not say (`last_n`).
pub const DEFAULT_LAST_N: usize = 100;

/// What a devbox carries beyond its wire view (all defaulted, so older rows load).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DevboxLife {
    /// `environment_variables` from create: every command sees them.
    #[serde(default)]
    pub env: Metadata,
    /// `launch_commands` still running: the boot holds before `running` until they end.
    #[serde(default)]
    pub launch_pending: bool,
    /// The armed keep-alive or idle timer, while running.
    #[serde(default)]
    pub timer: Option<super::LifeTimer>,
    /// Set when the boot is to fail (`fail_next_boots`): the reason it ends with.
    #[serde(default)]
    pub boot_failure: Option<snapdeck_api::FailureReason>,
}

/// Where an execution came from, which is where its log lines say they came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecSource {
    #[default]
    Exec,
    /// A `launch_parameters.launch_commands` entry run at boot.
    SetupCommands,
}

impl ExecSource {
    fn as_str(self) -> &'static str {
        match self {
            Self::Exec => "exec",
            Self::SetupCommands => "setup_commands",
        }
    }
}

/// One command as stored: the request, its status, and (once finished) its whole
/// output, up to [`crate::shell::MAX_OUTPUT_BYTES`] a stream.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExecRec {
    pub seq: u64,
    pub id: String,
    pub devbox_id: String,
    pub command: String,
    #[serde(default)]
    pub command_id: Option<String>,
    #[serde(default)]
    pub shell_name: Option<String>,
    pub status: ExecutionStatus,
    #[serde(default)]
    pub exit_status: Option<i32>,
    #[serde(default)]
    pub stdout: String,
    #[serde(default)]
    pub stderr: String,
    #[serde(default)]
    pub stdout_truncated: bool,
    #[serde(default)]
    pub stderr_truncated: bool,
    pub create_time_ms: i64,
    #[serde(default)]
    pub end_time_ms: Option<i64>,
    #[serde(default)]
    pub attach_stdin: bool,
    #[serde(default)]
    pub source: ExecSource,
}

/// The last `n` lines of `text`, and whether earlier ones were left out.
pub fn last_lines(text: &str, n: usize) -> (String, bool) {
    if n == 0 {
        return (String::new(), !text.is_empty());
    }
    // Positions just after each newline, except a final one (it ends the last line).
    let body = text.strip_suffix('\n').unwrap_or(text);
    match body.rmatch_indices('\n').nth(n - 1) {
        Some((i, _)) => (text[i + 1..].to_owned(), true),
        None => (text.to_owned(), false),
    }
}

impl ExecRec {
    /// The wire view with the last `last_n` lines of each stream. While it runs, the
    /// output so far comes from `live`.
    pub fn view(&self, last_n: usize, live: Option<(&str, &str)>) -> Execution {
        let (out, err) = live.unwrap_or((&self.stdout, &self.stderr));
        let (stdout, out_cut) = last_lines(out, last_n);
        let (stderr, err_cut) = last_lines(err, last_n);
        Execution {
            devbox_id: self.devbox_id.clone(),
            execution_id: self.id.clone(),
            status: self.status,
            exit_status: self.exit_status,
            stdout: Some(stdout),
            stderr: Some(stderr),
            stdout_truncated: Some(out_cut || self.stdout_truncated),
            stderr_truncated: Some(err_cut || self.stderr_truncated),
            shell_name: self.shell_name.clone(),
        }
    }

    /// Whether it is done (`completed`).
    pub fn is_done(&self) -> bool {
        self.status == ExecutionStatus::Completed
    }
}

/// A command to record ([`Store::begin_execution`]).
#[derive(Debug, Clone, Copy)]
pub struct NewExecution<'a> {
    pub devbox_id: &'a str,
    pub command: &'a str,
    pub shell_name: Option<&'a str>,
    /// `execute`'s idempotency key.
    pub command_id: Option<&'a str>,
    pub attach_stdin: bool,
    pub source: ExecSource,
}

/// What a command starts from, read from the store when it actually starts.
#[derive(Debug, Clone)]
pub struct ExecStart {
    pub files: Vec<(String, Vec<u8>)>,
    pub env: Metadata,
}

/// A log line the emulator writes.
pub fn log_line(source: &str, at_ms: i64, message: impl Into<String>) -> LogLine {
    LogLine {
        level: "info".into(),
        source: source.into(),
        timestamp_ms: at_ms,
        cmd: None,
        cmd_id: None,
        exit_code: None,
        message: Some(message.into()),
        shell_name: None,
    }
}

impl Store {
    fn exec_rec(&self, devbox_id: &str, id: &str) -> Result<&ExecRec> {
        self.devbox_rec(devbox_id)?;
        self.executions
            .get(id)
            .filter(|e| e.devbox_id == devbox_id)
            .ok_or_else(|| Error::not_found("Execution", id))
    }

    /// An execution of a devbox (404 for an unknown one, or one of another devbox).
    pub fn execution(&self, devbox_id: &str, id: &str) -> Result<ExecRec> {
        self.exec_rec(devbox_id, id).cloned()
    }

    /// Records a new command on a devbox. `execute`'s `command_id` makes a retry find
    /// the first execution instead of running the command twice (`false` = not new).
    /// Commands need a `running` devbox, except the launch commands run while it boots.
    pub fn begin_execution(&mut self, req: NewExecution<'_>, now: i64) -> Result<(ExecRec, bool)> {
        let NewExecution {
            devbox_id,
            command,
            shell_name,
            command_id,
            attach_stdin,
            source,
        } = req;
        let devbox = self.devbox_rec(devbox_id)?;
        let booting = matches!(
            devbox.view.status,
            DevboxStatus::Provisioning | DevboxStatus::Initializing | DevboxStatus::Queued
        );
        if devbox.view.status != DevboxStatus::Running
            && !(source == ExecSource::SetupCommands && booting)
        {
            return Err(Error::BadRequest(format!(
                "Devbox is not running (status {})",
                devbox.view.status
            )));
        }
        if command.trim().is_empty() {
            return Err(Error::BadRequest("command must not be empty".into()));
        }
        if let Some(cid) = command_id
            && let Some(found) = self
                .executions
                .values()
                .find(|e| e.devbox_id == devbox_id && e.command_id.as_deref() == Some(cid))
        {
            return Ok((found.clone(), false));
        }
        let rec = ExecRec {
            seq: self.seq(),
            id: self.new_id("exe"),
            devbox_id: devbox_id.to_owned(),
            command: command.to_owned(),
            command_id: command_id.map(str::to_owned),
            shell_name: shell_name.filter(|s| !s.is_empty()).map(str::to_owned),
            status: ExecutionStatus::Queued,
            exit_status: None,
            stdout: String::new(),
            stderr: String::new(),
            stdout_truncated: false,
            stderr_truncated: false,
            create_time_ms: now,
            end_time_ms: None,
            attach_stdin,
            source,
        };
        save_execution(&self.db, &rec)?;
        self.executions.insert(rec.id.clone(), rec.clone());
        self.dirty = true;
        if source == ExecSource::Exec {
            self.touch(devbox_id, false, now)?;
        }
        Ok((rec, true))
    }

    /// Marks an execution `running` and hands out the disk and environment it starts
    /// with, as they are now.
    pub fn start_execution(&mut self, id: &str) -> Result<ExecStart> {
        let mut rec = self
            .executions
            .get(id)
            .cloned()
            .ok_or_else(|| Error::not_found("Execution", id))?;
        let devbox = self.devbox_rec(&rec.devbox_id)?;
        let env = devbox.life.env.clone();
        let files = self.db.list_files(&rec.devbox_id)?;
        rec.status = ExecutionStatus::Running;
        save_execution(&self.db, &rec)?;
        self.executions.insert(rec.id.clone(), rec);
        self.dirty = true;
        Ok(ExecStart { files, env })
    }

    /// Ends an execution: its changes land on the disk (unless the devbox is gone by
    /// now: a shut-down devbox's disk is discarded), its record says `completed`, and
    /// its output goes to the devbox's logs.
    pub fn finish_execution(&mut self, id: &str, outcome: &Outcome, now: i64) -> Result<ExecRec> {
        let mut rec = self
            .executions
            .get(id)
            .cloned()
            .ok_or_else(|| Error::not_found("Execution", id))?;
        let disk_alive = self
            .devboxes
            .get(&rec.devbox_id)
            .is_some_and(|d| !d.view.status.is_final());
        rec.status = ExecutionStatus::Completed;
        rec.exit_status = Some(outcome.exit_code);
        rec.stdout.clone_from(&outcome.stdout);
        rec.stderr.clone_from(&outcome.stderr);
        rec.stdout_truncated = outcome.stdout_truncated;
        rec.stderr_truncated = outcome.stderr_truncated;
        rec.end_time_ms = Some(now);
        let lines = exec_log_lines(&rec, now);
        let Self { db, .. } = self;
        db.transaction(|db| {
            if disk_alive {
                apply_changes(db, &rec.devbox_id, &outcome.changes)?;
            }
            save_execution(db, &rec)?;
            for line in &lines {
                db.append_log(&rec.devbox_id, line.timestamp_ms, line)?;
            }
            Ok(())
        })?;
        self.executions.insert(rec.id.clone(), rec.clone());
        self.dirty = true;
        Ok(rec)
    }

    /// Ids of the executions of a devbox that have not finished.
    pub fn unfinished_executions(&self, devbox_id: &str) -> Vec<String> {
        self.executions
            .values()
            .filter(|e| e.devbox_id == devbox_id && !e.is_done())
            .map(|e| e.id.clone())
            .collect()
    }

    /// Appends a line to a devbox's logs (shown once its time has come).
    pub fn log(&self, devbox_id: &str, line: &LogLine) -> Result<()> {
        self.db.append_log(devbox_id, line.timestamp_ms, line)
    }

    /// `GET /v1/devboxes/{id}/logs`: every line up to now, oldest first; `execution_id`
    /// keeps one execution's lines, `shell_name` one named shell's.
    pub fn devbox_logs(
        &self,
        devbox_id: &str,
        execution_id: Option<&str>,
        shell_name: Option<&str>,
        now: i64,
    ) -> Result<Vec<LogLine>> {
        self.devbox_rec(devbox_id)?;
        if let Some(id) = execution_id {
            self.exec_rec(devbox_id, id)?;
        }
        let lines: Vec<LogLine> = self.db.logs(devbox_id, now)?;
        Ok(lines
            .into_iter()
            .filter(|l| execution_id.is_none_or(|id| l.cmd_id.as_deref() == Some(id)))
            .filter(|l| shell_name.is_none_or(|s| l.shell_name.as_deref() == Some(s)))
            .collect())
    }

    /// After a restart nothing is running any more: executions that were are ended as
    /// killed (their changes to the disk are lost, as a crashed process's would be).
    pub(super) fn end_interrupted_executions(&mut self, now: i64) -> Result<()> {
        let interrupted: Vec<String> = self
            .executions
            .values()
            .filter(|e| !e.is_done())
            .map(|e| e.id.clone())
            .collect();
        for id in interrupted {
            let outcome = Outcome {
                exit_code: 137,
                stdout: String::new(),
                stderr: "Killed: snapdeck-server restarted while the command ran\n".into(),
                stdout_truncated: false,
                stderr_truncated: false,
                changes: FileChanges::default(),
                state: None,
            };
            self.finish_execution(&id, &outcome, now)?;
        }
        Ok(())
    }
}

impl DevboxRec {
    /// Whether the next step waits for the launch commands (so it is not due yet).
    pub(super) fn held_by_launch(&self) -> bool {
        self.life.launch_pending
            && self
                .steps
                .front()
                .is_some_and(|s| s.status == DevboxStatus::Running)
    }
}

impl Store {
    /// The launch commands of a devbox have ended: the boot goes on to `running` (now,
    /// or when it was due anyway if that is later).
    pub fn launch_done(&mut self, devbox_id: &str, now: i64) -> Result<()> {
        let Some(mut rec) = self.devboxes.get(devbox_id).cloned() else {
            return Ok(());
        };
        if !rec.life.launch_pending {
            return Ok(());
        }
        rec.life.launch_pending = false;
        let mut running_at = None;
        if let Some(step) = rec.steps.front_mut()
            && step.status == DevboxStatus::Running
        {
            step.due_ms = step.due_ms.max(now);
            running_at = Some(step.due_ms);
        }
        if let Some(at) = running_at {
            self.log(devbox_id, &log_line("kmsg", at, "Devbox is running"))?;
        }
        self.update_devbox_rec(rec)?;
        Ok(())
    }
}

fn apply_changes(db: &Db, owner: &str, changes: &FileChanges) -> Result<()> {
    for path in &changes.removed {
        db.remove_file(owner, path)?;
    }
    for (path, contents) in &changes.written {
        db.write_file(owner, path, contents)?;
    }
    Ok(())
}

/// The log lines of a finished execution: one per output line, then its exit code.
fn exec_log_lines(rec: &ExecRec, now: i64) -> Vec<LogLine> {
    let line = |level: &str, message: Option<String>, exit_code: Option<i32>| LogLine {
        level: level.into(),
        source: rec.source.as_str().into(),
        timestamp_ms: now,
        cmd: Some(rec.command.clone()),
        cmd_id: Some(rec.id.clone()),
        exit_code,
        message,
        shell_name: rec.shell_name.clone(),
    };
    let mut lines: Vec<LogLine> = rec
        .stdout
        .lines()
        .map(|l| line("info", Some(l.to_owned()), None))
        .chain(
            rec.stderr
                .lines()
                .map(|l| line("error", Some(l.to_owned()), None)),
        )
        .collect();
    lines.push(line("info", None, rec.exit_status));
    lines
}

fn save_execution(db: &Db, rec: &ExecRec) -> Result<()> {
    db.put(
        Table::Executions,
        &rec.id,
        rec.seq,
        rec.status.as_str(),
        rec.create_time_ms,
        rec,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;
    use crate::store::Timings;
    use snapdeck_api::CreateDevbox;

    #[test]
    fn an_execution_running_at_a_restart_is_completed_as_killed_and_changes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (devbox, exec) = {
            let mut store =
                Store::open(Db::open(Some(dir.path())).expect("db"), Timings::default())
                    .expect("store");
            let dbx = store
                .create_devbox(CreateDevbox::default(), 1_000)
                .expect("create");
            store.tick(1_000_000).expect("boot");
            let new_exec = NewExecution {
                devbox_id: &dbx.id,
                command: "sleep 60",
                shell_name: None,
                command_id: Some("c1"),
                attach_stdin: false,
                source: ExecSource::Exec,
            };
            let (rec, new) = store.begin_execution(new_exec, 1_000_001).expect("begin");
            assert!(new);
            store.start_execution(&rec.id).expect("start");
            (dbx.id, rec.id)
            // The store is dropped here with the command still running.
        };
        let store = Store::open(Db::open(Some(dir.path())).expect("db"), Timings::default())
            .expect("reopen");
        let rec = store.execution(&devbox, &exec).expect("kept");
        assert_eq!(rec.status, ExecutionStatus::Completed);
        assert_eq!(rec.exit_status, Some(137));
        assert!(rec.stderr.contains("restarted"), "{}", rec.stderr);
        assert_eq!(store.unfinished_executions(&devbox), Vec::<String>::new());
    }

    #[test]
    fn last_lines_keeps_the_tail_and_says_when_it_cut() {
        assert_eq!(last_lines("a\nb\nc\n", 2), ("b\nc\n".into(), true));
        assert_eq!(last_lines("a\nb\nc", 2), ("b\nc".into(), true));
        assert_eq!(last_lines("a\nb\n", 2), ("a\nb\n".into(), false));
        assert_eq!(last_lines("a\nb\n", 100), ("a\nb\n".into(), false));
        assert_eq!(last_lines("", 3), (String::new(), false));
        assert_eq!(last_lines("x\n", 0), (String::new(), true));
    }
}
