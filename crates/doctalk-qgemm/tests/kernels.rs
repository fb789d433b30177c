//! Every format against candle's own dequantization, and every kernel this CPU runs against the
//! portable one and against an f32 product of the dequantized weights.

use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use doctalk_qgemm::{Isa, PackedMatrix, WeightFormat};

const FORMATS: [(WeightFormat, GgmlDType); 8] = [
    (WeightFormat::Q4_0, GgmlDType::Q4_0),
    (WeightFormat::Q4_1, GgmlDType::Q4_1),
    (WeightFormat::Q5_0, GgmlDType::Q5_0),
    (WeightFormat::Q5_1, GgmlDType::Q5_1),
    (WeightFormat::Q8_0, GgmlDType::Q8_0),
    (WeightFormat::Q4K, GgmlDType::Q4K),
    (WeightFormat::Q5K, GgmlDType::Q5K),
    (WeightFormat::Q6K, GgmlDType::Q6K),
];

/// Deterministic values with a spread of magnitudes (xorshift; no rand dependency).
fn values(len: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|i| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let u = (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
            // Some rows and columns much larger than others, as in real layers.
            u * if i % 97 == 0 { 8.0 } else { 1.0 }
        })
        .collect()
}

/// An n×k matrix quantized by candle: its raw GGUF bytes and candle's dequantization of them.
fn quantized(dtype: GgmlDType, n: usize, k: usize, seed: u64) -> (Vec<u8>, Vec<f32>) {
    let w = Tensor::from_vec(values(n * k, seed), (n, k), &Device::Cpu).unwrap();
    let q = QTensor::quantize(&w, dtype).unwrap();
    let data = q.data().unwrap().into_owned();
    let back = q
        .dequantize(&Device::Cpu)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    (data, back)
}

