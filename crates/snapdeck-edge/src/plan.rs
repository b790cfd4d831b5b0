//! The cleanup's pure half: the policies as configured, how the plans of several
//! policies combine, and the report written to the log. Shared by the worker and by the
//! `plan` example, which the tests use to compute the expected plan natively.
//!
//! Each policy is planned by snapdeck-core's [`retention::plan`] over the same
//! inventory. With several policies, **keeping wins**: a snapshot is deleted only when
//! some policy deletes it and no policy that covers it keeps it. So a broad policy
//! ("keep 3 everywhere") and a narrow one ("keep 10 of the release devbox") together
//! keep 10 of the release devbox, as whoever wrote them meant.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use snapdeck_api::{Snapshot, SnapshotStatus};
use snapdeck_core::bulk::{BulkRun, Confirmed, ItemState};
use snapdeck_core::format;
use snapdeck_core::recheck::RunRule;
use snapdeck_core::retention::{self, Decision, KeepReason, RetentionPolicy};

/// A snapshot with the status `/status` gave for it (the list carries none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotState {
    pub snapshot: Snapshot,
    pub status: SnapshotStatus,
}

/// `RETENTION_POLICIES`: one policy, or a list of them, in snapdeck-core's serde format.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
enum PoliciesJson {
    // `Many` first: a struct would also accept `[]` (serde reads structs from sequences),
    // and an empty list must mean "no policies", not "the default policy".
    Many(Vec<RetentionPolicy>),
    One(RetentionPolicy),
}

/// Parses `RETENTION_POLICIES`. Unset or blank means no policies.
pub fn parse_policies(json: Option<&str>) -> Result<Vec<RetentionPolicy>, String> {
    let Some(json) = json.map(str::trim).filter(|j| !j.is_empty()) else {
        return Ok(Vec::new());
    };
    match serde_json::from_str::<PoliciesJson>(json) {
        Ok(PoliciesJson::Many(list)) => Ok(list),
        Ok(PoliciesJson::One(policy)) => Ok(vec![policy]),
        Err(e) => Err(format!(
            "RETENTION_POLICIES is not a retention policy or a list of them: {e}"
        )),
    }
}

/// One snapshot's combined decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Combined {
    pub snapshot: Snapshot,
    pub status: Option<SnapshotStatus>,
    /// Each policy's decision, by 1-based policy number.
    pub decisions: Vec<(usize, Decision)>,
    pub delete: bool,
}

impl Combined {
    /// Why: the decisions that count (deletes, or the keeps that won), as one phrase.
    pub fn why(&self) -> String {
        let relevant = |d: &Decision| {
            self.delete == d.is_delete() && !matches!(d, Decision::Keep(KeepReason::OutOfScope))
        };
        let mut parts: Vec<String> = self
            .decisions
            .iter()
            .filter(|(_, d)| relevant(d))
            .map(|(n, d)| match d {
                Decision::Keep(r) => format!("{r} (policy {n})"),
                Decision::Delete(r) => format!("{r} (policy {n})"),
            })
            .collect();
        if parts.is_empty() {
            parts.push(KeepReason::OutOfScope.to_string());
        }
        parts.join("; ")
    }
}

/// Every snapshot of the inventory, each with its combined decision, in the planner's
/// order (by devbox, newest first).
pub fn combine(
    policies: &[RetentionPolicy],
    inventory: &[SnapshotState],
    now_ms: i64,
) -> Vec<Combined> {
    let snapshots: Vec<Snapshot> = inventory.iter().map(|s| s.snapshot.clone()).collect();
    let statuses: BTreeMap<String, SnapshotStatus> = inventory
        .iter()
        .map(|s| (s.snapshot.id.clone(), s.status))
        .collect();
    let mut combined: Vec<Combined> = Vec::with_capacity(snapshots.len());
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for (n, policy) in policies.iter().enumerate() {
        for item in retention::plan(policy, &snapshots, &statuses, now_ms).items {
            let at = *index.entry(item.snapshot.id.clone()).or_insert_with(|| {
                combined.push(Combined {
                    snapshot: item.snapshot.clone(),
                    status: item.status,
                    decisions: Vec::new(),
                    delete: false,
                });
                combined.len() - 1
            });
            if let Some(c) = combined.get_mut(at) {
                c.decisions.push((n + 1, item.decision));
            }
        }
    }
    for c in &mut combined {
        let some_delete = c.decisions.iter().any(|(_, d)| d.is_delete());
        let vetoed = c
            .decisions
            .iter()
            .any(|(_, d)| matches!(d, Decision::Keep(r) if *r != KeepReason::OutOfScope));
        c.delete = some_delete && !vetoed;
    }
    combined
}

