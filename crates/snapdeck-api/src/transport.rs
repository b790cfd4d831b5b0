//! The one seam between the client and a runtime.

use std::future::Future;
use std::time::Duration;

use crate::error::TransportError;
use crate::http::{HttpRequest, HttpResponse};

/// Sends HTTP requests, sleeps and supplies randomness for one runtime.
///
/// The futures carry **no `Send` bound**: browser and worker futures hold JS values and
/// are `!Send`. The [`Client`](crate::Client) itself is `Send + Sync` whenever the
/// transport is.
///
/// Implementations live behind features (`BrowserTransport`
/// with `browser`, `NativeTransport` with `native`); tests
/// implement it on their own types (the server crate drives its axum router in-process).
pub trait Transport {
    /// Performs one HTTP exchange. Any status is `Ok`; `Err` means no response.
    fn send(&self, req: HttpRequest) -> impl Future<Output = Result<HttpResponse, TransportError>>;

    /// Waits `d`. The client uses it between retries and for request timeouts, so the
    /// runtime (setTimeout, tokio, a test clock) decides how time passes.
    fn sleep(&self, d: Duration) -> impl Future<Output = ()>;

    /// A random number, for retry jitter and request ids. Kept on the transport so the
    /// client needs no `getrandom` (painful on wasm32-unknown-unknown).
    fn random_u64(&self) -> u64;
}

impl<T: Transport> Transport for &T {
    fn send(&self, req: HttpRequest) -> impl Future<Output = Result<HttpResponse, TransportError>> {
        (**self).send(req)
    }

    fn sleep(&self, d: Duration) -> impl Future<Output = ()> {
        (**self).sleep(d)
    }

    fn random_u64(&self) -> u64 {
        (**self).random_u64()
    }
}

impl<T: Transport> Transport for std::sync::Arc<T> {
    fn send(&self, req: HttpRequest) -> impl Future<Output = Result<HttpResponse, TransportError>> {
        (**self).send(req)
    }

    fn sleep(&self, d: Duration) -> impl Future<Output = ()> {
        (**self).sleep(d)
    }

    fn random_u64(&self) -> u64 {
        (**self).random_u64()
    }
}
