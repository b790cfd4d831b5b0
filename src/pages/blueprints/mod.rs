//! `/blueprints?status=&q=&sort=`: every blueprint with its build phase, base and family
//! size; status chips and name search in the URL; refreshes every 2 s while a build
//! runs. `/blueprints/:id` is [`BlueprintPage`].
//!
//! The list endpoint filters by one status and an exact name only, and the chips need
//! counts for every status, so the page loads the whole list and filters it here with
//! snapdeck-core's rules. Family sizes come from the shared devbox list and one listing
//! of every snapshot.

mod create_dialog;
mod delete;
mod detail;
mod family;
mod table;

use leptos::prelude::*;
use snapdeck_api::{Blueprint, BlueprintStatus};
use snapdeck_core::query;

use self::create_dialog::CreateBlueprintDialog;
pub use self::detail::BlueprintPage;
use self::table::BlueprintTable;

use crate::api::{SnapshotFilter, use_page_api};
use crate::components::{Chip, Chips, EmptyState, ErrorState, LoadPhase};
use crate::hooks::use_devboxes::use_devboxes;
use crate::hooks::use_interval::use_interval;
use crate::hooks::use_nav::{use_nav, use_route};
use crate::hooks::use_refresh::use_refresh;
use crate::hooks::use_title::use_title;
use crate::routes::{BlueprintsQuery, Page};
use crate::tone::Tone;

/// The chips: `all`, then each status present (and the selected one), with counts.
fn status_chips(list: &[Blueprint], q: &BlueprintsQuery) -> Vec<Chip> {
    let href = |status: Option<BlueprintStatus>| {
        Page::Blueprints(BlueprintsQuery {
            status,
            ..q.clone()
        })
        .href()
    };
    let counts = query::blueprints::status_counts(list, &q.q, q.status);
    let all = list
        .iter()
        .filter(|b| query::blueprints::matches_search(b, &q.q))
        .count();
    std::iter::once(Chip {
        label: "all".into(),
        count: all,
        href: href(None),
        active: q.status.is_none(),
        tone: None,
    })
    .chain(counts.into_iter().map(|(s, count)| Chip {
        label: s.as_str().into(),
        count,
        href: href(Some(s)),
        active: q.status == Some(s),
        tone: Some(Tone::of_blueprint(s)),
    }))
    .collect()
}

/// The blueprint list page.
#[component]
pub fn BlueprintsPage() -> impl IntoView {
    let nav = use_nav();
    let query = use_route(|p| match p {
        Page::Blueprints(q) => Some(q.clone()),
        _ => None,
    });
    use_title(|| "Blueprints".into());
    let api = use_page_api();
    let version = use_refresh();
    let blueprints = LocalResource::new(move || {
        let _ = (api.track(), version.track());
        async move { api.list_blueprints().await }
    });
    let snapshots = LocalResource::new(move || {
        let _ = (api.track(), version.track());
        async move { api.list_snapshots(&SnapshotFilter::default()).await }
    });
    let devboxes = use_devboxes();
    use_interval(2000, move || {
        let building = blueprints.with_untracked(
            |r| matches!(r, Some(Ok(l)) if l.iter().any(|b: &Blueprint| b.status.is_building())),
        );
        if building {
            blueprints.refetch();
        }
    });

    let phase = Memo::new(move |_| blueprints.with(|r| LoadPhase::of_list(r.as_ref())));
    let rows = Memo::new(move |_| {
        let (status, text, sort) = query.with(|q| (q.status, q.q.clone(), q.sort));
        blueprints.with(|r| match r {
            Some(Ok(list)) => query::blueprints::query(list, status, &text, sort),
            _ => Vec::new(),
        })
    });
    let chips = Signal::derive(move || {
        let q = query.get();
        blueprints.with(|r| match r {
            Some(Ok(list)) => status_chips(list, &q),
            _ => Vec::new(),
        })
    });
    // `None` until both listings are in: the cells show a placeholder, not a zero.
    let counts = Memo::new(move |_| {
        let snaps = snapshots.with(|r| r.as_ref().and_then(|r| r.as_ref().ok()).cloned())?;
        devboxes
            .known()
            .then(|| snapdeck_core::blueprints::family_counts(&devboxes.list().get(), &snaps))
    });
    let creating = RwSignal::new(false);

    let on_search = move |ev: leptos::ev::Event| {
        let q = query.get_untracked();
        nav.replace(&Page::Blueprints(BlueprintsQuery {
            q: event_target_value(&ev),
            ..q
        }));
    };

    view! {
        <section class="sd-page">
            <div class="sd-pagehead">
                <h1 class="sd-h1">"Blueprints"</h1>
                <div class="sd-search">
                    <label class="sd-visually-hidden" for="sd-blueprint-search">"Search blueprints by name or id"</label>
                    <input
                        id="sd-blueprint-search"
                        class="sd-input sd-search__input"
                        type="search"
                        placeholder="Search name or id"
                        autocomplete="off"
                        prop:value=move || query.with(|q| q.q.clone())
                        on:input=on_search
                    />
                </div>
                <button type="button" class="sd-btn sd-btn--primary" on:click=move |_| creating.set(true)>
                    "New blueprint"
                </button>
            </div>
            <p class="sd-help sd-pagehint">
                "A blueprint caches the set-up steps every devbox needs (Docker layers), so devboxes built from it boot fast. To continue from where one devbox was, take a snapshot instead."
            </p>
            <Chips label="Filter by status" chips=chips />
            {move || match phase.get() {
                LoadPhase::Loading => view! { <BlueprintTable rows=Signal::stored(Vec::new()) loading=true query=query counts=counts /> }.into_any(),
                LoadPhase::Failed(e) => view! { <ErrorState error=e on_retry=move |_| blueprints.refetch() /> }.into_any(),
                LoadPhase::Empty => view! {
                    <EmptyState title="No blueprints yet.">
                        <p>"Create one with “New blueprint”: a Dockerfile or setup commands, built once and reused by every devbox you start from it."</p>
                    </EmptyState>
                }.into_any(),
                LoadPhase::Ready => view! {
                    <Show when=move || rows.with(|r| !r.is_empty()) fallback=move || view! { <NoMatch query=query /> }>
                        <BlueprintTable rows=rows loading=false query=query counts=counts />
                    </Show>
                }.into_any(),
            }}
            <Show when=move || creating.get()>
                <CreateBlueprintDialog on_close=move |_| creating.set(false) />
            </Show>
        </section>
    }
}

/// The empty state when the filters hide everything.
#[component]
fn NoMatch(
    /// Current filters.
    query: Memo<BlueprintsQuery>,
) -> impl IntoView {
    let q = query.get_untracked();
    let title = match (q.status, q.q.trim()) {
        (Some(s), "") => format!("No {s} blueprints."),
        (None, text) => format!("No blueprint matches “{text}”."),
        (Some(s), text) => format!("No {s} blueprint matches “{text}”."),
    };
    let all = Page::Blueprints(BlueprintsQuery {
        sort: q.sort,
        ..Default::default()
    })
    .href();
    view! {
        <EmptyState title=title>
            <a class="sd-btn sd-btn--ghost" href=all>"Show all blueprints"</a>
        </EmptyState>
    }
}
