//! Status badges for devboxes and snapshots.

use leptos::prelude::*;
use snapdeck_api::{DevboxStatus, SnapshotStatus};

/// Colour family of a devbox status (UX.md: running green, moving blue with a pulse,
/// suspended grey, failure red, shutdown muted).
pub fn devbox_tone(s: DevboxStatus) -> &'static str {
    match s {
        DevboxStatus::Running => "ok",
        DevboxStatus::Suspended => "idle",
        DevboxStatus::Failure => "err",
        DevboxStatus::Shutdown | DevboxStatus::Unknown => "muted",
        _ => "busy",
    }
}

/// A devbox status pill.
#[component]
pub fn StatusBadge(
    /// The status to show.
    #[prop(into)]
    status: Signal<DevboxStatus>,
) -> impl IntoView {
    view! {
        <span class=move || format!("sd-badge sd-badge--{}", devbox_tone(status.get()))>
            {move || status.get().as_str()}
        </span>
    }
}

/// Colour family of a snapshot status.
pub fn snapshot_tone(s: SnapshotStatus) -> &'static str {
    match s {
        SnapshotStatus::Complete => "ok",
        SnapshotStatus::InProgress => "busy",
        SnapshotStatus::Error => "err",
        SnapshotStatus::Deleted | SnapshotStatus::Unknown => "muted",
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
        <span class=move || match status.get() {
            Some(s) => format!("sd-badge sd-badge--{}", snapshot_tone(s)),
            None => "sd-badge sd-badge--loading".to_string(),
        }>
            {move || match status.get() {
                Some(SnapshotStatus::InProgress) => "in progress",
                Some(s) => s.as_str(),
                None => "…",
            }}
        </span>
    }
}
