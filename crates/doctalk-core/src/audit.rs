//! Who changed what: `audit.log` in the data directory, one JSON object per line (uploads,
//! deletions, settings, knowledge bases, users and their rights), appended and never rewritten.
//!
//! Each entry is written with one `write` on a file opened for appending, so entries from the
//! server and a CLI at the same time do not interleave. Tokens never appear in it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// One change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Seconds since the Unix epoch.
    pub at: u64,
    /// The user, or `local` (a loopback server without users, or the CLI).
    pub who: String,
    /// What was asked, e.g. `POST /api/ingest` or `users add`.
    pub action: String,
    /// The knowledge base it was about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kb: Option<String>,
    /// What it was done to (a file name, a document id, a user name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The HTTP status of the reply, when it came over HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

impl AuditEntry {
    pub fn new(who: &str, action: impl Into<String>) -> Self {
        Self {
            at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            who: who.to_string(),
            action: action.into(),
            kb: None,
            target: None,
            status: None,
        }
    }
}

/// The audit log of one data directory.
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            path: data_dir.join("audit.log"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one entry. A log that cannot be written is reported in the server's log, not to the
    /// client: the change itself has already happened.
    pub fn record(&self, entry: &AuditEntry) {
        if let Err(e) = self.append(entry) {
            tracing::error!(path = %self.path.display(), error = %e, "cannot write the audit log");
        }
    }

    fn append(&self, entry: &AuditEntry) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(&self.path)?.write_all(&line)
    }

    /// Every entry, oldest first; lines that do not parse (a disk that filled mid-line) are skipped.
    pub fn entries(&self) -> std::io::Result<Vec<AuditEntry>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_append_and_read_back_past_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path());
        let mut upload = AuditEntry::new("alice", "POST /api/ingest");
        upload.kb = Some("hr".into());
        upload.target = Some("handbook.pdf".into());
        upload.status = Some(200);
        log.record(&upload);
        std::fs::OpenOptions::new()
            .append(true)
            .open(log.path())
            .unwrap()
            .write_all(b"{\"at\": 1, \"who\"")
            .unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(log.path())
            .unwrap()
            .write_all(b"\n")
            .unwrap();
        log.record(&AuditEntry::new("local", "users add"));
        let entries = log.entries().unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0], upload);
        assert_eq!(entries[1].action, "users add");
    }
}
