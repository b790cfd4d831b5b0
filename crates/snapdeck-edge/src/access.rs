//! Who may use the `/v1/*` proxy: a pure decision over the request's origin and the
//! portal access token it presents, so every rule is checked by plain `cargo test`.
//!
//! The proxy spends the Runloop key on the caller's behalf, so it must not be an open
//! relay: a caller needs the portal's access token (not the Runloop key, which never
//! leaves the worker), and a browser page must be the worker's own or an allowed origin.

/// Header a caller may use instead of `Authorization: Bearer <token>`.
pub const TOKEN_HEADER: &str = "x-snapdeck-token";

/// Request headers a cross-origin page may send to the proxy (answered in preflights).
/// The Stainless-style headers are those the official SDKs send (see the API notes).
pub const ALLOWED_REQUEST_HEADERS: &str = "authorization, content-type, accept, x-snapdeck-token, x-request-id, x-stainless-retry-count, x-stainless-timeout";

/// The access rules, built once per request from the worker's vars and secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPolicy {
    token: String,
    allowed_origins: Vec<String>,
}

/// What the caller showed: the parts of a request the decision depends on.
#[derive(Debug, Clone, Copy, Default)]
pub struct Caller<'a> {
    /// The request's `Origin` header, if any (browsers omit it on same-origin GETs).
    pub origin: Option<&'a str>,
    /// The worker's own origin, from the request URL, e.g. `https://deck.example.com`.
    pub own_origin: &'a str,
    /// The `Authorization` header, if any.
    pub authorization: Option<&'a str>,
    /// The `x-snapdeck-token` header, if any.
    pub token_header: Option<&'a str>,
}

/// Why a request was turned away. Messages name what to fix, never a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// The page calling the proxy is neither the worker's own origin nor allowed.
    ForeignOrigin(String),
    /// No access token was presented.
    MissingToken,
    /// A token was presented but it is not the portal's.
    WrongToken,
}

impl Denied {
    /// HTTP status: 403 for a page we never serve, 401 for a missing or wrong token.
    pub fn status(&self) -> u16 {
        match self {
            Self::ForeignOrigin(_) => 403,
            Self::MissingToken | Self::WrongToken => 401,
        }
    }

    /// The `message` of the JSON error body.
    pub fn message(&self) -> String {
        match self {
            Self::ForeignOrigin(origin) => {
                format!("origin {origin} is not allowed to use this proxy")
            }
            Self::MissingToken => format!(
                "an access token is required: send `Authorization: Bearer <token>` or `{TOKEN_HEADER}: <token>`"
            ),
            Self::WrongToken => "the access token is not valid".to_owned(),
        }
    }
}

impl AccessPolicy {
    /// `token` is the `SNAPDECK_ACCESS_TOKEN` secret; `allowed_origins` the
    /// `ALLOWED_ORIGINS` var: origins separated by commas or whitespace.
    pub fn new(token: impl Into<String>, allowed_origins: &str) -> Self {
        let allowed_origins = allowed_origins
            .split(|c: char| c == ',' || c.is_whitespace())
            .map(normalize_origin)
            .filter(|o| !o.is_empty())
            .collect();
        Self {
            token: token.into(),
            allowed_origins,
        }
    }

    /// True when a page at `origin` may call the proxy from the browser.
    pub fn origin_allowed(&self, origin: &str, own_origin: &str) -> bool {
        let origin = normalize_origin(origin);
        origin == normalize_origin(own_origin) || self.allowed_origins.contains(&origin)
    }

    /// Lets the request through, or says why not. The origin is checked first: a
    /// foreign page learns nothing about whether its token would have worked.
    pub fn check(&self, caller: &Caller<'_>) -> Result<(), Denied> {
        if let Some(origin) = caller.origin
            && !self.origin_allowed(origin, caller.own_origin)
        {
            return Err(Denied::ForeignOrigin(origin.to_owned()));
        }
        let presented = presented_token(caller.authorization, caller.token_header)
            .ok_or(Denied::MissingToken)?;
        // An empty configured token would accept an empty presented one: never.
        if !self.token.is_empty() && constant_time_eq(presented.as_bytes(), self.token.as_bytes()) {
            Ok(())
        } else {
            Err(Denied::WrongToken)
        }
    }
}

