//! The one route table. Every URL in the app is built by [`Page::href`] and read back
//! by [`Page::parse`] — the router, the embed and every link go through it. Filters,
//! sort, selection scope and paging live in the query string, so reloads and deep links
//! land exactly where the person was.

use snapdeck_api::{BlueprintStatus, DevboxStatus};
use snapdeck_core::audit::{Action, Actor, AuditFilter, Named, Outcome};
pub use snapdeck_core::query::{
    BlueprintColumn, DevboxColumn, PAGE_SIZE, SnapshotColumn, Sort, SortKey,
};
use snapdeck_core::{RetentionPolicy, Scope};

use crate::fmt::encode_component;

/// A page of the app with its query state.
#[derive(Debug, Clone, PartialEq)]
pub enum Page {
    /// `/devboxes?status=&q=&sort=&page=` (also `/`)
    Devboxes(DevboxesQuery),
    /// `/devboxes/:id?page=`
    Devbox { id: String, page: usize },
    /// `/snapshots?devbox=&blueprint=&meta=k=v&q=&sort=&page=`
    Snapshots(SnapshotsQuery),
    /// `/snapshots/:id`
    Snapshot { id: String },
    /// `/cleanup?devbox=&keep=&older=&errored=`
    Cleanup(CleanupQuery),
    /// `/audit?actor=&action=&outcome=&q=`
    Audit(AuditQuery),
    /// `/settings`
    Settings,
    /// `/blueprints?status=&q=&sort=`
    Blueprints(BlueprintsQuery),
    /// `/blueprints/:id`
    Blueprint { id: String },
    /// `/fanouts`
    Fanouts,
    /// `/fanouts/:id`
    Fanout { id: String },
    /// `/lineage?focus=&family=&blueprint=&days=`
    Lineage(LineageQuery),
}

/// Which page, without its query: what the router switches on (a query change keeps
/// the page mounted) and what an embed may show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PageKind {
    Devboxes,
    Devbox,
    Snapshots,
    Snapshot,
    Cleanup,
    Audit,
    Settings,
    Blueprints,
    Blueprint,
    Fanouts,
    Fanout,
    Lineage,
}

/// Query state of the audit trail: snapdeck-core's filter (who, what, how it ended,
/// text), without the time bounds (the page shows the newest first).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditQuery {
    pub filter: AuditFilter,
}

impl AuditQuery {
    fn read(q: &QueryString) -> Self {
        // An unknown value (an old link) is no filter rather than no page.
        let pick = |name: &str| q.get(name).filter(|v| !v.is_empty());
        Self {
            filter: AuditFilter {
                actor: pick("actor").and_then(Actor::parse),
                action: pick("action").and_then(Action::parse),
                outcome: pick("outcome").and_then(Outcome::parse),
                text: q.get("q").unwrap_or_default().to_owned(),
                since_ms: None,
                until_ms: None,
            },
        }
    }
}

/// Query state of the devbox list.
#[derive(Debug, Clone, PartialEq)]
pub struct DevboxesQuery {
    pub status: Option<DevboxStatus>,
    pub q: String,
    pub sort: Sort<DevboxColumn>,
    /// 1-based.
    pub page: usize,
}

impl Default for DevboxesQuery {
    fn default() -> Self {
        Self {
            status: None,
            q: String::new(),
            sort: Sort::default(),
            page: 1,
        }
    }
}

/// Query state of the snapshot list.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotsQuery {
    pub devbox: Option<String>,
    /// Exact metadata matches, `key=value`.
    pub meta: Vec<(String, String)>,
    pub blueprint: Option<String>,
    pub q: String,
    pub sort: Sort<SnapshotColumn>,
    /// 1-based.
    pub page: usize,
}

impl Default for SnapshotsQuery {
    fn default() -> Self {
        Self {
            devbox: None,
            meta: Vec::new(),
            blueprint: None,
            q: String::new(),
            sort: Sort::default(),
            page: 1,
        }
    }
}

