//! `doctalk kb export|import`: one file to back up a knowledge base or move it to another machine.

use std::process::ExitCode;

use doctalk_core::archive;
use serde_json::json;

use crate::app::Ctx;
use crate::cli::KbCommand;
use crate::output::{out_line, Progress};

pub async fn run(ctx: &Ctx, cmd: KbCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KbCommand::Export {
            file,
            conversations,
            json,
        } => {
            let kb = ctx.open_kb().await?;
            let store = ctx.conversations();
            let extras = archive::extras(&ctx.folders(), conversations.then_some(&store), &ctx.data_dir)?;
            let bar = Progress::new(0, "exporting");
            let header = kb
                .export_archive(&ctx.kb_name, &file, &extras, &|done, total| {
                    bar.set_length(total as u64);
                    bar.set(done as u64);
                })
                .await?;
            bar.finish();
            let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            if json {
                out_line(&json!({"file": file, "header": header, "bytes": size}).to_string())?;
            } else {
                eprintln!(
                    "exported knowledge base {:?}: {} documents, {} passages, {} watched folders, {} conversations ({}, {:.1} MB) to {}",
                    header.kb,
                    header.documents,
                    header.chunks,
                    extras.folders.len(),
                    header.conversations,
                    header.encoder,
                    size as f64 / 1e6,
                    file.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        KbCommand::Repair { json } => {
            let embedder = ctx.load_embedder()?;
            let bar = Progress::new(0, "re-indexing");
            let report = doctalk_core::repair::repair(&ctx.kb_dir(), embedder, &|event| {
                if let doctalk_core::IngestEvent::FileStarted { index, total, .. } = event {
                    bar.set_length(total as u64);
                    bar.set(index as u64);
                }
            })
            .await?;
            bar.finish();
            let failed = report
                .reports
                .iter()
                .filter(|r| r.status == doctalk_core::FileStatus::Failed)
                .count();
            if json {
                out_line(&serde_json::to_string(&report)?)?;
            } else {
                eprintln!(
                    "rebuilt the index of {:?} from {} file(s); the damaged tables are kept in {}",
                    ctx.kb_name,
                    report.reports.len(),
                    report.set_aside.display()
                );
                if report.listed.is_none() {
                    eprintln!(
                        "its document list was unreadable too: only the watched folders were indexed again"
                    );
                }
                for gone in &report.missing {
                    eprintln!("  gone, cannot be indexed again: {gone}");
                }
                if failed > 0 {
                    eprintln!("  {failed} file(s) could not be read (see `doctalk ingest` for why)");
                }
            }
            Ok(if failed > 0 {
                ExitCode::from(3)
            } else {
                ExitCode::SUCCESS
            })
        }
        KbCommand::Import { file, name, json } => {
            let header = archive::read_header(&file)?;
            let name = name.unwrap_or_else(|| header.kb.clone());
            anyhow::ensure!(
                doctalk_core::valid_kb_name(&name),
                "knowledge-base names use letters, digits, '-' and '_' only: {name:?} (choose one with --name)"
            );
            let dest = ctx.data_dir.join("kb").join(&name);
            let embedder = ctx.load_embedder()?;
            if header.encoder != embedder.model_id() {
                eprintln!(
                    "the archive was embedded with {}; this machine uses {}: its passages are embedded again",
                    header.encoder,
                    embedder.model_id()
                );
            }
            let bar = Progress::new(header.documents as u64, "importing");
            let report =
                archive::import_archive(&file, &dest, embedder, &|done, _| bar.set(done as u64)).await?;
            bar.finish();
            let settings_adopted = archive::adopt_settings(&report, &ctx.data_dir)?;
            if json {
                out_line(
                    &json!({"kb": name, "report": report, "settings_adopted": settings_adopted}).to_string(),
                )?;
            } else {
                eprintln!(
                    "imported {} documents ({} passages, {} watched folders, {} conversations) as knowledge base {name:?}{}{}; use it with --kb {name}",
                    report.documents,
                    report.chunks,
                    report.folders,
                    report.conversations,
                    if report.reembedded { ", re-embedded" } else { "" },
                    if settings_adopted { ", with the archive's settings" } else { "" }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
