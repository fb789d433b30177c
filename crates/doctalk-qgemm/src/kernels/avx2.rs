//! AVX2: `vpmaddubsw` multiplies unsigned weight bytes by signed activation bytes into 16-bit pair
//! sums, `vpmaddwd` widens them to 32-bit sums of four; sixteen columns are two 256-bit halves.
//!
//! A pair of products saturates 16 bits when a weight exceeds 127 (only Q8_0's offset values can):
//! those weights go through in two parts, `q = 2·(q >> 1) + (q & 1)`.

use std::arch::x86_64::*;

use super::{RowStart, Tile};
use crate::pack::GROUP;
use crate::QuantizedRows;

/// # Safety
/// The CPU must have AVX2 and FMA, and [`super::run`]'s asserts must hold.
pub(super) unsafe fn tile(t: &Tile, x: &QuantizedRows, r0: usize, rows: usize, out: &mut [[f32; GROUP]]) {
    macro_rules! dispatch {
        ($(($n:literal, $b:literal, $wide:literal, $zp:literal))*) => {
            match (rows, t.block, t.wide, t.b.is_none()) {
                $(($n, $b, $wide, $zp) => tile_rows::<$n, $b, $wide, $zp>(t, x, r0, out),)*
                _ => unreachable!("block {} with {rows} rows", t.block),
            }
        };
    }
    // Braces keep rustfmt from reflowing the table. Four-row tiles only for tall tiles (fifth-bit
    // formats, and four- and five-bit weights unpacked to bytes: `Tile::tall`), none of them wide.
    dispatch! {
        (1, 32, false, false) (2, 32, false, false) (1, 16, false, false) (2, 16, false, false)
        (1, 32, true, false) (2, 32, true, false) (1, 16, true, false) (2, 16, true, false)
        (1, 32, false, true) (2, 32, false, true) (1, 16, false, true) (2, 16, false, true)
        (1, 32, true, true) (2, 32, true, true) (1, 16, true, true) (2, 16, true, true)
        (3, 32, false, false) (4, 32, false, false) (3, 32, false, true) (4, 32, false, true)
    }
}

