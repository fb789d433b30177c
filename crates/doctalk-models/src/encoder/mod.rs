//! `BertEncoder`: a BERT sentence encoder (all-MiniLM and kin) with mean pooling.

mod config;
mod options;

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, HiddenAct};
use tokenizers::{Encoding, Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

pub use options::{EncoderOptions, BERT_MAX_POSITIONS, DEFAULT_BATCH_SIZE};

use crate::batching::length_sorted_batches;
use crate::bert::{Bert, CandleBert, Dims, MatmulPath};
use crate::embedder::Embedder;
use crate::error::{ModelError, Result};
use crate::pooling::{l2_normalise, masked_mean};
use doctalk_catalog::{resolve_model_dir, SearchRoots};
use doctalk_catalog::{ModelSpec, BERT_REQUIRED_FILES};

/// Which forward pass a [`BertEncoder`] runs.
enum Model {
    /// DocTalk's own post-LN BERT (the integer kernels on the CPU).
    Own(Bert),
    /// candle-transformers' BERT: the f32 reference, and activations other than the exact GELU.
    Candle(BertModel),
}

/// A loaded BERT encoder. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct BertEncoder {
    model: Model,
    tokenizer: Tokenizer,
    device: Device,
    dir: PathBuf,
    model_id: String,
    dimension: usize,
    max_tokens: usize,
    pad_id: u32,
    batch_size: usize,
    query_prefix: String,
    passage_prefix: String,
}

impl std::fmt::Debug for BertEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BertEncoder")
            .field("model_id", &self.model_id)
            .field("dir", &self.dir)
            .field("dimension", &self.dimension)
            .field("max_tokens", &self.max_tokens)
            .field("batch_size", &self.batch_size)
            .field("device", &self.device)
            .finish_non_exhaustive()
    }
}

impl BertEncoder {
    /// Finds a known model through `roots` and loads it with its default options.
    pub fn from_spec(spec: &ModelSpec, roots: &SearchRoots) -> Result<Self> {
        let dir = resolve_model_dir(spec.id, roots)?;
        Self::load(&dir, EncoderOptions::for_spec(spec))
    }