/// The cleanup policy as it sits in the URL.
#[derive(Debug, Clone, PartialEq)]
pub struct CleanupQuery {
    /// `None` = every devbox (or, with `blueprint`, every devbox of that blueprint).
    pub devbox: Option<String>,
    /// Only the snapshots listed under this blueprint; a `devbox` wins over it.
    pub blueprint: Option<String>,
    pub keep: u32,
    pub older_than_days: Option<u32>,
    pub include_errored: bool,
}

impl Default for CleanupQuery {
    fn default() -> Self {
        Self {
            devbox: None,
            blueprint: None,
            keep: 3,
            older_than_days: None,
            // Off by default: the API refuses to delete a snapshot that is not complete
            // (409), so errored ones are only worth planning when someone asks.
            include_errored: false,
        }
    }
}

/// Query state of the blueprint list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BlueprintsQuery {
    pub status: Option<BlueprintStatus>,
    pub q: String,
    pub sort: Sort<BlueprintColumn>,
}

impl BlueprintsQuery {
    fn read(q: &QueryString) -> Self {
        Self {
            status: q.get("status").and_then(BlueprintStatus::parse),
            q: q.text("q"),
            sort: q.get("sort").map(Sort::parse).unwrap_or_default(),
        }
    }
}

/// Query state of the lineage graph: the node marked "you are here", and the filter
/// (one node's family, one blueprint's descendants, the last N days).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineageQuery {
    pub focus: Option<String>,
    pub family: Option<String>,
    pub blueprint: Option<String>,
    pub days: Option<u32>,
}

impl LineageQuery {
    fn read(q: &QueryString) -> Self {
        Self {
            focus: q.non_empty("focus"),
            family: q.non_empty("family"),
            blueprint: q.non_empty("blueprint"),
            days: q
                .get("days")
                .and_then(|s| s.parse().ok())
                .filter(|&d| d > 0),
        }
    }

    /// The graph scoped on one node: its family, with it marked.
    pub fn scoped(id: &str) -> Self {
        Self {
            focus: Some(id.to_owned()),
            family: Some(id.to_owned()),
            ..Self::default()
        }
    }

    /// Whether any filter narrows the graph.
    pub fn is_filtered(&self) -> bool {
        self.family.is_some() || self.blueprint.is_some() || self.days.is_some()
    }
}

/// A query string, decoded into its pairs (a key may repeat).
struct QueryString(Vec<(String, String)>);

