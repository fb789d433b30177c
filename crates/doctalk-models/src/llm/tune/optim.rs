//! AdamW with gradient clipping, and moments a checkpoint can save and restore (candle's own AdamW
//! keeps them private, so a resumed run would restart them at zero and take a different path).

use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};

use crate::error::Result;

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f64 = 1e-8;
const WEIGHT_DECAY: f64 = 0.0;
/// Gradients are scaled down to this global norm: one odd example cannot throw the adapter off.
const MAX_GRAD_NORM: f64 = 1.0;

pub(crate) struct AdamW {
    vars: Vec<Var>,
    /// First and second moments, per variable.
    moments: Vec<(Tensor, Tensor)>,
    step: usize,
    lr: f64,
}

impl AdamW {
    pub(crate) fn new(vars: Vec<Var>, lr: f64) -> Self {
        let moments = vars
            .iter()
            .map(|v| {
                let zeros = v.as_tensor().zeros_like().expect("zeros of an existing tensor");
                (zeros.clone(), zeros)
            })
            .collect();
        Self {
            vars,
            moments,
            step: 0,
            lr,
        }
    }

    pub(crate) fn moments(&self) -> &[(Tensor, Tensor)] {
        &self.moments
    }

    /// Takes moments saved at `step` (same variables, same order).
    pub(crate) fn restore(&mut self, moments: Vec<(Tensor, Tensor)>, step: usize) -> Result<()> {
        if moments.len() != self.vars.len() {
            return Err(crate::ModelError::InvalidParams(format!(
                "the checkpoint has {} optimizer moments for {} matrices",
                moments.len(),
                self.vars.len()
            )));
        }
        let Some(first) = self.vars.first() else {
            return Ok(());
        };
        let device = first.device().clone();
        self.moments = moments
            .into_iter()
            .map(|(m, v)| Ok((m.to_device(&device)?, v.to_device(&device)?)))
            .collect::<candle_core::Result<_>>()?;
        self.step = step;
        Ok(())
    }

    pub(crate) fn step(&mut self, grads: &GradStore) -> Result<()> {
        let gradients: Vec<Option<Tensor>> = self.vars.iter().map(|v| grads.get(v).cloned()).collect();
        let mut norm2 = 0f64;
        for g in gradients.iter().flatten() {
            norm2 += g.sqr()?.sum_all()?.to_scalar::<f32>()? as f64;
        }
        let clip = (MAX_GRAD_NORM / (norm2.sqrt() + 1e-6)).min(1.0);
        self.step += 1;
        let t = self.step as i32;
        let (c1, c2) = (1.0 - BETA1.powi(t), 1.0 - BETA2.powi(t));
        for ((var, g), (m, v)) in self.vars.iter().zip(gradients).zip(self.moments.iter_mut()) {
            let Some(g) = g else { continue };
            let g = (g * clip)?;
            *m = ((&*m * BETA1)? + (&g * (1.0 - BETA1))?)?;
            *v = ((&*v * BETA2)? + (g.sqr()? * (1.0 - BETA2))?)?;
            let update = ((&*m / c1)? / ((&*v / c2)?.sqrt()? + EPS)?)?;
            let decayed = (var.as_tensor() * (1.0 - self.lr * WEIGHT_DECAY))?;
            var.set(&(decayed - (update * self.lr)?)?)?;
        }
        Ok(())
    }
}
