//! The jobs' Durable Object: one SQLite-backed object (`SnapdeckJobs`, named
//! [`OBJECT_NAME`]) holds every job of the worker — the jobs API's creations and the
//! cron's retention runs — and runs them with its alarm.
//!
//! * **Storage** (the object's SQLite, [`db`]): `jobs` (summary, spec, stage, chunk
//!   count, the cancel flag in a column of its own), `items` (each delete's state),
//!   `inventory` (a job's listing with each snapshot's status as learnt) and
//!   `status_cache` (terminal statuses by snapshot id and creation time, so a second
//!   plan makes no call for them), and `audit` (the trail: an entry for every delete
//!   item a job settles, see [`crate::audit`]).
//! * **Alarms**: each alarm is one invocation with its own subrequest budget. It runs
//!   one bounded chunk of one unfinished job (round robin) — at most
//!   `JOBS_CHUNK_REQUESTS` requests: a listing, a slice of the status fan-in, or a run
//!   of deletes through [`run::drive_chunk`] — writes down where it stands and sets the
//!   next alarm while any job is unfinished. So a run is not bounded by one
//!   invocation's subrequests.
//! * **No duplicate delete after a retry**: every item's state is written before the
//!   request it leads to is sent (snapdeck-run's observer is told before deletes go out,
//!   and the object's output gate holds the request until the write is durable). An
//!   alarm cut off mid-chunk is retried by the runtime; the items it left running go
//!   through `BulkRun::resume_after_interruption`, so a delete that may have been sent
//!   is re-checked (gone: done) instead of sent again.
//! * **Every settled item in the audit trail once**: its entry is written in the same
//!   synchronous step as its state (no `await` between them, so the object's storage
//!   commits them as one implicit transaction), with an id fixed by job and item, so
//!   a retried alarm neither loses one nor writes one twice.
//!
//! The worker forwards `/_snapdeck/jobs…` and `/_snapdeck/audit` here after its access
//! check; the cron posts to [`RETENTION_PATH`], which the worker never forwards from
//! outside.

use std::collections::BTreeMap;

use futures::TryStreamExt;
use serde::Deserialize;
use snapdeck_api::endpoints::ListSnapshots;
use snapdeck_api::{BrowserTransport, Client, Snapshot, SnapshotStatus};
use snapdeck_core::audit::{self as trail, AUDIT_PATH, AuditList};
use snapdeck_core::bulk::{BulkRun, ItemState};
use snapdeck_core::jobs::{JOBS_PATH, Job, JobProgress, JobSpec, JobStatus, JobSummary, NewJob};
use snapdeck_core::retention::{self, CleanupPlan, RetentionPolicy};
use snapdeck_run::{ClientApi, Observer, Options};
use worker::{
    DurableObject, Env, Method, Request, Response, State, console_error, console_log,
    durable_object,
};

use crate::audit::{self, Format, ListQuery};
use crate::config::{self, Settings};
use crate::forward::redact_text;
use crate::jobs::{self, EdgeSpec, Refusal, Stage};
use crate::plan::{self, SnapshotState};
use crate::run::{self, ChunkEnd};

/// The Durable Object binding (`[[durable_objects.bindings]]` in wrangler.toml).
pub const BINDING: &str = "JOBS";
/// The one object that holds every job.
pub const OBJECT_NAME: &str = "jobs";
/// The cron's way in (POST a [`RetentionRequest`]).
pub const RETENTION_PATH: &str = "/_internal/retention";

mod db;

use db::{Db, Fallible, Row};

/// What the cron sends.
#[derive(Debug, Clone, serde::Serialize, Deserialize)]
pub struct RetentionRequest {
    pub request_id: String,
    pub policies: Vec<RetentionPolicy>,
    pub dry_run: bool,
    pub cron: String,
}

fn now_ms() -> i64 {
    i64::try_from(worker::Date::now().as_millis()).unwrap_or(i64::MAX)
}

