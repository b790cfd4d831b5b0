//! Property tests of issue 12's invariant: the plan must still hold at the moment of
//! each delete. Random snapshot sets, random policies (or hand-picked selections), and
//! random outside changes between the plan and each wave — deletes elsewhere, new
//! snapshots and snapshots completing, pins and unpins, devboxes started from a
//! snapshot — and a run driven the way `snapdeck-run` drives it (one listing at a time,
//! the few statuses it asks for answered truthfully, deletes in flight while the next
//! wave is listed). Whatever happens:
//!
//! * it never deletes a snapshot that was not confirmed;
//! * it never deletes a snapshot that the policy, applied to the listing of the wave
//!   that cleared it (with the true statuses), would keep;
//! * it never deletes one older than a complete snapshot the plan kept on that devbox
//!   which that listing no longer shows;
//! * with keep-N ≥ 1 a devbox never loses its last complete snapshot through the run;
//! * a hand-picked run never deletes the last complete or a pinned snapshot without a
//!   typed override.
//!
//! In "drain" mode every wave's deletes land before the next outside change, so the
//! last three are checked against the world itself at the moment of each delete; in
//! "pipelined" mode (changes while deletes are out) against the listing that cleared
//! the snapshot, since no check can see a change made after its listing.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use proptest::prelude::*;
use snapdeck_api::{ApiError, Metadata, PINNED_KEY, Snapshot, SnapshotStatus};
use snapdeck_core::bulk::{BulkRun, Confirmed, ItemState, Phase};
use snapdeck_core::recheck::RunRule;
use snapdeck_core::retention::{self, Decision, RetentionPolicy, Scope};

const NOW: i64 = 1_800_000_000_000;
const HOUR: i64 = 3_600_000;
const DEVBOXES: [&str; 2] = ["dbx_a", "dbx_b"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    Complete,
    Error,
    InProgress,
}

impl St {
    fn status(self) -> SnapshotStatus {
        match self {
            Self::Complete => SnapshotStatus::Complete,
            Self::Error => SnapshotStatus::Error,
            Self::InProgress => SnapshotStatus::InProgress,
        }
    }
}

fn st() -> impl Strategy<Value = St> {
    prop_oneof![5 => Just(St::Complete), 1 => Just(St::Error), 1 => Just(St::InProgress)]
}

#[derive(Debug, Clone)]
struct Init {
    devbox: usize,
    /// Hours old (few values, so ties in time happen).
    age_h: i64,
    st: St,
    pinned: bool,
}

fn init() -> impl Strategy<Value = Init> {
    (
        0..DEVBOXES.len(),
        0i64..120,
        st(),
        prop::bool::weighted(0.15),
    )
        .prop_map(|(devbox, age_h, st, pinned)| Init {
            devbox,
            age_h,
            st,
            pinned,
        })
}

/// Something someone else does between the plan and a wave.
#[derive(Debug, Clone)]
enum Change {
    /// Deletes the n-th listed snapshot (modulo), whatever it is.
    DeleteElsewhere(usize),
    /// Deletes the n-th listed snapshot the run does not delete (one it keeps).
    DeleteKept(usize),
    /// A new snapshot of the n-th devbox (the started ones included), newest of all.
    New {
        devbox: usize,
        st: St,
        pinned: bool,
    },
    /// The n-th in-progress snapshot finishes (complete, or errored).
    Finish(usize, bool),
    Pin(usize),
    Unpin(usize),
    /// A new devbox is started from the n-th snapshot (it takes snapshots of its own
    /// later, through `New`).
    StartFrom(usize),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        3 => any::<usize>().prop_map(Change::DeleteElsewhere),
        3 => any::<usize>().prop_map(Change::DeleteKept),
        2 => (any::<usize>(), st(), prop::bool::weighted(0.2))
            .prop_map(|(devbox, st, pinned)| Change::New { devbox, st, pinned }),
        2 => (any::<usize>(), any::<bool>()).prop_map(|(n, ok)| Change::Finish(n, ok)),
        1 => any::<usize>().prop_map(Change::Pin),
        1 => any::<usize>().prop_map(Change::Unpin),
        1 => any::<usize>().prop_map(Change::StartFrom),
    ]
}

