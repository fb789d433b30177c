//! Reading the JSON files of a sentence-transformers model directory.

use std::path::Path;

use candle_transformers::models::bert::Config as BertConfig;
use serde::Deserialize;

use crate::error::{ModelError, Result};

/// `config.json`, checked for what would otherwise fail deep inside a forward pass.
pub(crate) fn read_bert_config(path: &Path) -> Result<BertConfig> {
    let config: BertConfig = read_json(path)?;
    let bad = |reason: String| ModelError::BadConfig {
        path: path.to_path_buf(),
        reason,
    };
    if config.hidden_size == 0 || config.num_attention_heads == 0 {
        return Err(bad("hidden_size and num_attention_heads must be positive".into()));
    }
    if !config.hidden_size.is_multiple_of(config.num_attention_heads) {
        return Err(bad(format!(
            "hidden_size {} is not a multiple of num_attention_heads {}",
            config.hidden_size, config.num_attention_heads
        )));
    }
    if config.max_position_embeddings < 2 {
        return Err(bad(format!(
            "max_position_embeddings {} leaves no room for [CLS] and [SEP]",
            config.max_position_embeddings
        )));
    }
    Ok(config)
}

/// The part of `sentence_bert_config.json` we use.
#[derive(Debug, Deserialize)]
struct SentenceBertConfig {
    max_seq_length: Option<usize>,
}

/// `max_seq_length` from `sentence_bert_config.json`, or `None` when the file is absent.
pub(crate) fn read_sentence_bert_max_len(dir: &Path) -> Result<Option<usize>> {
    let path = dir.join("sentence_bert_config.json");
    if !path.is_file() {
        return Ok(None);
    }
    let cfg: SentenceBertConfig = read_json(&path)?;
    Ok(cfg.max_seq_length)
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| ModelError::BadConfig {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_and_inconsistent_configs_are_bad_config() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("config.json");
        std::fs::write(&path, "{ not json").unwrap();
        assert!(matches!(
            read_bert_config(&path),
            Err(ModelError::BadConfig { .. })
        ));
        let cfg = r#"{"vocab_size": 10, "hidden_size": 10, "num_hidden_layers": 1,
            "num_attention_heads": 3, "intermediate_size": 8, "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1, "max_position_embeddings": 16, "type_vocab_size": 2,
            "initializer_range": 0.02, "layer_norm_eps": 1e-12, "pad_token_id": 0}"#;
        std::fs::write(&path, cfg).unwrap();
        match read_bert_config(&path) {
            Err(ModelError::BadConfig { reason, .. }) => assert!(reason.contains("multiple")),
            other => panic!("expected BadConfig, got {other:?}"),
        }
    }

    #[test]
    fn sentence_bert_config_is_optional() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(read_sentence_bert_max_len(tmp.path()).unwrap(), None);
        std::fs::write(
            tmp.path().join("sentence_bert_config.json"),
            r#"{"max_seq_length": 256, "do_lower_case": false}"#,
        )
        .unwrap();
        assert_eq!(read_sentence_bert_max_len(tmp.path()).unwrap(), Some(256));
    }
}
