//! Every URL in the app comes from [`Page`]: filters, sort, selection scope and paging
//! live in the query string, so reloads and deep links land exactly where the person was.

use leptos_router::params::ParamsMap;
use snapdeck_api::DevboxStatus;

use crate::fmt::encode_component;

/// Rows per page in tables and the timeline (keeps the DOM small: < 500 rows).
pub const PAGE_SIZE: usize = 50;

/// A page of the app with its query state.
#[derive(Debug, Clone, PartialEq)]
pub enum Page {
    /// `/devboxes?status=&q=&sort=&page=`
    Devboxes(DevboxesQuery),
    /// `/devboxes/:id?page=`
    Devbox { id: String, page: usize },
    /// `/snapshots?devbox=&blueprint=&meta=k=v&q=&sort=&page=`
    Snapshots(SnapshotsQuery),
    /// `/cleanup?devbox=&keep=&older=&errored=&pins=`
    Cleanup(CleanupQuery),
    /// `/settings`
    Settings,
}

/// Query state of the devbox list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DevboxesQuery {
    pub status: Option<DevboxStatus>,
    pub q: String,
    pub sort: Sort<DevboxSort>,
    /// 1-based.
    pub page: usize,
}

/// Query state of the snapshot list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SnapshotsQuery {
    pub devbox: Option<String>,
    /// Exact metadata matches, `key=value`.
    pub meta: Vec<(String, String)>,
    pub blueprint: Option<String>,
    pub q: String,
    pub sort: Sort<SnapshotSort>,
    /// 1-based.
    pub page: usize,
}

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
pub enum SnapshotSort {
    Name,
    Devbox,
    Created,
    Size,
}

impl SortKey for SnapshotSort {
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
pub enum DevboxSort {
    Name,
    Status,
    Created,
}

impl SortKey for DevboxSort {
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
    pub fn directed(self, ord: std::cmp::Ordering) -> std::cmp::Ordering {
        if self.descending { ord.reverse() } else { ord }
    }
}

/// The cleanup policy as it sits in the URL.
#[derive(Debug, Clone, PartialEq)]
pub struct CleanupQuery {
    /// `None` = every devbox.
    pub devbox: Option<String>,
    pub keep: u32,
    pub older_than_days: Option<u32>,
    pub include_errored: bool,
    pub respect_pins: bool,
}

impl Default for CleanupQuery {
    fn default() -> Self {
        Self {
            devbox: None,
            keep: 3,
            older_than_days: None,
            // Off by default: the API refuses to delete a snapshot that is not complete
            // (409), so errored ones are only worth planning when someone asks.
            include_errored: false,
            respect_pins: true,
        }
    }
}

fn page_of(p: &ParamsMap) -> usize {
    p.get_str("page")
        .and_then(|s| s.parse().ok())
        .filter(|&n: &usize| n >= 1)
        .unwrap_or(1)
}

fn non_empty(p: &ParamsMap, key: &str) -> Option<String> {
    p.get(key).filter(|s| !s.trim().is_empty())
}

impl DevboxesQuery {
    /// Reads the query string; unknown or malformed values fall back to defaults.
    pub fn from_params(p: &ParamsMap) -> Self {
        Self::from_lookup(|k| p.get_str(k))
    }

    /// Same, from any key → value lookup (ParamsMap unescapes through the browser, so
    /// native tests use this).
    pub fn from_lookup<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Self {
        Self {
            status: get("status").and_then(DevboxStatus::parse),
            q: get("q").unwrap_or_default().to_string(),
            sort: get("sort").map(Sort::parse).unwrap_or_default(),
            page: get("page")
                .and_then(|s| s.parse().ok())
                .filter(|&n: &usize| n >= 1)
                .unwrap_or(1),
        }
    }
}

impl SnapshotsQuery {
    /// Reads the query string; `meta` may repeat.
    pub fn from_params(p: &ParamsMap) -> Self {
        let meta = p
            .get_all("meta")
            .unwrap_or_default()
            .into_iter()
            .filter_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                (!k.is_empty()).then(|| (k.to_string(), v.to_string()))
            })
            .collect();
        Self {
            devbox: non_empty(p, "devbox"),
            meta,
            blueprint: non_empty(p, "blueprint"),
            q: p.get("q").unwrap_or_default(),
            sort: p.get_str("sort").map(Sort::parse).unwrap_or_default(),
            page: page_of(p),
        }
    }
}

