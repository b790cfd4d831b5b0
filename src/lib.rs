//! The snapdeck dashboard (Leptos CSR): devboxes, their disk-snapshot timelines,
//! snapshot-and-poll, rollback and bulk cleanup, against the Runloop API.
//!
//! `main.rs` only mounts; everything else lives here so tests can mount pieces:
//! [`app`] (router and providers), [`routes`] (the one place URLs are built),
//! [`api`] (the one door to the API client, `use_api()`), [`pages`], [`components`]
//! and [`hooks`].

pub mod api;
pub mod app;
pub mod components;
pub mod context;
pub mod embed;
pub mod events;
pub mod fmt;
pub mod hooks;
pub mod lineage;
pub mod pages;
pub mod routes;
pub mod storage;

/// Mounts an embedded app into each `[data-snapdeck]` element of a host page
/// ([`embed`]); without any, mounts the whole dashboard on `<body>`.
pub fn mount() {
    if embed::mount_all() == 0 {
        // A host page's address is the host's own: only the full dashboard reads it.
        hooks::use_settings::adopt_token_from_address();
        leptos::mount::mount_to_body(app::App);
    }
}
