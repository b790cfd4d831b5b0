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

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};
use snapdeck_api::{
    Blueprint, BlueprintList, BlueprintStatus, CreateBlueprint, CreateDevbox, Devbox, DevboxList,
    DevboxStatus, ExecutionDetail, FailureReason, LaunchParameters, Metadata, ShutdownReason,
    Snapshot, SnapshotList, SnapshotParams, SnapshotStatus, SnapshotStatusView, StateTransition,
    UpdateDevbox,
};

use crate::db::{Db, StoredResponse, Table};
use crate::error::{Error, Params, Result};

mod execs;
mod lifecycle;
pub use execs::{
    DEFAULT_LAST_N, DevboxLife, ExecRec, ExecSource, ExecStart, NewExecution, last_lines, log_line,
};
pub use lifecycle::{LifeClock, LifeTimer, TimerAction};

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
    fn advance(&mut self, now: i64, clock: &LifeClock, suspend_ms: i64) -> bool {
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
    fn enter(&mut self, status: DevboxStatus, at_ms: i64) {
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

    fn next_due(&self, clock: &LifeClock) -> Option<i64> {
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

/// A disk snapshot as stored: its wire view, its status, and how it will end.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SnapshotRec {
    pub seq: u64,
    pub view: Snapshot,
    pub status: SnapshotStatus,
    #[serde(default)]
    pub error_message: Option<String>,
    /// While `in_progress`: when it ends.
    #[serde(default)]
    pub due_ms: Option<i64>,
    /// While `in_progress`: the error it will end with (`None` = it will complete).
    #[serde(default)]
    pub will_fail: Option<String>,
    /// The `size_bytes` it reports once complete (unknown before, as on the real API).
    #[serde(default)]
    pub final_size_bytes: u64,
}

impl SnapshotRec {
    fn advance(&mut self, now: i64) -> bool {
        match self.due_ms {
            Some(due) if due <= now && self.status == SnapshotStatus::InProgress => {
                self.due_ms = None;
                match self.will_fail.take() {
                    Some(message) => {
                        self.status = SnapshotStatus::Error;
                        self.error_message = Some(message);
                    }
                    None => {
                        self.status = SnapshotStatus::Complete;
                        self.view.size_bytes = Some(self.final_size_bytes);
                    }
                }
                true
            }
            _ => false,
        }
    }

    /// The `/status` answer: the snapshot itself only once it completed successfully.
    pub fn status_view(&self) -> SnapshotStatusView {
        SnapshotStatusView {
            status: self.status,
            error_message: self.error_message.clone(),
            snapshot: (self.status == SnapshotStatus::Complete).then(|| self.view.clone()),
        }
    }

    fn is_listed(&self) -> bool {
        self.status != SnapshotStatus::Deleted
    }
}

/// A blueprint as stored: its wire view plus its remaining build steps.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BlueprintRec {
    pub seq: u64,
    pub view: Blueprint,
    #[serde(default)]
    pub steps: VecDeque<Step<BlueprintStatus>>,
}

impl BlueprintRec {
    fn advance(&mut self, now: i64) -> bool {
        let mut changed = false;
        while let Some(step) = self.steps.front().copied().filter(|s| s.due_ms <= now) {
            self.steps.pop_front();
            self.view.status = step.status;
            if matches!(
                step.status,
                BlueprintStatus::BuildComplete | BlueprintStatus::Failed
            ) {
                self.view.build_finish_time_ms = Some(step.due_ms);
            }
            if step.status == BlueprintStatus::Failed {
                self.view.failure_reason = Some("build_failed".into());
            }
            changed = true;
        }
        changed
    }

    fn is_listed(&self) -> bool {
        self.view.state != "deleted"
    }
}

/// Where `write_file_contents`/`read_file_contents` resolve relative paths ("relative to
/// the user home directory" in the spec).
pub const HOME: &str = "/home/user";

/// Resolves a `file_path` as the API does: absolute paths stay, `~/x` and relative paths
/// are taken from the home directory.
pub fn resolve_path(path: &str) -> Result<String> {
    let path = path.trim();
    if path.is_empty() {
        return Err(Error::BadRequest("file_path must not be empty".into()));
    }
    Ok(if path.starts_with('/') {
        path.to_owned()
    } else if let Some(rest) = path.strip_prefix("~/") {
        format!("{HOME}/{rest}")
    } else {
        format!("{HOME}/{}", path.trim_start_matches("./"))
    })
}

/// Sort key for "newest first": creation time, then creation order.
type OrderKey = (i64, u64);

/// One page of a newest-first list, after `starting_after`.
struct Page<'a, T> {
    items: Vec<&'a T>,
    has_more: bool,
    total_count: Option<u64>,
}

