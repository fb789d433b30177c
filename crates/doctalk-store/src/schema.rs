//! The two tables' Arrow schemas and the conversions between records and batches.
//!
//! `documents`: one row per committed document, unique by `path`.
//! `locations`: extra paths of documents (see `locations.rs`).
//! `chunks`: one row per chunk, `doc_id` pointing at a `documents.id`; its `vector`
//! column is a `FixedSizeList<Float32, dim>` whose `dim` is fixed when the table is made.

use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{
    Array, ArrayRef, FixedSizeListArray, Float32Array, Int64Array, ListArray, RecordBatch, StringArray,
    UInt32Array, UInt64Array,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use crate::error::{arrow, Result, StoreError};
use crate::types::{ChunkKind, ChunkRecord, DocumentRecord, NewChunk};

pub(crate) const DOCUMENTS: &str = "documents";
pub(crate) const CHUNKS: &str = "chunks";
pub(crate) const LOCATIONS: &str = "locations";
/// The column the full-text index covers.
pub(crate) const TEXT_COLUMN: &str = "text_segmented";
pub(crate) const VECTOR_COLUMN: &str = "vector";
/// Added by LanceDB to vector-search results.
pub(crate) const DISTANCE_COLUMN: &str = "_distance";
/// Added by LanceDB to full-text-search results.
pub(crate) const SCORE_COLUMN: &str = "_score";

pub(crate) fn documents_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("path", DataType::Utf8, false),
        Field::new("title", DataType::Utf8, false),
        Field::new("format", DataType::Utf8, false),
        Field::new("content_hash", DataType::Utf8, false),
        Field::new("size_bytes", DataType::UInt64, false),
        Field::new("page_count", DataType::UInt32, true),
        Field::new("embedding_model", DataType::Utf8, false),
        Field::new("diagnostics_json", DataType::Utf8, false),
        Field::new("chunk_count", DataType::UInt32, false),
        Field::new("ingested_at_ms", DataType::Int64, false),
    ]))
}

fn string_list() -> DataType {
    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
}

fn vector_item() -> Arc<Field> {
    Arc::new(Field::new("item", DataType::Float32, true))
}

pub(crate) fn chunks_schema(dim: usize) -> Result<SchemaRef> {
    let size = i32::try_from(dim).map_err(|_| StoreError::DimensionMismatch {
        expected: i32::MAX as usize,
        got: dim,
    })?;
    Ok(Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("doc_id", DataType::Utf8, false),
        Field::new("ordinal", DataType::UInt32, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("text", DataType::Utf8, false),
        Field::new(TEXT_COLUMN, DataType::Utf8, false),
        Field::new("page", DataType::UInt32, true),
        Field::new("heading_path", string_list(), false),
        Field::new("span_start", DataType::UInt32, false),
        Field::new("span_end", DataType::UInt32, false),
        Field::new("questions", string_list(), false),
        Field::new("answer", DataType::Utf8, true),
        Field::new("metadata_json", DataType::Utf8, false),
        Field::new("engine", DataType::Utf8, true),
        Field::new("embedding_model", DataType::Utf8, false),
        Field::new(VECTOR_COLUMN, DataType::FixedSizeList(vector_item(), size), false),
    ])))
}

/// The vector dimension recorded in a chunks table's schema.
pub(crate) fn vector_dim(schema: &Schema) -> Result<usize> {
    match schema.field_with_name(VECTOR_COLUMN).map(|f| f.data_type()) {
        Ok(DataType::FixedSizeList(_, size)) => {
            usize::try_from(*size).map_err(|_| schema_err(CHUNKS, VECTOR_COLUMN))
        }
        _ => Err(schema_err(CHUNKS, VECTOR_COLUMN)),
    }
}

fn schema_err(table: &'static str, column: &'static str) -> StoreError {
    StoreError::Schema { table, column }
}

/// One row per document, in order.
pub(crate) fn document_batch(docs: &[DocumentRecord]) -> Result<RecordBatch> {
    let strings = |f: fn(&DocumentRecord) -> &str| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(docs.iter().map(f)))
    };
    let columns: Vec<ArrayRef> = vec![
        strings(|d| &d.id),
        strings(|d| &d.path),
        strings(|d| &d.title),
        strings(|d| &d.format),
        strings(|d| &d.content_hash),
        Arc::new(UInt64Array::from_iter_values(docs.iter().map(|d| d.size_bytes))),
        Arc::new(UInt32Array::from_iter(docs.iter().map(|d| d.page_count))),
        strings(|d| &d.embedding_model),
        strings(|d| &d.diagnostics_json),
        Arc::new(UInt32Array::from_iter_values(docs.iter().map(|d| d.chunk_count))),
        Arc::new(Int64Array::from_iter_values(
            docs.iter().map(|d| d.ingested_at_ms),
        )),
    ];
    RecordBatch::try_new(documents_schema(), columns).map_err(arrow("build document rows"))
}

