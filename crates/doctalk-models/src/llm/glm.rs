//! GLM-4 in the `transformers`-native layout (`GlmForCausalLM`, e.g. `THUDM/glm-4-9b-chat-hf`).
//!
//! candle has the original `ChatGLMModel` layout (`glm4`) and GLM-4-0414 (`glm4_new`, which adds two
//! post-norms per layer) but not this one: Llama-shaped blocks with q/k/v biases, a fused
//! `gate_up_proj`, and interleaved rotary embeddings on the first `partial_rotary_factor` of each head.

use candle_core::{DType, Device, Module, Result, Tensor, D};
use candle_nn::kv_cache::KvCache;
use candle_nn::{embedding, linear_b, linear_no_bias, rms_norm, Embedding, Linear, RmsNorm, VarBuilder};
use candle_transformers::utils::repeat_kv;

use super::backend::CausalLm;

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

#[derive(Debug, Clone)]
struct Attention {
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    o_proj: Linear,
    num_heads: usize,
    num_kv_heads: usize,
    head_dim: usize,
    cache: KvCache,
}

impl Attention {
    fn new(cfg: &Config, vb: VarBuilder) -> Result<Self> {
        let head_dim = cfg.head_dim();
        let (h, kv) = (cfg.num_attention_heads, cfg.num_key_value_heads);
        let bias = cfg.attention_bias;
        Ok(Self {
            q_proj: linear_b(cfg.hidden_size, h * head_dim, bias, vb.pp("q_proj"))?,
            k_proj: linear_b(cfg.hidden_size, kv * head_dim, bias, vb.pp("k_proj"))?,
            v_proj: linear_b(cfg.hidden_size, kv * head_dim, bias, vb.pp("v_proj"))?,
            o_proj: linear_no_bias(h * head_dim, cfg.hidden_size, vb.pp("o_proj"))?,
            num_heads: h,
            num_kv_heads: kv,
            head_dim,
            // Dimension 2 is the sequence in (batch, heads, seq, head_dim); 512 is only the growth step.
            cache: KvCache::new(2, 512),
        })
    }

    fn forward(
        &mut self,
        xs: &Tensor,
        rotary: &Rotary,
        mask: Option<&Tensor>,
        offset: usize,
    ) -> Result<Tensor> {
        let (b, l, _) = xs.dims3()?;
        let split = |t: Tensor, heads: usize| t.reshape((b, l, heads, self.head_dim))?.transpose(1, 2);
        let q = split(self.q_proj.forward(xs)?, self.num_heads)?;
        let k = split(self.k_proj.forward(xs)?, self.num_kv_heads)?;
        let v = split(self.v_proj.forward(xs)?, self.num_kv_heads)?.contiguous()?;
        let q = rotary.apply(&q, offset)?;
        let k = rotary.apply(&k, offset)?.contiguous()?;
        if offset == 0 {
            self.cache.reset();
        }
        let (k, v) = self.cache.append(&k, &v)?;
        let groups = self.num_heads / self.num_kv_heads;
        let k = repeat_kv(k, groups)?.contiguous()?;
        let v = repeat_kv(v, groups)?.contiguous()?;
        let scale = 1.0 / (self.head_dim as f64).sqrt();
        let scores = (q.contiguous()?.matmul(&k.t()?)? * scale)?;
        let scores = match mask {
            Some(m) => scores.broadcast_add(m)?,
            None => scores,
        };
        let probs = candle_nn::ops::softmax_last_dim(&scores)?;
        let out = probs
            .matmul(&v)?
            .transpose(1, 2)?
            .reshape((b, l, self.num_heads * self.head_dim))?;
        self.o_proj.forward(&out)
    }
}

#[derive(Debug, Clone)]
struct Mlp {
    gate_up_proj: Linear,
    down_proj: Linear,
    intermediate: usize,
}

impl Mlp {
    fn new(cfg: &Config, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            gate_up_proj: linear_no_bias(cfg.hidden_size, 2 * cfg.intermediate_size, vb.pp("gate_up_proj"))?,
            down_proj: linear_no_bias(cfg.intermediate_size, cfg.hidden_size, vb.pp("down_proj"))?,
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
    embed_tokens: Embedding,
    layers: Vec<DecoderLayer>,
    norm: RmsNorm,
    lm_head: Linear,
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
        let lm_head = if cfg.tie_word_embeddings {
            Linear::new(embed_tokens.embeddings().clone(), None)
        } else {
            linear_no_bias(cfg.hidden_size, cfg.vocab_size, vb.pp("lm_head"))?
        };
        Ok(Self {
            rotary: Rotary::new(cfg, vb.dtype(), vb.device())?,
            embed_tokens,
            layers,
            norm,
            lm_head,
            dtype: vb.dtype(),
        })
    }

    /// `input_ids`: `(batch, seq)`; returns the logits of the last position, `(batch, vocab)`.
    pub fn forward(&mut self, input_ids: &Tensor, offset: usize) -> Result<Tensor> {
        let (_, l) = input_ids.dims2()?;
        let mask = if l > 1 {
            Some(causal_mask(l, offset, self.dtype, input_ids.device())?)
        } else {
            None
        };
        let mut xs = self.embed_tokens.forward(input_ids)?;
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