impl CleanupQuery {
    /// Reads the policy from the query string.
    pub fn from_params(p: &ParamsMap) -> Self {
        let d = Self::default();
        let flag = |key: &str, default: bool| match p.get_str(key) {
            Some("1" | "true" | "on") => true,
            Some("0" | "false" | "off") => false,
            _ => default,
        };
        Self {
            devbox: non_empty(p, "devbox"),
            keep: p
                .get_str("keep")
                .and_then(|s| s.parse().ok())
                .unwrap_or(d.keep),
            older_than_days: p.get_str("older").and_then(|s| s.parse().ok()),
            include_errored: flag("errored", d.include_errored),
            respect_pins: flag("pins", d.respect_pins),
        }
    }
}

/// Builds `path?k=v&…`, skipping empty values.
fn with_query(path: &str, pairs: &[(&str, String)]) -> String {
    let q: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode_component(v)))
        .collect();
    if q.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", q.join("&"))
    }
}

fn page_param(page: usize) -> String {
    if page > 1 {
        page.to_string()
    } else {
        String::new()
    }
}

impl Page {
    /// The URL of this page, query string included.
    pub fn href(&self) -> String {
        match self {
            Page::Devboxes(q) => with_query(
                "/devboxes",
                &[
                    (
                        "status",
                        q.status.map(|s| s.as_str().to_string()).unwrap_or_default(),
                    ),
                    ("q", q.q.clone()),
                    ("sort", q.sort.param()),
                    ("page", page_param(q.page)),
                ],
            ),
            Page::Devbox { id, page } => with_query(
                &format!("/devboxes/{}", encode_component(id)),
                &[("page", page_param(*page))],
            ),
            Page::Snapshots(q) => {
                let mut pairs = vec![
                    ("devbox", q.devbox.clone().unwrap_or_default()),
                    ("blueprint", q.blueprint.clone().unwrap_or_default()),
                ];
                for (k, v) in &q.meta {
                    pairs.push(("meta", format!("{k}={v}")));
                }
                pairs.push(("q", q.q.clone()));
                pairs.push(("sort", q.sort.param()));
                pairs.push(("page", page_param(q.page)));
                with_query("/snapshots", &pairs)
            }
            Page::Cleanup(q) => {
                let d = CleanupQuery::default();
                let flag = |v: bool, d: bool| {
                    if v == d {
                        String::new()
                    } else if v {
                        "1".into()
                    } else {
                        "0".into()
                    }
                };
                with_query(
                    "/cleanup",
                    &[
                        ("devbox", q.devbox.clone().unwrap_or_default()),
                        ("keep", q.keep.to_string()),
                        (
                            "older",
                            q.older_than_days.map(|d| d.to_string()).unwrap_or_default(),
                        ),
                        ("errored", flag(q.include_errored, d.include_errored)),
                        ("pins", flag(q.respect_pins, d.respect_pins)),
                    ],
                )
            }
            Page::Settings => "/settings".to_string(),
        }
    }

    /// The devbox list with no filters.
    pub fn devboxes() -> Self {
        Page::Devboxes(DevboxesQuery {
            page: 1,
            ..Default::default()
        })
    }

    /// A devbox page, first page of its timeline.
    pub fn devbox(id: impl Into<String>) -> Self {
        Page::Devbox {
            id: id.into(),
            page: 1,
        }
    }

    /// The snapshot list with no filters.
    pub fn snapshots() -> Self {
        Page::Snapshots(SnapshotsQuery {
            page: 1,
            ..Default::default()
        })
    }

