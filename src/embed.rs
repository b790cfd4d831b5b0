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
//! host's included. Instead each embed keeps its own in-memory URL, read into a
//! [`Page`] by the same route table as the dashboard's, and provides the same
//! [`Nav`] the pages read and move with. Clicks on the app's own links (`href="/…"`)
//! inside the mount element are routed the same way; the host's URL and links are
//! never touched.
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
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use crate::components::ToastStack;
use crate::context::{AppContext, Mount};
use crate::events;
use crate::hooks::use_nav::Nav;
use crate::hooks::use_settings::{
    DEFAULT_UNDO_SECONDS, MAX_UNDO_SECONDS, Settings, SettingsCtx, Theme,
};
use crate::pages::page_view;
use crate::routes::{CleanupQuery, Page, PageKind};

/// The marker attribute of mount elements.
pub const SELECTOR: &str = "[data-snapdeck]";
/// The event that hands the embed a new API key or token.
pub const SET_TOKEN: &str = "snapdeck:set-token";
/// The JS property a host may set on the element before the app loads.
const TOKEN_PROPERTY: &str = "snapdeckToken";

/// Reads `data-view`: the kinds of page an embed can show.
pub fn parse_view(s: &str) -> Option<PageKind> {
    match s.trim() {
        "devboxes" => Some(PageKind::Devboxes),
        "timeline" | "devbox" => Some(PageKind::Devbox),
        "cleanup" => Some(PageKind::Cleanup),
        "snapshots" => Some(PageKind::Snapshots),
        _ => None,
    }
}

/// The kind of page an embed shows for an app URL (`None`: not shown in embeds, e.g.
/// settings, or no page at all).
pub fn view_of(href: &str) -> Option<PageKind> {
    Page::parse(href).map(|p| p.kind()).filter(|k| {
        !matches!(
            k,
            PageKind::Settings
                | PageKind::Audit
                | PageKind::Blueprints
                | PageKind::Blueprint
                | PageKind::Fanouts
                | PageKind::Fanout
                | PageKind::Lineage
        )
    })
}

fn view_class(kind: PageKind) -> &'static str {
    match kind {
        PageKind::Devboxes => "devboxes",
        PageKind::Devbox => "timeline",
        PageKind::Cleanup => "cleanup",
        PageKind::Snapshots => "snapshots",
        PageKind::Snapshot => "snapshot",
        PageKind::Audit => "audit",
        PageKind::Settings => "settings",
        PageKind::Blueprints | PageKind::Blueprint => "blueprints",
        PageKind::Fanouts | PageKind::Fanout => "fanouts",
        PageKind::Lineage => "lineage",
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
    /// `data-undo-seconds`: how long a delete started in the embed waits, with Undo,
    /// before anything is sent (default 10; 0 turns it off).
    pub undo_seconds: u32,
}

