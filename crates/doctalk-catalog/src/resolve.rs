//! Finding a model's files on disk. No network: the downloader lives elsewhere.
//!
//! Search order (first complete directory wins):
//! 1. an explicit directory (authoritative: when given, nothing else is tried),
//! 2. `$DOCTALK_MODELS_DIR/<short-name>/`,
//! 3. `<data_dir>/models/<short-name>/`,
//! 4. the repo-local `.models/<short-name>/` (found by walking up from the current directory),
//! 5. the HuggingFace hub cache: `<hub>/models--<org>--<name>/snapshots/<rev>/`, the revision in
//!    `refs/main` first, then the other snapshots.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::error::{CatalogError, Result};
use crate::spec::{known_encoder, short_name, BERT_REQUIRED_FILES};

/// The environment variable that names a directory of model directories.
pub const MODELS_DIR_ENV: &str = "DOCTALK_MODELS_DIR";

/// How far up from the current directory we look for a repo-local `.models/`.
const REPO_LOCAL_MAX_DEPTH: usize = 8;

/// Where to look for model directories. Build it with [`SearchRoots::from_env`] and the `with_*` setters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchRoots {
    /// A directory that holds the model's files itself (not a root of model directories).
    pub explicit: Option<PathBuf>,
    /// A root of `<short-name>/` directories, usually from `$DOCTALK_MODELS_DIR`.
    pub models_dir: Option<PathBuf>,
    /// DocTalk's data directory; models live under its `models/`.
    pub data_dir: Option<PathBuf>,
    /// A source checkout's `.models/`, filled by `scripts/fetch-models.sh`.
    pub repo_local: Option<PathBuf>,
    /// The HuggingFace hub cache (the folder holding `models--*`).
    pub hf_hub: Option<PathBuf>,
}

impl SearchRoots {
    /// Reads `DOCTALK_MODELS_DIR`, `HF_HUB_CACHE`, `HF_HOME`, `XDG_CACHE_HOME`, `HOME` and the current directory.
    pub fn from_env() -> Self {
        let cwd = std::env::current_dir().ok();
        Self::from_vars(|name| std::env::var_os(name), cwd.as_deref())
    }

    /// [`SearchRoots::from_env`] with the environment passed in, so tests need not mutate the process's.
    pub fn from_vars(var: impl Fn(&str) -> Option<OsString>, cwd: Option<&Path>) -> Self {
        let non_empty = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        // Same precedence as huggingface_hub: HF_HUB_CACHE, else $HF_HOME/hub, else
        // ${XDG_CACHE_HOME:-~/.cache}/huggingface/hub.
        let hf_hub = non_empty("HF_HUB_CACHE")
            .or_else(|| non_empty("HF_HOME").map(|h| h.join("hub")))
            .or_else(|| non_empty("XDG_CACHE_HOME").map(|c| c.join("huggingface").join("hub")))
            .or_else(|| non_empty("HOME").map(|h| h.join(".cache").join("huggingface").join("hub")));
        SearchRoots {
            explicit: None,
            models_dir: non_empty(MODELS_DIR_ENV),
            data_dir: None,
            repo_local: cwd.and_then(find_repo_local),
            hf_hub,
        }
    }

    /// What an application uses: the environment's roots, DocTalk's data directory, and a root of
    /// model folders given on the command line (`--models-dir`), which wins over `DOCTALK_MODELS_DIR`.
    pub fn for_app(models_dir: Option<&Path>, data_dir: &Path) -> Self {
        let mut roots = Self::from_env().with_data_dir(data_dir);
        if let Some(dir) = models_dir {
            roots.models_dir = Some(dir.to_path_buf());
        }
        roots
    }

    /// Use exactly this model directory.
    pub fn with_explicit(mut self, dir: impl Into<PathBuf>) -> Self {
        self.explicit = Some(dir.into());
        self
    }

