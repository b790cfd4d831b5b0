//! Keyboard shortcuts: `?` shows this list; `g` then `d`/`s`/`b`/`c` goes to Devboxes,
//! Snapshots, Blueprints or Cleanup; `n` (on pages that start devboxes) opens New devbox. (`/` focusing search lives on the pages that have one.)

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::components::modal::Modal;
use crate::hooks::use_nav::use_nav;
use crate::routes::Page;

const SHORTCUTS: [(&str, &str); 9] = [
    ("?", "Show these shortcuts"),
    ("/", "Search (devbox list)"),
    ("g d", "Go to Devboxes"),
    ("g s", "Go to Snapshots"),
    ("g b", "Go to Blueprints"),
    ("g c", "Go to Cleanup"),
    ("n", "New devbox (Devboxes, a blueprint)"),
    ("Enter", "Submit a dialog"),
    ("Esc", "Close a dialog"),
];

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
                    <dl class="sd-dl sd-shortcuts">
                        {SHORTCUTS
                            .iter()
                            .map(|(k, what)| {
                                view! {
                                    <dt>
                                        {k.split(' ').map(|part| view! { <kbd class="sd-kbd">{part}</kbd>" " }).collect_view()}
                                    </dt>
                                    <dd>{*what}</dd>
                                }
                            })
                            .collect_view()}
                    </dl>
                </div>
                <div class="sd-modal__foot">
                    <button type="button" class="sd-btn" on:click=move |_| open.set(false)>"Close"</button>
                </div>
            </Modal>
        </Show>
    }
}
