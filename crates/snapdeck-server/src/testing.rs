//! Test support (feature `testing`): an emulator in memory with short durations, and a
//! [`snapdeck_api::Transport`] that drives the router in-process, so contract tests run
//! the real `snapdeck-api` client against the real handlers without a socket.

use std::time::Duration;

use snapdeck_api::{HttpRequest, HttpResponse, Transport, TransportError};

use crate::db::Db;
use crate::error::Result;
use crate::jobs::Loopback;
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

/// Sends client requests straight into `app(state)`: the jobs' [`Loopback`] (the one
/// in-process transport), built from a state, for callers that have no router at hand.
#[derive(Clone)]
pub struct InProcessTransport(Loopback);

impl InProcessTransport {
    /// A transport in front of `app(state)`.
    pub fn new(state: AppState) -> Self {
        Self(Loopback::new(app(state)))
    }
}

impl Transport for InProcessTransport {
    fn send(
        &self,
        req: HttpRequest,
    ) -> impl Future<Output = std::result::Result<HttpResponse, TransportError>> {
        self.0.send(req)
    }

    fn sleep(&self, d: Duration) -> impl Future<Output = ()> {
        self.0.sleep(d)
    }

    fn random_u64(&self) -> u64 {
        self.0.random_u64()
    }
}
