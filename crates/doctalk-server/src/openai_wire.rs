//! What an OpenAI-style client sends to `/v1/chat/completions`, and the clock its replies are
//! stamped with: shared by the grounded answers (`openai`) and the model's plain completions
//! (`completion`).

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
pub(crate) struct ChatMessage {
    pub role: String,
    /// A string, or the newer list of `{type: "text", text}` parts.
    pub content: Value,
}

#[derive(Deserialize)]
pub(crate) struct ChatRequest {
    #[serde(default)]
    pub model: Option<String>,
    pub messages: Vec<ChatMessage>,
    #[serde(default)]
    pub stream: bool,
    #[serde(default)]
    pub max_tokens: Option<usize>,
    #[serde(default)]
    pub max_completion_tokens: Option<usize>,
    // Sampling, used by plain completions of the language model (grounded answers decode greedily).
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default)]
    pub seed: Option<u64>,
    /// A string or a list of strings.
    #[serde(default)]
    pub stop: Option<Value>,
    /// DocTalk's extension: answer from these documents or folders only
    /// (`{"docs": ["ID or path"], "folders": ["DIR"]}`).
    #[serde(default)]
    pub scope: Option<doctalk_core::ScopeRequest>,
}

pub(crate) fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(|t| t.as_str()))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub(crate) fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}
