//! The rule a bulk run re-applies at every wave, so the plan still holds at the moment
//! of each delete.
//!
//! A snapshot is deleted only if (a) the person confirmed it, and (b) the same rule,
//! applied to the listing taken just before its wave, still deletes it. Checking each
//! snapshot on its own (still there, same devbox, not pinned) is not enough: a plan
//! that keeps the newest of six and deletes five is only safe while the one it keeps
//! exists. If someone deletes that one between the plan and the run, a run that only
//! checks the five leaves the devbox with nothing.
//!
//! * [`RunRule::Policy`], for a run confirmed from a retention plan: the policy is
//!   planned again over the wave's listing of the affected devboxes, and whatever that
//!   fresh plan keeps is skipped with the reason ([`SkipReason::KeptNow`]). And the
//!   plan's keeps must still be there: once a complete snapshot the plan kept is gone
//!   from a devbox (deleted elsewhere), nothing older on that devbox is deleted
//!   ([`SkipReason::PlanKeptGone`]) — a fresh "keep newest 1" would now keep the next
//!   one and delete the rest, but the person confirmed deleting them *beside* the one
//!   that is gone, which may have been a mistake they still need those to undo.
//! * [`RunRule::Floor`], for a hand-picked selection (no policy): never the last
//!   complete snapshot of a devbox, nor a pinned one, unless the person typed an
//!   override for exactly that snapshot ([`SkipReason::LastComplete`]).
//!
//! Either way the fresh judgment only ever takes snapshots *out* of the run: nothing new
//! is added to a confirmed run. The listing is judged without the snapshots this run is
//! already deleting (a delete sent, or done), since they are going away whatever the
//! listing says; that can only make the fresh plan keep more (fewer newer complete
//! snapshots, lower ranks), so what it deletes is always a subset of what the policy
//! applied to the raw listing deletes.
//!
//! The listing carries no status. A confirmed snapshot's status is the confirmed one
//! (`complete` or `error`, which never change); the others' come from what the run
//! [knows](Known) (the plan's, or learnt from `/status` calls the driver makes for the
//! few snapshots that matter: [`BulkRun::statuses_to_fetch`](crate::bulk::BulkRun::statuses_to_fetch)).
//! A status still unknown counts as "not complete": for a policy that only lowers
//! the ranks of the rest (more kept), for the floor it never counts as a survivor.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use snapdeck_api::{Snapshot, SnapshotStatus};

use crate::bulk::SkipReason;
use crate::retention::{self, Decision, KeepReason, RetentionPolicy};

/// What a run re-applies at each wave before any delete. Saved with the run, so a
/// resumed run keeps the rule it was confirmed under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum RunRule {
    /// Confirmed from the plan of these policies: each wave plans them again over its
    /// listing, and a snapshot is deleted only when some policy still deletes it and no
    /// policy that covers it keeps it (keeping wins, as when the plans were combined).
    Policy { policies: Vec<RetentionPolicy> },
    /// A hand-picked selection: never the last complete snapshot of a devbox, never a
    /// pinned one, except the ids in `override_ids` (the person typed the override).
    Floor {
        #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
        override_ids: BTreeSet<String>,
    },
}

impl Default for RunRule {
    /// The floor without overrides: what a run saved before rules existed gets, the
    /// safest rule that needs no policy.
    fn default() -> Self {
        Self::floor()
    }
}

impl RunRule {
    /// One policy's rule.
    pub fn policy(policy: RetentionPolicy) -> Self {
        Self::Policy {
            policies: vec![policy],
        }
    }

    /// The floor, with no override.
    pub fn floor() -> Self {
        Self::Floor {
            override_ids: BTreeSet::new(),
        }
    }

    /// Whether the person overrode the floor for `id` (pinned or last complete).
    pub fn overrides(&self, id: &str) -> bool {
        matches!(self, Self::Floor { override_ids } if override_ids.contains(id))
    }
}

/// A snapshot the run does not delete but must know to judge its devbox: its status
/// (only `complete` and `error` are kept: they never change), and enough to name it if
/// it disappears.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Known {
    pub devbox_id: String,
    pub create_time_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub status: SnapshotStatus,
}

