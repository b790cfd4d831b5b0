//! The jobs API (`/_snapdeck/jobs`): heavy work that touches many snapshots — a cleanup
//! plan's status fan-in, a confirmed bulk delete — run by the snapdeck process between
//! the browser and the Runloop API (snapdeck-server, the edge worker) instead of in a
//! tab. The tab creates a job, follows it live (server-sent events, or polling) and
//! shows everyone's.
//!
//! This module is the contract both sides share: the wire types, and every call as
//! plain data ([`Endpoint`]s of snapdeck-api), so the app never builds a jobs URL or
//! parses a job by hand and the server's handlers decode exactly what the client sends.

use serde::{Deserialize, Serialize};
use snapdeck_api::endpoints::decode_json;
use snapdeck_api::http::{Query, encode_path_segment};
use snapdeck_api::{ApiError, Endpoint, FromResponse, HttpResponse, Request};

use crate::bulk::{BulkItem, Confirmed, Counts};
use crate::fanout::{ChildNote, ChildSpec};
use crate::launch::IdleAction;
use crate::retention::{CleanupPlan, RetentionPolicy};

/// Where the jobs API lives, on the same origin as `/v1`.
pub const JOBS_PATH: &str = "/_snapdeck/jobs";
/// Server-sent event name of a job's summary (after every change, and first on connect).
pub const EVENT_JOB: &str = "job";
/// Server-sent event name of one delete item that settled ([`ItemEvent`]).
pub const EVENT_ITEM: &str = "item";
/// Deletes (or status calls) a server-side job keeps in flight: a server has no
/// six-connections-per-origin limit. 64 keeps a 25 ms API busy without queueing
/// behind it (1,000 statuses in ~16 round trips); an API that pushes back answers
/// 429, which the client's retry policy honours (`Retry-After`, backoff).
pub const SERVER_CONCURRENCY: usize = 64;

/// What a job does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobSpec {
    /// List the policy's scope, learn every snapshot's status (terminal ones from the
    /// server's cache, the rest with bounded concurrency) and compute the plan, with a
    /// reason per snapshot. Deletes nothing.
    Plan { policy: RetentionPolicy },
    /// Delete what the person confirmed, re-checking each wave just before its deletes.
    Delete(DeleteSpec),
    /// Start a fan-out's children (each: create unless the batch has it, wait until it
    /// runs, write its task file), at most `cap` at once.
    Fanout(FanoutSpec),
}

/// A fan-out launch: the planned children of one batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FanoutSpec {
    /// `fo_…`, the value of every child's `snapdeck.fanout` key.
    pub batch_id: String,
    /// The snapshot every child starts from.
    pub snapshot_id: String,
    /// Children starting at once (1 or more).
    pub cap: usize,
    pub children: Vec<ChildSpec>,
    /// What every child does when idle.
    #[serde(default, skip_serializing_if = "IdleAction::is_none")]
    pub idle: IdleAction,
    /// Create every child anew, even when the batch has one with its label (a retry
    /// of a failed attempt); otherwise such a child is the one waited for.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fresh: bool,
}

/// Why a fan-out job cannot be accepted.
pub fn check_fanout(spec: &FanoutSpec) -> Result<(), String> {
    if spec.children.is_empty() || spec.children.len() > crate::fanout::MAX_CHILDREN {
        return Err(format!(
            "a fan-out starts 1 to {} children, not {}",
            crate::fanout::MAX_CHILDREN,
            spec.children.len()
        ));
    }
    if spec.cap == 0 {
        return Err("cap must be 1 or more".into());
    }
    if spec.batch_id.trim().is_empty() || spec.snapshot_id.trim().is_empty() {
        return Err("batch_id and snapshot_id are required".into());
    }
    let mut labels: Vec<&str> = spec.children.iter().map(|c| c.label.as_str()).collect();
    labels.sort_unstable();
    if let Some(w) = labels.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!("the label “{}” is used twice", w[0]));
    }
    Ok(())
}

/// One child of a fan-out job, as its summary carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildProgress {
    pub label: String,
    pub note: ChildNote,
}

/// A confirmed bulk delete: either the confirmed snapshots themselves, or ids picked
/// out of a finished plan job's deletes (never anything the plan kept).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteSpec {
    /// The snapshots as the person saw them when confirming.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub confirmed: Vec<Confirmed>,
    /// A plan job whose deletes the person confirmed (with `snapshot_ids`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_job: Option<String>,
    /// With `plan_job`: the ids confirmed, each one a delete of that plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub snapshot_ids: Vec<String>,
    /// The policy whose plan must still hold at each wave. With `plan_job`, the plan's
    /// policy is used; `None` for a hand-picked selection, which is held to the floor
    /// instead (never the last complete or a pinned snapshot of a devbox).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<RetentionPolicy>,
    /// Hand-picked only: the ids the person typed an override for, which the floor
    /// lets go even when pinned or the last complete snapshot of their devbox.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub override_ids: Vec<String>,
}

