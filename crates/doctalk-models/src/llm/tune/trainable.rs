//! A Llama-shaped decoder (Qwen2, Llama) whose forward pass candle can differentiate, with LoRA
//! matrices on every attention and MLP projection as the only trainable variables.
//!
//! The inference decoder (`llama_like`) runs on integer kernels and fused operations that have no
//! backward pass; this one dequantizes the frozen weights to f32 once and uses only operations with
//! gradients (`rope_slow`, `rms_norm_slow`, `softmax`, matmuls). It computes what `llama_like` plus a
//! run-time adapter computes, so an adapter trained here behaves the same when loaded for answers
//! (tested: `tune` tests compare the two on the saved adapter).

use std::io::{Read, Seek};

use candle_core::quantized::gguf_file::Content;
use candle_core::{CpuStorage, CustomOp1, DType, Device, Layout, Result, Shape, Tensor, Var, D};
use candle_nn::ops::{rms_norm_slow, softmax};
use candle_nn::rotary_emb::{rope_i_slow, rope_slow};

use crate::llm::gguf_tokenizer::get_str;
use crate::llm::llama_like::rotary_tables;

/// The projections LoRA adapts, in PEFT's module names and llama.cpp's tensor names.
pub(crate) const PROJECTIONS: [(&str, &str); 7] = [
    ("self_attn.q_proj", "attn_q"),
    ("self_attn.k_proj", "attn_k"),
    ("self_attn.v_proj", "attn_v"),
    ("self_attn.o_proj", "attn_output"),
    ("mlp.gate_proj", "ffn_gate"),
    ("mlp.up_proj", "ffn_up"),
    ("mlp.down_proj", "ffn_down"),
];

/// One adapted projection: frozen `W` (and bias), trainable `A` `(rank, in)` and `B` `(out, rank)`.
pub(crate) struct Adapted {
    weight: Tensor,
    bias: Option<Tensor>,
    pub(crate) a: Var,
    pub(crate) b: Var,
    scale: f64,
}

impl Adapted {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let base = frozen_matmul(x, &self.weight)?;
        let base = match &self.bias {
            Some(b) => base.broadcast_add(b)?,
            None => base,
        };
        let low = x
            .matmul(&self.a.as_tensor().t()?)?
            .matmul(&self.b.as_tensor().t()?)?;
        base + (low * self.scale)?
    }
}

struct Layer {
    attn_norm: Tensor,
    ffn_norm: Tensor,
    /// In [`PROJECTIONS`] order.
    proj: Vec<Adapted>,
}

/// The whole decoder, frozen except for its LoRA matrices.
pub(crate) struct Trainable {
    embedding: Tensor,
    layers: Vec<Layer>,
    norm: Tensor,
    output: Tensor,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
    eps: f32,
    /// llama.cpp stores Llama's q/k rows reordered so that rotary pairs are adjacent.
    interleaved: bool,
    cos: Tensor,
    sin: Tensor,
    pub(crate) arch: String,
}

/// How to start the LoRA matrices.
pub(crate) enum Init<'a> {
    /// PEFT's default: `A` uniform in ±1/√in (Kaiming), `B` zero, so training starts at the base.
    Fresh { seed: u64 },
    /// Saved values, by `(layer, projection index)`: `(A, B)`.
    Saved(&'a dyn Fn(usize, usize) -> Option<(Tensor, Tensor)>),
}

