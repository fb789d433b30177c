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

/// `--doc` and `--folder` keep search and answers to the chosen documents: a question the handbook
/// answers, asked of the English policy only, finds only the policy; a document or folder that is
/// not in the knowledge base is an error naming it, never a silent search of everything.
#[test]
fn a_scope_keeps_search_and_answers_to_the_chosen_documents() {
    let dt = indexed_sample();
    let policy = crate::harness::sample_kb().join("it-security-policy.pdf");
    let policy = policy.to_str().unwrap();
    let everywhere = dt.json(&["search", "出差住宿标准", "--json", "--top-k", "5"]);
    assert!(
        everywhere
            .as_array()
            .unwrap()
            .iter()
            .any(|h| !h["path"].as_str().unwrap().ends_with("it-security-policy.pdf")),
        "{everywhere}"
    );
    let scoped = dt.json(&[
        "search",
        "出差住宿标准",
        "--json",
        "--top-k",
        "5",
        "--doc",
        policy,
    ]);
    let scoped = scoped.as_array().unwrap();
    assert!(!scoped.is_empty());
    assert!(
        scoped
            .iter()
            .all(|h| h["path"].as_str().unwrap().ends_with("it-security-policy.pdf")),
        "{scoped:?}"
    );
    // By id prefix and together with another document.
    let doc_id = scoped[0]["doc_id"].as_str().unwrap().to_string();
    let faq = crate::harness::sample_kb().join("faq.csv");
    let two = dt.json(&[
        "search",
        "出差住宿标准",
        "--json",
        "--top-k",
        "8",
        "--doc",
        &doc_id[..8],
        "--doc",
        faq.to_str().unwrap(),
    ]);
    let paths: std::collections::HashSet<&str> = two
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["path"].as_str().unwrap().rsplit('/').next().unwrap())
        .collect();
    assert!(
        paths
            .iter()
            .all(|p| *p == "faq.csv" || *p == "it-security-policy.pdf"),
        "{paths:?}"
    );
    assert!(paths.contains("faq.csv"), "{paths:?}");

    // A file name alone is enough when only one document has it.
    let by_name = dt.json(&[
        "ask",
        "境外出差要提前几个工作日申请",
        "--no-llm",
        "--json",
        "--doc",
        "员工手册.pdf",
    ]);
    assert!(
        by_name["answer"].as_str().unwrap().contains("15个工作日"),
        "{by_name}"
    );
    assert!(
        by_name["sources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["path"].as_str().unwrap().ends_with("员工手册.pdf")),
        "{by_name}"
    );
    let folder = dt.json(&[
        "ask",
        "境外出差要提前几个工作日申请",
        "--no-llm",
        "--json",
        "--folder",
        crate::harness::sample_kb().to_str().unwrap(),
    ]);
    assert!(
        folder["answer"].as_str().unwrap().contains("15个工作日"),
        "{folder}"
    );
    let only_policy = dt.json(&[
        "ask",
        "境外出差要提前几个工作日申请",
        "--no-llm",
        "--json",
        "--doc",
        policy,
    ]);
    assert!(
        only_policy["sources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["path"].as_str().unwrap().ends_with("it-security-policy.pdf")),
        "{only_policy}"
    );
    assert!(
        !only_policy["answer"].as_str().unwrap().contains("15个工作日"),
        "{only_policy}"
    );

    // A folder that holds none of the documents (a fresh one: the checkout itself may be anywhere).
    let empty = tempfile::tempdir().unwrap();
    let empty = empty.path().to_str().unwrap();
    for (flag, value) in [("--doc", "no-such-document.pdf"), ("--folder", empty)] {
        let out = dt.run(&["search", "出差", flag, value]);
        assert_eq!(out.status.code(), Some(1), "{flag} {value}");
        let err = stderr(&out);
        assert!(err.contains(value) && !err.contains("panicked"), "{err}");
    }
}

#[test]
fn explain_shows_each_passages_scores_and_what_an_answer_would_offer() {
    let dt = indexed_sample();
    let e = dt.json(&["search", "VPN空闲多久会断开？", "--explain", "--json"]);
    let hits = e["hits"].as_array().unwrap();
    assert!(hits.len() >= 5, "{e}");
    assert!(
        hits[0]["text"].as_str().unwrap().contains("30分钟"),
        "{}",
        hits[0]
    );
    for (i, h) in hits.iter().enumerate() {
        assert_eq!(h["rank"].as_u64().unwrap() as usize, i + 1);
        assert!(
            h["dense"]["score"].is_number() || h["bm25"]["score"].is_number(),
            "{h}"
        );
    }
    assert_eq!(e["grounded"], true, "{e}");
    assert_eq!(e["offered"], 5);
    assert!(
        e["evidence"]["top_dense_score"].as_f64().unwrap() >= e["evidence"]["threshold"].as_f64().unwrap()
    );

    // A question the documents do not answer: nothing would be offered.
    let e = dt.json(&["search", "火星的大气层主要由什么组成？", "--explain", "--json"]);
    assert_eq!(e["grounded"], false, "{e}");
    assert_eq!(e["offered"], 0);

    // The table: a header, one line per passage with its ranks, and the decision in words.
    let out = dt.run(&[
        "search",
        "Which VPN client should I use?",
        "--explain",
        "--top-k",
        "6",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().next().unwrap().contains("dense (rank)"), "{text}");
    assert_eq!(text.lines().filter(|l| l.contains("(#")).count(), 6, "{text}");
    assert!(
        text.contains("An answer would offer the model the first 5 passage(s)"),
        "{text}"
    );
    assert!(text.contains("XH-Connect"), "{text}");
}

/// `--kb a,b search`: two real knowledge bases searched together; each hit names its knowledge
/// base, the ranks run across both, and a question about either finds its own first.
#[test]
fn several_knowledge_bases_are_searched_together() {
    let dt = crate::harness::Doctalk::new();
    let sample = crate::harness::sample_kb();
    for (kb, file) in [("hr", "员工手册.pdf"), ("it", "it-security-policy.pdf")] {
        let out = dt.run(&["--kb", kb, "ingest", sample.join(file).to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    for (question, home) in [
        ("How long can one VPN session last?", "it"),
        ("婚假有多少天？", "hr"),
    ] {
        let hits = dt.json(&["--kb", "hr,it", "search", question, "--json", "--top-k", "8"]);
        let hits = hits.as_array().unwrap();
        assert_eq!(hits.len(), 8, "{question}: {hits:?}");
        assert_eq!(hits[0]["kb"], home, "{question}: {}", hits[0]);
        let ranks: Vec<u64> = hits.iter().map(|h| h["rank"].as_u64().unwrap()).collect();
        assert_eq!(ranks, (1..=8).collect::<Vec<u64>>());
        let scores: Vec<f64> = hits.iter().map(|h| h["fused_score"].as_f64().unwrap()).collect();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    }
    // Both knowledge bases answer a question that touches both.
    let hits = dt.json(&[
        "--kb",
        "hr,it",
        "search",
        "密码 password",
        "--json",
        "--top-k",
        "10",
    ]);
    let kbs: std::collections::HashSet<&str> = hits
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kb"].as_str().unwrap())
        .collect();
    assert_eq!(kbs.len(), 2, "{hits}");
    // The human listing names the knowledge base of each line.
    let out = dt.run(&["--kb", "hr,it", "search", "VPN"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("[it] "));

    // A knowledge base that does not exist is named, and not created by searching.
    let out = dt.run(&["--kb", "hr,nope", "search", "VPN"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("\"nope\""), "{}", stderr(&out));
    assert!(!dt.data.path().join("kb").join("nope").exists());
    // Only search takes several.
    let out = dt.run(&["--kb", "hr,it", "list"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("only be searched together"),
        "{}",
        stderr(&out)
    );
}
