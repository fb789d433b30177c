//! The seam between DocTalk's core and any sentence encoder.

use crate::error::Result;

/// Turns text into L2-normalised vectors; cosine similarity is then a dot product.
///
/// Queries and passages go through separate methods because some models (the e5 family) were
/// trained with different prefixes for each; for models without prefixes they give the same
/// vector for the same text.
pub trait Embedder: Send + Sync {
    /// The model's id, recorded in the index so a model change triggers re-embedding.
    fn model_id(&self) -> &str;
    /// Length of every vector this embedder returns.
    fn dimension(&self) -> usize;
    /// Inputs longer than this many tokens (special tokens included) are truncated.
    fn max_tokens(&self) -> usize;
    /// Embeds passages for indexing, one vector per input, in input order.
    fn embed_passages(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>>;
    /// Embeds one search query.
    fn embed_query(&self, text: &str) -> Result<Vec<f32>>;
}
