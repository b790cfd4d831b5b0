//! A devbox's snapshot list, loaded page after page.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{ApiError, use_page_api};
use crate::components::timeline::after_paint;
use crate::hooks::use_refresh::use_refresh;
use crate::lineage::TimelineList;
use crate::routes::PAGE_SIZE;

/// The most snapshots one list request may ask for (the API's cap).
const LIST_MAX: usize = 5000;

/// A devbox's snapshots as they load, newest first: the timeline shows a page as soon
/// as the list pages that decide it are in, while the rest loads in the background.
#[derive(Debug, Clone, Copy)]
pub(super) struct SnapshotList {
    pub list: RwSignal<TimelineList>,
    /// Why the last load stopped early.
    pub error: RwSignal<Option<ApiError>>,
    /// Bumped to load again.
    pub retry: RwSignal<u32>,
}

/// Loads the snapshots of devbox `id` list page after list page, and again when the id,
/// the API settings or the data version change. The first request asks for just enough
/// to show the page in the URL (page 1: 100 snapshots, ~20 KB), the rest comes in the
/// largest pages the API allows. A reload keeps the old list on screen until the new
/// one can show the current page, so a pin or a delete does not flash a skeleton.
pub(super) fn use_snapshot_list(id: Memo<String>, page: Memo<usize>) -> SnapshotList {
    let api = use_page_api();
    let version = use_refresh();
    let this = SnapshotList {
        list: RwSignal::new(TimelineList::new()),
        error: RwSignal::new(None),
        retry: RwSignal::new(0),
    };
    // Each load has a number; one that is no longer the latest stops at its next step.
    let latest = StoredValue::new(0u64);
    Effect::new(move |prev: Option<String>| {
        let id = id.get();
        let _ = (api.track(), version.track(), this.retry.get());
        if prev.as_ref() != Some(&id) {
            this.list.set(TimelineList::new());
        }
        this.error.set(None);
        let run = latest.get_value() + 1;
        latest.set_value(run);
        let first = ((page.get_untracked() + 1) * PAGE_SIZE).min(LIST_MAX);
        let devbox_id = id.clone();
        spawn_local(async move {
            let mut pending = Some(TimelineList::new());
            let (mut cursor, mut limit) = (None, first);
            loop {
                let r = api
                    .snapshot_page(&devbox_id, cursor.clone(), limit as u32)
                    .await;
                if latest.try_get_value() != Some(run) {
                    return;
                }
                let got = match r {
                    Ok(got) => got,
                    Err(e) => {
                        this.error.set(Some(e));
                        return;
                    }
                };
                let last = got.items.last().map(|s| s.id.clone());
                // Defensive, as `Client::paginate`: stop when the cursor would not move.
                let more = got.has_more && last.is_some() && last != cursor;
                if let Some(next) = pending.as_mut() {
                    next.push_page(got.items, more, got.total_count);
                    let ready = |l: &mut TimelineList| {
                        !more || l.page(page.get_untracked(), PAGE_SIZE).is_some()
                    };
                    if let Some(next) = pending.take_if(ready) {
                        this.list.set(next);
                        // Let the page paint before the next (large) list page can
                        // arrive and be decoded.
                        let (painted, wait) = futures::channel::oneshot::channel();
                        after_paint(Box::new(move || {
                            let _ = painted.send(());
                        }));
                        let _ = wait.await;
                    }
                } else {
                    this.list
                        .update(|l| l.push_page(got.items, more, got.total_count));
                }
                if !more {
                    return;
                }
                (cursor, limit) = (last, LIST_MAX);
            }
        });
        id
    });
    this
}
