//! Settings, the model catalogue and downloads, speech for answers read aloud, and cloned voices.

use doctalk_server::service;
use serde_json::Value;
use tauri::ipc::{Channel, Request};
use tauri::State;

use super::{emit_to, finish, RawUpload};
use crate::error::CommandResult;
use crate::Desktop;

#[tauri::command]
pub async fn settings_get(desktop: State<'_, Desktop>) -> CommandResult<Value> {
    Ok(service::settings(desktop.engine().await?).await?)
}

#[tauri::command]
pub async fn settings_set(desktop: State<'_, Desktop>, settings: Value) -> CommandResult<Value> {
    Ok(service::update_settings(desktop.engine().await?, settings).await?)
}

/// What the app needs before it can start, installed or not (the first-run screen); works before
/// the engine has started.
#[tauri::command]
pub async fn setup_status(desktop: State<'_, Desktop>) -> CommandResult<Value> {
    Ok(service::setup_status(desktop.models()))
}

/// Downloads a catalogue model (the UI shows its licence and size first): `progress` events, then
/// `done` {id, path}.
#[tauri::command]
pub async fn model_download(
    desktop: State<'_, Desktop>,
    id: String,
    on_event: Channel<Value>,
) -> CommandResult<Value> {
    let result = service::download_model(desktop.models(), &id, emit_to(&on_event)).await;
    finish(&on_event, result.map_err(Into::into))
}

/// An answer read aloud: WAV bytes in the chosen voice (the window plays them).
#[tauri::command]
pub async fn speak(
    desktop: State<'_, Desktop>,
    text: String,
    voice: Option<String>,
) -> CommandResult<tauri::ipc::Response> {
    let wav = service::speak(desktop.engine().await?, &text, voice.as_deref()).await?;
    Ok(tauri::ipc::Response::new(wav))
}

/// A cloned voice from a recording picked in the window: the WAV bytes as the raw body, `name`,
/// `consent` and optionally `base` as `x-doctalk-*` headers. Returns {voice} (no progress events:
/// a raw body leaves no room for a channel).
#[tauri::command]
pub async fn voice_add(desktop: State<'_, Desktop>, request: Request<'_>) -> CommandResult<Value> {
    let upload = RawUpload::read(&request, "voice_add")?;
    let name = upload.required("name")?;
    let consent = upload.header("consent").unwrap_or_default();
    let base = upload.header("base");
    let engine = desktop.engine().await?;
    let ignore: service::Emit = std::sync::Arc::new(|_, _| {});
    Ok(service::add_voice(engine, &name, &consent, base.as_deref(), upload.bytes, ignore).await?)
}

/// Deletes a cloned voice and its recording.
#[tauri::command]
pub async fn voice_remove(desktop: State<'_, Desktop>, name: String) -> CommandResult<Value> {
    Ok(service::remove_voice(desktop.engine().await?, &name).await?)
}

/// A spoken question from the microphone button: WAV bytes as the raw body, `language` optionally
/// as an `x-doctalk-language` header. Returns {text, language, …}.
#[tauri::command]
pub async fn transcribe(desktop: State<'_, Desktop>, request: Request<'_>) -> CommandResult<Value> {
    let upload = RawUpload::read(&request, "transcribe")?;
    let language = upload.header("language");
    Ok(service::transcribe(desktop.engine().await?, upload.bytes, language.as_deref()).await?)
}
