//! `/v1/blueprints`: just enough to start devboxes from a blueprint and to show where a
//! snapshot's disk came from. Builds finish by themselves after `--blueprint-build-ms`.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use snapdeck_api::{Blueprint, BlueprintList, CreateBlueprint};

use crate::error::{Error, Id, JsonBody, Params, Result};
use crate::query;
use crate::state::AppState;
use crate::store::BlueprintQuery;

/// Routes, relative to `/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/blueprints", get(list_blueprints).post(create_blueprint))
        .route("/blueprints/list_public", get(list_public))
        .route("/blueprints/{id}", get(get_blueprint))
        .route("/blueprints/{id}/logs", get(build_logs))
        .route("/blueprints/{id}/delete", post(delete_blueprint))
}

/// The body is kept verbatim as the blueprint's `parameters` (fields snapdeck does not
/// model, like `services`, are echoed back as given).
async fn create_blueprint(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<serde_json::Value>,
) -> Result<Json<Blueprint>> {
    let req: CreateBlueprint = serde_json::from_value(body.clone())
        .map_err(|e| Error::Unprocessable(format!("invalid request body: {e}")))?;
    state
        .with(|s, now| s.create_blueprint(req, body, now))
        .map(Json)
}

/// `name` (exact), `status`, `limit`, `starting_after`, `include_total_count`.
async fn list_blueprints(
    State(state): State<AppState>,
    params: Params,
) -> Result<Json<BlueprintList>> {
    let query = BlueprintQuery {
        name: params.non_empty("name").map(str::to_owned),
        status: params.non_empty("status").map(str::to_owned),
        paging: query::paging(&params)?,
    };
    state.with(|s, _| s.list_blueprints(&query)).map(Json)
}

async fn get_blueprint(State(state): State<AppState>, Id(id): Id) -> Result<Json<Blueprint>> {
    state.with(|s, _| s.get_blueprint(&id)).map(Json)
}

async fn delete_blueprint(
    State(state): State<AppState>,
    Id(id): Id,
) -> Result<Json<serde_json::Value>> {
    state.with(|s, _| s.delete_blueprint(&id))?;
    Ok(Json(serde_json::json!({})))
}

/// `GET /v1/blueprints/list_public`: the emulator has no public blueprints.
async fn list_public(params: Params) -> Result<Json<BlueprintList>> {
    query::limit(&params)?;
    Ok(Json(BlueprintList {
        blueprints: Vec::new(),
        has_more: false,
        total_count: Some(0),
    }))
}

/// `GET /v1/blueprints/{id}/logs` → `{blueprint_id, logs: [{level, message,
/// timestamp_ms}]}`: the build's lines so far (see [`crate::store::Store::build_logs`]).
async fn build_logs(State(state): State<AppState>, Id(id): Id) -> Result<Json<serde_json::Value>> {
    let logs = state.with(|s, now| s.build_logs(&id, now))?;
    Ok(Json(
        serde_json::json!({ "blueprint_id": id, "logs": logs }),
    ))
}
