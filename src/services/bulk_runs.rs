//! `use_bulk_run`: drives a snapdeck-core [`BulkRun`] (bulk delete with bounded
//! concurrency, each wave of snapshots re-checked against the snapshot list just before
//! its deletes) in the browser, and keeps it alive beyond the page that started it.
//!
//! Why not signals owned by the page: leaving the page must not stop a cleanup (the
//! operations tray shows it), and coming back must show the same run. So each run
//! lives in a per-tab registry keyed by the page (`"snapshots"`, `"cleanup"`), the
//! driving task holds it, and pages only *subscribe* with a signal of their own.
//! The run is saved to localStorage as it goes; after a reload the page resumes it with
//! [`BulkRun::resume_after_interruption`] (running items are re-checked first, so
//! nothing outside the confirmed list is ever deleted, and nothing is deleted twice).
//!
//! The loop is snapdeck-run's, the one every runner (edge cron, bench, server jobs)
//! shares, so the tab's deletes pass the same re-check: every decision (what to
//! re-check and delete when, whether the plan still holds, what a failure means,
//! retries and backoff) is snapdeck-core's. Here are only the API calls, the clock and
//! the publishing. A run has at most one listing and [`BulkRun::max_concurrency`]
//! deletes (four by default) in flight: five of the six connections a browser opens
//! per origin over HTTP/1.1.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};
use snapdeck_api::{Snapshot, SnapshotStatus};
use snapdeck_core::bulk::Listing;
use snapdeck_core::jobs::{DeleteSpec, JobSpec, NewJob};
use snapdeck_core::{BulkRun, RunRule};
use snapdeck_run::{Observer, Options, RunApi};

use crate::api::{Api, ApiError, JobEvent, JobFollow, SnapshotFilter, use_api};
use crate::hooks::use_now::now_ms;
use crate::hooks::use_settings::{SettingsCtx, use_settings};
use crate::services::run_events::{RunEvent, RunEvents, use_run_events};
use crate::storage::{self, Area};

/// How often progress is published at most (ms): in batches, so a run of thousands
/// does not re-render (and re-save) per request.
const TICK_MS: u64 = 150;

/// Every page that deletes in bulk, by its key: at start, the app resumes what each
/// left unfinished.
const KEYS: [&str; 3] = ["snapshots", "cleanup", "timeline"];

/// What is saved per run.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Saved {
    label: String,
    run: BulkRun,
    /// The undo window: nothing is sent before this time (unix ms).
    #[serde(default)]
    hold_until_ms: Option<i64>,
    /// Its length, to give it again after a reload (ms).
    #[serde(default)]
    hold_ms: i64,
    /// Set once the run went to the server as a job.
    #[serde(default)]
    remote: Option<Remote>,
    /// The server's plan job it was confirmed from.
    #[serde(default)]
    plan_job: Option<String>,
}

/// A run handed to the snapdeck server (or the edge) as a delete job: the request id
/// that created it (creating again with it answers the same job, so a reload mid-create
/// never starts a second one) and the job's id once known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Remote {
    request_id: String,
    /// What the job is asked to do (kept, so a retry asks for exactly the same).
    spec: DeleteSpec,
    #[serde(default)]
    job_id: Option<String>,
}

/// One live run and whoever watches it.
struct Live {
    key: &'static str,
    label: String,
    /// The run as last published (the driving task holds the live one).
    run: RefCell<BulkRun>,
    driving: Cell<bool>,
    /// Cancel (or Undo) was pressed; the driving task cancels at its next turn.
    cancel: Cell<bool>,
    /// The undo window: the run waits until then before it sends anything.
    hold_until: Cell<Option<i64>>,
    hold_ms: Cell<i64>,
    /// The job running it on the server, when it runs there.
    remote: RefCell<Option<Remote>>,
    /// The server's plan job the run was confirmed from, if any.
    plan_job: RefCell<Option<String>>,
    /// Items whose settling was told (indices); `Finished` was told for this drive.
    told: RefCell<BTreeSet<usize>>,
    told_finished: Cell<bool>,
    /// The run was saved with its server job's id ([`Live::save`]).
    saved_with_job: Cell<bool>,
    api: Api,
    events: RunEvents,
    watchers: RefCell<Vec<Watcher>>,
}

