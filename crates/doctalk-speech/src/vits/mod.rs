//! VITS text-to-speech in candle, loaded from Piper voices (`<name>.onnx` + `<name>.onnx.json`).
//!
//! Piper publishes its voices as ONNX exports; DocTalk reads the weights out of the export
//! ([`onnx`], [`weights`]) and runs the network itself: the text encoder, the stochastic duration
//! predictor, the flow and the HiFi-GAN generator. The same parts make up VITS-style voice
//! converters. Phonemes come from the caller (eSpeak NG's IPA, as Piper trains on), mapped to ids
//! with the voice's own table ([`PiperVoice::phoneme_ids`]).
//!
//! Parity with ONNX Runtime on the same file is checked by `tests/vits_parity.rs`.
//!
//! [`converter`] re-voices speech with the same parts (posterior encoder, flow, HiFi-GAN) and a
//! speaker encoder: the tone-colour converter behind cloned voices.

pub mod converter;
mod decoder;
mod direct_conv;
mod duration;
mod encoder;
mod layers;
mod onnx;
mod reference_encoder;
pub mod spectrogram;
mod weights;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use serde::Deserialize;

use decoder::{Flow, Generator};
use doctalk_models::{ModelError, Result};
use duration::DurationPredictor;
use encoder::TextEncoder;
use weights::Weights;

/// The voice's `.onnx.json`: what the network expects around it.
#[derive(Debug, Clone, Deserialize)]
pub struct PiperConfig {
    pub audio: AudioConfig,
    #[serde(default)]
    pub espeak: EspeakConfig,
    #[serde(default)]
    pub inference: Scales,
    #[serde(default = "default_phoneme_type")]
    pub phoneme_type: String,
    pub phoneme_id_map: HashMap<String, Vec<u32>>,
    #[serde(default = "one")]
    pub num_speakers: u32,
    #[serde(default)]
    pub language: Option<LanguageConfig>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AudioConfig {
    pub sample_rate: u32,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct EspeakConfig {
    /// The eSpeak NG voice that phonemizes for this model (`en-us`, `cmn`).
    #[serde(default)]
    pub voice: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LanguageConfig {
    /// `en_US`, `zh_CN`.
    #[serde(default)]
    pub code: String,
}

/// Sampling temperatures and speed.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Scales {
    /// Prior noise (variation in timbre and prosody).
    #[serde(default = "noise_scale")]
    pub noise_scale: f32,
    /// Duration multiplier (> 1 is slower).
    #[serde(default = "one_f32")]
    pub length_scale: f32,
    /// Duration noise (variation in rhythm).
    #[serde(default = "noise_w")]
    pub noise_w: f32,
}

impl Default for Scales {
    fn default() -> Self {
        Scales {
            noise_scale: noise_scale(),
            length_scale: 1.0,
            noise_w: noise_w(),
        }
    }
}

fn default_phoneme_type() -> String {
    "espeak".into()
}
fn one() -> u32 {
    1
}
fn one_f32() -> f32 {
    1.0
}
fn noise_scale() -> f32 {
    0.667
}
fn noise_w() -> f32 {
    0.8
}

/// Piper's special symbols.
const PAD: &str = "_";
const BOS: &str = "^";
const EOS: &str = "$";

/// A loaded Piper voice.
pub struct PiperVoice {
    pub config: PiperConfig,
    /// The `.onnx` file it came from.
    pub model_path: PathBuf,
    encoder: TextEncoder,
    durations: DurationPredictor,
    flow: Flow,
    generator: Generator,
    device: Device,
}

/// Finds the voice in `dir`: the one `*.onnx` with a sibling `*.onnx.json` (searched two levels
/// deep, because the hub keeps voices under `en/en_US/joe/medium/`).
pub fn find_voice_file(dir: &Path) -> Result<PathBuf> {
    fn walk(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() && depth > 0 {
                walk(&path, depth - 1, found);
            } else if path.extension().is_some_and(|e| e == "onnx") {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(dir, 4, &mut found);
    found.sort();
    let onnx = found.into_iter().next().ok_or_else(|| {
        ModelError::Catalog(doctalk_catalog::CatalogError::MissingFile {
            dir: dir.to_owned(),
            file: "a Piper voice (<name>.onnx)".into(),
        })
    })?;
    let json = config_path(&onnx);
    if !json.is_file() {
        return Err(ModelError::Catalog(doctalk_catalog::CatalogError::MissingFile {
            dir: onnx.parent().unwrap_or(dir).to_owned(),
            file: json
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        }));
    }
    Ok(onnx)
}

/// Reads one of the voice's files; a missing one is named as such.
fn read_voice_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => ModelError::Catalog(doctalk_catalog::CatalogError::MissingFile {
            dir: path.parent().map(Path::to_owned).unwrap_or_default(),
            file: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        }),
        _ => ModelError::Io {
            path: path.to_owned(),
            source,
        },
    })
}

fn config_path(onnx: &Path) -> PathBuf {
    let mut name = onnx.as_os_str().to_owned();
    name.push(".json");
    PathBuf::from(name)
}

impl PiperVoice {
    /// Loads `<name>.onnx` and its `<name>.onnx.json`.
    pub fn load(onnx_path: &Path, device: &Device) -> Result<Self> {
        let json_path = config_path(onnx_path);
        let text = String::from_utf8_lossy(&read_voice_file(&json_path)?).into_owned();
        let config: PiperConfig = serde_json::from_str(&text).map_err(|e| ModelError::BadConfig {
            path: json_path.clone(),
            reason: e.to_string(),
        })?;
        if config.num_speakers > 1 {
            return Err(ModelError::BadConfig {
                path: json_path,
                reason: format!(
                    "a multi-speaker voice ({} speakers); DocTalk runs single-speaker Piper voices",
                    config.num_speakers
                ),
            });
        }
        for symbol in [PAD, BOS, EOS] {
            if !config.phoneme_id_map.contains_key(symbol) {
                return Err(ModelError::BadConfig {
                    path: json_path,
                    reason: format!("phoneme_id_map has no {symbol:?}"),
                });
            }
        }

        let bytes = read_voice_file(onnx_path)?;
        let graph = onnx::parse_model(&bytes).map_err(|reason| ModelError::CorruptFile {
            path: onnx_path.to_owned(),
            reason,
        })?;
        drop(bytes);
        let weights = Weights::from_graph(graph, onnx_path, device)?;
        Ok(PiperVoice {
            encoder: TextEncoder::load(&weights)?,
            durations: DurationPredictor::load(&weights)?,
            flow: Flow::load(&weights, "flow")?,
            generator: Generator::load(&weights, "dec")?,
            config,
            model_path: onnx_path.to_owned(),
            device: device.clone(),
        })
    }

