//! `doctalk watch add|list|rm`: the folders a knowledge base follows.

use std::process::ExitCode;

use doctalk_core::folders::FileStateKind;
use serde_json::json;

use crate::app::Ctx;
use crate::cli::{SyncArgs, WatchCommand};
use crate::output::out_line;

pub async fn run(ctx: &Ctx, cmd: WatchCommand) -> anyhow::Result<ExitCode> {
    let folders = ctx.folders();
    match cmd {
        WatchCommand::Add {
            folder,
            include,
            exclude,
            no_sync,
            json,
        } => {
            let added = folders.add(&folder, include, exclude)?;
            if json {
                out_line(&serde_json::to_string(&added)?)?;
            } else {
                eprintln!("watching {}", added.path.display());
            }
            if no_sync {
                return Ok(ExitCode::SUCCESS);
            }
            crate::commands::sync::run(
                ctx,
                SyncArgs {
                    folders: vec![added.path],
                    watch: false,
                    json,
                },
            )
            .await
        }
        WatchCommand::List { files, json } => {
            let status = folders.status()?;
            if json {
                let mut value = serde_json::to_value(&status)?;
                if !files {
                    for folder in value.as_array_mut().into_iter().flatten() {
                        if let Some(obj) = folder.as_object_mut() {
                            obj.remove("files");
                        }
                    }
                }
                out_line(&value.to_string())?;
                return Ok(ExitCode::SUCCESS);
            }
            if status.is_empty() {
                eprintln!("no watched folders (add one with `doctalk watch add FOLDER`)");
            }
            for folder in &status {
                let mut line = format!(
                    "{}  {} indexed, {} waiting, {} failed",
                    folder.folder.path.display(),
                    folder.indexed,
                    folder.queued,
                    folder.failed
                );
                if !folder.available {
                    line.push_str("  (folder not found)");
                }
                for (label, globs) in [
                    ("only", &folder.folder.include),
                    ("except", &folder.folder.exclude),
                ] {
                    if !globs.is_empty() {
                        line.push_str(&format!("  {label} {}", globs.join(" ")));
                    }
                }
                out_line(&line)?;
                for file in &folder.files {
                    let show = files || file.state == FileStateKind::Failed;
                    if !show {
                        continue;
                    }
                    let state = match file.state {
                        FileStateKind::Indexed => "indexed",
                        FileStateKind::Queued => "waiting",
                        FileStateKind::Failed => "FAILED ",
                    };
                    let reason = file
                        .reason
                        .as_deref()
                        .map(|r| format!("  {r}"))
                        .unwrap_or_default();
                    out_line(&format!("  {state} {}{reason}", file.path))?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        WatchCommand::Rm {
            folder,
            keep_documents,
            json,
        } => {
            let kb = match keep_documents {
                true => None,
                false => Some(ctx.open_kb().await?),
            };
            let Some((removed, documents)) = folders.unwatch(&folder, kb.as_ref()).await? else {
                eprintln!(
                    "{} is not a watched folder (see `doctalk watch list`)",
                    folder.display()
                );
                return Ok(ExitCode::FAILURE);
            };
            if json {
                out_line(&json!({"folder": removed.path, "removed_paths": documents}).to_string())?;
            } else {
                eprintln!(
                    "no longer watching {}; {documents} path(s) removed from the index (your files are untouched)",
                    removed.path.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
