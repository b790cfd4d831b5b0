//! Serving the built app (`--dist`) the way a production static server does:
//!
//! * **Precompressed files.** The Trunk hook writes `x.br` and `x.gz` next to every
//!   `.wasm`, `.js` and `.css`; a browser that accepts them gets one of those, with
//!   `Content-Encoding` set and the `Content-Type` of `x`. Every static answer carries
//!   `Vary: Accept-Encoding`, so a shared cache never hands `br` to a client that did
//!   not ask for it (tower-http's `ServeDir` picks the file but does not add `Vary`).
//! * **Cache headers.** Trunk's content-hashed files (`snapdeck-5e7b3487ef7882bb_bg.wasm`,
//!   `main-67448e0d96dfb1fc.css`) never change under their name: cached for a year,
//!   `immutable`. Everything else — `index.html`, the single-page-app fallback, fixed
//!   names such as `snapdeck-embed.js` and `demo/` — is `no-cache` (stored, but
//!   revalidated on every use), so a new build shows up on the next load.
//!
//! Only the static service is wrapped: `/v1`, `/_emulator` and `/healthz` answer
//! before the fallback and get none of these headers.

use std::path::Path;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, Response, StatusCode, header};
use axum::middleware::{Next, from_fn};
use tower::ServiceBuilder;
use tower_http::services::{ServeDir, ServeFile};

const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
const NO_CACHE: HeaderValue = HeaderValue::from_static("no-cache");

/// The files under `dist`, with `index.html` for every path that is not one (status
/// 200, so client-side routes such as `/devboxes/dbx_1` load the app).
pub fn router(dist: &Path) -> Router {
    // The fallback marks its answer itself: a request for a hashed name that is not
    // there (an old build's wasm, say) gets index.html, which must not be kept a year.
    let index = ServiceBuilder::new()
        .map_response(|mut res: Response<_>| {
            res.headers_mut().insert(header::CACHE_CONTROL, NO_CACHE);
            res
        })
        .service(ServeFile::new(dist.join("index.html")));
    let files = ServeDir::new(dist)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(index);
    Router::new()
        .fallback_service(files)
        .layer(from_fn(cache_headers))
}

/// Adds `Vary: Accept-Encoding` and, unless the fallback already set one, the
/// `Cache-Control` that the requested name calls for.
async fn cache_headers(req: Request, next: Next) -> axum::response::Response {
    let hashed = is_content_hashed(req.uri().path());
    let mut res = next.run(req).await;
    let served = res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED;
    let policy = if hashed && served {
        IMMUTABLE
    } else {
        NO_CACHE
    };
    let headers = res.headers_mut();
    // Appended: the CORS layer outside adds its own `Vary` values.
    headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    headers.entry(header::CACHE_CONTROL).or_insert(policy);
    res
}

/// Whether the file name carries Trunk's content hash: `<stem>-<hash>[_bg].<ext>`, the
/// hash a `u64` in lower-case hex (Trunk formats it with `{:x}`, so without leading
/// zeros: 8 digits or more is every real build but one in four billion). Names people
/// chose (`snapdeck-embed.js`, `demo/portal.css`, `index.html`) do not match.
fn is_content_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let Some((stem, _ext)) = name.split_once('.') else {
        return false;
    };
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, hash)| {
        (8..=16).contains(&hash.len())
            && hash
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::is_content_hashed;

    #[test]
    fn trunks_hashed_names_are_recognised_and_chosen_names_are_not() {
        for hashed in [
            "/snapdeck-5e7b3487ef7882bb_bg.wasm",
            "/snapdeck-5e7b3487ef7882bb.js",
            "/main-67448e0d96dfb1fc.css",
            "/snapdeck-floor-d484bc39edca77dd_bg.wasm",
            // `{:x}` drops leading zeros.
            "/bulk-6c3230a7ca74665.css",
            "/snapdeck-5e7b3487ef7882bb_bg.wasm.br",
        ] {
            assert!(is_content_hashed(hashed), "{hashed}");
        }
        for chosen in [
            "/",
            "/index.html",
            "/snapdeck-embed.js",
            "/demo/portal.css",
            "/demo/portal.html",
            "/devboxes/dbx_1",
            "/snippets/snapdeck-5e7b3487ef7882bb/inline0.js",
            "/main-67448E0D96DFB1FC.css",
            "/main-cafe.css",
        ] {
            assert!(!is_content_hashed(chosen), "{chosen}");
        }
    }
}
