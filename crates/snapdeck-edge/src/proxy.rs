//! The `fetch` side of the worker: `/v1/*` goes through the access check to the Runloop
//! API with the key from the `RUNLOOP_API_KEY` secret; `/_snapdeck/jobs…` and
//! `/_snapdeck/audit` go through the same check to the jobs' Durable Object; everything
//! else is the built app, served by the static-assets binding with security headers.

use worker::{
    Env, Fetch, Headers, Method, Request, RequestInit, RequestRedirect, Response, console_log,
    js_sys::Uint8Array, wasm_bindgen::JsValue,
};

use snapdeck_core::audit::AUDIT_PATH;
use snapdeck_core::jobs::{JOBS_PATH, JobKind, JobsCapability};

use crate::access::{self, ALLOWED_REQUEST_HEADERS, Caller, Denied, TOKEN_HEADER};
use crate::config::{self, Settings};
use crate::durable;
use crate::forward::{forwards_request_header, forwards_response_header, redact, upstream_url};
use crate::headers;

/// Entry point of every HTTP request.
pub async fn handle(req: Request, env: Env) -> worker::Result<Response> {
    let path = req.path();
    if path == "/v1" || path.starts_with("/v1/") {
        return proxy(req, &env).await;
    }
    if path == "/_snapdeck" || path.starts_with("/_snapdeck/") {
        return jobs_api(req, &env).await;
    }
    if path == "/healthz" {
        // What the app's API-target pill asks a same-origin server; says nothing secret.
        // Jobs run here, but followers poll: a Durable Object's alarms hold no stream.
        // Fan-outs are launched by the tab here (not as a job).
        let jobs = JobsCapability {
            events: false,
            kinds: vec![JobKind::Plan, JobKind::Delete],
            ..JobsCapability::available()
        };
        return Response::from_json(
            &serde_json::json!({ "ok": true, "mode": "proxy", "jobs": jobs }),
        );
    }
    assets(req, &env).await
}

/// The built app, with the security headers of [`headers`] (`run_worker_first = true`
/// sends every request here, so the worker can add them).
async fn assets(req: Request, env: &Env) -> worker::Result<Response> {
    let mut resp = env
        .assets(config::ASSETS_BINDING)?
        .fetch_request(req)
        .await?;
    let out = Headers::new();
    for (name, value) in resp.headers().entries() {
        out.set(&name, &value)?;
    }
    for (name, value) in headers::ALWAYS {
        out.set(name, value)?;
    }
    let content_type = resp.headers().get("content-type")?;
    if !headers::is_html(content_type.as_deref()) {
        return Ok(resp.with_headers(out));
    }
    let status = resp.status_code();
    let html = resp.text().await?;
    let allowed = config::string_binding(env, "ALLOWED_ORIGINS").unwrap_or_default();
    out.set(
        "content-security-policy",
        &headers::content_security_policy(&html, &headers::frame_ancestors(&allowed)),
    )?;
    // The body is read and sent again as it is: the runtime encodes it anew.
    out.delete("content-length")?;
    out.delete("content-encoding")?;
    Ok(Response::ok(html)?.with_status(status).with_headers(out))
}

/// The access check of `/v1` and `/_snapdeck` alike: the CORS origin to grant, or the
/// answer that refuses the caller.
fn authorize(
    req: &Request,
    settings: &Settings,
) -> worker::Result<Result<Option<String>, Response>> {
    let url = req.url()?;
    let host = match (url.host_str(), url.port()) {
        (Some(name), Some(port)) => Some(format!("{name}:{port}")),
        (Some(name), None) => Some(name.to_owned()),
        (None, _) => None,
    };
    let headers = req.headers();
    let origin = headers.get("origin")?;
    let sec_fetch_site = headers.get("sec-fetch-site")?;
    let authorization = headers.get("authorization")?;
    let token_header = headers.get(TOKEN_HEADER)?;
    let preflight =
        req.method() == Method::Options && headers.get("access-control-request-method")?.is_some();
    let policy = access::policy(settings.access_token.as_str(), &settings.allowed_origins);
    let method = req.method().to_string();
    let path = url.path().to_owned();
    let caller = Caller {
        method: &method,
        path: &path,
        host: host.as_deref(),
        origin: origin.as_deref(),
        sec_fetch_site: sec_fetch_site.as_deref(),
        preflight,
        authorization: authorization.as_deref(),
        token_header: token_header.as_deref(),
    };
    match policy.check(&caller) {
        Ok(granted) => Ok(Ok(granted.cors_origin)),
        Err(denied) => {
            console_log!(
                "denied {} {}: {}",
                req.method(),
                url.path(),
                denied.status()
            );
            let grant = matches!(denied, Denied::MissingToken | Denied::WrongToken)
                .then(|| policy.cors_grant(&caller))
                .flatten();
            Ok(Err(deny(&denied, grant.as_deref())?))
        }
    }
}