impl Known {
    /// `s` with `status`, if that status is one worth keeping (never changes).
    pub fn of(s: &Snapshot, status: SnapshotStatus) -> Option<Self> {
        matches!(status, SnapshotStatus::Complete | SnapshotStatus::Error).then(|| Self {
            devbox_id: s.source_devbox_id.clone(),
            create_time_ms: s.create_time_ms,
            name: s.name.clone(),
            status,
        })
    }
}

/// A snapshot the plan kept that a later listing no longer showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoneKept {
    pub snapshot_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// When the listing that missed it was judged.
    pub noticed_at_ms: i64,
}

impl GoneKept {
    /// Its name, or its id when unnamed.
    pub fn label(&self) -> &str {
        self.name
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or(&self.snapshot_id)
    }
}

/// One devbox as a wave's listing shows it.
pub(crate) struct DevboxView<'a> {
    pub devbox_id: &'a str,
    /// Its listed snapshots, minus those this run's deletes are taking away.
    pub present: Vec<&'a Snapshot>,
    /// The status of each present snapshot, where known (`complete` or `error`).
    pub statuses: BTreeMap<String, SnapshotStatus>,
    /// The ids (all present) that passed the per-snapshot check and are judged now.
    pub candidates: BTreeSet<&'a str>,
}

impl DevboxView<'_> {
    fn is_complete(&self, id: &str) -> bool {
        self.statuses.get(id) == Some(&SnapshotStatus::Complete)
    }

    /// Present snapshots with no known status.
    fn unknown(&self) -> impl Iterator<Item = &Snapshot> {
        self.present
            .iter()
            .copied()
            .filter(|s| !self.statuses.contains_key(&s.id))
    }
}

/// Newest first, ties by id: the planner's order.
fn newest_first(a: &Snapshot, b: &Snapshot) -> std::cmp::Ordering {
    b.create_time_ms
        .cmp(&a.create_time_ms)
        .then_with(|| b.id.cmp(&a.id))
}

/// Whether `(time, id)` is newer than `s` in the planner's order.
fn newer_than(time: i64, id: &str, s: &Snapshot) -> bool {
    (time, id) > (s.create_time_ms, s.id.as_str())
}

/// Ids worth a `/status` call before `view` is judged: only those whose status could
/// change the verdict. For a policy, unknown snapshots newer than a candidate (they
/// could outrank it); for the floor, the unknown others when no known complete one
/// survives (one of them may be complete).
pub(crate) fn statuses_to_fetch(rule: &RunRule, view: &DevboxView<'_>) -> Vec<String> {
    match rule {
        RunRule::Policy { .. } => {
            let Some(oldest) = view
                .present
                .iter()
                .filter(|s| view.candidates.contains(s.id.as_str()))
                .max_by(|a, b| newest_first(a, b))
            else {
                return Vec::new();
            };
            view.unknown()
                .filter(|s| newer_than(s.create_time_ms, &s.id, oldest))
                .map(|s| s.id.clone())
                .collect()
        }
        RunRule::Floor { .. } => {
            let survives = view
                .present
                .iter()
                .any(|s| !view.candidates.contains(s.id.as_str()) && view.is_complete(&s.id));
            if survives {
                return Vec::new();
            }
            view.unknown()
                .filter(|s| !view.candidates.contains(s.id.as_str()))
                .map(|s| s.id.clone())
                .collect()
        }
    }
}

/// The verdict on each candidate of `view`: `Ok` to delete, or why it is kept now.
/// `known`: what the run knows of snapshots it does not delete (to name a kept one
/// that is gone). `now_ms`: when the listing is judged (policies' ages count from it).
pub(crate) fn judge_devbox(
    rule: &RunRule,
    view: &DevboxView<'_>,
    known: &BTreeMap<String, Known>,
    now_ms: i64,
) -> BTreeMap<String, Result<(), SkipReason>> {
    match rule {
        RunRule::Policy { policies } => judge_policies(policies, view, known, now_ms),
        RunRule::Floor { override_ids } => judge_floor(override_ids, view),
    }
}

