//! Fine-tuning a LoRA adapter on question–answer pairs, on the user's own machine.
//!
//! [`tune`] trains rank-`r` matrices on every attention and MLP projection of a Qwen2 or Llama GGUF
//! model (the frozen base is dequantized to f32 for the differentiable forward pass; see
//! [`trainable`]), with the loss on the answer tokens only, AdamW, gradient clipping, a held-out
//! validation split measured before and after, checkpoints that a stopped run resumes from, and
//! progress events. The result is a PEFT adapter directory (`adapter_config.json`,
//! `adapter_model.safetensors`, module names as Hugging Face's) that DocTalk loads with
//! [`load_adapted`](super::load_adapted) and PEFT itself can load.

mod checkpoint;
mod compare;
mod optim;
mod paraphrase;
mod trainable;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::quantized::gguf_file::Content;
use candle_core::Tensor;
use serde::Serialize;

use super::adapter::llama_rows;
use super::gguf_tokenizer::get_str;
use super::load::{load_with, Kernels};
use super::types::ChatMessage;
use super::Generator;
use crate::device::DeviceChoice;
use crate::error::{ModelError, Result};
use checkpoint::Checkpoint;
use optim::AdamW;
use trainable::{Init, Lcg, Trainable, PROJECTIONS};

pub use compare::{Compared, Comparison};
pub use paraphrase::Paraphrase;

/// One example: what the user asks and what the model should answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QaPair {
    pub question: String,
    pub answer: String,
    /// The FAQ entry it comes from: the phrasings of one question share it. Validation then holds
    /// out whole phrasings whose entry is still trained on, which is what tuning is for: the same
    /// answer to a question asked another way.
    pub entry: usize,
}

/// Training settings; [`TuneConfig::default`] holds the defaults `doctalk tune` uses.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct TuneConfig {
    /// LoRA rank.
    pub rank: usize,
    /// LoRA alpha: the change is scaled by `alpha / rank`.
    pub alpha: f64,
    pub learning_rate: f64,
    /// Passes over the training pairs.
    pub epochs: usize,
    /// Stop after this many steps (one pair per step), whatever the epochs say.
    pub max_steps: Option<usize>,
    /// Pairs longer than this (prompt + answer, in tokens) are left out.
    pub max_tokens: usize,
    /// Share of the pairs held out for validation (at least one when there are 4 or more).
    pub validation_fraction: f64,
    /// Seeds the split, the order and the starting matrices: the same seed gives the same adapter.
    pub seed: u64,
    /// Steps between checkpoints.
    pub checkpoint_every: usize,
    /// After training, answer the held-out questions with the base and with the adapter.
    pub compare: bool,
    /// Before training, have the model write this many other ways of asking each FAQ entry's
    /// question, trained on with its answer (0: none).
    pub paraphrases: usize,
}

impl Default for TuneConfig {
    fn default() -> Self {
        // PEFT's and most LoRA recipes' starting point for small chat models.
        Self {
            rank: 8,
            alpha: 16.0,
            learning_rate: 2e-4,
            epochs: 3,
            max_steps: None,
            max_tokens: 512,
            validation_fraction: 0.1,
            seed: 20_261_206,
            checkpoint_every: 25,
            compare: true,
            paraphrases: 0,
        }
    }
}

/// What a run reports as it goes.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TuneEvent {
    /// The pairs are tokenized and split.
    Prepared {
        train: usize,
        validation: usize,
        /// Left out for being longer than `max_tokens`.
        too_long: usize,
        steps: usize,
        resumed_at: usize,
    },
    /// The model is writing other ways of asking: `done` of `total` questions.
    Paraphrasing {
        done: usize,
        total: usize,
    },
    /// Mean validation loss of the base (`before`) or the tuned model (`after`).
    Validated {
        #[ts(type = "'before' | 'after'")]
        when: &'static str,
        loss: f64,
    },
    Step {
        step: usize,
        steps: usize,
        loss: f64,
        elapsed_s: f64,
        /// Time left at the pace so far.
        eta_s: f64,
    },
    Checkpoint {
        step: usize,
    },
    /// Answering the held-out questions with the base and the tuned model.
    Comparing {
        done: usize,
        total: usize,
    },
}

