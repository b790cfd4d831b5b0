//! `snapdeck-server`: parses flags, opens the database, seeds it, and serves.
//! Everything else lives in the library (see `snapdeck_server::app`).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use snapdeck_server::db::Db;
use snapdeck_server::jobs::Jobs;
use snapdeck_server::{
    AppState, Config, Faults, Store, Timings, Upstream, app, seed, serve, spawn_ticker,
};

/// A faithful, persistent local emulator of the Runloop API, serving the snapdeck app.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on; port 0 picks a free port (printed on the first stdout line).
    #[arg(long, default_value = "127.0.0.1:8080", env = "SNAPDECK_LISTEN")]
    listen: SocketAddr,
    /// Directory of the SQLite database (created if missing).
    #[arg(long, default_value = "./data", env = "SNAPDECK_DATA")]
    data: PathBuf,
    /// Keep everything in memory (nothing is written to --data).
    #[arg(long)]
    ephemeral: bool,
    /// Data for a new (empty) database: `demo` (the default) or `none`. An existing
    /// database is never re-seeded; use `POST /_emulator/reset?seed=demo` for that.
    #[arg(long, value_enum)]
    seed: Option<SeedMode>,
    /// Accept only `Authorization: Bearer <KEY>` (otherwise any non-empty key).
    #[arg(long, env = "SNAPDECK_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Serve the built single-page app from DIR (index.html for unknown paths).
    #[arg(long, value_name = "DIR")]
    dist: Option<PathBuf>,
    /// Proxy mode: forward /v1 to this API (e.g. https://api.runloop.ai) instead of
    /// emulating it. No database is used and /_emulator is not served.
    #[arg(long, value_name = "URL")]
    upstream: Option<String>,
    /// The key the proxy adds to every upstream request (callers then need none).
    /// Without it, callers' own Authorization headers pass through. Used only with
    /// --upstream: an exported RUNLOOP_API_KEY must not stop the emulator from starting.
    #[arg(long, env = "RUNLOOP_API_KEY", hide_env_values = true)]
    upstream_api_key: Option<String>,
    /// An origin (scheme://host[:port]) whose pages may call this server and read its
    /// answers: a portal that embeds snapdeck. Repeat for several. Pages of any other
    /// origin are refused on /v1, /_snapdeck and /_emulator.
    #[arg(
        long = "allowed-origin",
        value_name = "ORIGIN",
        env = "SNAPDECK_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    allowed_origins: Vec<String>,
    /// A host name this server is reached as, besides its address and localhost
    /// (e.g. `deck.internal`); any other Host is refused (DNS rebinding). Repeatable.
    #[arg(
        long = "public-host",
        value_name = "NAME",
        env = "SNAPDECK_PUBLIC_HOSTS",
        value_delimiter = ','
    )]
    public_hosts: Vec<String>,
    /// Proxy mode: do not ask callers for the access token (only when your own auth
    /// proxy stands in front of this server and decides who may use it).
    #[arg(long)]
    no_caller_auth: bool,
    /// Write the bound address (`127.0.0.1:PORT`) to PATH once listening.
    #[arg(long, value_name = "PATH")]
    port_file: Option<PathBuf>,

    /// Devbox boot time, `provisioning` to `running`.
    #[arg(long, default_value_t = 1500)]
    boot_duration_ms: u32,
    /// `suspending` to `suspended`.
    #[arg(long, default_value_t = 1000)]
    suspend_duration_ms: u32,
    /// `resuming` to `running`.
    #[arg(long, default_value_t = 1000)]
    resume_duration_ms: u32,
    /// Disk snapshot time, `in_progress` to `complete`.
    #[arg(long, default_value_t = 3000)]
    snapshot_duration_ms: u32,
    /// Blueprint build time, `queued` to `build_complete`.
    #[arg(long, default_value_t = 4000)]
    blueprint_build_ms: u32,

    /// Extra latency before every /v1 request.
    #[arg(long, default_value_t = 0)]
    fault_latency_ms: u64,
    /// Share (0–1) of /v1 requests answered 503.
    #[arg(long, default_value_t = 0.0)]
    fault_5xx_rate: f64,
    /// Share (0–1) of /v1 requests answered 429 with Retry-After.
    #[arg(long, default_value_t = 0.0)]
    fault_429_rate: f64,
    /// Retry-After of injected 429s, in seconds.
    #[arg(long, default_value_t = 1)]
    fault_retry_after_s: u64,
    /// Share (0–1) of /v1 requests whose connection is dropped without an answer.
    #[arg(long, default_value_t = 0.0)]
    fault_drop_rate: f64,
    /// Share (0–1) of snapshots that end in `error`.
    #[arg(long, default_value_t = 0.0)]
    snapshot_failure_rate: f64,
    /// How fast the clock of keep-alive and idle timers runs (100 = a 1-hour
    /// keep_alive_time_seconds fires after 36 s).
    #[arg(long, default_value_t = 1.0)]
    lifecycle_speed: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SeedMode {
    Demo,
    None,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "snapdeck_server=info".into()),
        )
        .init();
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("snapdeck-server: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let faults = Faults {
        fault_latency_ms: args.fault_latency_ms,
        fault_5xx_rate: args.fault_5xx_rate,
        fault_429_rate: args.fault_429_rate,
        fault_retry_after_s: args.fault_retry_after_s,
        fault_drop_rate: args.fault_drop_rate,
        snapshot_failure_rate: args.snapshot_failure_rate,
        ..Faults::default()
    };
    faults.validate()?;
    let timings = Timings {
        boot_ms: args.boot_duration_ms.into(),
        suspend_ms: args.suspend_duration_ms.into(),
        resume_ms: args.resume_duration_ms.into(),
        snapshot_ms: args.snapshot_duration_ms.into(),
        blueprint_build_ms: args.blueprint_build_ms.into(),
    };

    let upstream = match &args.upstream {
        Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
            Some(Upstream::new(url, args.upstream_api_key.clone()).map_err(|e| e.to_string())?)
        }
        Some(url) => return Err(format!("--upstream must be an http(s) URL, got {url:?}")),
        None => None,
    };
    // A proxy keeps no state: an in-memory database that stays empty.
    let ephemeral = args.ephemeral || upstream.is_some();
    let db = Db::open((!ephemeral).then_some(args.data.as_path()))
        .map_err(|e| format!("opening the database: {e}"))?;
    let mut store = Store::open(db, timings).map_err(|e| format!("loading the database: {e}"))?;
    let now = snapdeck_server::clock::now_ms();
    store
        .set_lifecycle_speed(args.lifecycle_speed, now)
        .map_err(|e| format!("--lifecycle-speed: {e}"))?;
    store.prune_requests(now).map_err(|e| e.to_string())?;
    if upstream.is_none() && store.is_empty() && args.seed != Some(SeedMode::None) {
        seed::demo(&mut store, now).map_err(|e| format!("seeding: {e}"))?;
        tracing::info!("seeded the demo data");
    }
    // A proxy that adds its own key asks its callers for a token: the key is spent
    // on their behalf. Kept in --data so bookmarked URLs keep working.
    let mut access = snapdeck_core::access::AccessPolicy::new(&args.allowed_origins.join(","))
        .with_host_check(&args.public_hosts.join(","));
    let caller_token = match &upstream {
        Some(up) if up.injects_key() && !args.no_caller_auth => Some(
            snapdeck_server::access::load_or_create_token(
                (!args.ephemeral).then_some(args.data.as_path()),
            )
            .map_err(|e| format!("the access token in {}: {e}", args.data.display()))?,
        ),
        _ => None,
    };
    if let Some(token) = &caller_token {
        access = access.with_token(token.clone());
    }
    let config = Config {
        api_key: args.api_key,
        dist: args.dist,
        upstream,
        access,
    };
    tracing::info!(
        ?config,
        ephemeral,
        data = %args.data.display(),
        ?timings,
        "starting"
    );
    let state = AppState::new(store, config, faults);

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // The first stdout line is the contract with scripts and tests: they read the URL
    // (and so the port, when --listen asked for port 0) from it.
    let mut banner = format!("snapdeck-server listening on http://{addr}\n");
    if let Some(token) = &caller_token {
        // As Jupyter does: the one place the token is shown. The app takes it from the
        // address into the tab's session and out of the address bar.
        banner.push_str(&format!("open http://{addr}/?token={token}\n"));
    }
    // One write, and a reader that went away is no reason to stop serving.
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(banner.as_bytes())
        .and_then(|()| stdout.flush());
    drop(stdout);
    if let Some(path) = &args.port_file {
        write_atomically(path, &addr.to_string())
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
    }

    spawn_ticker(state.clone());
    // Jobs persist in --data even in proxy mode (which keeps nothing else there).
    let jobs = Jobs::start(
        &state,
        app(state.clone()),
        (!args.ephemeral).then_some(args.data.as_path()),
    )
    .map_err(|e| format!("starting jobs: {e}"))?;
    serve::serve(
        listener,
        app(state.clone()).layer(jobs.layer()),
        state,
        shutdown_signal(),
    )
    .await;
    tracing::info!("stopped");
    Ok(())
}

/// Writes then renames, so a reader polling for the file never sees half of it.
fn write_atomically(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, contents)?;
    std::fs::rename(tmp, path)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
