//! Integration tests against a real LanceDB directory in a temp dir.

use std::path::Path;

use doctalk_store::{ChunkHit, NewChunk, NewDocument, Store, StoreError};

const DIM: usize = 8;
const MODEL: &str = "test-model";

/// A unit vector pointing mostly along axis `axis`, a little along `axis + 1`.
fn unit(axis: usize) -> Vec<f32> {
    let mut v = vec![0.0; DIM];
    v[axis % DIM] = 0.9;
    v[(axis + 1) % DIM] = (1.0f32 - 0.81).sqrt();
    v
}

fn doc(path: &str, model: &str) -> NewDocument {
    NewDocument {
        path: path.into(),
        title: format!("title of {path}"),
        format: "md".into(),
        content_hash: format!("hash-{path}"),
        size_bytes: 42,
        page_count: Some(3),
        embedding_model: model.into(),
        diagnostics_json: r#"[{"kind":"none"}]"#.into(),
    }
}

fn chunk(ordinal: u32, text: &str, vector: Vec<f32>) -> NewChunk {
    NewChunk {
        ordinal,
        kind: doctalk_store::ChunkKind::Passage,
        text: text.replace(' ', ""),
        text_segmented: text.into(),
        page: None,
        heading_path: vec![],
        span_start: 0,
        span_end: text.len() as u32,
        questions: vec![],
        answer: None,
        metadata_json: "{}".into(),
        engine: None,
        vector,
    }
}

async fn open(dir: &Path) -> Store {
    Store::open(dir).await.expect("open store")
}

fn texts(hits: &[ChunkHit]) -> Vec<&str> {
    hits.iter().map(|h| h.chunk.text_segmented.as_str()).collect()
}

