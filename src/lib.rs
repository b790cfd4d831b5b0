//! The snapdeck dashboard (Leptos CSR).
use leptos::prelude::*;

/// Mounts the app on `<body>`.
pub fn mount() {
    leptos::mount::mount_to_body(|| view! { <p>"snapdeck"</p> });
}
