//! Lifecycle faults in-process: boots made to fail (`fail_next_boots`), keep-alive and
//! idle timers on the emulator's lifecycle clock (moved forward with
//! `POST /_emulator/clock`, never waited for), and the shutdown reasons they leave.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use snapdeck_server::testing::{FAST, state};
use snapdeck_server::{Config, app};
use tower::ServiceExt;

const KEY: &str = "Bearer test-key";

struct Emu {
    router: Router,
}

impl Emu {
    fn new() -> Self {
        Self {
            router: app(state(FAST, Config::default(), false).expect("state")),
        }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", KEY);
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .expect("request");
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .expect("body");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self.call(method, path, body).await;
        assert_eq!(status, StatusCode::OK, "{method} {path}: {v}");
        v
    }

    async fn wait(&self, id: &str, statuses: &[&str]) -> Value {
        self.ok(
            "POST",
            &format!("/v1/devboxes/{id}/wait_for_status"),
            Some(json!({"statuses": statuses, "timeout_seconds": 10})),
        )
        .await
    }

    async fn running(&self, body: Value) -> String {
        let dbx = self.ok("POST", "/v1/devboxes", Some(body)).await;
        let id = dbx["id"].as_str().expect("id").to_owned();
        assert_eq!(self.wait(&id, &["running"]).await["status"], "running");
        id
    }

    async fn advance(&self, seconds: f64) {
        self.ok(
            "POST",
            "/_emulator/clock",
            Some(json!({ "advance_seconds": seconds })),
        )
        .await;
    }

    async fn status(&self, id: &str) -> Value {
        self.ok("GET", &format!("/v1/devboxes/{id}"), None).await
    }
}

