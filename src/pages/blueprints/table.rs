//! The blueprint table: name, id, build status, created, base, family sizes.

use std::collections::HashMap;

use leptos::prelude::*;
use snapdeck_api::Blueprint;

use crate::components::sort_header::sort_header;
use crate::components::{BlueprintBadge, IdCell, RelTime, SkeletonRows};
use crate::hooks::use_nav::use_nav;
use crate::routes::{BlueprintColumn, BlueprintsQuery, Page, SnapshotsQuery};

/// Family sizes per blueprint id (devboxes, snapshots); `None` while loading.
pub(super) type Counts = Memo<Option<HashMap<String, (usize, usize)>>>;

/// The table (or its skeleton).
#[component]
pub(super) fn BlueprintTable(
    /// Rows to show.
    #[prop(into)]
    rows: Signal<Vec<Blueprint>>,
    /// Show skeleton rows instead.
    loading: bool,
    /// Current filters and sort.
    query: Memo<BlueprintsQuery>,
    /// Family sizes.
    counts: Counts,
) -> impl IntoView {
    let sort = Signal::derive(move || query.with(|q| q.sort));
    let header = move |label, key, class| {
        sort_header(label, key, class, sort, move |sort| {
            query.with(|q| Page::Blueprints(BlueprintsQuery { sort, ..q.clone() }).href())
        })
    };
    view! {
        <div class="sd-tablewrap">
            <table class="sd-table" aria-busy=loading.then_some("true")>
                <thead>
                    <tr>
                        {header("Name", BlueprintColumn::Name, "")}
                        <th scope="col" class="sd-col-hide-xs">"ID"</th>
                        {header("Status", BlueprintColumn::Status, "")}
                        {header("Created", BlueprintColumn::Created, "sd-col-hide-xs")}
                        <th scope="col" class="sd-col-hide-sm">"Base"</th>
                        <th scope="col" class="sd-num sd-col-hide-sm">"Devboxes"</th>
                        <th scope="col" class="sd-num">"Snapshots"</th>
                    </tr>
                </thead>
                <tbody>
                    {loading.then(|| view! { <SkeletonRows cols=7 /> })}
                    <For
                        each=move || rows.get()
                        key=move |b| (query.with_untracked(|q| q.sort), b.id.clone(), b.status)
                        children=move |b| view! { <BlueprintRow blueprint=b counts=counts /> }
                    />
                </tbody>
            </table>
        </div>
    }
}

/// One row; a click anywhere opens the blueprint.
#[component]
fn BlueprintRow(blueprint: Blueprint, counts: Counts) -> impl IntoView {
    let nav = use_nav();
    let href = Page::blueprint(&blueprint.id).href();
    let open = {
        let href = href.clone();
        move |_| nav.go_href(&href)
    };
    let id = blueprint.id.clone();
    let count = move |pick: fn(&(usize, usize)) -> usize| {
        let id = id.clone();
        move || match counts.get() {
            None => {
                view! { <span class="sd-skeleton sd-skeleton--num" aria-label="loading"></span> }
                    .into_any()
            }
            Some(c) => {
                let n = c.get(&id).map(pick).unwrap_or(0);
                view! { <span class="sd-mono">{n}</span> }.into_any()
            }
        }
    };
    let snapshots_href = Page::Snapshots(SnapshotsQuery {
        blueprint: Some(blueprint.id.clone()),
        ..Default::default()
    })
    .href();
    let stop = |e: leptos::ev::MouseEvent| e.stop_propagation();
    view! {
        <tr class="sd-rowlink" data-testid="blueprint-row" data-id=blueprint.id.clone() data-status=blueprint.status.as_str() on:click=open>
            <td class="sd-cell-name">
                <a href=href on:click=stop>{blueprint.name.clone()}</a>
            </td>
            <td class="sd-col-hide-xs"><IdCell id=blueprint.id.clone() /></td>
            <td>
                <BlueprintBadge status=Signal::stored(blueprint.status) reason=Signal::stored(blueprint.failure_reason.clone()) />
            </td>
            <td class="sd-col-hide-xs"><RelTime ms=blueprint.create_time_ms /></td>
            <td class="sd-col-hide-sm">
                {match blueprint.base_blueprint_id.clone() {
                    Some(base) => view! {
                        <a class="sd-mono" href=Page::blueprint(&base).href() title=base.clone() on:click=stop>
                            {crate::fmt::middle_truncate(&base)}
                        </a>
                    }.into_any(),
                    None => view! { <span class="sd-muted">"—"</span> }.into_any(),
                }}
            </td>
            <td class="sd-num sd-col-hide-sm">{count(|c| c.0)}</td>
            <td class="sd-num">
                <a href=snapshots_href on:click=stop title="This blueprint's snapshots">{count(|c| c.1)}</a>
            </td>
        </tr>
    }
}
