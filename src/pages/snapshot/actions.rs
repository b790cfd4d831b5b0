//! The snapshot page's actions: pin, Restore, New devbox (the one New devbox dialog,
//! this snapshot as its source), Fan out, Delete. Restore and Delete
//! are the timeline's own (the restore dialog; the one-snapshot delete with its risks
//! and typed override, held to the floor by snapdeck-core's rules), not copies.

use leptos::prelude::*;
use leptos::task::spawn_local;
use snapdeck_api::{Devbox, Snapshot, SnapshotStatus};
use snapdeck_core::eligibility::{Deletable, assess, deletable};
use snapdeck_core::launch::Source;

use crate::api::{SnapshotFilter, use_api};
use crate::components::timeline::{DeleteAsk, DeleteSnapshotDialog, PinButton, start_delete};
use crate::components::{NewDevboxDialog, RestoreDialog};
use crate::hooks::use_devboxes::use_devboxes;
use crate::hooks::use_statuses::use_statuses;
use crate::hooks::use_toasts::{Tone, use_toasts};
use crate::services::bulk_runs::use_bulk_run;

/// Which dialog is open.
#[derive(Debug, Clone)]
enum Open {
    // Boxed: a devbox is large next to a delete's question (clippy's large_enum_variant).
    Restore(Box<Devbox>),
    Delete(DeleteAsk),
    Fanout,
    NewDevbox,
}

/// The buttons, and the dialog one of them opened.
#[component]
pub(super) fn SnapshotActions(
    /// The snapshot.
    snapshot: Signal<Snapshot>,
    /// Its status, once known.
    status: Signal<Option<SnapshotStatus>>,
) -> impl IntoView {
    let api = use_api();
    let devboxes = use_devboxes();
    let statuses = use_statuses();
    let toasts = use_toasts();
    let bulk = use_bulk_run("snapshot-page");
    let open = RwSignal::new(None::<Open>);
    // A finished delete is let go, so another can start (as on the timeline).
    Effect::new(move |was_running: Option<bool>| {
        let running = bulk.is_running();
        if was_running == Some(true) && !running {
            bulk.dismiss();
        }
        running
    });
    let complete = move || status.get() == Some(SnapshotStatus::Complete);

    // Restore needs the devbox it was taken of (the dialog offers to shut it down).
    let restore = Callback::new(move |()| {
        let s = snapshot.get_untracked();
        let listed = untrack(|| {
            devboxes
                .list()
                .with(|l| l.iter().find(|d| d.id == s.source_devbox_id).cloned())
        });
        spawn_local(async move {
            let d = match listed {
                Some(d) => Ok(d),
                None => api.get_devbox(&s.source_devbox_id).await,
            };
            match d {
                Ok(d) => open.set(Some(Open::Restore(Box::new(d)))),
                Err(e) => toasts.push(
                    Tone::Err,
                    format!("Could not read the devbox it was taken of: {e}"),
                ),
            }
        });
    });

    // Delete: the same rule and risks as everywhere (newest complete of its devbox,
    // pinned, devboxes started from it), from its devbox's list and the cached statuses.
    let delete = Callback::new(move |()| {
        let s = snapshot.get_untracked();
        let st = status.get_untracked();
        if st == Some(SnapshotStatus::Error) {
            start_delete(bulk, toasts, &s, SnapshotStatus::Error, false);
            return;
        }
        if !untrack(|| devboxes.known()) {
            toasts.push(Tone::Err, "Not deleted: the devbox list has not loaded, so which devboxes were started from this snapshot is unknown. Try again once it loads.");
            return;
        }
        spawn_local(async move {
            let filter = SnapshotFilter {
                devbox_id: Some(s.source_devbox_id.clone()),
                ..Default::default()
            };
            let listing = match api.list_snapshots(&filter).await {
                Ok(l) => l,
                Err(e) => {
                    toasts.push(
                        Tone::Err,
                        format!("Not deleted: could not list its devbox's snapshots ({e})."),
                    );
                    return;
                }
            };
            let ids: Vec<String> = listing.iter().map(|x| x.id.clone()).collect();
            statuses.refresh(&ids);
            let kids: Vec<Devbox> = untrack(|| {
                devboxes.list().with(|l| {
                    l.iter()
                        .filter(|d| d.snapshot_id.as_deref() == Some(s.id.as_str()))
                        .cloned()
                        .collect()
                })
            });
            let risks = untrack(|| assess(&s, st, &listing, |id| statuses.status(id), &kids));
            open.set(Some(Open::Delete(DeleteAsk { snapshot: s, risks })));
        });
    });
    let refusal = Memo::new(move |_| match deletable(status.get()) {
        Deletable::No(why) => Some(why),
        _ => None,
    });

    view! {
        <div class="sd-row sd-snap__actions">
            {move || view! { <PinButton snapshot=snapshot.get() labelled=true /> }}
            <button type="button" class="sd-btn sd-btn--sm sd-btn--primary" disabled=move || !complete()
                title=move || (!complete()).then_some("Only a complete snapshot can be restored")
                on:click=move |_| restore.run(())>
                "Restore"
            </button>
            <button type="button" class="sd-btn sd-btn--sm" data-testid="new-devbox-from-snapshot"
                disabled=move || !complete()
                title=move || (!complete()).then_some("Only a complete snapshot can start devboxes")
                on:click=move |_| open.set(Some(Open::NewDevbox))>
                "New devbox"
            </button>
            <button type="button" class="sd-btn sd-btn--sm" disabled=move || !complete()
                title=move || (!complete()).then_some("Only a complete snapshot can start devboxes")
                on:click=move |_| open.set(Some(Open::Fanout))>
                "Fan out"
            </button>
            <button type="button" class="sd-btn sd-btn--ghost sd-btn--sm"
                disabled=move || refusal.with(Option::is_some)
                title=move || refusal.get().map(|why| format!("Cannot delete: {why}"))
                on:click=move |_| delete.run(())>
                "Delete"
            </button>
        </div>
        {move || match open.get() {
            None => None,
            Some(Open::Fanout) => Some(view! {
                <crate::pages::fanout::dialog::FanoutDialog snapshot=snapshot.get_untracked() on_close=move |_| open.set(None) />
            }.into_any()),
            Some(Open::NewDevbox) => {
                let s = snapshot.get_untracked();
                Some(view! {
                    <NewDevboxDialog source=Source::Snapshot(s.id.clone()) source_label=s.name.unwrap_or_default()
                        on_close=move |_| open.set(None) />
                }.into_any())
            }
            Some(Open::Restore(d)) => Some(view! {
                <RestoreDialog snapshot=snapshot.get_untracked() devbox=*d on_close=move |_| open.set(None) />
            }.into_any()),
            Some(Open::Delete(ask)) => {
                let s = ask.snapshot.clone();
                let confirm = move |typed: bool| start_delete(bulk, toasts, &s, SnapshotStatus::Complete, typed);
                Some(view! {
                    <DeleteSnapshotDialog ask=ask on_confirm=confirm on_close=move |_| open.set(None) />
                }.into_any())
            }
        }}
    }
}
