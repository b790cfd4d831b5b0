//! Bulk deletes of a confirmed cleanup plan, as a pure state machine.
//!
//! The run deletes exactly the snapshots the person confirmed — never one more — and
//! records each one's outcome. The driver (app or edge worker) does the I/O:
//!
//! ```text
//! loop {
//!     for id in run.next_to_start(now) {            // bounded concurrency
//!         fetch GET /status of id                    // re-check before deleting
//!           Err(e)  => run.on_error(&id, &e, now)
//!           Ok(v)   => if run.on_recheck(&id, Fresh::from_status_view(&v), now) == Verdict::Proceed {
//!                          POST .../delete  => run.on_result(&id, result, now)
//!                      }
//!     }
//!     if run.is_finished() { break }
//!     sleep until run.next_wake_at() or a result arrives
//! }
//! ```
//!
//! The whole run is serializable. After an interruption (reload, crash), call
//! [`BulkRun::resume_after_interruption`]: items that were running go back to pending
//! and are re-checked; if their snapshot is gone by then, our delete did it, so they
//! count as done.

use serde::{Deserialize, Serialize};
use snapdeck_api::{ApiError, Snapshot, SnapshotStatus, SnapshotStatusView};

use crate::retention::{CleanupPlan, is_pinned};

/// Default number of deletes in flight at once.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// Default attempts per item (first try + retries) for retryable failures.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// Backoff between automatic retries: 1 s, 2 s, 4 s… capped at 8 s.
const RETRY_BASE_MS: i64 = 1_000;
const RETRY_MAX_MS: i64 = 8_000;

/// What the person confirmed about one snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmed {
    pub snapshot_id: String,
    pub source_devbox_id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub size_bytes: Option<u64>,
    /// The status shown when the person confirmed (`complete` or `error`).
    #[serde(default)]
    pub status: Option<SnapshotStatus>,
}

/// Where a running item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Fetching the snapshot to re-check it.
    Recheck,
    /// The delete request is out.
    Deleting,
}

/// Why an item was skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum SkipReason {
    /// It no longer exists (deleted by someone else).
    NoLongerExists,
    /// It was pinned after the person confirmed.
    PinnedSince,
    /// It now belongs to another devbox than the one confirmed (should never happen;
    /// checked because deleting the wrong thing is the one unforgivable error).
    DifferentSource { now: String },
    /// The API answered about another snapshot id.
    DifferentSnapshot { now: String },
    /// Its status changed since confirmation (e.g. `error` → something else).
    StatusChanged {
        was: Option<SnapshotStatus>,
        now: SnapshotStatus,
    },
    /// The API did not return the snapshot, so it could not be verified.
    CouldNotVerify,
    /// The person cancelled the run before this item started.
    Cancelled,
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoLongerExists => f.write_str("It no longer exists."),
            Self::PinnedSince => f.write_str("It was pinned after you confirmed."),
            Self::DifferentSource { now } => {
                write!(
                    f,
                    "It now belongs to devbox {now}, not the one you confirmed."
                )
            }
            Self::DifferentSnapshot { now } => {
                write!(f, "The API answered about a different snapshot ({now}).")
            }
            Self::StatusChanged { was, now } => match was {
                Some(was) => write!(f, "Its status changed from {was} to {now}."),
                None => write!(f, "Its status is now {now}."),
            },
            Self::CouldNotVerify => {
                f.write_str("The API did not return its details, so it was not verified.")
            }
            Self::Cancelled => f.write_str("The run was cancelled before it started."),
        }
    }
}

/// State of one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ItemState {
    /// Waiting. `may_have_run`: an earlier delete may have reached the server (it was
    /// interrupted or failed after sending), so "gone" on re-check means done.
    Pending {
        #[serde(default)]
        may_have_run: bool,
        #[serde(default)]
        not_before_ms: i64,
    },
    Running {
        phase: Phase,
        started_at_ms: i64,
        #[serde(default)]
        may_have_run: bool,
    },
    /// Deleted. `already_gone`: it was gone when we looked again after an interrupted
    /// or failed attempt of ours.
    Done {
        #[serde(default)]
        already_gone: bool,
    },
    Failed {
        message: String,
        retryable: bool,
    },
    Skipped {
        reason: SkipReason,
    },
}

