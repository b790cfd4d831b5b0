//! Snapshot statuses for the whole app: one [`StatusCache`] (snapdeck-core) behind a
//! signal, and a hook that keeps the statuses of the rows on screen fresh.
//!
//! Final statuses are cached for good (and kept in localStorage across reloads); the
//! rest are fetched again when stale, at most [`STATUS_FETCHES`] at a time, rows on
//! screen first. Nothing off screen is fetched.

use leptos::prelude::*;
use leptos::task::spawn_local;
use snapdeck_api::SnapshotStatus;
use snapdeck_core::{CachedStatus, ItemState, StatusCache};

use crate::api::Api;
use crate::hooks::use_interval::use_interval;
use crate::hooks::use_now::now_ms;
use crate::services::run_events::{RunEvent, RunEvents};
use crate::storage::{self, Area};

/// Status fetches allowed at once.
pub const STATUS_FETCHES: usize = 4;

const STORAGE_KEY: &str = "snapdeck.statuses";

/// The shared status cache.
#[derive(Debug, Clone, Copy)]
pub struct Statuses {
    cache: RwSignal<StatusCache>,
    api: Api,
}

impl Statuses {
    /// What is known about a snapshot (tracked).
    pub fn get(&self, id: &str) -> Option<CachedStatus> {
        self.cache.with(|c| c.get(id).cloned())
    }

    /// Just the status (tracked).
    pub fn status(&self, id: &str) -> Option<SnapshotStatus> {
        self.cache.with(|c| c.status(id))
    }

    /// Records a status learned without asking (our own delete, a finished watch).
    pub fn record(&self, id: &str, status: SnapshotStatus, error: Option<String>) {
        self.cache
            .update(|c| c.record_status(id, status, error, now_ms()));
        self.persist();
    }

    /// Records our own deletes as they settle, so every status badge agrees at once:
    /// a batch of settled items is one update and one save (a run of thousands
    /// settles hundreds at a time; saving the whole cache per item cost seconds).
    pub fn follow_runs(&self, events: RunEvents) {
        let this = *self;
        events.subscribe(move |e| {
            let RunEvent::Settled { items, .. } = e else {
                return;
            };
            let deleted: Vec<&str> = items
                .iter()
                .filter(|item| matches!(item.state, ItemState::Done { .. }))
                .map(|item| item.confirmed.snapshot_id.as_str())
                .collect();
            if deleted.is_empty() {
                return;
            }
            let now = now_ms();
            this.cache.update(|c| {
                for id in deleted {
                    c.record_status(id, SnapshotStatus::Deleted, None, now);
                }
            });
            this.persist();
        });
    }

    fn persist(&self) {
        self.cache
            .with_untracked(|c| storage::set_json(Area::Local, STORAGE_KEY, c));
    }

    /// Starts fetches for whichever of `ids` need one (in order: put visible rows first).
    pub fn refresh(&self, ids: &[String]) {
        let cache = self.cache;
        let now = now_ms();
        let todo = cache
            .with_untracked(|c| c.needs_fetch(ids.iter().map(String::as_str), STATUS_FETCHES, now));
        if todo.is_empty() {
            return;
        }
        cache.update(|c| c.start(todo.iter().cloned()));
        let api = self.api;
        let this = *self;
        for id in todo {
            let ids: Vec<String> = ids.to_vec();
            spawn_local(async move {
                let r = api.snapshot_status(&id).await;
                if cache.is_disposed() {
                    return;
                }
                match r {
                    Ok(view) => cache.update(|c| c.record(&id, &view, now_ms())),
                    Err(e) => cache.update(|c| c.record_error(&id, &e, now_ms())),
                }
                this.persist();
                // A slot is free: continue with the rest of the list.
                this.refresh(&ids);
            });
        }
    }
}

/// Installs the cache (app root), restoring final statuses from localStorage.
pub fn provide_statuses(api: Api) -> Statuses {
    let cache: StatusCache = storage::get_json(Area::Local, STORAGE_KEY).unwrap_or_default();
    let s = Statuses {
        cache: RwSignal::new(cache),
        api,
    };
    provide_context(s);
    s
}

/// The shared cache.
pub fn use_statuses() -> Statuses {
    expect_context::<Statuses>()
}

/// Keeps the statuses of `ids` (the rows on screen) fresh: fetched now, and again every
/// 2 s for the ones that are not final.
pub fn use_visible_statuses(ids: Signal<Vec<String>>) -> Statuses {
    let statuses = use_statuses();
    Effect::new(move |_| {
        let ids = ids.get();
        statuses.refresh(&ids);
    });
    use_interval(2000, move || {
        ids.with_untracked(|ids| statuses.refresh(ids));
    });
    statuses
}
