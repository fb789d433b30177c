//! Settings, the model catalogue and downloads, speech for answers read aloud, and cloned voices.

use std::sync::atomic::Ordering;
use std::time::Duration;

use doctalk_app::service;
use doctalk_voice::{vad::VadConfig, Microphone, VoiceError};
use serde_json::{json, Value};
use tauri::ipc::{Channel, Request};
use tauri::State;

use super::{emit_to, finish, RawUpload};
use crate::error::{CommandError, CommandResult};
use crate::Desktop;

#[tauri::command]
pub async fn settings_get(desktop: State<'_, Desktop>) -> CommandResult<service::SettingsView> {
    Ok(service::settings(desktop.engine().await?).await?)
}

#[tauri::command]
pub async fn settings_set(
    desktop: State<'_, Desktop>,
    settings: service::SettingsPatch,
) -> CommandResult<service::SettingsView> {
    Ok(service::update_settings(desktop.engine().await?, settings).await?)
}

/// What the app needs before it can start, installed or not (the first-run screen); works before
/// the engine has started.
#[tauri::command]
pub async fn setup_status(desktop: State<'_, Desktop>) -> CommandResult<service::SetupStatus> {
    Ok(service::setup_status(desktop.models()))
}

/// Downloads a catalogue model (the UI shows its licence and size first): `progress` events, then
/// `done` {id, path}.
#[tauri::command]
pub async fn model_download(
    desktop: State<'_, Desktop>,
    id: String,
    on_event: Channel<Value>,
) -> CommandResult<service::Downloaded> {
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
pub async fn voice_add(
    desktop: State<'_, Desktop>,
    request: Request<'_>,
) -> CommandResult<service::VoiceAdded> {
    let upload = RawUpload::read(&request, "voice_add")?;
    let name = upload.required("name")?;
    let consent = upload.header("consent")?.unwrap_or_default();
    let base = upload.header("base")?;
    let engine = desktop.engine().await?;
    let ignore: service::Emit = std::sync::Arc::new(|_, _| {});
    Ok(service::add_voice(engine, &name, &consent, base.as_deref(), upload.bytes, ignore).await?)
}

/// Deletes a cloned voice and its recording.
#[tauri::command]
pub async fn voice_remove(desktop: State<'_, Desktop>, name: String) -> CommandResult<service::VoiceRemoved> {
    Ok(service::remove_voice(desktop.engine().await?, &name).await?)
}

/// A spoken question from the microphone button: WAV bytes as the raw body, `language` optionally
/// as an `x-doctalk-language` header. Returns {text, language, …}.
#[tauri::command]
pub async fn transcribe(
    desktop: State<'_, Desktop>,
    request: Request<'_>,
) -> CommandResult<service::Transcript> {
    let upload = RawUpload::read(&request, "transcribe")?;
    let language = upload.header("language")?;
    Ok(service::transcribe(desktop.engine().await?, upload.bytes, language.as_deref()).await?)
}

/// The longest spoken question the microphone takes.
const MAX_QUESTION: Duration = Duration::from_secs(30);

/// A spoken question from this computer's microphone (the window's microphone button; WebKitGTK
/// gives pages no microphone): `listening` {device} once it is open, `speech` when the speaker
/// starts (the window stops reading aloud), `transcribing` when the question has ended (a pause,
/// or `listen_stop`), then {text, language, …} as the result.
#[tauri::command]
pub async fn listen(
    desktop: State<'_, Desktop>,
    language: Option<String>,
    on_event: Channel<Value>,
) -> CommandResult<service::Transcript> {
    // The microphone opens first, so the user can speak while the engine may still be starting.
    let stop = desktop.listening();
    stop.store(false, Ordering::SeqCst);
    let emit = emit_to(&on_event);
    let heard = tokio::task::spawn_blocking(move || {
        let microphone = Microphone::open()?;
        emit("listening", json!({"device": microphone.device_name()}));
        let audio = microphone.listen_until(
            VadConfig::default(),
            MAX_QUESTION,
            || emit("speech", json!({})),
            &stop,
        )?;
        emit("transcribing", json!({}));
        Ok::<_, VoiceError>(audio)
    })
    .await
    .map_err(|e| CommandError::new("microphone_failed", format!("listening stopped: {e}")))?;
    let result = match heard {
        Err(VoiceError::NoMicrophone(reason)) => Err(CommandError::new(
            "no_microphone",
            format!("no microphone to listen to: {reason}"),
        )),
        Err(e) => Err(CommandError::new("microphone_failed", e.to_string())),
        Ok(audio) if audio.samples.is_empty() => Ok(service::Transcript {
            text: String::new(),
            language: None,
            audio_seconds: 0.0,
            transcribe_ms: 0,
        }),
        Ok(audio) => match desktop.engine().await {
            Ok(engine) => service::transcribe_recording(engine, audio, language.as_deref())
                .await
                .map_err(Into::into),
            Err(e) => Err(e),
        },
    };
    finish(&on_event, result)
}

/// Ends the microphone's current question now (the button pressed again); what was said so far is
/// transcribed.
#[tauri::command]
pub fn listen_stop(desktop: State<'_, Desktop>) -> bool {
    !desktop.listening().swap(true, Ordering::SeqCst)
}
