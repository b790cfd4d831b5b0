//! The bulk delete's confirmation: what is deleted, what is skipped and why (one
//! eligibility rule, `snapdeck_core::eligibility`), and the risky ones with their typed
//! override.

use std::collections::BTreeSet;

use leptos::prelude::*;
use snapdeck_api::{Devbox, Snapshot, SnapshotStatus};
use snapdeck_core::Confirmed;
use snapdeck_core::eligibility::{Deletable, Risk, assess, deletable_in_bulk};

use crate::components::{Icon, IconKind, Modal};
use crate::fmt::{bytes, bytes_opt, middle_truncate};
use crate::hooks::selection::Selection;
use crate::hooks::use_interval::use_interval;
use crate::hooks::use_statuses::Statuses;

/// Snapshots named one by one in the confirmation (the count covers the rest).
const LISTED_IN_DIALOG: usize = 200;

/// The confirmation: what will be deleted, what will be skipped and why.
#[component]
pub(super) fn DeleteDialog(
    /// The selection.
    selection: RwSignal<Selection>,
    /// Every row matching the filters (the selection's order).
    filtered: Memo<Vec<Snapshot>>,
    /// The devboxes (to name those started from a selected snapshot).
    devboxes: Memo<Vec<Devbox>>,
    /// Status cache.
    statuses: Statuses,
    /// Called with the confirmed list and the ids the person typed the override for.
    on_confirm: Callback<(Vec<Confirmed>, BTreeSet<String>)>,
    /// Called on cancel.
    on_close: Callback<()>,
) -> impl IntoView {
    // Fixed when the dialog opens; statuses fill in as they arrive.
    let chosen: Vec<Snapshot> = selection.with_untracked(|s| {
        filtered.with_untracked(|f| f.iter().filter(|x| s.contains(&x.id)).cloned().collect())
    });
    let chosen = StoredValue::new(chosen);
    // One verdict per chosen snapshot, sampled a few times a second rather than on
    // every status that arrives (with thousands selected, that would redraw thousands
    // of times).
    let verdicts = RwSignal::new(Vec::<Deletable>::new());
    let sample = move || {
        let v: Vec<Deletable> = untrack(|| {
            chosen.with_value(|c| {
                c.iter()
                    .map(|s| deletable_in_bulk(s, statuses.status(&s.id)))
                    .collect()
            })
        });
        if verdicts.with_untracked(|cur| *cur != v) {
            verdicts.set(v);
        }
    };
    sample();
    use_interval(250, sample);
    let pick = move |want: &dyn Fn(&Deletable) -> bool| {
        verdicts.with(|v| {
            chosen.with_value(|c| {
                c.iter()
                    .zip(v)
                    .filter(|(_, e)| want(e))
                    .map(|(s, e)| (s.clone(), e.clone()))
                    .collect::<Vec<_>>()
            })
        })
    };
    let deletable = Memo::new(move |_| {
        pick(&|e| *e == Deletable::Yes)
            .into_iter()
            .map(|(s, _)| s)
            .collect::<Vec<_>>()
    });
    let checking =
        move || verdicts.with(|v| v.iter().filter(|e| **e == Deletable::Checking).count());
    let skipped = Memo::new(move |_| {
        pick(&|e| matches!(e, Deletable::No(_)))
            .into_iter()
            .filter_map(|(s, e)| match e {
                Deletable::No(why) => Some((s, why)),
                _ => None,
            })
            .collect::<Vec<_>>()
    });
    // The deletable ones that are risky (the newest complete of their devbox as listed,
    // or the source of running devboxes), and why: deleting them needs the count typed;
    // otherwise the floor keeps the last complete one of a devbox at send time.
    let risky = Memo::new(move |_| {
        let listing = filtered.get_untracked();
        let boxes = devboxes.get();
        deletable.with(|d| {
            d.iter()
                .filter_map(|s| {
                    let risks = untrack(|| {
                        assess(
                            s,
                            Some(SnapshotStatus::Complete),
                            &listing,
                            |id| statuses.status(id),
                            &boxes,
                        )
                    });
                    (!risks.is_empty()).then(|| (s.clone(), risks))
                })
                .collect::<Vec<_>>()
        })
    });
    let typed = RwSignal::new(String::new());
    let overridden = move || {
        let k = risky.with(Vec::len);
        k > 0 && typed.with(|t| t.trim() == k.to_string())
    };
    let busy = Signal::derive(move || checking() > 0 || deletable.with(Vec::is_empty));
    let total_bytes =
        move || deletable.with(|d| d.iter().filter_map(|s| s.size_bytes).sum::<u64>());
    let n = chosen.with_value(Vec::len);
    let title = format!(
        "Delete {n} selected snapshot{}?",
        if n == 1 { "" } else { "s" }
    );
    let confirm_label = move || {
        let k = deletable.with(Vec::len);
        format!("Delete {k} snapshot{}", if k == 1 { "" } else { "s" })
    };
    let on_confirm_run = Callback::new(move |_| {
        let list = deletable.get_untracked();
        if list.is_empty() || checking() > 0 {
            return;
        }
        let override_ids: BTreeSet<String> = if untrack(overridden) {
            risky.with_untracked(|r| r.iter().map(|(s, _)| s.id.clone()).collect())
        } else {
            BTreeSet::new()
        };
        on_confirm.run((
            list.into_iter()
                .map(|s| Confirmed::from_snapshot(&s, Some(SnapshotStatus::Complete)))
                .collect(),
            override_ids,
        ));
    });
    view! {
        <Modal title=title on_close=on_close>
            <form
                class="sd-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    on_confirm_run.run(());
                }
            >
            <div class="sd-modal__body sd-confirm" data-testid="delete-dialog">
                <p>
                    {move || {
                        let k = deletable.with(Vec::len);
                        format!(
                            "{k} will be deleted ({}). Each is checked again just before it is deleted; this cannot be undone.",
                            bytes(total_bytes()),
                        )
                    }}
                </p>
                <ul class="sd-confirm__list" aria-label="Will be deleted">
                    <For
                        each=move || deletable.get().into_iter().take(LISTED_IN_DIALOG)
                        key=|s| s.id.clone()
                        children=|s| {
                            view! {
                                <li data-testid="confirm-delete" data-id=s.id.clone()>
                                    <span class="sd-tone-err"><Icon kind=IconKind::Trash /></span>
                                    <span class="sd-grow">{s.name.clone().unwrap_or_else(|| "(unnamed)".into())}</span>
                                    <code>{middle_truncate(&s.id)}</code>
                                    <span class="sd-mono sd-muted">{bytes_opt(s.size_bytes)}</span>
                                </li>
                            }
                        }
                    />
                </ul>
                <Show when=move || deletable.with(|d| d.len() > LISTED_IN_DIALOG)>
                    <p class="sd-muted">
                        {move || format!(
                            "… and {} more.",
                            deletable.with(Vec::len).saturating_sub(LISTED_IN_DIALOG),
                        )}
                    </p>
                </Show>
                <Show when=move || risky.with(|r| !r.is_empty())>
                    <RiskyList risky=risky typed=typed />
                </Show>
                <Show when=move || { checking() > 0 }>
                    <p class="sd-muted" role="status">
                        {move || format!("Checking the status of {}…", checking())}
                    </p>
                </Show>
                <Show when=move || skipped.with(|s| !s.is_empty())>
                    <p class="sd-confirm__skiphead">
                        {move || format!("{} will be skipped:", skipped.with(Vec::len))}
                    </p>
                    <ul class="sd-confirm__list sd-confirm__list--skip" aria-label="Will be skipped">
                        {move || {
                            skipped.get()
                                .into_iter()
                                .take(LISTED_IN_DIALOG)
                                .map(|(s, why)| {
                                    view! {
                                        <li data-testid="confirm-skip" data-id=s.id.clone()>
                                            <span class="sd-grow">{s.name.clone().unwrap_or_else(|| "(unnamed)".into())}</span>
                                            <span class="sd-muted">{why}</span>
                                        </li>
                                    }
                                })
                                .collect_view()
                        }}
                    </ul>
                </Show>
            </div>
            <div class="sd-modal__foot">
                <button type="button" class="sd-btn sd-btn--ghost" on:click=move |_| on_close.run(())>
                    "Cancel"
                </button>
                // Autofocus only if enabled at open: a disabled button cannot take focus,
                // and focus must land inside the dialog (the close button) for Esc and Tab.
                <button
                    type="submit"
                    class="sd-btn sd-btn--danger"
                    autofocus=!busy.get_untracked()
                    disabled=move || busy.get()
                >
                    {confirm_label}
                </button>
            </div>
            </form>
        </Modal>
    }
}

