//! `/_snapdeck/jobs`: create, list, read, follow (server-sent events) and cancel jobs.
//! Behind the same Bearer check as `/v1`; answers and errors are JSON like the rest.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::Stream;
use futures::stream;
use snapdeck_core::bulk::{BulkRun, Confirmed, confirmed_from_plan};
use snapdeck_core::jobs::{
    DeleteSpec, EVENT_ITEM, EVENT_JOB, Job, JobList, JobProgress, JobSpec, JobStatus, JobSummary,
    NewJob, SERVER_CONCURRENCY, check_fanout,
};
use tokio::sync::broadcast;

use super::{Emitted, Jobs};
use crate::clock::now_ms;
use crate::error::{Error, Id, JsonBody, Params, Result};
use crate::state::AppState;

/// Most jobs one list answers.
const MAX_LIST: usize = 200;
/// Most snapshots one delete job takes.
const MAX_ITEMS: usize = 50_000;

/// The routes, relative to `/_snapdeck/jobs`, behind `/v1`'s auth.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", post(create_job).get(list_jobs))
        .route("/events", get(follow_all))
        .route("/{id}", get(get_job))
        .route("/{id}/events", get(follow_job))
        .route("/{id}/cancel", post(cancel_job))
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
        .layer(from_fn_with_state(state, crate::middleware::auth))
}

/// The running [`Jobs`], or a 503 on a server started without them.
pub(crate) struct Running(pub(crate) Jobs);

impl<S: Send + Sync> FromRequestParts<S> for Running {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self> {
        parts
            .extensions
            .get::<Jobs>()
            .cloned()
            .map(Running)
            .ok_or_else(|| Error::Rejected {
                status: StatusCode::SERVICE_UNAVAILABLE,
                message: "jobs are not running on this server".into(),
            })
    }
}

/// The caller's Bearer key, if it sent one.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn new_job_id() -> String {
    format!("job_{}", uuid::Uuid::new_v4().simple())
}

/// `POST /_snapdeck/jobs`: 201 with the new job, or 200 with the one this request id
/// created before (409 if that one was asked for something else).
async fn create_job(
    Running(jobs): Running,
    headers: HeaderMap,
    JsonBody(mut new): JsonBody<NewJob>,
) -> Result<Response> {
    if new.request_id.trim().is_empty() {
        // The client's per-call id, which it reuses on retries, will do.
        new.request_id = headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
    }
    if new.request_id.trim().is_empty() || new.request_id.len() > 256 {
        return Err(Error::BadRequest(
            "request_id is required (1–256 characters): it makes creating a job safe to retry"
                .into(),
        ));
    }
    let (job, created) = {
        let mut db = jobs.db();
        if let Some(existing) = db.by_request_id(&new.request_id)? {
            if existing.spec != new.spec {
                return Err(Error::Conflict(format!(
                    "request_id {} already created job {} for another request",
                    new.request_id, existing.summary.id
                )));
            }
            let job = db
                .job(&existing.summary.id)?
                .ok_or_else(|| Error::Internal("a job vanished while being read".into()))?;
            (job, false)
        } else {
            let run = match &new.spec {
                JobSpec::Plan { .. } => None,
                JobSpec::Delete(spec) => Some(delete_run(&db, spec)?),
                JobSpec::Fanout(spec) => {
                    check_fanout(spec)
                        .map_err(|e| Error::BadRequest(format!("invalid fan-out: {e}")))?;
                    None
                }
            };
            let (batch_id, total) = match &new.spec {
                JobSpec::Fanout(f) => (Some(f.batch_id.clone()), f.children.len()),
                _ => (None, 0),
            };
            let now = now_ms();
            let summary = JobSummary {
                id: new_job_id(),
                kind: new.spec.kind(),
                status: JobStatus::Queued,
                request_id: new.request_id.clone(),
                client_id: new.client_id.clone(),
                policy: run_policy(&db, &new.spec)?,
                plan_job: match &new.spec {
                    JobSpec::Delete(d) => d.plan_job.clone(),
                    JobSpec::Plan { .. } | JobSpec::Fanout(_) => None,
                },
                progress: run.as_ref().map_or_else(
                    || JobProgress {
                        total,
                        ..JobProgress::default()
                    },
                    |r| JobProgress::of_run(&r.counts()),
                ),
                cancel_requested: false,
                error: None,
                created_at_ms: now,
                updated_at_ms: now,
                finished_at_ms: None,
                resumed: 0,
                batch_id,
                children: Vec::new(),
            };
            db.insert(&summary, &new.spec, run.as_ref())?;
            let job = Job {
                summary,
                plan: None,
                items: run.map(|r| r.items).unwrap_or_default(),
            };
            (job, true)
        }
    };
    let id = job.summary.id.clone();
    let key_was_missing = jobs.offer_key(&id, bearer(&headers));
    if created || key_was_missing {
        jobs.emit(Emitted::Summary(job.summary.clone()));
        jobs.start_job(&id);
    }
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(job)).into_response())
}

