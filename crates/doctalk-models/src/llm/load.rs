//! Opening a model from disk: a GGUF file, or a directory of safetensors (the GLM family).
//!
//! Every failure names the file: a missing file is `ModelError::MissingFile`, a file that cannot be
//! parsed (truncated, wrong magic, a bad header) is `ModelError::CorruptFile`.

use std::fs::File;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use candle_core::quantized::gguf_file::Content;
use candle_core::safetensors::MmapedSafetensors;
use candle_core::{DType, Device};
use candle_nn::VarBuilder;
use candle_transformers::models::{
    glm4, glm4_new, quantized_gemma3, quantized_glm4, quantized_llama, quantized_qwen2, quantized_qwen3,
};
use tokenizers::Tokenizer;

use super::adapter::{Adapter, MergingBackend, Targets};
use super::backend::CausalLm;
use super::engine::LocalGenerator;
use super::gguf_tokenizer::{get_int, get_str, int_of, tokenizer_from_gguf};
use super::requantize;
use super::template::{ChatTemplate, CHATGLM3_TEMPLATE, GEMMA3_TEMPLATE, GLM4_TEMPLATE};
use super::{glm, llama_like};
use crate::device::DeviceChoice;
use crate::error::{ModelError, Result};

/// Used when a model carries no template of its own and we know no official one: ChatML, the most
/// common format among small instruction-tuned models.
const CHATML_TEMPLATE: &str = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

/// Token strings that end an assistant turn in the chat formats we know. Only those present in a
/// model's vocabulary are used.
const END_OF_TURN_TOKENS: &[&str] = &[
    "<|im_end|>",
    "<|endoftext|>",
    "<|eot_id|>",
    "<end_of_turn>",
    "<|end|>",
    "<|user|>",
    "<|observation|>",
    "</s>",
];

/// Opens a GGUF file or a model directory and returns it behind the [`Generator`](super::Generator) trait.
pub fn load_generator(path: impl AsRef<Path>, device: DeviceChoice) -> Result<Box<dyn super::Generator>> {
    Ok(Box::new(load_local(path, device)?))
}

/// [`load_generator`] with the concrete type (for logits access in tests and benchmarks).
pub fn load_local(path: impl AsRef<Path>, device: DeviceChoice) -> Result<LocalGenerator> {
    load_with(path.as_ref(), device, Kernels::from_env())
}

/// [`load_generator`] with a LoRA adapter (a PEFT directory or a llama.cpp GGUF adapter) applied,
/// when one is given. An adapter made for another model is refused with the reason.
pub fn load_generator_adapted(
    path: impl AsRef<Path>,
    device: DeviceChoice,
    adapter: Option<&Path>,
    prompt_starts: Option<&Path>,
) -> Result<Box<dyn super::Generator>> {
    let kernels = Kernels::from_env();
    let mut generator = load_adapted(path.as_ref(), device, kernels, adapter)?;
    if let Some(dir) = prompt_starts {
        generator.keep_prompt_starts_in(dir, path.as_ref(), adapter, kernels);
    }
    Ok(Box::new(generator))
}

/// Which code multiplies a GGUF model's matrices on the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernels {
    /// DocTalk's decoder and integer kernels for the architectures that have them (qwen2, llama).
    Integer,
    /// candle's own model implementations: the reference for parity tests and benchmarks. (ChatGLM
    /// GGUF files have no candle model: `glm` uses the integer kernels either way.)
    Candle,
}

impl Kernels {
    /// [`Kernels::Integer`] unless `DOCTALK_LLM_KERNELS=candle`.
    pub fn from_env() -> Self {
        match std::env::var("DOCTALK_LLM_KERNELS").as_deref() {
            Ok("candle") => Self::Candle,
            _ => Self::Integer,
        }
    }
}

/// [`load_local`] with the kernels named.
pub fn load_with(path: &Path, device: DeviceChoice, kernels: Kernels) -> Result<LocalGenerator> {
    load_adapted(path, device, kernels, None)
}