impl QueryString {
    fn parse(search: &str) -> Self {
        let search = search.strip_prefix('?').unwrap_or(search);
        Self(
            form_urlencoded::parse(search.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `key`.
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `key` unless blank.
    fn non_empty(&self, key: &str) -> Option<String> {
        self.get(key)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
    }

    /// `?page=`, 1-based; anything else is the first page.
    fn page(&self) -> usize {
        self.get("page")
            .and_then(|s| s.parse().ok())
            .filter(|&n: &usize| n >= 1)
            .unwrap_or(1)
    }

    fn text(&self, key: &str) -> String {
        self.get(key).unwrap_or_default().to_owned()
    }
}

impl DevboxesQuery {
    /// Reads the query string; unknown or malformed values fall back to defaults.
    fn read(q: &QueryString) -> Self {
        Self {
            status: q.get("status").and_then(DevboxStatus::parse),
            q: q.text("q"),
            sort: q.get("sort").map(Sort::parse).unwrap_or_default(),
            page: q.page(),
        }
    }
}

impl SnapshotsQuery {
    /// This query with one more metadata filter, typed as `key=value` (spaces around
    /// either side trimmed; a pair already there is not added twice), back on page 1.
    pub fn with_meta_filter(&self, text: &str) -> Result<Self, &'static str> {
        let Some((k, v)) = text.split_once('=').map(|(k, v)| (k.trim(), v.trim())) else {
            return Err("Write it as key=value, e.g. env=ci");
        };
        if k.is_empty() {
            return Err("The key is empty; write key=value");
        }
        let mut q = self.clone();
        if !q.meta.iter().any(|(a, b)| a == k && b == v) {
            q.meta.push((k.to_owned(), v.to_owned()));
        }
        q.page = 1;
        Ok(q)
    }

    /// The filters a person can remove one by one (blueprint, each metadata pair), each
    /// with its label and the query without it (back on page 1).
    pub fn removable_filters(&self) -> Vec<(String, Self)> {
        let mut chips = Vec::new();
        if let Some(bp) = &self.blueprint {
            let mut next = self.clone();
            next.blueprint = None;
            next.page = 1;
            chips.push((
                format!("blueprint {}", crate::fmt::middle_truncate(bp)),
                next,
            ));
        }
        for (i, (k, v)) in self.meta.iter().enumerate() {
            let mut next = self.clone();
            next.meta.remove(i);
            next.page = 1;
            chips.push((format!("{k}={v}"), next));
        }
        chips
    }

    /// Whether any filter or search narrows the list.
    pub fn is_filtered(&self) -> bool {
        self.devbox.is_some()
            || !self.meta.is_empty()
            || self.blueprint.is_some()
            || !self.q.is_empty()
    }

    /// Reads the query string; `meta` may repeat.
    fn read(q: &QueryString) -> Self {
        let meta =
            q.0.iter()
                .filter(|(k, _)| k == "meta")
                .filter_map(|(_, kv)| {
                    let (k, v) = kv.split_once('=')?;
                    (!k.is_empty()).then(|| (k.to_string(), v.to_string()))
                })
                .collect();
        Self {
            devbox: q.non_empty("devbox"),
            meta,
            blueprint: q.non_empty("blueprint"),
            q: q.text("q"),
            sort: q.get("sort").map(Sort::parse).unwrap_or_default(),
            page: q.page(),
        }
    }
}

impl CleanupQuery {
    /// The policy the URL describes. Pins are always respected (snapdeck-core's planner
    /// never deletes a pinned snapshot), and the newest complete snapshot of each
    /// devbox is always kept.
    pub fn policy(&self) -> RetentionPolicy {
        RetentionPolicy {
            scope: match (&self.devbox, &self.blueprint) {
                (Some(d), _) => Scope::Devbox(d.clone()),
                (None, Some(b)) => Scope::Blueprint(b.clone()),
                (None, None) => Scope::All,
            },
            keep_newest: self.keep,
            keep_younger_than_days: self.older_than_days,
            include_errored: self.include_errored,
            allow_deleting_newest: false,
        }
    }

    /// Reads the policy from the query string.
    fn read(q: &QueryString) -> Self {
        let d = Self::default();
        let flag = |key: &str, default: bool| match q.get(key) {
            Some("1" | "true" | "on") => true,
            Some("0" | "false" | "off") => false,
            _ => default,
        };
        let devbox = q.non_empty("devbox");
        Self {
            blueprint: q.non_empty("blueprint").filter(|_| devbox.is_none()),
            devbox,
            keep: q.get("keep").and_then(|s| s.parse().ok()).unwrap_or(d.keep),
            older_than_days: q.get("older").and_then(|s| s.parse().ok()),
            include_errored: flag("errored", d.include_errored),
        }
    }
}

/// Decodes one path segment (`%20` → space); a malformed escape is kept as written.
fn decode_segment(seg: &str) -> String {
    percent_encoding::percent_decode_str(seg)
        .decode_utf8_lossy()
        .into_owned()
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
            Page::Snapshot { id } => format!("/snapshots/{}", encode_component(id)),
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
                        (
                            "blueprint",
                            q.blueprint
                                .clone()
                                .filter(|_| q.devbox.is_none())
                                .unwrap_or_default(),
                        ),
                        ("keep", q.keep.to_string()),
                        (
                            "older",
                            q.older_than_days.map(|d| d.to_string()).unwrap_or_default(),
                        ),
                        ("errored", flag(q.include_errored, d.include_errored)),
                    ],
                )
            }
            Page::Audit(q) => with_query(
                "/audit",
                &[
                    (
                        "actor",
                        q.filter.actor.map(Named::as_str).unwrap_or_default().into(),
                    ),
                    (
                        "action",
                        q.filter
                            .action
                            .map(Named::as_str)
                            .unwrap_or_default()
                            .into(),
                    ),
                    (
                        "outcome",
                        q.filter
                            .outcome
                            .map(Named::as_str)
                            .unwrap_or_default()
                            .into(),
                    ),
                    ("q", q.filter.text.clone()),
                ],
            ),
            Page::Settings => "/settings".to_string(),
            Page::Blueprints(q) => with_query(
                "/blueprints",
                &[
                    (
                        "status",
                        q.status.map(|s| s.as_str().into()).unwrap_or_default(),
                    ),
                    ("q", q.q.clone()),
                    ("sort", q.sort.param()),
                ],
            ),
            Page::Blueprint { id } => format!("/blueprints/{}", encode_component(id)),
            Page::Fanouts => "/fanouts".to_string(),
            Page::Fanout { id } => format!("/fanouts/{}", encode_component(id)),
            Page::Lineage(q) => with_query(
                "/lineage",
                &[
                    ("focus", q.focus.clone().unwrap_or_default()),
                    ("family", q.family.clone().unwrap_or_default()),
                    ("blueprint", q.blueprint.clone().unwrap_or_default()),
                    ("days", q.days.map(|d| d.to_string()).unwrap_or_default()),
                ],
            ),
        }
    }

    /// Reads an app URL (`/path?query`, a `#fragment` ignored) back into its page: the
    /// inverse of [`href`](Self::href). `None` for a path no page has.
    pub fn parse(href: &str) -> Option<Self> {
        let href = href.split_once('#').map_or(href, |(h, _)| h);
        let (path, search) = href.split_once('?').unwrap_or((href, ""));
        Self::from_parts(path, search)
    }

    /// [`parse`](Self::parse) from a location's path and search (`?…` or without `?`).
    pub fn from_parts(path: &str, search: &str) -> Option<Self> {
        let q = QueryString::parse(search);
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        Some(match segs.as_slice() {
            [] | ["devboxes"] => Page::Devboxes(DevboxesQuery::read(&q)),
            ["devboxes", id] => Page::Devbox {
                id: decode_segment(id),
                page: q.page(),
            },
            ["snapshots"] => Page::Snapshots(SnapshotsQuery::read(&q)),
            ["snapshots", id] => Page::snapshot(decode_segment(id)),
            ["cleanup"] => Page::Cleanup(CleanupQuery::read(&q)),
            ["audit"] => Page::Audit(AuditQuery::read(&q)),
            ["settings"] => Page::Settings,
            ["blueprints"] => Page::Blueprints(BlueprintsQuery::read(&q)),
            ["blueprints", id] => Page::Blueprint {
                id: decode_segment(id),
            },
            ["fanouts"] => Page::Fanouts,
            ["fanouts", id] => Page::fanout(decode_segment(id)),
            ["lineage"] => Page::Lineage(LineageQuery::read(&q)),
            _ => return None,
        })
    }

    /// Which page this is.
    pub fn kind(&self) -> PageKind {
        match self {
            Page::Devboxes(_) => PageKind::Devboxes,
            Page::Devbox { .. } => PageKind::Devbox,
            Page::Snapshots(_) => PageKind::Snapshots,
            Page::Snapshot { .. } => PageKind::Snapshot,
            Page::Cleanup(_) => PageKind::Cleanup,
            Page::Audit(_) => PageKind::Audit,
            Page::Settings => PageKind::Settings,
            Page::Blueprints(_) => PageKind::Blueprints,
            Page::Blueprint { .. } => PageKind::Blueprint,
            Page::Fanouts => PageKind::Fanouts,
            Page::Fanout { .. } => PageKind::Fanout,
            Page::Lineage(_) => PageKind::Lineage,
        }
    }

    /// The devbox list with no filters.
    pub fn devboxes() -> Self {
        Page::Devboxes(DevboxesQuery::default())
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
        Page::Snapshots(SnapshotsQuery::default())
    }

    /// The blueprint list with no filters.
    pub fn blueprints() -> Self {
        Page::Blueprints(BlueprintsQuery::default())
    }

    /// A blueprint's page.
    pub fn blueprint(id: impl Into<String>) -> Self {
        Page::Blueprint { id: id.into() }
    }

    /// One snapshot's page.
    pub fn snapshot(id: impl Into<String>) -> Self {
        Page::Snapshot { id: id.into() }
    }

    /// The list of fan-outs.
    pub fn fanouts() -> Self {
        Page::Fanouts
    }

    /// One fan-out batch.
    pub fn fanout(id: impl Into<String>) -> Self {
        Page::Fanout { id: id.into() }
    }

    /// The whole lineage graph.
    pub fn lineage() -> Self {
        Page::Lineage(LineageQuery::default())
    }

    /// The cleanup page with the default policy.
    pub fn cleanup() -> Self {
        Page::Cleanup(CleanupQuery::default())
    }
}

