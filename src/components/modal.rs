//! Dialogs: focus moves inside on open and stays there (Tab wraps), Esc and the
//! backdrop close, and the opener gets focus back on close.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

const FOCUSABLE: &str = "button:not([disabled]), [href], input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex=\"-1\"])";

fn focusables(root: &web_sys::Element) -> Vec<web_sys::HtmlElement> {
    let Ok(list) = root.query_selector_all(FOCUSABLE) else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
        .collect()
}

/// A modal dialog. Render it only while open (e.g. inside `<Show>`).
#[component]
pub fn Modal(
    /// Title, also the dialog's accessible name.
    #[prop(into)]
    title: String,
    /// Called on Esc, a backdrop click or the close button.
    #[prop(into)]
    on_close: Callback<()>,
    /// Extra class on the dialog box (e.g. `sd-modal--wide`).
    #[prop(optional, into)]
    class: Option<String>,
    /// The dialog's body.
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Div>::new();
    let title_id = format!(
        "sd-dlg-{}",
        js_sys::Math::random().to_bits() % 1_000_000_007
    );

    // Remember who opened the dialog, to give focus back when it closes.
    let opener = StoredValue::new_local(
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element())
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()),
    );
    on_cleanup(move || {
        if let Some(Some(el)) = opener.try_get_value() {
            let _ = el.focus();
        }
    });

    // Focus the first field (or button) once mounted.
    Effect::new(move |_| {
        if let Some(el) = dialog.get() {
            let el: web_sys::Element = el.into();
            let first = el
                .query_selector("[autofocus], input, textarea, select")
                .ok()
                .flatten()
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
                .or_else(|| focusables(&el).into_iter().next());
            if let Some(f) = first {
                let _ = f.focus();
            }
        }
    });

    let on_keydown = move |ev: web_sys::KeyboardEvent| match ev.key().as_str() {
        "Escape" => {
            ev.prevent_default();
            ev.stop_propagation();
            on_close.run(());
        }
        "Tab" => {
            let Some(el) = dialog.get_untracked() else {
                return;
            };
            let el: web_sys::Element = el.into();
            let items = focusables(&el);
            let (Some(first), Some(last)) = (items.first(), items.last()) else {
                return;
            };
            let active = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.active_element());
            let at = |x: &web_sys::HtmlElement| {
                active
                    .as_ref()
                    .is_some_and(|a| a == x.unchecked_ref::<web_sys::Element>())
            };
            let inside = active.as_ref().is_some_and(|a| el.contains(Some(a)));
            if ev.shift_key() && (at(first) || !inside) {
                ev.prevent_default();
                let _ = last.focus();
            } else if !ev.shift_key() && (at(last) || !inside) {
                ev.prevent_default();
                let _ = first.focus();
            }
        }
        _ => {}
    };

    let class = format!("sd-modal {}", class.unwrap_or_default());
    let labelled_by = title_id.clone();
    view! {
        <div
            class="sd-modal-backdrop"
            on:mousedown=move |ev| {
                if ev.target() == ev.current_target() {
                    on_close.run(());
                }
            }
        >
            <div
                class=class
                role="dialog"
                aria-modal="true"
                aria-labelledby=labelled_by
                node_ref=dialog
                on:keydown=on_keydown
            >
                <div class="sd-modal__head">
                    <h2 class="sd-h2" id=title_id>{title}</h2>
                    <button
                        type="button"
                        class="sd-iconbtn"
                        aria-label="Close"
                        on:click=move |_| on_close.run(())
                    >
                        "×"
                    </button>
                </div>
                {children()}
            </div>
        </div>
    }
}

/// A yes/no confirmation for something destructive.
#[component]
pub fn ConfirmDialog(
    /// Title (a question).
    #[prop(into)]
    title: String,
    /// Label of the confirming button ("Delete snapshot").
    #[prop(into)]
    confirm_label: Signal<String>,
    /// Red confirming button.
    #[prop(default = true)]
    danger: bool,
    /// Disables the button while the action runs.
    #[prop(optional, into)]
    busy: Signal<bool>,
    /// Called on confirm.
    #[prop(into)]
    on_confirm: Callback<()>,
    /// Called on cancel.
    #[prop(into)]
    on_close: Callback<()>,
    /// What will happen, in a sentence or two.
    children: Children,
) -> impl IntoView {
    let class = if danger {
        "sd-btn sd-btn--danger"
    } else {
        "sd-btn sd-btn--primary"
    };
    view! {
        <Modal title=title on_close=on_close>
            <form
                class="sd-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    if !busy.get_untracked() {
                        on_confirm.run(());
                    }
                }
            >
                <div class="sd-modal__body">{children()}</div>
                <div class="sd-modal__foot">
                    <button type="button" class="sd-btn sd-btn--ghost" on:click=move |_| on_close.run(())>
                        "Cancel"
                    </button>
                    <button type="submit" class=class autofocus disabled=move || busy.get()>
                        {move || confirm_label.get()}
                    </button>
                </div>
            </form>
        </Modal>
    }
}