/// The policy a job plans with or must keep holding: a delete from a plan job keeps
/// that plan's.
fn run_policy(
    db: &super::db::JobDb,
    spec: &JobSpec,
) -> Result<Option<snapdeck_core::retention::RetentionPolicy>> {
    Ok(match spec {
        JobSpec::Plan { policy } => Some(policy.clone()),
        JobSpec::Delete(DeleteSpec {
            plan_job: Some(plan_job),
            ..
        }) => db.plan(plan_job)?.map(|p| p.policy),
        JobSpec::Delete(d) => d.policy.clone(),
        JobSpec::Fanout(_) => None,
    })
}

/// The run of a delete job: exactly what was confirmed, never anything more.
fn delete_run(db: &super::db::JobDb, spec: &DeleteSpec) -> Result<BulkRun> {
    let confirmed: Vec<Confirmed> = match &spec.plan_job {
        Some(plan_job) => {
            if !spec.confirmed.is_empty() {
                return Err(Error::Unprocessable(
                    "give either confirmed snapshots or plan_job with snapshot_ids, not both"
                        .into(),
                ));
            }
            let plan = db.plan(plan_job)?.ok_or_else(|| {
                Error::Unprocessable(format!("{plan_job} is not a finished plan job"))
            })?;
            let deletes: BTreeSet<&str> =
                plan.to_delete().map(|i| i.snapshot.id.as_str()).collect();
            if let Some(id) = spec
                .snapshot_ids
                .iter()
                .find(|id| !deletes.contains(id.as_str()))
            {
                return Err(Error::Unprocessable(format!(
                    "{id} is not one of the deletes of plan {plan_job}: a run deletes \
                     only what its plan deletes"
                )));
            }
            // What the person left unticked: the plan's deletes they did not pick. A
            // snapshot picked twice is still one item.
            let picked: BTreeSet<&str> = spec.snapshot_ids.iter().map(String::as_str).collect();
            let unticked: BTreeSet<String> = deletes
                .difference(&picked)
                .map(|id| (*id).to_owned())
                .collect();
            confirmed_from_plan(&plan, &unticked)
        }
        None => spec.confirmed.clone(),
    };
    if confirmed.is_empty() {
        return Err(Error::Unprocessable(
            "a delete job needs at least one snapshot".into(),
        ));
    }
    if confirmed.len() > MAX_ITEMS {
        return Err(Error::Unprocessable(format!(
            "a delete job takes at most {MAX_ITEMS} snapshots"
        )));
    }
    Ok(BulkRun::new(confirmed).with_concurrency(SERVER_CONCURRENCY))
}

/// `GET /_snapdeck/jobs?limit=N` (default 50): the newest jobs, newest first.
async fn list_jobs(Running(jobs): Running, params: Params) -> Result<Json<JobList>> {
    let limit = crate::query::limit_within(&params, 50, MAX_LIST)?;
    Ok(Json(JobList {
        jobs: jobs.db().list(limit)?,
    }))
}

fn found(jobs: &Jobs, id: &str, headers: &HeaderMap) -> Result<Job> {
    let job = jobs
        .db()
        .job(id)?
        .ok_or_else(|| Error::not_found("Job", id))?;
    wake_if_waiting(jobs, &job.summary, headers);
    Ok(job)
}