/// `POST /_snapdeck/jobs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewJob {
    /// The client's id for this creation: the same id again answers the job it created
    /// (a retry, a reload mid-create) instead of starting a second one.
    pub request_id: String,
    /// Who asked, opaque to the server (a browser's random id), so a tab can tell its
    /// own jobs from others'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(flatten)]
    pub spec: JobSpec,
}

/// A job's kind, for summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Plan,
    Delete,
    Fanout,
}

impl JobSpec {
    /// Its kind.
    pub fn kind(&self) -> JobKind {
        match self {
            Self::Plan { .. } => JobKind::Plan,
            Self::Delete(_) => JobKind::Delete,
            Self::Fanout(_) => JobKind::Fanout,
        }
    }

    /// The policy it plans with or must keep holding, if any.
    pub fn policy(&self) -> Option<&RetentionPolicy> {
        match self {
            Self::Plan { policy } => Some(policy),
            Self::Delete(d) => d.policy.as_ref(),
            Self::Fanout(_) => None,
        }
    }
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Accepted, not started yet.
    Queued,
    Running,
    /// Ran to its end (a delete job may have failed or skipped items: see its counts).
    Finished,
    /// Stopped on request; every item is accounted for (deletes already sent finished).
    Cancelled,
    /// Could not run at all (e.g. the plan's listing kept failing); `error` says why.
    Failed,
}

impl JobStatus {
    /// Finished, cancelled or failed: nothing will change any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Finished | Self::Cancelled | Self::Failed)
    }

    /// `"running"` etc.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Finished => "finished",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
        }
    }
}

/// How far a job is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobProgress {
    /// Plan: snapshots listed in scope. Delete: items.
    pub total: usize,
    /// Plan: statuses known. Delete: deleted.
    pub done: usize,
    /// Plan: statuses that could not be fetched (those snapshots are kept). Delete:
    /// items that failed.
    pub failed: usize,
    /// Delete: items skipped (gone, pinned, kept now, cancelled…).
    pub skipped: usize,
    /// Delete: items being re-checked or deleted.
    pub running: usize,
    /// Plan: statuses taken from the server's cache of terminal statuses (no call).
    pub cached: usize,
    /// Plan: how many it deletes, once computed. Delete: unused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_delete: Option<usize>,
    /// Bytes freed (delete) or to be freed (plan); unknown sizes count 0.
    pub bytes: u64,
}

impl JobProgress {
    /// A delete run's counters.
    pub fn of_run(c: &Counts) -> Self {
        Self {
            total: c.total,
            done: c.done,
            failed: c.failed,
            skipped: c.skipped,
            running: c.running,
            cached: 0,
            to_delete: None,
            bytes: c.bytes_freed,
        }
    }
}

/// What lists and events carry: everything about a job but its (possibly large) plan
/// and items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSummary {
    /// `job_…`.
    pub id: String,
    pub kind: JobKind,
    pub status: JobStatus,
    pub request_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The policy planned with (plan) or kept holding (delete), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<RetentionPolicy>,
    /// A delete job created from a plan job: that job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_job: Option<String>,
    pub progress: JobProgress,
    /// Cancel was asked for; the job stops once its deletes in flight are back.
    #[serde(default)]
    pub cancel_requested: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at_ms: Option<i64>,
    /// How many times the job was resumed after the server stopped mid-run.
    #[serde(default)]
    pub resumed: u32,
    /// Fan-out jobs: the batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_id: Option<String>,
    /// Fan-out jobs: each child's launch as far as the job took it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<ChildProgress>,
}

/// A job in full: `GET /_snapdeck/jobs/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    #[serde(flatten)]
    pub summary: JobSummary,
    /// Plan jobs, once finished: the plan, every snapshot in scope with its reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<CleanupPlan>,
    /// Delete jobs: every confirmed snapshot with its state (its outcome once settled).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<BulkItem>,
}

/// `GET /_snapdeck/jobs`: the most recent jobs, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobList {
    pub jobs: Vec<JobSummary>,
}

/// The data of an [`EVENT_ITEM`] event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemEvent {
    pub job_id: String,
    pub item: BulkItem,
}

/// What the server's `/healthz` says about jobs, under `"jobs"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobsCapability {
    pub available: bool,
    /// Where they are (`/_snapdeck/jobs`).
    #[serde(default)]
    pub path: String,
    /// Whether live events are served (`…/{id}/events`, `…/events`).
    #[serde(default)]
    pub events: bool,
    /// The kinds of job it runs (an older server says nothing: plans and deletes).
    #[serde(default = "plan_and_delete")]
    pub kinds: Vec<JobKind>,
}

