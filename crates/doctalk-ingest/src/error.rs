use std::path::PathBuf;

/// A file that could not be read at all. Partial problems are [`crate::Diagnostic`]s instead.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: unsupported file type {extension:?}")]
    Unsupported { path: PathBuf, extension: String },
    #[error("{path}: the PDF is password-protected; give its password to read it")]
    Encrypted { path: PathBuf },
    /// Password-protected, and none of the passwords given opens it.
    #[error("{path}: wrong password: {}", wrong_password_text(*tried))]
    WrongPassword { path: PathBuf, tried: usize },
    #[error("{path}: the file is corrupt or not a valid {format}: {reason}")]
    Corrupt {
        path: PathBuf,
        format: &'static str,
        reason: String,
    },
    #[error("{path}: the file is empty")]
    Empty { path: PathBuf },
    #[error("{path}: larger than the {limit_bytes}-byte limit")]
    TooLarge { path: PathBuf, limit_bytes: u64 },
    #[error("{path}: no question/answer columns found (headers: {headers:?}); map them explicitly")]
    NoFaqColumns { path: PathBuf, headers: Vec<String> },
    #[error("{path}: no text could be extracted: {reason}")]
    NoText { path: PathBuf, reason: String },
    /// A picture of a page that only OCR could read, and OCR is not available or turned off.
    #[error("{path}: {reason}")]
    NeedsOcr { path: PathBuf, reason: String },
    /// Every PDF engine overran its time budget (a huge or pathological file).
    #[error("{path}: no PDF engine finished within the {seconds}-second budget")]
    TimedOut { path: PathBuf, seconds: u64 },
}

impl IngestError {
    /// A stable machine-readable code for JSON output and the UI.
    pub fn code(&self) -> &'static str {
        match self {
            IngestError::Io { .. } => "io",
            IngestError::Unsupported { .. } => "unsupported",
            IngestError::Encrypted { .. } => "encrypted",
            IngestError::WrongPassword { .. } => "wrong_password",
            IngestError::Corrupt { .. } => "corrupt",
            IngestError::Empty { .. } => "empty",
            IngestError::TooLarge { .. } => "too_large",
            IngestError::NoFaqColumns { .. } => "no_faq_columns",
            IngestError::NoText { .. } => "no_text",
            IngestError::TimedOut { .. } => "timed_out",
            IngestError::NeedsOcr { .. } => "needs_ocr",
        }
    }
}

fn wrong_password_text(tried: usize) -> String {
    match tried {
        1 => "the password given does not open this PDF".to_string(),
        n => format!("none of the {n} passwords given opens this PDF"),
    }
}

pub type Result<T, E = IngestError> = std::result::Result<T, E>;
