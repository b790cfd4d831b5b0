//! The full dashboard: one provider setup ([`AppContext::provide`]), the frame, and the
//! router's location turned into a [`Page`] ([`Nav`]) that the frame switches on.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::Router;
use leptos_router::hooks::{use_location, use_navigate};

use crate::components::{OpsTray, Shortcuts, ToastStack, TopBar};
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
    let nav = Nav::provide(
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
    let kind = Memo::new(move |_| nav.kind());
    view! {
        <TopBar />
        <main class="sd-main" id="sd-main">
            {move || page_view(kind.get())}
        </main>
        <OpsTray />
        <Shortcuts />
        <ToastStack />
    }
}
