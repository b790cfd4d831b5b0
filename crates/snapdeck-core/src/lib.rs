//! Pure domain logic for snapdeck: no I/O, no clock, no randomness (time and ids are
//! passed in), so every rule here is reachable by plain `cargo test`.
//!
//! * [`access`]: who may use a server that acts for its user (host, origin, token).
//! * [`watch`]: the poll schedule of an async snapshot, resumable after a reload.
//! * [`estimate`]: how long a running snapshot still needs, from the devbox's history.
//! * [`status_cache`]: which snapshot statuses to fetch, how many at once, on-screen first.
//! * [`lineage`]: a devbox's snapshot timeline and the devbox/snapshot forest.
//! * [`graph`]: the whole account as one lineage graph (blueprint → devbox → snapshot
//!   → devbox …), filtered, long lines collapsed; [`layered`] draws it (Sugiyama).
//! * [`retention`]: retention policies → cleanup plans with a reason per snapshot.
//! * [`bulk`]: a confirmed plan's deletes as a resumable state machine, re-checking the
//!   snapshots against the list in waves just before deleting them.
//! * [`recheck`]: the rule each wave re-applies (the plan's policy, or the floor of a
//!   hand-picked selection), so the plan still holds at the moment of each delete.
//! * [`blueprints`]: a blueprint's family (devboxes and snapshots descended from it),
//!   the build poll's backoff, the snapshots a refused delete names.
//! * [`fanout`]: N devboxes from one snapshot — the launch plan, the batch found again
//!   from metadata, the compare table of result files, continuing with the best.
//! * [`launch`]: the "New devbox" dialog's choices → the create body and its summary.
//! * [`jobs`]: the jobs API's wire types and calls (server-side plans and bulk runs).
//! * [`eligibility`]: whether a snapshot can be deleted at all (one rule for every
//!   delete path) and how risky one delete is (newest complete, pinned, live children).
//! * [`palette`]: the command palette's fuzzy scorer, result order, verbs and recents.
//! * [`keys`]: the one table of keyboard shortcuts (help dialog and palette read it).
//! * [`storage`]: storage over time — a devbox's sizes as bars on a time axis with running
//!   totals (and what a plan frees), binary axis ticks, bytes by devbox or blueprint.
//! * [`query`]: list rules — search, column sorts with one tie-break, paging.
//! * [`edit`]: read-merge-write snapshot updates (metadata is replaced whole), pinning.
//! * [`validate`]: checks of names, metadata and commit messages people type.
//! * [`format`](mod@format): relative times, sizes, stopwatch durations, shortened ids.

pub mod access;
pub mod audit;
pub mod blueprints;
pub mod bulk;
pub mod edit;
pub mod eligibility;
pub mod estimate;
pub mod fanout;
pub mod format;
pub mod graph;
pub mod jobs;
pub mod keys;
pub mod launch;
pub mod layered;
pub mod lineage;
pub mod palette;
pub mod query;
pub mod recheck;
pub mod retention;
pub mod status_cache;
pub mod storage;
pub mod validate;
pub mod watch;

pub use bulk::{BulkRun, Confirmed, Counts, ItemState, Listing, SkipReason, Wave};
pub use estimate::{DurationSample, Estimate};
pub use lineage::{DevboxNode, Lineage, Origin, SnapshotNode, TimelineEntry};
pub use recheck::RunRule;
pub use retention::{
    CleanupPlan, Decision, DeleteReason, KeepReason, PlanItem, RetentionPolicy, Scope, is_pinned,
};
pub use snapdeck_api::PINNED_KEY;
pub use status_cache::{CachedStatus, StatusCache};
pub use validate::ValidationError;
pub use watch::{SnapshotWatch, WatchStep};
