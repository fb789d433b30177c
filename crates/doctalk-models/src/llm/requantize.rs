//! Load-time conversion of GGUF tensors that candle can only multiply with a scalar loop (and the
//! merging of a LoRA adapter into the weights of the GGUF models that run on candle's code).
//!
//! candle 0.11 has AVX2 dot products for Q4_0, Q8_0 and the k-quants, but Q4_1, Q5_0 and Q5_1 fall back
//! to plain Rust loops. llama.cpp's Q4_K_M files use Q5_0 for tensors whose width is not a multiple of
//! 256 (all of Qwen2.5-0.5B's 896-wide matrices), and `perf` showed 84 % of decode time in
//! `BlockQ5_0::vec_dot_unopt`. Those tensors are rewritten once, in memory, as Q8_0: a finer grid than
//! the one they come from (so the extra rounding is a fraction of the original quantization step), at
//! 34 instead of 22 bytes per 32 weights, and with a SIMD kernel.

use std::io::{Cursor, Read, Seek};

use candle_core::quantized::gguf_file::{self, Content};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{DType, Device};

use super::adapter::Targets;
use crate::error::Result;

/// The formats candle multiplies without SIMD.
fn is_slow(dtype: GgmlDType) -> bool {
    matches!(dtype, GgmlDType::Q4_1 | GgmlDType::Q5_0 | GgmlDType::Q5_1)
}

/// Whether [`rewrite`] without an adapter would change anything in this file.
pub(crate) fn has_slow_tensors(content: &Content) -> bool {
    content.tensor_infos.values().any(|t| is_slow(t.ggml_dtype))
}

/// Reads every tensor, converts the slow ones to Q8_0, and each weight a LoRA adapter targets is
/// dequantized, changed by it and kept in f32 (for the architectures that run on candle's own
/// models, which take weights only). Returns the model as an in-memory GGUF (the original
/// metadata, the new tensor table) ready for candle's `from_gguf` constructors.
pub(crate) fn rewrite<R: Read + Seek>(
    content: &Content,
    reader: &mut R,
    adapter: &mut Targets,
) -> Result<(Content, Cursor<Vec<u8>>)> {
    let cpu = Device::Cpu;
    let mut names: Vec<&String> = content.tensor_infos.keys().collect();
    names.sort();
    let mut tensors = Vec::with_capacity(names.len());
    for name in names {
        let tensor = content.tensor(reader, name, &cpu)?;
        let tensor = if let Some(low) = adapter.take(name) {
            let merged = (tensor.dequantize(&cpu)? + low.delta(DType::F32, &cpu)?)?;
            QTensor::quantize(&merged, GgmlDType::F32)?
        } else if is_slow(tensor.dtype()) {
            QTensor::quantize(&tensor.dequantize(&cpu)?, GgmlDType::Q8_0)?
        } else {
            tensor
        };
        tensors.push((name.as_str(), tensor));
    }
    // candle's writer uses its own 32-byte alignment; a different one in the metadata would mislead
    // the reader.
    let metadata: Vec<(&str, &gguf_file::Value)> = content
        .metadata
        .iter()
        .filter(|(k, _)| k.as_str() != "general.alignment")
        .map(|(k, v)| (k.as_str(), v))
        .collect();
    let table: Vec<(&str, &QTensor)> = tensors.iter().map(|(n, t)| (*n, t)).collect();
    let mut buffer = Cursor::new(Vec::new());
    gguf_file::write(&mut buffer, &metadata, &table)?;
    drop(tensors);
    buffer.set_position(0);
    let converted = Content::read(&mut buffer)?;
    Ok((converted, buffer))
}

#[cfg(test)]
mod tests {
    use candle_core::Tensor;

    use super::*;

    fn gguf_with(tensors: &[(&str, &QTensor)]) -> (Content, Cursor<Vec<u8>>) {
        let mut file = Cursor::new(Vec::new());
        let arch = gguf_file::Value::String("llama".into());
        gguf_file::write(&mut file, &[("general.architecture", &arch)], tensors).unwrap();
        file.set_position(0);
        (Content::read(&mut file).unwrap(), file)
    }

    #[test]
    fn slow_tensors_become_q8_0_with_the_same_values_and_others_are_untouched() {
        let cpu = Device::Cpu;
        let weights = Tensor::randn(0f32, 1.0, (64, 128), &cpu).unwrap();
        let q5 = QTensor::quantize(&weights, GgmlDType::Q5_0).unwrap();
        let q4k =
            QTensor::quantize(&Tensor::randn(0f32, 1.0, (8, 256), &cpu).unwrap(), GgmlDType::Q4K).unwrap();
        let (content, mut file) = gguf_with(&[("slow", &q5), ("fast", &q4k)]);
        assert!(has_slow_tensors(&content));

        let (converted, mut memory) = rewrite(&content, &mut file, &mut Targets::none()).unwrap();
        assert!(!has_slow_tensors(&converted));
        assert_eq!(
            converted.metadata["general.architecture"].to_string().unwrap(),
            "llama"
        );
        let slow = converted.tensor(&mut memory, "slow", &cpu).unwrap();
        assert_eq!(slow.dtype(), GgmlDType::Q8_0);
        let before = q5.dequantize(&cpu).unwrap();
        let after = slow.dequantize(&cpu).unwrap();
        let diff: f32 = (before - after)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar()
            .unwrap();
        // Q8_0's step is max|w|/127 per block of 32; |w| stays below ~5 for these weights.
        assert!(diff < 0.03, "max |diff| {diff}");

        let fast = converted.tensor(&mut memory, "fast", &cpu).unwrap();
        assert_eq!(fast.dtype(), GgmlDType::Q4K);
        assert_eq!(fast.data().unwrap(), q4k.data().unwrap());
    }
}
