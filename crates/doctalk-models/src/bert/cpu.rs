//! The post-LN BERT forward pass on the CPU, on DocTalk's integer kernels, without candle.
//!
//! Through candle an encoder batch spent more time outside its matrix products than inside them:
//! every operation allocates a fresh output (and glibc hands big ones back to the kernel, so they
//! fault in again), padding is computed as if it were text, attention scores for all heads are
//! materialised at once, and `exp` is a libm call per value. Here:
//!
//! - the tokens of all the batch's texts are packed end to end, with no padding: every matrix
//!   product has `Σ lengths` rows, and attention runs per (text, head) over that text's tokens only;
//! - query, key and value are one product with a `3·hidden` wide matrix;
//! - weights are packed once ([`PackedMatrix`]): the 4-bit file's Q4_0 blocks as they are, f32
//!   checkpoints as Q8_0; activations are int8 per 32 values;
//! - bias, residual, layer norm and GELU are fused into one pass over each product's output, on
//!   all cores;
//! - attention is [`crate::attention`]'s: f32 GEMMs per (text, head), a vectorisable softmax.
//!
//! The result is each text's mean-pooled (not yet normalised) last hidden state, as the candle path
//! pools it; `tests/encoder_integer.rs` holds the two within cosine 0.995 on real passages.

use candle_core::quantized::{GgmlDType, QMatMul};
use candle_core::Tensor;
use candle_nn::LayerNorm;
use doctalk_qgemm::{quantize_q8_0, PackedMatrix, WeightFormat};
use rayon::prelude::*;

use super::candle::{CandleBert, Linear};
use super::Dims;
use crate::attention::{attend_head, lane_sum, OutRows, Rows, SharedOut, Visibility};
use crate::error::{ModelError, Result};
use crate::fastmath::gelu_erf;

/// Tokens handed to one thread at a time by the element-wise passes.
const ROWS_PER_TASK: usize = 16;

/// A weight matrix with its bias.
struct Affine {
    matrix: PackedMatrix,
    bias: Vec<f32>,
}

impl Affine {
    /// `x · Wᵀ` for `m` rows (bias not yet added: each caller fuses it into its own pass).
    fn product(&self, x: &[f32], m: usize) -> Result<Vec<f32>> {
        self.matrix.matmul(x, m).map_err(qgemm_error)
    }
}

struct Norm {
    weight: Vec<f32>,
    bias: Vec<f32>,
    eps: f32,
}

impl Norm {
    fn apply(&self, x: &mut [f32]) {
        let n = x.len() as f32;
        let mean = lane_sum(x) / n;
        x.iter_mut().for_each(|v| *v -= mean);
        let mut lanes = [0f32; 8];
        let mut chunks = x.chunks_exact(8);
        for chunk in &mut chunks {
            for (l, &v) in lanes.iter_mut().zip(chunk) {
                *l += v * v;
            }
        }
        let squares: f32 = lanes.iter().sum::<f32>() + chunks.remainder().iter().map(|v| v * v).sum::<f32>();
        let inv = 1.0 / (squares / n + self.eps).sqrt();
        for ((v, w), b) in x.iter_mut().zip(&self.weight).zip(&self.bias) {
            *v = *v * inv * w + b;
        }
    }
}

struct Layer {
    qkv: Affine,
    attn_out: Affine,
    attn_norm: Norm,
    ffn_in: Affine,
    ffn_out: Affine,
    out_norm: Norm,
}

/// The word table as the weights came: 4-bit blocks decoded row by row, or f32 rows.
enum WordTable {
    Blocks {
        format: WeightFormat,
        bytes: Vec<u8>,
        rows: usize,
    },
    F32(Vec<f32>),
}

/// The encoder ready for [`CpuBert::pooled`].
pub(crate) struct CpuBert {
    dims: Dims,
    word: WordTable,
    /// `[max_positions, hidden]`, row i for the i-th token.
    positions: Vec<f32>,
    type0: Vec<f32>,
    emb_norm: Norm,
    layers: Vec<Layer>,
}

impl CpuBert {
    /// Repacks the weights of a loaded candle model (4-bit matrices kept as they are, f32 ones
    /// quantized to Q8_0).
    pub(crate) fn from_candle(model: &CandleBert) -> Result<Self> {
        let dims = model.dims;
        let eps = dims.eps as f32;
        let norm = |n: &LayerNorm| -> Result<Norm> {
            Ok(Norm {
                weight: n.weight().to_vec1()?,
                bias: n
                    .bias()
                    .ok_or_else(|| ModelError::Tokenizer("layer norm without a bias".into()))?
                    .to_vec1()?,
                eps,
            })
        };
        let mut layers = Vec::with_capacity(model.layers.len());
        for layer in &model.layers {
            layers.push(Layer {
                qkv: affine(&[&layer.query, &layer.key, &layer.value])?,
                attn_out: affine(&[&layer.attn_out])?,
                attn_norm: norm(&layer.attn_norm)?,
                ffn_in: affine(&[&layer.ffn_in])?,
                ffn_out: affine(&[&layer.ffn_out])?,
                out_norm: norm(&layer.out_norm)?,
            });
        }
        let word = match &model.word {
            QMatMul::QTensor(q) if q.dtype() == GgmlDType::Q4_0 => WordTable::Blocks {
                format: WeightFormat::Q4_0,
                bytes: q.data()?.into_owned(),
                rows: q.shape().dims2()?.0,
            },
            other => WordTable::F32(matrix_f32(other)?.flatten_all()?.to_vec1()?),
        };
        let positions = model
            .positions
            .narrow(0, dims.position_offset, dims.max_positions)?
            .flatten_all()?
            .to_vec1()?;
        Ok(CpuBert {
            dims,
            word,
            positions,
            type0: model.type0.to_vec1()?,
            emb_norm: norm(&model.emb_norm)?,
            layers,
        })
    }

