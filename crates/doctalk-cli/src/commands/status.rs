use std::process::ExitCode;

use serde_json::json;

use crate::app::Ctx;
use crate::cli::ListArgs;
use crate::output::out_line;

pub async fn run(ctx: &Ctx, args: ListArgs) -> anyhow::Result<ExitCode> {
    let kb = ctx.open_kb().await?;
    let docs = kb.documents().await?;
    let chunks = kb.chunk_count().await?;
    let model = kb.embedding_model_id().to_string();
    let location = kb.location().to_string();
    if args.json {
        out_line(
            &json!({"data_dir": ctx.data_dir.display().to_string(), "kb": ctx.kb_name,
                    "kb_dir": ctx.kb_dir().display().to_string(), "index": location, "documents": docs.len(), "chunks": chunks,
                    "embedding_model": model})
            .to_string(),
        )?;
    } else {
        out_line(&format!(
            "data directory   {}\nknowledge base   {} ({})\ndocuments        {}\nchunks           {}\nembedding model  {}",
            ctx.data_dir.display(),
            ctx.kb_name,
            location,
            docs.len(),
            chunks,
            model
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}