/// Writes the run down at every change — before the requests it leads to are sent —
/// with an audit entry for each item that settles, and reads the cancel flag the jobs
/// API sets.
struct Persist<'a> {
    db: &'a Db,
    summary: &'a mut JobSummary,
    /// Who and which policy the job's audit entries name.
    audit: audit::Writer,
    /// Each item's state as last written.
    written: Vec<ItemState>,
    /// A write failed: the run cancels itself, so nothing is sent unrecorded.
    failed: Option<String>,
}

impl Persist<'_> {
    /// Synchronous from start to end: the items, their audit entries and the summary
    /// commit together.
    fn write(&mut self, run: &BulkRun) -> Fallible<()> {
        let mut any = false;
        let now = now_ms();
        for (n, item) in run.items.iter().enumerate() {
            if self.written.get(n) == Some(&item.state) {
                continue;
            }
            self.db.put_item(&self.summary.id, n, item)?;
            if let Some(entry) = self.audit.entry(n, item, now) {
                self.db.put_audit(&entry)?;
            }
            if let Some(slot) = self.written.get_mut(n) {
                *slot = item.state.clone();
            }
            any = true;
        }
        if any {
            self.summary.progress = JobProgress::of_run(&run.counts());
            self.summary.updated_at_ms = now;
            self.db.put_summary(self.summary)?;
        }
        Ok(())
    }
}

impl Observer for Persist<'_> {
    fn changed(&mut self, run: &BulkRun) {
        if self.failed.is_some() {
            return;
        }
        if let Err(e) = self.write(run) {
            console_error!("jobs: {}: cannot write the run: {e}", self.summary.id);
            self.failed = Some(e);
        }
    }

    fn cancel_requested(&self) -> bool {
        self.failed.is_some() || self.db.cancel_requested(&self.summary.id).unwrap_or(true)
    }
}

#[durable_object]
pub struct SnapdeckJobs {
    state: State,
    env: Env,
}

impl DurableObject for SnapdeckJobs {
    fn new(state: State, env: Env) -> Self {
        Self { state, env }
    }

    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        match self.route(req).await {
            Ok(resp) => Ok(resp),
            Err(refusal) => error_response(&refusal),
        }
    }

    async fn alarm(&self) -> worker::Result<Response> {
        let db = match self.db() {
            Ok(db) => db,
            Err(e) => return Err(worker::Error::RustError(e)),
        };
        if let Ok(Some(id)) = db.next_job()
            && let Err(e) = self.chunk(&db, &id).await
        {
            console_error!("jobs: {id}: stopped: {e}");
            self.fail(&db, &id, &e);
        }
        if matches!(db.next_job(), Ok(Some(_))) {
            self.state.storage().set_alarm(jobs::ALARM_GAP_MS).await?;
        }
        Response::ok("")
    }
}

fn error_response(refusal: &Refusal) -> worker::Result<Response> {
    Ok(Response::from_json(&snapdeck_api::ErrorBody {
        message: refusal.message.clone(),
    })?
    .with_status(refusal.status))
}

/// A failure of the object itself: the detail goes to the log, not to the caller.
fn internal(detail: impl std::fmt::Display) -> Refusal {
    console_error!("jobs: {detail}");
    Refusal {
        status: 500,
        message: "the jobs' storage failed (the worker's log says why)".into(),
    }
}

fn json_response(value: &serde_json::Value, status: u16) -> Result<Response, Refusal> {
    Response::from_json(value)
        .map(|r| r.with_status(status))
        .map_err(internal)
}

/// A random job id (`job_` and 24 hex digits).
fn new_job_id() -> String {
    let part = || (worker::js_sys::Math::random() * 4_294_967_296.0) as u64;
    format!("job_{:08x}{:08x}{:08x}", part(), part(), part())
}

impl SnapdeckJobs {
    fn db(&self) -> Fallible<Db> {
        Db::open(self.state.storage().sql())
    }

