//! Extra locations of a document and moves of its path, without touching its chunks.
//!
//! The same file content under two paths is one document: its row keeps the first path, and
//! the `locations` table holds the others (`path` unique, `doc_id` pointing at a document). A
//! location row whose document is not committed is invisible and deleted by recovery, as
//! orphan chunks are. Moving a document (a renamed file) rewrites its `path` in one commit.

use std::collections::HashSet;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, RecordBatchIterator, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use lancedb::query::QueryBase;

use crate::error::{arrow, lance, Result, StoreError};
use crate::schema::{self, LOCATIONS};
use crate::store::{collect, Store};
use crate::types::{DocumentRecord, Location};

pub(crate) fn locations_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("path", DataType::Utf8, false),
        Field::new("doc_id", DataType::Utf8, false),
    ]))
}

fn locations_batch(path: &str, doc_id: &str) -> Result<RecordBatch> {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![path])),
        Arc::new(StringArray::from(vec![doc_id])),
    ];
    RecordBatch::try_new(locations_schema(), columns).map_err(arrow("build a location row"))
}

impl Store {
    /// Every extra location of a committed document, ordered by path.
    pub async fn locations(&self) -> Result<Vec<Location>> {
        let committed = self.committed_ids().await?;
        let mut all: Vec<Location> = self
            .query_locations(None)
            .await?
            .into_iter()
            .filter(|l| committed.contains(&l.doc_id))
            .collect();
        all.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(all)
    }

    /// The extra location at `path`, if that path is one (of a committed document).
    pub async fn location_at(&self, path: &str) -> Result<Option<Location>> {
        let filter = format!("path = {}", schema::sql_str(path));
        let Some(found) = self.query_locations(Some(filter)).await?.into_iter().next() else {
            return Ok(None);
        };
        Ok(self.document(&found.doc_id).await?.map(|_| found))
    }

    /// The extra locations of the documents in `doc_ids`.
    pub async fn locations_of(&self, doc_ids: &[String]) -> Result<Vec<Location>> {
        if doc_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut found = self
            .query_locations(Some(schema::sql_in("doc_id", doc_ids)))
            .await?;
        found.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(found)
    }

    /// The committed documents whose file content has this hash.
    pub async fn documents_with_hash(&self, content_hash: &str) -> Result<Vec<DocumentRecord>> {
        let filter = format!("content_hash = {}", schema::sql_str(content_hash));
        self.query_documents(Some(filter)).await
    }

    /// Records `path` as another location of document `doc_id` (replacing whatever location
    /// row `path` had). Returns false, writing nothing, when no such document is committed.
    pub async fn add_location(&self, path: &str, doc_id: &str) -> Result<bool> {
        let _writer = self.write_guard().await?;
        if self.document(doc_id).await?.is_none() {
            return Ok(false);
        }
        let batch = locations_batch(path, doc_id)?;
        let schema = batch.schema();
        let mut merge = self.inner.locations.merge_insert(&["path"]);
        merge.when_matched_update_all(None).when_not_matched_insert_all();
        merge
            .execute(Box::new(RecordBatchIterator::new(vec![Ok(batch)], schema)))
            .await
            .map_err(lance("record a location"))?;
        Ok(true)
    }

    /// Forgets the extra location `path`. Returns whether there was one.
    pub async fn remove_location(&self, path: &str) -> Result<bool> {
        let _writer = self.write_guard().await?;
        let filter = format!("path = {}", schema::sql_str(path));
        let deleted = self
            .inner
            .locations
            .delete(filter.as_str())
            .await
            .map_err(lance("delete a location"))?;
        Ok(deleted.num_deleted_rows > 0)
    }

    /// Moves document `id` to `new_path` in one commit, keeping its chunks and vectors (a
    /// renamed file, or an extra location taking over from a deleted first one). A location row
    /// for `new_path` is removed afterwards; a kill in between leaves a location equal to its
    /// document's own path, which readers ignore and recovery deletes. Fails when another
    /// document already has `new_path`.
    pub async fn relocate_document(&self, id: &str, new_path: &str) -> Result<Option<DocumentRecord>> {
        let _writer = self.write_guard().await?;
        if self.document(id).await?.is_none() {
            return Ok(None);
        }
        if let Some(other) = self.document_by_path(new_path).await? {
            if other.id != id {
                return Err(StoreError::PathTaken {
                    path: new_path.to_owned(),
                });
            }
        }
        self.inner
            .documents
            .update()
            .only_if(format!("id = {}", schema::sql_str(id)))
            .column("path", schema::sql_str(new_path))
            .execute()
            .await
            .map_err(lance("move a document"))?;
        let filter = format!("path = {}", schema::sql_str(new_path));
        self.inner
            .locations
            .delete(filter.as_str())
            .await
            .map_err(lance("delete a location"))?;
        self.document(id).await
    }

    async fn query_locations(&self, filter: Option<String>) -> Result<Vec<Location>> {
        let mut query = self.inner.locations.query();
        if let Some(filter) = filter {
            query = query.only_if(filter);
        }
        let batches = collect(query, "read locations").await?;
        let mut out = Vec::new();
        for batch in &batches {
            let paths = schema::read_ids(batch, LOCATIONS, "path")?;
            let ids = schema::read_ids(batch, LOCATIONS, "doc_id")?;
            out.extend(
                paths
                    .into_iter()
                    .zip(ids)
                    .map(|(path, doc_id)| Location { path, doc_id }),
            );
        }
        Ok(out)
    }

    /// Deletes location rows whose document is not committed, or that repeat their document's
    /// own path (a relocation killed between its two commits). Returns how many. Runs under the
    /// caller's writer lock.
    pub(crate) async fn recover_locations(&self) -> Result<u64> {
        let all = self.query_locations(None).await?;
        if all.is_empty() {
            return Ok(0);
        }
        let docs = self.list_documents().await?;
        let ids: HashSet<&str> = docs.iter().map(|d| d.id.as_str()).collect();
        let own: HashSet<(&str, &str)> = docs.iter().map(|d| (d.id.as_str(), d.path.as_str())).collect();
        let stale: Vec<&str> = all
            .iter()
            .filter(|l| {
                !ids.contains(l.doc_id.as_str()) || own.contains(&(l.doc_id.as_str(), l.path.as_str()))
            })
            .map(|l| l.path.as_str())
            .collect();
        if stale.is_empty() {
            return Ok(0);
        }
        let result = self
            .inner
            .locations
            .delete(schema::sql_in("path", &stale).as_str())
            .await
            .map_err(lance("delete stale locations"))?;
        Ok(result.num_deleted_rows)
    }
}
