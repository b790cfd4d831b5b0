//! `fetch`-based transport for browsers, dedicated Web Workers and edge workers.
//!
//! Everything goes through *global* bindings (`fetch`, `setTimeout`), never through
//! `window`, so the same code runs in a page, in a worker and in an edge runtime.

use std::time::Duration;

use gloo_net::http::{Method as GlooMethod, RequestBuilder};
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use crate::error::TransportError;
use crate::http::{HttpRequest, HttpResponse, Method};
use crate::transport::Transport;

/// The browser/worker transport. Optionally bound to an [`AbortSignal`]: when the
/// signal aborts (e.g. the page that started the work goes away), in-flight and later
/// requests fail with [`TransportError::Aborted`], which the client never retries.
#[derive(Debug, Clone, Default)]
pub struct BrowserTransport {
    signal: Option<AbortSignal>,
}

impl BrowserTransport {
    /// A transport with no abort signal.
    pub fn new() -> Self {
        Self::default()
    }

    /// A transport whose requests are cancelled when `signal` aborts.
    pub fn with_signal(signal: AbortSignal) -> Self {
        Self {
            signal: Some(signal),
        }
    }

    /// The abort signal, if any.
    pub fn signal(&self) -> Option<&AbortSignal> {
        self.signal.as_ref()
    }

    fn aborted(&self) -> bool {
        self.signal.as_ref().is_some_and(AbortSignal::aborted)
    }

    async fn fetch(&self, req: HttpRequest) -> Result<HttpResponse, TransportError> {
        let method = match req.method {
            Method::Get => GlooMethod::GET,
            Method::Post => GlooMethod::POST,
        };
        let mut builder = RequestBuilder::new(&req.url)
            .method(method)
            .abort_signal(self.signal.as_ref());
        for (name, value) in &req.headers {
            builder = builder.header(name, value);
        }
        let request = match &req.body {
            Some(bytes) => builder.body(js_sys::Uint8Array::from(bytes.as_slice())),
            None => builder.build(),
        }
        .map_err(|e| TransportError::Network(format!("could not build the request: {e}")))?;
        let resp = request.send().await.map_err(|e| self.network_error(e))?;
        let status = resp.status();
        let headers = resp.headers().entries().collect();
        let body = resp.binary().await.map_err(|e| self.network_error(e))?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }

    fn network_error(&self, e: gloo_net::Error) -> TransportError {
        if self.aborted() {
            return TransportError::Aborted;
        }
        // fetch gives no detail on purpose ("Failed to fetch"); name the usual causes.
        TransportError::Network(format!(
            "{e} (the API may be down, unreachable, or refusing cross-origin requests)"
        ))
    }
}

impl Transport for BrowserTransport {
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, TransportError> {
        if self.aborted() {
            return Err(TransportError::Aborted);
        }
        self.fetch(req).await
    }

    async fn sleep(&self, d: Duration) {
        // Clamp to what setTimeout accepts.
        let ms = u32::try_from(d.as_millis())
            .unwrap_or(u32::MAX)
            .min(i32::MAX as u32);
        match &self.signal {
            // gloo-timers binds the global `setTimeout` (not `window.setTimeout`), so
            // this works in workers too.
            None => gloo_timers::future::TimeoutFuture::new(ms).await,
            Some(signal) => abortable_sleep(signal, ms).await,
        }
    }

    fn random_u64(&self) -> u64 {
        // Math.random has ~52 random bits; two draws fill 64 bits well enough for
        // jitter and idempotency keys (which only need to be unique per client).
        let hi = (js_sys::Math::random() * 4_294_967_296.0) as u64;
        let lo = (js_sys::Math::random() * 4_294_967_296.0) as u64;
        (hi << 32) | lo
    }
}

#[wasm_bindgen]
extern "C" {
    /// The global `setTimeout` (window, worker or edge runtime alike).
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &js_sys::Function, ms: i32) -> JsValue;
}

