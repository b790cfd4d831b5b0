//! `cleanup`: keep the newest complete snapshot of a devbox and delete the rest, the
//! snapdeck way — list, statuses (bounded fan-in), a retention plan (snapdeck-core), then
//! the bulk run (re-check each wave of snapshots against one listing — still what the
//! plan deletes? — then delete them), driven by snapdeck-run like every other runner.

use std::time::Instant;

use serde_json::{Value, json};
use snapdeck_api::{Client, Transport};
use snapdeck_core::bulk::BulkRun;
use snapdeck_core::retention::{self, CleanupPlan, RetentionPolicy, Scope};
use snapdeck_run::{ClientApi, Options, Report};

use crate::common::{Api, LIST_PAGE, Res, all_snapshots, now_ms, requests, secs_since};
use crate::fanin::fetch_statuses;

/// The plan's deletes, driven by snapdeck-run like every other runner's: each wave
/// re-checked against one listing, and held to the plan's policy.
pub async fn delete_planned<T: Transport>(
    client: &Client<T>,
    plan: &CleanupPlan,
    concurrency: usize,
) -> (BulkRun, Report) {
    let mut bulk = BulkRun::from_plan(plan).with_concurrency(concurrency);
    // The account's size is not known here; a cleanup of one devbox lists it.
    let options = Options {
        page_size: LIST_PAGE as usize,
        ..Options::default()
    };
    let report = snapdeck_run::drive(
        &ClientApi::new(client, now_ms),
        &mut bulk,
        &options,
        &mut (),
    )
    .await;
    (bulk, report)
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
    let (bulk, report) = delete_planned(api, &plan, concurrency).await;
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
        "bulk_run": { "secs": delete_secs, "requests": delete_requests, "waves": report.waves, "status_calls": report.status_calls },
        "total_secs": secs_since(t_all),
    }))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use futures::TryStreamExt;
    use snapdeck_api::endpoints::ListSnapshots;
    use snapdeck_api::{CreateDevbox, DevboxStatus, SnapshotParams, SnapshotStatus};
    use snapdeck_core::bulk::{ItemState, SkipReason};
    use snapdeck_server::testing::{InProcessTransport, state};
    use snapdeck_server::{Config, Timings};

    use super::*;

    const QUICK: Timings = Timings {
        boot_ms: 1,
        suspend_ms: 1,
        resume_ms: 1,
        snapshot_ms: 1,
        blueprint_build_ms: 1,
    };

    /// The emulator in process, with one running devbox of `n` complete snapshots
    /// (oldest first).
    async fn emulator(n: usize) -> (Client<InProcessTransport>, String, Vec<String>) {
        let st = state(QUICK, Config::default(), false).expect("state");
        let api = Client::new(InProcessTransport::new(st), "http://emu").with_api_key("bench");
        let dbx = api
            .create_devbox(&CreateDevbox::default())
            .await
            .expect("devbox");
        api.wait_for_status(&dbx.id, &[DevboxStatus::Running], Some(5.0))
            .await
            .expect("wait")
            .expect("running");
        let mut ids = Vec::new();
        for i in 0..n {
            let params = SnapshotParams {
                name: Some(format!("nightly-{i}")),
                ..SnapshotParams::default()
            };
            let snap = api
                .snapshot_disk_async(&dbx.id, &params)
                .await
                .expect("snap");
            ids.push(snap.id);
            // Distinct creation times, so "newest" is unambiguous.
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        (api, dbx.id, ids)
    }

    /// "Keep the newest" over the devbox as it is now.
    async fn plan_keep_one(api: &Client<InProcessTransport>, devbox: &str) -> CleanupPlan {
        let snaps: Vec<_> = api
            .snapshots(ListSnapshots {
                devbox_id: Some(devbox.to_owned()),
                ..ListSnapshots::default()
            })
            .try_collect()
            .await
            .expect("list");
        let mut statuses = BTreeMap::new();
        for s in &snaps {
            let st = api.snapshot_status(&s.id).await.expect("status").status;
            assert_eq!(st, SnapshotStatus::Complete);
            statuses.insert(s.id.clone(), st);
        }
        let policy = RetentionPolicy {
            scope: Scope::Devbox(devbox.to_owned()),
            ..RetentionPolicy::default()
        };
        retention::plan(&policy, &snaps, &statuses, now_ms())
    }

    #[tokio::test]
    async fn the_bench_deletes_what_its_plan_deletes() {
        let (api, dbx, ids) = emulator(6).await;
        let plan = plan_keep_one(&api, &dbx).await;
        let (bulk, report) = delete_planned(&api, &plan, 4).await;
        assert_eq!(bulk.counts().done, 5);
        assert_eq!(
            report.status_calls, 0,
            "the plan's statuses were remembered"
        );
        let left = plan_keep_one(&api, &dbx).await;
        assert_eq!(left.items.len(), 1);
        assert_eq!(left.items[0].snapshot.id, ids[5]);
    }

    #[tokio::test]
    async fn the_bench_goes_through_the_same_check_when_the_kept_one_is_deleted_elsewhere() {
        let (api, dbx, ids) = emulator(6).await;
        let plan = plan_keep_one(&api, &dbx).await;
        api.delete_snapshot(&ids[5])
            .await
            .expect("deleted elsewhere");
        let (bulk, _) = delete_planned(&api, &plan, 4).await;
        assert_eq!(bulk.counts().done, 0);
        assert!(bulk.items.iter().all(|i| matches!(
            i.state,
            ItemState::Skipped {
                reason: SkipReason::PlanKeptGone { .. }
            }
        )));
        assert_eq!(plan_keep_one(&api, &dbx).await.items.len(), 5);
    }
}
