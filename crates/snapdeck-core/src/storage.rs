//! Storage over time: the numbers behind the storage charts, so the app only draws.
//!
//! * [`series`]: a devbox's snapshots as bars on a time axis (oldest first), with what a
//!   cleanup plan would free marked, and the totals now and after the cleanup.
//! * [`Series::columns`]: the bars placed in a fixed number of time slots, so bars never
//!   overlap however close in time two snapshots are (a slot holding several is one
//!   aggregated column), each with the running total kept up to it.
//! * [`ticks`]: round axis values in binary units (a power of two bytes apart).
//! * [`breakdown`]: stored bytes by devbox or by blueprint (through the devbox and
//!   snapshot chain, [`Origins`]), largest first.
//!
//! Unknown sizes (`size_bytes` is null for errored and unfinished snapshots) count as
//! 0 bytes in the chart's bars and totals, as the API's own sum would; the breakdown
//! counts them apart and says so.

use std::collections::{BTreeMap, BTreeSet};

use snapdeck_api::{Devbox, Snapshot};

use crate::format;
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
    /// The devbox a snapshot was taken of (`source_devbox_id`).
    Devbox,
    /// The blueprint it comes from ([`Origins::blueprint_of`]); `None`: no blueprint
    /// (the default image), or none that can be found.
    Blueprint,
}

/// Where snapshots come from, for [`Origins::blueprint_of`]: the devboxes (their own
/// blueprint, or the snapshot they started from) and the snapshots the chain may pass
/// through. Both are lists a page has already loaded; nothing is fetched.
#[derive(Debug, Clone, Default)]
pub struct Origins<'a> {
    devboxes: BTreeMap<&'a str, &'a Devbox>,
    snapshots: BTreeMap<&'a str, &'a Snapshot>,
}

impl<'a> Origins<'a> {
    pub fn new(devboxes: &'a [Devbox], snapshots: &'a [Snapshot]) -> Self {
        Self {
            devboxes: devboxes.iter().map(|d| (d.id.as_str(), d)).collect(),
            snapshots: snapshots.iter().map(|s| (s.id.as_str(), s)).collect(),
        }
    }

    /// The blueprint `s` comes from: the API's `source_blueprint_id` when it says; else
    /// the blueprint of the devbox it was taken of — the devbox's own `blueprint_id`,
    /// or, for a devbox started from a snapshot, that snapshot's blueprint, and so on
    /// up the chain. `None` when the chain ends without one (the default image, a
    /// devbox or snapshot not loaded) or loops.
    pub fn blueprint_of(&self, s: &'a Snapshot) -> Option<&'a str> {
        let mut at = s;
        let mut passed = BTreeSet::new();
        loop {
            if let Some(bp) = at.source_blueprint_id.as_deref().filter(|b| !b.is_empty()) {
                return Some(bp);
            }
            let devbox = self.devboxes.get(at.source_devbox_id.as_str())?;
            if let Some(bp) = devbox.blueprint_id.as_deref().filter(|b| !b.is_empty()) {
                return Some(bp);
            }
            let parent = devbox.snapshot_id.as_deref()?;
            if !passed.insert(parent) {
                return None;
            }
            at = self.snapshots.get(parent)?;
        }
    }
}

/// One row of a breakdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// The devbox or blueprint id; `None`: no blueprint.
    pub key: Option<String>,
    /// The known sizes added up.
    pub bytes: u64,
    /// Snapshots in the row, with a size or not.
    pub snapshots: usize,
    /// Of which the API gives no size (in progress, errored): not in `bytes`.
    pub unknown: usize,
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

    /// Its part of `total` as a person reads it: whole percents, "<1%" for a sliver
    /// that is not nothing.
    pub fn percent(&self, total: u64) -> String {
        let p = self.fraction(total) * 100.0;
        if self.bytes > 0 && p < 0.5 {
            "<1%".to_owned()
        } else {
            format!("{p:.0}%")
        }
    }

