//! The filters of `/snapshots`: devbox, metadata `key=value` and text, all in the URL.

use leptos::prelude::*;
use snapdeck_api::Devbox;

use crate::components::devbox_options;
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
            <MetaFilter query=query go=go />
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
        <ActiveFilters query=query go=go />
    }
}

/// The metadata filter: `key=value`, added with Enter or Add; a bad one says why.
#[component]
fn MetaFilter(
    /// Current filters.
    query: Memo<SnapshotsQuery>,
    /// Navigates to new filters.
    go: Callback<SnapshotsQuery>,
) -> impl IntoView {
    let input = RwSignal::new(String::new());
    let error = RwSignal::new(None::<&'static str>);
    let add = move || match query
        .get_untracked()
        .with_meta_filter(&input.get_untracked())
    {
        Ok(q) => {
            error.set(None);
            input.set(String::new());
            go.run(q);
        }
        Err(why) => error.set(Some(why)),
    };
    view! {
        <form
            class="sd-filters__field"
            on:submit=move |ev| {
                ev.prevent_default();
                add();
            }
        >
            <label for="sd-snap-meta" class="sd-filters__label">"Metadata"</label>
            <span class="sd-row sd-filters__inline">
                <input
                    id="sd-snap-meta"
                    class="sd-input sd-mono"
                    placeholder="key=value"
                    autocomplete="off"
                    aria-invalid=move || error.get().is_some().then_some("true")
                    aria-describedby="sd-snap-meta-err"
                    prop:value=move || input.get()
                    on:input=move |ev| input.set(event_target_value(&ev))
                />
                <button type="submit" class="sd-btn">"Add"</button>
            </span>
            <span id="sd-snap-meta-err" class="sd-filters__err" role="status">
                {move || error.get()}
            </span>
        </form>
    }
}

/// The filters in effect, each removable, and Clear filters.
#[component]
fn ActiveFilters(
    /// Current filters.
    query: Memo<SnapshotsQuery>,
    /// Navigates to new filters.
    go: Callback<SnapshotsQuery>,
) -> impl IntoView {
    let chips = move || {
        query
            .with(SnapshotsQuery::removable_filters)
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
    };
    view! {
        <Show when=move || query.with(SnapshotsQuery::is_filtered)>
            <div class="sd-row sd-activefilters" aria-label="Active filters">
                {chips}
                {move || query.with(|q| q.blueprint.clone()).map(|bp| view! {
                    <a class="sd-btn sd-btn--ghost sd-btn--sm" href=Page::blueprint(&bp).href()>"Open blueprint"</a>
                })}
                <a class="sd-btn sd-btn--ghost sd-btn--sm" href=Page::snapshots().href()>"Clear filters"</a>
            </div>
        </Show>
    }
}