    pub(crate) fn dims(&self) -> Dims {
        self.dims
    }

    /// The mean over its tokens of each text's last hidden state (`rows`: token ids, each at most
    /// `max_positions` long).
    pub(crate) fn pooled(&self, rows: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
        let Dims { hidden, .. } = self.dims;
        let mut starts = Vec::with_capacity(rows.len() + 1);
        starts.push(0usize);
        for row in rows {
            if row.len() > self.dims.max_positions {
                return Err(ModelError::Tokenizer(format!(
                    "{} tokens exceed the model's {} positions",
                    row.len(),
                    self.dims.max_positions
                )));
            }
            starts.push(starts.last().copied().unwrap_or(0) + row.len());
        }
        let total = *starts.last().unwrap_or(&0);
        if total == 0 {
            return Ok(vec![vec![0.0; hidden]; rows.len()]);
        }
        let tokens: Vec<(u32, usize)> = rows
            .iter()
            .flat_map(|row| row.iter().enumerate().map(|(i, &id)| (id, i)))
            .collect();
        let mut x = vec![0f32; total * hidden];
        self.embed(&tokens, &mut x)?;
        for layer in &self.layers {
            self.layer(layer, &mut x, &starts)?;
        }
        Ok(starts
            .windows(2)
            .map(|w| {
                let mut mean = vec![0f32; hidden];
                for token in x[w[0] * hidden..w[1] * hidden].chunks_exact(hidden) {
                    for (m, v) in mean.iter_mut().zip(token) {
                        *m += v;
                    }
                }
                let n = (w[1] - w[0]).max(1) as f32;
                mean.iter_mut().for_each(|m| *m /= n);
                mean
            })
            .collect())
    }

    /// Word + position + type embeddings, normalised, into `x` (`[tokens, hidden]`).
    fn embed(&self, tokens: &[(u32, usize)], x: &mut [f32]) -> Result<()> {
        let hidden = self.dims.hidden;
        x.par_chunks_exact_mut(hidden)
            .zip(tokens.par_iter())
            .with_min_len(ROWS_PER_TASK)
            .try_for_each(|(out, &(id, position))| -> Result<()> {
                self.word_row(id, out)?;
                let pos = &self.positions[position * hidden..][..hidden];
                for ((o, p), t) in out.iter_mut().zip(pos).zip(&self.type0) {
                    *o += p + t;
                }
                self.emb_norm.apply(out);
                Ok(())
            })
    }

    fn word_row(&self, id: u32, out: &mut [f32]) -> Result<()> {
        let hidden = out.len();
        let id = id as usize;
        let out_of_range = |rows: usize| {
            ModelError::Tokenizer(format!("token id {id} is outside the {rows}-row word table"))
        };
        match &self.word {
            WordTable::F32(table) => {
                let rows = table.len() / hidden;
                let row = table
                    .get(id * hidden..(id + 1) * hidden)
                    .ok_or_else(|| out_of_range(rows))?;
                out.copy_from_slice(row);
            }
            WordTable::Blocks { format, bytes, rows } => {
                if id >= *rows {
                    return Err(out_of_range(*rows));
                }
                let unit = format.unit_len();
                let row_bytes = hidden / unit * format.unit_bytes();
                let row = &bytes[id * row_bytes..(id + 1) * row_bytes];
                let mut q = vec![0u8; unit];
                let blocks = unit / format.block();
                let (mut a, mut b) = (vec![0f32; blocks], vec![0f32; blocks]);
                for (chunk, dst) in row
                    .chunks_exact(format.unit_bytes())
                    .zip(out.chunks_exact_mut(unit))
                {
                    format.decode_unit(chunk, &mut q, &mut a, &mut b);
                    for (i, (o, &v)) in dst.iter_mut().zip(&q).enumerate() {
                        let block = i / format.block();
                        *o = a[block] * f32::from(v) - b[block];
                    }
                }
            }
        }
        Ok(())
    }

