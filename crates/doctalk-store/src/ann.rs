//! The approximate nearest-neighbour index on the chunk vectors, past a size.
//!
//! Below [`ANN_MIN_ROWS`] chunks a dense search scans every vector: exact, and fast enough (a
//! personal library holds a few thousand chunks). A team's shared index grows past a hundred
//! thousand, where the scan costs well over 100 ms per query, so once the table holds that many
//! rows an IVF_HNSW_SQ index is built (cosine, the search's own distance). Rows committed after it
//! are searched by scanning until enough of them have accumulated to be folded in. Searches keep
//! working while the index builds: LanceDB readers see the table version they started on.

use std::time::Instant;

use lancedb::index::vector::IvfHnswSqIndexBuilder;
use lancedb::index::Index;
use lancedb::table::{OptimizeAction, OptimizeOptions};
use lancedb::DistanceType;

use crate::error::{lance, Result};
use crate::schema::VECTOR_COLUMN;
use crate::store::{ChunksTable, Store};

/// Chunks a table needs before dense search goes through the ANN index.
pub const ANN_MIN_ROWS: usize = 50_000;

/// IVF partitions probed per query, and how many times `k` candidates are re-ranked by their full
/// vectors (the index stores 8-bit quantised ones). Chosen by `examples/search_bench.rs` for
/// recall@10 of at least 0.95 against the exact scan.
pub(crate) const NPROBES: usize = 20;
pub(crate) const REFINE_FACTOR: u32 = 4;

/// Rows committed since the index was last brought up to date before they are folded in: until
/// then they are scanned, which costs little at this count.
const UNINDEXED_LIMIT: usize = 10_000;

/// What the vector index covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VectorIndexStatus {
    pub indexed_rows: usize,
    pub unindexed_rows: usize,
}

impl Store {
    /// The chunk count past which dense search uses the ANN index (default [`ANN_MIN_ROWS`]).
    /// Lowered by tests and benchmarks to exercise the index on small tables.
    pub fn set_ann_min_rows(&self, rows: usize) {
        self.inner
            .ann_min_rows
            .store(rows, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn ann_min_rows(&self) -> usize {
        self.inner.ann_min_rows.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The vector index's coverage; `None` while the table is below the threshold (or empty).
    pub async fn vector_index_status(&self) -> Result<Option<VectorIndexStatus>> {
        let Some(chunks) = self.chunks().await? else {
            return Ok(None);
        };
        let Some(name) = vector_index_name(&chunks).await? else {
            return Ok(None);
        };
        let stats = chunks
            .table
            .index_stats(&name)
            .await
            .map_err(lance("read vector index stats"))?;
        Ok(stats.map(|s| VectorIndexStatus {
            indexed_rows: s.num_indexed_rows,
            unindexed_rows: s.num_unindexed_rows,
        }))
    }
}

async fn vector_index_name(chunks: &ChunksTable) -> Result<Option<String>> {
    let indices = chunks.table.list_indices().await.map_err(lance("list indices"))?;
    Ok(indices
        .into_iter()
        .find(|i| i.columns.iter().any(|c| c == VECTOR_COLUMN))
        .map(|i| i.name))
}

/// Builds the vector index once the table holds `min_rows` chunks; later folds newly committed
/// rows into it once [`UNINDEXED_LIMIT`] of them have accumulated. Called after each commit.
pub(crate) async fn keep_vector_index_current(chunks: &ChunksTable, min_rows: usize) -> Result<()> {
    match vector_index_name(chunks).await? {
        None => {
            let rows = chunks
                .table
                .count_rows(None)
                .await
                .map_err(lance("count chunks"))?;
            if rows < min_rows.max(1) {
                return Ok(());
            }
            tracing::info!(
                rows,
                "building the vector index (searches keep working meanwhile)"
            );
            let started = Instant::now();
            let params = IvfHnswSqIndexBuilder::default().distance_type(DistanceType::Cosine);
            chunks
                .table
                .create_index(&[VECTOR_COLUMN], Index::IvfHnswSq(params))
                .execute()
                .await
                .map_err(lance("build the vector index"))?;
            tracing::info!(
                rows,
                seconds = started.elapsed().as_secs_f64(),
                "vector index built"
            );
        }
        Some(name) => {
            let stats = chunks
                .table
                .index_stats(&name)
                .await
                .map_err(lance("read vector index stats"))?;
            if stats.is_some_and(|s| s.num_unindexed_rows >= UNINDEXED_LIMIT) {
                chunks
                    .table
                    .optimize(OptimizeAction::Index(OptimizeOptions::default()))
                    .await
                    .map_err(lance("update the vector index"))?;
            }
        }
    }
    Ok(())
}
