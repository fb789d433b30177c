//! A small builder around the real binary: one temporary data directory per test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

pub fn sample_kb() -> PathBuf {
    repo_root().join("examples/sample-kb")
}

pub fn models_dir() -> PathBuf {
    std::env::var_os("DOCTALK_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".models"))
}

pub struct Doctalk {
    pub data: tempfile::TempDir,
}

impl Doctalk {
    pub fn new() -> Self {
        Doctalk {
            data: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_doctalk"));
        cmd.env("DOCTALK_DATA_DIR", self.data.path())
            .env("DOCTALK_MODELS_DIR", models_dir())
            .env_remove("DOCTALK_KB")
            .env("RUST_LOG", "warn");
        cmd
    }

    #[track_caller]
    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run doctalk")
    }

    /// Runs and parses stdout as JSON lines.
    #[track_caller]
    pub fn json_lines(&self, args: &[&str]) -> (Output, Vec<serde_json::Value>) {
        let out = self.run(args);
        let lines = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
            .collect();
        (out, lines)
    }

    /// Runs and parses the whole stdout as one JSON value.
    #[track_caller]
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
    }
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The sample knowledge base, indexed once and shared by the tests that only read it (search, ask,
/// serve); they may add conversations, never documents.
pub fn indexed_sample() -> &'static Doctalk {
    static SAMPLE: OnceLock<Doctalk> = OnceLock::new();
    SAMPLE.get_or_init(|| {
        let dt = Doctalk::new();
        let out = dt.run(&["ingest", sample_kb().to_str().unwrap(), "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        dt
    })
}