/// Pages `items` (already filtered): newest first, strictly after `cursor`, at most
/// `limit`. The cursor is a sort key, not a position in the filtered list, so a page
/// boundary survives the cursor's own record changing or leaving the filter.
fn paginate<T>(
    mut items: Vec<&T>,
    key: impl Fn(&T) -> OrderKey,
    cursor: Option<OrderKey>,
    limit: usize,
    include_total: bool,
) -> Page<'_, T> {
    items.sort_by_key(|item| std::cmp::Reverse(key(item)));
    let total = items.len() as u64;
    if let Some(cursor) = cursor {
        items.retain(|item| key(item) < cursor);
    }
    let has_more = items.len() > limit;
    items.truncate(limit);
    Page {
        items,
        has_more,
        total_count: include_total.then_some(total),
    }
}

/// A stored record that list endpoints page through, newest first.
trait Listed {
    fn order_key(&self) -> OrderKey;
}

impl Listed for DevboxRec {
    fn order_key(&self) -> OrderKey {
        (self.view.create_time_ms, self.seq)
    }
}

impl Listed for SnapshotRec {
    fn order_key(&self) -> OrderKey {
        (self.view.create_time_ms, self.seq)
    }
}

impl Listed for BlueprintRec {
    fn order_key(&self) -> OrderKey {
        (self.view.create_time_ms, self.seq)
    }
}

/// The page of `items` (filtered from `all`) that `starting_after`, `limit` and
/// `include_total_count` ask for. The cursor must name a record of `all` (a `noun`).
fn list_page<'a, T: Listed>(
    all: &HashMap<String, T>,
    items: Vec<&'a T>,
    params: &Params,
    noun: &str,
) -> Result<Page<'a, T>> {
    let cursor = params
        .non_empty("starting_after")
        .map(|id| {
            all.get(id)
                .map(Listed::order_key)
                .ok_or_else(|| Error::BadRequest(format!("starting_after: unknown {noun} {id}")))
        })
        .transpose()?;
    Ok(paginate(
        items,
        Listed::order_key,
        cursor,
        params.limit()?,
        params.bool("include_total_count", true)?,
    ))
}

/// Case-insensitive substring match for the `search`/`name` list filters.
fn matches_search(needle: &str, haystacks: &[Option<&str>]) -> bool {
    let needle = needle.to_lowercase();
    haystacks
        .iter()
        .flatten()
        .any(|h| h.to_lowercase().contains(&needle))
}

/// A metadata filter from the query: `metadata[k]=v` or `metadata[k][in]=v1,v2`.
#[derive(Debug, Clone, PartialEq)]
enum MetadataFilter {
    Eq(String, String),
    In(String, Vec<String>),
}

impl MetadataFilter {
    fn parse(params: &Params) -> Result<Vec<Self>> {
        let mut filters = Vec::new();
        for (name, value) in &params.0 {
            let Some(rest) = name.strip_prefix("metadata[") else {
                continue;
            };
            let Some((key, tail)) = rest.split_once(']') else {
                return Err(Error::BadRequest(format!("malformed filter {name:?}")));
            };
            match tail {
                "" => filters.push(Self::Eq(key.to_owned(), value.clone())),
                "[in]" => filters.push(Self::In(
                    key.to_owned(),
                    value.split(',').map(str::to_owned).collect(),
                )),
                _ => return Err(Error::BadRequest(format!("malformed filter {name:?}"))),
            }
        }
        Ok(filters)
    }

    fn accepts(&self, metadata: &Metadata) -> bool {
        match self {
            Self::Eq(k, v) => metadata.get(k) == Some(v),
            Self::In(k, vs) => metadata.get(k).is_some_and(|v| vs.contains(v)),
        }
    }
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
            clock: LifeClock::new(crate::state::now_ms(), 1.0),
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
        self.end_interrupted_executions(crate::state::now_ms())?;
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

