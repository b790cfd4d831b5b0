//! The metadata editor. The API replaces the whole map on update, and someone else
//! may have changed it since this page read it, so a save is read-merge-write-re-read:
//! what the person changed (snapdeck-core's `metadata_changes`) is merged onto a fresh
//! copy, written, and the snapshot read again to confirm the change holds.

use leptos::prelude::*;
use leptos::task::spawn_local;
use snapdeck_api::{Metadata, PINNED_KEY, Snapshot, SnapshotStatusView};
use snapdeck_core::edit::{changes_hold, merge_metadata, metadata_changes, snapshot_update};
use snapdeck_core::validate;

use super::load::view_of;
use crate::api::{Api, ApiError, api_message, use_api};
use crate::hooks::use_toasts::{Tone, use_toasts};
use crate::services::seen::{Seen, use_seen};

/// One editable row.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    key: RwSignal<String>,
    value: RwSignal<String>,
    n: usize,
}

/// The pairs (the pin key shown by the pin button, not here), and Edit.
#[component]
pub(super) fn MetadataEditor(
    /// The snapshot.
    snapshot: Signal<Snapshot>,
    /// Saved and re-read: the fresh copy.
    on_saved: Callback<Snapshot>,
) -> impl IntoView {
    let editing = RwSignal::new(false);
    let pairs = move || {
        snapshot.with(|s| {
            s.metadata
                .iter()
                .filter(|(k, _)| k.as_str() != PINNED_KEY)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Vec<_>>()
        })
    };
    view! {
        <Show
            when=move || editing.get()
            fallback=move || view! {
                <div class="sd-row sd-snap__meta" data-testid="snapshot-metadata">
                    {move || {
                        let p = pairs();
                        if p.is_empty() {
                            view! { <span class="sd-muted">"none"</span> }.into_any()
                        } else {
                            view! {
                                <ul class="sd-meta" aria-label="Metadata">
                                    {p.into_iter().map(|(k, v)| view! { <li class="sd-meta__chip"><span class="sd-meta__k">{k}</span>"="<span>{v}</span></li> }).collect_view()}
                                </ul>
                            }.into_any()
                        }
                    }}
                    <button type="button" class="sd-btn sd-btn--sm" on:click=move |_| editing.set(true)>"Edit"</button>
                </div>
            }
        >
            <EditForm snapshot=snapshot on_done=Callback::new(move |saved: Option<Snapshot>| {
                if let Some(s) = saved {
                    on_saved.run(s);
                }
                editing.set(false);
            }) />
        </Show>
    }
}

