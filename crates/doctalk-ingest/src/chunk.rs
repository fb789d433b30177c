//! Structure-first chunking: blocks → paragraphs → sentences → token budget with overlap.
//! Q&A pairs are never split.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::{Document, PdfEngineId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkConfig {
    /// Soft upper bound per chunk, in estimated tokens (see [`estimate_tokens`]).
    pub max_tokens: usize,
    /// Tokens of trailing context repeated at the start of the next chunk of the same block.
    pub overlap_tokens: usize,
}

impl Default for ChunkConfig {
    fn default() -> Self {
        ChunkConfig {
            max_tokens: 256,
            overlap_tokens: 32,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChunkKind {
    Passage,
    Qa,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    pub kind: ChunkKind,
    /// The text that is embedded, indexed and shown. For Q&A: "question\nanswer".
    pub text: String,
    pub page: Option<u32>,
    pub heading_path: Vec<String>,
    /// Index into `Document::blocks` this chunk came from.
    pub block_index: usize,
    /// Byte range of the chunk within that block's text (passages) — used for highlighting.
    pub span: Range<usize>,
    /// For Q&A chunks: the main question followed by similar questions.
    pub questions: Vec<String>,
    /// For Q&A chunks: the answer alone.
    pub answer: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub engine: Option<PdfEngineId>,
}

pub fn chunk_document(_doc: &Document, _cfg: &ChunkConfig) -> Vec<Chunk> {
    todo!("chunker")
}

pub fn estimate_tokens(_text: &str) -> usize {
    todo!("chunker")
}

pub fn split_sentences(_text: &str) -> Vec<Range<usize>> {
    todo!("chunker")
}
