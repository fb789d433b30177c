//! GGUF block formats decoded to `w = a·q − b`: unsigned 8-bit `q`, and one `(a, b)` per block of
//! [`WeightFormat::block`] weights.
//!
//! The byte layouts follow the GGUF specification (ggml's `block_q4_0` … `block_q6_K`). Every decode
//! is exact: `a·q − b` equals what the file's own dequantization gives, up to f32 rounding of the
//! product of two scales.

use half::f16;

/// A GGUF weight format this crate can multiply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WeightFormat {
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
    Q4K,
    Q5K,
    Q6K,
}

impl WeightFormat {
    /// Weights per storage unit (a block, or a k-quant super-block).
    pub const fn unit_len(self) -> usize {
        match self {
            Self::Q4K | Self::Q5K | Self::Q6K => 256,
            _ => 32,
        }
    }

    /// Bytes per storage unit.
    pub const fn unit_bytes(self) -> usize {
        match self {
            Self::Q4_0 => 18,
            Self::Q4_1 => 20,
            Self::Q5_0 => 22,
            Self::Q5_1 => 24,
            Self::Q8_0 => 34,
            Self::Q4K => 144,
            Self::Q5K => 176,
            Self::Q6K => 210,
        }
    }

    /// Weights that share one `(a, b)`: 16 for Q6_K (one int8 scale per 16), 32 otherwise.
    pub const fn block(self) -> usize {
        match self {
            Self::Q6K => 16,
            _ => 32,
        }
    }

    /// Whether the low four bits of every `q` are packed two weights to a byte (half the bytes a
    /// decoded token streams from memory): every format of four or five bits.
    pub const fn nibbles(self) -> bool {
        matches!(
            self,
            Self::Q4_0 | Self::Q4_1 | Self::Q4K | Self::Q5_0 | Self::Q5_1 | Self::Q5K
        )
    }

    /// Whether `q` has a fifth bit, kept in a bit plane beside the nibbles (as the file keeps it):
    /// 0.625 bytes a weight instead of one.
    pub const fn fifth_bit(self) -> bool {
        matches!(self, Self::Q5_0 | Self::Q5_1 | Self::Q5K)
    }

    /// Whether `q` can exceed 127, which the AVX2 kernel's 16-bit products must handle in two halves.
    pub const fn wide(self) -> bool {
        matches!(self, Self::Q8_0)
    }

    /// `z` when every block's offset is `b = z·a` (symmetric formats): the kernels then subtract
    /// `z·Σx` in integers and no offsets are stored, a quarter less to stream per decoded token.
    pub const fn zero_point(self) -> Option<u8> {
        match self {
            Self::Q4_0 => Some(8),
            Self::Q5_0 => Some(16),
            Self::Q8_0 => Some(128),
            Self::Q6K => Some(32),
            _ => None,
        }
    }

