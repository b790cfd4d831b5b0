//! The edge's jobs, their pure half: what a job is, how it is created and checked, and
//! what the jobs API answers — the same wire contract as snapdeck-server's
//! (`snapdeck_core::jobs`), so the app talks to both alike. The Durable Object that
//! stores and runs them (`durable.rs`, wasm only) is built on this.
//!
//! A job moves through stages, each of which its alarms carry across invocations:
//! [`Stage::List`] (the scope's snapshots, one listing) → [`Stage::Statuses`] (each
//! one's status: cached terminal ones first, the rest a bounded number per alarm) →
//! [`Stage::Plan`] (snapdeck-core's planner; no request) → [`Stage::Run`] (the
//! confirmed deletes, through snapdeck-run's driver in chunks) → [`Stage::Done`]. A
//! plan job ends after its plan, a delete job starts at its run, the scheduled
//! retention goes through them all (its dry run stops after the plan).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use snapdeck_core::bulk::{self, BulkRun, Confirmed};
use snapdeck_core::jobs::{DeleteSpec, JobKind, JobProgress, JobSpec, JobStatus, JobSummary};
use snapdeck_core::recheck::RunRule;
use snapdeck_core::retention::{CleanupPlan, RetentionPolicy, Scope};

/// Requests one alarm may send by default (`JOBS_CHUNK_REQUESTS` overrides it). A
/// Workers invocation may make 1,000 subrequests (paid plan); the client's own retries
/// come on top of what a chunk counts, so it stays well below that.
pub const CHUNK_REQUESTS: usize = 400;
/// Requests (status calls, deletes) a job keeps in flight. A Workers invocation holds at
/// most six connections open at once; more in flight would only queue.
pub const EDGE_CONCURRENCY: usize = 6;
/// Delay between one alarm's end and the next one's start.
pub const ALARM_GAP_MS: i64 = 10;
/// `client_id` of the jobs the cron starts.
pub const CRON_CLIENT: &str = "edge cron";
/// Most snapshots one delete job takes (as snapdeck-server).
pub const MAX_ITEMS: usize = 50_000;
/// Most jobs one list answers; and the default.
pub const MAX_LIST: usize = 200;
pub const DEFAULT_LIST: usize = 50;
/// Finished jobs kept (with their items and inventories); older ones are dropped when a
/// new job is created.
pub const KEEP_JOBS: usize = 200;

/// What a job does, as the Durable Object stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "origin", rename_all = "snake_case")]
pub enum EdgeSpec {
    /// Created through `POST /_snapdeck/jobs`: a plan, or a confirmed delete.
    Api { spec: JobSpec },
    /// The scheduled retention: the `RETENTION_POLICIES` combined (keeping wins, see
    /// [`crate::plan`]), planned over the whole account and carried out — or only
    /// reported, in a dry run.
    Retention {
        policies: Vec<RetentionPolicy>,
        dry_run: bool,
        cron: String,
    },
}

impl EdgeSpec {
    /// The stage a new job starts at.
    pub fn first_stage(&self) -> Stage {
        match self {
            Self::Api {
                spec: JobSpec::Delete(_),
            } => Stage::Run,
            _ => Stage::List,
        }
    }

    /// The scope the plan's listing is limited to (`All` for every other job).
    pub fn listing_scope(&self) -> &Scope {
        static ALL: Scope = Scope::All;
        match self {
            Self::Api {
                spec: JobSpec::Plan { policy },
            } => &policy.scope,
            _ => &ALL,
        }
    }

    /// The devbox the plan's listing is limited to, if any.
    pub fn listing_devbox(&self) -> Option<&str> {
        self.listing_scope().devbox()
    }

    /// The blueprint the plan's listing is limited to, if any.
    pub fn listing_blueprint(&self) -> Option<&str> {
        self.listing_scope().blueprint()
    }

    /// A summary's kind: a dry run only plans.
    pub fn kind(&self) -> JobKind {
        match self {
            Self::Api { spec } => spec.kind(),
            Self::Retention { dry_run: true, .. } => JobKind::Plan,
            Self::Retention { .. } => JobKind::Delete,
        }
    }
}

/// Where a job is (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    List,
    Statuses,
    Plan,
    Run,
    Done,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::List => "list",
            Self::Statuses => "statuses",
            Self::Plan => "plan",
            Self::Run => "run",
            Self::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::List,
            Self::Statuses,
            Self::Plan,
            Self::Run,
            Self::Done,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

