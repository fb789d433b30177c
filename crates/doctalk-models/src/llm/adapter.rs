//! LoRA adapters: a low-rank change `ΔW = scale · B·A` to some of a model's linear layers.
//!
//! Two formats are read:
//! - **PEFT** (Hugging Face): a directory with `adapter_config.json` and `adapter_model.safetensors`
//!   (or the older pickled `adapter_model.bin`). Tensors are named after the model's Python modules
//!   (`base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight`); the scale is
//!   `lora_alpha / r` (`/ √r` with rsLoRA), with per-module `rank_pattern` and `alpha_pattern`.
//! - **llama.cpp**: one GGUF file with `general.type = adapter`, tensors named after the base GGUF's
//!   (`blk.0.attn_q.weight.lora_a` / `.lora_b`) and one `adapter.lora.alpha`; the scale is
//!   `alpha / rank`.
//!
//! How an adapter is applied depends on the base (see ARCHITECTURE.md, "LoRA adapters"):
//! - a safetensors model (unquantized) gets `ΔW` added to its weights while they load: exact, and
//!   free at run time;
//! - a GGUF model on DocTalk's own decoders (qwen2, llama, chatglm) keeps its quantized weights and
//!   adds `scale · (x·Aᵀ)·Bᵀ` to each adapted projection at run time: a quantized weight cannot take
//!   a small change without losing it in its rounding;
//! - a GGUF model on candle's implementations (gemma, qwen3, glm4) gets each adapted weight
//!   dequantized, changed and kept in f32.
//!
//! Every mismatch is found before the model is built: a target the base does not have, shapes that
//! do not agree, a rank that differs from the one the configuration gives, another architecture.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use candle_core::quantized::gguf_file::Content;
use candle_core::{DType, Device, Shape, Tensor};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::Init;

use super::gguf_tokenizer::get_str;
use crate::error::{ModelError, Result};

/// One adapted linear layer: `y += (x · down) · up`, with the scale folded into `up`.
#[derive(Debug, Clone)]
pub(crate) struct LowRank {
    /// `Aᵀ`: `(in, rank)`.
    down: Tensor,
    /// `scale · Bᵀ`: `(rank, out)`.
    up: Tensor,
}

impl LowRank {
    /// From PEFT's `A` `(rank, in)` and `B` `(out, rank)`.
    fn new(a: &Tensor, b: &Tensor, scale: f64) -> candle_core::Result<Self> {
        Ok(Self {
            down: a.to_dtype(DType::F32)?.t()?.contiguous()?,
            up: (b.to_dtype(DType::F32)?.t()? * scale)?.contiguous()?,
        })
    }

    /// `(out, in)`: the shape of the weight it changes.
    pub(crate) fn weight_shape(&self) -> (usize, usize) {
        (self.up.dims()[1], self.down.dims()[0])
    }

    /// `ΔW`, `(out, in)`, in `dtype` on `device`: what merging adds to the weight.
    pub(crate) fn delta(&self, dtype: DType, device: &Device) -> candle_core::Result<Tensor> {
        self.up
            .t()?
            .matmul(&self.down.t()?)?
            .to_dtype(dtype)?
            .to_device(device)
    }

    /// `(…, in)` → `(…, out)`: the adapter's share of the layer's output.
    pub(crate) fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        xs.broadcast_matmul(&self.down)?.broadcast_matmul(&self.up)
    }

    /// The same change after llama.cpp's Llama conversion reordered the weight's rows (rotary pairs
    /// made adjacent, per head): `B`'s rows follow them.
    fn with_llama_rows(&self, heads: usize) -> candle_core::Result<Self> {
        // up is (rank, out): its columns are the weight's rows.
        let up = llama_rows(&self.up.t()?, heads, true)?.t()?.contiguous()?;
        Ok(Self {
            down: self.down.clone(),
            up,
        })
    }
}

/// llama.cpp's Llama conversion reorders each head's q/k rows so that rotary pairs are adjacent:
/// Hugging Face's rows `[0 … d/2 | d/2 … d]` become `[0, d/2, 1, d/2+1, …]`. `rows` is `(out, k)`;
/// `to_file` applies that order, otherwise it is undone.
pub(crate) fn llama_rows(rows: &Tensor, heads: usize, to_file: bool) -> candle_core::Result<Tensor> {
    let (out, k) = rows.dims2()?;
    if heads == 0 || out % (heads * 2) != 0 {
        candle_core::bail!("{out} rows do not split into {heads} heads of rotary pairs");
    }
    let half = out / heads / 2;
    let grouped = if to_file {
        rows.reshape((heads, 2, half, k))?
    } else {
        rows.reshape((heads, half, 2, k))?
    };
    grouped.transpose(1, 2)?.contiguous()?.reshape((out, k))
}