#[tokio::test]
async fn fail_next_boots_ends_the_next_boots_in_failure_with_the_reason() {
    let emu = Emu::new();
    let faults = emu
        .ok(
            "POST",
            "/_emulator/faults",
            Some(json!({"fail_next_boots": 2, "boot_failure_reason": "out_of_memory"})),
        )
        .await;
    assert_eq!(faults["fail_next_boots"], 2);
    // A refused request uses up no forced failure.
    let (status, _) = emu
        .call(
            "POST",
            "/v1/devboxes",
            Some(json!({"snapshot_id": "snp_x", "blueprint_id": "bpt_y"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let dbx = emu.ok("POST", "/v1/devboxes", Some(json!({}))).await;
    let id = dbx["id"].as_str().expect("id");
    let failed = emu.wait(id, &["running", "failure", "shutdown"]).await;
    assert_eq!(failed["status"], "failure");
    assert_eq!(failed["failure_reason"], "out_of_memory");
    assert!(failed["end_time_ms"].is_i64());
    let last = failed["state_transitions"]
        .as_array()
        .and_then(|t| t.last())
        .cloned()
        .expect("transitions");
    assert_eq!(last["status"], "failure");
    assert_eq!(last["failure_reason"], "out_of_memory");
    // create_and_await_running answers the failed devbox (the SDKs then raise).
    let second = emu
        .ok(
            "POST",
            "/v1/devboxes/create_and_await_running",
            Some(json!({"name": "second"})),
        )
        .await;
    assert_eq!(second["status"], "failure");
    // Used up: the next boot succeeds.
    emu.running(json!({})).await;
    let faults = emu.ok("GET", "/_emulator/faults", None).await;
    assert_eq!(faults["fail_next_boots"], 0);
    let (status, _) = emu
        .call(
            "POST",
            "/_emulator/faults",
            Some(json!({"boot_failure_reason": "bored"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn keep_alive_time_seconds_shuts_down_unless_kept_alive() {
    let emu = Emu::new();
    let id = emu
        .running(json!({"launch_parameters": {"keep_alive_time_seconds": 3600}}))
        .await;
    emu.ok(
        "POST",
        &format!("/v1/devboxes/{id}/write_file_contents"),
        Some(json!({"file_path": "a", "contents": "x"})),
    )
    .await;
    emu.advance(3599.0).await;
    assert_eq!(emu.status(&id).await["status"], "running");
    // Activity is not a keep-alive; keep_alive is.
    emu.ok(
        "POST",
        &format!("/v1/devboxes/{id}/execute_sync"),
        Some(json!({"command": "true"})),
    )
    .await;
    emu.ok("POST", &format!("/v1/devboxes/{id}/keep_alive"), None)
        .await;
    emu.advance(3599.0).await;
    assert_eq!(emu.status(&id).await["status"], "running");
    emu.advance(2.0).await;
    let gone = emu.status(&id).await;
    assert_eq!(gone["status"], "shutdown");
    assert_eq!(gone["shutdown_reason"], "keep_alive_timeout");
    assert!(gone["end_time_ms"].is_i64());
    let (status, _) = emu
        .call("POST", &format!("/v1/devboxes/{id}/keep_alive"), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn after_idle_suspends_after_inactivity_and_activity_restarts_the_timer() {
    let emu = Emu::new();
    let id = emu
        .running(json!({"launch_parameters": {
            "after_idle": {"idle_time_seconds": 60, "on_idle": "suspend"},
            "keep_alive_time_seconds": 10
        }}))
        .await;
    // after_idle wins over keep_alive_time_seconds.
    emu.advance(30.0).await;
    emu.ok(
        "POST",
        &format!("/v1/devboxes/{id}/execute_sync"),
        Some(json!({"command": "echo busy"})),
    )
    .await;
    emu.advance(40.0).await;
    assert_eq!(emu.status(&id).await["status"], "running");
    emu.advance(25.0).await;
    let suspended = emu.wait(&id, &["suspended"]).await;
    assert_eq!(suspended["status"], "suspended");
    assert_eq!(suspended["shutdown_reason"], Value::Null);
    // Resumed, it is timed again from its new start.
    emu.ok("POST", &format!("/v1/devboxes/{id}/resume"), None)
        .await;
    emu.wait(&id, &["running"]).await;
    emu.advance(59.0).await;
    assert_eq!(emu.status(&id).await["status"], "running");
    emu.advance(2.0).await;
    assert_eq!(emu.wait(&id, &["suspended"]).await["status"], "suspended");
}

#[tokio::test]
async fn after_idle_shutdown_says_idle_and_discards_the_disk() {
    let emu = Emu::new();
    let id = emu
        .running(json!({"launch_parameters": {
            "lifecycle": {"after_idle": {"idle_time_seconds": 10, "on_idle": "shutdown"}}
        }}))
        .await;
    emu.advance(11.0).await;
    let gone = emu.status(&id).await;
    assert_eq!(gone["status"], "shutdown");
    assert_eq!(gone["shutdown_reason"], "idle");
    // A devbox without a timer lives on however far the clock moves.
    let plain = emu.running(json!({})).await;
    emu.advance(30.0 * 24.0 * 3600.0).await;
    assert_eq!(emu.status(&plain).await["status"], "running");
}

#[tokio::test]
async fn a_fast_lifecycle_clock_fires_timers_by_itself() {
    let emu = Emu::new();
    let clock = emu
        .ok(
            "POST",
            "/_emulator/clock",
            Some(json!({"lifecycle_speed": 1_000_000.0})),
        )
        .await;
    assert_eq!(clock["lifecycle_speed"], 1_000_000.0);
    let dbx = emu
        .ok(
            "POST",
            "/v1/devboxes",
            Some(json!({"launch_parameters": {"keep_alive_time_seconds": 60}})),
        )
        .await;
    let id = dbx["id"].as_str().expect("id");
    // 60 lifecycle seconds are 60 µs of wall time: the long poll sees the shutdown.
    let gone = emu.wait(id, &["shutdown"]).await;
    assert_eq!(gone["shutdown_reason"], "keep_alive_timeout");
    let steps: Vec<&str> = gone["state_transitions"]
        .as_array()
        .expect("transitions")
        .iter()
        .filter_map(|t| t["status"].as_str())
        .collect();
    assert_eq!(
        steps,
        ["provisioning", "initializing", "running", "shutdown"]
    );
}

#[tokio::test]
async fn the_clock_refuses_bad_values() {
    let emu = Emu::new();
    for body in [
        json!({"lifecycle_speed": 0}),
        json!({"lifecycle_speed": -1}),
        json!({"advance_seconds": -5}),
    ] {
        let (status, _) = emu.call("POST", "/_emulator/clock", Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let (status, _) = emu
        .call("POST", "/_emulator/clock", Some(json!({"speed": 2})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let clock = emu.ok("GET", "/_emulator/clock", None).await;
    assert_eq!(clock["lifecycle_speed"], 1.0);
}