fn max_abs(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn every_format_decodes_to_the_weights_candle_dequantizes() {
    let (n, k) = (37, 512);
    for (format, dtype) in FORMATS {
        let (data, reference) = quantized(dtype, n, k, 1);
        let packed = PackedMatrix::from_gguf(format, &data, n, k).unwrap();
        let mut row = vec![0f32; k];
        for r in 0..n {
            packed.row(r, &mut row).unwrap();
            let want = &reference[r * k..(r + 1) * k];
            let err = max_abs(&row, want);
            let scale = want.iter().fold(0f32, |m, v| m.max(v.abs()));
            assert!(
                err <= 1e-6 * scale.max(1.0),
                "{format:?} row {r}: max error {err}"
            );
        }
    }
}

#[test]
fn every_kernel_here_matches_the_portable_one_and_the_f32_product() {
    let (n, k) = (40, 768);
    for (format, dtype) in FORMATS {
        let (data, weights) = quantized(dtype, n, k, 2);
        let packed = PackedMatrix::from_gguf(format, &data, n, k).unwrap();
        // Every tile height of every kernel (up to four rows on AVX2, eight on AVX-512), a product
        // of several tiles with a short one last, and prompt-sized ones (from 16 rows AVX2 unpacks
        // four- and five-bit weights to bytes first).
        for m in (1..=9).chain([13, 16, 21]) {
            let x = values(m * k, 3 + m as u64);
            let reference: Vec<f32> = (0..m)
                .flat_map(|r| {
                    let (x, weights) = (&x, &weights);
                    (0..n).map(move |c| (0..k).map(|i| x[r * k + i] * weights[c * k + i]).sum::<f32>())
                })
                .collect();
            let portable = packed.matmul_with(Isa::Portable, &x, m).unwrap();
            let scale = reference.iter().fold(0f32, |m, v| m.max(v.abs()));
            // int8 activations: about 1/254 of each block's largest value per product.
            let err = max_abs(&portable, &reference);
            assert!(
                err < 0.02 * scale,
                "{format:?} m={m}: portable vs f32 {err} (scale {scale})"
            );
            for &isa in Isa::available() {
                let got = packed.matmul_with(isa, &x, m).unwrap();
                let err = max_abs(&got, &portable);
                eprintln!(
                    "{format:?} m={m} {}: max abs diff to portable {err:e}",
                    isa.name()
                );
                assert!(err <= 1e-4 * scale, "{format:?} m={m} {}: {err}", isa.name());
            }
        }
    }
}

/// Every kernel this CPU runs gives the portable kernel's product within 1e-4 of its largest value
/// (which must not be zero).
fn every_kernel_matches_the_portable_one(packed: &PackedMatrix, x: &[f32], m: usize, label: &str) {
    let portable = packed.matmul_with(Isa::Portable, x, m).unwrap();
    let scale = portable.iter().fold(0f32, |m, v| m.max(v.abs()));
    assert!(scale > 0.0, "{label}: the product is zero");
    for &isa in Isa::available() {
        let got = packed.matmul_with(isa, x, m).unwrap();
        let err = max_abs(&got, &portable);
        assert!(
            err <= 1e-4 * scale,
            "{label} {}: {err} (scale {scale})",
            isa.name()
        );
    }
}

/// A prompt over a matrix wide enough that each thread walks several cache-sized chunks of column
/// groups (each chunk's unpacked weights reuse the last chunk's buffer), ending in a partial group.
#[test]
fn a_prompt_over_many_chunks_of_columns_matches_the_portable_kernel() {
    let (n, k, m) = (16 * 300 + 5, 768, 18);
    for (format, dtype) in [
        (WeightFormat::Q5_0, GgmlDType::Q5_0),
        (WeightFormat::Q4K, GgmlDType::Q4K),
    ] {
        let (data, _) = quantized(dtype, n, k, 7);
        let packed = PackedMatrix::from_gguf(format, &data, n, k).unwrap();
        every_kernel_matches_the_portable_one(&packed, &values(m * k, 11), m, &format!("{format:?}"));
    }
}

/// Every weight at the largest value its format encodes and every activation at ±127: where 16-bit
/// pair sums (AVX2's `vpmaddubsw`) would saturate if a format's values were not split or bounded.
#[test]
fn the_largest_weights_times_the_largest_activations_do_not_saturate() {
    let (n, k) = (16, 512);
    for (format, _) in FORMATS {
        let unit = format.unit_bytes();
        // All ones gives every quant its largest value; Q8_0 stores a signed int8 that the packing
        // shifts by 128, so its largest, 127 (0x7F), becomes 255.
        let fill = if format == WeightFormat::Q8_0 { 0x7F } else { 0xFF };
        let mut data = vec![fill; n * k / format.unit_len() * unit];
        let scale = half::f16::from_f32(0.01).to_le_bytes();
        for block in data.chunks_exact_mut(unit) {
            match format {
                WeightFormat::Q6K => block[unit - 2..].copy_from_slice(&scale),
                WeightFormat::Q4_1 | WeightFormat::Q5_1 | WeightFormat::Q4K | WeightFormat::Q5K => {
                    block[..2].copy_from_slice(&scale);
                    block[2..4].copy_from_slice(&scale);
                }
                _ => block[..2].copy_from_slice(&scale),
            }
        }
        let packed = PackedMatrix::from_gguf(format, &data, n, k).unwrap();
        // Two rows, and a prompt's worth (weights unpacked to bytes first on AVX2).
        for (sign, m) in [(1.0f32, 2), (-1.0, 2), (1.0, 16), (-1.0, 16)] {
            let label = format!("{format:?} x={sign} m={m}");
            every_kernel_matches_the_portable_one(&packed, &vec![sign; m * k], m, &label);
        }
    }
}

#[test]
fn wrong_shapes_are_errors_not_panics() {
    let (data, _) = quantized(GgmlDType::Q8_0, 4, 64, 4);
    assert!(PackedMatrix::from_gguf(WeightFormat::Q8_0, &data, 4, 32).is_err());
    assert!(PackedMatrix::from_gguf(WeightFormat::Q8_0, &data[1..], 4, 64).is_err());
    assert!(PackedMatrix::from_gguf(WeightFormat::Q4K, &data, 4, 64).is_err());
    let packed = PackedMatrix::from_gguf(WeightFormat::Q8_0, &data, 4, 64).unwrap();
    assert!(packed.matmul(&[0.0; 63], 1).is_err());
    assert!(packed.row(4, &mut [0.0; 64]).is_err());
}

#[test]
fn zero_activations_give_zero() {
    let (data, _) = quantized(GgmlDType::Q4K, 16, 256, 5);
    let packed = PackedMatrix::from_gguf(WeightFormat::Q4K, &data, 16, 256).unwrap();
    let out = packed.matmul(&[0.0; 512], 2).unwrap();
    assert!(out.iter().all(|&v| v == 0.0));
}

#[test]
fn f32_weights_quantize_to_the_same_q8_0_blocks_as_candle() {
    let (n, k) = (24, 96);
    let w = values(n * k, 11);
    let ours = doctalk_qgemm::quantize_q8_0(&w);
    let tensor = Tensor::from_vec(w.clone(), (n, k), &Device::Cpu).unwrap();
    let theirs = QTensor::quantize(&tensor, GgmlDType::Q8_0).unwrap();
    assert_eq!(ours, theirs.data().unwrap().as_ref());
    // And the packed matrix multiplies like the f32 weights it came from.
    let m = PackedMatrix::from_gguf(WeightFormat::Q8_0, &ours, n, k).unwrap();
    let x = values(3 * k, 12);
    let got = m.matmul(&x, 3).unwrap();
    let exact: Vec<f32> = (0..3)
        .flat_map(|r| {
            let (x, w) = (&x, &w);
            (0..n).map(move |c| (0..k).map(|i| x[r * k + i] * w[c * k + i]).sum::<f32>())
        })
        .collect();
    let scale = exact.iter().fold(0f32, |m, v| m.max(v.abs()));
    assert!(
        max_abs(&got, &exact) < 0.02 * scale,
        "{} vs scale {scale}",
        max_abs(&got, &exact)
    );
}

#[test]
fn non_finite_activations_do_not_poison_other_rows() {
    let (n, k) = (16, 32);
    let w = values(n * k, 13);
    let m = PackedMatrix::from_gguf(WeightFormat::Q8_0, &doctalk_qgemm::quantize_q8_0(&w), n, k).unwrap();
    let mut x = values(2 * k, 14);
    x[3] = f32::NAN;
    x[5] = f32::INFINITY;
    let both = m.matmul(&x, 2).unwrap();
    let second = m.matmul(&x[k..], 1).unwrap();
    assert_eq!(&both[n..], &second[..]);
}

#[test]
fn four_and_five_bit_formats_are_packed_two_weights_to_a_byte() {
    let (n, k) = (32, 256);
    let bytes = |format: WeightFormat, dtype: GgmlDType| {
        let (data, _) = quantized(dtype, n, k, 15);
        PackedMatrix::from_gguf(format, &data, n, k).unwrap().bytes()
    };
    for (format, dtype, bits) in [
        (WeightFormat::Q4_0, GgmlDType::Q4_0, 4),
        (WeightFormat::Q4_1, GgmlDType::Q4_1, 4),
        (WeightFormat::Q4K, GgmlDType::Q4K, 4),
        (WeightFormat::Q5_0, GgmlDType::Q5_0, 5),
        (WeightFormat::Q5_1, GgmlDType::Q5_1, 5),
        (WeightFormat::Q5K, GgmlDType::Q5K, 5),
    ] {
        assert!(format.nibbles() && format.fifth_bit() == (bits == 5));
        // `bits` bits per weight, plus the scales (and offsets) per block of 32.
        assert!(
            bytes(format, dtype) <= n * k * bits / 8 + 8 * n * k / 32,
            "{format:?}"
        );
    }
    assert!(!WeightFormat::Q8_0.nibbles() && !WeightFormat::Q6K.nibbles());
}
