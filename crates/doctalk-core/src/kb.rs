//! The knowledge base handle: a store directory plus the embedder that fills it.

use doctalk_store::ChunkKind;
use std::path::Path;
use std::sync::Arc;

use doctalk_ingest::{ChunkConfig, ParseOptions};
use doctalk_store::{DocumentRecord, NewDocument, Store};

use crate::index_form::{path_key, reindex_text};
use crate::{CoreError, Embedder, Result};

/// A document as listed to users.
#[derive(Debug, Clone, PartialEq, serde::Serialize, ts_rs::TS)]
pub struct DocumentInfo {
    pub id: String,
    pub path: String,
    /// Other paths with the same content (identical copies are one document).
    pub also_at: Vec<String>,
    pub title: String,
    pub format: String,
    pub pages: Option<u32>,
    pub chunks: u32,
    pub size_bytes: u64,
    pub embedding_model: String,
    pub ingested_at_ms: i64,
}

impl From<DocumentRecord> for DocumentInfo {
    fn from(r: DocumentRecord) -> Self {
        DocumentInfo {
            id: r.id,
            path: r.path,
            also_at: Vec::new(),
            title: r.title,
            format: r.format,
            pages: r.page_count,
            chunks: r.chunk_count,
            size_bytes: r.size_bytes,
            embedding_model: r.embedding_model,
            ingested_at_ms: r.ingested_at_ms,
        }
    }
}

/// One knowledge base: documents, their chunks and vectors, and the embedder that made them.
#[derive(Clone)]
pub struct KnowledgeBase {
    store: Store,
    embedder: Arc<dyn Embedder>,
    parse_options: ParseOptions,
    chunk_config: ChunkConfig,
}

/// How a knowledge base reads files unless told otherwise: the defaults, with the process's OCR
/// engine for scanned pages and pictures.
fn default_parse_options() -> ParseOptions {
    let mut opts = ParseOptions::default();
    opts.ocr.reader = Some(crate::ocr::shared());
    opts
}

