//! Watched folders through the doors: `doctalk watch`/`sync` and a watching `doctalk serve` that
//! is killed with SIGKILL again and again during a burst of changes; after a restart its index
//! must equal a fresh ingest of the folder, with nothing lost or duplicated.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::harness::{stderr, Doctalk};
use crate::serve::{http, start};

/// Path → chunks of every indexed path (a document's copies included), from `list --json`.
fn index_by_path(dt: &Doctalk) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for doc in dt.json(&["list", "--json"]).as_array().unwrap() {
        let chunks = doc["chunks"].as_u64().unwrap();
        out.insert(doc["path"].as_str().unwrap().to_string(), chunks);
        for other in doc["also_at"].as_array().unwrap() {
            out.insert(other.as_str().unwrap().to_string(), chunks);
        }
    }
    out
}

fn total_chunks(dt: &Doctalk) -> u64 {
    dt.json(&["status", "--json"])["chunks"].as_u64().unwrap()
}

fn note(i: usize, version: usize) -> String {
    format!(
        "# Note {i}\n\nVersion {version}: meeting room {} is booked by team {} on day {i}. \
         The agenda covers budget item {} and travel rule {}.\n",
        i % 13,
        i % 7,
        i * 3,
        i % 5
    )
}

/// A tiny xorshift: random enough kill moments without a dependency, and reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

/// The changes of the burst, step `step` of `steps`: new files, edits, renames, copies, deletions.
fn burst_step(dir: &Path, step: usize) {
    for k in 0..10 {
        let i = step * 10 + k;
        std::fs::write(dir.join(format!("note-{i:03}.md")), note(i, 1)).unwrap();
    }
    if step >= 2 {
        let j = (step - 2) * 10;
        std::fs::write(dir.join(format!("note-{j:03}.md")), note(j, 2)).unwrap();
        let _ = std::fs::rename(
            dir.join(format!("note-{:03}.md", j + 1)),
            dir.join(format!("renamed-{:03}.md", j + 1)),
        );
        let _ = std::fs::remove_file(dir.join(format!("note-{:03}.md", j + 2)));
        let _ = std::fs::copy(
            dir.join(format!("note-{:03}.md", j + 3)),
            dir.join(format!("copy-{:03}.md", j + 3)),
        );
    }
}

