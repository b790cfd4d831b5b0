//! The emulator's one clock, a leaf that the store, the state and the jobs all read.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Wall-clock time in Unix milliseconds: the emulator's only clock, so that due times
/// stored before a restart still mean the same instant after it.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Milliseconds from now until `due_ms` (zero if it is past).
pub fn until(due_ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(due_ms - now_ms()).unwrap_or(0))
}
