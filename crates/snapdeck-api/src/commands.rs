//! Commands on a devbox: `execute`, `execute_async`, `execute_sync`, the executions
//! (`GET …/executions/{id}`, `wait_for_status`, `kill`) and the devbox's logs — wire
//! types, endpoints as data, and the [`Client`] calls. Shapes follow SDK 3.0
//! (`DevboxAsyncExecutionDetailView`, `DevboxLogsListView`); the TS SDK's `shell_name`
//! is included. The fan-out feature runs a check command in each child with
//! [`Client::execute_sync`].

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Client;
use crate::endpoints::{Endpoint, FromResponse, decode_json};
use crate::error::ApiError;
use crate::http::{HttpResponse, Query, Request, encode_path_segment as seg};
use crate::retry::RetryPolicy;
use crate::transport::Transport;
use crate::types::ExecutionDetail;

/// Where an execution is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecutionStatus {
    Queued,
    Running,
    Completed,
    #[serde(other)]
    Unknown,
}

impl ExecutionStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Unknown => "unknown",
        }
    }
}

/// Body of `execute`, `execute_async` and `execute_sync` (each ignores what it does not
/// know: `command_id`/`optimistic_timeout` are `execute`'s, `attach_stdin` the async one's).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExecuteParams {
    pub command: String,
    /// A named shell keeps its working directory and environment between commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell_name: Option<String>,
    /// `execute` only: the caller's id for idempotency (UUIDv7 in the SDKs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_id: Option<String>,
    /// `execute` only: seconds to wait for completion (at most 25, default 25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimistic_timeout: Option<f64>,
    /// `execute_async` only: stdin comes later through `send_std_in`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach_stdin: Option<bool>,
}

impl ExecuteParams {
    /// A plain command in a fresh shell.
    pub fn new(command: impl Into<String>) -> Self {
        Self {
            command: command.into(),
            ..Self::default()
        }
    }
}

/// `DevboxAsyncExecutionDetailView`: an execution, finished or not. The outputs are the
/// last `last_n` lines (default 100); `*_truncated` says when earlier lines were left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Execution {
    pub devbox_id: String,
    pub execution_id: String,
    pub status: ExecutionStatus,
    #[serde(default)]
    pub exit_status: Option<i32>,
    #[serde(default)]
    pub stdout: Option<String>,
    #[serde(default)]
    pub stderr: Option<String>,
    #[serde(default)]
    pub stdout_truncated: Option<bool>,
    #[serde(default)]
    pub stderr_truncated: Option<bool>,
    #[serde(default)]
    pub shell_name: Option<String>,
}

/// Body of `POST …/executions/{id}/wait_for_status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitForCommand {
    pub statuses: Vec<ExecutionStatus>,
    /// Seconds to hold, at most 25 (the server's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<f64>,
}

/// One line of `GET /v1/devboxes/{id}/logs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    pub level: String,
    /// `setup_commands`, `entrypoint`, `exec`, `files`, `stats` or `kmsg`.
    pub source: String,
    pub timestamp_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Extension of snapdeck-server: the named shell of an `exec` line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell_name: Option<String>,
}

/// `DevboxLogsListView`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DevboxLogs {
    pub logs: Vec<LogLine>,
}

crate::endpoints::json_output!(Execution, DevboxLogs);

/// Long poll: 408 means the hold elapsed without a match.
impl FromResponse for Option<Execution> {
    fn from_response(resp: HttpResponse) -> Result<Self, ApiError> {
        if resp.status == 408 {
            return Ok(None);
        }
        decode_json(&resp).map(Some)
    }
}

/// Slow calls get the SDKs' 600 s (a command may take a while).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(600);

fn devbox_path(id: &str, action: &str) -> String {
    format!("/v1/devboxes/{}{action}", seg(id))
}

fn execution_path(devbox_id: &str, execution_id: &str, action: &str) -> String {
    format!(
        "/v1/devboxes/{}/executions/{}{action}",
        seg(devbox_id),
        seg(execution_id)
    )
}

fn last_n_query(last_n: Option<u32>) -> Query {
    let mut q = Query::new();
    q.push_opt("last_n", last_n);
    q
}

/// `POST /v1/devboxes/{id}/execute_sync` → the finished command.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecuteSync {
    pub devbox_id: String,
    pub body: ExecuteParams,
}

impl Endpoint for ExecuteSync {
    type Output = ExecutionDetail;
    fn request(&self) -> Result<Request, ApiError> {
        Request::post_json(devbox_path(&self.devbox_id, "/execute_sync"), &self.body)
    }
    fn timeout(&self) -> Option<Duration> {
        Some(COMMAND_TIMEOUT)
    }
}

