//! A devbox's snapshot timeline: newest at the top, one node per snapshot with its
//! status (fetched for the nodes on screen only), metadata, pin, Restore, Fan out and Delete,
//! and the devboxes that were started from it (lineage). It renders one page (the
//! caller slices it), so a devbox with 10 000 snapshots keeps a small DOM.

use std::collections::{BTreeMap, BTreeSet};

use leptos::prelude::*;
use leptos::task::spawn_local;
use snapdeck_api::{Devbox, PINNED_KEY, Snapshot, SnapshotStatus};
use snapdeck_core::eligibility::{Deletable, Risk, assess, confirm_word, deletable, typed_matches};
use snapdeck_core::{BulkRun, Confirmed, RunRule, is_pinned};

use crate::api::{ApiError, api_message, use_api};
use crate::components::icon::{Icon, IconKind};
use crate::components::modal::ConfirmDialog;
use crate::components::restore_dialog::RestoreDialog;
use crate::components::status_badge::SnapshotBadge;
use crate::components::{RelTime, StatusBadge};
use crate::fmt::{bytes_opt, elapsed};
use crate::hooks::use_devboxes::use_devboxes;
use crate::hooks::use_now::use_now;
use crate::hooks::use_refresh::use_refresh;
use crate::hooks::use_statuses::{Statuses, use_visible_statuses};
use crate::hooks::use_toasts::{Tone, use_toasts};
use crate::lineage::{devbox_label, snapshot_label};
use crate::routes::Page;
use crate::services::audit::use_audit;
use crate::services::bulk_runs::{BulkRunHandle, use_bulk_run};
use crate::services::seen::use_seen;
use snapdeck_core::audit::{Action, Outcome};

/// Rows drawn in the timeline's first frame: more than a tall screen shows.
const FIRST_FRAME_ROWS: usize = 16;

