//! Timelines and lineage: which snapshots a devbox has, which devboxes were started
//! from each snapshot, and where each devbox came from — as one forest across all
//! devboxes; and [`TimelineList`], a timeline that can show its first pages while the
//! API's list pages are still arriving.
//!
//! The API gives the edges: a snapshot's `source_devbox_id` (devbox → snapshot) and a
//! devbox's `snapshot_id` / `blueprint_id` (snapshot or blueprint → devbox). Devboxes
//! that no longer appear in the list (shut down long ago) still show up as nodes when
//! a snapshot names them, marked `known: false`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use snapdeck_api::{Devbox, DevboxStatus, Metadata, Snapshot, SnapshotStatus};

use crate::retention::is_pinned;

/// One row of a devbox's snapshot timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub id: String,
    pub name: Option<String>,
    pub commit_message: Option<String>,
    pub create_time_ms: i64,
    pub size_bytes: Option<u64>,
    pub metadata: Metadata,
    /// `None` while not fetched.
    pub status: Option<SnapshotStatus>,
    pub pinned: bool,
    /// Devboxes started from this snapshot, oldest first.
    pub children: Vec<String>,
}

/// Where a devbox came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The snapshot it was started from.
    pub snapshot_id: Option<String>,
    /// That snapshot's devbox, when the snapshot is known.
    pub snapshot_source_devbox_id: Option<String>,
    /// The blueprint it was started from (directly, or the snapshot's source blueprint).
    pub blueprint_id: Option<String>,
}

/// A devbox in the forest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevboxNode {
    pub devbox_id: String,
    /// False when only snapshots mention this devbox.
    pub known: bool,
    pub name: Option<String>,
    pub status: Option<DevboxStatus>,
    pub origin: Origin,
    /// Its snapshots, newest first, each with the devboxes started from it.
    pub snapshots: Vec<SnapshotNode>,
}

/// A snapshot in the forest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotNode {
    pub snapshot_id: String,
    pub name: Option<String>,
    pub create_time_ms: i64,
    pub children: Vec<DevboxNode>,
}

/// The lineage graph, indexed for lookups both ways.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lineage {
    devboxes: BTreeMap<String, Devbox>,
    snapshots: BTreeMap<String, Snapshot>,
    /// devbox id → its snapshot ids, newest first.
    snapshots_of: BTreeMap<String, Vec<String>>,
    /// snapshot id → devbox ids started from it, oldest first.
    children_of: BTreeMap<String, Vec<String>>,
}

/// Sorts snapshots newest first, ties broken by id so the order is stable.
pub fn sort_newest_first(snapshots: &mut [Snapshot]) {
    snapshots.sort_by(newest_first);
}

/// The devboxes started from each of `snapshots` (their `snapshot_id`), oldest first —
/// for a page that shows one page of a devbox's timeline without building the whole
/// forest: one pass over the devboxes, and only the shown snapshots' children cloned.
pub fn children_by_snapshot(
    devboxes: &[Devbox],
    snapshots: &[Snapshot],
) -> BTreeMap<String, Vec<Devbox>> {
    let shown: BTreeSet<&str> = snapshots.iter().map(|s| s.id.as_str()).collect();
    let mut out: BTreeMap<String, Vec<Devbox>> = BTreeMap::new();
    for d in devboxes {
        if let Some(sid) = d.snapshot_id.as_deref().filter(|sid| shown.contains(sid)) {
            out.entry(sid.to_owned()).or_default().push(d.clone());
        }
    }
    for v in out.values_mut() {
        v.sort_by(oldest_devbox_first);
    }
    out
}

