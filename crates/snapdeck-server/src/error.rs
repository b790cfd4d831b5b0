//! The one error type of the server, and the extractors that turn malformed input into it.
//!
//! Every failure, from a missing devbox to a body that is not JSON, leaves the server as
//! the same shape: a status code and `{"message": "..."}` ([`snapdeck_api::ErrorBody`]).
//! Internal details (SQLite errors, poisoned locks) are logged, never sent.

use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use snapdeck_api::ErrorBody;

/// `Result` with the server's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything a handler can answer instead of a success.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 400: the request is wrong for the resource's current state or its parameters.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no usable `Authorization: Bearer` header.
    #[error("{0}")]
    Unauthorized(String),
    /// 404.
    #[error("{0}")]
    NotFound(String),
    /// 405 for a known path with the wrong method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 408: a long poll ran out before the awaited state arrived.
    #[error("{0}")]
    Timeout(String),
    /// 409: e.g. shutdown while snapshots are in progress, delete of an unfinished snapshot.
    #[error("{0}")]
    Conflict(String),
    /// 422: well-formed JSON of the wrong shape.
    #[error("{0}")]
    Unprocessable(String),
    /// A rejection from axum's own extractors (413, 415, …) with its status.
    #[error("{message}")]
    Rejected { status: StatusCode, message: String },
    /// 429 injected by the fault layer.
    #[error("rate limited")]
    RateLimited { retry_after_s: u64 },
    /// A 5xx injected by the fault layer.
    #[error("emulated server error")]
    Injected(StatusCode),
    /// 502 in proxy mode: the upstream API could not be reached.
    #[error("{0}")]
    BadGateway(String),
    /// 504 in proxy mode: the upstream API did not answer in time.
    #[error("{0}")]
    UpstreamTimeout(String),
    /// 500 that is part of the emulated behaviour (a synchronous snapshot that failed):
    /// the message is meant for the caller.
    #[error("{0}")]
    Failed(String),
    /// 500 for a bug or an I/O failure: logged in full, sent as a generic message.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The HTTP status this error is sent with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Rejected { status, .. } => *status,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Injected(status) => *status,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::UpstreamTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Self::Failed(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Deliberate refusals carry `x-should-retry: false`: the Runloop SDKs otherwise retry
    /// 408/409/5xx up to five times (~30 s) before the caller sees the answer, and a retry
    /// cannot change it. Injected faults and 429 stay retryable, which is their point.
    fn should_not_retry(&self) -> bool {
        matches!(
            self,
            Self::BadRequest(_)
                | Self::Conflict(_)
                | Self::Unprocessable(_)
                | Self::NotFound(_)
                | Self::Failed(_)
        )
    }

    /// Shorthand for a 404 about a resource kind and id.
    pub fn not_found(kind: &str, id: &str) -> Self {
        Self::NotFound(format!("{kind} {id} not found"))
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Self::Internal(format!("sqlite: {e}"))
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Self::Internal(format!("json: {e}"))
    }
}

impl From<PathRejection> for Error {
    fn from(e: PathRejection) -> Self {
        Self::Rejected {
            status: e.status(),
            message: e.body_text(),
        }
    }
}

impl From<BytesRejection> for Error {
    fn from(e: BytesRejection) -> Self {
        Self::Rejected {
            status: e.status(),
            message: e.body_text(),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            Self::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                "internal server error".to_owned()
            }
            Self::Injected(_) => "emulated server error (fault injection)".to_owned(),
            Self::RateLimited { .. } => "rate limit exceeded (fault injection)".to_owned(),
            other => other.to_string(),
        };
        let mut response = (status, axum::Json(ErrorBody { message })).into_response();
        let headers = response.headers_mut();
        if self.should_not_retry() {
            headers.insert("x-should-retry", HeaderValue::from_static("false"));
        }
        if let Self::RateLimited { retry_after_s } = self {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
        }
        response
    }
}

/// Classifies a serde_json failure the way axum's `Json` does: broken syntax is 400,
/// valid JSON of the wrong shape is 422.
fn json_error(e: &serde_json::Error) -> Error {
    use serde_json::error::Category;
    match e.classify() {
        Category::Data => Error::Unprocessable(format!("invalid request body: {e}")),
        Category::Syntax | Category::Eof | Category::Io => {
            Error::BadRequest(format!("malformed JSON body: {e}"))
        }
    }
}

/// A required JSON body. Unlike `axum::Json` it does not insist on a `Content-Type`
/// (the SDKs always send one, curl users often forget), and its rejections are [`Error`]s.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self> {
        let bytes = axum::body::Bytes::from_request(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::BadRequest("request body is required".into()));
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| json_error(&e))
    }
}

/// An optional JSON body: empty, whitespace or `null` mean `T::default()`. Bodiless POSTs
/// arrive with no body (TS SDK) or an empty one labelled JSON (Python SDK); both are fine.
#[derive(Debug, Clone, Default)]
pub struct OptionalJsonBody<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self> {
        let bytes = axum::body::Bytes::from_request(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(T::default()));
        }
        serde_json::from_slice::<Option<T>>(&bytes)
            .map(|v| Self(v.unwrap_or_default()))
            .map_err(|e| json_error(&e))
    }
}

/// The resource id in the path (`/v1/devboxes/{id}`), with rejections as [`Error`].
#[derive(Debug, Clone)]
pub struct Id(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        let axum::extract::Path(id) =
            axum::extract::Path::<String>::from_request_parts(parts, state).await?;
        Ok(Self(id))
    }
}

/// The query string as ordered pairs. A plain map cannot hold the generic
/// `metadata[<key>]` filters, and `serde_urlencoded` into pairs never fails on shape.
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(query)
            .map(Params)
            .map_err(|e| Error::BadRequest(format!("malformed query string: {e}")))
    }
}

impl Params {
    /// The last value of `name` (the last one wins, as in most frameworks).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A non-empty value of `name`.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// A boolean flag written `true`/`false` (as the SDKs do); `default` when absent.
    pub fn bool(&self, name: &str, default: bool) -> Result<bool> {
        match self.get(name) {
            None | Some("") => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") || v == "0" => Ok(false),
            Some(v) => Err(Error::BadRequest(format!(
                "{name} must be true or false, got {v:?}"
            ))),
        }
    }
}
