//! Ingest jobs: files and folders → parsed, chunked, embedded, committed documents.
//!
//! Each file is handled on its own: a parse failure becomes a `Failed` report and the batch
//! goes on. A file is committed in one store call after all of its chunks are embedded, so a
//! killed job leaves every file either fully indexed or not indexed; re-running the job skips
//! the files already committed (same content hash, same embedding model).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use doctalk_ingest::{chunk_document, detect_format, parse_file, Chunk, ChunkKind, Document, OcrProgress};
use doctalk_store::{NewChunk, NewDocument};
use sha2::{Digest, Sha256};

use crate::index_form::{index_text, path_key};
use crate::kb::KnowledgeBase;
use crate::{segment, CoreError, Result};

/// Chunks embedded per call; small enough to report progress often on slow CPUs.
const EMBED_BATCH: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    /// Parsed, embedded and committed (new or changed file).
    Indexed,
    /// Already indexed with the same content and embedding model: nothing to do.
    Unchanged,
    /// Nothing was indexed; see the diagnostics. A previous version, if any, stays searchable.
    Failed,
    /// The content of a document whose file is gone: the document moved here with its vectors
    /// (a renamed or moved file); `same_as` is where it was.
    Moved,
    /// The same content as another indexed file (`same_as`): recorded as another location of
    /// that document, with no chunks of its own.
    Duplicate,
}

impl FileStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Indexed => "indexed",
            FileStatus::Unchanged => "unchanged",
            FileStatus::Failed => "failed",
            FileStatus::Moved => "moved",
            FileStatus::Duplicate => "duplicate",
        }
    }
}

/// A diagnostic as shown to users: a stable code, a message, maybe a page.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct ReportedDiagnostic {
    pub code: String,
    pub message: String,
    pub page: Option<u32>,
}

/// The outcome for one file of an ingest job.
#[derive(Debug, Clone, PartialEq, serde::Serialize, ts_rs::TS)]
pub struct FileReport {
    pub path: PathBuf,
    pub status: FileStatus,
    pub doc_id: Option<String>,
    pub pages: Option<u32>,
    pub chunks: usize,
    pub diagnostics: Vec<ReportedDiagnostic>,
    /// For `Moved`: the path the document had; for `Duplicate`: the file with the same content.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub same_as: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(tag = "stage", rename_all = "lowercase")]
pub enum IngestStage {
    Parse,
    /// `eta_s`: seconds of embedding left for this file, from the pace so far (none before the
    /// first batch is done).
    Embed {
        done: usize,
        total: usize,
        eta_s: Option<u32>,
    },
    /// Pages read by OCR so far (scanned pages, pictures): `done` of `total`.
    Ocr {
        done: u32,
        total: u32,
    },
    Commit,
}

/// Progress of an ingest job, in order, for progress bars and the UI.
#[derive(Debug, Clone, PartialEq, serde::Serialize, ts_rs::TS)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum IngestEvent {
    FileStarted {
        path: PathBuf,
        index: usize,
        total: usize,
    },
    Stage {
        path: PathBuf,
        stage: IngestStage,
    },
    FileFinished(FileReport),
}

/// Expands files and folders (recursively, sorted, hidden entries skipped) into the files
/// DocTalk can parse. Paths that do not exist, and explicitly named files of an unsupported
/// type, come back as `Failed` reports so that the user sees them.
pub fn collect_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<FileReport>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Err(e) => problems.push(failed(path, "io", format!("cannot read {}: {e}", path.display()))),
            Ok(meta) if meta.is_dir() => walk(path, &mut files),
            Ok(_) if detect_format(path).is_none() => problems.push(failed(
                path,
                "unsupported",
                format!("{}: unsupported file type", path.display()),
            )),
            Ok(_) => files.push(path.clone()),
        }
    }
    files.dedup();
    (files, problems)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        // file_type() does not follow symlinks, so a link loop cannot recurse forever.
        let Ok(kind) = entry.file_type() else { continue };
        let path = entry.path();
        if kind.is_dir() {
            walk(&path, out);
        } else if detect_format(&path).is_some() && std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            out.push(path);
        }
    }
}

fn failed(path: &Path, code: &str, message: String) -> FileReport {
    FileReport {
        path: path.to_path_buf(),
        status: FileStatus::Failed,
        doc_id: None,
        pages: None,
        chunks: 0,
        diagnostics: vec![ReportedDiagnostic {
            code: code.to_string(),
            message,
            page: None,
        }],
        same_as: None,
    }
}

