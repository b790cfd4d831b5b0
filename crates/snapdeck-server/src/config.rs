//! Settings fixed at start: [`Config`], and the [`Upstream`] that proxy mode forwards
//! to. A leaf beside [`crate::state`] (which holds a `Config`) and [`crate::proxy`]
//! (which reads the `Upstream`), so neither needs the other.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};

/// Settings fixed at start.
#[derive(Clone, Default)]
pub struct Config {
    /// When set, only `Authorization: Bearer <this>` is accepted; otherwise any
    /// non-empty bearer token is.
    pub api_key: Option<String>,
    /// The built single-page app to serve, if any.
    pub dist: Option<PathBuf>,
    /// Proxy mode: forward `/v1` to the real API instead of emulating it.
    pub upstream: Option<Upstream>,
    /// Who may call: hosts, origins and (proxy mode) the caller token; see
    /// [`crate::access`]. The default allows the same origin and no token.
    pub access: snapdeck_core::access::AccessPolicy,
}

// Hand-written so the API key never reaches a log line.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("dist", &self.dist)
            .field("upstream", &self.upstream)
            .field("access", &self.access)
            .finish()
    }
}

/// Where to forward and with which key (see [`crate::proxy`]).
#[derive(Clone)]
pub struct Upstream {
    /// Base URL without a trailing slash, e.g. `https://api.runloop.ai`.
    pub base_url: String,
    pub(crate) api_key: Option<String>,
    pub(crate) client: reqwest::Client,
}

// Hand-written so the key never reaches a log line.
impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The longest an upstream call may take: the synchronous `snapshot_disk` can take
/// minutes (the SDKs allow it 600 s).
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(660);

impl Upstream {
    /// A proxy to `base_url`, injecting `api_key` when given.
    pub fn new(base_url: &str, api_key: Option<String>) -> Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(UPSTREAM_TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| Error::Internal(format!("building the upstream client: {e}")))?;
        Ok(Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key: api_key.filter(|k| !k.trim().is_empty()),
            client,
        })
    }

    /// Whether requests get the server's key (so callers need none).
    pub fn injects_key(&self) -> bool {
        self.api_key.is_some()
    }
}
