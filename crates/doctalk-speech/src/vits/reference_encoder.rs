//! The speaker encoder of VITS-style tone-colour converters (OpenVoice's `ReferenceEncoder`): a
//! linear spectrogram, layer-normalised per frame, through strided 2-D convolutions and a GRU whose
//! last state is projected to the speaker embedding. Widths are read from the tensors, so any
//! checkpoint of this shape loads.

use candle_core::{Tensor, D};

use super::weights::Weights;
use doctalk_models::{ModelError, Result};

pub(crate) struct ReferenceEncoder {
    norm: Option<(Tensor, Tensor)>,
    /// `(weight [out, in, 3, 3], bias [out])`, stride 2, padding 1, each followed by ReLU.
    convs: Vec<(Tensor, Tensor)>,
    gru: Gru,
    proj: (Tensor, Tensor),
}

/// One GRU layer (PyTorch's gate order: reset, update, new).
struct Gru {
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor,
    b_hh: Tensor,
    hidden: usize,
}

impl ReferenceEncoder {
    pub(crate) fn load(w: &Weights, module: &str) -> Result<Self> {
        let norm_name = format!("{module}.layernorm.weight");
        let norm = w
            .has(&norm_name)
            .then(|| Ok::<_, ModelError>((w.get(&norm_name)?, w.get(&format!("{module}.layernorm.bias"))?)))
            .transpose()?;
        let n = w.count(&format!("{module}.convs"), ".weight");
        let convs = (0..n)
            .map(|i| {
                let weight = w.get(&format!("{module}.convs.{i}.weight"))?;
                if weight.rank() != 4 {
                    return Err(ModelError::CorruptFile {
                        path: w.path().to_owned(),
                        reason: format!("{module}.convs.{i}.weight is not a 2-D convolution"),
                    });
                }
                Ok((weight, w.get(&format!("{module}.convs.{i}.bias"))?))
            })
            .collect::<Result<Vec<_>>>()?;
        let gru = |name: &str| w.get(&format!("{module}.gru.{name}"));
        let w_hh = gru("weight_hh_l0")?;
        let hidden = w_hh.dim(1)?;
        Ok(ReferenceEncoder {
            norm,
            convs,
            gru: Gru {
                w_ih: gru("weight_ih_l0")?,
                w_hh,
                b_ih: gru("bias_ih_l0")?,
                b_hh: gru("bias_hh_l0")?,
                hidden,
            },
            proj: (
                w.get(&format!("{module}.proj.weight"))?,
                w.get(&format!("{module}.proj.bias"))?,
            ),
        })
    }

    /// `spec`: `[1, bins, frames]` → the embedding `[gin]`.
    pub(crate) fn forward(&self, spec: &Tensor) -> Result<Tensor> {
        let mut x = spec.transpose(1, 2)?.contiguous()?;
        if let Some((gamma, beta)) = &self.norm {
            x = candle_nn::ops::layer_norm(&x, gamma, beta, 1e-5)?;
        }
        let mut x = x.unsqueeze(1)?;
        for (weight, bias) in &self.convs {
            x = x.conv2d(weight, 1, 2, 1, 1)?;
            x = x.broadcast_add(&bias.reshape((1, (), 1, 1))?)?.relu()?;
        }
        // [1, channels, frames', width'] → one input vector per remaining frame.
        let (_, channels, frames, width) = x.dims4()?;
        let steps = x
            .transpose(1, 2)?
            .contiguous()?
            .reshape((frames, channels * width))?;
        let h = self.gru.last_state(&steps)?;
        let (weight, bias) = &self.proj;
        Ok(h.matmul(&weight.t()?)?.broadcast_add(bias)?.squeeze(0)?)
    }
}

impl Gru {
    /// `inputs`: `[steps, features]` → the final hidden state `[1, hidden]` (starting from zero).
    fn last_state(&self, inputs: &Tensor) -> Result<Tensor> {
        let hidden = self.hidden;
        let gates_in = inputs.matmul(&self.w_ih.t()?)?.broadcast_add(&self.b_ih)?;
        let w_hh = self.w_hh.t()?;
        let mut h = Tensor::zeros((1, hidden), inputs.dtype(), inputs.device())?;
        for step in 0..inputs.dim(0)? {
            let gi = gates_in.narrow(0, step, 1)?;
            let gh = h.matmul(&w_hh)?.broadcast_add(&self.b_hh)?;
            let gate = |t: &Tensor, k: usize| t.narrow(D::Minus1, k * hidden, hidden);
            let reset = candle_nn::ops::sigmoid(&(gate(&gi, 0)? + gate(&gh, 0)?)?)?;
            let update = candle_nn::ops::sigmoid(&(gate(&gi, 1)? + gate(&gh, 1)?)?)?;
            let candidate = (gate(&gi, 2)? + (reset * gate(&gh, 2)?)?)?.tanh()?;
            // h' = (1 - z) · n + z · h
            h = ((&candidate - (&update * &candidate)?)? + (&update * &h)?)?;
        }
        Ok(h)
    }
}
