//! Listing a watched folder's files by metadata only (no file is opened).

use std::path::{Path, PathBuf};

use doctalk_ingest::detect_format;

use super::list::{Patterns, WatchedFolder};
use super::sync::SkippedFile;

/// A supported file of a watched folder, as `stat` sees it.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub path: PathBuf,
    /// The store's key for it (the canonical path as a string).
    pub key: String,
    pub size: u64,
    pub mtime_ns: i128,
    /// Status-change time (Unix): moves with permissions and ownership, which mtime does not.
    pub ctime_ns: Option<i128>,
}

pub(crate) struct Scan {
    pub files: Vec<Seen>,
    pub skipped: Vec<SkippedFile>,
    /// False when the folder itself could not be listed (unmounted drive, deleted folder): its
    /// documents are then kept, not deleted.
    pub listed: bool,
}

pub(crate) fn mtime_ns(meta: &std::fs::Metadata) -> i128 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i128)
}

/// When the file's metadata (permissions, owner, links) last changed; `None` where the platform
/// has no such time. A file made unreadable keeps its mtime: only this shows the change.
pub(crate) fn ctime_ns(meta: &std::fs::Metadata) -> Option<i128> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some(i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

/// Every file of `folder` that its patterns want, sorted by path. Hidden entries and `avoid`
/// (DocTalk's own directory) are skipped; symbolic links are never followed, so nothing outside
/// the folder is read, and a link that points outside is reported.
pub(crate) fn scan(folder: &WatchedFolder, patterns: &Patterns, avoid: &Path) -> Scan {
    let mut scan = Scan {
        files: Vec::new(),
        skipped: Vec::new(),
        listed: std::fs::read_dir(&folder.path).is_ok(),
    };
    if scan.listed {
        walk(&folder.path, &folder.path, patterns, avoid, &mut scan);
    }
    scan.files.sort_by(|a, b| a.key.cmp(&b.key));
    scan
}

fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn walk(root: &Path, dir: &Path, patterns: &Patterns, avoid: &Path, scan: &mut Scan) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        scan.skipped.push(SkippedFile {
            path: dir.to_string_lossy().into_owned(),
            reason: "the folder cannot be read".into(),
        });
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.ends_with('~') {
            continue;
        }
        let path = entry.path();
        let rel = relative(root, &path);
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_symlink() {
            let outside = std::fs::canonicalize(&path).map_or(true, |target| !target.starts_with(root));
            if outside {
                scan.skipped.push(SkippedFile {
                    path: path.to_string_lossy().into_owned(),
                    reason: "a link to something outside the watched folder".into(),
                });
            }
            continue;
        }
        if kind.is_dir() {
            if path != avoid && patterns.wants_dir(&rel) {
                walk(root, &path, patterns, avoid, scan);
            }
            continue;
        }
        // Pipes, sockets and devices are never opened (reading a pipe would wait forever).
        if !kind.is_file() || detect_format(&path).is_none() || !patterns.wants_file(&rel) {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        scan.files.push(Seen {
            key: path.to_string_lossy().into_owned(),
            path,
            size: meta.len(),
            mtime_ns: mtime_ns(&meta),
            ctime_ns: ctime_ns(&meta),
        });
    }
}
