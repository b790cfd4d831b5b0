//! The snapshot page's header: name, id, status (live), size, created, the devbox it
//! was taken of, its commit message, and the actions.

use leptos::prelude::*;
use snapdeck_api::{Snapshot, SnapshotStatus};

use super::actions::SnapshotActions;
use super::live::LiveProgress;
use crate::components::icon::{Icon, IconKind};
use crate::components::{IdCell, RelTime, SnapshotBadge};
use crate::fmt::bytes_opt;
use crate::hooks::use_devboxes::use_devboxes;
use crate::hooks::use_statuses::use_statuses;
use crate::lineage::{devbox_label, snapshot_label};
use crate::routes::Page;
use snapdeck_core::is_pinned;

/// Name, id, status and facts, then the actions.
#[component]
pub(super) fn SnapshotHeader(
    /// The snapshot.
    snapshot: Signal<Snapshot>,
    /// Its status, once known.
    status: Signal<Option<SnapshotStatus>>,
) -> impl IntoView {
    let statuses = use_statuses();
    let devboxes = use_devboxes();
    let error = Memo::new(move |_| {
        let id = snapshot.with(|s| s.id.clone());
        (status.get() == Some(SnapshotStatus::Error)).then(|| {
            statuses
                .get(&id)
                .and_then(|c| c.error_message)
                .unwrap_or_else(|| "no reason given".into())
        })
    });
    let commit = move || {
        snapshot
            .with(|s| s.commit_message.clone())
            .filter(|m| !m.trim().is_empty())
    };
    view! {
        <header class="sd-pagehead sd-snap__head">
            <div class="sd-snap__title">
                <h1 class="sd-h1">{move || snapshot.with(snapshot_label)}</h1>
                {move || snapshot.with(is_pinned).then(|| view! {
                    <span class="sd-node__pin" title="Pinned: cleanup keeps it"><Icon kind=IconKind::Pin /></span>
                })}
                {move || view! { <IdCell id=snapshot.with(|s| s.id.clone()) /> }}
                <span aria-live="polite" data-testid="snapshot-status" data-status=move || status.get().map(|s| s.as_str()).unwrap_or("unknown")>
                    <SnapshotBadge status=status />
                </span>
            </div>
            {move || commit().map(|m| view! { <p class="sd-snap__msg">"“" {m} "”"</p> })}
            <dl class="sd-snap__facts">
                <dt>"Size"</dt>
                <dd class="sd-mono">{move || snapshot.with(|s| bytes_opt(s.size_bytes))}</dd>
                <dt>"Created"</dt>
                <dd>{move || view! { <RelTime ms=snapshot.with(|s| s.create_time_ms) /> }}</dd>
                <dt>"Devbox"</dt>
                <dd>
                    {move || {
                        let d = snapshot.with(|s| s.source_devbox_id.clone());
                        let name = devboxes
                            .list()
                            .with(|l| l.iter().find(|x| x.id == d).map(devbox_label))
                            .unwrap_or_else(|| "devbox".into());
                        view! {
                            <a href=Page::devbox(&d).href()>{name}</a>
                            " "
                            <IdCell id=d />
                        }
                    }}
                </dd>
            </dl>
            <Show when=move || status.get() == Some(SnapshotStatus::InProgress)>
                <LiveProgress snapshot=snapshot />
            </Show>
            {move || error.get().map(|e| view! { <p class="sd-errtext" role="alert">"Failed: " {e}</p> })}
            <SnapshotActions snapshot=snapshot status=status />
        </header>
    }
}
