//! Llama-shaped decoders from GGUF — Qwen2/Qwen2.5 (DocTalk's default model) and Llama (SmolLM2) —
//! with every projection on [`QLinear`], i.e. on DocTalk's integer kernels on the CPU.
//!
//! candle's `quantized_qwen2` and `quantized_llama` multiply through `QMatMul`, whose batched path is
//! one dot product per row and column; the prompt is where a user waits, so these two architectures
//! get their own forward pass. The token embedding stays packed too: a lookup dequantizes only the
//! rows it needs instead of keeping a 540 MB f32 copy of Qwen2.5's 151,936 × 896 table.

use std::io::{Read, Seek};

use candle_core::quantized::gguf_file::{Content, Value};
use candle_core::{DType, Device, IndexOp, Module, Result, Tensor};
use candle_nn::rotary_emb::{rope, rope_i};

use super::adapter::Targets;
use super::backend::CausalLm;
use super::grouped::{Heads, TokenTable};
use crate::qlinear::QLinear;

/// How the file stores rotary pairs: llama.cpp permutes Llama's q/k rows so that pairs are adjacent.
#[derive(Debug, Clone, Copy)]
enum RopeStyle {
    /// Pairs `(i, i + d/2)` (Qwen2, GPT-NeoX).
    Halves,
    /// Pairs `(2i, 2i + 1)` (Llama as converted by llama.cpp).
    Interleaved,
}

struct Layer {
    attn_norm: Tensor,
    q: QLinear,
    k: QLinear,
    v: QLinear,
    /// Qwen2 has q/k/v biases; Llama has none.
    biases: Option<[Tensor; 3]>,
    o: QLinear,
    ffn_norm: Tensor,
    gate: QLinear,
    up: QLinear,
    down: QLinear,
    cache: Option<(Tensor, Tensor)>,
}

pub(crate) struct Model {
    embedding: TokenTable,
    layers: Vec<Layer>,
    norm: Tensor,
    output: QLinear,
    heads: Heads,
    eps: f64,
    rope: RopeStyle,
    cos: Tensor,
    sin: Tensor,
    device: Device,
}

impl Model {
    /// Builds `qwen2` or `llama` from a GGUF file.
    pub(crate) fn from_gguf<R: Read + Seek>(
        arch: &str,
        ct: &Content,
        reader: &mut R,
        device: &Device,
        adapter: &mut Targets,
    ) -> Result<Self> {
        let rope_style = match arch {
            "qwen2" => RopeStyle::Halves,
            "llama" => RopeStyle::Interleaved,
            other => candle_core::bail!("llama_like does not know {other}"),
        };
        let md = |key: &str| -> Result<&Value> {
            ct.metadata
                .get(&format!("{arch}.{key}"))
                .ok_or_else(|| candle_core::Error::Msg(format!("no {arch}.{key} in the metadata")))
        };
        let heads = md("attention.head_count")?.to_u32()? as usize;
        let kv_heads = md("attention.head_count_kv")?.to_u32()? as usize;
        let hidden = md("embedding_length")?.to_u32()? as usize;
        let blocks = md("block_count")?.to_u32()? as usize;
        let eps = md("attention.layer_norm_rms_epsilon")?.to_f32()? as f64;
        let context = md("context_length")?.to_u32()? as usize;
        let rope_base = md("rope.freq_base").and_then(|v| v.to_f32()).unwrap_or(10_000.0);
        let head_dim = md("attention.key_length")
            .and_then(|v| v.to_u32())
            .map(|v| v as usize)
            .unwrap_or(hidden / heads);

        let qtensor = |reader: &mut R, name: &str| ct.tensor(reader, name, device);
        let dense = |reader: &mut R, name: &str| qtensor(reader, name)?.dequantize(device);
        // A LoRA adapter's change rides along with the projection it targets.
        let mut linear = |reader: &mut R, name: &str| {
            Ok::<_, candle_core::Error>(
                QLinear::new(qtensor(reader, name)?)?.adapted(adapter.take_on(name, device)?),
            )
        };

        let token_embd = qtensor(reader, "token_embd.weight")?;
        let embedding = TokenTable::from_gguf(&token_embd, device)?;
        let output = if ct.tensor_infos.contains_key("output.weight") {
            linear(reader, "output.weight")?
        } else {
            // Tied embeddings: the same packed table serves lookups and the output projection.
            match &embedding {
                TokenTable::Packed(p) => QLinear::Packed(p.clone()),
                TokenTable::Dense(_) => QLinear::new(token_embd)?,
            }
        };

        let mut layers = Vec::with_capacity(blocks);
        for i in 0..blocks {
            let p = format!("blk.{i}");
            let biases = if ct.tensor_infos.contains_key(&format!("{p}.attn_q.bias")) {
                Some([
                    dense(reader, &format!("{p}.attn_q.bias"))?,
                    dense(reader, &format!("{p}.attn_k.bias"))?,
                    dense(reader, &format!("{p}.attn_v.bias"))?,
                ])
            } else {
                None
            };
            layers.push(Layer {
                attn_norm: dense(reader, &format!("{p}.attn_norm.weight"))?,
                q: linear(reader, &format!("{p}.attn_q.weight"))?,
                k: linear(reader, &format!("{p}.attn_k.weight"))?,
                v: linear(reader, &format!("{p}.attn_v.weight"))?,
                biases,
                o: linear(reader, &format!("{p}.attn_output.weight"))?,
                ffn_norm: dense(reader, &format!("{p}.ffn_norm.weight"))?,
                gate: linear(reader, &format!("{p}.ffn_gate.weight"))?,
                up: linear(reader, &format!("{p}.ffn_up.weight"))?,
                down: linear(reader, &format!("{p}.ffn_down.weight"))?,
                cache: None,
            });
        }
        let (cos, sin) = rotary_tables(head_dim, rope_base, context.min(1 << 17), device)?;
        Ok(Self {
            embedding,
            layers,
            norm: dense(reader, "output_norm.weight")?,
            output,
            heads: Heads {
                q_heads: heads,
                kv_heads,
                head_dim,
            },
            eps,
            rope: rope_style,
            cos,
            sin,
            device: device.clone(),
        })
    }