    /// Also look under `<data_dir>/models/`.
    pub fn with_data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// The local directories where the model named `short_name` may be, in the order they are
    /// searched: the explicit directory alone when one is given (the user's choice; falling back
    /// elsewhere would hide their mistake), else `<models_dir>/<short_name>`,
    /// `<data_dir>/models/<short_name>` and `<repo_local>/<short_name>`. Every locator (encoders,
    /// e5, chat models, the model store) searches these; the HuggingFace cache comes after them
    /// where a model has a hub layout.
    pub fn local_dirs(&self, short_name: &str) -> Vec<PathBuf> {
        if let Some(dir) = &self.explicit {
            return vec![dir.clone()];
        }
        [
            self.models_dir.clone(),
            self.data_dir.as_ref().map(|d| d.join("models")),
            self.repo_local.clone(),
        ]
        .into_iter()
        .flatten()
        .map(|root| root.join(short_name))
        .collect()
    }
}

/// Walks up from `start` to the first ancestor holding a `.models/` directory.
fn find_repo_local(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .take(REPO_LOCAL_MAX_DEPTH)
        .map(|dir| dir.join(".models"))
        .find(|candidate| candidate.is_dir())
}

/// Finds the directory holding model `id`'s files (a full hub id or a known short name).
///
/// Unknown ids are accepted and must hold the BERT files (`config.json`, `tokenizer.json`,
/// `model.safetensors`). When no directory is complete, the error is `MissingFile` for the first
/// directory that exists but lacks a file, else `NotFound` listing every place searched.
pub fn resolve_model_dir(id: &str, roots: &SearchRoots) -> Result<PathBuf> {
    let spec = known_encoder(id);
    let full_id = spec.map_or(id, |s| s.id);
    let short = spec.map_or_else(|| short_name(id), |s| s.short_name);
    let required: &[&str] = spec.map_or(BERT_REQUIRED_FILES, |s| s.required_files);
    let not_found = |searched: Vec<PathBuf>| CatalogError::NotFound {
        id: full_id.to_string(),
        searched,
        required: required.iter().map(|f| f.to_string()).collect(),
    };

    // An explicit directory is the user's choice; falling back elsewhere would hide their mistake.
    if let Some(dir) = &roots.explicit {
        if !dir.is_dir() {
            return Err(not_found(vec![dir.clone()]));
        }
        return match first_missing(dir, required) {
            Some(file) => Err(CatalogError::MissingFile {
                dir: dir.clone(),
                file: file.to_string(),
            }),
            None => Ok(dir.clone()),
        };
    }

    let mut candidates = roots.local_dirs(short);
    let hub_repo = roots.hf_hub.as_ref().map(|hub| hub_repo_dir(hub, full_id));
    if let Some(repo) = &hub_repo {
        candidates.extend(hub_snapshots(repo));
    }

    let mut first_incomplete: Option<(PathBuf, &str)> = None;
    for dir in &candidates {
        if !dir.is_dir() {
            continue;
        }
        match first_missing(dir, required) {
            None => {
                tracing::debug!(model = full_id, dir = %dir.display(), "model directory resolved");
                return Ok(dir.clone());
            }
            Some(file) => {
                tracing::debug!(dir = %dir.display(), file, "model directory incomplete");
                first_incomplete.get_or_insert((dir.clone(), file));
            }
        }
    }
    if let Some((dir, file)) = first_incomplete {
        return Err(CatalogError::MissingFile {
            dir,
            file: file.to_string(),
        });
    }
    // Report the hub repo folder itself when it has no snapshots, so the message names the path to fill.
    let mut searched = candidates;
    if let Some(repo) = hub_repo {
        if !searched.iter().any(|c| c.starts_with(&repo)) {
            searched.push(repo.join("snapshots"));
        }
    }
    Err(not_found(searched))
}

fn first_missing<'a>(dir: &Path, required: &[&'a str]) -> Option<&'a str> {
    required.iter().copied().find(|f| !dir.join(f).is_file())
}

