//! Every Runloop call snapdeck makes, as plain data: one struct per endpoint that
//! knows its method, path, query and body ([`Endpoint::request`]) and how to read the
//! answer ([`Endpoint::decode`]). Nothing here sends anything, so request building is
//! tested without a network.
//!
//! Names follow the operation (`ListDevboxes`, `SnapshotDiskAsync`, …). Three of them
//! share a name with the body type they carry ([`CreateDevbox`] wraps
//! [`types::CreateDevbox`], likewise [`UpdateDevbox`] and
//! [`CreateBlueprint`]), so this module is not glob re-exported at the crate root:
//! write `endpoints::CreateDevbox`. Most callers use the [`Client`](crate::Client)
//! methods instead.

use std::time::Duration;

use crate::error::ApiError;
use crate::http::{HttpResponse, Query, Request, encode_path_segment as seg};
use crate::retry::RetryPolicy;
use crate::types::{
    self, Blueprint, BlueprintList, BlueprintLogs, Devbox, DevboxList, DevboxStatus,
    ExecutionDetail, SnapshotList, SnapshotParams, SnapshotStatusView,
};

/// One API operation.
pub trait Endpoint {
    /// What a successful call yields.
    type Output: FromResponse;

    /// The request, relative to the base URL.
    fn request(&self) -> Result<Request, ApiError>;

    /// Reads the response (any status) into the output or an error.
    fn decode(&self, resp: HttpResponse) -> Result<Self::Output, ApiError> {
        Self::Output::from_response(resp)
    }

    /// The retry rules for this call, given the client's. Long polls opt out.
    fn retry_policy(&self, client_default: RetryPolicy) -> RetryPolicy {
        client_default
    }

    /// A per-call timeout overriding the client's (slow synchronous operations).
    fn timeout(&self) -> Option<Duration> {
        None
    }
}

/// How an output type is read from a response.
pub trait FromResponse: Sized {
    /// Non-2xx → [`ApiError::Api`]; 2xx → the decoded value or [`ApiError::Decode`].
    fn from_response(resp: HttpResponse) -> Result<Self, ApiError>;
}

/// Decodes a 2xx JSON body, or turns a non-2xx into an [`ApiError::Api`].
pub fn decode_json<T: serde::de::DeserializeOwned>(resp: &HttpResponse) -> Result<T, ApiError> {
    if !resp.is_success() {
        return Err(ApiError::from_response(resp));
    }
    serde_json::from_slice(&resp.body).map_err(|e| {
        ApiError::Decode(format!(
            "expected {} but got a body that does not match ({e})",
            short_type_name::<T>()
        ))
    })
}

fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full)
}

macro_rules! json_output {
    ($($t:ty),* $(,)?) => {$(
        impl FromResponse for $t {
            fn from_response(resp: HttpResponse) -> Result<Self, ApiError> {
                decode_json(&resp)
            }
        }
    )*};
}

// For the other endpoint modules of the crate (`commands`).
pub(crate) use json_output;

json_output!(
    Devbox,
    DevboxList,
    types::Snapshot,
    SnapshotList,
    SnapshotStatusView,
    Blueprint,
    BlueprintList,
    BlueprintLogs,
    ExecutionDetail,
);

/// Calls that answer `{}`: only the status matters.
impl FromResponse for () {
    fn from_response(resp: HttpResponse) -> Result<Self, ApiError> {
        if resp.is_success() {
            Ok(())
        } else {
            Err(ApiError::from_response(&resp))
        }
    }
}

/// `text/plain` answers (`read_file_contents`).
impl FromResponse for String {
    fn from_response(resp: HttpResponse) -> Result<Self, ApiError> {
        if !resp.is_success() {
            return Err(ApiError::from_response(&resp));
        }
        String::from_utf8(resp.body)
            .map_err(|_| ApiError::Decode("the file contents are not UTF-8 text".into()))
    }
}

/// Long poll: 408 means "the hold elapsed without a match", which is not an error.
impl FromResponse for Option<Devbox> {
    fn from_response(resp: HttpResponse) -> Result<Self, ApiError> {
        if resp.status == 408 {
            return Ok(None);
        }
        decode_json(&resp).map(Some)
    }
}

