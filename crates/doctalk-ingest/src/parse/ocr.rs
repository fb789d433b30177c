//! Pictures of pages (scanned PDF pages, image files) handed to an OCR engine.
//!
//! The engine itself is not in this crate (no ML here): it is a [`PageReader`] given through
//! [`ParseOptions::ocr`](super::ParseOptions); doctalk-core wires in doctalk-ocr. Parsers only
//! render or decode pages and turn what the reader returns into text blocks and diagnostics.

use std::sync::Arc;
use std::time::Instant;

use crate::{Diagnostic, DiagnosticCode, PdfEngineId, TextBlock};

/// Pictures are drawn or scaled to at most this many pixels on their longer side before they are
/// read (the OCR reads at most 2,000; a poster-sized page must not take gigabytes).
pub(crate) const MAX_PICTURE_SIDE: u32 = 2400;

/// What a user runs to install the OCR model.
pub(crate) const INSTALL_HINT: &str =
    "install the OCR model with `scripts/fetch-models.sh ppocr-v6-small onnxruntime`";

/// Reads the text of one picture of a page.
pub trait PageReader: Send + Sync {
    /// Whether the engine can read at all (its model is installed and loads); an `Err` is a
    /// sentence for the user. Asked once per file, before any page is drawn.
    fn ready(&self) -> Result<(), String> {
        Ok(())
    }

    /// `rgb` holds `width * height * 3` bytes, red first, row by row. An `Err` is a sentence
    /// for the user (e.g. "the OCR model is not installed: …").
    fn read_page(&self, width: usize, height: usize, rgb: Vec<u8>) -> Result<PageReading, String>;
}

/// What the reader found on one picture.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PageReading {
    /// The page's text in reading order, one printed line per line (table cells tab-separated).
    pub text: String,
    pub lines: usize,
    /// Mean recognition confidence of the kept lines, 0..=1.
    pub confidence: f32,
}

/// When pages are read by OCR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OcrMode {
    /// Pages without a usable text layer (none, or garbled), and image files.
    #[default]
    Auto,
    /// Every page, even one whose text layer reads well (a bad text layer the checks miss).
    Always,
    /// Never: such pages are reported, not read.
    Never,
}

impl OcrMode {
    pub fn parse(s: &str) -> Option<OcrMode> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Some(OcrMode::Auto),
            "always" | "force" => Some(OcrMode::Always),
            "never" | "off" => Some(OcrMode::Never),
            _ => None,
        }
    }
}

/// Progress through the pictures of one file: `done` of `total` read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OcrProgress {
    pub done: u32,
    pub total: u32,
}

/// The OCR settings of [`ParseOptions`](super::ParseOptions).
#[derive(Clone, Default)]
pub struct OcrOptions {
    /// The engine; `None` when none is set up (pictures are then reported, not read).
    pub reader: Option<Arc<dyn PageReader>>,
    pub mode: OcrMode,
    /// Called after each picture (OCR is the slowest stage of a scanned file).
    pub progress: Option<Arc<dyn Fn(OcrProgress) + Send + Sync>>,
}

impl std::fmt::Debug for OcrOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OcrOptions")
            .field("reader", &self.reader.as_ref().map(|_| "set"))
            .field("mode", &self.mode)
            .finish()
    }
}

impl OcrOptions {
    pub(crate) fn report(&self, done: usize, total: usize) {
        if let Some(progress) = &self.progress {
            progress(OcrProgress {
                done: u32::try_from(done).unwrap_or(u32::MAX),
                total: u32::try_from(total).unwrap_or(u32::MAX),
            });
        }
    }
}

/// Reads one picture: the page's text block, and a diagnostic that says it was read by OCR (with
/// its time and confidence) or why it could not be.
pub(crate) fn read_picture(
    reader: &dyn PageReader,
    width: usize,
    height: usize,
    rgb: Vec<u8>,
    page: u32,
) -> (Option<TextBlock>, Diagnostic) {
    let started = Instant::now();
    let outcome = doctalk_contain::contained(|| reader.read_page(width, height, rgb))
        .unwrap_or_else(|panic| Err(format!("the OCR engine failed ({panic})")));
    let seconds = started.elapsed().as_secs_f64();
    match outcome {
        Ok(reading) if !reading.text.trim().is_empty() => (
            Some(TextBlock {
                page: Some(page),
                heading_path: Vec::new(),
                text: reading.text,
                engine: Some(PdfEngineId::Ocr),
            }),
            Diagnostic::new(
                DiagnosticCode::Ocr,
                format!(
                    "page {page} was read by OCR: {} lines in {seconds:.1} s, mean confidence {:.2}",
                    reading.lines, reading.confidence
                ),
                Some(page),
            ),
        ),
        Ok(_) => (
            None,
            Diagnostic::new(
                DiagnosticCode::Empty,
                format!("page {page}: OCR found no text on it ({seconds:.1} s)"),
                Some(page),
            ),
        ),
        Err(reason) => (
            None,
            Diagnostic::new(
                DiagnosticCode::OcrFailed,
                format!("page {page} could not be read by OCR: {reason}"),
                Some(page),
            ),
        ),
    }
}
