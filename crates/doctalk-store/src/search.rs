//! Reads of the chunks table: dense search, full-text search, a document's chunks.
//!
//! Searches return only chunks of committed documents. Rows of an in-flight
//! or killed commit are filtered out after the search, so each search asks for
//! more rows than it needs and widens the window when filtering left too few.

use std::collections::HashSet;

use arrow_array::RecordBatch;
use lancedb::index::scalar::FullTextSearchQuery;
use lancedb::query::{ExecutableQuery, QueryBase};
use lancedb::DistanceType;

use crate::ann::{NPROBES, REFINE_FACTOR};
use crate::error::{lance, Result, StoreError};
use crate::schema::{self, DISTANCE_COLUMN, SCORE_COLUMN, VECTOR_COLUMN};
use crate::store::{collect, Store};
use crate::types::{ChunkHit, ChunkRecord};

/// How much each retry widens the window.
const WIDEN: usize = 4;

impl Store {
    /// Dense search by cosine similarity over chunks of committed documents
    /// whose `embedding_model` is `model_id`. Best first; at most `k`.
    pub async fn vector_search(&self, query: &[f32], model_id: &str, k: usize) -> Result<Vec<ChunkHit>> {
        self.vector_search_in(query, model_id, k, None).await
    }

    /// [`Store::vector_search`] over the documents `docs` only (all when `None`): the filter is
    /// applied inside the search, so a narrow scope still finds its `k` best.
    pub async fn vector_search_in(
        &self,
        query: &[f32],
        model_id: &str,
        k: usize,
        docs: Option<&HashSet<String>>,
    ) -> Result<Vec<ChunkHit>> {
        if query.is_empty() {
            return Err(StoreError::EmptyVector);
        }
        let Some(chunks) = self.chunks().await? else {
            return Ok(Vec::new());
        };
        if query.len() != chunks.dim {
            return Err(StoreError::DimensionMismatch {
                expected: chunks.dim,
                got: query.len(),
            });
        }
        if k == 0 {
            return Ok(Vec::new());
        }
        let mut filter = format!("embedding_model = {}", schema::sql_str(model_id));
        if let Some(docs) = docs {
            filter = format!("{filter} AND {}", doc_filter(docs));
        }
        let committed = visible_ids(self.committed_ids().await?, docs);
        search_visible(k, &committed, |limit| {
            let filter = filter.clone();
            let table = chunks.table.clone();
            async move {
                let query = vector_query(&table, query, filter, limit)?;
                let batches = collect(query, "run a vector search").await?;
                // Cosine distance is 1 - cos, so similarity is 1 - distance.
                hits(&batches, DISTANCE_COLUMN, |d| 1.0 - d)
            }
        })
        .await
    }

    /// How LanceDB would run a dense search for `query`: the physical plan, which names the ANN
    /// index's nodes once the table is past [`crate::ANN_MIN_ROWS`] and a full scan below it.
    pub async fn vector_search_plan(&self, query: &[f32], model_id: &str) -> Result<Option<String>> {
        let Some(chunks) = self.chunks().await? else {
            return Ok(None);
        };
        let filter = format!("embedding_model = {}", schema::sql_str(model_id));
        let plan = vector_query(&chunks.table, query, filter, 10)?
            .explain_plan(true)
            .await
            .map_err(lance("explain a vector search"))?;
        Ok(Some(plan))
    }

    /// BM25 search over `text_segmented`. `segmented_query` is whitespace-separated
    /// tokens (Chinese already word-segmented); a chunk matches if it holds any
    /// of them. Best first; at most `k`.
    pub async fn text_search(&self, segmented_query: &str, k: usize) -> Result<Vec<ChunkHit>> {
        self.text_search_in(segmented_query, k, None).await
    }