/// The timeline of one devbox.
#[component]
pub fn Timeline(
    /// The devbox whose timeline this is.
    #[prop(into)]
    devbox: Signal<Devbox>,
    /// The snapshots on screen (one page), newest first.
    #[prop(into)]
    snapshots: Signal<Vec<Snapshot>>,
    /// Devboxes started from each of them; may arrive after the snapshots.
    #[prop(into)]
    children: Signal<BTreeMap<String, Vec<Devbox>>>,
) -> impl IntoView {
    // The rows get the first frame; their statuses are asked for once it is painted
    // (starting 50 fetches costs about as much as drawing the rows).
    let ids = RwSignal::new(Vec::new());
    Effect::new(move |_| {
        let next: Vec<String> = snapshots.with(|v| v.iter().map(|s| s.id.clone()).collect());
        after_paint(Box::new(move || {
            if !ids.is_disposed() {
                ids.set(next);
            }
        }));
    });
    let statuses = use_visible_statuses(ids.into());
    // The first frame draws the rows a screen holds; the rest of the page follows in
    // the next frame (only when the timeline first appears: later pages are drawn whole).
    let whole = RwSignal::new(false);
    after_paint(Box::new(move || {
        if !whole.is_disposed() {
            whole.set(true);
        }
    }));
    let rows = move || {
        let n = if whole.get() {
            usize::MAX
        } else {
            FIRST_FRAME_ROWS
        };
        snapshots.with(|v| v.iter().take(n).cloned().collect::<Vec<_>>())
    };
    let restore_for = RwSignal::new(None::<Snapshot>);
    let fanout_for = RwSignal::new(None::<Snapshot>);
    let delete_for = RwSignal::new(None::<DeleteAsk>);
    let bulk = use_bulk_run("timeline");
    let toasts = use_toasts();
    // The app reports how a delete ended (run events); here a finished one is let go,
    // so the next delete can start.
    Effect::new(move |was_running: Option<bool>| {
        let running = bulk.is_running();
        if was_running == Some(true) && !running {
            bulk.dismiss();
        }
        running
    });
    // Errored snapshots go in one click; a complete one is confirmed, with its risks —
    // which need the devbox list (the devboxes started from it).
    let devboxes = use_devboxes();
    let ask_delete = Callback::new(move |s: Snapshot| {
        let status = untrack(|| statuses.status(&s.id));
        if status == Some(SnapshotStatus::Error) {
            start_delete(bulk, toasts, &s, SnapshotStatus::Error, false);
            return;
        }
        if !untrack(|| devboxes.known()) {
            toasts.push(
                Tone::Err,
                "Not deleted: the devbox list has not loaded, so which devboxes were started \
                 from this snapshot is unknown. Try again once it loads.",
            );
            return;
        }
        let risks = untrack(|| {
            let listing = snapshots.get();
            let kids = children.with(|c| c.get(&s.id).cloned().unwrap_or_default());
            assess(&s, status, &listing, |id| statuses.status(id), &kids)
        });
        delete_for.set(Some(DeleteAsk { snapshot: s, risks }));
    });

    view! {
        <ol class="sd-timeline" aria-label="Snapshots, newest first">
            <For
                each=rows
                key=|s| (s.id.clone(), is_pinned(s), s.name.clone(), s.metadata.len())
                children=move |s| {
                    let id = s.id.clone();
                    let kids = Signal::derive(move || children.with(|c| c.get(&id).cloned().unwrap_or_default()));
                    view! {
                        <TimelineNode
                            snapshot=s
                            kids=kids
                            statuses=statuses
                            on_restore=Callback::new(move |s| restore_for.set(Some(s)))
                            on_fanout=Callback::new(move |s| fanout_for.set(Some(s)))
                            on_delete=ask_delete
                        />
                    }
                }
            />
        </ol>
        {move || {
            restore_for
                .get()
                .map(|s| {
                    view! {
                        <RestoreDialog
                            snapshot=s
                            devbox=devbox.get_untracked()
                            on_close=move |_| restore_for.set(None)
                        />
                    }
                })
        }}
        {move || {
            fanout_for.get().map(|s| {
                view! {
                    <crate::pages::fanout::dialog::FanoutDialog snapshot=s on_close=move |_| fanout_for.set(None) />
                }
            })
        }}
        {move || {
            delete_for
                .get()
                .map(|ask| {
                    let s = ask.snapshot.clone();
                    let confirm = move |typed: bool| {
                        start_delete(bulk, toasts, &s, SnapshotStatus::Complete, typed);
                    };
                    view! {
                        <DeleteSnapshotDialog ask=ask on_confirm=confirm on_close=move |_| delete_for.set(None) />
                    }
                })
        }}
    }
}

/// Runs `f` once the browser has painted the current frame: a timeout queued from an
/// animation frame runs after that frame's paint.
/// (Boxed: one instantiation of the browser glue for every caller.)
pub(crate) fn after_paint(f: Box<dyn FnOnce()>) {
    request_animation_frame(move || set_timeout(f, std::time::Duration::ZERO));
}