fn string_lists<'a>(lists: impl Iterator<Item = &'a Vec<String>>) -> ListArray {
    let mut builder = ListBuilder::new(StringBuilder::new());
    for list in lists {
        for item in list {
            builder.values().append_value(item);
        }
        builder.append(true);
    }
    builder.finish()
}

/// One batch holding all chunks of a document; the caller has checked every
/// vector has length `dim`.
pub(crate) fn chunks_batch(
    doc_id: &str,
    embedding_model: &str,
    chunks: &[NewChunk],
    dim: usize,
) -> Result<RecordBatch> {
    let schema = chunks_schema(dim)?;
    let ids: Vec<String> = chunks.iter().map(|c| chunk_id(doc_id, c.ordinal)).collect();
    let flat: Vec<f32> = chunks.iter().flat_map(|c| c.vector.iter().copied()).collect();
    let size = i32::try_from(dim).map_err(|_| StoreError::DimensionMismatch {
        expected: i32::MAX as usize,
        got: dim,
    })?;
    let vectors = FixedSizeListArray::try_new(vector_item(), size, Arc::new(Float32Array::from(flat)), None)
        .map_err(arrow("build the vector column"))?;
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(ids)),
        Arc::new(StringArray::from(vec![doc_id; chunks.len()])),
        Arc::new(UInt32Array::from_iter_values(chunks.iter().map(|c| c.ordinal))),
        Arc::new(StringArray::from_iter_values(
            chunks.iter().map(|c| c.kind.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(chunks.iter().map(|c| &c.text))),
        Arc::new(StringArray::from_iter_values(
            chunks.iter().map(|c| &c.text_segmented),
        )),
        Arc::new(UInt32Array::from_iter(chunks.iter().map(|c| c.page))),
        Arc::new(string_lists(chunks.iter().map(|c| &c.heading_path))),
        Arc::new(UInt32Array::from_iter_values(chunks.iter().map(|c| c.span_start))),
        Arc::new(UInt32Array::from_iter_values(chunks.iter().map(|c| c.span_end))),
        Arc::new(string_lists(chunks.iter().map(|c| &c.questions))),
        Arc::new(StringArray::from_iter(chunks.iter().map(|c| c.answer.as_deref()))),
        Arc::new(StringArray::from_iter_values(
            chunks.iter().map(|c| &c.metadata_json),
        )),
        Arc::new(StringArray::from_iter(chunks.iter().map(|c| c.engine.as_deref()))),
        Arc::new(StringArray::from(vec![embedding_model; chunks.len()])),
        Arc::new(vectors),
    ];
    RecordBatch::try_new(schema, columns).map_err(arrow("build the chunk rows"))
}

pub(crate) fn chunk_id(doc_id: &str, ordinal: u32) -> String {
    format!("{doc_id}:{ordinal}")
}

fn column<'a, T: Array + 'static>(
    batch: &'a RecordBatch,
    table: &'static str,
    name: &'static str,
) -> Result<&'a T> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| schema_err(table, name))
}

fn opt_u32(array: &UInt32Array, row: usize) -> Option<u32> {
    (!array.is_null(row)).then(|| array.value(row))
}

fn opt_string(array: &StringArray, row: usize) -> Option<String> {
    (!array.is_null(row)).then(|| array.value(row).to_owned())
}

fn string_list_at(array: &ListArray, row: usize, name: &'static str) -> Result<Vec<String>> {
    if array.is_null(row) {
        return Ok(Vec::new());
    }
    let values = array.value(row);
    let strings = values
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| schema_err(CHUNKS, name))?;
    Ok(strings.iter().map(|s| s.unwrap_or_default().to_owned()).collect())
}

pub(crate) fn read_documents(batch: &RecordBatch) -> Result<Vec<DocumentRecord>> {
    const T: &str = DOCUMENTS;
    let id = column::<StringArray>(batch, T, "id")?;
    let path = column::<StringArray>(batch, T, "path")?;
    let title = column::<StringArray>(batch, T, "title")?;
    let format = column::<StringArray>(batch, T, "format")?;
    let hash = column::<StringArray>(batch, T, "content_hash")?;
    let size = column::<UInt64Array>(batch, T, "size_bytes")?;
    let pages = column::<UInt32Array>(batch, T, "page_count")?;
    let model = column::<StringArray>(batch, T, "embedding_model")?;
    let diagnostics = column::<StringArray>(batch, T, "diagnostics_json")?;
    let chunk_count = column::<UInt32Array>(batch, T, "chunk_count")?;
    let ingested = column::<Int64Array>(batch, T, "ingested_at_ms")?;
    Ok((0..batch.num_rows())
        .map(|row| DocumentRecord {
            id: id.value(row).to_owned(),
            path: path.value(row).to_owned(),
            title: title.value(row).to_owned(),
            format: format.value(row).to_owned(),
            content_hash: hash.value(row).to_owned(),
            size_bytes: size.value(row),
            page_count: opt_u32(pages, row),
            embedding_model: model.value(row).to_owned(),
            diagnostics_json: diagnostics.value(row).to_owned(),
            chunk_count: chunk_count.value(row),
            ingested_at_ms: ingested.value(row),
        })
        .collect())
}

