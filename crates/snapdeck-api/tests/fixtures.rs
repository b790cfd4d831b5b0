//! Decoding of realistic payloads (shaped after the spec and SDK 1.29, with fields and
//! enum values this client does not know): nothing may fail, nothing known may be lost.

use snapdeck_api::endpoints::{GetBlueprint, GetSnapshotStatus, ListDevboxes, ListSnapshots};
use snapdeck_api::{
    BlueprintStatus, DevboxStatus, Endpoint, FailureReason, HttpResponse, PINNED_KEY,
    ShutdownReason, SnapshotStatus,
};

fn ok(body: &str) -> HttpResponse {
    HttpResponse::new(200, body).with_header("content-type", "application/json")
}

#[test]
fn devbox_list_with_unknown_fields_and_values_decodes() {
    let list = ListDevboxes::default()
        .decode(ok(include_str!("fixtures/devbox_list.json")))
        .expect("decodes");
    assert_eq!(list.devboxes.len(), 4);
    assert!(list.has_more);
    assert_eq!(list.total_count, Some(57));

    let d = &list.devboxes[0];
    assert_eq!(d.status, DevboxStatus::Running);
    assert_eq!(d.metadata.get("env").map(String::as_str), Some("staging"));
    assert_eq!(d.state_transitions.len(), 3);
    assert_eq!(
        d.launch_parameters.resource_size_request.as_deref(),
        Some("MEDIUM")
    );
    // Launch parameters this client does not model survive a round trip.
    assert!(d.launch_parameters.extra.contains_key("after_idle"));

    assert_eq!(list.devboxes[1].status, DevboxStatus::Queued);
    assert_eq!(
        list.devboxes[2].shutdown_reason,
        Some(ShutdownReason::ApiShutdown)
    );
    assert_eq!(list.devboxes[2].snapshot_id.as_deref(), Some("snp_1AbC"));

    let future = &list.devboxes[3];
    assert_eq!(future.status, DevboxStatus::Unknown);
    assert_eq!(future.failure_reason, Some(FailureReason::Unknown));
    assert_eq!(future.shutdown_reason, Some(ShutdownReason::Unknown));
}

#[test]
fn snapshot_list_decodes_pins_sizes_and_nulls() {
    let list = ListSnapshots::default()
        .decode(ok(include_str!("fixtures/snapshot_list.json")))
        .expect("decodes");
    let [pinned, bare] = &list.snapshots[..] else {
        panic!("two snapshots expected")
    };
    assert_eq!(
        pinned.metadata.get(PINNED_KEY).map(String::as_str),
        Some("true")
    );
    assert_eq!(pinned.size_bytes, Some(1_288_490_189));
    assert_eq!(bare.name, None);
    assert_eq!(bare.size_bytes, None);
    assert!(!list.has_more);
}

#[test]
fn snapshot_statuses_decode_with_and_without_the_snapshot() {
    let e = GetSnapshotStatus {
        id: "snp_1AbD".into(),
    };
    let done = e
        .decode(ok(include_str!("fixtures/snapshot_status_complete.json")))
        .expect("decodes");
    assert_eq!(done.status, SnapshotStatus::Complete);
    assert_eq!(done.snapshot.map(|s| s.id).as_deref(), Some("snp_1AbD"));
    let failed = e
        .decode(ok(include_str!("fixtures/snapshot_status_error.json")))
        .expect("decodes");
    assert_eq!(failed.status, SnapshotStatus::Error);
    assert_eq!(
        failed.error_message.as_deref(),
        Some("Disk quota exceeded while writing layer")
    );
}

#[test]
fn blueprint_decodes() {
    let b = GetBlueprint {
        id: "bpt_2mK9sQ".into(),
    }
    .decode(ok(include_str!("fixtures/blueprint.json")))
    .expect("decodes");
    assert_eq!(b.status, BlueprintStatus::BuildComplete);
    assert_eq!(b.parameters["dockerfile"], "FROM python:3.12\n");
}

#[test]
fn a_list_missing_its_array_is_a_decode_error_not_a_panic() {
    let err = ListSnapshots::default()
        .decode(ok(r#"{"has_more": false}"#))
        .expect_err("snapshots is required");
    assert!(
        err.to_string()
            .starts_with("The API sent an answer snapdeck could not read"),
        "{err}"
    );
}
