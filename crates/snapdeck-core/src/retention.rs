//! Retention policies → cleanup plans.
//!
//! A plan lists **every** snapshot it was given, each either kept or deleted, with a
//! reason a person can read. Nothing is deleted by default: a snapshot is deleted only
//! when a rule positively says so and no protection applies.
//!
//! Order of evaluation for one snapshot (first match wins):
//!
//! 1. outside the policy's scope → keep ([`KeepReason::OutOfScope`])
//! 2. status `deleted` → keep (nothing to do) ([`KeepReason::AlreadyDeleted`])
//! 3. pinned (`metadata["snapdeck.pinned"] == "true"`) → keep ([`KeepReason::Pinned`])
//! 4. `in_progress` → keep, always ([`KeepReason::InProgress`])
//! 5. status not known yet (or new to this version) → keep ([`KeepReason::StatusUnknown`]):
//!    we never delete what we could not check
//! 6. `error` → delete if `include_errored`, else keep
//! 7. `complete`, ranked newest first within its devbox (by `create_time_ms`, then id):
//!    * rank 1 is kept unless `allow_deleting_newest` ([`KeepReason::NewestComplete`])
//!    * ranks 1..=`keep_newest` are kept ([`KeepReason::AmongNewest`])
//!    * younger than `keep_younger_than_days` → kept ([`KeepReason::YoungerThan`])
//!    * otherwise deleted ([`DeleteReason::BeyondKeepN`] or, with an age rule,
//!      [`DeleteReason::OlderThan`]).
//!
//! Pinned complete snapshots count toward the newest N (a pinned one among the newest
//! takes a slot), which keeps the rule identical to `rli snapshot prune --keep N` when
//! nothing is pinned.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use snapdeck_api::{PINNED_KEY, Snapshot, SnapshotStatus};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Which snapshots a policy looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Every snapshot given (each devbox ranked on its own). JSON: `"all"`.
    #[default]
    All,
    /// Only the snapshots of this devbox. JSON: `{"devbox": "dbx_…"}`.
    Devbox(String),
    /// Only the snapshots the API lists under this blueprint (`source_blueprint_id`,
    /// the list's own filter), each devbox still ranked on its own. JSON:
    /// `{"blueprint": "bpt_…"}`.
    Blueprint(String),
}

impl Scope {
    /// Whether `s` is in scope.
    pub fn includes(&self, s: &Snapshot) -> bool {
        match self {
            Self::All => true,
            Self::Devbox(id) => *id == s.source_devbox_id,
            Self::Blueprint(id) => s.source_blueprint_id.as_deref() == Some(id.as_str()),
        }
    }

    /// The devbox a listing of the scope asks the API for (`devbox_id`).
    pub fn devbox(&self) -> Option<&str> {
        match self {
            Self::Devbox(id) => Some(id),
            _ => None,
        }
    }

    /// The blueprint a listing of the scope asks the API for (`source_blueprint_id`).
    pub fn blueprint(&self) -> Option<&str> {
        match self {
            Self::Blueprint(id) => Some(id),
            _ => None,
        }
    }
}

/// A retention policy. Every field has a default, so partial JSON (an edge worker's
/// vars, a URL) deserializes: `{"scope":{"devbox":"dbx_1"},"keep_newest":3}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct RetentionPolicy {
    pub scope: Scope,
    /// Keep this many newest complete snapshots per devbox (default 1).
    pub keep_newest: u32,
    /// Also keep complete snapshots younger than this many days.
    pub keep_younger_than_days: Option<u32>,
    /// Delete errored snapshots too (default: keep them for inspection).
    pub include_errored: bool,
    /// Allow deleting a devbox's newest complete snapshot (default false: it is the
    /// one you roll back to).
    pub allow_deleting_newest: bool,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            scope: Scope::All,
            keep_newest: 1,
            keep_younger_than_days: None,
            include_errored: false,
            allow_deleting_newest: false,
        }
    }
}

impl RetentionPolicy {
    /// The policy of `rli snapshot prune <devbox> --keep N`: keep the newest N complete
    /// snapshots of the devbox, delete the other complete and errored ones. Unlike rli,
    /// in-progress, pinned and unchecked snapshots are kept, and the newest complete one
    /// is kept even with `--keep 0`.
    pub fn like_rli_prune(devbox_id: impl Into<String>, keep: u32) -> Self {
        Self {
            scope: Scope::Devbox(devbox_id.into()),
            keep_newest: keep,
            keep_younger_than_days: None,
            include_errored: true,
            allow_deleting_newest: false,
        }
    }

