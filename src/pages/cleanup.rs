//! `/cleanup`: policy cleanup in three steps on one page.
//!
//! 1. **Policy** (in the URL): scope, keep newest N, older than D days, include
//!    errored; pins are always respected. A live summary follows every edit.
//! 2. **Plan**: snapdeck-core's retention planner over every snapshot in scope and its
//!    status — two lists, Delete and Keep, each row with its reason. Unticking a row
//!    keeps it.
//! 3. **Run**: type the number to confirm; the ticked rows, and only those, go to
//!    snapdeck-core's bulk runner (each wave re-checked against the snapshot list just
//!    before its deletes, the policy planned again over it: what a fresh plan keeps is
//!    skipped, with the reason on the row) via `use_bulk_run`, which shows in the
//!    operations tray and resumes after a reload.

use std::collections::{BTreeMap, BTreeSet};

use leptos::prelude::*;
use snapdeck_api::{Devbox, Snapshot, SnapshotStatus};
use snapdeck_core::bulk::confirmed_from_plan;
use snapdeck_core::retention::{self, CleanupPlan, PlanItem};
use snapdeck_core::{BulkRun, Decision};

use crate::api::{SnapshotFilter, use_api};
use crate::components::bulk_panel::BulkPanel;
use crate::components::{
    EmptyState, ErrorState, RelTime, SkeletonRows, SnapshotBadge, devbox_options,
};
use crate::fmt::{bytes, bytes_opt, middle_truncate};
use crate::hooks::bulk_run::use_bulk_run;
use crate::hooks::use_interval::use_interval;
use crate::hooks::use_nav::{use_nav, use_route};
use crate::hooks::use_now::now_ms;
use crate::hooks::use_refresh::use_refresh;
use crate::hooks::use_statuses::use_visible_statuses;
use crate::hooks::use_toasts::{Tone, use_toasts};
use crate::routes::{CleanupQuery, Page};

/// Rows drawn per plan list: the DOM stays small with thousands of snapshots; the
/// filter box finds the rest.
const PLAN_ROWS_SHOWN: usize = 300;

