//! The engine behind the window, started once: where the data lives, the knowledge bases, the
//! language model the settings choose, and the answers in flight (so that Stop can reach them).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use doctalk_app::{Engine, LanguageModel, LlmGate};
use doctalk_catalog::store::ModelStore;
use doctalk_core::settings::Settings;
use doctalk_core::Workspace;
use tokio::sync::OnceCell;

use crate::error::{CommandError, CommandResult};

/// Tauri-managed state; cheap to clone.
#[derive(Clone)]
pub struct Desktop {
    data_dir: PathBuf,
    models_dir: Option<PathBuf>,
    /// The model catalogue and downloads; usable before the engine starts (first run).
    models: Arc<ModelStore>,
    engine: Arc<OnceCell<Engine>>,
    /// Cancel flags of the answers being generated, by the UI's request id.
    asks: Arc<Mutex<HashMap<String, Arc<AtomicBool>>>>,
    /// Set to end the microphone's current question (push to talk: "I am done").
    listening: Arc<AtomicBool>,
}

impl Desktop {
    /// The data directory from `DOCTALK_DATA_DIR` or the platform default (the CLI's too, so the
    /// app and `doctalk` share knowledge bases); models from `DOCTALK_MODELS_DIR` and the usual
    /// places.
    pub fn from_env() -> Self {
        let data_dir = std::env::var_os("DOCTALK_DATA_DIR")
            .map(PathBuf::from)
            .or_else(|| dirs::data_dir().map(|d| d.join("doctalk")))
            .unwrap_or_else(|| PathBuf::from(".doctalk"));
        let models_dir = std::env::var_os("DOCTALK_MODELS_DIR").map(PathBuf::from);
        Desktop {
            models: Arc::new(ModelStore::from_env(models_dir.as_deref(), &data_dir)),
            data_dir,
            models_dir,
            engine: Arc::new(OnceCell::new()),
            asks: Arc::new(Mutex::new(HashMap::new())),
            listening: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The stop flag of the microphone's current question.
    pub fn listening(&self) -> Arc<AtomicBool> {
        self.listening.clone()
    }

    pub fn models(&self) -> &ModelStore {
        &self.models
    }

    /// The engine, started by the first caller (the others wait for it). A start that fails (a
    /// model still to download) is tried again by the next caller.
    pub async fn engine(&self) -> CommandResult<&Engine> {
        self.engine.get_or_try_init(|| self.start()).await
    }

    async fn start(&self) -> CommandResult<Engine> {
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            CommandError::new("engine_failed", format!("{what}: {e}"))
        };
        let (models_dir, data_dir) = (self.models_dir.clone(), self.data_dir.clone());
        // Scanned pages and pictures are read with the OCR model from the same places as the others.
        doctalk_core::ocr::use_model_roots(doctalk_models::SearchRoots::for_app(
            models_dir.as_deref(),
            &data_dir,
        ));
        let embedder = tokio::task::spawn_blocking(move || {
            doctalk_models::load_embedder(None, models_dir.as_deref(), &data_dir)
        })
        .await
        .map_err(|e| fail("cannot load the embedding model", &e))?
        .map_err(|e| {
            if !doctalk_app::service::setup_ready(&self.models) {
                // First run: the UI shows the setup screen for this code.
                CommandError::new(
                    "models_missing",
                    format!("the models DocTalk needs are not on this computer yet: {e}"),
                )
            } else {
                fail("cannot load the embedding model", &e)
            }
        })?;
        let workspace = Workspace::new(self.data_dir.clone(), None, embedder, "default");
        workspace
            .get(None)
            .await
            .map_err(|e| fail("cannot open the knowledge base", &e))?;
        // The app follows watched folders while it is open, catching up on changes made while
        // it was closed; a failure here leaves the rest of the app working.
        if let Err(e) = workspace.watch_folders().await {
            tracing::warn!(error = %e, "watched folders are not followed");
        }
        Ok(Engine {
            workspace: Arc::new(workspace),
            language_model: Arc::new(self.language_model().await),
            llm_gate: Arc::new(LlmGate::new(4)),
            models: self.models.clone(),
        })
    }

    /// The language model the settings choose; none (extractive answers, which the UI labels)
    /// when it is switched off or cannot be loaded. The settings screen switches it later.
    async fn language_model(&self) -> LanguageModel {
        let settings = Settings::load(&self.data_dir).unwrap_or_default();
        let roots = doctalk_models::SearchRoots::for_app(self.models_dir.as_deref(), &self.data_dir);
        let initial = match doctalk_app::language_model::load(&settings, &roots).await {
            Ok(g) => g,
            Err(e) => {
                tracing::warn!(error = %e, "no language model: answers are extractive");
                None
            }
        };
        LanguageModel::new(initial, roots)
    }

    /// Registers an answer in flight; the returned flag stops it.
    pub fn start_ask(&self, request_id: &str) -> Arc<AtomicBool> {
        let flag = Arc::new(AtomicBool::new(false));
        self.asks().insert(request_id.to_string(), flag.clone());
        flag
    }

    pub fn finish_ask(&self, request_id: &str) {
        self.asks().remove(request_id);
    }

    /// Stops an answer in flight; `false` when it already finished.
    pub fn stop_ask(&self, request_id: &str) -> bool {
        match self.asks().get(request_id) {
            Some(flag) => {
                flag.store(true, std::sync::atomic::Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    fn asks(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<AtomicBool>>> {
        // A panic while holding this lock leaves only a map of flags: still usable.
        self.asks.lock().unwrap_or_else(|p| p.into_inner())
    }
}
