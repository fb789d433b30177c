//! Integer matrix kernels for GGUF-quantized weights.
//!
//! candle multiplies quantized weights one output at a time: every row of the input is quantized and
//! dotted with every weight row, each dot ending in a horizontal sum. That is fine for one token
//! (decode), but the prompt (prefill) is a real matrix–matrix product, and it ran at 0.31× llama.cpp.
//! This crate repacks a weight matrix once, at load, into a layout made for the CPU's integer
//! multiply–add instructions and multiplies it with int8-quantized activations:
//!
//! - every supported format (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K) becomes unsigned 8-bit
//!   values `q` with a scale `a` and an offset `b` per block of 16 or 32 weights, `w = a·q − b` —
//!   exactly the weights the file encodes (see [`format`]);
//! - sixteen output columns are interleaved four bytes at a time, so one 64-byte load feeds one
//!   `vpdpbusd` (AVX-512 VNNI) for sixteen columns at once and no horizontal sum is ever needed;
//! - activations are quantized to int8 per 32 values (as llama.cpp's Q8 does), and each block's integer
//!   dot product is scaled into an f32 accumulator once per block.
//!
//! The kernel is chosen at run time ([`Isa::detect`]): AVX-512 VNNI, AVX2, or a portable one that
//! compiles everywhere (ARM included) and is the reference the others are tested against.
//!
//! ```
//! use doctalk_qgemm::{PackedMatrix, WeightFormat};
//! // One Q8_0 row of 32 weights: f16 scale 1.0, then the int8 values 0, 1, …, 31.
//! let mut block = half::f16::from_f32(1.0).to_le_bytes().to_vec();
//! block.extend((0..32u8).map(|v| v));
//! let w = PackedMatrix::from_gguf(WeightFormat::Q8_0, &block, 1, 32).unwrap();
//! let x = vec![1.0f32; 32];
//! let y = w.matmul(&x, 1).unwrap();
//! assert!((y[0] - 496.0).abs() < 1.0); // 0 + 1 + … + 31
//! ```

mod activations;
mod error;
pub mod format;
mod gemm;
mod isa;
mod kernels;
mod pack;

pub use activations::QuantizedRows;
pub use error::{QgemmError, Result};
pub use format::{quantize_q8_0, WeightFormat};
pub use isa::Isa;
pub use pack::PackedMatrix;
