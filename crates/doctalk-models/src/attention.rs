//! Scaled dot-product attention of one head on the CPU, shared by the sentence encoders (every token
//! sees every token of its text) and the LLM's prompt pass (causal: a token sees the cache and the
//! tokens before it).
//!
//! Through candle, a prompt's attention cost as much as all its projections: scores for every head
//! were materialised at once, the causal half was computed and then masked, and softmax called libm's
//! `expf` per score. Here the query rows go in blocks of [`ROW_BLOCK`]; a causal block multiplies only
//! the keys its last row can see (about half the work of the full square), both products are f32
//! GEMMs (the `gemm` crate candle itself uses, which picks AVX-512/AVX2/NEON at run time) reading
//! queries, keys and values in place through row strides, and softmax uses a vectorisable `exp`.

use crate::fastmath::exp;

/// Query rows per block: the block's scores (`ROW_BLOCK × keys` f32) stay in L2 for the second product.
const ROW_BLOCK: usize = 64;

/// Rows of `head_dim` values, `stride` apart, starting at `ptr`.
#[derive(Clone, Copy)]
pub(crate) struct Rows {
    pub ptr: *const f32,
    pub stride: usize,
}

/// Where one head's output rows go.
#[derive(Clone, Copy)]
pub(crate) struct OutRows {
    pub ptr: *mut f32,
    pub stride: usize,
}

/// An output buffer that parallel jobs write at disjoint places (each job one head's columns).
#[derive(Clone, Copy)]
pub(crate) struct SharedOut(*mut f32);
// SAFETY: jobs only write disjoint ranges (each caller's SAFETY note says which), and the buffer
// outlives the parallel loop that shares it.
unsafe impl Send for SharedOut {}
unsafe impl Sync for SharedOut {}

impl SharedOut {
    pub(crate) fn new(buffer: &mut [f32]) -> Self {
        Self(buffer.as_mut_ptr())
    }

    /// A method, so that closures capture the whole (`Sync`) wrapper rather than its raw field.
    pub(crate) fn at(self, offset: usize) -> *mut f32 {
        self.0.wrapping_add(offset)
    }
}

/// Which keys a query row may see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Visibility {
    /// All of them (an encoder).
    All,
    /// Query row i sees keys `0..=offset + i` (a decoder whose cache holds `offset` tokens).
    Causal { offset: usize },
}