fn file_exists(path: &str) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((hex::encode(hasher.finalize()), size))
}

fn chunk_index_text(chunk: &Chunk) -> String {
    index_text(
        chunk.kind == ChunkKind::Qa,
        &chunk.questions,
        chunk.answer.as_deref(),
        &chunk.heading_path,
        chunk.page,
        &chunk.text,
    )
}

/// A chunk's stored metadata: an FAQ row's extra columns plus its row number (for citations).
fn chunk_metadata(doc: &Document, chunk: &Chunk) -> String {
    let mut meta: serde_json::Map<String, serde_json::Value> = chunk
        .metadata
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    if let Some(doctalk_ingest::Block::Qa(qa)) = doc.blocks.get(chunk.block_index) {
        meta.insert("row".into(), qa.row.into());
    }
    serde_json::Value::Object(meta).to_string()
}

/// Seconds left at the pace so far: `elapsed` for `done` of `total` items (none before any is done).
fn eta_seconds(elapsed: f64, done: usize, total: usize) -> Option<u32> {
    if done == 0 || done > total {
        return None;
    }
    Some((elapsed / done as f64 * (total - done) as f64).round() as u32)
}

fn diagnostics_of(doc: &Document) -> Vec<ReportedDiagnostic> {
    doc.diagnostics
        .iter()
        .map(|d| ReportedDiagnostic {
            code: d.code.as_str().to_string(),
            message: d.message.clone(),
            page: d.page,
        })
        .collect()
}

/// What the index held when an ingest job started, plus what the job added: paths, extra
/// locations and content hashes. Lets a new file skip the store lookups (several per file, each a
/// table scan) when nothing can match it; a possible match is always checked in the store, so a
/// stale entry only costs a lookup.
struct Known {
    paths: std::collections::HashSet<String>,
    locations: std::collections::HashSet<String>,
    hashes: std::collections::HashSet<String>,
}

impl Known {
    /// The set, even after a panic elsewhere poisoned its lock (it holds only hints).
    fn lock(known: &std::sync::Mutex<Known>) -> std::sync::MutexGuard<'_, Known> {
        known.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn load(kb: &KnowledgeBase) -> Result<Known> {
        let docs = kb.store().list_documents().await?;
        let locations = kb.store().locations().await?;
        Ok(Known {
            paths: docs.iter().map(|d| d.path.clone()).collect(),
            hashes: docs.into_iter().map(|d| d.content_hash).collect(),
            locations: locations.into_iter().map(|l| l.path).collect(),
        })
    }

    /// A file settled as a copy or a move now has a location or a document at `key`.
    fn settled(&mut self, report: &FileReport, key: &str) {
        match report.status {
            FileStatus::Duplicate => self.locations.insert(key.to_string()),
            _ => self.paths.insert(key.to_string()),
        };
    }
}

/// Embedded files waiting to be committed together. Each store commit costs the same few table
/// versions whatever it holds, so a folder of small files (FAQ exports, notes) is committed in
/// groups; a kill loses at most the group, which the next run indexes again.
#[derive(Default)]
struct PendingCommit {
    files: Vec<(NewDocument, Vec<NewChunk>, FileReport)>,
    chunks: usize,
    hashes: std::collections::HashSet<String>,
    since: Option<std::time::Instant>,
}

impl PendingCommit {
    const MAX_FILES: usize = 64;
    const MAX_CHUNKS: usize = 256;
    /// Progress users see advances at commits: never wait longer than this for a group to fill.
    const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

    fn push(&mut self, doc: NewDocument, chunks: Vec<NewChunk>, report: FileReport) {
        self.since.get_or_insert_with(std::time::Instant::now);
        self.chunks += chunks.len();
        self.hashes.insert(doc.content_hash.clone());
        self.files.push((doc, chunks, report));
    }

    fn is_due(&self) -> bool {
        self.files.len() >= Self::MAX_FILES
            || self.chunks >= Self::MAX_CHUNKS
            || self.since.is_some_and(|t| t.elapsed() >= Self::MAX_WAIT)
    }
}

/// A file ready to embed, or already settled (unchanged, unreadable, no text), or one whose
/// content is already indexed under another path (settled when its turn comes, since an
/// earlier file of the same batch may change what it is).
enum Prepared {
    Done(FileReport),
    SameContent {
        key: String,
        hash: String,
        model_id: String,
    },
    Parsed(Box<Parsed>),
}

