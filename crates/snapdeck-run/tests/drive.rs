//! The shared driver over an in-memory API: the plan must still hold at each delete
//! (issue 12) whoever drives, statuses are asked only when the judgment needs them,
//! the observer sees every delete before it is sent, cancels and retries work.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};

use futures::executor::block_on;
use snapdeck_api::{ApiError, Metadata, Snapshot, SnapshotStatus};
use snapdeck_core::bulk::{BulkRun, Confirmed, ItemState, Listing, Phase, SkipReason};
use snapdeck_core::retention::{self, RetentionPolicy};
use snapdeck_run::{Observer, Options, RunApi, drive};

const NOW: i64 = 1_800_000_000_000;

/// The disk-snapshot API in memory. Its clock moves only when someone sleeps.
#[derive(Default)]
struct Fake {
    snaps: RefCell<BTreeMap<String, (Snapshot, SnapshotStatus)>>,
    /// Status codes to answer to the next deletes / status calls of an id.
    delete_failures: RefCell<BTreeMap<String, Vec<u16>>>,
    status_failures: RefCell<BTreeSet<String>>,
    /// Every request, in order: "list", "status <id>", "delete <id>".
    log: RefCell<Vec<String>>,
    clock: Cell<i64>,
}

fn api_error(status: u16) -> ApiError {
    ApiError::Api {
        status,
        message: "injected".into(),
    }
}

fn nightly(n: i64) -> Snapshot {
    Snapshot {
        id: format!("snp_{n}"),
        create_time_ms: NOW - n * 60_000,
        metadata: Metadata::new(),
        source_devbox_id: "dbx_1".into(),
        name: Some(format!("nightly-{n}")),
        commit_message: None,
        size_bytes: Some(10),
        source_blueprint_id: None,
    }
}

impl Fake {
    fn with(ns: impl IntoIterator<Item = i64>) -> Self {
        let fake = Self::default();
        fake.clock.set(NOW);
        for n in ns {
            let s = nightly(n);
            fake.snaps
                .borrow_mut()
                .insert(s.id.clone(), (s, SnapshotStatus::Complete));
        }
        fake
    }

    fn all(&self) -> Vec<Snapshot> {
        self.snaps
            .borrow()
            .values()
            .map(|(s, _)| s.clone())
            .collect()
    }

    fn statuses(&self) -> BTreeMap<String, SnapshotStatus> {
        self.snaps
            .borrow()
            .iter()
            .map(|(id, (_, st))| (id.clone(), *st))
            .collect()
    }

    fn remove(&self, n: i64) {
        self.snaps.borrow_mut().remove(&format!("snp_{n}"));
    }

    fn sent(&self, prefix: &str) -> Vec<String> {
        self.log
            .borrow()
            .iter()
            .filter_map(|l| l.strip_prefix(prefix).map(str::to_owned))
            .collect()
    }
}

impl RunApi for Fake {
    async fn list(&self, listing: &Listing) -> Result<Vec<Snapshot>, ApiError> {
        self.log.borrow_mut().push("list".into());
        Ok(self
            .all()
            .into_iter()
            .filter(|s| match listing {
                Listing::Account => true,
                Listing::Devboxes(ids) => ids.contains(&s.source_devbox_id),
            })
            .collect())
    }

    async fn status(&self, id: &str) -> Result<SnapshotStatus, ApiError> {
        self.log.borrow_mut().push(format!("status {id}"));
        if self.status_failures.borrow().contains(id) {
            return Err(api_error(500));
        }
        self.snaps
            .borrow()
            .get(id)
            .map(|(_, st)| *st)
            .ok_or_else(|| api_error(404))
    }

    async fn delete(&self, id: &str) -> Result<(), ApiError> {
        self.log.borrow_mut().push(format!("delete {id}"));
        let injected = self
            .delete_failures
            .borrow_mut()
            .get_mut(id)
            .and_then(|f| (!f.is_empty()).then(|| f.remove(0)));
        if let Some(status) = injected {
            return Err(api_error(status));
        }
        match self.snaps.borrow_mut().remove(id) {
            Some(_) => Ok(()),
            None => Err(api_error(404)),
        }
    }

    async fn sleep(&self, ms: u64) {
        self.clock
            .set(self.clock.get() + i64::try_from(ms).unwrap_or(i64::MAX));
    }

    fn now_ms(&self) -> i64 {
        self.clock.get()
    }
}

fn keep_one() -> RetentionPolicy {
    RetentionPolicy::default()
}

fn planned(fake: &Fake, policy: &RetentionPolicy) -> BulkRun {
    BulkRun::from_plan(&retention::plan(policy, &fake.all(), &fake.statuses(), NOW))
}

fn confirmed(n: i64) -> Confirmed {
    let s = nightly(n);
    Confirmed {
        snapshot_id: s.id,
        source_devbox_id: s.source_devbox_id,
        name: s.name,
        size_bytes: s.size_bytes,
        status: Some(SnapshotStatus::Complete),
    }
}

fn run_it(fake: &Fake, run: &mut BulkRun) -> snapdeck_run::Report {
    block_on(drive(fake, run, &Options::default(), &mut ()))
}

