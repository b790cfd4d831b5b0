//! Status badges for devboxes, snapshots and blueprint builds.

use leptos::prelude::*;
use snapdeck_api::{BlueprintStatus, DevboxStatus, SnapshotStatus};

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

/// A blueprint build pill: the phase while it builds (`queued`, `provisioning`,
/// `building`), then `build complete` or `failed` with its reason.
#[component]
pub fn BlueprintBadge(
    /// The build status.
    #[prop(into)]
    status: Signal<BlueprintStatus>,
    /// Why it failed, when it did.
    #[prop(optional, into)]
    reason: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <span
            class=move || format!("sd-badge sd-badge--{}", Tone::of_blueprint(status.get()))
            data-testid="blueprint-status"
            data-status=move || status.get().as_str()
        >
            {move || match (status.get(), reason.get()) {
                (BlueprintStatus::Failed, Some(r)) => format!("failed: {}", r.replace('_', " ")),
                (s, _) => s.as_str().replace('_', " "),
            }}
        </span>
    }
}
