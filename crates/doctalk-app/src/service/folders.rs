//! Watched folders: list them with their files' states, add, remove, sync now. The server and the
//! desktop app keep them in sync by themselves (see `Workspace::watch_folders`); these are what
//! the library screen and scripts ask for.

use std::path::PathBuf;

use doctalk_core::folders::{FolderStatus, SyncReport};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{AppError, Engine};

#[derive(Debug, Clone, Deserialize)]
pub struct AddFolderRequest {
    pub path: PathBuf,
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
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
pub async fn add_folder(s: &Engine, kb: Option<&str>, req: AddFolderRequest) -> Result<Value, AppError> {
    let lib = s.library(kb).await?;
    let folder = lib.folders.add(&req.path, req.include, req.exclude)?;
    lib.folders_changed();
    Ok(json!({"folder": folder, "watching": lib.is_watching()}))
}

/// Stops watching a folder; its documents leave the index unless `keep_documents`.
pub async fn remove_folder(
    s: &Engine,
    kb: Option<&str>,
    path: &std::path::Path,
    keep_documents: bool,
) -> Result<Value, AppError> {
    let lib = s.library(kb).await?;
    let (removed, paths) = lib
        .folders
        .unwatch(path, (!keep_documents).then_some(&lib.kb))
        .await?
        .ok_or_else(|| AppError::NotFound(format!("{} is not a watched folder", path.display())))?;
    lib.folders_changed();
    Ok(json!({"folder": removed, "removed_paths": paths}))
}

/// One pass now, without waiting for notifications.
pub async fn sync_folders(s: &Engine, kb: Option<&str>) -> Result<SyncReport, AppError> {
    let lib = s.library(kb).await?;
    Ok(lib.folders.sync(&lib.kb, &|_| {}).await?)
}
