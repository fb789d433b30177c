use std::process::ExitCode;

use serde_json::json;

use crate::app::Ctx;
use crate::cli::ListArgs;
use crate::output::out_line;

pub async fn run(ctx: &Ctx, args: ListArgs) -> anyhow::Result<ExitCode> {
    let kb = ctx.open_kb().await?;
    let docs = kb.documents().await?;
    if args.json {
        let arr: Vec<_> = docs
            .iter()
            .map(|d| {
                json!({"id": d.id, "path": d.path, "title": d.title, "format": d.format, "pages": d.pages,
                       "chunks": d.chunks, "also_at": d.also_at, "size_bytes": d.size_bytes, "embedding_model": d.embedding_model,
                       "ingested_at_ms": d.ingested_at_ms})
            })
            .collect();
        out_line(&serde_json::to_string_pretty(&arr)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    if docs.is_empty() {
        eprintln!("No documents yet: add some with `doctalk ingest PATH`.");
    }
    for d in &docs {
        let pages = d.pages.map(|p| format!("{p} pages, ")).unwrap_or_default();
        out_line(&format!(
            "{}  {}  ({}{} chunks)\n              {}",
            &d.id[..12.min(d.id.len())],
            d.title,
            pages,
            d.chunks,
            d.path
        ))?;
        for other in &d.also_at {
            out_line(&format!("              {other} (same content)"))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