/// Adds the cursor-paging parameters shared by every list endpoint.
fn push_paging(
    q: &mut Query,
    limit: Option<u32>,
    starting_after: Option<&str>,
    include_total_count: Option<bool>,
) {
    q.push_opt("limit", limit)
        .push_opt("starting_after", starting_after)
        .push_opt("include_total_count", include_total_count);
}

fn devbox_path(id: &str, action: &str) -> String {
    format!("/v1/devboxes/{}{action}", seg(id))
}

fn snapshot_path(id: &str, action: &str) -> String {
    format!("/v1/devboxes/disk_snapshots/{}{action}", seg(id))
}

// ---------------------------------------------------------------------------------
// Devboxes
// ---------------------------------------------------------------------------------

/// `GET /v1/devboxes`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListDevboxes {
    /// Only devboxes in this status.
    pub status: Option<DevboxStatus>,
    /// Page size (server default 20, max 5000).
    pub limit: Option<u32>,
    /// Cursor: the id of the last devbox of the previous page.
    pub starting_after: Option<String>,
    /// Ask for `total_count` (server default true).
    pub include_total_count: Option<bool>,
}

impl Endpoint for ListDevboxes {
    type Output = DevboxList;
    fn request(&self) -> Result<Request, ApiError> {
        let mut q = Query::new();
        q.push_opt("status", self.status.map(DevboxStatus::as_str));
        push_paging(
            &mut q,
            self.limit,
            self.starting_after.as_deref(),
            self.include_total_count,
        );
        Ok(Request::get("/v1/devboxes", &q))
    }
}

/// `GET /v1/devboxes/{id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetDevbox {
    pub id: String,
}

impl Endpoint for GetDevbox {
    type Output = Devbox;
    fn request(&self) -> Result<Request, ApiError> {
        Ok(Request::get(devbox_path(&self.id, ""), &Query::new()))
    }
}

/// `POST /v1/devboxes`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateDevbox {
    pub body: types::CreateDevbox,
}

impl Endpoint for CreateDevbox {
    type Output = Devbox;
    fn request(&self) -> Result<Request, ApiError> {
        Request::post_json("/v1/devboxes", &self.body)
    }
}

/// `POST /v1/devboxes/{id}` (patch-like: omitted fields stay; a metadata map replaces).
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateDevbox {
    pub id: String,
    pub body: types::UpdateDevbox,
}

impl Endpoint for UpdateDevbox {
    type Output = Devbox;
    fn request(&self) -> Result<Request, ApiError> {
        Request::post_json(devbox_path(&self.id, ""), &self.body)
    }
}

/// `POST /v1/devboxes/{id}/shutdown[?force=true]`. Without `force` the API answers 409
/// while a snapshot of the devbox is in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShutdownDevbox {
    pub id: String,
    /// Shut down even with snapshots in progress (sent as the query `force=true`).
    pub force: bool,
}

impl Endpoint for ShutdownDevbox {
    type Output = Devbox;
    fn request(&self) -> Result<Request, ApiError> {
        let mut q = Query::new();
        if self.force {
            q.push("force", "true");
        }
        Ok(Request::post_empty(devbox_path(&self.id, "/shutdown"), &q))
    }
}

/// `POST /v1/devboxes/{id}/suspend` (400 when the devbox is not running).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuspendDevbox {
    pub id: String,
}

impl Endpoint for SuspendDevbox {
    type Output = Devbox;
    fn request(&self) -> Result<Request, ApiError> {
        Ok(Request::post_empty(
            devbox_path(&self.id, "/suspend"),
            &Query::new(),
        ))
    }
}

/// `POST /v1/devboxes/{id}/resume` (400 when the devbox is not suspended).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumeDevbox {
    pub id: String,
}

impl Endpoint for ResumeDevbox {
    type Output = Devbox;
    fn request(&self) -> Result<Request, ApiError> {
        Ok(Request::post_empty(
            devbox_path(&self.id, "/resume"),
            &Query::new(),
        ))
    }
}

