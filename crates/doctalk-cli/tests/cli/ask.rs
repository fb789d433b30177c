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
    assert!(
        a["evidence"]["top_dense_score"].as_f64().unwrap() < a["evidence"]["threshold"].as_f64().unwrap()
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
