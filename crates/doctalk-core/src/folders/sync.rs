//! One sync pass: make the index equal to a fresh ingest of the watched folders.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::list::WatchedFolder;
use super::scan::{self, Seen};
use super::state::{self, FileState, FileStateKind};
use super::Folders;
use crate::{FileReport, FileStatus, IngestEvent, KnowledgeBase, Result};

/// A file modified less than this long ago may still be being written: it waits for the next
/// pass instead of being read half-written.
pub const SETTLE: Duration = Duration::from_millis(1500);

/// A path a pass left alone, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SkippedFile {
    pub path: String,
    pub reason: String,
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ts_rs::TS)]
pub struct SyncReport {
    pub folders: Vec<PathBuf>,
    /// Folders that could not be listed (gone, unmounted): their documents were kept.
    pub unavailable: Vec<PathBuf>,
    pub added: usize,
    pub changed: usize,
    pub moved: usize,
    pub duplicates: usize,
    pub removed: usize,
    pub unchanged: usize,
    pub failed: usize,
    pub queued: usize,
    /// The ingest report of every file that was read this pass.
    pub files: Vec<FileReport>,
    pub removed_paths: Vec<String>,
    /// Files left for a later pass (still being written).
    pub queued_paths: Vec<String>,
    pub skipped: Vec<SkippedFile>,
    pub elapsed_ms: u64,
}

/// Progress of a pass.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SyncEvent {
    /// The folders were listed: `files` supported files, `to_read` of them new or changed.
    Scanned {
        files: usize,
        to_read: usize,
        to_remove: usize,
    },
    Ingest(IngestEvent),
    Removed {
        path: String,
    },
}

fn now_ns() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
}

fn under(path: &str, folder: &Path) -> bool {
    Path::new(path).starts_with(folder)
}

impl Folders {
    /// One pass over every watched folder.
    pub async fn sync(
        &self,
        kb: &KnowledgeBase,
        progress: &(dyn Fn(SyncEvent) + Send + Sync),
    ) -> Result<SyncReport> {
        let folders = self.list()?;
        self.sync_folders(kb, &folders, progress).await
    }

    /// Passes until no file is left waiting for its writer (at most `max_wait`): what scripts
    /// want from `doctalk sync`.
    pub async fn sync_settled(
        &self,
        kb: &KnowledgeBase,
        folders: &[WatchedFolder],
        max_wait: Duration,
        progress: &(dyn Fn(SyncEvent) + Send + Sync),
    ) -> Result<SyncReport> {
        let deadline = Instant::now() + max_wait;
        let mut total = self.sync_folders(kb, folders, progress).await?;
        while total.queued > 0 && Instant::now() + SETTLE < deadline {
            tokio::time::sleep(SETTLE).await;
            let next = self.sync_folders(kb, folders, progress).await?;
            total.absorb(next);
        }
        Ok(total)
    }

