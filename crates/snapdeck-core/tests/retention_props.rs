//! Property tests of the retention invariants: whatever the snapshots and the policy,
//! a plan never deletes what it must protect, and does not depend on input order.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use snapdeck_api::{Metadata, PINNED_KEY, Snapshot, SnapshotStatus};
use snapdeck_core::retention::{self, CleanupPlan, RetentionPolicy, Scope};

const NOW: i64 = 1_800_000_000_000;
const DAY: i64 = 86_400_000;
const DEVBOXES: [&str; 3] = ["dbx_a", "dbx_b", "dbx_c"];

#[derive(Debug, Clone)]
struct Input {
    snapshots: Vec<Snapshot>,
    statuses: BTreeMap<String, SnapshotStatus>,
}

fn status() -> impl Strategy<Value = Option<SnapshotStatus>> {
    prop_oneof![
        4 => Just(Some(SnapshotStatus::Complete)),
        1 => Just(Some(SnapshotStatus::InProgress)),
        1 => Just(Some(SnapshotStatus::Error)),
        1 => Just(Some(SnapshotStatus::Deleted)),
        1 => Just(Some(SnapshotStatus::Unknown)),
        1 => Just(None),
    ]
}

fn input() -> impl Strategy<Value = Input> {
    // Few distinct times so ties (same create_time_ms) happen often.
    let one = (
        0..DEVBOXES.len(),
        0i64..40,
        proptest::option::of(0u64..1 << 40),
        status(),
        any::<bool>(),
    );
    proptest::collection::vec(one, 0..40).prop_map(|rows| {
        let mut snapshots = Vec::new();
        let mut statuses = BTreeMap::new();
        for (i, (dbx, age, size, st, pinned)) in rows.into_iter().enumerate() {
            let id = format!("snp_{i:03}");
            let mut metadata = Metadata::new();
            if pinned {
                metadata.insert(PINNED_KEY.into(), "true".into());
            }
            if let Some(st) = st {
                statuses.insert(id.clone(), st);
            }
            snapshots.push(Snapshot {
                id,
                create_time_ms: NOW - age * DAY / 2,
                metadata,
                source_devbox_id: DEVBOXES[dbx].into(),
                name: None,
                commit_message: None,
                size_bytes: size,
                // Each devbox has one base blueprint (the first ones share one), as the
                // API derives it; the last has none.
                source_blueprint_id: (dbx + 1 < DEVBOXES.len()).then(|| format!("bpt_{}", dbx / 2)),
            });
        }
        Input {
            snapshots,
            statuses,
        }
    })
}

fn policy() -> impl Strategy<Value = RetentionPolicy> {
    (
        prop_oneof![
            Just(Scope::All),
            (0..DEVBOXES.len()).prop_map(|i| Scope::Devbox(DEVBOXES[i].into())),
            (0..2usize).prop_map(|i| Scope::Blueprint(format!("bpt_{i}")))
        ],
        0u32..5,
        proptest::option::of(0u32..25),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(
                scope,
                keep_newest,
                keep_younger_than_days,
                include_errored,
                allow_deleting_newest,
            )| {
                RetentionPolicy {
                    scope,
                    keep_newest,
                    keep_younger_than_days,
                    include_errored,
                    allow_deleting_newest,
                }
            },
        )
}

fn run(p: &RetentionPolicy, i: &Input) -> CleanupPlan {
    retention::plan(p, &i.snapshots, &i.statuses, NOW)
}

fn deleted_ids(plan: &CleanupPlan) -> BTreeSet<&str> {
    plan.to_delete().map(|i| i.snapshot.id.as_str()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_snapshot_is_kept_or_deleted_exactly_once(p in policy(), i in input()) {
        let plan = run(&p, &i);
        prop_assert_eq!(plan.items.len(), i.snapshots.len());
        let planned: BTreeSet<&str> = plan.items.iter().map(|x| x.snapshot.id.as_str()).collect();
        let given: BTreeSet<&str> = i.snapshots.iter().map(|s| s.id.as_str()).collect();
        prop_assert_eq!(planned, given);
    }

    #[test]
    fn pinned_in_progress_unknown_and_out_of_scope_are_never_deleted(p in policy(), i in input()) {
        let plan = run(&p, &i);
        for item in plan.to_delete() {
            let s = &item.snapshot;
            prop_assert!(!retention::is_pinned(s), "pinned {} deleted", s.id);
            prop_assert!(p.scope.includes(s), "{} out of scope", s.id);
            let st = i.statuses.get(&s.id).copied();
            prop_assert!(
                matches!(st, Some(SnapshotStatus::Complete) | Some(SnapshotStatus::Error)),
                "{} deleted with status {:?}", s.id, st
            );
            if st == Some(SnapshotStatus::Error) {
                prop_assert!(p.include_errored);
            }
        }
    }

    #[test]
    fn the_newest_complete_snapshot_of_each_devbox_is_kept_unless_allowed(p in policy(), i in input()) {
        prop_assume!(!p.allow_deleting_newest);
        let plan = run(&p, &i);
        let deleted = deleted_ids(&plan);
        for dbx in DEVBOXES {
            let newest = i.snapshots.iter()
                .filter(|s| s.source_devbox_id == dbx)
                .filter(|s| i.statuses.get(&s.id) == Some(&SnapshotStatus::Complete))
                .max_by(|a, b| a.create_time_ms.cmp(&b.create_time_ms).then_with(|| a.id.cmp(&b.id)));
            if let Some(n) = newest {
                prop_assert!(!deleted.contains(n.id.as_str()), "newest {} of {} deleted", n.id, dbx);
            }
        }
    }

    #[test]
    fn at_least_the_newest_n_complete_are_kept_per_devbox(p in policy(), i in input()) {
        let plan = run(&p, &i);
        let deleted = deleted_ids(&plan);
        for dbx in DEVBOXES {
            let complete: Vec<&Snapshot> = i.snapshots.iter()
                .filter(|s| s.source_devbox_id == dbx)
                .filter(|s| i.statuses.get(&s.id) == Some(&SnapshotStatus::Complete))
                .collect();
            let kept = complete.iter().filter(|s| !deleted.contains(s.id.as_str())).count();
            prop_assert!(kept >= complete.len().min(p.keep_newest as usize));
        }
    }

    #[test]
    fn the_plan_does_not_depend_on_input_order(
        p in policy(),
        (i, shuffled) in input().prop_flat_map(|i| {
            let snaps = i.snapshots.clone();
            (Just(i), Just(snaps).prop_shuffle())
        }),
    ) {
        let other = Input { snapshots: shuffled, statuses: i.statuses.clone() };
        prop_assert_eq!(run(&p, &i), run(&p, &other));
    }

    #[test]
    fn bytes_freed_is_the_sum_of_deleted_sizes(p in policy(), i in input()) {
        let plan = run(&p, &i);
        let sum: u64 = plan.to_delete().map(|x| x.snapshot.size_bytes.unwrap_or(0)).sum();
        prop_assert_eq!(plan.bytes_freed, sum);
    }
}
