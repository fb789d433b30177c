//! `doctalk generate`: the local LLM on its own, without the knowledge base — to try a model, to
//! script it, and to see what it does before it answers from documents.

use std::io::Write;
use std::ops::ControlFlow;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use doctalk_models::llm::{locate_llm, ChatMessage, GenerationParams, StopReason};
use doctalk_models::DeviceChoice;
use serde_json::json;

use crate::app::Ctx;
use crate::cli::GenerateArgs;
use crate::output::out_line;

pub async fn run(ctx: &Ctx, args: GenerateArgs) -> anyhow::Result<ExitCode> {
    let device = parse_device(&args.device)?;
    let roots = ctx.model_roots();
    if !args.json {
        let path = locate_llm(args.model.as_deref(), &roots)?;
        match &args.adapter {
            Some(adapter) => eprintln!("Loading {} with the adapter {adapter}…", path.display()),
            None => eprintln!("Loading {}…", path.display()),
        }
    }
    let load_started = Instant::now();
    let (model, adapter) = (args.model.clone(), args.adapter.clone());
    let llm = tokio::task::spawn_blocking(move || {
        doctalk_core::local_model::load(&roots, model.as_deref(), adapter.as_deref(), device)
    })
    .await?
    .context("cannot load the language model")?;
    let load_s = load_started.elapsed().as_secs_f64();

    let prompt = if args.raw {
        args.prompt.clone()
    } else {
        let mut messages = Vec::new();
        if let Some(system) = &args.system {
            messages.push(ChatMessage::system(system.clone()));
        }
        messages.push(ChatMessage::user(args.prompt.clone()));
        llm.render_chat(&messages)?
    };
    let params = GenerationParams {
        max_tokens: args.max_tokens,
        temperature: args.temperature,
        top_p: args.top_p,
        top_k: args.top_k,
        repeat_penalty: args.repeat_penalty,
        seed: args.seed,
        stop: args.stop.clone(),
        ..GenerationParams::default()
    };

    // Ctrl+C ends generation at the next token and still prints what was produced.
    let cancel = Arc::new(AtomicBool::new(false));
    let on_ctrl_c = cancel.clone();
    let watcher = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c.store(true, Ordering::Relaxed);
        }
    });
    let stream = !args.json;
    let model_id = llm.model_id().to_string();
    let (output, first_token_s, total_s) = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let mut first_token = None;
        let mut stdout = std::io::stdout();
        let output = llm.generate(&prompt, &params, &mut |piece| {
            first_token.get_or_insert_with(|| started.elapsed().as_secs_f64());
            // A closed pipe (`| head`) is a reason to stop, not to fail.
            if stream && (stdout.write_all(piece.as_bytes()).is_err() || stdout.flush().is_err()) {
                return ControlFlow::Break(());
            }
            if cancel.load(Ordering::Relaxed) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        (output, first_token, started.elapsed().as_secs_f64())
    })
    .await?;
    watcher.abort();
    let output = output?;

    let decode_tokens_per_s = first_token_s
        .filter(|_| output.completion_tokens > 1)
        .map(|first| (output.completion_tokens - 1) as f64 / (total_s - first).max(1e-9));
    if args.json {
        out_line(&serde_json::to_string_pretty(&json!({
            "model": model_id,
            "text": output.text,
            "prompt_tokens": output.prompt_tokens,
            "completion_tokens": output.completion_tokens,
            "guessed_tokens": output.guessed_tokens,
            "stop_reason": stop_reason_name(&output.stop_reason),
            "load_s": load_s,
            "time_to_first_token_s": first_token_s,
            "decode_tokens_per_s": decode_tokens_per_s,
        }))?)?;
    } else {
        println!();
        let speed = decode_tokens_per_s.map_or(String::new(), |s| format!(", {s:.1} tokens/s"));
        eprintln!(
            "[{model_id}: {} prompt + {} generated tokens{speed}; {}]",
            output.prompt_tokens,
            output.completion_tokens,
            stop_reason_name(&output.stop_reason)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn stop_reason_name(reason: &StopReason) -> &'static str {
    match reason {
        StopReason::EndOfText => "end_of_text",
        StopReason::StopString(_) => "stop_string",
        StopReason::MaxTokens => "max_tokens",
        StopReason::ContextFull => "context_full",
        StopReason::Cancelled => "cancelled",
    }
}

pub(crate) fn parse_device(name: &str) -> anyhow::Result<DeviceChoice> {
    match name {
        "cpu" => Ok(DeviceChoice::Cpu),
        "cuda" => Ok(DeviceChoice::Cuda(0)),
        other => other
            .strip_prefix("cuda:")
            .and_then(|n| n.parse().ok())
            .map(DeviceChoice::Cuda)
            .with_context(|| format!("unknown device {other:?}: use cpu, cuda or cuda:N")),
    }
}