    async fn route(&self, mut req: Request) -> Result<Response, Refusal> {
        let db = self.db().map_err(internal)?;
        let url = req.url().map_err(internal)?;
        let path = url.path().to_owned();
        let method = req.method();
        if path == RETENTION_PATH && method == Method::Post {
            let body: RetentionRequest = req.json().await.map_err(|e| Refusal {
                status: 400,
                message: format!("invalid retention request: {e}"),
            })?;
            let spec = EdgeSpec::Retention {
                policies: body.policies,
                dry_run: body.dry_run,
                cron: body.cron,
            };
            let (json, created) = self
                .create(
                    &db,
                    body.request_id,
                    Some(jobs::CRON_CLIENT.to_owned()),
                    spec,
                )
                .await?;
            return json_response(&json, if created { 201 } else { 200 });
        }
        if path == AUDIT_PATH {
            if method != Method::Get {
                return Err(Refusal {
                    status: 405,
                    message: "the edge's audit trail is read with GET (its jobs write it)".into(),
                });
            }
            return list_audit(&db, &url);
        }
        let Some(rest) = path.strip_prefix(JOBS_PATH) else {
            return Err(not_found("no such route"));
        };
        let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        match (method, segments.as_slice()) {
            (Method::Post, []) => {
                let text = req.text().await.map_err(internal)?;
                let new: NewJob = serde_json::from_str(&text).map_err(|e| Refusal {
                    status: 400,
                    message: format!("invalid job: {e}"),
                })?;
                let header = req.headers().get("x-request-id").ok().flatten();
                let request_id = jobs::request_id(&new.request_id, header.as_deref())?;
                if new.spec.kind() == snapdeck_core::jobs::JobKind::Fanout {
                    // Its healthz says so; the tab launches fan-outs through /v1 here.
                    return Err(Refusal {
                        status: 400,
                        message: "the edge worker does not run fan-out jobs: the dashboard launches them itself".into(),
                    });
                }
                let spec = EdgeSpec::Api { spec: new.spec };
                let (json, created) = self.create(&db, request_id, new.client_id, spec).await?;
                json_response(&json, if created { 201 } else { 200 })
            }
            (Method::Get, []) => {
                let limit = match url.query_pairs().find(|(k, _)| k == "limit") {
                    None => jobs::DEFAULT_LIST,
                    Some((_, v)) => v
                        .parse::<usize>()
                        .ok()
                        .filter(|n| *n >= 1)
                        .ok_or_else(|| Refusal {
                            status: 400,
                            message: format!("limit must be a positive integer, got {v:?}"),
                        })?
                        .min(jobs::MAX_LIST),
                };
                let rows = db.list(limit).map_err(internal)?;
                let list: Vec<serde_json::Value> =
                    rows.iter().map(summary_json).collect::<Result<_, _>>()?;
                json_response(&serde_json::json!({ "jobs": list }), 200)
            }
            (Method::Get, ["events"] | [_, "events"]) => Err(Refusal {
                status: 501,
                message: "the edge worker serves no live events: poll GET /_snapdeck/jobs/{id}"
                    .into(),
            }),
            (Method::Get, [id]) => {
                let row = db
                    .job(id)
                    .map_err(internal)?
                    .ok_or_else(|| job_not_found(id))?;
                self.keep_going(&row).await;
                json_response(&self.job_json(&db, &row)?, 200)
            }
            (Method::Post, [id, "cancel"]) => {
                let mut row = db
                    .job(id)
                    .map_err(internal)?
                    .ok_or_else(|| job_not_found(id))?;
                if !row.summary.status.is_terminal() {
                    db.request_cancel(id).map_err(internal)?;
                    row.summary.cancel_requested = true;
                    self.wake().await;
                }
                json_response(&summary_json(&row)?, 200)
            }
            (_, [] | [_] | [_, "cancel"]) => Err(Refusal {
                status: 405,
                message: "method not allowed".into(),
            }),
            _ => Err(not_found("no such route")),
        }
    }