    fn rotate(&self, x: &Tensor, offset: usize) -> Result<Tensor> {
        let seq = x.dim(2)?;
        let cos = self.cos.narrow(0, offset, seq)?;
        let sin = self.sin.narrow(0, offset, seq)?;
        match self.rope {
            RopeStyle::Halves => rope(x, &cos, &sin),
            RopeStyle::Interleaved => rope_i(x, &cos, &sin),
        }
    }

    fn attention(
        &self,
        layer: &mut Layer,
        x: &Tensor,
        mask: Option<&Tensor>,
        offset: usize,
    ) -> Result<Tensor> {
        let (b, seq, _) = x.dims3()?;
        let (mut q, mut k, mut v) = (layer.q.forward(x)?, layer.k.forward(x)?, layer.v.forward(x)?);
        if let Some([bq, bk, bv]) = &layer.biases {
            q = q.broadcast_add(bq)?;
            k = k.broadcast_add(bk)?;
            v = v.broadcast_add(bv)?;
        }
        let hd = self.heads.head_dim;
        let heads = |t: Tensor, n: usize| t.reshape((b, seq, n, hd))?.transpose(1, 2)?.contiguous();
        let q = self.rotate(&heads(q, self.heads.q_heads)?, offset)?;
        let k = self.rotate(&heads(k, self.heads.kv_heads)?, offset)?;
        let v = heads(v, self.heads.kv_heads)?;
        let (k, v) = match (&layer.cache, offset) {
            (Some((ck, cv)), o) if o > 0 => (Tensor::cat(&[ck, &k], 2)?, Tensor::cat(&[cv, &v], 2)?),
            _ => (k, v),
        };
        layer.cache = Some((k.clone(), v.clone()));
        let y = self.heads.attend(&q, &k, &v, mask, offset)?;
        layer.o.forward(&y)
    }

    /// The logits of the last position (`every`: of each position, `(seq, vocab)`).
    fn forward_tokens(&mut self, tokens: &[u32], offset: usize, every: bool) -> Result<Tensor> {
        let seq = tokens.len();
        let mut x = self.embedding.lookup(tokens, &self.device)?;
        let mask = (seq > 1)
            .then(|| causal_mask(seq, offset, &self.device))
            .transpose()?;
        let mut layers = std::mem::take(&mut self.layers);
        let result = (|| {
            for layer in layers.iter_mut() {
                let h = candle_nn::ops::rms_norm(&x, &layer.attn_norm, self.eps as f32)?;
                x = (&x + self.attention(layer, &h, mask.as_ref(), offset)?)?;
                let h = candle_nn::ops::rms_norm(&x, &layer.ffn_norm, self.eps as f32)?;
                let gate = candle_nn::ops::silu(&layer.gate.forward(&h)?)?;
                let mlp = layer.down.forward(&(gate * layer.up.forward(&h)?)?)?;
                x = (&x + mlp)?;
            }
            Ok::<_, candle_core::Error>(())
        })();
        self.layers = layers;
        result?;
        if every {
            let x = candle_nn::ops::rms_norm(&x.squeeze(0)?, &self.norm, self.eps as f32)?;
            return self.output.forward(&x);
        }
        // Otherwise only the last position's logits are sampled.
        let last = x.i((.., seq - 1..seq, ..))?;
        let last = candle_nn::ops::rms_norm(&last, &self.norm, self.eps as f32)?;
        self.output.forward(&last)?.flatten_all()
    }

