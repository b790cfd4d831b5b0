//! Labels for the timeline and lineage views. The ordering, the progressive list and
//! the lineage edges themselves are snapdeck-core's ([`snapdeck_core::lineage`]),
//! re-exported here so the pages have one door.

use snapdeck_api::{Devbox, Snapshot};
pub use snapdeck_core::lineage::{TimelineList, children_by_snapshot};

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
    fn unnamed_snapshots_are_labelled_by_id() {
        let mut s = snap("snp_1", 1);
        assert_eq!(snapshot_label(&s), "snp_1");
        s.name = Some("pre-deploy".into());
        assert_eq!(snapshot_label(&s), "pre-deploy");
    }
}
