//! Offline OCR for scanned pages and photos: PaddleOCR's PP-OCRv6 small detector and recogniser
//! and its text-direction classifier, as the ONNX files the `rapidocr` wheel ships, run by ONNX
//! Runtime loaded from the shared library the `onnxruntime` wheel ships (nothing is downloaded at
//! build or run time). Pre- and post-processing follow RapidOCR's pipeline, which is the parity
//! reference (`models/gen/ocr_reference.py`).
//!
//! [`Ocr::read`] takes a BGR image and returns its text lines (quadrilateral, text, confidence) in
//! reading order; [`page_text`] lays them out as text (columns, table rows as tab-separated cells).

mod det;
mod error;
pub mod geometry;
mod image;
mod layout;
mod rec;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use ort::session::Session;
use ort::value::Tensor;

pub use det::DetParams;
pub use error::{OcrError, Result};
pub use image::BgrImage;
pub use layout::page_text;

/// File names inside the model directory (models/ppocr-v6-small.json).
pub const DET_FILE: &str = "PP-OCRv6_det_small.onnx";
pub const REC_FILE: &str = "PP-OCRv6_rec_small.onnx";
pub const CLS_FILE: &str = "ch_ppocr_mobile_v2.0_cls_mobile.onnx";
/// Recognised lines below this confidence are dropped (RapidOCR's `text_score`).
pub const MIN_TEXT_SCORE: f32 = 0.5;
/// Pages are scaled down so that their longer side is at most this (RapidOCR's `max_side_len`).
pub const MAX_SIDE: usize = 2000;

/// One recognised line (or table cell, or label): its text, the recogniser's mean confidence, and
/// its quadrilateral in the input image's pixels (top-left, top-right, bottom-right, bottom-left).
#[derive(Debug, Clone, PartialEq)]
pub struct OcrLine {
    pub text: String,
    pub score: f32,
    pub quad: [[f32; 2]; 4],
}

/// The lines of one image and where the time went.
#[derive(Debug, Clone, Default)]
pub struct OcrPage {
    pub lines: Vec<OcrLine>,
    pub detect_ms: f64,
    pub classify_ms: f64,
    pub recognise_ms: f64,
}

impl OcrPage {
    /// Mean confidence of the kept lines (0 when there are none).
    pub fn mean_score(&self) -> f32 {
        if self.lines.is_empty() {
            0.0
        } else {
            self.lines.iter().map(|l| l.score).sum::<f32>() / self.lines.len() as f32
        }
    }
}

/// Where the model files and the runtime library are.
#[derive(Debug, Clone)]
pub struct OcrFiles {
    pub det: PathBuf,
    pub cls: PathBuf,
    pub rec: PathBuf,
    /// `libonnxruntime.so.*` (or the platform's equivalent).
    pub runtime: PathBuf,
}

impl OcrFiles {
    /// The three models in `model_dir` and the runtime library in `runtime_dir` (the file whose
    /// name starts with `libonnxruntime.so`, `libonnxruntime.` or `onnxruntime.dll`). Every path is
    /// checked, so a missing file is reported by name before anything loads.
    pub fn in_dirs(model_dir: &Path, runtime_dir: &Path) -> Result<Self> {
        let need = |path: PathBuf, what: &'static str| {
            if path.is_file() {
                Ok(path)
            } else {
                Err(OcrError::MissingFile { path, what })
            }
        };
        let runtime = std::fs::read_dir(runtime_dir)
            .ok()
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    (n.starts_with("libonnxruntime.so")
                        || n.starts_with("libonnxruntime.")
                        || n == "onnxruntime.dll")
                        && !n.contains("providers")
                })
            })
            .min()
            .unwrap_or_else(|| runtime_dir.join("libonnxruntime.so"));
        Ok(OcrFiles {
            det: need(model_dir.join(DET_FILE), "text detector")?,
            cls: need(model_dir.join(CLS_FILE), "text direction classifier")?,
            rec: need(model_dir.join(REC_FILE), "text recogniser")?,
            runtime: need(runtime, "ONNX Runtime library")?,
        })
    }
}

/// The loaded pipeline. Sessions are behind mutexes: one page at a time per model, each using
/// `threads` cores.
pub struct Ocr {
    det: Mutex<Session>,
    cls: Mutex<Session>,
    rec: Mutex<Session>,
    alphabet: Vec<String>,
    params: DetParams,
}

impl std::fmt::Debug for Ocr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ocr({} characters)", self.alphabet.len())
    }
}

