//! Contract tests: the real `snapdeck-api` client against the real router, through the
//! in-process transport. Both sides of the wire are checked together: request building
//! and decoding on one side, routing, parsing and JSON shapes on the other.

use std::time::Duration;

use futures::StreamExt;
use snapdeck_api::endpoints::{ListBlueprints, ListDevboxes, ListSnapshots};
use snapdeck_api::{
    ApiError, Client, CreateBlueprint, CreateDevbox, DevboxStatus, Metadata, MetadataFilter,
    PINNED_KEY, RetryPolicy, SnapshotParams, SnapshotStatus, UpdateDevbox,
};
use snapdeck_server::testing::{FAST, InProcessTransport, state};
use snapdeck_server::{AppState, Config};

mod common;
use common::client::boot_named;

fn client_for(state: &AppState) -> Client<InProcessTransport> {
    Client::new(InProcessTransport::new(state.clone()), "http://emulator")
        .with_api_key("contract-test")
        .with_retry_policy(RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
            max_retry_after: Duration::from_secs(2),
        })
}

fn emulator(demo: bool) -> (AppState, Client<InProcessTransport>) {
    let state = state(FAST, Config::default(), demo).expect("state");
    let client = client_for(&state);
    (state, client)
}

async fn running(client: &Client<InProcessTransport>, name: &str) -> String {
    let dbx = boot_named(client, name).await;
    assert_eq!(dbx.status, DevboxStatus::Provisioning);
    dbx.id
}