    /// One pass over `folders` (watched or not).
    pub async fn sync_folders(
        &self,
        kb: &KnowledgeBase,
        folders: &[WatchedFolder],
        progress: &(dyn Fn(SyncEvent) + Send + Sync),
    ) -> Result<SyncReport> {
        let _pass = self.pass.lock().await;
        let started = Instant::now();
        let state_path = self.state_path();
        let mut states = state::load(&state_path);
        let avoid = self.own_dir();
        let mut report = SyncReport {
            folders: folders.iter().map(|f| f.path.clone()).collect(),
            ..SyncReport::default()
        };

        // What the index holds: path → content hash, for documents and their extra locations.
        let indexed = indexed_paths(kb).await?;
        let now = now_ns();
        let mut to_read: Vec<Seen> = Vec::new();
        let mut to_remove: Vec<String> = Vec::new();
        for folder in folders {
            let patterns = folder.patterns()?;
            let scan = scan::scan(folder, &patterns, &avoid);
            report.skipped.extend(scan.skipped);
            if !scan.listed {
                report.unavailable.push(folder.path.clone());
                continue;
            }
            let mut on_disk: HashSet<&str> = HashSet::with_capacity(scan.files.len());
            for seen in &scan.files {
                on_disk.insert(&seen.key);
            }
            for seen in &scan.files {
                let cached = states.get(&seen.key).filter(|c| {
                    c.size == seen.size
                            && c.mtime_ns == seen.mtime_ns
                            // Permissions changed (a file made unreadable keeps its mtime).
                            && (c.ctime_ns.is_none() || c.ctime_ns == seen.ctime_ns)
                });
                match cached.map(|c| (c.state, c.hash.as_deref())) {
                    Some((FileStateKind::Indexed, Some(hash)))
                        if indexed.get(&seen.key).map(String::as_str) == Some(hash) =>
                    {
                        report.unchanged += 1;
                        continue;
                    }
                    // Failed before and not changed since: not retried on every pass.
                    Some((FileStateKind::Failed, _)) => {
                        report.failed += 1;
                        continue;
                    }
                    _ => {}
                }
                if now - seen.mtime_ns < SETTLE.as_nanos() as i128 {
                    queue(&mut states, &mut report, seen, "being written");
                    continue;
                }
                to_read.push(seen.clone());
            }
            let queued: HashSet<&str> = report.queued_paths.iter().map(String::as_str).collect();
            for path in indexed.keys() {
                if under(path, &folder.path)
                    && !on_disk.contains(path.as_str())
                    && !queued.contains(path.as_str())
                {
                    to_remove.push(path.clone());
                }
            }
            // Files that left the folder leave the state cache too.
            states.retain(|path, _| !under(path, &folder.path) || on_disk.contains(path.as_str()));
        }
        progress(SyncEvent::Scanned {
            files: report.unchanged + report.failed + report.queued + to_read.len(),
            to_read: to_read.len(),
            to_remove: to_remove.len(),
        });

        if !to_read.is_empty() {
            let paths: Vec<PathBuf> = to_read.iter().map(|s| s.path.clone()).collect();
            let files = kb
                .ingest(&paths, &|event| progress(SyncEvent::Ingest(event)))
                .await?;
            let hashes = indexed_paths(kb).await?;
            let before: HashMap<&str, &Seen> = to_read.iter().map(|s| (s.key.as_str(), s)).collect();
            for file in &files {
                let key = file.path.to_string_lossy().into_owned();
                let Some(seen) = before.get(key.as_str()) else {
                    continue;
                };
                self.record(kb, &mut states, &mut report, seen, file, &indexed, &hashes)
                    .await?;
            }
            report.files = files;
        }

        for path in to_remove {
            if remove_path(kb, &path).await? {
                report.removed += 1;
                progress(SyncEvent::Removed { path: path.clone() });
                report.removed_paths.push(path);
            }
        }

        state::save(&state_path, &states).map_err(|e| crate::CoreError::Folder {
            path: state_path.clone(),
            reason: format!("cannot save the state of the watched files: {e}"),
        })?;
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        Ok(report)
    }

    /// Counts a file read this pass and records its state (`before`/`after`: the index's paths
    /// and hashes before and after the pass's ingest).
    #[allow(clippy::too_many_arguments)]
    async fn record(
        &self,
        kb: &KnowledgeBase,
        states: &mut BTreeMap<String, FileState>,
        report: &mut SyncReport,
        seen: &Seen,
        file: &FileReport,
        before: &HashMap<String, String>,
        after: &HashMap<String, String>,
    ) -> Result<()> {
        // Written to while it was read: what was indexed may be half a file; read it again later.
        let now = std::fs::metadata(&seen.path).ok();
        if now
            .as_ref()
            .is_none_or(|m| m.len() != seen.size || scan::mtime_ns(m) != seen.mtime_ns)
            && file.status != FileStatus::Failed
        {
            queue(states, report, seen, "changed while it was read");
            return Ok(());
        }
        let mut state = FileState {
            path: seen.key.clone(),
            state: FileStateKind::Indexed,
            reason: None,
            size: seen.size,
            mtime_ns: seen.mtime_ns,
            ctime_ns: seen.ctime_ns,
            hash: after.get(&seen.key).cloned(),
            doc_id: file.doc_id.clone(),
        };
        match file.status {
            FileStatus::Indexed if before.contains_key(&seen.key) => report.changed += 1,
            FileStatus::Indexed => report.added += 1,
            FileStatus::Unchanged => report.unchanged += 1,
            FileStatus::Moved => report.moved += 1,
            FileStatus::Duplicate => report.duplicates += 1,
            FileStatus::Failed => {
                report.failed += 1;
                state.state = FileStateKind::Failed;
                state.hash = None;
                state.reason = file
                    .diagnostics
                    .first()
                    .map(|d| format!("{}: {}", d.code, d.message));
                // A file that cannot be read any more is as good as gone (a fresh ingest would
                // not have it); one that no longer parses keeps its previous version.
                if file.diagnostics.iter().any(|d| d.code == "io") && remove_path(kb, &seen.key).await? {
                    report.removed += 1;
                    report.removed_paths.push(seen.key.clone());
                }
            }
        }
        states.insert(seen.key.clone(), state);
        Ok(())
    }
}

