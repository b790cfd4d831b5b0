//! Snapshot statuses, fetched sparingly.
//!
//! The list endpoint carries no status; `/status` costs one call per snapshot. So:
//! final statuses (`complete`, `error`, `deleted`) are cached forever (they never
//! change), the rest are re-fetched only when stale, at most `max_in_flight` at a
//! time, and in the order the caller gives — rows on screen first.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use snapdeck_api::{ApiError, SnapshotStatus, SnapshotStatusView};

/// A non-final status older than this is fetched again.
pub const DEFAULT_REFRESH_AFTER_MS: i64 = 5_000;
/// A failed fetch is not retried sooner than this.
pub const RETRY_FAILED_AFTER_MS: i64 = 5_000;

/// What is known about one snapshot's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedStatus {
    pub status: SnapshotStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    pub fetched_at_ms: i64,
}

/// The cache plus the bookkeeping of fetches in flight.
///
/// Serializes only final statuses (the others would be stale on restore anyway), so it
/// can be kept in `localStorage` across reloads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCache {
    #[serde(serialize_with = "serialize_finals")]
    entries: BTreeMap<String, CachedStatus>,
    #[serde(skip)]
    in_flight: BTreeSet<String>,
    #[serde(skip)]
    failed_at_ms: BTreeMap<String, i64>,
}

fn serialize_finals<S: serde::Serializer>(
    entries: &BTreeMap<String, CachedStatus>,
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let finals: Vec<_> = entries
        .iter()
        .filter(|(_, e)| e.status.is_final())
        .collect();
    let mut map = s.serialize_map(Some(finals.len()))?;
    for (k, v) in finals {
        map.serialize_entry(k, v)?;
    }
    map.end()
}