/// `POST /v1/devboxes/{id}/keep_alive` → `{}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeepAliveDevbox {
    pub id: String,
}

impl Endpoint for KeepAliveDevbox {
    type Output = ();
    fn request(&self) -> Result<Request, ApiError> {
        Ok(Request::post_empty(
            devbox_path(&self.id, "/keep_alive"),
            &Query::new(),
        ))
    }
}

/// `POST /v1/devboxes/{id}/wait_for_status`: the server holds the request until the
/// devbox reaches one of `statuses` (→ `Some(devbox)`) or the hold elapses (408 →
/// `None`). Never retried, like the SDKs: the caller loops.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitForDevboxStatus {
    pub id: String,
    pub body: types::WaitForStatus,
}

/// Server-side default hold when `timeout_seconds` is omitted.
const DEFAULT_HOLD_SECS: f64 = 10.0;
/// The server clamps the hold to this.
const MAX_HOLD_SECS: f64 = 30.0;

impl Endpoint for WaitForDevboxStatus {
    type Output = Option<Devbox>;
    fn request(&self) -> Result<Request, ApiError> {
        Request::post_json(devbox_path(&self.id, "/wait_for_status"), &self.body)
    }
    fn retry_policy(&self, _: RetryPolicy) -> RetryPolicy {
        RetryPolicy::none()
    }
    fn timeout(&self) -> Option<Duration> {
        // Hold + 5 s, so the server's 408 arrives before our own timeout fires.
        let hold = self
            .body
            .timeout_seconds
            .filter(|s| s.is_finite() && *s > 0.0)
            .unwrap_or(DEFAULT_HOLD_SECS)
            .min(MAX_HOLD_SECS);
        Some(Duration::from_secs_f64(hold + 5.0))
    }
}

// ---------------------------------------------------------------------------------
// Disk snapshots
// ---------------------------------------------------------------------------------

/// Synchronous snapshots and file operations can take minutes (Python SDK: 600 s).
const SLOW_CALL_TIMEOUT: Duration = Duration::from_secs(600);

/// `POST /v1/devboxes/{id}/snapshot_disk`: answers once the snapshot is done.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SnapshotDisk {
    pub devbox_id: String,
    pub body: SnapshotParams,
}

impl Endpoint for SnapshotDisk {
    type Output = types::Snapshot;
    fn request(&self) -> Result<Request, ApiError> {
        Request::post_json(devbox_path(&self.devbox_id, "/snapshot_disk"), &self.body)
    }
    fn timeout(&self) -> Option<Duration> {
        Some(SLOW_CALL_TIMEOUT)
    }
}

/// `POST /v1/devboxes/{id}/snapshot_disk_async`: answers at once; poll
/// [`GetSnapshotStatus`] with the returned id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SnapshotDiskAsync {
    pub devbox_id: String,
    pub body: SnapshotParams,
}

impl Endpoint for SnapshotDiskAsync {
    type Output = types::Snapshot;
    fn request(&self) -> Result<Request, ApiError> {
        Request::post_json(
            devbox_path(&self.devbox_id, "/snapshot_disk_async"),
            &self.body,
        )
    }
}

/// `GET /v1/devboxes/disk_snapshots/{id}/status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetSnapshotStatus {
    pub id: String,
}

impl Endpoint for GetSnapshotStatus {
    type Output = SnapshotStatusView;
    fn request(&self) -> Result<Request, ApiError> {
        Ok(Request::get(
            snapshot_path(&self.id, "/status"),
            &Query::new(),
        ))
    }
}

/// One metadata filter of the snapshot list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataFilter {
    /// `metadata[key]=value`.
    Eq { key: String, value: String },
    /// `metadata[key][in]=v1,v2`.
    In { key: String, values: Vec<String> },
}

/// `GET /v1/devboxes/disk_snapshots`. Items carry no status: ask
/// [`GetSnapshotStatus`] per snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListSnapshots {
    /// Only snapshots of this devbox.
    pub devbox_id: Option<String>,
    /// Only snapshots whose devbox came from this blueprint.
    pub source_blueprint_id: Option<String>,
    /// Metadata filters, all of which must match.
    pub metadata: Vec<MetadataFilter>,
    pub limit: Option<u32>,
    pub starting_after: Option<String>,
    pub include_total_count: Option<bool>,
}

