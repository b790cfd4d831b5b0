//! The jobs' thread: runs each job to its end and writes down every step.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;
use std::time::{Duration, Instant};

use axum::Router;
use futures::stream::{self, StreamExt, TryStreamExt};
use snapdeck_api::endpoints::ListSnapshots;
use snapdeck_api::{Client, Snapshot, SnapshotStatus};
use snapdeck_core::audit::{self, Actor, AuditEntry};
use snapdeck_core::bulk::{BulkRun, ItemState};
use snapdeck_core::fanout::ChildNote;
use snapdeck_core::jobs::{
    ChildProgress, DeleteSpec, FanoutSpec, ItemEvent, JobProgress, JobSpec, JobStatus, JobSummary,
    SERVER_CONCURRENCY,
};
use snapdeck_core::recheck::RunRule;
use snapdeck_core::retention::{self, CleanupPlan, RetentionPolicy};
use snapdeck_run::Observer;
use tokio::sync::mpsc;

use super::drive::{self, RECHECK_PAGE_SIZE};
use super::transport::{LOOPBACK_BASE, Loopback};
use super::{CancelFlag, Emitted, Jobs};

use crate::clock::now_ms;
use crate::error::{Error, Result};

/// Followers get a summary at most this often while a job runs (and always its last).
const SUMMARY_EVERY: Duration = Duration::from_millis(100);

/// The thread's body: a current-thread runtime whose `LocalSet` runs every job.
pub(super) fn serve(jobs: Jobs, router: Router, mut starts: mpsc::UnboundedReceiver<String>) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the jobs runtime; jobs will not run");
            return;
        }
    };
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let transport = Loopback::for_jobs(router);
        let running: Rc<RefCell<HashSet<String>>> = Rc::default();
        let unfinished = jobs.db().unfinished();
        match unfinished {
            Ok(ids) => {
                for id in ids {
                    tracing::info!(job = %id, "resuming a job left unfinished");
                    spawn(&jobs, &transport, &running, id, true);
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot read unfinished jobs"),
        }
        while let Some(id) = starts.recv().await {
            spawn(&jobs, &transport, &running, id, false);
        }
    });
}

fn spawn(
    jobs: &Jobs,
    transport: &Loopback,
    running: &Rc<RefCell<HashSet<String>>>,
    id: String,
    resumed: bool,
) {
    if !running.borrow_mut().insert(id.clone()) {
        return;
    }
    let (jobs, transport, running) = (jobs.clone(), transport.clone(), running.clone());
    tokio::task::spawn_local(async move {
        if let Err(e) = run_job(&jobs, transport, &id, resumed).await {
            tracing::error!(job = %id, error = %e, "job stopped on a storage error");
        }
        running.borrow_mut().remove(&id);
    });
}

/// Runs one job from wherever it stands. Returns early (leaving it unfinished) when its
/// requests need a caller's key that nobody has offered since the restart.
async fn run_job(jobs: &Jobs, transport: Loopback, id: &str, resumed: bool) -> Result<()> {
    let Some(stored) = jobs.db().get(id)? else {
        return Ok(());
    };
    let mut summary = stored.summary;
    if summary.status.is_terminal() {
        return Ok(());
    }
    let Some(key) = jobs.key_for(id) else {
        summary.error = Some(
            "Waiting to resume: this proxy has no API key of its own, so the job continues \
             once someone signed in opens it."
                .into(),
        );
        persist_summary(jobs, &summary)?;
        return Ok(());
    };
    let client = Client::new(transport, LOOPBACK_BASE).with_api_key(key);
    let cancel = jobs.cancel_flag(id);
    if jobs.db().cancel_requested(id)? {
        cancel.request();
    }
    summary.status = JobStatus::Running;
    summary.error = None;
    if resumed {
        summary.resumed += 1;
    }
    persist_summary(jobs, &summary)?;
    let outcome = match stored.spec {
        JobSpec::Plan { policy } => run_plan(jobs, &client, &mut summary, &policy, &cancel).await,
        JobSpec::Delete(spec) => {
            run_delete(jobs, &client, &mut summary, &spec, &cancel, resumed).await
        }
        JobSpec::Fanout(spec) => run_fanout(jobs, &client, &mut summary, &spec).await,
    };
    jobs.forget_cancel_flag(id);
    outcome
}

fn persist_summary(jobs: &Jobs, summary: &JobSummary) -> Result<()> {
    let mut summary = summary.clone();
    summary.updated_at_ms = now_ms();
    jobs.db().put_summary(&summary)?;
    jobs.emit(Emitted::Summary(summary));
    Ok(())
}

fn finish(summary: &mut JobSummary, status: JobStatus) {
    let now = now_ms();
    summary.status = status;
    summary.updated_at_ms = now;
    summary.finished_at_ms = Some(now);
}

/// What the plan's listing asks for.
fn scope_listing(policy: &RetentionPolicy) -> ListSnapshots {
    ListSnapshots {
        devbox_id: policy.scope.devbox().map(str::to_owned),
        source_blueprint_id: policy.scope.blueprint().map(str::to_owned),
        limit: Some(RECHECK_PAGE_SIZE),
        include_total_count: Some(false),
        ..ListSnapshots::default()
    }
}

