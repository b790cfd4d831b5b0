//! Bulk deletes of a confirmed cleanup plan, as a pure state machine.
//!
//! The run deletes only snapshots the person confirmed — never one more — and records
//! each one's outcome. Just before its delete, each snapshot is re-checked: one that
//! changed since the person confirmed (pinned, gone, on another devbox) is skipped, and
//! so is one that the run's [rule](crate::recheck::RunRule) — the plan's policy planned
//! again, or the floor of a hand-picked selection — no longer deletes given the listing
//! of just now (see [`crate::recheck`]: the plan must still hold at each delete).
//!
//! The re-check is done in *waves* against the snapshot list, not with one `/status`
//! call per snapshot: the plan only deletes `complete` and `error` snapshots, and those
//! statuses never change, so what can change — metadata, source devbox, existence — is
//! all in `GET /v1/devboxes/disk_snapshots`. A wave is up to [`BulkRun::wave_size`]
//! items (grouped by devbox); one listing re-checks them all, then their deletes go out
//! with bounded concurrency. The next wave is listed once the verified items waiting
//! for a slot are down to one round of deletes, so the deletes never wait for a
//! listing, and a snapshot is checked at most that round plus its own wave (three
//! rounds of deletes) before its delete is sent; verified items still waiting are
//! judged again by any newer listing of their devbox. The driver (`snapdeck-run`, for
//! every runner) does the I/O:
//!
//! ```text
//! loop {
//!     if let Some(wave) = run.next_wave(now) {     // at most one listing out
//!         list wave.listing(..)                    // each devbox's snapshots, or the account's
//!           Err(e)   => run.on_listing_error(&wave, &e, now)
//!           Ok(list) => {
//!             for id in run.statuses_to_fetch(&wave, &list) {   // usually none
//!                 GET .../status => run.learn_status(..)
//!             }
//!             run.on_listing(&wave, &list, now)
//!           }
//!     }
//!     for id in run.next_deletes() {               // bounded concurrency
//!         POST .../delete => run.on_result(&id, result, now)
//!     }
//!     if run.is_finished() { break }
//!     wait for a result, or until run.next_wake_at()
//! }
//! ```
//!
//! The whole run is serializable. After an interruption (reload, crash), call
//! [`BulkRun::resume_after_interruption`]: items that were running go back to pending
//! and are re-checked by a new wave; if their snapshot is gone by then and our delete
//! was out, our delete did it, so they count as done.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use snapdeck_api::{ApiError, Snapshot, SnapshotStatus};

use crate::format;
use crate::recheck::{self, DevboxView, GoneKept, Known, RunRule};
use crate::retention::{CleanupPlan, KeepReason, is_pinned};

/// Default number of deletes in flight at once. Four, for the browser: over HTTP/1.1 it
/// opens at most six connections per origin, and a run uses four for deletes plus one
/// for its re-check listing, which leaves one for the rest of the page.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// Default attempts per item (first try + retries) for retryable failures.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// A wave holds this many rounds of deletes: few listings (each one carries whole
/// devboxes), and a short window between a snapshot's check and its delete.
const WAVE_ROUNDS: usize = 2;
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
    /// The status shown when the person confirmed (`complete` or `error`). A listing
    /// carries no status, so only these two, which never change, can be re-checked.
    #[serde(default)]
    pub status: Option<SnapshotStatus>,
}

/// The plan's deletes minus the rows the person unticked, in plan order, as a run
/// confirms them.
pub fn confirmed_from_plan(plan: &CleanupPlan, unticked: &BTreeSet<String>) -> Vec<Confirmed> {
    plan.to_delete()
        .filter(|i| !unticked.contains(&i.snapshot.id))
        .map(|i| Confirmed::from_snapshot(&i.snapshot, i.status))
        .collect()
}

impl Confirmed {
    /// What the person confirmed of `snapshot`, seen with `status` (the one way every
    /// runner builds an item: the app's pages, the plan, the edge, the server's jobs).
    pub fn from_snapshot(snapshot: &Snapshot, status: Option<SnapshotStatus>) -> Self {
        Self {
            snapshot_id: snapshot.id.clone(),
            source_devbox_id: snapshot.source_devbox_id.clone(),
            name: snapshot.name.clone(),
            size_bytes: snapshot.size_bytes,
            status,
        }
    }
}

