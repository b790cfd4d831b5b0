//! Who may use the server: every access rule through the real router, in both modes.
//! Each method × origin kind × path family × mode; host names; the caller token present,
//! absent and wrong. Proxy mode forwards to a second, real emulator on a socket, and
//! what each refused request did (nothing) is checked there.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use serde_json::Value;
use snapdeck_core::access::AccessPolicy;
use snapdeck_server::Upstream;
use snapdeck_server::store::{Paging, SnapshotQuery};
use snapdeck_server::testing::{FAST, state};
use snapdeck_server::{AppState, Config, app};
use tower::ServiceExt;

const HOST: &str = "127.0.0.1:8080";
const SAME: &str = "http://127.0.0.1:8080";
const PORTAL: &str = "https://portal.example.com";
const TOKEN: &str = "caller-token-0123456789";
const UPSTREAM_KEY: &str = "rk-upstream-key";

/// How a request says where it came from.
#[derive(Debug, Clone, Copy, PartialEq)]
enum From {
    /// No browser headers: an SDK, curl, a script.
    Script,
    /// The server's own page.
    SameOrigin,
    /// A portal given with --allowed-origin.
    Allowed,
    /// Another origin's page (another port on a look-alike address).
    Foreign,
    /// An opaque origin (sandboxed frame, file://).
    Null,
    /// A browser GET from another site, which sends no Origin.
    CrossSite,
}

const ALL_FROM: [From; 6] = [
    From::Script,
    From::SameOrigin,
    From::Allowed,
    From::Foreign,
    From::Null,
    From::CrossSite,
];

fn policy() -> AccessPolicy {
    AccessPolicy::new(PORTAL).with_host_check("deck.internal")
}

struct Server {
    router: Router,
    /// The emulator whose data is checked: this one, or the proxy's upstream.
    data: AppState,
    proxy: bool,
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }
}

impl Server {
    fn emulator() -> Self {
        let config = Config {
            access: policy(),
            ..Config::default()
        };
        let data = state(FAST, config, true).expect("state");
        Self {
            router: app(data.clone()),
            data,
            proxy: false,
        }
    }

    /// A key-injecting proxy (caller token on) in front of an emulator on a socket.
    async fn proxy() -> Self {
        let upstream = state(FAST, Config::default(), true).expect("upstream");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let served = app(upstream.clone());
        tokio::spawn(async move { axum::serve(listener, served).await });
        let config = Config {
            upstream: Some(
                Upstream::new(&format!("http://{addr}"), Some(UPSTREAM_KEY.into()))
                    .expect("upstream"),
            ),
            access: policy().with_token(TOKEN),
            ..Config::default()
        };
        let proxy = state(FAST, config, false).expect("proxy");
        Self {
            router: app(proxy),
            data: upstream,
            proxy: true,
        }
    }

