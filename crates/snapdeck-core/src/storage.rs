//! Storage over time: the numbers behind the storage charts, so the app only draws.
//!
//! * [`series`]: a devbox's snapshots as bars on a time axis (oldest first), with what a
//!   cleanup plan would free marked, and the totals now and after the cleanup.
//! * [`Series::columns`]: the bars placed in a fixed number of time slots, so bars never
//!   overlap however close in time two snapshots are (a slot holding several is one
//!   aggregated column), each with the running total kept up to it.
//! * [`ticks`]: round axis values in binary units (a power of two bytes apart).
//! * [`breakdown`]: stored bytes by devbox or by blueprint, largest first.
//!
//! Unknown sizes (`size_bytes` is null for errored and unfinished snapshots) count as
//! 0 bytes everywhere, as the API's own sum would.

use std::collections::{BTreeMap, BTreeSet};

use snapdeck_api::Snapshot;

use crate::retention::is_pinned;

/// One snapshot as a bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    pub id: String,
    /// Its name, or its id when unnamed.
    pub label: String,
    pub at_ms: i64,
    /// `size_bytes`, 0 when unknown.
    pub bytes: u64,
    /// Whether the API gave a size.
    pub size_known: bool,
    pub pinned: bool,
    pub errored: bool,
    /// A cleanup plan would delete it.
    pub freed: bool,
}

/// A devbox's snapshots over time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Series {
    /// Oldest first; ties by id, so the order never depends on the input order.
    pub bars: Vec<Bar>,
    /// Bytes kept now (every snapshot listed).
    pub total: u64,
    /// Bytes the plan would free.
    pub freed: u64,
}

impl Series {
    /// Bytes kept after the cleanup.
    pub fn after(&self) -> u64 {
        self.total - self.freed
    }

    /// The time span the bars cover (`None` when there are none).
    pub fn span(&self) -> Option<(i64, i64)> {
        Some((self.bars.first()?.at_ms, self.bars.last()?.at_ms))
    }

    /// The largest single bar.
    pub fn max_bar(&self) -> u64 {
        self.bars.iter().map(|b| b.bytes).max().unwrap_or(0)
    }

    /// The bars in `slots` equal slices of [`Series::span`] (at least one): one column
    /// per slice that holds a bar, left to right, each with the running totals up to
    /// and including it.
    pub fn columns(&self, slots: usize) -> Vec<Column> {
        let slots = slots.max(1);
        let Some((t0, t1)) = self.span() else {
            return Vec::new();
        };
        // i128: spans of the whole i64 range must not overflow.
        let width = i128::from(t1) - i128::from(t0) + 1;
        let slot_of = |t: i64| {
            let s = (i128::from(t) - i128::from(t0)) * slots as i128 / width;
            (s.max(0) as usize).min(slots - 1)
        };
        let mut out: Vec<Column> = Vec::new();
        let (mut now, mut after) = (0u64, 0u64);
        for (i, b) in self.bars.iter().enumerate() {
            now += b.bytes;
            if !b.freed {
                after += b.bytes;
            }
            let slot = slot_of(b.at_ms);
            match out.last_mut() {
                Some(c) if c.slot == slot => c.add(b),
                _ => out.push(Column {
                    slot,
                    slots,
                    first: i,
                    len: 1,
                    bytes: b.bytes,
                    freed_bytes: if b.freed { b.bytes } else { 0 },
                    start_ms: b.at_ms,
                    end_ms: b.at_ms,
                    pinned: usize::from(b.pinned),
                    errored: usize::from(b.errored),
                    total_now: 0,
                    total_after: 0,
                }),
            }
            if let Some(c) = out.last_mut() {
                (c.total_now, c.total_after) = (now, after);
            }
        }
        out
    }
}

/// The bars of one time slot: usually one snapshot, several when they are close in
/// time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Which slot (0-based, left to right) of `slots`.
    pub slot: usize,
    pub slots: usize,
    /// Its bars: `Series::bars[first..first + len]`.
    pub first: usize,
    pub len: usize,
    /// Their bytes together.
    pub bytes: u64,
    /// Of which the plan would free.
    pub freed_bytes: u64,
    pub start_ms: i64,
    pub end_ms: i64,
    /// How many of them are pinned, errored.
    pub pinned: usize,
    pub errored: usize,
    /// Running total of every snapshot up to this column.
    pub total_now: u64,
    /// Running total of what the cleanup keeps up to this column.
    pub total_after: u64,
}

