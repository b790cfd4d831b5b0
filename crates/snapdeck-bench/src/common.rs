//! Shared plumbing: a request-counting transport, the clock, and API helpers.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::TryStreamExt;
use snapdeck_api::endpoints::ListSnapshots;
use snapdeck_api::{
    ApiError, Client, CreateDevbox, DevboxStatus, HttpRequest, HttpResponse, NativeTransport,
    Snapshot, Transport, TransportError,
};

/// Any error of a bench step, as text (these tools print figures, not typed errors).
pub type Res<T> = Result<T, String>;

/// Turns any displayable error into the bench's error text.
pub fn err<E: std::fmt::Display>(context: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{context}: {e}")
}

/// [`NativeTransport`] that counts the HTTP exchanges it performs (retries included).
#[derive(Debug, Clone)]
pub struct Counting {
    inner: NativeTransport,
    count: Arc<AtomicU64>,
}

impl Counting {
    /// Requests sent so far.
    pub fn requests(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

impl Transport for Counting {
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.count.fetch_add(1, Ordering::Relaxed);
        self.inner.send(req).await
    }

    async fn sleep(&self, d: Duration) {
        self.inner.sleep(d).await;
    }

    fn random_u64(&self) -> u64 {
        self.inner.random_u64()
    }
}

/// The snapdeck-api client every tool uses.
pub type Api = Client<Counting>;

/// A client for `url` with `key`, over a reqwest pool big enough for the concurrency
/// the tools use.
pub fn client(url: &str, key: &str) -> Res<Api> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .tcp_nodelay(true)
        .build()
        .map_err(err("building the HTTP client"))?;
    let transport = Counting {
        inner: NativeTransport::new(http),
        count: Arc::new(AtomicU64::new(0)),
    };
    Ok(Client::new(transport, url).with_api_key(key))
}

/// Requests made by `api` so far.
pub fn requests(api: &Api) -> u64 {
    api.transport().requests()
}

/// Wall clock, Unix ms (the emulator's clock is the same machine's).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Seconds since `t0`, as a float.
pub fn secs_since(t0: std::time::Instant) -> f64 {
    t0.elapsed().as_secs_f64()
}

/// Snapshots per list page: the API's maximum.
pub const LIST_PAGE: u32 = 5000;

/// Every listed snapshot (of one devbox, or all), [`LIST_PAGE`] per page.
pub async fn list_snapshots(api: &Api, devbox_id: Option<&str>) -> Result<Vec<Snapshot>, ApiError> {
    api.snapshots(ListSnapshots {
        devbox_id: devbox_id.map(str::to_owned),
        limit: Some(LIST_PAGE),
        include_total_count: Some(false),
        ..ListSnapshots::default()
    })
    .try_collect()
    .await
}

/// [`list_snapshots`], with the bench's error text.
pub async fn all_snapshots(api: &Api, devbox_id: Option<&str>) -> Res<Vec<Snapshot>> {
    list_snapshots(api, devbox_id)
        .await
        .map_err(err("listing snapshots"))
}

/// Creates a devbox and waits until it is running; returns its id.
pub async fn running_devbox(api: &Api, name: &str) -> Res<String> {
    let dbx = api
        .create_devbox(&CreateDevbox {
            name: Some(name.to_owned()),
            ..CreateDevbox::default()
        })
        .await
        .map_err(err("creating a devbox"))?;
    for _ in 0..20 {
        match api
            .wait_for_status(&dbx.id, &[DevboxStatus::Running], Some(10.0))
            .await
        {
            Ok(Some(_)) => return Ok(dbx.id),
            Ok(None) => {}
            Err(ApiError::Api { status: 408, .. }) => {}
            Err(e) => return Err(format!("waiting for devbox {}: {e}", dbx.id)),
        }
    }
    Err(format!("devbox {} never became running", dbx.id))
}

/// Median of a list of floats (0 when empty).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}
