//! Turns user files into [`Document`]s and documents into [`Chunk`]s.
//!
//! No ML, no storage, no async runtime. Every parser returns what it could read plus
//! typed [`Diagnostic`]s; only a file that yields nothing usable is an [`IngestError`].
//!
//! ```no_run
//! use doctalk_ingest::{parse_file, chunk_document, ParseOptions, ChunkConfig};
//! let doc = parse_file("handbook.pdf".as_ref(), &ParseOptions::default()).unwrap();
//! let chunks = chunk_document(&doc, &ChunkConfig::default());
//! for d in &doc.diagnostics { eprintln!("{}: {}", d.code.as_str(), d.message); }
//! ```

mod chunk;
mod document;
mod error;
mod parse;

pub use chunk::{chunk_document, estimate_tokens, split_sentences, Chunk, ChunkConfig, ChunkKind};
pub use document::{Block, Diagnostic, DiagnosticCode, Document, Format, PdfEngineId, QaPair, TextBlock};
pub use error::{IngestError, Result};
pub use parse::{
    detect_format, parse_file, FaqMapping, OcrMode, OcrOptions, OcrProgress, PageReader, PageReading,
    ParseOptions, PdfPassword,
};
