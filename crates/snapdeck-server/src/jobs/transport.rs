//! How a job reaches the API: through this server's own `/v1` pipeline, in process.
//!
//! Emulator mode: the request passes the same fault, auth and idempotency layers as a
//! browser's (so injected latency, 5xx and 429 apply to jobs too) and reaches the
//! emulated handlers. Proxy mode: the same `/v1` is the forwarder, so the job talks to the
//! upstream with the proxy's key and header rules. One code path for both.
//!
//! A semaphore bounds the requests of all jobs together, on top of each run's own bound.
//!
//! This is the one `Transport` that drives the router in process: the contract tests
//! (`testing::InProcessTransport`) and the jobs tests use it too, so what they check is
//! what the jobs send.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Uri};
use snapdeck_api::{HttpRequest, HttpResponse, Transport, TransportError};
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// Requests in flight across every job at once.
pub const TOTAL_IN_FLIGHT: usize = 128;
/// The base URL jobs' clients use; only the path and query reach the router.
pub const LOOPBACK_BASE: &str = "http://snapdeck-jobs.internal";

/// A [`Transport`] that hands requests to a router, without a socket. Clones share one
/// bound on the requests in flight, if it has one.
#[derive(Clone)]
pub struct Loopback {
    router: Router,
    permits: Option<Arc<Semaphore>>,
}

impl Loopback {
    /// In front of `router`, with no bound of its own (tests, in-process clients).
    pub fn new(router: Router) -> Self {
        Self {
            router,
            permits: None,
        }
    }

    /// In front of `router` (the server's `app`, without the jobs layer), at most
    /// [`TOTAL_IN_FLIGHT`] requests at once across every clone: what the jobs use.
    pub fn for_jobs(router: Router) -> Self {
        Self {
            router,
            permits: Some(Arc::new(Semaphore::new(TOTAL_IN_FLIGHT))),
        }
    }

    async fn exchange(&self, req: HttpRequest) -> Result<HttpResponse, TransportError> {
        let uri: Uri = req
            .url
            .parse()
            .map_err(|e| TransportError::Network(format!("bad url {}: {e}", req.url)))?;
        let path = uri
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .to_owned();
        let mut builder = Request::builder().method(req.method.as_str()).uri(path);
        for (name, value) in &req.headers {
            builder = builder.header(name, value);
        }
        let request = builder
            .body(req.body.map_or_else(Body::empty, Body::from))
            .map_err(|e| TransportError::Network(e.to_string()))?;
        let _permit = match &self.permits {
            Some(permits) => Some(
                permits
                    .acquire()
                    .await
                    .map_err(|_| TransportError::Aborted)?,
            ),
            None => None,
        };
        let response = match self.router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let body = axum::body::to_bytes(response.into_body(), 256 * 1024 * 1024)
            .await
            .map_err(|e| TransportError::Network(e.to_string()))?;
        Ok(HttpResponse {
            status,
            headers,
            body: body.to_vec(),
        })
    }
}

impl Transport for Loopback {
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.exchange(req).await
    }

    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }

    fn random_u64(&self) -> u64 {
        fastrand::u64(..)
    }
}