/// Reads the `id` column only (projected scans of the documents table).
pub(crate) fn read_ids(batch: &RecordBatch, table: &'static str, name: &'static str) -> Result<Vec<String>> {
    let ids = column::<StringArray>(batch, table, name)?;
    Ok(ids.iter().flatten().map(str::to_owned).collect())
}

pub(crate) fn read_chunks(batch: &RecordBatch) -> Result<Vec<ChunkRecord>> {
    const T: &str = CHUNKS;
    let id = column::<StringArray>(batch, T, "id")?;
    let doc_id = column::<StringArray>(batch, T, "doc_id")?;
    let ordinal = column::<UInt32Array>(batch, T, "ordinal")?;
    let kind = column::<StringArray>(batch, T, "kind")?;
    let text = column::<StringArray>(batch, T, "text")?;
    let segmented = column::<StringArray>(batch, T, TEXT_COLUMN)?;
    let page = column::<UInt32Array>(batch, T, "page")?;
    let headings = column::<ListArray>(batch, T, "heading_path")?;
    let span_start = column::<UInt32Array>(batch, T, "span_start")?;
    let span_end = column::<UInt32Array>(batch, T, "span_end")?;
    let questions = column::<ListArray>(batch, T, "questions")?;
    let answer = column::<StringArray>(batch, T, "answer")?;
    let metadata = column::<StringArray>(batch, T, "metadata_json")?;
    let engine = column::<StringArray>(batch, T, "engine")?;
    let model = column::<StringArray>(batch, T, "embedding_model")?;
    let vectors = column::<FixedSizeListArray>(batch, T, VECTOR_COLUMN)?;
    let mut out = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let vector = vectors.value(row);
        let vector = vector
            .as_any()
            .downcast_ref::<Float32Array>()
            .ok_or_else(|| schema_err(T, VECTOR_COLUMN))?
            .values()
            .to_vec();
        out.push(ChunkRecord {
            id: id.value(row).to_owned(),
            doc_id: doc_id.value(row).to_owned(),
            ordinal: ordinal.value(row),
            kind: ChunkKind::parse(kind.value(row)).ok_or_else(|| schema_err(T, "kind"))?,
            text: text.value(row).to_owned(),
            text_segmented: segmented.value(row).to_owned(),
            page: opt_u32(page, row),
            heading_path: string_list_at(headings, row, "heading_path")?,
            span_start: span_start.value(row),
            span_end: span_end.value(row),
            questions: string_list_at(questions, row, "questions")?,
            answer: opt_string(answer, row),
            metadata_json: metadata.value(row).to_owned(),
            engine: opt_string(engine, row),
            embedding_model: model.value(row).to_owned(),
            vector,
        });
    }
    Ok(out)
}

/// Reads a float score column added by a search (`_distance` or `_score`).
pub(crate) fn read_scores(batch: &RecordBatch, name: &'static str) -> Result<Vec<f32>> {
    let scores = column::<Float32Array>(batch, CHUNKS, name)?;
    Ok(scores.values().to_vec())
}

/// Quotes a string as a SQL literal for LanceDB filters.
pub(crate) fn sql_str(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// `column IN ('a', 'b', ...)`; callers never pass an empty list.
pub(crate) fn sql_in(column: &str, values: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    let list: Vec<String> = values.into_iter().map(|v| sql_str(v.as_ref())).collect();
    format!("{column} IN ({})", list.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(ordinal: u32, page: Option<u32>) -> NewChunk {
        NewChunk {
            ordinal,
            kind: ChunkKind::Qa,
            text: "t".into(),
            text_segmented: "t".into(),
            page,
            heading_path: vec!["A".into(), "B".into()],
            span_start: 1,
            span_end: 2,
            questions: vec!["q?".into()],
            answer: Some("a".into()),
            metadata_json: "{}".into(),
            engine: None,
            vector: vec![0.5, 0.5],
        }
    }

    #[test]
    fn chunk_rows_round_trip_through_a_batch() {
        let chunks = vec![chunk(0, None), chunk(1, Some(3))];
        let batch = chunks_batch("d", "m", &chunks, 2).unwrap();
        let back = read_chunks(&batch).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[1].id, "d:1");
        assert_eq!(back[0].page, None);
        assert_eq!(back[1].page, Some(3));
        assert_eq!(back[0].heading_path, vec!["A", "B"]);
        assert_eq!(back[0].questions, vec!["q?"]);
        assert_eq!(back[0].answer.as_deref(), Some("a"));
        assert_eq!(back[0].engine, None);
        assert_eq!(back[0].vector, vec![0.5, 0.5]);
        assert_eq!(vector_dim(&batch.schema()).unwrap(), 2);
    }

    #[test]
    fn sql_literals_escape_quotes() {
        assert_eq!(sql_str("O'Brien"), "'O''Brien'");
        assert_eq!(sql_in("id", ["a", "b'c"]), "id IN ('a', 'b''c')");
    }
}
