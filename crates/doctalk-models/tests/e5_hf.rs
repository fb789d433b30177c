//! E5Encoder on the HuggingFace layout (config.json + model.safetensors + tokenizer.json), checked
//! against a float64 numpy forward pass on a tiny random checkpoint (models/gen/e5_tiny_hf.py).
//! This is the path users with hub access get; the position offset (XLM-R starts at 2) and the
//! weight-name mapping are what it guards.

use std::path::PathBuf;

use doctalk_models::e5::{E5Encoder, E5Options};
use doctalk_models::{Embedder, MatmulPath, ModelError, SearchRoots};
use serde::Deserialize;

#[derive(Deserialize)]
struct Expected {
    records: Vec<Record>,
}

#[derive(Deserialize)]
struct Record {
    kind: String,
    text: String,
    ids: Vec<u32>,
    embedding: Vec<f32>,
}

fn tiny_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/e5/tiny-hf")
}

fn expected() -> Expected {
    let text = std::fs::read_to_string(tiny_dir().join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn options() -> E5Options {
    E5Options::default().expected_dimension(None)
}

#[test]
fn tiny_checkpoint_matches_the_numpy_reference() {
    // candle in f32: the same numbers as numpy up to rounding.
    let enc = E5Encoder::load_hf_dir(&tiny_dir(), options().matmul(MatmulPath::F32)).unwrap();
    assert_eq!(enc.dimension(), 32);
    assert_eq!(enc.max_tokens(), 32, "34 positions less padding_idx + 1");
    let exp = expected();
    let passages: Vec<&Record> = exp.records.iter().filter(|r| r.kind == "passage").collect();
    let texts: Vec<&str> = passages.iter().map(|r| r.text.as_str()).collect();
    let got = enc.embed_passages(&texts).unwrap();
    for (r, v) in passages.iter().zip(&got) {
        assert_eq!(enc.token_ids(&format!("passage: {}", r.text)).unwrap(), r.ids);
        let max_diff = v
            .iter()
            .zip(&r.embedding)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(max_diff < 1e-4, "{:?}: max diff {max_diff}", r.text);
    }
    for r in exp.records.iter().filter(|r| r.kind == "query") {
        assert_eq!(enc.token_ids(&format!("query: {}", r.text)).unwrap(), r.ids);
        let v = enc.embed_query(&r.text).unwrap();
        let max_diff = v
            .iter()
            .zip(&r.embedding)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(max_diff < 1e-4, "{:?}: max diff {max_diff}", r.text);
    }
}

#[test]
fn tiny_checkpoint_on_the_integer_kernels_stays_close_to_the_numpy_reference() {
    // The default path quantizes the f32 checkpoint to Q8_0 and runs DocTalk's own forward pass
    // (XLM-R's position offset and names included).
    let enc = E5Encoder::load_hf_dir(&tiny_dir(), options()).unwrap();
    let exp = expected();
    let passages: Vec<&Record> = exp.records.iter().filter(|r| r.kind == "passage").collect();
    let texts: Vec<&str> = passages.iter().map(|r| r.text.as_str()).collect();
    let got = enc.embed_passages(&texts).unwrap();
    let queries = exp.records.iter().filter(|r| r.kind == "query");
    let query_vectors: Vec<(Vec<f32>, &Record)> =
        queries.map(|r| (enc.embed_query(&r.text).unwrap(), r)).collect();
    let all = got
        .iter()
        .zip(passages.iter().copied())
        .chain(query_vectors.iter().map(|(v, r)| (v, *r)));
    for (v, r) in all {
        let cos: f32 = v.iter().zip(&r.embedding).map(|(a, b)| a * b).sum();
        assert!(cos > 0.995, "{:?}: cosine {cos}", r.text);
    }
}

#[test]
fn the_default_options_refuse_a_model_of_the_wrong_width() {
    let err = E5Encoder::load_hf_dir(&tiny_dir(), E5Options::default()).unwrap_err();
    assert!(matches!(err, ModelError::BadConfig { .. }), "{err}");
}

#[test]
fn from_roots_finds_the_hf_layout_and_reports_what_it_searched() {
    let root = tempfile::tempdir().unwrap();
    let model_dir = root.path().join("multilingual-e5-small");
    std::fs::create_dir_all(&model_dir).unwrap();
    let roots = SearchRoots {
        models_dir: Some(root.path().to_path_buf()),
        ..SearchRoots::default()
    };
    // Empty directory: NotFound naming it and the fetch script.
    let err = E5Encoder::from_roots(&roots, options()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&model_dir.display().to_string()), "{msg}");
    assert!(msg.contains("fetch-e5.sh"), "{msg}");

    for f in ["config.json", "model.safetensors", "tokenizer.json"] {
        std::fs::copy(tiny_dir().join(f), model_dir.join(f)).unwrap();
    }
    let enc = E5Encoder::from_roots(&roots, options()).unwrap();
    assert_eq!(enc.source(), model_dir);
    assert_eq!(enc.model_id(), "intfloat/multilingual-e5-small");
}
