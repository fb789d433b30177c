//! Answers read aloud: text → WAV bytes in the chosen voice (the request's, else the saved
//! setting's, else the default voice). The browser or the desktop window plays the file.

use doctalk_voice::{encode_wav, speak_text, text, VoiceCatalog, VoiceError, ESPEAK_VOICE};

use crate::{Engine, ServerError};

/// The most text one request may ask to be spoken (a long answer is ~2,000 characters).
const MAX_CHARS: usize = 20_000;

/// Speaks `input` (citations and Markdown removed) and returns a 16-bit mono WAV file.
pub async fn speak(s: &Engine, input: &str, voice: Option<&str>) -> Result<Vec<u8>, ServerError> {
    if input.chars().count() > MAX_CHARS {
        return Err(ServerError::BadRequest(format!(
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
    let catalog = VoiceCatalog::new(s.models.roots(), &data_dir.join("voices"));
    let spoken = text::speakable(input);
    let audio = tokio::task::spawn_blocking(move || {
        let speaker = catalog.open(&id)?;
        speak_text(speaker.as_ref(), &spoken)
    })
    .await
    .map_err(|e| ServerError::Io(format!("speech synthesis stopped: {e}")))?
    .map_err(|e| match e {
        VoiceError::EmptyText | VoiceError::UnsupportedLanguage(_) => ServerError::BadRequest(e.to_string()),
        VoiceError::UnknownVoice(_) => ServerError::NotFound(e.to_string()),
        other => ServerError::Io(other.to_string()),
    })?;
    Ok(encode_wav(&audio))
}
