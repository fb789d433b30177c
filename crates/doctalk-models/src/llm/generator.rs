//! The seam between DocTalk's answering code and a concrete language model.

use std::ops::ControlFlow;

use super::types::{ChatMessage, GenerationOutput, GenerationParams};
use crate::error::Result;

/// A text generator: a local model with its own tokenizer and chat template, or a remote endpoint.
///
/// Implementations serialise `generate` calls internally (the KV cache is mutable state), so one
/// instance can be shared between threads behind an `Arc`.
pub trait Generator: Send + Sync {
    /// A stable name for logs and the UI, e.g. `qwen2.5-coder-0.5b-instruct-q4_k_m`.
    fn model_id(&self) -> &str;

    /// Maximum number of tokens (prompt + completion) the model attends to.
    fn context_window(&self) -> usize;

    /// The longest prompt worth offering when the first words must come quickly: `None` when prompt
    /// processing is fast (a GPU, a remote server), so only the context window limits it.
    fn prompt_budget(&self) -> Option<usize> {
        None
    }

    /// Readies the model for prompts that start with `prefix` (the chat template's system turn,
    /// which every grounded prompt shares): a local model on the CPU puts `prefix` into its cache
    /// unless it is there already — from the start it kept on disk when there is one, else by
    /// running it — so that the prompt then runs from where `prefix` ends. Others do nothing.
    fn prepare_prompt(&self, prefix: &str) -> Result<()> {
        let _ = prefix;
        Ok(())
    }

    /// Tokens `text` takes, counted exactly as `generate` will tokenize a prompt.
    fn count_tokens(&self, text: &str) -> Result<usize>;

    /// The model's own chat format applied to `messages`, ending with the assistant's turn opened.
    fn render_chat(&self, messages: &[ChatMessage]) -> Result<String>;

    /// Continues `prompt` (usually the output of [`Generator::render_chat`]).
    ///
    /// `on_token` is called once per decoding step with the text that step made visible. That text
    /// may be empty (a token that completes no character yet, or text held back because it could be
    /// the start of a stop string), so a caller that returns `ControlFlow::Break` is obeyed within one
    /// step. A local model keeps the KV cache of the prompt and answer afterwards: the next prompt
    /// that starts the same way (the same system rules) skips that part of prefill.
    fn generate(
        &self,
        prompt: &str,
        params: &GenerationParams,
        on_token: &mut dyn FnMut(&str) -> ControlFlow<()>,
    ) -> Result<GenerationOutput>;

    /// Answers a conversation: the model's chat format applied to `messages`, then [`Generator::generate`].
    /// Remote endpoints override this to send the messages as they are (they own the template).
    fn chat(
        &self,
        messages: &[ChatMessage],
        params: &GenerationParams,
        on_token: &mut dyn FnMut(&str) -> ControlFlow<()>,
    ) -> Result<GenerationOutput> {
        let prompt = self.render_chat(messages)?;
        self.generate(&prompt, params, on_token)
    }
}