impl Trainable {
    /// Reads a `qwen2` or `llama` GGUF, dequantizing its weights to f32.
    pub(crate) fn from_gguf<R: Read + Seek>(
        content: &Content,
        reader: &mut R,
        device: &Device,
        rank: usize,
        scale: f64,
        max_positions: usize,
        init: Init<'_>,
    ) -> Result<Self> {
        let arch = get_str(&content.metadata, "general.architecture")
            .unwrap_or_default()
            .to_string();
        if !matches!(arch.as_str(), "qwen2" | "llama") {
            candle_core::bail!("fine-tuning runs on qwen2 and llama GGUF models; this one is {arch:?}");
        }
        let md = |key: &str| {
            content
                .metadata
                .get(&format!("{arch}.{key}"))
                .ok_or_else(|| candle_core::Error::Msg(format!("no {arch}.{key} in the metadata")))
        };
        let heads = md("attention.head_count")?.to_u32()? as usize;
        let kv_heads = md("attention.head_count_kv")?.to_u32()? as usize;
        let hidden = md("embedding_length")?.to_u32()? as usize;
        if heads == 0 || kv_heads == 0 || !heads.is_multiple_of(kv_heads) {
            candle_core::bail!("{heads} attention heads cannot share {kv_heads} key/value heads");
        }
        let blocks = md("block_count")?.to_u32()? as usize;
        let eps = md("attention.layer_norm_rms_epsilon")?.to_f32()?;
        let base = md("rope.freq_base").and_then(|v| v.to_f32()).unwrap_or(10_000.0);
        let head_dim = md("attention.key_length")
            .and_then(|v| v.to_u32())
            .map(|v| v as usize)
            .unwrap_or(hidden / heads);
        let mut dense = |name: &str| content.tensor(reader, name, device)?.dequantize(device);
        let embedding = dense("token_embd.weight")?;
        let output = if content.tensor_infos.contains_key("output.weight") {
            dense("output.weight")?
        } else {
            embedding.clone()
        };
        let mut rng = Lcg(match init {
            Init::Fresh { seed } => seed,
            Init::Saved(_) => 0,
        });
        let mut layers = Vec::with_capacity(blocks);
        for i in 0..blocks {
            let p = format!("blk.{i}");
            let mut proj = Vec::with_capacity(PROJECTIONS.len());
            for (k, (_, gguf)) in PROJECTIONS.iter().enumerate() {
                let weight = dense(&format!("{p}.{gguf}.weight"))?;
                let bias_name = format!("{p}.{gguf}.bias");
                let bias = if content.tensor_infos.contains_key(&bias_name) {
                    Some(dense(&bias_name)?)
                } else {
                    None
                };
                let (out, inp) = weight.dims2()?;
                let (a, b) = match &init {
                    Init::Fresh { .. } => {
                        let bound = 1.0 / (inp as f32).sqrt();
                        let values: Vec<f32> = (0..rank * inp).map(|_| rng.uniform(bound)).collect();
                        (
                            Tensor::from_vec(values, (rank, inp), device)?,
                            Tensor::zeros((out, rank), DType::F32, device)?,
                        )
                    }
                    Init::Saved(get) => get(i, k).ok_or_else(|| {
                        candle_core::Error::Msg(format!("the checkpoint has no {p}.{gguf} matrices"))
                    })?,
                };
                if a.dims() != [rank, inp] || b.dims() != [out, rank] {
                    candle_core::bail!(
                        "{p}.{gguf}: the checkpoint's matrices {:?} / {:?} do not fit [{rank}, {inp}] / [{out}, {rank}]",
                        a.dims(),
                        b.dims()
                    );
                }
                proj.push(Adapted {
                    weight,
                    bias,
                    a: Var::from_tensor(&a.to_device(device)?)?,
                    b: Var::from_tensor(&b.to_device(device)?)?,
                    scale,
                });
            }
            layers.push(Layer {
                attn_norm: dense(&format!("{p}.attn_norm.weight"))?,
                ffn_norm: dense(&format!("{p}.ffn_norm.weight"))?,
                proj,
            });
        }
        let norm = dense("output_norm.weight")?;
        // The inference decoder's own tables, so both compute the same rotations.
        let (cos, sin) = rotary_tables(head_dim, base, max_positions, device)?;
        Ok(Self {
            embedding,
            layers,
            norm,
            output,
            heads,
            kv_heads,
            head_dim,
            eps,
            interleaved: arch == "llama",
            cos,
            sin,
            arch,
        })
    }

