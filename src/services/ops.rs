//! The operations tray's model: long work (snapshots, restores, cleanups) as a list of
//! [`Operation`]s that outlives pages and reloads.
//!
//! The list is saved to localStorage after every change. On start the app calls
//! [`Ops::resume`], which picks up every operation still marked running: a snapshot
//! watch continues on its schedule (snapdeck-core's [`SnapshotWatch`] depends only on
//! the start time, so it resumes exactly where it was), a restore keeps waiting for its
//! devbox.

use std::collections::HashMap;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};
use snapdeck_api::{CreateDevbox, DevboxStatus, SnapshotParams, SnapshotStatus};
use snapdeck_core::{BulkRun, SnapshotWatch, WatchStep};

use crate::api::{Api, ApiError, api_message};
use crate::hooks::use_now::now_ms;
use crate::hooks::use_refresh::DataVersion;
use crate::hooks::use_statuses::Statuses;
use crate::hooks::use_toasts::{Toasts, Tone};
use crate::services::audit::AuditLog;
use crate::services::run_events::{RunEvent, RunEvents};
use crate::services::seen::Seen;
use crate::storage::{self, Area};
use snapdeck_core::audit::{Action, Outcome};

const STORAGE_KEY: &str = "snapdeck.ops";
/// Finished operations kept (running ones are always kept).
const KEEP_FINISHED: usize = 30;

/// What an operation does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OpKind {
    /// A disk snapshot of a devbox. `watch` is set once the API accepted it.
    Snapshot {
        devbox_id: String,
        devbox_label: String,
        name: Option<String>,
        watch: Option<SnapshotWatch>,
    },
    /// A new devbox from a snapshot, followed until it runs.
    Restore {
        snapshot_id: String,
        snapshot_label: String,
        name: Option<String>,
        from_devbox_id: String,
        shutdown_old: bool,
        new_devbox_id: Option<String>,
    },
    /// A bulk delete or policy cleanup (driven by `services::bulk_runs`; the tray shows
    /// progress, and Undo while the run is in its undo window).
    Cleanup {
        label: String,
        total: usize,
        done: usize,
        failed: usize,
        /// The bulk run's key (for Undo).
        #[serde(default)]
        key: Option<String>,
        /// When its undo window ends (unix ms): nothing is sent before.
        #[serde(default)]
        starts_at_ms: Option<i64>,
    },
}

/// Where an operation is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum OpState {
    Running,
    Done { at_ms: i64, note: Option<String> },
    Failed { at_ms: i64, message: String },
}

/// One entry of the tray.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    pub id: u64,
    pub kind: OpKind,
    pub started_at_ms: i64,
    pub state: OpState,
}

impl Operation {
    /// Still going.
    pub fn is_running(&self) -> bool {
        self.state == OpState::Running
    }
}

/// The operations list and what runs them.
#[derive(Clone, Copy)]
pub struct Ops {
    list: RwSignal<Vec<Operation>>,
    api: Api,
    statuses: Statuses,
    seen: Seen,
    version: DataVersion,
    toasts: Toasts,
    audit: AuditLog,
}

/// Installs the list (app root), restored from localStorage.
pub fn provide_ops(
    api: Api,
    statuses: Statuses,
    seen: Seen,
    version: DataVersion,
    toasts: Toasts,
    audit: AuditLog,
) -> Ops {
    let list: Vec<Operation> = storage::get_json(Area::Local, STORAGE_KEY).unwrap_or_default();
    let ops = Ops {
        list: RwSignal::new(list),
        api,
        statuses,
        seen,
        version,
        toasts,
        audit,
    };
    provide_context(ops);
    ops
}

/// The operations list from context.
pub fn use_ops() -> Ops {
    expect_context::<Ops>()
}

impl Ops {
    /// All operations, newest first (tracked).
    pub fn list(&self) -> Signal<Vec<Operation>> {
        self.list.into()
    }

    fn save(&self) {
        self.list
            .with_untracked(|l| storage::set_json(Area::Local, STORAGE_KEY, l));
    }

    fn push(&self, kind: OpKind) -> u64 {
        let now = now_ms();
        let id = self
            .list
            .with_untracked(|l| l.iter().map(|o| o.id).max().unwrap_or(0).max(now as u64) + 1);
        self.list.update(|l| {
            l.insert(
                0,
                Operation {
                    id,
                    kind,
                    started_at_ms: now,
                    state: OpState::Running,
                },
            );
            // Trim finished ones beyond the limit.
            let mut finished = 0;
            l.retain(|o| {
                if o.is_running() {
                    return true;
                }
                finished += 1;
                finished <= KEEP_FINISHED
            });
        });
        self.save();
        id
    }

