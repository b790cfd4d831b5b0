//! `/snapshots`: every snapshot across devboxes (coming next).

use leptos::prelude::*;

use crate::components::EmptyState;

/// All snapshots, filterable, with bulk delete.
#[component]
pub fn SnapshotsPage() -> impl IntoView {
    view! {
        <section class="sd-page">
            <h1 class="sd-h1">"Snapshots"</h1>
            <EmptyState title="The snapshot list is on its way.">
                <p>"Open a devbox to see its snapshot timeline."</p>
            </EmptyState>
        </section>
    }
}