/// A page watching a run: the run as published, and the end of its undo window.
#[derive(Clone, Copy)]
struct Watcher {
    run: RwSignal<Option<BulkRun>>,
    hold_until: RwSignal<Option<i64>>,
}

impl Watcher {
    fn is_disposed(&self) -> bool {
        self.run.is_disposed() || self.hold_until.is_disposed()
    }
}

thread_local! {
    static LIVE: RefCell<HashMap<&'static str, Rc<Live>>> = RefCell::new(HashMap::new());
}

fn storage_key(key: &str) -> String {
    format!("snapdeck.bulk.{key}")
}

impl Live {
    fn snapshot(&self) -> BulkRun {
        self.run.borrow().clone()
    }

    /// Saves the run for a reload. A run on the server is saved once its job is known
    /// (and when it ends): the job has its items, and a reload reads them from there,
    /// so it is not written again on every tick (a run of thousands is ~250 KB).
    fn save(&self, run: &BulkRun) {
        let job_known = self
            .remote
            .borrow()
            .as_ref()
            .is_some_and(|r| r.job_id.is_some());
        if job_known && self.saved_with_job.get() && !run.is_finished() {
            return;
        }
        self.saved_with_job.set(job_known);
        storage::set_json(
            Area::Local,
            &storage_key(self.key),
            &Saved {
                label: self.label.clone(),
                run: run.clone(),
                hold_until_ms: self.hold_until.get(),
                hold_ms: self.hold_ms.get(),
                remote: self.remote.borrow().clone(),
                plan_job: self.plan_job.borrow().clone(),
            },
        );
    }

    /// Saves, tells the app's run events what changed, and updates every page watching.
    fn publish(&self) {
        let run = self.snapshot();
        self.save(&run);
        let key = self.key;
        let settled: Vec<_> = {
            let mut told = self.told.borrow_mut();
            // A retried item is pending again: it will be told when it settles again.
            told.retain(|&n| run.items.get(n).is_some_and(|i| i.state.is_settled()));
            run.items
                .iter()
                .enumerate()
                .filter(|(n, i)| i.state.is_settled() && told.insert(*n))
                .map(|(_, i)| i)
                .collect()
        };
        if !settled.is_empty() {
            let job_id = self.remote.borrow().as_ref().and_then(|r| r.job_id.clone());
            self.events.emit(&RunEvent::Settled {
                key,
                items: &settled,
                run: &run,
                job_id: job_id.as_deref(),
            });
        }
        self.events.emit(&RunEvent::Progress { key, run: &run });
        if run.is_finished() && !self.told_finished.replace(true) {
            self.events.emit(&RunEvent::Finished {
                key,
                label: &self.label,
                run: &run,
            });
        }
        self.watchers.borrow_mut().retain(|w| !w.is_disposed());
        for w in self.watchers.borrow().iter() {
            w.run.set(Some(run.clone()));
            if w.hold_until.get_untracked() != self.hold_until.get() {
                w.hold_until.set(self.hold_until.get());
            }
        }
    }

    fn watch(&self, w: Watcher) {
        w.run.set(Some(self.snapshot()));
        w.hold_until.set(self.hold_until.get());
        self.watchers.borrow_mut().push(w);
    }

    /// Tells the app a drive begins (the tray opens an entry for it).
    fn start_drive(&self, label: &str) {
        self.told_finished.set(false);
        let run = self.snapshot();
        self.events.emit(&RunEvent::Started {
            key: self.key,
            label,
            run: &run,
            hold_until_ms: self.hold_until.get(),
        });
    }
}

/// The API and the clock, as snapdeck-run asks for them.
struct TabApi(Api);

impl RunApi for TabApi {
    /// Per devbox, one after the other: waves are grouped by devbox (usually one), and
    /// one listing at a time keeps the run within its connections. (The account's size
    /// is not known here, so waves never ask for the whole account: see
    /// `Wave::listing`.)
    async fn list(&self, listing: &Listing) -> Result<Vec<Snapshot>, ApiError> {
        let devboxes = match listing {
            Listing::Devboxes(ids) => ids.iter().cloned().map(Some).collect(),
            Listing::Account => vec![None],
        };
        let mut all = Vec::new();
        for devbox_id in devboxes {
            let filter = SnapshotFilter {
                devbox_id,
                ..SnapshotFilter::default()
            };
            all.extend(self.0.list_snapshots(&filter).await?);
        }
        Ok(all)
    }

