//! Watching an async snapshot until it finishes.
//!
//! The SDKs poll `/status` once a second. snapdeck polls fast at first (small devboxes
//! snapshot in a second or two, and the person is looking at the button they just
//! pressed) and then backs off, so a long snapshot does not cost hundreds of calls.
//!
//! The schedule depends **only on the time elapsed since the snapshot started**, so a
//! watch persisted as ([`SnapshotWatch`] = id + start time) and restored after a reload
//! continues exactly where it was, instead of restarting the fast phase.
//!
//! With an [`Estimate`] of the duration (from the devbox's earlier snapshots,
//! [`crate::estimate`]) the schedule changes shape: sparse before the expected end
//! (every [`SPARSE_POLL_GAP_MS`] at most), dense ([`DENSE_POLL_GAP_MS`]) over the window
//! `expected ± spread`, then backing off again if the snapshot overruns it. It still
//! depends only on the elapsed time (the estimate is part of the persisted watch).

use serde::{Deserialize, Serialize};
use snapdeck_api::{Snapshot, SnapshotStatus, SnapshotStatusView};

use crate::estimate::Estimate;

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
/// With an estimate: the longest gap before the expected end. A snapshot that ends
/// much sooner than its history said is noticed this late at worst.
pub const SPARSE_POLL_GAP_MS: i64 = 15_000;
/// With an estimate: the gap over the window where the snapshot is expected to end, so
/// the end is noticed within 0.8 s (plus the request's own time): the ≤ 1 s goal with
/// room for a slow answer, and fewer polls over a wide window than 0.5 s would cost.
pub const DENSE_POLL_GAP_MS: i64 = 800;
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
    /// The expected duration, when the devbox has a history (see [`crate::estimate`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<Estimate>,
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
            expected: None,
        }
    }

    /// Polls around the expected end instead of on the generic schedule.
    pub fn with_estimate(mut self, expected: Option<Estimate>) -> Self {
        self.expected = expected;
        self
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
        let next_at = match self.expected {
            Some(e) => next_offset_with_estimate(elapsed, e),
            None => next_offset_after(elapsed),
        };
        let until_next = (next_at - elapsed).max(MIN_POLL_GAP_MS);
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

/// The next poll (ms since start) after `elapsed_ms` when the end is expected within
/// `window` = `expected ± (spread + one dense gap)`: sparse before it, landing exactly on
/// its start; dense inside; backing off (×1.5, up to [`MAX_POLL_GAP_MS`]) after it.
fn next_offset_with_estimate(elapsed_ms: i64, e: Estimate) -> i64 {
    let margin = e.spread_ms.max(0) + DENSE_POLL_GAP_MS;
    let lo = (e.expected_ms - margin).max(0);
    let hi = e.expected_ms + margin;
    if elapsed_ms < lo {
        elapsed_ms + (lo - elapsed_ms).min(SPARSE_POLL_GAP_MS)
    } else if elapsed_ms < hi {
        elapsed_ms + DENSE_POLL_GAP_MS
    } else {
        // Overdue: the estimate was wrong; each gap half the time overrun so far.
        elapsed_ms + ((elapsed_ms - hi) / 2).clamp(DENSE_POLL_GAP_MS, MAX_POLL_GAP_MS)
    }
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

    fn with_estimate(expected_ms: i64, spread_ms: i64) -> SnapshotWatch {
        SnapshotWatch::new("snp_1", None, T0).with_estimate(Some(Estimate {
            expected_ms,
            spread_ms,
        }))
    }

    /// Poll offsets (ms since start) the watch makes up to `until`.
    fn polls(w: &SnapshotWatch, until: i64) -> Vec<i64> {
        let mut now = T0;
        let mut out = Vec::new();
        while now - T0 < until {
            let WatchStep::PollIn(d) = w.next_poll(now) else {
                break;
            };
            now += d;
            out.push(now - T0);
        }
        out
    }

    #[test]
    fn with_an_estimate_polls_are_sparse_before_the_window_and_dense_inside_it() {
        let w = with_estimate(120_000, 1_200);
        let p = polls(&w, 125_000);
        // 15 s steps to the window's start (120 − 1.2 − 0.8 = 118 s), then every 0.8 s.
        assert_eq!(
            &p[..8],
            [
                15_000, 30_000, 45_000, 60_000, 75_000, 90_000, 105_000, 118_000
            ]
        );
        assert_eq!(p[8] - p[7], DENSE_POLL_GAP_MS);
        let in_window: Vec<&i64> = p
            .iter()
            .filter(|&&at| (118_000..122_000).contains(&at))
            .collect();
        assert_eq!(in_window.len(), 5);
        // A 120 s snapshot, watched to its end and 0.8 s past: far fewer than the SDKs' 120.
        let to_end = p.iter().filter(|&&at| at <= 120_800).count();
        assert!(to_end * 5 <= 120, "{to_end} polls");
    }

    #[test]
    fn with_an_estimate_the_end_is_noticed_within_a_second_at_every_scale() {
        for d in [2_000, 20_000, 120_000] {
            // History said d ± its spread; the snapshot ends anywhere in that window.
            let w = with_estimate(d, (d / 100).max(250));
            let p = polls(&w, d + 5_000);
            for end in [d - (d / 100).max(250), d, d + (d / 100).max(250)] {
                let noticed = p.iter().copied().find(|&at| at >= end).unwrap_or(i64::MAX);
                assert!(
                    noticed - end <= DENSE_POLL_GAP_MS,
                    "{d} ms ending at {end}: {noticed}"
                );
            }
        }
    }

    #[test]
    fn an_overrun_backs_off_instead_of_polling_densely_forever() {
        let w = with_estimate(10_000, 250);
        let p = polls(&w, 120_000);
        let gaps: Vec<i64> = p.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.iter().all(|g| *g <= MAX_POLL_GAP_MS));
        assert_eq!(gaps.last().copied(), Some(MAX_POLL_GAP_MS));
        assert!(p.len() < 40, "{} polls in 2 min", p.len());
    }

    #[test]
    fn a_watch_with_an_estimate_resumes_after_a_reload() {
        let w = with_estimate(20_000, 250);
        let back: SnapshotWatch =
            serde_json::from_str(&serde_json::to_string(&w).expect("ser")).expect("de");
        assert_eq!(back, w);
        // Reloaded in the window: dense at once.
        assert_eq!(
            back.next_poll(T0 + 19_500),
            WatchStep::PollIn(DENSE_POLL_GAP_MS)
        );
        // A watch saved before estimates existed still reads, on the generic schedule.
        let old: SnapshotWatch =
            serde_json::from_str(r#"{"snapshot_id":"snp_1","started_at_ms":1700000000000}"#)
                .expect("an old watch");
        assert_eq!(old.expected, None);
        assert_eq!(old.next_poll(T0), WatchStep::PollIn(250));
    }
}
