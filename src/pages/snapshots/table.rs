//! The snapshot table, its rows and the selection bar above it.

use leptos::ev;
use leptos::prelude::*;
use snapdeck_api::{Devbox, PINNED_KEY, Snapshot};
use snapdeck_core::is_pinned;
use wasm_bindgen::JsCast;

use crate::components::sort_header::sort_header;
use crate::components::{Icon, IconKind, IdCell, RelTime, SkeletonRows, SnapshotBadge};
use crate::fmt::{bytes_opt, middle_truncate};
use crate::hooks::use_statuses::Statuses;
use crate::routes::{Page, SnapshotColumn, SnapshotsQuery};
use crate::selection::Selection;

/// "3 selected · Select all 40 matching · Clear · Delete selected…".
#[component]
pub(super) fn SelectionBar(
    /// The selection.
    selection: RwSignal<Selection>,
    /// Every row matching the filters.
    filtered: Memo<Vec<Snapshot>>,
    /// A delete is running.
    #[prop(into)]
    running: Signal<bool>,
    /// Delete selected was pressed.
    on_delete: Callback<()>,
) -> impl IntoView {
    let n = move || selection.with(Selection::len);
    let total = move || filtered.with(Vec::len);
    let all =
        move || selection.with(|s| filtered.with(|f| s.has_all(f.iter().map(|x| x.id.as_str()))));
    view! {
        <Show when=move || { n() > 0 }>
            <div class="sd-selbar" role="region" aria-label="Selection" data-testid="selection-bar">
                <strong aria-live="polite">{move || format!("{} selected", n())}</strong>
                <Show when=move || !all()>
                    <button
                        type="button"
                        class="sd-btn sd-btn--ghost sd-btn--sm"
                        on:click=move |_| {
                            filtered.with_untracked(|f| {
                                selection.update(|s| s.select_all(f.iter().map(|x| x.id.as_str())))
                            })
                        }
                    >
                        {move || format!("Select all {} matching", total())}
                    </button>
                </Show>
                <button
                    type="button"
                    class="sd-btn sd-btn--ghost sd-btn--sm"
                    on:click=move |_| selection.update(Selection::clear)
                >
                    "Clear"
                </button>
                <span class="sd-grow"></span>
                <button
                    type="button"
                    class="sd-btn sd-btn--danger sd-btn--sm"
                    disabled=move || running.get()
                    title=move || running.get().then_some("Wait for the running delete to finish")
                    on:click=move |_| on_delete.run(())
                >
                    <Icon kind=IconKind::Trash />
                    "Delete selected…"
                </button>
            </div>
        </Show>
    }
}

/// The table of snapshots (or its skeleton).
#[component]
pub(super) fn SnapshotTable(
    /// Rows on this page.
    #[prop(into)]
    rows: Signal<Vec<Snapshot>>,
    /// Show skeleton rows.
    loading: bool,
    /// The selection.
    selection: RwSignal<Selection>,
    /// The whole filtered list (the order shift-click ranges follow).
    filtered: Memo<Vec<Snapshot>>,
    /// Status cache.
    statuses: Statuses,
    /// Devboxes, for names.
    devboxes: Memo<Vec<Devbox>>,
    /// Current filters (metadata chips add to them).
    query: Memo<SnapshotsQuery>,
) -> impl IntoView {
    let page_all =
        move || selection.with(|s| rows.with(|r| s.has_all(r.iter().map(|x| x.id.as_str()))));
    let toggle_page = move |_| {
        let ids: Vec<String> = rows.with_untracked(|r| r.iter().map(|x| x.id.clone()).collect());
        if page_all() {
            selection.update(|s| s.deselect_all(ids.iter().map(String::as_str)));
        } else {
            selection.update(|s| s.select_all(ids.iter().map(String::as_str)));
        }
    };
    let sort = Signal::derive(move || query.with(|q| q.sort));
    let header = move |label, key, class| {
        sort_header(label, key, class, sort, move |sort| {
            query.with(|q| {
                Page::Snapshots(SnapshotsQuery {
                    sort,
                    page: 1,
                    ..q.clone()
                })
                .href()
            })
        })
    };
    view! {
        <div class="sd-tablewrap">
            <table class="sd-table sd-snaptable" aria-busy=loading.then_some("true")>
                <thead>
                    <tr>
                        <th scope="col" class="sd-col-check">
                            <input
                                type="checkbox"
                                class="sd-checkbox"
                                aria-label="Select all on this page"
                                prop:checked=page_all
                                on:change=toggle_page
                            />
                        </th>
                        {header("Name", SnapshotColumn::Name, "")}
                        <th scope="col" class="sd-col-hide-xs">"ID"</th>
                        {header("Devbox", SnapshotColumn::Devbox, "sd-col-hide-sm")}
                        {header("Created", SnapshotColumn::Created, "")}
                        {header("Size", SnapshotColumn::Size, "sd-num sd-col-hide-xs")}
                        // Not sortable: statuses are fetched only for the rows on screen.
                        <th scope="col">"Status"</th>
                        <th scope="col" class="sd-col-hide-sm">"Metadata"</th>
                    </tr>
                </thead>
                <tbody>
                    {loading.then(|| view! { <SkeletonRows cols=8 /> })}
                    // The sort (and the size it may sort by) is part of the key, so a
                    // re-sort re-creates rows instead of moving them: tachys' keyed diff
                    // can leave moved rows out of order when, in the same update, rows
                    // also enter and leave (seen going from page 1 by size to by devbox).
                    // Untracked is enough: keys are taken when `rows` changes, and rows
                    // change after the sort in the URL did.
                    <For
                        each=move || rows.get()
                        key=move |s| (query.with_untracked(|q| q.sort), s.id.clone(), s.size_bytes)
                        children=move |s| {
                            view! {
                                <SnapshotRow
                                    snapshot=s
                                    selection=selection
                                    filtered=filtered
                                    statuses=statuses
                                    devboxes=devboxes
                                    query=query
                                />
                            }
                        }
                    />
                </tbody>
            </table>
        </div>
    }
}

