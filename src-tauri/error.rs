//! How a failed command reaches the UI: `{code, message, details}`, the shape the HTTP API's
//! errors have too (the UI maps both to one `ApiError`).

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct CommandError {
    pub code: String,
    pub message: String,
    pub details: Option<serde_json::Value>,
}

impl CommandError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        CommandError {
            code: code.to_string(),
            message: message.into(),
            details: None,
        }
    }
}

impl From<doctalk_app::AppError> for CommandError {
    fn from(e: doctalk_app::AppError) -> Self {
        CommandError::new(e.code(), e.to_string())
    }
}

pub type CommandResult<T> = Result<T, CommandError>;
