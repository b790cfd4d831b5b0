//! The `scheduled` side of the worker: gathers every snapshot with its status through
//! snapdeck-api's client (over the runtime's global `fetch`), plans with snapdeck-core's
//! planner, deletes with snapdeck-core's bulk runner (which re-checks each wave of
//! snapshots against the list just before deleting it), and logs the report.

use snapdeck_api::{BrowserTransport, Client};
use worker::{Env, console_error, console_log};

use crate::config::{self, Settings};
use crate::forward::redact_text;
use crate::{plan, run};

/// Runs the configured retention policies once; every outcome goes to the log, with
/// any copy of the key redacted.
pub async fn run(env: &Env, cron: &str) {
    let settings = match Settings::from_env(env) {
        Ok(settings) => settings,
        Err(missing) => {
            console_error!("retention: not run: {missing}");
            return;
        }
    };
    let log = |line: &str| console_log!("{}", redact_text(line, &settings.api_key));
    if let Err(message) = run_policies(env, &settings, cron, &log).await {
        console_error!(
            "retention: failed: {}",
            redact_text(&message, &settings.api_key)
        );
    }
}

async fn run_policies(
    env: &Env,
    settings: &Settings,
    cron: &str,
    log: &impl Fn(&str),
) -> Result<(), String> {
    let policies =
        plan::parse_policies(config::json_binding(env, "RETENTION_POLICIES").as_deref())?;
    let dry_run = config::flag_binding(env, "RETENTION_DRY_RUN");
    log(&format!(
        "retention: cron {cron:?}, {} {}, upstream {}{}",
        policies.len(),
        if policies.len() == 1 {
            "policy"
        } else {
            "policies"
        },
        settings.upstream_url,
        if dry_run { ", dry run" } else { "" }
    ));
    if policies.is_empty() {
        log("retention: done: no policies configured (RETENTION_POLICIES), nothing to do");
        return Ok(());
    }
    let client = Client::new(BrowserTransport::new(), settings.upstream_url.as_str())
        .with_api_key(settings.api_key.as_str());
    let snapshots = run::inventory(&client)
        .await
        .map_err(|e| format!("could not list the snapshots and their statuses: {e}"))?;
    let combined = plan::combine(&policies, &snapshots, now_ms());
    let bulk = if dry_run {
        None
    } else {
        let mut bulk = plan::bulk_run(&policies, &combined);
        run::drive(&client, &mut bulk, snapshots.len(), now_ms).await;
        Some(bulk)
    };
    for line in plan::report(&policies, &combined, bulk.as_ref()) {
        log(&line);
    }
    Ok(())
}

/// Wall-clock milliseconds, as snapdeck-core takes time: passed in.
fn now_ms() -> i64 {
    i64::try_from(worker::Date::now().as_millis()).unwrap_or(i64::MAX)
}