/// A devbox's snapshots, newest first, as the API's list pages arrive — so a timeline
/// can show its first page long before the last list page is in.
///
/// The API lists newest first (by creation time; the emulator breaks ties by creation
/// order, the real API does not say). So once a page ending at time `t` is in, every
/// snapshot newer than `t` is known and in its final place: whatever comes later is at
/// `t` or older. Snapshots *at* `t` may still be joined by later ones that sort before
/// them (ties are broken by id here), so they are not final until the next page. If a
/// page ever breaks the newest-first order, nothing is final before the last page.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineList {
    /// Every snapshot received, newest first.
    snapshots: Vec<Snapshot>,
    /// The server's `total_count`, when it sent one.
    total_count: Option<usize>,
    /// The oldest creation time received so far, in the API's order.
    oldest: Option<i64>,
    /// The pages so far were newest first (and each older than the one before).
    ordered: bool,
    /// The last page is in.
    complete: bool,
}

impl Default for TimelineList {
    fn default() -> Self {
        Self {
            snapshots: Vec::new(),
            total_count: None,
            oldest: None,
            ordered: true,
            complete: false,
        }
    }
}

impl TimelineList {
    /// Nothing received yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the next list page (in the API's order); `has_more: false` ends the list.
    pub fn push_page(&mut self, mut page: Vec<Snapshot>, has_more: bool, total_count: Option<u64>) {
        for s in &page {
            if self.oldest.is_some_and(|t| s.create_time_ms > t) {
                self.ordered = false;
            }
            self.oldest = Some(s.create_time_ms);
        }
        page.sort_by(newest_first);
        // Pages follow each other, so the whole list only needs sorting again when the
        // seam is out of order (a tie across it, or an API that is not newest first).
        let seam_ok = match (self.snapshots.last(), page.first()) {
            (Some(a), Some(b)) => newest_first(a, b).is_le(),
            _ => true,
        };
        self.snapshots.extend(page);
        if !seam_ok {
            sort_newest_first(&mut self.snapshots);
        }
        if let Some(t) = total_count {
            self.total_count = usize::try_from(t).ok();
        }
        self.complete = !has_more;
    }

    /// How many snapshots are in.
    pub fn loaded(&self) -> usize {
        self.snapshots.len()
    }

    /// The last page is in.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// How many snapshots there are: exact once complete, else the server's count
    /// (never below what is already in), `None` when the server sent none.
    pub fn total(&self) -> Option<usize> {
        if self.complete {
            Some(self.loaded())
        } else {
            self.total_count.map(|t| t.max(self.loaded()))
        }
    }

    /// How many leading snapshots are in their final place.
    pub fn settled(&self) -> usize {
        match self.oldest {
            _ if self.complete => self.loaded(),
            Some(t) if self.ordered => self.snapshots.partition_point(|s| s.create_time_ms > t),
            _ => 0,
        }
    }

    /// The snapshots of a 1-based page of `per_page` (past the end: empty), once every
    /// one of them is final; `None` while that page may still change.
    pub fn page(&self, page: usize, per_page: usize) -> Option<&[Snapshot]> {
        let len = self.loaded();
        let start = page.saturating_sub(1).saturating_mul(per_page);
        let end = start.saturating_add(per_page);
        let need = self.total().map_or(end, |t| end.min(t));
        (self.complete || self.settled() >= need)
            .then(|| &self.snapshots[start.min(len)..end.min(len)])
    }
}

fn oldest_devbox_first(a: &Devbox, b: &Devbox) -> std::cmp::Ordering {
    a.create_time_ms
        .cmp(&b.create_time_ms)
        .then_with(|| a.id.cmp(&b.id))
}

fn newest_first(a: &Snapshot, b: &Snapshot) -> std::cmp::Ordering {
    b.create_time_ms
        .cmp(&a.create_time_ms)
        .then_with(|| b.id.cmp(&a.id))
}