/// Where a running item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// In the wave whose re-check listing is out.
    Recheck,
    /// Passed the re-check; waits for a delete slot.
    Verified,
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
    /// The API answered about another snapshot id. (From the per-snapshot re-check of
    /// earlier versions; kept so their saved runs still load.)
    DifferentSnapshot { now: String },
    /// Its status changed since confirmation. (Earlier versions only, as above.)
    StatusChanged {
        was: Option<SnapshotStatus>,
        now: SnapshotStatus,
    },
    /// It could not be verified: its confirmed status was neither `complete` nor
    /// `error`, the only ones a listing can vouch for.
    CouldNotVerify,
    /// The person cancelled the run before this item's delete was sent.
    Cancelled,
    /// A snapshot the plan kept on its devbox, newer than this one, is no longer
    /// listed: the plan the person confirmed no longer holds there, so nothing more of
    /// that devbox is deleted until someone plans again (see [`crate::recheck`]).
    PlanKeptGone { devbox: String, gone: GoneKept },
    /// The run's policy, planned again over the wave's listing, keeps it now.
    KeptNow { devbox: String, keep: KeepReason },
    /// A hand-picked delete: it is the last complete snapshot of its devbox, and the
    /// person typed no override for it.
    LastComplete { devbox: String },
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
            Self::CouldNotVerify => f.write_str(
                "Its status was not known to be complete or errored, so it was not verified.",
            ),
            Self::Cancelled => f.write_str("The run was cancelled before it started."),
            Self::PlanKeptGone { gone, .. } => write!(
                f,
                "Kept now: {}, which this plan kept, was deleted elsewhere (gone by {}).",
                gone.label(),
                format::clock_utc(gone.noticed_at_ms)
            ),
            Self::KeptNow { devbox, keep } => match keep {
                KeepReason::NewestComplete => write!(
                    f,
                    "Kept now: it is the newest complete snapshot of devbox {devbox}."
                ),
                KeepReason::AmongNewest { keep, .. } => write!(
                    f,
                    "Kept now: it is among the newest {keep} complete snapshots of devbox {devbox}."
                ),
                KeepReason::Pinned => f.write_str("Kept now: it is pinned."),
                other => {
                    let why = other.to_string();
                    let mut chars = why.chars();
                    let first = chars.next().map(|c| c.to_lowercase().collect::<String>());
                    write!(
                        f,
                        "Kept now: the policy keeps it ({}{}).",
                        first.unwrap_or_default(),
                        chars.as_str()
                    )
                }
            },
            Self::LastComplete { devbox } => write!(
                f,
                "Kept: it is the last complete snapshot of devbox {devbox} (deleting it needs a typed override)."
            ),
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

    fn is_due(&self, now_ms: i64) -> bool {
        matches!(*self, Self::Pending { not_before_ms, .. } if not_before_ms <= now_ms)
    }

    fn in_phase(&self, want: Phase) -> bool {
        matches!(*self, Self::Running { phase, .. } if phase == want)
    }
}

/// One snapshot of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkItem {
    pub confirmed: Confirmed,
    pub state: ItemState,
    /// Attempts made so far (delete attempts and failed re-check listings).
    #[serde(default)]
    pub attempts: u32,
}

/// Items to re-check with one listing, from [`BulkRun::next_wave`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wave {
    /// The items, grouped by devbox.
    pub ids: Vec<String>,
    /// The devboxes they were confirmed on, each once.
    pub devbox_ids: Vec<String>,
}

/// What to list to re-check a wave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listing {
    /// Every snapshot of each of these devboxes (`?devbox_id=`, one listing each).
    Devboxes(Vec<String>),
    /// Every snapshot of the account.
    Account,
}

impl Wave {
    /// The cheaper listing in requests: a devbox's listing is at least one request
    /// (one page, as a devbox rarely holds more than `page_size` snapshots), the
    /// account's is one per page of `account_snapshots`. Without the account's size,
    /// per devbox.
    pub fn listing(&self, account_snapshots: Option<usize>, page_size: usize) -> Listing {
        match account_snapshots {
            Some(n) if n.div_ceil(page_size.max(1)) < self.devbox_ids.len() => Listing::Account,
            _ => Listing::Devboxes(self.devbox_ids.clone()),
        }
    }
}

/// Counters for the progress bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub total: usize,
    pub done: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Being re-checked, verified and waiting for a slot, or being deleted.
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
    /// Deletes in flight at most (the re-check listing comes on top: one at a time).
    pub max_concurrency: usize,
    pub max_attempts: u32,
    /// What each wave re-applies before any delete (runs saved before rules existed
    /// load with the floor).
    #[serde(default)]
    pub rule: RunRule,
    /// Snapshots the run does not delete but judges with (their status, and their name
    /// should they disappear): the plan's, and statuses learnt since.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub known: BTreeMap<String, Known>,
}

impl BulkRun {
    /// A run over exactly the snapshots the plan deletes, in plan order, held to the
    /// plan's policy ([`under_plan`](Self::under_plan)).
    pub fn from_plan(plan: &CleanupPlan) -> Self {
        Self::new(confirmed_from_plan(plan, &BTreeSet::new())).under_plan(plan)
    }

    /// Holds the run to `plan`'s policy: each wave plans it again and skips what the
    /// fresh plan keeps. Remembers the plan's statuses of the run's devboxes, so the
    /// waves need no `/status` calls for them.
    pub fn under_plan(self, plan: &CleanupPlan) -> Self {
        self.with_rule(RunRule::policy(plan.policy.clone()))
            .remembering(plan.items.iter().map(|i| (&i.snapshot, i.status)))
    }

    /// Sets the rule every wave re-applies.
    pub fn with_rule(mut self, rule: RunRule) -> Self {
        self.rule = rule;
        self
    }

    /// Remembers the statuses of `seen` snapshots on the run's devboxes that the run
    /// does not delete (terminal ones only: they never change).
    pub fn remembering<'a>(
        mut self,
        seen: impl IntoIterator<Item = (&'a Snapshot, Option<SnapshotStatus>)>,
    ) -> Self {
        let devboxes: BTreeSet<&str> = self
            .items
            .iter()
            .map(|i| i.confirmed.source_devbox_id.as_str())
            .collect();
        let ids: BTreeSet<&str> = self
            .items
            .iter()
            .map(|i| i.confirmed.snapshot_id.as_str())
            .collect();
        let mut known = BTreeMap::new();
        for (s, status) in seen {
            if devboxes.contains(s.source_devbox_id.as_str())
                && !ids.contains(s.id.as_str())
                && let Some(k) = status.and_then(|st| Known::of(s, st))
            {
                known.insert(s.id.clone(), k);
            }
        }
        known.append(&mut self.known);
        self.known = known;
        self
    }

