//! `cleanup`: keep the newest complete snapshot of a devbox and delete the rest, the
//! snapdeck way — list, statuses (bounded fan-in), a retention plan (snapdeck-core), then
//! the bulk run (re-check each wave of snapshots against one listing — still what the
//! plan deletes? — then delete them), driven by snapdeck-run like every other runner.

use std::time::Instant;

use serde_json::{Value, json};
use snapdeck_core::bulk::BulkRun;
use snapdeck_core::retention::{self, RetentionPolicy, Scope};
use snapdeck_run::{ClientApi, Options};

use crate::common::{Api, LIST_PAGE, Res, all_snapshots, now_ms, requests, secs_since};
use crate::fanin::fetch_statuses;

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
    // The account's size is not known here; a cleanup of one devbox lists it.
    let options = Options {
        page_size: LIST_PAGE as usize,
        ..Options::default()
    };
    let report =
        snapdeck_run::drive(&ClientApi::new(api, now_ms), &mut bulk, &options, &mut ()).await;
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
