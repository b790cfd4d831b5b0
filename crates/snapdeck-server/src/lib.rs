//! snapdeck-server: a faithful, persistent local emulator of the Runloop API (the part
//! snapdeck uses: devboxes, disk snapshots, blueprints, file contents), plus static
//! serving of the built dashboard — the "embedded default" that the product and every
//! test run against when no Runloop account is configured.
//!
//! * [`app`] builds the whole router; `main.rs` only parses flags and serves it.
//!   [`config`] holds the settings fixed at start ([`Config`], the proxy's [`Upstream`]);
//!   [`state`] the shared state handlers get; [`clock`] the one clock.
//! * [`store`] holds the account and its lifecycles, one file per resource under
//!   `store/` (see its doc for how work in flight survives a restart); [`db`] is the
//!   SQLite copy. The store takes typed arguments, never a query string.
//! * One module per resource ([`devboxes`], [`snapshots`], [`blueprints`], [`files`]),
//!   each with its own `router()`, parsing its query with [`query`]; [`control`] is the
//!   `/_emulator` test surface.
//! * [`executions`]: commands on a devbox, interpreted in-process by [`shell`] (bashkit)
//!   over the devbox's emulated disk — never by the host. Its handlers, the command
//!   tasks, the SSE streams and the live [`executions::Runs`] are one file each.
//! * [`error::Error`] is the one error type: every failure is `{"message": …}`.
//! * [`proxy`]: with `--upstream`, `/v1` is forwarded to the real API with the server's
//!   key instead of being emulated.
//! * [`jobs`]: `/_snapdeck/jobs`, cleanup plans and bulk deletes run by the server;
//!   [`app_with_jobs`] mounts them and hands them the router they call.
//! * [`dist`]: the built app (`--dist`), precompressed and with cache and CSP headers.
//! * [`access`]: the outermost layer — host, origin and caller-token rules (shared with
//!   the edge through `snapdeck_core::access`) and the CORS grants they allow.
//!
//! Modules depend one way: [`config`], [`clock`], [`error`] and [`shell`] are leaves;
//! the store, the state and the jobs never reach back into the handlers or the crate
//! root.
//!
//! Behaviour the reference leaves open, and what this emulator chose, is listed in the
//! crate's README.md ("Choices where the API is silent").

pub mod access;
pub mod blueprints;
pub mod clock;
pub mod config;
pub mod control;
pub mod db;
pub mod devboxes;
pub mod dist;
pub mod error;
pub mod executions;
pub mod faults;
pub mod files;
pub mod jobs;
pub mod middleware;
pub mod proxy;
pub mod query;
pub mod seed;
pub mod serve;
pub mod shell;
pub mod snapshots;
pub mod state;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;

use std::time::Duration;

use axum::extract::State;
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use tower_http::trace::TraceLayer;

pub use config::{Config, Upstream};
pub use error::Error;
pub use faults::Faults;
pub use state::AppState;
pub use store::{Store, Timings};

/// The whole HTTP surface: `/healthz`, `/_emulator`, the `/v1` API, and (with
/// `--dist`) the single-page app with `index.html` for every other path.
pub fn app(state: AppState) -> Router {
    let proxying = state.config().upstream.is_some();
    // Layers run outermost-last-added: faults, then auth, then idempotency, so injected
    // faults and refused keys never reach (or get remembered by) the handlers.
    let v1 = if proxying {
        // The real API deduplicates by x-request-id itself; the header is forwarded.
        Router::new().fallback(proxy::forward)
    } else {
        Router::new()
            .merge(devboxes::router())
            .merge(snapshots::router())
            .merge(blueprints::router())
            .merge(files::router())
            .merge(executions::router())
            .fallback(|| async { Error::NotFound("no such API endpoint".into()) })
            .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
            .layer(from_fn_with_state(state.clone(), middleware::idempotency))
    }
    .layer(from_fn_with_state(state.clone(), middleware::auth))
    .layer(from_fn_with_state(state.clone(), middleware::faults));

    let mut router = Router::new()
        .route("/healthz", get(healthz))
        .nest("/v1", v1)
        .nest("/_snapdeck/jobs", jobs::router(state.clone()));
    if !proxying {
        router = router.nest("/_emulator", control::router());
    }
    let router = match &state.config().dist {
        // Unknown non-API paths get index.html (status 200) so client-side routes load;
        // see [`dist`] for compression and cache headers.
        Some(dist) => router.fallback_service(dist::router(dist, &state.config().access)),
        None => router.fallback(|| async {
            Error::NotFound("not found (this server was started without --dist)".into())
        }),
    };
    router
        .layer(from_fn_with_state(state.clone(), access::layer))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn healthz(
    State(state): State<AppState>,
    running: Option<axum::Extension<jobs::Jobs>>,
) -> Json<Value> {
    let jobs = running.map_or_else(Default::default, |_| {
        snapdeck_core::jobs::JobsCapability::available()
    });
    let token_required = state.config().access.requires_token();
    Json(match &state.config().upstream {
        None => json!({
            "ok": true,
            "mode": "emulator",
            "version": env!("CARGO_PKG_VERSION"),
            "jobs": jobs,
            "token_required": token_required,
        }),
        Some(upstream) => json!({
            "ok": true,
            "mode": "proxy",
            "upstream": upstream.base_url,
            "version": env!("CARGO_PKG_VERSION"),
            "jobs": jobs,
            "token_required": token_required,
        }),
    })
}

/// `app(state)` with jobs running, persisted in `data` (`None`: in memory); the jobs
/// call `app(state)` itself, without their own layer.
pub fn app_with_jobs(
    state: &AppState,
    data: Option<&std::path::Path>,
) -> error::Result<(Router, jobs::Jobs)> {
    let jobs = jobs::Jobs::start(state, app(state.clone()), data)?;
    Ok((app(state.clone()).layer(jobs.layer()), jobs))
}

/// Applies due transitions in the background, so the database (and anything reading it
/// directly) catches up even when nobody calls the API. Reads apply them lazily anyway;
/// this only bounds how stale the stored rows can get.
pub fn spawn_ticker(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let next = match state.with(|s, _| Ok(s.next_due())) {
                Ok(next) => next,
                Err(e) => {
                    tracing::warn!(error = %e, "ticker");
                    None
                }
            };
            let wait = next
                .map_or(Duration::from_secs(1), clock::until)
                .clamp(Duration::from_millis(5), Duration::from_secs(1));
            tokio::time::sleep(wait).await;
        }
    })
}
