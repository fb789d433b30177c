//! The small chat models DocTalk knows how to fetch and run without a GPU.

use std::path::PathBuf;

use crate::{CatalogError, SearchRoots};

/// What we know about a local chat model before opening its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LlmSpec {
    /// Directory name under a models root (also the manifest name, `models/<name>.json`).
    pub name: &'static str,
    /// The GGUF file inside that directory.
    pub file: &'static str,
    pub license: &'static str,
    /// Languages the model answers in reliably.
    pub languages: &'static [&'static str],
}

/// Qwen2.5-Coder-0.5B-Instruct, Q4_K_M: answers in Chinese and English; ~470 MB.
pub const QWEN25_CODER_05B_INSTRUCT: LlmSpec = LlmSpec {
    name: "qwen2.5-coder-0.5b-instruct-q4_k_m",
    file: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    license: "Apache-2.0",
    languages: &["zh", "en"],
};

/// Qwen2.5-Coder-1.5B-Instruct, Q4_K_M: the same family three times the size (28 layers, 1536 wide);
/// ~1.1 GB, about a third of the 0.5B's speed on the CPU.
pub const QWEN25_CODER_15B_INSTRUCT: LlmSpec = LlmSpec {
    name: "qwen2.5-coder-1.5b-instruct-q4_k_m",
    file: "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    license: "Apache-2.0",
    languages: &["zh", "en"],
};

/// SmolLM2-135M-Instruct, Q4_1: English only, ~94 MB; the fastest fallback.
pub const SMOLLM2_135M_INSTRUCT: LlmSpec = LlmSpec {
    name: "smollm2-135m-instruct-q4_1",
    file: "SmolLM2-135M-Instruct.Q4_1.gguf",
    license: "Apache-2.0",
    languages: &["en"],
};

/// What DocTalk uses when the user has chosen nothing: the smallest model here that speaks both languages.
pub const DEFAULT_LLM: LlmSpec = QWEN25_CODER_05B_INSTRUCT;

/// Every model `scripts/fetch-llm.sh` knows.
pub const KNOWN_LLMS: &[LlmSpec] = &[
    QWEN25_CODER_05B_INSTRUCT,
    QWEN25_CODER_15B_INSTRUCT,
    SMOLLM2_135M_INSTRUCT,
];

/// Finds `spec`'s GGUF file under the usual roots (explicit directory, `$DOCTALK_MODELS_DIR`, the data
/// directory, a checkout's `.models/`). The HuggingFace cache is not searched: these files come from
/// `scripts/fetch-llm.sh`, not from the hub.
pub fn find_llm(spec: &LlmSpec, roots: &SearchRoots) -> Result<PathBuf, CatalogError> {
    let searched = roots.local_dirs(spec.name);
    for dir in &searched {
        let file = dir.join(spec.file);
        if file.is_file() {
            return Ok(file);
        }
    }
    Err(CatalogError::NotFound {
        id: spec.name.to_string(),
        searched,
        required: vec![spec.file.to_string()],
    })
}

/// What a user typed as `--model`: a path to a `.gguf` file or a model directory, or the name of a
/// known model (see [`KNOWN_LLMS`]); `None` is [`DEFAULT_LLM`].
pub fn locate_llm(model: Option<&str>, roots: &SearchRoots) -> Result<PathBuf, CatalogError> {
    let Some(model) = model else {
        return find_llm(&DEFAULT_LLM, roots);
    };
    if let Some(spec) = KNOWN_LLMS.iter().find(|s| s.name == model) {
        return find_llm(spec, roots);
    }
    let path = PathBuf::from(model);
    if path.exists() {
        return Ok(path);
    }
    let known: Vec<&str> = KNOWN_LLMS.iter().map(|s| s.name).collect();
    Err(CatalogError::NotFound {
        id: model.to_string(),
        searched: vec![path],
        required: vec![format!(
            "a .gguf file or a GLM safetensors directory (or use a known model: {})",
            known.join(", ")
        )],
    })
}
