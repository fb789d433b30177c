//! `doctalk serve`: the knowledge base over HTTP on loopback (or, with a token, on a network).
//!
//! - `/api/*`: REST + server-sent events for the UI: documents, ingest uploads with progress, search,
//!   answers (streamed), conversations.
//! - `/`: the web UI (`ui/dist`), the same front-end as the desktop app.
//! - `/v1/*`: an OpenAI-compatible API (`/v1/models`, `/v1/chat/completions` streaming or not, and
//!   `/v1/embeddings`) whose chat answers are grounded in the knowledge base; the sources ride along in
//!   an extra `sources` field.
//!
//! Safety: loopback by default; a non-loopback bind is refused without an access token (one shared
//! `--token`, or users with their own tokens, roles and knowledge bases: `--auth users`, see
//! `access`; who a caller is and what they may see is `doctalk_app`'s); every request then needs `Authorization: Bearer <token>`; other websites can neither change anything
//! (cross-site requests are refused) nor read through DNS rebinding (loopback `Host` names only,
//! see `origin`); uploads are size-limited and stored under the
//! data directory with a sanitised name, so no request can read or write outside it.

mod access;
mod api;
mod completion;
mod error;
mod json;
mod openai;
mod openai_wire;
mod origin;
mod state;
mod ui;

use std::net::SocketAddr;

pub use access::{route_rules, KbOf, Need, Rule};
pub use error::ServerError;
pub use state::{AppState, ServerConfig};
pub use ui::CONTENT_SECURITY_POLICY;

/// Binds `config.bind` and serves until `shutdown` resolves.
pub async fn serve(
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<SocketAddr, ServerError> {
    let bind = state.config.bind;
    if !bind.ip().is_loopback() && state.config.auth.is_open() {
        return Err(ServerError::TokenRequired(bind));
    }
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| ServerError::Bind(bind, e))?;
    let addr = listener.local_addr().map_err(|e| ServerError::Bind(bind, e))?;
    let app = router(state);
    tracing::info!(%addr, "serving");
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
            tracing::error!(error = %e, "server stopped");
        }
    });
    Ok(addr)
}

/// Every route with its access rule.
pub(crate) fn routes() -> access::RouteTable {
    api::routes().merge(openai::routes())
}

/// All routes, with the origin and token checks in front and each route's access rule behind
/// routing.
pub fn router(state: AppState) -> axum::Router {
    let limit = state.config.max_upload_bytes;
    let (routes, rules) = routes().into_parts();
    let guard = access::Guard {
        state: state.clone(),
        rules: std::sync::Arc::new(rules),
    };
    routes
        .route_layer(axum::middleware::from_fn_with_state(guard, access::authorize))
        .fallback(ui::serve)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            state::require_token,
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), origin::guard))
        .layer(axum::extract::DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(error::json_errors))
        .with_state(state)
}
