//! Devboxes: their records, the boot (sources, file mounts, launch commands, the boot
//! log), and the status changes the API asks for (update, shutdown, suspend, resume,
//! keep-alive).

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use snapdeck_api::{
    BlueprintStatus, CreateDevbox, Devbox, DevboxList, DevboxStatus, FailureReason,
    LaunchParameters, ShutdownReason, SnapshotStatus, StateTransition, UpdateDevbox,
};

use super::list::{Listed, OrderKey, Paging, list_page, matches_search};
use super::{DevboxLife, LifeClock, Step, Store, log_line, resolve_path};
use crate::db::{Db, Table};
use crate::error::{Error, Result};

/// What `GET /v1/devboxes` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DevboxQuery {
    /// Only devboxes in this status.
    pub status: Option<DevboxStatus>,
    /// An extension rl-cli also sends (`search` or `name`): a case-insensitive substring
    /// of the name or id.
    pub search: Option<String>,
    pub paging: Paging,
}

/// A devbox as stored: its wire view plus what is still to happen to it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DevboxRec {
    /// Creation order, to break ties between equal `create_time_ms`.
    pub seq: u64,
    pub view: Devbox,
    /// Transitions still to come, earliest first.
    #[serde(default)]
    pub steps: VecDeque<Step<DevboxStatus>>,
    /// The blueprint this disk derives from, inherited through snapshots; reported as
    /// `source_blueprint_id` of the devbox's snapshots.
    #[serde(default)]
    pub base_blueprint_id: Option<String>,
    /// Environment, lifecycle timers and boot work (see [`DevboxLife`]).
    #[serde(default)]
    pub life: DevboxLife,
}

impl DevboxRec {
    /// Applies the steps and the lifecycle timer due at `now`; true when anything changed.
    pub(super) fn advance(&mut self, now: i64, clock: &LifeClock, suspend_ms: i64) -> bool {
        let mut changed = self.apply_steps(now, clock);
        if self.fire_timer(now, clock, suspend_ms) {
            // An idle suspend schedules `suspended`, which may be due already.
            self.apply_steps(now, clock);
            changed = true;
        }
        changed
    }

    fn apply_steps(&mut self, now: i64, clock: &LifeClock) -> bool {
        let mut changed = false;
        while let Some(step) = self.steps.front().copied().filter(|s| s.due_ms <= now) {
            if self.held_by_launch() {
                break;
            }
            self.steps.pop_front();
            self.enter(step.status, step.due_ms);
            if step.status == DevboxStatus::Running {
                self.arm_timer(step.due_ms, clock);
            }
            changed = true;
        }
        changed
    }

    /// Records a new status. A failed boot carries its reason and ends the devbox; any
    /// status but `running` disarms the lifecycle timer.
    pub(super) fn enter(&mut self, status: DevboxStatus, at_ms: i64) {
        self.view.status = status;
        let failure_reason = (status == DevboxStatus::Failure)
            .then_some(self.life.boot_failure)
            .flatten();
        if status == DevboxStatus::Failure {
            self.view.failure_reason = failure_reason;
            self.view.end_time_ms = Some(at_ms);
        }
        if status != DevboxStatus::Running {
            self.life.timer = None;
        }
        self.view.state_transitions.push(StateTransition {
            status,
            transition_time_ms: Some(at_ms),
            failure_reason,
        });
    }