    /// Every trainable matrix: `(layer, projection index, adapted)`.
    pub(crate) fn adapted(&self) -> impl Iterator<Item = (usize, usize, &Adapted)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, l)| l.proj.iter().enumerate().map(move |(k, p)| (i, k, p)))
    }

    pub(crate) fn vars(&self) -> Vec<Var> {
        self.adapted()
            .flat_map(|(_, _, p)| [p.a.clone(), p.b.clone()])
            .collect()
    }

    pub(crate) fn heads(&self) -> (usize, usize) {
        (self.heads, self.kv_heads)
    }

    /// The final hidden states of `tokens`, `(seq, hidden)`.
    fn hidden(&self, tokens: &[u32]) -> Result<Tensor> {
        let device = self.embedding.device();
        let seq = tokens.len();
        if seq > self.cos.dim(0)? {
            candle_core::bail!("{seq} tokens exceed the training length of {}", self.cos.dim(0)?);
        }
        let ids = Tensor::new(tokens, device)?;
        let mut x = self.embedding.index_select(&ids, 0)?;
        let mask = causal_mask(seq, device)?;
        let (cos, sin) = (self.cos.narrow(0, 0, seq)?, self.sin.narrow(0, 0, seq)?);
        for layer in &self.layers {
            let h = rms_norm_slow(&x, &layer.attn_norm, self.eps)?;
            let p = &layer.proj;
            let heads = |t: Tensor, n: usize| -> Result<Tensor> {
                t.reshape((1, seq, n, self.head_dim))?
                    .transpose(1, 2)?
                    .contiguous()
            };
            let q = heads(p[0].forward(&h)?, self.heads)?;
            let k = heads(p[1].forward(&h)?, self.kv_heads)?;
            let v = heads(p[2].forward(&h)?, self.kv_heads)?;
            let (q, k) = if self.interleaved {
                (rope_i_slow(&q, &cos, &sin)?, rope_i_slow(&k, &cos, &sin)?)
            } else {
                (rope_slow(&q, &cos, &sin)?, rope_slow(&k, &cos, &sin)?)
            };
            // Grouped-query attention: each key/value head serves heads / kv_heads query heads.
            let group = self.heads / self.kv_heads;
            let repeat = |t: Tensor| -> Result<Tensor> {
                if group == 1 {
                    return Ok(t);
                }
                let (b, n, s, d) = t.dims4()?;
                t.unsqueeze(2)?
                    .broadcast_as((b, n, group, s, d))?
                    .reshape((b, n * group, s, d))
            };
            let (k, v) = (repeat(k)?, repeat(v)?);
            let scores = (q.matmul(&k.t()?)? / (self.head_dim as f64).sqrt())?.broadcast_add(&mask)?;
            let context = softmax(&scores, D::Minus1)?.matmul(&v)?;
            let context = context
                .transpose(1, 2)?
                .reshape((seq, self.heads * self.head_dim))?;
            x = (x + p[3].forward(&context)?)?;
            let h = rms_norm_slow(&x, &layer.ffn_norm, self.eps)?;
            let gate = p[4].forward(&h)?.silu()?;
            x = (x + p[6].forward(&(gate * p[5].forward(&h)?)?)?)?;
        }
        rms_norm_slow(&x, &self.norm, self.eps)
    }

    /// Mean cross-entropy of predicting `tokens[from..]`, each from the tokens before it.
    pub(crate) fn loss(&self, tokens: &[u32], from: usize) -> Result<Tensor> {
        if from == 0 || from >= tokens.len() {
            candle_core::bail!("nothing to predict: {from} of {} tokens", tokens.len());
        }
        let hidden = self.hidden(tokens)?;
        let predicting = hidden.narrow(0, from - 1, tokens.len() - from)?;
        let logits = frozen_matmul(&predicting, &self.output)?;
        let targets = Tensor::new(&tokens[from..], hidden.device())?;
        candle_nn::loss::cross_entropy(&logits, &targets)
    }

    /// The logits after the last token (for tests against the inference decoder).
    #[cfg(test)]
    pub(crate) fn last_logits(&self, tokens: &[u32]) -> Result<Vec<f32>> {
        let hidden = self.hidden(tokens)?;
        let last = hidden.narrow(0, tokens.len() - 1, 1)?;
        last.matmul(&self.output.t()?)?.flatten_all()?.to_vec1()
    }
}

