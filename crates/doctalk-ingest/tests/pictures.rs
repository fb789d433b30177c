//! Scanned pages and picture files (tests/fixtures/scanned, made by bench/ocr/make_scanned_files.py
//! from the sample PDFs): which pages are drawn and handed to OCR, how they are decoded, and what a
//! user is told when a picture cannot be read. The OCR engine is outside this crate: here it is a
//! recording stand-in that says what it was given; the real engine on the same kind of files is
//! tested in doctalk-ocr and end to end in the CLI's `ocr` tests.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use doctalk_ingest::{
    parse_file, Block, DiagnosticCode, IngestError, OcrMode, OcrProgress, PageReader, PageReading,
    ParseOptions, PdfEngineId,
};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/scanned")
        .join(name)
}

/// What the stand-in was given for one page.
#[derive(Debug, Clone, Copy)]
struct Seen {
    width: usize,
    height: usize,
    /// Share of dark pixels (any channel below 128).
    dark: f64,
    /// Whether the first row is all white.
    white_top: bool,
}

#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<Seen>>,
}

impl PageReader for Recorder {
    fn read_page(&self, width: usize, height: usize, rgb: Vec<u8>) -> Result<PageReading, String> {
        assert_eq!(rgb.len(), width * height * 3);
        let dark = rgb.chunks_exact(3).filter(|p| p.iter().any(|&c| c < 128)).count();
        let white_top = rgb[..width * 3].iter().all(|&c| c == 255);
        let mut seen = self.seen.lock().unwrap();
        seen.push(Seen {
            width,
            height,
            dark: dark as f64 / (width * height) as f64,
            white_top,
        });
        // Like an OCR engine, it finds nothing on a blank picture.
        if dark == 0 {
            return Ok(PageReading::default());
        }
        Ok(PageReading {
            text: format!("picture {} of {width}x{height}", seen.len()),
            lines: 1,
            confidence: 0.9,
        })
    }
}

fn with(reader: &Arc<Recorder>, mode: OcrMode) -> ParseOptions {
    let mut opts = ParseOptions::default();
    opts.ocr.reader = Some(reader.clone());
    opts.ocr.mode = mode;
    opts
}

fn texts(doc: &doctalk_ingest::Document) -> Vec<(Option<u32>, Option<PdfEngineId>, String)> {
    doc.blocks
        .iter()
        .filter_map(|b| match b {
            Block::Text(t) => Some((t.page, t.engine, t.text.clone())),
            Block::Qa(_) => None,
        })
        .collect()
}

#[test]
fn a_scanned_page_is_drawn_at_about_200_dpi_and_read() {
    let reader = Arc::new(Recorder::default());
    let progress = Arc::new(Mutex::new(Vec::new()));
    let mut opts = with(&reader, OcrMode::Auto);
    let sink = progress.clone();
    opts.ocr.progress = Some(Arc::new(move |p: OcrProgress| {
        sink.lock().unwrap().push((p.done, p.total))
    }));
    let doc = parse_file(&fixture("scanned-zh.pdf"), &opts).unwrap();
    let seen = reader.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    // An A4 page at 200 dpi is 1654 × 2339 pixels.
    assert!(
        (1600..=1700).contains(&seen[0].width) && (2300..=2400).contains(&seen[0].height),
        "{seen:?}"
    );
    assert!(
        seen[0].dark > 0.01 && seen[0].dark < 0.3,
        "the page drew as {:.3} dark",
        seen[0].dark
    );
    let blocks = texts(&doc);
    assert_eq!(blocks.len(), 1);
    assert_eq!((blocks[0].0, blocks[0].1), (Some(1), Some(PdfEngineId::Ocr)));
    assert!(doc.diagnostics.iter().any(|d| d.code == DiagnosticCode::Ocr
        && d.page == Some(1)
        && d.message.contains("confidence 0.90")));
    assert_eq!(*progress.lock().unwrap(), vec![(0, 1), (1, 1)]);
}

#[test]
fn only_the_page_without_text_is_read_unless_ocr_is_forced_or_off() {
    let reader = Arc::new(Recorder::default());
    let doc = parse_file(&fixture("mixed.pdf"), &with(&reader, OcrMode::Auto)).unwrap();
    let blocks = texts(&doc);
    assert_eq!(blocks.len(), 2);
    assert_ne!(blocks[0].1, Some(PdfEngineId::Ocr));
    assert!(
        blocks[0].2.contains("password"),
        "page 1 keeps its text layer: {}",
        blocks[0].2
    );
    assert_eq!((blocks[1].0, blocks[1].1), (Some(2), Some(PdfEngineId::Ocr)));
    assert_eq!(reader.seen.lock().unwrap().len(), 1);

    let forced = Arc::new(Recorder::default());
    let doc = parse_file(&fixture("mixed.pdf"), &with(&forced, OcrMode::Always)).unwrap();
    assert!(texts(&doc).iter().all(|b| b.1 == Some(PdfEngineId::Ocr)));
    assert_eq!(forced.seen.lock().unwrap().len(), 2);

    let off = Arc::new(Recorder::default());
    let doc = parse_file(&fixture("mixed.pdf"), &with(&off, OcrMode::Never)).unwrap();
    assert_eq!(texts(&doc).len(), 1);
    assert!(doc
        .diagnostics
        .iter()
        .any(|d| d.code == DiagnosticCode::NoTextLayer && d.page == Some(2)));
    assert!(off.seen.lock().unwrap().is_empty());
}