impl ItemState {
    /// Done, failed or skipped.
    pub fn is_settled(&self) -> bool {
        matches!(
            self,
            Self::Done { .. } | Self::Failed { .. } | Self::Skipped { .. }
        )
    }
}

/// One snapshot of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkItem {
    pub confirmed: Confirmed,
    pub state: ItemState,
    /// Delete attempts made so far.
    #[serde(default)]
    pub attempts: u32,
}

/// The fresh view of a snapshot, fetched just before deleting it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fresh {
    /// 404, or status `deleted`.
    Gone,
    Found {
        status: SnapshotStatus,
        /// The snapshot as the API describes it now (the `/status` answer carries it
        /// once complete).
        snapshot: Option<Snapshot>,
    },
}

impl Fresh {
    /// From a `/status` answer.
    pub fn from_status_view(view: &SnapshotStatusView) -> Self {
        if view.status == SnapshotStatus::Deleted {
            return Self::Gone;
        }
        Self::Found {
            status: view.status,
            snapshot: view.snapshot.clone(),
        }
    }
}

/// Whether to send the delete after a re-check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Proceed,
    /// Not deleted; the item is settled (skipped, or done if it was already gone).
    Settled,
}

/// Counters for the progress bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub total: usize,
    pub done: usize,
    pub failed: usize,
    pub skipped: usize,
    pub running: usize,
    /// Pending + running.
    pub left: usize,
    /// Bytes of the snapshots deleted so far (unknown sizes count 0).
    pub bytes_freed: u64,
}

/// A bulk delete run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkRun {
    pub items: Vec<BulkItem>,
    pub max_concurrency: usize,
    pub max_attempts: u32,
}

impl BulkRun {
    /// A run over exactly the snapshots the plan deletes, in plan order.
    pub fn from_plan(plan: &CleanupPlan) -> Self {
        Self::new(plan.to_delete().map(|i| Confirmed {
            snapshot_id: i.snapshot.id.clone(),
            source_devbox_id: i.snapshot.source_devbox_id.clone(),
            name: i.snapshot.name.clone(),
            size_bytes: i.snapshot.size_bytes,
            status: i.status,
        }))
    }

    /// A run over these confirmed snapshots (duplicates ids are dropped).
    pub fn new(confirmed: impl IntoIterator<Item = Confirmed>) -> Self {
        let mut items: Vec<BulkItem> = Vec::new();
        for c in confirmed {
            if items
                .iter()
                .any(|i| i.confirmed.snapshot_id == c.snapshot_id)
            {
                continue;
            }
            items.push(BulkItem {
                confirmed: c,
                state: ItemState::Pending {
                    may_have_run: false,
                    not_before_ms: 0,
                },
                attempts: 0,
            });
        }
        Self {
            items,
            max_concurrency: DEFAULT_CONCURRENCY,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }

    /// Sets the number of items in flight at once (at least 1).
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.max_concurrency = n.max(1);
        self
    }

    /// Sets attempts per item for retryable failures (at least 1).
    pub fn with_max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    fn item_mut(&mut self, id: &str) -> Option<&mut BulkItem> {
        self.items
            .iter_mut()
            .find(|i| i.confirmed.snapshot_id == id)
    }

    /// The item for `id`.
    pub fn item(&self, id: &str) -> Option<&BulkItem> {
        self.items.iter().find(|i| i.confirmed.snapshot_id == id)
    }

    /// Ids to start now (their re-check fetch), marking them running. Respects the
    /// concurrency bound and retry backoff; in plan order.
    pub fn next_to_start(&mut self, now_ms: i64) -> Vec<String> {
        let running = self
            .items
            .iter()
            .filter(|i| matches!(i.state, ItemState::Running { .. }))
            .count();
        let mut budget = self.max_concurrency.max(1).saturating_sub(running);
        let mut out = Vec::new();
        for item in &mut self.items {
            if budget == 0 {
                break;
            }
            if let ItemState::Pending {
                may_have_run,
                not_before_ms,
            } = item.state
                && not_before_ms <= now_ms
            {
                item.state = ItemState::Running {
                    phase: Phase::Recheck,
                    started_at_ms: now_ms,
                    may_have_run,
                };
                out.push(item.confirmed.snapshot_id.clone());
                budget -= 1;
            }
        }
        out
    }