/// How an adapter names the layers it changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Naming {
    /// Python module paths (`model.layers.0.self_attn.q_proj`).
    Modules,
    /// llama.cpp tensor names (`blk.0.attn_q.weight`).
    Gguf,
}

/// A LoRA adapter read from disk, not yet matched to a model.
#[derive(Debug, Clone)]
pub struct Adapter {
    path: PathBuf,
    naming: Naming,
    /// The GGUF adapter's `general.architecture`.
    arch: Option<String>,
    /// What it was trained on, as the adapter says (`base_model_name_or_path`, or the GGUF
    /// adapter's architecture).
    base: Option<String>,
    layers: BTreeMap<String, LowRank>,
}

impl Adapter {
    /// Reads a PEFT directory (or its `adapter_config.json`) or a llama.cpp GGUF adapter.
    pub fn open(path: &Path) -> Result<Self> {
        if !path.exists() {
            return Err(bad(path, "no such file or directory"));
        }
        let dir = if path.is_file() && path.file_name().is_some_and(|n| n == "adapter_config.json") {
            path.parent().unwrap_or(Path::new("."))
        } else {
            path
        };
        if dir.is_dir() {
            return read_peft(dir);
        }
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gguf")) {
            return read_gguf(path);
        }
        Err(bad(
            path,
            "expected a PEFT adapter directory (adapter_config.json + adapter_model.safetensors) or a llama.cpp LoRA .gguf file",
        ))
    }

    /// What an adapter is, from its configuration and tensor table only (nothing is loaded or
    /// dequantized): for listing many adapters quickly. An adapter that passes may still not
    /// fit a given model; [`Adapter::open`] and loading say why.
    pub fn describe(path: &Path) -> Result<AdapterSummary> {
        if path.is_dir() {
            let config_path = path.join("adapter_config.json");
            let text = std::fs::read_to_string(&config_path)
                .map_err(|_| bad(path, "no adapter_config.json: not a PEFT adapter directory"))?;
            let config: PeftConfig = serde_json::from_str(&text)
                .map_err(|e| bad(&config_path, format!("adapter_config.json: {e}")))?;
            if let Some(reason) = config.unsupported() {
                return Err(bad(path, reason));
            }
            let weights = path.join("adapter_model.safetensors");
            let layers = if weights.is_file() {
                // SAFETY: read-only map, dropped at the end of this block.
                let file = unsafe { candle_core::safetensors::MmapedSafetensors::new(&weights) }
                    .map_err(|e| bad(&weights, e.to_string()))?;
                file.tensors()
                    .iter()
                    .filter(|(k, _)| k.contains(".lora_A."))
                    .count()
            } else {
                Self::open(path)?.len()
            };
            return Ok(AdapterSummary {
                format: "peft",
                layers,
                base_model: config.base_model_name_or_path.filter(|b| !b.is_empty()),
            });
        }
        let mut file = File::open(path).map_err(|e| ModelError::io(path, e))?;
        let content = super::load::read_gguf_header(&mut file).map_err(|e| bad(path, e))?;
        if get_str(&content.metadata, "general.type") != Some("adapter") {
            return Err(bad(path, "a model file, not a LoRA adapter"));
        }
        Ok(AdapterSummary {
            format: "gguf",
            layers: content
                .tensor_infos
                .keys()
                .filter(|k| k.ends_with(".lora_a"))
                .count(),
            base_model: get_str(&content.metadata, "general.architecture").map(str::to_string),
        })
    }

    /// Where it was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The model it was made for, when the adapter says: a name or path for PEFT adapters, an
    /// architecture for llama.cpp ones.
    pub fn base_model(&self) -> Option<&str> {
        self.base.as_deref()
    }

    /// "peft" or "gguf".
    pub fn format(&self) -> &'static str {
        match self.naming {
            Naming::Modules => "peft",
            Naming::Gguf => "gguf",
        }
    }

    /// How many linear layers it changes.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether it changes nothing (an adapter file with no LoRA tensors is refused, so never).
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// A short name for model ids: the directory's or file's name.
    pub fn name(&self) -> String {
        name_of(&self.path)
    }

    /// The layers of a safetensors model it changes, by weight name (`….q_proj.weight`).
    pub(crate) fn for_safetensors(&self, model: &Path) -> Result<Targets> {
        if self.naming == Naming::Gguf {
            return Err(self.mismatch(
                model,
                "a llama.cpp GGUF adapter applies to GGUF models; for this safetensors model use the PEFT adapter",
            ));
        }
        let layers = self
            .layers
            .iter()
            .map(|(module, low)| (format!("{module}.weight"), low.clone()))
            .collect();
        Ok(Targets::new(layers))
    }

    /// The layers of a GGUF model it changes, by GGUF tensor name.
    pub(crate) fn for_gguf(&self, model: &Path, content: &Content) -> Result<Targets> {
        let arch = get_str(&content.metadata, "general.architecture")
            .unwrap_or_default()
            .to_string();
        match self.naming {
            Naming::Gguf => {
                if let Some(own) = &self.arch {
                    if *own != arch {
                        return Err(self.mismatch(
                            model,
                            format!("the adapter is for {own} models; this model is {arch}"),
                        ));
                    }
                }
                Ok(Targets::new(self.layers.clone()))
            }
            Naming::Modules => {
                let heads = |key: &str| {
                    content
                        .metadata
                        .get(&format!("{arch}.{key}"))
                        .and_then(|v| v.to_u32().ok())
                        .unwrap_or(0) as usize
                };
                let mut layers = BTreeMap::new();
                for (module, low) in &self.layers {
                    let Some((name, rows)) = gguf_name(&arch, module) else {
                        return Err(self.mismatch(
                            model,
                            format!("the adapter changes {module}, which has no counterpart in a {arch} GGUF file"),
                        ));
                    };
                    // llama.cpp reorders Llama's q and k rows; Qwen2, Gemma and GLM keep them.
                    let low = match rows {
                        Rows::Query if arch == "llama" => low.with_llama_rows(heads("attention.head_count")),
                        Rows::Key if arch == "llama" => low.with_llama_rows(heads("attention.head_count_kv")),
                        _ => Ok(low.clone()),
                    }
                    .map_err(|e| self.mismatch(model, format!("{module}: {e}")))?;
                    layers.insert(name, low);
                }
                Ok(Targets::new(layers))
            }
        }
    }

    fn mismatch(&self, model: &Path, reason: impl Into<String>) -> ModelError {
        ModelError::AdapterMismatch {
            adapter: self.path.clone(),
            model: model.to_path_buf(),
            reason: reason.into(),
        }
    }
}