/// The outcome of [`tune`].
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct TuneReport {
    /// The adapter directory (PEFT format).
    pub adapter: PathBuf,
    pub base: PathBuf,
    pub train_pairs: usize,
    pub validation_pairs: usize,
    pub too_long: usize,
    /// The model's rewrites of the questions that were trained on (among `train_pairs`).
    pub paraphrases: Vec<Paraphrase>,
    /// Steps done, including those of an earlier run that this one resumed.
    pub steps: usize,
    pub resumed_at: usize,
    /// Stopped by the caller before the last step (the checkpoint holds the progress).
    pub stopped: bool,
    /// Mean training loss over the last (up to) `train_pairs` steps.
    pub train_loss: Option<f64>,
    pub validation_loss_before: Option<f64>,
    pub validation_loss_after: Option<f64>,
    /// Base against tuned on the held-out questions (when asked for, there are some, and it was
    /// not stopped).
    pub comparison: Option<Comparison>,
    /// Why the comparison could not be made (the adapter is written all the same).
    pub comparison_error: Option<String>,
    /// Tokens trained on per second (prompt and answer; the steps' time only).
    pub tokens_per_second: Option<f64>,
    pub seconds: f64,
    pub config: TuneConfig,
}

impl TuneReport {
    /// A run stopped before its first step: nothing trained (`at`: the step of the checkpoint it
    /// was to resume, which stays; 0 when there is none).
    fn stopped_before_training(
        out: &Path,
        base: &Path,
        config: &TuneConfig,
        at: usize,
        started: Instant,
    ) -> Self {
        TuneReport {
            adapter: out.to_path_buf(),
            base: base.to_path_buf(),
            train_pairs: 0,
            validation_pairs: 0,
            too_long: 0,
            paraphrases: Vec::new(),
            steps: at,
            resumed_at: at,
            stopped: true,
            train_loss: None,
            validation_loss_before: None,
            validation_loss_after: None,
            comparison: None,
            comparison_error: None,
            tokens_per_second: None,
            seconds: started.elapsed().as_secs_f64(),
            config: config.clone(),
        }
    }
}

/// What a run tells its caller as it goes; `Break` asks it to stop.
pub type Progress<'a> = dyn FnMut(&TuneEvent) -> ControlFlow<()> + 'a;

/// A tokenized example: the loss covers `tokens[answer_from..]`.
struct Example {
    tokens: Vec<u32>,
    answer_from: usize,
    /// Its pair in the caller's list (for the model's rewrites: in the list of rewrites).
    pair: usize,
    entry: usize,
    /// A rewrite the model made (`TuneConfig::paraphrases`): trained on, never held out.
    generated: bool,
}

