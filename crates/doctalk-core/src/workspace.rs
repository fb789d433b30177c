//! A data directory with several named knowledge bases (work, personal, …), opened on first use
//! and kept open: what the server and the desktop app hold, so that every request can name the
//! knowledge base it is about.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::Mutex;

use crate::folders::{FolderWatcher, Folders};
use crate::{ConversationStore, CoreError, Embedder, KnowledgeBase, Result};

/// One open knowledge base and what belongs to it.
pub struct Library {
    pub name: String,
    pub kb: KnowledgeBase,
    pub conversations: ConversationStore,
    /// Where files uploaded through the server are kept (the desktop app ingests files in place).
    pub uploads_dir: PathBuf,
    /// The folders this knowledge base follows.
    pub folders: Arc<Folders>,
    /// Keeps the watched folders in sync while the server or the app runs (`None` for one-shot
    /// commands).
    watcher: Option<FolderWatcher>,
}

impl Library {
    /// Call after the list of watched folders changed: the watcher follows the new list and
    /// runs a pass. Without a watcher (one-shot commands) there is nothing to do.
    pub fn folders_changed(&self) {
        if let Some(watcher) = &self.watcher {
            watcher.refresh();
        }
    }

    /// Whether this knowledge base's folders are being followed.
    pub fn is_watching(&self) -> bool {
        self.watcher.is_some()
    }
}

/// A knowledge base as listed to the user.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
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
    /// Whether knowledge bases follow their watched folders once opened (server, desktop app).
    watch_folders: std::sync::atomic::AtomicBool,
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
            watch_folders: std::sync::atomic::AtomicBool::new(false),
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

    /// From now on every knowledge base follows its watched folders: those already open and
    /// every other one of the data directory are opened and start at once (a first pass picks up
    /// what changed while DocTalk was closed). For long-running doors only.
    pub async fn watch_folders(&self) -> Result<()> {
        self.watch_folders
            .store(true, std::sync::atomic::Ordering::SeqCst);
        // Libraries opened before the switch get a watcher by being reopened.
        self.open
            .lock()
            .await
            .retain(|_, library| library.watcher.is_some());
        self.list().await?;
        Ok(())
    }

    fn library(&self, name: &str, kb: KnowledgeBase) -> Library {
        let dir = self.kb_dir(name);
        let folders = Arc::new(Folders::new(&dir));
        let watcher = self
            .watch_folders
            .load(std::sync::atomic::Ordering::SeqCst)
            .then(|| {
                let kb_name = name.to_string();
                FolderWatcher::start(kb.clone(), folders.clone(), move |result| match result {
                    Ok(r) if !r.files.is_empty() || r.removed > 0 => tracing::info!(
                        kb = kb_name,
                        added = r.added,
                        changed = r.changed,
                        moved = r.moved,
                        removed = r.removed,
                        failed = r.failed,
                        "watched folders synced"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(kb = kb_name, error = %e, "syncing the watched folders failed"),
                })
            });
        Library {
            name: name.to_string(),
            kb,
            conversations: ConversationStore::new(dir.join("conversations")),
            uploads_dir: dir.join("uploads"),
            folders,
            watcher,
        }
    }
}
