//! Measures each PDF engine on its own over a folder of PDFs (not a timed test).
//!
//! ```text
//! cargo run --release -p doctalk-ingest --example pdf_engines -- DIR_OR_FILE... [--budget SECS] [--repeat N] [--verbose]
//! ```
//!
//! Prints, per engine: files opened / failed / encrypted / panicked / timed out, pages,
//! pages per second, Han characters recovered, garbled / empty / failed pages.
//!
//! The engines and their isolation are private to the crate, so this example compiles the
//! very same source files (`#[path]`) instead of going through `parse_file`, which would
//! mix in the fallback engine.

#[allow(dead_code)]
#[path = "../src/parse/pdf/engine.rs"]
mod engine;
#[allow(dead_code)]
#[path = "../src/parse/pdf/isolate.rs"]
mod isolate;
#[allow(dead_code)]
#[path = "../src/parse/pdf/text.rs"]
mod text;
// engine.rs names the engine ids as `crate::PdfEngineId`.
use doctalk_ingest::PdfEngineId;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::{PdfEngine, PdfExtract, PdfOxide};
use isolate::{run_isolated, EngineRun};
use text::PageQuality;

#[derive(Default)]
struct Tally {
    ok: usize,
    failed: usize,
    encrypted: usize,
    panicked: usize,
    timed_out: usize,
    pages: usize,
    good_pages: usize,
    empty_pages: usize,
    garbled_pages: usize,
    failed_pages: usize,
    han_chars: usize,
    seconds: f64,
}

struct Args {
    inputs: Vec<PathBuf>,
    budget: Duration,
    repeat: usize,
    verbose: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        inputs: Vec::new(),
        budget: Duration::from_secs(60),
        repeat: 1,
        verbose: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--budget" => {
                let secs: f64 = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--budget needs seconds")?;
                args.budget = Duration::from_secs_f64(secs);
            }
            "--repeat" => {
                args.repeat = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--repeat needs a count")?;
            }
            "--verbose" => args.verbose = true,
            _ => args.inputs.push(PathBuf::from(arg)),
        }
    }
    if args.inputs.is_empty() {
        return Err("usage: pdf_engines DIR_OR_FILE... [--budget SECS] [--repeat N] [--verbose]".into());
    }
    Ok(args)
}

fn collect_pdfs(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_file() {
        out.push(path.to_path_buf());
        return;
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        return;
    };
    let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    children.sort();
    for child in children {
        let is_pdf = child.extension().is_some_and(|e| e.eq_ignore_ascii_case("pdf"));
        if child.is_dir() || is_pdf {
            collect_pdfs(&child, out);
        }
    }
}

fn measure<E: PdfEngine + 'static>(files: &[(PathBuf, Arc<Vec<u8>>)], args: &Args) -> Tally {
    let mut tally = Tally::default();
    for (path, bytes) in files {
        for _ in 0..args.repeat {
            let started = Instant::now();
            let run = run_isolated::<E>(Arc::clone(bytes), Arc::new(Vec::new()), args.budget);
            tally.seconds += started.elapsed().as_secs_f64();
            let status = match run {
                EngineRun::Done(output) => {
                    tally.ok += 1;
                    for page in &output.pages {
                        tally.pages += 1;
                        match page.as_deref().map(PageQuality::assess) {
                            Ok(PageQuality::Good(text)) => {
                                tally.good_pages += 1;
                                tally.han_chars += text.chars().filter(|&c| is_han(c)).count();
                            }
                            Ok(PageQuality::Empty) => tally.empty_pages += 1,
                            Ok(PageQuality::Garbled) => tally.garbled_pages += 1,
                            Ok(PageQuality::Failed(_)) | Err(_) => tally.failed_pages += 1,
                        }
                    }
                    format!("ok, {} pages", output.pages.len())
                }
                EngineRun::Encrypted => {
                    tally.encrypted += 1;
                    "encrypted".to_string()
                }
                EngineRun::Failed(m) => {
                    tally.failed += 1;
                    format!("failed: {m}")
                }
                EngineRun::Panicked(m) => {
                    tally.panicked += 1;
                    format!("panicked: {m}")
                }
                EngineRun::TimedOut(_) => {
                    tally.timed_out += 1;
                    "timed out".to_string()
                }
            };
            if args.verbose {
                let status: String = status.chars().take(160).collect();
                eprintln!("{:<11} {} {}", E::ID.as_str(), path.display(), status);
            }
        }
    }
    tally
}

/// Han ideographs: how much Chinese an engine recovered.
fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let mut paths = Vec::new();
    for input in &args.inputs {
        collect_pdfs(input, &mut paths);
    }
    let files: Vec<(PathBuf, Arc<Vec<u8>>)> = paths
        .into_iter()
        .filter_map(|p| std::fs::read(&p).ok().map(|b| (p, Arc::new(b))))
        .collect();
    println!(
        "{} files, budget {:?} per engine per file, repeat {}",
        files.len(),
        args.budget,
        args.repeat
    );
    println!(
        "{:<11} {:>4} {:>6} {:>5} {:>6} {:>7} {:>6} {:>9} {:>8} {:>7} {:>6} {:>6} {:>8}",
        "engine",
        "ok",
        "failed",
        "encr",
        "panic",
        "timeout",
        "pages",
        "pages/s",
        "han",
        "garbled",
        "empty",
        "pfail",
        "seconds"
    );
    for (id, tally) in [
        (PdfEngineId::PdfOxide, measure::<PdfOxide>(&files, &args)),
        (PdfEngineId::PdfExtract, measure::<PdfExtract>(&files, &args)),
    ] {
        let rate = if tally.seconds > 0.0 {
            tally.pages as f64 / tally.seconds
        } else {
            0.0
        };
        println!(
            "{:<11} {:>4} {:>6} {:>5} {:>6} {:>7} {:>6} {:>9.1} {:>8} {:>7} {:>6} {:>6} {:>8.2}",
            id.as_str(),
            tally.ok,
            tally.failed,
            tally.encrypted,
            tally.panicked,
            tally.timed_out,
            tally.pages,
            rate,
            tally.han_chars,
            tally.garbled_pages,
            tally.empty_pages,
            tally.failed_pages,
            tally.seconds
        );
    }
}
