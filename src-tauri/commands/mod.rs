//! The Tauri commands, one module per domain of the UI's clients.

pub mod chat;
pub mod library;
pub mod settings;

use std::sync::Arc;

use doctalk_server::service::Emit;
use serde_json::{json, Value};
use tauri::ipc::Channel;

/// Streams a long operation's events to the UI as `{event, data}` messages: the names and
/// payloads of the server's SSE events.
fn emit_to(channel: &Channel<Value>) -> Emit {
    let channel = channel.clone();
    Arc::new(move |event, data| {
        let _ = channel.send(json!({"event": event, "data": data}));
    })
}

/// Sends the final `done` (or `error`) message and returns the same result to `invoke`.
fn finish(
    channel: &Channel<Value>,
    result: crate::error::CommandResult<Value>,
) -> crate::error::CommandResult<Value> {
    let message = match &result {
        Ok(done) => json!({"event": "done", "data": done}),
        Err(e) => json!({"event": "error", "data": e}),
    };
    let _ = channel.send(message);
    result
}