/// Lists the scope, learns each status (cache first), and stores the plan.
async fn run_plan(
    jobs: &Jobs,
    client: &Client<Loopback>,
    summary: &mut JobSummary,
    policy: &RetentionPolicy,
    cancel: &CancelFlag,
) -> Result<()> {
    let snapshots: Vec<Snapshot> = match client.snapshots(scope_listing(policy)).try_collect().await
    {
        Ok(s) => s,
        Err(e) => {
            summary.error = Some(format!("Could not list the snapshots: {e}"));
            finish(summary, JobStatus::Failed);
            return persist_summary(jobs, summary);
        }
    };
    let mut statuses = jobs.db().cached_statuses(&snapshots)?;
    summary.progress = JobProgress {
        total: snapshots.len(),
        done: statuses.len(),
        cached: statuses.len(),
        ..JobProgress::default()
    };
    persist_summary(jobs, summary)?;

    let to_fetch: Vec<&Snapshot> = snapshots
        .iter()
        .filter(|s| !statuses.contains_key(&s.id))
        .collect();
    let mut fetches = stream::iter(to_fetch)
        .map(|s| async move { (s, client.snapshot_status(&s.id).await) })
        .buffer_unordered(SERVER_CONCURRENCY);
    let mut learned: Vec<(&Snapshot, SnapshotStatus)> = Vec::new();
    let mut last_emit = Instant::now();
    loop {
        let next = tokio::select! {
            next = fetches.next() => next,
            () = cancel.wake.notified() => None,
        };
        if cancel.is_requested() {
            jobs.db().cache_statuses(learned.drain(..))?;
            finish(summary, JobStatus::Cancelled);
            return persist_summary(jobs, summary);
        }
        let Some((snapshot, result)) = next else {
            break;
        };
        match result {
            Ok(view) => {
                statuses.insert(snapshot.id.clone(), view.status);
                learned.push((snapshot, view.status));
                summary.progress.done += 1;
            }
            // Gone since the listing: nothing to plan for it.
            Err(e) if e.is_not_found() => {
                statuses.insert(snapshot.id.clone(), SnapshotStatus::Deleted);
                summary.progress.done += 1;
            }
            // Left unknown, so the plan keeps it ("status not checked").
            Err(_) => summary.progress.failed += 1,
        }
        if last_emit.elapsed() >= SUMMARY_EVERY {
            last_emit = Instant::now();
            jobs.db().cache_statuses(learned.drain(..))?;
            persist_summary(jobs, summary)?;
        }
    }
    jobs.db().cache_statuses(learned.drain(..))?;
    let plan = plan_of(policy, &snapshots, &statuses);
    summary.progress.to_delete = Some(plan.delete_count());
    summary.progress.bytes = plan.bytes_freed;
    finish(summary, JobStatus::Finished);
    jobs.db().put_plan(summary, &plan)?;
    jobs.emit(Emitted::Summary(summary.clone()));
    Ok(())
}

fn plan_of(
    policy: &RetentionPolicy,
    snapshots: &[Snapshot],
    statuses: &BTreeMap<String, SnapshotStatus>,
) -> CleanupPlan {
    retention::plan(policy, snapshots, statuses, now_ms())
}

/// Writes the run down at every step (with an audit entry for each item that settles),
/// and tells followers.
struct Persist<'a> {
    jobs: &'a Jobs,
    summary: &'a mut JobSummary,
    cancel: &'a CancelFlag,
    /// The run's policy in words, for its audit entries.
    policy: String,
    /// Each item's state as last written.
    written: Vec<ItemState>,
    last_emit: Option<Instant>,
    /// A write failed: the run must stop, or a delete could go out unrecorded.
    failed: Option<Error>,
}

impl Observer for Persist<'_> {
    fn changed(&mut self, run: &BulkRun) {
        let changed: Vec<(usize, &snapdeck_core::bulk::BulkItem)> = run
            .items
            .iter()
            .enumerate()
            .filter(|&(n, item)| self.written.get(n) != Some(&item.state))
            .collect();
        if changed.is_empty() {
            return;
        }
        self.summary.progress = JobProgress::of_run(&run.counts());
        self.summary.cancel_requested |= self.cancel.is_requested();
        let now = now_ms();
        self.summary.updated_at_ms = now;
        let audit: Vec<AuditEntry> = changed
            .iter()
            .filter_map(|&(n, item)| {
                AuditEntry::of_delete(
                    item,
                    // One entry per item, however often the item is written again.
                    format!("aud_{}_{n}", self.summary.id),
                    now,
                    Actor::Server,
                    Some(self.summary.id.clone()),
                    Some(self.policy.clone()),
                )
            })
            .collect();
        if let Err(e) = self.jobs.db().put_progress(self.summary, &changed, &audit) {
            tracing::error!(job = %self.summary.id, error = %e, "cannot write the run");
            self.failed = Some(e);
            return;
        }
        for (n, item) in &changed {
            if let Some(slot) = self.written.get_mut(*n) {
                *slot = item.state.clone();
            }
            if item.state.is_settled() {
                self.jobs.emit(Emitted::Item(ItemEvent {
                    job_id: self.summary.id.clone(),
                    item: (*item).clone(),
                }));
            }
        }
        if self.last_emit.is_none_or(|t| t.elapsed() >= SUMMARY_EVERY) {
            self.last_emit = Some(Instant::now());
            self.jobs.emit(Emitted::Summary(self.summary.clone()));
        }
    }

    fn cancel_requested(&self) -> bool {
        // A run whose writes fail cancels itself: nothing more is sent unrecorded.
        self.cancel.is_requested() || self.failed.is_some()
    }
}

