//! [`LocalGenerator`]: a tokenizer, a chat template and a candle model behind the [`Generator`] trait.

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use candle_core::{Device, Tensor};
use tokenizers::Tokenizer;

use super::backend::CausalLm;
use super::generator::Generator;
use super::load::Kernels;
use super::lookup;
use super::prompt_starts::PromptStarts;
use super::sampling::Sampler;
use super::stops::StopMatcher;
use super::template::ChatTemplate;
use super::types::{ChatMessage, GenerationOutput, GenerationParams, StopReason};
use crate::error::{ModelError, Result};

/// The longest prompt offered to a model on the CPU: prefill is most of the wait for the first words
/// (about 5 ms per token for the default model on a two-core AVX2 laptop, half that with AVX-512).
/// Chosen by `doctalk bench answers --prompt-tokens N` on the 86 labelled questions (default model,
/// top 5 sources, each cut to its sentences that best match the question until the prompt fits;
/// `doctalk_core::answer::prompt`): fact+citation 0.909 at 768, 0.864 at 512, 0.848 at 384, and
/// figures contradicting the cited source 1.5%, 3.0% and 6.1%. A shorter prompt shows the first
/// words sooner but states wrong figures more often, so the budget is not cut for speed.
pub const CPU_PROMPT_BUDGET: usize = 768;

/// A model that runs in this process. Built by [`load_generator`](super::load_generator).
pub struct LocalGenerator {
    pub(crate) id: String,
    pub(crate) tokenizer: Tokenizer,
    pub(crate) template: ChatTemplate,
    /// Tokens that end the assistant's turn.
    pub(crate) eos: Vec<u32>,
    /// Prepended to a prompt that does not already start with it (GGUF `add_bos_token`).
    pub(crate) bos: Option<u32>,
    pub(crate) context_window: usize,
    pub(crate) device: Device,
    /// One generation at a time: the KV cache is the model's mutable state.
    pub(crate) model: Mutex<Box<dyn CausalLm>>,
    /// The tokens whose keys and values the model's cache holds (locked after `model`). A prompt
    /// that starts the same way (every grounded prompt starts with the same system rules) skips
    /// that much prefill.
    pub(crate) cached: Mutex<Vec<u32>>,
    /// Where prepared prompt starts are kept between processes, if anywhere.
    pub(crate) starts: Option<PromptStarts>,
    /// Whether greedy decoding checks tokens guessed from the prompt ([`super::lookup`]) where the
    /// model can.
    pub(crate) prompt_lookup: bool,
}

impl std::fmt::Debug for LocalGenerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalGenerator")
            .field("id", &self.id)
            .field("context_window", &self.context_window)
            .field("eos", &self.eos)
            .finish_non_exhaustive()
    }
}

impl LocalGenerator {
    /// Keeps the prompt starts [`Generator::prepare_prompt`] runs in `dir`, so that another process
    /// with the same `model` file (and `adapter`, on the same `kernels`) need not run them again.
    pub fn keep_prompt_starts_in(
        &mut self,
        dir: &Path,
        model: &Path,
        adapter: Option<&Path>,
        kernels: Kernels,
    ) {
        self.starts = PromptStarts::new(dir, model, adapter, &format!("{kernels:?}"));
    }

    /// Turns prompt lookup ([`super::lookup`]: guessed tokens checked in one pass, the model's own
    /// greedy text up to near ties) on or off; on by default.
    pub fn with_prompt_lookup(mut self, on: bool) -> Self {
        self.prompt_lookup = on;
        self
    }

    /// Puts the saved keys and values of `ids` into the model's (empty) cache, if kept.
    fn restore_start(&self, model: &mut dyn CausalLm, ids: &[u32]) -> bool {
        self.starts
            .as_ref()
            .and_then(|s| s.load(ids, &self.device))
            .is_some_and(|layers| model.restore_kv_cache(layers, ids.len()))
    }

