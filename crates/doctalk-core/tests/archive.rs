//! Export → import on another data directory with the real encoder and real LanceDB directories:
//! the same search results for 50 questions, the watched folders, settings and conversations
//! carried along; damaged, cut-short and newer archives are refused and leave nothing behind; an
//! archive of the first format still imports.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use doctalk_core::archive::{adopt_settings, extras, import_archive, read_header, ArchiveExtras};
use doctalk_core::folders::Folders;
use doctalk_core::settings::Settings;
use doctalk_core::{AnswerRequest, ConversationStore, KnowledgeBase};
use sha2::Digest;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn embedder(data: &Path) -> std::sync::Arc<dyn doctalk_core::Embedder> {
    let models = std::env::var_os("DOCTALK_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or(repo_root().join(".models"));
    doctalk_models::load_default_embedder(Some(&models), data).unwrap()
}

/// The first 50 questions of the labelled set.
fn questions() -> Vec<String> {
    std::fs::read_to_string(repo_root().join("examples/eval/answers.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["q"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .take(50)
        .collect()
}

fn gunzip(path: &Path) -> String {
    let mut s = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    s
}

fn gzip(path: &Path, text: &str) {
    let mut w =
        flate2::write::GzEncoder::new(std::fs::File::create(path).unwrap(), flate2::Compression::fast());
    w.write_all(text.as_bytes()).unwrap();
    w.finish().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imported_knowledge_base_answers_searches_as_the_exported_one() {
    let here = tempfile::tempdir().unwrap();
    let docs = tempfile::tempdir().unwrap();
    for name in ["faq.csv", "it-security-policy.pdf", "员工手册.pdf"] {
        std::fs::copy(
            repo_root().join("examples/sample-kb").join(name),
            docs.path().join(name),
        )
        .unwrap();
    }
    std::fs::copy(docs.path().join("faq.csv"), docs.path().join("faq-copy.csv")).unwrap();
    let source = KnowledgeBase::open(&here.path().join("kb/default"), embedder(here.path()))
        .await
        .unwrap();
    source
        .ingest(&[docs.path().to_path_buf()], &|_| {})
        .await
        .unwrap();
    // Ingest leaves a few commits' rows outside the full-text index until they add up (see
    // `Store::optimize_if_due`); BM25 scores those rows with slightly different statistics. The
    // import builds a fully indexed table, so the source is tidied too for scores to compare.
    source.tidy().await.unwrap();
    // What travels beside the index: a watched folder, the user's settings, one conversation.
    let kb_dir = here.path().join("kb/default");
    let folders = Folders::new(&kb_dir);
    folders
        .add(docs.path(), vec![], vec!["drafts/**".into()])
        .unwrap();
    let settings = Settings {
        language: doctalk_core::settings::LanguagePref::Zh,
        script: doctalk_core::settings::ScriptPref::Traditional,
        ..Settings::default()
    };
    settings.save(here.path()).unwrap();
    let conversations = ConversationStore::new(kb_dir.join("conversations"));
    let mut conversation = conversations.create();
    let answer = source
        .answer(AnswerRequest::new("如何下载滴滴APP"), std::sync::Arc::new(|_| {}))
        .await
        .unwrap();
    conversation.push("如何下载滴滴APP", &answer);
    conversations.save(&conversation).unwrap();
    let without = extras(&folders, None, here.path()).unwrap();
    assert!(without.conversations.is_empty(), "conversations only when asked");
    let with = extras(&folders, Some(&conversations), here.path()).unwrap();
    assert_eq!(with.conversations, vec![conversation.clone()]);

    let archive = here.path().join("backup.dtkb");
    let header = source
        .export_archive("default", &archive, &with, &|_, _| {})
        .await
        .unwrap();
    assert_eq!(header.documents, 3);
    assert_eq!(header.conversations, 1);
    assert_eq!(read_header(&archive).unwrap(), header);

    // Another machine: another data directory.
    let there = tempfile::tempdir().unwrap();
    let dest = there.path().join("kb/work");
    let report = import_archive(&archive, &dest, embedder(there.path()), &|_, _| {})
        .await
        .unwrap();
    assert_eq!(
        (report.documents, report.chunks, report.reembedded),
        (3, header.chunks, false)
    );
    assert_eq!((report.folders, report.conversations), (1, 1));
    assert_eq!(Folders::new(&dest).list().unwrap(), with.folders);
    assert_eq!(
        ConversationStore::new(dest.join("conversations")).list().unwrap(),
        vec![conversation]
    );
    // A machine without settings of its own adopts the archive's; one with its own keeps them.
    assert!(adopt_settings(&report, there.path()).unwrap());
    assert_eq!(Settings::load(there.path()).unwrap(), settings);
    let mine = tempfile::tempdir().unwrap();
    let own = Settings {
        language: doctalk_core::settings::LanguagePref::En,
        ..Settings::default()
    };
    own.save(mine.path()).unwrap();
    assert!(!adopt_settings(&report, mine.path()).unwrap());
    assert_eq!(Settings::load(mine.path()).unwrap(), own);

    let imported = KnowledgeBase::open(&dest, embedder(there.path())).await.unwrap();
    let copies: Vec<String> = imported
        .documents()
        .await
        .unwrap()
        .into_iter()
        .flat_map(|d| d.also_at)
        .collect();
    assert_eq!(
        copies.len(),
        1,
        "the copy of faq.csv is still a location: {copies:?}"
    );

    let qs = questions();
    assert_eq!(qs.len(), 50);
    for q in &qs {
        let key = |hits: Vec<doctalk_core::SearchHit>| -> Vec<(String, String, i64)> {
            hits.into_iter()
                .map(|h| {
                    let ordinal = h.chunk_id.rsplit(':').next().unwrap().to_string();
                    (h.path, ordinal, (h.fused_score * 1e5).round() as i64)
                })
                .collect()
        };
        assert_eq!(
            key(imported.search(q, 5).await.unwrap()),
            key(source.search(q, 5).await.unwrap()),
            "{q}"
        );
    }

    // Importing over an existing knowledge base is refused and changes nothing.
    let err = import_archive(&archive, &dest, embedder(there.path()), &|_, _| {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already holds"), "{err}");
    assert_eq!(imported.documents().await.unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_cut_short_and_newer_archives_are_refused_and_leave_nothing() {
    let here = tempfile::tempdir().unwrap();
    let source = KnowledgeBase::open(&here.path().join("kb/default"), embedder(here.path()))
        .await
        .unwrap();
    source
        .ingest(&[repo_root().join("examples/sample-kb/faq.csv")], &|_| {})
        .await
        .unwrap();
    let archive = here.path().join("a.dtkb");
    source
        .export_archive("default", &archive, &ArchiveExtras::default(), &|_, _| {})
        .await
        .unwrap();
    let text = gunzip(&archive);

    let there = tempfile::tempdir().unwrap();
    let kb_root = there.path().join("kb");
    let attempt = |file: PathBuf| {
        let dest = kb_root.join("x");
        let e = embedder(there.path());
        async move { import_archive(&file, &dest, e, &|_, _| {}).await }
    };
    let nothing_left = || {
        let left: Vec<_> = std::fs::read_dir(&kb_root)
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "left behind: {left:?}");
    };

    // Cut short: the copy stopped half-way.
    let bytes = std::fs::read(&archive).unwrap();
    let cut = here.path().join("cut.dtkb");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let err = attempt(cut).await.unwrap_err().to_string();
    assert!(err.contains("cut short") || err.contains("damaged"), "{err}");
    nothing_left();

    // Whole lines, but the end mark is gone.
    let no_end = here.path().join("no-end.dtkb");
    let without_end: String = text
        .lines()
        .filter(|l| !l.starts_with("{\"end\""))
        .map(|l| format!("{l}\n"))
        .collect();
    gzip(&no_end, &without_end);
    let err = attempt(no_end).await.unwrap_err().to_string();
    assert!(err.contains("end mark is missing"), "{err}");
    nothing_left();

    // One answer changed after export: the checksum no longer matches.
    let altered = here.path().join("altered.dtkb");
    gzip(&altered, &text.replacen("500元", "5000元", 1));
    assert_ne!(gunzip(&altered), text, "the test must change something");
    let err = attempt(altered).await.unwrap_err().to_string();
    assert!(err.contains("checksum"), "{err}");
    nothing_left();

    // From a newer DocTalk.
    let newer = here.path().join("newer.dtkb");
    gzip(&newer, &text.replacen("\"version\":2", "\"version\":99", 1));
    let err = attempt(newer).await.unwrap_err().to_string();
    assert!(err.contains("newer DocTalk"), "{err}");
    nothing_left();

    // Not an archive at all.
    let other = here.path().join("notes.txt");
    std::fs::write(&other, "hello").unwrap();
    assert!(attempt(other).await.is_err());
    nothing_left();

    // An archive of the first format (no settings line) still imports, its checksum recomputed
    // as the first DocTalk wrote it.
    let v1_lines: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with("{\"end\"") && !l.starts_with("{\"settings\""))
        .map(|l| l.replacen("\"version\":2", "\"version\":1", 1))
        .collect();
    let mut hash = sha2::Sha256::new();
    for l in &v1_lines {
        hash.update(format!("{l}\n").as_bytes());
    }
    let end = serde_json::json!({"end": {"sha256": hex::encode(hash.finalize()), "lines": v1_lines.len()}});
    let v1 = here.path().join("v1.dtkb");
    gzip(&v1, &format!("{}\n{end}\n", v1_lines.join("\n")));
    let report = attempt(v1).await.unwrap();
    assert_eq!(
        (report.header.version, report.documents, report.folders),
        (1, 1, 0)
    );
}
