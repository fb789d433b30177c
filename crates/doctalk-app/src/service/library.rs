//! Knowledge bases and their documents: list, ingest with progress, re-index, remove, the original
//! file (for the PDF viewer), and the one-click sample.

use std::path::{Path, PathBuf};

use doctalk_core::{DocumentInfo, FileReport, KbSummary, KnowledgeBase, PdfPassword};
use serde::Serialize;
use serde_json::json;
use ts_rs::TS;

use super::Emit;
use crate::{AppError, Caller, Engine};

/// That the engine answers, and what it runs on.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Health {
    #[ts(type = "'ok'")]
    pub status: &'static str,
    pub kb: String,
    pub documents: usize,
    pub encoder: String,
    /// The language model answering now (null: answers quote the passages).
    pub model: Option<String>,
    pub version: String,
}

pub async fn health(s: &Engine, kb: Option<&str>) -> Result<Health, AppError> {
    let lib = s.library(kb).await?;
    Ok(Health {
        status: "ok",
        kb: lib.name.clone(),
        documents: lib.kb.documents().await?.len(),
        encoder: lib.kb.embedding_model_id().to_string(),
        model: s.generator().map(|g| g.model_id().to_string()),
        version: env!("CARGO_PKG_VERSION").to_string(),
    })
}

/// The knowledge bases a caller may use.
#[derive(Debug, Clone, Serialize, TS)]
pub struct KbList {
    /// The one requests go to by default (null: the caller may use none).
    pub current: Option<String>,
    pub kbs: Vec<KbSummary>,
}

/// A knowledge base just made.
#[derive(Debug, Clone, Serialize, TS)]
pub struct KbCreated {
    pub name: String,
}

/// What an ingest did, file by file (the `done` of an ingest stream).
#[derive(Debug, Clone, Serialize, TS)]
pub struct IngestDone {
    pub files: Vec<FileReport>,
}

/// An archive restored as a new knowledge base.
#[derive(Debug, Clone, Serialize, TS)]
pub struct KbImported {
    pub kb: String,
    pub documents: usize,
    pub chunks: usize,
    /// The archive's vectors came from another encoder, so its passages were embedded again.
    pub reembedded: bool,
    pub folders: usize,
    pub conversations: usize,
    /// The archive's settings became this data directory's (it had none).
    pub settings_adopted: bool,
}

/// The knowledge bases the caller may use, and the one requests go to by default (when the
/// caller may use it).
pub async fn kbs(s: &Engine, caller: &Caller) -> Result<KbList, AppError> {
    let kbs: Vec<_> = s
        .workspace
        .list()
        .await?
        .into_iter()
        .filter(|k| caller.may_use(&k.name))
        .collect();
    let current = Some(s.workspace.default_kb().to_string())
        .filter(|d| caller.may_use(d))
        .or_else(|| kbs.first().map(|k| k.name.clone()));
    Ok(KbList { current, kbs })
}

pub async fn create_kb(s: &Engine, name: &str) -> Result<KbCreated, AppError> {
    let lib = s.workspace.create(name.trim()).await?;
    Ok(KbCreated {
        name: lib.name.clone(),
    })
}

pub async fn documents(s: &Engine, kb: Option<&str>) -> Result<Vec<DocumentInfo>, AppError> {
    Ok(s.library(kb).await?.kb.documents().await?)
}

/// Only ids: a path here could name a file outside the data directory.
fn document_id(id: &str) -> Result<&str, AppError> {
    if id.contains(['/', '\\']) {
        return Err(AppError::BadRequest("documents are named by id".into()));
    }
    Ok(id)
}

pub async fn remove_document(s: &Engine, kb: Option<&str>, id: &str) -> Result<DocumentInfo, AppError> {
    let lib = s.library(kb).await?;
    Ok(lib.kb.remove(document_id(id)?).await?)
}

/// The indexed document's own file as it is on disk now, and its media type (what the PDF viewer
/// shows). Only files the index names can be read this way.
pub async fn document_file(
    s: &Engine,
    kb: Option<&str>,
    id: &str,
) -> Result<(Vec<u8>, &'static str), AppError> {
    let lib = s.library(kb).await?;
    let doc =
        lib.kb.find_document(document_id(id)?).await?.ok_or_else(|| {
            AppError::NotFound(format!("no document {id:?} in knowledge base {:?}", lib.name))
        })?;
    let bytes = tokio::fs::read(&doc.path).await.map_err(|e| {
        AppError::NotFound(format!(
            "the file of {:?} cannot be read on this machine ({}: {e})",
            doc.title, doc.path
        ))
    })?;
    Ok((bytes, crate::content_type(Path::new(&doc.path))))
}

