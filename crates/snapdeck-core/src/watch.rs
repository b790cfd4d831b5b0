//! Watching an async snapshot until it finishes.
//!
//! The SDKs poll `/status` once a second. snapdeck polls fast at first (small devboxes
//! snapshot in a second or two, and the person is looking at the button they just
//! pressed) and then backs off, so a long snapshot does not cost hundreds of calls.
//!
//! The schedule depends **only on the time elapsed since the snapshot started**, so a
//! watch persisted as ([`SnapshotWatch`] = id + start time) and restored after a reload
//! continues exactly where it was, instead of restarting the fast phase.

use serde::{Deserialize, Serialize};
use snapdeck_api::{Snapshot, SnapshotStatus, SnapshotStatusView};

/// Gaps between polls, in ms: 250, 500, then 1000 until 4.75 s after the start, then ×1.5
/// each time (1500, 2250, 3375, 5062, 7593) capped at [`MAX_POLL_GAP_MS`] (10 000, …).
///
/// So polls happen at 0.25, 0.75, 1.75, 2.75, 3.75, 4.75, 6.25, 8.5, 11.875, 16.937,
/// 24.53, 34.53 s and then every 10 s after the start. Why this shape: most snapshots of
/// small devboxes finish within a few seconds, and the person is watching, so the first
/// five seconds never leave more than 1 s between polls (a 2 s snapshot is noticed within
/// 0.75 s); a long snapshot costs about 21 polls over two minutes instead of the SDKs' 120.
pub const FIRST_POLL_GAPS_MS: [i64; 6] = [250, 500, 1000, 1000, 1000, 1000];
/// Longest gap between two polls.
pub const MAX_POLL_GAP_MS: i64 = 10_000;
/// Shortest gap we ever wait, even when a slow poll overran the schedule.
pub const MIN_POLL_GAP_MS: i64 = 250;
/// Default deadline: 30 minutes after the start, then the watch gives up (the snapshot
/// may still finish; the person can look again).
pub const DEFAULT_TIMEOUT_MS: i64 = 30 * 60 * 1000;

/// The poll offsets (ms since start) of the schedule, in order, forever.
pub fn poll_offsets() -> impl Iterator<Item = i64> {
    let mut gap = 0i64;
    let mut at = 0i64;
    let mut step = 0usize;
    std::iter::from_fn(move || {
        gap = match FIRST_POLL_GAPS_MS.get(step) {
            Some(g) => *g,
            None => (gap + gap / 2).min(MAX_POLL_GAP_MS),
        };
        step += 1;
        at = at.saturating_add(gap);
        Some(at)
    })
}

/// The first scheduled poll strictly after `elapsed_ms`.
fn next_offset_after(elapsed_ms: i64) -> i64 {
    // Walk the growing phase; once the gap is capped the rest is arithmetic, so even
    // a watch restored days later answers in constant time.
    let mut prev = 0;
    for (i, at) in poll_offsets().enumerate() {
        if at > elapsed_ms {
            return at;
        }
        if at - prev == MAX_POLL_GAP_MS && i > FIRST_POLL_GAPS_MS.len() {
            let periods = (elapsed_ms - at) / MAX_POLL_GAP_MS + 1;
            return at.saturating_add(periods.saturating_mul(MAX_POLL_GAP_MS));
        }
        prev = at;
    }
    elapsed_ms.saturating_add(MAX_POLL_GAP_MS)
}

/// What the watcher should do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchStep {
    /// Poll `/status` again after this many ms.
    PollIn(i64),
    /// The snapshot is done.
    Complete(Option<Snapshot>),
    /// The snapshot failed; the message is the API's, or a generic one.
    Failed(String),
    /// The snapshot was deleted while we watched.
    Deleted,
    /// The deadline passed without a final status.
    TimedOut,
}

/// A watch on one async snapshot: everything needed to resume it after a reload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotWatch {
    pub snapshot_id: String,
    /// The devbox being snapshotted (for display and for linking back).
    #[serde(default)]
    pub devbox_id: Option<String>,
    /// When the snapshot was started (Unix ms, the app's clock).
    pub started_at_ms: i64,
    /// Give up this long after the start.
    #[serde(default = "default_timeout")]
    pub timeout_ms: i64,
}

