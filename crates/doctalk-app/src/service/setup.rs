//! First run. A packaged app ships without models; before it can start it needs the sentence
//! encoder, and it recommends the default language model (without one, answers quote the passages).
//! This lists both with licence and size, for the user to see before any download; the downloads
//! themselves go through the model store (`download_model`), and need no running engine.

use std::path::PathBuf;

use doctalk_catalog::store::ModelStore;
use serde::Serialize;
use ts_rs::TS;

/// First run: `ready` once every required model is on this computer.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SetupStatus {
    pub ready: bool,
    pub models: Vec<SetupModel>,
    /// Where model folders copied by hand are found (computers without internet).
    pub models_dir: Option<PathBuf>,
}

/// Whether the app cannot start without a model, or recommends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum SetupRole {
    Required,
    Recommended,
}

/// A model the app needs before it can start (required) or recommends (the default LLM).
#[derive(Debug, Clone, Serialize, TS)]
pub struct SetupModel {
    pub id: String,
    pub role: SetupRole,
    pub installed: bool,
    /// Whether the model store can download it (it has a hub source).
    pub downloadable: bool,
    pub license: String,
    pub license_url: String,
    /// What the download brings (null: not known until it starts).
    pub size_bytes: Option<u64>,
    pub kind: String,
    pub description: String,
}

/// Whether every model the app cannot start without is on this machine.
pub fn setup_ready(models: &ModelStore) -> bool {
    setup_status(models).ready
}

/// The models the app needs or recommends, each with licence and size; `ready` once every
/// required model is on this machine.
pub fn setup_status(models: &ModelStore) -> SetupStatus {
    let wanted = [
        (doctalk_models::DEFAULT_ENCODER_ID, SetupRole::Required),
        (doctalk_models::llm::DEFAULT_LLM.name, SetupRole::Recommended),
    ];
    let mut ready = true;
    let mut listed = Vec::new();
    for (name, role) in wanted {
        let status = match models.status(name) {
            Ok(s) => s,
            Err(e) => {
                // Every default has a manifest compiled in; this is a build mistake, not the user's.
                tracing::error!(model = name, error = %e, "a default model has no manifest");
                continue;
            }
        };
        let installed = status.installed.is_some();
        ready &= installed || role != SetupRole::Required;
        let m = status.manifest;
        listed.push(SetupModel {
            downloadable: m.hub().is_some(),
            size_bytes: m.hub_download_bytes(),
            id: m.short_name.clone(),
            role,
            installed,
            license: m.licence.clone(),
            license_url: m.licence_url.clone(),
            kind: m.kind.clone(),
            description: m.id.clone(),
        });
    }
    let models_dir = models.roots().data_dir.as_ref().map(|d| d.join("models"));
    SetupStatus {
        ready,
        models: listed,
        models_dir,
    }
}
