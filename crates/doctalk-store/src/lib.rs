//! LanceDB storage for DocTalk: documents, their chunks, dense and full-text search.
//!
//! This is the only crate that knows LanceDB. Its main types:
//!
//! - [`Store`]: a handle on one store directory with two tables, `documents`
//!   (one row per committed document, unique by path) and `chunks` (text,
//!   position, metadata and a fixed-dimension embedding per chunk, with a BM25
//!   full-text index over pre-segmented text).
//! - [`NewDocument`] and [`NewChunk`]: what [`Store::commit_document`] takes;
//!   [`DocumentRecord`] and [`ChunkRecord`]: what reads give back.
//! - [`ChunkHit`]: a search result with its score.
//! - [`Location`]: another path of a document (identical files are one document); renamed
//!   files move with [`Store::relocate_document`] and keep their vectors.
//! - [`StoreError`]: the one error type.
//!
//! A document becomes visible to search only when its row is committed, which
//! happens in one commit after all its chunks are written; replacing a
//! document switches from the old version to the new one in that same commit.
//! Chunks without a committed document row (an ingest killed part-way) are
//! never returned and are deleted when the store is next opened.
//!
//! ```no_run
//! use doctalk_store::{NewChunk, NewDocument, Store};
//!
//! # async fn demo() -> doctalk_store::Result<()> {
//! let store = Store::open(std::path::Path::new("/tmp/doctalk-index")).await?;
//! let doc = NewDocument {
//!     path: "/docs/travel.md".into(),
//!     title: "Travel policy".into(),
//!     format: "md".into(),
//!     content_hash: "9f2c…".into(),
//!     size_bytes: 1234,
//!     page_count: None,
//!     embedding_model: "bge-small-zh-v1.5".into(),
//!     diagnostics_json: "[]".into(),
//! };
//! let chunk = NewChunk {
//!     ordinal: 0,
//!     kind: doctalk_store::ChunkKind::Passage,
//!     text: "出差制度：差旅费按实报销。".into(),
//!     text_segmented: "出差 制度 差旅费 按 实 报销".into(),
//!     page: None,
//!     heading_path: vec!["Travel".into()],
//!     span_start: 0,
//!     span_end: 39,
//!     questions: vec![],
//!     answer: None,
//!     metadata_json: "{}".into(),
//!     engine: None,
//!     vector: vec![0.6, 0.8],
//! };
//! let committed = store.commit_document(doc, vec![chunk]).await?;
//! let dense = store.vector_search(&[0.6, 0.8], "bge-small-zh-v1.5", 5).await?;
//! let lexical = store.text_search("出差 制度", 5).await?;
//! assert_eq!(dense[0].chunk.doc_id, committed.id);
//! assert_eq!(lexical[0].chunk.text, "出差制度：差旅费按实报销。");
//! # Ok(())
//! # }
//! ```

mod ann;
mod error;
mod ids;
mod locations;
mod schema;
mod search;
mod store;
mod types;
mod write;

pub use ann::{VectorIndexStatus, ANN_MIN_ROWS};
pub use error::{Result, StoreError};
pub use store::{documents_of_damaged, is_object_store_uri, Store, TABLE_DIRS};
pub use types::{ChunkHit, ChunkKind, ChunkRecord, DocumentRecord, Location, NewChunk, NewDocument};
