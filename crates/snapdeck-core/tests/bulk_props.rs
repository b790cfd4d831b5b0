//! Property tests of bulk runs: whatever happens (failures, reloads, stray results,
//! pins added meanwhile), a run only ever asks to delete snapshots that were confirmed
//! and verified just before, and its counters always add up.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;

use proptest::prelude::*;
use snapdeck_api::{ApiError, Metadata, PINNED_KEY, Snapshot, SnapshotStatus};
use snapdeck_core::bulk::{BulkRun, Confirmed, Fresh, ItemState, Verdict};

#[derive(Debug, Clone)]
enum FreshKind {
    Same,
    Pinned,
    OtherDevbox,
    Gone,
    InProgress,
}

#[derive(Debug, Clone)]
enum Outcome {
    Ok,
    Status(u16),
    Network,
    Aborted,
}

#[derive(Debug, Clone)]
enum Op {
    Start(i64),
    Recheck(usize, FreshKind),
    Result(usize, Outcome),
    FetchFailed(usize, Outcome),
    Reload,
    RetryFailed,
    Cancel,
}

fn op() -> impl Strategy<Value = Op> {
    let fresh = prop_oneof![
        4 => Just(FreshKind::Same),
        1 => Just(FreshKind::Pinned),
        1 => Just(FreshKind::OtherDevbox),
        1 => Just(FreshKind::Gone),
        1 => Just(FreshKind::InProgress),
    ];
    let outcome = prop_oneof![
        4 => Just(Outcome::Ok),
        1 => prop_oneof![Just(404u16), Just(409), Just(429), Just(500)].prop_map(Outcome::Status),
        1 => Just(Outcome::Network),
        1 => Just(Outcome::Aborted),
    ];
    // Index 9 is never confirmed: stray events for unknown ids.
    prop_oneof![
        3 => (0i64..20_000).prop_map(Op::Start),
        4 => (0usize..10, fresh).prop_map(|(i, f)| Op::Recheck(i, f)),
        4 => (0usize..10, outcome.clone()).prop_map(|(i, o)| Op::Result(i, o)),
        1 => (0usize..10, outcome).prop_map(|(i, o)| Op::FetchFailed(i, o)),
        1 => Just(Op::Reload),
        1 => Just(Op::RetryFailed),
        1 => Just(Op::Cancel),
    ]
}

fn id(i: usize) -> String {
    format!("snp_{i}")
}

fn snapshot(i: usize, devbox: &str, pinned: bool) -> Snapshot {
    let mut metadata = Metadata::new();
    if pinned {
        metadata.insert(PINNED_KEY.into(), "true".into());
    }
    Snapshot {
        id: id(i),
        create_time_ms: 1,
        metadata,
        source_devbox_id: devbox.into(),
        name: None,
        commit_message: None,
        size_bytes: Some(1),
        source_blueprint_id: None,
    }
}

fn error(o: &Outcome) -> Option<ApiError> {
    match o {
        Outcome::Ok => None,
        Outcome::Status(s) => Some(ApiError::Api {
            status: *s,
            message: "x".into(),
        }),
        Outcome::Network => Some(ApiError::Transport("reset".into())),
        Outcome::Aborted => Some(ApiError::Aborted),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn only_confirmed_and_freshly_verified_snapshots_are_deleted(
        n in 1usize..6,
        concurrency in 1usize..4,
        ops in proptest::collection::vec(op(), 0..80),
    ) {
        let confirmed: BTreeSet<String> = (0..n).map(id).collect();
        let mut run = BulkRun::new((0..n).map(|i| Confirmed {
            snapshot_id: id(i),
            source_devbox_id: "dbx_1".into(),
            name: None,
            size_bytes: Some(1),
            status: Some(SnapshotStatus::Complete),
        }))
        .with_concurrency(concurrency);
        // Ids whose delete may be sent now: verified by the latest re-check.
        let mut cleared: BTreeSet<String> = BTreeSet::new();
        for op in ops {
            match op {
                Op::Start(now) => {
                    for started in run.next_to_start(now) {
                        prop_assert!(confirmed.contains(&started));
                        cleared.remove(&started);
                    }
                }
                Op::Recheck(i, kind) => {
                    let fresh = match kind {
                        FreshKind::Same => Fresh::Found { status: SnapshotStatus::Complete, snapshot: Some(snapshot(i, "dbx_1", false)) },
                        FreshKind::Pinned => Fresh::Found { status: SnapshotStatus::Complete, snapshot: Some(snapshot(i, "dbx_1", true)) },
                        FreshKind::OtherDevbox => Fresh::Found { status: SnapshotStatus::Complete, snapshot: Some(snapshot(i, "dbx_2", false)) },
                        FreshKind::Gone => Fresh::Gone,
                        FreshKind::InProgress => Fresh::Found { status: SnapshotStatus::InProgress, snapshot: None },
                    };
                    let verdict = run.on_recheck(&id(i), fresh, 0);
                    if verdict == Verdict::Proceed {
                        prop_assert!(confirmed.contains(&id(i)), "unconfirmed {} cleared", id(i));
                        prop_assert!(matches!(kind, FreshKind::Same), "{kind:?} cleared for delete");
                        cleared.insert(id(i));
                    }
                }
                Op::Result(i, outcome) => {
                    let was_cleared = cleared.remove(&id(i));
                    let before = run.item(&id(i)).map(|x| x.state.clone());
                    run.on_result(&id(i), error(&outcome).map_or(Ok(()), Err), 0);
                    let after = run.item(&id(i)).map(|x| x.state.clone());
                    // A success can only settle an item whose delete we sent.
                    if matches!(outcome, Outcome::Ok)
                        && matches!(after, Some(ItemState::Done { already_gone: false }))
                        && before != after
                    {
                        prop_assert!(was_cleared, "{} marked deleted without a verified delete", id(i));
                    }
                }
                Op::FetchFailed(i, outcome) => {
                    if let Some(e) = error(&outcome) {
                        cleared.remove(&id(i));
                        run.on_error(&id(i), &e, 0);
                    }
                }
                Op::Reload => {
                    let json = serde_json::to_string(&run).expect("serializes");
                    run = serde_json::from_str(&json).expect("deserializes");
                    run.resume_after_interruption();
                    cleared.clear();
                }
                Op::RetryFailed => { run.retry_failed(); }
                Op::Cancel => run.cancel(),
            }
            let c = run.counts();
            prop_assert_eq!(c.total, n);
            prop_assert_eq!(c.done + c.failed + c.skipped + c.left, c.total);
            prop_assert!(c.running <= concurrency);
            prop_assert_eq!(run.items.len(), n, "items never added");
        }
    }
}
