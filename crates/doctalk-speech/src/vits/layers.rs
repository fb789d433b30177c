//! Building blocks shared by VITS's parts (and by VITS-like voice converters): layer norm over
//! channels, the non-causal WaveNet stack, and the dilated depth-separable convolution stack.
//! Inference only, one utterance at a time, so no masks: every frame is real.

use candle_core::{Tensor, D};

use super::weights::{Conv, Weights};
use doctalk_models::Result;

/// Layer norm over the channel axis of `[batch, channels, time]` (VITS's `modules.LayerNorm`).
pub(crate) struct ChannelNorm {
    gamma: Tensor,
    beta: Tensor,
}

impl ChannelNorm {
    pub(crate) fn load(w: &Weights, module: &str) -> Result<Self> {
        Ok(ChannelNorm {
            gamma: w.get(&format!("{module}.gamma"))?,
            beta: w.get(&format!("{module}.beta"))?,
        })
    }

    pub(crate) fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let t = x.transpose(1, 2)?.contiguous()?;
        let y = candle_nn::ops::layer_norm(&t, &self.gamma, &self.beta, 1e-5)?;
        Ok(y.transpose(1, 2)?.contiguous()?)
    }
}

/// The WaveNet stack of the flows and posterior encoders (`modules.WN`): gated dilated
/// convolutions with residual and skip outputs; an optional global condition (a speaker embedding).
pub(crate) struct WaveNet {
    in_layers: Vec<Conv>,
    res_skip: Vec<Conv>,
    cond: Option<Conv>,
    hidden: usize,
}

impl WaveNet {
    pub(crate) fn load(w: &Weights, module: &str) -> Result<Self> {
        let n = w.count(&format!("{module}.in_layers"), ".weight");
        let in_layers = (0..n)
            .map(|i| w.conv(&format!("{module}.in_layers.{i}")))
            .collect::<Result<Vec<_>>>()?;
        let res_skip = (0..n)
            .map(|i| w.conv(&format!("{module}.res_skip_layers.{i}")))
            .collect::<Result<Vec<_>>>()?;
        let cond_name = format!("{module}.cond_layer");
        let cond = w
            .has(&format!("{cond_name}.weight"))
            .then(|| w.conv(&cond_name))
            .transpose()?;
        let hidden = match in_layers.first() {
            Some(conv) => conv.out_channels()? / 2,
            None => 0,
        };
        Ok(WaveNet {
            in_layers,
            res_skip,
            cond,
            hidden,
        })
    }

    /// `x`: `[1, hidden, time]`; `g`: `[1, gin, 1]` when the network is conditioned.
    pub(crate) fn forward(&self, x: &Tensor, g: Option<&Tensor>) -> Result<Tensor> {
        let h = self.hidden;
        let g = match (&self.cond, g) {
            (Some(cond), Some(g)) => Some(cond.forward(g)?),
            _ => None,
        };
        let mut x = x.clone();
        let mut output: Option<Tensor> = None;
        let n = self.in_layers.len();
        for (i, (in_layer, res_skip)) in self.in_layers.iter().zip(&self.res_skip).enumerate() {
            let mut x_in = in_layer.forward(&x)?;
            if let Some(g) = &g {
                let g_l = g.narrow(1, i * 2 * h, 2 * h)?;
                x_in = x_in.broadcast_add(&g_l)?;
            }
            let acts = (x_in.narrow(1, 0, h)?.tanh()? * candle_nn::ops::sigmoid(&x_in.narrow(1, h, h)?)?)?;
            let rs = res_skip.forward(&acts)?;
            let skip = if i + 1 < n {
                x = (x + rs.narrow(1, 0, h)?)?;
                rs.narrow(1, h, h)?
            } else {
                rs
            };
            output = Some(match output {
                Some(o) => (o + skip)?,
                None => skip,
            });
        }
        Ok(output.unwrap_or(x))
    }
}

/// Dilated depth-separable convolutions (`modules.DDSConv`) of the stochastic duration predictor.
pub(crate) struct DdsConv {
    layers: Vec<(Conv, ChannelNorm, Conv, ChannelNorm)>,
}

impl DdsConv {
    pub(crate) fn load(w: &Weights, module: &str) -> Result<Self> {
        let n = w.count(&format!("{module}.convs_sep"), ".weight");
        let layers = (0..n)
            .map(|i| {
                Ok((
                    w.conv(&format!("{module}.convs_sep.{i}"))?,
                    ChannelNorm::load(w, &format!("{module}.norms_1.{i}"))?,
                    w.conv(&format!("{module}.convs_1x1.{i}"))?,
                    ChannelNorm::load(w, &format!("{module}.norms_2.{i}"))?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(DdsConv { layers })
    }

    pub(crate) fn forward(&self, x: &Tensor, g: Option<&Tensor>) -> Result<Tensor> {
        let mut x = match g {
            Some(g) => (x + g)?,
            None => x.clone(),
        };
        for (sep, norm1, pointwise, norm2) in &self.layers {
            let y = norm1.forward(&sep.forward(&x)?)?.gelu_erf()?;
            let y = norm2.forward(&pointwise.forward(&y)?)?.gelu_erf()?;
            x = (x + y)?;
        }
        Ok(x)
    }
}

/// Reverses the channel order (`modules.Flip`).
pub(crate) fn flip_channels(x: &Tensor) -> Result<Tensor> {
    let c = x.dim(1)? as u32;
    let index = Tensor::new((0..c).rev().collect::<Vec<u32>>(), x.device())?;
    Ok(x.index_select(&index, 1)?)
}

/// Splits `[1, 2c, t]` into its two channel halves.
pub(crate) fn halves(x: &Tensor) -> Result<(Tensor, Tensor)> {
    let c = x.dim(D::Minus2)? / 2;
    Ok((x.narrow(1, 0, c)?, x.narrow(1, c, c)?))
}

/// Leaky ReLU. On the CPU one pass over the values: candle's version builds a comparison and a
/// select over the whole signal, ~14 ms per HiFi-GAN layer at 40k samples.
pub(crate) fn leaky_relu(x: &Tensor, slope: f32) -> Result<Tensor> {
    if !x.device().is_cpu() {
        return Ok(candle_nn::ops::leaky_relu(x, f64::from(slope))?);
    }
    let values: Vec<f32> = x
        .flatten_all()?
        .to_vec1::<f32>()?
        .into_iter()
        .map(|v| if v >= 0.0 { v } else { v * slope })
        .collect();
    Ok(Tensor::from_vec(values, x.shape(), x.device())?)
}
