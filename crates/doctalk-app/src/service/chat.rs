//! Search, answers and conversations.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use doctalk_core::{
    Answer, AnswerEvent, AnswerRequest, Conversation, Explanation, Library, ScopeRequest, SearchHit,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use ts_rs::TS;

use super::Emit;
use crate::{AppError, Caller, Engine};

pub async fn search(
    s: &Engine,
    kb: Option<&str>,
    q: &str,
    k: usize,
    scope: &ScopeRequest,
) -> Result<Vec<SearchHit>, AppError> {
    let k = k.clamp(1, 50);
    if let Some(list) = kb.filter(|k| k.contains(',')) {
        // Several knowledge bases: each searched whole, the hits merged (`doctalk_core::across`).
        if !scope.is_empty() {
            return Err(AppError::BadRequest(
                "documents and folders belong to one knowledge base: search several without them".into(),
            ));
        }
        let mut per_kb = Vec::new();
        for name in doctalk_core::across::kb_names(list)? {
            let lib = s.library(Some(&name)).await?;
            per_kb.push((name, lib.kb.search_in(q, k, None).await?));
        }
        return Ok(doctalk_core::across::merge_ranked(per_kb, k));
    }
    let lib = s.library(kb).await?;
    let scope = lib.kb.resolve_scope(scope).await?;
    Ok(lib.kb.search_in(q, k, scope.as_ref()).await?)
}

/// [`search`] explained (the retrieval test).
pub async fn explain(
    s: &Engine,
    kb: Option<&str>,
    q: &str,
    k: usize,
    scope: &ScopeRequest,
) -> Result<Explanation, AppError> {
    if kb.is_some_and(|k| k.contains(',')) {
        return Err(AppError::BadRequest(
            "the retrieval test explains one knowledge base at a time".into(),
        ));
    }
    let lib = s.library(kb).await?;
    let scope = lib.kb.resolve_scope(scope).await?;
    Ok(lib.kb.explain(q, k.clamp(1, 50), scope.as_ref()).await?)
}

/// A question, as the UI sends it.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct AskRequest {
    pub question: String,
    /// A conversation id, or "new" to start one.
    #[serde(default)]
    #[ts(optional)]
    pub conversation: Option<String>,
    #[serde(default)]
    #[ts(as = "Option<bool>", optional)]
    pub no_llm: bool,
    #[serde(default)]
    #[ts(optional)]
    pub top_k: Option<usize>,
    /// Only these documents or folders (none: the whole knowledge base).
    #[serde(default)]
    #[ts(as = "Option<ScopeRequest>", optional)]
    pub scope: ScopeRequest,
}

/// An answer, and the conversation it was saved in (null: none was asked for).
#[derive(Debug, Clone, Serialize, TS)]
pub struct AskReply {
    #[serde(flatten)]
    pub answer: Answer,
    pub conversation: Option<String>,
}

/// A conversation as listed.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ConversationListed {
    pub id: String,
    pub title: String,
    /// Unix seconds.
    pub updated_at: u64,
    pub turns: usize,
}

/// A conversation deleted.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ConversationDeleted {
    pub deleted: String,
}

/// Answers (continuing or starting the request's conversation, and saving the turn). Events:
/// `query` (the searched query), `sources`, `token`…; returns the answer with its `conversation`.
/// Setting `cancel` stops generation within a token.
pub async fn ask(
    s: &Engine,
    caller: &Caller,
    kb: Option<&str>,
    request: AskRequest,
    emit: Emit,
    cancel: Arc<AtomicBool>,
) -> Result<AskReply, AppError> {
    let lib = s.library(kb).await?;
    let mut conversation = match request.conversation.as_deref() {
        Some("new") => {
            let mut c = lib.conversations.create();
            c.owner = caller.owner().map(String::from);
            Some(c)
        }
        Some(id) => Some(own_conversation(&lib, caller, id)?),
        None => None,
    };
    let mut req = AnswerRequest::new(request.question.clone());
    req.script = Some(chinese_script(s));
    req.cancel = cancel;
    req.history = conversation.as_ref().map(|c| c.turns.clone()).unwrap_or_default();
    req.scope = lib.kb.resolve_scope(&request.scope).await?;
    let _admitted = if request.no_llm { None } else { admit(s, &mut req) };
    if let Some(k) = request.top_k {
        req.top_k = k.clamp(1, 20);
    }
    let sink = Arc::new(move |e: AnswerEvent| match e {
        AnswerEvent::Query(q) => emit("query", json!({"query": q})),
        AnswerEvent::Sources(s) => emit("sources", json!(s)),
        AnswerEvent::Token(t) => emit("token", json!({"text": t})),
    });
    let answer = lib.kb.answer(req, sink).await?;
    if let Some(c) = conversation.as_mut() {
        c.push(&request.question, &answer);
        lib.conversations.save(c)?;
    }
    Ok(AskReply {
        answer,
        conversation: conversation.map(|c| c.id),
    })
}