/// Trains an adapter for `base` (a qwen2 or llama GGUF file) on `pairs` and writes it to `out`.
/// With `resume`, a checkpoint left in `out` by a stopped run is continued; without it, an existing
/// checkpoint is an error (nothing is overwritten). `progress` may stop the run by returning
/// `Break`: the checkpoint is saved first.
pub fn tune(
    base: &Path,
    device: DeviceChoice,
    pairs: &[QaPair],
    out: &Path,
    config: &TuneConfig,
    resume: bool,
    progress: &mut Progress<'_>,
) -> Result<TuneReport> {
    let started = Instant::now();
    let bad = |reason: String| ModelError::BadConfig {
        path: out.to_path_buf(),
        reason,
    };
    // Whether there is a checkpoint is known before the preparation (which may take minutes with
    // rewrites to write); whether it is this run's, only after.
    let saved = Checkpoint::find(out)?;
    match (&saved, resume) {
        (Some(_), false) => {
            return Err(bad(
                "holds a checkpoint of an earlier run: resume it, or choose another output directory".into(),
            ))
        }
        (None, true) => return Err(bad("holds no checkpoint to resume".into())),
        _ => {}
    }
    let fingerprint = checkpoint::fingerprint(&gguf_file(base)?, config, pairs);
    if let Some(c) = &saved {
        c.check(&fingerprint).map_err(bad)?;
    }
    let Some(Prepared {
        file,
        content,
        mut reader,
        examples,
        too_long,
        train,
        validation,
        steps,
        paraphrases,
    }) = prepare(base, pairs, config, out, Some(&mut *progress))?
    else {
        // Stopped while the model wrote rewrites: nothing trained; a resumed run's checkpoint
        // stays as it was.
        let at = saved.as_ref().map_or(0, |c| c.step);
        return Ok(TuneReport::stopped_before_training(
            out, base, config, at, started,
        ));
    };
    let device = device.open()?;
    let longest = examples.iter().map(|e| e.tokens.len()).max().unwrap_or(1);
    let scale = config.alpha / config.rank as f64;
    let get = |layer: usize, k: usize| saved.as_ref().and_then(|c| c.matrices(layer, k));
    let init = match &saved {
        Some(_) => Init::Saved(&get),
        None => Init::Fresh { seed: config.seed },
    };
    let model = Trainable::from_gguf(&content, &mut reader, &device, config.rank, scale, longest, init)?;
    let vars = model.vars();
    let mut optimizer = AdamW::new(vars.clone(), config.learning_rate);
    let resumed_at = match &saved {
        Some(c) => {
            optimizer.restore(c.moments(), c.step)?;
            c.step
        }
        None => 0,
    };

    let mut report = TuneReport {
        adapter: out.to_path_buf(),
        base: file.clone(),
        train_pairs: train.len(),
        validation_pairs: validation.len(),
        too_long,
        paraphrases,
        steps: resumed_at,
        resumed_at,
        stopped: false,
        train_loss: None,
        validation_loss_before: None,
        validation_loss_after: None,
        comparison: None,
        comparison_error: None,
        tokens_per_second: None,
        seconds: 0.0,
        config: config.clone(),
    };
    let _ = progress(&TuneEvent::Prepared {
        train: train.len(),
        validation: validation.len(),
        too_long,
        steps,
        resumed_at,
    });
    let validate = |model: &Trainable| -> Result<Option<f64>> {
        if validation.is_empty() {
            return Ok(None);
        }
        let mut total = 0.0;
        for &i in &validation {
            let e = &examples[i];
            total += model.loss(&e.tokens, e.answer_from)?.to_scalar::<f32>()? as f64;
        }
        Ok(Some(total / validation.len() as f64))
    };
    if resumed_at == 0 {
        report.validation_loss_before = validate(&model)?;
        if let Some(loss) = report.validation_loss_before {
            let _ = progress(&TuneEvent::Validated { when: "before", loss });
        }
    } else {
        report.validation_loss_before = saved.as_ref().and_then(|c| c.validation_loss_before);
    }

    let loop_started = Instant::now();
    let mut trained_tokens = 0usize;
    let mut recent: Vec<f64> = Vec::new();
    for step in resumed_at..steps {
        let epoch = step / train.len();
        let order = epoch_order(&train, config.seed, epoch);
        let e = &examples[order[step % train.len()]];
        trained_tokens += e.tokens.len();
        let loss = model.loss(&e.tokens, e.answer_from)?;
        let value = loss.to_scalar::<f32>()? as f64;
        if !value.is_finite() {
            return Err(bad(format!(
                "the loss became {value} at step {}: lower the learning rate",
                step + 1
            )));
        }
        let grads = loss.backward()?;
        optimizer.step(&grads)?;
        recent.push(value);
        if recent.len() > train.len() {
            recent.remove(0);
        }
        report.steps = step + 1;
        let done = step + 1 - resumed_at;
        let elapsed = loop_started.elapsed().as_secs_f64();
        let event = TuneEvent::Step {
            step: step + 1,
            steps,
            loss: value,
            elapsed_s: elapsed,
            eta_s: elapsed / done as f64 * (steps - step - 1) as f64,
        };
        let stop = progress(&event).is_break();
        let last = step + 1 == steps;
        if stop || (!last && (step + 1) % config.checkpoint_every.max(1) == 0) {
            Checkpoint::save(
                out,
                &model,
                &optimizer,
                step + 1,
                &fingerprint,
                report.validation_loss_before,
            )?;
            let _ = progress(&TuneEvent::Checkpoint { step: step + 1 });
        }
        if stop && !last {
            report.stopped = true;
            report.train_loss = mean(&recent);
            report.seconds = started.elapsed().as_secs_f64();
            return Ok(report);
        }
    }
    report.train_loss = mean(&recent);
    let loop_seconds = loop_started.elapsed().as_secs_f64();
    report.tokens_per_second = (trained_tokens > 0).then(|| trained_tokens as f64 / loop_seconds);
    report.validation_loss_after = validate(&model)?;
    if let Some(loss) = report.validation_loss_after {
        let _ = progress(&TuneEvent::Validated { when: "after", loss });
    }
    write_peft(out, &model, config, &file)?;
    Checkpoint::remove(out)?;
    drop(model);
    // The adapter is written: from here on nothing fails the run. A comparison that cannot be
    // made is reported as such, and a stop request skips it.
    if config.compare && !validation.is_empty() {
        let held_out: Vec<&QaPair> = validation.iter().map(|&i| &pairs[examples[i].pair]).collect();
        let compared = compare::compare(&file, out, &held_out, &mut |done, total| {
            progress(&TuneEvent::Comparing { done, total })
        });
        match compared {
            Ok(c) => report.comparison = c,
            Err(e) => report.comparison_error = Some(e.to_string()),
        }
    }
    report.seconds = started.elapsed().as_secs_f64();
    let text = serde_json::to_string_pretty(&report).map_err(|e| bad(e.to_string()))?;
    write_atomically(&out.join("training.json"), text.as_bytes())?;
    Ok(report)
}