    /// Creates a job, or answers the one this request id created.
    async fn create(
        &self,
        db: &Db,
        request_id: String,
        client_id: Option<String>,
        spec: EdgeSpec,
    ) -> Result<(serde_json::Value, bool), Refusal> {
        if let Some(existing) = db.by_request_id(&request_id).map_err(internal)? {
            jobs::check_same_request(&request_id, &existing.id, &existing.spec, &spec)?;
            self.keep_going(&existing).await;
            return Ok((self.job_json(db, &existing)?, false));
        }
        let (items, plan) = match &spec {
            EdgeSpec::Api {
                spec: JobSpec::Delete(delete),
            } => {
                let plan = match &delete.plan_job {
                    Some(plan_job) => self.plan_of(db, plan_job).map_err(internal)?,
                    None => None,
                };
                let confirmed = jobs::delete_items(delete, plan.as_ref())?;
                (BulkRun::new(confirmed).items, plan)
            }
            _ => (Vec::new(), None),
        };
        let summary = jobs::new_summary(
            new_job_id(),
            request_id.clone(),
            client_id,
            &spec,
            plan.as_ref(),
            items.len(),
            now_ms(),
        );
        let row = Row {
            id: summary.id.clone(),
            stage: spec.first_stage(),
            spec,
            summary,
            plan_now_ms: None,
            chunks: 0,
        };
        if let Err(e) = db.prune() {
            console_error!("jobs: could not drop old jobs: {e}");
        }
        db.insert(&row, &request_id, &items).map_err(internal)?;
        self.wake().await;
        let job = Job {
            summary: row.summary.clone(),
            plan: None,
            items,
        };
        let json = serde_json::to_value(&job).map_err(internal)?;
        Ok((jobs::with_edge_fields(json, row.stage, 0), true))
    }

    /// Makes sure an alarm is coming (a job is never left without one).
    async fn wake(&self) {
        let storage = self.state.storage();
        if matches!(storage.get_alarm().await, Ok(Some(_))) {
            return;
        }
        if let Err(e) = storage.set_alarm(jobs::ALARM_GAP_MS).await {
            console_error!("jobs: cannot set the alarm: {e}");
        }
    }

    /// A look at an unfinished job also makes sure it goes on.
    async fn keep_going(&self, row: &Row) {
        if row.stage != Stage::Done {
            self.wake().await;
        }
    }

    /// The job in full: summary, its plan (finished plan jobs) or its items.
    fn job_json(&self, db: &Db, row: &Row) -> Result<serde_json::Value, Refusal> {
        let plan = match &row.spec {
            EdgeSpec::Api {
                spec: JobSpec::Plan { .. },
            } if row.summary.status == JobStatus::Finished => {
                self.plan_of(db, &row.id).map_err(internal)?
            }
            _ => None,
        };
        let job = Job {
            summary: row.summary.clone(),
            plan,
            items: db.items(&row.id).map_err(internal)?,
        };
        let json = serde_json::to_value(&job).map_err(internal)?;
        Ok(jobs::with_edge_fields(json, row.stage, row.chunks))
    }

    /// The plan of a finished plan job, planned again from its stored inventory at its
    /// stored time (the planner is pure, so it is the same plan).
    fn plan_of(&self, db: &Db, id: &str) -> Fallible<Option<CleanupPlan>> {
        let Some(row) = db.job(id)? else {
            return Ok(None);
        };
        let (
            EdgeSpec::Api {
                spec: JobSpec::Plan { policy },
            },
            Some(now),
        ) = (&row.spec, row.plan_now_ms)
        else {
            return Ok(None);
        };
        if row.summary.status != JobStatus::Finished {
            return Ok(None);
        }
        let (snapshots, statuses) = split(db.inventory(id)?);
        Ok(Some(retention::plan(policy, &snapshots, &statuses, now)))
    }

