//! Writes: committing, replacing and removing documents, recovery, maintenance.
//!
//! Visibility rests on one rule: a chunk is visible only while the documents
//! table holds a row whose `id` equals the chunk's `doc_id`. Each write is a
//! sequence of single LanceDB commits ordered so that a kill between any two
//! leaves either the old or the new version visible, and at worst some
//! invisible orphan chunks that recovery deletes on the next open.

use std::collections::{BTreeSet, HashSet};

use arrow_array::{RecordBatch, RecordBatchIterator};
use lancedb::query::{QueryBase, Select};
use lancedb::table::{CompactionOptions, Duration as PruneAge, OptimizeAction, OptimizeOptions};

use crate::ann::keep_vector_index_current;
use crate::error::{lance, Result, StoreError};
use crate::ids;
use crate::schema::{self, CHUNKS, TEXT_COLUMN};
use crate::store::{collect, create_empty, ensure_fts_index, ChunksTable, Store};
use crate::types::{DocumentRecord, NewChunk, NewDocument};

/// Rows appended since the full-text index was last brought up to date before
/// we fold them in. LanceDB also searches unindexed rows (by scanning them), so
/// this only trades commit time against query time.
const FTS_UNINDEXED_LIMIT: usize = 2_000;

/// Fragments the chunks table may have before ingest compacts it (each commit adds one).
pub const FRAGMENTS_BEFORE_OPTIMIZE: usize = 16;

impl Store {
    /// Makes a document and all its chunks visible at once, replacing any
    /// previous document with the same path (see [`Store::commit_documents`]).
    pub async fn commit_document(&self, doc: NewDocument, chunks: Vec<NewChunk>) -> Result<DocumentRecord> {
        let mut records = self.commit_documents(vec![(doc, chunks)]).await?;
        records.pop().ok_or(StoreError::EmptyBatch)
    }

    /// Makes several documents and all their chunks visible at once, each replacing any
    /// previous document with the same path. Small files are committed in groups this way:
    /// each commit costs the same few table versions whatever its size.
    ///
    /// Steps, each one LanceDB commit whatever the number of documents: (1) append all
    /// chunks under fresh document ids; (2) upsert the document rows on `path`, which
    /// switches visibility from the old ids to the new ones; (3) delete the old versions'
    /// chunks. A kill after (1) leaves invisible new chunks, after (2) invisible old chunks;
    /// recovery deletes both kinds. Two documents with the same path are refused.
    pub async fn commit_documents(
        &self,
        docs: Vec<(NewDocument, Vec<NewChunk>)>,
    ) -> Result<Vec<DocumentRecord>> {
        let mut dim = None;
        let mut paths = HashSet::with_capacity(docs.len());
        for (doc, chunks) in &docs {
            if !paths.insert(doc.path.as_str()) {
                return Err(StoreError::DuplicatePath {
                    path: doc.path.clone(),
                });
            }
            if let Some(d) = check_chunks(&doc.path, chunks)? {
                if dim.is_some_and(|first| first != d) {
                    return Err(StoreError::DimensionMismatch {
                        expected: dim.unwrap_or(d),
                        got: d,
                    });
                }
                dim = Some(d);
            }
        }
        if docs.is_empty() {
            return Ok(Vec::new());
        }
        let _writer = self.write_guard().await?;
        let previous = self
            .query_documents(Some(schema::sql_in(
                "path",
                docs.iter().map(|(d, _)| d.path.as_str()),
            )))
            .await?;
        let mut records = Vec::with_capacity(docs.len());
        let mut batches = Vec::new();
        for (doc, chunks) in docs {
            let chunk_count = u32::try_from(chunks.len()).map_err(|_| StoreError::TooManyChunks {
                path: doc.path.clone(),
                count: chunks.len(),
            })?;
            let record = DocumentRecord {
                id: ids::new_document_id(&doc.path, &doc.content_hash),
                path: doc.path,
                title: doc.title,
                format: doc.format,
                content_hash: doc.content_hash,
                size_bytes: doc.size_bytes,
                page_count: doc.page_count,
                embedding_model: doc.embedding_model,
                diagnostics_json: doc.diagnostics_json,
                chunk_count,
                ingested_at_ms: ids::now_ms(),
            };
            if let (Some(dim), false) = (dim, chunks.is_empty()) {
                batches.push(schema::chunks_batch(
                    &record.id,
                    &record.embedding_model,
                    &chunks,
                    dim,
                )?);
            }
            records.push(record);
        }

        // (1) All chunks in one add: one commit.
        let chunks_table = match dim {
            Some(dim) => {
                let table = self.chunks_for_dim(dim).await?;
                table
                    .table
                    .add(batches)
                    .execute()
                    .await
                    .map_err(lance("append chunks"))?;
                Some(table)
            }
            None => self.chunks().await?,
        };

        // (2) The switch: one merge-insert commit keyed on path.
        let batch = schema::document_batch(&records)?;
        let mut merge = self.inner.documents.merge_insert(&["path"]);
        merge.when_matched_update_all(None).when_not_matched_insert_all();
        merge
            .execute(reader(batch))
            .await
            .map_err(lance("upsert the document rows"))?;

        // (3) The old versions are invisible now; remove their chunks.
        if let (false, Some(table)) = (previous.is_empty(), &chunks_table) {
            let filter = schema::sql_in("doc_id", previous.iter().map(|p| p.id.as_str()));
            table
                .table
                .delete(filter.as_str())
                .await
                .map_err(lance("delete the previous versions' chunks"))?;
        }

        if let (Some(table), Some(_)) = (&chunks_table, dim) {
            keep_fts_index_current(table).await?;
            keep_vector_index_current(table, self.ann_min_rows()).await?;
        }
        Ok(records)
    }

