//! `/settings`: API base URL, API key (session or remembered), theme.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::use_api;
use crate::hooks::use_settings::{
    DEFAULT_UNDO_SECONDS, MAX_UNDO_SECONDS, Settings, Theme, use_settings,
};
use crate::hooks::use_title::use_title;
use crate::hooks::use_toasts::{Tone, use_toasts};

/// The settings form. Saving applies at once; every page refetches with the new
/// connection.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let ctx = use_settings();
    let api = use_api();
    let toasts = use_toasts();
    let current = ctx.settings.get_untracked();
    let base_url = RwSignal::new(current.base_url.clone());
    let key = RwSignal::new(ctx.api_key.get_untracked().unwrap_or_default());
    let remember = RwSignal::new(current.remember_key);
    let theme = RwSignal::new(current.theme);
    let undo = RwSignal::new(current.undo_seconds.to_string());
    let notify = RwSignal::new(current.notify);
    let undo_error = move || {
        undo.with(|u| match u.trim().parse::<u32>() {
            Ok(n) if n <= MAX_UNDO_SECONDS => None,
            _ => Some(format!(
                "A whole number of seconds, 0 to {MAX_UNDO_SECONDS}."
            )),
        })
    };
    use_title(|| "Settings".into());

    let url_error = move || {
        let u = base_url.get();
        let u = u.trim();
        (!(u.is_empty() || u.starts_with("http://") || u.starts_with("https://"))).then_some(
            "Use a full URL starting with http:// or https://, or leave empty for this origin.",
        )
    };

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if url_error().is_some() || undo_error().is_some() {
            return;
        }
        let settings = Settings {
            base_url: base_url
                .get_untracked()
                .trim()
                .trim_end_matches('/')
                .to_string(),
            theme: theme.get_untracked(),
            remember_key: remember.get_untracked(),
            undo_seconds: undo
                .get_untracked()
                .trim()
                .parse()
                .unwrap_or(DEFAULT_UNDO_SECONDS),
            notify: notify.get_untracked(),
        };
        let k = key.get_untracked().trim().to_string();
        ctx.save(settings, (!k.is_empty()).then_some(k));
        spawn_local(async move {
            match api.check().await {
                Ok(()) => toasts.push(Tone::Ok, "Settings saved — the API accepts the key."),
                Err(e) => toasts.push(Tone::Err, format!("Settings saved, but: {e}")),
            }
        });
    };

    view! {
        <section class="sd-page sd-page--narrow">
            <h1 class="sd-h1">"Settings"</h1>
            <form class="sd-form" on:submit=on_submit>
                <fieldset class="sd-fieldset">
                    <legend>"Connection"</legend>
                    <BaseUrlField base_url=base_url error=Signal::derive(url_error) />
                    <KeyField key=key remember=remember />
                </fieldset>
                <fieldset class="sd-fieldset">
                    <legend>"Deleting"</legend>
                    <UndoField undo=undo error=Signal::derive(undo_error) />
                    <NotifyField notify=notify />
                </fieldset>
                <fieldset class="sd-fieldset">
                    <legend>"Theme"</legend>
                    <ThemeField theme=theme />
                </fieldset>
                <div class="sd-row">
                    <button type="submit" class="sd-btn sd-btn--primary">"Save"</button>
                </div>
            </form>
        </section>
    }
}

/// The API base URL, with what an empty one means.
#[component]
fn BaseUrlField(
    /// The URL being edited.
    base_url: RwSignal<String>,
    /// Why it is not a usable URL, if it is not.
    error: Signal<Option<&'static str>>,
) -> impl IntoView {
    view! {
        <div class="sd-field">
            <label for="sd-base-url">"API base URL"</label>
            <input
                id="sd-base-url"
                class="sd-input"
                type="url"
                placeholder="same origin (emulator or proxy)"
                prop:value=move || base_url.get()
                on:input=move |e| base_url.set(event_target_value(&e))
                aria-describedby="sd-base-url-help"
            />
            <p id="sd-base-url-help" class="sd-help">
                {move || {
                    error.get()
                        .unwrap_or(
                            "Leave empty to use the server this page came from (snapdeck-server or the edge worker). Or e.g. https://api.runloop.ai — the API must allow this origin (CORS).",
                        )
                }}
            </p>
        </div>
    }
}

