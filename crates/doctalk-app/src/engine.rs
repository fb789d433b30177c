//! The engine every door drives: the knowledge bases, the swappable language model and its
//! admission gate, the model catalogue.

use std::sync::Arc;

use doctalk_catalog::store::ModelStore;
use doctalk_core::{Library, Workspace};

use crate::gate::LlmGate;
use crate::language_model::LanguageModel;
use crate::AppError;

/// What the UI's operations need, whichever shell asks (this server or the desktop app); cheap to
/// clone.
#[derive(Clone)]
pub struct Engine {
    /// The knowledge bases of the data directory; requests name one (default: the one the shell
    /// was started with).
    pub workspace: Arc<Workspace>,
    /// The language model for answers; the settings screen switches it while the app runs.
    pub language_model: Arc<LanguageModel>,
    /// Admission to `generator` (see [`LlmGate`]).
    pub llm_gate: Arc<LlmGate>,
    /// The model catalogue and downloads (settings screen).
    pub models: Arc<ModelStore>,
}

impl Engine {
    /// Knowledge base `name`, or the default one.
    pub async fn library(&self, name: Option<&str>) -> Result<Arc<Library>, AppError> {
        Ok(self.workspace.get(name).await?)
    }

    /// The language model answering now, if any.
    pub fn generator(&self) -> Option<Arc<dyn doctalk_models::llm::Generator>> {
        self.language_model.current()
    }
}
