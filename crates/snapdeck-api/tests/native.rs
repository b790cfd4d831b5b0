//! The reqwest transport against a real socket: a one-shot HTTP server on loopback.
//!
//! Run: `cargo test -p snapdeck-api --features native`.
#![cfg(feature = "native")]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use snapdeck_api::{ApiError, Client, NativeTransport, RetryPolicy};

/// Serves `responses` in order, one per connection, and returns the raw requests seen.
fn serve(responses: Vec<String>) -> (String, std::thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = format!("http://{}", listener.local_addr().expect("addr"));
    let handle = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for resp in responses {
            let (mut stream, _) = listener.accept().expect("accept");
            let mut buf = [0u8; 8192];
            let n = stream.read(&mut buf).expect("read");
            seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            stream.write_all(resp.as_bytes()).expect("write");
        }
        seen
    });
    (addr, handle)
}

fn http(status: &str, headers: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn a_rate_limited_call_is_retried_and_then_decoded() {
    let (base, server) = serve(vec![
        http(
            "429 Too Many Requests",
            "retry-after-ms: 20\r\n",
            r#"{"message":"slow"}"#,
        ),
        http(
            "200 OK",
            "content-type: application/json\r\n",
            r#"{"id":"dbx_1","status":"running","create_time_ms":1,"new_field":true}"#,
        ),
    ]);
    let client = Client::new(NativeTransport::default(), base).with_api_key("k");
    let devbox = client
        .get_devbox("dbx_1")
        .await
        .expect("second attempt succeeds");
    assert_eq!(devbox.id, "dbx_1");
    let seen = server.join().expect("server thread");
    assert_eq!(seen.len(), 2);
    assert!(
        seen[0].starts_with("GET /v1/devboxes/dbx_1 HTTP/1.1"),
        "{}",
        seen[0]
    );
    assert!(
        seen[0]
            .to_ascii_lowercase()
            .contains("authorization: bearer k")
    );
}

#[tokio::test]
async fn an_api_error_keeps_status_and_message() {
    let (base, server) = serve(vec![http(
        "401 Unauthorized",
        "",
        r#"{"message":"invalid api key"}"#,
    )]);
    let client = Client::new(NativeTransport::default(), base);
    let err = client
        .list_devboxes(&Default::default())
        .await
        .expect_err("401");
    assert_eq!(
        err.to_string(),
        "The API key was rejected (401): invalid api key"
    );
    server.join().expect("server thread");
}

#[tokio::test]
async fn nothing_listening_is_a_transport_error() {
    // Bind then drop: the port is (almost certainly) closed now.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let client = Client::new(
        NativeTransport::default(),
        format!("http://127.0.0.1:{port}"),
    )
    .with_retry_policy(RetryPolicy {
        max_retries: 1,
        base_delay: Duration::from_millis(5),
        ..RetryPolicy::default()
    });
    let err = client.get_devbox("dbx_1").await.expect_err("refused");
    assert!(matches!(err, ApiError::Transport(_)), "{err:?}");
}
