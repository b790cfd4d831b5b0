//! reqwest + tokio transport for tools, the proxy and benchmarks.

use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::error::TransportError;
use crate::http::{HttpRequest, HttpResponse, Method};
use crate::transport::Transport;

/// A transport over a shared [`reqwest::Client`]; sleeps with tokio.
#[derive(Debug, Clone)]
pub struct NativeTransport {
    http: reqwest::Client,
    random: Arc<(RandomState, AtomicU64)>,
}

impl Default for NativeTransport {
    fn default() -> Self {
        Self::new(reqwest::Client::new())
    }
}

impl NativeTransport {
    /// Wraps a configured reqwest client (timeouts, proxies, TLS roots…).
    pub fn new(http: reqwest::Client) -> Self {
        Self {
            http,
            random: Arc::new((RandomState::new(), AtomicU64::new(0))),
        }
    }
}

impl Transport for NativeTransport {
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, TransportError> {
        let method = match req.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
        };
        let mut builder = self.http.request(method, &req.url);
        for (name, value) in &req.headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = req.body {
            builder = builder.body(body);
        }
        let resp = builder.send().await.map_err(map_error)?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let body = resp.bytes().await.map_err(map_error)?.to_vec();
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }

    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }

    fn random_u64(&self) -> u64 {
        // SipHash with a random per-process key over a counter: unpredictable enough for
        // jitter and request ids, without another dependency.
        let (state, counter) = &*self.random;
        let mut h = state.build_hasher();
        h.write_u64(counter.fetch_add(1, Ordering::Relaxed));
        h.finish()
    }
}

fn map_error(e: reqwest::Error) -> TransportError {
    if e.is_timeout() {
        return TransportError::Timeout;
    }
    // reqwest's top-level message is terse ("error sending request"); add the causes.
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    TransportError::Network(msg)
}