/// A run's inputs, read and checked: the base GGUF, the tokenized examples and their split.
struct Prepared {
    file: PathBuf,
    content: Content,
    reader: File,
    examples: Vec<Example>,
    too_long: usize,
    train: Vec<usize>,
    validation: Vec<usize>,
    steps: usize,
    /// The model's rewrites that are trained on.
    paraphrases: Vec<Paraphrase>,
}

/// Checks `config`, reads the base and tokenizes and splits `pairs`: what [`tune`] and
/// [`estimate`] both start from. Errors name `out` for a bad setting, the base for a bad model.
/// With `paraphrasing` (a run's progress), the model first writes `config.paraphrases` rewrites of
/// each entry's question (`Ok(None)`: stopped meanwhile); without it, none are written.
fn prepare(
    base: &Path,
    pairs: &[QaPair],
    config: &TuneConfig,
    out: &Path,
    paraphrasing: Option<&mut Progress<'_>>,
) -> Result<Option<Prepared>> {
    let bad = |reason: String| ModelError::BadConfig {
        path: out.to_path_buf(),
        reason,
    };
    let positive = |x: f64| x.is_finite() && x > 0.0;
    if config.rank == 0 || config.epochs == 0 || !positive(config.learning_rate) || !positive(config.alpha) {
        return Err(bad(
            "rank, epochs, alpha and the learning rate must be positive".into()
        ));
    }
    if config.max_steps == Some(0) {
        return Err(bad("a step budget of 0 would train nothing".into()));
    }
    if !(0.0..=0.5).contains(&config.validation_fraction) {
        return Err(bad(format!(
            "the held-out share must be between 0 and 0.5, not {}",
            config.validation_fraction
        )));
    }
    let file = gguf_file(base)?;
    let mut reader = File::open(&file).map_err(|e| ModelError::io(&file, e))?;
    let content = super::load::read_gguf_header(&mut reader).map_err(|e| ModelError::corrupt(&file, e))?;
    let arch = get_str(&content.metadata, "general.architecture")
        .unwrap_or_default()
        .to_string();
    if !matches!(arch.as_str(), "qwen2" | "llama") {
        return Err(ModelError::BadConfig {
            path: file,
            reason: format!("fine-tuning runs on qwen2 and llama GGUF models; this one is {arch:?}"),
        });
    }
    // The chat model itself: its tokenizer and template make the examples exactly as answers
    // will be asked.
    let chat = load_with(&file, DeviceChoice::Cpu, Kernels::Integer)?;
    let (mut examples, too_long) = tokenize(&chat, pairs, config.max_tokens, false)?;
    if examples.len() < 2 {
        return Err(bad(format!(
            "{} usable question–answer pairs ({} too long): at least 2 are needed",
            examples.len(),
            too_long
        )));
    }
    // The split is over the user's own phrasings. The model's rewrites are made afterwards, of a
    // trained phrasing of each trained entry only: a held-out phrasing rewritten and trained on
    // would make the held-out figures meaningless, and a held-out entry's answer is not taught.
    let entries: Vec<usize> = examples.iter().map(|e| e.entry).collect();
    let (mut train, validation) = split(&entries, config);
    let mut sources: Vec<&QaPair> = Vec::new();
    let mut rewritten = BTreeSet::new();
    for &i in &train {
        if rewritten.insert(examples[i].entry) {
            sources.push(&pairs[examples[i].pair]);
        }
    }
    let written = match paraphrasing {
        Some(progress) if config.paraphrases > 0 => {
            let known = pairs.iter().map(|p| p.question.as_str());
            let written =
                paraphrase::paraphrase(&chat, &sources, known, config.paraphrases, &mut |done, total| {
                    progress(&TuneEvent::Paraphrasing { done, total })
                })?;
            match written {
                Some(w) => w,
                None => return Ok(None),
            }
        }
        _ => Vec::new(),
    };
    let (rewrites, rewrite_pairs): (Vec<Paraphrase>, Vec<QaPair>) = written.into_iter().unzip();
    let first_rewrite = examples.len();
    examples.extend(tokenize(&chat, &rewrite_pairs, config.max_tokens, true)?.0);
    drop(chat);
    let mut paraphrases = Vec::new();
    for (i, e) in examples.iter().enumerate().skip(first_rewrite) {
        train.push(i);
        paraphrases.push(rewrites[e.pair].clone());
    }
    let steps = config
        .max_steps
        .unwrap_or(usize::MAX)
        .min(config.epochs * train.len());
    Ok(Some(Prepared {
        file,
        content,
        reader,
        examples,
        too_long,
        train,
        validation,
        steps,
        paraphrases,
    }))
}

