//! The operations tray, bottom-right: running and recent snapshots, restores and
//! cleanups, each with a spinner or a result, elapsed time and a link to what it made.
//! Finished rows stay until dismissed. Collapsible; the state survives reloads.

use leptos::prelude::*;
use snapdeck_core::jobs::{JobKind, JobSummary};

use crate::api::use_api;
use crate::components::icon::{Icon, IconKind};
use crate::fmt::{elapsed, middle_truncate};
use crate::hooks::use_interval::use_interval;
use crate::hooks::use_now::use_now;
use crate::routes::Page;
use crate::services::bulk_runs;
use crate::services::ops::{OpKind, OpState, Operation, Ops, use_ops};
use crate::storage::{self, Area};
use crate::tone::Tone;

const COLLAPSED_KEY: &str = "snapdeck.tray_collapsed";

/// The tray (renders nothing while there are no operations).
#[component]
pub fn OpsTray() -> impl IntoView {
    let ops = use_ops();
    let list = ops.list();
    let others = use_others_jobs();
    let collapsed = RwSignal::new(storage::get(Area::Local, COLLAPSED_KEY).as_deref() == Some("1"));
    let running = move || list.with(|l| l.iter().filter(|o| o.is_running()).count());
    let toggle = move |_| {
        collapsed.update(|c| *c = !*c);
        storage::set(
            Area::Local,
            COLLAPSED_KEY,
            if collapsed.get_untracked() { "1" } else { "0" },
        );
    };
    view! {
        <Show when=move || list.with(|l| !l.is_empty()) || others.with(|o| !o.is_empty())>
            <aside class="sd-tray" aria-label="Operations" data-testid="ops-tray">
                <button
                    type="button"
                    class="sd-tray__head"
                    aria-expanded=move || (!collapsed.get()).to_string()
                    aria-controls="sd-tray-list"
                    on:click=toggle
                >
                    {move || {
                        let failed = list
                            .with(|l| l.iter().any(|o| matches!(o.state, OpState::Failed { .. })));
                        if running() > 0 {
                            view! { <span class="sd-op--busy sd-tray__icon"><Icon kind=IconKind::Spinner /></span> }.into_any()
                        } else if failed {
                            view! { <span class="sd-op--err sd-tray__icon"><Icon kind=IconKind::Cross /></span> }.into_any()
                        } else {
                            view! { <span class="sd-op--ok sd-tray__icon"><Icon kind=IconKind::Check /></span> }.into_any()
                        }
                    }}
                    <span class="sd-grow">
                        {move || {
                            let n = list.with(Vec::len);
                            match running() {
                                0 => format!("Operations ({n})"),
                                r => format!("Operations ({n}) · {r} running"),
                            }
                        }}
                    </span>
                    {move || {
                        if collapsed.get() {
                            view! { <Icon kind=IconKind::ChevronUp /> }.into_any()
                        } else {
                            view! { <Icon kind=IconKind::ChevronDown /> }.into_any()
                        }
                    }}
                </button>
                <Show when=move || !collapsed.get()>
                    <ul class="sd-tray__list" id="sd-tray-list" aria-live="polite">
                        <For
                            each=move || list.get()
                            key=|o| (o.id, format!("{:?}", o.state), format!("{:?}", o.kind))
                            children=move |op| view! { <OpRow op=op ops=ops /> }
                        />
                        <For
                            each=move || others.get()
                            key=|j| (j.id.clone(), j.progress.done, j.progress.failed, j.progress.skipped)
                            children=move |job| view! { <OthersJobRow job=job /> }
                        />
                    </ul>
                    <Show when=move || list.with(|l| l.iter().any(|o| !o.is_running()))>
                        <div class="sd-tray__foot">
                            <button
                                type="button"
                                class="sd-btn sd-btn--ghost sd-btn--sm"
                                on:click=move |_| ops.clear_finished()
                            >
                                "Clear finished"
                            </button>
                        </div>
                    </Show>
                </Show>
            </aside>
        </Show>
    }
    .into_any()
}

