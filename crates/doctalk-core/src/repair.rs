//! Rebuilding a damaged local index from the user's files (`doctalk kb repair`).
//!
//! A deleted or half-written LanceDB fragment (a disk error, a sync tool, a user cleaning up)
//! makes the store unreadable. The documents table usually still lists what was indexed, and the
//! files themselves are the truth: the damaged tables are moved aside (kept, not deleted), a fresh
//! index is made, and every listed file that still exists, plus every watched folder, is ingested
//! again. Conversations, uploads, settings and folder lists live beside the tables and are kept.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::{CoreError, Embedder, FileReport, KnowledgeBase, Result};

/// What a repair did.
#[derive(Debug, Clone, Serialize)]
pub struct RepairReport {
    /// Where the damaged tables were moved.
    pub set_aside: PathBuf,
    /// Documents the damaged index listed (`None`: its document list was unreadable too).
    pub listed: Option<usize>,
    /// Files ingested again, with their reports.
    pub reports: Vec<FileReport>,
    /// Paths the damaged index listed whose files are gone: these cannot come back.
    pub missing: Vec<String>,
}

/// Moves the tables of `dir` aside and rebuilds the index from the files it listed and the
/// knowledge base's watched folders.
pub async fn repair(
    dir: &Path,
    embedder: Arc<dyn Embedder>,
    progress: &(dyn Fn(crate::IngestEvent) + Send + Sync),
) -> Result<RepairReport> {
    let listed = doctalk_store::documents_of_damaged(dir).await.ok();
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let set_aside = dir.join(format!("damaged-{stamp}"));
    std::fs::create_dir_all(&set_aside).map_err(|e| io(&set_aside, e))?;
    for table in doctalk_store::TABLE_DIRS {
        let from = dir.join(table);
        if from.exists() {
            std::fs::rename(&from, set_aside.join(table)).map_err(|e| io(&from, e))?;
        }
    }
    let mut paths: Vec<PathBuf> = Vec::new();
    let mut missing = Vec::new();
    for doc in listed.iter().flatten() {
        let path = PathBuf::from(&doc.path);
        if path.is_file() {
            paths.push(path);
        } else {
            missing.push(doc.path.clone());
        }
    }
    let folders = crate::folders::Folders::new(dir.to_path_buf());
    for folder in folders.list().unwrap_or_default() {
        if folder.path.is_dir() && !paths.contains(&folder.path) {
            paths.push(folder.path.clone());
        }
    }
    let kb = KnowledgeBase::open(dir, embedder).await?;
    let reports = if paths.is_empty() {
        Vec::new()
    } else {
        kb.ingest(&paths, progress).await?
    };
    Ok(RepairReport {
        set_aside,
        listed: listed.map(|l| l.len()),
        reports,
        missing,
    })
}

fn io(path: &Path, e: std::io::Error) -> CoreError {
    CoreError::Folder {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}
