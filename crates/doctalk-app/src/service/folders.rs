//! Watched folders: list them with their files' states, add, remove, sync now. The server and the
//! desktop app keep them in sync by themselves (see `Workspace::watch_folders`); these are what
//! the library screen and scripts ask for.

use std::path::PathBuf;

use doctalk_core::folders::{FolderStatus, SyncReport, WatchedFolder};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{AppError, Engine};

/// A folder to watch, with the file patterns it keeps and leaves out.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct AddFolderRequest {
    pub path: PathBuf,
    #[serde(default)]
    #[ts(as = "Option<Vec<String>>", optional)]
    pub include: Vec<String>,
    #[serde(default)]
    #[ts(as = "Option<Vec<String>>", optional)]
    pub exclude: Vec<String>,
}

/// A folder now watched, and whether the watcher runs.
#[derive(Debug, Clone, Serialize, TS)]
pub struct FolderAdded {
    pub folder: WatchedFolder,
    pub watching: bool,
}

/// The watched folders; `files`: with every file's state.
pub async fn folders(s: &Engine, kb: Option<&str>, files: bool) -> Result<Vec<FolderStatus>, AppError> {
    let lib = s.library(kb).await?;
    let mut status = lib.folders.status()?;
    if !files {
        for folder in &mut status {
            // Failed files stay: they are what a user needs to see.
            folder
                .files
                .retain(|f| f.state == doctalk_core::folders::FileStateKind::Failed);
        }
    }
    Ok(status)
}

/// Starts watching a folder (or changes its patterns); the watcher indexes it in the background.
pub async fn add_folder(
    s: &Engine,
    kb: Option<&str>,
    req: AddFolderRequest,
) -> Result<FolderAdded, AppError> {
    let lib = s.library(kb).await?;
    let folder = lib.folders.add(&req.path, req.include, req.exclude)?;
    lib.folders_changed();
    Ok(FolderAdded {
        folder,
        watching: lib.is_watching(),
    })
}

/// A folder no longer watched, and how many of its documents left the index.
#[derive(Debug, Clone, Serialize, TS)]
pub struct FolderRemoved {
    pub folder: WatchedFolder,
    pub removed_paths: usize,
}

/// Stops watching a folder; its documents leave the index unless `keep_documents`.
pub async fn remove_folder(
    s: &Engine,
    kb: Option<&str>,
    path: &std::path::Path,
    keep_documents: bool,
) -> Result<FolderRemoved, AppError> {
    let lib = s.library(kb).await?;
    let (removed, paths) = lib
        .folders
        .unwatch(path, (!keep_documents).then_some(&lib.kb))
        .await?
        .ok_or_else(|| AppError::NotFound(format!("{} is not a watched folder", path.display())))?;
    lib.folders_changed();
    Ok(FolderRemoved {
        folder: removed,
        removed_paths: paths,
    })
}

/// One pass now, without waiting for notifications.
pub async fn sync_folders(s: &Engine, kb: Option<&str>) -> Result<SyncReport, AppError> {
    let lib = s.library(kb).await?;
    Ok(lib.folders.sync(&lib.kb, &|_| {}).await?)
}
