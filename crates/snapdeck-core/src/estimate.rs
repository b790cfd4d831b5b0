//! How long a running snapshot still needs, from how long the devbox's earlier ones took.
//!
//! The API reports no progress and no completion time: a snapshot view has only its
//! `create_time_ms`. What snapdeck can know is a **bracket** for each snapshot it
//! watched: still `in_progress` at one poll, `complete` at the next. The true duration
//! lies between the two, so a sample is that bracket, not a number ([`DurationSample`]).
//!
//! The estimate ([`estimate`]) is the median of the better-measured half of the recent
//! samples (a tight bracket from a densely polled snapshot outweighs a loose one from
//! the 10 s cadence), scaled by size only when the history shows that size matters
//! (larger snapshots took longer, and a line through them explains the durations far
//! better than the median does). Its [`Estimate::spread_ms`] says how far off it may be;
//! the watch schedule polls densely over that window and sparsely before it
//! ([`crate::watch`]).

use serde::{Deserialize, Serialize};
use snapdeck_api::SnapshotStatus;

/// Samples used: the newest this many.
pub const MAX_SAMPLES: usize = 12;
/// The estimate is never claimed tighter than this (ms).
pub const MIN_SPREAD_MS: i64 = 250;
/// …nor tighter than this share of the expected duration (1/100).
pub const MIN_SPREAD_DIVISOR: i64 = 100;

/// What is known about one earlier snapshot's duration: it was still in progress
/// `min_ms` after its start and complete `max_ms` after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DurationSample {
    /// Its size once complete, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// Last seen in progress, ms after the start (0 if never seen in progress).
    pub min_ms: i64,
    /// First seen complete, ms after the start.
    pub max_ms: i64,
}

impl DurationSample {
    /// A sample from the two observations; `None` when they make no sense (complete
    /// before in progress, or before the start).
    pub fn new(size_bytes: Option<u64>, min_ms: i64, max_ms: i64) -> Option<Self> {
        let min_ms = min_ms.max(0);
        (max_ms > 0 && max_ms >= min_ms).then_some(Self {
            size_bytes,
            min_ms,
            max_ms,
        })
    }

    /// The middle of the bracket: the best single guess of the duration.
    pub fn mid_ms(&self) -> i64 {
        self.min_ms + (self.max_ms - self.min_ms) / 2
    }

    /// Half the bracket: how far the middle may be off.
    pub fn half_width_ms(&self) -> i64 {
        (self.max_ms - self.min_ms + 1) / 2
    }
}

/// The expected duration of a running snapshot, and how far off it may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Estimate {
    /// Expected total duration (ms after the start).
    pub expected_ms: i64,
    /// The snapshot most likely ends within `expected_ms ± spread_ms`.
    pub spread_ms: i64,
}

impl Estimate {
    /// Expected time left after `elapsed_ms`, never below zero.
    pub fn remaining_ms(&self, elapsed_ms: i64) -> i64 {
        (self.expected_ms - elapsed_ms).max(0)
    }

    /// Whether `elapsed_ms` is past the whole window (the estimate was wrong: the UI
    /// stops promising a time).
    pub fn is_overdue(&self, elapsed_ms: i64) -> bool {
        elapsed_ms > self.expected_ms + self.spread_ms
    }

    /// The line under a running snapshot's status: "about 40 s left", "about 3 min
    /// left", "any moment now", or, past the window, "taking longer than usual".
    pub fn describe(&self, elapsed_ms: i64) -> String {
        if self.is_overdue(elapsed_ms) {
            return "taking longer than usual".to_owned();
        }
        let left = self.remaining_ms(elapsed_ms);
        if left < 1_000 {
            return "any moment now".to_owned();
        }
        let secs = (left + 999) / 1_000;
        if secs < 90 {
            // Rounded to 5 s above 10 s: the estimate is not better than that.
            let shown = if secs > 10 { (secs + 4) / 5 * 5 } else { secs };
            format!("about {shown} s left")
        } else {
            format!("about {} min left", (secs + 30) / 60)
        }
    }

    /// How far toward the expected end (0.0–1.0) `elapsed_ms` is, for a progress line
    /// that fills toward the estimate (not a percentage of work: the API gives none).
    pub fn fraction(&self, elapsed_ms: i64) -> f64 {
        if self.expected_ms <= 0 {
            return 1.0;
        }
        (elapsed_ms.max(0) as f64 / self.expected_ms as f64).min(1.0)
    }
}