fn policy() -> impl Strategy<Value = RetentionPolicy> {
    (
        0u32..4,
        prop::option::weighted(0.3, 1u32..4),
        any::<bool>(),
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.3),
    )
        .prop_map(
            |(keep, days, errored, allow_newest, one_devbox)| RetentionPolicy {
                scope: if one_devbox {
                    Scope::Devbox(DEVBOXES[0].into())
                } else {
                    Scope::All
                },
                keep_newest: keep,
                keep_younger_than_days: days,
                include_errored: errored,
                allow_deleting_newest: allow_newest,
            },
        )
}

#[derive(Debug, Clone)]
enum Mode {
    /// From the plan of this policy, minus the rows whose bit is set in `unticked`.
    Plan {
        policy: RetentionPolicy,
        unticked: u64,
    },
    /// Hand-picked: the snapshots whose bit is set (complete or errored only), with a
    /// typed override for those whose bit is set in `overrides`.
    Picked { picked: u64, overrides: u64 },
}

fn mode() -> impl Strategy<Value = Mode> {
    prop_oneof![
        3 => (policy(), prop::bits::u64::masked(0xff))
            .prop_map(|(policy, unticked)| Mode::Plan { policy, unticked }),
        2 => (any::<u64>(), prop::bits::u64::masked(0xffff_ffff)
            .prop_map(|m| m & 0x0101_0101_0101_0101))
            .prop_map(|(picked, overrides)| Mode::Picked { picked, overrides }),
    ]
}

/// The account as the API has it: listed snapshots and their true statuses.
#[derive(Debug, Clone, Default)]
struct World {
    snaps: BTreeMap<String, (Snapshot, SnapshotStatus)>,
    devboxes: Vec<String>,
    next_id: usize,
    clock: i64,
}

impl World {
    fn add(&mut self, devbox: &str, create_time_ms: i64, st: St, pinned: bool) {
        let id = format!("snp_{:03}", self.next_id);
        self.next_id += 1;
        let mut metadata = Metadata::new();
        if pinned {
            metadata.insert(PINNED_KEY.into(), "true".into());
        }
        let s = Snapshot {
            id: id.clone(),
            create_time_ms,
            metadata,
            source_devbox_id: devbox.into(),
            name: Some(format!("name-{id}")),
            commit_message: None,
            size_bytes: Some(1),
            source_blueprint_id: None,
        };
        self.snaps.insert(id, (s, st.status()));
    }

    fn nth(&self, n: usize) -> Option<String> {
        let len = self.snaps.len();
        (len > 0).then(|| self.snaps.keys().nth(n % len).cloned().unwrap_or_default())
    }

