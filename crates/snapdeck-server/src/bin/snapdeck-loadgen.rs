//! `snapdeck-loadgen`: requests per second against a running snapdeck-server on loopback,
//! for `scripts/bench`. Each of `--concurrency` workers holds one keep-alive HTTP/1.1
//! connection (plain hyper, so the client costs as little CPU as possible on a machine
//! it shares with the server) and sends requests back to back for `--duration-s`.
//!
//! Scenarios: `status` cycles `GET /v1/devboxes/disk_snapshots/{id}/status` over the
//! account's snapshots, `list` is `GET /v1/devboxes?limit=20`, `get` cycles
//! `GET /v1/devboxes/{id}`. The result is one JSON line on stdout, e.g.
//! `{"scenario":"status","concurrency":32,"requests":123456,"errors":0,"rps":24691.2,...}`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

#[derive(Debug, Parser)]
#[command(about = "Load generator for snapdeck-server (loopback, HTTP/1.1 keep-alive)")]
struct Args {
    /// Base URL of the server, e.g. http://127.0.0.1:8080 (plain http only).
    #[arg(long)]
    url: String,
    /// What to request.
    #[arg(long, value_enum, default_value = "status")]
    scenario: Scenario,
    /// Concurrent connections.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// How long to send, after a one-second warm-up.
    #[arg(long, default_value_t = 5.0)]
    duration_s: f64,
    /// Bearer key.
    #[arg(long, default_value = "loadgen")]
    api_key: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    Status,
    List,
    Get,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::List => "list",
            Self::Get => "get",
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("snapdeck-loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One keep-alive connection.
struct Conn {
    sender: hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    authority: String,
    auth: String,
}

impl Conn {
    async fn open(authority: &str, api_key: &str) -> Result<Self, String> {
        let stream = tokio::net::TcpStream::connect(authority)
            .await
            .map_err(|e| format!("connect {authority}: {e}"))?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        tokio::spawn(conn);
        Ok(Self {
            sender,
            authority: authority.to_owned(),
            auth: format!("Bearer {api_key}"),
        })
    }

    /// GET `path`; the status and the body.
    async fn get(&mut self, path: &str) -> Result<(u16, Bytes), String> {
        self.sender.ready().await.map_err(|e| e.to_string())?;
        let req = hyper::Request::get(path)
            .header("host", &self.authority)
            .header("authorization", &self.auth)
            .body(Empty::new())
            .map_err(|e| e.to_string())?;
        let res = self
            .sender
            .send_request(req)
            .await
            .map_err(|e| e.to_string())?;
        let status = res.status().as_u16();
        let body = res
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((status, body))
    }
}

/// The paths a scenario cycles through, read from the account once.
async fn paths(conn: &mut Conn, scenario: Scenario) -> Result<Vec<String>, String> {
    let ids = |path: &'static str, key: &'static str| async move {
        let (status, body) = conn.get(path).await?;
        if status != 200 {
            return Err(format!(
                "GET {path}: {status} {}",
                String::from_utf8_lossy(&body)
            ));
        }
        let v: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        let ids: Vec<String> = v[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if ids.is_empty() {
            return Err(format!(
                "{path} is empty: start the server with --seed demo"
            ));
        }
        Ok(ids)
    };
    Ok(match scenario {
        Scenario::Status => ids("/v1/devboxes/disk_snapshots?limit=100", "snapshots")
            .await?
            .into_iter()
            .map(|id| format!("/v1/devboxes/disk_snapshots/{id}/status"))
            .collect(),
        Scenario::Get => ids("/v1/devboxes?limit=100", "devboxes")
            .await?
            .into_iter()
            .map(|id| format!("/v1/devboxes/{id}"))
            .collect(),
        Scenario::List => vec!["/v1/devboxes?limit=20".to_owned()],
    })
}

#[derive(Default)]
struct Tally {
    requests: u64,
    errors: u64,
    latencies_us: Vec<u32>,
}

async fn worker(
    mut conn: Conn,
    paths: Arc<Vec<String>>,
    offset: usize,
    warm_until: Instant,
    stop_at: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let mut i = offset;
    loop {
        let started = Instant::now();
        if started >= stop_at {
            return tally;
        }
        let path = &paths[i % paths.len()];
        i += 1;
        let ok = matches!(conn.get(path).await, Ok((200, _)));
        if started < warm_until {
            continue;
        }
        tally.requests += 1;
        if !ok {
            tally.errors += 1;
        }
        let us = started.elapsed().as_micros();
        tally
            .latencies_us
            .push(u32::try_from(us).unwrap_or(u32::MAX));
    }
}

async fn run(args: Args) -> Result<Value, String> {
    let authority = args
        .url
        .strip_prefix("http://")
        .ok_or("--url must start with http://")?
        .trim_end_matches('/')
        .to_owned();
    if args.concurrency == 0 || !args.duration_s.is_finite() || args.duration_s <= 0.0 {
        return Err("--concurrency and --duration-s must be positive".into());
    }
    let mut probe = Conn::open(&authority, &args.api_key).await?;
    let paths = Arc::new(paths(&mut probe, args.scenario).await?);

    let mut conns = Vec::with_capacity(args.concurrency);
    for _ in 0..args.concurrency {
        conns.push(Conn::open(&authority, &args.api_key).await?);
    }
    let warm_until = Instant::now() + Duration::from_secs(1);
    let stop_at = warm_until + Duration::from_secs_f64(args.duration_s);
    let workers: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(n, conn)| tokio::spawn(worker(conn, paths.clone(), n, warm_until, stop_at)))
        .collect();
    let mut total = Tally::default();
    for w in workers {
        let t = w.await.map_err(|e| e.to_string())?;
        total.requests += t.requests;
        total.errors += t.errors;
        total.latencies_us.extend(t.latencies_us);
    }
    total.latencies_us.sort_unstable();
    let pct = |p: f64| {
        let lat = &total.latencies_us;
        if lat.is_empty() {
            return 0.0;
        }
        let idx = ((lat.len() - 1) as f64 * p).round() as usize;
        f64::from(lat[idx]) / 1000.0
    };
    Ok(json!({
        "scenario": args.scenario.name(),
        "concurrency": args.concurrency,
        "duration_s": args.duration_s,
        "requests": total.requests,
        "errors": total.errors,
        "rps": (total.requests as f64 / args.duration_s * 10.0).round() / 10.0,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
    }))
}
