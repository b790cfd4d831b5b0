//! List querying, the same for every list in the app: free-text search, a column sort
//! whose ties always break newest first then by id (so polling never reshuffles equal
//! rows and shift-click ranges follow what is on screen), and paging.
//!
//! A page holds its query (`?q=&sort=&page=`) and calls [`devboxes`] or [`snapshots`]
//! with the listing; nothing in a page file decides an order.

use std::cmp::Ordering;
use std::collections::HashMap;

use snapdeck_api::{Blueprint, BlueprintStatus, Devbox, DevboxStatus, Snapshot};

/// Rows per page in tables and the timeline (keeps the DOM small: < 500 rows).
pub const PAGE_SIZE: usize = 50;

/// A column a list can be sorted by, named in the URL.
pub trait SortKey: Copy + Eq + 'static {
    /// Every key, in the order the URL names are matched.
    const ALL: &'static [Self];
    /// The column a list is sorted by when the URL says nothing.
    const DEFAULT: Self;
    /// The name in `?sort=` (`-` in front for descending).
    fn as_str(self) -> &'static str;
    /// The direction of a first click on the column: dates and sizes start with the
    /// newest and largest (what people look for), text starts at A.
    fn starts_descending(self) -> bool;
}

/// Columns of the snapshot list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SnapshotColumn {
    Name,
    Devbox,
    Created,
    Size,
}

impl SortKey for SnapshotColumn {
    const ALL: &'static [Self] = &[Self::Name, Self::Devbox, Self::Created, Self::Size];
    const DEFAULT: Self = Self::Created;
    fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Devbox => "devbox",
            Self::Created => "created",
            Self::Size => "size",
        }
    }
    fn starts_descending(self) -> bool {
        matches!(self, Self::Created | Self::Size)
    }
}

/// Columns of the devbox list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DevboxColumn {
    Name,
    Status,
    Created,
}

impl SortKey for DevboxColumn {
    const ALL: &'static [Self] = &[Self::Name, Self::Status, Self::Created];
    const DEFAULT: Self = Self::Created;
    fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Status => "status",
            Self::Created => "created",
        }
    }
    fn starts_descending(self) -> bool {
        self == Self::Created
    }
}

/// Columns of the blueprint list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlueprintColumn {
    Name,
    Status,
    Created,
}

impl SortKey for BlueprintColumn {
    const ALL: &'static [Self] = &[Self::Name, Self::Status, Self::Created];
    const DEFAULT: Self = Self::Created;
    fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Status => "status",
            Self::Created => "created",
        }
    }
    fn starts_descending(self) -> bool {
        self == Self::Created
    }
}

/// A list's order: a column and a direction, `?sort=name` / `?sort=-created`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sort<K> {
    pub key: K,
    pub descending: bool,
}

impl<K: SortKey> Default for Sort<K> {
    fn default() -> Self {
        Self::by(K::DEFAULT)
    }
}

impl<K: SortKey> Sort<K> {
    /// Sorted by `key` in its first-click direction.
    pub fn by(key: K) -> Self {
        Self {
            key,
            descending: key.starts_descending(),
        }
    }

    /// Reads `?sort=`; anything unknown is the default order.
    pub fn parse(s: &str) -> Self {
        let (name, descending) = match s.strip_prefix('-') {
            Some(rest) => (rest, true),
            None => (s, false),
        };
        K::ALL
            .iter()
            .find(|k| k.as_str() == name)
            .map_or_else(Self::default, |&key| Self { key, descending })
    }

    /// The `?sort=` value; empty for the default order, so plain URLs stay plain.
    pub fn param(self) -> String {
        if self == Self::default() {
            String::new()
        } else if self.descending {
            format!("-{}", self.key.as_str())
        } else {
            self.key.as_str().to_string()
        }
    }

