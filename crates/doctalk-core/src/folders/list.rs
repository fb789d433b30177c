//! The list of watched folders, `folders.json`: canonical paths and their patterns.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use crate::{CoreError, Result};

/// The list file's format version; a newer one is refused rather than misread.
const VERSION: u32 = 1;

/// A folder whose supported files the knowledge base follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct WatchedFolder {
    /// Canonical (absolute, symlinks resolved).
    pub path: PathBuf,
    /// Globs over paths relative to the folder; empty means every supported file.
    #[serde(default)]
    pub include: Vec<String>,
    /// Globs over relative paths of files or folders left out.
    #[serde(default)]
    pub exclude: Vec<String>,
}

impl WatchedFolder {
    /// Checks the patterns (a bad glob is an error now, not a silent miss later).
    pub fn new(path: PathBuf, include: Vec<String>, exclude: Vec<String>) -> Result<Self> {
        let folder = WatchedFolder {
            path,
            include,
            exclude,
        };
        folder.patterns()?;
        Ok(folder)
    }

    pub(crate) fn patterns(&self) -> Result<Patterns> {
        Ok(Patterns {
            include: (!self.include.is_empty())
                .then(|| glob_set(&self.path, &self.include))
                .transpose()?,
            exclude: glob_set(&self.path, &self.exclude)?,
        })
    }
}

/// A folder's compiled include and exclude globs.
pub(crate) struct Patterns {
    include: Option<GlobSet>,
    exclude: GlobSet,
}

impl Patterns {
    /// Whether a file at `relative` (to the folder, `/`-separated) is part of the folder.
    pub(crate) fn wants_file(&self, relative: &str) -> bool {
        !self.exclude.is_match(relative) && self.include.as_ref().is_none_or(|set| set.is_match(relative))
    }

    /// Whether to descend into the folder at `relative`.
    pub(crate) fn wants_dir(&self, relative: &str) -> bool {
        !self.exclude.is_match(relative)
    }
}

fn glob_set(folder: &Path, globs: &[String]) -> Result<GlobSet> {
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        let compiled = Glob::new(glob.trim_start_matches("./")).map_err(|e| CoreError::Folder {
            path: folder.to_path_buf(),
            reason: format!("bad pattern {glob:?}: {e}"),
        })?;
        builder.add(compiled);
    }
    builder.build().map_err(|e| CoreError::Folder {
        path: folder.to_path_buf(),
        reason: format!("bad patterns: {e}"),
    })
}

#[derive(Serialize, Deserialize)]
struct ListFile {
    version: u32,
    folders: Vec<WatchedFolder>,
}

pub(crate) fn load(path: &Path) -> Result<Vec<WatchedFolder>> {
    let bad = |reason: String| CoreError::Folder {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(bad(format!("cannot read the list of watched folders: {e}"))),
    };
    let file: ListFile = serde_json::from_slice(&bytes).map_err(|e| {
        bad(format!(
            "the list of watched folders is damaged ({e}); fix or delete the file"
        ))
    })?;
    if file.version > VERSION {
        return Err(bad(format!(
            "the list of watched folders was written by a newer DocTalk (format {}, this one reads {VERSION})",
            file.version
        )));
    }
    Ok(file.folders)
}

pub(crate) fn save(path: &Path, folders: &[WatchedFolder]) -> Result<()> {
    let file = ListFile {
        version: VERSION,
        folders: folders.to_vec(),
    };
    crate::json_file::write_atomic(path, &file).map_err(|e| CoreError::Folder {
        path: path.to_path_buf(),
        reason: format!("cannot save the list of watched folders: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_choose_files_and_prune_folders() {
        let folder = WatchedFolder::new(
            "/docs".into(),
            vec!["*.pdf".into(), "*.md".into()],
            vec!["drafts".into(), "**/old-*".into()],
        )
        .unwrap();
        let p = folder.patterns().unwrap();
        assert!(p.wants_file("handbook.pdf"));
        assert!(
            p.wants_file("hr/travel.md"),
            "* crosses folders, as users expect of *.pdf"
        );
        assert!(!p.wants_file("faq.csv"), "not included");
        assert!(!p.wants_file("hr/old-travel.md"), "excluded");
        assert!(!p.wants_dir("drafts"));
        assert!(p.wants_dir("hr"));

        let all = WatchedFolder::new("/docs".into(), vec![], vec![]).unwrap();
        assert!(all.patterns().unwrap().wants_file("faq.csv"));
    }

    #[test]
    fn a_bad_pattern_is_refused_when_the_folder_is_added() {
        let err = WatchedFolder::new("/docs".into(), vec!["[unclosed".into()], vec![]).unwrap_err();
        assert!(err.to_string().contains("[unclosed"), "{err}");
    }

    #[test]
    fn the_list_survives_a_round_trip_and_a_newer_format_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("folders.json");
        assert!(load(&path).unwrap().is_empty(), "no file: no folders");
        let folders = vec![WatchedFolder::new("/a".into(), vec!["*.pdf".into()], vec![]).unwrap()];
        save(&path, &folders).unwrap();
        assert_eq!(load(&path).unwrap(), folders);

        std::fs::write(&path, r#"{"version": 9, "folders": []}"#).unwrap();
        assert!(load(&path).unwrap_err().to_string().contains("newer DocTalk"));
        std::fs::write(&path, "{not json").unwrap();
        assert!(load(&path).unwrap_err().to_string().contains("damaged"));
    }
}
