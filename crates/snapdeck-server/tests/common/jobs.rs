//! The server with jobs running, in process: the real `snapdeck-api` client and
//! snapdeck-core's jobs endpoints against the router, the jobs calling the emulator
//! through its own `/v1` pipeline; and the job helpers any client can use (the real
//! binary's too).

use std::collections::BTreeSet;
use std::time::Duration;

use axum::Router;
use snapdeck_api::endpoints::ListSnapshots;
use snapdeck_api::{
    ApiError, Client, CreateDevbox, DevboxStatus, RetryPolicy, SnapshotParams, Transport,
};
use snapdeck_core::jobs::{CreateJob, DeleteSpec, GetJob, Job, JobSpec, NewJob};
use snapdeck_core::retention::{RetentionPolicy, Scope};
use snapdeck_server::jobs::Loopback;

use super::client::boot_named;
use snapdeck_server::testing::state;
use snapdeck_server::{AppState, Config, Timings, Upstream, app_with_jobs};

/// Instant lifecycles: the tests are about jobs, not about waiting for snapshots.
pub const QUICK: Timings = Timings {
    boot_ms: 1,
    suspend_ms: 1,
    resume_ms: 1,
    snapshot_ms: 1,
    blueprint_build_ms: 1,
};

/// A server with jobs running (in memory), and a client of it.
pub struct JobsEmu {
    pub state: AppState,
    pub router: Router,
    pub client: Client<Loopback>,
}

impl JobsEmu {
    pub fn new() -> Self {
        Self::with(Config::default())
    }

    /// With `config` (an `--api-key`, an upstream); the client sends `jobs-test`.
    pub fn with(config: Config) -> Self {
        let state = state(QUICK, config, false).expect("state");
        let (router, _jobs) = app_with_jobs(&state, None).expect("jobs");
        let client = Self::client_of(&router);
        Self {
            state,
            router,
            client,
        }
    }

    /// A proxy (`--upstream` with a key of its own) with jobs, in front of `upstream`
    /// served on a socket, as the real API would be.
    pub async fn proxy_to(upstream: Router) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, upstream).await });
        Self::with(Config {
            upstream: Some(
                Upstream::new(&format!("http://{addr}"), Some("rk-upstream".into()))
                    .expect("upstream"),
            ),
            ..Config::default()
        })
    }

    /// Another caller (another browser) of the same server.
    pub fn client_of(router: &Router) -> Client<Loopback> {
        Self::client_with_key(router, "jobs-test")
    }

    /// A caller of the server that sends `key`, with no retries.
    pub fn client_with_key(router: &Router, key: &str) -> Client<Loopback> {
        Client::new(Loopback::new(router.clone()), "http://snapdeck")
            .with_api_key(key)
            .with_retry_policy(RetryPolicy::none())
    }

    /// See [`devbox_with`]; the snapshots are complete when this returns.
    pub async fn devbox_with(&self, name: &str, n: usize) -> (String, Vec<String>) {
        let made = devbox_with(&self.client, name, n).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        made
    }

    pub async fn listed(&self, devbox: &str) -> BTreeSet<String> {
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

    pub async fn create(&self, request_id: &str, spec: JobSpec) -> Result<Job, ApiError> {
        self.client
            .call(&CreateJob(NewJob {
                request_id: request_id.into(),
                client_id: Some("test-browser".into()),
                spec,
            }))
            .await
    }

    pub async fn finished(&self, id: &str) -> Job {
        finished(&self.client, id).await
    }

    /// Runs every delete of `plan` (created with `request_id`); the run once it is over.
    pub async fn run_all(&self, request_id: &str, plan: &Job) -> Job {
        let run = self
            .create(request_id, from_plan(plan, &deletes_of(plan)))
            .await
            .expect("create run");
        self.finished(&run.summary.id).await
    }

    pub async fn planned(&self, request_id: &str, policy: RetentionPolicy) -> Job {
        let job = self
            .create(request_id, JobSpec::Plan { policy })
            .await
            .expect("create plan");
        self.finished(&job.summary.id).await
    }
}

/// A running devbox with `n` snapshots named `{name}-{i}` (oldest first, each created
/// after the one before); its id and the snapshot ids.
pub async fn devbox_with<T: Transport>(
    client: &Client<T>,
    name: &str,
    n: usize,
) -> (String, Vec<String>) {
    let dbx = boot_named(client, name).await;
    let mut ids = Vec::new();
    for i in 0..n {
        let s = client
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
    (dbx.id, ids)
}

/// Job `id` once it is over (polled; gives up after 30 s).
pub async fn finished<T: Transport>(client: &Client<T>, id: &str) -> Job {
    for _ in 0..1500 {
        let job = client.call(&GetJob { id: id.into() }).await.expect("get");
        if job.summary.status.is_terminal() {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("job {id} did not finish");
}

/// "Keep the newest `n`" of one devbox.
pub fn keep_newest(devbox: &str, n: u32) -> RetentionPolicy {
    RetentionPolicy {
        scope: Scope::Devbox(devbox.into()),
        keep_newest: n,
        ..RetentionPolicy::default()
    }
}

/// The snapshots a plan job's plan deletes.
pub fn deletes_of(job: &Job) -> Vec<String> {
    job.plan
        .as_ref()
        .expect("a plan")
        .to_delete()
        .map(|i| i.snapshot.id.clone())
        .collect()
}

/// A delete job of `ids`, picked from `plan`'s deletes.
pub fn from_plan(plan: &Job, ids: &[String]) -> JobSpec {
    JobSpec::Delete(DeleteSpec {
        plan_job: Some(plan.summary.id.clone()),
        snapshot_ids: ids.to_vec(),
        ..DeleteSpec::default()
    })
}
