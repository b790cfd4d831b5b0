//! Unknown paths.

use leptos::prelude::*;

use crate::components::EmptyState;
use crate::routes::Page;

/// "Nothing here" with a way back.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <section class="sd-page">
            <EmptyState title="There is no page at this address.">
                <a class="sd-btn" href=Page::devboxes().href()>"Go to devboxes"</a>
            </EmptyState>
        </section>
    }
}
