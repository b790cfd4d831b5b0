//! Fan-out: `/fanouts` lists the batches (found from devbox metadata alone), and
//! `/fanouts/:id` is one batch — a tile per child (starting → running → task written,
//! or failed with its reason and a Retry), the compare table (a result file read from
//! each child, differences marked; a check command run in each), and "continue with the
//! best" (snapshot and pin the chosen child, stop the others, after one confirm).
//!
//! In direct mode the tab launches the batch ([`launch`]); the plan waits in local
//! storage until every child started, so a reload mid-launch resumes it.

mod compare;
pub mod dialog;
pub mod launch;

use leptos::prelude::*;
use snapdeck_api::Devbox;
use snapdeck_core::fanout::{Attempt, Batch, Phase, batches};
use snapdeck_core::format::elapsed;

use self::compare::{Compare, ContinueBest};
use self::launch::{ChildNote, recall, use_notes};
use crate::api::{ApiError, use_page_api};
use crate::components::{EmptyState, ErrorState, RelTime, StatusBadge};
use crate::hooks::use_interval::use_interval;
use crate::hooks::use_nav::use_route;
use crate::hooks::use_now::use_now;
use crate::hooks::use_refresh::use_refresh;
use crate::hooks::use_title::use_title;
use crate::routes::Page;