    /// A job that cannot go on: failed, with the reason.
    fn fail(&self, db: &Db, id: &str, message: &str) {
        let Ok(Some(mut row)) = db.job(id) else {
            return;
        };
        if row.stage == Stage::Done {
            return;
        }
        row.summary.error = Some(message.to_owned());
        jobs::finish(&mut row.summary, JobStatus::Failed, now_ms());
        row.stage = Stage::Done;
        if let Err(e) = db.put_state(&row) {
            console_error!("jobs: {id}: cannot record the failure: {e}");
        }
        if matches!(row.spec, EdgeSpec::Retention { .. }) {
            console_error!("retention: failed: {message}");
        }
    }

    /// One alarm's work on one job: stages until the request budget is spent, the job
    /// is done, or its deletes have had their chunk.
    async fn chunk(&self, db: &Db, id: &str) -> Fallible<()> {
        let Some(mut row) = db.job(id)? else {
            return Ok(());
        };
        db.start_chunk(id)?;
        row.chunks += 1;
        let settings = Settings::from_env(&self.env).map_err(|m| m.to_string())?;
        let client = Client::new(BrowserTransport::new(), settings.upstream_url.as_str())
            .with_api_key(settings.api_key.as_str());
        let log = |line: &str| console_log!("{}", redact_text(line, &settings.api_key));
        if row.summary.status == JobStatus::Queued {
            row.summary.status = JobStatus::Running;
            db.put_state(&row)?;
        }
        let mut left = chunk_requests(&self.env);
        loop {
            if row.stage != Stage::Run && row.stage != Stage::Done && db.cancel_requested(id)? {
                // Nothing was sent to delete yet: stopping is immediate.
                row.summary.cancel_requested = true;
                jobs::finish(&mut row.summary, JobStatus::Cancelled, now_ms());
                row.stage = Stage::Done;
                db.put_state(&row)?;
                if matches!(row.spec, EdgeSpec::Retention { .. }) {
                    log(&format!("retention: job {id} cancelled before its deletes"));
                }
            }
            match row.stage {
                Stage::Done => return Ok(()),
                Stage::List if left > 0 => {
                    left = left.saturating_sub(self.list(db, &client, &mut row).await?);
                }
                Stage::Statuses if left > 0 => {
                    left = left.saturating_sub(self.statuses(db, &client, &mut row, left).await?);
                }
                Stage::Plan => self.plan(db, &mut row, &log)?,
                Stage::Run if left > 0 => {
                    return self.run(db, &client, &mut row, left, &log).await;
                }
                _ => return Ok(()),
            }
        }
    }

    /// The scope's snapshots, in one listing of pages as large as the API gives.
    /// Returns the requests it took.
    async fn list(
        &self,
        db: &Db,
        client: &Client<BrowserTransport>,
        row: &mut Row,
    ) -> Fallible<usize> {
        let query = ListSnapshots {
            devbox_id: row.spec.listing_devbox().map(str::to_owned),
            source_blueprint_id: row.spec.listing_blueprint().map(str::to_owned),
            limit: Some(snapdeck_run::RECHECK_PAGE_SIZE),
            include_total_count: Some(false),
            ..ListSnapshots::default()
        };
        let snapshots: Vec<Snapshot> = match client.snapshots(query).try_collect().await {
            Ok(s) => s,
            Err(e) => return Err(format!("Could not list the snapshots: {e}")),
        };
        let cached = db.put_inventory(&row.id, &snapshots)?;
        row.summary.progress = JobProgress {
            total: snapshots.len(),
            done: cached,
            cached,
            ..JobProgress::default()
        };
        row.summary.updated_at_ms = now_ms();
        row.stage = Stage::Statuses;
        db.put_state(row)?;
        Ok(snapshots
            .len()
            .div_ceil(snapdeck_run::RECHECK_PAGE_SIZE as usize)
            .max(1))
    }

