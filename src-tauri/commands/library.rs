//! Knowledge bases and documents.

use std::path::PathBuf;

use doctalk_app::{service, Caller};
use doctalk_core::{DocumentInfo, PdfPassword};
use serde_json::Value;
use tauri::ipc::{Channel, Request, Response};
use tauri::State;

use super::{emit_to, finish, RawUpload};
use crate::error::CommandResult;
use crate::Desktop;

#[tauri::command]
pub async fn health(desktop: State<'_, Desktop>, kb: Option<String>) -> CommandResult<service::Health> {
    Ok(service::health(desktop.engine().await?, kb.as_deref()).await?)
}

#[tauri::command]
pub async fn kbs_list(desktop: State<'_, Desktop>) -> CommandResult<service::KbList> {
    Ok(service::kbs(desktop.engine().await?, &Caller::Local).await?)
}

#[tauri::command]
pub async fn kbs_create(desktop: State<'_, Desktop>, name: String) -> CommandResult<service::KbCreated> {
    Ok(service::create_kb(desktop.engine().await?, &name).await?)
}

#[tauri::command]
pub async fn documents_list(
    desktop: State<'_, Desktop>,
    kb: Option<String>,
) -> CommandResult<Vec<DocumentInfo>> {
    Ok(service::documents(desktop.engine().await?, kb.as_deref()).await?)
}

#[tauri::command]
pub async fn documents_remove(
    desktop: State<'_, Desktop>,
    kb: Option<String>,
    id: String,
) -> CommandResult<DocumentInfo> {
    Ok(service::remove_document(desktop.engine().await?, kb.as_deref(), &id).await?)
}

#[tauri::command]
pub async fn documents_reindex(
    desktop: State<'_, Desktop>,
    kb: Option<String>,
    id: String,
    ocr: Option<String>,
    on_event: Channel<Value>,
) -> CommandResult<service::IngestDone> {
    let engine = desktop.engine().await?;
    let ocr = service::ocr_mode(ocr.as_deref())?;
    let result = service::reindex(engine, kb.as_deref(), &id, ocr, emit_to(&on_event)).await;
    finish(&on_event, result.map_err(Into::into))
}

/// The document's own file, as raw bytes (the PDF viewer).
#[tauri::command]
pub async fn document_file(
    desktop: State<'_, Desktop>,
    kb: Option<String>,
    id: String,
) -> CommandResult<Response> {
    let (bytes, _mime) = service::document_file(desktop.engine().await?, kb.as_deref(), &id).await?;
    Ok(Response::new(bytes))
}

/// Files and folders dropped on the window, ingested where they are (nothing is copied);
/// `password`: for password-protected PDFs among them (the UI asks for it when one is refused);
/// `ocr`: `auto` (default), `always` or `never`.
#[tauri::command]
pub async fn ingest_paths(
    desktop: State<'_, Desktop>,
    kb: Option<String>,
    paths: Vec<PathBuf>,
    password: Option<String>,
    ocr: Option<String>,
    on_event: Channel<Value>,
) -> CommandResult<service::IngestDone> {
    let ocr = service::ocr_mode(ocr.as_deref())?;
    let engine = desktop.engine().await?;
    let passwords = password
        .filter(|p| !p.is_empty())
        .map(PdfPassword::new)
        .into_iter()
        .collect();
    let result =
        service::ingest_paths(engine, kb.as_deref(), paths, passwords, ocr, emit_to(&on_event)).await;
    finish(&on_event, result.map_err(Into::into))
}

/// A file from the file picker (bytes without a path): the raw IPC body, with its name and the
/// knowledge base as URI-encoded `x-doctalk-name` / `x-doctalk-kb` headers. Kept under the
/// knowledge base's uploads directory like a server upload, then ingested.
#[tauri::command]
pub async fn ingest_file(
    desktop: State<'_, Desktop>,
    request: Request<'_>,
) -> CommandResult<service::IngestDone> {
    let upload = RawUpload::read(&request, "ingest_file")?;
    let name = upload.required("name")?;
    let kb = upload.header("kb")?;
    let passwords = upload
        .header("password")?
        .map(PdfPassword::new)
        .into_iter()
        .collect();
    let ocr = service::ocr_mode(upload.header("ocr")?.as_deref())?;
    let engine = desktop.engine().await?;
    let path = service::save_upload(engine, kb.as_deref(), &name, upload.bytes).await?;
    let quiet: service::Emit = std::sync::Arc::new(|_, _| {});
    Ok(service::ingest_paths(engine, kb.as_deref(), vec![path], passwords, ocr, quiet).await?)
}

