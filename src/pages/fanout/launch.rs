//! Launching a batch: the plan is kept in local storage until every child has started,
//! so a reload mid-launch resumes it. Where the server runs fan-out jobs, the launch is
//! its job (it goes on without the tab); in direct mode the tab runs it. Both go
//! through `snapdeck_run::fanout` (one idempotent step per child: create it unless the
//! batch has it, wait until it runs, write its task file), at most `cap` at once.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};

use leptos::prelude::*;
use leptos::task::spawn_local;
use snapdeck_api::Devbox;
pub use snapdeck_core::fanout::ChildNote;
use snapdeck_core::fanout::{ATTEMPT_KEY, ChildSpec};
use snapdeck_core::jobs::{FanoutSpec, JobKind, JobSpec, NewJob};
use snapdeck_core::launch::IdleAction;

use crate::api::{Api, api_message};
use crate::storage::{self, Area};

/// A launch as kept in local storage: the job spec itself, so the tab and a server's
/// job start exactly the same children.
pub type StoredPlan = FanoutSpec;

fn key(batch_id: &str) -> String {
    format!("snapdeck.fanout.plan.{batch_id}")
}

/// Keeps the plan (the launch is "owed" until it is forgotten).
pub fn remember(plan: &StoredPlan) {
    storage::set_json(Area::Local, &key(&plan.batch_id), plan);
}

/// The plan of `batch_id`, if its launch has not finished in this browser.
pub fn recall(batch_id: &str) -> Option<StoredPlan> {
    storage::get_json(Area::Local, &key(batch_id))
}

fn forget(batch_id: &str) {
    storage::remove(Area::Local, &key(batch_id));
}

/// The tab's notes per batch and label, shared by the page and the launcher.
#[derive(Debug, Clone, Copy)]
pub struct Notes(RwSignal<BTreeMap<(String, String), ChildNote>>);

impl Notes {
    pub fn get(&self, batch: &str, label: &str) -> Option<ChildNote> {
        self.0
            .with(|m| m.get(&(batch.to_owned(), label.to_owned())).cloned())
    }

    fn set(&self, batch: &str, label: &str, note: ChildNote) {
        if !self.0.is_disposed() {
            self.0
                .update(|m| _ = m.insert((batch.to_owned(), label.to_owned()), note));
        }
    }
}

/// Installs the notes at the app root, so they outlive a page.
pub fn provide_notes() {
    provide_context(Notes(RwSignal::new(BTreeMap::new())));
}

/// The notes.
pub fn use_notes() -> Notes {
    expect_context::<Notes>()
}

thread_local! {
    /// Batches this tab is launching or following now (so a page remount does not start
    /// them twice).
    static LAUNCHING: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
}

/// Launches (or resumes) `plan`: as a job where the server this page came from runs
/// fan-outs (the same request id again answers the same job, so a reload resumes it),
/// in the tab otherwise, through snapdeck-run's launcher either way. `on_change` after
/// every step.
pub fn launch(api: Api, notes: Notes, plan: StoredPlan, on_change: Callback<()>) {
    let fresh = LAUNCHING.with(|l| l.borrow_mut().insert(plan.batch_id.clone()));
    if !fresh {
        return;
    }
    spawn_local(async move {
        let request_id = format!("fanout-{}", plan.batch_id);
        if api.runs_jobs(JobKind::Fanout).await {
            follow_job(api, notes, &plan, request_id, on_change).await;
        } else {
            in_tab(api, notes, &plan, on_change).await;
        }
        LAUNCHING.with(|l| l.borrow_mut().remove(&plan.batch_id));
        on_change.run(());
    });
}

/// Runs `plan` in the tab; forgets it once every child's step ended.
async fn in_tab(api: Api, notes: Notes, plan: &StoredPlan, on_change: Callback<()>) {
    let batch = plan.batch_id.clone();
    let note = |label: &str, n: ChildNote| {
        notes.set(&batch, label, n);
        on_change.run(());
    };
    match snapdeck_run::fanout::launch(&api.client(), plan, &note).await {
        Ok(()) => {
            if !plan.fresh {
                forget(&plan.batch_id);
            }
        }
        // Left remembered: the next visit tries again.
        Err(e) => {
            for c in &plan.children {
                notes.set(
                    &batch,
                    &c.label,
                    ChildNote::Failed(format!(
                        "Could not list devboxes to resume the launch ({}); reload to try again.",
                        api_message(&e)
                    )),
                );
            }
        }
    }
}