impl Lineage {
    /// Indexes devboxes and snapshots (ids are assumed unique; a later duplicate wins).
    pub fn build(devboxes: &[Devbox], snapshots: &[Snapshot]) -> Self {
        let devboxes: BTreeMap<String, Devbox> =
            devboxes.iter().map(|d| (d.id.clone(), d.clone())).collect();
        let snapshots: BTreeMap<String, Snapshot> = snapshots
            .iter()
            .map(|s| (s.id.clone(), s.clone()))
            .collect();

        let mut by_devbox: BTreeMap<String, Vec<&Snapshot>> = BTreeMap::new();
        for s in snapshots.values() {
            by_devbox
                .entry(s.source_devbox_id.clone())
                .or_default()
                .push(s);
        }
        let snapshots_of = by_devbox
            .into_iter()
            .map(|(k, mut v)| {
                v.sort_by(|a, b| newest_first(a, b));
                (k, v.into_iter().map(|s| s.id.clone()).collect())
            })
            .collect();

        let mut kids: BTreeMap<String, Vec<&Devbox>> = BTreeMap::new();
        for d in devboxes.values() {
            if let Some(sid) = &d.snapshot_id {
                kids.entry(sid.clone()).or_default().push(d);
            }
        }
        let children_of = kids
            .into_iter()
            .map(|(k, mut v)| {
                v.sort_by(|a, b| oldest_devbox_first(a, b));
                (k, v.into_iter().map(|d| d.id.clone()).collect())
            })
            .collect();

        Self {
            devboxes,
            snapshots,
            snapshots_of,
            children_of,
        }
    }

    /// Snapshot ids of a devbox, newest first.
    pub fn snapshots_of(&self, devbox_id: &str) -> &[String] {
        self.snapshots_of.get(devbox_id).map_or(&[], Vec::as_slice)
    }

    /// Devboxes started from a snapshot, oldest first.
    pub fn children_of(&self, snapshot_id: &str) -> &[String] {
        self.children_of.get(snapshot_id).map_or(&[], Vec::as_slice)
    }

    /// Where a devbox came from (`None` if the devbox is not in the list).
    pub fn origin(&self, devbox_id: &str) -> Option<Origin> {
        let d = self.devboxes.get(devbox_id)?;
        let snap = d
            .snapshot_id
            .as_deref()
            .and_then(|id| self.snapshots.get(id));
        Some(Origin {
            snapshot_id: d.snapshot_id.clone(),
            snapshot_source_devbox_id: snap.map(|s| s.source_devbox_id.clone()),
            blueprint_id: d
                .blueprint_id
                .clone()
                .or_else(|| snap.and_then(|s| s.source_blueprint_id.clone())),
        })
    }

    /// The parent devbox (the source of the snapshot it was started from), if known.
    pub fn parent_devbox(&self, devbox_id: &str) -> Option<&str> {
        let sid = self.devboxes.get(devbox_id)?.snapshot_id.as_deref()?;
        self.snapshots.get(sid).map(|s| s.source_devbox_id.as_str())
    }

    /// Ancestor devboxes, nearest first, stopping at a root (or a cycle, which real data
    /// cannot have but a bad fixture could).
    pub fn ancestors(&self, devbox_id: &str) -> Vec<String> {
        let mut seen = BTreeSet::from([devbox_id.to_owned()]);
        let mut out = Vec::new();
        let mut at = devbox_id;
        while let Some(p) = self.parent_devbox(at) {
            if !seen.insert(p.to_owned()) {
                break;
            }
            out.push(p.to_owned());
            at = p;
        }
        out
    }

    /// A devbox's timeline: its snapshots newest first with status, pin and children.
    pub fn timeline(
        &self,
        devbox_id: &str,
        statuses: &BTreeMap<String, SnapshotStatus>,
    ) -> Vec<TimelineEntry> {
        self.snapshots_of(devbox_id)
            .iter()
            .filter_map(|id| self.snapshots.get(id))
            .map(|s| TimelineEntry {
                id: s.id.clone(),
                name: s.name.clone(),
                commit_message: s.commit_message.clone(),
                create_time_ms: s.create_time_ms,
                size_bytes: s.size_bytes,
                metadata: s.metadata.clone(),
                status: statuses.get(&s.id).copied(),
                pinned: is_pinned(s),
                children: self.children_of(&s.id).to_vec(),
            })
            .collect()
    }