fn same_content_report(path: &Path, status: FileStatus, doc: &doctalk_store::DocumentRecord) -> FileReport {
    FileReport {
        path: path.to_path_buf(),
        status,
        doc_id: Some(doc.id.clone()),
        pages: doc.page_count,
        chunks: doc.chunk_count as usize,
        diagnostics: serde_json::from_str(&doc.diagnostics_json).unwrap_or_default(),
        same_as: Some(doc.path.clone()),
    }
}

struct Parsed {
    key: String,
    hash: String,
    size: u64,
    model_id: String,
    doc: Document,
    chunks: Vec<Chunk>,
    diagnostics: Vec<ReportedDiagnostic>,
}

impl KnowledgeBase {
    /// Ingests files and folders. Returns one report per file (including paths that could not
    /// be read); only store failures are errors.
    pub async fn ingest(
        &self,
        paths: &[PathBuf],
        progress: &(dyn Fn(IngestEvent) + Send + Sync),
    ) -> Result<Vec<FileReport>> {
        self.ingest_with(paths, false, progress).await
    }

    /// Parses, embeds and commits document `key` (id, id prefix or path) again from its file, even
    /// if the file did not change: after a parser upgrade, or when the user asks. The indexed
    /// version stays searchable until the new one is committed, and stays if the file is gone or
    /// cannot be read any more.
    pub async fn reindex(
        &self,
        key: &str,
        progress: &(dyn Fn(IngestEvent) + Send + Sync),
    ) -> Result<FileReport> {
        let doc = self
            .find_document(key)
            .await?
            .ok_or_else(|| CoreError::NoSuchDocument(key.to_string()))?;
        let reports = self
            .ingest_with(&[PathBuf::from(&doc.path)], true, progress)
            .await?;
        reports
            .into_iter()
            .next()
            .ok_or_else(|| CoreError::Task(format!("re-indexing {} gave no report", doc.path)))
    }

    async fn ingest_with(
        &self,
        paths: &[PathBuf],
        force: bool,
        progress: &(dyn Fn(IngestEvent) + Send + Sync),
    ) -> Result<Vec<FileReport>> {
        let (files, mut reports) = collect_files(paths);
        for r in &reports {
            progress(IngestEvent::FileFinished(r.clone()));
        }
        let total = files.len();
        // One file is parsed while the one before it is embedded and committed: parsing is
        // single-threaded (and commits wait on the disk), so this keeps both cores busy.
        let mut pending = None;
        let mut commits = PendingCommit::default();
        let known = std::sync::Mutex::new(Known::load(self).await?);
        for (index, path) in files.iter().enumerate() {
            progress(IngestEvent::FileStarted {
                path: path.clone(),
                index,
                total,
            });
            progress(IngestEvent::Stage {
                path: path.clone(),
                stage: IngestStage::Parse,
            });
            let prepared = match pending.take() {
                Some(prepared) => prepared,
                None => self.prepare(path, force, &known, progress).await?,
            };
            let finished = match files.get(index + 1) {
                Some(next) => {
                    let (finished, next) = tokio::join!(
                        self.finish(path, prepared, &mut commits, &known, progress),
                        self.prepare(next, force, &known, progress)
                    );
                    pending = Some(next?);
                    finished?
                }
                None => {
                    self.finish(path, prepared, &mut commits, &known, progress)
                        .await?
                }
            };
            for report in finished {
                progress(IngestEvent::FileFinished(report.clone()));
                reports.push(report);
            }
        }
        for report in self.flush(&mut commits, &known).await? {
            progress(IngestEvent::FileFinished(report.clone()));
            reports.push(report);
        }
        if reports.iter().any(|r| r.status == FileStatus::Indexed) {
            // Merges the small files commits leave and refreshes the full-text index once they
            // add up; without it search slows down as documents accumulate.
            self.store().optimize_if_due().await?;
        }
        Ok(reports)
    }

