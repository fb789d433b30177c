//! `/api/*`: what the UI calls over HTTP, as thin wrappers over [`doctalk_app::service`]. JSON in and
//! out; long work (ingest, answers, downloads) as server-sent events. Every endpoint takes
//! `?kb=NAME` to pick a knowledge base (default: the one the server was started with).

mod users;

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::http::Method;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;

use doctalk_app::service::{self, AskRequest, Emit, SettingsPatch};
use doctalk_app::{AppError, Caller};
use futures::Stream;

use crate::access::{AuditNote, KbOf, Need, RouteTable};
use crate::json::{JsonBody, JsonResponse};
use crate::{AppState, ServerError};

/// Every `/api` route with what it needs (see `crate::access`).
pub(crate) fn routes() -> RouteTable {
    use KbOf::{Path as KbPath, Query as Kb, Unscoped};
    use Need::{Admin, Edit, Read};
    let (get, post, put, delete) = (Method::GET, Method::POST, Method::PUT, Method::DELETE);
    RouteTable::new()
        .add(get.clone(), "/api/health", Read, Kb, health)
        .add(get.clone(), "/api/me", Read, Unscoped, me)
        .add(get.clone(), "/api/kbs", Read, Unscoped, kbs)
        .add(post.clone(), "/api/kbs", Admin, Unscoped, create_kb)
        .add(post.clone(), "/api/kbs/import", Admin, Unscoped, import_kb)
        .add(get.clone(), "/api/kbs/{name}/export", Edit, KbPath, export_kb)
        .add(get.clone(), "/api/documents", Read, Kb, documents)
        .add(delete.clone(), "/api/documents/{id}", Edit, Kb, remove_document)
        .add(get.clone(), "/api/documents/{id}/file", Read, Kb, document_file)
        .add(post.clone(), "/api/documents/{id}/reindex", Edit, Kb, reindex)
        .add(post.clone(), "/api/documents/{id}/summary", Read, Kb, summarize)
        .add(post.clone(), "/api/ingest", Edit, Kb, ingest)
        // Watched folders name paths on the server's own disk: adding or dropping one is the
        // server's owner's business. Listing them shows no more than the documents' paths do
        // (and the library shows them to everyone).
        .add(get.clone(), "/api/folders", Read, Kb, folders)
        .add(post.clone(), "/api/folders", Admin, Kb, add_folder)
        .add(delete.clone(), "/api/folders", Admin, Kb, remove_folder)
        .add(post.clone(), "/api/folders/sync", Edit, Kb, sync_folders)
        .add(post.clone(), "/api/sample", Edit, Kb, sample)
        .add(get.clone(), "/api/search", Read, Kb, search)
        .add(post.clone(), "/api/ask", Read, Kb, ask)
        .add(post.clone(), "/api/ask/stream", Read, Kb, ask_stream)
        .add(post.clone(), "/api/check-answers", Read, Kb, check_answers)
        // Fine-tuning writes into the adapters every knowledge base shares and holds every core:
        // the server's owner's business.
        .add(post.clone(), "/api/tune/estimate", Admin, Kb, tune_estimate)
        .add(post.clone(), "/api/tune", Admin, Kb, tune)
        // Conversations are each user's own (checked by the handlers), so readers may delete theirs.
        .add(get.clone(), "/api/conversations", Read, Kb, conversations)
        .add(get.clone(), "/api/conversations/{id}", Read, Kb, conversation)
        .add(
            delete.clone(),
            "/api/conversations/{id}",
            Read,
            Kb,
            delete_conversation,
        )
        .add(get.clone(), "/api/settings", Read, Unscoped, settings)
        .add(put, "/api/settings", Admin, Unscoped, update_settings)
        .add(
            post.clone(),
            "/api/models/{id}/download",
            Admin,
            Unscoped,
            download_model,
        )
        .add(get.clone(), "/api/setup", Read, Unscoped, setup)
        .add(post.clone(), "/api/speak", Read, Unscoped, speak)
        .add(post.clone(), "/api/transcribe", Read, Unscoped, transcribe)
        .add(post.clone(), "/api/voices", Admin, Unscoped, add_voice)
        .add(
            delete.clone(),
            "/api/voices/{name}",
            Admin,
            Unscoped,
            remove_voice,
        )
        .add(get, "/api/users", Admin, Unscoped, users::list)
        .add(post.clone(), "/api/users", Admin, Unscoped, users::add)
        .add(delete, "/api/users/{name}", Admin, Unscoped, users::remove)
        .add(
            post,
            "/api/users/{name}/token",
            Admin,
            Unscoped,
            users::renew_token,
        )
}

