//! LoRA adapters made by Hugging Face PEFT (and the same adapters in llama.cpp's GGUF layout) against
//! transformers + PEFT on tiny random checkpoints (models/gen/lora_tiny.py): the same logits, within
//! 1e-4, for a prompt and for several KV-cached decode steps, on every path an adapter takes:
//!
//! - merged into safetensors weights while they load (GLM `transformers` layout, ChatGLM3 layout);
//! - added at run time beside quantized projections (our qwen2, llama and chatglm GGUF decoders);
//! - merged into f32 copies of GGUF weights for candle's own decoders (`Kernels::Candle`).
//!
//! And every way an adapter can fail to fit its model is refused with a message that says why.

use std::path::{Path, PathBuf};

use doctalk_models::llm::{load_adapted, Adapter, Generator, Kernels, LocalGenerator};
use doctalk_models::{DeviceChoice, ModelError};
use serde::Deserialize;

const TOLERANCE: f32 = 1e-4;

#[derive(Deserialize)]
struct Expected {
    prompt: Vec<u32>,
    steps: Vec<u32>,
    base: Vec<Vec<f32>>,
    adapted: Vec<Vec<f32>>,
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn lora(name: &str) -> PathBuf {
    fixtures().join("lora").join(name)
}

fn expected(name: &str) -> Expected {
    serde_json::from_str(&std::fs::read_to_string(lora(name).join("expected.json")).unwrap()).unwrap()
}

fn load(model: &Path, adapter: Option<&Path>, kernels: Kernels) -> LocalGenerator {
    load_adapted(model, DeviceChoice::Cpu, kernels, adapter)
        .unwrap_or_else(|e| panic!("{} + {adapter:?}: {e}", model.display()))
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "vocabulary size");
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// The model's logits for the prompt and each decode step, against `want`.
#[track_caller]
fn check(what: &str, model: &LocalGenerator, case: &Expected, want: &[Vec<f32>]) {
    let mut rows = vec![model.logits(&case.prompt, 0).unwrap()];
    for (i, &token) in case.steps.iter().enumerate() {
        rows.push(model.logits(&[token], case.prompt.len() + i).unwrap());
    }
    assert_eq!(rows.len(), want.len());
    for (step, (got, want)) in rows.iter().zip(want).enumerate() {
        let diff = max_diff(got, want);
        assert!(
            diff <= TOLERANCE,
            "{what} step {step}: max |diff| = {diff:e} > {TOLERANCE:e}"
        );
    }
}

/// The fixture's adapter must change the logits by far more than the tolerance, or matching the
/// adapted logits would prove nothing.
#[track_caller]
fn adapter_matters(case: &Expected) {
    let change = max_diff(&case.base[0], &case.adapted[0]);
    assert!(change > 0.5, "the adapter changes the logits by only {change}");
}

#[test]
fn qwen2_gguf_with_a_peft_adapter_matches_transformers_and_peft() {
    let case = expected("qwen2");
    adapter_matters(&case);
    let base = lora("qwen2/base/model.gguf");
    check(
        "qwen2 base",
        &load(&base, None, Kernels::Integer),
        &case,
        &case.base,
    );
    let peft = lora("qwen2/peft");
    let adapted = load(&base, Some(&peft), Kernels::Integer);
    check("qwen2 + PEFT (run time)", &adapted, &case, &case.adapted);
    assert_eq!(adapted.model_id(), "model+peft");
    // candle's own Qwen2 takes the adapter merged into f32 weights.
    check(
        "qwen2 + PEFT (merged, candle)",
        &load(&base, Some(&peft), Kernels::Candle),
        &case,
        &case.adapted,
    );
}

/// The other direction: an adapter `doctalk tune` trained, loaded by PEFT onto the same base in
/// transformers, gives the logits it gives here.
#[test]
fn an_adapter_doctalk_trained_gives_peft_s_logits() {
    let case = expected("qwen2/tuned");
    adapter_matters(&case);
    let base = lora("qwen2/base/model.gguf");
    check(
        "qwen2 + DocTalk-trained adapter",
        &load(&base, Some(&lora("qwen2/tuned")), Kernels::Integer),
        &case,
        &case.adapted,
    );
}

#[test]
fn qwen2_gguf_with_a_llama_cpp_adapter_matches() {
    let case = expected("qwen2");
    let base = lora("qwen2/base/model.gguf");
    let gguf = lora("qwen2/adapter.gguf");
    check(
        "qwen2 + GGUF adapter",
        &load(&base, Some(&gguf), Kernels::Integer),
        &case,
        &case.adapted,
    );
}

#[test]
fn llama_gguf_adapters_follow_the_reordered_query_and_key_rows() {
    let case = expected("llama");
    adapter_matters(&case);
    let base = lora("llama/base/model.gguf");
    check(
        "llama base",
        &load(&base, None, Kernels::Integer),
        &case,
        &case.base,
    );
    for adapter in [lora("llama/peft"), lora("llama/adapter.gguf")] {
        check(
            &format!("llama + {}", adapter.display()),
            &load(&base, Some(&adapter), Kernels::Integer),
            &case,
            &case.adapted,
        );
    }
    check(
        "llama + PEFT (merged, candle)",
        &load(&base, Some(&lora("llama/peft")), Kernels::Candle),
        &case,
        &case.adapted,
    );
}

#[test]
fn glm_safetensors_with_a_peft_adapter_matches_transformers_and_peft() {
    let case = expected("glm-hf");
    adapter_matters(&case);
    let base = fixtures().join("llm/glm-hf");
    let model = load(&base, Some(&lora("glm-hf/peft")), Kernels::Integer);
    check("glm-hf + PEFT (merged)", &model, &case, &case.adapted);
}

#[test]
fn chatglm3_takes_the_same_adapter_from_safetensors_and_from_gguf() {
    let case = expected("chatglm3");
    adapter_matters(&case);
    let peft = lora("chatglm3/peft");
    let safetensors = fixtures().join("llm/chatglm3");
    let gguf = fixtures().join("llm/chatglm3-gguf");
    check(
        "chatglm3 + PEFT (merged)",
        &load(&safetensors, Some(&peft), Kernels::Integer),
        &case,
        &case.adapted,
    );
    check(
        "chatglm3 GGUF + PEFT (run time)",
        &load(&gguf, Some(&peft), Kernels::Integer),
        &case,
        &case.adapted,
    );
    check(
        "chatglm3 GGUF + GGUF adapter",
        &load(&gguf, Some(&lora("chatglm3/adapter.gguf")), Kernels::Integer),
        &case,
        &case.adapted,
    );
}

// ------------------------------------------------------------------------------- refusals

fn refusal(model: &Path, adapter: &Path) -> String {
    match load_adapted(model, DeviceChoice::Cpu, Kernels::Integer, Some(adapter)) {
        Ok(_) => panic!("{} + {} loaded", model.display(), adapter.display()),
        Err(e @ (ModelError::AdapterMismatch { .. } | ModelError::BadAdapter { .. })) => e.to_string(),
        Err(other) => panic!(
            "{} + {}: wrong error {other:?}",
            model.display(),
            adapter.display()
        ),
    }
}

#[track_caller]
fn says(message: &str, words: &[&str]) {
    for word in words {
        assert!(message.contains(word), "{message:?} should say {word:?}");
    }
}

/// A copy of a PEFT adapter directory with its configuration edited.
fn edited_peft(from: &str, edit: impl FnOnce(&mut serde_json::Value)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = lora(from).join("peft");
    std::fs::copy(
        src.join("adapter_model.safetensors"),
        dir.path().join("adapter_model.safetensors"),
    )
    .unwrap();
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("adapter_config.json")).unwrap()).unwrap();
    edit(&mut config);
    std::fs::write(
        dir.path().join("adapter_config.json"),
        serde_json::to_string(&config).unwrap(),
    )
    .unwrap();
    dir
}