    /// The prompt's token ids as `generate` feeds them to the model.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self
            .tokenizer
            .encode(text, false)
            .map_err(ModelError::tokenizer)?;
        let mut ids = enc.get_ids().to_vec();
        if let Some(bos) = self.bos {
            if ids.first() != Some(&bos) {
                ids.insert(0, bos);
            }
        }
        Ok(ids)
    }

    /// Runs one forward pass over `tokens` at `offset` and returns the next-token logits, for parity
    /// tests and benchmarks. Holds the model lock only for this call.
    pub fn logits(&self, tokens: &[u32], offset: usize) -> Result<Vec<f32>> {
        let mut model = self.model.lock().unwrap_or_else(PoisonError::into_inner);
        self.cached.lock().unwrap_or_else(PoisonError::into_inner).clear();
        let input = Tensor::new(tokens, &self.device)?.unsqueeze(0)?;
        let logits = model.forward(&input, offset)?;
        Ok(logits.to_dtype(candle_core::DType::F32)?.to_vec1()?)
    }
}

impl Generator for LocalGenerator {
    fn model_id(&self) -> &str {
        &self.id
    }

    fn context_window(&self) -> usize {
        self.context_window
    }

    fn prompt_budget(&self) -> Option<usize> {
        self.device.is_cpu().then_some(CPU_PROMPT_BUDGET)
    }

    fn prepare_prompt(&self, prefix: &str) -> Result<()> {
        if !self.device.is_cpu() {
            return Ok(());
        }
        let ids = self.encode(prefix)?;
        let mut model = self.model.lock().unwrap_or_else(PoisonError::into_inner);
        let mut cached = self.cached.lock().unwrap_or_else(PoisonError::into_inner);
        // A model that cannot cut its cache back to the start would run it again with the prompt;
        // a cache that already holds it may hold more the prompt shares (a follow-up question).
        if !model.resumes() || common_prefix(&cached, &ids) == ids.len() {
            return Ok(());
        }
        let start = resume_point(model.as_mut(), &mut cached, &ids, ids.len());
        if !(start == 0 && self.restore_start(model.as_mut(), &ids)) {
            let input = Tensor::new(&ids[start..], &self.device)?.unsqueeze(0)?;
            if let Err(e) = model.forward(&input, start) {
                model.clear_kv_cache();
                return Err(e.into());
            }
            if let (Some(starts), Some(layers)) = (&self.starts, model.kv_cache()) {
                starts.save(&ids, &layers);
            }
        }
        tracing::debug!(prefix_tokens = ids.len(), "prompt start ready");
        *cached = ids;
        Ok(())
    }

    fn count_tokens(&self, text: &str) -> Result<usize> {
        Ok(self.encode(text)?.len())
    }

    fn render_chat(&self, messages: &[ChatMessage]) -> Result<String> {
        self.template.render(messages)
    }

    fn generate(
        &self,
        prompt: &str,
        params: &GenerationParams,
        on_token: &mut dyn FnMut(&str) -> ControlFlow<()>,
    ) -> Result<GenerationOutput> {
        let mut sampler = Sampler::new(params)?;
        let prompt_ids = self.encode(prompt)?;
        if prompt_ids.is_empty() {
            return Err(ModelError::EmptyPrompt);
        }
        if prompt_ids.len() >= self.context_window {
            return Err(ModelError::PromptTooLong {
                model: self.id.clone(),
                prompt_tokens: prompt_ids.len(),
                context_window: self.context_window,
            });
        }
        let mut model = self.model.lock().unwrap_or_else(PoisonError::into_inner);
        let mut cached = self.cached.lock().unwrap_or_else(PoisonError::into_inner);
        // At least the last prompt token is always run: its logits start the answer.
        let start = resume_point(model.as_mut(), &mut cached, &prompt_ids, prompt_ids.len() - 1);
        let mut fed = prompt_ids[..start].to_vec();
        let result = self.decode_loop(
            model.as_mut(),
            &prompt_ids,
            start,
            &mut fed,
            params,
            &mut sampler,
            on_token,
        );
        if result.is_ok() && model.truncate_kv_cache(fed.len()) {
            *cached = fed;
        } else {
            model.clear_kv_cache();
        }
        result
    }
}

