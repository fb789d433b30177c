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
        let mut packed = Self {
            n,
            k,
            format,
            q: vec![0; groups * blocks * block_bytes(block, nibbles)],
            nibbles,
            high: if format.fifth_bit() {
                vec![0; groups * blocks * high_bytes(block)]
            } else {
                Vec::new()
            },
            a: vec![0.0; groups * blocks * GROUP],
            b: match format.zero_point() {
                Some(_) => Vec::new(),
                None => vec![0.0; groups * blocks * GROUP],
            },
        };
        let (mut q, mut a, mut b) = (vec![0u8; k], vec![0f32; blocks], vec![0f32; blocks]);
        let per_unit = unit / block;
        for (row, bytes) in data.chunks_exact(row_bytes).enumerate() {
            for (u, unit_bytes) in bytes.chunks_exact(format.unit_bytes()).enumerate() {
                format.decode_unit(
                    unit_bytes,
                    &mut q[u * unit..(u + 1) * unit],
                    &mut a[u * per_unit..(u + 1) * per_unit],
                    &mut b[u * per_unit..(u + 1) * per_unit],
                );
            }
            packed.put_row(row, &q, &a, &b);
        }
        Ok(packed)
    }

    fn put_row(&mut self, row: usize, q: &[u8], a: &[f32], b: &[f32]) {
        let (group, column) = (row / GROUP, row % GROUP);
        let block = self.format.block();
        let blocks = self.k / block;
        for kb in 0..blocks {
            let scale_at = (group * blocks + kb) * GROUP + column;
            self.a[scale_at] = a[kb];
            if !self.b.is_empty() {
                self.b[scale_at] = b[kb];
            }
            let base = (group * blocks + kb) * block_bytes(block, self.nibbles);
            let high_base = (group * blocks + kb) * high_bytes(block);
            for i in 0..block {
                let (at, shift) = locate(i, column, self.nibbles);
                let value = q[kb * block + i];
                // The buffers start zeroed, and each (weight, nibble, bit) is written once.
                if self.high.is_empty() {
                    self.q[base + at] |= value << shift;
                } else {
                    self.q[base + at] |= (value & 0x0F) << shift;
                    let (byte, bit) = locate_fifth_bit(i, column);
                    self.high[high_base + byte] |= ((value >> 4) & 1) << bit;
                }
            }
        }
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
        out.clear();
        if !self.nibbles {
            return;
        }
        // Every nibble format has blocks of 32 (checked by `kernels::run`): 4 vectors of 64 bytes,
        // each the low nibbles of an even step and the high nibbles of the next.
        const VECTOR: usize = GROUP * 4;
        let block = self.format.block();
        let blocks = self.blocks();
        let packed = block_bytes(block, true);
        let high = high_bytes(block);
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
