//! Search, answers and conversations.

use doctalk_app::service::{self, AskRequest};
use doctalk_app::Caller;
use doctalk_core::{Conversation, Explanation, ScopeRequest, SearchHit};
use serde_json::Value;
use tauri::ipc::Channel;
use tauri::State;

use super::{emit_to, finish};
use crate::error::CommandResult;
use crate::Desktop;

#[tauri::command]
pub async fn search(
    desktop: State<'_, Desktop>,
    kb: Option<String>,
    q: String,
    k: Option<usize>,
    scope: Option<ScopeRequest>,
) -> CommandResult<Vec<SearchHit>> {
    let scope = scope.unwrap_or_default();
    Ok(service::search(desktop.engine().await?, kb.as_deref(), &q, k.unwrap_or(5), &scope).await?)
}

/// The retrieval test: the hits with every number behind their order, and what an answer would
/// offer the model.
#[tauri::command]
pub async fn search_explain(
    desktop: State<'_, Desktop>,
    kb: Option<String>,
    q: String,
    k: Option<usize>,
) -> CommandResult<Explanation> {
    let scope = ScopeRequest::default();
    Ok(service::explain(desktop.engine().await?, kb.as_deref(), &q, k.unwrap_or(8), &scope).await?)
}

/// A streamed answer: `query`, `sources`, `token`… then `done` with the answer. `ask_stop` with the
/// same request id stops it within a token.
#[tauri::command]
pub async fn ask_stream(
    desktop: State<'_, Desktop>,
    kb: Option<String>,
    request: AskRequest,
    request_id: String,
    on_event: Channel<Value>,
) -> CommandResult<service::AskReply> {
    let engine = desktop.engine().await?;
    let cancel = desktop.start_ask(&request_id);
    let result = service::ask(
        engine,
        &Caller::Local,
        kb.as_deref(),
        request,
        emit_to(&on_event),
        cancel,
    )
    .await;
    desktop.finish_ask(&request_id);
    finish(&on_event, result.map_err(Into::into))
}

/// "Check answers": `progress` events, then `done` with the report. `ask_stop` with the same request
/// id stops it (the report then covers the questions answered so far).
#[tauri::command]
pub async fn check_answers(
    desktop: State<'_, Desktop>,
    kb: Option<String>,
    request: service::CheckRequest,
    request_id: String,
    on_event: Channel<Value>,
) -> CommandResult<Value> {
    let engine = desktop.engine().await?;
    let cancel = desktop.start_ask(&request_id);
    let result = service::check_answers(engine, kb.as_deref(), request, emit_to(&on_event), cancel).await;
    desktop.finish_ask(&request_id);
    finish(
        &on_event,
        result.map(|report| serde_json::json!(report)).map_err(Into::into),
    )
}

#[tauri::command]
pub fn ask_stop(desktop: State<'_, Desktop>, request_id: String) -> bool {
    desktop.stop_ask(&request_id)
}

#[tauri::command]
pub async fn conversations_list(
    desktop: State<'_, Desktop>,
    kb: Option<String>,
) -> CommandResult<Vec<service::ConversationListed>> {
    Ok(service::conversations(desktop.engine().await?, &Caller::Local, kb.as_deref()).await?)
}

#[tauri::command]
pub async fn conversation_get(
    desktop: State<'_, Desktop>,
    kb: Option<String>,
    id: String,
) -> CommandResult<Conversation> {
    Ok(service::conversation(desktop.engine().await?, &Caller::Local, kb.as_deref(), &id).await?)
}

#[tauri::command]
pub async fn conversation_delete(
    desktop: State<'_, Desktop>,
    kb: Option<String>,
    id: String,
) -> CommandResult<service::ConversationDeleted> {
    Ok(service::delete_conversation(desktop.engine().await?, &Caller::Local, kb.as_deref(), &id).await?)
}