    /// The order after a click on `key`'s header: the active column flips, another
    /// column starts in its own first-click direction.
    pub fn toggled(self, key: K) -> Self {
        if self.key == key {
            Self {
                key,
                descending: !self.descending,
            }
        } else {
            Self::by(key)
        }
    }

    /// `None` when the list is sorted by another column, else whether it is descending.
    pub fn direction_of(self, key: K) -> Option<bool> {
        (self.key == key).then_some(self.descending)
    }

    /// Applies the direction to an ascending comparison.
    pub fn directed(self, ord: Ordering) -> Ordering {
        if self.descending { ord.reverse() } else { ord }
    }
}

/// Text order ignoring ASCII case, without allocating (a sort compares thousands of
/// times). ASCII only on purpose: names here are mostly identifiers (`nightly-3`,
/// `ci-warm-cache`), and Unicode case tables would cost wasm size for little gain;
/// other letters still sort deterministically, by code point.
pub fn compare_text(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

/// Orders optional names: named rows first (by [`compare_text`]), unnamed ones after.
pub fn compare_names(a: Option<&str>, b: Option<&str>) -> Ordering {
    match (a.filter(|n| !n.is_empty()), b.filter(|n| !n.is_empty())) {
        (Some(a), Some(b)) => compare_text(a, b),
        (a, b) => b.is_some().cmp(&a.is_some()),
    }
}

/// The tie-break of every list: newest first, then by id (descending), so the order
/// never depends on the order the API listed rows in.
fn newest_then_id(a: (i64, &str), b: (i64, &str)) -> Ordering {
    b.0.cmp(&a.0).then_with(|| b.1.cmp(a.1))
}

/// True when any of `fields` contains the trimmed search `q`, ignoring case; an empty
/// search matches everything.
fn matches<'a>(q: &str, fields: impl IntoIterator<Item = &'a str>) -> bool {
    let q = q.trim().to_lowercase();
    q.is_empty() || fields.into_iter().any(|f| f.to_lowercase().contains(&q))
}

/// One page (1-based) of `rows`; a page past the end is empty.
pub fn page_of<T: Clone>(rows: &[T], page: usize) -> Vec<T> {
    let start = page.saturating_sub(1).saturating_mul(PAGE_SIZE);
    rows.iter().skip(start).take(PAGE_SIZE).cloned().collect()
}

/// How many pages `total` rows make (at least 1, so "page 1 of 1" reads right).
pub fn page_count(total: usize) -> usize {
    total.div_ceil(PAGE_SIZE).max(1)
}

/// The devbox list's rules.
pub mod devboxes {
    use super::*;

    /// True when the search matches the devbox's name or id.
    pub fn matches_search(d: &Devbox, q: &str) -> bool {
        super::matches(q, [d.id.as_str()].into_iter().chain(d.name.as_deref()))
    }

    /// Sorts `list` by `sort`. Statuses sort in lifecycle order (the chips' order), not
    /// alphabetically, so running boxes sit together between starting and stopping
    /// ones. Ties go newest first, then by id.
    pub fn sort(list: &mut [Devbox], sort: Sort<DevboxColumn>) {
        let stage = |s: DevboxStatus| DevboxStatus::ALL.iter().position(|&x| x == s);
        list.sort_by(|a, b| {
            let by_key = match sort.key {
                DevboxColumn::Name => compare_names(a.name.as_deref(), b.name.as_deref()),
                // Unknown statuses (None) after every known one.
                DevboxColumn::Status => match (stage(a.status), stage(b.status)) {
                    (Some(x), Some(y)) => x.cmp(&y),
                    (x, y) => y.is_some().cmp(&x.is_some()),
                },
                DevboxColumn::Created => a.create_time_ms.cmp(&b.create_time_ms),
            };
            sort.directed(by_key)
                .then_with(|| newest_then_id((a.create_time_ms, &a.id), (b.create_time_ms, &b.id)))
        });
    }

