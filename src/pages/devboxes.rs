//! `/devboxes`: the fleet at a glance. Status chips with counts, search (`/`), sortable
//! columns, paging, all in the URL; refreshes itself every 2 s while any devbox is
//! changing state.
//!
//! The list endpoint filters by one status only and has no name search, and the chips
//! need counts for every status, so the page loads the whole list (paged through the
//! API) and filters, sorts and pages it here.

use leptos::ev;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_query_map;
use snapdeck_api::{Devbox, DevboxStatus};

use crate::api::use_api;
use crate::components::shortcuts::typing_in_field;
use crate::components::sort_header::{compare_names, sort_header};
use crate::components::status_badge::devbox_tone;
use crate::components::{
    Chip, Chips, EmptyState, ErrorState, IdCell, Pager, Phase, RelTime, SkeletonRows, StatusBadge,
};
use crate::embed::{use_navigate, use_replace_page};
use crate::hooks::limiter::limited;
use crate::hooks::use_interval::use_interval;
use crate::hooks::use_refresh::use_refresh;
use crate::hooks::use_title::use_title;
use crate::routes::{DevboxSort, DevboxesQuery, PAGE_SIZE, Page, SnapshotsQuery, Sort};

/// True when `d` matches the search text (name or id, case-insensitive).
pub fn matches_search(d: &Devbox, q: &str) -> bool {
    let q = q.trim().to_lowercase();
    q.is_empty()
        || d.id.to_lowercase().contains(&q)
        || d.name
            .as_deref()
            .is_some_and(|n| n.to_lowercase().contains(&q))
}

/// Sorts `list` by `sort`. Statuses sort in lifecycle order (the chips' order), not
/// alphabetically, so running boxes sit together between starting and stopping ones.
/// Ties go newest first, then by id, so polling never reshuffles equal rows.
pub fn sort_devboxes(list: &mut [Devbox], sort: Sort<DevboxSort>) {
    let stage = |s: DevboxStatus| DevboxStatus::ALL.iter().position(|&x| x == s);
    list.sort_by(|a, b| {
        let by_key = match sort.key {
            DevboxSort::Name => compare_names(a.name.as_deref(), b.name.as_deref()),
            // Unknown statuses (None) after every known one.
            DevboxSort::Status => match (stage(a.status), stage(b.status)) {
                (Some(x), Some(y)) => x.cmp(&y),
                (x, y) => y.is_some().cmp(&x.is_some()),
            },
            DevboxSort::Created => a.create_time_ms.cmp(&b.create_time_ms),
        };
        sort.directed(by_key).then_with(|| {
            b.create_time_ms
                .cmp(&a.create_time_ms)
                .then_with(|| b.id.cmp(&a.id))
        })
    });
}

/// The chips for a list: `all`, then every status present (and the selected one).
pub fn status_chips(list: &[Devbox], query: &DevboxesQuery) -> Vec<Chip> {
    let searched: Vec<&Devbox> = list
        .iter()
        .filter(|d| matches_search(d, &query.q))
        .collect();
    let href = |status: Option<DevboxStatus>| {
        Page::Devboxes(DevboxesQuery {
            status,
            page: 1,
            ..query.clone()
        })
        .href()
    };
    let mut chips = vec![Chip {
        label: "all".into(),
        count: searched.len(),
        href: href(None),
        active: query.status.is_none(),
        tone: None,
    }];
    for s in DevboxStatus::ALL {
        let count = searched.iter().filter(|d| d.status == s).count();
        if count > 0 || query.status == Some(s) {
            chips.push(Chip {
                label: s.as_str().into(),
                count,
                href: href(Some(s)),
                active: query.status == Some(s),
                tone: Some(devbox_tone(s)),
            });
        }
    }
    chips
}

