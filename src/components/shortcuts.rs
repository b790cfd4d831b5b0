//! Keyboard shortcuts: `?` shows snapdeck-core's one table of them
//! ([`snapdeck_core::keys::SHORTCUTS`], which the command palette reads too); `g` then
//! `d`/`s`/`b`/`c` goes to Devboxes, Snapshots, Blueprints or Cleanup. `n` (on pages that
//! start devboxes), `/` (pages with a search), the list keys and `Ctrl-K` are handled
//! where they act.

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::components::modal::Modal;
use crate::hooks::use_nav::use_nav;
use crate::routes::Page;
use snapdeck_core::keys::{Area, SHORTCUTS, parts};

/// A shortcut's keys as key caps (`g d` → two caps; the `/` between alternatives
/// stays a word).
#[component]
pub fn KeyCaps(
    /// The keys as the shortcut table writes them.
    keys: &'static str,
) -> impl IntoView {
    let parts = parts(keys);
    // `/` alone is the search key; between keys it separates alternatives.
    let alternatives = parts.len() > 1;
    parts
        .into_iter()
        .map(|part| {
            if alternatives && part == "/" {
                view! { <span class="sd-muted">" or "</span> }.into_any()
            } else {
                view! { <kbd class="sd-kbd">{part}</kbd>" " }.into_any()
            }
        })
        .collect_view()
}

/// True when a key event comes from somewhere the person types.
pub fn typing_in_field(e: &web_sys::KeyboardEvent) -> bool {
    e.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|el| {
            matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                || el.has_attribute("contenteditable")
        })
}

/// Listens for the global shortcuts and shows the help dialog on `?`.
#[component]
pub fn Shortcuts() -> impl IntoView {
    let open = RwSignal::new(false);
    let pending_g = StoredValue::new(false);
    let nav = use_nav();
    let handle = window_event_listener(ev::keydown, move |e| {
        if typing_in_field(&e) || e.ctrl_key() || e.meta_key() || e.alt_key() {
            return;
        }
        let key = e.key();
        if pending_g.get_value() {
            pending_g.set_value(false);
            let target = match key.as_str() {
                "d" => Some(Page::devboxes()),
                "s" => Some(Page::snapshots()),
                "b" => Some(Page::blueprints()),
                "c" => Some(Page::cleanup()),
                _ => None,
            };
            if let Some(p) = target {
                e.prevent_default();
                nav.go(&p);
            }
            return;
        }
        match key.as_str() {
            "?" => {
                e.prevent_default();
                open.update(|o| *o = !*o);
            }
            "g" => pending_g.set_value(true),
            _ => {}
        }
    });
    on_cleanup(move || handle.remove());
    view! {
        <Show when=move || open.get()>
            <Modal title="Keyboard shortcuts" on_close=move |_| open.set(false)>
                <div class="sd-modal__body">
                    {Area::ALL
                        .into_iter()
                        .map(|area| {
                            view! {
                                <h3 class="sd-h3 sd-shortcuts__area">{area.heading()}</h3>
                                <dl class="sd-dl sd-shortcuts" data-testid="shortcut-table">
                                    {SHORTCUTS
                                        .iter()
                                        .filter(|s| s.area == area)
                                        .map(|s| {
                                            view! {
                                                <dt>
                                                    <KeyCaps keys=s.keys />
                                                </dt>
                                                <dd>{s.what}</dd>
                                            }
                                        })
                                        .collect_view()}
                                </dl>
                            }
                        })
                        .collect_view()}
                </div>
                <div class="sd-modal__foot">
                    <button type="button" class="sd-btn" on:click=move |_| open.set(false)>"Close"</button>
                </div>
            </Modal>
        </Show>
    }
}
