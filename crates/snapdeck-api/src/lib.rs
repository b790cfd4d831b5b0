//! Typed client for the Runloop REST API (devboxes, disk snapshots, blueprints, files).
//!
//! Wire types live in [`types`]; they decode tolerantly (unknown fields are ignored,
//! unknown enum values become `Unknown`) because the real API grows.

pub mod types;

pub use types::*;