    /// Every devbox (listed or named by a snapshot) as one forest: roots are devboxes
    /// without a known parent, newest first; each node lists its snapshots newest
    /// first and, under each, the devboxes started from it.
    pub fn forest(&self) -> Vec<DevboxNode> {
        let mut all: BTreeSet<&str> = self.devboxes.keys().map(String::as_str).collect();
        all.extend(self.snapshots.values().map(|s| s.source_devbox_id.as_str()));

        let mut roots: Vec<&str> = all
            .iter()
            .copied()
            .filter(|d| self.parent_devbox(d).is_none())
            .collect();
        roots.sort_by_key(|d| std::cmp::Reverse((self.sort_time(d), d.to_string())));

        let mut visited = BTreeSet::new();
        let mut forest: Vec<DevboxNode> =
            roots.iter().map(|d| self.node(d, &mut visited)).collect();
        // Anything not reached sits on a cycle: break it at its oldest member.
        let mut rest: Vec<&str> = all.into_iter().filter(|d| !visited.contains(*d)).collect();
        rest.sort_by_key(|d| (self.sort_time(d), d.to_string()));
        for d in rest {
            if !visited.contains(d) {
                forest.push(self.node(d, &mut visited));
            }
        }
        forest
    }

    /// Creation time of a devbox, or its oldest snapshot's for devboxes not listed.
    fn sort_time(&self, devbox_id: &str) -> i64 {
        self.devboxes.get(devbox_id).map_or_else(
            || {
                self.snapshots_of(devbox_id)
                    .iter()
                    .filter_map(|s| self.snapshots.get(s))
                    .map(|s| s.create_time_ms)
                    .min()
                    .unwrap_or(0)
            },
            |d| d.create_time_ms,
        )
    }

    fn node(&self, devbox_id: &str, visited: &mut BTreeSet<String>) -> DevboxNode {
        visited.insert(devbox_id.to_owned());
        let d = self.devboxes.get(devbox_id);
        let mut snapshots = Vec::new();
        for s in self
            .snapshots_of(devbox_id)
            .iter()
            .filter_map(|sid| self.snapshots.get(sid))
        {
            let mut children = Vec::new();
            for c in self.children_of(&s.id) {
                // Checked per child: an earlier sibling's subtree may have reached it.
                if !visited.contains(c) {
                    children.push(self.node(c, visited));
                }
            }
            snapshots.push(SnapshotNode {
                snapshot_id: s.id.clone(),
                name: s.name.clone(),
                create_time_ms: s.create_time_ms,
                children,
            });
        }
        DevboxNode {
            devbox_id: devbox_id.to_owned(),
            known: d.is_some(),
            name: d.and_then(|d| d.name.clone()),
            status: d.map(|d| d.status),
            origin: self.origin(devbox_id).unwrap_or_default(),
            snapshots,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn devbox(id: &str, t: i64, from_snapshot: Option<&str>, blueprint: Option<&str>) -> Devbox {
        let mut d: Devbox = serde_json::from_value(serde_json::json!({
            "id": id, "status": "running", "create_time_ms": t
        }))
        .expect("devbox");
        d.snapshot_id = from_snapshot.map(Into::into);
        d.blueprint_id = blueprint.map(Into::into);
        d
    }

    fn snap(id: &str, devbox: &str, t: i64) -> Snapshot {
        Snapshot {
            id: id.into(),
            create_time_ms: t,
            metadata: Metadata::new(),
            source_devbox_id: devbox.into(),
            name: Some(format!("name of {id}")),
            commit_message: None,
            size_bytes: None,
            source_blueprint_id: Some("bpt_base".into()),
        }
    }

    #[test]
    fn children_by_snapshot_lists_started_devboxes_oldest_first() {
        let kids = children_by_snapshot(
            &[
                devbox("dbx_b", 20, Some("snp_1"), None),
                devbox("dbx_a", 10, Some("snp_1"), None),
                devbox("dbx_c", 5, None, Some("bpt_1")),
                devbox("dbx_d", 30, Some("snp_elsewhere"), None),
            ],
            &[snap("snp_1", "dbx_0", 1), snap("snp_2", "dbx_0", 2)],
        );
        let ids: Vec<&str> = kids["snp_1"].iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["dbx_a", "dbx_b"]);
        assert_eq!(
            kids.len(),
            1,
            "a devbox from a blueprint has no parent snapshot, and snapshots not shown are skipped"
        );
        let mut snaps = vec![
            snap("snp_a", "dbx_a", 1),
            snap("snp_c", "dbx_a", 3),
            snap("snp_b", "dbx_a", 3),
        ];
        sort_newest_first(&mut snaps);
        let order: Vec<&str> = snaps.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(order, ["snp_c", "snp_b", "snp_a"]);
    }

    /// base (from blueprint) → s1, s2; s1 → fork1 → s3 → fork2; s2 → fork3.
    fn sample() -> Lineage {
        Lineage::build(
            &[
                devbox("base", 1, None, Some("bpt_base")),
                devbox("fork1", 20, Some("s1"), None),
                devbox("fork2", 40, Some("s3"), None),
                devbox("fork3", 50, Some("s2"), None),
                devbox("lonely", 60, Some("snp_gone"), None),
            ],
            &[
                snap("s1", "base", 10),
                snap("s2", "base", 15),
                snap("s3", "fork1", 30),
                snap("s_old", "shut_down_long_ago", 5),
            ],
        )
    }

    #[test]
    fn timeline_is_newest_first_with_status_and_children() {
        let l = sample();
        let statuses = [("s1".to_owned(), SnapshotStatus::Complete)]
            .into_iter()
            .collect();
        let t = l.timeline("base", &statuses);
        let ids: Vec<&str> = t.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["s2", "s1"]);
        assert_eq!(t[1].status, Some(SnapshotStatus::Complete));
        assert_eq!(t[0].status, None);
        assert_eq!(t[1].children, ["fork1"]);
    }

