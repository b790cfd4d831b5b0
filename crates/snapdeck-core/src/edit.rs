//! Building snapshot updates safely.
//!
//! `POST /v1/devboxes/disk_snapshots/{id}` **replaces** the whole metadata map, and the
//! API does not say whether an omitted `name` or `commit_message` is cleared. So every
//! update is read-merge-write: start from the snapshot as last fetched, change only what
//! the person changed, and send all three fields.

use snapdeck_api::{Metadata, PINNED_KEY, Snapshot, SnapshotParams};

/// Metadata after setting `set` and removing `remove`, leaving every other key as is.
pub fn merge_metadata(current: &Metadata, set: &Metadata, remove: &[String]) -> Metadata {
    let mut out = current.clone();
    for k in remove {
        out.remove(k);
    }
    out.extend(set.iter().map(|(k, v)| (k.clone(), v.clone())));
    out
}

/// What an edit of `before` into `after` changed, as `(set, remove)` for
/// [`merge_metadata`]: keys added or given a new value, and keys taken out. Keys the
/// edit did not touch are in neither, so a merge onto a fresher copy keeps whatever
/// someone else set on them meanwhile.
pub fn metadata_changes(before: &Metadata, after: &Metadata) -> (Metadata, Vec<String>) {
    let set = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove = before
        .keys()
        .filter(|k| !after.contains_key(*k))
        .cloned()
        .collect();
    (set, remove)
}

/// Whether `read_back` shows every change of `(set, remove)`: the re-read after a
/// write confirms it (someone else's later write may have undone part of it).
pub fn changes_hold(read_back: &Metadata, set: &Metadata, remove: &[String]) -> bool {
    set.iter().all(|(k, v)| read_back.get(k) == Some(v))
        && remove.iter().all(|k| !read_back.contains_key(k))
}

/// The full update body for `current` with the given changes (`None` = unchanged;
/// `Some(None)` = send no value for that field).
pub fn snapshot_update(
    current: &Snapshot,
    name: Option<Option<String>>,
    commit_message: Option<Option<String>>,
    metadata: Option<Metadata>,
) -> SnapshotParams {
    SnapshotParams {
        name: name.unwrap_or_else(|| current.name.clone()),
        commit_message: commit_message.unwrap_or_else(|| current.commit_message.clone()),
        metadata: Some(metadata.unwrap_or_else(|| current.metadata.clone())),
    }
}

/// The update that pins (`"snapdeck.pinned": "true"`) or unpins (key removed) a
/// snapshot, keeping its other metadata, name and commit message.
pub fn set_pinned(current: &Snapshot, pinned: bool) -> SnapshotParams {
    let metadata = if pinned {
        let set = Metadata::from([(PINNED_KEY.to_owned(), "true".to_owned())]);
        merge_metadata(&current.metadata, &set, &[])
    } else {
        merge_metadata(
            &current.metadata,
            &Metadata::new(),
            &[PINNED_KEY.to_owned()],
        )
    };
    snapshot_update(current, None, None, Some(metadata))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap() -> Snapshot {
        Snapshot {
            id: "snp_1".into(),
            create_time_ms: 1,
            metadata: Metadata::from([
                ("env".to_owned(), "staging".to_owned()),
                ("team".to_owned(), "core".to_owned()),
            ]),
            source_devbox_id: "dbx_1".into(),
            name: Some("before upgrade".into()),
            commit_message: Some("pin deps".into()),
            size_bytes: None,
            source_blueprint_id: None,
        }
    }

    #[test]
    fn pinning_keeps_other_metadata_name_and_message() {
        let p = set_pinned(&snap(), true);
        let m = p.metadata.expect("metadata sent");
        assert_eq!(m.get("env").map(String::as_str), Some("staging"));
        assert_eq!(m.get(PINNED_KEY).map(String::as_str), Some("true"));
        assert_eq!(p.name.as_deref(), Some("before upgrade"));
        assert_eq!(p.commit_message.as_deref(), Some("pin deps"));
    }

    #[test]
    fn unpinning_removes_only_the_pin() {
        let mut s = snap();
        s.metadata.insert(PINNED_KEY.into(), "true".into());
        let m = set_pinned(&s, false).metadata.expect("metadata sent");
        assert_eq!(m, snap().metadata);
    }

    #[test]
    fn an_edit_merged_onto_a_fresher_copy_keeps_keys_set_behind_its_back() {
        let seen = snap().metadata;
        let mut edited = seen.clone();
        edited.insert("env".into(), "prod".into());
        edited.remove("team");
        edited.insert("owner".into(), "ci".into());
        let (set, remove) = metadata_changes(&seen, &edited);
        assert_eq!(
            set,
            Metadata::from([
                ("env".to_owned(), "prod".to_owned()),
                ("owner".to_owned(), "ci".to_owned())
            ])
        );
        assert_eq!(remove, ["team".to_owned()]);
        // Meanwhile someone set `ticket` through the API.
        let mut fresh = seen.clone();
        fresh.insert("ticket".into(), "T-1".into());
        let merged = merge_metadata(&fresh, &set, &remove);
        assert_eq!(merged.get("ticket").map(String::as_str), Some("T-1"));
        assert_eq!(merged.get("env").map(String::as_str), Some("prod"));
        assert!(!merged.contains_key("team"));
        assert!(changes_hold(&merged, &set, &remove));
        assert!(!changes_hold(&fresh, &set, &remove));
    }

    #[test]
    fn merge_sets_after_removing() {
        let cur = snap().metadata;
        let set = Metadata::from([("env".to_owned(), "prod".to_owned())]);
        let m = merge_metadata(&cur, &set, &["team".to_owned(), "env".to_owned()]);
        assert_eq!(m, set);
    }

    #[test]
    fn an_explicit_none_sends_no_name_and_keeps_the_rest() {
        let p = snapshot_update(&snap(), Some(None), None, None);
        assert_eq!(p.name, None);
        assert_eq!(p.commit_message.as_deref(), Some("pin deps"));
        assert_eq!(p.metadata, Some(snap().metadata));
    }
}
