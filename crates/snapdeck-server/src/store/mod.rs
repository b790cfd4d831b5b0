//! The emulated account: devboxes, disk snapshots and blueprints, their lifecycles, and
//! the rules the real API enforces (what may be shut down, deleted, snapshotted).
//!
//! Records live in memory for fast reads and are written through to SQLite ([`Db`]) on
//! every change, so a restart loses nothing. Work in flight is stored as *due
//! transitions* — "becomes `running` at t", "completes at t" — never as timers: on every
//! access [`Store::tick`] applies whatever has fallen due by the wall clock. A snapshot
//! that was in progress when the server stopped therefore completes on the first read
//! after it starts again (or on the background ticker's next pass), and a booting devbox
//! finishes booting. Transition times are the due times, not the time they were noticed,
//! so `state_transitions` reads the same whether the server was up or not.
//!
//! This file holds the [`Store`] itself (open, tick, ids, record plumbing, idempotency);
//! each resource's records and rules are in their own file: [`devboxes`], [`snapshots`],
//! [`blueprints`], [`files`], [`execs`] (commands and logs) and [`lifecycle`] (keep-alive
//! and idle timers). List endpoints take typed arguments ([`Paging`], [`DevboxQuery`],
//! [`SnapshotQuery`], [`BlueprintQuery`]); parsing the query string is the HTTP layer's.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use snapdeck_api::{Devbox, DevboxStatus};

use crate::db::{Db, StoredResponse, Table};
use crate::error::Result;
pub use crate::shell::HOME;

mod blueprints;
mod devboxes;
mod execs;
mod files;
mod lifecycle;
mod list;
mod snapshots;

use blueprints::save_blueprint;
pub use blueprints::{BlueprintQuery, BlueprintRec};
use devboxes::save_devbox;
pub use devboxes::{DevboxQuery, DevboxRec};
pub use execs::{
    DEFAULT_LAST_N, DevboxLife, ExecRec, ExecSource, ExecStart, NewExecution, last_lines, log_line,
};
pub use files::resolve_path;
pub use lifecycle::{LifeClock, LifeTimer, TimerAction};
pub use list::{DEFAULT_LIMIT, MAX_LIMIT, Paging};
use snapshots::save_snapshot;
pub use snapshots::{SnapshotQuery, SnapshotRec};

/// How long the emulated operations take, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    /// `provisioning` → `running` (passing `initializing` two thirds of the way).
    pub boot_ms: i64,
    /// `suspending` → `suspended`.
    pub suspend_ms: i64,
    /// `resuming` → `running`.
    pub resume_ms: i64,
    /// A disk snapshot from `in_progress` to `complete` (or `error`).
    pub snapshot_ms: i64,
    /// A blueprint from `queued` to `build_complete`.
    pub blueprint_build_ms: i64,
}

impl Default for Timings {
    fn default() -> Self {
        Self {
            boot_ms: 1500,
            suspend_ms: 1000,
            resume_ms: 1000,
            snapshot_ms: 3000,
            blueprint_build_ms: 4000,
        }
    }
}

/// A status some resource takes on at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Step<S> {
    pub status: S,
    pub due_ms: i64,
}

/// Everything the emulator knows; see the module doc.
pub struct Store {
    db: Db,
    timings: Timings,
    devboxes: HashMap<String, DevboxRec>,
    snapshots: HashMap<String, SnapshotRec>,
    blueprints: HashMap<String, BlueprintRec>,
    executions: HashMap<String, ExecRec>,
    /// The clock of keep-alive and idle timers (see [`LifeClock`]).
    clock: LifeClock,
    next_seq: u64,
    /// Earliest due transition of any record: [`Store::tick`] is free until then.
    next_due: Option<i64>,
    rng: fastrand::Rng,
    /// A devbox or snapshot changed status since the last [`Store::take_dirty`].
    dirty: bool,
}

impl Store {
    /// Loads every record from `db`.
    pub fn open(db: Db, timings: Timings) -> Result<Self> {
        let mut store = Self {
            db,
            timings,
            devboxes: HashMap::new(),
            snapshots: HashMap::new(),
            blueprints: HashMap::new(),
            executions: HashMap::new(),
            clock: LifeClock::new(crate::clock::now_ms(), 1.0),
            next_seq: 1,
            next_due: None,
            rng: fastrand::Rng::new(),
            dirty: false,
        };
        store.reload()?;
        Ok(store)
    }