    #[test]
    fn origin_names_the_snapshot_its_devbox_and_the_blueprint() {
        let l = sample();
        assert_eq!(
            l.origin("fork1"),
            Some(Origin {
                snapshot_id: Some("s1".into()),
                snapshot_source_devbox_id: Some("base".into()),
                blueprint_id: Some("bpt_base".into()),
            })
        );
        assert_eq!(l.ancestors("fork2"), ["fork1", "base"]);
        // Started from a snapshot we cannot see: the snapshot id is still reported.
        let o = l.origin("lonely").expect("listed");
        assert_eq!(o.snapshot_id.as_deref(), Some("snp_gone"));
        assert_eq!(o.snapshot_source_devbox_id, None);
    }

    #[test]
    fn forest_nests_devboxes_under_the_snapshots_they_came_from() {
        let f = sample().forest();
        let roots: Vec<(&str, bool)> = f.iter().map(|n| (n.devbox_id.as_str(), n.known)).collect();
        assert_eq!(
            roots,
            [
                ("lonely", true),
                // Not listed: placed by its oldest snapshot's time (5), after base (1).
                ("shut_down_long_ago", false),
                ("base", true),
            ]
        );
        let base = &f[2];
        assert_eq!(base.snapshots[0].snapshot_id, "s2");
        assert_eq!(base.snapshots[0].children[0].devbox_id, "fork3");
        let fork1 = &base.snapshots[1].children[0];
        assert_eq!(fork1.devbox_id, "fork1");
        assert_eq!(fork1.snapshots[0].children[0].devbox_id, "fork2");
    }

    #[test]
    fn every_devbox_appears_once_even_with_a_cycle() {
        // Impossible in real data, but a corrupt fixture must not hang or drop nodes.
        let l = Lineage::build(
            &[
                devbox("a", 1, Some("sb"), None),
                devbox("b", 2, Some("sa"), None),
            ],
            &[snap("sa", "a", 3), snap("sb", "b", 4)],
        );
        let f = l.forest();
        fn count(n: &DevboxNode) -> usize {
            1 + n
                .snapshots
                .iter()
                .flat_map(|s| &s.children)
                .map(count)
                .sum::<usize>()
        }
        assert_eq!(f.iter().map(count).sum::<usize>(), 2);
        assert_eq!(l.ancestors("a"), ["b"]);
    }

    fn ids(s: &[Snapshot]) -> Vec<&str> {
        s.iter().map(|s| s.id.as_str()).collect()
    }

