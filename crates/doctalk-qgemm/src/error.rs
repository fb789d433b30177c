//! The crate's one error type.

/// What can go wrong when packing or multiplying.
#[derive(Debug, thiserror::Error)]
pub enum QgemmError {
    /// The weight format has no kernel here (the caller keeps its own path for it).
    #[error("no integer kernel for weight format {0}")]
    UnsupportedFormat(String),
    /// The raw data, the shape and the format disagree.
    #[error("shape mismatch: {0}")]
    Shape(String),
}

/// `Result` with [`QgemmError`].
pub type Result<T> = std::result::Result<T, QgemmError>;
