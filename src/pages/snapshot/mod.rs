//! `/snapshots/:id`: one snapshot's whole story — its status (live, with elapsed time
//! and an estimate while it runs), facts, metadata (edited by read-merge-write), pin,
//! ancestry and descendants, and the actions (restore, new devbox, delete). A snapshot
//! that no longer exists gets a page that says so, with what this browser last saw.
//!
//! The API has no "get one snapshot": `/status` carries the view only once complete,
//! so an in-progress one is found in its devbox's list ([`load::find`]).

use leptos::prelude::*;
use snapdeck_api::{Snapshot, SnapshotStatus};

mod actions;
mod family;
mod gone;
mod header;
mod live;
mod load;
mod metadata;

use self::family::{Ancestry, Descendants};
use self::gone::GonePage;
use self::header::SnapshotHeader;
use self::load::Found;
use self::metadata::MetadataEditor;

use crate::api::use_page_api;
use crate::components::ErrorState;
use crate::hooks::use_nav::use_route;
use crate::hooks::use_refresh::use_refresh;
use crate::hooks::use_statuses::use_statuses;
use crate::hooks::use_title::use_title;
use crate::lineage::snapshot_label;
use crate::routes::Page;
use crate::services::seen::use_seen;

/// One snapshot.
#[component]
pub fn SnapshotPage() -> impl IntoView {
    let id = use_route(|p| match p {
        Page::Snapshot { id } => Some(id.clone()),
        _ => None,
    });
    let api = use_page_api();
    let version = use_refresh();
    let seen = use_seen();
    let statuses = use_statuses();

    // Saves finished on this page: a load that began before the latest one carries an
    // older copy than the save's read-back, so it must not replace it.
    let saves = StoredValue::new(0u64);
    let loaded = LocalResource::new(move || {
        let id = id.get();
        let _ = (api.track(), version.track());
        let began = saves.get_value();
        async move { (began, load::find(api, seen, &id).await) }
    });
    // The page's own copy: loads, the live poll and the metadata editor replace it in
    // place, so a refetch (another tab's change, an operation finishing) keeps an open
    // editor or dialog where it is.
    let snapshot = RwSignal::new(None::<Snapshot>);
    let status = RwSignal::new(None::<SnapshotStatus>);
    Effect::new(move |_| {
        loaded.with(|r| {
            if let Some((
                began,
                Ok(Found::Here {
                    snapshot: s,
                    status: st,
                }),
            )) = r
                && *began == saves.get_value()
            {
                snapshot.set(Some(s.clone()));
                status.set(Some(*st));
            }
        })
    });
    let on_saved = Callback::new(move |s: Snapshot| {
        saves.update_value(|n| *n += 1);
        snapshot.set(Some(s));
    });
    // What the page shows changes only when the kind of answer does: the body is not
    // rebuilt when the same snapshot loads again.
    let shown = Memo::new(move |_| {
        loaded.with(|r| match r {
            None => Shown::Loading,
            Some((_, Err(_))) => Shown::Failed,
            Some((_, Ok(Found::Gone(_)))) => Shown::Gone,
            Some((_, Ok(Found::Here { .. }))) => Shown::Here,
        })
    });
    // Our own delete (a bulk run) settles into the status cache: the page follows it.
    let deleted_here = Memo::new(move |_| {
        statuses.status(&id.get()) == Some(SnapshotStatus::Deleted)
            && status.get() != Some(SnapshotStatus::Deleted)
            && snapshot.with(Option::is_some)
    });
    live::follow(api, seen, snapshot, status);
    use_title(move || {
        snapshot
            .with(|s| s.as_ref().map(snapshot_label))
            .unwrap_or_else(|| id.get())
    });

    view! {
        <section class="sd-page sd-snap" data-testid="snapshot-page">
            {move || match shown.get() {
                Shown::Loading => view! { <SnapshotSkeleton /> }.into_any(),
                Shown::Failed => {
                    let e = loaded.with_untracked(|r| match r {
                        Some((_, Err(e))) => Some(e.clone()),
                        _ => None,
                    });
                    e.map(|e| view! { <ErrorState error=e on_retry=move |_| loaded.refetch() /> }.into_any())
                        .unwrap_or_else(|| view! { <SnapshotSkeleton /> }.into_any())
                }
                Shown::Gone => {
                    let last = loaded.with_untracked(|r| match r {
                        Some((_, Ok(Found::Gone(last)))) => last.clone(),
                        _ => None,
                    });
                    view! { <GonePage id=id.get_untracked() last=last /> }.into_any()
                }
                Shown::Here if deleted_here.get() => {
                    view! { <GonePage id=id.get_untracked() last=seen.get_untracked(&id.get_untracked()) /> }.into_any()
                }
                Shown::Here => {
                    let first = loaded.with_untracked(|r| match r {
                        Some((_, Ok(Found::Here { snapshot: s, .. }))) => Some(s.clone()),
                        _ => None,
                    });
                    let Some(first) = first else {
                        return view! { <SnapshotSkeleton /> }.into_any();
                    };
                    let s = Signal::derive(move || snapshot.get().unwrap_or_else(|| first.clone()));
                    let st = Signal::derive(move || status.get());
                    view! { <SnapshotBody snapshot=s status=st on_saved=on_saved /> }.into_any()
                }
            }}
        </section>
    }
}

/// Which of its faces the page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    Loading,
    Failed,
    Gone,
    Here,
}

/// The page of a snapshot that exists.
#[component]
fn SnapshotBody(
    /// The snapshot (updated in place).
    snapshot: Signal<Snapshot>,
    /// Its status (live while in progress).
    status: Signal<Option<SnapshotStatus>>,
    /// The metadata editor wrote and re-read it.
    on_saved: Callback<Snapshot>,
) -> impl IntoView {
    let devbox_id = Memo::new(move |_| snapshot.with(|s| s.source_devbox_id.clone()));
    let devboxes = crate::hooks::use_devboxes::use_devboxes();
    view! {
        <a class="sd-back" href=move || Page::devbox(devbox_id.get()).href()>
            "← "
            {move || {
                let d = devbox_id.get();
                devboxes
                    .list()
                    .with(|l| l.iter().find(|x| x.id == d).map(crate::lineage::devbox_label))
                    .unwrap_or_else(|| crate::fmt::middle_truncate(&d))
            }}
        </a>
        <SnapshotHeader snapshot=snapshot status=status />
        <div class="sd-snap__grid">
            <section class="sd-snap__section" aria-labelledby="sd-snap-ancestry">
                <h2 class="sd-h2" id="sd-snap-ancestry">"Ancestry"</h2>
                <Ancestry snapshot=snapshot />
            </section>
            <section class="sd-snap__section" aria-labelledby="sd-snap-descendants">
                <h2 class="sd-h2" id="sd-snap-descendants">"Descendants"</h2>
                <Descendants snapshot=snapshot />
            </section>
            <section class="sd-snap__section" aria-labelledby="sd-snap-meta">
                <h2 class="sd-h2" id="sd-snap-meta">"Metadata"</h2>
                <MetadataEditor snapshot=snapshot on_saved=on_saved />
            </section>
        </div>
        <crate::components::LineageSection focus=Signal::derive(move || snapshot.with(|s| s.id.clone())) />
    }
}

/// Placeholder lines while the snapshot loads.
#[component]
fn SnapshotSkeleton() -> impl IntoView {
    view! {
        <div class="sd-snap__skeleton" aria-busy="true" aria-label="Loading the snapshot">
            {[60, 35, 80, 50].map(|w| view! { <span class="sd-skeleton" style=format!("width:{w}%")></span> }).collect_view()}
        </div>
    }
}