impl KnowledgeBase {
    /// Opens (or creates) the knowledge base stored in `dir`.
    pub async fn open(dir: &Path, embedder: Arc<dyn Embedder>) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|source| CoreError::DataDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let store = Store::open(dir).await.map_err(|e| match e {
            // LanceDB failing to read what it wrote: files missing or damaged on disk.
            doctalk_store::StoreError::Lance { .. } => CoreError::Damaged {
                path: dir.to_path_buf(),
                reason: error_chain(&e),
            },
            other => other.into(),
        })?;
        Ok(KnowledgeBase {
            store,
            embedder,
            parse_options: default_parse_options(),
            chunk_config: ChunkConfig::default(),
        })
    }

    /// Opens (or creates) the knowledge base at `uri`: a local directory or an object-store URI
    /// (`s3://bucket/prefix`, see [`Store::open_uri`]) that several machines share.
    pub async fn open_uri(uri: &str, embedder: Arc<dyn Embedder>) -> Result<Self> {
        if !doctalk_store::is_object_store_uri(uri) {
            return Self::open(Path::new(uri.strip_prefix("file://").unwrap_or(uri)), embedder).await;
        }
        let store = Store::open_uri(uri).await?;
        Ok(KnowledgeBase {
            store,
            embedder,
            parse_options: default_parse_options(),
            chunk_config: ChunkConfig::default(),
        })
    }

    pub fn with_parse_options(mut self, opts: ParseOptions) -> Self {
        self.parse_options = opts;
        self
    }

    /// The same knowledge base, trying these passwords on password-protected PDFs it ingests
    /// (one upload's or one drop's; they are not kept anywhere).
    pub fn with_pdf_passwords(mut self, passwords: Vec<doctalk_ingest::PdfPassword>) -> Self {
        self.parse_options.pdf_passwords = passwords;
        self
    }

    /// The same knowledge base, reading pictures of pages per `mode` (one upload's or one drop's
    /// choice: force OCR on a PDF whose text layer is wrong, or forbid it).
    pub fn with_ocr_mode(mut self, mode: doctalk_ingest::OcrMode) -> Self {
        self.parse_options.ocr.mode = mode;
        self
    }

    pub fn with_chunk_config(mut self, cfg: ChunkConfig) -> Self {
        self.chunk_config = cfg;
        self
    }

    /// Where the index lives: a local directory or an object-store URI.
    pub fn location(&self) -> &str {
        self.store.location()
    }

    /// Compacts the index and brings its full-text index up to date now, rather than when
    /// commits have added up (ingest does it then; see `Store::optimize_if_due`).
    pub async fn tidy(&self) -> Result<()> {
        Ok(self.store().optimize().await?)
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The model that embeds this knowledge base's passages and queries.
    pub fn embedder(&self) -> &Arc<dyn Embedder> {
        &self.embedder
    }

    pub(crate) fn parse_options(&self) -> &ParseOptions {
        &self.parse_options
    }

    pub(crate) fn chunk_config(&self) -> &ChunkConfig {
        &self.chunk_config
    }

    pub async fn documents(&self) -> Result<Vec<DocumentInfo>> {
        let mut docs: Vec<DocumentInfo> = self
            .store
            .list_documents()
            .await?
            .into_iter()
            .map(Into::into)
            .collect();
        docs.sort_by(|a, b| a.path.cmp(&b.path));
        let locations = self.store.locations().await?;
        if !locations.is_empty() {
            let mut by_doc: std::collections::HashMap<&str, Vec<String>> = std::collections::HashMap::new();
            for l in &locations {
                by_doc.entry(l.doc_id.as_str()).or_default().push(l.path.clone());
            }
            for doc in &mut docs {
                if let Some(paths) = by_doc.remove(doc.id.as_str()) {
                    doc.also_at = paths;
                }
            }
        }
        Ok(docs)
    }

    /// A document's indexed text, chunk by chunk in document order, with page markers: what other
    /// tools see of it (MCP resources). `None` when no document has this id.
    pub async fn document_text(&self, id: &str) -> Result<Option<String>> {
        if self.store.document(id).await?.is_none() {
            return Ok(None);
        }
        let mut chunks = self.store.chunks_of(id).await?;
        chunks.sort_by_key(|c| c.ordinal);
        let mut text = String::new();
        let mut page = None;
        for c in chunks {
            if c.page.is_some() && c.page != page {
                page = c.page;
                text.push_str(&format!("\n[page {}]\n", c.page.unwrap_or_default()));
            }
            match (c.kind, &c.answer) {
                (ChunkKind::Qa, Some(answer)) => text.push_str(&format!(
                    "Q: {}\nA: {answer}\n\n",
                    c.questions.first().cloned().unwrap_or_default()
                )),
                _ => {
                    text.push_str(&c.text);
                    text.push_str("\n\n");
                }
            }
        }
        Ok(Some(text.trim().to_string()))
    }

    /// Finds a document by id, id prefix (≥ 6 characters, unambiguous) or path.
    pub async fn find_document(&self, key: &str) -> Result<Option<DocumentInfo>> {
        if let Some(doc) = self.store.document(key).await? {
            return Ok(Some(doc.into()));
        }
        let path = path_key(Path::new(key));
        if let Some(doc) = self.store.document_by_path(&path).await? {
            return Ok(Some(doc.into()));
        }
        // Another location of a document (an identical copy).
        if let Some(location) = self.store.location_at(&path).await? {
            if let Some(doc) = self.store.document(&location.doc_id).await? {
                return Ok(Some(doc.into()));
            }
        }
        if key.len() >= 6 {
            let matches: Vec<DocumentInfo> = self
                .documents()
                .await?
                .into_iter()
                .filter(|d| d.id.starts_with(key))
                .collect();
            if matches.len() == 1 {
                return Ok(matches.into_iter().next());
            }
        }
        Ok(None)
    }

    /// Removes a document and all of its chunks. The user's file is not touched.
    pub async fn remove(&self, key: &str) -> Result<DocumentInfo> {
        let doc = self
            .find_document(key)
            .await?
            .ok_or_else(|| CoreError::NoSuchDocument(key.to_string()))?;
        self.store.remove_document(&doc.id).await?;
        Ok(doc)
    }

    /// The id of the embedding model this handle embeds with.
    pub fn embedding_model_id(&self) -> &str {
        self.embedder.model_id()
    }

    pub async fn chunk_count(&self) -> Result<usize> {
        Ok(self.store.count_chunks().await?)
    }

    /// Documents whose vectors were made by another embedding model than the current one.
    pub async fn stale_documents(&self) -> Result<Vec<DocumentInfo>> {
        let current = self.embedder.model_id();
        Ok(self
            .documents()
            .await?
            .into_iter()
            .filter(|d| d.embedding_model != current)
            .collect())
    }

    /// Re-embeds every stale document with the current model, one document per commit, so an
    /// interrupted run leaves each document either on the old model or fully on the new one.
    /// `progress(done, total)` is called after each document.
    pub async fn reembed_stale(&self, progress: &(dyn Fn(usize, usize) + Send + Sync)) -> Result<usize> {
        let stale = self.stale_documents().await?;
        let total = stale.len();
        for (i, doc) in stale.iter().enumerate() {
            let Some(record) = self.store.document(&doc.id).await? else {
                continue;
            };
            let chunks = self.store.chunks_of(&doc.id).await?;
            let texts: Vec<String> = chunks.iter().map(reindex_text).collect();
            let vectors = self.embed_passages(texts).await?;
            let new_chunks = chunks
                .into_iter()
                .zip(vectors)
                .map(|(c, vector)| c.into_new_chunk(vector))
                .collect();
            self.store
                .commit_document(
                    NewDocument {
                        path: record.path,
                        title: record.title,
                        format: record.format,
                        content_hash: record.content_hash,
                        size_bytes: record.size_bytes,
                        page_count: record.page_count,
                        embedding_model: self.embedder.model_id().to_string(),
                        diagnostics_json: record.diagnostics_json,
                    },
                    new_chunks,
                )
                .await?;
            progress(i + 1, total);
        }
        Ok(total)
    }
}

/// An error and its causes on one line (the innermost says which file is missing).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
