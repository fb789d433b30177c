//! Decode-step bandwidth of the kernels: one token (one activation row) through every projection of
//! a model's shape, against this machine's memory read bandwidth measured in the same run.
//!
//! Decoding one token reads every weight once, so a decode step can never be faster than the packed
//! bytes divided by the read bandwidth; this reports how close the kernels come, free of the model's
//! other work (attention, norms, sampling), which `doctalk-models`' `llm_bench` example adds.
//!
//! Run: `cargo bench -p doctalk-qgemm --bench decode -- [shape] [format] [steps] [layers] [rows]`
//! - shape: `chatglm3-6b` (default; 4096 wide, 28 layers, the file `models/gen/chatglm_gguf.py`
//!   writes), `qwen2.5-0.5b` (896 wide, 24 layers) or `qwen2.5-3b` (2048 wide, 36 layers; the only
//!   one whose widths all split into the K formats' 256-weight super-blocks);
//! - format: `q4_0` (default), `q4_1`, `q5_0`, `q8_0`, `q4_k`, `q5_k`, `q6_k`;
//! - steps: timed steps (default 20); layers: fewer layers than the shape has, for a quick look (the
//!   weights still far exceed the caches); rows: activation rows per step (default 1, a decoded
//!   token; more is a prompt's worth, where the kernels' arithmetic rather than memory sets the pace).
//!
//! Weights are random bytes in the file's block format (scales kept small and finite), packed as a
//! model load packs them. The reference reads a 2 GiB buffer with the same threads (rayon's pool),
//! best of five.

use std::hint::black_box;
use std::time::Instant;

use doctalk_qgemm::{Isa, PackedMatrix, QuantizedRows, WeightFormat};
use rayon::prelude::*;

/// `(name, hidden, attention output rows (q + k + v), ffn, layers, vocabulary)`; the gate and up
/// projections are one matrix of twice the ffn rows, as both model families store or fuse them.
const SHAPES: &[(&str, usize, usize, usize, usize, usize)] = &[
    ("chatglm3-6b", 4096, 4608, 13696, 28, 65024),
    ("qwen2.5-0.5b", 896, 1152, 4864, 24, 151936),
    ("qwen2.5-3b", 2048, 2560, 11008, 36, 151936),
];

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let shape = args.first().map_or("chatglm3-6b", String::as_str);
    let Some(&(name, hidden, qkv, ffn, all_layers, vocab)) = SHAPES.iter().find(|s| s.0 == shape) else {
        eprintln!("unknown shape {shape}; one of: chatglm3-6b, qwen2.5-0.5b, qwen2.5-3b");
        std::process::exit(2);
    };
    let format = match args.get(1).map_or("q4_0", String::as_str) {
        "q4_0" => WeightFormat::Q4_0,
        "q4_1" => WeightFormat::Q4_1,
        "q5_0" => WeightFormat::Q5_0,
        "q5_1" => WeightFormat::Q5_1,
        "q8_0" => WeightFormat::Q8_0,
        "q4_k" => WeightFormat::Q4K,
        "q5_k" => WeightFormat::Q5K,
        "q6_k" => WeightFormat::Q6K,
        other => {
            eprintln!("unknown format {other}");
            std::process::exit(2);
        }
    };
    let steps = count(&args, 2, "steps", 20);
    let layers = count(&args, 3, "layers", all_layers).min(all_layers);
    let m = count(&args, 4, "rows", 1);
    let threads = rayon::current_num_threads();
    let isa = Isa::detect();

    let mut shapes = Vec::new();
    for _ in 0..layers {
        shapes.extend([(qkv, hidden), (hidden, hidden), (2 * ffn, hidden), (hidden, ffn)]);
    }
    shapes.push((vocab, hidden));

    if let Some(&(_, k)) = shapes.iter().find(|(_, k)| k % format.unit_len() != 0) {
        eprintln!(
            "{name} has rows of {k} weights, which do not split into {}'s units of {}",
            format.name(),
            format.unit_len()
        );
        std::process::exit(2);
    }
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let started = Instant::now();
    let matrices: Vec<PackedMatrix> = shapes
        .iter()
        .map(|&(n, k)| {
            PackedMatrix::from_gguf(format, &random_blocks(format, n, k, &mut rng), n, k).expect("pack")
        })
        .collect();
    let packed: usize = matrices.iter().map(PackedMatrix::bytes).sum();
    let file: usize = shapes
        .iter()
        .map(|&(n, k)| n * k / format.unit_len() * format.unit_bytes())
        .sum();
    println!(
        "{name} ({layers} layers), {}: {:.2} GB in the file's format, {:.2} GB packed; packed in {:.1} s; {threads} threads, {} kernel",
        format.name(),
        file as f64 / 1e9,
        packed as f64 / 1e9,
        started.elapsed().as_secs_f64(),
        isa.name()
    );

    let bandwidth = read_bandwidth();
    println!(
        "memory read bandwidth (reference, same threads): {:.1} GB/s",
        bandwidth / 1e9
    );

    let inputs: Vec<(usize, Vec<f32>)> = [hidden, ffn]
        .iter()
        .map(|&k| {
            (
                k,
                (0..m * k)
                    .map(|i| ((i * 7919) % 2001) as f32 / 1000.0 - 1.0)
                    .collect(),
            )
        })
        .collect();
    let mut seconds = Vec::with_capacity(steps);
    for step in 0..steps + 2 {
        let t = Instant::now();
        for w in &matrices {
            let x = &inputs.iter().find(|(k, _)| *k == w.k()).expect("input").1;
            let rows = QuantizedRows::new(x, m, w.k(), format.block());
            let mut out = vec![0f32; m * w.n()];
            w.matmul_quantized(isa, &rows, &mut out).expect("matmul");
            black_box(&out);
        }
        // The first two steps warm the pages and the thread pool.
        if step >= 2 {
            seconds.push(t.elapsed().as_secs_f64());
        }
    }
    seconds.sort_by(f64::total_cmp);
    let median = seconds[seconds.len() / 2];
    println!(
        "step of {m} row(s): median {:.1} ms (min {:.1}, max {:.1}) over {steps}: {:.2} tokens/s, {:.1} GB/s of packed weights = {:.2} of the read bandwidth",
        median * 1e3,
        seconds[0] * 1e3,
        seconds[seconds.len() - 1] * 1e3,
        m as f64 / median,
        packed as f64 / median / 1e9,
        packed as f64 / median / bandwidth
    );
    println!(
        "ceiling for the file's bytes: {:.2} tokens/s; this step reaches {:.2} of it",
        m as f64 * bandwidth / file as f64,
        file as f64 / median / bandwidth
    );
}