    #[test]
    fn first_page_of_the_timeline_is_known_from_the_first_list_page() {
        let mut l = TimelineList::new();
        assert_eq!(l.page(1, 2), None, "nothing in yet");
        // The API lists newest first: t=9, 8, 7, 7 | 7, 5 | 1.
        l.push_page(
            vec![
                snap("e", "d", 9),
                snap("d", "d", 8),
                snap("b", "d", 7),
                snap("a", "d", 7),
            ],
            true,
            Some(7),
        );
        assert_eq!(l.total(), Some(7));
        assert_eq!(l.loaded(), 4);
        // 9 and 8 are final; the two at 7 may yet be joined by another at 7.
        assert_eq!(l.settled(), 2);
        assert_eq!(l.page(1, 2).map(ids), Some(vec!["e", "d"]));
        assert_eq!(l.page(2, 2), None);
        // "c" at 7 sorts before "b" and "a" (ties by id, descending).
        l.push_page(vec![snap("c", "d", 7), snap("x", "d", 5)], true, Some(7));
        assert_eq!(l.settled(), 5);
        assert_eq!(l.page(2, 2).map(ids), Some(vec!["c", "b"]));
        assert_eq!(
            l.page(3, 2),
            None,
            "page 3 ends at 5, which a later page may tie"
        );
        l.push_page(vec![snap("z", "d", 1)], false, Some(7));
        assert!(l.is_complete());
        assert_eq!(l.page(4, 2).map(ids), Some(vec!["z"]));
        assert_eq!(l.page(9, 2).map(ids), Some(vec![]), "past the end: empty");
    }

    #[test]
    fn a_list_that_is_not_newest_first_shows_nothing_until_it_is_all_in() {
        let mut l = TimelineList::new();
        l.push_page(vec![snap("a", "d", 1), snap("b", "d", 2)], true, None);
        assert_eq!((l.settled(), l.total()), (0, None));
        assert_eq!(l.page(1, 10), None);
        l.push_page(vec![snap("c", "d", 3)], false, None);
        assert_eq!(l.total(), Some(3));
        assert_eq!(l.page(1, 10).map(ids), Some(vec!["c", "b", "a"]));
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// However the list is cut into pages and however the API orders ties, a
            /// page the timeline shows early is exactly that page of the whole list.
            #[test]
            fn early_pages_equal_the_pages_of_the_whole_list(
                times in prop::collection::vec(0i64..20, 0..60),
                cuts in prop::collection::vec(1usize..15, 1..10),
                per_page in 1usize..8,
            ) {
                // API order: newest first, ties in creation order (not id order).
                let mut api: Vec<Snapshot> = times
                    .iter()
                    .enumerate()
                    .map(|(i, t)| snap(&format!("s{:02}", (i * 37) % 61), "d", *t))
                    .collect();
                api.sort_by_key(|s| std::cmp::Reverse(s.create_time_ms));
                let mut whole = api.clone();
                sort_newest_first(&mut whole);

                let mut l = TimelineList::new();
                let mut rest = api.as_slice();
                let mut cut = cuts.iter().cycle();
                loop {
                    let n = (*cut.next().unwrap_or(&1)).min(rest.len());
                    let (page, tail) = rest.split_at(n);
                    rest = tail;
                    l.push_page(page.to_vec(), !rest.is_empty(), Some(api.len() as u64));
                    let settled = l.settled();
                    prop_assert_eq!(&whole[..settled], &l.snapshots[..settled]);
                    for p in 1..=whole.len().div_ceil(per_page) + 1 {
                        if let Some(shown) = l.page(p, per_page) {
                            let start = ((p - 1) * per_page).min(whole.len());
                            let end = (p * per_page).min(whole.len());
                            prop_assert_eq!(shown, &whole[start..end]);
                        }
                    }
                    if rest.is_empty() {
                        break;
                    }
                }
                prop_assert!(l.is_complete());
                prop_assert_eq!(l.total(), Some(whole.len()));
                prop_assert_eq!(&l.snapshots, &whole);
            }
        }
    }
}
