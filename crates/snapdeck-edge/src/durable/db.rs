//! The jobs' tables in the Durable Object's SQLite: `jobs` (summary, spec, stage,
//! chunks, the cancel flag in a column of its own), `items` (each delete's state),
//! `inventory` (a job's listing with each snapshot's status as learnt) and
//! `status_cache` (terminal statuses by snapshot id and creation time), and `audit`
//! (the trail: one entry per delete item a job settled, kept when its job is pruned).
//!
//! Statements are synchronous; the object's output gate holds any request sent after a
//! write until the write is durable, which is what "written before it is sent" rests on.

use serde::Deserialize;
use snapdeck_api::{Snapshot, SnapshotStatus};
use snapdeck_core::audit::{AuditEntry, AuditFilter, Named};
use snapdeck_core::bulk::BulkItem;
use snapdeck_core::jobs::JobSummary;
use worker::{SqlStorage, SqlStorageValue};

use super::now_ms;
use crate::audit;
use crate::jobs::{self, EdgeSpec, Stage};

const SCHEMA: [&str; 7] = [
    "CREATE TABLE IF NOT EXISTS jobs (
        id TEXT PRIMARY KEY, seq INTEGER NOT NULL, request_id TEXT NOT NULL UNIQUE,
        spec TEXT NOT NULL, summary TEXT NOT NULL, stage TEXT NOT NULL,
        plan_now_ms INTEGER, chunks INTEGER NOT NULL DEFAULT 0,
        cancel_requested INTEGER NOT NULL DEFAULT 0, last_chunk_ms INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS items (
        job_id TEXT NOT NULL, n INTEGER NOT NULL, item TEXT NOT NULL, PRIMARY KEY (job_id, n))",
    "CREATE TABLE IF NOT EXISTS inventory (
        job_id TEXT NOT NULL, n INTEGER NOT NULL, snapshot TEXT NOT NULL, status TEXT,
        fetched INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (job_id, n))",
    "CREATE TABLE IF NOT EXISTS status_cache (
        snapshot_id TEXT NOT NULL, create_time_ms INTEGER NOT NULL, status TEXT NOT NULL,
        PRIMARY KEY (snapshot_id, create_time_ms))",
    "CREATE INDEX IF NOT EXISTS jobs_unfinished ON jobs (stage, last_chunk_ms)",
    // As snapdeck-server's: the plain columns narrow a read, `entry` is the record.
    "CREATE TABLE IF NOT EXISTS audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, at_ms INTEGER NOT NULL,
        actor TEXT NOT NULL, action TEXT NOT NULL, outcome TEXT NOT NULL, job_id TEXT,
        entry TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS audit_by_time ON audit (at_ms, seq)",
];

pub(super) type Fallible<T> = Result<T, String>;

fn sql_err(e: worker::Error) -> String {
    format!("job storage: {e}")
}

fn json_err(e: serde_json::Error) -> String {
    format!("job storage (JSON): {e}")
}

fn status_text(status: SnapshotStatus) -> String {
    status.as_str().to_owned()
}

fn parse_status(text: &str) -> Option<SnapshotStatus> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
}

/// A job's row.
pub(super) struct Row {
    pub(super) id: String,
    pub(super) spec: EdgeSpec,
    pub(super) summary: JobSummary,
    pub(super) stage: Stage,
    pub(super) plan_now_ms: Option<i64>,
    pub(super) chunks: u32,
}

#[derive(Deserialize)]
struct RawRow {
    id: String,
    spec: String,
    summary: String,
    stage: String,
    plan_now_ms: Option<i64>,
    chunks: i64,
    cancel_requested: i64,
}

impl RawRow {
    fn parse(self) -> Fallible<Row> {
        let mut summary: JobSummary = serde_json::from_str(&self.summary).map_err(json_err)?;
        // A column of its own, so the runner's next write of the summary cannot lose it.
        summary.cancel_requested |= self.cancel_requested != 0;
        Ok(Row {
            spec: serde_json::from_str(&self.spec).map_err(json_err)?,
            stage: Stage::parse(&self.stage).ok_or("job storage: unknown stage")?,
            plan_now_ms: self.plan_now_ms,
            chunks: u32::try_from(self.chunks).unwrap_or(0),
            id: self.id,
            summary,
        })
    }
}

const ROW_COLUMNS: &str = "id, spec, summary, stage, plan_now_ms, chunks, cancel_requested";

/// The object's tables.
pub(super) struct Db(SqlStorage);

fn text(s: impl Into<String>) -> SqlStorageValue {
    SqlStorageValue::String(s.into())
}

