//! Activations quantized to int8, as the kernels read them.

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
        let per_qblock = QBLOCK / block;
        for (r, row) in x.chunks_exact(k).enumerate() {
            for (qb, values) in row.chunks_exact(QBLOCK).enumerate() {
                let amax = values.iter().fold(0f32, |m, v| m.max(v.abs()));
                let scale = amax / 127.0;
                let inverse = if scale > 0.0 { 1.0 / scale } else { 0.0 };
                let out = &mut rows.q[r * k + qb * QBLOCK..][..QBLOCK];
                for (q, &v) in out.iter_mut().zip(values) {
                    // Round half away from zero; `as` saturates, and |v·inverse| ≤ 127 anyway. (Not
                    // `f32::round`: without SSE4.1 in the baseline that is a libm call per value.)
                    let scaled = v * inverse;
                    *q = (scaled + 0.5f32.copysign(scaled)) as i8;
                }
                for (j, part) in out.chunks_exact(block).enumerate() {
                    let sum: i32 = part.iter().map(|&q| i32::from(q)).sum();
                    let at = r * blocks + qb * per_qblock + j;
                    rows.scale[at] = scale;
                    rows.scaled_sum[at] = scale * sum as f32;
                    rows.sum[at] = sum;
                }
            }
        }
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
