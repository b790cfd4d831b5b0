//! The one door to the Runloop API. Components call [`use_api`] and the typed methods
//! on [`Api`]; nothing else builds a URL or reads a response.
//!
//! Every answer also feeds the top bar's health indicator: a 401 or an unreachable API
//! turns it red wherever it happened, and the next success turns it green again.
//!
//! The transport is a small gloo-net shim until `snapdeck_api::Client` lands; only this
//! file changes when it does.

use std::time::Duration;

use leptos::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use snapdeck_api::{
    CreateDevbox, Devbox, DevboxList, DevboxStatus, ErrorBody, Snapshot, SnapshotList,
    SnapshotParams, SnapshotStatusView, WaitForStatus,
};

use crate::fmt::encode_component;
use crate::hooks::use_settings::{Settings, SettingsCtx};

/// Why a call failed, in the terms the UI needs. `Clone` so it can flow through
/// resources and actions.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiFailure {
    /// 401: the key is missing or wrong.
    Unauthorized(String),
    /// No answer at all (network, CORS, DNS, server down).
    Unreachable(String),
    /// The server answered with an error status.
    Status { status: u16, message: String },
    /// The answer could not be decoded.
    Decode(String),
}

impl ApiFailure {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiFailure::Unauthorized(_) => Some(401),
            ApiFailure::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True for the failures the settings page can fix (key or base URL).
    pub fn is_config_problem(&self) -> bool {
        matches!(
            self,
            ApiFailure::Unauthorized(_) | ApiFailure::Unreachable(_)
        )
    }
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiFailure::Unauthorized(m) => write!(f, "The API refused the key (401): {m}"),
            ApiFailure::Unreachable(m) => write!(f, "Could not reach the API: {m}"),
            ApiFailure::Status { status, message } => write!(f, "{message} ({status})"),
            ApiFailure::Decode(m) => write!(f, "Unexpected answer from the API: {m}"),
        }
    }
}

/// What the top bar shows about the API connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Health {
    /// Nothing answered yet.
    Checking,
    /// The last call succeeded.
    Ok,
    /// No key is set and the API wants one.
    NoKey,
    /// The key was refused.
    BadKey(String),
    /// The API could not be reached.
    Unreachable(String),
}

impl Health {
    /// True when the top bar should turn red.
    pub fn is_bad(&self) -> bool {
        matches!(
            self,
            Health::NoKey | Health::BadKey(_) | Health::Unreachable(_)
        )
    }
}

/// Which API the app talks to, for the top bar.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Same origin, served by snapdeck-server's emulator.
    Emulator,
    /// Same origin, snapdeck-server or the edge worker proxying to Runloop.
    Proxy,
    /// Same origin, but the server did not say what it is.
    SameOrigin,
    /// A configured base URL (host shown).
    Direct(String),
}

impl Target {
    /// Short label for the top bar.
    pub fn label(&self) -> String {
        match self {
            Target::Emulator => "emulator".into(),
            Target::Proxy => "proxy".into(),
            Target::SameOrigin => "same origin".into(),
            Target::Direct(host) => host.clone(),
        }
    }
}

/// Filters for the snapshot list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SnapshotFilter {
    pub devbox_id: Option<String>,
    pub blueprint_id: Option<String>,
    /// Exact matches, sent as `metadata[key]=value`.
    pub metadata: Vec<(String, String)>,
}

/// Connection settings the calls use.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApiConfig {
    /// Empty = same origin.
    pub base_url: String,
    pub api_key: Option<String>,
}

/// Handle to the API: cheap to copy into closures and tasks.
#[derive(Clone, Copy)]
pub struct Api {
    config: Signal<ApiConfig>,
    health: RwSignal<Health>,
}

/// The API handle from context (installed by the app).
pub fn use_api() -> Api {
    use_context::<Api>().unwrap_or_else(|| {
        let settings = Settings::load();
        Api::new(Signal::stored(ApiConfig {
            base_url: settings.base_url,
            api_key: crate::hooks::use_settings::load_key(),
        }))
    })
}