fn int(n: i64) -> SqlStorageValue {
    SqlStorageValue::Integer(n)
}

impl Db {
    pub(super) fn open(sql: SqlStorage) -> Fallible<Self> {
        let db = Self(sql);
        for statement in SCHEMA {
            db.exec(statement, vec![])?;
        }
        Ok(db)
    }

    /// Runs a statement to its end.
    pub(super) fn exec(&self, query: &str, bindings: Vec<SqlStorageValue>) -> Fallible<()> {
        let cursor = self.0.exec(query, bindings).map_err(sql_err)?;
        for row in cursor.raw() {
            row.map_err(sql_err)?;
        }
        Ok(())
    }

    pub(super) fn rows<T: serde::de::DeserializeOwned>(
        &self,
        query: &str,
        bindings: Vec<SqlStorageValue>,
    ) -> Fallible<Vec<T>> {
        self.0
            .exec(query, bindings)
            .and_then(|c| c.to_array())
            .map_err(sql_err)
    }

    pub(super) fn row(&self, where_: &str, binding: &str) -> Fallible<Option<Row>> {
        let rows: Vec<RawRow> = self.rows(
            &format!("SELECT {ROW_COLUMNS} FROM jobs WHERE {where_} = ?"),
            vec![text(binding)],
        )?;
        rows.into_iter().next().map(RawRow::parse).transpose()
    }

    pub(super) fn job(&self, id: &str) -> Fallible<Option<Row>> {
        self.row("id", id)
    }

    pub(super) fn by_request_id(&self, request_id: &str) -> Fallible<Option<Row>> {
        self.row("request_id", request_id)
    }

    pub(super) fn list(&self, limit: usize) -> Fallible<Vec<Row>> {
        let rows: Vec<RawRow> = self.rows(
            &format!("SELECT {ROW_COLUMNS} FROM jobs ORDER BY seq DESC LIMIT ?"),
            vec![int(i64::try_from(limit).unwrap_or(i64::MAX))],
        )?;
        rows.into_iter().map(RawRow::parse).collect()
    }

    pub(super) fn insert(&self, row: &Row, request_id: &str, items: &[BulkItem]) -> Fallible<()> {
        #[derive(Deserialize)]
        struct Seq {
            seq: i64,
        }
        let seq = self
            .rows::<Seq>("SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM jobs", vec![])?
            .first()
            .map_or(1, |s| s.seq);
        self.exec(
            "INSERT INTO jobs (id, seq, request_id, spec, summary, stage) VALUES (?, ?, ?, ?, ?, ?)",
            vec![
                text(&row.id),
                int(seq),
                text(request_id),
                text(serde_json::to_string(&row.spec).map_err(json_err)?),
                text(serde_json::to_string(&row.summary).map_err(json_err)?),
                text(row.stage.as_str()),
            ],
        )?;
        for (n, item) in items.iter().enumerate() {
            self.put_item(&row.id, n, item)?;
        }
        Ok(())
    }

    /// Drops the oldest finished jobs beyond [`jobs::KEEP_JOBS`], with their rows —
    /// only while no job runs, as a running delete may still read its plan job's plan.
    pub(super) fn prune(&self) -> Fallible<()> {
        let old = "SELECT id FROM jobs WHERE stage = 'done' \
                   AND seq <= (SELECT MAX(seq) FROM jobs) - ? \
                   AND NOT EXISTS (SELECT 1 FROM jobs WHERE stage != 'done')";
        let keep = int(i64::try_from(jobs::KEEP_JOBS).unwrap_or(i64::MAX));
        for table in ["items", "inventory"] {
            self.exec(
                &format!("DELETE FROM {table} WHERE job_id IN ({old})"),
                vec![keep.clone()],
            )?;
        }
        self.exec(&format!("DELETE FROM jobs WHERE id IN ({old})"), vec![keep])
    }

    pub(super) fn put_state(&self, row: &Row) -> Fallible<()> {
        self.exec(
            "UPDATE jobs SET summary = ?, stage = ?, plan_now_ms = ? WHERE id = ?",
            vec![
                text(serde_json::to_string(&row.summary).map_err(json_err)?),
                text(row.stage.as_str()),
                row.plan_now_ms.map_or(SqlStorageValue::Null, int),
                text(&row.id),
            ],
        )
    }

    pub(super) fn put_summary(&self, summary: &JobSummary) -> Fallible<()> {
        self.exec(
            "UPDATE jobs SET summary = ? WHERE id = ?",
            vec![
                text(serde_json::to_string(summary).map_err(json_err)?),
                text(&summary.id),
            ],
        )
    }

