//! Component tests in a real browser (wasm-bindgen-test + headless Chromium):
//! `CHROMEDRIVER=/usr/bin/chromedriver cargo test -p snapdeck --target wasm32-unknown-unknown`.
#![cfg(target_arch = "wasm32")]
// A failed unwrap in a test is a failed test, with the line that failed.
#![allow(clippy::unwrap_used)]

use leptos::prelude::*;
use snapdeck::components::{Chip, Chips, IdCell, Modal, Pager, StatusBadge};
use snapdeck_api::DevboxStatus;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Mounts `f` in a fresh element and returns that element (kept mounted), under the
/// toast list the components report to (hooks expect their providers).
fn mount<F, V>(f: F) -> web_sys::HtmlElement
where
    F: FnOnce() -> V + 'static,
    V: IntoView + 'static,
{
    let document = web_sys::window().unwrap().document().unwrap();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let handle = leptos::mount::mount_to(host.clone(), move || {
        snapdeck::hooks::use_toasts::provide_toasts();
        f()
    });
    std::mem::forget(handle);
    host
}

async fn tick() {
    gloo_timers::future::TimeoutFuture::new(0).await;
}

#[wasm_bindgen_test]
async fn status_badge_follows_its_signal_and_colours() {
    let status = RwSignal::new(DevboxStatus::Running);
    let host = mount(move || view! { <StatusBadge status=status /> });
    let badge = host.query_selector(".sd-badge").unwrap().unwrap();
    assert_eq!(badge.text_content().unwrap(), "running");
    assert!(badge.class_name().contains("sd-badge--ok"));

    status.set(DevboxStatus::Failure);
    tick().await;
    assert_eq!(badge.text_content().unwrap(), "failure");
    assert!(badge.class_name().contains("sd-badge--err"));

    status.set(DevboxStatus::Provisioning);
    tick().await;
    assert!(
        badge.class_name().contains("sd-badge--busy"),
        "moving states pulse blue"
    );
}

#[wasm_bindgen_test]
fn chips_show_counts_and_mark_the_active_one() {
    let chips = vec![
        Chip {
            label: "all".into(),
            count: 14,
            href: "/devboxes".into(),
            active: false,
            tone: None,
        },
        Chip {
            label: "running".into(),
            count: 6,
            href: "/devboxes?status=running".into(),
            active: true,
            tone: Some("ok"),
        },
    ];
    let host =
        mount(move || view! { <Chips label="Filter by status" chips=Signal::stored(chips) /> });
    let links = host.query_selector_all("a.sd-chip").unwrap();
    assert_eq!(links.length(), 2);
    let active = host
        .query_selector("a[aria-current=\"true\"]")
        .unwrap()
        .unwrap();
    assert_eq!(
        active.get_attribute("href").unwrap(),
        "/devboxes?status=running"
    );
    assert!(active.text_content().unwrap().contains('6'));
    let nav = host.query_selector("nav").unwrap().unwrap();
    assert_eq!(nav.get_attribute("aria-label").unwrap(), "Filter by status");
}

#[wasm_bindgen_test]
fn pager_counts_rows_and_links_pages() {
    let host = mount(|| {
        view! {
            <Pager
                page=Signal::stored(2usize)
                per_page=50
                total=Signal::stored(120usize)
                href=Callback::new(|p: usize| format!("/devboxes?page={p}"))
                noun="devboxes"
            />
        }
    });
    let text = host.text_content().unwrap();
    assert!(text.contains("51–100 of 120 devboxes"), "{text}");
    let prev = host.query_selector("a[rel=prev]").unwrap().unwrap();
    let next = host.query_selector("a[rel=next]").unwrap().unwrap();
    assert_eq!(prev.get_attribute("href").unwrap(), "/devboxes?page=1");
    assert_eq!(next.get_attribute("href").unwrap(), "/devboxes?page=3");
}

#[wasm_bindgen_test]
fn id_cell_truncates_in_the_middle_and_keeps_the_full_id() {
    let host = mount(|| view! { <IdCell id="dbx_3f9a8b7c6d5e4a21c" /> });
    let code = host.query_selector("code").unwrap().unwrap();
    assert_eq!(code.text_content().unwrap(), "dbx_3f9…a21c");
    assert_eq!(
        code.get_attribute("title").unwrap(),
        "dbx_3f9a8b7c6d5e4a21c"
    );
    let button = host.query_selector("button").unwrap().unwrap();
    assert_eq!(
        button.get_attribute("aria-label").unwrap(),
        "Copy dbx_3f9a8b7c6d5e4a21c"
    );
}

#[wasm_bindgen_test]
async fn modal_takes_focus_and_closes_on_escape() {
    let closed = RwSignal::new(0);
    let host = mount(move || {
        view! {
            <Modal title="Take snapshot" on_close=move |_| closed.update(|n| *n += 1)>
                <input id="sd-test-first" />
                <button type="button">"OK"</button>
            </Modal>
        }
    });
    tick().await;
    let dialog = host.query_selector("[role=dialog]").unwrap().unwrap();
    assert_eq!(dialog.get_attribute("aria-modal").unwrap(), "true");
    let document = web_sys::window().unwrap().document().unwrap();
    let active = document.active_element().unwrap();
    assert_eq!(active.id(), "sd-test-first", "focus moves into the dialog");

    let init = web_sys::KeyboardEventInit::new();
    init.set_key("Escape");
    init.set_bubbles(true);
    let ev = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    active.dispatch_event(&ev).unwrap();
    assert_eq!(closed.get_untracked(), 1);
}

#[wasm_bindgen_test]
fn names_render_as_text_never_html() {
    let host = mount(|| view! { <IdCell id="<img src=x onerror=alert(1)>" /> });
    assert!(host.query_selector("img").unwrap().is_none());
}