    /// Up to `budget` status calls, in batches (a cancel is noticed between them).
    /// Returns the requests it took.
    async fn statuses(
        &self,
        db: &Db,
        client: &Client<BrowserTransport>,
        row: &mut Row,
        budget: usize,
    ) -> Fallible<usize> {
        let todo = db.unfetched(&row.id, budget)?;
        let mut sent = 0;
        let concurrency = concurrency(&self.env);
        for batch in todo.chunks(concurrency * 10) {
            if db.cancel_requested(&row.id)? {
                return Ok(sent);
            }
            let ids: Vec<String> = batch.iter().map(|(_, s)| s.id.clone()).collect();
            let by_id: BTreeMap<&str, &(i64, Snapshot)> =
                batch.iter().map(|b| (b.1.id.as_str(), b)).collect();
            let results = run::statuses(client, &ids, concurrency).await;
            sent += batch.len();
            for (id, result) in results {
                let Some((n, snapshot)) = by_id.get(id.as_str()).copied() else {
                    continue;
                };
                let status = match result {
                    Ok(status) => Some(status),
                    // Gone since the listing: nothing to plan for it.
                    Err(e) if e.is_not_found() => Some(SnapshotStatus::Deleted),
                    // Left unknown, so the plan keeps it ("status not checked").
                    Err(_) => None,
                };
                match status {
                    Some(_) => row.summary.progress.done += 1,
                    None => row.summary.progress.failed += 1,
                }
                db.put_status(&row.id, *n, snapshot, status)?;
            }
            row.summary.updated_at_ms = now_ms();
            db.put_summary(&row.summary)?;
        }
        if db.unfetched(&row.id, 1)?.is_empty() {
            row.stage = Stage::Plan;
            db.put_state(row)?;
        }
        Ok(sent)
    }

    /// Plans (no request): a plan job ends here; the retention either ends (dry run)
    /// or confirms its deletes and goes on to run them.
    fn plan(&self, db: &Db, row: &mut Row, log: &impl Fn(&str)) -> Fallible<()> {
        let now = now_ms();
        let inventory = db.inventory(&row.id)?;
        row.plan_now_ms = Some(now);
        match &row.spec {
            EdgeSpec::Api {
                spec: JobSpec::Plan { policy },
            } => {
                let (snapshots, statuses) = split(inventory);
                let plan = retention::plan(policy, &snapshots, &statuses, now);
                row.summary.progress.to_delete = Some(plan.delete_count());
                row.summary.progress.bytes = plan.bytes_freed;
                jobs::finish(&mut row.summary, JobStatus::Finished, now);
                row.stage = Stage::Done;
            }
            EdgeSpec::Retention {
                policies, dry_run, ..
            } => {
                let states = snapshot_states(inventory);
                let combined = plan::combine(policies, &states, now);
                if *dry_run {
                    row.summary.progress.to_delete =
                        Some(combined.iter().filter(|c| c.delete).count());
                    jobs::finish(&mut row.summary, JobStatus::Finished, now);
                    row.stage = Stage::Done;
                    db.put_state(row)?;
                    report(row, policies, &combined, None, log);
                    return Ok(());
                }
                let run = plan::bulk_run(policies, &combined);
                for (n, item) in run.items.iter().enumerate() {
                    db.put_item(&row.id, n, item)?;
                }
                row.summary.progress = JobProgress::of_run(&run.counts());
                row.stage = Stage::Run;
                if run.items.is_empty() {
                    jobs::finish(&mut row.summary, JobStatus::Finished, now);
                    row.stage = Stage::Done;
                    db.put_state(row)?;
                    report(row, policies, &combined, Some(&run), log);
                    return Ok(());
                }
            }
            EdgeSpec::Api {
                spec: JobSpec::Delete(_),
            } => row.stage = Stage::Run,
            // Refused at creation: never stored.
            EdgeSpec::Api {
                spec: JobSpec::Fanout(_),
            } => {
                row.summary.error = Some("the edge worker does not run fan-out jobs".into());
                jobs::finish(&mut row.summary, JobStatus::Failed, now);
                row.stage = Stage::Done;
            }
        }
        db.put_state(row)
    }

