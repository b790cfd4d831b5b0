//! Test support (feature `testing`): an emulator in memory with short durations, and a
//! [`snapdeck_api::Transport`] that drives the router in-process, so contract tests run
//! the real `snapdeck-api` client against the real handlers without a socket.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Uri};
use snapdeck_api::{HttpRequest, HttpResponse, Transport, TransportError};
use tower::ServiceExt;

use crate::db::Db;
use crate::error::Result;
use crate::{AppState, Config, Faults, Store, Timings, app};

/// Durations short enough for tests, long enough to observe the states in between.
pub const FAST: Timings = Timings {
    boot_ms: 150,
    suspend_ms: 100,
    resume_ms: 100,
    snapshot_ms: 250,
    blueprint_build_ms: 200,
};

/// A fresh in-memory emulator with no data (or the demo data with `demo`).
pub fn state(timings: Timings, config: Config, demo: bool) -> Result<AppState> {
    let mut store = Store::open(Db::open(None)?, timings)?;
    if demo {
        crate::seed::demo(&mut store, crate::clock::now_ms())?;
    }
    Ok(AppState::new(store, config, Faults::default()))
}

/// Sends client requests straight into the router.
#[derive(Clone)]
pub struct InProcessTransport {
    router: Router,
}

impl InProcessTransport {
    /// A transport in front of `app(state)`.
    pub fn new(state: AppState) -> Self {
        Self { router: app(state) }
    }

    async fn exchange(&self, req: HttpRequest) -> std::result::Result<HttpResponse, String> {
        // The client builds absolute URLs; the router only wants the path and query.
        let uri: Uri = req
            .url
            .parse()
            .map_err(|e| format!("bad url {}: {e}", req.url))?;
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
            .map_err(|e| e.to_string())?;
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
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .map_err(|e| e.to_string())?;
        Ok(HttpResponse {
            status,
            headers,
            body: body.to_vec(),
        })
    }
}

impl Transport for InProcessTransport {
    async fn send(&self, req: HttpRequest) -> std::result::Result<HttpResponse, TransportError> {
        self.exchange(req).await.map_err(TransportError::Network)
    }

    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }

    fn random_u64(&self) -> u64 {
        fastrand::u64(..)
    }
}