    /// The cleanup page with the default policy.
    pub fn cleanup() -> Self {
        Page::Cleanup(CleanupQuery::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(pairs: &'a [(&'static str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
        move |k| pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| *v)
    }

    #[test]
    fn devbox_filters_round_trip_through_the_url() {
        let q = DevboxesQuery {
            status: Some(DevboxStatus::Running),
            q: "api box".into(),
            sort: Sort::by(DevboxSort::Name),
            page: 2,
        };
        assert_eq!(
            Page::Devboxes(q.clone()).href(),
            "/devboxes?status=running&q=api%20box&sort=name&page=2"
        );
        let back = DevboxesQuery::from_lookup(lookup(&[
            ("status", "running"),
            ("q", "api box"),
            ("sort", "name"),
            ("page", "2"),
        ]));
        assert_eq!(back, q);
    }

    #[test]
    fn defaults_leave_the_query_string_empty() {
        assert_eq!(Page::devboxes().href(), "/devboxes");
        assert_eq!(Page::devbox("dbx_1").href(), "/devboxes/dbx_1");
        assert_eq!(Page::snapshots().href(), "/snapshots");
    }

    #[test]
    fn malformed_values_fall_back_to_defaults() {
        let q = DevboxesQuery::from_lookup(lookup(&[
            ("status", "bogus"),
            ("sort", "-colour"),
            ("page", "0"),
        ]));
        assert_eq!(q.status, None);
        assert_eq!(q.sort, Sort::default());
        assert_eq!(q.page, 1);
    }

    #[test]
    fn the_default_sort_is_newest_first_and_stays_out_of_the_url() {
        let d = Sort::<SnapshotSort>::default();
        assert_eq!((d.key, d.descending), (SnapshotSort::Created, true));
        assert_eq!(Sort::<SnapshotSort>::parse("-created"), d);
        assert_eq!(d.param(), "");
        let q = DevboxesQuery::from_lookup(lookup(&[("sort", "-created")]));
        assert_eq!(Page::Devboxes(q).href(), "/devboxes");
    }

    #[test]
    fn every_sort_round_trips_through_its_url_name() {
        for &key in SnapshotSort::ALL {
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
        for &key in DevboxSort::ALL {
            for descending in [false, true] {
                let s = Sort { key, descending };
                let href = Page::Devboxes(DevboxesQuery {
                    sort: s,
                    ..Default::default()
                })
                .href();
                let param = href.split_once("?sort=").map_or("", |(_, v)| v);
                let back = DevboxesQuery::from_lookup(lookup(&[("sort", param)]));
                assert_eq!(back.sort, s, "{href}");
            }
        }
    }

    #[test]
    fn unknown_or_malformed_sorts_fall_back_to_the_default() {
        for bad in ["", "-", "--name", "Name", "status", "size ", "-bogus"] {
            assert_eq!(Sort::<SnapshotSort>::parse(bad), Sort::default(), "{bad:?}");
        }
        assert_eq!(Sort::<DevboxSort>::parse("size"), Sort::default());
    }

    #[test]
    fn clicking_the_active_column_flips_it_and_another_starts_in_its_own_direction() {
        let s = Sort::<SnapshotSort>::default();
        let flipped = s.toggled(SnapshotSort::Created);
        assert_eq!(flipped.param(), "created");
        assert_eq!(flipped.toggled(SnapshotSort::Created), s);
        assert_eq!(s.toggled(SnapshotSort::Name).param(), "name");
        assert_eq!(s.toggled(SnapshotSort::Size).param(), "-size");
        assert_eq!(
            Sort::<SnapshotSort>::parse("name")
                .toggled(SnapshotSort::Name)
                .param(),
            "-name"
        );
        assert_eq!(s.direction_of(SnapshotSort::Created), Some(true));
        assert_eq!(s.direction_of(SnapshotSort::Name), None);
    }

    #[test]
    fn a_snapshot_sort_sits_before_the_page_and_keeps_the_filters() {
        let q = SnapshotsQuery {
            devbox: Some("dbx_1".into()),
            meta: vec![("env".into(), "ci".into())],
            sort: Sort::by(SnapshotSort::Devbox),
            page: 3,
            ..Default::default()
        };
        assert_eq!(
            Page::Snapshots(q).href(),
            "/snapshots?devbox=dbx_1&meta=env%3Dci&sort=devbox&page=3"
        );
    }

    #[test]
    fn cleanup_policy_keeps_non_default_flags() {
        let q = CleanupQuery {
            devbox: Some("dbx_1".into()),
            keep: 2,
            older_than_days: Some(30),
            include_errored: true,
            respect_pins: true,
        };
        let href = Page::Cleanup(q.clone()).href();
        assert_eq!(href, "/cleanup?devbox=dbx_1&keep=2&older=30&errored=1");
    }
}