impl Column {
    fn add(&mut self, b: &Bar) {
        self.len += 1;
        self.bytes += b.bytes;
        if b.freed {
            self.freed_bytes += b.bytes;
        }
        self.end_ms = b.at_ms;
        self.pinned += usize::from(b.pinned);
        self.errored += usize::from(b.errored);
    }

    /// The centre of its slot, as a fraction of the axis (0..1).
    pub fn x(&self) -> f64 {
        (self.slot as f64 + 0.5) / self.slots as f64
    }

    /// The bars of this column in `series`.
    pub fn bars<'a>(&self, series: &'a Series) -> &'a [Bar] {
        &series.bars[self.first..self.first + self.len]
    }
}

/// The series of `snapshots`: `errored` says which failed (the list carries no status),
/// `freed` which ids a cleanup plan would delete (empty: no plan).
pub fn series(
    snapshots: &[Snapshot],
    errored: impl Fn(&Snapshot) -> bool,
    freed: &BTreeSet<String>,
) -> Series {
    // A list may repeat a snapshot across pages; it is stored once.
    let mut seen = BTreeSet::new();
    let mut bars: Vec<Bar> = snapshots
        .iter()
        .filter(|s| seen.insert(s.id.as_str()))
        .map(|s| Bar {
            id: s.id.clone(),
            label: s
                .name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| s.id.clone()),
            at_ms: s.create_time_ms,
            bytes: s.size_bytes.unwrap_or(0),
            size_known: s.size_bytes.is_some(),
            pinned: is_pinned(s),
            errored: errored(s),
            freed: freed.contains(&s.id),
        })
        .collect();
    bars.sort_by(|a, b| a.at_ms.cmp(&b.at_ms).then_with(|| a.id.cmp(&b.id)));
    let total = bars.iter().map(|b| b.bytes).sum();
    let freed = bars.iter().filter(|b| b.freed).map(|b| b.bytes).sum();
    Series { bars, total, freed }
}

/// Axis values for a scale from 0 up to at least `max`: evenly spaced by a power of two
/// bytes (512 MiB, 1 GiB, 2 GiB, …) so every label is a round binary number, with at
/// most `target` steps (at least 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticks {
    pub step: u64,
    /// The top of the scale (the last value, never below `max`, at least 1).
    pub top: u64,
    /// 0, step, 2·step, …, top.
    pub values: Vec<u64>,
}

/// See [`Ticks`].
pub fn ticks(max: u64, target: usize) -> Ticks {
    let target = target.max(1) as u64;
    let raw = max.div_ceil(target).max(1);
    let step = raw.checked_next_power_of_two().unwrap_or(1 << 63);
    let n = max.div_ceil(step).max(1);
    let values: Vec<u64> = (0..=n).map(|i| i.saturating_mul(step)).collect();
    Ticks {
        step,
        top: values.last().copied().unwrap_or(step),
        values,
    }
}

/// What a breakdown groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// `source_devbox_id`.
    Devbox,
    /// `source_blueprint_id` (snapshots of devboxes with no blueprint group as `None`).
    Blueprint,
}

/// One row of a breakdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// The devbox or blueprint id; `None`: no blueprint.
    pub key: Option<String>,
    pub bytes: u64,
    pub snapshots: usize,
}

impl Share {
    /// Its part of `total`, 0..1 (0 when the total is 0).
    pub fn fraction(&self, total: u64) -> f64 {
        if total == 0 {
            0.0
        } else {
            self.bytes as f64 / total as f64
        }
    }
}

