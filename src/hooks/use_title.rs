//! `use_title`: the document title follows the page ("agent-7 · snapdeck"), so tabs
//! and screen readers say where you are.

use leptos::prelude::*;

/// Sets `document.title` to `<title> · snapdeck` while the page is shown.
pub fn use_title(title: impl Fn() -> String + 'static) {
    Effect::new(move |_| {
        let t = title();
        if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
            doc.set_title(&if t.is_empty() {
                "snapdeck".to_string()
            } else {
                format!("{t} · snapdeck")
            });
        }
    });
}