/// The token a caller presented: `x-snapdeck-token` wins over `Authorization: Bearer`.
pub fn presented_token<'a>(
    authorization: Option<&'a str>,
    token_header: Option<&'a str>,
) -> Option<&'a str> {
    let from_header = token_header.map(str::trim).filter(|t| !t.is_empty());
    let from_bearer = authorization.and_then(|value| {
        let (scheme, token) = value.trim().split_once(' ')?;
        let token = token.trim();
        (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
    });
    from_header.or(from_bearer)
}

/// Origins compare without a trailing slash and case-insensitively (scheme and host are).
fn normalize_origin(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// Compares without an early exit on the first differing byte, so response timing does
/// not tell how much of a guessed token was right (only whether its length was).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &str = "https://deck.example.com";

    fn policy() -> AccessPolicy {
        AccessPolicy::new(
            "s3cret-token",
            "https://portal.example.com, http://localhost:3000/",
        )
    }

    fn caller<'a>(origin: Option<&'a str>, authorization: Option<&'a str>) -> Caller<'a> {
        Caller {
            origin,
            own_origin: OWN,
            authorization,
            token_header: None,
        }
    }

    #[test]
    fn a_same_origin_request_with_the_bearer_token_passes() {
        assert_eq!(
            policy().check(&caller(Some(OWN), Some("Bearer s3cret-token"))),
            Ok(())
        );
    }

    #[test]
    fn a_request_without_origin_is_judged_by_its_token_alone() {
        assert_eq!(
            policy().check(&caller(None, Some("bearer s3cret-token"))),
            Ok(())
        );
        assert_eq!(
            policy().check(&caller(None, None)),
            Err(Denied::MissingToken)
        );
    }

    #[test]
    fn an_allowed_origin_passes_whatever_its_spelling() {
        for origin in ["https://portal.example.com", "HTTP://LOCALHOST:3000"] {
            assert_eq!(
                policy().check(&caller(Some(origin), Some("Bearer s3cret-token"))),
                Ok(()),
                "{origin}"
            );
        }
    }

    #[test]
    fn a_foreign_origin_is_refused_even_with_the_right_token() {
        let denied = policy()
            .check(&caller(
                Some("https://evil.example"),
                Some("Bearer s3cret-token"),
            ))
            .unwrap_err();
        assert_eq!(denied.status(), 403);
        assert!(denied.message().contains("https://evil.example"));
    }

    #[test]
    fn a_wrong_or_partial_token_is_refused_with_401() {
        for auth in [
            "Bearer s3cret",
            "Bearer s3cret-token-and-more",
            "Basic s3cret-token",
        ] {
            let denied = policy().check(&caller(Some(OWN), Some(auth))).unwrap_err();
            assert_eq!(denied.status(), 401, "{auth}");
        }
    }

    #[test]
    fn the_token_header_works_instead_of_authorization() {
        let c = Caller {
            token_header: Some("s3cret-token"),
            ..caller(Some(OWN), None)
        };
        assert_eq!(policy().check(&c), Ok(()));
    }

    #[test]
    fn an_empty_configured_token_lets_nobody_in() {
        let open = AccessPolicy::new("", "");
        assert_eq!(
            open.check(&caller(Some(OWN), Some("Bearer x"))),
            Err(Denied::WrongToken)
        );
    }

    #[test]
    fn messages_never_contain_the_token() {
        for denied in [
            Denied::MissingToken,
            Denied::WrongToken,
            Denied::ForeignOrigin("https://evil.example".into()),
        ] {
            assert!(!denied.message().contains("s3cret-token"));
        }
    }
}
