//! `poll`: watch a snapshot until it completes — snapdeck-core's poll schedule
//! ([`SnapshotWatch`]) against the SDKs' fixed 1 s poll (`await_completed`: poll, then
//! sleep 1 s) — both at once on the same snapshot. Counts requests and the delay between
//! the snapshot completing (its `create_time_ms` + the server's snapshot duration) and
//! the watcher seeing `complete`.
//!
//! First `trials` snapshots with no history (the generic schedule), then
//! `history_trials` more on the same devbox with snapdeck-core's estimate from the
//! durations observed so far (each a bracket: last seen in progress, first seen
//! complete — what the app records), as the app does for a devbox it has watched.

use std::time::Duration;

use serde_json::{Value, json};
use snapdeck_api::{SnapshotParams, SnapshotStatus};
use snapdeck_core::estimate::{DurationSample, Sightings, estimate};
use snapdeck_core::{SnapshotWatch, WatchStep};

use crate::common::{Api, Res, client, err, median, now_ms, running_devbox};

struct Watched {
    requests: u64,
    detected_at_ms: i64,
    sightings: Sightings,
}

async fn snapdeck_watch(api: &Api, watch: SnapshotWatch) -> Res<Watched> {
    let mut requests = 0;
    let mut sightings = Sightings::new(watch.started_at_ms);
    let mut step = watch.next_poll(now_ms());
    loop {
        match step {
            WatchStep::PollIn(ms) => {
                tokio::time::sleep(Duration::from_millis(u64::try_from(ms).unwrap_or(0))).await;
                requests += 1;
                step = match api.snapshot_status(&watch.snapshot_id).await {
                    Ok(v) => {
                        sightings.observe(v.status, now_ms());
                        watch.observe(&v, now_ms())
                    }
                    Err(_) => watch.next_poll(now_ms()),
                };
            }
            WatchStep::Complete(_) => {
                return Ok(Watched {
                    requests,
                    detected_at_ms: now_ms(),
                    sightings,
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
                        sightings: Sightings::default(),
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

pub async fn run(
    url: &str,
    key: &str,
    duration_ms: i64,
    trials: usize,
    history_trials: usize,
) -> Res<Value> {
    // One client per watcher, so each one's requests are its own.
    let setup = client(url, key)?;
    let devbox_id = running_devbox(&setup, "bench-poll").await?;
    let mut history: Vec<DurationSample> = Vec::new();
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    for i in 0..trials.max(1) + history_trials {
        let expected = estimate(&history, None);
        let with_history = i >= trials.max(1);
        let started_at = now_ms();
        let snap = setup
            .snapshot_disk_async(&devbox_id, &SnapshotParams::default())
            .await
            .map_err(err("snapshot_disk_async"))?;
        let completes_at = snap.create_time_ms + duration_ms;
        let a = client(url, key)?;
        let b = client(url, key)?;
        let watch = SnapshotWatch::new(snap.id.clone(), Some(devbox_id.clone()), started_at)
            .with_estimate(if with_history { expected } else { None });
        let (ours, sdk) = futures::join!(
            snapdeck_watch(&a, watch),
            fixed_poll(&b, &snap.id, Duration::from_secs(1))
        );
        let (ours, sdk) = (ours?, sdk?);
        if let Some(s) = ours.sightings.sample(None) {
            history.push(s);
        }
        let row = json!({
            "snapshot_id": snap.id,
            "estimate": if with_history { expected.map(|e| json!({"expected_ms": e.expected_ms, "spread_ms": e.spread_ms})) } else { None },
            "snapdeck": { "requests": ours.requests, "delay_ms": ours.detected_at_ms - completes_at },
            "fixed_1s": { "requests": sdk.requests, "delay_ms": sdk.detected_at_ms - completes_at },
        });
        if with_history {
            warm.push(row)
        } else {
            cold.push(row)
        }
    }
    let schedule: Vec<f64> = snapdeck_core::watch::poll_offsets()
        .take(14)
        .map(|ms| ms as f64 / 1000.0)
        .collect();
    let mut summary = summarize(&cold);
    summary["duration_ms"] = json!(duration_ms);
    summary["schedule_s"] = json!(schedule);
    if !warm.is_empty() {
        summary["with_history"] = summarize(&warm);
    }
    Ok(summary)
}

/// Medians and maxima of a set of trials, with the trials themselves.
fn summarize(rows: &[Value]) -> Value {
    let pick = |who: &str, what: &str| -> Vec<f64> {
        rows.iter().filter_map(|r| r[who][what].as_f64()).collect()
    };
    let side = |who: &str| {
        json!({
            "requests_median": median(&pick(who, "requests")),
            "requests_max": pick(who, "requests").into_iter().fold(f64::MIN, f64::max),
            "delay_ms_median": median(&pick(who, "delay_ms")),
            "delay_ms_max": pick(who, "delay_ms").into_iter().fold(f64::MIN, f64::max),
        })
    };
    json!({
        "trials": rows.len(),
        "snapdeck": side("snapdeck"),
        "fixed_1s": side("fixed_1s"),
        "runs": rows,
    })
}