    /// The filter → sort pipeline of the list: the rows matching `status` (if any) and
    /// the search, in `order`.
    pub fn query(
        list: &[Devbox],
        status: Option<DevboxStatus>,
        q: &str,
        order: Sort<DevboxColumn>,
    ) -> Vec<Devbox> {
        let mut rows: Vec<Devbox> = list
            .iter()
            .filter(|d| status.is_none_or(|s| d.status == s) && matches_search(d, q))
            .cloned()
            .collect();
        sort(&mut rows, order);
        rows
    }
}

/// The snapshot list's rules.
pub mod snapshots {
    use super::*;

    /// True when `s` matches the free-text filter (name, id or commit message).
    pub fn matches_text(s: &Snapshot, q: &str) -> bool {
        super::matches(
            q,
            [s.id.as_str()]
                .into_iter()
                .chain(s.name.as_deref())
                .chain(s.commit_message.as_deref()),
        )
    }

    /// Sorts `list` by `sort`. Ties go newest first, then by id. The devbox column
    /// sorts by what it shows: the devbox's name, or its id when it has none.
    pub fn sort(list: &mut [Snapshot], sort: Sort<SnapshotColumn>, devboxes: &[Devbox]) {
        let names: HashMap<&str, &str> = match sort.key {
            SnapshotColumn::Devbox => devboxes
                .iter()
                .filter_map(|d| Some((d.id.as_str(), d.name.as_deref().filter(|n| !n.is_empty())?)))
                .collect(),
            _ => HashMap::new(),
        };
        fn label<'a>(names: &HashMap<&str, &'a str>, s: &'a Snapshot) -> &'a str {
            names
                .get(s.source_devbox_id.as_str())
                .copied()
                .unwrap_or(&s.source_devbox_id)
        }
        list.sort_by(|a, b| {
            let by_key = match sort.key {
                SnapshotColumn::Name => compare_names(a.name.as_deref(), b.name.as_deref()),
                SnapshotColumn::Devbox => compare_text(label(&names, a), label(&names, b)),
                SnapshotColumn::Created => a.create_time_ms.cmp(&b.create_time_ms),
                SnapshotColumn::Size => a.size_bytes.cmp(&b.size_bytes),
            };
            sort.directed(by_key)
                .then_with(|| newest_then_id((a.create_time_ms, &a.id), (b.create_time_ms, &b.id)))
        });
    }

    /// The search → sort pipeline of the list (the API already filtered by devbox,
    /// blueprint and metadata).
    pub fn query(
        list: &[Snapshot],
        q: &str,
        order: Sort<SnapshotColumn>,
        devboxes: &[Devbox],
    ) -> Vec<Snapshot> {
        let mut rows: Vec<Snapshot> = list
            .iter()
            .filter(|s| matches_text(s, q))
            .cloned()
            .collect();
        sort(&mut rows, order, devboxes);
        rows
    }
}

/// The blueprint list's rules.
pub mod blueprints {
    use super::*;

    /// True when the search matches the blueprint's name or id.
    pub fn matches_search(b: &Blueprint, q: &str) -> bool {
        super::matches(q, [b.id.as_str(), b.name.as_str()])
    }

    /// Sorts `list` by `sort`; statuses in build order (the chips' order). Ties go
    /// newest first, then by id.
    pub fn sort(list: &mut [Blueprint], sort: Sort<BlueprintColumn>) {
        let stage = |s: BlueprintStatus| BlueprintStatus::ALL.iter().position(|&x| x == s);
        list.sort_by(|a, b| {
            let by_key = match sort.key {
                BlueprintColumn::Name => compare_text(&a.name, &b.name),
                BlueprintColumn::Status => match (stage(a.status), stage(b.status)) {
                    (Some(x), Some(y)) => x.cmp(&y),
                    (x, y) => y.is_some().cmp(&x.is_some()),
                },
                BlueprintColumn::Created => a.create_time_ms.cmp(&b.create_time_ms),
            };
            sort.directed(by_key)
                .then_with(|| newest_then_id((a.create_time_ms, &a.id), (b.create_time_ms, &b.id)))
        });
    }