    /// Everything before embedding: the unchanged-file check, parsing and chunking. Its only
    /// progress is OCR's pages (`IngestStage::Ocr`); when it runs ahead, while the previous file is
    /// being embedded, those events come before the file's `FileStarted`.
    async fn prepare(
        &self,
        path: &Path,
        force: bool,
        known: &std::sync::Mutex<Known>,
        progress: &(dyn Fn(IngestEvent) + Send + Sync),
    ) -> Result<Prepared> {
        let key = path_key(path);
        let (hash, size) = match hash_file(path) {
            Ok(v) => v,
            Err(e) => {
                return Ok(Prepared::Done(failed(
                    path,
                    "io",
                    format!("cannot read {}: {e}", path.display()),
                )))
            }
        };
        let model_id = self.embedder().model_id().to_string();
        let (known_path, known_location, known_content) = {
            let k = Known::lock(known);
            (
                k.paths.contains(&key),
                k.locations.contains(&key),
                k.hashes.contains(&hash),
            )
        };
        let existing = match known_path {
            true => self.store().document_by_path(&key).await?,
            false => None,
        };
        if let Some(existing) = existing {
            if !force && existing.content_hash == hash && existing.embedding_model == model_id {
                return Ok(Prepared::Done(FileReport {
                    path: path.to_path_buf(),
                    status: FileStatus::Unchanged,
                    doc_id: Some(existing.id),
                    pages: existing.page_count,
                    chunks: existing.chunk_count as usize,
                    diagnostics: serde_json::from_str(&existing.diagnostics_json).unwrap_or_default(),
                    same_as: None,
                }));
            }
        }
        if !force {
            let location = match known_location {
                true => self.store().location_at(&key).await?,
                false => None,
            };
            if let Some(location) = location {
                match self.store().document(&location.doc_id).await? {
                    Some(owner) if owner.content_hash == hash && owner.embedding_model == model_id => {
                        return Ok(Prepared::Done(same_content_report(
                            path,
                            FileStatus::Duplicate,
                            &owner,
                        )));
                    }
                    // The copy changed: it is a document of its own from now on.
                    _ => {
                        self.store().remove_location(&key).await?;
                    }
                }
            }
            if known_content
                && self
                    .same_content_elsewhere(&key, &hash, &model_id)
                    .await?
                    .is_some()
            {
                return Ok(Prepared::SameContent { key, hash, model_id });
            }
        }
        let mut parse_opts = self.parse_options().clone();
        // OCR reports each page from the parsing thread; the events reach `progress` here.
        let (pages_tx, mut pages_rx) = tokio::sync::mpsc::unbounded_channel();
        parse_opts.ocr.progress = Some(Arc::new(move |p: OcrProgress| {
            let _ = pages_tx.send(p);
        }));
        let chunk_cfg = *self.chunk_config();
        let owned = path.to_path_buf();
        let mut task = tokio::task::spawn_blocking(move || {
            parse_file(&owned, &parse_opts).map(|doc| {
                let chunks = chunk_document(&doc, &chunk_cfg);
                (doc, chunks)
            })
        });
        let ocr_page = |p: OcrProgress| {
            progress(IngestEvent::Stage {
                path: path.to_path_buf(),
                stage: IngestStage::Ocr {
                    done: p.done,
                    total: p.total,
                },
            })
        };
        let joined = loop {
            tokio::select! {
                // Pages first: the last page's event must not lose the race with the end of parsing.
                biased;
                Some(p) = pages_rx.recv() => ocr_page(p),
                joined = &mut task => break joined,
            }
        };
        while let Ok(p) = pages_rx.try_recv() {
            ocr_page(p);
        }
        let parsed = joined.map_err(|e| CoreError::Task(format!("parsing {}: {e}", path.display())))?;
        let (doc, chunks) = match parsed {
            Ok(v) => v,
            Err(e) => return Ok(Prepared::Done(failed(path, e.code(), e.to_string()))),
        };
        let diagnostics = diagnostics_of(&doc);
        if chunks.is_empty() {
            let mut report = failed(
                path,
                "no_text",
                format!("{}: no indexable text was found", path.display()),
            );
            report.pages = doc.page_count;
            report.diagnostics.splice(0..0, diagnostics);
            return Ok(Prepared::Done(report));
        }
        Ok(Prepared::Parsed(Box::new(Parsed {
            key,
            hash,
            size,
            model_id,
            doc,
            chunks,
            diagnostics,
        })))
    }