/// How plan rows are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    Newest,
    Oldest,
    Largest,
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Policy cleanup in three steps.
#[component]
pub fn CleanupPage() -> impl IntoView {
    let api = use_api();
    let version = use_refresh();
    let toasts = use_toasts();
    let nav = use_nav();
    let query = use_route(|p| match p {
        Page::Cleanup(q) => Some(q.clone()),
        _ => None,
    });
    let policy = Memo::new(move |_| query.with(CleanupQuery::policy));
    let go = Callback::new(move |q: CleanupQuery| nav.replace(&Page::Cleanup(q)));

    let devboxes = LocalResource::new(move || {
        let _config = api.track();
        async move { api.list_devboxes().await.unwrap_or_default() }
    });
    let devbox_list =
        Memo::new(move |_| devboxes.with(|d| d.as_ref().map(|l| l.to_vec()).unwrap_or_default()));
    let scope_devbox = Memo::new(move |_| query.with(|q| q.devbox.clone()));
    let snapshots = LocalResource::new(move || {
        let _config = api.track();
        let _v = version.track();
        let filter = SnapshotFilter {
            devbox_id: scope_devbox.get(),
            ..Default::default()
        };
        async move { api.list_snapshots(&filter).await }
    });
    let all: Memo<Vec<Snapshot>> = Memo::new(move |_| {
        snapshots.with(|r| match r {
            Some(Ok(l)) => l.clone(),
            _ => Vec::new(),
        })
    });
    // Every snapshot in scope needs its status for the plan (final ones are cached).
    let ids =
        Signal::derive(move || all.with(|l| l.iter().map(|s| s.id.clone()).collect::<Vec<_>>()));
    let statuses = use_visible_statuses(ids);
    // The statuses the plan uses. Sampled (on a new list, then a few times a second)
    // rather than tracked: with thousands of snapshots arriving one status at a time,
    // replanning and redrawing on each would cost more than the fetching.
    let status_map = RwSignal::new(BTreeMap::<String, SnapshotStatus>::new());
    let sample = move || {
        let m = untrack(|| {
            all.with(|l| {
                l.iter()
                    .filter_map(|s| statuses.status(&s.id).map(|st| (s.id.clone(), st)))
                    .collect::<BTreeMap<_, _>>()
            })
        });
        if status_map.with_untracked(|cur| *cur != m) {
            status_map.set(m);
        }
    };
    Effect::new(move |_| {
        all.track();
        sample();
    });
    use_interval(300, sample);
    let unknown = move || {
        all.with(Vec::len)
            .saturating_sub(status_map.with(BTreeMap::len))
    };
    let plan = Memo::new(move |_| {
        let p = policy.get();
        all.with(|l| status_map.with(|m| retention::plan(&p, l, m, now_ms())))
    });
    let unticked = RwSignal::new(BTreeSet::<String>::new());
    let confirmed = Memo::new(move |_| plan.with(|p| unticked.with(|u| confirmed_from_plan(p, u))));
    let delete_bytes =
        move || confirmed.with(|c| c.iter().filter_map(|x| x.size_bytes).sum::<u64>());

    let bulk = use_bulk_run("cleanup");
    crate::events::forward_cleanup(bulk.state());
    let typed = RwSignal::new(String::new());
    let start = move || {
        let list = confirmed.get_untracked();
        let n = list.len();
        if n == 0 || typed.get_untracked().trim() != n.to_string() {
            return;
        }
        let scope = match query.get_untracked().devbox {
            Some(id) => devbox_list
                .with_untracked(|l| l.iter().find(|d| d.id == id).and_then(|d| d.name.clone()))
                .unwrap_or(id),
            None => "all devboxes".into(),
        };
        let label = format!(
            "Cleanup of {scope}: delete {}",
            plural(n, "snapshot", "snapshots")
        );
        // Held to the plan's policy at every wave: what a fresh plan would keep (the
        // kept snapshot deleted elsewhere, say) is skipped, with the reason shown.
        let run = plan.with_untracked(|p| BulkRun::new(list).under_plan(p));
        match bulk.start(label, run) {
            Ok(()) => {
                typed.set(String::new());
                unticked.set(BTreeSet::new());
            }
            Err(m) => toasts.push(Tone::Err, m),
        }
    };

    let summary = move || {
        let total = all.with(Vec::len);
        let n = confirmed.with(Vec::len);
        // Errored snapshots have no size: the bytes are then a lower bound.
        let at_least = if confirmed.with(|c| c.iter().any(|x| x.size_bytes.is_none())) {
            "at least "
        } else {
            ""
        };
        let mut s = format!(
            "Will delete {n} of {}, free {at_least}{}",
            plural(total, "snapshot", "snapshots"),
            bytes(delete_bytes())
        );
        let u = unknown();
        if u > 0 {
            s.push_str(&format!(" — checking {u} more statuses…"));
        }
        s
    };

    view! {
        <section class="sd-page sd-cleanup">
            <div class="sd-pagehead">
                <h1 class="sd-h1">"Cleanup"</h1>
                <p class="sd-cleanup__summary" aria-live="polite" data-testid="cleanup-summary">
                    {move || match snapshots.get() {
                        None => "Loading snapshots…".to_string(),
                        Some(Err(_)) => String::new(),
                        Some(Ok(_)) => summary(),
                    }}
                </p>
            </div>
            <PolicyStep query=query devboxes=devbox_list go=go />
            <section class="sd-step" aria-labelledby="sd-step-plan">
                <h2 class="sd-step__title" id="sd-step-plan">
                    <span class="sd-step__num">"2"</span>
                    "Plan (dry run)"
                </h2>
                {move || match snapshots.get() {
                    None => view! {
                        <table class="sd-table"><tbody><SkeletonRows cols=4 rows=4 /></tbody></table>
                    }.into_any(),
                    Some(Err(e)) => view! { <ErrorState error=e on_retry=move |_| snapshots.refetch() /> }.into_any(),
                    Some(Ok(l)) if l.is_empty() => view! {
                        <EmptyState title="No snapshots in scope — nothing to clean up.">
                            <p>"Take snapshots from a devbox page; they will show up here."</p>
                        </EmptyState>
                    }.into_any(),
                    Some(Ok(_)) => view! {
                        <PlanLists plan=plan unticked=unticked devboxes=devbox_list statuses_pending=Signal::derive(unknown) />
                    }.into_any(),
                }}
            </section>
            <section class="sd-step" aria-labelledby="sd-step-run">
                <h2 class="sd-step__title" id="sd-step-run">
                    <span class="sd-step__num">"3"</span>
                    "Run"
                </h2>
                <BulkPanel
                    run=bulk.state()
                    on_retry=move |_| bulk.retry_failed()
                    on_cancel=move |_| bulk.cancel()
                    on_dismiss=move |_| bulk.dismiss()
                />
                <Show when=move || !bulk.is_running()>
                    <ConfirmRun
                        count=Signal::derive(move || confirmed.with(Vec::len))
                        bytes=Signal::derive(delete_bytes)
                        ready=Signal::derive(move || snapshots.with(|r| matches!(r, Some(Ok(_)))) && unknown() == 0)
                        typed=typed
                        on_start=Callback::new(move |_| start())
                    />
                </Show>
            </section>
        </section>
    }
}