/// Positional argument `at`, a whole number of at least 1, or `default` when it is not given.
fn count(args: &[String], at: usize, name: &str, default: usize) -> usize {
    match args.get(at).map(|v| v.parse::<usize>()) {
        None => default,
        Some(Ok(n)) if n >= 1 => n,
        _ => {
            eprintln!("{name} must be a whole number of at least 1, not {:?}", args[at]);
            std::process::exit(2);
        }
    }
}

/// `n × k` weights of random blocks: bytes random, each half-float scale replaced by a small one.
fn random_blocks(format: WeightFormat, n: usize, k: usize, rng: &mut u64) -> Vec<u8> {
    let unit_bytes = format.unit_bytes();
    let mut data = vec![0u8; n * k / format.unit_len() * unit_bytes];
    for chunk in data.chunks_mut(8) {
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        chunk.copy_from_slice(&rng.to_le_bytes()[..chunk.len()]);
    }
    let scale = half::f16::from_f32(0.01).to_le_bytes();
    for unit in data.chunks_exact_mut(unit_bytes) {
        match format {
            // K formats: d and dmin are the first two halves (Q6_K keeps its d last).
            WeightFormat::Q4K | WeightFormat::Q5K => {
                unit[..2].copy_from_slice(&scale);
                unit[2..4].copy_from_slice(&scale);
            }
            WeightFormat::Q6K => {
                let at = unit.len() - 2;
                unit[at..].copy_from_slice(&scale);
            }
            // Q4_1/Q5_1 have d then m; the others d first.
            _ => {
                unit[..2].copy_from_slice(&scale);
                if matches!(format, WeightFormat::Q4_1 | WeightFormat::Q5_1) {
                    unit[2..4].copy_from_slice(&scale);
                }
            }
        }
    }
    data
}

/// Bytes per second the pool's threads read from a buffer far larger than the caches, best of five.
fn read_bandwidth() -> f64 {
    let words = (2usize << 30) / 8;
    let data: Vec<u64> = (0..words as u64).into_par_iter().collect();
    let mut best = 0f64;
    for _ in 0..5 {
        let t = Instant::now();
        let total: u64 = data
            .par_chunks(1 << 16)
            .map(|c| c.iter().fold(0u64, |s, &v| s.wrapping_add(v)))
            .reduce(|| 0, u64::wrapping_add);
        black_box(total);
        best = best.max((words * 8) as f64 / t.elapsed().as_secs_f64());
    }
    best
}
