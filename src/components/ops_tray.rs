//! The operations tray, bottom-right: running and recent snapshots, restores and
//! cleanups, each with a spinner or a result, elapsed time and a link to what it made.
//! Finished rows stay until dismissed. Collapsible; the state survives reloads.

use leptos::prelude::*;
use snapdeck_core::watch::estimate_remaining_ms;

use crate::components::icon::{Icon, IconKind};
use crate::fmt::{elapsed, middle_truncate};
use crate::hooks::use_now::use_now;
use crate::hooks::use_ops::{OpKind, OpState, Operation, Ops, use_ops};
use crate::routes::Page;
use crate::storage::{self, Area};

const COLLAPSED_KEY: &str = "snapdeck.tray_collapsed";

/// The tray (renders nothing while there are no operations).
#[component]
pub fn OpsTray() -> impl IntoView {
    let ops = use_ops();
    let list = ops.list();
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
        <Show when=move || list.with(|l| !l.is_empty())>
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
    let is_snapshot = matches!(op.kind, OpKind::Snapshot { .. });
    let state = op.state.clone();
    let status_text = {
        let state = state.clone();
        move || match &state {
            OpState::Running => {
                let e = now.get() - started;
                let estimate = is_snapshot
                    .then(|| estimate_remaining_ms(e, &ops.past_snapshot_durations()))
                    .flatten()
                    .map(|r| format!(" · ~{} left", elapsed(r)))
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
        OpState::Running => (IconKind::Spinner, "busy"),
        OpState::Done { .. } => (IconKind::Check, "ok"),
        OpState::Failed { .. } => (IconKind::Cross, "err"),
    };
    let finished = !matches!(state, OpState::Running);
    view! {
        <li class=format!("sd-op sd-op--{tone}") data-testid="op-row" data-state=tone>
            <span class="sd-op__icon">
                <Icon kind=icon />
            </span>
            <div class="sd-op__main">
                <div class="sd-op__title">{title}</div>
                <div class="sd-op__status">
                    {status_text}
                    {link.map(|(href, text)| view! { " · " <a href=href>{text}</a> })}
                </div>
            </div>
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
