//! `doctalk ask` and `doctalk chat` end to end on the sample knowledge base with the real default
//! LLM (Qwen2.5-Coder-0.5B from PyPI) and the real encoder.

use std::io::Write;
use std::process::Stdio;

use crate::harness::{indexed_sample, stderr};

#[test]
fn the_model_answers_with_the_fact_and_cites_the_right_page() {
    let a = indexed_sample().json(&["ask", "出差的话一天餐补给多少", "--json", "--max-tokens", "160"]);
    assert_eq!(a["mode"], "llm", "{a}");
    assert_eq!(a["grounded"], true, "{a}");
    let text = a["answer"].as_str().unwrap();
    assert!(text.contains("120") || text.contains("100"), "{a}");
    // Every citation points at a real source, and one of them is the handbook's allowance page or
    // the FAQ entry about allowances.
    let sources = a["sources"].as_array().unwrap();
    let cited: Vec<&serde_json::Value> = sources.iter().filter(|s| s["cited"] == true).collect();
    assert!(!cited.is_empty(), "no citation: {a}");
    assert!(
        cited
            .iter()
            .any(|s| s["page"] == 6 || s["text"].as_str().unwrap().contains("伙食补贴")),
        "{a}"
    );
    assert!(a["invalid_citations"].as_array().unwrap().is_empty() || !text.contains("[9]"));
    for s in sources {
        assert!(s["path"].as_str().unwrap().len() > 3 && !s["text"].as_str().unwrap().is_empty());
    }
}

#[test]
fn an_unanswerable_question_is_not_answered() {
    let a = indexed_sample().json(&["ask", "公司健身房几点开门", "--json"]);
    assert_eq!(a["grounded"], false, "{a}");
    assert_eq!(a["answer"], "您的文档中没有找到相关内容。", "{a}");
    // Just over the threshold (the handbook's first-day passage, 0.880 against 0.878) the search is
    // no evidence while the passages hold too few of the question's words.
    let (best, min) = (
        a["evidence"]["top_dense_score"].as_f64().unwrap(),
        a["evidence"]["threshold"].as_f64().unwrap(),
    );
    assert!(
        best < min || a["evidence"]["key_terms"].as_f64().unwrap() < 0.2,
        "{a}"
    );
    let a = indexed_sample().json(&[
        "ask",
        "Is there a shuttle bus from the metro station to the office?",
        "--json",
    ]);
    assert_eq!(a["answer"], "I can't find this in your documents.", "{a}");
}

#[test]
fn extractive_mode_answers_from_the_faq_without_a_model() {
    let a = indexed_sample().json(&["ask", "如何下载滴滴APP", "--json", "--no-llm"]);
    assert_eq!(a["mode"], "extractive");
    assert!(a["model"].is_null());
    let text = a["answer"].as_str().unwrap();
    assert!(text.contains("滴滴企业版") && text.ends_with("[1]"), "{a}");
    assert_eq!(a["sources"][0]["kind"], "qa");
    assert!(
        a["sources"][0]["row"].as_u64().is_some(),
        "FAQ sources carry their row: {a}"
    );
}

