//! The store handle: opening, table handles, and reads of the documents table.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arrow_array::RecordBatch;
use futures::TryStreamExt;
use lancedb::index::scalar::FtsIndexBuilder;
use lancedb::index::Index;
use lancedb::query::{ExecutableQuery, QueryBase, Select};
use lancedb::{Connection, Table};
use tokio::sync::{Mutex, MutexGuard, RwLock};

use crate::error::{lance, Result, StoreError};
use crate::schema::{self, CHUNKS, DOCUMENTS, LOCATIONS, TEXT_COLUMN};
use crate::types::DocumentRecord;

/// A handle on one LanceDB directory holding the `documents` and `chunks` tables.
///
/// Cheap to clone; clones share the connection and the writer lock.
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    /// A local directory or an object-store URI.
    pub(crate) location: String,
    pub(crate) conn: Connection,
    pub(crate) documents: Table,
    pub(crate) locations: Table,
    /// `None` until the first chunk is committed: the vector dimension is only
    /// known then.
    pub(crate) chunks: RwLock<Option<ChunksTable>>,
    /// Serialises this process's writers, so two commits of one path cannot
    /// interleave their three steps.
    pub(crate) writer: Mutex<()>,
    /// `<dir>/.doctalk-write.lock` of a local store: serialises the writers of different
    /// processes (a CLI ingest while the server runs) the same way. `None` on object storage,
    /// where LanceDB's own commit protocol is all there is.
    pub(crate) lock_file: Option<PathBuf>,
    /// See [`Store::set_ann_min_rows`].
    pub(crate) ann_min_rows: std::sync::atomic::AtomicUsize,
}

/// Held while one write runs (see [`Store::write_guard`]); dropping it lets the next writer in.
pub(crate) struct WriteGuard<'a> {
    _in_process: MutexGuard<'a, ()>,
    /// Closing the file releases the lock.
    _across_processes: Option<std::fs::File>,
}

#[derive(Clone)]
pub(crate) struct ChunksTable {
    pub(crate) table: Table,
    pub(crate) dim: usize,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.inner.location)
            .finish()
    }
}

/// The FTS analyzer for `text_segmented`: the caller has already segmented the
/// text (jieba for Chinese), so split on whitespace only, lowercase, and keep
/// every token as it is — no stemming, no stop words, no ASCII folding, and no
/// length cap that could drop a long CJK compound.
pub(crate) fn fts_params() -> FtsIndexBuilder {
    FtsIndexBuilder::default()
        .base_tokenizer("whitespace".to_owned())
        .lower_case(true)
        .stem(false)
        .remove_stop_words(false)
        .ascii_folding(false)
        .max_token_length(None)
}

