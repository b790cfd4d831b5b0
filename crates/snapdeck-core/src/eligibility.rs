//! How risky one delete is, so the confirmation can scale with it (issue 12): one
//! click for an errored snapshot; for a complete snapshot that is the newest complete
//! of its devbox, pinned, or the source of running/suspended devboxes, the dialog names
//! each risk and asks for the snapshot's name to be typed. What the person typed then
//! becomes the run's override of the floor ([`RunRule::Floor`](crate::RunRule)).

use std::fmt;

use snapdeck_api::{Devbox, DevboxStatus, Snapshot, SnapshotStatus};

use crate::is_pinned;

/// Whether a snapshot can be deleted at all, as far as is known now: the one rule of
/// every delete path (the timeline, the Snapshots page, cleanup's hand-picked rows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deletable {
    Yes,
    /// Its status is still being fetched.
    Checking,
    /// It cannot be deleted, and why (in words for the UI).
    No(&'static str),
}

/// The API deletes only complete snapshots. A pinned one can be deleted only one by
/// one, as a risk whose name is typed ([`assess`]); a bulk selection leaves it out
/// ([`deletable_in_bulk`]).
pub fn deletable(status: Option<SnapshotStatus>) -> Deletable {
    match status {
        None => Deletable::Checking,
        Some(SnapshotStatus::Complete) => Deletable::Yes,
        Some(SnapshotStatus::InProgress) => Deletable::No("not complete yet — still being created"),
        Some(SnapshotStatus::Error) => {
            Deletable::No("errored — the API deletes only complete snapshots")
        }
        Some(SnapshotStatus::Deleted) => Deletable::No("already deleted"),
        Some(SnapshotStatus::Unknown) => Deletable::No("status not recognised"),
    }
}

/// [`deletable`] for a many-at-once selection, which also leaves pinned ones out.
pub fn deletable_in_bulk(s: &Snapshot, status: Option<SnapshotStatus>) -> Deletable {
    if is_pinned(s) {
        return Deletable::No("pinned — unpin it first");
    }
    deletable(status)
}

/// Why deleting one snapshot needs more than a click.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Risk {
    /// No newer complete snapshot of its devbox is known: deleting it loses the
    /// devbox's latest restorable state.
    NewestComplete,
    /// Someone pinned it so cleanups keep it.
    Pinned,
    /// Devboxes started from it are running or suspended (labels, as shown).
    LiveChildren(Vec<String>),
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NewestComplete => {
                f.write_str("It is the newest complete snapshot of its devbox.")
            }
            Self::Pinned => f.write_str("It is pinned (cleanups keep it)."),
            Self::LiveChildren(names) => {
                let n = names.len();
                write!(
                    f,
                    "{n} running or suspended devbox{} {} started from this snapshot: {}.",
                    if n == 1 { "" } else { "es" },
                    if n == 1 { "was" } else { "were" },
                    names.join(", ")
                )
            }
        }
    }
}

/// The risks of deleting `snapshot`, whose status is `status`.
///
/// `listing`: the snapshots known of its devbox (others are ignored), with
/// `status_of` for theirs — one whose status is unknown does not count as a newer
/// complete one (the safe side: more confirmation, never less). `devboxes`: the
/// devboxes known, to find those started from it. An errored (or any not complete)
/// snapshot has no risks: it restores nothing.
pub fn assess(
    snapshot: &Snapshot,
    status: Option<SnapshotStatus>,
    listing: &[Snapshot],
    status_of: impl Fn(&str) -> Option<SnapshotStatus>,
    devboxes: &[Devbox],
) -> Vec<Risk> {
    if status != Some(SnapshotStatus::Complete) {
        return Vec::new();
    }
    let mut risks = Vec::new();
    let newer_complete = listing.iter().any(|s| {
        s.id != snapshot.id
            && s.source_devbox_id == snapshot.source_devbox_id
            && (s.create_time_ms, s.id.as_str()) > (snapshot.create_time_ms, snapshot.id.as_str())
            && status_of(&s.id) == Some(SnapshotStatus::Complete)
    });
    if !newer_complete {
        risks.push(Risk::NewestComplete);
    }
    if is_pinned(snapshot) {
        risks.push(Risk::Pinned);
    }
    let live: Vec<String> = devboxes
        .iter()
        .filter(|d| d.snapshot_id.as_deref() == Some(snapshot.id.as_str()))
        .filter(|d| matches!(d.status, DevboxStatus::Running | DevboxStatus::Suspended))
        .map(|d| {
            d.name
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| d.id.clone())
        })
        .collect();
    if !live.is_empty() {
        risks.push(Risk::LiveChildren(live));
    }
    risks
}

/// Whether `typed` confirms deleting `snapshot`: its name (or its id when unnamed),
/// ignoring surrounding spaces.
pub fn typed_matches(snapshot: &Snapshot, typed: &str) -> bool {
    typed.trim() == confirm_word(snapshot)
}

