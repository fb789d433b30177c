//! Voice profiles: a cloned voice as the user made it. Each lives in `<voices dir>/<name>/` with
//! the reference recording (`sample.wav`, as given, converted to 16-bit mono), and `profile.json`:
//! the speaker embedding, the measured tone, the voice it is built on, and the consent note.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Result, VoiceError};
use crate::features::{speaker_embedding, ANALYSIS_RATE};
use crate::neural_tone::NeuralTone;
use crate::resample::resample;
use crate::tone::Tone;
use crate::wav::{read_wav, write_wav, Audio};

/// Reference clips: at least this much speech…
pub const MIN_SPEECH_S: f64 = 5.0;
/// …recommended 10–30 s…
pub const RECOMMENDED_SPEECH_S: f64 = 10.0;
/// …and no more than this much audio.
pub const MAX_SAMPLE_S: f64 = 120.0;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VoiceProfile {
    pub name: String,
    /// Seconds since the Unix epoch.
    pub created: u64,
    /// The voice whose speech is steered toward the recording (`piper-…` or `espeak-ng`).
    pub base_voice: String,
    /// Who is speaking in the sample and their permission, as the user wrote it.
    pub consent: String,
    pub sample_seconds: f64,
    pub speech_seconds: f64,
    pub tone: Tone,
    /// `features::speaker_embedding` of the sample.
    pub embedding: Vec<f32>,
    /// Notes for the user (a short sample).
    #[serde(default)]
    pub warnings: Vec<String>,
    /// The neural converter's embeddings, once measured (only where its weights are installed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neural: Option<NeuralTone>,
}

/// The profiles under one directory.
pub struct ProfileStore {
    dir: PathBuf,
}

/// Profile names: what a file name and a command line can both carry.
pub fn valid_profile_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= 40
        && name.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        && !matches!(name, "espeak-ng" | "default")
        && !name.starts_with("piper-")
}

impl ProfileStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ProfileStore { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Builds a profile from a recording file and stores it. Nothing is written unless it all works.
    pub fn add(&self, name: &str, sample: &Path, base_voice: &str, consent: &str) -> Result<VoiceProfile> {
        let target = self.check_new(name, consent)?;
        let audio = read_wav(sample)?;
        self.store(
            name,
            target,
            audio,
            &sample.display().to_string(),
            base_voice,
            consent,
        )
    }

    /// [`ProfileStore::add`] for a recording already in memory (an upload); `what` names it in
    /// errors.
    pub fn add_audio(
        &self,
        name: &str,
        audio: Audio,
        what: &str,
        base_voice: &str,
        consent: &str,
    ) -> Result<VoiceProfile> {
        let target = self.check_new(name, consent)?;
        self.store(name, target, audio, what, base_voice, consent)
    }

    /// The directory a new profile `name` goes to, after checking the name and the consent note.
    fn check_new(&self, name: &str, consent: &str) -> Result<PathBuf> {
        if !valid_profile_name(name) {
            return Err(VoiceError::BadProfile(format!(
                "{name:?} is not a usable voice name: letters, digits, - and _ (up to 40), not a built-in voice's name"
            )));
        }
        if consent.trim().is_empty() {
            return Err(VoiceError::BadProfile(
                "say whose voice this is and that they agreed to its use (--consent)".into(),
            ));
        }
        let target = self.dir.join(name);
        if target.exists() {
            return Err(VoiceError::BadProfile(format!(
                "a voice named {name} exists; remove it first (doctalk voices rm {name})"
            )));
        }
        Ok(target)
    }

