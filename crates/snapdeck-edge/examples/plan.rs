//! The plan the worker's cron would carry out, computed natively: reads
//! `{"policies": <RETENTION_POLICIES>, "now_ms": …, "snapshots": [{"snapshot": …, "status": …}]}`
//! on stdin and prints `{"delete": [ids], "keep": [ids]}`. scripts/edge-test uses it to
//! know what a triggered cron must delete, from the emulator's state before the run.

use std::io::Read;
use std::process::ExitCode;

use serde::Deserialize;
use snapdeck_edge::plan::{self, SnapshotState};

#[derive(Deserialize)]
struct Input {
    policies: serde_json::Value,
    now_ms: i64,
    snapshots: Vec<SnapshotState>,
}

fn main() -> ExitCode {
    match run() {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("plan: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<String, String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    let input: Input = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let policies = plan::parse_policies(Some(&input.policies.to_string()))?;
    let combined = plan::combine(&policies, &input.snapshots, input.now_ms);
    let ids = |delete: bool| -> Vec<&str> {
        combined
            .iter()
            .filter(|c| c.delete == delete)
            .map(|c| c.snapshot.id.as_str())
            .collect()
    };
    Ok(serde_json::json!({ "delete": ids(true), "keep": ids(false) }).to_string())
}
