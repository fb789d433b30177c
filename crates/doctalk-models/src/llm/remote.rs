//! A remote OpenAI-compatible chat endpoint (vLLM, Ollama, llama.cpp's server, another DocTalk's
//! `/v1`) behind the same [`Generator`] trait as the local models, so that a team can run one model
//! on one GPU machine and answer from many laptops.
//!
//! The endpoint owns the chat template and the tokenizer, so [`RemoteGenerator::chat`] sends the
//! messages as they are, and token counts are an estimate on the safe side (see [`estimate_tokens`]).

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

use super::generator::Generator;
use super::types::{ChatMessage, GenerationOutput, GenerationParams, StopReason};
use crate::error::{ModelError, Result};

/// Where the endpoint is and which of its models to use.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteConfig {
    /// The API base, e.g. `http://gpu-box:8000/v1` (the part before `/chat/completions`).
    pub base_url: String,
    /// The model name the endpoint knows.
    pub model: String,
    /// Sent as `Authorization: Bearer …` when set.
    pub api_key: Option<String>,
    /// The model's context window in tokens (the endpoint does not say; see
    /// [`DEFAULT_CONTEXT_WINDOW`]).
    pub context_window: usize,
    /// How long to wait for the connection and for each streamed piece.
    pub timeout: Duration,
}

impl RemoteConfig {
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        RemoteConfig {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            model: model.into(),
            api_key: None,
            context_window: DEFAULT_CONTEXT_WINDOW,
            timeout: Duration::from_secs(120),
        }
    }
}

/// The context window assumed for a remote model when nobody says otherwise: endpoints do not
/// report it, and 8192 tokens suits current small models.
pub const DEFAULT_CONTEXT_WINDOW: usize = 8192;

/// A [`Generator`] that streams from `POST {base_url}/chat/completions`.
pub struct RemoteGenerator {
    config: RemoteConfig,
    /// `remote:<model>@<base_url>`: what answers report as their model.
    label: String,
}

