//! The storage chart of the devbox in scope, with what the plan frees overlaid: the
//! ticked deletes in a second tone, the total after the cleanup beside the total now.

use std::collections::BTreeSet;

use leptos::prelude::*;
use snapdeck_api::SnapshotStatus;
use snapdeck_core::Confirmed;
use snapdeck_core::retention::CleanupPlan;
use snapdeck_core::storage;

use crate::components::storage_chart::StorageChart;

/// The overlay chart (only drawn for a plan of one devbox).
#[component]
pub(super) fn PlanStorage(
    /// The plan (every snapshot in scope, each with its decision and status).
    plan: Memo<CleanupPlan>,
    /// The deletes still ticked: what the run would free.
    confirmed: Memo<Vec<Confirmed>>,
) -> impl IntoView {
    let series = Memo::new(move |_| {
        let freed: BTreeSet<String> =
            confirmed.with(|c| c.iter().map(|x| x.snapshot_id.clone()).collect());
        plan.with(|p| {
            let snapshots: Vec<_> = p.items.iter().map(|i| i.snapshot.clone()).collect();
            let errored: BTreeSet<&str> = p
                .items
                .iter()
                .filter(|i| i.status == Some(SnapshotStatus::Error))
                .map(|i| i.snapshot.id.as_str())
                .collect();
            storage::series(&snapshots, |s| errored.contains(s.id.as_str()), &freed)
        })
    });
    view! {
        <section class="sd-step sd-storage-section" aria-labelledby="sd-step-storage">
            <h2 class="sd-step__title" id="sd-step-storage">"Storage: now and after the cleanup"</h2>
            <StorageChart series=series overlay=true />
        </section>
    }
}
