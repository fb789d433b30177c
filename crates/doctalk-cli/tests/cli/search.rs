use crate::harness::{indexed_sample, stderr};

#[test]
fn seed_questions_find_cited_passages() {
    let dt = indexed_sample();
    let cases = [
        ("请问商旅的出差制度", &["出差"][..]),
        ("如何登陆管理员后台", &["后台"][..]),
        ("如何下载滴滴APP", &["滴滴"][..]),
    ];
    for (question, words) in cases {
        let hits = dt.json(&["search", question, "--json", "--top-k", "3"]);
        let hits = hits.as_array().unwrap();
        assert_eq!(hits.len(), 3, "{question}");
        let top = &hits[0];
        let text = top["text"].as_str().unwrap();
        assert!(
            words.iter().all(|w| text.contains(w)),
            "{question}: top hit {top}"
        );
        // Every hit is cited: a path, a title, and a page for PDF passages.
        for h in hits {
            assert!(!h["path"].as_str().unwrap().is_empty());
            assert!(!h["title"].as_str().unwrap().is_empty());
            if h["path"].as_str().unwrap().ends_with(".pdf") {
                assert!(h["page"].as_u64().unwrap() >= 1, "{h}");
            }
            assert!(h["fused_score"].as_f64().unwrap() > 0.0);
            assert!(h["dense_score"].is_number() || h["bm25_score"].is_number(), "{h}");
        }
    }
}

#[test]
fn stored_faq_question_ranks_first() {
    let dt = indexed_sample();
    let hits = dt.json(&["search", "请问，如何下载滴滴APP？", "--json"]);
    let top = &hits[0];
    assert_eq!(top["kind"], "qa", "{top}");
    assert!(top["faq_match"].as_f64().unwrap() >= 0.85, "{top}");
    assert!(top["path"].as_str().unwrap().ends_with("faq.csv"));
}

#[test]
fn english_question_finds_the_english_policy() {
    let dt = indexed_sample();
    let hits = dt.json(&["search", "How long must a password be?", "--json", "--top-k", "3"]);
    let hits = hits.as_array().unwrap();
    assert!(
        hits.iter()
            .any(|h| h["text"].as_str().unwrap().to_lowercase().contains("password")),
        "{hits:?}"
    );
}

#[test]
fn human_output_shows_sources_with_pages() {
    let dt = indexed_sample();
    let out = dt.run(&["search", "出差住宿标准", "--top-k", "8"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("[1]") && text.contains("[2]"), "{text}");
    assert!(text.contains("p."), "PDF hits show their page: {text}");
}