/// The API key: shown or hidden, kept for the tab or remembered.
#[component]
fn KeyField(
    /// The key being edited.
    key: RwSignal<String>,
    /// Keep it in localStorage.
    remember: RwSignal<bool>,
) -> impl IntoView {
    let show_key = RwSignal::new(false);
    view! {
        <div class="sd-field">
            <label for="sd-api-key">"API key"</label>
            <div class="sd-row">
                <input
                    id="sd-api-key"
                    class="sd-input sd-grow"
                    type=move || if show_key.get() { "text" } else { "password" }
                    autocomplete="off"
                    spellcheck="false"
                    prop:value=move || key.get()
                    on:input=move |e| key.set(event_target_value(&e))
                />
                <button
                    type="button"
                    class="sd-btn sd-btn--ghost"
                    aria-pressed=move || show_key.get().to_string()
                    on:click=move |_| show_key.update(|s| *s = !*s)
                >
                    {move || if show_key.get() { "Hide" } else { "Show" }}
                </button>
            </div>
            <label class="sd-check">
                <input
                    type="checkbox"
                    prop:checked=move || remember.get()
                    on:change=move |e| remember.set(event_target_checked(&e))
                />
                "Remember on this device"
            </label>
            <p class="sd-help">
                "Without this the key lives only as long as this tab (sessionStorage). With it, the key is kept in this browser's localStorage."
            </p>
        </div>
    }
}

/// System, light or dark; applied as soon as it is picked.
#[component]
fn ThemeField(
    /// The theme being edited.
    theme: RwSignal<Theme>,
) -> impl IntoView {
    let ctx = use_settings();
    view! {
        <div class="sd-radios">
            {[Theme::System, Theme::Light, Theme::Dark]
                .into_iter()
                .map(|t| {
                    view! {
                        <label class="sd-check">
                            <input
                                type="radio"
                                name="sd-theme"
                                prop:checked=move || theme.get() == t
                                on:change=move |_| {
                                    theme.set(t);
                                    ctx.set_theme(t);
                                }
                            />
                            {t.label()}
                        </label>
                    }
                })
                .collect_view()}
        </div>
    }
}

/// How long a delete started here waits, with Undo, before anything is sent.
#[component]
fn UndoField(
    /// The seconds being edited.
    undo: RwSignal<String>,
    /// Why it is not usable, if it is not.
    error: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <div class="sd-field">
            <label for="sd-undo">"Undo window (seconds)"</label>
            <input
                id="sd-undo"
                class="sd-input sd-policy__num"
                type="number"
                min="0"
                max=MAX_UNDO_SECONDS.to_string()
                inputmode="numeric"
                data-testid="settings-undo"
                aria-invalid=move || error.with(Option::is_some).then_some("true")
                aria-describedby="sd-undo-help"
                prop:value=move || undo.get()
                on:input=move |e| undo.set(event_target_value(&e))
            />
            <p id="sd-undo-help" class=move || if error.with(Option::is_some) { "sd-formerror" } else { "sd-help" }>
                {move || error.get().unwrap_or_else(|| {
                    "Deletes you start wait this long before anything is sent, with Undo in the toast and the operations tray. 0 turns it off. Scheduled (edge) cleanups have no window.".into()
                })}
            </p>
        </div>
    }
}

/// Notifications when a delete ends while the tab is hidden; ticking it asks the
/// browser's permission, and says when the browser refuses.
#[component]
fn NotifyField(
    /// The choice being edited.
    notify: RwSignal<bool>,
) -> impl IntoView {
    let permission = RwSignal::new(web_sys::Notification::permission());
    let ask = move || {
        if let Ok(p) = web_sys::Notification::request_permission() {
            leptos::task::spawn_local(async move {
                let _ = wasm_bindgen_futures::JsFuture::from(p).await;
                permission.set(web_sys::Notification::permission());
            });
        }
    };
    view! {
        <div class="sd-field">
            <label class="sd-check">
                <input
                    type="checkbox"
                    data-testid="settings-notify"
                    prop:checked=move || notify.get()
                    on:change=move |e| {
                        let on = event_target_checked(&e);
                        notify.set(on);
                        if on {
                            ask();
                        }
                    }
                />
                "Notify me when a delete I started finishes while this tab is hidden"
            </label>
            <Show when=move || notify.get() && permission.get() == web_sys::NotificationPermission::Denied>
                <p class="sd-formerror" role="alert">
                    "This browser blocks notifications from this page; allow them in its site settings."
                </p>
            </Show>
        </div>
    }
}