    async fn status(&self, id: &str) -> Result<SnapshotStatus, ApiError> {
        self.0.snapshot_status(id).await.map(|v| v.status)
    }

    fn delete(&self, id: &str) -> impl Future<Output = Result<(), ApiError>> {
        self.0.delete_snapshot(id)
    }

    fn sleep(&self, ms: u64) -> impl Future<Output = ()> {
        gloo_timers::future::sleep(Duration::from_millis(ms))
    }

    fn now_ms(&self) -> i64 {
        now_ms()
    }
}

/// Publishes the driving task's run at most every tick, and passes on a cancel.
struct Publisher<'a> {
    live: &'a Live,
    last_ms: Option<i64>,
}

impl Observer for Publisher<'_> {
    fn changed(&mut self, run: &BulkRun) {
        let now = now_ms();
        if self.last_ms.is_some_and(|t| now - t < TICK_MS as i64) {
            return;
        }
        self.last_ms = Some(now);
        *self.live.run.borrow_mut() = run.clone();
        self.live.publish();
    }

    fn cancel_requested(&self) -> bool {
        self.live.cancel.get()
    }

    fn quiet_ms(&self) -> Option<u64> {
        Some(TICK_MS)
    }
}

/// Starts the driving task unless it is already going; it publishes as it goes, and
/// once more at the end.
fn drive(live: Rc<Live>) {
    if live.driving.replace(true) {
        return;
    }
    spawn_local(async move {
        // The undo window: nothing is sent before it ends; Undo cancels every item.
        while let Some(until) = live.hold_until.get() {
            let now = now_ms();
            if live.cancel.get() || now >= until {
                live.hold_until.set(None);
                live.publish();
                break;
            }
            gloo_timers::future::sleep(Duration::from_millis((until - now).clamp(1, 100) as u64))
                .await;
        }
        if live.cancel.get() && live.run.borrow().counts().done == 0 {
            live.run.borrow_mut().cancel();
        }
        // With a snapdeck server in between, the run goes there as a job: at server
        // speed, on after the tab closes, visible to everyone. A run the tab already
        // began sending stays in the tab.
        let untouched = {
            let r = live.run.borrow();
            !r.is_finished() && r.counts().left == r.items.len()
        };
        let spec = delete_spec(&live.run.borrow(), live.plan_job.borrow().as_deref());
        if let Some(spec) = spec
            && live.remote.borrow().is_none()
            && untouched
            && live.api.jobs_available().await
        {
            *live.remote.borrow_mut() = Some(Remote {
                request_id: random_id("bulk"),
                spec,
                job_id: None,
            });
            live.publish();
        }
        if live.remote.borrow().is_some() {
            drive_remote(&live).await;
            live.cancel.set(false);
            live.driving.set(false);
            live.publish();
            return;
        }
        // In the tab: as many deletes in flight as the connection allows.
        let lanes = live.api.tab_lanes();
        let mut run = live.run.borrow().clone();
        run.max_concurrency = lanes;
        let api = TabApi(live.api);
        let mut publisher = Publisher {
            live: &live,
            last_ms: None,
        };
        let options = Options {
            status_concurrency: lanes,
            ..Options::default()
        };
        snapdeck_run::drive(&api, &mut run, &options, &mut publisher).await;
        *live.run.borrow_mut() = run;
        live.cancel.set(false);
        live.driving.set(false);
        live.publish();
    });
}

/// How often a job's state is read while it runs (ms).
const JOB_POLL_MS: u64 = 200;

