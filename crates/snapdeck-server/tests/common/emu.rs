//! The emulator in process: `app(state)` driven with `tower::ServiceExt::oneshot`, no
//! socket. What a test needs beyond these (a command's output, a snapshot's wait) it
//! adds in an `impl Emu` block of its own.

use axum::Router;
use axum::body::Body;
use axum::http::header::AsHeaderName;
use axum::http::{HeaderMap, Request, StatusCode};
use serde_json::{Value, json};
use snapdeck_server::testing::{FAST, state};
use snapdeck_server::{AppState, Config, app};
use tower::ServiceExt;

/// The key every request of [`Emu`] carries (any key passes without `--api-key`).
pub const KEY: &str = "Bearer test-key";

/// One answer, read whole.
pub struct Reply {
    /// What was asked (`GET /v1/…`), for failure messages.
    pub request: String,
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body as sent (a downloaded file need not be text).
    pub bytes: Vec<u8>,
    /// The body as text (lossy).
    pub text: String,
}

impl Reply {
    /// The body as JSON; panics (showing the body) when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {}", self.request, self.text))
    }

    /// The body as JSON, or as a JSON string when it is not JSON (a file's contents).
    pub fn value(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|_| Value::String(self.text.clone()))
    }

    /// The status and [`Reply::value`].
    pub fn parts(&self) -> (StatusCode, Value) {
        (self.status, self.value())
    }

    /// The body of a 200 as JSON; panics on any other status.
    pub fn ok(&self) -> Value {
        assert_eq!(
            self.status,
            StatusCode::OK,
            "{}: {}",
            self.request,
            self.text
        );
        self.json()
    }

    /// A header's value, if it is there (and ASCII).
    pub fn header(&self, name: impl AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Sends `req` to `router` and reads the whole answer.
pub async fn send(router: &Router, req: Request<Body>) -> Reply {
    let request = format!("{} {}", req.method(), req.uri());
    let res = router.clone().oneshot(req).await.expect("infallible");
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    Reply {
        request,
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
        bytes: bytes.to_vec(),
    }
}

/// An emulator in memory and its router.
pub struct Emu {
    pub state: AppState,
    pub router: Router,
}

impl Emu {
    /// Empty, with the default config and [`FAST`] lifecycles.
    pub fn new() -> Self {
        Self::with(Config::default(), false)
    }

    /// With `config`, and the demo data when `demo`.
    pub fn with(config: Config, demo: bool) -> Self {
        let state = state(FAST, config, demo).expect("state");
        Self {
            router: app(state.clone()),
            state,
        }
    }

    pub async fn send(&self, req: Request<Body>) -> Reply {
        send(&self.router, req).await
    }

    /// `method path` with [`KEY`], and `body` as JSON when there is one.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", KEY);
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .expect("request");
        self.send(req).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call("POST", path, Some(body)).await
    }

    /// A bodiless POST, as the TS SDK sends `suspend`, `delete`, ….
    pub async fn post_empty(&self, path: &str) -> Reply {
        self.call("POST", path, None).await
    }

    /// Waits (on the server, up to 10 s) for the devbox to reach one of `statuses`.
    pub async fn wait_status(&self, id: &str, statuses: &[&str]) -> Value {
        self.post(
            &format!("/v1/devboxes/{id}/wait_for_status"),
            json!({"statuses": statuses, "timeout_seconds": 10}),
        )
        .await
        .ok()
    }

    /// Creates a devbox from `body` and waits until it runs; its id.
    pub async fn boot(&self, body: Value) -> String {
        let dbx = self.post("/v1/devboxes", body).await.ok();
        let id = dbx["id"].as_str().expect("id").to_owned();
        assert_eq!(
            self.wait_status(&id, &["running"]).await["status"],
            "running"
        );
        id
    }

    /// A running devbox named `name`; its id.
    pub async fn running_devbox(&self, name: &str) -> String {
        self.boot(json!({ "name": name })).await
    }

    /// `read_file_contents`: the status and the contents (or the error body).
    pub async fn read_file(&self, id: &str, path: &str) -> (StatusCode, String) {
        let (status, v) = self
            .post(
                &format!("/v1/devboxes/{id}/read_file_contents"),
                json!({ "file_path": path }),
            )
            .await
            .parts();
        (
            status,
            v.as_str().map_or_else(|| v.to_string(), str::to_owned),
        )
    }
}
