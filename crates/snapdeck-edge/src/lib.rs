//! snapdeck's edge worker (Cloudflare Workers, built with workers-rs).
//!
//! It serves the built dashboard from the static-assets binding (with security headers),
//! proxies `/v1/*` to the Runloop API with the key held as a secret (callers show the
//! portal's access token instead, so no browser ever sees the key), and runs the heavy
//! work — cleanup plans, confirmed bulk deletes, the cron's retention policies — as
//! jobs (`/_snapdeck/jobs`) in a SQLite-backed Durable Object whose alarms carry each
//! job across invocations, through snapdeck-core's planner and snapdeck-run's driver,
//! with snapdeck-api's client over the runtime's global `fetch`. Every delete a job
//! settles goes into the audit trail beside them (`/_snapdeck/audit`, [`audit`]).
//!
//! The decisions (who may call the proxy, which headers cross it, what the cleanup
//! report says) are pure modules, tested natively; the wasm-only modules wire them to
//! the Workers runtime.

pub mod access;
pub mod audit;
pub mod forward;
pub mod headers;
pub mod jobs;
pub mod plan;
pub mod run;

#[cfg(target_arch = "wasm32")]
mod cleanup;
#[cfg(target_arch = "wasm32")]
mod config;
#[cfg(target_arch = "wasm32")]
mod durable;
#[cfg(target_arch = "wasm32")]
mod proxy;

#[cfg(target_arch = "wasm32")]
mod entry {
    use worker::{Context, Env, Request, Response, ScheduleContext, ScheduledEvent, event};

    #[event(start)]
    fn start() {
        console_error_panic_hook::set_once();
    }

    #[event(fetch)]
    async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
        crate::proxy::handle(req, env).await
    }

    #[event(scheduled)]
    async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
        // The firing's time names its job, so a retried event starts no second one.
        let scheduled_ms = event.schedule() as i64;
        crate::cleanup::run(&env, &event.cron(), scheduled_ms).await;
    }
}
