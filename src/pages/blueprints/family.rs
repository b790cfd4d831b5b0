//! A blueprint's family: the devboxes started from it (directly or from one of its
//! snapshots) and the snapshots whose disk derives from it.

use leptos::prelude::*;
use snapdeck_api::Snapshot;
use snapdeck_core::blueprints::Family;

use crate::components::{IdCell, RelTime, StatusBadge};
use crate::fmt::middle_truncate;
use crate::lineage::{devbox_label, snapshot_label};
use crate::routes::{Page, SnapshotsQuery};

/// Where a snapshot links to. There is no snapshot page on this branch yet, so the
/// snapshot list of its devbox, searched for its id (one row).
pub(super) fn snapshot_href(s: &Snapshot) -> String {
    Page::Snapshots(SnapshotsQuery {
        devbox: Some(s.source_devbox_id.clone()),
        q: s.id.clone(),
        ..Default::default()
    })
    .href()
}

/// A list of snapshots, each linked, with its devbox.
#[component]
pub(super) fn SnapshotList(
    /// The snapshots, newest first.
    snapshots: Vec<Snapshot>,
) -> impl IntoView {
    view! {
        <ul class="sd-family__list" data-testid="family-snapshots">
            {snapshots
                .into_iter()
                .map(|s| {
                    let href = snapshot_href(&s);
                    let label = snapshot_label(&s);
                    view! {
                        <li class="sd-family__item" data-id=s.id.clone()>
                            <a href=href>{label}</a>
                            <IdCell id=s.id.clone() />
                            <span class="sd-muted">"of"</span>
                            <a class="sd-mono" href=Page::devbox(&s.source_devbox_id).href()>
                                {middle_truncate(&s.source_devbox_id)}
                            </a>
                            <RelTime ms=s.create_time_ms />
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// The family section: two short lists, each with an empty line that says what to do.
#[component]
pub(super) fn FamilySection(
    /// The family, `None` while loading.
    #[prop(into)]
    family: Signal<Option<Family>>,
) -> impl IntoView {
    move || match family.get() {
        None => view! { <p class="sd-muted">"Loading devboxes and snapshots…"</p> }.into_any(),
        Some(f) => {
            let devboxes = f.devboxes;
            let n_dbx = devboxes.len();
            let n_snap = f.snapshots.len();
            view! {
                <div class="sd-family">
                    <div>
                        <h3 class="sd-h3">{format!("Devboxes started from it ({n_dbx})")}</h3>
                        {if devboxes.is_empty() {
                            view! { <p class="sd-muted">"None yet — start one with “New devbox” (n)."</p> }.into_any()
                        } else {
                            view! {
                                <ul class="sd-family__list" data-testid="family-devboxes">
                                    {devboxes.into_iter().map(|d| view! {
                                        <li class="sd-family__item" data-id=d.id.clone()>
                                            <a href=Page::devbox(&d.id).href()>{devbox_label(&d)}</a>
                                            <StatusBadge status=Signal::stored(d.status) />
                                            {d.snapshot_id.clone().map(|s| view! { <span class="sd-muted">{format!("from snapshot {}", middle_truncate(&s))}</span> })}
                                            <RelTime ms=d.create_time_ms />
                                        </li>
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                    </div>
                    <div>
                        <h3 class="sd-h3">{format!("Snapshots of those ({n_snap})")}</h3>
                        {if n_snap == 0 {
                            view! { <p class="sd-muted">"None yet — take one from a devbox's page."</p> }.into_any()
                        } else {
                            view! { <SnapshotList snapshots=f.snapshots /> }.into_any()
                        }}
                    </div>
                </div>
            }
            .into_any()
        }
    }
}