/// Parses, embeds and commits a document again from its file, reading its pages by OCR as `ocr`
/// says; `done`: `{files: [report]}`.
pub async fn reindex(
    s: &Engine,
    kb: Option<&str>,
    id: &str,
    ocr: doctalk_core::OcrMode,
    emit: Emit,
) -> Result<IngestDone, AppError> {
    let lib = s.library(kb).await?;
    let kb = lib.kb.clone().with_ocr_mode(ocr);
    let report = kb.reindex(document_id(id)?, &progress(emit)).await?;
    Ok(IngestDone { files: vec![report] })
}

/// Ingests files and folders where they are (the desktop app's drag and drop, an upload once
/// saved); `done`: `{files: reports}`. `passwords` are tried on password-protected PDFs and kept
/// nowhere.
pub async fn ingest_paths(
    s: &Engine,
    kb: Option<&str>,
    paths: Vec<PathBuf>,
    passwords: Vec<PdfPassword>,
    ocr: doctalk_core::OcrMode,
    emit: Emit,
) -> Result<IngestDone, AppError> {
    let lib = s.library(kb).await?;
    let kb = lib.kb.clone().with_pdf_passwords(passwords).with_ocr_mode(ocr);
    ingest_into(&kb, &paths, emit).await
}

/// `auto`, `always` or `never` (absent: `auto`), as a request gives it.
pub fn ocr_mode(value: Option<&str>) -> Result<doctalk_core::OcrMode, AppError> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(doctalk_core::OcrMode::Auto),
        Some(v) => doctalk_core::OcrMode::parse(v)
            .ok_or_else(|| AppError::BadRequest(format!("ocr must be auto, always or never, not {v:?}"))),
    }
}

/// Keeps an uploaded file under the knowledge base's uploads directory and returns where; a name
/// that tries to climb out of it is cut to its last component.
pub async fn save_upload(
    s: &Engine,
    kb: Option<&str>,
    name: &str,
    bytes: &[u8],
) -> Result<PathBuf, AppError> {
    let lib = s.library(kb).await?;
    let dir = lib.uploads_dir.clone();
    std::fs::create_dir_all(&dir).map_err(|e| AppError::Io(format!("{}: {e}", dir.display())))?;
    let name = sanitize(name);
    if name.is_empty() {
        return Err(AppError::BadRequest(
            "the upload needs a file name (?name=…)".into(),
        ));
    }
    let path = unique_path(&dir, &name, bytes);
    // Written beside and renamed: a server killed mid-write leaves no half file to be indexed later.
    let partial = dir.join(format!(".{name}.partial"));
    std::fs::write(&partial, bytes)
        .and_then(|_| std::fs::rename(&partial, &path))
        .map_err(|e| AppError::Io(format!("{}: {e}", path.display())))?;
    Ok(path)
}

/// Installs the built-in sample knowledge base into the data directory and ingests it.
pub async fn sample(s: &Engine, kb: Option<&str>, emit: Emit) -> Result<IngestDone, AppError> {
    let lib = s.library(kb).await?;
    let paths = doctalk_core::sample::install(&s.workspace.data_dir().join("sample"))?;
    ingest_into(&lib.kb, &paths, emit).await
}

async fn ingest_into(kb: &KnowledgeBase, paths: &[PathBuf], emit: Emit) -> Result<IngestDone, AppError> {
    let files = kb.ingest(paths, &progress(emit)).await?;
    Ok(IngestDone { files })
}

/// Ingest progress as `progress` events (the CLI's `file_started`, `stage`, `file_finished`).
fn progress(emit: Emit) -> impl Fn(doctalk_core::IngestEvent) + Send + Sync {
    move |e| emit("progress", json!(e))
}

/// The last path component, without control characters; never `..` or empty.
fn sanitize(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base.chars().filter(|c| !c.is_control()).collect();
    let clean = clean.trim().trim_start_matches('.').to_string();
    clean.chars().take(200).collect()
}

