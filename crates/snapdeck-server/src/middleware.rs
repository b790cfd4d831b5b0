//! The `/v1` request pipeline around the handlers: fault injection, Bearer auth, and
//! `x-request-id` idempotency (outermost first).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::db::StoredResponse;
use crate::error::Error;
use crate::faults::Verdict;
use crate::state::AppState;

/// Injected latency, 5xx and 429 (dropped connections happen in [`crate::serve`], where
/// the connection is). Faulted requests never reach the handler, so they change nothing.
pub async fn faults(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(faults) = state.request_faults() else {
        return next.run(req).await;
    };
    if faults.fault_latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(faults.fault_latency_ms)).await;
    }
    match faults.verdict() {
        Verdict::Pass => next.run(req).await,
        Verdict::ServerError => {
            Error::Injected(axum::http::StatusCode::SERVICE_UNAVAILABLE).into_response()
        }
        Verdict::RateLimited => Error::RateLimited {
            retry_after_s: faults.fault_retry_after_s,
        }
        .into_response(),
    }
}

/// `Authorization: Bearer <key>`: any non-empty key, or exactly `--api-key` when set
/// (in proxy mode with an upstream key: no key needed unless `--api-key` is set).
/// The key itself is never logged.
pub async fn auth(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| !t.is_empty());
    let config = state.config();
    // A proxy that injects its own key needs none from its callers (that is its point),
    // unless --api-key asks for one.
    let key_optional = config.upstream.as_ref().is_some_and(|u| u.injects_key());
    let ok = match (token, &config.api_key) {
        (None, None) if key_optional => true,
        (None, _) => false,
        (Some(given), Some(expected)) => constant_time_eq(given.as_bytes(), expected.as_bytes()),
        (Some(_), None) => true,
    };
    if ok {
        next.run(req).await
    } else {
        let message = if token.is_none() {
            "missing API key: send Authorization: Bearer <key>"
        } else {
            "invalid API key"
        };
        Error::Unauthorized(message.into()).into_response()
    }
}

/// Compares without an early exit, so timing does not reveal a prefix of the key.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Requests that only read, even though they are POSTs: replaying their first answer
/// would be wrong (a long poll must see the current status).
fn is_read_only(path: &str) -> bool {
    path.ends_with("/wait_for_status") || path.ends_with("/read_file_contents")
}

/// Repeated non-GET requests with the same `x-request-id` get the first answer again
/// (the SDKs reuse the id on every retry, so a retried create must not create twice).
///
/// Only successes are remembered: a failed request changed nothing, so running it again
/// is both safe and what the caller wants (a 409 may have become a 200 meanwhile).
/// Answers are kept in SQLite for a day and so survive a restart.
pub async fn idempotency(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || is_read_only(req.uri().path())
    {
        return next.run(req).await;
    }
    let Some(key) = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty() && k.len() <= 256)
        .map(str::to_owned)
    else {
        return next.run(req).await;
    };
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();

    let lock = state.request_lock(&key);
    let response = {
        let _guard = lock.lock().await;
        match state.with(|s, _| s.replay(&key, &method, &path)) {
            Ok(Some(stored)) => replayed(stored),
            Ok(None) => run_and_remember(&state, req, next, &key, &method, &path).await,
            Err(e) => e.into_response(),
        }
    };
    state.release_request_lock(&key, lock);
    response
}

async fn run_and_remember(
    state: &AppState,
    req: Request,
    next: Next,
    key: &str,
    method: &str,
    path: &str,
) -> Response {
    let response = next.run(req).await;
    if !response.status().is_success() {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, 64 * 1024 * 1024).await {
        Ok(bytes) => bytes,
        Err(e) => return Error::Internal(format!("buffering a response: {e}")).into_response(),
    };
    let stored = StoredResponse {
        status: parts.status.as_u16(),
        content_type: parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: bytes.to_vec(),
    };
    if let Err(e) = state.with(|s, now| s.remember(key, method, path, &stored, now)) {
        // The operation happened; failing to remember it only weakens a later retry.
        tracing::warn!(error = %e, "could not store an idempotent response");
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn replayed(stored: StoredResponse) -> Response {
    let mut response = Response::new(Body::from(stored.body));
    *response.status_mut() =
        axum::http::StatusCode::from_u16(stored.status).unwrap_or(axum::http::StatusCode::OK);
    let headers = response.headers_mut();
    if let Some(ct) = stored
        .content_type
        .and_then(|ct| HeaderValue::from_str(&ct).ok())
    {
        headers.insert(header::CONTENT_TYPE, ct);
    }
    headers.insert("x-idempotent-replay", HeaderValue::from_static("true"));
    response
}