fn queue(states: &mut BTreeMap<String, FileState>, report: &mut SyncReport, seen: &Seen, reason: &str) {
    report.queued += 1;
    report.queued_paths.push(seen.key.clone());
    states.insert(
        seen.key.clone(),
        FileState {
            path: seen.key.clone(),
            state: FileStateKind::Queued,
            reason: Some(reason.into()),
            size: seen.size,
            mtime_ns: seen.mtime_ns,
            ctime_ns: seen.ctime_ns,
            hash: None,
            doc_id: None,
        },
    );
}

/// Every path the index knows (documents and extra locations) with its content hash.
async fn indexed_paths(kb: &KnowledgeBase) -> Result<HashMap<String, String>> {
    let docs = kb.store().list_documents().await?;
    let locations = kb.store().locations().await?;
    let hash_of: HashMap<&str, &str> = docs
        .iter()
        .map(|d| (d.id.as_str(), d.content_hash.as_str()))
        .collect();
    let mut paths: HashMap<String, String> = HashMap::with_capacity(docs.len() + locations.len());
    for location in &locations {
        if let Some(hash) = hash_of.get(location.doc_id.as_str()) {
            paths.insert(location.path.clone(), hash.to_string());
        }
    }
    for doc in &docs {
        paths.insert(doc.path.clone(), doc.content_hash.clone());
    }
    Ok(paths)
}

pub(super) async fn remove_under(kb: &KnowledgeBase, folder: &Path) -> Result<usize> {
    let mut removed = 0;
    for path in indexed_paths(kb).await?.into_keys() {
        if under(&path, folder) && remove_path(kb, &path).await? {
            removed += 1;
        }
    }
    Ok(removed)
}

/// Takes a path that is gone out of the index: a document moves to a surviving copy or is
/// removed; an extra location is forgotten. Returns whether anything changed.
async fn remove_path(kb: &KnowledgeBase, path: &str) -> Result<bool> {
    if let Some(doc) = kb.store().document_by_path(path).await? {
        if !kb.hand_over_to_copy(&doc).await? {
            kb.store().remove_document(&doc.id).await?;
        }
        return Ok(true);
    }
    Ok(kb.store().remove_location(path).await?)
}

impl SyncReport {
    /// Adds a later pass's counts (for passes repeated until files settle).
    fn absorb(&mut self, next: SyncReport) {
        // Files read by the earlier passes count as unchanged in the later ones.
        let read_before = self.added + self.changed + self.moved + self.duplicates;
        self.added += next.added;
        self.changed += next.changed;
        self.moved += next.moved;
        self.duplicates += next.duplicates;
        self.removed += next.removed;
        self.files.extend(next.files);
        self.removed_paths.extend(next.removed_paths);
        // What is still waiting, failed or unchanged is the latest pass's view.
        self.unchanged = next.unchanged.saturating_sub(read_before);
        self.failed = next.failed;
        self.queued = next.queued;
        self.queued_paths = next.queued_paths;
        self.skipped = next.skipped;
        self.unavailable = next.unavailable;
        self.elapsed_ms += next.elapsed_ms;
    }
}
