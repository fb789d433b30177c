//! A model that is missing a file, or whose file is damaged, fails with an error that names the file.

use std::path::{Path, PathBuf};

use candle_core::quantized::{gguf_file, QTensor};
use candle_core::{Device, Tensor};
use doctalk_models::llm::load_generator;
use doctalk_models::{DeviceChoice, ModelError};

fn glm_fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/llm/glm-hf")
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn load_err(path: &Path) -> ModelError {
    match load_generator(path, DeviceChoice::Cpu) {
        Ok(_) => panic!("{} loaded", path.display()),
        Err(e) => e,
    }
}

#[test]
fn a_missing_gguf_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let err = load_err(&dir.path().join("model.gguf"));
    assert!(
        matches!(&err, ModelError::Catalog(doctalk_models::CatalogError::MissingFile { file, .. }) if file == "model.gguf"),
        "{err}"
    );
    assert!(err.to_string().contains("model.gguf"), "{err}");
}

#[test]
fn each_missing_file_of_a_safetensors_model_is_named() {
    for missing in ["config.json", "tokenizer.json", "model.safetensors"] {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&glm_fixture(), dir.path());
        std::fs::remove_file(dir.path().join(missing)).unwrap();
        let err = load_err(dir.path());
        assert!(
            matches!(&err, ModelError::Catalog(doctalk_models::CatalogError::MissingFile { file, .. }) if file == missing),
            "{missing}: {err}"
        );
    }
}

#[test]
fn corrupt_safetensors_are_named() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&glm_fixture(), dir.path());
    let weights = dir.path().join("model.safetensors");
    std::fs::write(&weights, b"this is not a safetensors file").unwrap();
    let err = load_err(dir.path());
    assert!(
        matches!(&err, ModelError::CorruptFile { path, .. } if *path == weights),
        "{err}"
    );
}

#[test]
fn a_malformed_config_is_named() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&glm_fixture(), dir.path());
    std::fs::write(dir.path().join("config.json"), b"{\"model_type\": \"glm\"").unwrap();
    let err = load_err(dir.path());
    assert!(
        matches!(&err, ModelError::BadConfig { path, .. } if path.ends_with("config.json")),
        "{err}"
    );
}

/// A GGUF with one real tensor and enough metadata to get past the header.
/// A GGUF file with `metadata` and one small embedding tensor.
fn write_gguf(path: &Path, metadata: &[(&str, &gguf_file::Value)]) {
    let t = QTensor::quantize(
        &Tensor::zeros((4, 32), candle_core::DType::F32, &Device::Cpu).unwrap(),
        candle_core::quantized::GgmlDType::F32,
    )
    .unwrap();
    let mut file = std::fs::File::create(path).unwrap();
    gguf_file::write(&mut file, metadata, &[("token_embd.weight", &t)]).unwrap();
}

fn write_small_gguf(path: &Path) {
    write_gguf(
        path,
        &[("general.architecture", &gguf_file::Value::String("llama".into()))],
    );
}

#[test]
fn a_truncated_gguf_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.gguf");
    write_small_gguf(&path);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 100]).unwrap();
    let err = load_err(&path);
    assert!(
        matches!(&err, ModelError::CorruptFile { path: p, .. } if *p == path),
        "{err}"
    );
    assert!(err.to_string().contains("truncated"), "{err}");
}

/// candle's reader divides by the header's `general.alignment`: zero made it panic (with the
/// panic printed on stderr). The panic is contained and the file named as damaged.
#[test]
fn a_gguf_whose_reader_panics_is_named_as_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zero-alignment.gguf");
    let arch = gguf_file::Value::String("llama".into());
    let alignment = gguf_file::Value::U32(0);
    write_gguf(
        &path,
        &[("general.architecture", &arch), ("general.alignment", &alignment)],
    );
    let err = load_err(&path);
    assert!(
        matches!(&err, ModelError::CorruptFile { path: p, .. } if *p == path),
        "{err}"
    );
    assert!(err.to_string().contains("GGUF reader failed"), "{err}");
}

#[test]
fn a_file_that_is_not_gguf_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.gguf");
    std::fs::write(&path, b"GGUX not a model at all").unwrap();
    let err = load_err(&path);
    assert!(
        matches!(&err, ModelError::CorruptFile { path: p, .. } if *p == path),
        "{err}"
    );
}

#[test]
fn an_unknown_architecture_is_reported_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("odd.gguf");
    let arch = gguf_file::Value::String("mamba".into());
    let tokens = gguf_file::Value::Array(vec![gguf_file::Value::String("a".into())]);
    let merges = gguf_file::Value::Array(vec![]);
    let model = gguf_file::Value::String("gpt2".into());
    write_gguf(
        &path,
        &[
            ("general.architecture", &arch),
            ("tokenizer.ggml.model", &model),
            ("tokenizer.ggml.tokens", &tokens),
            ("tokenizer.ggml.merges", &merges),
        ],
    );
    let err = load_err(&path);
    assert!(
        matches!(&err, ModelError::UnsupportedArchitecture { arch, .. } if arch == "mamba"),
        "{err}"
    );
}
