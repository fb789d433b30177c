use std::collections::BTreeMap;

/// What a parser read from one file, in reading order.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// Human title: PDF/HTML title, first heading, or the file stem.
    pub title: String,
    pub format: Format,
    /// Number of pages for paged formats (PDF), `None` otherwise.
    pub page_count: Option<u32>,
    pub blocks: Vec<Block>,
    /// Non-fatal problems (a page without text, a malformed row, a guessed encoding…).
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Pdf,
    Csv,
    Tsv,
    Xlsx,
    Json,
    Jsonl,
    Markdown,
    Text,
    Html,
    Docx,
    /// A picture of a page (PNG, JPEG, TIFF, WebP, BMP, GIF), read by OCR.
    Image,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Xlsx => "xlsx",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Markdown => "markdown",
            Format::Text => "text",
            Format::Html => "html",
            Format::Docx => "docx",
            Format::Image => "image",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Text(TextBlock),
    Qa(QaPair),
}

/// A run of prose: one PDF page, or one section/paragraph group of a text-like file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TextBlock {
    /// 1-based page number for PDFs.
    pub page: Option<u32>,
    /// Enclosing headings, outermost first (e.g. ["员工手册", "出差制度"]).
    pub heading_path: Vec<String>,
    pub text: String,
    /// Which PDF engine produced this page's text.
    pub engine: Option<PdfEngineId>,
}

/// One FAQ entry from a knowledge-base export.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QaPair {
    pub question: String,
    pub answer: String,
    /// Alternative phrasings of the question (相似问题).
    pub similar_questions: Vec<String>,
    /// Extra columns (category, keywords, …) by their header name.
    pub metadata: BTreeMap<String, String>,
    /// 1-based row/record number in the source file, for citations.
    pub row: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PdfEngineId {
    PdfOxide,
    PdfExtract,
    /// The page was read from its picture by OCR (a scanned page, an image file).
    Ocr,
}

impl PdfEngineId {
    pub fn as_str(self) -> &'static str {
        match self {
            PdfEngineId::PdfOxide => "pdf_oxide",
            PdfEngineId::PdfExtract => "pdf-extract",
            PdfEngineId::Ocr => "ocr",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub code: DiagnosticCode,
    pub message: String,
    pub page: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DiagnosticCode {
    /// A page has no text layer (probably scanned).
    NoTextLayer,
    /// Extracted text is mostly replacement / private-use characters.
    Garbled,
    /// A PDF engine panicked; another engine may have been used.
    EnginePanic,
    /// A PDF engine returned an error; another engine may have been used.
    EngineFailed,
    /// A PDF engine exceeded the per-file time budget.
    Timeout,
    /// A PDF was encrypted but opened with the empty password.
    EncryptedEmptyPassword,
    /// A password-protected PDF opened with a password the user gave.
    OpenedWithPassword,
    /// The text encoding was not UTF-8 and was guessed.
    EncodingGuessed,
    /// A row/record of an export was skipped or partially read.
    MalformedRecord,
    /// The file (or a page) had no content.
    Empty,
    /// A page was read by OCR (the message gives its time and confidence).
    Ocr,
    /// A page needed OCR and could not be read (not set up, not drawable, the engine failed).
    OcrFailed,
}

impl DiagnosticCode {
    pub fn as_str(self) -> &'static str {
        match self {
            DiagnosticCode::NoTextLayer => "no_text_layer",
            DiagnosticCode::Garbled => "garbled",
            DiagnosticCode::EnginePanic => "engine_panic",
            DiagnosticCode::EngineFailed => "engine_failed",
            DiagnosticCode::Timeout => "timeout",
            DiagnosticCode::EncryptedEmptyPassword => "encrypted_empty_password",
            DiagnosticCode::OpenedWithPassword => "opened_with_password",
            DiagnosticCode::EncodingGuessed => "encoding_guessed",
            DiagnosticCode::MalformedRecord => "malformed_record",
            DiagnosticCode::Empty => "empty",
            DiagnosticCode::Ocr => "ocr",
            DiagnosticCode::OcrFailed => "ocr_failed",
        }
    }
}

impl Diagnostic {
    pub fn new(code: DiagnosticCode, message: impl Into<String>, page: Option<u32>) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            page,
        }
    }
}
