//! The jobs API in process: the real `snapdeck-api` client and snapdeck-core's jobs
//! endpoints against the router with jobs running, the jobs calling the emulator through
//! its own `/v1` pipeline.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use snapdeck_api::{ApiError, Metadata, PINNED_KEY, RetryPolicy, SnapshotParams, SnapshotStatus};
use snapdeck_core::audit::{AuditFilter, ListAudit, Outcome};
use snapdeck_core::bulk::{Confirmed, ItemState, SkipReason};
use snapdeck_core::jobs::{CancelJob, DeleteSpec, GetJob, JobSpec, JobStatus, ListJobs};
use snapdeck_core::retention::Decision;
use snapdeck_server::Config;
use snapdeck_server::testing::state;
use tower::ServiceExt;

mod common;
use common::jobs::{JobsEmu, QUICK, deletes_of, from_plan, keep_newest};

#[tokio::test]
async fn a_plan_job_plans_every_snapshot_in_scope_with_a_reason() {
    let emu = JobsEmu::new();
    let (dbx, ids) = emu.devbox_with("plan", 6).await;
    let (_other, _) = emu.devbox_with("other", 2).await;
    let job = emu.planned("p1", keep_newest(&dbx, 2)).await;
    assert_eq!(job.summary.status, JobStatus::Finished);
    let plan = job.plan.as_ref().expect("plan");
    assert_eq!(plan.items.len(), 6, "only the scope's snapshots");
    let deleted: BTreeSet<String> = deletes_of(&job).into_iter().collect();
    let oldest_four: BTreeSet<String> = ids[..4].iter().cloned().collect();
    assert_eq!(deleted, oldest_four);
    assert!(
        plan.to_keep()
            .all(|i| matches!(i.decision, Decision::Keep(_)))
    );
    assert_eq!(job.summary.progress.to_delete, Some(4));
    assert_eq!(job.summary.progress.total, 6);
    assert_eq!(job.summary.progress.cached, 0, "nothing cached yet");
}

#[tokio::test]
async fn a_second_plan_takes_terminal_statuses_from_the_cache() {
    let emu = JobsEmu::new();
    let (dbx, _) = emu.devbox_with("cache", 5).await;
    let first = emu.planned("c1", keep_newest(&dbx, 1)).await;
    let second = emu.planned("c2", keep_newest(&dbx, 1)).await;
    assert_eq!(first.summary.progress.cached, 0);
    assert_eq!(second.summary.progress.cached, 5, "no status call needed");
    assert_eq!(deletes_of(&first), deletes_of(&second));
}

#[tokio::test]
async fn a_second_plan_asks_the_upstream_for_no_status_it_knows_is_final() {
    // Issue 13: a proxy's second plan of the same snapshots makes no /status call for
    // those whose status was final, and one for each snapshot new since.
    let upstream = state(QUICK, Config::default(), false).expect("upstream");
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let upstream = snapdeck_server::app(upstream.clone()).layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            if req.uri().path().ends_with("/status") {
                counted.fetch_add(1, Ordering::SeqCst);
            }
            next.run(req)
        },
    ));
    let emu = JobsEmu::proxy_to(upstream).await;
    let (dbx, _) = emu.devbox_with("counted", 5).await;
    let status_calls = || calls.swap(0, Ordering::SeqCst);
    status_calls();

    let first = emu.planned("u1", keep_newest(&dbx, 1)).await;
    assert_eq!(status_calls(), 5, "the first plan learns every status");
    assert_eq!(first.summary.progress.cached, 0);
    let second = emu.planned("u2", keep_newest(&dbx, 1)).await;
    assert_eq!(status_calls(), 0, "the second plan asks for none");
    assert_eq!(second.summary.progress.cached, 5);
    assert_eq!(deletes_of(&first), deletes_of(&second));

    emu.client
        .snapshot_disk_async(&dbx, &SnapshotParams::default())
        .await
        .expect("snapshot");
    tokio::time::sleep(Duration::from_millis(20)).await;
    status_calls();
    let third = emu.planned("u3", keep_newest(&dbx, 1)).await;
    assert_eq!(
        status_calls(),
        1,
        "only the new snapshot's status is asked for"
    );
    assert_eq!(third.summary.progress.cached, 5);
    assert_eq!(deletes_of(&third).len(), 5);
}

