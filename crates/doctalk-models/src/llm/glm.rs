//! GLM-4 in the `transformers`-native layout (`GlmForCausalLM`, e.g. `THUDM/glm-4-9b-chat-hf`).
//!
//! candle has the original `ChatGLMModel` layout (`glm4`) and GLM-4-0414 (`glm4_new`, which adds two
//! post-norms per layer) but not this one: Llama-shaped blocks with q/k/v biases, a fused
//! `gate_up_proj`, and interleaved rotary embeddings on the first `partial_rotary_factor` of each head.
//!
//! The same blocks, with a fused `query_key_value` projection, are ChatGLM3-6B / GLM-4-9B-chat as
//! llama.cpp stores them in GGUF (architecture `chatglm`): [`Model::from_gguf`] loads those, so a
//! quantized ChatGLM3 runs through this one implementation (candle has no quantized ChatGLM).

use std::io::{Read, Seek};

use candle_core::quantized::{gguf_file, QTensor};
use candle_core::{DType, Device, Module, Result, Tensor, D};
use candle_nn::kv_cache::KvCache;
use candle_nn::{embedding, linear_b, linear_no_bias, rms_norm, Linear, RmsNorm, VarBuilder};

use super::adapter::Targets;
use super::backend::CausalLm;
use super::grouped::{Heads, TokenTable};
use crate::qlinear::QLinear;

/// The fields of `config.json` this model reads.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Config {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub num_key_value_heads: usize,
    #[serde(default)]
    pub head_dim: Option<usize>,
    #[serde(default = "default_partial_rotary_factor")]
    pub partial_rotary_factor: f64,
    #[serde(default = "default_true")]
    pub attention_bias: bool,
    pub max_position_embeddings: usize,
    #[serde(default = "default_rope_theta")]
    pub rope_theta: f64,
    pub rms_norm_eps: f64,
    #[serde(default)]
    pub tie_word_embeddings: bool,
}

fn default_partial_rotary_factor() -> f64 {
    0.5
}
fn default_true() -> bool {
    true
}
fn default_rope_theta() -> f64 {
    10_000.0
}

impl Config {
    fn head_dim(&self) -> usize {
        self.head_dim
            .unwrap_or(self.hidden_size / self.num_attention_heads)
    }
}

/// Interleaved (GPT-J style) rotary tables for the rotated part of a head.
#[derive(Debug, Clone)]
struct Rotary {
    cos: Tensor,
    sin: Tensor,
    rotary_dim: usize,
}

impl Rotary {
    fn new(cfg: &Config, dtype: DType, dev: &Device) -> Result<Self> {
        let rotary_dim = (cfg.head_dim() as f64 * cfg.partial_rotary_factor) as usize;
        let inv_freq: Vec<f32> = (0..rotary_dim)
            .step_by(2)
            .map(|i| (1.0 / cfg.rope_theta.powf(i as f64 / rotary_dim as f64)) as f32)
            .collect();
        let n = inv_freq.len();
        let inv_freq = Tensor::from_vec(inv_freq, (1, n), dev)?;
        // Positions stay in f32: bf16 cannot represent integers above 256 exactly.
        let positions = Tensor::arange(0u32, cfg.max_position_embeddings as u32, dev)?
            .to_dtype(DType::F32)?
            .reshape((cfg.max_position_embeddings, 1))?;
        let freqs = positions.matmul(&inv_freq)?;
        Ok(Self {
            cos: freqs.cos()?.to_dtype(dtype)?,
            sin: freqs.sin()?.to_dtype(dtype)?,
            rotary_dim,
        })
    }

    /// `xs`: `(batch, heads, seq, head_dim)`.
    fn apply(&self, xs: &Tensor, offset: usize) -> Result<Tensor> {
        let seq = xs.dim(2)?;
        let cos = self.cos.narrow(0, offset, seq)?;
        let sin = self.sin.narrow(0, offset, seq)?;
        let rot = xs.narrow(D::Minus1, 0, self.rotary_dim)?.contiguous()?;
        let pass = xs.narrow(D::Minus1, self.rotary_dim, xs.dim(D::Minus1)? - self.rotary_dim)?;
        let rot = candle_nn::rotary_emb::rope_i(&rot, &cos, &sin)?;
        Tensor::cat(&[&rot, &pass], D::Minus1)
    }
}

/// A linear layer with dense (safetensors) or GGUF-quantized weights.
#[derive(Debug, Clone)]
enum Proj {
    Dense(Linear),
    /// GGUF weights (on DocTalk's integer kernels where the format has one) and an optional bias.
    Quantized(QLinear, Option<Tensor>),
}