#[test]
fn without_an_ocr_engine_a_scan_says_so() {
    let err = parse_file(&fixture("scanned-zh.pdf"), &ParseOptions::default()).unwrap_err();
    assert_eq!(err.code(), "no_text");
    assert!(err.to_string().contains("OCR is not set up"), "{err}");
    let err = parse_file(&fixture("two-pages.tif"), &ParseOptions::default()).unwrap_err();
    assert_eq!(err.code(), "needs_ocr");
    assert!(
        err.to_string().contains("fetch-models.sh ppocr-v6-small"),
        "{err}"
    );
}

#[test]
fn every_page_of_a_one_bit_tiff_is_read_black_on_white() {
    let reader = Arc::new(Recorder::default());
    let doc = parse_file(&fixture("two-pages.tif"), &with(&reader, OcrMode::Auto)).unwrap();
    assert_eq!(doc.page_count, Some(2));
    let pages: Vec<Option<u32>> = texts(&doc).iter().map(|b| b.0).collect();
    assert_eq!(pages, vec![Some(1), Some(2)]);
    for seen in reader.seen.lock().unwrap().iter() {
        // Text is a few percent of a page; inverted polarity would make it most of it.
        assert!(seen.dark > 0.005 && seen.dark < 0.3, "{seen:?}");
        assert!(seen.white_top, "{seen:?}");
    }
}

/// The fax convention: a G4 TIFF whose set bits are black (PhotometricInterpretation 0). Read with
/// the wrong polarity, the page would be nearly all black.
#[test]
fn a_white_is_zero_tiff_is_read_black_on_white() {
    let reader = Arc::new(Recorder::default());
    let doc = parse_file(&fixture("white-is-zero.tif"), &with(&reader, OcrMode::Auto)).unwrap();
    assert_eq!(doc.page_count, Some(1));
    let seen = reader.seen.lock().unwrap()[0];
    assert!(seen.dark > 0.005 && seen.dark < 0.3, "{seen:?}");
    assert!(seen.white_top, "{seen:?}");
}

#[test]
fn transparency_becomes_white_paper() {
    let reader = Arc::new(Recorder::default());
    parse_file(&fixture("photo.png"), &with(&reader, OcrMode::Auto)).unwrap();
    let seen = reader.seen.lock().unwrap()[0];
    assert!(
        seen.white_top,
        "the transparent margin must read as white: {seen:?}"
    );
}

#[test]
fn broken_and_hostile_pictures_are_clear_errors_and_never_reach_the_engine() {
    let reader = Arc::new(Recorder::default());
    let opts = with(&reader, OcrMode::Auto);
    let err = parse_file(&fixture("bomb.png"), &opts).unwrap_err();
    assert!(matches!(err, IngestError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("megapixels"), "{err}");

    match parse_file(&fixture("truncated.jpg"), &opts) {
        Err(e) => assert!(
            matches!(e, IngestError::Corrupt { .. } | IngestError::NoText { .. }),
            "{e}"
        ),
        // A decoder may return the part it could read: then it was read as a picture.
        Ok(doc) => assert_eq!(doc.page_count, Some(1)),
    }

    let empty = tempfile::NamedTempFile::with_suffix(".png").unwrap();
    assert_eq!(parse_file(empty.path(), &opts).unwrap_err().code(), "empty");
    assert!(
        reader.seen.lock().unwrap().len() <= 1,
        "only the readable part of the JPEG may be read"
    );

    // JBIG2 data whose shared dictionary is missing: the page draws without it (blank here), and
    // the file is "no text" with its diagnostics, not a crash.
    let err = parse_file(&fixture("jbig2-no-globals.pdf"), &opts).unwrap_err();
    assert_eq!(err.code(), "no_text", "{err}");

    // A page without area is drawn (as a blank default-sized page) and found empty: no text, no panic.
    let err = parse_file(&fixture("zero-area.pdf"), &with(&reader, OcrMode::Always)).unwrap_err();
    assert_eq!(err.code(), "no_text", "{err}");
}
