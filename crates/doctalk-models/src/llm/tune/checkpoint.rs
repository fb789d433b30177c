//! The state of a run that has not finished, in `<out>/checkpoint/`: the LoRA matrices, the
//! optimizer's moments (`state.safetensors`) and the step reached (`state.json`). Written to a new
//! directory and renamed over the old one, so a run killed while saving leaves the previous
//! checkpoint whole.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::optim::AdamW;
use super::trainable::Trainable;
use super::{QaPair, TuneConfig};
use crate::error::{ModelError, Result};

const DIR: &str = "checkpoint";

#[derive(Serialize, Deserialize)]
struct State {
    step: usize,
    fingerprint: String,
    validation_loss_before: Option<f64>,
}

pub(crate) struct Checkpoint {
    pub(crate) step: usize,
    fingerprint: String,
    pub(crate) validation_loss_before: Option<f64>,
    tensors: HashMap<String, Tensor>,
}

/// What must not change between a run and its resumption: the base, the settings, the data.
pub(crate) fn fingerprint(base: &Path, config: &TuneConfig, pairs: &[QaPair]) -> String {
    use std::hash::{Hash, Hasher};
    // FNV-1a over the text, so that it is the same on every run and machine.
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    for pair in pairs {
        pair.question.hash(&mut h);
        pair.answer.hash(&mut h);
        pair.entry.hash(&mut h);
    }
    let size = std::fs::metadata(base).map(|m| m.len()).unwrap_or(0);
    format!(
        "{}|{size}|r{}|a{}|lr{}|e{}|s{}|max{}|v{}|p{}|{:016x}",
        base.file_name().map(|n| n.to_string_lossy()).unwrap_or_default(),
        config.rank,
        config.alpha,
        config.learning_rate,
        config.epochs,
        config.seed,
        config.max_tokens,
        config.validation_fraction,
        config.paraphrases,
        h.finish()
    )
}

struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= *b as u64;
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

fn key(layer: usize, k: usize, what: &str) -> String {
    format!("{layer}.{k}.{what}")
}

impl Checkpoint {
    fn dir(out: &Path) -> PathBuf {
        out.join(DIR)
    }

    /// The checkpoint in `out`, if a run left one. A run killed between the two renames of
    /// [`Checkpoint::save`] left only the previous one, set aside: that one is taken.
    pub(crate) fn find(out: &Path) -> Result<Option<Self>> {
        let dir = [Self::dir(out), out.join(format!("{DIR}.old"))]
            .into_iter()
            .find(|d| d.join("state.json").is_file());
        let Some(dir) = dir else {
            return Ok(None);
        };
        let unreadable = |reason: String| ModelError::BadConfig {
            path: dir.clone(),
            reason: format!("this training checkpoint cannot be read ({reason}); delete it to start over"),
        };
        let state_path = dir.join("state.json");
        let text = std::fs::read_to_string(&state_path).map_err(|e| unreadable(e.to_string()))?;
        let state: State = serde_json::from_str(&text).map_err(|e| unreadable(e.to_string()))?;
        let tensors = candle_core::safetensors::load(dir.join("state.safetensors"), &Device::Cpu)
            .map_err(|e| unreadable(e.to_string()))?;
        Ok(Some(Self {
            step: state.step,
            fingerprint: state.fingerprint,
            validation_loss_before: state.validation_loss_before,
            tensors,
        }))
    }

    /// `Err` (a message) when the run asked to resume is not the one saved.
    pub(crate) fn check(&self, fingerprint: &str) -> std::result::Result<(), String> {
        if self.fingerprint == fingerprint {
            return Ok(());
        }
        Err(format!(
            "holds a checkpoint of another run (another base model, other settings or other pairs: {} vs {fingerprint}); choose another output directory",
            self.fingerprint
        ))
    }

    pub(crate) fn matrices(&self, layer: usize, k: usize) -> Option<(Tensor, Tensor)> {
        Some((
            self.tensors.get(&key(layer, k, "a"))?.clone(),
            self.tensors.get(&key(layer, k, "b"))?.clone(),
        ))
    }

    /// The optimizer's moments in the order of [`Trainable::vars`].
    pub(crate) fn moments(&self) -> Vec<(Tensor, Tensor)> {
        let mut out = Vec::new();
        let mut i = 0;
        while let (Some(m), Some(v)) = (
            self.tensors.get(&format!("m.{i}")),
            self.tensors.get(&format!("v.{i}")),
        ) {
            out.push((m.clone(), v.clone()));
            i += 1;
        }
        out
    }

    pub(crate) fn save(
        out: &Path,
        model: &Trainable,
        optimizer: &AdamW,
        step: usize,
        fingerprint: &str,
        validation_loss_before: Option<f64>,
    ) -> Result<()> {
        let mut tensors: HashMap<String, Tensor> = HashMap::new();
        for (layer, k, p) in model.adapted() {
            tensors.insert(key(layer, k, "a"), p.a.as_tensor().clone());
            tensors.insert(key(layer, k, "b"), p.b.as_tensor().clone());
        }
        for (i, (m, v)) in optimizer.moments().iter().enumerate() {
            tensors.insert(format!("m.{i}"), m.clone());
            tensors.insert(format!("v.{i}"), v.clone());
        }
        let fresh = out.join(format!("{DIR}.partial"));
        let _ = std::fs::remove_dir_all(&fresh);
        std::fs::create_dir_all(&fresh).map_err(|e| ModelError::write(&fresh, e))?;
        let tensors_path = fresh.join("state.safetensors");
        candle_core::safetensors::save(&tensors, &tensors_path)
            .map_err(|e| ModelError::write(&tensors_path, std::io::Error::other(e.to_string())))?;
        let state = State {
            step,
            fingerprint: fingerprint.to_string(),
            validation_loss_before,
        };
        let text = serde_json::to_string_pretty(&state).map_err(|e| ModelError::corrupt(&fresh, e))?;
        std::fs::write(fresh.join("state.json"), text)
            .map_err(|e| ModelError::write(fresh.join("state.json"), e))?;
        // On disk before the swap: a power cut must not leave an empty file behind a good name.
        for file in ["state.safetensors", "state.json"] {
            let path = fresh.join(file);
            File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(|e| ModelError::write(&path, e))?;
        }
        // Swap: the current checkpoint goes aside first, and `find` looks there too, so a whole
        // checkpoint can be found at every moment. (When a crash left only the one set aside,
        // it stays until the new one is in place.)
        let dir = Self::dir(out);
        let old = out.join(format!("{DIR}.old"));
        if dir.exists() {
            let _ = std::fs::remove_dir_all(&old);
            std::fs::rename(&dir, &old).map_err(|e| ModelError::write(&dir, e))?;
        }
        std::fs::rename(&fresh, &dir).map_err(|e| ModelError::write(&dir, e))?;
        // The renames themselves, on disk (directories can be synced on Unix; elsewhere this is
        // a no-op that may fail, which changes nothing).
        let _ = File::open(out).and_then(|d| d.sync_all());
        let _ = std::fs::remove_dir_all(&old);
        Ok(())
    }

    /// After the adapter is written, the run's checkpoint is no longer needed.
    pub(crate) fn remove(out: &Path) -> Result<()> {
        for dir in [Self::dir(out), out.join(format!("{DIR}.old"))] {
            match std::fs::remove_dir_all(&dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(ModelError::write(&dir, e)),
                _ => {}
            }
        }
        Ok(())
    }
}
