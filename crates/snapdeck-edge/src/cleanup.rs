//! The `scheduled` side of the worker: gathers every snapshot with its status through
//! snapdeck-api's client (over the runtime's global `fetch`), plans with snapdeck-core's
//! planner, deletes with snapdeck-core's bulk runner, and logs the report.

use futures::stream::{self, FuturesUnordered};
use futures::{StreamExt, TryStreamExt};
use snapdeck_api::{
    ApiError, BrowserTransport, Client, SnapshotStatusView, Transport, endpoints::ListSnapshots,
};
use snapdeck_core::bulk::{BulkRun, Fresh, Verdict};
use std::time::Duration;
use worker::{Env, console_error, console_log};

use crate::config::{self, Settings};
use crate::forward::redact_text;
use crate::plan::{self, SnapshotState};

/// Status requests in flight at once while taking the inventory: the API has no batch
/// status call, and a worker invocation has a bounded number of open connections.
const STATUS_CONCURRENCY: usize = 6;

type Api = Client<BrowserTransport>;

/// Runs the configured retention policies once; every outcome goes to the log, with
/// any copy of the key redacted.
pub async fn run(env: &Env, cron: &str) {
    let settings = match Settings::from_env(env) {
        Ok(settings) => settings,
        Err(missing) => {
            console_error!("retention: not run: {missing}");
            return;
        }
    };
    let log = |line: &str| console_log!("{}", redact_text(line, &settings.api_key));
    match run_policies(env, &settings, cron, &log).await {
        Ok(()) => {}
        Err(message) => {
            console_error!(
                "retention: failed: {}",
                redact_text(&message, &settings.api_key)
            );
        }
    }
}

async fn run_policies(
    env: &Env,
    settings: &Settings,
    cron: &str,
    log: &impl Fn(&str),
) -> Result<(), String> {
    let policies =
        plan::parse_policies(config::json_binding(env, "RETENTION_POLICIES").as_deref())?;
    let dry_run = config::flag_binding(env, "RETENTION_DRY_RUN");
    log(&format!(
        "retention: cron {cron:?}, {} {}, upstream {}{}",
        policies.len(),
        if policies.len() == 1 {
            "policy"
        } else {
            "policies"
        },
        settings.upstream_url,
        if dry_run { ", dry run" } else { "" }
    ));
    if policies.is_empty() {
        log("retention: done: no policies configured (RETENTION_POLICIES), nothing to do");
        return Ok(());
    }
    let client = Client::new(BrowserTransport::new(), settings.upstream_url.as_str())
        .with_api_key(settings.api_key.as_str());
    let snapshots = inventory(&client)
        .await
        .map_err(|e| format!("could not list the snapshots and their statuses: {e}"))?;
    let combined = plan::combine(&policies, &snapshots, now_ms());
    let run = if dry_run {
        None
    } else {
        let mut run = plan::bulk_run(&combined);
        drive(&client, &mut run).await;
        Some(run)
    };
    for line in plan::report(&policies, &combined, run.as_ref()) {
        log(&line);
    }
    Ok(())
}

/// Every snapshot, page after page, each with its current status.
async fn inventory(client: &Api) -> Result<Vec<SnapshotState>, ApiError> {
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

/// What came back for one item of the run.
enum Event {
    Rechecked(String, Result<SnapshotStatusView, ApiError>),
    Deleted(String, Result<(), ApiError>),
}

/// Drives the bulk run to the end: re-check each snapshot, then delete it, as the state
/// machine says; it bounds concurrency and schedules retries, this only does the I/O.
async fn drive(client: &Api, run: &mut BulkRun) {
    let mut in_flight = FuturesUnordered::new();
    loop {
        for id in run.next_to_start(now_ms()) {
            in_flight.push(futures::future::Either::Left(async move {
                let result = client.snapshot_status(&id).await;
                Event::Rechecked(id, result)
            }));
        }
        if run.is_finished() {
            return;
        }
        let Some(event) = in_flight.next().await else {
            // Nothing in flight but items left: they wait out a retry backoff. (No
            // pending item either would be a state machine bug: stop, and the report
            // lists what did not finish.)
            let Some(wake_at) = run.next_wake_at() else {
                return;
            };
            let wait = wake_at.saturating_sub(now_ms()).clamp(10, 60_000);
            client
                .transport()
                .sleep(Duration::from_millis(wait.unsigned_abs()))
                .await;
            continue;
        };
        match event {
            Event::Rechecked(id, Ok(view)) => {
                if run.on_recheck(&id, Fresh::from_status_view(&view), now_ms()) == Verdict::Proceed
                {
                    in_flight.push(futures::future::Either::Right(async move {
                        let result = client.delete_snapshot(&id).await;
                        Event::Deleted(id, result)
                    }));
                }
            }
            Event::Rechecked(id, Err(e)) => run.on_error(&id, &e, now_ms()),
            Event::Deleted(id, result) => run.on_result(&id, result, now_ms()),
        }
    }
}

/// Wall-clock milliseconds, as snapdeck-core takes time: passed in.
fn now_ms() -> i64 {
    i64::try_from(worker::Date::now().as_millis()).unwrap_or(i64::MAX)
}