    /// When the earliest backed-off item becomes due (for the driver's timer).
    pub fn next_wake_at(&self) -> Option<i64> {
        self.items
            .iter()
            .filter_map(|i| match i.state {
                ItemState::Pending { not_before_ms, .. } => Some(not_before_ms),
                _ => None,
            })
            .min()
    }

    /// Judges the freshly fetched snapshot: is it still the one the person confirmed?
    /// Returns [`Verdict::Proceed`] to send the delete; otherwise the item is settled.
    /// Unknown ids or items not re-checking are left alone (`Settled`, nothing to send).
    pub fn on_recheck(&mut self, id: &str, fresh: Fresh, _now_ms: i64) -> Verdict {
        let Some(item) = self.item_mut(id) else {
            return Verdict::Settled;
        };
        let ItemState::Running {
            phase: Phase::Recheck,
            started_at_ms,
            may_have_run,
        } = item.state
        else {
            return Verdict::Settled;
        };
        match judge(&item.confirmed, fresh, may_have_run) {
            Ok(()) => {
                item.state = ItemState::Running {
                    phase: Phase::Deleting,
                    started_at_ms,
                    may_have_run,
                };
                Verdict::Proceed
            }
            Err(settled) => {
                item.state = settled;
                Verdict::Settled
            }
        }
    }

    /// Records the delete's result. A success counts only for an item whose delete was
    /// cleared by [`on_recheck`](Self::on_recheck); anything else is ignored.
    pub fn on_result(&mut self, id: &str, result: Result<(), ApiError>, now_ms: i64) {
        match result {
            Ok(()) => {
                if let Some(item) = self.item_mut(id)
                    && matches!(
                        item.state,
                        ItemState::Running {
                            phase: Phase::Deleting,
                            ..
                        }
                    )
                {
                    item.attempts += 1;
                    item.state = ItemState::Done {
                        already_gone: false,
                    };
                }
            }
            Err(e) => self.on_error(id, &e, now_ms),
        }
    }

    /// Records a failure of the re-check fetch or of the delete.
    pub fn on_error(&mut self, id: &str, error: &ApiError, now_ms: i64) {
        let max_attempts = self.max_attempts;
        let Some(item) = self.item_mut(id) else {
            return;
        };
        let ItemState::Running {
            phase,
            may_have_run,
            ..
        } = item.state
        else {
            return;
        };
        // Once a delete was sent it may have reached the server, whatever came back.
        let may_have_run = may_have_run || phase == Phase::Deleting;
        if *error == ApiError::Aborted {
            // The page went away mid-flight: not a failure; look again next time.
            item.state = ItemState::Pending {
                may_have_run,
                not_before_ms: 0,
            };
            return;
        }
        if error.is_not_found() {
            item.state = gone(may_have_run);
            return;
        }
        // A failed re-check counts as an attempt too, so a dead API cannot keep a run
        // alive forever.
        item.attempts += 1;
        if error.is_retryable() && item.attempts < max_attempts {
            let backoff =
                (RETRY_BASE_MS << (item.attempts.saturating_sub(1)).min(10)).min(RETRY_MAX_MS);
            item.state = ItemState::Pending {
                may_have_run,
                not_before_ms: now_ms.saturating_add(backoff),
            };
        } else {
            item.state = ItemState::Failed {
                message: error.to_string(),
                retryable: error.is_retryable(),
            };
        }
    }

    /// After a reload or crash: running items go back to pending, to be re-checked;
    /// a delete may have been sent for them, so "gone" will count as done.
    pub fn resume_after_interruption(&mut self) {
        for item in &mut self.items {
            if let ItemState::Running {
                may_have_run,
                phase,
                ..
            } = item.state
            {
                item.state = ItemState::Pending {
                    may_have_run: may_have_run || phase == Phase::Deleting,
                    not_before_ms: 0,
                };
            }
        }
    }

    /// The person pressed "retry failed": retryable failures go back to pending with
    /// fresh attempts. Returns how many.
    pub fn retry_failed(&mut self) -> usize {
        let mut n = 0;
        for item in &mut self.items {
            if let ItemState::Failed {
                retryable: true, ..
            } = item.state
            {
                item.state = ItemState::Pending {
                    // The failed attempt may have reached the server.
                    may_have_run: true,
                    not_before_ms: 0,
                };
                item.attempts = 0;
                n += 1;
            }
        }
        n
    }

