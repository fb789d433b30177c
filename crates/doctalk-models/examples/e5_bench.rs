//! Throughput of E5Encoder on 256 mixed Chinese/English passages (not a test).
//!
//! ```text
//! RAYON_NUM_THREADS=2 cargo run --release -p doctalk-models --example e5_bench [-- --runs 5 --f32]
//! ```
//!
//! Prints the median passages/s over the runs for each matmul path asked for (DocTalk's integer
//! kernels by default; `--f32` for candle's f32 gemm, `--q4` for candle's quantised matmul, `--all`),
//! and the process's peak RSS. `--minilm` measures
//! all-MiniLM-L6-v2 (BertEncoder) on the same passages instead. The package's own
//! engine on the same file: models/gen/e5_bench_package.py.

use std::path::PathBuf;
use std::time::Instant;

use doctalk_models::e5::{E5Encoder, E5Options, E5_Q4_FILE, E5_SHORT_NAME};
use doctalk_models::Embedder;
use doctalk_models::MatmulPath;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(5usize)
        .max(1);
    let paths: Vec<MatmulPath> = if args.iter().any(|a| a == "--all") {
        vec![MatmulPath::Integer, MatmulPath::F32, MatmulPath::CandleQuantized]
    } else if args.iter().any(|a| a == "--q4") {
        vec![MatmulPath::CandleQuantized]
    } else if args.iter().any(|a| a == "--f32") {
        vec![MatmulPath::F32]
    } else {
        vec![MatmulPath::Integer]
    };

    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let models = std::env::var_os("DOCTALK_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate_dir.join("../../.models"));
    let model = models.join(E5_SHORT_NAME).join(E5_Q4_FILE);
    let text = std::fs::read_to_string(crate_dir.join("tests/fixtures/e5/bench_passages.txt"))?;
    let passages: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    if args.iter().any(|a| a == "--minilm") {
        // all-MiniLM-L6-v2 on the same passages (no prefix), for the sentence-transformers comparison
        // in models/gen/minilm_bench_st.py.
        let t = Instant::now();
        let enc = doctalk_models::BertEncoder::from_spec(
            &doctalk_models::ALL_MINILM_L6_V2,
            &doctalk_models::SearchRoots::from_env(),
        )?;
        let load_s = t.elapsed().as_secs_f64();
        report("BertEncoder all-MiniLM-L6-v2", &enc, &passages, runs, load_s)?;
        return Ok(());
    }
    for compute in paths {
        let t = Instant::now();
        let enc = E5Encoder::load_q4(&model, E5Options::default().matmul(compute))?;
        let load_s = t.elapsed().as_secs_f64();
        let tokens: usize = passages
            .iter()
            .map(|p| enc.token_ids(&format!("passage: {p}")).map(|ids| ids.len()))
            .sum::<Result<usize, _>>()?;
        report(
            &format!("E5Encoder {compute:?} ({tokens} tokens)"),
            &enc,
            &passages,
            runs,
            load_s,
        )?;
    }
    Ok(())
}

/// Warms up, embeds `passages` `runs` times and prints the median rate with the process's peak RSS.
fn report(
    name: &str,
    enc: &dyn Embedder,
    passages: &[&str],
    runs: usize,
    load_s: f64,
) -> Result<(), Box<dyn std::error::Error>> {
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".into());
    enc.embed_passages(&passages[..8])?;
    let mut rates = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        enc.embed_passages(passages)?;
        rates.push(passages.len() as f64 / t.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "{name}: {} passages, threads {threads}: median {:.1} passages/s over {runs} runs (min {:.1}, max {:.1}); \
         load {load_s:.2}s; peak RSS so far {} MB",
        passages.len(),
        rates[rates.len() / 2],
        rates[0],
        rates[rates.len() - 1],
        peak_rss_mb().map_or_else(|| "?".into(), |m| m.to_string()),
    );
    Ok(())
}

/// VmHWM from /proc (Linux only).
fn peak_rss_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}