#[tokio::test]
async fn a_run_from_a_plan_deletes_exactly_the_confirmed_deletes() {
    let emu = JobsEmu::new();
    let (dbx, ids) = emu.devbox_with("run", 8).await;
    let plan = emu.planned("r-plan", keep_newest(&dbx, 1)).await;
    let planned = deletes_of(&plan);
    assert_eq!(planned.len(), 7);
    // The person confirms only five of the seven.
    let confirmed = &planned[..5];
    let run = emu
        .create("r-run", from_plan(&plan, confirmed))
        .await
        .expect("create run");
    assert_eq!(run.items.len(), 5);
    let run = emu.finished(&run.summary.id).await;
    assert_eq!(run.summary.status, JobStatus::Finished);
    assert_eq!(run.summary.progress.done, 5);
    assert!(run.items.iter().all(|i| i.state
        == ItemState::Done {
            already_gone: false
        }));
    let left = emu.listed(&dbx).await;
    let expected: BTreeSet<String> = ids
        .iter()
        .filter(|id| !confirmed.contains(id))
        .cloned()
        .collect();
    assert_eq!(left, expected);
    assert_eq!(
        run.summary.plan_job.as_deref(),
        Some(plan.summary.id.as_str())
    );
    assert_eq!(run.summary.policy, Some(keep_newest(&dbx, 1)));
}

#[tokio::test]
async fn a_run_never_takes_a_snapshot_its_plan_keeps() {
    let emu = JobsEmu::new();
    let (dbx, ids) = emu.devbox_with("keep", 3).await;
    let plan = emu.planned("k-plan", keep_newest(&dbx, 1)).await;
    let newest = ids.last().expect("ids").clone();
    let err = emu
        .create("k-run", from_plan(&plan, &[newest]))
        .await
        .expect_err("refused");
    assert!(matches!(err, ApiError::Api { status: 422, .. }), "{err:?}");
    assert_eq!(emu.listed(&dbx).await.len(), 3);
}

#[tokio::test]
async fn the_same_request_id_gives_the_same_job_and_another_request_is_refused() {
    let emu = JobsEmu::new();
    let (dbx, _) = emu.devbox_with("idem", 3).await;
    let spec = JobSpec::Plan {
        policy: keep_newest(&dbx, 1),
    };
    let a = emu.create("same-id", spec.clone()).await.expect("first");
    let b = emu.create("same-id", spec).await.expect("again");
    assert_eq!(a.summary.id, b.summary.id);
    let other = emu
        .create(
            "same-id",
            JobSpec::Plan {
                policy: keep_newest(&dbx, 2),
            },
        )
        .await
        .expect_err("different request");
    assert!(
        matches!(other, ApiError::Api { status: 409, .. }),
        "{other:?}"
    );
    let list = emu.client.call(&ListJobs::default()).await.expect("list");
    assert_eq!(list.jobs.len(), 1, "one job, not two");
}

#[tokio::test]
async fn another_caller_sees_the_same_job_and_its_outcome() {
    let emu = JobsEmu::new();
    let (dbx, _) = emu.devbox_with("shared", 4).await;
    let plan = emu.planned("s-plan", keep_newest(&dbx, 1)).await;
    let run = emu
        .create("s-run", from_plan(&plan, &deletes_of(&plan)))
        .await
        .expect("run");
    let teammate = JobsEmu::client_of(&emu.router);
    let listed = teammate.call(&ListJobs::default()).await.expect("list");
    let ids: Vec<&str> = listed.jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(
        ids,
        [run.summary.id.as_str(), plan.summary.id.as_str()],
        "newest first"
    );
    let mine = emu.finished(&run.summary.id).await;
    let theirs = teammate
        .call(&GetJob {
            id: run.summary.id.clone(),
        })
        .await
        .expect("get");
    assert_eq!(theirs.items, mine.items);
    assert_eq!(theirs.summary.client_id.as_deref(), Some("test-browser"));
}

#[tokio::test]
async fn a_snapshot_pinned_after_confirmation_is_skipped_by_the_job() {
    let emu = JobsEmu::new();
    let (dbx, _) = emu.devbox_with("pin", 4).await;
    let plan = emu.planned("pin-plan", keep_newest(&dbx, 1)).await;
    let planned = deletes_of(&plan);
    let mut pinned = Metadata::new();
    pinned.insert(PINNED_KEY.into(), "true".into());
    emu.client
        .update_snapshot(
            &planned[0],
            &SnapshotParams {
                metadata: Some(pinned),
                ..SnapshotParams::default()
            },
        )
        .await
        .expect("pin");
    let run = emu
        .create("pin-run", from_plan(&plan, &planned))
        .await
        .expect("run");
    let run = emu.finished(&run.summary.id).await;
    let first = run
        .items
        .iter()
        .find(|i| i.confirmed.snapshot_id == planned[0])
        .expect("item");
    assert_eq!(
        first.state,
        ItemState::Skipped {
            reason: SkipReason::PinnedSince
        }
    );
    assert!(emu.listed(&dbx).await.contains(&planned[0]));
    assert_eq!(run.summary.progress.done, planned.len() - 1);
}