    /// Its sizes and counts in words, with the exact bytes (a row's accessible
    /// description): "3 GiB (3,221,225,472 bytes) in 4 snapshots, 42% of the total;
    /// 1 more of unknown size, not counted".
    pub fn describe(&self, total: u64) -> String {
        let n = |k: usize| if k == 1 { "snapshot" } else { "snapshots" };
        let mut out = format!(
            "{} ({}) in {} {}, {} of the total",
            format::bytes(self.bytes),
            format::bytes_exact(self.bytes),
            self.snapshots,
            n(self.snapshots),
            self.percent(total)
        );
        if self.unknown > 0 {
            out.push_str(&format!(
                "; {} of them of unknown size, not counted",
                self.unknown
            ));
        }
        out
    }
}

/// Stored bytes grouped one way: the rows largest first, and what they add up to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Breakdown {
    /// Largest first; equal sizes by more snapshots, then by key (no blueprint last),
    /// so the order never depends on the input's.
    pub rows: Vec<Share>,
    /// Every known size (each snapshot once).
    pub bytes: u64,
    pub snapshots: usize,
    /// Snapshots with no size, counted apart from `bytes`.
    pub unknown: usize,
}

/// Stored bytes of `snapshots` grouped `by` (blueprints found through `origins`). A
/// snapshot listed twice counts once; an unknown size counts as a snapshot of unknown
/// size, never as 0 bytes passed off as known.
pub fn breakdown(snapshots: &[Snapshot], by: GroupBy, origins: &Origins<'_>) -> Breakdown {
    let mut groups: BTreeMap<Option<&str>, Share> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for s in snapshots {
        if !seen.insert(s.id.as_str()) {
            continue;
        }
        let key = match by {
            GroupBy::Devbox => Some(s.source_devbox_id.as_str()),
            GroupBy::Blueprint => origins.blueprint_of(s),
        };
        let g = groups.entry(key).or_insert_with(|| Share {
            key: key.map(str::to_owned),
            bytes: 0,
            snapshots: 0,
            unknown: 0,
        });
        g.snapshots += 1;
        match s.size_bytes {
            Some(b) => g.bytes = g.bytes.saturating_add(b),
            None => g.unknown += 1,
        }
    }
    let mut rows: Vec<Share> = groups.into_values().collect();
    rows.sort_by(largest_first);
    Breakdown {
        bytes: rows.iter().fold(0u64, |t, r| t.saturating_add(r.bytes)),
        snapshots: rows.iter().map(|r| r.snapshots).sum(),
        unknown: rows.iter().map(|r| r.unknown).sum(),
        rows,
    }
}