fn judge_policies(
    policies: &[RetentionPolicy],
    view: &DevboxView<'_>,
    known: &BTreeMap<String, Known>,
    now_ms: i64,
) -> BTreeMap<String, Result<(), SkipReason>> {
    let snapshots: Vec<Snapshot> = view.present.iter().map(|s| (*s).clone()).collect();
    let mut decisions: BTreeMap<&str, Vec<Decision>> = BTreeMap::new();
    for policy in policies {
        for item in retention::plan(policy, &snapshots, &view.statuses, now_ms).items {
            if let Some(id) = view.candidates.get(item.snapshot.id.as_str()) {
                decisions.entry(id).or_default().push(item.decision);
            }
        }
    }
    let listed: BTreeSet<&str> = view.present.iter().map(|s| s.id.as_str()).collect();
    view.present
        .iter()
        .filter(|s| view.candidates.contains(s.id.as_str()))
        .map(|s| {
            let ds = decisions.get(s.id.as_str()).map_or(&[][..], Vec::as_slice);
            let keep = ds.iter().find_map(|d| match d {
                Decision::Keep(r) if *r != KeepReason::OutOfScope => Some(*r),
                _ => None,
            });
            let gone = gone_newer(s, view.devbox_id, &listed, known, now_ms);
            let verdict = match (gone, keep) {
                (Some(gone), _) => Err(SkipReason::PlanKeptGone {
                    devbox: view.devbox_id.to_owned(),
                    gone,
                }),
                (None, None) if ds.iter().any(Decision::is_delete) => Ok(()),
                (None, keep) => Err(SkipReason::KeptNow {
                    devbox: view.devbox_id.to_owned(),
                    keep: keep.unwrap_or(KeepReason::OutOfScope),
                }),
            };
            (s.id.clone(), verdict)
        })
        .collect()
}

/// The newest complete snapshot the run knew on `devbox` (one the plan kept, or one
/// learnt since), newer than `s`, that the listing no longer shows. The plan ranked
/// `s` below it; with it gone, what the person confirmed for that devbox no longer
/// holds.
fn gone_newer(
    s: &Snapshot,
    devbox: &str,
    listed: &BTreeSet<&str>,
    known: &BTreeMap<String, Known>,
    now_ms: i64,
) -> Option<GoneKept> {
    known
        .iter()
        .filter(|(id, k)| {
            k.devbox_id == devbox
                && k.status == SnapshotStatus::Complete
                && !listed.contains(id.as_str())
                && newer_than(k.create_time_ms, id, s)
        })
        .max_by_key(|(id, k)| (k.create_time_ms, id.as_str()))
        .map(|(id, k)| GoneKept {
            snapshot_id: id.clone(),
            name: k.name.clone(),
            noticed_at_ms: now_ms,
        })
}

fn judge_floor(
    override_ids: &BTreeSet<String>,
    view: &DevboxView<'_>,
) -> BTreeMap<String, Result<(), SkipReason>> {
    let mut survives = view
        .present
        .iter()
        .any(|s| !view.candidates.contains(s.id.as_str()) && view.is_complete(&s.id));
    let mut candidates: Vec<&Snapshot> = view
        .present
        .iter()
        .copied()
        .filter(|s| view.candidates.contains(s.id.as_str()))
        .collect();
    candidates.sort_by(|a, b| newest_first(a, b));
    let mut out = BTreeMap::new();
    // Newest first: when nothing else complete survives, the newest complete candidate
    // without an override stays, and the rest can go.
    for s in candidates {
        let verdict = if !view.is_complete(&s.id) || survives || override_ids.contains(&s.id) {
            Ok(())
        } else {
            survives = true;
            Err(SkipReason::LastComplete {
                devbox: view.devbox_id.to_owned(),
            })
        };
        out.insert(s.id.clone(), verdict);
    }
    out
}

#[cfg(test)]
mod tests {
    use snapdeck_api::{Metadata, PINNED_KEY};

    use super::*;
    use crate::bulk::{BulkRun, Confirmed, ItemState, Wave};
    use crate::retention::{Scope, plan};

