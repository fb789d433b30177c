//! Which voices exist here and how to open one by name: the default voice (eSpeak NG), Piper
//! voices found among the model directories, and the user's cloned voices (profiles). Every voice
//! opened by name reads the languages it does not speak with the default voice, so an English
//! Piper voice still reads a Chinese sentence.

use std::path::{Path, PathBuf};

use doctalk_models::SearchRoots;

use crate::error::{Result, VoiceError};
use crate::espeak;
use crate::piper::PiperSpeaker;
use crate::profiles::{ProfileStore, VoiceProfile};
use crate::speaker::{EspeakSpeaker, Speaker};
use crate::text::Lang;
use crate::tone::{convert, Tone};
use crate::wav::Audio;

pub const ESPEAK_VOICE: &str = "espeak-ng";

/// A voice as the user picks it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VoiceInfo {
    pub id: String,
    pub languages: Vec<Lang>,
    /// `espeak-ng`, `piper` or `cloned`.
    pub kind: &'static str,
    pub engine: String,
    pub licence: String,
    pub default: bool,
    /// Why it cannot speak on this machine (`None`: ready).
    pub unavailable: Option<String>,
}

/// The voices of one installation.
pub struct VoiceCatalog {
    model_dirs: Vec<PathBuf>,
    pub profiles: ProfileStore,
}

impl VoiceCatalog {
    /// Piper voices are looked for as `piper-*` directories under the model roots; profiles live
    /// in `voices_dir` (the data directory's `voices/`).
    pub fn new(roots: &SearchRoots, voices_dir: &Path) -> Self {
        let model_dirs = [
            roots.models_dir.clone(),
            roots.data_dir.as_ref().map(|d| d.join("models")),
            roots.repo_local.clone(),
        ]
        .into_iter()
        .flatten()
        .collect();
        VoiceCatalog {
            model_dirs,
            profiles: ProfileStore::new(voices_dir),
        }
    }

    /// Directories holding a Piper voice, by voice id (`piper-en_US-joe-medium`), first root wins.
    fn piper_dirs(&self) -> Vec<(String, PathBuf)> {
        let mut found: Vec<(String, PathBuf)> = Vec::new();
        for root in &self.model_dirs {
            let Ok(entries) = std::fs::read_dir(root) else {
                continue;
            };
            let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            dirs.sort();
            for dir in dirs {
                let Some(name) = dir.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                if name.starts_with("piper-") && dir.is_dir() && !found.iter().any(|(n, _)| n == name) {
                    found.push((name.to_string(), dir.clone()));
                }
            }
        }
        found
    }

    /// Every voice, ready or not.
    pub fn list(&self) -> Vec<VoiceInfo> {
        let mut voices = vec![VoiceInfo {
            id: ESPEAK_VOICE.into(),
            languages: vec![Lang::Zh, Lang::En],
            kind: "espeak-ng",
            engine: "eSpeak NG formant synthesis (system library libespeak-ng)".into(),
            licence: "GPL-3.0-or-later (the system library; DocTalk only loads it)".into(),
            default: true,
            unavailable: espeak::check().err().map(|e| e.to_string()),
        }];
        for (id, dir) in self.piper_dirs() {
            let unavailable = doctalk_models::vits::find_voice_file(&dir)
                .err()
                .map(|e| e.to_string())
                .or_else(|| {
                    espeak::check()
                        .err()
                        .map(|e| format!("phonemes need eSpeak NG: {e}"))
                });
            let lang = if id.contains("zh_") { Lang::Zh } else { Lang::En };
            voices.push(VoiceInfo {
                languages: vec![lang],
                kind: "piper",
                engine: "Piper (VITS neural voice, run in candle); other languages read by eSpeak NG".into(),
                licence: licence_of(&id),
                default: false,
                unavailable,
                id,
            });
        }
        for profile in self.profiles.list() {
            let unavailable = self
                .open_base(&profile.base_voice)
                .err()
                .map(|e| format!("its base voice {} cannot speak: {e}", profile.base_voice));
            voices.push(VoiceInfo {
                id: profile.name.clone(),
                languages: vec![Lang::Zh, Lang::En],
                kind: "cloned",
                engine: format!(
                    "cloned: {} with pitch and voice colour matched to the recording (tone matching)",
                    profile.base_voice
                ),
                licence: format!("your recording; consent: {}", profile.consent),
                default: false,
                unavailable,
            });
        }
        voices
    }