    /// Loads the voice to run on the CPU (the usual choice: the network is small).
    pub fn load_cpu(onnx_path: &Path) -> Result<Self> {
        Self::load(onnx_path, &Device::Cpu)
    }

    pub fn sample_rate(&self) -> u32 {
        self.config.audio.sample_rate
    }

    /// Piper's id sequence for one sentence's phonemes (Unicode characters, NFD-decomposed by the
    /// caller): `^ _ p1 _ p2 _ … pn _ $`. Phonemes the voice does not know are skipped.
    pub fn phoneme_ids(&self, phonemes: &[String]) -> (Vec<u32>, Vec<String>) {
        let map = &self.config.phoneme_id_map;
        let mut ids = Vec::with_capacity(phonemes.len() * 2 + 3);
        let mut unknown = Vec::new();
        ids.extend(&map[BOS]);
        ids.extend(&map[PAD]);
        for phoneme in phonemes {
            match map.get(phoneme.as_str()) {
                Some(id) => {
                    ids.extend(id);
                    ids.extend(&map[PAD]);
                }
                None => unknown.push(phoneme.clone()),
            }
        }
        ids.extend(&map[EOS]);
        (ids, unknown)
    }

    /// Runs the network on one id sequence. Noise comes from a generator seeded with `seed`, so the
    /// same input gives the same audio. Returns raw samples (not normalised).
    pub fn synthesize_ids(&self, ids: &[u32], scales: Scales, seed: u64) -> Result<Vec<f32>> {
        let mut all = Vec::new();
        self.synthesize_streaming(ids, scales, seed, usize::MAX, &mut |piece| {
            all.extend_from_slice(piece);
            Ok(())
        })?;
        Ok(all)
    }

