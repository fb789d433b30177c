//! AVX-512 VNNI: `vpdpbusd` multiplies 64 unsigned weight bytes by 64 signed activation bytes and adds
//! each run of four products into one of sixteen 32-bit sums: one instruction per four weights of
//! sixteen columns. Eight activation rows share each weight load.

use std::arch::x86_64::*;

use super::{RowStart, Tile};
use crate::pack::GROUP;
use crate::QuantizedRows;

/// # Safety
/// The CPU must have AVX-512 F/BW/VNNI, and [`super::run`]'s asserts must hold.
pub(super) unsafe fn tile(t: &Tile, x: &QuantizedRows, r0: usize, rows: usize, out: &mut [[f32; GROUP]]) {
    // (block, zero point, nibbles, fifth bit) of every format, in order: Q6K, Q8_0, Q4_1 and Q4K,
    // Q4_0, Q5_1 and Q5K, Q5_0.
    macro_rules! dispatch {
        ($($n:literal)*) => {
            match (rows, t.block, t.b.is_none(), t.nibbles, !t.high.is_empty()) {
                $(($n, 16, true, false, false) => tile_rows::<$n, 16, true, false, false>(t, x, r0, out),
                  ($n, 32, true, false, false) => tile_rows::<$n, 32, true, false, false>(t, x, r0, out),
                  ($n, 32, false, true, false) => tile_rows::<$n, 32, false, true, false>(t, x, r0, out),
                  ($n, 32, true, true, false) => tile_rows::<$n, 32, true, true, false>(t, x, r0, out),
                  ($n, 32, false, true, true) => tile_rows::<$n, 32, false, true, true>(t, x, r0, out),
                  ($n, 32, true, true, true) => tile_rows::<$n, 32, true, true, true>(t, x, r0, out),)*
                _ => unreachable!("block {} with {rows} rows", t.block),
            }
        };
    }
    dispatch!(1 2 3 4 5 6 7 8)
}

#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn tile_rows<
    const MR: usize,
    const B: usize,
    const ZERO_POINT: bool,
    const NIBBLES: bool,
    const FIFTH: bool,
>(
    t: &Tile,
    x: &QuantizedRows,
    r0: usize,
    out: &mut [[f32; GROUP]],
) {
    let blocks = t.blocks;
    let RowStart {
        xq,
        k,
        scale,
        scaled_sum,
        sum,
        offsets,
    } = RowStart::new(t, x, r0);
    let mut acc = [_mm512_setzero_ps(); MR];
    let low4 = _mm512_set1_epi8(0x0F);
    let sixteen = _mm512_set1_epi8(0x10);
    let block_bytes = if NIBBLES { GROUP * B / 2 } else { GROUP * B };
    for kb in 0..blocks {
        let wq = t.q.as_ptr().add(kb * block_bytes);
        // Two sums per row, for even and odd steps: with one or two rows (decode), a single chain of
        // dependent `vpdpbusd`s would wait on each one's latency instead of streaming weights.
        let mut dots = [[_mm512_setzero_si512(); MR]; 2];
        for k4 in 0..B / 4 {
            let w = if NIBBLES {
                // Steps 2j and 2j + 1 share a vector: low nibbles, then high nibbles.
                let both = _mm512_loadu_si512(wq.add(k4 / 2 * GROUP * 4).cast());
                if k4 % 2 == 0 {
                    _mm512_and_si512(both, low4)
                } else {
                    _mm512_and_si512(_mm512_srli_epi16(both, 4), low4)
                }
            } else {
                _mm512_loadu_si512(wq.add(k4 * GROUP * 4).cast())
            };
            let w = if FIFTH {
                // The step's word of fifth bits is a byte mask: add 16 where the bit is set.
                let word = t
                    .high
                    .as_ptr()
                    .add((kb * B / 4 + k4) * 8)
                    .cast::<u64>()
                    .read_unaligned();
                _mm512_mask_add_epi8(w, word, w, sixteen)
            } else {
                w
            };
            let chain = if MR <= 2 { k4 % 2 } else { 0 };
            for (r, dot) in dots[chain].iter_mut().enumerate() {
                let four = xq.add(r * k + kb * B + k4 * 4).cast::<i32>().read_unaligned();
                *dot = _mm512_dpbusd_epi32(*dot, w, _mm512_set1_epi32(four));
            }
        }
        let [even, odd] = dots;
        let dots: [__m512i; MR] = std::array::from_fn(|r| {
            if MR <= 2 {
                _mm512_add_epi32(even[r], odd[r])
            } else {
                even[r]
            }
        });
        let a = _mm512_loadu_ps(t.a.as_ptr().add(kb * GROUP));
        for (r, (acc, mut dot)) in acc.iter_mut().zip(dots).enumerate() {
            let s = _mm512_set1_ps(*scale.add(r * blocks + kb));
            if ZERO_POINT {
                // Σ (q − z)·x = Σ q·x − z·Σx, exactly, in integers.
                dot = _mm512_sub_epi32(dot, _mm512_set1_epi32(t.zero * *sum.add(r * blocks + kb)));
            }
            *acc = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(dot), a), s, *acc);
            if !ZERO_POINT {
                let b = _mm512_loadu_ps(offsets.add(kb * GROUP));
                let ss = _mm512_set1_ps(*scaled_sum.add(r * blocks + kb));
                *acc = _mm512_fnmadd_ps(b, ss, *acc);
            }
        }
    }
    for (out, acc) in out.iter_mut().zip(acc) {
        _mm512_storeu_ps(out.as_mut_ptr(), acc);
    }
}
