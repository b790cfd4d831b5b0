//! The devbox page's header: name, status and actions (Snapshot, Suspend/Resume,
//! Shutdown with its dialog).

use leptos::prelude::*;
use leptos::task::spawn_local;
use snapdeck_api::{Devbox, DevboxStatus};

use crate::api::{ApiError, SnapshotFilter, api_message, use_api};
use crate::components::icon::{Icon, IconKind};
use crate::components::modal::ConfirmDialog;
use crate::components::{IdCell, SnapshotDialog, StatusBadge};
use crate::hooks::use_toasts::{Tone, use_toasts};
use crate::lineage::devbox_label;
use crate::services::ops::{OpKind, OpState, use_ops};

/// Name, id, status and the actions.
#[component]
pub(super) fn DevboxHeader(
    /// The devbox.
    devbox: Signal<Devbox>,
    /// Something changed it (refetch).
    on_changed: Callback<()>,
) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let snapshot_open = RwSignal::new(false);
    // "Snapshot now, then fan out": the dialog, then the snapshot's operation waited on,
    // then the fan-out dialog for the snapshot it made.
    let fanout_snapshot_open = RwSignal::new(false);
    let fanout_op = RwSignal::new(None::<u64>);
    let fanout_from = RwSignal::new(None::<snapdeck_api::Snapshot>);
    let ops = use_ops();
    Effect::new(move |_| {
        let Some(id) = fanout_op.get() else { return };
        let Some(op) = ops.watch_op(id) else {
            fanout_op.set(None);
            return;
        };
        let snapshot_id = match (&op.state, &op.kind) {
            (OpState::Running, _) => return,
            (OpState::Done { .. }, OpKind::Snapshot { watch: Some(w), .. }) => {
                w.snapshot_id.clone()
            }
            // It failed (the tray and a toast say why): nothing to fan out from.
            _ => {
                fanout_op.set(None);
                return;
            }
        };
        let devbox_id = devbox.with_untracked(|d| d.id.clone());
        spawn_local(async move {
            let filter = SnapshotFilter {
                devbox_id: Some(devbox_id),
                ..SnapshotFilter::default()
            };
            let found = api
                .list_snapshots(&filter)
                .await
                .map(|l| l.into_iter().find(|s| s.id == snapshot_id));
            fanout_op.set(None);
            match found {
                // Done means complete (a failed snapshot ends its operation as failed).
                Ok(Some(s)) => fanout_from.set(Some(s)),
                Ok(None) => toasts.push(
                    Tone::Err,
                    "The new snapshot is no longer listed, so there is nothing to fan out from.",
                ),
                Err(e) => toasts.push(
                    Tone::Err,
                    format!("Could not read the new snapshot: {}", api_message(&e)),
                ),
            }
        });
    });
    let shutdown_open = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let status = Signal::derive(move || devbox.with(|d| d.status));

    let run = move |what: &'static str| {
        let id = devbox.with_untracked(|d| d.id.clone());
        busy.set(true);
        spawn_local(async move {
            let r = match what {
                "suspend" => api.suspend(&id).await,
                _ => api.resume(&id).await,
            };
            busy.set(false);
            match r {
                Ok(_) => toasts.push(Tone::Info, format!("{} requested.", capitalize(what))),
                Err(e) => toasts.push(Tone::Err, format!("Could not {what}: {}", api_message(&e))),
            }
            on_changed.run(());
        });
    };

    view! {
        <div class="sd-pagehead sd-devbox__head">
            <div class="sd-devbox__title">
                <h1 class="sd-h1">{move || devbox.with(devbox_label)}</h1>
                {move || view! { <IdCell id=devbox.with(|d| d.id.clone()) /> }}
                <StatusBadge status=status />
            </div>
            <div class="sd-row sd-devbox__actions">
                <button
                    type="button"
                    class="sd-btn sd-btn--primary"
                    disabled=move || status.get() != DevboxStatus::Running
                    title=move || {
                        if status.get() == DevboxStatus::Running {
                            "Take a disk snapshot".to_string()
                        } else {
                            format!("Only a running devbox can be snapshotted (this one is {})", status.get())
                        }
                    }
                    on:click=move |_| snapshot_open.set(true)
                >
                    <Icon kind=IconKind::Camera />
                    "Snapshot"
                </button>
                <button
                    type="button"
                    class="sd-btn"
                    disabled=move || status.get() != DevboxStatus::Running || fanout_op.get().is_some()
                    title="Take a snapshot now, then start several devboxes from it"
                    on:click=move |_| fanout_snapshot_open.set(true)
                >
                    "Fan out…"
                </button>
                {move || match status.get() {
                    DevboxStatus::Running => {
                        view! {
                            <button type="button" class="sd-btn" disabled=move || busy.get() on:click=move |_| run("suspend")>
                                "Suspend"
                            </button>
                        }
                            .into_any()
                    }
                    DevboxStatus::Suspended => {
                        view! {
                            <button type="button" class="sd-btn" disabled=move || busy.get() on:click=move |_| run("resume")>
                                "Resume"
                            </button>
                        }
                            .into_any()
                    }
                    _ => ().into_any(),
                }}
                <button
                    type="button"
                    class="sd-btn sd-btn--ghost sd-btn--dangertext"
                    disabled=move || status.get().is_final()
                    on:click=move |_| shutdown_open.set(true)
                >
                    "Shut down"
                </button>
            </div>
        </div>
        <Show when=move || snapshot_open.get()>
            <SnapshotDialog devbox=devbox.get_untracked() on_close=move |_| snapshot_open.set(false) />
        </Show>
        {move || fanout_op.get().map(|_| view! {
            <p class="sd-callout sd-row" role="status" data-testid="fanout-waiting">
                "Taking the snapshot; the fan-out opens when it is complete."
                <button type="button" class="sd-btn sd-btn--sm sd-btn--ghost" on:click=move |_| fanout_op.set(None)>"Don’t fan out"</button>
            </p>
        })}
        <Show when=move || fanout_snapshot_open.get()>
            <SnapshotDialog
                devbox=devbox.get_untracked()
                title="Snapshot now, then fan out"
                submit_label="Take snapshot, then fan out"
                on_started=move |op| fanout_op.set(Some(op))
                on_close=move |_| fanout_snapshot_open.set(false)
            />
        </Show>
        {move || fanout_from.get().map(|s| view! {
            <crate::pages::fanout::dialog::FanoutDialog snapshot=s on_close=move |_| fanout_from.set(None) />
        })}
        <Show when=move || shutdown_open.get()>
            <ShutdownDialog
                devbox=devbox.get_untracked()
                on_close=move |_| shutdown_open.set(false)
                on_done=on_changed
            />
        </Show>
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// Shutdown confirmation. A 409 (a snapshot still running) is explained, with the
/// option to force.
#[component]
pub(super) fn ShutdownDialog(
    /// The devbox.
    devbox: Devbox,
    /// Closes the dialog.
    #[prop(into)]
    on_close: Callback<()>,
    /// The shutdown went through.
    on_done: Callback<()>,
) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let busy = RwSignal::new(false);
    let conflict = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<ApiError>);
    let label = devbox_label(&devbox);
    let id = devbox.id.clone();
    let confirm = move |_| {
        let force = conflict.get_untracked().is_some();
        busy.set(true);
        let id = id.clone();
        spawn_local(async move {
            match api.shutdown(&id, force).await {
                Ok(_) => {
                    toasts.push(Tone::Ok, "Shutdown requested.");
                    on_done.run(());
                    on_close.run(());
                }
                Err(e) if e.is_conflict() => {
                    busy.set(false);
                    conflict.set(Some(api_message(&e)));
                }
                Err(e) => {
                    busy.set(false);
                    error.set(Some(e));
                }
            }
        });
    };
    let confirm_label = Signal::derive(move || {
        if conflict.get().is_some() {
            "Force shutdown".to_string()
        } else {
            "Shut down".to_string()
        }
    });
    view! {
        <ConfirmDialog
            title=format!("Shut down “{label}”?")
            confirm_label=confirm_label
            busy=busy
            on_confirm=confirm
            on_close=on_close
        >
            <p>"The devbox stops for good and its disk is discarded. Its snapshots stay, and you can restore any of them into a new devbox."</p>
            {move || {
                conflict
                    .get()
                    .map(|m| {
                        view! {
                            <div class="sd-callout sd-callout--warn" role="alert" data-testid="shutdown-409">
                                <p>
                                    <strong>"A snapshot of this devbox is still in progress"</strong>
                                    " (the API answered 409: " {m} ")."
                                </p>
                                <p>
                                    "Wait for it to finish (watch it in Operations or the timeline), or force the shutdown — the unfinished snapshot will probably end in error."
                                </p>
                            </div>
                        }
                    })
            }}
            {move || error.get().map(|e| view! { <p class="sd-formerror" role="alert">{e.to_string()}</p> })}
        </ConfirmDialog>
    }
}
