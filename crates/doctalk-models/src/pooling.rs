//! Sentence-transformers pooling: masked mean over tokens, then L2 normalisation.

use candle_core::{DType, Tensor, D};

use crate::error::Result;

/// Mean of `hidden` (`[batch, seq, dim]`) over the positions where `mask` (`[batch, seq]`) is 1.
///
/// Padding must not count: a padded short text would otherwise be pulled towards the pad embedding
/// and get a different vector than when embedded alone.
pub(crate) fn masked_mean(hidden: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let mask = mask.to_dtype(hidden.dtype())?.unsqueeze(D::Minus1)?;
    let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
    // Every row has at least [CLS] and [SEP]; the clamp only guards against an all-zero mask.
    let counts = mask.sum(1)?.clamp(1e-9f32, f32::MAX)?;
    Ok(summed.broadcast_div(&counts)?)
}

/// Scales each row of `[batch, dim]` to unit length (a zero row stays zero).
pub(crate) fn l2_normalise(x: &Tensor) -> Result<Tensor> {
    let norms = x
        .to_dtype(DType::F32)?
        .sqr()?
        .sum_keepdim(D::Minus1)?
        .sqrt()?
        .clamp(1e-12f32, f32::MAX)?;
    Ok(x.broadcast_div(&norms)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn masked_mean_ignores_padding() {
        let dev = Device::Cpu;
        // batch 1, seq 3, dim 2; the last position is padding with a huge value.
        let hidden = Tensor::new(&[[[1f32, 2.], [3., 4.], [100., 100.]]], &dev).unwrap();
        let mask = Tensor::new(&[[1u32, 1, 0]], &dev).unwrap();
        let mean = masked_mean(&hidden, &mask).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(mean, vec![vec![2.0, 3.0]]);
    }

    #[test]
    fn l2_normalise_gives_unit_rows() {
        let dev = Device::Cpu;
        let x = Tensor::new(&[[3f32, 4.], [0., 0.]], &dev).unwrap();
        let n = l2_normalise(&x).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(n, vec![vec![0.6, 0.8], vec![0.0, 0.0]]);
    }
}