    fn apply(&mut self, change: &Change, confirmed: &BTreeSet<String>) {
        match change {
            Change::DeleteKept(n) => {
                let kept: Vec<String> = self
                    .snaps
                    .keys()
                    .filter(|id| !confirmed.contains(*id))
                    .cloned()
                    .collect();
                if !kept.is_empty() {
                    self.snaps.remove(&kept[n % kept.len()]);
                }
            }
            Change::DeleteElsewhere(n) => {
                if let Some(id) = self.nth(*n) {
                    self.snaps.remove(&id);
                }
            }
            Change::New { devbox, st, pinned } => {
                self.clock += 1;
                let d = self.devboxes[devbox % self.devboxes.len()].clone();
                self.add(&d, NOW + self.clock * HOUR, *st, *pinned);
            }
            Change::Finish(n, ok) => {
                let busy: Vec<String> = self
                    .snaps
                    .iter()
                    .filter(|(_, (_, st))| *st == SnapshotStatus::InProgress)
                    .map(|(id, _)| id.clone())
                    .collect();
                if !busy.is_empty()
                    && let Some((_, st)) = self.snaps.get_mut(&busy[n % busy.len()])
                {
                    *st = if *ok {
                        SnapshotStatus::Complete
                    } else {
                        SnapshotStatus::Error
                    };
                }
            }
            Change::Pin(n) | Change::Unpin(n) => {
                if let Some(id) = self.nth(*n)
                    && let Some((s, _)) = self.snaps.get_mut(&id)
                {
                    if matches!(change, Change::Pin(_)) {
                        s.metadata.insert(PINNED_KEY.into(), "true".into());
                    } else {
                        s.metadata.remove(PINNED_KEY);
                    }
                }
            }
            Change::StartFrom(n) => {
                if self.nth(*n).is_some() {
                    let d = format!("dbx_started_{}", self.devboxes.len());
                    self.devboxes.push(d);
                }
            }
        }
    }

    fn listing(&self, devboxes: &[String]) -> Vec<Snapshot> {
        self.snaps
            .values()
            .filter(|(s, _)| devboxes.contains(&s.source_devbox_id))
            .map(|(s, _)| s.clone())
            .collect()
    }

    fn statuses(&self) -> BTreeMap<String, SnapshotStatus> {
        self.snaps
            .iter()
            .map(|(id, (_, st))| (id.clone(), *st))
            .collect()
    }
}

/// What the listing that cleared a snapshot showed.
#[derive(Debug, Clone)]
struct Cleared {
    listed: Vec<Snapshot>,
    statuses: BTreeMap<String, SnapshotStatus>,
    at_ms: i64,
}

fn is_pinned(s: &Snapshot) -> bool {
    s.metadata.get(PINNED_KEY).is_some_and(|v| v == "true")
}

/// Newer in the planner's order.
fn newer(a: &Snapshot, b: &Snapshot) -> bool {
    (a.create_time_ms, &a.id) > (b.create_time_ms, &b.id)
}

struct Sim {
    world: World,
    run: BulkRun,
    policy: Option<RetentionPolicy>,
    confirmed: BTreeSet<String>,
    overrides: BTreeSet<String>,
    /// Complete snapshots the plan kept: (id, snapshot).
    plan_kept: Vec<Snapshot>,
    cleared: BTreeMap<String, Cleared>,
    drain: bool,
    now: i64,
}

impl Sim {
    /// Lists a wave (after `changes`), answers the statuses the run asks for, judges.
    fn wave(&mut self, changes: &[Change]) -> Result<bool, TestCaseError> {
        let Some(wave) = self.run.next_wave(self.now) else {
            return Ok(false);
        };
        for c in changes {
            self.world.apply(c, &self.confirmed);
        }
        self.now += HOUR / 6;
        let listed = self.world.listing(&wave.devbox_ids);
        let truth = self.world.statuses();
        for id in self.run.statuses_to_fetch(&wave, &listed) {
            prop_assert!(
                !self.confirmed.contains(&id),
                "asked the status of confirmed {}",
                id
            );
            if let (Some(s), Some(st)) = (listed.iter().find(|s| s.id == id), truth.get(&id)) {
                self.run.learn_status(s, *st);
            }
        }
        self.run.on_listing(&wave, &listed, self.now);
        self.check_floor_at_wave(&wave.devbox_ids, &listed, &truth)?;
        for item in &self.run.items {
            let id = &item.confirmed.snapshot_id;
            if item.state.is_settled() {
                continue;
            }
            if let ItemState::Running {
                phase: Phase::Verified,
                ..
            } = item.state
                && wave.devbox_ids.contains(&item.confirmed.source_devbox_id)
            {
                self.cleared.insert(
                    id.clone(),
                    Cleared {
                        listed: listed.clone(),
                        statuses: truth.clone(),
                        at_ms: self.now,
                    },
                );
            }
        }
        Ok(true)
    }