impl LocalGenerator {
    /// Runs the prompt from `start` (the cache holds the tokens before it) and samples the answer.
    /// `fed` tracks every token whose keys and values are in the cache.
    #[allow(clippy::too_many_arguments)]
    fn decode_loop(
        &self,
        model: &mut dyn CausalLm,
        prompt_ids: &[u32],
        start: usize,
        fed: &mut Vec<u32>,
        params: &GenerationParams,
        sampler: &mut Sampler,
        on_token: &mut dyn FnMut(&str) -> ControlFlow<()>,
    ) -> Result<GenerationOutput> {
        let mut context = prompt_ids.to_vec();
        let mut detok = IncrementalDecoder::default();
        let mut stops = StopMatcher::new(&params.stop);
        let mut text = String::new();
        let mut completion_tokens = 0;

        let input = Tensor::new(&prompt_ids[start..], &self.device)?.unsqueeze(0)?;
        let prefill = std::time::Instant::now();
        let mut pending = Pending::after_prompt(model.forward(&input, start)?);
        tracing::debug!(
            tokens = prompt_ids.len() - start,
            reused = start,
            ms = prefill.elapsed().as_secs_f64() * 1e3,
            "prefill"
        );
        fed.extend_from_slice(&prompt_ids[start..]);
        // Wrong guesses are dropped by cutting the cache back, which only a model that resumes can.
        let lookup =
            self.prompt_lookup && params.temperature <= 0.0 && model.checks_guesses() && model.resumes();
        let stop_reason = loop {
            if completion_tokens >= params.max_tokens {
                break StopReason::MaxTokens;
            }
            if context.len() >= self.context_window {
                break StopReason::ContextFull;
            }
            let next = sampler.next_token(&pending.next_row()?, &context)?;
            if self.eos.contains(&next) {
                break StopReason::EndOfText;
            }
            context.push(next);
            completion_tokens += 1;

            let piece = detok.push(&self.tokenizer, next)?;
            let step = stops.push(&piece);
            text.push_str(&step.emit);
            let flow = on_token(&step.emit);
            if let Some(stop) = step.stopped {
                break StopReason::StopString(stop);
            }
            if flow.is_break() {
                break StopReason::Cancelled;
            }
            if pending.confirmed(next) {
                continue;
            }
            let room = if lookup {
                (self.context_window - context.len())
                    .min(params.max_tokens - completion_tokens)
                    .saturating_sub(1)
                    .min(lookup::MAX_GUESSES)
            } else {
                0
            };
            pending.feed(model, &self.device, &context, fed, room)?;
        };
        let guessed_tokens = pending.confirmed_guesses;
        tracing::debug!(
            completion_tokens,
            guessed_tokens,
            offered = pending.offered,
            checks = pending.checks,
            ms_since_prefill_began = prefill.elapsed().as_secs_f64() * 1e3,
            "decoded"
        );

        // Text held back as a possible stop-string prefix (or an unfinished character) belongs to the
        // answer when generation ended for another reason; a cancelled caller wants nothing more.
        if !matches!(stop_reason, StopReason::StopString(_) | StopReason::Cancelled) {
            let tail = stops.push(&detok.flush(&self.tokenizer)?);
            let mut rest = tail.emit;
            rest.push_str(&stops.finish());
            if !rest.is_empty() {
                text.push_str(&rest);
                let _ = on_token(&rest);
            }
        }
        Ok(GenerationOutput {
            text,
            prompt_tokens: prompt_ids.len(),
            reused_prompt_tokens: start,
            completion_tokens,
            guessed_tokens,
            stop_reason,
        })
    }
}

/// Logits rows not yet sampled and the guessed tokens they follow ([`lookup`]).
struct Pending {
    /// The first follows the last token of the context, each further one a guess in `guesses`
    /// (fed after that token in the same pass).
    rows: VecDeque<Tensor>,
    guesses: VecDeque<u32>,
    confirmed_guesses: usize,
    /// Guesses fed, and passes that fed some (for the debug log).
    offered: usize,
    checks: usize,
}

impl Pending {
    fn after_prompt(logits: Tensor) -> Self {
        Self {
            rows: VecDeque::from([logits]),
            guesses: VecDeque::new(),
            confirmed_guesses: 0,
            offered: 0,
            checks: 0,
        }
    }

