//! Cloned voices through the neural tone-colour converter (`doctalk_speech::vits::converter`,
//! OpenVoice V2's network run in candle): the base voice's speech is re-voiced as the speaker of
//! the profile's recording. Used when the converter's weights are installed (`doctalk models pull
//! openvoice-v2`); otherwise cloned voices fall back to DSP tone matching ([`crate::tone`]).
//!
//! The converter needs two speaker embeddings: the recording's (the target) and the base voice's
//! (the source), the latter per language because another engine may read the other language.
//! Both are computed once and kept in the profile, with the converter they belong to.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use doctalk_speech::vits::converter::{find_converter_files, Revoicing, ToneConverter};
use serde::{Deserialize, Serialize};

use crate::error::{Result, VoiceError};
use crate::resample::resample;
use crate::speaker::Speaker;
use crate::text::Lang;
use crate::wav::Audio;

/// The model store's name for the converter's weights.
pub const CONVERTER_MODEL: &str = "openvoice-v2";

/// What the converter needs to speak as a profile's voice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeuralTone {
    /// Which converter the embeddings were made with ([`converter_id`]): another checkpoint
    /// needs them made again.
    pub converter: String,
    /// The recording's speaker embedding.
    pub target: Vec<f32>,
    /// The base voice's speaker embedding, by language (`en`, `zh`).
    pub source: BTreeMap<String, Vec<f32>>,
}

/// Calibration text the base voice reads to measure its own voice: several sentences, so the
/// embedding averages over many sounds.
const CALIBRATION: [(Lang, &str); 2] = [
    (
        Lang::En,
        "The quick brown fox jumps over the lazy dog. Please call Stella and ask her to bring these \
         things with her from the store. Six spoons of fresh snow peas, five thick slabs of blue \
         cheese, and maybe a snack for her brother Bob.",
    ),
    (
        Lang::Zh,
        "今天天气很好，我们一起去公园散步吧。这份文件介绍了公司的出差制度和报销流程。\
         如果有任何问题，请随时联系管理员。",
    ),
];

/// Recordings are embedded in windows of at most this many seconds, then averaged.
const WINDOW_S: f64 = 10.0;
/// Sampling noise of the posterior (OpenVoice's default).
const TAU: f32 = 0.3;

/// Identifies a converter checkpoint cheaply (embedding size and file length).
pub fn converter_id(converter: &ToneConverter) -> String {
    let bytes = std::fs::metadata(&converter.checkpoint).map_or(0, |m| m.len());
    format!("{CONVERTER_MODEL}:{}d:{bytes}", converter.embedding_dim())
}

/// Loads the converter in `dir`, once per process (its weights are shared by every cloned voice).
pub fn load_converter(dir: &Path) -> Result<Arc<ToneConverter>> {
    static LOADED: Mutex<Option<HashMap<PathBuf, Arc<ToneConverter>>>> = Mutex::new(None);
    let (_, checkpoint) = find_converter_files(dir)?;
    let mut cache = LOADED.lock().map_err(|_| VoiceError::Poisoned)?;
    let cache = cache.get_or_insert_with(HashMap::new);
    if let Some(found) = cache.get(&checkpoint) {
        return Ok(found.clone());
    }
    let converter = Arc::new(ToneConverter::load_cpu(dir)?);
    cache.insert(checkpoint, converter.clone());
    Ok(converter)
}

/// The speaker embedding of a recording: windows of up to [`WINDOW_S`] with speech in them,
/// embedded and averaged.
pub fn recording_embedding(converter: &ToneConverter, audio: &Audio) -> Result<Vec<f32>> {
    let rate = converter.sample_rate();
    let pcm = resample(&audio.samples, audio.sample_rate, rate);
    let window = (WINDOW_S * f64::from(rate)) as usize;
    let min_len = rate as usize; // a window under a second is too little to describe a voice
    let mut sum = vec![0.0f32; converter.embedding_dim()];
    let mut count = 0usize;
    let chunks: Vec<&[f32]> = pcm.chunks(window).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let rms = (chunk.iter().map(|s| s * s).sum::<f32>() / chunk.len().max(1) as f32).sqrt();
        if (chunk.len() < min_len && i > 0) || rms < 1e-3 {
            continue;
        }
        for (s, v) in sum.iter_mut().zip(converter.speaker_embedding(chunk)?) {
            *s += v;
        }
        count += 1;
    }
    if count == 0 {
        return Err(VoiceError::Silent(
            "the recording has no speech for the voice converter to learn from".into(),
        ));
    }
    Ok(sum.into_iter().map(|s| s / count as f32).collect())
}