    /// Like [`PiperVoice::synthesize_ids`], but the generator runs over the latent frames in pieces
    /// of `first_frames` (then four times that), each decoded with [`CONTEXT_FRAMES`] of context
    /// on both sides, and `on_audio` receives each piece as it is ready: playback can start after
    /// the first piece instead of the whole sentence.
    pub fn synthesize_streaming(
        &self,
        ids: &[u32],
        scales: Scales,
        seed: u64,
        first_frames: usize,
        on_audio: &mut dyn FnMut(&[f32]) -> Result<()>,
    ) -> Result<()> {
        let z = self.latent(ids, scales, seed)?;
        self.generator.forward_streaming(&z, None, first_frames, on_audio)
    }

    /// Phoneme ids → the latent frames the generator decodes (`[1, channels, frames]`).
    fn latent(&self, ids: &[u32], scales: Scales, seed: u64) -> Result<Tensor> {
        if ids.is_empty() {
            return Err(ModelError::BadConfig {
                path: self.model_path.clone(),
                reason: "nothing to say (no phoneme ids)".into(),
            });
        }
        let vocabulary = self.encoder.vocabulary()?;
        if let Some(bad) = ids.iter().find(|&&id| id as usize >= vocabulary) {
            return Err(ModelError::BadConfig {
                path: self.model_path.clone(),
                reason: format!("phoneme id {bad} is outside the voice's {vocabulary} symbols"),
            });
        }
        let t = ids.len();
        let mut noise = Gaussian::new(seed);
        let ids_tensor = Tensor::from_slice(ids, (1, t), &self.device)?;
        let encoded = self.encoder.forward(&ids_tensor)?;

        let duration_noise = noise
            .tensor(2 * t, scales.noise_w, &self.device)?
            .reshape((1, 2, t))?;
        let log_durations = self.durations.log_durations(&encoded.hidden, &duration_noise)?;
        let frames: Vec<u32> = log_durations
            .iter()
            .map(|l| (l.exp() * scales.length_scale).ceil().max(0.0) as u32)
            .collect();
        // Each phoneme's prior repeated for its frames (at least one frame in all).
        let mut expand: Vec<u32> = frames
            .iter()
            .enumerate()
            .flat_map(|(i, &n)| std::iter::repeat_n(i as u32, n as usize))
            .collect();
        if expand.is_empty() {
            expand.push(0);
        }
        let frames_total = expand.len();
        let index = Tensor::from_vec(expand, frames_total, &self.device)?;
        let mean = encoded.mean.index_select(&index, 2)?;
        let log_scale = encoded.log_scale.index_select(&index, 2)?;
        let (_, channels, len) = mean.dims3()?;
        let eps = noise
            .tensor(channels * len, scales.noise_scale, &self.device)?
            .reshape((1, channels, len))?;
        let z_p = (mean + (eps * log_scale.exp()?)?)?;
        self.flow.reverse(&z_p, None)
    }
}

/// Latent frames of context decoded on each side of a streamed piece: more than HiFi-GAN's
/// receptive field (about ±4 frames for Piper's generators), so pieces join without a seam.
pub const CONTEXT_FRAMES: usize = 16;

/// Standard normal samples from a seeded generator (SplitMix64 + Box–Muller): the same seed gives
/// the same voice, so a sentence always sounds the same.
pub(crate) struct Gaussian {
    state: u64,
}

impl Gaussian {
    pub(crate) fn new(seed: u64) -> Self {
        Gaussian { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn uniform(&mut self) -> f64 {
        // (0, 1]: never 0, so the logarithm below is finite.
        ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }

    pub(crate) fn tensor(&mut self, n: usize, scale: f32, device: &Device) -> Result<Tensor> {
        let values: Vec<f32> = if scale == 0.0 {
            vec![0.0; n]
        } else {
            (0..n)
                .map(|_| {
                    let (u1, u2) = (self.uniform(), self.uniform());
                    let normal = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
                    normal as f32 * scale
                })
                .collect()
        };
        Ok(Tensor::from_vec(values, n, device)?.to_dtype(DType::F32)?)
    }
}