    pub(super) fn start_chunk(&self, id: &str) -> Fallible<()> {
        self.exec(
            "UPDATE jobs SET chunks = chunks + 1, last_chunk_ms = ? WHERE id = ?",
            vec![int(now_ms()), text(id)],
        )
    }

    /// The unfinished job whose turn it is (the one that waited longest).
    pub(super) fn next_job(&self) -> Fallible<Option<String>> {
        #[derive(Deserialize)]
        struct Id {
            id: String,
        }
        let rows: Vec<Id> = self.rows(
            "SELECT id FROM jobs WHERE stage != 'done' ORDER BY last_chunk_ms, seq LIMIT 1",
            vec![],
        )?;
        Ok(rows.into_iter().next().map(|r| r.id))
    }

    pub(super) fn request_cancel(&self, id: &str) -> Fallible<()> {
        self.exec(
            "UPDATE jobs SET cancel_requested = 1 WHERE id = ?",
            vec![text(id)],
        )
    }

    pub(super) fn cancel_requested(&self, id: &str) -> Fallible<bool> {
        #[derive(Deserialize)]
        struct Flag {
            cancel_requested: i64,
        }
        let rows: Vec<Flag> = self.rows(
            "SELECT cancel_requested FROM jobs WHERE id = ?",
            vec![text(id)],
        )?;
        Ok(rows.first().is_some_and(|f| f.cancel_requested != 0))
    }

    pub(super) fn put_item(&self, job_id: &str, n: usize, item: &BulkItem) -> Fallible<()> {
        self.exec(
            "INSERT OR REPLACE INTO items (job_id, n, item) VALUES (?, ?, ?)",
            vec![
                text(job_id),
                int(i64::try_from(n).unwrap_or(i64::MAX)),
                text(serde_json::to_string(item).map_err(json_err)?),
            ],
        )
    }

    pub(super) fn items(&self, job_id: &str) -> Fallible<Vec<BulkItem>> {
        #[derive(Deserialize)]
        struct Item {
            item: String,
        }
        let rows: Vec<Item> = self.rows(
            "SELECT item FROM items WHERE job_id = ? ORDER BY n",
            vec![text(job_id)],
        )?;
        rows.iter()
            .map(|r| serde_json::from_str(&r.item).map_err(json_err))
            .collect()
    }

    /// Stores a job's listing (again, after a retried alarm), each terminal status the
    /// cache knows already filled in. Returns how many came from the cache.
    pub(super) fn put_inventory(&self, job_id: &str, snapshots: &[Snapshot]) -> Fallible<usize> {
        self.exec("DELETE FROM inventory WHERE job_id = ?", vec![text(job_id)])?;
        let mut cached = 0;
        for (n, s) in snapshots.iter().enumerate() {
            let status = self.cached_status(s)?;
            cached += usize::from(status.is_some());
            self.exec(
                "INSERT INTO inventory (job_id, n, snapshot, status, fetched) VALUES (?, ?, ?, ?, ?)",
                vec![
                    text(job_id),
                    int(i64::try_from(n).unwrap_or(i64::MAX)),
                    text(serde_json::to_string(s).map_err(json_err)?),
                    status.map_or(SqlStorageValue::Null, |st| text(status_text(st))),
                    int(i64::from(status.is_some())),
                ],
            )?;
        }
        Ok(cached)
    }

    pub(super) fn cached_status(&self, s: &Snapshot) -> Fallible<Option<SnapshotStatus>> {
        #[derive(Deserialize)]
        struct Status {
            status: String,
        }
        let rows: Vec<Status> = self.rows(
            "SELECT status FROM status_cache WHERE snapshot_id = ? AND create_time_ms = ?",
            vec![text(&s.id), int(s.create_time_ms)],
        )?;
        Ok(rows
            .first()
            .and_then(|r| parse_status(&r.status))
            .filter(|st| st.is_final()))
    }

    /// Up to `limit` snapshots of the job whose status is still to be asked.
    pub(super) fn unfetched(&self, job_id: &str, limit: usize) -> Fallible<Vec<(i64, Snapshot)>> {
        #[derive(Deserialize)]
        struct Unfetched {
            n: i64,
            snapshot: String,
        }
        let rows: Vec<Unfetched> = self.rows(
            "SELECT n, snapshot FROM inventory WHERE job_id = ? AND fetched = 0 ORDER BY n LIMIT ?",
            vec![text(job_id), int(i64::try_from(limit).unwrap_or(i64::MAX))],
        )?;
        rows.into_iter()
            .map(|r| Ok((r.n, serde_json::from_str(&r.snapshot).map_err(json_err)?)))
            .collect()
    }

