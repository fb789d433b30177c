//! The repacked weight layout.
//!
//! Output columns (the weight matrix's rows) are taken sixteen at a time, a *group*. Within a group,
//! block by block along `k`, the bytes are ordered `[k / 4][column][k % 4]`: one 64-byte load holds
//! four consecutive weights of each of the sixteen columns, which is what `vpdpbusd` multiplies with
//! four broadcast activation bytes. Four- and five-bit formats ([`WeightFormat::nibbles`]) put two such steps
//! in one 64-byte vector, the even step in the low nibbles and the odd one in the high nibbles, so a
//! decoded token streams half the bytes (the kernels split them with a mask and a shift). Five-bit
//! formats keep the fifth bits in a plane of their own, one 64-bit word a step, bit `4·column + k % 4`
//! for the vector byte it completes (AVX-512 uses the word as a byte mask). Scales
//! and offsets are stored `[group][block][column]` so one 64-byte load gives a block's sixteen of
//! each.

use rayon::prelude::*;

use crate::{QgemmError, Result, WeightFormat};

/// Columns per group: one 512-bit register of 32-bit sums.
pub(crate) const GROUP: usize = 16;

/// A weight matrix of `n` output features × `k` inputs, repacked for the integer kernels.
#[derive(Debug, Clone)]
pub struct PackedMatrix {
    pub(crate) n: usize,
    pub(crate) k: usize,
    pub(crate) format: WeightFormat,
    /// `[group][block][k / 4][column][k % 4]` (see the module docs): one byte per weight, or one
    /// nibble when `nibbles`.
    pub(crate) q: Vec<u8>,
    pub(crate) nibbles: bool,
    /// `[group][block][k / 4]` 64-bit words of fifth bits (see the module docs); empty unless the
    /// format has a [fifth bit](WeightFormat::fifth_bit).
    pub(crate) high: Vec<u8>,
    /// `[group][block][column]`.
    pub(crate) a: Vec<f32>,
    /// `[group][block][column]`; empty when the format has a [zero point](WeightFormat::zero_point).
    pub(crate) b: Vec<f32>,
}

impl PackedMatrix {
    /// Repacks the raw GGUF data of an `n × k` tensor (`n` rows of `k` weights, row-major, as the
    /// file stores a linear layer's weight).
    pub fn from_gguf(format: WeightFormat, data: &[u8], n: usize, k: usize) -> Result<Self> {
        let unit = format.unit_len();
        if k == 0 || n == 0 || !k.is_multiple_of(unit) {
            return Err(QgemmError::Shape(format!(
                "{n}×{k} does not split into {} units of {unit}",
                format.name()
            )));
        }
        let row_bytes = k / unit * format.unit_bytes();
        if data.len() != n * row_bytes {
            return Err(QgemmError::Shape(format!(
                "{n}×{k} {} needs {} bytes, got {}",
                format.name(),
                n * row_bytes,
                data.len()
            )));
        }
        let block = format.block();
        let blocks = k / block;
        let groups = n.div_ceil(GROUP);
        let nibbles = format.nibbles();
        let fifth = format.fifth_bit();
        let zero_point = format.zero_point().is_some();
        let (group_q, group_high, group_scales) = (
            blocks * block_bytes(block, nibbles),
            if fifth { blocks * high_bytes(block) } else { 0 },
            blocks * GROUP,
        );
        let mut q = vec![0u8; groups * group_q];
        let mut high = vec![0u8; groups * group_high];
        let mut a = vec![0f32; groups * group_scales];
        let mut b = vec![0f32; if zero_point { 0 } else { groups * group_scales }];
        // Each group's slice of every array, so the groups are packed in parallel: at load,
        // repacking was most of a model's start-up.
        let outputs: Vec<_> = per_group(&mut q, group_q, groups)
            .into_iter()
            .zip(per_group(&mut high, group_high, groups))
            .zip(per_group(&mut a, group_scales, groups))
            .zip(per_group(&mut b, group_scales, groups))
            .collect();
        outputs
            .into_par_iter()
            .enumerate()
            .for_each(|(g, (((q, high), a), b))| {
                let mut group = GroupOut {
                    q,
                    high,
                    a,
                    b,
                    nibbles,
                    block,
                    blocks,
                };
                let (mut values, mut scales, mut offsets) =
                    (vec![0u8; k], vec![0f32; blocks], vec![0f32; blocks]);
                let per_unit = unit / block;
                let rows = &data[g * GROUP * row_bytes..n.min((g + 1) * GROUP) * row_bytes];
                for (column, bytes) in rows.chunks_exact(row_bytes).enumerate() {
                    for (u, unit_bytes) in bytes.chunks_exact(format.unit_bytes()).enumerate() {
                        format.decode_unit(
                            unit_bytes,
                            &mut values[u * unit..(u + 1) * unit],
                            &mut scales[u * per_unit..(u + 1) * per_unit],
                            &mut offsets[u * per_unit..(u + 1) * per_unit],
                        );
                    }
                    group.put_row(column, &values, &scales, &offsets);
                }
            });
        Ok(Self {
            n,
            k,
            format,
            q,
            nibbles,
            high,
            a,
            b,
        })
    }