/// What a run of [`tune`] would do, and about how long it would take on this machine.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct TuneEstimate {
    pub base: PathBuf,
    pub train_pairs: usize,
    pub validation_pairs: usize,
    pub too_long: usize,
    pub steps: usize,
    /// Where a resumed run would start: the step of a checkpoint in the output directory that
    /// belongs to this run (same base, settings and pairs).
    pub resumable_at: Option<usize>,
    /// Why a checkpoint in the output directory cannot be resumed (another run's, or unreadable):
    /// a run must start over, which discards it.
    pub checkpoint_conflict: Option<String>,
    /// Training speed measured on one step of a typical example, in tokens per second.
    pub tokens_per_second: f64,
    /// The model writing other ways of asking (`TuneConfig::paraphrases`; 0 without). With
    /// rewrites, `train_pairs` and `steps` count each trained entry's as if all were usable.
    pub paraphrase_seconds: f64,
    /// Reading the model and the pairs, the steps still to do, and the held-out loss before and after.
    pub training_seconds: f64,
    /// Answering the held-out questions with the base and the tuned model (0 without `compare`).
    pub comparison_seconds: f64,
    pub seconds: f64,
}

/// Plans a run without training: the split and the steps as [`tune`] would make them, and the
/// time they would take, from one measured training step (forward and backward, no update) on an
/// example of median length. Takes as long as building the trainable model and two steps: seconds
/// for a small model.
pub fn estimate(
    base: &Path,
    device: DeviceChoice,
    pairs: &[QaPair],
    out: &Path,
    config: &TuneConfig,
) -> Result<TuneEstimate> {
    let started = Instant::now();
    let Some(Prepared {
        file,
        content,
        mut reader,
        examples,
        too_long,
        train,
        validation,
        steps: exact_steps,
        paraphrases: _,
    }) = prepare(base, pairs, config, out, None)?
    else {
        // Only writing rewrites can stop a preparation, and an estimate writes none.
        return Err(ModelError::BadConfig {
            path: out.to_path_buf(),
            reason: "the preparation stopped".into(),
        });
    };
    // The model's rewrites are not written for an estimate: each trained entry is counted with
    // `paraphrases` more examples as long as its own.
    let rewrites = config.paraphrases;
    let mut lengths: Vec<usize> = train.iter().map(|&i| examples[i].tokens.len()).collect();
    let mut first_of_entry: BTreeMap<usize, usize> = BTreeMap::new();
    for &i in &train {
        first_of_entry
            .entry(examples[i].entry)
            .or_insert(examples[i].tokens.len());
    }
    for &len in first_of_entry.values() {
        lengths.extend(std::iter::repeat_n(len, rewrites));
    }
    let steps = if rewrites == 0 {
        exact_steps
    } else {
        config
            .max_steps
            .unwrap_or(usize::MAX)
            .min(config.epochs * lengths.len())
    };
    let (resumable_at, checkpoint_conflict) = match Checkpoint::find(out) {
        Ok(None) => (None, None),
        Ok(Some(saved)) => match saved.check(&checkpoint::fingerprint(&file, config, pairs)) {
            Ok(()) => (Some(saved.step.min(steps)), None),
            Err(reason) => (None, Some(reason)),
        },
        Err(e) => (None, Some(e.to_string())),
    };
    let mut by_length = train.clone();
    by_length.sort_by_key(|&i| examples[i].tokens.len());
    let probe = &examples[by_length[by_length.len() / 2]];
    let device = device.open()?;
    let scale = config.alpha / config.rank as f64;
    let model = Trainable::from_gguf(
        &content,
        &mut reader,
        &device,
        config.rank,
        scale,
        probe.tokens.len(),
        Init::Fresh { seed: config.seed },
    )?;
    // Reading the model and the pairs and building the trainable model, as a run does first (a
    // comparison then loads the model twice more, which takes about as long).
    let setup_seconds = started.elapsed().as_secs_f64();
    // The first step pays for allocations the later ones reuse: the second is the one timed.
    let mut seconds_per_step = 0.0;
    for _ in 0..2 {
        let t = Instant::now();
        model.loss(&probe.tokens, probe.answer_from)?.backward()?;
        seconds_per_step = t.elapsed().as_secs_f64();
    }
    drop(model);
    let tokens_per_second = probe.tokens.len() as f64 / seconds_per_step.max(1e-9);
    let start = resumable_at.unwrap_or(0);
    let step_tokens: usize = if rewrites == 0 {
        let mut order = Vec::new();
        let mut tokens = 0;
        for step in start..steps {
            if step == start || step % train.len() == 0 {
                order = epoch_order(&train, config.seed, step / train.len());
            }
            tokens += examples[order[step % train.len()]].tokens.len();
        }
        tokens
    } else {
        lengths.iter().sum::<usize>() * (steps - start) / lengths.len()
    };
    let validation_tokens: usize = validation.iter().map(|&i| examples[i].tokens.len()).sum();
    // A forward pass alone is about a third of a training step; the loss is measured before
    // (unless resuming) and after.
    let passes = if start == 0 { 2.0 } else { 1.0 };
    let training_seconds =
        setup_seconds + (step_tokens as f64 + passes * validation_tokens as f64 / 3.0) / tokens_per_second;
    // Each held-out question is answered twice (base, tuned): its prompt read like a forward
    // pass, its answer generated a token at a time by the quantized model, which on CPU runs at
    // roughly one and a half times the training pace per token (measured on Qwen2.5-0.5B).
    let comparison_seconds = if config.compare {
        let answers: f64 = validation
            .iter()
            .map(|&i| {
                let e = &examples[i];
                e.answer_from as f64 / 3.0 + (e.tokens.len() - e.answer_from + 16) as f64 / 1.5
            })
            .sum();
        setup_seconds + 2.0 * answers / tokens_per_second
    } else {
        0.0
    };
    // Rewrites (written again by a resumed run: greedy, so the same ones): each entry's question
    // read with the instruction, then up to `rewrites` lines about as long as it generated.
    let mut question_tokens: BTreeMap<usize, usize> = BTreeMap::new();
    for e in examples.iter().filter(|e| !e.generated) {
        question_tokens.entry(e.entry).or_insert(e.answer_from);
    }
    let paraphrase_seconds = if rewrites == 0 {
        0.0
    } else {
        question_tokens
            .values()
            .map(|&q| (q + 40) as f64 / 3.0 + (rewrites * (q / 2 + 4)) as f64 / 1.5)
            .sum::<f64>()
            / tokens_per_second
    };
    Ok(TuneEstimate {
        base: file,
        train_pairs: lengths.len(),
        validation_pairs: validation.len(),
        too_long,
        steps,
        resumable_at,
        checkpoint_conflict,
        tokens_per_second,
        paraphrase_seconds,
        training_seconds,
        comparison_seconds,
        seconds: paraphrase_seconds + training_seconds + comparison_seconds,
    })
}

