//! Cloned voices made and removed from the UI: a recording (WAV bytes; the UI converts other
//! formats), a name and a consent note become a voice profile, as `doctalk voices add` makes one.
//! Where the neural converter is installed the base voice first reads a calibration text, which
//! takes seconds, hence the progress events. [`catalog`] is the one place the server opens the
//! installation's voices.

use serde_json::{json, Value};

use doctalk_voice::{decode_wav, VoiceCatalog, VoiceError};

use crate::service::Emit;
use crate::{AppError, Engine};

/// The most audio bytes a sample may have (two minutes of 48 kHz stereo 16-bit is ~23 MB).
const MAX_SAMPLE_BYTES: usize = 32 * 1024 * 1024;

/// The installation's voices: Piper voices among the model roots, profiles in `<data dir>/voices`.
pub(crate) fn catalog(s: &Engine) -> VoiceCatalog {
    VoiceCatalog::new(s.models.roots(), &s.workspace.data_dir().join("voices"))
}

fn voice_error(e: VoiceError) -> AppError {
    match e {
        VoiceError::BadAudio { .. } | VoiceError::Silent(_) | VoiceError::BadProfile(_) => {
            AppError::BadRequest(e.to_string())
        }
        VoiceError::UnknownVoice(_) => AppError::NotFound(e.to_string()),
        other => AppError::Io(other.to_string()),
    }
}

/// Makes the voice `name` from `sample` (WAV bytes) built on `base` (default: the best installed
/// voice). Events: `progress` {stage: "reading" | "measuring"}. Returns {voice: {…}}.
pub async fn add_voice(
    s: &Engine,
    name: &str,
    consent: &str,
    base: Option<&str>,
    sample: &[u8],
    emit: Emit,
) -> Result<Value, AppError> {
    if sample.is_empty() {
        return Err(AppError::BadRequest("the recording is empty".into()));
    }
    if sample.len() > MAX_SAMPLE_BYTES {
        return Err(AppError::BadRequest(
            "the recording is too large; use 10–30 s of one person speaking".into(),
        ));
    }
    let audio = decode_wav(sample, "the recording").map_err(voice_error)?;
    let catalog = catalog(s);
    let (name, consent, base) = (name.to_string(), consent.to_string(), base.map(str::to_string));
    tokio::task::spawn_blocking(move || {
        emit("progress", json!({"stage": "reading"}));
        let base = base.unwrap_or_else(|| catalog.default_base());
        catalog.open(&base)?;
        if catalog.converter().is_some() {
            emit("progress", json!({"stage": "measuring"}));
        }
        let profile = catalog.add_voice_audio(&name, audio, "the recording", &base, &consent)?;
        let info = catalog.list().into_iter().find(|v| v.id == profile.name);
        Ok::<_, VoiceError>(json!({
            "voice": {
                "id": profile.name,
                "base_voice": profile.base_voice,
                "speech_seconds": profile.speech_seconds,
                "engine": if profile.neural.is_some() { "neural" } else { "tone-matching" },
                "description": info.map(|v| v.engine),
                "warnings": profile.warnings,
            }
        }))
    })
    .await
    .map_err(|e| AppError::Io(format!("making the voice stopped: {e}")))?
    .map_err(voice_error)
}

/// Deletes a cloned voice and its recording; answers read in it go back to the default voice.
/// Returns {removed: name, voice_reset: bool}.
pub async fn remove_voice(s: &Engine, name: &str) -> Result<Value, AppError> {
    catalog(s).profiles.remove(name).map_err(voice_error)?;
    let data_dir = s.workspace.data_dir();
    let mut settings = doctalk_core::settings::Settings::load(data_dir)?;
    let chosen = settings.voice.voice.as_deref() == Some(name);
    if chosen {
        settings.voice.voice = None;
        settings.save(data_dir)?;
    }
    Ok(json!({"removed": name, "voice_reset": chosen}))
}
