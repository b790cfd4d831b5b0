//! "Restore": start a new devbox from a snapshot, follow it to running, optionally shut
//! the current devbox down once the new one runs.

use leptos::prelude::*;
use snapdeck_api::{Devbox, Snapshot};
use snapdeck_core::validate;

use crate::components::modal::Modal;
use crate::hooks::use_ops::use_ops;
use crate::hooks::use_toasts::use_toasts;
use crate::lineage::{devbox_label, snapshot_label};

/// The restore dialog.
#[component]
pub fn RestoreDialog(
    /// The snapshot to restore.
    snapshot: Snapshot,
    /// The devbox whose timeline this is (the one that may be shut down).
    devbox: Devbox,
    /// Called when the dialog closes.
    #[prop(into)]
    on_close: Callback<()>,
) -> impl IntoView {
    let ops = use_ops();
    let _toasts = use_toasts();
    let snap_label = snapshot_label(&snapshot);
    let name = RwSignal::new(format!("restored-{snap_label}"));
    let shutdown_old = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let current = devbox_label(&devbox);
    let can_shutdown = !devbox.status.is_final();
    let snapshot_id = snapshot.id.clone();
    let devbox_id = devbox.id.clone();
    let label_for_submit = snap_label.clone();

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match validate::name(&name.get_untracked()) {
            Err(e) => error.set(Some(e.to_string())),
            Ok(n) => {
                ops.start_restore(
                    snapshot_id.clone(),
                    label_for_submit.clone(),
                    n,
                    devbox_id.clone(),
                    shutdown_old.get_untracked(),
                );
                on_close.run(());
            }
        }
    };

    let summary = {
        let current = current.clone();
        let snap_label = snap_label.clone();
        move || {
            let new_name = name.get();
            let new_name = if new_name.trim().is_empty() {
                "a new devbox".to_string()
            } else {
                format!("“{}”", new_name.trim())
            };
            if shutdown_old.get() {
                format!(
                    "Creates {new_name} from snapshot “{snap_label}” and waits until it runs; then shuts down “{current}” (its disk is discarded)."
                )
            } else {
                format!(
                    "Creates {new_name} from snapshot “{snap_label}” and waits until it runs. “{current}” is left as it is."
                )
            }
        }
    };

    view! {
        <Modal title=format!("Restore “{snap_label}”") on_close=on_close>
            <form class="sd-form" on:submit=on_submit>
                <div class="sd-modal__body sd-form">
                    <div class="sd-field">
                        <label for="sd-restore-name">"New devbox name"</label>
                        <input
                            id="sd-restore-name"
                            class="sd-input"
                            autofocus
                            autocomplete="off"
                            prop:value=move || name.get()
                            on:input=move |e| name.set(event_target_value(&e))
                        />
                    </div>
                    <label class="sd-check">
                        <input
                            type="checkbox"
                            disabled=!can_shutdown
                            prop:checked=move || shutdown_old.get()
                            on:change=move |e| shutdown_old.set(event_target_checked(&e))
                        />
                        {format!("Shut down “{current}” when the new one is running")}
                    </label>
                    <p class="sd-help sd-summary" aria-live="polite">{summary}</p>
                    {move || error.get().map(|e| view! { <p class="sd-formerror" role="alert">{e}</p> })}
                </div>
                <div class="sd-modal__foot">
                    <button type="button" class="sd-btn sd-btn--ghost" on:click=move |_| on_close.run(())>
                        "Cancel"
                    </button>
                    <button type="submit" class="sd-btn sd-btn--primary">"Restore"</button>
                </div>
            </form>
        </Modal>
    }
}
