//! The audit trail in process: what delete jobs settled, with reasons, read through the
//! real client (`snapdeck_core::audit::ListAudit`), filtered, exported as CSV and parsed
//! back; what the app records (`RecordAudit`), with its input checked; and the same
//! auth as `/v1`.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use snapdeck_api::{ApiError, Metadata, PINNED_KEY, SnapshotParams};
use snapdeck_core::audit::{
    Action, Actor, AuditEntry, AuditFilter, ListAudit, Named, Outcome, RecordAudit, Recorded,
};
use snapdeck_server::Config;
use snapdeck_server::testing::state;

mod common;
use common::jobs::{JobsEmu, QUICK, deletes_of, from_plan, keep_newest};
use common::{Emu, KEY};

/// 2026-12-04T14:02:00Z.
const AT: i64 = 1_796_392_920_000;

impl JobsEmu {
    /// The same server, for requests the client does not make (CSV, bad bodies).
    fn http(&self) -> Emu {
        Emu {
            state: self.state.clone(),
            router: self.router.clone(),
        }
    }

    async fn audit(&self, filter: AuditFilter) -> Vec<AuditEntry> {
        self.client
            .call(&ListAudit {
                filter,
                limit: None,
            })
            .await
            .expect("audit")
            .entries
    }

    async fn pin(&self, snapshot: &str) {
        let mut pinned = Metadata::new();
        pinned.insert(PINNED_KEY.into(), "true".into());
        self.client
            .update_snapshot(
                snapshot,
                &SnapshotParams {
                    metadata: Some(pinned),
                    ..SnapshotParams::default()
                },
            )
            .await
            .expect("pin");
    }
}

/// What the app sends after deleting a snapshot itself.
fn browser_entry(id: &str, at_ms: i64, outcome: Outcome, reason: Option<&str>) -> AuditEntry {
    AuditEntry {
        id: id.into(),
        at_ms,
        actor: Actor::ThisBrowser,
        action: Action::DeleteSnapshot,
        target_id: format!("snp_{id}"),
        target_name: Some(format!("hand-{id}")),
        devbox_id: Some("dbx_hand".into()),
        job_id: None,
        policy: None,
        outcome,
        reason: reason.map(str::to_owned),
    }
}

/// RFC 4180, as a spreadsheet reads it: quoted fields may hold commas, doubled quotes
/// and line breaks; rows end with CRLF.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(!quoted, "an unterminated quoted field");
    assert!(
        field.is_empty() && row.is_empty(),
        "the last row ends with CRLF"
    );
    rows
}

#[tokio::test]
async fn a_cleanup_jobs_deletes_and_skips_are_in_the_audit_with_reasons() {
    let emu = JobsEmu::new();
    let (dbx, _) = emu.devbox_with("nightly", 4).await;
    let policy = keep_newest(&dbx, 1);
    let plan = emu.planned("a-plan", policy.clone()).await;
    let planned = deletes_of(&plan);
    assert_eq!(planned.len(), 3);
    // Pinned after the person confirmed: the job skips it.
    emu.pin(&planned[0]).await;
    let run = emu
        .create("a-run", from_plan(&plan, &planned))
        .await
        .expect("run");
    let run = emu.finished(&run.summary.id).await;

    let trail = emu.audit(AuditFilter::default()).await;
    assert_eq!(trail.len(), 3, "one entry per settled item: {trail:#?}");
    for entry in &trail {
        assert_eq!(entry.actor, Actor::Server);
        assert_eq!(entry.action, Action::DeleteSnapshot);
        assert_eq!(entry.job_id.as_deref(), Some(run.summary.id.as_str()));
        assert_eq!(entry.devbox_id.as_deref(), Some(dbx.as_str()));
        assert_eq!(entry.policy.as_deref(), Some(policy.describe().as_str()));
        assert!(
            entry
                .target_name
                .as_deref()
                .is_some_and(|n| n.starts_with("nightly-"))
        );
    }
    let pinned = trail
        .iter()
        .find(|e| e.target_id == planned[0])
        .expect("the pinned one");
    assert_eq!(pinned.outcome, Outcome::Skipped);
    assert_eq!(
        pinned.reason.as_deref(),
        Some("It was pinned after you confirmed.")
    );
    let done: Vec<&str> = trail
        .iter()
        .filter(|e| e.outcome == Outcome::Done)
        .map(|e| e.target_id.as_str())
        .collect();
    assert_eq!(done.len(), 2);
    assert!(done.iter().all(|id| planned[1..].iter().any(|p| p == id)));
    // Newest first.
    assert!(trail.windows(2).all(|w| w[0].at_ms >= w[1].at_ms));
}