/// [`load_with`] and a LoRA adapter.
pub fn load_adapted(
    path: &Path,
    device: DeviceChoice,
    kernels: Kernels,
    adapter: Option<&Path>,
) -> Result<LocalGenerator> {
    // The adapter is read first: a bad one fails in a moment, not after the model has loaded.
    let adapter = adapter.map(Adapter::open).transpose()?;
    let adapter = adapter.as_ref();
    let device = device.open()?;
    let mut generator = if path.is_dir() {
        let ggufs = files_with_extension(path, "gguf")?;
        match ggufs.as_slice() {
            [one] => load_gguf(one, &device, kernels, adapter),
            [] => load_safetensors_dir(path, &device, adapter),
            _ => Err(ModelError::BadConfig {
                path: path.to_path_buf(),
                reason: "more than one .gguf file; name the one to load".into(),
            }),
        }
    } else {
        require_file(path)?;
        load_gguf(path, &device, kernels, adapter)
    }?;
    if let Some(adapter) = adapter {
        generator.id = format!("{}+{}", generator.id, adapter.name());
    }
    Ok(generator)
}

/// A GGUF file's header (metadata and tensor index), with a panic of candle's reader on a damaged
/// file contained (kept off stderr) and returned as the reason, as a read error is.
pub(crate) fn read_gguf_header(file: &mut File) -> std::result::Result<Content, String> {
    doctalk_contain::contained(|| Content::read(file).map_err(|e| e.to_string()))
        .unwrap_or_else(|panic| Err(format!("the GGUF reader failed: {panic}")))
}