    /// Removes a document and all its chunks. Returns whether it existed.
    pub async fn remove_document(&self, id: &str) -> Result<bool> {
        let _writer = self.write_guard().await?;
        if self.document(id).await?.is_none() {
            return Ok(false);
        }
        // Row first: the chunks turn invisible in the same commit.
        let filter = format!("id = {}", schema::sql_str(id));
        self.inner
            .documents
            .delete(filter.as_str())
            .await
            .map_err(lance("delete a document row"))?;
        if let Some(chunks) = self.chunks().await? {
            let filter = format!("doc_id = {}", schema::sql_str(id));
            chunks
                .table
                .delete(filter.as_str())
                .await
                .map_err(lance("delete a document's chunks"))?;
        }
        let filter = format!("doc_id = {}", schema::sql_str(id));
        self.inner
            .locations
            .delete(filter.as_str())
            .await
            .map_err(lance("delete a document's locations"))?;
        Ok(true)
    }

    /// Empties the store so the caller can re-embed everything with another
    /// model or dimension. Returns the documents that were removed, so the
    /// caller knows which files to ingest again.
    pub async fn reset_index(&self) -> Result<Vec<DocumentRecord>> {
        let _writer = self.write_guard().await?;
        let documents = self.list_documents().await?;
        // Rows first, so a kill part-way leaves orphans, never visible chunks
        // without a matching dimension.
        if !documents.is_empty() {
            self.inner
                .documents
                .delete("true")
                .await
                .map_err(lance("delete all document rows"))?;
            self.inner
                .locations
                .delete("true")
                .await
                .map_err(lance("delete all locations"))?;
        }
        let mut slot = self.inner.chunks.write().await;
        let exists = self
            .inner
            .conn
            .table_names()
            .execute()
            .await
            .map_err(lance("list tables"))?
            .iter()
            .any(|n| n == CHUNKS);
        if exists {
            self.inner
                .conn
                .drop_table(CHUNKS, &[])
                .await
                .map_err(lance("drop the chunks table"))?;
        }
        *slot = None;
        Ok(documents)
    }

    /// [`Store::optimize`] once the chunks table has more than [`FRAGMENTS_BEFORE_OPTIMIZE`]
    /// fragments; returns whether it ran. What ingest calls after each batch: a server taking
    /// one upload at a time would otherwise build a new full-text index version per upload
    /// (a 60-minute soak with an upload every 2 s left 465 index directories and as many open
    /// files). Searches stay correct either way; unindexed rows are scanned.
    pub async fn optimize_if_due(&self) -> Result<bool> {
        let Some(chunks) = self.chunks().await? else {
            return Ok(false);
        };
        let stats = chunks
            .table
            .stats()
            .await
            .map_err(lance("read table statistics"))?;
        if stats.fragment_stats.num_fragments <= FRAGMENTS_BEFORE_OPTIMIZE {
            return Ok(false);
        }
        self.optimize().await?;
        Ok(true)
    }

    /// Compacts small files left by many commits, folds new rows into the
    /// indices and drops table versions older than an hour. Worth calling
    /// after a batch ingest; searches stay correct without it.
    pub async fn optimize(&self) -> Result<()> {
        let _writer = self.write_guard().await?;
        let mut tables = vec![self.inner.documents.clone()];
        if let Some(chunks) = self.chunks().await? {
            tables.push(chunks.table);
        }
        for table in tables {
            for action in [
                OptimizeAction::Compact {
                    options: CompactionOptions::default(),
                    remap_options: None,
                },
                OptimizeAction::Index(OptimizeOptions::default()),
                OptimizeAction::Prune {
                    older_than: Some(PruneAge::hours(1)),
                    delete_unverified: Some(false),
                    error_if_tagged_old_versions: Some(false),
                },
            ] {
                table.optimize(action).await.map_err(lance("optimize a table"))?;
            }
        }
        Ok(())
    }

