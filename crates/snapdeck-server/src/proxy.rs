//! Proxy mode (`--upstream URL`): the same server in front of the real Runloop API. The
//! dashboard calls its own origin (no CORS needed, whatever the real API does), and the
//! server adds `Authorization: Bearer <--upstream-api-key>` so no browser ever holds
//! the key. Without an upstream key the caller's own `Authorization` passes through.
//!
//! Bodies are buffered both ways: Runloop's answers are small JSON documents, and
//! buffering keeps error handling to one place. Hop-by-hop headers are not forwarded.
//! Where to forward, and with which key, is [`crate::config::Upstream`].

use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderMap, HeaderName, header};
use axum::response::Response;

use crate::error::{Error, Result};
use crate::state::AppState;

/// Largest request body forwarded (file writes are the big ones).
const MAX_BODY: usize = 32 * 1024 * 1024;

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1), plus the
/// ones the HTTP client computes itself.
fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
            | "content-length"
    )
}

/// Headers that say which page, in which browser, made the request.
fn is_page_context(name: &HeaderName) -> bool {
    let name = name.as_str();
    matches!(name, "origin" | "referer" | "cookie") || name.starts_with("sec-fetch-")
}

/// Forwards one `/v1` request upstream and answers what came back, status and all.
pub async fn forward(
    State(state): State<AppState>,
    // The full URI: inside `nest("/v1")` the request's own URI has lost its prefix.
    OriginalUri(uri): OriginalUri,
    req: Request,
) -> Result<Response> {
    let Some(upstream) = state.config().upstream.clone() else {
        return Err(Error::NotFound("no upstream configured".into()));
    };
    let (parts, body) = req.into_parts();
    let path = uri.path_and_query().map_or("/", |pq| pq.as_str());
    let url = format!("{}{path}", upstream.base_url);
    let body = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|e| Error::Rejected {
            status: axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            message: format!("request body: {e}"),
        })?;

    let mut headers = HeaderMap::new();
    for (name, value) in &parts.headers {
        let replaced = name == header::AUTHORIZATION && upstream.api_key.is_some();
        // The caller token is this server's business, never the upstream's; and the
        // browser's page context (origin, cookies, fetch metadata) describes the page
        // that called this server — upstream, this server is the caller.
        let ours = name.as_str() == snapdeck_core::access::TOKEN_HEADER || is_page_context(name);
        if !is_hop_by_hop(name) && !replaced && !ours {
            headers.append(name.clone(), value.clone());
        }
    }
    let mut request = upstream
        .client
        .request(parts.method.clone(), &url)
        .headers(headers);
    if let Some(key) = &upstream.api_key {
        request = request.bearer_auth(key);
    }
    if !body.is_empty() {
        request = request.body(body);
    }
    let answer = request.send().await.map_err(|e| upstream_error(&e))?;

    let status = answer.status();
    let mut response_headers = HeaderMap::new();
    for (name, value) in answer.headers() {
        // CORS is this server's business (its own layer answers for it).
        let cors = name.as_str().starts_with("access-control-") || name == header::VARY;
        if !is_hop_by_hop(name) && !cors {
            response_headers.append(name.clone(), value.clone());
        }
    }
    let bytes = answer.bytes().await.map_err(|e| upstream_error(&e))?;
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    *response.headers_mut() = response_headers;
    Ok(response)
}

fn upstream_error(e: &reqwest::Error) -> Error {
    // The upstream URL is configuration, not a secret, and says which hop failed.
    if e.is_timeout() {
        Error::UpstreamTimeout(format!("the Runloop API did not answer in time: {e}"))
    } else {
        Error::BadGateway(format!("cannot reach the Runloop API: {e}"))
    }
}
