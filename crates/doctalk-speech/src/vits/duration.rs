//! How long each phoneme lasts: VITS's stochastic duration predictor run backwards (noise → log
//! durations through rational-quadratic spline flows), or the plain convolutional predictor some
//! voices use instead.

use candle_core::Tensor;

use super::layers::{ChannelNorm, DdsConv};
use super::weights::{Conv, Weights};
use doctalk_models::Result;

pub(crate) enum DurationPredictor {
    Stochastic(Stochastic),
    Plain(Plain),
}

impl DurationPredictor {
    pub(crate) fn load(w: &Weights) -> Result<Self> {
        if w.has("dp.flows.0.m") {
            Ok(DurationPredictor::Stochastic(Stochastic::load(w)?))
        } else {
            Ok(DurationPredictor::Plain(Plain::load(w)?))
        }
    }

    /// Log durations in frames, one per phoneme. `hidden`: the text encoder's `[1, c, t]`;
    /// `noise`: `[1, 2, t]` standard normal samples (already scaled by the caller).
    pub(crate) fn log_durations(&self, hidden: &Tensor, noise: &Tensor) -> Result<Vec<f32>> {
        match self {
            DurationPredictor::Stochastic(sdp) => sdp.reverse(hidden, noise),
            DurationPredictor::Plain(dp) => dp.forward(hidden),
        }
    }
}

pub(crate) struct Stochastic {
    pre: Conv,
    convs: DdsConv,
    proj: Conv,
    /// The spline flows used at inference, in the order they run (the last trained one is unused).
    flows: Vec<SplineFlow>,
    affine_m: Vec<f32>,
    affine_exp_neg_logs: Vec<f32>,
}

struct SplineFlow {
    pre: Conv,
    convs: DdsConv,
    proj: Conv,
    filter_channels: usize,
}

/// The spline's shape: VITS's `ConvFlow` defaults.
const NUM_BINS: usize = 10;
const TAIL_BOUND: f32 = 5.0;
const MIN_BIN: f32 = 1e-3;
const MIN_DERIVATIVE: f32 = 1e-3;

impl Stochastic {
    fn load(w: &Weights) -> Result<Self> {
        // Training order: affine, then (spline flow, flip) × n. Inference runs them reversed and
        // skips the first spline flow, so exports keep only flows 3, 5, 7, …
        let mut flows = Vec::new();
        for index in (3..).step_by(2) {
            let module = format!("dp.flows.{index}");
            if !w.has(&format!("{module}.pre.weight")) {
                break;
            }
            let pre = w.conv(&format!("{module}.pre"))?;
            flows.push(SplineFlow {
                filter_channels: pre.out_channels()?,
                pre,
                convs: DdsConv::load(w, &format!("{module}.convs"))?,
                proj: w.conv(&format!("{module}.proj"))?,
            });
        }
        flows.reverse();
        Ok(Stochastic {
            pre: w.conv("dp.pre")?,
            convs: DdsConv::load(w, "dp.convs")?,
            proj: w.conv("dp.proj")?,
            flows,
            affine_m: w.get("dp.flows.0.m")?.flatten_all()?.to_vec1()?,
            affine_exp_neg_logs: w.get("dp.flows.0.exp_neg_logs")?.flatten_all()?.to_vec1()?,
        })
    }

    fn reverse(&self, hidden: &Tensor, noise: &Tensor) -> Result<Vec<f32>> {
        let x = self.pre.forward(hidden)?;
        let x = self.convs.forward(&x, None)?;
        let condition = self.proj.forward(&x)?;
        let t = hidden.dim(2)?;
        let z: Vec<Vec<f32>> = noise.squeeze(0)?.to_vec2()?;
        let (mut z0, mut z1) = (z[0].clone(), z[1].clone());
        for flow in &self.flows {
            // Flip, then the spline flow (which transforms the second channel given the first).
            std::mem::swap(&mut z0, &mut z1);
            z1 = flow.reverse(&z0, &z1, &condition, t)?;
        }
        std::mem::swap(&mut z0, &mut z1);
        // The elementwise affine flow, reversed.
        Ok(z0
            .iter()
            .map(|&v| (v - self.affine_m[0]) * self.affine_exp_neg_logs[0])
            .collect())
    }
}

impl SplineFlow {
    fn reverse(&self, x0: &[f32], x1: &[f32], condition: &Tensor, t: usize) -> Result<Vec<f32>> {
        let x0 = Tensor::from_slice(x0, (1, 1, t), condition.device())?;
        let h = self.pre.forward(&x0)?;
        let h = self.convs.forward(&h, Some(condition))?;
        let params: Vec<Vec<f32>> = self.proj.forward(&h)?.squeeze(0)?.to_vec2()?; // [29, t]
        let scale = (self.filter_channels as f32).sqrt();
        Ok((0..t)
            .map(|i| {
                let column: Vec<f32> = params.iter().map(|row| row[i]).collect();
                let widths: Vec<f32> = column[..NUM_BINS].iter().map(|v| v / scale).collect();
                let heights: Vec<f32> = column[NUM_BINS..2 * NUM_BINS].iter().map(|v| v / scale).collect();
                inverse_spline(x1[i], &widths, &heights, &column[2 * NUM_BINS..])
            })
            .collect())
    }
}

