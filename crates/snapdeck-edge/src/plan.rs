//! The cleanup's pure half: what the planner is fed, the policies as configured, and the
//! report written to the log. Shared by the worker and the `plan` example the tests use
//! to compute the expected plan natively.

use serde::{Deserialize, Serialize};
use snapdeck_api::{Snapshot, SnapshotStatus};

/// A snapshot with the status `/status` gave for it (the list carries none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotState {
    pub snapshot: Snapshot,
    pub status: SnapshotStatus,
}