    // ---- devboxes ----

    fn devbox_rec(&self, id: &str) -> Result<&DevboxRec> {
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

    /// `GET /v1/devboxes`: `status`, `limit`, `starting_after`, `include_total_count`, and
    /// (an extension rl-cli also sends) `search`/`name` as a substring of name or id.
    pub fn list_devboxes(&self, params: &Params) -> Result<DevboxList> {
        let status = match params.non_empty("status") {
            Some(s) => Some(
                DevboxStatus::parse(s)
                    .ok_or_else(|| Error::BadRequest(format!("unknown devbox status {s:?}")))?,
            ),
            None => None,
        };
        let search = params.non_empty("search").or(params.non_empty("name"));
        let items = self
            .devboxes
            .values()
            .filter(|r| status.is_none_or(|s| r.view.status == s))
            .filter(|r| {
                search.is_none_or(|q| {
                    matches_search(q, &[r.view.name.as_deref(), Some(r.view.id.as_str())])
                })
            })
            .collect();
        let page = list_page(&self.devboxes, items, params, "devbox")?;
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

    // ---- files ----

    fn running_devbox(&self, id: &str) -> Result<&DevboxRec> {
        let rec = self.devbox_rec(id)?;
        if rec.view.status != DevboxStatus::Running {
            return Err(Error::BadRequest(format!(
                "Devbox is not running (status {})",
                rec.view.status
            )));
        }
        Ok(rec)
    }

    /// `POST /v1/devboxes/{id}/write_file_contents`.
    pub fn write_file(&self, id: &str, path: &str, contents: &str) -> Result<ExecutionDetail> {
        self.running_devbox(id)?;
        self.db
            .write_file(id, &resolve_path(path)?, contents.as_bytes())?;
        Ok(ExecutionDetail {
            devbox_id: id.to_owned(),
            stdout: String::new(),
            stderr: String::new(),
            exit_status: 0,
            shell_name: None,
        })
    }

    /// `POST /v1/devboxes/{id}/upload_file`: any bytes, logged as a `files` line.
    pub fn upload_file(&self, id: &str, path: &str, contents: &[u8], now: i64) -> Result<()> {
        self.running_devbox(id)?;
        let path = resolve_path(path)?;
        self.db.transaction(|db| {
            db.write_file(id, &path, contents)?;
            let line = log_line(
                "files",
                now,
                format!("Uploaded {path} ({} bytes)", contents.len()),
            );
            db.append_log(id, now, &line)
        })
    }

    /// `POST /v1/devboxes/{id}/download_file`: the bytes; 404 for a missing file.
    pub fn download_file(&self, id: &str, path: &str) -> Result<Vec<u8>> {
        self.running_devbox(id)?;
        let path = resolve_path(path)?;
        self.db
            .read_file_bytes(id, &path)?
            .ok_or_else(|| Error::NotFound(format!("File {path} not found on devbox {id}")))
    }

    /// `POST /v1/devboxes/{id}/read_file_contents`: 404 for a missing file.
    pub fn read_file(&self, id: &str, path: &str) -> Result<String> {
        self.running_devbox(id)?;
        let path = resolve_path(path)?;
        self.db
            .read_file(id, &path)?
            .ok_or_else(|| Error::NotFound(format!("File {path} not found on devbox {id}")))
    }

    // ---- disk snapshots ----

    fn snapshot_rec(&self, id: &str) -> Result<&SnapshotRec> {
        self.snapshots
            .get(id)
            .ok_or_else(|| Error::not_found("Snapshot", id))
    }

    /// `snapshot_disk_async` (and the start of `snapshot_disk`): captures the devbox's
    /// files now and completes after the snapshot duration — or fails with the message
    /// `will_fail` gives. It is asked only once the request is valid, so a refused
    /// request does not use up a forced failure.
    pub fn snapshot_disk(
        &mut self,
        devbox_id: &str,
        params: SnapshotParams,
        will_fail: impl FnOnce() -> Option<String>,
        now: i64,
    ) -> Result<Snapshot> {
        let devbox = self.running_devbox(devbox_id)?;
        check_commit_message(params.commit_message.as_deref())?;
        let will_fail = will_fail();
        let base_blueprint_id = devbox.base_blueprint_id.clone();
        let earlier = self
            .snapshots
            .values()
            .filter(|s| s.view.source_devbox_id == devbox_id)
            .count() as u64;
        let id = self.new_id("snp");
        let files_bytes = self.db.files_size(devbox_id)?;
        // "Relative to the base blueprint": a few hundred MB of installed tooling, growing
        // with each snapshot of the same devbox, plus what was written through the API.
        let final_size_bytes =
            200_000_000 + earlier * 35_000_000 + self.rng.u64(0..400_000_000) + files_bytes;
        let rec = SnapshotRec {
            seq: self.seq(),
            view: Snapshot {
                id: id.clone(),
                create_time_ms: now,
                metadata: params.metadata.unwrap_or_default(),
                source_devbox_id: devbox_id.to_owned(),
                name: params.name,
                commit_message: params.commit_message,
                size_bytes: None,
                source_blueprint_id: base_blueprint_id,
            },
            status: SnapshotStatus::InProgress,
            error_message: None,
            due_ms: Some(now + self.timings.snapshot_ms),
            will_fail,
            final_size_bytes,
        };
        // The snapshot captures the disk as it is now, in the same transaction as the
        // record, so a snapshot never exists without its files.
        self.db.transaction(|db| {
            save_snapshot(db, &rec)?;
            db.copy_files(devbox_id, &id)?;
            Ok(())
        })?;
        let view = rec.view.clone();
        self.index_snapshot(rec);
        Ok(view)
    }

    /// `GET /v1/devboxes/disk_snapshots/{id}/status`.
    pub fn snapshot_status(&self, id: &str) -> Result<SnapshotStatusView> {
        Ok(self.snapshot_rec(id)?.status_view())
    }

    /// A snapshot's status and the time it will end (for `snapshot_disk` to wait).
    pub fn snapshot_status_and_due(&self, id: &str) -> Result<(SnapshotStatusView, Option<i64>)> {
        let rec = self.snapshot_rec(id)?;
        Ok((rec.status_view(), rec.due_ms))
    }

    /// `GET /v1/devboxes/disk_snapshots`: `devbox_id` (404 if unknown),
    /// `source_blueprint_id`, `metadata[k]`, `metadata[k][in]` (comma list), `search`
    /// (extension: substring of id, name or commit message), cursor pagination. Deleted
    /// snapshots are not listed; in-progress and failed ones are (their status is on
    /// `/status`).
    pub fn list_snapshots(&self, params: &Params) -> Result<SnapshotList> {
        let devbox_id = params.non_empty("devbox_id");
        if let Some(id) = devbox_id {
            self.devbox_rec(id)?;
        }
        let blueprint_id = params.non_empty("source_blueprint_id");
        let metadata = MetadataFilter::parse(params)?;
        let search = params.non_empty("search").or(params.non_empty("name"));
        let items = self
            .snapshots
            .values()
            .filter(|r| r.is_listed())
            .filter(|r| devbox_id.is_none_or(|id| r.view.source_devbox_id == id))
            .filter(|r| {
                blueprint_id.is_none_or(|id| r.view.source_blueprint_id.as_deref() == Some(id))
            })
            .filter(|r| metadata.iter().all(|f| f.accepts(&r.view.metadata)))
            .filter(|r| {
                search.is_none_or(|q| {
                    matches_search(
                        q,
                        &[
                            Some(r.view.id.as_str()),
                            r.view.name.as_deref(),
                            r.view.commit_message.as_deref(),
                        ],
                    )
                })
            })
            .collect();
        let page = list_page(&self.snapshots, items, params, "snapshot")?;
        Ok(SnapshotList {
            snapshots: page.items.into_iter().map(|r| r.view.clone()).collect(),
            has_more: page.has_more,
            total_count: page.total_count,
        })
    }

    /// `POST /v1/devboxes/disk_snapshots/{id}`: an *update*, not a patch, as the spec
    /// says ("the entire metadata will be replaced"): `name`, `commit_message` and
    /// `metadata` all take the values given, and an omitted one is cleared. Clients
    /// read-merge-write.
    pub fn update_snapshot(&mut self, id: &str, params: SnapshotParams) -> Result<Snapshot> {
        let mut rec = self.snapshot_rec(id)?.clone();
        if !rec.is_listed() {
            return Err(Error::not_found("Snapshot", id));
        }
        check_commit_message(params.commit_message.as_deref())?;
        rec.view.name = params.name;
        rec.view.commit_message = params.commit_message;
        rec.view.metadata = params.metadata.unwrap_or_default();
        let view = rec.view.clone();
        self.update_snapshot_rec(rec)?;
        Ok(view)
    }

    /// `POST /v1/devboxes/disk_snapshots/{id}/delete`: only complete snapshots; afterwards
    /// `/status` says `deleted` and the list no longer shows it. Deleting it again is 404.
    pub fn delete_snapshot(&mut self, id: &str) -> Result<()> {
        let mut rec = self.snapshot_rec(id)?.clone();
        match rec.status {
            SnapshotStatus::Complete => {}
            SnapshotStatus::Deleted => return Err(Error::not_found("Snapshot", id)),
            _ => {
                return Err(Error::Conflict(
                    "Only successfully created snapshots can be deleted.".into(),
                ));
            }
        }
        rec.status = SnapshotStatus::Deleted;
        self.db.delete_files(id)?;
        self.update_snapshot_rec(rec)
    }

    // ---- blueprints ----

    /// `POST /v1/blueprints`: `queued` → `provisioning` → `building` → `build_complete`.
    /// A setup command that is literally `false` or `exit 1` makes the build fail, so the
    /// failure path can be exercised.
    pub fn create_blueprint(
        &mut self,
        req: CreateBlueprint,
        parameters: serde_json::Value,
        now: i64,
    ) -> Result<Blueprint> {
        if req.name.trim().is_empty() {
            return Err(Error::BadRequest("name must not be empty".into()));
        }
        let fails = req
            .system_setup_commands
            .iter()
            .flatten()
            .any(|c| matches!(c.trim(), "false" | "exit 1"));
        let build = self.timings.blueprint_build_ms;
        let last = if fails {
            BlueprintStatus::Failed
        } else {
            BlueprintStatus::BuildComplete
        };
        let steps = [
            (BlueprintStatus::Provisioning, build / 10),
            (BlueprintStatus::Building, build / 4),
            (last, build),
        ]
        .into_iter()
        .map(|(status, after)| Step {
            status,
            due_ms: now + after,
        })
        .collect();
        let id = self.new_id("bpt");
        let rec = BlueprintRec {
            seq: 0,
            view: Blueprint {
                id,
                name: req.name,
                status: BlueprintStatus::Queued,
                state: "created".into(),
                create_time_ms: now,
                build_finish_time_ms: None,
                failure_reason: None,
                parameters,
                metadata: req.metadata.unwrap_or_default(),
            },
            steps,
        };
        Ok(self.insert_blueprint(rec)?.view)
    }

    /// `GET /v1/blueprints/{id}`.
    pub fn get_blueprint(&self, id: &str) -> Result<Blueprint> {
        self.blueprints
            .get(id)
            .map(|r| r.view.clone())
            .ok_or_else(|| Error::not_found("Blueprint", id))
    }

    /// `GET /v1/blueprints`: `name` (exact), `status`, cursor pagination.
    pub fn list_blueprints(&self, params: &Params) -> Result<BlueprintList> {
        let name = params.non_empty("name");
        let status = params.non_empty("status");
        let items = self
            .blueprints
            .values()
            .filter(|r| r.is_listed())
            .filter(|r| name.is_none_or(|n| r.view.name == n))
            .filter(|r| status.is_none_or(|s| blueprint_status_name(r.view.status) == s))
            .collect();
        let page = list_page(&self.blueprints, items, params, "blueprint")?;
        Ok(BlueprintList {
            blueprints: page.items.into_iter().map(|r| r.view.clone()).collect(),
            has_more: page.has_more,
            total_count: page.total_count,
        })
    }

    /// A blueprint's build log up to `now`: plausible lines of a Docker build of its
    /// parameters (base image, each Dockerfile instruction, each setup command), spread
    /// over the build's steps, ending with success or the failing command.
    pub fn build_logs(&self, id: &str, now: i64) -> Result<Vec<serde_json::Value>> {
        let rec = self
            .blueprints
            .get(id)
            .ok_or_else(|| Error::not_found("Blueprint", id))?;
        let view = &rec.view;
        let start = view.create_time_ms;
        let end = view
            .build_finish_time_ms
            .or(rec.steps.back().map(|s| s.due_ms))
            .unwrap_or(start);
        let params = &view.parameters;
        let mut body = vec![(
            "info",
            format!("Build of blueprint {} ({id}) queued", view.name),
        )];
        let base = params
            .get("base_blueprint_name")
            .or(params.get("base_blueprint_id"))
            .and_then(|v| v.as_str())
            .unwrap_or("runloop/universal-ubuntu-24.04");
        body.push(("info", format!("Provisioning a builder; base image {base}")));
        let dockerfile = params
            .get("dockerfile")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        let instructions: Vec<&str> = dockerfile
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        let commands: Vec<&str> = params
            .get("system_setup_commands")
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|c| c.as_str()).collect())
            .unwrap_or_default();
        let steps = instructions.len() + commands.len();
        let mut failed = false;
        for (i, line) in instructions.iter().enumerate() {
            body.push(("info", format!("#{} [{}/{steps}] {line}", i + 1, i + 1)));
        }
        for (j, command) in commands.iter().enumerate() {
            let n = instructions.len() + j + 1;
            body.push(("info", format!("#{n} [{n}/{steps}] RUN {command}")));
            if matches!(command.trim(), "false" | "exit 1") {
                body.push(("error", format!("#{n} ERROR: process \"{command}\" did not complete successfully: exit code: 1")));
                failed = true;
                break;
            }
            body.push(("info", format!("#{n} DONE")));
        }
        if failed || view.status == BlueprintStatus::Failed {
            body.push(("error", "Build failed".into()));
        } else {
            body.push(("info", "Exporting the image".into()));
            body.push(("info", "Build complete".into()));
        }
        // Spread the lines evenly from creation to the end of the build; show the ones
        // whose time has come.
        let n = i64::try_from(body.len()).unwrap_or(1).max(1);
        Ok(body
            .into_iter()
            .enumerate()
            .map(|(i, (level, message))| {
                let i = i64::try_from(i).unwrap_or(0);
                let at = if i + 1 == n { end } else { start + (end - start) * i / n };
                (at, level, message)
            })
            .filter(|(at, _, _)| *at <= now)
            .map(|(at, level, message)| {
                serde_json::json!({"level": level, "message": message, "timestamp_ms": at})
            })
            .collect())
    }