    fn next_row(&mut self) -> Result<Tensor> {
        Ok(self
            .rows
            .pop_front()
            .ok_or_else(|| candle_core::Error::Msg("no logits left to sample".into()))?)
    }

    /// Whether `next`, just sampled, is the guess the next row already follows.
    fn confirmed(&mut self, next: u32) -> bool {
        if self.guesses.front() != Some(&next) {
            return false;
        }
        self.guesses.pop_front();
        self.confirmed_guesses += 1;
        true
    }

    /// Runs the context's last token, with up to `room` tokens guessed from the context after it,
    /// once the cache is cut back past guesses the model did not choose. `fed` tracks the cache.
    fn feed(
        &mut self,
        model: &mut dyn CausalLm,
        device: &Device,
        context: &[u32],
        fed: &mut Vec<u32>,
        room: usize,
    ) -> Result<()> {
        let keep = context.len() - 1;
        if !self.guesses.is_empty() {
            if !model.truncate_kv_cache(keep) {
                return Err(candle_core::Error::Msg("the model could not drop wrong guesses".into()).into());
            }
            fed.truncate(keep);
            self.guesses.clear();
            self.rows.clear();
        }
        let guessed = lookup::guess(context, room);
        let mut input = vec![context[keep]];
        input.extend_from_slice(guessed);
        let tensor = Tensor::new(input.as_slice(), device)?.unsqueeze(0)?;
        if guessed.is_empty() {
            self.rows.push_back(model.forward(&tensor, keep)?);
        } else {
            let every = model.forward_every(&tensor, keep)?;
            for i in 0..input.len() {
                self.rows.push_back(every.get(i)?);
            }
            self.guesses.extend(guessed);
            self.offered += guessed.len();
            self.checks += 1;
        }
        fed.extend_from_slice(&input);
        Ok(())
    }
}

/// Where a run of `ids` starts: after the leading tokens (at most `limit`) that the cache holds and
/// the model keeps when its cache is cut back to them, else at 0. `cached` is emptied: the caller
/// records what the cache holds once the run is done.
fn resume_point(model: &mut dyn CausalLm, cached: &mut Vec<u32>, ids: &[u32], limit: usize) -> usize {
    let shared = common_prefix(cached, ids).min(limit);
    cached.clear();
    if shared > 0 && model.truncate_kv_cache(shared) {
        shared
    } else {
        0
    }
}

/// How many leading tokens `a` and `b` share.
fn common_prefix(a: &[u32], b: &[u32]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Turns a token stream into text without splitting multi-byte characters: byte-level BPE tokens can
/// end in the middle of a UTF-8 sequence, which decodes to U+FFFD until the next token completes it.
#[derive(Default)]
struct IncrementalDecoder {
    tokens: Vec<u32>,
    /// Start of the window we re-decode (decoding a window, not single tokens, keeps the spaces that
    /// SentencePiece-style decoders attach to the *next* token).
    prefix: usize,
    /// Tokens in the window whose text has been emitted.
    read: usize,
}

impl IncrementalDecoder {
    fn push(&mut self, tokenizer: &Tokenizer, token: u32) -> Result<String> {
        self.tokens.push(token);
        let seen = decode(tokenizer, &self.tokens[self.prefix..self.read])?;
        let now = decode(tokenizer, &self.tokens[self.prefix..])?;
        if now.len() > seen.len() && !now.ends_with('\u{FFFD}') {
            if let Some(new) = now.get(seen.len()..) {
                let new = new.to_string();
                self.prefix = self.read;
                self.read = self.tokens.len();
                return Ok(new);
            }
        }
        Ok(String::new())
    }

    /// Whatever is still undecoded, even if incomplete.
    fn flush(&mut self, tokenizer: &Tokenizer) -> Result<String> {
        let seen = decode(tokenizer, &self.tokens[self.prefix..self.read])?;
        let now = decode(tokenizer, &self.tokens[self.prefix..])?;
        self.prefix = self.tokens.len();
        self.read = self.tokens.len();
        Ok(now.get(seen.len()..).unwrap_or_default().to_string())
    }
}

fn decode(tokenizer: &Tokenizer, ids: &[u32]) -> Result<String> {
    tokenizer.decode(ids, true).map_err(ModelError::tokenizer)
}
