//! Speech both ways: answers read aloud (text → WAV bytes in the chosen voice: the request's, else
//! the saved setting's, else the default voice; the browser or the desktop window plays the file),
//! and spoken questions heard (a recording → Whisper → text; the UI's microphone button).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use doctalk_models::DeviceChoice;
use doctalk_speech::whisper::{find_whisper, load_whisper, Transcriber};
use doctalk_voice::{
    decode_wav, encode_wav, speak_text, text, transcribe_audio, Audio, VoiceError, ESPEAK_VOICE,
};
use serde::Serialize;
use ts_rs::TS;

use crate::{AppError, Engine};

/// The longest spoken question taken (Whisper reads 30 s windows; a question is a few seconds).
const MAX_QUESTION_S: f64 = 120.0;

/// The most text one request may ask to be spoken (a long answer is ~2,000 characters).
const MAX_CHARS: usize = 20_000;

/// A spoken question as Whisper heard it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Transcript {
    pub text: String,
    /// The language heard (or the one asked for); null when nothing was heard.
    pub language: Option<String>,
    pub audio_seconds: f64,
    pub transcribe_ms: u64,
}

/// Speaks `input` (citations and Markdown removed) and returns a 16-bit mono WAV file.
pub async fn speak(s: &Engine, input: &str, voice: Option<&str>) -> Result<Vec<u8>, AppError> {
    if input.chars().count() > MAX_CHARS {
        return Err(AppError::BadRequest(format!(
            "the text is longer than {MAX_CHARS} characters"
        )));
    }
    let data_dir = s.workspace.data_dir().to_path_buf();
    let saved = doctalk_core::settings::Settings::load(&data_dir)
        .ok()
        .and_then(|settings| settings.voice.voice);
    let id = voice
        .map(str::to_string)
        .or(saved)
        .unwrap_or_else(|| ESPEAK_VOICE.to_string());
    let catalog = super::voices::catalog(s);
    let spoken = text::speakable(input);
    let audio = tokio::task::spawn_blocking(move || {
        let speaker = catalog.open(&id)?;
        speak_text(speaker.as_ref(), &spoken)
    })
    .await
    .map_err(|e| AppError::Io(format!("speech synthesis stopped: {e}")))?
    .map_err(|e| match e {
        VoiceError::EmptyText | VoiceError::UnsupportedLanguage(_) => AppError::BadRequest(e.to_string()),
        VoiceError::UnknownVoice(_) => AppError::NotFound(e.to_string()),
        other => AppError::Io(other.to_string()),
    })?;
    Ok(encode_wav(&audio))
}

/// Whisper, loaded on the first spoken question and kept (loading takes a second or two).
fn whisper(s: &Engine) -> Result<Arc<Transcriber>, AppError> {
    static LOADED: Mutex<Option<(PathBuf, Arc<Transcriber>)>> = Mutex::new(None);
    let dir = find_whisper(None, s.models.roots()).map_err(|e| AppError::NotFound(e.to_string()))?;
    let mut loaded = LOADED
        .lock()
        .map_err(|_| AppError::Io("the speech model failed earlier; restart DocTalk".into()))?;
    if let Some((path, model)) = loaded.as_ref().filter(|(path, _)| *path == dir) {
        tracing::debug!(path = %path.display(), "speech model already loaded");
        return Ok(model.clone());
    }
    let model = Arc::new(load_whisper(&dir, DeviceChoice::Cpu).map_err(|e| AppError::Io(e.to_string()))?);
    *loaded = Some((dir, model.clone()));
    Ok(model)
}

/// A spoken question (WAV bytes) → {text, language, audio_seconds, transcribe_ms}. `language`
/// (`zh`, `en`) skips detection.
pub async fn transcribe(s: &Engine, wav: &[u8], language: Option<&str>) -> Result<Transcript, AppError> {
    let audio = decode_wav(wav, "the recording").map_err(|e| AppError::BadRequest(e.to_string()))?;
    transcribe_recording(s, audio, language).await
}

/// [`transcribe`] for audio already in memory (the desktop app's own microphone).
pub async fn transcribe_recording(
    s: &Engine,
    audio: Audio,
    language: Option<&str>,
) -> Result<Transcript, AppError> {
    if audio.samples.is_empty() {
        return Err(AppError::BadRequest("the recording is empty".into()));
    }
    if audio.duration_s() > MAX_QUESTION_S {
        return Err(AppError::BadRequest(format!(
            "the recording is {:.0} s long; a spoken question may last {MAX_QUESTION_S:.0} s",
            audio.duration_s()
        )));
    }
    let engine = s.clone();
    // The saved script applies unless the request names one ("zh-TW").
    let script = match language.map(doctalk_core::ChineseScript::split_tag) {
        Some((_, Some(_))) => None,
        _ => Some(super::chinese_script(s)),
    };
    let language = language.map(str::to_string);
    tokio::task::spawn_blocking(move || {
        let model = whisper(&engine)?;
        let started = Instant::now();
        let heard = transcribe_audio(&model, &audio, language.as_deref()).map_err(|e| match e {
            VoiceError::Model(doctalk_models::ModelError::InvalidParams(reason)) => {
                AppError::BadRequest(reason)
            }
            other => AppError::Io(other.to_string()),
        })?;
        let heard = match script {
            Some(script) => heard.in_script(script),
            None => heard,
        };
        Ok(Transcript {
            text: heard.text.trim().to_string(),
            language: Some(heard.language),
            audio_seconds: heard.audio_seconds,
            transcribe_ms: started.elapsed().as_millis() as u64,
        })
    })
    .await
    .map_err(|e| AppError::Io(format!("transcription stopped: {e}")))?
}
