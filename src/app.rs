//! The app root: providers (settings, API, clock, toasts, statuses, operations), the
//! frame and the router.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::api::provide_api;
use crate::components::{OpsTray, Shortcuts, ToastStack, TopBar};
use crate::hooks::use_now::provide_now;
use crate::hooks::use_ops::provide_ops;
use crate::hooks::use_refresh::provide_refresh;
use crate::hooks::use_settings::SettingsCtx;
use crate::hooks::use_statuses::provide_statuses;
use crate::hooks::use_toasts::provide_toasts;
use crate::pages::{
    CleanupPage, DevboxPage, DevboxesPage, NotFoundPage, SettingsPage, SnapshotsPage,
};

/// The whole dashboard. Everything lives under `.sd-root`, so the styles never leak
/// into a host page that embeds it.
#[component]
pub fn App() -> impl IntoView {
    // Settings first: the API handle follows them.
    let settings = SettingsCtx::load();
    provide_context(settings);
    let api = provide_api(settings);
    provide_now();
    let toasts = provide_toasts();
    let statuses = provide_statuses(api);
    let version = provide_refresh();
    let ops = provide_ops(api, statuses, version, toasts);
    // Pick up snapshots and restores that were running when the page was closed.
    ops.resume();
    crate::events::forward_ops(ops);

    let theme = move || settings.settings.with(|s| s.theme.attr());
    view! {
        <div class="sd-root" data-theme=theme>
            <Router>
                <TopBar />
                <main class="sd-main" id="sd-main">
                    <Routes fallback=|| view! { <NotFoundPage /> }>
                        <Route path=path!("/") view=DevboxesPage />
                        <Route path=path!("/devboxes") view=DevboxesPage />
                        <Route path=path!("/devboxes/:id") view=DevboxPage />
                        <Route path=path!("/snapshots") view=SnapshotsPage />
                        <Route path=path!("/cleanup") view=CleanupPage />
                        <Route path=path!("/settings") view=SettingsPage />
                    </Routes>
                </main>
                <OpsTray />
                <Shortcuts />
                <ToastStack />
            </Router>
        </div>
    }
}
