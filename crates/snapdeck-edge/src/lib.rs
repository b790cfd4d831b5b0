//! snapdeck's edge worker (Cloudflare Workers, built with workers-rs).
//!
//! It serves the built dashboard from the static-assets binding, proxies `/v1/*` to the
//! Runloop API with the key held as a secret (callers show the portal's access token
//! instead, so no browser ever sees the key), and on a cron runs the retention
//! policies from its vars through snapdeck-core's planner and bulk runner, driving
//! snapdeck-api's client over the runtime's global `fetch`.
//!
//! The decisions (who may call the proxy, which headers cross it, what the cleanup
//! report says) are pure modules, tested natively; the wasm-only modules wire them to
//! the Workers runtime.

pub mod access;
pub mod forward;
pub mod plan;
pub mod run;

#[cfg(target_arch = "wasm32")]
mod cleanup;
#[cfg(target_arch = "wasm32")]
mod config;
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
        crate::cleanup::run(&env, &event.cron()).await;
    }
}
