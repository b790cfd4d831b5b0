//! The browser transport inside a **dedicated Web Worker**: no `window` there, so this
//! proves `fetch` and the retry sleep go through global bindings.
//!
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test -p snapdeck-api --target
//! wasm32-unknown-unknown --features browser`.
#![cfg(all(target_arch = "wasm32", feature = "browser"))]

use std::time::Duration;

use snapdeck_api::{
    ApiError, BrowserTransport, Client, HttpRequest, Method, RetryPolicy, Transport,
};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[wasm_bindgen_test]
fn runs_without_a_window() {
    // `web_sys::window()` would be Some in a page; the global here is a worker scope.
    let global = js_sys::global();
    let has_window = js_sys::Reflect::has(&global, &"window".into()).unwrap_or(true);
    assert!(!has_window, "expected a worker global scope");
}

#[wasm_bindgen_test]
async fn fetch_of_a_data_url_works_in_a_worker() {
    let resp = BrowserTransport::new()
        .send(HttpRequest {
            method: Method::Get,
            url: "data:text/plain,hello%20worker".into(),
            headers: vec![("accept".into(), "text/plain".into())],
            body: None,
        })
        .await
        .expect("data: URLs are fetchable");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, b"hello worker");
    assert_eq!(resp.header("content-type"), Some("text/plain"));
}

#[wasm_bindgen_test]
async fn unreachable_api_is_a_transport_error_after_sleeping_retries() {
    let policy = RetryPolicy {
        max_retries: 2,
        base_delay: Duration::from_millis(40),
        ..RetryPolicy::default()
    };
    // Port 9 (discard) on loopback: nothing listens, fetch rejects.
    let client =
        Client::new(BrowserTransport::new(), "http://127.0.0.1:9").with_retry_policy(policy);
    let started = js_sys::Date::now();
    let err = client
        .get_devbox("dbx_1")
        .await
        .expect_err("nothing listens");
    let waited_ms = js_sys::Date::now() - started;
    assert!(matches!(err, ApiError::Transport(_)), "{err:?}");
    // Two backoff sleeps of at least 30 ms and 60 ms (jitter shortens by ≤ 25 %).
    assert!(waited_ms >= 90.0, "slept only {waited_ms} ms");
}

#[wasm_bindgen_test]
async fn sleep_uses_the_global_set_timeout() {
    let started = js_sys::Date::now();
    BrowserTransport::new()
        .sleep(Duration::from_millis(50))
        .await;
    assert!(js_sys::Date::now() - started >= 45.0);
}

#[wasm_bindgen_test]
async fn an_aborted_signal_cancels_without_retrying() {
    let controller = web_sys::AbortController::new().expect("AbortController exists in workers");
    controller.abort();
    let client = Client::new(
        BrowserTransport::with_signal(controller.signal()),
        "http://127.0.0.1:9",
    );
    let err = client
        .list_devboxes(&Default::default())
        .await
        .expect_err("aborted");
    assert_eq!(err, ApiError::Aborted);
}

#[wasm_bindgen_test]
async fn aborting_cuts_a_backoff_sleep_short() {
    let controller = web_sys::AbortController::new().expect("AbortController exists in workers");
    let transport = BrowserTransport::with_signal(controller.signal());
    let started = js_sys::Date::now();
    // Abort 30 ms into a 5 s sleep.
    let abort_later = async {
        BrowserTransport::new()
            .sleep(Duration::from_millis(30))
            .await;
        controller.abort();
    };
    futures::join!(transport.sleep(Duration::from_secs(5)), abort_later);
    let waited = js_sys::Date::now() - started;
    assert!(waited < 2_000.0, "slept {waited} ms despite the abort");
}

#[wasm_bindgen_test]
async fn a_sleep_with_a_live_signal_waits_its_time() {
    let controller = web_sys::AbortController::new().expect("AbortController exists in workers");
    let started = js_sys::Date::now();
    BrowserTransport::with_signal(controller.signal())
        .sleep(Duration::from_millis(50))
        .await;
    assert!(js_sys::Date::now() - started >= 45.0);
}
