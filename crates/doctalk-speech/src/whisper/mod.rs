//! Speech to text with Whisper (candle's model), from CTranslate2 weights (`model.bin`, as
//! faster-whisper and the registry package ship them) or a HuggingFace directory
//! (`model.safetensors` + `config.json`), with `tokenizer.json` beside them.
//!
//! Audio arrives as 16 kHz mono f32 samples (the voice crate decodes and resamples files). It is cut
//! into 30-second windows; each is decoded greedily without timestamps, in the language given or
//! the one Whisper detects on the first window. A window Whisper rates as no speech gives no text,
//! so silence does not turn into an invented "Thank you."

mod ct2;
mod mel;

use std::path::Path;
use std::sync::Mutex;

use candle_core::{Device, IndexOp, Tensor, D};
use candle_nn::VarBuilder;
use candle_transformers::models::whisper::{self as m, audio, model::Whisper};
use serde::Serialize;
use tokenizers::Tokenizer;

use doctalk_models::script::ChineseScript;
use doctalk_models::DeviceChoice;
use doctalk_models::{ModelError, Result};
// Where the model is: the catalogue's.
pub use doctalk_catalog::whisper::{find_whisper, DEFAULT_WHISPER};

pub use mel::mel_filters;

/// Whisper's sample rate: callers resample to this.
pub const SAMPLE_RATE: usize = m::SAMPLE_RATE;
/// Tokens decoded per 30-second window at most (Whisper's own limit is 224).
const MAX_TOKENS_PER_WINDOW: usize = 224;
/// A window counts as silence when Whisper gives `<|nocaptions|>` more than this probability and
/// is unsure of its text (average log-probability below [`LOGPROB_THRESHOLD`]): Whisper's own rule.
const NO_SPEECH_THRESHOLD: f32 = 0.6;
const LOGPROB_THRESHOLD: f32 = -1.0;
/// A window quieter than this RMS (−60 dBFS) is silence without asking the model, which otherwise
/// tends to "hear" a confident "you" in digital silence.
const SILENCE_RMS: f32 = 0.001;

/// What one recording said.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transcript {
    pub text: String,
    /// ISO code of the language transcribed (`zh`, `en`, …), detected or given.
    pub language: String,
    /// One per 30-second window that held speech.
    pub segments: Vec<Segment>,
    pub audio_seconds: f64,
}

