//! Status badges for devboxes and snapshots.

use leptos::prelude::*;
use snapdeck_api::{DevboxStatus, SnapshotStatus};

use crate::tone::Tone;

/// A devbox status pill.
#[component]
pub fn StatusBadge(
    /// The status to show.
    #[prop(into)]
    status: Signal<DevboxStatus>,
) -> impl IntoView {
    view! {
        <span class=move || format!("sd-badge sd-badge--{}", Tone::of_devbox(status.get()))>
            {move || status.get().as_str()}
        </span>
    }
}

/// A snapshot status pill; `None` while the status is being fetched.
#[component]
pub fn SnapshotBadge(
    /// The status, once known.
    #[prop(into)]
    status: Signal<Option<SnapshotStatus>>,
) -> impl IntoView {
    view! {
        <span class=move || format!("sd-badge sd-badge--{}", Tone::of_snapshot(status.get()))>
            {move || match status.get() {
                Some(SnapshotStatus::InProgress) => "in progress",
                Some(s) => s.as_str(),
                None => "…",
            }}
        </span>
    }
}