    /// Records a status learnt from `/status` for a listed snapshot the run does not
    /// delete (after [`statuses_to_fetch`](Self::statuses_to_fetch)). Only terminal
    /// statuses are kept; others are asked again when they matter.
    pub fn learn_status(&mut self, s: &Snapshot, status: SnapshotStatus) {
        if self.item(&s.id).is_none()
            && let Some(k) = Known::of(s, status)
        {
            self.known.insert(s.id.clone(), k);
        }
    }

    /// A run over these confirmed snapshots (duplicates ids are dropped), held to the
    /// floor (hand-picked: never the last complete or a pinned snapshot) until
    /// [`with_rule`](Self::with_rule) or [`under_plan`](Self::under_plan) says otherwise.
    pub fn new(confirmed: impl IntoIterator<Item = Confirmed>) -> Self {
        let mut seen = BTreeSet::new();
        let items = confirmed
            .into_iter()
            .filter(|c| seen.insert(c.snapshot_id.clone()))
            .map(|c| BulkItem {
                confirmed: c,
                state: ItemState::Pending {
                    may_have_run: false,
                    not_before_ms: 0,
                },
                attempts: 0,
            })
            .collect();
        Self {
            items,
            max_concurrency: DEFAULT_CONCURRENCY,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            rule: RunRule::default(),
            known: BTreeMap::new(),
        }
    }

    /// Sets the number of deletes in flight at once (at least 1).
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

    /// Items per wave: two rounds of deletes.
    pub fn wave_size(&self) -> usize {
        self.max_concurrency.max(1) * WAVE_ROUNDS
    }

    /// The next wave to re-check, marking its items running; `None` while a wave's
    /// listing is out, while more than one round of verified items still waits for
    /// delete slots, or when nothing is due. (Listing at one round left, not at none,
    /// keeps the slots busy: the listing is back before that round is all sent.) Items
    /// are taken in order, devbox by devbox, so a wave spans few devboxes.
    pub fn next_wave(&mut self, now_ms: i64) -> Option<Wave> {
        let mut waiting = 0;
        for item in &self.items {
            if item.state.in_phase(Phase::Recheck) {
                return None;
            }
            waiting += usize::from(item.state.in_phase(Phase::Verified));
        }
        if waiting > self.max_concurrency.max(1) {
            return None;
        }
        let size = self.wave_size();
        let mut wave = Wave {
            ids: Vec::new(),
            devbox_ids: Vec::new(),
        };
        while wave.ids.len() < size {
            let Some(devbox) = self
                .items
                .iter()
                .find(|i| i.state.is_due(now_ms))
                .map(|i| i.confirmed.source_devbox_id.clone())
            else {
                break;
            };
            for item in &mut self.items {
                if wave.ids.len() == size {
                    break;
                }
                if let ItemState::Pending {
                    may_have_run,
                    not_before_ms,
                } = item.state
                    && not_before_ms <= now_ms
                    && item.confirmed.source_devbox_id == devbox
                {
                    item.state = ItemState::Running {
                        phase: Phase::Recheck,
                        started_at_ms: now_ms,
                        may_have_run,
                    };
                    wave.ids.push(item.confirmed.snapshot_id.clone());
                }
            }
            wave.devbox_ids.push(devbox);
        }
        (!wave.ids.is_empty()).then_some(wave)
    }

    /// Judges `wave` against `listed`, every snapshot of the wave's devboxes (or of the
    /// account) as listed just now. Each item must still be what the person confirmed
    /// (there, same devbox, not pinned) *and* the run's [rule](RunRule) applied to this
    /// listing must still delete it. Those that pass wait for a delete slot
    /// ([`next_deletes`](Self::next_deletes)); the others are settled (skipped, or
    /// done if gone after a delete of ours). Items already verified on the wave's
    /// devboxes and still waiting for a slot are judged again with the newer listing.
    /// A stale answer (none of the wave's items is still being re-checked) changes
    /// nothing.
    pub fn on_listing(&mut self, wave: &Wave, listed: &[Snapshot], now_ms: i64) {
        let Some((settled, views)) = self.judge_listing(wave, listed) else {
            return;
        };
        let mut verdicts: BTreeMap<String, Result<(), SkipReason>> = BTreeMap::new();
        for view in &views {
            verdicts.extend(recheck::judge_devbox(&self.rule, view, &self.known, now_ms));
        }
        drop(views);
        for (n, state) in settled {
            self.items[n].state = state;
        }
        for item in &mut self.items {
            let ItemState::Running {
                phase: Phase::Recheck | Phase::Verified,
                started_at_ms,
                may_have_run,
            } = item.state
            else {
                continue;
            };
            item.state = match verdicts.remove(&item.confirmed.snapshot_id) {
                Some(Ok(())) => ItemState::Running {
                    phase: Phase::Verified,
                    started_at_ms,
                    may_have_run,
                },
                Some(Err(reason)) => ItemState::Skipped { reason },
                None => continue,
            };
        }
    }

