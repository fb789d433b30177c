//! A zero-shot tone-colour converter in the shape of OpenVoice V2's (MIT): speech in any language
//! is re-voiced as the speaker of a short reference recording.
//!
//! - The reference encoder ([`super::reference_encoder`]) turns a recording's linear spectrogram
//!   into a speaker embedding `g`.
//! - Conversion: the posterior encoder reads the source speech's spectrogram into latent frames;
//!   the flow, conditioned on the source speaker's embedding, maps them to a speaker-independent
//!   space; run backwards with the target's embedding it maps them back; HiFi-GAN decodes audio.
//!   With `zero_g` (V2) the encoder and decoder get a zero condition: only the flow sees speakers.
//!
//! Files: OpenVoice's `converter/config.json` and `converter/checkpoint.pth`
//! (`{"model": state_dict}`, weight-normalised layers as `weight_g`/`weight_v`). Parity with a
//! PyTorch implementation of the same network: `tests/tone_converter_parity.rs`.

use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use serde::Deserialize;

use super::decoder::{Flow, Generator};
use super::layers::WaveNet;
use super::reference_encoder::ReferenceEncoder;
use super::spectrogram::{linear_spectrogram, StftShape};
use super::weights::{Conv, ConvAttrs, Weights};
use super::Gaussian;
use doctalk_models::{ModelError, Result};

#[derive(Debug, Clone, Deserialize)]
pub struct ConverterConfig {
    pub data: ConverterData,
    pub model: ConverterModel,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ConverterData {
    pub sampling_rate: u32,
    pub filter_length: usize,
    pub hop_length: usize,
    pub win_length: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ConverterModel {
    #[serde(default)]
    pub zero_g: bool,
    pub gin_channels: usize,
    pub resblock_dilation_sizes: Vec<Vec<usize>>,
    pub upsample_rates: Vec<usize>,
    pub upsample_kernel_sizes: Vec<usize>,
}

/// The posterior encoder (`enc_q`): spectrogram → mean and log-scale of the latent frames.
struct PosteriorEncoder {
    pre: Conv,
    wavenet: WaveNet,
    proj: Conv,
}

impl PosteriorEncoder {
    fn load(w: &Weights, module: &str) -> Result<Self> {
        Ok(PosteriorEncoder {
            pre: w.conv(&format!("{module}.pre"))?,
            wavenet: WaveNet::load(w, &format!("{module}.enc"))?,
            proj: w.conv(&format!("{module}.proj"))?,
        })
    }

    fn forward(&self, spec: &Tensor, g: &Tensor) -> Result<(Tensor, Tensor)> {
        let h = self.wavenet.forward(&self.pre.forward(spec)?, Some(g))?;
        let stats = self.proj.forward(&h)?;
        let half = stats.dim(1)? / 2;
        Ok((stats.narrow(1, 0, half)?, stats.narrow(1, half, half)?))
    }
}

/// Whose voice the input is in and whose it should be in (speaker embeddings from
/// [`ToneConverter::speaker_embedding`]), and the posterior's sampling noise: `tau` scales it
/// (OpenVoice uses 0.3; 0 is deterministic), `seed` fixes it.
#[derive(Debug, Clone, Copy)]
pub struct Revoicing<'a> {
    pub source: &'a [f32],
    pub target: &'a [f32],
    pub tau: f32,
    pub seed: u64,
}

/// Every stage of one conversion (the parity test compares each).
pub struct Conversion {
    /// Posterior mean and log-scale, `[channels, frames]` flattened.
    pub mean: Vec<f32>,
    pub log_scale: Vec<f32>,
    /// The latent after the flow with the source speaker, and back with the target.
    pub z_p: Vec<f32>,
    pub z_hat: Vec<f32>,
    /// Audio at the converter's rate, as long as the input.
    pub audio: Vec<f32>,
}

/// A loaded converter.
pub struct ToneConverter {
    pub config: ConverterConfig,
    pub checkpoint: PathBuf,
    encoder: PosteriorEncoder,
    flow: Flow,
    generator: Generator,
    reference: ReferenceEncoder,
    device: Device,
}

/// The converter's two files in `dir` (or in its `converter/`, the hub repository's layout).
pub fn find_converter_files(dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let base = if dir.join("converter").join("config.json").is_file() {
        dir.join("converter")
    } else {
        dir.to_owned()
    };
    for file in ["config.json", "checkpoint.pth"] {
        if !base.join(file).is_file() {
            return Err(ModelError::Catalog(doctalk_catalog::CatalogError::MissingFile {
                dir: base,
                file: format!(
                    "{file} (the tone converter: converter/config.json and converter/checkpoint.pth)"
                ),
            }));
        }
    }
    Ok((base.join("config.json"), base.join("checkpoint.pth")))
}

impl ToneConverter {
    /// Loads the converter from `dir` (see [`find_converter_files`]).
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let (config_path, checkpoint) = find_converter_files(dir)?;
        let text = std::fs::read_to_string(&config_path).map_err(|source| ModelError::Io {
            path: config_path.clone(),
            source,
        })?;
        let config: ConverterConfig = serde_json::from_str(&text).map_err(|e| ModelError::BadConfig {
            path: config_path.clone(),
            reason: e.to_string(),
        })?;
        let bad = |reason: String| ModelError::BadConfig {
            path: config_path.clone(),
            reason,
        };
        let data = &config.data;
        let model = &config.model;
        if !data.filter_length.is_power_of_two()
            || data.win_length == 0
            || data.win_length > data.filter_length
            || data.hop_length == 0
            || data.hop_length > data.filter_length
        {
            return Err(bad(format!(
                "filter_length {} must be a power of two, at least win_length {} and hop_length {} (both above 0)",
                data.filter_length, data.win_length, data.hop_length
            )));
        }
        if model.resblock_dilation_sizes.is_empty() || data.sampling_rate == 0 {
            return Err(bad(
                "resblock_dilation_sizes and sampling_rate must be given".into()
            ));
        }
        let upsampling: usize = model.upsample_rates.iter().product();
        if upsampling != data.hop_length || model.upsample_rates.len() != model.upsample_kernel_sizes.len() {
            return Err(bad(format!(
                "the decoder's upsampling ({:?}, kernels {:?}) does not give hop_length {}",
                model.upsample_rates, model.upsample_kernel_sizes, data.hop_length
            )));
        }