/// Follows the run's job on the server to its end: creates it (idempotent by request
/// id), then reads its items into the run and publishes until the job is over; Cancel
/// asks the server to stop. The server's runner makes every decision (the same driver
/// and plan-still-holds check as the tab's).
async fn drive_remote(live: &Live) {
    let mut cancel_sent = false;
    // Followed live where the server streams events; read every JOB_POLL_MS
    // otherwise, or once the stream is over.
    let mut followed = false;
    loop {
        let remote = live.remote.borrow().clone();
        let Some(remote) = remote else { return };
        let answer = match &remote.job_id {
            Some(id) => live.api.get_job(id).await,
            None => {
                let job = NewJob {
                    request_id: remote.request_id.clone(),
                    client_id: Some(client_id()),
                    spec: JobSpec::Delete(remote.spec.clone()),
                };
                live.api.create_job(job).await
            }
        };
        let job = match answer {
            Ok(job) => job,
            Err(e) if e.is_retryable() || matches!(e, ApiError::Transport(_)) => {
                gloo_timers::future::sleep(Duration::from_millis(1000)).await;
                continue;
            }
            Err(e) => {
                // The server refused the job (or lost it): nothing more is sent; each
                // unsettled item says why.
                live.run
                    .borrow_mut()
                    .fail_unsettled(&format!("the server's job: {e}"));
                return;
            }
        };
        if remote.job_id.is_none()
            && let Some(r) = live.remote.borrow_mut().as_mut()
        {
            r.job_id = Some(job.summary.id.clone());
        }
        if !job.items.is_empty() {
            live.run.borrow_mut().items = job.items;
        }
        let over = job.summary.status.is_terminal();
        if over && let Some(error) = &job.summary.error {
            live.run.borrow_mut().fail_unsettled(error);
        }
        live.publish();
        if over {
            return;
        }
        if live.cancel.get() && !cancel_sent {
            cancel_sent = live.api.cancel_job(&job.summary.id).await.is_ok();
        }
        if !std::mem::replace(&mut followed, true)
            && let Some(follow) = live.api.follow_job(&job.summary.id).await
        {
            follow_remote(live, follow, &job.summary.id, &mut cancel_sent).await;
        } else {
            gloo_timers::future::sleep(Duration::from_millis(JOB_POLL_MS)).await;
        }
    }
}

/// Applies a job's live events to the run (each settled item as it settles, published
/// every [`TICK_MS`] at most) until the stream ends: with the job's last summary, or
/// early (the connection dropped). Either way the caller then reads the job, which has
/// the truth. Cancel, pressed meanwhile, is sent at once.
async fn follow_remote(live: &Live, mut follow: JobFollow, id: &str, cancel_sent: &mut bool) {
    let mut published = now_ms();
    loop {
        let next = {
            let event = std::pin::pin!(follow.next());
            let tick = std::pin::pin!(gloo_timers::future::sleep(Duration::from_millis(TICK_MS)));
            match futures::future::select(event, tick).await {
                futures::future::Either::Left((event, _)) => Some(event),
                futures::future::Either::Right(_) => None,
            }
        };
        match next {
            // The stream is over.
            Some(None) => return,
            Some(Some(JobEvent::Item(event))) => {
                let mut run = live.run.borrow_mut();
                let id = &event.item.confirmed.snapshot_id;
                if let Some(item) = run
                    .items
                    .iter_mut()
                    .find(|i| i.confirmed.snapshot_id == *id)
                {
                    *item = event.item;
                }
            }
            Some(Some(JobEvent::Summary(s))) if s.status.is_terminal() => return,
            Some(Some(JobEvent::Summary(_))) | None => {}
        }
        if live.cancel.get() && !*cancel_sent {
            *cancel_sent = live.api.cancel_job(id).await.is_ok();
        }
        if now_ms() - published >= TICK_MS as i64 {
            published = now_ms();
            live.publish();
        }
    }
}

/// The job that runs `run` on the server: its confirmed snapshots, under the same rule
/// (the plan's policy, or the floor with the typed overrides).
///
/// A run under a plan goes only with the plan job it was confirmed from: the server
/// then knows what that plan kept, so a kept snapshot deleted elsewhere stops the rest
/// of its devbox (`PlanKeptGone`). Without it (a plan made in the tab), `None`: the tab
/// runs it, holding that knowledge itself.
fn delete_spec(run: &BulkRun, plan_job: Option<&str>) -> Option<DeleteSpec> {
    match (&run.rule, plan_job) {
        (RunRule::Policy { .. }, Some(plan_job)) => Some(DeleteSpec {
            plan_job: Some(plan_job.to_owned()),
            snapshot_ids: run
                .items
                .iter()
                .map(|i| i.confirmed.snapshot_id.clone())
                .collect(),
            ..DeleteSpec::default()
        }),
        (RunRule::Policy { .. }, None) => None,
        (RunRule::Floor { override_ids }, _) => Some(DeleteSpec {
            confirmed: run.items.iter().map(|i| i.confirmed.clone()).collect(),
            override_ids: override_ids.iter().cloned().collect(),
            ..DeleteSpec::default()
        }),
    }
}

