use std::path::PathBuf;

/// Everything that can go wrong while reading text from a picture.
#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    /// A model or runtime file is not where it should be.
    #[error("the OCR model file {path} is missing ({what}); install it with `scripts/fetch-models.sh ppocr-v6-small onnxruntime`")]
    MissingFile { path: PathBuf, what: &'static str },
    /// ONNX Runtime could not be loaded from its shared library.
    #[error("ONNX Runtime could not be loaded from {path}: {reason}")]
    Runtime { path: PathBuf, reason: String },
    /// A model failed to load or to run.
    #[error("the OCR {stage} model failed: {reason}")]
    Model { stage: &'static str, reason: String },
    /// The picture cannot be read (no pixels, or dimensions that do not match its data).
    #[error("the image cannot be read: {0}")]
    Image(String),
}

pub type Result<T> = std::result::Result<T, OcrError>;

impl OcrError {
    pub(crate) fn model(stage: &'static str, err: impl std::fmt::Display) -> OcrError {
        OcrError::Model {
            stage,
            reason: err.to_string(),
        }
    }
}