impl Module for Proj {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        match self {
            Proj::Dense(l) => l.forward(xs),
            Proj::Quantized(l, None) => l.forward(xs),
            Proj::Quantized(l, Some(bias)) => l.forward(xs)?.broadcast_add(bias),
        }
    }
}

/// The query/key/value projections: separate in the `transformers` layout, one fused matrix
/// (`[q; k; v]` rows) in ChatGLM's.
#[derive(Debug, Clone)]
enum Qkv {
    Split { q: Proj, k: Proj, v: Proj },
    Fused(Proj),
}

#[derive(Debug, Clone)]
struct Attention {
    qkv: Qkv,
    o_proj: Proj,
    heads: Heads,
    cache: KvCache,
}

impl Attention {
    fn new(cfg: &Config, vb: VarBuilder) -> Result<Self> {
        let head_dim = cfg.head_dim();
        let (h, kv) = (cfg.num_attention_heads, cfg.num_key_value_heads);
        let bias = cfg.attention_bias;
        let qkv = Qkv::Split {
            q: Proj::Dense(linear_b(cfg.hidden_size, h * head_dim, bias, vb.pp("q_proj"))?),
            k: Proj::Dense(linear_b(cfg.hidden_size, kv * head_dim, bias, vb.pp("k_proj"))?),
            v: Proj::Dense(linear_b(cfg.hidden_size, kv * head_dim, bias, vb.pp("v_proj"))?),
        };
        let o_proj = Proj::Dense(linear_no_bias(h * head_dim, cfg.hidden_size, vb.pp("o_proj"))?);
        Ok(Self::with_weights(qkv, o_proj, cfg))
    }

    fn with_weights(qkv: Qkv, o_proj: Proj, cfg: &Config) -> Self {
        Self {
            qkv,
            o_proj,
            heads: Heads {
                q_heads: cfg.num_attention_heads,
                kv_heads: cfg.num_key_value_heads,
                head_dim: cfg.head_dim(),
            },
            // Dimension 2 is the sequence in (batch, heads, seq, head_dim); 512 is only the growth step.
            cache: KvCache::new(2, 512),
        }
    }

    /// `(q, k, v)`, each `(batch, seq, heads * head_dim)`.
    fn project(&self, xs: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
        match &self.qkv {
            Qkv::Split { q, k, v } => Ok((q.forward(xs)?, k.forward(xs)?, v.forward(xs)?)),
            Qkv::Fused(qkv) => {
                let fused = qkv.forward(xs)?;
                let q_len = self.heads.q_heads * self.heads.head_dim;
                let kv_len = self.heads.kv_heads * self.heads.head_dim;
                Ok((
                    fused.narrow(D::Minus1, 0, q_len)?,
                    fused.narrow(D::Minus1, q_len, kv_len)?,
                    fused.narrow(D::Minus1, q_len + kv_len, kv_len)?,
                ))
            }
        }
    }

    fn forward(
        &mut self,
        xs: &Tensor,
        rotary: &Rotary,
        mask: Option<&Tensor>,
        offset: usize,
    ) -> Result<Tensor> {
        let (b, l, _) = xs.dims3()?;
        let hd = self.heads.head_dim;
        let split = |t: Tensor, heads: usize| t.reshape((b, l, heads, hd))?.transpose(1, 2);
        let (q, k, v) = self.project(xs)?;
        let q = split(q, self.heads.q_heads)?;
        let k = split(k, self.heads.kv_heads)?;
        let v = split(v, self.heads.kv_heads)?.contiguous()?;
        let q = rotary.apply(&q, offset)?;
        let k = rotary.apply(&k, offset)?.contiguous()?;
        if offset == 0 {
            self.cache.reset();
        }
        let (k, v) = self.cache.append(&k, &v)?;
        let out = self.heads.attend(&q, &k, &v, mask, offset)?;
        self.o_proj.forward(&out)
    }
}

#[derive(Debug, Clone)]
struct Mlp {
    gate_up_proj: Proj,
    down_proj: Proj,
    intermediate: usize,
}

impl Mlp {
    fn new(cfg: &Config, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            gate_up_proj: Proj::Dense(linear_no_bias(
                cfg.hidden_size,
                2 * cfg.intermediate_size,
                vb.pp("gate_up_proj"),
            )?),
            down_proj: Proj::Dense(linear_no_bias(
                cfg.intermediate_size,
                cfg.hidden_size,
                vb.pp("down_proj"),
            )?),
            intermediate: cfg.intermediate_size,
        })
    }

    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let gate_up = self.gate_up_proj.forward(xs)?;
        let gate = gate_up.narrow(D::Minus1, 0, self.intermediate)?;
        let up = gate_up.narrow(D::Minus1, self.intermediate, self.intermediate)?;
        self.down_proj.forward(&(up * candle_nn::ops::silu(&gate)?)?)
    }
}

