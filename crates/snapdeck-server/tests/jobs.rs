//! The jobs API in process: the real `snapdeck-api` client and snapdeck-core's jobs
//! endpoints against the router with jobs running, the jobs calling the emulator through
//! its own `/v1` pipeline.

use std::collections::BTreeSet;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Uri};
use http_body_util::BodyExt;
use snapdeck_api::endpoints::ListSnapshots;
use snapdeck_api::{
    ApiError, Client, CreateDevbox, DevboxStatus, HttpRequest, HttpResponse, Metadata, PINNED_KEY,
    RetryPolicy, SnapshotParams, SnapshotStatus, Transport, TransportError,
};
use snapdeck_core::bulk::{Confirmed, ItemState, SkipReason};
use snapdeck_core::jobs::{
    CancelJob, CreateJob, DeleteSpec, GetJob, Job, JobSpec, JobStatus, ListJobs, NewJob,
};
use snapdeck_core::retention::{Decision, RetentionPolicy, Scope};
use snapdeck_server::app_with_jobs;
use snapdeck_server::testing::state;
use snapdeck_server::{AppState, Config, Timings};
use tower::ServiceExt;

/// Instant lifecycles: the tests are about jobs, not about waiting for snapshots.
const QUICK: Timings = Timings {
    boot_ms: 1,
    suspend_ms: 1,
    resume_ms: 1,
    snapshot_ms: 1,
    blueprint_build_ms: 1,
};

/// Client requests straight into a router (the one with jobs).
#[derive(Clone)]
struct Direct(Router);

impl Transport for Direct {
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, TransportError> {
        let uri: Uri = req
            .url
            .parse()
            .map_err(|e| TransportError::Network(format!("{e}")))?;
        let path = uri
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .to_owned();
        let mut builder = Request::builder().method(req.method.as_str()).uri(path);
        for (k, v) in &req.headers {
            builder = builder.header(k, v);
        }
        let request = builder
            .body(req.body.map_or_else(Body::empty, Body::from))
            .map_err(|e| TransportError::Network(e.to_string()))?;
        let response = self
            .0
            .clone()
            .oneshot(request)
            .await
            .map_err(|never| match never {})?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| TransportError::Network(e.to_string()))?
            .to_bytes()
            .to_vec();
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }

    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }

    fn random_u64(&self) -> u64 {
        fastrand::u64(..)
    }
}

struct Emu {
    state: AppState,
    router: Router,
    client: Client<Direct>,
}

impl Emu {
    fn new() -> Self {
        let state = state(QUICK, Config::default(), false).expect("state");
        let (router, _jobs) = app_with_jobs(&state, None).expect("jobs");
        let client = Self::client_of(&router);
        Self {
            state,
            router,
            client,
        }
    }

    /// Another caller (another browser) of the same server.
    fn client_of(router: &Router) -> Client<Direct> {
        Client::new(Direct(router.clone()), "http://snapdeck")
            .with_api_key("jobs-test")
            .with_retry_policy(RetryPolicy::none())
    }

