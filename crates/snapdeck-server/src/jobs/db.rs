//! The jobs' SQLite tables: each job's summary, spec and plan, each delete item's state
//! (written before its delete is sent, so a restart knows what may have happened), and
//! the cache of terminal snapshot statuses that lets a second plan skip their calls, and
//! the audit trail (what the jobs deleted or skipped, and what the app recorded).
//!
//! They live in the server's database file (`--data/snapdeck.sqlite`) on a connection of
//! their own: the emulator's store keeps its own connection under its own lock, and
//! WAL lets the two write in turn (`busy_timeout` covers the moment one waits).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};
use snapdeck_api::{Snapshot, SnapshotStatus};
use snapdeck_core::audit::{AuditEntry, AuditFilter, Named};
use snapdeck_core::bulk::{BulkItem, BulkRun};
use snapdeck_core::jobs::{Job, JobSpec, JobSummary};
use snapdeck_core::retention::CleanupPlan;

use crate::error::{Error, Result};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS job_jobs (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, request_id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL, spec TEXT NOT NULL, summary TEXT NOT NULL, plan TEXT,
    max_concurrency INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS job_items (
    job_id TEXT NOT NULL, n INTEGER NOT NULL, snapshot_id TEXT NOT NULL, item TEXT NOT NULL,
    PRIMARY KEY (job_id, n));
CREATE TABLE IF NOT EXISTS job_status_cache (
    snapshot_id TEXT NOT NULL, create_time_ms INTEGER NOT NULL, status TEXT NOT NULL,
    PRIMARY KEY (snapshot_id, create_time_ms));
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, at_ms INTEGER NOT NULL,
    actor TEXT NOT NULL, action TEXT NOT NULL, outcome TEXT NOT NULL, job_id TEXT,
    entry TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit (at_ms, seq);
";

/// The jobs' connection.
pub struct JobDb {
    conn: Connection,
}

/// A job as stored: what it does and how far it is.
#[derive(Debug, Clone)]
pub struct Stored {
    pub summary: JobSummary,
    pub spec: JobSpec,
}

impl JobDb {
    /// Opens `dir/snapdeck.sqlite` (creating the tables), or an in-memory database.
    pub fn open(dir: Option<&Path>) -> Result<Self> {
        let conn = match dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    Error::Internal(format!("cannot create {}: {e}", dir.display()))
                })?;
                let conn = Connection::open(dir.join("snapdeck.sqlite"))?;
                conn.busy_timeout(Duration::from_secs(10))?;
                conn.pragma_update(None, "journal_mode", "WAL")?;
                // NORMAL under WAL: a commit survives a process kill (the case the jobs'
                // restart test covers), without an fsync per item.
                conn.pragma_update(None, "synchronous", "NORMAL")?;
                conn
            }
            None => Connection::open_in_memory()?,
        };
        conn.execute_batch(SCHEMA)?;
        Ok(Self { conn })
    }

    fn transaction<T>(&mut self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let tx = self.conn.transaction()?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// The job created with this request id, if any.
    pub fn by_request_id(&self, request_id: &str) -> Result<Option<Stored>> {
        self.conn
            .prepare_cached(
                "SELECT summary, spec, cancel_requested FROM job_jobs WHERE request_id = ?1",
            )?
            .query_row(params![request_id], stored_row)
            .optional()?
            .map(parse_stored)
            .transpose()
    }

    /// Stores a new job and (delete jobs) its run, in one transaction.
    pub fn insert(
        &mut self,
        summary: &JobSummary,
        spec: &JobSpec,
        run: Option<&BulkRun>,
    ) -> Result<()> {
        let summary_json = serde_json::to_string(summary)?;
        let spec_json = serde_json::to_string(spec)?;
        self.transaction(|tx| {
            let seq: i64 =
                tx.query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM job_jobs", [], |r| {
                    r.get(0)
                })?;
            let (concurrency, attempts) =
                run.map_or((0, 0), |r| (r.max_concurrency, r.max_attempts));
            tx.prepare_cached(
                "INSERT INTO job_jobs (id, seq, request_id, status, spec, summary, \
                 max_concurrency, max_attempts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                summary.id,
                seq,
                summary.request_id,
                summary.status.as_str(),
                spec_json,
                summary_json,
                concurrency as i64,
                attempts
            ])?;
            if let Some(run) = run {
                for (n, item) in run.items.iter().enumerate() {
                    put_item(tx, &summary.id, n, item)?;
                }
            }
            Ok(())
        })
    }

    /// Replaces a job's summary.
    pub fn put_summary(&mut self, summary: &JobSummary) -> Result<()> {
        put_summary(&self.conn, summary)
    }

    /// Writes changed items, the audit entries of those that settled and the summary
    /// together, so what a reader sees (and what a restart resumes from) is always one
    /// consistent moment of the run, and every settled item is in the audit once.
    pub fn put_progress(
        &mut self,
        summary: &JobSummary,
        changed: &[(usize, &BulkItem)],
        audit: &[AuditEntry],
    ) -> Result<()> {
        self.transaction(|tx| {
            for (n, item) in changed {
                put_item(tx, &summary.id, *n, item)?;
            }
            for entry in audit {
                put_audit(tx, entry)?;
            }
            put_summary(tx, summary)
        })
    }

    /// Stores entries (one transaction); an entry whose id is stored already is left as
    /// it was. How many were new.
    pub fn record_audit(&mut self, entries: &[AuditEntry]) -> Result<usize> {
        self.transaction(|tx| {
            let mut added = 0;
            for entry in entries {
                added += put_audit(tx, entry)?;
            }
            Ok(added)
        })
    }

    /// The newest entries that match `filter`, newest first: at most `limit`, and
    /// whether more matched. The plain columns narrow the scan; `filter` decides.
    pub fn audit(&self, filter: &AuditFilter, limit: usize) -> Result<(Vec<AuditEntry>, bool)> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT entry FROM audit \
             WHERE (?1 IS NULL OR actor = ?1) AND (?2 IS NULL OR action = ?2) \
               AND (?3 IS NULL OR outcome = ?3) AND (?4 IS NULL OR at_ms >= ?4) \
               AND (?5 IS NULL OR at_ms < ?5) \
             ORDER BY at_ms DESC, seq DESC",
        )?;
        let rows = stmt.query_map(
            params![
                filter.actor.map(Named::as_str),
                filter.action.map(Named::as_str),
                filter.outcome.map(Named::as_str),
                filter.since_ms,
                filter.until_ms
            ],
            |row| row.get::<_, String>(0),
        )?;
        let mut out = Vec::new();
        for row in rows {
            let entry: AuditEntry = serde_json::from_str(&row?)?;
            if !filter.matches(&entry) {
                continue;
            }
            if out.len() == limit {
                return Ok((out, true));
            }
            out.push(entry);
        }
        Ok((out, false))
    }

    /// Stores a plan job's result with its final summary.
    pub fn put_plan(&mut self, summary: &JobSummary, plan: &CleanupPlan) -> Result<()> {
        let plan_json = serde_json::to_string(plan)?;
        self.transaction(|tx| {
            tx.prepare_cached("UPDATE job_jobs SET plan = ?2 WHERE id = ?1")?
                .execute(params![summary.id, plan_json])?;
            put_summary(tx, summary)
        })
    }

    /// A job's summary and spec.
    pub fn get(&self, id: &str) -> Result<Option<Stored>> {
        self.conn
            .prepare_cached("SELECT summary, spec, cancel_requested FROM job_jobs WHERE id = ?1")?
            .query_row(params![id], stored_row)
            .optional()?
            .map(parse_stored)
            .transpose()
    }

    /// A plan job's plan, once computed.
    pub fn plan(&self, id: &str) -> Result<Option<CleanupPlan>> {
        let plan: Option<Option<String>> = self
            .conn
            .prepare_cached("SELECT plan FROM job_jobs WHERE id = ?1")?
            .query_row(params![id], |row| row.get(0))
            .optional()?;
        Ok(plan
            .flatten()
            .map(|p| serde_json::from_str(&p))
            .transpose()?)
    }

    /// A job in full: summary, plan, items.
    pub fn job(&self, id: &str) -> Result<Option<Job>> {
        let Some(stored) = self.get(id)? else {
            return Ok(None);
        };
        Ok(Some(Job {
            plan: self.plan(id)?,
            items: self.items(id)?,
            summary: stored.summary,
        }))
    }

    /// A delete job's items, in order.
    pub fn items(&self, id: &str) -> Result<Vec<BulkItem>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT item FROM job_items WHERE job_id = ?1 ORDER BY n")?;
        let rows = stmt.query_map(params![id], |row| row.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(serde_json::from_str(&row?)?);
        }
        Ok(out)
    }

    /// A delete job's run as last written.
    pub fn run(&self, id: &str) -> Result<BulkRun> {
        let (concurrency, attempts): (i64, u32) = self
            .conn
            .prepare_cached("SELECT max_concurrency, max_attempts FROM job_jobs WHERE id = ?1")?
            .query_row(params![id], |row| Ok((row.get(0)?, row.get(1)?)))?;
        let mut run = BulkRun::new(std::iter::empty())
            .with_concurrency(usize::try_from(concurrency).unwrap_or(1))
            .with_max_attempts(attempts);
        run.items = self.items(id)?;
        Ok(run)
    }

    /// The newest `limit` jobs' summaries, newest first.
    pub fn list(&self, limit: usize) -> Result<Vec<JobSummary>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT summary, spec, cancel_requested FROM job_jobs ORDER BY seq DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit as i64], stored_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(parse_stored(row?)?.summary);
        }
        Ok(out)
    }

    /// Records that someone asked to stop a job; false if there is no such job.
    pub fn request_cancel(&mut self, id: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("UPDATE job_jobs SET cancel_requested = 1 WHERE id = ?1")?
            .execute(params![id])?
            > 0)
    }

    /// Whether someone asked to stop a job.
    pub fn cancel_requested(&self, id: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT cancel_requested FROM job_jobs WHERE id = ?1")?
            .query_row(params![id], |row| row.get(0))
            .optional()?
            .unwrap_or(false))
    }

    /// Ids of the jobs that were queued or running when the server stopped, oldest first.
    pub fn unfinished(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM job_jobs WHERE status IN ('queued', 'running') ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |row| row.get::<_, String>(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The cached terminal statuses of these snapshots (a snapshot is known by its id
    /// and creation time, so an id that came back after an emulator reset is not
    /// mistaken for the old one).
    pub fn cached_statuses(
        &self,
        snapshots: &[Snapshot],
    ) -> Result<BTreeMap<String, SnapshotStatus>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT status FROM job_status_cache WHERE snapshot_id = ?1 AND create_time_ms = ?2",
        )?;
        let mut out = BTreeMap::new();
        for s in snapshots {
            let status: Option<String> = stmt
                .query_row(params![s.id, s.create_time_ms], |row| row.get(0))
                .optional()?;
            if let Some(status) = status
                && let Ok(status) = serde_json::from_value::<SnapshotStatus>(status.into())
                && status.is_final()
            {
                out.insert(s.id.clone(), status);
            }
        }
        Ok(out)
    }

    /// Remembers terminal statuses (others are ignored: they change).
    pub fn cache_statuses<'a>(
        &mut self,
        found: impl IntoIterator<Item = (&'a Snapshot, SnapshotStatus)>,
    ) -> Result<()> {
        self.transaction(|tx| {
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO job_status_cache (snapshot_id, create_time_ms, status) \
                 VALUES (?1, ?2, ?3)",
            )?;
            for (s, status) in found {
                if status.is_final() {
                    stmt.execute(params![s.id, s.create_time_ms, status.as_str()])?;
                }
            }
            Ok(())
        })
    }
}