/// Step 1: the policy form. Every edit lands in the URL at once.
#[component]
fn PolicyStep(
    /// The policy in the URL.
    query: Memo<CleanupQuery>,
    /// Devboxes for the scope select.
    devboxes: Memo<Vec<Devbox>>,
    /// Navigates to a new policy.
    go: Callback<CleanupQuery>,
) -> impl IntoView {
    let edit = move |f: &dyn Fn(&mut CleanupQuery)| {
        let mut q = query.get_untracked();
        f(&mut q);
        go.run(q);
    };
    view! {
        <section class="sd-step" aria-labelledby="sd-step-policy">
            <h2 class="sd-step__title" id="sd-step-policy">
                <span class="sd-step__num">"1"</span>
                "Policy"
            </h2>
            <div class="sd-policy">
                <div class="sd-field">
                    <label for="sd-cl-scope">"Scope"</label>
                    <select
                        id="sd-cl-scope"
                        class="sd-select"
                        data-testid="cleanup-scope"
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            edit(&|q| q.devbox = (!v.is_empty()).then(|| v.clone()));
                        }
                    >
                        <option value="" selected=move || query.with(|q| q.devbox.is_none())>
                            "All devboxes"
                        </option>
                        {move || {
                            devbox_options(devboxes.get(), query.with(|q| q.devbox.clone()))
                        }}
                    </select>
                </div>
                <div class="sd-field">
                    <label for="sd-cl-keep">"Keep newest per devbox"</label>
                    <input
                        id="sd-cl-keep"
                        class="sd-input sd-policy__num"
                        type="number"
                        min="0"
                        max="1000"
                        inputmode="numeric"
                        data-testid="cleanup-keep"
                        prop:value=move || query.with(|q| q.keep.to_string())
                        on:input=move |ev| {
                            if let Ok(n) = event_target_value(&ev).trim().parse::<u32>() {
                                edit(&|q| q.keep = n);
                            }
                        }
                    />
                    <p class="sd-help">"Complete snapshots, newest first. The newest one is always kept."</p>
                </div>
                <div class="sd-field">
                    <label for="sd-cl-older">"Only if older than (days)"</label>
                    <input
                        id="sd-cl-older"
                        class="sd-input sd-policy__num"
                        type="number"
                        min="0"
                        inputmode="numeric"
                        placeholder="any age"
                        data-testid="cleanup-older"
                        prop:value=move || query.with(|q| q.older_than_days.map(|d| d.to_string()).unwrap_or_default())
                        on:input=move |ev| {
                            let v = event_target_value(&ev);
                            let v = v.trim();
                            if v.is_empty() {
                                edit(&|q| q.older_than_days = None);
                            } else if let Ok(d) = v.parse::<u32>() {
                                edit(&|q| q.older_than_days = Some(d));
                            }
                        }
                    />
                    <p class="sd-help">"Empty: any age."</p>
                </div>
                <div class="sd-field sd-policy__checks">
                    <label class="sd-check">
                        <input
                            type="checkbox"
                            data-testid="cleanup-errored"
                            prop:checked=move || query.with(|q| q.include_errored)
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                edit(&|q| q.include_errored = on);
                            }
                        />
                        "Include errored snapshots"
                    </label>
                    <Show when=move || query.with(|q| q.include_errored)>
                        <p class="sd-help">
                            "The API may refuse to delete a snapshot that is not complete (409); such refusals are listed as failed, with the API's words."
                        </p>
                    </Show>
                    <label class="sd-check">
                        <input type="checkbox" checked disabled aria-describedby="sd-cl-pins-help" />
                        "Respect pins"
                    </label>
                    <p class="sd-help" id="sd-cl-pins-help">
                        "Pinned snapshots are never deleted by a cleanup. Unpin one on its devbox page to let a cleanup remove it."
                    </p>
                </div>
            </div>
        </section>
    }
}

