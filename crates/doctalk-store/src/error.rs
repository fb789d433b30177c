//! The one error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong in the store.
///
/// LanceDB failures keep the failing operation (`op`) and the original error as
/// the source, so a caller can log the chain and a user sees what was attempted.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store directory could not be created.
    #[error("cannot create the store directory {path}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The lock that keeps two processes from writing one store at once could not be taken.
    #[error("cannot lock {path} for writing")]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// LanceDB addresses a local store by a UTF-8 URI.
    #[error("the store directory {path} is not valid UTF-8")]
    NonUtf8Path { path: PathBuf },

    /// A LanceDB operation failed.
    #[error("LanceDB could not {op}")]
    Lance {
        op: &'static str,
        #[source]
        source: lancedb::Error,
    },

    /// One commit named the same path twice.
    #[error("the same path twice in one commit: {path}")]
    DuplicatePath { path: String },

    /// An internal commit gave back no document.
    #[error("a commit gave back no document")]
    EmptyBatch,

    /// A document cannot move to a path that another document has.
    #[error("another document is already stored at {path}")]
    PathTaken { path: String },

    /// Building or reading an Arrow batch failed.
    #[error("Arrow could not {op}")]
    Arrow {
        op: &'static str,
        #[source]
        source: arrow_schema::ArrowError,
    },

    /// A vector's length differs from the dimension the index was built with.
    /// The caller re-embeds everything (after [`crate::Store::reset_index`]).
    #[error("vector dimension mismatch: the index holds {expected}-d vectors, got {got}-d")]
    DimensionMismatch { expected: usize, got: usize },

    /// A vector of length zero cannot be stored or searched.
    #[error("empty embedding vector")]
    EmptyVector,

    /// Two chunks of one document claim the same ordinal (chunk ids would clash).
    #[error("chunk ordinal {ordinal} appears twice in document {path}")]
    DuplicateOrdinal { path: String, ordinal: u32 },

    /// A document with more chunks than a `u32` can count.
    #[error("document {path} has {count} chunks, more than the store can count")]
    TooManyChunks { path: String, count: usize },

    /// A table on disk lacks a column we wrote, or holds it with another type
    /// (a store written by an incompatible version).
    #[error("table {table} has no readable column {column}")]
    Schema {
        table: &'static str,
        column: &'static str,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Wraps a LanceDB error with the operation that failed.
pub(crate) fn lance(op: &'static str) -> impl FnOnce(lancedb::Error) -> StoreError {
    move |source| StoreError::Lance { op, source }
}

/// Wraps an Arrow error with the operation that failed.
pub(crate) fn arrow(op: &'static str) -> impl FnOnce(arrow_schema::ArrowError) -> StoreError {
    move |source| StoreError::Arrow { op, source }
}
