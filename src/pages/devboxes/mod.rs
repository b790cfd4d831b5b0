//! `/devboxes`: the fleet at a glance. Status chips with counts, search (`/`), sortable
//! columns, paging, all in the URL; refreshes itself every 2 s while any devbox is
//! changing state.
//!
//! Rows can be selected (checkbox, `x`, `Shift+X` and shift-click ranges, as on
//! Snapshots); a selection can be snapshotted at once (`bulk`).
//!
//! The list endpoint filters by one status only and has no name search, and the chips
//! need counts for every status, so the page loads the whole list (paged through the
//! API) and filters, sorts and pages it here.

mod bulk;

use leptos::ev;
use leptos::prelude::*;
use snapdeck_api::{Devbox, DevboxStatus};
use wasm_bindgen::JsCast;

use crate::api::use_page_api;
use crate::components::shortcuts::typing_in_field;
use crate::components::sort_header::sort_header;
use crate::components::{
    Chip, Chips, EmptyState, ErrorState, IdCell, LoadPhase, NewDevboxDialog, Pager, RelTime,
    SkeletonRows, StatusBadge, use_new_devbox_key,
};
use crate::hooks::use_devboxes::use_devboxes;
use crate::hooks::use_interval::use_interval;
use crate::hooks::use_nav::{use_nav, use_route};
use crate::hooks::use_refresh::use_refresh;
use crate::hooks::use_title::use_title;
use crate::routes::{DevboxColumn, DevboxesQuery, PAGE_SIZE, Page};
use crate::selection::Selection;
use crate::services::limiter::limited;
use crate::tone::Tone;
use snapdeck_core::query::{self, devboxes::matches_search};

use bulk::DevboxSelectionBar;

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
                tone: Some(Tone::of_devbox(s)),
            });
        }
    }
    chips
}

