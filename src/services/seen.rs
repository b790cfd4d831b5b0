//! What this browser last saw of each snapshot: its view (for the page of a snapshot
//! that no longer exists: "last known facts") and when it was seen running and
//! complete (the durations [`snapdeck_core::estimate`] learns from). Kept small in
//! localStorage: the [`KEEP`] most recently seen snapshots.

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use snapdeck_api::{Snapshot, SnapshotStatus};
use snapdeck_core::estimate::{self, DurationSample, Estimate, Sightings};

use crate::hooks::use_now::now_ms;
use crate::storage::{self, Area};

const STORAGE_KEY: &str = "snapdeck.seen";
/// Snapshots remembered (the least recently seen are forgotten first).
const KEEP: usize = 300;

/// One snapshot as last seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeenSnapshot {
    /// Its view, when one was seen (the API gives none for an in-progress snapshot
    /// found only by id).
    #[serde(default)]
    pub snapshot: Option<Snapshot>,
    /// The devbox it was taken of.
    pub devbox_id: String,
    /// Its last known status.
    #[serde(default)]
    pub status: Option<SnapshotStatus>,
    /// When it was seen running and complete.
    pub sightings: Sightings,
    /// When it was last seen at all (unix ms).
    pub seen_at_ms: i64,
}

/// The record (app-wide).
#[derive(Debug, Clone, Copy)]
pub struct Seen {
    map: RwSignal<BTreeMap<String, SeenSnapshot>>,
}

/// Installs the record (app root), restored from localStorage.
pub fn provide_seen() -> Seen {
    let map = storage::get_json(Area::Local, STORAGE_KEY).unwrap_or_default();
    let seen = Seen {
        map: RwSignal::new(map),
    };
    provide_context(seen);
    seen
}

/// The record from context.
pub fn use_seen() -> Seen {
    expect_context::<Seen>()
}

impl Seen {
    /// What was last seen of `id` (tracked).
    pub fn get(&self, id: &str) -> Option<SeenSnapshot> {
        self.map.with(|m| m.get(id).cloned())
    }

    /// What was last seen of `id`, without tracking: for async code (a resource's
    /// future tracks what it reads, and a load that both reads and records would
    /// otherwise refetch itself forever).
    pub fn get_untracked(&self, id: &str) -> Option<SeenSnapshot> {
        self.map.with_untracked(|m| m.get(id).cloned())
    }

    /// Remembers a snapshot's view (and its status, when known).
    pub fn remember(&self, s: &Snapshot, status: Option<SnapshotStatus>) {
        self.change(&s.id, &s.source_devbox_id, s.create_time_ms, |e| {
            e.snapshot = Some(s.clone());
            if status.is_some() {
                e.status = status;
            }
        });
        if let Some(status) = status {
            self.observe(&s.id, &s.source_devbox_id, s.create_time_ms, status);
        }
    }

    /// Records a status seen now. `started_at_ms` is used when the snapshot is new
    /// to the record (a snapshot we started: our own start time).
    pub fn observe(&self, id: &str, devbox_id: &str, started_at_ms: i64, status: SnapshotStatus) {
        let now = now_ms();
        self.change(id, devbox_id, started_at_ms, |e| {
            e.status = Some(status);
            e.sightings.observe(status, now);
        });
    }

    /// The estimate for a new snapshot of `devbox_id`, from its earlier ones seen here.
    pub fn estimate_for(&self, devbox_id: &str) -> Option<Estimate> {
        self.map.with_untracked(|m| {
            let mut mine: Vec<&SeenSnapshot> =
                m.values().filter(|e| e.devbox_id == devbox_id).collect();
            mine.sort_by_key(|e| e.sightings.started_at_ms);
            let size = |e: &SeenSnapshot| e.snapshot.as_ref().and_then(|s| s.size_bytes);
            let history: Vec<DurationSample> = mine
                .iter()
                .filter_map(|e| e.sightings.sample(size(e)))
                .collect();
            let hint = mine.iter().rev().find_map(|e| size(e));
            estimate::estimate(&history, hint)
        })
    }

    fn change(
        &self,
        id: &str,
        devbox_id: &str,
        started_at_ms: i64,
        f: impl FnOnce(&mut SeenSnapshot),
    ) {
        let now = now_ms();
        self.map.update(|m| {
            let e = m.entry(id.to_owned()).or_insert_with(|| SeenSnapshot {
                snapshot: None,
                devbox_id: devbox_id.to_owned(),
                status: None,
                sightings: Sightings::new(started_at_ms),
                seen_at_ms: now,
            });
            f(e);
            e.seen_at_ms = now;
            if m.len() > KEEP {
                let oldest = m
                    .iter()
                    .min_by_key(|(_, e)| e.seen_at_ms)
                    .map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    m.remove(&k);
                }
            }
        });
        self.map
            .with_untracked(|m| storage::set_json(Area::Local, STORAGE_KEY, m));
    }
}
