//! The settings screen: saved settings, the model catalogue (licence and size before any
//! download), model downloads with progress, and the voices.

use serde_json::{json, Value};

use super::Emit;
use crate::{Engine, ServerError};
use doctalk_core::settings::Settings;

pub async fn settings(s: &Engine) -> Result<Value, ServerError> {
    let settings = Settings::load(s.workspace.data_dir())?;
    Ok(view(s, &settings, false))
}

/// Takes a partial settings object (the shape `settings` returns; read-only fields are ignored)
/// and returns the saved settings, with `restart_required` when the model or device changed.
pub async fn update_settings(s: &Engine, patch: Value) -> Result<Value, ServerError> {
    let Value::Object(fields) = patch else {
        return Err(ServerError::BadRequest("settings are a JSON object".into()));
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
    Ok(view(s, &new, old.needs_restart(&new)))
}

fn view(s: &Engine, settings: &Settings, restart_required: bool) -> Value {
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
            })
        })
        .collect();
    let voices_dir = s.workspace.data_dir().join("voices");
    let voices: Vec<Value> = doctalk_voice::VoiceCatalog::new(s.models.roots(), &voices_dir)
        .list()
        .into_iter()
        .map(|v| {
            json!({
                "id": v.id,
                "kind": v.kind,
                "languages": v.languages,
                "license": v.licence,
                "available": v.unavailable.is_none(),
                "reason": v.unavailable,
            })
        })
        .collect();
    let mut devices = vec!["cpu"];
    if doctalk_models::CUDA_BUILT {
        devices.push("cuda");
    }
    json!({
        "data_dir": s.workspace.data_dir(),
        "kb": s.workspace.default_kb(),
        "language": settings.language,
        "model": settings.model,
        "model_loaded": s.generator.as_ref().map(|g| g.model_id().to_string()),
        "device": {"current": settings.device, "available": devices},
        "encoder": s.workspace.embedder().model_id(),
        "voice": settings.voice,
        "catalogue": catalogue,
        "voices": voices,
        "restart_required": restart_required,
    })
}

/// Downloads a catalogue model into the model store: `progress` {file, downloaded, total}; returns
/// {id, path}. Offline, an unknown model, no hub source or a checksum mismatch are errors.
pub async fn download_model(s: &Engine, id: &str, emit: Emit) -> Result<Value, ServerError> {
    let path = s
        .models
        .pull(id, &move |file: &str, downloaded: u64, total: Option<u64>| {
            emit(
                "progress",
                json!({"file": file, "downloaded": downloaded, "total": total}),
            )
        })
        .await
        .map_err(|e| ServerError::BadRequest(e.to_string()))?;
    Ok(json!({"id": id, "path": path}))
}
