//! Tokenizers rebuilt from GGUF metadata agree with transformers' own GGUF tokenizer converter
//! (reference ids from models/gen/llm_tokenizer_ref.py) on English, Chinese, digits, code,
//! whitespace runs, special tokens and emoji.

use std::collections::BTreeMap;

use doctalk_models::llm::{find_llm, load_local, KNOWN_LLMS};
use doctalk_models::{DeviceChoice, SearchRoots};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    model: String,
    text: String,
    ids: Vec<u32>,
}

#[test]
fn gguf_tokenizers_match_the_reference_ids() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/llm/tokenizer_ids.json"
    );
    let cases: Vec<Case> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut by_model: BTreeMap<&str, Vec<&Case>> = BTreeMap::new();
    for case in &cases {
        by_model.entry(case.model.as_str()).or_default().push(case);
    }
    assert!(by_model.len() >= 2, "fixture covers {} models", by_model.len());
    let mut failures = Vec::new();
    for (name, cases) in by_model {
        let spec = KNOWN_LLMS.iter().find(|s| s.name == name).expect("known model");
        let file = find_llm(spec, &SearchRoots::from_env())
            .unwrap_or_else(|e| panic!("{e}\n(run scripts/fetch-llm.sh --all)"));
        let model = load_local(&file, DeviceChoice::Cpu).unwrap();
        for case in cases {
            let got = model.encode(&case.text).unwrap();
            if got != case.ids {
                failures.push(format!(
                    "{name} {:?}:\n  want {:?}\n  got  {:?}",
                    case.text, case.ids, got
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