    const NOW: i64 = 1_800_021_779_000; // 14:02:59 UTC
    const MIN: i64 = 60_000;

    /// `nightly-N` of dbx_1, N minutes old (so nightly-1 is the newest).
    fn nightly(n: i64) -> Snapshot {
        Snapshot {
            id: format!("snp_{n}"),
            create_time_ms: NOW - n * MIN,
            metadata: Metadata::new(),
            source_devbox_id: "dbx_1".into(),
            name: Some(format!("nightly-{n}")),
            commit_message: None,
            size_bytes: Some(10),
            source_blueprint_id: None,
        }
    }

    fn nightlies(ns: impl IntoIterator<Item = i64>) -> Vec<Snapshot> {
        ns.into_iter().map(nightly).collect()
    }

    fn complete(snaps: &[Snapshot]) -> BTreeMap<String, SnapshotStatus> {
        snaps
            .iter()
            .map(|s| (s.id.clone(), SnapshotStatus::Complete))
            .collect()
    }

    fn keep(n: u32) -> RetentionPolicy {
        RetentionPolicy {
            scope: Scope::Devbox("dbx_1".into()),
            keep_newest: n,
            ..RetentionPolicy::default()
        }
    }

    fn confirmed(s: &Snapshot) -> Confirmed {
        Confirmed {
            snapshot_id: s.id.clone(),
            source_devbox_id: s.source_devbox_id.clone(),
            name: s.name.clone(),
            size_bytes: s.size_bytes,
            status: Some(SnapshotStatus::Complete),
        }
    }

    /// The next wave, judged against `listed`; returns it.
    fn wave(run: &mut BulkRun, listed: &[Snapshot]) -> Wave {
        let wave = run.next_wave(NOW).expect("a wave is due");
        run.on_listing(&wave, listed, NOW);
        wave
    }

    fn skip_of(run: &BulkRun, s: &Snapshot) -> Option<SkipReason> {
        match &run.item(&s.id)?.state {
            ItemState::Skipped { reason } => Some(reason.clone()),
            _ => None,
        }
    }

    fn deletes(run: &mut BulkRun) -> Vec<String> {
        let mut out = run.next_deletes();
        out.sort();
        out
    }

    #[test]
    fn the_kept_snapshot_deleted_elsewhere_stops_every_delete_of_its_devbox() {
        // Issue 12: six complete, keep the newest; the plan deletes five. Before the
        // run, someone deletes the one the plan keeps.
        let all = nightlies(1..=6);
        let p = plan(&keep(1), &all, &complete(&all), NOW);
        assert_eq!(p.delete_count(), 5);
        let mut run = BulkRun::from_plan(&p);
        wave(&mut run, &nightlies(2..=6));
        assert!(run.next_deletes().is_empty(), "the devbox keeps all five");
        let reason = skip_of(&run, &nightly(2)).expect("skipped");
        assert_eq!(
            reason.to_string(),
            "Kept now: nightly-1, which this plan kept, was deleted elsewhere (gone by 14:02 UTC)."
        );
        assert_eq!(run.counts().skipped, 5);
    }

    #[test]
    fn unchanged_the_plan_deletes_exactly_what_was_confirmed() {
        let all = nightlies(1..=6);
        let p = plan(&keep(1), &all, &complete(&all), NOW);
        let mut run = BulkRun::from_plan(&p);
        wave(&mut run, &all);
        assert_eq!(deletes(&mut run), ["snp_2", "snp_3", "snp_4", "snp_5"]);
        // And no status calls were needed: the plan's statuses were remembered.
        let run = BulkRun::from_plan(&p);
        let mut r2 = run.clone();
        let w = r2.next_wave(NOW).expect("wave");
        assert!(r2.statuses_to_fetch(&w, &all).is_empty());
    }