/// A random id (`prefix_` + 16 hex digits).
pub fn random_id(prefix: &str) -> String {
    let hi = (js_sys::Math::random() * f64::from(u32::MAX)) as u32;
    let lo = (js_sys::Math::random() * f64::from(u32::MAX)) as u32;
    format!("{prefix}_{hi:08x}{lo:08x}")
}

/// This browser's id, sent with the jobs it creates so the tray can tell its own
/// jobs from others' (random, kept in localStorage; it identifies nothing else).
pub fn client_id() -> String {
    const KEY: &str = "snapdeck.client_id";
    if let Some(id) = storage::get(Area::Local, KEY) {
        return id;
    }
    let id = random_id("tab");
    storage::set(Area::Local, KEY, &id);
    id
}

fn live(key: &str) -> Option<Rc<Live>> {
    LIVE.with(|l| l.borrow().get(key).cloned())
}

/// Puts a run in the registry (replacing a finished one of its key).
fn register(
    key: &'static str,
    label: String,
    run: BulkRun,
    api: Api,
    events: RunEvents,
) -> Rc<Live> {
    let l = Rc::new(Live {
        key,
        label,
        run: RefCell::new(run),
        driving: Cell::new(false),
        cancel: Cell::new(false),
        hold_until: Cell::new(None),
        hold_ms: Cell::new(0),
        remote: RefCell::new(None),
        plan_job: RefCell::new(None),
        told: RefCell::new(BTreeSet::new()),
        told_finished: Cell::new(false),
        saved_with_job: Cell::new(false),
        api,
        events,
        watchers: RefCell::new(Vec::new()),
    });
    LIVE.with(|m| m.borrow_mut().insert(key, l.clone()));
    l
}

/// Loads the run `key` saved before a reload and, if it was not finished, resumes it:
/// items that were in flight are checked again first (nothing outside the confirmed
/// list is ever deleted, nothing twice), and one still in its undo window gets the
/// whole window again, so the person sees it before anything is sent.
fn resume(key: &'static str, api: Api, events: RunEvents) -> Option<Rc<Live>> {
    let saved: Saved = storage::get_json(Area::Local, &storage_key(key))?;
    let mut run = saved.run;
    let unfinished = !run.is_finished();
    if unfinished {
        run.resume_after_interruption();
    }
    let l = register(key, saved.label.clone(), run, api, events);
    let settled = l
        .run
        .borrow()
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| i.state.is_settled())
        .map(|(n, _)| n)
        .collect();
    l.told.replace(settled);
    l.remote.replace(saved.remote.clone());
    l.plan_job.replace(saved.plan_job.clone());
    if unfinished {
        if saved.hold_until_ms.is_some() {
            l.hold_ms.set(saved.hold_ms);
            l.hold_until.set(Some(now_ms() + saved.hold_ms.max(0)));
        }
        l.start_drive(&format!("{} (resumed)", saved.label));
        drive(l.clone());
    } else {
        // Told when it finished, before the reload.
        l.told_finished.set(true);
    }
    Some(l)
}

/// Resumes every bulk run a reload interrupted, whichever page started it (the app
/// calls this once at start; the tray shows each, and one still in its undo window can
/// be undone).
pub fn resume_all(api: Api, events: RunEvents) {
    for key in KEYS {
        if live(key).is_none() {
            resume(key, api, events);
        }
    }
}

/// Undo: a run still in its undo window is cancelled before anything is sent. Returns
/// whether there was one.
pub fn undo(key: &str) -> bool {
    match live(key) {
        Some(l) if l.hold_until.get().is_some() => {
            l.cancel.set(true);
            true
        }
        _ => false,
    }
}

/// Why a run was not started: this page's previous one is still going.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlreadyRunning;

