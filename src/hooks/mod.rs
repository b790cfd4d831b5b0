//! Hooks (`use_…`) and the app-wide state they expose, one per file.

pub mod bulk_run;
pub mod limiter;
pub mod selection;
pub mod use_interval;
pub mod use_nav;
pub mod use_now;
pub mod use_ops;
pub mod use_refresh;
pub mod use_settings;
pub mod use_statuses;
pub mod use_title;
pub mod use_toasts;
