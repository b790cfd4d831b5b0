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
//! * **Content-Security-Policy** on every HTML page: scripts from this origin, wasm,
//!   and the page's own inline scripts by hash (Trunk's loader, the demo portal's host
//!   code) — nothing else; styles from this origin (inline style attributes allowed);
//!   `fetch` to this origin and to HTTPS APIs (Settings may point the app at the real
//!   Runloop API or another server); framing only by this origin and the allowed ones.
//!
//! Only the static service is wrapped: `/v1`, `/_emulator` and `/healthz` answer
//! before the fallback and get none of these headers.

use std::path::Path;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Response, StatusCode, header};
use axum::middleware::{Next, from_fn};
use axum::response::IntoResponse;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use snapdeck_core::access::AccessPolicy;
use tower::ServiceBuilder;
use tower_http::services::{ServeDir, ServeFile};

use crate::error::Error;

const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
const NO_CACHE: HeaderValue = HeaderValue::from_static("no-cache");

/// The files under `dist`, with `index.html` for every path that is not one (status
/// 200, so client-side routes such as `/devboxes/dbx_1` load the app).
pub fn router(dist: &Path, access: &AccessPolicy) -> Router {
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
    let frame_ancestors = std::iter::once("'self'".to_owned())
        .chain(access.allowed_origins().iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    Router::new()
        .fallback_service(files)
        .layer(from_fn(cache_headers))
        .layer(from_fn(move |req, next| {
            content_security_policy(frame_ancestors.clone(), req, next)
        }))
}

/// Largest page whose inline scripts are hashed (the app's is ~1 KB).
const MAX_HTML: usize = 4 * 1024 * 1024;

/// Sets the CSP of an HTML answer, hashing the inline scripts it carries.
async fn content_security_policy(
    frame_ancestors: String,
    req: Request,
    next: Next,
) -> axum::response::Response {
    let res = next.run(req).await;
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    if !is_html || res.headers().contains_key(header::CONTENT_ENCODING) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_HTML).await else {
        return Error::Internal("reading a page of --dist".into()).into_response();
    };
    let policy = csp(&String::from_utf8_lossy(&bytes), &frame_ancestors);
    if let Ok(value) = HeaderValue::from_str(&policy) {
        parts.headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The policy for one page: see the module doc.
fn csp(html: &str, frame_ancestors: &str) -> String {
    let hashes: String = inline_scripts(html)
        .map(|script| {
            let digest = Sha256::digest(script.as_bytes());
            format!(
                " 'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        })
        .collect();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; \
         connect-src 'self' https:; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors {frame_ancestors}"
    )
}

/// The text of every `<script>` without a `src`, exactly as CSP hashes it.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    let mut rest = html;
    std::iter::from_fn(move || {
        loop {
            let start = rest.find("<script")?;
            let after = &rest[start..];
            let open_end = after.find('>')?;
            let open_tag = &after[..open_end];
            let body = &after[open_end + 1..];
            let close = body.find("</script>")?;
            rest = &body[close..];
            if !open_tag.contains(" src=") {
                return Some(&body[..close]);
            }
        }
    })
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
    use super::{csp, inline_scripts, is_content_hashed};

    #[test]
    fn inline_scripts_are_found_exactly_and_external_ones_skipped() {
        let html = "<head><script type=\"module\">\nimport init from '/a.js';\n</script>\
                    <script src=\"/x.js\"></script><script>b()</script></head>";
        let found: Vec<_> = inline_scripts(html).collect();
        assert_eq!(found, ["\nimport init from '/a.js';\n", "b()"]);
    }

    #[test]
    fn the_policy_names_each_inline_script_by_hash_and_the_allowed_framers() {
        // sha256("b()") in base64, as a browser computes it.
        let policy = csp("<script>b()</script>", "'self' https://portal.example.com");
        assert!(
            policy.contains("'sha256-cf242PFc/kb7xD0Qzhsmd9vvRkc+cWFmbi+k+YvtdKc='"),
            "{policy}"
        );
        assert!(policy.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"));
        assert!(policy.ends_with("frame-ancestors 'self' https://portal.example.com"));
        assert!(
            !policy.contains(" 'unsafe-eval'")
                && !policy.contains("script-src 'self' 'unsafe-inline'")
        );
        assert!(!policy.contains('*'));
    }

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
