//! Every URL in the app comes from [`Page`]: filters, selection scope and paging live in
//! the query string, so reloads and deep links land exactly where the person was.

use leptos_router::params::ParamsMap;
use snapdeck_api::DevboxStatus;

use crate::fmt::encode_component;

/// Rows per page in tables and the timeline (keeps the DOM small: < 500 rows).
pub const PAGE_SIZE: usize = 50;

/// A page of the app with its query state.
#[derive(Debug, Clone, PartialEq)]
pub enum Page {
    /// `/devboxes?status=&q=&page=`
    Devboxes(DevboxesQuery),
    /// `/devboxes/:id?page=`
    Devbox { id: String, page: usize },
    /// `/snapshots?devbox=&meta=k=v&q=&blueprint=&page=`
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
    /// 1-based.
    pub page: usize,
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
            page: 2,
        };
        assert_eq!(
            Page::Devboxes(q.clone()).href(),
            "/devboxes?status=running&q=api%20box&page=2"
        );
        let back = DevboxesQuery::from_lookup(lookup(&[
            ("status", "running"),
            ("q", "api box"),
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
        let q = DevboxesQuery::from_lookup(lookup(&[("status", "bogus"), ("page", "0")]));
        assert_eq!(q.status, None);
        assert_eq!(q.page, 1);
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
