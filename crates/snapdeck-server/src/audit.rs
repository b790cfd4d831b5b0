//! `/_snapdeck/audit`: the audit trail of what snapdeck did through this server — every
//! item its delete jobs settled (written by the jobs, see [`crate::jobs`]) and what the
//! app recorded of its own actions — to read, filter and export as JSON or CSV. Behind
//! the same Bearer check as `/v1`; the entries live beside the jobs' tables, so this
//! answers 503 where jobs do not run. The record and its rules are
//! `snapdeck_core::audit`, shared with the app and the edge.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;
use snapdeck_core::audit::{
    self, Actor, AuditEntry, AuditFilter, AuditList, MAX_RECORD, Named, Recorded,
};

use crate::clock::now_ms;
use crate::error::{Error, JsonBody, Params, Result};
use crate::jobs::{Running, bearer};
use crate::query;
use crate::state::AppState;

/// Keys shorter than this are not looked for in entries.
const MIN_SECRET: usize = 8;

/// The routes, relative to `/_snapdeck/audit`, behind `/v1`'s auth.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(list_audit).post(record_audit))
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
        .layer(from_fn_with_state(state, crate::middleware::auth))
}

/// How `GET` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
}

/// `GET /_snapdeck/audit?actor=&action=&outcome=&q=&since=&until=&limit=&format=json|csv`:
/// the newest matching entries, newest first.
async fn list_audit(Running(jobs): Running, params: Params) -> Result<Response> {
    let filter = AuditFilter::from_query(|name| params.get(name)).map_err(Error::BadRequest)?;
    let limit = query::limit_within(&params, audit::DEFAULT_LIMIT, audit::MAX_LIMIT)?;
    let format = match params.non_empty("format") {
        None | Some("json") => Format::Json,
        Some("csv") => Format::Csv,
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "format must be json or csv, got {other:?}"
            )));
        }
    };
    let (entries, has_more) = jobs.audit(&filter, limit)?;
    Ok(match format {
        Format::Json => Json(AuditList { entries, has_more }).into_response(),
        Format::Csv => {
            let name = format!(
                "attachment; filename=\"snapdeck-audit-{}.csv\"",
                &audit::iso_utc(now_ms())[..10]
            );
            let mut headers = HeaderMap::new();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            if let Ok(value) = HeaderValue::from_str(&name) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            // The CSV has no room for it: say in a header that the oldest were left out.
            headers.insert(
                "x-snapdeck-has-more",
                HeaderValue::from_static(if has_more { "true" } else { "false" }),
            );
            (headers, audit::to_csv(&entries)).into_response()
        }
    })
}

/// `POST /_snapdeck/audit` with `{"entries": [...]}`: what the app did itself through
/// this server (actor `this_browser`). A retried request stores nothing twice (entries
/// are known by id). 201 when something was stored, 200 when all was known already.
async fn record_audit(
    Running(jobs): Running,
    headers: HeaderMap,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response> {
    let entries = parse_entries(&body)?;
    let config = state.config();
    let secrets: Vec<&str> = [
        bearer(&headers),
        config.api_key.as_deref(),
        config.upstream.as_ref().and_then(|u| u.api_key.as_deref()),
        config.access.token(),
    ]
    .into_iter()
    .flatten()
    // A shorter "key" (any key passes an emulator without --api-key) is no secret, and
    // would refuse every entry that happens to contain it.
    .filter(|k| k.trim().len() >= MIN_SECRET)
    .collect();
    for (n, entry) in entries.iter().enumerate() {
        if let Some(field) = field_holding(entry, &secrets) {
            return Err(Error::BadRequest(format!(
                "entries[{n}].{field} holds an API key: an audit entry must never contain one"
            )));
        }
    }
    let recorded = jobs.record_audit(&entries)?;
    let status = if recorded > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let answer = Recorded {
        recorded,
        already_recorded: entries.len() - recorded,
    };
    Ok((status, Json(answer)).into_response())
}

/// The entries of a record request, each checked; the error says which one and why.
fn parse_entries(body: &Value) -> Result<Vec<AuditEntry>> {
    let bad = |msg: String| Error::BadRequest(msg);
    let Some(list) = body.get("entries").and_then(Value::as_array) else {
        return Err(bad(
            "the body must be {\"entries\": [ … ]}, a list of audit entries".into(),
        ));
    };
    if list.is_empty() || list.len() > MAX_RECORD {
        return Err(bad(format!(
            "entries must hold 1 to {MAX_RECORD} entries, got {}",
            list.len()
        )));
    }
    let mut entries = Vec::with_capacity(list.len());
    for (n, value) in list.iter().enumerate() {
        let Some(object) = value.as_object() else {
            return Err(bad(format!("entries[{n}] must be an object")));
        };
        // Unknown fields are refused, not dropped: nothing lands in the trail unseen
        // (an `api_key` field, say).
        if let Some(unknown) = object
            .keys()
            .find(|k| !AuditEntry::FIELDS.contains(&k.as_str()))
        {
            return Err(bad(format!(
                "entries[{n}]: unknown field {unknown:?} (an entry has {})",
                AuditEntry::FIELDS.join(", ")
            )));
        }
        let entry: AuditEntry =
            serde_json::from_value(value.clone()).map_err(|e| bad(format!("entries[{n}]: {e}")))?;
        entry
            .validate()
            .map_err(|e| bad(format!("entries[{n}]: {e}")))?;
        if entry.actor != Actor::ThisBrowser {
            return Err(bad(format!(
                "entries[{n}]: actor must be {}: this server writes its own entries, and \
                 takes only what a browser did",
                Actor::ThisBrowser.as_str()
            )));
        }
        entries.push(entry);
    }
    Ok(entries)
}

/// The first text field of `entry` that contains one of `secrets`.
fn field_holding(entry: &AuditEntry, secrets: &[&str]) -> Option<&'static str> {
    let fields = [
        ("id", Some(entry.id.as_str())),
        ("target_id", Some(entry.target_id.as_str())),
        ("target_name", entry.target_name.as_deref()),
        ("devbox_id", entry.devbox_id.as_deref()),
        ("job_id", entry.job_id.as_deref()),
        ("policy", entry.policy.as_deref()),
        ("reason", entry.reason.as_deref()),
    ];
    fields.into_iter().find_map(|(name, value)| {
        value
            .is_some_and(|v| secrets.iter().any(|s| v.contains(s)))
            .then_some(name)
    })
}
