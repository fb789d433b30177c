//! What the UI can ask for, independent of how it asks: the HTTP API (`crate::api`) and the desktop
//! app's Tauri commands are thin wrappers over these functions, so both give the same JSON shapes
//! and the same events. Long operations report through an [`Emit`] callback with the event name
//! and payload that become a server-sent event or a Tauri channel message; their return value is
//! the final `done` payload.

mod chat;
mod check;
mod folders;
mod library;
mod settings;
mod setup;
mod speech;
mod tune;
mod users;
mod voices;

use std::sync::Arc;

pub use chat::{admit, admit_generator, chinese_script};
pub use chat::{ask, conversation, conversations, delete_conversation, explain, search, AskRequest};
pub use chat::{AskReply, ConversationDeleted, ConversationListed};
pub use check::{check_answers, CheckOutcome, CheckRequest};
pub use doctalk_core::settings::SettingsPatch;
pub use folders::{
    add_folder, folders, remove_folder, sync_folders, AddFolderRequest, FolderAdded, FolderRemoved,
};
pub use library::{
    create_kb, document_file, documents, export_kb, health, import_kb, ingest_paths, kbs, ocr_mode, reindex,
    remove_document, sample, save_upload, summarize, SummaryOutcome,
};
pub use library::{Health, IngestDone, KbCreated, KbImported, KbList};
pub use settings::{download_model, settings, update_settings};
pub use settings::{CatalogueEntry, DeviceOptions, Downloaded, SettingsView, VoiceEntry};
pub use setup::{setup_ready, setup_status, SetupModel, SetupRole, SetupStatus};
pub use speech::{speak, transcribe, transcribe_recording, Transcript};
pub use tune::{tune_estimate, tune_kb, TuneOutcome, TunePlan, TuneRequest};
pub use users::{
    add_user, audit_local, list_users, remove_user, renew_token, whoami, AuthKind, IssuedToken, Me, NewUser,
    UserRemoved,
};
pub use voices::{add_voice, remove_voice, CloneEngine, ClonedVoice, VoiceAdded, VoiceRemoved};

/// Receives the progress events of a long operation: (event name, JSON payload).
pub type Emit = Arc<dyn Fn(&str, serde_json::Value) + Send + Sync>;
