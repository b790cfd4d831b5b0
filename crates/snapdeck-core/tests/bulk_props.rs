//! Property tests of bulk runs: whatever happens (failures, reloads, stray or stale
//! listings, pins added between waves), a run only ever asks to delete snapshots that
//! were confirmed and that the latest listing of their wave showed unchanged, never
//! reports one deleted unless a delete of ours may have done it, and its counters
//! always add up.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use snapdeck_api::{ApiError, Metadata, PINNED_KEY, Snapshot, SnapshotStatus};
use snapdeck_core::bulk::{BulkRun, Confirmed, ItemState, Phase, Wave};

/// How a snapshot shows in a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Listed {
    Same,
    Pinned,
    OtherDevbox,
    Gone,
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
    NextWave(i64),
    /// Answers the n-th wave issued so far (modulo: stale ones too), each of ids 0..10
    /// shown as given.
    Listing(usize, Vec<Listed>),
    ListingFailed(usize, Outcome),
    NextDeletes,
    Result(usize, Outcome),
    Reload,
    RetryFailed,
    Cancel,
}

const IDS: usize = 10;

fn op() -> impl Strategy<Value = Op> {
    let listed = prop_oneof![
        5 => Just(Listed::Same),
        1 => Just(Listed::Pinned),
        1 => Just(Listed::OtherDevbox),
        1 => Just(Listed::Gone),
    ];
    let outcome = prop_oneof![
        4 => Just(Outcome::Ok),
        1 => prop_oneof![Just(404u16), Just(409), Just(429), Just(500)].prop_map(Outcome::Status),
        1 => Just(Outcome::Network),
        1 => Just(Outcome::Aborted),
    ];
    // Index 9 is never confirmed: stray events for unknown ids.
    prop_oneof![
        3 => (0i64..20_000).prop_map(Op::NextWave),
        3 => (0usize..4, proptest::collection::vec(listed, IDS)).prop_map(|(w, l)| Op::Listing(w, l)),
        1 => (0usize..4, outcome.clone()).prop_map(|(w, o)| Op::ListingFailed(w, o)),
        3 => Just(Op::NextDeletes),
        4 => (0usize..IDS, outcome).prop_map(|(i, o)| Op::Result(i, o)),
        1 => Just(Op::Reload),
        1 => Just(Op::RetryFailed),
        1 => Just(Op::Cancel),
    ]
}

fn id(i: usize) -> String {
    format!("snp_{i}")
}

/// Confirmed snapshots live on two devboxes, so waves span more than one.
fn devbox(i: usize) -> &'static str {
    if i.is_multiple_of(3) {
        "dbx_2"
    } else {
        "dbx_1"
    }
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

