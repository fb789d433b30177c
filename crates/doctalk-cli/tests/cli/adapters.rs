//! LoRA adapters from the doors: `--adapter NAME|PATH` on `generate`, adapters kept in
//! `<data dir>/adapters/` listed by `models list`, and the settings' adapter applied by `serve`.
//! The base is the tiny random Qwen2 GGUF of models/gen/lora_tiny.py and the adapter the one PEFT
//! made for it; their logits are checked against PEFT in doctalk-models' `llm_adapters` test.

use std::path::{Path, PathBuf};

use crate::harness::{repo_root, stderr, Doctalk};
use crate::serve::{http, start};

fn lora(rel: &str) -> PathBuf {
    repo_root()
        .join("crates/doctalk-models/tests/fixtures/lora")
        .join(rel)
}

fn tiny_base() -> String {
    lora("qwen2/base/model.gguf").display().to_string()
}

/// Keeps a copy of the Qwen2 PEFT adapter in the data directory under `name`.
fn keep_adapter(dt: &Doctalk, name: &str) -> PathBuf {
    let kept = dt.data.path().join("adapters").join(name);
    std::fs::create_dir_all(&kept).unwrap();
    for file in ["adapter_config.json", "adapter_model.safetensors"] {
        std::fs::copy(lora("qwen2/peft").join(file), kept.join(file)).unwrap();
    }
    kept
}

fn generate(dt: &Doctalk, extra: &[&str]) -> serde_json::Value {
    let base = tiny_base();
    let mut args = vec![
        "generate",
        "w5 w17 w42 w8",
        "--raw",
        "--model",
        base.as_str(),
        "--max-tokens",
        "8",
        "--json",
    ];
    args.extend_from_slice(extra);
    dt.json(&args)
}

#[test]
fn a_kept_adapter_is_listed_chosen_by_name_and_changes_what_the_model_writes() {
    let dt = Doctalk::new();
    keep_adapter(&dt, "faq-tuned");
    let list = dt.json(&["models", "list", "--json"]);
    let entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["short_name"] == "faq-tuned")
        .unwrap_or_else(|| panic!("the kept adapter is listed: {list}"));
    assert_eq!(entry["kind"], "lora-adapter");
    assert_eq!(entry["format"], "peft");
    assert_eq!(entry["layers"], 14);
    assert!(entry["error"].is_null(), "{entry}");

    let plain = generate(&dt, &[]);
    let adapted = generate(&dt, &["--adapter", "faq-tuned"]);
    assert_eq!(plain["model"], "model");
    assert_eq!(adapted["model"], "model+faq-tuned");
    // Greedy decoding of the same prompt: the adapter's change to the logits shows in the words.
    assert_ne!(plain["text"], adapted["text"], "{plain} / {adapted}");
    // A path works as well as a name, and gives the same words.
    let by_path = generate(&dt, &["--adapter", lora("qwen2/peft").to_str().unwrap()]);
    assert_eq!(by_path["text"], adapted["text"]);
}

#[test]
fn a_missing_or_mismatched_adapter_is_a_clear_error() {
    let dt = Doctalk::new();
    let base = tiny_base();
    let out = dt.run(&["generate", "w5", "--model", &base, "--adapter", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("\"nope\"") && err.contains("adapters"), "{err}");

    let glm = lora("glm-hf/peft");
    let out = dt.run(&[
        "generate",
        "w5",
        "--model",
        &base,
        "--adapter",
        glm.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("does not fit") && err.contains("gate_up_proj"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn the_server_applies_the_adapter_the_settings_choose() {
    let dt = Doctalk::new();
    keep_adapter(&dt, "faq-tuned");
    let base = tiny_base();
    let server = start(&dt, &["--model", &base]);
    let a = server.addr.as_str();
    let settings = http(a, "GET", "/api/settings", None, b"").json();
    let listed: Vec<&str> = settings["adapters"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x["name"].as_str())
        .collect();
    assert_eq!(listed, ["faq-tuned"]);
    assert!(settings["adapters_dir"].as_str().unwrap().ends_with("adapters"));

    let patch = serde_json::json!({"model": {"kind": "local", "path": base, "adapter": "faq-tuned"}});
    let saved = http(a, "PUT", "/api/settings", None, patch.to_string().as_bytes());
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert_eq!(saved.json()["model"]["adapter"], "faq-tuned");
    let model = wait_for_model(a, |m| m == "model+faq-tuned");
    assert_eq!(model, "model+faq-tuned");

    // An adapter made for another model: the old model keeps answering and the reason is shown.
    let glm = lora("glm-hf/peft");
    let patch = serde_json::json!({"model": {"kind": "local", "path": base, "adapter": glm}});
    assert_eq!(
        http(a, "PUT", "/api/settings", None, patch.to_string().as_bytes()).status,
        200
    );
    let status = wait_for_status(a, |s| s["state"] == "failed");
    let message = status["message"].as_str().unwrap();
    assert!(message.contains("does not fit"), "{status}");
    assert_eq!(status["model"], "model+faq-tuned");
    // The choice is saved for the next start.
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dt.data.path().join("settings.json")).unwrap())
            .unwrap();
    assert_eq!(Path::new(saved["model"]["adapter"].as_str().unwrap()), glm);
}

fn wait_for_status(addr: &str, done: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    for _ in 0..600 {
        let status = http(addr, "GET", "/api/settings", None, b"").json()["model_status"].clone();
        if done(&status) {
            return status;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the model status did not settle within 60 s");
}

fn wait_for_model(addr: &str, done: impl Fn(&str) -> bool) -> String {
    let status = wait_for_status(addr, |s| {
        s["state"] == "ready" && s["model"].as_str().is_some_and(&done) || s["state"] == "failed"
    });
    assert_eq!(status["state"], "ready", "{status}");
    status["model"].as_str().unwrap().to_string()
}
