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
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};
use snapdeck_api::{Snapshot, SnapshotStatus};
use snapdeck_core::BulkRun;
use snapdeck_core::bulk::Listing;
use snapdeck_run::{Observer, Options, RunApi};

use crate::api::{Api, ApiError, SnapshotFilter, use_api};
use crate::hooks::use_now::now_ms;
use crate::hooks::use_ops::{Ops, use_ops};
use crate::hooks::use_refresh::{DataVersion, use_refresh};
use crate::storage::{self, Area};

/// How often progress is published at most (ms): in batches, so a run of thousands
/// does not re-render (and re-save) per request.
const TICK_MS: u64 = 150;

/// What is saved per run.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Saved {
    label: String,
    run: BulkRun,
}

/// One live run and whoever watches it.
struct Live {
    key: &'static str,
    label: String,
    /// The run as last published (the driving task holds the live one).
    run: RefCell<BulkRun>,
    driving: Cell<bool>,
    /// Cancel was pressed; the driving task cancels at its next turn.
    cancel: Cell<bool>,
    /// The tray entry of the current drive.
    op: Cell<Option<u64>>,
    api: Api,
    ops: Ops,
    version: DataVersion,
    watchers: RefCell<Vec<RwSignal<Option<BulkRun>>>>,
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

    /// Saves, updates the tray and every page watching.
    fn publish(&self) {
        let run = self.snapshot();
        storage::set_json(
            Area::Local,
            &storage_key(self.key),
            &Saved {
                label: self.label.clone(),
                run: run.clone(),
            },
        );
        if let Some(op) = self.op.get() {
            let c = run.counts();
            self.ops
                .cleanup_progress(op, c.done, c.failed, run.is_finished());
            if run.is_finished() {
                self.op.set(None);
            }
        }
        self.watchers.borrow_mut().retain(|w| !w.is_disposed());
        for w in self.watchers.borrow().iter() {
            w.set(Some(run.clone()));
        }
    }

    fn open_op(&self, label: &str) {
        let total = self.run.borrow().items.len();
        self.op
            .set(Some(self.ops.start_cleanup(label.to_owned(), total)));
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
        let mut run = live.run.borrow().clone();
        let api = TabApi(live.api);
        let mut publisher = Publisher {
            live: &live,
            last_ms: None,
        };
        snapdeck_run::drive(&api, &mut run, &Options::default(), &mut publisher).await;
        *live.run.borrow_mut() = run;
        live.cancel.set(false);
        live.driving.set(false);
        live.publish();
        live.version.bump();
    });
}

fn live(key: &'static str) -> Option<Rc<Live>> {
    LIVE.with(|l| l.borrow().get(key).cloned())
}

/// A page's handle on the run of its key.
#[derive(Clone, Copy)]
pub struct BulkRunHandle {
    key: &'static str,
    state: RwSignal<Option<BulkRun>>,
    api: Api,
    ops: Ops,
    version: DataVersion,
}

/// Subscribes to the run of `key` (`"snapshots"`, `"cleanup"`): the one still going in
/// this tab, or the one saved before a reload — which is resumed.
pub fn use_bulk_run(key: &'static str) -> BulkRunHandle {
    let api = use_api();
    let version = use_refresh();
    let state = RwSignal::new(None);
    let handle = BulkRunHandle {
        key,
        state,
        api,
        ops: use_ops(),
        version,
    };
    let existing = live(key).or_else(|| {
        let saved: Saved = storage::get_json(Area::Local, &storage_key(key))?;
        let mut run = saved.run;
        let unfinished = !run.is_finished();
        if unfinished {
            run.resume_after_interruption();
        }
        let l = handle.register(saved.label.clone(), run);
        if unfinished {
            l.open_op(&format!("{} (resumed)", saved.label));
            drive(l.clone());
        }
        Some(l)
    });
    if let Some(l) = existing {
        state.set(Some(l.snapshot()));
        l.watchers.borrow_mut().push(state);
    }
    handle
}

impl BulkRunHandle {
    fn register(&self, label: String, run: BulkRun) -> Rc<Live> {
        let l = Rc::new(Live {
            key: self.key,
            label,
            run: RefCell::new(run),
            driving: Cell::new(false),
            cancel: Cell::new(false),
            op: Cell::new(None),
            api: self.api,
            ops: self.ops,
            version: self.version,
            watchers: RefCell::new(Vec::new()),
        });
        LIVE.with(|m| m.borrow_mut().insert(self.key, l.clone()));
        l
    }

    /// The run as last published (tracked); `None` when there is none.
    pub fn state(&self) -> Signal<Option<BulkRun>> {
        self.state.into()
    }

    /// Whether a run is going (tracked).
    pub fn is_running(&self) -> bool {
        self.state
            .with(|s| s.as_ref().is_some_and(|r| !r.is_finished()))
    }

    /// Starts `run` (the confirmed list). Refused while another run of this key is
    /// still going: one bulk delete per page at a time.
    pub fn start(&self, label: String, run: BulkRun) -> Result<(), String> {
        if live(self.key).is_some_and(|l| !l.run.borrow().is_finished()) {
            return Err("Another delete is still running on this page.".into());
        }
        let l = self.register(label.clone(), run);
        l.watchers.borrow_mut().push(self.state);
        l.open_op(&label);
        l.publish();
        drive(l);
        Ok(())
    }

    /// Puts retryable failures back in the queue and drives again (once the run is
    /// back from its driving task: the button only shows when it has finished).
    pub fn retry_failed(&self) {
        let Some(l) = live(self.key) else { return };
        if !l.driving.get() && l.run.borrow_mut().retry_failed() > 0 {
            l.open_op(&format!("{} (retry)", l.label));
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
    }
}
