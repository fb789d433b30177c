//! `/api/*`: what the UI calls. JSON in and out; long work (ingest, answers) as server-sent events.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{delete, get, post};
use axum::Router;

use crate::json::{JsonBody, JsonResponse};
use doctalk_core::{Answer, AnswerEvent, AnswerRequest, Conversation};
use futures::Stream;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::{AppState, ServerError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/health", get(health))
        .route("/api/documents", get(documents))
        .route("/api/documents/{id}", delete(remove_document))
        .route("/api/ingest", post(ingest))
        .route("/api/search", get(search))
        .route("/api/ask", post(ask))
        .route("/api/ask/stream", post(ask_stream))
        .route("/api/conversations", get(conversations))
        .route(
            "/api/conversations/{id}",
            get(conversation).delete(delete_conversation),
        )
}

async fn health(State(s): State<AppState>) -> Result<JsonResponse, ServerError> {
    Ok(JsonResponse(json!({
        "status": "ok",
        "documents": s.kb.documents().await?.len(),
        "encoder": s.kb.embedding_model_id(),
        "model": s.generator.as_ref().map(|g| g.model_id().to_string()),
    })))
}

async fn documents(State(s): State<AppState>) -> Result<JsonResponse, ServerError> {
    Ok(JsonResponse(json!(s.kb.documents().await?)))
}