/// The form: rows of key/value, add/remove, Save (Enter) and Cancel (Esc).
#[component]
fn EditForm(
    /// The snapshot as the page last read it: the base the edit is a change of.
    snapshot: Signal<Snapshot>,
    /// Closed: with the fresh copy when saved.
    on_done: Callback<Option<Snapshot>>,
) -> impl IntoView {
    let api = use_api();
    let seen = use_seen();
    let toasts = use_toasts();
    let base = snapshot.get_untracked();
    let visible: Metadata = base
        .metadata
        .iter()
        .filter(|(k, _)| k.as_str() != PINNED_KEY)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let counter = StoredValue::new(0usize);
    let new_row = move |k: String, v: String| {
        counter.update_value(|c| *c += 1);
        Row {
            key: RwSignal::new(k),
            value: RwSignal::new(v),
            n: counter.get_value(),
        }
    };
    let rows = RwSignal::new(
        visible
            .iter()
            .map(|(k, v)| new_row(k.clone(), v.clone()))
            .collect::<Vec<_>>(),
    );
    if rows.with_untracked(Vec::is_empty) {
        rows.update(|r| r.push(new_row(String::new(), String::new())));
    }
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let pairs: Vec<(String, String)> = rows.with_untracked(|r| {
            r.iter()
                .map(|row| {
                    (
                        row.key.get_untracked().trim().to_owned(),
                        row.value.get_untracked(),
                    )
                })
                .filter(|(k, v)| !(k.is_empty() && v.trim().is_empty()))
                .collect()
        });
        let edited: Metadata =
            match validate::metadata_rows(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
                Ok(m) => m,
                Err(e) => {
                    error.set(Some(e.to_string()));
                    return;
                }
            };
        let (set, remove) = metadata_changes(&visible, &edited);
        if set.is_empty() && remove.is_empty() {
            on_done.run(None);
            return;
        }
        busy.set(true);
        error.set(None);
        let id = base.id.clone();
        spawn_local(async move {
            let r = save(api, seen, &id, &set, &remove).await;
            busy.set(false);
            match r {
                Ok(Saved { fresh, held }) => {
                    if held {
                        toasts.push(Tone::Ok, "Metadata saved (merged with the snapshot's current metadata, and read back).");
                    } else {
                        toasts.push(Tone::Err, "Saved, but reading it back shows other values: someone changed it at the same time. Check it below.");
                    }
                    on_done.run(fresh);
                }
                Err(e) => error.set(Some(format!("Not saved: {}", api_message(&e)))),
            }
        });
    };

    view! {
        <form class="sd-form sd-snap__editor" on:submit=submit
            on:keydown=move |ev| if ev.key() == "Escape" { on_done.run(None) }
            data-testid="metadata-editor">
            <For each=move || rows.get() key=|r| r.n children=move |row| {
                let n = row.n;
                view! {
                    <div class="sd-row sd-metarow">
                        <label class="sd-visually-hidden" for=format!("sd-mk-{n}")>"Key"</label>
                        <input id=format!("sd-mk-{n}") class="sd-input sd-mono" placeholder="key" autocomplete="off"
                            prop:value=move || row.key.get() on:input=move |e| row.key.set(event_target_value(&e)) />
                        <span aria-hidden="true">"="</span>
                        <label class="sd-visually-hidden" for=format!("sd-mv-{n}")>"Value"</label>
                        <input id=format!("sd-mv-{n}") class="sd-input" placeholder="value" autocomplete="off"
                            prop:value=move || row.value.get() on:input=move |e| row.value.set(event_target_value(&e)) />
                        <button type="button" class="sd-iconbtn" aria-label="Remove this pair"
                            on:click=move |_| rows.update(|r| r.retain(|x| x.n != n))>"×"</button>
                    </div>
                }
            } />
            <div class="sd-row">
                <button type="button" class="sd-btn sd-btn--ghost sd-btn--sm"
                    on:click=move |_| rows.update(|r| r.push(new_row(String::new(), String::new())))>"+ Add pair"</button>
                <span class="sd-help">"Only the pairs you change are written; others set meanwhile are kept."</span>
            </div>
            {move || error.get().map(|e| view! { <p class="sd-formerror" role="alert">{e}</p> })}
            <div class="sd-row">
                <button type="button" class="sd-btn sd-btn--ghost sd-btn--sm" on:click=move |_| on_done.run(None)>"Cancel"</button>
                <button type="submit" class="sd-btn sd-btn--primary sd-btn--sm" disabled=move || busy.get()>
                    {move || if busy.get() { "Saving…" } else { "Save metadata" }}
                </button>
            </div>
        </form>
    }
}

/// A save's result: the snapshot as read back, and whether it shows the change.
struct Saved {
    fresh: Option<Snapshot>,
    held: bool,
}

/// Read (fresh copy), merge the change onto it, write all fields, re-read to confirm.
async fn save(
    api: Api,
    seen: Seen,
    id: &str,
    set: &Metadata,
    remove: &[String],
) -> Result<Saved, ApiError> {
    let current = read(api, seen, id).await?;
    let merged = merge_metadata(&current.metadata, set, remove);
    let params = snapshot_update(&current, None, None, Some(merged));
    let written = api.update_snapshot(id, &params).await?;
    let fresh = read(api, seen, id).await.unwrap_or(written);
    let held = changes_hold(&fresh.metadata, set, remove);
    seen.remember(&fresh, None);
    Ok(Saved {
        fresh: Some(fresh),
        held,
    })
}

async fn read(api: Api, seen: Seen, id: &str) -> Result<Snapshot, ApiError> {
    let view: SnapshotStatusView = api.snapshot_status(id).await?;
    view_of(api, seen, id, &view)
        .await?
        .ok_or_else(|| ApiError::Api {
            status: 404,
            message: "The snapshot is no longer listed.".into(),
        })
}