/// What the person types to confirm a risky delete of `snapshot`.
pub fn confirm_word(snapshot: &Snapshot) -> &str {
    snapshot
        .name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or(&snapshot.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use snapdeck_api::PINNED_KEY;

    fn snap(id: &str, devbox: &str, t: i64) -> Snapshot {
        serde_json::from_value(serde_json::json!({
            "id": id,
            "create_time_ms": t,
            "source_devbox_id": devbox,
            "name": format!("n-{id}"),
            "metadata": {},
        }))
        .expect("a snapshot")
    }

    fn devbox(id: &str, from: &str, status: &str) -> Devbox {
        serde_json::from_value(serde_json::json!({
            "id": id,
            "name": format!("box-{id}"),
            "status": status,
            "create_time_ms": 1,
            "snapshot_id": from,
        }))
        .expect("a devbox")
    }

    fn all_complete(_: &str) -> Option<SnapshotStatus> {
        Some(SnapshotStatus::Complete)
    }

    #[test]
    fn only_complete_snapshots_are_deletable_and_a_bulk_selection_leaves_pins_out() {
        let s = snap("a", "d", 1);
        assert_eq!(deletable(Some(SnapshotStatus::Complete)), Deletable::Yes);
        assert_eq!(deletable_in_bulk(&s, None), Deletable::Checking);
        for st in [
            SnapshotStatus::InProgress,
            SnapshotStatus::Error,
            SnapshotStatus::Deleted,
            SnapshotStatus::Unknown,
        ] {
            assert!(matches!(deletable(Some(st)), Deletable::No(_)), "{st:?}");
            assert!(
                matches!(deletable_in_bulk(&s, Some(st)), Deletable::No(_)),
                "{st:?}"
            );
        }
        let mut pinned = snap("p", "d", 1);
        pinned.metadata.insert(PINNED_KEY.into(), "true".into());
        assert_eq!(
            deletable_in_bulk(&pinned, Some(SnapshotStatus::Complete)),
            Deletable::No("pinned — unpin it first")
        );
        // One by one, a pin is a risk to confirm (typed name), not a refusal.
        assert_eq!(deletable(Some(SnapshotStatus::Complete)), Deletable::Yes);
    }

    #[test]
    fn an_errored_snapshot_has_no_risk_even_when_pinned_and_newest() {
        let mut s = snap("a", "d", 10);
        s.metadata.insert(PINNED_KEY.into(), "true".into());
        let kids = [devbox("x", "a", "running")];
        let risks = assess(
            &s,
            Some(SnapshotStatus::Error),
            &[s.clone()],
            all_complete,
            &kids,
        );
        assert_eq!(risks, vec![]);
    }

    #[test]
    fn an_older_complete_snapshot_with_a_newer_complete_one_has_no_risk() {
        let old = snap("a", "d", 10);
        let new = snap("b", "d", 20);
        let risks = assess(
            &old,
            Some(SnapshotStatus::Complete),
            &[old.clone(), new],
            all_complete,
            &[],
        );
        assert_eq!(risks, vec![]);
    }

    #[test]
    fn the_newest_complete_is_risky_and_newer_ones_of_other_devboxes_or_not_complete_do_not_count()
    {
        let s = snap("a", "d", 10);
        let other_devbox = snap("b", "e", 20);
        let errored = snap("c", "d", 30);
        let unknown = snap("u", "d", 40);
        let status_of = |id: &str| match id {
            "c" => Some(SnapshotStatus::Error),
            "u" => None,
            _ => Some(SnapshotStatus::Complete),
        };
        let listing = [s.clone(), other_devbox, errored, unknown];
        let risks = assess(&s, Some(SnapshotStatus::Complete), &listing, status_of, &[]);
        assert_eq!(risks, vec![Risk::NewestComplete]);
    }

    #[test]
    fn pinned_and_running_or_suspended_children_are_named_but_stopped_ones_are_not() {
        let old = snap("a", "d", 10);
        let mut s = old.clone();
        s.metadata.insert(PINNED_KEY.into(), "true".into());
        let new = snap("b", "d", 20);
        let kids = [
            devbox("x", "a", "running"),
            devbox("y", "a", "suspended"),
            devbox("z", "a", "shutdown"),
            devbox("w", "b", "running"),
        ];
        let risks = assess(
            &s,
            Some(SnapshotStatus::Complete),
            &[s.clone(), new],
            all_complete,
            &kids,
        );
        assert_eq!(
            risks,
            vec![
                Risk::Pinned,
                Risk::LiveChildren(vec!["box-x".into(), "box-y".into()])
            ]
        );
        assert_eq!(
            risks[1].to_string(),
            "2 running or suspended devboxes were started from this snapshot: box-x, box-y."
        );
    }

    #[test]
    fn the_typed_confirmation_is_the_name_or_the_id_of_an_unnamed_snapshot() {
        let mut s = snap("snp_1", "d", 10);
        assert!(typed_matches(&s, " n-snp_1 "));
        assert!(!typed_matches(&s, "n-snp"));
        s.name = None;
        assert!(typed_matches(&s, "snp_1"));
        assert!(!typed_matches(&s, ""));
    }
}