/// `POST /v1/devboxes/{id}/execute_async` → the execution, at once.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecuteAsync {
    pub devbox_id: String,
    pub body: ExecuteParams,
}

impl Endpoint for ExecuteAsync {
    type Output = Execution;
    fn request(&self) -> Result<Request, ApiError> {
        Request::post_json(devbox_path(&self.devbox_id, "/execute_async"), &self.body)
    }
}

/// `POST /v1/devboxes/{id}/execute?last_n=` → the execution once it completes or the
/// optimistic timeout passes (then still `running`).
#[derive(Debug, Clone, PartialEq)]
pub struct Execute {
    pub devbox_id: String,
    pub body: ExecuteParams,
    pub last_n: Option<u32>,
}

impl Endpoint for Execute {
    type Output = Execution;
    fn request(&self) -> Result<Request, ApiError> {
        let path = last_n_query(self.last_n).append_to(devbox_path(&self.devbox_id, "/execute"));
        Request::post_json(path, &self.body)
    }
    fn timeout(&self) -> Option<Duration> {
        Some(COMMAND_TIMEOUT)
    }
}

/// `GET /v1/devboxes/{devbox_id}/executions/{execution_id}?last_n=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetExecution {
    pub devbox_id: String,
    pub execution_id: String,
    pub last_n: Option<u32>,
}

impl Endpoint for GetExecution {
    type Output = Execution;
    fn request(&self) -> Result<Request, ApiError> {
        Ok(Request::get(
            execution_path(&self.devbox_id, &self.execution_id, ""),
            &last_n_query(self.last_n),
        ))
    }
}

/// `POST …/executions/{id}/wait_for_status`: `Some` on a match, `None` when the hold
/// (at most 25 s) ran out. Not retried: the caller loops.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitForExecution {
    pub devbox_id: String,
    pub execution_id: String,
    pub body: WaitForCommand,
}

impl Endpoint for WaitForExecution {
    type Output = Option<Execution>;
    fn request(&self) -> Result<Request, ApiError> {
        Request::post_json(
            execution_path(&self.devbox_id, &self.execution_id, "/wait_for_status"),
            &self.body,
        )
    }
    fn retry_policy(&self, _: RetryPolicy) -> RetryPolicy {
        RetryPolicy::none()
    }
    fn timeout(&self) -> Option<Duration> {
        // The hold plus a margin, so the server's 408 arrives first.
        Some(Duration::from_secs(30))
    }
}

/// `POST …/executions/{id}/kill`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KillExecution {
    pub devbox_id: String,
    pub execution_id: String,
}

impl Endpoint for KillExecution {
    type Output = Execution;
    fn request(&self) -> Result<Request, ApiError> {
        Ok(Request::post_empty(
            execution_path(&self.devbox_id, &self.execution_id, "/kill"),
            &Query::new(),
        ))
    }
}

/// `GET /v1/devboxes/{id}/logs[?execution_id=…]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DevboxLogsQuery {
    pub devbox_id: String,
    pub execution_id: Option<String>,
    /// Extension of snapdeck-server: only this named shell's lines.
    pub shell_name: Option<String>,
}

impl Endpoint for DevboxLogsQuery {
    type Output = DevboxLogs;
    fn request(&self) -> Result<Request, ApiError> {
        let mut q = Query::new();
        q.push_opt("execution_id", self.execution_id.as_deref())
            .push_opt("shell_name", self.shell_name.as_deref());
        Ok(Request::get(devbox_path(&self.devbox_id, "/logs"), &q))
    }
}

impl<T: Transport> Client<T> {
    /// Runs a command and answers once it finished (`execute_sync`).
    pub async fn execute_sync(
        &self,
        devbox_id: &str,
        params: &ExecuteParams,
    ) -> Result<ExecutionDetail, ApiError> {
        self.call(&ExecuteSync {
            devbox_id: devbox_id.into(),
            body: params.clone(),
        })
        .await
    }

    /// Starts a command and answers at once (`execute_async`).
    pub async fn execute_async(
        &self,
        devbox_id: &str,
        params: &ExecuteParams,
    ) -> Result<Execution, ApiError> {
        self.call(&ExecuteAsync {
            devbox_id: devbox_id.into(),
            body: params.clone(),
        })
        .await
    }

    /// Runs a command, waiting up to its optimistic timeout (`execute`).
    pub async fn execute(
        &self,
        devbox_id: &str,
        params: &ExecuteParams,
        last_n: Option<u32>,
    ) -> Result<Execution, ApiError> {
        self.call(&Execute {
            devbox_id: devbox_id.into(),
            body: params.clone(),
            last_n,
        })
        .await
    }