fn load_gguf(
    path: &Path,
    device: &Device,
    kernels: Kernels,
    adapter: Option<&Adapter>,
) -> Result<LocalGenerator> {
    let mut file = File::open(path).map_err(|e| ModelError::io(path, e))?;
    let content = read_gguf_header(&mut file).map_err(|e| ModelError::corrupt(path, e))?;
    check_gguf_size(&content, path)?;
    let md = &content.metadata;
    let arch = get_str(md, "general.architecture")
        .ok_or_else(|| ModelError::corrupt(path, "no general.architecture in the metadata"))?
        .to_string();
    let what = path.display().to_string();
    // A tokenizer.json beside the file is the original; the metadata copy is a reconstruction.
    let tokenizer = match path.parent().map(|d| d.join("tokenizer.json")) {
        Some(json) if json.is_file() => read_tokenizer_json(&json)?,
        _ => tokenizer_from_gguf(&content, &what)?,
    };
    let token_str = |key: &str| {
        get_int(md, key)
            .and_then(|id| tokenizer.id_to_token(id as u32))
            .unwrap_or_default()
    };
    let (bos_token, eos_token) = (
        token_str("tokenizer.ggml.bos_token_id"),
        token_str("tokenizer.ggml.eos_token_id"),
    );
    let template_source = match get_str(md, "tokenizer.chat_template") {
        Some(t) => t,
        None if arch.starts_with("gemma") => GEMMA3_TEMPLATE,
        // llama.cpp calls both ChatGLM3 (65k vocabulary) and GLM-4-9B-chat (151k) `chatglm`.
        None if arch == "chatglm" && tokenizer.get_vocab_size(true) < 100_000 => CHATGLM3_TEMPLATE,
        None if arch == "glm4" || arch == "chatglm" => GLM4_TEMPLATE,
        None => CHATML_TEMPLATE,
    };
    let template = ChatTemplate::new(template_source, &bos_token, &eos_token)?;
    let mut eos = end_of_turn_ids(&tokenizer);
    if let Some(id) = get_int(md, "tokenizer.ggml.eos_token_id") {
        push_unique(&mut eos, id as u32);
    }
    // llama.cpp's default: SentencePiece vocabularies add BOS, byte-level BPE ones do not.
    let default_add_bos = get_str(md, "tokenizer.ggml.model") == Some("llama");
    let add_bos = md
        .get("tokenizer.ggml.add_bos_token")
        .and_then(|v| v.to_bool().ok())
        .unwrap_or(default_add_bos);
    let bos = add_bos
        .then(|| get_int(md, "tokenizer.ggml.bos_token_id").map(|i| i as u32))
        .flatten();
    let context_window = md
        .get(&format!("{arch}.context_length"))
        .and_then(int_of)
        .map(|n| n as usize)
        .unwrap_or(2048);

    if !KNOWN_ARCHITECTURES.contains(&arch.as_str()) {
        return Err(ModelError::UnsupportedArchitecture {
            path: path.to_path_buf(),
            arch,
        });
    }
    let mut targets = match adapter {
        Some(a) => {
            let targets = a.for_gguf(path, &content)?;
            targets.check(a.path(), path, |name| {
                content.tensor_infos.get(name).map(|t| t.shape.dims().to_vec())
            })?;
            targets
        }
        None => Targets::none(),
    };
    let corrupt = |e: candle_core::Error| ModelError::corrupt(path, e);
    let own_decoder =
        matches!(arch.as_str(), "qwen2" | "llama") && device.is_cpu() && kernels == Kernels::Integer;
    let model: Box<dyn CausalLm> = if own_decoder {
        // Every GGUF format these two use has an integer kernel: no requantizing.
        Box::new(
            llama_like::Model::from_gguf(&arch, &content, &mut file, device, &mut targets)
                .map_err(corrupt)?,
        )
    } else if arch == "chatglm" {
        Box::new(glm::Model::from_gguf(&content, &mut file, device, &mut targets).map_err(corrupt)?)
    } else if !targets.is_empty() || (device.is_cpu() && requantize::has_slow_tensors(&content)) {
        // candle's models take weights only: an adapter is merged into them here.
        let (content, mut memory) = requantize::rewrite(&content, &mut file, &mut targets)
            .map_err(|e| ModelError::corrupt(path, e))?;
        build_gguf_model(&arch, content, &mut memory, device).map_err(corrupt)?
    } else {
        build_gguf_model(&arch, content, &mut file, device).map_err(corrupt)?
    };
    if let Some(a) = adapter {
        targets.finish(a.path(), path)?;
    }
    Ok(LocalGenerator {
        id: model_id(path),
        tokenizer,
        template,
        eos,
        bos,
        context_window,
        device: device.clone(),
        model: Mutex::new(model),
        cached: Mutex::new(Vec::new()),
        starts: None,
        prompt_lookup: super::lookup::enabled_by_env(),
    })
}

/// The GGUF `general.architecture` values [`build_gguf_model`] knows.
const KNOWN_ARCHITECTURES: &[&str] = &[
    "llama", "qwen2", "qwen3", "gemma3", "gemma2", "gemma", "glm4", "chatglm",
];

fn build_gguf_model<R: Read + Seek>(
    arch: &str,
    content: Content,
    reader: &mut R,
    device: &Device,
) -> candle_core::Result<Box<dyn CausalLm>> {
    Ok(match arch {
        "llama" => Box::new(quantized_llama::ModelWeights::from_gguf(content, reader, device)?),
        "qwen2" => Box::new(quantized_qwen2::ModelWeights::from_gguf(content, reader, device)?),
        "qwen3" => Box::new(quantized_qwen3::ModelWeights::from_gguf(content, reader, device)?),
        "gemma3" | "gemma2" | "gemma" => Box::new(quantized_gemma3::ModelWeights::from_gguf(
            content, reader, device,
        )?),
        "glm4" => Box::new(quantized_glm4::ModelWeights::from_gguf(
            content,
            reader,
            device,
            compute_dtype(device, DType::F32),
        )?),
        other => candle_core::bail!("no GGUF loader for architecture {other}"),
    })
}