    /// The checks every forward pass makes before it runs.
    fn token_ids(&mut self, tokens: &Tensor, offset: usize) -> Result<Vec<u32>> {
        if offset == 0 {
            self.clear_kv_cache();
        }
        let ids: Vec<u32> = tokens.flatten_all()?.to_dtype(DType::U32)?.to_vec1()?;
        if ids.is_empty() {
            candle_core::bail!("no tokens to run");
        }
        if offset + ids.len() > self.cos.dim(0)? {
            candle_core::bail!(
                "{} tokens exceed the model's context of {}",
                offset + ids.len(),
                self.cos.dim(0)?
            );
        }
        Ok(ids)
    }
}

impl CausalLm for Model {
    fn forward(&mut self, tokens: &Tensor, offset: usize) -> Result<Tensor> {
        let ids = self.token_ids(tokens, offset)?;
        self.forward_tokens(&ids, offset, false)
    }

    fn checks_guesses(&self) -> bool {
        true
    }

    fn forward_every(&mut self, tokens: &Tensor, offset: usize) -> Result<Tensor> {
        let ids = self.token_ids(tokens, offset)?;
        self.forward_tokens(&ids, offset, true)
    }

    fn clear_kv_cache(&mut self) {
        for layer in &mut self.layers {
            layer.cache = None;
        }
    }

    fn truncate_kv_cache(&mut self, len: usize) -> bool {
        let fits = self.layers.iter().all(|layer| match &layer.cache {
            Some((k, _)) => k.dim(2).is_ok_and(|keys| keys >= len),
            None => len == 0,
        });
        if !fits {
            return false;
        }
        for layer in &mut self.layers {
            if let Some((k, v)) = &layer.cache {
                match (k.narrow(2, 0, len), v.narrow(2, 0, len)) {
                    (Ok(k), Ok(v)) => layer.cache = Some((k, v)),
                    _ => {
                        self.clear_kv_cache();
                        return false;
                    }
                }
            }
        }
        true
    }

    fn resumes(&self) -> bool {
        true
    }

    fn kv_cache(&self) -> Option<Vec<(Tensor, Tensor)>> {
        self.layers.iter().map(|layer| layer.cache.clone()).collect()
    }

    fn restore_kv_cache(&mut self, layers: Vec<(Tensor, Tensor)>, len: usize) -> bool {
        let want = [1, self.heads.kv_heads, len, self.heads.head_dim];
        let fits = layers.len() == self.layers.len()
            && layers.iter().all(|(k, v)| {
                k.dims() == want && v.dims() == want && k.dtype() == DType::F32 && v.dtype() == DType::F32
            });
        self.clear_kv_cache();
        if fits {
            for (layer, (k, v)) in self.layers.iter_mut().zip(layers) {
                layer.cache = Some((k, v));
            }
        }
        fits
    }
}

/// `cos`/`sin` of every position × frequency, `(positions, head_dim / 2)`.
pub(crate) fn rotary_tables(
    head_dim: usize,
    base: f32,
    positions: usize,
    device: &Device,
) -> Result<(Tensor, Tensor)> {
    let inv: Vec<f32> = (0..head_dim)
        .step_by(2)
        .map(|i| 1.0 / base.powf(i as f32 / head_dim as f32))
        .collect();
    let inv = Tensor::from_vec(inv, (1, head_dim / 2), device)?;
    let pos = Tensor::arange(0, positions as u32, device)?
        .to_dtype(DType::F32)?
        .reshape((positions, 1))?;
    let angles = pos.broadcast_mul(&inv)?;
    Ok((angles.cos()?, angles.sin()?))
}

/// `0` where query `i` (at `offset + i`) may attend to key `j`, `-inf` where `j` is in its future.
fn causal_mask(seq: usize, offset: usize, device: &Device) -> Result<Tensor> {
    let keys = offset + seq;
    let mask: Vec<f32> = (0..seq)
        .flat_map(|i| (0..keys).map(move |j| if j > offset + i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Tensor::from_vec(mask, (seq, keys), device)?.reshape((1, 1, seq, keys))
}
