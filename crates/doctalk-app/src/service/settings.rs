//! The settings screen: saved settings, the model catalogue (licence and size before any
//! download), model downloads with progress, and the voices.

use std::path::PathBuf;

use serde::Serialize;
use serde_json::json;
use ts_rs::TS;

use super::Emit;
use crate::language_model::{ModelState, ModelStatus};
use crate::{AppError, Engine};
use doctalk_catalog::store::{AnswerScores, ModelStore};
use doctalk_core::adapters::AdapterEntry;
use doctalk_core::settings::{
    Device, LanguagePref, ModelChoice, ModelKind, ScriptPref, Settings, SettingsPatch, VoiceChoice,
};

pub async fn settings(s: &Engine) -> Result<SettingsView, AppError> {
    let settings = Settings::load(s.workspace.data_dir())?;
    Ok(view(s, &settings))
}

/// Applies a change of settings (see [`SettingsPatch`]: the shape `settings` returns, any part of
/// it; read-only fields are passed over) and returns the saved settings. Another model or device
/// starts loading at once (the current one answers until it is ready); `model_status` says how
/// that goes.
pub async fn update_settings(s: &Engine, patch: SettingsPatch) -> Result<SettingsView, AppError> {
    let dir = s.workspace.data_dir().to_path_buf();
    let old = Settings::load(&dir)?;
    let new = old.patched(&patch)?;
    new.save(&dir)?;
    // A changed choice loads; so does choosing the same again when it is not running (a server
    // started with --no-llm, or a load that failed and whose cause the user has since fixed).
    let running = matches!(
        s.language_model.state(),
        ModelState::Ready | ModelState::Loading { .. }
    );
    if old.model_changed(&new) || (patch.chooses_model() && !running && new.model.kind != ModelKind::None) {
        s.language_model.apply(&new);
    }
    Ok(view(s, &new))
}

/// The settings screen: the saved settings, what is running, and what can be chosen.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SettingsView {
    pub data_dir: PathBuf,
    pub kb: String,
    pub language: LanguagePref,
    pub script: ScriptPref,
    pub model: ModelChoice,
    /// The model answering now.
    pub model_loaded: Option<String>,
    pub model_status: ModelStatus,
    pub device: DeviceOptions,
    pub encoder: String,
    pub voice: VoiceChoice,
    pub catalogue: Vec<CatalogueEntry>,
    /// The user's LoRA adapters (kept in `adapters_dir`), for the local model's adapter choice.
    pub adapters: Vec<AdapterEntry>,
    pub adapters_dir: PathBuf,
    pub voices: Vec<VoiceEntry>,
}

/// The saved device and those this build can run on.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DeviceOptions {
    pub current: Device,
    pub available: Vec<Device>,
}

/// A model of the catalogue, with its licence and size shown before any download.
#[derive(Debug, Clone, Serialize, TS)]
pub struct CatalogueEntry {
    pub id: String,
    pub kind: String,
    pub license: String,
    pub license_url: String,
    /// The files' size (null: a source that does not say).
    pub size_bytes: Option<u64>,
    pub installed: bool,
    pub description: String,
    pub languages: Vec<String>,
    /// A chat model's scores on DocTalk's labelled questions (rates in 0..1).
    pub measured: Option<AnswerScores>,
}

/// A voice answers can be read in.
#[derive(Debug, Clone, Serialize, TS)]
pub struct VoiceEntry {
    pub id: String,
    /// `espeak-ng`, `piper` or `cloned`.
    #[ts(type = "'espeak-ng' | 'piper' | 'cloned'")]
    pub kind: &'static str,
    /// How it speaks (for cloned voices: the neural converter or tone matching).
    pub engine: String,
    pub languages: Vec<String>,
    pub license: String,
    pub available: bool,
    /// Why it cannot speak on this machine.
    pub reason: Option<String>,
}

fn view(s: &Engine, settings: &Settings) -> SettingsView {
    let catalogue = s
        .models
        .list()
        .into_iter()
        .map(|m| CatalogueEntry {
            size_bytes: m.manifest.size_bytes(),
            installed: m.installed.is_some(),
            id: m.manifest.short_name.clone(),
            kind: m.manifest.kind.clone(),
            license: m.manifest.licence.clone(),
            license_url: m.manifest.licence_url.clone(),
            description: m.manifest.id.clone(),
            languages: m.manifest.languages.clone(),
            measured: m.manifest.measured.clone(),
        })
        .collect();
    let voices = super::voices::catalog(s)
        .list()
        .into_iter()
        .map(|v| VoiceEntry {
            id: v.id,
            kind: v.kind,
            engine: v.engine,
            languages: v.languages.iter().map(|l| l.as_str().to_string()).collect(),
            license: v.licence,
            available: v.unavailable.is_none(),
            reason: v.unavailable,
        })
        .collect();
    let mut available = vec![Device::Cpu];
    if doctalk_models::CUDA_BUILT {
        available.push(Device::Cuda);
    }
    let data_dir = s.workspace.data_dir();
    SettingsView {
        data_dir: data_dir.to_path_buf(),
        kb: s.workspace.default_kb().to_string(),
        language: settings.language,
        script: settings.script,
        model: settings.model.clone(),
        model_loaded: s.generator().map(|g| g.model_id().to_string()),
        model_status: s.language_model.status(),
        device: DeviceOptions {
            current: settings.device,
            available,
        },
        encoder: s.workspace.embedder().model_id().to_string(),
        voice: settings.voice.clone(),
        catalogue,
        adapters: doctalk_core::adapters::list(data_dir),
        adapters_dir: doctalk_core::adapters::dir(data_dir),
        voices,
    }
}

/// A model downloaded into the model store.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Downloaded {
    pub id: String,
    pub path: PathBuf,
}

/// Downloads a catalogue model into the model store: `progress` {file, downloaded, total}; returns
/// {id, path}. Offline, an unknown model, no hub source or a checksum mismatch are errors.
/// Needs only the model store, so the first-run screen can download before the engine starts.
pub async fn download_model(models: &ModelStore, id: &str, emit: Emit) -> Result<Downloaded, AppError> {
    let path = models
        .pull(id, &move |file: &str, downloaded: u64, total: Option<u64>| {
            emit(
                "progress",
                json!({"file": file, "downloaded": downloaded, "total": total}),
            )
        })
        .await
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    Ok(Downloaded {
        id: id.to_string(),
        path,
    })
}