/// One node of the timeline.
#[component]
fn TimelineNode(
    /// The snapshot.
    snapshot: Snapshot,
    /// Devboxes started from it.
    kids: Signal<Vec<Devbox>>,
    /// Status cache.
    statuses: Statuses,
    /// Restore was pressed.
    on_restore: Callback<Snapshot>,
    /// Fan out was pressed.
    on_fanout: Callback<Snapshot>,
    /// Delete was pressed.
    on_delete: Callback<Snapshot>,
) -> impl IntoView {
    let now = use_now();
    let id = snapshot.id.clone();
    // Memos: every status that arrives changes the shared cache, and only this node's
    // own entry should re-render it.
    let cached = {
        let id = id.clone();
        Memo::new(move |_| statuses.get(&id))
    };
    let status = Memo::new(move |_| cached.with(|c| c.as_ref().map(|c| c.status)));
    let tone = move || Tone::of_snapshot(status.get());
    let created = snapshot.create_time_ms;
    // From this devbox's earlier snapshots, as this browser saw them finish.
    let expected = use_seen().estimate_for(&snapshot.source_devbox_id);
    let detail = move || match cached.get() {
        Some(c) if c.status == SnapshotStatus::InProgress => {
            let e = now.get() - created;
            Some(match expected {
                Some(x) => format!("{} · {}", elapsed(e), x.describe(e)),
                None => elapsed(e),
            })
        }
        Some(c) if c.status == SnapshotStatus::Error => {
            Some(c.error_message.unwrap_or_else(|| "no reason given".into()))
        }
        _ => None,
    };
    let label = snapshot_label(&snapshot);
    let pinned = is_pinned(&snapshot);
    let metadata: Vec<(String, String)> = snapshot
        .metadata
        .iter()
        .filter(|(k, _)| k.as_str() != PINNED_KEY)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let commit = snapshot
        .commit_message
        .clone()
        .filter(|m| !m.trim().is_empty());
    let size = bytes_opt(snapshot.size_bytes);

    view! {
        <li
            class=move || format!("sd-node sd-node--{}", tone())
            data-testid="snapshot-node"
            data-snapshot-id=id.clone()
            data-status=move || status.get().map(|s| s.as_str()).unwrap_or("unknown")
        >
            <span class="sd-node__marker" aria-hidden="true"></span>
            <div class="sd-node__body">
                <div class="sd-node__line">
                    <div class="sd-node__what">
                        <a class="sd-node__name" href=Page::snapshot(&id).href()>{label.clone()}</a>
                        {pinned.then(|| view! { <span class="sd-node__pin" title="Pinned: cleanup keeps it"><Icon kind=IconKind::Pin /></span> })}
                        {commit.map(|m| view! { <span class="sd-node__msg">"“" {m} "”"</span> })}
                    </div>
                    <div class="sd-node__facts">
                        <RelTime ms=created />
                        <span class="sd-mono sd-node__size">{size}</span>
                        <SnapshotBadge status=status />
                        {move || detail().map(|d| view! { <span class="sd-node__detail">{d}</span> })}
                    </div>
                    <NodeActions snapshot=snapshot.clone() status=status on_restore=on_restore on_fanout=on_fanout on_delete=on_delete />
                </div>
                <MetaChips metadata=metadata />
                <Branches kids=kids />
            </div>
        </li>
    }
}

/// A node's buttons: pin/unpin, Restore and Fan out (complete snapshots), Delete (with
/// why not).
#[component]
fn NodeActions(
    /// The snapshot.
    snapshot: Snapshot,
    /// Its status, once known.
    status: Memo<Option<SnapshotStatus>>,
    /// Restore was pressed.
    on_restore: Callback<Snapshot>,
    /// Fan out was pressed.
    on_fanout: Callback<Snapshot>,
    /// Delete was pressed.
    on_delete: Callback<Snapshot>,
) -> impl IntoView {
    let s_fanout = snapshot.clone();
    let s_restore = snapshot.clone();
    let s_delete = snapshot.clone();
    view! {
        <div class="sd-node__actions">
            <PinButton snapshot=snapshot />
            <Show when=move || status.get() == Some(SnapshotStatus::Complete)>
                {
                    let s = s_restore.clone();
                    view! {
                        <button
                            type="button"
                            class="sd-btn sd-btn--sm"
                            on:click=move |_| on_restore.run(s.clone())
                        >
                            "Restore"
                        </button>
                    }
                }
                {
                    let s = s_fanout.clone();
                    view! {
                        <button
                            type="button"
                            class="sd-btn sd-btn--sm"
                            title="Start several devboxes from this snapshot"
                            on:click=move |_| on_fanout.run(s.clone())
                        >
                            "Fan out"
                        </button>
                    }
                }
            </Show>
            <Show when=move || {
                matches!(status.get(), Some(SnapshotStatus::Complete | SnapshotStatus::Error))
            }>
                {
                    let s = s_delete.clone();
                    // The one eligibility rule: the API deletes only complete
                    // snapshots (a pin is a risk the dialog names), and the
                    // button says why not.
                    let refusal = Memo::new(move |_| match deletable(status.get()) {
                        Deletable::No(why) => Some(why),
                        _ => None,
                    });
                    view! {
                        <button
                            type="button"
                            class="sd-btn sd-btn--ghost sd-btn--sm"
                            disabled=move || refusal.with(Option::is_some)
                            title=move || refusal.get().map(|why| format!("Cannot delete: {why}"))
                            on:click=move |_| on_delete.run(s.clone())
                        >
                            "Delete"
                        </button>
                    }
                }
            </Show>
        </div>
    }
}

