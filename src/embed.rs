//! Embedded mode: snapdeck mounted inside a host page (an internal portal).
//!
//! The host marks one or more elements, e.g.
//! `<div data-snapdeck data-view="timeline" data-devbox="dbx_…" data-api-base="…">`,
//! and loads the app (`snapdeck-embed.js`). Each element gets its own app showing one
//! view — `devboxes`, `timeline` (needs `data-devbox`), `cleanup` (optional
//! `data-devbox` scope) or `snapshots` — without the top bar or the operations tray.
//!
//! **No `<Router>`.** leptos_router's `<Router>` drives the browser URL and installs a
//! window-wide click handler that takes over every same-origin link on the page, the
//! host's included. Instead each embed keeps its own in-memory URL: the pages' hooks
//! read it because `use_query_map` looks for an `ArcRwSignal<Url>` context first and
//! `use_params_map` for an `ArcMemo<ParamsMap>`, and pages navigate through
//! [`use_navigate`], which goes to the embed when there is one and to the router
//! otherwise. Clicks on the app's own links (`href="/…"`) inside the mount element are
//! routed the same way; the host's URL and links are never touched.
//!
//! **Links to other views.** Without `data-dashboard-url` they stay inside the embed (a
//! devbox row in the list opens its timeline in place, "← Devboxes" goes back). With it,
//! a link to another kind of page opens the full dashboard at that page in a new tab,
//! and the embed keeps showing its view; changes within the view (filters, paging) stay
//! in place either way. Settings are never shown in an embed.
//!
//! **Configuration.** `data-api-base` (empty = same origin), `data-theme`
//! (`light`/`dark`, else the host's `prefers-color-scheme`), and the API key or token as
//! a JS property set before the app loads (`el.snapdeckToken = "…"`) or later with
//! `el.dispatchEvent(new CustomEvent('snapdeck:set-token', {detail: {token}}))`. The
//! key lives only in a signal: it is never written to the DOM or to storage.
//!
//! **Theme and styles.** The host sets `--sd-*` custom properties on the element
//! (style/embed.css makes the embed inherit them); every snapdeck selector is prefixed
//! and scoped, so nothing leaks into the host. Events: see [`crate::events`].
//!
//! **Limits.** Elements are found once, when the app loads (add them before the loader
//! runs). Embeds are not in a shadow root: host rules more specific than an element
//! selector (`.x td`, `tr:nth-child(even) td`) still reach in. Every app on the origin
//! shares the stored operations list, so two embeds taking snapshots at the same moment
//! can overwrite each other's record of them (the snapshots themselves are unaffected).

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::location::{BrowserUrl, LocationProvider, Url};
use leptos_router::params::ParamsMap;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use crate::api::provide_api;
use crate::components::ToastStack;
use crate::events::{self, EventHost};
use crate::hooks::use_now::provide_now;
use crate::hooks::use_ops::provide_ops;
use crate::hooks::use_refresh::provide_refresh;
use crate::hooks::use_settings::{Settings, SettingsCtx, Theme};
use crate::hooks::use_statuses::provide_statuses;
use crate::hooks::use_toasts::provide_toasts;
use crate::pages::{CleanupPage, DevboxPage, DevboxesPage, SnapshotsPage};
use crate::routes::{CleanupQuery, Page};

/// The marker attribute of mount elements.
pub const SELECTOR: &str = "[data-snapdeck]";
/// The event that hands the embed a new API key or token.
pub const SET_TOKEN: &str = "snapdeck:set-token";
/// The JS property a host may set on the element before the app loads.
const TOKEN_PROPERTY: &str = "snapdeckToken";

/// The kinds of page an embed can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Devboxes,
    /// One devbox's timeline (the devbox page).
    Timeline,
    Cleanup,
    Snapshots,
}

impl View {
    /// Parses `data-view`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "devboxes" => Some(View::Devboxes),
            "timeline" | "devbox" => Some(View::Timeline),
            "cleanup" => Some(View::Cleanup),
            "snapshots" => Some(View::Snapshots),
            _ => None,
        }
    }

    /// The view an app path belongs to (`None`: not shown in embeds, e.g. settings).
    pub fn of_path(path: &str) -> Option<Self> {
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match segs.as_slice() {
            [] | ["devboxes"] => Some(View::Devboxes),
            ["devboxes", _] => Some(View::Timeline),
            ["cleanup"] => Some(View::Cleanup),
            ["snapshots"] => Some(View::Snapshots),
            _ => None,
        }
    }

    fn class(self) -> &'static str {
        match self {
            View::Devboxes => "devboxes",
            View::Timeline => "timeline",
            View::Cleanup => "cleanup",
            View::Snapshots => "snapshots",
        }
    }
}