/// Deletes the checkpoint a stopped run left in `out`, so that the next run starts over (the
/// adapter a finished run wrote there stays until the new one replaces it).
pub fn discard_checkpoint(out: &Path) -> Result<()> {
    Checkpoint::remove(out)
}

/// The GGUF file `base` names (a file, or a directory holding exactly one).
fn gguf_file(base: &Path) -> Result<PathBuf> {
    if base.is_file() {
        return Ok(base.to_path_buf());
    }
    let found = super::load::files_with_extension(base, "gguf")?;
    match found.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(ModelError::BadConfig {
            path: base.to_path_buf(),
            reason: "fine-tuning needs one qwen2 or llama .gguf model file".into(),
        }),
    }
}

/// The pairs as examples (`generated`: the model's rewrites), and how many were too long.
fn tokenize(
    chat: &super::LocalGenerator,
    pairs: &[QaPair],
    max_tokens: usize,
    generated: bool,
) -> Result<(Vec<Example>, usize)> {
    let end = *chat
        .eos
        .first()
        .ok_or_else(|| ModelError::Tokenizer("the model has no end-of-turn token".into()))?;
    let mut examples = Vec::new();
    let mut too_long = 0;
    for (index, pair) in pairs.iter().enumerate() {
        let (q, a) = (pair.question.trim(), pair.answer.trim());
        if q.is_empty() || a.is_empty() {
            continue;
        }
        let prompt = chat.render_chat(&[ChatMessage::user(q)])?;
        let mut tokens = chat.encode(&prompt)?;
        let answer_from = tokens.len();
        let answer = chat.tokenizer.encode(a, false).map_err(ModelError::tokenizer)?;
        tokens.extend_from_slice(answer.get_ids());
        tokens.push(end);
        if tokens.len() > max_tokens {
            too_long += 1;
            continue;
        }
        examples.push(Example {
            tokens,
            answer_from,
            pair: index,
            entry: pair.entry,
            generated,
        });
    }
    Ok((examples, too_long))
}

