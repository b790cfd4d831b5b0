//! Lifecycle faults in-process: boots made to fail (`fail_next_boots`), keep-alive and
//! idle timers on the emulator's lifecycle clock (moved forward with
//! `POST /_emulator/clock`, never waited for), and the shutdown reasons they leave.

use axum::http::StatusCode;
use serde_json::{Value, json};

mod common;
use common::Emu;

impl Emu {
    async fn advance(&self, seconds: f64) {
        self.call(
            "POST",
            "/_emulator/clock",
            Some(json!({ "advance_seconds": seconds })),
        )
        .await
        .ok();
    }

    async fn status(&self, id: &str) -> Value {
        self.call("GET", &format!("/v1/devboxes/{id}"), None)
            .await
            .ok()
    }
}

#[tokio::test]
async fn fail_next_boots_ends_the_next_boots_in_failure_with_the_reason() {
    let emu = Emu::new();
    let faults = emu
        .call(
            "POST",
            "/_emulator/faults",
            Some(json!({"fail_next_boots": 2, "boot_failure_reason": "out_of_memory"})),
        )
        .await
        .ok();
    assert_eq!(faults["fail_next_boots"], 2);
    // A refused request uses up no forced failure.
    let (status, _) = emu
        .call(
            "POST",
            "/v1/devboxes",
            Some(json!({"snapshot_id": "snp_x", "blueprint_id": "bpt_y"})),
        )
        .await
        .parts();
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let dbx = emu.call("POST", "/v1/devboxes", Some(json!({}))).await.ok();
    let id = dbx["id"].as_str().expect("id");
    let failed = emu
        .wait_status(id, &["running", "failure", "shutdown"])
        .await;
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
        .call(
            "POST",
            "/v1/devboxes/create_and_await_running",
            Some(json!({"name": "second"})),
        )
        .await
        .ok();
    assert_eq!(second["status"], "failure");
    // Used up: the next boot succeeds.
    emu.boot(json!({})).await;
    let faults = emu.call("GET", "/_emulator/faults", None).await.ok();
    assert_eq!(faults["fail_next_boots"], 0);
    let (status, _) = emu
        .call(
            "POST",
            "/_emulator/faults",
            Some(json!({"boot_failure_reason": "bored"})),
        )
        .await
        .parts();
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn keep_alive_time_seconds_shuts_down_unless_kept_alive() {
    let emu = Emu::new();
    let id = emu
        .boot(json!({"launch_parameters": {"keep_alive_time_seconds": 3600}}))
        .await;
    emu.call(
        "POST",
        &format!("/v1/devboxes/{id}/write_file_contents"),
        Some(json!({"file_path": "a", "contents": "x"})),
    )
    .await
    .ok();
    emu.advance(3599.0).await;
    assert_eq!(emu.status(&id).await["status"], "running");
    // Activity is not a keep-alive; keep_alive is.
    emu.call(
        "POST",
        &format!("/v1/devboxes/{id}/execute_sync"),
        Some(json!({"command": "true"})),
    )
    .await
    .ok();
    emu.call("POST", &format!("/v1/devboxes/{id}/keep_alive"), None)
        .await
        .ok();
    emu.advance(3599.0).await;
    assert_eq!(emu.status(&id).await["status"], "running");
    emu.advance(2.0).await;
    let gone = emu.status(&id).await;
    assert_eq!(gone["status"], "shutdown");
    assert_eq!(gone["shutdown_reason"], "keep_alive_timeout");
    assert!(gone["end_time_ms"].is_i64());
    let (status, _) = emu
        .call("POST", &format!("/v1/devboxes/{id}/keep_alive"), None)
        .await
        .parts();
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn after_idle_suspends_after_inactivity_and_activity_restarts_the_timer() {
    let emu = Emu::new();
    let id = emu
        .boot(json!({"launch_parameters": {
            "after_idle": {"idle_time_seconds": 60, "on_idle": "suspend"},
            "keep_alive_time_seconds": 10
        }}))
        .await;
    // after_idle wins over keep_alive_time_seconds.
    emu.advance(30.0).await;
    emu.call(
        "POST",
        &format!("/v1/devboxes/{id}/execute_sync"),
        Some(json!({"command": "echo busy"})),
    )
    .await
    .ok();
    emu.advance(40.0).await;
    assert_eq!(emu.status(&id).await["status"], "running");
    emu.advance(25.0).await;
    let suspended = emu.wait_status(&id, &["suspended"]).await;
    assert_eq!(suspended["status"], "suspended");
    assert_eq!(suspended["shutdown_reason"], Value::Null);
    // Resumed, it is timed again from its new start.
    emu.call("POST", &format!("/v1/devboxes/{id}/resume"), None)
        .await
        .ok();
    emu.wait_status(&id, &["running"]).await;
    emu.advance(59.0).await;
    assert_eq!(emu.status(&id).await["status"], "running");
    emu.advance(2.0).await;
    assert_eq!(
        emu.wait_status(&id, &["suspended"]).await["status"],
        "suspended"
    );
}

#[tokio::test]
async fn after_idle_shutdown_says_idle_and_discards_the_disk() {
    let emu = Emu::new();
    let id = emu
        .boot(json!({"launch_parameters": {
            "lifecycle": {"after_idle": {"idle_time_seconds": 10, "on_idle": "shutdown"}}
        }}))
        .await;
    emu.advance(11.0).await;
    let gone = emu.status(&id).await;
    assert_eq!(gone["status"], "shutdown");
    assert_eq!(gone["shutdown_reason"], "idle");
    // A devbox without a timer lives on however far the clock moves.
    let plain = emu.boot(json!({})).await;
    emu.advance(30.0 * 24.0 * 3600.0).await;
    assert_eq!(emu.status(&plain).await["status"], "running");
}

#[tokio::test]
async fn a_fast_lifecycle_clock_fires_timers_by_itself() {
    let emu = Emu::new();
    let clock = emu
        .call(
            "POST",
            "/_emulator/clock",
            Some(json!({"lifecycle_speed": 1_000_000.0})),
        )
        .await
        .ok();
    assert_eq!(clock["lifecycle_speed"], 1_000_000.0);
    let dbx = emu
        .call(
            "POST",
            "/v1/devboxes",
            Some(json!({"launch_parameters": {"keep_alive_time_seconds": 60}})),
        )
        .await
        .ok();
    let id = dbx["id"].as_str().expect("id");
    // 60 lifecycle seconds are 60 µs of wall time: the long poll sees the shutdown.
    let gone = emu.wait_status(id, &["shutdown"]).await;
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
        let (status, _) = emu
            .call("POST", "/_emulator/clock", Some(body))
            .await
            .parts();
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let (status, _) = emu
        .call("POST", "/_emulator/clock", Some(json!({"speed": 2})))
        .await
        .parts();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let clock = emu.call("GET", "/_emulator/clock", None).await.ok();
    assert_eq!(clock["lifecycle_speed"], 1.0);
}