fn default_timeout() -> i64 {
    DEFAULT_TIMEOUT_MS
}

impl SnapshotWatch {
    /// A watch with the default deadline.
    pub fn new(
        snapshot_id: impl Into<String>,
        devbox_id: Option<String>,
        started_at_ms: i64,
    ) -> Self {
        Self {
            snapshot_id: snapshot_id.into(),
            devbox_id,
            started_at_ms,
            timeout_ms: DEFAULT_TIMEOUT_MS,
        }
    }

    /// Changes the deadline (ms after the start).
    pub fn with_timeout_ms(mut self, timeout_ms: i64) -> Self {
        self.timeout_ms = timeout_ms;
        self
    }

    /// Unix ms after which the watch gives up.
    pub fn deadline_ms(&self) -> i64 {
        self.started_at_ms.saturating_add(self.timeout_ms)
    }

    /// Time since the start (never negative, even if the clock moved back).
    pub fn elapsed_ms(&self, now_ms: i64) -> i64 {
        now_ms.saturating_sub(self.started_at_ms).max(0)
    }

    /// When to poll next, from the schedule alone (also after a failed poll or a reload).
    pub fn next_poll(&self, now_ms: i64) -> WatchStep {
        let elapsed = self.elapsed_ms(now_ms);
        if elapsed >= self.timeout_ms {
            return WatchStep::TimedOut;
        }
        let until_next = (next_offset_after(elapsed) - elapsed).max(MIN_POLL_GAP_MS);
        // One last poll exactly at the deadline rather than none after it.
        WatchStep::PollIn(until_next.min(self.timeout_ms - elapsed).max(0))
    }

    /// Reads a `/status` answer received at `now_ms`.
    pub fn observe(&self, view: &SnapshotStatusView, now_ms: i64) -> WatchStep {
        match view.status {
            SnapshotStatus::Complete => WatchStep::Complete(view.snapshot.clone()),
            SnapshotStatus::Error => WatchStep::Failed(
                view.error_message
                    .clone()
                    .filter(|m| !m.trim().is_empty())
                    .unwrap_or_else(|| "The snapshot failed (no reason given).".to_owned()),
            ),
            SnapshotStatus::Deleted => WatchStep::Deleted,
            // in_progress, or a status this version does not know: keep watching.
            SnapshotStatus::InProgress | SnapshotStatus::Unknown => self.next_poll(now_ms),
        }
    }
}