/// An adapter's short name: its directory's name, or its file's without `.gguf`.
pub fn name_of(path: &Path) -> String {
    let stem = if path.is_dir() {
        path.file_name()
    } else {
        path.file_stem()
    };
    stem.map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "adapter".into())
}

/// What [`Adapter::describe`] finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterSummary {
    /// "peft" or "gguf".
    pub format: &'static str,
    /// How many linear layers it changes.
    pub layers: usize,
    /// The model it was made for, when it says.
    pub base_model: Option<String>,
}

/// An adapter's layers in one model's naming, checked against that model and then handed out to
/// the layers as they are built.
#[derive(Debug, Default)]
pub(crate) struct Targets {
    layers: BTreeMap<String, LowRank>,
    used: BTreeSet<String>,
}

impl Targets {
    fn new(layers: BTreeMap<String, LowRank>) -> Self {
        Self {
            layers,
            used: BTreeSet::new(),
        }
    }

    /// No adapter.
    pub(crate) fn none() -> Self {
        Self::default()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// Every target must be a 2-D weight of the model with the adapter's shape. `shape_of` gives a
    /// model tensor's dimensions (outermost first), `None` when the model has no such tensor.
    pub(crate) fn check(
        &self,
        adapter: &Path,
        model: &Path,
        shape_of: impl Fn(&str) -> Option<Vec<usize>>,
    ) -> Result<()> {
        let mismatch = |reason: String| ModelError::AdapterMismatch {
            adapter: adapter.to_path_buf(),
            model: model.to_path_buf(),
            reason,
        };
        for (name, low) in &self.layers {
            let (out, inp) = low.weight_shape();
            match shape_of(name).as_deref() {
                None => {
                    return Err(mismatch(format!(
                        "the adapter changes {name}, which the model does not have (another base model, or other target modules)"
                    )))
                }
                Some([o, i]) if (*o, *i) == (out, inp) => {}
                Some(dims) => {
                    return Err(mismatch(format!(
                        "{name} is {dims:?} in the model but the adapter's B·A is [{out}, {inp}] (made for another size of model?)"
                    )))
                }
            }
        }
        Ok(())
    }

    /// The change for weight `name`, if the adapter has one (marks it used).
    pub(crate) fn take(&mut self, name: &str) -> Option<LowRank> {
        let low = self.layers.get(name)?.clone();
        self.used.insert(name.to_string());
        Some(low)
    }

    /// [`Targets::take`] on the device of the layer it joins (adapters are read on the CPU).
    pub(crate) fn take_on(&mut self, name: &str, device: &Device) -> candle_core::Result<Option<LowRank>> {
        self.take(name)
            .map(|low| {
                Ok(LowRank {
                    down: low.down.to_device(device)?,
                    up: low.up.to_device(device)?,
                })
            })
            .transpose()
    }

    /// After the model is built: every target must have reached a layer.
    pub(crate) fn finish(&self, adapter: &Path, model: &Path) -> Result<()> {
        let unused: Vec<&str> = self
            .layers
            .keys()
            .filter(|k| !self.used.contains(*k))
            .map(String::as_str)
            .collect();
        if unused.is_empty() {
            return Ok(());
        }
        Err(ModelError::AdapterMismatch {
            adapter: adapter.to_path_buf(),
            model: model.to_path_buf(),
            reason: format!(
                "DocTalk applies adapters to linear layers only; not to {}",
                unused.join(", ")
            ),
        })
    }
}

/// A safetensors model's weights with an adapter's changes merged in as each weight is loaded.
pub(crate) struct MergingBackend {
    pub(crate) inner: candle_core::safetensors::MmapedSafetensors,
    pub(crate) targets: Arc<Mutex<Targets>>,
}

impl MergingBackend {
    fn merged(&self, name: &str, weight: Tensor, dtype: DType) -> candle_core::Result<Tensor> {
        let change = self.targets.lock().unwrap_or_else(|p| p.into_inner()).take(name);
        match change {
            // Added in f32, so that a bf16 model rounds once.
            Some(low) => {
                (weight.to_dtype(DType::F32)? + low.delta(DType::F32, weight.device())?)?.to_dtype(dtype)
            }
            None => Ok(weight),
        }
    }
}

impl SimpleBackend for MergingBackend {
    fn get(&self, s: Shape, name: &str, h: Init, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        let weight = SimpleBackend::get(&self.inner, s, name, h, dtype, dev)?;
        self.merged(name, weight, dtype)
    }

