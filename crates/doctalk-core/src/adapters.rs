//! The user's LoRA adapters: kept in `<data dir>/adapters/` (a PEFT directory `NAME/`, or a
//! llama.cpp adapter `NAME.gguf`), chosen by name or by path, and listed beside the models.
//!
//! `doctalk … --adapter NAME|PATH`, the settings' `model.adapter` and the app's settings screen
//! all resolve through [`resolve`], so a name means the same thing at every door.

use std::path::{Path, PathBuf};

use doctalk_models::llm::Adapter;
use serde::Serialize;

use crate::{CoreError, Result};

/// Where adapters are kept.
pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("adapters")
}

/// One adapter found in [`dir`].
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct AdapterEntry {
    pub name: String,
    pub path: PathBuf,
    /// "peft" or "gguf"; `None` when it cannot be read.
    pub format: Option<String>,
    /// How many linear layers it changes.
    pub layers: usize,
    /// The model it was made for, when it says.
    pub base_model: Option<String>,
    /// Why it cannot be used, when it cannot.
    pub error: Option<String>,
}

/// The adapter `choice` names: an existing path as given, else a name in [`dir`] (`NAME/` or
/// `NAME.gguf`).
pub fn resolve(data_dir: &Path, choice: &str) -> Result<PathBuf> {
    resolve_in(Some(data_dir), choice)
}

/// [`resolve`] where there may be no data directory (then only paths are accepted).
pub(crate) fn resolve_in(data_dir: Option<&Path>, choice: &str) -> Result<PathBuf> {
    let given = PathBuf::from(choice);
    if given.exists() {
        return Ok(given);
    }
    let Some(data_dir) = data_dir else {
        return Err(CoreError::NoSuchAdapter {
            choice: choice.to_string(),
            dir: PathBuf::from("adapters"),
        });
    };
    let kept = dir(data_dir);
    let simple_name = !choice.is_empty() && !choice.contains(['/', '\\']) && choice != "." && choice != "..";
    if simple_name {
        for candidate in [kept.join(choice), kept.join(format!("{choice}.gguf"))] {
            if candidate.exists() {
                return Ok(candidate);
            }
        }
    }
    Err(CoreError::NoSuchAdapter {
        choice: choice.to_string(),
        dir: kept,
    })
}

/// Every adapter in [`dir`], by name; unreadable ones are listed with the reason.
pub fn list(data_dir: &Path) -> Vec<AdapterEntry> {
    let Ok(entries) = std::fs::read_dir(dir(data_dir)) else {
        return Vec::new();
    };
    let mut found: Vec<AdapterEntry> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.join("adapter_config.json").is_file()
                || (p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("gguf")))
        })
        .map(|path| {
            let name = doctalk_models::llm::adapter_name(&path);
            // Headers only: the settings screen lists these while it polls.
            match Adapter::describe(&path) {
                Ok(a) => AdapterEntry {
                    name,
                    format: Some(a.format.to_string()),
                    layers: a.layers,
                    base_model: a.base_model,
                    error: None,
                    path,
                },
                Err(e) => AdapterEntry {
                    name,
                    path,
                    format: None,
                    layers: 0,
                    base_model: None,
                    error: Some(e.to_string()),
                },
            }
        })
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEFT: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../doctalk-models/tests/fixtures/lora/qwen2/peft"
    );
    const GGUF: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../doctalk-models/tests/fixtures/lora/qwen2/adapter.gguf"
    );

    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }

    #[test]
    fn names_find_kept_adapters_and_paths_are_taken_as_given() {
        let data = tempfile::tempdir().unwrap();
        let kept = dir(data.path());
        copy_dir(Path::new(PEFT), &kept.join("faq-tuned"));
        std::fs::copy(GGUF, kept.join("small.gguf")).unwrap();
        std::fs::create_dir_all(kept.join("broken")).unwrap();
        std::fs::write(kept.join("broken/adapter_config.json"), "{").unwrap();

        assert_eq!(resolve(data.path(), "faq-tuned").unwrap(), kept.join("faq-tuned"));
        assert_eq!(resolve(data.path(), "small").unwrap(), kept.join("small.gguf"));
        assert_eq!(resolve(data.path(), PEFT).unwrap(), PathBuf::from(PEFT));
        let missing = resolve(data.path(), "nope").unwrap_err().to_string();
        assert!(
            missing.contains("nope") && missing.contains("adapters"),
            "{missing}"
        );
        assert!(resolve(data.path(), "../adapters").is_err());

        let listed = list(data.path());
        let names: Vec<&str> = listed.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["broken", "faq-tuned", "small"]);
        assert_eq!(listed[1].format.as_deref(), Some("peft"));
        assert_eq!(listed[1].layers, 14);
        assert_eq!(listed[2].format.as_deref(), Some("gguf"));
        assert_eq!(listed[2].base_model.as_deref(), Some("qwen2"));
        assert!(listed[0]
            .error
            .as_deref()
            .unwrap()
            .contains("adapter_config.json"));
    }
}
