//! Fan-out jobs in process: the server starts a batch's children through its own `/v1`
//! pipeline (create, wait until running, write each task file), reports every child's
//! step in the job's summary, and running the same launch again creates nothing twice.

use snapdeck_api::endpoints::ListDevboxes;
use snapdeck_api::{ApiError, Devbox, DevboxStatus, Metadata, SnapshotParams};
use snapdeck_core::fanout::{ATTEMPT_KEY, BATCH_KEY, ChildNote, ChildSpec};
use snapdeck_core::jobs::{FanoutSpec, JobKind, JobSpec, JobStatus};
use snapdeck_core::launch::IdleAction;

mod common;
use common::client::boot_named;
use common::jobs::JobsEmu;

/// A complete snapshot of a fresh devbox.
async fn base_snapshot(emu: &JobsEmu) -> String {
    let dbx = boot_named(&emu.client, "fan-source").await;
    let snap = emu
        .client
        .snapshot_disk_async(
            &dbx.id,
            &SnapshotParams {
                name: Some("fan-base".into()),
                ..SnapshotParams::default()
            },
        )
        .await
        .expect("snapshot");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    snap.id
}

fn spec(batch: &str, snapshot_id: &str, labels: &[&str], idle: IdleAction) -> FanoutSpec {
    FanoutSpec {
        batch_id: batch.into(),
        snapshot_id: snapshot_id.into(),
        cap: 2,
        children: labels
            .iter()
            .map(|l| ChildSpec {
                label: (*l).into(),
                name: format!("fan-base-try-{l}"),
                metadata: Metadata::from([
                    (BATCH_KEY.to_owned(), batch.to_owned()),
                    (ATTEMPT_KEY.to_owned(), (*l).to_owned()),
                ]),
                task: Some(("TASK.md".into(), format!("Attempt {l}"))),
            })
            .collect(),
        idle,
        fresh: false,
    }
}

async fn children(emu: &JobsEmu, batch: &str) -> Vec<Devbox> {
    let list = emu
        .client
        .list_devboxes(&ListDevboxes {
            limit: Some(100),
            ..ListDevboxes::default()
        })
        .await
        .expect("list");
    list.devboxes
        .into_iter()
        .filter(|d| d.metadata.get(BATCH_KEY).is_some_and(|b| b == batch))
        .collect()
}

#[tokio::test]
async fn a_fanout_job_starts_every_child_and_writes_each_task() {
    let emu = JobsEmu::new();
    let snapshot = base_snapshot(&emu).await;
    let job = emu
        .create(
            "fo-1",
            JobSpec::Fanout(spec(
                "fo_t1",
                &snapshot,
                &["a", "b", "c"],
                IdleAction::Suspend(1800),
            )),
        )
        .await
        .expect("create");
    assert_eq!(job.summary.kind, JobKind::Fanout);
    assert_eq!(job.summary.batch_id.as_deref(), Some("fo_t1"));
    assert_eq!(job.summary.progress.total, 3);
    let done = emu.finished(&job.summary.id).await;
    assert_eq!(
        done.summary.status,
        JobStatus::Finished,
        "{:?}",
        done.summary.error
    );
    assert_eq!(done.summary.progress.done, 3);
    let labels: Vec<(&str, &ChildNote)> = done
        .summary
        .children
        .iter()
        .map(|c| (c.label.as_str(), &c.note))
        .collect();
    let written = ChildNote::TaskWritten("TASK.md".into());
    assert_eq!(
        labels,
        vec![("a", &written), ("b", &written), ("c", &written)]
    );

    let kids = children(&emu, "fo_t1").await;
    assert_eq!(kids.len(), 3);
    for d in &kids {
        assert_eq!(d.status, DevboxStatus::Running);
        assert_eq!(d.snapshot_id.as_deref(), Some(snapshot.as_str()));
        let label = d.metadata.get(ATTEMPT_KEY).expect("labelled");
        let task = emu
            .client
            .read_file_contents(&d.id, "TASK.md")
            .await
            .expect("task written");
        assert_eq!(task, format!("Attempt {label}"));
        let after_idle = d.launch_parameters.extra.get("after_idle").cloned();
        assert_eq!(
            after_idle,
            Some(serde_json::json!({"idle_time_seconds": 1800, "on_idle": "suspend"}))
        );
    }
}

#[tokio::test]
async fn the_same_launch_again_creates_nothing_twice() {
    let emu = JobsEmu::new();
    let snapshot = base_snapshot(&emu).await;
    let first = emu
        .create(
            "fo-2a",
            JobSpec::Fanout(spec("fo_t2", &snapshot, &["a", "b"], IdleAction::None)),
        )
        .await
        .expect("create");
    emu.finished(&first.summary.id).await;
    // A second job for the same batch (as a resumed launch would be) finds both.
    let again = emu
        .create(
            "fo-2b",
            JobSpec::Fanout(spec("fo_t2", &snapshot, &["a", "b"], IdleAction::None)),
        )
        .await
        .expect("create");
    let done = emu.finished(&again.summary.id).await;
    assert_eq!(done.summary.status, JobStatus::Finished);
    assert_eq!(done.summary.progress.done, 2);
    assert_eq!(children(&emu, "fo_t2").await.len(), 2, "none created twice");
}

#[tokio::test]
async fn a_child_that_fails_to_boot_is_reported_and_the_others_go_on() {
    let emu = JobsEmu::new();
    let snapshot = base_snapshot(&emu).await;
    let faults = emu
        .client
        .send(
            snapdeck_api::Request::post_json(
                "/_emulator/faults",
                &serde_json::json!({"fail_next_boots": 1}),
            )
            .expect("encode"),
            snapdeck_api::RetryPolicy::none(),
            None,
        )
        .await
        .expect("faults");
    assert_eq!(faults.status, 200);
    let mut one_at_a_time = spec("fo_t3", &snapshot, &["a", "b"], IdleAction::None);
    one_at_a_time.cap = 1;
    let job = emu
        .create("fo-3", JobSpec::Fanout(one_at_a_time))
        .await
        .expect("create");
    let done = emu.finished(&job.summary.id).await;
    assert_eq!(done.summary.status, JobStatus::Finished);
    assert_eq!(
        (done.summary.progress.done, done.summary.progress.failed),
        (1, 1)
    );
    assert!(
        matches!(&done.summary.children[0].note, ChildNote::Failed(m) if m.contains("failed to boot")),
        "{:?}",
        done.summary.children
    );
}

#[tokio::test]
async fn a_fanout_with_a_label_twice_is_refused_with_its_reason() {
    let emu = JobsEmu::new();
    let err = emu
        .create(
            "fo-4",
            JobSpec::Fanout(spec("fo_t4", "snp_x", &["a", "a"], IdleAction::None)),
        )
        .await
        .expect_err("refused");
    match err {
        ApiError::Api {
            status, message, ..
        } => {
            assert_eq!(status, 400);
            assert!(message.contains("“a” is used twice"), "{message}");
        }
        other => panic!("expected a 400, got {other:?}"),
    }
}
