//! `cleanup`: keep the newest complete snapshot of a devbox and delete the rest, the
//! snapdeck way — list, statuses (bounded fan-in), a retention plan (snapdeck-core), then
//! the bulk-run state machine (re-check each snapshot, then delete) driving the native
//! client with bounded concurrency.

use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde_json::{Value, json};
use snapdeck_api::{ApiError, SnapshotStatusView};
use snapdeck_core::retention::{self, RetentionPolicy, Scope};
use snapdeck_core::{BulkRun, Fresh, Verdict};

use crate::common::{Api, Res, all_snapshots, now_ms, requests, secs_since};
use crate::fanin::fetch_statuses;

enum Done {
    Rechecked(String, Result<SnapshotStatusView, ApiError>),
    Deleted(String, Result<(), ApiError>),
}

/// Drives `run` to the end: the loop of `snapdeck_core::bulk`'s documentation.
pub async fn drive(api: &Api, run: &mut BulkRun) {
    let mut in_flight = FuturesUnordered::new();
    loop {
        for id in run.next_to_start(now_ms()) {
            in_flight.push(futures::future::Either::Left(async move {
                let r = api.snapshot_status(&id).await;
                Done::Rechecked(id, r)
            }));
        }
        match in_flight.next().await {
            Some(Done::Rechecked(id, Ok(view))) => {
                if run.on_recheck(&id, Fresh::from_status_view(&view), now_ms()) == Verdict::Proceed
                {
                    in_flight.push(futures::future::Either::Right(async move {
                        let r = api.delete_snapshot(&id).await;
                        Done::Deleted(id, r)
                    }));
                }
            }
            Some(Done::Rechecked(id, Err(e))) => run.on_error(&id, &e, now_ms()),
            Some(Done::Deleted(id, r)) => run.on_result(&id, r, now_ms()),
            None => {
                if run.is_finished() {
                    break;
                }
                let wait = run
                    .next_wake_at()
                    .map_or(50, |at| (at - now_ms()).clamp(1, 10_000));
                tokio::time::sleep(Duration::from_millis(u64::try_from(wait).unwrap_or(50))).await;
            }
        }
    }
}

pub async fn run(
    api: &Api,
    devbox_id: &str,
    concurrency: usize,
    plan_out: Option<&std::path::Path>,
) -> Res<Value> {
    let t_all = Instant::now();

    let r0 = requests(api);
    let t0 = Instant::now();
    let snapshots = all_snapshots(api, Some(devbox_id)).await?;
    let list_secs = secs_since(t0);
    let list_requests = requests(api) - r0;

    let r0 = requests(api);
    let t0 = Instant::now();
    let ids: Vec<String> = snapshots.iter().map(|s| s.id.clone()).collect();
    let cache = fetch_statuses(api, &ids, concurrency).await;
    let status_secs = secs_since(t0);
    let status_requests = requests(api) - r0;

    let t0 = Instant::now();
    let policy = RetentionPolicy {
        scope: Scope::Devbox(devbox_id.to_owned()),
        keep_newest: 1,
        ..RetentionPolicy::default()
    };
    let plan = retention::plan(&policy, &snapshots, &cache.statuses(), now_ms());
    let planned: Vec<String> = plan.to_delete().map(|i| i.snapshot.id.clone()).collect();
    let plan_secs = secs_since(t0);
    if let Some(path) = plan_out {
        std::fs::write(
            path,
            serde_json::to_vec(&planned).map_err(|e| e.to_string())?,
        )
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    }

    let r0 = requests(api);
    let t0 = Instant::now();
    let mut bulk = BulkRun::from_plan(&plan).with_concurrency(concurrency);
    drive(api, &mut bulk).await;
    let delete_secs = secs_since(t0);
    let delete_requests = requests(api) - r0;
    let counts = bulk.counts();

    Ok(json!({
        "devbox_id": devbox_id,
        "concurrency": concurrency,
        "listed": snapshots.len(),
        "planned_deletes": planned.len(),
        "done": counts.done,
        "failed": counts.failed,
        "skipped": counts.skipped,
        "list": { "secs": list_secs, "requests": list_requests },
        "statuses": { "secs": status_secs, "requests": status_requests },
        "plan": { "secs": plan_secs },
        "bulk_run": { "secs": delete_secs, "requests": delete_requests },
        "total_secs": secs_since(t_all),
    }))
}