impl RemoteGenerator {
    /// Checks the configuration; the endpoint itself is first contacted by the first request.
    pub fn new(config: RemoteConfig) -> Result<Self> {
        let url = &config.base_url;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(ModelError::Remote {
                url: url.clone(),
                reason: "the endpoint must be an http:// or https:// URL, e.g. http://127.0.0.1:8000/v1"
                    .into(),
            });
        }
        if config.model.trim().is_empty() {
            return Err(ModelError::Remote {
                url: url.clone(),
                reason: "no model name given (the name the endpoint lists under /models)".into(),
            });
        }
        let label = format!("remote:{}@{}", config.model, config.base_url);
        Ok(RemoteGenerator { config, label })
    }

    /// The model names the endpoint lists under `GET {base_url}/models`, for picking a default.
    pub async fn list_models(base_url: &str, api_key: Option<&str>) -> Result<Vec<String>> {
        let base = base_url.trim_end_matches('/');
        let failed = |reason: String| ModelError::Remote {
            url: base.to_string(),
            reason,
        };
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| failed(format!("cannot build the HTTP client: {e}")))?;
        let mut request = client.get(format!("{base}/models"));
        if let Some(key) = api_key {
            request = request.bearer_auth(key);
        }
        let response = request
            .send()
            .await
            .map_err(|e| failed(format!("cannot connect: {e}")))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(failed(format!(
                "HTTP {status} listing models: {}",
                error_message(&text)
            )));
        }
        let value: Value =
            serde_json::from_str(&text).map_err(|e| failed(format!("malformed /models answer: {e}")))?;
        Ok(value
            .get("data")
            .and_then(Value::as_array)
            .map(|models| {
                models
                    .iter()
                    .filter_map(|m| m.get("id").and_then(Value::as_str).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }

    fn error(&self, reason: impl Into<String>) -> ModelError {
        ModelError::Remote {
            url: self.config.base_url.clone(),
            reason: reason.into(),
        }
    }

    fn request_body(&self, messages: &[ChatMessage], params: &GenerationParams) -> Value {
        let messages: Vec<Value> = messages
            .iter()
            .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
            .collect();
        let mut body = json!({
            "model": self.config.model,
            "messages": messages,
            "stream": true,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "seed": params.seed,
        });
        if let Some(p) = params.top_p {
            body["top_p"] = json!(p);
        }
        if !params.stop.is_empty() {
            // The OpenAI API takes at most four stop strings.
            body["stop"] = json!(params.stop.iter().take(4).collect::<Vec<_>>());
        }
        body
    }
}

/// Token estimate for text the endpoint will tokenize: one per Han/kana/hangul character and one per
/// three other bytes. Real BPE vocabularies average about four bytes per English token and one or
/// more tokens per Chinese character, so prompts fitted with this estimate stay inside the window.
pub fn estimate_tokens(text: &str) -> usize {
    let (mut wide, mut other_bytes) = (0usize, 0usize);
    for c in text.chars() {
        if matches!(c as u32, 0x2E80..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF) {
            wide += 1;
        } else {
            other_bytes += c.len_utf8();
        }
    }
    wide + other_bytes.div_ceil(3)
}

/// What the streaming task hands back to the calling thread.
#[derive(Debug)]
enum Piece {
    Text(String),
    Done {
        finish_reason: Option<String>,
        prompt_tokens: Option<usize>,
        completion_tokens: Option<usize>,
    },
    Failed(String),
}

impl Generator for RemoteGenerator {
    fn model_id(&self) -> &str {
        &self.label
    }

    fn context_window(&self) -> usize {
        self.config.context_window
    }

    fn count_tokens(&self, text: &str) -> Result<usize> {
        Ok(estimate_tokens(text))
    }

    /// A plain rendering, used only to count tokens: the endpoint applies its own template.
    fn render_chat(&self, messages: &[ChatMessage]) -> Result<String> {
        let mut out = String::new();
        for m in messages {
            out.push_str(m.role.as_str());
            out.push_str(": ");
            out.push_str(&m.content);
            out.push_str("\n\n");
        }
        out.push_str("assistant: ");
        Ok(out)
    }

    /// A raw prompt has no chat API equivalent; it is sent as one user message.
    fn generate(
        &self,
        prompt: &str,
        params: &GenerationParams,
        on_token: &mut dyn FnMut(&str) -> ControlFlow<()>,
    ) -> Result<GenerationOutput> {
        self.chat(&[ChatMessage::user(prompt)], params, on_token)
    }

    fn chat(
        &self,
        messages: &[ChatMessage],
        params: &GenerationParams,
        on_token: &mut dyn FnMut(&str) -> ControlFlow<()>,
    ) -> Result<GenerationOutput> {
        let body = self.request_body(messages, params);
        let (tx, rx) = mpsc::channel::<Piece>();
        let cancel = AtomicBool::new(false);
        let mut text = String::new();
        let mut cancelled = false;
        let mut finish: Option<Piece> = None;
        // The request runs on a thread with its own small runtime, so this works the same from a
        // plain thread, a `spawn_blocking` task or a test, and nothing outlives the call.
        std::thread::scope(|scope| {
            let cancel = &cancel;
            let config = &self.config;
            scope.spawn(move || stream_completion(config, body, &tx, cancel));
            for piece in rx.iter() {
                match piece {
                    Piece::Text(t) => {
                        text.push_str(&t);
                        if on_token(&t).is_break() {
                            cancelled = true;
                            cancel.store(true, Ordering::Relaxed);
                            break;
                        }
                    }
                    end => {
                        finish = Some(end);
                        break;
                    }
                }
            }
        });
        if cancelled {
            return Ok(GenerationOutput {
                reused_prompt_tokens: 0,
                prompt_tokens: 0,
                completion_tokens: 0,
                guessed_tokens: 0,
                text,
                stop_reason: StopReason::Cancelled,
            });
        }
        match finish {
            Some(Piece::Done {
                finish_reason,
                prompt_tokens,
                completion_tokens,
            }) => Ok(GenerationOutput {
                reused_prompt_tokens: 0,
                prompt_tokens: prompt_tokens.unwrap_or_else(|| {
                    estimate_tokens(&messages.iter().map(|m| m.content.as_str()).collect::<String>())
                }),
                completion_tokens: completion_tokens.unwrap_or_else(|| estimate_tokens(&text)),
                guessed_tokens: 0,
                stop_reason: match finish_reason.as_deref() {
                    Some("length") => StopReason::MaxTokens,
                    _ => StopReason::EndOfText,
                },
                text,
            }),
            Some(Piece::Failed(reason)) => Err(self.error(reason)),
            Some(Piece::Text(_)) | None => Err(self.error("the stream ended without a result")),
        }
    }
}

/// Posts the request and forwards the server-sent events as [`Piece`]s until `[DONE]`, an error, or
/// `cancel`.
fn stream_completion(config: &RemoteConfig, body: Value, tx: &mpsc::Sender<Piece>, cancel: &AtomicBool) {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            let _ = tx.send(Piece::Failed(format!("cannot start the HTTP runtime: {e}")));
            return;
        }
    };
    let outcome = runtime.block_on(async {
        let client = reqwest::Client::builder()
            .connect_timeout(config.timeout)
            .read_timeout(config.timeout)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let mut request = client
            .post(format!("{}/chat/completions", config.base_url))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(key) = &config.api_key {
            request = request.bearer_auth(key);
        }
        let mut response = request.send().await.map_err(|e| format!("cannot connect: {e}"))?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            return Err(format!("HTTP {status}: {}", error_message(&text)));
        }
        let mut events = SseLines::default();
        let mut ending = Ending::default();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("the stream broke off: {e}"))?
        {
            for data in events.push(&chunk) {
                if cancel.load(Ordering::Relaxed) {
                    return Ok(None);
                }
                match parse_event(&mut ending, &data)? {
                    Event::Text(t) => {
                        if tx.send(Piece::Text(t)).is_err() {
                            return Ok(None);
                        }
                    }
                    Event::Finished(done) => return Ok(Some(done)),
                    Event::Nothing => {}
                }
            }
        }
        Err("the stream ended without [DONE]".to_string())
    });
    let _ = match outcome {
        Ok(Some(done)) => tx.send(done),
        Ok(None) => Ok(()),
        Err(reason) => tx.send(Piece::Failed(reason)),
    };
}