    /// Embeds a prepared file and queues it for the next group commit. Returns the reports of
    /// the files this call finished: the file itself when it needed no commit, and the files
    /// of a group it committed.
    async fn finish(
        &self,
        path: &Path,
        prepared: Prepared,
        commits: &mut PendingCommit,
        known: &std::sync::Mutex<Known>,
        progress: &(dyn Fn(IngestEvent) + Send + Sync),
    ) -> Result<Vec<FileReport>> {
        // Same content as a file waiting in the group: commit the group first, so that this
        // file is recognised as its copy.
        let mut finished = match &prepared {
            Prepared::SameContent { hash, .. } if commits.hashes.contains(hash) => {
                self.flush(commits, known).await?
            }
            Prepared::Parsed(parsed) if commits.hashes.contains(&parsed.hash) => {
                self.flush(commits, known).await?
            }
            _ => Vec::new(),
        };
        if let Some(report) = self.settle(path, prepared, commits, known, progress).await? {
            finished.push(report);
        }
        if commits.is_due() {
            finished.extend(self.flush(commits, known).await?);
        }
        Ok(finished)
    }

    /// Commits the queued group in one store commit.
    async fn flush(
        &self,
        commits: &mut PendingCommit,
        known: &std::sync::Mutex<Known>,
    ) -> Result<Vec<FileReport>> {
        let files = std::mem::take(commits).files;
        if files.is_empty() {
            return Ok(Vec::new());
        }
        let (docs, mut reports): (Vec<_>, Vec<_>) = files
            .into_iter()
            .map(|(doc, chunks, report)| ((doc, chunks), report))
            .unzip();
        let records = self.store().commit_documents(docs).await?;
        {
            let mut k = Known::lock(known);
            for record in &records {
                k.paths.insert(record.path.clone());
                k.hashes.insert(record.content_hash.clone());
            }
        }
        for (report, record) in reports.iter_mut().zip(records) {
            report.doc_id = Some(record.id);
        }
        Ok(reports)
    }

    /// A file's outcome when it needs no commit, or `None` once it is embedded and queued.
    async fn settle(
        &self,
        path: &Path,
        prepared: Prepared,
        commits: &mut PendingCommit,
        known: &std::sync::Mutex<Known>,
        progress: &(dyn Fn(IngestEvent) + Send + Sync),
    ) -> Result<Option<FileReport>> {
        let Parsed {
            key,
            hash,
            size,
            model_id,
            doc,
            chunks,
            diagnostics,
        } = match prepared {
            Prepared::Done(report) => return Ok(Some(report)),
            Prepared::SameContent { key, hash, model_id } => {
                if let Some(report) = self.settle_same_content(path, &key, &hash, &model_id).await? {
                    Known::lock(known).settled(&report, &key);
                    return Ok(Some(report));
                }
                // The other copy went away meanwhile: index this one on its own.
                match self.prepare(path, true, known, progress).await? {
                    Prepared::Parsed(parsed) => *parsed,
                    Prepared::Done(report) => return Ok(Some(report)),
                    Prepared::SameContent { .. } => {
                        return Err(CoreError::Task(format!(
                            "{} was deduplicated twice",
                            path.display()
                        )))
                    }
                }
            }
            Prepared::Parsed(parsed) => {
                // An earlier file of this job may have committed the same content.
                let maybe = Known::lock(known).hashes.contains(&parsed.hash);
                if maybe {
                    if let Some(report) = self
                        .settle_same_content(path, &parsed.key, &parsed.hash, &parsed.model_id)
                        .await?
                    {
                        Known::lock(known).settled(&report, &parsed.key);
                        return Ok(Some(report));
                    }
                }
                *parsed
            }
        };
        let texts: Vec<String> = chunks.iter().map(chunk_index_text).collect();
        let mut vectors = Vec::with_capacity(texts.len());
        let embed_started = std::time::Instant::now();
        let embed_stage = |done: usize| IngestStage::Embed {
            done,
            total: texts.len(),
            eta_s: eta_seconds(embed_started.elapsed().as_secs_f64(), done, texts.len()),
        };
        for batch in texts.chunks(EMBED_BATCH) {
            progress(IngestEvent::Stage {
                path: path.to_path_buf(),
                stage: embed_stage(vectors.len()),
            });
            vectors.extend(self.embed_passages(batch.to_vec()).await?);
        }
        progress(IngestEvent::Stage {
            path: path.to_path_buf(),
            stage: embed_stage(vectors.len()),
        });

        progress(IngestEvent::Stage {
            path: path.to_path_buf(),
            stage: IngestStage::Commit,
        });
        let new_chunks: Vec<NewChunk> = chunks
            .iter()
            .zip(texts.iter())
            .zip(vectors)
            .enumerate()
            .map(|(ordinal, ((chunk, indexed), vector))| NewChunk {
                ordinal: ordinal as u32,
                kind: match chunk.kind {
                    ChunkKind::Passage => doctalk_store::ChunkKind::Passage,
                    ChunkKind::Qa => doctalk_store::ChunkKind::Qa,
                },
                text: chunk.text.clone(),
                text_segmented: segment::segment(indexed),
                page: chunk.page,
                heading_path: chunk.heading_path.clone(),
                span_start: chunk.span.start as u32,
                span_end: chunk.span.end as u32,
                questions: chunk.questions.clone(),
                answer: chunk.answer.clone(),
                metadata_json: chunk_metadata(&doc, chunk),
                engine: chunk.engine.map(|e| e.as_str().to_string()),
                vector,
            })
            .collect();
        let chunk_count = new_chunks.len();
        // The old version lives on at its copies, if any (they still hold the old content).
        let maybe_old = Known::lock(known).paths.contains(&key);
        if maybe_old {
            if let Some(old) = self.store().document_by_path(&key).await? {
                self.hand_over_to_copy(&old).await?;
            }
        }
        commits.push(
            NewDocument {
                path: key,
                title: doc.title.clone(),
                format: doc.format.as_str().to_string(),
                content_hash: hash,
                size_bytes: size,
                page_count: doc.page_count,
                embedding_model: model_id,
                diagnostics_json: serde_json::to_string(&diagnostics).unwrap_or_else(|_| "[]".into()),
            },
            new_chunks,
            FileReport {
                path: path.to_path_buf(),
                status: FileStatus::Indexed,
                doc_id: None,
                pages: doc.page_count,
                chunks: chunk_count,
                diagnostics,
                same_as: None,
            },
        );
        Ok(None)
    }

