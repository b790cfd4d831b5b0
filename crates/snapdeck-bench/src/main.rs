//! Measurement tools behind `scripts/bench`. Figures only: no assertions here, and none
//! of this runs in the tests. Every subcommand prints one JSON object on stdout.
//!
//! * `populate` — N snapshots of a running devbox via `snapshot_disk_async`.
//! * `cleanup` — keep the newest, delete the rest: retention plan + bulk run.
//! * `fanin` — statuses of every snapshot of a devbox: bounded vs one by one.
//! * `poll` — snapdeck's poll schedule vs a fixed 1 s poll on one snapshot.
//! * `snapset` / `verify` — prove a cleanup deleted exactly what it should.

mod cleanup;
mod common;
mod fanin;
mod poll;
mod populate;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(about = "snapdeck benchmark tools (used by scripts/bench)")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, clap::Args)]
struct Target {
    /// Base URL of snapdeck-server (or any Runloop API).
    #[arg(long)]
    url: String,
    /// API key (Bearer).
    #[arg(long, default_value = "bench")]
    key: String,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Create snapshots of one running devbox (a new one unless --devbox).
    Populate {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        devbox: Option<String>,
        #[arg(long, default_value = "bench")]
        name: String,
        #[arg(long)]
        count: usize,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Then one more, strictly newer snapshot.
        #[arg(long)]
        newest: bool,
    },
    /// Keep the newest complete snapshot of a devbox, delete the others (snapdeck).
    Cleanup {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        devbox: String,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Write the planned deletes (JSON array of ids) here.
        #[arg(long)]
        plan_out: Option<PathBuf>,
    },
    /// Statuses of every snapshot of a devbox: one by one, then bounded.
    Fanin {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        devbox: String,
        /// Bounds to measure, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "16")]
        concurrency: Vec<usize>,
    },
    /// snapdeck's poll schedule vs a fixed 1 s poll, on snapshots of the server's duration.
    Poll {
        #[command(flatten)]
        target: Target,
        /// The server's --snapshot-duration-ms.
        #[arg(long)]
        duration_ms: i64,
        #[arg(long, default_value_t = 1)]
        trials: usize,
        /// Trials after those, on the same devbox, with the estimate from its history
        /// (every earlier trial's observed duration).
        #[arg(long, default_value_t = 2)]
        history_trials: usize,
    },
    /// Write every listed snapshot to a file (for verify).
    Snapset {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        out: PathBuf,
    },
    /// Compare two snapsets: per devbox, everything but the newest --keep is gone, and
    /// nothing else is.
    Verify {
        #[arg(long)]
        before: PathBuf,
        #[arg(long)]
        after: PathBuf,
        #[arg(long)]
        devbox: String,
        #[arg(long, default_value_t = 1)]
        keep: usize,
        /// The tool's own plan (JSON array of ids), compared with the expectation.
        #[arg(long)]
        plan: Option<PathBuf>,
        /// A snapshot (created after `before`) that must still be listed in `after`.
        #[arg(long)]
        kept: Option<String>,
    },
}

async fn run(cli: Cli) -> Result<serde_json::Value, String> {
    match cli.cmd {
        Cmd::Populate {
            target,
            devbox,
            name,
            count,
            concurrency,
            newest,
        } => {
            let api = common::client(&target.url, &target.key)?;
            populate::run(
                &api,
                populate::Populate {
                    devbox_id: devbox,
                    devbox_name: name,
                    count,
                    concurrency,
                    newest,
                },
            )
            .await
        }
        Cmd::Cleanup {
            target,
            devbox,
            concurrency,
            plan_out,
        } => {
            let api = common::client(&target.url, &target.key)?;
            cleanup::run(&api, &devbox, concurrency, plan_out.as_deref()).await
        }
        Cmd::Fanin {
            target,
            devbox,
            concurrency,
        } => {
            let api = common::client(&target.url, &target.key)?;
            fanin::run(&api, &devbox, &concurrency).await
        }
        Cmd::Poll {
            target,
            duration_ms,
            trials,
            history_trials,
        } => {
            poll::run(
                &target.url,
                &target.key,
                duration_ms,
                trials,
                history_trials,
            )
            .await
        }
        Cmd::Snapset { target, out } => {
            let api = common::client(&target.url, &target.key)?;
            verify::snapset(&api, &out).await
        }
        Cmd::Verify {
            before,
            after,
            devbox,
            keep,
            plan,
            kept,
        } => verify::verify(
            &before,
            &after,
            &devbox,
            keep,
            plan.as_deref(),
            kept.as_deref(),
        ),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(v) => {
            println!("{v}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("snapdeck-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