    /// The execution as it is now.
    pub async fn get_execution(
        &self,
        devbox_id: &str,
        execution_id: &str,
        last_n: Option<u32>,
    ) -> Result<Execution, ApiError> {
        self.call(&GetExecution {
            devbox_id: devbox_id.into(),
            execution_id: execution_id.into(),
            last_n,
        })
        .await
    }

    /// One long poll for an execution status; `None` when the hold ran out.
    pub async fn wait_for_execution(
        &self,
        devbox_id: &str,
        execution_id: &str,
        statuses: &[ExecutionStatus],
        timeout_seconds: Option<f64>,
    ) -> Result<Option<Execution>, ApiError> {
        self.call(&WaitForExecution {
            devbox_id: devbox_id.into(),
            execution_id: execution_id.into(),
            body: WaitForCommand {
                statuses: statuses.to_vec(),
                timeout_seconds,
            },
        })
        .await
    }

    /// Stops a running execution.
    pub async fn kill_execution(
        &self,
        devbox_id: &str,
        execution_id: &str,
    ) -> Result<Execution, ApiError> {
        self.call(&KillExecution {
            devbox_id: devbox_id.into(),
            execution_id: execution_id.into(),
        })
        .await
    }

    /// The devbox's logs, optionally of one execution.
    pub async fn devbox_logs(
        &self,
        devbox_id: &str,
        execution_id: Option<&str>,
    ) -> Result<DevboxLogs, ApiError> {
        self.call(&DevboxLogsQuery {
            devbox_id: devbox_id.into(),
            execution_id: execution_id.map(Into::into),
            shell_name: None,
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;

    #[test]
    fn requests_have_the_sdk_paths_methods_and_bodies() {
        let body = ExecuteParams {
            shell_name: Some("s 1".into()),
            ..ExecuteParams::new("echo hi")
        };
        let sync = ExecuteSync {
            devbox_id: "dbx_1".into(),
            body: body.clone(),
        }
        .request()
        .expect("request");
        assert_eq!(sync.method, Method::Post);
        assert_eq!(sync.path_and_query, "/v1/devboxes/dbx_1/execute_sync");
        assert_eq!(
            sync.body_json(),
            Some(serde_json::json!({"command": "echo hi", "shell_name": "s 1"}))
        );
        let exec = Execute {
            devbox_id: "dbx_1".into(),
            body,
            last_n: Some(5),
        }
        .request()
        .expect("request");
        assert_eq!(exec.path_and_query, "/v1/devboxes/dbx_1/execute?last_n=5");
        let get = GetExecution {
            devbox_id: "dbx_1".into(),
            execution_id: "exe/1".into(),
            last_n: None,
        }
        .request()
        .expect("request");
        assert_eq!(get.method, Method::Get);
        assert_eq!(get.path_and_query, "/v1/devboxes/dbx_1/executions/exe%2F1");
        let kill = KillExecution {
            devbox_id: "d".into(),
            execution_id: "e".into(),
        }
        .request()
        .expect("request");
        assert_eq!(kill.path_and_query, "/v1/devboxes/d/executions/e/kill");
        let logs = DevboxLogsQuery {
            devbox_id: "d".into(),
            execution_id: Some("e".into()),
            shell_name: None,
        }
        .request()
        .expect("request");
        assert_eq!(logs.path_and_query, "/v1/devboxes/d/logs?execution_id=e");
    }

    #[test]
    fn an_execution_decodes_with_and_without_its_outputs() {
        let running: Execution =
            serde_json::from_str(r#"{"devbox_id":"d","execution_id":"e","status":"running"}"#)
                .expect("decode");
        assert_eq!(running.status, ExecutionStatus::Running);
        assert_eq!(running.exit_status, None);
        let done: Execution = serde_json::from_str(
            r#"{"devbox_id":"d","execution_id":"e","status":"completed","exit_status":3,
                "stdout":"a\n","stderr":"","stdout_truncated":false,"brand_new":1}"#,
        )
        .expect("decode");
        assert_eq!(done.exit_status, Some(3));
        assert_eq!(done.stdout.as_deref(), Some("a\n"));
        let odd: Execution =
            serde_json::from_str(r#"{"devbox_id":"d","execution_id":"e","status":"paused"}"#)
                .expect("decode");
        assert_eq!(odd.status, ExecutionStatus::Unknown);
    }

    #[test]
    fn a_408_from_the_long_poll_is_none_not_an_error() {
        let none = Option::<Execution>::from_response(HttpResponse::new(408, "{}"));
        assert_eq!(none.ok(), Some(None));
        let err = Option::<Execution>::from_response(HttpResponse::new(404, "{}"));
        assert!(err.is_err());
    }
}
