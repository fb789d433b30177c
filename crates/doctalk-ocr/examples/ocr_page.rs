//! Reads page images with doctalk-ocr and prints one JSON object per image, in the shape
//! `models/gen/ocr_reference.py --json` prints (the parity and speed reference):
//!
//!     cargo run --release -p doctalk-ocr --example ocr_page -- [--runs N] [--threads T] IMAGE...
//!
//! Models from `$DOCTALK_MODELS_DIR` (default `.models`): `ppocr-v6-small/` and `onnxruntime/`.

use std::path::PathBuf;
use std::time::Instant;

use doctalk_ocr::{BgrImage, Ocr, OcrFiles};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut runs = 1usize;
    let mut threads = 2usize;
    let mut images = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().ok_or("--runs N")?.parse()?,
            "--threads" => threads = args.next().ok_or("--threads N")?.parse()?,
            _ => images.push(a),
        }
    }
    let models =
        std::env::var_os("DOCTALK_MODELS_DIR").map_or_else(|| PathBuf::from(".models"), PathBuf::from);
    let files = OcrFiles::in_dirs(&models.join("ppocr-v6-small"), &models.join("onnxruntime"))?;
    let ocr = Ocr::load(&files, threads)?;
    for path in images {
        let rgb = image::open(&path)?.to_rgb8();
        let (w, h) = (rgb.width() as usize, rgb.height() as usize);
        let img = BgrImage::from_rgb(w, h, rgb.into_raw())?;
        let mut best = f64::MAX;
        let mut page = None;
        for _ in 0..runs.max(1) {
            let started = Instant::now();
            page = Some(ocr.read(&img)?);
            best = best.min(started.elapsed().as_secs_f64());
        }
        let page = page.ok_or("no run")?;
        let lines: Vec<_> = page
            .lines
            .iter()
            .map(|l| serde_json::json!({"quad": l.quad, "text": l.text, "score": l.score}))
            .collect();
        println!(
            "{}",
            serde_json::json!({"image": path, "lines": lines, "seconds": best,
                "detect_ms": page.detect_ms, "classify_ms": page.classify_ms, "recognise_ms": page.recognise_ms})
        );
    }
    Ok(())
}
