//! Ready-made passages (a benchmark corpus, an import from another tool) indexed as one document:
//! one chunk per passage, nothing parsed or re-chunked, the passage's own id kept in its metadata so
//! that results can be scored against labels.

use doctalk_store::{NewChunk, NewDocument};
use sha2::{Digest, Sha256};

use crate::index_form::index_text;
use crate::kb::KnowledgeBase;
use crate::{segment, Result};

/// Passages embedded per batch; progress is reported after each.
const BATCH: usize = 64;

/// One passage: an id from its source, an optional title (used as its heading) and the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passage {
    pub id: String,
    pub title: String,
    pub text: String,
}

impl KnowledgeBase {
    /// Indexes `passages` as the document `source` (replacing an earlier one of that name) and returns
    /// its id. `progress(done, total)` follows the embedding, the slow part.
    pub async fn index_passages(
        &self,
        source: &str,
        passages: &[Passage],
        progress: &(dyn Fn(usize, usize) + Send + Sync),
    ) -> Result<String> {
        let headings: Vec<Vec<String>> = passages
            .iter()
            .map(|p| {
                if p.title.trim().is_empty() {
                    Vec::new()
                } else {
                    vec![p.title.clone()]
                }
            })
            .collect();
        let texts: Vec<String> = passages
            .iter()
            .zip(&headings)
            .map(|(p, h)| index_text(false, &[], None, h, None, &p.text))
            .collect();
        let mut vectors = Vec::with_capacity(texts.len());
        progress(0, texts.len());
        for batch in texts.chunks(BATCH) {
            vectors.extend(self.embed_passages(batch.to_vec()).await?);
            progress(vectors.len(), texts.len());
        }
        let mut hasher = Sha256::new();
        let chunks: Vec<NewChunk> = passages
            .iter()
            .zip(headings)
            .zip(texts.iter().zip(vectors))
            .enumerate()
            .map(|(ordinal, ((p, heading_path), (indexed, vector)))| {
                hasher.update(p.id.as_bytes());
                hasher.update(indexed.as_bytes());
                NewChunk {
                    ordinal: ordinal as u32,
                    kind: doctalk_store::ChunkKind::Passage,
                    text: p.text.clone(),
                    text_segmented: segment::segment(indexed),
                    page: None,
                    heading_path,
                    span_start: 0,
                    span_end: p.text.len() as u32,
                    questions: Vec::new(),
                    answer: None,
                    metadata_json: serde_json::json!({ "id": p.id }).to_string(),
                    engine: None,
                    vector,
                }
            })
            .collect();
        let size = passages.iter().map(|p| p.text.len() as u64).sum();
        let record = self
            .store()
            .commit_document(
                NewDocument {
                    path: source.to_string(),
                    title: source.to_string(),
                    format: "passages".to_string(),
                    content_hash: format!("{:x}", hasher.finalize()),
                    size_bytes: size,
                    page_count: None,
                    embedding_model: self.embedding_model_id().to_string(),
                    diagnostics_json: "[]".to_string(),
                },
                chunks,
            )
            .await?;
        self.store().optimize().await?;
        Ok(record.id)
    }
}