impl std::fmt::Display for AlreadyRunning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Another delete is still running on this page.")
    }
}

/// A page's handle on the run of its key.
#[derive(Clone, Copy)]
pub struct BulkRunHandle {
    key: &'static str,
    state: RwSignal<Option<BulkRun>>,
    hold_until: RwSignal<Option<i64>>,
    api: Api,
    events: RunEvents,
    settings: SettingsCtx,
}

/// Subscribes to the run of `key` (`"snapshots"`, `"cleanup"`): the one still going in
/// this tab, or the one saved before a reload — which is resumed.
pub fn use_bulk_run(key: &'static str) -> BulkRunHandle {
    let handle = BulkRunHandle {
        key,
        state: RwSignal::new(None),
        hold_until: RwSignal::new(None),
        api: use_api(),
        events: use_run_events(),
        settings: use_settings(),
    };
    if let Some(l) = live(key).or_else(|| resume(key, handle.api, handle.events)) {
        l.watch(handle.watcher());
    }
    handle
}

impl BulkRunHandle {
    fn watcher(&self) -> Watcher {
        Watcher {
            run: self.state,
            hold_until: self.hold_until,
        }
    }

    /// The run as last published (tracked); `None` when there is none.
    pub fn state(&self) -> Signal<Option<BulkRun>> {
        self.state.into()
    }

    /// When the run's undo window ends (tracked); `None` once it is sending, or when
    /// there is no window.
    pub fn hold_until(&self) -> Signal<Option<i64>> {
        self.hold_until.into()
    }

    /// Undo during the window: nothing of the run is sent.
    pub fn undo(&self) {
        undo(self.key);
    }

    /// Whether a run is going (tracked).
    pub fn is_running(&self) -> bool {
        self.state
            .with(|s| s.as_ref().is_some_and(|r| !r.is_finished()))
    }

    /// Starts `run` (the confirmed list). Refused while another run of this key is
    /// still going: one bulk delete per page at a time.
    pub fn start(&self, label: String, run: BulkRun) -> Result<(), AlreadyRunning> {
        self.start_from_plan(label, run, None)
    }

    /// [`start`](Self::start) for a run confirmed from the server's plan job
    /// `plan_job` (the server then runs it against that plan).
    pub fn start_from_plan(
        &self,
        label: String,
        run: BulkRun,
        plan_job: Option<String>,
    ) -> Result<(), AlreadyRunning> {
        if live(self.key).is_some_and(|l| !l.run.borrow().is_finished()) {
            return Err(AlreadyRunning);
        }
        let l = register(self.key, label.clone(), run, self.api, self.events);
        l.plan_job.replace(plan_job);
        // Deletes started here wait out the undo window (Settings) before any is sent.
        let hold_ms = i64::from(self.settings.settings.with_untracked(|s| s.undo_seconds)) * 1000;
        if hold_ms > 0 {
            l.hold_ms.set(hold_ms);
            l.hold_until.set(Some(now_ms() + hold_ms));
        }
        l.watch(self.watcher());
        l.start_drive(&label);
        l.publish();
        drive(l);
        Ok(())
    }

    /// Puts retryable failures back in the queue and drives again (once the run is
    /// back from its driving task: the button only shows when it has finished).
    pub fn retry_failed(&self) {
        let Some(l) = live(self.key) else { return };
        if !l.driving.get() && l.run.borrow_mut().retry_failed() > 0 {
            l.start_drive(&format!("{} (retry)", l.label));
            l.publish();
            drive(l);
        }
    }

    /// Skips what has not started; what is in flight finishes. (The driving task
    /// cancels at its next turn, within a tick.)
    pub fn cancel(&self) {
        if let Some(l) = live(self.key)
            && l.driving.get()
        {
            l.cancel.set(true);
        }
    }

    /// Forgets a finished run (its outcomes disappear from the page).
    pub fn dismiss(&self) {
        if live(self.key).is_some_and(|l| !l.run.borrow().is_finished()) {
            return;
        }
        LIVE.with(|m| m.borrow_mut().remove(self.key));
        storage::remove(Area::Local, &storage_key(self.key));
        self.state.set(None);
        self.hold_until.set(None);
    }
}
