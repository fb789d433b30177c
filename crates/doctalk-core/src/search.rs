//! Hybrid retrieval: dense and BM25 candidates, fused by reciprocal rank, FAQ matches first.

use std::collections::HashMap;
use std::sync::Arc;

use doctalk_store::{ChunkHit, ChunkRecord};

use crate::fusion::{question_similarity, rrf, ComponentScore, FAQ_MATCH_THRESHOLD};
use crate::kb::KnowledgeBase;
use crate::scope::Scope;
use crate::{segment, CoreError, Result};

/// Candidates fetched from each component before fusion.
const MIN_CANDIDATES: usize = 50;

/// One retrieved passage or FAQ entry with its provenance and scores.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SearchHit {
    /// 1-based rank after fusion.
    pub rank: usize,
    pub chunk_id: String,
    pub doc_id: String,
    pub path: String,
    /// Other paths with the same file content (identical copies are one document).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also_at: Vec<String>,
    pub title: String,
    pub page: Option<u32>,
    /// "passage" or "qa".
    pub kind: String,
    pub text: String,
    pub heading_path: Vec<String>,
    pub questions: Vec<String>,
    pub answer: Option<String>,
    pub span: (u32, u32),
    pub fused_score: f32,
    pub dense: Option<ComponentScore>,
    pub bm25: Option<ComponentScore>,
    /// Similarity to a stored FAQ question when it is a near-exact match (ranked first).
    pub faq_match: Option<f32>,
    /// The chunk's metadata: an FAQ row's extra columns and its row number, a passage's source id.
    pub metadata: serde_json::Value,
}

impl KnowledgeBase {
    /// Hybrid search over committed documents embedded with the current model.
    pub async fn search(&self, query: &str, top_k: usize) -> Result<Vec<SearchHit>> {
        self.search_in(query, top_k, None).await
    }

    /// [`KnowledgeBase::search`] over the documents of `scope` only (all when `None`).
    pub async fn search_in(
        &self,
        query: &str,
        top_k: usize,
        scope: Option<&Scope>,
    ) -> Result<Vec<SearchHit>> {
        let docs = scope.map(|s| &s.doc_ids);
        let query = query.trim();
        if query.is_empty() || top_k == 0 {
            return Ok(Vec::new());
        }
        let candidates = MIN_CANDIDATES.max(top_k * 4);
        let embedder: Arc<dyn crate::Embedder> = self.embedder().clone();
        let owned = query.to_string();
        let vector = tokio::task::spawn_blocking(move || embedder.embed_query(&owned))
            .await
            .map_err(|e| CoreError::Task(format!("embedding the query: {e}")))??;
        let dense = self
            .store()
            .vector_search_in(&vector, self.embedder().model_id(), candidates, docs)
            .await?;
        let segmented = segment::segment(query);
        let lexical = if segmented.is_empty() {
            Vec::new()
        } else {
            self.store().text_search_in(&segmented, candidates, docs).await?
        };

        let mut chunks: HashMap<String, ChunkRecord> = HashMap::new();
        let dense_list = ranked_keys(dense, &mut chunks);
        let lexical_list = ranked_keys(lexical, &mut chunks);

        let mut fused: Vec<(crate::fusion::Fused, Option<f32>)> = rrf(&dense_list, &lexical_list)
            .into_iter()
            .map(|f| {
                let faq = chunks.get(&f.key).filter(|c| c.kind == "qa").and_then(|c| {
                    c.questions
                        .iter()
                        .map(|q| question_similarity(query, q))
                        .fold(None, |best: Option<f32>, s| Some(best.map_or(s, |b| b.max(s))))
                        .filter(|s| *s >= FAQ_MATCH_THRESHOLD)
                });
                (f, faq)
            })
            .collect();
        // A near-exact FAQ question wins outright; the stable sort keeps fusion order otherwise.
        fused.sort_by(|a, b| match (a.1, b.1) {
            (Some(x), Some(y)) => y.total_cmp(&x),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });

        let mut titles: HashMap<String, (String, String)> = HashMap::new();
        let mut hits = Vec::with_capacity(top_k);
        for (f, faq) in fused.into_iter() {
            if hits.len() == top_k {
                break;
            }
            let Some(chunk) = chunks.remove(&f.key) else {
                continue;
            };
            if !titles.contains_key(&chunk.doc_id) {
                // A document removed between the two queries is skipped, never shown half-gone.
                let Some(doc) = self.store().document(&chunk.doc_id).await? else {
                    continue;
                };
                titles.insert(chunk.doc_id.clone(), (doc.path, doc.title));
            }
            let (path, title) = titles[&chunk.doc_id].clone();
            hits.push(SearchHit {
                rank: hits.len() + 1,
                chunk_id: chunk.id,
                doc_id: chunk.doc_id,
                path,
                also_at: Vec::new(),
                title,
                page: chunk.page,
                kind: chunk.kind,
                text: chunk.text,
                heading_path: chunk.heading_path,
                questions: chunk.questions,
                answer: chunk.answer,
                span: (chunk.span_start, chunk.span_end),
                fused_score: f.fused,
                dense: f.dense,
                bm25: f.bm25,
                faq_match: faq,
                metadata: serde_json::from_str(&chunk.metadata_json).unwrap_or(serde_json::Value::Null),
            });
        }
        self.attach_copies(&mut hits).await?;
        Ok(hits)
    }

    /// Fills in each hit's `also_at`: the other paths of its document's content.
    async fn attach_copies(&self, hits: &mut [SearchHit]) -> Result<()> {
        let mut ids: Vec<String> = hits.iter().map(|h| h.doc_id.clone()).collect();
        ids.sort();
        ids.dedup();
        let locations = self.store().locations_of(&ids).await?;
        for hit in hits.iter_mut() {
            hit.also_at = locations
                .iter()
                .filter(|l| l.doc_id == hit.doc_id && l.path != hit.path)
                .map(|l| l.path.clone())
                .collect();
        }
        Ok(())
    }
}

/// A component's hits as `(chunk id, score)` in rank order; the chunks themselves go into
/// `chunks` once, whichever component found them first.
fn ranked_keys(hits: Vec<ChunkHit>, chunks: &mut HashMap<String, ChunkRecord>) -> Vec<(String, f32)> {
    hits.into_iter()
        .map(|h| {
            let key = h.chunk.id.clone();
            chunks.entry(key.clone()).or_insert(h.chunk);
            (key, h.score)
        })
        .collect()
}
