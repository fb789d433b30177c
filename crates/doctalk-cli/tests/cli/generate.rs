//! `doctalk generate` with the real offline default model (Qwen2.5-Coder-0.5B Q4_K_M from PyPI, fetched
//! by scripts/setup.sh) and with broken model paths.

use crate::harness::{models_dir, stderr, BoundedOutput, Doctalk};

#[test]
fn the_default_model_answers_and_reports_its_run_as_json() {
    let dt = Doctalk::new();
    let out = dt.json(&[
        "generate",
        "What is the capital of France? Answer in one word.",
        "--json",
        "--max-tokens",
        "16",
    ]);
    assert!(out["text"].as_str().unwrap().contains("Paris"), "{out}");
    assert_eq!(out["model"], "qwen2.5-coder-0.5b-instruct-q4_k_m");
    assert!(out["prompt_tokens"].as_u64().unwrap() > 5, "{out}");
    let generated = out["completion_tokens"].as_u64().unwrap();
    assert!((1..=16).contains(&generated), "{out}");
    assert_eq!(out["stop_reason"], "end_of_text", "{out}");
}

#[test]
fn streaming_output_stops_at_max_tokens_and_a_stop_string() {
    let dt = Doctalk::new();
    let out = dt.run(&[
        "generate",
        "Count from 1 to 50, separated by commas.",
        "--max-tokens",
        "200",
        "--stop",
        "7",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let numbers: Vec<&str> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(numbers, ["1", "2", "3", "4", "5", "6"], "{text}");
    assert!(
        !text.contains('7'),
        "the stop string must end the text before it: {text}"
    );
    assert!(stderr(&out).contains("stop_string"), "{}", stderr(&out));
}

#[test]
fn a_missing_or_unknown_model_is_a_clear_error() {
    let dt = Doctalk::new();
    let out = dt.run(&["generate", "hi", "--model", "no-such-model"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("no-such-model"), "{err}");
    assert!(
        err.contains("qwen2.5-coder-0.5b-instruct-q4_k_m"),
        "lists the known models: {err}"
    );

    // An empty models directory: the default model is named with every place searched.
    let empty = tempfile::tempdir().unwrap();
    let out = dt
        .command()
        .args(["generate", "hi"])
        .env("DOCTALK_MODELS_DIR", empty.path())
        .current_dir(empty.path())
        .bounded_output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("qwen2.5-coder-0.5b-instruct-q4_k_m"), "{err}");
    assert!(err.contains(&empty.path().display().to_string()), "{err}");
}

#[test]
fn a_truncated_gguf_names_the_file() {
    let dt = Doctalk::new();
    let src = models_dir().join("smollm2-135m-instruct-q4_1/SmolLM2-135M-Instruct.Q4_1.gguf");
    let bytes =
        std::fs::read(&src).unwrap_or_else(|e| panic!("{}: {e} (run scripts/setup.sh)", src.display()));
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.gguf");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = dt.run(&["generate", "hi", "--model", cut.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("cut.gguf") && err.contains("truncated"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