/// A request the jobs API turns down, with the status and message of its JSON error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub message: String,
}

impl Refusal {
    fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

/// The request id of a creation: the body's, else the client's `x-request-id` (which
/// snapdeck-api reuses on retries), as snapdeck-server does.
pub fn request_id(body: &str, header: Option<&str>) -> Result<String, Refusal> {
    let id = if body.trim().is_empty() {
        header.unwrap_or_default()
    } else {
        body
    };
    if id.trim().is_empty() || id.len() > 256 {
        return Err(Refusal::new(
            400,
            "request_id is required (1–256 characters): it makes creating a job safe to retry",
        ));
    }
    Ok(id.to_owned())
}

/// A second creation with a request id already used: the same request gets the job
/// again, another one a 409.
pub fn check_same_request(
    request_id: &str,
    existing_id: &str,
    existing: &EdgeSpec,
    new: &EdgeSpec,
) -> Result<(), Refusal> {
    if existing == new {
        Ok(())
    } else {
        Err(Refusal::new(
            409,
            format!(
                "request_id {request_id} already created job {existing_id} for another request"
            ),
        ))
    }
}

/// The snapshots a delete job deletes — exactly what was confirmed, never one more.
/// `plan` is the finished plan of `spec.plan_job` (looked up by the caller; `None` when
/// there is no such finished plan job).
pub fn delete_items(
    spec: &DeleteSpec,
    plan: Option<&CleanupPlan>,
) -> Result<Vec<Confirmed>, Refusal> {
    let confirmed = match &spec.plan_job {
        Some(plan_job) => {
            if !spec.confirmed.is_empty() {
                return Err(Refusal::new(
                    422,
                    "give either confirmed snapshots or plan_job with snapshot_ids, not both",
                ));
            }
            let plan = plan.ok_or_else(|| {
                Refusal::new(422, format!("{plan_job} is not a finished plan job"))
            })?;
            let deletes: BTreeSet<&str> =
                plan.to_delete().map(|i| i.snapshot.id.as_str()).collect();
            if let Some(id) = spec
                .snapshot_ids
                .iter()
                .find(|id| !deletes.contains(id.as_str()))
            {
                return Err(Refusal::new(
                    422,
                    format!(
                        "{id} is not one of the deletes of plan {plan_job}: a run deletes only \
                         what its plan deletes"
                    ),
                ));
            }
            let picked: BTreeSet<&str> = spec.snapshot_ids.iter().map(String::as_str).collect();
            let unticked = deletes
                .into_iter()
                .filter(|id| !picked.contains(id))
                .map(str::to_owned)
                .collect();
            bulk::confirmed_from_plan(plan, &unticked)
        }
        None => spec.confirmed.clone(),
    };
    if confirmed.is_empty() {
        return Err(Refusal::new(
            422,
            "a delete job needs at least one snapshot",
        ));
    }
    if confirmed.len() > MAX_ITEMS {
        return Err(Refusal::new(
            422,
            format!("a delete job takes at most {MAX_ITEMS} snapshots"),
        ));
    }
    Ok(confirmed)
}

/// The run of an API delete job around its stored items: the edge's concurrency, and
/// the rule every wave re-applies (issue 12) — the plan's policy (remembering the
/// plan's statuses, so waves need no status calls), the given policy, or the floor of
/// a hand-picked selection.
pub fn delete_run(spec: &DeleteSpec, plan: Option<&CleanupPlan>) -> BulkRun {
    let run = BulkRun::new(std::iter::empty()).with_concurrency(EDGE_CONCURRENCY);
    match (plan, &spec.policy) {
        (Some(plan), _) if spec.plan_job.is_some() => {
            run.with_rule(RunRule::policy(plan.policy.clone()))
        }
        (_, Some(policy)) => run.with_rule(RunRule::policy(policy.clone())),
        _ => run.with_rule(RunRule::Floor {
            override_ids: spec.override_ids.iter().cloned().collect(),
        }),
    }
}

/// The summary of a job just created.
pub fn new_summary(
    id: String,
    request_id: String,
    client_id: Option<String>,
    spec: &EdgeSpec,
    plan: Option<&CleanupPlan>,
    items: usize,
    now_ms: i64,
) -> JobSummary {
    let (policy, plan_job) = match spec {
        EdgeSpec::Api {
            spec: JobSpec::Plan { policy },
        } => (Some(policy.clone()), None),
        EdgeSpec::Api {
            spec: JobSpec::Delete(d),
        } => (
            plan.map(|p| p.policy.clone()).or_else(|| d.policy.clone()),
            d.plan_job.clone(),
        ),
        EdgeSpec::Retention { policies, .. } => (
            policies.first().filter(|_| policies.len() == 1).cloned(),
            None,
        ),
        // Refused at creation (the edge's healthz does not offer them).
        EdgeSpec::Api {
            spec: JobSpec::Fanout(_),
        } => (None, None),
    };
    JobSummary {
        id,
        kind: spec.kind(),
        status: JobStatus::Queued,
        request_id,
        client_id,
        policy,
        plan_job,
        progress: JobProgress {
            total: items,
            ..JobProgress::default()
        },
        cancel_requested: false,
        error: None,
        created_at_ms: now_ms,
        updated_at_ms: now_ms,
        finished_at_ms: None,
        resumed: 0,
        batch_id: None,
        children: Vec::new(),
    }
}

/// Marks a summary terminal.
pub fn finish(summary: &mut JobSummary, status: JobStatus, now_ms: i64) {
    summary.status = status;
    summary.updated_at_ms = now_ms;
    summary.finished_at_ms = Some(now_ms);
}

/// The request id of the retention job of one cron firing: a retried `scheduled` event
/// finds the job it started instead of starting a second one.
pub fn cron_request_id(cron: &str, scheduled_ms: i64) -> String {
    format!("cron {cron} at {scheduled_ms}")
}

/// A job's JSON with the edge's own fields beside the contract's: the stage it is at
/// and how many alarms (chunks) it has taken. Clients that do not know them ignore them.
pub fn with_edge_fields(
    mut json: serde_json::Value,
    stage: Stage,
    chunks: u32,
) -> serde_json::Value {
    if let Some(obj) = json.as_object_mut() {
        obj.insert("stage".into(), stage.as_str().into());
        obj.insert("chunks".into(), chunks.into());
    }
    json
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use snapdeck_api::SnapshotStatus;
    use snapdeck_core::retention;

    use snapdeck_api::Snapshot;

    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn snap(id: &str, devbox: &str, minutes_ago: i64) -> Snapshot {
        serde_json::from_value(serde_json::json!({
            "id": id,
            "create_time_ms": NOW - minutes_ago * 60_000,
            "metadata": {},
            "source_devbox_id": devbox,
            "size_bytes": 10,
        }))
        .unwrap()
    }

    /// keep 1 of a1..a3: deletes a2 and a3.
    fn plan() -> CleanupPlan {
        let snapshots = vec![
            snap("a1", "dbx_a", 1),
            snap("a2", "dbx_a", 2),
            snap("a3", "dbx_a", 3),
        ];
        let statuses: BTreeMap<String, SnapshotStatus> = snapshots
            .iter()
            .map(|s| (s.id.clone(), SnapshotStatus::Complete))
            .collect();
        retention::plan(&RetentionPolicy::default(), &snapshots, &statuses, NOW)
    }

    fn from_plan(ids: &[&str]) -> DeleteSpec {
        DeleteSpec {
            plan_job: Some("job_p".into()),
            snapshot_ids: ids.iter().map(|s| (*s).to_owned()).collect(),
            ..DeleteSpec::default()
        }
    }

    #[test]
    fn a_delete_from_a_plan_takes_exactly_the_picked_deletes_in_plan_order() {
        let items = delete_items(&from_plan(&["a3", "a2"]), Some(&plan())).unwrap();
        let ids: Vec<&str> = items.iter().map(|c| c.snapshot_id.as_str()).collect();
        assert_eq!(ids, ["a2", "a3"]);
        let one = delete_items(&from_plan(&["a3"]), Some(&plan())).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].status, Some(SnapshotStatus::Complete));
    }

    #[test]
    fn a_run_never_adds_what_its_plan_keeps_or_a_plan_that_is_not_there() {
        let kept = delete_items(&from_plan(&["a1"]), Some(&plan())).unwrap_err();
        assert_eq!(kept.status, 422);
        assert!(
            kept.message.contains("a1 is not one of the deletes"),
            "{}",
            kept.message
        );
        assert_eq!(
            delete_items(&from_plan(&["a2"]), None).unwrap_err().status,
            422
        );
        assert_eq!(
            delete_items(&from_plan(&[]), Some(&plan()))
                .unwrap_err()
                .status,
            422
        );
    }

    #[test]
    fn a_run_from_a_plan_is_held_to_the_plans_policy_and_a_selection_to_the_floor() {
        let spec = from_plan(&["a2"]);
        let run = delete_run(&spec, Some(&plan()));
        assert_eq!(run.rule, RunRule::policy(RetentionPolicy::default()));
        assert_eq!(run.max_concurrency, EDGE_CONCURRENCY);
        let picked = DeleteSpec {
            confirmed: vec![Confirmed::from_snapshot(&snap("a2", "dbx_a", 2), None)],
            override_ids: vec!["a2".into()],
            ..DeleteSpec::default()
        };
        assert!(matches!(
            delete_run(&picked, None).rule,
            RunRule::Floor { override_ids } if override_ids.contains("a2")
        ));
    }

    #[test]
    fn the_request_id_comes_from_the_body_or_the_header_and_is_required() {
        assert_eq!(request_id("r1", Some("h")).unwrap(), "r1");
        assert_eq!(request_id(" ", Some("h")).unwrap(), "h");
        assert_eq!(request_id("", None).unwrap_err().status, 400);
        assert_eq!(request_id(&"x".repeat(257), None).unwrap_err().status, 400);
    }

    #[test]
    fn the_same_request_id_for_another_job_is_a_conflict() {
        let a = EdgeSpec::Api {
            spec: JobSpec::Plan {
                policy: RetentionPolicy::default(),
            },
        };
        let b = EdgeSpec::Api {
            spec: JobSpec::Delete(from_plan(&["a2"])),
        };
        assert!(check_same_request("r", "job_1", &a, &a).is_ok());
        assert_eq!(
            check_same_request("r", "job_1", &a, &b).unwrap_err().status,
            409
        );
    }

    #[test]
    fn stages_start_where_the_job_needs_them_and_round_trip_as_text() {
        let delete = EdgeSpec::Api {
            spec: JobSpec::Delete(from_plan(&["a2"])),
        };
        assert_eq!(delete.first_stage(), Stage::Run);
        let cron = EdgeSpec::Retention {
            policies: vec![RetentionPolicy::default()],
            dry_run: true,
            cron: "17 3 * * *".into(),
        };
        assert_eq!(cron.first_stage(), Stage::List);
        assert_eq!(cron.kind(), JobKind::Plan, "a dry run only plans");
        for st in [
            Stage::List,
            Stage::Statuses,
            Stage::Plan,
            Stage::Run,
            Stage::Done,
        ] {
            assert_eq!(Stage::parse(st.as_str()), Some(st));
        }
    }

    #[test]
    fn a_cron_summary_names_its_one_policy_and_a_plan_summary_its_scope() {
        let cron = EdgeSpec::Retention {
            policies: vec![RetentionPolicy::default()],
            dry_run: false,
            cron: "17 3 * * *".into(),
        };
        let s = new_summary(
            "job_1".into(),
            "r".into(),
            Some(CRON_CLIENT.into()),
            &cron,
            None,
            0,
            NOW,
        );
        assert_eq!((s.kind, s.status), (JobKind::Delete, JobStatus::Queued));
        assert_eq!(s.policy, Some(RetentionPolicy::default()));
        let scoped = EdgeSpec::Api {
            spec: JobSpec::Plan {
                policy: RetentionPolicy {
                    scope: Scope::Devbox("dbx_a".into()),
                    ..RetentionPolicy::default()
                },
            },
        };
        assert_eq!(scoped.listing_devbox(), Some("dbx_a"));
        assert_eq!(scoped.listing_blueprint(), None);
        let by_blueprint = EdgeSpec::Api {
            spec: JobSpec::Plan {
                policy: RetentionPolicy {
                    scope: Scope::Blueprint("bpt_a".into()),
                    ..RetentionPolicy::default()
                },
            },
        };
        assert_eq!(
            (
                by_blueprint.listing_devbox(),
                by_blueprint.listing_blueprint()
            ),
            (None, Some("bpt_a"))
        );
        assert_eq!(cron.listing_devbox(), None);
    }

    #[test]
    fn the_edge_fields_sit_beside_the_contracts() {
        let json = with_edge_fields(serde_json::json!({"id": "job_1"}), Stage::Run, 3);
        assert_eq!(json["stage"], "run");
        assert_eq!(json["chunks"], 3);
        assert_eq!(json["id"], "job_1");
    }
}