    /// Another committed document with this content and embedding model, at another path.
    async fn same_content_elsewhere(
        &self,
        key: &str,
        hash: &str,
        model_id: &str,
    ) -> Result<Option<doctalk_store::DocumentRecord>> {
        Ok(self
            .store()
            .documents_with_hash(hash)
            .await?
            .into_iter()
            .find(|d| d.path != key && d.embedding_model == model_id))
    }

    /// Files whose content is already indexed under another path: when that file still exists
    /// this one becomes another location of its document; when it is gone the document moves
    /// here (a rename), keeping its vectors. `None` when no such document exists (any more).
    async fn settle_same_content(
        &self,
        path: &Path,
        key: &str,
        hash: &str,
        model_id: &str,
    ) -> Result<Option<FileReport>> {
        let Some(other) = self.same_content_elsewhere(key, hash, model_id).await? else {
            return Ok(None);
        };
        // A file at this path was indexed with other content before: it is replaced.
        if let Some(here) = self.store().document_by_path(key).await? {
            if !self.hand_over_to_copy(&here).await? {
                self.store().remove_document(&here.id).await?;
            }
        }
        if file_exists(&other.path) {
            self.store().add_location(key, &other.id).await?;
            return Ok(Some(same_content_report(path, FileStatus::Duplicate, &other)));
        }
        let Some(moved) = self.store().relocate_document(&other.id, key).await? else {
            return Ok(None);
        };
        let mut report = same_content_report(path, FileStatus::Moved, &moved);
        report.same_as = Some(other.path);
        Ok(Some(report))
    }

    /// When `doc`'s own file is replaced or deleted but a copy of it still exists elsewhere, the
    /// document moves to that copy (no re-embedding). Locations whose files are gone are
    /// forgotten on the way. Returns whether the document lives on.
    pub(crate) async fn hand_over_to_copy(&self, doc: &doctalk_store::DocumentRecord) -> Result<bool> {
        for location in self.store().locations_of(std::slice::from_ref(&doc.id)).await? {
            if file_exists(&location.path) {
                self.store().relocate_document(&doc.id, &location.path).await?;
                return Ok(true);
            }
            self.store().remove_location(&location.path).await?;
        }
        Ok(false)
    }

    /// Embeds passages off the async runtime (candle is CPU-bound).
    pub(crate) async fn embed_passages(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>> {
        let embedder: Arc<dyn crate::Embedder> = self.embedder().clone();
        tokio::task::spawn_blocking(move || {
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            embedder.embed_passages(&refs)
        })
        .await
        .map_err(|e| CoreError::Task(format!("embedding: {e}")))?
        .map_err(CoreError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_follows_the_pace_so_far() {
        assert_eq!(eta_seconds(10.0, 0, 100), None);
        assert_eq!(eta_seconds(10.0, 25, 100), Some(30));
        assert_eq!(eta_seconds(10.0, 100, 100), Some(0));
    }
}
