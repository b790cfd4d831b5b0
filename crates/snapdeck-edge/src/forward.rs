//! What the proxy passes through, in each direction: pure rules over header names, the
//! upstream URL, and the last-line redaction of the key from response bodies.
//!
//! Both directions use allowlists. Upstream, the caller's credentials (`Authorization`,
//! the access token, cookies) are dropped and replaced by the Runloop key; downstream,
//! only headers the client needs survive, so nothing the upstream reflects (a
//! `Set-Cookie`, an echoed auth header) can reach the browser.

use std::borrow::Cow;

/// Whether a request header from the browser goes on to the Runloop API.
pub fn forwards_request_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "accept" | "content-type" | "x-request-id" | "user-agent"
    ) || name.starts_with("x-stainless-")
}

/// Whether a response header from the Runloop API goes back to the browser. The retry
/// headers matter: the client honours them (`Retry-After` on 429, `x-should-retry`).
pub fn forwards_response_header(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "content-type"
            | "content-language"
            | "retry-after"
            | "retry-after-ms"
            | "x-should-retry"
            | "x-request-id"
    )
}

/// The upstream URL for a proxied path: `UPSTREAM_URL` (any trailing slash dropped)
/// followed by the path and query exactly as the browser sent them.
pub fn upstream_url(base: &str, path: &str, query: Option<&str>) -> String {
    let base = base.trim().trim_end_matches('/');
    match query {
        Some(q) if !q.is_empty() => format!("{base}{path}?{q}"),
        _ => format!("{base}{path}"),
    }
}

/// Replaces every occurrence of `secret` in `body` by `[redacted]`. The Runloop API has
/// no reason to echo the key, but an error message quoting the request would hand it to
/// the browser; JSON bodies are small, so scanning them costs nothing that matters.
pub fn redact<'a>(body: &'a [u8], secret: &str) -> Cow<'a, [u8]> {
    let needle = secret.as_bytes();
    if needle.is_empty() || find(body, needle).is_none() {
        return Cow::Borrowed(body);
    }
    let mut out = Vec::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = find(rest, needle) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(b"[redacted]");
        rest = &rest[at + needle.len()..];
    }
    out.extend_from_slice(rest);
    Cow::Owned(out)
}

/// [`redact`] for log lines.
pub fn redact_text(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        text.to_owned()
    } else {
        text.replace(secret, "[redacted]")
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_from_the_browser_never_go_upstream() {
        for name in [
            "Authorization",
            "authorization",
            "x-snapdeck-token",
            "Cookie",
            "Origin",
            "Host",
        ] {
            assert!(!forwards_request_header(name), "{name}");
        }
        for name in [
            "Content-Type",
            "accept",
            "x-request-id",
            "X-Stainless-Retry-Count",
        ] {
            assert!(forwards_request_header(name), "{name}");
        }
    }

    #[test]
    fn only_the_headers_a_client_needs_come_back() {
        for name in [
            "content-type",
            "Retry-After",
            "retry-after-ms",
            "x-should-retry",
        ] {
            assert!(forwards_response_header(name), "{name}");
        }
        for name in [
            "set-cookie",
            "authorization",
            "www-authenticate",
            "x-api-key",
            "server",
        ] {
            assert!(!forwards_response_header(name), "{name}");
        }
    }

    #[test]
    fn upstream_url_keeps_path_and_query() {
        assert_eq!(
            upstream_url("http://127.0.0.1:9000/", "/v1/devboxes", Some("limit=5")),
            "http://127.0.0.1:9000/v1/devboxes?limit=5"
        );
        assert_eq!(
            upstream_url(
                "https://api.runloop.ai",
                "/v1/devboxes/disk_snapshots",
                Some("")
            ),
            "https://api.runloop.ai/v1/devboxes/disk_snapshots"
        );
    }

    #[test]
    fn redact_removes_every_copy_of_the_key() {
        let body = br#"{"message":"bad key ak_123, ak_123"}"#;
        assert_eq!(
            redact(body, "ak_123").as_ref(),
            br#"{"message":"bad key [redacted], [redacted]"}"#
        );
    }

    #[test]
    fn log_lines_lose_the_key_too() {
        assert_eq!(
            redact_text("401 for ak_123", "ak_123"),
            "401 for [redacted]"
        );
        assert_eq!(redact_text("nothing", ""), "nothing");
    }

    #[test]
    fn redact_leaves_clean_bodies_untouched() {
        let body = br#"{"devboxes":[]}"#;
        assert!(matches!(redact(body, "ak_123"), Cow::Borrowed(_)));
        assert!(matches!(redact(body, ""), Cow::Borrowed(_)));
    }
}