/// `dir/name`, or `dir/name (2).ext`… when another upload with different content holds that name.
fn unique_path(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let first = dir.join(name);
    let same = |p: &PathBuf| std::fs::read(p).map(|b| b == bytes).unwrap_or(false);
    if !first.exists() || same(&first) {
        return first;
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) => (s.to_string(), format!(".{e}")),
        None => (name.to_string(), String::new()),
    };
    (2..)
        .map(|i| dir.join(format!("{stem} ({i}){ext}")))
        .find(|p| !p.exists() || same(p))
        .expect("an unused name exists")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_names_cannot_leave_the_uploads_directory() {
        assert_eq!(sanitize("../../etc/passwd"), "passwd");
        assert_eq!(sanitize("C:\\Users\\a\\手册.pdf"), "手册.pdf");
        assert_eq!(sanitize(".."), "");
        assert_eq!(sanitize("..hidden.pdf"), "hidden.pdf");
    }
}

/// A summary of one document (`length`: short or long): `progress` events {done, total}, then the
/// summary. The language model is used when it is loaded and free (held for the whole summary);
/// otherwise the summary is extractive, and `fallback_reason` says why.
pub async fn summarize(
    s: &Engine,
    kb: Option<&str>,
    doc: &str,
    length: doctalk_core::summary::SummaryLength,
    emit: Emit,
    cancel: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Result<SummaryOutcome, AppError> {
    let lib = s.library(kb).await?;
    let admission = super::admit_generator(s);
    // Held for the whole summary.
    let _place = admission.place;
    let mut req = doctalk_core::summary::SummaryRequest::new(doc);
    req.length = length;
    req.generator = admission.generator;
    req.cancel = cancel;
    req.script = Some(super::chinese_script(s));
    let progress = move |p| emit("progress", serde_json::json!(p));
    let summary = lib.kb.summarize(req, &progress).await?;
    Ok(SummaryOutcome {
        summary,
        fallback_reason: admission.reason,
    })
}

/// The summary, and why the language model did not write it when one was wanted.
#[derive(Debug, serde::Serialize, ts_rs::TS)]
pub struct SummaryOutcome {
    #[serde(flatten)]
    pub summary: doctalk_core::summary::Summary,
    pub fallback_reason: Option<String>,
}

/// The knowledge base as one archive file's bytes (`doctalk kb export`), and a file name for it.
pub async fn export_kb(
    s: &Engine,
    kb: Option<&str>,
    with_conversations: bool,
) -> Result<(Vec<u8>, String), AppError> {
    let lib = s.library(kb).await?;
    let extras = doctalk_core::archive::extras(
        &lib.folders,
        with_conversations.then_some(&lib.conversations),
        s.workspace.data_dir(),
    )?;
    let scratch = tempfile::tempdir_in(s.workspace.data_dir())
        .map_err(|e| AppError::Io(format!("cannot make a scratch directory: {e}")))?;
    let file = scratch.path().join("export.dtkb");
    lib.kb
        .export_archive(&lib.name, &file, &extras, &|_, _| {})
        .await?;
    let bytes = std::fs::read(&file).map_err(|e| AppError::Io(format!("{}: {e}", file.display())))?;
    Ok((bytes, format!("{}.dtkb", lib.name)))
}

/// Restores an uploaded archive as the new knowledge base `name` (`doctalk kb import`); a damaged
/// archive or a taken name is refused and leaves nothing.
pub async fn import_kb(s: &Engine, name: &str, bytes: &[u8]) -> Result<KbImported, AppError> {
    let name = name.trim();
    if !doctalk_core::valid_kb_name(name) {
        return Err(doctalk_core::CoreError::BadKbName(name.to_string()).into());
    }
    let scratch = tempfile::tempdir_in(s.workspace.data_dir())
        .map_err(|e| AppError::Io(format!("cannot make a scratch directory: {e}")))?;
    let file = scratch.path().join("import.dtkb");
    std::fs::write(&file, bytes).map_err(|e| AppError::Io(format!("{}: {e}", file.display())))?;
    let dest = s.workspace.kb_dir(name);
    let report =
        doctalk_core::archive::import_archive(&file, &dest, s.workspace.embedder().clone(), &|_, _| {})
            .await?;
    let settings_adopted = doctalk_core::archive::adopt_settings(&report, s.workspace.data_dir())?;
    let lib = s.workspace.get(Some(name)).await?;
    Ok(KbImported {
        kb: lib.name.clone(),
        documents: report.documents,
        chunks: report.chunks,
        reembedded: report.reembedded,
        folders: report.folders,
        conversations: report.conversations,
        settings_adopted,
    })
}
