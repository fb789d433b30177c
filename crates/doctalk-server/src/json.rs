//! JSON request bodies and responses without axum's `json` feature: that feature switches on
//! serde_json's `raw_value`, which changes serde_json's build for the whole workspace (arrow, lance,
//! datafusion, tokenizers are then rebuilt); the few lines here avoid it.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use doctalk_app::AppError;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::ServerError;

/// A JSON request body.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ServerError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // A JSON content type is required: a browser sends one only after a CORS preflight, which
        // other websites do not pass, so a "simple" cross-site POST can never reach a handler.
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if essence != "application/json" && !essence.ends_with("+json") {
            return Err(ServerError::UnsupportedMediaType(format!(
                "send the body as JSON (content-type: application/json), not {:?}",
                if content_type.is_empty() {
                    "nothing"
                } else {
                    content_type
                }
            )));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            ServerError::App(AppError::BadRequest(format!("cannot read the request body: {e}")))
        })?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ServerError::App(AppError::BadRequest(format!("invalid JSON body: {e}"))))
    }
}

/// A JSON response (200).
pub struct JsonResponse(pub Value);

impl JsonResponse {
    /// A typed reply (the service's response types). They are JSON objects with string keys, so
    /// this fails only on a programming error, which the client then sees as an error reply.
    pub fn of(value: &impl serde::Serialize) -> Result<JsonResponse, ServerError> {
        serde_json::to_value(value)
            .map(JsonResponse)
            .map_err(|e| ServerError::App(AppError::Io(format!("cannot write the reply: {e}"))))
    }
}

impl IntoResponse for JsonResponse {
    fn into_response(self) -> Response {
        ([(CONTENT_TYPE, "application/json")], self.0.to_string()).into_response()
    }
}