/// The estimate for a snapshot of a devbox whose earlier snapshots took `history`
/// (any order; the caller passes the newest last when it can, and only the last
/// [`MAX_SAMPLES`] count). `size_hint` is the size the running one is expected to have
/// (the API gives none until it completes; the devbox's newest earlier snapshot is the
/// best guess). `None` without usable history.
pub fn estimate(history: &[DurationSample], size_hint: Option<u64>) -> Option<Estimate> {
    let start = history.len().saturating_sub(MAX_SAMPLES);
    let mut samples: Vec<DurationSample> = history[start..]
        .iter()
        .copied()
        .filter(|s| s.max_ms > 0 && s.max_ms >= s.min_ms)
        .collect();
    if samples.is_empty() {
        return None;
    }
    // The better-measured half (ties kept, so an evenly measured history stays whole):
    // loose brackets only blur the middle.
    samples.sort_by_key(DurationSample::half_width_ms);
    let cut = samples[(samples.len() - 1) / 2]
        .half_width_ms()
        .max(MIN_SPREAD_MS);
    samples.retain(|s| s.half_width_ms() <= cut);

    let mids: Vec<i64> = samples.iter().map(DurationSample::mid_ms).collect();
    let med = median(&mids);
    let dispersion = median(&mids.iter().map(|d| (d - med).abs()).collect::<Vec<_>>());
    let (expected, model_error) = match size_hint.and_then(|s| size_model(&samples, s)) {
        Some((e, err)) => (e, err),
        None => (med, dispersion),
    };
    let bracket = median(
        &samples
            .iter()
            .map(DurationSample::half_width_ms)
            .collect::<Vec<_>>(),
    );
    let spread = (bracket + 2 * model_error)
        .max(expected / MIN_SPREAD_DIVISOR)
        .max(MIN_SPREAD_MS);
    Some(Estimate {
        expected_ms: expected.max(0),
        spread_ms: spread,
    })
}

/// Duration as a line in size, `(prediction at size, typical error)`, only when at
/// least three samples of different sizes say larger took longer and the line explains
/// them much better than their median does.
fn size_model(samples: &[DurationSample], size: u64) -> Option<(i64, i64)> {
    let pts: Vec<(f64, f64)> = samples
        .iter()
        .filter_map(|s| Some((s.size_bytes? as f64, s.mid_ms() as f64)))
        .collect();
    if pts.len() < 3 {
        return None;
    }
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let syy: f64 = pts.iter().map(|p| (p.1 - my).powi(2)).sum();
    if sxx <= 0.0 || syy <= 0.0 || sxy <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let sse: f64 = pts
        .iter()
        .map(|p| (p.1 - (my + slope * (p.0 - mx))).powi(2))
        .sum();
    // R² ≥ 0.8: size explains most of the variation; otherwise it is noise.
    if sse > 0.2 * syy {
        return None;
    }
    let lo = pts.iter().map(|p| p.1).fold(f64::MAX, f64::min);
    let hi = pts.iter().map(|p| p.1).fold(f64::MIN, f64::max);
    // Never extrapolate wildly beyond what was seen.
    let predicted = (my + slope * (size as f64 - mx)).clamp(lo / 2.0, hi * 2.0);
    let rms = (sse / n).sqrt();
    Some((predicted.round() as i64, rms.round() as i64))
}

fn median(v: &[i64]) -> i64 {
    if v.is_empty() {
        return 0;
    }
    let mut v = v.to_vec();
    v.sort_unstable();
    let mid = v.len() / 2;
    if v.len().is_multiple_of(2) {
        v[mid - 1] + (v[mid] - v[mid - 1]) / 2
    } else {
        v[mid]
    }
}

/// What snapdeck saw of one snapshot's run, as times on one clock (the app's): enough
/// to bracket its duration once it completes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sightings {
    /// When it started (the app's start time for its own snapshots, otherwise the
    /// snapshot's `create_time_ms`).
    pub started_at_ms: i64,
    /// The last time it was seen `in_progress`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_progress_at_ms: Option<i64>,
    /// The first time it was seen `complete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complete_at_ms: Option<i64>,
}