/// `/_snapdeck/jobs…` and `/_snapdeck/audit`: the same check as `/v1`, then the jobs'
/// Durable Object.
async fn jobs_api(mut req: Request, env: &Env) -> worker::Result<Response> {
    let settings = match Settings::from_env(env) {
        Ok(settings) => settings,
        Err(missing) => {
            console_log!("jobs refused: {missing}");
            return json_error(503, &missing.to_string(), None);
        }
    };
    let cors_origin = match authorize(&req, &settings)? {
        Ok(cors_origin) => cors_origin,
        Err(refused) => return Ok(refused),
    };
    let cors_origin = cors_origin.as_deref();
    if req.method() == Method::Options {
        return preflight_answer(cors_origin);
    }
    let url = req.url()?;
    let path = url.path();
    if path != JOBS_PATH && !path.starts_with(&format!("{JOBS_PATH}/")) && path != AUDIT_PATH {
        return json_error(404, &format!("no such path: {path}"), cors_origin);
    }
    // Only what the jobs API reads crosses over; the object's own routes (the cron's)
    // are out of reach from here, as this forwards only `/_snapdeck/jobs…` and
    // `/_snapdeck/audit`.
    let forwarded = Headers::new();
    for name in ["content-type", "x-request-id"] {
        if let Some(value) = req.headers().get(name)? {
            forwarded.set(name, &value)?;
        }
    }
    let mut init = RequestInit::new();
    init.with_method(req.method()).with_headers(forwarded);
    if !matches!(req.method(), Method::Get | Method::Head) {
        let body = req.bytes().await?;
        if !body.is_empty() {
            init.with_body(Some(JsValue::from(Uint8Array::from(body.as_slice()))));
        }
    }
    let target = match url.query() {
        Some(q) => format!("https://jobs.internal{path}?{q}"),
        None => format!("https://jobs.internal{path}"),
    };
    let stub = env
        .durable_object(durable::BINDING)?
        .get_by_name(durable::OBJECT_NAME)?;
    let mut answer = stub
        .fetch_with_request(Request::new_with_init(&target, &init)?)
        .await?;
    let status = answer.status_code();
    let body = answer.bytes().await?;
    let out = Headers::new();
    // JSON, or the audit's CSV export with its file name and whether `limit` cut it.
    let content_type = answer.headers().get("content-type")?;
    out.set(
        "content-type",
        content_type.as_deref().unwrap_or("application/json"),
    )?;
    for name in ["content-disposition", "x-snapdeck-has-more"] {
        if let Some(value) = answer.headers().get(name)? {
            out.set(name, &value)?;
        }
    }
    out.set("cache-control", "no-store")?;
    for (name, value) in headers::ALWAYS {
        out.set(name, value)?;
    }
    add_cors(&out, cors_origin)?;
    Ok(Response::from_bytes(body)?
        .with_status(status)
        .with_headers(out))
}