#[tokio::test]
async fn a_plan_that_no_longer_holds_is_audited_as_skips_that_say_why() {
    let emu = JobsEmu::new();
    let (dbx, ids) = emu.devbox_with("gone", 3).await;
    let plan = emu.planned("g-plan", keep_newest(&dbx, 1)).await;
    let kept = ids.last().expect("ids").clone();
    emu.client
        .delete_snapshot(&kept)
        .await
        .expect("deleted elsewhere");
    emu.run_all("g-run", &plan).await;
    let skipped = emu
        .audit(AuditFilter {
            outcome: Some(Outcome::Skipped),
            ..AuditFilter::default()
        })
        .await;
    assert_eq!(skipped.len(), 2);
    for entry in &skipped {
        let reason = entry.reason.as_deref().unwrap_or_default();
        assert!(
            reason.contains("gone-2, which this plan kept, was deleted elsewhere"),
            "{reason}"
        );
    }
    assert!(
        emu.audit(AuditFilter {
            outcome: Some(Outcome::Done),
            ..AuditFilter::default()
        })
        .await
        .is_empty()
    );
}

#[tokio::test]
async fn the_app_records_its_own_actions_once_and_every_filter_narrows_them() {
    let emu = JobsEmu::new();
    let (dbx, _) = emu.devbox_with("mixed", 2).await;
    let plan = emu.planned("m-plan", keep_newest(&dbx, 1)).await;
    emu.run_all("m-run", &plan).await;

    let entries = vec![
        browser_entry("b1", AT, Outcome::Done, None),
        browser_entry(
            "b2",
            AT + 1_000,
            Outcome::Failed,
            Some("HTTP 500: quota, \"x\""),
        ),
        browser_entry(
            "b3",
            AT + 2_000,
            Outcome::Cancelled,
            Some("Undone within 10 s."),
        ),
    ];
    let record = RecordAudit {
        entries: entries.clone(),
    };
    let first = emu.client.call(&record).await.expect("record");
    assert_eq!(
        first,
        Recorded {
            recorded: 3,
            already_recorded: 0
        }
    );
    // A retry (same ids) stores nothing twice.
    let again = emu.client.call(&record).await.expect("record again");
    assert_eq!(again.recorded, 0);
    assert_eq!(again.already_recorded, 3);

    let by = |filter: AuditFilter| {
        let emu = &emu;
        async move {
            let mut ids: Vec<String> = emu.audit(filter).await.into_iter().map(|e| e.id).collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(by(AuditFilter::default()).await.len(), 4);
    assert_eq!(
        by(AuditFilter {
            actor: Some(Actor::ThisBrowser),
            ..AuditFilter::default()
        })
        .await,
        ["b1", "b2", "b3"]
    );
    assert_eq!(
        by(AuditFilter {
            actor: Some(Actor::Server),
            ..AuditFilter::default()
        })
        .await
        .len(),
        1
    );
    assert_eq!(
        by(AuditFilter {
            outcome: Some(Outcome::Failed),
            ..AuditFilter::default()
        })
        .await,
        ["b2"]
    );
    assert_eq!(
        by(AuditFilter {
            text: "QUOTA".into(),
            ..AuditFilter::default()
        })
        .await,
        ["b2"]
    );
    assert_eq!(
        by(AuditFilter {
            since_ms: Some(AT + 1_000),
            until_ms: Some(AT + 2_000),
            ..AuditFilter::default()
        })
        .await,
        ["b2"]
    );
    assert!(
        by(AuditFilter {
            action: Some(Action::Pin),
            ..AuditFilter::default()
        })
        .await
        .is_empty()
    );
    // `limit` keeps the newest and says more matched.
    let page = emu
        .client
        .call(&ListAudit {
            filter: AuditFilter {
                actor: Some(Actor::ThisBrowser),
                ..AuditFilter::default()
            },
            limit: Some(2),
        })
        .await
        .expect("page");
    let ids: Vec<&str> = page.entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["b3", "b2"]);
    assert!(page.has_more);
    let stored = emu
        .audit(AuditFilter {
            text: "hand-b2".into(),
            ..AuditFilter::default()
        })
        .await;
    assert_eq!(stored, [entries[1].clone()], "stored as sent");
}

#[tokio::test]
async fn the_csv_export_is_a_download_that_parses_back_to_the_entries() {
    let emu = JobsEmu::new();
    let tricky = browser_entry(
        "c1",
        AT,
        Outcome::Skipped,
        Some("Kept now: \"nightly-5\", which this plan kept,\nwas deleted elsewhere."),
    );
    let plain = browser_entry("c2", AT + 1, Outcome::Done, None);
    emu.client
        .call(&RecordAudit {
            entries: vec![tricky.clone(), plain.clone()],
        })
        .await
        .expect("record");
    let reply = emu
        .http()
        .get("/_snapdeck/audit?format=csv&actor=this_browser")
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.header(header::CONTENT_TYPE),
        Some("text/csv; charset=utf-8")
    );
    let disposition = reply
        .header(header::CONTENT_DISPOSITION)
        .expect("a download");
    assert!(
        disposition.starts_with("attachment; filename=\"snapdeck-audit-")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    assert_eq!(reply.header("x-snapdeck-has-more"), Some("false"));

    let rows = parse_csv(&reply.text);
    let header = &rows[0];
    assert_eq!(header[0], "id");
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    assert_eq!(rows.len(), 3, "header and two entries: {rows:?}");
    // Newest first, as in JSON.
    for (row, entry) in rows[1..].iter().zip([&plain, &tricky]) {
        assert_eq!(row.len(), header.len());
        assert_eq!(row[col("id")], entry.id);
        assert_eq!(row[col("at_ms")], entry.at_ms.to_string());
        assert_eq!(row[col("actor")], "this_browser");
        assert_eq!(row[col("action")], "delete_snapshot");
        assert_eq!(row[col("outcome")], entry.outcome.as_str());
        assert_eq!(row[col("target_id")], entry.target_id);
        assert_eq!(
            row[col("target_name")],
            entry.target_name.clone().unwrap_or_default()
        );
        assert_eq!(row[col("reason")], entry.reason.clone().unwrap_or_default());
    }
    assert_eq!(rows[2][col("at_utc")], "2026-12-04T14:02:00.000Z");
}

#[tokio::test]
async fn bad_input_gets_a_400_that_says_what_is_wrong() {
    let emu = JobsEmu::new();
    let http = emu.http();
    let entry = serde_json::to_value(browser_entry("x1", AT, Outcome::Done, None)).expect("json");
    let with = |change: &dyn Fn(&mut Value)| {
        let mut e = entry.clone();
        change(&mut e);
        json!({ "entries": [e] })
    };
    let cases: Vec<(Value, &str)> = vec![
        (json!([entry.clone()]), "the body must be {\"entries\""),
        (
            json!({ "entries": [] }),
            "entries must hold 1 to 1000 entries",
        ),
        (json!({ "entries": [1] }), "entries[0] must be an object"),
        (
            with(&|e| e["api_key"] = json!("rk-123")),
            "entries[0]: unknown field \"api_key\"",
        ),
        (
            with(&|e| e["outcome"] = json!("gone")),
            "entries[0]: unknown variant `gone`",
        ),
        (
            with(&|e| {
                e.as_object_mut().map(|o| o.remove("target_id"));
            }),
            "entries[0]: missing field `target_id`",
        ),
        (
            with(&|e| e["at_ms"] = json!(1_796_392_920)),
            "entries[0]: at_ms must be milliseconds since the epoch",
        ),
        (
            with(&|e| e["actor"] = json!("server")),
            "entries[0]: actor must be this_browser",
        ),
        (
            with(&|e| e["id"] = json!("  ")),
            "entries[0]: id is required",
        ),
        (
            // The caller's own key, pasted into a reason.
            with(&|e| e["reason"] = json!(format!("failed with {}", &KEY[7..]))),
            "entries[0].reason holds an API key",
        ),
    ];
    for (body, expected) in cases {
        let reply = http.post("/_snapdeck/audit", body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.text
        );
        let message = reply.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(message.starts_with(expected), "{body}: {message:?}");
    }
    let malformed = http
        .send(
            Request::post("/_snapdeck/audit")
                .header("authorization", KEY)
                .body(Body::from("{not json"))
                .expect("request"),
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);

    for (query, expected) in [
        (
            "outcome=gone",
            "outcome must be one of done, failed, skipped, cancelled",
        ),
        (
            "actor=me",
            "actor must be one of this_browser, edge_cron, server",
        ),
        ("since=yesterday", "since must be a time in milliseconds"),
        ("until=1.5", "until must be a time in milliseconds"),
        ("limit=0", "limit must be an integer between 1 and 10000"),
        ("format=xml", "format must be json or csv"),
    ] {
        let reply = http.get(&format!("/_snapdeck/audit?{query}")).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            reply.text
        );
        let message = reply.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(message.starts_with(expected), "{query}: {message:?}");
    }
    assert!(
        emu.audit(AuditFilter::default()).await.is_empty(),
        "nothing refused was stored"
    );
}

