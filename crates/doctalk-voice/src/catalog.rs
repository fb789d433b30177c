//! Which voices exist here and how to open one by name: the default voice (eSpeak NG), Piper
//! voices found among the model directories, and the user's cloned voices (profiles). Every voice
//! opened by name reads the languages it does not speak with the default voice, so an English
//! Piper voice still reads a Chinese sentence.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use doctalk_catalog::store::{HubSettings, ModelStore};
use doctalk_models::SearchRoots;
use doctalk_speech::vits::converter::ToneConverter;

use crate::error::{Result, VoiceError};
use crate::espeak;
use crate::neural_tone::{self, converter_id, NeuralTone, CONVERTER_MODEL};
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
    /// Where the neural tone converter's weights are (`None`: cloned voices use tone matching).
    converter_dir: Option<PathBuf>,
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
        let store = ModelStore::new(roots.clone(), HubSettings::from_env());
        let converter_dir = store.status(CONVERTER_MODEL).ok().and_then(|s| s.installed);
        VoiceCatalog {
            model_dirs,
            profiles: ProfileStore::new(voices_dir),
            converter_dir,
        }
    }

    /// Uses the converter in `dir` (or none: tone matching) instead of the one the model store found.
    pub fn with_converter_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.converter_dir = dir;
        self
    }

    /// The neural converter, when its weights are installed and load.
    pub fn converter(&self) -> Option<Result<Arc<ToneConverter>>> {
        self.converter_dir.as_deref().map(neural_tone::load_converter)
    }

    /// Makes a cloned voice from a recording (see [`ProfileStore::add`]); where the neural converter
    /// is installed, also measures the embeddings it needs, so the first sentence is not delayed.
    pub fn add_voice(
        &self,
        name: &str,
        sample: &Path,
        base_voice: &str,
        consent: &str,
    ) -> Result<VoiceProfile> {
        let profile = self.profiles.add(name, sample, base_voice, consent)?;
        self.measure_new(profile)
    }

    /// [`VoiceCatalog::add_voice`] for a recording already in memory (an upload); `what` names it
    /// in errors.
    pub fn add_voice_audio(
        &self,
        name: &str,
        audio: Audio,
        what: &str,
        base_voice: &str,
        consent: &str,
    ) -> Result<VoiceProfile> {
        let profile = self.profiles.add_audio(name, audio, what, base_voice, consent)?;
        self.measure_new(profile)
    }

    /// A new profile, measured for the neural converter where there is one.
    fn measure_new(&self, profile: VoiceProfile) -> Result<VoiceProfile> {
        let name = profile.name.clone();
        let name = name.as_str();
        match self.converter() {
            None => Ok(profile),
            Some(converter) => {
                let measured = converter.and_then(|c| self.measure_neural(&c, &profile));
                match measured {
                    Ok(neural) => self.profiles.set_neural(name, neural),
                    Err(e) => {
                        // The profile stands: it speaks with tone matching, and the next open retries.
                        tracing::warn!(profile = name, error = %e, "the neural voice converter could not measure this voice");
                        let mut profile = profile;
                        profile.warnings.push(format!(
                            "the neural voice converter failed ({e}); tone matching is used"
                        ));
                        Ok(profile)
                    }
                }
            }
        }
    }

    fn measure_neural(&self, converter: &ToneConverter, profile: &VoiceProfile) -> Result<NeuralTone> {
        let base = WithFallback::new(self.open_base(&profile.base_voice)?);
        let recording = self.profiles.sample(&profile.name)?;
        neural_tone::measure(converter, &recording, &base)
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
            let unavailable = doctalk_speech::vits::find_voice_file(&dir)
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
            let engine = if self.converter_dir.is_some() {
                format!(
                    "cloned: {} re-voiced as the recording's speaker by the neural tone-colour converter ({CONVERTER_MODEL})",
                    profile.base_voice
                )
            } else {
                format!(
                    "cloned: {} with pitch and voice colour matched to the recording (tone matching; \
                     installing the {CONVERTER_MODEL} model adds the neural converter)",
                    profile.base_voice
                )
            };
            voices.push(VoiceInfo {
                id: profile.name.clone(),
                languages: vec![Lang::Zh, Lang::En],
                kind: "cloned",
                engine,
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
        if let Some(converter) = self.converter() {
            let converter = converter?;
            let current = converter_id(&converter);
            let profile = match &profile.neural {
                Some(n) if n.converter == current => profile,
                // Made before the converter was installed (or with another one): measured now, once.
                _ => {
                    let neural = self.measure_neural(&converter, &profile)?;
                    self.profiles.set_neural(id, neural)?
                }
            };
            return Ok(Box::new(ClonedSpeaker::with_converter(profile, base, converter)));
        }
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
    doctalk_catalog::store::find_manifest(id)
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

/// A cloned voice: its base voice's speech, re-voiced by the neural converter or tone-matched to
/// the profile's recording.
pub struct ClonedSpeaker {
    profile: VoiceProfile,
    base: WithFallback,
    converter: Option<Arc<ToneConverter>>,
}

impl ClonedSpeaker {
    /// Tone matching (DSP): works without model weights.
    pub fn new(profile: VoiceProfile, base: Box<dyn Speaker>) -> Self {
        ClonedSpeaker {
            profile,
            base: WithFallback::new(base),
            converter: None,
        }
    }

    /// The neural converter; `profile.neural` must hold its embeddings (else tone matching is used).
    pub fn with_converter(
        profile: VoiceProfile,
        base: Box<dyn Speaker>,
        converter: Arc<ToneConverter>,
    ) -> Self {
        ClonedSpeaker {
            profile,
            base: WithFallback::new(base),
            converter: Some(converter),
        }
    }

    pub fn tone(&self) -> &Tone {
        &self.profile.tone
    }

    /// `neural` or `tone-matching`: how this voice is made.
    pub fn engine(&self) -> &'static str {
        match (&self.converter, &self.profile.neural) {
            (Some(_), Some(_)) => "neural",
            _ => "tone-matching",
        }
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
        match (&self.converter, &self.profile.neural) {
            (Some(converter), Some(neural)) => neural_tone::convert(converter, neural, &audio, lang),
            _ => Ok(convert(&audio, &self.profile.tone)),
        }
    }

    /// The neural converter streams its decoder: the base voice's whole sentence is converted,
    /// but playback starts after the first piece. Tone matching works on whole sentences.
    fn synthesize_streaming(
        &self,
        sentence: &str,
        lang: Lang,
        on_audio: &mut dyn FnMut(Audio) -> Result<()>,
    ) -> Result<()> {
        match (&self.converter, &self.profile.neural) {
            (Some(converter), Some(neural)) => {
                let audio = self.base.synthesize(sentence, lang)?;
                neural_tone::convert_streaming(
                    converter,
                    neural,
                    &audio,
                    lang,
                    FIRST_PIECE_FRAMES,
                    neural_tone::Pacing::Gapless,
                    on_audio,
                )
            }
            _ => on_audio(self.synthesize(sentence, lang)?),
        }
    }
}

/// Latent frames in the converter's first streamed piece (24 × 256 samples ≈ 0.28 s at 22.05 kHz).
const FIRST_PIECE_FRAMES: usize = 24;
