//! "Storage by devbox and blueprint": the listed snapshots' stored bytes grouped both
//! ways, largest first, each row linking to a Cleanup scoped to it. Every number is
//! snapdeck-core's (`storage::breakdown`); this only draws, from the list the page has
//! already loaded. Closed by default, and nothing is grouped until it is opened.
//!
//! Bars are one-line SVGs in the storage chart's accent (`.sd-storage__bar`); sizes are
//! binary units with the exact bytes in a tooltip and in each row's accessible
//! description.

use leptos::prelude::*;
use snapdeck_api::{Blueprint, Devbox, Snapshot};
use snapdeck_core::storage::{Breakdown, GroupBy, Origins, Share, breakdown};

use crate::api::{ApiError, use_page_api};
use crate::components::LoadPhase;
use crate::fmt::{bytes, bytes_exact, middle_truncate};
use crate::routes::Page;

/// Rows shown per group before "Show all".
const TOP: usize = 8;

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The breakdown of the listed snapshots.
#[component]
pub(super) fn StorageBreakdown(
    /// The page's listing: everything the API listed (the chains a blueprint is found
    /// through), or why not.
    listed: LocalResource<Result<Vec<Snapshot>, ApiError>>,
    /// The snapshots matching the filters: what is grouped.
    filtered: Memo<Vec<Snapshot>>,
    /// The devboxes: names, and their blueprint or source snapshot.
    devboxes: Memo<Vec<Devbox>>,
) -> impl IntoView {
    let api = use_page_api();
    let open = RwSignal::new(false);
    let phase = Memo::new(move |_| listed.with(|r| LoadPhase::of_list(r.as_ref())));
    let total = Memo::new(move |_| {
        filtered.with(|f| {
            let known = f.iter().filter_map(|s| s.size_bytes).sum::<u64>();
            (known, f.len())
        })
    });
    // Grouped only while open: a closed breakdown costs the page one sum.
    let group = move |by: GroupBy| {
        Memo::new(move |_| {
            if !open.get() {
                return Breakdown::default();
            }
            devboxes.with(|d| {
                listed.with(|r| {
                    let l = match r {
                        Some(Ok(l)) => l.as_slice(),
                        _ => &[],
                    };
                    filtered.with(|f| breakdown(f, by, &Origins::new(d, l)))
                })
            })
        })
    };
    let by_devbox = group(GroupBy::Devbox);
    let by_blueprint = group(GroupBy::Blueprint);
    // Blueprint names: one listing, once opened (ids stand in until then, or if it
    // fails).
    let blueprints = LocalResource::new(move || {
        let on = open.get();
        let _config = api.track();
        async move {
            if on {
                api.list_blueprints().await
            } else {
                Ok(Vec::new())
            }
        }
    });
    let blueprint_names = Memo::new(move |_| {
        blueprints.with(|r| match r {
            Some(Ok(l)) => l.clone(),
            _ => Vec::<Blueprint>::new(),
        })
    });

    let summary = move || match phase.get() {
        LoadPhase::Loading => "loading…".to_string(),
        LoadPhase::Failed(_) => "not available: the snapshot list did not load".to_string(),
        _ => {
            let (b, n) = total.get();
            format!("{} in {}", bytes(b), plural(n, "snapshot", "snapshots"))
        }
    };
    let body = move || match phase.get() {
        LoadPhase::Loading => view! {
            <p class="sd-muted" aria-busy="true">"Loading the snapshot list…"</p>
        }
        .into_any(),
        LoadPhase::Failed(e) => view! { <BreakdownError error=e /> }.into_any(),
        _ if filtered.with(Vec::is_empty) => view! {
            <p class="sd-muted" data-testid="breakdown-empty">
                "No snapshot is listed, so nothing is stored here. Take one from a devbox page."
            </p>
        }
        .into_any(),
        _ => view! {
            <UnknownNote breakdown=by_devbox />
            <div class="sd-breakdown__groups">
                <ShareList
                    title="By devbox"
                    by=GroupBy::Devbox
                    data=by_devbox
                    devboxes=devboxes
                    blueprints=blueprint_names
                />
                <ShareList
                    title="By blueprint"
                    by=GroupBy::Blueprint
                    data=by_blueprint
                    devboxes=devboxes
                    blueprints=blueprint_names
                />
            </div>
        }
        .into_any(),
    };

    view! {
        <details
            class="sd-breakdown"
            data-testid="storage-breakdown"
            data-total-bytes=move || total.get().0.to_string()
            on:toggle=move |ev| {
                use wasm_bindgen::JsCast;
                let now = ev
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                    .is_some_and(|d| d.has_attribute("open"));
                open.set(now);
            }
        >
            <summary class="sd-breakdown__summary">
                <span class="sd-breakdown__title">"Storage by devbox and blueprint"</span>
                <span class="sd-muted sd-mono" title=move || bytes_exact(total.get().0)>{summary}</span>
            </summary>
            <Show when=move || open.get()>{body}</Show>
        </details>
    }
}

