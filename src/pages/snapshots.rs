//! `/snapshots`: every snapshot across devboxes, filterable by devbox, metadata
//! `key=value` and text, sortable by column (all in the URL), with multi-select and a
//! bulk delete that runs through snapdeck-core's bulk runner.
//!
//! The whole filtered list is loaded with the API's pagination stream (1000 a page),
//! sorted and paged here, so "select all N matching" and shift-click ranges work across
//! pages and follow the order on screen; statuses are fetched only for the rows on
//! screen (and for the selection when the delete dialog opens), a few at a time.

use std::collections::{BTreeSet, HashMap};

use leptos::ev;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use snapdeck_api::{Devbox, PINNED_KEY, Snapshot, SnapshotStatus};
use snapdeck_core::eligibility::{Risk, assess};
use snapdeck_core::{BulkRun, CachedStatus, Confirmed, RunRule, is_pinned};
use wasm_bindgen::JsCast;

use crate::api::{SnapshotFilter, use_api};
use crate::components::bulk_panel::BulkPanel;
use crate::components::sort_header::{compare_names, compare_text, sort_header};
use crate::components::{
    EmptyState, ErrorState, Icon, IconKind, IdCell, Modal, Pager, RelTime, SkeletonRows,
    SnapshotBadge, devbox_options,
};
use crate::embed::use_replace_page;
use crate::fmt::{bytes, bytes_opt, middle_truncate};
use crate::hooks::bulk_run::use_bulk_run;
use crate::hooks::selection::Selection;
use crate::hooks::use_interval::use_interval;
use crate::hooks::use_refresh::use_refresh;
use crate::hooks::use_statuses::{Statuses, use_visible_statuses};
use crate::hooks::use_toasts::{Tone, use_toasts};
use crate::routes::{CleanupQuery, PAGE_SIZE, Page, SnapshotSort, SnapshotsQuery, Sort};

/// Snapshots named one by one in the confirmation (the count covers the rest).
const LISTED_IN_DIALOG: usize = 200;

/// Whether a selected snapshot can be deleted, as far as we know now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Eligibility {
    Deletable,
    /// Its status is still being fetched.
    Checking,
    /// Left out, and why (in words for the dialog).
    Skip(&'static str),
}

/// The API deletes only complete snapshots, and a pinned one is protected.
pub fn eligibility(s: &Snapshot, status: Option<&CachedStatus>) -> Eligibility {
    if is_pinned(s) {
        return Eligibility::Skip("pinned — unpin it on its devbox page first");
    }
    match status.map(|c| c.status) {
        None => Eligibility::Checking,
        Some(SnapshotStatus::Complete) => Eligibility::Deletable,
        Some(SnapshotStatus::InProgress) => {
            Eligibility::Skip("not complete yet — still being created")
        }
        Some(SnapshotStatus::Error) => {
            Eligibility::Skip("errored — the API deletes only complete snapshots")
        }
        Some(SnapshotStatus::Deleted) => Eligibility::Skip("already deleted"),
        Some(SnapshotStatus::Unknown) => Eligibility::Skip("status not recognised"),
    }
}

/// True when `s` matches the free-text filter (name, id or commit message).
pub fn matches_text(s: &Snapshot, q: &str) -> bool {
    let q = q.trim().to_lowercase();
    q.is_empty()
        || s.id.to_lowercase().contains(&q)
        || [&s.name, &s.commit_message]
            .into_iter()
            .flatten()
            .any(|t| t.to_lowercase().contains(&q))
}

