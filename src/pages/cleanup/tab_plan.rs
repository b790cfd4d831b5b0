//! The plan computed in the tab: every snapshot in scope is listed, its status fetched
//! (final ones come from the cache), and snapdeck-core's retention planner runs over
//! them as statuses arrive. (With a snapdeck server or the edge in between, the same
//! plan can be a job there instead: the page only reads a [`TabPlan`].)

use std::collections::BTreeMap;

use leptos::prelude::*;
use snapdeck_api::{Snapshot, SnapshotStatus};
use snapdeck_core::retention::{self, CleanupPlan, RetentionPolicy};

use crate::api::{ApiError, SnapshotFilter, use_page_api};
use crate::hooks::use_interval::use_interval;
use crate::hooks::use_now::now_ms;
use crate::hooks::use_refresh::use_refresh;
use crate::hooks::use_statuses::use_visible_statuses;

/// A plan and what it was made from.
#[derive(Clone, Copy)]
pub(super) struct TabPlan {
    /// The snapshots in scope, as listed.
    pub snapshots: LocalResource<Result<Vec<Snapshot>, ApiError>>,
    /// The same, once loaded (empty before).
    pub all: Memo<Vec<Snapshot>>,
    /// The policy applied to them and the statuses known so far (unknown ones kept).
    pub plan: Memo<CleanupPlan>,
    /// Statuses still being fetched.
    pub unknown: Signal<usize>,
}

/// Plans `policy` over the snapshots of `scope_devbox` (all devboxes when `None`).
pub(super) fn use_tab_plan(
    policy: Memo<RetentionPolicy>,
    scope_devbox: Memo<Option<String>>,
) -> TabPlan {
    let api = use_page_api();
    let version = use_refresh();
    let snapshots = LocalResource::new(move || {
        let _config = api.track();
        let _v = version.track();
        let filter = SnapshotFilter {
            devbox_id: scope_devbox.get(),
            ..Default::default()
        };
        async move { api.list_snapshots(&filter).await }
    });
    let all: Memo<Vec<Snapshot>> = Memo::new(move |_| {
        snapshots.with(|r| match r {
            Some(Ok(l)) => l.clone(),
            _ => Vec::new(),
        })
    });
    // Every snapshot in scope needs its status for the plan (final ones are cached).
    let ids =
        Signal::derive(move || all.with(|l| l.iter().map(|s| s.id.clone()).collect::<Vec<_>>()));
    let statuses = use_visible_statuses(ids);
    // The statuses the plan uses. Sampled (on a new list, then a few times a second)
    // rather than tracked: with thousands of snapshots arriving one status at a time,
    // replanning and redrawing on each would cost more than the fetching.
    let status_map = RwSignal::new(BTreeMap::<String, SnapshotStatus>::new());
    let sample = move || {
        let m = untrack(|| {
            all.with(|l| {
                l.iter()
                    .filter_map(|s| statuses.status(&s.id).map(|st| (s.id.clone(), st)))
                    .collect::<BTreeMap<_, _>>()
            })
        });
        if status_map.with_untracked(|cur| *cur != m) {
            status_map.set(m);
        }
    };
    Effect::new(move |_| {
        all.track();
        sample();
    });
    use_interval(300, sample);
    let unknown = Signal::derive(move || {
        all.with(Vec::len)
            .saturating_sub(status_map.with(BTreeMap::len))
    });
    let plan = Memo::new(move |_| {
        let p = policy.get();
        all.with(|l| status_map.with(|m| retention::plan(&p, l, m, now_ms())))
    });
    TabPlan {
        snapshots,
        all,
        plan,
        unknown,
    }
}