    fn update(&self, id: u64, f: impl FnOnce(&mut Operation)) {
        if self.list.is_disposed() {
            return;
        }
        self.list.update(|l| {
            if let Some(op) = l.iter_mut().find(|o| o.id == id) {
                f(op);
            }
        });
        self.save();
    }

    /// The operation `id` (tracked: a view or effect reading it follows its state).
    pub fn watch_op(&self, id: u64) -> Option<Operation> {
        self.list.with(|l| l.iter().find(|o| o.id == id).cloned())
    }

    fn get(&self, id: u64) -> Option<Operation> {
        self.list
            .with_untracked(|l| l.iter().find(|o| o.id == id).cloned())
    }

    fn finish(&self, id: u64, state: OpState) {
        self.update(id, |o| o.state = state);
        self.version.bump();
    }

    /// Removes a finished operation from the tray.
    pub fn dismiss(&self, id: u64) {
        self.list
            .update(|l| l.retain(|o| o.id != id || o.is_running()));
        self.save();
    }

    /// Removes every finished operation.
    pub fn clear_finished(&self) {
        self.list.update(|l| l.retain(Operation::is_running));
        self.save();
    }

    /// Continues every operation that was running when the page was last closed.
    pub fn resume(&self) {
        let running: Vec<Operation> = self
            .list
            .with_untracked(|l| l.iter().filter(|o| o.is_running()).cloned().collect());
        for op in running {
            match op.kind {
                OpKind::Snapshot { watch: Some(_), .. } => self.spawn_watch(op.id),
                OpKind::Snapshot { watch: None, .. } => self.finish(
                    op.id,
                    OpState::Failed {
                        at_ms: now_ms(),
                        message:
                            "Interrupted before the API answered; check the devbox's timeline."
                                .into(),
                    },
                ),
                OpKind::Restore { .. } => self.spawn_restore(op.id),
                // The bulk run itself resumes (services::bulk_runs::resume_all), with a
                // tray entry of its own; this one only says where it went.
                OpKind::Cleanup { .. } => self.finish(
                    op.id,
                    OpState::Done {
                        at_ms: now_ms(),
                        note: Some("interrupted by a reload; resumed as a new entry".into()),
                    },
                ),
            }
        }
    }

    // ---- snapshots ----

    /// Starts a snapshot of `devbox_id` and watches it to the end; the operation's id.
    pub fn start_snapshot(
        &self,
        devbox_id: String,
        devbox_label: String,
        params: SnapshotParams,
    ) -> u64 {
        let id = self.push(OpKind::Snapshot {
            devbox_id: devbox_id.clone(),
            devbox_label,
            name: params.name.clone(),
            watch: None,
        });
        let this = *self;
        spawn_local(async move {
            match this.api.snapshot_async(&devbox_id, &params).await {
                Ok(snap) => {
                    // The estimate from this devbox's earlier snapshots shapes the
                    // schedule (dense around the expected end); it rides in the watch.
                    let started = now_ms();
                    let expected = this.seen.estimate_for(&devbox_id);
                    this.seen
                        .observe(&snap.id, &devbox_id, started, SnapshotStatus::InProgress);
                    let watch = SnapshotWatch::new(snap.id.clone(), Some(devbox_id), started)
                        .with_estimate(expected);
                    this.update(id, |o| {
                        if let OpKind::Snapshot { watch: w, .. } = &mut o.kind {
                            *w = Some(watch);
                        }
                    });
                    this.statuses
                        .record(&snap.id, SnapshotStatus::InProgress, None);
                    this.version.bump();
                    this.watch(id).await;
                }
                Err(e) => {
                    let message = api_message(&e);
                    this.toasts
                        .push(Tone::Err, format!("Snapshot could not start: {message}"));
                    this.finish(
                        id,
                        OpState::Failed {
                            at_ms: now_ms(),
                            message,
                        },
                    );
                }
            }
        });
        id
    }

    fn spawn_watch(&self, id: u64) {
        let this = *self;
        spawn_local(async move { this.watch(id).await });
    }