impl Store {
    /// Opens or creates the store in the local directory `dir`.
    ///
    /// Runs recovery: chunks whose document has no committed row (left by an
    /// ingest killed between its steps) are deleted, and a missing full-text
    /// index is rebuilt.
    pub async fn open(dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
            path: dir.to_owned(),
            source,
        })?;
        let uri = dir
            .to_str()
            .ok_or_else(|| StoreError::NonUtf8Path { path: dir.to_owned() })?;
        Self::connect(uri).await
    }

    /// Opens or creates the store at `uri`: a local directory, or an object-store URI such as
    /// `s3://bucket/prefix` (credentials, region and endpoint come from the standard `AWS_*`
    /// environment variables, e.g. `AWS_ENDPOINT=http://minio:9000` and `AWS_ALLOW_HTTP=true` for
    /// an S3-compatible server), so that a team can share one index.
    pub async fn open_uri(uri: &str) -> Result<Store> {
        if is_object_store_uri(uri) {
            Self::connect(uri).await
        } else {
            Self::open(Path::new(uri.strip_prefix("file://").unwrap_or(uri))).await
        }
    }

    async fn connect(uri: &str) -> Result<Store> {
        // Another process (the CLI while the server runs) may write the same
        // store; a zero interval makes every read see the latest commit.
        let lock_file = (!is_object_store_uri(uri)).then(|| Path::new(uri).join(".doctalk-write.lock"));
        // Opening creates missing tables and runs recovery: both are writes, so they wait for a
        // writer in another process to finish its commit (see `write_guard`).
        let opening = match &lock_file {
            Some(path) => Some(lock_across_processes(path.clone()).await?),
            None => None,
        };
        let conn = lancedb::connect(uri)
            .read_consistency_interval(Duration::ZERO)
            .execute()
            .await
            .map_err(lance("connect to the store"))?;
        let names = conn.table_names().execute().await.map_err(lance("list tables"))?;
        let documents = if names.iter().any(|n| n == DOCUMENTS) {
            open_table(&conn, DOCUMENTS).await?
        } else {
            create_empty(&conn, DOCUMENTS, schema::documents_schema()).await?
        };
        let locations = if names.iter().any(|n| n == LOCATIONS) {
            open_table(&conn, LOCATIONS).await?
        } else {
            create_empty(&conn, LOCATIONS, crate::locations::locations_schema()).await?
        };
        let chunks = if names.iter().any(|n| n == CHUNKS) {
            let table = open_table(&conn, CHUNKS).await?;
            let dim = table_dim(&table).await?;
            Some(ChunksTable { table, dim })
        } else {
            None
        };
        let store = Store {
            inner: Arc::new(Inner {
                location: uri.to_owned(),
                conn,
                documents,
                locations,
                chunks: RwLock::new(chunks),
                writer: Mutex::new(()),
                lock_file,
                ann_min_rows: std::sync::atomic::AtomicUsize::new(crate::ann::ANN_MIN_ROWS),
            }),
        };
        // Nobody else holds this handle yet, and `opening` keeps other processes out.
        let removed = store.recover_while_locked().await?;
        if removed > 0 {
            tracing::info!(removed, "recovery deleted chunks of uncommitted documents");
        }
        if let Some(chunks) = store.chunks().await? {
            ensure_fts_index(&chunks.table).await?;
        }
        drop(opening);
        Ok(store)
    }

    /// Waits until no other writer, in this process or another, is writing this store, and keeps
    /// them out until the guard is dropped. Every write and the recovery on open hold it: without
    /// it a second process opening the store mid-commit would take the first one's new chunks for
    /// orphans and delete them.
    pub(crate) async fn write_guard(&self) -> Result<WriteGuard<'_>> {
        let in_process = self.inner.writer.lock().await;
        let across_processes = match &self.inner.lock_file {
            None => None,
            Some(path) => Some(lock_across_processes(path.clone()).await?),
        };
        Ok(WriteGuard {
            _in_process: in_process,
            _across_processes: across_processes,
        })
    }

    /// Where this store lives: a local directory or an object-store URI.
    pub fn location(&self) -> &str {
        &self.inner.location
    }

    /// All committed documents, ordered by path.
    pub async fn list_documents(&self) -> Result<Vec<DocumentRecord>> {
        let mut docs = self.query_documents(None).await?;
        docs.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(docs)
    }

    /// The committed document at `path`, if any.
    pub async fn document_by_path(&self, path: &str) -> Result<Option<DocumentRecord>> {
        let filter = format!("path = {}", schema::sql_str(path));
        Ok(self.query_documents(Some(filter)).await?.into_iter().next())
    }

    /// The committed document with this id, if any.
    pub async fn document(&self, id: &str) -> Result<Option<DocumentRecord>> {
        let filter = format!("id = {}", schema::sql_str(id));
        Ok(self.query_documents(Some(filter)).await?.into_iter().next())
    }

    /// The embedding model ids of committed documents, sorted and distinct.
    /// More than one means the index is part-way through a model change.
    pub async fn embedding_models(&self) -> Result<Vec<String>> {
        let batches = collect(
            self.inner
                .documents
                .query()
                .select(Select::columns(&["embedding_model"])),
            "read embedding models",
        )
        .await?;
        let mut models = Vec::new();
        for batch in &batches {
            models.extend(schema::read_ids(batch, DOCUMENTS, "embedding_model")?);
        }
        models.sort();
        models.dedup();
        Ok(models)
    }

    /// The vector dimension of the chunks table; `None` before the first chunk.
    pub async fn vector_dim(&self) -> Result<Option<usize>> {
        Ok(self.chunks().await?.map(|c| c.dim))
    }

    /// The number of stored chunk rows. Outside an in-flight commit every one
    /// belongs to a committed document (recovery removes the rest on open).
    pub async fn count_chunks(&self) -> Result<usize> {
        match self.chunks().await? {
            Some(chunks) => chunks.table.count_rows(None).await.map_err(lance("count chunks")),
            None => Ok(0),
        }
    }

    pub(crate) async fn query_documents(&self, filter: Option<String>) -> Result<Vec<DocumentRecord>> {
        let mut query = self.inner.documents.query();
        if let Some(filter) = filter {
            query = query.only_if(filter);
        }
        let batches = collect(query, "read documents").await?;
        let mut docs = Vec::new();
        for batch in &batches {
            docs.extend(schema::read_documents(batch)?);
        }
        Ok(docs)
    }

    /// Ids of all committed documents: the visibility set for searches.
    pub(crate) async fn committed_ids(&self) -> Result<HashSet<String>> {
        let batches = collect(
            self.inner.documents.query().select(Select::columns(&["id"])),
            "read document ids",
        )
        .await?;
        let mut ids = HashSet::new();
        for batch in &batches {
            ids.extend(schema::read_ids(batch, DOCUMENTS, "id")?);
        }
        Ok(ids)
    }

    /// The chunks table, opening it if another handle (or process) created it.
    pub(crate) async fn chunks(&self) -> Result<Option<ChunksTable>> {
        if let Some(chunks) = self.inner.chunks.read().await.as_ref() {
            return Ok(Some(chunks.clone()));
        }
        let mut slot = self.inner.chunks.write().await;
        if slot.is_none() {
            let names = self
                .inner
                .conn
                .table_names()
                .execute()
                .await
                .map_err(lance("list tables"))?;
            if names.iter().any(|n| n == CHUNKS) {
                let table = open_table(&self.inner.conn, CHUNKS).await?;
                let dim = table_dim(&table).await?;
                *slot = Some(ChunksTable { table, dim });
            }
        }
        Ok(slot.clone())
    }
}

