//! The one door to the Runloop API. Components call [`use_api`] and the typed methods
//! on [`Api`]; nothing else builds a URL or reads a response.
//!
//! Every answer also feeds the top bar's health indicator: a 401 or an unreachable API
//! turns it red wherever it happened, and the next success turns it green again.
//!
//! Underneath is `snapdeck_api::Client` over the browser `fetch` transport (retries
//! with `Retry-After`, idempotency keys, pagination); a new client is built per call
//! from the current settings, which is cheap (it is a few strings).

use std::time::Duration;

use crate::hooks::use_settings::SettingsCtx;
use futures::TryStreamExt;
use leptos::prelude::*;
use snapdeck_api::endpoints as ep;
use snapdeck_api::http::encode_path_segment;
use snapdeck_api::{
    Blueprint, BlueprintLogs, BrowserTransport, Client, CreateBlueprint, CreateDevbox, Devbox,
    DevboxStatus, EventStream, MetadataFilter, Page, Query, Request, RetryPolicy, Snapshot,
    SnapshotParams, SnapshotStatusView,
};
use wasm_bindgen::JsCast;

pub use snapdeck_api::ApiError;
use snapdeck_core::audit::{AuditFilter, AuditList, ListAudit};
use snapdeck_core::jobs::{
    CancelJob, CreateJob, EVENT_ITEM, EVENT_JOB, GetJob, ItemEvent, JOBS_PATH, Job, JobSummary,
    JobsCapability, ListJobs, NewJob,
};

