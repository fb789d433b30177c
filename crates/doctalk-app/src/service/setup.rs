//! First run. A packaged app ships without models; before it can start it needs the sentence
//! encoder, and it recommends the default language model (without one, answers quote the passages).
//! This lists both with licence and size, for the user to see before any download; the downloads
//! themselves go through the model store (`download_model`), and need no running engine.

use doctalk_models::store::ModelStore;
use serde_json::{json, Value};

/// Whether every model the app cannot start without is on this machine.
pub fn setup_ready(models: &ModelStore) -> bool {
    setup_status(models)["ready"].as_bool().unwrap_or(true)
}

/// `{ready, models: [{id, role: required|recommended, installed, downloadable, license, license_url,
/// size_bytes, kind, description}]}`; `ready` once every required model is on this machine.
pub fn setup_status(models: &ModelStore) -> Value {
    let wanted = [
        (doctalk_models::DEFAULT_ENCODER_ID, "required"),
        (doctalk_models::llm::DEFAULT_LLM.name, "recommended"),
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
        ready &= installed || role != "required";
        let m = status.manifest;
        listed.push(json!({
            "id": m.short_name,
            "role": role,
            "installed": installed,
            "downloadable": m.hub().is_some(),
            "license": m.licence,
            "license_url": m.licence_url,
            // What the download brings (null: not known until it starts).
            "size_bytes": m.hub_download_bytes(),
            "kind": m.kind,
            "description": m.id,
        }));
    }
    let models_dir = models.roots().data_dir.as_ref().map(|d| d.join("models"));
    json!({"ready": ready, "models": listed, "models_dir": models_dir})
}
