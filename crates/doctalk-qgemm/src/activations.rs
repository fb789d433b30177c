//! Activations quantized to int8, as the kernels read them.

use rayon::prelude::*;

/// Values quantized together: one scale per 32 activations (llama.cpp's Q8_0 grid).
const QBLOCK: usize = 32;

/// `m` rows of `k` activations as int8 with, per weight block of `block` values, the scale of the
/// values and their scaled sum (for the weights' offsets: `Σ (a·q − b)·x = a·Σq·x − b·Σx`).
#[derive(Debug, Clone)]
pub struct QuantizedRows {
    pub(crate) m: usize,
    pub(crate) k: usize,
    pub(crate) block: usize,
    pub(crate) q: Vec<i8>,
    /// `[row][block]`: the scale of the 32 activations the block lies in.
    pub(crate) scale: Vec<f32>,
    /// `[row][block]`: `scale · Σ q` over the block.
    pub(crate) scaled_sum: Vec<f32>,
    /// `[row][block]`: `Σ q` over the block (for zero-point weights).
    pub(crate) sum: Vec<i32>,
}

impl QuantizedRows {
    /// Quantizes `x` (`m` rows of `k`, row-major). `block` is the weights' block (16 or 32); `k` must
    /// be a multiple of 32.
    pub fn new(x: &[f32], m: usize, k: usize, block: usize) -> Self {
        assert!(k.is_multiple_of(QBLOCK) && QBLOCK.is_multiple_of(block) && x.len() == m * k);
        let blocks = k / block;
        let mut rows = Self {
            m,
            k,
            block,
            q: vec![0; m * k],
            scale: vec![0.0; m * blocks],
            scaled_sum: vec![0.0; m * blocks],
            sum: vec![0; m * blocks],
        };
        // Rows are independent; a prompt's or a batch's thousands of rows are worth both cores
        // (the encoders spent a tenth of their time here on one), a decoded token's one row is not.
        x.par_chunks_exact(k)
            .zip(rows.q.par_chunks_exact_mut(k))
            .zip(rows.scale.par_chunks_exact_mut(blocks))
            .zip(
                rows.scaled_sum
                    .par_chunks_exact_mut(blocks)
                    .zip(rows.sum.par_chunks_exact_mut(blocks)),
            )
            .with_min_len(64)
            .for_each(|(((row, q), scale), (scaled_sum, sum))| {
                quantize_row(row, q, scale, scaled_sum, sum, block);
            });
        rows
    }

    /// Rows.
    pub fn m(&self) -> usize {
        self.m
    }

    pub(crate) fn blocks(&self) -> usize {
        self.k / self.block
    }
}

/// One row: `q` gets the int8 values, `scale`, `scaled_sum` and `sum` one entry per weight block.
fn quantize_row(
    row: &[f32],
    q: &mut [i8],
    scale: &mut [f32],
    scaled_sum: &mut [f32],
    sum: &mut [i32],
    block: usize,
) {
    let per_qblock = QBLOCK / block;
    for (qb, values) in row.chunks_exact(QBLOCK).enumerate() {
        // Eight running maxima, so the compiler keeps them in one vector register.
        let mut lanes = [0f32; 8];
        for chunk in values.chunks_exact(8) {
            for (m, &v) in lanes.iter_mut().zip(chunk) {
                let a = v.abs();
                *m = if a > *m { a } else { *m };
            }
        }
        let amax = lanes.iter().fold(0f32, |m, &v| if v > m { v } else { m });
        let s = amax / 127.0;
        let inverse = if s > 0.0 { 1.0 / s } else { 0.0 };
        let out = &mut q[qb * QBLOCK..][..QBLOCK];
        for (q, &v) in out.iter_mut().zip(values) {
            // Round half away from zero (not `f32::round`: without SSE4.1 in the baseline
            // that is a libm call per value). |v·inverse| ≤ 127 for finite inputs; the clamp
            // and the NaN check make the unchecked conversion (the one that vectorises) sound
            // for any input.
            let scaled = v * inverse;
            let rounded = (scaled + 0.5f32.copysign(scaled)).clamp(-127.0, 127.0);
            let rounded = if rounded.is_nan() { 0.0 } else { rounded };
            // SAFETY: `rounded` is finite and within i32's range.
            *q = unsafe { rounded.to_int_unchecked::<i32>() } as i8;
        }
        for (j, part) in out.chunks_exact(block).enumerate() {
            let total: i32 = part.iter().map(|&q| i32::from(q)).sum();
            let at = qb * per_qblock + j;
            scale[at] = s;
            scaled_sum[at] = s * total as f32;
            sum[at] = total;
        }
    }
}
