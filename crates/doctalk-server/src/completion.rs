//! Plain chat completions of the language model alone (no retrieval): what lets another DocTalk, or
//! any OpenAI client, use this server's model as its generator. Requested by the model's own id,
//! which `/v1/models` lists beside the knowledge base.

use std::ops::ControlFlow;
use std::sync::Arc;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use doctalk_app::AppError;
use doctalk_models::llm::{ChatMessage, GenerationOutput, GenerationParams, Generator, StopReason};
use doctalk_models::ModelError;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::api::channel_stream;
use crate::openai_wire::{now_nanos, now_secs, text_of, ChatRequest};
use crate::{AppState, ServerError};

pub(crate) async fn plain(
    s: AppState,
    generator: Arc<dyn Generator>,
    body: ChatRequest,
) -> Result<Response, ServerError> {
    let messages = messages(&body)?;
    let params = params(&body)?;
    let Some(admitted) = s.engine.llm_gate.try_enter() else {
        return Err(ServerError::App(AppError::Busy(s.engine.llm_gate.busy_reason())));
    };
    let id = format!("chatcmpl-{}", now_nanos());
    let model = generator.model_id().to_string();

    if !body.stream {
        let out = tokio::task::spawn_blocking(move || {
            let _admitted = admitted;
            generator.chat(&messages, &params, &mut |_| ControlFlow::Continue(()))
        })
        .await
        .map_err(|e| ServerError::App(AppError::Io(format!("generation task: {e}"))))?
        .map_err(model_error)?;
        return Ok(crate::json::JsonResponse(json!({
            "id": id, "object": "chat.completion", "created": now_secs(), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": out.text},
                         "finish_reason": finish_reason(&out)}],
            "usage": usage(&out),
        }))
        .into_response());
    }

    let (tx, rx) = mpsc::unbounded_channel::<Event>();
    let chunk = move |delta: Value, finish: Option<&str>| {
        json!({
            "id": id, "object": "chat.completion.chunk", "created": now_secs(), "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        })
    };
    let _ =
        tx.send(Event::default().data(chunk(json!({"role": "assistant", "content": ""}), None).to_string()));
    tokio::task::spawn_blocking(move || {
        let _admitted = admitted;
        // A client that hangs up stops the generation at the next token.
        let result = generator.chat(&messages, &params, &mut |piece| {
            if piece.is_empty() {
                return ControlFlow::Continue(());
            }
            let event = Event::default().data(chunk(json!({"content": piece}), None).to_string());
            match tx.send(event) {
                Ok(()) => ControlFlow::Continue(()),
                Err(_) => ControlFlow::Break(()),
            }
        });
        let last = match result {
            Ok(out) => {
                let mut last = chunk(json!({}), Some(finish_reason(&out)));
                last["usage"] = usage(&out);
                last
            }
            Err(e) => json!({"error": {"code": "generation_failed", "message": e.to_string()}}),
        };
        let _ = tx.send(Event::default().data(last.to_string()));
        let _ = tx.send(Event::default().data("[DONE]"));
    });
    Ok(Sse::new(channel_stream(rx))
        .keep_alive(KeepAlive::default())
        .into_response())
}

fn messages(body: &ChatRequest) -> Result<Vec<ChatMessage>, ServerError> {
    let messages: Vec<ChatMessage> = body
        .messages
        .iter()
        .map(|m| {
            let text = text_of(&m.content);
            match m.role.as_str() {
                "system" | "developer" => Ok(ChatMessage::system(text)),
                "user" => Ok(ChatMessage::user(text)),
                "assistant" => Ok(ChatMessage::assistant(text)),
                other => Err(ServerError::App(AppError::BadRequest(format!(
                    "message role {other:?} is not supported (system, user, assistant)"
                )))),
            }
        })
        .collect::<Result<_, _>>()?;
    if !messages.iter().any(|m| m.role == doctalk_models::llm::Role::User) {
        return Err(ServerError::App(AppError::BadRequest(
            "messages has no user message".into(),
        )));
    }
    Ok(messages)
}

fn params(body: &ChatRequest) -> Result<GenerationParams, ServerError> {
    let mut params = GenerationParams::greedy(
        body.max_completion_tokens
            .or(body.max_tokens)
            .unwrap_or(512)
            .clamp(1, 4096),
    );
    if let Some(t) = body.temperature {
        if !(0.0..=2.0).contains(&t) {
            return Err(ServerError::App(AppError::BadRequest(
                "temperature must be between 0 and 2".into(),
            )));
        }
        params.temperature = t;
    }
    if let Some(p) = body.top_p {
        if !(p > 0.0 && p <= 1.0) {
            return Err(ServerError::App(AppError::BadRequest(
                "top_p must be in (0, 1]".into(),
            )));
        }
        params.top_p = (p < 1.0).then_some(p);
    }
    if let Some(seed) = body.seed {
        params.seed = seed;
    }
    params.stop = match &body.stop {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) if items.iter().all(Value::is_string) && items.len() <= 4 => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Some(_) => {
            return Err(ServerError::App(AppError::BadRequest(
                "stop must be a string or up to 4 strings".into(),
            )))
        }
    };
    Ok(params)
}

fn finish_reason(out: &GenerationOutput) -> &'static str {
    match out.stop_reason {
        StopReason::MaxTokens | StopReason::ContextFull => "length",
        _ => "stop",
    }
}

fn usage(out: &GenerationOutput) -> Value {
    json!({
        "prompt_tokens": out.prompt_tokens,
        "completion_tokens": out.completion_tokens,
        "total_tokens": out.prompt_tokens + out.completion_tokens,
    })
}

/// A prompt over the context window is the client's to fix (400); anything else is ours (500).
fn model_error(e: ModelError) -> ServerError {
    match e {
        ModelError::PromptTooLong { .. } | ModelError::EmptyPrompt | ModelError::InvalidParams(_) => {
            ServerError::App(AppError::BadRequest(e.to_string()))
        }
        other => ServerError::App(AppError::Io(format!("generation failed: {other}"))),
    }
}
