//! Knowledge-base archives: one file that moves an index to another machine or backs it up.
//!
//! Format (version 2): a gzip stream of JSON lines. The first line is a header (format name and
//! version, the encoder and vector size the index was built with, counts); then one line per
//! document with all its chunks and their vectors, one per extra location, one with the knowledge
//! base's watched folders and the user's settings, one per conversation when the user chose to
//! include them, and last an `end` line with the SHA-256 of every line before it. Version 1 (no
//! settings, no conversations) is still read. The stream is independent of LanceDB's files, so an
//! archive is read the same way whatever the store version.
//!
//! Import builds the new knowledge base in a hidden directory beside its destination and renames
//! it into place only after the end line's checksum matched: a truncated or damaged archive, or one
//! from a newer DocTalk, leaves nothing behind. When the archive's encoder differs from this
//! machine's, the passages are embedded again from their stored text.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use doctalk_store::{ChunkRecord, DocumentRecord, NewChunk, NewDocument};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::folders::{Folders, WatchedFolder};
use crate::settings::Settings;
use crate::{Conversation, ConversationStore, CoreError, Embedder, KnowledgeBase, Result};

pub const FORMAT: &str = "doctalk-kb";
pub const VERSION: u32 = 2;
/// Documents committed per store commit while importing.
const IMPORT_BATCH: usize = 64;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchiveHeader {
    pub format: String,
    pub version: u32,
    pub doctalk: String,
    pub kb: String,
    pub encoder: String,
    pub dimension: usize,
    pub documents: usize,
    pub chunks: usize,
    /// Conversations included (0 when the user left them out).
    #[serde(default)]
    pub conversations: usize,
    pub created_at_ms: i64,
}

/// What an archive carries beside the index.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ArchiveExtras {
    /// The folders the knowledge base watches.
    pub folders: Vec<WatchedFolder>,
    /// The user's settings where the archive was made (language, script, model, voice).
    pub settings: Option<Settings>,
    /// The knowledge base's conversations, when the user chose to include them.
    pub conversations: Vec<Conversation>,
}

/// Gathers what an export of a knowledge base carries beside its index: its watched folders, the
/// data directory's settings (when the user saved any) and, if asked, its conversations.
pub fn extras(
    folders: &Folders,
    conversations: Option<&ConversationStore>,
    data_dir: &Path,
) -> Result<ArchiveExtras> {
    Ok(ArchiveExtras {
        folders: folders.list()?,
        settings: if Settings::path(data_dir).exists() {
            Some(Settings::load(data_dir)?)
        } else {
            None
        },
        conversations: match conversations {
            Some(store) => store.list()?,
            None => Vec::new(),
        },
    })
}