/// `x · Wᵀ` for a frozen `W`. candle's matmul computes the gradients of both its sides; for the
/// base's weights that is a weight-sized tensor per projection and step, thrown away (measured on
/// Qwen2.5-0.5B: most of a step's time and 9.6 GB peak RSS). On the CPU this op gives `x` its
/// gradient only; on a GPU the plain matmul runs (its memory and speed can afford it).
fn frozen_matmul(x: &Tensor, weight: &Tensor) -> Result<Tensor> {
    if x.device().is_cpu() {
        x.contiguous()?.apply_op1(Frozen(weight.clone()))
    } else {
        x.matmul(&weight.t()?)
    }
}

struct Frozen(Tensor);

impl CustomOp1 for Frozen {
    fn name(&self) -> &'static str {
        "frozen-matmul"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(values), Some((start, end))) = (storage, layout.contiguous_offsets()) else {
            candle_core::bail!("frozen-matmul takes contiguous f32 activations");
        };
        let x = Tensor::from_slice(&values[start..end], layout.shape(), &Device::Cpu)?;
        let y = x.matmul(&self.0.t()?)?;
        let shape = y.shape().clone();
        Ok((CpuStorage::F32(y.flatten_all()?.to_vec1()?), shape))
    }

    fn bwd(&self, _arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(grad.matmul(&self.0)?))
    }
}

fn causal_mask(seq: usize, device: &Device) -> Result<Tensor> {
    let mask: Vec<f32> = (0..seq)
        .flat_map(|i| (0..seq).map(move |j| if j > i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Tensor::from_vec(mask, (1, 1, seq, seq), device)
}

/// A small deterministic generator, so that a seed gives the same start on every machine.
pub(crate) struct Lcg(pub(crate) u64);

impl Lcg {
    pub(crate) fn next_u64(&mut self) -> u64 {
        // PCG-style multiplier; the high bits are the useful ones.
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 11
    }

    /// Uniform in `[-bound, bound)`.
    fn uniform(&mut self, bound: f32) -> f32 {
        let unit = (self.next_u64() as f64) / ((1u64 << 53) as f64);
        ((unit * 2.0 - 1.0) * bound as f64) as f32
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn lora(rel: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/lora")
            .join(rel)
    }

    /// With `B` at zero the trainable model is the base: the same logits as transformers (the
    /// fixture's reference), for Qwen2 and for Llama's reordered rotary rows.
    #[test]
    fn a_fresh_adapter_leaves_the_base_logits() {
        for arch in ["qwen2", "llama"] {
            let path = lora(&format!("{arch}/base/model.gguf"));
            let mut file = std::fs::File::open(&path).unwrap();
            let content = Content::read(&mut file).unwrap();
            let model = Trainable::from_gguf(
                &content,
                &mut file,
                &Device::Cpu,
                4,
                2.0,
                64,
                Init::Fresh { seed: 1 },
            )
            .unwrap();
            let expected: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(lora(&format!("{arch}/expected.json"))).unwrap(),
            )
            .unwrap();
            let prompt: Vec<u32> = serde_json::from_value(expected["prompt"].clone()).unwrap();
            let want: Vec<f32> = serde_json::from_value(expected["base"][0].clone()).unwrap();
            let got = model.last_logits(&prompt).unwrap();
            let diff = got
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            assert!(diff < 1e-4, "{arch}: max |diff| {diff}");
        }
    }
}
