//! `/cleanup`: retention policy, dry-run plan, confirmed run (coming next).

use leptos::prelude::*;

use crate::components::EmptyState;

/// Policy cleanup in three steps.
#[component]
pub fn CleanupPage() -> impl IntoView {
    view! {
        <section class="sd-page">
            <h1 class="sd-h1">"Cleanup"</h1>
            <EmptyState title="Policy cleanup is on its way.">
                <p>"Nothing is deleted from here yet."</p>
            </EmptyState>
        </section>
    }
}