    fn reload(&mut self) -> Result<()> {
        let devboxes: Vec<DevboxRec> = self.db.load(Table::Devboxes)?;
        let snapshots: Vec<SnapshotRec> = self.db.load(Table::Snapshots)?;
        let blueprints: Vec<BlueprintRec> = self.db.load(Table::Blueprints)?;
        let executions: Vec<ExecRec> = self.db.load(Table::Executions)?;
        let max_seq = devboxes
            .iter()
            .map(|r| r.seq)
            .chain(snapshots.iter().map(|r| r.seq))
            .chain(blueprints.iter().map(|r| r.seq))
            .chain(executions.iter().map(|r| r.seq))
            .max()
            .unwrap_or(0);
        self.next_seq = max_seq + 1;
        self.devboxes = devboxes
            .into_iter()
            .map(|mut r| {
                // Launch commands that were running stopped with the process: the boot
                // goes on without them.
                r.life.launch_pending = false;
                (r.view.id.clone(), r)
            })
            .collect();
        self.snapshots = snapshots
            .into_iter()
            .map(|r| (r.view.id.clone(), r))
            .collect();
        self.blueprints = blueprints
            .into_iter()
            .map(|r| (r.view.id.clone(), r))
            .collect();
        self.executions = executions.into_iter().map(|r| (r.id.clone(), r)).collect();
        self.end_interrupted_executions(crate::clock::now_ms())?;
        self.recompute_next_due();
        self.dirty = true;
        Ok(())
    }

    /// True when the account holds no records at all (a new database).
    pub fn is_empty(&self) -> bool {
        self.devboxes.is_empty() && self.snapshots.is_empty() && self.blueprints.is_empty()
    }

    /// The configured durations.
    pub fn timings(&self) -> Timings {
        self.timings
    }

    /// Wipes every record and file (and the idempotency log).
    pub fn clear(&mut self) -> Result<()> {
        self.db.clear()?;
        self.reload()
    }

    /// Number of (devboxes, snapshots, blueprints), deleted ones included.
    pub fn counts(&self) -> (usize, usize, usize) {
        (
            self.devboxes.len(),
            self.snapshots.len(),
            self.blueprints.len(),
        )
    }

    /// Whether a status changed since the last call (to wake long polls).
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    /// Earliest due transition, for the background ticker.
    pub fn next_due(&self) -> Option<i64> {
        self.next_due
    }

    /// Applies every transition due at `now`, writing changed records through.
    pub fn tick(&mut self, now: i64) -> Result<()> {
        if self.next_due.is_none_or(|due| due > now) {
            return Ok(());
        }
        let Self {
            db,
            devboxes,
            snapshots,
            blueprints,
            clock,
            timings,
            ..
        } = self;
        let mut changed = false;
        db.transaction(|db| {
            for rec in devboxes.values_mut() {
                let was = rec.view.status;
                if rec.advance(now, clock, timings.suspend_ms) {
                    if rec.view.status == DevboxStatus::Shutdown && was != DevboxStatus::Shutdown {
                        // A keep-alive or idle shutdown discards the disk like any other.
                        db.delete_files(&rec.view.id)?;
                    }
                    save_devbox(db, rec)?;
                    changed = true;
                }
            }
            for rec in snapshots.values_mut() {
                if rec.advance(now) {
                    save_snapshot(db, rec)?;
                    changed = true;
                }
            }
            for rec in blueprints.values_mut() {
                if rec.advance(now) {
                    save_blueprint(db, rec)?;
                }
            }
            Ok(())
        })?;
        self.dirty |= changed;
        self.recompute_next_due();
        Ok(())
    }

    fn recompute_next_due(&mut self) {
        self.next_due = self
            .devboxes
            .values()
            .filter_map(|r| r.next_due(&self.clock))
            .chain(self.snapshots.values().filter_map(|r| r.due_ms))
            .chain(
                self.blueprints
                    .values()
                    .filter_map(|r| r.steps.front().map(|s| s.due_ms)),
            )
            .min();
    }

    fn schedule(&mut self, due: Option<i64>) {
        if let Some(due) = due {
            self.next_due = Some(self.next_due.map_or(due, |d| d.min(due)));
        }
    }

    fn seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// A new id like Runloop's: prefix, underscore, 21 base-62 characters.
    pub fn new_id(&mut self, prefix: &str) -> String {
        new_id(&mut self.rng, prefix)
    }

    // ---- record plumbing (also used by the demo seed) ----