/// A job waiting for a caller's key (proxy mode after a restart) continues once a
/// signed-in caller looks at it.
fn wake_if_waiting(jobs: &Jobs, summary: &JobSummary, headers: &HeaderMap) {
    if !summary.status.is_terminal() && jobs.offer_key(&summary.id, bearer(headers)) {
        jobs.start_job(&summary.id);
    }
}

/// `GET /_snapdeck/jobs/{id}`: the job with its plan or its items.
async fn get_job(Running(jobs): Running, Id(id): Id, headers: HeaderMap) -> Result<Json<Job>> {
    found(&jobs, &id, &headers).map(Json)
}

/// `POST /_snapdeck/jobs/{id}/cancel`: stops the job; deletes already sent finish, the
/// rest are skipped as cancelled. A finished job is answered unchanged.
async fn cancel_job(Running(jobs): Running, Id(id): Id) -> Result<Json<JobSummary>> {
    let mut summary = {
        let mut db = jobs.db();
        let stored = db.get(&id)?.ok_or_else(|| Error::not_found("Job", &id))?;
        if stored.summary.status.is_terminal() {
            return Ok(Json(stored.summary));
        }
        db.request_cancel(&id)?;
        stored.summary
    };
    summary.cancel_requested = true;
    jobs.cancel_flag(&id).request();
    jobs.emit(Emitted::Summary(summary.clone()));
    Ok(Json(summary))
}

fn job_event(summary: &JobSummary) -> Event {
    Event::default()
        .event(EVENT_JOB)
        .data(serde_json::to_string(summary).unwrap_or_default())
}

/// What one follower's stream is at.
struct Follow {
    jobs: Jobs,
    rx: broadcast::Receiver<Emitted>,
    /// One job (with its items), or every job (summaries only).
    id: Option<String>,
    first: Option<Event>,
    /// Whether the stream ends after `first` (a job already over).
    only_first: bool,
    done: bool,
}

impl Follow {
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        if self.done {
            return None;
        }
        if let Some(first) = self.first.take() {
            self.done = self.only_first;
            return Some((Ok(first), self));
        }
        loop {
            let event = match self.rx.recv().await {
                Ok(Emitted::Summary(s)) if self.id.as_ref().is_none_or(|id| *id == s.id) => {
                    // One job's stream ends with its last summary.
                    self.done = self.id.is_some() && s.status.is_terminal();
                    job_event(&s)
                }
                Ok(Emitted::Item(i)) if self.id.as_ref() == Some(&i.job_id) => Event::default()
                    .event(EVENT_ITEM)
                    .data(serde_json::to_string(&i).unwrap_or_default()),
                Ok(_) => continue,
                // Fell behind: what was missed is in the current summary.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let Some(id) = &self.id else { continue };
                    let current = self.jobs.db().get(id).ok().flatten()?;
                    self.done = current.summary.status.is_terminal();
                    job_event(&current.summary)
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            };
            return Some((Ok(event), self));
        }
    }
}

fn sse(follow: Follow) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    Sse::new(stream::unfold(follow, Follow::next))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// `GET /_snapdeck/jobs/{id}/events`: the job's summary now, then every change and
/// every settled item, ending after the job's last summary.
async fn follow_job(
    Running(jobs): Running,
    Id(id): Id,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    // Subscribed before reading, so no change falls between the two.
    let rx = jobs.0.events.subscribe();
    let job = jobs
        .db()
        .get(&id)?
        .ok_or_else(|| Error::not_found("Job", &id))?;
    wake_if_waiting(&jobs, &job.summary, &headers);
    Ok(sse(Follow {
        first: Some(job_event(&job.summary)),
        only_first: job.summary.status.is_terminal(),
        done: false,
        jobs: jobs.clone(),
        rx,
        id: Some(id),
    }))
}

/// `GET /_snapdeck/jobs/events`: every job's summary as it changes (for the
/// operations tray); never ends by itself.
async fn follow_all(Running(jobs): Running) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = jobs.0.events.subscribe();
    sse(Follow {
        first: None,
        only_first: false,
        done: false,
        jobs: jobs.clone(),
        rx,
        id: None,
    })
}
