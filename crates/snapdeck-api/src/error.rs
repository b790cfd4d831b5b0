//! Errors: "could not talk" ([`ApiError::Transport`]), "the server said no"
//! ([`ApiError::Api`]) and "could not read the answer" ([`ApiError::Decode`]) are kept
//! apart, because the dashboard reacts differently to each.

use crate::http::HttpResponse;

/// Why a transport could not produce a response at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// Connection refused, DNS, TLS, CORS rejection, network drop…
    Network(String),
    /// The request took longer than the client's timeout.
    Timeout,
    /// The caller cancelled the request (e.g. the page went away and aborted its signal).
    Aborted,
}

impl TransportError {
    /// Network errors and timeouts are worth another try; an abort never is.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, Self::Aborted)
    }
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Network(m) => f.write_str(m),
            Self::Timeout => f.write_str("the request timed out"),
            Self::Aborted => f.write_str("the request was cancelled"),
        }
    }
}

impl std::error::Error for TransportError {}

/// Everything a call can fail with. `Clone` so it can flow through reactive resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// The API could not be reached (network, timeout, CORS). Usually worth a retry.
    Transport(String),
    /// The API answered with a non-2xx status. `message` is the body's `message` field
    /// when it is JSON, else the raw text (trimmed and shortened).
    Api { status: u16, message: String },
    /// The API answered 2xx but the body was not what we expected.
    Decode(String),
    /// The request was cancelled by the caller; nothing to report to the person.
    Aborted,
}

/// Longest raw body text kept in an error message, so an HTML error page does not
/// flood the UI.
const MAX_MESSAGE_CHARS: usize = 300;

/// Longest `message` field kept. The API's own words carry facts a caller acts on (a
/// refused blueprint delete names every dependent snapshot), so they are cut only when
/// absurdly long.
const MAX_API_MESSAGE_CHARS: usize = 16_384;

impl ApiError {
    /// Builds an [`ApiError::Api`] from a non-2xx response, extracting a readable message.
    pub fn from_response(resp: &HttpResponse) -> Self {
        Self::Api {
            status: resp.status,
            message: extract_message(&resp.body),
        }
    }

    /// The HTTP status, for [`ApiError::Api`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// 404.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// 409: a deliberate refusal (shutdown with a snapshot in progress, delete of a
    /// snapshot that is not complete).
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(409)
    }

    /// Whether trying the same thing again later may succeed: transport failures,
    /// 408, 429 and 5xx. 409 is *not* retryable in snapdeck (see
    /// [`RetryPolicy`](crate::RetryPolicy) for why); decode errors and aborts are not either.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport(_) => true,
            Self::Api { status, .. } => is_retryable_status(*status),
            Self::Decode(_) | Self::Aborted => false,
        }
    }
}

impl From<TransportError> for ApiError {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::Aborted => Self::Aborted,
            other => Self::Transport(other.to_string()),
        }
    }
}

/// Statuses worth retrying: 408, 429 and 5xx (not 409, unlike the official SDKs).
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429) || status >= 500
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Transport(m) => write!(f, "Could not reach the API: {m}"),
            Self::Decode(m) => write!(f, "The API sent an answer snapdeck could not read: {m}"),
            Self::Aborted => f.write_str("The request was cancelled."),
            Self::Api { status, message } => {
                let what = match *status {
                    400 => "The API rejected the request",
                    401 => "The API key was rejected",
                    403 => "The API key is not allowed to do this",
                    404 => "Not found",
                    408 => "The API timed out waiting",
                    409 => "Not possible right now",
                    422 => "The API could not accept these values",
                    429 => "Too many requests; slow down and try again",
                    s if s >= 500 => "The API had an internal problem",
                    _ => "The API answered with an error",
                };
                if message.is_empty() {
                    write!(f, "{what} ({status}).")
                } else {
                    write!(f, "{what} ({status}): {message}")
                }
            }
        }
    }
}

impl std::error::Error for ApiError {}

/// `{"message": "..."}` → the message; `{"error": {"message": ...}}` too; other JSON →
/// compact JSON text; anything else → the raw text, trimmed and shortened.
pub fn extract_message(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        let direct = v.get("message").and_then(|m| m.as_str());
        let nested = v
            .get("error")
            .and_then(|e| e.get("message").or(Some(e)))
            .and_then(|m| m.as_str());
        if let Some(m) = direct.or(nested) {
            return shorten(m.trim(), MAX_API_MESSAGE_CHARS);
        }
        if !v.is_null() {
            return shorten(&v.to_string(), MAX_MESSAGE_CHARS);
        }
    }
    shorten(String::from_utf8_lossy(body).trim(), MAX_MESSAGE_CHARS)
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_comes_from_json_message_field() {
        let r = HttpResponse::new(401, r#"{"message":"bad key","code":7}"#);
        let e = ApiError::from_response(&r);
        assert_eq!(
            e,
            ApiError::Api {
                status: 401,
                message: "bad key".into()
            }
        );
        assert_eq!(e.to_string(), "The API key was rejected (401): bad key");
    }

    #[test]
    fn message_falls_back_to_raw_text() {
        let r = HttpResponse::new(502, "  Bad Gateway\n");
        assert_eq!(
            ApiError::from_response(&r).to_string(),
            "The API had an internal problem (502): Bad Gateway"
        );
    }

    #[test]
    fn nested_error_message_is_understood() {
        assert_eq!(extract_message(br#"{"error":{"message":"nope"}}"#), "nope");
        assert_eq!(extract_message(br#"{"error":"nope"}"#), "nope");
    }

    #[test]
    fn long_bodies_are_shortened() {
        let body = "x".repeat(1000);
        let m = extract_message(body.as_bytes());
        assert_eq!(m.chars().count(), MAX_MESSAGE_CHARS + 1);
    }

    #[test]
    fn an_api_message_that_names_many_ids_is_kept_whole() {
        let ids: Vec<String> = (0..40).map(|i| format!("snp_{i:021}")).collect();
        let message = format!(
            "Blueprint bpt_1 has dependent snapshots: {}",
            ids.join(", ")
        );
        let body = serde_json::json!({ "message": message }).to_string();
        assert_eq!(extract_message(body.as_bytes()), message);
        let huge = serde_json::json!({ "message": "y".repeat(20_000) }).to_string();
        assert_eq!(
            extract_message(huge.as_bytes()).chars().count(),
            MAX_API_MESSAGE_CHARS + 1
        );
    }

    #[test]
    fn empty_message_still_reads_well() {
        let e = ApiError::Api {
            status: 404,
            message: String::new(),
        };
        assert_eq!(e.to_string(), "Not found (404).");
    }

    #[test]
    fn conflict_is_not_retryable_but_rate_limit_and_5xx_are() {
        let api = |status| ApiError::Api {
            status,
            message: String::new(),
        };
        assert!(!api(409).is_retryable());
        assert!(!api(400).is_retryable());
        assert!(api(429).is_retryable());
        assert!(api(408).is_retryable());
        assert!(api(503).is_retryable());
        assert!(ApiError::Transport("x".into()).is_retryable());
        assert!(!ApiError::Aborted.is_retryable());
        assert!(!ApiError::Decode("x".into()).is_retryable());
    }
}
