//! App-wide services: state and work that outlive the page that started them. Each
//! has a `use_…` accessor for components, but is a service, not a hook: the operations
//! list and its runners ([`ops`]), bulk deletes and their registry ([`bulk_runs`]), the
//! one stream those report through ([`run_events`]), and the limiter that keeps per-row
//! fetches to a few at a time ([`limiter`]), and what was last seen of each snapshot
//! ([`seen`]: last known facts, and the durations estimates learn from).

pub mod audit;
pub mod bulk_runs;
pub mod limiter;
pub mod ops;
pub mod run_events;
pub mod seen;