    /// [`Store::text_search`] over the documents `docs` only (all when `None`).
    pub async fn text_search_in(
        &self,
        segmented_query: &str,
        k: usize,
        docs: Option<&HashSet<String>>,
    ) -> Result<Vec<ChunkHit>> {
        if k == 0 || segmented_query.trim().is_empty() {
            return Ok(Vec::new());
        }
        let Some(chunks) = self.chunks().await? else {
            return Ok(Vec::new());
        };
        let committed = visible_ids(self.committed_ids().await?, docs);
        let filter = docs.map(doc_filter);
        search_visible(k, &committed, |limit| {
            let table = chunks.table.clone();
            let text = segmented_query.to_owned();
            let filter = filter.clone();
            async move {
                let mut query = table
                    .query()
                    .full_text_search(FullTextSearchQuery::new(text))
                    .limit(limit);
                if let Some(filter) = filter {
                    query = query.only_if(filter);
                }
                let batches = collect(query, "run a full-text search").await?;
                hits(&batches, SCORE_COLUMN, |s| s)
            }
        })
        .await
    }

    /// The chunks of a committed document, in ordinal order; empty for an
    /// unknown (or uncommitted) id.
    pub async fn chunks_of(&self, doc_id: &str) -> Result<Vec<ChunkRecord>> {
        if self.document(doc_id).await?.is_none() {
            return Ok(Vec::new());
        }
        let Some(chunks) = self.chunks().await? else {
            return Ok(Vec::new());
        };
        let filter = format!("doc_id = {}", schema::sql_str(doc_id));
        let batches = collect(chunks.table.query().only_if(filter), "read a document's chunks").await?;
        let mut records = Vec::new();
        for batch in &batches {
            records.extend(schema::read_chunks(batch)?);
        }
        records.sort_by_key(|c| c.ordinal);
        Ok(records)
    }
}

/// `doc_id IN (…)` for the documents of a scope.
fn doc_filter(docs: &HashSet<String>) -> String {
    if docs.is_empty() {
        // `IN ()` is not SQL; nothing matches an empty scope.
        return "doc_id IS NULL AND doc_id IS NOT NULL".into();
    }
    let mut ids: Vec<&String> = docs.iter().collect();
    ids.sort();
    schema::sql_in("doc_id", ids)
}

/// The dense query: cosine distance, with the ANN index's search settings (a scan ignores them).
fn vector_query(
    table: &lancedb::Table,
    query: &[f32],
    filter: String,
    limit: usize,
) -> Result<lancedb::query::VectorQuery> {
    Ok(table
        .query()
        .nearest_to(query)
        .map_err(lance("prepare a vector query"))?
        .column(VECTOR_COLUMN)
        .distance_type(DistanceType::Cosine)
        .nprobes(NPROBES)
        .map_err(lance("prepare a vector query"))?
        .refine_factor(REFINE_FACTOR)
        .only_if(filter)
        .limit(limit))
}

/// The committed documents a search may show: all, or those of the scope.
fn visible_ids(committed: HashSet<String>, docs: Option<&HashSet<String>>) -> HashSet<String> {
    match docs {
        Some(docs) => committed.into_iter().filter(|id| docs.contains(id)).collect(),
        None => committed,
    }
}

/// Runs `search(limit)` with a growing limit until `k` visible hits remain or
/// the table has no more rows to give.
async fn search_visible<F, Fut>(k: usize, committed: &HashSet<String>, mut search: F) -> Result<Vec<ChunkHit>>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<ChunkHit>>>,
{
    if committed.is_empty() {
        return Ok(Vec::new());
    }
    // Outside a commit nothing is filtered, so a small margin usually suffices.
    let mut limit = k.saturating_add(k / 2).saturating_add(8);
    loop {
        let found = search(limit).await?;
        let exhausted = found.len() < limit;
        let mut visible: Vec<ChunkHit> = found
            .into_iter()
            .filter(|h| committed.contains(&h.chunk.doc_id))
            .collect();
        if visible.len() >= k || exhausted {
            visible.truncate(k);
            return Ok(visible);
        }
        limit = limit.saturating_mul(WIDEN);
    }
}

fn hits(
    batches: &[RecordBatch],
    score_column: &'static str,
    score: impl Fn(f32) -> f32,
) -> Result<Vec<ChunkHit>> {
    let mut out = Vec::new();
    for batch in batches {
        let chunks = schema::read_chunks(batch)?;
        let scores = schema::read_scores(batch, score_column)?;
        out.extend(chunks.into_iter().zip(scores).map(|(chunk, s)| ChunkHit {
            chunk,
            score: score(s),
        }));
    }
    // LanceDB returns rows best first; sorting again guards the order across batches.
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    Ok(out)
}