#[test]
fn an_adapter_for_another_model_is_refused_with_the_reason() {
    let qwen2 = lora("qwen2/base/model.gguf");
    // GLM's fused gate_up_proj does not exist in a Qwen2 file.
    let m = refusal(&qwen2, &lora("glm-hf/peft"));
    says(&m, &["does not fit", "gate_up_proj", "qwen2"]);
    // Same module names, other sizes: ChatGLM3's adapter on the GLM-layout model.
    let m = refusal(&fixtures().join("llm/glm-hf"), &lora("chatglm3/peft"));
    says(&m, &["does not have", "transformer.encoder.layers"]);
    // A llama.cpp adapter converted for another architecture.
    let m = refusal(&lora("llama/base/model.gguf"), &lora("qwen2/adapter.gguf"));
    says(&m, &["qwen2 models", "this model is llama"]);
    // A GGUF adapter for a safetensors model.
    let m = refusal(&fixtures().join("llm/chatglm3"), &lora("chatglm3/adapter.gguf"));
    says(&m, &["GGUF models", "PEFT"]);
}

#[test]
fn wrong_shapes_are_refused_before_the_model_is_built() {
    // ChatGLM3's module names have no counterpart in a Llama file.
    let m = refusal(&lora("llama/base/model.gguf"), &lora("chatglm3/peft"));
    says(&m, &["has no counterpart", "llama"]);
    // The right names with the wrong width: one lora_A made for a 32-wide input.
    let dir = edited_peft("qwen2", |_| {});
    let file = dir.path().join("adapter_model.safetensors");
    let mut tensors = candle_core::safetensors::load(&file, &candle_core::Device::Cpu).unwrap();
    let key = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight";
    let narrow = tensors[key].narrow(1, 0, 32).unwrap();
    tensors.insert(key.to_string(), narrow);
    candle_core::safetensors::save(&tensors, &file).unwrap();
    let m = refusal(&lora("qwen2/base/model.gguf"), dir.path());
    says(&m, &["blk.0.attn_q.weight", "[64, 64]", "[64, 32]"]);
    // A rank pattern that no longer matches the matrices.
    let dir = edited_peft("qwen2", |c| c["rank_pattern"] = serde_json::json!({}));
    let m = refusal(&lora("qwen2/base/model.gguf"), dir.path());
    says(&m, &["rank 4", "rank 2", "down_proj"]);
}

