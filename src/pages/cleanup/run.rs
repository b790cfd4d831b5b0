//! Step 3 of Cleanup: the typed confirmation, then the run's progress and outcomes.

use leptos::prelude::*;

use super::plural;
use crate::components::bulk_panel::BulkPanel;
use crate::services::bulk_runs::BulkRunHandle;

/// Step 3: the run's progress and outcomes, or the typed confirmation that starts one.
#[component]
pub(super) fn RunStep(
    /// This page's bulk run.
    bulk: BulkRunHandle,
    /// Snapshots that would be deleted.
    count: Signal<usize>,
    /// Bytes they free.
    bytes: Signal<u64>,
    /// Every status is known.
    ready: Signal<bool>,
    /// What was typed.
    typed: RwSignal<String>,
    /// Start was pressed with the right number.
    on_start: Callback<()>,
) -> impl IntoView {
    view! {
        <section class="sd-step" aria-labelledby="sd-step-run">
            <h2 class="sd-step__title" id="sd-step-run">
                <span class="sd-step__num">"3"</span>
                "Run"
            </h2>
            <BulkPanel
                run=bulk.state()
                on_retry=move |_| bulk.retry_failed()
                on_cancel=move |_| bulk.cancel()
                on_dismiss=move |_| bulk.dismiss()
                hold_until=bulk.hold_until()
                on_undo=Callback::new(move |_| bulk.undo())
            />
            <Show when=move || !bulk.is_running()>
                <ConfirmRun
                    count=count
                    bytes=bytes
                    ready=ready
                    typed=typed
                    on_start=on_start
                />
            </Show>
        </section>
    }
}

/// The typed confirmation and the start button.
#[component]
fn ConfirmRun(
    /// Snapshots that would be deleted.
    count: Signal<usize>,
    /// Bytes they free.
    bytes: Signal<u64>,
    /// Every status is known.
    ready: Signal<bool>,
    /// What was typed.
    typed: RwSignal<String>,
    /// Start was pressed with the right number.
    on_start: Callback<()>,
) -> impl IntoView {
    let matches = move || typed.with(|t| t.trim() == count.get().to_string());
    let enabled = move || ready.get() && count.get() > 0 && matches();
    view! {
        <Show
            when=move || { count.get() > 0 }
            fallback=move || view! { <p class="sd-muted">"Nothing to delete: adjust the policy, or tick rows in the plan."</p> }
        >
            <form
                class="sd-confirmrun"
                on:submit=move |ev| {
                    ev.prevent_default();
                    if enabled() {
                        on_start.run(());
                    }
                }
            >
                <label for="sd-cl-confirm">
                    {move || format!(
                        "Type {} to delete {} ({}). Each is checked again just before it is deleted.",
                        count.get(),
                        plural(count.get(), "snapshot", "snapshots"),
                        crate::fmt::bytes(bytes.get()),
                    )}
                </label>
                <span class="sd-row">
                    <input
                        id="sd-cl-confirm"
                        class="sd-input sd-confirmrun__input"
                        inputmode="numeric"
                        autocomplete="off"
                        data-testid="cleanup-confirm"
                        prop:value=move || typed.get()
                        on:input=move |ev| typed.set(event_target_value(&ev))
                    />
                    <button type="submit" class="sd-btn sd-btn--danger" disabled=move || !enabled()>
                        {move || format!("Delete {}", plural(count.get(), "snapshot", "snapshots"))}
                    </button>
                </span>
                <Show when=move || !ready.get()>
                    <p class="sd-help" role="status">"Waiting for every status before the run can start."</p>
                </Show>
            </form>
        </Show>
    }
}
