//! `doctalk sync`: one reconcile pass over the watched folders (or the given ones), or
//! `--watch` to keep following them.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use doctalk_core::folders::{FolderWatcher, SyncEvent, SyncReport, WatchedFolder};
use doctalk_core::{IngestEvent, IngestStage};

use crate::app::{Ctx, EXIT_PARTIAL};
use crate::cli::SyncArgs;
use crate::commands::ingest::{report_human, report_json};
use crate::output::{out_line, Progress};

/// How long `doctalk sync` waits for files that are still being written.
const MAX_SETTLE_WAIT: Duration = Duration::from_secs(30);

pub async fn run(ctx: &Ctx, args: SyncArgs) -> anyhow::Result<ExitCode> {
    let kb = ctx.open_kb().await?;
    let folders = Arc::new(ctx.folders());
    let watched = folders.list()?;
    let chosen: Vec<WatchedFolder> = if args.folders.is_empty() {
        watched
    } else {
        args.folders
            .iter()
            .map(|f| {
                let path = std::fs::canonicalize(f).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
                // A watched folder keeps its patterns.
                match watched.iter().find(|w| w.path == path) {
                    Some(w) => Ok(w.clone()),
                    None => Ok(WatchedFolder::new(path, vec![], vec![])?),
                }
            })
            .collect::<anyhow::Result<_>>()?
    };
    if chosen.is_empty() {
        eprintln!("no watched folders: add one with `doctalk watch add FOLDER`, or name folders to sync");
        return Ok(ExitCode::FAILURE);
    }
    if args.watch {
        if !args.folders.is_empty() {
            anyhow::bail!("--watch follows the watched folders; add these with `doctalk watch add` first");
        }
        let json = args.json;
        let _watcher = FolderWatcher::start(kb, folders, move |result| match result {
            Ok(report) if report.files.is_empty() && report.removed == 0 && report.queued == 0 => {}
            Ok(report) => {
                let _ = print_report(report, json);
            }
            Err(e) => eprintln!("sync failed: {e} (retrying later)"),
        });
        eprintln!("following {} folder(s); Ctrl+C stops", chosen.len());
        tokio::signal::ctrl_c().await?;
        return Ok(ExitCode::SUCCESS);
    }

    let bar = Progress::new(0, "syncing");
    let report = folders
        .sync_settled(&kb, &chosen, MAX_SETTLE_WAIT, &|event| match event {
            SyncEvent::Scanned { to_read, .. } => bar.set_length(to_read as u64),
            SyncEvent::Ingest(IngestEvent::Stage { path, stage }) => bar.message(match stage {
                IngestStage::Parse => format!("reading {}", path.display()),
                IngestStage::Ocr { done, total } => format!("OCR page {done}/{total} {}", path.display()),
                IngestStage::Embed { done, total, .. } => {
                    format!("embedding {done}/{total} {}", path.display())
                }
                IngestStage::Commit => format!("saving {}", path.display()),
            }),
            SyncEvent::Ingest(IngestEvent::FileFinished(_)) => bar.inc(),
            _ => {}
        })
        .await?;
    bar.finish();
    print_report(&report, args.json)?;
    Ok(if report.failed > 0 {
        ExitCode::from(EXIT_PARTIAL)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_report(report: &SyncReport, json: bool) -> std::io::Result<()> {
    if json {
        let mut value = serde_json::to_value(report).map_err(std::io::Error::other)?;
        value["files"] = report.files.iter().map(report_json).collect();
        return out_line(&value.to_string());
    }
    for file in &report.files {
        out_line(&report_human(file))?;
    }
    for path in &report.removed_paths {
        out_line(&format!("removed    {path}"))?;
    }
    for path in &report.queued_paths {
        out_line(&format!(
            "waiting    {path} (still being written; picked up by the next sync)"
        ))?;
    }
    for skipped in &report.skipped {
        out_line(&format!("skipped    {} ({})", skipped.path, skipped.reason))?;
    }
    for folder in &report.unavailable {
        out_line(&format!(
            "missing    {} (folder not found: its documents are kept until it is back or unwatched)",
            folder.display()
        ))?;
    }
    eprintln!(
        "{} added, {} changed, {} moved, {} copies, {} removed, {} unchanged, {} failed, {} waiting ({:.1} s)",
        report.added,
        report.changed,
        report.moved,
        report.duplicates,
        report.removed,
        report.unchanged,
        report.failed,
        report.queued,
        report.elapsed_ms as f64 / 1000.0
    );
    Ok(())
}