impl EmbedConfig {
    /// Builds the config from attribute values (`get` returns an attribute by name).
    pub fn from_attrs(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let non_empty = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let view_attr = non_empty("data-view").unwrap_or_else(|| "devboxes".into());
        let view = parse_view(&view_attr).ok_or_else(|| {
            format!("unknown data-view “{view_attr}” (devboxes, timeline, cleanup, snapshots)")
        })?;
        let devbox = non_empty("data-devbox");
        let start = match (view, devbox) {
            (PageKind::Devbox, Some(id)) => Page::devbox(id).href(),
            (PageKind::Devbox, None) => {
                return Err("data-view=\"timeline\" needs data-devbox".into());
            }
            (PageKind::Cleanup, devbox) => Page::Cleanup(CleanupQuery {
                devbox,
                ..Default::default()
            })
            .href(),
            (PageKind::Snapshots, _) => Page::snapshots().href(),
            (
                PageKind::Devboxes
                | PageKind::Snapshot
                | PageKind::Audit
                | PageKind::Settings
                | PageKind::Blueprints
                | PageKind::Blueprint
                | PageKind::Fanouts
                | PageKind::Fanout
                | PageKind::Lineage,
                _,
            ) => Page::devboxes().href(),
        };
        let undo_seconds = match non_empty("data-undo-seconds") {
            None => DEFAULT_UNDO_SECONDS,
            Some(v) => v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n <= MAX_UNDO_SECONDS)
                .ok_or_else(|| {
                    format!("data-undo-seconds “{v}” must be a whole number from 0 to {MAX_UNDO_SECONDS}")
                })?,
        };
        Ok(Self {
            start,
            api_base: non_empty("data-api-base").unwrap_or_default(),
            dashboard_url: non_empty("data-dashboard-url"),
            undo_seconds,
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
    /// The current app URL (path and query).
    url: RwSignal<String>,
    dashboard_url: Option<String>,
    /// The mount element (brought into view when the view changes).
    host: web_sys::Element,
}

impl EmbedNav {
    /// Goes to an app path (`/devboxes?status=running`, …): in place when it is the same
    /// view or there is no dashboard to open, else in the dashboard (new tab).
    fn go(&self, href: &str) {
        let Some(view) = view_of(href) else {
            // Settings and unknown pages only exist in the full dashboard.
            self.open_dashboard(href);
            return;
        };
        let same_view = self.url.with_untracked(|u| view_of(u)) == Some(view);
        if same_view {
            self.url.set(href.to_owned());
        } else if self.dashboard_url.is_none() {
            self.url.set(href.to_owned());
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
            undo_seconds: config.undo_seconds,
            notify: false,
        }),
        api_key: RwSignal::new(token),
    };
    let app = AppContext::provide(
        settings,
        Mount {
            events_on: Some(host.clone().into()),
            resume_ops,
        },
    );
    // Embeds on one page are separate apps: what one changes, the others refetch.
    let version = app.version;
    for name in [
        events::SNAPSHOT_COMPLETE,
        events::DEVBOX_RESTORED,
        events::CLEANUP_FINISHED,
    ] {
        // Never removed: embeds live as long as the page.
        let _ = window_event_listener_untyped(name, move |_| version.bump());
    }
    listen_for_token(&host, settings.api_key);

    // The in-memory location, read by the same route table as the dashboard's.
    let url = RwSignal::new(config.start.clone());
    let page = Memo::new(move |_| url.with(|u| Page::parse(u)));
    let embed_nav = EmbedNav {
        url,
        dashboard_url: config.dashboard_url.clone(),
        host: host.clone().into(),
    };
    let nav = {
        let embed_nav = embed_nav.clone();
        Nav::provide(page, move |href, _replace| embed_nav.go(&href), true)
    };
    route_link_clicks(&host, embed_nav);

    let kind = Memo::new(move |_| nav.kind().filter(|k| *k != PageKind::Settings));
    view! {
        <div class=move || {
            format!("sd-root sd-embed sd-embed--{}", kind.get().map_or("none", view_class))
        }>
            {move || match kind.get() {
                Some(k) => page_view(Some(k)),
                None => ().into_any(),
            }}
            <ToastStack />
        </div>
    }
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
    fn the_undo_window_is_ten_seconds_unless_the_host_says_otherwise() {
        assert_eq!(
            EmbedConfig::from_attrs(attrs(&[]))
                .expect("defaults")
                .undo_seconds,
            10
        );
        let off = EmbedConfig::from_attrs(attrs(&[("data-undo-seconds", "0")])).expect("off");
        assert_eq!(off.undo_seconds, 0);
        let e = EmbedConfig::from_attrs(attrs(&[("data-undo-seconds", "soon")]))
            .expect_err("not a number");
        assert!(e.contains("data-undo-seconds"), "{e}");
        assert!(EmbedConfig::from_attrs(attrs(&[("data-undo-seconds", "9999")])).is_err());
    }

    #[test]
    fn paths_map_to_the_views_an_embed_can_show() {
        assert_eq!(view_of("/devboxes"), Some(PageKind::Devboxes));
        assert_eq!(view_of("/devboxes/dbx_1"), Some(PageKind::Devbox));
        assert_eq!(view_of("/cleanup"), Some(PageKind::Cleanup));
        assert_eq!(view_of("/settings"), None);
    }
}
