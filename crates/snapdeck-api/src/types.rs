//! Wire types of the Runloop API, as in `shared/ref/runloop-api.md` (SDK 1.29 names), with
//! the numeric types of SDK 3.0 where they changed (`custom_cpu_cores` is a float).
//!
//! Shared by the client, the dashboard and the emulator, so both sides of the wire agree
//! by construction. Decoding is tolerant: unknown fields are ignored and an enum value we
//! do not know yet decodes as `Unknown` instead of failing the whole page. Required keys
//! that the real API always sends (`metadata`, `end_time_ms`, …) are always serialized.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// String-to-string metadata, ordered so that output is deterministic.
pub type Metadata = BTreeMap<String, String>;

/// Lifecycle status of a devbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DevboxStatus {
    /// Deprecated alias of `queued`.
    Scheduled,
    Queued,
    Provisioning,
    Initializing,
    Running,
    Suspending,
    Suspended,
    Resuming,
    Failure,
    Shutdown,
    /// A status this client does not know yet.
    #[serde(other)]
    Unknown,
}

impl DevboxStatus {
    /// Every known status, in lifecycle order (for filters and chips).
    pub const ALL: [DevboxStatus; 10] = [
        Self::Scheduled,
        Self::Queued,
        Self::Provisioning,
        Self::Initializing,
        Self::Running,
        Self::Suspending,
        Self::Suspended,
        Self::Resuming,
        Self::Failure,
        Self::Shutdown,
    ];

    /// The wire name, e.g. `"running"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Queued => "queued",
            Self::Provisioning => "provisioning",
            Self::Initializing => "initializing",
            Self::Running => "running",
            Self::Suspending => "suspending",
            Self::Suspended => "suspended",
            Self::Resuming => "resuming",
            Self::Failure => "failure",
            Self::Shutdown => "shutdown",
            Self::Unknown => "unknown",
        }
    }

    /// Parses a wire name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// True while the devbox is moving between states by itself.
    pub fn is_transitional(self) -> bool {
        matches!(
            self,
            Self::Scheduled
                | Self::Queued
                | Self::Provisioning
                | Self::Initializing
                | Self::Suspending
                | Self::Resuming
        )
    }

    /// `failure` and `shutdown` never change again.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Failure | Self::Shutdown)
    }
}

impl std::fmt::Display for DevboxStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Status of a disk snapshot, from `GET /v1/devboxes/disk_snapshots/{id}/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotStatus {
    InProgress,
    Complete,
    Error,
    Deleted,
    #[serde(other)]
    Unknown,
}

impl SnapshotStatus {
    /// The wire name, e.g. `"in_progress"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "in_progress",
            Self::Complete => "complete",
            Self::Error => "error",
            Self::Deleted => "deleted",
            Self::Unknown => "unknown",
        }
    }

    /// `complete`, `error` and `deleted` never change: safe to cache.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Complete | Self::Error | Self::Deleted)
    }
}

impl std::fmt::Display for SnapshotStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a devbox was shut down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShutdownReason {
    ApiShutdown,
    KeepAliveTimeout,
    EntrypointExit,
    Idle,
    TtlExpired,
    #[serde(other)]
    Unknown,
}

/// Why a devbox failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    OutOfMemory,
    OutOfDisk,
    ExecutionFailed,
    HealthCheckFailed,
    #[serde(other)]
    Unknown,
}

/// One step in a devbox's life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateTransition {
    pub status: DevboxStatus,
    /// Unix ms. The spec types it as an opaque `Number` object (SDK 3.0: `object`); we
    /// emit an integer and accept any JSON number (a float is rounded) — anything else
    /// decodes as `None` rather than failing the whole page.
    #[serde(default, deserialize_with = "lenient_ms")]
    pub transition_time_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<FailureReason>,
}

/// A Unix-ms time typed loosely by the API: an integer, a float, or something else
/// (then `None`).
fn lenient_ms<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    Ok(match value {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && f.abs() < 9.0e15)
                // In range by the filter above, so the cast is exact after rounding.
                .map(|f| f.round() as i64)
        }),
        _ => None,
    })
}

/// Launch parameters. Known fields are typed; everything else is kept verbatim in
/// `extra` so an emulator echoes what it was given and a client loses nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LaunchParameters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_size_request: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_alive_time_seconds: Option<i64>,
    /// A float since SDK 2.0: 0.5 is the documented minimum (the 2026-08 OpenAPI mirror
    /// still says int32; the SDKs are newer). Memory and disk stay integers (GiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_cpu_cores: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_gb_memory: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_disk_size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_commands: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// `DevboxView`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Devbox {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    pub status: DevboxStatus,
    pub create_time_ms: i64,
    /// Always serialized (the TS SDK types it `number | null`).
    #[serde(default)]
    pub end_time_ms: Option<i64>,
    #[serde(default)]
    pub metadata: Metadata,
    #[serde(default)]
    pub launch_parameters: LaunchParameters,
    #[serde(default)]
    pub capabilities: Vec<String>,
    #[serde(default)]
    pub state_transitions: Vec<StateTransition>,
    #[serde(default)]
    pub blueprint_id: Option<String>,
    #[serde(default)]
    pub snapshot_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiator_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiator_id: Option<String>,
    #[serde(default)]
    pub failure_reason: Option<FailureReason>,
    #[serde(default)]
    pub shutdown_reason: Option<ShutdownReason>,
}

