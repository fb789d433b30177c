use std::path::PathBuf;

/// Errors of the knowledge-base façade. Per-file ingest problems are not errors: they are
/// reported in [`crate::FileReport`]s so that one bad file never fails a batch.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error(transparent)]
    Store(#[from] doctalk_store::StoreError),
    #[error(transparent)]
    Model(#[from] doctalk_models::ModelError),
    #[error(transparent)]
    Ingest(#[from] doctalk_ingest::IngestError),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no document matches {0:?} (use an id or a path shown by `doctalk list`)")]
    NoSuchDocument(String),
    #[error("no document of the knowledge base is in the folder {0:?} (add it first, or check the path)")]
    EmptyFolder(String),
    #[error("knowledge-base names use letters, digits, '-' and '_' only (1 to 64): {0:?}")]
    BadKbName(String),
    #[error("no knowledge base {0:?} (create it first)")]
    NoSuchKb(String),
    #[error("cannot write the sample knowledge base to {path}: {source}", path = .path.display())]
    Sample {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read or write the settings {path}: {reason}", path = .path.display())]
    Settings { path: PathBuf, reason: String },
    #[error("bad settings: {0}")]
    BadSettings(String),
    #[error("the knowledge base has no documents yet: add some first (`doctalk ingest PATH`, or drop files on the app), then check its answers")]
    EmptyKnowledgeBase,
    #[error("no question–answer pairs in {0} (an FAQ export with question and answer columns, e.g. 问题/答案, or a knowledge base with such a file)")]
    NoFaqPairs(String),
    #[error("no LoRA adapter {choice:?}: not a path, and not a name in {dir} (a PEFT directory NAME/ or NAME.gguf)", dir = .dir.display())]
    NoSuchAdapter { choice: String, dir: PathBuf },
    #[error("a background task failed: {0}")]
    Task(String),
    #[error("the question is empty")]
    EmptyQuestion,
    #[error("no conversation {0:?} (use an id shown by `doctalk chat` or the conversations API)")]
    NoSuchConversation(String),
    #[error("cannot read or write conversation {path}: {reason}", path = .path.display())]
    Conversation { path: PathBuf, reason: String },
    /// A knowledge-base archive that cannot be written or read.
    #[error("archive {path}: {reason}", path = .path.display())]
    Archive { path: PathBuf, reason: String },
    /// A watched folder, its list or its state file.
    #[error("{path}: {reason}", path = .path.display())]
    Folder { path: PathBuf, reason: String },
    /// An evaluation dataset (BEIR folder) is missing a file or malformed.
    #[error("bad dataset file {path}: {reason}", path = .path.display())]
    Dataset { path: PathBuf, reason: String },
    /// A local index whose files are damaged or missing (a deleted or half-written fragment).
    #[error("the index in {path} is damaged ({reason}); `doctalk kb repair` rebuilds it from your files and keeps the damaged copy", path = .path.display())]
    Damaged { path: PathBuf, reason: String },
    /// The team server's user list (`users.json`) cannot be read or written.
    #[error("users file {path}: {reason}", path = .path.display())]
    Users { path: PathBuf, reason: String },
    #[error("user names use letters, digits, '.', '-' and '_' only (1 to 64): {0:?}")]
    BadUserName(String),
    #[error("no user {0:?} (see `doctalk users list`)")]
    NoSuchUser(String),
    #[error("there is already a user {0:?} (`doctalk users token {0}` gives them a new token)")]
    UserExists(String),
}

pub type Result<T, E = CoreError> = std::result::Result<T, E>;

/// A model's files not found or not downloaded: a model error like any other to the caller.
impl From<doctalk_models::CatalogError> for CoreError {
    fn from(e: doctalk_models::CatalogError) -> Self {
        CoreError::Model(e.into())
    }
}
