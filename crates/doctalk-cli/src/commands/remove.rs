use std::process::ExitCode;

use doctalk_core::CoreError;
use serde_json::json;

use crate::app::Ctx;
use crate::cli::RemoveArgs;
use crate::output::out_line;

pub async fn run(ctx: &Ctx, args: RemoveArgs) -> anyhow::Result<ExitCode> {
    let kb = ctx.open_kb().await?;
    let mut missing = 0;
    for key in &args.docs {
        match kb.remove(key).await {
            Ok(doc) if args.json => {
                out_line(&json!({"doc": key, "removed": true, "id": doc.id, "path": doc.path}).to_string())?
            }
            Ok(doc) => out_line(&format!("removed {} ({})", doc.title, doc.path))?,
            Err(CoreError::NoSuchDocument(_)) => {
                missing += 1;
                if args.json {
                    out_line(&json!({"doc": key, "removed": false}).to_string())?;
                } else {
                    eprintln!("no document matches {key:?}");
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(if missing == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
