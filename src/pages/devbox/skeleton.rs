//! The devbox page's loading placeholder.

use leptos::prelude::*;

/// Placeholder while the devbox loads.
#[component]
pub(super) fn DevboxSkeleton() -> impl IntoView {
    view! {
        <div class="sd-pagehead" aria-busy="true">
            <span class="sd-skeleton" style="width:240px;height:22px"></span>
        </div>
        <div class="sd-devbox">
            <div class="sd-facts">
                {(0..5).map(|_| view! { <span class="sd-skeleton" style="width:80%;margin:8px 0"></span> }).collect_view()}
            </div>
            <div class="sd-devbox__main">
                {(0..4).map(|_| view! { <div class="sd-skeleton" style="width:100%;height:44px;margin-bottom:12px"></div> }).collect_view()}
            </div>
        </div>
    }
}