/// ONNX Runtime's environment lives for the whole process and its library is loaded once; a load
/// that failed (a library not installed yet) is tried again by the next caller.
static RUNTIME: OnceLock<ort::environment::Environment> = OnceLock::new();
static LOADING: Mutex<()> = Mutex::new(());

fn runtime(path: &Path) -> Result<&'static ort::environment::Environment> {
    if let Some(env) = RUNTIME.get() {
        return Ok(env);
    }
    let _one_at_a_time = LOADING.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(env) = RUNTIME.get() {
        return Ok(env);
    }
    let fail = |reason: String| OcrError::Runtime {
        path: path.to_path_buf(),
        reason,
    };
    let env = ort::init_from(path)
        .map_err(|e| fail(e.to_string()))?
        .with_name("doctalk-ocr")
        .build()
        .map_err(|e| fail(e.to_string()))?;
    Ok(RUNTIME.get_or_init(|| env))
}

fn session(
    env: &ort::environment::Environment,
    path: &Path,
    stage: &'static str,
    threads: usize,
) -> Result<Session> {
    let fail = |e: &dyn std::fmt::Display| OcrError::model(stage, e);
    Session::builder(env)
        .map_err(|e| fail(&e))?
        .with_intra_threads(threads)
        .map_err(|e| fail(&e))?
        .with_inter_threads(1)
        .map_err(|e| fail(&e))?
        .commit_from_file(path)
        .map_err(|e| OcrError::model(stage, e))
}

impl Ocr {
    /// Loads the runtime and the three models; `threads` cores per model call.
    pub fn load(files: &OcrFiles, threads: usize) -> Result<Self> {
        let env = runtime(&files.runtime)?;
        let threads = threads.max(1);
        let rec = session(env, &files.rec, "recogniser", threads)?;
        let characters = rec
            .metadata()
            .ok()
            .and_then(|m| m.custom("character"))
            .ok_or_else(|| OcrError::model("recogniser", "its file has no character list"))?;
        Ok(Ocr {
            det: Mutex::new(session(env, &files.det, "detector", threads)?),
            cls: Mutex::new(session(env, &files.cls, "direction classifier", threads)?),
            rec: Mutex::new(rec),
            alphabet: rec::alphabet(&characters),
            params: DetParams::default(),
        })
    }

    /// The text lines of `image`, in reading order, with boxes in `image`'s pixels.
    pub fn read(&self, image: &BgrImage) -> Result<OcrPage> {
        // Very large pages are read at a bounded size (RapidOCR's `max_side_len`).
        let (work, scale) = bounded(image);
        let started = Instant::now();
        let boxes = self.detect(&work)?;
        let detect_ms = ms(started);

        let crops: Vec<BgrImage> = boxes.iter().map(|(quad, _)| crop(&work, quad)).collect();
        let started = Instant::now();
        let crops = self.upright(crops)?;
        let classify_ms = ms(started);

        let started = Instant::now();
        let texts = self.recognise(&crops)?;
        let recognise_ms = ms(started);

        let lines = boxes
            .into_iter()
            .zip(texts)
            .filter(|(_, (_, score))| *score >= MIN_TEXT_SCORE)
            .map(|((quad, _), (text, score))| OcrLine {
                text,
                score,
                quad: quad.map(|[x, y]| [(x * scale.0) as f32, (y * scale.1) as f32]),
            })
            .collect();
        Ok(OcrPage {
            lines,
            detect_ms,
            classify_ms,
            recognise_ms,
        })
    }

    fn detect(&self, img: &BgrImage) -> Result<Vec<([geometry::Point; 4], f32)>> {
        let (input, h, w) = det::preprocess(img, &self.params);
        let (dims, pred) = infer(&self.det, "detector", [1, 3, h, w], input)?;
        let [_, _, map_h, map_w] = dims[..] else {
            return Err(OcrError::model(
                "detector",
                format!("unexpected output shape {dims:?}"),
            ));
        };
        Ok(det::boxes_from_map(
            &pred[..map_h * map_w],
            map_w,
            map_h,
            img.width,
            img.height,
            &self.params,
        ))
    }