/// Pin / unpin (read-merge-write of the metadata), with a toast and an audit entry;
/// bumps the data version so every list shows the new pin.
#[component]
pub(crate) fn PinButton(
    /// The snapshot.
    snapshot: Snapshot,
    /// Show "Pin" / "Unpin" beside the icon (a page header; the timeline shows the icon only).
    #[prop(optional)]
    labelled: bool,
) -> impl IntoView {
    let label = snapshot_label(&snapshot);
    let pinned = is_pinned(&snapshot);
    let pin_busy = RwSignal::new(false);
    let api = use_api();
    let version = use_refresh();
    let toasts = use_toasts();
    let audit = use_audit();
    let toggle_pin = move |_| {
        if pin_busy.get_untracked() {
            return;
        }
        pin_busy.set(true);
        let s = snapshot.clone();
        spawn_local(async move {
            let r = set_pinned(api, &s, !pinned).await;
            pin_busy.set(false);
            let (outcome, reason) = match &r {
                Ok(()) => (Outcome::Done, None),
                Err(e) => (Outcome::Failed, Some(api_message(e))),
            };
            audit.record_action(
                if pinned { Action::Unpin } else { Action::Pin },
                &s.id,
                s.name.clone(),
                Some(s.source_devbox_id.clone()),
                outcome,
                reason,
            );
            match r {
                Ok(()) => {
                    toasts.push(
                        Tone::Ok,
                        if pinned {
                            format!("Unpinned “{}”.", snapshot_label(&s))
                        } else {
                            format!("Pinned “{}”; cleanup will keep it.", snapshot_label(&s))
                        },
                    );
                    version.bump();
                }
                Err(e) => toasts.push(
                    Tone::Err,
                    format!("Could not change the pin: {}", api_message(&e)),
                ),
            }
        });
    };
    view! {
            <button
                type="button"
                class=if labelled { "sd-btn sd-btn--sm" } else { "sd-iconbtn" }
                aria-pressed=pinned.to_string()
                aria-label=if pinned { format!("Unpin {label}") } else { format!("Pin {label}") }
                title=if pinned { "Unpin (cleanup may delete it again)" } else { "Pin (cleanup keeps it)" }
                disabled=move || pin_busy.get()
                on:click=toggle_pin
            >
                <Icon kind=IconKind::Pin />
                {labelled.then_some(if pinned { " Unpin" } else { " Pin" })}
            </button>
    }
}

/// A node's metadata as `key=value` chips (the pin key left out: the icon says it).
#[component]
fn MetaChips(
    /// The pairs to show.
    metadata: Vec<(String, String)>,
) -> impl IntoView {
    (!metadata.is_empty()).then(|| {
        view! {
            <ul class="sd-meta" aria-label="Metadata">
                {metadata
                    .into_iter()
                    .map(|(k, v)| view! { <li class="sd-meta__chip"><span class="sd-meta__k">{k}</span>"="<span>{v}</span></li> })
                    .collect_view()}
            </ul>
        }
    })
}