/// The policy document used by several tests: Chinese and English chunks.
async fn commit_policy(store: &Store, path: &str) -> doctalk_store::DocumentRecord {
    store
        .commit_document(
            doc(path, MODEL),
            vec![
                chunk(0, "出差 制度 规定 差旅费 按 实 报销", unit(0)),
                chunk(1, "Annual leave policy for the staff", unit(2)),
                chunk(2, "expense reimbursement needs receipts", unit(4)),
            ],
        )
        .await
        .expect("commit")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_chunks_are_found_by_vector_and_text_search() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let record = commit_policy(&store, "/docs/policy.md").await;
    assert_eq!(record.chunk_count, 3);

    let dense = store.vector_search(&unit(2), MODEL, 3).await.unwrap();
    assert_eq!(dense.len(), 3);
    assert_eq!(dense[0].chunk.id, format!("{}:1", record.id));
    assert!((dense[0].score - 1.0).abs() < 1e-4, "{}", dense[0].score);
    assert!(dense[1].score < dense[0].score);

    let zh = store.text_search("出差 制度", 5).await.unwrap();
    assert_eq!(texts(&zh), ["出差 制度 规定 差旅费 按 实 报销"]);
    assert!(zh[0].score > 0.0);
    // Lowercased at index and query time.
    let en = store.text_search("LEAVE", 5).await.unwrap();
    assert_eq!(texts(&en), ["Annual leave policy for the staff"]);
    // Any token matches; the chunk with both tokens ranks first.
    let both = store.text_search("receipts policy expense", 5).await.unwrap();
    assert_eq!(
        texts(&both)[0],
        "expense reimbursement needs receipts",
        "{both:?}"
    );
    assert_eq!(both.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_text_tokens_are_whole_words_without_stemming_or_stop_words() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    commit_policy(&store, "/docs/policy.md").await;

    // A CJK token is kept whole: part of a word does not match.
    assert!(store.text_search("制", 5).await.unwrap().is_empty());
    // No stemming: "policies" does not find "policy".
    assert!(store.text_search("policies", 5).await.unwrap().is_empty());
    // No stop words: "the" is searchable.
    let the = store.text_search("the", 5).await.unwrap();
    assert_eq!(texts(&the), ["Annual leave policy for the staff"]);
    assert!(store.text_search("   ", 5).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committing_the_same_path_replaces_the_document_and_its_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let old = store
        .commit_document(
            doc("/docs/a.md", MODEL),
            vec![chunk(0, "alpha one", unit(0)), chunk(1, "alpha two", unit(1))],
        )
        .await
        .unwrap();
    let new = store
        .commit_document(doc("/docs/a.md", MODEL), vec![chunk(0, "beta", unit(0))])
        .await
        .unwrap();
    assert_ne!(old.id, new.id);

    let docs = store.list_documents().await.unwrap();
    assert_eq!(docs, vec![new.clone()]);
    assert_eq!(
        store.document_by_path("/docs/a.md").await.unwrap(),
        Some(new.clone())
    );
    assert_eq!(store.document(&old.id).await.unwrap(), None);
    assert!(store.text_search("alpha", 5).await.unwrap().is_empty());
    assert_eq!(texts(&store.text_search("beta", 5).await.unwrap()), ["beta"]);
    let dense = store.vector_search(&unit(0), MODEL, 5).await.unwrap();
    assert_eq!(dense.len(), 1);
    assert_eq!(dense[0].chunk.doc_id, new.id);
    assert_eq!(store.count_chunks().await.unwrap(), 1);
    assert!(store.chunks_of(&old.id).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_document_removes_its_row_and_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let keep = commit_policy(&store, "/docs/keep.md").await;
    let gone = store
        .commit_document(doc("/docs/gone.md", MODEL), vec![chunk(0, "ephemeral", unit(6))])
        .await
        .unwrap();

    assert!(store.remove_document(&gone.id).await.unwrap());
    assert!(!store.remove_document(&gone.id).await.unwrap());
    assert_eq!(store.list_documents().await.unwrap(), vec![keep]);
    assert!(store.text_search("ephemeral", 5).await.unwrap().is_empty());
    assert_eq!(store.count_chunks().await.unwrap(), 3);
    let dense = store.vector_search(&unit(6), MODEL, 10).await.unwrap();
    assert!(dense.iter().all(|h| h.chunk.doc_id != gone.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reopened_store_holds_the_same_data() {
    let dir = tempfile::tempdir().unwrap();
    let record = {
        let store = open(dir.path()).await;
        commit_policy(&store, "/docs/policy.md").await
    };
    let store = open(dir.path()).await;
    assert_eq!(store.list_documents().await.unwrap(), vec![record.clone()]);
    assert_eq!(store.vector_dim().await.unwrap(), Some(DIM));
    assert_eq!(store.count_chunks().await.unwrap(), 3);
    let zh = store.text_search("报销", 5).await.unwrap();
    assert_eq!(zh.len(), 1);
    assert_eq!(zh[0].chunk.doc_id, record.id);
    let dense = store.vector_search(&unit(4), MODEL, 1).await.unwrap();
    assert_eq!(dense[0].chunk.id, format!("{}:2", record.id));
}

/// Simulates an ingest killed after its chunks were appended but before its
/// document row was written: the row is deleted behind the store's back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunks_without_a_document_row_are_invisible_and_deleted_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let kept = commit_policy(&store, "/docs/kept.md").await;
    let orphan = store
        .commit_document(
            doc("/docs/orphan.md", MODEL),
            vec![
                chunk(0, "orphaned 出差", unit(0)),
                chunk(1, "orphaned two", unit(0)),
            ],
        )
        .await
        .unwrap();

    let db = lancedb::connect(dir.path().to_str().unwrap())
        .execute()
        .await
        .unwrap();
    let documents = db.open_table("documents").execute().await.unwrap();
    documents
        .delete(format!("id = '{}'", orphan.id).as_str())
        .await
        .unwrap();

    // Before recovery: stored, but never returned.
    assert_eq!(store.count_chunks().await.unwrap(), 5);
    assert!(store.text_search("orphaned", 5).await.unwrap().is_empty());
    let zh = store.text_search("出差", 5).await.unwrap();
    assert!(zh.iter().all(|h| h.chunk.doc_id == kept.id), "{zh:?}");
    // k = 1 with the two nearest chunks orphaned: the window widens.
    let dense = store.vector_search(&unit(0), MODEL, 1).await.unwrap();
    assert_eq!(dense.len(), 1);
    assert_eq!(dense[0].chunk.doc_id, kept.id);
    assert!(store.chunks_of(&orphan.id).await.unwrap().is_empty());

    drop(store);
    let store = open(dir.path()).await;
    assert_eq!(store.count_chunks().await.unwrap(), 3);
    assert_eq!(store.list_documents().await.unwrap(), vec![kept]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vector_search_only_returns_chunks_of_the_given_model() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let old = store
        .commit_document(doc("/docs/old.md", "model-a"), vec![chunk(0, "old", unit(0))])
        .await
        .unwrap();
    let new = store
        .commit_document(doc("/docs/new.md", "model-b"), vec![chunk(0, "new", unit(0))])
        .await
        .unwrap();

    let a = store.vector_search(&unit(0), "model-a", 5).await.unwrap();
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].chunk.doc_id, old.id);
    assert_eq!(a[0].chunk.embedding_model, "model-a");
    let b = store.vector_search(&unit(0), "model-b", 5).await.unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].chunk.doc_id, new.id);
    assert!(store
        .vector_search(&unit(0), "model-c", 5)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.embedding_models().await.unwrap(), ["model-a", "model-b"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_dimension_is_a_typed_error_until_the_index_is_reset() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let first = commit_policy(&store, "/docs/policy.md").await;

    let err = store
        .commit_document(
            doc("/docs/small.md", MODEL),
            vec![chunk(0, "small", vec![1.0; 4])],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::DimensionMismatch { expected: 8, got: 4 }),
        "{err:?}"
    );
    // The failed commit left nothing visible.
    assert!(store.document_by_path("/docs/small.md").await.unwrap().is_none());
    let err = store.vector_search(&[1.0; 4], MODEL, 5).await.unwrap_err();
    assert!(matches!(
        err,
        StoreError::DimensionMismatch { expected: 8, got: 4 }
    ));

    let removed = store.reset_index().await.unwrap();
    assert_eq!(removed, vec![first]);
    assert!(store.list_documents().await.unwrap().is_empty());
    assert_eq!(store.vector_dim().await.unwrap(), None);
    store
        .commit_document(
            doc("/docs/small.md", MODEL),
            vec![chunk(0, "small", vec![0.5; 4])],
        )
        .await
        .unwrap();
    assert_eq!(store.vector_dim().await.unwrap(), Some(4));
    assert_eq!(store.vector_search(&[0.5; 4], MODEL, 5).await.unwrap().len(), 1);
    assert_eq!(texts(&store.text_search("small", 5).await.unwrap()), ["small"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_chunk_sets_are_rejected_before_any_write() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let mixed = vec![chunk(0, "a", unit(0)), chunk(1, "b", vec![1.0; 3])];
    let err = store
        .commit_document(doc("/m.md", MODEL), mixed)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::DimensionMismatch { expected: 8, got: 3 }
    ));
    let twice = vec![chunk(0, "a", unit(0)), chunk(0, "b", unit(1))];
    let err = store
        .commit_document(doc("/m.md", MODEL), twice)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::DuplicateOrdinal { ordinal: 0, .. }));
    let empty = vec![chunk(0, "a", vec![])];
    let err = store
        .commit_document(doc("/m.md", MODEL), empty)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::EmptyVector));
    assert_eq!(store.count_chunks().await.unwrap(), 0);
    assert!(store.list_documents().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_return_at_most_k_best_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let chunks = (0..30u32)
        .map(|i| chunk(i, &format!("common word{i}"), unit(i as usize)))
        .collect();
    store
        .commit_document(doc("/many.md", MODEL), chunks)
        .await
        .unwrap();

    for k in [1, 5, 30] {
        let dense = store.vector_search(&unit(3), MODEL, k).await.unwrap();
        assert_eq!(dense.len(), k);
        assert!(dense.windows(2).all(|w| w[0].score >= w[1].score));
        let text = store.text_search("common", k).await.unwrap();
        assert_eq!(text.len(), k);
        assert!(text.windows(2).all(|w| w[0].score >= w[1].score));
    }
    assert_eq!(store.vector_search(&unit(3), MODEL, 100).await.unwrap().len(), 30);
    assert!(store.vector_search(&unit(3), MODEL, 0).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_chunk_field_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let qa = NewChunk {
        ordinal: 7,
        kind: doctalk_store::ChunkKind::Qa,
        text: "Q: 怎么报销？ A: 填表。".into(),
        text_segmented: "怎么 报销 填表".into(),
        page: Some(12),
        heading_path: vec!["财务".into(), "报销 流程".into()],
        span_start: 100,
        span_end: 180,
        questions: vec!["怎么报销？".into(), "How do I claim expenses?".into()],
        answer: Some("填表。".into()),
        metadata_json: r#"{"sheet":"FAQ","row":3}"#.into(),
        engine: Some("pdf_oxide".into()),
        vector: unit(5),
    };
    let passage = chunk(2, "plain passage", unit(1));
    let record = store
        .commit_document(doc("/faq.xlsx", MODEL), vec![qa.clone(), passage.clone()])
        .await
        .unwrap();

    let stored = store.chunks_of(&record.id).await.unwrap();
    assert_eq!(stored.len(), 2);
    for (got, want) in stored.iter().zip([&passage, &qa]) {
        assert_eq!(got.id, format!("{}:{}", record.id, want.ordinal));
        assert_eq!(got.doc_id, record.id);
        assert_eq!(got.ordinal, want.ordinal);
        assert_eq!(got.kind, want.kind);
        assert_eq!(got.text, want.text);
        assert_eq!(got.text_segmented, want.text_segmented);
        assert_eq!(got.page, want.page);
        assert_eq!(got.heading_path, want.heading_path);
        assert_eq!(got.span_start, want.span_start);
        assert_eq!(got.span_end, want.span_end);
        assert_eq!(got.questions, want.questions);
        assert_eq!(got.answer, want.answer);
        assert_eq!(got.metadata_json, want.metadata_json);
        assert_eq!(got.engine, want.engine);
        assert_eq!(got.vector, want.vector);
        assert_eq!(got.embedding_model, MODEL);
    }
    let docs = store.list_documents().await.unwrap();
    assert_eq!(docs[0].page_count, Some(3));
    assert_eq!(docs[0].diagnostics_json, r#"[{"kind":"none"}]"#);
    assert_eq!(docs[0].size_bytes, 42);
    assert!(docs[0].ingested_at_ms > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_without_chunks_is_listed_but_never_found() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let record = store
        .commit_document(doc("/empty.pdf", MODEL), vec![])
        .await
        .unwrap();
    assert_eq!(record.chunk_count, 0);
    assert_eq!(store.list_documents().await.unwrap(), vec![record]);
    assert_eq!(store.vector_dim().await.unwrap(), None);
    assert!(store.text_search("anything", 5).await.unwrap().is_empty());
    assert!(store.vector_search(&unit(0), MODEL, 5).await.unwrap().is_empty());
}

/// Enough rows to make the store fold appended rows into the full-text index
/// (and then replace an indexed document), so both indexed and unindexed rows
/// are searched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_text_search_stays_current_across_index_updates() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    for d in 0..3u32 {
        let chunks = (0..1000u32)
            .map(|c| chunk(c, &format!("doc{d} item{d}x{c}"), unit(c as usize)))
            .collect();
        store
            .commit_document(doc(&format!("/big{d}.md"), MODEL), chunks)
            .await
            .unwrap();
    }
    for d in 0..3u32 {
        let hits = store.text_search(&format!("item{d}x999"), 5).await.unwrap();
        assert_eq!(texts(&hits), [format!("doc{d} item{d}x999").as_str()]);
        assert_eq!(
            store.text_search(&format!("doc{d}"), 2000).await.unwrap().len(),
            1000
        );
    }
    store
        .commit_document(doc("/big0.md", MODEL), vec![chunk(0, "replacement", unit(0))])
        .await
        .unwrap();
    assert!(store.text_search("item0x5", 5).await.unwrap().is_empty());
    assert_eq!(store.text_search("replacement", 5).await.unwrap().len(), 1);
    assert_eq!(store.count_chunks().await.unwrap(), 2001);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_document_keeps_its_chunks_and_is_found_at_its_new_path() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let committed = commit_policy(&store, "/docs/old.md").await;
    let chunks_before = store.chunks_of(&committed.id).await.unwrap();

    let moved = store
        .relocate_document(&committed.id, "/docs/new.md")
        .await
        .unwrap()
        .expect("the document exists");
    assert_eq!(moved.path, "/docs/new.md");
    assert_eq!(
        moved.id, committed.id,
        "a move keeps the id, so citations stay valid"
    );
    assert!(store.document_by_path("/docs/old.md").await.unwrap().is_none());
    assert_eq!(store.chunks_of(&committed.id).await.unwrap(), chunks_before);
    assert_eq!(
        store.vector_search(&unit(0), MODEL, 1).await.unwrap()[0]
            .chunk
            .doc_id,
        committed.id
    );

    // Moving onto another document's path is refused and changes nothing.
    let other = commit_policy(&store, "/docs/other.md").await;
    let err = store
        .relocate_document(&committed.id, "/docs/other.md")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::PathTaken { .. }), "{err}");
    assert_eq!(
        store.document(&other.id).await.unwrap().unwrap().path,
        "/docs/other.md"
    );
    assert!(store
        .relocate_document("no-such-id", "/x")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_locations_belong_to_committed_documents_and_go_with_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let committed = commit_policy(&store, "/docs/a.md").await;
    assert_eq!(
        store.documents_with_hash(&committed.content_hash).await.unwrap(),
        vec![committed.clone()]
    );

    assert!(store
        .add_location("/docs/copy-of-a.md", &committed.id)
        .await
        .unwrap());
    assert!(!store.add_location("/docs/x.md", "no-such-id").await.unwrap());
    let locations = store.locations().await.unwrap();
    assert_eq!(locations.len(), 1);
    assert_eq!(locations[0].path, "/docs/copy-of-a.md");
    assert_eq!(
        store
            .locations_of(std::slice::from_ref(&committed.id))
            .await
            .unwrap(),
        locations
    );

    // The extra location takes over when the first path goes: the move removes its row.
    store
        .relocate_document(&committed.id, "/docs/copy-of-a.md")
        .await
        .unwrap();
    assert!(store.locations().await.unwrap().is_empty());

    store.add_location("/docs/third.md", &committed.id).await.unwrap();
    assert!(store.remove_location("/docs/third.md").await.unwrap());
    assert!(!store.remove_location("/docs/third.md").await.unwrap());

    // Removing the document removes its locations, and they survive a reopen until then.
    store
        .add_location("/docs/fourth.md", &committed.id)
        .await
        .unwrap();
    drop(store);
    let store = open(dir.path()).await;
    assert_eq!(store.locations().await.unwrap().len(), 1);
    store.remove_document(&committed.id).await.unwrap();
    assert!(store.locations().await.unwrap().is_empty());
}