#[target_feature(enable = "avx2,fma")]
unsafe fn tile_rows<const MR: usize, const B: usize, const WIDE: bool, const ZERO_POINT: bool>(
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
    let ones = _mm256_set1_epi16(1);
    let twos = _mm256_set1_epi16(2);
    let low7 = _mm256_set1_epi8(0x7F);
    let bit0 = _mm256_set1_epi8(1);
    let low4 = _mm256_set1_epi8(0x0F);
    let sixteen = _mm256_set1_epi8(0x10);
    // A 32-bit word of fifth bits to 32 bytes: each byte gets its word's byte, then its own bit.
    let spread = _mm256_setr_epi8(
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
    );
    let bit_of_byte = _mm256_set1_epi64x(0x8040_2010_0804_0201u64 as i64);
    let fifth = !t.high.is_empty();
    let block_bytes = if t.nibbles { GROUP * B / 2 } else { GROUP * B };
    let mut acc = [[_mm256_setzero_ps(); 2]; MR];
    for kb in 0..blocks {
        let wq = t.q.as_ptr().add(kb * block_bytes);
        let mut dots = [[_mm256_setzero_si256(); 2]; MR];
        // Step k4's weights for the sixteen columns: four bytes each, in two vectors.
        let step = |k4: usize| {
            let w = if t.nibbles {
                // Steps 2j and 2j + 1 share a vector: low nibbles, then high nibbles.
                let at = k4 / 2 * GROUP * 4;
                let both = [
                    _mm256_loadu_si256(wq.add(at).cast()),
                    _mm256_loadu_si256(wq.add(at + 32).cast()),
                ];
                if k4.is_multiple_of(2) {
                    both.map(|v| _mm256_and_si256(v, low4))
                } else {
                    both.map(|v| _mm256_and_si256(_mm256_srli_epi16(v, 4), low4))
                }
            } else {
                [
                    _mm256_loadu_si256(wq.add(k4 * GROUP * 4).cast()),
                    _mm256_loadu_si256(wq.add(k4 * GROUP * 4 + 32).cast()),
                ]
            };
            if !fifth {
                return w;
            }
            let words = t
                .high
                .as_ptr()
                .add((kb * B / 4 + k4) * 8)
                .cast::<[i32; 2]>()
                .read_unaligned();
            let mut w = w;
            for (w, word) in w.iter_mut().zip(words) {
                let bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(word), spread);
                let set = _mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit_of_byte), bit_of_byte);
                *w = _mm256_or_si256(*w, _mm256_and_si256(set, sixteen));
            }
            w
        };
        let x4 = |r: usize, k4: usize| {
            _mm256_set1_epi32(xq.add(r * k + kb * B + k4 * 4).cast::<i32>().read_unaligned())
        };
        if WIDE {
            for k4 in 0..B / 4 {
                let split = step(k4).map(|w| {
                    (
                        _mm256_and_si256(_mm256_srli_epi16(w, 1), low7),
                        _mm256_and_si256(w, bit0),
                    )
                });
                for (r, dot) in dots.iter_mut().enumerate() {
                    let xb = x4(r, k4);
                    for (h, &(hi, lo)) in split.iter().enumerate() {
                        let p = _mm256_add_epi32(
                            _mm256_madd_epi16(_mm256_maddubs_epi16(hi, xb), twos),
                            _mm256_madd_epi16(_mm256_maddubs_epi16(lo, xb), ones),
                        );
                        dot[h] = _mm256_add_epi32(dot[h], p);
                    }
                }
            }
        } else {
            // Two steps' pair sums are added in 16 bits before one widening: a weight that is not
            // wide is below 64 and an activation at least −128, so the sum of four products stays
            // within ±32,256 (a quarter fewer multiplies than widening every step).
            for k8 in 0..B / 8 {
                let (even, odd) = (step(2 * k8), step(2 * k8 + 1));
                for (r, dot) in dots.iter_mut().enumerate() {
                    let (xe, xo) = (x4(r, 2 * k8), x4(r, 2 * k8 + 1));
                    for h in 0..2 {
                        let pairs = _mm256_add_epi16(
                            _mm256_maddubs_epi16(even[h], xe),
                            _mm256_maddubs_epi16(odd[h], xo),
                        );
                        dot[h] = _mm256_add_epi32(dot[h], _mm256_madd_epi16(pairs, ones));
                    }
                }
            }
        }
        let a = [
            _mm256_loadu_ps(t.a.as_ptr().add(kb * GROUP)),
            _mm256_loadu_ps(t.a.as_ptr().add(kb * GROUP + 8)),
        ];
        for (r, (acc, dot)) in acc.iter_mut().zip(dots).enumerate() {
            let s = _mm256_set1_ps(*scale.add(r * blocks + kb));
            let zero_sum = _mm256_set1_epi32(t.zero * *sum.add(r * blocks + kb));
            let ss = _mm256_set1_ps(*scaled_sum.add(r * blocks + kb));
            for h in 0..2 {
                let dot = if ZERO_POINT {
                    _mm256_sub_epi32(dot[h], zero_sum)
                } else {
                    dot[h]
                };
                acc[h] = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(dot), a[h]), s, acc[h]);
                if !ZERO_POINT {
                    let b = _mm256_loadu_ps(offsets.add(kb * GROUP + 8 * h));
                    acc[h] = _mm256_fnmadd_ps(b, ss, acc[h]);
                }
            }
        }
    }
    for (out, acc) in out.iter_mut().zip(acc) {
        _mm256_storeu_ps(out.as_mut_ptr(), acc[0]);
        _mm256_storeu_ps(out.as_mut_ptr().add(8), acc[1]);
    }
}