/// Sorts `list` by `sort`. Ties go newest first, then by id, so the order (and with it
/// shift-click ranges) never depends on the order the API listed them in. The devbox
/// column sorts by what it shows: the devbox's name, or its id when it has none.
pub fn sort_snapshots(list: &mut [Snapshot], sort: Sort<SnapshotSort>, devboxes: &[Devbox]) {
    let names: HashMap<&str, &str> = match sort.key {
        SnapshotSort::Devbox => devboxes
            .iter()
            .filter_map(|d| Some((d.id.as_str(), d.name.as_deref().filter(|n| !n.is_empty())?)))
            .collect(),
        _ => Default::default(),
    };
    fn label<'a>(names: &HashMap<&str, &'a str>, s: &'a Snapshot) -> &'a str {
        names
            .get(s.source_devbox_id.as_str())
            .copied()
            .unwrap_or(&s.source_devbox_id)
    }
    list.sort_by(|a, b| {
        let by_key = match sort.key {
            SnapshotSort::Name => compare_names(a.name.as_deref(), b.name.as_deref()),
            SnapshotSort::Devbox => compare_text(label(&names, a), label(&names, b)),
            SnapshotSort::Created => a.create_time_ms.cmp(&b.create_time_ms),
            SnapshotSort::Size => a.size_bytes.cmp(&b.size_bytes),
        };
        sort.directed(by_key).then_with(|| {
            b.create_time_ms
                .cmp(&a.create_time_ms)
                .then_with(|| b.id.cmp(&a.id))
        })
    });
}

