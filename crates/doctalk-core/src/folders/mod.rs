//! Watched folders: knowledge bases that follow folders on disk.
//!
//! A knowledge base keeps a list of folders (`folders.json` beside its index). A sync pass
//! ([`Folders::sync`]) makes the index equal to what a fresh ingest of those folders would give:
//! new and changed files are ingested, deleted ones removed, renamed ones moved without
//! re-embedding and identical copies recorded as extra locations of one document (both by content
//! hash, in [`crate::KnowledgeBase::ingest`]). A per-file state cache (`folder-state.json`: size,
//! modification time, hash, status) lets a pass over unchanged files read no file at all; it is
//! only a cache: the index is the truth, and a lost or stale cache costs re-hashing, nothing
//! more. [`watcher::FolderWatcher`] runs passes on filesystem notifications (debounced) and on a
//! timer, for the server and the desktop app.

mod list;
mod scan;
mod state;
mod sync;
pub mod watcher;

pub use list::WatchedFolder;
pub use state::{FileState, FileStateKind};
pub use sync::{SkippedFile, SyncEvent, SyncReport, SETTLE};
pub use watcher::FolderWatcher;

use std::path::{Path, PathBuf};

use crate::{CoreError, Result};

const LIST_FILE: &str = "folders.json";
const STATE_FILE: &str = "folder-state.json";

/// The watched folders of one knowledge base, and the state of their files.
pub struct Folders {
    dir: PathBuf,
    /// One pass at a time per knowledge base (a watcher's pass and `doctalk sync` in the same
    /// process must not interleave their writes of the state file).
    pass: tokio::sync::Mutex<()>,
}

/// A watched folder with what its files look like now, for listings.
#[derive(Debug, Clone, PartialEq, serde::Serialize, ts_rs::TS)]
pub struct FolderStatus {
    #[serde(flatten)]
    pub folder: WatchedFolder,
    pub indexed: usize,
    pub queued: usize,
    pub failed: usize,
    /// False when the folder itself is gone or unreadable (its documents stay until it returns
    /// or is removed from the list).
    pub available: bool,
    /// Every known file under the folder, by path.
    pub files: Vec<FileState>,
}

impl Folders {
    /// The watched folders of the knowledge base whose files live in `kb_dir`.
    pub fn new(kb_dir: impl Into<PathBuf>) -> Self {
        Folders {
            dir: kb_dir.into(),
            pass: tokio::sync::Mutex::new(()),
        }
    }

    /// The knowledge base's own directory, canonical: never indexed, even inside a watched folder.
    fn own_dir(&self) -> PathBuf {
        std::fs::canonicalize(&self.dir).unwrap_or_else(|_| self.dir.clone())
    }

    fn list_path(&self) -> PathBuf {
        self.dir.join(LIST_FILE)
    }

    fn state_path(&self) -> PathBuf {
        self.dir.join(STATE_FILE)
    }

    /// The watched folders, in the order they were added.
    pub fn list(&self) -> Result<Vec<WatchedFolder>> {
        list::load(&self.list_path())
    }

    /// Starts watching `path` (a folder; stored canonical), or changes the patterns of a folder
    /// already watched. `include`/`exclude` are globs over paths relative to the folder
    /// (`*.pdf`, `drafts/**`); no include means every supported file.
    pub fn add(&self, path: &Path, include: Vec<String>, exclude: Vec<String>) -> Result<WatchedFolder> {
        let canonical = std::fs::canonicalize(path).map_err(|e| CoreError::Folder {
            path: path.to_path_buf(),
            reason: format!("cannot open it: {e}"),
        })?;
        if !canonical.is_dir() {
            return Err(CoreError::Folder {
                path: path.to_path_buf(),
                reason: "it is not a folder (use `doctalk ingest` for single files)".into(),
            });
        }
        if canonical.starts_with(self.own_dir()) {
            return Err(CoreError::Folder {
                path: path.to_path_buf(),
                reason: "it is inside DocTalk's own data directory; watch a folder of documents".into(),
            });
        }
        let folder = WatchedFolder::new(canonical, include, exclude)?;
        let mut folders = self.list()?;
        match folders.iter_mut().find(|f| f.path == folder.path) {
            Some(existing) => {
                existing.include = folder.include.clone();
                existing.exclude = folder.exclude.clone();
            }
            None => folders.push(folder.clone()),
        }
        list::save(&self.list_path(), &folders)?;
        Ok(folder)
    }

    /// Replaces the list with `folders` as they were elsewhere (an imported archive's): they are
    /// not checked, since on another machine they may not exist yet; a missing folder keeps its
    /// documents and is shown unavailable until it appears.
    pub fn restore(&self, folders: &[WatchedFolder]) -> Result<()> {
        list::save(&self.list_path(), folders)
    }

    /// Stops watching the folder at `path` (as given or canonical). Returns it, or `None` when it
    /// was not watched. Its documents stay until [`Folders::forget_documents`] or a sync pass.
    pub fn remove(&self, path: &Path) -> Result<Option<WatchedFolder>> {
        let mut folders = self.list()?;
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let Some(index) = folders.iter().position(|f| f.path == canonical || f.path == path) else {
            return Ok(None);
        };
        let removed = folders.remove(index);
        list::save(&self.list_path(), &folders)?;
        Ok(Some(removed))
    }

    /// Stops watching the folder at `path` and, given `remove_from`, takes every document and copy
    /// under it out of that index (a document whose identical copy lives elsewhere moves there
    /// instead; the files are not touched). Returns the folder and how many paths left the index,
    /// or `None` when it was not watched. What the CLI, the server and the app all call.
    pub async fn unwatch(
        &self,
        path: &Path,
        remove_from: Option<&crate::KnowledgeBase>,
    ) -> Result<Option<(WatchedFolder, usize)>> {
        let Some(removed) = self.remove(path)? else {
            return Ok(None);
        };
        let paths = match remove_from {
            Some(kb) => {
                let _pass = self.pass.lock().await;
                sync::remove_under(kb, &removed.path).await?
            }
            None => 0,
        };
        Ok(Some((removed, paths)))
    }

    /// The watched folders with their files' states.
    pub fn status(&self) -> Result<Vec<FolderStatus>> {
        let states = state::load(&self.state_path());
        Ok(self
            .list()?
            .into_iter()
            .map(|folder| {
                let files: Vec<FileState> = states
                    .values()
                    .filter(|s| Path::new(&s.path).starts_with(&folder.path))
                    .cloned()
                    .collect();
                let count = |k: FileStateKind| files.iter().filter(|f| f.state == k).count();
                FolderStatus {
                    available: folder.path.is_dir(),
                    indexed: count(FileStateKind::Indexed),
                    queued: count(FileStateKind::Queued),
                    failed: count(FileStateKind::Failed),
                    folder,
                    files,
                }
            })
            .collect())
    }
}
