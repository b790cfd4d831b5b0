//! "Take snapshot": name (prefilled `<devbox>-<yyyymmdd-hhmm>`), commit message,
//! metadata rows. Submitting closes the dialog at once; the operation runs in the tray
//! and the new node appears in the timeline in progress.

use leptos::prelude::*;
use snapdeck_api::{Devbox, SnapshotParams};
use snapdeck_core::validate;

use crate::components::modal::Modal;
use crate::fmt::stamp;
use crate::hooks::use_now::{now_ms, tz_offset_min};
use crate::hooks::use_toasts::use_toasts;
use crate::lineage::devbox_label;
use crate::services::ops::use_ops;

/// One key/value row of the metadata editor.
#[derive(Debug, Clone, Copy)]
pub struct MetaRow {
    id: u32,
    key: RwSignal<String>,
    value: RwSignal<String>,
}

impl MetaRow {
    /// An empty row.
    pub fn new(id: u32) -> Self {
        Self {
            id,
            key: RwSignal::new(String::new()),
            value: RwSignal::new(String::new()),
        }
    }
}

/// The rows as validated metadata (blank rows dropped), for a create body.
pub fn metadata_of(
    rows: RwSignal<Vec<MetaRow>>,
) -> Result<snapdeck_api::Metadata, snapdeck_core::ValidationError> {
    let pairs: Vec<(String, String)> = rows.with_untracked(|r| {
        r.iter()
            .map(|row| (row.key.get_untracked(), row.value.get_untracked()))
            .collect()
    });
    validate::metadata_rows(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// The default snapshot name for a devbox now.
pub fn default_snapshot_name(devbox: &Devbox, now_ms: i64, tz_offset_min: i64) -> String {
    format!("{}-{}", devbox_label(devbox), stamp(now_ms, tz_offset_min))
}

/// The snapshot dialog for `devbox`.
#[component]
pub fn SnapshotDialog(
    /// The devbox to snapshot.
    devbox: Devbox,
    /// Called when the dialog closes (after submit too).
    #[prop(into)]
    on_close: Callback<()>,
    /// Told the snapshot's operation once it started (for a next step that waits on it).
    #[prop(optional, into)]
    on_started: Option<Callback<u64>>,
    /// The title and the submit button ("Take snapshot" unless given).
    #[prop(optional)]
    title: Option<&'static str>,
    #[prop(optional)] submit_label: Option<&'static str>,
) -> impl IntoView {
    let ops = use_ops();
    let _toasts = use_toasts();
    let name = RwSignal::new(default_snapshot_name(&devbox, now_ms(), tz_offset_min()));
    let message = RwSignal::new(String::new());
    let rows = RwSignal::new(vec![MetaRow::new(0)]);
    let error = RwSignal::new(None::<String>);
    let devbox_id = devbox.id.clone();
    let label = devbox_label(&devbox);

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let parsed = (|| {
            let name = validate::name(&name.get_untracked())?;
            let commit = validate::commit_message(&message.get_untracked())?;
            let metadata = metadata_of(rows)?;
            Ok::<_, snapdeck_core::ValidationError>(SnapshotParams {
                name,
                commit_message: commit,
                metadata: (!metadata.is_empty()).then_some(metadata),
            })
        })();
        match parsed {
            Err(e) => error.set(Some(e.to_string())),
            Ok(params) => {
                // No "started" toast: the new node and the tray row say it.
                let op = ops.start_snapshot(devbox_id.clone(), label.clone(), params);
                if let Some(next) = on_started {
                    next.run(op);
                }
                on_close.run(());
            }
        }
    };

    view! {
        <Modal title=title.unwrap_or("Take snapshot").to_string() on_close=on_close>
            <form class="sd-form" on:submit=on_submit>
                <div class="sd-modal__body sd-form">
                    <div class="sd-field">
                        <label for="sd-snap-name">"Name"</label>
                        <input
                            id="sd-snap-name"
                            class="sd-input"
                            autofocus
                            autocomplete="off"
                            prop:value=move || name.get()
                            on:input=move |e| name.set(event_target_value(&e))
                        />
                    </div>
                    <div class="sd-field">
                        <label for="sd-snap-msg">"Commit message"</label>
                        <textarea
                            id="sd-snap-msg"
                            class="sd-textarea"
                            rows="2"
                            placeholder="What state is this? e.g. “deps bumped, tests green”"
                            prop:value=move || message.get()
                            on:input=move |e| message.set(event_target_value(&e))
                        ></textarea>
                    </div>
                    <MetadataRows rows=rows />
                    {move || error.get().map(|e| view! { <p class="sd-formerror" role="alert">{e}</p> })}
                </div>
                <div class="sd-modal__foot">
                    <span class="sd-help">"Enter to take it, Esc to cancel"</span>
                    <button type="button" class="sd-btn sd-btn--ghost" on:click=move |_| on_close.run(())>
                        "Cancel"
                    </button>
                    <button type="submit" class="sd-btn sd-btn--primary">{submit_label.unwrap_or("Take snapshot")}</button>
                </div>
            </form>
        </Modal>
    }
}

/// The metadata editor: key/value rows, each removable, and "+ Add metadata".
#[component]
pub fn MetadataRows(
    /// The rows being edited.
    rows: RwSignal<Vec<MetaRow>>,
) -> impl IntoView {
    let next_row =
        StoredValue::new(rows.with_untracked(|r| r.iter().map(|x| x.id + 1).max().unwrap_or(0)));
    let add_row = move |_| {
        let id = next_row.get_value();
        next_row.set_value(id + 1);
        rows.update(|r| r.push(MetaRow::new(id)));
    };
    view! {
        <fieldset class="sd-fieldset sd-fieldset--plain">
            <legend>"Metadata"</legend>
            <For
                each=move || rows.get()
                key=|r| r.id
                children=move |row| {
                    let id = row.id;
                    view! {
                        <div class="sd-metarow">
                            <input
                                class="sd-input sd-grow"
                                aria-label="Metadata key"
                                placeholder="key"
                                prop:value=move || row.key.get()
                                on:input=move |e| row.key.set(event_target_value(&e))
                            />
                            <input
                                class="sd-input sd-grow"
                                aria-label="Metadata value"
                                placeholder="value"
                                prop:value=move || row.value.get()
                                on:input=move |e| row.value.set(event_target_value(&e))
                            />
                            <button
                                type="button"
                                class="sd-iconbtn"
                                aria-label="Remove this metadata row"
                                on:click=move |_| rows.update(|r| r.retain(|x| x.id != id))
                            >
                                "×"
                            </button>
                        </div>
                    }
                }
            />
            <div>
                <button type="button" class="sd-btn sd-btn--ghost sd-btn--sm" on:click=add_row>
                    "+ Add metadata"
                </button>
            </div>
        </fieldset>
    }
}