/// `DevboxListView`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DevboxList {
    pub devboxes: Vec<Devbox>,
    #[serde(default)]
    pub has_more: bool,
    #[serde(default)]
    pub total_count: Option<u64>,
}

/// `DevboxSnapshotView` (spec: `DevboxDiskSnapshotView`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub id: String,
    pub create_time_ms: i64,
    #[serde(default)]
    pub metadata: Metadata,
    pub source_devbox_id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub commit_message: Option<String>,
    /// Relative to the base blueprint.
    #[serde(default)]
    pub size_bytes: Option<u64>,
    #[serde(default)]
    pub source_blueprint_id: Option<String>,
}

/// `DevboxSnapshotListView`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotList {
    pub snapshots: Vec<Snapshot>,
    #[serde(default)]
    pub has_more: bool,
    #[serde(default)]
    pub total_count: Option<u64>,
}

/// `DevboxSnapshotAsyncStatusView`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotStatusView {
    pub status: SnapshotStatus,
    #[serde(default)]
    pub error_message: Option<String>,
    #[serde(default)]
    pub snapshot: Option<Snapshot>,
}

/// Blueprint build status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlueprintStatus {
    Queued,
    Provisioning,
    Building,
    AwaitingUpload,
    Failed,
    BuildComplete,
    #[serde(other)]
    Unknown,
}

impl BlueprintStatus {
    /// Every known status, in build order (`failed` after the phases, then success).
    pub const ALL: [BlueprintStatus; 6] = [
        Self::Queued,
        Self::Provisioning,
        Self::Building,
        Self::AwaitingUpload,
        Self::Failed,
        Self::BuildComplete,
    ];

    /// The wire name, e.g. `"build_complete"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Provisioning => "provisioning",
            Self::Building => "building",
            Self::AwaitingUpload => "awaiting_upload",
            Self::Failed => "failed",
            Self::BuildComplete => "build_complete",
            Self::Unknown => "unknown",
        }
    }

    /// Parses a wire name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// True while the build is still going (what the SDKs' await helpers poll on:
    /// `queued`, `provisioning`, `building`; `awaiting_upload` waits for the caller).
    pub fn is_building(self) -> bool {
        matches!(self, Self::Queued | Self::Provisioning | Self::Building)
    }
}

impl std::fmt::Display for BlueprintStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `BlueprintView` (the fields snapdeck uses; the rest are ignored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Blueprint {
    pub id: String,
    pub name: String,
    pub status: BlueprintStatus,
    /// `created` or `deleted`.
    #[serde(default)]
    pub state: String,
    pub create_time_ms: i64,
    #[serde(default)]
    pub build_finish_time_ms: Option<i64>,
    #[serde(default)]
    pub failure_reason: Option<String>,
    /// The blueprint this one was built on, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_blueprint_id: Option<String>,
    #[serde(default)]
    pub parameters: serde_json::Value,
    #[serde(default)]
    pub metadata: Metadata,
}

/// `BlueprintListView`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlueprintList {
    pub blueprints: Vec<Blueprint>,
    #[serde(default)]
    pub has_more: bool,
    #[serde(default)]
    pub total_count: Option<u64>,
}

/// Body of `POST /v1/devboxes`. Every field optional; `None` is not sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateDevbox {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blueprint_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blueprint_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_parameters: Option<LaunchParameters>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_variables: Option<Metadata>,
    /// Files to place on the disk at boot: path → contents (deprecated in the API in
    /// favour of `mounts` of type `file_mount`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_mounts: Option<Metadata>,
    /// `object_mount`, `code_mount`, `file_mount` (`{type, target, content}`), … as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mounts: Option<Vec<serde_json::Value>>,
    /// Everything else (`entrypoint`, `secrets`, `tunnel`, `gateways`, `mcp`,
    /// `code_mounts`, `repo_connection_id`, …), kept verbatim.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Body of `POST /v1/devboxes/{id}` (patch-like since SDK 1.29).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateDevbox {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// Body of `snapshot_disk`, `snapshot_disk_async` and the snapshot update.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SnapshotParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_message: Option<String>,
}

