//! One register tile: up to [`Isa::rows_per_tile`] activation rows × one group of sixteen columns.

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
mod portable;

use crate::pack::{block_bytes, high_bytes, GROUP};
use crate::{Isa, QuantizedRows};

/// One group's weights, as [`PackedMatrix`](crate::PackedMatrix) lays them out.
pub(crate) struct Tile<'a> {
    /// `[block][k4][column][4]`, or with `nibbles` `[block][k4 / 2][column][4]` (even steps in the low
    /// nibbles).
    pub q: &'a [u8],
    /// `[block][k4]` 64-bit words of fifth bits, or empty for formats without them.
    pub high: &'a [u8],
    /// `[block][column]`.
    pub a: &'a [f32],
    /// `[block][column]`, or `None` for a zero-point format (`b = zero·a`).
    pub b: Option<&'a [f32]>,
    pub zero: i32,
    pub block: usize,
    pub blocks: usize,
    pub wide: bool,
    pub nibbles: bool,
}

impl Tile<'_> {
    /// See [`is_tall`].
    pub(crate) fn tall(&self) -> bool {
        is_tall(!self.high.is_empty(), self.nibbles, self.wide, self.block)
    }
}

/// Whether a tile takes [`Isa::rows_per_tile`]'s taller height: its weights carry fifth bits to
/// unpack (`fifth_bits`), or are four- and five-bit weights already unpacked to bytes for a prompt
/// (the only byte tiles that are neither wide, as Q8_0 is, nor in blocks of 16, as Q6_K is).
pub(crate) fn is_tall(fifth_bits: bool, nibbles: bool, wide: bool, block: usize) -> bool {
    fifth_bits || (!nibbles && !wide && block == 32)
}

/// Where row `r0` starts in each activation array, and the tile's offsets (its scales when the format
/// has a zero point; then they are never read): what the SIMD kernels index from.
pub(crate) struct RowStart {
    pub xq: *const i8,
    pub k: usize,
    pub scale: *const f32,
    pub scaled_sum: *const f32,
    pub sum: *const i32,
    pub offsets: *const f32,
}

impl RowStart {
    pub(crate) fn new(t: &Tile, x: &QuantizedRows, r0: usize) -> Self {
        let at = r0 * t.blocks;
        Self {
            xq: x.q[r0 * x.k..].as_ptr(),
            k: x.k,
            scale: x.scale[at..].as_ptr(),
            scaled_sum: x.scaled_sum[at..].as_ptr(),
            sum: x.sum[at..].as_ptr(),
            offsets: t.b.unwrap_or(t.a).as_ptr(),
        }
    }
}

/// Computes `out[r][c] = Σ_k w[c][k] · x[r0 + r][k]` for `r < rows`, `c < 16`.
///
/// `rows` must not exceed `isa.rows_per_tile(tile.tall())`, and `isa` must be one [`Isa::available`] returned.
pub(crate) fn run(
    isa: Isa,
    tile: &Tile,
    x: &QuantizedRows,
    r0: usize,
    rows: usize,
    out: &mut [[f32; GROUP]],
) {
    assert!(rows >= 1 && rows <= isa.rows_per_tile(tile.tall()) && r0 + rows <= x.m && out.len() >= rows);
    assert!(tile.blocks == x.blocks() && tile.block == x.block);
    assert!(tile.q.len() == tile.blocks * block_bytes(tile.block, tile.nibbles));
    assert!(tile.a.len() == tile.blocks * GROUP && (!tile.nibbles || tile.block == 32));
    assert!(
        tile.high.is_empty() || (tile.nibbles && tile.high.len() == tile.blocks * high_bytes(tile.block))
    );
    assert!(tile.b.is_none_or(|b| b.len() == tile.a.len()));
    match isa {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Isa::Avx512Vnni` is only produced after the CPU reported these features, and the
        // asserts above bound every pointer the kernel forms.
        Isa::Avx512Vnni => unsafe { avx512::tile(tile, x, r0, rows, out) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above, for AVX2 and FMA.
        Isa::Avx2 => unsafe { avx2::tile(tile, x, r0, rows, out) },
        _ => portable::tile(tile, x, r0, rows, out),
    }
}