/// The breakdown's order: see [`Breakdown::rows`].
pub fn largest_first(a: &Share, b: &Share) -> std::cmp::Ordering {
    b.bytes
        .cmp(&a.bytes)
        .then_with(|| b.snapshots.cmp(&a.snapshots))
        .then_with(|| a.key.is_none().cmp(&b.key.is_none()))
        .then_with(|| a.key.cmp(&b.key))
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
        let b = breakdown(&[a.clone(), a], GroupBy::Blueprint, &Origins::default());
        assert_eq!((b.rows[0].bytes, b.rows[0].snapshots), (GIB, 1));
        assert_eq!((b.bytes, b.snapshots), (GIB, 1));
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

    fn devbox(id: &str, bp: Option<&str>, from: Option<&str>) -> Devbox {
        serde_json::from_value(serde_json::json!({
            "id": id, "status": "running", "create_time_ms": 0,
            "blueprint_id": bp, "snapshot_id": from,
        }))
        .expect("a devbox")
    }

    fn rows(b: &Breakdown) -> Vec<(Option<&str>, u64, usize, usize)> {
        b.rows
            .iter()
            .map(|s| (s.key.as_deref(), s.bytes, s.snapshots, s.unknown))
            .collect()
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
        let none = Origins::default();
        let by_devbox = breakdown(&list, GroupBy::Devbox, &none);
        assert_eq!(
            rows(&by_devbox),
            [
                (Some("dbx_c"), 3 * GIB, 1, 0),
                // Equal bytes: more snapshots first, then by id.
                (Some("dbx_d"), GIB, 2, 0),
                (Some("dbx_a"), GIB, 1, 0),
                (Some("dbx_b"), GIB, 1, 0),
                // Its size is not known: counted apart, not as a known 0.
                (Some("dbx_e"), 0, 1, 1),
            ]
        );
        assert_eq!(
            (by_devbox.bytes, by_devbox.snapshots, by_devbox.unknown),
            (6 * GIB, 6, 1)
        );
        let by_bp = breakdown(&list, GroupBy::Blueprint, &none);
        let keys: Vec<Option<&str>> = by_bp.rows.iter().map(|s| s.key.as_deref()).collect();
        assert_eq!(keys, [None, Some("bp_1"), Some("bp_2")]);
        assert_eq!(by_bp.rows[0].bytes, 4 * GIB);
        assert!((by_bp.rows[0].fraction(6 * GIB) - 4.0 / 6.0).abs() < 1e-9);
        assert_eq!(by_bp.rows[0].fraction(0), 0.0);
        assert_eq!(breakdown(&[], GroupBy::Devbox, &none), Breakdown::default());
    }

    #[test]
    fn a_share_reads_with_its_exact_bytes_and_what_it_leaves_out() {
        let share = Share {
            key: Some("dbx_a".into()),
            bytes: 3 * GIB,
            snapshots: 4,
            unknown: 1,
        };
        assert_eq!(
            share.describe(7 * GIB),
            "3.0 GiB (3,221,225,472 bytes) in 4 snapshots, 43% of the total; \
             1 of them of unknown size, not counted"
        );
        let tiny = Share {
            key: None,
            bytes: 1,
            snapshots: 1,
            unknown: 0,
        };
        assert_eq!(tiny.percent(GIB), "<1%");
        assert_eq!(
            tiny.describe(1),
            "1 B (1 byte) in 1 snapshot, 100% of the total"
        );
        let nothing = Share { bytes: 0, ..tiny };
        assert_eq!(nothing.percent(GIB), "0%");
    }

    #[test]
    fn no_blueprint_sorts_after_a_blueprint_of_the_same_size() {
        let list = vec![
            snap("1", "d", None, 1, Some(GIB)),
            snap("2", "d", Some("bp_z"), 2, Some(GIB)),
        ];
        let keys: Vec<Option<String>> = breakdown(&list, GroupBy::Blueprint, &Origins::default())
            .rows
            .into_iter()
            .map(|s| s.key)
            .collect();
        assert_eq!(keys, [Some("bp_z".to_string()), None]);
    }

    #[test]
    fn a_snapshot_without_a_blueprint_of_its_own_takes_its_devboxs_or_its_chains() {
        let devboxes = [
            // Started from the blueprint.
            devbox("dbx_root", Some("bp_base"), None),
            // Restored from a snapshot of dbx_root, then again from one of its own.
            devbox("dbx_child", None, Some("s_root")),
            devbox("dbx_grand", None, Some("s_child")),
            // The default image; and one restored from a snapshot not loaded.
            devbox("dbx_plain", None, None),
            devbox("dbx_orphan", None, Some("s_gone")),
            // Two devboxes each restored from the other's snapshot (a bad answer).
            devbox("dbx_loop_a", None, Some("s_loop_b")),
            devbox("dbx_loop_b", None, Some("s_loop_a")),
        ];
        let snapshots = [
            snap("s_root", "dbx_root", None, 1, Some(GIB)),
            snap("s_child", "dbx_child", None, 2, Some(2 * GIB)),
            snap("s_grand", "dbx_grand", None, 3, Some(4 * GIB)),
            snap("s_named", "dbx_plain", Some("bp_other"), 4, Some(MIB)),
            snap("s_plain", "dbx_plain", None, 5, Some(MIB)),
            snap("s_orphan", "dbx_orphan", None, 6, None),
            snap("s_loop_a", "dbx_loop_a", None, 7, Some(1)),
            snap("s_loop_b", "dbx_loop_b", None, 8, Some(1)),
            snap("s_unknown_devbox", "dbx_never_listed", None, 9, Some(1)),
        ];
        let origins = Origins::new(&devboxes, &snapshots);
        let of = |id: &str| {
            let s = snapshots.iter().find(|s| s.id == id).expect("listed");
            origins.blueprint_of(s)
        };
        assert_eq!(of("s_root"), Some("bp_base"), "its devbox's blueprint");
        assert_eq!(
            of("s_child"),
            Some("bp_base"),
            "through its devbox's snapshot"
        );
        assert_eq!(of("s_grand"), Some("bp_base"), "two steps up the chain");
        assert_eq!(
            of("s_named"),
            Some("bp_other"),
            "the API's own answer first"
        );
        assert_eq!(of("s_plain"), None, "the default image");
        assert_eq!(of("s_orphan"), None, "the chain's snapshot is not loaded");
        assert_eq!(of("s_loop_a"), None, "a loop ends");
        assert_eq!(of("s_unknown_devbox"), None);

        let b = breakdown(&snapshots, GroupBy::Blueprint, &origins);
        assert_eq!(
            rows(&b),
            [
                (Some("bp_base"), 7 * GIB, 3, 0),
                (None, MIB + 3, 5, 1),
                (Some("bp_other"), MIB, 1, 0),
            ]
        );
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
            /// Whatever the snapshots and however their devboxes chain, each
            /// breakdown's rows add up to the series' total, to the snapshot count and
            /// to the count of unknown sizes; every row has a key of its own; the order
            /// is largest first, ties broken the same way whatever the input order.
            #[test]
            fn the_breakdown_parts_sum_to_the_total(
                list in list(),
                boxes in prop::collection::vec(
                    (prop::option::of(0usize..3), prop::option::of(0usize..60)),
                    4,
                ),
                seed in any::<u64>(),
            ) {
                let devboxes: Vec<Devbox> = boxes
                    .iter()
                    .enumerate()
                    .map(|(d, (bp, from))| {
                        let bp = bp.map(|b| format!("bp_{b}"));
                        let from = from.map(|s| format!("s{s}"));
                        devbox(&format!("dbx_{d}"), bp.as_deref(), from.as_deref())
                    })
                    .collect();
                let origins = Origins::new(&devboxes, &list);
                let total = series(&list, |_| false, &BTreeSet::new()).total;
                let distinct = unique(&list);
                let unknown = distinct.iter().filter(|s| s.size_bytes.is_none()).count();
                // The same list in another order (a seeded shuffle), repeats included.
                let mut shuffled = list.clone();
                shuffled.extend(list.iter().take(3).cloned());
                let n = shuffled.len().max(1) as u64;
                for i in 0..shuffled.len() {
                    let j = (seed.wrapping_mul(i as u64 + 7).rotate_left(13) % n) as usize;
                    shuffled.swap(i, j);
                }
                for by in [GroupBy::Devbox, GroupBy::Blueprint] {
                    let b = breakdown(&list, by, &origins);
                    prop_assert_eq!(b.rows.iter().map(|r| r.bytes).sum::<u64>(), total);
                    prop_assert_eq!(b.bytes, total);
                    prop_assert_eq!(b.rows.iter().map(|r| r.snapshots).sum::<usize>(), distinct.len());
                    prop_assert_eq!(b.snapshots, distinct.len());
                    prop_assert_eq!(b.rows.iter().map(|r| r.unknown).sum::<usize>(), unknown);
                    prop_assert_eq!(b.unknown, unknown);
                    prop_assert!(b.rows.iter().all(|r| r.unknown <= r.snapshots && r.snapshots > 0));
                    prop_assert!(b.rows.windows(2).all(|w| w[0].bytes >= w[1].bytes));
                    prop_assert!(b.rows.windows(2).all(|w| largest_first(&w[0], &w[1]).is_lt()),
                        "strictly ordered: keys are distinct and the tie-break total");
                    prop_assert_eq!(&breakdown(&shuffled, by, &origins), &b, "order does not depend on the input's");
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