fn listing(shown: &[Listed]) -> Vec<Snapshot> {
    shown
        .iter()
        .enumerate()
        .filter_map(|(i, l)| match l {
            Listed::Same => Some(snapshot(i, devbox(i), false)),
            Listed::Pinned => Some(snapshot(i, devbox(i), true)),
            Listed::OtherDevbox => Some(snapshot(i, "dbx_other", false)),
            Listed::Gone => None,
        })
        .collect()
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

fn phase_of(run: &BulkRun, id: &str) -> Option<Phase> {
    match run.item(id).map(|i| &i.state) {
        Some(ItemState::Running { phase, .. }) => Some(*phase),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn only_confirmed_snapshots_shown_unchanged_by_their_wave_are_deleted(
        n in 1usize..9,
        concurrency in 1usize..4,
        ops in proptest::collection::vec(op(), 0..100),
    ) {
        let confirmed: BTreeSet<String> = (0..n).map(id).collect();
        let mut run = BulkRun::new((0..n).map(|i| Confirmed {
            snapshot_id: id(i),
            source_devbox_id: devbox(i).into(),
            name: None,
            size_bytes: Some(1),
            status: Some(SnapshotStatus::Complete),
        }))
        .with_concurrency(concurrency);
        let mut waves: Vec<Wave> = Vec::new();
        // Verified by a listing that showed them unchanged, delete not sent yet.
        let mut verified: BTreeSet<String> = BTreeSet::new();
        // A delete of ours may have reached the server (sent, or a failure retried).
        let mut maybe_ran: BTreeSet<String> = BTreeSet::new();
        for op in ops {
            let before: BTreeMap<String, ItemState> =
                run.items.iter().map(|i| (i.confirmed.snapshot_id.clone(), i.state.clone())).collect();
            // The id whose delete this op reports a success for.
            let succeeded = match &op {
                Op::Result(i, Outcome::Ok) => Some(id(*i)),
                _ => None,
            };
            match op {
                Op::NextWave(now) => {
                    if let Some(wave) = run.next_wave(now) {
                        prop_assert!(!wave.ids.is_empty());
                        prop_assert!(wave.ids.len() <= run.wave_size());
                        for x in &wave.ids {
                            prop_assert!(confirmed.contains(x), "unconfirmed {x} in a wave");
                            let d = run.item(x).map(|i| i.confirmed.source_devbox_id.clone());
                            prop_assert!(d.is_some_and(|d| wave.devbox_ids.contains(&d)), "{x}'s devbox not listed");
                        }
                        waves.push(wave);
                    }
                }
                Op::Listing(w, shown) => {
                    if waves.is_empty() { continue; }
                    let wave = waves[w % waves.len()].clone();
                    run.on_listing(&wave, &listing(&shown), 0);
                    for (i, l) in shown.iter().enumerate() {
                        let x = id(i);
                        let was_recheck = matches!(before.get(&x), Some(ItemState::Running { phase: Phase::Recheck, .. }));
                        if was_recheck && phase_of(&run, &x) == Some(Phase::Verified) {
                            prop_assert!(wave.ids.contains(&x), "{x} verified by another wave's listing");
                            prop_assert_eq!(*l, Listed::Same, "{} verified though listed {:?}", x, l);
                            verified.insert(x);
                        }
                    }
                }
                Op::ListingFailed(w, outcome) => {
                    if waves.is_empty() { continue; }
                    if let Some(e) = error(&outcome) {
                        run.on_listing_error(&waves[w % waves.len()].clone(), &e, 0);
                    }
                }
                Op::NextDeletes => {
                    let out = run.next_deletes();
                    for x in out {
                        prop_assert!(confirmed.contains(&x), "unconfirmed {x} deleted");
                        prop_assert!(verified.remove(&x), "{x} deleted without a passed re-check");
                        maybe_ran.insert(x);
                    }
                }
                Op::Result(i, outcome) => {
                    run.on_result(&id(i), error(&outcome).map_or(Ok(()), Err), 0);
                }
                Op::Reload => {
                    let json = serde_json::to_string(&run).expect("serializes");
                    run = serde_json::from_str(&json).expect("deserializes");
                    run.resume_after_interruption();
                    verified.clear();
                }
                Op::RetryFailed => {
                    for item in &run.items {
                        if matches!(item.state, ItemState::Failed { retryable: true, .. }) {
                            maybe_ran.insert(item.confirmed.snapshot_id.clone());
                        }
                    }
                    run.retry_failed();
                }
                Op::Cancel => run.cancel(),
            }
            for item in &run.items {
                let x = &item.confirmed.snapshot_id;
                let newly_done = matches!(item.state, ItemState::Done { .. })
                    && !matches!(before.get(x), Some(ItemState::Done { .. }));
                if newly_done {
                    prop_assert!(maybe_ran.contains(x), "{x} reported deleted, but no delete of ours went out");
                }
                if matches!(item.state, ItemState::Done { already_gone: false }) && newly_done {
                    prop_assert!(
                        matches!(before.get(x), Some(ItemState::Running { phase: Phase::Deleting, .. })),
                        "{x} deleted without its delete out"
                    );
                    prop_assert_eq!(succeeded.as_ref(), Some(x), "deleted without a success");
                }
            }
            let c = run.counts();
            prop_assert_eq!(c.total, n);
            prop_assert_eq!(c.done + c.failed + c.skipped + c.left, c.total);
            let deleting = run.items.iter().filter(|i| matches!(i.state, ItemState::Running { phase: Phase::Deleting, .. })).count();
            prop_assert!(deleting <= concurrency);
            // A wave, one round still waiting from the wave before, one round deleting.
            prop_assert!(c.running <= run.wave_size() + 2 * concurrency);
            prop_assert_eq!(run.items.len(), n, "items never added");
        }
    }
}