/// Stored bytes of `snapshots` grouped `by`: largest first; equal sizes by more
/// snapshots, then by key (no blueprint last), so the order is stable.
pub fn breakdown(snapshots: &[Snapshot], by: GroupBy) -> Vec<Share> {
    let mut groups: BTreeMap<Option<&str>, (u64, usize)> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for s in snapshots {
        if !seen.insert(s.id.as_str()) {
            continue;
        }
        let key = match by {
            GroupBy::Devbox => Some(s.source_devbox_id.as_str()),
            GroupBy::Blueprint => s.source_blueprint_id.as_deref(),
        };
        let g = groups.entry(key).or_default();
        g.0 += s.size_bytes.unwrap_or(0);
        g.1 += 1;
    }
    let mut out: Vec<Share> = groups
        .into_iter()
        .map(|(key, (bytes, snapshots))| Share {
            key: key.map(str::to_owned),
            bytes,
            snapshots,
        })
        .collect();
    out.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then_with(|| b.snapshots.cmp(&a.snapshots))
            .then_with(|| a.key.is_none().cmp(&b.key.is_none()))
            .then_with(|| a.key.cmp(&b.key))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;
    const MIB: u64 = 1 << 20;

    fn snap(id: &str, devbox: &str, bp: Option<&str>, t: i64, size: Option<u64>) -> Snapshot {
        Snapshot {
            id: id.into(),
            create_time_ms: t,
            metadata: Default::default(),
            source_devbox_id: devbox.into(),
            name: Some(format!("name-{id}")),
            commit_message: None,
            size_bytes: size,
            source_blueprint_id: bp.map(str::to_owned),
        }
    }

    fn none() -> BTreeSet<String> {
        BTreeSet::new()
    }

    #[test]
    fn bars_are_oldest_first_with_the_total_of_every_size() {
        let list = vec![
            snap("b", "d", None, 20, Some(2 * GIB)),
            snap("a", "d", None, 10, Some(GIB)),
            snap("c", "d", None, 30, None),
        ];
        let s = series(&list, |s| s.id == "c", &none());
        let ids: Vec<&str> = s.bars.iter().map(|b| b.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(s.total, 3 * GIB);
        assert_eq!((s.freed, s.after()), (0, 3 * GIB));
        assert!(s.bars[2].errored && !s.bars[2].size_known);
        assert_eq!(s.bars[0].label, "name-a");
        assert_eq!(s.span(), Some((10, 30)));
        assert_eq!(s.max_bar(), 2 * GIB);
    }

    #[test]
    fn pinned_snapshots_are_marked() {
        let mut p = snap("p", "d", None, 1, Some(1));
        p.metadata.insert(crate::PINNED_KEY.into(), "true".into());
        let s = series(&[p], |_| false, &none());
        assert!(s.bars[0].pinned);
    }

    #[test]
    fn a_plan_frees_the_sizes_of_its_deletes_and_the_totals_run_both_ways() {
        let list = vec![
            snap("a", "d", None, 0, Some(GIB)),
            snap("b", "d", None, 100, Some(2 * GIB)),
            snap("c", "d", None, 200, Some(4 * GIB)),
        ];
        let freed: BTreeSet<String> = ["a".to_string(), "b".to_string()].into();
        let s = series(&list, |_| false, &freed);
        assert_eq!((s.total, s.freed, s.after()), (7 * GIB, 3 * GIB, 4 * GIB));
        let cols = s.columns(10);
        assert_eq!(cols.len(), 3);
        let now: Vec<u64> = cols.iter().map(|c| c.total_now).collect();
        let after: Vec<u64> = cols.iter().map(|c| c.total_after).collect();
        assert_eq!(now, [GIB, 3 * GIB, 7 * GIB]);
        assert_eq!(after, [0, 0, 4 * GIB]);
        assert_eq!(cols[0].slot, 0);
        assert_eq!(cols[2].slot, 9, "the newest is in the last slot");
    }

    #[test]
    fn snapshots_close_in_time_share_one_column() {
        let list = vec![
            snap("a", "d", None, 0, Some(MIB)),
            snap("b", "d", None, 1, Some(MIB)),
            snap("c", "d", None, 1000, Some(MIB)),
        ];
        let freed: BTreeSet<String> = ["b".to_string()].into();
        let s = series(&list, |s| s.id == "a", &freed);
        let cols = s.columns(4);
        assert_eq!(cols.len(), 2);
        assert_eq!(
            (cols[0].len, cols[0].bytes, cols[0].freed_bytes),
            (2, 2 * MIB, MIB)
        );
        assert_eq!(cols[0].errored, 1);
        assert_eq!((cols[0].start_ms, cols[0].end_ms), (0, 1));
        assert_eq!(cols[0].bars(&s).len(), 2);
        assert!((cols[0].x() - 0.125).abs() < 1e-9);
        assert!((cols[1].x() - 0.875).abs() < 1e-9);
    }

    #[test]
    fn one_snapshot_and_none_and_extreme_times_do_not_break_columns() {
        assert!(series(&[], |_| false, &none()).columns(8).is_empty());
        let one = series(&[snap("a", "d", None, 5, Some(1))], |_| false, &none());
        assert_eq!(one.columns(8).len(), 1);
        let wide = series(
            &[
                snap("a", "d", None, i64::MIN, Some(1)),
                snap("b", "d", None, i64::MAX, Some(1)),
            ],
            |_| false,
            &none(),
        );
        let cols = wide.columns(0);
        assert_eq!(cols.len(), 1, "zero slots means one");
        assert_eq!(
            wide.columns(3).iter().map(|c| c.slot).collect::<Vec<_>>(),
            [0, 2]
        );
    }

    #[test]
    fn a_snapshot_listed_twice_is_stored_once() {
        let a = snap("a", "d", Some("bp"), 1, Some(GIB));
        let s = series(&[a.clone(), a.clone()], |_| false, &none());
        assert_eq!((s.bars.len(), s.total), (1, GIB));
        let b = breakdown(&[a.clone(), a], GroupBy::Blueprint);
        assert_eq!((b[0].bytes, b[0].snapshots), (GIB, 1));
    }

    #[test]
    fn ticks_are_powers_of_two_bytes_apart_and_reach_the_max() {
        let t = ticks(2 * GIB + 700 * MIB, 4);
        assert_eq!(t.step, GIB);
        assert_eq!(t.values, [0, GIB, 2 * GIB, 3 * GIB]);
        assert_eq!(t.top, 3 * GIB);
        let t = ticks(10 * GIB, 4);
        assert_eq!((t.step, t.top), (4 * GIB, 12 * GIB));
        let t = ticks(GIB + 300 * MIB, 4);
        assert_eq!(t.step, 512 * MIB);
        assert_eq!(t.values, [0, 512 * MIB, GIB, GIB + 512 * MIB]);
        assert_eq!(ticks(0, 4).values, [0, 1], "an empty scale still has a top");
        assert_eq!(
            ticks(4 * GIB, 4).values,
            [0, GIB, 2 * GIB, 3 * GIB, 4 * GIB]
        );
        let huge = ticks(u64::MAX, 4);
        assert!(huge.top >= u64::MAX / 2 && huge.values.len() >= 2);
        assert_eq!(ticks(5, 0).values, [0, 8], "zero steps means one");
    }

    #[test]
    fn the_breakdown_is_largest_first_with_a_stable_tie_break() {
        let list = vec![
            snap("1", "dbx_b", Some("bp_1"), 1, Some(GIB)),
            snap("2", "dbx_a", Some("bp_1"), 2, Some(GIB)),
            snap("3", "dbx_c", None, 3, Some(3 * GIB)),
            snap("4", "dbx_d", None, 4, Some(GIB / 2)),
            snap("5", "dbx_d", None, 5, Some(GIB / 2)),
            snap("6", "dbx_e", Some("bp_2"), 6, None),
        ];
        let rows = breakdown(&list, GroupBy::Devbox);
        let by_devbox: Vec<(Option<&str>, u64, usize)> = rows
            .iter()
            .map(|s| (s.key.as_deref(), s.bytes, s.snapshots))
            .collect();
        assert_eq!(
            by_devbox,
            [
                (Some("dbx_c"), 3 * GIB, 1),
                // Equal bytes: more snapshots first, then by id.
                (Some("dbx_d"), GIB, 2),
                (Some("dbx_a"), GIB, 1),
                (Some("dbx_b"), GIB, 1),
                (Some("dbx_e"), 0, 1),
            ]
        );
        let by_bp = breakdown(&list, GroupBy::Blueprint);
        let keys: Vec<Option<&str>> = by_bp.iter().map(|s| s.key.as_deref()).collect();
        assert_eq!(keys, [None, Some("bp_1"), Some("bp_2")]);
        assert_eq!(by_bp[0].bytes, 4 * GIB);
        assert!((by_bp[0].fraction(6 * GIB) - 4.0 / 6.0).abs() < 1e-9);
        assert_eq!(by_bp[0].fraction(0), 0.0);
    }

    #[test]
    fn no_blueprint_sorts_after_a_blueprint_of_the_same_size() {
        let list = vec![
            snap("1", "d", None, 1, Some(GIB)),
            snap("2", "d", Some("bp_z"), 2, Some(GIB)),
        ];
        let keys: Vec<Option<String>> = breakdown(&list, GroupBy::Blueprint)
            .into_iter()
            .map(|s| s.key)
            .collect();
        assert_eq!(keys, [Some("bp_z".to_string()), None]);
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod props {
        use super::*;
        use proptest::prelude::*;

        fn list() -> impl Strategy<Value = Vec<Snapshot>> {
            prop::collection::vec(
                (
                    0usize..4,
                    prop::option::of(0usize..3),
                    -1000i64..1000,
                    prop::option::of(0u64..(1 << 40)),
                ),
                0..60,
            )
            .prop_map(|rows| {
                // Ids unique (a repeated id is the same snapshot; tested above).
                rows.into_iter()
                    .enumerate()
                    .map(|(id, (d, bp, t, size))| {
                        let bp = bp.map(|b| format!("bp_{b}"));
                        snap(
                            &format!("s{id}"),
                            &format!("dbx_{d}"),
                            bp.as_deref(),
                            t,
                            size,
                        )
                    })
                    .collect()
            })
        }

        fn unique(list: &[Snapshot]) -> Vec<Snapshot> {
            let mut seen = BTreeSet::new();
            list.iter()
                .filter(|s| seen.insert(s.id.clone()))
                .cloned()
                .collect()
        }

        proptest! {
            /// Whatever the snapshots, each breakdown's rows add up to the series' total
            /// and to the snapshot count, largest first.
            #[test]
            fn the_breakdown_parts_sum_to_the_total(list in list()) {
                let total = series(&list, |_| false, &BTreeSet::new()).total;
                let distinct = unique(&list).len();
                for by in [GroupBy::Devbox, GroupBy::Blueprint] {
                    let rows = breakdown(&list, by);
                    prop_assert_eq!(rows.iter().map(|r| r.bytes).sum::<u64>(), total);
                    prop_assert_eq!(rows.iter().map(|r| r.snapshots).sum::<usize>(), distinct);
                    prop_assert!(rows.windows(2).all(|w| w[0].bytes >= w[1].bytes));
                    let mut shuffled = list.clone();
                    shuffled.reverse();
                    prop_assert_eq!(&breakdown(&shuffled, by), &rows, "order does not depend on the input's");
                }
            }

            /// The running totals never fall, the one kept ends at what the plan keeps,
            /// the one of everything at the total; every bar is in exactly one column.
            #[test]
            fn the_running_totals_end_at_what_is_kept(
                list in list(),
                picks in prop::collection::vec(any::<bool>(), 60),
                slots in 1usize..80,
            ) {
                let freed: BTreeSet<String> = list
                    .iter()
                    .zip(&picks)
                    .filter(|(_, p)| **p)
                    .map(|(s, _)| s.id.clone())
                    .collect();
                let s = series(&list, |_| false, &freed);
                let cols = s.columns(slots);
                prop_assert_eq!(cols.iter().map(|c| c.len).sum::<usize>(), s.bars.len());
                prop_assert_eq!(cols.iter().map(|c| c.bytes).sum::<u64>(), s.total);
                prop_assert_eq!(cols.iter().map(|c| c.freed_bytes).sum::<u64>(), s.freed);
                prop_assert!(cols.windows(2).all(|w| w[0].slot < w[1].slot));
                prop_assert!(cols.windows(2).all(|w| w[0].total_now <= w[1].total_now
                    && w[0].total_after <= w[1].total_after));
                if let Some(last) = cols.last() {
                    prop_assert_eq!(last.total_now, s.total);
                    prop_assert_eq!(last.total_after, s.after());
                }
                let kept: u64 = unique(&list)
                    .iter()
                    .filter(|x| !freed.contains(&x.id))
                    .filter_map(|x| x.size_bytes)
                    .sum();
                prop_assert_eq!(s.after(), kept);
            }

            /// Ticks start at 0, are a power of two apart, reach the max, and are at
            /// most `target` steps.
            #[test]
            fn ticks_cover_the_max_in_few_round_steps(max in 0u64..(1 << 50), target in 1usize..10) {
                let t = ticks(max, target);
                prop_assert!(t.step.is_power_of_two());
                prop_assert_eq!(t.values[0], 0);
                prop_assert!(t.top >= max && t.top >= 1);
                prop_assert!(t.values.len() - 1 <= target.max(1));
                prop_assert!(t.values.windows(2).all(|w| w[1] - w[0] == t.step));
            }
        }
    }
}
