//! The retrieval test ("why was this passage found?"): a search with every number behind its order,
//! and what an answer would do with the result.

use serde::Serialize;

use crate::answer::{grounding_threshold, Evidence, Lang, DEFAULT_TOP_K};
use crate::fusion::{bm25_weight, identifiers, IDENTIFIER_BONUS};
use crate::kb::KnowledgeBase;
use crate::scope::Scope;
use crate::search::SearchHit;
use crate::Result;

/// A search explained: the ranked hits (each with its dense and BM25 score and rank, its fused
/// score, and whether it matched a FAQ question or holds the query's identifiers) and the answer's
/// view.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Explanation {
    pub query: String,
    /// What fusion added to a passage's cosine similarity: this × BM25 / the best BM25 score.
    pub bm25_weight: f64,
    /// The query's identifiers (codes, versions, product names).
    pub identifiers: Vec<String>,
    /// What a passage holding all of them adds to its fused score.
    pub identifier_bonus: f64,
    pub hits: Vec<SearchHit>,
    /// The numbers the answer's "is it in the documents?" decision is made on (over the passages an
    /// answer retrieves).
    pub evidence: Evidence,
    /// Whether an answer would use the passages (false: "not found in your documents").
    pub grounded: bool,
    /// How many of the first hits an answer offers the language model (its prompt may drop the last
    /// ones when they do not fit the model's prompt budget).
    pub offered: usize,
}

impl KnowledgeBase {
    /// [`search_in`](Self::search_in) explained: at least as many hits as an answer retrieves.
    pub async fn explain(&self, query: &str, top_k: usize, scope: Option<&Scope>) -> Result<Explanation> {
        let query = query.trim();
        let hits = self.search_in(query, top_k.max(DEFAULT_TOP_K), scope).await?;
        let answered = &hits[..hits.len().min(DEFAULT_TOP_K)];
        let lang = Lang::of(query);
        let evidence = Evidence::of(
            query,
            answered,
            grounding_threshold(self.embedding_model_id(), lang),
        );
        let grounded = evidence.grounded(lang);
        Ok(Explanation {
            query: query.to_string(),
            bm25_weight: bm25_weight(),
            identifiers: identifiers(query),
            identifier_bonus: IDENTIFIER_BONUS,
            offered: if grounded { answered.len() } else { 0 },
            hits,
            evidence,
            grounded,
        })
    }
}
