//! `doctalk summarize DOC`: a summary of one document, with the passages it cites.

use std::process::ExitCode;
use std::sync::atomic::Ordering;

use doctalk_core::summary::SummaryRequest;

use crate::app::Ctx;
use crate::cli::SummarizeArgs;
use crate::output::{out_line, Progress};

pub async fn run(ctx: &Ctx, args: SummarizeArgs) -> anyhow::Result<ExitCode> {
    let kb = ctx.open_kb().await?;
    // The document first: a wrong name fails before a model is loaded.
    let doc = kb.resolve_document(&args.doc).await?;
    let mut req = SummaryRequest::new(doc.id.clone());
    req.length = args.length;
    req.script = args.answer.script;
    if !args.answer.no_llm {
        req.generator = ctx.load_generator_or_warn(&args.answer).await?;
    }
    let cancel = req.cancel.clone();
    let watcher = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            cancel.store(true, Ordering::Relaxed);
        }
    });
    let bar = Progress::new(1, "summarising");
    let summary = kb
        .summarize(req, &|p| {
            bar.set_length(p.total as u64);
            bar.set(p.done as u64);
        })
        .await?;
    bar.finish();
    watcher.abort();
    if args.json {
        out_line(&serde_json::to_string_pretty(&summary)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    out_line(&summary.summary)?;
    out_line("")?;
    for s in &summary.sources {
        if summary.summary.contains(&format!("[{}]", s.n)) {
            out_line(&format!("[{}] {}", s.n, s.label(summary.lang)))?;
        }
    }
    eprintln!(
        "({} of {} passages read; {}{})",
        summary.passages_read,
        summary.passages_total,
        summary.model.as_deref().unwrap_or("extractive"),
        if summary.cancelled { "; stopped" } else { "" }
    );
    for claim in &summary.unverified {
        eprintln!("not in its source, replaced by the passage: {:?}", claim.claim);
    }
    Ok(ExitCode::SUCCESS)
}
