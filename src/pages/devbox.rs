//! `/devboxes/:id`: facts, actions and the snapshot timeline (coming next).

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// One devbox.
#[component]
pub fn DevboxPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    view! {
        <section class="sd-page">
            <h1 class="sd-h1">{id}</h1>
        </section>
    }
}