/// Sleeps `ms`, or less if `signal` aborts first: a page that goes away should not
/// keep a retry backoff alive for seconds.
async fn abortable_sleep(signal: &AbortSignal, ms: u32) {
    if signal.aborted() {
        return;
    }
    let mut wake: Option<js_sys::Function> = None;
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        set_timeout(&resolve, ms as i32);
        wake = Some(resolve);
    });
    if let Some(wake) = &wake {
        // Resolving twice is a no-op, so the timer and the abort may both fire.
        let _ = signal.add_event_listener_with_callback("abort", wake);
    }
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    if let Some(wake) = &wake {
        // Long-lived signals would otherwise collect one listener per sleep.
        let _ = signal.remove_event_listener_with_callback("abort", wake);
    }
}

impl BrowserTransport {
    /// Opens a server-sent event stream: `req` is sent with `fetch` (so it carries the
    /// Bearer key and this transport's abort signal) and its body is read as it
    /// arrives. An answer that is not a 2xx `text/event-stream` is an error: the caller
    /// falls back to reading the resource instead.
    pub async fn open_events(&self, req: HttpRequest) -> Result<EventStream, TransportError> {
        if self.aborted() {
            return Err(TransportError::Aborted);
        }
        let mut builder = RequestBuilder::new(&req.url)
            .method(GlooMethod::GET)
            .abort_signal(self.signal.as_ref());
        for (name, value) in &req.headers {
            if !name.eq_ignore_ascii_case("accept") {
                builder = builder.header(name, value);
            }
        }
        let request = builder
            .header("accept", "text/event-stream")
            .build()
            .map_err(|e| TransportError::Network(format!("could not build the request: {e}")))?;
        let resp = request.send().await.map_err(|e| self.network_error(e))?;
        let is_stream = resp
            .headers()
            .get("content-type")
            .is_some_and(|t| t.starts_with("text/event-stream"));
        if !resp.ok() || !is_stream {
            return Err(TransportError::Network(format!(
                "no event stream here (HTTP {})",
                resp.status()
            )));
        }
        let body = resp
            .body()
            .ok_or_else(|| TransportError::Network("the event stream has no body".into()))?;
        Ok(EventStream {
            reader: body.get_reader().unchecked_into(),
            pending: None,
            decoder: crate::sse::SseDecoder::new(),
            ready: std::collections::VecDeque::new(),
            transport: self.clone(),
            ended: false,
        })
    }
}

/// A server-sent event stream being read ([`BrowserTransport::open_events`]).
///
/// [`EventStream::next`] is cancel-safe: a read left unfinished (its future dropped,
/// e.g. lost to a timer in a `select`) is kept and finished by the next call, so no
/// chunk is lost. Dropping the stream cancels the body, which closes the connection.
pub struct EventStream {
    reader: web_sys::ReadableStreamDefaultReader,
    pending: Option<wasm_bindgen_futures::JsFuture>,
    decoder: crate::sse::SseDecoder,
    ready: std::collections::VecDeque<crate::sse::SseEvent>,
    transport: BrowserTransport,
    ended: bool,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("ready", &self.ready.len())
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl EventStream {
    /// The next event; `None` once the server has ended the stream. An error (the
    /// connection dropped, the page aborted) ends it too.
    pub async fn next(&mut self) -> Option<Result<crate::sse::SseEvent, TransportError>> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Some(Ok(event));
            }
            if self.ended {
                return None;
            }
            let read = self
                .pending
                .get_or_insert_with(|| wasm_bindgen_futures::JsFuture::from(self.reader.read()));
            let chunk = read.await;
            self.pending = None;
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(_) => {
                    self.ended = true;
                    return Some(Err(if self.transport.aborted() {
                        TransportError::Aborted
                    } else {
                        TransportError::Network("the event stream broke off".into())
                    }));
                }
            };
            let done = js_sys::Reflect::get(&chunk, &JsValue::from_str("done"))
                .ok()
                .and_then(|d| d.as_bool())
                .unwrap_or(true);
            if done {
                self.ended = true;
                continue;
            }
            if let Ok(value) = js_sys::Reflect::get(&chunk, &JsValue::from_str("value")) {
                let bytes = js_sys::Uint8Array::new(&value).to_vec();
                self.ready.extend(self.decoder.push(&bytes));
            }
        }
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        if !self.ended {
            // The returned promise settles on its own; nothing waits for it.
            let _ = self.reader.cancel();
        }
    }
}