/// Step 2: the two lists with reasons; unticking a Delete row keeps it.
#[component]
fn PlanLists(
    /// The plan.
    plan: Memo<CleanupPlan>,
    /// Delete rows the person unticked.
    unticked: RwSignal<BTreeSet<String>>,
    /// Devboxes, for names.
    devboxes: Memo<Vec<Devbox>>,
    /// Statuses still being fetched.
    #[prop(into)]
    statuses_pending: Signal<usize>,
) -> impl IntoView {
    let filter = RwSignal::new(String::new());
    let sort = RwSignal::new(Sort::Newest);
    let rows = move |delete: bool| {
        let f = filter.get().trim().to_lowercase();
        let mut items: Vec<PlanItem> = plan.with(|p| {
            p.items
                .iter()
                .filter(|i| i.decision.is_delete() == delete)
                .filter(|i| {
                    !matches!(
                        i.decision,
                        Decision::Keep(snapdeck_core::KeepReason::OutOfScope)
                    )
                })
                .filter(|i| {
                    f.is_empty()
                        || i.snapshot.id.to_lowercase().contains(&f)
                        || i.snapshot
                            .name
                            .as_deref()
                            .is_some_and(|n| n.to_lowercase().contains(&f))
                })
                .cloned()
                .collect()
        });
        match sort.get() {
            Sort::Newest => items.sort_by_key(|i| std::cmp::Reverse(i.snapshot.create_time_ms)),
            Sort::Oldest => items.sort_by_key(|i| i.snapshot.create_time_ms),
            Sort::Largest => items.sort_by_key(|i| std::cmp::Reverse(i.snapshot.size_bytes)),
        }
        items
    };
    let delete_rows = Memo::new(move |_| rows(true));
    let keep_rows = Memo::new(move |_| rows(false));
    let delete_head = move || {
        let all = plan.with(|p| p.delete_count());
        let off = plan.with(|p| {
            unticked.with(|u| p.to_delete().filter(|i| u.contains(&i.snapshot.id)).count())
        });
        if off == 0 {
            format!("Delete ({all})")
        } else {
            format!("Delete ({} of {all}; {off} unticked)", all - off)
        }
    };
    let keep_head = move || format!("Keep ({})", keep_rows.with(Vec::len));
    view! {
        <div class="sd-row sd-plan__tools">
            <label class="sd-visually-hidden" for="sd-plan-filter">"Filter the plan"</label>
            <input
                id="sd-plan-filter"
                class="sd-input"
                type="search"
                placeholder="Filter by name or id"
                prop:value=move || filter.get()
                on:input=move |ev| filter.set(event_target_value(&ev))
            />
            <label class="sd-visually-hidden" for="sd-plan-sort">"Sort"</label>
            <select
                id="sd-plan-sort"
                class="sd-select"
                on:change=move |ev| sort.set(match event_target_value(&ev).as_str() {
                    "oldest" => Sort::Oldest,
                    "largest" => Sort::Largest,
                    _ => Sort::Newest,
                })
            >
                <option value="newest">"Newest first"</option>
                <option value="oldest">"Oldest first"</option>
                <option value="largest">"Largest first"</option>
            </select>
            <Show when=move || { statuses_pending.get() > 0 }>
                <span class="sd-muted" role="status">
                    {move || format!("Checking {} statuses; unchecked snapshots are kept.", statuses_pending.get())}
                </span>
            </Show>
        </div>
        <div class="sd-plan">
            <section class="sd-plan__col sd-plan__col--delete" aria-label="To delete" data-testid="plan-delete">
                <h3 class="sd-plan__head">{delete_head}</h3>
                <Show
                    when=move || delete_rows.with(|r| !r.is_empty())
                    fallback=|| view! { <p class="sd-muted sd-plan__none">"Nothing to delete under this policy."</p> }
                >
                    <ul class="sd-plan__list">
                        <For
                            each=move || delete_rows.get().into_iter().take(PLAN_ROWS_SHOWN)
                            key=|i| (i.snapshot.id.clone(), format!("{:?}", i.decision))
                            children=move |i| view! { <PlanRow item=i unticked=unticked devboxes=devboxes /> }
                        />
                    </ul>
                    <MoreRows total=Signal::derive(move || delete_rows.with(Vec::len)) />
                </Show>
            </section>
            <section class="sd-plan__col" aria-label="To keep" data-testid="plan-keep">
                <h3 class="sd-plan__head">{keep_head}</h3>
                <ul class="sd-plan__list">
                    <For
                        each=move || keep_rows.get().into_iter().take(PLAN_ROWS_SHOWN)
                        key=|i| (i.snapshot.id.clone(), format!("{:?}", i.decision))
                        children=move |i| view! { <PlanRow item=i unticked=unticked devboxes=devboxes /> }
                    />
                </ul>
                <MoreRows total=Signal::derive(move || keep_rows.with(Vec::len)) />
            </section>
        </div>
    }
}