    async fn send(&self, req: Request<Body>) -> Reply {
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .expect("body");
        Reply {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// A request as `from` sends it, with the token when `token` says so.
    async fn call(&self, method: &str, path: &str, from: From, token: Option<&str>) -> Reply {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", HOST);
        match from {
            From::Script => {}
            From::SameOrigin => {
                req = req
                    .header("origin", SAME)
                    .header("sec-fetch-site", "same-origin")
            }
            From::Allowed => {
                req = req
                    .header("origin", PORTAL)
                    .header("sec-fetch-site", "cross-site")
            }
            From::Foreign => {
                req = req
                    .header("origin", "http://127.0.0.2:8080")
                    .header("sec-fetch-site", "cross-site");
            }
            From::Null => {
                req = req
                    .header("origin", "null")
                    .header("sec-fetch-site", "cross-site")
            }
            From::CrossSite => req = req.header("sec-fetch-site", "cross-site"),
        }
        if let Some(token) = token {
            req = req.header("x-snapdeck-token", token);
        }
        if !self.proxy {
            req = req.header("authorization", "Bearer any-key");
        }
        if method == "POST" {
            req = req.header("content-type", "text/plain");
        }
        self.send(req.body(Body::empty()).expect("request")).await
    }

    fn snapshot_ids(&self) -> Vec<String> {
        let all = SnapshotQuery {
            paging: Paging {
                limit: 5000,
                ..Paging::default()
            },
            ..SnapshotQuery::default()
        };
        let mut ids: Vec<String> = self
            .data
            .with(|s, _| s.list_snapshots(&all))
            .expect("list")
            .snapshots
            .into_iter()
            .map(|snap| snap.id)
            .collect();
        ids.sort();
        ids
    }
}

/// The id of a complete snapshot of the demo data.
fn a_complete_snapshot(server: &Server) -> String {
    server
        .snapshot_ids()
        .into_iter()
        .find(|id| {
            server
                .data
                .with(|s, _| s.snapshot_status(id))
                .is_ok_and(|v| v.status == snapdeck_api::SnapshotStatus::Complete)
        })
        .expect("the demo data has complete snapshots")
}

fn refused(reply: &Reply) -> bool {
    reply.status == StatusCode::FORBIDDEN
}

fn grant(reply: &Reply) -> Option<&str> {
    reply
        .headers
        .get("access-control-allow-origin")
        .map(|v| v.to_str().expect("ascii"))
}

#[tokio::test]
async fn foreign_pages_change_and_read_nothing_on_any_guarded_path_in_either_mode() {
    for server in [Server::emulator(), Server::proxy().await] {
        let target = a_complete_snapshot(&server);
        let before = server.snapshot_ids();
        let delete = format!("/v1/devboxes/disk_snapshots/{target}/delete");
        let mut paths = vec![
            ("GET", "/v1/devboxes/disk_snapshots".to_owned()),
            ("POST", delete.clone()),
            ("DELETE", format!("/v1/devboxes/disk_snapshots/{target}")),
            ("GET", "/_snapdeck/jobs".to_owned()),
            ("POST", "/_snapdeck/jobs".to_owned()),
        ];
        if !server.proxy {
            paths.push(("POST", "/_emulator/reset?seed=none".to_owned()));
            paths.push(("GET", "/_emulator/faults".to_owned()));
        }
        for (method, path) in &paths {
            for from in [From::Foreign, From::Null, From::CrossSite] {
                // With the right token too: the origin decides first.
                let reply = server.call(method, path, from, Some(TOKEN)).await;
                assert!(
                    refused(&reply),
                    "{from:?} {method} {path}: {}",
                    reply.status
                );
                assert_eq!(grant(&reply), None, "{from:?} {method} {path}");
                assert!(reply.json()["message"].is_string());
                assert!(
                    !reply.text.contains("snp_"),
                    "a refusal leaks data: {}",
                    reply.text
                );
            }
        }
        assert_eq!(server.snapshot_ids(), before, "proxy={}", server.proxy);
    }
}

#[tokio::test]
async fn the_own_page_and_allowed_portals_work_and_only_portals_get_a_cors_grant() {
    for server in [Server::emulator(), Server::proxy().await] {
        for from in [From::SameOrigin, From::Allowed] {
            for path in [
                "/v1/devboxes/disk_snapshots",
                "/v1/devboxes",
                "/_snapdeck/jobs",
            ] {
                let reply = server.call("GET", path, from, Some(TOKEN)).await;
                // The in-process router has no jobs layer: 404 or 503 there is fine, a
                // refusal is not.
                assert!(
                    !matches!(reply.status.as_u16(), 401 | 403 | 421),
                    "{from:?} {path} proxy={}: {} {}",
                    server.proxy,
                    reply.status,
                    reply.text
                );
                let expected = (from == From::Allowed).then_some(PORTAL);
                assert_eq!(grant(&reply), expected, "{from:?} {path}");
                assert_ne!(grant(&reply), Some("*"));
            }
        }
        let list = server
            .call(
                "GET",
                "/v1/devboxes/disk_snapshots",
                From::Allowed,
                Some(TOKEN),
            )
            .await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.text);
        assert!(
            !list.json()["snapshots"]
                .as_array()
                .expect("list")
                .is_empty()
        );
    }
}

#[tokio::test]
async fn the_proxy_asks_every_caller_for_the_token_and_the_emulator_does_not() {
    let proxy = Server::proxy().await;
    let emulator = Server::emulator();
    for from in [From::Script, From::SameOrigin, From::Allowed] {
        for path in ["/v1/devboxes", "/_snapdeck/jobs"] {
            let missing = proxy.call("GET", path, from, None).await;
            assert_eq!(missing.status, StatusCode::UNAUTHORIZED, "{from:?} {path}");
            assert!(
                missing.json()["message"]
                    .as_str()
                    .expect("message")
                    .contains("token")
            );
            let wrong = proxy
                .call("GET", path, from, Some("caller-token-guess"))
                .await;
            assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{from:?} {path}");
            assert!(!wrong.text.contains(TOKEN) && !wrong.text.contains(UPSTREAM_KEY));
        }
        let right = proxy.call("GET", "/v1/devboxes", from, Some(TOKEN)).await;
        assert_eq!(right.status, StatusCode::OK, "{from:?}: {}", right.text);
        let open = emulator.call("GET", "/v1/devboxes", from, None).await;
        assert_eq!(open.status, StatusCode::OK, "{from:?}: {}", open.text);
    }
    // As a bearer token too, which is how the embed and the SDKs send it.
    let bearer = proxy
        .send(
            Request::get("/v1/devboxes")
                .header("host", HOST)
                .header("authorization", format!("Bearer {TOKEN}"))
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(bearer.status, StatusCode::OK, "{}", bearer.text);
    // A script's delete with the token goes through, and really deletes upstream.
    let target = a_complete_snapshot(&proxy);
    let path = format!("/v1/devboxes/disk_snapshots/{target}/delete");
    let denied = proxy.call("POST", &path, From::Script, None).await;
    assert_eq!(denied.status, StatusCode::UNAUTHORIZED);
    assert!(proxy.snapshot_ids().contains(&target));
    let done = proxy.call("POST", &path, From::Script, Some(TOKEN)).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert!(!proxy.snapshot_ids().contains(&target));
}

#[tokio::test]
async fn every_method_from_every_kind_of_caller_gets_its_rule() {
    for server in [Server::emulator(), Server::proxy().await] {
        for method in ["GET", "POST", "DELETE", "PUT"] {
            for from in ALL_FROM {
                let reply = server
                    .call(method, "/v1/devboxes/dbx_missing", from, Some(TOKEN))
                    .await;
                let foreign = matches!(from, From::Foreign | From::Null | From::CrossSite);
                assert_eq!(
                    refused(&reply),
                    foreign,
                    "{method} {from:?} proxy={}: {}",
                    server.proxy,
                    reply.status
                );
            }
        }
    }
}

#[tokio::test]
async fn the_app_and_healthz_are_public_but_never_granted_to_foreign_pages() {
    let server = Server::proxy().await;
    for from in ALL_FROM {
        let reply = server.call("GET", "/healthz", from, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{from:?}");
        assert_eq!(reply.json()["token_required"], true);
        let expected = (from == From::Allowed).then_some(PORTAL);
        assert_eq!(grant(&reply), expected, "{from:?}");
    }
}

#[tokio::test]
async fn only_names_the_server_is_served_as_are_answered() {
    for server in [Server::emulator(), Server::proxy().await] {
        for host in [
            "rebind.evil.example",
            "rebind.evil.example:8080",
            "localhost.evil.example",
        ] {
            for path in ["/healthz", "/", "/v1/devboxes", "/_emulator/faults"] {
                let reply = server
                    .send(
                        Request::get(path)
                            .header("host", host)
                            .header("x-snapdeck-token", TOKEN)
                            .header("authorization", "Bearer k")
                            .body(Body::empty())
                            .expect("req"),
                    )
                    .await;
                assert_eq!(
                    reply.status,
                    StatusCode::MISDIRECTED_REQUEST,
                    "{host} {path}"
                );
                assert!(
                    reply.json()["message"]
                        .as_str()
                        .expect("message")
                        .contains("--public-host")
                );
            }
        }
        for host in [
            "127.0.0.1:8080",
            "localhost:8080",
            "[::1]:8080",
            "deck.internal",
            "10.0.0.7",
        ] {
            let reply = server
                .send(
                    Request::get("/healthz")
                        .header("host", host)
                        .body(Body::empty())
                        .expect("req"),
                )
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{host}");
        }
    }
}

#[tokio::test]
async fn preflights_from_portals_are_answered_without_the_token_and_foreign_ones_refused() {
    let server = Server::proxy().await;
    let preflight = |origin: &str| {
        Request::options("/v1/devboxes")
            .header("host", HOST)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type,x-request-id,x-stainless-retry-count",
            )
            .body(Body::empty())
            .expect("req")
    };
    let ok = server.send(preflight(PORTAL)).await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT);
    assert_eq!(grant(&ok), Some(PORTAL));
    let allowed = ok.headers["access-control-allow-headers"]
        .to_str()
        .expect("ascii");
    assert!(allowed.contains("authorization") && allowed.contains("x-request-id"));
    let evil = server.send(preflight("http://127.0.0.2:8080")).await;
    assert_eq!(evil.status, StatusCode::FORBIDDEN);
    assert_eq!(grant(&evil), None);
}

#[tokio::test]
async fn every_answer_says_nosniff_and_keeps_referrers_to_the_origin() {
    let server = Server::emulator();
    for (path, from) in [("/healthz", From::Script), ("/v1/devboxes", From::Foreign)] {
        let reply = server.call("GET", path, from, None).await;
        assert_eq!(reply.headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(
            reply.headers["referrer-policy"],
            "strict-origin-when-cross-origin"
        );
    }
}

#[tokio::test]
async fn the_app_pages_carry_a_csp_with_their_inline_scripts_and_the_allowed_framers() {
    let dist = tempfile::tempdir().expect("dir");
    let script = "import init from '/snapdeck-0123456789abcdef.js'; await init();";
    std::fs::write(
        dist.path().join("index.html"),
        format!("<!doctype html><script type=\"module\">{script}</script>"),
    )
    .expect("write");
    let config = Config {
        dist: Some(dist.path().to_owned()),
        access: policy(),
        ..Config::default()
    };
    let router = app(state(FAST, config, false).expect("state"));
    for path in ["/", "/devboxes/dbx_1", "/index.html"] {
        let res = router
            .clone()
            .oneshot(
                Request::get(path)
                    .header("host", HOST)
                    .body(Body::empty())
                    .expect("req"),
            )
            .await
            .expect("infallible");
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let csp = res.headers()["content-security-policy"]
            .to_str()
            .expect("ascii")
            .to_owned();
        let hash = {
            use base64::Engine as _;
            use sha2::Digest as _;
            base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(script))
        };
        assert!(csp.contains(&format!("'sha256-{hash}'")), "{path}: {csp}");
        assert!(csp.contains("'wasm-unsafe-eval'") && csp.contains("object-src 'none'"));
        assert!(
            csp.contains(&format!("frame-ancestors 'self' {PORTAL}")),
            "{csp}"
        );
        assert!(!csp.contains("'unsafe-eval'") && !csp.contains('*'));
    }
}
