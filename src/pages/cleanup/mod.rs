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

use std::collections::BTreeSet;

use leptos::prelude::*;
use snapdeck_core::BulkRun;
use snapdeck_core::bulk::confirmed_from_plan;

use crate::components::{DevboxesUnavailable, LoadPhase};
use crate::fmt::bytes;
use crate::hooks::use_devboxes::use_devboxes;
use crate::hooks::use_nav::{use_nav, use_route};
use crate::hooks::use_toasts::{Tone, use_toasts};
use crate::routes::{CleanupQuery, Page};
use crate::services::bulk_runs::use_bulk_run;

mod plan;
mod policy;
mod run;
mod source;
mod storage;

use source::{PlanSource, use_plan_source};

use plan::PlanStep;
use policy::PolicyStep;
use run::RunStep;
use storage::PlanStorage;

/// Rows drawn per plan list: the DOM stays small with thousands of snapshots; the
/// filter box finds the rest.
const PLAN_ROWS_SHOWN: usize = 300;

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
    let toasts = use_toasts();
    let nav = use_nav();
    let query = use_route(|p| match p {
        Page::Cleanup(q) => Some(q.clone()),
        _ => None,
    });
    let policy = Memo::new(move |_| query.with(CleanupQuery::policy));
    let go = Callback::new(move |q: CleanupQuery| nav.replace(&Page::Cleanup(q)));

    let devboxes = use_devboxes();
    let devbox_list = devboxes.list();
    let scope_devbox = Memo::new(move |_| query.with(|q| q.devbox.clone()));
    let source = use_plan_source(policy);
    let PlanSource {
        phase,
        total,
        plan,
        current,
        unknown,
        plan_job,
        ..
    } = source;
    let unticked = RwSignal::new(BTreeSet::<String>::new());
    let confirmed = Memo::new(move |_| plan.with(|p| unticked.with(|u| confirmed_from_plan(p, u))));
    let delete_bytes =
        move || confirmed.with(|c| c.iter().filter_map(|x| x.size_bytes).sum::<u64>());

    let bulk = use_bulk_run("cleanup");
    let typed = RwSignal::new(String::new());
    let start = move || {
        let list = confirmed.get_untracked();
        let n = list.len();
        if n == 0 || !current.get_untracked() || typed.get_untracked().trim() != n.to_string() {
            return;
        }
        let q = query.get_untracked();
        let scope = match (q.devbox, q.blueprint) {
            (Some(id), _) => devbox_list
                .with_untracked(|l| l.iter().find(|d| d.id == id).and_then(|d| d.name.clone()))
                .unwrap_or(id),
            (None, Some(bp)) => format!("blueprint {bp}"),
            (None, None) => "all devboxes".into(),
        };
        let label = format!(
            "Cleanup of {scope}: delete {}",
            plural(n, "snapshot", "snapshots")
        );
        // Held to the plan's policy at every wave: what a fresh plan would keep (the
        // kept snapshot deleted elsewhere, say) is skipped, with the reason shown.
        let run = plan.with_untracked(|p| BulkRun::new(list).under_plan(p));
        match bulk.start_from_plan(label, run, plan_job.get_untracked()) {
            Ok(()) => {
                typed.set(String::new());
                unticked.set(BTreeSet::new());
            }
            Err(busy) => toasts.push(Tone::Err, busy.to_string()),
        }
    };

    let summary = move || {
        if !current.get() && unknown.get() == 0 {
            return "Planning…".to_string();
        }
        let total = total.get();
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
        let u = unknown.get();
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
                    {move || match phase.get() {
                        LoadPhase::Loading => "Loading snapshots…".to_string(),
                        LoadPhase::Failed(_) => String::new(),
                        LoadPhase::Empty | LoadPhase::Ready => summary(),
                    }}
                </p>
            </div>
            <DevboxesUnavailable />
            <PolicyStep query=query devboxes=devbox_list go=go />
            <Show when=move || { scope_devbox.with(Option::is_some) && phase.get() == LoadPhase::Ready }>
                <PlanStorage plan=plan confirmed=confirmed />
            </Show>
            <PlanStep source=source unticked=unticked devboxes=devbox_list />
            <RunStep
                bulk=bulk
                count=Signal::derive(move || confirmed.with(Vec::len))
                bytes=Signal::derive(delete_bytes)
                ready=current
                typed=typed
                on_start=Callback::new(move |_| start())
            />
        </section>
    }
}