    /// Crops the classifier reads as upside down are turned.
    fn upright(&self, mut crops: Vec<BgrImage>) -> Result<Vec<BgrImage>> {
        let order = rec::by_aspect(&crops);
        for batch in order.chunks(rec::BATCH) {
            let imgs: Vec<&BgrImage> = batch.iter().map(|&i| &crops[i]).collect();
            let input = rec::batch_input(&imgs, rec::CLS_HEIGHT, rec::CLS_WIDTH);
            let shape = [batch.len(), 3, rec::CLS_HEIGHT, rec::CLS_WIDTH];
            let (_, probs) = infer(&self.cls, "direction classifier", shape, input)?;
            let flips = probs
                .chunks_exact(2)
                .map(|p| p[1] > p[0] && p[1] > rec::CLS_THRESH);
            for (&i, flip) in batch.iter().zip(flips) {
                if flip {
                    crops[i] = crops[i].rotate_180();
                }
            }
        }
        Ok(crops)
    }

    fn recognise(&self, crops: &[BgrImage]) -> Result<Vec<(String, f32)>> {
        let mut out = vec![(String::new(), 0.0f32); crops.len()];
        let order = rec::by_aspect(crops);
        for batch in order.chunks(rec::BATCH) {
            let imgs: Vec<&BgrImage> = batch.iter().map(|&i| &crops[i]).collect();
            let width = rec::rec_width(&imgs);
            let input = rec::batch_input(&imgs, rec::REC_HEIGHT, width);
            let shape = [batch.len(), 3, rec::REC_HEIGHT, width];
            let (dims, probs) = infer(&self.rec, "recogniser", shape, input)?;
            let [n, steps, classes] = dims.as_slice() else {
                return Err(OcrError::model(
                    "recogniser",
                    format!("unexpected output shape {dims:?}"),
                ));
            };
            if *n != batch.len() || *classes != self.alphabet.len() {
                return Err(OcrError::model(
                    "recogniser",
                    format!("{classes} classes for {} characters", self.alphabet.len()),
                ));
            }
            for (k, &i) in batch.iter().enumerate() {
                let one = &probs[k * steps * classes..(k + 1) * steps * classes];
                out[i] = rec::ctc_decode(one, *steps, *classes, &self.alphabet);
            }
        }
        Ok(out)
    }
}

/// One call of a model on an NCHW batch: its first output's shape and values. The session is held
/// only for the call.
fn infer(
    session: &Mutex<Session>,
    stage: &'static str,
    shape: [usize; 4],
    input: Vec<f32>,
) -> Result<(Vec<usize>, Vec<f32>)> {
    let tensor = Tensor::from_array((shape, input)).map_err(|e| OcrError::model(stage, e))?;
    let mut session = session.lock().unwrap_or_else(|p| p.into_inner());
    let outputs = session
        .run(ort::inputs![tensor])
        .map_err(|e| OcrError::model(stage, e))?;
    let (dims, values) = outputs[0]
        .try_extract_tensor::<f32>()
        .map_err(|e| OcrError::model(stage, e))?;
    Ok((dims.iter().map(|&d| d.max(0) as usize).collect(), values.to_vec()))
}

/// The image scaled down (both sides to multiples of 32) when its longer side exceeds
/// [`MAX_SIDE`], and the factors that map its pixels back.
fn bounded(image: &BgrImage) -> (std::borrow::Cow<'_, BgrImage>, (f64, f64)) {
    let longest = image.width.max(image.height);
    if longest <= MAX_SIDE {
        return (std::borrow::Cow::Borrowed(image), (1.0, 1.0));
    }
    let ratio = MAX_SIDE as f64 / longest as f64;
    let (w, h) = (
        det::round_to_32(image.width as f64 * ratio),
        det::round_to_32(image.height as f64 * ratio),
    );
    let scaled = image.resize(w, h);
    let back = (image.width as f64 / w as f64, image.height as f64 / h as f64);
    (std::borrow::Cow::Owned(scaled), back)
}

/// A detected quadrilateral straightened into its own image; tall crops (a vertical line) are
/// turned to read left to right.
fn crop(img: &BgrImage, quad: &[geometry::Point; 4]) -> BgrImage {
    let dist =
        |a: geometry::Point, b: geometry::Point| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
    let w = dist(quad[0], quad[1]).max(dist(quad[2], quad[3])) as usize;
    let h = dist(quad[0], quad[3]).max(dist(quad[1], quad[2])) as usize;
    let q = quad.map(|[x, y]| [x as f32, y as f32]);
    let out = img.warp_quad(&q, w.max(1), h.max(1));
    if out.height as f64 / out.width as f64 >= 1.5 {
        out.rotate_90_ccw()
    } else {
        out
    }
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}
