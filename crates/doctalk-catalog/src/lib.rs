//! Which models DocTalk knows and where their files are: the catalogue (`models/*.json` manifests
//! compiled in, and the encoders' static specs), the search roots a model directory is looked for in
//! (an explicit directory, `$DOCTALK_MODELS_DIR`, the data directory, a checkout's `.models/`, the
//! HuggingFace cache), and the model store that lists, downloads (with sha256 checks, resumable)
//! and removes them.
//!
//! No candle: the first-run screen, `doctalk models`, and the settings' catalogue need only this
//! crate; `doctalk-models` loads what it finds.

mod error;
pub mod llm;
mod resolve;
mod spec;
pub mod store;
pub mod whisper;

pub use error::{CatalogError, Result};
pub use resolve::{resolve_model_dir, SearchRoots, MODELS_DIR_ENV};
pub use spec::{known_encoder, ModelSpec, ALL_MINILM_L6_V2, BERT_REQUIRED_FILES, KNOWN_ENCODERS};
