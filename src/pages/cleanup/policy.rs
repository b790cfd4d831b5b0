//! Step 1 of Cleanup: the policy form, in the URL.

use leptos::prelude::*;
use snapdeck_api::Devbox;

use crate::components::devbox_options;
use crate::routes::{CleanupQuery, Page};

/// Step 1: the policy form. Every edit lands in the URL at once.
#[component]
pub(super) fn PolicyStep(
    /// The policy in the URL.
    query: Memo<CleanupQuery>,
    /// Devboxes for the scope select.
    devboxes: Memo<Vec<Devbox>>,
    /// Navigates to a new policy.
    go: Callback<CleanupQuery>,
) -> impl IntoView {
    view! {
        <section class="sd-step" aria-labelledby="sd-step-policy">
            <h2 class="sd-step__title" id="sd-step-policy">
                <span class="sd-step__num">"1"</span>
                "Policy"
            </h2>
            <div class="sd-policy">
                <ScopeField query=query devboxes=devboxes go=go />
                <AgeFields query=query go=go />
                <Checks query=query go=go />
            </div>
        </section>
    }
}

/// Applies an edit to the policy in the URL.
fn editor(
    query: Memo<CleanupQuery>,
    go: Callback<CleanupQuery>,
) -> impl Fn(&dyn Fn(&mut CleanupQuery)) + Copy {
    move |f: &dyn Fn(&mut CleanupQuery)| {
        let mut q = query.get_untracked();
        f(&mut q);
        go.run(q);
    }
}

/// The scope select's value for a blueprint (devbox ids are the other values).
const BLUEPRINT_VALUE: &str = "blueprint:";

/// Which devboxes the policy covers: all, one, or (from the Snapshots page's storage
/// breakdown) every devbox of one blueprint.
#[component]
fn ScopeField(
    /// The policy in the URL.
    query: Memo<CleanupQuery>,
    /// Navigates to a new policy.
    go: Callback<CleanupQuery>,
    /// Devboxes for the select.
    devboxes: Memo<Vec<Devbox>>,
) -> impl IntoView {
    let edit = editor(query, go);
    view! {
        <div class="sd-field">
            <label for="sd-cl-scope">"Scope"</label>
            <select
                id="sd-cl-scope"
                class="sd-select"
                data-testid="cleanup-scope"
                on:change=move |ev| {
                    let v = event_target_value(&ev);
                    if v.starts_with(BLUEPRINT_VALUE) {
                        return;
                    }
                    edit(&|q| {
                        q.devbox = (!v.is_empty()).then(|| v.clone());
                        q.blueprint = None;
                    });
                }
            >
                <option
                    value=""
                    selected=move || query.with(|q| q.devbox.is_none() && q.blueprint.is_none())
                >
                    "All devboxes"
                </option>
                {move || query.with(|q| q.blueprint.clone().filter(|_| q.devbox.is_none())).map(|bp| {
                    let label = format!("Every devbox of blueprint {}", crate::fmt::middle_truncate(&bp));
                    view! {
                        <option value=format!("{BLUEPRINT_VALUE}{bp}") selected=true>{label}</option>
                    }
                })}
                {move || {
                    devbox_options(devboxes.get(), query.with(|q| q.devbox.clone()))
                }}
            </select>
            {move || query.with(|q| q.blueprint.clone().filter(|_| q.devbox.is_none())).map(|bp| view! {
                <p class="sd-help" data-testid="cleanup-scope-blueprint" data-blueprint=bp.clone()>
                    "The snapshots the API lists under blueprint "
                    <a class="sd-mono" href=Page::blueprint(&bp).href()>{bp.clone()}</a>
                    "; each devbox keeps its newest on its own."
                </p>
            })}
        </div>
    }
}

/// Keep newest N, and only-older-than D days.
#[component]
fn AgeFields(
    /// The policy in the URL.
    query: Memo<CleanupQuery>,
    /// Navigates to a new policy.
    go: Callback<CleanupQuery>,
) -> impl IntoView {
    let edit = editor(query, go);
    view! {
        <div class="sd-field">
            <label for="sd-cl-keep">"Keep newest per devbox"</label>
            <input
                id="sd-cl-keep"
                class="sd-input sd-policy__num"
                type="number"
                min="0"
                max="1000"
                inputmode="numeric"
                data-testid="cleanup-keep"
                prop:value=move || query.with(|q| q.keep.to_string())
                on:input=move |ev| {
                    if let Ok(n) = event_target_value(&ev).trim().parse::<u32>() {
                        edit(&|q| q.keep = n);
                    }
                }
            />
            <p class="sd-help">"Complete snapshots, newest first. The newest one is always kept."</p>
        </div>
        <div class="sd-field">
            <label for="sd-cl-older">"Only if older than (days)"</label>
            <input
                id="sd-cl-older"
                class="sd-input sd-policy__num"
                type="number"
                min="0"
                inputmode="numeric"
                placeholder="any age"
                data-testid="cleanup-older"
                prop:value=move || query.with(|q| q.older_than_days.map(|d| d.to_string()).unwrap_or_default())
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    let v = v.trim();
                    if v.is_empty() {
                        edit(&|q| q.older_than_days = None);
                    } else if let Ok(d) = v.parse::<u32>() {
                        edit(&|q| q.older_than_days = Some(d));
                    }
                }
            />
            <p class="sd-help">"Empty: any age."</p>
        </div>
    }
}

/// Errored snapshots in or out, and pins (always respected).
#[component]
fn Checks(
    /// The policy in the URL.
    query: Memo<CleanupQuery>,
    /// Navigates to a new policy.
    go: Callback<CleanupQuery>,
) -> impl IntoView {
    let edit = editor(query, go);
    view! {
        <div class="sd-field sd-policy__checks">
            <label class="sd-check">
                <input
                    type="checkbox"
                    data-testid="cleanup-errored"
                    prop:checked=move || query.with(|q| q.include_errored)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        edit(&|q| q.include_errored = on);
                    }
                />
                "Include errored snapshots"
            </label>
            <Show when=move || query.with(|q| q.include_errored)>
                <p class="sd-help">
                    "The API may refuse to delete a snapshot that is not complete (409); such refusals are listed as failed, with the API's words."
                </p>
            </Show>
            <label class="sd-check">
                <input type="checkbox" checked disabled aria-describedby="sd-cl-pins-help" />
                "Respect pins"
            </label>
            <p class="sd-help" id="sd-cl-pins-help">
                "Pinned snapshots are never deleted by a cleanup. Unpin one on its devbox page to let a cleanup remove it."
            </p>
        </div>
    }
}