    /// Output features.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Input features.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The format it was packed from.
    pub fn format(&self) -> WeightFormat {
        self.format
    }

    /// Bytes held (what a decode step streams from memory).
    pub fn bytes(&self) -> usize {
        self.q.len() + self.high.len() + 4 * (self.a.len() + self.b.len())
    }

    /// Bytes of one group's weights.
    pub(crate) fn group_bytes(&self) -> usize {
        self.blocks() * block_bytes(self.format.block(), self.nibbles)
    }

    /// Bytes of one group's fifth bits (0 without them).
    pub(crate) fn group_high_bytes(&self) -> usize {
        if self.high.is_empty() {
            0
        } else {
            self.blocks() * high_bytes(self.format.block())
        }
    }

    pub(crate) fn groups(&self) -> usize {
        self.n.div_ceil(GROUP)
    }

    pub(crate) fn blocks(&self) -> usize {
        self.k / self.format.block()
    }

    /// Writes group `g`'s weights into `out` with a byte per weight (the layout of a format without
    /// nibbles: `[block][k / 4][column][k % 4]`, fifth bits already in place), for prompt-sized
    /// products: the kernels then multiply without unpacking, and the unpacking is done once per
    /// group instead of once per row tile. Leaves `out` empty for formats that already have a byte
    /// per weight.
    pub(crate) fn expand_group(&self, g: usize, out: &mut Vec<u8>) {
        if !self.nibbles {
            out.clear();
            return;
        }
        // Every nibble format has blocks of 32 (checked by `kernels::run`): 4 vectors of 64 bytes,
        // each the low nibbles of an even step and the high nibbles of the next.
        const VECTOR: usize = GROUP * 4;
        let block = self.format.block();
        let blocks = self.blocks();
        let packed = block_bytes(block, true);
        let high = high_bytes(block);
        // Every byte is written below (the fifth bits after their nibbles): no need to zero it.
        out.resize(blocks * block_bytes(block, false), 0);
        let src = &self.q[g * blocks * packed..(g + 1) * blocks * packed];
        for (kb, (src, dst)) in src
            .chunks_exact(packed)
            .zip(out.chunks_exact_mut(block_bytes(block, false)))
            .enumerate()
        {
            for (pair, vector) in src.chunks_exact(VECTOR).enumerate() {
                let (even, odd) = dst[2 * pair * VECTOR..(2 * pair + 2) * VECTOR].split_at_mut(VECTOR);
                for ((bytes, even), odd) in vector
                    .chunks_exact(8)
                    .zip(even.chunks_exact_mut(8))
                    .zip(odd.chunks_exact_mut(8))
                {
                    let v = u64::from_le_bytes(bytes.try_into().expect("eight bytes"));
                    even.copy_from_slice(&(v & LOW_NIBBLES).to_le_bytes());
                    odd.copy_from_slice(&((v >> 4) & LOW_NIBBLES).to_le_bytes());
                }
            }
            if !self.high.is_empty() {
                let bits = &self.high[(g * blocks + kb) * high..(g * blocks + kb + 1) * high];
                // Byte `i` of a step's word holds the fifth bits of vector bytes 8i … 8i + 7.
                for (&byte, eight) in bits.iter().zip(dst.chunks_exact_mut(8)) {
                    let v = u64::from_le_bytes((&*eight).try_into().expect("eight bytes"));
                    eight.copy_from_slice(&(v | FIFTH_BITS[usize::from(byte)]).to_le_bytes());
                }
            }
        }
    }

    /// The weights of one row (output feature) as f32: an embedding lookup without keeping a
    /// dequantized copy of the whole table.
    pub fn row(&self, row: usize, out: &mut [f32]) -> Result<()> {
        if row >= self.n || out.len() != self.k {
            return Err(QgemmError::Shape(format!(
                "row {row} of {}×{} into {} values",
                self.n,
                self.k,
                out.len()
            )));
        }
        let (group, column) = (row / GROUP, row % GROUP);
        let block = self.format.block();
        let blocks = self.blocks();
        for kb in 0..blocks {
            let scale_at = (group * blocks + kb) * GROUP + column;
            let a = self.a[scale_at];
            let b = match self.format.zero_point() {
                Some(z) => f32::from(z) * a,
                None => self.b[scale_at],
            };
            let base = (group * blocks + kb) * block_bytes(block, self.nibbles);
            let high_base = (group * blocks + kb) * high_bytes(block);
            for i in 0..block {
                let (at, shift) = locate(i, column, self.nibbles);
                let mut q = (self.q[base + at] >> shift) & if self.nibbles { 0x0F } else { 0xFF };
                if !self.high.is_empty() {
                    let (byte, bit) = locate_fifth_bit(i, column);
                    q |= ((self.high[high_base + byte] >> bit) & 1) << 4;
                }
                out[kb * block + i] = a * f32::from(q) - b;
            }
        }
        Ok(())
    }
}

