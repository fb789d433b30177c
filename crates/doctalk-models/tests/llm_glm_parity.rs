//! The GLM architectures against PyTorch on tiny random checkpoints (models/gen/glm_tiny.py): the
//! same logits, within 1e-4, for a prompt and for several KV-cached decode steps.
//!
//! - `glm-hf`: transformers' `GlmForCausalLM` (our `llm::glm`),
//! - `glm4-0414`: transformers' `Glm4ForCausalLM` (candle's `glm4_new`),
//! - `chatglm3`, `glm4-chat`: an independent PyTorch ChatGLM (candle's `glm4`, rope_ratio 1 and 500).
//! - `chatglm3-gguf`: the `chatglm3` checkpoint as llama.cpp stores it in GGUF (our `llm::glm::Model::from_gguf`).

use std::path::PathBuf;

use doctalk_models::llm::{load_local, Generator};
use doctalk_models::DeviceChoice;
use serde::Deserialize;

const TOLERANCE: f32 = 1e-4;

#[derive(Deserialize)]
struct Expected {
    prompt: Vec<u32>,
    steps: Vec<u32>,
    logits: Vec<Vec<f32>>,
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/llm")
        .join(name)
}

#[track_caller]
fn check(name: &str) {
    let dir = fixture(name);
    let expected: Expected =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let model = load_local(&dir, DeviceChoice::Cpu).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(expected.logits.len(), 1 + expected.steps.len());

    let mut rows = vec![model.logits(&expected.prompt, 0).unwrap()];
    for (i, &token) in expected.steps.iter().enumerate() {
        rows.push(model.logits(&[token], expected.prompt.len() + i).unwrap());
    }
    for (step, (got, want)) in rows.iter().zip(&expected.logits).enumerate() {
        assert_eq!(got.len(), want.len(), "{name} step {step}: vocab size");
        let diff = got
            .iter()
            .zip(want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(
            diff <= TOLERANCE,
            "{name} step {step}: max |diff| = {diff:e} > {TOLERANCE:e}"
        );
    }
    // A second prompt from offset 0 must not see the first one's cache.
    let again = model.logits(&expected.prompt, 0).unwrap();
    let diff = again
        .iter()
        .zip(&expected.logits[0])
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(
        diff <= TOLERANCE,
        "{name}: a restarted prompt differs by {diff:e}"
    );
}

#[test]
fn glm_hf_layout_matches_transformers() {
    check("glm-hf");
}

#[test]
fn glm4_0414_matches_transformers() {
    check("glm4-0414");
}

#[test]
fn chatglm3_matches_the_reference() {
    check("chatglm3");
}

#[test]
fn glm4_9b_chat_layout_with_rope_ratio_matches_the_reference() {
    check("glm4-chat");
}

#[test]
fn chatglm3_uses_its_own_chat_format_and_stop_tokens() {
    let model = load_local(fixture("chatglm3"), DeviceChoice::Cpu).unwrap();
    let prompt = model
        .render_chat(&[doctalk_models::llm::ChatMessage::user("w1 w2")])
        .unwrap();
    assert_eq!(prompt, "[gMASK]sop<|user|>\nw1 w2<|assistant|>");
    // [gMASK] sop <|user|> w1 w2 <|assistant|>: the special tokens are single tokens.
    assert_eq!(model.count_tokens(&prompt).unwrap(), 6);
}

/// ChatGLM3 from a llama.cpp-layout GGUF (models/gen/chatglm_gguf.py; llama.cpp itself reproduces these
/// reference logits from the same file within 4e-6), through our quantized GLM path.
#[test]
fn chatglm3_gguf_matches_the_reference() {
    check("chatglm3-gguf");
}
