//! The embedder DocTalk uses when nothing else is configured.

use std::path::Path;
use std::sync::Arc;

use crate::{BertEncoder, Embedder, Result, SearchRoots, DEFAULT_ENCODER};

/// Loads the default encoder, looking in `models_dir` (a root of model folders) first when
/// given, then the usual places (see [`SearchRoots`]), including `<data_dir>/models/`.
pub fn load_default_embedder(models_dir: Option<&Path>, data_dir: &Path) -> Result<Arc<dyn Embedder>> {
    let mut roots = SearchRoots::from_env().with_data_dir(data_dir);
    if let Some(dir) = models_dir {
        roots.models_dir = Some(dir.to_path_buf());
    }
    Ok(Arc::new(BertEncoder::from_spec(DEFAULT_ENCODER, &roots)?))
}
