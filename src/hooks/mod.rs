//! Hooks (`use_…`), one per file.

pub mod limiter;
pub mod use_interval;
pub mod use_now;
pub mod use_settings;
pub mod use_toasts;
