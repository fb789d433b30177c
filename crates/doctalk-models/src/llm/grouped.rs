//! What the decoders share around their projections: grouped-query attention over a key/value cache,
//! and the token table.
//!
//! Both the Llama-shaped models (`llama_like`) and GLM let several query heads share one key/value
//! head. Copying the cache once per query head (`repeat_kv`) cost a 6B GLM about a tenth of each
//! decoded token in copies; here the query heads that share a key/value head become extra query rows
//! of it, and a prompt in f32 on the CPU (one sequence) goes through [`crate::attention`]'s causal
//! blocks.

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
    /// Query heads.
    pub q_heads: usize,
    pub kv_heads: usize,
    pub head_dim: usize,
}

impl Heads {
    /// Causal attention, `softmax(q · kᵀ / √d + mask) · v`, heads side by side: `q` is `(batch,
    /// q_heads, seq, head_dim)`, `k` and `v` `(batch, kv_heads, keys, head_dim)` with the cache in
    /// front (`keys = offset + seq`). `mask` must be the causal mask of those `seq` queries: additive,
    /// `seq · keys` values in any leading shape (`(seq, keys)` or `(1, 1, seq, keys)`). It is read
    /// only when `seq > 1` off the CPU prompt path, which applies causality itself.
    /// Returns `(batch, seq, q_heads · head_dim)`.
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
        let groups = self.q_heads / self.kv_heads;
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
            .reshape((b, self.q_heads, seq, self.head_dim))?
            .transpose(1, 2)?
            .reshape((b, seq, self.q_heads * self.head_dim))
    }

    /// A prompt's attention on the CPU ([`crate::attention`]): causal blocks that skip the keys they
    /// cannot see, one job per query head.
    fn prompt_on_cpu(&self, q: &Tensor, k: &Tensor, v: &Tensor, seq: usize, offset: usize) -> Result<Tensor> {
        let (heads, hd) = (self.q_heads, self.head_dim);
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

/// The token embedding table. Packed (a GGUF table on the CPU, in a format the integer kernels know),
/// a lookup dequantizes only the rows it needs instead of keeping an f32 copy of the whole table
/// (540 MB for Qwen2.5's 151,936 × 896, 1 GB for ChatGLM3's 65,024 × 4,096); otherwise the table is
/// a dense tensor (dequantized to f32 from GGUF, or as safetensors stored it).
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

    /// `(1, tokens, hidden)`: f32 from a packed table, the table's own dtype from a dense one.
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

#[cfg(test)]
mod tests {
    use candle_core::quantized::{GgmlDType, QTensor};
    use candle_core::{DType, Device, IndexOp, Tensor};

    use super::{Heads, TokenTable};
    use crate::attention::tests::values;

    /// A tensor's values as f64, in row-major order.
    fn to_f64(t: &Tensor) -> Vec<f64> {
        t.to_dtype(DType::F64)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap()
    }

    /// What `repeat_kv` + masked softmax attention computes, written out: query head `h` reads
    /// key/value head `h / groups`, query `i` sees keys `0..=offset + i`. `(batch, seq, heads · d)`.
    fn reference(q: &Tensor, k: &Tensor, v: &Tensor, offset: usize) -> Vec<f64> {
        let (b, heads, seq, d) = q.dims4().unwrap();
        let (kv_heads, keys) = (k.dim(1).unwrap(), k.dim(2).unwrap());
        let (q, k, v) = (to_f64(q), to_f64(k), to_f64(v));
        let mut out = vec![0f64; b * seq * heads * d];
        for n in 0..b {
            for h in 0..heads {
                let kv = h / (heads / kv_heads);
                for i in 0..seq {
                    let qi = &q[((n * heads + h) * seq + i) * d..][..d];
                    let seen = offset + i + 1;
                    let scores: Vec<f64> = (0..seen)
                        .map(|j| {
                            let kj = &k[((n * kv_heads + kv) * keys + j) * d..][..d];
                            qi.iter().zip(kj).map(|(a, b)| a * b).sum::<f64>() / (d as f64).sqrt()
                        })
                        .collect();
                    let max = scores.iter().cloned().fold(f64::MIN, f64::max);
                    let weights: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
                    let total: f64 = weights.iter().sum();
                    for (j, w) in weights.iter().enumerate() {
                        let vj = &v[((n * kv_heads + kv) * keys + j) * d..][..d];
                        for (c, x) in vj.iter().enumerate() {
                            out[((n * seq + i) * heads + h) * d + c] += w / total * x;
                        }
                    }
                }
            }
        }
        out
    }

    fn causal_mask(seq: usize, offset: usize, dtype: DType) -> Tensor {
        let keys = offset + seq;
        let mask: Vec<f32> = (0..seq)
            .flat_map(|i| (0..keys).map(move |j| if j > offset + i { f32::NEG_INFINITY } else { 0.0 }))
            .collect();
        Tensor::from_vec(mask, (seq, keys), &Device::Cpu)
            .unwrap()
            .to_dtype(dtype)
            .unwrap()
    }

    /// Checks one case: `seq` queries after `offset` cached keys, the keys and values handed over as
    /// narrowed views of a longer buffer (as candle's `KvCache` hands them out).
    fn check(batch: usize, seq: usize, offset: usize, dtype: DType, tolerance: f64) {
        let shape = Heads {
            q_heads: 6,
            kv_heads: 2,
            head_dim: 8,
        };
        let keys = offset + seq;
        let dev = Device::Cpu;
        let tensor = |dims: (usize, usize, usize, usize), seed: u32| {
            Tensor::from_vec(values(dims.0 * dims.1 * dims.2 * dims.3, seed), dims, &dev)
                .unwrap()
                .to_dtype(dtype)
                .unwrap()
        };
        let q = tensor((batch, 6, seq, 8), 1);
        let k = tensor((batch, 2, keys + 5, 8), 2).narrow(2, 0, keys).unwrap();
        let v = tensor((batch, 2, keys + 5, 8), 3).narrow(2, 0, keys).unwrap();
        let got = to_f64(
            &shape
                .attend(&q, &k, &v, Some(&causal_mask(seq, offset, dtype)), offset)
                .unwrap(),
        );
        let want = reference(&q, &k, &v, offset);
        assert_eq!(got.len(), want.len());
        let err = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(
            err <= tolerance,
            "batch {batch}, {seq} after {offset}, {dtype:?}: max error {err:e}"
        );
    }

    #[test]
    fn a_prompt_in_f32_on_the_cpu_matches_repeated_key_value_heads() {
        check(1, 7, 0, DType::F32, 1e-5);
        check(1, 5, 9, DType::F32, 1e-5);
    }

    #[test]
    fn the_general_path_matches_repeated_key_value_heads() {
        // f64 and two sequences take the path GPUs and other dtypes take, with the mask.
        check(1, 5, 9, DType::F64, 1e-12);
        check(2, 4, 3, DType::F32, 1e-5);
    }

    #[test]
    fn a_decoded_token_matches_repeated_key_value_heads() {
        check(1, 1, 12, DType::F32, 1e-5);
        check(1, 1, 0, DType::F32, 1e-5);
    }

    #[test]
    fn a_packed_token_table_looks_up_the_rows_it_was_given() {
        let dev = Device::Cpu;
        let weights = Tensor::from_vec(values(40 * 64, 4), (40, 64), &dev).unwrap();
        for (dtype, packed) in [(GgmlDType::Q8_0, true), (GgmlDType::F16, false)] {
            let table = QTensor::quantize(&weights, dtype).unwrap();
            let rows = table.dequantize(&dev).unwrap();
            let lookup = TokenTable::from_gguf(&table, &dev).unwrap();
            assert_eq!(matches!(lookup, TokenTable::Packed(_)), packed, "{dtype:?}");
            let got = lookup.lookup(&[3, 0, 39, 3], &dev).unwrap();
            assert_eq!(got.dims(), &[1, 4, 64]);
            for (i, token) in [3usize, 0, 39, 3].into_iter().enumerate() {
                let diff = (got.i((0, i)).unwrap() - rows.i(token).unwrap())
                    .unwrap()
                    .abs()
                    .unwrap()
                    .max(0)
                    .unwrap()
                    .to_scalar::<f32>()
                    .unwrap();
                assert!(diff <= 1e-6, "{dtype:?} token {token}: {diff}");
            }
        }
        let table = QTensor::quantize(&weights, GgmlDType::Q8_0).unwrap();
        let lookup = TokenTable::from_gguf(&table, &dev).unwrap();
        assert!(
            lookup.lookup(&[40], &dev).is_err(),
            "a token past the table is an error"
        );
    }
}