/// One operation.
#[component]
fn OpRow(
    /// The operation.
    op: Operation,
    /// The list (for dismiss and estimates).
    ops: Ops,
) -> impl IntoView {
    let now = use_now();
    let started = op.started_at_ms;
    let id = op.id;
    let (title, link): (String, Option<(String, String)>) = match &op.kind {
        OpKind::Snapshot {
            devbox_id,
            devbox_label,
            name,
            ..
        } => (
            format!(
                "Snapshot “{}”",
                name.clone().unwrap_or_else(|| "unnamed".into())
            ),
            Some((Page::devbox(devbox_id).href(), devbox_label.clone())),
        ),
        OpKind::Restore {
            snapshot_label,
            new_devbox_id,
            name,
            ..
        } => (
            format!("Restore “{snapshot_label}”"),
            new_devbox_id.as_ref().map(|nid| {
                (
                    Page::devbox(nid).href(),
                    format!("→ {}", name.clone().unwrap_or_else(|| middle_truncate(nid))),
                )
            }),
        ),
        OpKind::Cleanup {
            label,
            total,
            done,
            failed,
            ..
        } => (
            format!(
                "{label}: {done} of {total} deleted{}",
                if *failed > 0 {
                    format!(", {failed} failed")
                } else {
                    String::new()
                }
            ),
            Some((Page::cleanup().href(), "open".into())),
        ),
    };
    // A snapshot op's title opens the snapshot's page once the API has given its id.
    let snapshot_href = match &op.kind {
        OpKind::Snapshot { watch: Some(w), .. } => Some(Page::snapshot(&w.snapshot_id).href()),
        _ => None,
    };
    // The estimate the watch polls by (from the devbox's earlier snapshots).
    let expected = match &op.kind {
        OpKind::Snapshot { watch: Some(w), .. } => w.expected,
        _ => None,
    };
    // A bulk delete in its undo window: nothing sent yet, Undo offered until it starts.
    let (undo_key, starts_at) = match &op.kind {
        OpKind::Cleanup {
            key: Some(key),
            starts_at_ms: Some(at),
            ..
        } if op.is_running() => (Some(key.clone()), Some(*at)),
        _ => (None, None),
    };
    let waiting = move || starts_at.is_some_and(|at| now.get() < at);
    let state = op.state.clone();
    let status_text = {
        let state = state.clone();
        move || match &state {
            OpState::Running if waiting() => {
                let left = (starts_at.unwrap_or(0) - now.get()).max(0);
                format!("starts in {} s — nothing sent yet", (left + 999) / 1000)
            }
            OpState::Running => {
                let e = now.get() - started;
                let estimate = expected
                    .map(|x| format!(" · {}", x.describe(e)))
                    .unwrap_or_default();
                format!("running {}{estimate}", elapsed(e))
            }
            OpState::Done { at_ms, note } => {
                let base = format!("done in {}", elapsed(at_ms - started));
                match note {
                    Some(n) => format!("{base} · {n}"),
                    None => base,
                }
            }
            OpState::Failed { message, .. } => format!("failed: {message}"),
        }
    };
    let (icon, tone) = match &state {
        OpState::Running => (IconKind::Spinner, Tone::Busy),
        OpState::Done { .. } => (IconKind::Check, Tone::Ok),
        OpState::Failed { .. } => (IconKind::Cross, Tone::Err),
    };
    let finished = !matches!(state, OpState::Running);
    view! {
        <li class=format!("sd-op sd-op--{tone}") data-testid="op-row" data-state=tone.as_str()>
            <span class="sd-op__icon">
                <Icon kind=icon />
            </span>
            <div class="sd-op__main">
                <div class="sd-op__title">
                    {match snapshot_href {
                        Some(href) => view! { <a href=href data-testid="op-snapshot-link">{title}</a> }.into_any(),
                        None => view! { <span>{title}</span> }.into_any(),
                    }}
                </div>
                <div class="sd-op__status">
                    {status_text}
                    {link.map(|(href, text)| view! { " · " <a href=href>{text}</a> })}
                </div>
            </div>
            {undo_key.map(|key| {
                view! {
                    <Show when=waiting>
                        {
                            let key = key.clone();
                            view! {
                                <button
                                    type="button"
                                    class="sd-btn sd-btn--sm"
                                    data-testid="op-undo"
                                    on:click=move |_| {
                                        bulk_runs::undo(&key);
                                    }
                                >
                                    "Undo"
                                </button>
                            }
                        }
                    </Show>
                }
            })}
            {finished
                .then(|| {
                    view! {
                        <button
                            type="button"
                            class="sd-iconbtn sd-op__dismiss"
                            aria-label="Dismiss"
                            on:click=move |_| ops.dismiss(id)
                        >
                            "×"
                        </button>
                    }
                })}
        </li>
    }
}

/// How often the tray looks for other people's jobs on the server (ms).
const OTHERS_POLL_MS: u64 = 3000;

/// The jobs other browsers started that are still running on the server (empty in
/// direct mode, where there are no jobs).
fn use_others_jobs() -> RwSignal<Vec<JobSummary>> {
    let api = use_api();
    let others = RwSignal::new(Vec::new());
    let busy = StoredValue::new(false);
    let look = move || {
        if busy.get_value() {
            return;
        }
        busy.set_value(true);
        leptos::task::spawn_local(async move {
            let mine = bulk_runs::client_id();
            let found = if api.jobs_available().await {
                api.list_jobs().await.unwrap_or_default()
            } else {
                Vec::new()
            };
            let running: Vec<JobSummary> = found
                .into_iter()
                .filter(|j| {
                    !j.status.is_terminal() && j.client_id.as_deref() != Some(mine.as_str())
                })
                .collect();
            if !others.is_disposed() && others.with_untracked(|o| *o != running) {
                others.set(running);
            }
            busy.try_set_value(false);
        });
    };
    look();
    use_interval(OTHERS_POLL_MS, look);
    others
}

/// Someone else's job, as the server reports it.
#[component]
fn OthersJobRow(
    /// The job's summary.
    job: JobSummary,
) -> impl IntoView {
    let p = &job.progress;
    let who = match job.client_id.as_deref() {
        Some("cron") | Some("edge cron") => "Scheduled",
        _ => "Another browser's",
    };
    let title = match job.kind {
        JobKind::Plan => format!(
            "{who} cleanup plan: {} of {} statuses",
            p.done + p.cached,
            p.total
        ),
        JobKind::Delete => format!(
            "{who} delete: {} of {} deleted{}",
            p.done,
            p.total,
            if p.failed > 0 {
                format!(", {} failed", p.failed)
            } else {
                String::new()
            }
        ),
        JobKind::Fanout => format!(
            "{who} fan-out {}: {} of {} running",
            job.batch_id.as_deref().unwrap_or(""),
            p.done,
            p.total
        ),
    };
    view! {
        <li class="sd-op sd-op--busy" data-testid="others-job" data-job=job.id.clone()>
            <span class="sd-op__icon">
                <Icon kind=IconKind::Spinner />
            </span>
            <div class="sd-op__main">
                <div class="sd-op__title">{title}</div>
                <div class="sd-op__status">{format!("{} on the server", job.status.as_str())}</div>
            </div>
        </li>
    }
}
