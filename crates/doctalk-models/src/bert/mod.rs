//! The post-LN BERT encoder behind both sentence encoders (multilingual-e5-small's XLM-RoBERTa and
//! all-MiniLM's BERT share it): weights loaded into candle ([`candle`]), then either run there or
//! repacked for the CPU forward pass on the integer kernels ([`cpu`]).

pub(crate) mod candle;
mod cpu;

use candle_core::{DType, Device, Tensor};

use crate::error::Result;
use crate::pooling::{l2_normalise, masked_mean};
pub(crate) use candle::CandleBert;
use cpu::CpuBert;

/// Shape facts the forward pass needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Dims {
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub ffn: usize,
    pub eps: f64,
    /// Rows of the position table usable by tokens (after `position_offset`).
    pub max_positions: usize,
    /// Position id of the first token: 0 for BERT and the package's file, 2 for HF XLM-R
    /// checkpoints.
    pub position_offset: usize,
}

/// How an encoder's matrices are multiplied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MatmulPath {
    /// DocTalk's own forward pass on its integer kernels (CPU only; elsewhere as `F32`): 4-bit
    /// weights as the file stores them, f32 checkpoints quantized to Q8_0 at load, activations int8
    /// per 32 values, no padding computed. The fastest measured (`examples/e5_bench.rs`).
    #[default]
    Integer,
    /// candle with every matrix in f32 (4-bit weights dequantized at load): the reference.
    F32,
    /// candle's own quantized matmul on the 4-bit blocks (f32 checkpoints: as `F32`).
    CandleQuantized,
}

/// A loaded encoder on the path it was asked for.
pub(crate) enum Bert {
    Candle(CandleBert),
    Cpu(CpuBert),
}

impl Bert {
    /// `model` as it is, or repacked for the CPU forward pass when `path` asks for the integer
    /// kernels, the device is the CPU and the widths are whole 32-value blocks (tiny test
    /// checkpoints may not be).
    pub(crate) fn new(model: CandleBert, path: MatmulPath, device: &Device) -> Result<Self> {
        let dims = model.dims;
        let packable = dims.hidden.is_multiple_of(32) && dims.ffn.is_multiple_of(32);
        if path == MatmulPath::Integer && device.is_cpu() && packable {
            return Ok(Self::Cpu(CpuBert::from_candle(&model)?));
        }
        Ok(Self::Candle(model))
    }

    pub(crate) fn dims(&self) -> Dims {
        match self {
            Self::Candle(m) => m.dims,
            Self::Cpu(m) => m.dims(),
        }
    }

    /// Unit-length mean-pooled embeddings of `rows` (token ids), one per row.
    pub(crate) fn embed(&self, rows: &[&[u32]], pad_id: u32, device: &Device) -> Result<Vec<Vec<f32>>> {
        match self {
            Self::Cpu(m) => {
                let mut pooled = m.pooled(rows)?;
                for v in &mut pooled {
                    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
                    v.iter_mut().for_each(|x| *x /= norm);
                }
                Ok(pooled)
            }
            Self::Candle(m) => {
                let width = rows.iter().map(|r| r.len()).max().unwrap_or(0);
                let mut ids = vec![pad_id; rows.len() * width];
                let mut mask = vec![0u32; rows.len() * width];
                for (r, row) in rows.iter().enumerate() {
                    ids[r * width..r * width + row.len()].copy_from_slice(row);
                    mask[r * width..r * width + row.len()].fill(1);
                }
                let ids = Tensor::from_vec(ids, (rows.len(), width), device)?;
                let mask = Tensor::from_vec(mask, (rows.len(), width), device)?;
                let hidden = m.forward(&ids, &mask)?;
                let pooled = l2_normalise(&masked_mean(&hidden, &mask)?)?;
                Ok(pooled.to_dtype(DType::F32)?.to_vec2::<f32>()?)
            }
        }
    }
}
