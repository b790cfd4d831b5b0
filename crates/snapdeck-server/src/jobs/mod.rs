//! Jobs: the heavy work of a cleanup — a plan's status fan-in over every snapshot in
//! scope, a confirmed bulk delete — done by this server instead of a browser tab, under
//! `/_snapdeck/jobs` (the wire contract is `snapdeck_core::jobs`).
//!
//! * A tab creates a job (idempotently, by its request id), follows it live with
//!   server-sent events or by polling, and can cancel it; every tab sees every job.
//! * Jobs run on a thread of their own (a current-thread tokio runtime and a `LocalSet`:
//!   snapdeck-api's `Transport` futures carry no `Send` bound), against the API this
//!   process talks to, through its own `/v1` pipeline ([`transport`]): the emulator with
//!   its latency and faults, or the upstream in proxy mode. Up to
//!   [`SERVER_CONCURRENCY`] requests per job, with the client's retry policy.
//! * Durable ([`db`]): a job and each of its items are in SQLite, and an item's delete is
//!   written down as sent before it is sent. After a restart (a `kill -9` included)
//!   unfinished jobs resume: a plan is computed again, a delete run goes through
//!   `BulkRun::resume_after_interruption`, which re-checks every unsettled item, so
//!   nothing is deleted twice and nothing outside the confirmed set ever is.
//! * Terminal snapshot statuses are cached, so a second plan makes no status call for
//!   them.
//!
//! [`Jobs`] is the handle; the router reaches it as an `Extension` (see [`Jobs::layer`]), so
//! `app(state)` mounts the routes whether or not jobs run (without them the routes
//! answer 503 and `/healthz` says `"jobs": {"available": false}`).

mod api;
mod db;
mod drive;
mod runner;
mod transport;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::{Extension, Router};
pub use snapdeck_core::jobs::SERVER_CONCURRENCY;
use snapdeck_core::jobs::{ItemEvent, JobSummary};
use tokio::sync::{Notify, broadcast, mpsc};

pub use api::router;
use db::JobDb;

use crate::error::{Error, Result};
use crate::state::AppState;

/// What the runner tells followers.
#[derive(Debug, Clone)]
pub(crate) enum Emitted {
    Summary(JobSummary),
    Item(ItemEvent),
}

/// A job's stop button: set by a cancel request, read by its run.
#[derive(Debug, Default)]
pub(crate) struct CancelFlag {
    requested: std::sync::atomic::AtomicBool,
    wake: Notify,
}

impl CancelFlag {
    pub(crate) fn request(&self) {
        self.requested
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.wake.notify_one();
    }

    pub(crate) fn is_requested(&self) -> bool {
        self.requested.load(std::sync::atomic::Ordering::SeqCst)
    }
}

struct Shared {
    db: Mutex<JobDb>,
    events: broadcast::Sender<Emitted>,
    /// Job ids for the runner to start (new, or waiting for a key).
    start: mpsc::UnboundedSender<String>,
    cancels: Mutex<HashMap<String, Arc<CancelFlag>>>,
    /// Proxy mode without a key of its own: the key of whoever created (or last
    /// followed) each job, in memory only — never written anywhere.
    caller_keys: Mutex<HashMap<String, String>>,
    /// Whether jobs need a caller's key (see `caller_keys`).
    key_from_caller: bool,
    /// The key jobs send, when they do not need the caller's.
    own_key: String,
}

/// The jobs of this server: cheap to clone, shared by the handlers and the runner.
#[derive(Clone)]
pub struct Jobs(Arc<Shared>);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Jobs {
    /// Opens the jobs' tables in `data` (`None`: in memory), starts the runner thread
    /// and resumes the jobs a previous process left unfinished.
    ///
    /// `router` is what the jobs call: the server's own `app(state)`, without this
    /// layer (a job has no business creating jobs). The caller builds it, so this
    /// module does not depend on the crate root that mounts it.
    pub fn start(state: &AppState, router: Router, data: Option<&Path>) -> Result<Self> {
        let db = JobDb::open(data)?;
        let config = state.config();
        let injects = config.upstream.as_ref().is_some_and(|u| u.injects_key());
        let key_from_caller = config.upstream.is_some() && !injects && config.api_key.is_none();
        let (start, starts) = mpsc::unbounded_channel();
        let (events, _) = broadcast::channel(1024);
        let jobs = Self(Arc::new(Shared {
            db: Mutex::new(db),
            events,
            start,
            cancels: Mutex::new(HashMap::new()),
            caller_keys: Mutex::new(HashMap::new()),
            key_from_caller,
            // Any key passes the emulator without --api-key, and a key-injecting proxy
            // replaces it.
            // With a caller token (a key-injecting proxy), the jobs show it like any
            // caller; the proxy then swaps in its key.
            own_key: config
                .access
                .token()
                .or(config.api_key.as_deref())
                .unwrap_or("snapdeck-jobs")
                .to_owned(),
        }));
        let for_runner = jobs.clone();
        std::thread::Builder::new()
            .name("snapdeck-jobs".into())
            .spawn(move || runner::serve(for_runner, router, starts))
            .map_err(|e| Error::Internal(format!("cannot start the jobs thread: {e}")))?;
        Ok(jobs)
    }

    /// The layer that hands this to the routes (`app(state).layer(jobs.layer())`).
    pub fn layer(&self) -> Extension<Self> {
        Extension(self.clone())
    }

    fn db(&self) -> MutexGuard<'_, JobDb> {
        lock(&self.0.db)
    }

    fn emit(&self, e: Emitted) {
        // No follower is not an error.
        let _ = self.0.events.send(e);
    }

    fn cancel_flag(&self, id: &str) -> Arc<CancelFlag> {
        lock(&self.0.cancels)
            .entry(id.to_owned())
            .or_default()
            .clone()
    }

    fn forget_cancel_flag(&self, id: &str) {
        lock(&self.0.cancels).remove(id);
    }

    /// The key a job's requests carry, if one is known.
    fn key_for(&self, id: &str) -> Option<String> {
        if self.0.key_from_caller {
            lock(&self.0.caller_keys).get(id).cloned()
        } else {
            Some(self.0.own_key.clone())
        }
    }

    /// Remembers a caller's key for a job (proxy mode without a key of its own); true
    /// when the job had none, so it may have been waiting for one.
    fn offer_key(&self, id: &str, key: Option<&str>) -> bool {
        if !self.0.key_from_caller {
            return false;
        }
        let Some(key) = key.filter(|k| !k.is_empty()) else {
            return false;
        };
        lock(&self.0.caller_keys)
            .insert(id.to_owned(), key.to_owned())
            .is_none()
    }

    fn start_job(&self, id: &str) {
        // The runner only stops with the process.
        let _ = self.0.start.send(id.to_owned());
    }
}
