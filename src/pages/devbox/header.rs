//! The devbox page's header: name, status and actions (Snapshot, Suspend/Resume,
//! Shutdown with its dialog).

use leptos::prelude::*;
use leptos::task::spawn_local;
use snapdeck_api::{Devbox, DevboxStatus};

use crate::api::{ApiError, api_message, use_api};
use crate::components::icon::{Icon, IconKind};
use crate::components::modal::ConfirmDialog;
use crate::components::{IdCell, SnapshotDialog, StatusBadge};
use crate::hooks::use_toasts::{Tone, use_toasts};
use crate::lineage::devbox_label;

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
