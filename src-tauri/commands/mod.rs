//! The Tauri commands, one module per domain of the UI's clients.

pub mod chat;
pub mod library;
pub mod settings;
pub mod tune;
pub mod users;

use std::sync::Arc;

use doctalk_app::service::Emit;
use serde_json::{json, Value};
use tauri::ipc::{Channel, InvokeBody, Request};

use crate::error::{CommandError, CommandResult};

/// Streams a long operation's events to the UI as `{event, data}` messages: the names and
/// payloads of the server's SSE events.
fn emit_to(channel: &Channel<Value>) -> Emit {
    let channel = channel.clone();
    Arc::new(move |event, data| {
        let _ = channel.send(json!({"event": event, "data": data}));
    })
}

/// Sends the final `done` (or `error`) message and returns the same result to `invoke`.
fn finish<T: serde::Serialize>(
    channel: &Channel<Value>,
    result: crate::error::CommandResult<T>,
) -> crate::error::CommandResult<T> {
    let message = match &result {
        Ok(done) => json!({"event": "done", "data": done}),
        Err(e) => json!({"event": "error", "data": e}),
    };
    let _ = channel.send(message);
    result
}

/// A file from the file picker (bytes without a path): the raw IPC body, with the command's other
/// arguments as URI-encoded `x-doctalk-<name>` headers (the UI's Tauri transport sends them so).
pub(crate) struct RawUpload<'a> {
    pub(crate) bytes: &'a [u8],
    request: &'a Request<'a>,
    command: &'static str,
}

impl<'a> RawUpload<'a> {
    pub(crate) fn read(request: &'a Request<'a>, command: &'static str) -> CommandResult<Self> {
        let InvokeBody::Raw(bytes) = request.body() else {
            return Err(CommandError::new(
                "bad_request",
                format!("{command} takes the file's bytes as the body"),
            ));
        };
        Ok(RawUpload {
            bytes,
            request,
            command,
        })
    }

    /// The argument `name`, decoded; `None` when absent or empty, an error when it is not what
    /// `encodeURIComponent` writes (rather than a name or password silently changed).
    pub(crate) fn header(&self, name: &str) -> CommandResult<Option<String>> {
        let Some(value) = self.request.headers().get(format!("x-doctalk-{name}")) else {
            return Ok(None);
        };
        let decoded = value.to_str().ok().and_then(doctalk_app::percent_decode);
        match decoded {
            Some(v) => Ok(Some(v).filter(|v| !v.is_empty())),
            None => Err(CommandError::new(
                "bad_request",
                format!(
                    "{}: the x-doctalk-{name} header is not URI-encoded UTF-8",
                    self.command
                ),
            )),
        }
    }

    pub(crate) fn required(&self, name: &str) -> CommandResult<String> {
        self.header(name)?.ok_or_else(|| {
            CommandError::new(
                "bad_request",
                format!("{} needs the x-doctalk-{name} header", self.command),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    /// Every command the UI's clients name (`command: '…'` in `ui/src/api`) is registered with
    /// Tauri, so no button of the desktop app answers "command not found".
    #[test]
    fn every_command_the_ui_calls_is_registered() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let registered = std::fs::read_to_string(root.join("src-tauri/lib.rs")).unwrap();
        let mut named = 0;
        for entry in std::fs::read_dir(root.join("ui/src/api")).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for piece in text.split("command: '").skip(1) {
                let command = piece.split('\'').next().unwrap();
                named += 1;
                assert!(
                    registered.contains(&format!("::{command},")),
                    "{} calls {command:?}, which src-tauri/lib.rs does not register",
                    path.display()
                );
            }
        }
        assert!(named > 30, "only {named} commands found: did the clients move?");
    }

    #[test]
    fn header_names_decode_like_encode_uri_component() {
        let decode = doctalk_app::percent_decode;
        assert_eq!(decode("%E5%91%98%E5%B7%A5.pdf").as_deref(), Some("员工.pdf"));
        // Not what encodeURIComponent writes: refused, not passed on changed.
        assert_eq!(decode("a%20b%zz"), None);
        assert_eq!(decode("%FF"), None);
    }
}
