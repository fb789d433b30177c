//! The model store: one place that turns a model name into files on disk.
//!
//! Sources, in the order they are looked at: directories DocTalk or the user filled
//! (`$DOCTALK_MODELS_DIR/<short name>`, `<data dir>/models/<short name>`, a checkout's `.models/`,
//! where the setup scripts unpack the registry packages), then the HuggingFace cache. `pull` fills
//! the HuggingFace cache from the hub or a mirror ([`hub`]); `remove` deletes only what DocTalk
//! manages (the cache entry and `<data dir>/models/<short name>`), never a user's own directory.

pub mod hub;
pub mod manifest;

use std::path::{Path, PathBuf};

pub use hub::{HubSettings, ProgressFn};
pub use manifest::{find_manifest, known_manifests, AnswerScores, Manifest};

use crate::error::{CatalogError, Result};
use crate::resolve::SearchRoots;

/// A known model and where (if anywhere) its files are.
#[derive(Debug, Clone)]
pub struct ModelStatus {
    pub manifest: &'static Manifest,
    /// The directory holding a complete copy, if there is one.
    pub installed: Option<PathBuf>,
}

/// What `remove` did.
#[derive(Debug, Clone, Default)]
pub struct Removal {
    pub removed: Vec<PathBuf>,
    /// Complete copies left alone because the user put them there.
    pub kept: Vec<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct ModelStore {
    roots: SearchRoots,
    hub: HubSettings,
}

impl ModelStore {
    pub fn new(roots: SearchRoots, hub: HubSettings) -> Self {
        Self { roots, hub }
    }

    /// The environment's roots and hub settings, with DocTalk's data directory and an optional
    /// models directory (`--models-dir`).
    pub fn from_env(models_dir: Option<&Path>, data_dir: &Path) -> Self {
        let mut roots = SearchRoots::for_app(models_dir, data_dir);
        let hub = HubSettings::from_env();
        roots.hf_hub = Some(hub.cache_dir.clone());
        Self { roots, hub }
    }

    /// Where models are looked for.
    pub fn roots(&self) -> &SearchRoots {
        &self.roots
    }

    pub fn hub(&self) -> &HubSettings {
        &self.hub
    }

    pub fn list(&self) -> Vec<ModelStatus> {
        known_manifests()
            .iter()
            .map(|m| ModelStatus {
                manifest: m,
                installed: self.installed(m),
            })
            .collect()
    }

    pub fn status(&self, name: &str) -> Result<ModelStatus> {
        let manifest = lookup(name)?;
        Ok(ModelStatus {
            manifest,
            installed: self.installed(manifest),
        })
    }

    /// Downloads `name` from the hub into the HuggingFace cache (files already there are kept) and
    /// returns the directory that holds it. With `HF_HUB_OFFLINE=1` only the cache is looked at.
    pub async fn pull(&self, name: &str, progress: &ProgressFn<'_>) -> Result<PathBuf> {
        let manifest = lookup(name)?;
        let Some(source) = manifest.hub() else {
            return Err(CatalogError::NoHubSource {
                id: manifest.id.clone(),
                packages: manifest.registry_packages(),
            });
        };
        let files: Vec<(String, Option<String>)> = manifest
            .hub_files()
            .into_iter()
            .map(|f| (f.path, f.sha256))
            .collect();
        let revision = source.revision.as_deref().unwrap_or("main");
        hub::download(&self.hub, &source.repo, revision, &files, progress).await
    }

    /// Deletes the copies DocTalk manages; reports copies the user placed elsewhere.
    pub fn remove(&self, name: &str) -> Result<Removal> {
        let manifest = lookup(name)?;
        let mut removal = Removal::default();
        let managed = [
            self.roots
                .data_dir
                .as_ref()
                .map(|d| d.join("models").join(&manifest.short_name)),
            manifest.hub().map(|h| self.hub.repo_dir(&h.repo)),
        ];
        for dir in managed.into_iter().flatten() {
            if dir.exists() {
                std::fs::remove_dir_all(&dir).map_err(|e| CatalogError::io(&dir, e))?;
                removal.removed.push(dir);
            }
        }
        if let Some(other) = self.installed(manifest) {
            removal.kept.push(other);
        }
        Ok(removal)
    }

    /// The first directory holding a complete copy: a registry layout or a hub layout.
    fn installed(&self, m: &Manifest) -> Option<PathBuf> {
        let registry_files: Vec<&str> = m
            .files
            .iter()
            .filter(|f| f.required)
            .map(|f| f.path.as_str())
            .collect();
        let hub_files: Vec<String> = m.hub_files().into_iter().map(|f| f.path).collect();
        let complete =
            |dir: &Path, files: &[&str]| !files.is_empty() && files.iter().all(|f| dir.join(f).is_file());
        let hub_refs: Vec<&str> = hub_files.iter().map(String::as_str).collect();
        if let Some(dir) = self
            .roots
            .local_dirs(&m.short_name)
            .into_iter()
            .find(|d| complete(d, &registry_files) || complete(d, &hub_refs))
        {
            return Some(dir);
        }
        let source = m.hub()?;
        let snapshot = self
            .hub
            .cached_snapshot(&source.repo, source.revision.as_deref().unwrap_or("main"))?;
        complete(&snapshot, &hub_refs).then_some(snapshot)
    }
}

fn lookup(name: &str) -> Result<&'static Manifest> {
    find_manifest(name).ok_or_else(|| CatalogError::UnknownModel {
        name: name.to_string(),
        known: known_manifests().iter().map(|m| m.short_name.clone()).collect(),
    })
}
