//! Who may use a server that acts for its user: one pure decision over the parts of a
//! request that say where it came from, shared by snapdeck-server (every mode) and the
//! edge worker, so each rule is checked by plain `cargo test`.
//!
//! A proxy that adds the Runloop key to every request, or a local emulator anybody's
//! browser can reach, must not be usable by a page the person merely happens to have
//! open. The rules, in the order they are applied:
//!
//! 1. **Host** (against DNS rebinding; the server only — the edge's host is fixed by its
//!    route): the request must be addressed to a name this server is served as — an IP
//!    literal, `localhost` (or `*.localhost`), or a configured public host. A rebound
//!    name such as `rebind.evil.example` gets 421.
//! 2. **Origin**, on the guarded paths (`/v1`, `/_snapdeck`, `/_emulator`), every
//!    method: a browser page of another origin — an `Origin` header that is neither this
//!    server's own nor an allowed one, or (when a browser sends no `Origin`, as on a
//!    plain GET) `Sec-Fetch-Site` saying `cross-site` or `same-site` — gets 403. Requests
//!    with neither header are not browser pages (SDKs, curl, scripts) and go on to
//! 3. **Token**, when the policy has one (a proxy injecting its key): the caller shows
//!    it as `x-snapdeck-token` or `Authorization: Bearer`; missing or wrong gets 401.
//!    A CORS preflight never carries it, so preflights are judged on 1–2 alone.
//!
//! CORS is granted only to the allowed origins (the portals that embed snapdeck), by
//! name, never `*`.

/// Header a caller may use instead of `Authorization: Bearer <token>`.
pub const TOKEN_HEADER: &str = "x-snapdeck-token";

/// Request headers an allowed cross-origin page may send (answered in preflights). The
/// Stainless-style headers are those the official SDKs send.
pub const ALLOWED_REQUEST_HEADERS: &str = "authorization, content-type, accept, x-snapdeck-token, x-request-id, x-stainless-retry-count, x-stainless-timeout";

/// The parts of the URL space the rules treat differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathFamily {
    /// `/v1/…`: the Runloop API (emulated or proxied).
    Api,
    /// `/_snapdeck/…`: snapdeck's own API (jobs).
    Snapdeck,
    /// `/_emulator/…`: the emulator's test controls (reset, faults).
    Emulator,
    /// The app's pages and files, `/healthz`: public, host rule only.
    Public,
}

impl PathFamily {
    /// The family of a request path.
    pub fn of(path: &str) -> Self {
        let under = |prefix: &str| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        };
        if under("/v1") {
            Self::Api
        } else if under("/_snapdeck") {
            Self::Snapdeck
        } else if under("/_emulator") {
            Self::Emulator
        } else {
            Self::Public
        }
    }

    /// Whether a foreign page is refused here (whatever the method).
    pub fn guarded(self) -> bool {
        !matches!(self, Self::Public)
    }

    /// Whether the caller token (when the policy has one) is asked for here. The
    /// emulator's controls stay open to local callers: no key is at stake there.
    fn needs_token(self) -> bool {
        matches!(self, Self::Api | Self::Snapdeck)
    }
}

/// The access rules, fixed at start.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct AccessPolicy {
    /// The caller token; `None`: no token is asked for.
    token: Option<String>,
    /// Origins (normalised) whose pages may call in and read the answers.
    allowed_origins: Vec<String>,
    /// Extra host names this server answers for (normalised, without port).
    public_hosts: Vec<String>,
    /// Whether rule 1 applies (the server: yes; the edge: its route decides).
    check_host: bool,
}

// Hand-written so the token never reaches a log line.
impl std::fmt::Debug for AccessPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessPolicy")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("allowed_origins", &self.allowed_origins)
            .field("public_hosts", &self.public_hosts)
            .field("check_host", &self.check_host)
            .finish()
    }
}

/// What a request showed: the headers the decision depends on, as sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct Caller<'a> {
    /// `GET`, `POST`, … (upper case, as HTTP has it).
    pub method: &'a str,
    /// The URL path.
    pub path: &'a str,
    /// Where the request was addressed: the `Host` header (or HTTP/2 `:authority`),
    /// `name[:port]`. The edge passes its URL's host.
    pub host: Option<&'a str>,
    /// The `Origin` header.
    pub origin: Option<&'a str>,
    /// The `Sec-Fetch-Site` header.
    pub sec_fetch_site: Option<&'a str>,
    /// Whether this is a CORS preflight (`OPTIONS` with `Access-Control-Request-Method`).
    pub preflight: bool,
    /// The `Authorization` header.
    pub authorization: Option<&'a str>,
    /// The `x-snapdeck-token` header.
    pub token_header: Option<&'a str>,
}

