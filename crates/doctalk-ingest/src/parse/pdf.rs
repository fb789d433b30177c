//! PDF: two text engines, each isolated, with per-page fallback.
//!
//! The primary engine ([`ParseOptions::pdf_primary`]) runs first. The other engine runs
//! only when the primary failed, panicked, timed out, or left pages garbled, unreadable or
//! (for more than half the file) empty. When both read the same number of pages, each page
//! takes the better engine's text; every [`TextBlock`] records which engine that was.

mod engine;
mod furniture;
mod isolate;
mod password;
mod render;
mod text;

pub use password::PdfPassword;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::ocr::{self, OcrMode};
use super::ParseOptions;
use crate::{
    Block, Diagnostic, DiagnosticCode, Document, Format, IngestError, PdfEngineId, Result, TextBlock,
};
use engine::{Opened, PdfExtract, PdfOxide};
use isolate::{run_isolated, EngineRun};
use text::PageQuality;

pub(super) fn parse(path: &Path, opts: &ParseOptions) -> Result<Document> {
    let bytes = std::fs::read(path).map_err(|source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if bytes.is_empty() {
        return Err(IngestError::Empty {
            path: path.to_path_buf(),
        });
    }
    let bytes = Arc::new(bytes);
    let passwords = Arc::new(
        opts.pdf_passwords
            .iter()
            .flat_map(PdfPassword::candidates)
            .collect::<Vec<_>>(),
    );
    let budget = opts.pdf_time_budget;
    let mut diagnostics = Vec::new();

    let primary = Attempt::run(opts.pdf_primary, &bytes, &passwords, budget);
    let fallback = if primary.needs_fallback() {
        Some(Attempt::run(
            other_engine(opts.pdf_primary),
            &bytes,
            &passwords,
            budget,
        ))
    } else {
        None
    };
    for attempt in std::iter::once(&primary).chain(&fallback) {
        diagnostics.extend(attempt.failure_diagnostic());
    }

    let Some(merged) = merge(primary.reading(), fallback.as_ref().and_then(Attempt::reading)) else {
        let given = opts.pdf_passwords.len();
        return Err(no_reading_error(path, budget, given, &primary, fallback.as_ref()));
    };
    match merged.opened {
        Opened::Plain => {}
        Opened::EmptyPassword => diagnostics.push(Diagnostic::new(
            DiagnosticCode::EncryptedEmptyPassword,
            "the PDF is encrypted; it opened with the empty password",
            None,
        )),
        Opened::GivenPassword => diagnostics.push(Diagnostic::new(
            DiagnosticCode::OpenedWithPassword,
            "the PDF is password-protected; it opened with a password you gave",
            None,
        )),
    }

    let (mut read_by_ocr, ocr_unavailable) =
        match read_pictures(&bytes, &passwords, &merged.pages, opts, &mut diagnostics) {
            Ok(read) => (read, false),
            Err(()) => (Default::default(), true),
        };
    let mut blocks = Vec::new();
    for (index, (quality, engine)) in merged.pages.iter().enumerate() {
        let page = u32::try_from(index + 1).unwrap_or(u32::MAX);
        if let Some(block) = read_by_ocr.remove(&index) {
            blocks.push(Block::Text(block));
            continue;
        }
        let no_ocr = match (&opts.ocr.reader, opts.ocr.mode) {
            (_, OcrMode::Never) => "; OCR was turned off",
            (None, _) => "; OCR is not set up",
            (Some(_), _) if ocr_unavailable => "; OCR is not available",
            (Some(_), _) => "",
        };
        match quality {
            PageQuality::Good(text) => blocks.push(Block::Text(TextBlock {
                page: Some(page),
                heading_path: Vec::new(),
                text: text.clone(),
                engine: Some(*engine),
            })),
            PageQuality::Empty => diagnostics.push(Diagnostic::new(
                DiagnosticCode::NoTextLayer,
                format!("page {page} has no text layer (scanned?){no_ocr}"),
                Some(page),
            )),
            PageQuality::Garbled => diagnostics.push(Diagnostic::new(
                DiagnosticCode::Garbled,
                format!(
                    "page {page}: the extracted text is garbled (fonts without a Unicode \
                     mapping?); the page was skipped{no_ocr}"
                ),
                Some(page),
            )),
            PageQuality::Failed(message) => diagnostics.push(Diagnostic::new(
                DiagnosticCode::EngineFailed,
                format!("page {page} could not be read by {}: {message}", engine.as_str()),
                Some(page),
            )),
        }
    }
    furniture::strip(&mut blocks);
    if blocks.is_empty() {
        let needs_ocr = merged
            .pages
            .iter()
            .any(|(q, _)| matches!(q, PageQuality::Empty | PageQuality::Garbled));
        let suffix = match (&opts.ocr.reader, opts.ocr.mode) {
            (None, mode) if needs_ocr && mode != OcrMode::Never => "; OCR is not set up",
            (_, OcrMode::Never) if needs_ocr => "; OCR was turned off",
            (Some(_), _) if needs_ocr && ocr_unavailable => "; OCR is not available",
            _ => "",
        };
        return Err(IngestError::NoText {
            path: path.to_path_buf(),
            reason: format!("{}{suffix}", no_text_reason(&merged.pages)),
        });
    }

    Ok(Document {
        title: merged.title.unwrap_or_else(|| stem_title(path)),
        format: Format::Pdf,
        page_count: Some(u32::try_from(merged.pages.len()).unwrap_or(u32::MAX)),
        blocks,
        diagnostics,
    })
}

/// Reads by OCR the pages that need it (per [`OcrMode`]), one drawn page at a time. Pages that
/// could not be drawn or read get a diagnostic and keep their text layer's outcome. `Err(())`:
/// pages needed OCR and the engine cannot read (its model missing): one diagnostic says why, and
/// no page is drawn.
fn read_pictures(
    bytes: &Arc<Vec<u8>>,
    passwords: &[Vec<u8>],
    pages: &[(PageQuality, PdfEngineId)],
    opts: &ParseOptions,
    diagnostics: &mut Vec<Diagnostic>,
) -> std::result::Result<std::collections::BTreeMap<usize, TextBlock>, ()> {
    let mut read = std::collections::BTreeMap::new();
    let Some(reader) = &opts.ocr.reader else {
        return Ok(read);
    };
    let wanted: Vec<usize> = pages
        .iter()
        .enumerate()
        .filter(|(_, (quality, _))| match opts.ocr.mode {
            OcrMode::Never => false,
            OcrMode::Always => true,
            OcrMode::Auto => matches!(quality, PageQuality::Empty | PageQuality::Garbled),
        })
        .map(|(i, _)| i)
        .collect();
    if wanted.is_empty() {
        return Ok(read);
    }
    if let Err(reason) = reader.ready() {
        diagnostics.push(Diagnostic::new(
            DiagnosticCode::OcrFailed,
            format!("{} page(s) needed OCR, but {reason}", wanted.len()),
            None,
        ));
        return Err(());
    }
    let total = wanted.len();
    let mut done = 0;
    opts.ocr.report(0, total);
    let drawn = render::each_page(bytes, passwords, &wanted, |index, picture| {
        let page = u32::try_from(index + 1).unwrap_or(u32::MAX);
        match picture {
            Ok((w, h, rgb)) => {
                let (block, diagnostic) = ocr::read_picture(reader.as_ref(), w, h, rgb, page);
                diagnostics.push(diagnostic);
                if let Some(block) = block {
                    read.insert(index, block);
                }
            }
            Err(reason) => diagnostics.push(Diagnostic::new(
                DiagnosticCode::OcrFailed,
                format!("page {page} could not be drawn for OCR: {reason}"),
                Some(page),
            )),
        }
        done += 1;
        opts.ocr.report(done, total);
    });
    if let Err(reason) = drawn {
        diagnostics.push(Diagnostic::new(
            DiagnosticCode::OcrFailed,
            format!("{total} page(s) needed OCR, but {reason}"),
            None,
        ));
    }
    Ok(read)
}

// OCR reads pictures, not text layers: as a text engine choice it means pdf_oxide's reading.
fn other_engine(engine: PdfEngineId) -> PdfEngineId {
    match engine {
        PdfEngineId::PdfOxide | PdfEngineId::Ocr => PdfEngineId::PdfExtract,
        PdfEngineId::PdfExtract => PdfEngineId::PdfOxide,
    }
}

fn run_engine(
    engine: PdfEngineId,
    bytes: &Arc<Vec<u8>>,
    passwords: &Arc<Vec<Vec<u8>>>,
    budget: Duration,
) -> EngineRun {
    let (bytes, passwords) = (Arc::clone(bytes), Arc::clone(passwords));
    match engine {
        PdfEngineId::PdfOxide | PdfEngineId::Ocr => run_isolated::<PdfOxide>(bytes, passwords, budget),
        PdfEngineId::PdfExtract => run_isolated::<PdfExtract>(bytes, passwords, budget),
    }
}

/// One engine's isolated run over the file, with its pages already assessed.
struct Attempt {
    engine: PdfEngineId,
    outcome: Outcome,
}

enum Outcome {
    Read(Reading),
    Encrypted,
    Failed(DiagnosticCode, String),
}

struct Reading {
    engine: PdfEngineId,
    pages: Vec<PageQuality>,
    title: Option<String>,
    opened: Opened,
}

impl Attempt {
    fn run(
        engine: PdfEngineId,
        bytes: &Arc<Vec<u8>>,
        passwords: &Arc<Vec<Vec<u8>>>,
        budget: Duration,
    ) -> Attempt {
        let name = engine.as_str();
        let outcome = match run_engine(engine, bytes, passwords, budget) {
            EngineRun::Done(output) => Outcome::Read(Reading {
                engine,
                pages: output
                    .pages
                    .iter()
                    .map(|page| match page {
                        Ok(raw) => PageQuality::assess(raw),
                        Err(message) => PageQuality::Failed(message.clone()),
                    })
                    .collect(),
                title: output.title.as_deref().and_then(usable_title),
                opened: output.opened,
            }),
            EngineRun::Encrypted => Outcome::Encrypted,
            EngineRun::Failed(message) => {
                Outcome::Failed(DiagnosticCode::EngineFailed, format!("{name} failed: {message}"))
            }
            EngineRun::Panicked(message) => {
                Outcome::Failed(DiagnosticCode::EnginePanic, format!("{name} panicked: {message}"))
            }
            EngineRun::TimedOut(budget) => Outcome::Failed(
                DiagnosticCode::Timeout,
                format!("{name} did not finish within {} s", budget.as_secs_f64()),
            ),
        };
        if let Outcome::Failed(_, message) = &outcome {
            tracing::warn!("{message}");
        }
        Attempt { engine, outcome }
    }

    fn reading(&self) -> Option<&Reading> {
        match &self.outcome {
            Outcome::Read(reading) => Some(reading),
            _ => None,
        }
    }

    /// Whether the other engine is worth running. Blank pages are common (the back of a
    /// title page), so empty pages alone only count when they are the majority.
    fn needs_fallback(&self) -> bool {
        let Some(reading) = self.reading() else {
            return true;
        };
        let empty = reading
            .pages
            .iter()
            .filter(|p| matches!(p, PageQuality::Empty))
            .count();
        let bad = reading
            .pages
            .iter()
            .any(|p| matches!(p, PageQuality::Garbled | PageQuality::Failed(_)));
        reading.pages.is_empty() || bad || empty * 2 > reading.pages.len()
    }

    fn failure_diagnostic(&self) -> Option<Diagnostic> {
        match &self.outcome {
            Outcome::Failed(code, message) => Some(Diagnostic::new(*code, message.clone(), None)),
            _ => None,
        }
    }

    fn failure_text(&self) -> String {
        match &self.outcome {
            Outcome::Read(_) => format!("{} read it", self.engine.as_str()),
            Outcome::Encrypted => format!("{}: encrypted", self.engine.as_str()),
            Outcome::Failed(_, message) => message.clone(),
        }
    }
}

/// The pages the document will be built from, each with the engine that produced it.
struct Merged {
    pages: Vec<(PageQuality, PdfEngineId)>,
    title: Option<String>,
    opened: Opened,
}

fn merge(primary: Option<&Reading>, fallback: Option<&Reading>) -> Option<Merged> {
    let tagged = |r: &Reading| -> Vec<(PageQuality, PdfEngineId)> {
        r.pages.iter().map(|q| (q.clone(), r.engine)).collect()
    };
    let good_pages = |r: &Reading| {
        r.pages
            .iter()
            .filter(|p| matches!(p, PageQuality::Good(_)))
            .count()
    };
    let pages = match (primary, fallback) {
        (None, None) => return None,
        (Some(only), None) | (None, Some(only)) => tagged(only),
        (Some(p), Some(f)) if p.pages.len() == f.pages.len() => p
            .pages
            .iter()
            .zip(&f.pages)
            // Ties keep the primary engine's text.
            .map(|(a, b)| {
                if b.rank() > a.rank() {
                    (b.clone(), f.engine)
                } else {
                    (a.clone(), p.engine)
                }
            })
            .collect(),
        // Different page counts cannot be aligned page by page: take the engine that
        // read more pages well.
        (Some(p), Some(f)) => {
            tracing::warn!(
                "{} saw {} pages, {} saw {}; keeping the one with more readable pages",
                p.engine.as_str(),
                p.pages.len(),
                f.engine.as_str(),
                f.pages.len()
            );
            if good_pages(f) > good_pages(p) {
                tagged(f)
            } else {
                tagged(p)
            }
        }
    };
    let readings = || primary.into_iter().chain(fallback);
    Some(Merged {
        pages,
        title: readings().find_map(|r| r.title.clone()),
        // A given password is the news worth telling; the empty one next.
        opened: [Opened::GivenPassword, Opened::EmptyPassword]
            .into_iter()
            .find(|o| readings().any(|r| r.opened == *o))
            .unwrap_or(Opened::Plain),
    })
}

/// The error when no engine produced a reading at all.
fn no_reading_error(
    path: &Path,
    budget: Duration,
    passwords_given: usize,
    primary: &Attempt,
    fallback: Option<&Attempt>,
) -> IngestError {
    let attempts: Vec<&Attempt> = std::iter::once(primary).chain(fallback).collect();
    if attempts.iter().any(|a| matches!(a.outcome, Outcome::Encrypted)) {
        let path = path.to_path_buf();
        return match passwords_given {
            0 => IngestError::Encrypted { path },
            tried => IngestError::WrongPassword { path, tried },
        };
    }
    let timed_out = |a: &&Attempt| matches!(a.outcome, Outcome::Failed(DiagnosticCode::Timeout, _));
    if attempts.iter().all(timed_out) {
        return IngestError::TimedOut {
            path: path.to_path_buf(),
            seconds: budget.as_secs(),
        };
    }
    IngestError::Corrupt {
        path: path.to_path_buf(),
        format: "PDF",
        reason: attempts
            .iter()
            .map(|a| a.failure_text())
            .collect::<Vec<_>>()
            .join("; "),
    }
}

fn no_text_reason(pages: &[(PageQuality, PdfEngineId)]) -> String {
    let count = |pred: fn(&PageQuality) -> bool| pages.iter().filter(|(q, _)| pred(q)).count();
    let garbled = count(|q| matches!(q, PageQuality::Garbled));
    let empty = count(|q| matches!(q, PageQuality::Empty));
    let failed = count(|q| matches!(q, PageQuality::Failed(_)));
    if garbled > 0 && garbled >= empty {
        "the text layer is garbled (fonts without a Unicode mapping?)".to_string()
    } else if failed > empty {
        "no page could be read".to_string()
    } else {
        "no text layer (scanned?)".to_string()
    }
}

fn stem_title(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The Info title, unless it is junk a producer left behind.
fn usable_title(raw: &str) -> Option<String> {
    let title = text::normalise(raw)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if title.is_empty() || text::is_garbled(&title) {
        return None;
    }
    let lower = title.to_lowercase();
    let placeholder = ["untitled", "无标题", "title", "document", "slide 1"].contains(&lower.as_str());
    let producer_prefix =
        lower.starts_with("microsoft word - ") || lower.starts_with("microsoft powerpoint - ");
    let file_name = [
        ".doc", ".docx", ".dvi", ".tex", ".pdf", ".ps", ".rtf", ".odt", ".indd",
    ]
    .iter()
    .any(|ext| lower.ends_with(ext));
    (!placeholder && !producer_prefix && !file_name).then_some(title)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(engine: PdfEngineId, pages: Vec<PageQuality>) -> Reading {
        Reading {
            engine,
            pages,
            title: None,
            opened: Opened::Plain,
        }
    }

    fn good(s: &str) -> PageQuality {
        PageQuality::Good(s.to_string())
    }

    #[test]
    fn merge_takes_the_better_page_from_each_engine() {
        let p = reading(
            PdfEngineId::PdfOxide,
            vec![good("a"), PageQuality::Garbled, PageQuality::Empty, good("d")],
        );
        let f = reading(
            PdfEngineId::PdfExtract,
            vec![
                good("A"),
                good("B"),
                PageQuality::Empty,
                PageQuality::Failed("x".into()),
            ],
        );
        let merged = merge(Some(&p), Some(&f)).expect("merged");
        let engines: Vec<_> = merged.pages.iter().map(|(_, e)| *e).collect();
        assert_eq!(
            engines,
            [
                PdfEngineId::PdfOxide,
                PdfEngineId::PdfExtract,
                PdfEngineId::PdfOxide,
                PdfEngineId::PdfOxide
            ]
        );
        assert_eq!(merged.pages[1].0, good("B"));
    }

    #[test]
    fn merge_with_different_page_counts_keeps_the_more_readable_engine() {
        let p = reading(PdfEngineId::PdfOxide, vec![PageQuality::Garbled]);
        let f = reading(PdfEngineId::PdfExtract, vec![good("a"), good("b")]);
        let merged = merge(Some(&p), Some(&f)).expect("merged");
        assert_eq!(merged.pages.len(), 2);
        assert!(merged.pages.iter().all(|(_, e)| *e == PdfEngineId::PdfExtract));
        assert!(merge(None, None).is_none());
    }

    #[test]
    fn junk_titles_are_refused() {
        assert_eq!(usable_title("  员工 手册 "), Some("员工手册".to_string()));
        assert_eq!(
            usable_title("zhlipsum: Chinese dummy text").as_deref(),
            Some("zhlipsum: Chinese dummy text")
        );
        assert_eq!(usable_title("Microsoft Word - plan.docx"), None);
        assert_eq!(usable_title("Untitled"), None);
        assert_eq!(usable_title("main.dvi"), None);
        assert_eq!(usable_title("\u{FFFD}\u{FFFD}"), None);
        assert_eq!(usable_title(""), None);
    }

    #[test]
    fn no_text_reason_prefers_the_commonest_cause() {
        let e = |q| (q, PdfEngineId::PdfOxide);
        assert_eq!(
            no_text_reason(&[e(PageQuality::Empty), e(PageQuality::Empty)]),
            "no text layer (scanned?)"
        );
        assert!(no_text_reason(&[e(PageQuality::Garbled)]).contains("garbled"));
    }
}