pub(crate) async fn open_table(conn: &Connection, name: &'static str) -> Result<Table> {
    conn.open_table(name)
        .execute()
        .await
        .map_err(lance("open a table"))
}

pub(crate) async fn create_empty(
    conn: &Connection,
    name: &'static str,
    schema: arrow_schema::SchemaRef,
) -> Result<Table> {
    match conn.create_empty_table(name, schema).execute().await {
        Ok(table) => Ok(table),
        // Another process created it between our listing and our create.
        Err(lancedb::Error::TableAlreadyExists { .. }) => open_table(conn, name).await,
        Err(source) => Err(StoreError::Lance {
            op: "create a table",
            source,
        }),
    }
}

pub(crate) async fn table_dim(table: &Table) -> Result<usize> {
    let schema = table.schema().await.map_err(lance("read the chunks schema"))?;
    schema::vector_dim(&schema)
}

/// Creates the full-text index on `text_segmented` unless it exists.
pub(crate) async fn ensure_fts_index(table: &Table) -> Result<()> {
    let indices = table.list_indices().await.map_err(lance("list indices"))?;
    if indices.iter().any(|i| i.columns.iter().any(|c| c == TEXT_COLUMN)) {
        return Ok(());
    }
    // An empty table has nothing to index; the first commit creates it.
    if table.count_rows(None).await.map_err(lance("count chunks"))? == 0 {
        return Ok(());
    }
    table
        .create_index(&[TEXT_COLUMN], Index::FTS(fts_params()))
        .execute()
        .await
        .map_err(lance("create the full-text index"))
}

/// Runs a query and collects all its batches.
pub(crate) async fn collect(query: impl ExecutableQuery, op: &'static str) -> Result<Vec<RecordBatch>> {
    let stream = query.execute().await.map_err(lance(op))?;
    stream.try_collect().await.map_err(lance(op))
}

/// `s3://…`, `gs://…`, `az://…` and the like, as opposed to a local path (`file://` counts as local).
pub fn is_object_store_uri(uri: &str) -> bool {
    uri.split_once("://").is_some_and(|(scheme, _)| {
        scheme != "file"
            && !scheme.is_empty()
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || c == '+')
    })
}

/// An exclusive advisory lock on `path` (created if missing), waited for on a blocking thread.
async fn lock_across_processes(path: PathBuf) -> Result<std::fs::File> {
    let task_path = path.clone();
    let locked = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&task_path)?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => {
                tracing::info!(path = %task_path.display(), "waiting for another process writing this knowledge base");
                file.lock()?;
                Ok(file)
            }
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    })
    .await
    .map_err(|e| StoreError::Lock {
        path: path.clone(),
        source: std::io::Error::other(e),
    })?;
    locked.map_err(|source| StoreError::Lock { path, source })
}

/// The directories LanceDB keeps a store's tables in, inside the store directory.
pub const TABLE_DIRS: [&str; 3] = ["documents.lance", "chunks.lance", "locations.lance"];

/// The documents a damaged local store still lists, read from its documents table alone (no
/// recovery, no chunks): what a repair can ingest again. `Err` when that table is unreadable too.
pub async fn documents_of_damaged(dir: &Path) -> Result<Vec<DocumentRecord>> {
    let uri = dir
        .to_str()
        .ok_or_else(|| StoreError::NonUtf8Path { path: dir.to_owned() })?;
    let conn = lancedb::connect(uri)
        .execute()
        .await
        .map_err(lance("connect to the store"))?;
    let table = open_table(&conn, DOCUMENTS).await?;
    let batches = collect(table.query(), "read documents").await?;
    let mut docs = Vec::new();
    for batch in &batches {
        docs.extend(schema::read_documents(batch)?);
    }
    Ok(docs)
}