/// `?kb=NAME`: which knowledge base a request is about.
#[derive(Deserialize, Default)]
struct KbParam {
    kb: Option<String>,
}

impl KbParam {
    fn name(&self) -> Option<&str> {
        self.kb.as_deref().filter(|k| !k.is_empty())
    }
}

type Reply = Result<JsonResponse, ServerError>;

async fn health(State(s): State<AppState>, Query(kb): Query<KbParam>) -> Reply {
    JsonResponse::of(&service::health(&s.engine, kb.name()).await?)
}

async fn kbs(State(s): State<AppState>, Extension(caller): Extension<Caller>) -> Reply {
    JsonResponse::of(&service::kbs(&s.engine, &caller).await?)
}

/// Who the caller is and what they may do (the UI hides what they may not).
async fn me(State(s): State<AppState>, Extension(caller): Extension<Caller>) -> Reply {
    JsonResponse::of(&service::whoami(&s.config.auth, &caller))
}

#[derive(Deserialize)]
struct NewKb {
    name: String,
}

async fn create_kb(
    State(s): State<AppState>,
    JsonBody(body): JsonBody<NewKb>,
) -> Result<impl IntoResponse, ServerError> {
    let reply = service::create_kb(&s.engine, &body.name).await?;
    Ok((Extension(AuditNote(body.name)), JsonResponse::of(&reply)?))
}

#[derive(Deserialize)]
struct ExportQuery {
    /// Include the conversations (`?conversations=true`).
    #[serde(default)]
    conversations: bool,
}