#[tokio::test]
async fn the_audit_needs_the_same_key_as_the_api() {
    let emu = JobsEmu::with(Config {
        api_key: Some("right-key-0123".into()),
        ..Config::default()
    });
    let client = |key: &str| JobsEmu::client_with_key(&emu.router, key);
    let record = RecordAudit {
        entries: vec![browser_entry("k1", AT, Outcome::Done, None)],
    };
    let wrong = client("wrong");
    for err in [
        wrong
            .call(&ListAudit::default())
            .await
            .expect_err("refused"),
        wrong.call(&record).await.map(|_| ()).expect_err("refused"),
    ] {
        assert!(matches!(err, ApiError::Api { status: 401, .. }), "{err:?}");
    }
    let right = client("right-key-0123");
    assert!(
        right
            .call(&ListAudit::default())
            .await
            .expect("listed")
            .entries
            .is_empty(),
        "nothing was stored by the refused request"
    );
    assert_eq!(right.call(&record).await.expect("recorded").recorded, 1);
    // Without a key at all, as a plain GET (a CSV link opened in a tab) sends it.
    let bare = common::send(
        &emu.router,
        Request::get("/_snapdeck/audit?format=csv")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(bare.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_proxy_keeps_the_audit_of_its_jobs_beside_them() {
    let upstream = state(QUICK, Config::default(), false).expect("upstream");
    let emu = JobsEmu::proxy_to(snapdeck_server::app(upstream)).await;
    let (dbx, _) = emu.devbox_with("proxied", 2).await;
    let plan = emu.planned("p-plan", keep_newest(&dbx, 1)).await;
    let run = emu.run_all("p-run", &plan).await;
    emu.client
        .call(&RecordAudit {
            entries: vec![browser_entry("p1", AT, Outcome::Done, None)],
        })
        .await
        .expect("record");
    let trail = emu.audit(AuditFilter::default()).await;
    let actors: Vec<Actor> = trail.iter().map(|e| e.actor).collect();
    assert_eq!(actors, [Actor::Server, Actor::ThisBrowser], "{trail:#?}");
    assert_eq!(trail[0].outcome, Outcome::Done);
    assert_eq!(trail[0].job_id.as_deref(), Some(run.summary.id.as_str()));
}

#[tokio::test]
async fn a_delete_the_api_refuses_is_audited_as_failed_with_the_error() {
    // An upstream that refuses every delete (as a real API would for a key without the
    // right), and answers everything else.
    let upstream = state(QUICK, Config::default(), false).expect("upstream");
    let refusing = snapdeck_server::app(upstream).layer(axum::middleware::from_fn(
        |req: axum::extract::Request, next: axum::middleware::Next| async move {
            if req.uri().path().ends_with("/delete") {
                let refusal = json!({"message": "deleting snapshots is not allowed for this key"});
                return (StatusCode::FORBIDDEN, axum::Json(refusal)).into_response();
            }
            next.run(req).await
        },
    ));
    let emu = JobsEmu::proxy_to(refusing).await;
    let (dbx, _) = emu.devbox_with("refused", 3).await;
    let plan = emu.planned("r-plan", keep_newest(&dbx, 1)).await;
    let run = emu.run_all("r-run", &plan).await;
    assert_eq!(run.summary.progress.failed, 2);
    let failed = emu
        .audit(AuditFilter {
            outcome: Some(Outcome::Failed),
            ..AuditFilter::default()
        })
        .await;
    assert_eq!(failed.len(), 2, "{failed:#?}");
    for entry in &failed {
        let reason = entry.reason.as_deref().unwrap_or_default();
        assert!(
            reason.contains("deleting snapshots is not allowed for this key"),
            "{reason}"
        );
        assert_eq!(entry.job_id.as_deref(), Some(run.summary.id.as_str()));
    }
}
