//! Where the Whisper model's files are: a directory given, else a speech-recognition model of the
//! catalogue by name, in the model directories or the HuggingFace cache.

use std::path::{Path, PathBuf};

use crate::store;
use crate::{CatalogError, Result, SearchRoots};

/// The Whisper model to load: `requested` as a directory, else as a model name from the store
/// (`whisper-small`, `openai/whisper-medium`: the model directories, then the HuggingFace cache
/// that `doctalk models pull` fills), else [`DEFAULT_WHISPER`] the same way.
pub fn find_whisper(requested: Option<&Path>, roots: &SearchRoots) -> Result<PathBuf> {
    if let Some(dir) = requested.filter(|p| p.is_dir()) {
        return Ok(dir.to_owned());
    }
    let name = match requested {
        Some(p) => p.to_string_lossy().into_owned(),
        None => DEFAULT_WHISPER.to_string(),
    };
    let is_whisper = |m: &store::Manifest| m.kind == "speech-recognition";
    let Some(manifest) = store::find_manifest(&name).filter(|m| is_whisper(m)) else {
        let known: Vec<String> = store::known_manifests()
            .iter()
            .filter(|m| is_whisper(m))
            .map(|m| m.short_name.clone())
            .collect();
        return Err(CatalogError::UnknownModel { name, known });
    };
    // Found the way every model is: the model directories, then the HuggingFace cache.
    let mut hub = store::HubSettings::from_env();
    if let Some(cache) = &roots.hf_hub {
        hub.cache_dir = cache.clone();
    }
    let store = store::ModelStore::new(roots.clone(), hub);
    if let Some(dir) = store.status(&manifest.short_name)?.installed {
        return Ok(dir);
    }
    let mut searched = roots.local_dirs(&manifest.short_name);
    searched.extend(manifest.hub().map(|h| store.hub().repo_dir(&h.repo)));
    Err(CatalogError::NotFound {
        id: manifest.short_name.clone(),
        searched,
        required: manifest
            .hub_files()
            .into_iter()
            .filter(|f| f.required)
            .map(|f| f.path)
            .collect(),
    })
}

/// The speech model the voice features use unless told otherwise (multilingual, 74 M parameters).
pub const DEFAULT_WHISPER: &str = "whisper-base";
