//! Speakers: engines that turn one sentence in one language into audio. The voice picks an engine
//! per sentence, so a Chinese answer quoting an English term is read by both.

use crate::error::{Result, VoiceError};
use crate::espeak;
use crate::text::{self, Lang};
use crate::wav::Audio;

/// A speech engine.
pub trait Speaker: Send + Sync {
    /// A stable name (`espeak-ng`, `piper:en_US-joe-medium`, a voice profile's name).
    fn id(&self) -> &str;
    /// Whether it speaks `lang`.
    fn speaks(&self, lang: Lang) -> bool;
    /// One sentence, already speakable (no citations, no Markdown).
    fn synthesize(&self, sentence: &str, lang: Lang) -> Result<Audio>;
    /// One sentence handed out in pieces as they are ready, so playback starts before the whole
    /// sentence is synthesised. Engines that cannot stream give the sentence as one piece.
    fn synthesize_streaming(
        &self,
        sentence: &str,
        lang: Lang,
        on_audio: &mut dyn FnMut(Audio) -> Result<()>,
    ) -> Result<()> {
        on_audio(self.synthesize(sentence, lang)?)
    }
}

/// The offline default voice (eSpeak NG): Mandarin and English on any machine with libespeak-ng.
pub struct EspeakSpeaker {
    /// Words per minute (eSpeak's default is 175; a little slower is easier to follow).
    pub rate_wpm: u32,
}

impl Default for EspeakSpeaker {
    fn default() -> Self {
        EspeakSpeaker { rate_wpm: 165 }
    }
}

impl Speaker for EspeakSpeaker {
    fn id(&self) -> &str {
        "espeak-ng"
    }

    fn speaks(&self, _lang: Lang) -> bool {
        true
    }

    fn synthesize(&self, sentence: &str, lang: Lang) -> Result<Audio> {
        // eSpeak NG 1.51's `cmn` voice spells Han characters as English letters; its pinyin voice
        // reads them correctly. Later releases fixed `cmn`, which stays the fallback.
        let voices: &[&str] = match lang {
            Lang::Zh => &["cmn-latn-pinyin", "cmn"],
            Lang::En => &["en-us", "en"],
        };
        let mut last = None;
        for voice in voices {
            match espeak::synthesize(sentence, voice, self.rate_wpm) {
                Ok((samples, rate)) => {
                    let samples = samples.iter().map(|&s| s as f32 / 32768.0).collect();
                    return Ok(Audio::new(samples, rate));
                }
                Err(VoiceError::UnknownVoice(v)) => last = Some(VoiceError::UnknownVoice(v)),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| VoiceError::UnknownVoice(format!("{lang:?}"))))
    }
}

/// Runs a model's streaming loop with `on_audio` as the sink of its pieces. When `on_audio`
/// fails (a stop), the model is told to stop (`ModelError::Stopped`) and the caller gets
/// `on_audio`'s own error back, not the model's.
pub(crate) fn relay_pieces(
    on_audio: &mut dyn FnMut(Audio) -> Result<()>,
    run: impl FnOnce(&mut dyn FnMut(Audio) -> doctalk_models::Result<()>) -> doctalk_models::Result<()>,
) -> Result<()> {
    let mut failure = None;
    let outcome = run(&mut |audio| {
        on_audio(audio).map_err(|e| {
            failure = Some(e);
            doctalk_models::ModelError::Stopped
        })
    });
    outcome.map_err(|e| failure.take().unwrap_or_else(|| VoiceError::from(e)))
}

/// Speaks a whole text: sentence by sentence, each in its own language, joined at `speaker`'s first
/// sentence's rate with a short pause between sentences.
pub fn speak_text(speaker: &dyn Speaker, text: &str) -> Result<Audio> {
    let sentences = text::sentences(text);
    if sentences.is_empty() {
        return Err(VoiceError::EmptyText);
    }
    let mut out: Option<Audio> = None;
    for sentence in sentences {
        let lang = text::detect(&sentence).map_err(VoiceError::UnsupportedLanguage)?;
        if !speaker.speaks(lang) {
            return Err(VoiceError::UnsupportedLanguage(format!(
                "{lang:?} (voice {})",
                speaker.id()
            )));
        }
        let audio = speaker.synthesize(&sentence, lang)?;
        match &mut out {
            None => out = Some(audio),
            Some(all) => all.append_sentence(&audio),
        }
    }
    out.ok_or(VoiceError::EmptyText)
}
