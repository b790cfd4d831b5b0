//! `poll`: watch a snapshot until it completes — snapdeck-core's poll schedule
//! ([`SnapshotWatch`]) against the SDKs' fixed 1 s poll (`await_completed`: poll, then
//! sleep 1 s) — both at once on the same snapshot. Counts requests and the delay between
//! the snapshot completing (its `create_time_ms` + the server's snapshot duration) and
//! the watcher seeing `complete`.

use std::time::Duration;

use serde_json::{Value, json};
use snapdeck_api::{SnapshotParams, SnapshotStatus};
use snapdeck_core::{SnapshotWatch, WatchStep};

use crate::common::{Api, Res, client, err, median, now_ms, running_devbox};

struct Watched {
    requests: u64,
    detected_at_ms: i64,
}

async fn snapdeck_watch(api: &Api, watch: SnapshotWatch) -> Res<Watched> {
    let mut requests = 0;
    let mut step = watch.next_poll(now_ms());
    loop {
        match step {
            WatchStep::PollIn(ms) => {
                tokio::time::sleep(Duration::from_millis(u64::try_from(ms).unwrap_or(0))).await;
                requests += 1;
                step = match api.snapshot_status(&watch.snapshot_id).await {
                    Ok(v) => watch.observe(&v, now_ms()),
                    Err(_) => watch.next_poll(now_ms()),
                };
            }
            WatchStep::Complete(_) => {
                return Ok(Watched {
                    requests,
                    detected_at_ms: now_ms(),
                });
            }
            other => return Err(format!("snapdeck watch ended with {other:?}")),
        }
    }
}

async fn fixed_poll(api: &Api, id: &str, every: Duration) -> Res<Watched> {
    let mut requests = 0;
    loop {
        requests += 1;
        if let Ok(v) = api.snapshot_status(id).await {
            match v.status {
                SnapshotStatus::Complete => {
                    return Ok(Watched {
                        requests,
                        detected_at_ms: now_ms(),
                    });
                }
                SnapshotStatus::InProgress | SnapshotStatus::Unknown => {}
                other => return Err(format!("fixed poll saw {other}")),
            }
        }
        if requests > 10_000 {
            return Err("fixed poll never saw the snapshot complete".into());
        }
        tokio::time::sleep(every).await;
    }
}

pub async fn run(url: &str, key: &str, duration_ms: i64, trials: usize) -> Res<Value> {
    // One client per watcher, so each one's requests are its own.
    let setup = client(url, key)?;
    let devbox_id = running_devbox(&setup, "bench-poll").await?;
    let mut rows = Vec::new();
    for _ in 0..trials.max(1) {
        let started_at = now_ms();
        let snap = setup
            .snapshot_disk_async(&devbox_id, &SnapshotParams::default())
            .await
            .map_err(err("snapshot_disk_async"))?;
        let completes_at = snap.create_time_ms + duration_ms;
        let a = client(url, key)?;
        let b = client(url, key)?;
        let watch = SnapshotWatch::new(snap.id.clone(), Some(devbox_id.clone()), started_at);
        let (ours, sdk) = futures::join!(
            snapdeck_watch(&a, watch),
            fixed_poll(&b, &snap.id, Duration::from_secs(1))
        );
        let (ours, sdk) = (ours?, sdk?);
        rows.push(json!({
            "snapshot_id": snap.id,
            "snapdeck": { "requests": ours.requests, "delay_ms": ours.detected_at_ms - completes_at },
            "fixed_1s": { "requests": sdk.requests, "delay_ms": sdk.detected_at_ms - completes_at },
        }));
    }
    let pick = |who: &str, what: &str| -> Vec<f64> {
        rows.iter().filter_map(|r| r[who][what].as_f64()).collect()
    };
    let schedule: Vec<f64> = snapdeck_core::watch::poll_offsets()
        .take(14)
        .map(|ms| ms as f64 / 1000.0)
        .collect();
    let summary = json!({
        "duration_ms": duration_ms,
        "schedule_s": schedule,
        "trials": rows.len(),
        "snapdeck": {
            "requests_median": median(&pick("snapdeck", "requests")),
            "delay_ms_median": median(&pick("snapdeck", "delay_ms")),
            "delay_ms_max": pick("snapdeck", "delay_ms").into_iter().fold(f64::MIN, f64::max),
        },
        "fixed_1s": {
            "requests_median": median(&pick("fixed_1s", "requests")),
            "delay_ms_median": median(&pick("fixed_1s", "delay_ms")),
            "delay_ms_max": pick("fixed_1s", "delay_ms").into_iter().fold(f64::MIN, f64::max),
        },
        "runs": rows,
    });
    Ok(summary)
}