/// The script the user chose in the settings (the system locale's when they cannot be read).
pub fn chinese_script(s: &Engine) -> doctalk_core::ChineseScript {
    doctalk_core::settings::Settings::load(s.workspace.data_dir())
        .map(|settings| settings.chinese_script())
        .unwrap_or_else(|_| doctalk_core::ChineseScript::from_locale())
}

/// Gives `req` the language model when the queue has room; otherwise leaves it extractive and says
/// why. The returned place must be held until the answer is finished.
pub fn admit(s: &Engine, req: &mut AnswerRequest) -> Option<crate::gate::Admitted> {
    let admission = admit_generator(s);
    req.generator = admission.generator;
    req.without_llm_reason = admission.reason;
    admission.place
}

/// The language model for one long job (an answer, a summary, a check), or why there is none.
pub struct Admission {
    pub generator: Option<std::sync::Arc<dyn doctalk_models::llm::Generator>>,
    /// Held until the job ends: the model's place in the queue.
    pub place: Option<crate::gate::Admitted>,
    /// Why `generator` is `None` (still loading, busy); `None` when no model is chosen at all.
    pub reason: Option<String>,
}

pub fn admit_generator(s: &Engine) -> Admission {
    let Some(generator) = s.generator() else {
        let reason = match s.language_model.state() {
            crate::language_model::ModelState::Loading { choice } => {
                Some(format!("the language model ({choice}) is still loading"))
            }
            _ => None,
        };
        return Admission {
            generator: None,
            place: None,
            reason,
        };
    };
    match s.llm_gate.try_enter() {
        Some(place) => Admission {
            generator: Some(generator),
            place: Some(place),
            reason: None,
        },
        None => Admission {
            generator: None,
            place: None,
            reason: Some(s.llm_gate.busy_reason()),
        },
    }
}

/// The caller's conversations (a team-server user sees only their own).
pub async fn conversations(
    s: &Engine,
    caller: &Caller,
    kb: Option<&str>,
) -> Result<Vec<ConversationListed>, AppError> {
    let lib = s.library(kb).await?;
    Ok(lib
        .conversations
        .summaries()?
        .into_iter()
        .filter(|c| caller.sees(c.owner.as_deref()))
        .map(|c| ConversationListed {
            id: c.id,
            title: c.title,
            updated_at: c.updated_at,
            turns: c.turn_count,
        })
        .collect())
}

pub async fn conversation(
    s: &Engine,
    caller: &Caller,
    kb: Option<&str>,
    id: &str,
) -> Result<Conversation, AppError> {
    own_conversation(&*s.library(kb).await?, caller, id)
}

pub async fn delete_conversation(
    s: &Engine,
    caller: &Caller,
    kb: Option<&str>,
    id: &str,
) -> Result<ConversationDeleted, AppError> {
    let lib = s.library(kb).await?;
    own_conversation(&lib, caller, id)?;
    lib.conversations.delete(id)?;
    Ok(ConversationDeleted {
        deleted: id.to_string(),
    })
}

/// Conversation `id` when the caller may see it. Another user's is "not found", exactly as one
/// that does not exist, so ids cannot be probed.
fn own_conversation(lib: &Library, caller: &Caller, id: &str) -> Result<Conversation, AppError> {
    let conversation = lib.conversations.load(id)?;
    if caller.sees(conversation.owner.as_deref()) {
        Ok(conversation)
    } else {
        Err(doctalk_core::CoreError::NoSuchConversation(id.to_string()).into())
    }
}