/// The bulk run over exactly the combined deletions, in plan order, held to the same
/// `policies` at every wave (keeping wins there too, see `snapdeck_core::recheck`), and
/// knowing the inventory's statuses so the waves need no status calls.
pub fn bulk_run(policies: &[RetentionPolicy], combined: &[Combined]) -> BulkRun {
    BulkRun::new(
        combined
            .iter()
            .filter(|c| c.delete)
            .map(|c| Confirmed::from_snapshot(&c.snapshot, c.status)),
    )
    .with_rule(RunRule::Policy {
        policies: policies.to_vec(),
    })
    .remembering(combined.iter().map(|c| (&c.snapshot, c.status)))
}

/// The report, one line per snapshot plus a header and a summary, each prefixed
/// `retention:`. `run` is `None` for a dry run (nothing was sent).
pub fn report(
    policies: &[RetentionPolicy],
    combined: &[Combined],
    run: Option<&BulkRun>,
) -> Vec<String> {
    let mut lines: Vec<String> = policies
        .iter()
        .enumerate()
        .map(|(i, p)| format!("policy {}: {}", i + 1, p.describe()))
        .collect();
    let planned = combined.iter().filter(|c| c.delete).count();
    lines.push(format!(
        "plan: delete {planned} of {} snapshots{}",
        combined.len(),
        if run.is_none() {
            " (dry run: nothing is deleted)"
        } else {
            ""
        }
    ));
    let (mut deleted, mut kept, mut skipped, mut failed) = (0, 0, 0, 0);
    for c in combined {
        let what = describe(&c.snapshot);
        if !c.delete {
            kept += 1;
            lines.push(format!("kept {what}: {}", c.why()));
            continue;
        }
        let state = run.and_then(|r| r.item(&c.snapshot.id)).map(|i| &i.state);
        lines.push(match state {
            None => format!("would delete {what}: {}", c.why()),
            Some(ItemState::Done { already_gone }) => {
                deleted += 1;
                let gone = if *already_gone {
                    " (it was already gone)"
                } else {
                    ""
                };
                format!("deleted {what}: {}{gone}", c.why())
            }
            Some(ItemState::Skipped { reason }) => {
                skipped += 1;
                format!("skipped {what}: {reason}")
            }
            Some(ItemState::Failed { message, .. }) => {
                failed += 1;
                format!("failed {what}: {message}")
            }
            Some(ItemState::Pending { .. } | ItemState::Running { .. }) => {
                failed += 1;
                format!("failed {what}: the run ended before it finished")
            }
        });
    }
    lines.push(match run {
        Some(run) => format!(
            "done: {deleted} deleted, {kept} kept, {skipped} skipped, {failed} failed, {} freed",
            format::bytes(run.counts().bytes_freed)
        ),
        None => format!("done (dry run): {planned} would be deleted, {kept} kept"),
    });
    lines
        .into_iter()
        .map(|l| format!("retention: {l}"))
        .collect()
}

