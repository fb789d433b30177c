//! Choosing and loading the sentence encoder: multilingual-e5-small unless the user picks another.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::e5::{E5Encoder, E5Options, E5_MODEL_ID, E5_SHORT_NAME};
use crate::{known_encoder, BertEncoder, Embedder, EncoderOptions, ModelError, Result, SearchRoots};

/// The encoder of new knowledge bases: multilingual-e5-small (Chinese and English; all-MiniLM turns
/// Chinese into `[UNK]`).
pub const DEFAULT_ENCODER_ID: &str = E5_MODEL_ID;

/// Loads the default encoder, looking in `models_dir` (a root of model folders) first when
/// given, then the usual places (see [`SearchRoots`]), including `<data_dir>/models/`.
pub fn load_default_embedder(models_dir: Option<&Path>, data_dir: &Path) -> Result<Arc<dyn Embedder>> {
    load_embedder(None, models_dir, data_dir)
}

/// Loads the encoder `name`: multilingual-e5-small or a BERT encoder by id or short name, or a model
/// directory; `None` is [`DEFAULT_ENCODER_ID`].
pub fn load_embedder(
    name: Option<&str>,
    models_dir: Option<&Path>,
    data_dir: &Path,
) -> Result<Arc<dyn Embedder>> {
    let roots = SearchRoots::for_app(models_dir, data_dir);
    let name = name.unwrap_or(DEFAULT_ENCODER_ID);
    let is_e5 = |n: &str| n.eq_ignore_ascii_case(E5_MODEL_ID) || n.eq_ignore_ascii_case(E5_SHORT_NAME);
    if is_e5(name) {
        return Ok(Arc::new(E5Encoder::from_roots(&roots, E5Options::default())?));
    }
    if let Some(spec) = known_encoder(name) {
        return Ok(Arc::new(BertEncoder::from_spec(spec, &roots)?));
    }
    let dir = PathBuf::from(name);
    if dir.is_dir() {
        // A directory: an e5 (4-bit file or XLM-R config) or a BERT checkpoint.
        let config = std::fs::read_to_string(dir.join("config.json")).unwrap_or_default();
        if dir.join(crate::e5::E5_Q4_FILE).is_file() || config.contains("xlm-roberta") {
            return Ok(Arc::new(E5Encoder::load_dir(&dir, E5Options::default())?));
        }
        let id = dir.display().to_string();
        return Ok(Arc::new(BertEncoder::load(&dir, EncoderOptions::new(id))?));
    }
    Err(ModelError::Catalog(doctalk_catalog::CatalogError::UnknownModel {
        name: name.to_string(),
        known: vec![
            E5_SHORT_NAME.to_string(),
            crate::ALL_MINILM_L6_V2.short_name.to_string(),
        ],
    }))
}
