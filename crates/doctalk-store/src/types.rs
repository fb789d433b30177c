//! Plain records going into and coming out of the store.

/// A document about to be committed (see [`crate::Store::commit_document`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NewDocument {
    /// The source file's path; a document is replaced when the same path is committed again.
    pub path: String,
    pub title: String,
    /// The detected format ("pdf", "md", "csv", ...).
    pub format: String,
    /// Hash of the file's bytes; lets the caller skip unchanged files.
    pub content_hash: String,
    pub size_bytes: u64,
    pub page_count: Option<u32>,
    /// The id of the model that embedded this document's chunks.
    pub embedding_model: String,
    /// Ingest diagnostics, serialised by the caller; the store keeps it as is.
    pub diagnostics_json: String,
}

/// A committed document.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentRecord {
    /// Unique per committed version: re-committing a path gives a new id.
    pub id: String,
    pub path: String,
    pub title: String,
    pub format: String,
    pub content_hash: String,
    pub size_bytes: u64,
    pub page_count: Option<u32>,
    pub embedding_model: String,
    pub diagnostics_json: String,
    pub chunk_count: u32,
    /// Milliseconds since the Unix epoch at commit time.
    pub ingested_at_ms: i64,
}

/// What a chunk is: a passage of a document, or one question–answer pair of an FAQ export
/// (whose questions and answer are kept in their own columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum ChunkKind {
    Passage,
    Qa,
}

impl ChunkKind {
    /// The name stored in the `kind` column and sent over the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ChunkKind::Passage => "passage",
            ChunkKind::Qa => "qa",
        }
    }

    /// The kind a stored name means (None: not one this version writes).
    pub fn parse(name: &str) -> Option<ChunkKind> {
        match name {
            "passage" => Some(ChunkKind::Passage),
            "qa" => Some(ChunkKind::Qa),
            _ => None,
        }
    }
}

/// A chunk about to be committed with its document.
#[derive(Debug, Clone, PartialEq)]
pub struct NewChunk {
    /// Position within the document; unique per document.
    pub ordinal: u32,
    pub kind: ChunkKind,
    pub text: String,
    /// Whitespace-separated tokens (Chinese already word-segmented) for BM25.
    pub text_segmented: String,
    pub page: Option<u32>,
    pub heading_path: Vec<String>,
    pub span_start: u32,
    pub span_end: u32,
    pub questions: Vec<String>,
    pub answer: Option<String>,
    /// Caller-defined metadata, serialised; the store keeps it as is.
    pub metadata_json: String,
    /// The extraction engine that produced the text (for PDFs).
    pub engine: Option<String>,
    /// The embedding, normalised by the caller.
    pub vector: Vec<f32>,
}

/// A stored chunk.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChunkRecord {
    /// `<doc_id>:<ordinal>`.
    pub id: String,
    pub doc_id: String,
    pub ordinal: u32,
    pub kind: ChunkKind,
    pub text: String,
    pub text_segmented: String,
    pub page: Option<u32>,
    pub heading_path: Vec<String>,
    pub span_start: u32,
    pub span_end: u32,
    pub questions: Vec<String>,
    pub answer: Option<String>,
    pub metadata_json: String,
    pub engine: Option<String>,
    pub vector: Vec<f32>,
    pub embedding_model: String,
}

/// A search result.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkHit {
    pub chunk: ChunkRecord,
    /// Cosine similarity (1 - cosine distance) for dense search; the BM25 score for text search.
    pub score: f32,
}

/// Another path at which a committed document's content is found (a duplicate file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: String,
    pub doc_id: String,
}

impl ChunkRecord {
    /// The chunk as it is committed again (re-embedded, or restored from a backup) with `vector`.
    pub fn into_new_chunk(self, vector: Vec<f32>) -> NewChunk {
        NewChunk {
            ordinal: self.ordinal,
            kind: self.kind,
            text: self.text,
            text_segmented: self.text_segmented,
            page: self.page,
            heading_path: self.heading_path,
            span_start: self.span_start,
            span_end: self.span_end,
            questions: self.questions,
            answer: self.answer,
            metadata_json: self.metadata_json,
            engine: self.engine,
            vector,
        }
    }
}