/// "… and 120 more" under a capped plan list.
#[component]
fn MoreRows(
    /// Rows in the list.
    total: Signal<usize>,
) -> impl IntoView {
    view! {
        <Show when=move || { total.get() > PLAN_ROWS_SHOWN }>
            <p class="sd-muted sd-plan__none">
                {move || format!(
                    "… and {} more. Filter by name or id to find one.",
                    total.get() - PLAN_ROWS_SHOWN,
                )}
            </p>
        </Show>
    }
}

/// One plan row: tick (Delete rows), name, devbox, age, size, status and reason.
#[component]
fn PlanRow(
    /// The planned snapshot.
    item: PlanItem,
    /// Unticked Delete rows.
    unticked: RwSignal<BTreeSet<String>>,
    /// Devboxes, for names.
    devboxes: Memo<Vec<Devbox>>,
) -> impl IntoView {
    let s = item.snapshot.clone();
    let id = s.id.clone();
    let delete = item.decision.is_delete();
    let reason = match item.decision {
        Decision::Keep(r) => r.to_string(),
        Decision::Delete(r) => r.to_string(),
    };
    let name = s
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "(unnamed)".into());
    let devbox_id = s.source_devbox_id.clone();
    let devbox = move || {
        devboxes.with(|l| {
            l.iter()
                .find(|d| d.id == devbox_id)
                .and_then(|d| d.name.clone())
                .unwrap_or_else(|| middle_truncate(&devbox_id))
        })
    };
    let ticked = {
        let id = id.clone();
        move || !unticked.with(|u| u.contains(&id))
    };
    let status = item.status;
    let label = format!("Delete {name}");
    view! {
        <li
            class="sd-plan__row"
            class:sd-plan__row--off={
                let t = ticked.clone();
                move || delete && !t()
            }
            data-testid=if delete { "plan-delete-row" } else { "plan-keep-row" }
            data-id=id.clone()
        >
            {delete
                .then(|| {
                    let id = id.clone();
                    let ticked = ticked.clone();
                    view! {
                        <input
                            type="checkbox"
                            class="sd-checkbox"
                            aria-label=label
                            prop:checked=ticked
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                unticked.update(|u| {
                                    if on {
                                        u.remove(&id);
                                    } else {
                                        u.insert(id.clone());
                                    }
                                });
                            }
                        />
                    }
                })}
            <span class="sd-plan__main">
                <span class="sd-plan__name">{name}</span>
                <span class="sd-plan__meta">
                    <span>{devbox}</span>
                    " · "
                    <RelTime ms=s.create_time_ms />
                    " · "
                    <span class="sd-mono">{bytes_opt(s.size_bytes)}</span>
                </span>
                <span class="sd-plan__reason" data-testid="plan-reason">{reason}</span>
            </span>
            <SnapshotBadge status=Signal::stored(status) />
        </li>
    }
}

/// The typed confirmation and the start button.
#[component]
fn ConfirmRun(
    /// Snapshots that would be deleted.
    count: Signal<usize>,
    /// Bytes they free.
    bytes: Signal<u64>,
    /// Every status is known.
    ready: Signal<bool>,
    /// What was typed.
    typed: RwSignal<String>,
    /// Start was pressed with the right number.
    on_start: Callback<()>,
) -> impl IntoView {
    let matches = move || typed.with(|t| t.trim() == count.get().to_string());
    let enabled = move || ready.get() && count.get() > 0 && matches();
    view! {
        <Show
            when=move || { count.get() > 0 }
            fallback=move || view! { <p class="sd-muted">"Nothing to delete: adjust the policy, or tick rows in the plan."</p> }
        >
            <form
                class="sd-confirmrun"
                on:submit=move |ev| {
                    ev.prevent_default();
                    if enabled() {
                        on_start.run(());
                    }
                }
            >
                <label for="sd-cl-confirm">
                    {move || format!(
                        "Type {} to delete {} ({}). Each is checked again just before it is deleted.",
                        count.get(),
                        plural(count.get(), "snapshot", "snapshots"),
                        crate::fmt::bytes(bytes.get()),
                    )}
                </label>
                <span class="sd-row">
                    <input
                        id="sd-cl-confirm"
                        class="sd-input sd-confirmrun__input"
                        inputmode="numeric"
                        autocomplete="off"
                        data-testid="cleanup-confirm"
                        prop:value=move || typed.get()
                        on:input=move |ev| typed.set(event_target_value(&ev))
                    />
                    <button type="submit" class="sd-btn sd-btn--danger" disabled=move || !enabled()>
                        {move || format!("Delete {}", plural(count.get(), "snapshot", "snapshots"))}
                    </button>
                </span>
                <Show when=move || !ready.get()>
                    <p class="sd-help" role="status">"Waiting for every status before the run can start."</p>
                </Show>
            </form>
        </Show>
    }
}
