//! The filters of `/snapshots`: devbox, metadata `key=value` and text, all in the URL.

use leptos::prelude::*;
use snapdeck_api::Devbox;

use crate::components::devbox_options;
use crate::fmt::middle_truncate;
use crate::routes::{Page, SnapshotsQuery};

/// Devbox, metadata and text filters; every change lands in the URL.
#[component]
pub(super) fn Filters(
    /// Current filters.
    query: Memo<SnapshotsQuery>,
    /// Devboxes for the select.
    devboxes: Memo<Vec<Devbox>>,
    /// Navigates to new filters.
    go: Callback<SnapshotsQuery>,
) -> impl IntoView {
    let meta_input = RwSignal::new(String::new());
    let meta_error = RwSignal::new(None::<String>);
    let add_meta = move || {
        let text = meta_input.get_untracked();
        let Some((k, v)) = text.split_once('=').map(|(k, v)| (k.trim(), v.trim())) else {
            meta_error.set(Some("Write it as key=value, e.g. env=ci".into()));
            return;
        };
        if k.is_empty() {
            meta_error.set(Some("The key is empty; write key=value".into()));
            return;
        }
        meta_error.set(None);
        meta_input.set(String::new());
        let mut q = query.get_untracked();
        if !q.meta.iter().any(|(a, b)| a == k && b == v) {
            q.meta.push((k.to_owned(), v.to_owned()));
        }
        q.page = 1;
        go.run(q);
    };
    let any_filter = move || {
        query.with(|q| {
            q.devbox.is_some() || !q.meta.is_empty() || q.blueprint.is_some() || !q.q.is_empty()
        })
    };
    view! {
        <div class="sd-filters" role="search" aria-label="Filter snapshots">
            <div class="sd-filters__field">
                <label for="sd-snap-devbox" class="sd-filters__label">"Devbox"</label>
                <select
                    id="sd-snap-devbox"
                    class="sd-select"
                    data-testid="devbox-filter"
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        let mut q = query.get_untracked();
                        q.devbox = (!v.is_empty()).then_some(v);
                        q.page = 1;
                        go.run(q);
                    }
                >
                    <option value="" selected=move || query.with(|q| q.devbox.is_none())>
                        "All devboxes"
                    </option>
                    {move || {
                        devbox_options(devboxes.get(), query.with(|q| q.devbox.clone()))
                    }}
                </select>
            </div>
            <form
                class="sd-filters__field"
                on:submit=move |ev| {
                    ev.prevent_default();
                    add_meta();
                }
            >
                <label for="sd-snap-meta" class="sd-filters__label">"Metadata"</label>
                <span class="sd-row sd-filters__inline">
                    <input
                        id="sd-snap-meta"
                        class="sd-input sd-mono"
                        placeholder="key=value"
                        autocomplete="off"
                        aria-invalid=move || meta_error.get().is_some().then_some("true")
                        aria-describedby="sd-snap-meta-err"
                        prop:value=move || meta_input.get()
                        on:input=move |ev| meta_input.set(event_target_value(&ev))
                    />
                    <button type="submit" class="sd-btn">"Add"</button>
                </span>
                <span id="sd-snap-meta-err" class="sd-filters__err" role="status">
                    {move || meta_error.get()}
                </span>
            </form>
            <div class="sd-filters__field">
                <label for="sd-snap-q" class="sd-filters__label">"Search"</label>
                <input
                    id="sd-snap-q"
                    class="sd-input"
                    type="search"
                    placeholder="name, id or message"
                    autocomplete="off"
                    prop:value=move || query.with(|q| q.q.clone())
                    on:input=move |ev| {
                        let mut q = query.get_untracked();
                        q.q = event_target_value(&ev);
                        q.page = 1;
                        go.run(q);
                    }
                />
            </div>
        </div>
        <Show when=any_filter>
            <div class="sd-row sd-activefilters" aria-label="Active filters">
                {move || {
                    let q = query.get();
                    let mut chips = Vec::new();
                    if let Some(bp) = q.blueprint.clone() {
                        let mut next = q.clone();
                        next.blueprint = None;
                        next.page = 1;
                        chips.push((format!("blueprint {}", middle_truncate(&bp)), next));
                    }
                    for (i, (k, v)) in q.meta.iter().enumerate() {
                        let mut next = q.clone();
                        next.meta.remove(i);
                        next.page = 1;
                        chips.push((format!("{k}={v}"), next));
                    }
                    chips
                        .into_iter()
                        .map(|(label, next)| {
                            let aria = format!("Remove filter {label}");
                            view! {
                                <button type="button" class="sd-filterchip" aria-label=aria on:click=move |_| go.run(next.clone())>
                                    <span class="sd-mono">{label}</span>
                                    <span aria-hidden="true">"×"</span>
                                </button>
                            }
                        })
                        .collect_view()
                }}
                <a class="sd-btn sd-btn--ghost sd-btn--sm" href=Page::snapshots().href()>"Clear filters"</a>
            </div>
        </Show>
    }
}
