//! [`Client`]: endpoints + transport + auth + retries + pagination.

use std::time::Duration;

use futures::future::{Either, select};
use futures::stream::{self, Stream, TryStreamExt};

use crate::endpoints::{self as ep, Endpoint, Page, Paginated};
use crate::error::{ApiError, TransportError};
use crate::http::{HttpRequest, HttpResponse, Request};
use crate::retry::{Attempt, RetryPolicy};
use crate::transport::Transport;
use crate::types::{
    self, Blueprint, BlueprintList, BlueprintLogs, Devbox, DevboxList, DevboxStatus,
    ExecutionDetail, Snapshot, SnapshotList, SnapshotParams, SnapshotStatusView,
};

/// Header carrying the idempotency key; the server treats a repeat as the same operation.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// What to wait for after creating or resuming a devbox: running, or a final status.
pub const AWAIT_RUNNING: [DevboxStatus; 3] = [
    DevboxStatus::Running,
    DevboxStatus::Failure,
    DevboxStatus::Shutdown,
];

/// What to wait for after suspending a devbox: suspended, or a final status.
pub const AWAIT_SUSPENDED: [DevboxStatus; 3] = [
    DevboxStatus::Suspended,
    DevboxStatus::Failure,
    DevboxStatus::Shutdown,
];

/// Default per-attempt timeout, as in the SDKs.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A typed Runloop API client over any [`Transport`].
///
/// Cheap to clone when the transport is; `Send + Sync` when the transport is.
///
/// ```
/// # use snapdeck_api::{Client, Transport};
/// # fn demo<T: Transport>(transport: T) {
/// // Empty base URL: same-origin requests ("/v1/devboxes"), e.g. behind snapdeck-server.
/// let client = Client::new(transport, "").with_api_key("rl_...");
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Client<T> {
    transport: T,
    base_url: String,
    api_key: Option<String>,
    retry: RetryPolicy,
    timeout: Option<Duration>,
}

impl<T: Transport> Client<T> {
    /// A client for `base_url` (e.g. `https://api.runloop.ai`, or `""` for same origin).
    /// A trailing `/` is ignored.
    pub fn new(transport: T, base_url: impl Into<String>) -> Self {
        let mut base_url = base_url.into();
        while base_url.ends_with('/') {
            base_url.pop();
        }
        Self {
            transport,
            base_url,
            api_key: None,
            retry: RetryPolicy::default(),
            timeout: Some(DEFAULT_TIMEOUT),
        }
    }