    /// A running devbox with `n` complete snapshots (oldest first); returns its id and
    /// the snapshot ids.
    async fn devbox_with(&self, name: &str, n: usize) -> (String, Vec<String>) {
        let dbx = self
            .client
            .create_devbox(&CreateDevbox {
                name: Some(name.into()),
                ..CreateDevbox::default()
            })
            .await
            .expect("create");
        self.client
            .wait_for_status(&dbx.id, &[DevboxStatus::Running], Some(5.0))
            .await
            .expect("wait")
            .expect("running");
        let mut ids = Vec::new();
        for i in 0..n {
            let s = self
                .client
                .snapshot_disk_async(
                    &dbx.id,
                    &SnapshotParams {
                        name: Some(format!("{name}-{i}")),
                        ..SnapshotParams::default()
                    },
                )
                .await
                .expect("snapshot");
            ids.push(s.id);
            // Distinct creation times, so "newest" is unambiguous.
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        (dbx.id, ids)
    }

    async fn listed(&self, devbox: &str) -> BTreeSet<String> {
        let list = self
            .client
            .list_snapshots(&ListSnapshots {
                devbox_id: Some(devbox.into()),
                limit: Some(5000),
                ..ListSnapshots::default()
            })
            .await
            .expect("list");
        list.snapshots.into_iter().map(|s| s.id).collect()
    }

    async fn create(&self, request_id: &str, spec: JobSpec) -> Result<Job, ApiError> {
        self.client
            .call(&CreateJob(NewJob {
                request_id: request_id.into(),
                client_id: Some("test-browser".into()),
                spec,
            }))
            .await
    }

    async fn finished(&self, id: &str) -> Job {
        for _ in 0..1500 {
            let job = self
                .client
                .call(&GetJob { id: id.into() })
                .await
                .expect("get");
            if job.summary.status.is_terminal() {
                return job;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("job {id} did not finish");
    }

    async fn planned(&self, request_id: &str, policy: RetentionPolicy) -> Job {
        let job = self
            .create(request_id, JobSpec::Plan { policy })
            .await
            .expect("create plan");
        self.finished(&job.summary.id).await
    }
}

fn keep_newest(devbox: &str, n: u32) -> RetentionPolicy {
    RetentionPolicy {
        scope: Scope::Devbox(devbox.into()),
        keep_newest: n,
        ..RetentionPolicy::default()
    }
}

fn deletes_of(job: &Job) -> Vec<String> {
    job.plan
        .as_ref()
        .expect("a plan")
        .to_delete()
        .map(|i| i.snapshot.id.clone())
        .collect()
}

fn from_plan(plan: &Job, ids: &[String]) -> JobSpec {
    JobSpec::Delete(DeleteSpec {
        plan_job: Some(plan.summary.id.clone()),
        snapshot_ids: ids.to_vec(),
        ..DeleteSpec::default()
    })
}

#[tokio::test]
async fn a_plan_job_plans_every_snapshot_in_scope_with_a_reason() {
    let emu = Emu::new();
    let (dbx, ids) = emu.devbox_with("plan", 6).await;
    let (_other, _) = emu.devbox_with("other", 2).await;
    let job = emu.planned("p1", keep_newest(&dbx, 2)).await;
    assert_eq!(job.summary.status, JobStatus::Finished);
    let plan = job.plan.as_ref().expect("plan");
    assert_eq!(plan.items.len(), 6, "only the scope's snapshots");
    let deleted: BTreeSet<String> = deletes_of(&job).into_iter().collect();
    let oldest_four: BTreeSet<String> = ids[..4].iter().cloned().collect();
    assert_eq!(deleted, oldest_four);
    assert!(
        plan.to_keep()
            .all(|i| matches!(i.decision, Decision::Keep(_)))
    );
    assert_eq!(job.summary.progress.to_delete, Some(4));
    assert_eq!(job.summary.progress.total, 6);
    assert_eq!(job.summary.progress.cached, 0, "nothing cached yet");
}

#[tokio::test]
async fn a_second_plan_takes_terminal_statuses_from_the_cache() {
    let emu = Emu::new();
    let (dbx, _) = emu.devbox_with("cache", 5).await;
    let first = emu.planned("c1", keep_newest(&dbx, 1)).await;
    let second = emu.planned("c2", keep_newest(&dbx, 1)).await;
    assert_eq!(first.summary.progress.cached, 0);
    assert_eq!(second.summary.progress.cached, 5, "no status call needed");
    assert_eq!(deletes_of(&first), deletes_of(&second));
}

#[tokio::test]
async fn a_run_from_a_plan_deletes_exactly_the_confirmed_deletes() {
    let emu = Emu::new();
    let (dbx, ids) = emu.devbox_with("run", 8).await;
    let plan = emu.planned("r-plan", keep_newest(&dbx, 1)).await;
    let planned = deletes_of(&plan);
    assert_eq!(planned.len(), 7);
    // The person confirms only five of the seven.
    let confirmed = &planned[..5];
    let run = emu
        .create("r-run", from_plan(&plan, confirmed))
        .await
        .expect("create run");
    assert_eq!(run.items.len(), 5);
    let run = emu.finished(&run.summary.id).await;
    assert_eq!(run.summary.status, JobStatus::Finished);
    assert_eq!(run.summary.progress.done, 5);
    assert!(run.items.iter().all(|i| i.state
        == ItemState::Done {
            already_gone: false
        }));
    let left = emu.listed(&dbx).await;
    let expected: BTreeSet<String> = ids
        .iter()
        .filter(|id| !confirmed.contains(id))
        .cloned()
        .collect();
    assert_eq!(left, expected);
    assert_eq!(
        run.summary.plan_job.as_deref(),
        Some(plan.summary.id.as_str())
    );
    assert_eq!(run.summary.policy, Some(keep_newest(&dbx, 1)));
}

#[tokio::test]
async fn a_run_never_takes_a_snapshot_its_plan_keeps() {
    let emu = Emu::new();
    let (dbx, ids) = emu.devbox_with("keep", 3).await;
    let plan = emu.planned("k-plan", keep_newest(&dbx, 1)).await;
    let newest = ids.last().expect("ids").clone();
    let err = emu
        .create("k-run", from_plan(&plan, &[newest]))
        .await
        .expect_err("refused");
    assert!(matches!(err, ApiError::Api { status: 422, .. }), "{err:?}");
    assert_eq!(emu.listed(&dbx).await.len(), 3);
}

#[tokio::test]
async fn the_same_request_id_gives_the_same_job_and_another_request_is_refused() {
    let emu = Emu::new();
    let (dbx, _) = emu.devbox_with("idem", 3).await;
    let spec = JobSpec::Plan {
        policy: keep_newest(&dbx, 1),
    };
    let a = emu.create("same-id", spec.clone()).await.expect("first");
    let b = emu.create("same-id", spec).await.expect("again");
    assert_eq!(a.summary.id, b.summary.id);
    let other = emu
        .create(
            "same-id",
            JobSpec::Plan {
                policy: keep_newest(&dbx, 2),
            },
        )
        .await
        .expect_err("different request");
    assert!(
        matches!(other, ApiError::Api { status: 409, .. }),
        "{other:?}"
    );
    let list = emu.client.call(&ListJobs::default()).await.expect("list");
    assert_eq!(list.jobs.len(), 1, "one job, not two");
}

#[tokio::test]
async fn another_caller_sees_the_same_job_and_its_outcome() {
    let emu = Emu::new();
    let (dbx, _) = emu.devbox_with("shared", 4).await;
    let plan = emu.planned("s-plan", keep_newest(&dbx, 1)).await;
    let run = emu
        .create("s-run", from_plan(&plan, &deletes_of(&plan)))
        .await
        .expect("run");
    let teammate = Emu::client_of(&emu.router);
    let listed = teammate.call(&ListJobs::default()).await.expect("list");
    let ids: Vec<&str> = listed.jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(
        ids,
        [run.summary.id.as_str(), plan.summary.id.as_str()],
        "newest first"
    );
    let mine = emu.finished(&run.summary.id).await;
    let theirs = teammate
        .call(&GetJob {
            id: run.summary.id.clone(),
        })
        .await
        .expect("get");
    assert_eq!(theirs.items, mine.items);
    assert_eq!(theirs.summary.client_id.as_deref(), Some("test-browser"));
}

#[tokio::test]
async fn a_snapshot_pinned_after_confirmation_is_skipped_by_the_job() {
    let emu = Emu::new();
    let (dbx, _) = emu.devbox_with("pin", 4).await;
    let plan = emu.planned("pin-plan", keep_newest(&dbx, 1)).await;
    let planned = deletes_of(&plan);
    let mut pinned = Metadata::new();
    pinned.insert(PINNED_KEY.into(), "true".into());
    emu.client
        .update_snapshot(
            &planned[0],
            &SnapshotParams {
                metadata: Some(pinned),
                ..SnapshotParams::default()
            },
        )
        .await
        .expect("pin");
    let run = emu
        .create("pin-run", from_plan(&plan, &planned))
        .await
        .expect("run");
    let run = emu.finished(&run.summary.id).await;
    let first = run
        .items
        .iter()
        .find(|i| i.confirmed.snapshot_id == planned[0])
        .expect("item");
    assert_eq!(
        first.state,
        ItemState::Skipped {
            reason: SkipReason::PinnedSince
        }
    );
    assert!(emu.listed(&dbx).await.contains(&planned[0]));
    assert_eq!(run.summary.progress.done, planned.len() - 1);
}

#[tokio::test]
async fn a_job_whose_kept_snapshot_is_deleted_elsewhere_deletes_nothing_of_that_devbox() {
    // Issue 12: keep the newest of six; someone deletes that one before the person
    // confirms the five. The job must not leave the devbox with nothing.
    let emu = Emu::new();
    let (dbx, ids) = emu.devbox_with("gone", 6).await;
    let plan = emu.planned("g-plan", keep_newest(&dbx, 1)).await;
    let planned = deletes_of(&plan);
    assert_eq!(planned.len(), 5);
    let kept = ids.last().expect("ids").clone();
    emu.client
        .delete_snapshot(&kept)
        .await
        .expect("deleted elsewhere");
    let run = emu
        .create("g-run", from_plan(&plan, &planned))
        .await
        .expect("run");
    let run = emu.finished(&run.summary.id).await;
    assert_eq!(run.summary.status, JobStatus::Finished);
    assert_eq!(run.summary.progress.done, 0);
    assert_eq!(run.summary.progress.skipped, 5);
    for item in &run.items {
        let ItemState::Skipped { reason } = &item.state else {
            panic!("{item:?}");
        };
        assert!(
            matches!(reason, SkipReason::PlanKeptGone { gone, .. } if gone.snapshot_id == kept),
            "{reason:?}"
        );
        assert!(
            reason
                .to_string()
                .contains("gone-5, which this plan kept, was deleted elsewhere"),
            "{reason}"
        );
    }
    assert_eq!(emu.listed(&dbx).await.len(), 5);
}

#[tokio::test]
async fn a_hand_picked_job_keeps_the_last_complete_snapshot_unless_overridden() {
    let emu = Emu::new();
    let (dbx, ids) = emu.devbox_with("floor", 2).await;
    let confirmed = |id: &String| Confirmed {
        snapshot_id: id.clone(),
        source_devbox_id: dbx.clone(),
        name: None,
        size_bytes: None,
        status: Some(SnapshotStatus::Complete),
    };
    let spec = |override_ids: Vec<String>| {
        JobSpec::Delete(DeleteSpec {
            confirmed: ids.iter().map(confirmed).collect(),
            override_ids,
            ..DeleteSpec::default()
        })
    };
    let run = emu.create("f-run", spec(Vec::new())).await.expect("run");
    let run = emu.finished(&run.summary.id).await;
    assert_eq!(run.summary.progress.done, 1);
    let newest = ids.last().expect("ids");
    assert_eq!(emu.listed(&dbx).await, BTreeSet::from([newest.clone()]));
    let kept = run
        .items
        .iter()
        .find(|i| &i.confirmed.snapshot_id == newest)
        .expect("item");
    assert!(matches!(
        kept.state,
        ItemState::Skipped {
            reason: SkipReason::LastComplete { .. }
        }
    ));
    // Typed override for the last one: now it goes.
    let run = emu
        .create("f-run-2", spec(vec![newest.clone()]))
        .await
        .expect("run");
    let run = emu.finished(&run.summary.id).await;
    assert_eq!(run.summary.progress.done, 1);
    assert!(emu.listed(&dbx).await.is_empty());
}

#[tokio::test]
async fn cancel_stops_the_run_with_every_item_accounted_for() {
    let emu = Emu::new();
    let (dbx, ids) = emu.devbox_with("cancel", 120).await;
    let plan = emu.planned("x-plan", keep_newest(&dbx, 1)).await;
    let planned = deletes_of(&plan);
    // Slow enough that the cancel lands mid-run.
    emu.state.update_faults(|f| f.fault_latency_ms = 40);
    let run = emu
        .create("x-run", from_plan(&plan, &planned))
        .await
        .expect("run");
    let id = run.summary.id.clone();
    loop {
        let job = emu
            .client
            .call(&GetJob { id: id.clone() })
            .await
            .expect("get");
        if job.summary.progress.done > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let cancelled = emu
        .client
        .call(&CancelJob { id: id.clone() })
        .await
        .expect("cancel");
    assert!(cancelled.cancel_requested);
    let run = emu.finished(&id).await;
    emu.state.update_faults(|f| f.fault_latency_ms = 0);
    assert_eq!(run.summary.status, JobStatus::Cancelled);
    let p = run.summary.progress;
    assert_eq!(p.done + p.failed + p.skipped, planned.len(), "{p:?}");
    assert!(p.skipped > 0, "the cancel came before the end: {p:?}");
    assert!(run.items.iter().all(|i| i.state.is_settled()));
    // Exactly the items reported done are gone; everything else is still there.
    let done: BTreeSet<String> = run
        .items
        .iter()
        .filter(|i| matches!(i.state, ItemState::Done { .. }))
        .map(|i| i.confirmed.snapshot_id.clone())
        .collect();
    let expected: BTreeSet<String> = ids.iter().filter(|i| !done.contains(*i)).cloned().collect();
    assert_eq!(emu.listed(&dbx).await, expected);
    for item in &run.items {
        if let ItemState::Skipped { reason } = &item.state {
            assert_eq!(*reason, SkipReason::Cancelled);
        }
    }
}

#[tokio::test]
async fn a_follower_gets_the_summary_then_each_item_and_the_stream_ends_with_the_job() {
    let emu = Emu::new();
    let (dbx, _) = emu.devbox_with("follow", 5).await;
    let plan = emu.planned("f-plan", keep_newest(&dbx, 1)).await;
    emu.state.update_faults(|f| f.fault_latency_ms = 20);
    let run = emu
        .create("f-run", from_plan(&plan, &deletes_of(&plan)))
        .await
        .expect("run");
    let response = emu
        .router
        .clone()
        .oneshot(
            Request::get(format!("/_snapdeck/jobs/{}/events", run.summary.id))
                .header("authorization", "Bearer jobs-test")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("answer");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    // The stream ends by itself once the job is over.
    let body = tokio::time::timeout(Duration::from_secs(30), response.into_body().collect())
        .await
        .expect("the stream ends")
        .expect("body")
        .to_bytes();
    let text = String::from_utf8_lossy(&body);
    let events: Vec<(&str, serde_json::Value)> = text
        .split("\n\n")
        .filter_map(|block| {
            let name = block.lines().find_map(|l| l.strip_prefix("event: "))?;
            let data = block.lines().find_map(|l| l.strip_prefix("data: "))?;
            Some((name, serde_json::from_str(data).ok()?))
        })
        .collect();
    assert_eq!(events.first().map(|e| e.0), Some("job"));
    let items: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e.0 == "item")
        .map(|e| &e.1)
        .collect();
    assert_eq!(items.len(), 4, "{text}");
    let last = events.last().expect("events");
    assert_eq!(last.0, "job");
    assert_eq!(last.1["status"], "finished");
    assert_eq!(last.1["progress"]["done"], 4);
}

#[tokio::test]
async fn jobs_need_the_same_key_as_the_api() {
    let state = state(
        QUICK,
        Config {
            api_key: Some("right".into()),
            ..Config::default()
        },
        false,
    )
    .expect("state");
    let (router, _jobs) = app_with_jobs(&state, None).expect("jobs");
    let wrong = Client::new(Direct(router.clone()), "http://snapdeck")
        .with_api_key("wrong")
        .with_retry_policy(RetryPolicy::none());
    let err = wrong.call(&ListJobs::default()).await.expect_err("refused");
    assert!(matches!(err, ApiError::Api { status: 401, .. }), "{err:?}");
    let right = Client::new(Direct(router), "http://snapdeck")
        .with_api_key("right")
        .with_retry_policy(RetryPolicy::none());
    assert!(right.call(&ListJobs::default()).await.is_ok());
}

#[tokio::test]
async fn healthz_says_whether_jobs_run() {
    let emu = Emu::new();
    let health = emu
        .client
        .send(
            snapdeck_api::Request::get("/healthz", &snapdeck_api::Query::new()),
            RetryPolicy::none(),
            None,
        )
        .await
        .expect("healthz");
    let body: serde_json::Value = serde_json::from_slice(&health.body).expect("json");
    assert_eq!(body["jobs"]["available"], true);
    assert_eq!(body["jobs"]["path"], "/_snapdeck/jobs");

    let without = snapdeck_server::app(state(QUICK, Config::default(), false).expect("state"));
    let response = without
        .oneshot(
            Request::get("/healthz")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("answer");
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let body: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(body["jobs"]["available"], false);
}