#[test]
fn a_watching_server_killed_20_times_during_a_burst_converges_to_the_folder() {
    let folder = tempfile::tempdir().unwrap();
    let dir = std::fs::canonicalize(folder.path()).unwrap();
    let dt = Doctalk::new();
    let out = dt.run(&["watch", "add", dir.to_str().unwrap(), "--no-sync"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let mut rng = Rng(0x9e3779b97f4a7c15);
    let steps = 20;
    for step in 0..steps {
        burst_step(&dir, step);
        let server = start(&dt, &["--no-llm"]);
        // Let it get somewhere (model load, a pass, commits) before the kill.
        std::thread::sleep(Duration::from_millis(300 + rng.next(2500)));
        drop(server); // SIGKILL
    }

    // Restarted, the server catches up by itself.
    let server = start(&dt, &["--no-llm"]);
    let files = std::fs::read_dir(&dir).unwrap().count() as u64;
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let folders = http(&server.addr, "GET", "/api/folders", None, b"").json();
        let f = &folders[0];
        if f["indexed"].as_u64() == Some(files) && f["queued"].as_u64() == Some(0) {
            break;
        }
        assert!(Instant::now() < deadline, "no convergence: {f} of {files} files");
        std::thread::sleep(Duration::from_millis(500));
    }
    drop(server);

    let reference = Doctalk::new();
    let out = reference.run(&["ingest", dir.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let want = index_by_path(&reference);
    assert_eq!(want.len() as u64, files);
    assert_eq!(index_by_path(&dt), want, "the same paths with the same chunks");
    assert_eq!(
        total_chunks(&dt),
        total_chunks(&reference),
        "no orphan or duplicated chunks"
    );
}

/// A file that becomes unreadable (permissions taken away) leaves the index and is reported failed
/// with the reason; its neighbours stay; the index then equals a fresh ingest of what can be read;
/// once readable again it returns; by `sync` passes and by a `sync --watch` following filesystem
/// notifications. Run without the capabilities that let root read any file.
#[test]
fn a_file_that_becomes_unreadable_leaves_the_index() {
    use std::os::unix::fs::PermissionsExt;
    let folder = tempfile::tempdir().unwrap();
    let dir = std::fs::canonicalize(folder.path()).unwrap();
    for i in 1..=3 {
        std::fs::write(dir.join(format!("n{i}.md")), note(i, 1)).unwrap();
    }
    std::thread::sleep(Duration::from_millis(1700));
    let dt = Doctalk::new();
    let d = dir.to_str().unwrap();
    let out = dt.run_unprivileged(&["watch", "add", d, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let all = index_by_path(&dt);
    assert_eq!(all.len(), 3, "{all:?}");

    let locked = dir.join("n2.md");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let out = dt.run_unprivileged(&["sync", "--json"]);
    assert_eq!(out.status.code(), Some(3), "a failed file: {}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["failed"], 1, "{report}");
    let listed = dt.json(&["watch", "list", "--files", "--json"]);
    let state = listed[0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("n2.md"))
        .cloned()
        .unwrap();
    assert_eq!(state["state"], "failed", "{state}");
    let reason = state["reason"].as_str().unwrap().to_lowercase();
    assert!(reason.contains("permission"), "{reason}");
    let now = index_by_path(&dt);
    assert!(!now.keys().any(|p| p.ends_with("n2.md")), "{now:?}");
    assert_eq!(now.len(), 2, "the neighbours stay: {now:?}");

    // The same as a fresh ingest of the folder by the same user.
    let reference = Doctalk::new();
    let out = reference.run_unprivileged(&["ingest", d, "--json"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(now, index_by_path(&reference));
    assert_eq!(total_chunks(&dt), total_chunks(&reference), "no orphans");

    // Readable again: back in the index.
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = dt.run_unprivileged(&["sync", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(index_by_path(&dt), all);

    // The same followed by filesystem notifications (`sync --watch`), without a pass asked for.
    let mut watching = dt
        .unprivileged_command()
        .args(["sync", "--watch"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let wait_for = |want: usize, what: &str| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if index_by_path(&dt).len() == want {
                break;
            }
            assert!(Instant::now() < deadline, "the watcher did not follow: {what}");
            std::thread::sleep(Duration::from_millis(300));
        }
    };
    std::thread::sleep(Duration::from_secs(2));
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    wait_for(2, "made unreadable");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o644)).unwrap();
    wait_for(3, "readable again");
    let _ = watching.kill();
    let _ = watching.wait();
    assert_eq!(index_by_path(&dt), all);
}

#[test]
fn watch_sync_and_the_folder_api_agree() {
    let folder = tempfile::tempdir().unwrap();
    let dir = std::fs::canonicalize(folder.path()).unwrap();
    std::fs::create_dir(dir.join("drafts")).unwrap();
    std::fs::write(dir.join("a.md"), note(1, 1)).unwrap();
    std::fs::write(dir.join("drafts/b.md"), note(2, 1)).unwrap();
    std::fs::write(dir.join("broken.pdf"), b"%PDF-1.7 this is not a PDF").unwrap();
    std::thread::sleep(Duration::from_millis(1700));
    let dt = Doctalk::new();
    let d = dir.to_str().unwrap();

    let out = dt.run(&["watch", "add", d, "--exclude", "drafts", "--json"]);
    // The broken PDF fails: a partial result (exit code 3, as for `ingest`).
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let report = lines.last().unwrap();
    assert_eq!(
        (report["added"].as_u64(), report["failed"].as_u64()),
        (Some(1), Some(1)),
        "{report}"
    );

    let listed = dt.json(&["watch", "list", "--files", "--json"]);
    let files = listed[0]["files"].as_array().unwrap();
    let broken = files
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("broken.pdf"))
        .unwrap();
    assert_eq!(broken["state"], "failed");
    assert!(!broken["reason"].as_str().unwrap().is_empty());
    assert!(files
        .iter()
        .all(|f| !f["path"].as_str().unwrap().contains("drafts")));

    // `sync` after a change; failed files are not retried until they change.
    std::fs::write(dir.join("c.md"), note(3, 1)).unwrap();
    std::thread::sleep(Duration::from_millis(1700));
    let out = dt.run(&["sync", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "the broken file still is: {}",
        stderr(&out)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["failed"], 1, "{report}");
    assert_eq!(
        (report["added"].as_u64(), report["unchanged"].as_u64()),
        (Some(1), Some(1)),
        "{report}"
    );

    // The server's view and actions.
    let server = start(&dt, &["--no-llm"]);
    let folders = http(&server.addr, "GET", "/api/folders", None, b"").json();
    assert_eq!(folders[0]["indexed"], 2, "{folders}");
    assert_eq!(folders[0]["failed"], 1, "{folders}");
    // A folder added from the command line while the server runs is followed at once.
    let second = tempfile::tempdir().unwrap();
    std::fs::write(second.path().join("d.md"), note(4, 1)).unwrap();
    std::thread::sleep(Duration::from_millis(1700));
    let out = dt.run(&["watch", "add", second.path().to_str().unwrap(), "--no-sync"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let folders = http(&server.addr, "GET", "/api/folders", None, b"").json();
        if folders[1]["indexed"] == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not follow the new folder: {folders}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let out = dt.run(&["watch", "rm", second.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));

    let bad = http(
        &server.addr,
        "POST",
        "/api/folders",
        None,
        br#"{"path": "/no/such/folder"}"#,
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    let path = format!("/api/folders?path={}", d.replace('/', "%2F"));
    let removed = http(&server.addr, "DELETE", &path, None, b"").json();
    assert_eq!(removed["removed_paths"], 2, "{removed}");
    let docs = http(&server.addr, "GET", "/api/documents", None, b"").json();
    assert_eq!(docs.as_array().unwrap().len(), 0, "{docs}");
    assert!(dir.join("a.md").exists(), "the user's files are never touched");
}

#[test]
fn kb_export_and_import_move_a_knowledge_base_between_data_directories() {
    let from = Doctalk::new();
    let out = from.run(&["ingest", crate::harness::sample_kb().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let watched = tempfile::tempdir().unwrap();
    let out = from.run(&["watch", "add", watched.path().to_str().unwrap(), "--no-sync"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let file = from.data.path().join("backup.dtkb");
    let out = from.run(&[
        "kb",
        "export",
        file.to_str().unwrap(),
        "--json",
        "--conversations",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let exported: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(exported["header"]["version"], 2, "{exported}");

    let to = Doctalk::new();
    let out = to.run(&[
        "kb",
        "import",
        file.to_str().unwrap(),
        "--name",
        "moved",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["report"]["folders"], 1,
        "the watched folder came along: {report}"
    );
    let listed = to.json(&["--kb", "moved", "watch", "list", "--json"]);
    assert!(
        listed
            .to_string()
            .contains(watched.path().file_name().unwrap().to_str().unwrap()),
        "{listed}"
    );
    let q = "出差住宿标准是多少";
    let there = to.json(&["--kb", "moved", "search", q, "--json"]);
    let here = from.json(&["search", q, "--json"]);
    let texts = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|h| h["text"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(texts(&there), texts(&here));

    // A second import under the same name is refused; a cut archive is refused and leaves nothing.
    let out = to.run(&["kb", "import", file.to_str().unwrap(), "--name", "moved"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("already holds"), "{}", stderr(&out));
    let bytes = std::fs::read(&file).unwrap();
    let cut = to.data.path().join("cut.dtkb");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    let out = to.run(&["kb", "import", cut.to_str().unwrap(), "--name", "cut"]);
    assert!(!out.status.success());
    assert!(!to.data.path().join("kb/cut").exists());
}

#[test]
fn the_server_exports_a_knowledge_base_and_imports_an_uploaded_archive() {
    let dt = Doctalk::new();
    let out = dt.run(&["ingest", crate::harness::sample_kb().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let file = dt.data.path().join("backup.dtkb");
    assert!(dt.run(&["kb", "export", file.to_str().unwrap()]).status.success());
    let archive = std::fs::read(&file).unwrap();

    let server = start(&dt, &["--no-llm"]);
    let export = http(&server.addr, "GET", "/api/kbs/default/export", None, b"");
    assert_eq!(export.status, 200);
    assert!(
        export.head.to_lowercase().contains("filename=\"default.dtkb\""),
        "{}",
        export.head
    );

    let imported = http(&server.addr, "POST", "/api/kbs/import?name=copy", None, &archive).json();
    assert_eq!(imported["documents"], 3, "{imported}");
    let docs = http(&server.addr, "GET", "/api/documents?kb=copy", None, b"").json();
    assert_eq!(docs.as_array().unwrap().len(), 3);

    let again = http(&server.addr, "POST", "/api/kbs/import?name=copy", None, &archive);
    assert_eq!(again.status, 400, "{}", again.body);
    let garbage = http(
        &server.addr,
        "POST",
        "/api/kbs/import?name=junk",
        None,
        b"not an archive",
    );
    assert_eq!(garbage.status, 400, "{}", garbage.body);
    let kbs = http(&server.addr, "GET", "/api/kbs", None, b"").json();
    let names: Vec<&str> = kbs["kbs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["copy", "default"], "nothing half-imported");
}
