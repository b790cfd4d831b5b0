//! An id in monospace, truncated in the middle, with a copy button.

use leptos::prelude::*;

use crate::components::icon::{Icon, IconKind};
use crate::fmt::middle_truncate;
use crate::hooks::use_toasts::{Tone, use_toasts};

/// `dbx_3f9a…a21c` with the full id in the tooltip and a copy button.
#[component]
pub fn IdCell(
    /// The full id.
    #[prop(into)]
    id: String,
) -> impl IntoView {
    let short = middle_truncate(&id);
    let full = id.clone();
    let label = format!("Copy {id}");
    let toasts = use_toasts();
    view! {
        <span class="sd-id">
            <code class="sd-id__text" title=id.clone()>{short}</code>
            <button
                type="button"
                class="sd-iconbtn sd-id__copy"
                aria-label=label.clone()
                title=label
                on:click=move |ev| {
                    ev.stop_propagation();
                    if let Some(w) = web_sys::window() {
                        let _promise = w.navigator().clipboard().write_text(&full);
                    }
                    toasts.push(Tone::Info, format!("Copied {full}"));
                }
            >
                <Icon kind=IconKind::Copy />
            </button>
        </span>
    }
}