#[tokio::test]
async fn a_job_whose_kept_snapshot_is_deleted_elsewhere_deletes_nothing_of_that_devbox() {
    // Issue 12: keep the newest of six; someone deletes that one before the person
    // confirms the five. The job must not leave the devbox with nothing.
    let emu = JobsEmu::new();
    let (dbx, ids) = emu.devbox_with("gone", 6).await;
    let plan = emu.planned("g-plan", keep_newest(&dbx, 1)).await;
    let planned = deletes_of(&plan);
    assert_eq!(planned.len(), 5);
    let kept = ids.last().expect("ids").clone();
    emu.client
        .delete_snapshot(&kept)
        .await
        .expect("deleted elsewhere");
    let run = emu
        .create("g-run", from_plan(&plan, &planned))
        .await
        .expect("run");
    let run = emu.finished(&run.summary.id).await;
    assert_eq!(run.summary.status, JobStatus::Finished);
    assert_eq!(run.summary.progress.done, 0);
    assert_eq!(run.summary.progress.skipped, 5);
    for item in &run.items {
        let ItemState::Skipped { reason } = &item.state else {
            panic!("{item:?}");
        };
        assert!(
            matches!(reason, SkipReason::PlanKeptGone { gone, .. } if gone.snapshot_id == kept),
            "{reason:?}"
        );
        assert!(
            reason
                .to_string()
                .contains("gone-5, which this plan kept, was deleted elsewhere"),
            "{reason}"
        );
    }
    assert_eq!(emu.listed(&dbx).await.len(), 5);
}

#[tokio::test]
async fn a_hand_picked_job_keeps_the_last_complete_snapshot_unless_overridden() {
    let emu = JobsEmu::new();
    let (dbx, ids) = emu.devbox_with("floor", 2).await;
    let confirmed = |id: &String| Confirmed {
        snapshot_id: id.clone(),
        source_devbox_id: dbx.clone(),
        name: None,
        size_bytes: None,
        status: Some(SnapshotStatus::Complete),
    };
    let spec = |override_ids: Vec<String>| {
        JobSpec::Delete(DeleteSpec {
            confirmed: ids.iter().map(confirmed).collect(),
            override_ids,
            ..DeleteSpec::default()
        })
    };
    let run = emu.create("f-run", spec(Vec::new())).await.expect("run");
    let run = emu.finished(&run.summary.id).await;
    assert_eq!(run.summary.progress.done, 1);
    let newest = ids.last().expect("ids");
    assert_eq!(emu.listed(&dbx).await, BTreeSet::from([newest.clone()]));
    let kept = run
        .items
        .iter()
        .find(|i| &i.confirmed.snapshot_id == newest)
        .expect("item");
    assert!(matches!(
        kept.state,
        ItemState::Skipped {
            reason: SkipReason::LastComplete { .. }
        }
    ));
    // Typed override for the last one: now it goes.
    let run = emu
        .create("f-run-2", spec(vec![newest.clone()]))
        .await
        .expect("run");
    let run = emu.finished(&run.summary.id).await;
    assert_eq!(run.summary.progress.done, 1);
    assert!(emu.listed(&dbx).await.is_empty());
}

