//! `/v1/*`: enough of the OpenAI API for existing clients (the official SDKs, chat front-ends) to talk
//! to the knowledge base. A chat completion is a grounded answer to the last user message, with the
//! earlier turns as history; its sources ride along in an extra top-level `sources` field (and in the
//! last chunk of a stream).

use std::sync::Arc;

use axum::extract::State;
use axum::http::Method;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use doctalk_app::AppError;

use crate::json::{JsonBody, JsonResponse};
use doctalk_core::{Answer, AnswerEvent, AnswerRequest, Turn};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::access::{KbOf, Need, RouteTable};
use crate::api::channel_stream;
use crate::openai_wire::{now_nanos, now_secs, text_of, ChatRequest};
use crate::{AppState, ServerError};

/// The `/v1` routes: readers of the server's own knowledge base (see `crate::access`).
pub(crate) fn routes() -> RouteTable {
    RouteTable::new()
        .add(Method::GET, "/v1/models", Need::Read, KbOf::Server, models)
        .add(
            Method::POST,
            "/v1/chat/completions",
            Need::Read,
            KbOf::Server,
            chat_completions,
        )
        .add(
            Method::POST,
            "/v1/embeddings",
            Need::Read,
            KbOf::Server,
            embeddings,
        )
}

/// The grounded knowledge-base model, and the language model alone when one is loaded.
async fn models(State(s): State<AppState>) -> JsonResponse {
    let mut data =
        vec![json!({"id": s.config.model_name, "object": "model", "created": 0, "owned_by": "doctalk"})];
    if let Some(g) = s.engine.generator() {
        data.push(json!({"id": g.model_id(), "object": "model", "created": 0, "owned_by": "doctalk"}));
    }
    JsonResponse(json!({"object": "list", "data": data}))
}

async fn chat_completions(
    State(s): State<AppState>,
    JsonBody(body): JsonBody<ChatRequest>,
) -> Result<Response, ServerError> {
    let requested = body.model.clone().unwrap_or_default();
    if requested.is_empty() || requested == s.config.model_name {
        return grounded_completion(s, body).await;
    }
    let generator = s.engine.generator();
    match generator {
        Some(g) if g.model_id() == requested => crate::completion::plain(s.clone(), g, body).await,
        _ => {
            let mut names = format!("{:?} (answers from the knowledge base)", s.config.model_name);
            if let Some(g) = s.engine.generator() {
                names.push_str(&format!(" or {:?} (the language model alone)", g.model_id()));
            }
            Err(ServerError::UnknownModel(requested, names))
        }
    }
}