/// Provides the API handle for the app, following the settings.
pub fn provide_api(settings: SettingsCtx) -> Api {
    let config = Signal::derive(move || ApiConfig {
        base_url: settings.settings.with(|s| s.base_url.clone()),
        api_key: settings.api_key.get(),
    });
    let api = Api::new(config);
    provide_context(api);
    api
}

const LIST_PAGE: u32 = 1000;

impl Api {
    /// A handle over the given settings.
    pub fn new(config: Signal<ApiConfig>) -> Self {
        Self {
            config,
            health: RwSignal::new(Health::Checking),
        }
    }

    /// The connection health, as seen by every call so far.
    pub fn health(&self) -> Signal<Health> {
        self.health.into()
    }

    /// Reads the settings *tracked*: a resource that calls this refetches when the
    /// base URL or key changes.
    pub fn track(&self) -> ApiConfig {
        self.config.get()
    }

    /// Where calls go.
    pub fn target(&self) -> Target {
        let base = self.config.with(|c| c.base_url.clone());
        if base.trim().is_empty() {
            Target::SameOrigin
        } else {
            let host = base
                .split("://")
                .nth(1)
                .unwrap_or(&base)
                .split('/')
                .next()
                .unwrap_or_default()
                .to_string();
            Target::Direct(host)
        }
    }

    /// Asks a same-origin snapdeck server what it is (`/healthz`).
    pub async fn probe_target(&self) -> Target {
        if let t @ Target::Direct(_) = self.target() {
            return t;
        }
        #[derive(serde::Deserialize)]
        struct Healthz {
            #[serde(default)]
            mode: String,
        }
        match gloo_net::http::Request::get("/healthz").send().await {
            Ok(resp) if resp.ok() => match resp.json::<Healthz>().await {
                Ok(h) if h.mode == "emulator" => Target::Emulator,
                Ok(h) if h.mode == "proxy" => Target::Proxy,
                _ => Target::SameOrigin,
            },
            _ => Target::SameOrigin,
        }
    }

    /// Checks that the key works with the cheapest call there is.
    pub async fn check(&self) -> Result<(), ApiFailure> {
        let _: DevboxList = self
            .get(
                "/v1/devboxes",
                &[
                    ("limit", "1".into()),
                    ("include_total_count", "false".into()),
                ],
            )
            .await?;
        Ok(())
    }

    // ---- devboxes ----

