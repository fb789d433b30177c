//! What every request shares: the knowledge base, the optional language model, the settings.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use doctalk_core::{ConversationStore, Embedder, KnowledgeBase};
use doctalk_models::llm::Generator;

use crate::gate::LlmGate;
use crate::ServerError;

/// Settings of one server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    /// Required on every request when set (`Authorization: Bearer …`).
    pub token: Option<String>,
    /// Largest accepted request body (uploads).
    pub max_upload_bytes: usize,
    /// Where uploaded files are kept (inside the data directory).
    pub uploads_dir: PathBuf,
    /// The name `/v1/models` lists for grounded answers from this knowledge base. The language model
    /// itself is listed too, under its own id, for plain completions (so that another DocTalk, or any
    /// OpenAI client, can use this server's model as its generator).
    pub model_name: String,
}

/// Shared request state; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub kb: Arc<KnowledgeBase>,
    pub generator: Option<Arc<dyn Generator>>,
    /// Admission to `generator` (see [`LlmGate`]).
    pub llm_gate: Arc<LlmGate>,
    pub embedder: Arc<dyn Embedder>,
    pub conversations: ConversationStore,
    pub config: Arc<ServerConfig>,
}

/// Rejects requests without the configured token (no token configured: loopback only, all allowed).
pub async fn require_token(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(token) = &state.config.token else {
        return next.run(request).await;
    };
    let presented = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if presented.is_some_and(|p| constant_time_eq(p.as_bytes(), token.as_bytes())) {
        next.run(request).await
    } else {
        ServerError::Unauthorized.into_response()
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
