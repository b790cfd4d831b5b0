//! Blueprints: which devboxes and snapshots descend from one (its family), and how
//! often to look at a build that is still going.
//!
//! A snapshot names its blueprint itself (`source_blueprint_id` is inherited through
//! snapshots, so a snapshot of a devbox restored from a snapshot still names it); a
//! devbox names it only when started from it directly (`blueprint_id`), so one started
//! from a snapshot belongs to the family through that snapshot.

use std::collections::{HashMap, HashSet};

use snapdeck_api::{Devbox, Snapshot};

/// The devboxes and snapshots that descend from one blueprint.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Family {
    /// Started from the blueprint, or from one of its snapshots; newest first.
    pub devboxes: Vec<Devbox>,
    /// Every listed snapshot whose disk derives from the blueprint; newest first.
    pub snapshots: Vec<Snapshot>,
}

/// The family of `blueprint_id` among the listed devboxes and snapshots.
pub fn family(blueprint_id: &str, devboxes: &[Devbox], snapshots: &[Snapshot]) -> Family {
    let mut snaps: Vec<Snapshot> = snapshots
        .iter()
        .filter(|s| s.source_blueprint_id.as_deref() == Some(blueprint_id))
        .cloned()
        .collect();
    let snap_ids: HashSet<&str> = snaps.iter().map(|s| s.id.as_str()).collect();
    let mut boxes: Vec<Devbox> = devboxes
        .iter()
        .filter(|d| {
            d.blueprint_id.as_deref() == Some(blueprint_id)
                || d.snapshot_id
                    .as_deref()
                    .is_some_and(|s| snap_ids.contains(s))
        })
        .cloned()
        .collect();
    boxes.sort_by(|a, b| (b.create_time_ms, &b.id).cmp(&(a.create_time_ms, &a.id)));
    snaps.sort_by(|a, b| (b.create_time_ms, &b.id).cmp(&(a.create_time_ms, &a.id)));
    Family {
        devboxes: boxes,
        snapshots: snaps,
    }
}

/// Family sizes of every blueprint at once, `blueprint id → (devboxes, snapshots)`, for
/// the list (one pass over each listing instead of one [`family`] per row).
pub fn family_counts(
    devboxes: &[Devbox],
    snapshots: &[Snapshot],
) -> HashMap<String, (usize, usize)> {
    let mut counts: HashMap<String, (usize, usize)> = HashMap::new();
    let mut origin: HashMap<&str, &str> = HashMap::new();
    for s in snapshots {
        if let Some(bp) = s.source_blueprint_id.as_deref() {
            counts.entry(bp.to_owned()).or_default().1 += 1;
            origin.insert(s.id.as_str(), bp);
        }
    }
    for d in devboxes {
        let bp = d.blueprint_id.as_deref().or_else(|| {
            d.snapshot_id
                .as_deref()
                .and_then(|s| origin.get(s).copied())
        });
        if let Some(bp) = bp {
            counts.entry(bp.to_owned()).or_default().0 += 1;
        }
    }
    counts
}

/// The wait before the `attempt`-th (0-based) look at a build still going: 1 s, then
/// growing by half each time, at most 5 s. The SDKs poll every second; a build takes
/// minutes, so backing off costs little latency and saves most requests.
pub fn build_poll_delay_ms(attempt: u32) -> u32 {
    let mut delay: u32 = 1_000;
    for _ in 0..attempt.min(8) {
        delay = delay.saturating_mul(3) / 2;
    }
    delay.min(5_000)
}

/// The snapshot ids a refused blueprint delete names (`"… dependent snapshots: a, b"`,
/// the API's documented answer is "a list of snapshot IDs"): what the page lists when
/// it cannot read the snapshots themselves. Words that are not ids are left out.
pub fn dependents_in_message(message: &str) -> Vec<String> {
    let tail = message.rsplit_once(':').map_or(message, |(_, t)| t);
    tail.split([',', ' ', '[', ']', '"'])
        .map(str::trim)
        .filter(|w| {
            w.len() > 4
                && w.contains('_')
                && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use snapdeck_api::DevboxStatus;

    fn devbox(id: &str, t: i64, bp: Option<&str>, snap: Option<&str>) -> Devbox {
        serde_json::from_value(serde_json::json!({
            "id": id, "status": "running", "create_time_ms": t,
            "blueprint_id": bp, "snapshot_id": snap,
        }))
        .expect("a devbox")
    }

    fn snapshot(id: &str, t: i64, devbox: &str, bp: Option<&str>) -> Snapshot {
        Snapshot {
            id: id.into(),
            create_time_ms: t,
            metadata: Default::default(),
            source_devbox_id: devbox.into(),
            name: None,
            commit_message: None,
            size_bytes: None,
            source_blueprint_id: bp.map(str::to_owned),
        }
    }

    #[test]
    fn a_devbox_restored_from_a_blueprints_snapshot_is_in_its_family() {
        let devboxes = [
            devbox("dbx_a", 1, Some("bpt_1"), None),
            devbox("dbx_b", 3, None, Some("snp_1")),
            devbox("dbx_c", 2, None, None),
            devbox("dbx_d", 4, Some("bpt_2"), None),
        ];
        let snapshots = [
            snapshot("snp_1", 2, "dbx_a", Some("bpt_1")),
            snapshot("snp_2", 5, "dbx_b", Some("bpt_1")),
            snapshot("snp_3", 5, "dbx_c", None),
        ];
        let f = family("bpt_1", &devboxes, &snapshots);
        let ids: Vec<&str> = f.devboxes.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(
            ids,
            ["dbx_b", "dbx_a"],
            "newest first, the plain one left out"
        );
        let ids: Vec<&str> = f.snapshots.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["snp_2", "snp_1"]);
        assert_eq!(f.devboxes[0].status, DevboxStatus::Running);

        let counts = family_counts(&devboxes, &snapshots);
        assert_eq!(counts.get("bpt_1"), Some(&(2, 2)));
        assert_eq!(counts.get("bpt_2"), Some(&(1, 0)));
        assert_eq!(counts.len(), 2, "no entry for the default image");
        assert_eq!(family("bpt_9", &devboxes, &snapshots), Family::default());
    }

    #[test]
    fn build_polls_back_off_from_one_second_to_five() {
        let delays: Vec<u32> = (0..7).map(build_poll_delay_ms).collect();
        assert_eq!(delays, [1_000, 1_500, 2_250, 3_375, 5_000, 5_000, 5_000]);
        assert_eq!(build_poll_delay_ms(u32::MAX), 5_000);
    }

    #[test]
    fn a_refusal_message_yields_the_snapshot_ids_it_names() {
        assert_eq!(
            dependents_in_message("Blueprint bpt_1 has dependent snapshots: snp_a1, snp_b2"),
            ["snp_a1", "snp_b2"]
        );
        assert_eq!(
            dependents_in_message(r#"dependent snapshots: ["snp_x9"]"#),
            ["snp_x9"]
        );
        assert!(dependents_in_message("Blueprint has dependent snapshots").is_empty());
    }
}