impl Sightings {
    /// Nothing seen yet of a snapshot started at `started_at_ms`.
    pub fn new(started_at_ms: i64) -> Self {
        Self {
            started_at_ms,
            ..Self::default()
        }
    }

    /// Records a status seen at `at_ms`. Only the last in-progress and the first
    /// complete sighting matter; a late in-progress answer after completion is ignored.
    pub fn observe(&mut self, status: SnapshotStatus, at_ms: i64) {
        match status {
            SnapshotStatus::InProgress if self.complete_at_ms.is_none() => {
                self.in_progress_at_ms =
                    Some(self.in_progress_at_ms.map_or(at_ms, |t| t.max(at_ms)));
            }
            SnapshotStatus::Complete if self.complete_at_ms.is_none() => {
                self.complete_at_ms = Some(at_ms);
            }
            _ => {}
        }
    }

    /// The duration bracket, once it was seen both running and complete (a snapshot
    /// first seen complete says nothing about how long it took).
    pub fn sample(&self, size_bytes: Option<u64>) -> Option<DurationSample> {
        let running = self.in_progress_at_ms?;
        let done = self.complete_at_ms?;
        DurationSample::new(
            size_bytes,
            running - self.started_at_ms,
            done - self.started_at_ms,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(min: i64, max: i64) -> DurationSample {
        DurationSample::new(None, min, max).expect("a valid bracket")
    }

    fn sized(size: u64, d: i64) -> DurationSample {
        DurationSample::new(Some(size), d - 100, d + 100).expect("a valid bracket")
    }

    #[test]
    fn sightings_bracket_the_duration_between_last_running_and_first_complete() {
        let mut seen = Sightings::new(1_000);
        seen.observe(SnapshotStatus::InProgress, 1_250);
        assert_eq!(seen.sample(None), None);
        seen.observe(SnapshotStatus::InProgress, 20_750);
        seen.observe(SnapshotStatus::Complete, 21_250);
        // A late, stale answer changes nothing.
        seen.observe(SnapshotStatus::InProgress, 22_000);
        seen.observe(SnapshotStatus::Complete, 30_000);
        assert_eq!(
            seen.sample(Some(5)),
            Some(DurationSample {
                size_bytes: Some(5),
                min_ms: 19_750,
                max_ms: 20_250
            })
        );
        // Seen complete only: no duration.
        let mut late = Sightings::new(0);
        late.observe(SnapshotStatus::Complete, 90_000);
        assert_eq!(late.sample(None), None);
    }

    #[test]
    fn no_history_gives_no_estimate() {
        assert_eq!(estimate(&[], None), None);
        assert_eq!(DurationSample::new(None, 5_000, 4_000), None);
        assert_eq!(DurationSample::new(None, 0, 0), None);
    }

    #[test]
    fn one_tight_sample_predicts_its_own_duration() {
        let e = estimate(&[s(19_800, 20_200)], None).expect("estimate");
        assert_eq!(e.expected_ms, 20_000);
        assert_eq!(e.spread_ms, MIN_SPREAD_MS);
        assert_eq!(e.remaining_ms(15_000), 5_000);
        assert_eq!(e.remaining_ms(25_000), 0);
    }

    #[test]
    fn a_loose_bracket_widens_the_spread() {
        // Seen in progress at 114.5 s and complete at 124.5 s (the 10 s cadence).
        let e = estimate(&[s(114_530, 124_530)], None).expect("estimate");
        assert_eq!(e.expected_ms, 119_530);
        assert_eq!(e.spread_ms, 5_000);
    }

    #[test]
    fn tight_samples_outweigh_loose_ones() {
        let e = estimate(
            &[
                s(114_530, 124_530),
                s(119_900, 120_400),
                s(119_800, 120_300),
            ],
            None,
        )
        .expect("estimate");
        assert!((120_000..=120_200).contains(&e.expected_ms), "{e:?}");
        assert!(e.spread_ms <= 1_300, "{e:?}");
    }

    #[test]
    fn scattered_durations_widen_the_spread() {
        let e = estimate(
            &[s(9_900, 10_100), s(29_900, 30_100), s(19_900, 20_100)],
            None,
        )
        .expect("estimate");
        assert_eq!(e.expected_ms, 20_000);
        assert!(e.spread_ms >= 20_000, "{e:?}");
    }

    #[test]
    fn size_scales_the_estimate_when_larger_snapshots_took_longer() {
        let h = [
            sized(1_000_000_000, 10_000),
            sized(2_000_000_000, 20_000),
            sized(3_000_000_000, 30_000),
            sized(4_000_000_000, 40_000),
        ];
        let e = estimate(&h, Some(4_000_000_000)).expect("estimate");
        assert!((39_000..=41_000).contains(&e.expected_ms), "{e:?}");
        // Without a size, the median.
        assert_eq!(estimate(&h, None).map(|e| e.expected_ms), Some(25_000));
    }

    #[test]
    fn size_is_ignored_when_it_does_not_explain_the_durations() {
        // Constant durations whatever the size (as with the emulator's fixed duration).
        let h = [
            sized(200_000_000, 20_000),
            sized(600_000_000, 20_000),
            sized(300_000_000, 20_000),
        ];
        let e = estimate(&h, Some(900_000_000)).expect("estimate");
        assert_eq!(e.expected_ms, 20_000);
    }

    #[test]
    fn only_the_newest_samples_count() {
        let mut h: Vec<DurationSample> = (0..20).map(|_| s(59_900, 60_100)).collect();
        h.extend((0..MAX_SAMPLES).map(|_| s(4_900, 5_100)));
        assert_eq!(estimate(&h, None).map(|e| e.expected_ms), Some(5_000));
    }

    #[test]
    fn the_estimate_reads_as_time_left() {
        let e = Estimate {
            expected_ms: 60_000,
            spread_ms: 2_000,
        };
        assert_eq!(e.describe(20_000), "about 40 s left");
        assert_eq!(e.describe(52_500), "about 8 s left");
        assert_eq!(e.describe(59_500), "any moment now");
        assert_eq!(e.describe(62_001), "taking longer than usual");
        let long = Estimate {
            expected_ms: 600_000,
            spread_ms: 6_000,
        };
        assert_eq!(long.describe(0), "about 10 min left");
    }

    #[test]
    fn the_progress_fraction_fills_toward_the_estimate_and_stops_there() {
        let e = Estimate {
            expected_ms: 40_000,
            spread_ms: 1_000,
        };
        assert_eq!(e.fraction(10_000), 0.25);
        assert_eq!(e.fraction(80_000), 1.0);
        assert!(!e.is_overdue(41_000));
        assert!(e.is_overdue(41_001));
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod props {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> impl Strategy<Value = DurationSample> {
        (
            proptest::option::of(1u64..10_000_000_000),
            0i64..600_000,
            1i64..20_000,
        )
            .prop_map(|(size, min, width)| DurationSample {
                size_bytes: size,
                min_ms: min,
                max_ms: min + width,
            })
    }

    proptest! {
        #[test]
        fn the_estimate_lies_within_the_history_it_came_from(
            h in proptest::collection::vec(sample(), 1..20),
            hint in proptest::option::of(1u64..10_000_000_000),
        ) {
            let e = estimate(&h, hint).expect("history gives an estimate");
            let lo = h.iter().map(|s| s.min_ms).min().unwrap_or(0);
            let hi = h.iter().map(|s| s.max_ms).max().unwrap_or(0);
            // With a size model the prediction may reach up to twice the longest one.
            prop_assert!(e.expected_ms >= lo / 2 && e.expected_ms <= hi * 2, "{e:?}");
            prop_assert!(e.spread_ms >= MIN_SPREAD_MS);
        }

        #[test]
        fn identical_history_is_predicted_exactly(
            d in 1_000i64..600_000, n in 1usize..10,
        ) {
            let h = vec![DurationSample { size_bytes: None, min_ms: d - 200, max_ms: d + 200 }; n];
            let e = estimate(&h, None).expect("estimate");
            prop_assert_eq!(e.expected_ms, d);
            prop_assert!(e.spread_ms <= (d / MIN_SPREAD_DIVISOR).max(MIN_SPREAD_MS).max(200));
        }

        #[test]
        fn remaining_time_never_grows_as_time_passes(
            h in proptest::collection::vec(sample(), 1..8), a in 0i64..600_000, b in 0i64..600_000,
        ) {
            let e = estimate(&h, None).expect("estimate");
            let (early, late) = (a.min(b), a.max(b));
            prop_assert!(e.remaining_ms(late) <= e.remaining_ms(early));
        }
    }
}