/// A grounded answer to the last user message, with the earlier turns as history.
async fn grounded_completion(s: AppState, body: ChatRequest) -> Result<Response, ServerError> {
    let Some(last_user) = body.messages.iter().rposition(|m| m.role == "user") else {
        return Err(ServerError::App(AppError::BadRequest(
            "messages has no user message".into(),
        )));
    };
    let question = text_of(&body.messages[last_user].content);
    let mut history = Vec::new();
    let mut pending: Option<String> = None;
    for m in &body.messages[..last_user] {
        match m.role.as_str() {
            "user" => pending = Some(text_of(&m.content)),
            "assistant" => {
                if let Some(q) = pending.take() {
                    history.push(Turn {
                        query: q.clone(),
                        question: q,
                        answer: text_of(&m.content),
                        sources: Vec::new(),
                        grounded: true,
                        mode: None,
                        at: 0,
                    });
                }
            }
            _ => {}
        }
    }
    let mut req = AnswerRequest::new(question);
    req.script = Some(doctalk_app::service::chinese_script(&s.engine));
    req.history = history;
    if let Some(scope) = &body.scope {
        req.scope = s.engine.library(None).await?.kb.resolve_scope(scope).await?;
    }
    let admitted = doctalk_app::service::admit(&s.engine, &mut req);
    if let Some(n) = body.max_completion_tokens.or(body.max_tokens) {
        req.max_answer_tokens = n.clamp(1, 4096);
    }
    let model = s.config.model_name.clone();
    let id = format!("chatcmpl-{}", now_nanos());
    if !body.stream {
        let lib = s.engine.library(None).await?;
        let answer = lib.kb.answer(req, Arc::new(|_| {})).await?;
        drop(admitted);
        return Ok(JsonResponse(completion(&id, &model, &answer)).into_response());
    }

    let (tx, rx) = mpsc::unbounded_channel::<Event>();
    let chunk = {
        let (id, model) = (id.clone(), model.clone());
        move |delta: Value, finish: Option<&str>| {
            json!({
                "id": id, "object": "chat.completion.chunk", "created": now_secs(), "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            })
        }
    };
    let _ =
        tx.send(Event::default().data(chunk(json!({"role": "assistant", "content": ""}), None).to_string()));
    tokio::spawn(async move {
        let events = tx.clone();
        let token_chunk = chunk.clone();
        let sink = Arc::new(move |e: AnswerEvent| {
            if let AnswerEvent::Token(t) = e {
                let _ =
                    events.send(Event::default().data(token_chunk(json!({"content": t}), None).to_string()));
            }
        });
        let answer = match s.engine.library(None).await {
            Ok(lib) => lib.kb.answer(req, sink).await.map_err(AppError::from),
            Err(e) => Err(e),
        };
        drop(admitted);
        match answer {
            Ok(answer) => {
                let mut last = chunk(json!({}), Some("stop"));
                last["sources"] = json!(answer.sources);
                last["doctalk"] = extras(&answer);
                let _ = tx.send(Event::default().data(last.to_string()));
            }
            Err(e) => {
                let error = json!({"error": {"code": "answer_failed", "message": e.to_string()}});
                let _ = tx.send(Event::default().data(error.to_string()));
            }
        }
        let _ = tx.send(Event::default().data("[DONE]"));
    });
    Ok(Sse::new(channel_stream(rx))
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// The non-streaming response. The answer text is final (citations checked), so it may differ
/// slightly from what a stream of the same question showed token by token.
fn completion(id: &str, model: &str, a: &Answer) -> Value {
    json!({
        "id": id,
        "object": "chat.completion",
        "created": now_secs(),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": a.answer}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "sources": a.sources,
        "doctalk": extras(a),
    })
}

fn extras(a: &Answer) -> Value {
    json!({"grounded": a.grounded, "query": a.query, "mode": a.mode, "cited": a.cited, "evidence": a.evidence})
}

#[derive(Deserialize)]
struct EmbeddingsRequest {
    input: Value,
    #[serde(default)]
    model: Option<String>,
}

/// Embeddings of the knowledge base's encoder (as passages: what documents are indexed with).
async fn embeddings(
    State(s): State<AppState>,
    JsonBody(body): JsonBody<EmbeddingsRequest>,
) -> Result<JsonResponse, ServerError> {
    let inputs: Vec<String> = match &body.input {
        Value::String(t) => vec![t.clone()],
        Value::Array(items) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => {
            return Err(ServerError::App(AppError::BadRequest(
                "input must be a string or an array of strings".into(),
            )))
        }
    };
    if inputs.is_empty() || inputs.len() > 2048 {
        return Err(ServerError::App(AppError::BadRequest(
            "input must hold 1 to 2048 strings".into(),
        )));
    }
    let embedder = s.engine.workspace.embedder().clone();
    let vectors = tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        embedder.embed_passages(&refs)
    })
    .await
    .map_err(|e| ServerError::App(AppError::Io(e.to_string())))?
    .map_err(|e| ServerError::App(AppError::Core(e.into())))?;
    let data: Vec<Value> = vectors
        .into_iter()
        .enumerate()
        .map(|(i, v)| json!({"object": "embedding", "index": i, "embedding": v}))
        .collect();
    Ok(JsonResponse(json!({
        "object": "list",
        "data": data,
        "model": body.model.unwrap_or_else(|| s.engine.workspace.embedder().model_id().to_string()),
        "usage": {"prompt_tokens": 0, "total_tokens": 0},
    })))
}
