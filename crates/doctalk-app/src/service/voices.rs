//! Cloned voices made and removed from the UI: a recording (WAV bytes; the UI converts other
//! formats), a name and a consent note become a voice profile, as `doctalk voices add` makes one.
//! Where the neural converter is installed the base voice first reads a calibration text, which
//! takes seconds, hence the progress events. [`catalog`] is the one place the server opens the
//! installation's voices.

use serde::Serialize;
use serde_json::json;
use ts_rs::TS;

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

/// A cloned voice just made (the `done` of adding one).
#[derive(Debug, Clone, Serialize, TS)]
pub struct VoiceAdded {
    pub voice: ClonedVoice,
}

/// How a cloned voice speaks: through the neural tone converter, or by matching the recording's
/// pitch and timbre where the converter is not installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum CloneEngine {
    Neural,
    ToneMatching,
}

/// A cloned voice as made from a recording.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ClonedVoice {
    pub id: String,
    pub base_voice: String,
    pub speech_seconds: f64,
    pub engine: CloneEngine,
    /// How it speaks, in words.
    pub description: Option<String>,
    /// What was not ideal about the recording (short, noisy, clipped).
    pub warnings: Vec<String>,
}

/// A cloned voice deleted; `voice_reset`: it was the chosen voice, and answers are read in the
/// default voice again.
#[derive(Debug, Clone, Serialize, TS)]
pub struct VoiceRemoved {
    pub removed: String,
    pub voice_reset: bool,
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
) -> Result<VoiceAdded, AppError> {
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
        Ok::<_, VoiceError>(VoiceAdded {
            voice: ClonedVoice {
                engine: if profile.neural.is_some() {
                    CloneEngine::Neural
                } else {
                    CloneEngine::ToneMatching
                },
                id: profile.name,
                base_voice: profile.base_voice,
                speech_seconds: profile.speech_seconds,
                description: info.map(|v| v.engine),
                warnings: profile.warnings,
            },
        })
    })
    .await
    .map_err(|e| AppError::Io(format!("making the voice stopped: {e}")))?
    .map_err(voice_error)
}

/// Deletes a cloned voice and its recording; answers read in it go back to the default voice.
pub async fn remove_voice(s: &Engine, name: &str) -> Result<VoiceRemoved, AppError> {
    catalog(s).profiles.remove(name).map_err(voice_error)?;
    let data_dir = s.workspace.data_dir();
    let mut settings = doctalk_core::settings::Settings::load(data_dir)?;
    let chosen = settings.voice.voice.as_deref() == Some(name);
    if chosen {
        settings.voice.voice = None;
        settings.save(data_dir)?;
    }
    Ok(VoiceRemoved {
        removed: name.to_string(),
        voice_reset: chosen,
    })
}
