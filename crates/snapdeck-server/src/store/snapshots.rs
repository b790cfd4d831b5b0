//! Disk snapshots: taking one (the disk is copied at once, the snapshot completes or
//! fails later), its status, the list, update and delete.

use serde::{Deserialize, Serialize};
use snapdeck_api::{
    MetadataFilter, Snapshot, SnapshotList, SnapshotParams, SnapshotStatus, SnapshotStatusView,
};

use super::Store;
use super::list::{Listed, OrderKey, Paging, accepts, list_page, matches_search};
use crate::db::{Db, Table};
use crate::error::{Error, Result};

/// What `GET /v1/devboxes/disk_snapshots` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotQuery {
    /// Only snapshots of this devbox (which must exist).
    pub devbox_id: Option<String>,
    /// Only snapshots whose disk derives from this blueprint.
    pub source_blueprint_id: Option<String>,
    /// All of these must match.
    pub metadata: Vec<MetadataFilter>,
    /// An extension (`search` or `name`): a case-insensitive substring of the id, name or
    /// commit message.
    pub search: Option<String>,
    pub paging: Paging,
}

/// A disk snapshot as stored: its wire view, its status, and how it will end.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SnapshotRec {
    pub seq: u64,
    pub view: Snapshot,
    pub status: SnapshotStatus,
    #[serde(default)]
    pub error_message: Option<String>,
    /// While `in_progress`: when it ends.
    #[serde(default)]
    pub due_ms: Option<i64>,
    /// While `in_progress`: the error it will end with (`None` = it will complete).
    #[serde(default)]
    pub will_fail: Option<String>,
    /// The `size_bytes` it reports once complete (unknown before, as on the real API).
    #[serde(default)]
    pub final_size_bytes: u64,
}

impl SnapshotRec {
    pub(super) fn advance(&mut self, now: i64) -> bool {
        match self.due_ms {
            Some(due) if due <= now && self.status == SnapshotStatus::InProgress => {
                self.due_ms = None;
                match self.will_fail.take() {
                    Some(message) => {
                        self.status = SnapshotStatus::Error;
                        self.error_message = Some(message);
                    }
                    None => {
                        self.status = SnapshotStatus::Complete;
                        self.view.size_bytes = Some(self.final_size_bytes);
                    }
                }
                true
            }
            _ => false,
        }
    }

    /// The `/status` answer: the snapshot itself only once it completed successfully.
    pub fn status_view(&self) -> SnapshotStatusView {
        SnapshotStatusView {
            status: self.status,
            error_message: self.error_message.clone(),
            snapshot: (self.status == SnapshotStatus::Complete).then(|| self.view.clone()),
        }
    }

    pub(super) fn is_listed(&self) -> bool {
        self.status != SnapshotStatus::Deleted
    }
}

impl Listed for SnapshotRec {
    fn order_key(&self) -> OrderKey {
        (self.view.create_time_ms, self.seq)
    }
}

impl Store {
    fn snapshot_rec(&self, id: &str) -> Result<&SnapshotRec> {
        self.snapshots
            .get(id)
            .ok_or_else(|| Error::not_found("Snapshot", id))
    }

    /// `snapshot_disk_async` (and the start of `snapshot_disk`): captures the devbox's
    /// files now and completes after the snapshot duration — or fails with the message
    /// `will_fail` gives. It is asked only once the request is valid, so a refused
    /// request does not use up a forced failure.
    pub fn snapshot_disk(
        &mut self,
        devbox_id: &str,
        params: SnapshotParams,
        will_fail: impl FnOnce() -> Option<String>,
        now: i64,
    ) -> Result<Snapshot> {
        let devbox = self.running_devbox(devbox_id)?;
        check_commit_message(params.commit_message.as_deref())?;
        let will_fail = will_fail();
        let base_blueprint_id = devbox.base_blueprint_id.clone();
        let earlier = self
            .snapshots
            .values()
            .filter(|s| s.view.source_devbox_id == devbox_id)
            .count() as u64;
        let id = self.new_id("snp");
        let files_bytes = self.db.files_size(devbox_id)?;
        // "Relative to the base blueprint": a few hundred MB of installed tooling, growing
        // with each snapshot of the same devbox, plus what was written through the API.
        let final_size_bytes =
            200_000_000 + earlier * 35_000_000 + self.rng.u64(0..400_000_000) + files_bytes;
        let rec = SnapshotRec {
            seq: self.seq(),
            view: Snapshot {
                id: id.clone(),
                create_time_ms: now,
                metadata: params.metadata.unwrap_or_default(),
                source_devbox_id: devbox_id.to_owned(),
                name: params.name,
                commit_message: params.commit_message,
                size_bytes: None,
                source_blueprint_id: base_blueprint_id,
            },
            status: SnapshotStatus::InProgress,
            error_message: None,
            due_ms: Some(now + self.timings.snapshot_ms),
            will_fail,
            final_size_bytes,
        };
        // The snapshot captures the disk as it is now, in the same transaction as the
        // record, so a snapshot never exists without its files.
        self.db.transaction(|db| {
            save_snapshot(db, &rec)?;
            db.copy_files(devbox_id, &id)?;
            Ok(())
        })?;
        let view = rec.view.clone();
        self.index_snapshot(rec);
        Ok(view)
    }