    /// The run around the job's stored items, with its rule and what it remembers.
    fn load_run(&self, db: &Db, row: &Row) -> Fallible<BulkRun> {
        let stored = db.items(&row.id)?;
        let mut run = match &row.spec {
            EdgeSpec::Api {
                spec: JobSpec::Delete(delete),
            } => {
                let plan = match &delete.plan_job {
                    Some(plan_job) => self.plan_of(db, plan_job)?,
                    None => None,
                };
                let mut run = jobs::delete_run(delete, plan.as_ref());
                run.items = stored;
                match &plan {
                    Some(plan) => {
                        run.remembering(plan.items.iter().map(|i| (&i.snapshot, i.status)))
                    }
                    None => run,
                }
            }
            EdgeSpec::Retention { policies, .. } => {
                let inventory = snapshot_states(db.inventory(&row.id)?);
                let combined =
                    plan::combine(policies, &inventory, row.plan_now_ms.unwrap_or_else(now_ms));
                let mut run = plan::bulk_run(policies, &combined);
                run.items = stored;
                run
            }
            EdgeSpec::Api {
                spec: JobSpec::Plan { .. },
            } => return Err("a plan job has no run".into()),
            EdgeSpec::Api {
                spec: JobSpec::Fanout(_),
            } => return Err("the edge worker does not run fan-out jobs".into()),
        };
        run.max_concurrency = concurrency(&self.env);
        Ok(run)
    }

    /// One chunk of the deletes through snapdeck-run's driver.
    async fn run(
        &self,
        db: &Db,
        client: &Client<BrowserTransport>,
        row: &mut Row,
        budget: usize,
        log: &impl Fn(&str),
    ) -> Fallible<()> {
        let mut run = self.load_run(db, row)?;
        // Items a cut-off alarm left running go back to pending, and one whose delete
        // may have been sent counts as done if gone: never a second delete.
        run.resume_after_interruption();
        // Waves re-check by devbox, never with the account's listing: a wave holds a
        // dozen items of one or two devboxes, and a page of the whole account is
        // thousands of snapshots for the object to parse, for one request saved.
        let options = Options {
            account_snapshots: None,
            status_concurrency: run.max_concurrency,
            ..Options::default()
        };
        let api = ClientApi::new(client, now_ms);
        let written = db.items(&row.id)?.into_iter().map(|i| i.state).collect();
        let audit = audit::Writer::new(&row.id, &row.spec, row.summary.policy.as_ref());
        let mut persist = Persist {
            db,
            audit,
            summary: &mut row.summary,
            written,
            failed: None,
        };
        let end = run::drive_chunk(&api, &mut run, &options, budget, &mut persist).await;
        // What the pause changed (items back to pending) is written too.
        persist.changed(&run);
        if let Some(e) = persist.failed.take() {
            return Err(e);
        }
        drop(persist);
        if end == ChunkEnd::Finished {
            let cancelled = db.cancel_requested(&row.id)?;
            row.summary.cancel_requested |= cancelled;
            row.summary.progress = JobProgress::of_run(&run.counts());
            let status = if cancelled {
                JobStatus::Cancelled
            } else {
                JobStatus::Finished
            };
            jobs::finish(&mut row.summary, status, now_ms());
            row.stage = Stage::Done;
        }
        db.put_state(row)?;
        if row.stage == Stage::Done
            && let EdgeSpec::Retention { policies, .. } = &row.spec
        {
            let inventory = snapshot_states(db.inventory(&row.id)?);
            let combined =
                plan::combine(policies, &inventory, row.plan_now_ms.unwrap_or_else(now_ms));
            report(row, policies, &combined, Some(&run), log);
        }
        Ok(())
    }
}

