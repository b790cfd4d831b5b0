//! Shared server state: the store behind one lock, the configuration, the fault knobs,
//! and the change signal that wakes long polls.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

use crate::error::Result;
use crate::faults::Faults;
use crate::store::Store;

/// Wall-clock time in Unix milliseconds: the emulator's only clock, so that due times
/// stored before a restart still mean the same instant after it.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Milliseconds from now until `due_ms` (zero if it is past).
pub fn until(due_ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(due_ms - now_ms()).unwrap_or(0))
}

/// Settings fixed at start.
#[derive(Clone, Default)]
pub struct Config {
    /// When set, only `Authorization: Bearer <this>` is accepted; otherwise any
    /// non-empty bearer token is.
    pub api_key: Option<String>,
    /// The built single-page app to serve, if any.
    pub dist: Option<PathBuf>,
    /// Proxy mode: forward `/v1` to the real API instead of emulating it.
    pub upstream: Option<crate::proxy::Upstream>,
    /// Who may call: hosts, origins and (proxy mode) the caller token; see
    /// [`crate::access`]. The default allows the same origin and no token.
    pub access: snapdeck_core::access::AccessPolicy,
}

// Hand-written so the API key never reaches a log line.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("dist", &self.dist)
            .field("upstream", &self.upstream)
            .field("access", &self.access)
            .finish()
    }
}

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
    runs: Arc<crate::executions::Runs>,
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
    pub fn runs(&self) -> &Arc<crate::executions::Runs> {
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
