//! The demo account (`--seed demo`): a dozen devboxes in varied states with realistic
//! names, several snapshots each over the past weeks (one pinned, one failed, one still
//! in progress), devboxes started from other devboxes' snapshots (lineage), and two
//! blueprints. Deterministic relative to `now`: same ids, names and sizes every time,
//! with times a fixed distance in the past.

use std::collections::{HashMap, VecDeque};

use snapdeck_api::{
    Blueprint, BlueprintStatus, Devbox, DevboxStatus, FailureReason, LaunchParameters, Metadata,
    PINNED_KEY, ShutdownReason, Snapshot, SnapshotStatus, StateTransition,
};

use crate::error::Result;
use crate::store::{BlueprintRec, DevboxRec, HOME, SnapshotRec, Step, Store, new_id};

const HOUR: i64 = 3_600_000;
const MB: u64 = 1_000_000;

/// How a seeded devbox's life went after it booted.
#[derive(Debug, Clone, Copy)]
enum Fate {
    Running,
    /// Still booting: reaches `running` after the configured boot time.
    Booting,
    Suspended {
        hours_ago: f64,
    },
    Shutdown {
        hours_ago: f64,
        reason: ShutdownReason,
    },
    Failed {
        hours_ago: f64,
        reason: FailureReason,
    },
}

/// How a seeded snapshot ended.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    Complete,
    Failed,
    /// Completes after the configured snapshot duration.
    InProgress,
}

struct Seeder<'a> {
    store: &'a mut Store,
    rng: fastrand::Rng,
    now: i64,
    /// devbox id → base blueprint id, for `source_blueprint_id`.
    bases: HashMap<String, Option<String>>,
}