/// A file that holds a second adapter's matrices beside the first is refused, not half-applied.
#[test]
fn two_adapters_in_one_file_are_refused() {
    let dir = edited_peft("qwen2", |_| {});
    let file = dir.path().join("adapter_model.safetensors");
    let mut tensors = candle_core::safetensors::load(&file, &candle_core::Device::Cpu).unwrap();
    let key = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight";
    let copy = tensors[key].clone();
    tensors.insert(key.replace(".weight", ".other.weight"), copy);
    candle_core::safetensors::save(&tensors, &file).unwrap();
    says(
        &refusal(&lora("qwen2/base/model.gguf"), dir.path()),
        &["two lora_A matrices"],
    );
}

#[test]
fn unreadable_or_unsupported_adapters_say_what_is_wrong() {
    let qwen2 = lora("qwen2/base/model.gguf");
    says(
        &refusal(&qwen2, Path::new("/nonexistent/adapter")),
        &["no such file"],
    );
    // A model file given as the adapter.
    says(&refusal(&qwen2, &qwen2), &["not \"adapter\""]);
    // A directory without adapter_config.json.
    says(&refusal(&qwen2, &lora("qwen2/base")), &["no adapter_config.json"]);
    let dora = edited_peft("qwen2", |c| c["use_dora"] = true.into());
    says(&refusal(&qwen2, dora.path()), &["DoRA"]);
    let saved = edited_peft("qwen2", |c| c["modules_to_save"] = serde_json::json!(["lm_head"]));
    says(&refusal(&qwen2, saved.path()), &["modules_to_save"]);
    let broken = edited_peft("qwen2", |_| {});
    std::fs::write(
        broken.path().join("adapter_model.safetensors"),
        b"not safetensors",
    )
    .unwrap();
    says(&refusal(&qwen2, broken.path()), &["adapter_model.safetensors"]);
    let missing = edited_peft("qwen2", |_| {});
    std::fs::remove_file(missing.path().join("adapter_model.safetensors")).unwrap();
    says(
        &refusal(&qwen2, missing.path()),
        &["no adapter_model.safetensors"],
    );
}

#[test]
fn an_adapter_reads_without_a_model() {
    let adapter = Adapter::open(&lora("qwen2/peft")).unwrap();
    // 2 layers × 7 projections.
    assert_eq!(adapter.len(), 14);
    let gguf = Adapter::open(&lora("qwen2/adapter.gguf")).unwrap();
    assert_eq!(gguf.len(), 14);
    // Its adapter_config.json names the adapter too.
    assert_eq!(
        Adapter::open(&lora("qwen2/peft/adapter_config.json"))
            .unwrap()
            .len(),
        14
    );
}