    /// Polls on snapdeck-core's schedule until the snapshot is final.
    async fn watch(&self, id: u64) {
        loop {
            let Some(op) = self.get(id) else { return };
            let OpKind::Snapshot {
                watch: Some(watch),
                name,
                ..
            } = op.kind
            else {
                return;
            };
            let label = name.unwrap_or_else(|| watch.snapshot_id.clone());
            let step = match watch.next_poll(now_ms()) {
                WatchStep::PollIn(ms) => {
                    sleep_ms(ms).await;
                    match self.api.snapshot_status(&watch.snapshot_id).await {
                        Ok(view) => {
                            self.see(&watch, &view);
                            watch.observe(&view, now_ms())
                        }
                        // A failed poll is not the snapshot failing: keep to the schedule.
                        Err(e) if e.is_not_found() => WatchStep::Deleted,
                        Err(_) => continue,
                    }
                }
                other => other,
            };
            let at_ms = now_ms();
            match step {
                WatchStep::PollIn(_) => continue,
                WatchStep::Complete(_) => {
                    self.audit.record_action(
                        Action::CreateSnapshot,
                        &watch.snapshot_id,
                        Some(label.clone()),
                        watch.devbox_id.clone(),
                        Outcome::Done,
                        None,
                    );
                    self.statuses
                        .record(&watch.snapshot_id, SnapshotStatus::Complete, None);
                    self.toasts
                        .push(Tone::Ok, format!("Snapshot “{label}” is complete."));
                    self.finish(id, OpState::Done { at_ms, note: None });
                }
                WatchStep::Failed(message) => {
                    self.audit.record_action(
                        Action::CreateSnapshot,
                        &watch.snapshot_id,
                        Some(label.clone()),
                        watch.devbox_id.clone(),
                        Outcome::Failed,
                        Some(message.clone()),
                    );
                    self.statuses.record(
                        &watch.snapshot_id,
                        SnapshotStatus::Error,
                        Some(message.clone()),
                    );
                    self.toasts
                        .push(Tone::Err, format!("Snapshot “{label}” failed: {message}"));
                    self.finish(id, OpState::Failed { at_ms, message });
                }
                WatchStep::Deleted => {
                    self.finish(
                        id,
                        OpState::Failed {
                            at_ms,
                            message: "The snapshot was deleted while it was being watched.".into(),
                        },
                    );
                }
                WatchStep::TimedOut => {
                    self.finish(
                        id,
                        OpState::Failed {
                            at_ms,
                            message: "Still not finished after 30 min; stopped watching.".into(),
                        },
                    );
                }
            }
            return;
        }
    }

    /// Tells the last-seen record what a poll said (durations for later estimates).
    fn see(&self, watch: &SnapshotWatch, view: &snapdeck_api::SnapshotStatusView) {
        let devbox = watch.devbox_id.clone().unwrap_or_default();
        self.seen.observe(
            &watch.snapshot_id,
            &devbox,
            watch.started_at_ms,
            view.status,
        );
        if let Some(s) = &view.snapshot {
            self.seen.remember(s, Some(view.status));
        }
    }

    // ---- restores ----

    /// Creates a devbox from `snapshot_id`, follows it to running, and optionally shuts
    /// `from_devbox_id` down once it runs.
    pub fn start_restore(
        &self,
        snapshot_id: String,
        snapshot_label: String,
        name: Option<String>,
        from_devbox_id: String,
        shutdown_old: bool,
    ) {
        let id = self.push(OpKind::Restore {
            snapshot_id,
            snapshot_label,
            name,
            from_devbox_id,
            shutdown_old,
            new_devbox_id: None,
        });
        self.spawn_restore(id);
    }

    fn spawn_restore(&self, id: u64) {
        let this = *self;
        spawn_local(async move {
            if let Err(failed) = this.restore(id).await {
                // The tray keeps the words: it is saved, and outlives the error value.
                let message = failed.to_string();
                this.toasts
                    .push(Tone::Err, format!("Restore failed: {message}"));
                this.finish(
                    id,
                    OpState::Failed {
                        at_ms: now_ms(),
                        message,
                    },
                );
            }
        });
    }