    /// Records what a status call said (`None`: it failed, the status stays unknown).
    pub(super) fn put_status(
        &self,
        job_id: &str,
        n: i64,
        s: &Snapshot,
        status: Option<SnapshotStatus>,
    ) -> Fallible<()> {
        self.exec(
            "UPDATE inventory SET status = ?, fetched = 1 WHERE job_id = ? AND n = ?",
            vec![
                status.map_or(SqlStorageValue::Null, |st| text(status_text(st))),
                text(job_id),
                int(n),
            ],
        )?;
        if let Some(status) = status.filter(|st| st.is_final()) {
            self.exec(
                "INSERT OR REPLACE INTO status_cache (snapshot_id, create_time_ms, status) \
                 VALUES (?, ?, ?)",
                vec![
                    text(&s.id),
                    int(s.create_time_ms),
                    text(status_text(status)),
                ],
            )?;
        }
        Ok(())
    }

    /// A job's listing with the statuses learnt (unknown where a call failed).
    pub(super) fn inventory(
        &self,
        job_id: &str,
    ) -> Fallible<Vec<(Snapshot, Option<SnapshotStatus>)>> {
        #[derive(Deserialize)]
        struct Listed {
            snapshot: String,
            status: Option<String>,
        }
        let rows: Vec<Listed> = self.rows(
            "SELECT snapshot, status FROM inventory WHERE job_id = ? ORDER BY n",
            vec![text(job_id)],
        )?;
        rows.into_iter()
            .map(|r| {
                Ok((
                    serde_json::from_str(&r.snapshot).map_err(json_err)?,
                    r.status.as_deref().and_then(parse_status),
                ))
            })
            .collect()
    }

    /// Stores an audit entry unless its id is stored already (the same item written
    /// again by a retried alarm).
    pub(super) fn put_audit(&self, entry: &AuditEntry) -> Fallible<()> {
        self.exec(
            "INSERT OR IGNORE INTO audit (id, at_ms, actor, action, outcome, job_id, entry) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            vec![
                text(&entry.id),
                int(entry.at_ms),
                text(entry.actor.as_str()),
                text(entry.action.as_str()),
                text(entry.outcome.as_str()),
                entry.job_id.as_deref().map_or(SqlStorageValue::Null, text),
                text(serde_json::to_string(entry).map_err(json_err)?),
            ],
        )
    }

    /// The newest entries that match `filter`, newest first: at most `limit`, and
    /// whether more matched. The plain columns narrow the scan, and without free text
    /// they decide, so SQLite stops one row past `limit`; free text is matched here,
    /// over the narrowed rows, parsing only until `limit` is passed.
    pub(super) fn audit(
        &self,
        filter: &AuditFilter,
        limit: usize,
    ) -> Fallible<(Vec<AuditEntry>, bool)> {
        #[derive(Deserialize)]
        struct Stored {
            entry: String,
        }
        let name = |v: Option<&'static str>| v.map_or(SqlStorageValue::Null, text);
        let time = |v: Option<i64>| v.map_or(SqlStorageValue::Null, int);
        let mut bindings = Vec::new();
        for value in [
            name(filter.actor.map(Named::as_str)),
            name(filter.action.map(Named::as_str)),
            name(filter.outcome.map(Named::as_str)),
            time(filter.since_ms),
            time(filter.until_ms),
        ] {
            // Each condition reads its value twice (`? IS NULL OR column = ?`).
            bindings.push(value.clone());
            bindings.push(value);
        }
        // SQLite reads a negative LIMIT as none.
        let sql_limit = if filter.text.trim().is_empty() {
            i64::try_from(limit).map_or(-1, |n| n.saturating_add(1))
        } else {
            -1
        };
        bindings.push(int(sql_limit));
        let rows: Vec<Stored> = self.rows(
            "SELECT entry FROM audit \
             WHERE (? IS NULL OR actor = ?) AND (? IS NULL OR action = ?) \
               AND (? IS NULL OR outcome = ?) AND (? IS NULL OR at_ms >= ?) \
               AND (? IS NULL OR at_ms < ?) \
             ORDER BY at_ms DESC, seq DESC LIMIT ?",
            bindings,
        )?;
        audit::select(
            rows.iter()
                .map(|r| serde_json::from_str(&r.entry).map_err(json_err)),
            filter,
            limit,
        )
    }
}
