//! Typed client for the Runloop REST API (devboxes, disk snapshots, blueprints, files).
//!
//! * [`types`]: the wire types. They decode tolerantly (unknown fields are ignored,
//!   unknown enum values become `Unknown`) because the real API grows.
//! * [`endpoints`]: every call as plain data (method, path, query, body) plus how to
//!   read its answer — built and tested without a network.
//! * [`commands`]: running commands on a devbox (`execute_sync`, executions, logs).
//! * [`Client`]: base URL, Bearer key, [`RetryPolicy`], pagination as a stream, over
//!   any [`Transport`]. Errors are one [`ApiError`].
//! * [`sse`]: decoding server-sent events read with `fetch` (snapdeck's job streams).
//! * Transports: `BrowserTransport` (feature `browser`: global `fetch`, so it works in a
//!   window, a dedicated worker and edge workers) and `NativeTransport` (feature
//!   `native`: reqwest + tokio). Tests implement [`Transport`] themselves.

pub mod client;
pub mod commands;
pub mod endpoints;
pub mod error;
pub mod http;
pub mod retry;
pub mod sse;
pub mod transport;
pub mod types;

#[cfg(feature = "browser")]
mod browser;
#[cfg(feature = "native")]
mod native;

#[cfg(feature = "browser")]
pub use browser::{BrowserTransport, EventStream};
pub use client::{AWAIT_RUNNING, AWAIT_SUSPENDED, Client, DEFAULT_TIMEOUT, REQUEST_ID_HEADER};
pub use endpoints::{Endpoint, FromResponse, MetadataFilter, Page, Paginated};
pub use error::{ApiError, TransportError};
pub use http::{HttpRequest, HttpResponse, Method, Query, Request};
#[cfg(feature = "native")]
pub use native::NativeTransport;
pub use retry::{Attempt, RetryPolicy};
pub use sse::{SseDecoder, SseEvent};
pub use transport::Transport;
pub use types::*;
