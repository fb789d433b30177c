//! The DocTalk engine façade used by every shell (CLI, server, desktop).
//!
//! A [`KnowledgeBase`] ties the parsers (`doctalk-ingest`), an [`Embedder`] and the store
//! (`doctalk-store`) together: [`KnowledgeBase::ingest`] turns files into committed documents
//! with per-file [`FileReport`]s and progress [`IngestEvent`]s; [`KnowledgeBase::search`] runs
//! hybrid retrieval (dense + BM25: cosine with BM25 settling near ties, FAQ near-exact matches and
//! passages holding the query's identifiers first) and
//! returns [`SearchHit`]s that carry both component scores.
//!
//! ```no_run
//! # async fn demo(embedder: std::sync::Arc<dyn doctalk_core::Embedder>) -> doctalk_core::Result<()> {
//! use doctalk_core::KnowledgeBase;
//! let kb = KnowledgeBase::open("/tmp/kb".as_ref(), embedder).await?;
//! kb.ingest(&["handbook.pdf".into()], &|_event| {}).await?;
//! for hit in kb.search("请问商旅的出差制度", 5).await? {
//!     println!("{} p.{:?}: {}", hit.title, hit.page, hit.text);
//! }
//! # Ok(()) }
//! ```

pub mod across;
pub mod adapters;
pub mod answer;
pub mod answer_check;
pub mod archive;
pub mod audit;
pub mod conversations;
mod error;
pub mod eval;
mod explain;
pub mod folders;
pub mod fusion;
mod index_form;
mod ingest;
mod json_file;
mod kb;
pub mod local_model;
pub mod ocr;
mod passages;
pub mod repair;
pub mod sample;
mod scope;
mod search;
pub mod segment;
pub mod settings;
pub mod summary;
pub mod tuning;
pub mod users;
mod workspace;

pub use answer::{Answer, AnswerEvent, AnswerMode, AnswerRequest, Lang, Source, Turn};
pub use conversations::{Conversation, ConversationStore, ConversationSummary};
pub use doctalk_ingest::{OcrMode, PdfPassword};
pub use doctalk_models::Embedder;
pub use doctalk_store::ChunkKind;
pub use error::{CoreError, Result};
pub use explain::Explanation;
pub use ingest::{collect_files, FileReport, FileStatus, IngestEvent, IngestStage, ReportedDiagnostic};
pub use kb::{DocumentInfo, KnowledgeBase};
pub use passages::Passage;
pub use scope::{Scope, ScopeRequest};
pub use search::{Candidates, SearchHit};
pub use workspace::{valid_kb_name, KbSummary, Library, Workspace};

/// 简体 / 繁體: the script answers and transcripts are shown in.
pub use doctalk_models::script::ChineseScript;