    /// The person cancelled: pending items are skipped; running ones finish.
    pub fn cancel(&mut self) {
        for item in &mut self.items {
            if matches!(item.state, ItemState::Pending { .. }) {
                item.state = ItemState::Skipped {
                    reason: SkipReason::Cancelled,
                };
            }
        }
    }

    /// Progress counters.
    pub fn counts(&self) -> Counts {
        let mut c = Counts {
            total: self.items.len(),
            ..Counts::default()
        };
        for item in &self.items {
            match &item.state {
                ItemState::Pending { .. } => c.left += 1,
                ItemState::Running { .. } => {
                    c.left += 1;
                    c.running += 1;
                }
                ItemState::Done { .. } => {
                    c.done += 1;
                    c.bytes_freed = c
                        .bytes_freed
                        .saturating_add(item.confirmed.size_bytes.unwrap_or(0));
                }
                ItemState::Failed { .. } => c.failed += 1,
                ItemState::Skipped { .. } => c.skipped += 1,
            }
        }
        c
    }

    /// Nothing pending or running.
    pub fn is_finished(&self) -> bool {
        self.items.iter().all(|i| i.state.is_settled())
    }
}

fn gone(may_have_run: bool) -> ItemState {
    if may_have_run {
        ItemState::Done { already_gone: true }
    } else {
        ItemState::Skipped {
            reason: SkipReason::NoLongerExists,
        }
    }
}

