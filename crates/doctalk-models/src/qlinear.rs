//! Quantized linear layers on DocTalk's integer kernels (`doctalk-qgemm`) where the format has one, on
//! candle's `QMatMul` otherwise (and on GPUs). The LLMs' projections; the sentence encoders have
//! their own forward pass on the same kernels (`crate::bert::cpu`).

use std::sync::Arc;

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{CpuStorage, CustomOp1, Layout, Module, Result, Shape, Tensor};
use doctalk_qgemm::{PackedMatrix, WeightFormat};

use crate::llm::LowRank;

/// The kernel format for a GGUF type, if there is one.
pub(crate) fn kernel_format(dtype: GgmlDType) -> Option<WeightFormat> {
    Some(match dtype {
        GgmlDType::Q4_0 => WeightFormat::Q4_0,
        GgmlDType::Q4_1 => WeightFormat::Q4_1,
        GgmlDType::Q5_0 => WeightFormat::Q5_0,
        GgmlDType::Q5_1 => WeightFormat::Q5_1,
        GgmlDType::Q8_0 => WeightFormat::Q8_0,
        GgmlDType::Q4K => WeightFormat::Q4K,
        GgmlDType::Q5K => WeightFormat::Q5K,
        GgmlDType::Q6K => WeightFormat::Q6K,
        _ => return None,
    })
}

/// Repacks a CPU tensor for the integer kernels; `None` when its format or device has none.
pub(crate) fn pack(tensor: &QTensor) -> Result<Option<Arc<PackedMatrix>>> {
    let Some(format) = kernel_format(tensor.dtype()) else {
        return Ok(None);
    };
    if !tensor.device().is_cpu() {
        return Ok(None);
    }
    let (n, k) = tensor.shape().dims2()?;
    if !k.is_multiple_of(format.unit_len()) {
        return Ok(None);
    }
    let data = tensor.data()?;
    let packed =
        PackedMatrix::from_gguf(format, &data, n, k).map_err(|e| candle_core::Error::Msg(e.to_string()))?;
    Ok(Some(Arc::new(packed)))
}

/// `x · Wᵀ` with GGUF weights.
#[derive(Debug, Clone)]
pub(crate) enum QLinear {
    Packed(Arc<PackedMatrix>),
    Candle(QMatMul),
    /// A quantized layer plus a LoRA adapter's low-rank change, added at run time (the quantized
    /// weight cannot absorb a small change without rounding it away).
    Adapted(Box<QLinear>, LowRank),
}

impl QLinear {
    pub(crate) fn new(tensor: QTensor) -> Result<Self> {
        match pack(&tensor)? {
            Some(packed) => Ok(Self::Packed(packed)),
            None => Ok(Self::Candle(QMatMul::from_arc(Arc::new(tensor))?)),
        }
    }

    /// This layer with an adapter's change, when there is one.
    pub(crate) fn adapted(self, change: Option<LowRank>) -> Self {
        match change {
            Some(low) => Self::Adapted(Box::new(self), low),
            None => self,
        }
    }
}

impl Module for QLinear {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        match self {
            Self::Packed(m) => xs.contiguous()?.apply_op1_no_bwd(&PackedOp(m)),
            Self::Candle(m) => m.forward(xs),
            Self::Adapted(base, low) => base.forward(xs)? + low.forward(xs)?,
        }
    }
}

/// The candle operation around [`PackedMatrix::matmul`]: `(…, k)` f32 in, `(…, n)` out.
struct PackedOp<'a>(&'a PackedMatrix);

impl CustomOp1 for PackedOp<'_> {
    fn name(&self) -> &'static str {
        "doctalk-qgemm"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let CpuStorage::F32(values) = storage else {
            candle_core::bail!("doctalk-qgemm takes f32 activations");
        };
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle_core::bail!("doctalk-qgemm takes contiguous activations");
        };
        let x = &values[start..end];
        let dims = layout.shape().dims();
        let k = *dims.last().unwrap_or(&0);
        if k != self.0.k() {
            candle_core::bail!("doctalk-qgemm: {k} inputs for a matrix of {}", self.0.k());
        }
        let m = x.len() / k.max(1);
        let out = self
            .0
            .matmul(x, m)
            .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
        let mut out_dims = dims.to_vec();
        *out_dims.last_mut().expect("k was read from it") = self.0.n();
        Ok((CpuStorage::F32(out), Shape::from(out_dims)))
    }
}
