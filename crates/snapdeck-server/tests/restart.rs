//! Restart test: the real binary, a real data directory, killed (SIGKILL) in the middle
//! of a snapshot and of a boot. After it starts again the snapshot completes, the devbox
//! finishes booting, and every row, file and idempotency key is still there.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use snapdeck_api::endpoints::{ListDevboxes, ListSnapshots};
use snapdeck_api::{
    Client, CreateDevbox, DevboxStatus, NativeTransport, SnapshotParams, SnapshotStatus,
};

/// The server process; killed when dropped so a failing test leaves nothing behind.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(data: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_snapdeck-server"))
            .args(["--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .args([
                "--boot-duration-ms",
                "1500",
                "--snapshot-duration-ms",
                "2000",
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn snapdeck-server");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("first line");
        let url = line
            .trim()
            .strip_prefix("snapdeck-server listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Self { child, url }
    }

    fn client(&self) -> Client<NativeTransport> {
        Client::new(NativeTransport::default(), self.url.clone()).with_api_key("restart-test")
    }

    /// SIGKILL: no chance to flush anything, the harshest stop.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_snapshot_in_progress_when_the_server_is_killed_completes_after_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = Server::start(dir.path(), &["--seed", "none"]);
    let client = first.client();

    let dbx = client
        .create_devbox(&CreateDevbox {
            name: Some("survivor".into()),
            ..CreateDevbox::default()
        })
        .await
        .expect("create");
    client
        .wait_for_status(&dbx.id, &[DevboxStatus::Running], Some(10.0))
        .await
        .expect("wait")
        .expect("running");
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
    let second = Server::start(dir.path(), &[]);
    let client = second.client();
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
    let restored = client
        .create_devbox(&CreateDevbox {
            snapshot_id: Some(snap.id.clone()),
            ..CreateDevbox::default()
        })
        .await
        .expect("from snapshot");
    client
        .wait_for_status(&restored.id, &[DevboxStatus::Running], Some(10.0))
        .await
        .expect("wait")
        .expect("running");
    assert_eq!(
        client
            .read_file_contents(&restored.id, "kept.txt")
            .await
            .expect("read"),
        "still here"
    );
}