#[derive(Debug, Clone)]
struct DecoderLayer {
    self_attn: Attention,
    mlp: Mlp,
    input_layernorm: RmsNorm,
    post_attention_layernorm: RmsNorm,
}

impl DecoderLayer {
    fn new(cfg: &Config, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            self_attn: Attention::new(cfg, vb.pp("self_attn"))?,
            mlp: Mlp::new(cfg, vb.pp("mlp"))?,
            input_layernorm: rms_norm(cfg.hidden_size, cfg.rms_norm_eps, vb.pp("input_layernorm"))?,
            post_attention_layernorm: rms_norm(
                cfg.hidden_size,
                cfg.rms_norm_eps,
                vb.pp("post_attention_layernorm"),
            )?,
        })
    }

    fn forward(
        &mut self,
        xs: &Tensor,
        rotary: &Rotary,
        mask: Option<&Tensor>,
        offset: usize,
    ) -> Result<Tensor> {
        let h = self
            .self_attn
            .forward(&self.input_layernorm.forward(xs)?, rotary, mask, offset)?;
        let xs = (xs + h)?;
        let h = self.mlp.forward(&self.post_attention_layernorm.forward(&xs)?)?;
        xs + h
    }
}

/// `GlmForCausalLM`: embeddings, decoder layers, final norm and the LM head.
#[derive(Debug, Clone)]
pub struct Model {
    embed_tokens: TokenTable,
    layers: Vec<DecoderLayer>,
    norm: RmsNorm,
    lm_head: Proj,
    rotary: Rotary,
    dtype: DType,
}

impl Model {
    pub fn new(cfg: &Config, vb: VarBuilder) -> Result<Self> {
        let m = vb.pp("model");
        let embed_tokens = embedding(cfg.vocab_size, cfg.hidden_size, m.pp("embed_tokens"))?;
        let layers = (0..cfg.num_hidden_layers)
            .map(|i| DecoderLayer::new(cfg, m.pp("layers").pp(i)))
            .collect::<Result<Vec<_>>>()?;
        let norm = rms_norm(cfg.hidden_size, cfg.rms_norm_eps, m.pp("norm"))?;
        let lm_head = Proj::Dense(if cfg.tie_word_embeddings {
            Linear::new(embed_tokens.embeddings().clone(), None)
        } else {
            linear_no_bias(cfg.hidden_size, cfg.vocab_size, vb.pp("lm_head"))?
        });
        Ok(Self {
            rotary: Rotary::new(cfg, vb.dtype(), vb.device())?,
            embed_tokens: TokenTable::Dense(embed_tokens.embeddings().clone()),
            layers,
            norm,
            lm_head,
            dtype: vb.dtype(),
        })
    }

