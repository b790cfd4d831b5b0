//! `cleanup`: keep the newest complete snapshot of a devbox and delete the rest, the
//! snapdeck way — list, statuses (bounded fan-in), a retention plan (snapdeck-core), then
//! the bulk-run state machine (re-check each wave of snapshots against one listing, then
//! delete them) driving the native client with bounded concurrency.

use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::future::Either;
use futures::stream::FuturesUnordered;
use serde_json::{Value, json};
use snapdeck_api::{ApiError, Snapshot};
use snapdeck_core::bulk::{BulkRun, Listing, Wave};
use snapdeck_core::retention::{self, RetentionPolicy, Scope};

use crate::common::{
    Api, LIST_PAGE, Res, all_snapshots, list_snapshots, now_ms, requests, secs_since,
};
use crate::fanin::fetch_statuses;

enum Done {
    Listed(Wave, Result<Vec<Snapshot>, ApiError>),
    Deleted(String, Result<(), ApiError>),
}

/// What a wave's re-check lists, one devbox after the other.
async fn list(api: &Api, listing: Listing) -> Result<Vec<Snapshot>, ApiError> {
    match listing {
        Listing::Account => list_snapshots(api, None).await,
        Listing::Devboxes(ids) => {
            let mut all = Vec::new();
            for id in ids {
                all.extend(list_snapshots(api, Some(&id)).await?);
            }
            Ok(all)
        }
    }
}

/// Drives `run` to the end (the loop of `snapdeck_core::bulk`'s documentation): at most
/// one re-check listing and `run.max_concurrency` deletes in flight. Returns the number
/// of waves.
pub async fn drive(api: &Api, run: &mut BulkRun) -> usize {
    let mut in_flight = FuturesUnordered::new();
    let mut waves = 0;
    loop {
        if let Some(wave) = run.next_wave(now_ms()) {
            waves += 1;
            // The account's size is not known here; a cleanup of one devbox lists it.
            let listing = wave.listing(None, LIST_PAGE as usize);
            in_flight.push(Either::Left(async move {
                let r = list(api, listing).await;
                Done::Listed(wave, r)
            }));
        }
        for id in run.next_deletes() {
            in_flight.push(Either::Right(async move {
                let r = api.delete_snapshot(&id).await;
                Done::Deleted(id, r)
            }));
        }
        match in_flight.next().await {
            Some(Done::Listed(wave, Ok(listed))) => run.on_listing(&wave, &listed, now_ms()),
            Some(Done::Listed(wave, Err(e))) => run.on_listing_error(&wave, &e, now_ms()),
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
    waves
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
    let waves = drive(api, &mut bulk).await;
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
        "bulk_run": { "secs": delete_secs, "requests": delete_requests, "waves": waves },
        "total_secs": secs_since(t_all),
    }))
}