    /// Opens a voice by id; languages it lacks are read by the default voice.
    pub fn open(&self, id: &str) -> Result<Box<dyn Speaker>> {
        if id == ESPEAK_VOICE || id == "default" {
            espeak::check()?;
            return Ok(Box::new(EspeakSpeaker::default()));
        }
        if id.starts_with("piper-") {
            return Ok(Box::new(WithFallback::new(self.open_base(id)?)));
        }
        let profile = self.profiles.get(id)?;
        let base = self.open_base(&profile.base_voice)?;
        Ok(Box::new(ClonedSpeaker::new(profile, base)))
    }

    /// The best base voice for a new cloned voice: the first Piper voice that loads, else eSpeak NG.
    pub fn default_base(&self) -> String {
        self.piper_dirs()
            .into_iter()
            .map(|(id, _)| id)
            .find(|id| self.open_base(id).is_ok())
            .unwrap_or_else(|| ESPEAK_VOICE.to_string())
    }

    fn open_base(&self, id: &str) -> Result<Box<dyn Speaker>> {
        if id == ESPEAK_VOICE {
            espeak::check()?;
            return Ok(Box::new(EspeakSpeaker::default()));
        }
        let dir = self
            .piper_dirs()
            .into_iter()
            .find(|(name, _)| name == id)
            .map(|(_, dir)| dir)
            .ok_or_else(|| VoiceError::UnknownVoice(id.to_string()))?;
        espeak::check()?;
        Ok(Box::new(PiperSpeaker::load(&dir)?))
    }
}

fn licence_of(id: &str) -> String {
    doctalk_models::store::find_manifest(id)
        .map(|m| m.licence.clone())
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| "see the voice's MODEL_CARD".into())
}

/// A voice for its own languages, the default voice for the rest.
pub struct WithFallback {
    main: Box<dyn Speaker>,
    fallback: EspeakSpeaker,
}

impl WithFallback {
    pub fn new(main: Box<dyn Speaker>) -> Self {
        WithFallback {
            main,
            fallback: EspeakSpeaker::default(),
        }
    }
}

impl Speaker for WithFallback {
    fn id(&self) -> &str {
        self.main.id()
    }

    fn speaks(&self, _lang: Lang) -> bool {
        true
    }

    fn synthesize(&self, sentence: &str, lang: Lang) -> Result<Audio> {
        if self.main.speaks(lang) {
            self.main.synthesize(sentence, lang)
        } else {
            self.fallback.synthesize(sentence, lang)
        }
    }

    fn synthesize_streaming(
        &self,
        sentence: &str,
        lang: Lang,
        on_audio: &mut dyn FnMut(Audio) -> Result<()>,
    ) -> Result<()> {
        if self.main.speaks(lang) {
            self.main.synthesize_streaming(sentence, lang, on_audio)
        } else {
            self.fallback.synthesize_streaming(sentence, lang, on_audio)
        }
    }
}

/// A cloned voice: its base voice's speech, tone-matched to the profile's recording.
pub struct ClonedSpeaker {
    profile: VoiceProfile,
    base: WithFallback,
}

impl ClonedSpeaker {
    pub fn new(profile: VoiceProfile, base: Box<dyn Speaker>) -> Self {
        ClonedSpeaker {
            profile,
            base: WithFallback::new(base),
        }
    }

    pub fn tone(&self) -> &Tone {
        &self.profile.tone
    }
}

impl Speaker for ClonedSpeaker {
    fn id(&self) -> &str {
        &self.profile.name
    }

    fn speaks(&self, _lang: Lang) -> bool {
        true
    }

    fn synthesize(&self, sentence: &str, lang: Lang) -> Result<Audio> {
        let audio = self.base.synthesize(sentence, lang)?;
        Ok(convert(&audio, &self.profile.tone))
    }
}
