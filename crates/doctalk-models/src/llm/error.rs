//! Errors of the LLM side of the crate.
//!
//! `ModelError` (the crate's enum) has no variants for prompts, templates or corrupt weight files, and it
//! belongs to the encoder side, so generation gets its own enum that wraps `ModelError` for everything the
//! two share (missing files, candle, tokenizers, devices).

use std::path::PathBuf;

use crate::error::ModelError;

/// Everything that can go wrong while loading or running a local LLM.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// Failures shared with the encoders: missing files, unreadable files, candle, tokenizer, device.
    #[error(transparent)]
    Model(#[from] ModelError),

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

    /// Generation parameters that make no sense (negative temperature, top_p outside (0, 1]).
    #[error("invalid generation parameter: {0}")]
    InvalidParams(String),
}

/// Result of the LLM API.
pub type LlmResult<T> = std::result::Result<T, LlmError>;

impl From<candle_core::Error> for LlmError {
    fn from(err: candle_core::Error) -> Self {
        LlmError::Model(ModelError::Candle(err))
    }
}

impl LlmError {
    pub(crate) fn tokenizer(err: impl std::fmt::Display) -> Self {
        LlmError::Model(ModelError::Tokenizer(err.to_string()))
    }

    pub(crate) fn corrupt(path: impl Into<PathBuf>, reason: impl std::fmt::Display) -> Self {
        LlmError::CorruptFile {
            path: path.into(),
            reason: reason.to_string(),
        }
    }
}
