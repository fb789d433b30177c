//! Plain Rust: the reference the SIMD kernels are tested against, and the kernel of CPUs without them.

use super::Tile;
use crate::pack::{block_bytes, high_bytes, locate, locate_fifth_bit, GROUP};
use crate::QuantizedRows;

pub(super) fn tile(t: &Tile, x: &QuantizedRows, r0: usize, rows: usize, out: &mut [[f32; GROUP]]) {
    for (r, out) in out.iter_mut().enumerate().take(rows) {
        let xq = &x.q[(r0 + r) * x.k..][..x.k];
        let row_blocks = (r0 + r) * t.blocks;
        for (c, out) in out.iter_mut().enumerate() {
            let mut acc = 0f32;
            for kb in 0..t.blocks {
                let bytes = block_bytes(t.block, t.nibbles);
                let wq = &t.q[kb * bytes..][..bytes];
                let mask = if t.nibbles { 0x0F } else { 0xFF };
                let mut dot = 0i32;
                for i in 0..t.block {
                    let (at, shift) = locate(i, c, t.nibbles);
                    let mut w = (wq[at] >> shift) & mask;
                    if !t.high.is_empty() {
                        let (byte, bit) = locate_fifth_bit(i, c);
                        w |= ((t.high[kb * high_bytes(t.block) + byte] >> bit) & 1) << 4;
                    }
                    dot += i32::from(w) * i32::from(xq[kb * t.block + i]);
                }
                let at = kb * GROUP + c;
                match t.b {
                    Some(b) => {
                        acc += dot as f32 * t.a[at] * x.scale[row_blocks + kb];
                        acc -= b[at] * x.scaled_sum[row_blocks + kb];
                    }
                    None => {
                        let dot = dot - t.zero * x.sum[row_blocks + kb];
                        acc += dot as f32 * t.a[at] * x.scale[row_blocks + kb];
                    }
                }
            }
            *out = acc;
        }
    }
}