/// `<hub>/models--org--name`, the hub cache's folder for one repository.
fn hub_repo_dir(hub: &Path, id: &str) -> PathBuf {
    hub.join(format!("models--{}", id.replace('/', "--")))
}

/// The repo's snapshot folders, the one `refs/main` names first, the rest in name order.
fn hub_snapshots(repo: &Path) -> Vec<PathBuf> {
    let snapshots = repo.join("snapshots");
    let main = std::fs::read_to_string(repo.join("refs").join("main"))
        .ok()
        .map(|rev| rev.trim().to_string())
        .filter(|rev| !rev.is_empty() && !rev.contains(['/', '\\']));
    let mut others: Vec<PathBuf> = std::fs::read_dir(&snapshots)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    others.sort();
    let mut out = Vec::with_capacity(others.len() + 1);
    if let Some(rev) = main {
        let main_dir = snapshots.join(rev);
        others.retain(|p| p != &main_dir);
        out.push(main_dir);
    }
    out.extend(others);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    const MINILM: &str = "sentence-transformers/all-MiniLM-L6-v2";

    fn fill(dir: &Path, files: &[&str]) {
        fs::create_dir_all(dir).unwrap();
        for f in files {
            fs::write(dir.join(f), b"x").unwrap();
        }
    }

    #[test]
    fn local_dirs_keep_the_search_order_and_an_explicit_directory_stands_alone() {
        let roots = SearchRoots {
            models_dir: Some("/m".into()),
            data_dir: Some("/data".into()),
            repo_local: Some("/repo/.models".into()),
            hf_hub: Some("/hub".into()),
            ..SearchRoots::default()
        };
        assert_eq!(
            roots.local_dirs("whisper-base"),
            [
                PathBuf::from("/m/whisper-base"),
                PathBuf::from("/data/models/whisper-base"),
                PathBuf::from("/repo/.models/whisper-base"),
            ]
        );
        let roots = roots.with_explicit("/mine");
        assert_eq!(roots.local_dirs("whisper-base"), [PathBuf::from("/mine")]);
    }

    #[test]
    fn env_vars_follow_huggingface_precedence() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        let r = SearchRoots::from_vars(vars(&[("HOME", "/home/u")]), None);
        assert_eq!(
            r.hf_hub.as_deref(),
            Some(Path::new("/home/u/.cache/huggingface/hub"))
        );
        let r = SearchRoots::from_vars(vars(&[("HOME", "/home/u"), ("HF_HOME", "/hf")]), None);
        assert_eq!(r.hf_hub.as_deref(), Some(Path::new("/hf/hub")));
        let r = SearchRoots::from_vars(vars(&[("HF_HOME", "/hf"), ("HF_HUB_CACHE", "/cache")]), None);
        assert_eq!(r.hf_hub.as_deref(), Some(Path::new("/cache")));
        let r = SearchRoots::from_vars(vars(&[("DOCTALK_MODELS_DIR", "/m")]), None);
        assert_eq!(r.models_dir.as_deref(), Some(Path::new("/m")));
        assert_eq!(r.hf_hub, None);
    }

    #[test]
    fn repo_local_models_dir_is_found_from_a_subdirectory() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join(".models")).unwrap();
        let sub = tmp.path().join("crates/x");
        fs::create_dir_all(&sub).unwrap();
        let r = SearchRoots::from_vars(|_| None, Some(&sub));
        assert_eq!(r.repo_local, Some(tmp.path().join(".models")));
    }

    #[test]
    fn earlier_root_wins_and_incomplete_directories_are_skipped() {
        let tmp = tempfile::tempdir().unwrap();
        let env_root = tmp.path().join("env");
        let data = tmp.path().join("data");
        // Incomplete in the first root, complete in the second.
        fill(
            &env_root.join("all-MiniLM-L6-v2"),
            &["config.json", "tokenizer.json"],
        );
        fill(
            &data.join("models/all-MiniLM-L6-v2"),
            &["config.json", "tokenizer.json", "model.safetensors"],
        );
        let roots = SearchRoots {
            models_dir: Some(env_root),
            ..SearchRoots::default()
        }
        .with_data_dir(&data);
        assert_eq!(
            resolve_model_dir(MINILM, &roots).unwrap(),
            data.join("models/all-MiniLM-L6-v2")
        );
    }

    #[test]
    fn hub_cache_prefers_the_snapshot_refs_main_names() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("models--sentence-transformers--all-MiniLM-L6-v2");
        let files = ["config.json", "tokenizer.json", "model.safetensors"];
        fill(&repo.join("snapshots/aaaa"), &files);
        fill(&repo.join("snapshots/bbbb"), &files);
        fs::create_dir_all(repo.join("refs")).unwrap();
        fs::write(repo.join("refs/main"), "bbbb\n").unwrap();
        let roots = SearchRoots {
            hf_hub: Some(tmp.path().to_path_buf()),
            ..SearchRoots::default()
        };
        assert_eq!(
            resolve_model_dir("all-MiniLM-L6-v2", &roots).unwrap(),
            repo.join("snapshots/bbbb")
        );
    }

    #[test]
    fn nothing_found_lists_every_place_searched() {
        let tmp = tempfile::tempdir().unwrap();
        let roots = SearchRoots {
            models_dir: Some(tmp.path().join("env")),
            repo_local: Some(tmp.path().join(".models")),
            hf_hub: Some(tmp.path().join("hub")),
            ..SearchRoots::default()
        };
        match resolve_model_dir(MINILM, &roots) {
            Err(CatalogError::NotFound { id, searched, .. }) => {
                assert_eq!(id, MINILM);
                assert_eq!(
                    searched,
                    vec![
                        tmp.path().join("env/all-MiniLM-L6-v2"),
                        tmp.path().join(".models/all-MiniLM-L6-v2"),
                        tmp.path()
                            .join("hub/models--sentence-transformers--all-MiniLM-L6-v2/snapshots"),
                    ]
                );
            }
            other => panic!("expected NotFound, got {other:?}"),
        }
    }

    #[test]
    fn incomplete_directory_reports_the_missing_file() {
        let tmp = tempfile::tempdir().unwrap();
        fill(
            &tmp.path().join("all-MiniLM-L6-v2"),
            &["config.json", "model.safetensors"],
        );
        let roots = SearchRoots {
            repo_local: Some(tmp.path().to_path_buf()),
            ..SearchRoots::default()
        };
        match resolve_model_dir(MINILM, &roots) {
            Err(CatalogError::MissingFile { dir, file }) => {
                assert_eq!(dir, tmp.path().join("all-MiniLM-L6-v2"));
                assert_eq!(file, "tokenizer.json");
            }
            other => panic!("expected MissingFile, got {other:?}"),
        }
    }

    #[test]
    fn explicit_directory_is_authoritative() {
        let tmp = tempfile::tempdir().unwrap();
        let complete = tmp.path().join("complete/all-MiniLM-L6-v2");
        fill(&complete, &["config.json", "tokenizer.json", "model.safetensors"]);
        let explicit = tmp.path().join("mine");
        fill(&explicit, &["config.json"]);
        let roots = SearchRoots {
            repo_local: Some(tmp.path().join("complete")),
            ..SearchRoots::default()
        }
        .with_explicit(&explicit);
        assert!(matches!(
            resolve_model_dir(MINILM, &roots),
            Err(CatalogError::MissingFile { file, .. }) if file == "tokenizer.json"
        ));
        let roots = roots.with_explicit(tmp.path().join("absent"));
        assert!(matches!(
            resolve_model_dir(MINILM, &roots),
            Err(CatalogError::NotFound { searched, .. }) if searched == vec![tmp.path().join("absent")]
        ));
    }
}
