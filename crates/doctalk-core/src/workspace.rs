//! A data directory with several named knowledge bases (work, personal, …), opened on first use
//! and kept open: what the server and the desktop app hold, so that every request can name the
//! knowledge base it is about.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::Mutex;

use crate::{ConversationStore, CoreError, Embedder, KnowledgeBase, Result};

/// One open knowledge base and what belongs to it.
pub struct Library {
    pub name: String,
    pub kb: KnowledgeBase,
    pub conversations: ConversationStore,
    /// Where files uploaded through the server are kept (the desktop app ingests files in place).
    pub uploads_dir: PathBuf,
}

/// A knowledge base as listed to the user.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KbSummary {
    pub name: String,
    pub documents: usize,
}

/// The knowledge bases of one data directory.
pub struct Workspace {
    data_dir: PathBuf,
    /// The index on shared object storage instead of the data directory (`s3://…`).
    store_uri: Option<String>,
    embedder: Arc<dyn Embedder>,
    default_kb: String,
    open: Mutex<BTreeMap<String, Arc<Library>>>,
}

/// Knowledge-base names become directory names: letters, digits, `-` and `_`, 1 to 64 of them.
pub fn valid_kb_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= 64
        && name.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_')
}

impl Workspace {
    pub fn new(
        data_dir: impl Into<PathBuf>,
        store_uri: Option<String>,
        embedder: Arc<dyn Embedder>,
        default_kb: impl Into<String>,
    ) -> Self {
        Workspace {
            data_dir: data_dir.into(),
            store_uri,
            embedder,
            default_kb: default_kb.into(),
            open: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn default_kb(&self) -> &str {
        &self.default_kb
    }

    pub fn embedder(&self) -> &Arc<dyn Embedder> {
        &self.embedder
    }

    /// Where knowledge base `name` keeps its local files (conversations, uploads and, without a
    /// store URI, the index).
    pub fn kb_dir(&self, name: &str) -> PathBuf {
        self.data_dir.join("kb").join(name)
    }

    /// Adds an already opened knowledge base (the CLI opens the default one itself, with a progress
    /// bar for re-embedding).
    pub async fn insert(&self, name: &str, kb: KnowledgeBase) -> Arc<Library> {
        let library = Arc::new(self.library(name, kb));
        self.open.lock().await.insert(name.to_string(), library.clone());
        library
    }

    /// Knowledge base `name` (`None`: the default one). Names that were never created are an
    /// error, so that a typo does not silently start an empty knowledge base.
    pub async fn get(&self, name: Option<&str>) -> Result<Arc<Library>> {
        let name = name.unwrap_or(&self.default_kb);
        if !valid_kb_name(name) {
            return Err(CoreError::BadKbName(name.to_string()));
        }
        if name != self.default_kb && !self.kb_dir(name).is_dir() {
            return Err(CoreError::NoSuchKb(name.to_string()));
        }
        self.open_or_create(name).await
    }

    /// Creates knowledge base `name` (opening it if it exists).
    pub async fn create(&self, name: &str) -> Result<Arc<Library>> {
        if !valid_kb_name(name) {
            return Err(CoreError::BadKbName(name.to_string()));
        }
        self.open_or_create(name).await
    }

    /// Every knowledge base of the data directory (and the default one even before it has files),
    /// with its document count.
    pub async fn list(&self) -> Result<Vec<KbSummary>> {
        let mut names = vec![self.default_kb.clone()];
        if let Ok(entries) = std::fs::read_dir(self.data_dir.join("kb")) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().to_string();
                if entry.path().is_dir() && valid_kb_name(&name) && !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names.sort();
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let library = self.open_or_create(&name).await?;
            out.push(KbSummary {
                documents: library.kb.documents().await?.len(),
                name,
            });
        }
        Ok(out)
    }

    async fn open_or_create(&self, name: &str) -> Result<Arc<Library>> {
        let mut open = self.open.lock().await;
        if let Some(library) = open.get(name) {
            return Ok(library.clone());
        }
        std::fs::create_dir_all(self.kb_dir(name)).map_err(|source| CoreError::DataDir {
            path: self.kb_dir(name),
            source,
        })?;
        let kb = match &self.store_uri {
            Some(uri) => {
                let uri = format!("{}/{name}", uri.trim_end_matches('/'));
                KnowledgeBase::open_uri(&uri, self.embedder.clone()).await?
            }
            None => KnowledgeBase::open(&self.kb_dir(name), self.embedder.clone()).await?,
        };
        // Vectors of two models must never be mixed: bring older documents to the current model.
        if !kb.stale_documents().await?.is_empty() {
            tracing::info!(kb = name, "re-embedding documents made by another model");
            kb.reembed_stale(&|_, _| {}).await?;
        }
        let library = Arc::new(self.library(name, kb));
        open.insert(name.to_string(), library.clone());
        Ok(library)
    }

    fn library(&self, name: &str, kb: KnowledgeBase) -> Library {
        let dir = self.kb_dir(name);
        Library {
            name: name.to_string(),
            kb,
            conversations: ConversationStore::new(dir.join("conversations")),
            uploads_dir: dir.join("uploads"),
        }
    }
}
