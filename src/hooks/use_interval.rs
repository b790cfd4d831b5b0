//! `use_interval`: runs a callback every `ms` while the owner lives.

use std::time::Duration;

use leptos::prelude::*;

/// Calls `f` every `ms` milliseconds until the calling component is cleaned up.
pub fn use_interval(ms: u64, f: impl Fn() + 'static) {
    if let Ok(handle) = set_interval_with_handle(f, Duration::from_millis(ms)) {
        on_cleanup(move || handle.clear());
    }
}