/// Measures everything the converter needs for a profile: the recording's embedding and the base
/// voice's, per language, from the calibration text.
pub fn measure(converter: &ToneConverter, recording: &Audio, base: &dyn Speaker) -> Result<NeuralTone> {
    let target = recording_embedding(converter, recording)?;
    let mut source = BTreeMap::new();
    for (lang, text) in CALIBRATION {
        let mut spoken: Option<Audio> = None;
        for sentence in crate::text::sentences(text) {
            let audio = base.synthesize(&sentence, lang)?;
            match &mut spoken {
                None => spoken = Some(audio),
                Some(all) => all.append_sentence(&audio),
            }
        }
        if let Some(spoken) = spoken {
            source.insert(
                lang.as_str().to_string(),
                recording_embedding(converter, &spoken)?,
            );
        }
    }
    Ok(NeuralTone {
        converter: converter_id(converter),
        target,
        source,
    })
}

/// One sentence of the base voice, re-voiced. The noise seed comes from the audio's length, so
/// the same sentence sounds the same each time.
pub fn convert(converter: &ToneConverter, tone: &NeuralTone, audio: &Audio, lang: Lang) -> Result<Audio> {
    let mut out = Audio::new(Vec::new(), converter.sample_rate());
    convert_streaming(
        converter,
        tone,
        audio,
        lang,
        usize::MAX,
        Pacing::AsDecoded,
        &mut |piece| {
            out.samples.extend_from_slice(&piece.samples);
            Ok(())
        },
    )?;
    Ok(out)
}

/// How converted pieces are handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pacing {
    /// Each piece as the decoder makes it.
    AsDecoded,
    /// Held back until what is ready will last as long as the rest still takes to compute
    /// ([`may_start`]), so playback never stops mid-sentence to wait: on a fast machine the first
    /// piece goes at once, on a slow one later. (Timing-dependent by nature.)
    Gapless,
}

/// [`convert`], handing the audio out in pieces as the converter's decoder produces them (the
/// first covers `first_frames` frames of 256 samples), paced by `pacing`.
pub fn convert_streaming(
    converter: &ToneConverter,
    tone: &NeuralTone,
    audio: &Audio,
    lang: Lang,
    first_frames: usize,
    pacing: Pacing,
    on_audio: &mut dyn FnMut(Audio) -> Result<()>,
) -> Result<()> {
    let source = tone
        .source
        .get(lang.as_str())
        .or_else(|| tone.source.values().next())
        .ok_or_else(|| VoiceError::BadProfile("the profile has no base-voice embedding".into()))?;
    let rate = converter.sample_rate();
    let pcm = resample(&audio.samples, audio.sample_rate, rate);
    if pcm.is_empty() {
        return on_audio(Audio::new(pcm, rate));
    }
    let how = Revoicing {
        source,
        target: &tone.target,
        tau: TAU,
        seed: pcm.len() as u64,
    };
    let started = Instant::now();
    let total = pcm.len();
    let (mut produced, mut held, mut flowing) = (0usize, Vec::new(), pacing == Pacing::AsDecoded);
    crate::speaker::relay_pieces(on_audio, |sink| {
        converter.convert_streaming(&pcm, &how, first_frames, &mut |piece| {
            produced += piece.len();
            if flowing {
                return sink(Audio::new(piece.to_vec(), rate));
            }
            held.extend_from_slice(piece);
            let ready_s = held.len() as f64 / f64::from(rate);
            if produced >= total || may_start(ready_s, produced, total, started.elapsed().as_secs_f64()) {
                flowing = true;
                return sink(Audio::new(std::mem::take(&mut held), rate));
            }
            Ok(())
        })
    })
}

/// Whether playback may start: `ready_s` seconds of audio are waiting, `produced` of `total`
/// samples were made in `elapsed_s`; at that pace the rest must be done before the ready audio has
/// played out.
pub fn may_start(ready_s: f64, produced: usize, total: usize, elapsed_s: f64) -> bool {
    if produced == 0 {
        return false;
    }
    let remaining_s = elapsed_s / produced as f64 * total.saturating_sub(produced) as f64;
    ready_s >= remaining_s
}

#[cfg(test)]
mod tests {
    use super::may_start;

    #[test]
    fn playback_starts_once_the_ready_audio_outlasts_the_remaining_work() {
        // Fast (10× real time): the first 0.28 s piece covers the remaining 0.27 s of work.
        assert!(may_start(0.28, 6_144, 66_150, 0.028));
        // Slow (1.3× real time): not yet after 0.28 s of a 3 s sentence…
        assert!(!may_start(0.28, 6_144, 66_150, 0.36));
        // …but once most of it is ready.
        assert!(may_start(2.4, 52_920, 66_150, 3.1));
        assert!(!may_start(0.0, 0, 66_150, 0.0));
    }
}