/// True for the failures the settings page can fix (the key or the base URL).
pub fn needs_settings(e: &ApiError) -> bool {
    matches!(e, ApiError::Transport(_)) || e.status() == Some(401)
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
#[derive(Debug, Clone, Copy)]
pub struct Api {
    config: Signal<ApiConfig>,
    health: RwSignal<Health>,
    /// Set for a page's handle ([`use_page_api`]): its requests end when the page does.
    abort: Option<StoredValue<web_sys::AbortSignal, LocalStorage>>,
}

/// The API handle from context (installed by the app). Work that must outlive the page
/// that started it (operations, bulk runs, app-wide lists) uses this one.
pub fn use_api() -> Api {
    expect_context::<Api>()
}

/// The API handle for a page's own loads: when the page goes away (the person
/// navigates elsewhere), its requests still in flight are aborted and their retries and
/// backoffs stop, instead of finishing for a page nobody sees. An aborted request ends
/// in [`ApiError::Aborted`], which never turns the health indicator red.
pub fn use_page_api() -> Api {
    let api = use_api();
    let Ok(controller) = web_sys::AbortController::new() else {
        return api;
    };
    let signal = controller.signal();
    // Cleanups run before the owner's values are dropped: the controller is still there.
    let controller = StoredValue::new_local(controller);
    on_cleanup(move || {
        controller.try_with_value(web_sys::AbortController::abort);
    });
    Api {
        abort: Some(StoredValue::new_local(signal)),
        ..api
    }
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
/// Audit entries the audit page asks the server for.
const AUDIT_FETCH: usize = 2_000;

/// Sent as the Bearer key to a same-origin server when the person has set none.
const SAME_ORIGIN_PLACEHOLDER_KEY: &str = "snapdeck-same-origin";

impl Api {
    /// A handle over the given settings.
    pub fn new(config: Signal<ApiConfig>) -> Self {
        Self {
            config,
            health: RwSignal::new(Health::Checking),
            abort: None,
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
        // Not an API call (no /v1, no key): one same-origin GET, no retries.
        let client = Client::new(BrowserTransport::new(), "");
        let probe = client.send(
            Request::get("/healthz", &Query::new()),
            RetryPolicy::none(),
            Some(Duration::from_secs(5)),
        );
        match probe.await {
            Ok(resp) if resp.status == 200 => {
                match serde_json::from_slice::<Healthz>(&resp.body).map(|h| h.mode) {
                    Ok(m) if m == "emulator" => Target::Emulator,
                    Ok(m) if m == "proxy" => Target::Proxy,
                    _ => Target::SameOrigin,
                }
            }
            _ => Target::SameOrigin,
        }
    }

    /// Checks that the key works with the cheapest call there is.
    pub async fn check(&self) -> Result<(), ApiError> {
        let r = self
            .client()
            .list_devboxes(&ep::ListDevboxes {
                limit: Some(1),
                include_total_count: Some(false),
                ..Default::default()
            })
            .await
            .map(|_| ());
        self.observe(r)
    }

    // ---- devboxes ----

    /// Every devbox (all pages).
    pub async fn list_devboxes(&self) -> Result<Vec<Devbox>, ApiError> {
        let client = self.client();
        let r = client
            .devboxes(ep::ListDevboxes {
                limit: Some(LIST_PAGE),
                ..Default::default()
            })
            .try_collect()
            .await;
        self.observe(r)
    }

    /// One devbox.
    pub async fn get_devbox(&self, id: &str) -> Result<Devbox, ApiError> {
        let r = self.client().get_devbox(id).await;
        self.observe(r)
    }

    /// Creates a devbox (e.g. from a snapshot).
    pub async fn create_devbox(&self, body: &CreateDevbox) -> Result<Devbox, ApiError> {
        let r = self.client().create_devbox(body).await;
        self.observe(r)
    }

    /// Suspends a running devbox.
    pub async fn suspend(&self, id: &str) -> Result<Devbox, ApiError> {
        let r = self.client().suspend_devbox(id).await;
        self.observe(r)
    }

    /// Resumes a suspended devbox.
    pub async fn resume(&self, id: &str) -> Result<Devbox, ApiError> {
        let r = self.client().resume_devbox(id).await;
        self.observe(r)
    }

    /// Shuts a devbox down; 409 while a snapshot runs unless `force`.
    pub async fn shutdown(&self, id: &str, force: bool) -> Result<Devbox, ApiError> {
        let r = self.client().shutdown_devbox(id, force).await;
        self.observe(r)
    }

    /// One long poll: `Some` once the devbox is in one of `statuses`, `None` when the
    /// server's hold ended first.
    pub async fn wait_for_status(
        &self,
        id: &str,
        statuses: &[DevboxStatus],
        timeout_seconds: f64,
    ) -> Result<Option<Devbox>, ApiError> {
        let r = self
            .client()
            .wait_for_status(id, statuses, Some(timeout_seconds))
            .await;
        self.observe(r)
    }

    // ---- files and commands ----

    /// Writes a text file into a running devbox (a path relative to its home).
    pub async fn write_file(
        &self,
        devbox_id: &str,
        path: &str,
        text: &str,
    ) -> Result<(), ApiError> {
        let r = self
            .client()
            .write_file_contents(devbox_id, path, text)
            .await
            .map(|_| ());
        self.observe(r)
    }

    /// Reads a text file from a running devbox.
    pub async fn read_file(&self, devbox_id: &str, path: &str) -> Result<String, ApiError> {
        let r = self.client().read_file_contents(devbox_id, path).await;
        self.observe(r)
    }

    /// Runs a command in a devbox and answers once it finished.
    pub async fn execute_sync(
        &self,
        devbox_id: &str,
        command: &str,
    ) -> Result<snapdeck_api::ExecutionDetail, ApiError> {
        let params = snapdeck_api::commands::ExecuteParams {
            command: command.to_owned(),
            ..Default::default()
        };
        let r = self.client().execute_sync(devbox_id, &params).await;
        self.observe(r)
    }

    // ---- snapshots ----

    /// Every snapshot matching `filter` (all pages).
    pub async fn list_snapshots(&self, filter: &SnapshotFilter) -> Result<Vec<Snapshot>, ApiError> {
        let client = self.client();
        let r = client
            .snapshots(ep::ListSnapshots {
                devbox_id: filter.devbox_id.clone(),
                source_blueprint_id: filter.blueprint_id.clone(),
                metadata: filter
                    .metadata
                    .iter()
                    .map(|(key, value)| MetadataFilter::Eq {
                        key: key.clone(),
                        value: value.clone(),
                    })
                    .collect(),
                limit: Some(LIST_PAGE),
                ..Default::default()
            })
            .try_collect()
            .await;
        self.observe(r)
    }

    /// One page of a devbox's snapshots (newest first, as the API lists them) after
    /// `starting_after`, with `total_count`: for a timeline that shows its first page
    /// while the rest loads.
    pub async fn snapshot_page(
        &self,
        devbox_id: &str,
        starting_after: Option<String>,
        limit: u32,
    ) -> Result<Page<Snapshot>, ApiError> {
        let r = self
            .client()
            .page(&ep::ListSnapshots {
                devbox_id: Some(devbox_id.to_string()),
                limit: Some(limit),
                starting_after,
                ..Default::default()
            })
            .await;
        self.observe(r)
    }

    /// How many snapshots a devbox has (one small call).
    pub async fn count_snapshots(&self, devbox_id: &str) -> Result<u64, ApiError> {
        let r = self
            .client()
            .list_snapshots(&ep::ListSnapshots {
                devbox_id: Some(devbox_id.to_string()),
                limit: Some(1),
                include_total_count: Some(true),
                ..Default::default()
            })
            .await
            .map(|page| page.total_count.unwrap_or(page.snapshots.len() as u64));
        self.observe(r)
    }

    /// The status of one snapshot.
    pub async fn snapshot_status(&self, id: &str) -> Result<SnapshotStatusView, ApiError> {
        let r = self.client().snapshot_status(id).await;
        self.observe(r)
    }

    /// Starts a snapshot; watch it with [`Api::snapshot_status`].
    pub async fn snapshot_async(
        &self,
        devbox_id: &str,
        params: &SnapshotParams,
    ) -> Result<Snapshot, ApiError> {
        let r = self.client().snapshot_disk_async(devbox_id, params).await;
        self.observe(r)
    }

    /// Replaces a snapshot's name/commit message/metadata (metadata is replaced whole:
    /// callers read-merge-write).
    pub async fn update_snapshot(
        &self,
        id: &str,
        params: &SnapshotParams,
    ) -> Result<Snapshot, ApiError> {
        let r = self.client().update_snapshot(id, params).await;
        self.observe(r)
    }

    /// Deletes a complete snapshot (409 otherwise).
    pub async fn delete_snapshot(&self, id: &str) -> Result<(), ApiError> {
        let r = self.client().delete_snapshot(id).await;
        self.observe(r)
    }

    // ---- blueprints ----

    /// Every blueprint (all pages).
    pub async fn list_blueprints(&self) -> Result<Vec<Blueprint>, ApiError> {
        let client = self.client();
        let r = client
            .blueprints(ep::ListBlueprints {
                limit: Some(LIST_PAGE),
                ..Default::default()
            })
            .try_collect()
            .await;
        self.observe(r)
    }

    /// One blueprint.
    pub async fn get_blueprint(&self, id: &str) -> Result<Blueprint, ApiError> {
        let r = self.client().get_blueprint(id).await;
        self.observe(r)
    }

    /// Starts a blueprint build.
    pub async fn create_blueprint(&self, body: &CreateBlueprint) -> Result<Blueprint, ApiError> {
        let r = self.client().create_blueprint(body).await;
        self.observe(r)
    }

    /// Deletes a blueprint; 400 while snapshots depend on it.
    pub async fn delete_blueprint(&self, id: &str) -> Result<(), ApiError> {
        let r = self.client().delete_blueprint(id).await;
        self.observe(r)
    }

    /// A blueprint's build log so far.
    pub async fn blueprint_logs(&self, id: &str) -> Result<BlueprintLogs, ApiError> {
        let r = self.client().blueprint_logs(id).await;
        self.observe(r)
    }

    /// Requests a bulk run in this tab keeps in flight. Over HTTP/1.1 a tab has six
    /// connections per origin, so four (room is left for the page's own loads); HTTP/2
    /// and HTTP/3 multiplex one connection, so sixteen. The protocol is the one the
    /// API's origin last answered with (Resource Timing's `nextHopProtocol`).
    pub fn tab_lanes(&self) -> usize {
        const HTTP1_LANES: usize = 4;
        const MULTIPLEXED_LANES: usize = 16;
        let base = self.config.with_untracked(|c| c.base_url.trim().to_owned());
        let Some(perf) = web_sys::window().and_then(|w| w.performance()) else {
            return HTTP1_LANES;
        };
        let origin = if base.is_empty() {
            web_sys::window()
                .and_then(|w| w.location().origin().ok())
                .unwrap_or_default()
        } else {
            base
        };
        let entries = perf.get_entries_by_type("resource");
        let protocol = (0..entries.length()).rev().find_map(|i| {
            let entry: web_sys::PerformanceResourceTiming = entries.get(i).dyn_into().ok()?;
            entry
                .name()
                .starts_with(&origin)
                .then(|| entry.next_hop_protocol())
                .filter(|p| !p.is_empty())
        });
        match protocol.as_deref() {
            Some("h2" | "h3") => MULTIPLEXED_LANES,
            _ => HTTP1_LANES,
        }
    }

    // ---- jobs (`/_snapdeck/jobs`: heavy work on the server or the edge) ----

    /// Whether the server this page came from runs jobs (its `/healthz` says so, asked
    /// once per page load). Direct mode (a configured base URL) never does: the tab
    /// works alone there.
    pub async fn jobs_available(&self) -> bool {
        self.jobs_capability().await.available
    }

    /// Whether the server this page came from runs jobs of `kind`.
    pub async fn runs_jobs(&self, kind: snapdeck_core::jobs::JobKind) -> bool {
        self.jobs_capability().await.runs(kind)
    }

    /// What the server this page came from says about its jobs (`/healthz`, asked
    /// until it answers, then once per page load). Direct mode has none.
    async fn jobs_capability(&self) -> JobsCapability {
        thread_local! {
            static JOBS: std::cell::RefCell<Option<JobsCapability>> =
                const { std::cell::RefCell::new(None) };
        }
        if !self.config.with_untracked(|c| c.base_url.trim().is_empty()) {
            return JobsCapability::default();
        }
        if let Some(known) = JOBS.with(|j| j.borrow().clone()) {
            return known;
        }
        #[derive(serde::Deserialize)]
        struct Healthz {
            #[serde(default)]
            jobs: JobsCapability,
        }
        let client = Client::new(BrowserTransport::new(), "");
        let probe = client.send(
            Request::get("/healthz", &Query::new()),
            RetryPolicy::default(),
            Some(Duration::from_secs(5)),
        );
        let capability = match probe.await {
            Ok(resp) if resp.status == 200 => serde_json::from_slice::<Healthz>(&resp.body)
                .map(|h| h.jobs)
                .ok()
                .filter(|j| j.available && j.path == JOBS_PATH)
                .unwrap_or_default(),
            // Unknown now: ask again next time rather than deciding for the page's life.
            _ => return JobsCapability::default(),
        };
        JOBS.with(|j| *j.borrow_mut() = Some(capability.clone()));
        capability
    }

    /// Follows a job live (`…/{id}/events`), where the server serves event streams
    /// (snapdeck-server does; the edge worker does not). `None` when it cannot: the
    /// caller reads the job instead (polling), which is also what it does when the
    /// stream ends early.
    pub async fn follow_job(&self, id: &str) -> Option<JobFollow> {
        if !self.jobs_capability().await.events {
            return None;
        }
        let client = self.client();
        let path = format!("{JOBS_PATH}/{}/events", encode_path_segment(id));
        let req = client.http_request(Request::get(&path, &Query::new()), None);
        let stream = client.transport().open_events(req).await.ok()?;
        Some(JobFollow { stream })
    }

    /// Creates a job; the same `request_id` again answers the job it created.
    pub async fn create_job(&self, job: NewJob) -> Result<Job, ApiError> {
        let r = self.client().call(&CreateJob(job)).await;
        self.observe(r)
    }

    /// A job with its plan or its items.
    pub async fn get_job(&self, id: &str) -> Result<Job, ApiError> {
        let r = self.client().call(&GetJob { id: id.to_owned() }).await;
        self.observe(r)
    }

    /// The server's recent jobs, newest first (everyone's).
    pub async fn list_jobs(&self) -> Result<Vec<JobSummary>, ApiError> {
        let r = self.client().call(&ListJobs { limit: Some(50) }).await;
        self.observe(r).map(|l| l.jobs)
    }

    /// The server's audit trail (what its jobs did, and what browsers sent it), newest
    /// first, filtered there.
    pub async fn list_audit(&self, filter: &AuditFilter) -> Result<AuditList, ApiError> {
        let r = self
            .client()
            .call(&ListAudit {
                filter: filter.clone(),
                limit: Some(AUDIT_FETCH as u32),
            })
            .await;
        self.observe(r)
    }

    /// Asks a job to stop: deletes already sent finish, the rest are skipped.
    pub async fn cancel_job(&self, id: &str) -> Result<JobSummary, ApiError> {
        let r = self.client().call(&CancelJob { id: id.to_owned() }).await;
        self.observe(r)
    }

    // ---- plumbing ----

    /// The client this handle sends through (for the shared drivers of snapdeck-run).
    pub(crate) fn client(&self) -> Client<BrowserTransport> {
        let cfg = self.config.get_untracked();
        let same_origin = cfg.base_url.trim().is_empty();
        let transport = match self.abort.and_then(|a| a.try_get_value()) {
            Some(signal) => BrowserTransport::with_signal(signal),
            None => BrowserTransport::new(),
        };
        let client = Client::new(transport, cfg.base_url.trim());
        match cfg.api_key {
            Some(k) => client.with_api_key(k),
            // Same origin is snapdeck's own server: the emulator accepts any key and the
            // proxy replaces it with the real one, so a fresh `scripts/run` shows data at
            // once. The placeholder is no secret; a server that wants a real key answers
            // 401, and the top bar then says "No API key is set".
            None if same_origin => client.with_api_key(SAME_ORIGIN_PLACEHOLDER_KEY),
            None => client,
        }
    }

    /// Feeds the health indicator from every answer.
    fn observe<T>(&self, r: Result<T, ApiError>) -> Result<T, ApiError> {
        let next = match &r {
            Ok(_) => Some(Health::Ok),
            Err(e) if e.status() == Some(401) => {
                Some(if self.config.with_untracked(|c| c.api_key.is_none()) {
                    Health::NoKey
                } else {
                    Health::BadKey(api_message(e))
                })
            }
            Err(ApiError::Transport(m)) => Some(Health::Unreachable(m.clone())),
            Err(_) => None,
        };
        if let Some(h) = next
            && self.health.with_untracked(|cur| *cur != h)
        {
            self.health.set(h);
        }
        r
    }
}

/// The server's own words for an API error (without our prefix).
pub fn api_message(e: &ApiError) -> String {
    match e {
        ApiError::Api { message, .. } if !message.is_empty() => message.clone(),
        other => other.to_string(),
    }
}

/// One change of a job, from its event stream.
#[derive(Debug, Clone)]
pub enum JobEvent {
    /// The job's summary (status, progress) after a change.
    Summary(JobSummary),
    /// One delete item that settled.
    Item(ItemEvent),
}

/// A job followed live ([`Api::follow_job`]).
#[derive(Debug)]
pub struct JobFollow {
    stream: EventStream,
}

impl JobFollow {
    /// The next change; `None` when the stream is over (the job ended, or the
    /// connection dropped: the caller reads the job to know which). Cancel-safe, like
    /// the stream under it.
    pub async fn next(&mut self) -> Option<JobEvent> {
        loop {
            let event = self.stream.next().await?.ok()?;
            let parsed = match event.event.as_str() {
                EVENT_JOB => serde_json::from_str(&event.data).map(JobEvent::Summary),
                EVENT_ITEM => serde_json::from_str(&event.data).map(JobEvent::Item),
                _ => continue,
            };
            // An event this version cannot read is skipped; the job's own read at the
            // end has the truth.
            if let Ok(parsed) = parsed {
                return Some(parsed);
            }
        }
    }
}