/// `Ok` to delete, or the settled state.
fn judge(c: &Confirmed, fresh: Fresh, may_have_run: bool) -> Result<(), ItemState> {
    let skip = |reason| Err(ItemState::Skipped { reason });
    let (status, snapshot) = match fresh {
        Fresh::Gone => return Err(gone(may_have_run)),
        Fresh::Found { status, snapshot } => (status, snapshot),
    };
    if let Some(was) = c.status
        && status != was
    {
        return skip(SkipReason::StatusChanged {
            was: Some(was),
            now: status,
        });
    }
    if !matches!(status, SnapshotStatus::Complete | SnapshotStatus::Error) {
        return skip(SkipReason::StatusChanged {
            was: c.status,
            now: status,
        });
    }
    match snapshot {
        Some(s) if s.id != c.snapshot_id => skip(SkipReason::DifferentSnapshot { now: s.id }),
        Some(s) if s.source_devbox_id != c.source_devbox_id => skip(SkipReason::DifferentSource {
            now: s.source_devbox_id,
        }),
        Some(s) if is_pinned(&s) => skip(SkipReason::PinnedSince),
        Some(_) => Ok(()),
        // An errored snapshot comes without details; its status was checked above.
        None if status == SnapshotStatus::Error => Ok(()),
        None => skip(SkipReason::CouldNotVerify),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use snapdeck_api::{Metadata, PINNED_KEY};

    fn confirmed(id: &str) -> Confirmed {
        Confirmed {
            snapshot_id: id.into(),
            source_devbox_id: "dbx_1".into(),
            name: None,
            size_bytes: Some(10),
            status: Some(SnapshotStatus::Complete),
        }
    }

    fn snapshot(id: &str, devbox: &str) -> Snapshot {
        Snapshot {
            id: id.into(),
            create_time_ms: 1,
            metadata: Metadata::new(),
            source_devbox_id: devbox.into(),
            name: None,
            commit_message: None,
            size_bytes: Some(10),
            source_blueprint_id: None,
        }
    }

    fn found(id: &str) -> Fresh {
        Fresh::Found {
            status: SnapshotStatus::Complete,
            snapshot: Some(snapshot(id, "dbx_1")),
        }
    }

    fn run(ids: &[&str]) -> BulkRun {
        BulkRun::new(ids.iter().map(|id| confirmed(id))).with_concurrency(2)
    }

    fn api(status: u16) -> ApiError {
        ApiError::Api {
            status,
            message: "x".into(),
        }
    }

    #[test]
    fn concurrency_is_bounded_and_order_kept() {
        let mut r = run(&["a", "b", "c"]);
        assert_eq!(r.next_to_start(0), ["a", "b"]);
        assert!(r.next_to_start(0).is_empty());
        assert_eq!(r.on_recheck("a", found("a"), 0), Verdict::Proceed);
        r.on_result("a", Ok(()), 0);
        assert_eq!(r.next_to_start(0), ["c"]);
        assert_eq!(r.counts().done, 1);
        assert_eq!(r.counts().left, 2);
    }

    #[test]
    fn a_happy_run_finishes_with_every_item_done() {
        let mut r = run(&["a", "b", "c"]);
        while !r.is_finished() {
            for id in r.next_to_start(0) {
                assert_eq!(r.on_recheck(&id, found(&id), 0), Verdict::Proceed);
                r.on_result(&id, Ok(()), 0);
            }
        }
        let c = r.counts();
        assert_eq!((c.done, c.failed, c.skipped, c.left), (3, 0, 0, 0));
        assert_eq!(c.bytes_freed, 30);
    }

    #[test]
    fn recheck_skips_a_snapshot_pinned_since_confirmation() {
        let mut r = run(&["a"]);
        r.next_to_start(0);
        let mut s = snapshot("a", "dbx_1");
        s.metadata.insert(PINNED_KEY.into(), "true".into());
        let fresh = Fresh::Found {
            status: SnapshotStatus::Complete,
            snapshot: Some(s),
        };
        assert_eq!(r.on_recheck("a", fresh, 0), Verdict::Settled);
        assert_eq!(
            r.item("a").map(|i| &i.state),
            Some(&ItemState::Skipped {
                reason: SkipReason::PinnedSince
            })
        );
    }

    #[test]
    fn recheck_skips_other_devboxes_other_ids_changed_status_and_unverifiable() {
        let cases = [
            (
                Fresh::Found {
                    status: SnapshotStatus::Complete,
                    snapshot: Some(snapshot("a", "dbx_9")),
                },
                SkipReason::DifferentSource {
                    now: "dbx_9".into(),
                },
            ),
            (
                found("zzz"),
                SkipReason::DifferentSnapshot { now: "zzz".into() },
            ),
            (
                Fresh::Found {
                    status: SnapshotStatus::InProgress,
                    snapshot: None,
                },
                SkipReason::StatusChanged {
                    was: Some(SnapshotStatus::Complete),
                    now: SnapshotStatus::InProgress,
                },
            ),
            (
                Fresh::Found {
                    status: SnapshotStatus::Complete,
                    snapshot: None,
                },
                SkipReason::CouldNotVerify,
            ),
            (Fresh::Gone, SkipReason::NoLongerExists),
        ];
        for (fresh, reason) in cases {
            let mut r = run(&["a"]);
            r.next_to_start(0);
            assert_eq!(r.on_recheck("a", fresh, 0), Verdict::Settled);
            assert_eq!(
                r.item("a").map(|i| i.state.clone()),
                Some(ItemState::Skipped { reason })
            );
        }
    }

    #[test]
    fn errored_snapshots_confirmed_as_errored_proceed_without_details() {
        let mut r = BulkRun::new([Confirmed {
            status: Some(SnapshotStatus::Error),
            ..confirmed("e")
        }]);
        r.next_to_start(0);
        let fresh = Fresh::Found {
            status: SnapshotStatus::Error,
            snapshot: None,
        };
        assert_eq!(r.on_recheck("e", fresh, 0), Verdict::Proceed);
    }

    #[test]
    fn retryable_failures_back_off_then_fail_after_the_bound() {
        let mut r = run(&["a"]).with_max_attempts(2);
        r.next_to_start(0);
        r.on_recheck("a", found("a"), 0);
        r.on_result("a", Err(api(503)), 100);
        assert_eq!(r.next_wake_at(), Some(1_100));
        assert!(r.next_to_start(500).is_empty(), "still backing off");
        assert_eq!(r.next_to_start(1_100), ["a"]);
        r.on_recheck("a", found("a"), 1_100);
        r.on_result("a", Err(api(503)), 1_200);
        let state = r.item("a").map(|i| i.state.clone());
        assert!(
            matches!(
                state,
                Some(ItemState::Failed {
                    retryable: true,
                    ..
                })
            ),
            "{state:?}"
        );
        assert!(r.is_finished());
        assert_eq!(r.retry_failed(), 1);
        assert_eq!(r.next_to_start(2_000), ["a"]);
    }

    #[test]
    fn conflicts_fail_at_once_with_the_api_message() {
        let mut r = run(&["a"]);
        r.next_to_start(0);
        r.on_recheck("a", found("a"), 0);
        r.on_result("a", Err(api(409)), 0);
        assert_eq!(
            r.item("a").map(|i| i.state.clone()),
            Some(ItemState::Failed {
                message: "Not possible right now (409): x".into(),
                retryable: false
            })
        );
    }

    #[test]
    fn a_run_interrupted_mid_delete_resumes_and_counts_a_vanished_item_as_done() {
        let mut r = run(&["a", "b"]);
        r.next_to_start(0);
        r.on_recheck("a", found("a"), 0); // a's delete is out…
        // …and the page reloads. The run was persisted.
        let json = serde_json::to_string(&r).expect("ser");
        let mut r: BulkRun = serde_json::from_str(&json).expect("de");
        r.resume_after_interruption();
        assert_eq!(r.counts().running, 0);
        assert_eq!(r.next_to_start(10), ["a", "b"]);
        // a is gone: our delete went through before the reload.
        assert_eq!(r.on_recheck("a", Fresh::Gone, 10), Verdict::Settled);
        assert_eq!(
            r.item("a").map(|i| i.state.clone()),
            Some(ItemState::Done { already_gone: true })
        );
        // b was only being re-checked: it is verified again and deleted normally.
        assert_eq!(r.on_recheck("b", found("b"), 10), Verdict::Proceed);
    }

    #[test]
    fn unknown_ids_never_cause_a_delete() {
        let mut r = run(&["a"]);
        r.next_to_start(0);
        assert_eq!(
            r.on_recheck("not-confirmed", found("not-confirmed"), 0),
            Verdict::Settled
        );
        r.on_result("not-confirmed", Ok(()), 0);
        assert_eq!(r.items.len(), 1);
        assert_eq!(r.counts().done, 0);
    }

    #[test]
    fn a_success_without_a_passed_recheck_is_ignored() {
        let mut r = run(&["a"]);
        r.on_result("a", Ok(()), 0);
        assert_eq!(r.counts().done, 0, "a was never started");
        // Regression (found by bulk_props): a success reported while the item was still
        // being re-checked used to mark it deleted.
        r.next_to_start(0);
        r.on_result("a", Ok(()), 0);
        assert_eq!(r.counts().done, 0, "a was not verified yet");
    }

    #[test]
    fn cancelling_skips_what_has_not_started() {
        let mut r = run(&["a", "b", "c"]);
        r.next_to_start(0);
        r.cancel();
        let c = r.counts();
        assert_eq!((c.skipped, c.running), (1, 2));
    }

    #[test]
    fn aborts_return_the_item_to_pending() {
        let mut r = run(&["a"]);
        r.next_to_start(0);
        r.on_recheck("a", found("a"), 0);
        r.on_error("a", &ApiError::Aborted, 0);
        assert_eq!(
            r.item("a").map(|i| i.state.clone()),
            Some(ItemState::Pending {
                may_have_run: true,
                not_before_ms: 0
            })
        );
    }

    #[test]
    fn a_404_on_delete_after_our_earlier_attempt_counts_as_done() {
        let mut r = run(&["a"]);
        r.next_to_start(0);
        r.on_recheck("a", found("a"), 0);
        r.on_result("a", Err(api(404)), 0);
        assert_eq!(
            r.item("a").map(|i| i.state.clone()),
            Some(ItemState::Done { already_gone: true })
        );
    }

    #[test]
    fn from_plan_takes_only_the_deletes() {
        use crate::retention::{RetentionPolicy, plan};
        let snaps = [
            snapshot("old", "dbx_1"),
            Snapshot {
                create_time_ms: 2,
                ..snapshot("new", "dbx_1")
            },
        ];
        let statuses = [
            ("old".to_owned(), SnapshotStatus::Complete),
            ("new".to_owned(), SnapshotStatus::Complete),
        ]
        .into_iter()
        .collect();
        let p = plan(&RetentionPolicy::default(), &snaps, &statuses, 10);
        let r = BulkRun::from_plan(&p);
        let ids: Vec<&str> = r
            .items
            .iter()
            .map(|i| i.confirmed.snapshot_id.as_str())
            .collect();
        assert_eq!(ids, ["old"]);
        assert_eq!(r.items[0].confirmed.status, Some(SnapshotStatus::Complete));
    }
}
