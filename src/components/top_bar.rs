//! The top bar: brand, navigation, which API the app talks to and whether the key
//! works, settings and theme. A bad key or an unreachable API adds a red line that
//! says what to do.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_location;

use crate::api::{Health, Target, use_api};
use crate::components::icon::{Icon, IconKind};
use crate::hooks::use_interval::use_interval;
use crate::hooks::use_settings::use_settings;
use crate::routes::Page;

/// One navigation link, marked current when the path starts with its own.
#[component]
fn NavLink(
    /// Where it goes.
    href: String,
    /// Path prefix that makes it current.
    prefix: &'static str,
    /// Label.
    label: &'static str,
) -> impl IntoView {
    let location = use_location();
    let current = move || {
        let p = location.pathname.get();
        p.starts_with(prefix) || (prefix == "/devboxes" && p == "/")
    };
    view! {
        <a class="sd-nav__link" href=href aria-current=move || current().then_some("page")>
            {label}
        </a>
    }
}

/// The frame's top bar.
#[component]
pub fn TopBar() -> impl IntoView {
    let api = use_api();
    let settings = use_settings();
    let target = RwSignal::new(api.target());
    let health = api.health();

    // Re-probe whenever the base URL or key changes, and every 20 s while the bar is
    // red so it turns green by itself once the API is back.
    let probe = move || {
        spawn_local(async move {
            let t = api.probe_target().await;
            target.set(t);
            let _ = api.check().await;
        });
    };
    Effect::new(move |_| {
        let _config = api.track();
        probe();
    });
    use_interval(20_000, move || {
        if health.with_untracked(Health::is_bad) {
            probe();
        }
    });

    let theme = move || settings.settings.with(|s| s.theme);
    let dot = move || match health.get() {
        Health::Ok => "ok",
        Health::Checking => "busy",
        _ => "err",
    };
    let status_text = move || match health.get() {
        Health::Ok => "ok",
        Health::Checking => "checking",
        Health::NoKey => "no key",
        Health::BadKey(_) => "key refused",
        Health::Unreachable(_) => "unreachable",
    };
    let pill_title = move || {
        let t = target.get();
        match t {
            Target::Direct(_) => format!("Talking directly to {}", t.label()),
            _ => format!("Talking to the {} on this origin", t.label()),
        }
    };

    view! {
        <header class="sd-topbar" class:sd-topbar--bad=move || health.get().is_bad()>
            <div class="sd-topbar__inner">
                <a class="sd-brand" href=Page::devboxes().href()>
                    <span class="sd-brand__mark" aria-hidden="true">"◧"</span>
                    "snapdeck"
                </a>
                <nav class="sd-nav" aria-label="Main">
                    <NavLink href=Page::devboxes().href() prefix="/devboxes" label="Devboxes" />
                    <NavLink href=Page::snapshots().href() prefix="/snapshots" label="Snapshots" />
                    <NavLink href=Page::blueprints().href() prefix="/blueprints" label="Blueprints" />
                    <NavLink href=Page::fanouts().href() prefix="/fanouts" label="Fan-outs" />
                    <NavLink href=Page::lineage().href() prefix="/lineage" label="Lineage" />
                    <NavLink href=Page::cleanup().href() prefix="/cleanup" label="Cleanup" />
                    <NavLink href=Page::Audit(Default::default()).href() prefix="/audit" label="Audit" />
                </nav>
                <span class="sd-topbar__spacer"></span>
                <a
                    class="sd-target"
                    href=Page::Settings.href()
                    title=pill_title
                    data-testid="api-target"
                    data-health=status_text
                >
                    <span class="sd-target__name">{move || target.get().label()}</span>
                    <span class=move || format!("sd-dot sd-dot--{}", dot())></span>
                    <span class="sd-target__status">{status_text}</span>
                </a>
                <a class="sd-iconbtn sd-topbar__btn" href=Page::Settings.href() aria-label="Settings" title="Settings">
                    <Icon kind=IconKind::Gear />
                </a>
                <button
                    type="button"
                    class="sd-iconbtn sd-topbar__btn"
                    aria-label=move || format!("Theme: {} (click to change)", theme().label())
                    title=move || format!("Theme: {}", theme().label())
                    on:click=move |_| settings.set_theme(theme().next())
                >
                    <Icon kind=IconKind::Contrast />
                </button>
            </div>
            <HealthBanner health=health target=target.into() />
        </header>
    }
}

/// The red line under the bar: one sentence saying what to do.
#[component]
fn HealthBanner(
    /// Current health.
    health: Signal<Health>,
    /// Where calls go (the emulator takes any key).
    target: Signal<Target>,
) -> impl IntoView {
    let message = move || {
        match health.get() {
        Health::NoKey if target.get() == Target::Emulator => Some(
            "No API key is set. Add one in Settings (the emulator accepts any key).".to_string(),
        ),
        Health::NoKey if target.get() == Target::Proxy => Some(
            "This server holds the Runloop key and asks for its access token: open the URL snapdeck-server printed when it started (…/?token=…), or paste the token in Settings as the API key.".to_string(),
        ),
        Health::NoKey => {
            Some("No API key is set. Add your Runloop API key in Settings.".to_string())
        }
        Health::BadKey(m) => Some(format!(
            "The API refused the key ({m}). Check the API key in Settings."
        )),
        Health::Unreachable(m) => Some(format!(
            "The API is unreachable ({m}). Check the API base URL in Settings, or that the server is running."
        )),
        _ => None,
    }
    };
    view! {
        <div class="sd-banner-slot" aria-live="assertive">
            {move || {
                message()
                    .map(|m| {
                        view! {
                            <div class="sd-banner sd-banner--err" role="alert" data-testid="health-banner">
                                <span>{m}</span>
                                <a class="sd-banner__link" href=Page::Settings.href()>
                                    "Open settings"
                                </a>
                            </div>
                        }
                    })
            }}
        </div>
    }
}
