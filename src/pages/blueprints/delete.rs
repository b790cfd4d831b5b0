//! Deleting a blueprint. The API refuses (400) while snapshots derive from it and names
//! them; the page then lists those snapshots, linked, so a person can decide what to
//! clean up first. Nothing is deleted on snapdeck's initiative.

use leptos::prelude::*;
use leptos::task::spawn_local;
use snapdeck_api::{Blueprint, Snapshot};

use crate::api::{api_message, use_api};
use crate::components::ConfirmDialog;
use crate::hooks::use_nav::use_nav;
use crate::hooks::use_refresh::use_refresh;
use crate::hooks::use_toasts::{Tone, use_toasts};
use crate::routes::{Page, SnapshotsQuery};

use super::family::SnapshotList;

/// Why a delete did not happen.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Refusal {
    /// The API's own words.
    pub message: String,
    /// The ids it named (or, when it named none, the family's snapshots).
    pub ids: Vec<String>,
}

/// The Delete button and its confirmation.
#[component]
pub(super) fn DeleteBlueprint(
    /// The blueprint.
    blueprint: Signal<Blueprint>,
    /// Set when the API refuses.
    refusal: RwSignal<Option<Refusal>>,
    /// The snapshots known to derive from it (a refusal that names none lists these).
    #[prop(into)]
    known: Signal<Vec<Snapshot>>,
) -> impl IntoView {
    let api = use_api();
    let nav = use_nav();
    let toasts = use_toasts();
    let version = use_refresh();
    let asking = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let confirm = move |_| {
        let b = blueprint.get_untracked();
        busy.set(true);
        spawn_local(async move {
            let r = api.delete_blueprint(&b.id).await;
            if busy.is_disposed() {
                return;
            }
            busy.set(false);
            asking.set(false);
            match r {
                Ok(()) => {
                    toasts.push(Tone::Ok, format!("Deleted blueprint “{}”.", b.name));
                    version.bump();
                    nav.go(&Page::blueprints());
                }
                Err(e) => {
                    let message = api_message(&e);
                    let mut ids = snapdeck_core::blueprints::dependents_in_message(&message);
                    if ids.is_empty() && e.status() == Some(400) {
                        ids = known.with_untracked(|k| k.iter().map(|s| s.id.clone()).collect());
                    }
                    refusal.set(Some(Refusal { message, ids }));
                }
            }
        });
    };
    view! {
        <button type="button" class="sd-btn sd-btn--danger" on:click=move |_| { refusal.set(None); asking.set(true) }>
            "Delete"
        </button>
        <Show when=move || asking.get()>
            <ConfirmDialog
                title=format!("Delete blueprint “{}”?", blueprint.get_untracked().name)
                confirm_label=Signal::derive(move || String::from(if busy.get() { "Deleting…" } else { "Delete blueprint" }))
                busy=busy
                on_confirm=confirm
                on_close=move |_| asking.set(false)
            >
                <p>
                    "Devboxes can no longer start from it. The API refuses while snapshots derive from it; snapdeck then lists them and deletes nothing."
                </p>
            </ConfirmDialog>
        </Show>
    }
}

/// The refusal: the API's words and the snapshots it named.
#[component]
pub(super) fn RefusalPanel(
    /// The refusal.
    refusal: Refusal,
    /// The blueprint's id.
    blueprint_id: String,
    /// The snapshots known to derive from it (for names and links).
    known: Vec<Snapshot>,
) -> impl IntoView {
    let named: Vec<Snapshot> = known
        .iter()
        .filter(|s| refusal.ids.contains(&s.id))
        .cloned()
        .collect();
    let unknown: Vec<String> = refusal
        .ids
        .iter()
        .filter(|id| !known.iter().any(|s| &s.id == *id))
        .cloned()
        .collect();
    let n = refusal.ids.len();
    let all = Page::Snapshots(SnapshotsQuery {
        blueprint: Some(blueprint_id),
        ..Default::default()
    })
    .href();
    view! {
        <div class="sd-callout sd-callout--err" role="alert" data-testid="delete-refused">
            <p>
                <strong>"Not deleted. "</strong>
                {if n > 0 {
                    format!("{n} snapshot{} still depend{} on this blueprint:", if n == 1 { "" } else { "s" }, if n == 1 { "s" } else { "" })
                } else {
                    "The API said:".into()
                }}
            </p>
            <SnapshotList snapshots=named />
            {(!unknown.is_empty()).then(|| view! {
                <ul class="sd-family__list">
                    {unknown.into_iter().map(|id| view! { <li class="sd-family__item sd-mono" data-id=id.clone()>{id.clone()}</li> }).collect_view()}
                </ul>
            })}
            <p class="sd-help">{format!("API: {}", refusal.message)}</p>
            <a class="sd-btn sd-btn--sm" href=all>"Open them in Snapshots to clean up"</a>
        </div>
    }
}