async fn remove_document(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<JsonResponse, ServerError> {
    // Only ids: a path here could name a file outside the data directory.
    if id.contains(['/', '\\']) {
        return Err(ServerError::BadRequest("documents are removed by id".into()));
    }
    Ok(JsonResponse(json!(s.kb.remove(&id).await?)))
}

#[derive(Deserialize)]
struct SearchQuery {
    q: String,
    #[serde(default = "default_k")]
    k: usize,
}

fn default_k() -> usize {
    5
}

async fn search(
    State(s): State<AppState>,
    Query(q): Query<SearchQuery>,
) -> Result<JsonResponse, ServerError> {
    Ok(JsonResponse(json!(s.kb.search(&q.q, q.k.clamp(1, 50)).await?)))
}

/// Body of `/api/ask` and `/api/ask/stream`.
#[derive(Deserialize)]
pub(crate) struct AskBody {
    question: String,
    /// A conversation id, or "new" to start one.
    #[serde(default)]
    conversation: Option<String>,
    #[serde(default)]
    no_llm: bool,
    #[serde(default)]
    top_k: Option<usize>,
}

async fn ask(
    State(s): State<AppState>,
    JsonBody(body): JsonBody<AskBody>,
) -> Result<JsonResponse, ServerError> {
    let (answer, conversation) = run_answer(&s, body, Arc::new(|_| {})).await?;
    Ok(JsonResponse(answer_json(&answer, conversation.as_ref())))
}

async fn ask_stream(
    State(s): State<AppState>,
    JsonBody(body): JsonBody<AskBody>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let (tx, rx) = mpsc::unbounded_channel::<Event>();
    let events = tx.clone();
    tokio::spawn(async move {
        let sink = Arc::new(move |e: AnswerEvent| {
            let event = match e {
                AnswerEvent::Query(q) => sse("query", &json!({"query": q})),
                AnswerEvent::Sources(s) => sse("sources", &s),
                AnswerEvent::Token(t) => sse("token", &json!({"text": t})),
            };
            let _ = events.send(event);
        });
        let done = match run_answer(&s, body, sink).await {
            Ok((answer, conversation)) => sse("done", &answer_json(&answer, conversation.as_ref())),
            Err(e) => sse(
                "error",
                &json!({"code": "answer_failed", "message": e.to_string()}),
            ),
        };
        let _ = tx.send(done);
    });
    Sse::new(channel_stream(rx)).keep_alive(KeepAlive::default())
}

/// Answers `body` (continuing or starting its conversation) and saves the turn.
pub(crate) async fn run_answer(
    s: &AppState,
    body: AskBody,
    sink: doctalk_core::answer::EventSink,
) -> Result<(Answer, Option<Conversation>), ServerError> {
    let mut conversation = match body.conversation.as_deref() {
        Some("new") => Some(s.conversations.create()),
        Some(id) => Some(s.conversations.load(id)?),
        None => None,
    };
    let mut req = AnswerRequest::new(body.question.clone());
    req.history = conversation.as_ref().map(|c| c.turns.clone()).unwrap_or_default();
    let _admitted = if body.no_llm { None } else { admit(s, &mut req) };
    if let Some(k) = body.top_k {
        req.top_k = k.clamp(1, 20);
    }
    let answer = s.kb.answer(req, sink).await?;
    if let Some(c) = conversation.as_mut() {
        c.push(&body.question, &answer);
        s.conversations.save(c)?;
    }
    Ok((answer, conversation))
}

/// Gives `req` the language model when the queue has room; otherwise leaves it extractive and says
/// why. The returned place must be held until the answer is finished.
pub(crate) fn admit(s: &AppState, req: &mut AnswerRequest) -> Option<crate::gate::Admitted> {
    let generator = s.generator.clone()?;
    match s.llm_gate.try_enter() {
        Some(place) => {
            req.generator = Some(generator);
            Some(place)
        }
        None => {
            req.without_llm_reason = Some(s.llm_gate.busy_reason());
            None
        }
    }
}

fn answer_json(a: &Answer, conversation: Option<&Conversation>) -> Value {
    let mut v = json!(a);
    v["conversation"] = json!(conversation.map(|c| c.id.clone()));
    v
}

async fn conversations(State(s): State<AppState>) -> Result<JsonResponse, ServerError> {
    let list: Vec<Value> = s
        .conversations
        .list()?
        .into_iter()
        .map(|c| json!({"id": c.id, "title": c.title, "updated_at": c.updated_at, "turns": c.turns.len()}))
        .collect();
    Ok(JsonResponse(json!(list)))
}

async fn conversation(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<JsonResponse, ServerError> {
    Ok(JsonResponse(json!(s.conversations.load(&id)?)))
}

async fn delete_conversation(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<JsonResponse, ServerError> {
    s.conversations.delete(&id)?;
    Ok(JsonResponse(json!({"deleted": id})))
}

#[derive(Deserialize)]
struct UploadQuery {
    /// The file's name (its extension decides the parser).
    name: String,
}

/// One uploaded file (the request body, `?name=` its file name) → saved under the uploads directory
/// → ingested, with progress as server-sent events (`progress`: the CLI's `file_started`, `stage`,
/// `file_finished` objects; then `done` with the reports). The UI sends several files as several
/// requests, so each file's progress and errors stay its own.
async fn ingest(
    State(s): State<AppState>,
    Query(upload): Query<UploadQuery>,
    bytes: Bytes,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ServerError> {
    let dir = s.config.uploads_dir.clone();
    std::fs::create_dir_all(&dir).map_err(|e| ServerError::Io(format!("{}: {e}", dir.display())))?;
    let name = sanitize(&upload.name);
    if name.is_empty() {
        return Err(ServerError::BadRequest(
            "the upload needs a file name (?name=…)".into(),
        ));
    }
    let path = unique_path(&dir, &name, &bytes);
    std::fs::write(&path, &bytes).map_err(|e| ServerError::Io(format!("{}: {e}", path.display())))?;
    let saved = vec![path];
    let (tx, rx) = mpsc::unbounded_channel::<Event>();
    tokio::spawn(async move {
        let events = tx.clone();
        let result =
            s.kb.ingest(&saved, &move |e| {
                let _ = events.send(sse("progress", &e));
            })
            .await;
        let done = match result {
            Ok(reports) => sse("done", &json!({"files": reports})),
            Err(e) => sse(
                "error",
                &json!({"code": "ingest_failed", "message": e.to_string()}),
            ),
        };
        let _ = tx.send(done);
    });
    Ok(Sse::new(channel_stream(rx)).keep_alive(KeepAlive::default()))
}

/// The last path component, without control characters; never `..` or empty.
fn sanitize(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base.chars().filter(|c| !c.is_control()).collect();
    let clean = clean.trim().trim_start_matches('.').to_string();
    clean.chars().take(200).collect()
}

/// `dir/name`, or `dir/name (2).ext`… when another upload with different content holds that name.
fn unique_path(dir: &std::path::Path, name: &str, bytes: &[u8]) -> PathBuf {
    let first = dir.join(name);
    let same = |p: &PathBuf| std::fs::read(p).map(|b| b == bytes).unwrap_or(false);
    if !first.exists() || same(&first) {
        return first;
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) => (s.to_string(), format!(".{e}")),
        None => (name.to_string(), String::new()),
    };
    (2..)
        .map(|i| dir.join(format!("{stem} ({i}){ext}")))
        .find(|p| !p.exists() || same(p))
        .expect("an unused name exists")
}

/// A named server-sent event with a JSON payload.
fn sse(name: &str, value: &impl serde::Serialize) -> Event {
    Event::default()
        .event(name)
        .data(serde_json::to_string(value).unwrap_or_else(|_| "null".into()))
}

pub(crate) fn channel_stream<T: Send + 'static>(
    rx: mpsc::UnboundedReceiver<T>,
) -> impl Stream<Item = Result<T, Infallible>> {
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (Ok(e), rx)) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_names_cannot_leave_the_uploads_directory() {
        assert_eq!(sanitize("../../etc/passwd"), "passwd");
        assert_eq!(sanitize("C:\\Users\\a\\手册.pdf"), "手册.pdf");
        assert_eq!(sanitize(".."), "");
        assert_eq!(sanitize("..hidden.pdf"), "hidden.pdf");
    }
}