    /// Stores a devbox record as is (assigning its `seq`).
    pub(crate) fn insert_devbox(&mut self, mut rec: DevboxRec) -> Result<DevboxRec> {
        rec.seq = self.seq();
        save_devbox(&self.db, &rec)?;
        self.index_devbox(rec.clone());
        Ok(rec)
    }

    fn index_devbox(&mut self, rec: DevboxRec) {
        self.schedule(rec.next_due(&self.clock));
        self.dirty = true;
        self.devboxes.insert(rec.view.id.clone(), rec);
    }

    /// Stores a snapshot record as is (assigning its `seq`).
    pub(crate) fn insert_snapshot(&mut self, mut rec: SnapshotRec) -> Result<SnapshotRec> {
        rec.seq = self.seq();
        save_snapshot(&self.db, &rec)?;
        self.index_snapshot(rec.clone());
        Ok(rec)
    }

    fn index_snapshot(&mut self, rec: SnapshotRec) {
        self.schedule(rec.due_ms);
        self.dirty = true;
        self.snapshots.insert(rec.view.id.clone(), rec);
    }

    /// Stores a blueprint record as is (assigning its `seq`).
    pub(crate) fn insert_blueprint(&mut self, mut rec: BlueprintRec) -> Result<BlueprintRec> {
        rec.seq = self.seq();
        save_blueprint(&self.db, &rec)?;
        self.schedule(rec.steps.front().map(|s| s.due_ms));
        self.blueprints.insert(rec.view.id.clone(), rec.clone());
        Ok(rec)
    }

    /// Replaces a devbox record after a change.
    fn update_devbox_rec(&mut self, rec: DevboxRec) -> Result<Devbox> {
        save_devbox(&self.db, &rec)?;
        self.schedule(rec.next_due(&self.clock));
        self.dirty = true;
        let view = rec.view.clone();
        self.devboxes.insert(rec.view.id.clone(), rec);
        Ok(view)
    }

    fn update_snapshot_rec(&mut self, rec: SnapshotRec) -> Result<()> {
        save_snapshot(&self.db, &rec)?;
        self.schedule(rec.due_ms);
        self.dirty = true;
        self.snapshots.insert(rec.view.id.clone(), rec);
        Ok(())
    }

    /// The database, for file contents.
    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    // ---- idempotency ----

    /// The stored answer to an earlier request with this `x-request-id`.
    pub fn replay(&self, key: &str, method: &str, path: &str) -> Result<Option<StoredResponse>> {
        self.db.request_get(key, method, path)
    }

    /// Remembers the answer to a request with an `x-request-id`.
    pub fn remember(
        &self,
        key: &str,
        method: &str,
        path: &str,
        response: &StoredResponse,
        now: i64,
    ) -> Result<()> {
        self.db.request_put(key, method, path, response, now)
    }

    /// Forgets idempotency keys older than a day.
    pub fn prune_requests(&self, now: i64) -> Result<()> {
        self.db.prune_requests(now - 24 * 3600 * 1000)
    }
}

/// `prefix_` + 21 base-62 characters, the shape of Runloop's ids (`dbx_31Cm…`).
pub fn new_id(rng: &mut fastrand::Rng, prefix: &str) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let tail: String = (0..21)
        .map(|_| char::from(ALPHABET[rng.usize(..ALPHABET.len())]))
        .collect();
    format!("{prefix}_{tail}")
}

#[cfg(test)]
mod tests {
    use snapdeck_api::CreateDevbox;

    use super::*;

    #[test]
    fn ids_look_like_runloops() {
        let mut rng = fastrand::Rng::with_seed(1);
        let id = new_id(&mut rng, "snp");
        assert_eq!(id.len(), 4 + 21);
        assert!(id.starts_with("snp_"));
        assert!(id[4..].chars().all(|c| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn due_transitions_apply_with_their_due_times_not_the_time_they_are_noticed() {
        let db = Db::open(None).expect("db");
        let mut store = Store::open(db, Timings::default()).expect("store");
        let dbx = store
            .create_devbox(CreateDevbox::default(), 1_000)
            .expect("create");
        // Noticed long after both steps were due.
        store.tick(1_000_000).expect("tick");
        let view = store.get_devbox(&dbx.id).expect("get");
        assert_eq!(view.status, DevboxStatus::Running);
        let times: Vec<_> = view
            .state_transitions
            .iter()
            .map(|t| t.transition_time_ms)
            .collect();
        assert_eq!(times, [Some(1_000), Some(2_000), Some(2_500)]);
        assert_eq!(store.next_due(), None);
    }
}
