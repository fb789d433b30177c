//! Knowledge bases and documents.

use std::path::PathBuf;

use doctalk_core::DocumentInfo;
use doctalk_server::service;
use serde_json::Value;
use tauri::ipc::{Channel, InvokeBody, Request, Response};
use tauri::State;

use super::{emit_to, finish};
use crate::error::{CommandError, CommandResult};
use crate::Desktop;

#[tauri::command]
pub async fn health(desktop: State<'_, Desktop>, kb: Option<String>) -> CommandResult<Value> {
    Ok(service::health(desktop.engine().await?, kb.as_deref()).await?)
}

#[tauri::command]
pub async fn kbs_list(desktop: State<'_, Desktop>) -> CommandResult<Value> {
    Ok(service::kbs(desktop.engine().await?).await?)
}

#[tauri::command]
pub async fn kbs_create(desktop: State<'_, Desktop>, name: String) -> CommandResult<Value> {
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
    on_event: Channel<Value>,
) -> CommandResult<Value> {
    let engine = desktop.engine().await?;
    let result = service::reindex(engine, kb.as_deref(), &id, emit_to(&on_event)).await;
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

/// Files and folders dropped on the window, ingested where they are (nothing is copied).
#[tauri::command]
pub async fn ingest_paths(
    desktop: State<'_, Desktop>,
    kb: Option<String>,
    paths: Vec<PathBuf>,
    on_event: Channel<Value>,
) -> CommandResult<Value> {
    let engine = desktop.engine().await?;
    let result = service::ingest_paths(engine, kb.as_deref(), paths, emit_to(&on_event)).await;
    finish(&on_event, result.map_err(Into::into))
}

/// A file from the file picker (bytes without a path): the raw IPC body, with its name and the
/// knowledge base as URI-encoded `x-doctalk-name` / `x-doctalk-kb` headers. Kept under the
/// knowledge base's uploads directory like a server upload, then ingested.
#[tauri::command]
pub async fn ingest_file(desktop: State<'_, Desktop>, request: Request<'_>) -> CommandResult<Value> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(CommandError::new(
            "bad_request",
            "ingest_file takes the file's bytes as the body",
        ));
    };
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(percent_decode)
            .filter(|v| !v.is_empty())
    };
    let name = header("x-doctalk-name")
        .ok_or_else(|| CommandError::new("bad_request", "ingest_file needs the x-doctalk-name header"))?;
    let kb = header("x-doctalk-kb");
    let engine = desktop.engine().await?;
    let path = service::save_upload(engine, kb.as_deref(), &name, bytes).await?;
    Ok(service::ingest_paths(engine, kb.as_deref(), vec![path], std::sync::Arc::new(|_, _| {})).await?)
}

#[tauri::command]
pub async fn sample_install(
    desktop: State<'_, Desktop>,
    kb: Option<String>,
    on_event: Channel<Value>,
) -> CommandResult<Value> {
    let engine = desktop.engine().await?;
    let result = service::sample(engine, kb.as_deref(), emit_to(&on_event)).await;
    finish(&on_event, result.map_err(Into::into))
}

/// `encodeURIComponent`'s inverse; malformed escapes are kept as they are.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%')
            .then(|| s.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn header_names_decode_like_encode_uri_component() {
        assert_eq!(super::percent_decode("%E5%91%98%E5%B7%A5.pdf"), "员工.pdf");
        assert_eq!(super::percent_decode("a%20b%zz"), "a b%zz");
    }
}