impl Endpoint for ListSnapshots {
    type Output = SnapshotList;
    fn request(&self) -> Result<Request, ApiError> {
        let mut q = Query::new();
        q.push_opt("devbox_id", self.devbox_id.as_deref())
            .push_opt("source_blueprint_id", self.source_blueprint_id.as_deref());
        for f in &self.metadata {
            match f {
                MetadataFilter::Eq { key, value } => q.push_metadata_eq(key, value),
                MetadataFilter::In { key, values } => q.push_metadata_in(key, values),
            };
        }
        push_paging(
            &mut q,
            self.limit,
            self.starting_after.as_deref(),
            self.include_total_count,
        );
        Ok(Request::get("/v1/devboxes/disk_snapshots", &q))
    }
}

/// `POST /v1/devboxes/disk_snapshots/{id}`. The metadata map given **replaces** the
/// stored one: read, merge, then write.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateSnapshot {
    pub id: String,
    pub body: SnapshotParams,
}

impl Endpoint for UpdateSnapshot {
    type Output = types::Snapshot;
    fn request(&self) -> Result<Request, ApiError> {
        Request::post_json(snapshot_path(&self.id, ""), &self.body)
    }
}

/// `POST /v1/devboxes/disk_snapshots/{id}/delete` → `{}`; 409 unless the snapshot is
/// complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteSnapshot {
    pub id: String,
}

impl Endpoint for DeleteSnapshot {
    type Output = ();
    fn request(&self) -> Result<Request, ApiError> {
        Ok(Request::post_empty(
            snapshot_path(&self.id, "/delete"),
            &Query::new(),
        ))
    }
}

// ---------------------------------------------------------------------------------
// Blueprints
// ---------------------------------------------------------------------------------

/// `GET /v1/blueprints`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListBlueprints {
    pub name: Option<String>,
    /// Build status filter, e.g. `build_complete`.
    pub status: Option<String>,
    pub limit: Option<u32>,
    pub starting_after: Option<String>,
    pub include_total_count: Option<bool>,
}

impl Endpoint for ListBlueprints {
    type Output = BlueprintList;
    fn request(&self) -> Result<Request, ApiError> {
        let mut q = Query::new();
        q.push_opt("name", self.name.as_deref())
            .push_opt("status", self.status.as_deref());
        push_paging(
            &mut q,
            self.limit,
            self.starting_after.as_deref(),
            self.include_total_count,
        );
        Ok(Request::get("/v1/blueprints", &q))
    }
}

/// `GET /v1/blueprints/{id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetBlueprint {
    pub id: String,
}

impl Endpoint for GetBlueprint {
    type Output = Blueprint;
    fn request(&self) -> Result<Request, ApiError> {
        Ok(Request::get(
            format!("/v1/blueprints/{}", seg(&self.id)),
            &Query::new(),
        ))
    }
}

/// `POST /v1/blueprints`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateBlueprint {
    pub body: types::CreateBlueprint,
}

impl Endpoint for CreateBlueprint {
    type Output = Blueprint;
    fn request(&self) -> Result<Request, ApiError> {
        Request::post_json("/v1/blueprints", &self.body)
    }
}

/// `POST /v1/blueprints/{id}/delete`: 400 while snapshots depend on it (the message
/// names them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteBlueprint {
    pub id: String,
}

impl Endpoint for DeleteBlueprint {
    type Output = ();
    fn request(&self) -> Result<Request, ApiError> {
        Ok(Request::post_empty(
            format!("/v1/blueprints/{}/delete", seg(&self.id)),
            &Query::new(),
        ))
    }
}

/// `GET /v1/blueprints/{id}/logs`: the build's log lines so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetBlueprintLogs {
    pub id: String,
}

impl Endpoint for GetBlueprintLogs {
    type Output = BlueprintLogs;
    fn request(&self) -> Result<Request, ApiError> {
        Ok(Request::get(
            format!("/v1/blueprints/{}/logs", seg(&self.id)),
            &Query::new(),
        ))
    }
}

