//! Launching a batch in the tab (direct mode): the plan is kept in local storage until
//! every child has started, so a reload mid-launch resumes it. One step per child,
//! idempotent: create it if the devbox list has no child with its label, wait until it
//! runs, write its task file unless it already holds that text. At most `cap` children
//! are in flight at once.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};
use snapdeck_api::{CreateDevbox, Devbox, DevboxStatus, Metadata};
use snapdeck_core::fanout::{ATTEMPT_KEY, BATCH_KEY, ChildSpec};

use crate::api::{Api, ApiError, api_message};
use crate::storage::{self, Area};

/// A launch as kept in local storage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredPlan {
    pub batch_id: String,
    pub snapshot_id: String,
    pub cap: usize,
    pub children: Vec<StoredChild>,
}

/// One planned child.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredChild {
    pub label: String,
    pub name: String,
    pub metadata: Metadata,
    pub task: Option<(String, String)>,
}

impl From<ChildSpec> for StoredChild {
    fn from(c: ChildSpec) -> Self {
        Self {
            label: c.label,
            name: c.name,
            metadata: c.metadata,
            task: c.task,
        }
    }
}

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

/// What the tab knows about one child's launch (beyond the devbox list).
#[derive(Debug, Clone, PartialEq)]
pub enum ChildNote {
    Creating,
    WritingTask(String),
    TaskWritten(String),
    Failed(String),
}

/// The tab's notes per batch and label, shared by the page and the launcher.
#[derive(Debug, Clone, Copy)]
pub struct Notes(RwSignal<BTreeMap<(String, String), ChildNote>>);

impl Notes {
    pub fn get(&self, batch: &str, label: &str) -> Option<ChildNote> {
        self.0
            .with(|m| m.get(&(batch.to_owned(), label.to_owned())).cloned())
    }

    fn clear(&self, batch: &str, label: &str) {
        if !self.0.is_disposed() {
            self.0
                .update(|m| _ = m.remove(&(batch.to_owned(), label.to_owned())));
        }
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
    /// Batches this tab is launching now (so a page remount does not start them twice).
    static LAUNCHING: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
}

/// Launches (or resumes) `plan`: reads the devbox list fresh, then runs each child's
/// step with at most `plan.cap` at once; `on_change` after each create and each end.
pub fn launch(api: Api, notes: Notes, plan: StoredPlan, on_change: Callback<()>) {
    let fresh = LAUNCHING.with(|l| l.borrow_mut().insert(plan.batch_id.clone()));
    if !fresh {
        return;
    }
    spawn_local(async move {
        // A failed listing is never read as "no child exists yet": that would start
        // every child again. Try a few times, then leave the plan for a later resume.
        let mut listed = None;
        let mut last_error = None;
        for attempt in 0..4u32 {
            match api.list_devboxes().await {
                Ok(l) => {
                    listed = Some(l);
                    break;
                }
                Err(e) => last_error = Some(e),
            }
            gloo_timers::future::TimeoutFuture::new(500 << attempt).await;
        }
        let Some(listed) = listed else {
            let why = last_error.map(|e| api_message(&e)).unwrap_or_default();
            for c in &plan.children {
                notes.set(
                    &plan.batch_id,
                    &c.label,
                    ChildNote::Failed(format!(
                        "Could not list devboxes to resume the launch ({why}); reload to try again."
                    )),
                );
            }
            LAUNCHING.with(|l| l.borrow_mut().remove(&plan.batch_id));
            on_change.run(());
            return;
        };
        let queue: Rc<RefCell<VecDeque<StoredChild>>> =
            Rc::new(RefCell::new(plan.children.iter().cloned().collect()));
        let workers = plan.cap.clamp(1, plan.children.len().max(1));
        let done = Rc::new(RefCell::new(0usize));
        let listed = Rc::new(listed);
        for _ in 0..workers {
            let queue = queue.clone();
            let done = done.clone();
            let listed = listed.clone();
            let plan = plan.clone();
            spawn_local(async move {
                loop {
                    let next = queue.borrow_mut().pop_front();
                    let Some(child) = next else { break };
                    let existing = newest_with_label(&listed, &plan.batch_id, &child.label);
                    let _ = ensure(api, notes, &plan, &child, existing, on_change).await;
                    on_change.run(());
                }
                *done.borrow_mut() += 1;
                if *done.borrow() == workers {
                    forget(&plan.batch_id);
                    LAUNCHING.with(|l| l.borrow_mut().remove(&plan.batch_id));
                    on_change.run(());
                }
            });
        }
    });
}

/// Starts one more devbox for a failed attempt (same label, name, metadata and task).
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
    let child = StoredChild {
        label,
        name: failed.name.clone().unwrap_or_default(),
        metadata: failed.metadata.clone(),
        task,
    };
    let plan = StoredPlan {
        batch_id,
        snapshot_id,
        cap: 1,
        children: vec![child.clone()],
    };
    spawn_local(async move {
        let _ = ensure(api, notes, &plan, &child, None, on_change).await;
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

fn newest_with_label(list: &[Devbox], batch: &str, label: &str) -> Option<Devbox> {
    list.iter()
        .filter(|d| {
            d.metadata.get(BATCH_KEY).is_some_and(|b| b == batch)
                && d.metadata.get(ATTEMPT_KEY).is_some_and(|l| l == label)
        })
        .max_by_key(|d| d.create_time_ms)
        .cloned()
}

/// One child's step: create (unless `existing`), wait until it runs, write its task.
async fn ensure(
    api: Api,
    notes: Notes,
    plan: &StoredPlan,
    child: &StoredChild,
    existing: Option<Devbox>,
    on_change: Callback<()>,
) -> Result<(), ApiError> {
    let batch = plan.batch_id.as_str();
    let label = child.label.as_str();
    let fail = |e: &ApiError| notes.set(batch, label, ChildNote::Failed(api_message(e)));
    let devbox = match existing {
        Some(d) => d,
        None => {
            notes.set(batch, label, ChildNote::Creating);
            let body = CreateDevbox {
                name: Some(child.name.clone()),
                metadata: Some(child.metadata.clone()),
                snapshot_id: Some(plan.snapshot_id.clone()),
                ..Default::default()
            };
            let d = api.create_devbox(&body).await.inspect_err(fail)?;
            notes.clear(batch, label);
            on_change.run(());
            d
        }
    };
    let settled = [
        DevboxStatus::Running,
        DevboxStatus::Failure,
        DevboxStatus::Shutdown,
        DevboxStatus::Suspended,
    ];
    let mut now = devbox;
    let mut waits = 0;
    while !settled.contains(&now.status) && waits < 60 {
        waits += 1;
        match api.wait_for_status(&now.id, &settled, 20.0).await {
            Ok(Some(d)) => now = d,
            Ok(None) => {}
            Err(e) if e.is_not_found() => return Err(e).inspect_err(fail),
            Err(_) => gloo_timers::future::TimeoutFuture::new(1_000).await,
        }
    }
    on_change.run(());
    if now.status != DevboxStatus::Running {
        // The tile shows the devbox's own failure reason; nothing more to do here.
        return Ok(());
    }
    if let Some((path, text)) = &child.task {
        let already = api.read_file(&now.id, path).await.ok();
        if already.as_deref() != Some(text.as_str()) {
            notes.set(batch, label, ChildNote::WritingTask(path.clone()));
            api.write_file(&now.id, path, text)
                .await
                .inspect_err(fail)?;
        }
        notes.set(batch, label, ChildNote::TaskWritten(path.clone()));
    }
    Ok(())
}