    /// `POST /v1/blueprints/{id}/delete`: 400 while snapshots derive from it.
    pub fn delete_blueprint(&mut self, id: &str) -> Result<()> {
        let mut rec = self
            .blueprints
            .get(id)
            .filter(|r| r.is_listed())
            .cloned()
            .ok_or_else(|| Error::not_found("Blueprint", id))?;
        let mut dependents: Vec<_> = self
            .snapshots
            .values()
            .filter(|s| s.is_listed() && s.view.source_blueprint_id.as_deref() == Some(id))
            .map(|s| s.view.id.as_str())
            .collect();
        if !dependents.is_empty() {
            dependents.sort_unstable();
            return Err(Error::BadRequest(format!(
                "Blueprint {id} has dependent snapshots: {}",
                dependents.join(", ")
            )));
        }
        rec.view.state = "deleted".into();
        save_blueprint(&self.db, &rec)?;
        self.blueprints.insert(id.to_owned(), rec);
        Ok(())
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

fn check_commit_message(message: Option<&str>) -> Result<()> {
    match message {
        Some(m) if m.chars().count() > 1000 => Err(Error::BadRequest(
            "commit_message must be at most 1000 characters".into(),
        )),
        _ => Ok(()),
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

/// `prefix_` + 21 base-62 characters, the shape of Runloop's ids (`dbx_31Cm…`).
pub fn new_id(rng: &mut fastrand::Rng, prefix: &str) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let tail: String = (0..21)
        .map(|_| char::from(ALPHABET[rng.usize(..ALPHABET.len())]))
        .collect();
    format!("{prefix}_{tail}")
}

fn save_devbox(db: &Db, rec: &DevboxRec) -> Result<()> {
    db.put(
        Table::Devboxes,
        &rec.view.id,
        rec.seq,
        rec.view.status.as_str(),
        rec.view.create_time_ms,
        rec,
    )
}

fn save_execution(db: &Db, rec: &ExecRec) -> Result<()> {
    db.put(
        Table::Executions,
        &rec.id,
        rec.seq,
        rec.status.as_str(),
        rec.create_time_ms,
        rec,
    )
}

fn save_snapshot(db: &Db, rec: &SnapshotRec) -> Result<()> {
    db.put(
        Table::Snapshots,
        &rec.view.id,
        rec.seq,
        rec.status.as_str(),
        rec.view.create_time_ms,
        rec,
    )
}

/// The wire name of a blueprint status (the api crate gives it no `as_str`).
fn blueprint_status_name(status: BlueprintStatus) -> &'static str {
    match status {
        BlueprintStatus::Queued => "queued",
        BlueprintStatus::Provisioning => "provisioning",
        BlueprintStatus::Building => "building",
        BlueprintStatus::AwaitingUpload => "awaiting_upload",
        BlueprintStatus::Failed => "failed",
        BlueprintStatus::BuildComplete => "build_complete",
        BlueprintStatus::Unknown => "unknown",
    }
}

fn save_blueprint(db: &Db, rec: &BlueprintRec) -> Result<()> {
    db.put(
        Table::Blueprints,
        &rec.view.id,
        rec.seq,
        blueprint_status_name(rec.view.status),
        rec.view.create_time_ms,
        rec,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(query: &str) -> Params {
        Params(serde_urlencoded::from_str(query).expect("query"))
    }

    #[test]
    fn paths_resolve_under_the_home_directory_unless_absolute() {
        assert_eq!(
            resolve_path("a/b.txt").ok().as_deref(),
            Some("/home/user/a/b.txt")
        );
        assert_eq!(resolve_path("./a").ok().as_deref(), Some("/home/user/a"));
        assert_eq!(resolve_path("~/a").ok().as_deref(), Some("/home/user/a"));
        assert_eq!(resolve_path("/etc/x").ok().as_deref(), Some("/etc/x"));
        assert!(resolve_path("  ").is_err());
    }

    #[test]
    fn metadata_filters_parse_generic_keys_including_dots() {
        let filters = MetadataFilter::parse(&params(
            "metadata%5Bsnapdeck.pinned%5D=true&metadata[env][in]=dev,prod&limit=3",
        ))
        .expect("parse");
        assert_eq!(
            filters,
            [
                MetadataFilter::Eq("snapdeck.pinned".into(), "true".into()),
                MetadataFilter::In("env".into(), vec!["dev".into(), "prod".into()]),
            ]
        );
        assert!(MetadataFilter::parse(&params("metadata[env][nin]=x")).is_err());
        assert!(MetadataFilter::parse(&params("metadata[env=x")).is_err());
        let meta: Metadata = [("env".to_owned(), "prod".to_owned())].into();
        assert!(filters[1].accepts(&meta));
        assert!(!filters[0].accepts(&meta));
    }

    #[test]
    fn pages_follow_the_cursor_key_even_when_the_cursor_row_left_the_filter() {
        let rows: Vec<OrderKey> = vec![(10, 1), (30, 3), (20, 2), (20, 4)];
        let page = paginate(rows.iter().collect(), |r| *r, None, 2, true);
        assert_eq!(page.items, [&(30, 3), &(20, 4)]);
        assert!(page.has_more);
        assert_eq!(page.total_count, Some(4));
        // The cursor (20, 4) need not be in the list any more.
        let rest: Vec<OrderKey> = vec![(10, 1), (20, 2), (30, 3)];
        let page = paginate(rest.iter().collect(), |r| *r, Some((20, 4)), 2, false);
        assert_eq!(page.items, [&(20, 2), &(10, 1)]);
        assert!(!page.has_more);
        assert_eq!(page.total_count, None);
    }

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
