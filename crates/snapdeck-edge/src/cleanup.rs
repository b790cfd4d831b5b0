//! The `scheduled` side of the worker: the retention policies become a job (client
//! `edge cron`) in the jobs' Durable Object, which lists every snapshot, learns each
//! status, plans with snapdeck-core's planner (the policies combined, keeping wins),
//! and deletes through snapdeck-run's driver — each wave re-checked against the listing
//! just before its deletes — over as many alarms as the fleet needs, then logs the
//! report. Nothing heavy runs in the `scheduled` invocation itself.

use worker::{
    Env, Method, Request, RequestInit, console_error, console_log, wasm_bindgen::JsValue,
};

use crate::config::{self, Settings};
use crate::durable::{self, RetentionRequest};
use crate::forward::redact_text;
use crate::{jobs, plan};

/// Starts the configured retention policies as a job; every outcome goes to the log,
/// with any copy of the key redacted. `scheduled_ms` is the firing's time, so a retried
/// event finds the job it started.
pub async fn run(env: &Env, cron: &str, scheduled_ms: i64) {
    let settings = match Settings::from_env(env) {
        Ok(settings) => settings,
        Err(missing) => {
            console_error!("retention: not run: {missing}");
            return;
        }
    };
    let log = |line: &str| console_log!("{}", redact_text(line, &settings.api_key));
    if let Err(message) = start(env, &settings, cron, scheduled_ms, &log).await {
        console_error!(
            "retention: failed: {}",
            redact_text(&message, &settings.api_key)
        );
    }
}

async fn start(
    env: &Env,
    settings: &Settings,
    cron: &str,
    scheduled_ms: i64,
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
    let request = RetentionRequest {
        request_id: jobs::cron_request_id(cron, scheduled_ms),
        policies,
        dry_run,
        cron: cron.to_owned(),
    };
    let body = serde_json::to_string(&request).map_err(|e| e.to_string())?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(JsValue::from_str(&body)));
    let url = format!("https://jobs.internal{}", durable::RETENTION_PATH);
    let stub = env
        .durable_object(durable::BINDING)
        .and_then(|ns| ns.get_by_name(durable::OBJECT_NAME))
        .map_err(|e| {
            format!(
                "the jobs' Durable Object is not bound ({}): {e}",
                durable::BINDING
            )
        })?;
    let mut answer = Request::new_with_init(&url, &init)
        .map(|req| stub.fetch_with_request(req))
        .map_err(|e| e.to_string())?
        .await
        .map_err(|e| format!("could not start the job: {e}"))?;
    let text = answer.text().await.map_err(|e| e.to_string())?;
    let job: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("could not start the job: {e}: {text}"))?;
    match job.get("id").and_then(|id| id.as_str()) {
        Some(id) => {
            log(&format!(
                "retention: started job {id} (follow it at /_snapdeck/jobs/{id})"
            ));
            Ok(())
        }
        None => Err(format!("could not start the job: {text}")),
    }
}