async fn export_kb(
    State(s): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ServerError> {
    // Conversations are private: only an admin (or the one person of a server without users)
    // takes everyone's along.
    if q.conversations && !caller.is_admin() {
        return Err(ServerError::Forbidden(
            "only an admin may export a knowledge base with its conversations".into(),
        ));
    }
    let (bytes, file_name) = service::export_kb(&s.engine, Some(&name), q.conversations).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/gzip".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize)]
struct ImportQuery {
    name: String,
}

async fn import_kb(State(s): State<AppState>, Query(q): Query<ImportQuery>, bytes: Bytes) -> Reply {
    JsonResponse::of(&service::import_kb(&s.engine, &q.name, &bytes).await?)
}

async fn documents(State(s): State<AppState>, Query(kb): Query<KbParam>) -> Reply {
    Ok(JsonResponse(json!(
        service::documents(&s.engine, kb.name()).await?
    )))
}

#[derive(Deserialize)]
struct FoldersQuery {
    kb: Option<String>,
    #[serde(default)]
    files: bool,
}

async fn folders(State(s): State<AppState>, Query(q): Query<FoldersQuery>) -> Reply {
    let kb = q.kb.as_deref().filter(|k| !k.is_empty());
    Ok(JsonResponse(json!(
        service::folders(&s.engine, kb, q.files).await?
    )))
}

async fn add_folder(
    State(s): State<AppState>,
    Query(kb): Query<KbParam>,
    JsonBody(body): JsonBody<service::AddFolderRequest>,
) -> Reply {
    JsonResponse::of(&service::add_folder(&s.engine, kb.name(), body).await?)
}

#[derive(Deserialize)]
struct RemoveFolderQuery {
    kb: Option<String>,
    path: std::path::PathBuf,
    #[serde(default)]
    keep_documents: bool,
}

async fn remove_folder(State(s): State<AppState>, Query(q): Query<RemoveFolderQuery>) -> Reply {
    let kb = q.kb.as_deref().filter(|k| !k.is_empty());
    JsonResponse::of(&service::remove_folder(&s.engine, kb, &q.path, q.keep_documents).await?)
}

async fn sync_folders(State(s): State<AppState>, Query(kb): Query<KbParam>) -> Reply {
    Ok(JsonResponse(json!(
        service::sync_folders(&s.engine, kb.name()).await?
    )))
}

async fn remove_document(
    State(s): State<AppState>,
    Query(kb): Query<KbParam>,
    Path(id): Path<String>,
) -> Reply {
    Ok(JsonResponse(json!(
        service::remove_document(&s.engine, kb.name(), &id).await?
    )))
}

async fn document_file(
    State(s): State<AppState>,
    Query(kb): Query<KbParam>,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    let (bytes, mime) = service::document_file(&s.engine, kb.name(), &id).await?;
    Ok(file_response(mime, bytes))
}

#[derive(Deserialize)]
struct ReindexQuery {
    #[serde(flatten)]
    kb: KbParam,
    /// `auto` (default), `always` (read every page from its picture) or `never`, for this re-index:
    /// a scan whose text layer reads as words but is not the page's text can be read again by OCR.
    ocr: Option<String>,
}

async fn reindex(
    State(s): State<AppState>,
    Query(q): Query<ReindexQuery>,
    Path(id): Path<String>,
) -> Result<EventStream, ServerError> {
    let ocr = service::ocr_mode(q.ocr.as_deref())?;
    Ok(event_stream("reindex_failed", move |emit| async move {
        service::reindex(&s.engine, q.kb.name(), &id, ocr, emit).await
    }))
}

#[derive(Deserialize)]
struct UploadQuery {
    /// The file's name (its extension decides the parser).
    name: String,
    kb: Option<String>,
    /// `auto` (default), `always` (read every page from its picture) or `never`.
    ocr: Option<String>,
}

/// The header that carries a password-protected PDF's password with its upload: URI-encoded
/// UTF-8 (header values are ASCII), and a header rather than the query so that it stays out of
/// URLs and logs.
pub(crate) const PASSWORD_HEADER: &str = "x-doctalk-password";

/// One uploaded file (the request body, `?name=` its file name) → kept under the knowledge base's
/// uploads directory → ingested with progress. The UI sends several files as several requests, so
/// each file's progress and errors stay its own.
async fn ingest(
    State(s): State<AppState>,
    Query(upload): Query<UploadQuery>,
    headers: axum::http::HeaderMap,
    bytes: Bytes,
) -> Result<EventStream, ServerError> {
    let kb = upload.kb.filter(|k| !k.is_empty());
    let passwords = upload_password(&headers)?.into_iter().collect();
    let ocr = service::ocr_mode(upload.ocr.as_deref())?;
    let path = service::save_upload(&s.engine, kb.as_deref(), &upload.name, &bytes).await?;
    Ok(event_stream("ingest_failed", move |emit| async move {
        service::ingest_paths(&s.engine, kb.as_deref(), vec![path], passwords, ocr, emit).await
    }))
}

fn upload_password(
    headers: &axum::http::HeaderMap,
) -> Result<Option<doctalk_core::PdfPassword>, ServerError> {
    let Some(value) = headers.get(PASSWORD_HEADER) else {
        return Ok(None);
    };
    let bad = || {
        ServerError::App(AppError::BadRequest(format!(
            "{PASSWORD_HEADER} must be the password URI-encoded (encodeURIComponent)"
        )))
    };
    let text = value.to_str().map_err(|_| bad())?;
    let password = doctalk_app::percent_decode(text).ok_or_else(bad)?;
    Ok((!password.is_empty()).then(|| doctalk_core::PdfPassword::new(password)))
}

async fn sample(State(s): State<AppState>, Query(kb): Query<KbParam>) -> EventStream {
    event_stream("ingest_failed", move |emit| async move {
        service::sample(&s.engine, kb.name(), emit).await
    })
}

#[derive(Deserialize)]
struct SearchQuery {
    q: String,
    #[serde(default = "default_k")]
    k: usize,
    kb: Option<String>,
    /// Document ids (or unique id prefixes), comma-separated: search only these.
    #[serde(default)]
    docs: Option<String>,
    /// Search only the documents inside this folder.
    #[serde(default)]
    folder: Option<String>,
    /// The retrieval test: an object with the hits, the fusion's numbers and what an answer would
    /// offer the model, instead of the list of hits.
    #[serde(default)]
    explain: bool,
}

fn default_k() -> usize {
    5
}

async fn search(State(s): State<AppState>, Query(q): Query<SearchQuery>) -> Reply {
    let kb = q.kb.as_deref().filter(|k| !k.is_empty());
    let scope = doctalk_core::ScopeRequest {
        docs: q
            .docs
            .iter()
            .flat_map(|d| d.split(','))
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(String::from)
            .collect(),
        folders: q.folder.iter().filter(|f| !f.is_empty()).cloned().collect(),
    };
    if q.explain {
        return Ok(JsonResponse(json!(
            service::explain(&s.engine, kb, &q.q, q.k, &scope).await?
        )));
    }
    Ok(JsonResponse(json!(
        service::search(&s.engine, kb, &q.q, q.k, &scope).await?
    )))
}

async fn ask(
    State(s): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(kb): Query<KbParam>,
    JsonBody(body): JsonBody<AskRequest>,
) -> Reply {
    let cancel = Arc::new(AtomicBool::new(false));
    let answer = service::ask(&s.engine, &caller, kb.name(), body, Arc::new(|_, _| {}), cancel).await?;
    JsonResponse::of(&answer)
}

/// Events: `query`, `sources`, `token`…, then `done` (the answer) or `error`. A client that hangs
/// up stops generation: the next event finds nobody listening.
async fn ask_stream(
    State(s): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(kb): Query<KbParam>,
    JsonBody(body): JsonBody<AskRequest>,
) -> EventStream {
    cancellable_stream("answer_failed", move |emit, cancel| async move {
        service::ask(&s.engine, &caller, kb.name(), body, emit, cancel).await
    })
}

#[derive(Deserialize, Default)]
struct SummaryQuery {
    kb: Option<String>,
    #[serde(default)]
    length: doctalk_core::summary::SummaryLength,
}

/// A summary of one document: `progress` events, then `done` with the summary. Hanging up stops it.
async fn summarize(
    State(s): State<AppState>,
    Query(q): Query<SummaryQuery>,
    Path(id): Path<String>,
) -> EventStream {
    cancellable_stream("summary_failed", move |emit, cancel| async move {
        let kb = q.kb.as_deref().filter(|k| !k.is_empty());
        service::summarize(&s.engine, kb, &id, q.length, emit, cancel).await
    })
}

/// "Check answers": `progress` events, then `done` with the report. Hanging up stops the run.
async fn check_answers(
    State(s): State<AppState>,
    Query(kb): Query<KbParam>,
    JsonBody(body): JsonBody<service::CheckRequest>,
) -> EventStream {
    cancellable_stream("check_failed", move |emit, cancel| async move {
        service::check_answers(&s.engine, kb.name(), body, emit, cancel).await
    })
}

/// "Train on this knowledge base", before starting: the run's plan and its measured estimate.
async fn tune_estimate(
    State(s): State<AppState>,
    Query(kb): Query<KbParam>,
    JsonBody(body): JsonBody<service::TuneRequest>,
) -> Reply {
    Ok(JsonResponse(json!(
        service::tune_estimate(&s.engine, kb.name(), body).await?
    )))
}

/// "Train on this knowledge base": `progress` events, then `done` with the report. Hanging up
/// stops the run after its current step, with a checkpoint saved.
async fn tune(
    State(s): State<AppState>,
    Query(kb): Query<KbParam>,
    JsonBody(body): JsonBody<service::TuneRequest>,
) -> EventStream {
    cancellable_stream("tune_failed", move |emit, cancel| async move {
        service::tune_kb(&s.engine, kb.name(), body, emit, cancel).await
    })
}

async fn conversations(
    State(s): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(kb): Query<KbParam>,
) -> Reply {
    JsonResponse::of(&service::conversations(&s.engine, &caller, kb.name()).await?)
}

async fn conversation(
    State(s): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(kb): Query<KbParam>,
    Path(id): Path<String>,
) -> Reply {
    Ok(JsonResponse(json!(
        service::conversation(&s.engine, &caller, kb.name(), &id).await?
    )))
}

async fn delete_conversation(
    State(s): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(kb): Query<KbParam>,
    Path(id): Path<String>,
) -> Reply {
    JsonResponse::of(&service::delete_conversation(&s.engine, &caller, kb.name(), &id).await?)
}

async fn settings(State(s): State<AppState>) -> Reply {
    JsonResponse::of(&service::settings(&s.engine).await?)
}

async fn update_settings(
    State(s): State<AppState>,
    JsonBody(patch): JsonBody<SettingsPatch>,
) -> Result<impl IntoResponse, ServerError> {
    // The audit log says which settings changed (their names, not their values).
    let keys = patch.names().join(",");
    let reply = service::update_settings(&s.engine, patch).await?;
    Ok((Extension(AuditNote(keys)), JsonResponse::of(&reply)?))
}

/// A running server has its encoder; this tells the UI so (the desktop app may start without).
async fn setup(State(s): State<AppState>) -> Reply {
    JsonResponse::of(&service::setup_status(&s.engine.models))
}

async fn download_model(State(s): State<AppState>, Path(id): Path<String>) -> EventStream {
    event_stream("download_failed", move |emit| async move {
        service::download_model(&s.engine.models, &id, emit).await
    })
}

#[derive(Deserialize)]
struct SpeakRequest {
    text: String,
    voice: Option<String>,
}

/// `{text, voice?}` → `audio/wav`.
async fn speak(
    State(s): State<AppState>,
    JsonBody(req): JsonBody<SpeakRequest>,
) -> Result<Response, ServerError> {
    let wav = service::speak(&s.engine, &req.text, req.voice.as_deref()).await?;
    Ok(file_response("audio/wav", wav))
}

#[derive(Deserialize)]
struct TranscribeQuery {
    language: Option<String>,
}

/// `POST /api/transcribe[?language=zh]` with a WAV recording as the body.
async fn transcribe(State(s): State<AppState>, Query(q): Query<TranscribeQuery>, bytes: Bytes) -> Reply {
    let language = q.language.as_deref().filter(|l| !l.is_empty());
    JsonResponse::of(&service::transcribe(&s.engine, &bytes, language).await?)
}

#[derive(Deserialize)]
struct NewVoice {
    name: String,
    #[serde(default)]
    consent: String,
    base: Option<String>,
}

/// `POST /api/voices?name=N&consent=C[&base=V]` with the recording as the body.
async fn add_voice(State(s): State<AppState>, Query(voice): Query<NewVoice>, bytes: Bytes) -> EventStream {
    event_stream("voice_failed", move |emit| async move {
        let base = voice.base.as_deref().filter(|b| !b.is_empty());
        service::add_voice(&s.engine, &voice.name, &voice.consent, base, &bytes, emit).await
    })
}

async fn remove_voice(State(s): State<AppState>, Path(name): Path<String>) -> Reply {
    JsonResponse::of(&service::remove_voice(&s.engine, &name).await?)
}

/// Bytes of one type, never cached (documents and speech are the user's own).
fn file_response(mime: &'static str, bytes: Vec<u8>) -> Response {
    let headers = [(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, "no-store")];
    (headers, Body::from(bytes)).into_response()
}

/// A `text/event-stream` response.
type EventStream = Response;

/// Runs `job` in the background: what it emits becomes server-sent events, its result the final
/// `done` event (or `error` {code, message}).
fn event_stream<F, Fut, T>(code: &'static str, job: F) -> EventStream
where
    F: FnOnce(Emit) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<T, AppError>> + Send + 'static,
    T: serde::Serialize,
{
    let (tx, rx) = mpsc::unbounded_channel::<Event>();
    let events = tx.clone();
    let emit: Emit = Arc::new(move |name, value| {
        let _ = events.send(sse(name, &value));
    });
    tokio::spawn(async move {
        let last = match job(emit).await {
            Ok(done) => sse("done", &done),
            Err(e) => error_event(code, &e),
        };
        let _ = tx.send(last);
    });
    sse_response(rx)
}

/// Like [`event_stream`], but the job is told (through its flag) when the client hangs up, so a
/// long answer or check stops instead of running on for nobody.
fn cancellable_stream<F, Fut, T>(code: &'static str, job: F) -> EventStream
where
    F: FnOnce(Emit, Arc<AtomicBool>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<T, AppError>> + Send + 'static,
    T: serde::Serialize,
{
    let (tx, rx) = mpsc::unbounded_channel::<Event>();
    let cancel = Arc::new(AtomicBool::new(false));
    let hung_up = cancel.clone();
    let events = tx.clone();
    let emit: Emit = Arc::new(move |name, value| {
        if events.send(sse(name, &value)).is_err() {
            hung_up.store(true, Ordering::Relaxed);
        }
    });
    tokio::spawn(async move {
        let last = match job(emit, cancel).await {
            Ok(done) => sse("done", &done),
            Err(e) => error_event(code, &e),
        };
        let _ = tx.send(last);
    });
    sse_response(rx)
}

fn sse_response(rx: mpsc::UnboundedReceiver<Event>) -> EventStream {
    Sse::new(channel_stream(rx))
        .keep_alive(KeepAlive::default())
        .into_response()
}

fn error_event(code: &str, e: &AppError) -> Event {
    sse("error", &json!({"code": code, "message": e.to_string()}))
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
