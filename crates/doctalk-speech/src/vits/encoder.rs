//! The text encoder (`enc_p`): phoneme ids → hidden states and the prior's mean and log-scale per
//! phoneme. A transformer whose self-attention adds relative-position terms within a window.

use candle_core::{DType, Tensor};

use super::layers::ChannelNorm;
use super::weights::{Conv, Weights};
use doctalk_models::Result;

pub(crate) struct TextEncoder {
    embedding: Tensor,
    layers: Vec<EncoderLayer>,
    proj: Conv,
    hidden: usize,
}

struct EncoderLayer {
    attention: RelativeAttention,
    norm1: ChannelNorm,
    ffn: (Conv, Conv),
    norm2: ChannelNorm,
}

/// What the encoder gives the rest of the network, each `[1, channels, phonemes]`.
pub(crate) struct Encoded {
    pub hidden: Tensor,
    pub mean: Tensor,
    pub log_scale: Tensor,
}

impl TextEncoder {
    pub(crate) fn load(w: &Weights) -> Result<Self> {
        let embedding = w.get("enc_p.emb.weight")?;
        let hidden = embedding.dim(1)?;
        let n = w.count("enc_p.encoder.attn_layers", ".conv_q.weight");
        let layers = (0..n)
            .map(|i| {
                let at = |part: &str| format!("enc_p.encoder.{part}.{i}");
                Ok(EncoderLayer {
                    attention: RelativeAttention::load(w, &at("attn_layers"), hidden)?,
                    norm1: ChannelNorm::load(w, &at("norm_layers_1"))?,
                    ffn: (
                        w.conv(&format!("{}.conv_1", at("ffn_layers")))?,
                        w.conv(&format!("{}.conv_2", at("ffn_layers")))?,
                    ),
                    norm2: ChannelNorm::load(w, &at("norm_layers_2"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(TextEncoder {
            embedding,
            layers,
            proj: w.conv("enc_p.proj")?,
            hidden,
        })
    }

    /// How many phoneme ids the embedding has rows for.
    pub(crate) fn vocabulary(&self) -> Result<usize> {
        Ok(self.embedding.dim(0)?)
    }

    /// `ids`: `[1, phonemes]` (u32).
    pub(crate) fn forward(&self, ids: &Tensor) -> Result<Encoded> {
        let x = self.embedding.index_select(&ids.flatten_all()?, 0)?;
        let x = (x * (self.hidden as f64).sqrt())?;
        let mut x = x.t()?.unsqueeze(0)?.contiguous()?; // [1, hidden, t]
        for layer in &self.layers {
            let y = layer.attention.forward(&x)?;
            x = layer.norm1.forward(&(x + y)?)?;
            let y = layer.ffn.0.forward(&x)?.relu()?;
            let y = layer.ffn.1.forward(&y)?;
            x = layer.norm2.forward(&(x + y)?)?;
        }
        let stats = self.proj.forward(&x)?;
        let half = stats.dim(1)? / 2;
        Ok(Encoded {
            mean: stats.narrow(1, 0, half)?,
            log_scale: stats.narrow(1, half, half)?,
            hidden: x,
        })
    }
}

/// Multi-head self-attention with relative-position embeddings for keys and values
/// (distances beyond the window contribute nothing).
struct RelativeAttention {
    q: Conv,
    k: Conv,
    v: Conv,
    o: Conv,
    /// `[1, 2 * window + 1, head_dim]`.
    rel_k: Tensor,
    rel_v: Tensor,
    heads: usize,
    window: usize,
}

impl RelativeAttention {
    fn load(w: &Weights, module: &str, hidden: usize) -> Result<Self> {
        let rel_k = w.get(&format!("{module}.emb_rel_k"))?;
        let (_, span, head_dim) = rel_k.dims3()?;
        Ok(RelativeAttention {
            q: w.conv(&format!("{module}.conv_q"))?,
            k: w.conv(&format!("{module}.conv_k"))?,
            v: w.conv(&format!("{module}.conv_v"))?,
            o: w.conv(&format!("{module}.conv_o"))?,
            rel_v: w.get(&format!("{module}.emb_rel_v"))?,
            rel_k,
            heads: hidden / head_dim,
            window: (span - 1) / 2,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (_, hidden, t) = x.dims3()?;
        let head_dim = hidden / self.heads;
        let split = |y: Tensor| -> Result<Tensor> {
            Ok(y.reshape((1, self.heads, head_dim, t))?
                .transpose(2, 3)?
                .contiguous()?)
        };
        let q = (split(self.q.forward(x)?)? / (head_dim as f64).sqrt())?;
        let k = split(self.k.forward(x)?)?;
        let v = split(self.v.forward(x)?)?;
        let device = x.device();

        let mut scores = q.matmul(&k.transpose(2, 3)?.contiguous()?)?; // [1, h, t, t]
                                                                       // q · rel_k for each relative distance in the window, placed at (i, j = i + distance).
        let span = 2 * self.window + 1;
        let rel_logits = q.broadcast_matmul(&self.rel_k.unsqueeze(0)?.transpose(2, 3)?.contiguous()?)?;
        let zeros = Tensor::zeros((1, self.heads, t, 1), DType::F32, device)?;
        let rel_logits = Tensor::cat(&[&rel_logits, &zeros], 3)?; // column `span` is zero
        let index: Vec<u32> = (0..t)
            .flat_map(|i| {
                (0..t).map(move |j| {
                    let d = j as i64 - i as i64;
                    if d.unsigned_abs() as usize <= self.window {
                        (d + self.window as i64) as u32
                    } else {
                        span as u32
                    }
                })
            })
            .collect();
        let index = Tensor::from_vec(index, (1, 1, t, t), device)?
            .broadcast_as((1, self.heads, t, t))?
            .contiguous()?;
        scores = (scores + rel_logits.contiguous()?.gather(&index, 3)?)?;
        let p = candle_nn::ops::softmax_last_dim(&scores)?;

        let mut out = p.matmul(&v)?;
        // The attention weights regrouped by relative distance, times the value embeddings.
        let zeros = Tensor::zeros((1, self.heads, t, 1), DType::F32, device)?;
        let p_padded = Tensor::cat(&[&p, &zeros], 3)?.contiguous()?; // column t is zero
        let index: Vec<u32> = (0..t)
            .flat_map(|i| {
                (0..span).map(move |r| {
                    let j = i as i64 + r as i64 - self.window as i64;
                    if (0..t as i64).contains(&j) {
                        j as u32
                    } else {
                        t as u32
                    }
                })
            })
            .collect();
        let index = Tensor::from_vec(index, (1, 1, t, span), device)?
            .broadcast_as((1, self.heads, t, span))?
            .contiguous()?;
        let by_distance = p_padded.gather(&index, 3)?;
        out = (out + by_distance.broadcast_matmul(&self.rel_v.unsqueeze(0)?)?)?;

        let out = out.transpose(2, 3)?.reshape((1, hidden, t))?;
        self.o.forward(&out.contiguous()?)
    }
}