#[derive(Debug)]
enum Event {
    Text(String),
    Finished(Piece),
    Nothing,
}

/// What the stream has said about its end so far. The finish reason and usage may come in the same
/// chunk as the last text or in later ones, so `[DONE]` is what ends the answer.
#[derive(Default)]
struct Ending {
    finish_reason: Option<String>,
    prompt_tokens: Option<usize>,
    completion_tokens: Option<usize>,
}

/// One `data:` payload of the stream.
fn parse_event(ending: &mut Ending, data: &str) -> std::result::Result<Event, String> {
    if data.trim() == "[DONE]" {
        let e = std::mem::take(ending);
        return Ok(Event::Finished(Piece::Done {
            finish_reason: e.finish_reason,
            prompt_tokens: e.prompt_tokens,
            completion_tokens: e.completion_tokens,
        }));
    }
    let value: Value =
        serde_json::from_str(data).map_err(|e| format!("malformed event in the stream ({e}): {data}"))?;
    if let Some(err) = value.get("error") {
        return Err(format!(
            "the endpoint reported an error: {}",
            error_message(&err.to_string())
        ));
    }
    let choice = value.pointer("/choices/0");
    if let Some(reason) = choice
        .and_then(|c| c.get("finish_reason"))
        .and_then(Value::as_str)
    {
        ending.finish_reason = Some(reason.to_string());
    }
    if let Some(usage) = value.get("usage").filter(|u| !u.is_null()) {
        let count = |k: &str| usage.get(k).and_then(Value::as_u64).map(|n| n as usize);
        ending.prompt_tokens = count("prompt_tokens");
        ending.completion_tokens = count("completion_tokens");
    }
    match choice
        .and_then(|c| c.pointer("/delta/content"))
        .and_then(Value::as_str)
    {
        Some(t) if !t.is_empty() => Ok(Event::Text(t.to_string())),
        _ => Ok(Event::Nothing),
    }
}