/// What an embed shows and where it talks to, read from the element's attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbedConfig {
    /// The first page shown (an app path with its query).
    pub start: String,
    /// Empty = same origin.
    pub api_base: String,
    /// Where the full dashboard lives; links to other views open there.
    pub dashboard_url: Option<String>,
}

impl EmbedConfig {
    /// Builds the config from attribute values (`get` returns an attribute by name).
    pub fn from_attrs(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let non_empty = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let view_attr = non_empty("data-view").unwrap_or_else(|| "devboxes".into());
        let view = View::parse(&view_attr).ok_or_else(|| {
            format!("unknown data-view “{view_attr}” (devboxes, timeline, cleanup, snapshots)")
        })?;
        let devbox = non_empty("data-devbox");
        let start = match (view, devbox) {
            (View::Devboxes, _) => Page::devboxes().href(),
            (View::Timeline, Some(id)) => Page::devbox(id).href(),
            (View::Timeline, None) => return Err("data-view=\"timeline\" needs data-devbox".into()),
            (View::Cleanup, devbox) => Page::Cleanup(CleanupQuery {
                devbox,
                ..Default::default()
            })
            .href(),
            (View::Snapshots, _) => Page::snapshots().href(),
        };
        Ok(Self {
            start,
            api_base: non_empty("data-api-base").unwrap_or_default(),
            dashboard_url: non_empty("data-dashboard-url"),
        })
    }
}

/// Mounts an embedded app into every `[data-snapdeck]` element of the document.
/// Returns how many it found (0: the caller mounts the full dashboard instead).
pub fn mount_all() -> usize {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return 0;
    };
    let Ok(nodes) = doc.query_selector_all(SELECTOR) else {
        return 0;
    };
    let mut found = 0;
    let mut resumed = false;
    for i in 0..nodes.length() {
        let Some(el) = nodes
            .item(i)
            .and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
        else {
            continue;
        };
        found += 1;
        resumed |= mount_one(el, !resumed);
    }
    found
}

/// Mounts one embed; true when it is an app (not an error note). `resume`: this one
/// resumes the operations a reload interrupted — all embeds of a page share the stored
/// operations list, and one watcher per operation is enough.
fn mount_one(el: web_sys::HtmlElement, resume: bool) -> bool {
    match EmbedConfig::from_attrs(|name| el.get_attribute(name)) {
        Ok(config) => {
            let token = js_sys::Reflect::get(&el, &JsValue::from_str(TOKEN_PROPERTY))
                .ok()
                .and_then(|v| v.as_string())
                .filter(|t| !t.is_empty());
            let host = el.clone();
            leptos::mount::mount_to(el, move || {
                view! { <EmbeddedApp config=config token=token host=host resume_ops=resume /> }
            })
            .forget();
            true
        }
        Err(message) => {
            leptos::mount::mount_to(el, move || view! { <EmbedError message=message /> }).forget();
            false
        }
    }
}

/// Shown in place of the view when the element's attributes are wrong.
#[component]
fn EmbedError(
    /// What is wrong.
    message: String,
) -> impl IntoView {
    view! {
        <div class="sd-root sd-embed">
            <p class="sd-callout sd-callout--warn" role="alert">
                "snapdeck cannot show this view: " {message}
            </p>
        </div>
    }
}

/// The in-memory location of one embed.
#[derive(Clone)]
struct EmbedNav {
    url: ArcRwSignal<Url>,
    dashboard_url: Option<String>,
    /// The mount element (brought into view when the view changes).
    host: web_sys::Element,
}

