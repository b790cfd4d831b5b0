//! Keys on a list (Devboxes, Snapshots): `j`/`k` move a focused row, `x` selects it,
//! `Shift+X` extends the selection to it, `Enter` opens it, `.` repeats the palette's
//! last action on it. The keys are in snapdeck-core's shortcut table, which `?` lists.
//!
//! A page opts in by marking its rows `data-list-row="<kind>"` with `data-id` and
//! `tabindex="-1"`. The row gets real DOM focus (so the focus ring and screen readers
//! follow it); selecting clicks the row's own checkbox, so a list's selection rules
//! (shift ranges included) stay the page's one implementation.

use leptos::ev;
use leptos::prelude::*;
use snapdeck_core::palette::Kind;
use wasm_bindgen::JsCast;

use super::use_palette;
use crate::components::shortcuts::typing_in_field;
use crate::hooks::use_toasts::{Tone, use_toasts};

fn document() -> Option<web_sys::Document> {
    web_sys::window().and_then(|w| w.document())
}

fn rows() -> Vec<web_sys::HtmlElement> {
    let Some(list) = document().and_then(|d| d.query_selector_all("#sd-main [data-list-row]").ok())
    else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
        .collect()
}

/// The row that has focus, or holds the element that has it.
fn focused(rows: &[web_sys::HtmlElement]) -> Option<usize> {
    let active = document()?.active_element()?;
    rows.iter().position(|r| r.contains(Some(&active)))
}

fn focus(row: &web_sys::HtmlElement) {
    let _ = row.focus();
    let opts = web_sys::ScrollIntoViewOptions::new();
    opts.set_block(web_sys::ScrollLogicalPosition::Nearest);
    row.scroll_into_view_with_scroll_into_view_options(&opts);
}

/// Clicks the row's checkbox as a person would, with or without shift.
fn click_checkbox(row: &web_sys::HtmlElement, shift: bool) -> bool {
    let Some(cb) = row.query_selector("input[type=checkbox]").ok().flatten() else {
        return false;
    };
    let init = web_sys::MouseEventInit::new();
    init.set_bubbles(true);
    init.set_cancelable(true);
    init.set_shift_key(shift);
    if let Ok(ev) = web_sys::MouseEvent::new_with_mouse_event_init_dict("click", &init) {
        let _ = cb.dispatch_event(&ev);
    }
    true
}

/// Listens for the list keys (not while typing, not with a dialog open).
#[component]
pub fn ListKeys() -> impl IntoView {
    let palette = use_palette();
    let toasts = use_toasts();
    let handle = window_event_listener(ev::keydown, move |e| {
        if typing_in_field(&e) || e.ctrl_key() || e.meta_key() || e.alt_key() {
            return;
        }
        let dialog_open = document()
            .and_then(|d| d.query_selector(".sd-modal-backdrop").ok().flatten())
            .is_some();
        if dialog_open {
            return;
        }
        let key = e.key();
        if !matches!(key.as_str(), "j" | "k" | "x" | "X" | "Enter" | ".") {
            return;
        }
        let rows = rows();
        if rows.is_empty() {
            return;
        }
        let at = focused(&rows);
        match key.as_str() {
            "j" | "k" => {
                e.prevent_default();
                let next = match (at, key.as_str()) {
                    (None, _) => 0,
                    (Some(i), "j") => (i + 1).min(rows.len() - 1),
                    (Some(i), _) => i.saturating_sub(1),
                };
                focus(&rows[next]);
            }
            "x" | "X" => {
                if let Some(i) = at {
                    e.prevent_default();
                    if !click_checkbox(&rows[i], e.shift_key()) {
                        toasts.push(Tone::Info, "This list has no selection.");
                    }
                    focus(&rows[i]);
                }
            }
            "Enter" => {
                // Only on the row itself: Enter on a link or button inside does its own.
                let on_row = at.is_some_and(|i| {
                    document()
                        .and_then(|d| d.active_element())
                        .is_some_and(|a| a == *rows[i].unchecked_ref::<web_sys::Element>())
                });
                if let (true, Some(i)) = (on_row, at)
                    && let Some(link) = rows[i]
                        .query_selector("a[href]")
                        .ok()
                        .flatten()
                        .and_then(|l| l.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    e.prevent_default();
                    link.click();
                }
            }
            "." => {
                let (Some(i), Some(palette)) = (at, palette) else {
                    return;
                };
                let kind = rows[i]
                    .get_attribute("data-list-row")
                    .and_then(|k| Kind::parse(&k));
                let id = rows[i].get_attribute("data-id");
                if let (Some(kind), Some(id)) = (kind, id) {
                    e.prevent_default();
                    if let Err(why) = palette.repeat(kind, &id) {
                        toasts.push(Tone::Info, why);
                    }
                }
            }
            _ => {}
        }
    });
    on_cleanup(move || handle.remove());
}
