//! The outermost layer: who may use this server at all, decided by
//! [`snapdeck_core::access`] (host, origin, caller token) and shared with the edge
//! worker, plus the CORS answers that decision allows and the headers every answer
//! carries. It replaces a permissive CORS layer: a grant now names an allowed origin,
//! never `*`.
//!
//! * Refused requests never reach a handler: 421 (unknown host), 403 (a foreign page),
//!   401 (caller token), each with a JSON `message`.
//! * A preflight from an allowed origin is answered here (204), without a token.
//! * The caller token is made at first start in proxy mode and kept in the data dir
//!   ([`load_or_create_token`]); it is never logged.

use std::path::Path;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use snapdeck_core::access::{Caller, Denied};

use crate::error::Error;
use crate::state::AppState;

/// Response headers an allowed page may read (the retry hints the client acts on).
const EXPOSED: &str = "retry-after, x-should-retry, x-idempotent-replay, x-request-id";

/// Applies the access policy of [`crate::Config::access`] to every request.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let policy = &state.config().access;
    let headers = req.headers();
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    // HTTP/2 carries the host in `:authority`, which hyper keeps in the URI.
    let host = text(header::HOST).or_else(|| req.uri().authority().map(|a| a.as_str()));
    let preflight = req.method() == Method::OPTIONS
        && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let caller = Caller {
        method: req.method().as_str(),
        path: req.uri().path(),
        host,
        origin: text(header::ORIGIN),
        sec_fetch_site: headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()),
        preflight,
        authorization: text(header::AUTHORIZATION),
        token_header: headers
            .get(snapdeck_core::access::TOKEN_HEADER)
            .and_then(|v| v.to_str().ok()),
    };
    let granted = match policy.check(&caller) {
        Ok(granted) => granted,
        Err(denied) => {
            tracing::info!(
                method = caller.method,
                path = caller.path,
                status = denied.status(),
                "refused: {}",
                denied_reason(&denied)
            );
            let mut response = refusal(&denied);
            let headers = response.headers_mut();
            if matches!(denied, Denied::MissingToken | Denied::WrongToken)
                && let Some(origin) = policy
                    .cors_grant(&caller)
                    .and_then(|o| HeaderValue::from_str(&o).ok())
            {
                headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
                headers.append(header::VARY, HeaderValue::from_static("origin"));
            }
            secure(headers);
            return response;
        }
    };
    let cors = granted
        .cors_origin
        .and_then(|origin| HeaderValue::from_str(&origin).ok());
    let mut response = match (&cors, preflight) {
        (Some(origin), true) => preflight_answer(origin, req.headers()),
        _ => next.run(req).await,
    };
    let headers = response.headers_mut();
    if let Some(origin) = cors {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED),
        );
    }
    if granted.family.guarded() || headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        headers.append(header::VARY, HeaderValue::from_static("origin"));
    }
    secure(headers);
    response
}

/// What a log line says about a refusal: the kind, not the caller's token.
fn denied_reason(denied: &Denied) -> &'static str {
    match denied {
        Denied::UnknownHost(_) => "unknown host",
        Denied::ForeignOrigin(_) => "foreign origin",
        Denied::CrossSite(_) => "cross-site request",
        Denied::MissingToken => "no access token",
        Denied::WrongToken => "wrong access token",
    }
}

fn refusal(denied: &Denied) -> Response {
    Error::Rejected {
        status: StatusCode::from_u16(denied.status()).unwrap_or(StatusCode::FORBIDDEN),
        message: denied.message(),
    }
    .into_response()
}

/// 204 with the methods and the asked-for headers (mirrored: a wildcard does not cover
/// `Authorization`), cached for a day.
fn preflight_answer(origin: &HeaderValue, request: &HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, DELETE, OPTIONS"),
    );
    let asked = request
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_static(snapdeck_core::access::ALLOWED_REQUEST_HEADERS)
        });
    headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked);
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from(86_400));
    headers.append(
        header::VARY,
        HeaderValue::from_static(
            "origin, access-control-request-method, access-control-request-headers",
        ),
    );
    response
}

/// Headers every answer carries, app and API alike.
fn secure(headers: &mut HeaderMap) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
}

/// Name of the file, in the data directory, that keeps the caller token.
pub const TOKEN_FILE: &str = "access-token";

/// The caller token of a key-injecting proxy: read from `data/access-token`, or made
/// (256 random bits, hex) and written there with owner-only permissions at first start.
/// `None` for `data`: a new token for this process only (`--ephemeral`).
pub fn load_or_create_token(data: Option<&Path>) -> std::io::Result<String> {
    let Some(dir) = data else {
        return Ok(new_token());
    };
    let path = dir.join(TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(kept) if !kept.trim().is_empty() => return Ok(kept.trim().to_owned()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::create_dir_all(dir)?;
    let token = new_token();
    write_private(&path, &token)?;
    Ok(token)
}

fn new_token() -> String {
    // Two v4 UUIDs: 244 bits from the OS's random source.
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_made_once_kept_private_and_read_back() {
        let dir = tempfile::tempdir().expect("ok");
        let first = load_or_create_token(Some(dir.path())).expect("ok");
        assert_eq!(first.len(), 64);
        assert!(first.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(load_or_create_token(Some(dir.path())).expect("ok"), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(TOKEN_FILE))
                .expect("ok")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_ne!(load_or_create_token(None).expect("ok"), first);
    }
}