    async fn restore(&self, id: u64) -> Result<(), RestoreFailed> {
        let Some(op) = self.get(id) else {
            return Ok(());
        };
        let OpKind::Restore {
            snapshot_id,
            snapshot_label,
            name,
            from_devbox_id,
            shutdown_old,
            new_devbox_id,
        } = op.kind
        else {
            return Ok(());
        };
        let new_id = match new_devbox_id {
            Some(existing) => existing,
            None => {
                let body = CreateDevbox {
                    name: name.clone(),
                    snapshot_id: Some(snapshot_id),
                    ..Default::default()
                };
                let created = self
                    .api
                    .create_devbox(&body)
                    .await
                    .map_err(RestoreFailed::Api)?;
                self.update(id, |o| {
                    if let OpKind::Restore { new_devbox_id, .. } = &mut o.kind {
                        *new_devbox_id = Some(created.id.clone());
                    }
                });
                self.version.bump();
                created.id
            }
        };
        let devbox = loop {
            let wanted = [
                DevboxStatus::Running,
                DevboxStatus::Failure,
                DevboxStatus::Shutdown,
            ];
            match self.api.wait_for_status(&new_id, &wanted, 25.0).await {
                Ok(Some(d)) => break d,
                Ok(None) => continue,
                Err(e) if is_transient(&e) => sleep_ms(2000).await,
                Err(e) => return Err(RestoreFailed::Api(e)),
            }
        };
        if devbox.status != DevboxStatus::Running {
            return Err(RestoreFailed::NotRunning(devbox.status));
        }
        let label = name.unwrap_or_else(|| new_id.clone());
        let note = if shutdown_old {
            match self.api.shutdown(&from_devbox_id, false).await {
                Ok(_) => Some("old devbox shut down".to_string()),
                Err(e) => Some(format!("old devbox not shut down: {}", api_message(&e))),
            }
        } else {
            None
        };
        self.audit.record_action(
            Action::CreateDevbox,
            &new_id,
            Some(label.clone()),
            None,
            Outcome::Done,
            Some(format!("Started from snapshot {snapshot_label}.")),
        );
        self.toasts
            .push(Tone::Ok, format!("Restored into “{label}”, now running."));
        self.finish(
            id,
            OpState::Done {
                at_ms: now_ms(),
                note,
            },
        );
        Ok(())
    }

    // ---- bulk runs (driven by `services::bulk_runs`; the tray shows their progress) ----

    /// Shows every bulk run of `events` in the tray: an entry per drive, its counts as
    /// they change, closed when the run finishes.
    pub fn follow_runs(&self, events: RunEvents) {
        let this = *self;
        let entries = StoredValue::new(HashMap::<&'static str, u64>::new());
        events.subscribe(move |e| match *e {
            RunEvent::Started {
                key,
                label,
                run,
                hold_until_ms,
            } => {
                let id = this.push(OpKind::Cleanup {
                    label: label.to_owned(),
                    total: run.items.len(),
                    done: 0,
                    failed: 0,
                    key: Some(key.to_owned()),
                    starts_at_ms: hold_until_ms,
                });
                entries.update_value(|m| {
                    m.insert(key, id);
                });
            }
            RunEvent::Progress { key, run } => {
                if let Some(id) = entries.with_value(|m| m.get(key).copied()) {
                    this.cleanup_progress(id, run);
                }
            }
            RunEvent::Finished { key, .. } => {
                entries.update_value(|m| {
                    m.remove(key);
                });
            }
            RunEvent::Settled { .. } => {}
        });
    }

    /// Updates a cleanup's counts, and closes it when the run has finished.
    fn cleanup_progress(&self, id: u64, run: &BulkRun) {
        let c = run.counts();
        let finished = run.is_finished();
        self.update(id, |o| {
            if let OpKind::Cleanup { done, failed, .. } = &mut o.kind {
                *done = c.done;
                *failed = c.failed;
            }
            if finished {
                o.state = if c.failed == 0 {
                    OpState::Done {
                        at_ms: now_ms(),
                        note: None,
                    }
                } else {
                    OpState::Failed {
                        at_ms: now_ms(),
                        message: format!("{} failed", c.failed),
                    }
                };
            }
        });
    }
}

/// Why a restore stopped.
#[derive(Debug, Clone, PartialEq)]
enum RestoreFailed {
    /// The API refused or could not be reached (not a transient failure).
    Api(ApiError),
    /// The new devbox settled in another state.
    NotRunning(DevboxStatus),
}

impl std::fmt::Display for RestoreFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RestoreFailed::Api(e) => f.write_str(&api_message(e)),
            RestoreFailed::NotRunning(s) => {
                write!(f, "the new devbox ended in “{s}” instead of running")
            }
        }
    }
}

fn is_transient(e: &ApiError) -> bool {
    e.is_retryable() || e.status() == Some(408)
}

async fn sleep_ms(ms: i64) {
    let ms = u64::try_from(ms.max(0)).unwrap_or(0);
    gloo_timers::future::sleep(Duration::from_millis(ms)).await;
}
