//! `populate`: many snapshots of one running devbox, through `snapshot_disk_async`
//! with bounded concurrency, then wait until they are all complete.

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};
use snapdeck_api::{SnapshotParams, SnapshotStatus};

use crate::common::{Api, Res, err, requests, running_devbox, secs_since};

/// What to create.
pub struct Populate {
    /// Devbox to snapshot; a new running devbox when `None`.
    pub devbox_id: Option<String>,
    /// Name of the new devbox.
    pub devbox_name: String,
    pub count: usize,
    pub concurrency: usize,
    /// Then one more snapshot, strictly newer than all others (the one a cleanup keeps).
    pub newest: bool,
}

/// Polls `/status` of `id` until it is final (every 20 ms, for at most `limit`).
async fn wait_final(api: &Api, id: &str, limit: Duration) -> Res<SnapshotStatus> {
    let t0 = Instant::now();
    loop {
        let v = api
            .snapshot_status(id)
            .await
            .map_err(err("polling a snapshot"))?;
        if v.status.is_final() {
            return Ok(v.status);
        }
        if t0.elapsed() > limit {
            return Err(format!("snapshot {id} still {} after {limit:?}", v.status));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn run(api: &Api, p: Populate) -> Res<Value> {
    let t0 = Instant::now();
    let devbox_id = match p.devbox_id {
        Some(id) => id,
        None => running_devbox(api, &p.devbox_name).await?,
    };
    let created: Vec<Res<(i64, String)>> = futures::stream::iter(0..p.count)
        .map(|i| {
            let devbox_id = devbox_id.clone();
            async move {
                let params = SnapshotParams {
                    name: Some(format!("bench-{i:05}")),
                    ..SnapshotParams::default()
                };
                api.snapshot_disk_async(&devbox_id, &params)
                    .await
                    .map(|s| (s.create_time_ms, s.id))
                    .map_err(err("snapshot_disk_async"))
            }
        })
        .buffer_unordered(p.concurrency.max(1))
        .collect()
        .await;
    let mut ids = Vec::with_capacity(created.len());
    for c in created {
        ids.push(c?);
    }
    // All snapshots take the same time, so the last one started finishes last.
    if let Some((_, last)) = ids.iter().max() {
        wait_final(api, last, Duration::from_secs(600)).await?;
    }
    let mut newest_id = None;
    if p.newest {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let s = api
            .snapshot_disk_async(
                &devbox_id,
                &SnapshotParams {
                    name: Some("bench-newest".into()),
                    ..SnapshotParams::default()
                },
            )
            .await
            .map_err(err("snapshot_disk_async (newest)"))?;
        wait_final(api, &s.id, Duration::from_secs(600)).await?;
        newest_id = Some(s.id);
    }
    Ok(json!({
        "devbox_id": devbox_id,
        "created": ids.len() + usize::from(newest_id.is_some()),
        "newest_id": newest_id,
        "secs": secs_since(t0),
        "requests": requests(api),
    }))
}