/// Logs the retention's report (the lines the cron used to log inline).
fn report(
    row: &Row,
    policies: &[RetentionPolicy],
    combined: &[plan::Combined],
    run: Option<&BulkRun>,
    log: &impl Fn(&str),
) {
    log(&format!(
        "retention: job {} finished after {} alarms",
        row.id, row.chunks
    ));
    for line in plan::report(policies, combined, run) {
        log(&line);
    }
}

fn split(
    inventory: Vec<(Snapshot, Option<SnapshotStatus>)>,
) -> (Vec<Snapshot>, BTreeMap<String, SnapshotStatus>) {
    let statuses = inventory
        .iter()
        .filter_map(|(s, st)| st.map(|st| (s.id.clone(), st)))
        .collect();
    (inventory.into_iter().map(|(s, _)| s).collect(), statuses)
}

/// The inventory as the cron's planner takes it (an unknown status is `unknown`, which
/// every policy keeps).
fn snapshot_states(inventory: Vec<(Snapshot, Option<SnapshotStatus>)>) -> Vec<SnapshotState> {
    inventory
        .into_iter()
        .map(|(snapshot, status)| SnapshotState {
            snapshot,
            status: status.unwrap_or(SnapshotStatus::Unknown),
        })
        .collect()
}

/// `GET /_snapdeck/audit?…`: the newest matching entries, newest first, as JSON
/// ([`AuditList`]) or CSV — what snapdeck-server answers.
fn list_audit(db: &Db, url: &worker::Url) -> Result<Response, Refusal> {
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let query = ListQuery::parse(|name| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    })
    .map_err(|message| Refusal {
        status: 400,
        message,
    })?;
    let (entries, has_more) = db.audit(&query.filter, query.limit).map_err(internal)?;
    match query.format {
        Format::Json => Response::from_json(&AuditList { entries, has_more }).map_err(internal),
        Format::Csv => {
            let resp = Response::ok(trail::to_csv(&entries)).map_err(internal)?;
            let headers = resp.headers();
            for (name, value) in [
                ("content-type", "text/csv; charset=utf-8".to_owned()),
                ("content-disposition", audit::csv_disposition(now_ms())),
                // The CSV has no room for it: a header says the oldest were left out.
                ("x-snapdeck-has-more", has_more.to_string()),
            ] {
                headers.set(name, &value).map_err(internal)?;
            }
            Ok(resp)
        }
    }
}

fn summary_json(row: &Row) -> Result<serde_json::Value, Refusal> {
    let json = serde_json::to_value(&row.summary).map_err(internal)?;
    Ok(jobs::with_edge_fields(json, row.stage, row.chunks))
}

fn not_found(message: &str) -> Refusal {
    Refusal {
        status: 404,
        message: message.to_owned(),
    }
}

fn job_not_found(id: &str) -> Refusal {
    not_found(&format!("Job {id} not found"))
}

/// `JOBS_CONCURRENCY` (1 to 6), or [`jobs::EDGE_CONCURRENCY`]: requests a job keeps in
/// flight. Lower it for an API that rate-limits hard — or, as scripts/edge-test does,
/// under `wrangler dev`, where local workerd opens a new connection for a Durable
/// Object's concurrent subrequests and lets it go only much later (one at a time reuse
/// one connection).
fn concurrency(env: &Env) -> usize {
    config::string_binding(env, "JOBS_CONCURRENCY")
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(jobs::EDGE_CONCURRENCY, |n| {
            n.clamp(1, jobs::EDGE_CONCURRENCY)
        })
}

/// `JOBS_CHUNK_REQUESTS`, or [`jobs::CHUNK_REQUESTS`].
fn chunk_requests(env: &Env) -> usize {
    config::string_binding(env, "JOBS_CHUNK_REQUESTS")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(jobs::CHUNK_REQUESTS)
}
