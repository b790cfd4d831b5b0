//! Labels for the timeline and lineage views. The ordering and the lineage edges
//! themselves are snapdeck-core's ([`snapdeck_core::lineage`]); re-exported here so the
//! pages have one door.

use snapdeck_api::{Devbox, Snapshot};
pub use snapdeck_core::lineage::children_by_snapshot;

/// Snapshots newest first (ties broken by id so the order is stable).
pub fn newest_first(mut snapshots: Vec<Snapshot>) -> Vec<Snapshot> {
    snapdeck_core::lineage::sort_newest_first(&mut snapshots);
    snapshots
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