/// A truncated download passes the header check; compare the tensor table with the file's length so the
/// error names the file instead of surfacing later as an I/O error deep inside a layer.
fn check_gguf_size(content: &Content, path: &Path) -> Result<()> {
    let len = std::fs::metadata(path)
        .map_err(|e| ModelError::io(path, e))?
        .len();
    let needed = content
        .tensor_infos
        .values()
        .map(|t| {
            let blocks = t.shape.elem_count() / t.ggml_dtype.block_size();
            t.offset + (blocks * t.ggml_dtype.type_size()) as u64
        })
        .max()
        .unwrap_or(0)
        + content.tensor_data_offset;
    if len < needed {
        return Err(ModelError::corrupt(
            path,
            format!("file is {len} bytes but its tensors need {needed}: truncated download?"),
        ));
    }
    Ok(())
}

/// The GLM family from a `transformers`-style directory: `config.json`, `tokenizer.json`, safetensors.
/// An adapter is merged into the weights as they load.
fn load_safetensors_dir(dir: &Path, device: &Device, adapter: Option<&Adapter>) -> Result<LocalGenerator> {
    let config_path = dir.join("config.json");
    require_file(&config_path)?;
    let config_text = std::fs::read_to_string(&config_path).map_err(|e| ModelError::io(&config_path, e))?;
    let bad_config = |reason: String| ModelError::BadConfig {
        path: config_path.clone(),
        reason,
    };
    let config: serde_json::Value =
        serde_json::from_str(&config_text).map_err(|e| bad_config(e.to_string()))?;
    let model_type = config["model_type"].as_str().unwrap_or_default().to_string();
    let tokenizer_path = dir.join("tokenizer.json");
    require_file(&tokenizer_path)?;
    let tokenizer = read_tokenizer_json(&tokenizer_path)?;
    let weights = safetensors_files(dir)?;
    let file_dtype = match config["torch_dtype"].as_str() {
        Some("bfloat16") => DType::BF16,
        Some("float16") => DType::F16,
        _ => DType::F32,
    };
    let dtype = compute_dtype(device, file_dtype);
    // SAFETY: the files are memory-mapped read-only; we have checked each header above and do not
    // modify them while the model lives (the usual candle contract for mmaped weights).
    let tensors = unsafe { MmapedSafetensors::multi(&weights)? };
    let targets = match adapter {
        Some(a) => {
            let targets = a.for_safetensors(dir)?;
            targets.check(a.path(), dir, |name| {
                tensors.get(name).ok().map(|t| t.shape().to_vec())
            })?;
            targets
        }
        None => Targets::none(),
    };
    let targets = Arc::new(Mutex::new(targets));
    let backend = MergingBackend {
        inner: tensors,
        targets: targets.clone(),
    };
    let vb = VarBuilder::from_backend(Box::new(backend), dtype, device.clone());
    let (model, context_window, builtin_template): (Box<dyn CausalLm>, usize, &str) =
        match model_type.as_str() {
            "chatglm" => {
                let cfg: glm4::Config =
                    serde_json::from_value(config.clone()).map_err(|e| bad_config(e.to_string()))?;
                // ChatGLM2/3's vocabulary is 65024 entries; GLM-4's is 151552.
                let template = if cfg.padded_vocab_size <= 65_024 {
                    CHATGLM3_TEMPLATE
                } else {
                    GLM4_TEMPLATE
                };
                (Box::new(glm4::Model::new(&cfg, vb)?), cfg.seq_length, template)
            }
            "glm4" => {
                let cfg: glm4_new::Config =
                    serde_json::from_value(config.clone()).map_err(|e| bad_config(e.to_string()))?;
                (
                    Box::new(glm4_new::ModelForCausalLM::new(&cfg, vb)?),
                    cfg.max_position_embeddings,
                    GLM4_TEMPLATE,
                )
            }
            "glm" => {
                let cfg: glm::Config =
                    serde_json::from_value(config.clone()).map_err(|e| bad_config(e.to_string()))?;
                (
                    Box::new(glm::Model::new(&cfg, vb)?),
                    cfg.max_position_embeddings,
                    GLM4_TEMPLATE,
                )
            }
            other => {
                return Err(ModelError::UnsupportedArchitecture {
                    path: config_path.clone(),
                    arch: other.to_string(),
                });
            }
        };
    if let Some(a) = adapter {
        targets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .finish(a.path(), dir)?;
    }
    let template_source = chat_template_from_dir(dir)?.unwrap_or_else(|| builtin_template.to_string());
    let template = ChatTemplate::new(&template_source, "", "")?;
    let mut eos = end_of_turn_ids(&tokenizer);
    for id in json_ids(&config["eos_token_id"]) {
        push_unique(&mut eos, id);
    }
    Ok(LocalGenerator {
        id: model_id(dir),
        tokenizer,
        template,
        eos,
        bos: None,
        context_window,
        device: device.clone(),
        model: Mutex::new(model),
        cached: Mutex::new(Vec::new()),
        starts: None,
        prompt_lookup: super::lookup::enabled_by_env(),
    })
}

