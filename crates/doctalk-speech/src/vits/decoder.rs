//! From the prior to audio: the normalising flow run backwards (`flow`) and the HiFi-GAN generator
//! (`dec`). A voice converter uses the same two parts with a speaker condition, hence `g`.

use candle_core::Tensor;

use super::layers::{flip_channels, halves, leaky_relu, WaveNet};
use super::weights::{Conv, Weights};
use super::CONTEXT_FRAMES;
use doctalk_models::Result;

/// The residual coupling block (`models.ResidualCouplingBlock`): mean-only affine couplings
/// separated by channel flips.
pub(crate) struct Flow {
    couplings: Vec<Coupling>,
}

struct Coupling {
    pre: Conv,
    wavenet: WaveNet,
    post: Conv,
}

impl Flow {
    pub(crate) fn load(w: &Weights, module: &str) -> Result<Self> {
        // Couplings sit at even indices; the flips between them have no parameters.
        let couplings = (0..)
            .step_by(2)
            .map(|i| format!("{module}.flows.{i}"))
            .take_while(|m| w.has(&format!("{m}.pre.weight")))
            .map(|m| {
                Ok(Coupling {
                    pre: w.conv(&format!("{m}.pre"))?,
                    wavenet: WaveNet::load(w, &format!("{m}.enc"))?,
                    post: w.conv(&format!("{m}.post"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Flow { couplings })
    }

    /// Latent → speaker-independent prior space (the training direction; converters use it with
    /// the source speaker's condition).
    pub(crate) fn forward(&self, x: &Tensor, g: Option<&Tensor>) -> Result<Tensor> {
        let mut x = x.clone();
        for coupling in &self.couplings {
            x = coupling.apply(&x, g, 1.0)?;
            x = flip_channels(&x)?;
        }
        Ok(x)
    }

    /// Prior sample → latent (the flow's inverse direction).
    pub(crate) fn reverse(&self, z: &Tensor, g: Option<&Tensor>) -> Result<Tensor> {
        let mut x = z.clone();
        for coupling in self.couplings.iter().rev() {
            x = flip_channels(&x)?;
            x = coupling.apply(&x, g, -1.0)?;
        }
        Ok(x)
    }
}

impl Coupling {
    /// `direction` +1: x1 + m (training direction); −1: x1 − m.
    fn apply(&self, x: &Tensor, g: Option<&Tensor>, direction: f64) -> Result<Tensor> {
        let (x0, x1) = halves(x)?;
        let h = self.pre.forward(&x0)?;
        let h = self.wavenet.forward(&h, g)?;
        let mean = self.post.forward(&h)?;
        let x1 = (x1 + (mean * direction)?)?;
        Ok(Tensor::cat(&[&x0, &x1], 1)?)
    }
}

/// HiFi-GAN (`models.Generator`): transposed-convolution upsampling with multi-receptive-field
/// residual blocks after each step.
pub(crate) struct Generator {
    conv_pre: Conv,
    ups: Vec<Conv>,
    /// `resblocks[i]`: the blocks after upsampling step `i` (one per kernel size).
    resblocks: Vec<Vec<ResBlock>>,
    conv_post: Conv,
    cond: Option<Conv>,
}

enum ResBlock {
    /// Type 1: pairs of (dilated conv, conv).
    Pairs(Vec<(Conv, Conv)>),
    /// Type 2: single dilated convs.
    Singles(Vec<Conv>),
}

impl Generator {
    pub(crate) fn load(w: &Weights, module: &str) -> Result<Self> {
        let ups_count = w.count(&format!("{module}.ups"), ".weight");
        let blocks_count = w
            .count(&format!("{module}.resblocks"), ".convs.0.weight")
            .max(w.count(&format!("{module}.resblocks"), ".convs1.0.weight"));
        let per_up = blocks_count / ups_count.max(1);
        let ups = (0..ups_count)
            .map(|i| w.conv(&format!("{module}.ups.{i}")))
            .collect::<Result<Vec<_>>>()?;
        let mut resblocks = Vec::new();
        for i in 0..ups_count {
            let blocks = (0..per_up)
                .map(|j| ResBlock::load(w, &format!("{module}.resblocks.{}", i * per_up + j)))
                .collect::<Result<Vec<_>>>()?;
            resblocks.push(blocks);
        }
        let cond_name = format!("{module}.cond");
        Ok(Generator {
            conv_pre: w.conv(&format!("{module}.conv_pre"))?,
            ups,
            resblocks,
            conv_post: w.conv(&format!("{module}.conv_post"))?,
            cond: w
                .has(&format!("{cond_name}.weight"))
                .then(|| w.conv(&cond_name))
                .transpose()?,
        })
    }

    /// Audio samples per latent frame (the product of the upsampling strides).
    pub(crate) fn hop(&self) -> usize {
        self.ups.iter().map(Conv::stride).product()
    }

    /// Decodes `z` in pieces of `first_frames` latent frames, then four times that, each with
    /// [`CONTEXT_FRAMES`] of context on both sides, handing each piece's audio to `on_audio` as it
    /// is ready: playback can start after the first piece instead of the whole utterance.
    pub(crate) fn forward_streaming(
        &self,
        z: &Tensor,
        g: Option<&Tensor>,
        first_frames: usize,
        on_audio: &mut dyn FnMut(&[f32]) -> Result<()>,
    ) -> Result<()> {
        let frames = z.dim(2)?;
        let hop = self.hop();
        let mut chunk = first_frames.max(1);
        let mut start = 0;
        while start < frames {
            let end = start.saturating_add(chunk).min(frames);
            let lo = start.saturating_sub(CONTEXT_FRAMES);
            let hi = end.saturating_add(CONTEXT_FRAMES).min(frames);
            let piece = self.forward(&z.narrow(2, lo, hi - lo)?, g)?;
            let skip = (start - lo) * hop;
            let take = ((end - start) * hop).min(piece.len().saturating_sub(skip));
            on_audio(&piece[skip..skip + take])?;
            start = end;
            chunk = chunk.saturating_mul(4);
        }
        Ok(())
    }

    /// `[1, c, frames]` → `[samples]` in [-1, 1].
    pub(crate) fn forward(&self, z: &Tensor, g: Option<&Tensor>) -> Result<Vec<f32>> {
        let mut x = self.conv_pre.forward(z)?;
        if let (Some(cond), Some(g)) = (&self.cond, g) {
            x = x.broadcast_add(&cond.forward(g)?)?;
        }
        for (up, blocks) in self.ups.iter().zip(&self.resblocks) {
            x = up.forward(&leaky_relu(&x, 0.1)?)?;
            let mut sum: Option<Tensor> = None;
            for block in blocks {
                let y = block.forward(&x)?;
                sum = Some(match sum {
                    Some(s) => (s + y)?,
                    None => y,
                });
            }
            if let Some(sum) = sum {
                x = (sum / blocks.len() as f64)?;
            }
        }
        // PyTorch's default slope here (0.01), unlike the 0.1 inside the network.
        let x = self.conv_post.forward(&leaky_relu(&x, 0.01)?)?.tanh()?;
        Ok(x.flatten_all()?.to_vec1()?)
    }
}

impl ResBlock {
    fn load(w: &Weights, module: &str) -> Result<Self> {
        if w.has(&format!("{module}.convs1.0.weight")) {
            let n = w.count(&format!("{module}.convs1"), ".weight");
            let pairs = (0..n)
                .map(|i| {
                    Ok((
                        w.conv(&format!("{module}.convs1.{i}"))?,
                        w.conv(&format!("{module}.convs2.{i}"))?,
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(ResBlock::Pairs(pairs))
        } else {
            let n = w.count(&format!("{module}.convs"), ".weight");
            let convs = (0..n)
                .map(|i| w.conv(&format!("{module}.convs.{i}")))
                .collect::<Result<Vec<_>>>()?;
            Ok(ResBlock::Singles(convs))
        }
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut x = x.clone();
        match self {
            ResBlock::Pairs(pairs) => {
                for (c1, c2) in pairs {
                    let y = c1.forward(&leaky_relu(&x, 0.1)?)?;
                    let y = c2.forward(&leaky_relu(&y, 0.1)?)?;
                    x = (x + y)?;
                }
            }
            ResBlock::Singles(convs) => {
                for c in convs {
                    x = (x.clone() + c.forward(&leaky_relu(&x, 0.1)?)?)?;
                }
            }
        }
        Ok(x)
    }
}