impl EmbedNav {
    /// Goes to an app path (`/devboxes?status=running`, …): in place when it is the same
    /// view or there is no dashboard to open, else in the dashboard (new tab).
    fn go(&self, href: &str) {
        let Ok(next) = <BrowserUrl as LocationProvider>::parse(href) else {
            return;
        };
        let Some(view) = View::of_path(next.path()) else {
            // Settings and unknown pages only exist in the full dashboard.
            self.open_dashboard(href);
            return;
        };
        let same_view = self.url.with_untracked(|u| View::of_path(u.path())) == Some(view);
        if same_view {
            self.url.set(next);
        } else if self.dashboard_url.is_none() {
            self.url.set(next);
            // A new page starts at its top, as it would in the dashboard.
            if self.host.get_bounding_client_rect().top() < 0.0 {
                self.host.scroll_into_view();
            }
        } else {
            self.open_dashboard(href);
        }
    }

    fn open_dashboard(&self, href: &str) {
        let Some(base) = &self.dashboard_url else {
            return;
        };
        let target = format!("{}{href}", base.trim_end_matches('/'));
        if let Some(w) = web_sys::window() {
            let _ = w.open_with_url_and_target_and_features(&target, "_blank", "noopener");
        }
    }
}

/// True under an embedded app (for behaviour that must not reach the host page, such
/// as window-wide keyboard shortcuts).
pub fn is_embedded() -> bool {
    use_context::<EmbedNav>().is_some()
}

/// Replaces the current URL with `page`'s, for filter and paging edits: no history entry
/// and no scroll jump, inside an embed or not.
pub fn use_replace_page() -> Callback<crate::routes::Page> {
    let navigate = use_navigate();
    Callback::new(move |page: crate::routes::Page| {
        navigate(
            &page.href(),
            NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        )
    })
}

/// Navigation for pages: inside an embed it moves the embed's in-memory location,
/// otherwise it is leptos_router's `use_navigate`.
pub fn use_navigate() -> impl Fn(&str, NavigateOptions) + Clone {
    let embed = use_context::<EmbedNav>();
    let router = embed.is_none().then(leptos_router::hooks::use_navigate);
    move |href: &str, options: NavigateOptions| match (&embed, &router) {
        (Some(nav), _) => nav.go(href),
        (None, Some(navigate)) => navigate(href, options),
        (None, None) => {}
    }
}

/// One embedded view with its own providers (a separate app from the other embeds on
/// the page: each has its own API config and event target).
#[component]
fn EmbeddedApp(
    /// From the element's attributes.
    config: EmbedConfig,
    /// The key or token the host set as a JS property.
    token: Option<String>,
    /// The mount element: events go there, and the host talks to us through it.
    host: web_sys::HtmlElement,
    /// Resume operations left running by a reload.
    resume_ops: bool,
) -> impl IntoView {
    // Settings come from the element, never from or to storage.
    let settings = SettingsCtx {
        settings: RwSignal::new(Settings {
            base_url: config.api_base.clone(),
            theme: Theme::System,
            remember_key: false,
        }),
        api_key: RwSignal::new(token),
    };
    provide_context(settings);
    let api = provide_api(settings);
    provide_now();
    let toasts = provide_toasts();
    let statuses = provide_statuses(api);
    let version = provide_refresh();
    let ops = provide_ops(api, statuses, version, toasts);
    if resume_ops {
        ops.resume();
    }
    EventHost::provide(host.clone().into());
    events::forward_ops(ops);
    // Embeds on one page are separate apps: what one changes, the others refetch.
    for name in [
        events::SNAPSHOT_COMPLETE,
        events::DEVBOX_RESTORED,
        events::CLEANUP_FINISHED,
    ] {
        // Never removed: embeds live as long as the page.
        let _ = window_event_listener_untyped(name, move |_| version.bump());
    }
    listen_for_token(&host, settings.api_key);

    // The in-memory location, read by use_query_map / use_params_map.
    let start = <BrowserUrl as LocationProvider>::parse(&config.start).unwrap_or_default();
    let url = ArcRwSignal::new(start);
    let params = {
        let url = url.clone();
        ArcMemo::new(move |_| url.with(|u| path_params(u.path())))
    };
    provide_context(url.clone());
    provide_context(params);
    let nav = EmbedNav {
        url: url.clone(),
        dashboard_url: config.dashboard_url.clone(),
        host: host.clone().into(),
    };
    provide_context(nav.clone());
    route_link_clicks(&host, nav);

    let view_of = {
        let url = url.clone();
        Memo::new(move |_| url.with(|u| View::of_path(u.path())))
    };
    view! {
        <div class=move || {
            format!("sd-root sd-embed sd-embed--{}", view_of.get().map_or("none", View::class))
        }>
            {move || match view_of.get() {
                Some(View::Devboxes) => view! { <DevboxesPage /> }.into_any(),
                Some(View::Timeline) => view! { <DevboxPage /> }.into_any(),
                Some(View::Cleanup) => view! { <CleanupPage /> }.into_any(),
                Some(View::Snapshots) => view! { <SnapshotsPage /> }.into_any(),
                None => ().into_any(),
            }}
            <ToastStack />
        </div>
    }
}