    /// Deletes chunks whose document has no committed row. Returns how many. The caller holds
    /// the write lock (the store is being opened).
    pub(crate) async fn recover_while_locked(&self) -> Result<u64> {
        let stale = self.recover_locations().await?;
        if stale > 0 {
            tracing::info!(stale, "recovery deleted locations of uncommitted documents");
        }
        let Some(chunks) = self.chunks().await? else {
            return Ok(0);
        };
        let committed = self.committed_ids().await?;
        let orphans = chunk_doc_ids(&chunks).await?;
        let orphans: BTreeSet<String> = orphans.into_iter().filter(|id| !committed.contains(id)).collect();
        if orphans.is_empty() {
            return Ok(0);
        }
        let filter = schema::sql_in("doc_id", &orphans);
        let result = chunks
            .table
            .delete(filter.as_str())
            .await
            .map_err(lance("delete orphan chunks"))?;
        Ok(result.num_deleted_rows)
    }

    /// The chunks table for vectors of `dim`, created on first use.
    async fn chunks_for_dim(&self, dim: usize) -> Result<ChunksTable> {
        if let Some(chunks) = self.chunks().await? {
            if chunks.dim != dim {
                return Err(StoreError::DimensionMismatch {
                    expected: chunks.dim,
                    got: dim,
                });
            }
            return Ok(chunks);
        }
        let mut slot = self.inner.chunks.write().await;
        let table = create_empty(&self.inner.conn, CHUNKS, schema::chunks_schema(dim)?).await?;
        // A racing process may have created it with another dimension.
        let actual = crate::store::table_dim(&table).await?;
        let chunks = ChunksTable { table, dim: actual };
        *slot = Some(chunks.clone());
        if actual != dim {
            return Err(StoreError::DimensionMismatch {
                expected: actual,
                got: dim,
            });
        }
        Ok(chunks)
    }
}

/// Validates a document's chunks; returns their common vector dimension
/// (`None` for a document without chunks).
fn check_chunks(path: &str, chunks: &[NewChunk]) -> Result<Option<usize>> {
    let Some(first) = chunks.first() else {
        return Ok(None);
    };
    let dim = first.vector.len();
    if dim == 0 {
        return Err(StoreError::EmptyVector);
    }
    let mut ordinals = HashSet::with_capacity(chunks.len());
    for chunk in chunks {
        if chunk.vector.len() != dim {
            return Err(StoreError::DimensionMismatch {
                expected: dim,
                got: chunk.vector.len(),
            });
        }
        if !ordinals.insert(chunk.ordinal) {
            return Err(StoreError::DuplicateOrdinal {
                path: path.to_owned(),
                ordinal: chunk.ordinal,
            });
        }
    }
    Ok(Some(dim))
}

/// Merge-insert takes a reader, not a batch.
fn reader(batch: RecordBatch) -> Box<dyn arrow_array::RecordBatchReader + Send> {
    let schema = batch.schema();
    Box::new(RecordBatchIterator::new(vec![Ok(batch)], schema))
}

/// Distinct `doc_id`s present in the chunks table.
async fn chunk_doc_ids(chunks: &ChunksTable) -> Result<BTreeSet<String>> {
    let batches = collect(
        chunks.table.query().select(Select::columns(&["doc_id"])),
        "read chunk document ids",
    )
    .await?;
    let mut ids = BTreeSet::new();
    for batch in &batches {
        ids.extend(schema::read_ids(batch, CHUNKS, "doc_id")?);
    }
    Ok(ids)
}

/// Creates the FTS index after the first commit; later, folds appended rows
/// into it once enough have accumulated.
async fn keep_fts_index_current(chunks: &ChunksTable) -> Result<()> {
    let indices = chunks.table.list_indices().await.map_err(lance("list indices"))?;
    let Some(index) = indices
        .iter()
        .find(|i| i.columns.iter().any(|c| c == TEXT_COLUMN))
    else {
        return ensure_fts_index(&chunks.table).await;
    };
    let stats = chunks
        .table
        .index_stats(&index.name)
        .await
        .map_err(lance("read full-text index stats"))?;
    let unindexed = stats.map_or(0, |s| s.num_unindexed_rows);
    if unindexed >= FTS_UNINDEXED_LIMIT {
        chunks
            .table
            .optimize(OptimizeAction::Index(OptimizeOptions::default()))
            .await
            .map_err(lance("update the full-text index"))?;
    }
    Ok(())
}