    #[test]
    fn a_policy_run_without_the_plan_keeps_what_a_fresh_plan_keeps() {
        // Confirmed with a policy but without the plan's statuses (a job given the
        // policy and the list): the kept one is gone before the first wave, so the
        // fresh plan keeps the newest remaining and deletes the rest.
        let mut run = BulkRun::new(nightlies(2..=4).iter().map(confirmed))
            .with_rule(RunRule::policy(keep(1)));
        wave(&mut run, &nightlies(2..=4));
        assert_eq!(
            skip_of(&run, &nightly(2)),
            Some(SkipReason::KeptNow {
                devbox: "dbx_1".into(),
                keep: KeepReason::NewestComplete
            })
        );
        assert_eq!(
            skip_of(&run, &nightly(2)).map(|r| r.to_string()).as_deref(),
            Some("Kept now: it is the newest complete snapshot of devbox dbx_1.")
        );
        assert_eq!(deletes(&mut run), ["snp_3", "snp_4"]);
    }

    #[test]
    fn a_newer_snapshot_of_unknown_status_is_asked_for_and_counts_only_when_complete() {
        let mut run = BulkRun::new(nightlies(2..=3).iter().map(confirmed))
            .with_rule(RunRule::policy(keep(1)))
            .with_concurrency(1);
        let listed = nightlies(1..=3);
        let w = run.next_wave(NOW).expect("wave");
        assert_eq!(run.statuses_to_fetch(&w, &listed), ["snp_1"]);
        // Still in progress: not complete, so nightly-2 is the newest complete.
        run.learn_status(&nightly(1), SnapshotStatus::InProgress);
        assert_eq!(run.statuses_to_fetch(&w, &listed), ["snp_1"], "asked again");
        run.on_listing(&w, &listed, NOW);
        assert!(matches!(
            skip_of(&run, &nightly(2)),
            Some(SkipReason::KeptNow { .. })
        ));
        // Another run where it completed: both go.
        let mut run = BulkRun::new(nightlies(2..=3).iter().map(confirmed))
            .with_rule(RunRule::policy(keep(1)));
        let w = run.next_wave(NOW).expect("wave");
        run.learn_status(&nightly(1), SnapshotStatus::Complete);
        assert!(run.statuses_to_fetch(&w, &listed).is_empty());
        run.on_listing(&w, &listed, NOW);
        assert_eq!(deletes(&mut run), ["snp_2", "snp_3"]);
    }

    #[test]
    fn verified_deletes_waiting_for_a_slot_are_judged_again_by_the_next_listing() {
        let all = nightlies(1..=6);
        let p = plan(&keep(1), &all, &complete(&all), NOW);
        let mut run = BulkRun::from_plan(&p).with_concurrency(1);
        wave(&mut run, &all); // 2, 3 verified
        assert_eq!(run.next_deletes(), ["snp_2"]);
        run.on_result("snp_2", Ok(()), NOW);
        // nightly-1 is deleted elsewhere before the next wave's listing.
        wave(&mut run, &nightlies(3..=6));
        assert!(run.next_deletes().is_empty());
        assert!(matches!(
            skip_of(&run, &nightly(3)),
            Some(SkipReason::PlanKeptGone { .. })
        ));
    }

    #[test]
    fn deletes_already_out_do_not_count_as_survivors() {
        // Hand-picked 1, 2, 3 of a devbox whose 4 stays. Wave one verifies 1 and 2
        // (4 survives); 1's delete goes out. Then 4 is deleted elsewhere. The next
        // listing still shows 1, but it is going: 2 is now the last complete one.
        let mut run = BulkRun::new(nightlies(1..=3).iter().map(confirmed))
            .remembering([(&nightly(4), Some(SnapshotStatus::Complete))])
            .with_concurrency(1);
        wave(&mut run, &nightlies(1..=4));
        assert_eq!(run.next_deletes(), ["snp_1"]);
        wave(&mut run, &nightlies(1..=3));
        assert_eq!(deletes(&mut run), Vec::<String>::new(), "1 is still out");
        run.on_result("snp_1", Ok(()), NOW);
        assert_eq!(deletes(&mut run), ["snp_3"]);
        assert!(matches!(
            skip_of(&run, &nightly(2)),
            Some(SkipReason::LastComplete { .. })
        ));
    }

