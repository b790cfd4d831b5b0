//! `fanin`: the statuses of many snapshots (the list carries none) — snapdeck-core's
//! [`StatusCache`] planning bounded-concurrency fetches, against one request at a time.

use std::collections::BTreeMap;
use std::time::Instant;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde_json::{Value, json};
use snapdeck_api::SnapshotStatus;
use snapdeck_core::StatusCache;
use snapdeck_core::status_cache::DEFAULT_REFRESH_AFTER_MS;

use crate::common::{Api, Res, all_snapshots, now_ms, requests, secs_since};

/// Fetches the status of every id, at most `max_in_flight` at once, in the order given,
/// as the app does: [`StatusCache::plan_fetches`] decides what to start whenever a slot
/// frees up. Failed fetches are retried by the cache's own rules (after 5 s).
pub async fn fetch_statuses(api: &Api, ids: &[String], max_in_flight: usize) -> StatusCache {
    let mut cache = StatusCache::new();
    let mut in_flight = FuturesUnordered::new();
    loop {
        let now = now_ms();
        let todo = cache.plan_fetches(
            ids.iter().map(String::as_str),
            max_in_flight,
            now,
            DEFAULT_REFRESH_AFTER_MS,
        );
        cache.start(todo.iter().cloned());
        for id in todo {
            in_flight.push(async move {
                let r = api.snapshot_status(&id).await;
                (id, r)
            });
        }
        match in_flight.next().await {
            Some((id, Ok(view))) => cache.record(&id, &view, now_ms()),
            Some((id, Err(e))) => cache.record_error(&id, &e, now_ms()),
            None => {
                // Nothing running and nothing planned: done, unless failures wait out
                // their back-off.
                let missing = ids.iter().any(|id| cache.get(id).is_none());
                if !missing {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
        }
    }
    cache
}

/// One request at a time, like a plain loop over the list.
pub async fn fetch_one_by_one(api: &Api, ids: &[String]) -> BTreeMap<String, SnapshotStatus> {
    let mut out = BTreeMap::new();
    for id in ids {
        if let Ok(v) = api.snapshot_status(id).await {
            out.insert(id.clone(), v.status);
        }
    }
    out
}

fn complete_count<'a>(statuses: impl Iterator<Item = &'a SnapshotStatus>) -> usize {
    statuses.filter(|s| **s == SnapshotStatus::Complete).count()
}

pub async fn run(api: &Api, devbox_id: &str, concurrencies: &[usize]) -> Res<Value> {
    let ids: Vec<String> = all_snapshots(api, Some(devbox_id))
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();

    let r0 = requests(api);
    let t0 = Instant::now();
    let seq = fetch_one_by_one(api, &ids).await;
    let seq_secs = secs_since(t0);
    let seq_requests = requests(api) - r0;

    let mut bounded = Vec::new();
    for &c in concurrencies {
        let r0 = requests(api);
        let t0 = Instant::now();
        let cache = fetch_statuses(api, &ids, c).await;
        let secs = secs_since(t0);
        let statuses = cache.statuses();
        bounded.push(json!({
            "concurrency": c,
            "secs": secs,
            "requests": requests(api) - r0,
            "statuses": statuses.len(),
            "complete": complete_count(statuses.values()),
            "speedup": if secs > 0.0 { seq_secs / secs } else { 0.0 },
        }));
    }
    Ok(json!({
        "snapshots": ids.len(),
        "one_by_one": {
            "secs": seq_secs,
            "requests": seq_requests,
            "statuses": seq.len(),
            "complete": complete_count(seq.values()),
        },
        "bounded": bounded,
    }))
}