    /// Right after a wave is judged, per devbox of the wave: if the listing showed a
    /// complete snapshot that no delete of ours was taking away, one stays out of the
    /// run's deletes (sent or cleared) — for a policy keeping at least one, or a
    /// hand-picked run unless all those are overridden. (In pipelined mode this is
    /// how "never its last complete snapshot" can be checked: the world may change
    /// after the listing.)
    fn check_floor_at_wave(
        &self,
        devboxes: &[String],
        listed: &[Snapshot],
        truth: &BTreeMap<String, SnapshotStatus>,
    ) -> Result<(), TestCaseError> {
        let applies = self.policy.as_ref().is_none_or(|p| p.keep_newest >= 1);
        if !applies {
            return Ok(());
        }
        let phase = |id: &str| match self.run.item(id).map(|i| &i.state) {
            Some(ItemState::Running { phase, .. }) => Some(*phase),
            _ => None,
        };
        for d in devboxes {
            let complete: Vec<&str> = listed
                .iter()
                .filter(|s| {
                    &s.source_devbox_id == d && truth.get(&s.id) == Some(&SnapshotStatus::Complete)
                })
                .map(|s| s.id.as_str())
                .filter(|id| phase(id) != Some(Phase::Deleting))
                .collect();
            if complete.is_empty() || complete.iter().all(|id| self.overrides.contains(*id)) {
                continue;
            }
            prop_assert!(
                complete.iter().any(|id| phase(id) != Some(Phase::Verified)),
                "the run is taking every complete snapshot of {}: {:?}",
                d,
                complete
            );
        }
        Ok(())
    }

    /// Sends `id`'s delete to the world, checking every property first.
    fn delete(&mut self, id: &str) -> Result<(), TestCaseError> {
        prop_assert!(self.confirmed.contains(id), "deleted unconfirmed {}", id);
        let cleared = self.cleared.get(id).cloned();
        prop_assert!(
            cleared.is_some(),
            "{} deleted without a listing clearing it",
            id
        );
        let Some(cleared) = cleared else {
            return Ok(());
        };
        let Some(me) = cleared.listed.iter().find(|s| s.id == id).cloned() else {
            return Err(TestCaseError::fail(format!(
                "{id} cleared though not listed"
            )));
        };
        let devbox = me.source_devbox_id.clone();
        // What to check against: the world itself when nothing changed since the
        // listing but our own deletes (drain), else the listing that cleared it.
        let (listed, statuses): (Vec<Snapshot>, BTreeMap<String, SnapshotStatus>) = if self.drain {
            (
                self.world.snaps.values().map(|(s, _)| s.clone()).collect(),
                self.world.statuses(),
            )
        } else {
            (cleared.listed.clone(), cleared.statuses.clone())
        };
        let on_devbox: Vec<Snapshot> = listed
            .iter()
            .filter(|s| s.source_devbox_id == devbox)
            .cloned()
            .collect();
        let complete_others: Vec<&Snapshot> = on_devbox
            .iter()
            .filter(|s| s.id != id && statuses.get(&s.id) == Some(&SnapshotStatus::Complete))
            .collect();
        let my_status = self.run.item(id).and_then(|i| i.confirmed.status);
        match &self.policy {
            Some(policy) => {
                let plan = retention::plan(policy, &on_devbox, &statuses, cleared.at_ms);
                let decision = plan
                    .items
                    .iter()
                    .find(|i| i.snapshot.id == id)
                    .map(|i| i.decision);
                prop_assert!(
                    matches!(decision, Some(Decision::Delete(_))),
                    "{} deleted, but the policy on its listing decides {:?}",
                    id,
                    decision
                );
                let present: BTreeSet<&str> = on_devbox.iter().map(|s| s.id.as_str()).collect();
                for k in &self.plan_kept {
                    prop_assert!(
                        !(k.source_devbox_id == devbox
                            && newer(k, &me)
                            && !present.contains(k.id.as_str())),
                        "{} deleted though {}, kept by the plan and newer, is gone",
                        id,
                        k.id
                    );
                }
                if self.drain
                    && policy.keep_newest >= 1
                    && my_status == Some(SnapshotStatus::Complete)
                {
                    prop_assert!(
                        !complete_others.is_empty(),
                        "{} was the last complete snapshot of {}",
                        id,
                        devbox
                    );
                }
            }
            None => {
                if !self.overrides.contains(id) {
                    prop_assert!(!is_pinned(&me), "pinned {} deleted without an override", id);
                    if self.drain && my_status == Some(SnapshotStatus::Complete) {
                        prop_assert!(
                            !complete_others.is_empty(),
                            "hand-picked {} was the last complete snapshot of {}",
                            id,
                            devbox
                        );
                    }
                }
            }
        }
        let existed = self.world.snaps.remove(id).is_some();
        let result = if existed {
            Ok(())
        } else {
            Err(ApiError::Api {
                status: 404,
                message: "gone".into(),
            })
        };
        self.run.on_result(id, result, self.now);
        Ok(())
    }
}