    fn get_unchecked(&self, name: &str, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        let weight = SimpleBackend::get_unchecked(&self.inner, name, dtype, dev)?;
        self.merged(name, weight, dtype)
    }

    fn contains_tensor(&self, name: &str) -> bool {
        SimpleBackend::contains_tensor(&self.inner, name)
    }
}

fn bad(path: &Path, reason: impl Into<String>) -> ModelError {
    ModelError::BadAdapter {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// The fields of `adapter_config.json` that decide what the tensors mean.
#[derive(Debug, serde::Deserialize)]
struct PeftConfig {
    #[serde(default)]
    peft_type: Option<String>,
    r: usize,
    lora_alpha: f64,
    #[serde(default)]
    use_rslora: bool,
    #[serde(default)]
    use_dora: bool,
    #[serde(default)]
    fan_in_fan_out: bool,
    #[serde(default)]
    bias: Option<String>,
    #[serde(default)]
    lora_bias: bool,
    #[serde(default)]
    modules_to_save: Option<Vec<String>>,
    #[serde(default)]
    base_model_name_or_path: Option<String>,
    /// In file order: PEFT takes the first key that matches.
    #[serde(default, deserialize_with = "in_file_order")]
    rank_pattern: Vec<(String, usize)>,
    #[serde(default, deserialize_with = "in_file_order")]
    alpha_pattern: Vec<(String, f64)>,
    #[serde(default)]
    alora_invocation_tokens: Option<serde_json::Value>,
    #[serde(default)]
    layer_replication: Option<serde_json::Value>,
}

/// A JSON object's entries in the order the file lists them.
fn in_file_order<'de, D, T>(deserializer: D) -> std::result::Result<Vec<(String, T)>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    struct Entries<T>(std::marker::PhantomData<T>);
    impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for Entries<T> {
        type Value = Vec<(String, T)>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(entry) = map.next_entry()? {
                out.push(entry);
            }
            Ok(out)
        }
        fn visit_unit<E>(self) -> std::result::Result<Self::Value, E> {
            Ok(Vec::new())
        }
    }
    deserializer.deserialize_any(Entries(std::marker::PhantomData))
}

impl PeftConfig {
    /// Features whose tensors would change the model in ways plain `B·A` does not describe.
    fn unsupported(&self) -> Option<String> {
        if let Some(t) = self.peft_type.as_deref().filter(|t| *t != "LORA") {
            return Some(format!("peft_type is {t}; DocTalk applies LORA adapters only"));
        }
        if self.use_dora {
            return Some("DoRA adapters (use_dora) are not supported".into());
        }
        if self.fan_in_fan_out {
            return Some("fan_in_fan_out adapters (GPT-2's Conv1D layers) are not supported".into());
        }
        if self.lora_bias || self.bias.as_deref().is_some_and(|b| b != "none") {
            return Some("adapters with trained biases are not supported (bias must be \"none\")".into());
        }
        if self.modules_to_save.as_ref().is_some_and(|m| !m.is_empty()) {
            return Some("adapters that save whole modules (modules_to_save) are not supported".into());
        }
        if self
            .alora_invocation_tokens
            .as_ref()
            .is_some_and(|v| !v.is_null())
        {
            return Some("activated LoRA (alora_invocation_tokens) is not supported".into());
        }
        if self.layer_replication.as_ref().is_some_and(|v| !v.is_null()) {
            return Some("layer_replication is not supported".into());
        }
        // PEFT reads pattern keys as regular expressions; DocTalk matches plain module names.
        let plain = |k: &str| {
            k.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        };
        if let Some((k, _)) = self.rank_pattern.iter().find(|(k, _)| !plain(k)) {
            return Some(format!(
                "rank_pattern key {k:?} is a regular expression; only module names are supported"
            ));
        }
        if let Some((k, _)) = self.alpha_pattern.iter().find(|(k, _)| !plain(k)) {
            return Some(format!(
                "alpha_pattern key {k:?} is a regular expression; only module names are supported"
            ));
        }
        None
    }

