//! File contents on a devbox's disk: paths resolved as the API resolves them, and the
//! file endpoints (write, read, upload, download), which need a running devbox.

use snapdeck_api::{DevboxStatus, ExecutionDetail};

use super::{DevboxRec, Store, log_line};
use crate::error::{Error, Result};
use crate::shell::HOME;

/// Resolves a `file_path` as the API does: absolute paths stay, `~/x` and relative paths
/// are taken from the home directory.
pub fn resolve_path(path: &str) -> Result<String> {
    let path = path.trim();
    if path.is_empty() {
        return Err(Error::BadRequest("file_path must not be empty".into()));
    }
    Ok(if path.starts_with('/') {
        path.to_owned()
    } else if let Some(rest) = path.strip_prefix("~/") {
        format!("{HOME}/{rest}")
    } else {
        format!("{HOME}/{}", path.trim_start_matches("./"))
    })
}

impl Store {
    pub(super) fn running_devbox(&self, id: &str) -> Result<&DevboxRec> {
        let rec = self.devbox_rec(id)?;
        if rec.view.status != DevboxStatus::Running {
            return Err(Error::BadRequest(format!(
                "Devbox is not running (status {})",
                rec.view.status
            )));
        }
        Ok(rec)
    }

    /// `POST /v1/devboxes/{id}/write_file_contents`.
    pub fn write_file(&self, id: &str, path: &str, contents: &str) -> Result<ExecutionDetail> {
        self.running_devbox(id)?;
        self.db
            .write_file(id, &resolve_path(path)?, contents.as_bytes())?;
        Ok(ExecutionDetail {
            devbox_id: id.to_owned(),
            stdout: String::new(),
            stderr: String::new(),
            exit_status: 0,
            shell_name: None,
        })
    }

    /// `POST /v1/devboxes/{id}/upload_file`: any bytes, logged as a `files` line.
    pub fn upload_file(&self, id: &str, path: &str, contents: &[u8], now: i64) -> Result<()> {
        self.running_devbox(id)?;
        let path = resolve_path(path)?;
        self.db.transaction(|db| {
            db.write_file(id, &path, contents)?;
            let line = log_line(
                "files",
                now,
                format!("Uploaded {path} ({} bytes)", contents.len()),
            );
            db.append_log(id, now, &line)
        })
    }

    /// `POST /v1/devboxes/{id}/download_file`: the bytes; 404 for a missing file.
    pub fn download_file(&self, id: &str, path: &str) -> Result<Vec<u8>> {
        self.running_devbox(id)?;
        let path = resolve_path(path)?;
        self.db
            .read_file_bytes(id, &path)?
            .ok_or_else(|| Error::NotFound(format!("File {path} not found on devbox {id}")))
    }

    /// `POST /v1/devboxes/{id}/read_file_contents`: 404 for a missing file.
    pub fn read_file(&self, id: &str, path: &str) -> Result<String> {
        self.running_devbox(id)?;
        let path = resolve_path(path)?;
        self.db
            .read_file(id, &path)?
            .ok_or_else(|| Error::NotFound(format!("File {path} not found on devbox {id}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_under_the_home_directory_unless_absolute() {
        assert_eq!(
            resolve_path("a/b.txt").ok().as_deref(),
            Some("/home/user/a/b.txt")
        );
        assert_eq!(resolve_path("./a").ok().as_deref(), Some("/home/user/a"));
        assert_eq!(resolve_path("~/a").ok().as_deref(), Some("/home/user/a"));
        assert_eq!(resolve_path("/etc/x").ok().as_deref(), Some("/etc/x"));
        assert!(resolve_path("  ").is_err());
    }
}
