//! The crate's one error type.

use std::path::PathBuf;

use doctalk_catalog::CatalogError;

/// Everything that can go wrong while loading or running a model: encoders and LLMs alike.
/// Finding and downloading a model's files fail with [`CatalogError`] (`Catalog`).
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The model is not on this machine, or its download failed (see `doctalk-catalog`).
    #[error(transparent)]
    Catalog(#[from] CatalogError),

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