/// Route params of an app path (the devbox page's `:id`).
fn path_params(path: &str) -> ParamsMap {
    let mut p = ParamsMap::new();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if let ["devboxes", id] = segs.as_slice() {
        p.insert("id", Url::unescape(id));
    }
    p
}

/// `snapdeck:set-token` on the element replaces the key (kept in memory only).
fn listen_for_token(host: &web_sys::HtmlElement, key: RwSignal<Option<String>>) {
    let on_token = Closure::<dyn Fn(web_sys::CustomEvent)>::new(move |ev: web_sys::CustomEvent| {
        let token = js_sys::Reflect::get(&ev.detail(), &JsValue::from_str("token"))
            .ok()
            .and_then(|v| v.as_string())
            .filter(|t| !t.is_empty());
        if key.try_get_untracked().is_some_and(|cur| cur != token) {
            key.set(token);
        }
    });
    let _ = host.add_event_listener_with_callback(SET_TOKEN, on_token.as_ref().unchecked_ref());
    // The listener lives as long as the element: embeds are never unmounted.
    on_token.forget();
}

/// Routes clicks on the app's own links (`href="/…"`) inside the element through the
/// embed instead of letting the browser load them on the host's origin.
fn route_link_clicks(host: &web_sys::HtmlElement, nav: EmbedNav) {
    let root: web_sys::Element = host.clone().into();
    let on_click = Closure::<dyn Fn(web_sys::MouseEvent)>::new(move |ev: web_sys::MouseEvent| {
        if ev.default_prevented()
            || ev.button() != 0
            || ev.meta_key()
            || ev.ctrl_key()
            || ev.shift_key()
            || ev.alt_key()
        {
            return;
        }
        let Some(a) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest("a[href]").ok().flatten())
        else {
            return;
        };
        if !root.contains(Some(&a)) || a.has_attribute("target") || a.has_attribute("download") {
            return;
        }
        let Some(href) = a.get_attribute("href") else {
            return;
        };
        if href.starts_with('/') && !href.starts_with("//") {
            ev.prevent_default();
            nav.go(&href);
        }
    });
    let _ = host.add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
    on_click.forget();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn a_timeline_embed_starts_on_its_devbox_page() {
        let c = EmbedConfig::from_attrs(attrs(&[
            ("data-view", "timeline"),
            ("data-devbox", "dbx_1"),
            ("data-api-base", "https://api.example"),
        ]))
        .expect("valid attributes");
        assert_eq!(c.start, "/devboxes/dbx_1");
        assert_eq!(c.api_base, "https://api.example");
        assert_eq!(c.dashboard_url, None);
    }

    #[test]
    fn a_timeline_without_a_devbox_is_refused_with_a_reason() {
        let e =
            EmbedConfig::from_attrs(attrs(&[("data-view", "timeline")])).expect_err("no devbox");
        assert!(e.contains("data-devbox"));
    }

    #[test]
    fn no_view_means_the_devbox_list_and_cleanup_takes_a_scope() {
        let list = EmbedConfig::from_attrs(attrs(&[])).expect("defaults");
        assert_eq!(list.start, "/devboxes");
        let c =
            EmbedConfig::from_attrs(attrs(&[("data-view", "cleanup"), ("data-devbox", "dbx_9")]))
                .expect("cleanup with a scope");
        assert_eq!(c.start, "/cleanup?devbox=dbx_9&keep=3");
    }

    #[test]
    fn paths_map_to_the_views_an_embed_can_show() {
        assert_eq!(View::of_path("/devboxes"), Some(View::Devboxes));
        assert_eq!(View::of_path("/devboxes/dbx_1"), Some(View::Timeline));
        assert_eq!(View::of_path("/cleanup"), Some(View::Cleanup));
        assert_eq!(View::of_path("/settings"), None);
    }
}