    /// One line describing the policy, for the confirmation dialog.
    pub fn describe(&self) -> String {
        let mut parts = vec![match self.keep_newest {
            0 => "keep no minimum number of complete snapshots".to_owned(),
            1 => "keep the newest complete snapshot".to_owned(),
            n => format!("keep the newest {n} complete snapshots"),
        }];
        if let Some(d) = self.keep_younger_than_days {
            parts.push(format!("and any younger than {}", days(d)));
        }
        parts.push(if self.include_errored {
            "delete errored ones".to_owned()
        } else {
            "keep errored ones".to_owned()
        });
        if !self.allow_deleting_newest {
            parts.push("never delete the newest complete one".to_owned());
        }
        let scope = match &self.scope {
            Scope::All => "every devbox".to_owned(),
            Scope::Devbox(id) => format!("devbox {id}"),
            Scope::Blueprint(id) => format!("the devboxes of blueprint {id}"),
        };
        format!("For {scope}: {}.", parts.join(", "))
    }
}

fn days(d: u32) -> String {
    if d == 1 {
        "1 day".to_owned()
    } else {
        format!("{d} days")
    }
}

/// Why a snapshot is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum KeepReason {
    OutOfScope,
    AlreadyDeleted,
    Pinned,
    InProgress,
    StatusUnknown,
    ErroredNotIncluded,
    NewestComplete,
    /// `rank` is 1-based among the devbox's complete snapshots, newest first.
    AmongNewest {
        rank: u32,
        keep: u32,
    },
    YoungerThan {
        days: u32,
    },
}

/// Why a snapshot is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum DeleteReason {
    Errored,
    /// Not among the newest `keep` complete snapshots (no age rule).
    BeyondKeepN {
        rank: u32,
        keep: u32,
    },
    /// Not among the newest `keep` and older than `days`.
    OlderThan {
        rank: u32,
        keep: u32,
        days: u32,
    },
}

impl std::fmt::Display for KeepReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::OutOfScope => f.write_str("Not covered by this policy"),
            Self::AlreadyDeleted => f.write_str("Already deleted"),
            Self::Pinned => f.write_str("Pinned"),
            Self::InProgress => f.write_str("Still being created"),
            Self::StatusUnknown => f.write_str("Status not checked yet, so left alone"),
            Self::ErroredNotIncluded => f.write_str("Errored; this policy keeps errored snapshots"),
            Self::NewestComplete => f.write_str("Newest complete snapshot of its devbox"),
            Self::AmongNewest { rank, keep } => {
                write!(f, "Newest complete #{rank} of the {keep} kept")
            }
            Self::YoungerThan { days: d } => write!(f, "Younger than {}", days(*d)),
        }
    }
}

impl std::fmt::Display for DeleteReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Errored => f.write_str("Errored"),
            Self::BeyondKeepN { rank, keep } => write!(
                f,
                "Complete snapshot #{rank}; only the newest {keep} are kept"
            ),
            Self::OlderThan {
                rank,
                keep,
                days: d,
            } => write!(
                f,
                "Older than {} and complete snapshot #{rank}; only the newest {keep} are kept",
                days(*d)
            ),
        }
    }
}

/// Keep or delete, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    Keep(KeepReason),
    Delete(DeleteReason),
}

impl Decision {
    /// True for [`Decision::Delete`].
    pub fn is_delete(&self) -> bool {
        matches!(self, Self::Delete(_))
    }
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Keep(r) => write!(f, "Keep: {r}"),
            Self::Delete(r) => write!(f, "Delete: {r}"),
        }
    }
}

/// One snapshot in a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanItem {
    pub snapshot: Snapshot,
    /// The status the decision was based on (`None`: not known).
    pub status: Option<SnapshotStatus>,
    pub decision: Decision,
}

/// The result of applying a policy: every input snapshot exactly once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleanupPlan {
    pub policy: RetentionPolicy,
    /// When the plan was computed (ages are relative to this).
    pub now_ms: i64,
    /// Sorted by devbox id, then newest first — the same order whatever the input order.
    pub items: Vec<PlanItem>,
    /// Sum of `size_bytes` of the snapshots to delete (unknown sizes count as 0).
    pub bytes_freed: u64,
}

