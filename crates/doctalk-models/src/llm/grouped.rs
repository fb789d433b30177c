//! What the decoders share around their projections: grouped-query attention over a key/value cache,
//! and the token table.
//!
//! Both the Llama-shaped models (`llama_like`) and GLM let several query heads share one key/value
//! head. Copying the cache once per query head (`repeat_kv`) cost a 6B GLM about a tenth of each
//! decoded token in copies; here the query heads that share a key/value head become extra query rows
//! of it, and a prompt on the CPU goes through [`crate::attention`]'s causal blocks.

use std::sync::Arc;

use candle_core::quantized::QTensor;
use candle_core::{DType, Device, Result, Tensor};
use doctalk_qgemm::PackedMatrix;
use rayon::prelude::*;

use crate::attention::{attend_head, OutRows, Rows, SharedOut, Visibility};
use crate::qlinear::pack;

/// How a decoder's attention heads are laid out.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Heads {
    pub heads: usize,
    pub kv_heads: usize,
    pub head_dim: usize,
}

impl Heads {
    /// `softmax(q · kᵀ / √d + mask) · v`, heads side by side: `q` is `(batch, heads, seq, head_dim)`,
    /// `k` and `v` `(batch, kv_heads, keys, head_dim)` with the cache in front (`keys = offset +
    /// seq`); `mask` is additive, broadcastable to `(seq, keys)`, and only read when `seq > 1`.
    /// Returns `(batch, seq, heads · head_dim)`.
    pub(crate) fn attend(
        &self,
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        mask: Option<&Tensor>,
        offset: usize,
    ) -> Result<Tensor> {
        let (b, _, seq, _) = q.dims4()?;
        if seq > 1 && b == 1 && q.device().is_cpu() && q.dtype() == DType::F32 {
            return self.prompt_on_cpu(q, k, v, seq, offset);
        }
        let groups = self.heads / self.kv_heads;
        let keys = k.dim(2)?;
        // Consecutive query heads share a key/value head: stacked, they are its extra query rows.
        let q = q
            .contiguous()?
            .reshape((b, self.kv_heads, groups * seq, self.head_dim))?;
        let (k, v) = (k.contiguous()?, v.contiguous()?);
        let mut att = (q.matmul(&k.t()?)? / (self.head_dim as f64).sqrt())?;
        if let (Some(mask), true) = (mask, seq > 1) {
            att = att
                .reshape((b, self.kv_heads, groups, seq, keys))?
                .broadcast_add(&mask.to_dtype(att.dtype())?.reshape((seq, keys))?)?
                .reshape((b, self.kv_heads, groups * seq, keys))?;
        }
        let att = candle_nn::ops::softmax_last_dim(&att)?;
        att.matmul(&v)?
            .reshape((b, self.heads, seq, self.head_dim))?
            .transpose(1, 2)?
            .reshape((b, seq, self.heads * self.head_dim))
    }

    /// A prompt's attention on the CPU ([`crate::attention`]): causal blocks that skip the keys they
    /// cannot see, one job per query head.
    fn prompt_on_cpu(&self, q: &Tensor, k: &Tensor, v: &Tensor, seq: usize, offset: usize) -> Result<Tensor> {
        let (heads, hd) = (self.heads, self.head_dim);
        let groups = heads / self.kv_heads;
        let keys = k.dim(2)?;
        if keys != offset + seq {
            candle_core::bail!("{keys} cached keys for {seq} tokens after {offset}");
        }
        let (q, k, v): (Vec<f32>, Vec<f32>, Vec<f32>) = (
            q.contiguous()?.flatten_all()?.to_vec1()?,
            k.contiguous()?.flatten_all()?.to_vec1()?,
            v.contiguous()?.flatten_all()?.to_vec1()?,
        );
        let width = heads * hd;
        let mut out = vec![0f32; seq * width];
        let target = SharedOut::new(&mut out);
        let scale = 1.0 / (hd as f32).sqrt();
        (0..heads).into_par_iter().for_each_init(Vec::new, |scores, h| {
            let kv = h / groups;
            let rows = |data: &[f32], head: usize, len: usize| Rows {
                ptr: data[head * len * hd..].as_ptr(),
                stride: hd,
            };
            // SAFETY: q holds `seq` rows of head h, k and v `keys` rows of head kv (offset + seq
            // = keys, checked above), and head h's columns of `out` are written by this job alone.
            unsafe {
                attend_head(
                    rows(&q, h, seq),
                    rows(&k, kv, keys),
                    rows(&v, kv, keys),
                    OutRows {
                        ptr: target.at(h * hd),
                        stride: width,
                    },
                    seq,
                    keys,
                    hd,
                    scale,
                    Visibility::Causal { offset },
                    scores,
                );
            }
        });
        Tensor::from_vec(out, (1, seq, width), &Device::Cpu)
    }
}

/// The token embedding table. Packed (on the CPU, in a format the integer kernels know), a lookup
/// dequantizes only the rows it needs instead of keeping an f32 copy of the whole table (540 MB for
/// Qwen2.5's 151,936 × 896, 1 GB for ChatGLM3's 65,024 × 4,096).
#[derive(Debug, Clone)]
pub(crate) enum TokenTable {
    Packed(Arc<PackedMatrix>),
    Dense(Tensor),
}

impl TokenTable {
    /// The table of a GGUF tensor: packed where it can be, dequantized otherwise.
    pub(crate) fn from_gguf(table: &QTensor, device: &Device) -> Result<Self> {
        Ok(match pack(table)? {
            Some(packed) => Self::Packed(packed),
            None => Self::Dense(table.dequantize(device)?),
        })
    }

    /// `(1, tokens, hidden)`.
    pub(crate) fn lookup(&self, tokens: &[u32], device: &Device) -> Result<Tensor> {
        match self {
            Self::Packed(table) => {
                let k = table.k();
                let mut rows = vec![0f32; tokens.len() * k];
                for (row, &t) in rows.chunks_exact_mut(k).zip(tokens) {
                    table
                        .row(t as usize, row)
                        .map_err(|e| candle_core::Error::Msg(format!("token {t}: {e}")))?;
                }
                Tensor::from_vec(rows, (1, tokens.len(), k), device)
            }
            Self::Dense(table) => {
                let ids = Tensor::new(tokens, device)?;
                table.index_select(&ids, 0)?.unsqueeze(0)
            }
        }
    }
}