#[tauri::command]
pub async fn sample_install(
    desktop: State<'_, Desktop>,
    kb: Option<String>,
    on_event: Channel<Value>,
) -> CommandResult<service::IngestDone> {
    let engine = desktop.engine().await?;
    let result = service::sample(engine, kb.as_deref(), emit_to(&on_event)).await;
    finish(&on_event, result.map_err(Into::into))
}

/// A summary of one document: `progress` events, then `done`. `ask_stop` with the same request id
/// stops it.
#[tauri::command]
pub async fn document_summarize(
    desktop: State<'_, Desktop>,
    kb: Option<String>,
    id: String,
    length: Option<doctalk_core::summary::SummaryLength>,
    request_id: String,
    on_event: Channel<Value>,
) -> CommandResult<Value> {
    let engine = desktop.engine().await?;
    let cancel = desktop.start_ask(&request_id);
    let result = service::summarize(
        engine,
        kb.as_deref(),
        &id,
        length.unwrap_or_default(),
        emit_to(&on_event),
        cancel,
    )
    .await;
    desktop.finish_ask(&request_id);
    finish(
        &on_event,
        result.map(|s| serde_json::json!(s)).map_err(Into::into),
    )
}

#[tauri::command]
pub async fn folders_list(
    desktop: State<'_, Desktop>,
    kb: Option<String>,
    files: Option<bool>,
) -> CommandResult<Vec<doctalk_core::folders::FolderStatus>> {
    Ok(service::folders(desktop.engine().await?, kb.as_deref(), files.unwrap_or(false)).await?)
}

#[tauri::command]
pub async fn folders_add(
    desktop: State<'_, Desktop>,
    kb: Option<String>,
    path: std::path::PathBuf,
    include: Option<Vec<String>>,
    exclude: Option<Vec<String>>,
) -> CommandResult<service::FolderAdded> {
    let request = service::AddFolderRequest {
        path,
        include: include.unwrap_or_default(),
        exclude: exclude.unwrap_or_default(),
    };
    Ok(service::add_folder(desktop.engine().await?, kb.as_deref(), request).await?)
}

#[tauri::command]
pub async fn folders_remove(
    desktop: State<'_, Desktop>,
    kb: Option<String>,
    path: std::path::PathBuf,
    keep_documents: Option<bool>,
) -> CommandResult<service::FolderRemoved> {
    Ok(service::remove_folder(
        desktop.engine().await?,
        kb.as_deref(),
        &path,
        keep_documents.unwrap_or(false),
    )
    .await?)
}

#[tauri::command]
pub async fn folders_sync(
    desktop: State<'_, Desktop>,
    kb: Option<String>,
) -> CommandResult<doctalk_core::folders::SyncReport> {
    Ok(service::sync_folders(desktop.engine().await?, kb.as_deref()).await?)
}

/// The knowledge base as one archive file (the UI saves it), with its conversations if asked.
#[tauri::command]
pub async fn kb_export(
    desktop: State<'_, Desktop>,
    kb: Option<String>,
    conversations: Option<bool>,
) -> CommandResult<Response> {
    let (bytes, _name) = service::export_kb(
        desktop.engine().await?,
        kb.as_deref(),
        conversations.unwrap_or(false),
    )
    .await?;
    Ok(Response::new(bytes))
}

/// Restores an archive's bytes as a new knowledge base (header `name`).
#[tauri::command]
pub async fn kb_import(
    desktop: State<'_, Desktop>,
    request: Request<'_>,
) -> CommandResult<service::KbImported> {
    let upload = RawUpload::read(&request, "kb_import")?;
    let name = upload.required("name")?;
    Ok(service::import_kb(desktop.engine().await?, &name, upload.bytes).await?)
}
