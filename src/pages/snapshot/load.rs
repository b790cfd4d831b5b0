//! Finding one snapshot by id. The API has no "get one snapshot": `/status` carries the
//! view only once the snapshot is complete, so an in-progress (or errored) one is looked
//! up in its devbox's list — the devbox known from what this browser last saw, or
//! failing that, the whole list.

use snapdeck_api::{Snapshot, SnapshotStatus, SnapshotStatusView};

use crate::api::{Api, ApiError, SnapshotFilter};
use crate::services::seen::{Seen, SeenSnapshot};

/// What the page found.
#[derive(Debug, Clone)]
pub(super) enum Found {
    /// The snapshot exists.
    Here {
        snapshot: Snapshot,
        status: SnapshotStatus,
    },
    /// It does not (404, `deleted`, or in no list): what was last seen of it, if anything.
    Gone(Option<SeenSnapshot>),
}

/// Loads `id`, remembering what it found (the last-seen record).
pub(super) async fn find(api: Api, seen: Seen, id: &str) -> Result<Found, ApiError> {
    let view = match api.snapshot_status(id).await {
        Ok(v) => v,
        Err(e) if e.is_not_found() => return Ok(gone(seen, id)),
        Err(e) => return Err(e),
    };
    if view.status == SnapshotStatus::Deleted {
        return Ok(gone(seen, id));
    }
    match view_of(api, seen, id, &view).await? {
        Some(snapshot) => {
            seen.remember(&snapshot, Some(view.status));
            Ok(Found::Here {
                snapshot,
                status: view.status,
            })
        }
        None => Ok(gone(seen, id)),
    }
}

/// The snapshot's current view: from `/status` when complete, otherwise from a list.
pub(super) async fn view_of(
    api: Api,
    seen: Seen,
    id: &str,
    view: &SnapshotStatusView,
) -> Result<Option<Snapshot>, ApiError> {
    if let Some(s) = &view.snapshot {
        return Ok(Some(s.clone()));
    }
    let devbox = seen
        .get_untracked(id)
        .map(|e| e.devbox_id)
        .filter(|d| !d.is_empty());
    if let Some(devbox_id) = devbox {
        let filter = SnapshotFilter {
            devbox_id: Some(devbox_id),
            ..Default::default()
        };
        if let Some(s) = api
            .list_snapshots(&filter)
            .await?
            .into_iter()
            .find(|s| s.id == id)
        {
            return Ok(Some(s));
        }
    }
    let all = api.list_snapshots(&SnapshotFilter::default()).await?;
    Ok(all.into_iter().find(|s| s.id == id))
}

fn gone(seen: Seen, id: &str) -> Found {
    Found::Gone(seen.get_untracked(id))
}
