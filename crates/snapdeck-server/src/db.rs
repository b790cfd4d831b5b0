//! SQLite persistence: the durable copy of every record, the files of devboxes and
//! snapshots, and the idempotency log.
//!
//! Records are stored as JSON documents of their in-memory form (wire view plus the
//! pending transitions), with a few plain columns beside them for inspection with the
//! `sqlite3` shell. Files are rows of their own so that a write touches one row and a
//! snapshot copies them with one `INSERT … SELECT`.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// A file's contents from a TEXT or BLOB cell.
fn contents_of(value: rusqlite::types::ValueRef<'_>) -> rusqlite::Result<Vec<u8>> {
    use rusqlite::types::ValueRef;
    match value {
        ValueRef::Text(t) | ValueRef::Blob(t) => Ok(t.to_vec()),
        ValueRef::Null => Ok(Vec::new()),
        other => Err(rusqlite::Error::InvalidColumnType(
            0,
            "contents".into(),
            other.data_type(),
        )),
    }
}

/// The connection. Owned by the [`Store`](crate::store::Store), so every access happens
/// under the store's lock and SQLite never sees two writers.
pub struct Db {
    conn: Connection,
}

/// A stored response to a non-GET request, replayed for a repeated `x-request-id`.
#[derive(Debug, Clone)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// The record tables; each has `id`, `seq`, `status`, `create_time_ms`, `body`.
#[derive(Debug, Clone, Copy)]
pub enum Table {
    Devboxes,
    Snapshots,
    Blueprints,
    /// Commands run on devboxes (`execute*`), with their whole output once finished.
    Executions,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Self::Devboxes => "devboxes",
            Self::Snapshots => "snapshots",
            Self::Blueprints => "blueprints",
            Self::Executions => "executions",
        }
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS devboxes (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, status TEXT NOT NULL,
    create_time_ms INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS snapshots (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, status TEXT NOT NULL,
    create_time_ms INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blueprints (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, status TEXT NOT NULL,
    create_time_ms INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS executions (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, status TEXT NOT NULL,
    create_time_ms INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS logs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL,
    timestamp_ms INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS logs_by_owner ON logs (owner, timestamp_ms);
CREATE TABLE IF NOT EXISTS files (
    owner TEXT NOT NULL, path TEXT NOT NULL, contents TEXT NOT NULL,
    PRIMARY KEY (owner, path));
CREATE TABLE IF NOT EXISTS requests (
    key TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,
    status INTEGER NOT NULL, content_type TEXT, body BLOB NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (key, method, path));
";

impl Db {
    /// Opens (creating if needed) `dir/snapdeck.sqlite`, or an in-memory database.
    pub fn open(dir: Option<&Path>) -> Result<Self> {
        let conn = match dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    Error::Internal(format!("cannot create {}: {e}", dir.display()))
                })?;
                let conn = Connection::open(dir.join("snapdeck.sqlite"))?;
                // WAL + NORMAL: a commit is durable against a process kill (the case the
                // restart test covers) and costs no fsync per write.
                conn.pragma_update(None, "journal_mode", "WAL")?;
                conn.pragma_update(None, "synchronous", "NORMAL")?;
                conn
            }
            None => Connection::open_in_memory()?,
        };
        conn.execute_batch(SCHEMA)?;
        Ok(Self { conn })
    }

    /// Every record of a table, in insertion order.
    pub fn load<T: DeserializeOwned>(&self, table: Table) -> Result<Vec<T>> {
        let sql = format!("SELECT body FROM {} ORDER BY seq", table.name());
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], |row| row.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(serde_json::from_str(&row?)?);
        }
        Ok(out)
    }

    /// Inserts or replaces one record.
    pub fn put(
        &self,
        table: Table,
        id: &str,
        seq: u64,
        status: &str,
        create_time_ms: i64,
        body: &impl Serialize,
    ) -> Result<()> {
        let sql = format!(
            "INSERT OR REPLACE INTO {} (id, seq, status, create_time_ms, body) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            table.name()
        );
        let body = serde_json::to_string(body)?;
        self.conn.prepare_cached(&sql)?.execute(params![
            id,
            seq as i64,
            status,
            create_time_ms,
            body
        ])?;
        Ok(())
    }

    /// Writes (creates or overwrites) one file of a devbox or snapshot. Text is stored as
    /// SQLite TEXT (readable in the `sqlite3` shell), anything else as a BLOB.
    pub fn write_file(&self, owner: &str, path: &str, contents: &[u8]) -> Result<()> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT OR REPLACE INTO files (owner, path, contents) VALUES (?1, ?2, ?3)",
        )?;
        match std::str::from_utf8(contents) {
            Ok(text) => stmt.execute(params![owner, path, text])?,
            Err(_) => stmt.execute(params![owner, path, contents])?,
        };
        Ok(())
    }

    /// Removes one file (or directory row) of an owner; true when it was there.
    pub fn remove_file(&self, owner: &str, path: &str) -> Result<bool> {
        let n = self
            .conn
            .prepare_cached("DELETE FROM files WHERE owner = ?1 AND path = ?2")?
            .execute(params![owner, path])?;
        Ok(n > 0)
    }

    /// One file's contents as text (a binary file is read lossily), if it exists.
    pub fn read_file(&self, owner: &str, path: &str) -> Result<Option<String>> {
        Ok(self
            .read_file_bytes(owner, path)?
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// One file's bytes, if it exists.
    pub fn read_file_bytes(&self, owner: &str, path: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .prepare_cached("SELECT contents FROM files WHERE owner = ?1 AND path = ?2")?
            .query_row(params![owner, path], |row| contents_of(row.get_ref(0)?))
            .optional()?)
    }

    /// Every file (and directory row) of an owner, as `(path, bytes)`, by path.
    pub fn list_files(&self, owner: &str) -> Result<Vec<(String, Vec<u8>)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT path, contents FROM files WHERE owner = ?1 ORDER BY path")?;
        let rows = stmt.query_map(params![owner], |row| {
            Ok((row.get::<_, String>(0)?, contents_of(row.get_ref(1)?)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Appends one log line of a devbox (kept until the devbox's record goes).
    pub fn append_log(&self, owner: &str, timestamp_ms: i64, body: &impl Serialize) -> Result<()> {
        self.conn
            .prepare_cached("INSERT INTO logs (owner, timestamp_ms, body) VALUES (?1, ?2, ?3)")?
            .execute(params![owner, timestamp_ms, serde_json::to_string(body)?])?;
        Ok(())
    }

    /// A devbox's log lines up to `until_ms`, oldest first.
    pub fn logs<T: DeserializeOwned>(&self, owner: &str, until_ms: i64) -> Result<Vec<T>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT body FROM logs WHERE owner = ?1 AND timestamp_ms <= ?2 \
             ORDER BY timestamp_ms, seq",
        )?;
        let rows = stmt.query_map(params![owner, until_ms], |row| row.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(serde_json::from_str(&row?)?);
        }
        Ok(out)
    }

    /// Copies every file of `from` to `to` (a snapshot capturing a disk, or a devbox
    /// booting from a snapshot). Returns the number of bytes copied.
    pub fn copy_files(&self, from: &str, to: &str) -> Result<u64> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO files (owner, path, contents) \
                 SELECT ?2, path, contents FROM files WHERE owner = ?1",
            )?
            .execute(params![from, to])?;
        self.files_size(to)
    }

    /// Total size of an owner's files in bytes.
    pub fn files_size(&self, owner: &str) -> Result<u64> {
        let size: i64 = self
            .conn
            .prepare_cached("SELECT COALESCE(SUM(LENGTH(CAST(contents AS BLOB))), 0) FROM files WHERE owner = ?1")?
            .query_row(params![owner], |row| row.get(0))?;
        Ok(u64::try_from(size).unwrap_or(0))
    }

    /// Drops every file of an owner (a discarded disk, a deleted snapshot).
    pub fn delete_files(&self, owner: &str) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM files WHERE owner = ?1")?
            .execute(params![owner])?;
        Ok(())
    }

    /// The stored answer to an earlier request with the same idempotency key.
    pub fn request_get(
        &self,
        key: &str,
        method: &str,
        path: &str,
    ) -> Result<Option<StoredResponse>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT status, content_type, body FROM requests \
                 WHERE key = ?1 AND method = ?2 AND path = ?3",
            )?
            .query_row(params![key, method, path], |row| {
                Ok(StoredResponse {
                    status: row.get(0)?,
                    content_type: row.get(1)?,
                    body: row.get(2)?,
                })
            })
            .optional()?)
    }

    /// Remembers the answer to a request with an idempotency key.
    pub fn request_put(
        &self,
        key: &str,
        method: &str,
        path: &str,
        response: &StoredResponse,
        now_ms: i64,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO requests \
                 (key, method, path, status, content_type, body, created_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                key,
                method,
                path,
                response.status,
                response.content_type,
                response.body,
                now_ms
            ])?;
        Ok(())
    }

    /// Forgets idempotency keys older than `cutoff_ms` (SDK retries span seconds, not days).
    pub fn prune_requests(&self, cutoff_ms: i64) -> Result<()> {
        self.conn.execute(
            "DELETE FROM requests WHERE created_ms < ?1",
            params![cutoff_ms],
        )?;
        Ok(())
    }

    /// Empties every table (for `/_emulator/reset`).
    pub fn clear(&self) -> Result<()> {
        self.conn.execute_batch(
            "DELETE FROM devboxes; DELETE FROM snapshots; DELETE FROM blueprints; \
             DELETE FROM executions; DELETE FROM logs; DELETE FROM files; DELETE FROM requests;",
        )?;
        Ok(())
    }

    /// Runs `f` in one transaction, so a multi-row change lands whole or not at all.
    pub fn transaction<T>(&self, f: impl FnOnce(&Self) -> Result<T>) -> Result<T> {
        self.conn.execute_batch("BEGIN")?;
        match f(self) {
            Ok(v) => {
                self.conn.execute_batch("COMMIT")?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }
}