    /// `GET /v1/devboxes/disk_snapshots/{id}/status`.
    pub fn snapshot_status(&self, id: &str) -> Result<SnapshotStatusView> {
        Ok(self.snapshot_rec(id)?.status_view())
    }

    /// A snapshot's status and the time it will end (for `snapshot_disk` to wait).
    pub fn snapshot_status_and_due(&self, id: &str) -> Result<(SnapshotStatusView, Option<i64>)> {
        let rec = self.snapshot_rec(id)?;
        Ok((rec.status_view(), rec.due_ms))
    }

    /// `GET /v1/devboxes/disk_snapshots`: newest first, filtered by `query`; an unknown
    /// `devbox_id` is 404. Deleted snapshots are not listed; in-progress and failed ones
    /// are (their status is on `/status`).
    pub fn list_snapshots(&self, query: &SnapshotQuery) -> Result<SnapshotList> {
        let devbox_id = query.devbox_id.as_deref();
        if let Some(id) = devbox_id {
            self.devbox_rec(id)?;
        }
        let blueprint_id = query.source_blueprint_id.as_deref();
        let items = self
            .snapshots
            .values()
            .filter(|r| r.is_listed())
            .filter(|r| devbox_id.is_none_or(|id| r.view.source_devbox_id == id))
            .filter(|r| {
                blueprint_id.is_none_or(|id| r.view.source_blueprint_id.as_deref() == Some(id))
            })
            .filter(|r| query.metadata.iter().all(|f| accepts(f, &r.view.metadata)))
            .filter(|r| {
                query.search.as_deref().is_none_or(|q| {
                    matches_search(
                        q,
                        &[
                            Some(r.view.id.as_str()),
                            r.view.name.as_deref(),
                            r.view.commit_message.as_deref(),
                        ],
                    )
                })
            })
            .collect();
        let page = list_page(&self.snapshots, items, &query.paging, "snapshot")?;
        Ok(SnapshotList {
            snapshots: page.items.into_iter().map(|r| r.view.clone()).collect(),
            has_more: page.has_more,
            total_count: page.total_count,
        })
    }

    /// `POST /v1/devboxes/disk_snapshots/{id}`: an *update*, not a patch, as the spec
    /// says ("the entire metadata will be replaced"): `name`, `commit_message` and
    /// `metadata` all take the values given, and an omitted one is cleared. Clients
    /// read-merge-write.
    pub fn update_snapshot(&mut self, id: &str, params: SnapshotParams) -> Result<Snapshot> {
        let mut rec = self.snapshot_rec(id)?.clone();
        if !rec.is_listed() {
            return Err(Error::not_found("Snapshot", id));
        }
        check_commit_message(params.commit_message.as_deref())?;
        rec.view.name = params.name;
        rec.view.commit_message = params.commit_message;
        rec.view.metadata = params.metadata.unwrap_or_default();
        let view = rec.view.clone();
        self.update_snapshot_rec(rec)?;
        Ok(view)
    }

    /// `POST /v1/devboxes/disk_snapshots/{id}/delete`: only complete snapshots; afterwards
    /// `/status` says `deleted` and the list no longer shows it. Deleting it again is 404.
    pub fn delete_snapshot(&mut self, id: &str) -> Result<()> {
        let mut rec = self.snapshot_rec(id)?.clone();
        match rec.status {
            SnapshotStatus::Complete => {}
            SnapshotStatus::Deleted => return Err(Error::not_found("Snapshot", id)),
            _ => {
                return Err(Error::Conflict(
                    "Only successfully created snapshots can be deleted.".into(),
                ));
            }
        }
        rec.status = SnapshotStatus::Deleted;
        self.db.delete_files(id)?;
        self.update_snapshot_rec(rec)
    }
}

fn check_commit_message(message: Option<&str>) -> Result<()> {
    match message {
        Some(m) if m.chars().count() > 1000 => Err(Error::BadRequest(
            "commit_message must be at most 1000 characters".into(),
        )),
        _ => Ok(()),
    }
}

pub(super) fn save_snapshot(db: &Db, rec: &SnapshotRec) -> Result<()> {
    db.put(
        Table::Snapshots,
        &rec.view.id,
        rec.seq,
        rec.status.as_str(),
        rec.view.create_time_ms,
        rec,
    )
}
