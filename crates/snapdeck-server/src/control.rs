//! `/_emulator`: the test control surface. No auth and no faults, so a test can always
//! reach it: read and set the fault knobs, force the next snapshots or boots to fail,
//! speed up or move the lifecycle clock, and reset the account (optionally re-seeding
//! the demo data).

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::error::{Error, OptionalJsonBody, Params, Result};
use crate::faults::{Faults, FaultsPatch};
use crate::seed;
use crate::state::AppState;

/// Routes, relative to `/_emulator`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/faults",
            get(get_faults).post(set_faults).delete(clear_faults),
        )
        .route("/reset", post(reset))
        .route("/clock", get(get_clock).post(set_clock))
        .route("/state", get(get_state))
        .fallback(|| async { Error::NotFound("no such emulator endpoint".into()) })
}

async fn get_faults(State(state): State<AppState>) -> Json<Faults> {
    Json(state.faults())
}

/// Merges the given knobs (e.g. `{"fault_5xx_rate": 0.5}` or `{"fail_next_snapshots": 1}`)
/// and answers the full set.
async fn set_faults(
    State(state): State<AppState>,
    OptionalJsonBody(patch): OptionalJsonBody<FaultsPatch>,
) -> Result<Json<Faults>> {
    let mut outcome = Ok(());
    let faults = state.update_faults(|f| outcome = f.apply(patch));
    outcome.map_err(Error::BadRequest)?;
    tracing::info!(?faults, "faults changed");
    Ok(Json(faults))
}

/// Turns every fault off.
async fn clear_faults(State(state): State<AppState>) -> Json<Faults> {
    Json(state.update_faults(|f| *f = Faults::default()))
}

/// `POST /_emulator/reset?seed=demo|none` (default `none`): deletes every record, file
/// and idempotency key. Fault knobs are left as they are.
async fn reset(State(state): State<AppState>, params: Params) -> Result<Json<Value>> {
    let demo = match params.non_empty("seed").unwrap_or("none") {
        "demo" => true,
        "none" => false,
        other => {
            return Err(Error::BadRequest(format!(
                "seed must be demo or none, got {other:?}"
            )));
        }
    };
    state.with(|s, now| {
        s.clear()?;
        if demo {
            seed::demo(s, now)?;
        }
        Ok(())
    })?;
    get_state(State(state)).await
}

/// Record counts, for tests that check nothing was lost.
async fn get_state(State(state): State<AppState>) -> Result<Json<Value>> {
    let (devboxes, snapshots, blueprints) = state.with(|s, _| Ok(s.counts()))?;
    Ok(Json(json!({
        "devboxes": devboxes,
        "snapshots": snapshots,
        "blueprints": blueprints,
    })))
}

/// Body of `POST /_emulator/clock`: either or both.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockPatch {
    /// Run the lifecycle clock this many times as fast as the wall clock.
    lifecycle_speed: Option<f64>,
    /// Move it forward this many seconds (timers that fall due fire at once).
    advance_seconds: Option<f64>,
}

/// `GET /_emulator/clock` → `{"lifecycle_speed", "lifecycle_now_ms"}`.
async fn get_clock(State(state): State<AppState>) -> Result<Json<Value>> {
    state.with(|s, now| Ok(clock_json(s, now))).map(Json)
}

/// `POST /_emulator/clock` `{"lifecycle_speed": 100}` or `{"advance_seconds": 3600}`:
/// the clock of keep-alive and idle timers; answers it as `GET` does.
async fn set_clock(
    State(state): State<AppState>,
    OptionalJsonBody(patch): OptionalJsonBody<ClockPatch>,
) -> Result<Json<Value>> {
    state
        .with(|s, now| {
            if let Some(speed) = patch.lifecycle_speed {
                s.set_lifecycle_speed(speed, now)?;
            }
            if let Some(seconds) = patch.advance_seconds {
                s.advance_lifecycle(seconds, now)?;
                // Apply what fell due now, so the answer and the next read agree.
                s.tick(now)?;
            }
            Ok(clock_json(s, now))
        })
        .map(Json)
}

fn clock_json(store: &crate::store::Store, now: i64) -> Value {
    let clock = store.clock();
    json!({
        "lifecycle_speed": clock.speed(),
        "lifecycle_now_ms": clock.at(now).round(),
    })
}