/// The snapshot list page.
#[component]
pub fn SnapshotsPage() -> impl IntoView {
    let api = use_api();
    let version = use_refresh();
    let toasts = use_toasts();
    let query_map = use_query_map();
    let query = Memo::new(move |_| query_map.with(SnapshotsQuery::from_params));
    let replace = use_replace_page();
    let go = Callback::new(move |q: SnapshotsQuery| replace.run(Page::Snapshots(q)));

    let devboxes = LocalResource::new(move || {
        let _config = api.track();
        async move { api.list_devboxes().await.unwrap_or_default() }
    });
    // What the API filters (text filtering and paging happen here).
    let api_filter = Memo::new(move |_| {
        query.with(|q| SnapshotFilter {
            devbox_id: q.devbox.clone(),
            blueprint_id: q.blueprint.clone(),
            metadata: q.meta.clone(),
        })
    });
    let snapshots = LocalResource::new(move || {
        let _config = api.track();
        let _v = version.track();
        let filter = api_filter.get();
        async move { api.list_snapshots(&filter).await }
    });
    let devbox_names =
        Memo::new(move |_| devboxes.with(|d| d.as_ref().map(|l| l.to_vec()).unwrap_or_default()));

    // The list as the table shows it: text-filtered and sorted, before paging. Every
    // selection rule (ranges, select all, the dialog's order) reads this same list.
    let filtered = Memo::new(move |_| {
        let (text, sort) = query.with(|q| (q.q.clone(), q.sort));
        let mut list = snapshots.with(|r| match r {
            Some(Ok(list)) => list
                .iter()
                .filter(|s| matches_text(s, &text))
                .cloned()
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        });
        devbox_names.with(|d| sort_snapshots(&mut list, sort, d));
        list
    });
    let visible = Memo::new(move |_| {
        let page = query.with(|q| q.page);
        filtered.with(|f| {
            f.iter()
                .skip((page - 1) * PAGE_SIZE)
                .take(PAGE_SIZE)
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let visible_ids =
        Signal::derive(move || visible.with(|v| v.iter().map(|s| s.id.clone()).collect()));
    let statuses = use_visible_statuses(visible_ids);

    // Selection follows the list: rows that leave it (filters, deletes) are unselected.
    let selection = RwSignal::new(Selection::new());
    Effect::new(move |_| {
        filtered.with(|f| {
            selection.update(|s| s.retain_listed(f.iter().map(|x| x.id.as_str())));
        })
    });

    let bulk = use_bulk_run("snapshots");
    // Our own deletes: record them so every status badge agrees at once.
    Effect::new(move |_| {
        bulk.state().with(|r| {
            if let Some(r) = r {
                for item in &r.items {
                    if matches!(item.state, snapdeck_core::ItemState::Done { .. })
                        && statuses.status(&item.confirmed.snapshot_id)
                            != Some(SnapshotStatus::Deleted)
                    {
                        statuses.record(&item.confirmed.snapshot_id, SnapshotStatus::Deleted, None);
                    }
                }
            }
        })
    });

    let dialog_open = RwSignal::new(false);
    let open_dialog = move || {
        let ids = selection.with_untracked(|s| {
            filtered.with_untracked(|f| s.in_order(f.iter().map(|x| x.id.as_str())))
        });
        statuses.refresh(&ids);
        dialog_open.set(true);
    };
    let confirm = Callback::new(
        move |(confirmed, override_ids): (Vec<Confirmed>, BTreeSet<String>)| {
            let n = confirmed.len();
            let label = format!("Delete {n} snapshot{}", if n == 1 { "" } else { "s" });
            let run = BulkRun::new(confirmed).with_rule(RunRule::Floor { override_ids });
            match bulk.start(label, run) {
                Ok(()) => {
                    dialog_open.set(false);
                    selection.update(Selection::clear);
                }
                Err(m) => toasts.push(Tone::Err, m),
            }
        },
    );

    let page_href = Callback::new(move |page: usize| {
        Page::Snapshots(SnapshotsQuery {
            page,
            ..query.get_untracked()
        })
        .href()
    });

    view! {
        <section class="sd-page">
            <div class="sd-pagehead">
                <h1 class="sd-h1">"Snapshots"</h1>
                <a
                    class="sd-btn sd-btn--ghost sd-btn--sm"
                    href=move || {
                        Page::Cleanup(CleanupQuery {
                            devbox: query.with(|q| q.devbox.clone()),
                            ..CleanupQuery::default()
                        })
                        .href()
                    }
                >
                    "Clean up by policy →"
                </a>
            </div>
            <Filters query=query devboxes=devbox_names go=go />
            <BulkPanel
                run=bulk.state()
                on_retry=move |_| bulk.retry_failed()
                on_cancel=move |_| bulk.cancel()
                on_dismiss=move |_| bulk.dismiss()
            />
            <SelectionBar
                selection=selection
                filtered=filtered
                running=Signal::derive(move || bulk.is_running())
                on_delete=Callback::new(move |_| open_dialog())
            />
            {move || match snapshots.get() {
                None => {
                    view! {
                        <SnapshotTable
                            rows=Signal::stored(Vec::new())
                            loading=true
                            selection=selection
                            filtered=filtered
                            statuses=statuses
                            devboxes=devbox_names
                            query=query
                        />
                    }
                        .into_any()
                }
                Some(Err(e)) => {
                    view! { <ErrorState error=e on_retry=move |_| snapshots.refetch() /> }.into_any()
                }
                Some(Ok(all)) if all.is_empty() && query.with(|q| q.devbox.is_none() && q.meta.is_empty() && q.blueprint.is_none()) => {
                    view! {
                        <EmptyState title="No snapshots yet — take one from a devbox page.">
                            <a class="sd-btn" href=Page::devboxes().href()>"Open devboxes"</a>
                        </EmptyState>
                    }
                        .into_any()
                }
                Some(Ok(_)) => {
                    view! {
                        <Show
                            when=move || filtered.with(|f| !f.is_empty())
                            fallback=move || {
                                view! {
                                    <EmptyState title="No snapshot matches these filters.">
                                        <a class="sd-btn sd-btn--ghost" href=Page::snapshots().href()>
                                            "Clear filters"
                                        </a>
                                    </EmptyState>
                                }
                            }
                        >
                            <SnapshotTable
                                rows=visible
                                loading=false
                                selection=selection
                                filtered=filtered
                                statuses=statuses
                                devboxes=devbox_names
                                query=query
                            />
                            <Pager
                                page=Signal::derive(move || query.with(|q| q.page))
                                per_page=PAGE_SIZE
                                total=Signal::derive(move || filtered.with(Vec::len))
                                href=page_href
                                noun="snapshots"
                            />
                        </Show>
                    }
                        .into_any()
                }
            }}
            <Show when=move || dialog_open.get()>
                <DeleteDialog
                    selection=selection
                    filtered=filtered
                    devboxes=devbox_names
                    statuses=statuses
                    on_confirm=confirm
                    on_close=Callback::new(move |_| dialog_open.set(false))
                />
            </Show>
        </section>
    }
}

/// Devbox, metadata and text filters; every change lands in the URL.
#[component]
fn Filters(
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

/// "3 selected · Select all 40 matching · Clear · Delete selected…".
#[component]
fn SelectionBar(
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
fn SnapshotTable(
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
                        {header("Name", SnapshotSort::Name, "")}
                        <th scope="col" class="sd-col-hide-xs">"ID"</th>
                        {header("Devbox", SnapshotSort::Devbox, "sd-col-hide-sm")}
                        {header("Created", SnapshotSort::Created, "")}
                        {header("Size", SnapshotSort::Size, "sd-num sd-col-hide-xs")}
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
fn SnapshotRow(
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
                    {match name {
                        Some(n) => view! { <span>{n}</span> }.into_any(),
                        None => view! { <span class="sd-muted">"(unnamed)"</span> }.into_any(),
                    }}
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
fn MetaChips(
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

/// The confirmation: what will be deleted, what will be skipped and why.
#[component]
fn DeleteDialog(
    /// The selection.
    selection: RwSignal<Selection>,
    /// Every row matching the filters (the selection's order).
    filtered: Memo<Vec<Snapshot>>,
    /// The devboxes (to name those started from a selected snapshot).
    devboxes: Memo<Vec<Devbox>>,
    /// Status cache.
    statuses: Statuses,
    /// Called with the confirmed list and the ids the person typed the override for.
    on_confirm: Callback<(Vec<Confirmed>, BTreeSet<String>)>,
    /// Called on cancel.
    on_close: Callback<()>,
) -> impl IntoView {
    // Fixed when the dialog opens; statuses fill in as they arrive.
    let chosen: Vec<Snapshot> = selection.with_untracked(|s| {
        filtered.with_untracked(|f| f.iter().filter(|x| s.contains(&x.id)).cloned().collect())
    });
    let chosen = StoredValue::new(chosen);
    // One verdict per chosen snapshot, sampled a few times a second rather than on
    // every status that arrives (with thousands selected, that would redraw thousands
    // of times).
    let verdicts = RwSignal::new(Vec::<Eligibility>::new());
    let sample = move || {
        let v: Vec<Eligibility> = untrack(|| {
            chosen.with_value(|c| {
                c.iter()
                    .map(|s| eligibility(s, statuses.get(&s.id).as_ref()))
                    .collect()
            })
        });
        if verdicts.with_untracked(|cur| *cur != v) {
            verdicts.set(v);
        }
    };
    sample();
    use_interval(250, sample);
    let pick = move |want: &dyn Fn(&Eligibility) -> bool| {
        verdicts.with(|v| {
            chosen.with_value(|c| {
                c.iter()
                    .zip(v)
                    .filter(|(_, e)| want(e))
                    .map(|(s, e)| (s.clone(), e.clone()))
                    .collect::<Vec<_>>()
            })
        })
    };
    let deletable = Memo::new(move |_| {
        pick(&|e| *e == Eligibility::Deletable)
            .into_iter()
            .map(|(s, _)| s)
            .collect::<Vec<_>>()
    });
    let checking =
        move || verdicts.with(|v| v.iter().filter(|e| **e == Eligibility::Checking).count());
    let skipped = Memo::new(move |_| {
        pick(&|e| matches!(e, Eligibility::Skip(_)))
            .into_iter()
            .filter_map(|(s, e)| match e {
                Eligibility::Skip(why) => Some((s, why)),
                _ => None,
            })
            .collect::<Vec<_>>()
    });
    // The deletable ones that are risky (the newest complete of their devbox as listed,
    // or the source of running devboxes), and why: deleting them needs the count typed;
    // otherwise the floor keeps the last complete one of a devbox at send time.
    let risky = Memo::new(move |_| {
        let listing = filtered.get_untracked();
        let boxes = devboxes.get();
        deletable.with(|d| {
            d.iter()
                .filter_map(|s| {
                    let risks = untrack(|| {
                        assess(
                            s,
                            Some(SnapshotStatus::Complete),
                            &listing,
                            |id| statuses.status(id),
                            &boxes,
                        )
                    });
                    (!risks.is_empty()).then(|| (s.clone(), risks))
                })
                .collect::<Vec<_>>()
        })
    });
    let typed = RwSignal::new(String::new());
    let overridden = move || {
        let k = risky.with(Vec::len);
        k > 0 && typed.with(|t| t.trim() == k.to_string())
    };
    let busy = Signal::derive(move || checking() > 0 || deletable.with(Vec::is_empty));
    let total_bytes =
        move || deletable.with(|d| d.iter().filter_map(|s| s.size_bytes).sum::<u64>());
    let n = chosen.with_value(Vec::len);
    let title = format!(
        "Delete {n} selected snapshot{}?",
        if n == 1 { "" } else { "s" }
    );
    let confirm_label = move || {
        let k = deletable.with(Vec::len);
        format!("Delete {k} snapshot{}", if k == 1 { "" } else { "s" })
    };
    let on_confirm_run = Callback::new(move |_| {
        let list = deletable.get_untracked();
        if list.is_empty() || checking() > 0 {
            return;
        }
        let override_ids: BTreeSet<String> = if untrack(overridden) {
            risky.with_untracked(|r| r.iter().map(|(s, _)| s.id.clone()).collect())
        } else {
            BTreeSet::new()
        };
        on_confirm.run((
            list.into_iter()
                .map(|s| Confirmed {
                    snapshot_id: s.id,
                    source_devbox_id: s.source_devbox_id,
                    name: s.name,
                    size_bytes: s.size_bytes,
                    status: Some(SnapshotStatus::Complete),
                })
                .collect(),
            override_ids,
        ));
    });
    view! {
        <Modal title=title on_close=on_close>
            <form
                class="sd-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    on_confirm_run.run(());
                }
            >
            <div class="sd-modal__body sd-confirm" data-testid="delete-dialog">
                <p>
                    {move || {
                        let k = deletable.with(Vec::len);
                        format!(
                            "{k} will be deleted ({}). Each is checked again just before it is deleted; this cannot be undone.",
                            bytes(total_bytes()),
                        )
                    }}
                </p>
                <ul class="sd-confirm__list" aria-label="Will be deleted">
                    <For
                        each=move || deletable.get().into_iter().take(LISTED_IN_DIALOG)
                        key=|s| s.id.clone()
                        children=|s| {
                            view! {
                                <li data-testid="confirm-delete" data-id=s.id.clone()>
                                    <span class="sd-tone-err"><Icon kind=IconKind::Trash /></span>
                                    <span class="sd-grow">{s.name.clone().unwrap_or_else(|| "(unnamed)".into())}</span>
                                    <code>{middle_truncate(&s.id)}</code>
                                    <span class="sd-mono sd-muted">{bytes_opt(s.size_bytes)}</span>
                                </li>
                            }
                        }
                    />
                </ul>
                <Show when=move || deletable.with(|d| d.len() > LISTED_IN_DIALOG)>
                    <p class="sd-muted">
                        {move || format!(
                            "… and {} more.",
                            deletable.with(Vec::len).saturating_sub(LISTED_IN_DIALOG),
                        )}
                    </p>
                </Show>
                <Show when=move || risky.with(|r| !r.is_empty())>
                    <RiskyList risky=risky typed=typed />
                </Show>
                <Show when=move || { checking() > 0 }>
                    <p class="sd-muted" role="status">
                        {move || format!("Checking the status of {}…", checking())}
                    </p>
                </Show>
                <Show when=move || skipped.with(|s| !s.is_empty())>
                    <p class="sd-confirm__skiphead">
                        {move || format!("{} will be skipped:", skipped.with(Vec::len))}
                    </p>
                    <ul class="sd-confirm__list sd-confirm__list--skip" aria-label="Will be skipped">
                        {move || {
                            skipped.get()
                                .into_iter()
                                .take(LISTED_IN_DIALOG)
                                .map(|(s, why)| {
                                    view! {
                                        <li data-testid="confirm-skip" data-id=s.id.clone()>
                                            <span class="sd-grow">{s.name.clone().unwrap_or_else(|| "(unnamed)".into())}</span>
                                            <span class="sd-muted">{why}</span>
                                        </li>
                                    }
                                })
                                .collect_view()
                        }}
                    </ul>
                </Show>
            </div>
            <div class="sd-modal__foot">
                <button type="button" class="sd-btn sd-btn--ghost" on:click=move |_| on_close.run(())>
                    "Cancel"
                </button>
                // Autofocus only if enabled at open: a disabled button cannot take focus,
                // and focus must land inside the dialog (the close button) for Esc and Tab.
                <button
                    type="submit"
                    class="sd-btn sd-btn--danger"
                    autofocus=!busy.get_untracked()
                    disabled=move || busy.get()
                >
                    {confirm_label}
                </button>
            </div>
            </form>
        </Modal>
    }
}

/// The risky ones of a bulk delete, each with its risks, and the typed override.
#[component]
fn RiskyList(
    /// The risky snapshots and their risks.
    risky: Memo<Vec<(Snapshot, Vec<Risk>)>>,
    /// What the person typed (the count of risky ones deletes them too).
    typed: RwSignal<String>,
) -> impl IntoView {
    let k = move || risky.with(Vec::len);
    view! {
        <p class="sd-confirm__skiphead">
            {move || format!("{} need a typed confirmation:", k())}
        </p>
        <ul class="sd-confirm__list sd-confirm__list--skip" aria-label="Risky" data-testid="confirm-risky-list">
            {move || {
                risky
                    .get()
                    .into_iter()
                    .take(LISTED_IN_DIALOG)
                    .map(|(s, risks)| {
                        let why = risks.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ");
                        view! {
                            <li data-testid="confirm-risky" data-id=s.id.clone()>
                                <span class="sd-grow">{s.name.clone().unwrap_or_else(|| "(unnamed)".into())}</span>
                                <span class="sd-warnline">{why}</span>
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ul>
        <div class="sd-field">
            <label for="sd-bulk-typed">
                {move || format!("Type {} to delete these too (otherwise the last complete snapshot of each devbox is kept)", k())}
            </label>
            <input
                id="sd-bulk-typed"
                class="sd-input"
                autocomplete="off"
                inputmode="numeric"
                data-testid="confirm-risky-typed"
                prop:value=move || typed.get()
                on:input=move |ev| typed.set(event_target_value(&ev))
            />
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use snapdeck_api::Metadata;

    fn snap(id: &str) -> Snapshot {
        Snapshot {
            id: id.into(),
            create_time_ms: 1,
            metadata: Metadata::new(),
            source_devbox_id: "dbx_1".into(),
            name: Some("nightly-1".into()),
            commit_message: Some("Warm the cache".into()),
            size_bytes: Some(1),
            source_blueprint_id: None,
        }
    }

    fn cached(status: SnapshotStatus) -> CachedStatus {
        CachedStatus {
            status,
            error_message: None,
            fetched_at_ms: 0,
        }
    }

    #[test]
    fn only_complete_unpinned_snapshots_are_deletable() {
        let s = snap("a");
        assert_eq!(
            eligibility(&s, Some(&cached(SnapshotStatus::Complete))),
            Eligibility::Deletable
        );
        assert_eq!(eligibility(&s, None), Eligibility::Checking);
        for st in [
            SnapshotStatus::InProgress,
            SnapshotStatus::Error,
            SnapshotStatus::Deleted,
        ] {
            assert!(matches!(
                eligibility(&s, Some(&cached(st))),
                Eligibility::Skip(_)
            ));
        }
        let mut pinned = snap("p");
        pinned.metadata.insert(PINNED_KEY.into(), "true".into());
        assert!(matches!(
            eligibility(&pinned, Some(&cached(SnapshotStatus::Complete))),
            Eligibility::Skip(_)
        ));
    }

    fn sized(
        id: &str,
        name: Option<&str>,
        devbox: &str,
        created: i64,
        size: Option<u64>,
    ) -> Snapshot {
        Snapshot {
            name: name.map(Into::into),
            source_devbox_id: devbox.into(),
            create_time_ms: created,
            size_bytes: size,
            ..snap(id)
        }
    }

    fn ids(list: &[Snapshot]) -> Vec<&str> {
        list.iter().map(|s| s.id.as_str()).collect()
    }

    fn sample() -> Vec<Snapshot> {
        vec![
            sized("snp_1", Some("nightly-2"), "dbx_b", 10, Some(300)),
            sized("snp_2", Some("Base"), "dbx_a", 20, None),
            sized("snp_3", None, "dbx_c", 20, Some(100)),
            sized("snp_4", Some("pre-deploy"), "dbx_a", 5, Some(300)),
        ]
    }

    #[test]
    fn the_default_order_is_newest_first_with_ties_broken_by_id() {
        let mut list = sample();
        sort_snapshots(&mut list, Sort::default(), &[]);
        assert_eq!(ids(&list), ["snp_3", "snp_2", "snp_1", "snp_4"]);
    }

    #[test]
    fn names_sort_ignoring_case_with_unnamed_ones_last() {
        let mut list = sample();
        sort_snapshots(&mut list, Sort::parse("name"), &[]);
        assert_eq!(ids(&list), ["snp_2", "snp_1", "snp_4", "snp_3"]);
    }

    #[test]
    fn sizes_sort_largest_first_and_equal_sizes_newest_first() {
        let mut list = sample();
        sort_snapshots(&mut list, Sort::parse("-size"), &[]);
        assert_eq!(ids(&list), ["snp_1", "snp_4", "snp_3", "snp_2"]);
        sort_snapshots(&mut list, Sort::parse("size"), &[]);
        assert_eq!(ids(&list), ["snp_2", "snp_3", "snp_1", "snp_4"]);
    }

    #[test]
    fn the_devbox_column_sorts_by_the_name_it_shows() {
        let named = |id: &str, name: &str| -> Devbox {
            serde_json::from_value(serde_json::json!({
                "id": id, "name": name, "status": "running", "create_time_ms": 0,
            }))
            .expect("a valid devbox")
        };
        // dbx_a is "zeta", dbx_b is "alpha", dbx_c has no name: its id stands in.
        let boxes = [
            named("dbx_a", "zeta"),
            named("dbx_b", "alpha"),
            named("dbx_c", ""),
        ];
        let mut list = sample();
        sort_snapshots(&mut list, Sort::parse("devbox"), &boxes);
        assert_eq!(ids(&list), ["snp_1", "snp_3", "snp_2", "snp_4"]);
    }

    #[test]
    fn text_filter_looks_at_name_id_and_message() {
        let s = snap("snp_abc");
        assert!(matches_text(&s, "NIGHTLY"));
        assert!(matches_text(&s, "abc"));
        assert!(matches_text(&s, "cache"));
        assert!(matches_text(&s, " "));
        assert!(!matches_text(&s, "zzz"));
    }
}