/// Makes an imported archive's settings this data directory's when it has none of its own (a new
/// machine, the "move" case); settings the user already has are never overwritten. Returns whether
/// they were adopted.
pub fn adopt_settings(report: &ImportReport, data_dir: &Path) -> Result<bool> {
    match &report.settings {
        Some(settings) if !Settings::path(data_dir).exists() => {
            settings.save(data_dir)?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

#[derive(Serialize, Deserialize)]
struct ArchivedDocument {
    path: String,
    title: String,
    format: String,
    content_hash: String,
    size_bytes: u64,
    page_count: Option<u32>,
    embedding_model: String,
    diagnostics_json: String,
    chunks: Vec<ChunkRecord>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Line {
    Document(ArchivedDocument),
    /// Another path of the document whose (first) path is `document`.
    Location {
        path: String,
        document: String,
    },
    /// The watched folders and the user's settings (version 2).
    Settings {
        folders: Vec<WatchedFolder>,
        settings: Option<Settings>,
    },
    /// One conversation (version 2, when included).
    Conversation(Conversation),
    End {
        sha256: String,
        lines: usize,
    },
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    pub header: ArchiveHeader,
    pub documents: usize,
    pub chunks: usize,
    /// True when the passages were embedded again (the archive's encoder is not this machine's).
    pub reembedded: bool,
    pub dir: PathBuf,
    /// Watched folders restored (they are followed where they exist on this machine).
    pub folders: usize,
    pub conversations: usize,
    /// The settings the archive carried (see [`adopt_settings`]).
    #[serde(skip)]
    pub settings: Option<Settings>,
}

fn bad(path: &Path, reason: impl Into<String>) -> CoreError {
    CoreError::Archive {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Writes lines and hashes them as they go.
struct LineWriter<W: Write> {
    out: W,
    hash: Sha256,
    lines: usize,
}

impl<W: Write> LineWriter<W> {
    fn line(&mut self, value: &impl Serialize) -> std::io::Result<()> {
        let mut bytes = serde_json::to_vec(value).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        self.hash.update(&bytes);
        self.lines += 1;
        self.out.write_all(&bytes)
    }
}

impl KnowledgeBase {
    /// Writes this knowledge base to `file` (written beside it, then renamed: an interrupted
    /// export never leaves a file that looks complete). `kb` names it in the header.
    pub async fn export_archive(
        &self,
        kb: &str,
        file: &Path,
        extras: &ArchiveExtras,
        progress: &(dyn Fn(usize, usize) + Send + Sync),
    ) -> Result<ArchiveHeader> {
        let io = |e: std::io::Error| bad(file, format!("cannot write: {e}"));
        let docs = self.store().list_documents().await?;
        let locations = self.store().locations().await?;
        let header = ArchiveHeader {
            format: FORMAT.into(),
            version: VERSION,
            doctalk: env!("CARGO_PKG_VERSION").into(),
            kb: kb.into(),
            encoder: self.embedder().model_id().into(),
            dimension: self.embedder().dimension(),
            documents: docs.len(),
            chunks: docs.iter().map(|d| d.chunk_count as usize).sum(),
            conversations: extras.conversations.len(),
            created_at_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
        };
        let partial = file.with_extension("partial");
        let handle = std::fs::File::create(&partial).map_err(io)?;
        let mut w = LineWriter {
            out: flate2::write::GzEncoder::new(std::io::BufWriter::new(handle), flate2::Compression::fast()),
            hash: Sha256::new(),
            lines: 0,
        };
        w.line(&header).map_err(io)?;
        for (i, doc) in docs.iter().enumerate() {
            let chunks = self.store().chunks_of(&doc.id).await?;
            w.line(&Line::Document(archived(doc, chunks))).map_err(io)?;
            progress(i + 1, docs.len());
        }
        let path_of: std::collections::HashMap<&str, &str> =
            docs.iter().map(|d| (d.id.as_str(), d.path.as_str())).collect();
        for location in &locations {
            if let Some(document) = path_of.get(location.doc_id.as_str()) {
                w.line(&Line::Location {
                    path: location.path.clone(),
                    document: document.to_string(),
                })
                .map_err(io)?;
            }
        }
        w.line(&Line::Settings {
            folders: extras.folders.clone(),
            settings: extras.settings.clone(),
        })
        .map_err(io)?;
        for conversation in &extras.conversations {
            w.line(&Line::Conversation(conversation.clone())).map_err(io)?;
        }
        let end = Line::End {
            sha256: hex::encode(w.hash.clone().finalize()),
            lines: w.lines,
        };
        w.line(&end).map_err(io)?;
        let buffered = w.out.finish().map_err(io)?;
        let handle = buffered.into_inner().map_err(|e| io(e.into_error()))?;
        handle.sync_all().map_err(io)?;
        std::fs::rename(&partial, file).map_err(io)?;
        Ok(header)
    }
}

fn archived(doc: &DocumentRecord, chunks: Vec<ChunkRecord>) -> ArchivedDocument {
    ArchivedDocument {
        path: doc.path.clone(),
        title: doc.title.clone(),
        format: doc.format.clone(),
        content_hash: doc.content_hash.clone(),
        size_bytes: doc.size_bytes,
        page_count: doc.page_count,
        embedding_model: doc.embedding_model.clone(),
        diagnostics_json: doc.diagnostics_json.clone(),
        chunks,
    }
}

/// Reads the header only (what `kb import` shows before it starts).
pub fn read_header(file: &Path) -> Result<ArchiveHeader> {
    let mut lines = open_lines(file)?;
    let first = first_line(file, lines.next())?;
    parse_header(file, &first)
}

fn first_line(file: &Path, line: Option<std::io::Result<String>>) -> Result<String> {
    line.ok_or_else(|| bad(file, "empty: not a DocTalk archive"))?
        .map_err(|e| bad(file, format!("not a DocTalk archive or damaged ({e})")))
}

fn open_lines(file: &Path) -> Result<std::io::Lines<BufReader<flate2::read::GzDecoder<std::fs::File>>>> {
    let handle = std::fs::File::open(file).map_err(|e| bad(file, format!("cannot open: {e}")))?;
    Ok(BufReader::new(flate2::read::GzDecoder::new(handle)).lines())
}

fn parse_header(file: &Path, line: &str) -> Result<ArchiveHeader> {
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|_| bad(file, "not a DocTalk archive (no header)"))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(bad(file, "not a DocTalk archive"));
    }
    let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
    if version > u64::from(VERSION) {
        return Err(bad(
            file,
            format!("made by a newer DocTalk (archive format {version}; this one reads up to {VERSION}): update DocTalk to import it"),
        ));
    }
    serde_json::from_value(value).map_err(|e| bad(file, format!("damaged header: {e}")))
}

/// Imports `file` as a new knowledge base in `dest` (which must not exist or be empty), using
/// `embedder` for search on this machine. On any error nothing is left at `dest`.
pub async fn import_archive(
    file: &Path,
    dest: &Path,
    embedder: Arc<dyn Embedder>,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<ImportReport> {
    if dest.exists()
        && std::fs::read_dir(dest)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(bad(
            file,
            format!(
                "{} already holds a knowledge base; import under another name",
                dest.display()
            ),
        ));
    }
    let parent = dest
        .parent()
        .ok_or_else(|| bad(file, "no place to import into"))?;
    std::fs::create_dir_all(parent)
        .map_err(|e| bad(file, format!("cannot create {}: {e}", parent.display())))?;
    let staging = parent.join(format!(
        ".import-{}-{}",
        dest.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&staging);
    let result = import_into(file, &staging, embedder, progress).await;
    match result {
        Ok(mut report) => {
            if dest.exists() {
                let _ = std::fs::remove_dir(dest);
            }
            std::fs::rename(&staging, dest).map_err(|e| {
                let _ = std::fs::remove_dir_all(&staging);
                bad(file, format!("cannot move the imported index into place: {e}"))
            })?;
            report.dir = dest.to_path_buf();
            Ok(report)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(e)
        }
    }
}

async fn import_into(
    file: &Path,
    staging: &Path,
    embedder: Arc<dyn Embedder>,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<ImportReport> {
    let mut lines = open_lines(file)?;
    let first = first_line(file, lines.next())?;
    let header = parse_header(file, &first)?;
    let mut hash = Sha256::new();
    hash.update(first.as_bytes());
    hash.update(b"\n");
    let kb = KnowledgeBase::open(staging, embedder.clone()).await?;
    let reembed = header.encoder != embedder.model_id();
    let mut pending: Vec<(NewDocument, Vec<NewChunk>)> = Vec::new();
    let mut locations: Vec<(String, String)> = Vec::new();
    let mut restored = ArchiveExtras::default();
    let (mut documents, mut chunks, mut count) = (0usize, 0usize, 1usize);
    let mut end = None;
    for line in lines {
        let line = line.map_err(|e| bad(file, format!("damaged or cut short ({e})")))?;
        if end.is_some() {
            return Err(bad(file, "data after the end mark"));
        }
        let parsed: Line =
            serde_json::from_str(&line).map_err(|e| bad(file, format!("damaged line {}: {e}", count + 1)))?;
        match parsed {
            Line::End { sha256, lines } => {
                let actual = hex::encode(hash.clone().finalize());
                if actual != sha256 || lines != count {
                    return Err(bad(file, "checksum mismatch: the archive was altered or damaged"));
                }
                end = Some(());
                continue;
            }
            Line::Document(doc) => {
                documents += 1;
                chunks += doc.chunks.len();
                pending.push(new_document(&kb, doc, reembed).await?);
                progress(documents, header.documents);
            }
            Line::Location { path, document } => locations.push((path, document)),
            Line::Settings { folders, settings } => {
                restored.folders = folders;
                restored.settings = settings;
            }
            Line::Conversation(conversation) => restored.conversations.push(conversation),
        }
        hash.update(line.as_bytes());
        hash.update(b"\n");
        count += 1;
        if pending.len() >= IMPORT_BATCH {
            kb.store().commit_documents(std::mem::take(&mut pending)).await?;
        }
    }
    if end.is_none() {
        return Err(bad(
            file,
            "cut short: the end mark is missing (was the copy interrupted?)",
        ));
    }
    kb.store().commit_documents(pending).await?;
    for (path, document) in locations {
        if let Some(doc) = kb.store().document_by_path(&document).await? {
            kb.store().add_location(&path, &doc.id).await?;
        }
    }
    kb.store().optimize().await?;
    // Beside the index, in the same staging directory: all of it appears at once or none.
    Folders::new(staging).restore(&restored.folders)?;
    let conversations = ConversationStore::new(staging.join("conversations"));
    for conversation in &restored.conversations {
        conversations.save(conversation)?;
    }
    Ok(ImportReport {
        header,
        documents,
        chunks,
        reembedded: reembed,
        dir: staging.to_path_buf(),
        folders: restored.folders.len(),
        conversations: restored.conversations.len(),
        settings: restored.settings,
    })
}

async fn new_document(
    kb: &KnowledgeBase,
    doc: ArchivedDocument,
    reembed: bool,
) -> Result<(NewDocument, Vec<NewChunk>)> {
    let vectors: Vec<Vec<f32>> = if reembed {
        let texts = doc.chunks.iter().map(crate::index_form::reindex_text).collect();
        kb.embed_passages(texts).await?
    } else {
        doc.chunks.iter().map(|c| c.vector.clone()).collect()
    };
    let model = if reembed {
        kb.embedder().model_id().to_string()
    } else {
        doc.embedding_model.clone()
    };
    let chunks = doc
        .chunks
        .into_iter()
        .zip(vectors)
        .map(|(c, vector)| c.into_new_chunk(vector))
        .collect();
    Ok((
        NewDocument {
            path: doc.path,
            title: doc.title,
            format: doc.format,
            content_hash: doc.content_hash,
            size_bytes: doc.size_bytes,
            page_count: doc.page_count,
            embedding_model: model,
            diagnostics_json: doc.diagnostics_json,
        },
        chunks,
    ))
}
