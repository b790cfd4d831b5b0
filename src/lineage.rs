//! Timeline and lineage of one devbox: its snapshots newest first, the devboxes started
//! from each snapshot, and where the devbox itself came from. Pure, so native tests
//! reach it. (snapdeck-core has no timeline module yet; move it there when it does.)

use std::collections::BTreeMap;

use snapdeck_api::{Devbox, Snapshot};

/// Snapshots newest first (ties broken by id so the order is stable).
pub fn newest_first(mut snapshots: Vec<Snapshot>) -> Vec<Snapshot> {
    snapshots.sort_by(|a, b| {
        b.create_time_ms
            .cmp(&a.create_time_ms)
            .then_with(|| b.id.cmp(&a.id))
    });
    snapshots
}

/// Devboxes started from each snapshot, oldest first per snapshot.
pub fn children_by_snapshot(devboxes: &[Devbox]) -> BTreeMap<String, Vec<Devbox>> {
    let mut out: BTreeMap<String, Vec<Devbox>> = BTreeMap::new();
    for d in devboxes {
        if let Some(s) = &d.snapshot_id {
            out.entry(s.clone()).or_default().push(d.clone());
        }
    }
    for v in out.values_mut() {
        v.sort_by_key(|d| d.create_time_ms);
    }
    out
}

/// A snapshot's label: its name, or its id when unnamed.
pub fn snapshot_label(s: &Snapshot) -> String {
    s.name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| s.id.clone())
}

/// A devbox's label: its name, or its id when unnamed.
pub fn devbox_label(d: &Devbox) -> String {
    d.name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| d.id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(id: &str, t: i64) -> Snapshot {
        Snapshot {
            id: id.into(),
            create_time_ms: t,
            metadata: Default::default(),
            source_devbox_id: "dbx_1".into(),
            name: None,
            commit_message: None,
            size_bytes: None,
            source_blueprint_id: None,
        }
    }

    #[test]
    fn timeline_is_newest_first_with_stable_ties() {
        let out = newest_first(vec![snap("a", 1), snap("c", 3), snap("b", 3)]);
        let ids: Vec<&str> = out.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["c", "b", "a"]);
    }

    #[test]
    fn unnamed_snapshots_are_labelled_by_id() {
        let mut s = snap("snp_1", 1);
        assert_eq!(snapshot_label(&s), "snp_1");
        s.name = Some("pre-deploy".into());
        assert_eq!(snapshot_label(&s), "pre-deploy");
    }
}
