//! The application behind DocTalk's three doors (the CLI, the HTTP server and the desktop app):
//! the engine's state ([`Engine`]), settings turned into a language model and switched while it
//! runs ([`LanguageModel`]), admission to it ([`LlmGate`]), who is calling ([`Caller`]), and every
//! operation the UI offers (`service`: answers and conversations, the library, settings and
//! downloads, voices, speech, folders, users, tuning). The doors only translate their inputs and
//! outputs: a route, a Tauri command or a subcommand calls one `service` function.

mod caller;
mod encoding;
mod engine;
mod error;
mod gate;
pub mod language_model;
mod media;
pub mod service;

pub use caller::{Auth, Caller, UserDirectory};
pub use encoding::percent_decode;
pub use engine::Engine;
pub use error::{AppError, ErrorKind};
pub use gate::{Admitted, LlmGate};
pub use language_model::LanguageModel;
pub use media::content_type;
