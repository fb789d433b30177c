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

/// `bench answers` on the sample knowledge base, extractive mode (no model: the LLM mode runs the
/// same scoring and is measured by the command itself, not in tests): every figure is reported,
/// right answers are counted right and a refusal of an unanswerable question too.
#[test]
fn bench_answers_scores_a_small_question_set() {
    let dt = crate::harness::indexed_sample();
    let dir = tempfile::tempdir().unwrap();
    let qa = dir.path().join("qa.jsonl");
    std::fs::write(
        &qa,
        concat!(
            "{\"q\": \"如何登陆管理员后台\", \"expect_any\": [\"admin.xinghe-tech.cn\"], \"source\": \"faq.csv\"}\n",
            "{\"q\": \"滴滴企业版的企业码是什么？\", \"expect_any\": [\"XHKJ2025\"]}\n",
            "{\"q\": \"公司有没有上下班班车？\", \"unanswerable\": true}\n",
        ),
    )
    .unwrap();
    let out = dt.json(&[
        "bench",
        "answers",
        "--qa",
        qa.to_str().unwrap(),
        "--no-llm",
        "--json",
    ]);
    let modes = out["modes"].as_array().unwrap();
    assert_eq!(modes.len(), 1, "--no-llm measures no model: {out}");
    assert_eq!(modes[0]["mode"], "extractive");
    let t = &modes[0]["totals"];
    assert_eq!(t["questions"], 3, "{out}");
    assert_eq!(
        (t["answerable"].as_u64(), t["unanswerable"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(t["fact_and_citation_rate"].as_f64(), Some(1.0), "{out}");
    // Whether the shuttle question is refused is the grounding decision's business; the scoring
    // must agree with what the answer said.
    let shuttle = &out["questions"][2]["answers"][0];
    let said_not_found = shuttle["answer"].as_str().unwrap().contains("没有找到相关内容");
    assert_eq!(shuttle["refused"], said_not_found, "{out}");
    let expected_rate = if said_not_found { 1.0 } else { 0.0 };
    assert_eq!(t["refusal_rate"].as_f64(), Some(expected_rate), "{out}");
    assert_eq!(t["false_refusal_rate"].as_f64(), Some(0.0), "{out}");
    assert!(t["first_token_ms_p50"].as_f64().is_some(), "{out}");
    let questions = out["questions"].as_array().unwrap();
    assert_eq!(questions.len(), 3);
    let admin = &questions[0]["answers"][0];
    assert_eq!(admin["right"], true, "{out}");
    assert!(
        admin["cited"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["path"].as_str().unwrap().ends_with("faq.csv")),
        "{out}"
    );
    assert_eq!(out["stopped"], false);
}

#[test]
fn bench_answers_names_the_line_of_a_malformed_question_file() {
    let dt = Doctalk::new();
    let dir = tempfile::tempdir().unwrap();
    let qa = dir.path().join("qa.jsonl");
    std::fs::write(
        &qa,
        "{\"q\": \"ok\", \"expect_any\": [\"1\"]}\n{\"q\": \"missing its facts\"}\n",
    )
    .unwrap();
    let out = dt.run(&["bench", "answers", "--qa", qa.to_str().unwrap(), "--no-llm"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("qa.jsonl") && err.contains("line 2"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// Over a knowledge base with nothing in it every answer is "not found": the check refuses to
/// report a score of zero and says what to do first.
#[test]
fn bench_answers_over_an_empty_knowledge_base_says_to_add_documents() {
    let dt = Doctalk::new();
    let dir = tempfile::tempdir().unwrap();
    let qa = dir.path().join("qa.jsonl");
    std::fs::write(
        &qa,
        "{\"q\": \"如何下载滴滴APP\", \"expect_any\": [\"App Store\"]}\n",
    )
    .unwrap();
    let out = dt.run(&["bench", "answers", "--qa", qa.to_str().unwrap(), "--no-llm"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("no documents yet") && err.contains("doctalk ingest"),
        "{err}"
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(!printed.contains("fact+citation"), "{printed}");
}
