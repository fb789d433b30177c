//! `doctalk models …` against the real model directories that scripts/setup.sh fills, and the hub
//! variables read from the environment (the download itself is tested in doctalk-models against a
//! loopback hub).

use crate::harness::{stderr, BoundedOutput, Doctalk};

#[test]
fn list_shows_every_known_model_and_where_it_is() {
    let dt = Doctalk::new();
    let list = dt.json(&["models", "list", "--json"]);
    let list = list.as_array().unwrap();
    let e5 = list
        .iter()
        .find(|m| m["id"] == "intfloat/multilingual-e5-small")
        .expect("e5 is known");
    assert_eq!(e5["licence"], "MIT");
    assert!(e5["installed"].as_str().is_some(), "setup installs e5: {e5}");
    assert!(list.iter().any(|m| m["kind"] == "chat-llm"));
}

#[test]
fn unknown_models_and_offline_pulls_are_clear_errors() {
    let dt = Doctalk::new();
    let out = dt.run(&["models", "info", "gpt-17"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("known models: multilingual-e5-small"),
        "{}",
        stderr(&out)
    );

    let hf_home = tempfile::tempdir().unwrap();
    let out = dt
        .command()
        .args(["models", "pull", "multilingual-e5-small"])
        .env("HF_HOME", hf_home.path())
        .env("HF_HUB_OFFLINE", "1")
        .bounded_output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("offline") && err.contains("model.safetensors"),
        "{err}"
    );
    assert!(err.contains(&hf_home.path().display().to_string()), "{err}");

    // HF_ENDPOINT is where the download goes: a closed loopback port fails fast, naming it.
    let out = dt
        .command()
        .args(["models", "pull", "multilingual-e5-small"])
        .env("HF_HOME", hf_home.path())
        .env("HF_ENDPOINT", "http://127.0.0.1:9")
        .bounded_output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("http://127.0.0.1:9/intfloat/multilingual-e5-small/resolve/"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn rm_never_deletes_a_directory_the_user_provided() {
    let dt = Doctalk::new();
    let hf_home = tempfile::tempdir().unwrap();
    let out = dt
        .command()
        .args(["models", "rm", "all-MiniLM-L6-v2", "--json"])
        .env("HF_HOME", hf_home.path())
        .bounded_output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["removed"].as_array().unwrap().len(), 0, "{report}");
    let kept = report["kept"][0].as_str().unwrap();
    assert!(
        std::path::Path::new(kept).join("model.safetensors").is_file(),
        "{report}"
    );
}
