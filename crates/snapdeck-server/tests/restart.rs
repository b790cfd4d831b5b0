//! Restart test: the real binary, a real data directory, killed (SIGKILL) in the middle
//! of a snapshot and of a boot. After it starts again the snapshot completes, the devbox
//! finishes booting, and every row, file and idempotency key is still there.

use std::path::Path;
use std::time::Duration;

use snapdeck_api::endpoints::{ListDevboxes, ListSnapshots};
use snapdeck_api::{
    Client, CreateDevbox, DevboxStatus, NativeTransport, SnapshotParams, SnapshotStatus,
};

mod common;
use common::Server;
use common::client::{boot, boot_named};

fn start(data: &Path, extra: &[&str]) -> Server {
    let mut args = vec![
        std::ffi::OsStr::new("--data"),
        data.as_os_str(),
        std::ffi::OsStr::new("--boot-duration-ms"),
        std::ffi::OsStr::new("1500"),
        std::ffi::OsStr::new("--snapshot-duration-ms"),
        std::ffi::OsStr::new("2000"),
    ];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    Server::start(&args)
}

fn client_of(server: &Server) -> Client<NativeTransport> {
    Client::new(NativeTransport::default(), server.url.clone()).with_api_key("restart-test")
}

#[tokio::test]
async fn a_snapshot_in_progress_when_the_server_is_killed_completes_after_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = start(dir.path(), &["--seed", "none"]);
    let client = client_of(&first);

    let dbx = boot_named(&client, "survivor").await;
    client
        .write_file_contents(&dbx.id, "kept.txt", "still here")
        .await
        .expect("write");
    let snap = client
        .snapshot_disk_async(
            &dbx.id,
            &SnapshotParams {
                name: Some("mid-flight".into()),
                ..SnapshotParams::default()
            },
        )
        .await
        .expect("snapshot");
    let booting = client
        .create_devbox(&CreateDevbox::default())
        .await
        .expect("create booting");
    // A create with an idempotency key, to replay after the restart.
    let http = reqwest::Client::new();
    let keyed = |url: &str| {
        http.post(format!("{url}/v1/devboxes"))
            .bearer_auth("restart-test")
            .header("x-request-id", "restart-key-1")
            .json(&serde_json::json!({"name": "keyed"}))
            .send()
    };
    let keyed_before: serde_json::Value = keyed(&first.url)
        .await
        .expect("keyed create")
        .json()
        .await
        .expect("json");
    assert_eq!(
        client
            .snapshot_status(&snap.id)
            .await
            .expect("status")
            .status,
        SnapshotStatus::InProgress
    );
    assert_ne!(
        client.get_devbox(&booting.id).await.expect("get").status,
        DevboxStatus::Running
    );
    first.kill();

    // Default --seed: an existing database must not be re-seeded.
    let second = start(dir.path(), &[]);
    let client = client_of(&second);
    let mut status = SnapshotStatus::InProgress;
    for _ in 0..100 {
        status = client
            .snapshot_status(&snap.id)
            .await
            .expect("status")
            .status;
        if status != SnapshotStatus::InProgress {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, SnapshotStatus::Complete);
    let rebooted = client
        .wait_for_status(&booting.id, &[DevboxStatus::Running], Some(10.0))
        .await
        .expect("wait")
        .expect("the booting devbox finishes booting");
    let seen: Vec<_> = rebooted
        .state_transitions
        .iter()
        .map(|t| t.status)
        .collect();
    assert_eq!(
        seen,
        [
            DevboxStatus::Provisioning,
            DevboxStatus::Initializing,
            DevboxStatus::Running
        ]
    );

    let devboxes = client
        .list_devboxes(&ListDevboxes::default())
        .await
        .expect("list");
    assert_eq!(devboxes.total_count, Some(3), "survivor, booting, keyed");
    let snapshots = client
        .list_snapshots(&ListSnapshots::default())
        .await
        .expect("list");
    assert_eq!(snapshots.total_count, Some(1));
    assert_eq!(snapshots.snapshots[0].name.as_deref(), Some("mid-flight"));
    assert_eq!(
        client
            .read_file_contents(&dbx.id, "kept.txt")
            .await
            .expect("read"),
        "still here"
    );
    let keyed_after: serde_json::Value = keyed(&second.url)
        .await
        .expect("keyed create")
        .json()
        .await
        .expect("json");
    assert_eq!(
        keyed_before["id"], keyed_after["id"],
        "idempotency keys survive a restart"
    );

    // The snapshot taken before the kill restores its files.
    let restored = boot(
        &client,
        &CreateDevbox {
            snapshot_id: Some(snap.id.clone()),
            ..CreateDevbox::default()
        },
    )
    .await;
    assert_eq!(
        client
            .read_file_contents(&restored.id, "kept.txt")
            .await
            .expect("read"),
        "still here"
    );
}