    /// The filter → sort pipeline: rows in `status` (if any) matching the search.
    pub fn query(
        list: &[Blueprint],
        status: Option<BlueprintStatus>,
        q: &str,
        order: Sort<BlueprintColumn>,
    ) -> Vec<Blueprint> {
        let mut rows: Vec<Blueprint> = list
            .iter()
            .filter(|b| status.is_none_or(|s| b.status == s) && matches_search(b, q))
            .cloned()
            .collect();
        sort(&mut rows, order);
        rows
    }

    /// How many of `list` match the search, per status present, in build order: the
    /// chips' counts (the selected status is listed even at zero).
    pub fn status_counts(
        list: &[Blueprint],
        q: &str,
        selected: Option<BlueprintStatus>,
    ) -> Vec<(BlueprintStatus, usize)> {
        let searched: Vec<&Blueprint> = list.iter().filter(|b| matches_search(b, q)).collect();
        BlueprintStatus::ALL
            .into_iter()
            .map(|s| (s, searched.iter().filter(|b| b.status == s).count()))
            .filter(|&(s, n)| n > 0 || selected == Some(s))
            .collect()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn bp(id: &str, name: &str, status: BlueprintStatus, t: i64) -> Blueprint {
            Blueprint {
                id: id.into(),
                name: name.into(),
                status,
                state: "created".into(),
                create_time_ms: t,
                build_finish_time_ms: None,
                failure_reason: None,
                base_blueprint_id: None,
                parameters: serde_json::Value::Null,
                metadata: Default::default(),
            }
        }

        fn ids(rows: &[Blueprint]) -> Vec<&str> {
            rows.iter().map(|b| b.id.as_str()).collect()
        }

        fn list() -> Vec<Blueprint> {
            vec![
                bp("bpt_1", "node-20", BlueprintStatus::BuildComplete, 10),
                bp("bpt_2", "Python", BlueprintStatus::Failed, 30),
                bp("bpt_3", "python-ml", BlueprintStatus::Building, 20),
                bp("bpt_4", "node-20", BlueprintStatus::BuildComplete, 30),
            ]
        }

        #[test]
        fn the_default_order_is_newest_first_with_ids_breaking_ties() {
            let rows = query(&list(), None, "", Sort::default());
            assert_eq!(ids(&rows), ["bpt_4", "bpt_2", "bpt_3", "bpt_1"]);
        }

        #[test]
        fn status_and_search_narrow_together_ignoring_case_and_matching_ids() {
            let rows = query(&list(), None, "PYTHON", Sort::default());
            assert_eq!(ids(&rows), ["bpt_2", "bpt_3"]);
            let rows = query(
                &list(),
                Some(BlueprintStatus::BuildComplete),
                "node",
                Sort::default(),
            );
            assert_eq!(ids(&rows), ["bpt_4", "bpt_1"]);
            assert_eq!(
                ids(&query(&list(), None, "bpt_3", Sort::default())),
                ["bpt_3"]
            );
        }

        #[test]
        fn statuses_sort_in_build_order_not_alphabetically() {
            let rows = query(&list(), None, "", Sort::by(BlueprintColumn::Status));
            // building, failed, then the two complete ones newest first.
            assert_eq!(ids(&rows), ["bpt_3", "bpt_2", "bpt_4", "bpt_1"]);
            let rows = query(&list(), None, "", Sort::by(BlueprintColumn::Name));
            assert_eq!(ids(&rows), ["bpt_4", "bpt_1", "bpt_2", "bpt_3"]);
        }

        #[test]
        fn chips_count_the_searched_rows_per_status_and_keep_the_selected_one() {
            assert_eq!(
                status_counts(&list(), "", None),
                [
                    (BlueprintStatus::Building, 1),
                    (BlueprintStatus::Failed, 1),
                    (BlueprintStatus::BuildComplete, 2)
                ]
            );
            assert_eq!(
                status_counts(&list(), "node", Some(BlueprintStatus::Queued)),
                [
                    (BlueprintStatus::Queued, 0),
                    (BlueprintStatus::BuildComplete, 2)
                ]
            );
        }
    }
}

