//! Who may use the `/v1/*` proxy: the same decision snapdeck-server makes
//! ([`snapdeck_core::access`]), configured from the worker's vars and secrets.
//!
//! The proxy spends the Runloop key on the caller's behalf, so it must not be an open
//! relay: a caller needs the portal's access token (not the Runloop key, which never
//! leaves the worker), and a browser page must be the worker's own or an allowed origin.
//! The host rule is off here: the worker's route decides which names reach it.

pub use snapdeck_core::access::{
    ALLOWED_REQUEST_HEADERS, AccessPolicy, Caller, Denied, Granted, TOKEN_HEADER,
};

/// The policy of one request: `token` is the `SNAPDECK_ACCESS_TOKEN` secret,
/// `allowed_origins` the `ALLOWED_ORIGINS` var (origins separated by commas or spaces).
pub fn policy(token: &str, allowed_origins: &str) -> AccessPolicy {
    AccessPolicy::new(allowed_origins).with_token(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "deck.example.com";
    const OWN: &str = "https://deck.example.com";

    fn caller<'a>(origin: Option<&'a str>, authorization: Option<&'a str>) -> Caller<'a> {
        Caller {
            method: "POST",
            path: "/v1/devboxes/disk_snapshots/snp_1/delete",
            host: Some(HOST),
            origin,
            authorization,
            ..Caller::default()
        }
    }

    fn edge() -> AccessPolicy {
        policy(
            "s3cret-token",
            "https://portal.example.com, http://localhost:3000/",
        )
    }

    #[test]
    fn the_own_origin_and_allowed_portals_pass_with_the_token() {
        for origin in [OWN, "https://portal.example.com", "HTTP://LOCALHOST:3000"] {
            assert!(
                edge()
                    .check(&caller(Some(origin), Some("Bearer s3cret-token")))
                    .is_ok(),
                "{origin}"
            );
        }
    }

    #[test]
    fn a_foreign_page_is_refused_even_with_the_token_and_a_script_needs_it() {
        let foreign = edge()
            .check(&caller(
                Some("https://evil.example"),
                Some("Bearer s3cret-token"),
            ))
            .unwrap_err();
        assert_eq!(foreign.status(), 403);
        let cross = Caller {
            sec_fetch_site: Some("cross-site"),
            ..caller(None, Some("Bearer s3cret-token"))
        };
        assert_eq!(edge().check(&cross).unwrap_err().status(), 403);
        assert_eq!(edge().check(&caller(None, None)), Err(Denied::MissingToken));
        assert_eq!(
            edge().check(&caller(None, Some("Bearer s3cret"))),
            Err(Denied::WrongToken)
        );
    }

    #[test]
    fn the_workers_own_names_are_never_refused_as_unknown_hosts() {
        let c = Caller {
            host: Some("snapdeck.acme.workers.dev"),
            ..caller(None, Some("Bearer s3cret-token"))
        };
        assert!(edge().check(&c).is_ok());
    }

    #[test]
    fn an_empty_configured_token_lets_nobody_in() {
        let open = policy("", "");
        assert_eq!(
            open.check(&caller(Some(OWN), Some("Bearer x"))),
            Err(Denied::WrongToken)
        );
    }
}
