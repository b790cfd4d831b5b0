//! In-process tests of what a devbox boots with (file mounts, launch commands, the boot
//! log, create fields the emulator cannot honour), of `upload_file`/`download_file` as
//! the SDKs send them, and of blueprint build logs and `list_public`.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

mod common;
use common::{Emu, KEY};

impl Emu {
    async fn logs(&self, id: &str) -> Vec<Value> {
        let (status, v) = self.get(&format!("/v1/devboxes/{id}/logs")).await.parts();
        assert_eq!(status, StatusCode::OK, "{v}");
        v["logs"].as_array().expect("logs").clone()
    }
}

/// A multipart/form-data body as the SDKs build it: a `path` field and a `file` part.
fn multipart(path: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----snapdeck-test-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"path\"\r\n\r\n{path}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"blob\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn upload_file_takes_any_bytes_and_download_file_gives_them_back() {
    let emu = Emu::new();
    let id = emu.boot(json!({})).await;
    let bytes: Vec<u8> = vec![0, 159, 146, 150, 255, b'\n', b'x'];
    let (content_type, body) = multipart("bin/blob.dat", &bytes);
    let answer = emu
        .send(
            Request::post(format!("/v1/devboxes/{id}/upload_file"))
                .header("authorization", KEY)
                .header("content-type", content_type)
                .body(Body::from(body))
                .expect("request"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let got = emu
        .send(
            Request::post(format!("/v1/devboxes/{id}/download_file"))
                .header("authorization", KEY)
                .header("content-type", "application/json")
                .body(Body::from(
                    json!({"path": "/home/user/bin/blob.dat"}).to_string(),
                ))
                .expect("request"),
        )
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.bytes, bytes);
    // Text uploads are plain files for commands and the text API.
    let (content_type, body) = multipart("hello.txt", b"hi there\n");
    emu.send(
        Request::post(format!("/v1/devboxes/{id}/upload_file"))
            .header("authorization", KEY)
            .header("content-type", content_type)
            .body(Body::from(body))
            .expect("request"),
    )
    .await;
    let out = emu
        .post(
            &format!("/v1/devboxes/{id}/execute_sync"),
            json!({"command": "wc -c < hello.txt; ls bin"}),
        )
        .await
        .ok();
    assert_eq!(out["stdout"], "9\nblob.dat\n");
    assert!(emu.logs(&id).await.iter().any(
        |l| l["source"] == "files" && l["message"] == "Uploaded /home/user/hello.txt (9 bytes)"
    ));
    let (status, _) = emu
        .post(
            &format!("/v1/devboxes/{id}/download_file"),
            json!({"path": "nope"}),
        )
        .await
        .parts();
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = emu
        .send(
            Request::post(format!("/v1/devboxes/{id}/upload_file"))
                .header("authorization", KEY)
                .header("content-type", "multipart/form-data; boundary=x")
                .body(Body::from("--x--\r\n"))
                .expect("request"),
        )
        .await
        .parts();
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn file_mounts_are_on_the_disk_at_boot() {
    let emu = Emu::new();
    let id = emu
        .boot(json!({
            "file_mounts": {"/etc/app/config.toml": "port = 1\n", "notes.md": "# n\n"},
            "mounts": [
                {"type": "file_mount", "target": "~/mounted.txt", "content": "from mounts"},
                {"type": "object_mount", "object_id": "obj_1", "object_path": "/data"}
            ],
        }))
        .await;
    assert_eq!(
        emu.read_file(&id, "/etc/app/config.toml").await.1,
        "port = 1\n"
    );
    assert_eq!(emu.read_file(&id, "notes.md").await.1, "# n\n");
    assert_eq!(emu.read_file(&id, "mounted.txt").await.1, "from mounts");
    let (status, _) = emu
        .post(
            "/v1/devboxes",
            json!({"mounts": [{"type": "file_mount", "target": "/x"}]}),
        )
        .await
        .parts();
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn launch_commands_run_through_the_interpreter_before_the_devbox_is_running() {
    let emu = Emu::new();
    let id = emu
        .boot(json!({
            "environment_variables": {"APP": "demo"},
            "launch_parameters": {"launch_commands": [
                // Longer than the boot: `running` must wait for it.
                "sleep 0.4; mkdir -p /opt/$APP && echo ready > /opt/$APP/state",
                "python3 -m http.server",
                "echo last"
            ]},
        }))
        .await;
    assert_eq!(emu.read_file(&id, "/opt/demo/state").await.1, "ready\n");
    let logs = emu.logs(&id).await;
    let setup: Vec<&Value> = logs
        .iter()
        .filter(|l| l["source"] == "setup_commands")
        .collect();
    let exits: Vec<i64> = setup
        .iter()
        .filter_map(|l| l["exit_code"].as_i64())
        .collect();
    // A failing launch command is logged and does not fail the boot.
    assert_eq!(exits, [0, 127, 0]);
    assert!(setup.iter().any(|l| l["message"] == "last"));
    let kmsg: Vec<&str> = logs
        .iter()
        .filter(|l| l["source"] == "kmsg")
        .filter_map(|l| l["message"].as_str())
        .collect();
    assert_eq!(kmsg.last().copied(), Some("Devbox is running"));
    // The running line comes after the last launch command's lines.
    let running_at = logs
        .iter()
        .find(|l| l["message"] == "Devbox is running")
        .and_then(|l| l["timestamp_ms"].as_i64())
        .expect("running line");
    assert!(
        setup
            .iter()
            .all(|l| l["timestamp_ms"].as_i64() <= Some(running_at))
    );
}

#[tokio::test]
async fn the_boot_log_shows_each_step_once_its_time_has_come() {
    let emu = Emu::new();
    let dbx = emu.post("/v1/devboxes", json!({})).await.ok();
    let id = dbx["id"].as_str().expect("id").to_owned();
    let early: Vec<Value> = emu.logs(&id).await;
    assert_eq!(early.len(), 1, "{early:?}");
    assert!(
        early[0]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Provisioning devbox"))
    );
    emu.wait_status(&id, &["running"]).await;
    let later = emu.logs(&id).await;
    assert_eq!(later.len(), 3, "{later:?}");
}

#[tokio::test]
async fn create_fields_the_emulator_cannot_honour_are_accepted_and_echoed_nowhere_harmful() {
    let emu = Emu::new();
    let body = json!({
        "name": "everything",
        "entrypoint": "python server.py",
        "secrets": {"TOKEN": "my-secret"},
        "tunnel": {"auth_mode": "authenticated", "http_keep_alive": true, "wake_on_http": true},
        "gateways": {"OPENAI": {"gateway": "gw_1", "secret": "s"}},
        "mcp": {"MCP_URL": {"mcp_config": "mcp_1", "secret": "s"}},
        "code_mounts": [{"repo_name": "r", "repo_owner": "o", "token": "t"}],
        "mounts": [{"type": "code_mount", "repo_name": "r", "repo_owner": "o"},
                   {"type": "agent_mount", "agent_id": "a"}],
        "repo_connection_id": "rc_1",
        "launch_parameters": {
            "network_policy_id": "np_1",
            "required_services": ["docker"],
            "user_parameters": {"username": "root", "uid": 0},
            "lifecycle": {"resume_triggers": {"http": true}},
            "available_ports": [8080],
            "architecture": "arm64",
            "custom_cpu_cores": 0.5
        }
    });
    let id = emu.boot(body).await;
    let (status, got) = emu.get(&format!("/v1/devboxes/{id}")).await.parts();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["launch_parameters"]["network_policy_id"], "np_1");
    assert_eq!(got["name"], "everything");
}

#[tokio::test]
async fn blueprint_build_logs_follow_the_build_and_list_public_is_empty() {
    let emu = Emu::new();
    let bp = emu
        .post(
            "/v1/blueprints",
            json!({"name": "web", "dockerfile": "FROM ubuntu:24.04\nRUN apt-get update",
                   "system_setup_commands": ["echo hi"]}),
        )
        .await
        .ok();
    let id = bp["id"].as_str().expect("id").to_owned();
    let mut done = Value::Null;
    for _ in 0..200 {
        let (_, b) = emu.get(&format!("/v1/blueprints/{id}")).await.parts();
        if b["status"] == "build_complete" {
            done = b;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(done["status"], "build_complete");
    let (status, logs) = emu.get(&format!("/v1/blueprints/{id}/logs")).await.parts();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(logs["blueprint_id"], id.as_str());
    let messages: Vec<&str> = logs["logs"]
        .as_array()
        .expect("logs")
        .iter()
        .filter_map(|l| l["message"].as_str())
        .collect();
    assert!(
        messages.contains(&"#1 [1/3] FROM ubuntu:24.04"),
        "{messages:?}"
    );
    assert!(messages.contains(&"#3 [3/3] RUN echo hi"), "{messages:?}");
    assert_eq!(messages.last().copied(), Some("Build complete"));

    let failing = emu
        .post(
            "/v1/blueprints",
            json!({"name": "broken", "system_setup_commands": ["false"]}),
        )
        .await
        .ok();
    let fid = failing["id"].as_str().expect("id").to_owned();
    for _ in 0..200 {
        let (_, b) = emu.get(&format!("/v1/blueprints/{fid}")).await.parts();
        if b["status"] == "failed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (_, logs) = emu.get(&format!("/v1/blueprints/{fid}/logs")).await.parts();
    let last = logs["logs"].as_array().and_then(|l| l.last()).cloned();
    assert_eq!(
        last.map(|l| l["message"].clone()),
        Some(json!("Build failed"))
    );
    assert_eq!(
        emu.get("/v1/blueprints/bpt_missing/logs").await.status,
        StatusCode::NOT_FOUND
    );

    for path in [
        "/v1/blueprints/list_public",
        "/v1/devboxes/disk_snapshots/list_public",
    ] {
        let (status, page) = emu.get(path).await.parts();
        assert_eq!(status, StatusCode::OK, "{path}: {page}");
        assert_eq!(page["has_more"], false);
        assert_eq!(page["total_count"], 0);
    }
}