#[tokio::test]
async fn cancel_stops_the_run_with_every_item_accounted_for() {
    let emu = JobsEmu::new();
    let (dbx, ids) = emu.devbox_with("cancel", 120).await;
    let plan = emu.planned("x-plan", keep_newest(&dbx, 1)).await;
    let planned = deletes_of(&plan);
    // Slow enough that the cancel lands mid-run.
    emu.state.update_faults(|f| f.fault_latency_ms = 40);
    let run = emu
        .create("x-run", from_plan(&plan, &planned))
        .await
        .expect("run");
    let id = run.summary.id.clone();
    loop {
        let job = emu
            .client
            .call(&GetJob { id: id.clone() })
            .await
            .expect("get");
        if job.summary.progress.done > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let cancelled = emu
        .client
        .call(&CancelJob { id: id.clone() })
        .await
        .expect("cancel");
    assert!(cancelled.cancel_requested);
    let run = emu.finished(&id).await;
    emu.state.update_faults(|f| f.fault_latency_ms = 0);
    assert_eq!(run.summary.status, JobStatus::Cancelled);
    let p = run.summary.progress;
    assert_eq!(p.done + p.failed + p.skipped, planned.len(), "{p:?}");
    assert!(p.skipped > 0, "the cancel came before the end: {p:?}");
    assert!(run.items.iter().all(|i| i.state.is_settled()));
    // Exactly the items reported done are gone; everything else is still there.
    let done: BTreeSet<String> = run
        .items
        .iter()
        .filter(|i| matches!(i.state, ItemState::Done { .. }))
        .map(|i| i.confirmed.snapshot_id.clone())
        .collect();
    let expected: BTreeSet<String> = ids.iter().filter(|i| !done.contains(*i)).cloned().collect();
    assert_eq!(emu.listed(&dbx).await, expected);
    for item in &run.items {
        if let ItemState::Skipped { reason } = &item.state {
            assert_eq!(*reason, SkipReason::Cancelled);
        }
    }
    // The audit accounts for every item too: each delete done, the rest cancelled.
    let trail = emu
        .client
        .call(&ListAudit {
            filter: AuditFilter {
                text: id.clone(),
                ..AuditFilter::default()
            },
            limit: None,
        })
        .await
        .expect("audit")
        .entries;
    assert_eq!(trail.len(), planned.len());
    let audited_done: BTreeSet<String> = trail
        .iter()
        .filter(|e| e.outcome == Outcome::Done)
        .map(|e| e.target_id.clone())
        .collect();
    assert_eq!(audited_done, done);
    assert_eq!(
        trail
            .iter()
            .filter(|e| e.outcome == Outcome::Cancelled)
            .count(),
        p.skipped
    );
}

#[tokio::test]
async fn a_snapshot_picked_twice_is_one_item_of_the_run() {
    let emu = JobsEmu::new();
    let (dbx, _) = emu.devbox_with("twice", 3).await;
    let plan = emu.planned("t-plan", keep_newest(&dbx, 1)).await;
    let planned = deletes_of(&plan);
    let mut picked = planned.clone();
    picked.push(planned[0].clone());
    let run = emu
        .create("t-run", from_plan(&plan, &picked))
        .await
        .expect("run");
    assert_eq!(run.items.len(), planned.len());
    let run = emu.finished(&run.summary.id).await;
    assert_eq!(run.summary.progress.done, planned.len());
}

#[tokio::test]
async fn a_follower_gets_the_summary_then_each_item_and_the_stream_ends_with_the_job() {
    let emu = JobsEmu::new();
    let (dbx, _) = emu.devbox_with("follow", 5).await;
    let plan = emu.planned("f-plan", keep_newest(&dbx, 1)).await;
    emu.state.update_faults(|f| f.fault_latency_ms = 20);
    let run = emu
        .create("f-run", from_plan(&plan, &deletes_of(&plan)))
        .await
        .expect("run");
    let response = emu
        .router
        .clone()
        .oneshot(
            Request::get(format!("/_snapdeck/jobs/{}/events", run.summary.id))
                .header("authorization", "Bearer jobs-test")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("answer");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    // The stream ends by itself once the job is over.
    let body = tokio::time::timeout(Duration::from_secs(30), response.into_body().collect())
        .await
        .expect("the stream ends")
        .expect("body")
        .to_bytes();
    let text = String::from_utf8_lossy(&body);
    let events: Vec<(&str, serde_json::Value)> = text
        .split("\n\n")
        .filter_map(|block| {
            let name = block.lines().find_map(|l| l.strip_prefix("event: "))?;
            let data = block.lines().find_map(|l| l.strip_prefix("data: "))?;
            Some((name, serde_json::from_str(data).ok()?))
        })
        .collect();
    assert_eq!(events.first().map(|e| e.0), Some("job"));
    let items: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e.0 == "item")
        .map(|e| &e.1)
        .collect();
    assert_eq!(items.len(), 4, "{text}");
    let last = events.last().expect("events");
    assert_eq!(last.0, "job");
    assert_eq!(last.1["status"], "finished");
    assert_eq!(last.1["progress"]["done"], 4);
}

#[tokio::test]
async fn jobs_need_the_same_key_as_the_api() {
    let emu = JobsEmu::with(Config {
        api_key: Some("right".into()),
        ..Config::default()
    });
    let wrong = JobsEmu::client_with_key(&emu.router, "wrong");
    let err = wrong.call(&ListJobs::default()).await.expect_err("refused");
    assert!(matches!(err, ApiError::Api { status: 401, .. }), "{err:?}");
    let right = JobsEmu::client_with_key(&emu.router, "right");
    assert!(right.call(&ListJobs::default()).await.is_ok());
}

#[tokio::test]
async fn healthz_says_whether_jobs_run() {
    let emu = JobsEmu::new();
    let health = emu
        .client
        .send(
            snapdeck_api::Request::get("/healthz", &snapdeck_api::Query::new()),
            RetryPolicy::none(),
            None,
        )
        .await
        .expect("healthz");
    let body: serde_json::Value = serde_json::from_slice(&health.body).expect("json");
    assert_eq!(body["jobs"]["available"], true);
    assert_eq!(body["jobs"]["path"], "/_snapdeck/jobs");

    let without = snapdeck_server::app(state(QUICK, Config::default(), false).expect("state"));
    let response = without
        .oneshot(
            Request::get("/healthz")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("answer");
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let body: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(body["jobs"]["available"], false);
}