/// `snp_… (devbox dbx_…, "name", 1.2 GB)`.
fn describe(s: &Snapshot) -> String {
    let name = s
        .name
        .as_deref()
        .map(|n| format!(", {n:?}"))
        .unwrap_or_default();
    let size = s
        .size_bytes
        .map(|b| format!(", {}", format::bytes(b)))
        .unwrap_or_default();
    format!("{} (devbox {}{name}{size})", s.id, s.source_devbox_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use snapdeck_core::retention::Scope;

    const DAY: i64 = 24 * 60 * 60 * 1000;
    const NOW: i64 = 1_800_000_000_000;

    fn snap(id: &str, devbox: &str, days_ago: i64, status: SnapshotStatus) -> SnapshotState {
        let snapshot: Snapshot = serde_json::from_value(serde_json::json!({
            "id": id,
            "create_time_ms": NOW - days_ago * DAY,
            "metadata": {},
            "source_devbox_id": devbox,
            "size_bytes": 1000,
        }))
        .unwrap();
        SnapshotState { snapshot, status }
    }

    fn inventory() -> Vec<SnapshotState> {
        use SnapshotStatus::*;
        vec![
            snap("a1", "dbx_a", 1, Complete),
            snap("a2", "dbx_a", 2, Complete),
            snap("a3", "dbx_a", 3, Complete),
            snap("a4", "dbx_a", 4, Error),
            snap("b1", "dbx_b", 1, Complete),
            snap("b2", "dbx_b", 2, Complete),
            snap("b3", "dbx_b", 3, InProgress),
        ]
    }

    fn deleted(combined: &[Combined]) -> Vec<&str> {
        let mut ids: Vec<&str> = combined
            .iter()
            .filter(|c| c.delete)
            .map(|c| c.snapshot.id.as_str())
            .collect();
        ids.sort();
        ids
    }

    #[test]
    fn policies_parse_as_one_object_or_a_list() {
        let one = parse_policies(Some(r#"{"keep_newest": 3}"#)).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].keep_newest, 3);
        let many =
            parse_policies(Some(r#"[{"scope":{"devbox":"dbx_a"}}, {"scope":"all"}]"#)).unwrap();
        assert_eq!(many[0].scope, Scope::Devbox("dbx_a".into()));
        assert_eq!(many.len(), 2);
    }

    #[test]
    fn an_empty_list_or_nothing_means_no_policies_not_the_default_one() {
        assert_eq!(parse_policies(Some("[]")).unwrap(), vec![]);
        assert_eq!(parse_policies(Some("  ")).unwrap(), vec![]);
        assert_eq!(parse_policies(None).unwrap(), vec![]);
    }

    #[test]
    fn a_malformed_policy_is_an_error_naming_the_var() {
        let err = parse_policies(Some(r#"{"keep_newest": "three"}"#)).unwrap_err();
        assert!(err.contains("RETENTION_POLICIES"), "{err}");
    }

    #[test]
    fn one_policy_deletes_what_the_core_planner_deletes() {
        let policy = RetentionPolicy {
            keep_newest: 1,
            ..RetentionPolicy::default()
        };
        let combined = combine(std::slice::from_ref(&policy), &inventory(), NOW);
        assert_eq!(deleted(&combined), ["a2", "a3", "b2"]);
        assert_eq!(
            combined.len(),
            inventory().len(),
            "every snapshot is reported"
        );
    }

    #[test]
    fn keeping_wins_when_policies_disagree() {
        let broad = RetentionPolicy {
            keep_newest: 1,
            include_errored: true,
            ..RetentionPolicy::default()
        };
        let narrow = RetentionPolicy {
            scope: Scope::Devbox("dbx_a".into()),
            keep_newest: 2,
            ..RetentionPolicy::default()
        };
        let combined = combine(&[broad, narrow], &inventory(), NOW);
        // a2 is among dbx_a's newest 2; a4 is errored and the narrow policy keeps
        // errored ones; b2 is outside the narrow policy's scope, so the broad one rules.
        assert_eq!(deleted(&combined), ["a3", "b2"]);
        let a2 = combined.iter().find(|c| c.snapshot.id == "a2").unwrap();
        assert!(a2.why().contains("(policy 2)"), "{}", a2.why());
    }

    #[test]
    fn no_policies_delete_nothing() {
        assert!(combine(&[], &inventory(), NOW).iter().all(|c| !c.delete));
    }

    #[test]
    fn the_bulk_run_covers_exactly_the_deletions() {
        let policies = [RetentionPolicy::default()];
        let combined = combine(&policies, &inventory(), NOW);
        let run = bulk_run(&policies, &combined);
        let mut ids: Vec<&str> = run
            .items
            .iter()
            .map(|i| i.confirmed.snapshot_id.as_str())
            .collect();
        ids.sort();
        assert_eq!(ids, deleted(&combined));
    }

    #[test]
    fn the_report_has_a_line_for_every_snapshot_and_a_summary() {
        let policies = [RetentionPolicy::default()];
        let combined = combine(&policies, &inventory(), NOW);
        let lines = report(&policies, &combined, None);
        for s in inventory() {
            let id = &s.snapshot.id;
            assert!(
                lines.iter().any(|l| l.contains(&format!("kept {id} "))
                    || l.contains(&format!("would delete {id} "))),
                "{id} missing from {lines:#?}"
            );
        }
        assert!(lines.iter().all(|l| l.starts_with("retention: ")));
        let last = lines.last().unwrap();
        assert_eq!(
            last,
            "retention: done (dry run): 3 would be deleted, 4 kept"
        );
    }
}