// ---- the command palette's page list ----

impl Page {
    /// The pages that need no id, by the name the palette finds them under (the
    /// shortcut table's `Go("…")` entries use the same names).
    pub fn named() -> Vec<(&'static str, Page)> {
        vec![
            ("Devboxes", Page::devboxes()),
            ("Snapshots", Page::snapshots()),
            ("Blueprints", Page::blueprints()),
            ("Fan-outs", Page::fanouts()),
            ("Cleanup", Page::cleanup()),
            ("Audit trail", Page::Audit(AuditQuery::default())),
            ("Settings", Page::Settings),
        ]
    }

    /// This devbox's cleanup: the default policy scoped to it.
    pub fn cleanup_of(devbox_id: impl Into<String>) -> Self {
        Page::Cleanup(CleanupQuery {
            devbox: Some(devbox_id.into()),
            ..CleanupQuery::default()
        })
    }

    /// The cleanup of a blueprint's snapshots: the default policy scoped to it.
    pub fn cleanup_of_blueprint(blueprint_id: impl Into<String>) -> Self {
        Page::Cleanup(CleanupQuery {
            blueprint: Some(blueprint_id.into()),
            ..CleanupQuery::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devbox_filters_round_trip_through_the_url() {
        let q = DevboxesQuery {
            status: Some(DevboxStatus::Running),
            q: "api box".into(),
            sort: Sort::by(DevboxColumn::Name),
            page: 2,
        };
        assert_eq!(
            Page::Devboxes(q.clone()).href(),
            "/devboxes?status=running&q=api%20box&sort=name&page=2"
        );
        let back = Page::parse("/devboxes?status=running&q=api+box&sort=name&page=2");
        assert_eq!(back, Some(Page::Devboxes(q)));
    }

    #[test]
    fn defaults_leave_the_query_string_empty() {
        assert_eq!(Page::devboxes().href(), "/devboxes");
        assert_eq!(Page::devbox("dbx_1").href(), "/devboxes/dbx_1");
        assert_eq!(Page::snapshots().href(), "/snapshots");
    }

    #[test]
    fn fanout_pages_round_trip() {
        assert_eq!(Page::fanout("fo_a b").href(), "/fanouts/fo_a%20b");
        assert_eq!(
            Page::parse("/fanouts/fo_a%20b"),
            Some(Page::fanout("fo_a b"))
        );
        assert_eq!(Page::parse("/fanouts"), Some(Page::Fanouts));
    }

    #[test]
    fn a_snapshot_page_round_trips_its_id() {
        let p = Page::snapshot("snp a/b");
        assert_eq!(p.href(), "/snapshots/snp%20a%2Fb");
        assert_eq!(Page::parse(&p.href()), Some(p));
        assert_eq!(
            Page::parse("/snapshots/snp_1").map(|p| p.kind()),
            Some(PageKind::Snapshot)
        );
    }

    #[test]
    fn malformed_values_fall_back_to_defaults() {
        let Some(Page::Devboxes(q)) = Page::parse("/devboxes?status=bogus&sort=-colour&page=0")
        else {
            panic!("the devbox list");
        };
        assert_eq!(q.status, None);
        assert_eq!(q.sort, Sort::default());
        assert_eq!(q.page, 1);
    }

    #[test]
    fn the_default_sort_stays_out_of_the_url() {
        let page = Page::parse("/devboxes?sort=-created").expect("a page");
        assert_eq!(page.href(), "/devboxes");
    }

    #[test]
    fn every_devbox_sort_round_trips_through_the_page_url() {
        for &key in DevboxColumn::ALL {
            for descending in [false, true] {
                let s = Sort { key, descending };
                let page = Page::Devboxes(DevboxesQuery {
                    sort: s,
                    ..Default::default()
                });
                assert_eq!(
                    Page::parse(&page.href()),
                    Some(page.clone()),
                    "{}",
                    page.href()
                );
            }
        }
    }

    #[test]
    fn a_snapshot_sort_sits_before_the_page_and_keeps_the_filters() {
        let q = SnapshotsQuery {
            devbox: Some("dbx_1".into()),
            meta: vec![("env".into(), "ci".into())],
            sort: Sort::by(SnapshotColumn::Devbox),
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
            blueprint: None,
            keep: 2,
            older_than_days: Some(30),
            include_errored: true,
        };
        let href = Page::Cleanup(q.clone()).href();
        assert_eq!(href, "/cleanup?devbox=dbx_1&keep=2&older=30&errored=1");
    }

    #[test]
    fn the_url_policy_always_keeps_the_newest_and_maps_every_field() {
        let q = CleanupQuery {
            devbox: Some("dbx_1".into()),
            blueprint: Some("bpt_1".into()),
            keep: 2,
            older_than_days: Some(30),
            include_errored: false,
        };
        let p = q.policy();
        assert_eq!(p.scope, Scope::Devbox("dbx_1".into()), "a devbox wins");
        assert_eq!((p.keep_newest, p.keep_younger_than_days), (2, Some(30)));
        assert!(!p.include_errored && !p.allow_deleting_newest);
    }

    /// One of every page, with awkward values: spaces, `+`, `&`, `=`, `%`, `#`, `/`
    /// and non-ASCII in ids, searches and metadata.
    fn every_page() -> Vec<Page> {
        vec![
            Page::devboxes(),
            Page::Devboxes(DevboxesQuery {
                status: Some(DevboxStatus::Suspended),
                q: "a+b & c=d %20 #x".into(),
                sort: Sort::by(DevboxColumn::Status),
                page: 7,
            }),
            Page::devbox("dbx_1"),
            Page::Devbox {
                id: "dbx a/b?c#d é".into(),
                page: 4,
            },
            Page::snapshots(),
            Page::Snapshots(SnapshotsQuery {
                devbox: Some("dbx_9".into()),
                meta: vec![
                    ("env".into(), "ci=yes".into()),
                    ("team".into(), "search & ranking".into()),
                ],
                blueprint: Some("bpt_1".into()),
                q: "nightly-3 ✓".into(),
                sort: Sort {
                    key: SnapshotColumn::Size,
                    descending: false,
                },
                page: 2,
            }),
            Page::cleanup(),
            Page::Cleanup(CleanupQuery {
                devbox: Some("dbx_1".into()),
                blueprint: None,
                keep: 0,
                older_than_days: Some(14),
                include_errored: true,
            }),
            Page::cleanup_of_blueprint("bpt a&b/é"),
            Page::Audit(AuditQuery::default()),
            Page::Audit(AuditQuery {
                filter: AuditFilter {
                    actor: Some(Actor::Server),
                    action: Some(Action::DeleteSnapshot),
                    outcome: Some(Outcome::Skipped),
                    text: "nightly & ci=1 ü".into(),
                    since_ms: None,
                    until_ms: None,
                },
            }),
            Page::Settings,
            Page::blueprints(),
            Page::Blueprints(BlueprintsQuery {
                status: Some(BlueprintStatus::Failed),
                q: "node & py=3 é".into(),
                sort: Sort::by(BlueprintColumn::Name),
            }),
            Page::blueprint("bpt_1"),
            Page::blueprint("bpt a/b?c#d"),
            Page::lineage(),
            Page::Lineage(LineageQuery::scoped("dbx a/b?c#d é")),
            Page::Lineage(LineageQuery {
                focus: Some("snp_1".into()),
                family: None,
                blueprint: Some("bpt & 1".into()),
                days: Some(7),
            }),
        ]
    }

    #[test]
    fn every_page_parses_back_from_its_own_url() {
        for page in every_page() {
            let href = page.href();
            assert_eq!(Page::parse(&href).as_ref(), Some(&page), "{href}");
            let (path, search) = href.split_once('?').unwrap_or((&href, ""));
            assert_eq!(
                Page::from_parts(path, &format!("?{search}")),
                Some(page.clone())
            );
        }
    }

    #[test]
    fn the_root_is_the_devbox_list_and_unknown_paths_are_no_page() {
        assert_eq!(Page::parse("/"), Some(Page::devboxes()));
        assert_eq!(Page::parse("/devboxes/"), Some(Page::devboxes()));
        assert_eq!(Page::parse("/snapshots#top"), Some(Page::snapshots()));
        assert_eq!(Page::parse("/nope"), None);
        assert_eq!(Page::parse("/devboxes/a/b"), None);
        assert_eq!(
            Page::parse("/settings").map(|p| p.kind()),
            Some(PageKind::Settings)
        );
    }

    #[test]
    fn a_lineage_scope_sits_in_the_url() {
        assert_eq!(Page::lineage().href(), "/lineage");
        assert_eq!(
            Page::Lineage(LineageQuery::scoped("dbx_1")).href(),
            "/lineage?focus=dbx_1&family=dbx_1"
        );
        let Some(Page::Lineage(q)) = Page::parse("/lineage?days=0&blueprint=") else {
            panic!("the lineage page");
        };
        assert_eq!(
            q,
            LineageQuery::default(),
            "blank and zero values are no filter"
        );
        assert!(!q.is_filtered());
    }

    #[test]
    fn a_typed_metadata_filter_is_added_once_and_removed_alone() {
        let q = SnapshotsQuery {
            page: 3,
            ..SnapshotsQuery::default()
        };
        let q = q.with_meta_filter(" env = ci ").expect("a pair");
        assert_eq!(q.meta, [("env".to_string(), "ci".to_string())]);
        assert_eq!(q.page, 1);
        let again = q.with_meta_filter("env=ci").expect("a pair");
        assert_eq!(again.meta.len(), 1, "the same pair is not added twice");
        assert!(q.with_meta_filter("no-equals").is_err());
        assert!(q.with_meta_filter("=v").is_err());
        let q = SnapshotsQuery {
            blueprint: Some("bpt_1".into()),
            ..q.with_meta_filter("team=a").expect("a pair")
        };
        let chips = q.removable_filters();
        let labels: Vec<&str> = chips.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(labels, ["blueprint bpt_1", "env=ci", "team=a"]);
        assert_eq!(chips[1].1.meta, [("team".to_string(), "a".to_string())]);
        assert_eq!(chips[0].1.blueprint, None);
        assert!(q.is_filtered());
        assert!(!SnapshotsQuery::default().is_filtered());
    }
}

#[cfg(test)]
mod palette_pages {
    use super::*;
    use snapdeck_core::keys::{Does, SHORTCUTS};

    #[test]
    fn every_named_page_round_trips_and_every_go_shortcut_names_one() {
        let named = Page::named();
        for (name, page) in &named {
            assert_eq!(Page::parse(&page.href()).as_ref(), Some(page), "{name}");
        }
        for s in SHORTCUTS {
            if let Does::Go(name) = s.does {
                assert!(named.iter().any(|(n, _)| *n == name), "{name}");
            }
        }
        let scoped = Page::cleanup_of("dbx_1");
        assert_eq!(Page::parse(&scoped.href()), Some(scoped));
    }

    #[test]
    fn a_blueprint_scoped_cleanup_round_trips_and_plans_that_blueprint() {
        let page = Page::cleanup_of_blueprint("bpt_1");
        assert_eq!(page.href(), "/cleanup?blueprint=bpt_1&keep=3");
        assert_eq!(Page::parse(&page.href()).as_ref(), Some(&page));
        let Page::Cleanup(q) = page else {
            panic!("a cleanup page")
        };
        assert_eq!(q.policy().scope, Scope::Blueprint("bpt_1".into()));
        // Both in a hand-edited URL: the devbox is the scope, the blueprint is dropped.
        let both = Page::parse("/cleanup?devbox=dbx_1&blueprint=bpt_1");
        let Some(Page::Cleanup(q)) = both else {
            panic!("a cleanup page")
        };
        assert_eq!((q.devbox.as_deref(), q.blueprint), (Some("dbx_1"), None));
    }
}
