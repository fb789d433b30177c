//! Retrieval quality on the labelled set in examples/eval/retrieval.jsonl (paraphrased zh and
//! en questions → the FAQ entry or handbook page that answers them), over the sample knowledge
//! base, with the real default embedder. The floors fail the build when retrieval regresses.

use std::path::{Path, PathBuf};

use doctalk_core::{KnowledgeBase, SearchHit};

/// Measured when this test was written (see ARCHITECTURE.md, "Retrieval quality"), minus a
/// small margin for harmless ranking noise.
const RECALL_AT_5_FLOOR: f64 = 0.80;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

struct Labelled {
    lang: String,
    question: String,
    relevant: Vec<serde_json::Value>,
}

fn load_set() -> Vec<Labelled> {
    let text = std::fs::read_to_string(repo_root().join("examples/eval/retrieval.jsonl")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            Labelled {
                lang: v["lang"].as_str().unwrap().to_string(),
                question: v["question"].as_str().unwrap().to_string(),
                relevant: v["relevant"].as_array().cloned().unwrap_or_default(),
            }
        })
        .collect()
}

fn is_relevant(hit: &SearchHit, rel: &serde_json::Value) -> bool {
    let file = rel["file"].as_str().unwrap();
    if !hit.path.ends_with(file) {
        return false;
    }
    if let Some(q) = rel["question"].as_str() {
        return hit.questions.first().map(String::as_str) == Some(q);
    }
    if let Some(page) = rel["page"].as_u64() {
        return hit.page == Some(page as u32);
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recall_at_5_on_the_labelled_set() {
    let data = tempfile::tempdir().unwrap();
    let models = std::env::var_os("DOCTALK_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or(repo_root().join(".models"));
    let embedder = doctalk_models::load_default_embedder(Some(&models), data.path()).unwrap();
    let kb = KnowledgeBase::open(data.path(), embedder).await.unwrap();
    let reports = kb
        .ingest(&[repo_root().join("examples/sample-kb")], &|_| {})
        .await
        .unwrap();
    assert!(
        reports
            .iter()
            .all(|r| r.status == doctalk_core::FileStatus::Indexed),
        "{reports:?}"
    );

    let set = load_set();
    let mut per_lang: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    let mut misses = Vec::new();
    for item in set.iter().filter(|i| !i.relevant.is_empty()) {
        let hits = kb.search(&item.question, 5).await.unwrap();
        let found = hits
            .iter()
            .any(|h| item.relevant.iter().any(|r| is_relevant(h, r)));
        let entry = per_lang.entry(item.lang.clone()).or_default();
        entry.1 += 1;
        if found {
            entry.0 += 1;
        } else {
            misses.push(item.question.clone());
        }
    }
    let (hit, total) = per_lang.values().fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    assert!(total >= 40, "the labelled set shrank: {total}");
    let recall = hit as f64 / total as f64;
    eprintln!("recall@5 = {recall:.3} ({hit}/{total}); per language: {per_lang:?}; misses: {misses:#?}");
    assert!(
        recall >= RECALL_AT_5_FLOOR,
        "recall@5 {recall:.3} fell below {RECALL_AT_5_FLOOR}; misses: {misses:#?}"
    );
}
