//! `/lineage?focus=&family=&blueprint=&days=`: the account's whole history as one
//! graph, with its filter (one blueprint, one node's family, a time window) in the URL.

use leptos::prelude::*;

use crate::api::use_page_api;
use crate::components::devbox_options;
use crate::components::lineage_graph::LineageGraph;
use crate::hooks::use_devboxes::use_devboxes;
use crate::hooks::use_nav::{use_nav, use_route};
use crate::hooks::use_refresh::use_refresh;
use crate::hooks::use_title::use_title;
use crate::routes::{LineageQuery, Page};

/// The time windows offered (days; 0 = any time).
const WINDOWS: [(u32, &str); 5] = [
    (0, "Any time"),
    (1, "Last 24 hours"),
    (7, "Last 7 days"),
    (30, "Last 30 days"),
    (90, "Last 90 days"),
];

/// `/lineage`.
#[component]
pub fn LineagePage() -> impl IntoView {
    use_title(|| "Lineage".into());
    let query = use_route(|p| match p {
        Page::Lineage(q) => Some(q.clone()),
        _ => None,
    });
    let nav = use_nav();
    let devboxes = use_devboxes();
    let api = use_page_api();
    let version = use_refresh();
    let blueprints = LocalResource::new(move || {
        let _ = (api.track(), version.track());
        async move { api.list_blueprints().await }
    });
    let set = move |f: &dyn Fn(&mut LineageQuery)| {
        let mut q = query.get_untracked();
        f(&mut q);
        nav.replace(&Page::Lineage(q));
    };
    let on_blueprint = move |ev: leptos::ev::Event| {
        let v = event_target_value(&ev);
        set(&|q| q.blueprint = (!v.is_empty()).then(|| v.clone()));
    };
    let on_family = move |ev: leptos::ev::Event| {
        let v = event_target_value(&ev);
        set(&|q| q.family = (!v.is_empty()).then(|| v.clone()));
    };
    let on_days = move |ev: leptos::ev::Event| {
        let v: u32 = event_target_value(&ev).parse().unwrap_or(0);
        set(&|q| q.days = (v > 0).then_some(v));
    };
    let blueprint_options = move || {
        let chosen = query.with(|q| q.blueprint.clone()).unwrap_or_default();
        let mut list = blueprints.get().and_then(Result::ok).unwrap_or_default();
        list.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        list.into_iter()
            .map(|b| {
                let sel = b.id == chosen;
                view! { <option value=b.id.clone() selected=sel>{format!("{} ({})", b.name, crate::fmt::middle_truncate(&b.id))}</option> }
            })
            .collect_view()
    };
    view! {
        <section class="sd-page sd-lineage" data-testid="lineage-page">
            <header class="sd-pagehead"><h1 class="sd-h1">"Lineage"</h1></header>
            <p class="sd-help">"Every blueprint, devbox and snapshot of the account, and what came from what. Click a node to open it; long lines of snapshots are folded (click to unfold)."</p>
            <div class="sd-filters" role="search" aria-label="Filter the graph">
                <div class="sd-filters__field">
                    <label for="sd-lg-blueprint" class="sd-filters__label">"Blueprint"</label>
                    <select id="sd-lg-blueprint" class="sd-select" data-testid="lineage-blueprint" on:change=on_blueprint>
                        <option value="" selected=move || query.with(|q| q.blueprint.is_none())>"Every blueprint"</option>
                        {blueprint_options}
                    </select>
                </div>
                <div class="sd-filters__field">
                    <label for="sd-lg-family" class="sd-filters__label">"Family of"</label>
                    <select id="sd-lg-family" class="sd-select" data-testid="lineage-family" on:change=on_family>
                        <option value="" selected=move || query.with(|q| q.family.is_none())>"Every devbox"</option>
                        {move || {
                            let chosen = query.with(|q| q.family.clone());
                            let mut opts = devbox_options(devboxes.list().get(), chosen.clone()).into_any();
                            // A family scoped on a snapshot or blueprint (from its page) keeps its own option.
                            let listed = chosen.as_ref().is_some_and(|c| devboxes.list().with(|l| l.iter().any(|d| &d.id == c)));
                            if let Some(c) = chosen.filter(|_| !listed) {
                                opts = view! { <option value=c.clone() selected=true>{crate::fmt::middle_truncate(&c)}</option> {opts} }.into_any();
                            }
                            opts
                        }}
                    </select>
                </div>
                <div class="sd-filters__field">
                    <label for="sd-lg-days" class="sd-filters__label">"Created"</label>
                    <select id="sd-lg-days" class="sd-select" data-testid="lineage-days" on:change=on_days>
                        {WINDOWS.iter().map(|&(d, label)| {
                            view! { <option value=d.to_string() selected=move || query.with(|q| q.days.unwrap_or(0) == d)>{label}</option> }
                        }).collect_view()}
                    </select>
                </div>
            </div>
            <LineageGraph query=query />
        </section>
    }
}