    /// The listed snapshots whose status to ask (`/status`) before
    /// [`on_listing`](Self::on_listing) judges `listed`: the few with no known status
    /// whose status could change a verdict. Feed the answers to
    /// [`learn_status`](Self::learn_status); any left unknown count as not complete,
    /// which only ever keeps more.
    pub fn statuses_to_fetch(&self, wave: &Wave, listed: &[Snapshot]) -> Vec<String> {
        let Some((_, views)) = self.judge_listing(wave, listed) else {
            return Vec::new();
        };
        let mut out: Vec<String> = Vec::new();
        for view in &views {
            out.extend(recheck::statuses_to_fetch(&self.rule, view));
        }
        out
    }

    /// The per-snapshot half of judging a listing: the items it settles (gone, moved,
    /// pinned, unverifiable), and per devbox the view the rule judges the rest in.
    /// `None` for a stale answer.
    #[allow(clippy::type_complexity)]
    fn judge_listing<'a>(
        &'a self,
        wave: &'a Wave,
        listed: &'a [Snapshot],
    ) -> Option<(Vec<(usize, ItemState)>, Vec<DevboxView<'a>>)> {
        let in_wave: BTreeSet<&str> = wave.ids.iter().map(String::as_str).collect();
        let covered: BTreeSet<&str> = wave.devbox_ids.iter().map(String::as_str).collect();
        let candidates: Vec<(usize, &BulkItem, bool)> = self
            .items
            .iter()
            .enumerate()
            .filter_map(|(n, item)| match item.state {
                ItemState::Running {
                    phase: Phase::Recheck,
                    may_have_run,
                    ..
                } if in_wave.contains(item.confirmed.snapshot_id.as_str()) => {
                    Some((n, item, may_have_run))
                }
                ItemState::Running {
                    phase: Phase::Verified,
                    may_have_run,
                    ..
                } if covered.contains(item.confirmed.source_devbox_id.as_str()) => {
                    Some((n, item, may_have_run))
                }
                _ => None,
            })
            .collect();
        let live = candidates
            .iter()
            .any(|(_, item, _)| item.state.in_phase(Phase::Recheck));
        if !live {
            return None;
        }
        let found: BTreeMap<&str, &Snapshot> = listed.iter().map(|s| (s.id.as_str(), s)).collect();
        let items: BTreeMap<&str, &BulkItem> = self
            .items
            .iter()
            .map(|i| (i.confirmed.snapshot_id.as_str(), i))
            .collect();
        let mut settled = Vec::new();
        let mut passing: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (n, item, may_have_run) in candidates {
            let id = item.confirmed.snapshot_id.as_str();
            let pin_ok = self.rule.overrides(id);
            match judge(
                &item.confirmed,
                found.get(id).copied(),
                may_have_run,
                pin_ok,
            ) {
                Ok(()) => {
                    passing
                        .entry(item.confirmed.source_devbox_id.as_str())
                        .or_default()
                        .insert(id);
                }
                Err(state) => settled.push((n, state)),
            }
        }
        // Deletes of ours already sent or done take their snapshots away, whatever the
        // listing still shows.
        let leaving: BTreeSet<&str> = self
            .items
            .iter()
            .filter(|i| {
                i.state.in_phase(Phase::Deleting) || matches!(i.state, ItemState::Done { .. })
            })
            .map(|i| i.confirmed.snapshot_id.as_str())
            .collect();
        let views = passing
            .into_iter()
            .map(|(devbox_id, candidates)| {
                let present: Vec<&Snapshot> = listed
                    .iter()
                    .filter(|s| s.source_devbox_id == devbox_id && !leaving.contains(s.id.as_str()))
                    .collect();
                let statuses = present
                    .iter()
                    .filter_map(|s| {
                        let status = match items.get(s.id.as_str()) {
                            Some(item) => item.confirmed.status,
                            None => self.known.get(&s.id).map(|k| k.status),
                        };
                        status
                            .filter(|st| {
                                matches!(st, SnapshotStatus::Complete | SnapshotStatus::Error)
                            })
                            .map(|st| (s.id.clone(), st))
                    })
                    .collect();
                DevboxView {
                    devbox_id,
                    present,
                    statuses,
                    candidates,
                }
            })
            .collect();
        Some((settled, views))
    }

    /// Records that `wave`'s listing failed: each of its items counts an attempt and
    /// backs off, or fails. A 404 here says nothing about the snapshots themselves
    /// (the devbox may be unknown), so it is a failure, never "gone".
    pub fn on_listing_error(&mut self, wave: &Wave, error: &ApiError, now_ms: i64) {
        let max_attempts = self.max_attempts;
        for item in &mut self.items {
            if item.state.in_phase(Phase::Recheck) && wave.ids.contains(&item.confirmed.snapshot_id)
            {
                fail(item, error, now_ms, max_attempts);
            }
        }
    }

    /// Ids whose delete to send now, marking them deleting: verified items, up to the
    /// concurrency bound.
    pub fn next_deletes(&mut self) -> Vec<String> {
        let deleting = self
            .items
            .iter()
            .filter(|i| i.state.in_phase(Phase::Deleting))
            .count();
        let budget = self.max_concurrency.max(1).saturating_sub(deleting);
        // Oldest wave first (a retried item may sit before it in order), so no check
        // waits longer than the module's three rounds.
        let mut verified: Vec<(i64, usize)> = self
            .items
            .iter()
            .enumerate()
            .filter_map(|(n, i)| match i.state {
                ItemState::Running {
                    phase: Phase::Verified,
                    started_at_ms,
                    ..
                } => Some((started_at_ms, n)),
                _ => None,
            })
            .collect();
        verified.sort_unstable();
        verified.truncate(budget);
        let mut out = Vec::with_capacity(verified.len());
        for (started_at_ms, n) in verified {
            let item = &mut self.items[n];
            if let ItemState::Running { may_have_run, .. } = item.state {
                item.state = ItemState::Running {
                    phase: Phase::Deleting,
                    started_at_ms,
                    may_have_run,
                };
                out.push(item.confirmed.snapshot_id.clone());
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

    /// Records a delete's result. Only an item whose delete is out (from
    /// [`next_deletes`](Self::next_deletes)) is affected; anything else is ignored.
    /// A 404 means the snapshot is gone: after a delete of ours, done.
    pub fn on_result(&mut self, id: &str, result: Result<(), ApiError>, now_ms: i64) {
        let max_attempts = self.max_attempts;
        let Some(item) = self.item_mut(id) else {
            return;
        };
        if !item.state.in_phase(Phase::Deleting) {
            return;
        }
        match result {
            Ok(()) => {
                item.attempts += 1;
                item.state = ItemState::Done {
                    already_gone: false,
                };
            }
            // Once a delete was sent it may have reached the server, so a 404 after
            // it (or after an earlier one of ours) means ours went through.
            Err(e) if e.is_not_found() => item.state = gone(true),
            Err(e) => fail(item, &e, now_ms, max_attempts),
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

    /// The person cancelled: every item whose delete has not been sent is skipped;
    /// deletes in flight finish.
    pub fn cancel(&mut self) {
        for item in &mut self.items {
            if !item.state.is_settled() && !item.state.in_phase(Phase::Deleting) {
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

/// A failed listing or delete of a running item: back to pending (after a backoff if
/// retryable and attempts are left), or failed.
fn fail(item: &mut BulkItem, error: &ApiError, now_ms: i64, max_attempts: u32) {
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
    // A failed listing counts as an attempt too, so a dead API cannot keep a run
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

/// `Ok` to delete, or the settled state. `now`: the snapshot as just listed (`None`:
/// not listed, so gone).
/// `pin_ok`: the person overrode the floor for it, pinned or not.
fn judge(
    c: &Confirmed,
    now: Option<&Snapshot>,
    may_have_run: bool,
    pin_ok: bool,
) -> Result<(), ItemState> {
    let skip = |reason| Err(ItemState::Skipped { reason });
    let Some(s) = now else {
        return Err(gone(may_have_run));
    };
    // The listing carries no status; the confirmed one still holds only if terminal.
    if !matches!(
        c.status,
        Some(SnapshotStatus::Complete | SnapshotStatus::Error)
    ) {
        return skip(SkipReason::CouldNotVerify);
    }
    if s.source_devbox_id != c.source_devbox_id {
        return skip(SkipReason::DifferentSource {
            now: s.source_devbox_id.clone(),
        });
    }
    if is_pinned(s) && !pin_ok {
        return skip(SkipReason::PinnedSince);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use snapdeck_api::{Metadata, PINNED_KEY};

    fn confirmed_on(id: &str, devbox: &str) -> Confirmed {
        Confirmed {
            snapshot_id: id.into(),
            source_devbox_id: devbox.into(),
            name: None,
            size_bytes: Some(10),
            status: Some(SnapshotStatus::Complete),
        }
    }

    fn confirmed(id: &str) -> Confirmed {
        confirmed_on(id, "dbx_1")
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

    fn pinned(id: &str) -> Snapshot {
        let mut s = snapshot(id, "dbx_1");
        s.metadata.insert(PINNED_KEY.into(), "true".into());
        s
    }

    /// These ids as listed on dbx_1, unchanged, with [`kept`] (so the floor of a
    /// hand-picked run, tested on its own below, never keeps one of them).
    fn listed(ids: &[&str]) -> Vec<Snapshot> {
        ids.iter()
            .filter(|id| **id != "kept")
            .map(|id| snapshot(id, "dbx_1"))
            .chain([kept()])
            .collect()
    }

    /// A complete snapshot of dbx_1 that no run here deletes.
    fn kept() -> Snapshot {
        snapshot("kept", "dbx_1")
    }

    /// A hand-picked run that knows [`kept`] is complete.
    fn new_run(confirmed: impl IntoIterator<Item = Confirmed>) -> BulkRun {
        let k = kept();
        BulkRun::new(confirmed).remembering([(&k, Some(SnapshotStatus::Complete))])
    }

    /// Concurrency 2: waves of 4.
    fn run(ids: &[&str]) -> BulkRun {
        new_run(ids.iter().map(|id| confirmed(id))).with_concurrency(2)
    }

    fn state(r: &BulkRun, id: &str) -> Option<ItemState> {
        r.item(id).map(|i| i.state.clone())
    }

    fn skipped(reason: SkipReason) -> Option<ItemState> {
        Some(ItemState::Skipped { reason })
    }

    fn api(status: u16) -> ApiError {
        ApiError::Api {
            status,
            message: "x".into(),
        }
    }

    /// Lists the next wave as `list` says (every snapshot of its devboxes now).
    fn recheck(r: &mut BulkRun, now: i64, list: &[Snapshot]) -> Wave {
        let wave = r.next_wave(now).expect("a wave is due");
        r.on_listing(&wave, list, now);
        wave
    }

    #[test]
    fn a_wave_is_listed_once_then_deleted_with_bounded_concurrency() {
        let mut r = run(&["a", "b", "c", "d", "e"]);
        let all = listed(&["a", "b", "c", "d", "e", "kept"]);
        let wave = r.next_wave(0).expect("first wave");
        assert_eq!(wave.ids, ["a", "b", "c", "d"]);
        assert_eq!(wave.devbox_ids, ["dbx_1"]);
        assert_eq!(r.next_wave(0), None, "one listing out at a time");
        assert!(r.next_deletes().is_empty(), "nothing verified yet");
        r.on_listing(&wave, &all, 0);
        assert_eq!(r.next_wave(0), None, "two rounds wait for slots");
        assert_eq!(r.next_deletes(), ["a", "b"]);
        assert!(r.next_deletes().is_empty(), "two deletes in flight at most");
        // One round left waiting (c, d): the next wave is listed meanwhile.
        let next = r.next_wave(0).expect("second wave");
        assert_eq!(next.ids, ["e"]);
        r.on_result("a", Ok(()), 0);
        assert_eq!(r.next_deletes(), ["c"]);
        r.on_listing(&next, &all, 0);
        r.on_result("b", Ok(()), 0);
        assert_eq!(r.next_deletes(), ["d"], "in order: c and d before e");
        assert_eq!(r.counts().running, 3);
    }

    #[test]
    fn verified_items_of_the_older_wave_are_deleted_first() {
        let mut r = new_run(["a", "b", "c"].map(confirmed)).with_concurrency(1);
        recheck(&mut r, 0, &listed(&["a", "b", "c"]));
        assert_eq!(r.next_deletes(), ["a"]);
        r.on_result("a", Err(api(503)), 0); // a backs off until 1 s
        let wave = recheck(&mut r, 1_000, &listed(&["a", "b", "c"]));
        assert_eq!(wave.ids, ["a", "c"]);
        assert_eq!(r.next_deletes(), ["b"], "b was checked first");
    }

    #[test]
    fn a_happy_run_takes_one_listing_per_wave_and_one_delete_per_item() {
        let ids: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
        let mut r = new_run(ids.iter().map(|id| confirmed(id))).with_concurrency(2);
        let all: Vec<Snapshot> = ids
            .iter()
            .map(|id| snapshot(id, "dbx_1"))
            .chain([kept()])
            .collect();
        let (mut listings, mut deletes) = (0, 0);
        while !r.is_finished() {
            if let Some(wave) = r.next_wave(0) {
                listings += 1;
                r.on_listing(&wave, &all, 0);
            }
            for id in r.next_deletes() {
                deletes += 1;
                r.on_result(&id, Ok(()), 0);
            }
        }
        assert_eq!((listings, deletes), (3, 10), "waves of 4");
        let c = r.counts();
        assert_eq!((c.done, c.failed, c.skipped, c.left), (10, 0, 0, 0));
        assert_eq!(c.bytes_freed, 100);
    }

    #[test]
    fn waves_take_items_devbox_by_devbox() {
        let mut r = new_run([
            confirmed_on("a1", "dbx_a"),
            confirmed_on("b1", "dbx_b"),
            confirmed_on("a2", "dbx_a"),
            confirmed_on("b2", "dbx_b"),
            confirmed_on("c1", "dbx_c"),
        ])
        .with_concurrency(2);
        let wave = r.next_wave(0).expect("a wave");
        assert_eq!(wave.ids, ["a1", "a2", "b1", "b2"]);
        assert_eq!(wave.devbox_ids, ["dbx_a", "dbx_b"]);
    }

    #[test]
    fn the_listing_is_per_devbox_unless_the_account_takes_fewer_requests() {
        let wave = Wave {
            ids: vec!["a".into(), "b".into(), "c".into()],
            devbox_ids: vec!["d1".into(), "d2".into(), "d3".into()],
        };
        let per_devbox = Listing::Devboxes(wave.devbox_ids.clone());
        assert_eq!(wave.listing(None, 5000), per_devbox, "account size unknown");
        assert_eq!(
            wave.listing(Some(4_000), 5000),
            Listing::Account,
            "1 page < 3"
        );
        assert_eq!(wave.listing(Some(15_000), 5000), per_devbox, "3 pages = 3");
        assert_eq!(wave.listing(Some(20_000), 5000), per_devbox, "4 pages > 3");
    }

    #[test]
    fn a_snapshot_pinned_between_waves_is_skipped() {
        let mut r = new_run(["a", "b", "c"].map(confirmed)).with_concurrency(1);
        recheck(&mut r, 0, &listed(&["a", "b", "c"]));
        for id in ["a", "b"] {
            assert_eq!(r.next_deletes(), [id]);
            r.on_result(id, Ok(()), 0);
        }
        // c is pinned after the first wave was checked, before its own.
        recheck(&mut r, 0, &[pinned("c")]);
        assert!(r.next_deletes().is_empty());
        assert_eq!(state(&r, "c"), skipped(SkipReason::PinnedSince));
        assert!(r.is_finished());
    }

    #[test]
    fn the_listing_skips_the_gone_the_moved_and_the_unverifiable() {
        let mut r = new_run([
            confirmed("gone"),
            confirmed("moved"),
            Confirmed {
                status: None,
                ..confirmed("unknown")
            },
            Confirmed {
                status: Some(SnapshotStatus::InProgress),
                ..confirmed("busy")
            },
            confirmed("same"),
        ])
        .with_concurrency(4);
        let list = [
            snapshot("moved", "dbx_9"),
            snapshot("unknown", "dbx_1"),
            snapshot("busy", "dbx_1"),
            snapshot("same", "dbx_1"),
            kept(),
        ];
        recheck(&mut r, 0, &list);
        assert_eq!(state(&r, "gone"), skipped(SkipReason::NoLongerExists));
        assert_eq!(
            state(&r, "moved"),
            skipped(SkipReason::DifferentSource {
                now: "dbx_9".into()
            })
        );
        assert_eq!(state(&r, "unknown"), skipped(SkipReason::CouldNotVerify));
        assert_eq!(state(&r, "busy"), skipped(SkipReason::CouldNotVerify));
        assert_eq!(r.next_deletes(), ["same"]);
    }

    #[test]
    fn errored_snapshots_confirmed_as_errored_are_verified_by_the_listing() {
        let mut r = new_run([Confirmed {
            status: Some(SnapshotStatus::Error),
            ..confirmed("e")
        }]);
        recheck(&mut r, 0, &listed(&["e"]));
        assert_eq!(r.next_deletes(), ["e"]);
    }

    #[test]
    fn a_failed_listing_backs_off_its_wave_and_a_404_is_a_failure_not_gone() {
        let mut r = new_run(["a", "b", "c"].map(confirmed))
            .with_concurrency(1)
            .with_max_attempts(3);
        let wave = r.next_wave(0).expect("wave");
        r.on_listing_error(&wave, &api(503), 100);
        let only_c = r.next_wave(500).expect("c is due");
        assert_eq!(only_c.ids, ["c"]);
        r.on_listing(&only_c, &listed(&["c"]), 500);
        assert_eq!(r.next_deletes(), ["c"]);
        r.on_result("c", Ok(()), 600);
        assert_eq!(r.next_wake_at(), Some(1_100));
        assert_eq!(r.next_wave(500), None, "a and b still back off");
        let wave = r.next_wave(1_100).expect("a and b are due");
        assert_eq!(wave.ids, ["a", "b"]);
        r.on_listing_error(&wave, &api(404), 1_200);
        assert!(
            matches!(
                state(&r, "a"),
                Some(ItemState::Failed {
                    retryable: false,
                    ..
                })
            ),
            "{:?}",
            state(&r, "a")
        );
        assert_eq!(r.item("a").map(|i| i.attempts), Some(2));
        assert!(r.is_finished());
    }

    #[test]
    fn an_aborted_listing_returns_its_wave_to_pending_without_an_attempt() {
        let mut r = run(&["a"]);
        let wave = r.next_wave(0).expect("wave");
        r.on_listing_error(&wave, &ApiError::Aborted, 0);
        assert_eq!(
            state(&r, "a"),
            Some(ItemState::Pending {
                may_have_run: false,
                not_before_ms: 0
            })
        );
        assert_eq!(r.item("a").map(|i| i.attempts), Some(0));
    }

    #[test]
    fn retryable_delete_failures_back_off_then_fail_after_the_bound() {
        let mut r = run(&["a"]).with_max_attempts(2);
        recheck(&mut r, 0, &listed(&["a"]));
        r.next_deletes();
        r.on_result("a", Err(api(503)), 100);
        assert_eq!(r.next_wake_at(), Some(1_100));
        assert_eq!(r.next_wave(500), None, "still backing off");
        recheck(&mut r, 1_100, &listed(&["a"]));
        assert_eq!(r.next_deletes(), ["a"]);
        r.on_result("a", Err(api(503)), 1_200);
        let st = state(&r, "a");
        assert!(
            matches!(
                st,
                Some(ItemState::Failed {
                    retryable: true,
                    ..
                })
            ),
            "{st:?}"
        );
        assert!(r.is_finished());
        assert_eq!(r.retry_failed(), 1);
        assert_eq!(
            r.next_wave(2_000).map(|w| w.ids),
            Some(vec!["a".to_owned()])
        );
    }

    #[test]
    fn conflicts_fail_at_once_with_the_api_message() {
        let mut r = run(&["a"]);
        recheck(&mut r, 0, &listed(&["a"]));
        r.next_deletes();
        r.on_result("a", Err(api(409)), 0);
        assert_eq!(
            state(&r, "a"),
            Some(ItemState::Failed {
                message: "Not possible right now (409): x".into(),
                retryable: false
            })
        );
    }

    #[test]
    fn a_run_interrupted_mid_delete_resumes_and_counts_a_vanished_item_as_done() {
        let mut r = new_run(["a", "b", "c"].map(confirmed)).with_concurrency(1);
        recheck(&mut r, 0, &listed(&["a", "b", "c"]));
        assert_eq!(r.next_deletes(), ["a"]); // a's delete is out, b waits for a slot…
        // …and the page reloads. The run was persisted.
        let json = serde_json::to_string(&r).expect("ser");
        let mut r: BulkRun = serde_json::from_str(&json).expect("de");
        r.resume_after_interruption();
        assert_eq!(r.counts().running, 0);
        // Every unsettled item is re-checked again; a is gone: our delete went through.
        // b, verified but never sent, is gone too: someone else deleted it.
        let wave = recheck(&mut r, 10, &listed(&["c"]));
        assert_eq!(wave.ids, ["a", "b"]);
        assert_eq!(state(&r, "a"), Some(ItemState::Done { already_gone: true }));
        assert_eq!(state(&r, "b"), skipped(SkipReason::NoLongerExists));
        recheck(&mut r, 10, &listed(&["c"]));
        assert_eq!(r.next_deletes(), ["c"]);
    }

    #[test]
    fn a_listing_for_items_no_longer_being_rechecked_changes_nothing() {
        let mut r = run(&["a", "b"]);
        let wave = recheck(&mut r, 0, &listed(&["a", "b"]));
        // The same wave answered again (a stray or duplicated answer), now pinned.
        r.on_listing(&wave, &[pinned("a")], 0);
        r.on_listing_error(&wave, &api(500), 0);
        assert_eq!(r.next_deletes(), ["a", "b"]);
    }

    #[test]
    fn unknown_ids_never_cause_a_delete() {
        let mut r = run(&["a"]);
        let stray = Wave {
            ids: vec!["not-confirmed".into()],
            devbox_ids: vec!["dbx_1".into()],
        };
        r.next_wave(0);
        r.on_listing(&stray, &listed(&["a", "not-confirmed"]), 0);
        assert!(r.next_deletes().is_empty(), "a was not in that wave");
        r.on_result("not-confirmed", Ok(()), 0);
        assert_eq!(r.items.len(), 1);
        assert_eq!(r.counts().done, 0);
    }

    #[test]
    fn a_success_without_a_sent_delete_is_ignored() {
        let mut r = run(&["a"]);
        r.on_result("a", Ok(()), 0);
        assert_eq!(r.counts().done, 0, "a was never started");
        let wave = r.next_wave(0).expect("wave");
        r.on_result("a", Ok(()), 0);
        assert_eq!(r.counts().done, 0, "a was not verified yet");
        r.on_listing(&wave, &listed(&["a"]), 0);
        r.on_result("a", Ok(()), 0);
        assert_eq!(r.counts().done, 0, "a's delete was not sent yet");
    }

    #[test]
    fn cancelling_skips_everything_whose_delete_was_not_sent() {
        let mut r = new_run(["a", "b", "c"].map(confirmed)).with_concurrency(1);
        recheck(&mut r, 0, &listed(&["a", "b", "c"]));
        r.next_deletes();
        r.cancel();
        let c = r.counts();
        assert_eq!((c.skipped, c.running), (2, 1));
        assert_eq!(state(&r, "b"), skipped(SkipReason::Cancelled));
        r.on_result("a", Ok(()), 0);
        assert!(r.is_finished());
        assert_eq!(r.counts().done, 1);
    }

    #[test]
    fn an_aborted_delete_returns_the_item_to_pending_as_maybe_deleted() {
        let mut r = run(&["a"]);
        recheck(&mut r, 0, &listed(&["a"]));
        r.next_deletes();
        r.on_result("a", Err(ApiError::Aborted), 0);
        assert_eq!(
            state(&r, "a"),
            Some(ItemState::Pending {
                may_have_run: true,
                not_before_ms: 0
            })
        );
    }

    #[test]
    fn a_404_on_delete_counts_as_done() {
        let mut r = run(&["a"]);
        recheck(&mut r, 0, &listed(&["a"]));
        r.next_deletes();
        r.on_result("a", Err(api(404)), 0);
        assert_eq!(state(&r, "a"), Some(ItemState::Done { already_gone: true }));
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

    #[test]
    fn runs_saved_by_the_per_snapshot_version_still_load_and_resume() {
        let json = r#"{"items":[{"confirmed":{"snapshot_id":"a","source_devbox_id":"dbx_1","status":"complete"},
            "state":{"state":"running","phase":"recheck","started_at_ms":5}},
            {"confirmed":{"snapshot_id":"b","source_devbox_id":"dbx_1"},
            "state":{"state":"skipped","reason":{"reason":"different_snapshot","now":"x"}}}],
            "max_concurrency":4,"max_attempts":3}"#;
        let mut r: BulkRun = serde_json::from_str(json).expect("loads");
        r.resume_after_interruption();
        assert_eq!(r.next_wave(0).map(|w| w.ids), Some(vec!["a".to_owned()]));
    }

    #[test]
    fn unticked_rows_are_left_out_of_the_confirmed_run() {
        let snaps: Vec<Snapshot> = ["a", "b", "c"]
            .iter()
            .zip([3, 2, 1])
            .map(|(id, t)| {
                serde_json::from_value(serde_json::json!({
                    "id": id, "create_time_ms": t, "source_devbox_id": "dbx_1",
                    "size_bytes": 10, "metadata": {},
                }))
                .expect("a snapshot")
            })
            .collect();
        let statuses = snaps
            .iter()
            .map(|s| (s.id.clone(), SnapshotStatus::Complete))
            .collect();
        let policy = crate::RetentionPolicy {
            scope: crate::Scope::Devbox("dbx_1".into()),
            keep_newest: 1,
            ..Default::default()
        };
        let plan = crate::retention::plan(&policy, &snaps, &statuses, 10);
        let ids = |c: Vec<Confirmed>| c.into_iter().map(|c| c.snapshot_id).collect::<Vec<_>>();
        assert_eq!(
            ids(confirmed_from_plan(&plan, &BTreeSet::new())),
            ["b", "c"]
        );
        let unticked = BTreeSet::from(["b".to_string()]);
        assert_eq!(ids(confirmed_from_plan(&plan, &unticked)), ["c"]);
    }
}
