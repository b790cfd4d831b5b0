//! The worker's settings, read from its bindings (vars and secrets in wrangler.toml,
//! `wrangler secret put`, or `.dev.vars` / `--env-file` locally).

use worker::Env;

/// The static-assets binding that serves the built app (`[assets] binding`).
pub const ASSETS_BINDING: &str = "ASSETS";
/// Where `/v1/*` goes when `UPSTREAM_URL` is not set.
pub const DEFAULT_UPSTREAM: &str = "https://api.runloop.ai";

/// Everything the proxy and the cleanup need. `Debug` is deliberately not derived:
/// the struct holds the Runloop key and must never be printed.
pub struct Settings {
    pub upstream_url: String,
    pub allowed_origins: String,
    /// The Runloop API key (`RUNLOOP_API_KEY` secret).
    pub api_key: String,
    /// The portal access token (`SNAPDECK_ACCESS_TOKEN` secret).
    pub access_token: String,
}

/// A required secret that is not set: the worker refuses to proxy rather than run open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing(pub &'static str);

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the edge worker is not configured: set the {} secret",
            self.0
        )
    }
}

impl Settings {
    /// Reads the settings; fails on a missing or empty secret.
    pub fn from_env(env: &Env) -> Result<Self, Missing> {
        let secret = |name: &'static str| string_binding(env, name).ok_or(Missing(name));
        Ok(Self {
            upstream_url: string_binding(env, "UPSTREAM_URL")
                .unwrap_or_else(|| DEFAULT_UPSTREAM.to_owned()),
            allowed_origins: string_binding(env, "ALLOWED_ORIGINS").unwrap_or_default(),
            api_key: secret("RUNLOOP_API_KEY")?,
            access_token: secret("SNAPDECK_ACCESS_TOKEN")?,
        })
    }
}

/// A string var or secret (both are plain strings to the worker); `None` when unset or
/// blank.
pub fn string_binding(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .ok()
        .map(|v| v.to_string().trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// A var holding JSON, as text: wrangler.toml may give it as a table or array (the
/// worker sees an object) or as a string (`--var`, `.dev.vars`, the dashboard).
pub fn json_binding(env: &Env, name: &str) -> Option<String> {
    use worker::{js_sys, wasm_bindgen::JsValue};
    let value = js_sys::Reflect::get(env.as_ref(), &JsValue::from_str(name)).ok()?;
    if value.is_undefined() || value.is_null() {
        return None;
    }
    match value.as_string() {
        Some(text) => Some(text),
        None => js_sys::JSON::stringify(&value).ok()?.as_string(),
    }
}

/// A boolean var: `true`, `1` or `yes` (any case), as a string or as a TOML boolean or
/// number, mean true; anything else, false. (Reading only strings would turn
/// `RETENTION_DRY_RUN = true` into a real run.)
pub fn flag_binding(env: &Env, name: &str) -> bool {
    json_binding(env, name)
        .is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes"))
}
