//! `doctalk bench retrieval` on the small BEIR folder made from the sample FAQ
//! (examples/eval/beir_from_faq.py: paraphrased questions → their FAQ answer).

use crate::harness::{repo_root, stderr, Doctalk};

#[test]
fn bench_retrieval_reports_every_metric_for_every_component() {
    let dt = Doctalk::new();
    let dataset = repo_root().join("examples/eval/beir-faq");
    let out = dt.json(&[
        "bench",
        "retrieval",
        "--dataset",
        dataset.to_str().unwrap(),
        "--json",
    ]);
    for component in ["dense", "bm25", "hybrid"] {
        for metric in ["recall@1", "recall@5", "recall@10", "ndcg@10"] {
            let v = out[component][metric]
                .as_f64()
                .unwrap_or_else(|| panic!("{component} {metric}: {out}"));
            assert!((0.0..=1.0).contains(&v), "{component} {metric} = {v}");
        }
        let m = &out[component];
        assert!(
            m["recall@1"].as_f64() <= m["recall@5"].as_f64()
                && m["recall@5"].as_f64() <= m["recall@10"].as_f64()
        );
    }
    assert_eq!(out["run"]["queries"], 102);
    assert_eq!(out["run"]["corpus"], 51);
    assert_eq!(out["run"]["encoder"], "intfloat/multilingual-e5-small");
    // Measured 1.000 / 0.971: paraphrases of Chinese FAQ questions are easy for e5, which a
    // broken id mapping or an English-only encoder would not be.
    assert!(out["dense"]["recall@10"].as_f64().unwrap() >= 0.9, "{out}");
    assert!(out["hybrid"]["recall@10"].as_f64().unwrap() >= 0.9, "{out}");
}

#[test]
fn a_malformed_dataset_names_the_file() {
    let dt = Doctalk::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("corpus.jsonl"),
        "{\"_id\": \"d1\", \"text\": \"hello\"}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("queries.jsonl"),
        "{\"_id\": \"q1\", \"text\": \"hi\"}\nnot json\n",
    )
    .unwrap();
    let out = dt.run(&["bench", "retrieval", "--dataset", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("test.tsv"), "{}", stderr(&out));

    std::fs::create_dir(dir.path().join("qrels")).unwrap();
    std::fs::write(
        dir.path().join("qrels/test.tsv"),
        "query-id\tcorpus-id\tscore\nq1\td1\t1\n",
    )
    .unwrap();
    let out = dt.run(&["bench", "retrieval", "--dataset", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("queries.jsonl") && err.contains("line 2"), "{err}");
}