    /// One transformer layer over the packed tokens `x`, in place. `starts[t]..starts[t + 1]` are
    /// text t's tokens.
    fn layer(&self, layer: &Layer, x: &mut [f32], starts: &[usize]) -> Result<()> {
        let Dims { hidden, .. } = self.dims;
        let total = x.len() / hidden;

        let mut qkv = layer.qkv.product(x, total)?;
        add_bias(&mut qkv, &layer.qkv.bias);
        let context = self.attention(&qkv, starts);
        drop(qkv);

        let attn = layer.attn_out.product(&context, total)?;
        residual_norm(x, &attn, &layer.attn_out.bias, &layer.attn_norm);

        let mut mid = layer.ffn_in.product(x, total)?;
        let ffn_bias = &layer.ffn_in.bias;
        mid.par_chunks_exact_mut(ffn_bias.len())
            .with_min_len(ROWS_PER_TASK)
            .for_each(|row| {
                for (v, b) in row.iter_mut().zip(ffn_bias) {
                    *v = gelu_erf(*v + b);
                }
            });
        let out = layer.ffn_out.product(&mid, total)?;
        residual_norm(x, &out, &layer.ffn_out.bias, &layer.out_norm);
        Ok(())
    }

    /// Attention of every text's tokens among themselves, one job per (text, head):
    /// `[tokens, hidden]` from the fused `[tokens, 3·hidden]` projections, read in place.
    fn attention(&self, qkv: &[f32], starts: &[usize]) -> Vec<f32> {
        let Dims { hidden, heads, .. } = self.dims;
        let head_dim = hidden / heads;
        let total = qkv.len() / (3 * hidden);
        let mut context = vec![0f32; total * hidden];
        let jobs: Vec<(usize, usize)> = (0..starts.len() - 1)
            .flat_map(|t| (0..heads).map(move |h| (t, h)))
            .collect();
        let scale = 1.0 / (head_dim as f32).sqrt();
        let out = SharedOut::new(&mut context);
        let row_stride = 3 * hidden;
        jobs.into_par_iter().for_each_init(Vec::new, |scores, (t, h)| {
            let (start, len) = (starts[t], starts[t + 1] - starts[t]);
            let at = |part: usize| Rows {
                ptr: qkv[start * row_stride + part * hidden + h * head_dim..].as_ptr(),
                stride: row_stride,
            };
            let target = OutRows {
                ptr: out.at(start * hidden + h * head_dim),
                stride: hidden,
            };
            // SAFETY: the three views address rows start..start+len of `qkv` (each within it), and
            // the output block (those rows, columns h·head_dim..+head_dim) belongs to this job alone.
            unsafe {
                attend_head(
                    at(0),
                    at(1),
                    at(2),
                    target,
                    len,
                    len,
                    head_dim,
                    scale,
                    Visibility::All,
                    scores,
                );
            }
        });
        context
    }
}

fn add_bias(x: &mut [f32], bias: &[f32]) {
    x.par_chunks_exact_mut(bias.len())
        .with_min_len(ROWS_PER_TASK)
        .for_each(|row| row.iter_mut().zip(bias).for_each(|(v, b)| *v += b));
}

/// `x = norm(x + y + bias)`, row by row.
fn residual_norm(x: &mut [f32], y: &[f32], bias: &[f32], norm: &Norm) {
    let hidden = bias.len();
    x.par_chunks_exact_mut(hidden)
        .zip(y.par_chunks_exact(hidden))
        .with_min_len(ROWS_PER_TASK)
        .for_each(|(x, y)| {
            for ((x, y), b) in x.iter_mut().zip(y).zip(bias) {
                *x += y + b;
            }
            norm.apply(x);
        });
}

/// Linears stacked by output rows into one packed matrix (query, key and value share one product).
fn affine(parts: &[&Linear]) -> Result<Affine> {
    let mut bias = Vec::new();
    for part in parts {
        bias.extend(part.bias.to_vec1::<f32>()?);
    }
    let k = match &parts[0].weight {
        QMatMul::QTensor(q) => q.shape().dims2()?.1,
        other => matrix_f32(other)?.dims2()?.1,
    };
    let all_q4 = parts
        .iter()
        .all(|p| matches!(&p.weight, QMatMul::QTensor(q) if q.dtype() == GgmlDType::Q4_0));
    let (format, bytes) = if all_q4 {
        let mut bytes = Vec::new();
        for part in parts {
            if let QMatMul::QTensor(q) = &part.weight {
                bytes.extend_from_slice(&q.data()?);
            }
        }
        (WeightFormat::Q4_0, bytes)
    } else {
        let mut values = Vec::new();
        for part in parts {
            values.extend(matrix_f32(&part.weight)?.flatten_all()?.to_vec1::<f32>()?);
        }
        (WeightFormat::Q8_0, quantize_q8_0(&values))
    };
    let n = bias.len();
    let matrix = PackedMatrix::from_gguf(format, &bytes, n, k).map_err(qgemm_error)?;
    Ok(Affine { matrix, bias })
}

/// A candle matrix as f32, whatever it is stored as.
fn matrix_f32(m: &QMatMul) -> Result<Tensor> {
    Ok(match m {
        QMatMul::QTensor(q) => q.dequantize(&candle_core::Device::Cpu)?,
        QMatMul::Tensor(t) | QMatMul::TensorF16(t) => t.to_dtype(candle_core::DType::F32)?,
    })
}

fn qgemm_error(e: doctalk_qgemm::QgemmError) -> ModelError {
    ModelError::Candle(candle_core::Error::Msg(e.to_string()))
}