/// The `message` of an OpenAI-style error body, or the body itself (shortened).
fn error_message(body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let message = parsed.as_ref().and_then(|v| {
        v.pointer("/error/message")
            .or_else(|| v.get("message"))
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let text = message.unwrap_or_else(|| body.trim().to_string());
    match text.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// Splits a byte stream into the `data:` payloads of server-sent events, across chunk boundaries.
#[derive(Default)]
struct SseLines {
    pending: Vec<u8>,
}

impl SseLines {
    fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\r', '\n']);
            if let Some(data) = line.strip_prefix("data:") {
                out.push(data.trim_start().to_string());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_payloads_survive_chunk_boundaries() {
        let mut lines = SseLines::default();
        assert!(lines.push(b"data: {\"a\"").is_empty());
        assert_eq!(
            lines.push(b": 1}\r\n\r\n: keep-alive\n\ndata:[DONE]\n"),
            vec!["{\"a\": 1}", "[DONE]"]
        );
    }

    #[test]
    fn the_ending_collects_finish_reason_and_usage_until_done() {
        let mut ending = Ending::default();
        let text = r#"{"choices":[{"delta":{"content":"12"},"finish_reason":null}]}"#;
        assert!(matches!(parse_event(&mut ending, text), Ok(Event::Text(t)) if t == "12"));
        let stop = r#"{"choices":[{"delta":{},"finish_reason":"length"}],"usage":{"prompt_tokens":7,"completion_tokens":3}}"#;
        assert!(matches!(parse_event(&mut ending, stop), Ok(Event::Nothing)));
        match parse_event(&mut ending, "[DONE]") {
            Ok(Event::Finished(Piece::Done {
                finish_reason,
                prompt_tokens,
                completion_tokens,
            })) => {
                assert_eq!(
                    (finish_reason.as_deref(), prompt_tokens, completion_tokens),
                    (Some("length"), Some(7), Some(3))
                );
            }
            _ => panic!("[DONE] must finish the stream"),
        }
        assert!(parse_event(&mut ending, r#"{"error":{"message":"boom"}}"#)
            .unwrap_err()
            .contains("boom"));
        assert!(parse_event(&mut ending, "{not json").is_err());
    }

    #[test]
    fn estimates_count_chinese_characters_and_english_bytes() {
        assert_eq!(estimate_tokens("出差餐补"), 4);
        assert_eq!(estimate_tokens("abcdef"), 2);
        assert!(estimate_tokens("The VPN session lasts at most 12 hours.") >= 10);
    }

    #[test]
    fn error_bodies_are_reduced_to_their_message() {
        assert_eq!(
            error_message(r#"{"error": {"message": "unknown model x", "code": "model_not_found"}}"#),
            "unknown model x"
        );
        assert_eq!(error_message("Bad Gateway"), "Bad Gateway");
    }

    #[test]
    fn bad_urls_and_empty_models_are_refused() {
        assert!(RemoteGenerator::new(RemoteConfig::new("ftp://x", "m")).is_err());
        assert!(RemoteGenerator::new(RemoteConfig::new("http://x/v1", " ")).is_err());
        let g = RemoteGenerator::new(RemoteConfig::new("http://127.0.0.1:9/v1/", "m")).unwrap();
        assert_eq!(g.model_id(), "remote:m@http://127.0.0.1:9/v1");
    }

    #[test]
    fn an_unreachable_endpoint_is_a_clear_error() {
        // Port 9 (discard) is closed on loopback here; the error names the endpoint.
        let g = RemoteGenerator::new(RemoteConfig::new("http://127.0.0.1:9/v1", "m")).unwrap();
        let err = g
            .chat(
                &[ChatMessage::user("hi")],
                &GenerationParams::greedy(4),
                &mut |_| ControlFlow::Continue(()),
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("http://127.0.0.1:9/v1") && err.contains("cannot connect"),
            "{err}"
        );
    }
}