async fn await_snapshot(client: &Client<InProcessTransport>, id: &str) -> SnapshotStatus {
    for _ in 0..200 {
        let st = client.snapshot_status(id).await.expect("status");
        if st.status.is_final() {
            return st.status;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("snapshot {id} never finished");
}

fn meta(pairs: &[(&str, &str)]) -> Metadata {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test]
async fn the_snapshot_workflow_of_runloops_guide_works_through_the_client() {
    let (_, client) = emulator(false);
    let dbx = running(&client, "guide").await;
    client
        .write_file_contents(&dbx, "state.txt", "before")
        .await
        .expect("write");

    let snap = client
        .snapshot_disk_async(
            &dbx,
            &SnapshotParams {
                name: Some("checkpoint".into()),
                commit_message: Some("before the risky change".into()),
                metadata: Some(meta(&[("env", "dev")])),
            },
        )
        .await
        .expect("snapshot");
    assert_eq!(
        client
            .snapshot_status(&snap.id)
            .await
            .expect("status")
            .status,
        SnapshotStatus::InProgress
    );
    assert_eq!(
        await_snapshot(&client, &snap.id).await,
        SnapshotStatus::Complete
    );
    let done = client.snapshot_status(&snap.id).await.expect("status");
    assert!(done.snapshot.expect("snapshot").size_bytes.expect("size") > 0);

    client
        .write_file_contents(&dbx, "state.txt", "after")
        .await
        .expect("write");
    let restored = client
        .create_devbox(&CreateDevbox {
            snapshot_id: Some(snap.id.clone()),
            ..CreateDevbox::default()
        })
        .await
        .expect("from snapshot");
    assert_eq!(restored.snapshot_id.as_deref(), Some(snap.id.as_str()));
    client
        .wait_for_status(&restored.id, &[DevboxStatus::Running], Some(5.0))
        .await
        .expect("wait")
        .expect("running");
    assert_eq!(
        client
            .read_file_contents(&restored.id, "state.txt")
            .await
            .expect("read"),
        "before",
        "the rollback shows the snapshot's file, not the later write"
    );

    // Keep only the newest snapshot (the guide's cleanup, without its bug).
    let newer = client
        .snapshot_disk(&dbx, &SnapshotParams::default())
        .await
        .expect("sync snapshot");
    let all: Vec<_> = client
        .snapshots(ListSnapshots {
            devbox_id: Some(dbx.clone()),
            ..ListSnapshots::default()
        })
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("list");
    assert_eq!(all[0].id, newer.id, "newest first");
    for s in all.iter().filter(|s| s.id != newer.id) {
        client.delete_snapshot(&s.id).await.expect("delete");
    }
    assert_eq!(
        client
            .snapshot_status(&snap.id)
            .await
            .expect("status")
            .status,
        SnapshotStatus::Deleted
    );
    let left = client
        .list_snapshots(&ListSnapshots {
            devbox_id: Some(dbx),
            ..ListSnapshots::default()
        })
        .await
        .expect("list");
    assert_eq!(left.total_count, Some(1));
}

#[tokio::test]
async fn refusals_reach_the_client_as_api_errors_with_the_servers_message() {
    let (_, client) = emulator(false);
    let dbx = running(&client, "refusals").await;
    let snap = client
        .snapshot_disk_async(&dbx, &SnapshotParams::default())
        .await
        .expect("snapshot");

    let err = client.shutdown_devbox(&dbx, false).await.expect_err("409");
    assert!(err.is_conflict(), "{err:?}");
    assert!(matches!(&err, ApiError::Api { message, .. } if message.contains("in progress")));
    let err = client.delete_snapshot(&snap.id).await.expect_err("409");
    assert!(err.is_conflict());

    let err = client.get_devbox("dbx_missing").await.expect_err("404");
    assert!(err.is_not_found());
    assert!(matches!(&err, ApiError::Api { message, .. } if message.contains("dbx_missing")));

    let forced = client.shutdown_devbox(&dbx, true).await.expect("forced");
    assert_eq!(forced.status, DevboxStatus::Shutdown);
    assert!(forced.end_time_ms.is_some());
}

#[tokio::test]
async fn a_long_poll_that_runs_out_is_none_not_an_error() {
    let (_, client) = emulator(false);
    let dbx = running(&client, "poll").await;
    let waited = client
        .wait_for_status(&dbx, &[DevboxStatus::Suspended], Some(0.2))
        .await
        .expect("408 is not an error");
    assert!(waited.is_none());
}

#[tokio::test]
async fn suspend_resume_and_update_round_trip() {
    let (_, client) = emulator(false);
    let dbx = running(&client, "life").await;
    assert_eq!(
        client.suspend_devbox(&dbx).await.expect("suspend").status,
        DevboxStatus::Suspending
    );
    client
        .wait_for_status(&dbx, &[DevboxStatus::Suspended], Some(5.0))
        .await
        .expect("wait")
        .expect("suspended");
    assert_eq!(
        client.resume_devbox(&dbx).await.expect("resume").status,
        DevboxStatus::Resuming
    );
    client
        .wait_for_status(&dbx, &[DevboxStatus::Running], Some(5.0))
        .await
        .expect("wait")
        .expect("running");
    client.keep_alive(&dbx).await.expect("keep alive");
    let updated = client
        .update_devbox(
            &dbx,
            &UpdateDevbox {
                name: Some("renamed".into()),
                metadata: None,
            },
        )
        .await
        .expect("update");
    assert_eq!(updated.name.as_deref(), Some("renamed"));
}

#[tokio::test]
async fn pinning_by_read_merge_write_keeps_the_other_fields() {
    let (_, client) = emulator(false);
    let dbx = running(&client, "pin").await;
    let snap = client
        .snapshot_disk(
            &dbx,
            &SnapshotParams {
                name: Some("keep-me".into()),
                commit_message: Some("good state".into()),
                metadata: Some(meta(&[("env", "prod")])),
            },
        )
        .await
        .expect("snapshot");
    let mut merged = snap.metadata.clone();
    merged.insert(PINNED_KEY.into(), "true".into());
    let pinned = client
        .update_snapshot(
            &snap.id,
            &SnapshotParams {
                name: snap.name.clone(),
                commit_message: snap.commit_message.clone(),
                metadata: Some(merged),
            },
        )
        .await
        .expect("update");
    assert_eq!(pinned.name.as_deref(), Some("keep-me"));
    assert_eq!(pinned.metadata.get("env").map(String::as_str), Some("prod"));
    let found = client
        .list_snapshots(&ListSnapshots {
            metadata: vec![MetadataFilter::Eq {
                key: PINNED_KEY.into(),
                value: "true".into(),
            }],
            ..ListSnapshots::default()
        })
        .await
        .expect("filtered list");
    assert_eq!(found.snapshots.len(), 1);
    assert_eq!(found.snapshots[0].id, snap.id);
    let any = client
        .list_snapshots(&ListSnapshots {
            metadata: vec![MetadataFilter::In {
                key: "env".into(),
                values: vec!["dev".into(), "prod".into()],
            }],
            ..ListSnapshots::default()
        })
        .await
        .expect("in filter");
    assert_eq!(any.total_count, Some(1));
}

#[tokio::test]
async fn the_demo_account_pages_through_the_client_streams() {
    let (_, client) = emulator(true);
    let devboxes: Vec<_> = client
        .devboxes(ListDevboxes {
            limit: Some(5),
            ..ListDevboxes::default()
        })
        .collect::<Vec<_>>()
        .await;
    assert_eq!(devboxes.len(), 12);
    let ids: std::collections::HashSet<_> = devboxes
        .into_iter()
        .map(|d| d.expect("devbox").id)
        .collect();
    assert_eq!(ids.len(), 12, "no devbox twice across pages");
    let snapshots: Vec<_> = client
        .snapshots(ListSnapshots {
            limit: Some(7),
            ..ListSnapshots::default()
        })
        .collect::<Vec<_>>()
        .await;
    let snapshots: Vec<_> = snapshots
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("snapshots");
    assert!(
        snapshots
            .windows(2)
            .all(|w| w[0].create_time_ms >= w[1].create_time_ms),
        "newest first"
    );
    let blueprints = client
        .list_blueprints(&ListBlueprints::default())
        .await
        .expect("blueprints");
    assert_eq!(blueprints.blueprints.len(), 2);
    let bp = client
        .get_blueprint(&blueprints.blueprints[0].id)
        .await
        .expect("blueprint");
    assert_eq!(bp.id, blueprints.blueprints[0].id);
}

#[tokio::test]
async fn a_blueprint_created_through_the_client_builds() {
    let (_, client) = emulator(false);
    let bp = client
        .create_blueprint(&CreateBlueprint {
            name: "contract".into(),
            ..CreateBlueprint::default()
        })
        .await
        .expect("create");
    for _ in 0..100 {
        if client.get_blueprint(&bp.id).await.expect("get").status
            == snapdeck_api::BlueprintStatus::BuildComplete
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("never built");
}

#[tokio::test]
async fn the_client_retries_through_injected_429s_and_the_create_happens_once() {
    let (state, client) = emulator(false);
    state.update_faults(|f| {
        f.fault_429_rate = 0.5;
        f.fault_retry_after_s = 0;
    });
    // With a 50% fault rate and 3 retries some calls still fail; every success must be
    // exactly one devbox, and retries of one create must never make two.
    let mut created = 0;
    for i in 0..20 {
        if client
            .create_devbox(&CreateDevbox {
                name: Some(format!("r{i}")),
                ..CreateDevbox::default()
            })
            .await
            .is_ok()
        {
            created += 1;
        }
    }
    state.update_faults(|f| f.fault_429_rate = 0.0);
    let list = client
        .list_devboxes(&ListDevboxes::default())
        .await
        .expect("list");
    assert_eq!(list.total_count, Some(created));
    assert!(
        created >= 15,
        "retries should rescue most calls, got {created}"
    );
}

#[tokio::test]
async fn a_wrong_key_is_an_authentication_error() {
    let state = state(
        FAST,
        Config {
            api_key: Some("right".into()),
            ..Config::default()
        },
        false,
    )
    .expect("state");
    let err = client_for(&state)
        .list_devboxes(&ListDevboxes::default())
        .await
        .expect_err("401");
    assert_eq!(err.status(), Some(401));
    let ok = Client::new(InProcessTransport::new(state), "")
        .with_api_key("right")
        .list_devboxes(&ListDevboxes::default())
        .await;
    assert!(ok.is_ok(), "{ok:?}");
}

#[tokio::test]
async fn commands_through_the_client_execute_sync_async_wait_get_kill_and_logs() {
    use snapdeck_api::commands::{ExecuteParams, ExecutionStatus};
    let (_, client) = emulator(false);
    let id = running(&client, "commands").await;
    let done = client
        .execute_sync(
            &id,
            &ExecuteParams::new("echo check > ok.txt; cat ok.txt; exit 2"),
        )
        .await
        .expect("execute_sync");
    assert_eq!((done.exit_status, done.stdout.as_str()), (2, "check\n"));
    assert_eq!(
        client
            .read_file_contents(&id, "ok.txt")
            .await
            .expect("read"),
        "check\n"
    );
    let started = client
        .execute_async(&id, &ExecuteParams::new("sleep 30"))
        .await
        .expect("execute_async");
    let running = client
        .wait_for_execution(
            &id,
            &started.execution_id,
            &[ExecutionStatus::Running],
            Some(5.0),
        )
        .await
        .expect("wait")
        .expect("running within the hold");
    assert_eq!(running.status, ExecutionStatus::Running);
    let none = client
        .wait_for_execution(
            &id,
            &started.execution_id,
            &[ExecutionStatus::Completed],
            Some(0.0),
        )
        .await
        .expect("a hold that runs out is not an error");
    assert!(none.is_none());
    let killed = client
        .kill_execution(&id, &started.execution_id)
        .await
        .expect("kill");
    assert_eq!(killed.exit_status, Some(137));
    let got = client
        .get_execution(&id, &started.execution_id, Some(1))
        .await
        .expect("get");
    assert_eq!(got.status, ExecutionStatus::Completed);
    let quick = client
        .execute(&id, &ExecuteParams::new("echo fast"), None)
        .await
        .expect("execute");
    assert_eq!(quick.stdout.as_deref(), Some("fast\n"));
    let logs = client
        .devbox_logs(&id, Some(&quick.execution_id))
        .await
        .expect("logs");
    assert_eq!(logs.logs[0].message.as_deref(), Some("fast"));
    let err = client
        .execute_sync("dbx_missing", &ExecuteParams::new("true"))
        .await
        .expect_err("404");
    assert_eq!(err.status(), Some(404));
}