/// One snapshot row.
#[component]
pub(super) fn SnapshotRow(
    /// The snapshot.
    snapshot: Snapshot,
    /// The selection.
    selection: RwSignal<Selection>,
    /// The whole filtered list, for shift-click ranges.
    filtered: Memo<Vec<Snapshot>>,
    /// Status cache.
    statuses: Statuses,
    /// Devboxes, for names.
    devboxes: Memo<Vec<Devbox>>,
    /// Current filters.
    query: Memo<SnapshotsQuery>,
) -> impl IntoView {
    let id = StoredValue::new(snapshot.id.clone());
    let checked = move || selection.with(|s| s.contains(&id.get_value()));
    let on_click = move |ev: ev::MouseEvent| {
        let shift = ev.shift_key();
        let id = id.get_value();
        filtered.with_untracked(|f| {
            let order: Vec<&str> = f.iter().map(|x| x.id.as_str()).collect();
            selection.update(|s| s.click(&id, shift, &order));
        });
        // The browser already flipped the box; make it agree with the selection.
        if let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        {
            input.set_checked(selection.with_untracked(|s| s.contains(&id)));
        }
    };
    let name = snapshot.name.clone().filter(|n| !n.is_empty());
    let label = format!(
        "Select {}",
        name.clone().unwrap_or_else(|| snapshot.id.clone())
    );
    let devbox_id = snapshot.source_devbox_id.clone();
    let devbox_label = {
        let devbox_id = devbox_id.clone();
        move || {
            devboxes.with(|l| {
                l.iter()
                    .find(|d| d.id == devbox_id)
                    .and_then(|d| d.name.clone())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| middle_truncate(&devbox_id))
            })
        }
    };
    let status = Signal::derive(move || statuses.status(&id.get_value()));
    let status_title = move || statuses.get(&id.get_value()).and_then(|c| c.error_message);
    let pinned = is_pinned(&snapshot);
    let meta: Vec<(String, String)> = snapshot
        .metadata
        .iter()
        .filter(|(k, _)| k.as_str() != PINNED_KEY)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    view! {
        <tr
            data-testid="snapshot-row"
            data-list-row="snapshot"
            tabindex="-1"
            data-id=snapshot.id.clone()
            data-status=move || status.get().map(|s| s.as_str()).unwrap_or("")
            aria-selected=move || checked().to_string()
        >
            <td class="sd-col-check">
                <input
                    type="checkbox"
                    class="sd-checkbox"
                    aria-label=label
                    prop:checked=checked
                    on:click=on_click
                />
            </td>
            <td class="sd-cell-name">
                <span class="sd-snapname">
                    <a href=Page::snapshot(&snapshot.id).href() data-testid="snapshot-link">
                        {match name {
                            Some(n) => view! { <span>{n}</span> }.into_any(),
                            None => view! { <span class="sd-muted">"(unnamed)"</span> }.into_any(),
                        }}
                    </a>
                    {pinned
                        .then(|| {
                            view! {
                                <span class="sd-pin" title="Pinned: kept by cleanups" aria-label="Pinned" role="img">
                                    <Icon kind=IconKind::Pin />
                                </span>
                            }
                        })}
                </span>
            </td>
            <td class="sd-col-hide-xs">
                <IdCell id=snapshot.id.clone() />
            </td>
            <td class="sd-col-hide-sm">
                <a href=Page::devbox(&devbox_id).href() title=devbox_id.clone()>
                    {devbox_label}
                </a>
            </td>
            <td>
                <RelTime ms=snapshot.create_time_ms />
            </td>
            <td class="sd-num sd-mono sd-col-hide-xs">{bytes_opt(snapshot.size_bytes)}</td>
            <td>
                <span title=status_title>
                    <SnapshotBadge status=status />
                </span>
            </td>
            <td class="sd-col-hide-sm">
                <MetaChips meta=meta query=query />
            </td>
        </tr>
    }
}

/// Metadata as small chips; each links to the list filtered by it.
#[component]
pub(super) fn MetaChips(
    /// Pairs to show.
    meta: Vec<(String, String)>,
    /// Current filters.
    query: Memo<SnapshotsQuery>,
) -> impl IntoView {
    let more = meta.len().saturating_sub(3);
    let all = meta
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("\n");
    view! {
        <span class="sd-metachips" title=all>
            {meta
                .into_iter()
                .take(3)
                .map(|(k, v)| {
                    let text = format!("{k}={v}");
                    let href = move || {
                        let mut q = query.get();
                        if !q.meta.iter().any(|(a, b)| a == &k && b == &v) {
                            q.meta.push((k.clone(), v.clone()));
                        }
                        q.page = 1;
                        Page::Snapshots(q).href()
                    };
                    view! { <a class="sd-metachip" href=href>{text}</a> }
                })
                .collect_view()}
            {(more > 0).then(|| view! { <span class="sd-muted">{format!("+{more}")}</span> })}
        </span>
    }
}
