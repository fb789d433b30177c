//! `doctalk ask`: one question, a streamed cited answer (or one JSON object).

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use doctalk_core::{Answer, AnswerEvent, KnowledgeBase, Lang};
use doctalk_models::llm::Generator;
use serde_json::json;

use crate::app::Ctx;
use crate::cli::{AnswerArgs, AskArgs};
use crate::output::out_line;

pub async fn run(ctx: &Ctx, args: AskArgs) -> anyhow::Result<ExitCode> {
    let kb = ctx.open_kb().await?;
    let scope = kb.resolve_scope(&args.scope.request()).await?;
    let generator = ctx.load_generator_or_warn(&args.answer).await?;
    let store = ctx.conversations();
    let mut conversation = match args.conversation.as_deref() {
        Some("new") => Some(store.create()),
        Some(id) => Some(store.load(id)?),
        None => None,
    };
    let history = conversation.as_ref().map(|c| c.turns.clone()).unwrap_or_default();
    let answer = answer_once(
        &kb,
        &args.question,
        history,
        generator,
        &args.answer,
        scope,
        !args.json,
    )
    .await?;
    if let Some(c) = conversation.as_mut() {
        c.push(&args.question, &answer);
        store.save(c)?;
    }
    if args.json {
        let mut value = answer_json(&answer);
        if let Some(c) = &conversation {
            value["conversation"] = json!(c.id);
        }
        out_line(&serde_json::to_string_pretty(&value)?)?;
    } else {
        print_sources(&answer)?;
        if let Some(c) = &conversation {
            eprintln!("(conversation {})", c.id);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Answers one question, streaming the text to stdout when `stream`; Ctrl+C stops generation.
pub async fn answer_once(
    kb: &KnowledgeBase,
    question: &str,
    history: Vec<doctalk_core::Turn>,
    generator: Option<Arc<dyn Generator>>,
    args: &AnswerArgs,
    scope: Option<doctalk_core::Scope>,
    stream: bool,
) -> anyhow::Result<Answer> {
    let mut req = args.request(question);
    req.history = history;
    req.scope = scope;
    req.generator = generator;
    let cancel = req.cancel.clone();
    let watcher = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            cancel.store(true, Ordering::Relaxed);
        }
    });
    let asked = question.trim().to_string();
    let broken_pipe = Arc::new(Mutex::new(false));
    let bp = broken_pipe.clone();
    let sink: doctalk_core::answer::EventSink = Arc::new(move |event| match event {
        AnswerEvent::Query(q) if stream && q != asked => eprintln!("(searching for: {q})"),
        AnswerEvent::Token(t) if stream => {
            let mut out = std::io::stdout().lock();
            if out.write_all(t.as_bytes()).and_then(|_| out.flush()).is_err() {
                *bp.lock().unwrap_or_else(|p| p.into_inner()) = true;
            }
        }
        _ => {}
    });
    let answer = kb.answer(req, sink).await;
    watcher.abort();
    let answer = answer?;
    if stream {
        println!();
    }
    Ok(answer)
}

pub fn print_sources(answer: &Answer) -> std::io::Result<()> {
    if answer.sources.is_empty() {
        return Ok(());
    }
    let heading = match (answer.lang, answer.grounded) {
        (Lang::Zh, true) => "来源：",
        (Lang::Zh, false) => "最接近的段落：",
        (Lang::En, true) => "Sources:",
        (Lang::En, false) => "Closest passages:",
    };
    out_line(&format!("\n{heading}"))?;
    // Read whole, every passage is a source: the ones the answer cites are listed, and what was read.
    let listed: Vec<&doctalk_core::Source> = if answer.whole_document && !answer.cited.is_empty() {
        let n = answer.sources.len();
        out_line(&match answer.lang {
            Lang::Zh => format!("（已通读整篇文档，共 {n} 段，以下为引用的段落）"),
            Lang::En => format!(
                "(answered from the whole document: all {n} passages were read; the cited ones follow)"
            ),
        })?;
        answer
            .sources
            .iter()
            .filter(|s| answer.cited.contains(&s.n))
            .collect()
    } else {
        answer.sources.iter().collect()
    };
    for s in listed {
        let marker = if answer.cited.contains(&s.n) { "*" } else { " " };
        out_line(&format!(
            "{marker}[{}] {} — {}",
            s.n,
            s.label(answer.lang),
            s.path
        ))?;
    }
    if let Some(reason) = &answer.fallback_reason {
        eprintln!("(answered from the passages: the language model failed: {reason})");
    }
    Ok(())
}

pub fn answer_json(a: &Answer) -> serde_json::Value {
    json!({
        "answer": a.answer,
        "sources": a.sources.iter().map(|s| json!({
            "n": s.n, "path": s.path, "title": s.title, "page": s.page, "row": s.row,
            "text": s.text, "kind": s.kind, "score": s.score, "cited": a.cited.contains(&s.n),
        })).collect::<Vec<_>>(),
        "query": a.query,
        "grounded": a.grounded,
        "whole_document": a.whole_document,
        "mode": a.mode,
        "lang": a.lang,
        "model": a.model,
        "evidence": a.evidence,
        "cited": a.cited,
        "invalid_citations": a.invalid_citations,
        "fallback_reason": a.fallback_reason,
        "cancelled": a.cancelled,
        "unverified": a.unverified,
        "model_text": a.model_text,
        "timings": a.timings,
    })
}
