//! `/snapshots`: every snapshot across devboxes, filterable by devbox, metadata
//! `key=value` and text, sortable by column (all in the URL), with multi-select and a
//! bulk delete that runs through snapdeck-core's bulk runner, and a breakdown of the
//! listed snapshots' stored bytes by devbox and by blueprint (`breakdown`).
//!
//! The whole filtered list is loaded with the API's pagination stream (1000 a page),
//! sorted and paged here, so "select all N matching" and shift-click ranges work across
//! pages and follow the order on screen; statuses are fetched only for the rows on
//! screen (and for the selection when the delete dialog opens), a few at a time.

mod breakdown;
mod delete_dialog;
mod filters;
mod table;

use std::collections::BTreeSet;

use leptos::prelude::*;
use snapdeck_api::{Devbox, Snapshot};
use snapdeck_core::{BulkRun, Confirmed, RunRule, query};

use crate::api::{SnapshotFilter, use_page_api};
use crate::components::bulk_panel::BulkPanel;
use crate::components::{DevboxesUnavailable, EmptyState, ErrorState, Pager};
use crate::hooks::use_devboxes::use_devboxes;
use crate::hooks::use_nav::{use_nav, use_route};
use crate::hooks::use_refresh::use_refresh;
use crate::hooks::use_statuses::{Statuses, use_visible_statuses};
use crate::hooks::use_toasts::{Tone, use_toasts};
use crate::routes::{CleanupQuery, PAGE_SIZE, Page, SnapshotsQuery};
use crate::selection::Selection;
use crate::services::bulk_runs::use_bulk_run;

use breakdown::StorageBreakdown;
use delete_dialog::DeleteDialog;
use filters::Filters;
use table::{SelectionBar, SnapshotTable};

/// The snapshot list page.
#[component]
pub fn SnapshotsPage() -> impl IntoView {
    let api = use_page_api();
    let version = use_refresh();
    let toasts = use_toasts();
    let nav = use_nav();
    let query = use_route(|p| match p {
        Page::Snapshots(q) => Some(q.clone()),
        _ => None,
    });
    let go = Callback::new(move |q: SnapshotsQuery| nav.replace(&Page::Snapshots(q)));

    let devboxes = use_devboxes();
    let devbox_names = devboxes.list();
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

    // The list as the table shows it: text-filtered and sorted, before paging. Every
    // selection rule (ranges, select all, the dialog's order) reads this same list.
    let filtered = Memo::new(move |_| {
        let (text, sort) = query.with(|q| (q.q.clone(), q.sort));
        snapshots.with(|r| match r {
            Some(Ok(list)) => devbox_names.with(|d| query::snapshots::query(list, &text, sort, d)),
            _ => Vec::new(),
        })
    });
    let visible = Memo::new(move |_| {
        let page = query.with(|q| q.page);
        filtered.with(|f| query::page_of(f, page))
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
                Err(busy) => toasts.push(Tone::Err, busy.to_string()),
            }
        },
    );

    view! {
        <section class="sd-page">
            <SnapshotsHead query=query />
            <DevboxesUnavailable />
            <Filters query=query devboxes=devbox_names go=go />
            <StorageBreakdown listed=snapshots filtered=filtered devboxes=devbox_names />
            <BulkPanel
                run=bulk.state()
                on_retry=move |_| bulk.retry_failed()
                on_cancel=move |_| bulk.cancel()
                on_dismiss=move |_| bulk.dismiss()
                hold_until=bulk.hold_until()
                on_undo=Callback::new(move |_| bulk.undo())
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
                        <Listed
                            visible=visible
                            filtered=filtered
                            selection=selection
                            statuses=statuses
                            devboxes=devbox_names
                            query=query
                        />
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

/// The title, and the way to a policy cleanup of the same scope.
#[component]
fn SnapshotsHead(
    /// The list's query.
    query: Memo<SnapshotsQuery>,
) -> impl IntoView {
    let cleanup = move || {
        Page::Cleanup(CleanupQuery {
            devbox: query.with(|q| q.devbox.clone()),
            blueprint: query.with(|q| q.blueprint.clone()),
            ..CleanupQuery::default()
        })
        .href()
    };
    view! {
        <div class="sd-pagehead">
            <h1 class="sd-h1">"Snapshots"</h1>
            <a class="sd-btn sd-btn--ghost sd-btn--sm" href=cleanup>
                "Clean up by policy →"
            </a>
        </div>
    }
}

/// The listed snapshots: a page of the table and the pager, or why nothing matches.
#[component]
fn Listed(
    /// The rows of the current page.
    visible: Memo<Vec<Snapshot>>,
    /// Every row matching the filters.
    filtered: Memo<Vec<Snapshot>>,
    /// The selection.
    selection: RwSignal<Selection>,
    /// Status cache.
    statuses: Statuses,
    /// Devboxes, for names.
    devboxes: Memo<Vec<Devbox>>,
    /// The list's query.
    query: Memo<SnapshotsQuery>,
) -> impl IntoView {
    let page_href = Callback::new(move |page: usize| {
        Page::Snapshots(SnapshotsQuery {
            page,
            ..query.get_untracked()
        })
        .href()
    });
    let no_match = move || {
        view! {
            <EmptyState title="No snapshot matches these filters.">
                <a class="sd-btn sd-btn--ghost" href=Page::snapshots().href()>
                    "Clear filters"
                </a>
            </EmptyState>
        }
    };
    view! {
        <Show when=move || filtered.with(|f| !f.is_empty()) fallback=no_match>
            <SnapshotTable
                rows=visible
                loading=false
                selection=selection
                filtered=filtered
                statuses=statuses
                devboxes=devboxes
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
}
