//! The server's error type, and how every error reaches a client: `{"error": {"code", "message"}}`
//! with a fitting status (OpenAI clients read the same shape). The application's errors
//! ([`AppError`]) keep their own code; only the status is the server's choice.

use std::net::SocketAddr;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use doctalk_app::{AppError, ErrorKind};
use doctalk_core::CoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("refusing to listen on {0} without an access token: pass --token (or bind 127.0.0.1)")]
    TokenRequired(SocketAddr),
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, #[source] std::io::Error),
    #[error(transparent)]
    App(#[from] AppError),
    #[error("unknown model {0:?}: this server answers as {1} (see /v1/models)")]
    UnknownModel(String, String),
    #[error("missing or wrong access token")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("too many requests: try again in {0} s")]
    RateLimited(u64),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error(
        "refused: this server answers to localhost, not {0:?} (a website pointing its name at this machine?); \
         start it with --allow-host NAME to use another name"
    )]
    ForeignHost(String),
    #[error("refused: a request from {0} (another website) may not change anything here")]
    CrossSite(String),
}

impl From<CoreError> for ServerError {
    fn from(e: CoreError) -> Self {
        ServerError::App(e.into())
    }
}

impl ServerError {
    /// The stable, machine-readable code clients switch on (`not_found`, `bad_request`, …).
    pub fn code(&self) -> &'static str {
        self.status_and_code().1
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ServerError::App(e) => {
                let (code, kind) = e.code_and_kind();
                let status = match kind {
                    ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
                    ErrorKind::NotFound => StatusCode::NOT_FOUND,
                    ErrorKind::Conflict => StatusCode::CONFLICT,
                    ErrorKind::Busy => StatusCode::SERVICE_UNAVAILABLE,
                    ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
                };
                (status, code)
            }
            ServerError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ServerError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ServerError::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ServerError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ServerError::ForeignHost(_) => (StatusCode::FORBIDDEN, "foreign_host"),
            ServerError::CrossSite(_) => (StatusCode::FORBIDDEN, "cross_site_request"),
            ServerError::UnknownModel(..) => (StatusCode::NOT_FOUND, "model_not_found"),
            ServerError::TokenRequired(_) | ServerError::Bind(..) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        }
    }
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        match &self {
            // A full queue is the admission policy working, not a fault.
            ServerError::App(AppError::Busy(_)) => tracing::debug!(error = %self, "request refused"),
            _ if status.is_server_error() => tracing::error!(error = %self, "request failed"),
            _ => {}
        }
        let body = serde_json::json!({"error": {"code": code, "message": self.to_string(), "type": code}});
        let mut response = (status, crate::json::JsonResponse(body)).into_response();
        if let ServerError::RateLimited(wait) = self {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, wait.into());
        }
        response
    }
}

/// Errors produced by axum itself (a body over the limit, a wrong method, an unparsable query) come
/// as plain text; clients get the same JSON shape for those as for ours.
pub async fn json_errors(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let code = match status.as_u16() {
        400 | 422 => "bad_request",
        401 => "unauthorized",
        404 => "not_found",
        405 => "method_not_allowed",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        _ if status.is_server_error() => "internal",
        _ => "error",
    };
    let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let message = String::from_utf8_lossy(&bytes).trim().to_string();
    let message = if message.is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        message
    };
    let body = serde_json::json!({"error": {"code": code, "message": message, "type": code}});
    (status, crate::json::JsonResponse(body)).into_response()
}
