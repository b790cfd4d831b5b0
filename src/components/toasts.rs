//! The toast stack, top-right.

use leptos::prelude::*;

use crate::hooks::use_toasts::{ToastAction, use_toasts};
use crate::services::bulk_runs;

/// Renders the current toasts in a polite live region.
#[component]
pub fn ToastStack() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div class="sd-toasts" role="status" aria-live="polite">
            <For
                each=move || toasts.list().get()
                key=|t| t.id
                children=move |t| {
                    let id = t.id;
                    let action = t.action.map(|a| {
                        view! {
                            <button
                                type="button"
                                class="sd-btn sd-btn--sm sd-toast__action"
                                on:click=move |_| {
                                    match a {
                                        ToastAction::UndoRun(key) => {
                                            bulk_runs::undo(key);
                                        }
                                    }
                                    toasts.dismiss(id);
                                }
                            >
                                {a.label()}
                            </button>
                        }
                    });
                    view! {
                        <div class=format!("sd-toast sd-toast--{}", t.tone.as_str()) data-testid="toast">
                            <span class="sd-toast__text">{t.text}</span>
                            {action}
                            <button
                                type="button"
                                class="sd-iconbtn"
                                aria-label="Dismiss"
                                on:click=move |_| toasts.dismiss(id)
                            >
                                "×"
                            </button>
                        </div>
                    }
                }
            />
        </div>
    }
}
