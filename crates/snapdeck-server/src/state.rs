//! Shared server state: the store behind one lock, the configuration ([`crate::config`]),
//! the fault knobs, the commands running now ([`Runs`]) and the change
//! signal that wakes long polls.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;

use crate::clock::now_ms;
use crate::config::Config;
use crate::error::Result;
use crate::executions::runs::Runs;
use crate::faults::Faults;
use crate::store::Store;

struct Shared {
    store: Mutex<Store>,
    config: Config,
    faults: Mutex<Faults>,
    /// Whether any per-request fault (latency, 5xx, 429, drop) is on: the common case,
    /// all off, then costs every request one atomic load instead of a lock.
    request_faults_on: AtomicBool,
    /// Bumped whenever a devbox or snapshot changes status.
    changes: watch::Sender<u64>,
    /// One async lock per `x-request-id` in flight, so a retry that overtakes its
    /// original waits for it and then replays its answer instead of acting twice.
    request_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Commands running now (output so far, kill switches, named shells).
    runs: Arc<Runs>,
}

/// Cheap to clone; handed to every handler.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// Locks a std mutex, recovering from poisoning: a panicking handler must not take the
/// whole emulator down with it, and every write is already durable in SQLite.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl AppState {
    /// Wraps an opened store.
    pub fn new(store: Store, config: Config, faults: Faults) -> Self {
        let (changes, _) = watch::channel(0);
        Self(Arc::new(Shared {
            store: Mutex::new(store),
            config,
            request_faults_on: AtomicBool::new(faults.affects_requests()),
            faults: Mutex::new(faults),
            changes,
            request_locks: Mutex::new(HashMap::new()),
            runs: Arc::default(),
        }))
    }

    /// Runs `f` on the store with due transitions applied first. The lock is a std
    /// mutex held only for the synchronous body, never across an `.await`.
    pub fn with<T>(&self, f: impl FnOnce(&mut Store, i64) -> Result<T>) -> Result<T> {
        let now = now_ms();
        let mut store = lock(&self.0.store);
        store.tick(now)?;
        let out = f(&mut store, now);
        if store.take_dirty() {
            self.0.changes.send_modify(|v| *v = v.wrapping_add(1));
        }
        out
    }

    /// A receiver that wakes on every status change (for long polls).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.0.changes.subscribe()
    }

    /// The commands running now.
    pub fn runs(&self) -> &Arc<Runs> {
        &self.0.runs
    }

    /// The start-up configuration.
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// A copy of the current fault knobs.
    pub fn faults(&self) -> Faults {
        lock(&self.0.faults).clone()
    }

    /// The knobs, but only when some per-request fault is on (the fast path).
    pub fn request_faults(&self) -> Option<Faults> {
        self.0
            .request_faults_on
            .load(Ordering::Relaxed)
            .then(|| self.faults())
    }

    /// Changes the fault knobs and returns the result.
    pub fn update_faults(&self, f: impl FnOnce(&mut Faults)) -> Faults {
        let mut faults = lock(&self.0.faults);
        f(&mut faults);
        self.0
            .request_faults_on
            .store(faults.affects_requests(), Ordering::Relaxed);
        faults.clone()
    }

    /// Decides whether the next snapshot fails, consuming a forced failure if one is
    /// queued; the error message when it does.
    pub fn take_snapshot_failure(&self) -> Option<String> {
        lock(&self.0.faults).take_snapshot_failure()
    }

    /// Decides whether the next boot fails, consuming a forced failure if one is queued;
    /// the reason when it does.
    pub fn take_boot_failure(&self) -> Option<snapdeck_api::FailureReason> {
        lock(&self.0.faults).take_boot_failure()
    }

    /// The async lock for one idempotency key.
    pub fn request_lock(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        lock(&self.0.request_locks)
            .entry(key.to_owned())
            .or_default()
            .clone()
    }

    /// Drops the lock for a key once nobody else holds it.
    pub fn release_request_lock(&self, key: &str, held: Arc<tokio::sync::Mutex<()>>) {
        let mut locks = lock(&self.0.request_locks);
        // Ours plus the map's: nobody else is waiting on it.
        if Arc::strong_count(&held) <= 2 {
            locks.remove(key);
        }
    }
}