fn setup(inits: &[Init], mode: &Mode, concurrency: usize, drain: bool) -> Sim {
    let mut world = World {
        devboxes: DEVBOXES.iter().map(|d| (*d).to_owned()).collect(),
        ..World::default()
    };
    for i in inits {
        world.add(DEVBOXES[i.devbox], NOW - i.age_h * HOUR, i.st, i.pinned);
    }
    let snaps: Vec<Snapshot> = world.snaps.values().map(|(s, _)| s.clone()).collect();
    let statuses = world.statuses();
    let bit = |mask: u64, n: usize| n < 64 && mask & (1 << n) != 0;
    let (run, policy, overrides, plan_kept) = match mode {
        Mode::Plan { policy, unticked } => {
            let plan = retention::plan(policy, &snaps, &statuses, NOW);
            let confirmed: Vec<Confirmed> = plan
                .to_delete()
                .enumerate()
                .filter(|(n, _)| !bit(*unticked, *n))
                .map(|(_, i)| Confirmed {
                    snapshot_id: i.snapshot.id.clone(),
                    source_devbox_id: i.snapshot.source_devbox_id.clone(),
                    name: i.snapshot.name.clone(),
                    size_bytes: i.snapshot.size_bytes,
                    status: i.status,
                })
                .collect();
            let kept = plan
                .to_keep()
                .filter(|i| i.status == Some(SnapshotStatus::Complete))
                .map(|i| i.snapshot.clone())
                .collect();
            let run = BulkRun::new(confirmed).under_plan(&plan);
            (run, Some(policy.clone()), BTreeSet::new(), kept)
        }
        Mode::Picked { picked, overrides } => {
            let chosen: Vec<&Snapshot> = snaps
                .iter()
                .enumerate()
                .filter(|(n, s)| {
                    bit(*picked, *n)
                        && matches!(
                            statuses.get(&s.id),
                            Some(SnapshotStatus::Complete | SnapshotStatus::Error)
                        )
                })
                .map(|(_, s)| s)
                .collect();
            let over: BTreeSet<String> = chosen
                .iter()
                .enumerate()
                .filter(|(n, _)| bit(*overrides, *n))
                .map(|(_, s)| s.id.clone())
                .collect();
            let run = BulkRun::new(chosen.iter().map(|s| Confirmed {
                snapshot_id: s.id.clone(),
                source_devbox_id: s.source_devbox_id.clone(),
                name: s.name.clone(),
                size_bytes: s.size_bytes,
                status: statuses.get(&s.id).copied(),
            }))
            .with_rule(RunRule::Floor {
                override_ids: over.clone(),
            });
            (run, None, over, Vec::new())
        }
    };
    let confirmed = run
        .items
        .iter()
        .map(|i| i.confirmed.snapshot_id.clone())
        .collect();
    Sim {
        world,
        run: run.with_concurrency(concurrency),
        policy,
        confirmed,
        overrides,
        plan_kept,
        cleared: BTreeMap::new(),
        drain,
        now: NOW,
    }
}