/// Two writers of one directory as two processes are (separate handles: no shared in-process
/// lock): one commits documents while the other keeps opening the store, which runs recovery,
/// and commits its own. Without the cross-process write lock, an open that lands between a
/// commit's chunk append and its row upsert deletes the new chunks as orphans, leaving visible
/// documents with no chunks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_writers_of_one_directory_never_lose_each_others_chunks() {
    let dir = tempfile::tempdir().unwrap();
    open(dir.path()).await;
    let first = {
        let dir = dir.path().to_path_buf();
        tokio::spawn(async move {
            let store = open(&dir).await;
            for i in 0..12 {
                store
                    .commit_document(
                        doc(&format!("/a/{i}.md"), MODEL),
                        vec![
                            chunk(0, "first writer one", unit(i)),
                            chunk(1, "first writer two", unit(i + 1)),
                        ],
                    )
                    .await
                    .unwrap();
            }
        })
    };
    let second = {
        let dir = dir.path().to_path_buf();
        tokio::spawn(async move {
            for i in 0..12 {
                // A fresh handle each time: its open runs recovery, as a new process's would.
                let store = open(&dir).await;
                store
                    .commit_document(
                        doc(&format!("/b/{i}.md"), MODEL),
                        vec![chunk(0, "second writer", unit(i))],
                    )
                    .await
                    .unwrap();
            }
        })
    };
    first.await.unwrap();
    second.await.unwrap();
    let store = open(dir.path()).await;
    let documents = store.list_documents().await.unwrap();
    assert_eq!(documents.len(), 24);
    for d in &documents {
        let expected = if d.path.starts_with("/a/") { 2 } else { 1 };
        assert_eq!(
            store.chunks_of(&d.id).await.unwrap().len(),
            expected,
            "{}",
            d.path
        );
    }
    assert_eq!(store.count_chunks().await.unwrap(), 36);
    assert!(dir.path().join(".doctalk-write.lock").is_file());
}

/// Ingest tidies the chunks table only once commits have left more than a few fragments: one
/// upload at a time must not build a new full-text index version per upload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tidying_waits_until_commits_have_left_enough_fragments() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    for i in 0..10 {
        store
            .commit_document(
                doc(&format!("/u/{i}.md"), MODEL),
                vec![chunk(0, "one upload", unit(i))],
            )
            .await
            .unwrap();
        assert!(
            !store.optimize_if_due().await.unwrap(),
            "tidied after {} commits",
            i + 1
        );
    }
    let mut tidied = 0;
    for i in 10..40 {
        store
            .commit_document(
                doc(&format!("/u/{i}.md"), MODEL),
                vec![chunk(0, "one upload", unit(i))],
            )
            .await
            .unwrap();
        tidied += usize::from(store.optimize_if_due().await.unwrap());
    }
    assert!((1..=3).contains(&tidied), "tidied {tidied} times in 30 commits");
    assert_eq!(store.text_search("upload", 50).await.unwrap().len(), 40);
}
