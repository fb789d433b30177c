//! The model store's hub path against a real HTTP server on loopback that serves a hub-shaped tree
//! (`/<org>/<name>/resolve/<revision>/<file>` with the hub's `X-Repo-Commit` and `ETag` headers and
//! range requests), with the real all-MiniLM-L6-v2 files: a pull fills a HuggingFace cache that the
//! encoder then loads from; an interrupted download resumes; a corrupt file is rejected; offline mode
//! never touches the network.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use doctalk_catalog::store::{HubSettings, ModelStore};
use doctalk_models::{BertEncoder, CatalogError, Embedder, SearchRoots, ALL_MINILM_L6_V2};
use sha2::{Digest, Sha256};

const MODEL: &str = "all-MiniLM-L6-v2";
const REPO: &str = "sentence-transformers/all-MiniLM-L6-v2";

/// How the server misbehaves.
#[derive(Clone, Debug, PartialEq)]
enum Mode {
    Normal,
    /// The first full GET of this file is cut after this many bytes (Content-Length still says all).
    DropOnce(String, usize),
    /// This file's bytes are altered (its ETag still names the true sha256).
    Corrupt(String),
}

#[derive(Clone, Debug)]
struct Logged {
    method: String,
    path: String,
    range: Option<String>,
    body_bytes: usize,
}

struct FakeHub {
    url: String,
    log: Arc<Mutex<Vec<Logged>>>,
    mode: Arc<Mutex<Mode>>,
}

impl FakeHub {
    /// Serves every file of `dir` as the repository `repo`, at any revision.
    fn start(repo: &str, dir: &Path) -> FakeHub {
        let mut files = HashMap::new();
        for name in ["config.json", "tokenizer.json", "model.safetensors"] {
            let bytes = std::fs::read(dir.join(name))
                .unwrap_or_else(|e| panic!("{}: {e} (run scripts/setup.sh)", dir.join(name).display()));
            files.insert(format!("/{repo}/{name}"), bytes);
        }
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let mode = Arc::new(Mutex::new(Mode::Normal));
        let (files, log2, mode2) = (Arc::new(files), log.clone(), mode.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (files, log, mode) = (files.clone(), log2.clone(), mode2.clone());
                std::thread::spawn(move || serve(stream, &files, &log, &mode));
            }
        });
        FakeHub { url, log, mode }
    }

    fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn requests(&self) -> Vec<Logged> {
        self.log.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, files: &HashMap<String, Vec<u8>>, log: &Mutex<Vec<Logged>>, mode: &Mutex<Mode>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or("").to_string(),
        parts.next().unwrap_or("").to_string(),
    );
    let mut range = None;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = header.split_once(':') {
            if k.eq_ignore_ascii_case("range") {
                range = Some(v.trim().to_string());
            }
        }
    }
    let mut out = stream;
    // /<org>/<name>/resolve/<revision>/<file>
    let segments: Vec<&str> = target.trim_start_matches('/').splitn(5, '/').collect();
    let (key, revision) = match segments.as_slice() {
        [org, name, "resolve", rev, file] => (format!("/{org}/{name}/{file}"), rev.to_string()),
        _ => (String::new(), String::new()),
    };
    let Some(bytes) = files.get(&key) else {
        let _ = out.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
    let file = key.rsplit('/').next().unwrap().to_string();
    let sha = format!("{:x}", Sha256::digest(bytes));
    let mut body = bytes.clone();
    let current = mode.lock().unwrap().clone();
    if current == Mode::Corrupt(file.clone()) {
        body[0] ^= 0xff;
    }
    let start = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.trim_end_matches('-').parse::<usize>().ok())
        .unwrap_or(0);
    let (status, slice) = if start > 0 {
        ("206 Partial Content", &body[start..])
    } else {
        ("200 OK", &body[..])
    };
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nX-Repo-Commit: {revision}\r\nETag: \"{sha}\"\r\nConnection: close\r\n",
        slice.len()
    );
    if start > 0 {
        head.push_str(&format!(
            "Content-Range: bytes {start}-{}/{}\r\n",
            body.len() - 1,
            body.len()
        ));
    }
    head.push_str("\r\n");
    let _ = out.write_all(head.as_bytes());
    let mut sent = 0;
    if method == "GET" {
        let cut = match &current {
            Mode::DropOnce(f, n) if *f == file && start == 0 => {
                *mode.lock().unwrap() = Mode::Normal;
                Some(*n)
            }
            _ => None,
        };
        let to_send = cut.map_or(slice, |n| &slice[..n]);
        sent = to_send.len();
        let _ = out.write_all(to_send);
    }
    let _ = out.flush();
    log.lock().unwrap().push(Logged {
        method,
        path: target,
        range,
        body_bytes: sent,
    });
}