/// `out = softmax(scale · q · kᵀ) · v` for one head: `rows` queries, `keys` keys and values.
/// `scores` is scratch space, reused across calls.
///
/// # Safety
/// `q` must address `rows` rows and `k`, `v` `keys` rows of `head_dim` readable values at their
/// strides; `out` `rows` rows of `head_dim` writable values that nothing else reads or writes during
/// the call. With [`Visibility::Causal`], `offset + rows` must not exceed `keys`.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn attend_head(
    q: Rows,
    k: Rows,
    v: Rows,
    out: OutRows,
    rows: usize,
    keys: usize,
    head_dim: usize,
    scale: f32,
    visibility: Visibility,
    scores: &mut Vec<f32>,
) {
    for start in (0..rows).step_by(ROW_BLOCK) {
        let block = ROW_BLOCK.min(rows - start);
        // Keys the block's last row can see; earlier rows see a prefix of them.
        let seen = match visibility {
            Visibility::All => keys,
            Visibility::Causal { offset } => (offset + start + block).min(keys),
        };
        scores.clear();
        scores.resize(block * seen, 0.0);
        // scores = scale · Q_block · K[..seen]ᵀ
        gemm::gemm(
            block,
            seen,
            head_dim,
            scores.as_mut_ptr(),
            1,
            seen as isize,
            false,
            q.ptr.add(start * q.stride),
            1,
            q.stride as isize,
            k.ptr,
            k.stride as isize,
            1,
            0.0,
            scale,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
        for (i, row) in scores.chunks_exact_mut(seen).enumerate() {
            let visible = match visibility {
                Visibility::All => seen,
                Visibility::Causal { offset } => (offset + start + i + 1).min(seen),
            };
            let (live, masked) = row.split_at_mut(visible);
            softmax(live);
            masked.fill(0.0);
        }
        // out_block = P · V[..seen]
        gemm::gemm(
            block,
            head_dim,
            seen,
            out.ptr.add(start * out.stride),
            1,
            out.stride as isize,
            false,
            scores.as_ptr(),
            1,
            seen as isize,
            v.ptr,
            1,
            v.stride as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// In place, each pass written so that it vectorises (eight running maxima and sums rather than
/// one, which would make every step wait for the last).
pub(crate) fn softmax(scores: &mut [f32]) {
    if scores.is_empty() {
        return;
    }
    let mut lanes = [f32::NEG_INFINITY; 8];
    let mut chunks = scores.chunks_exact(8);
    for chunk in &mut chunks {
        for (m, &v) in lanes.iter_mut().zip(chunk) {
            *m = if v > *m { v } else { *m };
        }
    }
    let max = chunks
        .remainder()
        .iter()
        .chain(&lanes)
        .fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m });
    scores.iter_mut().for_each(|s| *s = exp(*s - max));
    let inv = 1.0 / lane_sum(scores);
    scores.iter_mut().for_each(|s| *s *= inv);
}

/// `Σ values` with eight partial sums (vectorises; differs from a plain fold only in rounding).
pub(crate) fn lane_sum(values: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let mut chunks = values.chunks_exact(8);
    for chunk in &mut chunks {
        for (l, &v) in lanes.iter_mut().zip(chunk) {
            *l += v;
        }
    }
    lanes.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The textbook computation, in f64.
    fn reference(
        q: &[f32],
        k: &[f32],
        v: &[f32],
        rows: usize,
        keys: usize,
        d: usize,
        vis: Visibility,
    ) -> Vec<f32> {
        let scale = 1.0 / (d as f64).sqrt();
        let mut out = vec![0f32; rows * d];
        for i in 0..rows {
            let visible = match vis {
                Visibility::All => keys,
                Visibility::Causal { offset } => offset + i + 1,
            };
            let s: Vec<f64> = (0..visible)
                .map(|j| {
                    (0..d)
                        .map(|t| f64::from(q[i * d + t]) * f64::from(k[j * d + t]))
                        .sum::<f64>()
                        * scale
                })
                .collect();
            let max = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = s.iter().map(|x| (x - max).exp()).collect();
            let total: f64 = e.iter().sum();
            for t in 0..d {
                out[i * d + t] = (0..visible)
                    .map(|j| e[j] / total * f64::from(v[j * d + t]))
                    .sum::<f64>() as f32;
            }
        }
        out
    }

    /// Deterministic values in [-1, 1) (xorshift); also the inputs of `llm::grouped`'s tests.
    pub(crate) fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761) | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s % 2000) as f32 / 1000.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn matches_the_textbook_computation_causal_and_not() {
        let d = 16;
        for (rows, keys, vis) in [
            (5, 5, Visibility::All),
            (150, 150, Visibility::All),
            (150, 150, Visibility::Causal { offset: 0 }),
            (70, 100, Visibility::Causal { offset: 30 }),
            (1, 9, Visibility::Causal { offset: 8 }),
        ] {
            let (q, k, v) = (values(rows * d, 1), values(keys * d, 2), values(keys * d, 3));
            let mut out = vec![0f32; rows * d];
            let mut scratch = Vec::new();
            // SAFETY: every buffer has the rows the call addresses.
            unsafe {
                attend_head(
                    Rows {
                        ptr: q.as_ptr(),
                        stride: d,
                    },
                    Rows {
                        ptr: k.as_ptr(),
                        stride: d,
                    },
                    Rows {
                        ptr: v.as_ptr(),
                        stride: d,
                    },
                    OutRows {
                        ptr: out.as_mut_ptr(),
                        stride: d,
                    },
                    rows,
                    keys,
                    d,
                    1.0 / (d as f32).sqrt(),
                    vis,
                    &mut scratch,
                );
            }
            let want = reference(&q, &k, &v, rows, keys, d, vis);
            let worst = out
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            assert!(worst < 1e-5, "{rows}×{keys} {vis:?}: max error {worst}");
        }
    }

    #[test]
    fn softmax_sums_to_one_and_keeps_order() {
        let mut s = vec![1.0, 3.0, 2.0, -50.0, 0.5, 0.5, 7.0, 1.0, 2.0, 2.5, 3.5];
        softmax(&mut s);
        assert!((lane_sum(&s) - 1.0).abs() < 1e-6);
        assert!(s[6] > s[10] && s[10] > s[1] && s[3] < 1e-20);
    }
}
