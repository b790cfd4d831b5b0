//! The progress and outcomes of a bulk delete: a bar with done / failed / skipped /
//! left (announced politely), one row per snapshot with its outcome, and Retry failed,
//! Cancel and Dismiss.

use leptos::prelude::*;
use snapdeck_core::BulkRun;
use snapdeck_core::bulk::{BulkItem, ItemState, Phase};

use crate::components::icon::{Icon, IconKind};
use crate::fmt::{bytes, middle_truncate};
use crate::hooks::use_now::use_now;
use crate::tone::Tone;

/// Outcome rows drawn at most.
const ROWS_SHOWN: usize = 300;

/// How an item is doing, for its row: (tone, short label, detail).
pub fn outcome(item: &BulkItem) -> (Tone, &'static str, Option<String>) {
    match &item.state {
        ItemState::Pending {
            not_before_ms: 0, ..
        } => (Tone::Muted, "waiting", None),
        ItemState::Pending { .. } => (Tone::Busy, "retrying soon", None),
        ItemState::Running {
            phase: Phase::Recheck,
            ..
        } => (Tone::Busy, "checking", None),
        ItemState::Running {
            phase: Phase::Verified,
            ..
        } => (
            Tone::Busy,
            "checked",
            Some("Unchanged since the plan; its delete goes out next.".into()),
        ),
        ItemState::Running { .. } => (Tone::Busy, "deleting", None),
        ItemState::Done { already_gone: true } => (
            Tone::Ok,
            "deleted",
            Some("It was already gone when we looked again.".into()),
        ),
        ItemState::Done { .. } => (Tone::Ok, "deleted", None),
        ItemState::Failed { message, .. } => (Tone::Err, "failed", Some(message.clone())),
        ItemState::Skipped { reason } => (Tone::Warn, "skipped", Some(reason.to_string())),
    }
}

