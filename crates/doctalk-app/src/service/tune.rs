//! "Train on this knowledge base": fine-tunes a LoRA adapter for the local language model on the
//! knowledge base's FAQ pairs, as `doctalk tune --kb` does (the training is
//! `doctalk_models::llm::tune`; the pairs, the base and where the adapter goes are
//! `doctalk_core::tuning`). First an estimate (the split, the steps and the time, measured on this
//! machine), then the run with its progress; stopping saves a checkpoint that the next run resumes;
//! the end compares base and tuned on the held-out pairs. "Use this adapter" is a settings change
//! (`model.adapter` = the adapter's name).

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use doctalk_core::settings::Settings;
use doctalk_core::CoreError;
use doctalk_models::llm::tune::{self, QaPair, TuneConfig, TuneEstimate, TuneReport};
use doctalk_models::{DeviceChoice, ModelError};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Emit;
use crate::AppError;
use crate::Engine;

/// One run at a time in a process: a run holds gigabytes and every core, and two runs on one
/// knowledge base would write the same directory.
static RUNNING: AtomicBool = AtomicBool::new(false);

/// Holding it is being the run; dropping it (at the end, or when the run fails or panics) lets the
/// next one start.
struct RunSlot;

impl Drop for RunSlot {
    fn drop(&mut self) {
        RUNNING.store(false, Ordering::SeqCst);
    }
}

/// What the app may change of a run; everything else is `TuneConfig::default()`, as for
/// `doctalk tune`.
#[derive(Debug, Default, Deserialize, ts_rs::TS)]
pub struct TuneRequest {
    /// Continue the checkpoint a stopped run left (the estimate says whether there is one).
    #[serde(default)]
    #[ts(as = "Option<bool>", optional)]
    pub resume: bool,
    /// Discard a checkpoint left by a stopped run and start over.
    #[serde(default)]
    #[ts(as = "Option<bool>", optional)]
    pub restart: bool,
    /// Passes over the pairs (default 3).
    #[ts(optional)]
    pub epochs: Option<usize>,
    /// Stop after this many steps, whatever the epochs say.
    #[ts(optional)]
    pub max_steps: Option<usize>,
    /// Other ways of asking each question, written by the model first (default 0).
    #[ts(optional)]
    pub paraphrases: Option<usize>,
}

impl TuneRequest {
    fn config(&self) -> TuneConfig {
        let defaults = TuneConfig::default();
        TuneConfig {
            epochs: self.epochs.unwrap_or(defaults.epochs),
            max_steps: self.max_steps,
            paraphrases: self.paraphrases.unwrap_or(defaults.paraphrases),
            ..defaults
        }
    }
}

/// What the app shows before a run: the knowledge base's pairs, the model, the adapter's name and
/// whether it replaces one, and the estimate.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct TunePlan {
    pub kb: String,
    pub pairs: usize,
    /// The adapter's name in settings, and its directory.
    pub adapter_name: String,
    pub adapter_path: PathBuf,
    /// An adapter of that name exists and a finished run replaces it.
    pub replaces: bool,
    /// With the base model's file (`base`).
    #[serde(flatten)]
    pub estimate: TuneEstimate,
}

/// The end of a run.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct TuneOutcome {
    /// The adapter's name in settings (`adapter` is its directory).
    pub adapter_name: String,
    /// The settings use this adapter now (the model was reloaded with the new one).
    pub in_use: bool,
    #[serde(flatten)]
    pub report: TuneReport,
}

/// The run that `request` would start on knowledge base `kb`, with its measured time estimate.
/// Takes seconds: the estimate times a training step.
pub async fn tune_estimate(s: &Engine, kb: Option<&str>, request: TuneRequest) -> Result<TunePlan, AppError> {
    after_the_running_run().await?;
    let job = Job::new(s, kb, &request).await?;
    let config = request.config();
    let (base, pairs, out) = (job.base.clone(), job.pairs.clone(), job.out.clone());
    let estimate =
        tokio::task::spawn_blocking(move || tune::estimate(&base, DeviceChoice::Cpu, &pairs, &out, &config))
            .await
            .map_err(|e| AppError::Io(format!("the estimate stopped: {e}")))?
            .map_err(refusal)?;
    Ok(TunePlan {
        kb: job.kb,
        pairs: job.pairs.len(),
        adapter_name: job.adapter,
        replaces: job.out.join("adapter_config.json").is_file(),
        adapter_path: job.out,
        estimate,
    })
}

