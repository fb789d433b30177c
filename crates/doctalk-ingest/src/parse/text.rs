//! Markdown and plain text → one [`crate::TextBlock`] per section, carrying its heading path.

mod markdown;
mod plain;
pub(crate) use plain::HeadingTracker;
pub(super) mod sections;

use std::path::Path;

use super::encoding;
use crate::{Document, Format, IngestError, Result};

pub(super) fn parse_markdown(path: &Path) -> Result<Document> {
    let decoded = encoding::read_text(path)?;
    let built = markdown::sections(&decoded.text);
    sections::into_document(path, Format::Markdown, built, decoded.diagnostic)
}

pub(super) fn parse_plain(path: &Path) -> Result<Document> {
    let decoded = encoding::read_text(path)?;
    let built = plain::sections(&decoded.text);
    sections::into_document(path, Format::Text, built, decoded.diagnostic)
}

/// The error for a file that decoded fine but holds no prose.
fn no_text(path: &Path) -> IngestError {
    IngestError::NoText {
        path: path.to_path_buf(),
        reason: "the file contains no text".to_owned(),
    }
}
