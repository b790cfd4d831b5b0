//! Step 2 of Cleanup: the plan as two lists, Delete and Keep, each row with its reason;
//! unticking a Delete row keeps it. Which rows and in what order is snapdeck-core's
//! (`query::plan`).

use std::collections::BTreeSet;

use leptos::prelude::*;

use crate::routes::Page;
use snapdeck_api::Devbox;
use snapdeck_core::Decision;
use snapdeck_core::query::{self, plan::PlanOrder};
use snapdeck_core::retention::{CleanupPlan, PlanItem};

use super::PLAN_ROWS_SHOWN;
use super::source::PlanSource;
use crate::components::{EmptyState, ErrorState, LoadPhase, RelTime, SkeletonRows, SnapshotBadge};
use crate::fmt::{bytes_opt, middle_truncate};

/// Step 2: the plan, once the snapshots in scope are listed.
#[component]
pub(super) fn PlanStep(
    /// Where the plan comes from.
    source: PlanSource,
    /// Delete rows the person unticked.
    unticked: RwSignal<BTreeSet<String>>,
    /// Devboxes, for names.
    devboxes: Memo<Vec<Devbox>>,
) -> impl IntoView {
    let PlanSource {
        phase,
        plan,
        unknown: pending,
        retry,
        ..
    } = source;
    view! {
        <section class="sd-step" aria-labelledby="sd-step-plan">
            <h2 class="sd-step__title" id="sd-step-plan">
                <span class="sd-step__num">"2"</span>
                "Plan (dry run)"
            </h2>
            {move || match phase.get() {
                LoadPhase::Loading => view! {
                    <table class="sd-table"><tbody><SkeletonRows cols=4 rows=4 /></tbody></table>
                }.into_any(),
                LoadPhase::Failed(e) => view! { <ErrorState error=e on_retry=move |_| retry.run(()) /> }.into_any(),
                LoadPhase::Empty => view! {
                    <EmptyState title="No snapshots in scope — nothing to clean up.">
                        <p>"Take snapshots from a devbox page; they will show up here."</p>
                    </EmptyState>
                }.into_any(),
                LoadPhase::Ready => view! {
                    <PlanLists plan=plan unticked=unticked devboxes=devboxes statuses_pending=pending />
                }.into_any(),
            }}
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
    let sort = RwSignal::new(PlanOrder::default());
    let rows = move |delete: bool| {
        let (q, order) = (filter.get(), sort.get());
        plan.with(|p| query::plan::rows(p, delete, &q, order))
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
                on:change=move |ev| sort.set(PlanOrder::parse(&event_target_value(&ev)))
            >
                {PlanOrder::ALL
                    .map(|o| view! { <option value=o.as_str()>{o.label()}</option> })
                    .collect_view()}
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
                <a class="sd-plan__name" href=Page::snapshot(&id).href()>{name}</a>
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