/// Indices of the training and validation examples (`entries[i]`: example i's FAQ entry). When
/// entries have several phrasings, validation takes one phrasing of entries that keep another for
/// training; otherwise it takes whole pairs at random.
fn split(entries: &[usize], config: &TuneConfig) -> (Vec<usize>, Vec<usize>) {
    let n = entries.len();
    let held = if n >= 4 && config.validation_fraction > 0.0 {
        ((n as f64 * config.validation_fraction).round() as usize).clamp(1, n - 2)
    } else {
        0
    };
    let mut order: Vec<usize> = (0..n).collect();
    shuffle(&mut order, config.seed);
    let mut phrasings: BTreeMap<usize, usize> = BTreeMap::new();
    for &e in entries {
        *phrasings.entry(e).or_default() += 1;
    }
    let mut validation = Vec::new();
    if phrasings.values().any(|&k| k >= 2) {
        let mut taken: BTreeSet<usize> = BTreeSet::new();
        for &i in &order {
            if validation.len() == held {
                break;
            }
            let e = entries[i];
            if phrasings[&e] >= 2 && taken.insert(e) {
                validation.push(i);
            }
        }
    } else {
        validation = order[n - held..].to_vec();
    }
    let held_out: BTreeSet<usize> = validation.iter().copied().collect();
    let train = (0..n).filter(|i| !held_out.contains(i)).collect();
    (train, validation)
}

