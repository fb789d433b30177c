//! `doctalk tune`: fine-tunes a LoRA adapter on question–answer pairs, with progress (loss, time
//! left) on stderr, Ctrl+C stopping at a checkpoint, and the adapter written where `--adapter` finds
//! it.

use std::ops::ControlFlow;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use doctalk_models::llm::locate_llm;
use doctalk_models::llm::tune::{estimate, tune, TuneConfig, TuneEvent};

use super::generate::parse_device;
use crate::app::Ctx;
use crate::cli::TuneArgs;
use crate::output::out_line;

pub async fn run(ctx: &Ctx, args: TuneArgs) -> anyhow::Result<ExitCode> {
    let device = parse_device(&args.device)?;
    let base = locate_llm(args.base.as_deref(), &ctx.model_roots())?;
    let pairs = match &args.faq {
        Some(file) => doctalk_core::tuning::pairs_from_faq(file)?,
        None => {
            let kb = ctx.open_kb().await?;
            doctalk_core::tuning::pairs_from_kb(&kb, &ctx.kb_name).await?
        }
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| doctalk_core::tuning::default_out(&ctx.data_dir, &ctx.kb_name));
    let config = TuneConfig {
        rank: args.rank,
        alpha: args.alpha,
        learning_rate: args.learning_rate,
        epochs: args.epochs,
        max_steps: args.max_steps,
        max_tokens: args.max_tokens,
        validation_fraction: args.held_out,
        compare: !args.no_compare,
        paraphrases: args.paraphrases,
        ..TuneConfig::default()
    };
    if args.estimate {
        return print_estimate(&base, device, &pairs, &out, &config, args.json);
    }
    eprintln!(
        "Fine-tuning {} on {} question–answer pairs into {}…",
        base.display(),
        pairs.len(),
        out.display()
    );
    // Ctrl+C asks the run to stop after its current step; it saves a checkpoint first. A second
    // Ctrl+C ends the process at once (the last checkpoint stays).
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let stop = stop.clone();
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                if stop.swap(true, Ordering::SeqCst) {
                    eprintln!("Stopped without saving the current step.");
                    std::process::exit(130);
                }
                eprintln!("Stopping after this step (Ctrl+C again to stop at once)…");
            }
        })
    };
    let (resume, out_dir) = (args.resume, out.clone());
    let report = tokio::task::spawn_blocking(move || {
        // Steps and checkpoints at most one line a second (a small model takes many a second), but
        // always the last step and the checkpoint a stop saves.
        let mut shown: Option<Instant> = None;
        tune(&base, device, &pairs, &out_dir, &config, resume, &mut |event| {
            let frequent = matches!(event, TuneEvent::Step { .. } | TuneEvent::Checkpoint { .. });
            let last_step = matches!(event, TuneEvent::Step { step, steps, .. } if step == steps);
            let stopping = matches!(event, TuneEvent::Checkpoint { .. }) && stop.load(Ordering::SeqCst);
            let due = shown.is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
            if !frequent || last_step || stopping || due {
                eprintln!("{}", describe(event));
                if frequent {
                    shown = Some(Instant::now());
                }
            }
            if stop.load(Ordering::SeqCst) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
    })
    .await?
    .context("fine-tuning failed")?;
    watcher.abort();

    if args.json {
        out_line(&serde_json::to_string_pretty(&report)?)?;
    } else if report.stopped && report.steps == 0 {
        out_line("Stopped before the first step: nothing was trained or saved.")?;
    } else if report.stopped {
        out_line(&format!(
            "Stopped at step {}; the checkpoint is in {}. Continue with the same command and --resume.",
            report.steps,
            out.display()
        ))?;
    } else {
        let change = match (report.validation_loss_before, report.validation_loss_after) {
            (Some(b), Some(a)) => format!(
                "; held-out loss {b:.3} → {a:.3} on {} pairs",
                report.validation_pairs
            ),
            _ => String::new(),
        };
        if !report.paraphrases.is_empty() {
            out_line(&format!(
                "Trained on {} rewrites the model wrote, e.g. {:?} for {:?}",
                report.paraphrases.len(),
                report.paraphrases[0].text,
                report.paraphrases[0].of
            ))?;
        }
        out_line(&format!(
            "Adapter written to {} ({} steps in {:.0} s{change}). Use it with --adapter {}",
            out.display(),
            report.steps,
            report.seconds,
            out.display()
        ))?;
        if let Some(reason) = &report.comparison_error {
            out_line(&format!("The held-out questions could not be compared: {reason}"))?;
        }
        if let Some(c) = &report.comparison {
            out_line(&format!(
                "Held-out questions answered exactly: base {}/{n}, tuned {}/{n}; character overlap {:.2} → {:.2}",
                c.base_exact,
                c.tuned_exact,
                c.base_overlap,
                c.tuned_overlap,
                n = c.questions
            ))?;
        }
    }
    Ok(if report.stopped {
        ExitCode::from(130)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_estimate(
    base: &std::path::Path,
    device: doctalk_models::DeviceChoice,
    pairs: &[doctalk_models::llm::tune::QaPair],
    out: &std::path::Path,
    config: &TuneConfig,
    json: bool,
) -> anyhow::Result<ExitCode> {
    eprintln!("Timing a training step of {}…", base.display());
    let e = estimate(base, device, pairs, out, config).context("cannot estimate the run")?;
    if json {
        out_line(&serde_json::to_string_pretty(&e)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut line = format!(
        "{} pairs to train on, {} held out, {} steps",
        e.train_pairs, e.validation_pairs, e.steps
    );
    if e.too_long > 0 {
        line.push_str(&format!("; {} left out as too long", e.too_long));
    }
    out_line(&line)?;
    if let Some(step) = e.resumable_at {
        out_line(&format!(
            "A checkpoint at step {step} is in {}: --resume continues it.",
            out.display()
        ))?;
    }
    if let Some(reason) = &e.checkpoint_conflict {
        out_line(&format!("{}: {reason}", out.display()))?;
    }
    let rewriting = if e.paraphrase_seconds > 0.0 {
        format!("{} writing rewrites, ", clock(e.paraphrase_seconds))
    } else {
        String::new()
    };
    out_line(&format!(
        "About {} on this machine ({:.0} tokens a second): {rewriting}{} training, {} comparing base and tuned.",
        clock(e.seconds),
        e.tokens_per_second,
        clock(e.training_seconds),
        clock(e.comparison_seconds)
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// One progress line.
fn describe(event: &TuneEvent) -> String {
    match event {
        TuneEvent::Prepared {
            train,
            validation,
            too_long,
            steps,
            resumed_at,
        } => {
            let mut line = format!("{train} pairs to train on, {validation} held out, {steps} steps");
            if *too_long > 0 {
                line.push_str(&format!("; {too_long} left out as too long"));
            }
            if *resumed_at > 0 {
                line.push_str(&format!("; resuming at step {resumed_at}"));
            }
            line
        }
        TuneEvent::Paraphrasing { done, total } => {
            format!("writing other ways of asking each question: {done}/{total}")
        }
        TuneEvent::Validated { when, loss } => format!("held-out loss {when} training: {loss:.3}"),
        TuneEvent::Step {
            step,
            steps,
            loss,
            elapsed_s,
            eta_s,
        } => format!(
            "step {step}/{steps}  loss {loss:.3}  {} elapsed, about {} left",
            clock(*elapsed_s),
            clock(*eta_s)
        ),
        TuneEvent::Checkpoint { step } => format!("checkpoint saved at step {step}"),
        TuneEvent::Comparing { done, total } => {
            format!("answering the held-out questions with the base and the tuned model: {done}/{total}")
        }
    }
}

fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}