#[test]
fn answers_follow_the_chosen_chinese_script() {
    let dt = indexed_sample();
    let simplified = dt.json(&[
        "ask",
        "如何下载滴滴APP",
        "--json",
        "--no-llm",
        "--script",
        "zh-CN",
    ]);
    let traditional = dt.json(&[
        "ask",
        "如何下载滴滴APP",
        "--json",
        "--no-llm",
        "--script",
        "traditional",
    ]);
    let (s, t) = (
        simplified["answer"].as_str().unwrap(),
        traditional["answer"].as_str().unwrap(),
    );
    assert!(s.contains("滴滴企业版") && !s.contains("企業"), "{s}");
    assert!(t.contains("滴滴企業版") && !t.contains("企业"), "{t}");
    // The sources stay as the documents wrote them.
    assert_eq!(simplified["sources"], traditional["sources"]);
    let out = dt.run(&["ask", "如何下载滴滴APP", "--no-llm", "--script", "klingon"]);
    assert!(
        !out.status.success() && stderr(&out).contains("not a Chinese script"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_follow_up_is_rewritten_with_the_conversation() {
    let dt = indexed_sample();
    let first = dt.json(&[
        "ask",
        "出差的话一天餐补给多少",
        "--json",
        "--conversation",
        "new",
        "--max-tokens",
        "96",
    ]);
    let id = first["conversation"].as_str().unwrap().to_string();
    let second = dt.json(&[
        "ask",
        "那住宿呢？",
        "--json",
        "--conversation",
        &id,
        "--max-tokens",
        "96",
    ]);
    let query = second["query"].as_str().unwrap();
    assert_ne!(query, "那住宿呢？", "{second}");
    assert!(query.contains("住宿") && query.chars().count() > 5, "{second}");
    assert!(
        second["sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["text"].as_str().unwrap().contains("住宿")),
        "{second}"
    );
}

#[test]
fn chat_keeps_a_conversation_and_shows_sources() {
    let dt = indexed_sample();
    let mut child = dt
        .command()
        .args(["chat", "--no-llm"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all("如何登陆管理员后台\n/sources\n/history\n/quit\n".as_bytes())
        .unwrap();
    let out = crate::harness::wait_within(child, crate::harness::child_limit(), "doctalk chat");
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("admin.xinghe-tech.cn"), "{stdout}");
    assert!(stdout.contains("[1]") && stdout.contains("faq.csv"), "{stdout}");
    assert!(stdout.contains("1. 如何登陆管理员后台"), "{stdout}");
    let err = stderr(&out);
    let id = err.split_whitespace().nth(1).unwrap();
    let saved = dt
        .data
        .path()
        .join("kb/default/conversations")
        .join(format!("{id}.json"));
    assert!(saved.is_file(), "{err}");
}

/// A question asked of one document short enough for the model's context is answered from the
/// whole document: every passage is a source, in reading order, the answer cites the one that holds
/// the fact and says it read the document whole. A long document (the 13-page handbook) is still
/// answered from retrieved passages, and a question the document does not answer is still refused:
/// reading it whole is never a reason to answer.
#[test]
fn a_short_scoped_document_is_read_whole() {
    let dt = indexed_sample();
    let policy = "it-security-policy.pdf";
    let chunks = dt.json(&["list", "--json"]);
    let total = chunks
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["path"].as_str().unwrap().ends_with(policy))
        .map(|d| d["chunks"].as_u64().unwrap())
        .unwrap();
    let a = dt.json(&[
        "ask",
        "Which VPN client should I use, and what is the server address?",
        "--json",
        "--doc",
        policy,
        "--max-tokens",
        "120",
    ]);
    assert_eq!(a["whole_document"], true, "{a}");
    assert_eq!(a["mode"], "llm", "{a}");
    let sources = a["sources"].as_array().unwrap();
    assert_eq!(sources.len() as u64, total, "every passage is read: {a}");
    let pages: Vec<u64> = sources.iter().filter_map(|s| s["page"].as_u64()).collect();
    assert!(
        pages.windows(2).all(|w| w[0] <= w[1]),
        "in reading order: {pages:?}"
    );
    let text = a["answer"].as_str().unwrap();
    assert!(
        text.contains("XH-Connect") || text.contains("vpn.xinghe-tech.cn"),
        "{text}"
    );
    let cited = a["cited"].as_array().unwrap();
    assert!(!cited.is_empty(), "{a}");
    for n in cited {
        let source = sources.iter().find(|s| &s["n"] == n).unwrap();
        let passage = source["text"].as_str().unwrap();
        assert!(
            passage.contains("XH-Connect")
                || passage.contains("vpn.xinghe-tech.cn")
                || passage.contains("VPN"),
            "the cited passage holds the fact: {passage}"
        );
    }

    // The question above, printed for a person. (The shorter "Which VPN client should I use?" now
    // gets the model's wrong "Bitwarden (Company edition)" caught as off the question and the VPN
    // passages shown instead, which is not an answer from the whole document.)
    let human = dt.run(&[
        "ask",
        "Which VPN client should I use, and what is the server address?",
        "--doc",
        policy,
        "--max-tokens",
        "120",
    ]);
    assert!(
        String::from_utf8_lossy(&human.stdout).contains("answered from the whole document"),
        "{}",
        String::from_utf8_lossy(&human.stdout)
    );

    let unanswerable = dt.json(&[
        "ask",
        "Who must approve remote access to production systems?",
        "--json",
        "--doc",
        policy,
    ]);
    assert_eq!(unanswerable["grounded"], false, "{unanswerable}");
    assert_eq!(unanswerable["whole_document"], false, "{unanswerable}");

    let long = dt.json(&[
        "ask",
        "境外出差要提前几个工作日申请？",
        "--json",
        "--doc",
        "员工手册.pdf",
        "--max-tokens",
        "80",
    ]);
    assert_eq!(long["whole_document"], false, "13 pages do not fit: {long}");
    assert!(long["sources"].as_array().unwrap().len() <= 5, "{long}");
}