    #[test]
    fn the_floor_keeps_the_newest_when_every_complete_snapshot_was_picked() {
        let all = nightlies(1..=3);
        let mut run = BulkRun::new(all.iter().map(confirmed));
        wave(&mut run, &all);
        assert_eq!(deletes(&mut run), ["snp_2", "snp_3"]);
        let reason = skip_of(&run, &nightly(1)).expect("kept");
        assert_eq!(
            reason,
            SkipReason::LastComplete {
                devbox: "dbx_1".into()
            }
        );
        assert!(
            reason
                .to_string()
                .contains("last complete snapshot of devbox dbx_1")
        );
    }

    #[test]
    fn the_floor_asks_for_the_status_of_the_others_before_keeping_one() {
        let mut run = BulkRun::new([confirmed(&nightly(2))]);
        let listed = nightlies(1..=2);
        let w = run.next_wave(NOW).expect("wave");
        assert_eq!(run.statuses_to_fetch(&w, &listed), ["snp_1"]);
        run.learn_status(&nightly(1), SnapshotStatus::Complete);
        assert!(run.statuses_to_fetch(&w, &listed).is_empty());
        run.on_listing(&w, &listed, NOW);
        assert_eq!(deletes(&mut run), ["snp_2"]);
    }

    #[test]
    fn the_floor_gives_way_only_to_a_typed_override_of_that_snapshot() {
        let mut pinned = nightly(3);
        pinned.metadata.insert(PINNED_KEY.into(), "true".into());
        let listed = vec![nightly(1), nightly(2), pinned];
        let rule = RunRule::Floor {
            override_ids: ["snp_1".to_owned(), "snp_3".to_owned()].into(),
        };
        let mut run = BulkRun::new(listed.iter().map(confirmed)).with_rule(rule);
        wave(&mut run, &listed);
        // nightly-1 and the pinned nightly-3 were overridden; nightly-2 is now the
        // last complete one and was not.
        assert_eq!(deletes(&mut run), ["snp_1", "snp_3"]);
        assert!(matches!(
            skip_of(&run, &nightly(2)),
            Some(SkipReason::LastComplete { .. })
        ));
        let mut run = BulkRun::new(listed.iter().map(confirmed));
        wave(&mut run, &listed);
        assert_eq!(skip_of(&run, &nightly(3)), Some(SkipReason::PinnedSince));
    }

    #[test]
    fn errored_snapshots_are_never_held_by_the_floor() {
        let e = nightly(1);
        let mut run = BulkRun::new([Confirmed {
            status: Some(SnapshotStatus::Error),
            ..confirmed(&e)
        }]);
        wave(&mut run, &[e]);
        assert_eq!(deletes(&mut run), ["snp_1"]);
    }

    #[test]
    fn the_rule_and_what_the_run_knows_survive_a_reload_and_old_runs_get_the_floor() {
        let all = nightlies(1..=3);
        let run = BulkRun::from_plan(&plan(&keep(1), &all, &complete(&all), NOW));
        let json = serde_json::to_string(&run).expect("ser");
        let back: BulkRun = serde_json::from_str(&json).expect("de");
        assert_eq!(back, run);
        assert_eq!(back.rule, RunRule::policy(keep(1)));
        assert!(back.known.contains_key("snp_1"));
        let old = r#"{"items":[],"max_concurrency":4,"max_attempts":3}"#;
        let old: BulkRun = serde_json::from_str(old).expect("old run loads");
        assert_eq!(old.rule, RunRule::floor());
    }

    #[test]
    fn the_new_skip_reasons_round_trip_as_json() {
        for reason in [
            SkipReason::PlanKeptGone {
                devbox: "dbx_1".into(),
                gone: GoneKept {
                    snapshot_id: "snp_1".into(),
                    name: None,
                    noticed_at_ms: NOW,
                },
            },
            SkipReason::KeptNow {
                devbox: "dbx_1".into(),
                keep: KeepReason::AmongNewest { rank: 2, keep: 3 },
            },
            SkipReason::LastComplete {
                devbox: "dbx_1".into(),
            },
        ] {
            let json = serde_json::to_string(&reason).expect("ser");
            assert_eq!(
                serde_json::from_str::<SkipReason>(&json).expect("de"),
                reason
            );
        }
    }
}