impl StatusCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// What is known about `id`.
    pub fn get(&self, id: &str) -> Option<&CachedStatus> {
        self.entries.get(id)
    }

    /// The last known status of `id`.
    pub fn status(&self, id: &str) -> Option<SnapshotStatus> {
        self.entries.get(id).map(|e| e.status)
    }

    /// Whether a fetch of `id` is running.
    pub fn is_in_flight(&self, id: &str) -> bool {
        self.in_flight.contains(id)
    }

    /// Number of fetches running.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Which ids to fetch now, at most `max_in_flight` minus those already running,
    /// taken in the given order (put rows on screen first). Skips final statuses,
    /// fetches in flight, fresh non-final statuses (younger than `refresh_after_ms`)
    /// and recent failures. Duplicates in the input are fetched once.
    pub fn plan_fetches<'a>(
        &self,
        ids_in_priority_order: impl IntoIterator<Item = &'a str>,
        max_in_flight: usize,
        now_ms: i64,
        refresh_after_ms: i64,
    ) -> Vec<String> {
        let budget = max_in_flight.saturating_sub(self.in_flight.len());
        let mut out: Vec<String> = Vec::new();
        for id in ids_in_priority_order {
            if out.len() >= budget {
                break;
            }
            if self.in_flight.contains(id) || out.iter().any(|o| o == id) {
                continue;
            }
            if let Some(failed) = self.failed_at_ms.get(id)
                && now_ms.saturating_sub(*failed) < RETRY_FAILED_AFTER_MS
            {
                continue;
            }
            let wanted = match self.entries.get(id) {
                None => true,
                Some(e) if e.status.is_final() => false,
                Some(e) => now_ms.saturating_sub(e.fetched_at_ms) >= refresh_after_ms,
            };
            if wanted {
                out.push(id.to_owned());
            }
        }
        out
    }

    /// [`plan_fetches`](Self::plan_fetches) with the default refresh interval.
    pub fn needs_fetch<'a>(
        &self,
        ids_on_screen_first: impl IntoIterator<Item = &'a str>,
        max_in_flight: usize,
        now_ms: i64,
    ) -> Vec<String> {
        self.plan_fetches(
            ids_on_screen_first,
            max_in_flight,
            now_ms,
            DEFAULT_REFRESH_AFTER_MS,
        )
    }

    /// Marks fetches as started (call with what [`plan_fetches`](Self::plan_fetches) returned).
    pub fn start<I, S>(&mut self, ids: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.in_flight.extend(ids.into_iter().map(Into::into));
    }

    /// Records a `/status` answer.
    pub fn record(&mut self, id: &str, view: &SnapshotStatusView, now_ms: i64) {
        self.record_status(id, view.status, view.error_message.clone(), now_ms);
    }

    /// Records a status learned another way (e.g. our own delete succeeded → `deleted`).
    pub fn record_status(
        &mut self,
        id: &str,
        status: SnapshotStatus,
        error_message: Option<String>,
        now_ms: i64,
    ) {
        self.in_flight.remove(id);
        self.failed_at_ms.remove(id);
        // A final status is never downgraded by a late, stale answer.
        if self.entries.get(id).is_some_and(|e| e.status.is_final()) && !status.is_final() {
            return;
        }
        self.entries.insert(
            id.to_owned(),
            CachedStatus {
                status,
                error_message,
                fetched_at_ms: now_ms,
            },
        );
    }

    /// Records a failed fetch. A 404 means the snapshot is gone: cached as `deleted`.
    pub fn record_error(&mut self, id: &str, error: &ApiError, now_ms: i64) {
        if error.is_not_found() {
            self.record_status(id, SnapshotStatus::Deleted, None, now_ms);
            return;
        }
        self.in_flight.remove(id);
        self.failed_at_ms.insert(id.to_owned(), now_ms);
    }

    /// A fetch was cancelled (the page went away): forget that it was running.
    pub fn cancel(&mut self, id: &str) {
        self.in_flight.remove(id);
    }

    /// Statuses as a map for [`retention`](crate::retention) and the timeline.
    pub fn statuses(&self) -> BTreeMap<String, SnapshotStatus> {
        self.entries
            .iter()
            .map(|(k, v)| (k.clone(), v.status))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(status: SnapshotStatus) -> SnapshotStatusView {
        SnapshotStatusView {
            status,
            error_message: None,
            snapshot: None,
        }
    }

    #[test]
    fn on_screen_ids_come_first_and_concurrency_is_bounded() {
        let mut c = StatusCache::new();
        c.start(["a"]);
        let plan = c.needs_fetch(["x", "a", "y", "z", "w"], 3, 0);
        assert_eq!(plan, ["x", "y"], "a is in flight; 3 - 1 = 2 slots");
    }

    #[test]
    fn final_statuses_are_never_fetched_again() {
        let mut c = StatusCache::new();
        c.start(["a", "b", "c", "d"]);
        c.record("a", &view(SnapshotStatus::Complete), 0);
        c.record("b", &view(SnapshotStatus::Error), 0);
        c.record("c", &view(SnapshotStatus::Deleted), 0);
        c.record("d", &view(SnapshotStatus::InProgress), 0);
        assert_eq!(c.in_flight(), 0);
        assert_eq!(
            c.needs_fetch(["a", "b", "c", "d"], 10, 1_000),
            Vec::<String>::new()
        );
        assert_eq!(c.needs_fetch(["a", "b", "c", "d"], 10, 1_000_000), ["d"]);
    }

    #[test]
    fn a_late_stale_answer_does_not_undo_a_final_status() {
        let mut c = StatusCache::new();
        c.record("a", &view(SnapshotStatus::Complete), 10);
        c.record("a", &view(SnapshotStatus::InProgress), 20);
        assert_eq!(c.status("a"), Some(SnapshotStatus::Complete));
    }

    #[test]
    fn failures_back_off_and_404_means_deleted() {
        let mut c = StatusCache::new();
        c.start(["a", "b"]);
        c.record_error("a", &ApiError::Transport("down".into()), 0);
        c.record_error(
            "b",
            &ApiError::Api {
                status: 404,
                message: String::new(),
            },
            0,
        );
        assert_eq!(c.status("b"), Some(SnapshotStatus::Deleted));
        assert!(c.needs_fetch(["a"], 5, 1_000).is_empty());
        assert_eq!(c.needs_fetch(["a"], 5, RETRY_FAILED_AFTER_MS), ["a"]);
    }

    #[test]
    fn duplicates_are_planned_once() {
        let c = StatusCache::new();
        assert_eq!(c.needs_fetch(["a", "a", "b"], 5, 0), ["a", "b"]);
    }

    #[test]
    fn only_final_statuses_survive_a_reload() {
        let mut c = StatusCache::new();
        c.record("done", &view(SnapshotStatus::Complete), 1);
        c.record("busy", &view(SnapshotStatus::InProgress), 1);
        c.start(["other"]);
        let json = serde_json::to_string(&c).expect("ser");
        let back: StatusCache = serde_json::from_str(&json).expect("de");
        assert_eq!(back.status("done"), Some(SnapshotStatus::Complete));
        assert_eq!(back.status("busy"), None);
        assert_eq!(back.in_flight(), 0);
    }
}