// ---------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------

/// `POST /v1/devboxes/{id}/write_file_contents`.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteFileContents {
    pub devbox_id: String,
    pub body: types::WriteFile,
}

impl Endpoint for WriteFileContents {
    type Output = ExecutionDetail;
    fn request(&self) -> Result<Request, ApiError> {
        Request::post_json(
            devbox_path(&self.devbox_id, "/write_file_contents"),
            &self.body,
        )
    }
    fn timeout(&self) -> Option<Duration> {
        Some(SLOW_CALL_TIMEOUT)
    }
}

/// `POST /v1/devboxes/{id}/read_file_contents` → the contents as `text/plain`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadFileContents {
    pub devbox_id: String,
    pub body: types::ReadFile,
}

impl Endpoint for ReadFileContents {
    type Output = String;
    fn request(&self) -> Result<Request, ApiError> {
        let mut r = Request::post_json(
            devbox_path(&self.devbox_id, "/read_file_contents"),
            &self.body,
        )?;
        // The answer is text; errors may still be JSON.
        r.headers
            .push(("accept".into(), "text/plain, application/json".into()));
        Ok(r)
    }
    fn timeout(&self) -> Option<Duration> {
        Some(SLOW_CALL_TIMEOUT)
    }
}

// ---------------------------------------------------------------------------------
// Pagination
// ---------------------------------------------------------------------------------

/// One page of a list endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_more: bool,
    /// Present when the request asked for it (the server default).
    pub total_count: Option<u64>,
}

/// A list endpoint paged by `starting_after` = the last item's id.
pub trait Paginated: Endpoint + Clone {
    type Item;
    /// The cursor this request starts after.
    fn starting_after(&self) -> Option<&str>;
    /// Sets the cursor for the next page.
    fn set_starting_after(&mut self, id: String);
    /// Splits the list view into items and paging info.
    fn into_page(out: Self::Output) -> Page<Self::Item>;
    /// The id used as the cursor.
    fn item_id(item: &Self::Item) -> &str;
}

impl Paginated for ListDevboxes {
    type Item = Devbox;
    fn starting_after(&self) -> Option<&str> {
        self.starting_after.as_deref()
    }
    fn set_starting_after(&mut self, id: String) {
        self.starting_after = Some(id);
    }
    fn into_page(out: DevboxList) -> Page<Devbox> {
        Page {
            items: out.devboxes,
            has_more: out.has_more,
            total_count: out.total_count,
        }
    }
    fn item_id(item: &Devbox) -> &str {
        &item.id
    }
}

impl Paginated for ListSnapshots {
    type Item = types::Snapshot;
    fn starting_after(&self) -> Option<&str> {
        self.starting_after.as_deref()
    }
    fn set_starting_after(&mut self, id: String) {
        self.starting_after = Some(id);
    }
    fn into_page(out: SnapshotList) -> Page<types::Snapshot> {
        Page {
            items: out.snapshots,
            has_more: out.has_more,
            total_count: out.total_count,
        }
    }
    fn item_id(item: &types::Snapshot) -> &str {
        &item.id
    }
}