        let mut weights = Weights::from_pth(&checkpoint, Some("model"), device)?;
        // A checkpoint holds no layer settings: the decoder's come from the config.
        for (i, (&rate, &kernel)) in model
            .upsample_rates
            .iter()
            .zip(&model.upsample_kernel_sizes)
            .enumerate()
        {
            weights.set_conv(
                &format!("dec.ups.{i}"),
                ConvAttrs {
                    stride: rate,
                    pad: kernel.saturating_sub(rate) / 2,
                    transposed: true,
                    ..ConvAttrs::PLAIN
                },
            );
        }
        let kernels = model.resblock_dilation_sizes.len().max(1);
        let blocks = weights.count("dec.resblocks", ".convs1.0.weight");
        for block in 0..blocks {
            for (j, &dilation) in model.resblock_dilation_sizes[block % kernels].iter().enumerate() {
                weights.set_conv(
                    &format!("dec.resblocks.{block}.convs1.{j}"),
                    ConvAttrs {
                        dilation,
                        ..ConvAttrs::PLAIN
                    },
                );
            }
        }
        Ok(ToneConverter {
            encoder: PosteriorEncoder::load(&weights, "enc_q")?,
            flow: Flow::load(&weights, "flow")?,
            generator: Generator::load(&weights, "dec")?,
            reference: ReferenceEncoder::load(&weights, "ref_enc")?,
            config,
            checkpoint,
            device: device.clone(),
        })
    }

    /// Loads the converter to run on the CPU (it is small: OpenVoice V2's is 33 M parameters).
    pub fn load_cpu(dir: &Path) -> Result<Self> {
        Self::load(dir, &Device::Cpu)
    }

    /// The rate the converter reads and writes (22.05 kHz for OpenVoice V2).
    pub fn sample_rate(&self) -> u32 {
        self.config.data.sampling_rate
    }

    /// The length of a speaker embedding.
    pub fn embedding_dim(&self) -> usize {
        self.config.model.gin_channels
    }

    fn stft_shape(&self) -> StftShape {
        StftShape {
            n_fft: self.config.data.filter_length,
            hop: self.config.data.hop_length,
            win: self.config.data.win_length,
        }
    }

    /// The linear spectrogram `[1, bins, frames]` of `pcm` (at [`Self::sample_rate`]).
    pub fn spectrogram(&self, pcm: &[f32]) -> Result<Tensor> {
        let shape = self.stft_shape();
        let (values, frames) = linear_spectrogram(pcm, shape);
        Ok(Tensor::from_vec(values, (1, shape.bins(), frames), &self.device)?)
    }