/// `/fanouts`: every batch, newest first.
#[component]
pub fn FanoutsPage() -> impl IntoView {
    use_title(|| "Fan-outs".into());
    let api = use_page_api();
    let version = use_refresh();
    let list = LocalResource::new(move || {
        let _ = (api.track(), version.track());
        async move { api.list_devboxes().await }
    });
    view! {
        <section class="sd-page" data-testid="fanouts-page">
            <header class="sd-pagehead"><h1 class="sd-h1">"Fan-outs"</h1></header>
            <p class="sd-help">"Several devboxes started from one snapshot, each an attempt at the same change. Start one from a snapshot's page (Fan out)."</p>
            {move || match list.get() {
                None => view! { <p class="sd-muted" aria-busy="true">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorState error=e on_retry=move |_| list.refetch() /> }.into_any(),
                Some(Ok(devboxes)) => {
                    let all = batches(&devboxes);
                    if all.is_empty() {
                        return view! {
                            <EmptyState title="No fan-outs yet">
                                <a href=Page::snapshots().href()>"Pick a snapshot"</a>" and choose Fan out."
                            </EmptyState>
                        }.into_any();
                    }
                    view! {
                        <table class="sd-table" data-testid="fanout-list">
                            <thead><tr><th>"Batch"</th><th>"Started"</th><th>"Children"</th><th>"Running"</th><th>"Failed"</th></tr></thead>
                            <tbody>
                                {all.into_iter().map(|b| {
                                    let (_, running, failed, _) = b.counts();
                                    view! {
                                        <tr>
                                            <td><a class="sd-mono" href=Page::fanout(b.id.clone()).href()>{b.id.clone()}</a></td>
                                            <td><RelTime ms=b.started_ms /></td>
                                            <td>{b.attempts.len()}</td>
                                            <td>{running}</td>
                                            <td>{failed}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }
            }}
        </section>
    }
}

/// `/fanouts/:id`: one batch.
#[component]
pub fn FanoutPage() -> impl IntoView {
    let id = use_route(|p| match p {
        Page::Fanout { id } => Some(id.clone()),
        _ => None,
    });
    use_title(move || format!("Fan-out {}", id.get()));
    let api = use_page_api();
    let version = use_refresh();
    let notes = use_notes();
    let tick = RwSignal::new(0u64);
    let list = LocalResource::new(move || {
        let _ = (api.track(), version.track(), tick.get());
        async move { api.list_devboxes().await }
    });
    let on_change = Callback::new(move |_| tick.update(|t| *t += 1));
    // Launch (or resume) what this browser still owes the batch.
    Effect::new(move |_| {
        if let Some(plan) = recall(&id.get()) {
            launch::launch(api, notes, plan, on_change);
        }
    });
    let batch: Memo<Option<Result<Option<Batch>, ApiError>>> = Memo::new(move |_| {
        list.with(|r| {
            r.as_ref().map(|r| {
                r.as_ref()
                    .map(|l| Batch::of(&id.get(), l))
                    .map_err(Clone::clone)
            })
        })
    });
    let planned = move || recall(&id.get()).map(|p| p.children.len());
    // The page is rebuilt only when the kind of answer changes, never on a refresh of
    // the same batch (the compare table and the steps keep their state).
    let shown = Memo::new(move |_| match batch.get() {
        None => Shown::Loading,
        Some(Err(_)) => Shown::Failed,
        Some(Ok(None)) if planned().is_some() => Shown::Starting,
        Some(Ok(None)) => Shown::Empty,
        Some(Ok(Some(_))) => Shown::Here,
    });
    // While a child is starting, look again every 2 s.
    use_interval(2_000, move || {
        let starting = batch.with_untracked(|b| matches!(b, Some(Ok(Some(b))) if b.counts().0 > 0))
            || recall(&id.get_untracked()).is_some();
        if starting {
            tick.update(|t| *t += 1);
        }
    });

    view! {
        <section class="sd-page sd-fanout" data-testid="fanout-page">
            <a class="sd-back" href=Page::fanouts().href()>"← Fan-outs"</a>
            {move || match shown.get() {
                Shown::Loading => view! { <p class="sd-muted" aria-busy="true">"Loading the batch…"</p> }.into_any(),
                Shown::Failed => match batch.get_untracked() {
                    Some(Err(e)) => view! { <ErrorState error=e on_retry=move |_| list.refetch() /> }.into_any(),
                    _ => ().into_any(),
                },
                Shown::Starting => view! {
                    <header class="sd-pagehead"><h1 class="sd-h1">{format!("Fan-out {}", id.get_untracked())}</h1></header>
                    <p class="sd-muted" data-testid="fanout-state">{format!("Starting {} children…", planned().unwrap_or(0))}</p>
                }.into_any(),
                Shown::Empty => view! {
                    <EmptyState title="No devbox belongs to this batch">
                        "Its children may have been deleted, or the link is wrong. "
                        <a href=Page::fanouts().href()>"See every fan-out"</a>
                    </EmptyState>
                }.into_any(),
                Shown::Here => view! { <BatchView batch=batch on_change=on_change planned=Signal::derive(planned) /> }.into_any(),
            }}
        </section>
    }
}

/// Which of its faces the batch page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    Loading,
    Failed,
    Starting,
    Empty,
    Here,
}

/// The batch once a child exists: header, grid, compare, continue.
#[component]
fn BatchView(
    batch: Memo<Option<Result<Option<Batch>, ApiError>>>,
    on_change: Callback<()>,
    planned: Signal<Option<usize>>,
) -> impl IntoView {
    let b = Memo::new(move |_| match batch.get() {
        Some(Ok(Some(b))) => Some(b),
        _ => None,
    });
    let one = move || b.get();
    // The attempt to continue with, picked in the compare table or below it.
    let chosen = RwSignal::new(None::<String>);
    let state = move || {
        one().map(|b| {
            let (starting, running, failed, stopped) = b.counts();
            let total = planned.get().unwrap_or(0).max(b.attempts.len());
            let not_started = total - b.attempts.len();
            let mut parts = vec![format!("{running} of {total} running")];
            if starting + not_started > 0 {
                parts.push(format!("{} starting", starting + not_started));
            }
            if failed > 0 {
                parts.push(format!("{failed} failed"));
            }
            if stopped > 0 {
                parts.push(format!("{stopped} stopped"));
            }
            parts.join(" · ")
        })
    };
    view! {
        <header class="sd-pagehead">
            <h1 class="sd-h1">{move || one().map(|b| format!("Fan-out {}", b.id))}</h1>
        </header>
        <p class="sd-row sd-muted">
            <span data-testid="fanout-state" aria-live="polite">{state}</span>
            {move || one().map(|b| view! {
                <span>"from "<a class="sd-mono" href=Page::snapshot(b.snapshot_id.clone()).href()>{crate::fmt::middle_truncate(&b.snapshot_id)}</a></span>
            })}
        </p>
        <ul class="sd-fanout__grid" aria-label="Children" data-testid="fanout-grid">
            <For each=move || one().map(|b| b.attempts).unwrap_or_default()
                key=|a: &Attempt| (a.label.clone(), a.devbox.id.clone(), a.devbox.status)
                children=move |a: Attempt| {
                    let batch_id = b.with_untracked(|b| b.as_ref().map(|b| b.id.clone()).unwrap_or_default());
                    let snapshot_id = b.with_untracked(|b| b.as_ref().map(|b| b.snapshot_id.clone()).unwrap_or_default());
                    view! { <Tile attempt=a batch_id=batch_id snapshot_id=snapshot_id on_change=on_change /> }
                } />
        </ul>
        // Built once: their state (results read, steps run) outlives each refresh.
        <Compare batch=b chosen=chosen />
        <ContinueBest batch=b on_change=on_change chosen=chosen />
        <crate::components::LineageSection focus=Signal::derive(move || b.with(|b| b.as_ref().map(|b| b.snapshot_id.clone()).unwrap_or_default())) />
    }
}

/// One child.
#[component]
fn Tile(
    attempt: Attempt,
    batch_id: String,
    snapshot_id: String,
    on_change: Callback<()>,
) -> impl IntoView {
    let api = use_page_api();
    let notes = use_notes();
    let now = use_now();
    let d: Devbox = attempt.devbox.clone();
    let phase = attempt.phase();
    let label = attempt.label.clone();
    let started = d.create_time_ms;
    let status = d.status;
    let note = {
        let (batch_id, label) = (batch_id.clone(), label.clone());
        move || notes.get(&batch_id, &label)
    };
    let reason = d.failure_reason.map(|r| match r {
        snapdeck_api::FailureReason::OutOfMemory => "out of memory",
        snapdeck_api::FailureReason::OutOfDisk => "out of disk",
        snapdeck_api::FailureReason::ExecutionFailed => "execution failed",
        snapdeck_api::FailureReason::HealthCheckFailed => "health check failed",
        snapdeck_api::FailureReason::Unknown => "unknown",
    });
    let retried = attempt.earlier.len();
    let failed = d.clone();
    let retry = move |_| {
        launch::retry(
            api,
            notes,
            batch_id.clone(),
            snapshot_id.clone(),
            failed.clone(),
            on_change,
        );
        on_change.run(());
    };
    let phase_name = match phase {
        Phase::Starting => "starting",
        Phase::Running => "running",
        Phase::Failed => "failed",
        Phase::Stopped => "stopped",
    };
    view! {
        <li class="sd-tile" data-testid="fanout-tile" data-label=label.clone() data-phase=phase_name>
            <div class="sd-row sd-tile__head">
                <strong class="sd-tile__label">{label.clone()}</strong>
                <StatusBadge status=status />
            </div>
            <a class="sd-tile__name" href=Page::devbox(d.id.clone()).href()>{crate::lineage::devbox_label(&d)}</a>
            <span class="sd-muted sd-tile__time">
                {move || if phase == Phase::Starting { format!("starting {}", elapsed(now.get() - started)) } else { String::new() }}
            </span>
            // The launcher's word on this child (a failed boot is said by the tile's own
            // reason below; a note about another devbox of the label is stale).
            {move || note().map(|n| match n {
                ChildNote::Creating if phase != Phase::Failed => view! { <span class="sd-muted">"creating…"</span> }.into_any(),
                ChildNote::WritingTask(p) => view! { <span class="sd-muted">{format!("writing {p}…")}</span> }.into_any(),
                ChildNote::TaskWritten(p) if phase == Phase::Running => view! { <span class="sd-ok" data-testid="task-written">{format!("✓ {p} written")}</span> }.into_any(),
                ChildNote::Failed(m) if phase != Phase::Failed => view! { <span class="sd-formerror" role="alert">{m}</span> }.into_any(),
                _ => ().into_any(),
            })}
            {(phase == Phase::Failed).then(|| view! {
                <p class="sd-formerror" data-testid="tile-reason">{format!("Failed to boot: {}", reason.unwrap_or("no reason given"))}</p>
                <button type="button" class="sd-btn sd-btn--sm" on:click=retry.clone()>{format!("Retry {label}")}</button>
            })}
            {(retried > 0).then(|| view! { <span class="sd-muted">{format!("retried {retried}×")}</span> })}
        </li>
    }
}