/// Creates (or finds again) the server's job for `plan` and mirrors its children's
/// steps into the notes until it ends.
async fn follow_job(
    api: Api,
    notes: Notes,
    plan: &StoredPlan,
    request_id: String,
    on_change: Callback<()>,
) {
    let batch = plan.batch_id.clone();
    let fail_all = |message: String| {
        for c in &plan.children {
            notes.set(&batch, &c.label, ChildNote::Failed(message.clone()));
        }
    };
    let created = api
        .create_job(NewJob {
            request_id,
            client_id: Some(crate::services::bulk_runs::client_id()),
            spec: JobSpec::Fanout(plan.clone()),
        })
        .await;
    let mut job = match created {
        Ok(j) => j.summary,
        Err(e) => {
            fail_all(format!(
                "The server could not start the launch: {}. Reload to try again.",
                api_message(&e)
            ));
            return;
        }
    };
    let mut misses = 0;
    // What the job said last: only its news is passed on, so a retry's notes about the
    // label's newer devbox are never overwritten by this job's older word.
    let mut said: BTreeMap<String, ChildNote> = BTreeMap::new();
    loop {
        for c in &job.children {
            if said.get(&c.label) != Some(&c.note) {
                said.insert(c.label.clone(), c.note.clone());
                notes.set(&batch, &c.label, c.note.clone());
            }
        }
        on_change.run(());
        if job.status.is_terminal() {
            if let Some(e) = &job.error {
                fail_all(e.clone());
            } else if !plan.fresh {
                forget(&plan.batch_id);
            }
            return;
        }
        gloo_timers::future::TimeoutFuture::new(700).await;
        match api.get_job(&job.id).await {
            Ok(j) => {
                misses = 0;
                job = j.summary;
            }
            Err(_) if misses < 20 => misses += 1,
            Err(e) => {
                fail_all(format!(
                    "Lost track of the launch: {}. Reload to follow it again.",
                    api_message(&e)
                ));
                return;
            }
        }
    }
}

/// Starts one more devbox for a failed attempt (same label, name, metadata and task),
/// as a job or in the tab like the launch.
pub fn retry(
    api: Api,
    notes: Notes,
    batch_id: String,
    snapshot_id: String,
    failed: Devbox,
    on_change: Callback<()>,
) {
    let label = failed
        .metadata
        .get(ATTEMPT_KEY)
        .cloned()
        .unwrap_or_default();
    let task = recall(&batch_id)
        .and_then(|p| p.children.into_iter().find(|c| c.label == label))
        .and_then(|c| c.task)
        .or_else(|| retry_task(&batch_id, &label));
    let child = ChildSpec {
        label: label.clone(),
        name: failed.name.clone().unwrap_or_default(),
        metadata: failed.metadata.clone(),
        task,
    };
    let plan = StoredPlan {
        batch_id: batch_id.clone(),
        snapshot_id,
        cap: 1,
        children: vec![child],
        idle: IdleAction::of_launch(&failed.launch_parameters),
        fresh: true,
    };
    notes.set(&batch_id, &label, ChildNote::Creating);
    spawn_local(async move {
        // One retry per failed devbox, however often it is asked for.
        let request_id = format!("fanout-{}-retry-{}", plan.batch_id, failed.id);
        if api.runs_jobs(JobKind::Fanout).await {
            follow_job(api, notes, &plan, request_id, on_change).await;
        } else {
            in_tab(api, notes, &plan, on_change).await;
        }
        on_change.run(());
    });
}

/// The task text of `label`, kept apart from the launch plan (which is forgotten once
/// every child started) so a later retry can write it again.
fn retry_task(batch_id: &str, label: &str) -> Option<(String, String)> {
    storage::get_json::<BTreeMap<String, (String, String)>>(
        Area::Local,
        &format!("snapdeck.fanout.tasks.{batch_id}"),
    )
    .and_then(|m| m.get(label).cloned())
}

/// Keeps every child's task text for later retries.
pub fn remember_tasks(plan: &StoredPlan) {
    let m: BTreeMap<String, (String, String)> = plan
        .children
        .iter()
        .filter_map(|c| c.task.clone().map(|t| (c.label.clone(), t)))
        .collect();
    if !m.is_empty() {
        storage::set_json(
            Area::Local,
            &format!("snapdeck.fanout.tasks.{}", plan.batch_id),
            &m,
        );
    }
}