#[test]
fn unchanged_the_plan_deletes_what_it_says_with_one_listing_and_no_status_calls() {
    let fake = Fake::with(1..=6);
    let mut run = planned(&fake, &keep_one());
    let report = run_it(&fake, &mut run);
    assert_eq!(report.waves, 1);
    assert_eq!(report.status_calls, 0);
    assert_eq!(run.counts().done, 5);
    assert_eq!(fake.all(), vec![nightly(1)]);
}

#[test]
fn the_kept_snapshot_deleted_behind_the_plans_back_saves_the_other_five() {
    // Issue 12 as reported: the plan keeps nightly-1 and deletes five; someone
    // deletes nightly-1 before the person confirms.
    let fake = Fake::with(1..=6);
    let mut run = planned(&fake, &keep_one());
    fake.remove(1);
    run_it(&fake, &mut run);
    assert!(fake.sent("delete ").is_empty(), "{:?}", fake.log.borrow());
    let c = run.counts();
    assert_eq!((c.done, c.skipped), (0, 5));
    assert_eq!(fake.all().len(), 5, "the devbox keeps its snapshots");
    let why = match &run.items[0].state {
        ItemState::Skipped { reason } => reason.to_string(),
        other => panic!("{other:?}"),
    };
    assert!(
        why.starts_with("Kept now: nightly-1, which this plan kept, was deleted elsewhere"),
        "{why}"
    );
}

#[test]
fn a_hand_picked_run_asks_the_status_it_needs_and_keeps_the_last_complete_without_it() {
    // The Snapshots page deletes nightly-2; whether nightly-1 is complete decides
    // whether nightly-2 is the devbox's last complete snapshot.
    let fake = Fake::with(1..=2);
    let mut run = BulkRun::new([confirmed(2)]);
    let report = run_it(&fake, &mut run);
    assert_eq!(report.status_calls, 1);
    assert_eq!(fake.sent("status "), ["snp_1"]);
    assert_eq!(fake.sent("delete "), ["snp_2"]);

    let fake = Fake::with(1..=2);
    fake.status_failures.borrow_mut().insert("snp_1".into());
    let mut run = BulkRun::new([confirmed(2)]);
    run_it(&fake, &mut run);
    assert!(fake.sent("delete ").is_empty());
    assert!(matches!(
        &run.items[0].state,
        ItemState::Skipped {
            reason: SkipReason::LastComplete { .. }
        }
    ));
}

/// Records, at every `changed`, which items were being deleted.
#[derive(Default)]
struct Recorder<'a> {
    seen_deleting: BTreeSet<String>,
    log: Option<&'a RefCell<Vec<String>>>,
    cancel: bool,
}

impl Observer for Recorder<'_> {
    fn changed(&mut self, run: &BulkRun) {
        for item in &run.items {
            if matches!(
                item.state,
                ItemState::Running {
                    phase: Phase::Deleting,
                    ..
                }
            ) && self
                .seen_deleting
                .insert(item.confirmed.snapshot_id.clone())
                && let Some(log) = self.log
            {
                log.borrow_mut()
                    .push(format!("observed {}", item.confirmed.snapshot_id));
            }
        }
    }

    fn cancel_requested(&self) -> bool {
        self.cancel
    }
}

#[test]
fn the_observer_sees_each_delete_before_it_is_sent() {
    let fake = Fake::with(1..=12);
    let mut run = planned(&fake, &keep_one()).with_concurrency(2);
    let mut observer = Recorder {
        log: Some(&fake.log),
        ..Recorder::default()
    };
    block_on(drive(&fake, &mut run, &Options::default(), &mut observer));
    assert_eq!(run.counts().done, 11);
    let log = fake.log.borrow();
    for (n, line) in log.iter().enumerate() {
        if let Some(id) = line.strip_prefix("delete ") {
            let observed = format!("observed {id}");
            assert!(
                log[..n].contains(&observed),
                "{id} sent unobserved: {log:?}"
            );
        }
    }
}

#[test]
fn a_cancel_asked_for_stops_every_delete_not_yet_sent() {
    let fake = Fake::with(1..=6);
    let mut run = planned(&fake, &keep_one());
    let mut observer = Recorder {
        cancel: true,
        ..Recorder::default()
    };
    block_on(drive(&fake, &mut run, &Options::default(), &mut observer));
    assert!(fake.log.borrow().is_empty(), "{:?}", fake.log.borrow());
    assert_eq!(run.counts().skipped, 5);
}

#[test]
fn a_transient_failure_is_retried_after_the_runtime_sleeps() {
    let fake = Fake::with(1..=3);
    fake.delete_failures
        .borrow_mut()
        .insert("snp_2".into(), vec![503]);
    let mut run = planned(&fake, &keep_one());
    run_it(&fake, &mut run);
    assert_eq!(run.counts().done, 2);
    assert!(
        fake.clock.get() > NOW,
        "the backoff was slept through the api"
    );
    assert_eq!(fake.sent("delete snp_2").len(), 2);
}
