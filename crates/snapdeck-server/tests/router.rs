//! In-process tests of every endpoint through `app(state)` with `tower::ServiceExt::oneshot`:
//! success and error paths, status codes and JSON shapes.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use snapdeck_server::Config;
use tower::ServiceExt;

mod common;
use common::{Emu, KEY, Reply};

impl Emu {
    async fn create_devbox(&self, body: Value) -> Value {
        self.post("/v1/devboxes", body).await.ok()
    }

    /// `snapshot_disk_async` on a devbox; the accepted snapshot.
    async fn snapshot(&self, devbox_id: &str, body: Value) -> Value {
        self.post(
            &format!("/v1/devboxes/{devbox_id}/snapshot_disk_async"),
            body,
        )
        .await
        .ok()
    }

    async fn snapshot_status(&self, id: &str) -> Value {
        self.get(&format!("/v1/devboxes/disk_snapshots/{id}/status"))
            .await
            .ok()
    }

    async fn await_snapshot(&self, id: &str) -> Value {
        for _ in 0..100 {
            let status = self.snapshot_status(id).await;
            if status["status"] != "in_progress" {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("snapshot {id} never finished");
    }
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list[key]
        .as_array()
        .expect("array")
        .iter()
        .map(|x| x["name"].as_str().unwrap_or("").to_owned())
        .collect()
}

fn should_not_retry(reply: &Reply) -> bool {
    reply
        .headers
        .get("x-should-retry")
        .and_then(|v| v.to_str().ok())
        == Some("false")
}

// ---- protocol ----

#[tokio::test]
async fn healthz_needs_no_auth_and_reports_emulator_mode() {
    let emu = Emu::new();
    let reply = emu
        .send(Request::get("/healthz").body(Body::empty()).expect("req"))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["ok"], true);
    assert_eq!(reply.json()["mode"], "emulator");
}

#[tokio::test]
async fn v1_without_a_bearer_key_is_a_401_json_error() {
    let emu = Emu::new();
    for auth in [None, Some("Bearer "), Some("Basic abc")] {
        let mut req = Request::get("/v1/devboxes");
        if let Some(auth) = auth {
            req = req.header("authorization", auth);
        }
        let reply = emu.send(req.body(Body::empty()).expect("req")).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert!(reply.json()["message"].is_string());
    }
}

#[tokio::test]
async fn with_an_api_key_only_that_key_is_accepted() {
    let emu = Emu::with(
        Config {
            api_key: Some("s3cret".into()),
            ..Config::default()
        },
        false,
    );
    let req = |key: &str| {
        Request::get("/v1/devboxes")
            .header("authorization", format!("Bearer {key}"))
            .body(Body::empty())
            .expect("req")
    };
    assert_eq!(
        emu.send(req("wrong")).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(emu.send(req("s3cret")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_json_errors() {
    let emu = Emu::new();
    let reply = emu.get("/v1/nope").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.json()["message"].is_string());
    let reply = emu
        .send(
            Request::delete("/v1/devboxes")
                .header("authorization", KEY)
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(reply.json()["message"].is_string());
    let reply = emu.get("/not-the-api").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.json()["message"].is_string());
}

#[tokio::test]
async fn malformed_json_is_400_and_json_of_the_wrong_shape_is_422() {
    let emu = Emu::new();
    let bad = |body: &'static str| {
        Request::post("/v1/devboxes")
            .header("authorization", KEY)
            .header("content-type", "application/json")
            .body(Body::from(body))
            .expect("req")
    };
    let reply = emu.send(bad("{\"name\":")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.json()["message"]
            .as_str()
            .expect("msg")
            .contains("JSON")
    );
    assert!(should_not_retry(&reply));
    let reply = emu.send(bad("{\"name\": 5}")).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.json()["message"].is_string());
    // A required body that is missing.
    let reply = emu.post_empty("/v1/devboxes/dbx_x/wait_for_status").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn cors_preflights_from_an_allowed_origin_are_answered_without_auth_and_allow_the_sdk_headers()
 {
    let emu = Emu::with(
        Config {
            access: snapdeck_core::access::AccessPolicy::new("http://localhost:3000"),
            ..Config::default()
        },
        false,
    );
    let reply = emu
        .send(
            Request::options("/v1/devboxes")
                .header("origin", "http://localhost:3000")
                .header("access-control-request-method", "POST")
                .header(
                    "access-control-request-headers",
                    "authorization,content-type,x-stainless-lang,x-request-id,x-stainless-retry-count",
                )
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert!(reply.status.is_success(), "{}", reply.status);
    let allowed = reply.headers["access-control-allow-headers"]
        .to_str()
        .expect("ascii");
    assert!(allowed.contains("authorization") && allowed.contains("x-request-id"));
    assert_eq!(
        reply.headers["access-control-allow-origin"],
        "http://localhost:3000"
    );
}

#[tokio::test]
async fn a_repeated_post_with_the_same_request_id_returns_the_first_result() {
    let emu = Emu::new();
    let create = || {
        Request::post("/v1/devboxes")
            .header("authorization", KEY)
            .header("x-request-id", "stainless-python-retry-1234")
            .body(Body::from(r#"{"name":"once"}"#))
            .expect("req")
    };
    let first = emu.send(create()).await;
    let second = emu.send(create()).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.json()["id"], second.json()["id"]);
    assert_eq!(second.headers["x-idempotent-replay"], "true");
    let list = emu.get("/v1/devboxes").await.ok();
    assert_eq!(
        list["total_count"], 1,
        "a retried create must not create twice"
    );
}

#[tokio::test]
async fn a_retry_that_overtakes_its_original_waits_for_it_and_replays_its_answer() {
    let emu = Emu::new();
    // create_and_await_running holds for the boot time, so the two overlap.
    let send = || {
        let router = emu.router.clone();
        tokio::spawn(async move {
            let req = Request::post("/v1/devboxes/create_and_await_running")
                .header("authorization", KEY)
                .header("x-request-id", "overlapping-retry")
                .body(Body::from(r#"{"name":"once"}"#))
                .expect("req");
            common::send(&router, req).await.json()
        })
    };
    let (a, b) = (send(), send());
    let (a, b) = (a.await.expect("join"), b.await.expect("join"));
    assert_eq!(a["id"], b["id"]);
    let list = emu.get("/v1/devboxes").await.ok();
    assert_eq!(list["total_count"], 1);
}

#[tokio::test]
async fn failed_requests_are_not_remembered_so_a_retry_can_succeed() {
    let emu = Emu::new();
    let id = emu.running_devbox("r").await;
    let snap = emu
        .post_empty(&format!("/v1/devboxes/{id}/snapshot_disk_async"))
        .await
        .ok();
    let shutdown = || {
        Request::post(format!("/v1/devboxes/{id}/shutdown"))
            .header("authorization", KEY)
            .header("x-request-id", "shutdown-once")
            .body(Body::empty())
            .expect("req")
    };
    assert_eq!(emu.send(shutdown()).await.status, StatusCode::CONFLICT);
    emu.await_snapshot(snap["id"].as_str().expect("id")).await;
    let reply = emu.send(shutdown()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["status"], "shutdown");
}

// ---- devboxes ----

#[tokio::test]
async fn create_echoes_name_metadata_and_launch_parameters_and_boots_through_each_state() {
    let emu = Emu::new();
    let dbx = emu
        .create_devbox(json!({
            "name": "agent",
            "metadata": {"team": "a"},
            "launch_parameters": {"resource_size_request": "LARGE", "after_idle": {"idle_time_seconds": 60}},
        }))
        .await;
    assert!(dbx["id"].as_str().expect("id").starts_with("dbx_"));
    assert_eq!(dbx["status"], "provisioning");
    assert_eq!(dbx["name"], "agent");
    assert_eq!(dbx["metadata"]["team"], "a");
    assert_eq!(dbx["launch_parameters"]["resource_size_request"], "LARGE");
    assert_eq!(
        dbx["launch_parameters"]["after_idle"]["idle_time_seconds"],
        60
    );
    for key in [
        "end_time_ms",
        "capabilities",
        "state_transitions",
        "blueprint_id",
        "snapshot_id",
    ] {
        assert!(dbx.get(key).is_some(), "missing {key}");
    }
    let id = dbx["id"].as_str().expect("id");
    let running = emu.wait_status(id, &["running"]).await;
    let steps: Vec<_> = running["state_transitions"]
        .as_array()
        .expect("transitions")
        .iter()
        .map(|t| t["status"].as_str().expect("status").to_owned())
        .collect();
    assert_eq!(steps, ["provisioning", "initializing", "running"]);
}

#[tokio::test]
async fn create_accepts_half_a_cpu_core_and_echoes_it() {
    // Regression: custom_cpu_cores was typed as an integer, so 0.5 (the documented
    // minimum since SDK 2.0) was a 422.
    let emu = Emu::new();
    let dbx = emu
        .create_devbox(json!({
            "launch_parameters": {"resource_size_request": "CUSTOM_SIZE",
                "custom_cpu_cores": 0.5, "custom_gb_memory": 1},
        }))
        .await;
    assert_eq!(dbx["launch_parameters"]["custom_cpu_cores"], 0.5);
    let id = dbx["id"].as_str().expect("id");
    let got = emu.get(&format!("/v1/devboxes/{id}")).await.ok();
    assert_eq!(got["launch_parameters"]["custom_cpu_cores"], 0.5);
}

#[tokio::test]
async fn create_and_await_running_answers_once_the_devbox_runs() {
    // The SDKs call this endpoint (since 1.30.0) instead of create + wait_for_status.
    let emu = Emu::new();
    let reply = emu
        .post(
            "/v1/devboxes/create_and_await_running",
            json!({"name": "quick"}),
        )
        .await;
    let dbx = reply.ok();
    assert_eq!(dbx["status"], "running");
    assert_eq!(dbx["name"], "quick");
}

#[tokio::test]
async fn list_is_newest_first_with_a_cursor_has_more_and_total_count() {
    let emu = Emu::new();
    for i in 0..5 {
        emu.create_devbox(json!({ "name": format!("box-{i}") }))
            .await;
    }
    let page1 = emu.get("/v1/devboxes?limit=2").await.ok();
    assert_eq!(names(&page1, "devboxes"), ["box-4", "box-3"]);
    assert_eq!(page1["has_more"], true);
    assert_eq!(page1["total_count"], 5);
    let last = page1["devboxes"][1]["id"].as_str().expect("id");
    let page2 = emu
        .get(&format!("/v1/devboxes?limit=2&starting_after={last}"))
        .await
        .ok();
    assert_eq!(names(&page2, "devboxes"), ["box-2", "box-1"]);
    let last = page2["devboxes"][1]["id"].as_str().expect("id");
    let page3 = emu
        .get(&format!(
            "/v1/devboxes?limit=2&starting_after={last}&include_total_count=false"
        ))
        .await
        .ok();
    assert_eq!(names(&page3, "devboxes"), ["box-0"]);
    assert_eq!(page3["has_more"], false);
    assert!(page3["total_count"].is_null());
}

#[tokio::test]
async fn list_filters_by_status_and_search_and_rejects_bad_parameters() {
    let emu = Emu::new();
    let a = emu.running_devbox("alpha-runner").await;
    emu.create_devbox(json!({"name": "beta-box"})).await;
    let running = emu.get("/v1/devboxes?status=running").await.ok();
    assert_eq!(names(&running, "devboxes"), ["alpha-runner"]);
    let found = emu.get("/v1/devboxes?search=RUNNER").await.ok();
    assert_eq!(found["devboxes"][0]["id"], a.as_str());
    // A hyphen never occurs in ids, so only the name can match.
    let found = emu.get("/v1/devboxes?name=ta-bo").await.ok();
    assert_eq!(names(&found, "devboxes"), ["beta-box"]);
    for bad in [
        "status=sleeping",
        "limit=0",
        "limit=abc",
        "starting_after=dbx_nope",
        "include_total_count=maybe",
    ] {
        let reply = emu.get(&format!("/v1/devboxes?{bad}")).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    // Above the maximum is clamped, not refused.
    assert_eq!(
        emu.get("/v1/devboxes?limit=9999").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn get_of_an_unknown_devbox_is_404() {
    let emu = Emu::new();
    let reply = emu.get("/v1/devboxes/dbx_missing").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(
        reply.json()["message"]
            .as_str()
            .expect("msg")
            .contains("dbx_missing")
    );
}

#[tokio::test]
async fn update_is_patch_like() {
    let emu = Emu::new();
    let dbx = emu
        .create_devbox(json!({"name": "n", "metadata": {"a": "1"}}))
        .await;
    let id = dbx["id"].as_str().expect("id");
    let path = format!("/v1/devboxes/{id}");
    let v = emu.post(&path, json!({"metadata": {"b": "2"}})).await.ok();
    assert_eq!(v["name"], "n", "omitted name stays");
    assert_eq!(v["metadata"], json!({"b": "2"}), "given metadata replaces");
    let v = emu.post(&path, json!({"name": ""})).await.ok();
    assert!(v["name"].is_null(), "empty name clears");
    assert_eq!(v["metadata"], json!({"b": "2"}));
    assert_eq!(
        emu.post("/v1/devboxes/dbx_nope", json!({})).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn suspend_and_resume_go_through_their_transitional_states() {
    let emu = Emu::new();
    let id = emu.running_devbox("s").await;
    let v = emu
        .post_empty(&format!("/v1/devboxes/{id}/suspend"))
        .await
        .ok();
    assert_eq!(v["status"], "suspending");
    emu.wait_status(&id, &["suspended"]).await;
    let v = emu
        .post_empty(&format!("/v1/devboxes/{id}/resume"))
        .await
        .ok();
    assert_eq!(v["status"], "resuming");
    let v = emu.wait_status(&id, &["running"]).await;
    let steps: Vec<_> = v["state_transitions"]
        .as_array()
        .expect("transitions")
        .iter()
        .map(|t| t["status"].as_str().expect("status").to_owned())
        .collect();
    assert_eq!(
        steps,
        [
            "provisioning",
            "initializing",
            "running",
            "suspending",
            "suspended",
            "resuming",
            "running"
        ]
    );
}

#[tokio::test]
async fn suspend_needs_running_and_resume_needs_suspended() {
    let emu = Emu::new();
    let id = emu.running_devbox("s").await;
    let reply = emu.post_empty(&format!("/v1/devboxes/{id}/resume")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(should_not_retry(&reply));
    assert!(
        reply.json()["message"]
            .as_str()
            .expect("msg")
            .contains("not suspended")
    );
    let booting = emu.create_devbox(json!({})).await;
    let reply = emu
        .post_empty(&format!(
            "/v1/devboxes/{}/suspend",
            booting["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        emu.post_empty("/v1/devboxes/dbx_nope/suspend").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn shutdown_is_409_while_a_snapshot_is_in_progress_unless_forced() {
    let emu = Emu::new();
    let id = emu.running_devbox("s").await;
    let snap = emu
        .post_empty(&format!("/v1/devboxes/{id}/snapshot_disk_async"))
        .await
        .ok();
    let reply = emu.post_empty(&format!("/v1/devboxes/{id}/shutdown")).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert!(should_not_retry(&reply));
    let v = emu
        .post_empty(&format!("/v1/devboxes/{id}/shutdown?force=true"))
        .await
        .ok();
    assert_eq!(v["status"], "shutdown");
    assert_eq!(v["shutdown_reason"], "api_shutdown");
    assert!(v["end_time_ms"].is_i64());
    // The forced shutdown discarded the disk the snapshot was copying.
    let status = emu.snapshot_status(snap["id"].as_str().expect("id")).await;
    assert_eq!(status["status"], "error");
    assert!(status["error_message"].is_string());
    // Shutting down again is harmless.
    let again = emu.post_empty(&format!("/v1/devboxes/{id}/shutdown")).await;
    assert_eq!(again.status, StatusCode::OK);
}

#[tokio::test]
async fn shutdown_succeeds_once_the_snapshot_completes() {
    let emu = Emu::new();
    let id = emu.running_devbox("s").await;
    let snap = emu.snapshot(&id, json!({})).await;
    emu.await_snapshot(snap["id"].as_str().expect("id")).await;
    let v = emu
        .post_empty(&format!("/v1/devboxes/{id}/shutdown"))
        .await
        .ok();
    assert_eq!(v["status"], "shutdown");
}

#[tokio::test]
async fn keep_alive_answers_an_empty_object() {
    let emu = Emu::new();
    let id = emu.running_devbox("k").await;
    let v = emu
        .post_empty(&format!("/v1/devboxes/{id}/keep_alive"))
        .await
        .ok();
    assert_eq!(v, json!({}));
    assert_eq!(
        emu.post_empty("/v1/devboxes/dbx_nope/keep_alive")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn wait_for_status_holds_then_answers_408_and_never_200_with_another_status() {
    let emu = Emu::new();
    let id = emu.running_devbox("w").await;
    let started = std::time::Instant::now();
    let reply = emu
        .post(
            &format!("/v1/devboxes/{id}/wait_for_status"),
            json!({"statuses": ["suspended"], "timeout_seconds": 0.3}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::REQUEST_TIMEOUT);
    assert!(started.elapsed() >= Duration::from_millis(290));
    assert!(reply.json()["message"].is_string());
}

#[tokio::test]
async fn wait_for_status_wakes_when_the_status_changes() {
    let emu = Emu::new();
    let id = emu.running_devbox("w").await;
    let waiter = {
        let router = emu.router.clone();
        let id = id.clone();
        tokio::spawn(async move {
            let req = Request::post(format!("/v1/devboxes/{id}/wait_for_status"))
                .header("authorization", KEY)
                .body(Body::from(
                    r#"{"statuses":["suspending","suspended"],"timeout_seconds":5}"#,
                ))
                .expect("req");
            router.oneshot(req).await.expect("infallible").status()
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    emu.post_empty(&format!("/v1/devboxes/{id}/suspend")).await;
    assert_eq!(waiter.await.expect("join"), StatusCode::OK);
}

#[tokio::test]
async fn wait_for_status_rejects_bad_requests() {
    let emu = Emu::new();
    let id = emu.running_devbox("w").await;
    let path = format!("/v1/devboxes/{id}/wait_for_status");
    assert_eq!(
        emu.post(&path, json!({"statuses": []})).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        emu.post(&path, json!({"statuses": ["napping"]}))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        emu.post(&path, json!({})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        emu.post(
            "/v1/devboxes/dbx_nope/wait_for_status",
            json!({"statuses": ["running"]})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

// ---- snapshots ----

#[tokio::test]
async fn async_snapshot_is_in_progress_then_complete_with_a_size() {
    let emu = Emu::new();
    let id = emu.running_devbox("snap").await;
    let snap = emu
        .snapshot(
            &id,
            json!({"name": "first", "commit_message": "hello", "metadata": {"env": "dev"}}),
        )
        .await;
    let sid = snap["id"].as_str().expect("id");
    assert!(sid.starts_with("snp_"));
    assert_eq!(snap["source_devbox_id"], id.as_str());
    assert_eq!(snap["name"], "first");
    assert_eq!(snap["commit_message"], "hello");
    assert_eq!(snap["metadata"]["env"], "dev");
    let status = emu.snapshot_status(sid).await;
    assert_eq!(status["status"], "in_progress");
    assert!(status["snapshot"].is_null());
    let done = emu.await_snapshot(sid).await;
    assert_eq!(done["status"], "complete");
    assert!(done["snapshot"]["size_bytes"].as_u64().expect("size") > 100_000_000);
    assert_eq!(
        emu.get("/v1/devboxes/disk_snapshots/snp_nope/status")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn sync_snapshot_answers_once_complete() {
    let emu = Emu::new();
    let id = emu.running_devbox("snap").await;
    let snap = emu
        .post_empty(&format!("/v1/devboxes/{id}/snapshot_disk"))
        .await
        .ok();
    let status = emu.snapshot_status(snap["id"].as_str().expect("id")).await;
    assert_eq!(status["status"], "complete");
    assert!(snap["size_bytes"].is_u64());
}

#[tokio::test]
async fn a_forced_snapshot_failure_ends_in_error_with_a_message() {
    let emu = Emu::new();
    let id = emu.running_devbox("snap").await;
    let faults = emu
        .post("/_emulator/faults", json!({"fail_next_snapshots": 2}))
        .await
        .ok();
    assert_eq!(faults["fail_next_snapshots"], 2);
    let snap = emu
        .post_empty(&format!("/v1/devboxes/{id}/snapshot_disk_async"))
        .await
        .ok();
    let done = emu.await_snapshot(snap["id"].as_str().expect("id")).await;
    assert_eq!(done["status"], "error");
    assert!(
        done["error_message"]
            .as_str()
            .expect("message")
            .contains("failed")
    );
    // The synchronous form reports the failure as a non-retryable 500.
    let reply = emu
        .post_empty(&format!("/v1/devboxes/{id}/snapshot_disk"))
        .await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(should_not_retry(&reply));
    // Then snapshots succeed again.
    let snap = emu
        .post_empty(&format!("/v1/devboxes/{id}/snapshot_disk_async"))
        .await
        .ok();
    assert_eq!(
        emu.await_snapshot(snap["id"].as_str().expect("id")).await["status"],
        "complete"
    );
}

#[tokio::test]
async fn a_refused_snapshot_request_does_not_use_up_a_forced_failure() {
    let emu = Emu::new();
    emu.post("/_emulator/faults", json!({"fail_next_snapshots": 1}))
        .await;
    // A suspended devbox stays suspended until resumed, so the refusal does not
    // depend on how fast this test runs (a booting one may be running already).
    let id = emu.running_devbox("r").await;
    emu.post_empty(&format!("/v1/devboxes/{id}/suspend"))
        .await
        .ok();
    emu.wait_status(&id, &["suspended"]).await;
    let refused = emu
        .post_empty(&format!("/v1/devboxes/{id}/snapshot_disk_async"))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    emu.post_empty(&format!("/v1/devboxes/{id}/resume"))
        .await
        .ok();
    emu.wait_status(&id, &["running"]).await;
    let snap = emu
        .post_empty(&format!("/v1/devboxes/{id}/snapshot_disk_async"))
        .await
        .ok();
    let done = emu.await_snapshot(snap["id"].as_str().expect("id")).await;
    assert_eq!(
        done["status"], "error",
        "the forced failure was still there"
    );
}

#[tokio::test]
async fn snapshots_need_a_running_devbox_and_a_short_commit_message() {
    let emu = Emu::new();
    let booting = emu.create_devbox(json!({})).await;
    let reply = emu
        .post_empty(&format!(
            "/v1/devboxes/{}/snapshot_disk_async",
            booting["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        emu.post_empty("/v1/devboxes/dbx_nope/snapshot_disk_async")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let id = emu.running_devbox("r").await;
    let reply = emu
        .post(
            &format!("/v1/devboxes/{id}/snapshot_disk_async"),
            json!({"commit_message": "x".repeat(1001)}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn snapshot_list_filters_by_devbox_metadata_and_blueprint_and_pages() {
    let emu = Emu::new();
    let a = emu.running_devbox("a").await;
    let b = emu.running_devbox("b").await;
    for (dbx, name, env) in [
        (&a, "a1", "dev"),
        (&a, "a2", "prod"),
        (&a, "a3", "staging"),
        (&b, "b1", "dev"),
    ] {
        emu.snapshot(dbx, json!({"name": name, "metadata": {"env": env, "snapdeck.pinned": if name == "a2" {"true"} else {"false"}}})).await;
    }
    let all = emu.get("/v1/devboxes/disk_snapshots").await.ok();
    assert_eq!(names(&all, "snapshots"), ["b1", "a3", "a2", "a1"]);
    assert_eq!(all["total_count"], 4);
    let of_a = emu
        .get(&format!("/v1/devboxes/disk_snapshots?devbox_id={a}"))
        .await
        .ok();
    assert_eq!(names(&of_a, "snapshots"), ["a3", "a2", "a1"]);
    let dev = emu
        .get("/v1/devboxes/disk_snapshots?metadata%5Benv%5D=dev")
        .await
        .ok();
    assert_eq!(names(&dev, "snapshots"), ["b1", "a1"]);
    let literal = emu
        .get("/v1/devboxes/disk_snapshots?metadata[snapdeck.pinned]=true")
        .await
        .ok();
    assert_eq!(names(&literal, "snapshots"), ["a2"]);
    let any = emu
        .get(&format!(
            "/v1/devboxes/disk_snapshots?devbox_id={a}&metadata[env][in]=dev,prod"
        ))
        .await
        .ok();
    assert_eq!(names(&any, "snapshots"), ["a2", "a1"]);
    let page = emu.get("/v1/devboxes/disk_snapshots?limit=3").await.ok();
    assert_eq!(page["has_more"], true);
    let last = page["snapshots"][2]["id"].as_str().expect("id");
    let rest = emu
        .get(&format!(
            "/v1/devboxes/disk_snapshots?limit=3&starting_after={last}"
        ))
        .await
        .ok();
    assert_eq!(names(&rest, "snapshots"), ["a1"]);
    assert_eq!(rest["has_more"], false);
    let none = emu
        .get("/v1/devboxes/disk_snapshots?source_blueprint_id=bpt_nope")
        .await
        .ok();
    assert_eq!(none["total_count"], 0);
    let search = emu.get("/v1/devboxes/disk_snapshots?search=A2").await.ok();
    // Search matches names and ids, case-insensitively; a random id may contain "a2" too.
    let expected: Vec<String> = all["snapshots"]
        .as_array()
        .expect("array")
        .iter()
        .filter(|s| {
            [&s["name"], &s["id"]]
                .iter()
                .any(|v| v.as_str().unwrap_or("").to_lowercase().contains("a2"))
        })
        .map(|s| s["name"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(expected.iter().any(|n| n == "a2"));
    assert_eq!(names(&search, "snapshots"), expected);
    assert_eq!(
        emu.get("/v1/devboxes/disk_snapshots?devbox_id=dbx_nope")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn snapshot_update_replaces_name_commit_message_and_metadata() {
    let emu = Emu::new();
    let id = emu.running_devbox("u").await;
    let snap = emu
        .snapshot(
            &id,
            json!({"name": "n", "commit_message": "c", "metadata": {"a": "1"}}),
        )
        .await;
    let path = format!(
        "/v1/devboxes/disk_snapshots/{}",
        snap["id"].as_str().expect("id")
    );
    let v = emu.post(&path, json!({"metadata": {"b": "2"}})).await.ok();
    assert_eq!(v["metadata"], json!({"b": "2"}));
    assert!(
        v["name"].is_null(),
        "an update, not a patch: omitted fields are cleared"
    );
    assert!(v["commit_message"].is_null());
    let v = emu
        .post(
            &path,
            json!({"name": "n2", "commit_message": "c2", "metadata": {"b": "2"}}),
        )
        .await
        .ok();
    assert_eq!(v["name"], "n2");
    assert_eq!(
        emu.post("/v1/devboxes/disk_snapshots/snp_nope", json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn delete_is_409_until_complete_then_status_says_deleted_and_the_list_forgets_it() {
    let emu = Emu::new();
    let id = emu.running_devbox("d").await;
    let snap = emu
        .post_empty(&format!("/v1/devboxes/{id}/snapshot_disk_async"))
        .await
        .ok();
    let sid = snap["id"].as_str().expect("id");
    let delete = format!("/v1/devboxes/disk_snapshots/{sid}/delete");
    let reply = emu.post_empty(&delete).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert!(should_not_retry(&reply));
    emu.await_snapshot(sid).await;
    assert_eq!(emu.post_empty(&delete).await.ok(), json!({}));
    assert_eq!(emu.snapshot_status(sid).await["status"], "deleted");
    let list = emu.get("/v1/devboxes/disk_snapshots").await.ok();
    assert_eq!(list["total_count"], 0);
    assert_eq!(emu.post_empty(&delete).await.status, StatusCode::NOT_FOUND);
    // A deleted snapshot cannot start a devbox.
    let reply = emu.post("/v1/devboxes", json!({"snapshot_id": sid})).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn deleting_an_errored_snapshot_is_a_409() {
    let emu = Emu::new();
    let id = emu.running_devbox("d").await;
    emu.post("/_emulator/faults", json!({"fail_next_snapshots": 1}))
        .await;
    let snap = emu
        .post_empty(&format!("/v1/devboxes/{id}/snapshot_disk_async"))
        .await
        .ok();
    let sid = snap["id"].as_str().expect("id");
    emu.await_snapshot(sid).await;
    let reply = emu
        .post_empty(&format!("/v1/devboxes/disk_snapshots/{sid}/delete"))
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
}

// ---- files and rollback ----

#[tokio::test]
async fn a_devbox_created_from_a_snapshot_starts_with_exactly_its_files() {
    let emu = Emu::new();
    let id = emu.running_devbox("files").await;
    let write = |path: &'static str, contents: &'static str| {
        let id = id.clone();
        let emu = &emu;
        async move {
            emu.post(
                &format!("/v1/devboxes/{id}/write_file_contents"),
                json!({"file_path": path, "contents": contents}),
            )
            .await
            .ok()
        }
    };
    let detail = write("notes.txt", "v1").await;
    assert_eq!(detail["exit_status"], 0);
    assert_eq!(detail["devbox_id"], id.as_str());
    let snap = emu
        .post_empty(&format!("/v1/devboxes/{id}/snapshot_disk"))
        .await
        .ok();
    // Changes after the snapshot are not in it.
    write("notes.txt", "v2").await;
    write("/tmp/later.txt", "later").await;

    let restored = emu
        .create_devbox(json!({"snapshot_id": snap["id"], "name": "restored"}))
        .await;
    assert_eq!(restored["snapshot_id"], snap["id"]);
    let rid = restored["id"].as_str().expect("id");
    emu.wait_status(rid, &["running"]).await;
    let read = |dbx: String, path: &'static str| {
        let emu = &emu;
        async move {
            emu.post(
                &format!("/v1/devboxes/{dbx}/read_file_contents"),
                json!({"file_path": path}),
            )
            .await
        }
    };
    let reply = read(rid.to_owned(), "/home/user/notes.txt").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.text, "v1");
    assert!(
        reply.headers["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/plain")
    );
    assert_eq!(
        read(rid.to_owned(), "/tmp/later.txt").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(read(id.clone(), "~/notes.txt").await.text, "v2");
}

#[tokio::test]
async fn large_files_are_accepted_but_other_oversized_bodies_are_a_json_413() {
    let emu = Emu::new();
    let id = emu.running_devbox("big").await;
    let big = "x".repeat(3 * 1024 * 1024);
    let reply = emu
        .post(
            &format!("/v1/devboxes/{id}/write_file_contents"),
            json!({"file_path": "big.txt", "contents": big}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = emu.post("/v1/devboxes", json!({ "name": big })).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(reply.json()["message"].is_string());
}

#[tokio::test]
async fn file_operations_need_a_running_devbox() {
    let emu = Emu::new();
    let booting = emu.create_devbox(json!({})).await;
    let reply = emu
        .post(
            &format!(
                "/v1/devboxes/{}/write_file_contents",
                booting["id"].as_str().expect("id")
            ),
            json!({"file_path": "a", "contents": "b"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let id = emu.running_devbox("f").await;
    let reply = emu
        .post(
            &format!("/v1/devboxes/{id}/write_file_contents"),
            json!({"file_path": "a"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn creating_from_an_unfinished_snapshot_or_from_two_sources_is_a_400() {
    let emu = Emu::new();
    let id = emu.running_devbox("src").await;
    let snap = emu
        .post_empty(&format!("/v1/devboxes/{id}/snapshot_disk_async"))
        .await
        .ok();
    let reply = emu
        .post("/v1/devboxes", json!({"snapshot_id": snap["id"]}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = emu
        .post(
            "/v1/devboxes",
            json!({"snapshot_id": snap["id"], "blueprint_name": "x"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

// ---- blueprints ----

#[tokio::test]
async fn a_blueprint_builds_and_starts_devboxes_by_id_or_name() {
    let emu = Emu::new();
    let bp = emu
        .post(
            "/v1/blueprints",
            json!({"name": "py", "system_setup_commands": ["pip install uv"]}),
        )
        .await
        .ok();
    let bid = bp["id"].as_str().expect("id");
    assert!(bid.starts_with("bpt_"));
    assert_eq!(bp["status"], "queued");
    assert_eq!(
        bp["parameters"]["system_setup_commands"][0],
        "pip install uv"
    );
    // Not built yet.
    assert_eq!(
        emu.post("/v1/devboxes", json!({"blueprint_id": bid}))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let mut built = json!(null);
    for _ in 0..100 {
        built = emu.get(&format!("/v1/blueprints/{bid}")).await.ok();
        if built["status"] == "build_complete" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(built["status"], "build_complete");
    assert!(built["build_finish_time_ms"].is_i64());
    let by_id = emu.create_devbox(json!({"blueprint_id": bid})).await;
    assert_eq!(by_id["blueprint_id"], bid);
    let by_name = emu.create_devbox(json!({"blueprint_name": "py"})).await;
    assert_eq!(by_name["blueprint_id"], bid);
    // Snapshots of it name the blueprint as their source.
    let dbx = by_name["id"].as_str().expect("id");
    emu.wait_status(dbx, &["running"]).await;
    let snap = emu
        .post_empty(&format!("/v1/devboxes/{dbx}/snapshot_disk_async"))
        .await
        .ok();
    assert_eq!(snap["source_blueprint_id"], bid);
    let list = emu.get("/v1/blueprints?name=py").await.ok();
    assert_eq!(list["blueprints"][0]["id"], bid);
    let built = emu.get("/v1/blueprints?status=build_complete").await.ok();
    assert_eq!(built["total_count"], 1);
    let queued = emu.get("/v1/blueprints?status=queued").await.ok();
    assert_eq!(queued["total_count"], 0);
    assert_eq!(
        emu.post("/v1/devboxes", json!({"blueprint_name": "nope"}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        emu.get("/v1/blueprints/bpt_nope").await.status,
        StatusCode::NOT_FOUND
    );
    // It cannot be deleted while a snapshot derives from it.
    assert_eq!(
        emu.post_empty(&format!("/v1/blueprints/{bid}/delete"))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn a_blueprint_whose_setup_fails_ends_failed() {
    let emu = Emu::new();
    let bp = emu
        .post(
            "/v1/blueprints",
            json!({"name": "broken", "system_setup_commands": ["false"]}),
        )
        .await
        .ok();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let v = emu
        .get(&format!(
            "/v1/blueprints/{}",
            bp["id"].as_str().expect("id")
        ))
        .await
        .ok();
    assert_eq!(v["status"], "failed");
    assert_eq!(
        emu.post("/v1/blueprints", json!({"dockerfile": "FROM x"}))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

/// Polls a blueprint until its build ends; its last view.
async fn built(emu: &Emu, id: &str) -> serde_json::Value {
    let mut v = json!(null);
    for _ in 0..200 {
        v = emu.get(&format!("/v1/blueprints/{id}")).await.ok();
        if v["status"] == "build_complete" || v["status"] == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    v
}

#[tokio::test]
async fn a_blueprint_built_on_another_names_its_base_by_id_or_latest_build_of_a_name() {
    let emu = Emu::new();
    let first = emu
        .post("/v1/blueprints", json!({"name": "node"}))
        .await
        .ok();
    let first_id = first["id"].as_str().expect("id").to_owned();
    assert!(
        first.get("base_blueprint_id").is_none_or(|v| v.is_null()),
        "a blueprint without a base has none"
    );
    // Not built yet: nothing to build on.
    assert_eq!(
        emu.post(
            "/v1/blueprints",
            json!({"name": "child", "base_blueprint_id": first_id})
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(built(&emu, &first_id).await["status"], "build_complete");
    let second = emu
        .post("/v1/blueprints", json!({"name": "node"}))
        .await
        .ok();
    let second_id = second["id"].as_str().expect("id").to_owned();
    built(&emu, &second_id).await;

    let by_id = emu
        .post(
            "/v1/blueprints",
            json!({"name": "child", "base_blueprint_id": first_id}),
        )
        .await
        .ok();
    assert_eq!(by_id["base_blueprint_id"], first_id.as_str());
    let by_name = emu
        .post(
            "/v1/blueprints",
            json!({"name": "child", "base_blueprint_name": "node"}),
        )
        .await
        .ok();
    assert_eq!(
        by_name["base_blueprint_id"],
        second_id.as_str(),
        "a name resolves to its latest successful build"
    );
    let got = emu
        .get(&format!(
            "/v1/blueprints/{}",
            by_name["id"].as_str().expect("id")
        ))
        .await
        .ok();
    assert_eq!(got["base_blueprint_id"], second_id.as_str());

    for (body, status) in [
        (
            json!({"name": "c", "base_blueprint_name": "nope"}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"name": "c", "base_blueprint_id": "bpt_nope"}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"name": "c", "base_blueprint_id": first_id, "base_blueprint_name": "node"}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        assert_eq!(
            emu.post("/v1/blueprints", body.clone()).await.status,
            status,
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_blueprint_delete_is_refused_naming_every_dependent_snapshot_then_allowed() {
    let emu = Emu::new();
    let bp = emu.post("/v1/blueprints", json!({"name": "py"})).await.ok();
    let bid = bp["id"].as_str().expect("id").to_owned();
    built(&emu, &bid).await;
    // One snapshot of a devbox started from it, and one of a devbox restored from that
    // snapshot: both derive from the blueprint.
    let dbx = emu.boot(json!({"blueprint_id": bid})).await;
    let first = emu
        .post_empty(&format!("/v1/devboxes/{dbx}/snapshot_disk"))
        .await
        .ok();
    let first_id = first["id"].as_str().expect("id").to_owned();
    let child = emu.boot(json!({"snapshot_id": first_id})).await;
    let second = emu
        .post_empty(&format!("/v1/devboxes/{child}/snapshot_disk"))
        .await
        .ok();
    let second_id = second["id"].as_str().expect("id").to_owned();
    assert_eq!(second["source_blueprint_id"], bid.as_str());

    let refused = emu
        .post_empty(&format!("/v1/blueprints/{bid}/delete"))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let message = refused.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains(&first_id), "{message}");
    assert!(message.contains(&second_id), "{message}");
    // Still there.
    assert_eq!(
        emu.get(&format!("/v1/blueprints/{bid}")).await.status,
        StatusCode::OK
    );

    for id in [&first_id, &second_id] {
        emu.post_empty(&format!("/v1/devboxes/disk_snapshots/{id}/delete"))
            .await
            .ok();
    }
    emu.post_empty(&format!("/v1/blueprints/{bid}/delete"))
        .await
        .ok();
    let list = emu.get("/v1/blueprints?name=py").await.ok();
    assert_eq!(list["total_count"], 0, "a deleted blueprint is not listed");
}

// ---- faults and control ----

#[tokio::test]
async fn injected_faults_hit_v1_but_never_healthz_or_the_control_endpoint() {
    let emu = Emu::new();
    emu.post("/_emulator/faults", json!({"fault_5xx_rate": 1.0}))
        .await
        .ok();
    let reply = emu.get("/v1/devboxes").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(reply.json()["message"].is_string());
    assert_eq!(emu.get("/healthz").await.status, StatusCode::OK);
    emu.post(
        "/_emulator/faults",
        json!({"fault_5xx_rate": 0.0, "fault_429_rate": 1.0, "fault_retry_after_s": 2}),
    )
    .await
    .ok();
    let reply = emu.get("/v1/devboxes").await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.headers["retry-after"], "2");
    let cleared = emu
        .send(
            Request::delete("/_emulator/faults")
                .body(Body::empty())
                .expect("req"),
        )
        .await
        .ok();
    assert_eq!(cleared["fault_429_rate"], 0.0);
    assert_eq!(emu.get("/v1/devboxes").await.status, StatusCode::OK);
    assert_eq!(
        emu.post("/_emulator/faults", json!({"fault_5xx_rate": 2}))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        emu.post("/_emulator/faults", json!({"bogus": 1}))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let _ = &emu.state;
}

#[tokio::test]
async fn injected_latency_delays_api_calls_only() {
    let emu = Emu::new();
    emu.post("/_emulator/faults", json!({"fault_latency_ms": 150}))
        .await
        .ok();
    let started = std::time::Instant::now();
    assert_eq!(emu.get("/v1/devboxes").await.status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(150));
    let started = std::time::Instant::now();
    assert_eq!(emu.get("/healthz").await.status, StatusCode::OK);
    assert!(started.elapsed() < Duration::from_millis(150));
}

#[tokio::test]
async fn reset_wipes_the_account_and_can_seed_the_demo() {
    let emu = Emu::new();
    emu.create_devbox(json!({})).await;
    let counts = emu.post_empty("/_emulator/reset").await.ok();
    assert_eq!(counts["devboxes"], 0);
    let counts = emu.post_empty("/_emulator/reset?seed=demo").await.ok();
    assert_eq!(counts["devboxes"], 12);
    assert_eq!(
        emu.post_empty("/_emulator/reset?seed=lots").await.status,
        StatusCode::BAD_REQUEST
    );
}

// ---- demo data ----

#[tokio::test]
async fn the_demo_seed_has_varied_states_lineage_a_pinned_and_a_failed_snapshot() {
    let emu = Emu::with(Config::default(), true);
    let devboxes = emu.get("/v1/devboxes?limit=100").await.ok();
    let list = devboxes["devboxes"].as_array().expect("devboxes");
    assert_eq!(list.len(), 12);
    let statuses: std::collections::BTreeSet<_> = list
        .iter()
        .map(|d| d["status"].as_str().expect("status"))
        .collect();
    for s in ["running", "suspended", "shutdown", "failure"] {
        assert!(statuses.contains(s), "no {s} devbox");
    }
    assert!(
        list.iter().filter(|d| d["snapshot_id"].is_string()).count() >= 2,
        "lineage"
    );
    let snaps = emu.get("/v1/devboxes/disk_snapshots?limit=100").await.ok();
    let snaps = snaps["snapshots"].as_array().expect("snapshots");
    assert!(snaps.len() >= 20);
    let pinned = emu
        .get("/v1/devboxes/disk_snapshots?metadata[snapdeck.pinned]=true")
        .await
        .ok();
    assert_eq!(pinned["total_count"], 1);
    let mut errors = 0;
    for s in snaps {
        let st = emu.snapshot_status(s["id"].as_str().expect("id")).await;
        if st["status"] == "error" {
            errors += 1;
        }
        if st["status"] == "complete" {
            let size = st["snapshot"]["size_bytes"].as_u64().expect("size");
            assert!((200_000_000..=3_000_000_000).contains(&size), "{size}");
        }
    }
    assert_eq!(errors, 1);
    let blueprints = emu.get("/v1/blueprints").await.ok();
    assert_eq!(blueprints["total_count"], 2);
}
