//! The keys and values of a prompt's shared start (the system turn every grounded prompt opens
//! with), kept on disk between processes: `doctalk ask` is a new process per question, and running
//! the same hundred-odd tokens again each time cost about 0.6 s of the wait for the first words on a
//! two-core laptop.
//!
//! Everything here is an optimisation: a file that is missing, unreadable, for another model file
//! or for other tokens is ignored (and the start run again), and a file is written whole or not at
//! all (written aside, then renamed).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use candle_core::{Device, Tensor};
use sha2::{Digest, Sha256};

/// Changes when what a file holds changes meaning.
const FORMAT: &str = "doctalk prompt start 1";

/// Files kept at most: one per model and language is the common case, and each is a few MB.
const MAX_FILES: usize = 8;

/// A file's path, size and modification time, one line each.
fn identity(file: &Path) -> Option<String> {
    let meta = std::fs::metadata(file).ok()?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let path = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    Some(format!("{}\n{}\n{modified}\n", path.display(), meta.len()))
}

/// Keys and values per layer, as [`CausalLm::kv_cache`](super::backend::CausalLm::kv_cache) gives them.
pub(crate) type LayerCache = Vec<(Tensor, Tensor)>;

/// Saved starts of one model file (with its adapter, if any).
#[derive(Debug, Clone)]
pub(crate) struct PromptStarts {
    dir: PathBuf,
    /// What the saved values depend on: the weights' files (path, size, time) and the decoder.
    model: String,
}