    /// The module's rank and scale: PEFT matches pattern keys on the end of the module's name.
    fn rank_and_scale(&self, module: &str) -> (usize, f64) {
        let matches = |key: &str| module == key || module.ends_with(&format!(".{key}"));
        // PEFT's rule: the first key, in the file's order, that matches the end of the name.
        let r = self
            .rank_pattern
            .iter()
            .find(|(k, _)| matches(k))
            .map_or(self.r, |(_, v)| *v);
        let alpha = self
            .alpha_pattern
            .iter()
            .find(|(k, _)| matches(k))
            .map_or(self.lora_alpha, |(_, v)| *v);
        let scale = if self.use_rslora {
            alpha / (r as f64).sqrt()
        } else {
            alpha / r as f64
        };
        (r, scale)
    }
}

fn read_peft(dir: &Path) -> Result<Adapter> {
    let config_path = dir.join("adapter_config.json");
    if !config_path.is_file() {
        return Err(bad(dir, "no adapter_config.json: not a PEFT adapter directory"));
    }
    let text = std::fs::read_to_string(&config_path).map_err(|e| ModelError::io(&config_path, e))?;
    let config: PeftConfig =
        serde_json::from_str(&text).map_err(|e| bad(&config_path, format!("adapter_config.json: {e}")))?;
    if let Some(reason) = config.unsupported() {
        return Err(bad(dir, reason));
    }
    if config.r == 0 {
        return Err(bad(&config_path, "r is 0"));
    }
    let safetensors = dir.join("adapter_model.safetensors");
    let pickled = dir.join("adapter_model.bin");
    let tensors: Vec<(String, Tensor)> = if safetensors.is_file() {
        candle_core::safetensors::load(&safetensors, &Device::Cpu)
            .map_err(|e| bad(&safetensors, e.to_string()))?
            .into_iter()
            .collect()
    } else if pickled.is_file() {
        candle_core::pickle::read_all(&pickled).map_err(|e| bad(&pickled, e.to_string()))?
    } else {
        return Err(bad(dir, "no adapter_model.safetensors (or adapter_model.bin)"));
    };

    let mut pairs: BTreeMap<String, (Option<Tensor>, Option<Tensor>)> = BTreeMap::new();
    for (key, tensor) in tensors {
        let name = key.strip_prefix("base_model.model.").unwrap_or(&key);
        // `….lora_A.weight`, or `….lora_A.<adapter name>.weight` from an unmerged in-memory dump;
        // anything else after lora_A/lora_B (a bias, a second adapter) is not what we apply.
        let matrix = |marker: &str| {
            let (m, tail) = name.split_once(marker)?;
            let plain = tail == "weight" || tail.strip_suffix(".weight").is_some_and(|n| !n.contains('.'));
            Some((m, plain))
        };
        let (module, half) = if let Some((m, plain)) = matrix(".lora_A.") {
            if !plain {
                return Err(bad(dir, format!("{name}: only lora_A.weight is applied")));
            }
            (m, 'A')
        } else if let Some((m, plain)) = matrix(".lora_B.") {
            if !plain {
                return Err(bad(dir, format!("{name}: only lora_B.weight is applied")));
            }
            (m, 'B')
        } else if name.contains("lora_embedding_") {
            return Err(bad(dir, format!("{name}: embedding adapters are not supported")));
        } else {
            return Err(bad(
                dir,
                format!("{name} is not a LoRA A or B matrix (DoRA magnitudes, saved modules and biases are not supported)"),
            ));
        };
        let entry = pairs.entry(module.to_string()).or_default();
        let slot = if half == 'A' { &mut entry.0 } else { &mut entry.1 };
        if slot.replace(tensor).is_some() {
            return Err(bad(
                dir,
                format!("{module} has two lora_{half} matrices (a file holding several adapters?)"),
            ));
        }
    }
    let mut layers = BTreeMap::new();
    for (module, pair) in pairs {
        let (Some(a), Some(b)) = pair else {
            return Err(bad(dir, format!("{module} has only one of lora_A and lora_B")));
        };
        let (rank, scale) = config.rank_and_scale(&module);
        check_pair(dir, &module, &a, &b, Some(rank))?;
        let low = LowRank::new(&a, &b, scale).map_err(|e| bad(dir, format!("{module}: {e}")))?;
        layers.insert(module, low);
    }
    if layers.is_empty() {
        return Err(bad(dir, "the adapter holds no LoRA matrices"));
    }
    Ok(Adapter {
        path: dir.to_path_buf(),
        naming: Naming::Modules,
        arch: None,
        base: config.base_model_name_or_path.clone().filter(|b| !b.is_empty()),
        layers,
    })
}

/// `A` must be `(rank, in)` and `B` `(out, rank)`, with the rank the configuration gives.
fn check_pair(path: &Path, module: &str, a: &Tensor, b: &Tensor, rank: Option<usize>) -> Result<()> {
    let (Ok((ra, _)), Ok((_, rb))) = (a.dims2(), b.dims2()) else {
        return Err(bad(
            path,
            format!(
                "{module}: lora_A {:?} and lora_B {:?} must be matrices",
                a.dims(),
                b.dims()
            ),
        ));
    };
    if ra != rb {
        return Err(bad(
            path,
            format!("{module}: lora_A has rank {ra} but lora_B has rank {rb}"),
        ));
    }
    if let Some(r) = rank.filter(|r| *r != ra) {
        return Err(bad(
            path,
            format!("{module}: adapter_config.json gives rank {r} but its matrices have rank {ra} (a config from another adapter?)"),
        ));
    }
    Ok(())
}

fn read_gguf(path: &Path) -> Result<Adapter> {
    let mut file = File::open(path).map_err(|e| ModelError::io(path, e))?;
    let content = super::load::read_gguf_header(&mut file).map_err(|e| bad(path, e))?;
    let md = &content.metadata;
    let text = |key: &str| md.get(key).and_then(|v| v.to_string().ok()).cloned();
    match text("general.type").as_deref() {
        Some("adapter") => {}
        other => {
            return Err(bad(
                path,
                format!(
                    "general.type is {:?}, not \"adapter\": a model file, not a LoRA adapter",
                    other.unwrap_or("missing")
                ),
            ))
        }
    }
    if let Some(kind) = text("adapter.type").filter(|t| t != "lora") {
        return Err(bad(
            path,
            format!("adapter.type is {kind}; only lora is supported"),
        ));
    }
    let alpha = md
        .get("adapter.lora.alpha")
        .and_then(|v| v.to_f32().ok())
        .unwrap_or(0.0) as f64;
    let names: BTreeSet<String> = content
        .tensor_infos
        .keys()
        .filter_map(|n| n.strip_suffix(".lora_a").or_else(|| n.strip_suffix(".lora_b")))
        .map(str::to_string)
        .collect();
    let mut layers = BTreeMap::new();
    for name in names {
        let mut read = |suffix: &str| -> Result<Tensor> {
            let key = format!("{name}{suffix}");
            if !content.tensor_infos.contains_key(&key) {
                return Err(bad(path, format!("{name} has only one of lora_a and lora_b")));
            }
            content
                .tensor(&mut file, &key, &Device::Cpu)
                .and_then(|t| t.dequantize(&Device::Cpu))
                .map_err(|e| bad(path, format!("{key}: {e}")))
        };
        let (a, b) = (read(".lora_a")?, read(".lora_b")?);
        check_pair(path, &name, &a, &b, None)?;
        let rank = a.dims()[0] as f64;
        // llama.cpp: a zero alpha means a scale of 1.
        let scale = if alpha == 0.0 { 1.0 } else { alpha / rank };
        let low = LowRank::new(&a, &b, scale).map_err(|e| bad(path, format!("{name}: {e}")))?;
        layers.insert(name, low);
    }
    if layers.is_empty() {
        return Err(bad(path, "the adapter holds no .lora_a / .lora_b tensors"));
    }
    Ok(Adapter {
        path: path.to_path_buf(),
        naming: Naming::Gguf,
        arch: text("general.architecture"),
        base: text("general.architecture"),
        layers,
    })
}

/// Which rows a weight has, where llama.cpp reorders them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rows {
    Query,
    Key,
    Other,
}