impl CleanupPlan {
    /// The snapshots to delete.
    pub fn to_delete(&self) -> impl Iterator<Item = &PlanItem> {
        self.items.iter().filter(|i| i.decision.is_delete())
    }

    /// The snapshots kept.
    pub fn to_keep(&self) -> impl Iterator<Item = &PlanItem> {
        self.items.iter().filter(|i| !i.decision.is_delete())
    }

    /// How many would be deleted.
    pub fn delete_count(&self) -> usize {
        self.to_delete().count()
    }

    /// Whether any delete has an unknown size (so `bytes_freed` is a lower bound).
    pub fn has_unknown_sizes(&self) -> bool {
        self.to_delete().any(|i| i.snapshot.size_bytes.is_none())
    }
}

/// Whether a snapshot is pinned in snapdeck (`metadata["snapdeck.pinned"] == "true"`).
pub fn is_pinned(s: &Snapshot) -> bool {
    s.metadata.get(PINNED_KEY).is_some_and(|v| v == "true")
}

/// Newest first; ties broken by id so the order never depends on the input order.
fn newest_first(a: &Snapshot, b: &Snapshot) -> std::cmp::Ordering {
    b.create_time_ms
        .cmp(&a.create_time_ms)
        .then_with(|| b.id.cmp(&a.id))
}

/// Applies `policy` to `snapshots`, whose statuses come from `statuses` (missing =
/// unknown). Snapshot ids are assumed unique.
pub fn plan(
    policy: &RetentionPolicy,
    snapshots: &[Snapshot],
    statuses: &BTreeMap<String, SnapshotStatus>,
    now_ms: i64,
) -> CleanupPlan {
    let mut sorted: Vec<&Snapshot> = snapshots.iter().collect();
    sorted.sort_by(|a, b| {
        a.source_devbox_id
            .cmp(&b.source_devbox_id)
            .then_with(|| newest_first(a, b))
    });

    // Rank of each complete snapshot within its devbox (1 = newest).
    let mut rank_in_devbox: BTreeMap<&str, u32> = BTreeMap::new();
    let mut items = Vec::with_capacity(sorted.len());
    let mut bytes_freed: u64 = 0;
    for s in sorted {
        let status = statuses.get(&s.id).copied();
        let rank = if status == Some(SnapshotStatus::Complete) {
            let r = rank_in_devbox
                .entry(s.source_devbox_id.as_str())
                .or_insert(0);
            *r += 1;
            *r
        } else {
            0
        };
        let decision = decide(policy, s, status, rank, now_ms);
        if decision.is_delete() {
            bytes_freed = bytes_freed.saturating_add(s.size_bytes.unwrap_or(0));
        }
        items.push(PlanItem {
            snapshot: s.clone(),
            status,
            decision,
        });
    }
    CleanupPlan {
        policy: policy.clone(),
        now_ms,
        items,
        bytes_freed,
    }
}

