//! Hybrid retrieval: dense and BM25 candidates fused (cosine, with BM25 settling near ties and a
//! bonus for passages holding the query's identifiers), FAQ matches first.

use doctalk_store::ChunkKind;
use std::collections::HashMap;
use std::sync::Arc;

use doctalk_store::{ChunkHit, ChunkRecord};

use crate::fusion::{
    fuse, holds_identifiers, identifiers, question_similarity, ComponentScore, FAQ_MATCH_THRESHOLD,
    IDENTIFIER_BONUS,
};
use crate::kb::KnowledgeBase;
use crate::scope::Scope;
use crate::{segment, CoreError, Result};

/// Candidates fetched from each component before fusion.
const MIN_CANDIDATES: usize = 50;

/// One retrieved passage or FAQ entry with its provenance and scores.
#[derive(Debug, Clone, PartialEq, serde::Serialize, ts_rs::TS)]
pub struct SearchHit {
    /// 1-based rank after fusion.
    pub rank: usize,
    pub chunk_id: String,
    pub doc_id: String,
    pub path: String,
    /// Other paths with the same file content (identical copies are one document).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<String>>", optional)]
    pub also_at: Vec<String>,
    pub title: String,
    pub page: Option<u32>,
    pub kind: ChunkKind,
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
    /// Whether the passage holds every identifier of the query (its fused score then carries
    /// [`IDENTIFIER_BONUS`]; see [`fusion::identifiers`](crate::fusion::identifiers)).
    pub identifier_match: bool,
    /// The chunk's metadata: an FAQ row's extra columns and its row number, a passage's source id.
    pub metadata: serde_json::Value,
    /// The knowledge base it comes from, in a search across several (see [`crate::across`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub kb: Option<String>,
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
        let query = query.trim();
        if query.is_empty() || top_k == 0 {
            return Ok(Vec::new());
        }
        let Candidates {
            dense: dense_list,
            lexical: lexical_list,
            mut chunks,
        } = self
            .candidates(query, MIN_CANDIDATES.max(top_k * 4), scope)
            .await?;

        let wanted = identifiers(query);
        let mut fused: Vec<(crate::fusion::Fused, Option<f32>, bool)> = fuse(&dense_list, &lexical_list)
            .into_iter()
            .map(|mut f| {
                let exact = chunks
                    .get(&f.key)
                    .is_some_and(|c| holds_identifiers(&c.text, &wanted));
                if exact {
                    f.fused += IDENTIFIER_BONUS as f32;
                }
                let faq = chunks
                    .get(&f.key)
                    .filter(|c| c.kind == ChunkKind::Qa)
                    .and_then(|c| {
                        c.questions
                            .iter()
                            .map(|q| question_similarity(query, q))
                            .fold(None, |best: Option<f32>, s| Some(best.map_or(s, |b| b.max(s))))
                            .filter(|s| *s >= FAQ_MATCH_THRESHOLD)
                    });
                (f, faq, exact)
            })
            .collect();
        // A near-exact FAQ question wins outright, then the fused score with the identifiers' bonus;
        // the stable sort keeps fusion's tie order.
        fused.sort_by(|a, b| {
            let by_faq = match (a.1, b.1) {
                (Some(x), Some(y)) => y.total_cmp(&x),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            };
            by_faq.then_with(|| b.0.fused.total_cmp(&a.0.fused))
        });

        let mut titles: HashMap<String, (String, String)> = HashMap::new();
        let mut hits = Vec::with_capacity(top_k);
        for (f, faq, exact) in fused.into_iter() {
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
                identifier_match: exact,
                metadata: serde_json::from_str(&chunk.metadata_json).unwrap_or(serde_json::Value::Null),
                kb: None,
            });
        }
        self.attach_copies(&mut hits).await?;
        Ok(hits)
    }

    /// Each component's own ranked candidates for `query` (at most `n` each), before fusion.
    pub async fn candidates(&self, query: &str, n: usize, scope: Option<&Scope>) -> Result<Candidates> {
        let docs = scope.map(|s| &s.doc_ids);
        let embedder: Arc<dyn crate::Embedder> = self.embedder().clone();
        let owned = query.to_string();
        let vector = tokio::task::spawn_blocking(move || embedder.embed_query(&owned))
            .await
            .map_err(|e| CoreError::Task(format!("embedding the query: {e}")))??;
        let dense = self
            .store()
            .vector_search_in(&vector, self.embedder().model_id(), n, docs)
            .await?;
        let segmented = segment::segment(query);
        let lexical = if segmented.is_empty() {
            Vec::new()
        } else {
            self.store().text_search_in(&segmented, n, docs).await?
        };
        let mut chunks = HashMap::new();
        let dense = ranked_keys(dense, &mut chunks);
        let lexical = ranked_keys(lexical, &mut chunks);
        Ok(Candidates {
            dense,
            lexical,
            chunks,
        })
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

/// The dense and BM25 components' own ranked lists for one query, before fusion.
#[derive(Debug, Default)]
pub struct Candidates {
    /// `(chunk id, cosine similarity)`, best first.
    pub dense: Vec<(String, f32)>,
    /// `(chunk id, BM25 score)`, best first.
    pub lexical: Vec<(String, f32)>,
    chunks: HashMap<String, ChunkRecord>,
}

impl Candidates {
    /// The chunk behind a key of either list.
    pub fn chunk(&self, key: &str) -> Option<&ChunkRecord> {
        self.chunks.get(key)
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