/// The weight files: the shards an index names, else `model.safetensors`, else every `*.safetensors`.
/// Each header is parsed here so that a broken file is reported by name.
fn safetensors_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let index = dir.join("model.safetensors.index.json");
    let files = if index.is_file() {
        let text = std::fs::read_to_string(&index).map_err(|e| ModelError::io(&index, e))?;
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| ModelError::corrupt(&index, e))?;
        let mut names: Vec<String> = json["weight_map"]
            .as_object()
            .map(|m| {
                m.values()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names.dedup();
        names.into_iter().map(|n| dir.join(n)).collect()
    } else {
        let found = files_with_extension(dir, "safetensors")?;
        if found.is_empty() {
            vec![dir.join("model.safetensors")]
        } else {
            found
        }
    };
    for file in &files {
        require_file(file)?;
        // SAFETY: read-only map, dropped at the end of this statement.
        unsafe { candle_core::safetensors::MmapedSafetensors::new(file) }
            .map_err(|e| ModelError::corrupt(file, e))?;
    }
    Ok(files)
}

/// `chat_template` from `tokenizer_config.json`, when the directory has one.
fn chat_template_from_dir(dir: &Path) -> Result<Option<String>> {
    let path = dir.join("tokenizer_config.json");
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| ModelError::io(&path, e))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| ModelError::corrupt(&path, e))?;
    Ok(json["chat_template"].as_str().map(str::to_string))
}

fn read_tokenizer_json(path: &Path) -> Result<Tokenizer> {
    Tokenizer::from_file(path).map_err(|e| ModelError::corrupt(path, e))
}

/// CPU kernels for bf16/f16 are much slower than f32 in candle, so CPU runs in f32; GPUs keep the
/// file's precision.
fn compute_dtype(device: &Device, file_dtype: DType) -> DType {
    if device.is_cpu() {
        DType::F32
    } else {
        file_dtype
    }
}

fn end_of_turn_ids(tokenizer: &Tokenizer) -> Vec<u32> {
    END_OF_TURN_TOKENS
        .iter()
        .filter_map(|t| tokenizer.token_to_id(t))
        .collect()
}

fn json_ids(value: &serde_json::Value) -> Vec<u32> {
    match value {
        serde_json::Value::Number(n) => n.as_u64().map(|n| vec![n as u32]).unwrap_or_default(),
        serde_json::Value::Array(a) => a.iter().filter_map(|v| v.as_u64()).map(|n| n as u32).collect(),
        _ => Vec::new(),
    }
}

fn push_unique(ids: &mut Vec<u32>, id: u32) {
    if !ids.contains(&id) {
        ids.push(id);
    }
}

fn require_file(path: &Path) -> Result<()> {
    if path.is_file() {
        return Ok(());
    }
    Err(ModelError::Catalog(doctalk_catalog::CatalogError::MissingFile {
        dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
        file: path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
    }))
}

pub(crate) fn files_with_extension(dir: &Path, ext: &str) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| ModelError::io(dir, e))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    Ok(files)
}

fn model_id(path: &Path) -> String {
    let name = if path.is_dir() {
        path.file_name()
    } else {
        path.file_stem()
    };
    name.map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_else(|| "local-model".into())
}
