//! The DocTalk desktop app: a Tauri window around the same engine and the same UI as
//! `doctalk serve`. Commands are grouped by domain (`commands::{library, chat, settings}`) and
//! are thin wrappers over `doctalk_app::service`, so the window and a browser on the server
//! see the same JSON and the same events; long work streams through a Tauri channel as
//! `{event, data}` messages that mirror the server-sent events.

mod automation;
mod commands;
mod engine;
mod error;

pub use engine::Desktop;
pub use error::CommandError;

/// Opens the window at once; the engine (embedding model, knowledge bases, language model) loads
/// behind it, and the first command that needs it waits for it.
pub fn run() {
    // Before any thread exists: the allocator settings for tensor work (see doctalk_models::memory).
    doctalk_models::tune_allocator();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,pdf_oxide=error")),
        )
        .try_init();
    automation::bind_to_test_harness();
    let result = tauri::Builder::default()
        .manage(Desktop::from_env())
        .setup(|app| {
            let desktop = tauri::Manager::state::<Desktop>(app).inner().clone();
            tauri::async_runtime::spawn(async move {
                if let Err(e) = desktop.engine().await {
                    tracing::error!(error = %e.message, "the engine did not start");
                }
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::library::health,
            commands::library::kbs_list,
            commands::library::kbs_create,
            commands::library::documents_list,
            commands::library::folders_list,
            commands::library::kb_export,
            commands::library::kb_import,
            commands::library::folders_add,
            commands::library::folders_remove,
            commands::library::folders_sync,
            commands::library::documents_remove,
            commands::library::documents_reindex,
            commands::library::document_summarize,
            commands::library::document_file,
            commands::library::ingest_paths,
            commands::library::ingest_file,
            commands::library::sample_install,
            commands::chat::search,
            commands::chat::search_explain,
            commands::chat::ask_stream,
            commands::chat::ask_stop,
            commands::chat::check_answers,
            commands::tune::tune_estimate,
            commands::tune::tune_run,
            commands::chat::conversations_list,
            commands::chat::conversation_get,
            commands::chat::conversation_delete,
            commands::settings::settings_get,
            commands::settings::settings_set,
            commands::settings::model_download,
            commands::settings::setup_status,
            commands::settings::speak,
            commands::settings::voice_add,
            commands::settings::voice_remove,
            commands::settings::transcribe,
            commands::settings::listen,
            commands::settings::listen_stop,
            commands::users::me,
            commands::users::users_list,
            commands::users::users_add,
            commands::users::users_remove,
            commands::users::users_token,
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("DocTalk could not open its window: {e}");
        eprintln!("Without a display, `doctalk serve` offers the same app in a browser.");
        std::process::exit(1);
    }
}
