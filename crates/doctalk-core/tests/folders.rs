//! Watched folders on a real folder with real filesystem events, the real default embedder and a
//! real LanceDB directory: after each change the index must equal a fresh ingest of the folder as
//! it now is (the same content under each path, the same chunks, nothing extra).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use doctalk_core::folders::{FolderWatcher, Folders, WatchedFolder};
use doctalk_core::{Embedder, KnowledgeBase};
use doctalk_ingest::{chunk_document, parse_file, ChunkConfig, ParseOptions};
use sha2::{Digest, Sha256};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn embedder(data: &Path) -> Arc<dyn Embedder> {
    let models = std::env::var_os("DOCTALK_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or(repo_root().join(".models"));
    doctalk_models::load_default_embedder(Some(&models), data).unwrap()
}

struct Setup {
    _data: tempfile::TempDir,
    docs: tempfile::TempDir,
    kb: KnowledgeBase,
    folders: Arc<Folders>,
    root: PathBuf,
}

async fn setup() -> Setup {
    let data = tempfile::tempdir().unwrap();
    let docs = tempfile::tempdir().unwrap();
    let kb = KnowledgeBase::open(&data.path().join("kb"), embedder(data.path()))
        .await
        .unwrap();
    let folders = Arc::new(Folders::new(data.path().join("kb")));
    let root = std::fs::canonicalize(docs.path()).unwrap();
    folders.add(&root, vec![], vec![]).unwrap();
    Setup {
        _data: data,
        docs,
        kb,
        folders,
        root,
    }
}

fn sha256(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

/// What a fresh ingest of `root` gives: each supported file's content hash, and the chunks per
/// distinct content (identical files are one document).
fn fresh(root: &Path) -> (BTreeMap<String, String>, BTreeMap<String, usize>) {
    let (files, _) = doctalk_core::collect_files(&[root.to_path_buf()]);
    let mut paths = BTreeMap::new();
    let mut chunks = BTreeMap::new();
    for file in files {
        let Ok(doc) = parse_file(&file, &ParseOptions::default()) else {
            continue;
        };
        let n = chunk_document(&doc, &ChunkConfig::default()).len();
        if n == 0 {
            continue;
        }
        let hash = sha256(&file);
        paths.insert(file.to_string_lossy().into_owned(), hash.clone());
        chunks.insert(hash, n);
    }
    (paths, chunks)
}

/// Asserts that the index equals a fresh ingest of the folder.
async fn assert_matches_folder(s: &Setup) {
    let (want_paths, want_chunks) = fresh(&s.root);
    let docs = s.kb.documents().await.unwrap();
    let mut have_paths = BTreeMap::new();
    let mut have_chunks = BTreeMap::new();
    for doc in &docs {
        let hash = sha256_of_doc(doc, &want_paths);
        have_chunks.insert(hash.clone(), doc.chunks as usize);
        have_paths.insert(doc.path.clone(), hash.clone());
        for other in &doc.also_at {
            have_paths.insert(other.clone(), hash.clone());
        }
    }
    assert_eq!(have_paths, want_paths, "paths and their contents");
    assert_eq!(
        have_chunks, want_chunks,
        "one document per distinct content, same chunks"
    );
    assert_eq!(
        s.kb.chunk_count().await.unwrap(),
        want_chunks.values().sum::<usize>(),
        "no orphan or duplicate chunks"
    );
}

/// A document's content hash as the folder's file at its path has it now (the documents listing
/// does not show hashes; a stale document shows up as a mismatch in the path map).
fn sha256_of_doc(doc: &doctalk_core::DocumentInfo, want: &BTreeMap<String, String>) -> String {
    want.get(&doc.path)
        .cloned()
        .unwrap_or_else(|| format!("gone:{}", doc.path))
}

fn write(root: &Path, rel: &str, text: &str) -> PathBuf {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

/// Files written just now are left for a later pass (they may be half-written), so tests that
/// drive passes by hand wait out the settle time first.
async fn settle() {
    tokio::time::sleep(doctalk_core::folders::SETTLE + Duration::from_millis(100)).await;
}

const TRAVEL: &str = "# Travel policy\n\nHotel costs are refunded up to 500 yuan per night in Beijing.\n\nTrains: second class for trips under five hours.\n";
const LEAVE: &str = "# Annual leave\n\nEmployees get 15 days of annual leave after one year of service.\n";
const FAQ: &str = "question,answer\n如何下载滴滴APP,在应用商店搜索滴滴出行下载安装。\n如何登陆管理员后台,使用企业管理员账号登录 es.xiaojukeji.com。\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_follows_new_changed_renamed_copied_and_deleted_files() {
    let s = setup().await;
    let travel = write(&s.root, "travel.md", TRAVEL);
    write(&s.root, "hr/leave.md", LEAVE);
    write(&s.root, "faq.csv", FAQ);
    write(&s.root, "notes.bin", "not a document");
    settle().await;
    let r = s.folders.sync(&s.kb, &|_| {}).await.unwrap();
    assert_eq!((r.added, r.removed, r.queued), (3, 0, 0), "{r:?}");
    assert_matches_folder(&s).await;

    // Nothing changed: nothing is read.
    let r = s.folders.sync(&s.kb, &|_| {}).await.unwrap();
    assert_eq!((r.unchanged, r.files.len()), (3, 0), "{r:?}");

    // Changed content.
    std::fs::write(&travel, TRAVEL.replace("500 yuan", "600 yuan")).unwrap();
    settle().await;
    let r = s.folders.sync(&s.kb, &|_| {}).await.unwrap();
    assert_eq!(r.changed, 1, "{r:?}");
    assert_matches_folder(&s).await;
    let hit = &s.kb.search("hotel refund per night", 1).await.unwrap()[0];
    assert!(hit.text.contains("600 yuan"), "{}", hit.text);

    // Renamed: the same document moves, keeping its id and vectors (no re-embedding).
    let leave_doc =
        s.kb.find_document(&s.root.join("hr/leave.md").to_string_lossy())
            .await
            .unwrap()
            .unwrap();
    std::fs::rename(s.root.join("hr/leave.md"), s.root.join("hr/annual-leave.md")).unwrap();
    let r = s.folders.sync(&s.kb, &|_| {}).await.unwrap();
    assert_eq!((r.moved, r.added, r.removed), (1, 0, 0), "{r:?}");
    let moved =
        s.kb.find_document(&s.root.join("hr/annual-leave.md").to_string_lossy())
            .await
            .unwrap()
            .unwrap();
    assert_eq!(moved.id, leave_doc.id);
    assert_matches_folder(&s).await;

    // A copy: one document, two locations, both shown with the passage.
    std::fs::create_dir(s.root.join("copies")).unwrap();
    std::fs::copy(s.root.join("hr/annual-leave.md"), s.root.join("copies/leave.md")).unwrap();
    settle().await;
    let r = s.folders.sync(&s.kb, &|_| {}).await.unwrap();
    assert_eq!((r.duplicates, r.added), (1, 0), "{r:?}");
    assert_matches_folder(&s).await;
    let hit = &s.kb.search("how many days of annual leave", 1).await.unwrap()[0];
    let mut both = vec![hit.path.clone()];
    both.extend(hit.also_at.clone());
    both.sort();
    assert_eq!(
        both,
        vec![
            s.root.join("copies/leave.md").to_string_lossy().into_owned(),
            s.root.join("hr/annual-leave.md").to_string_lossy().into_owned(),
        ]
    );

    // Asking about the folder that holds only the copy finds the document.
    let scope =
        s.kb.resolve_scope(&doctalk_core::ScopeRequest {
            docs: vec![],
            folders: vec![s.root.join("copies").to_string_lossy().into_owned()],
        })
        .await
        .unwrap()
        .unwrap();
    assert!(scope.doc_ids.contains(&leave_doc.id));

    // The first copy goes: the document lives on at the other one.
    std::fs::remove_file(s.root.join("hr/annual-leave.md")).unwrap();
    let r = s.folders.sync(&s.kb, &|_| {}).await.unwrap();
    assert_eq!(r.removed, 1, "{r:?}");
    assert_matches_folder(&s).await;
    assert_eq!(
        s.kb.find_document(&s.root.join("copies/leave.md").to_string_lossy())
            .await
            .unwrap()
            .unwrap()
            .id,
        leave_doc.id
    );

    // Excluding a pattern takes its files out; deleting everything empties the index.
    s.folders.add(&s.root, vec![], vec!["*.csv".into()]).unwrap();
    let r = s.folders.sync(&s.kb, &|_| {}).await.unwrap();
    assert_eq!(r.removed, 1, "{r:?}");
    s.folders.add(&s.root, vec![], vec![]).unwrap();
    for entry in std::fs::read_dir(&s.root).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            std::fs::remove_dir_all(path).unwrap();
        } else {
            std::fs::remove_file(path).unwrap();
        }
    }
    s.folders.sync(&s.kb, &|_| {}).await.unwrap();
    assert!(s.kb.documents().await.unwrap().is_empty());
    assert_eq!(s.kb.chunk_count().await.unwrap(), 0);
    drop(s.docs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_out_of_the_folder_pipes_and_vanished_folders_are_never_followed_or_lost() {
    let s = setup().await;
    let outside = tempfile::tempdir().unwrap();
    let secret = write(
        outside.path(),
        "secret.md",
        "# Salaries\n\nThe CEO earns a lot.\n",
    );
    std::os::unix::fs::symlink(&secret, s.root.join("linked.md")).unwrap();
    std::os::unix::fs::symlink(outside.path(), s.root.join("linked-dir")).unwrap();
    let fifo = s.root.join("pipe.md");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    write(&s.root, "travel.md", TRAVEL);
    settle().await;

    let r = s.folders.sync(&s.kb, &|_| {}).await.unwrap();
    assert_eq!(r.added, 1, "only the real file: {r:?}");
    let skipped: BTreeSet<&str> = r.skipped.iter().map(|k| k.path.as_str()).collect();
    assert!(skipped.iter().any(|p| p.ends_with("linked.md")), "{skipped:?}");
    assert!(skipped.iter().any(|p| p.ends_with("linked-dir")), "{skipped:?}");
    assert!(s
        .kb
        .search("CEO salary", 3)
        .await
        .unwrap()
        .iter()
        .all(|h| !h.text.contains("CEO")));

    // A folder that disappears (an unplugged drive) keeps its documents until it comes back.
    let moved_away = s.root.with_extension("away");
    std::fs::rename(&s.root, &moved_away).unwrap();
    let r = s.folders.sync(&s.kb, &|_| {}).await.unwrap();
    assert_eq!((r.removed, r.unavailable.len()), (0, 1), "{r:?}");
    assert_eq!(s.kb.documents().await.unwrap().len(), 1);
    std::fs::rename(&moved_away, &s.root).unwrap();
    let status = s.folders.status().unwrap();
    assert_eq!((status[0].indexed, status[0].failed), (1, 0), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watcher_keeps_up_with_a_burst_of_500_files_and_a_slow_writer() {
    let s = setup().await;
    let _watcher = FolderWatcher::start(s.kb.clone(), s.folders.clone(), |r| match r {
        Ok(r) => eprintln!(
            "pass: +{} ~{} -{} ={} queued {} failed {} in {} ms",
            r.added, r.changed, r.removed, r.unchanged, r.queued, r.failed, r.elapsed_ms
        ),
        Err(e) => eprintln!("pass failed: {e}"),
    });
    // Let the first pass (empty folder) run and the notifications start.
    tokio::time::sleep(Duration::from_millis(500)).await;

    for i in 0..500 {
        write(
            &s.root,
            &format!("burst/{:02}/note-{i}.txt", i % 20),
            &format!(
                "Note {i}: meeting room {} is booked by team {} on day {}.\n",
                i % 37,
                i % 11,
                i
            ),
        );
    }
    // One file written slowly, over 3 s.
    let slow = s.root.join("slow.md");
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let mut f = std::fs::File::create(&slow).unwrap();
        for part in 0..6 {
            writeln!(
                f,
                "## Part {part}\n\nThe slow writer wrote part {part} of the report.\n"
            )
            .unwrap();
            f.flush().unwrap();
            std::thread::sleep(Duration::from_millis(500));
        }
    });
    writer.join().unwrap();

    let (want_paths, _) = fresh(&s.root);
    assert_eq!(want_paths.len(), 501);
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let status = s.folders.status().unwrap();
        let done = status[0].indexed == 501 && status[0].queued == 0;
        if done && s.kb.documents().await.unwrap().len() == 501 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the watcher did not catch up: {:?}",
            (status[0].indexed, status[0].queued, status[0].failed)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_matches_folder(&s).await;
    let hit = &s
        .kb
        .search("which part did the slow writer write last", 3)
        .await
        .unwrap();
    assert!(hit.iter().any(|h| h.path.ends_with("slow.md")), "{hit:?}");
    let slow_doc =
        s.kb.find_document(&s.root.join("slow.md").to_string_lossy())
            .await
            .unwrap()
            .unwrap();
    let text = s.kb.document_text(&slow_doc.id).await.unwrap().unwrap();
    assert!(
        text.contains("part 5 of the report"),
        "the whole file, not half of it: {text}"
    );

    // A deletion while watching.
    std::fs::remove_dir_all(s.root.join("burst/07")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while s.kb.documents().await.unwrap().len() != 476 {
        assert!(Instant::now() < deadline, "the deletion was not applied");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_matches_folder(&s).await;
}

#[test]
fn a_folder_inside_the_data_directory_or_a_file_cannot_be_watched() {
    let data = tempfile::tempdir().unwrap();
    let folders = Folders::new(data.path());
    std::fs::create_dir_all(data.path().join("inner")).unwrap();
    let err = folders
        .add(&data.path().join("inner"), vec![], vec![])
        .unwrap_err();
    assert!(err.to_string().contains("data directory"), "{err}");
    let file = data.path().join("x.md");
    std::fs::write(&file, "x").unwrap();
    let other = tempfile::tempdir().unwrap();
    let err = Folders::new(other.path().join("kb"))
        .add(&file, vec![], vec![])
        .unwrap_err();
    assert!(err.to_string().contains("not a folder"), "{err}");
    assert!(folders.list().unwrap().is_empty());
    let _ = WatchedFolder::new("/x".into(), vec![], vec![]).unwrap();
}