    /// Loads `config.json`, `tokenizer.json` and `model.safetensors` from `dir`.
    pub fn load(dir: &Path, options: EncoderOptions) -> Result<Self> {
        if let Some(file) = BERT_REQUIRED_FILES.iter().find(|f| !dir.join(f).is_file()) {
            return Err(ModelError::Catalog(doctalk_catalog::CatalogError::MissingFile {
                dir: dir.to_path_buf(),
                file: (*file).to_string(),
            }));
        }
        let config_path = dir.join("config.json");
        let config = config::read_bert_config(&config_path)?;
        if let Some(expected) = options.expected_dimension {
            if expected != config.hidden_size {
                return Err(ModelError::BadConfig {
                    path: config_path,
                    reason: format!(
                        "hidden_size {} but {} has dimension {expected}",
                        config.hidden_size, options.model_id
                    ),
                });
            }
        }
        // At least 2 so that [CLS] and [SEP] fit even with a degenerate config.
        let upper = config.max_position_embeddings.clamp(2, BERT_MAX_POSITIONS);
        let max_tokens = options
            .max_tokens
            .or(config::read_sentence_bert_max_len(dir)?)
            .unwrap_or(options.fallback_max_tokens)
            .clamp(2, upper);

        let tokenizer = load_tokenizer(&dir.join("tokenizer.json"), max_tokens)?;
        // An id beyond the embedding table would fail inside the forward pass with an opaque error.
        let vocab = tokenizer.get_vocab_size(true);
        if vocab > config.vocab_size {
            return Err(ModelError::BadConfig {
                path: config_path,
                reason: format!(
                    "tokenizer has {vocab} tokens but the model's vocab_size is {}",
                    config.vocab_size
                ),
            });
        }

        let device = options.device.open()?;
        let weights_path = dir.join("model.safetensors");
        // Read rather than mmap: keeps this crate free of `unsafe`, and candle copies the tensors
        // out of the buffer anyway, so the cost is one transient copy of a ~90 MB file.
        let bytes = std::fs::read(&weights_path).map_err(|e| ModelError::io(&weights_path, e))?;
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &device)?;
        // sentence-transformers exports have bare names (`embeddings.*`); BertModel/BertForMaskedLM
        // checkpoints prefix them with `bert.`.
        let vb = if vb.contains_tensor("embeddings.word_embeddings.weight") {
            vb
        } else if vb.contains_tensor("bert.embeddings.word_embeddings.weight") {
            vb.pp("bert")
        } else {
            return Err(ModelError::BadConfig {
                path: weights_path,
                reason: "no embeddings.word_embeddings.weight (with or without a bert. prefix)".into(),
            });
        };
        let own = options.matmul == MatmulPath::Integer
            && device.is_cpu()
            && matches!(config.hidden_act, HiddenAct::Gelu);
        let model = if own {
            let dims = Dims {
                hidden: config.hidden_size,
                layers: config.num_hidden_layers,
                heads: config.num_attention_heads,
                ffn: config.intermediate_size,
                eps: config.layer_norm_eps,
                max_positions: config.max_position_embeddings,
                position_offset: 0,
            };
            let candle = CandleBert::from_hf(vb, dims, config.vocab_size, config.type_vocab_size)?;
            Model::Own(Bert::new(candle, options.matmul, &device)?)
        } else {
            Model::Candle(BertModel::load(vb, &config)?)
        };
        tracing::info!(
            model = %options.model_id,
            dir = %dir.display(),
            max_tokens,
            device = ?options.device,
            matmul = ?options.matmul,
            "encoder loaded"
        );
        Ok(BertEncoder {
            model,
            tokenizer,
            device,
            dir: dir.to_path_buf(),
            model_id: options.model_id,
            dimension: config.hidden_size,
            max_tokens,
            pad_id: u32::try_from(config.pad_token_id).unwrap_or(0),
            batch_size: options.batch_size.max(1),
            query_prefix: options.query_prefix,
            passage_prefix: options.passage_prefix,
        })
    }

    /// The directory the model was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The token ids the model sees for `text` exactly as given (no prefix added), truncated.
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self.tokenizer.encode(text, true).map_err(ModelError::tokenizer)?;
        Ok(enc.get_ids().to_vec())
    }

    /// Embeds `texts` with `prefix` prepended, batched by length, results in input order.
    fn embed_with_prefix(&self, prefix: &str, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let inputs: Vec<Cow<'_, str>> = texts
            .iter()
            .map(|t| {
                if prefix.is_empty() {
                    Cow::Borrowed(*t)
                } else {
                    Cow::Owned(format!("{prefix}{t}"))
                }
            })
            .collect();
        let encodings = self
            .tokenizer
            .encode_batch(inputs.iter().map(|s| s.as_ref()).collect(), true)
            .map_err(ModelError::tokenizer)?;
        let lengths: Vec<usize> = encodings.iter().map(|e| e.get_ids().len()).collect();

        let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        for batch in length_sorted_batches(&lengths, self.batch_size) {
            let members: Vec<&Encoding> = batch.iter().map(|&i| &encodings[i]).collect();
            let vectors = self.forward_batch(&members)?;
            for (&i, v) in batch.iter().zip(vectors) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    /// One forward pass over encodings padded to the batch's longest.
    fn forward_batch(&self, encodings: &[&Encoding]) -> Result<Vec<Vec<f32>>> {
        let rows = encodings.len();
        let width = encodings.iter().map(|e| e.get_ids().len()).max().unwrap_or(0);
        let mut ids = vec![self.pad_id; rows * width];
        let mut mask = vec![0u32; rows * width];
        for (row, enc) in encodings.iter().enumerate() {
            let start = row * width;
            let n = enc.get_ids().len();
            ids[start..start + n].copy_from_slice(enc.get_ids());
            mask[start..start + n].copy_from_slice(enc.get_attention_mask());
        }
        let model = match &self.model {
            Model::Own(model) => {
                let rows: Vec<&[u32]> = encodings.iter().map(|e| e.get_ids()).collect();
                return model.embed(&rows, self.pad_id, &self.device);
            }
            Model::Candle(model) => model,
        };
        let ids = Tensor::from_vec(ids, (rows, width), &self.device)?;
        let mask = Tensor::from_vec(mask, (rows, width), &self.device)?;
        let type_ids = ids.zeros_like()?;
        let hidden = model.forward(&ids, &type_ids, Some(&mask))?;
        let pooled = l2_normalise(&masked_mean(&hidden, &mask)?)?;
        Ok(pooled.to_dtype(DType::F32)?.to_vec2::<f32>()?)
    }
}

/// Loads `tokenizer.json` without its fixed padding (all-MiniLM's pads every input to 128, which
/// wastes compute and, unmasked, changes the vectors) and with truncation at `max_tokens`.
fn load_tokenizer(path: &Path, max_tokens: usize) -> Result<Tokenizer> {
    let mut tokenizer = Tokenizer::from_file(path).map_err(|e| ModelError::BadConfig {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: max_tokens,
            strategy: TruncationStrategy::LongestFirst,
            stride: 0,
            direction: TruncationDirection::Right,
        }))
        .map_err(ModelError::tokenizer)?;
    Ok(tokenizer)
}

impl Embedder for BertEncoder {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn dimension(&self) -> usize {
        self.dimension
    }

    fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    fn embed_passages(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        self.embed_with_prefix(&self.passage_prefix, texts)
    }

    fn embed_query(&self, text: &str) -> Result<Vec<f32>> {
        self.embed_with_prefix(&self.query_prefix, &[text])?
            .pop()
            .ok_or_else(|| ModelError::Tokenizer("no vector for the query".into()))
    }
}