/// A request let through, and what its answer may say to the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    /// The origin to name in `Access-Control-Allow-Origin`, when a page of an allowed
    /// other origin asked. `None`: no CORS grant (same origin, or no browser at all).
    pub cors_origin: Option<String>,
    /// Which part of the URL space was asked for.
    pub family: PathFamily,
}

/// Why a request was turned away. Messages say what to fix, never a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// Addressed to a name this server is not served as (DNS rebinding, or a missing
    /// `--public-host`).
    UnknownHost(String),
    /// A page of an origin that is neither this server's nor allowed.
    ForeignOrigin(String),
    /// A browser request from another site that sent no `Origin`.
    CrossSite(String),
    /// No caller token was shown.
    MissingToken,
    /// A token was shown, but not this server's.
    WrongToken,
}

impl Denied {
    /// HTTP status: 421 for an unknown host, 403 for a foreign page, 401 for the token.
    pub fn status(&self) -> u16 {
        match self {
            Self::UnknownHost(_) => 421,
            Self::ForeignOrigin(_) | Self::CrossSite(_) => 403,
            Self::MissingToken | Self::WrongToken => 401,
        }
    }

    /// The `message` of the JSON error body.
    pub fn message(&self) -> String {
        match self {
            Self::UnknownHost(host) => format!(
                "this server does not answer for host {host:?}: use its address, localhost, or a name given with --public-host"
            ),
            Self::ForeignOrigin(origin) => format!(
                "pages of {origin} may not use this server (allow a portal with --allowed-origin)"
            ),
            Self::CrossSite(site) => {
                format!("requests from another site ({site}) may not use this server")
            }
            Self::MissingToken => format!(
                "an access token is required: open the URL snapdeck-server printed at start, or send `{TOKEN_HEADER}: <token>` (or `Authorization: Bearer <token>`)"
            ),
            Self::WrongToken => "the access token is not valid: open the URL snapdeck-server printed at start (…/?token=…), or give that token as the API key".to_owned(),
        }
    }
}

impl AccessPolicy {
    /// A policy that allows the same origin and `allowed_origins` (separated by commas
    /// or whitespace), asks for no token and checks no host.
    pub fn new(allowed_origins: &str) -> Self {
        Self {
            allowed_origins: split_list(allowed_origins)
                .map(|o| normalize_origin(&o))
                .collect(),
            ..Self::default()
        }
    }

    /// Asks callers of `/v1` and `/_snapdeck` for `token`. An empty token is refused
    /// for everyone rather than accepted from everyone.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Applies the host rule, answering for IP literals, `localhost` and `hosts`
    /// (names, commas or whitespace between them; a port is ignored).
    pub fn with_host_check(mut self, hosts: &str) -> Self {
        self.check_host = true;
        self.public_hosts = split_list(hosts).map(|h| host_name(&h)).collect();
        self
    }

    /// The caller token, for in-process callers of the same server (its jobs).
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// Whether callers must show a token.
    pub fn requires_token(&self) -> bool {
        self.token.is_some()
    }

    /// The allowed other origins, normalised (for `frame-ancestors` and the like).
    pub fn allowed_origins(&self) -> &[String] {
        &self.allowed_origins
    }

    /// True when a page at `origin` may call in: it is the origin of `host` (any
    /// scheme: the server cannot tell whether a TLS proxy fronts it) or an allowed one.
    pub fn origin_allowed(&self, origin: &str, host: Option<&str>) -> bool {
        let origin = normalize_origin(origin);
        let same = host.is_some_and(|host| {
            let host = host.trim().to_ascii_lowercase();
            origin
                .split_once("://")
                .is_some_and(|(_, authority)| authority == host)
        });
        same || self.allowed_origins.contains(&origin)
    }

    /// Whether the host rule lets a request addressed to `host` through.
    pub fn host_allowed(&self, host: &str) -> bool {
        if !self.check_host {
            return true;
        }
        let name = host_name(host);
        name == "localhost"
            || name.ends_with(".localhost")
            || is_ip_literal(&name)
            || self.public_hosts.contains(&name)
    }