async fn proxy(mut req: Request, env: &Env) -> worker::Result<Response> {
    let settings = match Settings::from_env(env) {
        Ok(settings) => settings,
        Err(missing) => {
            console_log!("proxy refused: {missing}");
            return json_error(503, &missing.to_string(), None);
        }
    };
    let cors_origin = match authorize(&req, &settings)? {
        Ok(cors_origin) => cors_origin,
        Err(refused) => return Ok(refused),
    };
    let url = req.url()?;
    let cors_origin = cors_origin.as_deref();
    if req.method() == Method::Options {
        return preflight_answer(cors_origin);
    }

    let upstream_headers = Headers::new();
    for (name, value) in req.headers().entries() {
        if forwards_request_header(&name) {
            upstream_headers.set(&name, &value)?;
        }
    }
    upstream_headers.set("authorization", &format!("Bearer {}", settings.api_key))?;
    let mut init = RequestInit::new();
    init.with_method(req.method())
        .with_headers(upstream_headers)
        // A redirect is passed back rather than followed with the key attached.
        .with_redirect(RequestRedirect::Manual);
    if !matches!(req.method(), Method::Get | Method::Head) {
        let body = req.bytes().await?;
        if !body.is_empty() {
            init.with_body(Some(JsValue::from(Uint8Array::from(body.as_slice()))));
        }
    }
    let target = upstream_url(&settings.upstream_url, url.path(), url.query());
    let started = worker::Date::now().as_millis();
    let mut upstream = match Fetch::Request(Request::new_with_init(&target, &init)?)
        .send()
        .await
    {
        Ok(resp) => resp,
        Err(err) => {
            console_log!(
                "proxy {} {}: upstream unreachable: {err}",
                req.method(),
                url.path()
            );
            return json_error(502, "the Runloop API could not be reached", cors_origin);
        }
    };
    let status = upstream.status_code();
    let body = upstream.bytes().await?;
    let body = redact(&body, &settings.api_key).into_owned();
    console_log!(
        "proxy {} {} -> {status} ({} ms)",
        req.method(),
        url.path(),
        worker::Date::now().as_millis().saturating_sub(started)
    );

    let out_headers = Headers::new();
    for (name, value) in upstream.headers().entries() {
        if forwards_response_header(&name) {
            out_headers.set(&name, &value)?;
        }
    }
    out_headers.set("cache-control", "no-store")?;
    add_cors(&out_headers, cors_origin)?;
    // A Response with a null-body status (204, 304, …) must not be given a body at all.
    let resp = if matches!(status, 101 | 204 | 205 | 304) {
        Response::empty()?
    } else {
        Response::from_bytes(body)?
    };
    Ok(resp.with_status(status).with_headers(out_headers))
}

/// Answers a CORS preflight that passed the access check: allowed origins learn what
/// they may send.
fn preflight_answer(cors_origin: Option<&str>) -> worker::Result<Response> {
    let headers = Headers::new();
    add_cors(&headers, cors_origin)?;
    headers.set("access-control-allow-methods", "GET, POST, OPTIONS")?;
    headers.set("access-control-allow-headers", ALLOWED_REQUEST_HEADERS)?;
    headers.set("access-control-max-age", "600")?;
    Ok(Response::empty()?.with_status(204).with_headers(headers))
}

fn deny(denied: &Denied, cors_origin: Option<&str>) -> worker::Result<Response> {
    let resp = json_error(denied.status(), &denied.message(), cors_origin)?;
    if denied.status() == 401 {
        resp.headers()
            .set("www-authenticate", "Bearer realm=\"snapdeck\"")?;
    }
    Ok(resp)
}

/// The same `{"message": …}` body the emulator sends, so the client decodes it alike.
fn json_error(status: u16, message: &str, cors_origin: Option<&str>) -> worker::Result<Response> {
    let resp = Response::from_json(&snapdeck_api::ErrorBody {
        message: message.to_owned(),
    })?
    .with_status(status);
    resp.headers().set("cache-control", "no-store")?;
    add_cors(resp.headers(), cors_origin)?;
    Ok(resp)
}

fn add_cors(headers: &Headers, cors_origin: Option<&str>) -> worker::Result<()> {
    headers.set("vary", "Origin")?;
    if let Some(origin) = cors_origin {
        headers.set("access-control-allow-origin", origin)?;
        headers.set(
            "access-control-expose-headers",
            "retry-after, retry-after-ms, x-should-retry, x-request-id, content-disposition, \
             x-snapdeck-has-more",
        )?;
    }
    Ok(())
}