type StoredRow = (String, String, bool);

fn stored_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRow> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
}

/// The summary as the runner last wrote it, with a cancel asked for since (a column of
/// its own, so the runner's next write cannot lose it).
fn parse_stored((summary, spec, cancel): StoredRow) -> Result<Stored> {
    let mut summary: JobSummary = serde_json::from_str(&summary)?;
    summary.cancel_requested |= cancel;
    Ok(Stored {
        summary,
        spec: serde_json::from_str(&spec)?,
    })
}

fn put_summary(conn: &Connection, summary: &JobSummary) -> Result<()> {
    conn.prepare_cached("UPDATE job_jobs SET status = ?2, summary = ?3 WHERE id = ?1")?
        .execute(params![
            summary.id,
            summary.status.as_str(),
            serde_json::to_string(summary)?
        ])?;
    Ok(())
}

fn put_item(conn: &Connection, job_id: &str, n: usize, item: &BulkItem) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO job_items (job_id, n, snapshot_id, item) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        job_id,
        n as i64,
        item.confirmed.snapshot_id,
        serde_json::to_string(item)?
    ])?;
    Ok(())
}

/// 1 when the entry is new, 0 when its id was stored before.
fn put_audit(conn: &Connection, entry: &AuditEntry) -> Result<usize> {
    Ok(conn
        .prepare_cached(
            "INSERT OR IGNORE INTO audit (id, at_ms, actor, action, outcome, job_id, entry) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            entry.id,
            entry.at_ms,
            entry.actor.as_str(),
            entry.action.as_str(),
            entry.outcome.as_str(),
            entry.job_id,
            serde_json::to_string(entry)?
        ])?)
}