fn plan_and_delete() -> Vec<JobKind> {
    vec![JobKind::Plan, JobKind::Delete]
}

impl JobsCapability {
    /// What a server with jobs answers.
    pub fn available() -> Self {
        Self {
            available: true,
            path: JOBS_PATH.to_owned(),
            events: true,
            kinds: vec![JobKind::Plan, JobKind::Delete, JobKind::Fanout],
        }
    }

    /// Whether it runs jobs of `kind`.
    pub fn runs(&self, kind: JobKind) -> bool {
        self.available && self.kinds.contains(&kind)
    }
}

fn job_path(id: &str, rest: &str) -> String {
    format!("{JOBS_PATH}/{}{rest}", encode_path_segment(id))
}

/// Path of one job's event stream (for an `EventSource`).
pub fn job_events_path(id: &str) -> String {
    job_path(id, "/events")
}

/// Path of every job's event stream (summaries only), for the operations tray.
pub fn all_events_path() -> String {
    format!("{JOBS_PATH}/events")
}

macro_rules! json_output {
    ($($t:ty),*) => {$(
        impl FromResponse for $t {
            fn from_response(resp: HttpResponse) -> Result<Self, ApiError> {
                decode_json(&resp)
            }
        }
    )*};
}
json_output!(Job, JobSummary, JobList);

/// `POST /_snapdeck/jobs` → the job (201 new, 200 when `request_id` was seen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateJob(pub NewJob);

impl Endpoint for CreateJob {
    type Output = Job;
    fn request(&self) -> Result<Request, ApiError> {
        Request::post_json(JOBS_PATH, &self.0)
    }
}

/// `GET /_snapdeck/jobs/{id}` → the job with its plan or items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetJob {
    pub id: String,
}

impl Endpoint for GetJob {
    type Output = Job;
    fn request(&self) -> Result<Request, ApiError> {
        Ok(Request::get(job_path(&self.id, ""), &Query::new()))
    }
}

/// `GET /_snapdeck/jobs?limit=N` → the newest jobs' summaries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListJobs {
    pub limit: Option<u32>,
}

impl Endpoint for ListJobs {
    type Output = JobList;
    fn request(&self) -> Result<Request, ApiError> {
        let mut q = Query::new();
        q.push_opt("limit", self.limit);
        Ok(Request::get(JOBS_PATH, &q))
    }
}

/// `POST /_snapdeck/jobs/{id}/cancel` → the summary (already terminal: unchanged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelJob {
    pub id: String,
}

impl Endpoint for CancelJob {
    type Output = JobSummary;
    fn request(&self) -> Result<Request, ApiError> {
        Ok(Request::post_empty(
            job_path(&self.id, "/cancel"),
            &Query::new(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retention::Scope;

    #[test]
    fn a_new_plan_job_is_flat_json_with_its_kind() {
        let job = NewJob {
            request_id: "r1".into(),
            client_id: None,
            spec: JobSpec::Plan {
                policy: RetentionPolicy {
                    scope: Scope::Devbox("dbx_1".into()),
                    ..RetentionPolicy::default()
                },
            },
        };
        let json = serde_json::to_value(&job).expect("ser");
        assert_eq!(json["kind"], "plan");
        assert_eq!(json["policy"]["scope"]["devbox"], "dbx_1");
        let back: NewJob = serde_json::from_value(json).expect("de");
        assert_eq!(back, job);
    }

    #[test]
    fn a_delete_from_a_plan_job_reads_back_the_same() {
        let raw = r#"{"request_id":"r","kind":"delete","plan_job":"job_1","snapshot_ids":["a"]}"#;
        let job: NewJob = serde_json::from_str(raw).expect("de");
        assert_eq!(
            job.spec,
            JobSpec::Delete(DeleteSpec {
                plan_job: Some("job_1".into()),
                snapshot_ids: vec!["a".into()],
                ..DeleteSpec::default()
            })
        );
    }

    #[test]
    fn job_paths_encode_the_id() {
        assert_eq!(
            GetJob { id: "a/b".into() }
                .request()
                .expect("req")
                .path_and_query,
            "/_snapdeck/jobs/a%2Fb"
        );
        assert_eq!(job_events_path("job_1"), "/_snapdeck/jobs/job_1/events");
        assert_eq!(
            ListJobs { limit: Some(5) }
                .request()
                .expect("req")
                .path_and_query,
            "/_snapdeck/jobs?limit=5"
        );
    }
}