fn meta(pairs: &[(&str, &str)]) -> Metadata {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

impl Seeder<'_> {
    fn at(&self, hours_ago: f64) -> i64 {
        self.now - (hours_ago * HOUR as f64) as i64
    }

    fn blueprint(&mut self, name: &str, hours_ago: f64, commands: &[&str]) -> Result<String> {
        let created = self.at(hours_ago);
        let rec = BlueprintRec {
            seq: 0,
            view: Blueprint {
                id: new_id(&mut self.rng, "bpt"),
                name: name.to_owned(),
                status: BlueprintStatus::BuildComplete,
                state: "created".into(),
                create_time_ms: created,
                build_finish_time_ms: Some(created + 4 * 60_000),
                failure_reason: None,
                base_blueprint_id: None,
                parameters: serde_json::json!({
                    "name": name,
                    "system_setup_commands": commands,
                }),
                metadata: meta(&[("owner", "platform-team")]),
            },
            steps: VecDeque::new(),
        };
        Ok(self.store.insert_blueprint(rec)?.view.id)
    }

    #[allow(clippy::too_many_arguments)]
    fn devbox(
        &mut self,
        name: &str,
        hours_ago: f64,
        blueprint: Option<&str>,
        from_snapshot: Option<&str>,
        metadata: &[(&str, &str)],
        fate: Fate,
    ) -> Result<String> {
        let created = self.at(hours_ago);
        let id = new_id(&mut self.rng, "dbx");
        let base = match from_snapshot {
            Some(snap) => self
                .store
                .snapshot_status(snap)?
                .snapshot
                .and_then(|s| s.source_blueprint_id),
            None => blueprint.map(str::to_owned),
        };
        let transition = |status, at| StateTransition {
            status,
            transition_time_ms: Some(at),
            failure_reason: None,
        };
        let mut view = Devbox {
            id: id.clone(),
            name: Some(name.to_owned()),
            status: DevboxStatus::Provisioning,
            create_time_ms: created,
            end_time_ms: None,
            metadata: meta(metadata),
            launch_parameters: LaunchParameters {
                resource_size_request: Some("SMALL".into()),
                architecture: Some("x86_64".into()),
                keep_alive_time_seconds: Some(3600),
                ..LaunchParameters::default()
            },
            capabilities: Vec::new(),
            state_transitions: vec![transition(DevboxStatus::Provisioning, created)],
            blueprint_id: blueprint.map(str::to_owned),
            snapshot_id: from_snapshot.map(str::to_owned),
            initiator_type: Some("api".into()),
            initiator_id: None,
            failure_reason: None,
            shutdown_reason: None,
        };
        let mut steps = VecDeque::new();
        if let Fate::Booting = fate {
            let boot = self.store.timings().boot_ms;
            view.create_time_ms = self.now;
            view.state_transitions = vec![transition(DevboxStatus::Provisioning, self.now)];
            steps.push_back(Step {
                status: DevboxStatus::Initializing,
                due_ms: self.now + boot * 2 / 3,
            });
            steps.push_back(Step {
                status: DevboxStatus::Running,
                due_ms: self.now + boot,
            });
        } else {
            // Booted in about a minute.
            for (status, after) in [
                (DevboxStatus::Initializing, 25_000),
                (DevboxStatus::Running, 70_000),
            ] {
                view.state_transitions
                    .push(transition(status, created + after));
            }
            view.status = DevboxStatus::Running;
        }
        match fate {
            Fate::Running | Fate::Booting => {}
            Fate::Suspended { hours_ago } => {
                let at = self.at(hours_ago);
                view.state_transitions
                    .push(transition(DevboxStatus::Suspending, at));
                view.state_transitions
                    .push(transition(DevboxStatus::Suspended, at + 20_000));
                view.status = DevboxStatus::Suspended;
            }
            Fate::Shutdown { hours_ago, reason } => {
                let at = self.at(hours_ago);
                view.state_transitions
                    .push(transition(DevboxStatus::Shutdown, at));
                view.status = DevboxStatus::Shutdown;
                view.end_time_ms = Some(at);
                view.shutdown_reason = Some(reason);
            }
            Fate::Failed { hours_ago, reason } => {
                let at = self.at(hours_ago);
                view.state_transitions.push(StateTransition {
                    status: DevboxStatus::Failure,
                    transition_time_ms: Some(at),
                    failure_reason: Some(reason),
                });
                view.status = DevboxStatus::Failure;
                view.end_time_ms = Some(at);
                view.failure_reason = Some(reason);
            }
        }
        let rec = DevboxRec {
            seq: 0,
            view,
            steps,
            base_blueprint_id: base.clone(),
            life: Default::default(),
        };
        self.store.insert_devbox(rec)?;
        self.bases.insert(id.clone(), base);
        let db = self.store.db();
        match from_snapshot {
            Some(snap) => {
                db.copy_files(snap, &id)?;
            }
            None => db.write_file(
                &id,
                &format!("{HOME}/README.md"),
                format!("# {name}\n\nWorkspace of the {name} devbox.\n").as_bytes(),
            )?,
        }
        Ok(id)
    }

    /// A snapshot of `devbox` taken `hours_ago`. The devbox's notes file is updated
    /// first, so each snapshot holds a different version of it (rollback shows).
    #[allow(clippy::too_many_arguments)]
    fn snapshot(
        &mut self,
        devbox: &str,
        hours_ago: f64,
        name: &str,
        commit_message: &str,
        metadata: &[(&str, &str)],
        size_mb: u64,
        outcome: Outcome,
    ) -> Result<String> {
        let created = self.at(hours_ago);
        let id = new_id(&mut self.rng, "snp");
        let db = self.store.db();
        db.write_file(
            devbox,
            &format!("{HOME}/NOTES.md"),
            format!("{name}\n\n{commit_message}\n").as_bytes(),
        )?;
        db.copy_files(devbox, &id)?;
        let size = size_mb * MB + self.rng.u64(0..MB);
        let (status, error_message, due_ms) = match outcome {
            Outcome::Complete => (SnapshotStatus::Complete, None, None),
            Outcome::Failed => (
                SnapshotStatus::Error,
                Some("disk snapshot failed: source volume became unavailable".to_owned()),
                None,
            ),
            Outcome::InProgress => (
                SnapshotStatus::InProgress,
                None,
                Some(self.now + self.store.timings().snapshot_ms),
            ),
        };
        let rec = SnapshotRec {
            seq: 0,
            view: Snapshot {
                id: id.clone(),
                create_time_ms: if outcome == Outcome::InProgress {
                    self.now
                } else {
                    created
                },
                metadata: meta(metadata),
                source_devbox_id: devbox.to_owned(),
                name: Some(name.to_owned()),
                commit_message: Some(commit_message.to_owned()),
                size_bytes: (status == SnapshotStatus::Complete).then_some(size),
                source_blueprint_id: self.bases.get(devbox).cloned().flatten(),
            },
            status,
            error_message,
            due_ms,
            will_fail: None,
            final_size_bytes: size,
        };
        self.store.insert_snapshot(rec)?;
        Ok(id)
    }
}

