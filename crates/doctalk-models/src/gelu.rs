//! GELU (the exact, erf form) for f32 tensors on the CPU. candle computes it element by element
//! through the `libm` crate's `erff`, which the dev profile builds unoptimised (and which every
//! dependency shares, so optimising it rebuilds the whole tree): in a profile of ingest it was a
//! fifth of the time. Here erf is the Abramowitz–Stegun 7.1.26 rational approximation (absolute
//! error below 1.5e-7, far under f32 encoder noise, see [`crate::fastmath`]), computed on all cores.
//! Other devices and dtypes use candle's own op.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};

use crate::error::Result;
use crate::fastmath::gelu_erf as gelu;

/// `0.5 · x · (1 + erf(x / √2))`.
pub(crate) fn gelu_erf(x: &Tensor) -> Result<Tensor> {
    if x.device().is_cpu() && x.dtype() == candle_core::DType::F32 {
        let x = x.contiguous()?;
        return Ok(x.apply_op1_no_bwd(&GeluErf)?);
    }
    Ok(x.gelu_erf()?)
}

struct GeluErf;

impl CustomOp1 for GeluErf {
    fn name(&self) -> &'static str {
        "doctalk-gelu-erf"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let CpuStorage::F32(data) = storage else {
            candle_core::bail!("doctalk-gelu-erf: f32 only");
        };
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle_core::bail!("doctalk-gelu-erf: contiguous input only");
        };
        let input = &data[start..end];
        let mut out = vec![0f32; input.len()];
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        // Small tensors are not worth a thread.
        let per = input.len().div_ceil(threads).max(64 * 1024);
        std::thread::scope(|scope| {
            for (src, dst) in input.chunks(per).zip(out.chunks_mut(per)) {
                scope.spawn(move || {
                    for (o, &v) in dst.iter_mut().zip(src) {
                        *o = gelu(v);
                    }
                });
            }
        });
        Ok((CpuStorage::F32(out), layout.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn matches_candles_exact_gelu() {
        let values: Vec<f32> = (-4000..=4000).map(|i| i as f32 / 500.0).collect();
        let x = Tensor::new(values.as_slice(), &Device::Cpu).unwrap();
        let ours = gelu_erf(&x).unwrap().to_vec1::<f32>().unwrap();
        let reference = x.gelu_erf().unwrap().to_vec1::<f32>().unwrap();
        let worst = ours
            .iter()
            .zip(&reference)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(worst < 2e-6, "max abs error {worst}");
    }

    #[test]
    fn large_tensors_are_split_across_threads_in_order() {
        let values: Vec<f32> = (0..300_000).map(|i| (i % 1000) as f32 / 100.0 - 5.0).collect();
        let x = Tensor::new(values.as_slice(), &Device::Cpu)
            .unwrap()
            .reshape((300, 1000))
            .unwrap();
        let ours = gelu_erf(&x)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        for (o, v) in ours.iter().zip(&values) {
            assert!((o - gelu(*v)).abs() == 0.0);
        }
    }
}
