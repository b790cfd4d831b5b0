//! Static serving of the built app (`--dist`) through `app(state)` in-process: the
//! precompressed `.br` / `.gz` files by `Accept-Encoding`, and cache headers by name
//! (content-hashed → a year, immutable; everything else → no-cache), never on the API.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use snapdeck_server::testing::{FAST, state};
use snapdeck_server::{Config, app};
use tempfile::TempDir;

mod common;
use common::Reply;

const WASM: &str = "/snapdeck-5e7b3487ef7882bb_bg.wasm";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// A dist/ like Trunk's plus the hook's files. The "compressed" files only need to be
/// told apart: the server sends them as they are.
fn dist() -> TempDir {
    let dist = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, body: &str| {
        std::fs::write(dist.path().join(name), body).expect("write");
    };
    write("index.html", "<html>snapdeck</html>");
    write(&WASM[1..], "wasm identity");
    write(&format!("{}.gz", &WASM[1..]), "wasm gzip");
    write(&format!("{}.br", &WASM[1..]), "wasm br");
    write("snapdeck-embed.js", "embed");
    dist
}

fn server(dist: &TempDir) -> Router {
    let config = Config {
        dist: Some(dist.path().to_owned()),
        ..Config::default()
    };
    app(state(FAST, config, false).expect("state"))
}

async fn get(router: &Router, path: &str, accept_encoding: Option<&str>) -> Reply {
    let mut req = Request::get(path).header("authorization", "Bearer k");
    if let Some(encodings) = accept_encoding {
        req = req.header(header::ACCEPT_ENCODING, encodings);
    }
    common::send(router, req.body(Body::empty()).expect("request")).await
}

#[tokio::test]
async fn the_precompressed_file_goes_to_a_client_that_accepts_it() {
    let dist = dist();
    let router = server(&dist);
    for (accept, body, encoding) in [
        (Some("br"), "wasm br", Some("br")),
        // What Chromium sends: brotli wins.
        (Some("gzip, deflate, br, zstd"), "wasm br", Some("br")),
        (Some("gzip"), "wasm gzip", Some("gzip")),
        (Some("gzip, br;q=0"), "wasm gzip", Some("gzip")),
        (Some("identity"), "wasm identity", None),
        (None, "wasm identity", None),
    ] {
        let res = get(&router, WASM, accept).await;
        assert_eq!(res.status, StatusCode::OK, "{accept:?}");
        assert_eq!(res.text, body, "{accept:?}");
        assert_eq!(res.header(header::CONTENT_ENCODING), encoding, "{accept:?}");
        assert_eq!(
            res.header(header::CONTENT_TYPE),
            Some("application/wasm"),
            "the type of the file asked for, whatever the encoding ({accept:?})"
        );
        let vary: Vec<_> = res.headers.get_all(header::VARY).iter().collect();
        assert!(
            vary.iter().any(|v| v.as_bytes() == b"accept-encoding"),
            "Vary names Accept-Encoding, so caches keep the encodings apart ({accept:?}): {vary:?}"
        );
    }
}

#[tokio::test]
async fn content_hashed_files_are_immutable_and_everything_else_is_revalidated() {
    let dist = dist();
    let router = server(&dist);
    for accept in [Some("br"), Some("gzip"), None] {
        let wasm = get(&router, WASM, accept).await;
        assert_eq!(
            wasm.header(header::CACHE_CONTROL),
            Some(IMMUTABLE),
            "{accept:?}"
        );
    }
    let embed = get(&router, "/snapdeck-embed.js", None).await;
    assert_eq!(embed.text, "embed");
    assert_eq!(
        embed.header(header::CACHE_CONTROL),
        Some("no-cache"),
        "a fixed name portals include: it changes under that name"
    );
    for page in [
        "/",
        "/index.html",
        "/devboxes/abc",
        "/devboxes/abc/snapshots",
    ] {
        let res = get(&router, page, Some("gzip, br")).await;
        assert_eq!(res.status, StatusCode::OK, "{page}");
        assert_eq!(res.text, "<html>snapdeck</html>", "{page}");
        assert_eq!(
            res.header(header::CACHE_CONTROL),
            Some("no-cache"),
            "{page}"
        );
    }
}

/// After a deploy, an old page may ask for the previous build's wasm: it gets the SPA
/// fallback, which must not be cached for a year under that hashed name.
#[tokio::test]
async fn a_missing_hashed_name_gets_index_html_without_the_immutable_header() {
    let dist = dist();
    let router = server(&dist);
    let res = get(&router, "/snapdeck-0123456789abcdef_bg.wasm", Some("br")).await;
    assert_eq!(res.text, "<html>snapdeck</html>");
    assert_eq!(res.header(header::CACHE_CONTROL), Some("no-cache"));
}

#[tokio::test]
async fn api_answers_get_no_static_cache_headers() {
    let dist = dist();
    let router = server(&dist);
    for path in ["/v1/devboxes", "/v1/nope", "/healthz", "/_emulator/state"] {
        let res = get(&router, path, Some("gzip, br")).await;
        assert!(
            res.headers["content-type"]
                .to_str()
                .expect("ascii")
                .starts_with("application/json"),
            "{path}: {}",
            res.text
        );
        assert_eq!(res.header(header::CACHE_CONTROL), None, "{path}");
        assert_eq!(res.header(header::CONTENT_ENCODING), None, "{path}");
        assert!(
            !res.headers
                .get_all(header::VARY)
                .iter()
                .any(|v| v.as_bytes() == b"accept-encoding"),
            "{path}"
        );
    }
}