impl Transcript {
    /// The transcript with its Chinese written in `script` (other languages are left as they are).
    pub fn in_script(mut self, script: ChineseScript) -> Transcript {
        if self.language == "zh" {
            self.text = script.convert(&self.text);
            for s in &mut self.segments {
                s.text = script.convert(&s.text);
            }
        }
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    pub start_s: f64,
    pub end_s: f64,
    pub text: String,
    /// Probability Whisper gave to "no speech" for this window.
    pub no_speech_prob: f32,
}

/// A loaded Whisper model. `transcribe` calls are serialised (the decoder keeps a cache).
pub struct Transcriber {
    model: Mutex<Whisper>,
    tokenizer: Tokenizer,
    filters: Vec<f32>,
    device: Device,
    special: Special,
    /// Token ids never emitted (Whisper's `suppress_tokens`, plus every timestamp token).
    suppress: Vec<u32>,
    /// Also suppressed at the first step: a leading space or an immediate end.
    suppress_begin: Vec<u32>,
    /// `(code, token id)` of every language the model knows.
    languages: Vec<(String, u32)>,
    id: String,
}

struct Special {
    sot: u32,
    eot: u32,
    transcribe: u32,
    no_timestamps: u32,
    no_speech: Option<u32>,
}

/// The files a Whisper directory holds: `model.bin` (CTranslate2) or `model.safetensors` +
/// `config.json` (HuggingFace), and `tokenizer.json`.
pub fn load_whisper(dir: &Path, device: DeviceChoice) -> Result<Transcriber> {
    let device = device.open()?;
    let missing = |file: &str| {
        ModelError::Catalog(doctalk_catalog::CatalogError::MissingFile {
            dir: dir.to_owned(),
            file: file.to_string(),
        })
    };
    let tokenizer_path = dir.join("tokenizer.json");
    if !tokenizer_path.is_file() {
        return Err(missing("tokenizer.json"));
    }
    if !dir.join("model.bin").is_file() && !dir.join("model.safetensors").is_file() {
        return Err(missing("model.bin (CTranslate2) or model.safetensors"));
    }
    let tokenizer = Tokenizer::from_file(&tokenizer_path)
        .map_err(|e| ModelError::Tokenizer(format!("{}: {e}", tokenizer_path.display())))?;
    let ct2 = dir.join("model.bin");
    let (config, tensors) = if ct2.is_file() {
        let (spec, vars) = ct2::read_variables(&ct2)?;
        if spec != "WhisperSpec" {
            return Err(ModelError::UnsupportedArchitecture {
                path: ct2,
                arch: spec,
            });
        }
        let config = config_from_ct2(&vars, &ct2)?;
        let tensors = ct2::to_hf_tensors(&vars, &ct2, &device)?;
        (config, tensors)
    } else if dir.join("model.safetensors").is_file() {
        let config_path = dir.join("config.json");
        let text = std::fs::read_to_string(&config_path).map_err(|_| missing("config.json"))?;
        let config: m::Config = serde_json::from_str(&text).map_err(|e| ModelError::BadConfig {
            path: config_path.clone(),
            reason: e.to_string(),
        })?;
        let tensors = candle_core::safetensors::load(dir.join("model.safetensors"), &device)?;
        (config, tensors)
    } else {
        return Err(missing("model.bin (CTranslate2) or model.safetensors"));
    };
    let vb = VarBuilder::from_tensors(tensors, candle_core::DType::F32, &device);
    let model = Whisper::load(&vb, config.clone())?;

    let token = |t: &str| tokenizer.token_to_id(t);
    let need = |t: &str| {
        token(t)
            .ok_or_else(|| ModelError::Tokenizer(format!("{} has no {t} token", tokenizer_path.display())))
    };
    let special = Special {
        sot: need(m::SOT_TOKEN)?,
        eot: need(m::EOT_TOKEN)?,
        transcribe: need(m::TRANSCRIBE_TOKEN)?,
        no_timestamps: need(m::NO_TIMESTAMPS_TOKEN)?,
        no_speech: m::NO_SPEECH_TOKENS.iter().find_map(|t| token(t)),
    };
    let languages: Vec<(String, u32)> = (special.sot + 1..special.transcribe)
        .filter_map(|id| {
            let t = tokenizer.id_to_token(id)?;
            let code = t.strip_prefix("<|")?.strip_suffix("|>")?;
            (code.len() <= 3 && code.chars().all(|c| c.is_ascii_lowercase())).then(|| (code.to_string(), id))
        })
        .collect();
    // Whisper's suppress list (from the CTranslate2 config or the HF config), and timestamps: every
    // id after <|notimestamps|> up to the vocabulary's end.
    let mut suppress = read_suppress(dir, &config);
    suppress.extend(special.no_timestamps + 1..config.vocab_size as u32);
    suppress.extend([special.sot, special.transcribe, special.no_timestamps]);
    suppress.extend(special.no_speech);
    let space = tokenizer
        .encode(" ", false)
        .ok()
        .and_then(|e| e.get_ids().first().copied());
    let suppress_begin = space.into_iter().chain([special.eot]).collect();
    Ok(Transcriber {
        model: Mutex::new(model),
        tokenizer,
        filters: mel_filters(SAMPLE_RATE, m::N_FFT, config.num_mel_bins),
        device,
        special,
        suppress,
        suppress_begin,
        languages,
        id: dir
            .file_name()
            .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into_owned()),
    })
}

/// The model config from the tensor shapes and scalars of a CTranslate2 Whisper file.
fn config_from_ct2(
    vars: &std::collections::HashMap<String, ct2::Variable>,
    path: &Path,
) -> Result<m::Config> {
    let shape = |name: &str| {
        vars.get(name)
            .map(|v| v.shape.clone())
            .ok_or_else(|| ModelError::CorruptFile {
                path: path.to_owned(),
                reason: format!("no variable {name}"),
            })
    };
    let heads = |name: &str| vars.get(name).and_then(|v| v.scalar()).map(|h| h as usize);
    let conv1 = shape("encoder/conv1/weight")?;
    let embeddings = shape("decoder/embeddings/weight")?;
    let d_model = conv1[0];
    // Whisper's head size is 64 in every released size; used when the file omits the scalar.
    let default_heads = d_model / 64;
    Ok(m::Config {
        num_mel_bins: conv1[1],
        max_source_positions: shape("encoder/position_encodings/encodings")?[0],
        d_model,
        encoder_attention_heads: heads("encoder/num_heads").unwrap_or(default_heads),
        encoder_layers: ct2::count_layers(vars, "encoder"),
        vocab_size: embeddings[0],
        max_target_positions: shape("decoder/position_encodings/encodings")?[0],
        decoder_attention_heads: heads("decoder/num_heads").unwrap_or(default_heads),
        decoder_layers: ct2::count_layers(vars, "decoder"),
        suppress_tokens: Vec::new(),
    })
}

