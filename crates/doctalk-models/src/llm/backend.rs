//! One interface over candle's decoder-only models: tokens in, next-token logits out, KV cache inside.

use candle_core::{Result, Tensor};
use candle_transformers::models::{
    glm4, glm4_new, quantized_gemma3, quantized_glm4, quantized_llama, quantized_qwen2, quantized_qwen3,
};

/// A causal language model with an internal KV cache.
pub(crate) trait CausalLm: Send {
    /// `tokens` has shape `(1, seq)`; `offset` is how many tokens the cache already holds. Returns the
    /// logits for the last position as a 1-D tensor.
    fn forward(&mut self, tokens: &Tensor, offset: usize) -> Result<Tensor>;
    /// Frees the cache; the next call must start at offset 0.
    fn clear_kv_cache(&mut self);
    /// Keeps only the first `len` positions of the cache, so the next call can start at `len`;
    /// `false` when the model cannot (its cache is then unchanged, and the caller starts over).
    fn truncate_kv_cache(&mut self, _len: usize) -> bool {
        false
    }
    /// Whether [`truncate_kv_cache`](Self::truncate_kv_cache) can keep a prefix, so that a prompt
    /// can start after what the cache holds.
    fn resumes(&self) -> bool {
        false
    }
    /// Whether [`forward_every`](Self::forward_every) works, so that guessed tokens can be checked
    /// in one pass (the model must also [resume](Self::resumes), to drop the wrong ones).
    fn checks_guesses(&self) -> bool {
        false
    }
    /// As [`forward`](Self::forward), but the logits of every position, `(seq, vocab)`.
    fn forward_every(&mut self, _tokens: &Tensor, _offset: usize) -> Result<Tensor> {
        candle_core::bail!("this model gives only the last position's logits")
    }
    /// Every layer's cached keys and values, to be saved; `None` when the model cannot give them.
    fn kv_cache(&self) -> Option<Vec<(Tensor, Tensor)>> {
        None
    }
    /// Replaces the cache with keys and values [`kv_cache`](Self::kv_cache) gave (of `len`
    /// positions); `false` when the model cannot take them (its cache is then empty).
    fn restore_kv_cache(&mut self, _layers: Vec<(Tensor, Tensor)>, _len: usize) -> bool {
        self.clear_kv_cache();
        false
    }
}

/// Candle models return the last position as `(1, vocab)` or `(1, 1, vocab)`: make it `(vocab,)`.
fn last_row(logits: Tensor) -> Result<Tensor> {
    logits.flatten_all()
}

macro_rules! offset_model {
    ($ty:ty, $clear:expr) => {
        impl CausalLm for $ty {
            fn forward(&mut self, tokens: &Tensor, offset: usize) -> Result<Tensor> {
                // Not every model drops its cache by itself when a new sequence starts at 0.
                if offset == 0 {
                    CausalLm::clear_kv_cache(self);
                }
                last_row(<$ty>::forward(self, tokens, offset)?)
            }
            fn clear_kv_cache(&mut self) {
                #[allow(clippy::redundant_closure_call)]
                ($clear)(self)
            }
        }
    };
}

offset_model!(
    quantized_llama::ModelWeights,
    |m: &mut quantized_llama::ModelWeights| m.clear_kv_cache()
);
offset_model!(
    quantized_qwen2::ModelWeights,
    |m: &mut quantized_qwen2::ModelWeights| m.clear_kv_cache()
);
offset_model!(
    quantized_qwen3::ModelWeights,
    |m: &mut quantized_qwen3::ModelWeights| m.clear_kv_cache()
);
offset_model!(
    glm4_new::ModelForCausalLM,
    |m: &mut glm4_new::ModelForCausalLM| m.clear_kv_cache()
);
// These two reset their caches themselves whenever a forward pass starts at offset 0, which is how
// every generation starts; they expose no other way to drop them early.
offset_model!(
    quantized_gemma3::ModelWeights,
    |_: &mut quantized_gemma3::ModelWeights| ()
);
offset_model!(
    quantized_glm4::ModelWeights,
    |_: &mut quantized_glm4::ModelWeights| ()
);

/// ChatGLM2/3 and GLM-4-9B (the `ChatGLMModel` layout): the cache tracks its own length, so `offset` is
/// implied; a new generation must reset it first.
impl CausalLm for glm4::Model {
    fn forward(&mut self, tokens: &Tensor, offset: usize) -> Result<Tensor> {
        if offset == 0 {
            self.reset_kv_cache();
        }
        last_row(glm4::Model::forward(self, tokens)?)
    }
    fn clear_kv_cache(&mut self) {
        self.reset_kv_cache()
    }
}
