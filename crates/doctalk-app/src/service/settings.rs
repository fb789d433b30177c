//! The settings screen: saved settings, the model catalogue (licence and size before any
//! download), model downloads with progress, and the voices.

use serde_json::{json, Value};

use super::Emit;
use crate::language_model::ModelState;
use crate::{AppError, Engine};
use doctalk_core::settings::{ModelKind, Settings};
use doctalk_models::store::ModelStore;

pub async fn settings(s: &Engine) -> Result<Value, AppError> {
    let settings = Settings::load(s.workspace.data_dir())?;
    Ok(view(s, &settings))
}

/// Takes a partial settings object (the shape `settings` returns; read-only fields are ignored)
/// and returns the saved settings. Another model or device starts loading at once (the current
/// one answers until it is ready); `model_status` says how that goes.
pub async fn update_settings(s: &Engine, patch: Value) -> Result<Value, AppError> {
    let Value::Object(fields) = patch else {
        return Err(AppError::BadRequest("settings are a JSON object".into()));
    };
    let mut editable = serde_json::Map::new();
    for key in ["language", "model", "device", "voice"] {
        if let Some(v) = fields.get(key) {
            // `settings` shows the device as {current, available}; accept that shape back.
            let v = match (key, v) {
                ("device", Value::Object(d)) => d.get("current").cloned().unwrap_or(Value::Null),
                _ => v.clone(),
            };
            editable.insert(key.to_string(), v);
        }
    }
    let dir = s.workspace.data_dir().to_path_buf();
    let old = Settings::load(&dir)?;
    let new = old.merged(&Value::Object(editable))?;
    new.save(&dir)?;
    // A changed choice loads; so does choosing the same again when it is not running (a server
    // started with --no-llm, or a load that failed and whose cause the user has since fixed).
    let asked = fields.contains_key("model") || fields.contains_key("device");
    let running = matches!(
        s.language_model.state(),
        ModelState::Ready | ModelState::Loading { .. }
    );
    if old.model_changed(&new) || (asked && !running && new.model.kind != ModelKind::None) {
        s.language_model.apply(&new);
    }
    Ok(view(s, &new))
}

fn view(s: &Engine, settings: &Settings) -> Value {
    let catalogue: Vec<Value> = s
        .models
        .list()
        .into_iter()
        .map(|m| {
            json!({
                "id": m.manifest.short_name,
                "kind": m.manifest.kind,
                "license": m.manifest.licence,
                "license_url": m.manifest.licence_url,
                "size_bytes": m.manifest.size_bytes(),
                "installed": m.installed.is_some(),
                "description": m.manifest.id,
                "languages": m.manifest.languages,
                "measured": m.manifest.measured,
            })
        })
        .collect();
    let voices: Vec<Value> = super::voices::catalog(s)
        .list()
        .into_iter()
        .map(|v| {
            json!({
                "id": v.id,
                "kind": v.kind,
                "engine": v.engine,
                "languages": v.languages,
                "license": v.licence,
                "available": v.unavailable.is_none(),
                "reason": v.unavailable,
            })
        })
        .collect();
    // The user's LoRA adapters, for the local model's adapter choice.
    let adapters = doctalk_core::adapters::list(s.workspace.data_dir());
    let mut devices = vec!["cpu"];
    if doctalk_models::CUDA_BUILT {
        devices.push("cuda");
    }
    json!({
        "data_dir": s.workspace.data_dir(),
        "kb": s.workspace.default_kb(),
        "language": settings.language,
        "script": settings.script,
        "model": settings.model,
        "model_loaded": s.generator().map(|g| g.model_id().to_string()),
        "model_status": s.language_model.status_json(),
        "device": {"current": settings.device, "available": devices},
        "encoder": s.workspace.embedder().model_id(),
        "voice": settings.voice,
        "catalogue": catalogue,
        "adapters": adapters,
        "adapters_dir": doctalk_core::adapters::dir(s.workspace.data_dir()),
        "voices": voices,
    })
}

/// Downloads a catalogue model into the model store: `progress` {file, downloaded, total}; returns
/// {id, path}. Offline, an unknown model, no hub source or a checksum mismatch are errors.
/// Needs only the model store, so the first-run screen can download before the engine starts.
pub async fn download_model(models: &ModelStore, id: &str, emit: Emit) -> Result<Value, AppError> {
    let path = models
        .pull(id, &move |file: &str, downloaded: u64, total: Option<u64>| {
            emit(
                "progress",
                json!({"file": file, "downloaded": downloaded, "total": total}),
            )
        })
        .await
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    Ok(json!({"id": id, "path": path}))
}
