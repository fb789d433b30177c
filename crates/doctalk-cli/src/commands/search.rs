use std::process::ExitCode;

use doctalk_core::{Explanation, SearchHit};
use serde_json::json;

use crate::app::Ctx;
use crate::cli::SearchArgs;
use crate::output::{excerpt, out_line};

pub async fn run(ctx: &Ctx, args: SearchArgs) -> anyhow::Result<ExitCode> {
    if ctx.kb_names.len() > 1 {
        return run_across(ctx, args).await;
    }
    let kb = ctx.open_kb().await?;
    let scope = kb.resolve_scope(&args.scope.request()).await?;
    if args.explain {
        let explanation = kb.explain(&args.query, args.top_k, scope.as_ref()).await?;
        if args.json {
            out_line(&serde_json::to_string_pretty(&explanation)?)?;
        } else {
            for line in explain_human(&explanation) {
                out_line(&line)?;
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let hits = kb.search_in(&args.query, args.top_k, scope.as_ref()).await?;
    if args.json {
        let arr: Vec<_> = hits.iter().map(hit_json).collect();
        out_line(&serde_json::to_string_pretty(&arr)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    if hits.is_empty() {
        let docs = kb.documents().await?.len();
        if docs == 0 {
            eprintln!("The knowledge base is empty: add documents with `doctalk ingest PATH`.");
        } else {
            eprintln!("Nothing found in {docs} document(s).");
        }
        return Ok(ExitCode::SUCCESS);
    }
    for hit in &hits {
        out_line(&hit_human(hit))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `--kb a,b`: each knowledge base searched whole, the hits merged on their fused scores, each line
/// naming its knowledge base (`doctalk_core::across`).
async fn run_across(ctx: &Ctx, args: SearchArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.scope.request().is_empty(),
        "--doc and --folder name documents of one knowledge base: search several without them"
    );
    anyhow::ensure!(
        !args.explain,
        "the retrieval test (--explain) explains one knowledge base at a time"
    );
    let embedder = ctx.load_embedder()?;
    let mut per_kb = Vec::new();
    for name in &ctx.kb_names {
        // Searching must not create a knowledge base that was never made.
        anyhow::ensure!(
            ctx.store_uri.is_some() || ctx.data_dir.join("kb").join(name).is_dir(),
            "no knowledge base {name:?} in {} (make it with `doctalk --kb {name} ingest PATH`)",
            ctx.data_dir.display()
        );
        let kb = ctx.open_kb_with(name, embedder.clone()).await?;
        per_kb.push((name.clone(), kb.search(&args.query, args.top_k).await?));
    }
    let hits = doctalk_core::across::merge_ranked(per_kb, args.top_k);
    if args.json {
        let arr: Vec<_> = hits.iter().map(hit_json).collect();
        out_line(&serde_json::to_string_pretty(&arr)?)?;
    } else if hits.is_empty() {
        eprintln!("Nothing found in {}.", ctx.kb_names.join(", "));
    } else {
        for hit in &hits {
            out_line(&format!(
                "[{}] {}",
                hit.kb.as_deref().unwrap_or(""),
                hit_human(hit)
            ))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn hit_json(h: &SearchHit) -> serde_json::Value {
    let mut hit = json!({
        "rank": h.rank,
        "fused_score": h.fused_score,
        "dense_score": h.dense.map(|c| c.score),
        "dense_rank": h.dense.map(|c| c.rank),
        "bm25_score": h.bm25.map(|c| c.score),
        "bm25_rank": h.bm25.map(|c| c.rank),
        "faq_match": h.faq_match,
        "path": h.path,
        "title": h.title,
        "page": h.page,
        "kind": h.kind,
        "heading_path": h.heading_path,
        "text": h.text,
        "question": h.questions.first(),
        "answer": h.answer,
        "chunk_id": h.chunk_id,
        "doc_id": h.doc_id,
    });
    if let Some(kb) = &h.kb {
        hit["kb"] = json!(kb);
    }
    hit
}

/// The retrieval test as a table: one line per hit with its ranks and scores, then the answer's view.
fn explain_human(e: &Explanation) -> Vec<String> {
    let mut lines = vec![format!(
        "{:>4}  {:>13}  {:>12}  {:>8}  {:<7}  passage",
        "rank", "dense (rank)", "bm25 (rank)", "fused", "offered"
    )];
    for h in &e.hits {
        let dense = h
            .dense
            .map_or("–".into(), |d| format!("{:.3} (#{})", d.score, d.rank));
        let bm25 = h
            .bm25
            .map_or("–".into(), |b| format!("{:.2} (#{})", b.score, b.rank));
        let why = match (h.faq_match, h.identifier_match) {
            (Some(s), _) => format!(" [FAQ question match {s:.2}]"),
            (None, true) => " [holds the query's identifiers]".into(),
            _ => String::new(),
        };
        let file = std::path::Path::new(&h.path)
            .file_name()
            .map_or_else(|| h.path.clone(), |f| f.to_string_lossy().into_owned());
        let page = h.page.map(|p| format!(" p.{p}")).unwrap_or_default();
        lines.push(format!(
            "{:>4}  {dense:>13}  {bm25:>12}  {:>8.4}  {:<7}  {file}{page}{why}: {}",
            h.rank,
            h.fused_score,
            if h.rank <= e.offered { "yes" } else { "no" },
            excerpt(&h.text, 90)
        ));
    }
    lines.push(String::new());
    lines.push(format!(
        "fused = cosine + {} × BM25 / best BM25 (a passage BM25 alone found counts the lowest cosine){}; FAQ question matches first",
        e.bm25_weight,
        if e.identifiers.is_empty() {
            String::new()
        } else {
            format!(" + {} for holding {}", e.identifier_bonus, e.identifiers.join(", "))
        }
    ));
    let threshold = e
        .evidence
        .threshold
        .map_or("none (encoder not calibrated)".into(), |t| format!("{t:.3}"));
    let best = e
        .evidence
        .top_dense_score
        .map_or("–".into(), |s| format!("{s:.3}"));
    let terms = e
        .evidence
        .key_terms
        .map_or("–".into(), |k| format!("{:.0}%", k * 100.0));
    lines.push(if e.grounded {
        format!(
            "An answer would offer the model the first {} passage(s): best cosine {best} (grounding threshold {threshold}), key terms covered {terms}.",
            e.offered
        )
    } else {
        format!(
            "An answer would say the documents do not hold it: best cosine {best} against the grounding threshold {threshold}, key terms covered {terms} (just over the threshold, a Chinese question needs 20% of them)."
        )
    });
    lines
}

pub fn hit_human(h: &SearchHit) -> String {
    let file = std::path::Path::new(&h.path)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| h.path.clone());
    let mut loc = file;
    if let Some(p) = h.page {
        loc.push_str(&format!(" · p.{p}"));
    }
    if !h.heading_path.is_empty() {
        loc.push_str(&format!(" · {}", h.heading_path.join(" > ")));
    }
    let mut scores = format!("fused {:.4}", h.fused_score);
    if let Some(d) = h.dense {
        scores.push_str(&format!(" · dense #{} {:.3}", d.rank, d.score));
    }
    if let Some(b) = h.bm25 {
        scores.push_str(&format!(" · bm25 #{} {:.2}", b.rank, b.score));
    }
    if h.faq_match.is_some() {
        scores.push_str(" · FAQ match");
    }
    let body = match (h.kind, h.questions.first(), &h.answer) {
        (doctalk_core::ChunkKind::Qa, Some(q), Some(a)) => {
            format!("Q: {}\n    A: {}", excerpt(q, 200), excerpt(a, 400))
        }
        _ => excerpt(&h.text, 400),
    };
    format!("[{}] {loc}   ({scores})\n    {body}\n", h.rank)
}