/// The training order of one epoch: a fixed function of the seed and the epoch, so a resumed run
/// sees the same examples in the same order.
fn epoch_order(train: &[usize], seed: u64, epoch: usize) -> Vec<usize> {
    let mut order = train.to_vec();
    shuffle(
        &mut order,
        seed ^ (epoch as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
    );
    order
}

fn shuffle(items: &mut [usize], seed: u64) {
    let mut rng = Lcg(seed);
    for i in (1..items.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// The adapter in PEFT's layout: `base_model.model.model.layers.N.<module>.lora_A.weight` etc.
fn write_peft(out: &Path, model: &Trainable, config: &TuneConfig, base: &Path) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|e| ModelError::write(out, e))?;
    let (heads, kv_heads) = model.heads();
    let mut tensors: HashMap<String, Tensor> = HashMap::new();
    for (layer, k, p) in model.adapted() {
        let module = PROJECTIONS[k].0;
        let key = format!("base_model.model.model.layers.{layer}.{module}");
        let mut b = p.b.as_tensor().clone();
        // Llama's q/k rows are in llama.cpp's order in the GGUF file; PEFT's are Hugging Face's.
        if model.arch == "llama" && k < 2 {
            b = llama_rows(&b, if k == 0 { heads } else { kv_heads }, false)?;
        }
        tensors.insert(format!("{key}.lora_A.weight"), p.a.as_tensor().clone());
        tensors.insert(format!("{key}.lora_B.weight"), b);
    }
    let path = out.join("adapter_model.safetensors");
    // Both files are written whole before either replaces an earlier adapter's: a full disk or a
    // crash leaves the earlier adapter as it was.
    let partial = out.join(".adapter_model.safetensors.partial");
    candle_core::safetensors::save(&tensors, &partial)
        .map_err(|e| ModelError::write(&partial, std::io::Error::other(e.to_string())))?;
    let adapter_config = serde_json::json!({
        "peft_type": "LORA",
        "task_type": "CAUSAL_LM",
        "r": config.rank,
        "lora_alpha": config.alpha,
        "lora_dropout": 0.0,
        "bias": "none",
        "fan_in_fan_out": false,
        "use_rslora": false,
        "use_dora": false,
        "target_modules": PROJECTIONS.iter().map(|(m, _)| m.rsplit('.').next().unwrap_or(m)).collect::<Vec<_>>(),
        "base_model_name_or_path": base.file_stem().map(|s| s.to_string_lossy().into_owned()),
        "inference_mode": true,
    });
    let text = serde_json::to_string_pretty(&adapter_config).map_err(|e| ModelError::BadConfig {
        path: out.to_path_buf(),
        reason: e.to_string(),
    })?;
    let config_path = out.join("adapter_config.json");
    let config_partial = out.join(".adapter_config.json.partial");
    std::fs::write(&config_partial, text).map_err(|e| ModelError::write(&config_partial, e))?;
    std::fs::rename(&partial, &path).map_err(|e| ModelError::write(&path, e))?;
    std::fs::rename(&config_partial, &config_path).map_err(|e| ModelError::write(&config_path, e))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, bytes).map_err(|e| ModelError::write(&partial, e))?;
    std::fs::rename(&partial, path).map_err(|e| ModelError::write(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_holds_out_a_tenth_and_keeps_two_for_training() {
        let c = TuneConfig::default();
        let distinct = |n: usize| (0..n).collect::<Vec<_>>();
        let (t, v) = split(&distinct(50), &c);
        assert_eq!((t.len(), v.len()), (45, 5));
        let (t, v) = split(&distinct(4), &c);
        assert_eq!((t.len(), v.len()), (3, 1));
        let (t, v) = split(&distinct(3), &c);
        assert_eq!((t.len(), v.len()), (3, 0));
        let mut all: Vec<usize> = t.into_iter().chain(v).collect();
        all.sort_unstable();
        assert_eq!(all, [0, 1, 2]);
        // The same seed, the same split.
        assert_eq!(split(&distinct(50), &c), split(&distinct(50), &c));
    }

    #[test]
    fn paraphrases_are_held_out_from_entries_that_stay_in_training() {
        let c = TuneConfig {
            validation_fraction: 0.3,
            ..TuneConfig::default()
        };
        // Entries 0..10 with three phrasings each, and 10..20 with one.
        let entries: Vec<usize> = (0..10).flat_map(|e| [e, e, e]).chain(10..20).collect();
        let (train, validation) = split(&entries, &c);
        assert_eq!(validation.len(), 10);
        let mut held: Vec<usize> = validation.iter().map(|&i| entries[i]).collect();
        held.sort_unstable();
        held.dedup();
        assert_eq!(held.len(), 10, "one phrasing per entry");
        for e in held {
            assert!(e < 10, "a single-phrasing entry {e} was held out");
            assert!(
                train.iter().any(|&i| entries[i] == e),
                "entry {e} is still trained on"
            );
        }
    }

    #[test]
    fn epoch_orders_are_permutations_that_differ_between_epochs() {
        let train: Vec<usize> = (0..20).collect();
        let (a, b) = (epoch_order(&train, 7, 0), epoch_order(&train, 7, 1));
        assert_ne!(a, b);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, train);
        assert_eq!(a, epoch_order(&train, 7, 0));
    }
}
