//! The real binary on a real socket: HTTP/1.1 and h2c on one port, dropped connections,
//! the single-page app from `--dist`, the port file.

use std::time::Duration;

mod common;
use common::Server;

#[tokio::test]
async fn http1_and_h2c_prior_knowledge_are_served_on_the_same_port() {
    let server = Server::start(args!["--ephemeral", "--seed", "none"]);
    for client in [
        reqwest::Client::builder()
            .http1_only()
            .build()
            .expect("client"),
        reqwest::Client::builder()
            .http2_prior_knowledge()
            .build()
            .expect("client"),
    ] {
        let res = client
            .get(format!("{}/v1/devboxes", server.url))
            .bearer_auth("k")
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.expect("json");
        assert_eq!(body["total_count"], 0);
    }
}

#[tokio::test]
async fn the_drop_fault_closes_api_connections_without_an_answer() {
    let server = Server::start(args!["--ephemeral", "--fault-drop-rate", "1"]);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let err = client
        .get(format!("{}/v1/devboxes", server.url))
        .bearer_auth("k")
        .send()
        .await
        .expect_err("dropped");
    assert!(!err.is_timeout(), "dropped, not hung: {err}");
    let health = client
        .get(format!("{}/healthz", server.url))
        .send()
        .await
        .expect("healthz is never faulted");
    assert_eq!(health.status(), 200);
    // The control endpoint turns it off again.
    client
        .delete(format!("{}/_emulator/faults", server.url))
        .send()
        .await
        .expect("clear");
    let res = client
        .get(format!("{}/v1/devboxes", server.url))
        .bearer_auth("k")
        .send()
        .await
        .expect("answered");
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn dist_serves_files_and_index_html_for_client_routes_but_not_for_the_api() {
    let dist = tempfile::tempdir().expect("tempdir");
    std::fs::write(dist.path().join("index.html"), "<html>snapdeck</html>").expect("write");
    std::fs::write(dist.path().join("app.js"), "console.log(1)").expect("write");
    let port_file = dist.path().join("port");
    let server = Server::start(args![
        "--ephemeral",
        "--dist",
        dist.path().as_os_str(),
        "--port-file",
        port_file.as_os_str(),
    ]);
    let get = |path: &str| reqwest::get(format!("{}{path}", server.url));
    let js = get("/app.js").await.expect("app.js");
    assert_eq!(js.status(), 200);
    assert_eq!(js.text().await.expect("text"), "console.log(1)");
    for route in ["/", "/devboxes/dbx_1/snapshots", "/settings"] {
        let page = get(route).await.expect("page");
        assert_eq!(page.status(), 200, "{route}");
        assert_eq!(page.text().await.expect("text"), "<html>snapdeck</html>");
    }
    let api = get("/v1/nope").await.expect("api");
    assert_eq!(api.status(), 401, "API paths never fall back to the app");
    let port = std::fs::read_to_string(&port_file).expect("port file");
    assert_eq!(format!("http://{port}"), server.url);
}

#[tokio::test]
async fn proxy_mode_forwards_v1_with_the_servers_key_so_callers_need_none() {
    let upstream = Server::start(args!["--ephemeral", "--api-key", "upstream-secret"]);
    // Behind a team's own auth proxy: no caller token.
    let proxy = Server::start(args![
        "--upstream",
        upstream.url.as_str(),
        "--upstream-api-key",
        "upstream-secret",
        "--no-caller-auth",
    ]);
    let http = reqwest::Client::new();
    let health: serde_json::Value = http
        .get(format!("{}/healthz", proxy.url))
        .send()
        .await
        .expect("healthz")
        .json()
        .await
        .expect("json");
    assert_eq!(health["mode"], "proxy");
    // No key from the caller: the proxy adds its own.
    let list: serde_json::Value = http
        .get(format!("{}/v1/devboxes?limit=3", proxy.url))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(list["total_count"], 12, "the upstream's demo devboxes");
    assert_eq!(list["devboxes"].as_array().expect("array").len(), 3);
    let created = http
        .post(format!("{}/v1/devboxes", proxy.url))
        .json(&serde_json::json!({"name": "through-the-proxy"}))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 200);
    // Upstream errors pass through with their status and body.
    let missing = http
        .get(format!("{}/v1/devboxes/dbx_missing", proxy.url))
        .send()
        .await
        .expect("get");
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.headers()["x-should-retry"], "false");
    // The emulator's control surface is not part of a proxy.
    let control = http
        .get(format!("{}/_emulator/faults", proxy.url))
        .send()
        .await
        .expect("control");
    assert_eq!(control.status(), 404);

    // An unreachable upstream is a JSON 502.
    let url = upstream.url.clone();
    upstream.kill();
    let down = http
        .get(format!("{}/v1/devboxes", proxy.url))
        .send()
        .await
        .expect("answered");
    assert_eq!(down.status(), 502);
    let body: serde_json::Value = down.json().await.expect("json");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("Runloop API"),
        "{url}"
    );
}

/// Regression: an exported RUNLOOP_API_KEY (the SDKs' variable, so many people have it)
/// made clap demand --upstream, and the emulator refused to start.
#[test]
fn an_exported_runloop_api_key_does_not_stop_the_emulator_from_starting() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_snapdeck-server"))
        .args(["--listen", "127.0.0.1:0", "--ephemeral", "--seed", "none"])
        .env("RUNLOOP_API_KEY", "rl_exported_key")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn snapdeck-server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("first line");
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        line.starts_with("snapdeck-server listening on http://127.0.0.1:"),
        "first line {line:?}"
    );
}

#[tokio::test]
async fn a_key_injecting_proxy_makes_a_caller_token_once_prints_it_and_asks_for_it() {
    let upstream = Server::start(args!["--ephemeral", "--api-key", "upstream-secret"]);
    let data = tempfile::tempdir().expect("tempdir");
    let start = || {
        Server::start(args![
            "--upstream",
            upstream.url.as_str(),
            "--upstream-api-key",
            "upstream-secret",
            "--data",
            data.path().as_os_str(),
        ])
    };
    let mut proxy = start();
    let line = proxy.next_line();
    let token = line
        .strip_prefix(&format!("open {}/?token=", proxy.url))
        .unwrap_or_else(|| panic!("unexpected second line {line:?}"))
        .to_owned();
    assert_eq!(token.len(), 64);
    let http = reqwest::Client::new();
    let list = |token: Option<String>| {
        let mut req = http.get(format!("{}/v1/devboxes?limit=1", proxy.url));
        if let Some(t) = token {
            req = req.header("x-snapdeck-token", t);
        }
        req.send()
    };
    assert_eq!(list(None).await.expect("send").status(), 401);
    assert_eq!(
        list(Some("guess".into())).await.expect("send").status(),
        401
    );
    assert_eq!(list(Some(token.clone())).await.expect("send").status(), 200);
    drop(proxy);
    // Kept in --data: the printed URL still works after a restart.
    let mut again = start();
    assert_eq!(
        again.next_line(),
        format!("open {}/?token={token}", again.url)
    );
}