/// Expected time left, from durations of earlier snapshots (ms, as measured by the
/// app): the median minus the elapsed time, never below zero. `None` without history.
///
/// The API reports no progress, so this is the honest best: "usually takes about 1:20".
pub fn estimate_remaining_ms(elapsed_ms: i64, past_durations_ms: &[i64]) -> Option<i64> {
    let mut d: Vec<i64> = past_durations_ms
        .iter()
        .copied()
        .filter(|d| *d > 0)
        .collect();
    if d.is_empty() {
        return None;
    }
    d.sort_unstable();
    let mid = d.len() / 2;
    let median = if d.len().is_multiple_of(2) {
        (d[mid - 1] + d[mid]) / 2
    } else {
        d[mid]
    };
    Some((median - elapsed_ms).max(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_700_000_000_000;

    fn status(s: SnapshotStatus) -> SnapshotStatusView {
        SnapshotStatusView {
            status: s,
            error_message: None,
            snapshot: None,
        }
    }

    #[test]
    fn schedule_is_fast_then_backs_off_to_ten_seconds() {
        let first: Vec<i64> = poll_offsets().take(14).collect();
        assert_eq!(
            first,
            [
                250, 750, 1750, 2750, 3750, 4750, 6250, 8500, 11875, 16937, 24530, 34530, 44530,
                54530
            ]
        );
    }

    #[test]
    fn polling_by_schedule_visits_every_offset() {
        let w = SnapshotWatch::new("snp_1", None, T0);
        let mut now = T0;
        let mut seen = Vec::new();
        for _ in 0..8 {
            let WatchStep::PollIn(d) = w.next_poll(now) else {
                panic!("still watching")
            };
            now += d;
            seen.push(now - T0);
        }
        assert_eq!(seen, [250, 750, 1750, 2750, 3750, 4750, 6250, 8500]);
    }

    #[test]
    fn a_reload_resumes_the_schedule_from_elapsed_time() {
        let w = SnapshotWatch::new("snp_1", None, T0);
        let restored: SnapshotWatch =
            serde_json::from_str(&serde_json::to_string(&w).expect("ser")).expect("de");
        assert_eq!(restored, w);
        // Reloaded 4 s in: next poll at 4.75 s, not at 0.25 s.
        assert_eq!(restored.next_poll(T0 + 4_000), WatchStep::PollIn(750));
        // Reloaded 10 min in: already in the 10 s cadence, aligned to the start.
        let at = 600_000;
        let WatchStep::PollIn(d) = restored.next_poll(T0 + at) else {
            panic!()
        };
        assert!((1..=MAX_POLL_GAP_MS).contains(&d));
        assert_eq!((at + d - 24530) % MAX_POLL_GAP_MS, 0);
    }

    #[test]
    fn short_snapshots_are_noticed_within_a_second_and_long_ones_cost_few_polls() {
        let noticed_at = |done_ms: i64| poll_offsets().find(|&at| at >= done_ms).unwrap_or(0);
        for done in [300, 1_000, 2_000, 3_000, 4_500] {
            assert!(noticed_at(done) - done <= 1_000, "a {done} ms snapshot");
        }
        // The SDKs poll once a second: 120 polls for a two-minute snapshot.
        let polls = poll_offsets().take_while(|&at| at < 120_000).count() + 1;
        assert!(polls * 5 <= 120, "{polls} polls for a 120 s snapshot");
    }

    #[test]
    fn a_slow_poll_never_causes_an_immediate_repoll() {
        let w = SnapshotWatch::new("snp_1", None, T0);
        // The 750 ms poll answered at 1749 ms: wait the minimum gap, not 1 ms.
        assert_eq!(w.next_poll(T0 + 1_749), WatchStep::PollIn(MIN_POLL_GAP_MS));
    }

    #[test]
    fn the_deadline_gets_one_last_poll_then_times_out() {
        let w = SnapshotWatch::new("snp_1", None, T0).with_timeout_ms(10_000);
        assert_eq!(w.next_poll(T0 + 9_000), WatchStep::PollIn(1_000));
        assert_eq!(w.next_poll(T0 + 10_000), WatchStep::TimedOut);
        assert_eq!(
            w.observe(&status(SnapshotStatus::InProgress), T0 + 10_001),
            WatchStep::TimedOut
        );
    }

    #[test]
    fn final_statuses_end_the_watch() {
        let w = SnapshotWatch::new("snp_1", None, T0);
        assert_eq!(
            w.observe(&status(SnapshotStatus::Complete), T0),
            WatchStep::Complete(None)
        );
        assert_eq!(
            w.observe(&status(SnapshotStatus::Deleted), T0),
            WatchStep::Deleted
        );
        let mut err = status(SnapshotStatus::Error);
        assert_eq!(
            w.observe(&err, T0),
            WatchStep::Failed("The snapshot failed (no reason given).".into())
        );
        err.error_message = Some("disk full".into());
        assert_eq!(w.observe(&err, T0), WatchStep::Failed("disk full".into()));
        assert_eq!(
            w.observe(&status(SnapshotStatus::Unknown), T0),
            WatchStep::PollIn(250)
        );
    }

    #[test]
    fn a_clock_that_moved_back_is_treated_as_the_start() {
        let w = SnapshotWatch::new("snp_1", None, T0);
        assert_eq!(w.next_poll(T0 - 5_000), WatchStep::PollIn(250));
    }

    #[test]
    fn estimate_uses_the_median_of_past_durations() {
        assert_eq!(estimate_remaining_ms(0, &[]), None);
        assert_eq!(
            estimate_remaining_ms(10_000, &[30_000, 90_000, 60_000]),
            Some(50_000)
        );
        assert_eq!(estimate_remaining_ms(0, &[10_000, 20_000]), Some(15_000));
        assert_eq!(estimate_remaining_ms(99_000, &[30_000]), Some(0));
    }
}