    /// Every devbox (all pages).
    pub async fn list_devboxes(&self) -> Result<Vec<Devbox>, ApiFailure> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut q = vec![("limit", LIST_PAGE.to_string())];
            if let Some(a) = &after {
                q.push(("starting_after", a.clone()));
            }
            let page: DevboxList = self.get("/v1/devboxes", &q).await?;
            let last = page.devboxes.last().map(|d| d.id.clone());
            out.extend(page.devboxes);
            match (page.has_more, last) {
                (true, Some(l)) => after = Some(l),
                _ => break,
            }
        }
        Ok(out)
    }

    /// One devbox.
    pub async fn get_devbox(&self, id: &str) -> Result<Devbox, ApiFailure> {
        self.get(&format!("/v1/devboxes/{}", encode_component(id)), &[])
            .await
    }

    /// Creates a devbox (e.g. from a snapshot).
    pub async fn create_devbox(&self, body: &CreateDevbox) -> Result<Devbox, ApiFailure> {
        self.post("/v1/devboxes", &[], Some(body)).await
    }

    /// Suspends a running devbox.
    pub async fn suspend(&self, id: &str) -> Result<Devbox, ApiFailure> {
        self.post::<(), _>(&devbox_path(id, "suspend"), &[], None)
            .await
    }

    /// Resumes a suspended devbox.
    pub async fn resume(&self, id: &str) -> Result<Devbox, ApiFailure> {
        self.post::<(), _>(&devbox_path(id, "resume"), &[], None)
            .await
    }

    /// Shuts a devbox down; 409 while a snapshot runs unless `force`.
    pub async fn shutdown(&self, id: &str, force: bool) -> Result<Devbox, ApiFailure> {
        let q = if force {
            vec![("force", "true".to_string())]
        } else {
            vec![]
        };
        self.post::<(), _>(&devbox_path(id, "shutdown"), &q, None)
            .await
    }

    /// Long-polls until the devbox is in one of `statuses` (408 when the hold ends).
    pub async fn wait_for_status(
        &self,
        id: &str,
        statuses: Vec<DevboxStatus>,
        timeout_seconds: f64,
    ) -> Result<Devbox, ApiFailure> {
        let body = WaitForStatus {
            statuses,
            timeout_seconds: Some(timeout_seconds),
        };
        self.post(&devbox_path(id, "wait_for_status"), &[], Some(&body))
            .await
    }

    // ---- snapshots ----

    /// Every snapshot matching `filter` (all pages).
    pub async fn list_snapshots(
        &self,
        filter: &SnapshotFilter,
    ) -> Result<Vec<Snapshot>, ApiFailure> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut q = vec![("limit", LIST_PAGE.to_string())];
            if let Some(d) = &filter.devbox_id {
                q.push(("devbox_id", d.clone()));
            }
            if let Some(b) = &filter.blueprint_id {
                q.push(("source_blueprint_id", b.clone()));
            }
            if let Some(a) = &after {
                q.push(("starting_after", a.clone()));
            }
            let meta: Vec<(String, String)> = filter
                .metadata
                .iter()
                .map(|(k, v)| (format!("metadata[{k}]"), v.clone()))
                .collect();
            let mut all: Vec<(&str, String)> = q;
            for (k, v) in &meta {
                all.push((k.as_str(), v.clone()));
            }
            let page: SnapshotList = self.get("/v1/devboxes/disk_snapshots", &all).await?;
            let last = page.snapshots.last().map(|s| s.id.clone());
            out.extend(page.snapshots);
            match (page.has_more, last) {
                (true, Some(l)) => after = Some(l),
                _ => break,
            }
        }
        Ok(out)
    }

    /// How many snapshots a devbox has (one small call).
    pub async fn count_snapshots(&self, devbox_id: &str) -> Result<u64, ApiFailure> {
        let page: SnapshotList = self
            .get(
                "/v1/devboxes/disk_snapshots",
                &[
                    ("devbox_id", devbox_id.to_string()),
                    ("limit", "1".into()),
                    ("include_total_count", "true".into()),
                ],
            )
            .await?;
        Ok(page.total_count.unwrap_or(page.snapshots.len() as u64))
    }

    /// The status of one snapshot.
    pub async fn snapshot_status(&self, id: &str) -> Result<SnapshotStatusView, ApiFailure> {
        self.get(&snapshot_path(id, "status"), &[]).await
    }

    /// Starts a snapshot; poll [`Api::snapshot_status`] with the returned id.
    pub async fn snapshot_async(
        &self,
        devbox_id: &str,
        params: &SnapshotParams,
    ) -> Result<Snapshot, ApiFailure> {
        self.post(
            &devbox_path(devbox_id, "snapshot_disk_async"),
            &[],
            Some(params),
        )
        .await
    }

    /// Replaces a snapshot's name/commit message/metadata (metadata is replaced whole:
    /// callers read-merge-write).
    pub async fn update_snapshot(
        &self,
        id: &str,
        params: &SnapshotParams,
    ) -> Result<Snapshot, ApiFailure> {
        self.post(
            &format!("/v1/devboxes/disk_snapshots/{}", encode_component(id)),
            &[],
            Some(params),
        )
        .await
    }

    /// Deletes a complete snapshot (409 otherwise).
    pub async fn delete_snapshot(&self, id: &str) -> Result<(), ApiFailure> {
        let _: serde_json::Value = self
            .post::<(), _>(&snapshot_path(id, "delete"), &[], None)
            .await?;
        Ok(())
    }

    // ---- transport shim ----

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ApiFailure> {
        // Reads are safe to retry: 429/5xx/no answer get up to three more tries,
        // honouring Retry-After.
        let mut attempt = 0;
        loop {
            match self.send::<(), T>("GET", path, query, None).await {
                Err(Retry::After(delay, failure)) => {
                    attempt += 1;
                    if attempt > 3 {
                        return self.observe(Err(failure));
                    }
                    gloo_timers::future::sleep(delay).await;
                }
                Err(Retry::No(failure)) => return self.observe(Err(failure)),
                Ok(v) => return self.observe(Ok(v)),
            }
        }
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
    ) -> Result<T, ApiFailure> {
        let r = match self.send("POST", path, query, body).await {
            Ok(v) => Ok(v),
            Err(Retry::After(_, f) | Retry::No(f)) => Err(f),
        };
        self.observe(r)
    }

    fn observe<T>(&self, r: Result<T, ApiFailure>) -> Result<T, ApiFailure> {
        let next = match &r {
            Ok(_) => Some(Health::Ok),
            Err(ApiFailure::Unauthorized(m)) => {
                Some(if self.config.with_untracked(|c| c.api_key.is_none()) {
                    Health::NoKey
                } else {
                    Health::BadKey(m.clone())
                })
            }
            Err(ApiFailure::Unreachable(m)) => Some(Health::Unreachable(m.clone())),
            Err(_) => None,
        };
        if let Some(h) = next {
            if self.health.with_untracked(|cur| *cur != h) {
                self.health.set(h);
            }
        }
        r
    }

    async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
    ) -> Result<T, Retry> {
        use gloo_net::http::Request;
        let cfg = self.config.get_untracked();
        let mut url = format!("{}{}", cfg.base_url.trim().trim_end_matches('/'), path);
        if !query.is_empty() {
            let q: Vec<String> = query
                .iter()
                .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
                .collect();
            url = format!("{url}?{}", q.join("&"));
        }
        let mut rb = if method == "GET" {
            Request::get(&url)
        } else {
            Request::post(&url)
        };
        rb = rb.header("Accept", "application/json");
        if let Some(key) = cfg.api_key.as_deref().filter(|k| !k.is_empty()) {
            rb = rb.header("Authorization", &format!("Bearer {key}"));
        }
        let req = match body {
            Some(b) => rb
                .header("Content-Type", "application/json")
                .json(b)
                .map_err(|e| Retry::No(ApiFailure::Decode(e.to_string())))?,
            None => rb
                .build()
                .map_err(|e| Retry::No(ApiFailure::Decode(e.to_string())))?,
        };
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                return Err(Retry::After(
                    Duration::from_millis(800),
                    ApiFailure::Unreachable(e.to_string()),
                ));
            }
        };
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| (0.0..=60.0).contains(s))
            .map(Duration::from_secs_f64);
        let text = resp.text().await.map_err(|e| {
            Retry::After(
                Duration::from_millis(800),
                ApiFailure::Unreachable(e.to_string()),
            )
        })?;
        if (200..300).contains(&status) {
            let text = if text.trim().is_empty() { "{}" } else { &text };
            return serde_json::from_str(text)
                .map_err(|e| Retry::No(ApiFailure::Decode(e.to_string())));
        }
        let message = serde_json::from_str::<ErrorBody>(&text)
            .map(|b| b.message)
            .unwrap_or_else(|_| {
                let t = text.trim();
                if t.is_empty() {
                    format!("HTTP {status}")
                } else {
                    t.chars().take(300).collect()
                }
            });
        let failure = if status == 401 {
            ApiFailure::Unauthorized(message)
        } else {
            ApiFailure::Status { status, message }
        };
        if status == 429 || status >= 500 {
            Err(Retry::After(
                retry_after.unwrap_or(Duration::from_millis(1000)),
                failure,
            ))
        } else {
            Err(Retry::No(failure))
        }
    }
}

/// Whether (and when) a failed read may be tried again.
enum Retry {
    After(Duration, ApiFailure),
    No(ApiFailure),
}

fn devbox_path(id: &str, action: &str) -> String {
    format!("/v1/devboxes/{}/{action}", encode_component(id))
}

fn snapshot_path(id: &str, action: &str) -> String {
    format!(
        "/v1/devboxes/disk_snapshots/{}/{action}",
        encode_component(id)
    )
}
