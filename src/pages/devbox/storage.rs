//! The devbox's storage over time: its snapshots' sizes and the running total kept,
//! once the whole list is in (a partial list would understate the total).

use std::collections::BTreeSet;

use leptos::prelude::*;
use snapdeck_api::SnapshotStatus;
use snapdeck_core::storage::{self, Series};

use super::snapshots::SnapshotList;
use crate::components::storage_chart::StorageChart;
use crate::hooks::use_statuses::use_statuses;
use crate::routes::{CleanupQuery, Page};

/// Heading, chart and the way to a cleanup of this devbox.
#[component]
pub(super) fn StorageSection(
    /// The devbox's id.
    #[prop(into)]
    devbox_id: Signal<String>,
    /// Its snapshots, as they load.
    snapshots: SnapshotList,
) -> impl IntoView {
    let statuses = use_statuses();
    let SnapshotList { list, .. } = snapshots;
    // `page(1, MAX)` is the whole list, and only once its last page is in.
    let series = Memo::new(move |_| {
        list.with(|l| {
            l.page(1, usize::MAX).map(|all| {
                // The list carries no status: errored ones are those the cache knows
                // (the timeline fetches the statuses of the rows it shows).
                storage::series(
                    all,
                    |s| statuses.status(&s.id) == Some(SnapshotStatus::Error),
                    &BTreeSet::new(),
                )
            })
        })
    });
    let cleanup = move || {
        Page::Cleanup(CleanupQuery {
            devbox: Some(devbox_id.get()),
            ..CleanupQuery::default()
        })
        .href()
    };
    view! {
        <section class="sd-storage-section" aria-labelledby="sd-storage-h">
            <div class="sd-section-head">
                <h2 class="sd-h2" id="sd-storage-h">"Storage over time"</h2>
                <a class="sd-btn sd-btn--ghost sd-btn--sm" href=cleanup data-testid="storage-cleanup">
                    "Clean up this devbox →"
                </a>
            </div>
            {move || match series.get() {
                None => view! { <div class="sd-skeleton" style="width:100%;height:160px" data-testid="storage-loading"></div> }.into_any(),
                Some(s) => {
                    let s: Signal<Series> = Signal::derive(move || series.get().unwrap_or_else(|| s.clone()));
                    view! { <StorageChart series=s /> }.into_any()
                }
            }}
        </section>
    }
}
