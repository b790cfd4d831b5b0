//! The security headers of the app's answers (the static assets), the same policy
//! snapdeck-server's `--dist` serves with:
//!
//! * every answer: `X-Content-Type-Options: nosniff` and
//!   `Referrer-Policy: strict-origin-when-cross-origin`;
//! * HTML pages also a **Content-Security-Policy** suited to a Trunk-built wasm app:
//!   scripts from this origin, `'wasm-unsafe-eval'` (instantiating the app's wasm), and
//!   the page's own inline scripts by hash (Trunk's loader is one) — nothing else;
//!   styles from this origin with inline ones allowed (the page's `<style>`, Leptos's
//!   style attributes); `fetch` to this origin and to HTTPS APIs (Settings may point the
//!   app at the real Runloop API); framing only by this origin and `ALLOWED_ORIGINS`
//!   (the portals that embed it).

use base64::Engine as _;
use sha2::{Digest, Sha256};
use snapdeck_core::access::AccessPolicy;

/// Headers every answer of the app carries.
pub const ALWAYS: [(&str, &str); 2] = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
];

/// `frame-ancestors` sources: the worker's own origin and the allowed portals
/// (`ALLOWED_ORIGINS`, normalized as the access check reads them).
pub fn frame_ancestors(allowed_origins: &str) -> String {
    std::iter::once("'self'".to_owned())
        .chain(
            AccessPolicy::new(allowed_origins)
                .allowed_origins()
                .iter()
                .cloned(),
        )
        .collect::<Vec<_>>()
        .join(" ")
}

/// The policy of one HTML page (see the module doc).
pub fn content_security_policy(html: &str, frame_ancestors: &str) -> String {
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

/// Whether an answer of this content type is a page that needs a CSP.
pub fn is_html(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| ct.trim_start().starts_with("text/html"))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Trunk's loader, as in a real dist/index.html.
    const PAGE: &str = "<head><script type=\"module\">\nimport init from '/snapdeck-1.js';\nawait init();\n</script>\
        <script src=\"/snapdeck-embed.js\"></script><style>body{margin:0}</style></head>";

    #[test]
    fn the_inline_loader_is_allowed_by_its_hash_and_nothing_else_inline() {
        let loader = "\nimport init from '/snapdeck-1.js';\nawait init();\n";
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(loader));
        let policy = content_security_policy(PAGE, "'self'");
        assert!(policy.contains(&format!("'sha256-{hash}'")), "{policy}");
        assert_eq!(
            policy.matches("'sha256-").count(),
            1,
            "a src script is not hashed"
        );
        assert!(policy.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"));
        assert!(!policy.contains("script-src 'self' 'unsafe-inline'"));
        assert!(policy.contains("object-src 'none'"));
    }

    #[test]
    fn only_the_own_origin_and_allowed_portals_may_frame_the_app() {
        assert_eq!(
            frame_ancestors("https://portal.example.com, http://localhost:3000/"),
            "'self' https://portal.example.com http://localhost:3000"
        );
        assert_eq!(frame_ancestors(""), "'self'");
        let policy = content_security_policy(PAGE, &frame_ancestors("https://p.example"));
        assert!(
            policy.ends_with("frame-ancestors 'self' https://p.example"),
            "{policy}"
        );
    }

    #[test]
    fn only_html_gets_a_policy() {
        assert!(is_html(Some("text/html; charset=utf-8")));
        assert!(!is_html(Some("application/wasm")));
        assert!(!is_html(None));
    }
}