impl PromptStarts {
    /// Starts of `model` (and `adapter`) kept in `dir`; `None` when a file's metadata cannot be read.
    pub(crate) fn new(dir: &Path, model: &Path, adapter: Option<&Path>, decoder: &str) -> Option<Self> {
        // The code that computed the values (a later fix to the decoder or kernels changes them),
        // and the kernels this CPU runs (the int8 paths round differently).
        let mut key = format!(
            "{FORMAT}\n{}\n{decoder}\n{}\n",
            env!("CARGO_PKG_VERSION"),
            doctalk_qgemm::Isa::detect().name()
        );
        for file in std::iter::once(model).chain(adapter) {
            key.push_str(&identity(file)?);
            // An adapter (or model) directory changes when a file inside it is rewritten.
            if file.is_dir() {
                let mut inside: Vec<PathBuf> = std::fs::read_dir(file)
                    .ok()?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.is_file())
                    .collect();
                inside.sort();
                for f in inside {
                    key.push_str(&identity(&f)?);
                }
            }
        }
        Some(Self {
            dir: dir.to_path_buf(),
            model: key,
        })
    }

    fn file(&self, tokens: &[u32]) -> PathBuf {
        let mut hash = Sha256::new();
        hash.update(self.model.as_bytes());
        for t in tokens {
            hash.update(t.to_le_bytes());
        }
        let digest = hash.finalize();
        let name: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{name}.safetensors"))
    }

    /// The saved keys and values of `tokens`.
    pub(crate) fn load(&self, tokens: &[u32], device: &Device) -> Option<LayerCache> {
        let path = self.file(tokens);
        if !path.is_file() {
            return None;
        }
        let read = || -> candle_core::Result<Option<LayerCache>> {
            let mut saved = candle_core::safetensors::load(&path, device)?;
            let same_tokens = saved
                .remove("tokens")
                .map(|t| t.to_vec1::<u32>())
                .transpose()?
                .is_some_and(|t| t == tokens);
            if !same_tokens {
                return Ok(None);
            }
            let mut layers = Vec::new();
            while let (Some(k), Some(v)) = (
                saved.remove(&format!("k.{}", layers.len())),
                saved.remove(&format!("v.{}", layers.len())),
            ) {
                layers.push((k, v));
            }
            Ok((!layers.is_empty() && saved.is_empty()).then_some(layers))
        };
        match read() {
            Ok(found) => found,
            Err(e) => {
                tracing::debug!(path = %path.display(), error = %e, "saved prompt start unreadable; running it again");
                None
            }
        }
    }

    /// Saves the keys and values of `tokens`.
    pub(crate) fn save(&self, tokens: &[u32], layers: &[(Tensor, Tensor)]) {
        let path = self.file(tokens);
        let write = || -> candle_core::Result<()> {
            let mut all: HashMap<String, Tensor> = HashMap::new();
            all.insert("tokens".into(), Tensor::new(tokens, &Device::Cpu)?);
            for (i, (k, v)) in layers.iter().enumerate() {
                // A cache cut back to the start is a view into a longer one: saved alone.
                all.insert(format!("k.{i}"), k.to_device(&Device::Cpu)?.contiguous()?);
                all.insert(format!("v.{i}"), v.to_device(&Device::Cpu)?.contiguous()?);
            }
            std::fs::create_dir_all(&self.dir)?;
            // Unique per process and write: two generators may save the same start at once.
            static WRITES: AtomicU64 = AtomicU64::new(0);
            let partial = path.with_extension(format!(
                "partial.{}.{}",
                std::process::id(),
                WRITES.fetch_add(1, Ordering::Relaxed)
            ));
            candle_core::safetensors::save(&all, &partial)?;
            std::fs::rename(&partial, &path).inspect_err(|_| {
                let _ = std::fs::remove_file(&partial);
            })?;
            Ok(())
        };
        if let Err(e) = write() {
            tracing::debug!(path = %path.display(), error = %e, "could not save the prompt start");
        }
        self.forget_oldest();
    }

    /// Deletes the least recently written files beyond [`MAX_FILES`] (starts of models no longer
    /// used, of an adapter since retrained).
    fn forget_oldest(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut saved: Vec<(std::time::SystemTime, PathBuf)> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "safetensors"))
            .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
            .collect();
        if saved.len() <= MAX_FILES {
            return;
        }
        saved.sort();
        for (_, old) in &saved[..saved.len() - MAX_FILES] {
            let _ = std::fs::remove_file(old);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layers() -> LayerCache {
        (0..3)
            .map(|i| {
                let k = Tensor::arange(0f32, 24.0, &Device::Cpu)
                    .unwrap()
                    .reshape((1, 2, 3, 4))
                    .unwrap();
                ((&k + i as f64).unwrap(), (&k * 2.0).unwrap())
            })
            .collect()
    }

    #[test]
    fn a_saved_start_comes_back_only_for_the_same_model_and_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("model.gguf");
        std::fs::write(&model, b"weights").unwrap();
        let starts = PromptStarts::new(&dir.path().join("starts"), &model, None, "llama_like").unwrap();
        assert!(starts.load(&[1, 2, 3], &Device::Cpu).is_none());
        starts.save(&[1, 2, 3], &layers());
        let got = starts.load(&[1, 2, 3], &Device::Cpu).unwrap();
        assert_eq!(got.len(), 3);
        for ((k, v), (wk, wv)) in got.iter().zip(layers()) {
            let values = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            assert_eq!((k.dims(), values(k)), (wk.dims(), values(&wk)));
            assert_eq!((v.dims(), values(v)), (wv.dims(), values(&wv)));
        }
        assert!(starts.load(&[1, 2], &Device::Cpu).is_none(), "other tokens");
        // Another decoder, or the model file changed: not found.
        let other = PromptStarts::new(&dir.path().join("starts"), &model, None, "glm").unwrap();
        assert!(other.load(&[1, 2, 3], &Device::Cpu).is_none());
        std::fs::write(&model, b"other weights").unwrap();
        let changed = PromptStarts::new(&dir.path().join("starts"), &model, None, "llama_like").unwrap();
        assert!(changed.load(&[1, 2, 3], &Device::Cpu).is_none());
    }

    #[test]
    fn a_rewritten_adapter_file_and_old_starts_are_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("model.gguf");
        std::fs::write(&model, b"weights").unwrap();
        let adapter = dir.path().join("adapter");
        std::fs::create_dir(&adapter).unwrap();
        std::fs::write(adapter.join("adapter_model.safetensors"), b"lora a").unwrap();
        let kept = dir.path().join("starts");
        let starts = PromptStarts::new(&kept, &model, Some(&adapter), "Integer").unwrap();
        starts.save(&[1], &layers());
        assert!(starts.load(&[1], &Device::Cpu).is_some());
        std::fs::write(adapter.join("adapter_model.safetensors"), b"lora bb").unwrap();
        let retrained = PromptStarts::new(&kept, &model, Some(&adapter), "Integer").unwrap();
        assert!(retrained.load(&[1], &Device::Cpu).is_none());
        // Only the newest MAX_FILES stay.
        for t in 0..MAX_FILES as u32 + 3 {
            retrained.save(&[t], &layers());
            // Files written within one clock tick of the file system share a time.
            std::thread::sleep(std::time::Duration::from_millis(15));
        }
        assert_eq!(std::fs::read_dir(&kept).unwrap().count(), MAX_FILES);
        assert!(retrained.load(&[MAX_FILES as u32 + 2], &Device::Cpu).is_some());
    }

    #[test]
    fn a_damaged_file_is_ignored_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("model.gguf");
        std::fs::write(&model, b"weights").unwrap();
        let starts = PromptStarts::new(dir.path(), &model, None, "llama_like").unwrap();
        starts.save(&[7, 8], &layers());
        let file = starts.file(&[7, 8]);
        let bytes = std::fs::read(&file).unwrap();
        std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
        assert!(starts.load(&[7, 8], &Device::Cpu).is_none());
        starts.save(&[7, 8], &layers());
        assert!(starts.load(&[7, 8], &Device::Cpu).is_some());
        // Nothing left over from writing.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.contains("partial"))
            .collect();
        assert!(names.is_empty(), "{names:?}");
        // A directory that cannot be made is no error either.
        let blocked = PromptStarts::new(&model.join("starts"), &model, None, "llama_like").unwrap();
        blocked.save(&[7, 8], &layers());
        assert!(blocked.load(&[7, 8], &Device::Cpu).is_none());
    }
}
