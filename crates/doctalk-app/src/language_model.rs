//! The language model behind answers, switchable while the app runs. A settings change (another
//! model, a remote endpoint, another device) loads the new model in the background while the old
//! one keeps answering, then swaps; a model that fails to load leaves the old one in place and
//! says why. Answers hold their own `Arc`, so a swap never cuts one short.

use std::sync::{Arc, Mutex, MutexGuard};

use doctalk_core::settings::{Device, ModelKind, Settings};
use doctalk_models::llm::{Generator, RemoteConfig, RemoteGenerator};
use doctalk_models::{DeviceChoice, SearchRoots};

/// The language model's state and the model answering now: a change loads in the background
/// while the old model answers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
pub struct ModelStatus {
    #[serde(flatten)]
    pub state: ModelState,
    /// The model answering now.
    pub model: Option<String>,
}

/// Where the model stands, as the settings screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum ModelState {
    /// No language model: answers are extractive.
    Off,
    Ready,
    /// `choice` is being loaded; the previous model (if any) answers meanwhile.
    Loading {
        choice: String,
    },
    /// The last choice could not be loaded; the previous model (if any) still answers.
    Failed {
        message: String,
    },
}

struct Slot {
    current: Option<Arc<dyn Generator>>,
    state: ModelState,
    /// Bumped by every change, so that a slow load finishing after a newer choice is dropped.
    ticket: u64,
}

/// The swappable language model of one engine.
pub struct LanguageModel {
    slot: Mutex<Slot>,
    /// Where local models are looked for.
    roots: SearchRoots,
}

impl LanguageModel {
    pub fn new(initial: Option<Arc<dyn Generator>>, roots: SearchRoots) -> Self {
        let state = if initial.is_some() {
            ModelState::Ready
        } else {
            ModelState::Off
        };
        LanguageModel {
            slot: Mutex::new(Slot {
                current: initial,
                state,
                ticket: 0,
            }),
            roots,
        }
    }

    /// Where local models are looked for.
    pub fn roots(&self) -> &SearchRoots {
        &self.roots
    }

    /// The model answering now, if any.
    pub fn current(&self) -> Option<Arc<dyn Generator>> {
        self.lock().current.clone()
    }

    pub fn state(&self) -> ModelState {
        self.lock().state.clone()
    }

    /// `{state, model, choice?, message?}` for the settings screen and `/api/health`.
    pub fn status(&self) -> ModelStatus {
        let slot = self.lock();
        ModelStatus {
            state: slot.state.clone(),
            model: slot.current.as_ref().map(|g| g.model_id().to_string()),
        }
    }

    /// Switches to what `settings` choose. "none" takes effect at once; a model loads in the
    /// background (on the current tokio runtime) and replaces the current one when it is ready.
    pub fn apply(self: &Arc<Self>, settings: &Settings) {
        let mut slot = self.lock();
        slot.ticket += 1;
        if settings.model.kind == ModelKind::None {
            slot.current = None;
            slot.state = ModelState::Off;
            return;
        }
        let ticket = slot.ticket;
        slot.state = ModelState::Loading {
            choice: describe(settings),
        };
        drop(slot);
        let (this, settings) = (self.clone(), settings.clone());
        tokio::spawn(async move {
            let loaded = load(&settings, &this.roots).await;
            let mut slot = this.lock();
            if slot.ticket != ticket {
                return; // a newer choice was made while this one loaded
            }
            match loaded {
                Ok(Some(g)) => {
                    tracing::info!(model = g.model_id(), "language model switched");
                    slot.current = Some(g);
                    slot.state = ModelState::Ready;
                }
                Ok(None) => {
                    slot.current = None;
                    slot.state = ModelState::Off;
                }
                Err(message) => {
                    tracing::warn!(%message, "the chosen language model could not be loaded");
                    slot.state = ModelState::Failed { message };
                }
            }
        });
    }

    fn lock(&self) -> MutexGuard<'_, Slot> {
        // The slot is replaced whole under the lock, so a poisoned one is still consistent.
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// How a remote endpoint is reached beyond its URL: what the CLI's `--llm-api-key` and
/// `--llm-context` say (the settings screen has neither).
#[derive(Debug, Clone)]
pub struct RemoteAccess {
    /// Sent as a bearer token.
    pub api_key: Option<String>,
    /// The endpoint model's context window in tokens.
    pub context_window: usize,
}

impl Default for RemoteAccess {
    fn default() -> Self {
        RemoteAccess {
            api_key: None,
            context_window: doctalk_models::llm::DEFAULT_CONTEXT_WINDOW,
        }
    }
}

/// The model `settings` choose: `Ok(None)` when they switch it off, `Err` with a message a user can
/// act on when it cannot be loaded. Every door turns its choice into a model here (the CLI after
/// its flags have overridden the saved settings).
pub async fn load(settings: &Settings, roots: &SearchRoots) -> Result<Option<Arc<dyn Generator>>, String> {
    load_with(settings, roots, &RemoteAccess::default()).await
}

/// [`load`], reaching a remote endpoint with `access`.
pub async fn load_with(
    settings: &Settings,
    roots: &SearchRoots,
    access: &RemoteAccess,
) -> Result<Option<Arc<dyn Generator>>, String> {
    match settings.model.kind {
        ModelKind::None => Ok(None),
        ModelKind::Remote => {
            let url = settings
                .model
                .url
                .clone()
                .ok_or("a remote model needs the endpoint's URL")?;
            let model = match settings.model.id.clone() {
                Some(id) => id,
                // Without a chosen model, the endpoint's first one that is not a knowledge base.
                None => RemoteGenerator::list_models(&url, access.api_key.as_deref())
                    .await
                    .map_err(|e| format!("{url}: {e}"))?
                    .into_iter()
                    .find(|m| !m.starts_with("doctalk-"))
                    .ok_or_else(|| format!("{url} lists no usable model; choose one by name"))?,
            };
            let mut config = RemoteConfig::new(&url, model);
            config.api_key = access.api_key.clone();
            config.context_window = access.context_window.max(512);
            let generator = RemoteGenerator::new(config).map_err(|e| e.to_string())?;
            Ok(Some(Arc::new(generator)))
        }
        ModelKind::Local => {
            let choice = settings.model.path.clone().or(settings.model.id.clone());
            let device = match settings.device {
                Device::Cuda => DeviceChoice::Cuda(0),
                Device::Cpu => DeviceChoice::Cpu,
            };
            let roots = roots.clone();
            let adapter = settings.model.adapter.clone();
            let loaded = tokio::task::spawn_blocking(move || {
                doctalk_core::local_model::load(&roots, choice.as_deref(), adapter.as_deref(), device)
            })
            .await
            .map_err(|e| format!("loading stopped: {e}"))?;
            loaded
                .map(|g| Some(Arc::<dyn Generator>::from(g)))
                .map_err(|e| e.to_string())
        }
    }
}

/// What is being loaded, in a few words.
fn describe(settings: &Settings) -> String {
    let m = &settings.model;
    let what = match m.kind {
        ModelKind::Remote => format!(
            "{} at {}",
            m.id.as_deref().unwrap_or("the first model"),
            m.url.as_deref().unwrap_or("?")
        ),
        _ => m
            .path
            .clone()
            .or(m.id.clone())
            .unwrap_or_else(|| "the default local model".into()),
    };
    let what = match (&m.adapter, m.kind) {
        (Some(adapter), ModelKind::Local) => format!("{what} with the adapter {adapter}"),
        _ => what,
    };
    match settings.device {
        Device::Cpu => what,
        device => format!("{what} on {}", device.as_str()),
    }
}