    pub(super) fn next_due(&self, clock: &LifeClock) -> Option<i64> {
        // While the launch commands run, the next step waits for `launch_done`.
        let step = (!self.held_by_launch())
            .then(|| self.steps.front().map(|s| s.due_ms))
            .flatten();
        match (step, self.timer_due(clock)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

impl Listed for DevboxRec {
    fn order_key(&self) -> OrderKey {
        (self.view.create_time_ms, self.seq)
    }
}

impl Store {
    pub(super) fn devbox_rec(&self, id: &str) -> Result<&DevboxRec> {
        self.devboxes
            .get(id)
            .ok_or_else(|| Error::not_found("Devbox", id))
    }

    /// `GET /v1/devboxes/{id}`.
    pub fn get_devbox(&self, id: &str) -> Result<Devbox> {
        Ok(self.devbox_rec(id)?.view.clone())
    }

    /// A devbox and the time of its next transition (for long polls).
    pub fn devbox_and_due(&self, id: &str) -> Result<(Devbox, Option<i64>)> {
        let rec = self.devbox_rec(id)?;
        Ok((rec.view.clone(), rec.next_due(&self.clock)))
    }

    /// `GET /v1/devboxes`: newest first, filtered by `query`.
    pub fn list_devboxes(&self, query: &DevboxQuery) -> Result<DevboxList> {
        let items = self
            .devboxes
            .values()
            .filter(|r| query.status.is_none_or(|s| r.view.status == s))
            .filter(|r| {
                query.search.as_deref().is_none_or(|q| {
                    matches_search(q, &[r.view.name.as_deref(), Some(r.view.id.as_str())])
                })
            })
            .collect();
        let page = list_page(&self.devboxes, items, &query.paging, "devbox")?;
        Ok(DevboxList {
            devboxes: page.items.into_iter().map(|r| r.view.clone()).collect(),
            has_more: page.has_more,
            total_count: page.total_count,
        })
    }

    /// `POST /v1/devboxes`.
    pub fn create_devbox(&mut self, req: CreateDevbox, now: i64) -> Result<Devbox> {
        self.create_devbox_with(req, || None, now)
    }

    /// `POST /v1/devboxes`, with a boot that fails with the reason `boot_failure` gives
    /// (asked only once the request is valid, so a refused one uses up no forced failure).
    pub fn create_devbox_with(
        &mut self,
        req: CreateDevbox,
        boot_failure: impl FnOnce() -> Option<FailureReason>,
        now: i64,
    ) -> Result<Devbox> {
        let sources = [
            req.snapshot_id.is_some(),
            req.blueprint_id.is_some(),
            req.blueprint_name.is_some(),
        ];
        if sources.into_iter().filter(|given| *given).count() > 1 {
            return Err(Error::BadRequest(
                "give at most one of snapshot_id, blueprint_id and blueprint_name".into(),
            ));
        }
        let mut blueprint_id = None;
        let mut base_blueprint_id = None;
        if let Some(snapshot_id) = &req.snapshot_id {
            let snap = self
                .snapshots
                .get(snapshot_id)
                .filter(|s| s.is_listed())
                .ok_or_else(|| Error::not_found("Snapshot", snapshot_id))?;
            if snap.status != SnapshotStatus::Complete {
                return Err(Error::BadRequest(format!(
                    "Snapshot {snapshot_id} is not complete (status {})",
                    snap.status
                )));
            }
            base_blueprint_id = snap.view.source_blueprint_id.clone();
        }
        if let Some(id) = &req.blueprint_id {
            let bp = self
                .blueprints
                .get(id)
                .filter(|b| b.is_listed())
                .ok_or_else(|| Error::not_found("Blueprint", id))?;
            if bp.view.status != BlueprintStatus::BuildComplete {
                return Err(Error::BadRequest(format!(
                    "Blueprint {id} has not finished building"
                )));
            }
            blueprint_id = Some(id.clone());
        }
        if let Some(name) = &req.blueprint_name {
            let bp = self
                .blueprints
                .values()
                .filter(|b| {
                    b.is_listed()
                        && b.view.name == *name
                        && b.view.status == BlueprintStatus::BuildComplete
                })
                .max_by_key(|b| (b.view.create_time_ms, b.seq))
                .ok_or_else(|| {
                    Error::NotFound(format!("No successfully built blueprint named {name:?}"))
                })?;
            blueprint_id = Some(bp.view.id.clone());
        }
        if blueprint_id.is_some() {
            base_blueprint_id = blueprint_id.clone();
        }

        let mounted = file_mounts(&req)?;
        let launch_parameters = req.launch_parameters.clone().unwrap_or_default();
        let boot_failure = boot_failure();
        let has_launch_commands = boot_failure.is_none()
            && launch_parameters
                .launch_commands
                .iter()
                .flatten()
                .any(|c| !c.trim().is_empty());
        let mut steps = boot_steps(&launch_parameters, now, self.timings.boot_ms);
        if boot_failure.is_some()
            && let Some(last) = steps.back_mut()
        {
            last.status = DevboxStatus::Failure;
        }
        let first = if is_flex(&launch_parameters) {
            DevboxStatus::Queued
        } else {
            DevboxStatus::Provisioning
        };
        let id = self.new_id("dbx");
        let rec = DevboxRec {
            seq: self.seq(),
            view: Devbox {
                id: id.clone(),
                name: req.name.filter(|n| !n.is_empty()),
                status: first,
                create_time_ms: now,
                end_time_ms: None,
                metadata: req.metadata.unwrap_or_default(),
                launch_parameters,
                capabilities: Vec::new(),
                state_transitions: vec![StateTransition {
                    status: first,
                    transition_time_ms: Some(now),
                    failure_reason: None,
                }],
                blueprint_id,
                snapshot_id: req.snapshot_id.clone(),
                initiator_type: Some("api".into()),
                initiator_id: None,
                failure_reason: None,
                shutdown_reason: None,
            },
            steps,
            base_blueprint_id,
            life: DevboxLife {
                env: req.environment_variables.clone().unwrap_or_default(),
                launch_pending: has_launch_commands,
                timer: None,
                boot_failure,
            },
        };
        let boot_log = boot_log(&rec, &mounted);
        // The record and the disk it boots from land together or not at all.
        self.db.transaction(|db| {
            save_devbox(db, &rec)?;
            if let Some(snapshot_id) = &req.snapshot_id {
                db.copy_files(snapshot_id, &id)?;
            }
            for (path, contents) in &mounted {
                db.write_file(&id, path, contents.as_bytes())?;
            }
            for line in &boot_log {
                db.append_log(&id, line.timestamp_ms, line)?;
            }
            Ok(())
        })?;
        let view = rec.view.clone();
        self.index_devbox(rec);
        Ok(view)
    }

    /// `POST /v1/devboxes/{id}`: patch-like (SDK 1.29): omitted fields stay, `name: ""`
    /// clears the name, a given metadata map replaces the old one.
    pub fn update_devbox(&mut self, id: &str, req: UpdateDevbox) -> Result<Devbox> {
        let mut rec = self.devbox_rec(id)?.clone();
        if let Some(name) = req.name {
            rec.view.name = (!name.is_empty()).then_some(name);
        }
        if let Some(metadata) = req.metadata {
            rec.view.metadata = metadata;
        }
        self.update_devbox_rec(rec)
    }

    fn in_progress_snapshots_of(&self, devbox_id: &str) -> Vec<String> {
        let mut ids: Vec<_> = self
            .snapshots
            .values()
            .filter(|s| {
                s.view.source_devbox_id == devbox_id && s.status == SnapshotStatus::InProgress
            })
            .map(|s| s.view.id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// `POST /v1/devboxes/{id}/shutdown[?force=true]`. 409 while a snapshot of the devbox
    /// is in progress, unless forced; forcing fails those snapshots (the disk they were
    /// copying is discarded). Shutting down a devbox that is already shut down (or failed)
    /// answers its current view: the request's intent is already true.
    pub fn shutdown_devbox(&mut self, id: &str, force: bool, now: i64) -> Result<Devbox> {
        let mut rec = self.devbox_rec(id)?.clone();
        if rec.view.status.is_final() {
            return Ok(rec.view);
        }
        let in_progress = self.in_progress_snapshots_of(id);
        if !in_progress.is_empty() && !force {
            return Err(Error::Conflict(format!(
                "Devbox {id} has snapshots in progress ({}); retry when they finish or pass force=true",
                in_progress.join(", ")
            )));
        }
        rec.steps.clear();
        rec.enter(DevboxStatus::Shutdown, now);
        rec.view.end_time_ms = Some(now);
        rec.view.shutdown_reason = Some(ShutdownReason::ApiShutdown);
        for snap_id in in_progress {
            if let Some(mut snap) = self.snapshots.get(&snap_id).cloned() {
                snap.status = SnapshotStatus::Error;
                snap.due_ms = None;
                snap.will_fail = None;
                snap.error_message =
                    Some("The devbox was shut down before the snapshot completed".into());
                self.update_snapshot_rec(snap)?;
            }
        }
        // The disk is discarded; completed snapshots keep their own copy.
        self.db.delete_files(id)?;
        self.update_devbox_rec(rec)
    }

    /// `POST /v1/devboxes/{id}/suspend`: `running` → `suspending` → `suspended`.
    pub fn suspend_devbox(&mut self, id: &str, now: i64) -> Result<Devbox> {
        let after = self.timings.suspend_ms;
        self.transition(
            id,
            now,
            DevboxStatus::Running,
            DevboxStatus::Suspending,
            DevboxStatus::Suspended,
            after,
        )
    }

    /// `POST /v1/devboxes/{id}/resume`: `suspended` → `resuming` → `running`.
    pub fn resume_devbox(&mut self, id: &str, now: i64) -> Result<Devbox> {
        let after = self.timings.resume_ms;
        self.transition(
            id,
            now,
            DevboxStatus::Suspended,
            DevboxStatus::Resuming,
            DevboxStatus::Running,
            after,
        )
    }

    /// Moves a devbox that is in `from` to `via` now and to `to` after `after_ms`;
    /// 400 "Devbox is not <from>" otherwise, as the API words it.
    fn transition(
        &mut self,
        id: &str,
        now: i64,
        from: DevboxStatus,
        via: DevboxStatus,
        to: DevboxStatus,
        after_ms: i64,
    ) -> Result<Devbox> {
        let mut rec = self.devbox_rec(id)?.clone();
        if rec.view.status != from {
            return Err(Error::BadRequest(format!(
                "Devbox is not {from} (status {})",
                rec.view.status
            )));
        }
        rec.enter(via, now);
        rec.steps.push_back(Step {
            status: to,
            due_ms: now + after_ms,
        });
        self.update_devbox_rec(rec)
    }

    /// `POST /v1/devboxes/{id}/keep_alive`: restarts the devbox's keep-alive or idle
    /// timer (see [`lifecycle`]); 400 for a devbox that is gone for good.
    pub fn keep_alive(&mut self, id: &str, now: i64) -> Result<()> {
        let rec = self.devbox_rec(id)?;
        if rec.view.status.is_final() {
            return Err(Error::BadRequest(format!(
                "Devbox is not running (status {})",
                rec.view.status
            )));
        }
        self.touch(id, true, now)
    }
}

/// The files to place at boot: `file_mounts` (path → contents) and `mounts` of type
/// `file_mount` (`{target, content}`), paths resolved like the file API's.
fn file_mounts(req: &CreateDevbox) -> Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    for (path, contents) in req.file_mounts.iter().flatten() {
        files.push((resolve_path(path)?, contents.clone()));
    }
    for mount in req.mounts.iter().flatten() {
        if mount.get("type").and_then(|t| t.as_str()) != Some("file_mount") {
            continue;
        }
        let target = mount.get("target").and_then(|t| t.as_str());
        let content = mount.get("content").and_then(|t| t.as_str());
        match (target, content) {
            (Some(target), Some(content)) => {
                files.push((resolve_path(target)?, content.to_owned()));
            }
            _ => {
                return Err(Error::BadRequest(
                    "a file_mount needs a target and a content".into(),
                ));
            }
        }
    }
    Ok(files)
}

/// The boot's log lines, each at the time its step is due (the logs endpoint shows a
/// line once its time has come). With launch commands, `running` is logged when they end.
fn boot_log(rec: &DevboxRec, mounted: &[(String, String)]) -> Vec<snapdeck_api::commands::LogLine> {
    let lp = &rec.view.launch_parameters;
    let created = rec.view.create_time_ms;
    let mut lines = vec![log_line(
        "kmsg",
        created,
        format!(
            "Provisioning devbox {} ({}, {})",
            rec.view.id,
            lp.architecture.as_deref().unwrap_or("x86_64"),
            lp.resource_size_request.as_deref().unwrap_or("SMALL")
        ),
    )];
    for (path, contents) in mounted {
        lines.push(log_line(
            "files",
            created,
            format!("Mounted file {path} ({} bytes)", contents.len()),
        ));
    }
    for step in &rec.steps {
        let message = match step.status {
            DevboxStatus::Provisioning => "Assigned to a node; provisioning",
            DevboxStatus::Initializing => "Initializing: running setup",
            DevboxStatus::Running if rec.life.launch_pending => continue,
            DevboxStatus::Running => "Devbox is running",
            DevboxStatus::Failure => "Devbox failed to boot",
            _ => continue,
        };
        lines.push(log_line("kmsg", step.due_ms, message));
    }
    lines
}

fn is_flex(lp: &LaunchParameters) -> bool {
    lp.extra.get("provisioning_tier").and_then(|v| v.as_str()) == Some("flex")
}

/// The boot sequence after creation: (`queued` →) `provisioning` → `initializing` →
/// `running`, the last at `now + boot_ms`.
fn boot_steps(lp: &LaunchParameters, now: i64, boot_ms: i64) -> VecDeque<Step<DevboxStatus>> {
    let mut steps = VecDeque::new();
    if is_flex(lp) {
        steps.push_back(Step {
            status: DevboxStatus::Provisioning,
            due_ms: now + boot_ms / 5,
        });
    }
    steps.push_back(Step {
        status: DevboxStatus::Initializing,
        due_ms: now + boot_ms * 2 / 3,
    });
    steps.push_back(Step {
        status: DevboxStatus::Running,
        due_ms: now + boot_ms,
    });
    steps
}

pub(super) fn save_devbox(db: &Db, rec: &DevboxRec) -> Result<()> {
    db.put(
        Table::Devboxes,
        &rec.view.id,
        rec.seq,
        rec.view.status.as_str(),
        rec.view.create_time_ms,
        rec,
    )
}