impl Paginated for ListBlueprints {
    type Item = Blueprint;
    fn starting_after(&self) -> Option<&str> {
        self.starting_after.as_deref()
    }
    fn set_starting_after(&mut self, id: String) {
        self.starting_after = Some(id);
    }
    fn into_page(out: BlueprintList) -> Page<Blueprint> {
        Page {
            items: out.blueprints,
            has_more: out.has_more,
            total_count: out.total_count,
        }
    }
    fn item_id(item: &Blueprint) -> &str {
        &item.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;

    fn req<E: Endpoint>(e: &E) -> Request {
        e.request().expect("request builds")
    }

    #[test]
    fn list_devboxes_encodes_status_and_paging() {
        let r = req(&ListDevboxes {
            status: Some(DevboxStatus::Running),
            limit: Some(50),
            starting_after: Some("dbx_9".into()),
            include_total_count: Some(false),
        });
        assert_eq!(r.method, Method::Get);
        assert_eq!(
            r.path_and_query,
            "/v1/devboxes?status=running&limit=50&starting_after=dbx_9&include_total_count=false"
        );
        assert!(r.body.is_none());
    }

    #[test]
    fn list_devboxes_without_filters_has_no_query() {
        assert_eq!(req(&ListDevboxes::default()).path_and_query, "/v1/devboxes");
    }

    #[test]
    fn list_snapshots_encodes_metadata_filters() {
        let r = req(&ListSnapshots {
            devbox_id: Some("dbx_1".into()),
            source_blueprint_id: Some("bpt_2".into()),
            metadata: vec![
                MetadataFilter::Eq {
                    key: "env".into(),
                    value: "staging".into(),
                },
                MetadataFilter::In {
                    key: "k".into(),
                    values: vec!["a".into(), "b".into()],
                },
            ],
            limit: Some(100),
            starting_after: None,
            include_total_count: Some(true),
        });
        assert_eq!(
            r.path_and_query,
            "/v1/devboxes/disk_snapshots?devbox_id=dbx_1&source_blueprint_id=bpt_2\
             &metadata[env]=staging&metadata[k][in]=a,b&limit=100&include_total_count=true"
        );
    }

    #[test]
    fn shutdown_sends_force_in_the_query_only_when_asked() {
        let forced = req(&ShutdownDevbox {
            id: "dbx_1".into(),
            force: true,
        });
        assert_eq!(forced.method, Method::Post);
        assert_eq!(
            forced.path_and_query,
            "/v1/devboxes/dbx_1/shutdown?force=true"
        );
        assert!(forced.body.is_none());
        let plain = req(&ShutdownDevbox {
            id: "dbx_1".into(),
            force: false,
        });
        assert_eq!(plain.path_and_query, "/v1/devboxes/dbx_1/shutdown");
    }

    #[test]
    fn bodiless_posts_have_no_body() {
        for r in [
            req(&SuspendDevbox { id: "d".into() }),
            req(&ResumeDevbox { id: "d".into() }),
            req(&KeepAliveDevbox { id: "d".into() }),
            req(&DeleteSnapshot { id: "s".into() }),
        ] {
            assert_eq!(r.method, Method::Post);
            assert!(r.body.is_none(), "{}", r.path_and_query);
        }
        assert_eq!(
            req(&DeleteSnapshot { id: "snp_1".into() }).path_and_query,
            "/v1/devboxes/disk_snapshots/snp_1/delete"
        );
    }

    #[test]
    fn ids_cannot_escape_their_path_segment() {
        let r = req(&GetDevbox {
            id: "../x?y=1".into(),
        });
        assert_eq!(r.path_and_query, "/v1/devboxes/..%2Fx%3Fy%3D1");
    }

    #[test]
    fn snapshot_bodies_omit_absent_fields() {
        let r = req(&SnapshotDiskAsync {
            devbox_id: "dbx_1".into(),
            body: SnapshotParams {
                name: Some("before upgrade".into()),
                ..Default::default()
            },
        });
        assert_eq!(r.path_and_query, "/v1/devboxes/dbx_1/snapshot_disk_async");
        assert_eq!(r.body_str(), Some(r#"{"name":"before upgrade"}"#));
    }

    #[test]
    fn create_devbox_from_snapshot() {
        let r = req(&CreateDevbox {
            body: types::CreateDevbox {
                snapshot_id: Some("snp_1".into()),
                ..Default::default()
            },
        });
        assert_eq!(r.path_and_query, "/v1/devboxes");
        assert_eq!(
            r.body_json(),
            Some(serde_json::json!({"snapshot_id": "snp_1"}))
        );
    }

    #[test]
    fn every_endpoint_has_the_documented_path() {
        let cases: Vec<(Request, Method, &str)> = vec![
            (
                req(&GetDevbox { id: "d".into() }),
                Method::Get,
                "/v1/devboxes/d",
            ),
            (
                req(&UpdateDevbox {
                    id: "d".into(),
                    body: Default::default(),
                }),
                Method::Post,
                "/v1/devboxes/d",
            ),
            (
                req(&WaitForDevboxStatus {
                    id: "d".into(),
                    body: types::WaitForStatus {
                        statuses: vec![DevboxStatus::Running],
                        timeout_seconds: None,
                    },
                }),
                Method::Post,
                "/v1/devboxes/d/wait_for_status",
            ),
            (
                req(&SnapshotDisk {
                    devbox_id: "d".into(),
                    body: Default::default(),
                }),
                Method::Post,
                "/v1/devboxes/d/snapshot_disk",
            ),
            (
                req(&GetSnapshotStatus { id: "s".into() }),
                Method::Get,
                "/v1/devboxes/disk_snapshots/s/status",
            ),
            (
                req(&UpdateSnapshot {
                    id: "s".into(),
                    body: Default::default(),
                }),
                Method::Post,
                "/v1/devboxes/disk_snapshots/s",
            ),
            (
                req(&ListBlueprints {
                    name: Some("base".into()),
                    ..Default::default()
                }),
                Method::Get,
                "/v1/blueprints?name=base",
            ),
            (
                req(&GetBlueprint { id: "b".into() }),
                Method::Get,
                "/v1/blueprints/b",
            ),
            (
                req(&CreateBlueprint {
                    body: types::CreateBlueprint {
                        name: "n".into(),
                        ..Default::default()
                    },
                }),
                Method::Post,
                "/v1/blueprints",
            ),
            (
                req(&DeleteBlueprint { id: "b/1".into() }),
                Method::Post,
                "/v1/blueprints/b%2F1/delete",
            ),
            (
                req(&GetBlueprintLogs { id: "b".into() }),
                Method::Get,
                "/v1/blueprints/b/logs",
            ),
            (
                req(&WriteFileContents {
                    devbox_id: "d".into(),
                    body: types::WriteFile {
                        file_path: "a.txt".into(),
                        contents: "hi".into(),
                    },
                }),
                Method::Post,
                "/v1/devboxes/d/write_file_contents",
            ),
            (
                req(&ReadFileContents {
                    devbox_id: "d".into(),
                    body: types::ReadFile {
                        file_path: "a.txt".into(),
                    },
                }),
                Method::Post,
                "/v1/devboxes/d/read_file_contents",
            ),
        ];
        for (r, m, p) in cases {
            assert_eq!((r.method, r.path_and_query.as_str()), (m, p));
        }
    }

    #[test]
    fn wait_for_status_reads_408_as_not_yet_and_is_never_retried() {
        let e = WaitForDevboxStatus {
            id: "d".into(),
            body: types::WaitForStatus {
                statuses: vec![DevboxStatus::Running],
                timeout_seconds: Some(30.0),
            },
        };
        assert_eq!(e.decode(HttpResponse::new(408, "{}")), Ok(None));
        assert_eq!(e.retry_policy(RetryPolicy::default()).max_retries, 0);
        assert_eq!(e.timeout(), Some(Duration::from_secs(35)));
    }

    #[test]
    fn read_file_contents_returns_plain_text() {
        let e = ReadFileContents {
            devbox_id: "d".into(),
            body: types::ReadFile {
                file_path: "a".into(),
            },
        };
        assert_eq!(
            e.decode(HttpResponse::new(200, "hello\n")),
            Ok("hello\n".to_string())
        );
        let err = e
            .decode(HttpResponse::new(404, r#"{"message":"no such file"}"#))
            .expect_err("404 is an error");
        assert_eq!(err.status(), Some(404));
    }

    #[test]
    fn malformed_success_body_is_a_decode_error() {
        let err = GetDevbox { id: "d".into() }
            .decode(HttpResponse::new(200, "<html>"))
            .expect_err("not json");
        assert!(
            matches!(err, ApiError::Decode(ref m) if m.contains("Devbox")),
            "{err:?}"
        );
    }

    #[test]
    fn empty_answers_only_check_the_status() {
        let e = DeleteSnapshot { id: "s".into() };
        assert_eq!(e.decode(HttpResponse::new(200, "{}")), Ok(()));
        let err = e
            .decode(HttpResponse::new(
                409,
                r#"{"message":"Only successfully created snapshots can be deleted."}"#,
            ))
            .expect_err("conflict");
        assert!(err.is_conflict());
    }
}
