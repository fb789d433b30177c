//! What every request shares: the knowledge bases, the optional language model, the settings.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use doctalk_app::{Auth, Engine};

use crate::access::RateLimiter;
use crate::ServerError;

/// Settings of one server.
#[derive(Clone)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    /// Who may call (see `access`): nobody asked, one shared token (`Authorization: Bearer …` on
    /// every request), or users with tokens of their own.
    pub auth: Auth,
    /// Requests per minute per token (users, or the shared token); 0: no limit.
    pub rate_limit_per_minute: u32,
    /// Host names besides loopback ones that requests may address the server by when it has no
    /// token (`--allow-host`; see `origin`).
    pub allowed_hosts: Vec<String>,
    /// Largest accepted request body (uploads).
    pub max_upload_bytes: usize,
    /// The built UI (`ui/dist`) served at `/`; `None`: `/` explains how to build it.
    pub ui_dir: Option<PathBuf>,
    /// The name `/v1/models` lists for grounded answers from this knowledge base. The language model
    /// itself is listed too, under its own id, for plain completions (so that another DocTalk, or any
    /// OpenAI client, can use this server's model as its generator).
    pub model_name: String,
}

/// Shared request state; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
    pub config: Arc<ServerConfig>,
    pub(crate) rate_limiter: Arc<RateLimiter>,
}

impl AppState {
    pub fn new(engine: Engine, config: ServerConfig) -> Self {
        let rate_limiter = Arc::new(RateLimiter::new(config.rate_limit_per_minute));
        Self {
            engine,
            config: Arc::new(config),
            rate_limiter,
        }
    }
}

/// Rejects API requests without the configured token (no token configured: loopback only, all
/// allowed). The UI's own files are not secret and load without it; the page then sends the token.
pub async fn require_token(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Auth::Token(token) = &state.config.auth else {
        return next.run(request).await;
    };
    let path = request.uri().path();
    if !path.starts_with("/api/") && !path.starts_with("/v1/") {
        return next.run(request).await;
    }
    let presented = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if presented.is_some_and(|p| doctalk_core::users::constant_time_eq(p.as_bytes(), token.as_bytes())) {
        next.run(request).await
    } else {
        ServerError::Unauthorized.into_response()
    }
}