/// Trains the adapter: `progress` events carry the training's own events (`{"event": "prepared"
/// | "validated" | "step" | "checkpoint" | "comparing", …}`, as `doctalk tune --json` reports
/// them); the result is the report. Cancelling stops after the current step with a checkpoint
/// saved (`stopped` in the report).
pub async fn tune_kb(
    s: &Engine,
    kb: Option<&str>,
    request: TuneRequest,
    emit: Emit,
    cancel: Arc<AtomicBool>,
) -> Result<TuneOutcome, AppError> {
    let _running = one_run_at_a_time()?;
    let job = Job::new(s, kb, &request).await?;
    if request.restart {
        tune::discard_checkpoint(&job.out).map_err(CoreError::from)?;
    }
    let config = request.config();
    let (base, pairs, out, resume) = (
        job.base.clone(),
        job.pairs.clone(),
        job.out.clone(),
        request.resume,
    );
    let report = tokio::task::spawn_blocking(move || {
        tune::tune(
            &base,
            DeviceChoice::Cpu,
            &pairs,
            &out,
            &config,
            resume,
            &mut |event| {
                emit("progress", json!(event));
                if cancel.load(Ordering::SeqCst) {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        )
    })
    .await
    .map_err(|e| AppError::Io(format!("fine-tuning stopped: {e}")))?
    .map_err(refusal)?;
    // Training again into the adapter the settings already use changes nothing in the settings:
    // the model is reloaded so that answers use the new one.
    let settings = Settings::load(s.workspace.data_dir())?;
    let in_use = !report.stopped && settings.model.adapter.as_deref() == Some(job.adapter.as_str());
    if in_use {
        s.language_model.apply(&settings);
    }
    Ok(TuneOutcome {
        adapter_name: job.adapter,
        in_use,
        report,
    })
}

/// A run's inputs: the knowledge base's pairs, the settings' local model, the adapter's place.
struct Job {
    kb: String,
    pairs: Vec<QaPair>,
    base: PathBuf,
    adapter: String,
    out: PathBuf,
}

impl Job {
    async fn new(s: &Engine, kb: Option<&str>, request: &TuneRequest) -> Result<Self, AppError> {
        if request.resume && request.restart {
            return Err(AppError::BadRequest(
                "resume continues a checkpoint and restart discards it: ask for one".into(),
            ));
        }
        let library = s.library(kb).await?;
        let name = kb
            .map(str::to_string)
            .unwrap_or_else(|| s.workspace.default_kb().to_string());
        let data_dir = s.workspace.data_dir();
        let settings = Settings::load(data_dir)?;
        let base =
            doctalk_core::tuning::base_model(&settings, s.language_model.roots()).map_err(refusal_core)?;
        let pairs = doctalk_core::tuning::pairs_from_kb(&library.kb, &name)
            .await
            .map_err(refusal_core)?;
        Ok(Job {
            out: doctalk_core::tuning::default_out(data_dir, &name),
            adapter: doctalk_core::tuning::adapter_name(&name),
            kb: name,
            pairs,
            base,
        })
    }
}

/// Waits for a run that is ending (one just stopped saves its checkpoint first, and the estimate
/// after it must see that), or says that one is going.
async fn after_the_running_run() -> Result<(), AppError> {
    for _ in 0..300 {
        if !RUNNING.load(Ordering::SeqCst) {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Err(AppError::Busy(
        "a fine-tuning run is going: ask for an estimate when it has ended".into(),
    ))
}

fn one_run_at_a_time() -> Result<RunSlot, AppError> {
    if RUNNING.swap(true, Ordering::SeqCst) {
        return Err(AppError::Busy(
            "a fine-tuning run is already going (one at a time: it holds every core)".into(),
        ));
    }
    Ok(RunSlot)
}

/// What the user can act on is the request's fault (400), not the server's: a model that cannot be
/// tuned, settings or a checkpoint that do not fit, a knowledge base without FAQ pairs.
fn refusal(e: ModelError) -> AppError {
    refusal_core(CoreError::from(e))
}

fn refusal_core(e: CoreError) -> AppError {
    match e {
        CoreError::Model(
            ModelError::BadConfig { .. }
            | ModelError::Catalog(doctalk_models::CatalogError::NotFound { .. })
            | ModelError::Catalog(doctalk_models::CatalogError::UnknownModel { .. })
            | ModelError::UnsupportedArchitecture { .. },
        )
        | CoreError::NoFaqPairs(_)
        | CoreError::BadSettings(_) => AppError::BadRequest(e.to_string()),
        e => AppError::Core(e),
    }
}
