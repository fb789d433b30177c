//! A direct 1-D convolution for the CPU. candle's CPU convolution unrolls the input (im2col) and
//! multiplies matrices; with HiFi-GAN's few channels and long signals (32 channels × 40k samples)
//! that matrix is tall and thin and most time goes to copying it: 75 ms for one 7-tap layer on
//! 2 threads, against ~10 ms for this loop of shifted multiply-adds over contiguous rows, which
//! the compiler vectorises. Measured in ARCHITECTURE.md (`vits`).

/// `x`: `[c_in, len]` row-major; `w`: `[c_out, c_in / groups, k]`; stride 1, zero padding `pad` on
/// both sides. Returns `[c_out, len_out]` with `bias` added.
#[allow(clippy::too_many_arguments)]
pub(crate) fn conv1d(
    x: &[f32],
    c_in: usize,
    len: usize,
    w: &[f32],
    c_out: usize,
    k: usize,
    bias: Option<&[f32]>,
    pad: usize,
    dilation: usize,
    groups: usize,
) -> (Vec<f32>, usize) {
    let span = dilation * (k - 1);
    let len_out = (len + 2 * pad).saturating_sub(span);
    let per_group_in = c_in / groups;
    let per_group_out = c_out / groups;
    let mut y = vec![0.0f32; c_out * len_out];
    let work = c_out * per_group_in * k * len_out;
    let threads = if work > 2_000_000 {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(c_out)
    } else {
        1
    };
    let rows_per_thread = c_out.div_ceil(threads);
    // Output rows are filled a block at a time so the block being summed stays in L1 cache while
    // every (input channel, tap) pair adds into it.
    const BLOCK: usize = 512;
    let compute = |first_row: usize, out: &mut [f32]| {
        for (r, row) in out.chunks_mut(len_out).enumerate() {
            let o = first_row + r;
            if let Some(b) = bias {
                row.fill(b[o]);
            }
            let g = o / per_group_out;
            for block_start in (0..len_out).step_by(BLOCK) {
                let block_end = (block_start + BLOCK).min(len_out);
                for ii in 0..per_group_in {
                    let input = &x[(g * per_group_in + ii) * len..][..len];
                    let taps = &w[(o * per_group_in + ii) * k..][..k];
                    for (j, &tap) in taps.iter().enumerate() {
                        // Output t reads input t + j·dilation − pad, where that lies inside.
                        let shift = (j * dilation) as isize - pad as isize;
                        let t0 = ((-shift).max(0) as usize).max(block_start);
                        let t1 = ((len as isize - shift).max(0) as usize).min(block_end);
                        if t0 >= t1 {
                            continue;
                        }
                        let src = &input[(t0 as isize + shift) as usize..][..t1 - t0];
                        axpy(&mut row[t0..t1], src, tap);
                    }
                }
            }
        }
    };
    if threads <= 1 {
        compute(0, &mut y);
    } else {
        std::thread::scope(|scope| {
            for (i, chunk) in y.chunks_mut(rows_per_thread * len_out).enumerate() {
                let compute = &compute;
                scope.spawn(move || compute(i * rows_per_thread, chunk));
            }
        });
    }
    (y, len_out)
}

/// `acc += tap · src`. On x86-64 CPUs with AVX2 and FMA (nearly all since 2013) a copy compiled
/// for them runs, 8 lanes with fused multiply-add; portable builds otherwise only get SSE2.
fn axpy(acc: &mut [f32], src: &[f32], tap: f32) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU was just checked to have the features the function is compiled for.
        unsafe { axpy_avx2_fma(acc, src, tap) };
        return;
    }
    for (a, v) in acc.iter_mut().zip(src) {
        *a += tap * v;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn axpy_avx2_fma(acc: &mut [f32], src: &[f32], tap: f32) {
    for (a, v) in acc.iter_mut().zip(src) {
        *a = tap.mul_add(*v, *a);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    #[test]
    fn matches_candle_with_padding_dilation_and_groups() {
        let d = Device::Cpu;
        for (c_in, c_out, k, pad, dilation, groups, len) in [
            (4, 6, 3, 1, 1, 1, 50),
            (6, 6, 3, 3, 3, 6, 40),
            (8, 4, 7, 18, 6, 2, 30),
            (3, 5, 5, 0, 1, 1, 9),
        ] {
            let x = Tensor::randn(0f32, 1., (1, c_in, len), &d).unwrap();
            let w = Tensor::randn(0f32, 1., (c_out, c_in / groups, k), &d).unwrap();
            let b = Tensor::randn(0f32, 1., c_out, &d).unwrap();
            let expected = x
                .conv1d(&w, pad, 1, dilation, groups)
                .unwrap()
                .broadcast_add(&b.reshape((1, c_out, 1)).unwrap())
                .unwrap();
            let (got, len_out) = conv1d(
                &x.flatten_all().unwrap().to_vec1().unwrap(),
                c_in,
                len,
                &w.flatten_all().unwrap().to_vec1().unwrap(),
                c_out,
                k,
                Some(&b.to_vec1::<f32>().unwrap()),
                pad,
                dilation,
                groups,
            );
            assert_eq!(len_out, expected.dim(2).unwrap());
            let want: Vec<f32> = expected.flatten_all().unwrap().to_vec1().unwrap();
            let err = got
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(
                err < 1e-4,
                "max error {err} for {c_in}->{c_out} k{k} d{dilation} g{groups}"
            );
        }
    }
}
