//! The sentence encoders on DocTalk's integer kernels (the default, `MatmulPath::Integer`) against
//! candle's f32 forward pass on the same weights: real multilingual-e5-small (4-bit file) and
//! all-MiniLM-L6-v2 (safetensors, quantized to Q8_0 at load), on the 256 mixed Chinese/English
//! passages the throughput benchmark uses. The bar: cosine ≥ 0.995 per passage.
//!
//! Needs the real model files (`scripts/fetch-e5.sh`, `scripts/fetch-models.sh`).

use std::path::PathBuf;

use doctalk_models::e5::{E5Encoder, E5Options};
use doctalk_models::{BertEncoder, Embedder, EncoderOptions, MatmulPath, SearchRoots, ALL_MINILM_L6_V2};

fn passages() -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/e5/bench_passages.txt");
    let text = std::fs::read_to_string(path).expect("bench passages");
    text.lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot = |x: &[f32], y: &[f32]| x.iter().zip(y).map(|(p, q)| p * q).sum::<f32>();
    dot(a, b) / (dot(a, a).sqrt() * dot(b, b).sqrt())
}

/// Embeds every passage (one batched call each, so padding, length sorting and packing are
/// exercised) and a few queries with both encoders; returns the lowest cosine and its text.
fn lowest_cosine(integer: &dyn Embedder, reference: &dyn Embedder) -> (f32, String) {
    let texts = passages();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let a = integer.embed_passages(&refs).unwrap();
    let b = reference.embed_passages(&refs).unwrap();
    assert_eq!(a.len(), refs.len());
    let mut worst = (f32::INFINITY, String::new());
    for ((x, y), text) in a.iter().zip(&b).zip(&refs) {
        let norm: f32 = x.iter().map(|v| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-4, "not unit length: {norm}");
        let c = cosine(x, y);
        if c < worst.0 {
            worst = (c, (*text).to_string());
        }
    }
    for q in ["出差住宿标准是多少", "how do I reset the administrator password"] {
        let c = cosine(
            &integer.embed_query(q).unwrap(),
            &reference.embed_query(q).unwrap(),
        );
        if c < worst.0 {
            worst = (c, q.to_string());
        }
    }
    worst
}

fn e5_file() -> PathBuf {
    let root = std::env::var_os("DOCTALK_MODELS_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.models"));
    let path = root.join("multilingual-e5-small/e5-small-q4.bin");
    assert!(
        path.is_file(),
        "{} is missing: run scripts/fetch-e5.sh",
        path.display()
    );
    path
}

#[test]
fn e5_on_the_integer_kernels_stays_within_cosine_0_995_of_f32() {
    let integer = E5Encoder::load_q4(&e5_file(), E5Options::default()).unwrap();
    let reference = E5Encoder::load_q4(&e5_file(), E5Options::default().matmul(MatmulPath::F32)).unwrap();
    let (worst, text) = lowest_cosine(&integer, &reference);
    eprintln!("e5: lowest cosine integer vs f32 {worst} ({text:?})");
    assert!(worst >= 0.995, "cosine {worst} for {text:?}");
}

#[test]
fn minilm_on_the_integer_kernels_stays_within_cosine_0_995_of_f32() {
    let roots = SearchRoots::from_env();
    let dir = doctalk_models::resolve_model_dir(ALL_MINILM_L6_V2.id, &roots)
        .expect("all-MiniLM-L6-v2 is missing: run scripts/fetch-models.sh");
    let integer = BertEncoder::load(&dir, EncoderOptions::for_spec(&ALL_MINILM_L6_V2)).unwrap();
    let reference = BertEncoder::load(
        &dir,
        EncoderOptions::for_spec(&ALL_MINILM_L6_V2).matmul(MatmulPath::F32),
    )
    .unwrap();
    let (worst, text) = lowest_cosine(&integer, &reference);
    eprintln!("MiniLM: lowest cosine integer vs f32 {worst} ({text:?})");
    assert!(worst >= 0.995, "cosine {worst} for {text:?}");
}

#[test]
fn a_text_gets_the_same_vector_alone_and_packed_with_others() {
    // The integer path packs a batch's texts end to end with no padding: attention must not leak
    // across texts.
    let enc = E5Encoder::load_q4(&e5_file(), E5Options::default()).unwrap();
    let texts = passages();
    let refs: Vec<&str> = texts.iter().take(40).map(String::as_str).collect();
    let together = enc.embed_passages(&refs).unwrap();
    for (i, text) in refs.iter().enumerate().step_by(7) {
        let alone = enc.embed_passages(&[text]).unwrap();
        let c = cosine(&alone[0], &together[i]);
        assert!(c > 0.9999, "passage {i}: cosine {c} alone vs in a batch");
    }
}