    fn store(
        &self,
        name: &str,
        target: PathBuf,
        audio: Audio,
        what: &str,
        base_voice: &str,
        consent: &str,
    ) -> Result<VoiceProfile> {
        let sample_seconds = audio.duration_s();
        if sample_seconds > MAX_SAMPLE_S {
            return Err(VoiceError::BadAudio {
                path: what.into(),
                reason: format!(
                    "{sample_seconds:.0} s is too long for a voice sample; use 10–30 s of one person speaking"
                ),
            });
        }
        let pcm = resample(&audio.samples, audio.sample_rate, ANALYSIS_RATE);
        let speech_seconds = speech_seconds(&pcm);
        if speech_seconds < MIN_SPEECH_S {
            return Err(VoiceError::Silent(format!(
                "{what} has {speech_seconds:.1} s of speech; a voice sample needs at least {MIN_SPEECH_S:.0} s (10–30 s is best)"
            )));
        }
        let (Some(tone), Some(embedding)) = (Tone::measure(&audio), speaker_embedding(&pcm)) else {
            return Err(VoiceError::Silent(format!(
                "{what} has no voiced speech to learn a voice from"
            )));
        };
        let mut warnings = Vec::new();
        if speech_seconds < RECOMMENDED_SPEECH_S {
            warnings.push(format!(
                "only {speech_seconds:.1} s of speech: 10–30 s gives a closer voice"
            ));
        }
        let profile = VoiceProfile {
            name: name.to_string(),
            created: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            base_voice: base_voice.to_string(),
            consent: consent.trim().to_string(),
            sample_seconds,
            speech_seconds,
            tone,
            embedding,
            warnings,
            neural: None,
        };

        // Written into a temporary directory and renamed: a profile is there whole or not at all.
        std::fs::create_dir_all(&self.dir).map_err(|source| io(&self.dir, source))?;
        let staging = self.dir.join(format!(".{name}.partial"));
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging).map_err(|source| io(&staging, source))?;
        let written = (|| {
            write_wav(&staging.join("sample.wav"), &audio)?;
            let json = serde_json::to_string_pretty(&profile).expect("profiles serialise");
            let path = staging.join("profile.json");
            std::fs::write(&path, json).map_err(|source| io(&path, source))?;
            std::fs::rename(&staging, &target).map_err(|source| io(&target, source))
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
        Ok(profile)
    }

    /// Every stored profile, by name; damaged ones are skipped with a warning in the log.
    pub fn list(&self) -> Vec<VoiceProfile> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        names
            .into_iter()
            .filter_map(|n| match self.get(&n) {
                Ok(p) => Some(p),
                Err(e) => {
                    tracing::warn!(profile = n, error = %e, "skipping a damaged voice profile");
                    None
                }
            })
            .collect()
    }

    pub fn get(&self, name: &str) -> Result<VoiceProfile> {
        if !valid_profile_name(name) {
            return Err(VoiceError::UnknownVoice(name.to_string()));
        }
        let path = self.dir.join(name).join("profile.json");
        let text = std::fs::read_to_string(&path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => VoiceError::UnknownVoice(name.to_string()),
            _ => io(&path, source),
        })?;
        serde_json::from_str(&text)
            .map_err(|e| VoiceError::BadProfile(format!("{} is damaged: {e}", path.display())))
    }

    /// Stores the neural converter's embeddings in an existing profile (written to a temporary
    /// file and renamed, so `profile.json` is never half-written).
    pub fn set_neural(&self, name: &str, neural: NeuralTone) -> Result<VoiceProfile> {
        let mut profile = self.get(name)?;
        profile.neural = Some(neural);
        let dir = self.dir.join(name);
        let staging = dir.join(".profile.json.partial");
        let json = serde_json::to_string_pretty(&profile).expect("profiles serialise");
        std::fs::write(&staging, json).map_err(|source| io(&staging, source))?;
        let path = dir.join("profile.json");
        std::fs::rename(&staging, &path).map_err(|source| io(&path, source))?;
        Ok(profile)
    }

    /// The stored reference recording.
    pub fn sample(&self, name: &str) -> Result<Audio> {
        self.get(name)?;
        read_wav(&self.dir.join(name).join("sample.wav"))
    }

    /// Deletes a profile and its recording.
    pub fn remove(&self, name: &str) -> Result<()> {
        self.get(name)?;
        let dir = self.dir.join(name);
        std::fs::remove_dir_all(&dir).map_err(|source| io(&dir, source))
    }
}

/// Seconds of 20 ms frames loud enough to be speech (relative to the clip's loudest frames, so a
/// quiet but clean recording still counts).
fn speech_seconds(pcm: &[f32]) -> f64 {
    let frame = (ANALYSIS_RATE / 50) as usize;
    let rms: Vec<f32> = pcm
        .chunks(frame)
        .map(|c| (c.iter().map(|s| s * s).sum::<f32>() / c.len() as f32).sqrt())
        .collect();
    let mut sorted = rms.clone();
    sorted.sort_by(f32::total_cmp);
    let loud = sorted.get(sorted.len() * 95 / 100).copied().unwrap_or(0.0);
    if loud < 0.005 {
        return 0.0;
    }
    let threshold = (loud * 0.1).max(0.003);
    rms.iter().filter(|&&r| r >= threshold).count() as f64 * 0.02
}

fn io(path: &Path, source: std::io::Error) -> VoiceError {
    VoiceError::Io {
        path: path.to_owned(),
        source,
    }
}