    /// Sends `Authorization: Bearer <key>`. A blank key means none (a proxy adds it).
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        let key = key.into();
        self.api_key = (!key.trim().is_empty()).then(|| key.trim().to_owned());
        self
    }

    /// Replaces the retry policy.
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Per-attempt timeout (`None`: wait as long as the transport does).
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// The same configuration over another transport (e.g. one bound to a fresh
    /// `AbortSignal` for a page's lifetime).
    pub fn with_transport<U: Transport>(&self, transport: U) -> Client<U> {
        Client {
            transport,
            base_url: self.base_url.clone(),
            api_key: self.api_key.clone(),
            retry: self.retry,
            timeout: self.timeout,
        }
    }

    /// The base URL without trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Whether a key is configured.
    pub fn has_api_key(&self) -> bool {
        self.api_key.is_some()
    }

    /// The retry policy in use.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The full request a transport receives for `req`: URL, auth, content headers and
    /// — for non-GET requests — the idempotency key.
    pub fn http_request(&self, req: Request, request_id: Option<&str>) -> HttpRequest {
        let mut headers = req.headers;
        let has =
            |hs: &[(String, String)], n: &str| hs.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
        if !has(&headers, "accept") {
            headers.push(("accept".into(), "application/json".into()));
        }
        if req.body.is_some() && !has(&headers, "content-type") {
            headers.push(("content-type".into(), "application/json".into()));
        }
        if let Some(key) = &self.api_key {
            headers.push(("authorization".into(), format!("Bearer {key}")));
        }
        if let Some(id) = request_id
            && !has(&headers, REQUEST_ID_HEADER)
        {
            headers.push((REQUEST_ID_HEADER.into(), id.to_owned()));
        }
        HttpRequest {
            method: req.method,
            url: format!("{}{}", self.base_url, req.path_and_query),
            headers,
            body: req.body,
        }
    }

    /// A fresh idempotency key, one per logical request.
    fn new_request_id(&self) -> String {
        format!(
            "snapdeck-{:016x}{:016x}",
            self.transport.random_u64(),
            self.transport.random_u64()
        )
    }

    /// A jitter input in `[0, 1)` from the transport's randomness.
    fn jitter(&self) -> f64 {
        (self.transport.random_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// One attempt, bounded by `timeout`.
    async fn attempt(
        &self,
        req: HttpRequest,
        timeout: Option<Duration>,
    ) -> Result<HttpResponse, TransportError> {
        let send = std::pin::pin!(self.transport.send(req));
        let Some(limit) = timeout else {
            return send.await;
        };
        let sleep = std::pin::pin!(self.transport.sleep(limit));
        match select(send, sleep).await {
            Either::Left((result, _)) => result,
            Either::Right(((), _)) => Err(TransportError::Timeout),
        }
    }

    /// Sends `req` with retries and returns the final response, whatever its status.
    ///
    /// Every attempt of a non-GET request carries the same `x-request-id`, which is
    /// what makes retrying a POST safe.
    pub async fn send(
        &self,
        req: Request,
        policy: RetryPolicy,
        timeout: Option<Duration>,
    ) -> Result<HttpResponse, ApiError> {
        let request_id = (!req.method.is_idempotent()).then(|| self.new_request_id());
        let http = self.http_request(req, request_id.as_deref());
        let mut retries_done = 0;
        loop {
            let result = self.attempt(http.clone(), timeout).await;
            let outcome = match &result {
                Ok(resp) => Attempt::Response(resp),
                Err(e) => Attempt::Failed(e),
            };
            match policy.retry_delay(retries_done, outcome, self.jitter()) {
                Some(delay) => {
                    self.transport.sleep(delay).await;
                    retries_done += 1;
                }
                None => return result.map_err(ApiError::from),
            }
        }
    }

    /// Performs any endpoint.
    pub async fn call<E: Endpoint>(&self, endpoint: &E) -> Result<E::Output, ApiError> {
        let req = endpoint.request()?;
        let policy = endpoint.retry_policy(self.retry);
        let timeout = endpoint.timeout().or(self.timeout);
        let resp = self.send(req, policy, timeout).await?;
        endpoint.decode(resp)
    }

    /// One page of a list endpoint, with `total_count` when the server sent it.
    pub async fn page<E: Paginated>(&self, endpoint: &E) -> Result<Page<E::Item>, ApiError> {
        self.call(endpoint).await.map(E::into_page)
    }

    /// Every item of a list endpoint, fetching page after page with
    /// `starting_after` = the last item's id. Stops when `has_more` is false, a page is
    /// empty, or the cursor would not move (a defensive stop against a looping server).
    pub fn paginate<'a, E>(&'a self, first: E) -> impl Stream<Item = Result<E::Item, ApiError>> + 'a
    where
        E: Paginated + 'a,
        E::Item: 'a,
    {
        stream::try_unfold(Some(first), move |state| async move {
            let Some(mut endpoint) = state else {
                return Ok::<_, ApiError>(None);
            };
            let page = self.page(&endpoint).await?;
            let next_cursor = page
                .items
                .last()
                .map(|last| E::item_id(last).to_owned())
                .filter(|id| page.has_more && Some(id.as_str()) != endpoint.starting_after());
            let next = next_cursor.map(|id| {
                endpoint.set_starting_after(id);
                endpoint
            });
            Ok(Some((page.items, next)))
        })
        .map_ok(|items| stream::iter(items.into_iter().map(Ok)))
        .try_flatten()
    }

    // ----------------------------------------------------------------------------
    // Devboxes
    // ----------------------------------------------------------------------------

    /// `GET /v1/devboxes` (one page).
    pub async fn list_devboxes(&self, query: &ep::ListDevboxes) -> Result<DevboxList, ApiError> {
        self.call(query).await
    }

    /// Every devbox matching `query`, as a stream.
    pub fn devboxes(
        &self,
        query: ep::ListDevboxes,
    ) -> impl Stream<Item = Result<Devbox, ApiError>> + '_ {
        self.paginate(query)
    }

    /// `GET /v1/devboxes/{id}`.
    pub async fn get_devbox(&self, id: &str) -> Result<Devbox, ApiError> {
        self.call(&ep::GetDevbox { id: id.into() }).await
    }

    /// `POST /v1/devboxes`.
    pub async fn create_devbox(&self, body: &types::CreateDevbox) -> Result<Devbox, ApiError> {
        self.call(&ep::CreateDevbox { body: body.clone() }).await
    }

    /// `POST /v1/devboxes/{id}`.
    pub async fn update_devbox(
        &self,
        id: &str,
        body: &types::UpdateDevbox,
    ) -> Result<Devbox, ApiError> {
        self.call(&ep::UpdateDevbox {
            id: id.into(),
            body: body.clone(),
        })
        .await
    }

    /// `POST /v1/devboxes/{id}/shutdown`; 409 while a snapshot is in progress unless `force`.
    pub async fn shutdown_devbox(&self, id: &str, force: bool) -> Result<Devbox, ApiError> {
        self.call(&ep::ShutdownDevbox {
            id: id.into(),
            force,
        })
        .await
    }

    /// `POST /v1/devboxes/{id}/suspend`.
    pub async fn suspend_devbox(&self, id: &str) -> Result<Devbox, ApiError> {
        self.call(&ep::SuspendDevbox { id: id.into() }).await
    }

    /// `POST /v1/devboxes/{id}/resume`.
    pub async fn resume_devbox(&self, id: &str) -> Result<Devbox, ApiError> {
        self.call(&ep::ResumeDevbox { id: id.into() }).await
    }

    /// `POST /v1/devboxes/{id}/keep_alive`.
    pub async fn keep_alive(&self, id: &str) -> Result<(), ApiError> {
        self.call(&ep::KeepAliveDevbox { id: id.into() }).await
    }

    /// One long poll: `Some(devbox)` once its status is in `statuses`, `None` if the
    /// server's hold (default 10 s, at most 30 s) elapsed first. Call again to keep waiting.
    pub async fn wait_for_status(
        &self,
        id: &str,
        statuses: &[DevboxStatus],
        timeout_seconds: Option<f64>,
    ) -> Result<Option<Devbox>, ApiError> {
        self.call(&ep::WaitForDevboxStatus {
            id: id.into(),
            body: types::WaitForStatus {
                statuses: statuses.to_vec(),
                timeout_seconds,
            },
        })
        .await
    }

    /// Waits for the devbox to reach one of `statuses` by repeated long polls of up to
    /// 30 s each, like the SDKs' `await_running`: a 408 (hold elapsed) polls again at
    /// once; a transport error polls again after a backoff. Gives up with `Ok(None)`
    /// after `max_polls` polls; any API error (404, 401…) ends the wait.
    ///
    /// Pass the terminal statuses too (e.g. [`AWAIT_RUNNING`]) so a devbox that fails
    /// while booting ends the wait instead of running out the polls.
    pub async fn await_devbox_status(
        &self,
        id: &str,
        statuses: &[DevboxStatus],
        max_polls: u32,
    ) -> Result<Option<Devbox>, ApiError> {
        let mut transport_failures = 0;
        for _ in 0..max_polls {
            match self.wait_for_status(id, statuses, Some(30.0)).await {
                Ok(Some(devbox)) => return Ok(Some(devbox)),
                Ok(None) => transport_failures = 0,
                Err(ApiError::Transport(_)) => {
                    let delay = self.retry.backoff(transport_failures, self.jitter());
                    self.transport.sleep(delay).await;
                    transport_failures += 1;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    // ----------------------------------------------------------------------------
    // Snapshots
    // ----------------------------------------------------------------------------

    /// `POST /v1/devboxes/{id}/snapshot_disk` (waits until done; up to 10 min).
    pub async fn snapshot_disk(
        &self,
        devbox_id: &str,
        params: &SnapshotParams,
    ) -> Result<Snapshot, ApiError> {
        self.call(&ep::SnapshotDisk {
            devbox_id: devbox_id.into(),
            body: params.clone(),
        })
        .await
    }

    /// `POST /v1/devboxes/{id}/snapshot_disk_async`: returns at once; watch the id.
    pub async fn snapshot_disk_async(
        &self,
        devbox_id: &str,
        params: &SnapshotParams,
    ) -> Result<Snapshot, ApiError> {
        self.call(&ep::SnapshotDiskAsync {
            devbox_id: devbox_id.into(),
            body: params.clone(),
        })
        .await
    }

    /// `GET /v1/devboxes/disk_snapshots/{id}/status`.
    pub async fn snapshot_status(&self, id: &str) -> Result<SnapshotStatusView, ApiError> {
        self.call(&ep::GetSnapshotStatus { id: id.into() }).await
    }

    /// `GET /v1/devboxes/disk_snapshots` (one page).
    pub async fn list_snapshots(
        &self,
        query: &ep::ListSnapshots,
    ) -> Result<SnapshotList, ApiError> {
        self.call(query).await
    }

    /// Every snapshot matching `query`, as a stream.
    pub fn snapshots(
        &self,
        query: ep::ListSnapshots,
    ) -> impl Stream<Item = Result<Snapshot, ApiError>> + '_ {
        self.paginate(query)
    }

    /// `POST /v1/devboxes/disk_snapshots/{id}`: the metadata given replaces the stored
    /// map, so pass the merged map.
    pub async fn update_snapshot(
        &self,
        id: &str,
        params: &SnapshotParams,
    ) -> Result<Snapshot, ApiError> {
        self.call(&ep::UpdateSnapshot {
            id: id.into(),
            body: params.clone(),
        })
        .await
    }

    /// `POST /v1/devboxes/disk_snapshots/{id}/delete`; 409 unless complete.
    pub async fn delete_snapshot(&self, id: &str) -> Result<(), ApiError> {
        self.call(&ep::DeleteSnapshot { id: id.into() }).await
    }

    // ----------------------------------------------------------------------------
    // Blueprints
    // ----------------------------------------------------------------------------

    /// `GET /v1/blueprints` (one page).
    pub async fn list_blueprints(
        &self,
        query: &ep::ListBlueprints,
    ) -> Result<BlueprintList, ApiError> {
        self.call(query).await
    }

    /// Every blueprint matching `query`, as a stream.
    pub fn blueprints(
        &self,
        query: ep::ListBlueprints,
    ) -> impl Stream<Item = Result<Blueprint, ApiError>> + '_ {
        self.paginate(query)
    }

    /// `GET /v1/blueprints/{id}`.
    pub async fn get_blueprint(&self, id: &str) -> Result<Blueprint, ApiError> {
        self.call(&ep::GetBlueprint { id: id.into() }).await
    }

    /// `POST /v1/blueprints`.
    pub async fn create_blueprint(
        &self,
        body: &types::CreateBlueprint,
    ) -> Result<Blueprint, ApiError> {
        self.call(&ep::CreateBlueprint { body: body.clone() }).await
    }

    /// `POST /v1/blueprints/{id}/delete`; 400 while snapshots depend on it.
    pub async fn delete_blueprint(&self, id: &str) -> Result<(), ApiError> {
        self.call(&ep::DeleteBlueprint { id: id.into() }).await
    }

    /// `GET /v1/blueprints/{id}/logs`.
    pub async fn blueprint_logs(&self, id: &str) -> Result<BlueprintLogs, ApiError> {
        self.call(&ep::GetBlueprintLogs { id: id.into() }).await
    }

    // ----------------------------------------------------------------------------
    // Files
    // ----------------------------------------------------------------------------

    /// `POST /v1/devboxes/{id}/write_file_contents`.
    pub async fn write_file_contents(
        &self,
        devbox_id: &str,
        file_path: &str,
        contents: &str,
    ) -> Result<ExecutionDetail, ApiError> {
        self.call(&ep::WriteFileContents {
            devbox_id: devbox_id.into(),
            body: types::WriteFile {
                file_path: file_path.into(),
                contents: contents.into(),
            },
        })
        .await
    }

    /// `POST /v1/devboxes/{id}/read_file_contents` → the text.
    pub async fn read_file_contents(
        &self,
        devbox_id: &str,
        file_path: &str,
    ) -> Result<String, ApiError> {
        self.call(&ep::ReadFileContents {
            devbox_id: devbox_id.into(),
            body: types::ReadFile {
                file_path: file_path.into(),
            },
        })
        .await
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use std::cell::RefCell;
    use std::collections::VecDeque;

    use futures::StreamExt;
    use futures::executor::block_on;

    use super::*;
    use crate::endpoints::ListSnapshots;

    /// A scripted transport: answers from a queue, records requests and sleeps,
    /// and never really waits.
    #[derive(Default)]
    struct Fake {
        answers: RefCell<VecDeque<Result<HttpResponse, TransportError>>>,
        sent: RefCell<Vec<HttpRequest>>,
        slept: RefCell<Vec<Duration>>,
        /// When set, `send` never completes (to exercise the client's timeout).
        hang: bool,
    }

    impl Fake {
        fn answering(answers: Vec<Result<HttpResponse, TransportError>>) -> Self {
            Self {
                answers: RefCell::new(answers.into()),
                ..Self::default()
            }
        }
    }

    impl Transport for Fake {
        async fn send(&self, req: HttpRequest) -> Result<HttpResponse, TransportError> {
            self.sent.borrow_mut().push(req);
            if self.hang {
                futures::future::pending::<()>().await;
            }
            self.answers
                .borrow_mut()
                .pop_front()
                .unwrap_or(Err(TransportError::Network("script exhausted".into())))
        }
        async fn sleep(&self, d: Duration) {
            self.slept.borrow_mut().push(d);
        }
        fn random_u64(&self) -> u64 {
            0
        }
    }

    fn ok(body: &str) -> Result<HttpResponse, TransportError> {
        Ok(HttpResponse::new(200, body))
    }

    const DEVBOX: &str = r#"{"id":"dbx_1","status":"running","create_time_ms":1}"#;

    #[test]
    fn requests_carry_base_url_auth_and_json_headers() {
        let fake = Fake::answering(vec![ok(DEVBOX)]);
        let client = Client::new(&fake, "https://api.example.test/").with_api_key("k1");
        let dbx = block_on(client.get_devbox("dbx_1")).expect("ok");
        assert_eq!(dbx.id, "dbx_1");
        let sent = fake.sent.borrow();
        assert_eq!(sent[0].url, "https://api.example.test/v1/devboxes/dbx_1");
        assert_eq!(sent[0].header("authorization"), Some("Bearer k1"));
        assert_eq!(sent[0].header("accept"), Some("application/json"));
        // GET: no body, no content type, no idempotency key needed.
        assert_eq!(sent[0].header("content-type"), None);
        assert_eq!(sent[0].header(REQUEST_ID_HEADER), None);
    }

    #[test]
    fn empty_base_url_means_same_origin_and_blank_key_means_none() {
        let fake = Fake::answering(vec![ok(DEVBOX)]);
        let client = Client::new(&fake, "").with_api_key("  ");
        block_on(client.get_devbox("dbx_1")).expect("ok");
        let sent = fake.sent.borrow();
        assert_eq!(sent[0].url, "/v1/devboxes/dbx_1");
        assert_eq!(sent[0].header("authorization"), None);
    }

    #[test]
    fn a_post_is_retried_with_the_same_request_id() {
        let fake = Fake::answering(vec![
            Ok(HttpResponse::new(503, "busy")),
            Err(TransportError::Network("reset".into())),
            ok(DEVBOX),
        ]);
        let client = Client::new(&fake, "");
        block_on(client.create_devbox(&Default::default())).expect("third attempt succeeds");
        let sent = fake.sent.borrow();
        assert_eq!(sent.len(), 3);
        let ids: Vec<_> = sent.iter().map(|r| r.header(REQUEST_ID_HEADER)).collect();
        assert!(ids[0].is_some());
        assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
        assert_eq!(sent[0].header("content-type"), Some("application/json"));
        assert_eq!(
            *fake.slept.borrow(),
            [Duration::from_millis(500), Duration::from_millis(1000)]
        );
    }

    #[test]
    fn rate_limit_waits_as_long_as_the_server_asks() {
        let fake = Fake::answering(vec![
            Ok(HttpResponse::new(429, "").with_header("Retry-After", "2")),
            ok(DEVBOX),
        ]);
        block_on(Client::new(&fake, "").get_devbox("dbx_1")).expect("ok");
        assert_eq!(*fake.slept.borrow(), [Duration::from_secs(2)]);
    }

    #[test]
    fn conflicts_surface_at_once() {
        let fake = Fake::answering(vec![Ok(HttpResponse::new(
            409,
            r#"{"message":"snapshot in progress"}"#,
        ))]);
        let err =
            block_on(Client::new(&fake, "").shutdown_devbox("dbx_1", false)).expect_err("conflict");
        assert_eq!(
            err,
            ApiError::Api {
                status: 409,
                message: "snapshot in progress".into()
            }
        );
        assert_eq!(fake.sent.borrow().len(), 1);
    }

    #[test]
    fn retries_give_up_after_the_bound_with_the_last_error() {
        let fake = Fake::answering(vec![Ok(HttpResponse::new(500, "boom")); 10]);
        let err = block_on(Client::new(&fake, "").get_devbox("d")).expect_err("gives up");
        assert_eq!(err.status(), Some(500));
        assert_eq!(fake.sent.borrow().len(), 4, "1 attempt + 3 retries");
    }

    #[test]
    fn a_hanging_request_times_out_as_a_transport_error() {
        let fake = Fake {
            hang: true,
            ..Fake::default()
        };
        let client = Client::new(&fake, "")
            .with_retry_policy(RetryPolicy::none())
            .with_timeout(Some(Duration::from_secs(3)));
        let err = block_on(client.get_devbox("d")).expect_err("timeout");
        assert!(matches!(err, ApiError::Transport(_)), "{err:?}");
        assert!(err.is_retryable());
        assert_eq!(*fake.slept.borrow(), [Duration::from_secs(3)]);
    }

    #[test]
    fn aborts_are_reported_as_aborted_and_not_retried() {
        let fake = Fake::answering(vec![Err(TransportError::Aborted)]);
        let err = block_on(Client::new(&fake, "").get_devbox("d")).expect_err("aborted");
        assert_eq!(err, ApiError::Aborted);
        assert_eq!(fake.sent.borrow().len(), 1);
    }

    fn snap_page(ids: &[&str], has_more: bool) -> Result<HttpResponse, TransportError> {
        let snaps: Vec<_> = ids
            .iter()
            .map(|id| {
                serde_json::json!({"id": id, "create_time_ms": 1, "source_devbox_id": "dbx_1", "metadata": {}})
            })
            .collect();
        ok(
            &serde_json::json!({"snapshots": snaps, "has_more": has_more, "total_count": 3})
                .to_string(),
        )
    }

    #[test]
    fn pagination_follows_the_last_id_until_has_more_is_false() {
        let fake = Fake::answering(vec![
            snap_page(&["s1", "s2"], true),
            snap_page(&["s3"], false),
        ]);
        let client = Client::new(&fake, "");
        let query = ListSnapshots {
            devbox_id: Some("dbx_1".into()),
            limit: Some(2),
            ..Default::default()
        };
        let ids: Vec<String> = block_on(
            client
                .snapshots(query)
                .map(|r| r.map(|s| s.id))
                .collect::<Vec<_>>(),
        )
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("all pages");
        assert_eq!(ids, ["s1", "s2", "s3"]);
        let urls: Vec<String> = fake.sent.borrow().iter().map(|r| r.url.clone()).collect();
        assert_eq!(
            urls,
            [
                "/v1/devboxes/disk_snapshots?devbox_id=dbx_1&limit=2",
                "/v1/devboxes/disk_snapshots?devbox_id=dbx_1&limit=2&starting_after=s2",
            ]
        );
    }

    #[test]
    fn pagination_stops_on_an_empty_page_and_on_a_stuck_cursor() {
        let fake = Fake::answering(vec![snap_page(&[], true)]);
        let client = Client::new(&fake, "");
        let n = block_on(client.snapshots(Default::default()).collect::<Vec<_>>()).len();
        assert_eq!(n, 0);
        assert_eq!(fake.sent.borrow().len(), 1);

        // A server that keeps returning the same page must not loop forever.
        let fake = Fake::answering(vec![snap_page(&["s1"], true), snap_page(&["s1"], true)]);
        let client = Client::new(&fake, "");
        let n = block_on(client.snapshots(Default::default()).collect::<Vec<_>>()).len();
        assert_eq!(n, 2);
        assert_eq!(fake.sent.borrow().len(), 2);
    }

    #[test]
    fn pagination_surfaces_an_error_and_ends() {
        let fake = Fake::answering(vec![
            snap_page(&["s1"], true),
            Ok(HttpResponse::new(401, r#"{"message":"bad key"}"#)),
        ]);
        let client = Client::new(&fake, "");
        let items = block_on(client.snapshots(Default::default()).collect::<Vec<_>>());
        assert_eq!(items.len(), 2);
        assert!(items[0].is_ok());
        assert_eq!(
            items[1].as_ref().err().and_then(ApiError::status),
            Some(401)
        );
    }

    #[test]
    fn a_page_of_real_devboxes_with_half_a_cpu_core_decodes() {
        // Regression: custom_cpu_cores was an integer here, so one devbox on 0.5 cores
        // made the whole list fail to decode in the dashboard.
        let page = r#"{"devboxes":[
            {"id":"dbx_a","status":"running","create_time_ms":2,"end_time_ms":null,
             "metadata":{},"capabilities":[],"state_transitions":[],
             "launch_parameters":{"resource_size_request":"CUSTOM_SIZE",
               "custom_cpu_cores":0.5,"custom_gb_memory":1,"keep_alive_time_seconds":3600}},
            {"id":"dbx_b","status":"running","create_time_ms":1,
             "launch_parameters":{"resource_size_request":"SMALL"}}
        ],"has_more":false,"total_count":2}"#;
        let fake = Fake::answering(vec![ok(page)]);
        let list =
            block_on(Client::new(&fake, "").list_devboxes(&Default::default())).expect("decodes");
        assert_eq!(list.devboxes.len(), 2);
        assert_eq!(
            list.devboxes[0].launch_parameters.custom_cpu_cores,
            Some(0.5)
        );
    }

    #[test]
    fn single_page_reports_total_count() {
        let fake = Fake::answering(vec![snap_page(&["s1"], true)]);
        let page = block_on(Client::new(&fake, "").page(&ListSnapshots::default())).expect("ok");
        assert_eq!(page.total_count, Some(3));
        assert!(page.has_more);
    }

    #[test]
    fn client_is_send_and_sync_when_the_transport_is() {
        fn assert_send_sync<T: Send + Sync>() {}
        struct SyncTransport;
        impl Transport for SyncTransport {
            async fn send(&self, _: HttpRequest) -> Result<HttpResponse, TransportError> {
                Err(TransportError::Aborted)
            }
            async fn sleep(&self, _: Duration) {}
            fn random_u64(&self) -> u64 {
                4
            }
        }
        assert_send_sync::<Client<SyncTransport>>();
    }

    #[test]
    fn await_devbox_status_polls_through_holds_and_network_errors() {
        let fake = Fake::answering(vec![
            Ok(HttpResponse::new(408, "{}")),
            Err(TransportError::Network("reset".into())),
            Ok(HttpResponse::new(408, "{}")),
            ok(DEVBOX),
        ]);
        let client = Client::new(&fake, "");
        let d = block_on(client.await_devbox_status("dbx_1", &AWAIT_RUNNING, 10)).expect("ok");
        assert_eq!(d.map(|d| d.status), Some(DevboxStatus::Running));
        assert_eq!(fake.sent.borrow().len(), 4);
        // Only the network error waited; 408s poll again at once.
        assert_eq!(*fake.slept.borrow(), [Duration::from_millis(500)]);
    }

    #[test]
    fn await_devbox_status_gives_up_after_max_polls_and_stops_on_api_errors() {
        let fake = Fake::answering(vec![Ok(HttpResponse::new(408, "{}")); 3]);
        let client = Client::new(&fake, "");
        assert_eq!(
            block_on(client.await_devbox_status("d", &AWAIT_RUNNING, 3)),
            Ok(None)
        );
        let fake = Fake::answering(vec![Ok(HttpResponse::new(404, "{}"))]);
        let client = Client::new(&fake, "");
        let err = block_on(client.await_devbox_status("d", &AWAIT_RUNNING, 3)).expect_err("404");
        assert!(err.is_not_found());
    }

    #[test]
    fn wait_for_status_returns_none_on_408_without_retrying() {
        let fake = Fake::answering(vec![Ok(HttpResponse::new(408, "{}"))]);
        let r = block_on(Client::new(&fake, "").wait_for_status(
            "dbx_1",
            &[DevboxStatus::Running],
            Some(5.0),
        ));
        assert_eq!(r, Ok(None));
        let sent = fake.sent.borrow();
        assert_eq!(sent.len(), 1);
        assert_eq!(
            sent[0].body.as_deref(),
            Some(br#"{"statuses":["running"],"timeout_seconds":5.0}"#.as_slice())
        );
    }
}