/// Seeds the demo account relative to `now` (into an empty store).
pub fn demo(store: &mut Store, now: i64) -> Result<()> {
    let mut s = Seeder {
        store,
        rng: fastrand::Rng::with_seed(0x5EED_DECC),
        now,
        bases: HashMap::new(),
    };
    let day = 24.0;
    let py = s.blueprint(
        "python-ml-base",
        40.0 * day,
        &["apt-get install -y python3.12", "pip install uv"],
    )?;
    let node = s.blueprint(
        "node-22-playwright",
        30.0 * day,
        &["npm i -g pnpm", "npx playwright install --with-deps"],
    )?;

    // An agent fixing flaky tests, snapshotted at each step; two attempts fan out from
    // the known-good snapshot.
    let flaky = s.devbox(
        "agent-fix-flaky-tests",
        21.0 * day,
        Some(&py),
        None,
        &[("team", "dev-productivity"), ("owner", "ana@example.com")],
        Fate::Running,
    )?;
    s.snapshot(
        &flaky,
        20.0 * day,
        "baseline",
        "Clone repo and install dependencies",
        &[("env", "dev"), ("owner", "ana@example.com")],
        1240,
        Outcome::Complete,
    )?;
    let good = s.snapshot(
        &flaky,
        14.0 * day,
        "known-good",
        "Reproduced the flake in tests/test_sync.py; all other tests green",
        &[
            ("env", "dev"),
            ("owner", "ana@example.com"),
            (PINNED_KEY, "true"),
        ],
        1385,
        Outcome::Complete,
    )?;
    s.snapshot(
        &flaky,
        9.0 * day,
        "retry-with-backoff",
        "Add retry with backoff to the sync client",
        &[("env", "dev"), ("owner", "ana@example.com")],
        1402,
        Outcome::Complete,
    )?;
    s.snapshot(
        &flaky,
        4.0 * day,
        "mock-clock",
        "Replace sleeps with a mock clock",
        &[("env", "dev"), ("owner", "ana@example.com")],
        1410,
        Outcome::Failed,
    )?;
    s.snapshot(
        &flaky,
        30.0,
        "fix-ready",
        "Flake fixed: 500 consecutive green runs",
        &[("env", "staging"), ("owner", "ana@example.com")],
        1436,
        Outcome::Complete,
    )?;

    let try_a = s.devbox(
        "agent-fix-flaky-tests-try-a",
        13.5 * day,
        None,
        Some(&good),
        &[("team", "dev-productivity"), ("attempt", "a")],
        Fate::Running,
    )?;
    s.snapshot(
        &try_a,
        12.0 * day,
        "try-a-result",
        "Attempt A: serialise the sync tests",
        &[("env", "dev"), ("attempt", "a")],
        1391,
        Outcome::Complete,
    )?;
    s.devbox(
        "agent-fix-flaky-tests-try-b",
        13.4 * day,
        None,
        Some(&good),
        &[("team", "dev-productivity"), ("attempt", "b")],
        Fate::Shutdown {
            hours_ago: 11.0 * day,
            reason: ShutdownReason::ApiShutdown,
        },
    )?;

    // A CI cache warmer snapshotted nightly, and a replica started from its latest.
    let ci = s.devbox(
        "ci-warm-cache",
        28.0 * day,
        Some(&node),
        None,
        &[("team", "ci"), ("owner", "ci-bot")],
        Fate::Running,
    )?;
    let mut latest_ci = String::new();
    for (i, days_ago) in [26.0, 19.0, 12.0, 5.0, 1.0].into_iter().enumerate() {
        latest_ci = s.snapshot(
            &ci,
            days_ago * day,
            &format!("nightly-{}", i + 1),
            &format!(
                "Nightly cache warm #{}: pnpm store and playwright browsers",
                i + 1
            ),
            &[("env", "ci"), ("owner", "ci-bot"), ("purpose", "cache")],
            2100 + 180 * i as u64,
            Outcome::Complete,
        )?;
    }
    s.devbox(
        "ci-warm-cache-replica",
        20.0,
        None,
        Some(&latest_ci),
        &[("team", "ci"), ("owner", "ci-bot")],
        Fate::Running,
    )?;

    let auth = s.devbox(
        "agent-refactor-auth",
        16.0 * day,
        Some(&py),
        None,
        &[("team", "identity"), ("owner", "sam@example.com")],
        Fate::Suspended {
            hours_ago: 2.0 * day,
        },
    )?;
    s.snapshot(
        &auth,
        15.0 * day,
        "before-refactor",
        "Snapshot before touching the session store",
        &[("env", "dev"), ("owner", "sam@example.com")],
        820,
        Outcome::Complete,
    )?;
    s.snapshot(
        &auth,
        8.0 * day,
        "tokens-moved",
        "Move token refresh into its own module",
        &[("env", "dev"), ("owner", "sam@example.com")],
        860,
        Outcome::Complete,
    )?;
    s.snapshot(
        &auth,
        2.5 * day,
        "tests-passing",
        "All auth tests pass after the refactor",
        &[("env", "staging"), ("owner", "sam@example.com")],
        874,
        Outcome::Complete,
    )?;

    let pr = s.devbox(
        "pr-review-1482",
        10.0 * day,
        Some(&node),
        None,
        &[
            ("team", "web"),
            ("owner", "lee@example.com"),
            ("pr", "1482"),
        ],
        Fate::Shutdown {
            hours_ago: 6.0 * day,
            reason: ShutdownReason::ApiShutdown,
        },
    )?;
    s.snapshot(
        &pr,
        9.5 * day,
        "pr-1482-checkout",
        "Checked out PR #1482 with dev server running",
        &[("env", "dev"), ("owner", "lee@example.com")],
        640,
        Outcome::Complete,
    )?;
    s.snapshot(
        &pr,
        7.0 * day,
        "pr-1482-reviewed",
        "Review comments addressed",
        &[("env", "dev"), ("owner", "lee@example.com")],
        655,
        Outcome::Complete,
    )?;

    let backfill = s.devbox(
        "data-pipeline-backfill",
        7.0 * day,
        Some(&py),
        None,
        &[("team", "data"), ("owner", "kim@example.com")],
        Fate::Failed {
            hours_ago: 6.5 * day,
            reason: FailureReason::OutOfMemory,
        },
    )?;
    s.snapshot(
        &backfill,
        6.9 * day,
        "backfill-start",
        "Before the March backfill",
        &[("env", "prod"), ("owner", "kim@example.com")],
        2980,
        Outcome::Complete,
    )?;

    let docs = s.devbox(
        "docs-site-preview",
        5.0 * day,
        Some(&node),
        None,
        &[("team", "docs"), ("owner", "lee@example.com")],
        Fate::Running,
    )?;
    s.snapshot(
        &docs,
        4.5 * day,
        "docs-built",
        "Docs built with the new theme",
        &[("env", "dev"), ("owner", "lee@example.com")],
        310,
        Outcome::Complete,
    )?;
    s.snapshot(
        &docs,
        0.0,
        "docs-search-index",
        "Search index rebuilt",
        &[("env", "dev"), ("owner", "lee@example.com")],
        332,
        Outcome::InProgress,
    )?;

    let sandbox = s.devbox(
        "sandbox-playground",
        12.0 * day,
        None,
        None,
        &[("owner", "ana@example.com")],
        Fate::Suspended {
            hours_ago: 10.0 * day,
        },
    )?;
    s.snapshot(
        &sandbox,
        11.0 * day,
        "playground",
        "Scratch space with rustup and node",
        &[("env", "dev"), ("owner", "ana@example.com")],
        205,
        Outcome::Complete,
    )?;

    let bench = s.devbox(
        "benchmark-runner",
        18.0 * day,
        Some(&py),
        None,
        &[("team", "perf"), ("owner", "perf-bot")],
        Fate::Shutdown {
            hours_ago: 3.0 * day,
            reason: ShutdownReason::Idle,
        },
    )?;
    s.snapshot(
        &bench,
        17.0 * day,
        "bench-baseline",
        "Baseline numbers on main",
        &[("env", "ci"), ("owner", "perf-bot")],
        1120,
        Outcome::Complete,
    )?;
    s.snapshot(
        &bench,
        4.0 * day,
        "bench-after-cache",
        "After the cache change: p99 -18%",
        &[("env", "ci"), ("owner", "perf-bot")],
        1175,
        Outcome::Complete,
    )?;

    s.devbox(
        "agent-upgrade-deps",
        0.0,
        Some(&py),
        None,
        &[("team", "dev-productivity"), ("owner", "ana@example.com")],
        Fate::Booting,
    )?;
    Ok(())
}
