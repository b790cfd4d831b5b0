//! The full dashboard: one provider setup ([`AppContext::provide`]), the frame, and the
//! router's location turned into a [`Page`] ([`Nav`]) that the frame switches on.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::path;

use crate::components::{OpsTray, PaletteHost, Shortcuts, ToastStack, TopBar};
use crate::context::{AppContext, Mount};
use crate::hooks::use_nav::Nav;
use crate::hooks::use_settings::SettingsCtx;
use crate::pages::page_view;
use crate::routes::Page;

/// The whole dashboard. Everything lives under `.sd-root`, so the styles never leak
/// into a host page that embeds it.
#[component]
pub fn App() -> impl IntoView {
    // Settings first: the API handle follows them.
    let settings = SettingsCtx::load();
    AppContext::provide(
        settings,
        Mount {
            events_on: None,
            resume_ops: true,
        },
    );
    let theme = move || settings.settings.with(|s| s.theme.attr());
    view! {
        <div class="sd-root" data-theme=theme>
            <Router>
                <Frame />
            </Router>
        </div>
    }
}

/// The frame under the router: the browser URL read once into a [`Page`], the top bar,
/// the page of that kind (kept mounted while only its query changes), the tray.
#[component]
fn Frame() -> impl IntoView {
    let location = use_location();
    let page =
        Memo::new(move |_| Page::from_parts(&location.pathname.get(), &location.search.get()));
    let navigate = use_navigate();
    Nav::provide(
        page,
        move |href, replace| {
            navigate(
                &href,
                NavigateOptions {
                    replace,
                    scroll: !replace,
                    ..Default::default()
                },
            )
        },
        false,
    );
    view! {
        <TopBar />
        <main class="sd-main" id="sd-main">
            // One route matching every path: leptos_router completes a navigation (pushes
            // the history entry) only through <Routes>, but which page shows is decided by
            // the route table in `Page`, here and in the embeds alike.
            <Routes fallback=CurrentPage>
                <Route path=path!("/*any") view=CurrentPage />
            </Routes>
        </main>
        <OpsTray />
        <Shortcuts />
        <PaletteHost />
        <ToastStack />
    }
}

/// The page the URL names (not-found for a path no page has), swapped only when the
/// kind of page changes: a query change keeps it mounted.
#[component]
fn CurrentPage() -> impl IntoView {
    let nav = crate::hooks::use_nav::use_nav();
    let kind = Memo::new(move |_| nav.kind());
    move || page_view(kind.get())
}
