//! The plain-data HTTP shapes that endpoints produce and transports consume.
//!
//! Nothing here talks to the network: an endpoint builds a [`Request`] (relative
//! path and query), the [`Client`](crate::Client) turns it into an [`HttpRequest`]
//! (absolute or same-origin URL plus auth headers) and hands it to a
//! [`Transport`](crate::Transport), which answers with an [`HttpResponse`].

use std::fmt::Write as _;

/// The HTTP methods the Runloop API uses (it never uses PUT/PATCH/DELETE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    /// `"GET"` or `"POST"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }

    /// GET is safe to repeat; anything else needs an idempotency key to be retried.
    pub fn is_idempotent(self) -> bool {
        matches!(self, Self::Get)
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an endpoint asks for, relative to the API's base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    /// Starts with `/`, e.g. `/v1/devboxes?status=running&limit=50`.
    pub path_and_query: String,
    /// Extra headers specific to this endpoint (auth and content type are added by the client).
    pub headers: Vec<(String, String)>,
    /// A JSON body, already encoded. `None` for bodiless calls (GET and e.g. `suspend`).
    pub body: Option<Vec<u8>>,
}

impl Request {
    /// A GET of `path` with the given query pairs (already in wire order).
    pub fn get(path: impl Into<String>, query: &Query) -> Self {
        Self {
            method: Method::Get,
            path_and_query: query.append_to(path.into()),
            headers: Vec::new(),
            body: None,
        }
    }

    /// A bodiless POST (e.g. `suspend`, `.../delete`).
    pub fn post_empty(path: impl Into<String>, query: &Query) -> Self {
        Self {
            method: Method::Post,
            path_and_query: query.append_to(path.into()),
            headers: Vec::new(),
            body: None,
        }
    }

    /// A POST with a JSON body.
    pub fn post_json<B: serde::Serialize + ?Sized>(
        path: impl Into<String>,
        body: &B,
    ) -> Result<Self, crate::ApiError> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| crate::ApiError::Decode(format!("could not encode the request: {e}")))?;
        Ok(Self {
            method: Method::Post,
            path_and_query: path.into(),
            headers: Vec::new(),
            body: Some(bytes),
        })
    }

    /// The body as UTF-8 text, for tests and logs.
    pub fn body_str(&self) -> Option<&str> {
        self.body
            .as_deref()
            .and_then(|b| std::str::from_utf8(b).ok())
    }

    /// The body parsed as JSON, for tests.
    pub fn body_json(&self) -> Option<serde_json::Value> {
        self.body
            .as_deref()
            .and_then(|b| serde_json::from_slice(b).ok())
    }
}

/// What a [`Transport`](crate::Transport) sends: a full (or same-origin) URL and every header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: Method,
    /// `base_url + path_and_query`; with an empty base URL this is a same-origin path.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

impl HttpRequest {
    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// What came back. Any status is a response; only failing to talk is a transport error.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names as received; look them up with [`HttpResponse::header`].
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A response with a status and body and no headers (handy in tests and fakes).
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Adds a header (builder style, for tests and fakes).
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// An ordered list of query parameters, encoded the way the Runloop SDKs do:
/// booleans as `true`/`false`, lists comma-joined, and the bracketed metadata filters
/// (`metadata[env]=staging`, `metadata[team][in]=a,b`) with literal brackets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// An empty query.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `key=value` (the value is percent-encoded; the key is used verbatim, so
    /// only pass keys built by this module or known-safe literals).
    pub fn push(&mut self, key: impl Into<String>, value: impl AsRef<str>) -> &mut Self {
        self.pairs
            .push((key.into(), encode_component(value.as_ref())));
        self
    }

    /// Adds `key=value` when the value is present.
    pub fn push_opt<V: ToString>(&mut self, key: &str, value: Option<V>) -> &mut Self {
        if let Some(v) = value {
            self.push(key, v.to_string());
        }
        self
    }

    /// Adds `metadata[<key>]=<value>` (exact-match filter).
    pub fn push_metadata_eq(&mut self, key: &str, value: &str) -> &mut Self {
        let k = format!("metadata[{}]", encode_component(key));
        self.push(k, value)
    }

    /// Adds `metadata[<key>][in]=<v1>,<v2>` (any-of filter). Each value is encoded on
    /// its own and the commas stay literal, since the comma is the list separator.
    pub fn push_metadata_in(&mut self, key: &str, values: &[String]) -> &mut Self {
        let k = format!("metadata[{}][in]", encode_component(key));
        let v = values
            .iter()
            .map(|v| encode_component(v))
            .collect::<Vec<_>>()
            .join(",");
        self.pairs.push((k, v));
        self
    }

    /// True when no parameter was added.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// `a=1&b=2` (without the leading `?`).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        for (i, (k, v)) in self.pairs.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            out.push_str(k);
            out.push('=');
            out.push_str(v);
        }
        out
    }

    /// `path` or `path?query`.
    pub fn append_to(&self, mut path: String) -> String {
        if !self.is_empty() {
            path.push('?');
            path.push_str(&self.encode());
        }
        path
    }
}

/// Percent-encodes everything except RFC 3986 unreserved characters, so `&`, `=`, `+`,
/// `#`, `,` and spaces inside a value can never change the query's structure.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Percent-encodes one path segment (an id), so an id can never escape its segment.
pub fn encode_path_segment(s: &str) -> String {
    encode_component(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded_and_keys_keep_brackets() {
        let mut q = Query::new();
        q.push("status", "running")
            .push_metadata_eq("env", "stag ing&x=1")
            .push_metadata_in("team", &["a".into(), "b,c".into()]);
        assert_eq!(
            q.encode(),
            "status=running&metadata[env]=stag%20ing%26x%3D1&metadata[team][in]=a,b%2Cc"
        );
    }

    #[test]
    fn empty_query_adds_no_question_mark() {
        assert_eq!(
            Query::new().append_to("/v1/devboxes".into()),
            "/v1/devboxes"
        );
    }

    #[test]
    fn non_ascii_is_utf8_percent_encoded() {
        assert_eq!(encode_component("é/"), "%C3%A9%2F");
    }

    #[test]
    fn headers_are_case_insensitive() {
        let r = HttpResponse::new(200, "").with_header("Retry-After", "2");
        assert_eq!(r.header("retry-after"), Some("2"));
    }
}
