//! File-type detection and dispatch to one parser per format.

mod docx;
mod encoding;
mod faq;
mod html;
mod image;
mod ocr;
mod pdf;
mod text;
pub use ocr::{OcrMode, OcrOptions, OcrProgress, PageReader, PageReading};
pub use pdf::PdfPassword;
pub(crate) use text::HeadingTracker;

use std::path::Path;
use std::time::Duration;

use crate::{Document, Format, IngestError, PdfEngineId, Result};

/// How to read files. `Default` is what the CLI uses.
#[derive(Debug, Clone)]
pub struct ParseOptions {
    /// Explicit column names for FAQ exports; detected from headers when `None`.
    pub faq_mapping: Option<FaqMapping>,
    /// Wall-clock budget for one PDF engine on one file.
    pub pdf_time_budget: Duration,
    /// Which PDF engine runs first; the other is the fallback.
    pub pdf_primary: PdfEngineId,
    /// Files larger than this are refused with [`IngestError::TooLarge`].
    pub max_file_bytes: u64,
    /// Passwords to try on a password-protected PDF, in order, after the empty one. Used for
    /// reading only: never stored, never logged (their `Debug` is hidden).
    pub pdf_passwords: Vec<PdfPassword>,
    /// Reading pictures of pages: scanned PDF pages and image files.
    pub ocr: OcrOptions,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            faq_mapping: None,
            pdf_time_budget: Duration::from_secs(120),
            pdf_primary: PdfEngineId::PdfOxide,
            max_file_bytes: 1 << 30,
            pdf_passwords: Vec::new(),
            ocr: OcrOptions::default(),
        }
    }
}

/// Explicit header names of an FAQ export.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FaqMapping {
    pub question: String,
    pub answer: String,
    pub similar_questions: Option<String>,
}

/// The format a path will be parsed as, from its extension.
pub fn detect_format(path: &Path) -> Option<Format> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "pdf" => Format::Pdf,
        "csv" => Format::Csv,
        "tsv" | "tab" => Format::Tsv,
        "xlsx" | "xlsm" | "xls" | "ods" => Format::Xlsx,
        "json" => Format::Json,
        "jsonl" | "ndjson" => Format::Jsonl,
        "md" | "markdown" => Format::Markdown,
        "txt" | "text" => Format::Text,
        "html" | "htm" | "xhtml" => Format::Html,
        "docx" => Format::Docx,
        "png" | "jpg" | "jpeg" | "tif" | "tiff" | "webp" | "bmp" | "gif" => Format::Image,
        _ => return None,
    })
}

/// Parses one file. Never panics: parser panics become errors or diagnostics.
pub fn parse_file(path: &Path, opts: &ParseOptions) -> Result<Document> {
    let format = detect_format(path).ok_or_else(|| IngestError::Unsupported {
        path: path.to_path_buf(),
        extension: path
            .extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default(),
    })?;
    let meta = std::fs::metadata(path).map_err(|source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.len() == 0 {
        return Err(IngestError::Empty {
            path: path.to_path_buf(),
        });
    }
    if meta.len() > opts.max_file_bytes {
        return Err(IngestError::TooLarge {
            path: path.to_path_buf(),
            limit_bytes: opts.max_file_bytes,
        });
    }
    // Every parser runs under `doctalk_contain::contained`: a panic of its library becomes "corrupt
    // file" rather than a crash. PDF engines are also isolated on threads of their own, with a
    // time budget (see `pdf`), so this catches what happens around them.
    let parse = || match format {
        Format::Pdf => pdf::parse(path, opts),
        Format::Csv | Format::Tsv | Format::Xlsx | Format::Json | Format::Jsonl => {
            faq::parse(path, format, opts)
        }
        Format::Markdown => text::parse_markdown(path),
        Format::Text => text::parse_plain(path),
        Format::Html => html::parse(path),
        Format::Docx => docx::parse(path),
        Format::Image => image::parse(path, opts),
    };
    doctalk_contain::contained(parse).unwrap_or_else(|panic| {
        Err(IngestError::Corrupt {
            path: path.to_path_buf(),
            format: format.as_str(),
            reason: format!("its parser failed on it ({panic})"),
        })
    })
}
