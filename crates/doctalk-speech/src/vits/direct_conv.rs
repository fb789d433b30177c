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
    // Ungrouped convolutions (HiFi-GAN's) take the register-tiled kernel where the CPU has it.
    #[cfg(target_arch = "x86_64")]
    if groups == 1 && tiled::available() {
        // SAFETY: the CPU has the features the kernel is compiled for.
        unsafe {
            tiled::conv1d(
                x, c_in, len, w, c_out, k, bias, pad, dilation, threads, &mut y, len_out,
            )
        };
        return (y, len_out);
    }
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

/// The ungrouped convolution tiled for registers: four output rows × 24 outputs are summed in
/// twelve AVX registers over every (input channel, tap) pair, so each input vector loaded feeds
/// four fused multiply-adds and the sums stay in registers until the tile is done.
#[cfg(target_arch = "x86_64")]
mod tiled {
    use std::arch::x86_64::*;

    /// Outputs per tile (three 8-lane vectors) and output rows per tile.
    const COLS: usize = 24;
    const ROWS: usize = 4;

    pub(super) fn available() -> bool {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }

    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn conv1d(
        x: &[f32],
        c_in: usize,
        len: usize,
        w: &[f32],
        c_out: usize,
        k: usize,
        bias: Option<&[f32]>,
        pad: usize,
        dilation: usize,
        threads: usize,
        y: &mut [f32],
        len_out: usize,
    ) {
        // The input zero-padded (and one tile wider), so the inner loop has no edges.
        let width = (len + 2 * pad).max(len_out.next_multiple_of(COLS) + dilation * (k - 1));
        let mut padded = vec![0.0f32; c_in * width];
        for (dst, src) in padded.chunks_mut(width).zip(x.chunks(len)) {
            dst[pad..pad + len].copy_from_slice(src);
        }
        // Where each (input channel, tap) pair reads, and its weights for four rows side by side.
        let pairs = c_in * k;
        let offsets: Vec<usize> = (0..pairs).map(|p| (p / k) * width + (p % k) * dilation).collect();
        let groups = c_out.div_ceil(ROWS);
        let mut taps = vec![0.0f32; groups * pairs * ROWS];
        for o in 0..c_out {
            for p in 0..pairs {
                taps[((o / ROWS) * pairs + p) * ROWS + o % ROWS] = w[o * pairs + p];
            }
        }
        let run = |first_group: usize, out: &mut [f32]| {
            let rows = out.len() / len_out.max(1);
            for g in 0..rows.div_ceil(ROWS) {
                let row0 = g * ROWS;
                let live = (rows - row0).min(ROWS);
                let group_taps = &taps[(first_group + g) * pairs * ROWS..][..pairs * ROWS];
                let mut tile = [0.0f32; ROWS * COLS];
                for t in (0..len_out).step_by(COLS) {
                    // SAFETY: `padded` is wide enough for a full tile at every t (see `width`),
                    // and `group_taps` holds ROWS weights per pair.
                    unsafe { tile_sums(&padded, &offsets, group_taps, t, &mut tile) };
                    let n = (len_out - t).min(COLS);
                    for r in 0..live {
                        let o = (first_group + g) * ROWS + r;
                        let b = bias.map_or(0.0, |b| b[o]);
                        let dst = &mut out[(row0 + r) * len_out + t..][..n];
                        for (d, v) in dst.iter_mut().zip(&tile[r * COLS..r * COLS + n]) {
                            *d = v + b;
                        }
                    }
                }
            }
        };
        if threads <= 1 {
            run(0, y);
        } else {
            let groups_per_thread = groups.div_ceil(threads);
            std::thread::scope(|scope| {
                for (i, chunk) in y.chunks_mut(groups_per_thread * ROWS * len_out).enumerate() {
                    let run = &run;
                    scope.spawn(move || run(i * groups_per_thread, chunk));
                }
            });
        }
    }

    /// One tile: `tile[r * COLS + c]` = Σ over pairs of `taps[pair][r] · x[offset[pair] + t + c]`.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn tile_sums(x: &[f32], offsets: &[usize], taps: &[f32], t: usize, tile: &mut [f32; ROWS * COLS]) {
        let (mut a00, mut a01, mut a02) = (_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps());
        let (mut a10, mut a11, mut a12) = (_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps());
        let (mut a20, mut a21, mut a22) = (_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps());
        let (mut a30, mut a31, mut a32) = (_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps());
        let (xp, tp) = (x.as_ptr().add(t), taps.as_ptr());
        for (p, &offset) in offsets.iter().enumerate() {
            let src = xp.add(offset);
            let (x0, x1, x2) = (
                _mm256_loadu_ps(src),
                _mm256_loadu_ps(src.add(8)),
                _mm256_loadu_ps(src.add(16)),
            );
            let w = tp.add(p * ROWS);
            let w0 = _mm256_broadcast_ss(&*w);
            a00 = _mm256_fmadd_ps(w0, x0, a00);
            a01 = _mm256_fmadd_ps(w0, x1, a01);
            a02 = _mm256_fmadd_ps(w0, x2, a02);
            let w1 = _mm256_broadcast_ss(&*w.add(1));
            a10 = _mm256_fmadd_ps(w1, x0, a10);
            a11 = _mm256_fmadd_ps(w1, x1, a11);
            a12 = _mm256_fmadd_ps(w1, x2, a12);
            let w2 = _mm256_broadcast_ss(&*w.add(2));
            a20 = _mm256_fmadd_ps(w2, x0, a20);
            a21 = _mm256_fmadd_ps(w2, x1, a21);
            a22 = _mm256_fmadd_ps(w2, x2, a22);
            let w3 = _mm256_broadcast_ss(&*w.add(3));
            a30 = _mm256_fmadd_ps(w3, x0, a30);
            a31 = _mm256_fmadd_ps(w3, x1, a31);
            a32 = _mm256_fmadd_ps(w3, x2, a32);
        }
        let out = tile.as_mut_ptr();
        for (i, a) in [a00, a01, a02, a10, a11, a12, a20, a21, a22, a30, a31, a32]
            .into_iter()
            .enumerate()
        {
            _mm256_storeu_ps(out.add(i * 8), a);
        }
    }
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
            (16, 9, 7, 9, 3, 1, 300),
            (32, 1, 7, 3, 1, 1, 2000),
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
