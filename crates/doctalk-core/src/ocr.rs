//! The OCR engine behind ingest's [`PageReader`]: doctalk-ocr with the PP-OCRv6 models and ONNX
//! Runtime from the model store (`ppocr-v6-small/` and `onnxruntime/` under the usual model roots),
//! loaded on the first picture, so a library without scans never pays for it. One engine per
//! process; every knowledge base and door shares it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use doctalk_ingest::{PageReader, PageReading};
use doctalk_models::SearchRoots;
use doctalk_ocr::{page_text, BgrImage, Ocr, OcrFiles};

/// Model directories (by manifest short name).
pub const OCR_MODEL: &str = "ppocr-v6-small";
pub const OCR_RUNTIME: &str = "onnxruntime";

/// Loads the engine on first use from the model roots; a missing model is an error on each page
/// (the user may install it while the app runs) until it loads.
pub struct OcrReader {
    roots: SearchRoots,
    loaded: Mutex<Option<Arc<Ocr>>>,
}

impl OcrReader {
    pub fn new(roots: SearchRoots) -> Self {
        OcrReader {
            roots,
            loaded: Mutex::new(None),
        }
    }

    fn engine(&self) -> Result<Arc<Ocr>, String> {
        let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(ocr) = loaded.as_ref() {
            return Ok(ocr.clone());
        }
        let model = self.find(
            OCR_MODEL,
            &[
                doctalk_ocr::DET_FILE,
                doctalk_ocr::CLS_FILE,
                doctalk_ocr::REC_FILE,
            ],
        )?;
        let runtime = self.find(OCR_RUNTIME, &[])?;
        let files = OcrFiles::in_dirs(&model, &runtime).map_err(|e| e.to_string())?;
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let ocr = Arc::new(Ocr::load(&files, threads).map_err(|e| e.to_string())?);
        tracing::info!("OCR loaded from {} and {}", model.display(), runtime.display());
        *loaded = Some(ocr.clone());
        Ok(ocr)
    }

    /// The first `<root>/<name>` directory that holds every one of `files` (a partial copy in one
    /// root does not hide a complete one in the next).
    fn find(&self, name: &str, files: &[&str]) -> Result<PathBuf, String> {
        let roots = [
            self.roots.models_dir.clone(),
            self.roots.data_dir.as_ref().map(|d| d.join("models")),
            self.roots.repo_local.clone(),
        ];
        let candidates: Vec<PathBuf> = roots.into_iter().flatten().map(|r| r.join(name)).collect();
        let complete = |dir: &PathBuf| dir.is_dir() && files.iter().all(|f| dir.join(f).is_file());
        candidates.iter().find(|c| complete(c)).cloned().ok_or_else(|| {
            format!(
                "the OCR model is not installed (looked for {name}/ in {}); install it with \
                 `scripts/fetch-models.sh {OCR_MODEL} {OCR_RUNTIME}`",
                candidates
                    .iter()
                    .filter_map(|c| c.parent().map(|p| p.display().to_string()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
    }
}

impl PageReader for OcrReader {
    fn ready(&self) -> Result<(), String> {
        self.engine().map(|_| ())
    }

    fn read_page(&self, width: usize, height: usize, rgb: Vec<u8>) -> Result<PageReading, String> {
        let ocr = self.engine()?;
        let image = BgrImage::from_rgb(width, height, rgb).map_err(|e| e.to_string())?;
        let page = ocr.read(&image).map_err(|e| e.to_string())?;
        Ok(PageReading {
            text: page_text(&page.lines),
            lines: page.lines.len(),
            confidence: page.mean_score(),
        })
    }
}

static ROOTS: OnceLock<SearchRoots> = OnceLock::new();
static SHARED: OnceLock<Arc<OcrReader>> = OnceLock::new();

/// Where the process's OCR engine finds its models: the roots the app loads its other models from
/// (`--models-dir`, `$DOCTALK_MODELS_DIR`, `<data dir>/models`, a checkout's `.models`). Call before
/// the first knowledge base opens; later calls are ignored.
pub fn use_model_roots(roots: SearchRoots) {
    let _ = ROOTS.set(roots);
}

/// The process's OCR engine (not loaded until a picture needs it).
pub fn shared() -> Arc<dyn PageReader> {
    SHARED
        .get_or_init(|| {
            Arc::new(OcrReader::new(
                ROOTS.get().cloned().unwrap_or_else(SearchRoots::from_env),
            ))
        })
        .clone()
}