/// The two lists of a cleanup plan (Delete, Keep) as the Cleanup page shows them.
pub mod plan {
    use super::*;
    use crate::retention::{CleanupPlan, Decision, KeepReason, PlanItem};

    /// How a plan list is ordered (the Cleanup page's select).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub enum PlanOrder {
        #[default]
        Newest,
        Oldest,
        Largest,
    }

    impl PlanOrder {
        /// Every order, as the select lists them.
        pub const ALL: [Self; 3] = [Self::Newest, Self::Oldest, Self::Largest];

        /// The select's value.
        pub fn as_str(self) -> &'static str {
            match self {
                Self::Newest => "newest",
                Self::Oldest => "oldest",
                Self::Largest => "largest",
            }
        }

        /// Reads a select value; anything else is the default.
        pub fn parse(s: &str) -> Self {
            Self::ALL
                .into_iter()
                .find(|o| o.as_str() == s)
                .unwrap_or_default()
        }

        /// What the select shows.
        pub fn label(self) -> &'static str {
            match self {
                Self::Newest => "Newest first",
                Self::Oldest => "Oldest first",
                Self::Largest => "Largest first",
            }
        }
    }

    /// One side of `plan` (`delete`: the Delete list, else Keep), without snapshots
    /// outside the policy's scope, searched by name or id, in `order`; ties go newest
    /// first, then by id.
    pub fn rows(plan: &CleanupPlan, delete: bool, q: &str, order: PlanOrder) -> Vec<PlanItem> {
        let mut items: Vec<PlanItem> = plan
            .items
            .iter()
            .filter(|i| i.decision.is_delete() == delete)
            .filter(|i| !matches!(i.decision, Decision::Keep(KeepReason::OutOfScope)))
            .filter(|i| {
                super::matches(
                    q,
                    [i.snapshot.id.as_str()]
                        .into_iter()
                        .chain(i.snapshot.name.as_deref()),
                )
            })
            .cloned()
            .collect();
        items.sort_by(|a, b| {
            let (a, b) = (&a.snapshot, &b.snapshot);
            let by_key = match order {
                PlanOrder::Newest => b.create_time_ms.cmp(&a.create_time_ms),
                PlanOrder::Oldest => a.create_time_ms.cmp(&b.create_time_ms),
                PlanOrder::Largest => b.size_bytes.cmp(&a.size_bytes),
            };
            by_key
                .then_with(|| newest_then_id((a.create_time_ms, &a.id), (b.create_time_ms, &b.id)))
        });
        items
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::retention::{self, RetentionPolicy};
        use snapdeck_api::SnapshotStatus;
        use std::collections::BTreeMap;

        fn snap(id: &str, devbox: &str, t: i64, size: u64, name: Option<&str>) -> Snapshot {
            Snapshot {
                id: id.into(),
                source_devbox_id: devbox.into(),
                name: name.map(Into::into),
                create_time_ms: t,
                size_bytes: Some(size),
                metadata: Default::default(),
                commit_message: None,
                source_blueprint_id: None,
            }
        }

        fn plan() -> CleanupPlan {
            let list = vec![
                snap("s1", "d1", 1_000, 30, Some("nightly-1")),
                snap("s2", "d1", 2_000, 10, Some("nightly-2")),
                snap("s3", "d1", 3_000, 20, Some("release")),
                snap("s4", "d1", 4_000, 5, Some("nightly-4")),
                snap("x1", "d2", 500, 99, Some("other")),
            ];
            let statuses: BTreeMap<String, SnapshotStatus> = list
                .iter()
                .map(|s| (s.id.clone(), SnapshotStatus::Complete))
                .collect();
            let policy = RetentionPolicy {
                scope: retention::Scope::Devbox("d1".into()),
                keep_newest: 1,
                ..RetentionPolicy::default()
            };
            retention::plan(&policy, &list, &statuses, 10_000)
        }

        fn ids(rows: &[PlanItem]) -> Vec<&str> {
            rows.iter().map(|i| i.snapshot.id.as_str()).collect()
        }

        #[test]
        fn each_side_lists_its_own_in_scope_rows_in_the_chosen_order() {
            let p = plan();
            assert_eq!(
                ids(&rows(&p, true, "", PlanOrder::Newest)),
                ["s3", "s2", "s1"]
            );
            assert_eq!(
                ids(&rows(&p, true, "", PlanOrder::Oldest)),
                ["s1", "s2", "s3"]
            );
            assert_eq!(
                ids(&rows(&p, true, "", PlanOrder::Largest)),
                ["s1", "s3", "s2"]
            );
            // The other devbox is out of scope: in neither list.
            assert_eq!(ids(&rows(&p, false, "", PlanOrder::Newest)), ["s4"]);
        }

        #[test]
        fn search_matches_name_or_id_ignoring_case() {
            let p = plan();
            assert_eq!(
                ids(&rows(&p, true, " NIGHTLY ", PlanOrder::Newest)),
                ["s2", "s1"]
            );
            assert_eq!(ids(&rows(&p, true, "s3", PlanOrder::Newest)), ["s3"]);
            assert!(rows(&p, true, "other", PlanOrder::Newest).is_empty());
        }

        #[test]
        fn orders_round_trip_through_their_select_values() {
            for o in PlanOrder::ALL {
                assert_eq!(PlanOrder::parse(o.as_str()), o);
            }
            assert_eq!(PlanOrder::parse("bogus"), PlanOrder::Newest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use snapdeck_api::Metadata;
    use std::cmp::Ordering::*;

    #[test]
    fn text_compares_without_regard_to_case() {
        assert_eq!(compare_text("alpha", "Beta"), Less);
        assert_eq!(compare_text("ALPHA", "alpha"), Equal);
        assert_eq!(compare_text("nightly-10", "nightly-9"), Less);
    }

    #[test]
    fn unnamed_rows_come_after_named_ones() {
        assert_eq!(compare_names(Some("zed"), None), Less);
        assert_eq!(compare_names(Some(""), Some("a")), Greater);
        assert_eq!(compare_names(None, Some("")), Equal);
    }

    #[test]
    fn the_default_sort_is_newest_first_and_stays_out_of_the_url() {
        let d = Sort::<SnapshotColumn>::default();
        assert_eq!((d.key, d.descending), (SnapshotColumn::Created, true));
        assert_eq!(Sort::<SnapshotColumn>::parse("-created"), d);
        assert_eq!(d.param(), "");
    }

    #[test]
    fn every_sort_round_trips_through_its_url_name() {
        fn check<K: SortKey + std::fmt::Debug>() {
            for &key in K::ALL {
                for descending in [false, true] {
                    let s = Sort { key, descending };
                    let param = s.param();
                    let back = if param.is_empty() {
                        Sort::default()
                    } else {
                        Sort::parse(&param)
                    };
                    assert_eq!(back, s, "{param}");
                }
            }
        }
        check::<SnapshotColumn>();
        check::<DevboxColumn>();
    }

    #[test]
    fn unknown_or_malformed_sorts_fall_back_to_the_default() {
        for bad in ["", "-", "--name", "Name", "status", "size ", "-bogus"] {
            assert_eq!(
                Sort::<SnapshotColumn>::parse(bad),
                Sort::default(),
                "{bad:?}"
            );
        }
        assert_eq!(Sort::<DevboxColumn>::parse("size"), Sort::default());
    }

    #[test]
    fn clicking_the_active_column_flips_it_and_another_starts_in_its_own_direction() {
        let s = Sort::<SnapshotColumn>::default();
        let flipped = s.toggled(SnapshotColumn::Created);
        assert_eq!(flipped.param(), "created");
        assert_eq!(flipped.toggled(SnapshotColumn::Created), s);
        assert_eq!(s.toggled(SnapshotColumn::Name).param(), "name");
        assert_eq!(s.toggled(SnapshotColumn::Size).param(), "-size");
        assert_eq!(
            Sort::<SnapshotColumn>::parse("name")
                .toggled(SnapshotColumn::Name)
                .param(),
            "-name"
        );
        assert_eq!(s.direction_of(SnapshotColumn::Created), Some(true));
        assert_eq!(s.direction_of(SnapshotColumn::Name), None);
    }

    #[test]
    fn pages_hold_page_size_rows_and_a_page_past_the_end_is_empty() {
        let rows: Vec<usize> = (0..120).collect();
        assert_eq!(page_of(&rows, 1), (0..50).collect::<Vec<_>>());
        assert_eq!(page_of(&rows, 3), (100..120).collect::<Vec<_>>());
        assert!(page_of(&rows, 4).is_empty());
        assert_eq!(page_of(&rows, 0), page_of(&rows, 1));
        assert_eq!((page_count(0), page_count(50), page_count(51)), (1, 1, 2));
    }

    fn devbox(id: &str, name: Option<&str>, status: &str, created: i64) -> Devbox {
        let json = serde_json::json!({
            "id": id, "name": name, "status": status, "create_time_ms": created,
        });
        serde_json::from_value(json).expect("a valid devbox")
    }

    fn devbox_ids(list: &[Devbox]) -> Vec<&str> {
        list.iter().map(|d| d.id.as_str()).collect()
    }

    fn fleet() -> Vec<Devbox> {
        vec![
            devbox("dbx_a", Some("web"), "running", 10),
            devbox("dbx_b", Some("Api"), "suspended", 30),
            devbox("dbx_c", None, "provisioning", 20),
            devbox("dbx_d", Some("batch"), "running", 30),
        ]
    }

    #[test]
    fn devboxes_default_to_newest_first_with_ties_broken_by_id() {
        let mut list = fleet();
        devboxes::sort(&mut list, Sort::default());
        assert_eq!(devbox_ids(&list), ["dbx_d", "dbx_b", "dbx_c", "dbx_a"]);
        devboxes::sort(&mut list, Sort::parse("created"));
        assert_eq!(devbox_ids(&list), ["dbx_a", "dbx_c", "dbx_d", "dbx_b"]);
    }

    #[test]
    fn devbox_names_sort_ignoring_case_with_unnamed_boxes_last() {
        let mut list = fleet();
        devboxes::sort(&mut list, Sort::parse("name"));
        assert_eq!(devbox_ids(&list), ["dbx_b", "dbx_d", "dbx_a", "dbx_c"]);
        devboxes::sort(&mut list, Sort::parse("-name"));
        assert_eq!(devbox_ids(&list), ["dbx_c", "dbx_a", "dbx_d", "dbx_b"]);
    }

    #[test]
    fn devbox_statuses_sort_in_lifecycle_order_and_equal_ones_newest_first() {
        let mut list = fleet();
        devboxes::sort(&mut list, Sort::parse("status"));
        assert_eq!(devbox_ids(&list), ["dbx_c", "dbx_d", "dbx_a", "dbx_b"]);
        devboxes::sort(&mut list, Sort::parse("-status"));
        assert_eq!(devbox_ids(&list), ["dbx_b", "dbx_d", "dbx_a", "dbx_c"]);
    }

    #[test]
    fn the_devbox_query_filters_by_status_and_search_then_sorts() {
        let rows = devboxes::query(&fleet(), Some(DevboxStatus::Running), "", Sort::default());
        assert_eq!(devbox_ids(&rows), ["dbx_d", "dbx_a"]);
        let rows = devboxes::query(&fleet(), None, " API ", Sort::default());
        assert_eq!(devbox_ids(&rows), ["dbx_b"]);
        let rows = devboxes::query(&fleet(), None, "dbx_c", Sort::default());
        assert_eq!(devbox_ids(&rows), ["dbx_c"]);
    }

    fn snap(id: &str) -> Snapshot {
        Snapshot {
            id: id.into(),
            create_time_ms: 1,
            metadata: Metadata::new(),
            source_devbox_id: "dbx_1".into(),
            name: Some("nightly-1".into()),
            commit_message: Some("Warm the cache".into()),
            size_bytes: Some(1),
            source_blueprint_id: None,
        }
    }

    fn sized(
        id: &str,
        name: Option<&str>,
        devbox: &str,
        created: i64,
        size: Option<u64>,
    ) -> Snapshot {
        Snapshot {
            name: name.map(Into::into),
            source_devbox_id: devbox.into(),
            create_time_ms: created,
            size_bytes: size,
            ..snap(id)
        }
    }

    fn ids(list: &[Snapshot]) -> Vec<&str> {
        list.iter().map(|s| s.id.as_str()).collect()
    }

    fn sample() -> Vec<Snapshot> {
        vec![
            sized("snp_1", Some("nightly-2"), "dbx_b", 10, Some(300)),
            sized("snp_2", Some("Base"), "dbx_a", 20, None),
            sized("snp_3", None, "dbx_c", 20, Some(100)),
            sized("snp_4", Some("pre-deploy"), "dbx_a", 5, Some(300)),
        ]
    }

    #[test]
    fn snapshots_default_to_newest_first_with_ties_broken_by_id() {
        let mut list = sample();
        snapshots::sort(&mut list, Sort::default(), &[]);
        assert_eq!(ids(&list), ["snp_3", "snp_2", "snp_1", "snp_4"]);
    }

    #[test]
    fn snapshot_names_sort_ignoring_case_with_unnamed_ones_last() {
        let mut list = sample();
        snapshots::sort(&mut list, Sort::parse("name"), &[]);
        assert_eq!(ids(&list), ["snp_2", "snp_1", "snp_4", "snp_3"]);
    }

    #[test]
    fn sizes_sort_largest_first_and_equal_sizes_newest_first() {
        let mut list = sample();
        snapshots::sort(&mut list, Sort::parse("-size"), &[]);
        assert_eq!(ids(&list), ["snp_1", "snp_4", "snp_3", "snp_2"]);
        snapshots::sort(&mut list, Sort::parse("size"), &[]);
        assert_eq!(ids(&list), ["snp_2", "snp_3", "snp_1", "snp_4"]);
    }

    #[test]
    fn the_devbox_column_sorts_by_the_name_it_shows() {
        // dbx_a is "zeta", dbx_b is "alpha", dbx_c has no name: its id stands in.
        let boxes = [
            devbox("dbx_a", Some("zeta"), "running", 0),
            devbox("dbx_b", Some("alpha"), "running", 0),
            devbox("dbx_c", Some(""), "running", 0),
        ];
        let mut list = sample();
        snapshots::sort(&mut list, Sort::parse("devbox"), &boxes);
        assert_eq!(ids(&list), ["snp_1", "snp_3", "snp_2", "snp_4"]);
    }

    #[test]
    fn text_filter_looks_at_name_id_and_message() {
        let s = snap("snp_abc");
        assert!(snapshots::matches_text(&s, "NIGHTLY"));
        assert!(snapshots::matches_text(&s, "abc"));
        assert!(snapshots::matches_text(&s, "cache"));
        assert!(snapshots::matches_text(&s, " "));
        assert!(!snapshots::matches_text(&s, "zzz"));
        let rows = snapshots::query(&sample(), "NIGHT", Sort::default(), &[]);
        assert_eq!(ids(&rows), ["snp_1"]);
    }
}