fn decide(
    policy: &RetentionPolicy,
    s: &Snapshot,
    status: Option<SnapshotStatus>,
    rank: u32,
    now_ms: i64,
) -> Decision {
    use Decision::{Delete, Keep};
    if !policy.scope.includes(s) {
        return Keep(KeepReason::OutOfScope);
    }
    match status {
        Some(SnapshotStatus::Deleted) => return Keep(KeepReason::AlreadyDeleted),
        _ if is_pinned(s) => return Keep(KeepReason::Pinned),
        Some(SnapshotStatus::InProgress) => return Keep(KeepReason::InProgress),
        None | Some(SnapshotStatus::Unknown) => return Keep(KeepReason::StatusUnknown),
        Some(SnapshotStatus::Error) => {
            return if policy.include_errored {
                Delete(DeleteReason::Errored)
            } else {
                Keep(KeepReason::ErroredNotIncluded)
            };
        }
        Some(SnapshotStatus::Complete) => {}
    }
    let keep = policy.keep_newest;
    if rank == 1 && !policy.allow_deleting_newest {
        return Keep(KeepReason::NewestComplete);
    }
    if rank <= keep {
        return Keep(KeepReason::AmongNewest { rank, keep });
    }
    match policy.keep_younger_than_days {
        Some(d) => {
            let age_ms = now_ms.saturating_sub(s.create_time_ms);
            if age_ms < i64::from(d).saturating_mul(DAY_MS) {
                Keep(KeepReason::YoungerThan { days: d })
            } else {
                Delete(DeleteReason::OlderThan {
                    rank,
                    keep,
                    days: d,
                })
            }
        }
        None => Delete(DeleteReason::BeyondKeepN { rank, keep }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use snapdeck_api::Metadata;

    const NOW: i64 = 1_800_000_000_000;

    fn snap(id: &str, devbox: &str, age_days: i64, size: u64) -> Snapshot {
        Snapshot {
            id: id.into(),
            create_time_ms: NOW - age_days * DAY_MS,
            metadata: Metadata::new(),
            source_devbox_id: devbox.into(),
            name: None,
            commit_message: None,
            size_bytes: Some(size),
            source_blueprint_id: None,
        }
    }

    fn statuses(pairs: &[(&str, SnapshotStatus)]) -> BTreeMap<String, SnapshotStatus> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    }

    fn decisions(p: &CleanupPlan) -> Vec<(&str, Decision)> {
        p.items
            .iter()
            .map(|i| (i.snapshot.id.as_str(), i.decision))
            .collect()
    }

    use SnapshotStatus::{Complete, Error, InProgress};

    #[test]
    fn prune_keep_one_deletes_older_complete_and_reports_bytes() {
        let snaps = [
            snap("s1", "d", 3, 100),
            snap("s2", "d", 2, 200),
            snap("s3", "d", 1, 300),
        ];
        let st = statuses(&[("s1", Complete), ("s2", Complete), ("s3", Complete)]);
        let p = plan(&RetentionPolicy::like_rli_prune("d", 1), &snaps, &st, NOW);
        assert_eq!(
            decisions(&p),
            [
                ("s3", Decision::Keep(KeepReason::NewestComplete)),
                (
                    "s2",
                    Decision::Delete(DeleteReason::BeyondKeepN { rank: 2, keep: 1 })
                ),
                (
                    "s1",
                    Decision::Delete(DeleteReason::BeyondKeepN { rank: 3, keep: 1 })
                ),
            ]
        );
        assert_eq!(p.bytes_freed, 300);
    }

    #[test]
    fn newest_complete_is_the_newest_that_is_complete_not_the_newest_overall() {
        // The bug of the docs' cleanup sample: keeping the newest snapshot without
        // checking it is complete. Here the newest is still in progress.
        let snaps = [snap("old", "d", 2, 1), snap("new", "d", 0, 1)];
        let st = statuses(&[("old", Complete), ("new", InProgress)]);
        let p = plan(&RetentionPolicy::like_rli_prune("d", 0), &snaps, &st, NOW);
        assert_eq!(
            decisions(&p),
            [
                ("new", Decision::Keep(KeepReason::InProgress)),
                ("old", Decision::Keep(KeepReason::NewestComplete)),
            ]
        );
    }

    #[test]
    fn allow_deleting_newest_with_keep_zero_deletes_every_complete_one() {
        let snaps = [snap("a", "d", 2, 1), snap("b", "d", 1, 1)];
        let st = statuses(&[("a", Complete), ("b", Complete)]);
        let policy = RetentionPolicy {
            keep_newest: 0,
            allow_deleting_newest: true,
            ..RetentionPolicy::default()
        };
        assert_eq!(plan(&policy, &snaps, &st, NOW).delete_count(), 2);
    }

    #[test]
    fn age_rule_keeps_young_ones_beyond_n() {
        let snaps = [
            snap("a", "d", 40, 1),
            snap("b", "d", 10, 1),
            snap("c", "d", 1, 1),
        ];
        let st = statuses(&[("a", Complete), ("b", Complete), ("c", Complete)]);
        let policy = RetentionPolicy {
            keep_younger_than_days: Some(30),
            ..RetentionPolicy::default()
        };
        assert_eq!(
            decisions(&plan(&policy, &snaps, &st, NOW)),
            [
                ("c", Decision::Keep(KeepReason::NewestComplete)),
                ("b", Decision::Keep(KeepReason::YoungerThan { days: 30 })),
                (
                    "a",
                    Decision::Delete(DeleteReason::OlderThan {
                        rank: 3,
                        keep: 1,
                        days: 30
                    })
                ),
            ]
        );
    }

    #[test]
    fn pinned_errored_unknown_and_out_of_scope_are_protected() {
        let mut pinned = snap("p", "d", 9, 1);
        pinned.metadata.insert(PINNED_KEY.into(), "true".into());
        let snaps = [
            pinned,
            snap("e", "d", 8, 1),
            snap("u", "d", 7, 1),
            snap("n", "d", 1, 1),
            snap("x", "other", 9, 1),
        ];
        let st = statuses(&[
            ("p", Complete),
            ("e", Error),
            ("n", Complete),
            ("x", Complete),
        ]);
        let p = plan(
            &RetentionPolicy {
                scope: Scope::Devbox("d".into()),
                ..Default::default()
            },
            &snaps,
            &st,
            NOW,
        );
        assert_eq!(
            decisions(&p),
            [
                ("n", Decision::Keep(KeepReason::NewestComplete)),
                ("u", Decision::Keep(KeepReason::StatusUnknown)),
                ("e", Decision::Keep(KeepReason::ErroredNotIncluded)),
                ("p", Decision::Keep(KeepReason::Pinned)),
                ("x", Decision::Keep(KeepReason::OutOfScope)),
            ]
        );
        assert_eq!(p.bytes_freed, 0);
    }

    #[test]
    fn a_blueprint_scope_takes_the_snapshots_listed_under_it_ranked_per_devbox() {
        let under = |mut s: Snapshot, bp: &str| {
            s.source_blueprint_id = Some(bp.into());
            s
        };
        let snaps = [
            under(snap("a1", "a", 3, 1), "bp"),
            under(snap("a2", "a", 2, 1), "bp"),
            under(snap("b1", "b", 3, 1), "bp"),
            under(snap("o1", "o", 1, 1), "other"),
            snap("n1", "n", 1, 1),
        ];
        let st = statuses(&[
            ("a1", Complete),
            ("a2", Complete),
            ("b1", Complete),
            ("o1", Complete),
            ("n1", Complete),
        ]);
        let policy = RetentionPolicy {
            scope: Scope::Blueprint("bp".into()),
            keep_newest: 0,
            ..Default::default()
        };
        let p = plan(&policy, &snaps, &st, NOW);
        let mut got = decisions(&p);
        got.sort_by_key(|(id, _)| *id);
        assert_eq!(
            got,
            [
                // a2 is a day younger than a1.
                (
                    "a1",
                    Decision::Delete(DeleteReason::BeyondKeepN { rank: 2, keep: 0 })
                ),
                ("a2", Decision::Keep(KeepReason::NewestComplete)),
                ("b1", Decision::Keep(KeepReason::NewestComplete)),
                ("n1", Decision::Keep(KeepReason::OutOfScope)),
                ("o1", Decision::Keep(KeepReason::OutOfScope)),
            ]
        );
        assert_eq!(
            (policy.scope.blueprint(), policy.scope.devbox()),
            (Some("bp"), None)
        );
        assert!(policy.describe().contains("blueprint bp"));
        let json = serde_json::to_string(&policy.scope).expect("ser");
        assert_eq!(json, r#"{"blueprint":"bp"}"#);
    }

    #[test]
    fn policy_reads_partial_json_and_round_trips() {
        let p: RetentionPolicy =
            serde_json::from_str(r#"{"scope":{"devbox":"dbx_1"},"keep_newest":3}"#).expect("de");
        assert_eq!(p.scope, Scope::Devbox("dbx_1".into()));
        assert_eq!(p.keep_newest, 3);
        assert!(!p.allow_deleting_newest);
        let all: RetentionPolicy = serde_json::from_str(r#"{"scope":"all"}"#).expect("de");
        assert_eq!(all, RetentionPolicy::default());
        let json = serde_json::to_string(&p).expect("ser");
        assert_eq!(
            serde_json::from_str::<RetentionPolicy>(&json).expect("de"),
            p
        );
    }

    #[test]
    fn reasons_read_as_sentences() {
        assert_eq!(
            Decision::Delete(DeleteReason::OlderThan {
                rank: 4,
                keep: 3,
                days: 30
            })
            .to_string(),
            "Delete: Older than 30 days and complete snapshot #4; only the newest 3 are kept"
        );
        assert_eq!(
            RetentionPolicy::like_rli_prune("dbx_1", 2).describe(),
            "For devbox dbx_1: keep the newest 2 complete snapshots, delete errored ones, never delete the newest complete one."
        );
    }
}