    /// The speaker embedding of one recording (at [`Self::sample_rate`]). Average several clips'
    /// embeddings for a steadier voice.
    pub fn speaker_embedding(&self, pcm: &[f32]) -> Result<Vec<f32>> {
        let spec = self.spectrogram(pcm)?;
        Ok(self.reference.forward(&spec)?.to_vec1()?)
    }

    fn embedding_tensor(&self, embedding: &[f32], what: &str) -> Result<Tensor> {
        let dim = self.embedding_dim();
        if embedding.len() != dim {
            return Err(ModelError::BadConfig {
                path: self.checkpoint.clone(),
                reason: format!(
                    "the {what} speaker embedding has {} values; this converter takes {dim}",
                    embedding.len()
                ),
            });
        }
        Ok(Tensor::from_slice(embedding, (1, dim, 1), &self.device)?)
    }

    /// Re-voices `pcm` (spoken by `how.source`'s speaker) as `how.target`'s speaker.
    pub fn convert(&self, pcm: &[f32], how: &Revoicing) -> Result<Vec<f32>> {
        Ok(self.convert_detailed(pcm, how)?.audio)
    }

    /// [`Self::convert`] handing out the audio in pieces as they are decoded (the first covers
    /// `first_frames` latent frames, the next four times as many, …; see
    /// `Generator::forward_streaming`): the encoder and flow run over the whole input, which is
    /// cheap next to the decoder. The pieces add up to the input's length.
    pub fn convert_streaming(
        &self,
        pcm: &[f32],
        how: &Revoicing,
        first_frames: usize,
        on_audio: &mut dyn FnMut(&[f32]) -> Result<()>,
    ) -> Result<()> {
        let Latent { z_hat, dec_g, .. } = self.latent(pcm, how)?;
        let mut left = pcm.len();
        self.generator
            .forward_streaming(&z_hat, Some(&dec_g), first_frames, &mut |piece| {
                let take = piece.len().min(left);
                left -= take;
                if take > 0 {
                    on_audio(&piece[..take])?;
                }
                Ok(())
            })?;
        if left > 0 {
            on_audio(&vec![0.0; left])?;
        }
        Ok(())
    }

    /// [`Self::convert`] with every intermediate stage.
    pub fn convert_detailed(&self, pcm: &[f32], how: &Revoicing) -> Result<Conversion> {
        let latent = self.latent(pcm, how)?;
        let mut audio = self.generator.forward(&latent.z_hat, Some(&latent.dec_g))?;
        audio.resize(pcm.len(), 0.0);
        let flat = |t: &Tensor| -> Result<Vec<f32>> { Ok(t.flatten_all()?.to_vec1()?) };
        Ok(Conversion {
            mean: flat(&latent.mean)?,
            log_scale: flat(&latent.log_scale)?,
            z_p: flat(&latent.z_p)?,
            z_hat: flat(&latent.z_hat)?,
            audio,
        })
    }

    /// Everything before the decoder: spectrogram → posterior → flow forward with the source
    /// speaker → backward with the target.
    fn latent(&self, pcm: &[f32], how: &Revoicing) -> Result<Latent> {
        let g_src = self.embedding_tensor(how.source, "source")?;
        let g_tgt = self.embedding_tensor(how.target, "target")?;
        let zero = g_src.zeros_like()?;
        let (enc_g, dec_g) = if self.config.model.zero_g {
            (&zero, &zero)
        } else {
            (&g_src, &g_tgt)
        };
        let spec = self.spectrogram(pcm)?;
        let (mean, log_scale) = self.encoder.forward(&spec, enc_g)?;
        let z = if how.tau > 0.0 {
            let (_, channels, frames) = mean.dims3()?;
            let noise = Gaussian::new(how.seed)
                .tensor(channels * frames, how.tau, &self.device)?
                .reshape((1, channels, frames))?;
            (&mean + (noise * log_scale.exp()?)?)?
        } else {
            mean.clone()
        };
        let z_p = self.flow.forward(&z, Some(&g_src))?;
        let z_hat = self.flow.reverse(&z_p, Some(&g_tgt))?;
        Ok(Latent {
            dec_g: dec_g.clone(),
            mean,
            log_scale,
            z_p,
            z_hat,
        })
    }
}

/// The stages before the decoder, and the decoder's condition.
struct Latent {
    mean: Tensor,
    log_scale: Tensor,
    z_p: Tensor,
    z_hat: Tensor,
    dec_g: Tensor,
}