/// A Python module path's GGUF tensor, as llama.cpp's converter names it.
fn gguf_name(arch: &str, module: &str) -> Option<(String, Rows)> {
    if matches!(module, "lm_head" | "transformer.output_layer") {
        return Some(("output.weight".into(), Rows::Other));
    }
    let (_, rest) = module.split_once("layers.")?;
    let (layer, sub) = rest.split_once('.')?;
    let layer: usize = layer.parse().ok()?;
    let (tensor, rows) = match (arch, sub) {
        (_, "self_attn.q_proj") => ("attn_q", Rows::Query),
        (_, "self_attn.k_proj") => ("attn_k", Rows::Key),
        (_, "self_attn.v_proj") => ("attn_v", Rows::Other),
        (_, "self_attn.o_proj") => ("attn_output", Rows::Other),
        (_, "mlp.gate_proj") => ("ffn_gate", Rows::Other),
        (_, "mlp.up_proj") => ("ffn_up", Rows::Other),
        (_, "mlp.down_proj") => ("ffn_down", Rows::Other),
        ("chatglm", "self_attention.query_key_value") => ("attn_qkv", Rows::Other),
        ("chatglm", "self_attention.dense") => ("attn_output", Rows::Other),
        ("chatglm", "mlp.dense_h_to_4h") => ("ffn_up", Rows::Other),
        ("chatglm", "mlp.dense_4h_to_h") => ("ffn_down", Rows::Other),
        _ => return None,
    };
    Some((format!("blk.{layer}.{tensor}.weight"), rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> PeftConfig {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn patterns_match_the_end_of_the_module_name() {
        let c = config(
            r#"{"r": 8, "lora_alpha": 16, "rank_pattern": {"down_proj": 2}, "alpha_pattern": {"layers.1.mlp.down_proj": 4}}"#,
        );
        assert_eq!(c.rank_and_scale("model.layers.0.self_attn.q_proj"), (8, 2.0));
        assert_eq!(c.rank_and_scale("model.layers.0.mlp.down_proj"), (2, 8.0));
        assert_eq!(c.rank_and_scale("model.layers.1.mlp.down_proj"), (2, 2.0));
        // "proj" is not a module name's tail: "o_proj" must not match "down_proj".
        let c = config(r#"{"r": 8, "lora_alpha": 8, "rank_pattern": {"o_proj": 2}}"#);
        assert_eq!(c.rank_and_scale("model.layers.0.mlp.down_proj").0, 8);
        let rs = config(r#"{"r": 16, "lora_alpha": 8, "use_rslora": true}"#);
        assert_eq!(rs.rank_and_scale("x.q_proj"), (16, 2.0));
    }

    #[test]
    fn the_first_matching_pattern_in_file_order_wins_and_regexes_are_refused() {
        let c = config(r#"{"r": 8, "lora_alpha": 8, "rank_pattern": {"mlp.down_proj": 2, "down_proj": 4}}"#);
        assert_eq!(c.rank_and_scale("model.layers.0.mlp.down_proj").0, 2);
        let c = config(r#"{"r": 8, "lora_alpha": 8, "rank_pattern": {"down_proj": 4, "mlp.down_proj": 2}}"#);
        assert_eq!(c.rank_and_scale("model.layers.0.mlp.down_proj").0, 4);
        let c = config(r#"{"r": 8, "lora_alpha": 8, "alpha_pattern": {"^model.*q_proj$": 4}}"#);
        assert!(c.unsupported().unwrap().contains("regular expression"));
        let c = config(r#"{"r": 8, "lora_alpha": 8, "layer_replication": [[0, 4]]}"#);
        assert!(c.unsupported().unwrap().contains("layer_replication"));
        let c = config(r#"{"r": 8, "lora_alpha": 8, "rank_pattern": null, "alora_invocation_tokens": null}"#);
        assert!(c.unsupported().is_none());
    }

    #[test]
    fn unsupported_features_are_named() {
        for (json, says) in [
            (r#"{"r": 8, "lora_alpha": 8, "use_dora": true}"#, "DoRA"),
            (r#"{"r": 8, "lora_alpha": 8, "bias": "all"}"#, "biases"),
            (
                r#"{"r": 8, "lora_alpha": 8, "modules_to_save": ["lm_head"]}"#,
                "modules_to_save",
            ),
            (r#"{"r": 8, "lora_alpha": 8, "peft_type": "IA3"}"#, "IA3"),
        ] {
            let reason = config(json).unsupported().unwrap();
            assert!(reason.contains(says), "{reason}");
        }
        assert!(config(r#"{"r": 8, "lora_alpha": 8, "bias": "none"}"#)
            .unsupported()
            .is_none());
    }

    #[test]
    fn module_paths_map_to_llama_cpp_names() {
        assert_eq!(
            gguf_name("qwen2", "model.layers.3.self_attn.q_proj"),
            Some(("blk.3.attn_q.weight".into(), Rows::Query))
        );
        assert_eq!(
            gguf_name(
                "chatglm",
                "transformer.encoder.layers.0.self_attention.query_key_value"
            ),
            Some(("blk.0.attn_qkv.weight".into(), Rows::Other))
        );
        assert_eq!(gguf_name("qwen2", "lm_head").unwrap().0, "output.weight");
        assert_eq!(gguf_name("qwen2", "model.embed_tokens"), None);
        assert_eq!(gguf_name("qwen2", "self_attention.dense"), None);
    }

    #[test]
    fn the_low_rank_forward_is_the_merged_delta() {
        let cpu = Device::Cpu;
        let a = Tensor::randn(0f32, 1.0, (3, 5), &cpu).unwrap();
        let b = Tensor::randn(0f32, 1.0, (4, 3), &cpu).unwrap();
        let low = LowRank::new(&a, &b, 0.5).unwrap();
        assert_eq!(low.weight_shape(), (4, 5));
        let x = Tensor::randn(0f32, 1.0, (2, 5), &cpu).unwrap();
        let via_delta = x
            .matmul(&low.delta(DType::F32, &cpu).unwrap().t().unwrap())
            .unwrap();
        let direct = low.forward(&x).unwrap();
        let diff: f32 = (via_delta - direct)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar()
            .unwrap();
        assert!(diff < 1e-5, "{diff}");
    }

    #[test]
    fn llama_row_order_moves_b_rows_like_the_weight() {
        let cpu = Device::Cpu;
        // 2 heads of 4 rows: [0 1 2 3 | 4 5 6 7] becomes [0 2 1 3 | 4 6 5 7].
        let a = Tensor::ones((1, 1), DType::F32, &cpu).unwrap();
        let b = Tensor::arange(0f32, 8.0, &cpu).unwrap().reshape((8, 1)).unwrap();
        let low = LowRank::new(&a, &b, 1.0).unwrap().with_llama_rows(2).unwrap();
        let rows: Vec<f32> = low
            .delta(DType::F32, &cpu)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        assert_eq!(rows, [0.0, 2.0, 1.0, 3.0, 4.0, 6.0, 5.0, 7.0]);
        assert!(LowRank::new(&a, &b, 1.0).unwrap().with_llama_rows(3).is_err());
    }

    #[test]
    fn llama_row_order_round_trips_for_several_heads() {
        let cpu = Device::Cpu;
        for heads in [1, 2, 4] {
            let rows = Tensor::arange(0f32, 16.0 * 3.0, &cpu)
                .unwrap()
                .reshape((16, 3))
                .unwrap();
            let file = llama_rows(&rows, heads, true).unwrap();
            assert_ne!(file.to_vec2::<f32>().unwrap(), rows.to_vec2::<f32>().unwrap());
            let back = llama_rows(&file, heads, false).unwrap();
            assert_eq!(back.to_vec2::<f32>().unwrap(), rows.to_vec2::<f32>().unwrap());
        }
    }
}