/// Why the breakdown is missing (the table's own error above has the Retry).
#[component]
fn BreakdownError(
    /// What went wrong.
    error: ApiError,
) -> impl IntoView {
    view! {
        <p class="sd-muted" role="status" data-testid="breakdown-error">
            {format!(
                "The breakdown needs the snapshot list, which did not load ({}). Retry above.",
                crate::api::api_message(&error)
            )}
        </p>
    }
}

/// Says how many snapshots have no size (they are counted apart, not as 0 bytes).
#[component]
fn UnknownNote(
    /// Either breakdown (both count the same snapshots).
    breakdown: Memo<Breakdown>,
) -> impl IntoView {
    move || {
        let n = breakdown.with(|b| b.unknown);
        (n > 0).then(|| {
            view! {
                <p class="sd-help" data-testid="breakdown-unknown" data-count=n.to_string()>
                    {format!(
                        "{} no size yet (in progress or errored): counted apart, not in the bytes.",
                        if n == 1 { "1 snapshot has".to_string() } else { format!("{n} snapshots have") }
                    )}
                </p>
            }
        })
    }
}

/// One grouping: its rows, largest first, the first few unless "Show all".
#[component]
fn ShareList(
    /// The heading.
    title: &'static str,
    /// What the rows are.
    by: GroupBy,
    /// The rows.
    data: Memo<Breakdown>,
    /// For devbox names.
    devboxes: Memo<Vec<Devbox>>,
    /// For blueprint names.
    blueprints: Memo<Vec<Blueprint>>,
) -> impl IntoView {
    let all = RwSignal::new(false);
    let group = match by {
        GroupBy::Devbox => "devbox",
        GroupBy::Blueprint => "blueprint",
    };
    let heading_id = format!("sd-breakdown-{group}");
    let rows = move || {
        let shown = if all.get() { usize::MAX } else { TOP };
        data.with(|b| {
            b.rows
                .iter()
                .take(shown)
                .enumerate()
                .map(|(i, share)| {
                    let label = label_of(by, share, devboxes, blueprints);
                    view! {
                        <ShareRow share=share.clone() total=b.bytes by=by label=label desc_id=format!("sd-share-{group}-{i}") />
                    }
                })
                .collect_view()
        })
    };
    let more = move || data.with(|b| b.rows.len().saturating_sub(TOP));
    let (h_section, h_id) = (heading_id.clone(), heading_id.clone());
    view! {
        <section class="sd-breakdown__group" aria-labelledby=h_section>
            <h3 class="sd-breakdown__h" id=h_id>{title}</h3>
            <ol class="sd-breakdown__list" data-testid=format!("breakdown-{group}") aria-labelledby=heading_id>
                {rows}
            </ol>
            <Show when=move || { more() > 0 }>
                <button
                    type="button"
                    class="sd-btn sd-btn--ghost sd-btn--sm"
                    aria-expanded=move || all.get().to_string()
                    on:click=move |_| all.update(|a| *a = !*a)
                >
                    {move || if all.get() { "Show fewer".to_string() } else { format!("Show all ({} more)", more()) }}
                </button>
            </Show>
        </section>
    }
}