/// Drives the confirmed deletes to their end.
async fn run_delete(
    jobs: &Jobs,
    client: &Client<Loopback>,
    summary: &mut JobSummary,
    spec: &DeleteSpec,
    cancel: &CancelFlag,
    resumed: bool,
) -> Result<()> {
    let mut run = jobs.db().run(&summary.id)?;
    // The rule each wave re-applies (issue 12): the policy the job keeps holding, or
    // the floor of a hand-picked selection. The plan's statuses spare status calls and
    // name a kept snapshot that disappears.
    run.rule = match &summary.policy {
        Some(policy) => RunRule::policy(policy.clone()),
        None => RunRule::Floor {
            override_ids: spec.override_ids.iter().cloned().collect(),
        },
    };
    if let Some(plan_job) = &summary.plan_job
        && let Some(plan) = jobs.db().plan(plan_job)?
    {
        run = run.remembering(plan.items.iter().map(|i| (&i.snapshot, i.status)));
    }
    let written: Vec<ItemState> = run.items.iter().map(|i| i.state.clone()).collect();
    if resumed {
        // Items that were being checked or deleted go back to pending; a delete that
        // may have been sent makes "gone" count as done, never as a second delete.
        run.resume_after_interruption();
    }
    let policy = summary
        .policy
        .as_ref()
        .map_or_else(|| audit::HAND_PICKED.to_owned(), RetentionPolicy::describe);
    let mut observer = Persist {
        jobs,
        summary: &mut *summary,
        cancel,
        policy,
        written,
        last_emit: None,
        failed: None,
    };
    drive::drive(client, &mut run, &cancel.wake, &mut observer, now_ms).await;
    if let Some(e) = observer.failed {
        return Err(e);
    }
    let status = if cancel.is_requested() {
        JobStatus::Cancelled
    } else {
        JobStatus::Finished
    };
    summary.progress = JobProgress::of_run(&run.counts());
    summary.cancel_requested |= cancel.is_requested();
    finish(summary, status);
    persist_summary(jobs, summary)
}

/// Starts the batch's children through the shared launcher, writing each child's step
/// into the summary (and telling followers). Idempotent, so a resumed job runs it again
/// from the top: children the batch already has are not created twice.
async fn run_fanout(
    jobs: &Jobs,
    client: &Client<Loopback>,
    summary: &mut JobSummary,
    spec: &FanoutSpec,
) -> Result<()> {
    summary.children = spec
        .children
        .iter()
        .map(|c| ChildProgress {
            label: c.label.clone(),
            note: summary
                .children
                .iter()
                .find(|p| p.label == c.label)
                .map_or(ChildNote::Creating, |p| p.note.clone()),
        })
        .collect();
    let shared = RefCell::new((summary.clone(), None::<Error>, None::<Instant>));
    let note = |label: &str, n: ChildNote| {
        let mut guard = shared.borrow_mut();
        let (s, failed, last) = &mut *guard;
        if let Some(slot) = s.children.iter_mut().find(|c| c.label == label) {
            slot.note = n;
        }
        s.progress.done = s
            .children
            .iter()
            .filter(|c| matches!(c.note, ChildNote::TaskWritten(_) | ChildNote::Running))
            .count();
        s.progress.failed = s
            .children
            .iter()
            .filter(|c| matches!(c.note, ChildNote::Failed(_)))
            .count();
        s.progress.running = s.children.len() - s.progress.done - s.progress.failed;
        s.updated_at_ms = now_ms();
        if let Err(e) = jobs.db().put_summary(s) {
            *failed = Some(e);
        }
        if last.is_none_or(|t| t.elapsed() >= SUMMARY_EVERY) || s.progress.running == 0 {
            *last = Some(Instant::now());
            jobs.emit(Emitted::Summary(s.clone()));
        }
    };
    let outcome = snapdeck_run::fanout::launch(client, spec, &note).await;
    let (after, failed, _) = shared.into_inner();
    *summary = after;
    if let Some(e) = failed {
        return Err(e);
    }
    match outcome {
        Ok(()) => finish(summary, JobStatus::Finished),
        Err(e) => {
            summary.error = Some(format!(
                "Could not list the devboxes to launch the batch: {e}"
            ));
            finish(summary, JobStatus::Failed);
        }
    }
    persist_summary(jobs, summary)
}