    /// ChatGLM3 / GLM-4-9B-chat from a llama.cpp GGUF (architecture `chatglm`): fused `attn_qkv` with
    /// bias, fused `ffn_up` (gate rows first), rotary on the first `rope.dimension_count` of each head.
    /// Norms are dequantized to f32; the matrices stay quantized, and so does the token table where
    /// the integer kernels know its format (on the CPU; otherwise it is dequantized to f32).
    pub(crate) fn from_gguf<R: Read + Seek>(
        ct: &gguf_file::Content,
        reader: &mut R,
        device: &Device,
        adapter: &mut Targets,
    ) -> Result<Self> {
        let md = |key: &str| {
            ct.metadata
                .get(&format!("chatglm.{key}"))
                .ok_or_else(|| candle_core::Error::Msg(format!("no chatglm.{key} in the GGUF metadata")))
        };
        let hidden_size = md("embedding_length")?.to_u32()? as usize;
        let num_attention_heads = md("attention.head_count")?.to_u32()? as usize;
        let head_dim = match md("attention.key_length") {
            Ok(v) => v.to_u32()? as usize,
            Err(_) => hidden_size / num_attention_heads,
        };
        let rotary_dim = match md("rope.dimension_count") {
            Ok(v) => v.to_u32()? as usize,
            Err(_) => head_dim / 2,
        };
        let embed = ct.tensor(reader, "token_embd.weight", device)?;
        let vocab_size = embed.shape().dims()[0];
        let cfg = Config {
            vocab_size,
            hidden_size,
            intermediate_size: md("feed_forward_length")?.to_u32()? as usize,
            num_hidden_layers: md("block_count")?.to_u32()? as usize,
            num_attention_heads,
            num_key_value_heads: md("attention.head_count_kv")?.to_u32()? as usize,
            head_dim: Some(head_dim),
            partial_rotary_factor: rotary_dim as f64 / head_dim as f64,
            attention_bias: true,
            max_position_embeddings: md("context_length")?.to_u32()? as usize,
            rope_theta: md("rope.freq_base")
                .and_then(|v| v.to_f32())
                .map_or(10_000.0, f64::from),
            rms_norm_eps: md("attention.layer_norm_rms_epsilon")?.to_f32()? as f64,
            tie_word_embeddings: false,
        };
        let mut qtensor = |name: &str| ct.tensor(reader, name, device);
        // A quantized projection with a LoRA adapter's change, when the adapter targets it.
        let mut linear = |name: &str, t: QTensor| -> Result<QLinear> {
            Ok(QLinear::new(t)?.adapted(adapter.take_on(name, device)?))
        };
        let embed_tokens = TokenTable::from_gguf(&embed, device)?;
        let mut layers = Vec::with_capacity(cfg.num_hidden_layers);
        for i in 0..cfg.num_hidden_layers {
            let p = format!("blk.{i}");
            let qkv_bias = qtensor(&format!("{p}.attn_qkv.bias"))?.dequantize(device)?;
            let mut quantized = |name: String| -> Result<QLinear> {
                let t = qtensor(&name)?;
                linear(&name, t)
            };
            let qkv = Proj::Quantized(quantized(format!("{p}.attn_qkv.weight"))?, Some(qkv_bias));
            let o_proj = Proj::Quantized(quantized(format!("{p}.attn_output.weight"))?, None);
            let mlp = Mlp {
                gate_up_proj: Proj::Quantized(quantized(format!("{p}.ffn_up.weight"))?, None),
                down_proj: Proj::Quantized(quantized(format!("{p}.ffn_down.weight"))?, None),
                intermediate: cfg.intermediate_size,
            };
            let norm =
                |t: QTensor| -> Result<RmsNorm> { Ok(RmsNorm::new(t.dequantize(device)?, cfg.rms_norm_eps)) };
            layers.push(DecoderLayer {
                self_attn: Attention::with_weights(Qkv::Fused(qkv), o_proj, &cfg),
                mlp,
                input_layernorm: norm(qtensor(&format!("{p}.attn_norm.weight"))?)?,
                post_attention_layernorm: norm(qtensor(&format!("{p}.ffn_norm.weight"))?)?,
            });
        }
        let norm = RmsNorm::new(
            qtensor("output_norm.weight")?.dequantize(device)?,
            cfg.rms_norm_eps,
        );
        let output = qtensor("output.weight")?;
        let lm_head = Proj::Quantized(linear("output.weight", output)?, None);
        Ok(Self {
            rotary: Rotary::new(&cfg, DType::F32, device)?,
            embed_tokens,
            layers,
            norm,
            lm_head,
            dtype: DType::F32,
        })
    }

    /// `input_ids`: `(batch, seq)`; returns the logits of the last position, `(batch, vocab)`.
    pub fn forward(&mut self, input_ids: &Tensor, offset: usize) -> Result<Tensor> {
        let (b, l) = input_ids.dims2()?;
        let mask = if l > 1 {
            Some(causal_mask(l, offset, self.dtype, input_ids.device())?)
        } else {
            None
        };
        let ids: Vec<u32> = input_ids.flatten_all()?.to_dtype(DType::U32)?.to_vec1()?;
        let mut xs = self
            .embed_tokens
            .lookup(&ids, input_ids.device())?
            .reshape((b, l, ()))?;
        for layer in &mut self.layers {
            xs = layer.forward(&xs, &self.rotary, mask.as_ref(), offset)?;
        }
        let last = self.norm.forward(&xs.narrow(1, l - 1, 1)?)?;
        self.lm_head.forward(&last)?.squeeze(1)
    }

    pub fn clear_kv_cache(&mut self) {
        for layer in &mut self.layers {
            layer.self_attn.cache.reset();
        }
    }
}

/// `(seq, offset + seq)` additive mask: position i sees every cached position and itself.
fn causal_mask(seq: usize, offset: usize, dtype: DType, dev: &Device) -> Result<Tensor> {
    let mask: Vec<f32> = (0..seq)
        .flat_map(|i| (0..offset + seq).map(move |j| if j > i + offset { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Tensor::from_vec(mask, (seq, offset + seq), dev)?.to_dtype(dtype)
}

impl CausalLm for Model {
    fn forward(&mut self, tokens: &Tensor, offset: usize) -> Result<Tensor> {
        Model::forward(self, tokens, offset)?.flatten_all()
    }
    fn clear_kv_cache(&mut self) {
        Model::clear_kv_cache(self)
    }
}