/// The devboxes started from a snapshot, as branches under its node.
#[component]
fn Branches(
    /// The devboxes.
    kids: Signal<Vec<Devbox>>,
) -> impl IntoView {
    move || {
        let kids = kids.get();
        (!kids.is_empty()).then(|| {
            view! {
                <ul class="sd-branches" aria-label="Devboxes started from this snapshot">
                    {kids
                        .into_iter()
                        .map(|d| {
                            let status = d.status;
                            view! {
                                <li class="sd-branch">
                                    <span class="sd-branch__arrow" aria-hidden="true">"└─▶"</span>
                                    <a href=Page::devbox(&d.id).href()>{devbox_label(&d)}</a>
                                    <StatusBadge status=Signal::stored(status) />
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
        })
    }
}

/// Pins or unpins by read-merge-write: the update replaces the whole metadata map, so
/// read the freshest copy first and change only our key.
pub(crate) async fn set_pinned(
    api: crate::api::Api,
    listed: &Snapshot,
    pin: bool,
) -> Result<(), ApiError> {
    let fresh = api
        .snapshot_status(&listed.id)
        .await
        .ok()
        .and_then(|v| v.snapshot)
        .unwrap_or_else(|| listed.clone());
    let params = snapdeck_core::edit::set_pinned(&fresh, pin);
    api.update_snapshot(&listed.id, &params).await.map(|_| ())
}

/// What a timeline delete asks for: the snapshot, and the risks that make it need its
/// name typed (none: a plain confirmation).
#[derive(Debug, Clone)]
pub struct DeleteAsk {
    pub snapshot: Snapshot,
    pub risks: Vec<Risk>,
}

/// Starts the delete of one snapshot as a one-item run held to the floor (never the
/// last complete snapshot of its devbox, nor a pinned one), with the typed override
/// when the person typed the name.
pub(crate) fn start_delete(
    bulk: BulkRunHandle,
    toasts: crate::hooks::use_toasts::Toasts,
    s: &Snapshot,
    status: SnapshotStatus,
    typed_override: bool,
) {
    let confirmed = Confirmed::from_snapshot(s, Some(status));
    let mut override_ids = BTreeSet::new();
    if typed_override {
        override_ids.insert(s.id.clone());
    }
    let run = BulkRun::new([confirmed]).with_rule(RunRule::Floor { override_ids });
    let label = format!("Delete snapshot “{}”", snapshot_label(s));
    if let Err(busy) = bulk.start(label, run) {
        toasts.push(Tone::Err, busy.to_string());
    }
}

/// The confirmation of a delete from the timeline. With risks, it names each and asks
/// for the snapshot's name to be typed; the delete then overrides the floor for it.
#[component]
pub(crate) fn DeleteSnapshotDialog(
    /// The snapshot and its risks.
    ask: DeleteAsk,
    /// Called with whether the name was typed (the override) on confirm.
    #[prop(into)]
    on_confirm: Callback<bool>,
    /// Closes the dialog.
    #[prop(into)]
    on_close: Callback<()>,
) -> impl IntoView {
    let DeleteAsk { snapshot, risks } = ask;
    let label = snapshot_label(&snapshot);
    let risky = !risks.is_empty();
    let word = confirm_word(&snapshot).to_owned();
    let typed = RwSignal::new(String::new());
    let typed_ok = {
        let snapshot = snapshot.clone();
        Signal::derive(move || !risky || typed.with(|t| typed_matches(&snapshot, t)))
    };
    let confirm = move |_| {
        if typed_ok.get_untracked() {
            on_confirm.run(risky);
            on_close.run(());
        }
    };
    view! {
        <ConfirmDialog
            title=format!("Delete snapshot “{label}”?")
            confirm_label="Delete snapshot"
            busy=Signal::derive(move || !typed_ok.get())
            on_confirm=confirm
            on_close=on_close
        >
            <p>"The snapshot is removed for good; devboxes already started from it keep running."</p>
            {risky.then(|| {
                view! {
                    <ul class="sd-risks" aria-label="Risks" data-testid="delete-risks">
                        {risks.iter().map(|r| view! { <li class="sd-warnline">{r.to_string()}</li> }).collect_view()}
                    </ul>
                    <div class="sd-field">
                        <label for="sd-delete-typed">
                            "Type " <code>{word.clone()}</code> " to delete it anyway"
                        </label>
                        <input
                            id="sd-delete-typed"
                            class="sd-input"
                            autocomplete="off"
                            spellcheck="false"
                            data-testid="delete-typed"
                            prop:value=move || typed.get()
                            on:input=move |ev| typed.set(event_target_value(&ev))
                        />
                    </div>
                }
            })}
        </ConfirmDialog>
    }
}