fn local_model_dir() -> PathBuf {
    std::env::var_os("DOCTALK_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.models"))
        .join(MODEL)
}

/// A store whose only sources are the fake hub and a fresh cache.
fn store(hub: &FakeHub, root: &Path, offline: bool) -> ModelStore {
    let settings = HubSettings {
        endpoint: hub.url.clone(),
        cache_dir: root.join("hub"),
        offline,
        token: None,
    };
    let roots = SearchRoots {
        data_dir: Some(root.join("data")),
        hf_hub: Some(root.join("hub")),
        ..SearchRoots::default()
    };
    ModelStore::new(roots, settings)
}

fn no_progress(_: &str, _: u64, _: Option<u64>) {}

#[tokio::test(flavor = "multi_thread")]
async fn a_pull_fills_the_huggingface_cache_and_the_encoder_loads_from_it() {
    let hub = FakeHub::start(REPO, &local_model_dir());
    let tmp = tempfile::tempdir().unwrap();
    let store = store(&hub, tmp.path(), false);
    assert!(store.status(MODEL).unwrap().installed.is_none());

    let dir = store.pull(MODEL, &no_progress).await.unwrap();
    let repo_dir = tmp
        .path()
        .join("hub/models--sentence-transformers--all-MiniLM-L6-v2");
    assert!(dir.starts_with(repo_dir.join("snapshots")), "{}", dir.display());
    let weights = dir.join("model.safetensors");
    assert!(weights.symlink_metadata().unwrap().file_type().is_symlink());
    assert!(std::fs::read_link(&weights).unwrap().starts_with("../../blobs"));
    assert_eq!(store.status(MODEL).unwrap().installed, Some(dir.clone()));

    // The encoder finds the pulled copy through the ordinary hub-cache search.
    let roots = SearchRoots {
        hf_hub: Some(tmp.path().join("hub")),
        ..SearchRoots::default()
    };
    let encoder = BertEncoder::from_spec(&ALL_MINILM_L6_V2, &roots).unwrap();
    let v = encoder.embed_query("How do I reset my password?").unwrap();
    assert_eq!(v.len(), 384);

    // A second pull finds everything in place and downloads nothing.
    let before = hub.requests().iter().filter(|r| r.method == "GET").count();
    assert_eq!(store.pull(MODEL, &no_progress).await.unwrap(), dir);
    assert_eq!(
        hub.requests().iter().filter(|r| r.method == "GET").count(),
        before
    );

    let removal = store.remove(MODEL).unwrap();
    assert_eq!(removal.removed, vec![repo_dir.clone()]);
    assert!(!repo_dir.exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_download_resumes_with_a_range_request() {
    let hub = FakeHub::start(REPO, &local_model_dir());
    let size = std::fs::metadata(local_model_dir().join("model.safetensors"))
        .unwrap()
        .len() as usize;
    hub.set_mode(Mode::DropOnce("model.safetensors".into(), size / 3));
    let tmp = tempfile::tempdir().unwrap();
    let dir = store(&hub, tmp.path(), false)
        .pull(MODEL, &no_progress)
        .await
        .unwrap();

    let gets: Vec<Logged> = hub
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("model.safetensors"))
        .collect();
    assert_eq!(gets.len(), 2, "{gets:?}");
    assert_eq!(
        gets[1].range.as_deref(),
        Some(format!("bytes={}-", size / 3).as_str())
    );
    assert_eq!(
        gets[0].body_bytes + gets[1].body_bytes,
        size,
        "nothing fetched twice"
    );
    let expected = std::fs::read(local_model_dir().join("model.safetensors")).unwrap();
    assert!(std::fs::read(dir.join("model.safetensors")).unwrap() == expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_that_fails_its_checksum_is_rejected_and_not_kept() {
    let hub = FakeHub::start(REPO, &local_model_dir());
    hub.set_mode(Mode::Corrupt("tokenizer.json".into()));
    let tmp = tempfile::tempdir().unwrap();
    let store = store(&hub, tmp.path(), false);
    match store.pull(MODEL, &no_progress).await {
        Err(CatalogError::ChecksumMismatch {
            file,
            expected,
            actual,
        }) => {
            assert_eq!(file, "tokenizer.json");
            assert_ne!(expected, actual);
        }
        other => panic!("expected a checksum error, got {other:?}"),
    }
    let repo_dir = tmp
        .path()
        .join("hub/models--sentence-transformers--all-MiniLM-L6-v2");
    let leftovers: Vec<_> = walk(&repo_dir)
        .into_iter()
        .filter(|p| p.ends_with("tokenizer.json") || p.extension().is_some_and(|e| e == "incomplete"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(store.status(MODEL).unwrap().installed.is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_mode_uses_the_cache_and_never_the_network() {
    let hub = FakeHub::start(REPO, &local_model_dir());
    let tmp = tempfile::tempdir().unwrap();
    match store(&hub, tmp.path(), true).pull(MODEL, &no_progress).await {
        Err(e @ CatalogError::Offline { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("HF_HUB_OFFLINE") && msg.contains("model.safetensors"),
                "{msg}"
            );
        }
        other => panic!("expected an offline error, got {other:?}"),
    }
    assert!(hub.requests().is_empty(), "offline mode made requests");

    let dir = store(&hub, tmp.path(), false)
        .pull(MODEL, &no_progress)
        .await
        .unwrap();
    let made = hub.requests().len();
    assert_eq!(
        store(&hub, tmp.path(), true)
            .pull(MODEL, &no_progress)
            .await
            .unwrap(),
        dir
    );
    assert_eq!(hub.requests().len(), made);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() && !p.is_symlink() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Larger Whisper models come from the hub: `find_whisper` takes a name and finds the model in
/// the model directories or in the HuggingFace cache `doctalk models pull` fills; an unknown name
/// or a model not downloaded says what to do.
#[test]
fn whisper_models_are_found_by_name_in_the_model_directories_and_the_hub_cache() {
    use doctalk_catalog::whisper::find_whisper;
    let models = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let roots = doctalk_models::SearchRoots {
        models_dir: Some(models.path().to_owned()),
        hf_hub: Some(cache.path().to_owned()),
        ..Default::default()
    };
    for name in ["whisper-small", "whisper-medium"] {
        let m = doctalk_catalog::store::find_manifest(name).expect(name);
        assert_eq!(m.kind, "speech-recognition");
        assert_eq!(
            m.hub().map(|h| h.repo.as_str()),
            Some(format!("Systran/faster-{name}").as_str())
        );
        let files: Vec<String> = m.hub_files().into_iter().map(|f| f.path).collect();
        assert_eq!(files, ["model.bin", "config.json", "tokenizer.json"]);
    }

    let err = find_whisper(Some(std::path::Path::new("whisper-small")), &roots)
        .unwrap_err()
        .to_string();
    assert!(err.contains("doctalk models pull whisper-small"), "{err}");
    let err = find_whisper(Some(std::path::Path::new("whisper-huge")), &roots)
        .unwrap_err()
        .to_string();
    assert!(err.contains("whisper-medium"), "lists the known ones: {err}");

    // Pulled into the HuggingFace cache (the hub's layout: refs/main names the snapshot).
    let repo = cache.path().join("models--Systran--faster-whisper-medium");
    let snapshot = repo.join("snapshots/0123abcd");
    std::fs::create_dir_all(&snapshot).unwrap();
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::write(repo.join("refs/main"), "0123abcd").unwrap();
    for file in ["model.bin", "tokenizer.json", "config.json"] {
        std::fs::write(snapshot.join(file), b"x").unwrap();
    }
    assert_eq!(
        find_whisper(Some(std::path::Path::new("whisper-medium")), &roots).unwrap(),
        snapshot
    );

    // A copy placed in the models directory is found by name.
    let dir = models.path().join("whisper-small");
    std::fs::create_dir_all(&dir).unwrap();
    for file in ["model.bin", "tokenizer.json", "config.json"] {
        std::fs::write(dir.join(file), b"x").unwrap();
    }
    assert_eq!(
        find_whisper(Some(std::path::Path::new("whisper-small")), &roots).unwrap(),
        dir
    );
    // A directory is taken as it is.
    assert_eq!(find_whisper(Some(&dir), &roots).unwrap(), dir);
}
