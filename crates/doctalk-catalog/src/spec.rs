//! Static facts about the encoders this crate knows: identity, size, licence, files, prefixes.

/// The files every BERT-style encoder directory must hold.
pub const BERT_REQUIRED_FILES: &[&str] = &["config.json", "tokenizer.json", "model.safetensors"];

/// What DocTalk knows about one sentence encoder before any file is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSpec {
    /// The HuggingFace repository id, e.g. `sentence-transformers/all-MiniLM-L6-v2`.
    pub id: &'static str,
    /// The directory name used under local model roots (the id's last segment).
    pub short_name: &'static str,
    /// Length of the output vectors.
    pub dimension: usize,
    /// SPDX licence of the weights, shown to the user.
    pub licence: &'static str,
    /// Files a directory must hold to be loadable.
    pub required_files: &'static [&'static str],
    /// Longest input in tokens (special tokens included) the model was trained for; longer input is truncated.
    /// A `sentence_bert_config.json` in the model directory takes precedence.
    pub max_tokens: usize,
    /// Prepended to every search query (e5 models need `"query: "`).
    pub query_prefix: &'static str,
    /// Prepended to every indexed passage (e5 models need `"passage: "`).
    pub passage_prefix: &'static str,
}

/// `sentence-transformers/all-MiniLM-L6-v2`: small, fast, English only.
pub const ALL_MINILM_L6_V2: ModelSpec = ModelSpec {
    id: "sentence-transformers/all-MiniLM-L6-v2",
    short_name: "all-MiniLM-L6-v2",
    dimension: 384,
    licence: "Apache-2.0",
    required_files: BERT_REQUIRED_FILES,
    // From the model's sentence_bert_config.json; its position table allows 512 but it was trained on 256.
    max_tokens: 256,
    query_prefix: "",
    passage_prefix: "",
};

/// Every encoder this build knows by name.
pub const KNOWN_ENCODERS: &[ModelSpec] = &[ALL_MINILM_L6_V2];

/// Looks a known encoder up by full id or short name (case-insensitive, as the hub treats ids).
pub fn known_encoder(id: &str) -> Option<&'static ModelSpec> {
    KNOWN_ENCODERS
        .iter()
        .find(|s| s.id.eq_ignore_ascii_case(id) || s.short_name.eq_ignore_ascii_case(id))
}

/// The directory name for a model id: the part after the last `/`.
pub fn short_name(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_encoder_matches_full_id_and_short_name() {
        assert_eq!(
            known_encoder("sentence-transformers/all-MiniLM-L6-v2"),
            Some(&ALL_MINILM_L6_V2)
        );
        assert_eq!(known_encoder("all-minilm-l6-v2"), Some(&ALL_MINILM_L6_V2));
        assert_eq!(known_encoder("intfloat/multilingual-e5-small"), None);
    }

    #[test]
    fn short_name_is_last_segment() {
        assert_eq!(short_name("a/b"), "b");
        assert_eq!(short_name("plain"), "plain");
    }
}