/// Body of `POST /v1/devboxes/{id}/wait_for_status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitForStatus {
    pub statuses: Vec<DevboxStatus>,
    /// Seconds, float accepted (Python sends e.g. `30.0`); server default 10, cap 30.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<f64>,
}

/// Body of `POST /v1/blueprints`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateBlueprint {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dockerfile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_setup_commands: Option<Vec<String>>,
    /// Build on another blueprint (give this or `base_blueprint_name`, not both).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_blueprint_id: Option<String>,
    /// Build on the latest successful build of the blueprint with this name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_blueprint_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_parameters: Option<LaunchParameters>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// One line of a blueprint's build log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlueprintLogLine {
    /// `info`, `warn`, `error`, … as the API says.
    #[serde(default)]
    pub level: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub timestamp_ms: Option<i64>,
}

/// `GET /v1/blueprints/{id}/logs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlueprintLogs {
    #[serde(default)]
    pub blueprint_id: String,
    #[serde(default)]
    pub logs: Vec<BlueprintLogLine>,
}

/// Body of `write_file_contents`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteFile {
    pub file_path: String,
    pub contents: String,
}

/// Body of `read_file_contents`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadFile {
    pub file_path: String,
}

/// `DevboxExecutionDetailView`, the answer to `write_file_contents`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionDetail {
    pub devbox_id: String,
    #[serde(default)]
    pub stdout: String,
    #[serde(default)]
    pub stderr: String,
    #[serde(default)]
    pub exit_status: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell_name: Option<String>,
}

/// The JSON error body snapdeck-server sends: `{"message": "..."}`. Other servers may
/// send anything; the client falls back to the raw text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub message: String,
}

/// Metadata key under which snapdeck marks a snapshot as pinned (`"true"`).
pub const PINNED_KEY: &str = "snapdeck.pinned";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_devbox_status_and_extra_fields_decode() {
        let v: Devbox = serde_json::from_str(
            r#"{"id":"dbx_1","status":"hibernating","create_time_ms":1,"brand_new":42}"#,
        )
        .expect("tolerant decode");
        assert_eq!(v.status, DevboxStatus::Unknown);
        assert!(v.metadata.is_empty());
    }

    #[test]
    fn devbox_serializes_required_keys_even_when_empty() {
        let v: Devbox =
            serde_json::from_str(r#"{"id":"dbx_1","status":"running","create_time_ms":1}"#)
                .expect("decode");
        let json = serde_json::to_value(&v).expect("encode");
        for key in [
            "end_time_ms",
            "metadata",
            "launch_parameters",
            "capabilities",
            "state_transitions",
        ] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
    }

    #[test]
    fn a_devbox_with_half_a_cpu_core_decodes() {
        // SDK 2.0+ types custom_cpu_cores as a float; 0.5 is the documented minimum. An
        // integer type here made a whole page of real devboxes fail to decode.
        let v: Devbox = serde_json::from_str(
            r#"{"id":"dbx_1","status":"running","create_time_ms":1,
                "launch_parameters":{"resource_size_request":"CUSTOM_SIZE",
                  "custom_cpu_cores":0.5,"custom_gb_memory":1,"custom_disk_size":4}}"#,
        )
        .expect("decode");
        assert_eq!(v.launch_parameters.custom_cpu_cores, Some(0.5));
        assert_eq!(v.launch_parameters.custom_gb_memory, Some(1));
        let back = serde_json::to_value(&v).expect("encode");
        assert_eq!(back["launch_parameters"]["custom_cpu_cores"], 0.5);
        // Whole numbers still read as before.
        let lp: LaunchParameters =
            serde_json::from_str(r#"{"custom_cpu_cores":2}"#).expect("decode");
        assert_eq!(lp.custom_cpu_cores, Some(2.0));
    }

    #[test]
    fn transition_times_accept_any_number_and_ignore_other_shapes() {
        let v: Devbox = serde_json::from_str(
            r#"{"id":"dbx_1","status":"running","create_time_ms":1,"state_transitions":[
                {"status":"provisioning","transition_time_ms":1700000000000},
                {"status":"initializing","transition_time_ms":1700000000500.4},
                {"status":"running","transition_time_ms":{}},
                {"status":"running"}]}"#,
        )
        .expect("decode");
        let times: Vec<_> = v
            .state_transitions
            .iter()
            .map(|t| t.transition_time_ms)
            .collect();
        assert_eq!(
            times,
            [Some(1_700_000_000_000), Some(1_700_000_000_500), None, None]
        );
    }

    #[test]
    fn launch_parameters_keep_unknown_fields() {
        let lp: LaunchParameters = serde_json::from_str(
            r#"{"architecture":"arm64","after_idle":{"idle_time_seconds":60}}"#,
        )
        .expect("decode");
        let back = serde_json::to_value(&lp).expect("encode");
        assert_eq!(back["after_idle"]["idle_time_seconds"], 60);
    }
}