    /// The format's GGUF name, e.g. `"q4_K"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Q4_0 => "q4_0",
            Self::Q4_1 => "q4_1",
            Self::Q5_0 => "q5_0",
            Self::Q5_1 => "q5_1",
            Self::Q8_0 => "q8_0",
            Self::Q4K => "q4_K",
            Self::Q5K => "q5_K",
            Self::Q6K => "q6_K",
        }
    }

    /// Decodes one storage unit: `q` gets [`unit_len`](Self::unit_len) values, `a` and `b` one per
    /// block. `unit` must be [`unit_bytes`](Self::unit_bytes) long.
    pub fn decode_unit(self, unit: &[u8], q: &mut [u8], a: &mut [f32], b: &mut [f32]) {
        debug_assert_eq!(unit.len(), self.unit_bytes());
        match self {
            Self::Q4_0 => {
                let d = half_at(unit, 0);
                nibbles(&unit[2..18], q);
                (a[0], b[0]) = (d, 8.0 * d);
            }
            Self::Q4_1 => {
                let (d, m) = (half_at(unit, 0), half_at(unit, 2));
                nibbles(&unit[4..20], q);
                (a[0], b[0]) = (d, -m);
            }
            Self::Q5_0 => {
                let d = half_at(unit, 0);
                five_bits(&unit[2..6], &unit[6..22], q);
                (a[0], b[0]) = (d, 16.0 * d);
            }
            Self::Q5_1 => {
                let (d, m) = (half_at(unit, 0), half_at(unit, 2));
                five_bits(&unit[4..8], &unit[8..24], q);
                (a[0], b[0]) = (d, -m);
            }
            Self::Q8_0 => {
                let d = half_at(unit, 0);
                for (q, &v) in q.iter_mut().zip(&unit[2..34]) {
                    // int8 → offset binary: v as i8 + 128.
                    *q = v ^ 0x80;
                }
                (a[0], b[0]) = (d, 128.0 * d);
            }
            Self::Q4K | Self::Q5K => {
                let (d, dmin) = (half_at(unit, 0), half_at(unit, 2));
                let scales = &unit[4..16];
                let (qh, qs) = if self == Self::Q5K {
                    (Some(&unit[16..48]), &unit[48..176])
                } else {
                    (None, &unit[16..144])
                };
                for j in 0..8 {
                    let (sc, m) = scale_min_k4(j, scales);
                    a[j] = d * f32::from(sc);
                    b[j] = dmin * f32::from(m);
                }
                // Four chunks of 64 weights: the low nibbles of 32 bytes, then their high nibbles.
                for chunk in 0..4 {
                    let bytes = &qs[32 * chunk..32 * chunk + 32];
                    for l in 0..32 {
                        let (mut lo, mut hi) = (bytes[l] & 0x0F, bytes[l] >> 4);
                        if let Some(qh) = qh {
                            lo |= ((qh[l] >> (2 * chunk)) & 1) << 4;
                            hi |= ((qh[l] >> (2 * chunk + 1)) & 1) << 4;
                        }
                        q[64 * chunk + l] = lo;
                        q[64 * chunk + 32 + l] = hi;
                    }
                }
            }
            Self::Q6K => {
                let (ql, qh) = (&unit[0..128], &unit[128..192]);
                let scales = &unit[192..208];
                let d = half_at(unit, 208);
                for (j, &s) in scales.iter().enumerate() {
                    let s = f32::from(s as i8) * d;
                    (a[j], b[j]) = (s, 32.0 * s);
                }
                // Two halves of 128 weights; within each, four runs of 32 built from 64 low-nibble
                // bytes and 32 bytes of 2-bit high parts.
                for half in 0..2 {
                    let (ql, qh) = (&ql[64 * half..], &qh[32 * half..]);
                    let q = &mut q[128 * half..];
                    for l in 0..32 {
                        q[l] = (ql[l] & 0x0F) | ((qh[l] & 3) << 4);
                        q[l + 32] = (ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4);
                        q[l + 64] = (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4);
                        q[l + 96] = (ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4);
                    }
                }
            }
        }
    }
}

fn half_at(bytes: &[u8], at: usize) -> f32 {
    f16::from_le_bytes([bytes[at], bytes[at + 1]]).to_f32()
}

/// 16 bytes → 32 values: low nibbles first, then high nibbles (ggml's Q4_0/Q4_1 order).
fn nibbles(qs: &[u8], q: &mut [u8]) {
    for (j, &v) in qs.iter().enumerate() {
        q[j] = v & 0x0F;
        q[j + 16] = v >> 4;
    }
}

/// Q5_0/Q5_1: the nibbles plus a fifth bit from a 32-bit little-endian mask.
fn five_bits(qh: &[u8], qs: &[u8], q: &mut [u8]) {
    let mask = u32::from_le_bytes([qh[0], qh[1], qh[2], qh[3]]);
    for (j, &v) in qs.iter().enumerate() {
        q[j] = (v & 0x0F) | ((((mask >> j) & 1) as u8) << 4);
        q[j + 16] = (v >> 4) | ((((mask >> (j + 16)) & 1) as u8) << 4);
    }
}

/// The 6-bit scale and min of sub-block `j` of a Q4_K/Q5_K super-block.
fn scale_min_k4(j: usize, s: &[u8]) -> (u8, u8) {
    if j < 4 {
        (s[j] & 63, s[j + 4] & 63)
    } else {
        (
            (s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4),
            (s[j + 4] >> 4) | ((s[j] >> 6) << 4),
        )
    }
}

/// Quantizes f32 weights (rows of a multiple of 32) to GGUF Q8_0 blocks: one f16 scale
/// `d = max|w| / 127` per 32 weights and `round(w / d)` as int8 — how f32 checkpoints (the sentence
/// encoders' safetensors) reach the integer kernels.
pub fn quantize_q8_0(values: &[f32]) -> Vec<u8> {
    assert!(
        values.len().is_multiple_of(32),
        "Q8_0 quantizes whole blocks of 32"
    );
    let mut out = Vec::with_capacity(values.len() / 32 * WeightFormat::Q8_0.unit_bytes());
    for block in values.chunks_exact(32) {
        let amax = block.iter().fold(0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let inverse = if d > 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
        // Round half away from zero, as ggml's quantizer does.
        out.extend(block.iter().map(|&w| (w * inverse).round() as i8 as u8));
    }
    out
}