/// Progress and outcomes of the run in `run`; renders nothing while there is none.
#[component]
pub fn BulkPanel(
    /// The run as last published.
    #[prop(into)]
    run: Signal<Option<BulkRun>>,
    /// Retry failed was pressed.
    #[prop(into)]
    on_retry: Callback<()>,
    /// Cancel was pressed.
    #[prop(into)]
    on_cancel: Callback<()>,
    /// Dismiss was pressed (only offered once finished).
    #[prop(into)]
    on_dismiss: Callback<()>,
    /// When the run's undo window ends (nothing is sent before); `None`: sending.
    #[prop(optional, into)]
    hold_until: Signal<Option<i64>>,
    /// Undo was pressed during the window.
    #[prop(optional, into)]
    on_undo: Option<Callback<()>>,
) -> impl IntoView {
    let now = use_now();
    let held_secs = move || {
        hold_until
            .get()
            .map(|until| ((until - now.get()).max(0) + 999) / 1000)
    };
    let present = Memo::new(move |_| run.with(Option::is_some));
    let counts =
        Memo::new(move |_| run.with(|r| r.as_ref().map(BulkRun::counts).unwrap_or_default()));
    let finished = Memo::new(move |_| run.with(|r| r.as_ref().is_none_or(BulkRun::is_finished)));
    let retryable = Memo::new(move |_| {
        run.with(|r| {
            r.iter()
                .flat_map(|r| &r.items)
                .filter(|i| {
                    matches!(
                        i.state,
                        ItemState::Failed {
                            retryable: true,
                            ..
                        }
                    )
                })
                .count()
        })
    });
    let title = move || {
        let n = counts.get().total;
        let what = if n == 1 { "snapshot" } else { "snapshots" };
        if finished.get() {
            format!("Finished: delete {n} {what}")
        } else if let Some(secs) = held_secs() {
            format!("Deleting {n} {what} in {secs} s")
        } else {
            format!("Deleting {n} {what}")
        }
    };
    let pct = move || {
        let c = counts.get();
        if c.total == 0 {
            100.0
        } else {
            (c.total - c.left) as f64 * 100.0 / c.total as f64
        }
    };
    let summary = move || {
        let c = counts.get();
        let mut s = format!(
            "{} deleted · {} failed · {} skipped · {} left",
            c.done, c.failed, c.skipped, c.left
        );
        if c.bytes_freed > 0 {
            s.push_str(&format!(" · {} freed", bytes(c.bytes_freed)));
        }
        s
    };
    // Failures and skips first (they need reading), then the rest in run order; only
    // the first ROWS_SHOWN are drawn so a run of thousands keeps a small DOM.
    let rows = Memo::new(move |_| {
        run.with(|r| {
            let Some(r) = r else { return Vec::new() };
            let (first, rest): (Vec<&BulkItem>, Vec<&BulkItem>) = r.items.iter().partition(|i| {
                matches!(
                    i.state,
                    ItemState::Failed { .. } | ItemState::Skipped { .. }
                )
            });
            first
                .into_iter()
                .chain(rest)
                .take(ROWS_SHOWN)
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let hidden = move || counts.get().total.saturating_sub(ROWS_SHOWN);
    view! {
        <Show when=move || present.get()>
        <section class="sd-bulk" aria-label="Delete progress" data-testid="bulk-panel">
            <div class="sd-bulk__head">
                <h2 class="sd-h2 sd-grow">{title}</h2>
                <Show when=move || !finished.get() && hold_until.with(Option::is_none)>
                    <button type="button" class="sd-btn sd-btn--sm" on:click=move |_| on_cancel.run(())>
                        "Cancel"
                    </button>
                </Show>
                {on_undo.map(|undo| view! {
                    <Show when=move || !finished.get() && hold_until.with(Option::is_some)>
                        <span class="sd-muted">"Nothing is sent until then."</span>
                        <button type="button" class="sd-btn sd-btn--sm sd-btn--primary" data-testid="bulk-undo" on:click=move |_| undo.run(())>
                            "Undo"
                        </button>
                    </Show>
                })}
                <Show when=move || { finished.get() && retryable.get() > 0 }>
                    <button
                        type="button"
                        class="sd-btn sd-btn--sm sd-btn--primary"
                        on:click=move |_| on_retry.run(())
                    >
                        {move || format!("Retry failed ({})", retryable.get())}
                    </button>
                </Show>
                <Show when=move || finished.get()>
                    <button type="button" class="sd-btn sd-btn--sm sd-btn--ghost" on:click=move |_| on_dismiss.run(())>
                        "Dismiss"
                    </button>
                </Show>
            </div>
            <div
                class="sd-progress"
                role="progressbar"
                aria-label="Snapshots processed"
                aria-valuemin="0"
                aria-valuemax=move || counts.get().total
                aria-valuenow=move || { let c = counts.get(); c.total - c.left }
            >
                <span class="sd-progress__ok" style=move || {
                    let c = counts.get();
                    format!("width:{}%", share(c.done, c.total))
                }></span>
                <span class="sd-progress__err" style=move || {
                    let c = counts.get();
                    format!("width:{}%", share(c.failed, c.total))
                }></span>
                <span class="sd-progress__skip" style=move || {
                    let c = counts.get();
                    format!("width:{}%", share(c.skipped, c.total))
                }></span>
            </div>
            <p class="sd-bulk__counts" aria-live="polite" data-testid="bulk-counts">
                {summary}
                <span class="sd-visually-hidden">{move || format!(" ({:.0}% processed)", pct())}</span>
            </p>
            <ul class="sd-bulk__list">
                <For
                    each=move || rows.get()
                    key=|i| (i.confirmed.snapshot_id.clone(), format!("{:?}", i.state))
                    children=|item| view! { <BulkRow item=item /> }
                />
            </ul>
            <Show when=move || { hidden() > 0 }>
                <p class="sd-muted sd-bulk__more">
                    {move || format!("… and {} more, not shown.", hidden())}
                </p>
            </Show>
        </section>
        </Show>
    }
}

fn share(n: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        n as f64 * 100.0 / total as f64
    }
}

/// One snapshot's outcome.
#[component]
fn BulkRow(
    /// The item.
    item: BulkItem,
) -> impl IntoView {
    let (tone, label, detail) = outcome(&item);
    let c = &item.confirmed;
    let name = c
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "(unnamed)".into());
    let icon = match tone {
        Tone::Ok => Some(IconKind::Check),
        Tone::Err => Some(IconKind::Cross),
        Tone::Busy => Some(IconKind::Spinner),
        _ => None,
    };
    view! {
        <li
            class=format!("sd-bulk__row sd-bulk__row--{tone}")
            data-testid="bulk-row"
            data-id=c.snapshot_id.clone()
            data-outcome=label
        >
            <span class=format!("sd-bulk__icon sd-tone-{tone}")>
                {icon.map(|kind| view! { <Icon kind=kind /> })}
                {(tone == Tone::Warn).then_some("–")}
            </span>
            <span class="sd-bulk__name">{name}</span>
            <code class="sd-bulk__id" title=c.snapshot_id.clone()>{middle_truncate(&c.snapshot_id)}</code>
            <span class=format!("sd-badge sd-badge--{tone}")>{label}</span>
            {detail.map(|d| view! { <span class="sd-bulk__detail">{d}</span> })}
        </li>
    }
}
