use std::process::ExitCode;
use std::sync::Mutex;

use doctalk_core::{FileReport, FileStatus, IngestEvent, IngestStage};
use doctalk_ingest::{FaqMapping, ParseOptions, PdfPassword};
use serde_json::json;

use crate::app::{Ctx, EXIT_PARTIAL};
use crate::cli::IngestArgs;
use crate::output::{out_line, Progress};

pub async fn run(ctx: &Ctx, args: IngestArgs) -> anyhow::Result<ExitCode> {
    let mut opts = ParseOptions::default();
    if let (Some(question), Some(answer)) = (&args.faq_question, &args.faq_answer) {
        opts.faq_mapping = Some(FaqMapping {
            question: question.clone(),
            answer: answer.clone(),
            similar_questions: args.faq_similar.clone(),
        });
    }
    opts.pdf_passwords = passwords(&args)?;
    opts.ocr.reader = Some(doctalk_core::ocr::shared());
    opts.ocr.mode = args.ocr;
    let kb = ctx.open_kb().await?.with_parse_options(opts);
    let (files, _) = doctalk_core::collect_files(&args.paths);
    let bar = Progress::new(files.len() as u64, "ingesting");
    let json = args.json;
    // Output happens inside the progress callback so each file's line appears as soon as it
    // is done; the first write error (e.g. a closed pipe) is kept and returned afterwards.
    let write_error: Mutex<Option<std::io::Error>> = Mutex::new(None);
    let done = Mutex::new(0u64);
    let reports = kb
        .ingest(&args.paths, &|event| match event {
            IngestEvent::FileStarted { path, .. } => bar.message(path.display().to_string()),
            IngestEvent::Stage { path, stage } => bar.message(match stage {
                IngestStage::Parse => format!("parsing {}", path.display()),
                IngestStage::Ocr { done, total } => format!("OCR page {done}/{total} {}", path.display()),
                IngestStage::Embed { done, total, eta_s } => match eta_s {
                    Some(s) if done < total => {
                        format!(
                            "embedding {done}/{total}, about {} left {}",
                            human_seconds(s),
                            path.display()
                        )
                    }
                    _ => format!("embedding {done}/{total} {}", path.display()),
                },
                IngestStage::Commit => format!("saving {}", path.display()),
            }),
            IngestEvent::FileFinished(report) => {
                if files.contains(&report.path) {
                    let mut d = done.lock().unwrap_or_else(|p| p.into_inner());
                    *d += 1;
                    bar.set(*d);
                }
                let result = if json {
                    out_line(&report_json(&report).to_string())
                } else {
                    bar.println(&report_human(&report));
                    Ok(())
                };
                if let Err(e) = result {
                    write_error
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .get_or_insert(e);
                }
            }
        })
        .await?;
    bar.finish();
    if let Some(e) = write_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e.into());
    }
    let count = |s: FileStatus| reports.iter().filter(|r| r.status == s).count();
    let (indexed, unchanged, failed) = (
        count(FileStatus::Indexed),
        count(FileStatus::Unchanged) + count(FileStatus::Moved) + count(FileStatus::Duplicate),
        count(FileStatus::Failed),
    );
    if !json {
        eprintln!("{indexed} indexed, {unchanged} unchanged, {failed} failed");
    }
    Ok(if reports.is_empty() {
        eprintln!("no supported files found (pdf, csv, tsv, xlsx, json, jsonl, md, txt, html, docx)");
        ExitCode::FAILURE
    } else if failed == 0 {
        ExitCode::SUCCESS
    } else if indexed + unchanged == 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::from(EXIT_PARTIAL)
    })
}

/// The passwords of `--password` and `--password-file` (one per line; blank lines skipped).
fn passwords(args: &IngestArgs) -> anyhow::Result<Vec<PdfPassword>> {
    let mut out: Vec<PdfPassword> = args.password.iter().map(PdfPassword::new).collect();
    if let Some(file) = &args.password_file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| anyhow::anyhow!("cannot read the password file {}: {e}", file.display()))?;
        out.extend(
            text.lines()
                .map(|line| line.trim_end_matches('\r'))
                .filter(|line| !line.is_empty())
                .map(PdfPassword::new),
        );
    }
    Ok(out)
}

pub(crate) fn report_json(r: &FileReport) -> serde_json::Value {
    json!({
        "path": r.path.display().to_string(),
        "status": r.status.as_str(),
        "doc_id": r.doc_id,
        "pages": r.pages,
        "chunks": r.chunks,
        "same_as": r.same_as,
        "diagnostics": r.diagnostics.iter().map(|d| json!({"code": d.code, "message": d.message, "page": d.page})).collect::<Vec<_>>(),
    })
}

pub(crate) fn report_human(r: &FileReport) -> String {
    let mut line = match r.status {
        FileStatus::Indexed => format!(
            "indexed    {} ({} chunks{})",
            r.path.display(),
            r.chunks,
            pages(r)
        ),
        FileStatus::Unchanged => format!("unchanged  {}", r.path.display()),
        FileStatus::Failed => format!("FAILED     {}", r.path.display()),
        FileStatus::Moved => format!(
            "moved      {} (from {}, nothing re-embedded)",
            r.path.display(),
            r.same_as.as_deref().unwrap_or("?")
        ),
        FileStatus::Duplicate => format!(
            "same as    {} → {}",
            r.same_as.as_deref().unwrap_or("?"),
            r.path.display()
        ),
    };
    for d in &r.diagnostics {
        let page = d.page.map(|p| format!(" (page {p})")).unwrap_or_default();
        line.push_str(&format!("\n           {}: {}{page}", d.code, d.message));
        if matches!(d.code.as_str(), "encrypted" | "wrong_password") {
            line.push_str("\n           give it with --password or --password-file FILE");
        }
    }
    line
}

fn pages(r: &FileReport) -> String {
    r.pages.map(|p| format!(", {p} pages")).unwrap_or_default()
}

/// "45 s", "3 min".
fn human_seconds(s: u32) -> String {
    if s < 90 {
        format!("{s} s")
    } else {
        format!("{} min", (s + 30) / 60)
    }
}