/// The risky ones of a bulk delete, each with its risks, and the typed override.
#[component]
pub(super) fn RiskyList(
    /// The risky snapshots and their risks.
    risky: Memo<Vec<(Snapshot, Vec<Risk>)>>,
    /// What the person typed (the count of risky ones deletes them too).
    typed: RwSignal<String>,
) -> impl IntoView {
    let k = move || risky.with(Vec::len);
    view! {
        <p class="sd-confirm__skiphead">
            {move || format!("{} need a typed confirmation:", k())}
        </p>
        <ul class="sd-confirm__list sd-confirm__list--skip" aria-label="Risky" data-testid="confirm-risky-list">
            {move || {
                risky
                    .get()
                    .into_iter()
                    .take(LISTED_IN_DIALOG)
                    .map(|(s, risks)| {
                        let why = risks.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ");
                        view! {
                            <li data-testid="confirm-risky" data-id=s.id.clone()>
                                <span class="sd-grow">{s.name.clone().unwrap_or_else(|| "(unnamed)".into())}</span>
                                <span class="sd-warnline">{why}</span>
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ul>
        <div class="sd-field">
            <label for="sd-bulk-typed">
                {move || format!("Type {} to delete these too (otherwise the last complete snapshot of each devbox is kept)", k())}
            </label>
            <input
                id="sd-bulk-typed"
                class="sd-input"
                autocomplete="off"
                inputmode="numeric"
                data-testid="confirm-risky-typed"
                prop:value=move || typed.get()
                on:input=move |ev| typed.set(event_target_value(&ev))
            />
        </div>
    }
}