/// The inverse of the unconstrained rational-quadratic spline on [-B, B] with linear tails
/// (Durkan et al., "Neural Spline Flows"), for one value.
fn inverse_spline(y: f32, widths: &[f32], heights: &[f32], inner_derivatives: &[f32]) -> f32 {
    if !(-TAIL_BOUND..=TAIL_BOUND).contains(&y) {
        return y;
    }
    let bins = widths.len();
    let knots = |unnormalized: &[f32]| -> Vec<f32> {
        let sizes = softmax(unnormalized);
        let mut knots = vec![-TAIL_BOUND];
        let mut acc = 0.0;
        for s in sizes {
            acc += MIN_BIN + (1.0 - MIN_BIN * bins as f32) * s;
            knots.push(2.0 * TAIL_BOUND * acc - TAIL_BOUND);
        }
        knots[bins] = TAIL_BOUND;
        knots
    };
    let xs = knots(widths);
    let ys = knots(heights);
    // Slopes at the knots: the ends are pinned to 1 so the spline joins the linear tails.
    let boundary = ((1.0 - MIN_DERIVATIVE).exp() - 1.0).ln();
    let derivative = |k: usize| {
        let u = if k == 0 || k == bins {
            boundary
        } else {
            inner_derivatives[k - 1]
        };
        MIN_DERIVATIVE + softplus(u)
    };
    // The bin holding y (the last knot nudged up so y = B falls in the last bin).
    let k = (0..bins).rev().find(|&k| y >= ys[k]).unwrap_or(0).min(bins - 1);
    let (x_k, w) = (xs[k], xs[k + 1] - xs[k]);
    let (y_k, h) = (ys[k], ys[k + 1] - ys[k]);
    let delta = h / w;
    let (d0, d1) = (derivative(k), derivative(k + 1));
    let dy = y - y_k;
    let a = dy * (d0 + d1 - 2.0 * delta) + h * (delta - d0);
    let b = h * d0 - dy * (d0 + d1 - 2.0 * delta);
    let c = -delta * dy;
    let discriminant = (b * b - 4.0 * a * c).max(0.0);
    let theta = (2.0 * c) / (-b - discriminant.sqrt());
    theta * w + x_k
}

fn softmax(v: &[f32]) -> Vec<f32> {
    let max = v.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = v.iter().map(|x| (x - max).exp()).collect();
    let sum: f32 = exp.iter().sum();
    exp.into_iter().map(|e| e / sum).collect()
}

fn softplus(x: f32) -> f32 {
    if x > 20.0 {
        x
    } else {
        x.exp().ln_1p()
    }
}

/// The deterministic predictor (`models.DurationPredictor`): two convolutions with ReLU and norm.
pub(crate) struct Plain {
    conv_1: Conv,
    norm_1: ChannelNorm,
    conv_2: Conv,
    norm_2: ChannelNorm,
    proj: Conv,
}

impl Plain {
    fn load(w: &Weights) -> Result<Self> {
        Ok(Plain {
            conv_1: w.conv("dp.conv_1")?,
            norm_1: ChannelNorm::load(w, "dp.norm_1")?,
            conv_2: w.conv("dp.conv_2")?,
            norm_2: ChannelNorm::load(w, "dp.norm_2")?,
            proj: w.conv("dp.proj")?,
        })
    }

    fn forward(&self, hidden: &Tensor) -> Result<Vec<f32>> {
        let x = self.norm_1.forward(&self.conv_1.forward(hidden)?.relu()?)?;
        let x = self.norm_2.forward(&self.conv_2.forward(&x)?.relu()?)?;
        Ok(self.proj.forward(&x)?.flatten_all()?.to_vec1()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inverse_spline_is_monotonic_and_identity_outside_the_bounds() {
        let widths = [0.3, -0.2, 0.5, 0.1, -0.4, 0.2, 0.0, 0.3, -0.1, 0.25];
        let heights = [-0.1, 0.4, 0.2, -0.3, 0.1, 0.0, 0.35, -0.2, 0.15, 0.05];
        let d = [0.5, -0.3, 0.2, 1.0, -1.0, 0.0, 0.7, 0.1, -0.2];
        assert_eq!(inverse_spline(7.0, &widths, &heights, &d), 7.0);
        assert_eq!(inverse_spline(-5.5, &widths, &heights, &d), -5.5);
        let mut last = f32::NEG_INFINITY;
        for i in 0..=100 {
            let y = -5.0 + i as f32 * 0.1;
            let x = inverse_spline(y, &widths, &heights, &d);
            assert!(x >= last - 1e-5, "not monotonic at {y}: {x} < {last}");
            assert!((-5.0 - 1e-4..=5.0 + 1e-4).contains(&x));
            last = x;
        }
        // Knots map to knots: uniform parameters give the identity.
        let zero = [0.0; 10];
        let d_one = [((1.0f32 - MIN_DERIVATIVE).exp() - 1.0).ln(); 9];
        for y in [-4.0, -1.3, 0.0, 2.2, 4.9] {
            assert!((inverse_spline(y, &zero, &zero, &d_one) - y).abs() < 1e-4);
        }
    }
}
