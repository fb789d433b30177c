//! Faults a user's machine produces: `kill -9` at random points of every kind of write (ingest,
//! re-embedding with another encoder, saving a conversation, saving settings, downloading a
//! model), a disk that fills up, and two processes writing one knowledge base. After each fault
//! the invariant is checked: every visible document is whole (its chunks are exactly a clean run's),
//! no orphan chunk is counted or found, every JSON file parses, and the next run finishes the job.
//!
//! `DOCTALK_FAULT_KILLS` sets the kills per operation (default 6, so the suite stays short); the
//! fault runs reported in the notes use 40 (200 kills). The seed of the random kill points is
//! printed, and `DOCTALK_FAULT_SEED` replays one.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::harness::{models_dir, stderr, Doctalk};
use crate::serve::{http, start, test_python};

/// Kill points: xorshift, seeded from the clock unless replayed.
struct Dice(u64);

impl Dice {
    fn new() -> Self {
        let seed = std::env::var("DOCTALK_FAULT_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("fault seed {seed} (DOCTALK_FAULT_SEED={seed} replays it)");
        Dice(seed)
    }

    /// Milliseconds in `lo..hi`.
    fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Duration::from_millis(lo + self.0 % (hi - lo))
    }
}

fn kills() -> usize {
    std::env::var("DOCTALK_FAULT_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6)
}

/// Many small Markdown documents, so that ingest and re-embedding take a few seconds.
fn write_corpus(dir: &Path, n: usize) {
    for i in 0..n {
        let mut body = format!("# Note {i}\n\n");
        for p in 0..5 {
            body.push_str(&format!(
                "## Part {p}\n\nRule {p} of note {i}: the deadline is {} working days. 第{p}条：员工编号{i}的办理时限为{}个工作日，\
                 逾期需要部门经理审批并在系统中登记原因。\n\n",
                i + p,
                i + p
            ));
        }
        std::fs::write(dir.join(format!("note{i:03}.md")), body).unwrap();
    }
}

/// Document path → chunk count.
pub fn listing(dt: &Doctalk, encoder: &str) -> BTreeMap<String, u64> {
    dt.json(&["--encoder", encoder, "list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["path"].as_str().unwrap().to_string(),
                d["chunks"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The invariant after a fault: what is visible is whole, and no orphan chunk is stored or found.
fn assert_consistent(dt: &Doctalk, encoder: &str, expected: &BTreeMap<String, u64>, what: &str) {
    let now = listing(dt, encoder);
    for (path, chunks) in &now {
        assert_eq!(
            expected.get(path),
            Some(chunks),
            "{what}: half-indexed document {path}"
        );
    }
    let status = dt.json(&["--encoder", encoder, "status", "--json"]);
    let visible: u64 = now.values().sum();
    assert_eq!(
        status["chunks"].as_u64(),
        Some(visible),
        "{what}: orphan chunks are stored: {status}"
    );
    let hits = dt.json(&[
        "--encoder",
        encoder,
        "search",
        "办理时限 deadline",
        "--json",
        "--top-k",
        "50",
    ]);
    for h in hits.as_array().unwrap() {
        assert!(
            now.contains_key(h["path"].as_str().unwrap()),
            "{what}: orphan chunk found: {h}"
        );
    }
}

/// Every JSON file under `dir` parses (settings, conversations, folder state, users).
fn assert_json_files_parse(dir: &Path, what: &str) {
    for entry in walk(dir) {
        if entry.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read(&entry).unwrap();
            assert!(
                serde_json::from_slice::<serde_json::Value>(&text).is_ok(),
                "{what}: {} is not whole JSON",
                entry.display()
            );
        }
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            // LanceDB's own files are checked by opening the store, not here.
            if p.is_dir() && p.extension().is_none_or(|x| x != "lance") {
                out.extend(walk(&p));
            } else if p.is_file() {
                out.push(p);
            }
        }
    }
    out
}

fn kill(mut child: Child) {
    let _ = child.kill(); // SIGKILL on Unix
    let _ = child.wait();
}

/// `kill -9` during ingest and during re-embedding with another encoder, many times at random
/// points; the store stays whole after each, and the next run completes it.
#[test]
fn kills_during_ingest_and_reembedding_leave_whole_documents() {
    let mut dice = Dice::new();
    let corpus = tempfile::tempdir().unwrap();
    write_corpus(corpus.path(), 40);
    let corpus_arg = corpus.path().to_str().unwrap();
    const E5: &str = "multilingual-e5-small";
    const MINILM: &str = "all-MiniLM-L6-v2";

    let reference = Doctalk::new();
    let out = reference.run(&["--encoder", E5, "ingest", corpus_arg]);
    assert!(out.status.success(), "{}", stderr(&out));
    let expected = listing(&reference, E5);
    assert_eq!(expected.len(), 40);

    let dt = Doctalk::new();
    for round in 0..kills() {
        let child = dt
            .command()
            .args(["--encoder", E5, "ingest", corpus_arg])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(dice.millis(100, 6000));
        kill(child);
        assert_consistent(&dt, E5, &expected, &format!("ingest kill {round}"));
    }
    eprintln!("ingest: {} kills, each followed by the invariant check", kills());
    let out = dt.run(&["--encoder", E5, "ingest", corpus_arg]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(listing(&dt, E5), expected, "the re-run finished the job");

    // Re-embedding: opening with the other encoder re-embeds every document; killed part-way,
    // the next open finishes it. The chunk counts do not depend on the encoder.
    let mut current = E5;
    for round in 0..kills() {
        let other = if current == E5 { MINILM } else { E5 };
        let child = dt
            .command()
            .args(["--encoder", other, "status"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(dice.millis(100, 5000));
        kill(child);
        // Whichever encoder the store is left with, opening with `other` completes the switch.
        assert_consistent(&dt, other, &expected, &format!("re-embedding kill {round}"));
        assert_eq!(
            listing(&dt, other),
            expected,
            "re-embedding kill {round}: the switch completed"
        );
        current = other;
    }
    eprintln!(
        "re-embedding: {} kills, each followed by the invariant check",
        kills()
    );
}

/// `kill -9` while a conversation and the settings are being saved: the files are the old ones or
/// the new ones, never half; the server serves again after each.
#[test]
fn kills_while_saving_conversations_and_settings_leave_whole_files() {
    let mut dice = Dice::new();
    let dt = Doctalk::new();
    let (_notes, conversation) = notes_with_a_conversation(&dt, 3);
    for round in 0..kills() {
        let child = dt
            .command()
            .args([
                "ask",
                "And of rule 3?",
                "--no-llm",
                "--conversation",
                &conversation,
                "--json",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(dice.millis(50, 3000));
        kill(child);
        assert_json_files_parse(dt.data.path(), &format!("conversation kill {round}"));
        let after = dt.json(&[
            "ask",
            "And of rule 4?",
            "--no-llm",
            "--conversation",
            &conversation,
            "--json",
        ]);
        assert_eq!(
            after["conversation"].as_str(),
            Some(conversation.as_str()),
            "round {round}"
        );
    }

    for round in 0..kills() {
        let server = start(&dt, &["--no-llm"]);
        let language = if round % 2 == 0 { "zh" } else { "en" };
        let body = format!(r#"{{"language": "{language}", "script": "traditional"}}"#);
        let addr = server.addr.clone();
        let writer =
            std::thread::spawn(move || http(&addr, "PUT", "/api/settings", None, body.as_bytes()).status);
        std::thread::sleep(dice.millis(0, 40));
        drop(server); // SIGKILL
        let _ = writer.join();
        assert_json_files_parse(dt.data.path(), &format!("settings kill {round}"));
        let server = start(&dt, &["--no-llm"]);
        let settings = http(&server.addr, "GET", "/api/settings", None, b"");
        assert_eq!(settings.status, 200, "settings kill {round}: {}", settings.body);
    }
    eprintln!("conversation and settings saves: {} kills each", kills());
}

/// A stand-in for the HuggingFace hub on loopback that serves one real model's files slowly
/// (so a download can be killed part-way), with the headers and range requests the hub answers.
fn slow_hub(model_dir: &Path, bytes_per_second: usize) -> (String, Child) {
    let script = r#"
import http.server, os, sys, time
root, rate = sys.argv[1], int(sys.argv[2])
class Hub(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def file(self):
        name = self.path.split('/resolve/', 1)[-1].split('/', 1)[-1]
        path = os.path.join(root, name)
        return path if os.path.isfile(path) else None
    def head_(self, path, start=0):
        size = os.path.getsize(path)
        self.send_response(206 if start else 200)
        self.send_header('Content-Length', str(size - start))
        self.send_header('ETag', '"e%d"' % size)
        self.send_header('X-Repo-Commit', 'c0ffee')
        if start: self.send_header('Content-Range', 'bytes %d-%d/%d' % (start, size - 1, size))
        self.end_headers()
    def do_HEAD(self):
        path = self.file()
        if not path: self.send_response(404); self.end_headers(); return
        self.head_(path)
    def do_GET(self):
        path = self.file()
        if not path: self.send_response(404); self.end_headers(); return
        start = 0
        r = self.headers.get('Range')
        if r and r.startswith('bytes='): start = int(r[6:].split('-')[0] or 0)
        self.head_(path, start)
        with open(path, 'rb') as f:
            f.seek(start)
            while True:
                chunk = f.read(rate // 20)
                if not chunk: break
                try: self.wfile.write(chunk)
                except Exception: return
                time.sleep(0.05)
server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Hub)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;
    let mut child = std::process::Command::new(test_python())
        .args([
            "-c",
            script,
            model_dir.to_str().unwrap(),
            &bytes_per_second.to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the fake hub");
    let port =
        crate::harness::first_line_within(child.stdout.take().unwrap(), Duration::from_secs(30), "fake hub");
    (format!("http://127.0.0.1:{}", port.trim()), child)
}

/// `kill -9` part-way through a model download: nothing half-downloaded is ever taken for the
/// model, and the next pull resumes and finishes with the checksum verified.
#[test]
fn kills_during_a_model_download_never_leave_a_half_model_in_use() {
    let mut dice = Dice::new();
    let dt = Doctalk::new();
    let cache = tempfile::tempdir().unwrap();
    // MiniLM: 90 MB at 30 MB/s takes about 3 s, long enough to be killed part-way.
    let (hub, hub_process) = slow_hub(&models_dir().join("all-MiniLM-L6-v2"), 30 << 20);
    // Run outside the checkout, with an empty model directory: the only copy is the download.
    let elsewhere = tempfile::tempdir().unwrap();
    let command = |dt: &Doctalk| with_only_the_cache(dt, cache.path(), elsewhere.path());
    let pull = |dt: &Doctalk| {
        let mut cmd = command(dt);
        cmd.env("HF_ENDPOINT", &hub)
            .args(["models", "pull", "all-MiniLM-L6-v2"]);
        cmd
    };
    // Installed *from the download*: the model's location is inside the cache the pull fills
    // (the checkout's own copy in the model directories does not count).
    let installed = |dt: &Doctalk| {
        let out = command(dt).args(["models", "list", "--json"]).output().unwrap();
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        list.as_array()
            .unwrap()
            .iter()
            .find(|m| m["short_name"] == "all-MiniLM-L6-v2")
            .and_then(|m| m["installed"].as_str().map(String::from))
            .is_some_and(|at| Path::new(&at).starts_with(cache.path()))
    };
    assert!(!installed(&dt), "the model is already in the fresh cache");
    let mut killed_part_way = 0;
    for _ in 0..kills() {
        let child = pull(&dt)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(dice.millis(100, 2500));
        kill(child);
        if installed(&dt) {
            // It finished before the kill (resuming the earlier parts): then it is whole, since
            // the pull verified it. Start again from nothing, so every round can be cut short.
            std::fs::remove_dir_all(cache.path()).unwrap();
            std::fs::create_dir_all(cache.path()).unwrap();
            continue;
        }
        // A kill before the first byte arrived (a slow start) tests nothing new; one after it
        // left a resumable part file, which did not count as the model (checked above).
        if !walk(cache.path()).is_empty() {
            killed_part_way += 1;
        }
    }
    eprintln!(
        "download: {killed_part_way} of {} kills cut a download short",
        kills()
    );
    assert!(killed_part_way > 0, "no pull was killed part-way");
    let out = pull(&dt).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(installed(&dt), "the last pull finished the model");
    kill(hub_process);
}

/// A disk that fills up during ingest: the user sees which file could not be written and why,
/// nothing half-written is visible, and after space is freed the next ingest completes.
#[test]
fn a_full_disk_during_ingest_is_reported_and_loses_nothing() {
    let (mount, _unmount) = small_disk("1m");
    let data = mount.path().join("data");
    let corpus = tempfile::tempdir().unwrap();
    write_corpus(corpus.path(), 300);
    let run = |args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_doctalk"));
        cmd.env("DOCTALK_DATA_DIR", &data)
            .env("DOCTALK_MODELS_DIR", models_dir())
            .env_remove("DOCTALK_KB")
            .env("RUST_LOG", "warn")
            .args(args);
        crate::harness::wait_within(
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap(),
            crate::harness::child_limit(),
            "doctalk on a full disk",
        )
    };
    let out = run(&["ingest", corpus.path().to_str().unwrap()]);
    let err = stderr(&out);
    assert!(!out.status.success(), "1 MB held 300 documents?");
    assert!(
        err.contains("No space left on device") || err.contains("no space"),
        "the user is told the disk is full: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    // What is visible is whole. Listing needs no new space; if even that fails, it must say why.
    let listed = run(&["list", "--json"]);
    if listed.status.success() {
        let docs: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
        for d in docs.as_array().unwrap() {
            assert!(
                d["chunks"].as_u64().unwrap() > 0,
                "a visible document without its chunks: {d}"
            );
        }
    } else {
        assert!(
            stderr(&listed).to_lowercase().contains("space"),
            "{}",
            stderr(&listed)
        );
    }
    // Free space (a bigger disk), and the next ingest completes.
    grow(mount.path(), "200m");
    let out = run(&["ingest", corpus.path().to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let docs: serde_json::Value = serde_json::from_slice(&run(&["list", "--json"]).stdout).unwrap();
    assert_eq!(docs.as_array().unwrap().len(), 300);
    assert_json_files_parse(&data, "after the disk was full");
}

/// A CLI ingest while the server ingests uploads into the same knowledge base: both land whole.
#[test]
fn a_cli_ingest_while_the_server_ingests_loses_nothing() {
    let dt = Doctalk::new();
    let cli_notes = tempfile::tempdir().unwrap();
    write_corpus(cli_notes.path(), 24);
    let server = start(&dt, &["--no-llm"]);
    let addr = server.addr.clone();
    let uploads = std::thread::spawn(move || {
        for i in 0..12 {
            let body = format!(
                "# Upload {i}\n\nThe upload {i} says the canteen opens at {}:30.\n",
                7 + i % 3
            );
            let r = http(
                &addr,
                "POST",
                &format!("/api/ingest?name=upload{i:02}.md"),
                None,
                body.as_bytes(),
            );
            assert_eq!(r.status, 200, "{}", r.body);
            assert!(r.body.contains("event: done"), "{}", r.body);
        }
    });
    let out = dt.run(&["ingest", cli_notes.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    uploads.join().unwrap();
    let docs = http(&server.addr, "GET", "/api/documents", None, b"").json();
    let docs = docs.as_array().unwrap();
    assert_eq!(docs.len(), 36, "{docs:?}");
    for d in docs {
        assert!(d["chunks"].as_u64().unwrap_or(0) > 0, "{d}");
    }
    drop(server);
    let status = dt.json(&["status", "--json"]);
    let listed: u64 = listing(&dt, "multilingual-e5-small").values().sum();
    assert_eq!(status["chunks"].as_u64(), Some(listed), "{status}");
}

/// A deleted data fragment (a disk error, a sync tool, a user tidying up): opening says the index
/// is damaged and how to repair it; `kb repair` rebuilds it from the files, names the file that is
/// gone, and keeps the damaged tables and the conversations.
#[test]
fn a_deleted_fragment_is_reported_and_the_index_repaired_from_the_files() {
    let dt = Doctalk::new();
    let (notes, conversation) = notes_with_a_conversation(&dt, 4);
    let kb = dt.data.path().join("kb/default");
    let fragment = walk(&kb.join("chunks.lance/data"))
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "lance"))
        .expect("a chunks fragment");
    std::fs::remove_file(&fragment).unwrap();
    std::fs::remove_file(notes.path().join("note003.md")).unwrap();

    let out = dt.run(&["search", "deadline"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("damaged") && err.contains("doctalk kb repair"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    let report = dt.json(&["kb", "repair", "--json"]);
    assert_eq!(report["listed"], 4, "{report}");
    assert_eq!(report["reports"].as_array().unwrap().len(), 3, "{report}");
    let missing = report["missing"].as_array().unwrap();
    assert_eq!(missing.len(), 1);
    assert!(missing[0].as_str().unwrap().ends_with("note003.md"));
    assert!(Path::new(report["set_aside"].as_str().unwrap())
        .join("chunks.lance")
        .is_dir());

    let docs = listing(&dt, "multilingual-e5-small");
    assert_eq!(docs.len(), 3, "{docs:?}");
    let hits = dt.json(&["search", "办理时限", "--json"]);
    assert!(!hits.as_array().unwrap().is_empty());
    let again = dt.json(&[
        "ask",
        "And of rule 3?",
        "--no-llm",
        "--conversation",
        &conversation,
        "--json",
    ]);
    assert_eq!(
        again["conversation"].as_str(),
        Some(conversation.as_str()),
        "the conversation was kept"
    );
}

/// A tmpfs of `size` mounted on a fresh directory, unmounted when the guard drops.
fn small_disk(size: &str) -> (tempfile::TempDir, Unmount) {
    let mount = tempfile::tempdir().unwrap();
    let mounted = std::process::Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            &format!("size={size}"),
            "tmpfs",
            mount.path().to_str().unwrap(),
        ])
        .status()
        .expect("run mount");
    assert!(
        mounted.success(),
        "this test needs to mount a small tmpfs (root with CAP_SYS_ADMIN, as scripts/test.sh runs)"
    );
    let guard = Unmount(mount.path().to_path_buf());
    (mount, guard)
}

/// More room on a [`small_disk`]: the user freed space.
fn grow(mount: &Path, size: &str) {
    let remount = std::process::Command::new("mount")
        .args(["-o", &format!("remount,size={size}"), mount.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(remount.success());
}

struct Unmount(std::path::PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// A disk that fills up during a model download: the user is told the disk is full, the part
/// file is not taken for the model, and once there is room the pull resumes and completes.
#[test]
fn a_full_disk_during_a_download_is_reported_and_resumes_once_there_is_room() {
    let dt = Doctalk::new();
    let (cache, _unmount) = small_disk("20m");
    let (hub, hub_process) = slow_hub(&models_dir().join("all-MiniLM-L6-v2"), 200 << 20);
    let elsewhere = tempfile::tempdir().unwrap();
    let pull = || {
        let mut cmd = with_only_the_cache(&dt, cache.path(), elsewhere.path());
        cmd.env("HF_ENDPOINT", &hub)
            .args(["models", "pull", "all-MiniLM-L6-v2"]);
        crate::harness::wait_within(
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap(),
            crate::harness::child_limit(),
            "doctalk models pull on a full disk",
        )
    };
    let out = pull();
    let err = stderr(&out);
    assert!(!out.status.success(), "90 MB fitted in 20 MB?");
    assert!(
        err.contains("No space left on device"),
        "the user is told the disk is full: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    grow(cache.path(), "400m");
    let out = pull();
    assert!(out.status.success(), "{}", stderr(&out));
    kill(hub_process);
}

/// `n` notes ingested, and a conversation started over them: (the notes' folder, its id).
fn notes_with_a_conversation(dt: &Doctalk, n: usize) -> (tempfile::TempDir, String) {
    let notes = tempfile::tempdir().unwrap();
    write_corpus(notes.path(), n);
    assert!(dt
        .run(&["ingest", notes.path().to_str().unwrap()])
        .status
        .success());
    let asked = dt.json(&[
        "ask",
        "What is the deadline of rule 2 of note 1?",
        "--no-llm",
        "--conversation",
        "new",
        "--json",
    ]);
    let conversation = asked["conversation"]
        .as_str()
        .expect("a conversation id")
        .to_string();
    (notes, conversation)
}

/// A `doctalk` whose only model copies are those downloaded into `cache`: run outside the
/// checkout (whose `.models` would be found) with an empty model directory.
fn with_only_the_cache(dt: &Doctalk, cache: &Path, elsewhere: &Path) -> std::process::Command {
    let mut cmd = dt.command();
    cmd.env("HF_HOME", cache)
        .env("DOCTALK_MODELS_DIR", elsewhere)
        .current_dir(elsewhere);
    cmd
}

/// A disk that fills up while `doctalk tune` saves a checkpoint: the user is told the disk is full,
/// the adapter of the earlier run is untouched, and once there is room the run completes.
#[test]
fn a_full_disk_during_tuning_keeps_the_earlier_adapter() {
    let dt = Doctalk::new();
    let (disk, _unmount) = small_disk("2m");
    let out = disk.path().join("adapter");
    let fixtures = crate::harness::repo_root().join("crates/doctalk-models/tests/fixtures/lora/qwen2");
    let (faq, base) = (fixtures.join("faq.csv"), fixtures.join("base/model.gguf"));
    let tune = |epochs: &str| {
        dt.run(&[
            "tune",
            "--faq",
            faq.to_str().unwrap(),
            "--base",
            base.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--rank",
            "4",
            "--epochs",
            epochs,
            "--no-compare",
        ])
    };
    let first = tune("1");
    assert!(first.status.success(), "{}", stderr(&first));
    let adapter = std::fs::read(out.join("adapter_model.safetensors")).unwrap();
    let config = std::fs::read(out.join("adapter_config.json")).unwrap();

    // Fill the disk, then train again for fewer steps than a checkpoint interval: writing the new
    // adapter is what fails.
    let filler = disk.path().join("filler");
    let mut file = std::fs::File::create(&filler).unwrap();
    let block = vec![0u8; 64 << 10];
    while std::io::Write::write_all(&mut file, &block).is_ok() {}
    drop(file);
    let full = tune("3");
    assert_eq!(full.status.code(), Some(1));
    let err = stderr(&full);
    assert!(err.contains("No space left on device"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(
        std::fs::read(out.join("adapter_model.safetensors")).unwrap(),
        adapter
    );
    assert_eq!(std::fs::read(out.join("adapter_config.json")).unwrap(), config);
    // A longer run fails at its first checkpoint (step 25) instead, just as clearly.
    let at_checkpoint = tune("10");
    assert_eq!(at_checkpoint.status.code(), Some(1));
    let err = stderr(&at_checkpoint);
    assert!(
        err.contains("No space left on device") && err.contains("checkpoint"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(out.join("adapter_model.safetensors")).unwrap(),
        adapter
    );

    std::fs::remove_file(&filler).unwrap();
    let again = tune("10");
    assert!(again.status.success(), "{}", stderr(&again));
    assert_ne!(
        std::fs::read(out.join("adapter_model.safetensors")).unwrap(),
        adapter
    );
}
