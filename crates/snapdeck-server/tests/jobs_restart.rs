//! A delete job survives `kill -9` of the real server binary in the middle of its run:
//! after the restart it resumes by itself and ends having deleted exactly its plan's
//! deletes, each reported once.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use snapdeck_api::endpoints::ListSnapshots;
use snapdeck_api::{Client, NativeTransport};
use snapdeck_core::audit::{ListAudit, Outcome};
use snapdeck_core::bulk::ItemState;
use snapdeck_core::jobs::{CreateJob, DeleteSpec, GetJob, Job, JobSpec, JobStatus, NewJob};
use snapdeck_core::retention::{RetentionPolicy, Scope};

mod common;
use common::Server;
use common::jobs::{devbox_with, finished};

fn start(data: &Path) -> Server {
    Server::start(&[
        std::ffi::OsStr::new("--data"),
        data.as_os_str(),
        std::ffi::OsStr::new("--seed"),
        std::ffi::OsStr::new("none"),
        std::ffi::OsStr::new("--boot-duration-ms"),
        std::ffi::OsStr::new("10"),
        std::ffi::OsStr::new("--snapshot-duration-ms"),
        std::ffi::OsStr::new("10"),
    ])
}

fn client_of(server: &Server) -> Client<NativeTransport> {
    Client::new(NativeTransport::default(), server.url.clone()).with_api_key("restart-test")
}

async fn job(client: &Client<NativeTransport>, id: &str) -> Job {
    client
        .call(&GetJob { id: id.into() })
        .await
        .expect("get job")
}

async fn set_latency(server: &Server, ms: u64) {
    reqwest::Client::new()
        .post(format!("{}/_emulator/faults", server.url))
        .json(&serde_json::json!({ "fault_latency_ms": ms }))
        .send()
        .await
        .expect("faults")
        .error_for_status()
        .expect("faults accepted");
}

#[tokio::test]
async fn a_delete_job_killed_mid_run_resumes_and_deletes_exactly_its_plan() {
    const SNAPSHOTS: usize = 400;
    let dir = tempfile::tempdir().expect("tempdir");
    let first = start(dir.path());
    let client = client_of(&first);

    let (dbx, ids) = devbox_with(&client, "nightly", SNAPSHOTS).await;
    let all: BTreeSet<String> = ids.into_iter().collect();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let policy = RetentionPolicy {
        scope: Scope::Devbox(dbx.clone()),
        keep_newest: 3,
        ..RetentionPolicy::default()
    };
    let plan = client
        .call(&CreateJob(NewJob {
            request_id: "plan-1".into(),
            client_id: None,
            spec: JobSpec::Plan { policy },
        }))
        .await
        .expect("plan job");
    let plan = finished(&client, &plan.summary.id).await;
    assert_eq!(plan.summary.status, JobStatus::Finished);
    let planned: BTreeSet<String> = plan
        .plan
        .as_ref()
        .expect("plan")
        .to_delete()
        .map(|i| i.snapshot.id.clone())
        .collect();
    assert_eq!(planned.len(), SNAPSHOTS - 3);

    // Slow deletes, so the kill lands in the middle of the run.
    set_latency(&first, 100).await;
    let run = client
        .call(&CreateJob(NewJob {
            request_id: "run-1".into(),
            client_id: None,
            spec: JobSpec::Delete(DeleteSpec {
                plan_job: Some(plan.summary.id.clone()),
                snapshot_ids: planned.iter().cloned().collect(),
                ..DeleteSpec::default()
            }),
        }))
        .await
        .expect("run job");
    let id = run.summary.id.clone();
    loop {
        let j = job(&client, &id).await;
        assert!(!j.summary.status.is_terminal(), "finished before the kill");
        if j.summary.progress.done >= 40 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    first.kill();

    let second = start(dir.path());
    let client = client_of(&second);
    // The fault knobs are not persisted: the resumed run goes at full speed.
    let done = finished(&client, &id).await;
    assert_eq!(done.summary.status, JobStatus::Finished);
    assert!(
        done.summary.resumed >= 1,
        "the run was resumed, not finished before the kill"
    );
    assert_eq!(done.items.len(), planned.len());
    assert!(
        done.items
            .iter()
            .all(|i| matches!(i.state, ItemState::Done { .. })),
        "every planned snapshot is reported deleted, none failed or skipped: {:?}",
        done.items
            .iter()
            .find(|i| !matches!(i.state, ItemState::Done { .. }))
    );
    // The audit, kept in the same database, has each delete exactly once.
    let trail = client
        .call(&ListAudit::default())
        .await
        .expect("audit")
        .entries;
    assert_eq!(trail.len(), planned.len(), "one entry per item, none twice");
    let audited: BTreeSet<String> = trail
        .iter()
        .filter(|e| e.outcome == Outcome::Done && e.job_id.as_deref() == Some(id.as_str()))
        .map(|e| e.target_id.clone())
        .collect();
    assert_eq!(audited, planned);
    let left: BTreeSet<String> = client
        .list_snapshots(&ListSnapshots {
            devbox_id: Some(dbx.clone()),
            limit: Some(5000),
            ..ListSnapshots::default()
        })
        .await
        .expect("list")
        .snapshots
        .into_iter()
        .map(|s| s.id)
        .collect();
    let kept: BTreeSet<String> = all.difference(&planned).cloned().collect();
    assert_eq!(left, kept, "exactly the plan was deleted");
}