/// `suppress_ids` from CTranslate2's config.json, else `suppress_tokens` of the HF config.
fn read_suppress(dir: &Path, config: &m::Config) -> Vec<u32> {
    let from_file = std::fs::read_to_string(dir.join("config.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("suppress_ids").cloned())
        .and_then(|ids| serde_json::from_value::<Vec<u32>>(ids).ok());
    from_file.unwrap_or_else(|| config.suppress_tokens.clone())
}

impl Transcriber {
    pub fn model_id(&self) -> &str {
        &self.id
    }

    /// Language codes this model can transcribe.
    pub fn languages(&self) -> impl Iterator<Item = &str> {
        self.languages.iter().map(|(c, _)| c.as_str())
    }

    /// Transcribes 16 kHz mono samples; `language` (`zh`, `en`, …) or `None` to detect it. Chinese
    /// comes out in the script of `zh-CN` / `zh-TW` (`zh-HK`) when the language says so, else in the
    /// system locale's (Whisper itself often writes 繁體 for Mandarin).
    pub fn transcribe(&self, pcm: &[f32], language: Option<&str>) -> Result<Transcript> {
        let audio_seconds = pcm.len() as f64 / SAMPLE_RATE as f64;
        let (language, script) = match language.map(ChineseScript::split_tag) {
            Some((code, script)) => (Some(code), script),
            None => (None, None),
        };
        let forced = match language {
            Some(code) => Some(
                self.languages
                    .iter()
                    .find(|(c, _)| c == code)
                    .cloned()
                    .ok_or_else(|| {
                        ModelError::InvalidParams(format!(
                            "Whisper does not know the language {code:?} (try zh or en)"
                        ))
                    })?,
            ),
            None => None,
        };
        let mut model = self
            .model
            .lock()
            .map_err(|_| ModelError::Template("whisper model lock poisoned".into()))?;
        let config = model.config.clone();
        // Pad to whole windows so every window sees 30 s of input, as in training.
        let windows = pcm.len().div_ceil(m::N_SAMPLES).max(1);
        let mut padded = pcm.to_vec();
        padded.resize(windows * m::N_SAMPLES, 0.0);
        let mel = audio::pcm_to_mel(&config, &padded, &self.filters);
        let frames = mel.len() / config.num_mel_bins;
        let mel = Tensor::from_vec(mel, (1, config.num_mel_bins, frames), &self.device)?;

        let mut lang = forced.clone();
        let mut segments = Vec::new();
        for w in 0..windows {
            let samples = &padded[w * m::N_SAMPLES..(w + 1) * m::N_SAMPLES];
            let rms = (samples.iter().map(|x| x * x).sum::<f32>() / samples.len() as f32).sqrt();
            if rms < SILENCE_RMS {
                continue;
            }
            let start = w * m::N_FRAMES;
            let window = mel.narrow(2, start, m::N_FRAMES)?;
            let features = model.encoder.forward(&window, true)?;
            let (_, lang_token) = match &lang {
                Some(l) => l.clone(),
                None => {
                    let detected = self.detect_language(&mut model, &features)?;
                    lang = Some(detected.clone());
                    detected
                }
            };
            let (text, no_speech_prob, avg_logprob) =
                self.decode_window(&mut model, &features, lang_token)?;
            let start_s = (w * m::N_SAMPLES) as f64 / SAMPLE_RATE as f64;
            let end_s = audio_seconds.min(((w + 1) * m::N_SAMPLES) as f64 / SAMPLE_RATE as f64);
            if (no_speech_prob > NO_SPEECH_THRESHOLD && avg_logprob < LOGPROB_THRESHOLD)
                || text.trim().is_empty()
            {
                continue;
            }
            segments.push(Segment {
                start_s,
                end_s,
                text: text.trim().to_string(),
                no_speech_prob,
            });
        }
        let language = lang.map(|(c, _)| c).unwrap_or_else(|| "en".into());
        let separator = if matches!(language.as_str(), "zh" | "ja" | "yue") {
            ""
        } else {
            " "
        };
        let text = segments
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(separator);
        let transcript = Transcript {
            text,
            language,
            segments,
            audio_seconds,
        };
        Ok(transcript.in_script(script.unwrap_or_else(ChineseScript::from_locale)))
    }

    /// The most likely language token after `<|startoftranscript|>`.
    fn detect_language(&self, model: &mut Whisper, features: &Tensor) -> Result<(String, u32)> {
        let tokens = Tensor::new(&[[self.special.sot]], &self.device)?;
        let hidden = model.decoder.forward(&tokens, features, true)?;
        let logits = model.decoder.final_linear(&hidden.i((.., 0..1))?)?.i((0, 0))?;
        let logits: Vec<f32> = logits.to_vec1()?;
        self.languages
            .iter()
            .max_by(|a, b| logits[a.1 as usize].total_cmp(&logits[b.1 as usize]))
            .cloned()
            .ok_or_else(|| ModelError::Tokenizer("the tokenizer lists no languages".into()))
    }

    /// Greedy decoding of one window; returns the text, the no-speech probability and the average
    /// log-probability of the chosen tokens.
    fn decode_window(&self, model: &mut Whisper, features: &Tensor, lang: u32) -> Result<(String, f32, f32)> {
        let s = &self.special;
        let prompt = [s.sot, lang, s.transcribe, s.no_timestamps];
        let mut tokens: Vec<u32> = prompt.to_vec();
        let mut no_speech_prob = 0.0;
        let (mut logprob_sum, mut steps) = (0f32, 0usize);
        let vocab = model.config.vocab_size;
        let mut mask = vec![0f32; vocab];
        for &id in &self.suppress {
            if (id as usize) < vocab {
                mask[id as usize] = f32::NEG_INFINITY;
            }
        }
        let mask = Tensor::from_vec(mask, vocab, &self.device)?;
        for step in 0..MAX_TOKENS_PER_WINDOW {
            let input = Tensor::new(tokens.as_slice(), &self.device)?.unsqueeze(0)?;
            // The cross-attention cache is filled at the first step and reused after.
            let hidden = model.decoder.forward(&input, features, step == 0)?;
            if step == 0 {
                if let Some(ns) = s.no_speech {
                    let first = model.decoder.final_linear(&hidden.i((.., 0..1))?)?.i((0, 0))?;
                    let probs = candle_nn::ops::softmax_last_dim(&first)?;
                    no_speech_prob = probs.i(ns as usize)?.to_scalar::<f32>()?;
                }
            }
            let last = hidden.dim(1)? - 1;
            let logits = model
                .decoder
                .final_linear(&hidden.i((.., last..last + 1))?)?
                .i((0, 0))?;
            let mut logits = logits.broadcast_add(&mask)?;
            if step == 0 {
                let mut begin = vec![0f32; vocab];
                for &id in &self.suppress_begin {
                    begin[id as usize] = f32::NEG_INFINITY;
                }
                logits = logits.broadcast_add(&Tensor::from_vec(begin, vocab, &self.device)?)?;
            }
            let next = logits.argmax(D::Minus1)?.to_scalar::<u32>()?;
            let logprobs = candle_nn::ops::log_softmax(&logits, D::Minus1)?;
            logprob_sum += logprobs.i(next as usize)?.to_scalar::<f32>()?;
            steps += 1;
            if next == s.eot {
                break;
            }
            tokens.push(next);
            if tokens.len() >= model.config.max_target_positions || repeating(&tokens[prompt.len()..]) {
                break;
            }
        }
        let text = self
            .tokenizer
            .decode(&tokens[prompt.len()..], true)
            .map_err(|e| ModelError::Tokenizer(e.to_string()))?;
        Ok((text, no_speech_prob, logprob_sum / steps.max(1) as f32))
    }
}

/// Greedy decoding can loop on one phrase; stop when the last n tokens repeat three times.
fn repeating(tokens: &[u32]) -> bool {
    (1..=16).any(|n| {
        tokens.len() >= 3 * n && {
            let end = tokens.len();
            tokens[end - n..] == tokens[end - 2 * n..end - n]
                && tokens[end - n..] == tokens[end - 3 * n..end - 2 * n]
        }
    }) && tokens.len() >= 12
}

#[cfg(test)]
mod tests {
    use super::repeating;

    #[test]
    fn loops_are_detected_but_short_repeats_are_speech() {
        assert!(!repeating(&[1, 2, 3, 1, 2, 3]));
        let mut looped = vec![9, 8, 7, 6, 5, 4];
        for _ in 0..3 {
            looped.extend([1, 2, 3, 4]);
        }
        assert!(repeating(&looped));
        assert!(!repeating(&(0..40).collect::<Vec<u32>>()));
    }
}
