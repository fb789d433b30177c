//! The ANN index on a real LanceDB directory: built past the threshold, kept current, and
//! agreeing with the exact scan at the recall floor. The vectors are synthetic (clusters, as
//! sentence embeddings form), so the exact neighbours can be computed here independently.

use doctalk_store::{NewChunk, NewDocument, Store, VectorIndexStatus};

const DIM: usize = 64;
const MODEL: &str = "test-model";
const PER_DOC: usize = 1_000;
const K: usize = 10;

mod support {
    pub mod rng;
}

use support::rng::{normalised, Rng};

/// A point near one of `centres`.
fn near(rng: &mut Rng, centres: &[Vec<f32>], spread: f32) -> Vec<f32> {
    let c = &centres[(rng.next() % centres.len() as u64) as usize];
    normalised(c.iter().map(|x| x + spread * rng.signed()).collect())
}

fn doc(i: usize) -> NewDocument {
    NewDocument {
        path: format!("/docs/{i}.md"),
        title: format!("document {i}"),
        format: "md".into(),
        content_hash: format!("hash-{i}"),
        size_bytes: 42,
        page_count: None,
        embedding_model: MODEL.into(),
        diagnostics_json: "[]".into(),
    }
}

fn chunk(ordinal: usize, vector: Vec<f32>) -> NewChunk {
    NewChunk {
        ordinal: ordinal as u32,
        kind: doctalk_store::ChunkKind::Passage,
        text: format!("chunk {ordinal}"),
        text_segmented: format!("chunk c{ordinal}"),
        page: None,
        heading_path: vec![],
        span_start: 0,
        span_end: 1,
        questions: vec![],
        answer: None,
        metadata_json: "{}".into(),
        engine: None,
        vector,
    }
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_threshold_dense_search_uses_the_ann_index_at_the_recall_floor() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).await.expect("open");
    store.set_ann_min_rows(3 * PER_DOC);
    let mut rng = Rng(7);
    let centres: Vec<Vec<f32>> = (0..40).map(|_| rng.unit_vector(DIM)).collect();
    // (document, ordinal, vector) of every chunk, to compute the exact neighbours here.
    let mut all: Vec<(String, u32, Vec<f32>)> = Vec::new();
    for d in 0..4 {
        let chunks: Vec<NewChunk> = (0..PER_DOC)
            .map(|i| chunk(i, near(&mut rng, &centres, 0.35)))
            .collect();
        let record = store
            .commit_document(doc(d), chunks.clone())
            .await
            .expect("commit");
        all.extend(
            chunks
                .into_iter()
                .map(|c| (record.id.clone(), c.ordinal, c.vector)),
        );
        let status = store.vector_index_status().await.expect("status");
        let plan = store
            .vector_search_plan(&all[0].2, MODEL)
            .await
            .expect("plan")
            .expect("a chunks table");
        assert_eq!(plan.contains("ANN"), d >= 2, "after document {d}: {plan}");
        match d {
            // Below the threshold: no index, every search scans.
            0 | 1 => assert_eq!(status, None),
            // Built by the commit that reached it.
            2 => assert_eq!(
                status,
                Some(VectorIndexStatus {
                    indexed_rows: 3 * PER_DOC,
                    unindexed_rows: 0
                })
            ),
            // Rows committed after it are scanned until enough accumulate.
            _ => assert_eq!(
                status,
                Some(VectorIndexStatus {
                    indexed_rows: 3 * PER_DOC,
                    unindexed_rows: PER_DOC
                })
            ),
        }
    }

    let queries: Vec<Vec<f32>> = (0..50).map(|_| near(&mut rng, &centres, 0.35)).collect();
    let mut found = 0;
    for q in &queries {
        let mut exact: Vec<(f32, (String, u32))> = all
            .iter()
            .map(|(doc, ordinal, v)| (cosine(q, v), (doc.clone(), *ordinal)))
            .collect();
        exact.sort_by(|a, b| b.0.total_cmp(&a.0));
        let exact: Vec<(String, u32)> = exact.into_iter().take(K).map(|(_, id)| id).collect();
        let hits = store.vector_search(q, MODEL, K).await.expect("search");
        assert_eq!(hits.len(), K);
        found += hits
            .iter()
            .filter(|h| exact.contains(&(h.chunk.doc_id.clone(), h.chunk.ordinal)))
            .count();
        // Scores stay cosine similarities, best first.
        assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
    }
    let recall = found as f64 / (queries.len() * K) as f64;
    eprintln!("recall@{K} against the exact scan: {recall:.3}");
    assert!(recall >= 0.95, "recall@{K} {recall:.3} against the exact scan");

    // Reopened, the index is still there and used.
    drop(store);
    let store = Store::open(dir.path()).await.expect("reopen");
    assert!(store.vector_index_status().await.expect("status").is_some());
    assert_eq!(
        store
            .vector_search(&queries[0], MODEL, K)
            .await
            .expect("search")
            .len(),
        K
    );
}