const LOW_NIBBLES: u64 = 0x0F0F_0F0F_0F0F_0F0F;

/// Eight fifth bits to the eight bytes they complete: byte `j` of entry `i` is 16 when bit `j` of `i`
/// is set.
const FIFTH_BITS: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let mut j = 0;
        while j < 8 {
            if i >> j & 1 == 1 {
                table[i] |= 0x10 << (8 * j);
            }
            j += 1;
        }
        i += 1;
    }
    table
};

/// `v` cut into `groups` slices of `len`, or `groups` empty slices where a format stores none.
fn per_group<T>(v: &mut [T], len: usize, groups: usize) -> Vec<&mut [T]> {
    if len == 0 || v.is_empty() {
        (0..groups).map(|_| <&mut [T]>::default()).collect()
    } else {
        v.chunks_mut(len).collect()
    }
}

/// One group's share of a [`PackedMatrix`] being built.
struct GroupOut<'a> {
    q: &'a mut [u8],
    /// Empty for formats without fifth bits.
    high: &'a mut [u8],
    a: &'a mut [f32],
    /// Empty for formats with a zero point.
    b: &'a mut [f32],
    nibbles: bool,
    block: usize,
    blocks: usize,
}

impl GroupOut<'_> {
    /// Places one decoded row (`column` of the group): its values, and its blocks' scales and offsets.
    fn put_row(&mut self, column: usize, values: &[u8], scales: &[f32], offsets: &[f32]) {
        let block = self.block;
        for kb in 0..self.blocks {
            let scale_at = kb * GROUP + column;
            self.a[scale_at] = scales[kb];
            if !self.b.is_empty() {
                self.b[scale_at] = offsets[kb];
            }
            let values = &values[kb * block..(kb + 1) * block];
            let out =
                &mut self.q[kb * block_bytes(block, self.nibbles)..][..block_bytes(block, self.nibbles)];
            // Run by run, in the order `locate` describes: step s of the block is weights 4s … 4s + 3
            // (a four-byte run of the column), and with nibbles steps 2j and 2j + 1 share bytes.
            if self.nibbles {
                for j in 0..block / 8 {
                    for t in 0..4 {
                        out[j * GROUP * 4 + column * 4 + t] =
                            (values[8 * j + t] & 0x0F) | (values[8 * j + 4 + t] & 0x0F) << 4;
                    }
                }
            } else {
                for s in 0..block / 4 {
                    out[s * GROUP * 4 + column * 4..][..4].copy_from_slice(&values[4 * s..4 * s + 4]);
                }
            }
            if !self.high.is_empty() {
                // A step's four fifth bits are bits 4·(column % 2) … of byte column / 2 of its word
                // (`locate_fifth_bit`), which the neighbouring column shares.
                let high = &mut self.high[kb * high_bytes(block)..][..high_bytes(block)];
                for s in 0..block / 4 {
                    let bits = (0..4).fold(0u8, |acc, t| acc | ((values[4 * s + t] >> 4) & 1) << t);
                    high[s * 8 + column / 2] |= bits << (column % 2 * 4);
                }
            }
        }
    }
}

/// Bytes of one block of one group: a byte per weight, or half that in nibbles.
pub(crate) const fn block_bytes(block: usize, nibbles: bool) -> usize {
    if nibbles {
        GROUP * block / 2
    } else {
        GROUP * block
    }
}

/// Where weight `i` of a block (0 ≤ i < block) of `column` sits within its group's block: the byte
/// and the shift of its nibble (0 when a weight has a byte of its own).
#[inline]
pub(crate) fn locate(i: usize, column: usize, nibbles: bool) -> (usize, u32) {
    let step = i / 4;
    if nibbles {
        ((step / 2) * GROUP * 4 + column * 4 + i % 4, (step % 2) as u32 * 4)
    } else {
        (step * GROUP * 4 + column * 4 + i % 4, 0)
    }
}

/// Bytes of one block of one group's fifth bits: a 64-bit word per step of four weights.
pub(crate) const fn high_bytes(block: usize) -> usize {
    block / 4 * 8
}

/// Where the fifth bit of weight `i` of a block of `column` sits within its group's block of fifth
/// bits: the byte and the bit. Bit `b` of a step's word belongs to byte `b` of the step's vector.
#[inline]
pub(crate) fn locate_fifth_bit(i: usize, column: usize) -> (usize, u32) {
    let lane = column * 4 + i % 4;
    ((i / 4) * 8 + lane / 8, (lane % 8) as u32)
}
