//! `folder-state.json`: what each file of the watched folders looked like when it was last
//! handled, and how that went. A cache for skipping unchanged files without reading them, and the
//! per-file status users see; losing it costs a re-hash of every file, nothing else.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

const VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum FileStateKind {
    /// Searchable (its own document, or another location of an identical file's document).
    Indexed,
    /// Waiting: still being written, or not handled yet.
    Queued,
    /// Could not be indexed; `reason` says why. Retried when the file changes.
    Failed,
}

/// One file of a watched folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct FileState {
    pub path: String,
    pub state: FileStateKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: i128,
    /// Status-change time (permissions, owner), where the platform has one; absent in caches
    /// written before it was kept, and then not compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ctime_ns: Option<i128>,
    /// sha256 of the content, when it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc_id: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct StateFile {
    version: u32,
    files: Vec<FileState>,
}

/// The cached states by path; empty when the file is missing, damaged or from a newer version
/// (it is rebuilt by the next pass).
pub(crate) fn load(path: &Path) -> BTreeMap<String, FileState> {
    let Ok(bytes) = std::fs::read(path) else {
        return BTreeMap::new();
    };
    match serde_json::from_slice::<StateFile>(&bytes) {
        Ok(file) if file.version <= VERSION => file.files.into_iter().map(|f| (f.path.clone(), f)).collect(),
        Ok(_) => BTreeMap::new(),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "the folder state cache is damaged; rebuilding it");
            BTreeMap::new()
        }
    }
}

pub(crate) fn save(path: &Path, states: &BTreeMap<String, FileState>) -> std::io::Result<()> {
    let file = StateFile {
        version: VERSION,
        files: states.values().cloned().collect(),
    };
    crate::json_file::write_atomic(path, &file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_cache_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let mut states = BTreeMap::new();
        states.insert(
            "/a.md".to_string(),
            FileState {
                path: "/a.md".into(),
                state: FileStateKind::Failed,
                reason: Some("no_text".into()),
                size: 3,
                mtime_ns: 1,
                ctime_ns: None,
                hash: None,
                doc_id: None,
            },
        );
        save(&path, &states).unwrap();
        assert_eq!(load(&path), states);
        std::fs::write(&path, b"{\"version\":1,\"files\":[{\"pa").unwrap();
        assert!(load(&path).is_empty());
    }
}
