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
//! All I/O is here; every decision (what to re-check and delete when, whether a
//! re-check passed, what a failure means, retries and backoff) is snapdeck-core's. A run
//! has at most one listing and [`BulkRun::max_concurrency`] deletes (four by default)
//! in flight: five of the six connections a browser opens per origin over HTTP/1.1.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};
use snapdeck_api::Snapshot;
use snapdeck_core::BulkRun;
use snapdeck_core::bulk::Wave;

use crate::api::{Api, ApiError, SnapshotFilter, use_api};
use crate::hooks::use_now::now_ms;
use crate::hooks::use_ops::{Ops, use_ops};
use crate::hooks::use_refresh::{DataVersion, use_refresh};
use crate::storage::{self, Area};

/// How often the driver looks for work and publishes progress (ms). Progress is
/// published in batches so a run of thousands does not re-render per request.
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
    run: RefCell<BulkRun>,
    /// Something changed since the last publish.
    dirty: Cell<bool>,
    driving: Cell<bool>,
    /// The tray entry, when the tray exists.
    op: Cell<Option<u64>>,
    api: Api,
    ops: Option<Ops>,
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
        self.dirty.set(false);
        let run = self.snapshot();
        storage::set_json(
            Area::Local,
            &storage_key(self.key),
            &Saved {
                label: self.label.clone(),
                run: run.clone(),
            },
        );
        if let (Some(ops), Some(op)) = (self.ops, self.op.get()) {
            let c = run.counts();
            ops.cleanup_progress(op, c.done, c.failed, run.is_finished());
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
        if let Some(ops) = self.ops {
            let total = self.run.borrow().items.len();
            self.op
                .set(Some(ops.start_cleanup(label.to_owned(), total)));
        }
    }
}

/// Starts the driving loop unless it is already going. The loop wakes every tick for
/// retries that come due and to publish progress; results start the next work at once.
fn drive(live: Rc<Live>) {
    if live.driving.replace(true) {
        return;
    }
    spawn_local(async move {
        loop {
            start_due(&live);
            if live.dirty.get() {
                live.publish();
            }
            if live.run.borrow().is_finished() {
                break;
            }
            gloo_timers::future::sleep(Duration::from_millis(TICK_MS)).await;
        }
        live.driving.set(false);
        live.publish();
        live.version.bump();
    });
}

/// Starts what core says can start now: the next wave's re-check listing, and deletes
/// up to the bound.
fn start_due(live: &Rc<Live>) {
    let now = now_ms();
    let wave = live.run.borrow_mut().next_wave(now);
    if let Some(wave) = wave {
        live.dirty.set(true);
        spawn_local(recheck(live.clone(), wave));
    }
    let ids = live.run.borrow_mut().next_deletes();
    for id in ids {
        live.dirty.set(true);
        spawn_local(delete(live.clone(), id));
    }
}

/// One wave's re-check: the snapshots of its devboxes as listed now (metadata, source
/// and existence are all the list carries, and all that can change of a complete or
/// errored snapshot). Core then clears the unchanged ones for deletion.
async fn recheck(live: Rc<Live>, wave: Wave) {
    let listed = list(&live.api, &wave).await;
    match listed {
        Ok(listed) => live.run.borrow_mut().on_listing(&wave, &listed, now_ms()),
        Err(e) => live.run.borrow_mut().on_listing_error(&wave, &e, now_ms()),
    }
    live.dirty.set(true);
    start_due(&live);
}

/// Per devbox, one after the other: waves are grouped by devbox (usually one), and one
/// listing at a time keeps the run within its connections. (The account's size is not
/// known here, so never the whole account: see `Wave::listing`.)
async fn list(api: &Api, wave: &Wave) -> Result<Vec<Snapshot>, ApiError> {
    let mut all = Vec::new();
    for devbox_id in &wave.devbox_ids {
        let filter = SnapshotFilter {
            devbox_id: Some(devbox_id.clone()),
            ..SnapshotFilter::default()
        };
        all.extend(api.list_snapshots(&filter).await?);
    }
    Ok(all)
}

/// One delete, cleared by core.
async fn delete(live: Rc<Live>, id: String) {
    let result = live.api.delete_snapshot(&id).await;
    live.run.borrow_mut().on_result(&id, result, now_ms());
    live.dirty.set(true);
    start_due(&live);
}

fn live(key: &'static str) -> Option<Rc<Live>> {
    LIVE.with(|l| l.borrow().get(key).cloned())
}

/// A page's handle on the run of its key.
#[derive(Debug, Clone, Copy)]
pub struct BulkRunHandle {
    key: &'static str,
    state: RwSignal<Option<BulkRun>>,
    api: Api,
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
            dirty: Cell::new(false),
            driving: Cell::new(false),
            op: Cell::new(None),
            api: self.api,
            ops: use_ops(),
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

    /// Puts retryable failures back in the queue and drives again.
    pub fn retry_failed(&self) {
        let Some(l) = live(self.key) else { return };
        if l.run.borrow_mut().retry_failed() > 0 {
            l.open_op(&format!("{} (retry)", l.label));
            l.publish();
            drive(l);
        }
    }

    /// Skips what has not started; what is in flight finishes.
    pub fn cancel(&self) {
        if let Some(l) = live(self.key) {
            l.run.borrow_mut().cancel();
            l.publish();
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