/// A row's name: the devbox's or blueprint's name, else its shortened id.
fn label_of(
    by: GroupBy,
    share: &Share,
    devboxes: Memo<Vec<Devbox>>,
    blueprints: Memo<Vec<Blueprint>>,
) -> String {
    let Some(id) = share.key.as_deref() else {
        return "No blueprint".into();
    };
    let named = match by {
        GroupBy::Devbox => {
            devboxes.with(|l| l.iter().find(|d| d.id == id).and_then(|d| d.name.clone()))
        }
        GroupBy::Blueprint => {
            blueprints.with(|l| l.iter().find(|b| b.id == id).map(|b| b.name.clone()))
        }
    };
    named
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| middle_truncate(id))
}

/// One row: name, size, bar, counts, and the scoped Cleanup.
#[component]
fn ShareRow(
    /// The row.
    share: Share,
    /// The grouping's total bytes.
    total: u64,
    /// What the row is.
    by: GroupBy,
    /// Its name.
    label: String,
    /// The id of its accessible description.
    desc_id: String,
) -> impl IntoView {
    let exact = bytes_exact(share.bytes);
    let description = share.describe(total);
    let width = format!("{:.2}", share.fraction(total) * 100.0);
    let (page, cleanup) = match (by, share.key.as_deref()) {
        (GroupBy::Devbox, Some(id)) => (Some(Page::devbox(id)), Some(Page::cleanup_of(id))),
        (GroupBy::Blueprint, Some(id)) => (
            Some(Page::blueprint(id)),
            Some(Page::cleanup_of_blueprint(id)),
        ),
        // No blueprint is no scope a cleanup can take.
        (_, None) => (None, None),
    };
    let mut counts = format!(
        "{} · {}",
        plural(share.snapshots, "snapshot", "snapshots"),
        share.percent(total)
    );
    if share.unknown > 0 {
        counts.push_str(&format!(" · {} of unknown size", share.unknown));
    }
    let name = match page {
        Some(p) => view! {
            <a class="sd-breakdown__name" href=p.href() title=share.key.clone() aria-describedby=desc_id.clone()>{label.clone()}</a>
        }
        .into_any(),
        None => view! {
            <span class="sd-breakdown__name sd-muted" aria-describedby=desc_id.clone()>{label.clone()}</span>
        }
        .into_any(),
    };
    let clean = cleanup.map(|c| {
        view! {
            <a
                class="sd-breakdown__clean"
                href=c.href()
                data-testid="breakdown-cleanup"
                aria-label=format!("Clean up {label}")
                aria-describedby=desc_id.clone()
            >
                "Clean up"
            </a>
        }
    });
    view! {
        <li
            class="sd-breakdown__row"
            data-testid="breakdown-row"
            data-key=share.key.clone().unwrap_or_default()
            data-bytes=share.bytes.to_string()
            data-snapshots=share.snapshots.to_string()
            data-unknown=share.unknown.to_string()
        >
            <div class="sd-breakdown__line">
                {name}
                <span class="sd-breakdown__size sd-mono" title=exact>{bytes(share.bytes)}</span>
            </div>
            <svg class="sd-breakdown__bar" viewBox="0 0 100 6" preserveAspectRatio="none" aria-hidden="true">
                <rect class="sd-breakdown__track" x="0" y="0" width="100" height="6" rx="1" />
                <rect class="sd-storage__bar" x="0" y="0" width=width height="6" rx="1" />
            </svg>
            <div class="sd-breakdown__line sd-breakdown__foot">
                <span class="sd-muted">{counts}</span>
                {clean}
            </div>
            <span class="sd-visually-hidden" id=desc_id>{description}</span>
        </li>
    }
}
