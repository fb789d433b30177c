//! `doctalk bench …`: measurements for the closing notes, on this machine, never in tests.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use doctalk_core::{FileStatus, IngestEvent, IngestStage, KnowledgeBase};
use serde_json::json;

use crate::app::Ctx;
use crate::cli::{BenchCommand, BenchIngestArgs};
use crate::output::out_line;

pub async fn run(ctx: &Ctx, cmd: BenchCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchCommand::Ingest(args) => ingest(ctx, args).await,
        BenchCommand::Sync(args) => super::bench_sync::run(ctx, args).await,
        BenchCommand::Retrieval(args) => super::bench_retrieval::run(ctx, args).await,
        BenchCommand::Voice(args) => super::bench_voice::run(ctx, args).await,
        BenchCommand::Answers(args) => super::bench_answers::run(ctx, args).await,
    }
}

#[derive(Default)]
struct StageTimes {
    parse: Duration,
    embed: Duration,
    commit: Duration,
}

/// Which stage a file is in and since when.
struct Clock {
    stage: &'static str,
    since: Instant,
}

async fn ingest(ctx: &Ctx, args: BenchIngestArgs) -> anyhow::Result<ExitCode> {
    let embedder = ctx.load_embedder()?;
    let scratch = tempfile::tempdir()?;
    let kb = KnowledgeBase::open(scratch.path(), embedder.clone()).await?;
    let rss_before = peak_rss_kib();
    let times = Mutex::new(StageTimes::default());
    let clocks: Mutex<HashMap<PathBuf, Clock>> = Mutex::new(HashMap::new());
    let started = Instant::now();
    let reports = kb
        .ingest(&args.paths, &|event| {
            let mut clocks = clocks.lock().unwrap_or_else(|p| p.into_inner());
            let mut times = times.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let (path, next) = match &event {
                IngestEvent::FileStarted { path, .. } => (path.clone(), None),
                // OCR is part of reading a scanned file.
                IngestEvent::Stage {
                    path,
                    stage: IngestStage::Parse | IngestStage::Ocr { .. },
                } => (path.clone(), Some("parse")),
                IngestEvent::Stage {
                    path,
                    stage: IngestStage::Embed { .. },
                } => (path.clone(), Some("embed")),
                IngestEvent::Stage {
                    path,
                    stage: IngestStage::Commit,
                } => (path.clone(), Some("commit")),
                IngestEvent::FileFinished(r) => (r.path.clone(), Some("done")),
            };
            if let Some(next) = next {
                if let Some(clock) = clocks.get(&path) {
                    if clock.stage != next {
                        let spent = now - clock.since;
                        match clock.stage {
                            "parse" => times.parse += spent,
                            "embed" => times.embed += spent,
                            "commit" => times.commit += spent,
                            _ => {}
                        }
                    }
                }
                let keep = clocks.get(&path).is_some_and(|c| c.stage == next);
                if !keep {
                    clocks.insert(
                        path,
                        Clock {
                            stage: next,
                            since: now,
                        },
                    );
                }
            }
        })
        .await?;
    let total = started.elapsed();
    let times = times.into_inner().unwrap_or_else(|p| p.into_inner());
    let pages: u64 = reports.iter().filter_map(|r| r.pages).map(u64::from).sum();
    let chunks: usize = reports.iter().map(|r| r.chunks).sum();
    let failed = reports.iter().filter(|r| r.status == FileStatus::Failed).count();
    let peak = peak_rss_kib();
    let secs = |d: Duration| d.as_secs_f64();
    let per_sec = |n: f64, d: Duration| {
        if d.as_secs_f64() > 0.0 {
            n / d.as_secs_f64()
        } else {
            0.0
        }
    };
    let result = json!({
        "files": reports.len(),
        "failed": failed,
        "pages": pages,
        "chunks": chunks,
        "embedding_model": embedder.model_id(),
        "seconds": {"total": secs(total), "parse_and_chunk": secs(times.parse), "embed": secs(times.embed), "commit": secs(times.commit)},
        "pages_per_s_parse": per_sec(pages as f64, times.parse),
        "chunks_per_s_embed": per_sec(chunks as f64, times.embed),
        "peak_rss_mib": peak.map(|k| k as f64 / 1024.0),
        "rss_before_mib": rss_before.map(|k| k as f64 / 1024.0),
    });
    if args.json {
        out_line(&result.to_string())?;
    } else {
        out_line(&serde_json::to_string_pretty(&result)?)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Peak resident set size of this process (VmHWM), in KiB; Linux only.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