    /// The origin to name in a CORS grant: the caller's, when it is an allowed other
    /// origin. Refusals of a wrong or missing token carry it too, so a portal can read
    /// why; refusals of a foreign origin never do.
    pub fn cors_grant(&self, caller: &Caller<'_>) -> Option<String> {
        caller
            .origin
            .filter(|origin| self.allowed_origins.contains(&normalize_origin(origin)))
            .map(str::to_owned)
    }

    /// Lets the request through (with its CORS grant) or says why not. Host first, then
    /// origin, then token: a foreign page learns nothing about whether a token works.
    pub fn check(&self, caller: &Caller<'_>) -> Result<Granted, Denied> {
        if let Some(host) = caller.host
            && !self.host_allowed(host)
        {
            return Err(Denied::UnknownHost(host.to_owned()));
        }
        let family = PathFamily::of(caller.path);
        let allowed_origin = caller
            .origin
            .filter(|origin| self.origin_allowed(origin, caller.host));
        if family.guarded() {
            if let Some(origin) = caller.origin
                && allowed_origin.is_none()
            {
                return Err(Denied::ForeignOrigin(origin.to_owned()));
            }
            if caller.origin.is_none()
                && let Some(site) = caller.sec_fetch_site
                && matches!(
                    site.trim().to_ascii_lowercase().as_str(),
                    "cross-site" | "same-site"
                )
            {
                return Err(Denied::CrossSite(site.to_owned()));
            }
        }
        if family.needs_token()
            && !caller.preflight
            && let Some(token) = &self.token
        {
            let shown = presented_token(caller.authorization, caller.token_header)
                .ok_or(Denied::MissingToken)?;
            if token.is_empty() || !constant_time_eq(shown.as_bytes(), token.as_bytes()) {
                return Err(Denied::WrongToken);
            }
        }
        Ok(Granted {
            cors_origin: self.cors_grant(caller),
            family,
        })
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

fn split_list(list: &str) -> impl Iterator<Item = String> + '_ {
    list.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Origins compare without a trailing slash and case-insensitively (scheme and host are).
fn normalize_origin(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// `Name:port` → `name`; `[::1]:8080` → `[::1]`; lower case, no trailing dot.
fn host_name(host: &str) -> String {
    let host = host.trim().to_ascii_lowercase();
    let name = if host.starts_with('[') {
        host.split_once(']')
            .map_or(host.as_str(), |(v6, _)| v6)
            .to_owned()
            + "]"
    } else {
        host.rsplit_once(':')
            .map_or(host.as_str(), |(name, _)| name)
            .to_owned()
    };
    name.trim_end_matches('.').to_owned()
}

/// An IPv4 literal or a bracketed IPv6 one: no DNS name, so nothing to rebind.
fn is_ip_literal(name: &str) -> bool {
    if let Some(v6) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        return v6.parse::<std::net::Ipv6Addr>().is_ok();
    }
    name.parse::<std::net::Ipv4Addr>().is_ok()
}

/// Compares without an early exit on the first differing byte, so response timing does
/// not tell how much of a guessed token was right (only whether its length was).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "127.0.0.1:8080";
    const OWN: &str = "http://127.0.0.1:8080";
    const PORTAL: &str = "https://portal.example.com";
    const EVIL: &str = "http://127.0.0.2:8080";
    const TOKEN: &str = "s3cret-token";

    fn emulator() -> AccessPolicy {
        AccessPolicy::new("https://portal.example.com, http://localhost:3000/")
            .with_host_check("deck.internal")
    }

    fn proxy() -> AccessPolicy {
        emulator().with_token(TOKEN)
    }

    /// A browser page's request: `origin` set, as browsers do on every non-GET.
    fn from_page<'a>(method: &'a str, path: &'a str, origin: Option<&'a str>) -> Caller<'a> {
        Caller {
            method,
            path,
            host: Some(HOST),
            origin,
            ..Caller::default()
        }
    }

    fn with_token(caller: Caller<'_>) -> Caller<'_> {
        Caller {
            token_header: Some(TOKEN),
            ..caller
        }
    }

    const METHODS: [&str; 5] = ["GET", "HEAD", "POST", "DELETE", "PUT"];
    const GUARDED: [&str; 5] = [
        "/v1/devboxes/disk_snapshots",
        "/v1/devboxes/disk_snapshots/snp_1/delete",
        "/_snapdeck/jobs",
        "/_emulator/reset",
        "/v1",
    ];

    #[test]
    fn path_families_match_whole_segments() {
        assert_eq!(PathFamily::of("/v1/devboxes"), PathFamily::Api);
        assert_eq!(PathFamily::of("/v1"), PathFamily::Api);
        assert_eq!(PathFamily::of("/v10/x"), PathFamily::Public);
        assert_eq!(PathFamily::of("/_snapdeck/jobs/j1"), PathFamily::Snapdeck);
        assert_eq!(PathFamily::of("/_emulator/faults"), PathFamily::Emulator);
        assert_eq!(PathFamily::of("/_emulatorx"), PathFamily::Public);
        assert_eq!(PathFamily::of("/devboxes/dbx_1"), PathFamily::Public);
        assert_eq!(PathFamily::of("/healthz"), PathFamily::Public);
    }

    #[test]
    fn a_foreign_page_is_refused_on_every_guarded_path_and_method_in_both_modes() {
        for policy in [emulator(), proxy()] {
            for method in METHODS {
                for path in GUARDED {
                    for origin in [EVIL, "null", "https://portal.example.com.evil.example"] {
                        // Even with the right token: the origin decides first.
                        let denied = policy
                            .check(&with_token(from_page(method, path, Some(origin))))
                            .expect_err("refused");
                        assert_eq!(denied.status(), 403, "{method} {path} from {origin}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_cross_site_request_without_origin_is_refused_on_guarded_paths() {
        for site in ["cross-site", "same-site", "Cross-Site"] {
            for path in GUARDED {
                let caller = Caller {
                    sec_fetch_site: Some(site),
                    ..with_token(from_page("GET", path, None))
                };
                assert_eq!(
                    proxy().check(&caller).expect_err("refused").status(),
                    403,
                    "{site} {path}"
                );
            }
        }
        for site in ["same-origin", "none"] {
            let caller = Caller {
                sec_fetch_site: Some(site),
                ..with_token(from_page("GET", "/v1/devboxes", None))
            };
            assert!(proxy().check(&caller).is_ok(), "{site}");
        }
    }

    #[test]
    fn the_same_origin_passes_in_either_scheme_and_gets_no_cors_grant() {
        for origin in [OWN, "https://127.0.0.1:8080", "HTTP://127.0.0.1:8080/"] {
            for method in METHODS {
                let granted = emulator()
                    .check(&from_page(method, "/v1/devboxes", Some(origin)))
                    .unwrap_or_else(|d| panic!("{origin}: {}", d.message()));
                assert_eq!(granted.cors_origin, None, "{origin}");
            }
        }
        // Another port on the same address is another origin.
        assert!(
            emulator()
                .check(&from_page(
                    "GET",
                    "/v1/devboxes",
                    Some("http://127.0.0.1:9090")
                ))
                .is_err()
        );
    }

    #[test]
    fn an_allowed_origin_passes_and_is_named_in_the_cors_grant() {
        for path in GUARDED {
            let granted = proxy()
                .check(&with_token(from_page("POST", path, Some(PORTAL))))
                .expect("ok");
            assert_eq!(granted.cors_origin.as_deref(), Some(PORTAL));
        }
        let spelled = emulator()
            .check(&from_page(
                "GET",
                "/v1/devboxes",
                Some("HTTP://LOCALHOST:3000"),
            ))
            .expect("ok");
        assert_eq!(
            spelled.cors_origin.as_deref(),
            Some("HTTP://LOCALHOST:3000")
        );
    }

    #[test]
    fn public_paths_serve_foreign_pages_without_any_cors_grant() {
        for path in ["/", "/devboxes", "/healthz", "/snapdeck-1234abcd_bg.wasm"] {
            let granted = proxy()
                .check(&from_page("GET", path, Some(EVIL)))
                .expect("ok");
            assert_eq!(granted.cors_origin, None, "{path}");
            assert_eq!(granted.family, PathFamily::Public);
        }
        let portal = proxy()
            .check(&from_page("GET", "/snapdeck-embed.js", Some(PORTAL)))
            .expect("ok");
        assert_eq!(portal.cors_origin.as_deref(), Some(PORTAL));
    }

    #[test]
    fn requests_without_browser_headers_are_judged_by_the_token_alone() {
        let script = |authorization, token_header| Caller {
            method: "POST",
            path: "/v1/devboxes/disk_snapshots/snp_1/delete",
            host: Some(HOST),
            authorization,
            token_header,
            ..Caller::default()
        };
        // Emulator mode: no token at stake, the SDKs and curl keep working.
        assert!(
            emulator()
                .check(&script(Some("Bearer any-key"), None))
                .is_ok()
        );
        assert!(emulator().check(&script(None, None)).is_ok());
        // Proxy mode: the token, by header or bearer.
        assert!(proxy().check(&script(None, Some(TOKEN))).is_ok());
        assert!(
            proxy()
                .check(&script(Some("bearer s3cret-token"), None))
                .is_ok()
        );
        assert_eq!(
            proxy().check(&script(None, None)),
            Err(Denied::MissingToken)
        );
        for wrong in [
            "Bearer s3cret",
            "Bearer s3cret-token-and-more",
            "Basic s3cret-token",
        ] {
            let denied = proxy()
                .check(&script(Some(wrong), None))
                .expect_err("refused");
            assert_eq!(denied.status(), 401, "{wrong}");
        }
        assert_eq!(
            proxy().check(&script(None, Some("nope"))),
            Err(Denied::WrongToken)
        );
    }

    #[test]
    fn the_token_guards_the_api_and_jobs_but_not_the_emulator_controls_or_the_app() {
        let bare = |path| from_page("POST", path, Some(OWN));
        for path in ["/v1/devboxes", "/_snapdeck/jobs"] {
            assert_eq!(
                proxy().check(&bare(path)),
                Err(Denied::MissingToken),
                "{path}"
            );
        }
        for path in ["/_emulator/faults", "/", "/healthz"] {
            assert!(proxy().check(&bare(path)).is_ok(), "{path}");
        }
    }

    #[test]
    fn a_preflight_from_an_allowed_origin_needs_no_token_but_a_foreign_one_is_refused() {
        let preflight = |origin| Caller {
            preflight: true,
            ..from_page("OPTIONS", "/v1/devboxes", Some(origin))
        };
        assert_eq!(
            proxy()
                .check(&preflight(PORTAL))
                .expect("ok")
                .cors_origin
                .as_deref(),
            Some(PORTAL)
        );
        assert_eq!(
            proxy()
                .check(&preflight(EVIL))
                .expect_err("refused")
                .status(),
            403
        );
    }

    #[test]
    fn an_empty_token_lets_nobody_in() {
        let closed = AccessPolicy::new("").with_token("");
        let caller = Caller {
            authorization: Some("Bearer "),
            token_header: Some(""),
            ..from_page("GET", "/v1/devboxes", None)
        };
        assert!(closed.check(&caller).is_err());
    }

    #[test]
    fn the_host_rule_answers_for_addresses_localhost_and_public_hosts_only() {
        for host in [
            "127.0.0.1:8080",
            "127.0.0.1",
            "10.1.2.3:80",
            "[::1]:8080",
            "localhost:8080",
            "LOCALHOST",
            "app.localhost:8080",
            "deck.internal",
            "Deck.Internal.:443",
        ] {
            assert!(emulator().host_allowed(host), "{host}");
        }
        for host in [
            "rebind.evil.example",
            "rebind.evil.example:8080",
            "127.0.0.1.nip.io:8080",
            "localhost.evil.example",
            "deck.internal.evil.example",
            "[not-an-ip]",
        ] {
            let denied = emulator()
                .check(&from_page("GET", "/", None).with_host(host))
                .expect_err("refused");
            assert_eq!(denied, Denied::UnknownHost(host.to_owned()), "{host}");
            assert_eq!(denied.status(), 421);
        }
        // The edge: its route fixes the host.
        assert!(AccessPolicy::new("").host_allowed("deck.example.workers.dev"));
    }

    #[test]
    fn a_rebound_name_is_refused_even_when_the_origin_matches_it() {
        // A DNS-rebound page is same-origin with the name it rebound: the host rule is
        // what stops it.
        let caller = Caller {
            host: Some("rebind.evil.example:8080"),
            origin: Some("http://rebind.evil.example:8080"),
            method: "POST",
            path: "/v1/devboxes/disk_snapshots/snp_1/delete",
            ..Caller::default()
        };
        assert_eq!(proxy().check(&caller).expect_err("refused").status(), 421);
    }

    #[test]
    fn messages_and_debug_output_never_contain_the_token() {
        for denied in [
            Denied::MissingToken,
            Denied::WrongToken,
            Denied::ForeignOrigin(EVIL.into()),
            Denied::CrossSite("cross-site".into()),
            Denied::UnknownHost("x".into()),
        ] {
            assert!(!denied.message().contains(TOKEN));
        }
        assert!(!format!("{:?}", proxy()).contains(TOKEN));
    }

    impl<'a> Caller<'a> {
        fn with_host(self, host: &'a str) -> Self {
            Self {
                host: Some(host),
                ..self
            }
        }
    }
}