/// The devbox list page.
#[component]
pub fn DevboxesPage() -> impl IntoView {
    let api = use_api();
    let query_map = use_query_map();
    let query = Memo::new(move |_| query_map.with(DevboxesQuery::from_params));
    let replace = use_replace_page();
    use_title(move || match query.with(|q| q.status) {
        Some(s) => format!("Devboxes ({s})"),
        None => "Devboxes".into(),
    });

    let devboxes = LocalResource::new(move || {
        let _config = api.track();
        async move { api.list_devboxes().await }
    });

    // Poll quickly while something moves, slowly otherwise.
    let ticks = StoredValue::new(0u32);
    use_interval(2000, move || {
        let moving = devboxes.with_untracked(|r| {
            matches!(r, Some(Ok(list)) if list.iter().any(|d: &Devbox| d.status.is_transitional()))
        });
        ticks.update_value(|t| *t += 1);
        if moving || ticks.get_value().is_multiple_of(15) {
            devboxes.refetch();
        }
    });

    let phase = Memo::new(move |_| devboxes.with(|r| Phase::of_list(r.as_ref())));
    let filtered = Memo::new(move |_| {
        let (status, text, sort) = query.with(|q| (q.status, q.q.clone(), q.sort));
        let mut list = devboxes.with(|r| match r {
            Some(Ok(list)) => list
                .iter()
                .filter(|d| status.is_none_or(|s| d.status == s) && matches_search(d, &text))
                .cloned()
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        });
        sort_devboxes(&mut list, sort);
        list
    });
    let chips = Signal::derive(move || {
        let q = query.get();
        devboxes.with(|r| match r {
            Some(Ok(list)) => status_chips(list, &q),
            _ => Vec::new(),
        })
    });
    let visible = Memo::new(move |_| {
        let page = query.with(|q| q.page);
        filtered.with(|f| {
            let start = (page - 1) * PAGE_SIZE;
            f.iter()
                .skip(start)
                .take(PAGE_SIZE)
                .cloned()
                .collect::<Vec<_>>()
        })
    });

    // `/` focuses the search box (unless typing somewhere already). Not in an embed:
    // the key belongs to the host page there.
    let search_ref = NodeRef::<leptos::html::Input>::new();
    let embedded = crate::embed::is_embedded();
    let handle = window_event_listener(ev::keydown, move |e| {
        if e.key() == "/"
            && !embedded
            && !typing_in_field(&e)
            && let Some(input) = search_ref.get()
        {
            e.prevent_default();
            let _ = input.focus();
        }
    });
    on_cleanup(move || handle.remove());

    let on_search = {
        move |ev: ev::Event| {
            let text = event_target_value(&ev);
            let q = query.get_untracked();
            replace.run(Page::Devboxes(DevboxesQuery {
                q: text,
                page: 1,
                ..q
            }));
        }
    };
    let page_href = Callback::new(move |page: usize| {
        Page::Devboxes(DevboxesQuery {
            page,
            ..query.get_untracked()
        })
        .href()
    });

    view! {
        <section class="sd-page">
            <div class="sd-pagehead">
                <h1 class="sd-h1">"Devboxes"</h1>
                <div class="sd-search">
                    <label class="sd-visually-hidden" for="sd-devbox-search">
                        "Search devboxes by name or id"
                    </label>
                    <input
                        id="sd-devbox-search"
                        class="sd-input sd-search__input"
                        type="search"
                        placeholder="Search name or id"
                        autocomplete="off"
                        node_ref=search_ref
                        prop:value=move || query.with(|q| q.q.clone())
                        on:input=on_search
                    />
                    <kbd class="sd-kbd sd-search__hint" aria-hidden="true">"/"</kbd>
                </div>
            </div>
            <Chips label="Filter by status" chips=chips />
            {move || match phase.get() {
                Phase::Loading => {
                    view! { <DevboxTable rows=Signal::stored(Vec::new()) loading=true query=query /> }
                        .into_any()
                }
                Phase::Failed(e) => {
                    view! { <ErrorState error=e on_retry=move |_| devboxes.refetch() /> }.into_any()
                }
                Phase::Empty => {
                    view! {
                        <EmptyState title="No devboxes yet.">
                            <p>
                                "Create one with the Runloop CLI ("
                                <code>"rli devbox create"</code>
                                ") or SDK; it will show up here."
                            </p>
                        </EmptyState>
                    }
                        .into_any()
                }
                Phase::Ready => {
                    view! {
                        <Show
                            when=move || filtered.with(|f| !f.is_empty())
                            fallback=move || view! { <NoMatch query=query /> }
                        >
                            <DevboxTable rows=visible loading=false query=query />
                            <Pager
                                page=Signal::derive(move || query.with(|q| q.page))
                                per_page=PAGE_SIZE
                                total=Signal::derive(move || filtered.with(Vec::len))
                                href=page_href
                                noun="devboxes"
                            />
                        </Show>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

/// The empty state when filters hide everything.
#[component]
fn NoMatch(
    /// Current filters.
    query: Memo<DevboxesQuery>,
) -> impl IntoView {
    let q = query.get_untracked();
    let title = match (&q.status, q.q.trim()) {
        (Some(s), "") => format!("No {s} devboxes."),
        (None, text) => format!("No devbox matches “{text}”."),
        (Some(s), text) => format!("No {s} devbox matches “{text}”."),
    };
    // Filters off, order kept.
    let show_all = Page::Devboxes(DevboxesQuery {
        sort: q.sort,
        page: 1,
        ..Default::default()
    })
    .href();
    view! {
        <EmptyState title=title>
            <a class="sd-btn sd-btn--ghost" href=show_all>
                "Show all devboxes"
            </a>
        </EmptyState>
    }
}

/// The devbox table (or its skeleton).
#[component]
fn DevboxTable(
    /// Rows on this page.
    #[prop(into)]
    rows: Signal<Vec<Devbox>>,
    /// Show skeleton rows instead.
    loading: bool,
    /// Current filters and sort (the headers link to re-sorted lists).
    query: Memo<DevboxesQuery>,
) -> impl IntoView {
    let sort = Signal::derive(move || query.with(|q| q.sort));
    let header = move |label, key, class| {
        sort_header(label, key, class, sort, move |sort| {
            query.with(|q| {
                Page::Devboxes(DevboxesQuery {
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
            <table class="sd-table" aria-busy=loading.then_some("true")>
                <thead>
                    <tr>
                        {header("Name", DevboxSort::Name, "")}
                        <th scope="col" class="sd-col-hide-xs">"ID"</th>
                        {header("Status", DevboxSort::Status, "")}
                        <th scope="col" class="sd-col-hide-sm">"Source"</th>
                        {header("Created", DevboxSort::Created, "")}
                        <th scope="col" class="sd-num sd-col-hide-sm">"Snapshots"</th>
                    </tr>
                </thead>
                <tbody>
                    {loading.then(|| view! { <SkeletonRows cols=6 /> })}
                    // The sort is part of the key, so a re-sort re-creates rows instead
                    // of moving them (tachys' keyed diff can misplace moved rows when
                    // others enter or leave in the same update; see SnapshotTable).
                    <For
                        each=move || rows.get()
                        key=move |d| {
                            let sort = query.with_untracked(|q| q.sort);
                            (sort, d.id.clone(), d.status, d.name.clone())
                        }
                        children=|d| view! { <DevboxRow devbox=d /> }
                    />
                </tbody>
            </table>
        </div>
    }
}

/// One devbox row; clicking anywhere opens the devbox.
#[component]
fn DevboxRow(
    /// The devbox.
    devbox: Devbox,
) -> impl IntoView {
    let navigate = use_navigate();
    let href = Page::devbox(&devbox.id).href();
    let open = {
        let href = href.clone();
        move |_| navigate(&href, NavigateOptions::default())
    };
    let name = devbox.name.clone().filter(|n| !n.is_empty());
    let status = devbox.status;
    view! {
        <tr
            class="sd-rowlink"
            data-testid="devbox-row"
            data-id=devbox.id.clone()
            data-status=status.as_str()
            on:click=open
        >
            <td class="sd-cell-name">
                <a href=href on:click=|e| e.stop_propagation()>
                    {match name {
                        Some(n) => view! { <span>{n}</span> }.into_any(),
                        None => view! { <span class="sd-muted">"(unnamed)"</span> }.into_any(),
                    }}
                </a>
            </td>
            <td class="sd-col-hide-xs">
                <IdCell id=devbox.id.clone() />
            </td>
            <td>
                <StatusBadge status=Signal::stored(status) />
            </td>
            <td class="sd-col-hide-sm">
                <SourceCell devbox=devbox.clone() />
            </td>
            <td>
                <RelTime ms=devbox.create_time_ms />
            </td>
            <td class="sd-num sd-col-hide-sm">
                <SnapshotCount devbox_id=devbox.id.clone() />
            </td>
        </tr>
    }
}

/// Where a devbox came from: a snapshot or a blueprint, linked to its snapshots.
#[component]
pub fn SourceCell(
    /// The devbox.
    devbox: Devbox,
) -> impl IntoView {
    let stop = |e: ev::MouseEvent| e.stop_propagation();
    if let Some(snap) = devbox.snapshot_id {
        let href = Page::Snapshots(SnapshotsQuery {
            q: snap.clone(),
            page: 1,
            ..Default::default()
        })
        .href();
        view! {
            <span class="sd-source">
                <span class="sd-source__kind">"snapshot"</span>
                <a class="sd-mono" href=href title=snap.clone() on:click=stop>
                    {crate::fmt::middle_truncate(&snap)}
                </a>
            </span>
        }
        .into_any()
    } else if let Some(bp) = devbox.blueprint_id {
        let href = Page::Snapshots(SnapshotsQuery {
            blueprint: Some(bp.clone()),
            page: 1,
            ..Default::default()
        })
        .href();
        view! {
            <span class="sd-source">
                <span class="sd-source__kind">"blueprint"</span>
                <a class="sd-mono" href=href title=bp.clone() on:click=stop>
                    {crate::fmt::middle_truncate(&bp)}
                </a>
            </span>
        }
        .into_any()
    } else {
        view! { <span class="sd-muted">"default image"</span> }.into_any()
    }
}

/// The number of snapshots of a devbox, fetched for visible rows only.
#[component]
fn SnapshotCount(
    /// The devbox.
    devbox_id: String,
) -> impl IntoView {
    let api = use_api();
    let version = use_refresh();
    let id = StoredValue::new(devbox_id);
    let count = LocalResource::new(move || {
        let _ = version.track();
        let id = id.get_value();
        async move { limited(api.count_snapshots(&id)).await }
    });
    move || match count.get() {
        None => view! { <span class="sd-skeleton sd-skeleton--num" aria-label="loading"></span> }
            .into_any(),
        Some(Ok(n)) => view! { <span class="sd-mono">{n}</span> }.into_any(),
        Some(Err(_)) => {
            view! { <span class="sd-muted" title="Could not count">"–"</span> }.into_any()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn devbox(id: &str, name: Option<&str>, status: &str, created: i64) -> Devbox {
        let json = serde_json::json!({
            "id": id, "name": name, "status": status, "create_time_ms": created,
        });
        serde_json::from_value(json).expect("a valid devbox")
    }

    fn ids(list: &[Devbox]) -> Vec<&str> {
        list.iter().map(|d| d.id.as_str()).collect()
    }

    fn fleet() -> Vec<Devbox> {
        vec![
            devbox("dbx_a", Some("web"), "running", 10),
            devbox("dbx_b", Some("Api"), "suspended", 30),
            devbox("dbx_c", None, "provisioning", 20),
            devbox("dbx_d", Some("batch"), "running", 30),
        ]
    }

    #[test]
    fn the_default_order_is_newest_first_with_ties_broken_by_id() {
        let mut list = fleet();
        sort_devboxes(&mut list, Sort::default());
        assert_eq!(ids(&list), ["dbx_d", "dbx_b", "dbx_c", "dbx_a"]);
        sort_devboxes(&mut list, Sort::parse("created"));
        assert_eq!(ids(&list), ["dbx_a", "dbx_c", "dbx_d", "dbx_b"]);
    }

    #[test]
    fn names_sort_ignoring_case_with_unnamed_boxes_last() {
        let mut list = fleet();
        sort_devboxes(&mut list, Sort::parse("name"));
        assert_eq!(ids(&list), ["dbx_b", "dbx_d", "dbx_a", "dbx_c"]);
        sort_devboxes(&mut list, Sort::parse("-name"));
        assert_eq!(ids(&list), ["dbx_c", "dbx_a", "dbx_d", "dbx_b"]);
    }

    #[test]
    fn statuses_sort_in_lifecycle_order_and_equal_ones_newest_first() {
        let mut list = fleet();
        sort_devboxes(&mut list, Sort::parse("status"));
        assert_eq!(ids(&list), ["dbx_c", "dbx_d", "dbx_a", "dbx_b"]);
        sort_devboxes(&mut list, Sort::parse("-status"));
        assert_eq!(ids(&list), ["dbx_b", "dbx_d", "dbx_a", "dbx_c"]);
    }
}