/// The devbox list page.
#[component]
pub fn DevboxesPage() -> impl IntoView {
    let nav = use_nav();
    let query = use_route(|p| match p {
        Page::Devboxes(q) => Some(q.clone()),
        _ => None,
    });
    use_title(move || match query.with(|q| q.status) {
        Some(s) => format!("Devboxes ({s})"),
        None => "Devboxes".into(),
    });

    let devboxes = use_devboxes();

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

    let phase = Memo::new(move |_| devboxes.with(LoadPhase::of_list));
    let filtered = Memo::new(move |_| {
        let (status, text, sort) = query.with(|q| (q.status, q.q.clone(), q.sort));
        devboxes.with(|r| match r {
            Some(Ok(list)) => query::devboxes::query(list, status, &text, sort),
            _ => Vec::new(),
        })
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
        filtered.with(|f| query::page_of(f, page))
    });

    // Selection follows the list: devboxes that leave it (filters, shutdowns that drop
    // out of a status chip) are unselected.
    let selection = RwSignal::new(Selection::new());
    Effect::new(move |_| {
        filtered.with(|f| {
            selection.update(|s| s.retain_listed(f.iter().map(|x| x.id.as_str())));
        })
    });

    // `/` focuses the search box (unless typing somewhere already). Not in an embed:
    // the key belongs to the host page there.
    let search_ref = NodeRef::<leptos::html::Input>::new();
    let embedded = nav.is_embedded();
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

    // `n` or the button: New devbox (default image; the dialog offers the rest).
    let new_devbox = RwSignal::new(false);
    use_new_devbox_key(new_devbox);

    let on_search = {
        move |ev: ev::Event| {
            let text = event_target_value(&ev);
            let q = query.get_untracked();
            nav.replace(&Page::Devboxes(DevboxesQuery {
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
                <button
                    type="button"
                    class="sd-btn sd-btn--primary"
                    title="Start a devbox from a blueprint, a snapshot or the default image (n)"
                    on:click=move |_| new_devbox.set(true)
                >
                    "New devbox"
                </button>
            </div>
            <Show when=move || new_devbox.get()>
                <NewDevboxDialog on_close=move |_| new_devbox.set(false) />
            </Show>
            <Chips label="Filter by status" chips=chips />
            <DevboxSelectionBar selection=selection filtered=filtered />
            {move || match phase.get() {
                LoadPhase::Loading => {
                    view! { <DevboxTable rows=Signal::stored(Vec::new()) loading=true query=query selection=selection filtered=filtered /> }
                        .into_any()
                }
                LoadPhase::Failed(e) => {
                    view! { <ErrorState error=e on_retry=move |_| devboxes.refetch() /> }.into_any()
                }
                LoadPhase::Empty => {
                    view! {
                        <EmptyState title="No devboxes yet.">
                            <p>
                                "Start one with “New devbox” (n), or with the Runloop CLI ("
                                <code>"rli devbox create"</code>
                                ") or SDK; it will show up here."
                            </p>
                        </EmptyState>
                    }
                        .into_any()
                }
                LoadPhase::Ready => {
                    view! {
                        <Show
                            when=move || filtered.with(|f| !f.is_empty())
                            fallback=move || view! { <NoMatch query=query /> }
                        >
                            <DevboxTable rows=visible loading=false query=query selection=selection filtered=filtered />
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
    /// The selection.
    selection: RwSignal<Selection>,
    /// The whole filtered list (the order shift-click ranges follow).
    filtered: Memo<Vec<Devbox>>,
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
                        <th scope="col" class="sd-col-check">
                            <input
                                type="checkbox"
                                class="sd-checkbox"
                                aria-label="Select all on this page"
                                prop:checked=page_all
                                on:change=toggle_page
                            />
                        </th>
                        {header("Name", DevboxColumn::Name, "")}
                        <th scope="col" class="sd-col-hide-xs">"ID"</th>
                        {header("Status", DevboxColumn::Status, "")}
                        <th scope="col" class="sd-col-hide-sm">"Source"</th>
                        {header("Created", DevboxColumn::Created, "")}
                        <th scope="col" class="sd-num sd-col-hide-sm">"Snapshots"</th>
                    </tr>
                </thead>
                <tbody>
                    {loading.then(|| view! { <SkeletonRows cols=7 /> })}
                    // The sort is part of the key, so a re-sort re-creates rows instead
                    // of moving them (tachys' keyed diff can misplace moved rows when
                    // others enter or leave in the same update; see SnapshotTable).
                    <For
                        each=move || rows.get()
                        key=move |d| {
                            let sort = query.with_untracked(|q| q.sort);
                            (sort, d.id.clone(), d.status, d.name.clone())
                        }
                        children=move |d| view! { <DevboxRow devbox=d selection=selection filtered=filtered /> }
                    />
                </tbody>
            </table>
        </div>
    }
}

/// One devbox row; clicking anywhere but its checkbox opens the devbox.
#[component]
fn DevboxRow(
    /// The devbox.
    devbox: Devbox,
    /// The selection.
    selection: RwSignal<Selection>,
    /// The whole filtered list, for shift-click ranges.
    filtered: Memo<Vec<Devbox>>,
) -> impl IntoView {
    let id = StoredValue::new(devbox.id.clone());
    let checked = move || selection.with(|s| s.contains(&id.get_value()));
    let on_check = move |ev: ev::MouseEvent| {
        // The row's own click opens the devbox; a click on the box only selects.
        ev.stop_propagation();
        let id = id.get_value();
        filtered.with_untracked(|f| {
            let order: Vec<&str> = f.iter().map(|x| x.id.as_str()).collect();
            selection.update(|s| s.click(&id, ev.shift_key(), &order));
        });
        // The browser already flipped the box; make it agree with the selection.
        if let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        {
            input.set_checked(selection.with_untracked(|s| s.contains(&id)));
        }
    };
    let select_label = format!(
        "Select {}",
        devbox
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| devbox.id.clone())
    );
    let nav = use_nav();
    let href = Page::devbox(&devbox.id).href();
    let open = {
        let href = href.clone();
        move |_| nav.go_href(&href)
    };
    let name = devbox.name.clone().filter(|n| !n.is_empty());
    let status = devbox.status;
    view! {
        <tr
            class="sd-rowlink"
            data-testid="devbox-row"
            data-list-row="devbox"
            tabindex="-1"
            data-id=devbox.id.clone()
            data-status=status.as_str()
            aria-selected=move || checked().to_string()
            on:click=open
        >
            // A miss beside the small box selects nothing and opens nothing.
            <td class="sd-col-check" on:click=|e| e.stop_propagation()>
                <input
                    type="checkbox"
                    class="sd-checkbox"
                    aria-label=select_label
                    prop:checked=checked
                    on:click=on_check
                />
            </td>
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

/// Where a devbox came from: a snapshot (linked to its page) or a blueprint (linked to
/// its page).
#[component]
pub fn SourceCell(
    /// The devbox.
    devbox: Devbox,
) -> impl IntoView {
    let stop = |e: ev::MouseEvent| e.stop_propagation();
    if let Some(snap) = devbox.snapshot_id {
        let href = Page::snapshot(&snap).href();
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
        let href = Page::blueprint(&bp).href();
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
    let api = use_page_api();
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