fn simulate(
    inits: Vec<Init>,
    mode: Mode,
    concurrency: usize,
    drain: bool,
    changes: Vec<Vec<Change>>,
    landings: Vec<u8>,
) -> Result<(), TestCaseError> {
    let mut sim = setup(&inits, &mode, concurrency, drain);
    let mut in_flight: VecDeque<String> = VecDeque::new();
    let (mut waves, mut step) = (0usize, 0usize);
    let no_changes = Vec::new();
    while !sim.run.is_finished() {
        step += 1;
        prop_assert!(step < 10_000, "the run never ends");
        let changes = changes.get(waves).unwrap_or(&no_changes);
        let listed = sim.wave(changes)?;
        waves += usize::from(listed);
        let sent = sim.run.next_deletes();
        let progressed = listed || !sent.is_empty();
        in_flight.extend(sent);
        if drain {
            // Every delete lands before anything else changes.
            while let Some(id) = in_flight.pop_front() {
                sim.delete(&id)?;
                in_flight.extend(sim.run.next_deletes());
            }
            continue;
        }
        let land = if progressed {
            usize::from(landings[step % landings.len()])
        } else {
            1
        };
        for _ in 0..land {
            let Some(id) = in_flight.pop_front() else {
                break;
            };
            sim.delete(&id)?;
        }
    }
    // Nothing was added, and the counts add up.
    let c = sim.run.counts();
    prop_assert_eq!(c.total, sim.confirmed.len());
    prop_assert_eq!(c.done + c.failed + c.skipped, c.total);
    // Unchanged world: the run deletes every confirmed snapshot the plan still deletes.
    if changes.iter().all(Vec::is_empty) && sim.policy.is_some() {
        prop_assert_eq!(c.done, c.total, "nothing changed, yet {:?}", sim.run.items);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn every_delete_still_follows_the_plan_at_its_wave(
        inits in prop::collection::vec(init(), 0..24),
        mode in mode(),
        concurrency in 1usize..4,
        drain in any::<bool>(),
        changes in prop::collection::vec(prop::collection::vec(change(), 0..4), 0..8),
        landings in prop::collection::vec(0u8..4, 1..8),
    ) {
        simulate(inits, mode, concurrency, drain, changes, landings)?;
    }

    /// The issue's own scenario, generalised: the plan's kept snapshots deleted before
    /// the first wave, and nothing else changing.
    #[test]
    fn deleting_what_the_plan_keeps_before_the_run_saves_the_rest(
        n in 2usize..10,
        keep in 1u32..3,
        concurrency in 1usize..4,
    ) {
        let inits: Vec<Init> = (0..n)
            .map(|i| Init { devbox: 0, age_h: i as i64, st: St::Complete, pinned: false })
            .collect();
        let policy = RetentionPolicy { keep_newest: keep, ..RetentionPolicy::default() };
        let mut sim = setup(&inits, &Mode::Plan { policy, unticked: 0 }, concurrency, true);
        for k in sim.plan_kept.clone() {
            sim.world.snaps.remove(&k.id);
        }
        let mut steps = 0;
        while !sim.run.is_finished() && steps < 1000 {
            steps += 1;
            sim.wave(&[])?;
            for id in sim.run.next_deletes() {
                sim.delete(&id)?;
            }
        }
        prop_assert_eq!(sim.run.counts().done, 0, "{:?}", sim.run.items);
        prop_assert_eq!(sim.world.snaps.len(), n.saturating_sub(keep as usize));
    }
}
